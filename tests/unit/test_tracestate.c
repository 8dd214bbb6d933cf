// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of W3C tracestate values: the header grammar (keys, multi-tenant
 * keys, values, whitespace, empty members, 32 members, duplicates: any
 * invalid member drops the whole value), serialization, and the immutable
 * set/delete operations with the move-to-front rule.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/trace.h>

/* A string of @n copies of @c followed by @tail, in a static rotating buffer. */
static const char *rep(char c, size_t n, const char *tail)
{
	static char bufs[4][1024];
	static int next;
	char *b = bufs[next++ % 4];

	memset(b, c, n);
	strcpy(b + n, tail);
	return b;
}

/* The formatted form of @ts (static buffer). */
static const char *fmt(const otel_trace_state *ts)
{
	static char buf[20000];
	int len = otel_trace_state_format(ts, buf, sizeof(buf));

	assert_true(len >= 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* Parse @header, expecting it to be valid and to format as @want. */
static void expect_valid(const char *header, const char *want)
{
	otel_trace_state *ts = otel_trace_state_parse(header);

	if (!ts)
		fail_msg("tracestate \"%s\" rejected (errno %d), expected \"%s\"", header, errno,
			 want);
	if (strcmp(fmt(ts), want))
		fail_msg("tracestate \"%s\" formats as \"%s\", expected \"%s\"", header, fmt(ts),
			 want);
	otel_trace_state_unref(ts);
}

static void expect_invalid(const char *header)
{
	otel_trace_state *ts;

	errno = 0;
	ts = otel_trace_state_parse(header);
	if (ts || errno != EINVAL)
		fail_msg("tracestate \"%.80s\" accepted (or errno %d != EINVAL)", header, errno);
}

static void expect_empty(const char *header)
{
	otel_trace_state *ts;

	errno = 12345;
	ts = otel_trace_state_parse(header);
	if (ts || errno != 0)
		fail_msg("tracestate \"%s\" should be empty (NULL, errno 0), errno %d",
			 header ? header : "(null)", errno);
}

/* A header of members bar01=01 ... barNN=NN. */
static char *members(int n)
{
	char *h = calloc((size_t)n, 12);

	for (int i = 1; i <= n; i++)
		sprintf(h + strlen(h), "%sbar%02d=%02d", i > 1 ? "," : "", i, i);
	return h;
}

static void test_parse_basic(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("foo=1,bar=2");

	assert_non_null(ts);
	assert_string_equal(otel_trace_state_get(ts, "foo"), "1");
	assert_string_equal(otel_trace_state_get(ts, "bar"), "2");
	assert_null(otel_trace_state_get(ts, "baz"));
	assert_null(otel_trace_state_get(ts, NULL));
	assert_null(otel_trace_state_get(NULL, "foo"));
	assert_string_equal(fmt(ts), "foo=1,bar=2");
	otel_trace_state_unref(ts);
	/* headers sent several times arrive joined by commas; order is kept */
	expect_valid("foo=1,bar=2,rojo=1,congo=2,baz=3", "foo=1,bar=2,rojo=1,congo=2,baz=3");
}

static void test_whitespace_and_empty_members(void **state)
{
	(void)state;
	expect_valid("foo=1 \t , \t bar=2, \t baz=3", "foo=1,bar=2,baz=3");
	expect_valid("foo=1\t \t,\t \tbar=2,\t \tbaz=3", "foo=1,bar=2,baz=3");
	expect_valid(" foo=1", "foo=1");
	expect_valid("\tfoo=1", "foo=1");
	expect_valid("foo=1 ", "foo=1");
	expect_valid("foo=1\t", "foo=1");
	expect_valid("\t foo=1 \t", "foo=1");
	expect_valid("foo=1,,bar=2", "foo=1,bar=2");
	expect_valid(",foo=1, ,\t,bar=2,", "foo=1,bar=2");
	/* a value may start with a space (chr includes SP); only OWS around members is trimmed */
	expect_valid("foo= b", "foo= b");
	expect_valid("foo=a b", "foo=a b");
	expect_empty("");
	expect_empty(" \t ");
	expect_empty(",,");
	expect_empty(" , \t ,");
	expect_empty(NULL);
}

static void test_keys(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"foo =1",
		"FOO=1",
		"foo.bar=1",
		"fOo=1",
		"foo@=1,bar=2",
		"@foo=1,bar=2",
		"foo@@bar=1,bar=2",
		"foo@bar@baz=1",
		"1abc=1",
		"_a=1",
		"=1",
		"foo",
		"foo@1bar=1",
		"foo@Bar=1",
		"foo@_bar=1",
		"-foo=1",
		"fo o=1",
		"foo\t=1",
		"foo@bar.x=1",
		"@=1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		expect_invalid(bad[i]);
	/* every character a key may hold, simple and multi-tenant */
	expect_valid("abcdefghijklmnopqrstuvwxyz0123456789_-*/=1",
		     "abcdefghijklmnopqrstuvwxyz0123456789_-*/=1");
	expect_valid("abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/=1",
		     "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/=1");
	/* a tenant id may start with a digit; a simple key and a system id may not */
	expect_valid("1abc@sys=1", "1abc@sys=1");
	expect_valid("a@b=1", "a@b=1");
}

static void test_key_lengths(void **state)
{
	(void)state;
	char want[600];

	snprintf(want, sizeof(want), "foo=1,%s", rep('z', 256, "=1"));
	expect_valid(want, want);
	snprintf(want, sizeof(want), "foo=1,%s", rep('z', 257, "=1"));
	expect_invalid(want);
	snprintf(want, sizeof(want), "foo=1,%s%s", rep('t', 241, "@"), rep('v', 14, "=1"));
	expect_valid(want, want);
	snprintf(want, sizeof(want), "foo=1,%s", rep('t', 242, "@v=1"));
	expect_invalid(want);
	snprintf(want, sizeof(want), "foo=1,t@%s", rep('v', 15, "=1"));
	expect_invalid(want);
}

static void test_values(void **state)
{
	(void)state;
	char all[128], hdr[300];
	size_t n = 0;

	/* every character a value may hold: 0x20-0x7e but ',' and '=' (not ending in SP) */
	for (int c = 0x20; c <= 0x7e; c++)
		if (c != ',' && c != '=')
			all[n++] = (char)c;
	all[n] = '\0';
	snprintf(hdr, sizeof(hdr), "foo=%s", all);
	expect_valid(hdr, hdr);
	snprintf(hdr, sizeof(hdr), "foo=%s", rep('v', 256, ""));
	expect_valid(hdr, hdr);
	snprintf(hdr, sizeof(hdr), "foo=%s", rep('v', 257, ""));
	expect_invalid(hdr);
	expect_invalid("foo=bar=baz");
	expect_invalid("foo=");
	expect_invalid("foo=,bar=3");
	expect_invalid("foo=a\tb");
	expect_invalid("foo=a\x7f");
	expect_invalid("foo=caf\xc3\xa9");
	expect_invalid("foo=a\x01");
	/* one bad member drops the whole value */
	expect_invalid("foo=1,FOO=2,bar=3");
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_invalid("foo=1,foo=1");
	expect_invalid("foo=1,foo=2");
	expect_invalid("foo=1 , bar=2 ,foo=3");
	expect_invalid("a@b=1,a@b=2");
	/* same tenant, different system: different keys */
	expect_valid("a@b=1,a@c=2", "a@b=1,a@c=2");
}

static void test_member_count(void **state)
{
	(void)state;
	char *h32 = members(32), *h33 = members(33);
	otel_trace_state *ts = otel_trace_state_parse(h32);

	assert_non_null(ts);
	assert_string_equal(otel_trace_state_get(ts, "bar01"), "01");
	assert_string_equal(otel_trace_state_get(ts, "bar32"), "32");
	assert_string_equal(fmt(ts), h32);
	otel_trace_state_unref(ts);
	expect_invalid(h33);
	/* empty members do not count */
	h32 = realloc(h32, strlen(h32) + 8);
	strcat(h32, ", ,,");
	ts = otel_trace_state_parse(h32);
	assert_non_null(ts);
	otel_trace_state_unref(ts);
	free(h32);
	free(h33);
}

static void test_set_moves_to_front(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("a=1,b=2,c=3");
	otel_trace_state *t2 = otel_trace_state_set(ts, "b", "20");
	otel_trace_state *t3 = otel_trace_state_set(t2, "new", "x");
	otel_trace_state *t4 = otel_trace_state_set(NULL, "k@sys", "v");

	assert_string_equal(fmt(t2), "b=20,a=1,c=3");
	assert_string_equal(fmt(t3), "new=x,b=20,a=1,c=3");
	assert_string_equal(fmt(t4), "k@sys=v");
	/* values are immutable: the originals are unchanged */
	assert_string_equal(fmt(ts), "a=1,b=2,c=3");
	assert_string_equal(otel_trace_state_get(ts, "b"), "2");
	otel_trace_state_unref(ts);
	otel_trace_state_unref(t2);
	otel_trace_state_unref(t3);
	otel_trace_state_unref(t4);
}

static void test_set_invalid(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("a=1");
	static const char *const bad[][2] = {
		{ "A", "1" }, { "a", "" },   { "a", "x,y" }, { "a", "x=y" }, { "a", "x " },
		{ "", "1" },  { "a@", "1" }, { "a", NULL },  { NULL, "1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		if (otel_trace_state_set(ts, bad[i][0], bad[i][1]) || errno != EINVAL)
			fail_msg("set(\"%s\", \"%s\") accepted", bad[i][0] ? bad[i][0] : "(null)",
				 bad[i][1] ? bad[i][1] : "(null)");
	}
	otel_trace_state_unref(ts);
}

static void test_set_drops_last_past_32(void **state)
{
	(void)state;
	char *h32 = members(32);
	otel_trace_state *ts = otel_trace_state_parse(h32);
	otel_trace_state *added = otel_trace_state_set(ts, "new", "1");
	otel_trace_state *updated = otel_trace_state_set(ts, "bar32", "x");

	assert_non_null(added);
	assert_string_equal(otel_trace_state_get(added, "new"), "1");
	assert_string_equal(otel_trace_state_get(added, "bar31"), "31");
	assert_null(otel_trace_state_get(added, "bar32"));
	assert_int_equal(strncmp(fmt(added), "new=1,bar01=01,", 15), 0);
	/* updating a key already there drops nothing */
	assert_string_equal(otel_trace_state_get(updated, "bar32"), "x");
	assert_string_equal(otel_trace_state_get(updated, "bar31"), "31");
	assert_int_equal(strncmp(fmt(updated), "bar32=x,bar01=01,", 17), 0);
	otel_trace_state_unref(ts);
	otel_trace_state_unref(added);
	otel_trace_state_unref(updated);
	free(h32);
}

static void test_delete(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("a=1,b=2,c=3");
	otel_trace_state *t2 = otel_trace_state_delete(ts, "b");
	otel_trace_state *same = otel_trace_state_delete(ts, "zzz");
	otel_trace_state *one = otel_trace_state_parse("a=1");
	otel_trace_state *none;

	assert_string_equal(fmt(t2), "a=1,c=3");
	assert_string_equal(fmt(ts), "a=1,b=2,c=3");
	/* nothing removed: the same value with a new reference */
	assert_ptr_equal(same, ts);
	otel_trace_state_unref(same);
	errno = 1;
	none = otel_trace_state_delete(one, "a");
	assert_null(none);
	assert_int_equal(errno, 0);
	errno = 1;
	assert_null(otel_trace_state_delete(NULL, "a"));
	assert_int_equal(errno, 0);
	otel_trace_state_unref(ts);
	otel_trace_state_unref(t2);
	otel_trace_state_unref(one);
}

static void test_format_buffer(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("foo=1,bar=22");
	char buf[16];

	/* "foo=1,bar=22" is 12 bytes: 13 with the NUL */
	assert_int_equal(otel_trace_state_format(ts, buf, 12), -ENOSPC);
	assert_int_equal(otel_trace_state_format(ts, buf, 13), 12);
	assert_string_equal(buf, "foo=1,bar=22");
	assert_int_equal(otel_trace_state_format(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(otel_trace_state_format(NULL, buf, 0), -ENOSPC);
	otel_trace_state_unref(ts);
}

static void test_refcount(void **state)
{
	(void)state;
	otel_trace_state *ts = otel_trace_state_parse("a=1");

	assert_ptr_equal(otel_trace_state_ref(ts), ts);
	otel_trace_state_unref(ts);
	assert_string_equal(otel_trace_state_get(ts, "a"), "1");
	otel_trace_state_unref(ts);
	assert_null(otel_trace_state_ref(NULL));
	otel_trace_state_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_whitespace_and_empty_members),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_lengths),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_member_count),
		cmocka_unit_test(test_set_moves_to_front),
		cmocka_unit_test(test_set_invalid),
		cmocka_unit_test(test_set_drops_last_past_32),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test(test_refcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
