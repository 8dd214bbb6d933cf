// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the tracestate parser. A value it accepts must format,
 * parse back and format to the same string; set and delete on it must hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <otel/trace.h>

/* 32 members of 256 + 1 + 256 bytes, commas and the NUL */
#define MAX_HEADER (32 * (256 + 1 + 256 + 1))

static void check_round_trip(const otel_trace_state *ts, char *a, char *b)
{
	otel_trace_state *back;
	int len = otel_trace_state_format(ts, a, MAX_HEADER);

	if (len <= 0 || (size_t)len != strlen(a))
		__builtin_trap();
	back = otel_trace_state_parse(a);
	if (!back || otel_trace_state_format(back, b, MAX_HEADER) != len || strcmp(a, b))
		__builtin_trap();
	otel_trace_state_unref(back);
}

static void check_set_delete(const otel_trace_state *ts)
{
	otel_trace_state *set = otel_trace_state_set(ts, "fuzz@k", "v");
	otel_trace_state *del = otel_trace_state_delete(set, "fuzz@k");
	const char *v = otel_trace_state_get(set, "fuzz@k");

	if (!v || strcmp(v, "v") || otel_trace_state_get(del, "fuzz@k"))
		__builtin_trap();
	otel_trace_state_unref(set);
	otel_trace_state_unref(del);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), *a = malloc(MAX_HEADER), *b = malloc(MAX_HEADER);
	otel_trace_state *ts;

	if (s && a && b) {
		memcpy(s, d, n);
		s[n] = '\0';
		ts = otel_trace_state_parse(s);
		if (ts) {
			check_round_trip(ts, a, b);
			check_set_delete(ts);
		}
		otel_trace_state_unref(ts);
	}
	free(s);
	free(a);
	free(b);
	return 0;
}
