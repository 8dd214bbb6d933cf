/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OTLP/HTTP retry policy as pure functions: which outcomes are retried,
 * how long to wait (the server's Retry-After, else exponential backoff with
 * jitter). The exporter owns the clock, the deadline and the sleeping.
 */
#ifndef OTEL_SRC_RETRY_H
#define OTEL_SRC_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define OTEL_RETRY_MULTIPLIER 2u
#define OTEL_RETRY_MAX_BACKOFF_MS 5000u

/* 429, 502, 503 and 504: every other 4xx/5xx MUST NOT be retried (OTLP/HTTP). */
bool otel_retry_status_retryable(long status);

/*
 * True for a libcurl result (CURLcode) meaning the server could not be
 * reached or went away without a response (resolve/connect/timeout/send/recv
 * failures): the spec says to retry with backoff. Configuration, TLS
 * verification and callback aborts are final.
 */
bool otel_retry_curl_retryable(int curl_code);

/*
 * Parse a Retry-After value: delta-seconds, or an HTTP-date in any of the
 * three forms RFC 9110 makes recipients accept (IMF-fixdate, RFC 850,
 * asctime), compared to @now_s (Unix seconds). A date in the past gives 0.
 * Returns 0 with *delay_ms set, or -EINVAL for anything else.
 */
int otel_retry_after_parse(const char *value, int64_t now_s, uint64_t *delay_ms);

/*
 * The wait before retry number @retry (1 = the first retry):
 * b = min(initial_ms * 2^(retry-1), OTEL_RETRY_MAX_BACKOFF_MS), with "equal
 * jitter" drawn from @rnd: a value in [b/2, b], so retries spread out yet
 * never come back immediately.
 */
uint64_t otel_retry_backoff_ms(uint32_t initial_ms, uint32_t retry, uint64_t rnd);

#endif
