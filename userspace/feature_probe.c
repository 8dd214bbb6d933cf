// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/feature_probe.c: the one feature-probe module (see feature_probe.h). Each probe
 * asks the kernel the cheapest question that settles it: a sysfs/tracefs file, a
 * libbpf probe, or, where only trying tells (fentry, tp_btf), a trivial program
 * loaded, attached and closed again.
 */
#include "feature_probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tracefs.h"

#define PMU_DIR "/sys/bus/event_source/devices"

static const char *const feature_names[KSPAN_FEAT_MAX] = {
	[KSPAN_FEAT_BTF] = "BTF",
	[KSPAN_FEAT_RINGBUF] = "ring buffer",
	[KSPAN_FEAT_RAW_TP] = "raw tracepoints",
	[KSPAN_FEAT_TP_BTF] = "tp_btf",
	[KSPAN_FEAT_SYSCALL_TP] = "syscall tracepoints",
	[KSPAN_FEAT_KPROBE] = "kprobes",
	[KSPAN_FEAT_FENTRY] = "fentry",
	[KSPAN_FEAT_SOCK_TP] = "socket tracepoints",
	[KSPAN_FEAT_UPROBE] = "uprobes",
	[KSPAN_FEAT_USDT] = "USDT",
	[KSPAN_FEAT_SK_MSG] = "sk_msg",
	[KSPAN_FEAT_TC] = "tc",
};

static const char *const flavor_names[KSPAN_FLAVOR_MAX] = {
	[KSPAN_FLAVOR_AUTO] = "auto",
	[KSPAN_FLAVOR_FENTRY] = "fentry",
	[KSPAN_FLAVOR_KPROBE] = "kprobe",
	[KSPAN_FLAVOR_SOCKET] = "socket",
	[KSPAN_FLAVOR_SYSCALL_TP] = "tracepoint",
};

const char *kspan_feature_name(enum kspan_feature feat)
{
	return (unsigned int)feat < KSPAN_FEAT_MAX ? feature_names[feat] : "?";
}

const char *kspan_flavor_name(enum kspan_flavor flavor)
{
	return (unsigned int)flavor < KSPAN_FLAVOR_MAX ? flavor_names[flavor] : "?";
}

int kspan_flavor_parse(const char *name, enum kspan_flavor *out)
{
	enum kspan_flavor f;

	for (f = KSPAN_FLAVOR_AUTO; name && f < KSPAN_FLAVOR_MAX; f++) {
		if (!strcmp(name, flavor_names[f])) {
			*out = f;
			return 0;
		}
	}
	return -EINVAL;
}

int kspan_flavor_from_env(enum kspan_flavor *out)
{
	const char *v = getenv(KSPAN_FLAVOR_ENV);

	if (!v || !*v) {
		*out = KSPAN_FLAVOR_AUTO;
		return 0;
	}
	return kspan_flavor_parse(v, out);
}

bool kspan_flavor_opt_in(enum kspan_flavor flavor)
{
	return flavor == KSPAN_FLAVOR_SOCKET;
}

enum kspan_feature kspan_flavor_feature(enum kspan_flavor flavor)
{
	switch (flavor) {
	case KSPAN_FLAVOR_FENTRY:
		return KSPAN_FEAT_FENTRY;
	case KSPAN_FLAVOR_KPROBE:
		return KSPAN_FEAT_KPROBE;
	case KSPAN_FLAVOR_SOCKET:
		return KSPAN_FEAT_SOCK_TP;
	case KSPAN_FLAVOR_SYSCALL_TP:
		return KSPAN_FEAT_SYSCALL_TP;
	default:
		return KSPAN_FEAT_MAX;
	}
}

const char *kspan_syscall_prefix(void)
{
#if defined(__x86_64__)
	return "__x64_sys_";
#elif defined(__aarch64__)
	return "__arm64_sys_";
#elif defined(__s390x__)
	return "__s390x_sys_";
#else
	return "sys_";
#endif
}

static __attribute__((format(printf, 3, 4))) void set(struct kspan_feature_result *r, bool ok,
						      const char *fmt, ...)
{
	va_list ap;

	r->ok = ok;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

const char *kspan_bpf_err_hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return geteuid() == 0 ? " (refused to root: not supported by this kernel's build)" :
					" (needs root, or CAP_BPF+CAP_PERFMON, and CAP_SYS_ADMIN "
					"to mount tracefs)";
	case ENOENT:
		return " (hook point not found: tracefs not mounted or kernel without it)";
	case EOPNOTSUPP:
	case 524: /* the kernel's internal ENOTSUPP, which libbpf passes on */
		return " (not supported by this kernel)";
	default:
		return "";
	}
}

static void probe_file(struct kspan_feature_result *r, const char *path, const char *yes,
		       const char *no)
{
	if (access(path, F_OK) == 0)
		set(r, true, "%s (%s)", yes, path);
	else
		set(r, false, "%s (no %s)", no, path);
}

/* libbpf's own probes: 1 yes, 0 no, < 0 could not tell. */
static void probe_libbpf(struct kspan_feature_result *r, int ret, const char *what)
{
	if (ret == 1)
		set(r, true, "%s supported", what);
	else if (ret == 0)
		set(r, false, "%s not supported by this kernel", what);
	else
		set(r, false, "probing %s failed: %s%s", what, strerror(-ret),
		    kspan_bpf_err_hint(-ret));
}

/*
 * Load "r0 = 0; exit" as a BTF-attached tracing program on vmlinux type `name`
 * and attach it: the only reliable test for fentry (trampolines) and tp_btf.
 */
static void probe_tracing(struct kspan_feature_result *r, const char *name, __u32 kind,
			  enum bpf_attach_type type, const char *what)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd, link, err;

	if (!btf) {
		set(r, false, "no kernel BTF to find %s", name);
		return;
	}
	id = btf__find_by_name_kind(btf, name, kind);
	btf__free(btf);
	if (id < 0) {
		set(r, false, "%s not found in the kernel's BTF", name);
		return;
	}
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "kspan_probe", "GPL", insns, 2, &opts);
	if (fd < 0) {
		err = errno;
		set(r, false, "loading a %s program on %s failed: %s%s", what, name, strerror(err),
		    kspan_bpf_err_hint(err));
		return;
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	err = errno;
	if (link < 0)
		set(r, false, "attaching a %s program to %s failed: %s%s", what, name,
		    strerror(err), kspan_bpf_err_hint(err));
	else
		set(r, true, "%s program loaded and attached on %s", what, name);
	if (link >= 0)
		close(link);
	close(fd);
}

static void probe_syscall_tp(struct kspan_feature_result *r)
{
	const char *dir = NULL;
	char path[256], err[256];

	if (kspan_tracefs_ensure(&dir, err, sizeof(err))) {
		set(r, false, "%s", err);
		return;
	}
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_read/id", dir);
	probe_file(r, path, "tracefs syscall events",
		   "kernel built without CONFIG_FTRACE_SYSCALLS");
}

static void probe_kprobe(struct kspan_feature_result *r)
{
	const char *dir = NULL;
	char path[256];

	if (access(PMU_DIR "/kprobe/type", F_OK) == 0) {
		set(r, true, "kprobe PMU (" PMU_DIR "/kprobe)");
		return;
	}
	if (kspan_tracefs_ensure(&dir, NULL, 0) == 0) {
		snprintf(path, sizeof(path), "%s/kprobe_events", dir);
		if (access(path, F_OK) == 0) {
			set(r, true, "legacy kprobe_events (%s)", path);
			return;
		}
	}
	set(r, false,
	    "kernel built without CONFIG_KPROBES (no " PMU_DIR "/kprobe, no "
	    "tracefs kprobe_events)");
}

/*
 * The socket flavor: tp_btf on sock_send_length (6.3+; sock_recv_length came with it, the
 * state and destroy tracepoints are older), and the x86-64 syscall registers it reads.
 */
static void probe_sock_tp(struct kspan_feature_result *r)
{
#if defined(__x86_64__)
	probe_tracing(r, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF, BPF_TRACE_RAW_TP,
		      "tp_btf");
#else
	set(r, false, "x86-64 only: the syscall is read from its saved user registers");
#endif
}

static void probe_usdt(struct kspan_feature_result *r, const struct kspan_feature_result *up)
{
	if (!up->ok)
		set(r, false, "needs uprobes");
	else
		probe_file(r, PMU_DIR "/uprobe/format/ref_ctr_offset",
			   "uprobes with semaphore reference counters",
			   "kernel older than 4.20: no USDT semaphores");
}

static void probe_sk_msg(struct kspan_feature_result *r)
{
	int prog = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_MSG, NULL);
	int map = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SOCKHASH, NULL);

	probe_libbpf(r, prog == 1 ? map : prog, "sk_msg programs and sockhash maps");
}

int kspan_features_probe(struct kspan_features *out)
{
	struct kspan_feature_result *f;
	char fn[128];

	if (!out)
		return -EINVAL;
	f = out->f;
	probe_file(&f[KSPAN_FEAT_BTF], "/sys/kernel/btf/vmlinux", "kernel BTF",
		   "kernel built without CONFIG_DEBUG_INFO_BTF");
	probe_libbpf(&f[KSPAN_FEAT_RINGBUF], libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL),
		     "BPF ring buffer");
	probe_libbpf(&f[KSPAN_FEAT_RAW_TP],
		     libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL),
		     "raw tracepoint programs");
	probe_tracing(&f[KSPAN_FEAT_TP_BTF], "btf_trace_sched_process_fork", BTF_KIND_TYPEDEF,
		      BPF_TRACE_RAW_TP, "tp_btf");
	probe_syscall_tp(&f[KSPAN_FEAT_SYSCALL_TP]);
	probe_kprobe(&f[KSPAN_FEAT_KPROBE]);
	snprintf(fn, sizeof(fn), "%sread", kspan_syscall_prefix());
	probe_tracing(&f[KSPAN_FEAT_FENTRY], fn, BTF_KIND_FUNC, BPF_TRACE_FENTRY, "fentry");
	probe_sock_tp(&f[KSPAN_FEAT_SOCK_TP]);
	probe_file(&f[KSPAN_FEAT_UPROBE], PMU_DIR "/uprobe/type", "uprobe PMU",
		   "kernel built without CONFIG_UPROBE_EVENTS");
	probe_usdt(&f[KSPAN_FEAT_USDT], &f[KSPAN_FEAT_UPROBE]);
	probe_sk_msg(&f[KSPAN_FEAT_SK_MSG]);
	probe_libbpf(&f[KSPAN_FEAT_TC], libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL),
		     "sched_cls programs");
	return 0;
}

/* The plan when KSPAN_FLAVOR_ENV names a flavor (or nothing valid). */
static enum kspan_flavor plan_requested(const struct kspan_features *f, enum kspan_flavor fl,
					int invalid, char *why, size_t whysz)
{
	const struct kspan_feature_result *r;

	if (invalid) {
		if (why && whysz)
			snprintf(why, whysz, "%s=%s names no flavor", KSPAN_FLAVOR_ENV,
				 getenv(KSPAN_FLAVOR_ENV));
		return KSPAN_FLAVOR_AUTO;
	}
	r = &f->f[kspan_flavor_feature(fl)];
	if (why && whysz)
		snprintf(why, whysz, "%s%s by %s: %s", kspan_flavor_name(fl),
			 r->ok ? " requested" : " requested, unavailable", KSPAN_FLAVOR_ENV,
			 r->reason);
	return r->ok ? fl : KSPAN_FLAVOR_AUTO;
}

enum kspan_flavor kspan_features_plan(const struct kspan_features *f, char *why, size_t whysz)
{
	enum kspan_flavor fl = KSPAN_FLAVOR_AUTO;
	int invalid = kspan_flavor_from_env(&fl);
	size_t used = 0;
	int n;

	if (why && whysz)
		why[0] = '\0';
	if (invalid || fl != KSPAN_FLAVOR_AUTO)
		return plan_requested(f, fl, invalid, why, whysz);
	for (fl = KSPAN_FLAVOR_FENTRY; fl < KSPAN_FLAVOR_MAX; fl++) {
		const struct kspan_feature_result *r = &f->f[kspan_flavor_feature(fl)];

		if (kspan_flavor_opt_in(fl))
			continue;
		if (r->ok) {
			if (why && used < whysz)
				snprintf(why + used, whysz - used, "%s%s: %s", used ? "; " : "",
					 kspan_flavor_name(fl), r->reason);
			return fl;
		}
		if (why && used < whysz) {
			n = snprintf(why + used, whysz - used, "%s%s unavailable: %s",
				     used ? "; " : "", kspan_flavor_name(fl), r->reason);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	return KSPAN_FLAVOR_AUTO;
}
