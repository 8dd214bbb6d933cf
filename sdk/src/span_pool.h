/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recycling of span blocks (OTEL_SPAN_ALLOC_SIZE bytes) between threads.
 * With a batch processor, spans are allocated on application threads and
 * freed on the worker; through malloc that makes both threads fight over one
 * arena lock per span. Here the freeing thread keeps a few blocks and hands
 * the rest back in batches of 64 through a lock-free stack that allocating
 * threads take whole: two atomic operations per 64 spans.
 */
#ifndef OTEL_SRC_SPAN_POOL_H
#define OTEL_SRC_SPAN_POOL_H

/* A block of OTEL_SPAN_ALLOC_SIZE bytes, aligned for any type; NULL on ENOMEM. */
void *otel_span_block_alloc(void);
/* Give a block back; accepts NULL. */
void otel_span_block_free(void *block);

#endif
