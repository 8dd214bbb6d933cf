/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/helpers/test_pipeline.h: the scaffolding span processor tests share:
 * a provider feeding one processor under test, spans to end through it, a
 * sampler that records without sampling, and a check that a call bounded by
 * a timeout gives up on time. The test exporters stay with their tests: each
 * is built for what its processor needs (the Simple one must work in a
 * forked child, so it uses only atomics and a pipe).
 */
#ifndef KSPAN_TEST_PIPELINE_H
#define KSPAN_TEST_PIPELINE_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "clock.h"

/** A sampler that records spans without sampling them (RECORD_ONLY). */
extern otel_sampler test_record_only_sampler;

/* A processor under test and the provider that feeds it. */
struct test_pipeline {
	otel_span_processor *p; /* the test's own reference */
	otel_tracer_provider *tp;
};

/**
 * @brief A provider (resource service.name=test) that feeds only @p, which
 * stays referenced by the test too. @sampler NULL means always_on. Asserts success.
 */
struct test_pipeline test_pipeline_new(otel_span_processor *p, otel_sampler *sampler);

/**
 * @brief Free the provider (which shuts the processor down) and drop the
 * test's reference; the caller then checks that its exporter was destroyed.
 */
void test_pipeline_free(struct test_pipeline pl);

/** @brief End root spans "op" through @tp, numbered by an attribute n = [first, first + count). */
void test_end_spans(otel_tracer_provider *tp, int64_t first, int64_t count);

/** @brief The "n" attribute test_end_spans() gave @d; -1 when it has none. */
int64_t test_span_n(const struct otel_span_data *d);

/** @brief Whole milliseconds on the monotonic clock since @start_ns. */
uint64_t test_elapsed_ms(uint64_t start_ns);

/*
 * CALL, given TIMEOUT_MS as its timeout, gives up with -ETIMEDOUT no sooner
 * than its deadline (1 ms of rounding allowed) and less than SLACK_MS after it.
 * A macro so that a failure names the test's line.
 */
#define assert_times_out(CALL, TIMEOUT_MS, SLACK_MS)                    \
	do {                                                            \
		uint64_t start_ = otel_mono_ns();                       \
		uint64_t ms_;                                           \
                                                                        \
		assert_int_equal((CALL), -ETIMEDOUT);                   \
		ms_ = test_elapsed_ms(start_);                          \
		assert_true(ms_ + 1 >= (TIMEOUT_MS));                   \
		assert_true(ms_ < (uint64_t)(TIMEOUT_MS) + (SLACK_MS)); \
	} while (0)

#endif /* KSPAN_TEST_PIPELINE_H */
