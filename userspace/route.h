/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/route.h: low-cardinality route templates for span names
 * ("GET /users/{id}"), made from a request path without any knowledge of the
 * application's routes.
 */
#ifndef KSPAN_ROUTE_H
#define KSPAN_ROUTE_H

#include <stddef.h>

/* Path segments kept at most; the rest become the overflow marker. */
#define KSPAN_ROUTE_MAX_SEGMENTS 32
/* A segment longer than this (after percent-decoding) is taken for an id. */
#define KSPAN_ROUTE_MAX_WORD 128
/* Replaces an id-like segment. */
#define KSPAN_ROUTE_ID "{id}"
/* Ends a template that was cut (too many segments or too long for the output). */
#define KSPAN_ROUTE_OVERFLOW "/{...}"

/**
 * kspan_route_template() - the route template of a request path.
 * @path: the path (a query string or fragment, from '?' or '#', is dropped); need not be
 *        NUL-terminated
 * @len: bytes of @path
 * @out: receives the template, always NUL-terminated when @out_size > 0
 * @out_size: bytes of @out
 *
 * Each segment that looks like an identifier becomes "{id}": all digits, a
 * UUID (8-4-4-4-12 hex, or 32 hex digits), a hex string of 8 or more
 * characters with a digit, a date (2024-01-31), an e-mail address, a
 * base64/base64url token of 16 or more characters with a run of 8 mixing
 * letters and digits, or anything longer than KSPAN_ROUTE_MAX_WORD. The check
 * looks at the percent-decoded segment; kept segments are copied as sent.
 * Slashes are kept as they come (no normalization); an empty path gives "/".
 * Past KSPAN_ROUTE_MAX_SEGMENTS segments, or when @out is too small, the
 * template ends at a segment boundary with KSPAN_ROUTE_OVERFLOW.
 *
 * Return: the length of the template in @out (0 when @out_size is 0).
 */
size_t kspan_route_template(const char *path, size_t len, char *out, size_t out_size);

#endif /* KSPAN_ROUTE_H */
