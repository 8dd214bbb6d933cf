/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks: wall time for span timestamps, monotonic time for deadlines. */
#ifndef OTEL_SRC_CLOCK_H
#define OTEL_SRC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t otel_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t otel_now_ns(void)
{
	return otel_clock_ns(CLOCK_REALTIME);
}

static inline uint64_t otel_mono_ns(void)
{
	return otel_clock_ns(CLOCK_MONOTONIC);
}

/* An absolute CLOCK_MONOTONIC deadline @ms from now. */
static inline uint64_t otel_deadline_after_ms(uint32_t ms)
{
	return otel_mono_ns() + (uint64_t)ms * 1000000ull;
}

/* Milliseconds left until @deadline_ns (0 once passed). */
static inline uint32_t otel_ms_until(uint64_t deadline_ns)
{
	uint64_t now = otel_mono_ns();

	if (now >= deadline_ns)
		return 0;
	return (uint32_t)((deadline_ns - now + 999999) / 1000000);
}

#endif
