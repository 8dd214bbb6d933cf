// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the growable buffer (buf.c): growth across appends and printf,
 * take/release/clear, the sticky failure, integer and hex formatting, and
 * UTF-8 repair into a buffer (the repair rules themselves are covered by
 * test_text, the JSON forms by test_otlp_json).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "buf.h"

static void test_growth_and_take(void **state)
{
	struct otel_buf b = { 0 };
	char *s, expect[2100];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		otel_buf_puts(&b, "0123456789");
	/* printf that does not fit in the room left must grow and retry. */
	memset(expect, 'x', 1000);
	expect[1000] = '\0';
	otel_buf_printf(&b, "[%s]", expect);
	assert_int_equal(b.len, 1000 + 1002);
	s = otel_buf_take(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, 2002);
	assert_int_equal(strlen(s), 2002);
	assert_memory_equal(s + 990, "0123456789[xx", 13);
	assert_string_equal(s + 2000, "x]");
	/* The buffer is empty and reusable after take. */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	s = otel_buf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

static void test_clear_and_failure(void **state)
{
	struct otel_buf b = { 0 };
	size_t cap;

	(void)state;
	otel_buf_puts(&b, "abc");
	cap = b.cap;
	otel_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap); /* memory kept for reuse */
	otel_buf_putc(&b, 'z');
	assert_memory_equal(b.data, "z", 1);

	/* A failed allocation is remembered: take reports ENOMEM and frees. */
	b.failed = true;
	assert_false(otel_buf_grow(&b, b.cap * 4));
	errno = 0;
	assert_null(otel_buf_take(&b, NULL));
	assert_int_equal(errno, ENOMEM);
	assert_null(b.data);

	/* An impossible size fails cleanly instead of overflowing. */
	assert_false(otel_buf_reserve(&b, SIZE_MAX - 1));
	assert_true(b.failed);
	otel_buf_release(&b);
	assert_false(b.failed);
}

static void test_numbers_and_hex(void **state)
{
	struct otel_buf b = { 0 };
	static const uint8_t id[] = { 0x00, 0x0f, 0xa5, 0xff };

	(void)state;
	otel_buf_u64(&b, 0);
	otel_buf_putc(&b, ' ');
	otel_buf_u64(&b, UINT64_MAX);
	otel_buf_putc(&b, ' ');
	otel_buf_i64(&b, INT64_MIN);
	otel_buf_putc(&b, ' ');
	otel_buf_i64(&b, -1);
	otel_buf_putc(&b, ' ');
	otel_buf_hex(&b, id, sizeof(id));
	otel_buf_putc(&b, ' ');
	otel_buf_double(&b, 2.5);
	otel_buf_putc(&b, '\0');
	assert_string_equal(b.data, "0 18446744073709551615 -9223372036854775808 -1 000fa5ff 2.5");
	otel_buf_release(&b);
}

static void test_utf8_repair(void **state)
{
	struct otel_buf b = { 0 };
	static const char in[] = "a\xe2\x82(b\xff\xc3\xa9\xf0\x9f\x98";
	char *s;

	(void)state;
	otel_buf_utf8(&b, in, sizeof(in) - 1);
	s = otel_buf_take(&b, NULL);
	/* One U+FFFD per maximal ill-formed subpart; valid sequences kept. */
	assert_string_equal(s, "a\xef\xbf\xbd(b\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd");
	free(s);
	/* Appended after what is there, valid text as it is, only @len bytes read. */
	otel_buf_puts(&b, "[");
	otel_buf_utf8(&b, "caf\xc3\xa9", 5);
	otel_buf_utf8(&b, "\xff\xff!", 2);
	s = otel_buf_take(&b, NULL);
	assert_string_equal(s, "[caf\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_and_take),
		cmocka_unit_test(test_clear_and_failure),
		cmocka_unit_test(test_numbers_and_hex),
		cmocka_unit_test(test_utf8_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
