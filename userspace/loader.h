/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/loader.h: the lifecycle of the kernel side (bpf/kspan.bpf.c): open,
 * configure, pick the hook flavor that loads and attaches, attach, expose the maps
 * the agent writes (targets, watch_exe) and reads (ring buffer, drops) and the USDT
 * program usdt_attach.c attaches per process, destroy.
 */
#ifndef KSPAN_USERSPACE_LOADER_H
#define KSPAN_USERSPACE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "kspan.h"
#include "feature_probe.h"

#define KSPAN_LOADER_CAPTURE_DEFAULT 1024
#define KSPAN_LOADER_WAKEUP_DEFAULT 64
#define KSPAN_LOADER_RING_DEFAULT (4u << 20)

struct kspan_loader_opts {
	__u32 capture_bytes; /* bytes copied per syscall; 0: default; at most KSPAN_MAX_CAPTURE */
	__u32 wakeup_every; /* wake the reader every Nth record; 0: default, 1: every record */
	__u32 ring_bytes; /* ring buffer size, a power of two >= the page size; 0: default */
	/* KSPAN_FLAVOR_AUTO (then KSPAN_FLAVOR_ENV may name one), or the only flavor to try */
	enum kspan_flavor flavor;
	/* Receives each log line (no newline); NULL: "kspan: <msg>\n" on stderr. */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

struct kspan_loader;

/**
 * @brief Validate the options and probe the kernel's features. Loads nothing yet.
 * With opts->flavor KSPAN_FLAVOR_AUTO, the environment variable KSPAN_FLAVOR_ENV
 * ("KSPAN_FLAVOR") may name the only flavor to try ("socket"; "auto" or unset: choose).
 *
 * @param opts NULL for the defaults
 * @return a loader, or NULL with errno EINVAL (bad option, or a KSPAN_FLAVOR naming
 *         no flavor, which is logged) or ENOMEM.
 */
struct kspan_loader *kspan_loader_open(const struct kspan_loader_opts *opts);

/**
 * @brief Load and attach the best flavor: fentry, then kprobe, then syscall
 * tracepoints, skipping those the features rule out and falling back when one
 * fails to load or attach; the socket flavor (between kprobe and syscall tracepoints)
 * only when asked for (kspan_flavor_opt_in). Logs the choice and why, or each failure.
 *
 * @return 0; -EALREADY if attached; otherwise the last flavor's error (-EPERM:
 *         needs root or CAP_BPF+CAP_PERFMON, ...), with kspan_loader_error() set.
 */
int kspan_loader_attach(struct kspan_loader *l);

/** @brief The attached flavor's name ("tracepoint", ...), or "none" before attach. */
const char *kspan_loader_flavor(const struct kspan_loader *l);

/** @brief The attached flavor, KSPAN_FLAVOR_AUTO before attach. */
enum kspan_flavor kspan_loader_flavor_id(const struct kspan_loader *l);

/** @brief Why this flavor (and why not the better ones); after a failure, the error. */
const char *kspan_loader_reason(const struct kspan_loader *l);

/** @brief The features probed by kspan_loader_open(). */
const struct kspan_features *kspan_loader_features(const struct kspan_loader *l);

/**
 * @brief Trace a process (its children become targets in the kernel).
 * @return 0, -EINVAL before attach or for tgid 0, or the map update's error
 *         (-E2BIG when KSPAN_MAX_TARGETS are traced).
 */
int kspan_loader_add_target(struct kspan_loader *l, __u32 tgid);

/** @brief Stop tracing a process. @return 0, -ENOENT if not a target, -EINVAL before attach. */
int kspan_loader_remove_target(struct kspan_loader *l, __u32 tgid);

/** @brief Whether tgid is currently a target (the kernel keeps the set current). */
bool kspan_loader_is_target(const struct kspan_loader *l, __u32 tgid);

/**
 * @brief Make every process that execs this executable a target from then on.
 *
 * @param dev st_dev and @param ino st_ino of the executable, as stat(2) gives them
 * @return 0, -EINVAL before attach, or the map update's error (-E2BIG past
 *         KSPAN_MAX_WATCH_EXE executables).
 */
int kspan_loader_watch_exe(struct kspan_loader *l, dev_t dev, ino_t ino);

struct bpf_program;

/**
 * @brief The USDT program (loaded with every flavor, attached by nobody): what
 * usdt_attach.c passes to bpf_program__attach_usdt() for each otel:* probe, with the
 * probe's enum kspan_usdt_probe as the USDT cookie. Owned by the loader: links made
 * from it must be destroyed before kspan_loader_destroy().
 * @return the program, or NULL before attach.
 */
struct bpf_program *kspan_loader_usdt_prog(const struct kspan_loader *l);

/** @brief The ring buffer map's fd, for ring_buffer__new(); -EINVAL before attach. */
int kspan_loader_ring_fd(const struct kspan_loader *l);

/**
 * @brief The drop counters summed over CPUs, indexed by enum kspan_drop_reason.
 * @return 0, -EINVAL before attach, or the lookup's error.
 */
int kspan_loader_drops(const struct kspan_loader *l, __u64 out[KSPAN_DROP_MAX]);

/** @brief Detach and free everything. Accepts NULL. */
void kspan_loader_destroy(struct kspan_loader *l);

/**
 * @brief Load (verifier) and unload one flavor's programs, attaching nothing:
 * tests and `kspan probe` use it to check that a flavor passes the verifier.
 *
 * @param opts NULL for the defaults
 * @param flavor not KSPAN_FLAVOR_AUTO
 * @param err receives libbpf's reason on failure (may be NULL)
 * @return 0 or the load error as a negative errno.
 */
int kspan_loader_verify_flavor(const struct kspan_loader_opts *opts, enum kspan_flavor flavor,
			       char *err, size_t errsz);

#endif /* KSPAN_USERSPACE_LOADER_H */
