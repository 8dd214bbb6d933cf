/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/tracefs.h: finds tracefs, and mounts it when it is missing (libbpf
 * reads tracepoint ids from it to attach tp/ programs; containers and minimal
 * VMs often boot without it).
 */
#ifndef KSPAN_USERSPACE_TRACEFS_H
#define KSPAN_USERSPACE_TRACEFS_H

#include <stddef.h>

/** Where kspan mounts tracefs when no tracefs is visible. */
#define KSPAN_TRACEFS_DIR "/sys/kernel/tracing"

/**
 * @brief Find a mounted tracefs (KSPAN_TRACEFS_DIR, then debugfs's tracing
 * directory), mounting tracefs at KSPAN_TRACEFS_DIR if neither is there.
 *
 * @param dir  receives a static string naming the directory in use (may be NULL)
 * @param err  receives a message naming the cause on failure (may be NULL)
 * @param errsz size of err
 * @return 0, or a negative errno when tracefs is not mounted and mounting it
 *         failed (-EPERM without CAP_SYS_ADMIN, -ENODEV without tracefs support).
 */
int kspan_tracefs_ensure(const char **dir, char *err, size_t errsz);

#endif /* KSPAN_USERSPACE_TRACEFS_H */
