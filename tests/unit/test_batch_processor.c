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
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "clock.h"

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

static int64_t span_n(const struct otel_span_data *d)
{
	for (size_t i = 0; i < d->n_attributes; i++)
		if (!strcmp(d->attributes[i].key, "n"))
			return d->attributes[i].value.i;
	return -1;
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
		int64_t k = span_n(spans[i]);

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

/* ---- Spans ---- */

/* A sampler that records spans without sampling them. */
static void record_only(const otel_sampler *s, const struct otel_sampling_params *p,
			struct otel_sampling_result *out)
{
	(void)s;
	(void)p;
	out->decision = OTEL_SAMPLING_RECORD_ONLY;
}

static const struct otel_sampler_ops record_only_ops = { .should_sample = record_only };
static otel_sampler record_only_sampler = { .ops = &record_only_ops };

static otel_tracer_provider *provider_with(otel_span_processor *p, otel_sampler *sampler)
{
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "test") };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	otel_tracer_provider *tp;

	tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = sampler ? sampler : otel_sampler_always_on(),
		.processors = &p,
		.n_processors = 1,
	});
	otel_resource_unref(res);
	assert_non_null(tp);
	return tp;
}

/* End spans numbered [first, first + count) through @tp. */
static void end_spans(otel_tracer_provider *tp, int64_t first, int64_t count)
{
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "batch-test", NULL, NULL);

	for (int64_t i = first; i < first + count; i++) {
		struct otel_attribute a[] = { OTEL_ATTR_INT("n", i) };
		OTEL_OPTS(otel_span_start_opts, o, .root = true, .attributes = a,
			  .n_attributes = 1);

		otel_span_end(otel_tracer_start_span(t, "op", &o), 0);
	}
}

static otel_span_processor *batch_new(uint32_t queue, uint32_t batch, uint32_t delay_ms,
				      struct otel_span_exporter *exp)
{
	OTEL_OPTS(otel_batch_opts, o, .max_queue_size = queue, .max_export_batch_size = batch,
		  .schedule_delay_ms = delay_ms, .ignore_env = true);
	otel_span_processor *p = otel_batch_span_processor_new(exp, &o);

	assert_non_null(p);
	return p;
}

static struct otel_batch_stats stats_of(otel_span_processor *p)
{
	struct otel_batch_stats s;

	assert_int_equal(otel_batch_span_processor_stats(p, &s), 0);
	return s;
}

/* Free the provider (which shuts the processor down) and drop the test's reference. */
static void teardown_pipeline(otel_tracer_provider *tp, otel_span_processor *p)
{
	otel_tracer_provider_free(tp);
	otel_span_processor_unref(p);
	assert_true(TEXP(destroyed));
}

static uint64_t elapsed_ms(uint64_t start_ns)
{
	return (otel_mono_ns() - start_ns) / 1000000;
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
	end_spans(a->tp, a->first, PER_THREAD);
	return NULL;
}

static void run_producers(otel_tracer_provider *tp)
{
	pthread_t th[THREADS];
	struct producer_arg args[THREADS];

	pthread_barrier_init(&start_line, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct producer_arg){ tp, (int64_t)i * PER_THREAD };
		assert_int_equal(pthread_create(&th[i], NULL, producer, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start_line);
}

/* A queue big enough: every span is exported exactly once, in batches of at most 100. */
static void test_exact_counts_threads(void **state)
{
	otel_span_processor *p =
		batch_new(THREADS * PER_THREAD, 100, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	struct otel_batch_stats s;

	(void)state;
	run_producers(tp);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	s = stats_of(p);
	assert_int_equal(s.enqueued, THREADS * PER_THREAD);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(s.exported, THREADS * PER_THREAD);
	assert_int_equal(s.export_failures, 0);
	assert_int_equal(TEXP(spans), THREADS * PER_THREAD);
	assert_int_equal(TEXP(duplicates), 0);
	for (int i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(texp.seen[i], 1);
	assert_true(TEXP(max_batch) <= 100);
	assert_int_equal(s.batches, TEXP(calls));
	assert_true(s.batches >= THREADS * PER_THREAD / 100);
	assert_int_equal(TEXP(concurrent), 0);
	teardown_pipeline(tp, p);
}

/* A small queue under the same load: every span is either exported once or counted dropped. */
static void test_small_queue_accounts_every_span(void **state)
{
	otel_span_processor *p = batch_new(64, 16, 1, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	struct otel_batch_stats s;

	(void)state;
	run_producers(tp);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	s = stats_of(p);
	assert_int_equal(s.exported + s.dropped, THREADS * PER_THREAD);
	assert_int_equal(s.enqueued, s.exported);
	assert_int_equal(TEXP(spans), s.exported);
	assert_int_equal(TEXP(duplicates), 0);
	assert_true(TEXP(max_batch) <= 16);
	assert_int_equal(TEXP(concurrent), 0);
	teardown_pipeline(tp, p);
}

/*
 * Queue 10, batch 5, an exporter stuck on the first batch: 5 spans leave the
 * queue with that batch, 10 fill it, the next 7 are dropped and counted.
 */
static void test_full_queue_drops_exactly(void **state)
{
	otel_span_processor *p = batch_new(10, 5, 60000, texp_init(BLOCK_GATE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	struct otel_batch_stats s;

	(void)state;
	end_spans(tp, 0, 5);
	assert_true(TEXP_WAIT(texp.in_export));
	end_spans(tp, 5, 17);
	s = stats_of(p);
	assert_int_equal(s.enqueued, 15);
	assert_int_equal(s.dropped, 7);
	assert_int_equal(s.exported, 0);

	texp_release();
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	s = stats_of(p);
	assert_int_equal(s.exported, 15);
	assert_int_equal(s.batches, 3);
	assert_int_equal(TEXP(spans), 15);
	for (int i = 0; i < 15; i++)
		assert_int_equal(texp.seen[i], 1);
	for (int i = 15; i < 22; i++)
		assert_int_equal(texp.seen[i], 0);
	teardown_pipeline(tp, p);
}

/* Full batches go out without waiting for the delay; the rest waits for it (or a flush). */
static void test_batch_size_respected(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);

	(void)state;
	end_spans(tp, 0, 35);
	assert_true(TEXP_WAIT(texp.spans == 30));
	usleep(50000); /* give a wrong implementation time to export the partial batch */
	assert_int_equal(TEXP(calls), 3);
	assert_int_equal(TEXP(spans), 30);
	assert_int_equal(TEXP(max_batch), 10);
	assert_int_equal(stats_of(p).batches, 3);

	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(calls), 4);
	assert_int_equal(TEXP(spans), 35);
	assert_int_equal(TEXP(flushes), 1);
	teardown_pipeline(tp, p);
}

/* A partial batch goes out when the schedule delay expires, with no flush. */
static void test_schedule_delay_exports_partial_batch(void **state)
{
	otel_span_processor *p = batch_new(100, 50, 100, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);

	(void)state;
	end_spans(tp, 0, 3);
	assert_true(TEXP_WAIT(texp.spans == 3));
	assert_int_equal(TEXP(calls), 1);
	assert_int_equal(TEXP(flushes), 0);
	assert_int_equal(stats_of(p).exported, 3);
	teardown_pipeline(tp, p);
}

/* Each export gets the export timeout as its deadline. */
static void test_export_deadline(void **state)
{
	OTEL_OPTS(otel_batch_opts, o, .export_timeout_ms = 1234, .schedule_delay_ms = 60000,
		  .ignore_env = true);
	otel_span_processor *p = otel_batch_span_processor_new(texp_init(BLOCK_NONE, false), &o);
	otel_tracer_provider *tp = provider_with(p, NULL);
	uint64_t left;

	(void)state;
	end_spans(tp, 0, 1);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	left = TEXP(last_timeout_ns) / 1000000;
	assert_true(left <= 1234 && left >= 1134);
	teardown_pipeline(tp, p);
}

/* force_flush exports everything queued at the call and flushes the exporter. */
static void test_force_flush_exports_all(void **state)
{
	otel_span_processor *p = batch_new(2048, 512, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);

	(void)state;
	end_spans(tp, 0, 1000);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(spans), 1000);
	assert_int_equal(TEXP(calls), 2); /* 512 + 488 */
	assert_int_equal(TEXP(max_batch), 512);
	assert_int_equal(TEXP(flushes), 1);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0); /* nothing queued */
	assert_int_equal(TEXP(calls), 2);
	assert_int_equal(TEXP(flushes), 2);
	teardown_pipeline(tp, p);
}

/*
 * Failed exports are counted as such, not as exported, and a flush that saw
 * one says so (the partial batch of 5 is only exported by the flush itself).
 */
static void test_export_failures_counted(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_NONE, true));
	otel_tracer_provider *tp = provider_with(p, NULL);
	struct otel_batch_stats s;

	(void)state;
	end_spans(tp, 0, 25);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), -EIO);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0); /* nothing lost since */
	s = stats_of(p);
	assert_int_equal(s.export_failures, 25);
	assert_int_equal(s.exported, 0);
	assert_int_equal(s.batches, 3);
	assert_int_equal(TEXP(calls), 3);
	teardown_pipeline(tp, p);
}

/* Spans that are recorded but not sampled are never exported. */
static void test_unsampled_not_exported(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, &record_only_sampler);
	struct otel_batch_stats s;

	(void)state;
	end_spans(tp, 0, 20);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	s = stats_of(p);
	assert_int_equal(s.enqueued, 0);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(TEXP(calls), 0);
	teardown_pipeline(tp, p);
}

/* With the exporter stuck, force_flush gives up at its deadline. */
static void test_force_flush_timeout(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_HANG, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	uint64_t start;

	(void)state;
	end_spans(tp, 0, 3);
	start = otel_mono_ns();
	assert_int_equal(otel_span_processor_force_flush(p, 300), -ETIMEDOUT);
	assert_true(elapsed_ms(start) >= 299);
	assert_true(elapsed_ms(start) < 300 + 200);
	assert_true(TEXP(in_export));
	texp_release();
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(spans), 3);
	teardown_pipeline(tp, p);
}

/* Shutdown exports what is queued, shuts the exporter down once, then ignores everything. */
static void test_shutdown_flushes_once(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	struct otel_batch_stats s;

	(void)state;
	end_spans(tp, 0, 15);
	assert_int_equal(otel_span_processor_shutdown(p, 10000), 0);
	assert_int_equal(TEXP(spans), 15);
	assert_int_equal(TEXP(shutdowns), 1);
	assert_int_equal(otel_span_processor_shutdown(p, 10000), 0);
	assert_int_equal(TEXP(shutdowns), 1);

	end_spans(tp, 15, 4); /* the provider still runs; the processor drops */
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	s = stats_of(p);
	assert_int_equal(s.exported, 15);
	assert_int_equal(s.dropped, 4);
	assert_int_equal(s.enqueued, 15);
	assert_int_equal(TEXP(calls), 2);
	assert_false(TEXP(destroyed));
	teardown_pipeline(tp, p);
}

/*
 * An export that hangs until the exporter is shut down: shutdown returns at
 * its deadline plus the short grace, having cut the export off.
 */
static void test_shutdown_hanging_exporter(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_HANG, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	uint64_t start;

	(void)state;
	end_spans(tp, 0, 25); /* two full batches: the first hangs, the second waits */
	assert_true(TEXP_WAIT(texp.in_export));
	start = otel_mono_ns();
	assert_int_equal(otel_span_processor_shutdown(p, 300), -ETIMEDOUT);
	assert_true(elapsed_ms(start) >= 299);
	assert_true(elapsed_ms(start) < 300 + 100 + 200);
	assert_false(TEXP(in_export));
	assert_int_equal(TEXP(shutdowns), 1);
	assert_int_equal(TEXP(calls), 1); /* nothing more went to the shut-down exporter */
	/* the cut-off batch failed; the rest was dropped */
	assert_int_equal(stats_of(p).export_failures, 10);
	assert_int_equal(stats_of(p).dropped, 15);
	teardown_pipeline(tp, p);
}

/*
 * An exporter that ignores shutdown: shutdown still returns in time and the
 * worker is left behind; when the export finally returns, the worker frees
 * the processor and the exporter by itself (it holds the last reference).
 */
static void test_shutdown_detaches_stuck_worker(void **state)
{
	otel_span_processor *p = batch_new(100, 10, 60000, texp_init(BLOCK_GATE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	uint64_t start;

	(void)state;
	end_spans(tp, 0, 10);
	assert_true(TEXP_WAIT(texp.in_export));
	start = otel_mono_ns();
	assert_int_equal(otel_tracer_provider_shutdown(tp, 200), -ETIMEDOUT);
	assert_true(elapsed_ms(start) >= 199);
	assert_true(elapsed_ms(start) < 200 + 100 + 200);
	assert_int_equal(TEXP(shutdowns), 1);
	otel_tracer_provider_free(tp);
	otel_span_processor_unref(p);
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

/* OTEL_BSP_*: batch size above the queue size is clamped to it; delays come from env. */
static void test_env_queue_and_clamped_batch(void **state)
{
	otel_span_processor *p;
	otel_tracer_provider *tp;
	struct otel_batch_stats s;

	(void)state;
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4", 1);
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8", 1);
	setenv("OTEL_BSP_SCHEDULE_DELAY", "60000", 1);
	p = otel_batch_span_processor_new(texp_init(BLOCK_GATE, false), NULL);
	assert_non_null(p);
	tp = provider_with(p, NULL);
	end_spans(tp, 0, 4); /* a full batch of 4 (clamped): the worker takes it */
	assert_true(TEXP_WAIT(texp.in_export));
	end_spans(tp, 4, 7); /* 4 fill the queue, 3 are dropped */
	s = stats_of(p);
	assert_int_equal(s.enqueued, 8);
	assert_int_equal(s.dropped, 3);
	texp_release();
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(max_batch), 4);
	assert_int_equal(TEXP(calls), 2);
	teardown_pipeline(tp, p);
	unsetenv("OTEL_BSP_MAX_QUEUE_SIZE");
	unsetenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
	unsetenv("OTEL_BSP_SCHEDULE_DELAY");
}

/* Invalid values warn and give the defaults (queue 2048, batch 512); options beat env. */
static void test_env_invalid_and_override(void **state)
{
	OTEL_OPTS(otel_batch_opts, o, .max_export_batch_size = 100);
	otel_span_processor *p;
	otel_tracer_provider *tp;
	struct otel_batch_stats s;

	(void)state;
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "lots", 1);
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0", 1);
	setenv("OTEL_BSP_SCHEDULE_DELAY", "-5", 1);
	p = otel_batch_span_processor_new(texp_init(BLOCK_GATE, false), NULL);
	assert_non_null(p);
	tp = provider_with(p, NULL);
	end_spans(tp, 0, 512); /* the default batch: the worker takes it at once */
	assert_true(TEXP_WAIT(texp.in_export));
	end_spans(tp, 512, 2048 + 5);
	s = stats_of(p);
	assert_int_equal(s.enqueued, 512 + 2048);
	assert_int_equal(s.dropped, 5);
	texp_release();
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(max_batch), 512);
	assert_int_equal(TEXP(spans), 512 + 2048);
	teardown_pipeline(tp, p);

	/* a non-zero option wins over the variable */
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "7", 1);
	p = otel_batch_span_processor_new(texp_init(BLOCK_NONE, false), &o);
	tp = provider_with(p, NULL);
	end_spans(tp, 0, 150);
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(max_batch), 100);
	assert_int_equal(TEXP(calls), 2);
	teardown_pipeline(tp, p);
	unsetenv("OTEL_BSP_MAX_QUEUE_SIZE");
	unsetenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
	unsetenv("OTEL_BSP_SCHEDULE_DELAY");
}

/* OTEL_BSP_SCHEDULE_DELAY=0: every span goes out as soon as the worker sees it. */
static void test_env_zero_delay(void **state)
{
	otel_span_processor *p;
	otel_tracer_provider *tp;

	(void)state;
	setenv("OTEL_BSP_SCHEDULE_DELAY", "0", 1);
	p = otel_batch_span_processor_new(texp_init(BLOCK_NONE, false), NULL);
	unsetenv("OTEL_BSP_SCHEDULE_DELAY");
	assert_non_null(p);
	tp = provider_with(p, NULL);
	end_spans(tp, 0, 1);
	assert_true(TEXP_WAIT(texp.spans == 1));
	end_spans(tp, 1, 2);
	assert_true(TEXP_WAIT(texp.spans == 3));
	assert_int_equal(TEXP(flushes), 0);
	assert_int_equal(TEXP(duplicates), 0);
	teardown_pipeline(tp, p);
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
static int child_checks(otel_tracer_provider *tp, otel_span_processor *p)
{
	struct otel_batch_stats s;

	end_spans(tp, 100, 5);
	if (otel_span_processor_force_flush(p, 5000))
		return CHILD_FLUSH_FAILED;
	if (texp.spans != 5)
		return CHILD_WRONG_COUNT;
	for (int i = 0; i < 105; i++)
		if (texp.seen[i] != (i >= 100))
			return CHILD_WRONG_SPANS;
	s = stats_of(p);
	/* the 3 spans queued in the parent are dropped in the child, not exported twice */
	if (s.dropped != 3 || s.exported != 5)
		return CHILD_WRONG_STATS;
	end_spans(tp, 200, 2);
	if (otel_span_processor_shutdown(p, 5000) || texp.spans != 7 || texp.shutdowns != 1)
		return CHILD_SHUTDOWN_FAILED;
	return CHILD_OK;
}

static void test_fork_child_exports(void **state)
{
	otel_span_processor *p = batch_new(100, 50, 60000, texp_init(BLOCK_NONE, false));
	otel_tracer_provider *tp = provider_with(p, NULL);
	int status;
	pid_t pid;

	(void)state;
	end_spans(tp, 0, 3); /* queued, not exported yet, when the process forks */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = child_checks(tp, p);

		otel_tracer_provider_free(tp);
		otel_span_processor_unref(p);
		exit(rc); /* exit, not _exit: leak checking runs in the child too */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);

	/* the parent's pipeline is untouched: its 3 spans go out here */
	assert_int_equal(otel_span_processor_force_flush(p, 10000), 0);
	assert_int_equal(TEXP(spans), 3);
	assert_int_equal(stats_of(p).dropped, 0);
	teardown_pipeline(tp, p);
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
