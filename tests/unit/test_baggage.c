// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of W3C Baggage values: parsing (whitespace, properties,
 * percent-decoding with U+FFFD for ill-formed UTF-8, invalid members
 * skipped, duplicates, the 180/4096/8192 limits), serialization
 * (percent-encoding, limits, unsendable names), the immutable set/remove
 * operations and a round trip of every encodable byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/propagation.h>

#define FFFD "\xef\xbf\xbd"

static const char *fmt(const otel_baggage *bg)
{
	static char buf[OTEL_BAGGAGE_MAX_BYTES + 1];
	int len = otel_baggage_format(bg, buf, sizeof(buf));

	assert_true(len >= 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* Parse @header and expect its only member to be @name with @value and @meta. */
static void expect_one(const char *header, const char *name, const char *value, const char *meta)
{
	otel_baggage *bg = otel_baggage_parse(header);
	const char *n, *v, *m;

	if (!bg || otel_baggage_count(bg) != 1)
		fail_msg("baggage \"%s\": expected one member, got %zu", header,
			 otel_baggage_count(bg));
	assert_int_equal(otel_baggage_entry(bg, 0, &n, &v, &m), 0);
	if (strcmp(n, name) || strcmp(v, value) || (meta ? !m || strcmp(m, meta) : m != NULL))
		fail_msg("baggage \"%s\": got %s=\"%s\" meta \"%s\"", header, n, v,
			 m ? m : "(null)");
	otel_baggage_unref(bg);
}

static void expect_nothing(const char *header)
{
	otel_baggage *bg;

	errno = 0;
	bg = otel_baggage_parse(header);
	if (bg || errno != EINVAL)
		fail_msg("baggage \"%s\" gave %zu members (errno %d)", header ? header : "(null)",
			 otel_baggage_count(bg), errno);
}

/* A member "<name>=<value of @vlen 'x'>", in @buf. */
static char *member(char *buf, const char *name, size_t vlen)
{
	size_t nl = strlen(name);

	memcpy(buf, name, nl);
	buf[nl] = '=';
	memset(buf + nl + 1, 'x', vlen);
	buf[nl + 1 + vlen] = '\0';
	return buf;
}

static void test_parse_basic(void **state)
{
	(void)state;
	otel_baggage *bg = otel_baggage_parse("k1=v1,k2=v2,k3=");
	const char *n, *v, *m;

	assert_non_null(bg);
	assert_int_equal(otel_baggage_count(bg), 3);
	assert_string_equal(otel_baggage_get(bg, "k1"), "v1");
	assert_string_equal(otel_baggage_get(bg, "k2"), "v2");
	/* an empty value is allowed (value = *baggage-octet) */
	assert_string_equal(otel_baggage_get(bg, "k3"), "");
	assert_null(otel_baggage_get(bg, "K1"));
	assert_int_equal(otel_baggage_entry(bg, 1, &n, &v, &m), 0);
	assert_string_equal(n, "k2");
	assert_string_equal(v, "v2");
	assert_null(m);
	assert_int_equal(otel_baggage_entry(bg, 3, &n, &v, &m), -ERANGE);
	assert_int_equal(otel_baggage_entry(NULL, 0, &n, &v, &m), -ERANGE);
	assert_string_equal(fmt(bg), "k1=v1,k2=v2,k3=");
	otel_baggage_unref(bg);
}

static void test_whitespace_and_properties(void **state)
{
	(void)state;
	expect_one(" \tk1 \t= \tv1\t ", "k1", "v1", NULL);
	expect_one("k=v;p1", "k", "v", "p1");
	expect_one("k=v;p1=x;p2", "k", "v", "p1=x;p2");
	/* properties are kept as written, only trimmed at the ends */
	expect_one("k = v ; p1 = x ; p2 \t", "k", "v", "p1 = x ; p2");
	expect_one("k=v;p=a%20b", "k", "v", "p=a%20b");
	expect_one("k=v;p=", "k", "v", "p=");
	expect_one(",, k=v ,", "k", "v", NULL);
}

static void test_percent_decoding(void **state)
{
	(void)state;
	expect_one("k=%20hello%2C%3B%25%22%5C", "k", " hello,;%\"\\", NULL);
	expect_one("k=%2c%2C", "k", ",,", NULL);
	expect_one("k=%E2%82%AC", "k", "\xe2\x82\xac", NULL);
	expect_one("k=%F0%9F%98%80", "k", "\xf0\x9f\x98\x80", NULL);
	/* '+' is not a space here (this is not form encoding) */
	expect_one("k=a+b", "k", "a+b", NULL);
	/* '=' is a baggage-octet: only the first one separates key and value */
	expect_one("k=a=b", "k", "a=b", NULL);
	expect_one("k=!#$&'()*+-./:<>?@[]^_`{|}~", "k", "!#$&'()*+-./:<>?@[]^_`{|}~", NULL);
}

static void test_ill_formed_utf8_replaced(void **state)
{
	(void)state;
	expect_one("k=%FF", "k", FFFD, NULL);
	expect_one("k=a%E2%82b", "k", "a" FFFD "b", NULL);
	/* an overlong form: two ill-formed bytes, two replacements */
	expect_one("k=%C0%AF", "k", FFFD FFFD, NULL);
	expect_one("k=%E0%80%80", "k", FFFD FFFD FFFD, NULL);
	expect_one("k=%F0%80%80%80", "k", FFFD FFFD FFFD FFFD, NULL);
	/* a surrogate half (ED A0 80): ED is a maximal subpart of its own */
	expect_one("k=%ED%A0%80", "k", FFFD FFFD FFFD, NULL);
	expect_one("k=%F4%90%80%80", "k", FFFD FFFD FFFD FFFD, NULL);
	expect_one("k=%80x", "k", FFFD "x", NULL);
	expect_one("k=%E2%82", "k", FFFD, NULL);
}

static void test_invalid_members_skipped(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"=v",	 "k",	   "k v=1",    "k=v v",		"k=\"q\"", "k=a\\b",
		"k=v;",	 "k=v;=x", "k=v;p=\"", "k=v;p q",	"k(=1",	   "k=%2",
		"k=%zz", "k=%0",   "k=%00",    "k=caf\xc3\xa9", "k=a\tb",  "k=v;;p",
		"k:x=1",
	};
	char hdr[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		expect_nothing(bad[i]);
		snprintf(hdr, sizeof(hdr), "a=1,%s,z=2", bad[i]);
		otel_baggage *bg = otel_baggage_parse(hdr);

		if (otel_baggage_count(bg) != 2 || strcmp(otel_baggage_get(bg, "a"), "1") ||
		    strcmp(otel_baggage_get(bg, "z"), "2"))
			fail_msg("baggage \"%s\": the valid members should be kept alone", hdr);
		otel_baggage_unref(bg);
	}
	expect_nothing("");
	expect_nothing(" , ,");
	expect_nothing(NULL);
}

static void test_duplicates_take_last_value(void **state)
{
	(void)state;
	otel_baggage *bg = otel_baggage_parse("k=1,j=2,k=3;p");
	const char *n, *v, *m;

	assert_int_equal(otel_baggage_count(bg), 2);
	assert_int_equal(otel_baggage_entry(bg, 0, &n, &v, &m), 0);
	assert_string_equal(n, "k");
	assert_string_equal(v, "3");
	assert_string_equal(m, "p");
	otel_baggage_unref(bg);
}

static void test_parse_member_limit(void **state)
{
	(void)state;
	char *hdr = malloc(181 * 12), name[16];
	otel_baggage *bg;

	hdr[0] = '\0';
	for (int i = 0; i < 181; i++)
		sprintf(hdr + strlen(hdr), "%sk%d=%d", i ? "," : "", i, i);
	bg = otel_baggage_parse(hdr);
	assert_int_equal(otel_baggage_count(bg), OTEL_BAGGAGE_MAX_MEMBERS);
	snprintf(name, sizeof(name), "k%d", 179);
	assert_string_equal(otel_baggage_get(bg, name), "179");
	assert_null(otel_baggage_get(bg, "k180"));
	otel_baggage_unref(bg);
	free(hdr);
}

static void test_parse_size_limits(void **state)
{
	(void)state;
	char *hdr = malloc(20000), m[5000];
	otel_baggage *bg;

	/* a member of exactly 4096 bytes is kept, one of 4097 is dropped */
	sprintf(hdr, "%s,", member(m, "huge", 4097 - 5));
	strcat(hdr, member(m, "big", 4096 - 4));
	strcat(hdr, ",s=1");
	bg = otel_baggage_parse(hdr);
	assert_int_equal(otel_baggage_count(bg), 2);
	assert_int_equal(strlen(otel_baggage_get(bg, "big")), 4092);
	assert_null(otel_baggage_get(bg, "huge"));
	assert_string_equal(otel_baggage_get(bg, "s"), "1");
	otel_baggage_unref(bg);

	/* 4000 + 1 + 4000 bytes fit; a third 4000 would pass 8192, a later small one fits */
	sprintf(hdr, "%s,", member(m, "a", 3998));
	strcat(hdr, member(m, "b", 3998));
	strcat(hdr, ",");
	strcat(hdr, member(m, "c", 3998));
	strcat(hdr, ",s=1");
	bg = otel_baggage_parse(hdr);
	assert_int_equal(otel_baggage_count(bg), 3);
	assert_non_null(otel_baggage_get(bg, "a"));
	assert_non_null(otel_baggage_get(bg, "b"));
	assert_null(otel_baggage_get(bg, "c"));
	assert_string_equal(otel_baggage_get(bg, "s"), "1");
	otel_baggage_unref(bg);
	free(hdr);
}

static void test_set_get_remove(void **state)
{
	(void)state;
	otel_baggage *b1 = otel_baggage_set(NULL, "user", "alice", NULL);
	otel_baggage *b2 = otel_baggage_set(b1, "tenant", "t1", "ttl=30");
	otel_baggage *b3 = otel_baggage_set(b2, "user", "bob", "");
	otel_baggage *b4 = otel_baggage_remove(b3, "user");
	otel_baggage *same = otel_baggage_remove(b3, "nobody");
	otel_baggage *empty = otel_baggage_remove(b4, "tenant");
	const char *n, *v, *m;

	assert_string_equal(fmt(b1), "user=alice");
	assert_string_equal(fmt(b2), "user=alice,tenant=t1;ttl=30");
	/* a name already there keeps its place; "" metadata means none */
	assert_string_equal(fmt(b3), "user=bob,tenant=t1;ttl=30");
	assert_int_equal(otel_baggage_entry(b3, 0, &n, &v, &m), 0);
	assert_null(m);
	assert_string_equal(fmt(b4), "tenant=t1;ttl=30");
	assert_ptr_equal(same, b3);
	assert_non_null(empty);
	assert_int_equal(otel_baggage_count(empty), 0);
	assert_string_equal(fmt(empty), "");
	/* immutable: earlier values are unchanged */
	assert_string_equal(otel_baggage_get(b1, "user"), "alice");
	assert_int_equal(otel_baggage_count(b1), 1);

	errno = 0;
	assert_null(otel_baggage_set(b1, NULL, "v", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_baggage_set(b1, "", "v", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_baggage_set(b1, "k", NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(otel_baggage_count(NULL), 0);
	assert_null(otel_baggage_get(NULL, "user"));

	otel_baggage *none = otel_baggage_remove(NULL, "x");

	assert_int_equal(otel_baggage_count(none), 0);
	otel_baggage_unref(none);
	for (otel_baggage **p = (otel_baggage *[]){ b1, b2, b3, b4, same, empty }, **e = p + 6;
	     p < e; p++)
		otel_baggage_unref(*p);
	otel_baggage_unref(NULL);
}

static void test_format_encoding(void **state)
{
	(void)state;
	otel_baggage *bg = otel_baggage_set(NULL, "k", "hello world,;%\"\\\xe2\x82\xac+/=", NULL);
	otel_baggage *b2 = otel_baggage_set(bg, "bad name", "x", NULL);
	otel_baggage *b3 = otel_baggage_set(b2, "m", "1", "bad,meta");
	otel_baggage *b4 = otel_baggage_set(b3, "ok", "2", "p1;p2=v");

	assert_string_equal(fmt(bg), "k=hello%20world%2C%3B%25%22%5C%E2%82%AC+/=");
	/* a name that is not a token cannot be sent; invalid metadata is left out */
	assert_string_equal(fmt(b4), "k=hello%20world%2C%3B%25%22%5C%E2%82%AC+/=,m=1,ok=2;p1;p2=v");
	otel_baggage_unref(bg);
	otel_baggage_unref(b2);
	otel_baggage_unref(b3);
	otel_baggage_unref(b4);
}

static void test_format_buffer(void **state)
{
	(void)state;
	otel_baggage *bg = otel_baggage_set(NULL, "k", "v v", NULL);
	char buf[16];

	/* "k=v%20v" is 7 bytes */
	assert_int_equal(otel_baggage_format(bg, buf, 7), -ENOSPC);
	assert_int_equal(otel_baggage_format(bg, buf, 8), 7);
	assert_string_equal(buf, "k=v%20v");
	assert_int_equal(otel_baggage_format(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(otel_baggage_format(NULL, buf, 0), -ENOSPC);
	otel_baggage_unref(bg);
}

static void test_format_limits(void **state)
{
	(void)state;
	otel_baggage *bg = NULL, *next;
	char name[16], *big = malloc(5000), *out = malloc(20000);
	int len;

	for (int i = 0; i < 181; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		next = otel_baggage_set(bg, name, "1", NULL);
		otel_baggage_unref(bg);
		bg = next;
	}
	next = otel_baggage_parse(fmt(bg));
	assert_int_equal(otel_baggage_count(next), OTEL_BAGGAGE_MAX_MEMBERS);
	assert_null(otel_baggage_get(next, "k180"));
	otel_baggage_unref(next);
	otel_baggage_unref(bg);

	/* the encoded size counts: 1400 spaces are 4200 bytes, over 4096 */
	memset(big, ' ', 1400);
	big[1400] = '\0';
	bg = otel_baggage_set(NULL, "big", big, NULL);
	next = otel_baggage_set(bg, "s", "1", NULL);
	assert_string_equal(fmt(next), "s=1");
	otel_baggage_unref(bg);
	otel_baggage_unref(next);

	/* three members of 4000 bytes: the third would pass 8192 and is left out */
	memset(big, 'x', 3998);
	big[3998] = '\0';
	bg = NULL;
	for (const char *const *n = (const char *const[]){ "a", "b", "c", "d", NULL }; *n; n++) {
		next = otel_baggage_set(bg, *n, **n == 'd' ? "1" : big, NULL);
		otel_baggage_unref(bg);
		bg = next;
	}
	len = otel_baggage_format(bg, out, 20000);
	assert_int_equal(len, 4000 + 1 + 4000 + 4);
	assert_int_equal(strncmp(out, "a=", 2), 0);
	assert_int_equal(strncmp(out + 4001, "b=", 2), 0);
	assert_string_equal(out + 8001, ",d=1");
	otel_baggage_unref(bg);
	free(big);
	free(out);
}

static void test_round_trip_all_bytes(void **state)
{
	(void)state;
	char value[512], first[1024];
	const char *meta;
	size_t n = 0;
	otel_baggage *bg, *back;

	/* every ASCII byte but NUL, then valid multi-byte sequences */
	for (int c = 1; c < 0x80; c++)
		value[n++] = (char)c;
	strcpy(value + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	bg = otel_baggage_set(NULL, "k", value, "p=1");
	strcpy(first, fmt(bg));
	back = otel_baggage_parse(first);
	assert_non_null(back);
	assert_string_equal(otel_baggage_get(back, "k"), value);
	assert_int_equal(otel_baggage_entry(back, 0, NULL, NULL, &meta), 0);
	assert_string_equal(meta, "p=1");
	assert_string_equal(fmt(back), first);
	otel_baggage_unref(bg);
	otel_baggage_unref(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_whitespace_and_properties),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_ill_formed_utf8_replaced),
		cmocka_unit_test(test_invalid_members_skipped),
		cmocka_unit_test(test_duplicates_take_last_value),
		cmocka_unit_test(test_parse_member_limit),
		cmocka_unit_test(test_parse_size_limits),
		cmocka_unit_test(test_set_get_remove),
		cmocka_unit_test(test_format_encoding),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_round_trip_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
