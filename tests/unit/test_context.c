// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of contexts: attach/detach nesting and misuse, derived contexts
 * keeping span and baggage, and the scope macro ending spans on every exit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <otel/propagation.h>
#include <otel/sdk.h>
#include "collector.h"

static struct collector col;

static void test_attach_detach_nesting(void **state)
{
	(void)state;
	struct otel_span_context a = { .trace_id = { 1 }, .span_id = { 1 } };
	struct otel_span_context b = { .trace_id = { 2 }, .span_id = { 2 } };
	otel_span *sa = otel_span_wrap(&a), *sb = otel_span_wrap(&b);
	otel_context *ca = otel_context_with_span(NULL, sa);
	otel_context *cb = otel_context_with_span(ca, sb);

	assert_null(otel_span_current());
	otel_context_token t1 = otel_context_attach(ca);
	assert_ptr_equal(otel_span_current(), sa);
	otel_context_token t2 = otel_context_attach(cb);
	assert_ptr_equal(otel_span_current(), sb);
	assert_ptr_equal(otel_context_current(), cb);
	assert_int_equal(otel_context_detach(t2), 0);
	assert_ptr_equal(otel_span_current(), sa);
	assert_int_equal(otel_context_detach(t1), 0);
	assert_null(otel_span_current());

	/* Out of order: reported, and the context before the token is restored. */
	t1 = otel_context_attach(ca);
	t2 = otel_context_attach(cb);
	assert_int_equal(otel_context_detach(t1), -EINVAL);
	assert_null(otel_span_current());
	assert_int_equal(otel_context_detach(t2), -EINVAL);
	assert_ptr_equal(otel_span_current(), sa);
	otel_context_detach((otel_context_token){ .prev = NULL, .depth = 1 });
	assert_null(otel_span_current());

	otel_context_unref(ca);
	otel_context_unref(cb);
	otel_span_unref(sa);
	otel_span_unref(sb);
}

static void test_span_and_baggage_kept_when_deriving(void **state)
{
	(void)state;
	struct otel_span_context a = { .trace_id = { 1 }, .span_id = { 1 } };
	otel_span *sa = otel_span_wrap(&a);
	otel_baggage *bg = otel_baggage_set(NULL, "user", "alice", NULL);
	otel_context *c1 = otel_context_with_baggage(NULL, bg);
	otel_context *c2 = otel_context_with_span(c1, sa);
	otel_context *c3 = otel_context_with_baggage(c2, NULL);

	assert_ptr_equal(otel_context_get_baggage(c2), bg);
	assert_ptr_equal(otel_context_get_span(c2), sa);
	assert_null(otel_context_get_baggage(c3));
	assert_ptr_equal(otel_context_get_span(c3), sa);
	assert_null(otel_context_get_span(c1));
	otel_baggage_unref(bg);
	otel_span_unref(sa);
	/* The contexts keep their own references. */
	assert_string_equal(otel_baggage_get(otel_context_get_baggage(c2), "user"), "alice");
	otel_context_unref(c1);
	otel_context_unref(c2);
	otel_context_unref(c3);
}

static int scoped_work(otel_tracer *t, int fail)
{
	OTEL_SPAN_SCOPE(span, t, "scoped", NULL);

	otel_span_set_attribute_int(span, "fail", fail);
	if (fail)
		return -1; /* early return: the scope still ends the span */
	{
		OTEL_SPAN_SCOPE(inner, t, "inner", NULL);
		(void)inner;
	}
	return 0;
}

static void test_scope_macro(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);

	assert_int_equal(scoped_work(t, 1), -1);
	assert_int_equal(scoped_work(t, 0), 0);
	assert_null(otel_span_current());
	assert_int_equal(col.n, 3);
	assert_string_equal(col.spans[0]->name, "scoped");
	assert_string_equal(col.spans[1]->name, "inner");
	assert_string_equal(col.spans[2]->name, "scoped");
	assert_memory_equal(col.spans[1]->parent_span_id, col.spans[2]->context.span_id, 8);
	assert_memory_equal(col.spans[1]->context.trace_id, col.spans[2]->context.trace_id, 16);
	collector_free(&col, tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_detach_nesting),
		cmocka_unit_test(test_span_and_baggage_kept_when_deriving),
		cmocka_unit_test(test_scope_macro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
