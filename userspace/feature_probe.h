/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/feature_probe.h: what the running kernel offers the agent, probed once:
 * one yes/no per feature with a short reason, and the hook flavor those answers
 * make the best choice. Used by the loader and by `kspan probe`.
 * (Not named features.h: with -Iuserspace it would shadow glibc's <features.h>.)
 */
#ifndef KSPAN_USERSPACE_FEATURE_PROBE_H
#define KSPAN_USERSPACE_FEATURE_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum kspan_feature {
	KSPAN_FEAT_BTF, /* /sys/kernel/btf/vmlinux: CO-RE needs it */
	KSPAN_FEAT_RINGBUF, /* BPF_MAP_TYPE_RINGBUF */
	KSPAN_FEAT_RAW_TP, /* raw tracepoints (fork/exec/exit) */
	KSPAN_FEAT_TP_BTF, /* BTF-typed raw tracepoints */
	KSPAN_FEAT_SYSCALL_TP, /* tracefs events/syscalls */
	KSPAN_FEAT_KPROBE, /* kprobe PMU or tracefs kprobe_events */
	KSPAN_FEAT_FENTRY, /* fentry program loaded and attached to a syscall function */
	KSPAN_FEAT_SOCK_TP, /* tp_btf on sock_send_length (6.3+), and x86-64 */
	KSPAN_FEAT_UPROBE, /* uprobe PMU */
	KSPAN_FEAT_USDT, /* uprobes with reference counters (USDT semaphores) */
	KSPAN_FEAT_SK_MSG, /* sk_msg programs and sockhash maps */
	KSPAN_FEAT_TC, /* sched_cls programs */
	KSPAN_FEAT_MAX,
};

/* The socket-capture hook flavors, best first. */
enum kspan_flavor {
	KSPAN_FLAVOR_AUTO = 0, /* only as a request: let the loader choose */
	KSPAN_FLAVOR_FENTRY,
	KSPAN_FLAVOR_KPROBE,
	KSPAN_FLAVOR_SOCKET, /* socket tracepoints: opt-in for now (kspan_flavor_opt_in) */
	KSPAN_FLAVOR_SYSCALL_TP,
	KSPAN_FLAVOR_MAX,
};

/* The environment variable that asks for one flavor by name ("socket"; "auto": choose). */
#define KSPAN_FLAVOR_ENV "KSPAN_FLAVOR"

struct kspan_feature_result {
	bool ok;
	char reason[192];
};

struct kspan_features {
	struct kspan_feature_result f[KSPAN_FEAT_MAX];
};

/**
 * @brief Probe every feature of the running kernel. May mount tracefs (to look at
 * its syscall events). Loads and attaches throw-away programs for fentry and tp_btf.
 *
 * @param out filled for every feature, with a reason for yes and for no
 * @return 0 (a probe that fails says so in its result), -EINVAL if out is NULL.
 */
int kspan_features_probe(struct kspan_features *out);

/** @brief The feature's name as `kspan probe` prints it ("fentry", "ring buffer", ...). */
const char *kspan_feature_name(enum kspan_feature feat);

/** @brief The flavor's name ("fentry", "kprobe", "socket", "tracepoint"), "auto" or "?" */
const char *kspan_flavor_name(enum kspan_flavor flavor);

/**
 * @brief The flavor named name (as kspan_flavor_name() spells it, "auto" included).
 * @return 0, or -EINVAL for an unknown or NULL name (*out unchanged).
 */
int kspan_flavor_parse(const char *name, enum kspan_flavor *out);

/**
 * @brief The flavor KSPAN_FLAVOR_ENV asks for: KSPAN_FLAVOR_AUTO when unset or empty.
 * @return 0, or -EINVAL when it names no flavor (*out unchanged).
 */
int kspan_flavor_from_env(enum kspan_flavor *out);

/**
 * @brief Whether the flavor is tried only when asked for by name, never by
 * KSPAN_FLAVOR_AUTO: the socket flavor, until it records everything the others do.
 */
bool kspan_flavor_opt_in(enum kspan_flavor flavor);

/**
 * @brief The feature a flavor's attach depends on (KSPAN_FEAT_FENTRY, ...), or
 * KSPAN_FEAT_MAX for KSPAN_FLAVOR_AUTO and out-of-range values.
 */
enum kspan_feature kspan_flavor_feature(enum kspan_flavor flavor);

/**
 * @brief The flavor the loader will try first, and why: the one KSPAN_FLAVOR_ENV asks
 * for, else the best the features allow that is not opt-in (with the reasons the better
 * ones are out). KSPAN_FLAVOR_AUTO when none is possible (or the variable is invalid).
 *
 * @param why receives the explanation (may be NULL)
 */
enum kspan_flavor kspan_features_plan(const struct kspan_features *f, char *why, size_t whysz);

/** @brief The syscall function name prefix of this architecture ("__x64_sys_"). */
const char *kspan_syscall_prefix(void);

/**
 * @brief What a bpf()/perf errno most likely means for the person running the
 * agent, as a suffix for a message: " (needs root, or CAP_BPF+CAP_PERFMON ...)".
 * "" when there is nothing to add.
 */
const char *kspan_bpf_err_hint(int err);

#endif /* KSPAN_USERSPACE_FEATURE_PROBE_H */
