/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of spans, tracers and providers, shared by span.c (the span's
 * life), tracer.c (providers, tracers, sampling at start) and context.c.
 */
#ifndef OTEL_SRC_SPAN_H
#define OTEL_SRC_SPAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <otel/sdk.h>
#include "attrs.h"

/* A full span is allocated as one block of this size (struct + inline arena). */
#define OTEL_SPAN_ALLOC_SIZE 1024

enum {
	SPAN_F_RECORDING = 1u << 0, /* decided at start: records attributes, events... */
	SPAN_F_STATIC = 1u << 1, /* the no-op span: never freed */
};

struct otel_span {
	struct otel_span_data data;
	_Atomic uint32_t refcount;
	uint32_t flags;
	atomic_flag lock; /* serializes mutation of this span only */
	_Atomic bool ended;
	struct otel_tracer_provider *tp; /* counted live while the span lives; NULL if none */
	struct otel_attr_list attrs;
	uint32_t events_cap;
	uint32_t links_cap;
	struct otel_store store;
	/* inline arena follows for full spans */
	char arena[] __attribute__((aligned(8)));
};

#define span_of_data(D) ((struct otel_span *)((char *)(D) - __builtin_offsetof(struct otel_span, data)))

struct otel_tracer {
	struct otel_tracer_provider *tp; /* NULL for a proxy of the global provider */
	struct otel_scope_info scope;
	struct otel_tracer *next;
	/* proxy tracers: the real tracer for global provider generation `gen` */
	_Atomic(struct otel_tracer *) proxied;
	_Atomic uint64_t proxied_gen;
	struct otel_store store;
};

/*
 * Live recording spans of a provider, counted in per-thread shards so that a
 * span started on one thread and freed on another (the batch worker) does not
 * bounce one cache line between them. Only the sum means anything.
 */
#define OTEL_TP_SHARDS 16
struct otel_tp_shard {
	_Atomic int64_t live;
} __attribute__((aligned(64)));

struct otel_tracer_provider {
	struct otel_tp_shard shards[OTEL_TP_SHARDS];
	_Atomic bool closing; /* freed by the user: the last span release frees it */
	_Atomic bool destroyed;
	_Atomic bool shut_down;
	bool noop;
	otel_resource *resource;
	otel_sampler *sampler;
	struct otel_span_limits limits;
	struct otel_id_generator ids; /* ids.trace_id NULL = built-in random */
	otel_span_processor **processors;
	size_t n_processors;
	pthread_mutex_t tracers_lock;
	struct otel_tracer *tracers;
};

/* Count a recording span in / out of its provider (see struct otel_tp_shard). */
void otel_tracer_provider_span_acquired(struct otel_tracer_provider *tp);
void otel_tracer_provider_span_released(struct otel_tracer_provider *tp);

/* A new non-recording span with the given context (refcount 1); NULL on ENOMEM. */
struct otel_span *otel_span_new_nonrecording(const struct otel_span_context *sc);
/* Add a link to a span that is locked or not yet published. */
void otel_span_add_link_locked(struct otel_span *s, const struct otel_span_context *sc,
			       const struct otel_attribute *attrs, size_t n);
/* The shared invalid no-op span. */
extern struct otel_span otel_noop_span;

/* Random ids from a per-thread generator seeded from getrandom(), reseeded after fork. */
void otel_random_trace_id(uint8_t out[16]);
void otel_random_span_id(uint8_t out[8]);
uint64_t otel_random_u64(void);

#endif
