/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The target set: the TGIDs the agent traces. Built at start from the
 * selectors of the configuration (--pid, --exe, --port) plus the existing
 * descendants of every process found, then kept current by the loader from
 * fork/exec/exit events through kspan_targets_add()/_remove().
 *
 * Every change goes through the on_change hook (the loader mirrors the set
 * into the BPF map there), so the set and the map never disagree: when the
 * hook fails the change is undone. No BPF code here.
 */
#ifndef KSPAN_TARGETS_H
#define KSPAN_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include "cli.h"

/* An --exe file's identity, as the kernel-side exec watch matches it. */
struct kspan_exe_id {
	dev_t dev; /* st_dev (userspace encoding; see kspan_dev_to_kernel()) */
	ino_t ino;
};

/*
 * The hook: called after @tgid was added to (@added true) or removed from the
 * set. A non-zero return (a -errno) undoes the change and is returned to the
 * caller of kspan_targets_add()/_remove().
 */
typedef int (*kspan_targets_hook)(void *ctx, pid_t tgid, bool added);

struct kspan_targets {
	pid_t *tgids; /* sorted ascending; read-only for users */
	size_t n, cap;
	struct kspan_exe_id *exes; /* from the --exe selectors */
	size_t n_exes;
	const char *procfs_root; /* NULL: /proc */
	kspan_targets_hook on_change; /* may be NULL; set before resolving */
	void *ctx; /* for on_change */
};

/* Iterate over the TGIDs (do not add or remove inside the loop). */
#define kspan_targets_for_each(T, I, TGID)                                                         \
	for ((I) = 0; (I) < (T)->n && (((TGID) = (T)->tgids[I]), 1); (I)++)

/**
 * @brief The kernel's internal dev_t (MKDEV: major << 20 | minor), which is
 * what inode->i_sb->s_dev holds, from a userspace st_dev.
 */
static inline uint32_t kspan_dev_to_kernel(dev_t dev)
{
	return (uint32_t)(major(dev) << 20 | minor(dev));
}

/** @brief An empty set reading the procfs at @p procfs_root (NULL: /proc). */
void kspan_targets_init(struct kspan_targets *t, const char *procfs_root);

/**
 * @brief Add the selected processes and their descendants: each --pid (a
 * thread ID is mapped to its process), every running process of each --exe,
 * and the owners of sockets listening on each --port. A --pid that exited
 * since the command line was checked, and a --port nobody listens on, are
 * warned about (otel_log) and skipped. Records the --exe identities.
 * @return 0, -ENOMEM, or the hook's error
 */
int kspan_targets_resolve(struct kspan_targets *t, const struct kspan_config *cfg);

/** @brief Add one TGID. @return 1 added, 0 already there, -ENOMEM or the hook's error */
int kspan_targets_add(struct kspan_targets *t, pid_t tgid);

/** @brief Add @p tgid and all its current descendants. @return 0, -errno */
int kspan_targets_add_tree(struct kspan_targets *t, pid_t tgid);

/** @brief Remove one TGID. @return 1 removed, 0 not there, or the hook's error */
int kspan_targets_remove(struct kspan_targets *t, pid_t tgid);

/** @brief True when @p tgid is a target. */
bool kspan_targets_contains(const struct kspan_targets *t, pid_t tgid);

/** @brief True when (dev, ino) is one of the --exe files: a new process to pick up. */
bool kspan_targets_exe_selected(const struct kspan_targets *t, dev_t dev, ino_t ino);

/** @brief The --exe identities (for the kernel-side exec watch); *n gets the count. */
const struct kspan_exe_id *kspan_targets_exes(const struct kspan_targets *t, size_t *n);

/** @brief Free everything (the hook is not called). Accepts NULL. */
void kspan_targets_free(struct kspan_targets *t);

#endif
