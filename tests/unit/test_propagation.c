// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of propagation: the traceparent grammar (every invalid form the
 * W3C test suite names, future versions), the Trace Context and Baggage
 * propagators through a key/value carrier (inject, extract, round trips,
 * what is left alone), composites, OTEL_PROPAGATORS and the global
 * propagator.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/propagation.h>
#include <otel/sdk.h>

#define TP "00-12345678901234567890123456789012-1234567890123456-01"

static const uint8_t TRACE_ID[16] = { 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
				      0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12 };
static const uint8_t SPAN_ID[8] = { 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56 };

/* ---- a header carrier: a small key/value array, case-insensitive get ---- */

#define CARRIER_MAX 8

struct carrier {
	char *key[CARRIER_MAX];
	char *value[CARRIER_MAX];
	size_t n;
	size_t sets;
};

static const char *carrier_get(void *c, const char *key)
{
	struct carrier *h = c;

	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->key[i], key))
			return h->value[i];
	return NULL;
}

static void carrier_set(void *c, const char *key, const char *value)
{
	struct carrier *h = c;
	size_t i = 0;

	h->sets++;
	while (i < h->n && strcasecmp(h->key[i], key))
		i++;
	if (i == h->n) {
		assert_true(h->n < CARRIER_MAX);
		h->key[h->n++] = strdup(key);
	} else {
		free(h->value[i]);
	}
	h->value[i] = strdup(value);
}

static void carrier_free(struct carrier *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->key[i]);
		free(h->value[i]);
	}
	memset(h, 0, sizeof(*h));
}

/* The span context of @ctx's span (all zero without one). */
static struct otel_span_context span_ctx(const otel_context *ctx)
{
	struct otel_span_context sc;

	otel_span_get_context(otel_context_get_span(ctx), &sc);
	return sc;
}

/* A context holding a wrapped span with @sc. */
static otel_context *ctx_with(const struct otel_span_context *sc)
{
	otel_span *span = otel_span_wrap(sc);
	otel_context *ctx = otel_context_with_span(NULL, span);

	otel_span_unref(span);
	return ctx;
}

/* ---- traceparent ---- */

static void expect_tp_invalid(const char *v)
{
	struct otel_span_context sc = { .trace_flags = 0x77 };

	if (otel_traceparent_parse(v, strlen(v), &sc) != -EINVAL)
		fail_msg("traceparent \"%s\" accepted", v);
	if (sc.trace_flags != 0x77)
		fail_msg("traceparent \"%s\": output written on failure", v);
}

static void expect_tp_valid(const char *v, uint8_t flags)
{
	struct otel_span_context sc;

	memset(&sc, 0xaa, sizeof(sc));
	if (otel_traceparent_parse(v, strlen(v), &sc))
		fail_msg("traceparent \"%s\" rejected", v);
	assert_memory_equal(sc.trace_id, TRACE_ID, 16);
	assert_memory_equal(sc.span_id, SPAN_ID, 8);
	if (sc.trace_flags != flags)
		fail_msg("traceparent \"%s\": flags %#x, expected %#x", v, sc.trace_flags, flags);
	assert_true(sc.is_remote);
	assert_null(sc.trace_state);
}

static void test_traceparent_valid(void **state)
{
	(void)state;
	expect_tp_valid(TP, 1);
	expect_tp_valid("00-12345678901234567890123456789012-1234567890123456-00", 0);
	/* unknown flags are not carried on: only the sampled bit is defined */
	expect_tp_valid("00-12345678901234567890123456789012-1234567890123456-ff", 1);
	expect_tp_valid("00-12345678901234567890123456789012-1234567890123456-02", 0);
	/* a future version is read by the 00 rules, more data only after a '-' */
	expect_tp_valid("cc-12345678901234567890123456789012-1234567890123456-01", 1);
	expect_tp_valid("cc-12345678901234567890123456789012-1234567890123456-01-what-the-future",
			1);
	expect_tp_valid("01-12345678901234567890123456789012-1234567890123456-00-", 0);
	expect_tp_valid("fe-12345678901234567890123456789012-1234567890123456-01-x", 1);
}

static void test_traceparent_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"00",
		/* version 00 is exactly 55 characters */
		"00-12345678901234567890123456789012-1234567890123456-01.",
		"00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be",
		"00-12345678901234567890123456789012-1234567890123456-01-",
		/* a future version goes on only after a '-' */
		"cc-12345678901234567890123456789012-1234567890123456-01.what-the-future",
		"cc-12345678901234567890123456789012-1234567890123456-0",
		"ff-12345678901234567890123456789012-1234567890123456-01",
		".0-12345678901234567890123456789012-1234567890123456-01",
		"0.-12345678901234567890123456789012-1234567890123456-01",
		"0A-12345678901234567890123456789012-1234567890123456-01",
		"000-12345678901234567890123456789012-1234567890123456-01",
		"0000-12345678901234567890123456789012-1234567890123456-01",
		"0-12345678901234567890123456789012-1234567890123456-01",
		"00-00000000000000000000000000000000-1234567890123456-01",
		"00-.2345678901234567890123456789012-1234567890123456-01",
		"00-1234567890123456789012345678901.-1234567890123456-01",
		"00-123456789012345678901234567890123-1234567890123456-01",
		"00-1234567890123456789012345678901-1234567890123456-01",
		"00-12345678901234567890123456789012-0000000000000000-01",
		"00-12345678901234567890123456789012-.234567890123456-01",
		"00-12345678901234567890123456789012-123456789012345.-01",
		"00-12345678901234567890123456789012-12345678901234567-01",
		"00-12345678901234567890123456789012-123456789012345-01",
		"00-12345678901234567890123456789012-1234567890123456-.0",
		"00-12345678901234567890123456789012-1234567890123456-0.",
		"00-12345678901234567890123456789012-1234567890123456-001",
		"00-12345678901234567890123456789012-1234567890123456-1",
		/* uppercase hex anywhere */
		"00-1234567890123456789012345678901A-1234567890123456-01",
		"00-12345678901234567890123456789012-123456789012345A-01",
		"00-12345678901234567890123456789012-1234567890123456-0A",
		"00-ABCDEF78901234567890123456789012-1234567890123456-01",
		/* separators */
		"00_12345678901234567890123456789012-1234567890123456-01",
		"00-12345678901234567890123456789012_1234567890123456-01",
		"00-12345678901234567890123456789012-1234567890123456_01",
		"00 12345678901234567890123456789012 1234567890123456 01",
		/* non-hex, whitespace inside */
		"00-1234567890123456789012345678901g-1234567890123456-01",
		"00-12345678901234567890123456789012-1234567890123456-g1",
		" 00-12345678901234567890123456789012-1234567890123456-01",
		"00-12345678901234567890123456789012-1234567890123456-01 ",
		/* two headers joined */
		TP "," TP,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		expect_tp_invalid(bad[i]);
	/* the length given counts, not the NUL */
	struct otel_span_context sc;

	assert_int_equal(otel_traceparent_parse(TP "xyz", 55, &sc), 0);
	assert_int_equal(otel_traceparent_parse(TP, 54, &sc), -EINVAL);
	assert_int_equal(otel_traceparent_parse(NULL, 55, &sc), -EINVAL);
}

static void test_traceparent_format(void **state)
{
	(void)state;
	struct otel_span_context sc = { .trace_flags = 0xff };
	char buf[OTEL_TRACEPARENT_LEN + 1];

	memcpy(sc.trace_id, TRACE_ID, 16);
	memcpy(sc.span_id, SPAN_ID, 8);
	memset(buf, 'x', sizeof(buf));
	otel_traceparent_format(&sc, buf);
	assert_string_equal(buf, TP);
	sc.trace_flags = 0x02;
	otel_traceparent_format(&sc, buf);
	assert_string_equal(buf, "00-12345678901234567890123456789012-1234567890123456-00");
	memset(sc.trace_id, 0xab, 16);
	memset(sc.span_id, 0xcd, 8);
	sc.trace_flags = 1;
	otel_traceparent_format(&sc, buf);
	assert_string_equal(buf, "00-abababababababababababababababab-cdcdcdcdcdcdcdcd-01");
}

/* ---- Trace Context propagator ---- */

static void test_tc_extract(void **state)
{
	(void)state;
	struct carrier h = { 0 };
	otel_propagator *tc = otel_propagator_tracecontext();
	otel_context *ctx;
	struct otel_span_context sc;

	carrier_set(&h, "TraceParent", TP);
	carrier_set(&h, "TRACESTATE", "foo=1 , bar=2");
	ctx = otel_propagator_extract(tc, NULL, &h, carrier_get);
	sc = span_ctx(ctx);
	assert_memory_equal(sc.trace_id, TRACE_ID, 16);
	assert_memory_equal(sc.span_id, SPAN_ID, 8);
	assert_int_equal(sc.trace_flags, 1);
	assert_true(sc.is_remote);
	assert_non_null(sc.trace_state);
	assert_string_equal(otel_trace_state_get(sc.trace_state, "foo"), "1");
	assert_string_equal(otel_trace_state_get(sc.trace_state, "bar"), "2");
	assert_false(otel_span_is_recording(otel_context_get_span(ctx)));
	otel_context_unref(ctx);
	carrier_free(&h);
}

static void test_tc_extract_ows_around_traceparent(void **state)
{
	(void)state;
	static const char *const values[] = {
		" " TP, "\t" TP, TP " ", TP "\t", "\t " TP " \t",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		struct carrier h = { 0 };
		otel_context *ctx;

		carrier_set(&h, "traceparent", values[i]);
		ctx = otel_propagator_extract(otel_propagator_tracecontext(), NULL, &h,
					      carrier_get);
		if (!otel_context_get_span(ctx))
			fail_msg("traceparent \"%s\" with OWS not extracted", values[i]);
		assert_memory_equal(span_ctx(ctx).trace_id, TRACE_ID, 16);
		otel_context_unref(ctx);
		carrier_free(&h);
	}
}

static void test_tc_extract_invalid_keeps_parent(void **state)
{
	(void)state;
	struct otel_span_context psc = { .trace_id = { 9 }, .span_id = { 9 } };
	otel_context *parent = ctx_with(&psc);
	otel_propagator *tc = otel_propagator_tracecontext();
	struct carrier h = { 0 };
	otel_context *ctx;

	/* no traceparent: a tracestate alone is ignored */
	carrier_set(&h, "tracestate", "foo=1");
	ctx = otel_propagator_extract(tc, parent, &h, carrier_get);
	assert_ptr_equal(ctx, parent);
	otel_context_unref(ctx);

	carrier_set(&h, "traceparent", "00-00000000000000000000000000000000-1234567890123456-01");
	ctx = otel_propagator_extract(tc, parent, &h, carrier_get);
	assert_ptr_equal(ctx, parent);
	otel_context_unref(ctx);

	carrier_set(&h, "traceparent", TP "," TP);
	ctx = otel_propagator_extract(tc, parent, &h, carrier_get);
	assert_ptr_equal(ctx, parent);
	otel_context_unref(ctx);

	/* valid traceparent, invalid tracestate: the span comes through without it */
	carrier_set(&h, "traceparent", TP);
	carrier_set(&h, "tracestate", "foo=1,foo=2");
	ctx = otel_propagator_extract(tc, parent, &h, carrier_get);
	assert_ptr_not_equal(ctx, parent);
	assert_memory_equal(span_ctx(ctx).trace_id, TRACE_ID, 16);
	assert_null(span_ctx(ctx).trace_state);
	otel_context_unref(ctx);

	/* the parent still holds its own span */
	assert_int_equal(span_ctx(parent).trace_id[0], 9);
	otel_context_unref(parent);
	carrier_free(&h);
}

static void test_tc_extract_keeps_parent_baggage(void **state)
{
	(void)state;
	otel_baggage *bg = otel_baggage_set(NULL, "k", "v", NULL);
	otel_context *parent = otel_context_with_baggage(NULL, bg);
	struct carrier h = { 0 };
	otel_context *ctx;

	carrier_set(&h, "traceparent", TP);
	ctx = otel_propagator_extract(otel_propagator_tracecontext(), parent, &h, carrier_get);
	assert_ptr_equal(otel_context_get_baggage(ctx), bg);
	assert_memory_equal(span_ctx(ctx).span_id, SPAN_ID, 8);
	otel_context_unref(ctx);
	otel_context_unref(parent);
	otel_baggage_unref(bg);
	carrier_free(&h);
}

static void test_tc_inject(void **state)
{
	(void)state;
	struct otel_span_context sc = { .trace_flags = 1 };
	otel_propagator *tc = otel_propagator_tracecontext();
	struct carrier h = { 0 };
	otel_context *ctx;

	memcpy(sc.trace_id, TRACE_ID, 16);
	memcpy(sc.span_id, SPAN_ID, 8);
	sc.trace_state = otel_trace_state_parse("a=1,b@c=2");
	ctx = ctx_with(&sc);
	otel_propagator_inject(tc, ctx, &h, carrier_set);
	assert_int_equal(h.n, 2);
	assert_string_equal(carrier_get(&h, "traceparent"), TP);
	assert_string_equal(carrier_get(&h, "tracestate"), "a=1,b@c=2");
	otel_context_unref(ctx);
	otel_trace_state_unref(sc.trace_state);
	carrier_free(&h);

	/* no tracestate: no tracestate header */
	sc.trace_state = NULL;
	sc.trace_flags = 0;
	ctx = ctx_with(&sc);
	otel_propagator_inject(tc, ctx, &h, carrier_set);
	assert_int_equal(h.n, 1);
	assert_string_equal(carrier_get(&h, "traceparent"),
			    "00-12345678901234567890123456789012-1234567890123456-00");
	otel_context_unref(ctx);
	carrier_free(&h);
}

static void test_tc_inject_nothing_without_valid_span(void **state)
{
	(void)state;
	struct otel_span_context zero_span = { .trace_id = { 1 } };
	otel_context *invalid = ctx_with(&zero_span);
	otel_baggage *bg = otel_baggage_set(NULL, "k", "v", NULL);
	otel_context *no_span = otel_context_with_baggage(NULL, bg);
	struct carrier h = { 0 };

	otel_propagator_inject(otel_propagator_tracecontext(), invalid, &h, carrier_set);
	otel_propagator_inject(otel_propagator_tracecontext(), no_span, &h, carrier_set);
	/* NULL = the current context, which is empty here */
	otel_propagator_inject(otel_propagator_tracecontext(), NULL, &h, carrier_set);
	assert_int_equal(h.sets, 0);
	otel_context_unref(invalid);
	otel_context_unref(no_span);
	otel_baggage_unref(bg);
}

static void test_tc_inject_long_tracestate(void **state)
{
	(void)state;
	struct otel_span_context sc = { .trace_id = { 1 }, .span_id = { 1 } };
	char key[16], value[257], *want = malloc(20000);
	struct carrier h = { 0 };
	otel_context *ctx;

	/* 32 members of 256-byte values: larger than any small stack buffer */
	memset(value, 'v', 256);
	value[256] = '\0';
	want[0] = '\0';
	for (int i = 31; i >= 0; i--) {
		otel_trace_state *next;

		snprintf(key, sizeof(key), "k%02d", i);
		next = otel_trace_state_set(sc.trace_state, key, value);
		otel_trace_state_unref(sc.trace_state);
		sc.trace_state = next;
	}
	for (int i = 0; i < 32; i++)
		sprintf(want + strlen(want), "%sk%02d=%s", i ? "," : "", i, value);
	ctx = ctx_with(&sc);
	otel_propagator_inject(otel_propagator_tracecontext(), ctx, &h, carrier_set);
	assert_string_equal(carrier_get(&h, "tracestate"), want);
	otel_context_unref(ctx);
	otel_trace_state_unref(sc.trace_state);
	carrier_free(&h);
	free(want);
}

static void test_tc_round_trip_and_current(void **state)
{
	(void)state;
	otel_propagator *tc = otel_propagator_tracecontext();
	struct carrier in = { 0 }, out = { 0 };
	otel_context *ctx;
	otel_context_token tok;

	carrier_set(&in, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	carrier_set(&in, "tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	ctx = otel_propagator_extract(tc, NULL, &in, carrier_get);
	tok = otel_context_attach(ctx);
	otel_propagator_inject(tc, NULL, &out, carrier_set);
	assert_int_equal(otel_context_detach(tok), 0);
	assert_string_equal(carrier_get(&out, "traceparent"), carrier_get(&in, "traceparent"));
	assert_string_equal(carrier_get(&out, "tracestate"), carrier_get(&in, "tracestate"));
	otel_context_unref(ctx);
	carrier_free(&in);
	carrier_free(&out);
}

static void test_tc_fields(void **state)
{
	(void)state;
	const char *const *f = otel_propagator_fields(otel_propagator_tracecontext());

	assert_string_equal(f[0], "traceparent");
	assert_string_equal(f[1], "tracestate");
	assert_null(f[2]);
	f = otel_propagator_fields(otel_propagator_baggage());
	assert_string_equal(f[0], "baggage");
	assert_null(f[1]);
}

/* ---- Baggage propagator ---- */

static void test_baggage_propagator(void **state)
{
	(void)state;
	otel_propagator *bp = otel_propagator_baggage();
	otel_baggage *bg = otel_baggage_set(NULL, "user id", "a b", NULL), *b2;
	struct otel_span_context psc = { .trace_id = { 7 }, .span_id = { 7 } };
	otel_context *parent = ctx_with(&psc), *ctx, *with_bg;
	struct carrier h = { 0 };

	/* a name that is not a token cannot go out; nothing left, no header */
	with_bg = otel_context_with_baggage(NULL, bg);
	otel_propagator_inject(bp, with_bg, &h, carrier_set);
	assert_int_equal(h.sets, 0);
	otel_context_unref(with_bg);

	b2 = otel_baggage_set(bg, "user", "alice smith", "p=1");
	with_bg = otel_context_with_baggage(NULL, b2);
	otel_propagator_inject(bp, with_bg, &h, carrier_set);
	assert_string_equal(carrier_get(&h, "baggage"), "user=alice%20smith;p=1");
	otel_context_unref(with_bg);

	/* extract keeps the parent's span */
	ctx = otel_propagator_extract(bp, parent, &h, carrier_get);
	assert_string_equal(otel_baggage_get(otel_context_get_baggage(ctx), "user"), "alice smith");
	assert_int_equal(span_ctx(ctx).trace_id[0], 7);
	otel_context_unref(ctx);

	/* nothing valid: the parent, unchanged */
	carrier_set(&h, "baggage", "bad key=1");
	ctx = otel_propagator_extract(bp, parent, &h, carrier_get);
	assert_ptr_equal(ctx, parent);
	otel_context_unref(ctx);
	carrier_free(&h);
	ctx = otel_propagator_extract(bp, parent, &h, carrier_get);
	assert_ptr_equal(ctx, parent);
	otel_context_unref(ctx);

	/* no baggage and empty baggage: no header */
	otel_propagator_inject(bp, parent, &h, carrier_set);
	otel_baggage *empty = otel_baggage_remove(NULL, "x");

	with_bg = otel_context_with_baggage(NULL, empty);
	otel_propagator_inject(bp, with_bg, &h, carrier_set);
	assert_int_equal(h.sets, 0);
	otel_context_unref(with_bg);
	otel_baggage_unref(empty);
	otel_baggage_unref(bg);
	otel_baggage_unref(b2);
	otel_context_unref(parent);
}

/* ---- composite ---- */

static void test_composite(void **state)
{
	(void)state;
	otel_propagator *parts[] = { otel_propagator_tracecontext(), otel_propagator_baggage(),
				     otel_propagator_tracecontext() };
	otel_propagator *comp = otel_propagator_composite(parts, 3);
	const char *const *f = otel_propagator_fields(comp);
	struct carrier h = { 0 }, out = { 0 };
	otel_context *ctx;

	assert_non_null(comp);
	/* the union of the parts' fields, each once */
	assert_string_equal(f[0], "traceparent");
	assert_string_equal(f[1], "tracestate");
	assert_string_equal(f[2], "baggage");
	assert_null(f[3]);

	carrier_set(&h, "traceparent", TP);
	carrier_set(&h, "baggage", "k=v");
	ctx = otel_propagator_extract(comp, NULL, &h, carrier_get);
	/* later parts see the context built by earlier ones: both are kept */
	assert_memory_equal(span_ctx(ctx).trace_id, TRACE_ID, 16);
	assert_string_equal(otel_baggage_get(otel_context_get_baggage(ctx), "k"), "v");
	otel_propagator_inject(comp, ctx, &out, carrier_set);
	assert_int_equal(out.n, 2);
	assert_string_equal(carrier_get(&out, "traceparent"), TP);
	assert_string_equal(carrier_get(&out, "baggage"), "k=v");
	otel_context_unref(ctx);
	otel_propagator_free(comp);
	carrier_free(&h);
	carrier_free(&out);
}

static void test_composite_edge_cases(void **state)
{
	(void)state;
	otel_propagator *parts[] = { otel_propagator_baggage(), NULL };
	otel_propagator *empty = otel_propagator_composite(NULL, 0);
	struct carrier h = { 0 };
	otel_context *ctx;

	assert_non_null(empty);
	assert_null(otel_propagator_fields(empty)[0]);
	carrier_set(&h, "traceparent", TP);
	h.sets = 0;
	/* no parts: the context given (here the current one) comes back */
	ctx = otel_propagator_extract(empty, NULL, &h, carrier_get);
	assert_ptr_equal(ctx, otel_context_current());
	otel_context_unref(ctx);
	otel_propagator_free(empty);

	errno = 0;
	assert_null(otel_propagator_composite(parts, 2));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_propagator_composite(NULL, 1));
	assert_int_equal(errno, EINVAL);

	/* static propagators and NULL are not freed */
	otel_propagator_free(NULL);
	otel_propagator_free(otel_propagator_tracecontext());
	assert_string_equal(otel_propagator_fields(otel_propagator_tracecontext())[0],
			    "traceparent");
	/* a NULL propagator or carrier function does nothing */
	otel_propagator_inject(NULL, NULL, &h, carrier_set);
	otel_propagator_inject(otel_propagator_tracecontext(), NULL, &h, NULL);
	ctx = otel_propagator_extract(NULL, NULL, &h, carrier_get);
	assert_ptr_equal(ctx, otel_context_current());
	otel_context_unref(ctx);
	assert_int_equal(h.sets, 0);
	assert_null(otel_propagator_fields(NULL)[0]);
	carrier_free(&h);
}

/* ---- OTEL_PROPAGATORS ---- */


static int setup_log(void **state)
{
	(void)state;
	log_capture_start(OTEL_LOG_WARN);
	return 0;
}

static int teardown_log(void **state)
{
	(void)state;
	otel_set_logger(NULL, NULL, OTEL_LOG_WARN);
	unsetenv("OTEL_PROPAGATORS");
	return 0;
}

/* The fields of the propagator OTEL_PROPAGATORS=@value builds, joined by ','. */
static const char *env_fields(const char *value)
{
	static char out[128];
	otel_propagator *p;

	if (value)
		setenv("OTEL_PROPAGATORS", value, 1);
	else
		unsetenv("OTEL_PROPAGATORS");
	p = otel_propagator_from_env();
	assert_non_null(p);
	out[0] = '\0';
	for (const char *const *f = otel_propagator_fields(p); *f; f++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? "," : "",
			 *f);
	otel_propagator_free(p);
	return out;
}

static void test_env_default_and_known_names(void **state)
{
	(void)state;
	assert_string_equal(env_fields(NULL), "traceparent,tracestate,baggage");
	/* empty counts as unset */
	assert_string_equal(env_fields(""), "traceparent,tracestate,baggage");
	assert_string_equal(env_fields("tracecontext"), "traceparent,tracestate");
	assert_string_equal(env_fields("baggage"), "baggage");
	assert_string_equal(env_fields("baggage,tracecontext"), "baggage,traceparent,tracestate");
	assert_string_equal(env_fields(" TraceContext ,\tBAGGAGE "),
			    "traceparent,tracestate,baggage");
	assert_string_equal(env_fields("tracecontext,,tracecontext"), "traceparent,tracestate");
	assert_string_equal(env_fields("none"), "");
	assert_int_equal(log_warnings, 0);
}

static void test_env_none_with_others(void **state)
{
	(void)state;
	assert_string_equal(env_fields("none,tracecontext"), "");
	assert_int_equal(log_warnings, 1);
	assert_non_null(strstr(log_text, "none"));
}

static void test_env_unsupported_warns_once(void **state)
{
	(void)state;
	assert_string_equal(env_fields("b3,tracecontext"), "traceparent,tracestate");
	assert_string_equal(env_fields("b3"), "");
	assert_string_equal(env_fields("jaeger, xray ,ottrace,b3multi"), "");
	/* one warning per name for the life of the process */
	assert_string_equal(env_fields("xray"), "");
	assert_int_equal(log_warnings, 5);
	for (const char *const *n = (const char *const[]){ "\"b3\"", "\"b3multi\"", "\"jaeger\"",
							   "\"xray\"", "\"ottrace\"", NULL };
	     *n; n++)
		if (!strstr(log_text, *n) || strstr(strstr(log_text, *n) + 1, *n))
			fail_msg("expected exactly one warning about %s in:\n%s", *n, log_text);
	assert_non_null(strstr(log_text, "not supported"));
}

static void test_env_unknown_names(void **state)
{
	(void)state;
	assert_string_equal(env_fields("foo,baggage"), "baggage");
	assert_int_equal(log_warnings, 1);
	assert_non_null(strstr(log_text, "unknown propagator \"foo\""));
	assert_string_equal(env_fields("nope"), "");
}

static void test_env_propagator_works(void **state)
{
	(void)state;
	otel_propagator *p;
	struct carrier h = { 0 };
	otel_context *ctx;

	unsetenv("OTEL_PROPAGATORS");
	p = otel_propagator_from_env();
	carrier_set(&h, "traceparent", TP);
	carrier_set(&h, "baggage", "k=v");
	ctx = otel_propagator_extract(p, NULL, &h, carrier_get);
	assert_memory_equal(span_ctx(ctx).trace_id, TRACE_ID, 16);
	assert_string_equal(otel_baggage_get(otel_context_get_baggage(ctx), "k"), "v");
	otel_context_unref(ctx);
	otel_propagator_free(p);

	/* "none": extraction is a no-op, inject writes nothing */
	setenv("OTEL_PROPAGATORS", "none", 1);
	p = otel_propagator_from_env();
	ctx = otel_propagator_extract(p, NULL, &h, carrier_get);
	assert_ptr_equal(ctx, otel_context_current());
	otel_context_unref(ctx);
	h.sets = 0;
	otel_propagator_inject(p, NULL, &h, carrier_set);
	assert_int_equal(h.sets, 0);
	otel_propagator_free(p);
	carrier_free(&h);
}

/* ---- global ---- */

static void test_global(void **state)
{
	(void)state;
	otel_propagator *noop = otel_propagator_global();
	struct carrier h = { 0 };
	otel_context *ctx;

	/* a no-op until set */
	assert_non_null(noop);
	assert_null(otel_propagator_fields(noop)[0]);
	carrier_set(&h, "traceparent", TP);
	ctx = otel_propagator_extract(noop, NULL, &h, carrier_get);
	assert_ptr_equal(ctx, otel_context_current());
	otel_context_unref(ctx);

	otel_propagator_set_global(otel_propagator_tracecontext());
	assert_ptr_equal(otel_propagator_global(), otel_propagator_tracecontext());
	ctx = otel_propagator_extract(otel_propagator_global(), NULL, &h, carrier_get);
	assert_memory_equal(span_ctx(ctx).span_id, SPAN_ID, 8);
	otel_context_unref(ctx);

	otel_propagator_set_global(NULL);
	assert_ptr_equal(otel_propagator_global(), noop);
	carrier_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traceparent_valid),
		cmocka_unit_test(test_traceparent_invalid),
		cmocka_unit_test(test_traceparent_format),
		cmocka_unit_test(test_tc_extract),
		cmocka_unit_test(test_tc_extract_ows_around_traceparent),
		cmocka_unit_test(test_tc_extract_invalid_keeps_parent),
		cmocka_unit_test(test_tc_extract_keeps_parent_baggage),
		cmocka_unit_test(test_tc_inject),
		cmocka_unit_test(test_tc_inject_nothing_without_valid_span),
		cmocka_unit_test(test_tc_inject_long_tracestate),
		cmocka_unit_test(test_tc_round_trip_and_current),
		cmocka_unit_test(test_tc_fields),
		cmocka_unit_test(test_baggage_propagator),
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_composite_edge_cases),
		cmocka_unit_test_setup_teardown(test_env_default_and_known_names, setup_log,
						teardown_log),
		cmocka_unit_test_setup_teardown(test_env_none_with_others, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_env_unsupported_warns_once, setup_log,
						teardown_log),
		cmocka_unit_test_setup_teardown(test_env_unknown_names, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_env_propagator_works, setup_log, teardown_log),
		cmocka_unit_test(test_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
