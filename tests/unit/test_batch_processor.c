// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the Batch span processor (sdk/src/batch.c): exact counts with
 * several producer threads, drops on a full queue, batch size, the schedule
 * delay, force_flush and shutdown (also with an exporter that hangs, and one
 * that ignores shutdown), sampling, the OTEL_BSP_* variables, reference
 * counting, and a working pipeline in a child after fork().
 *
 * The test exporter is a controllable one: it counts, records batch sizes
 * and which spans it saw, and can fail, block until released ("gate"), or
 * hang until released or shut down.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_pipeline.h"

#define MAX_SEEN 65536

enum block_mode {
	BLOCK_NONE = 0,
	BLOCK_GATE, /* export waits for release(), ignoring shutdown: a truly stuck backend */
	BLOCK_HANG, /* export waits for release() or shutdown(), as the contract asks */
};

struct test_exporter {
	struct otel_span_exporter base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum block_mode block;
	bool released;
	bool shut_down;
	bool fail;
	bool in_export;
	int concurrent; /* exports seen running at the same time as another one */
	size_t calls;
	size_t spans;
	size_t max_batch;
	size_t flushes;
	size_t shutdowns;
	size_t duplicates;
	uint64_t last_timeout_ns; /* deadline - now at the last export */
	bool destroyed;
	uint8_t seen[MAX_SEEN]; /* by the span's "n" attribute */
};

static struct test_exporter texp;

static struct test_exporter *texp_of(struct otel_span_exporter *e)
{
	return (struct test_exporter *)e;
}

static bool export_may_return(struct test_exporter *t)
{
	if (t->block == BLOCK_GATE)
		return t->released;
	if (t->block == BLOCK_HANG)
		return t->released || t->shut_down;
	return true;
}

static enum otel_export_result texp_export(struct otel_span_exporter *e,
					   const struct otel_span_data *const *spans, size_t n,
					   uint64_t deadline_ns)
{
	struct test_exporter *t = texp_of(e);
	bool fail;

	pthread_mutex_lock(&t->lock);
	if (t->in_export)
		t->concurrent++;
	t->in_export = true;
	t->calls++;
	t->last_timeout_ns = deadline_ns - otel_mono_ns();
	if (n > t->max_batch)
		t->max_batch = n;
	for (size_t i = 0; i < n; i++) {
		int64_t k = test_span_n(spans[i]);

		if (k >= 0 && k < MAX_SEEN && t->seen[k]++)
			t->duplicates++;
	}
	pthread_cond_broadcast(&t->cond);
	while (!export_may_return(t))
		pthread_cond_wait(&t->cond, &t->lock);
	fail = t->fail || (t->block == BLOCK_HANG && t->shut_down);
	if (!fail)
		t->spans += n;
	t->in_export = false;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return fail ? OTEL_EXPORT_FAILURE : OTEL_EXPORT_SUCCESS;
}

static int texp_force_flush(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	struct test_exporter *t = texp_of(e);

	(void)deadline_ns;
	pthread_mutex_lock(&t->lock);
	t->flushes++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Idempotent, as otel_span_exporter_free() calls it again. */
static int texp_shutdown(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	struct test_exporter *t = texp_of(e);

	(void)deadline_ns;
	pthread_mutex_lock(&t->lock);
	if (!t->shut_down)
		t->shutdowns++;
	t->shut_down = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void texp_destroy(struct otel_span_exporter *e)
{
	struct test_exporter *t = texp_of(e);

	pthread_mutex_lock(&t->lock);
	t->destroyed = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static const struct otel_span_exporter_ops texp_ops = {
	.export_spans = texp_export,
	.force_flush = texp_force_flush,
	.shutdown = texp_shutdown,
	.destroy = texp_destroy,
};

static struct otel_span_exporter *texp_init(enum block_mode block, bool fail)
{
	memset(&texp, 0, sizeof(texp));
	texp.base.ops = &texp_ops;
	texp.block = block;
	texp.fail = fail;
	pthread_mutex_init(&texp.lock, NULL);
	pthread_cond_init(&texp.cond, NULL);
	return &texp.base;
}

static void texp_release(void)
{
	pthread_mutex_lock(&texp.lock);
	texp.released = true;
	pthread_cond_broadcast(&texp.cond);
	pthread_mutex_unlock(&texp.lock);
}

/* Read a field of texp under its lock. */
#define TEXP(FIELD)                                       \
	({                                                \
		pthread_mutex_lock(&texp.lock);           \
		__typeof__(texp.FIELD) ___v = texp.FIELD; \
		pthread_mutex_unlock(&texp.lock);         \
		___v;                                     \
	})

/* Wait up to 10 s for @cond (an expression over texp, evaluated under its lock). */
#define TEXP_WAIT(COND)                                          \
	({                                                       \
		uint64_t ___end = otel_deadline_after_ms(10000); \
		struct timespec ___ts = { 0, 2000000 };          \
		bool ___ok;                                      \
		for (;;) {                                       \
			pthread_mutex_lock(&texp.lock);          \
			___ok = (COND);                          \
			pthread_mutex_unlock(&texp.lock);        \
			if (___ok || otel_mono_ns() > ___end)    \
				break;                           \
			nanosleep(&___ts, NULL);                 \
		}                                                \
		___ok;                                           \
	})

/* Every span numbered [first, last) was exported exactly @times times. */
static void assert_seen(int first, int last, int times)
{
	for (int i = first; i < last; i++)
		assert_int_equal(texp.seen[i], times);
}

/* ---- Pipelines ---- */

static otel_span_processor *batch_new(uint32_t queue, uint32_t batch, uint32_t delay_ms,
				      struct otel_span_exporter *exp)
{
	OTEL_OPTS(otel_batch_opts, o, .max_queue_size = queue, .max_export_batch_size = batch,
		  .schedule_delay_ms = delay_ms, .ignore_env = true);
	otel_span_processor *p = otel_batch_span_processor_new(exp, &o);

	assert_non_null(p);
	return p;
}

/* A batch processor exporting to @exp, fed by a provider that samples everything. */
static struct test_pipeline pipeline(uint32_t queue, uint32_t batch, uint32_t delay_ms,
				     struct otel_span_exporter *exp)
{
	return test_pipeline_new(batch_new(queue, batch, delay_ms, exp), NULL);
}

/* Free the pipeline; the exporter must be gone with it. */
static void teardown(struct test_pipeline pl)
{
	test_pipeline_free(pl);
	assert_true(TEXP(destroyed));
}

/* Set the OTEL_BSP_* variables; NULL unsets one. */
static void bsp_env(const char *queue, const char *batch, const char *delay)
{
	const char *names[] = { "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
				"OTEL_BSP_SCHEDULE_DELAY" };
	const char *values[] = { queue, batch, delay };

	for (size_t i = 0; i < 3; i++) {
		if (values[i])
			setenv(names[i], values[i], 1);
		else
			unsetenv(names[i]);
	}
}

static struct otel_batch_stats stats_of(otel_span_processor *p)
{
	struct otel_batch_stats s;

	assert_int_equal(otel_batch_span_processor_stats(p, &s), 0);
	return s;
}

static void flush_ok(otel_span_processor *p)
{
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
}

/* A successful flush, then the counters. */
static struct otel_batch_stats flush_stats(otel_span_processor *p)
{
	flush_ok(p);
	return stats_of(p);
}

/* Let a gated export return, then flush what is left. */
static struct otel_batch_stats release_and_flush(otel_span_processor *p)
{
	texp_release();
	return flush_stats(p);
}

/*
 * With a gated exporter: end @first spans (a full batch, which the worker
 * takes and gets stuck exporting), then @more against the queue.
 */
static struct otel_batch_stats jam(struct test_pipeline pl, int64_t first, int64_t more)
{
	test_end_spans(pl.tp, 0, first);
	assert_true(TEXP_WAIT(texp.in_export));
	test_end_spans(pl.tp, first, more);
	return stats_of(pl.p);
}

/* ---- Tests ---- */

static void test_new_rejects_null_exporter(void **state)
{
	(void)state;
	errno = 0;
	assert_null(otel_batch_span_processor_new(NULL, NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_stats_rejects_other_processors(void **state)
{
	otel_span_processor *simple = otel_simple_span_processor_new(texp_init(BLOCK_NONE, false));
	struct otel_batch_stats s;

	(void)state;
	assert_int_equal(otel_batch_span_processor_stats(simple, &s), -EINVAL);
	assert_int_equal(otel_batch_span_processor_stats(NULL, &s), -EINVAL);
	otel_span_processor_unref(simple);
	assert_true(TEXP(destroyed));
}

#define THREADS 4
#define PER_THREAD 3000

struct producer_arg {
	otel_tracer_provider *tp;
	int64_t first;
};

static pthread_barrier_t start_line;

static void *producer(void *arg)
{
	struct producer_arg *a = arg;

	pthread_barrier_wait(&start_line);
	test_end_spans(a->tp, a->first, PER_THREAD);
	return NULL;
}

/* THREADS threads end PER_THREAD spans each at once, then everything is flushed. */
static struct otel_batch_stats produce_and_flush(struct test_pipeline pl)
{
	pthread_t th[THREADS];
	struct producer_arg args[THREADS];

	pthread_barrier_init(&start_line, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct producer_arg){ pl.tp, (int64_t)i * PER_THREAD };
		assert_int_equal(pthread_create(&th[i], NULL, producer, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start_line);
	return flush_stats(pl.p);
}

/* A queue big enough: every span is exported exactly once, in batches of at most 100. */
static void test_exact_counts_threads(void **state)
{
	struct test_pipeline pl =
		pipeline(THREADS * PER_THREAD, 100, 60000, texp_init(BLOCK_NONE, false));
	struct otel_batch_stats s = produce_and_flush(pl);

	(void)state;
	assert_int_equal(s.enqueued, THREADS * PER_THREAD);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(s.exported, THREADS * PER_THREAD);
	assert_int_equal(s.export_failures, 0);
	assert_int_equal(TEXP(spans), THREADS * PER_THREAD);
	assert_int_equal(TEXP(duplicates), 0);
	assert_seen(0, THREADS * PER_THREAD, 1);
	assert_true(TEXP(max_batch) <= 100);
	assert_int_equal(s.batches, TEXP(calls));
	assert_true(s.batches >= THREADS * PER_THREAD / 100);
	assert_int_equal(TEXP(concurrent), 0);
	teardown(pl);
}

/* A small queue under the same load: every span is either exported once or counted dropped. */
static void test_small_queue_accounts_every_span(void **state)
{
	struct test_pipeline pl = pipeline(64, 16, 1, texp_init(BLOCK_NONE, false));
	struct otel_batch_stats s = produce_and_flush(pl);

	(void)state;
	assert_int_equal(s.exported + s.dropped, THREADS * PER_THREAD);
	assert_int_equal(s.enqueued, s.exported);
	assert_int_equal(TEXP(spans), s.exported);
	assert_int_equal(TEXP(duplicates), 0);
	assert_true(TEXP(max_batch) <= 16);
	assert_int_equal(TEXP(concurrent), 0);
	teardown(pl);
}

/*
 * Queue 10, batch 5, an exporter stuck on the first batch: 5 spans leave the
 * queue with that batch, 10 fill it, the next 7 are dropped and counted.
 */
static void test_full_queue_drops_exactly(void **state)
{
	struct test_pipeline pl = pipeline(10, 5, 60000, texp_init(BLOCK_GATE, false));
	struct otel_batch_stats s = jam(pl, 5, 17);

	(void)state;
	assert_int_equal(s.enqueued, 15);
	assert_int_equal(s.dropped, 7);
	assert_int_equal(s.exported, 0);

	s = release_and_flush(pl.p);
	assert_int_equal(s.exported, 15);
	assert_int_equal(s.batches, 3);
	assert_int_equal(TEXP(spans), 15);
	assert_seen(0, 15, 1);
	assert_seen(15, 22, 0);
	teardown(pl);
}

/* Full batches go out without waiting for the delay; the rest waits for it (or a flush). */
static void test_batch_size_respected(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_NONE, false));

	(void)state;
	test_end_spans(pl.tp, 0, 35);
	assert_true(TEXP_WAIT(texp.spans == 30));
	usleep(50000); /* give a wrong implementation time to export the partial batch */
	assert_int_equal(TEXP(calls), 3);
	assert_int_equal(TEXP(spans), 30);
	assert_int_equal(TEXP(max_batch), 10);
	assert_int_equal(stats_of(pl.p).batches, 3);

	flush_ok(pl.p);
	assert_int_equal(TEXP(calls), 4);
	assert_int_equal(TEXP(spans), 35);
	assert_int_equal(TEXP(flushes), 1);
	teardown(pl);
}

/* A partial batch goes out when the schedule delay expires, with no flush. */
static void test_schedule_delay_exports_partial_batch(void **state)
{
	struct test_pipeline pl = pipeline(100, 50, 100, texp_init(BLOCK_NONE, false));

	(void)state;
	test_end_spans(pl.tp, 0, 3);
	assert_true(TEXP_WAIT(texp.spans == 3));
	assert_int_equal(TEXP(calls), 1);
	assert_int_equal(TEXP(flushes), 0);
	assert_int_equal(stats_of(pl.p).exported, 3);
	teardown(pl);
}

/* Each export gets the export timeout as its deadline. */
static void test_export_deadline(void **state)
{
	OTEL_OPTS(otel_batch_opts, o, .export_timeout_ms = 1234, .schedule_delay_ms = 60000,
		  .ignore_env = true);
	struct test_pipeline pl = test_pipeline_new(
		otel_batch_span_processor_new(texp_init(BLOCK_NONE, false), &o), NULL);
	uint64_t left;

	(void)state;
	test_end_spans(pl.tp, 0, 1);
	flush_ok(pl.p);
	left = TEXP(last_timeout_ns) / 1000000;
	assert_true(left <= 1234 && left >= 1134);
	teardown(pl);
}

/* force_flush exports everything queued at the call and flushes the exporter. */
static void test_force_flush_exports_all(void **state)
{
	struct test_pipeline pl = pipeline(2048, 512, 60000, texp_init(BLOCK_NONE, false));

	(void)state;
	test_end_spans(pl.tp, 0, 1000);
	flush_ok(pl.p);
	assert_int_equal(TEXP(spans), 1000);
	assert_int_equal(TEXP(calls), 2); /* 512 + 488 */
	assert_int_equal(TEXP(max_batch), 512);
	assert_int_equal(TEXP(flushes), 1);
	flush_ok(pl.p); /* nothing queued */
	assert_int_equal(TEXP(calls), 2);
	assert_int_equal(TEXP(flushes), 2);
	teardown(pl);
}

/*
 * Failed exports are counted as such, not as exported, and a flush that saw
 * one says so (the partial batch of 5 is only exported by the flush itself).
 */
static void test_export_failures_counted(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_NONE, true));
	struct otel_batch_stats s;

	(void)state;
	test_end_spans(pl.tp, 0, 25);
	assert_int_equal(otel_span_processor_force_flush(pl.p, 10000), -EIO);
	s = flush_stats(pl.p); /* nothing lost since */
	assert_int_equal(s.export_failures, 25);
	assert_int_equal(s.exported, 0);
	assert_int_equal(s.batches, 3);
	assert_int_equal(TEXP(calls), 3);
	teardown(pl);
}

/* Spans that are recorded but not sampled are never exported. */
static void test_unsampled_not_exported(void **state)
{
	struct test_pipeline pl = test_pipeline_new(
		batch_new(100, 10, 60000, texp_init(BLOCK_NONE, false)), &test_record_only_sampler);
	struct otel_batch_stats s;

	(void)state;
	test_end_spans(pl.tp, 0, 20);
	s = flush_stats(pl.p);
	assert_int_equal(s.enqueued, 0);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(TEXP(calls), 0);
	teardown(pl);
}

/* With the exporter stuck, force_flush gives up at its deadline. */
static void test_force_flush_timeout(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_HANG, false));

	(void)state;
	test_end_spans(pl.tp, 0, 3);
	assert_times_out(otel_span_processor_force_flush(pl.p, 300), 300, 200);
	assert_true(TEXP(in_export));
	release_and_flush(pl.p);
	assert_int_equal(TEXP(spans), 3);
	teardown(pl);
}

/* Shutdown exports what is queued, shuts the exporter down once, then ignores everything. */
static void test_shutdown_flushes_once(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_NONE, false));
	struct otel_batch_stats s;

	(void)state;
	test_end_spans(pl.tp, 0, 15);
	assert_int_equal(otel_span_processor_shutdown(pl.p, 10000), 0);
	assert_int_equal(TEXP(spans), 15);
	assert_int_equal(TEXP(shutdowns), 1);
	assert_int_equal(otel_span_processor_shutdown(pl.p, 10000), 0);
	assert_int_equal(TEXP(shutdowns), 1);

	test_end_spans(pl.tp, 15, 4); /* the provider still runs; the processor drops */
	s = flush_stats(pl.p);
	assert_int_equal(s.exported, 15);
	assert_int_equal(s.dropped, 4);
	assert_int_equal(s.enqueued, 15);
	assert_int_equal(TEXP(calls), 2);
	assert_false(TEXP(destroyed));
	teardown(pl);
}

/*
 * An export that hangs until the exporter is shut down: shutdown returns at
 * its deadline plus the short grace, having cut the export off.
 */
static void test_shutdown_hanging_exporter(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_HANG, false));

	(void)state;
	test_end_spans(pl.tp, 0, 25); /* two full batches: the first hangs, the second waits */
	assert_true(TEXP_WAIT(texp.in_export));
	assert_times_out(otel_span_processor_shutdown(pl.p, 300), 300, 100 + 200);
	assert_false(TEXP(in_export));
	assert_int_equal(TEXP(shutdowns), 1);
	assert_int_equal(TEXP(calls), 1); /* nothing more went to the shut-down exporter */
	/* the cut-off batch failed; the rest was dropped */
	assert_int_equal(stats_of(pl.p).export_failures, 10);
	assert_int_equal(stats_of(pl.p).dropped, 15);
	teardown(pl);
}

/*
 * An exporter that ignores shutdown: shutdown still returns in time and the
 * worker is left behind; when the export finally returns, the worker frees
 * the processor and the exporter by itself (it holds the last reference).
 */
static void test_shutdown_detaches_stuck_worker(void **state)
{
	struct test_pipeline pl = pipeline(100, 10, 60000, texp_init(BLOCK_GATE, false));

	(void)state;
	test_end_spans(pl.tp, 0, 10);
	assert_true(TEXP_WAIT(texp.in_export));
	assert_times_out(otel_span_processor_shutdown(pl.p, 200), 200, 100 + 200);
	assert_int_equal(TEXP(shutdowns), 1);
	test_pipeline_free(pl);
	assert_true(TEXP(in_export));
	assert_false(TEXP(destroyed));
	texp_release();
	assert_true(TEXP_WAIT(texp.destroyed));
	/* the worker frees the processor's memory right after destroy(); let it finish */
	usleep(100000);
}

/* The processor lives while anyone holds a reference; the last unref frees it. */
static void test_refcount(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_NONE, false));

	(void)state;
	assert_ptr_equal(otel_span_processor_ref(p), p);
	assert_int_equal(p->refcount, 2);
	otel_span_processor_unref(p);
	assert_int_equal(p->refcount, 1);
	assert_false(TEXP(destroyed));
	otel_span_processor_unref(p);
	assert_true(TEXP(destroyed));
	assert_int_equal(TEXP(shutdowns), 1);
	assert_null(otel_span_processor_ref(NULL));
	otel_span_processor_unref(NULL);
}

/* A pipeline configured by the OTEL_BSP_* variables alone. */
static struct test_pipeline env_pipeline(enum block_mode block)
{
	otel_span_processor *p = otel_batch_span_processor_new(texp_init(block, false), NULL);

	assert_non_null(p);
	return test_pipeline_new(p, NULL);
}

/* OTEL_BSP_*: batch size above the queue size is clamped to it; delays come from env. */
static void test_env_queue_and_clamped_batch(void **state)
{
	struct test_pipeline pl;
	struct otel_batch_stats s;

	(void)state;
	bsp_env("4", "8", "60000");
	pl = env_pipeline(BLOCK_GATE);
	/* a full batch of 4 (clamped) the worker takes; then 4 fill the queue, 3 are dropped */
	s = jam(pl, 4, 7);
	assert_int_equal(s.enqueued, 8);
	assert_int_equal(s.dropped, 3);
	release_and_flush(pl.p);
	assert_int_equal(TEXP(max_batch), 4);
	assert_int_equal(TEXP(calls), 2);
	teardown(pl);
	bsp_env(NULL, NULL, NULL);
}

/* Invalid values warn and give the defaults (queue 2048, batch 512); options beat env. */
static void test_env_invalid_and_override(void **state)
{
	OTEL_OPTS(otel_batch_opts, o, .max_export_batch_size = 100);
	struct test_pipeline pl;
	struct otel_batch_stats s;

	(void)state;
	bsp_env("lots", "0", "-5");
	pl = env_pipeline(BLOCK_GATE);
	s = jam(pl, 512, 2048 + 5); /* the default batch the worker takes at once, then the queue */
	assert_int_equal(s.enqueued, 512 + 2048);
	assert_int_equal(s.dropped, 5);
	release_and_flush(pl.p);
	assert_int_equal(TEXP(max_batch), 512);
	assert_int_equal(TEXP(spans), 512 + 2048);
	teardown(pl);

	/* a non-zero option wins over the variable */
	bsp_env("lots", "7", "-5");
	pl = test_pipeline_new(otel_batch_span_processor_new(texp_init(BLOCK_NONE, false), &o),
			       NULL);
	test_end_spans(pl.tp, 0, 150);
	flush_ok(pl.p);
	assert_int_equal(TEXP(max_batch), 100);
	assert_int_equal(TEXP(calls), 2);
	teardown(pl);
	bsp_env(NULL, NULL, NULL);
}

/* OTEL_BSP_SCHEDULE_DELAY=0: every span goes out as soon as the worker sees it. */
static void test_env_zero_delay(void **state)
{
	struct test_pipeline pl;

	(void)state;
	bsp_env(NULL, NULL, "0");
	pl = env_pipeline(BLOCK_NONE);
	bsp_env(NULL, NULL, NULL);
	test_end_spans(pl.tp, 0, 1);
	assert_true(TEXP_WAIT(texp.spans == 1));
	test_end_spans(pl.tp, 1, 2);
	assert_true(TEXP_WAIT(texp.spans == 3));
	assert_int_equal(TEXP(flushes), 0);
	assert_int_equal(TEXP(duplicates), 0);
	teardown(pl);
}

/* ---- fork ---- */

enum child_failure {
	CHILD_OK = 0,
	CHILD_FLUSH_FAILED = 10,
	CHILD_WRONG_COUNT,
	CHILD_WRONG_SPANS,
	CHILD_WRONG_STATS,
	CHILD_SHUTDOWN_FAILED,
};

/* In the child: end 5 spans, flush, and check that exactly those 5 were exported. */
static int child_checks(struct test_pipeline pl)
{
	struct otel_batch_stats s;

	test_end_spans(pl.tp, 100, 5);
	if (otel_span_processor_force_flush(pl.p, 5000))
		return CHILD_FLUSH_FAILED;
	if (texp.spans != 5)
		return CHILD_WRONG_COUNT;
	for (int i = 0; i < 105; i++)
		if (texp.seen[i] != (i >= 100))
			return CHILD_WRONG_SPANS;
	s = stats_of(pl.p);
	/* the 3 spans queued in the parent are dropped in the child, not exported twice */
	if (s.dropped != 3 || s.exported != 5)
		return CHILD_WRONG_STATS;
	test_end_spans(pl.tp, 200, 2);
	if (otel_span_processor_shutdown(pl.p, 5000) || texp.spans != 7 || texp.shutdowns != 1)
		return CHILD_SHUTDOWN_FAILED;
	return CHILD_OK;
}

static void test_fork_child_exports(void **state)
{
	struct test_pipeline pl = pipeline(100, 50, 60000, texp_init(BLOCK_NONE, false));
	int status;
	pid_t pid;

	(void)state;
	test_end_spans(pl.tp, 0, 3); /* queued, not exported yet, when the process forks */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = child_checks(pl);

		test_pipeline_free(pl);
		exit(rc); /* exit, not _exit: leak checking runs in the child too */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);

	/* the parent's pipeline is untouched: its 3 spans go out here */
	assert_int_equal(flush_stats(pl.p).dropped, 0);
	assert_int_equal(TEXP(spans), 3);
	teardown(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_null_exporter),
		cmocka_unit_test(test_stats_rejects_other_processors),
		cmocka_unit_test(test_exact_counts_threads),
		cmocka_unit_test(test_small_queue_accounts_every_span),
		cmocka_unit_test(test_full_queue_drops_exactly),
		cmocka_unit_test(test_batch_size_respected),
		cmocka_unit_test(test_schedule_delay_exports_partial_batch),
		cmocka_unit_test(test_export_deadline),
		cmocka_unit_test(test_force_flush_exports_all),
		cmocka_unit_test(test_export_failures_counted),
		cmocka_unit_test(test_unsampled_not_exported),
		cmocka_unit_test(test_force_flush_timeout),
		cmocka_unit_test(test_shutdown_flushes_once),
		cmocka_unit_test(test_shutdown_hanging_exporter),
		cmocka_unit_test(test_shutdown_detaches_stuck_worker),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_env_queue_and_clamped_batch),
		cmocka_unit_test(test_env_invalid_and_override),
		cmocka_unit_test(test_env_zero_delay),
		cmocka_unit_test(test_fork_child_exports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
