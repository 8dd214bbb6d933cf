// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the traceparent parser. A value it accepts must format
 * as version 00 and parse back to the same span context. The Trace Context
 * propagator's extract path runs on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <otel/propagation.h>

static const char *get(void *carrier, const char *key)
{
	return strcmp(key, "traceparent") ? NULL : carrier;
}

static void check_round_trip(const struct otel_span_context *sc)
{
	char buf[OTEL_TRACEPARENT_LEN + 1];
	struct otel_span_context back;

	otel_traceparent_format(sc, buf);
	if (strlen(buf) != OTEL_TRACEPARENT_LEN || memcmp(buf, "00-", 3) ||
	    otel_traceparent_parse(buf, OTEL_TRACEPARENT_LEN, &back) ||
	    memcmp(back.trace_id, sc->trace_id, 16) || memcmp(back.span_id, sc->span_id, 8) ||
	    back.trace_flags != sc->trace_flags || !back.is_remote || back.trace_state)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	struct otel_span_context sc;
	otel_context *ctx;

	if (!s)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	if (!otel_traceparent_parse(s, strlen(s), &sc)) {
		if (!otel_span_context_is_valid(&sc))
			__builtin_trap();
		check_round_trip(&sc);
	}
	ctx = otel_propagator_extract(otel_propagator_tracecontext(), NULL, s, get);
	otel_context_unref(ctx);
	free(s);
	return 0;
}
