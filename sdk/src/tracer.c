// SPDX-License-Identifier: Apache-2.0
/*
 * Tracer providers and tracers, and span start: parent resolution, sampling,
 * id generation and the processors' on_start. Also the global provider and
 * the proxy tracers handed out while no provider is installed, which bind to
 * the global provider once one is (libraries often get their tracer before
 * the application has set up the SDK).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "context.h"
#include "log.h"
#include "span.h"
#include "span_pool.h"

_Static_assert(sizeof(struct otel_span) + 512 <= OTEL_SPAN_ALLOC_SIZE,
	       "a span must leave room for its inline arena");

static struct otel_tracer_provider noop_provider = {
	.noop = true,
	.tracers_lock = PTHREAD_MUTEX_INITIALIZER,
};
static _Atomic(struct otel_tracer_provider *) global_provider;
/* Bumped by every set_global, so proxy tracers notice a change. */
static _Atomic uint64_t global_generation = 1;

otel_tracer_provider *otel_tracer_provider_global(void)
{
	struct otel_tracer_provider *tp = atomic_load_explicit(&global_provider, memory_order_acquire);

	return tp ? tp : &noop_provider;
}

void otel_tracer_provider_set_global(otel_tracer_provider *tp)
{
	atomic_store_explicit(&global_provider, tp && !tp->noop ? tp : NULL, memory_order_release);
	atomic_fetch_add(&global_generation, 1);
}

/* ---- Tracers ---- */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static char *dup_opt(struct otel_store *st, const char *s, bool *failed)
{
	char *c;

	if (!s)
		return NULL;
	c = otel_store_strndup(st, s, strlen(s));
	if (!c)
		*failed = true;
	return c;
}

static void tracer_free(struct otel_tracer *t)
{
	otel_store_release(&t->store, t->scope.name);
	otel_store_release(&t->store, t->scope.version);
	otel_store_release(&t->store, t->scope.schema_url);
	free(t);
}

static struct otel_tracer *tracer_new(struct otel_tracer_provider *tp, const char *name,
				      const char *version, const char *schema_url)
{
	struct otel_tracer *t = calloc(1, sizeof(*t));
	bool failed = false;

	if (!t)
		return NULL;
	t->tp = tp->noop ? NULL : tp;
	t->scope.name = dup_opt(&t->store, name ? name : "", &failed);
	t->scope.version = dup_opt(&t->store, version, &failed);
	t->scope.schema_url = dup_opt(&t->store, schema_url, &failed);
	if (failed) {
		tracer_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

otel_tracer *otel_tracer_provider_get_tracer(otel_tracer_provider *tp, const char *name,
					     const char *version, const char *schema_url)
{
	struct otel_tracer *t;

	if (!tp)
		tp = otel_tracer_provider_global();
	if (!name || !*name)
		otel_log_once(OTEL_LOG_WARN, "a tracer was requested with an empty name");
	pthread_mutex_lock(&tp->tracers_lock);
	for (t = tp->tracers; t; t = t->next)
		if (str_eq(t->scope.name, name ? name : "") && str_eq(t->scope.version, version) &&
		    str_eq(t->scope.schema_url, schema_url))
			break;
	if (!t) {
		t = tracer_new(tp, name, version, schema_url);
		if (t) {
			t->next = tp->tracers;
			tp->tracers = t;
		}
	}
	pthread_mutex_unlock(&tp->tracers_lock);
	return t;
}

otel_tracer *otel_tracer_get(const char *name, const char *version)
{
	return otel_tracer_provider_get_tracer(otel_tracer_provider_global(), name, version, NULL);
}

/* The tracer to use now: itself, or for a proxy the global provider's (NULL: none). */
static struct otel_tracer *resolve(otel_tracer *t)
{
	uint64_t gen;
	struct otel_tracer *real;
	struct otel_tracer_provider *tp;

	if (t->tp)
		return t;
	gen = atomic_load_explicit(&global_generation, memory_order_acquire);
	if (atomic_load_explicit(&t->proxied_gen, memory_order_acquire) == gen)
		return atomic_load_explicit(&t->proxied, memory_order_relaxed);
	tp = atomic_load_explicit(&global_provider, memory_order_acquire);
	real = tp ? otel_tracer_provider_get_tracer(tp, t->scope.name, t->scope.version,
						    t->scope.schema_url) :
		    NULL;
	atomic_store_explicit(&t->proxied, real, memory_order_relaxed);
	atomic_store_explicit(&t->proxied_gen, gen, memory_order_release);
	return real;
}

bool otel_tracer_enabled(const otel_tracer *tracer)
{
	struct otel_tracer *t = tracer ? resolve((otel_tracer *)tracer) : NULL;

	return t && !atomic_load(&t->tp->shut_down);
}

/* ---- Span start ---- */

static void new_ids(const struct otel_tracer_provider *tp, uint8_t *trace_id, uint8_t *span_id)
{
	if (tp->ids.span_id) {
		if (trace_id)
			tp->ids.trace_id(tp->ids.ctx, trace_id);
		tp->ids.span_id(tp->ids.ctx, span_id);
		return;
	}
	if (trace_id)
		otel_random_trace_id(trace_id);
	otel_random_span_id(span_id);
}

/* A non-recording span carrying @sc, or the no-op span when it is invalid or memory is short. */
static otel_span *nonrecording(const struct otel_span_context *sc)
{
	struct otel_span *s;

	if (!otel_span_context_is_valid(sc))
		return &otel_noop_span;
	s = otel_span_new_nonrecording(sc);
	return s ? s : &otel_noop_span;
}

static struct otel_span *span_alloc_recording(struct otel_tracer_provider *tp)
{
	struct otel_span *s = otel_span_block_alloc();

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	atomic_init(&s->refcount, 1);
	atomic_flag_clear(&s->lock);
	s->flags = SPAN_F_RECORDING;
	otel_store_init(&s->store, s->arena, OTEL_SPAN_ALLOC_SIZE - sizeof(*s));
	otel_tracer_provider_span_acquired(tp);
	s->tp = tp;
	return s;
}

otel_span *otel_tracer_start_span(otel_tracer *tracer, const char *name,
				  const struct otel_span_start_opts *opts)
{
	struct otel_span_start_opts o = { 0 };
	struct otel_span_context psc = { 0 }, sc = { 0 };
	struct otel_sampling_result res = { 0 };
	struct otel_tracer_provider *tp;
	struct otel_tracer *t;
	struct otel_span *s;
	otel_span *parent;

	/* Callers built against an older, smaller struct get zeroes for the new fields. */
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	opts = &o;
	if (!opts->root) {
		const otel_context *pctx = opts->parent ? opts->parent : otel_context_current();

		parent = otel_context_get_span(pctx);
		if (parent)
			otel_span_get_context(parent, &psc);
	}
	t = tracer ? resolve(tracer) : NULL;
	tp = t ? t->tp : NULL;
	if (!tp || atomic_load_explicit(&tp->shut_down, memory_order_acquire))
		return nonrecording(&psc);

	if (!name)
		name = "";
	if (otel_span_context_is_valid(&psc)) {
		memcpy(sc.trace_id, psc.trace_id, 16);
		new_ids(tp, NULL, sc.span_id);
	} else {
		memset(&psc, 0, sizeof(psc));
		new_ids(tp, sc.trace_id, sc.span_id);
	}
	tp->sampler->ops->should_sample(tp->sampler,
					&(struct otel_sampling_params){
						.parent = &psc,
						.trace_id = sc.trace_id,
						.name = name,
						.kind = opts->kind,
						.attributes = opts->attributes,
						.n_attributes = opts->n_attributes,
						.links = opts->links,
						.n_links = opts->n_links,
					},
					&res);
	sc.trace_flags = res.decision == OTEL_SAMPLING_RECORD_AND_SAMPLE ? OTEL_TRACE_FLAG_SAMPLED : 0;
	sc.trace_state = res.trace_state ? res.trace_state : psc.trace_state;

	if (res.decision == OTEL_SAMPLING_DROP || !(s = span_alloc_recording(tp))) {
		otel_span *nr = nonrecording(&sc);

		otel_trace_state_unref(res.trace_state); /* nonrecording took its own */
		return nr;
	}
	s->data.context = sc;
	if (!res.trace_state && sc.trace_state)
		otel_trace_state_ref(sc.trace_state);
	s->data.name = otel_store_strndup(&s->store, name, strlen(name));
	if (!s->data.name)
		s->data.name = otel_empty_str; /* keep the span; only its name was lost */
	s->data.kind = opts->kind <= OTEL_SPAN_KIND_CONSUMER ? opts->kind : OTEL_SPAN_KIND_INTERNAL;
	memcpy(s->data.parent_span_id, psc.span_id, 8);
	s->data.parent_is_remote = psc.is_remote;
	s->data.start_time_ns = opts->start_time_ns ? opts->start_time_ns : otel_now_ns();
	s->data.resource = tp->resource;
	s->data.scope = &t->scope;
	otel_attr_list_set_all(&s->attrs, &s->store, opts->attributes, opts->n_attributes,
			       tp->limits.attribute_count, tp->limits.attribute_value_length);
	otel_attr_list_set_all(&s->attrs, &s->store, res.attributes, res.n_attributes,
			       tp->limits.attribute_count, tp->limits.attribute_value_length);
	for (size_t i = 0; i < opts->n_links; i++)
		otel_span_add_link_locked(s, &opts->links[i].context, opts->links[i].attributes,
					  opts->links[i].n_attributes);

	for (size_t i = 0; i < tp->n_processors; i++) {
		otel_span_processor *p = tp->processors[i];

		if (p->ops->on_start)
			p->ops->on_start(p, s, opts->parent ? opts->parent : otel_context_current());
	}
	return s;
}

/* ---- Providers ---- */

static void provider_destroy(struct otel_tracer_provider *tp);

otel_tracer_provider *otel_tracer_provider_new(const struct otel_tracer_provider_opts *opts)
{
	struct otel_tracer_provider_opts o = { 0 };
	struct otel_tracer_provider *tp;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	opts = &o;
	if (opts->n_processors && !opts->processors) {
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&tp, _Alignof(struct otel_tracer_provider), sizeof(*tp))) {
		tp = NULL;
		goto nomem;
	}
	memset(tp, 0, sizeof(*tp));
	pthread_mutex_init(&tp->tracers_lock, NULL);
	tp->resource = opts->resource ? otel_resource_ref(opts->resource) : otel_resource_default();
	tp->sampler = opts->sampler ? opts->sampler : otel_sampler_from_env();
	if (opts->limits)
		tp->limits = *opts->limits;
	else
		otel_span_limits_from_env(&tp->limits);
	if (opts->id_generator)
		tp->ids = *opts->id_generator;
	if (opts->n_processors) {
		tp->processors = calloc(opts->n_processors, sizeof(*tp->processors));
		if (!tp->processors)
			goto nomem;
		for (size_t i = 0; i < opts->n_processors; i++)
			tp->processors[i] = otel_span_processor_ref(opts->processors[i]);
		tp->n_processors = opts->n_processors;
	}
	if (!tp->resource || !tp->sampler)
		goto nomem;
	return tp;
nomem:
	if (tp && !opts->sampler)
		otel_sampler_free(tp->sampler);
	if (tp) {
		tp->sampler = NULL;
		provider_destroy(tp);
	}
	errno = ENOMEM;
	return NULL;
}

int otel_tracer_provider_force_flush(otel_tracer_provider *tp, uint32_t timeout_ms)
{
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	int err = 0;

	if (!tp || tp->noop)
		return 0;
	for (size_t i = 0; i < tp->n_processors; i++) {
		int r = otel_span_processor_force_flush(tp->processors[i], otel_ms_until(deadline));

		if (r && !err)
			err = r;
	}
	return err;
}

int otel_tracer_provider_shutdown(otel_tracer_provider *tp, uint32_t timeout_ms)
{
	uint64_t deadline = otel_deadline_after_ms(timeout_ms);
	int err = 0;

	if (!tp || tp->noop)
		return 0;
	if (atomic_exchange(&tp->shut_down, true)) {
		otel_log(OTEL_LOG_WARN, "tracer provider shut down twice");
		return 0;
	}
	for (size_t i = 0; i < tp->n_processors; i++) {
		otel_span_processor *p = tp->processors[i];
		int r;

		/*
		 * A processor someone else still holds (another provider, or its creator)
		 * is left running: shutting it down would stop their spans too, and its
		 * owner flushes it (a flush here could block for a whole export).
		 */
		if (__atomic_load_n(&p->refcount, __ATOMIC_ACQUIRE) > 1)
			continue;
		r = otel_span_processor_shutdown(p, otel_ms_until(deadline));
		if (r && !err)
			err = r;
	}
	return err;
}

static void provider_destroy(struct otel_tracer_provider *tp)
{
	struct otel_tracer *t, *next;

	for (size_t i = 0; i < tp->n_processors; i++)
		otel_span_processor_unref(tp->processors[i]);
	free(tp->processors);
	for (t = tp->tracers; t; t = next) {
		next = t->next;
		tracer_free(t);
	}
	otel_sampler_free(tp->sampler);
	otel_resource_unref(tp->resource);
	pthread_mutex_destroy(&tp->tracers_lock);
	free(tp);
}

static __thread uint32_t thread_shard = UINT32_MAX;
static _Atomic uint32_t next_shard;

static _Atomic int64_t *my_shard(struct otel_tracer_provider *tp)
{
	if (__builtin_expect(thread_shard == UINT32_MAX, 0))
		thread_shard = atomic_fetch_add(&next_shard, 1) % OTEL_TP_SHARDS;
	return &tp->shards[thread_shard].live;
}

void otel_tracer_provider_span_acquired(struct otel_tracer_provider *tp)
{
	atomic_fetch_add_explicit(my_shard(tp), 1, memory_order_relaxed);
}

/* Destroy a provider the user freed once no recording span refers to it. */
static void destroy_if_unused(struct otel_tracer_provider *tp)
{
	int64_t live = 0;

	for (int i = 0; i < OTEL_TP_SHARDS; i++)
		live += atomic_load(&tp->shards[i].live);
	if (!live && !atomic_exchange(&tp->destroyed, true))
		provider_destroy(tp);
}

void otel_tracer_provider_span_released(struct otel_tracer_provider *tp)
{
	/* seq_cst pairs with otel_tracer_provider_free(): one of the two sees the other. */
	atomic_fetch_sub(my_shard(tp), 1);
	if (__builtin_expect(atomic_load(&tp->closing), 0))
		destroy_if_unused(tp);
}

void otel_tracer_provider_free(otel_tracer_provider *tp)
{
	struct otel_tracer_provider *expected = tp;

	if (!tp || tp->noop)
		return;
	if (atomic_compare_exchange_strong(&global_provider, &expected, NULL))
		atomic_fetch_add(&global_generation, 1);
	if (!atomic_load(&tp->shut_down))
		otel_tracer_provider_shutdown(tp, 5000);
	atomic_store(&tp->closing, true);
	destroy_if_unused(tp);
}

const otel_resource *otel_tracer_provider_resource(const otel_tracer_provider *tp)
{
	return tp ? tp->resource : NULL;
}
