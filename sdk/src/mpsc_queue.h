/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded lock-free multi-producer single-consumer queue of pointers: the
 * hand-off between threads that end spans and the batch processor's worker.
 *
 * It is Dmitry Vyukov's bounded queue: each slot carries a sequence number
 * that says whose turn it is, so a producer claims a position with one CAS
 * and publishes it with one store, and never waits for anybody. Positions
 * are 64-bit and only grow (they cannot wrap in practice), which also lets
 * the queue report how many items ever went in.
 *
 * Producers: otel_mpsc_push() from any thread. Consumer: one thread at a time
 * calls otel_mpsc_pop*(). otel_mpsc_abandon_claims() is for a single-threaded
 * moment (after fork, in the child) when claimed slots may never be published.
 */
#ifndef OTEL_SRC_MPSC_QUEUE_H
#define OTEL_SRC_MPSC_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct otel_mpsc_slot {
	_Atomic uint64_t seq;
	void *item;
};

struct otel_mpsc_queue {
	/* Next position producers claim; on its own cache line, as it is the contended one. */
	_Alignas(64) _Atomic uint64_t head;
	/* Next position the consumer takes. */
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) struct otel_mpsc_slot *slots;
	uint64_t cap;
	uint64_t mask; /* cap - 1 when cap is a power of two, else 0 (then use %) */
};

/* Allocate @cap slots (1 <= cap <= 2^32 - 1). 0, -EINVAL or -ENOMEM. */
int otel_mpsc_init(struct otel_mpsc_queue *q, uint64_t cap);
/* Free the slots (items are the caller's: pop or discard them first). */
void otel_mpsc_fini(struct otel_mpsc_queue *q);

/* Add @item (not NULL); false when the queue is full. Lock-free, never blocks. */
bool otel_mpsc_push(struct otel_mpsc_queue *q, void *item);

/* The oldest item, or NULL when the next slot is empty or not yet published (or holds NULL). */
void *otel_mpsc_pop(struct otel_mpsc_queue *q);

/*
 * The item at the consumer position, waiting (yielding the CPU) while the
 * producer that claimed it has not yet published it. Only call it when
 * otel_mpsc_claimed() says the position was claimed.
 */
void *otel_mpsc_pop_wait(struct otel_mpsc_queue *q);

/* Positions claimed by producers so far (also counts items still being published). */
static inline uint64_t otel_mpsc_claimed(const struct otel_mpsc_queue *q)
{
	return atomic_load(&q->head);
}

/* Positions the consumer has taken so far. */
static inline uint64_t otel_mpsc_consumed(const struct otel_mpsc_queue *q)
{
	return atomic_load(&q->tail);
}

/* Items claimed and not yet consumed (a snapshot; exact only when quiescent). */
static inline uint64_t otel_mpsc_size(const struct otel_mpsc_queue *q)
{
	uint64_t tail = atomic_load(&q->tail);
	uint64_t head = atomic_load(&q->head);

	return head > tail ? head - tail : 0;
}

/*
 * With no other thread running (in a child after fork): the producers of
 * claimed but unpublished slots do not exist any more, so publish those
 * slots as NULL items, and finish a take the consumer left half done. Every
 * position below the returned one (the claim counter) can then be popped.
 */
uint64_t otel_mpsc_abandon_claims(struct otel_mpsc_queue *q);

#endif
