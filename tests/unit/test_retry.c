// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the OTLP/HTTP retry policy (sdk/src/retry.c): retryable
 * statuses and curl errors, Retry-After parsing, backoff bounds and growth.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "retry.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date. */
#define RFC_DATE_S 784111777

static void test_status_classification(void **state)
{
	static const long retryable[] = { 429, 502, 503, 504 };
	static const long final[] = { 200, 204, 301, 400, 401, 403, 404, 408,
				      413, 415, 500, 501, 505, 511, 599, 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++)
		assert_true(otel_retry_status_retryable(retryable[i])); /* status is retryable */
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		/* only 429/502/503/504 are retried */
		assert_false(otel_retry_status_retryable(final[i]));
}

static void test_curl_classification(void **state)
{
	static const int retryable[] = { CURLE_COULDNT_CONNECT,	   CURLE_COULDNT_RESOLVE_HOST,
					 CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
					 CURLE_RECV_ERROR,	   CURLE_GOT_NOTHING,
					 CURLE_PARTIAL_FILE };
	static const int final[] = { CURLE_OK,
				     CURLE_ABORTED_BY_CALLBACK,
				     CURLE_WRITE_ERROR,
				     CURLE_URL_MALFORMAT,
				     CURLE_UNSUPPORTED_PROTOCOL,
				     CURLE_PEER_FAILED_VERIFICATION,
				     CURLE_SSL_CACERT_BADFILE,
				     CURLE_SSL_CERTPROBLEM,
				     CURLE_OUT_OF_MEMORY };

	(void)state;
	for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++)
		/* a connection failure is retried */
		assert_true(otel_retry_curl_retryable(retryable[i]));
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		/* configuration/TLS/abort errors are final */
		assert_false(otel_retry_curl_retryable(final[i]));
}

static void test_retry_after_seconds(void **state)
{
	uint64_t ms = 12345;

	(void)state;
	assert_int_equal(otel_retry_after_parse("1", RFC_DATE_S, &ms), 0); /* delta-seconds */
	assert_int_equal(ms, 1000); /* 1 s is 1000 ms */
	assert_int_equal(otel_retry_after_parse("0", RFC_DATE_S, &ms), 0); /* zero seconds */
	assert_int_equal(ms, 0); /* 0 s */
	/* blanks around the value are ignored */
	assert_int_equal(otel_retry_after_parse("  120 ", RFC_DATE_S, &ms), 0);
	assert_int_equal(ms, 120000); /* 120 s */
	/* a huge number saturates instead of overflowing */
	assert_int_equal(otel_retry_after_parse("99999999999999999999999", RFC_DATE_S, &ms), 0);
	assert_int_equal(ms, 86400000); /* clamped to a day */
}

static void test_retry_after_dates(void **state)
{
	uint64_t ms = 1;

	(void)state;
	/* IMF-fixdate */
	assert_int_equal(
		otel_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_S - 30, &ms), 0);
	assert_int_equal(ms, 30000); /* IMF-fixdate 30 s in the future */
	/* RFC 850 date */
	assert_int_equal(
		otel_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE_S - 2, &ms), 0);
	assert_int_equal(ms, 2000); /* RFC 850 date 2 s in the future */
	/* asctime date */
	assert_int_equal(otel_retry_after_parse("Sun Nov  6 08:49:37 1994", RFC_DATE_S - 5, &ms),
			 0);
	assert_int_equal(ms, 5000); /* asctime date 5 s in the future */
	ms = 777;
	/* a date in the past is valid */
	assert_int_equal(
		otel_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_S + 3600, &ms), 0);
	assert_int_equal(ms, 0); /* a past date means retry now */
	/* a recent date */
	assert_int_equal(otel_retry_after_parse("Thu, 01 Jan 2026 00:00:10 GMT", 1767225600, &ms),
			 0);
	assert_int_equal(ms, 10000); /* 10 s after 2026-01-01T00:00:00Z */
}

static void test_retry_after_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"soon",
		"-1",
		"1.5",
		"+3",
		"3s",
		"0x10",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 32 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 25:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT trailing",
		"Sun, 06 Nov 1994",
	};
	uint64_t ms = 4242;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(otel_retry_after_parse(bad[i], RFC_DATE_S, &ms), -EINVAL);
		assert_int_equal(ms, 4242); /* the output is untouched on error */
	}
	assert_int_equal(otel_retry_after_parse(NULL, RFC_DATE_S, &ms), -EINVAL); /* NULL */
}

static void test_backoff_bounds(void **state)
{
	/* Expected base per retry with a 1 s start: 1, 2, 4, then capped at 5 s. */
	static const uint64_t base[] = { 0, 1000, 2000, 4000, 5000, 5000, 5000 };
	static const uint64_t rnds[] = { 0, 1, 499, 500, 501, 123456789, UINT64_MAX };

	(void)state;
	for (uint32_t retry = 1; retry < sizeof(base) / sizeof(base[0]); retry++) {
		for (size_t r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
			uint64_t b = otel_retry_backoff_ms(1000, retry, rnds[r]);

			/* backoff lies in [base/2, base] */
			assert_in_range(b, base[retry] / 2, base[retry]);
		}
		/* the smallest draw gives base/2 */
		assert_int_equal(otel_retry_backoff_ms(1000, retry, 0), base[retry] / 2);
		/* the largest draw gives base */
		assert_int_equal(otel_retry_backoff_ms(1000, retry, base[retry] / 2), base[retry]);
	}
	/* a large retry number stays capped (no overflow) */
	assert_int_equal(otel_retry_backoff_ms(1000, 1000000, 0), 2500);
	assert_int_equal(otel_retry_backoff_ms(50, 3, 100), 200); /* 50 ms start, third retry */
	/* a start above the cap is capped at 5 s */
	assert_int_equal(otel_retry_backoff_ms(9000, 1, 0), 2500);
	assert_int_equal(otel_retry_backoff_ms(0, 2, 7), 0); /* a zero start stays zero */
}

static void test_backoff_jitter_spreads(void **state)
{
	uint64_t seen[2001] = { 0 };
	size_t distinct = 0;

	(void)state;
	/* Different draws give different waits: the jitter actually spreads clients. */
	for (uint64_t r = 0; r < 2001; r++) {
		uint64_t b = otel_retry_backoff_ms(4000, 1, r * 7919);

		assert_in_range(b, 2000, 4000); /* first retry from 4 s: [2 s, 4 s] */
		if (!seen[b - 2000]++)
			distinct++;
	}
	assert_true(distinct > 1000); /* jitter gives many distinct waits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_classification),
		cmocka_unit_test(test_curl_classification),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_dates),
		cmocka_unit_test(test_retry_after_garbage),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_jitter_spreads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
