// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: a target process's /proc/PID/environ image, which the
 * process controls entirely. Drives the pure lookup (kspan_environ_find in
 * userspace/procfs.c) and the per-process resource built from it
 * (kspan_proc_resource_build in userspace/proc_resource.c). Beyond memory
 * safety it checks: a value found lies inside the input with no NUL in it
 * and follows "NAME="; the resource always has a non-empty string
 * service.name and a process.pid (the target's own OTEL_RESOURCE_ATTRIBUTES
 * may override its value and type, as under an SDK).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <otel/sdk.h>
#include "proc_resource.h"
#include "procfs.h"

#define check(COND)                       \
	do {                              \
		if (!(COND))              \
			__builtin_trap(); \
	} while (0)

static void quiet(enum otel_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static void check_find(const char *buf, size_t len, const char *name)
{
	size_t n = strlen(name), vlen;
	const char *v, *entry;

	if (!kspan_environ_find(buf, len, name, &v, &vlen))
		return;
	check(v >= buf + n + 1 && v + vlen <= buf + len);
	entry = v - n - 1;
	check(!memcmp(entry, name, n) && v[-1] == '=');
	check(entry == buf || entry[-1] == '\0');
	check(!memchr(v, '\0', vlen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct kspan_proc_info info = {
		.pid = 4242,
		.exe_path = "/usr/sbin/fuzzd",
		.command_line = "fuzzd --flag",
		.host_name = "node",
		.environ = buf,
		.environ_len = size,
	};
	const struct otel_value *v;
	otel_resource *r;

	otel_set_logger(quiet, NULL, OTEL_LOG_ERROR);
	check_find(buf, size, "OTEL_SERVICE_NAME");
	check_find(buf, size, "OTEL_RESOURCE_ATTRIBUTES");
	check_find(buf, size, "A");
	r = kspan_proc_resource_build(&info);
	if (!r)
		return 0; /* out of memory */
	v = otel_resource_get(r, "service.name");
	check(v && v->type == OTEL_VALUE_STRING && v->str.len > 0);
	v = otel_resource_get(r, "process.pid");
	check(v != NULL);
	otel_resource_unref(r);
	return 0;
}
