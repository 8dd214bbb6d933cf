/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable text/byte buffer and the formatting the exporters share: fast
 * decimal integers, hex, base64, round-trip doubles, UTF-8 repair and JSON
 * string escaping (invalid UTF-8 becomes U+FFFD as text.h repairs it, so
 * output is always valid UTF-8).
 *
 * Allocation failure is sticky: once an append failed the content is
 * incomplete and otel_buf_take() reports it, so writers check once at the end.
 */
#ifndef OTEL_SRC_BUF_H
#define OTEL_SRC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct otel_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed: the content is incomplete */
};

/* Make room for @extra more bytes plus a NUL; false (and failed set) on ENOMEM. */
bool otel_buf_grow(struct otel_buf *b, size_t extra);

static inline bool otel_buf_reserve(struct otel_buf *b, size_t extra)
{
	if (b->cap - b->len > extra)
		return true;
	return otel_buf_grow(b, extra);
}

static inline void otel_buf_append(struct otel_buf *b, const void *p, size_t n)
{
	if (!otel_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void otel_buf_putc(struct otel_buf *b, char c)
{
	if (!otel_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

static inline void otel_buf_puts(struct otel_buf *b, const char *s)
{
	otel_buf_append(b, s, strlen(s));
}

void otel_buf_printf(struct otel_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void otel_buf_u64(struct otel_buf *b, uint64_t v);
void otel_buf_i64(struct otel_buf *b, int64_t v);
/* Lowercase hex of @n bytes. */
void otel_buf_hex(struct otel_buf *b, const uint8_t *p, size_t n);
/* Standard base64 with padding (RFC 4648 section 4). */
void otel_buf_base64(struct otel_buf *b, const uint8_t *p, size_t n);
/*
 * The shortest decimal that reads back as @d (C locale whatever the host's
 * locale); non-finite values as NaN, Infinity, -Infinity.
 */
void otel_buf_double(struct otel_buf *b, double d);
/* @s as valid UTF-8: each maximal ill-formed subpart replaced with U+FFFD (text.h). */
void otel_buf_utf8(struct otel_buf *b, const char *s, size_t len);
/* @s escaped for the inside of a JSON string (no quotes added), UTF-8 repaired. */
void otel_buf_json_escape(struct otel_buf *b, const char *s, size_t len);
/* @s as a quoted JSON string. */
void otel_buf_json_string(struct otel_buf *b, const char *s, size_t len);

/*
 * Hand over the content, NUL-terminated (also when empty), and its length;
 * the buffer is empty after. NULL with errno ENOMEM if an append failed.
 */
char *otel_buf_take(struct otel_buf *b, size_t *len);
/* Free the content; the buffer is empty and usable after. */
void otel_buf_release(struct otel_buf *b);
/* Forget the content but keep the memory for reuse. */
static inline void otel_buf_clear(struct otel_buf *b)
{
	b->len = 0;
	b->failed = false;
}

#endif
