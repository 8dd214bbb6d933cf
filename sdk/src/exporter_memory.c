// SPDX-License-Identifier: Apache-2.0
/*
 * The in-memory exporter, for tests: keeps a reference to every exported
 * span, in export order, until reset or destroy. After shutdown, exports
 * fail as the spec requires, but the kept spans stay readable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <otel/export.h>

struct memory_exporter {
	struct otel_span_exporter base;
	pthread_mutex_t lock;
	const struct otel_span_data **spans;
	size_t n, cap;
	bool shut_down;
};

static const struct otel_span_exporter_ops memory_ops;

/* The memory exporter behind @exp, or NULL (errno EINVAL) for another kind. */
static struct memory_exporter *memory_of(struct otel_span_exporter *exp)
{
	if (!exp || exp->ops != &memory_ops) {
		errno = EINVAL;
		return NULL;
	}
	return (struct memory_exporter *)exp;
}

static bool reserve(struct memory_exporter *m, size_t extra)
{
	size_t cap = m->cap ? m->cap : 16;
	const struct otel_span_data **p;

	if (extra > SIZE_MAX / sizeof(*p) - m->n)
		return false;
	if (m->n + extra <= m->cap)
		return true;
	while (cap < m->n + extra)
		cap *= 2;
	p = realloc(m->spans, cap * sizeof(*p));
	if (!p)
		return false;
	m->spans = p;
	m->cap = cap;
	return true;
}

static enum otel_export_result memory_export(struct otel_span_exporter *exp,
					     const struct otel_span_data *const *spans, size_t n,
					     uint64_t deadline_ns)
{
	struct memory_exporter *m = (struct memory_exporter *)exp;
	enum otel_export_result res = OTEL_EXPORT_FAILURE;

	(void)deadline_ns;
	pthread_mutex_lock(&m->lock);
	if (!m->shut_down && reserve(m, n)) {
		for (size_t i = 0; i < n; i++)
			m->spans[m->n++] = otel_span_data_ref(spans[i]);
		res = OTEL_EXPORT_SUCCESS;
	}
	pthread_mutex_unlock(&m->lock);
	return res;
}

static int memory_force_flush(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	(void)exp;
	(void)deadline_ns;
	return 0;
}

static int memory_shutdown(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct memory_exporter *m = (struct memory_exporter *)exp;

	(void)deadline_ns;
	pthread_mutex_lock(&m->lock);
	m->shut_down = true;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* Release every kept span; called with the lock held (or at destroy). */
static void drop_all(struct memory_exporter *m)
{
	for (size_t i = 0; i < m->n; i++)
		otel_span_data_unref(m->spans[i]);
	m->n = 0;
}

static void memory_destroy(struct otel_span_exporter *exp)
{
	struct memory_exporter *m = (struct memory_exporter *)exp;

	drop_all(m);
	free(m->spans);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct otel_span_exporter_ops memory_ops = {
	.export_spans = memory_export,
	.force_flush = memory_force_flush,
	.shutdown = memory_shutdown,
	.destroy = memory_destroy,
};

struct otel_span_exporter *otel_memory_exporter_new(void)
{
	struct memory_exporter *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &memory_ops;
	pthread_mutex_init(&m->lock, NULL);
	return &m->base;
}

size_t otel_memory_exporter_count(struct otel_span_exporter *exp)
{
	struct memory_exporter *m = memory_of(exp);
	size_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->n;
	pthread_mutex_unlock(&m->lock);
	return n;
}

const struct otel_span_data *otel_memory_exporter_get(struct otel_span_exporter *exp, size_t i)
{
	struct memory_exporter *m = memory_of(exp);
	const struct otel_span_data *d = NULL;

	if (!m)
		return NULL;
	pthread_mutex_lock(&m->lock);
	if (i < m->n)
		d = m->spans[i];
	pthread_mutex_unlock(&m->lock);
	return d;
}

const struct otel_span_data *otel_memory_exporter_find(struct otel_span_exporter *exp,
						       const char *name)
{
	struct memory_exporter *m = memory_of(exp);
	const struct otel_span_data *d = NULL;

	if (!m || !name)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n && !d; i++)
		if (m->spans[i]->name && !strcmp(m->spans[i]->name, name))
			d = m->spans[i];
	pthread_mutex_unlock(&m->lock);
	return d;
}

void otel_memory_exporter_reset(struct otel_span_exporter *exp)
{
	struct memory_exporter *m = memory_of(exp);

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	drop_all(m);
	pthread_mutex_unlock(&m->lock);
}
