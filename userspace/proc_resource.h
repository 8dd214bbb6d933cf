/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Resource of one traced process, as the process itself would describe
 * itself with an OpenTelemetry SDK: service.name from its own
 * OTEL_SERVICE_NAME, else from service.name in its OTEL_RESOURCE_ATTRIBUTES,
 * else its executable name; the rest of its OTEL_RESOURCE_ATTRIBUTES; and
 * process.pid, process.executable.name/.path, process.command_line,
 * host.name, telemetry.sdk.* (libotel, which encodes the spans) and
 * telemetry.distro.* (kspan). The target's own variables win over what the
 * agent detects, as they would in an SDK's default resource.
 *
 * Everything read from the target is untrusted: strings are repaired to valid
 * UTF-8 and over-long variables are ignored with a warning.
 */
#ifndef KSPAN_PROC_RESOURCE_H
#define KSPAN_PROC_RESOURCE_H

#include <stddef.h>
#include <sys/types.h>
#include <otel/sdk.h>

/* OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES values longer than this are ignored. */
#define KSPAN_ENV_VALUE_MAX (64u << 10)

#define KSPAN_DISTRO_NAME "kspan"

/* What a process's resource is built from; every pointer is borrowed and may be NULL. */
struct kspan_proc_info {
	pid_t pid;
	const char *exe_path; /* /proc/PID/exe target; NULL or "" when unreadable */
	const char *comm; /* executable name when exe_path is unknown */
	const char *command_line; /* kspan_cmdline_join() of /proc/PID/cmdline */
	const char *host_name; /* the node's name; NULL or "": no host.name */
	const char *environ; /* /proc/PID/environ image, NUL-separated */
	size_t environ_len;
};

/**
 * @brief Build the resource from @p info. Pure apart from logging: a malformed
 * or over-long variable of the target is ignored with a warning naming the PID.
 * @return new resource (otel_resource_unref() it), NULL with errno ENOMEM
 */
otel_resource *kspan_proc_resource_build(const struct kspan_proc_info *info);

/**
 * @brief Read process @p pid from the procfs at @p procfs_root (NULL: /proc)
 * and build its resource. An unreadable environ (another user's process
 * without privileges) counts as empty.
 * @param host_name the node's name; NULL: gethostname()
 * @return new resource, NULL with errno ESRCH (no such process) or ENOMEM
 */
otel_resource *kspan_proc_resource_new(const char *procfs_root, pid_t pid, const char *host_name);

#endif
