// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the baggage parser. What it accepts must format, parse
 * back to the same entries and format to the same string. (Formatting may
 * drop members: a value with ill-formed UTF-8 grows when its U+FFFD
 * replacements are encoded, and can pass the size limits.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <otel/propagation.h>

#define MAX_HEADER (OTEL_BAGGAGE_MAX_BYTES + 1)

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_entries(const otel_baggage *x, const otel_baggage *y)
{
	const char *n1, *v1, *m1, *n2, *v2, *m2;

	if (otel_baggage_count(x) != otel_baggage_count(y))
		return false;
	for (size_t i = 0; i < otel_baggage_count(x); i++) {
		otel_baggage_entry(x, i, &n1, &v1, &m1);
		otel_baggage_entry(y, i, &n2, &v2, &m2);
		if (!str_eq(n1, n2) || !str_eq(v1, v2) || !str_eq(m1, m2))
			return false;
	}
	return true;
}

static void check_round_trip(const otel_baggage *bg, char *a, char *b)
{
	int len = otel_baggage_format(bg, a, MAX_HEADER);
	otel_baggage *back;

	if (len < 0 || (size_t)len != strlen(a))
		__builtin_trap();
	if (!len)
		return;
	back = otel_baggage_parse(a);
	if (!back || otel_baggage_format(back, b, MAX_HEADER) != len || strcmp(a, b))
		__builtin_trap();
	/* nothing dropped: the very same entries */
	if (otel_baggage_count(back) == otel_baggage_count(bg) && !same_entries(bg, back))
		__builtin_trap();
	otel_baggage_unref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), *a = malloc(MAX_HEADER), *b = malloc(MAX_HEADER);
	otel_baggage *bg;

	if (s && a && b) {
		memcpy(s, d, n);
		s[n] = '\0';
		bg = otel_baggage_parse(s);
		if (bg) {
			if (!otel_baggage_count(bg) ||
			    otel_baggage_count(bg) > OTEL_BAGGAGE_MAX_MEMBERS)
				__builtin_trap();
			check_round_trip(bg, a, b);
		}
		otel_baggage_unref(bg);
	}
	free(s);
	free(a);
	free(b);
	return 0;
}
