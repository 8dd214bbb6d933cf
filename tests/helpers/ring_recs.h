/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/helpers/ring_recs.h: what the kernel-side tests keep of a ring buffer: a copy
 * of each record the kernel submitted, in order, up to RING_RECS_MAX (the rest are
 * counted, not kept), so a test can consume everything pending and then look at it.
 */
#ifndef KSPAN_TEST_RING_RECS_H
#define KSPAN_TEST_RING_RECS_H

#include <stddef.h>

#define RING_RECS_MAX 512

struct ring_buffer;

struct ring_recs {
	void *recs[RING_RECS_MAX];
	size_t n; /* records kept */
	size_t lost; /* records past RING_RECS_MAX, or not copied for want of memory */
};

/** ring_buffer__new() callback: ctx is the struct ring_recs that keeps a copy. */
int ring_recs_keep(void *ctx, void *data, size_t size);

/** Free the kept records (n and lost back to 0). */
void ring_recs_forget(struct ring_recs *r);

/**
 * Forget what was kept, then keep everything @rb holds now (wake-ups are batched:
 * this consumes, it does not wait). @return ring_buffer__consume()'s result.
 */
int ring_recs_collect(struct ring_recs *r, struct ring_buffer *rb);

#endif /* KSPAN_TEST_RING_RECS_H */
