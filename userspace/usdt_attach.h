/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/usdt_attach.h: attaches the kernel side's USDT program (kspan_loader_usdt_prog())
 * to the otel:* probes of <otel/usdt.h> in traced processes: in their executable and their
 * shared libraries, found through /proc/PID/maps and listed by usdt_scan.c, each opened as
 * /proc/PID/root/<path> so processes in other mount namespaces work too.
 *
 * One libbpf link per (process, file, probe), with the probe's enum kspan_usdt_probe as
 * the USDT cookie, kept per process: destroyed when the process exits, replaced when it
 * execs; a periodic rescan of each process's mappings attaches libraries loaded later
 * (dlopen). Uprobes filtered by process do not follow fork: a forked child is added like
 * any new target. Probes that fire between a fork or exec and the attach are not seen.
 *
 * Links are destroyed by a thread of the attacher's (the kernel takes a grace period per
 * uprobe, about 0.1 s), so a removal or an exec returns at once; the semaphores of a
 * process that lives on drop when that is done (kspan_usdt_attacher_flush() waits for it).
 *
 * Not thread-safe: the agent's event loop calls it. While attaching it routes libbpf's
 * messages through its own print callback (libbpf_set_print is process-wide), so an
 * expected failure (a process that exited meanwhile) gives one line of ours, with
 * libbpf's reason, instead of libbpf's warnings.
 */
#ifndef KSPAN_USERSPACE_USDT_ATTACH_H
#define KSPAN_USERSPACE_USDT_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Links at most (one per process, file and probe); below the kernel side's USDT spec count. */
#define KSPAN_USDT_MAX_LINKS 1000
/* Probe sites attached at most: each is a uprobe, and one file descriptor. */
#define KSPAN_USDT_MAX_SITES 8192
/* How often a process's mappings are looked at again for new libraries. */
#define KSPAN_USDT_RESCAN_MS 5000
/* After an add or an exec, the first rescans come sooner (the loader maps libraries). */
#define KSPAN_USDT_QUICK_RESCANS 3
#define KSPAN_USDT_QUICK_RESCAN_MS 1000
/* Processes rescanned at most per tick; the others wait for the next ones. */
#define KSPAN_USDT_SCANS_PER_TICK 64

struct bpf_program;
struct kspan_usdt_attacher;

struct kspan_usdt_opts {
	unsigned int rescan_ms; /* 0: KSPAN_USDT_RESCAN_MS (quick rescans: at most this too) */
	size_t max_links; /* 0 or more than KSPAN_USDT_MAX_LINKS: KSPAN_USDT_MAX_LINKS */
	size_t max_sites; /* 0 or more than KSPAN_USDT_MAX_SITES: KSPAN_USDT_MAX_SITES */
	/* Receives each log line (no newline); NULL: "kspan: <msg>\n" on stderr. */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

/**
 * @brief An attacher of @p prog (the loader's kspan_usdt program) with no process yet.
 * Raises the soft RLIMIT_NOFILE to the hard limit: every probe site holds a descriptor.
 *
 * @param opts NULL for the defaults
 * @return the attacher, or NULL with errno EINVAL (no program) or ENOMEM.
 */
struct kspan_usdt_attacher *kspan_usdt_attacher_new(struct bpf_program *prog,
						    const struct kspan_usdt_opts *opts);

/**
 * @brief Start following process @p pid: attach to the otel probes of every file it has
 * mapped executable, now, and look again at its mappings from kspan_usdt_attacher_tick().
 * A process already followed is left as it is. Logs once per file what was attached
 * ("usdt: pid 123: 9 otel probes in /usr/bin/foo") and each failure.
 *
 * @return 0 (also when the process has no otel probes, or some failed to attach: logged);
 *         -ESRCH when the process is gone; -EINVAL; -ENOMEM.
 */
int kspan_usdt_attacher_add(struct kspan_usdt_attacher *u, pid_t pid);

/**
 * @brief Forget process @p pid: its links are destroyed in the background (the kernel
 * then decrements the semaphores of a live process). @return 0, -ENOENT when it was not
 * followed, -EINVAL.
 */
int kspan_usdt_attacher_remove(struct kspan_usdt_attacher *u, pid_t pid);

/**
 * @brief Process @p pid runs a new program: destroy the links of the old image, then
 * attach to the new one's probes like kspan_usdt_attacher_add() (followed or not before).
 * @return as kspan_usdt_attacher_add().
 */
int kspan_usdt_attacher_exec(struct kspan_usdt_attacher *u, pid_t pid);

/**
 * @brief Look at @p pid's mappings now: attach to files mapped since the last look. Cheap
 * when nothing changed (one read of /proc/PID/maps). A process found gone is forgotten.
 * @return 0, -ENOENT when not followed, -ESRCH when gone, -EINVAL, -ENOMEM.
 */
int kspan_usdt_attacher_rescan(struct kspan_usdt_attacher *u, pid_t pid);

/**
 * @brief The agent's periodic call (every second): rescan the processes whose time has
 * come (KSPAN_USDT_RESCAN_MS apart, sooner just after add/exec), at most
 * KSPAN_USDT_SCANS_PER_TICK of them, taking turns. Accepts NULL.
 */
void kspan_usdt_attacher_tick(struct kspan_usdt_attacher *u);

/** @brief Links held for @p pid (0 when not followed); for @p pid 0, links held in all. */
size_t kspan_usdt_attacher_links(const struct kspan_usdt_attacher *u, pid_t pid);

/** @brief True when @p pid is followed. */
bool kspan_usdt_attacher_has(const struct kspan_usdt_attacher *u, pid_t pid);

/** @brief Wait until the links given up so far are destroyed. Accepts NULL. */
void kspan_usdt_attacher_flush(struct kspan_usdt_attacher *u);

/** @brief Destroy every link (waiting for it) and free the attacher. Accepts NULL. */
void kspan_usdt_attacher_free(struct kspan_usdt_attacher *u);

#endif /* KSPAN_USERSPACE_USDT_ATTACH_H */
