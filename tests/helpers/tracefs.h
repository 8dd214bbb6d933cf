/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/helpers/tracefs.h: makes sure tracefs is mounted, which libbpf needs to
 * attach tracepoint (tp/...) programs: it reads each event's id from tracefs.
 */
#ifndef KSPAN_TEST_TRACEFS_H
#define KSPAN_TEST_TRACEFS_H

/** Default tracefs mount point. */
#define TEST_TRACEFS_DIR "/sys/kernel/tracing"

/**
 * @brief Mount tracefs at TEST_TRACEFS_DIR unless it (or debugfs's tracing
 * directory) is already there.
 *
 * @return 0 if tracefs is usable; a negative errno if it is not mounted and
 * could not be mounted (-EPERM without CAP_SYS_ADMIN). On failure a message
 * naming the cause is printed to stderr.
 */
int test_tracefs_ensure(void);

#endif /* KSPAN_TEST_TRACEFS_H */
