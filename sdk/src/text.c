// SPDX-License-Identifier: Apache-2.0
/*
 * The text helpers of text.h: OWS, list members and tokens, percent-decoding
 * and -encoding, UTF-8 validation and maximal-subpart repair. One copy serves
 * the baggage and tracestate parsers, the OTEL_* variable parsers and the
 * OTLP encoders, so they all agree on what is valid and how it is repaired.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "text.h"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

void otel_text_trim_ows(const char **s, size_t *len)
{
	while (*len && is_ows(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_ows((*s)[*len - 1]))
		(*len)--;
}

bool otel_text_list_next(const char **p, const char *end, const char **m, size_t *len)
{
	const char *comma;

	if (!*p)
		return false;
	comma = memchr(*p, ',', (size_t)(end - *p));
	*m = *p;
	*len = (size_t)((comma ? comma : end) - *p);
	*p = comma ? comma + 1 : NULL; /* NULL: the last member is out */
	otel_text_trim_ows(m, len);
	return true;
}

bool otel_text_split_kv(const char *m, size_t len, const char **key, size_t *klen,
			const char **value, size_t *vlen)
{
	const char *eq = memchr(m, '=', len);

	if (!eq)
		return false;
	*key = m;
	*klen = (size_t)(eq - m);
	*value = eq + 1;
	*vlen = len - *klen - 1;
	otel_text_trim_ows(key, klen);
	otel_text_trim_ows(value, vlen);
	return true;
}

/* tchar of RFC 7230 section 3.2.6; spelled out so that no locale can widen it. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool otel_text_is_token(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- hex ---- */

/* The value of a hex digit, or -1; uppercase only when @upper_ok. */
static int hexval_case(char c, bool upper_ok)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (upper_ok && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hexval(char c)
{
	return hexval_case(c, true);
}

void otel_text_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

bool otel_text_hex_decode_lower(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval_case(s[2 * i], false), lo = hexval_case(s[2 * i + 1], false);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- percent-encoding ---- */

ssize_t otel_text_pct_decode(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
			return -EINVAL;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return (ssize_t)o;
}

size_t otel_text_pct_encode(const char *s, size_t len, bool (*plain)(unsigned char c), char *out)
{
	static const char hexdig[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '%' && plain(c)) {
			if (out)
				out[o] = (char)c;
			o++;
			continue;
		}
		if (out) {
			out[o] = '%';
			out[o + 1] = hexdig[c >> 4];
			out[o + 2] = hexdig[c & 15];
		}
		o += 3;
	}
	return o;
}

/* ---- UTF-8 ---- */

bool otel_text_utf8_next(const char *str, size_t len, size_t *n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	*n = 1;
	if (c < 0x80)
		return true;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return false; /* a continuation byte, C0, C1 or F5..FF: never part of a sequence */
	}
	/* The subpart grows while the bytes can still continue a well-formed sequence. */
	for (size_t i = 1; i < need; i++, lo = 0x80, hi = 0xbf) {
		if (i >= len || s[i] < lo || s[i] > hi)
			return false;
		*n = i + 1;
	}
	return true;
}

/* True when @s holds only ASCII: whole words, the tail read as an overlapping word. */
static bool ascii_only(const unsigned char *s, size_t len)
{
	uint64_t acc = 0, w;
	uint32_t h, t;

	if (len >= 8) {
		for (size_t i = 0; i + 8 <= len; i += 8) {
			memcpy(&w, s + i, 8);
			acc |= w;
		}
		memcpy(&w, s + len - 8, 8);
		return !((acc | w) & 0x8080808080808080ull);
	}
	if (len >= 4) {
		memcpy(&h, s, 4);
		memcpy(&t, s + len - 4, 4);
		return !((h | t) & 0x80808080u);
	}
	for (size_t i = 0; i < len; i++)
		acc |= s[i];
	return !(acc & 0x80);
}

size_t otel_text_utf8_valid_prefix(const char *s, size_t len)
{
	size_t i = 0, n;

	/* Most telemetry text is ASCII: check it a word at a time first. */
	if (ascii_only((const unsigned char *)s, len))
		return len;
	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if (!otel_text_utf8_next(s + i, len - i, &n))
			return i;
		i += n;
	}
	return len;
}

size_t otel_text_utf8_repair(const char *s, size_t len, char *out)
{
	size_t i = 0, o = 0, bad;

	while (i < len) {
		size_t ok = otel_text_utf8_valid_prefix(s + i, len - i);

		memcpy(out + o, s + i, ok);
		o += ok;
		i += ok;
		if (i == len)
			break;
		otel_text_utf8_next(s + i, len - i, &bad);
		memcpy(out + o, OTEL_TEXT_REPLACEMENT, OTEL_TEXT_REPLACEMENT_LEN);
		o += OTEL_TEXT_REPLACEMENT_LEN;
		i += bad;
	}
	return o;
}
