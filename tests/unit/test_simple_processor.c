// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the Simple span processor and of the generic processor
 * functions (sdk/src/processor.c): synchronous export of sampled spans only,
 * exports never concurrent, the 30 s export deadline, flush and shutdown
 * (idempotent, and bounded when an export hangs), reference counting, and a
 * child process forked while another thread was exporting.
 *
 * The test exporter uses only atomics and a pipe, so it works unchanged in
 * a forked child: a "hanging" export blocks reading the pipe until the
 * exporter is shut down (which writes to it), as the exporter contract asks.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_pipeline.h"

struct sexp {
	struct otel_span_exporter base;
	atomic_int calls;
	atomic_int in_export;
	atomic_int concurrent;
	atomic_int flushes;
	atomic_int shutdown_calls;
	atomic_bool shut_down;
	atomic_bool destroyed;
	atomic_bool hang;
	int gate[2];
	char last_name[32];
	uint64_t last_timeout_ns;
};

static struct sexp sx;

static enum otel_export_result sexp_export(struct otel_span_exporter *e,
					   const struct otel_span_data *const *spans, size_t n,
					   uint64_t deadline_ns)
{
	char c;

	(void)e;
	if (atomic_exchange(&sx.in_export, 1))
		atomic_fetch_add(&sx.concurrent, 1);
	atomic_fetch_add(&sx.calls, 1);
	assert_int_equal(n, 1);
	snprintf(sx.last_name, sizeof(sx.last_name), "%s", spans[0]->name);
	sx.last_timeout_ns = deadline_ns - otel_mono_ns();
	sched_yield(); /* widen the window a concurrent export would need */
	if (atomic_load(&sx.hang))
		assert_int_equal(read(sx.gate[0], &c, 1), 1);
	atomic_store(&sx.in_export, 0);
	return OTEL_EXPORT_SUCCESS;
}

static int sexp_force_flush(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	(void)e;
	(void)deadline_ns;
	atomic_fetch_add(&sx.flushes, 1);
	return 0;
}

/* Idempotent (otel_span_exporter_free() calls it again); releases a hanging export. */
static int sexp_shutdown(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	(void)e;
	(void)deadline_ns;
	atomic_fetch_add(&sx.shutdown_calls, 1);
	if (!atomic_exchange(&sx.shut_down, true))
		assert_int_equal(write(sx.gate[1], "x", 1), 1);
	return 0;
}

static void sexp_destroy(struct otel_span_exporter *e)
{
	(void)e;
	close(sx.gate[0]);
	close(sx.gate[1]);
	atomic_store(&sx.destroyed, true);
}

static const struct otel_span_exporter_ops sexp_ops = {
	.export_spans = sexp_export,
	.force_flush = sexp_force_flush,
	.shutdown = sexp_shutdown,
	.destroy = sexp_destroy,
};

static otel_span_processor *simple_new(bool hang)
{
	otel_span_processor *p;

	memset(&sx, 0, sizeof(sx));
	sx.base.ops = &sexp_ops;
	atomic_store(&sx.hang, hang);
	assert_int_equal(pipe(sx.gate), 0);
	p = otel_simple_span_processor_new(&sx.base);
	assert_non_null(p);
	return p;
}

/* A Simple processor exporting to sx, fed by a provider that samples everything. */
static struct test_pipeline pipeline(bool hang)
{
	return test_pipeline_new(simple_new(hang), NULL);
}

static void end_span(otel_tracer_provider *tp, const char *name)
{
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "simple-test", NULL, NULL);

	otel_span_end(otel_tracer_start_span(t, name, NULL), 0);
}

/* Free the pipeline; the exporter must be gone with it. */
static void teardown(struct test_pipeline pl)
{
	test_pipeline_free(pl);
	assert_true(atomic_load(&sx.destroyed));
}

static void test_new_rejects_bad_exporter(void **state)
{
	static const struct otel_span_exporter_ops no_export = { .destroy = sexp_destroy };
	struct otel_span_exporter bad = { .ops = &no_export };

	(void)state;
	errno = 0;
	assert_null(otel_simple_span_processor_new(NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_simple_span_processor_new(&bad));
	assert_int_equal(errno, EINVAL);
}

static void test_generic_functions_reject_null(void **state)
{
	(void)state;
	assert_int_equal(otel_span_processor_force_flush(NULL, 100), -EINVAL);
	assert_int_equal(otel_span_processor_shutdown(NULL, 100), -EINVAL);
	assert_null(otel_span_processor_ref(NULL));
	otel_span_processor_unref(NULL);
}

/* The span is exported before otel_span_end() returns, with a 30 s deadline. */
static void test_exports_synchronously(void **state)
{
	struct test_pipeline pl = pipeline(false);
	uint64_t left_ms;

	(void)state;
	end_span(pl.tp, "first");
	assert_int_equal(atomic_load(&sx.calls), 1);
	assert_string_equal(sx.last_name, "first");
	left_ms = sx.last_timeout_ns / 1000000;
	assert_true(left_ms <= 30000 && left_ms >= 29900);
	end_span(pl.tp, "second");
	assert_int_equal(atomic_load(&sx.calls), 2);
	assert_string_equal(sx.last_name, "second");
	teardown(pl);
}

static void test_unsampled_not_exported(void **state)
{
	struct test_pipeline pl = test_pipeline_new(simple_new(false), &test_record_only_sampler);

	(void)state;
	end_span(pl.tp, "recorded-only");
	assert_int_equal(atomic_load(&sx.calls), 0);
	teardown(pl);
}

#define THREADS 4
#define PER_THREAD 500

static void *ender(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++)
		end_span(arg, "concurrent");
	return NULL;
}

/* Spans ending on several threads at once are exported one at a time, every one of them. */
static void test_exports_never_concurrent(void **state)
{
	struct test_pipeline pl = pipeline(false);
	pthread_t th[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ender, pl.tp), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&sx.calls), THREADS * PER_THREAD);
	assert_int_equal(atomic_load(&sx.concurrent), 0);
	teardown(pl);
}

/* Flush reaches the exporter; shutdown is done once; afterwards everything is ignored. */
static void test_flush_and_shutdown(void **state)
{
	struct test_pipeline pl = pipeline(false);

	(void)state;
	assert_int_equal(otel_span_processor_force_flush(pl.p, 1000), 0);
	assert_int_equal(atomic_load(&sx.flushes), 1);
	assert_int_equal(otel_span_processor_shutdown(pl.p, 1000), 0);
	assert_int_equal(atomic_load(&sx.shutdown_calls), 1);
	assert_int_equal(otel_span_processor_shutdown(pl.p, 1000), 0);
	assert_int_equal(atomic_load(&sx.shutdown_calls), 1);
	assert_int_equal(otel_span_processor_force_flush(pl.p, 1000), 0);
	assert_int_equal(atomic_load(&sx.flushes), 1);
	end_span(pl.tp, "after-shutdown");
	assert_int_equal(atomic_load(&sx.calls), 0);
	assert_false(atomic_load(&sx.destroyed));
	teardown(pl);
}

static void *end_one(void *arg)
{
	end_span(arg, "hangs");
	return NULL;
}

/* A thread that ends a span through @tp, and whose export hangs: back once it is in it. */
static pthread_t start_hanging_export(otel_tracer_provider *tp)
{
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, end_one, tp), 0);
	for (int i = 0; i < 5000 && !atomic_load(&sx.in_export); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&sx.in_export), 1);
	return th;
}

/* A flush waits for an export in flight, but not past its deadline. */
static void test_flush_times_out_behind_hanging_export(void **state)
{
	struct test_pipeline pl = pipeline(true);
	pthread_t th = start_hanging_export(pl.tp);

	(void)state;
	assert_times_out(otel_span_processor_force_flush(pl.p, 200), 200, 200);
	assert_int_equal(atomic_load(&sx.flushes), 0);
	/* shutting the exporter down releases the export */
	assert_int_equal(otel_span_processor_shutdown(pl.p, 50), -ETIMEDOUT);
	pthread_join(th, NULL);
	teardown(pl);
}

/* Shutdown behind a hanging export returns at its deadline, having cut the export off. */
static void test_shutdown_cuts_off_hanging_export(void **state)
{
	struct test_pipeline pl = pipeline(true);
	pthread_t th = start_hanging_export(pl.tp);

	(void)state;
	assert_times_out(otel_span_processor_shutdown(pl.p, 200), 200, 200);
	assert_int_equal(atomic_load(&sx.shutdown_calls), 1);
	pthread_join(th, NULL); /* the export returned */
	assert_int_equal(atomic_load(&sx.in_export), 0);
	teardown(pl);
}

/* The last reference shuts the processor down and frees it. */
static void test_refcount(void **state)
{
	otel_span_processor *p = simple_new(false);

	(void)state;
	assert_int_equal(p->refcount, 1);
	assert_ptr_equal(otel_span_processor_ref(p), p);
	assert_int_equal(p->refcount, 2);
	otel_span_processor_unref(p);
	assert_false(atomic_load(&sx.destroyed));
	assert_false(atomic_load(&sx.shut_down));
	otel_span_processor_unref(p);
	assert_true(atomic_load(&sx.shut_down));
	assert_true(atomic_load(&sx.destroyed));
}

/*
 * fork() while another thread is inside an export, holding the processor's
 * lock: in the child that thread is gone, and ending a span must not
 * deadlock on the lock it left behind.
 */
static void test_fork_while_exporting(void **state)
{
	struct test_pipeline pl = pipeline(true);
	pthread_t th = start_hanging_export(pl.tp);
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		atomic_store(&sx.hang, false);
		atomic_store(&sx.in_export, 0); /* the exporting thread does not exist here */
		alarm(10); /* a deadlock kills the child instead of hanging the test */
		end_span(pl.tp, "in-child");
		/*
		 * _exit: the span the parent's thread was exporting is referenced only
		 * from that thread's stack, which the child does not have.
		 */
		_exit(atomic_load(&sx.calls) == 2 && !strcmp(sx.last_name, "in-child") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* releases the export */
	assert_int_equal(otel_span_processor_shutdown(pl.p, 50), -ETIMEDOUT);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&sx.calls), 1);
	teardown(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_bad_exporter),
		cmocka_unit_test(test_generic_functions_reject_null),
		cmocka_unit_test(test_exports_synchronously),
		cmocka_unit_test(test_unsampled_not_exported),
		cmocka_unit_test(test_exports_never_concurrent),
		cmocka_unit_test(test_flush_and_shutdown),
		cmocka_unit_test(test_flush_times_out_behind_hanging_export),
		cmocka_unit_test(test_shutdown_cuts_off_hanging_export),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_fork_while_exporting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
