// SPDX-License-Identifier: Apache-2.0
/*
 * tests/helpers/tracefs.c: mounts tracefs for integration tests that attach
 * tracepoint programs on machines (containers, minimal VMs) that boot without it.
 */
#include "tracefs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* tracefs is mounted when its "events" directory is visible. */
static int tracefs_present(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events", dir);
	return access(path, F_OK) == 0;
}

int test_tracefs_ensure(void)
{
	int err;

	if (tracefs_present(TEST_TRACEFS_DIR) || tracefs_present("/sys/kernel/debug/tracing"))
		return 0;
	if (mount("tracefs", TEST_TRACEFS_DIR, "tracefs", 0, NULL) == 0)
		return 0;
	err = errno;
	fprintf(stderr, "tracefs is not mounted at %s and mounting it failed: %s%s\n",
		TEST_TRACEFS_DIR, strerror(err),
		err == EPERM ? " (needs root / CAP_SYS_ADMIN)" : "");
	return -err;
}
