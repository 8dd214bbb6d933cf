/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A span processor for tests that keeps every ended span (a reference to its
 * data) in order, synchronously, with no exporter in between: tests of the
 * core see exactly what the SDK hands to processors.
 */
#ifndef TESTS_COLLECTOR_H
#define TESTS_COLLECTOR_H

#include <pthread.h>
#include <otel/sdk.h>

#define COLLECTOR_MAX 4096

struct collector {
	otel_span_processor proc;
	pthread_mutex_t lock;
	const struct otel_span_data *spans[COLLECTOR_MAX];
	size_t n;
	size_t started;
};

/* Reset @c and return a provider (resource service.name=test) that feeds it. */
otel_tracer_provider *collector_provider(struct collector *c, const struct otel_span_limits *limits,
					 otel_sampler *sampler);
/* Free the provider and release every kept span. */
void collector_free(struct collector *c, otel_tracer_provider *tp);
/* The first kept span named @name, or NULL. */
const struct otel_span_data *collector_find(struct collector *c, const char *name);

/* Span data lookups for assertions: the attribute or NULL; its string or "(none)"; its int or -1. */
const struct otel_attribute *span_attr(const struct otel_span_data *d, const char *key);
const char *span_str(const struct otel_span_data *d, const char *key);
int64_t span_int(const struct otel_span_data *d, const char *key);

#endif
