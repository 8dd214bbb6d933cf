// SPDX-License-Identifier: Apache-2.0
/* Assertions on resources: see resource_check.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "resource_check.h"

void assert_str(const otel_resource *r, const char *key, const char *want)
{
	const struct otel_value *v = otel_resource_get(r, key);

	if (!v)
		fail_msg("no %s", key);
	assert_int_equal(v->type, OTEL_VALUE_STRING);
	assert_string_equal(v->str.ptr, want);
}

size_t n_attrs(const otel_resource *r)
{
	size_t n = 0;

	otel_resource_attributes(r, &n);
	return n;
}
