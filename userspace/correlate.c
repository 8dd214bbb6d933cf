// SPDX-License-Identifier: Apache-2.0
/*
 * Parents of the agent's spans: span refs, per-thread stacks of open spans,
 * and the peer index that joins a client and a server of this node (see
 * correlate.h for the model).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "correlate.h"

#define THREAD_BUCKETS 1024
#define PEER_BUCKETS 4096
/* Parents followed at most when starting or checking ancestry (a cycle cannot form, but
 * a chain of calls through many processes is bounded all the same). */
#define CHAIN_MAX 64

struct thread_stack {
	uint32_t tgid, tid;
	uint32_t n, cap;
	struct kspan_span_ref **v; /* v[0] outermost */
	struct thread_stack *next;
};

struct kspan_correlate {
	const struct kspan_ktime *kt;
	kspan_tracer_fn tracer_for;
	void *ctx;
	struct thread_stack *threads[THREAD_BUCKETS];
	struct kspan_peer *peers[PEER_BUCKETS];
	struct kspan_correlate_stats stats;
};

static uint64_t wall(const struct kspan_correlate *c, uint64_t mono_ns)
{
	return kspan_ktime_to_wall(c->kt, mono_ns);
}

/* ---------------------------------------------------------------- refs */

struct kspan_span_ref *kspan_ref_new(struct kspan_correlate *c, enum otel_span_kind kind,
				     uint32_t tgid, uint32_t tid, uint64_t start_ns,
				     const char *name, size_t name_len)
{
	struct kspan_span_ref *r = malloc(sizeof(*r) + name_len + 1);

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->refs = 1;
	r->kind = kind;
	r->tgid = tgid;
	r->tid = tid;
	r->start_ns = start_ns;
	memcpy(r->name, name, name_len);
	r->name[name_len] = '\0';
	c->stats.refs++;
	return r;
}

void kspan_ref_put(struct kspan_correlate *c, struct kspan_span_ref *r)
{
	/* Iterative: releasing a ref may release its parent, and so on up the chain. */
	while (r && --r->refs == 0) {
		struct kspan_span_ref *parent = r->parent;

		if (r->span) {
			/* Started for a child and never ended by its owner. */
			otel_span_end(r->span, wall(c, r->start_ns));
			c->stats.abandoned++;
		}
		otel_trace_state_unref(r->sc.trace_state);
		otel_context_unref(r->remote);
		free(r);
		c->stats.refs--;
		r = parent;
	}
}

bool kspan_ref_set_parent(struct kspan_span_ref *r, struct kspan_span_ref *parent, bool remote)
{
	if (r->started || r->parent || r == parent)
		return false;
	r->parent = kspan_ref_get(parent);
	r->parent_is_remote = remote;
	return true;
}

bool kspan_ref_set_remote(struct kspan_span_ref *r, otel_context *remote)
{
	if (r->started || r->remote) {
		otel_context_unref(remote);
		return false;
	}
	r->remote = remote;
	return true;
}

/* The context a span starting now under parent ref @p gets (new reference), or NULL. */
static otel_context *parent_context(const struct kspan_span_ref *p, bool remote)
{
	struct otel_span_context sc = p->sc;
	otel_context *ctx;
	otel_span *wrapped;

	if (!p->started || !otel_span_context_is_valid(&sc))
		return NULL;
	if (p->span && !remote)
		return otel_context_with_span(NULL, p->span);
	/* Ended already, or in another process: its identity is all a child needs. */
	sc.is_remote = remote;
	wrapped = otel_span_wrap(&sc);
	ctx = wrapped ? otel_context_with_span(NULL, wrapped) : NULL;
	otel_span_unref(wrapped);
	return ctx;
}

static void ref_start(struct kspan_correlate *c, struct kspan_span_ref *r, const char *name,
		      const struct otel_attribute *attrs, size_t n, unsigned int depth)
{
	struct kspan_span_ref *p = r->parent;
	otel_tracer *tracer = c->tracer_for(c->ctx, r->tgid);
	otel_context *ctx = NULL;

	if (p && !p->started && depth < CHAIN_MAX)
		ref_start(c, p, NULL, NULL, 0, depth + 1);
	if (p)
		ctx = parent_context(p, r->parent_is_remote);
	else if (r->remote)
		ctx = otel_context_ref(r->remote);
	r->started = true;
	if (tracer) {
		OTEL_OPTS(otel_span_start_opts, so, .kind = r->kind, .parent = ctx, .root = !ctx,
			  .start_time_ns = wall(c, r->start_ns), .attributes = attrs,
			  .n_attributes = n);
		r->span = otel_tracer_start_span(tracer, name ? name : r->name, &so);
	}
	if (r->span) {
		otel_span_get_context(r->span, &r->sc);
		if (r->sc.trace_state)
			otel_trace_state_ref(r->sc.trace_state);
	}
	otel_context_unref(ctx);
}

otel_span *kspan_ref_span(struct kspan_correlate *c, struct kspan_span_ref *r, const char *name,
			  const struct otel_attribute *attrs, size_t n)
{
	if (r->ended)
		return NULL;
	if (!r->started) {
		ref_start(c, r, name, attrs, n, 0);
		return r->span;
	}
	if (r->span && name && strcmp(name, r->name))
		otel_span_update_name(r->span, name);
	if (r->span && n)
		otel_span_set_attributes(r->span, attrs, n);
	return r->span;
}

void kspan_ref_end(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t end_ns)
{
	if (r->ended)
		return;
	if (!r->started)
		ref_start(c, r, NULL, NULL, 0, 0);
	if (end_ns < r->start_ns)
		end_ns = r->start_ns;
	if (end_ns < r->children_end_ns)
		end_ns = r->children_end_ns;
	if (r->parent && !r->parent_is_remote && r->parent->children_end_ns < end_ns)
		r->parent->children_end_ns = end_ns;
	if (r->span)
		otel_span_end(r->span, wall(c, end_ns));
	r->span = NULL;
	r->ended = true;
}

void kspan_ref_abandon(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t ts)
{
	if (r->started && !r->ended) {
		kspan_ref_end(c, r, ts);
		c->stats.abandoned++;
	}
	r->ended = true;
}

/* ---------------------------------------------------------------- thread stacks */

static struct thread_stack **thread_slot(struct kspan_correlate *c, uint32_t tgid, uint32_t tid)
{
	uint64_t h = ((uint64_t)tgid << 32 | tid) * 0x9e3779b97f4a7c15ull;
	struct thread_stack **pp = &c->threads[h >> (64 - 10)];

	while (*pp && ((*pp)->tgid != tgid || (*pp)->tid != tid))
		pp = &(*pp)->next;
	return pp;
}

static struct thread_stack *thread_find(struct kspan_correlate *c, uint32_t tgid, uint32_t tid)
{
	return *thread_slot(c, tgid, tid);
}

static void thread_drop(struct kspan_correlate *c, struct thread_stack *t)
{
	struct thread_stack **pp = thread_slot(c, t->tgid, t->tid);

	*pp = t->next;
	free(t->v);
	free(t);
	c->stats.threads--;
}

int kspan_correlate_push(struct kspan_correlate *c, struct kspan_span_ref *r)
{
	struct thread_stack **pp = thread_slot(c, r->tgid, r->tid), *t = *pp;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->tgid = r->tgid;
		t->tid = r->tid;
		*pp = t;
		c->stats.threads++;
	}
	if (t->n >= KSPAN_STACK_MAX) {
		c->stats.too_deep++;
		return -E2BIG;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 4;
		struct kspan_span_ref **v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			if (!t->n)
				thread_drop(c, t);
			return -ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = kspan_ref_get(r);
	return 0;
}

static bool descends_from(const struct kspan_span_ref *r, const struct kspan_span_ref *ancestor)
{
	const struct kspan_span_ref *p = r->parent;

	for (unsigned int i = 0; p && i < CHAIN_MAX; p = p->parent, i++)
		if (p == ancestor)
			return true;
	return false;
}

static void stack_remove(struct thread_stack *t, uint32_t i)
{
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

/* An explicit span its program left open: end it here, and count it. */
static void close_for_program(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t ts)
{
	if (r->explicit_span && !r->ended) {
		kspan_ref_end(c, r, ts);
		c->stats.closed_by_agent++;
	}
}

void kspan_correlate_pop(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t end_ns)
{
	struct thread_stack *t = thread_find(c, r->tgid, r->tid);
	uint32_t i, j;

	if (!t)
		return;
	for (i = t->n; i-- > 0;)
		if (t->v[i] == r)
			break;
	if (i == UINT32_MAX)
		return;
	for (j = t->n - 1; j > i; j--) {
		struct kspan_span_ref *e = t->v[j];

		if (e->explicit_span && descends_from(e, r)) {
			close_for_program(c, e, end_ns);
			stack_remove(t, j);
			kspan_ref_put(c, e);
		}
	}
	stack_remove(t, i);
	kspan_ref_put(c, r);
	if (!t->n)
		thread_drop(c, t);
}

struct kspan_span_ref *kspan_correlate_current(struct kspan_correlate *c, uint32_t tgid,
					       uint32_t tid)
{
	struct thread_stack *t = thread_find(c, tgid, tid);
	uint32_t servers = 0;

	if (!t || !t->n)
		return NULL;
	if (t->v[t->n - 1]->explicit_span)
		return t->v[t->n - 1];
	for (uint32_t i = t->n; i-- > 0 && !t->v[i]->explicit_span;)
		servers++;
	if (servers == 1)
		return t->v[t->n - 1];
	c->stats.ambiguous++;
	return NULL;
}

struct kspan_span_ref *kspan_correlate_innermost_explicit(struct kspan_correlate *c,
							  uint32_t tgid, uint32_t tid)
{
	struct thread_stack *t = thread_find(c, tgid, tid);

	for (uint32_t i = t ? t->n : 0; i-- > 0;)
		if (t->v[i]->explicit_span)
			return t->v[i];
	return NULL;
}

static void thread_clear(struct kspan_correlate *c, struct thread_stack *t, uint64_t ts)
{
	while (t->n) {
		struct kspan_span_ref *e = t->v[--t->n];

		close_for_program(c, e, ts);
		kspan_ref_put(c, e);
	}
	thread_drop(c, t);
}

void kspan_correlate_thread_exit(struct kspan_correlate *c, uint32_t tgid, uint32_t tid,
				 uint64_t ts)
{
	struct thread_stack *t = thread_find(c, tgid, tid);

	if (t)
		thread_clear(c, t, ts);
}

void kspan_correlate_process_exit(struct kspan_correlate *c, uint32_t tgid, uint64_t ts)
{
	for (size_t b = 0; b < THREAD_BUCKETS; b++) {
		struct thread_stack *t = c->threads[b], *next;

		for (; t; t = next) {
			next = t->next;
			if (t->tgid == tgid)
				thread_clear(c, t, ts);
		}
	}
}

/* ---------------------------------------------------------------- peers */

static void peer_key(uint8_t key[36], const struct kspan_addr *client,
		     const struct kspan_addr *server)
{
	memcpy(key, client->addr, 16);
	memcpy(key + 16, &client->port, 2);
	memcpy(key + 18, server->addr, 16);
	memcpy(key + 34, &server->port, 2);
}

static struct kspan_peer **peer_bucket(struct kspan_correlate *c, const uint8_t key[36])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 36; i++)
		h = (h ^ key[i]) * 16777619u;
	return &c->peers[h % PEER_BUCKETS];
}

static bool addr_known(const struct kspan_addr *a)
{
	return a->family && a->port;
}

static void queue_push(struct kspan_peer *p, struct kspan_span_ref *r)
{
	bool server = r->kind == OTEL_SPAN_KIND_SERVER;
	struct kspan_span_ref **head = server ? &p->servers : &p->clients;
	struct kspan_span_ref **tail = server ? &p->servers_tail : &p->clients_tail;

	r->peer = p;
	r->peer_next = NULL;
	if (*tail)
		(*tail)->peer_next = r;
	else
		*head = r;
	*tail = r;
	(*(server ? &p->n_servers : &p->n_clients))++;
}

/* Unlink @p r from its queue; the queue's reference passes to the caller. */
static void queue_unlink(struct kspan_span_ref *r)
{
	struct kspan_peer *p = r->peer;
	bool server = r->kind == OTEL_SPAN_KIND_SERVER;
	struct kspan_span_ref **pp = server ? &p->servers : &p->clients, *prev = NULL;

	while (*pp && *pp != r) {
		prev = *pp;
		pp = &(*pp)->peer_next;
	}
	if (!*pp)
		return;
	*pp = r->peer_next;
	if ((server ? p->servers_tail : p->clients_tail) == r)
		*(server ? &p->servers_tail : &p->clients_tail) = prev;
	(*(server ? &p->n_servers : &p->n_clients))--;
	r->peer = NULL;
	r->peer_next = NULL;
}

static void queue_drain(struct kspan_correlate *c, struct kspan_span_ref *head)
{
	while (head) {
		struct kspan_span_ref *next = head->peer_next;

		queue_unlink(head);
		kspan_ref_put(c, head);
		head = next;
	}
}

/* Queue @p r (a new reference); the oldest entry goes when the queue is full. */
static void queue_add(struct kspan_correlate *c, struct kspan_peer *p, struct kspan_span_ref *r)
{
	bool server = r->kind == OTEL_SPAN_KIND_SERVER;
	struct kspan_span_ref *oldest = server ? p->servers : p->clients;

	if ((server ? p->n_servers : p->n_clients) >= KSPAN_PEER_QUEUE_MAX) {
		queue_unlink(oldest);
		kspan_ref_put(c, oldest);
		c->stats.peer_overflow++;
	}
	queue_push(p, kspan_ref_get(r));
}

void kspan_peer_register(struct kspan_correlate *c, struct kspan_peer *p,
			 const struct kspan_addr *local, const struct kspan_addr *remote)
{
	struct kspan_peer **bucket;

	kspan_peer_unregister(c, p);
	if (!addr_known(local) || !addr_known(remote))
		return;
	peer_key(p->key, local, remote);
	bucket = peer_bucket(c, p->key);
	p->hash_next = *bucket;
	*bucket = p;
	p->registered = true;
}

void kspan_peer_unregister(struct kspan_correlate *c, struct kspan_peer *p)
{
	struct kspan_peer **pp;

	if (!p->registered)
		return;
	for (pp = peer_bucket(c, p->key); *pp && *pp != p; pp = &(*pp)->hash_next)
		;
	if (*pp)
		*pp = p->hash_next;
	p->registered = false;
	queue_drain(c, p->clients);
	queue_drain(c, p->servers);
}

void kspan_peer_client_request(struct kspan_correlate *c, struct kspan_peer *p,
			       struct kspan_span_ref *r)
{
	struct kspan_span_ref *server = p->servers;

	if (!p->registered)
		return;
	if (server) {
		/* The server read this request before we saw it sent. */
		queue_unlink(server);
		if (kspan_ref_set_parent(server, r, true))
			c->stats.peer_linked++;
		else
			c->stats.peer_late++; /* it had to start (a child needed its ids) */
		kspan_ref_put(c, server);
		return;
	}
	queue_add(c, p, r);
}

void kspan_peer_server_request(struct kspan_correlate *c, struct kspan_span_ref *r,
			       const struct kspan_addr *local, const struct kspan_addr *remote)
{
	struct kspan_peer *p;
	uint8_t key[36];

	if (!addr_known(local) || !addr_known(remote))
		return;
	peer_key(key, remote, local);
	for (p = *peer_bucket(c, key); p && memcmp(p->key, key, sizeof(key)); p = p->hash_next)
		;
	if (!p)
		return;
	if (p->clients) {
		struct kspan_span_ref *client = p->clients;

		queue_unlink(client);
		if (kspan_ref_set_parent(r, client, true))
			c->stats.peer_linked++;
		kspan_ref_put(c, client);
		return;
	}
	queue_add(c, p, r);
}

void kspan_peer_forget(struct kspan_correlate *c, struct kspan_span_ref *r)
{
	if (!r->peer)
		return;
	queue_unlink(r);
	kspan_ref_put(c, r);
}

/* ---------------------------------------------------------------- lifetime */

struct kspan_correlate *kspan_correlate_new(const struct kspan_ktime *kt, kspan_tracer_fn tracer_for,
					    void *ctx)
{
	struct kspan_correlate *c;

	if (!kt || !tracer_for) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kt = kt;
	c->tracer_for = tracer_for;
	c->ctx = ctx;
	return c;
}

void kspan_correlate_stats(const struct kspan_correlate *c, struct kspan_correlate_stats *out)
{
	*out = c->stats;
}

void kspan_correlate_free(struct kspan_correlate *c)
{
	struct timespec now;
	uint64_t ts;

	if (!c)
		return;
	/* Spans still open when the agent stops end now: they were open until then. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	for (size_t b = 0; b < THREAD_BUCKETS; b++)
		while (c->threads[b])
			thread_clear(c, c->threads[b], ts);
	for (size_t b = 0; b < PEER_BUCKETS; b++)
		while (c->peers[b])
			kspan_peer_unregister(c, c->peers[b]);
	free(c);
}
