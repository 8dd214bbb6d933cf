// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of span limits (sdk/src/limits.c): the spec's defaults, each
 * OTEL_* variable, model-specific variables over the general ones, and
 * invalid values falling back (with a warning) to what applies without them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/sdk.h>

static const char *const vars[] = {
	"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
	"OTEL_ATTRIBUTE_COUNT_LIMIT",
	"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
	"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
	"OTEL_SPAN_EVENT_COUNT_LIMIT",
	"OTEL_SPAN_LINK_COUNT_LIMIT",
	"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
	"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
};


static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	log_capture_start(OTEL_LOG_DEBUG);
	return 0;
}

static void assert_limits(const struct otel_span_limits *l, uint32_t attrs, uint32_t len,
			  uint32_t events, uint32_t links, uint32_t per_event, uint32_t per_link)
{
	assert_int_equal(l->sz, sizeof(*l));
	assert_int_equal(l->attribute_count, attrs);
	assert_int_equal(l->attribute_value_length, len);
	assert_int_equal(l->event_count, events);
	assert_int_equal(l->link_count, links);
	assert_int_equal(l->attributes_per_event, per_event);
	assert_int_equal(l->attributes_per_link, per_link);
}

static void test_defaults(void **state)
{
	struct otel_span_limits l;

	(void)state;
	otel_span_limits_default(&l);
	assert_limits(&l, 128, OTEL_LIMIT_UNLIMITED, 128, 128, 128, 128);
	/* With no variable set, the environment gives the same. */
	otel_span_limits_from_env(&l);
	assert_limits(&l, 128, OTEL_LIMIT_UNLIMITED, 128, 128, 128, 128);
	assert_int_equal(log_warnings, 0);
}

static void test_each_variable(void **state)
{
	struct otel_span_limits l;

	(void)state;
	setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10", 1);
	setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20", 1);
	setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "30", 1);
	setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "40", 1);
	setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "50", 1);
	setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "60", 1);
	otel_span_limits_from_env(&l);
	assert_limits(&l, 10, 20, 30, 40, 50, 60);
	assert_int_equal(log_warnings, 0);
}

static void test_general_limits(void **state)
{
	struct otel_span_limits l;

	(void)state;
	/* The general attribute limits apply to spans, events and links... */
	setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "7", 1);
	setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "99", 1);
	otel_span_limits_from_env(&l);
	assert_limits(&l, 7, 99, 128, 128, 7, 7);
	/* ...and the model-specific ones win over them. */
	setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3", 1);
	setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5", 1);
	setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "11", 1);
	otel_span_limits_from_env(&l);
	assert_limits(&l, 3, 5, 128, 128, 11, 7);
	assert_int_equal(log_warnings, 0);
}

static void test_zero_and_extremes(void **state)
{
	struct otel_span_limits l;

	(void)state;
	setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "0", 1);
	setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", " 4294967295 ", 1);
	setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "", 1); /* empty means unset */
	otel_span_limits_from_env(&l);
	assert_limits(&l, 0, OTEL_LIMIT_UNLIMITED, UINT32_MAX, 128, 128, 128);
	assert_int_equal(log_warnings, 0);
}

static void test_invalid_values(void **state)
{
	const char *bad[] = { "-1", "abc", "12x", "4294967296", "1.5", "+3" };
	struct otel_span_limits l;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_warnings = 0;
		setenv("OTEL_SPAN_LINK_COUNT_LIMIT", bad[i], 1);
		otel_span_limits_from_env(&l);
		/* Warned once, and the default applies. */
		assert_int_equal(log_warnings, 1);
		assert_int_equal(l.link_count, 128);
	}
	unsetenv("OTEL_SPAN_LINK_COUNT_LIMIT");
	/* An invalid model-specific value falls back to the valid general one. */
	log_warnings = 0;
	setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "9", 1);
	setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many", 1);
	setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "-2", 1);
	otel_span_limits_from_env(&l);
	assert_limits(&l, 9, OTEL_LIMIT_UNLIMITED, 128, 128, 9, 9);
	assert_int_equal(log_warnings, 2);
	/* An invalid general value falls back to the default. */
	log_warnings = 0;
	setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "lots", 1);
	setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-5", 1);
	unsetenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT");
	unsetenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT");
	otel_span_limits_from_env(&l);
	assert_limits(&l, 128, OTEL_LIMIT_UNLIMITED, 128, 128, 128, 128);
	assert_int_equal(log_warnings, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_each_variable, setup),
		cmocka_unit_test_setup(test_general_limits, setup),
		cmocka_unit_test_setup(test_zero_and_extremes, setup),
		cmocka_unit_test_setup(test_invalid_values, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
