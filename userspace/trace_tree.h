/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace_tree: the agent's console output. A span exporter (the SDK's interface, <otel/export.h>)
 * that gathers ended spans by trace and prints each trace as a tree:
 *
 *   trace 4bf92f3577b34da6a3ce929d0e0e4736 2.113 ms, 4 spans
 *   └─ SERVER GET /quote/{sku} [quote-service] 2.113 ms @+0.000 ms http 502
 *      ├─ CLIENT GET /rates/{sku} 0.802 ms @+0.120 ms http 200
 *      │  └─ SERVER GET /rates/{sku} [rates-service] 0.410 ms @+0.300 ms http 200
 *      └─ INTERNAL apply discount 0.012 ms @+1.900 ms ERROR "discount lookup failed"
 *            • discount looked up @+1.901 ms
 *            • exception DiscountError: no discount table for sku-err @+1.905 ms
 *
 * One header line per trace (trace id, duration from the earliest start to the latest end,
 * number of spans), then one line per span under its parent, children in start order: kind,
 * name, the service.name of its resource in brackets where it differs from its parent's (always
 * on a top line), duration, start offset from the trace's start, http.response.status_code when
 * present, ERROR with the status description (else the exception message) when the status is
 * ERROR; a span whose parent is not in the tree says so: "(remote parent <id>)" or
 * "(parent <id>)". Events follow their span ("• name", "• exception type: message"). Names and
 * values are escaped like JSON strings, so captured data cannot forge lines.
 *
 * When a trace is printed. Spans arrive in end order, and children of a synchronous call end
 * before their parent, so a trace is complete when its local root arrives:
 *   - a span with no parent: the trace is printed at the end of the export call that brought it
 *     (the rest of that batch is included);
 *   - a span whose parent is remote (parent_is_remote, e.g. a traceparent from an untraced
 *     caller) whose parent is not among the trace's spans: printed once no span of the trace has
 *     arrived for remote_settle_ms, because a remote parent may still be a span of this node (a
 *     traced caller on the same node whose spans end later) that will arrive and contain it;
 *   - otherwise the trace waits; root_wait_ms after its first span it is printed as partial, as
 *     it is on force_flush and shutdown, and when the buffer is full (the oldest trace first).
 * A span of a trace already printed is "late": late spans are printed at the end of their export
 * call as a tree of their own, offsets from the printed trace's start. The ids of the last
 * max_remembered printed traces are kept to recognise late spans (older ones start a new tree).
 *
 * Timed printing (settle, root wait) happens on each export call and on
 * kspan_trace_tree_expire(), which the agent calls from its timer. Thread-safe: one mutex.
 */
#ifndef KSPAN_TRACE_TREE_H
#define KSPAN_TRACE_TREE_H

#include <stdint.h>
#include <stdio.h>
#include <otel/export.h>

/* Options; zero fields take the defaults. */
struct kspan_trace_tree_opts {
	uint32_t root_wait_ms; /* a trace without root is printed partial after this (10000) */
	uint32_t remote_settle_ms; /* quiet time before a remote-parented trace prints (1000) */
	uint32_t max_spans; /* spans buffered over all traces (4096) */
	uint32_t max_remembered; /* printed trace ids kept to recognise late spans (1024) */
	/* CLOCK_MONOTONIC ns for the timeouts; NULL: clock_gettime (tests pass their own). */
	uint64_t (*now_ns)(void *ctx);
	void *now_ctx;
};

/* Counters since creation. */
struct kspan_trace_tree_stats {
	uint64_t traces; /* trees printed with their local root */
	uint64_t partial; /* trees printed without one (root wait, flush, shutdown, full buffer) */
	uint64_t evicted; /* partial trees printed early because the buffer was full */
	uint64_t late_spans; /* spans that arrived after their trace was printed */
	uint64_t dropped_spans; /* spans not kept for lack of memory */
	uint64_t write_errors; /* failed writes to the stream */
};

/**
 * @brief A trace-tree exporter writing to @p out (NULL: stdout; the stream stays the caller's).
 * @param opts may be NULL (all defaults)
 * @return the exporter (free with otel_span_exporter_free(), or hand it to a processor); NULL
 * with errno ENOMEM
 */
struct otel_span_exporter *kspan_trace_tree_exporter_new(FILE *out,
							 const struct kspan_trace_tree_opts *opts);

/**
 * @brief Print the traces whose time has come (remote settle, root wait). Call it about once a
 * second (the agent's timer); export calls do it too.
 * @return 0; -EINVAL when @p exp is not a trace-tree exporter; -EIO when a write failed
 */
int kspan_trace_tree_expire(struct otel_span_exporter *exp);

/**
 * @brief Read the counters. @return 0; -EINVAL when @p exp is not a trace-tree exporter
 */
int kspan_trace_tree_stats(struct otel_span_exporter *exp, struct kspan_trace_tree_stats *out);

#endif
