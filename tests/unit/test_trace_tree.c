// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the trace-tree console exporter (userspace/trace_tree.c), fed by the real SDK: two
 * tracer providers (quote-service and rates-service, like two traced services) sharing one
 * Simple processor, counting ids and explicit timestamps so that the text is exact, and a fake
 * monotonic clock for the timed rules. Covered: a tree across two resources with children in
 * start order, ERROR spans with exceptions and events, a late span, traces without a root
 * printed at flush and after the root wait, the remote-parent settle rule (a remote parent that
 * is on this node joins its trace), the span cap, cut parent cycles and deep nesting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "trace_tree.h"

#define T0 1700000000000000000ull
#define MS 1000000ull

struct fx {
	FILE *f;
	char *text;
	size_t len;
	size_t seen; /* text checked so far */
	struct otel_span_exporter *exp; /* owned by proc */
	otel_span_processor *proc;
	otel_tracer_provider *quote_tp, *rates_tp;
	otel_tracer *quote, *rates;
	struct otel_id_generator ids;
	uint64_t now; /* the fake monotonic clock */
	uint8_t next_trace, next_span;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static void next_trace_id(void *ctx, uint8_t out[16])
{
	memset(out, 0, 16);
	out[15] = ++((struct fx *)ctx)->next_trace;
}

static void next_span_id(void *ctx, uint8_t out[8])
{
	memset(out, 0, 8);
	out[7] = ++((struct fx *)ctx)->next_span;
}

static otel_tracer_provider *provider(struct fx *fx, const char *service)
{
	struct otel_attribute attrs[] = { { .key = "service.name",
					    .value = otel_value_str(service) } };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	OTEL_OPTS(otel_tracer_provider_opts, o, .resource = res,
		  .sampler = otel_sampler_always_on(), .id_generator = &fx->ids,
		  .processors = &fx->proc, .n_processors = 1);
	otel_tracer_provider *tp = otel_tracer_provider_new(&o);

	assert_non_null(tp);
	otel_resource_unref(res);
	return tp;
}

static struct fx *fx_new(const struct kspan_trace_tree_opts *opts)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct kspan_trace_tree_opts o = { 0 };

	assert_non_null(fx);
	if (opts)
		o = *opts;
	o.now_ns = fake_now;
	o.now_ctx = fx;
	fx->f = open_memstream(&fx->text, &fx->len);
	assert_non_null(fx->f);
	fx->exp = kspan_trace_tree_exporter_new(fx->f, &o);
	assert_non_null(fx->exp);
	fx->proc = otel_simple_span_processor_new(fx->exp);
	assert_non_null(fx->proc);
	fx->ids = (struct otel_id_generator){ next_trace_id, next_span_id, fx };
	fx->quote_tp = provider(fx, "quote-service");
	fx->rates_tp = provider(fx, "rates-service");
	fx->quote = otel_tracer_provider_get_tracer(fx->quote_tp, "test", NULL, NULL);
	fx->rates = otel_tracer_provider_get_tracer(fx->rates_tp, "test", NULL, NULL);
	return fx;
}

static void fx_free(struct fx *fx)
{
	otel_tracer_provider_free(fx->quote_tp);
	otel_tracer_provider_free(fx->rates_tp);
	otel_span_processor_unref(fx->proc); /* shuts the exporter down: prints what is left */
	fclose(fx->f);
	free(fx->text);
	free(fx);
}

/* The text written since the last check must be exactly @want. */
static void expect(struct fx *fx, const char *want)
{
	const char *got;

	fflush(fx->f);
	got = fx->text ? fx->text + fx->seen : "";
	if (strcmp(got, want))
		fail_msg("trace tree output:\n%s\n--- expected:\n%s", got, want);
	fx->seen = fx->len;
}

static otel_span *start_in(otel_tracer *t, const char *name, enum otel_span_kind kind,
			   otel_context *parent, uint64_t at_us)
{
	OTEL_OPTS(otel_span_start_opts, o, .kind = kind, .parent = parent, .root = !parent,
		  .start_time_ns = T0 + at_us * 1000);

	return otel_tracer_start_span(t, name, &o);
}

/* A span at @at_us (µs after T0) under @parent (NULL: a new trace). */
static otel_span *start(otel_tracer *t, const char *name, enum otel_span_kind kind,
			otel_span *parent, uint64_t at_us)
{
	otel_context *ctx = parent ? otel_context_with_span(NULL, parent) : NULL;
	otel_span *s = start_in(t, name, kind, ctx, at_us);

	otel_context_unref(ctx);
	return s;
}

/* A span under the span context @sc (e.g. a remote parent). */
static otel_span *start_under(otel_tracer *t, const char *name, enum otel_span_kind kind,
			      const struct otel_span_context *sc, uint64_t at_us)
{
	otel_span *wrap = otel_span_wrap(sc);
	otel_context *ctx = otel_context_with_span(NULL, wrap);
	otel_span *s = start_in(t, name, kind, ctx, at_us);

	otel_context_unref(ctx);
	otel_span_unref(wrap);
	return s;
}

static void end(otel_span *s, uint64_t at_us)
{
	otel_span_end(s, T0 + at_us * 1000);
}

static void end_http(otel_span *s, int status, uint64_t at_us)
{
	otel_span_set_attribute_int(s, "http.response.status_code", status);
	end(s, at_us);
}

static void add_exception(otel_span *s, const char *type, const char *msg, uint64_t at_us)
{
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("exception.type", type),
					  OTEL_ATTR_STR("exception.message", msg) };

	otel_span_add_event(s, "exception", T0 + at_us * 1000, attrs, 2);
}

static struct kspan_trace_tree_stats stats(struct fx *fx)
{
	struct kspan_trace_tree_stats st;

	assert_int_equal(kspan_trace_tree_stats(fx->exp, &st), 0);
	return st;
}

/* The demo's request: 9 spans, two services, depth 5; started out of order. */
static void test_tree_across_two_services(void **state)
{
	struct fx *fx = fx_new(NULL);
	otel_span *root, *discount, *load, *compute, *client, *server, *lookup, *tiers, *cents;

	(void)state;
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	discount = start(fx->quote, "apply discount", OTEL_SPAN_KIND_INTERNAL, root, 1600);
	load = start(fx->quote, "load pricing factors", OTEL_SPAN_KIND_INTERNAL, root, 50);
	end(load, 150);
	compute = start(fx->quote, "compute price", OTEL_SPAN_KIND_INTERNAL, root, 200);
	client = start(fx->quote, "GET /rates/{sku}", OTEL_SPAN_KIND_CLIENT, compute, 300);
	server = start(fx->rates, "GET /rates/{sku}", OTEL_SPAN_KIND_SERVER, client, 400);
	lookup = start(fx->rates, "lookup rate", OTEL_SPAN_KIND_INTERNAL, server, 500);
	end(lookup, 600);
	end_http(server, 200, 1100);
	end_http(client, 200, 1200);
	tiers = start(fx->quote, "apply volume tiers", OTEL_SPAN_KIND_INTERNAL, compute, 1250);
	cents = start(fx->quote, "round to cents", OTEL_SPAN_KIND_INTERNAL, tiers, 1300);
	end(cents, 1350);
	end(tiers, 1400);
	end(compute, 1500);
	otel_span_add_event(discount, "discount looked up", T0 + 1700 * 1000, NULL, 0);
	end(discount, 1900);
	expect(fx, ""); /* nothing before the root */
	end_http(root, 200, 2000);
	expect(fx, "trace 00000000000000000000000000000001 2.000 ms, 9 spans\n"
		   "└─ SERVER GET /quote/{sku} [quote-service] 2.000 ms @+0.000 ms http 200\n"
		   "   ├─ INTERNAL load pricing factors 0.100 ms @+0.050 ms\n"
		   "   ├─ INTERNAL compute price 1.300 ms @+0.200 ms\n"
		   "   │  ├─ CLIENT GET /rates/{sku} 0.900 ms @+0.300 ms http 200\n"
		   "   │  │  └─ SERVER GET /rates/{sku} [rates-service] 0.700 ms @+0.400 ms "
		   "http 200\n"
		   "   │  │     └─ INTERNAL lookup rate 0.100 ms @+0.500 ms\n"
		   "   │  └─ INTERNAL apply volume tiers 0.150 ms @+1.250 ms\n"
		   "   │     └─ INTERNAL round to cents 0.050 ms @+1.300 ms\n"
		   "   └─ INTERNAL apply discount 0.300 ms @+1.600 ms\n"
		   "         • discount looked up @+1.700 ms\n");
	assert_int_equal(stats(fx).traces, 1);
	assert_int_equal(stats(fx).partial, 0);
	fx_free(fx);
}

/* ERROR: the description, else the exception's message; events above a span's children. */
static void test_error_with_exception(void **state)
{
	struct fx *fx = fx_new(NULL);
	otel_span *root, *discount, *read;

	(void)state;
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	discount = start(fx->quote, "apply discount", OTEL_SPAN_KIND_INTERNAL, root, 100);
	otel_span_add_event(discount, "discount looked up", T0 + 110 * 1000, NULL, 0);
	add_exception(discount, "DiscountError", "no discount table for sku-err", 120);
	otel_span_set_status(discount, OTEL_STATUS_ERROR, "discount lookup failed");
	read = start(fx->quote, "read \"table\"\n", OTEL_SPAN_KIND_INTERNAL, discount, 130);
	add_exception(read, "IOError", "table\tmissing", 140);
	otel_span_set_status(read, OTEL_STATUS_ERROR, NULL);
	end(read, 150);
	end(discount, 200);
	otel_span_set_status(root, OTEL_STATUS_ERROR, NULL);
	end_http(root, 502, 300);
	expect(fx,
	       "trace 00000000000000000000000000000001 0.300 ms, 3 spans\n"
	       "└─ SERVER GET /quote/{sku} [quote-service] 0.300 ms @+0.000 ms http 502 ERROR\n"
	       "   └─ INTERNAL apply discount 0.100 ms @+0.100 ms "
	       "ERROR \"discount lookup failed\"\n"
	       "      │  • discount looked up @+0.110 ms\n"
	       "      │  • exception DiscountError: no discount table for sku-err @+0.120 ms\n"
	       "      └─ INTERNAL read \\\"table\\\"\\n 0.020 ms @+0.130 ms "
	       "ERROR \"table\\tmissing\"\n"
	       "            • exception IOError: table\\tmissing @+0.140 ms\n");
	fx_free(fx);
}

/* A span that ends after its trace was printed: a tree of its own, offsets from the trace's. */
static void test_late_span(void **state)
{
	struct fx *fx = fx_new(NULL);
	otel_span *root, *async;

	(void)state;
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	async = start(fx->quote, "refresh cache", OTEL_SPAN_KIND_INTERNAL, root, 900);
	end(root, 1000);
	expect(fx, "trace 00000000000000000000000000000001 1.000 ms, 1 span\n"
		   "└─ SERVER GET /quote/{sku} [quote-service] 1.000 ms @+0.000 ms\n");
	end(async, 1500);
	expect(fx, "trace 00000000000000000000000000000001 0.600 ms, 1 span "
		   "(late: its trace was printed already)\n"
		   "└─ INTERNAL refresh cache [quote-service] 0.600 ms @+0.900 ms "
		   "(parent 0000000000000001)\n");
	assert_int_equal(stats(fx).late_spans, 1);
	assert_int_equal(stats(fx).traces, 1);
	fx_free(fx);
}

/* force_flush prints what waits for its root as partial; the root, when it comes, is late. */
static void test_no_root_at_flush(void **state)
{
	struct fx *fx = fx_new(NULL);
	otel_span *root, *child;

	(void)state;
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	child = start(fx->quote, "load pricing factors", OTEL_SPAN_KIND_INTERNAL, root, 10);
	end(child, 20);
	expect(fx, "");
	assert_int_equal(otel_span_processor_force_flush(fx->proc, 1000), 0);
	expect(fx, "trace 00000000000000000000000000000001 0.010 ms, 1 span "
		   "(partial: flushed before its root span)\n"
		   "└─ INTERNAL load pricing factors [quote-service] 0.010 ms @+0.000 ms "
		   "(parent 0000000000000001)\n");
	end(root, 100);
	expect(fx, "trace 00000000000000000000000000000001 0.100 ms, 1 span "
		   "(late: its trace was printed already)\n"
		   "└─ SERVER GET /quote/{sku} [quote-service] 0.100 ms @-0.010 ms\n");
	assert_int_equal(stats(fx).partial, 1);
	assert_int_equal(stats(fx).late_spans, 1);
	fx_free(fx);
}

/* Without a root, a trace is printed root_wait_ms after its first span; shutdown prints too. */
static void test_no_root_after_wait_and_at_shutdown(void **state)
{
	struct fx *fx = fx_new(NULL);
	otel_span *root, *child, *other_root, *other;

	(void)state;
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	child = start(fx->quote, "compute price", OTEL_SPAN_KIND_INTERNAL, root, 10);
	fx->now = 5 * MS;
	end(child, 30);
	fx->now = 10004 * MS;
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	expect(fx, "");
	fx->now = 10005 * MS;
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	expect(fx, "trace 00000000000000000000000000000001 0.020 ms, 1 span "
		   "(partial: no root span after 10 s)\n"
		   "└─ INTERNAL compute price [quote-service] 0.020 ms @+0.000 ms "
		   "(parent 0000000000000001)\n");

	other_root = start(fx->quote, "GET /health", OTEL_SPAN_KIND_SERVER, NULL, 0);
	other = start(fx->quote, "check", OTEL_SPAN_KIND_INTERNAL, other_root, 1);
	end(other, 2);
	expect(fx, "");
	assert_int_equal(otel_span_processor_shutdown(fx->proc, 1000), 0);
	expect(fx, "trace 00000000000000000000000000000002 0.001 ms, 1 span "
		   "(partial: flushed before its root span)\n"
		   "└─ INTERNAL check [quote-service] 0.001 ms @+0.000 ms "
		   "(parent 0000000000000003)\n");
	assert_int_equal(stats(fx).partial, 2);
	/* after shutdown, nothing is exported or printed */
	end(root, 40);
	end(other_root, 3);
	expect(fx, "");
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	fx_free(fx);
}

/*
 * A span with a remote parent is printed once its trace has been quiet for remote_settle_ms;
 * when the "remote" parent is a span of this node that arrives meanwhile, the trace waits for
 * its real root instead.
 */
static void test_remote_parent_settles(void **state)
{
	struct fx *fx = fx_new(&(struct kspan_trace_tree_opts){ .remote_settle_ms = 1000 });
	struct otel_span_context caller = { .trace_id = { 0xaa, [15] = 0x01 },
					    .span_id = { [7] = 0xbb },
					    .trace_flags = OTEL_TRACE_FLAG_SAMPLED,
					    .is_remote = true };
	struct otel_span_context sc;
	otel_span *server, *root, *client;

	(void)state;
	server = start_under(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, &caller, 0);
	fx->now = 100 * MS;
	end_http(server, 200, 100);
	fx->now = 1099 * MS;
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	expect(fx, "");
	fx->now = 1100 * MS;
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	expect(fx, "trace aa000000000000000000000000000001 0.100 ms, 1 span\n"
		   "└─ SERVER GET /quote/{sku} [quote-service] 0.100 ms @+0.000 ms http 200 "
		   "(remote parent 00000000000000bb)\n");

	/* the caller is traced here too: its CLIENT span arrives after the server's */
	root = start(fx->quote, "GET /quote/{sku}", OTEL_SPAN_KIND_SERVER, NULL, 0);
	client = start(fx->quote, "GET /rates/{sku}", OTEL_SPAN_KIND_CLIENT, root, 10);
	otel_span_get_context(client, &sc);
	sc.is_remote = true;
	server = start_under(fx->rates, "GET /rates/{sku}", OTEL_SPAN_KIND_SERVER, &sc, 20);
	fx->now = 2000 * MS;
	end_http(server, 200, 80);
	fx->now = 2500 * MS;
	end_http(client, 200, 90);
	fx->now = 3500 * MS;
	assert_int_equal(kspan_trace_tree_expire(fx->exp), 0);
	expect(fx, "");
	end(root, 100);
	expect(fx,
	       "trace 00000000000000000000000000000001 0.100 ms, 3 spans\n"
	       "└─ SERVER GET /quote/{sku} [quote-service] 0.100 ms @+0.000 ms\n"
	       "   └─ CLIENT GET /rates/{sku} 0.080 ms @+0.010 ms http 200\n"
	       "      └─ SERVER GET /rates/{sku} [rates-service] 0.060 ms @+0.020 ms http 200\n");
	assert_int_equal(stats(fx).traces, 2);
	assert_int_equal(stats(fx).partial, 0);
	fx_free(fx);
}

/*
 * With room for 2 spans, a third pushes the oldest open trace out as partial; with 2 printed
 * ids remembered, the oldest is forgotten, so its root then makes a trace of its own while the
 * root of a remembered one is late.
 */
static void test_memory_cap(void **state)
{
	struct fx *fx =
		fx_new(&(struct kspan_trace_tree_opts){ .max_spans = 2, .max_remembered = 2 });
	otel_span *roots[3], *step;

	(void)state;
	for (int i = 0; i < 3; i++) {
		roots[i] = start(fx->quote, "GET /health", OTEL_SPAN_KIND_SERVER, NULL, 0);
		step = start(fx->quote, "step", OTEL_SPAN_KIND_INTERNAL, roots[i], 10);
		end(step, 20);
		expect(fx, i < 2 ? "" :
				   "trace 00000000000000000000000000000001 0.010 ms, 1 span "
				   "(partial: buffer full)\n"
				   "└─ INTERNAL step [quote-service] 0.010 ms @+0.000 ms "
				   "(parent 0000000000000001)\n");
	}
	assert_int_equal(stats(fx).evicted, 1);
	/* the root of trace 3 needs room too: trace 2 goes */
	end(roots[2], 30);
	expect(fx, "trace 00000000000000000000000000000002 0.010 ms, 1 span "
		   "(partial: buffer full)\n"
		   "└─ INTERNAL step [quote-service] 0.010 ms @+0.000 ms "
		   "(parent 0000000000000003)\n"
		   "trace 00000000000000000000000000000003 0.030 ms, 2 spans\n"
		   "└─ SERVER GET /health [quote-service] 0.030 ms @+0.000 ms\n"
		   "   └─ INTERNAL step 0.010 ms @+0.010 ms\n");
	end(roots[1], 30);
	expect(fx, "trace 00000000000000000000000000000002 0.030 ms, 1 span "
		   "(late: its trace was printed already)\n"
		   "└─ SERVER GET /health [quote-service] 0.030 ms @-0.010 ms\n");
	/* trace 1 was forgotten (2 and 3 are remembered): its root is not late */
	end(roots[0], 30);
	expect(fx, "trace 00000000000000000000000000000001 0.030 ms, 1 span\n"
		   "└─ SERVER GET /health [quote-service] 0.030 ms @+0.000 ms\n");
	assert_int_equal(stats(fx).traces, 2);
	assert_int_equal(stats(fx).partial, 2);
	assert_int_equal(stats(fx).evicted, 2);
	assert_int_equal(stats(fx).late_spans, 1);
	fx_free(fx);
}

/* Malformed parents: a cycle is cut where it closes; each span is printed once. */
static void test_parent_cycle(void **state)
{
	struct fx *fx = fx_new(NULL);
	struct otel_span_context p = { .trace_id = { 0x77 }, .trace_flags = 1 };
	otel_span *a, *b;

	(void)state;
	p.span_id[7] = 2; /* b's id: a is the first span made, b the second */
	a = start_under(fx->quote, "a", OTEL_SPAN_KIND_INTERNAL, &p, 0);
	p.span_id[7] = 1;
	b = start_under(fx->quote, "b", OTEL_SPAN_KIND_INTERNAL, &p, 10);
	end(b, 40);
	end(a, 50);
	assert_int_equal(otel_span_processor_force_flush(fx->proc, 1000), 0);
	expect(fx, "trace 77000000000000000000000000000000 0.050 ms, 2 spans "
		   "(partial: flushed before its root span)\n"
		   "└─ INTERNAL b [quote-service] 0.030 ms @+0.010 ms (parent 0000000000000001)\n"
		   "   └─ INTERNAL a 0.050 ms @+0.000 ms\n");
	fx_free(fx);
}

/* Past 24 levels the lines stop moving right and say how much deeper they are. */
static void test_deep_nesting(void **state)
{
	struct fx *fx = fx_new(NULL);
	enum { DEPTH = 27 };
	otel_span *spans[DEPTH];
	char want[8192], name[16];
	size_t len;
	int d;

	(void)state;
	for (d = 0; d < DEPTH; d++) {
		snprintf(name, sizeof(name), "d%d", d);
		spans[d] = start(fx->quote, name, OTEL_SPAN_KIND_INTERNAL, d ? spans[d - 1] : NULL,
				 (uint64_t)d);
	}
	for (d = DEPTH - 1; d >= 0; d--)
		end(spans[d], 100 - (uint64_t)d);
	len = (size_t)snprintf(want, sizeof(want),
			       "trace 00000000000000000000000000000001 0.100 ms, %d spans\n",
			       DEPTH);
	for (d = 0; d < DEPTH; d++) {
		for (int k = 0; k < d && k < 24; k++)
			len += (size_t)snprintf(want + len, sizeof(want) - len, "   ");
		if (d > 24)
			len += (size_t)snprintf(want + len, sizeof(want) - len, "+%d ", d - 24);
		len += (size_t)snprintf(want + len, sizeof(want) - len,
					"└─ INTERNAL d%d%s 0.%03d ms @+0.%03d ms\n", d,
					d ? "" : " [quote-service]", 100 - 2 * d, d);
	}
	expect(fx, want);
	fx_free(fx);
}

static void test_other_exporter_refused(void **state)
{
	struct otel_span_exporter *mem = otel_memory_exporter_new();
	struct kspan_trace_tree_stats st;

	(void)state;
	assert_int_equal(kspan_trace_tree_expire(mem), -EINVAL);
	assert_int_equal(kspan_trace_tree_stats(mem, &st), -EINVAL);
	assert_int_equal(kspan_trace_tree_expire(NULL), -EINVAL);
	otel_span_exporter_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_across_two_services),
		cmocka_unit_test(test_error_with_exception),
		cmocka_unit_test(test_late_span),
		cmocka_unit_test(test_no_root_at_flush),
		cmocka_unit_test(test_no_root_after_wait_and_at_shutdown),
		cmocka_unit_test(test_remote_parent_settles),
		cmocka_unit_test(test_memory_cap),
		cmocka_unit_test(test_parent_cycle),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_other_exporter_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
