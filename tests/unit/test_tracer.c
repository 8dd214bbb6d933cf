// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of tracer providers and span start: parent resolution (current,
 * explicit, remote, root), sampling outcomes, the no-op API with no SDK, proxy
 * tracers bound later, shutdown, custom id generators, fork-safe ids and
 * concurrent use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "collector.h"
#include "span.h"

static struct collector col;

static void test_tracer_identity(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *a = otel_tracer_provider_get_tracer(tp, "lib", "1", NULL);
	otel_tracer *b = otel_tracer_provider_get_tracer(tp, "lib", "1", NULL);
	otel_tracer *c = otel_tracer_provider_get_tracer(tp, "lib", "2", NULL);
	otel_tracer *d = otel_tracer_provider_get_tracer(tp, "lib", "1", "https://s/1.26.0");

	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_ptr_not_equal(a, d);
	assert_true(otel_tracer_enabled(a));
	collector_free(&col, tp);
}

static void test_parent_from_current_and_explicit(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);
	struct otel_span_context pc, cc, rc;

	otel_span *parent = otel_tracer_start_span(t, "parent", NULL);
	otel_context *ctx = otel_context_with_span(NULL, parent);
	otel_context_token tok = otel_context_attach(ctx);
	otel_span *child = otel_tracer_start_span(t, "child", NULL);
	OTEL_OPTS(otel_span_start_opts, ro, .root = true);
	otel_span *root = otel_tracer_start_span(t, "root", &ro);
	otel_context_detach(tok);
	/* An explicit parent works while nothing is current. */
	OTEL_OPTS(otel_span_start_opts, eo, .parent = ctx);
	otel_span *child2 = otel_tracer_start_span(t, "child2", &eo);
	otel_context_unref(ctx);

	otel_span_get_context(parent, &pc);
	otel_span_get_context(child, &cc);
	otel_span_get_context(root, &rc);
	assert_true(otel_span_context_is_valid(&pc));
	assert_memory_equal(pc.trace_id, cc.trace_id, 16);
	assert_memory_not_equal(pc.span_id, cc.span_id, 8);
	assert_memory_not_equal(pc.trace_id, rc.trace_id, 16);
	assert_true(otel_span_context_is_sampled(&cc));
	assert_false(cc.is_remote);
	otel_span_end(child, 0);
	otel_span_end(root, 0);
	otel_span_end(child2, 0);
	otel_span_end(parent, 0);

	assert_int_equal(col.n, 4);
	assert_memory_equal(collector_find(&col, "child")->parent_span_id, pc.span_id, 8);
	assert_false(collector_find(&col, "child")->parent_is_remote);
	assert_memory_equal(collector_find(&col, "child2")->parent_span_id, pc.span_id, 8);
	assert_memory_equal(collector_find(&col, "child2")->context.trace_id, pc.trace_id, 16);
	static const uint8_t zero[8];
	assert_memory_equal(collector_find(&col, "root")->parent_span_id, zero, 8);
	assert_memory_equal(collector_find(&col, "parent")->parent_span_id, zero, 8);
	assert_int_equal(col.started, 4);
	collector_free(&col, tp);
}

static void test_remote_parent(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_from_env());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);
	struct otel_span_context remote = {
		.trace_id = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d,
			      0x0e, 0x0e, 0x47, 0x36 },
		.span_id = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 },
		.trace_flags = 1,
		.is_remote = true,
		.trace_state = otel_trace_state_parse("vendor=abc,other=x"),
	};
	otel_span *wrapped = otel_span_wrap(&remote);
	otel_context *ctx = otel_context_with_span(NULL, wrapped);
	OTEL_OPTS(otel_span_start_opts, o, .parent = ctx, .kind = OTEL_SPAN_KIND_SERVER);

	assert_false(otel_span_is_recording(wrapped));
	otel_span_end(otel_tracer_start_span(t, "server", &o), 0);
	/* parentbased_always_on (the default) follows an unsampled remote parent: drop. */
	remote.trace_flags = 0;
	otel_span *w2 = otel_span_wrap(&remote);
	otel_context *ctx2 = otel_context_with_span(NULL, w2);
	o.parent = ctx2;
	otel_span *dropped = otel_tracer_start_span(t, "dropped", &o);
	struct otel_span_context dc;
	otel_span_get_context(dropped, &dc);
	assert_false(otel_span_is_recording(dropped));
	assert_memory_equal(dc.trace_id, remote.trace_id, 16);
	assert_false(otel_span_context_is_sampled(&dc));
	otel_span_end(dropped, 0);

	assert_int_equal(col.n, 1);
	const struct otel_span_data *d = col.spans[0];
	assert_memory_equal(d->context.trace_id, remote.trace_id, 16);
	assert_memory_equal(d->parent_span_id, remote.span_id, 8);
	assert_true(d->parent_is_remote);
	assert_false(d->context.is_remote);
	assert_int_equal(d->kind, OTEL_SPAN_KIND_SERVER);
	assert_non_null(d->context.trace_state);
	assert_string_equal(otel_trace_state_get(d->context.trace_state, "vendor"), "abc");
	otel_span_unref(wrapped);
	otel_span_unref(w2);
	otel_context_unref(ctx);
	otel_context_unref(ctx2);
	otel_trace_state_unref(remote.trace_state);
	collector_free(&col, tp);
}

static void test_always_off_propagates_context(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_off());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);
	struct otel_span_context a, b;

	{
		OTEL_SPAN_SCOPE(outer, t, "outer", NULL);
		otel_span *inner = otel_tracer_start_span(t, "inner", NULL);

		otel_span_get_context(outer, &a);
		otel_span_get_context(inner, &b);
		assert_true(otel_span_context_is_valid(&a));
		/* A dropped span still gives its children its trace (unsampled). */
		assert_memory_equal(a.trace_id, b.trace_id, 16);
		assert_false(otel_span_context_is_sampled(&b));
		assert_false(otel_span_is_recording(outer));
		otel_span_end(inner, 0);
	}
	assert_null(otel_span_current());
	assert_int_equal(col.started, 0);
	assert_int_equal(col.n, 0);
	collector_free(&col, tp);
}

static void test_noop_api_without_sdk(void **state)
{
	(void)state;
	struct otel_span_context remote = { .trace_id = { 9 }, .span_id = { 8 }, .trace_flags = 1 };
	struct otel_span_context got;

	otel_tracer_provider_set_global(NULL);
	otel_tracer *t = otel_tracer_get("lib", "1.0");
	assert_non_null(t);
	assert_false(otel_tracer_enabled(t));
	otel_span *s = otel_tracer_start_span(t, "nothing", NULL);
	assert_false(otel_span_is_recording(s));
	otel_span_get_context(s, &got);
	assert_false(otel_span_context_is_valid(&got));
	otel_span_set_attribute_str(s, "k", "v");
	otel_span_end(s, 0);

	/* With a parent, the API returns a non-recording span carrying the parent's context. */
	otel_span *w = otel_span_wrap(&remote);
	otel_context *ctx = otel_context_with_span(NULL, w);
	otel_context_token tok = otel_context_attach(ctx);
	otel_span *c = otel_tracer_start_span(t, "child", NULL);
	otel_span_get_context(c, &got);
	assert_memory_equal(got.trace_id, remote.trace_id, 16);
	assert_memory_equal(got.span_id, remote.span_id, 8);
	otel_span_end(c, 0);
	otel_context_detach(tok);
	otel_context_unref(ctx);
	otel_span_unref(w);
}

static void test_proxy_tracer_binds_later(void **state)
{
	(void)state;
	otel_tracer_provider_set_global(NULL);
	otel_tracer *early = otel_tracer_get("early-lib", "2.0");
	otel_span_end(otel_tracer_start_span(early, "before", NULL), 0);

	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer_provider_set_global(tp);
	assert_true(otel_tracer_enabled(early));
	otel_span_end(otel_tracer_start_span(early, "after", NULL), 0);
	otel_tracer_provider_set_global(NULL);
	otel_span_end(otel_tracer_start_span(early, "unset again", NULL), 0);

	assert_int_equal(col.n, 1);
	assert_string_equal(col.spans[0]->name, "after");
	assert_string_equal(col.spans[0]->scope->name, "early-lib");
	assert_string_equal(col.spans[0]->scope->version, "2.0");
	collector_free(&col, tp);
}

static void test_shutdown_stops_recording(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);
	otel_span *open_span = otel_tracer_start_span(t, "open at shutdown", NULL);

	assert_int_equal(otel_tracer_provider_shutdown(tp, 1000), 0);
	assert_int_equal(otel_tracer_provider_shutdown(tp, 1000), 0); /* idempotent */
	otel_span *late = otel_tracer_start_span(t, "late", NULL);
	assert_false(otel_span_is_recording(late));
	otel_span_end(late, 0);
	assert_false(otel_tracer_enabled(t));
	/* Freeing the provider with a span still open is safe; ending it later too. */
	collector_free(&col, tp);
	otel_span_end(open_span, 0);
	assert_int_equal(col.n, 0);
}

static void fixed_trace_id(void *ctx, uint8_t out[16])
{
	(void)ctx;
	memset(out, 0xab, 16);
}

static void counting_span_id(void *ctx, uint8_t out[8])
{
	uint64_t *n = ctx;

	++*n;
	memset(out, 0, 8);
	out[7] = (uint8_t)*n;
}

static void test_custom_id_generator(void **state)
{
	(void)state;
	uint64_t counter = 0;
	struct otel_id_generator gen = { fixed_trace_id, counting_span_id, &counter };
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "ids") };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	otel_tracer_provider *tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = otel_sampler_always_on(),
		.id_generator = &gen,
	});
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "t", NULL, NULL);
	struct otel_span_context sc;
	otel_span *s = otel_tracer_start_span(t, "s", NULL);

	otel_span_get_context(s, &sc);
	assert_int_equal(sc.trace_id[0], 0xab);
	assert_int_equal(sc.trace_id[15], 0xab);
	assert_int_equal(sc.span_id[7], 1);
	otel_span_end(s, 0);
	otel_resource_unref(res);
	otel_tracer_provider_free(tp);
}

static void test_ids_differ_after_fork(void **state)
{
	(void)state;
	uint8_t parent_id[8], child_id[8];
	int fds[2];
	pid_t pid;
	int status;

	otel_random_span_id(parent_id); /* seed this thread's generator before forking */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		otel_random_span_id(child_id);
		_exit(write(fds[1], child_id, 8) == 8 ? 0 : 1);
	}
	otel_random_span_id(parent_id);
	assert_int_equal(read(fds[0], child_id, 8), 8);
	waitpid(pid, &status, 0);
	close(fds[0]);
	close(fds[1]);
	/* Without a reseed the child would repeat the parent's next id exactly. */
	assert_memory_not_equal(parent_id, child_id, 8);
}

struct counting_proc {
	otel_span_processor base;
	int flushes, shutdowns, destroys;
};

static void cp_on_end(otel_span_processor *p, const struct otel_span_data *d)
{
	(void)p;
	(void)d;
}

static int cp_flush(otel_span_processor *p, uint32_t ms)
{
	(void)ms;
	((struct counting_proc *)p)->flushes++;
	return 0;
}

static int cp_shutdown(otel_span_processor *p, uint32_t ms)
{
	(void)ms;
	((struct counting_proc *)p)->shutdowns++;
	return 0;
}

static void cp_destroy(otel_span_processor *p)
{
	((struct counting_proc *)p)->destroys++;
}

static const struct otel_span_processor_ops cp_ops = {
	.on_end = cp_on_end,
	.force_flush = cp_flush,
	.shutdown = cp_shutdown,
	.destroy = cp_destroy,
};

/* A processor shared by two providers is shut down only by the last one holding it. */
static void test_shared_processor_shutdown(void **state)
{
	(void)state;
	struct counting_proc cp = { .base = { &cp_ops, 1 } };
	otel_span_processor *procs[1] = { &cp.base };
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "shared") };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	struct otel_tracer_provider_opts o = { .sz = sizeof(o), .resource = res,
					       .sampler = otel_sampler_always_on(),
					       .processors = procs, .n_processors = 1 };
	otel_tracer_provider *a = otel_tracer_provider_new(&o);
	o.sampler = otel_sampler_always_on();
	otel_tracer_provider *b = otel_tracer_provider_new(&o);

	otel_span_processor_unref(&cp.base); /* the providers hold it now */
	assert_int_equal(otel_tracer_provider_shutdown(a, 1000), 0);
	assert_int_equal(cp.flushes, 0); /* left running: b still uses it */
	assert_int_equal(cp.shutdowns, 0);
	otel_tracer_provider_free(a);
	assert_int_equal(otel_tracer_provider_shutdown(b, 1000), 0);
	assert_int_equal(cp.shutdowns, 1);
	otel_tracer_provider_free(b);
	assert_int_equal(cp.shutdowns, 1);
	assert_int_equal(cp.destroys, 1);
	otel_resource_unref(res);
}

struct worker_arg {
	otel_tracer *t;
	int n;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;

	for (int i = 0; i < a->n; i++) {
		OTEL_SPAN_SCOPE(outer, a->t, "outer", NULL);
		otel_span_set_attribute_int(outer, "i", i);
		otel_span *inner = otel_tracer_start_span(a->t, "inner", NULL);
		otel_span_set_attribute_int(inner, "i", i);
		otel_span_end(inner, 0);
	}
	return NULL;
}

static void test_concurrent_threads_keep_their_parents(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	struct worker_arg arg = { otel_tracer_provider_get_tracer(tp, "t", NULL, NULL), 250 };
	pthread_t th[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, &arg);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(col.n, 2000);
	/* Each inner span's parent is an outer span of the same trace with the same i. */
	for (size_t k = 0; k < col.n; k++) {
		const struct otel_span_data *in = col.spans[k];
		size_t m;

		if (strcmp(in->name, "inner"))
			continue;
		for (m = 0; m < col.n; m++)
			if (!memcmp(col.spans[m]->context.span_id, in->parent_span_id, 8))
				break;
		assert_true(m < col.n);
		assert_string_equal(col.spans[m]->name, "outer");
		assert_memory_equal(col.spans[m]->context.trace_id, in->context.trace_id, 16);
		assert_int_equal(col.spans[m]->attributes[0].value.i, in->attributes[0].value.i);
	}
	collector_free(&col, tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracer_identity),
		cmocka_unit_test(test_parent_from_current_and_explicit),
		cmocka_unit_test(test_remote_parent),
		cmocka_unit_test(test_always_off_propagates_context),
		cmocka_unit_test(test_noop_api_without_sdk),
		cmocka_unit_test(test_proxy_tracer_binds_later),
		cmocka_unit_test(test_shutdown_stops_recording),
		cmocka_unit_test(test_shared_processor_shutdown),
		cmocka_unit_test(test_custom_id_generator),
		cmocka_unit_test(test_ids_differ_after_fork),
		cmocka_unit_test(test_concurrent_threads_keep_their_parents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
