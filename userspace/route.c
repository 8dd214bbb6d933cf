// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/route.c: turns a request path into a route template for span
 * names. Span names must be low-cardinality, and the agent does not know the
 * application's routes, so segments that look like identifiers are replaced
 * by {id} and everything else is kept as sent. Output is bounded: a template
 * never grows with the number or length of segments in the request.
 */
#include <stdbool.h>
#include <string.h>
#include "route.h"

#define MARKER_LEN (sizeof(KSPAN_ROUTE_OVERFLOW) - 1)

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static bool all_of(const char *s, size_t n, bool (*pred)(unsigned char))
{
	for (size_t i = 0; i < n; i++)
		if (!pred((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_hex(unsigned char c)
{
	return hex_val(c) >= 0;
}

static bool has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_digit((unsigned char)s[i]))
			return true;
	return false;
}

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex((unsigned char)s[i]))
			return false;
	}
	return true;
}

static unsigned int num(const char *s, size_t n)
{
	unsigned int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* YYYY-MM-DD with a plausible month and day. */
static bool is_date(const char *s, size_t n)
{
	if (n != 10 || s[4] != '-' || s[7] != '-' || !all_of(s, 4, is_digit) ||
	    !all_of(s + 5, 2, is_digit) || !all_of(s + 8, 2, is_digit))
		return false;
	return num(s + 5, 2) >= 1 && num(s + 5, 2) <= 12 && num(s + 8, 2) >= 1 &&
	       num(s + 8, 2) <= 31;
}

/* local@domain.tld, loosely. */
static bool is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	const char *dot;

	if (!at || at == s)
		return false;
	dot = memchr(at + 1, '.', s + n - at - 1);
	return dot && dot > at + 1 && dot < s + n - 1;
}

static bool is_b64(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '+';
}

/*
 * A base64/base64url token: 16+ characters of the alphabet (then '=' padding),
 * with a run of 8+ between '-'/'_' that mixes letters and digits, which tells
 * "aZ3kq9Lm2pQ8rT4x" from a slug such as "api-v2-user-settings".
 */
static bool is_token(const char *s, size_t n)
{
	size_t run = 0, end = n;
	bool alpha = false, digit = false;

	while (end && s[end - 1] == '=')
		end--;
	if (n < 16 || !all_of(s, end, is_b64))
		return false;
	for (size_t i = 0; i <= end; i++) {
		unsigned char c = i < end ? (unsigned char)s[i] : '-';

		if (c == '-' || c == '_') {
			if (run >= 8 && alpha && digit)
				return true;
			run = 0;
			alpha = digit = false;
			continue;
		}
		run++;
		alpha |= is_alpha(c);
		digit |= is_digit(c);
	}
	return false;
}

static bool is_sep(unsigned char c)
{
	return c == '-' || c == '_';
}

/*
 * A coded identifier: letters, then a number set off by a separator, as in
 * "sku-1", "order_1234", "INV-2024-001". A number glued to letters ("v2",
 * "html5", "api-v2") is a name, not an id, and so is a version ("jquery-3.6.0").
 */
static bool is_coded(const char *s, size_t n)
{
	bool alpha = false;

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		alpha |= is_alpha((unsigned char)s[i]);
		if (!is_digit((unsigned char)s[i]) || !i || !is_sep((unsigned char)s[i - 1]))
			continue;
		while (j < n && is_digit((unsigned char)s[j]))
			j++;
		if (alpha && (j == n || is_sep((unsigned char)s[j])))
			return true;
		i = j - 1;
	}
	return false;
}

/* Percent-decodes s[0..n) into out (at most cap bytes); the decoded length. */
static size_t pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o < cap; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hex_val((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hex_val((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static bool is_id(const char *raw, size_t raw_len)
{
	char buf[KSPAN_ROUTE_MAX_WORD + 1];
	size_t n = pct_decode(raw, raw_len, buf, sizeof(buf));

	if (!n)
		return false;
	if (n > KSPAN_ROUTE_MAX_WORD)
		return true;
	return all_of(buf, n, is_digit) || is_uuid(buf, n) ||
	       (n >= 8 && all_of(buf, n, is_hex) && has_digit(buf, n)) || is_date(buf, n) ||
	       is_email(buf, n) || is_token(buf, n) || is_coded(buf, n);
}

struct out {
	char *buf;
	size_t cap; /* bytes usable for text: out_size - 1 */
	size_t pos;
	size_t mark; /* the last segment boundary with room for the marker after it */
};

static bool put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - o->pos)
		return false;
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	return true;
}

/* Writes one "/segment" unit whole, or reports that it does not fit. */
static bool put_unit(struct out *o, bool slash, const char *seg, size_t n)
{
	size_t start = o->pos;

	if (is_id(seg, n)) {
		seg = KSPAN_ROUTE_ID;
		n = sizeof(KSPAN_ROUTE_ID) - 1;
	}
	if ((slash && !put(o, "/", 1)) || !put(o, seg, n)) {
		o->pos = start;
		return false;
	}
	if (o->pos + MARKER_LEN <= o->cap)
		o->mark = o->pos;
	return true;
}

static void overflow(struct out *o)
{
	o->pos = o->mark;
	put(o, KSPAN_ROUTE_OVERFLOW, MARKER_LEN);
}

size_t kspan_route_template(const char *path, size_t len, char *out, size_t out_size)
{
	struct out o = { .buf = out, .cap = out_size ? out_size - 1 : 0 };
	size_t end = 0, i = 0, segs = 0;

	if (!out_size)
		return 0;
	while (end < len && path[end] != '?' && path[end] != '#' && path[end] != '\0')
		end++;
	if (!end) {
		put(&o, "/", 1);
		out[o.pos] = '\0';
		return o.pos;
	}
	while (i < end) {
		bool slash = path[i] == '/';
		size_t s = i + slash, e = s;

		while (e < end && path[e] != '/')
			e++;
		if (++segs > KSPAN_ROUTE_MAX_SEGMENTS || !put_unit(&o, slash, path + s, e - s)) {
			overflow(&o);
			break;
		}
		i = e;
	}
	out[o.pos] = '\0';
	return o.pos;
}
