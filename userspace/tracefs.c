// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/tracefs.c: the agent's own tracefs lookup and mount (see tracefs.h).
 */
#include "tracefs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"

/* tracefs is mounted when its "events" directory is visible. */
static int tracefs_present(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events", dir);
	return access(path, F_OK) == 0;
}

int kspan_tracefs_ensure(const char **dir, char *err, size_t errsz)
{
	static const char *const dirs[] = { KSPAN_TRACEFS_DIR, DEBUGFS_TRACING_DIR };
	size_t i;
	int e;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (tracefs_present(dirs[i])) {
			if (dir)
				*dir = dirs[i];
			return 0;
		}
	}
	if (mount("tracefs", KSPAN_TRACEFS_DIR, "tracefs", 0, NULL) == 0 &&
	    tracefs_present(KSPAN_TRACEFS_DIR)) {
		if (dir)
			*dir = KSPAN_TRACEFS_DIR;
		return 0;
	}
	e = errno ? errno : ENOENT;
	if (err && errsz)
		snprintf(err, errsz, "tracefs is not mounted and mounting it at %s failed: %s%s",
			 KSPAN_TRACEFS_DIR, strerror(e),
			 e == EPERM ? " (needs root or CAP_SYS_ADMIN; or mount it: "
				      "mount -t tracefs tracefs " KSPAN_TRACEFS_DIR ")" :
				      "");
	return -e;
}
