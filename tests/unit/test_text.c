// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the text helpers (sdk/src/text.c): OWS trimming, comma
 * lists, key=value splitting and RFC 7230 tokens (every byte); percent-decoding (every "%XY"
 * pair, cut-short and malformed escapes, '+', NUL, in place) and -encoding
 * (every byte, the counting form, round trips); UTF-8 validation and
 * maximal-subpart repair, checked against the examples of the Unicode
 * standard (section 3.9, "U+FFFD substitution of maximal subparts") and,
 * exhaustively for every sequence of up to three bytes and every four-byte
 * lead, against an independent reference written from the code point
 * arithmetic rather than from the table of well-formed byte sequences.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "text.h"

#define R OTEL_TEXT_REPLACEMENT

/* ---- OWS and tokens ---- */

static void expect_trim(const char *in, const char *want)
{
	const char *s = in;
	size_t len = strlen(in);

	otel_text_trim_ows(&s, &len);
	if (len != strlen(want) || memcmp(s, want, len))
		fail_msg("trim(\"%s\") gave \"%.*s\", want \"%s\"", in, (int)len, s, want);
	/* What is left is a slice of the input, not a copy. */
	if (len)
		assert_ptr_equal(s, in + strspn(in, " \t"));
}

static void test_trim_ows(void **state)
{
	(void)state;
	expect_trim("", "");
	expect_trim(" \t \t", "");
	expect_trim("a", "a");
	expect_trim(" a", "a");
	expect_trim("a\t", "a");
	expect_trim(" \ta b\t ", "a b");
	/* Only SP and HTAB are OWS: other white space is content. */
	expect_trim("\na\r", "\na\r");
	expect_trim(" \v x \f ", "\v x \f");
}

static void expect_split(const char *m, const char *key, const char *value)
{
	const char *k = NULL, *v = NULL;
	size_t klen = 99, vlen = 99;

	assert_true(otel_text_split_kv(m, strlen(m), &k, &klen, &v, &vlen));
	if (klen != strlen(key) || memcmp(k, key, klen) || vlen != strlen(value) ||
	    memcmp(v, value, vlen))
		fail_msg("split(\"%s\") gave \"%.*s\" = \"%.*s\"", m, (int)klen, k, (int)vlen, v);
}

static void test_split_kv(void **state)
{
	static const char abc[] = "ab=c";
	const char *k, *v;
	size_t klen, vlen;

	(void)state;
	expect_split("a=1", "a", "1");
	expect_split(" a \t=\t 1 ", "a", "1");
	expect_split("=", "", "");
	expect_split("k=", "k", "");
	expect_split("=v", "", "v");
	/* The first '=' splits; later ones belong to the value. */
	expect_split("k = a=b ", "k", "a=b");
	expect_split("k=v;p=q", "k", "v;p=q");
	expect_split("my key=my value", "my key", "my value");
	assert_false(otel_text_split_kv("novalue", 7, &k, &klen, &v, &vlen));
	assert_false(otel_text_split_kv("", 0, &k, &klen, &v, &vlen));
	/* Only len bytes are looked at. */
	assert_false(otel_text_split_kv(abc, 2, &k, &klen, &v, &vlen));
	assert_true(otel_text_split_kv(abc, 3, &k, &klen, &v, &vlen));
	assert_ptr_equal(k, abc);
	assert_int_equal(klen, 2);
	assert_ptr_equal(v, abc + 3);
	assert_int_equal(vlen, 0);
}

/* Walk s[0..len) with otel_text_list_next and join what it gives as "[m]". */
static void expect_list(const char *s, size_t len, const char *want)
{
	const char *p = s, *m;
	char got[128] = "";
	size_t mlen;

	while (otel_text_list_next(&p, s + len, &m, &mlen))
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%.*s]", (int)mlen, m);
	if (strcmp(got, want))
		fail_msg("list \"%.*s\" gave %s, want %s", (int)len, s, got, want);
}

static void test_list_next(void **state)
{
	const char *p = NULL, *m;
	size_t len;

	(void)state;
	expect_list("", 0, "[]");
	expect_list("a", 1, "[a]");
	expect_list("a,b", 3, "[a][b]");
	expect_list(" a = 1 ,\tb\t", 11, "[a = 1][b]");
	/* Empty members are given, for the caller to skip or reject. */
	expect_list(",a,,b,", 6, "[][a][][b][]");
	expect_list(" , ", 3, "[][]");
	/* Only up to end: what is after it is not seen. */
	expect_list("a,b,c", 3, "[a][b]");
	expect_list("a,b,c", 2, "[a][]");
	/* A used-up (NULL) cursor stays used up. */
	assert_false(otel_text_list_next(&p, NULL, &m, &len));
	assert_null(p);
}

static void test_token_every_byte(void **state)
{
	static const char tchar_specials[] = "!#$%&'*+-.^_`|~";
	char one[2] = { 0 };

	(void)state;
	assert_false(otel_text_is_token("", 0));
	assert_false(otel_text_is_token(NULL, 0));
	assert_true(otel_text_is_token("Content-Type", 12));
	assert_true(otel_text_is_token("!#$%&'*+-.^_`|~09azAZ", 21));
	assert_false(otel_text_is_token("a b", 3));
	assert_false(otel_text_is_token("ab=", 3));
	/* Only len bytes are looked at: the NUL is the end of a C string, not of the slice. */
	assert_true(otel_text_is_token("ab=", 2));
	assert_false(otel_text_is_token("a\0b", 3));
	for (int c = 0; c < 256; c++) {
		bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || (c && strchr(tchar_specials, c));

		one[0] = (char)c;
		if (otel_text_is_token(one, 1) != want)
			fail_msg("byte 0x%02x: token %d, want %d", c, !want, want);
	}
}

/* ---- percent-encoding ---- */

/* Decode @in (a C string) and check the result is @want of @want_len bytes. */
static void expect_decode(const char *in, const char *want, size_t want_len)
{
	char out[64];
	ssize_t n = otel_text_pct_decode(in, strlen(in), out);

	if (n != (ssize_t)want_len || memcmp(out, want, want_len))
		fail_msg("decode(\"%s\") gave %zd bytes", in, n);
}

static void expect_decode_error(const char *in, size_t len)
{
	char out[64];

	if (otel_text_pct_decode(in, len, out) != -EINVAL)
		fail_msg("decode(\"%.*s\") should fail", (int)len, in);
}

static void test_pct_decode_cases(void **state)
{
	char buf[32];

	(void)state;
	expect_decode("", "", 0);
	expect_decode("plain-text_1.0~", "plain-text_1.0~", 15);
	expect_decode("%41%42c", "ABc", 3);
	expect_decode("%2c%2C%3d%3D%25", ",,==%", 5);
	expect_decode("%aF%Af", "\xaf\xaf", 2);
	expect_decode("%C3%A9t%C3%A9", "\xc3\xa9t\xc3\xa9", 5);
	/* '+' is not a space here (that is the form encoding, not RFC 3986). */
	expect_decode("a+b%2B", "a+b+", 4);
	/* Decoded NULs and controls are the callers' business. */
	expect_decode("x%00y%0A", "x\0y\n", 4);
	/* One pass only: "%2541" is "%41", not "A". */
	expect_decode("%2541", "%41", 3);
	/* Escapes cut short, at the end or not, and non-hex digits. */
	expect_decode_error("%", 1);
	expect_decode_error("ab%", 3);
	expect_decode_error("ab%4", 4);
	expect_decode_error("%4x", 3);
	expect_decode_error("%x4", 3);
	expect_decode_error("%%41", 4);
	expect_decode_error("%-1", 3);
	expect_decode_error("% 41", 4);
	expect_decode_error("ok then %g0", 11);
	/* Only len bytes are read: the "%41" past the end is not seen, the cut one fails. */
	expect_decode_error("a%41", 3);
	assert_int_equal(otel_text_pct_decode("a%41", 1, buf), 1);
	assert_int_equal(buf[0], 'a');
	/* In place: the output never runs ahead of the input. */
	strcpy(buf, "%48i%20there%21");
	assert_int_equal(otel_text_pct_decode(buf, strlen(buf), buf), 9);
	assert_memory_equal(buf, "Hi there!", 9);
}

static int ref_hex(int c)
{
	static const char digits[] = "0123456789abcdef0123456789ABCDEF";
	const char *p = c ? strchr(digits, c) : NULL;

	return p ? (int)((p - digits) % 16) : -1;
}

static void test_pct_decode_every_pair(void **state)
{
	(void)state;
	for (int hi = 0; hi < 256; hi++) {
		for (int lo = 0; lo < 256; lo++) {
			char in[3] = { '%', (char)hi, (char)lo }, out[3];
			ssize_t n = otel_text_pct_decode(in, 3, out);
			bool ok = ref_hex(hi) >= 0 && ref_hex(lo) >= 0;

			if (ok &&
			    (n != 1 || (unsigned char)out[0] != ref_hex(hi) * 16 + ref_hex(lo)))
				fail_msg("%%%c%c: %zd bytes, 0x%02x", hi, lo, n,
					 (unsigned char)out[0]);
			if (!ok && n != -EINVAL)
				fail_msg("%%\\x%02x\\x%02x: %zd, want -EINVAL", hi, lo, n);
		}
	}
}

static bool plain_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool plain_all(unsigned char c)
{
	(void)c;
	return true;
}

static void test_pct_encode(void **state)
{
	char out[3 * 256 + 1], all[256], back[256];
	size_t n;

	(void)state;
	assert_int_equal(otel_text_pct_encode("", 0, plain_alnum, out), 0);
	n = otel_text_pct_encode("a b,c\xc3\xa9", 7, plain_alnum, out);
	assert_int_equal(n, 15);
	assert_memory_equal(out, "a%20b%2Cc%C3%A9", 15);
	/* '%' is always escaped, even when the class would let it through. */
	n = otel_text_pct_encode("1%", 2, plain_all, out);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "1%25", 4);
	/* A NUL inside the slice is a byte like any other. */
	n = otel_text_pct_encode("a\0b", 3, plain_alnum, out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "a%00b", 5);
	/* Every byte: counted as written, uppercase hex, decodes back to itself. */
	for (int c = 0; c < 256; c++)
		all[c] = (char)c;
	n = otel_text_pct_encode(all, 256, plain_alnum, NULL);
	assert_int_equal(n, 62 + 3 * (256 - 62));
	memset(out, 0, sizeof(out));
	assert_int_equal(otel_text_pct_encode(all, 256, plain_alnum, out), n);
	assert_memory_equal(out, "%00%01%02", 9);
	assert_non_null(strstr(out, "%7E%7F%80"));
	assert_non_null(strstr(out, "%FE%FF"));
	assert_non_null(strstr(out, "%2F0123456789%3A"));
	assert_int_equal(otel_text_pct_decode(out, n, back), 256);
	assert_memory_equal(back, all, 256);
}

/* ---- UTF-8: the examples of the Unicode standard ---- */

/* Repair @in (@len bytes) and compare with @want (a C string). */
static void expect_repair(const char *in, size_t len, const char *want)
{
	char *out = malloc(3 * len + 1);
	size_t n;

	assert_non_null(out);
	n = otel_text_utf8_repair(in, len, out);
	assert_true(n <= 3 * len);
	out[n] = '\0';
	if (n != strlen(want) || memcmp(out, want, n))
		fail_msg("repair gave %zu bytes \"%s\", want %zu \"%s\"", n, out, strlen(want),
			 want);
	free(out);
}

#define EXPECT_REPAIR(IN, WANT) expect_repair((IN), sizeof(IN) - 1, (WANT))

static void test_utf8_unicode_examples(void **state)
{
	(void)state;
	/* Truncated sequences: each is one subpart. */
	EXPECT_REPAIR("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
		      "a" R R R "b" R "c" R R "d");
	/* Non-shortest forms: every byte its own subpart. */
	EXPECT_REPAIR("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41", R R R R R R R R "A");
	/* Surrogates. */
	EXPECT_REPAIR("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41", R R R R R R R R "A");
	/* Past U+10FFFF, and bytes that never appear. */
	EXPECT_REPAIR("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42", R R R R R "A" R R "B");
	/* Truncated sequences of every length, one after the other. */
	EXPECT_REPAIR("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", R R R R "A");
}

static void test_utf8_valid_prefix_cases(void **state)
{
	static const struct {
		const char *s;
		size_t valid;
	} cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "exactly8", 8 },
		{ "a longer ascii string over 16", 29 },
		{ "\x7f\x01", 2 }, /* DEL and controls are valid UTF-8 */
		{ "caf\xc3\xa9", 5 },
		{ "\xc2\x80\xdf\xbf", 4 }, /* U+0080, U+07FF */
		{ "\xe0\xa0\x80\xef\xbf\xbf", 6 }, /* U+0800, U+FFFF (a noncharacter, valid) */
		{ "\xed\x9f\xbf\xee\x80\x80", 6 }, /* U+D7FF, U+E000 around the surrogates */
		{ "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8 }, /* U+10000, U+10FFFF */
		{ "\xf0\x9f\x98\x80 ok", 7 },
		{ "ab\x80", 2 },
		{ "long ascii then \xff", 16 },
		{ "\xc0\x80", 0 }, /* overlong NUL */
		{ "\xc1\xbf", 0 }, /* overlong U+007F */
		{ "\xe0\x80\x80", 0 }, /* overlong */
		{ "\xe0\x9f\xbf", 0 }, /* overlong U+07FF */
		{ "\xf0\x80\x80\x80", 0 }, /* overlong */
		{ "\xf0\x8f\xbf\xbf", 0 }, /* overlong U+FFFF */
		{ "x\xed\xa0\x80", 1 }, /* U+D800 */
		{ "xy\xed\xbf\xbf", 2 }, /* U+DFFF */
		{ "\xf4\x90\x80\x80", 0 }, /* U+110000 */
		{ "\xf5\x80\x80\x80", 0 },
		{ "\xf7\xbf\xbf\xbf", 0 }, /* U+1FFFFF */
		{ "\xf8\x88\x80\x80\x80", 0 }, /* old five-byte form */
		{ "\xfe\xff", 0 },
		{ "ok\xe2\x82", 2 }, /* truncated at the end */
		{ "ok\xf0\x9f\x98", 2 },
		{ "ok\xc3", 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = otel_text_utf8_valid_prefix(cases[i].s, strlen(cases[i].s));

		if (got != cases[i].valid)
			fail_msg("case %zu: valid prefix %zu, want %zu", i, got, cases[i].valid);
	}
	/* Only len bytes are read: a sequence cut by len is not completed from beyond it. */
	assert_int_equal(otel_text_utf8_valid_prefix("a\xc3\xa9", 2), 1);
	assert_int_equal(otel_text_utf8_valid_prefix("a\xc3\xa9", 3), 3);
	/* A NUL inside the slice is U+0000, valid. */
	assert_int_equal(otel_text_utf8_valid_prefix("a\0b", 3), 3);
}

static void test_utf8_next_cases(void **state)
{
	size_t n = 99;

	(void)state;
	assert_true(otel_text_utf8_next("A", 1, &n));
	assert_int_equal(n, 1);
	assert_true(otel_text_utf8_next("\xc3\xa9x", 3, &n));
	assert_int_equal(n, 2);
	assert_true(otel_text_utf8_next("\xe2\x82\xac", 3, &n));
	assert_int_equal(n, 3);
	assert_true(otel_text_utf8_next("\xf0\x9f\x98\x80", 4, &n));
	assert_int_equal(n, 4);
	/* Maximal subparts: as far as the bytes could still be a sequence. */
	assert_false(otel_text_utf8_next("\xf0\x9f\x98", 3, &n));
	assert_int_equal(n, 3);
	assert_false(otel_text_utf8_next("\xf0\x9f\x98\x41", 4, &n));
	assert_int_equal(n, 3);
	assert_false(otel_text_utf8_next("\xf0\x9f\x41", 3, &n));
	assert_int_equal(n, 2);
	assert_false(otel_text_utf8_next("\xe2\x82", 2, &n));
	assert_int_equal(n, 2);
	assert_false(otel_text_utf8_next("\xe2\x82\xac", 2, &n)); /* cut by len */
	assert_int_equal(n, 2);
	assert_false(otel_text_utf8_next("\xc3", 1, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\x80\x80", 2, &n));
	assert_int_equal(n, 1);
	/* A lead whose second byte is out of its range ends the subpart at the lead. */
	assert_false(otel_text_utf8_next("\xe0\x9f\xbf", 3, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\xed\xa0\x80", 3, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\xf0\x8f\xbf\xbf", 4, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\xf4\x90\x80\x80", 4, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\xc0\x80", 2, &n));
	assert_int_equal(n, 1);
	assert_false(otel_text_utf8_next("\xf5\x80\x80\x80", 4, &n));
	assert_int_equal(n, 1);
}

static void test_utf8_repair_cases(void **state)
{
	char out[16];

	(void)state;
	EXPECT_REPAIR("", "");
	EXPECT_REPAIR("plain", "plain");
	EXPECT_REPAIR("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	EXPECT_REPAIR("\xff", R);
	EXPECT_REPAIR("\xff\xfe", R R);
	EXPECT_REPAIR("a\xe2\x82", "a" R); /* truncated at the end: one U+FFFD */
	EXPECT_REPAIR("a\xf0\x9f\x98", "a" R);
	EXPECT_REPAIR("\xf0\x9f\x98z", R "z");
	EXPECT_REPAIR("\xc3\xc3\xa9", R "\xc3\xa9"); /* a lead cut by another lead */
	EXPECT_REPAIR("\xc0\xaf", R R); /* overlong */
	EXPECT_REPAIR("\xe0\x80\x80", R R R);
	EXPECT_REPAIR("\xf0\x80\x80\x80", R R R R);
	EXPECT_REPAIR("\xed\xa0\x80", R R R); /* surrogate */
	EXPECT_REPAIR("\xf4\x90\x80\x80", R R R R); /* above U+10FFFF */
	EXPECT_REPAIR("\xef\xbf\xbd", R); /* U+FFFD itself is valid and kept */
	/* Worst case: every byte becomes three. */
	assert_int_equal(otel_text_utf8_repair("\x80\x80\x80\x80\x80", 5, out), 15);
	assert_memory_equal(out, R R R R R, 15);
	/* Only len bytes are read. */
	assert_int_equal(otel_text_utf8_repair("ab\xc3\xa9", 3, out), 5);
	assert_memory_equal(out, "ab" R, 5);
}

/* The word-at-a-time ASCII check: a high byte at every position of every short length. */
static void test_utf8_ascii_fast_path(void **state)
{
	char s[40];

	(void)state;
	for (size_t len = 1; len <= sizeof(s); len++) {
		memset(s, 'a', len);
		assert_int_equal(otel_text_utf8_valid_prefix(s, len), len);
		for (size_t at = 0; at < len; at++) {
			s[at] = (char)0x80;
			if (otel_text_utf8_valid_prefix(s, len) != at)
				fail_msg("len %zu, 0x80 at %zu: prefix %zu", len, at,
					 otel_text_utf8_valid_prefix(s, len));
			s[at] = 'a';
		}
	}
}

/* ---- UTF-8: exhaustive comparison with a reference ---- */

/*
 * The reference: a prefix of @k bytes of a sequence of @total bytes can still
 * become a well-formed sequence when its continuation bytes are 10xxxxxx and
 * the code points it could complete to, [lo, hi], meet the scalar values of
 * that length (shortest form, no surrogates, at most U+10FFFF).
 */
static bool ref_prefix_ok(const unsigned char *s, size_t k, size_t total)
{
	static const uint32_t lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t lo = s[0] & lead_mask[total], hi;

	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		lo = lo << 6 | (s[i] & 0x3f);
	}
	hi = lo;
	for (size_t i = k; i < total; i++) {
		lo <<= 6;
		hi = hi << 6 | 0x3f;
	}
	if (lo < min_cp[total])
		lo = min_cp[total];
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	if (lo > hi)
		return false;
	/* Not all of [lo, hi] inside the surrogates. */
	return !(lo >= 0xd800 && hi <= 0xdfff);
}

/* Bytes in the sequence a lead byte starts; 0 for bytes that cannot lead. */
static size_t ref_total(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc0)
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return c < 0xf8 ? 4 : 0;
}

/* The reference answer of otel_text_utf8_next(). */
static bool ref_next(const unsigned char *s, size_t len, size_t *n)
{
	size_t total = ref_total(s[0]), k = 0;

	while (k < total && k < len && ref_prefix_ok(s, k + 1, total))
		k++;
	*n = k ? k : 1;
	return total && k == total;
}

/* s[0..len) in hex, for failure messages. */
static const char *show(const unsigned char *s, size_t len)
{
	static char text[3 * 8 + 1];

	text[0] = '\0';
	for (size_t i = 0; i < len && i < 8; i++)
		snprintf(text + 3 * i, sizeof(text) - 3 * i, "%02x ", s[i]);
	return text;
}

/* Compare next, valid_prefix and repair with the reference on s[0..len), len <= 4. */
static void check_against_ref(const unsigned char *s, size_t len)
{
	char out[3 * 4], want[3 * 4];
	size_t n, rn, i = 0, o = 0, valid = len;
	bool ok = otel_text_utf8_next((const char *)s, len, &n), rok = ref_next(s, len, &rn);

	if (ok != rok || n != rn)
		fail_msg("next(%s) = %d,%zu; reference %d,%zu", show(s, len), ok, n, rok, rn);
	while (i < len) {
		if (ref_next(s + i, len - i, &rn)) {
			memcpy(want + o, s + i, rn);
			o += rn;
		} else {
			if (valid == len)
				valid = i;
			memcpy(want + o, R, 3);
			o += 3;
		}
		i += rn;
	}
	n = otel_text_utf8_valid_prefix((const char *)s, len);
	if (n != valid)
		fail_msg("valid_prefix(%s) = %zu; reference %zu", show(s, len), n, valid);
	n = otel_text_utf8_repair((const char *)s, len, out);
	if (n != o || memcmp(out, want, o))
		fail_msg("repair(%s) differs from the reference", show(s, len));
}

/* Every sequence of one, two and three bytes: leads, truncations and all subparts. */
static void test_utf8_exhaustive_short(void **state)
{
	unsigned char s[3];

	(void)state;
	for (uint32_t v = 0; v < 1u << 24; v++) {
		s[0] = (unsigned char)(v >> 16);
		s[1] = (unsigned char)(v >> 8);
		s[2] = (unsigned char)v;
		check_against_ref(s, 3);
		if (!s[2]) {
			check_against_ref(s, 2);
			if (!s[1])
				check_against_ref(s, 1);
		}
	}
}

/* Four bytes: every lead from 0xf0 up, every second and third byte, telling fourth bytes. */
static void test_utf8_exhaustive_four(void **state)
{
	static const unsigned char fourth[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
						0x90, 0xbf, 0xc0, 0xf4, 0xff };
	unsigned char s[4];

	(void)state;
	for (unsigned int lead = 0xf0; lead <= 0xff; lead++) {
		for (unsigned int mid = 0; mid < 1u << 16; mid++) {
			s[0] = (unsigned char)lead;
			s[1] = (unsigned char)(mid >> 8);
			s[2] = (unsigned char)mid;
			for (size_t i = 0; i < sizeof(fourth); i++) {
				s[3] = fourth[i];
				check_against_ref(s, 4);
			}
		}
	}
}

/* The reference agrees with the standard's own numbers: 1,112,064 scalar values. */
static void test_reference_counts_scalars(void **state)
{
	static const unsigned char lead_bits[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	unsigned char s[4];
	uint32_t count = 0;
	size_t n;

	(void)state;
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

		if (len == 1) {
			s[0] = (unsigned char)cp;
		} else {
			for (size_t i = len - 1; i > 0; i--)
				s[i] = (unsigned char)(0x80 | ((cp >> (6 * (len - 1 - i))) & 0x3f));
			s[0] = (unsigned char)(lead_bits[len] | cp >> (6 * (len - 1)));
		}
		if (ref_next(s, len, &n) != (cp < 0xd800 || cp > 0xdfff))
			fail_msg("reference wrong on U+%04X", cp);
		if (otel_text_utf8_next((const char *)s, len, &n)) {
			count++;
			assert_int_equal(n, len);
		}
	}
	assert_int_equal(count, 0x110000 - 0x800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_ows),
		cmocka_unit_test(test_split_kv),
		cmocka_unit_test(test_list_next),
		cmocka_unit_test(test_token_every_byte),
		cmocka_unit_test(test_pct_decode_cases),
		cmocka_unit_test(test_pct_decode_every_pair),
		cmocka_unit_test(test_pct_encode),
		cmocka_unit_test(test_utf8_unicode_examples),
		cmocka_unit_test(test_utf8_valid_prefix_cases),
		cmocka_unit_test(test_utf8_next_cases),
		cmocka_unit_test(test_utf8_repair_cases),
		cmocka_unit_test(test_utf8_ascii_fast_path),
		cmocka_unit_test(test_reference_counts_scalars),
		cmocka_unit_test(test_utf8_exhaustive_short),
		cmocka_unit_test(test_utf8_exhaustive_four),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
