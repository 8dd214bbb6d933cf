/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text helpers shared by every parser and encoder of the SDK: HTTP list
 * pieces (optional whitespace, key=value members, tokens), percent-decoding
 * and -encoding ("%XX" escapes as W3C Baggage, OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS use them) and UTF-8 validation and repair.
 *
 * Repair replaces each maximal ill-formed subpart with one U+FFFD, the
 * Unicode standard's "substitution of maximal subparts" (section 3.9), which
 * is what the WHATWG Encoding standard's decoder does and so what W3C Baggage
 * asks of decoded values. Everything works on (pointer, length) and needs no
 * NUL terminator.
 */
#ifndef OTEL_SRC_TEXT_H
#define OTEL_SRC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define OTEL_TEXT_REPLACEMENT "\xef\xbf\xbd"
#define OTEL_TEXT_REPLACEMENT_LEN 3

/* Drop optional whitespace (SP, HTAB: RFC 7230 OWS) from both ends of *s[0..*len). */
void otel_text_trim_ows(const char **s, size_t *len);

/*
 * Step through the comma-separated list that *p points into and @end ends
 * (start with *p at the list, however empty). False once it is used up; else
 * true with the next member, OWS trimmed and possibly empty, in m[0..*len).
 */
bool otel_text_list_next(const char **p, const char *end, const char **m, size_t *len);

/*
 * Split the list member m[0..len) at its first '=' into key and value, each
 * with OWS trimmed (the "key OWS = OWS value" of W3C Baggage and the OTEL_*
 * lists built on it). False when there is no '='.
 */
bool otel_text_split_kv(const char *m, size_t len, const char **key, size_t *klen,
			const char **value, size_t *vlen);

/* True when s[0..len) is an RFC 7230 token (1*tchar): HTTP header names, baggage keys. */
bool otel_text_is_token(const char *s, size_t len);

/*
 * Percent-decode s[0..len) into @out (room for @len bytes; @out may be @s).
 * Every '%' must start "%XX" with two hex digits of either case; nothing else
 * is special ('+' stays '+') and decoded NULs and controls are written like
 * any byte: callers apply their own rules to the result.
 * Returns the decoded length, or -EINVAL for a malformed or cut-short escape.
 */
ssize_t otel_text_pct_decode(const char *s, size_t len, char *out);

/*
 * Percent-encode s[0..len) into @out as "%XX" (uppercase hex, RFC 3986), all
 * but the bytes @plain accepts; '%' itself is always encoded. Returns the
 * encoded length; with @out NULL only counts it (at most 3 * @len).
 */
size_t otel_text_pct_encode(const char *s, size_t len, bool (*plain)(unsigned char c), char *out);

/*
 * Look at the UTF-8 sequence that starts s[0..len), len > 0. True when it is
 * well-formed (Unicode table 3-7: no overlong forms, no surrogates, nothing
 * past U+10FFFF): *n is its length, 1 to 4. False when it is not: *n is the
 * length of its maximal ill-formed subpart (1 to 3), the bytes one U+FFFD
 * replaces.
 */
bool otel_text_utf8_next(const char *s, size_t len, size_t *n);

/* Length of the longest prefix of s[0..len) that is well-formed UTF-8. */
size_t otel_text_utf8_valid_prefix(const char *s, size_t len);

/*
 * Copy s[0..len) to @out (room for 3 * @len bytes, not overlapping @s) with
 * each maximal ill-formed subpart replaced by one U+FFFD. Returns the length
 * written: @len exactly when @s is valid. No NUL is added.
 */
size_t otel_text_utf8_repair(const char *s, size_t len, char *out);

/* Lowercase hex of @n bytes into out[0..2n) (not NUL-terminated). */
void otel_text_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode 2n lowercase hex digits (W3C ids forbid uppercase); false on anything else. */
bool otel_text_hex_decode_lower(const char *s, size_t n, uint8_t *out);

#endif
