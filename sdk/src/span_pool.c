// SPDX-License-Identifier: Apache-2.0
/*
 * The span block pool (see span_pool.h).
 *
 * Each thread has a small free list it uses without atomics. Past
 * LOCAL_MAX blocks, freed blocks gather into an outgoing batch; a full batch
 * is pushed onto a global Treiber stack of batches, and a thread whose free
 * list is empty takes the whole stack with one exchange. Only whole-stack
 * pops exist, so the stack has no ABA problem. The stack holds at most
 * GLOBAL_MAX_BATCHES batches (4 MiB); past that blocks go back to malloc, as
 * do a thread's blocks when it exits. Under AddressSanitizer the pool is
 * bypassed so use-after-free of spans stays detectable.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include "span.h"
#include "span_pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_DISABLED 1
#endif
#endif

#define BATCH 64
#define LOCAL_MAX 64
#define GLOBAL_MAX_BATCHES 64

struct block {
	struct block *next; /* within a list or batch */
	struct block *next_batch; /* on the global stack, in a batch's first block */
};

#ifdef POOL_DISABLED

void *otel_span_block_alloc(void)
{
	return malloc(OTEL_SPAN_ALLOC_SIZE);
}

void otel_span_block_free(void *block)
{
	free(block);
}

#else

static _Atomic(struct block *) global_stack;
static _Atomic uint32_t global_batches;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

struct local {
	struct block *free;
	uint32_t n_free;
	struct block *out; /* outgoing batch being filled */
	uint32_t n_out;
	bool registered; /* exit_key set for this thread */
};
static __thread struct local local;

static void free_list(struct block *b)
{
	while (b) {
		struct block *next = b->next;

		free(b);
		b = next;
	}
}

static void on_thread_exit(void *arg)
{
	(void)arg;
	free_list(local.free);
	free_list(local.out);
	local = (struct local){ .registered = true };
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, on_thread_exit);
}

/* Arrange for this thread's blocks to be freed when it exits. */
static void register_thread(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	pthread_setspecific(exit_key, &local);
	local.registered = true;
}

/* Take every batch on the global stack into this thread's free list. */
static void adopt_global(void)
{
	struct block *batch = atomic_exchange_explicit(&global_stack, NULL, memory_order_acquire);
	uint32_t batches = 0;

	while (batch) {
		struct block *next_batch = batch->next_batch, *tail = batch;

		while (tail->next)
			tail = tail->next;
		tail->next = local.free;
		local.free = batch;
		local.n_free += BATCH;
		batches++;
		batch = next_batch;
	}
	if (batches)
		atomic_fetch_sub_explicit(&global_batches, batches, memory_order_relaxed);
}

void *otel_span_block_alloc(void)
{
	struct block *b;

	if (!local.free)
		adopt_global();
	b = local.free;
	if (!b)
		return malloc(OTEL_SPAN_ALLOC_SIZE);
	local.free = b->next;
	local.n_free--;
	return b;
}

static void publish_batch(void)
{
	struct block *batch = local.out;

	local.out = NULL;
	local.n_out = 0;
	if (atomic_fetch_add_explicit(&global_batches, 1, memory_order_relaxed) >=
	    GLOBAL_MAX_BATCHES) {
		atomic_fetch_sub_explicit(&global_batches, 1, memory_order_relaxed);
		free_list(batch);
		return;
	}
	batch->next_batch = atomic_load_explicit(&global_stack, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&global_stack, &batch->next_batch, batch,
						      memory_order_release, memory_order_relaxed))
		;
}

void otel_span_block_free(void *p)
{
	struct block *b = p;

	if (!b)
		return;
	if (__builtin_expect(!local.registered, 0))
		register_thread();
	if (local.n_free < LOCAL_MAX) {
		b->next = local.free;
		local.free = b;
		local.n_free++;
		return;
	}
	b->next = local.out;
	local.out = b;
	if (++local.n_out == BATCH)
		publish_batch();
}

#endif
