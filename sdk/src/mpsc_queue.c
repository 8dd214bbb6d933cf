// SPDX-License-Identifier: Apache-2.0
/*
 * The bounded MPSC queue (see mpsc_queue.h). A slot's seq is 2 * pos when it
 * is free for the producer of position pos, 2 * pos + 1 once that producer
 * published its item, and the consumer hands it to the next lap by setting
 * 2 * (pos + cap). (Vyukov's original uses pos, pos + 1 and pos + cap, which
 * cannot tell "published" from "free for the next lap" when cap is 1.)
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include "mpsc_queue.h"

static inline struct otel_mpsc_slot *slot_at(struct otel_mpsc_queue *q, uint64_t pos)
{
	return &q->slots[q->mask ? pos & q->mask : pos % q->cap];
}

static void reset_slots(struct otel_mpsc_queue *q, uint64_t from)
{
	for (uint64_t pos = from; pos < from + q->cap; pos++)
		atomic_store_explicit(&slot_at(q, pos)->seq, 2 * pos, memory_order_relaxed);
}

int otel_mpsc_init(struct otel_mpsc_queue *q, uint64_t cap)
{
	if (!cap || cap > UINT32_MAX)
		return -EINVAL;
	q->slots = calloc(cap, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->cap = cap;
	q->mask = (cap & (cap - 1)) ? 0 : cap - 1;
	/* mask 0 with cap 1 is right too: every position maps to slot 0 */
	reset_slots(q, 0);
	atomic_store(&q->head, 0);
	atomic_store(&q->tail, 0);
	return 0;
}

void otel_mpsc_fini(struct otel_mpsc_queue *q)
{
	if (!q)
		return;
	free(q->slots);
	q->slots = NULL;
}

bool otel_mpsc_push(struct otel_mpsc_queue *q, void *item)
{
	uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct otel_mpsc_slot *s;

	for (;;) {
		s = slot_at(q, pos);
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - 2 * pos);

		if (dif == 0) {
			/* seq_cst: the batch worker's sleep check pairs with this (see batch.c) */
			if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
								  memory_order_seq_cst,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return false; /* the slot still holds the item of the previous lap */
		} else {
			pos = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
	s->item = item;
	atomic_store_explicit(&s->seq, 2 * pos + 1, memory_order_release);
	return true;
}

/* Take the item at the consumer position @pos into *@item; false when not published yet. */
static bool take(struct otel_mpsc_queue *q, uint64_t pos, void **item)
{
	struct otel_mpsc_slot *s = slot_at(q, pos);

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != 2 * pos + 1)
		return false;
	*item = s->item;
	s->item = NULL;
	atomic_store_explicit(&s->seq, 2 * (pos + q->cap), memory_order_release);
	atomic_store_explicit(&q->tail, pos + 1, memory_order_release);
	return true;
}

void *otel_mpsc_pop(struct otel_mpsc_queue *q)
{
	void *item = NULL;

	take(q, atomic_load_explicit(&q->tail, memory_order_relaxed), &item);
	return item;
}

void *otel_mpsc_pop_wait(struct otel_mpsc_queue *q)
{
	uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
	void *item;

	/* The producer is between its CAS and its publishing store: a few instructions. */
	while (!take(q, pos, &item))
		sched_yield();
	return item;
}

uint64_t otel_mpsc_abandon_claims(struct otel_mpsc_queue *q)
{
	uint64_t tail = atomic_load(&q->tail), head = atomic_load(&q->head);

	/* the consumer stopped between releasing the slot (2 * (tail + cap)) and moving tail */
	if (tail < head && atomic_load(&slot_at(q, tail)->seq) >= 2 * (tail + q->cap))
		atomic_store(&q->tail, ++tail);
	for (uint64_t pos = tail; pos < head; pos++) {
		struct otel_mpsc_slot *s = slot_at(q, pos);

		if (atomic_load(&s->seq) != 2 * pos + 1) {
			s->item = NULL;
			atomic_store(&s->seq, 2 * pos + 1);
		}
	}
	return head;
}
