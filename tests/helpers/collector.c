// SPDX-License-Identifier: Apache-2.0
/* The test collector processor: see collector.h. */
#include <string.h>
#include "collector.h"

static void on_start(otel_span_processor *p, otel_span *span, const otel_context *parent)
{
	struct collector *c = (struct collector *)p;

	(void)span;
	(void)parent;
	__atomic_fetch_add(&c->started, 1, __ATOMIC_RELAXED);
}

static void on_end(otel_span_processor *p, const struct otel_span_data *d)
{
	struct collector *c = (struct collector *)p;

	pthread_mutex_lock(&c->lock);
	if (c->n < COLLECTOR_MAX)
		c->spans[c->n++] = otel_span_data_ref(d);
	pthread_mutex_unlock(&c->lock);
}

static int flush(otel_span_processor *p, uint32_t timeout_ms)
{
	(void)p;
	(void)timeout_ms;
	return 0;
}

static void destroy(otel_span_processor *p)
{
	(void)p; /* embedded in the test's struct collector */
}

static const struct otel_span_processor_ops collector_ops = {
	.on_start = on_start,
	.on_end = on_end,
	.force_flush = flush,
	.shutdown = flush,
	.destroy = destroy,
};

otel_tracer_provider *collector_provider(struct collector *c, const struct otel_span_limits *limits,
					 otel_sampler *sampler)
{
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "test") };
	otel_span_processor *procs[1] = { &c->proc };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	otel_tracer_provider *tp;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->proc.ops = &collector_ops;
	c->proc.refcount = 1;
	tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = sampler,
		.limits = limits,
		.processors = procs,
		.n_processors = 1,
	});
	otel_resource_unref(res);
	return tp;
}

void collector_free(struct collector *c, otel_tracer_provider *tp)
{
	otel_tracer_provider_free(tp);
	for (size_t i = 0; i < c->n; i++)
		otel_span_data_unref(c->spans[i]);
	c->n = 0;
	pthread_mutex_destroy(&c->lock);
}

const struct otel_span_data *collector_find(struct collector *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->spans[i]->name, name))
			return c->spans[i];
	return NULL;
}

const struct otel_attribute *span_attr(const struct otel_span_data *d, const char *key)
{
	for (size_t i = 0; i < d->n_attributes; i++)
		if (!strcmp(d->attributes[i].key, key))
			return &d->attributes[i];
	return NULL;
}

const char *span_str(const struct otel_span_data *d, const char *key)
{
	const struct otel_attribute *a = span_attr(d, key);

	return a && a->value.type == OTEL_VALUE_STRING ? a->value.str.ptr : "(none)";
}

int64_t span_int(const struct otel_span_data *d, const char *key)
{
	const struct otel_attribute *a = span_attr(d, key);

	return a && a->value.type == OTEL_VALUE_INT ? a->value.i : -1;
}
