// SPDX-License-Identifier: Apache-2.0
/*
 * Span processors in general and the Simple processor: the reference count
 * every processor carries (so several providers can share one), the public
 * flush/shutdown wrappers, the fork-repair registry (processor.h), and
 * otel_simple_span_processor_new(), which exports each sampled span on the
 * thread that ends it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "clock.h"
#include "log.h"
#include "processor.h"

/* The spec's default export timeout, used for every export of the Simple processor. */
#define SIMPLE_EXPORT_TIMEOUT_MS 30000
/* How long the last unref gives the processor to flush and shut down. */
#define UNREF_SHUTDOWN_TIMEOUT_MS 5000

/* ---- Reference count and the generic entry points ---- */

/*
 * A processor starts with refcount 1, held by its creator; each provider
 * takes its own. A custom processor should set refcount = 1 too; one left at
 * 0 is treated the same way (its first unref is its last).
 */
otel_span_processor *otel_span_processor_ref(otel_span_processor *p)
{
	if (p)
		__atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
	return p;
}

void otel_span_processor_unref(otel_span_processor *p)
{
	if (!p)
		return;
	/* acq_rel: the destroying thread must see every other holder's last writes */
	if (__atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	otel_span_processor_shutdown(p, UNREF_SHUTDOWN_TIMEOUT_MS);
	if (p->ops->destroy)
		p->ops->destroy(p);
}

int otel_span_processor_force_flush(otel_span_processor *p, uint32_t timeout_ms)
{
	if (!p)
		return -EINVAL;
	return p->ops->force_flush ? p->ops->force_flush(p, timeout_ms) : 0;
}

int otel_span_processor_shutdown(otel_span_processor *p, uint32_t timeout_ms)
{
	if (!p)
		return -EINVAL;
	/* The spec: shutdown happens once; later calls (the last unref's too) are no-ops. */
	if (__atomic_exchange_n(&p->shut_down, 1, __ATOMIC_ACQ_REL))
		return 0;
	return p->ops->shutdown ? p->ops->shutdown(p, timeout_ms) : 0;
}

/* ---- Fork repair ---- */

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static struct otel_fork_hook fork_hooks = { &fork_hooks, &fork_hooks, NULL };
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Holding the lock across fork() means the child's list is never half-edited. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&fork_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&fork_lock);
}

static void fork_child(void)
{
	for (struct otel_fork_hook *h = fork_hooks.next; h != &fork_hooks; h = h->next)
		h->child(h);
	pthread_mutex_unlock(&fork_lock);
}

static void fork_register(void)
{
	if (pthread_atfork(fork_prepare, fork_parent, fork_child))
		otel_log(OTEL_LOG_ERROR,
			 "pthread_atfork failed: processors will not work after fork");
}

void otel_fork_hook_add(struct otel_fork_hook *h)
{
	pthread_once(&fork_once, fork_register);
	pthread_mutex_lock(&fork_lock);
	h->next = &fork_hooks;
	h->prev = fork_hooks.prev;
	fork_hooks.prev->next = h;
	fork_hooks.prev = h;
	pthread_mutex_unlock(&fork_lock);
}

void otel_fork_hook_del(struct otel_fork_hook *h)
{
	pthread_mutex_lock(&fork_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	h->next = h->prev = h;
	pthread_mutex_unlock(&fork_lock);
}

/* ---- The Simple processor ---- */

struct simple_processor {
	struct otel_span_processor base;
	struct otel_span_exporter *exp;
	/* The spec forbids concurrent export() calls: spans ending together take turns. */
	pthread_mutex_t lock;
	_Atomic bool shut_down;
	struct otel_fork_hook fork;
};

#define simple_of(P) ((struct simple_processor *)(P))

static void simple_on_end(otel_span_processor *p, const struct otel_span_data *span)
{
	struct simple_processor *s = simple_of(p);
	enum otel_export_result res;

	if (!otel_span_context_is_sampled(&span->context) || atomic_load(&s->shut_down))
		return;
	pthread_mutex_lock(&s->lock);
	/* shutdown may have run while we waited; the exporter is closed then */
	if (!atomic_load(&s->shut_down)) {
		res = s->exp->ops->export_spans(s->exp, &span, 1,
						otel_deadline_after_ms(SIMPLE_EXPORT_TIMEOUT_MS));
		if (res != OTEL_EXPORT_SUCCESS)
			otel_log_ratelimited(OTEL_LOG_WARN, "simple processor: export failed");
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Take the export lock, giving up at @deadline_ns (monotonic). The deadline
 * is turned into wall time for pthread_mutex_timedlock(): a clock step during
 * the wait shifts it, but pthread_mutex_clocklock() is unknown to the thread
 * sanitizer, which then reports every unlock as wrong.
 */
static int simple_lock_until(struct simple_processor *s, uint64_t deadline_ns)
{
	uint64_t mono = otel_mono_ns(), wall;
	struct timespec ts;

	wall = otel_now_ns() + (deadline_ns > mono ? deadline_ns - mono : 0);
	ts.tv_sec = (time_t)(wall / 1000000000ull);
	ts.tv_nsec = (long)(wall % 1000000000ull);
	return -pthread_mutex_timedlock(&s->lock, &ts);
}

static int simple_force_flush(otel_span_processor *p, uint32_t timeout_ms)
{
	struct simple_processor *s = simple_of(p);
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	int ret;

	if (atomic_load(&s->shut_down))
		return 0;
	/* Spans were exported as they ended; taking the lock waits out an export in flight. */
	ret = simple_lock_until(s, deadline);
	if (ret)
		return ret;
	if (s->exp->ops->force_flush && !atomic_load(&s->shut_down))
		ret = s->exp->ops->force_flush(s->exp, deadline);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int simple_shutdown(otel_span_processor *p, uint32_t timeout_ms)
{
	struct simple_processor *s = simple_of(p);
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	int lock_err, ret = 0;

	if (atomic_exchange(&s->shut_down, true))
		return 0;
	/*
	 * Without the lock (an export hangs past the deadline) we shut the
	 * exporter down anyway: its contract is to make that export return.
	 */
	lock_err = simple_lock_until(s, deadline);
	if (s->exp->ops->shutdown)
		ret = s->exp->ops->shutdown(s->exp, deadline);
	if (!lock_err)
		pthread_mutex_unlock(&s->lock);
	if (lock_err || ret == -ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

static void simple_destroy(otel_span_processor *p)
{
	struct simple_processor *s = simple_of(p);

	otel_fork_hook_del(&s->fork);
	otel_span_exporter_free(s->exp);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The thread that held the lock in the parent does not exist in the child. */
static void simple_fork_child(struct otel_fork_hook *h)
{
	struct simple_processor *s = (void *)((char *)h - offsetof(struct simple_processor, fork));

	pthread_mutex_init(&s->lock, NULL);
}

static const struct otel_span_processor_ops simple_ops = {
	.on_end = simple_on_end,
	.force_flush = simple_force_flush,
	.shutdown = simple_shutdown,
	.destroy = simple_destroy,
};

/* The processor takes the exporter: on failure it is freed too (unless it is unusable). */
otel_span_processor *otel_simple_span_processor_new(struct otel_span_exporter *exp)
{
	struct simple_processor *s;

	if (!exp || !exp->ops || !exp->ops->export_spans) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		otel_span_exporter_free(exp);
		errno = ENOMEM;
		return NULL;
	}
	s->base.ops = &simple_ops;
	s->base.refcount = 1;
	s->exp = exp;
	pthread_mutex_init(&s->lock, NULL);
	s->fork.child = simple_fork_child;
	otel_fork_hook_add(&s->fork);
	return &s->base;
}
