// SPDX-License-Identifier: Apache-2.0
/*
 * Measuring the monotonic-to-wall offset: read monotonic, realtime,
 * monotonic, and keep the sample whose monotonic window is the narrowest
 * (least disturbed by preemption), taking the window's middle.
 */
#include <time.h>
#include "ktime.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kspan_ktime_sync(struct kspan_ktime *kt)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t m0 = read_ns(CLOCK_MONOTONIC);
		uint64_t r = read_ns(CLOCK_REALTIME);
		uint64_t m1 = read_ns(CLOCK_MONOTONIC);

		if (m1 - m0 < best) {
			best = m1 - m0;
			kt->offset_ns = (int64_t)(r - (m0 + (m1 - m0) / 2));
			kt->error_ns = best / 2;
		}
	}
}
