// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/loader.c: the kernel side's lifecycle (see loader.h). The flavor
 * choice is "the best one that loads and attaches": the feature probes rule out
 * what cannot work, and a load or attach failure falls back to the next flavor
 * with a fresh skeleton (a libbpf object loads once). Opt-in flavors are tried
 * only when asked for, by the options or by KSPAN_FLAVOR_ENV.
 */
#include "loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kspan_maps.h"
#include "kspan.skel.h"

struct kspan_loader {
	struct kspan_loader_opts opts;
	struct kspan_features feat;
	struct kspan *skel;
	struct bpf_link **links;
	size_t nlinks;
	enum kspan_flavor flavor;
	char reason[1536];
};

static void default_log(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "kspan: %s\n", msg);
}

static __attribute__((format(printf, 2, 3))) void loader_log(const struct kspan_loader *l,
							     const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->opts.log)
		l->opts.log(l->opts.log_ctx, msg);
	else
		default_log(NULL, msg);
}

/* Append "; <text>" (or "<text>") to a bounded string. */
static __attribute__((format(printf, 3, 4))) void append(char *buf, size_t size, const char *fmt,
							 ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 2 >= size)
		return;
	if (used) {
		strcpy(buf + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static int check_opts(struct kspan_loader_opts *o)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!o->capture_bytes)
		o->capture_bytes = KSPAN_LOADER_CAPTURE_DEFAULT;
	if (!o->wakeup_every)
		o->wakeup_every = KSPAN_LOADER_WAKEUP_DEFAULT;
	if (!o->ring_bytes)
		o->ring_bytes = KSPAN_LOADER_RING_DEFAULT;
	if (o->capture_bytes > KSPAN_MAX_CAPTURE || (o->ring_bytes & (o->ring_bytes - 1)) ||
	    o->ring_bytes < (__u32)page || (unsigned int)o->flavor >= KSPAN_FLAVOR_MAX)
		return -EINVAL;
	return 0;
}

/*
 * The flavor a program belongs to, by its section; KSPAN_FLAVOR_AUTO: all flavors.
 * *optional: the flavor works without it, where the kernel lacks its hook point.
 */
static enum kspan_flavor prog_flavor(const struct bpf_program *p, bool *optional)
{
	static const struct {
		const char *prefix;
		enum kspan_flavor flavor;
		bool optional;
	} map[] = {
		{ "tp/syscalls/", KSPAN_FLAVOR_SYSCALL_TP, false },
		{ "ksyscall/", KSPAN_FLAVOR_KPROBE, false },
		{ "kretsyscall/", KSPAN_FLAVOR_KPROBE, false },
		{ "fentry/", KSPAN_FLAVOR_FENTRY, false },
		{ "fexit/", KSPAN_FLAVOR_FENTRY, false },
		{ "tp_btf/sock_send_length", KSPAN_FLAVOR_SOCKET, false },
		{ "tp_btf/sock_recv_length", KSPAN_FLAVOR_SOCKET, false },
		{ "tp_btf/inet_sock_set_state", KSPAN_FLAVOR_SOCKET, false },
		{ "tp_btf/tcp_destroy_sock", KSPAN_FLAVOR_SOCKET, false },
		{ "tp_btf/tcp_sendmsg_locked", KSPAN_FLAVOR_SOCKET, true }, /* send start times */
	};
	const char *sec = bpf_program__section_name(p);
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strncmp(sec, map[i].prefix, strlen(map[i].prefix))) {
			*optional = map[i].optional;
			return map[i].flavor;
		}
	}
	*optional = false;
	return KSPAN_FLAVOR_AUTO;
}

/* Whether the kernel has the tracepoint or function a BTF-attached program names. */
static bool hook_point_exists(const struct bpf_program *p)
{
	const char *name = strchr(bpf_program__section_name(p), '/');

	return name &&
	       libbpf_find_vmlinux_btf_id(name + 1, bpf_program__expected_attach_type(p)) >= 0;
}

/* Open and load the skeleton with only `flavor`'s programs (and the common ones). */
static int load_flavor(const struct kspan_loader_opts *o, enum kspan_flavor flavor,
		       struct kspan **out, char *err, size_t errsz)
{
	struct bpf_program *p;
	struct kspan *skel;
	enum kspan_flavor f;
	bool optional, load;
	int ret;

	skel = kspan__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errsz, "opening the BPF object failed: %s", strerror(-ret));
		return ret;
	}
	skel->rodata->capture_bytes = o->capture_bytes;
	skel->rodata->wakeup_every = o->wakeup_every;
	ret = bpf_map__set_max_entries(skel->maps.events, o->ring_bytes);
	bpf_object__for_each_program(p, skel->obj) {
		f = prog_flavor(p, &optional);
		load = f == KSPAN_FLAVOR_AUTO ||
		       (f == flavor && (!optional || hook_point_exists(p)));
		if (!ret)
			ret = bpf_program__set_autoload(p, load);
	}
	if (!ret)
		ret = kspan__load(skel);
	if (ret) {
		snprintf(err, errsz, "loading the %s programs failed: %s%s",
			 kspan_flavor_name(flavor), strerror(-ret), kspan_bpf_err_hint(-ret));
		kspan__destroy(skel);
		return ret;
	}
	*out = skel;
	return 0;
}

static void detach_all(struct kspan_loader *l)
{
	size_t i;

	for (i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	free(l->links);
	l->links = NULL;
	l->nlinks = 0;
	kspan__destroy(l->skel);
	l->skel = NULL;
}

/*
 * Whether p is attached per traced process elsewhere, not here: the USDT program
 * (usdt_attach.c, to each otel:* probe) and the library uprobes, whose sections name
 * a library and a function ("uprobe/libssl.so.3:SSL_write"), attached to each traced
 * process that maps that library.
 */
static bool attached_per_process(const struct kspan_loader *l, const struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);

	return p == l->skel->progs.kspan_usdt || !strncmp(sec, "uprobe/", 7) ||
	       !strncmp(sec, "uretprobe/", 10);
}

/* Attach every loaded program but those; one link each, so a failure names the hook. */
static int attach_all(struct kspan_loader *l, char *err, size_t errsz)
{
	struct bpf_program *p;
	size_t n = 0;
	int ret;

	bpf_object__for_each_program(p, l->skel->obj)
		n++;
	l->links = calloc(n, sizeof(*l->links));
	if (!l->links)
		return -ENOMEM;
	bpf_object__for_each_program(p, l->skel->obj) {
		if (!bpf_program__autoload(p) || attached_per_process(l, p))
			continue;
		l->links[l->nlinks] = bpf_program__attach(p);
		if (!l->links[l->nlinks]) {
			ret = -errno;
			snprintf(err, errsz, "attaching %s failed: %s%s",
				 bpf_program__section_name(p), strerror(-ret),
				 kspan_bpf_err_hint(-ret));
			return ret;
		}
		l->nlinks++;
	}
	return 0;
}

static int try_flavor(struct kspan_loader *l, enum kspan_flavor f, char *err, size_t errsz)
{
	int ret = load_flavor(&l->opts, f, &l->skel, err, errsz);

	if (!ret)
		ret = attach_all(l, err, errsz);
	if (ret)
		detach_all(l);
	return ret;
}

struct kspan_loader *kspan_loader_open(const struct kspan_loader_opts *opts)
{
	struct kspan_loader *l = calloc(1, sizeof(*l));

	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		l->opts = *opts;
	if (check_opts(&l->opts)) {
		free(l);
		errno = EINVAL;
		return NULL;
	}
	if (l->opts.flavor == KSPAN_FLAVOR_AUTO && kspan_flavor_from_env(&l->opts.flavor)) {
		loader_log(l, "%s=%s: not a hook flavor (fentry, kprobe, socket, tracepoint, auto)",
			   KSPAN_FLAVOR_ENV, getenv(KSPAN_FLAVOR_ENV));
		free(l);
		errno = EINVAL;
		return NULL;
	}
	kspan_features_probe(&l->feat);
	return l;
}

/* The features every flavor needs; 0 or -ENOTSUP with the reason in l->reason. */
static int check_required(struct kspan_loader *l)
{
	static const enum kspan_feature required[] = { KSPAN_FEAT_BTF, KSPAN_FEAT_RINGBUF,
						       KSPAN_FEAT_RAW_TP };
	const struct kspan_feature_result *r;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		r = &l->feat.f[required[i]];
		if (!r->ok) {
			snprintf(l->reason, sizeof(l->reason), "%s is required: %s",
				 kspan_feature_name(required[i]), r->reason);
			return -ENOTSUP;
		}
	}
	return 0;
}

int kspan_loader_attach(struct kspan_loader *l)
{
	char skipped[1024] = "", err[512] = "";
	const struct kspan_feature_result *r;
	enum kspan_flavor f;
	int ret = -ENOTSUP;

	if (!l)
		return -EINVAL;
	if (l->skel)
		return -EALREADY;
	ret = check_required(l);
	if (ret) {
		loader_log(l, "cannot attach: %s", l->reason);
		return ret;
	}
	ret = -ENOTSUP;
	for (f = KSPAN_FLAVOR_FENTRY; f < KSPAN_FLAVOR_MAX; f++) {
		if (l->opts.flavor != KSPAN_FLAVOR_AUTO && f != l->opts.flavor)
			continue;
		r = &l->feat.f[kspan_flavor_feature(f)];
		if (l->opts.flavor == KSPAN_FLAVOR_AUTO && kspan_flavor_opt_in(f))
			continue;
		if (l->opts.flavor == KSPAN_FLAVOR_AUTO && !r->ok) {
			append(skipped, sizeof(skipped), "%s unavailable: %s", kspan_flavor_name(f),
			       r->reason);
			continue;
		}
		ret = try_flavor(l, f, err, sizeof(err));
		if (!ret) {
			l->flavor = f;
			snprintf(l->reason, sizeof(l->reason), "%s (%s)%s%s", kspan_flavor_name(f),
				 r->reason, skipped[0] ? "; " : "", skipped);
			loader_log(l, "hook flavor: %s", l->reason);
			return 0;
		}
		loader_log(l, "%s flavor failed, falling back: %s", kspan_flavor_name(f), err);
		append(skipped, sizeof(skipped), "%s failed: %s", kspan_flavor_name(f), err);
	}
	snprintf(l->reason, sizeof(l->reason), "no hook flavor could be attached: %s",
		 skipped[0] ? skipped : "none requested");
	loader_log(l, "%s", l->reason);
	return ret;
}

const char *kspan_loader_flavor(const struct kspan_loader *l)
{
	return l && l->skel ? kspan_flavor_name(l->flavor) : "none";
}

enum kspan_flavor kspan_loader_flavor_id(const struct kspan_loader *l)
{
	return l && l->skel ? l->flavor : KSPAN_FLAVOR_AUTO;
}

const char *kspan_loader_reason(const struct kspan_loader *l)
{
	return l ? l->reason : "";
}

const struct kspan_features *kspan_loader_features(const struct kspan_loader *l)
{
	return l ? &l->feat : NULL;
}

int kspan_loader_add_target(struct kspan_loader *l, __u32 tgid)
{
	__u32 origin = KSPAN_TARGET_USER;

	if (!l || !l->skel || !tgid)
		return -EINVAL;
	return bpf_map__update_elem(l->skel->maps.targets, &tgid, sizeof(tgid), &origin,
				    sizeof(origin), BPF_ANY);
}

int kspan_loader_remove_target(struct kspan_loader *l, __u32 tgid)
{
	int err;

	if (!l || !l->skel)
		return -EINVAL;
	/* The kernel side removes an exited process itself: already gone is success. */
	err = bpf_map__delete_elem(l->skel->maps.targets, &tgid, sizeof(tgid), 0);
	return err == -ENOENT ? 0 : err;
}

bool kspan_loader_is_target(const struct kspan_loader *l, __u32 tgid)
{
	__u32 origin;

	return l && l->skel &&
	       !bpf_map__lookup_elem(l->skel->maps.targets, &tgid, sizeof(tgid), &origin,
				     sizeof(origin), 0);
}

int kspan_loader_watch_exe(struct kspan_loader *l, dev_t dev, ino_t ino)
{
	/* The kernel's s_dev packs major:minor as 12:20 bits; stat() encodes them differently. */
	struct kspan_exe_key key = {
		.dev = (__u64)major(dev) << 20 | minor(dev),
		.ino = ino,
	};
	__u32 one = 1;

	if (!l || !l->skel)
		return -EINVAL;
	return bpf_map__update_elem(l->skel->maps.watch_exe, &key, sizeof(key), &one, sizeof(one),
				    BPF_ANY);
}

struct bpf_program *kspan_loader_usdt_prog(const struct kspan_loader *l)
{
	return l && l->skel ? l->skel->progs.kspan_usdt : NULL;
}

int kspan_loader_ring_fd(const struct kspan_loader *l)
{
	return l && l->skel ? bpf_map__fd(l->skel->maps.events) : -EINVAL;
}

int kspan_loader_drops(const struct kspan_loader *l, __u64 out[KSPAN_DROP_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), ret = 0, c;
	__u64 *vals;
	__u32 i;

	if (!l || !l->skel || !out)
		return -EINVAL;
	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < KSPAN_DROP_MAX && !ret; i++) {
		out[i] = 0;
		ret = bpf_map__lookup_elem(l->skel->maps.drops, &i, sizeof(i), vals,
					   ncpu * sizeof(*vals), 0);
		for (c = 0; !ret && c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return ret;
}

void kspan_loader_destroy(struct kspan_loader *l)
{
	if (!l)
		return;
	detach_all(l);
	free(l);
}

int kspan_loader_verify_flavor(const struct kspan_loader_opts *opts, enum kspan_flavor flavor,
			       char *err, size_t errsz)
{
	struct kspan_loader_opts o = { 0 };
	struct kspan *skel = NULL;
	char buf[512];
	int ret;

	if (opts)
		o = *opts;
	if (check_opts(&o) || flavor == KSPAN_FLAVOR_AUTO ||
	    (unsigned int)flavor >= KSPAN_FLAVOR_MAX)
		return -EINVAL;
	ret = load_flavor(&o, flavor, &skel, buf, sizeof(buf));
	if (ret && err && errsz)
		snprintf(err, errsz, "%s", buf);
	kspan__destroy(skel);
	return ret;
}
