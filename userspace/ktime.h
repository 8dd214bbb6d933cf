/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel timestamps (bpf_ktime_get_ns: CLOCK_MONOTONIC) to wall time for
 * spans. The offset between the two clocks is measured once and refreshed
 * by the event loop's timer, so a step of the wall clock (NTP, settimeofday)
 * moves later spans with it; spans keep monotonic durations.
 */
#ifndef KSPAN_KTIME_H
#define KSPAN_KTIME_H

#include <stdint.h>

struct kspan_ktime {
	int64_t offset_ns; /* realtime - monotonic */
	uint64_t error_ns; /* half the window the offset was measured in */
};

/** @brief Measure the offset now (best of a few bracketed reads). */
void kspan_ktime_sync(struct kspan_ktime *kt);

/** @brief Wall-clock ns since the Unix epoch for a CLOCK_MONOTONIC timestamp. */
static inline uint64_t kspan_ktime_to_wall(const struct kspan_ktime *kt, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + kt->offset_ns);
}

#endif
