/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/correlate.h: who is whose parent (DESIGN.md §3 step 5).
 *
 * Spans are known to the agent before the SDK may start them: a request's
 * span begins at its first byte, but the kernel's view of who caused it (the
 * thread that was serving another request, the traced client on this node
 * that sent it) arrives piece by piece, and children usually end before
 * their parents. So each span is first a "ref" (struct kspan_span_ref): a
 * name, a kind, a start time, a parent ref or a remote parent, and no ids.
 * The SDK span is started at the last moment, when the span ends or when a
 * child needs its ids, whichever comes first; starting a ref starts its
 * parents first. Until then, a parent can still be given to it: this is how
 * a server span whose request was read before its client's write was
 * reported still joins the client's trace.
 *
 * Three sources of parents:
 * - Thread stacks. Each thread of a target has a stack of the spans open on
 *   it: SERVER spans from the request read until the response is written,
 *   and explicit (USDT) spans between their start and end. A CLIENT or
 *   explicit span started on the thread is a child of the innermost
 *   explicit span, else of the thread's one open SERVER span. With several
 *   SERVER spans open on one thread (an event loop serving many requests at
 *   once) the kernel cannot tell which one caused the call: no parent, and
 *   it is counted as ambiguous rather than guessed.
 * - Peers. A client connection of a traced process is indexed by its tuple;
 *   a SERVER span of another (or the same) traced process whose connection
 *   has the mirrored tuple takes the oldest unclaimed client request as its
 *   parent, or waits for it when the server read it first.
 * - A remote parent (traceparent) given by the caller; it wins over peers.
 *
 * Everything here is bounded: stacks by KSPAN_STACK_MAX, peer queues by
 * KSPAN_PEER_QUEUE_MAX; what does not fit is counted.
 */
#ifndef KSPAN_CORRELATE_H
#define KSPAN_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <otel/trace.h>
#include "kspan.h"
#include "ktime.h"

#define KSPAN_STACK_MAX 128 /* open spans per thread */
#define KSPAN_PEER_QUEUE_MAX 64 /* requests waiting for their other half per connection */

struct kspan_correlate;

struct kspan_span_ref {
	uint32_t refs;
	bool explicit_span; /* started by the program (USDT), ended by it */
	bool started; /* the SDK span exists: sc is valid */
	bool ended;
	bool parent_is_remote; /* the parent ref belongs to another process */
	enum otel_span_kind kind;
	uint32_t tgid, tid; /* process, and the thread whose stack may hold it */
	uint64_t seq; /* the caller's (e.g. the parser's request number) */
	uint64_t start_ns; /* kernel monotonic */
	uint64_t children_end_ns; /* latest end of its children so far: it ends no earlier */
	otel_span *span; /* while started and not ended */
	struct otel_span_context sc; /* trace_state referenced */
	otel_context *remote; /* remote parent, or NULL */
	struct kspan_span_ref *parent; /* referenced, or NULL */
	/* owned by the caller: one list the ref is in (e.g. a connection's requests) */
	struct kspan_span_ref *next;
	/* internal: the peer queue holding it */
	struct kspan_peer *peer;
	struct kspan_span_ref *peer_next;
	char name[]; /* NUL-terminated */
};

/* A client connection's place in the peer index; embed it, zeroed. */
struct kspan_peer {
	uint8_t key[36]; /* client addr+port, server addr+port */
	bool registered;
	struct kspan_peer *hash_next;
	/* client requests no server span has claimed yet, oldest first */
	struct kspan_span_ref *clients, *clients_tail;
	/* server spans that read their request before the client's write was seen */
	struct kspan_span_ref *servers, *servers_tail;
	uint32_t n_clients, n_servers;
};

struct kspan_correlate_stats {
	uint64_t ambiguous; /* spans left without a parent: several requests open on the thread */
	uint64_t peer_linked; /* server spans parented by a traced client on this node */
	uint64_t peer_late; /* a client request seen after its server span had to start */
	uint64_t peer_overflow; /* peer queue entries dropped (queue full) */
	uint64_t closed_by_agent; /* explicit spans the program never ended: ended here */
	uint64_t abandoned; /* spans ended without their end (connection gone, evicted) */
	uint64_t too_deep; /* pushes refused: the thread's stack is full */
	size_t threads; /* threads with open spans */
	size_t refs; /* live refs */
};

/* The tracer of a process's spans at the time one starts (NULL: not exported). */
typedef otel_tracer *(*kspan_tracer_fn)(void *ctx, uint32_t tgid);

/**
 * @brief A correlator. @p kt converts kernel times for the SDK (borrowed);
 * @p tracer_for gives the tracer a span of a process starts with.
 * @return NULL with errno EINVAL/ENOMEM
 */
struct kspan_correlate *kspan_correlate_new(const struct kspan_ktime *kt, kspan_tracer_fn tracer_for,
					    void *ctx);
/** @brief End what is still open (counted as abandoned) and free; accepts NULL. */
void kspan_correlate_free(struct kspan_correlate *c);
void kspan_correlate_stats(const struct kspan_correlate *c, struct kspan_correlate_stats *out);

/* ---- refs ---- */

/** @brief A new ref (one reference), or NULL with errno ENOMEM. */
struct kspan_span_ref *kspan_ref_new(struct kspan_correlate *c, enum otel_span_kind kind,
				     uint32_t tgid, uint32_t tid, uint64_t start_ns,
				     const char *name, size_t name_len);
/** @brief Drop a reference; the last one ends a span still open (abandoned). NULL ok. */
void kspan_ref_put(struct kspan_correlate *c, struct kspan_span_ref *r);
static inline struct kspan_span_ref *kspan_ref_get(struct kspan_span_ref *r)
{
	r->refs++;
	return r;
}
/** @brief Give a not yet started ref its parent (referenced); false once started. */
bool kspan_ref_set_parent(struct kspan_span_ref *r, struct kspan_span_ref *parent,
			  bool remote);
/** @brief Give a not yet started ref a remote parent context (takes it); false once started. */
bool kspan_ref_set_remote(struct kspan_span_ref *r, otel_context *remote);

/**
 * @brief The ref's SDK span, started now (parents first) when it is not yet:
 * with @p name (NULL: the ref's) and @p attrs for the sampler; when it already
 * runs, the name is updated and the attributes set. NULL once ended or when
 * no span could be made.
 */
otel_span *kspan_ref_span(struct kspan_correlate *c, struct kspan_span_ref *r, const char *name,
			  const struct otel_attribute *attrs, size_t n);
/**
 * @brief End the ref's span at @p end_ns (kernel monotonic), starting it first
 * if needed; never before its start or the end of a child.
 */
void kspan_ref_end(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t end_ns);
/**
 * @brief The ref's owner gives up on it without its end (its connection is
 * gone): a span already started for a child ends at @p ts, counted as abandoned;
 * one never started is not made at all.
 */
void kspan_ref_abandon(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t ts);

/* ---- thread stacks ---- */

/** @brief Push @p r on the stack of its thread (takes a reference). 0, -ENOMEM, -E2BIG. */
int kspan_correlate_push(struct kspan_correlate *c, struct kspan_span_ref *r);
/**
 * @brief Take @p r off its thread's stack (where it is, not only the top);
 * explicit spans above it that descend from it were never ended by the
 * program: they are ended at @p end_ns and counted.
 */
void kspan_correlate_pop(struct kspan_correlate *c, struct kspan_span_ref *r, uint64_t end_ns);
/** @brief The parent a span started now on thread (tgid, tid) gets (borrowed), or NULL. */
struct kspan_span_ref *kspan_correlate_current(struct kspan_correlate *c, uint32_t tgid,
					       uint32_t tid);
/** @brief The thread's innermost explicit span (borrowed), or NULL. */
struct kspan_span_ref *kspan_correlate_innermost_explicit(struct kspan_correlate *c,
							  uint32_t tgid, uint32_t tid);
/** @brief A thread exited: its explicit spans end at @p ts (counted), its stack goes. */
void kspan_correlate_thread_exit(struct kspan_correlate *c, uint32_t tgid, uint32_t tid,
				 uint64_t ts);
/** @brief Every thread of a process, as kspan_correlate_thread_exit(). */
void kspan_correlate_process_exit(struct kspan_correlate *c, uint32_t tgid, uint64_t ts);

/* ---- peers: client and server on this node ---- */

/** @brief Index client connection @p p by its tuple (@p local is the client's end). */
void kspan_peer_register(struct kspan_correlate *c, struct kspan_peer *p,
			 const struct kspan_addr *local, const struct kspan_addr *remote);
/** @brief Leave the index and drop the queues; accepts an unregistered peer. */
void kspan_peer_unregister(struct kspan_correlate *c, struct kspan_peer *p);
/**
 * @brief Client request @p r was sent on @p p: it becomes the parent of the
 * oldest server span waiting for it, or waits for its server span.
 */
void kspan_peer_client_request(struct kspan_correlate *c, struct kspan_peer *p,
			       struct kspan_span_ref *r);
/**
 * @brief Server span @p r of a request that came in on a connection with
 * addresses @p local / @p remote: parent it by the traced client that sent
 * it, or make it wait for that client's request when it is not seen yet.
 * Nothing when no traced client connection has the mirrored tuple.
 */
void kspan_peer_server_request(struct kspan_correlate *c, struct kspan_span_ref *r,
			       const struct kspan_addr *local, const struct kspan_addr *remote);
/** @brief @p r leaves the peer queue it waits in, if any (its request is done). */
void kspan_peer_forget(struct kspan_correlate *c, struct kspan_span_ref *r);

#endif
