/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/usdt_span.h: spans from the otel:* USDT probes of <otel/usdt.h>.
 * span_start opens an explicit span on the calling thread's stack (a child of
 * the thread's current span, see correlate.h), span_end ends the innermost
 * one, and the other probes act on the thread's innermost span, which may be
 * the automatic SERVER span of the request being served. A probe that has
 * nothing to act on is counted, never guessed at.
 */
#ifndef KSPAN_USDT_SPAN_H
#define KSPAN_USDT_SPAN_H

#include <stdint.h>
#include <linux/types.h>
#include <otel/trace.h>
#include "correlate.h"
#include "kspan.h"
#include "ktime.h"

struct kspan_usdt_stats {
	uint64_t spans; /* span_start probes that opened a span */
	uint64_t end_without_start; /* span_end with no explicit span open on the thread */
	uint64_t op_without_span; /* attr/event/status/exception with no span on the thread */
	uint64_t refused; /* span_start refused: no memory or the thread's stack is full */
};

/**
 * @brief Act on one USDT record. The record must be whole (size checked by the
 * caller); its strings need not be terminated.
 */
void kspan_usdt_span_record(struct kspan_correlate *c, const struct kspan_ktime *kt,
			    const struct kspan_usdt_rec *r, struct kspan_usdt_stats *stats);

#endif
