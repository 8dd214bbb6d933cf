// SPDX-License-Identifier: Apache-2.0
/*
 * The growable buffer of buf.h and its formatters (integers, hex, base64,
 * doubles, UTF-8 repair, JSON strings), shared by the OTLP/JSON encoder and
 * the console exporter.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "buf.h"
#include "text.h"

bool otel_buf_grow(struct otel_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return false;
	if (extra > SIZE_MAX / 2 - b->len) /* keeps need and 2 * cap from overflowing */
		goto fail;
	need = b->len + extra + 1; /* + NUL so take() never reallocates */
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return true;
fail:
	b->failed = true;
	return false;
}

void otel_buf_printf(struct otel_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2; tries++) {
		size_t room = b->failed ? 0 : b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0 || b->failed)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (!otel_buf_reserve(b, (size_t)n))
			return;
	}
}

void otel_buf_u64(struct otel_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	otel_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void otel_buf_i64(struct otel_buf *b, int64_t v)
{
	if (v < 0) {
		otel_buf_putc(b, '-');
		otel_buf_u64(b, -(uint64_t)v); /* well defined for INT64_MIN too */
		return;
	}
	otel_buf_u64(b, (uint64_t)v);
}

static const char hex_digits[] = "0123456789abcdef";

void otel_buf_hex(struct otel_buf *b, const uint8_t *p, size_t n)
{
	char *o;

	if (n > SIZE_MAX / 2 || !otel_buf_reserve(b, 2 * n))
		return;
	o = b->data + b->len;
	otel_text_hex_encode(p, n, o);
	b->len += 2 * n;
}

void otel_buf_base64(struct otel_buf *b, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0;
	char *o;

	if (n > SIZE_MAX / 2 || !otel_buf_reserve(b, (n + 2) / 3 * 4))
		return;
	o = b->data + b->len;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t)(o - b->data);
}

/* The C locale for numbers, so a host's setlocale() cannot turn "1.5" into "1,5". */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

void otel_buf_double(struct otel_buf *b, double d)
{
	char tmp[32];
	locale_t old = (locale_t)0;

	if (isnan(d)) {
		otel_buf_puts(b, "NaN");
		return;
	}
	if (isinf(d)) {
		otel_buf_puts(b, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale)
		old = uselocale(c_locale);
	/* 17 significant digits always round-trip; try fewer first for readable output. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (old)
		uselocale(old);
	otel_buf_puts(b, tmp);
}

void otel_buf_utf8(struct otel_buf *b, const char *s, size_t len)
{
	size_t ok = otel_text_utf8_valid_prefix(s, len);

	if (ok == len) {
		otel_buf_append(b, s, len);
		return;
	}
	/* Each bad byte can grow to a U+FFFD; too much to ask for fails the buffer. */
	if (!otel_buf_reserve(b, len > SIZE_MAX / 4 ? SIZE_MAX : len + 2 * (len - ok)))
		return;
	memcpy(b->data + b->len, s, ok);
	b->len += ok;
	b->len += otel_text_utf8_repair(s + ok, len - ok, b->data + b->len);
}

/* Bytes that JSON can carry as they are: printable ASCII except '"' and '\\'. */
static inline bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void json_escape_byte(struct otel_buf *b, unsigned char c)
{
	switch (c) {
	case '"':
		otel_buf_append(b, "\\\"", 2);
		break;
	case '\\':
		otel_buf_append(b, "\\\\", 2);
		break;
	case '\n':
		otel_buf_append(b, "\\n", 2);
		break;
	case '\r':
		otel_buf_append(b, "\\r", 2);
		break;
	case '\t':
		otel_buf_append(b, "\\t", 2);
		break;
	default: {
		char u[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15] };

		otel_buf_append(b, u, sizeof(u));
	}
	}
}

void otel_buf_json_escape(struct otel_buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		size_t run = i, n;

		while (run < len && json_plain(s[run]))
			run++;
		otel_buf_append(b, s + i, run - i);
		i = run;
		if (i == len)
			break;
		if (s[i] < 0x80) {
			json_escape_byte(b, s[i++]);
			continue;
		}
		if (otel_text_utf8_next(str + i, len - i, &n))
			otel_buf_append(b, s + i, n);
		else
			otel_buf_append(b, OTEL_TEXT_REPLACEMENT, OTEL_TEXT_REPLACEMENT_LEN);
		i += n;
	}
}

void otel_buf_json_string(struct otel_buf *b, const char *s, size_t len)
{
	otel_buf_putc(b, '"');
	otel_buf_json_escape(b, s, len);
	otel_buf_putc(b, '"');
}

char *otel_buf_take(struct otel_buf *b, size_t *len)
{
	char *p;

	if (b->failed || !otel_buf_reserve(b, 0)) {
		otel_buf_release(b);
		errno = ENOMEM;
		return NULL;
	}
	b->data[b->len] = '\0';
	p = b->data;
	if (len)
		*len = b->len;
	*b = (struct otel_buf){ 0 };
	return p;
}

void otel_buf_release(struct otel_buf *b)
{
	free(b->data);
	*b = (struct otel_buf){ 0 };
}
