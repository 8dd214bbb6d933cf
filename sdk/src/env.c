// SPDX-License-Identifier: Apache-2.0
/*
 * OTEL_* environment variable parsing per the specification's rules: empty
 * means unset, surrounding whitespace is ignored, booleans are only
 * "true"/"false" (case-insensitive), and any invalid value warns once and
 * yields the default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "env.h"
#include "log.h"

const char *otel_env_str(const char *name, char *buf, size_t size)
{
	const char *v = getenv(name);
	size_t len;

	if (!v)
		return NULL;
	while (isspace((unsigned char)*v))
		v++;
	len = strlen(v);
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	if (!len)
		return NULL;
	if (len >= size) {
		otel_log(OTEL_LOG_WARN, "%s is too long (%zu bytes, at most %zu); ignored", name,
			 len, size - 1);
		return NULL;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

bool otel_env_bool(const char *name, bool def)
{
	char buf[16];

	if (!otel_env_str(name, buf, sizeof(buf)))
		return def;
	if (!strcasecmp(buf, "true"))
		return true;
	if (!strcasecmp(buf, "false"))
		return false;
	otel_log(OTEL_LOG_WARN, "%s=\"%s\" is not a boolean (true or false); using %s", name, buf,
		 def ? "true" : "false");
	return def;
}

uint32_t otel_env_u32(const char *name, uint32_t def)
{
	char buf[32], *end;
	unsigned long long v;

	if (!otel_env_str(name, buf, sizeof(buf)))
		return def;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end || buf[0] == '-' || buf[0] == '+' || v > UINT32_MAX) {
		otel_log(OTEL_LOG_WARN,
			 "%s=\"%s\" is not a non-negative integer up to %u; using %u", name, buf,
			 UINT32_MAX, def);
		return def;
	}
	return (uint32_t)v;
}

double otel_env_double(const char *name, double def, double lo, double hi)
{
	char buf[64], *end;
	double v;

	if (!otel_env_str(name, buf, sizeof(buf)))
		return def;
	errno = 0;
	v = strtod(buf, &end);
	if (errno || *end || !(v >= lo && v <= hi)) {
		otel_log(OTEL_LOG_WARN, "%s=\"%s\" is not a number in [%g, %g]; using %g", name,
			 buf, lo, hi, def);
		return def;
	}
	return v;
}

int otel_env_enum(const char *name, const char *const *choices)
{
	char buf[64], list[256] = "";
	size_t used = 0;

	if (!otel_env_str(name, buf, sizeof(buf)))
		return -1;
	for (int i = 0; choices[i]; i++) {
		if (!strcasecmp(buf, choices[i]))
			return i;
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
					 "%s%s", i ? ", " : "", choices[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	otel_log(OTEL_LOG_WARN, "%s=\"%s\" is not one of: %s; using the default", name, buf, list);
	return -1;
}
