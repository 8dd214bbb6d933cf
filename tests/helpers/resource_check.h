/* SPDX-License-Identifier: Apache-2.0 */
/* Assertions on resources, shared by the tests that build them. */
#ifndef TESTS_RESOURCE_CHECK_H
#define TESTS_RESOURCE_CHECK_H

#include <stddef.h>
#include <otel/sdk.h>

/* Fail the test unless @key is a string attribute equal to @want. */
void assert_str(const otel_resource *r, const char *key, const char *want);
/* Number of attributes. */
size_t n_attrs(const otel_resource *r);

#endif
