// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the bounded MPSC queue (sdk/src/mpsc_queue.c): order, the
 * full condition, wraparound with power-of-two and other capacities, exact
 * counts with several producer threads (no loss, no duplicate, per-producer
 * order), and the after-fork repair of claimed but unpublished slots.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "mpsc_queue.h"

/* Items are small integers; +1 keeps them distinct from NULL. */
#define ITEM(N) ((void *)(uintptr_t)((N) + 1))
#define VALUE(P) ((uintptr_t)(P)-1)

static void test_init_rejects_bad_capacity(void **state)
{
	struct otel_mpsc_queue q;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 0), -EINVAL);
	assert_int_equal(otel_mpsc_init(&q, (uint64_t)UINT32_MAX + 1), -EINVAL);
}

/* Fill to capacity, check the full push fails, then drain in order; several laps. */
static void fill_and_drain(uint64_t cap, int laps)
{
	struct otel_mpsc_queue q;
	uint64_t next = 0;

	assert_int_equal(otel_mpsc_init(&q, cap), 0);
	for (int lap = 0; lap < laps; lap++) {
		assert_null(otel_mpsc_pop(&q));
		for (uint64_t i = 0; i < cap; i++)
			assert_true(otel_mpsc_push(&q, ITEM(next + i)));
		assert_false(otel_mpsc_push(&q, ITEM(999999)));
		assert_int_equal(otel_mpsc_size(&q), cap);
		for (uint64_t i = 0; i < cap; i++)
			assert_int_equal(VALUE(otel_mpsc_pop(&q)), next + i);
		assert_null(otel_mpsc_pop(&q));
		assert_int_equal(otel_mpsc_size(&q), 0);
		next += cap;
	}
	assert_int_equal(otel_mpsc_claimed(&q), cap * (uint64_t)laps);
	assert_int_equal(otel_mpsc_consumed(&q), cap * (uint64_t)laps);
	otel_mpsc_fini(&q);
}

static void test_full_and_wraparound(void **state)
{
	(void)state;
	fill_and_drain(1, 5);
	fill_and_drain(3, 7); /* not a power of two: positions map with % */
	fill_and_drain(8, 5);
}

/* Interleaved push/pop keeps the queue partly full while positions lap many times. */
static void test_interleaved_laps(void **state)
{
	struct otel_mpsc_queue q;
	uint64_t pushed = 0, popped = 0;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 5), 0);
	for (int round = 0; round < 1000; round++) {
		while (otel_mpsc_push(&q, ITEM(pushed)))
			pushed++;
		assert_int_equal(otel_mpsc_size(&q), 5);
		for (int k = 0; k < 3; k++)
			assert_int_equal(VALUE(otel_mpsc_pop_wait(&q)), popped++);
	}
	assert_int_equal(pushed, 5 + 3 * 999);
	assert_int_equal(otel_mpsc_size(&q), 2);
	otel_mpsc_fini(&q);
}

#define PRODUCERS 4
#define PER_PRODUCER 50000

struct producer {
	struct otel_mpsc_queue *q;
	unsigned id;
	bool retry; /* retry a full push until it succeeds, else count the failure */
	uint64_t ok;
	uint64_t full;
	pthread_t thread;
};

static pthread_barrier_t start_line;

static void *produce(void *arg)
{
	struct producer *p = arg;

	pthread_barrier_wait(&start_line);
	for (uint64_t i = 0; i < PER_PRODUCER; i++) {
		void *item = ITEM(((uint64_t)p->id << 32) | i);
		bool pushed;

		while (!(pushed = otel_mpsc_push(p->q, item)) && p->retry)
			sched_yield();
		if (pushed)
			p->ok++;
		else
			p->full++;
	}
	return NULL;
}

static void start_producers(struct producer *ps, struct otel_mpsc_queue *q, bool retry)
{
	pthread_barrier_init(&start_line, NULL, PRODUCERS + 1);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		ps[i] = (struct producer){ .q = q, .id = i, .retry = retry };
		assert_int_equal(pthread_create(&ps[i].thread, NULL, produce, &ps[i]), 0);
	}
	pthread_barrier_wait(&start_line);
}

static void join_producers(struct producer *ps)
{
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(ps[i].thread, NULL);
	pthread_barrier_destroy(&start_line);
}

/* Every item arrives exactly once, each producer's in its order, through a small ring. */
static void test_many_producers_no_loss(void **state)
{
	struct producer ps[PRODUCERS];
	struct otel_mpsc_queue q;
	uint64_t next[PRODUCERS] = { 0 }, total = 0;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 64), 0);
	start_producers(ps, &q, true);
	while (total < (uint64_t)PRODUCERS * PER_PRODUCER) {
		void *item = otel_mpsc_pop(&q);
		uint64_t v;

		if (!item) {
			sched_yield();
			continue;
		}
		v = VALUE(item);
		assert_true((v >> 32) < PRODUCERS);
		assert_int_equal(v & 0xffffffffu, next[v >> 32]);
		next[v >> 32]++;
		total++;
	}
	join_producers(ps);
	for (unsigned i = 0; i < PRODUCERS; i++)
		assert_int_equal(next[i], PER_PRODUCER);
	assert_null(otel_mpsc_pop(&q));
	assert_int_equal(otel_mpsc_claimed(&q), (uint64_t)PRODUCERS * PER_PRODUCER);
	otel_mpsc_fini(&q);
}

/* With no consumer, exactly cap pushes succeed however the producers race. */
static void test_many_producers_full(void **state)
{
	struct producer ps[PRODUCERS];
	struct otel_mpsc_queue q;
	uint64_t ok = 0, full = 0;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 1000), 0);
	start_producers(ps, &q, false);
	join_producers(ps);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		ok += ps[i].ok;
		full += ps[i].full;
	}
	assert_int_equal(ok, 1000);
	assert_int_equal(full, (uint64_t)PRODUCERS * PER_PRODUCER - 1000);
	assert_int_equal(otel_mpsc_size(&q), 1000);
	otel_mpsc_fini(&q);
}

/*
 * After fork, a slot claimed by a thread that is gone is never published:
 * abandon_claims() turns it into a NULL item so the consumer does not wait.
 */
static void test_abandon_claims(void **state)
{
	struct otel_mpsc_queue q;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 4), 0);
	assert_true(otel_mpsc_push(&q, ITEM(1)));
	assert_int_equal(VALUE(otel_mpsc_pop(&q)), 1);
	assert_true(otel_mpsc_push(&q, ITEM(2)));
	assert_true(otel_mpsc_push(&q, ITEM(3)));
	atomic_fetch_add(&q.head, 1); /* a producer claimed position 3 and vanished */
	assert_int_equal(VALUE(otel_mpsc_pop(&q)), 2);

	assert_int_equal(otel_mpsc_abandon_claims(&q), 4);
	assert_int_equal(VALUE(otel_mpsc_pop(&q)), 3);
	assert_int_equal(otel_mpsc_size(&q), 1);
	assert_null(otel_mpsc_pop_wait(&q)); /* the abandoned claim */
	assert_int_equal(otel_mpsc_size(&q), 0);

	/* the queue keeps working across the repaired slot for several laps */
	for (int i = 0; i < 10; i++) {
		for (int k = 0; k < 4; k++)
			assert_true(otel_mpsc_push(&q, ITEM(10 * i + k)));
		assert_false(otel_mpsc_push(&q, ITEM(0)));
		for (int k = 0; k < 4; k++)
			assert_int_equal(VALUE(otel_mpsc_pop(&q)), 10 * i + k);
	}
	otel_mpsc_fini(&q);
}

/* A consumer that released its slot but did not advance tail before the fork. */
static void test_abandon_half_taken(void **state)
{
	struct otel_mpsc_queue q;

	(void)state;
	assert_int_equal(otel_mpsc_init(&q, 4), 0);
	assert_true(otel_mpsc_push(&q, ITEM(1)));
	assert_true(otel_mpsc_push(&q, ITEM(2)));
	/* what take() does for position 0, minus the tail store */
	q.slots[0].item = NULL;
	atomic_store(&q.slots[0].seq, 2 * (0 + q.cap));

	assert_int_equal(otel_mpsc_abandon_claims(&q), 2);
	assert_int_equal(otel_mpsc_consumed(&q), 1);
	assert_int_equal(VALUE(otel_mpsc_pop(&q)), 2);
	assert_null(otel_mpsc_pop(&q));
	otel_mpsc_fini(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_capacity),
		cmocka_unit_test(test_full_and_wraparound),
		cmocka_unit_test(test_interleaved_laps),
		cmocka_unit_test(test_many_producers_no_loss),
		cmocka_unit_test(test_many_producers_full),
		cmocka_unit_test(test_abandon_claims),
		cmocka_unit_test(test_abandon_half_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
