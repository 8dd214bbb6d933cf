// SPDX-License-Identifier: Apache-2.0
/*
 * The SDK's diagnostics sink. Default: stderr with an "otel: " prefix at
 * WARN and above, or the level OTEL_LOG_LEVEL names (error, warn, info, debug).
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include "clock.h"
#include "env.h"
#include "log.h"

static otel_log_fn log_fn;
static void *log_ctx;
static _Atomic int log_max = -1; /* -1: not yet read from the environment */

void otel_set_logger(otel_log_fn fn, void *ctx, enum otel_log_level max_level)
{
	log_fn = fn;
	log_ctx = ctx;
	atomic_store(&log_max, (int)max_level);
}

static int max_level(void)
{
	static const char *const names[] = { "error", "warn", "info", "debug", NULL };
	int lvl = atomic_load_explicit(&log_max, memory_order_relaxed);
	char buf[16];

	if (lvl >= 0)
		return lvl;
	lvl = OTEL_LOG_WARN;
	if (otel_env_str("OTEL_LOG_LEVEL", buf, sizeof(buf))) {
		for (int i = 0; names[i]; i++)
			if (!strcasecmp(buf, names[i]))
				lvl = i;
	}
	atomic_store(&log_max, lvl);
	return lvl;
}

void otel_log(enum otel_log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warning", "info", "debug" };
	char msg[512];
	va_list ap;

	if ((int)level > max_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(level, msg, log_ctx);
	else
		fprintf(stderr, "otel: %s: %s\n", tags[level], msg);
}

bool otel_ratelimit_allow(struct otel_ratelimit *rl, uint64_t interval_s, uint64_t *suppressed)
{
	uint64_t now = otel_mono_ns();
	uint64_t next = atomic_load_explicit(&rl->next_ns, memory_order_relaxed);

	if (now < next ||
	    !atomic_compare_exchange_strong(&rl->next_ns, &next, now + interval_s * 1000000000ull)) {
		atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
		return false;
	}
	*suppressed = atomic_exchange_explicit(&rl->suppressed, 0, memory_order_relaxed);
	return true;
}
