// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of route templating (userspace/route.c): a table of paths and the
 * templates they must give (ids of every kind, words that must stay, query
 * strings, percent-encoding, slashes kept as sent), then the bounds: segment
 * cap, small output buffers (always NUL-terminated, cut at a segment boundary
 * with the marker), and inputs that are not NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "route.h"

static void expect_route_n(const char *in, size_t out_size, const char *want)
{
	char out[512];
	size_t n;

	assert_true(out_size <= sizeof(out));
	memset(out, 'X', sizeof(out));
	n = kspan_route_template(in, strlen(in), out, out_size);
	if (n != strlen(want) || strcmp(out, want))
		fail_msg("route(\"%s\", %zu) gave \"%s\" (%zu), want \"%s\"", in, out_size, out, n,
			 want);
	/* Nothing written past the buffer. */
	if (out_size < sizeof(out))
		assert_int_equal(out[out_size], 'X');
}

static void expect_route(const char *in, const char *want)
{
	expect_route_n(in, 256, want);
}

static void test_table(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* Words stay. */
		{ "/", "/" },
		{ "/users", "/users" },
		{ "/api/v1/users", "/api/v1/users" },
		{ "/api/v2/", "/api/v2/" },
		{ "/static/app.js", "/static/app.js" },
		{ "/static/css/site.min.css", "/static/css/site.min.css" },
		{ "/healthz", "/healthz" },
		{ "/deadbeef", "/deadbeef" }, /* hex letters only: a word */
		{ "/abc1234", "/abc1234" }, /* hex with a digit but only 7 long */
		{ "/api-v2-user-settings", "/api-v2-user-settings" }, /* slug, no mixed run of 8 */
		{ "/v2/html5", "/v2/html5" }, /* numbers glued to letters: names */
		{ "/quote/sku-1", "/quote/{id}" }, /* coded ids: a number set off by a separator */
		{ "/orders/order_1234/items", "/orders/{id}/items" },
		{ "/inv/INV-2024-001", "/inv/{id}" },
		{ "/pages/1-intro", "/pages/1-intro" }, /* no letters before the number */
		{ "/jquery-3.6.0.min.js", "/jquery-3.6.0.min.js" },
		{ "/user@home", "/user@home" }, /* no domain dot */
		{ "/2024-13-01", "/2024-13-01" }, /* month 13: not a date */
		{ "/abcdefghijklmnopqrstuvwxyz", "/abcdefghijklmnopqrstuvwxyz" }, /* no digit */
		/* Numbers. */
		{ "/users/42", "/users/{id}" },
		{ "/users/0", "/users/{id}" },
		{ "/users/42/orders/7", "/users/{id}/orders/{id}" },
		{ "/123", "/{id}" },
		{ "/v1", "/v1" },
		/* UUIDs. */
		{ "/items/123e4567-e89b-12d3-a456-426614174000", "/items/{id}" },
		{ "/items/123E4567-E89B-12D3-A456-426614174000/x", "/items/{id}/x" },
		{ "/items/123e4567e89b12d3a456426614174000", "/items/{id}" },
		/* One digit short of a UUID: still a token. */
		{ "/items/123e4567-e89b-12d3-a456-42661417400", "/items/{id}" },
		/* Hex. */
		{ "/commit/0a1b2c3d", "/commit/{id}" },
		{ "/blob/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/blob/{id}" },
		{ "/obj/ABCDEF12", "/obj/{id}" },
		/* Tokens. */
		{ "/reset/aZ3kq9Lm2pQ8rT4x", "/reset/{id}" },
		{ "/t/eyJhbGciOiJIUzI1NiJ9", "/t/{id}" },
		{ "/t/aZ3kq9Lm2pQ8rT4x==", "/t/{id}" },
		{ "/t/ab_cd-aZ3kq9Lm2pQ8", "/t/{id}" },
		{ "/t/aZ3kq9Lm2pQ8rT4", "/t/aZ3kq9Lm2pQ8rT4" }, /* 15: too short */
		/* Dates. */
		{ "/archive/2024-01-31", "/archive/{id}" },
		{ "/archive/2024-01-31/posts", "/archive/{id}/posts" },
		{ "/archive/20240131", "/archive/{id}" },
		/* E-mail. */
		{ "/users/alice@example.com", "/users/{id}" },
		{ "/users/alice%40example.com/prefs", "/users/{id}/prefs" },
		/* Percent-encoding: decoded for the check only. */
		{ "/n/%31%32%33", "/n/{id}" },
		{ "/files/my%20file.txt", "/files/my%20file.txt" },
		{ "/bad/%zz", "/bad/%zz" },
		{ "/bad/%4", "/bad/%4" },
		/* Query strings and fragments are dropped. */
		{ "/search?q=secret&id=42", "/search" },
		{ "/users/42?x=1", "/users/{id}" },
		{ "/page#section-2", "/page" },
		{ "?only=query", "/" },
		{ "", "/" },
		/* Slashes are kept as they come. */
		{ "//users//42", "//users//{id}" },
		{ "/users/42/", "/users/{id}/" },
		{ "*", "*" },
		{ "users/42", "users/{id}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_route(cases[i].in, cases[i].want);
}

static void test_long_segment_is_id(void **state)
{
	char path[300];

	(void)state;
	path[0] = '/';
	memset(path + 1, 'a', KSPAN_ROUTE_MAX_WORD);
	path[1 + KSPAN_ROUTE_MAX_WORD] = '\0';
	/* Exactly the limit: still a word. */
	{
		char want[300];

		strcpy(want, path);
		expect_route(path, want);
	}
	path[1 + KSPAN_ROUTE_MAX_WORD] = 'a';
	path[2 + KSPAN_ROUTE_MAX_WORD] = '\0';
	expect_route(path, "/{id}");
}

static void test_segment_cap(void **state)
{
	char path[512] = "", want[512] = "";

	(void)state;
	for (int i = 0; i < KSPAN_ROUTE_MAX_SEGMENTS; i++)
		strcat(path, "/a");
	strcpy(want, path);
	expect_route_n(path, sizeof(path), want);
	strcat(path, "/b/c");
	strcat(want, KSPAN_ROUTE_OVERFLOW);
	expect_route_n(path, sizeof(path), want);
}

static void test_small_output(void **state)
{
	const char *p = "/users/42/orders";
	char out[4];

	(void)state;
	/* Room for everything: no marker. */
	expect_route_n(p, 24, "/users/{id}/orders");
	expect_route_n(p, 19, "/users/{id}/orders");
	/* One byte short: cut at the last boundary that leaves room for the marker. */
	expect_route_n(p, 18, "/users/{id}/{...}");
	expect_route_n(p, 17, "/users/{...}");
	expect_route_n(p, 13, "/users/{...}");
	expect_route_n(p, 12, "/{...}");
	expect_route_n(p, 7, "/{...}");
	/* Too small for the marker: empty, but terminated. */
	expect_route_n(p, 6, "");
	expect_route_n(p, 1, "");
	assert_int_equal(kspan_route_template(p, strlen(p), out, 0), 0);
	/* The first unit alone does not fit. */
	expect_route_n("/abcdefghij", 8, "/{...}");
}

static void test_not_nul_terminated(void **state)
{
	const char buf[] = { '/', 'u', '/', '4', '2', '/', 'z', 'z' };
	char out[32];

	(void)state;
	/* Only len bytes are read. */
	assert_int_equal(kspan_route_template(buf, 5, out, sizeof(out)), 7);
	assert_string_equal(out, "/u/{id}");
	/* An embedded NUL ends the path. */
	assert_int_equal(kspan_route_template("/a\0/42", 6, out, sizeof(out)), 2);
	assert_string_equal(out, "/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_segment_is_id),
		cmocka_unit_test(test_segment_cap),
		cmocka_unit_test(test_small_output),
		cmocka_unit_test(test_not_nul_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
