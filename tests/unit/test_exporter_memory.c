// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the in-memory exporter: what it keeps (order, count, get, find),
 * reset, shutdown (later exports fail, kept spans stay), that it holds its
 * own references (spans outlive the provider until reset/free; ASan's leak
 * check proves they are released), and rejecting other exporters.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "collector.h"

/* A provider exporting to @exp through a simple processor (which takes the exporter). */
static otel_tracer_provider *provider_with(struct otel_span_exporter *exp)
{
	otel_span_processor *p = otel_simple_span_processor_new(exp);
	otel_resource *res = otel_resource_new(NULL, 0, NULL);
	otel_tracer_provider *tp;

	assert_non_null(p);
	tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = otel_sampler_always_on(),
		.processors = &p,
		.n_processors = 1,
	});
	assert_non_null(tp);
	otel_span_processor_unref(p); /* the provider holds its own reference */
	otel_resource_unref(res);
	return tp;
}

static void end_span(otel_tracer *t, const char *name)
{
	otel_span_end(otel_tracer_start_span(t, name, NULL), 0);
}

static void test_keeps_spans_in_order(void **state)
{
	struct otel_span_exporter *exp = otel_memory_exporter_new();
	otel_tracer_provider *tp;
	otel_tracer *t;

	(void)state;
	assert_non_null(exp);
	tp = provider_with(exp);
	t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	assert_int_equal(otel_memory_exporter_count(exp), 0);
	end_span(t, "a");
	end_span(t, "b");
	end_span(t, "a");
	assert_int_equal(otel_memory_exporter_count(exp), 3);
	assert_string_equal(otel_memory_exporter_get(exp, 0)->name, "a");
	assert_string_equal(otel_memory_exporter_get(exp, 1)->name, "b");
	assert_string_equal(otel_memory_exporter_get(exp, 2)->name, "a");
	assert_null(otel_memory_exporter_get(exp, 3));
	/* find gives the first of equal names. */
	assert_ptr_equal(otel_memory_exporter_find(exp, "a"), otel_memory_exporter_get(exp, 0));
	assert_ptr_equal(otel_memory_exporter_find(exp, "b"), otel_memory_exporter_get(exp, 1));
	assert_null(otel_memory_exporter_find(exp, "c"));
	assert_null(otel_memory_exporter_find(exp, NULL));

	otel_memory_exporter_reset(exp);
	assert_int_equal(otel_memory_exporter_count(exp), 0);
	assert_null(otel_memory_exporter_get(exp, 0));
	end_span(t, "c");
	assert_int_equal(otel_memory_exporter_count(exp), 1);
	assert_string_equal(otel_memory_exporter_get(exp, 0)->name, "c");
	otel_tracer_provider_free(tp); /* frees the exporter and its kept span */
}

/* Growth past the initial capacity keeps every span. */
static void test_many_spans(void **state)
{
	struct otel_span_exporter *exp = otel_memory_exporter_new();
	otel_tracer_provider *tp = provider_with(exp);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	char name[16];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		end_span(t, name);
	}
	assert_int_equal(otel_memory_exporter_count(exp), 100);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_string_equal(otel_memory_exporter_get(exp, (size_t)i)->name, name);
	}
	otel_tracer_provider_free(tp);
}

/* Driven directly (no processor): its own references outlive the producer's. */
static void test_direct_export_and_shutdown(void **state)
{
	struct collector col;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	struct otel_span_exporter *exp = otel_memory_exporter_new();
	const struct otel_span_data *batch[2];

	(void)state;
	end_span(t, "x");
	end_span(t, "y");
	assert_int_equal(col.n, 2);
	batch[0] = col.spans[0];
	batch[1] = col.spans[1];
	assert_int_equal(exp->ops->export_spans(exp, batch, 2, UINT64_MAX), OTEL_EXPORT_SUCCESS);
	assert_int_equal(exp->ops->force_flush(exp, UINT64_MAX), 0);
	/* The collector drops its references: the exporter's keep the data alive. */
	collector_free(&col, tp);
	assert_string_equal(otel_memory_exporter_get(exp, 0)->name, "x");
	assert_string_equal(otel_memory_exporter_get(exp, 1)->name, "y");

	assert_int_equal(exp->ops->shutdown(exp, UINT64_MAX), 0);
	assert_int_equal(exp->ops->shutdown(exp, UINT64_MAX), 0); /* idempotent */
	/* The spec: export after shutdown fails; what was kept is still readable. */
	assert_int_equal(exp->ops->export_spans(exp, batch, 0, UINT64_MAX), OTEL_EXPORT_FAILURE);
	assert_int_equal(otel_memory_exporter_count(exp), 2);
	assert_string_equal(otel_memory_exporter_find(exp, "y")->name, "y");
	otel_span_exporter_free(exp); /* releases both: ASan reports a leak otherwise */
}

static void test_rejects_other_exporters(void **state)
{
	struct otel_span_exporter *console = otel_console_exporter_new(NULL);

	(void)state;
	assert_non_null(console);
	errno = 0;
	assert_int_equal(otel_memory_exporter_count(console), 0);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_memory_exporter_get(console, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(otel_memory_exporter_find(console, "x"));
	otel_memory_exporter_reset(console); /* ignored */
	assert_int_equal(otel_memory_exporter_count(NULL), 0);
	otel_memory_exporter_reset(NULL);
	otel_span_exporter_free(console);
	otel_span_exporter_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_spans_in_order),
		cmocka_unit_test(test_many_spans),
		cmocka_unit_test(test_direct_export_and_shutdown),
		cmocka_unit_test(test_rejects_other_exporters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
