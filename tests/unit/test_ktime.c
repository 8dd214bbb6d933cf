// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the kernel-to-wall time conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <time.h>
#include <cmocka.h>
#include "ktime.h"

static uint64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_converts_monotonic_to_wall(void **state)
{
	(void)state;
	struct kspan_ktime kt;

	kspan_ktime_sync(&kt);
	assert_true(kt.error_ns < 1000000); /* a read pair takes well under a millisecond */
	uint64_t wall0 = now(CLOCK_REALTIME);
	uint64_t conv = kspan_ktime_to_wall(&kt, now(CLOCK_MONOTONIC));
	uint64_t wall1 = now(CLOCK_REALTIME);
	/* The conversion lands between the two wall reads (within the measured error). */
	assert_true(conv + kt.error_ns + 1000 >= wall0);
	assert_true(conv <= wall1 + kt.error_ns + 1000);
	/* Durations are kept exactly. */
	assert_int_equal(kspan_ktime_to_wall(&kt, 5000000) - kspan_ktime_to_wall(&kt, 2000000),
			 3000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converts_monotonic_to_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
