/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SDK's own diagnostics: leveled messages to a replaceable sink, and
 * once-only and rate-limited forms so a failing exporter or a bad variable
 * cannot flood the host program's stderr.
 */
#ifndef OTEL_SRC_LOG_H
#define OTEL_SRC_LOG_H

#include <stdatomic.h>
#include <stdint.h>
#include <otel/sdk.h>

void otel_log(enum otel_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log only the first time this call site runs. */
#define otel_log_once(LEVEL, ...)                                                                  \
	do {                                                                                       \
		static atomic_bool ___done;                                                        \
		if (!atomic_exchange_explicit(&___done, true, memory_order_relaxed))               \
			otel_log(LEVEL, __VA_ARGS__);                                              \
	} while (0)

/* A token bucket per call site: at most one message every INTERVAL_S seconds. */
struct otel_ratelimit {
	_Atomic uint64_t next_ns;
	_Atomic uint64_t suppressed;
};
bool otel_ratelimit_allow(struct otel_ratelimit *rl, uint64_t interval_s, uint64_t *suppressed);

#define otel_log_ratelimited(LEVEL, ...)                                                           \
	do {                                                                                       \
		static struct otel_ratelimit ___rl;                                                \
		uint64_t ___sup;                                                                   \
		if (otel_ratelimit_allow(&___rl, 10, &___sup)) {                                   \
			if (___sup)                                                                \
				otel_log(LEVEL, "(%llu similar messages suppressed)",             \
					 (unsigned long long)___sup);                              \
			otel_log(LEVEL, __VA_ARGS__);                                              \
		}                                                                                  \
	} while (0)

#endif
