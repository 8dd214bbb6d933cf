// SPDX-License-Identifier: Apache-2.0
/*
 * The Batch span processor (OpenTelemetry spec, "Batching processor").
 *
 * Threads that end spans only push a reference into a bounded lock-free queue
 * (mpsc_queue.h): no lock, no I/O, no syscall in the common case. A full queue
 * drops the span and counts it. One worker thread owns every call into the
 * exporter, so exports never overlap: it waits up to the schedule delay for a
 * full batch, exports batches of at most max_export_batch_size, and serves
 * force_flush() and shutdown() requests, which other threads post and wait
 * for with a timeout.
 *
 * Sleeping and waking use futexes on "event counters" (wake_seq, done_seq):
 * a waiter reads the counter, checks its condition, and sleeps only while the
 * counter is unchanged, so a wake-up between check and sleep is never lost.
 * Producers wake the worker only when it sleeps and a full batch is queued.
 *
 * Shutdown never hangs: if the deadline passes while an export is stuck, the
 * exporter's shutdown() (whose contract is to make that export return) is
 * called, the worker gets a short grace to exit, and is detached otherwise.
 * A detached worker keeps its own reference to the processor's memory (the
 * `users` count); the last of owner and worker frees it. If that export never
 * returns, the thread and the processor's memory stay allocated for the life
 * of the process, which is the price of not hanging the caller.
 *
 * After fork() the child has no worker: the atfork hook (processor.h) marks
 * the processor as needing one, which the first on_end/force_flush/shutdown
 * in the child starts. Spans the child inherited from the parent are dropped
 * and counted, never exported twice.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "env.h"
#include "log.h"
#include "mpsc_queue.h"
#include "processor.h"

#define BSP_DEFAULT_QUEUE 2048
#define BSP_DEFAULT_DELAY_MS 5000
#define BSP_DEFAULT_EXPORT_TIMEOUT_MS 30000
#define BSP_DEFAULT_BATCH 512
/* How long shutdown waits for a worker to leave a cut-off export before detaching it. */
#define BSP_SHUTDOWN_GRACE_MS 100

enum {
	MODE_STOPPED = 1u << 0, /* shut down: on_end drops */
	MODE_NEED_WORKER = 1u << 1, /* forked child: no worker thread yet */
};

struct batch_processor {
	struct otel_span_processor base;
	struct otel_mpsc_queue q;
	struct otel_span_exporter *exp;
	uint32_t batch_size;
	uint32_t delay_ms;
	uint32_t export_timeout_ms;
	/* Queue length that makes a producer wake a sleeping worker. */
	uint64_t wake_at;
	/* In a forked child: queue positions below this were inherited and are dropped. */
	uint64_t inherited_end;

	_Atomic uint32_t mode;
	_Atomic bool sleeping; /* the worker is (about to be) in futex_wait on wake_seq */
	_Atomic uint32_t wake_seq;
	_Atomic uint32_t flush_req; /* generation of the last flush request */
	_Atomic uint32_t flush_done; /* last generation the worker completed */
	_Atomic uint64_t flush_deadline; /* latest deadline among pending flushes, 0 = none */
	_Atomic uint32_t done_seq; /* bumped after flush_done or exited changes */
	_Atomic bool exited; /* the worker finished its final drain */
	_Atomic bool abandon; /* the shutdown deadline passed: export nothing more */
	_Atomic bool shutdown_called;

	_Atomic uint64_t dropped;
	_Atomic uint64_t exported;
	_Atomic uint64_t export_failures;
	_Atomic uint64_t batches;

	/*
	 * The batch being exported. Slots are cleared before their span is
	 * released, so a child forked mid-export knows which spans it still
	 * holds a reference to.
	 */
	const struct otel_span_data **batch;

	pthread_mutex_t worker_lock; /* starting and reaping the worker: slow paths only */
	pthread_t worker;
	bool has_thread; /* worker is joinable (started, not yet joined or detached) */
	_Atomic uint32_t users; /* the owner, plus the worker while it runs */
	struct otel_fork_hook fork;
};

#define batch_of(P) ((struct batch_processor *)(P))

static const struct otel_span_processor_ops batch_ops;

/* ---- Futex helpers ---- */

/* Sleep while *@addr == @val, until @deadline_ns (CLOCK_MONOTONIC; UINT64_MAX = forever). */
static void futex_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
			       .tv_nsec = (long)(deadline_ns % 1000000000ull) };

	/* WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, unlike plain WAIT */
	syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, val,
		deadline_ns == UINT64_MAX ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Bump an event counter and wake @n of its waiters. */
static void event_signal(_Atomic uint32_t *seq, int n)
{
	atomic_fetch_add(seq, 1);
	futex_wake(seq, n);
}

/* True when generation @a is at or past @b (wrap-safe). */
static bool gen_reached(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* ---- Small shared steps ---- */

static void drop_span(struct batch_processor *b, const struct otel_span_data *span)
{
	otel_span_data_unref(span);
	atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
}

static void batch_free(struct batch_processor *b)
{
	const struct otel_span_data *span;

	for (uint32_t i = 0; i < b->batch_size; i++)
		otel_span_data_unref(b->batch[i]);
	while (otel_mpsc_size(&b->q))
		if ((span = otel_mpsc_pop_wait(&b->q)))
			otel_span_data_unref(span);
	otel_mpsc_fini(&b->q);
	free(b->batch);
	otel_span_exporter_free(b->exp);
	pthread_mutex_destroy(&b->worker_lock);
	free(b);
}

/* Drop one of the owner's or the worker's hold; the last one frees. */
static void batch_release(struct batch_processor *b)
{
	if (atomic_fetch_sub(&b->users, 1) == 1)
		batch_free(b);
}

/* Wake the worker whatever it is doing (slow paths: flush, shutdown). */
static void batch_kick(struct batch_processor *b)
{
	atomic_store(&b->sleeping, false);
	event_signal(&b->wake_seq, 1);
}

/* ---- The worker ---- */

static bool worker_has_work(struct batch_processor *b)
{
	return (atomic_load(&b->mode) & MODE_STOPPED) ||
	       atomic_load(&b->flush_req) != atomic_load(&b->flush_done) ||
	       otel_mpsc_size(&b->q) >= b->wake_at;
}

/*
 * Sleep until there is work or @deadline_ns passes; true on the deadline.
 * The seq_cst store of `sleeping` before re-checking the queue pairs with
 * the producer's seq_cst push before it reads `sleeping` (see on_end): one of
 * the two always sees the other.
 */
static bool worker_wait(struct batch_processor *b, uint64_t deadline_ns)
{
	while (!worker_has_work(b)) {
		uint32_t seq;

		if (otel_mono_ns() >= deadline_ns)
			return true;
		seq = atomic_load(&b->wake_seq);
		atomic_store(&b->sleeping, true);
		if (!worker_has_work(b))
			futex_wait(&b->wake_seq, seq, deadline_ns);
		atomic_store(&b->sleeping, false);
	}
	return false;
}

static void export_batch(struct batch_processor *b, size_t n)
{
	enum otel_export_result res;
	const struct otel_span_data *span;

	if (atomic_load(&b->abandon)) {
		atomic_fetch_add_explicit(&b->dropped, n, memory_order_relaxed);
	} else {
		res = b->exp->ops->export_spans(b->exp, b->batch, n,
						otel_deadline_after_ms(b->export_timeout_ms));
		atomic_fetch_add_explicit(&b->batches, 1, memory_order_relaxed);
		if (res == OTEL_EXPORT_SUCCESS) {
			atomic_fetch_add_explicit(&b->exported, n, memory_order_relaxed);
		} else {
			atomic_fetch_add_explicit(&b->export_failures, n, memory_order_relaxed);
			otel_log_ratelimited(OTEL_LOG_WARN,
					     "batch processor: export of %zu spans failed", n);
		}
	}
	for (size_t i = 0; i < n; i++) {
		span = b->batch[i];
		__atomic_store_n(&b->batch[i], NULL, __ATOMIC_RELAXED);
		otel_span_data_unref(span);
	}
}

/*
 * Export what is queued now, in batches of at most batch_size; with
 * @partial false only full batches. Returns the number of spans taken.
 */
static uint64_t export_queued(struct batch_processor *b, bool partial)
{
	uint64_t end = otel_mpsc_claimed(&b->q), total = 0;

	for (;;) {
		uint64_t avail = end - otel_mpsc_consumed(&b->q);
		size_t n = avail < b->batch_size ? (size_t)avail : b->batch_size;

		if (!n || (!partial && n < b->batch_size))
			return total;
		/* every position below `end` was claimed: each slot is published or about to be */
		for (size_t i = 0; i < n; i++)
			__atomic_store_n(&b->batch[i], otel_mpsc_pop_wait(&b->q), __ATOMIC_RELAXED);
		export_batch(b, n);
		total += n;
	}
}

/* Spans a forked child inherited (queued, or in the parent's batch) are not ours to export. */
static void drop_inherited(struct batch_processor *b)
{
	const struct otel_span_data *span;

	for (uint32_t i = 0; i < b->batch_size; i++) {
		if ((span = b->batch[i])) {
			b->batch[i] = NULL;
			drop_span(b, span);
		}
	}
	while (otel_mpsc_consumed(&b->q) < b->inherited_end) {
		/* the fork hook published the claims of the parent's other threads as NULL */
		if ((span = otel_mpsc_pop_wait(&b->q)))
			otel_span_data_unref(span);
		atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
	}
}

/* Complete flush generation @req: after the spans, the exporter's own buffers. */
static void finish_flush(struct batch_processor *b, uint32_t req, bool flush_exporter)
{
	uint64_t deadline = atomic_exchange(&b->flush_deadline, 0);

	if (flush_exporter && b->exp->ops->force_flush && !atomic_load(&b->abandon))
		b->exp->ops->force_flush(
			b->exp, deadline ? deadline : otel_deadline_after_ms(b->export_timeout_ms));
	atomic_store(&b->flush_done, req);
	event_signal(&b->done_seq, INT_MAX);
}

static void *batch_worker(void *arg)
{
	struct batch_processor *b = arg;
	uint64_t timer = otel_deadline_after_ms(b->delay_ms);

	drop_inherited(b);
	while (!(atomic_load(&b->mode) & MODE_STOPPED)) {
		/* a zero delay means "export as soon as anything is queued" (wake_at is 1) */
		bool timed_out = worker_wait(b, b->delay_ms ? timer : UINT64_MAX);
		uint32_t req = atomic_load(&b->flush_req);

		if (req != atomic_load(&b->flush_done)) {
			export_queued(b, true);
			finish_flush(b, req, true);
			timer = otel_deadline_after_ms(b->delay_ms);
		} else if (export_queued(b, timed_out || !b->delay_ms) || timed_out) {
			/* the spec's delay runs from the end of the previous export */
			timer = otel_deadline_after_ms(b->delay_ms);
		}
	}
	export_queued(b, true);
	/* the exporter is flushed by its shutdown, which the shutdown caller does next */
	finish_flush(b, atomic_load(&b->flush_req), false);
	atomic_store(&b->exited, true);
	event_signal(&b->done_seq, INT_MAX);
	batch_release(b);
	return NULL;
}

/*
 * Start the worker if this process has none (a forked child). With @wait
 * false (on_end) it never blocks: if another thread is starting it, that is
 * enough. Returns 0 or a negative errno from pthread_create.
 */
static int batch_start_worker(struct batch_processor *b, bool wait)
{
	sigset_t all, old;
	int err = 0;

	if (!wait && pthread_mutex_trylock(&b->worker_lock))
		return 0;
	if (wait)
		pthread_mutex_lock(&b->worker_lock);
	if (atomic_load(&b->mode) == MODE_NEED_WORKER) {
		atomic_fetch_add(&b->users, 1);
		/* the worker must not take the host program's signals */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = -pthread_create(&b->worker, NULL, batch_worker, b);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err) {
			atomic_fetch_sub(&b->users, 1); /* never the last: the owner holds one */
			otel_log_ratelimited(OTEL_LOG_ERROR,
					     "batch processor: no worker thread: %s",
					     strerror(-err));
		} else {
			pthread_setname_np(b->worker, "otel-bsp");
			b->has_thread = true;
			atomic_fetch_and(&b->mode, ~(uint32_t)MODE_NEED_WORKER);
		}
	}
	pthread_mutex_unlock(&b->worker_lock);
	return err;
}

/* ---- The processor's operations ---- */

static void batch_on_end(otel_span_processor *p, const struct otel_span_data *span)
{
	struct batch_processor *b = batch_of(p);
	uint32_t mode;

	if (!otel_span_context_is_sampled(&span->context))
		return;
	mode = atomic_load_explicit(&b->mode, memory_order_acquire);
	if (__builtin_expect(mode != 0, 0)) {
		if (mode & MODE_STOPPED) {
			atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
			return;
		}
		batch_start_worker(b, false);
	}
	if (!otel_mpsc_push(&b->q, (void *)otel_span_data_ref(span))) {
		drop_span(b, span);
		return;
	}
	/* Only atomics here; the syscall happens once per batch, and only if the worker sleeps. */
	if (atomic_load(&b->sleeping) && otel_mpsc_size(&b->q) >= b->wake_at &&
	    atomic_exchange(&b->sleeping, false))
		event_signal(&b->wake_seq, 1);
}

static void atomic_max_u64(_Atomic uint64_t *v, uint64_t x)
{
	uint64_t cur = atomic_load(v);

	while (cur < x && !atomic_compare_exchange_weak(v, &cur, x))
		;
}

/* Wait until @done(b, arg) holds or @deadline_ns passes; true when it holds. */
static bool wait_done(struct batch_processor *b, bool (*done)(struct batch_processor *, uint32_t),
		      uint32_t arg, uint64_t deadline_ns)
{
	for (;;) {
		uint32_t seq = atomic_load(&b->done_seq);

		if (done(b, arg))
			return true;
		if (otel_mono_ns() >= deadline_ns)
			return false;
		futex_wait(&b->done_seq, seq, deadline_ns);
	}
}

static bool flush_completed(struct batch_processor *b, uint32_t gen)
{
	return gen_reached(atomic_load(&b->flush_done), gen) || atomic_load(&b->exited);
}

static bool worker_exited(struct batch_processor *b, uint32_t unused)
{
	(void)unused;
	return atomic_load(&b->exited);
}

static int batch_force_flush(otel_span_processor *p, uint32_t timeout_ms)
{
	struct batch_processor *b = batch_of(p);
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	uint32_t mode = atomic_load(&b->mode), gen;
	uint64_t failures;
	int err;

	if (mode & MODE_STOPPED)
		return 0; /* the spec: calls after shutdown are ignored */
	if ((mode & MODE_NEED_WORKER) && (err = batch_start_worker(b, true)))
		return err;
	failures = atomic_load(&b->export_failures);
	gen = atomic_fetch_add(&b->flush_req, 1) + 1;
	atomic_max_u64(&b->flush_deadline, deadline);
	batch_kick(b);
	if (!wait_done(b, flush_completed, gen, deadline))
		return -ETIMEDOUT;
	/* Tell the caller when spans were lost meanwhile (the spec's "failed"). */
	return atomic_load(&b->export_failures) != failures ? -EIO : 0;
}

/* Spans pushed by on_end calls that raced with shutdown, after the worker's last drain. */
static void drop_leftovers(struct batch_processor *b)
{
	const struct otel_span_data *span;

	while (otel_mpsc_size(&b->q))
		if ((span = otel_mpsc_pop_wait(&b->q)))
			drop_span(b, span);
}

/*
 * Wait for the stopped worker until @deadline_ns; past it, cut off the export
 * in flight through the exporter's shutdown and detach the worker if it does
 * not leave within the grace. Returns 0, or -ETIMEDOUT when the exporter's
 * shutdown was already called here. (The wait is on `exited` rather than a
 * timed join: that keeps to CLOCK_MONOTONIC, and the worker returns right
 * after setting it, so the join that follows is immediate.)
 */
static int reap_worker(struct batch_processor *b, uint64_t deadline_ns)
{
	pthread_t t;
	bool self;

	pthread_mutex_lock(&b->worker_lock);
	t = b->worker;
	self = b->has_thread && pthread_equal(t, pthread_self());
	if (!b->has_thread || self) {
		/*
		 * Shut down on the worker itself (say, by the last release of a
		 * span it just exported, ending its provider): it cannot wait for
		 * itself; it exits when this returns and exports nothing more, as
		 * the exporter is shut down next.
		 */
		if (self) {
			pthread_detach(t);
			atomic_store(&b->abandon, true);
		}
		b->has_thread = false;
		pthread_mutex_unlock(&b->worker_lock);
		return 0;
	}
	b->has_thread = false;
	pthread_mutex_unlock(&b->worker_lock);

	if (wait_done(b, worker_exited, 0, deadline_ns)) {
		pthread_join(t, NULL);
		return 0;
	}
	atomic_store(&b->abandon, true);
	if (b->exp->ops->shutdown)
		b->exp->ops->shutdown(b->exp, otel_deadline_after_ms(BSP_SHUTDOWN_GRACE_MS));
	if (wait_done(b, worker_exited, 0, otel_deadline_after_ms(BSP_SHUTDOWN_GRACE_MS))) {
		pthread_join(t, NULL);
	} else {
		otel_log(OTEL_LOG_ERROR,
			 "batch processor: exporter did not return from export after shutdown; "
			 "leaving its thread behind");
		pthread_detach(t);
	}
	return -ETIMEDOUT;
}

static int batch_shutdown(otel_span_processor *p, uint32_t timeout_ms)
{
	struct batch_processor *b = batch_of(p);
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	int ret;

	if (atomic_exchange(&b->shutdown_called, true))
		return 0;
	/* a child that never used the processor starts a worker to export what it queued */
	if (atomic_load(&b->mode) & MODE_NEED_WORKER)
		batch_start_worker(b, true);
	atomic_fetch_or(&b->mode, MODE_STOPPED);
	batch_kick(b);
	ret = reap_worker(b, deadline);
	if (!ret && b->exp->ops->shutdown)
		ret = b->exp->ops->shutdown(b->exp, deadline);
	if (atomic_load(&b->exited))
		drop_leftovers(b);
	return ret == -ETIMEDOUT ? ret : 0;
}

static void batch_destroy(otel_span_processor *p)
{
	struct batch_processor *b = batch_of(p);

	batch_shutdown(p, 5000); /* a no-op after the usual otel_span_processor_unref() */
	otel_fork_hook_del(&b->fork);
	batch_release(b);
}

/*
 * In the child after fork(), single-threaded: no worker exists, locks may
 * be held by threads that are gone. Only plain stores here; the spans to
 * drop are released later by the child's worker (drop_inherited()).
 */
static void batch_fork_child(struct otel_fork_hook *h)
{
	struct batch_processor *b = (void *)((char *)h - offsetof(struct batch_processor, fork));
	bool stopped = atomic_load(&b->mode) & MODE_STOPPED;

	pthread_mutex_init(&b->worker_lock, NULL);
	b->has_thread = false;
	atomic_store(&b->users, 1);
	b->inherited_end = otel_mpsc_abandon_claims(&b->q);
	atomic_store(&b->mode, stopped ? MODE_STOPPED : MODE_NEED_WORKER);
	atomic_store(&b->sleeping, false);
	atomic_store(&b->flush_done, atomic_load(&b->flush_req));
	atomic_store(&b->flush_deadline, 0);
	atomic_store(&b->exited, stopped);
}

static const struct otel_span_processor_ops batch_ops = {
	.on_end = batch_on_end,
	.force_flush = batch_force_flush,
	.shutdown = batch_shutdown,
	.destroy = batch_destroy,
};

/* ---- Construction ---- */

/* An option: the field if non-zero, else the variable (unless ignored), else the default. */
static uint32_t bsp_param(uint32_t field, bool ignore_env, const char *env, uint32_t def,
			  bool zero_ok)
{
	uint32_t v;

	if (field || ignore_env)
		return field ? field : def;
	v = otel_env_u32(env, def);
	if (!v && !zero_ok) {
		otel_log(OTEL_LOG_WARN, "%s=0 is not allowed (must be at least 1); using %u", env,
			 def);
		return def;
	}
	return v;
}

static void batch_config(struct batch_processor *b, const struct otel_batch_opts *opts,
			 uint32_t *queue_size)
{
	struct otel_batch_opts o = { 0 };

	/* Callers built against an older, smaller struct get zeroes for the new fields. */
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	*queue_size = bsp_param(o.max_queue_size, o.ignore_env, "OTEL_BSP_MAX_QUEUE_SIZE",
				BSP_DEFAULT_QUEUE, false);
	b->delay_ms = bsp_param(o.schedule_delay_ms, o.ignore_env, "OTEL_BSP_SCHEDULE_DELAY",
				BSP_DEFAULT_DELAY_MS, true);
	b->export_timeout_ms = bsp_param(o.export_timeout_ms, o.ignore_env,
					 "OTEL_BSP_EXPORT_TIMEOUT", BSP_DEFAULT_EXPORT_TIMEOUT_MS,
					 false);
	b->batch_size = bsp_param(o.max_export_batch_size, o.ignore_env,
				  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", BSP_DEFAULT_BATCH, false);
	if (b->batch_size > *queue_size) {
		otel_log(OTEL_LOG_WARN,
			 "batch processor: max export batch size %u exceeds the queue size %u; "
			 "using %u",
			 b->batch_size, *queue_size, *queue_size);
		b->batch_size = *queue_size;
	}
	b->wake_at = b->delay_ms ? b->batch_size : 1;
}

static struct batch_processor *batch_alloc(struct otel_span_exporter *exp,
					   const struct otel_batch_opts *opts)
{
	struct batch_processor *b;
	uint32_t queue_size;
	int err;

	/* the queue's counters sit on their own cache lines, hence the alignment */
	if (posix_memalign((void **)&b, _Alignof(struct batch_processor), sizeof(*b))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	batch_config(b, opts, &queue_size);
	b->batch = calloc(b->batch_size, sizeof(*b->batch));
	err = b->batch ? otel_mpsc_init(&b->q, queue_size) : -ENOMEM;
	if (err) {
		free(b->batch);
		free(b);
		errno = -err;
		return NULL;
	}
	b->base.ops = &batch_ops;
	b->base.refcount = 1;
	b->exp = exp;
	b->mode = MODE_NEED_WORKER;
	b->users = 1;
	pthread_mutex_init(&b->worker_lock, NULL);
	b->fork.child = batch_fork_child;
	return b;
}

/* The processor takes the exporter: on failure it is freed too (unless it is unusable). */
otel_span_processor *otel_batch_span_processor_new(struct otel_span_exporter *exp,
						   const struct otel_batch_opts *opts)
{
	struct batch_processor *b;
	int err;

	if (!exp || !exp->ops || !exp->ops->export_spans) {
		errno = EINVAL;
		return NULL;
	}
	b = batch_alloc(exp, opts);
	if (!b) {
		err = errno;
		otel_span_exporter_free(exp);
		errno = err;
		return NULL;
	}
	/* registered first: a fork right after the worker starts must find the processor */
	otel_fork_hook_add(&b->fork);
	err = batch_start_worker(b, true);
	if (err) {
		otel_fork_hook_del(&b->fork);
		batch_free(b); /* frees the exporter */
		errno = -err;
		return NULL;
	}
	return &b->base;
}

int otel_batch_span_processor_stats(const otel_span_processor *p, struct otel_batch_stats *out)
{
	const struct batch_processor *b = (const struct batch_processor *)p;

	if (!p || !out || p->ops != &batch_ops)
		return -EINVAL;
	out->enqueued = otel_mpsc_claimed(&b->q);
	out->dropped = atomic_load_explicit(&b->dropped, memory_order_relaxed);
	out->exported = atomic_load_explicit(&b->exported, memory_order_relaxed);
	out->export_failures = atomic_load_explicit(&b->export_failures, memory_order_relaxed);
	out->batches = atomic_load_explicit(&b->batches, memory_order_relaxed);
	return 0;
}
