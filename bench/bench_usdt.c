// SPDX-License-Identifier: Apache-2.0
/*
 * bench_usdt: the cost of <otel/usdt.h> probe sites while no tracer is attached.
 *
 * The same small loop body (a 64-bit LCG step and a sum) runs with and without a full set of
 * probe sites (span start, 3 attributes, span end); the difference in ns per iteration is what
 * the 5 sites cost unattached: a semaphore load and a not-taken branch each. The probe arguments
 * depend on the loop's state, so they would have to be computed if the guard did not skip them.
 *
 * Each figure is repeated REPS times (interleaved); the median, min and max are printed.
 * Usage: bench_usdt [iterations] [reps]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <otel/usdt.h>

#define LCG_MUL 6364136223846793005ull
#define LCG_ADD 1442695040888963407ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t loop_plain(uint64_t n)
{
	uint64_t x = 1, sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		x = x * LCG_MUL + LCG_ADD;
		sum += x >> 33;
	}
	return sum;
}

__attribute__((noinline)) static uint64_t loop_probed(uint64_t n)
{
	uint64_t x = 1, sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		OTEL_USDT_SPAN_START("step");
		x = x * LCG_MUL + LCG_ADD;
		OTEL_USDT_ATTR_INT("step.i", i);
		OTEL_USDT_ATTR_DOUBLE("step.x", (double)(x >> 11));
		OTEL_USDT_ATTR_BOOL("step.odd", x & 1);
		sum += x >> 33;
		OTEL_USDT_SPAN_END();
	}
	return sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *v, int reps)
{
	qsort(v, reps, sizeof(*v), cmp_double);
	printf("%-36s median %7.3f ns  min %7.3f  max %7.3f  (n=%d)\n", what, v[reps / 2], v[0],
	       v[reps - 1], reps);
}

/* The loops' sums land here so that the loops cannot be dropped. */
volatile uint64_t bench_usdt_sink;

static double ns_per_iter(uint64_t (*loop)(uint64_t), uint64_t n)
{
	uint64_t t0 = now_ns();

	bench_usdt_sink = loop(n);
	return (double)(now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000000ull;
	int reps = argc > 2 ? atoi(argv[2]) : 7;

	if (n == 0 || reps < 1 || reps > 1000) {
		fprintf(stderr, "usage: %s [iterations>0] [reps 1..1000]\n", argv[0]);
		return 2;
	}
	double *plain = calloc(reps, sizeof(double));
	double *probed = calloc(reps, sizeof(double));
	double *diff = calloc(reps, sizeof(double));
	if (!plain || !probed || !diff)
		return 1;

	ns_per_iter(loop_plain, n / 10); /* warm-up: page in, let the CPU clock settle */
	ns_per_iter(loop_probed, n / 10);
	for (int r = 0; r < reps; r++) {
		plain[r] = ns_per_iter(loop_plain, n);
		probed[r] = ns_per_iter(loop_probed, n);
		diff[r] = probed[r] - plain[r];
	}
	printf("USDT sites unattached: %llu iterations, 5 sites per iteration (start, 3 attrs, end)\n",
	       (unsigned long long)n);
	report("ns/iteration, no probes", plain, reps);
	report("ns/iteration, 5 probe sites", probed, reps);
	report("difference (ns/iteration, paired)", diff, reps);
	free(plain);
	free(probed);
	free(diff);
	return 0;
}
