/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userspace pipeline, without the kernel: ring-buffer records in, spans
 * out. CONN records fill the connection table, DATA records are fed to each
 * connection's protocol parser, CLOSE ends a connection, USDT records make
 * explicit spans, PROC records forget what an exited (or re-executed) process
 * or thread had. Parents come from correlate.h. Completed exchanges become
 * spans of a tracer provider per process (its own Resource), all sharing the
 * one span processor given. The agent's event loop and the replay benchmark
 * both drive it.
 */
#ifndef KSPAN_PIPELINE_H
#define KSPAN_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <otel/sdk.h>
#include "correlate.h"
#include "db_span.h"
#include "usdt_span.h"

struct kspan_pipeline_opts {
	size_t conn_capacity; /* connections tracked at most; 0: 65536 */
	otel_span_processor *processor; /* shared by every process's provider; may be NULL */
	bool capture_query; /* export URL query strings */
	struct kspan_db_span_opts db; /* what database spans capture beyond the defaults */
	const char *host_name; /* host.name of the resources */
	/* The Resource of a process; NULL: built from /proc (kspan_proc_resource_new). */
	otel_resource *(*resource_for)(void *ctx, pid_t tgid);
	void *ctx;
};

struct kspan_pipeline_stats {
	uint64_t records; /* well-formed records handled */
	uint64_t malformed; /* records dropped as too short or of another ABI version */
	uint64_t spans;
	uint64_t not_tracked; /* connections given up as not a protocol we parse */
	size_t connections; /* live */
	struct kspan_usdt_stats usdt;
	struct kspan_correlate_stats correlate;
};

struct kspan_pipeline;

/** @brief A new pipeline; NULL with errno ENOMEM/EINVAL. */
struct kspan_pipeline *kspan_pipeline_new(const struct kspan_pipeline_opts *opts);
/** @brief Handle one ring-buffer record (any type, validated here). @return false if malformed */
bool kspan_pipeline_record(struct kspan_pipeline *p, const void *data, size_t size);
/** @brief Periodic work: re-measure the clock offset, expire idle connections. */
void kspan_pipeline_tick(struct kspan_pipeline *p);
void kspan_pipeline_stats(const struct kspan_pipeline *p, struct kspan_pipeline_stats *out);
/** @brief Free everything; spans already ended stay in the processor. Accepts NULL. */
void kspan_pipeline_free(struct kspan_pipeline *p);

#endif
