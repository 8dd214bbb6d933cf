// SPDX-License-Identifier: Apache-2.0
/*
 * Random trace and span ids: a per-thread xoshiro256** generator seeded from
 * getrandom(). A fork bumps a generation counter so that the child reseeds
 * instead of repeating its parent's ids; no syscall on the hot path.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "span.h"

static _Atomic uint32_t fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

struct rng {
	uint64_t s[4];
	uint32_t generation;
};
static __thread struct rng rng;

static void on_fork_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void reseed(struct rng *r, uint32_t generation)
{
	uint64_t seed[4] = { 0 };

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		/* Early boot without entropy: mix what differs between threads/processes. */
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)r;
		for (int i = 0; i < 4; i++)
			seed[i] ^= splitmix64(&x);
	}
	memcpy(r->s, seed, sizeof(seed));
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
	r->generation = generation;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t otel_random_u64(void)
{
	uint32_t gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);
	uint64_t *s = rng.s, result, t;

	if (__builtin_expect(rng.generation != gen, 0)) {
		pthread_once(&atfork_once, register_atfork);
		reseed(&rng, atomic_load(&fork_generation));
	}
	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void otel_random_trace_id(uint8_t out[16])
{
	uint64_t a, b;

	do {
		a = otel_random_u64();
		b = otel_random_u64();
	} while (!(a | b));
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

void otel_random_span_id(uint8_t out[8])
{
	uint64_t a;

	do
		a = otel_random_u64();
	while (!a);
	memcpy(out, &a, 8);
}
