// SPDX-License-Identifier: Apache-2.0
/* The run-time version string. */
#include <otel/version.h>

const char *otel_version_string(void)
{
	return OTEL_VERSION_STRING;
}
