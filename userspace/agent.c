// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's event loop (see agent.h).
 *
 * Records go to the pipeline (pipeline.c: connections, parsers, spans);
 * PROC records also keep the target set current. Every traced process's
 * provider shares one batch processor and one exporter.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <otel/sdk.h>
#include "agent.h"
#include "feature_probe.h"
#include "loader.h"
#include "pipeline.h"
#include "targets.h"
#include "trace_tree.h"
#include "usdt_attach.h"

struct agent {
	const struct kspan_config *cfg;
	struct kspan_loader *loader;
	struct ring_buffer *rb;
	struct kspan_pipeline *pipe;
	struct kspan_targets targets;
	struct kspan_usdt_attacher *usdt; /* NULL: USDT probes not attached */
	otel_span_processor *batch;
	struct otel_span_exporter *tree; /* the console's, owned by batch; NULL with a collector */
	char host_name[256];
	uint64_t last_records, last_spans, ticks;
};

/* ---- USDT probes (usdt_attach.c): followed with the target set ---- */

static void usdt_start(struct agent *a)
{
	const struct kspan_feature_result *f =
		&kspan_loader_features(a->loader)->f[KSPAN_FEAT_USDT];

	if (!f->ok) {
		fprintf(stderr, "kspan: usdt: otel probes not attached: %s\n", f->reason);
		return;
	}
	a->usdt = kspan_usdt_attacher_new(kspan_loader_usdt_prog(a->loader), NULL);
	if (!a->usdt)
		fprintf(stderr, "kspan: usdt: otel probes not attached: %s\n", strerror(errno));
}

/* A target added or removed; errors are logged by the attacher, and do not undo the change. */
static void usdt_follow(struct agent *a, pid_t tgid, bool added)
{
	if (added)
		kspan_usdt_attacher_add(a->usdt, tgid);
	else
		kspan_usdt_attacher_remove(a->usdt, tgid);
}

/* Before the target set sees the record: an exec replaces the old image's probes. */
static void usdt_on_proc(struct agent *a, const struct kspan_proc_rec *r)
{
	if (r->kind == KSPAN_PROC_EXEC)
		kspan_usdt_attacher_exec(a->usdt, (pid_t)r->hdr.tgid);
}

/* ---- records ---- */

static int on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct kspan_proc_rec *r = data;

	if (!kspan_pipeline_record(a->pipe, data, size) || r->hdr.type != KSPAN_REC_PROC)
		return 0;
	usdt_on_proc(a, r);
	/* The kernel already updated its map; keep our copy of the set the same. */
	if (r->kind == KSPAN_PROC_EXIT)
		kspan_targets_remove(&a->targets, (pid_t)r->hdr.tgid);
	else if (r->kind != KSPAN_PROC_THREAD_EXIT)
		kspan_targets_add(&a->targets, (pid_t)r->hdr.tgid);
	return 0;
}

/* ---- setup, the loop, teardown ---- */

static int on_target_change(void *ctx, pid_t tgid, bool added)
{
	struct agent *a = ctx;
	int err = added ? kspan_loader_add_target(a->loader, (__u32)tgid) :
			  kspan_loader_remove_target(a->loader, (__u32)tgid);

	if (!err)
		usdt_follow(a, tgid, added);
	return err;
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Name what is missing before libbpf's probes turn EPERM into misleading
 * "not supported" answers. Loading and attaching tracing programs needs
 * CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN, which implies both on old
 * kernels); mounting tracefs needs CAP_SYS_ADMIN.
 */
static bool privileged_enough(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &h, d))
		return true; /* cannot tell: let the load say what fails */
	admin = has_cap(d, CAP_SYS_ADMIN);
	bpf = admin || has_cap(d, CAP_BPF);
	perfmon = admin || has_cap(d, CAP_PERFMON);
	if (bpf && perfmon)
		return true;
	fprintf(stderr,
		"kspan: missing privileges: needs%s%s (or CAP_SYS_ADMIN; run as root), and "
		"CAP_SYS_ADMIN to mount tracefs if it is not mounted\n",
		bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
	return false;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

/*
 * No collector configured: print trace trees on stdout, so the agent is useful
 * with no infrastructure; OTEL_TRACES_EXPORTER=console keeps the SDK's flat
 * span listing. Trees print soon after their requests: a short batch delay
 * unless OTEL_BSP_SCHEDULE_DELAY says otherwise.
 */
static void make_processor(struct agent *a)
{
	struct otel_batch_opts bo = { .sz = sizeof(bo) };
	struct otel_span_exporter *exp;

	if (!env_set("OTEL_TRACES_EXPORTER") && !env_set("OTEL_EXPORTER_OTLP_ENDPOINT") &&
	    !env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
		exp = a->tree = kspan_trace_tree_exporter_new(stdout, NULL);
		if (!env_set("OTEL_BSP_SCHEDULE_DELAY"))
			bo.schedule_delay_ms = 200;
	} else {
		exp = otel_span_exporter_from_env();
	}
	if (exp)
		a->batch = otel_batch_span_processor_new(exp, &bo);
	else if (errno)
		fprintf(stderr, "kspan: no exporter (%s); spans are not exported\n",
			strerror(errno));
	if (!a->batch)
		a->tree = NULL;
}

static void print_stats(struct agent *a, uint64_t seconds)
{
	__u64 drops[KSPAN_DROP_MAX] = { 0 };
	struct otel_batch_stats bs = { 0 };
	struct kspan_pipeline_stats ps;

	kspan_loader_drops(a->loader, drops);
	kspan_pipeline_stats(a->pipe, &ps);
	if (a->batch)
		otel_batch_span_processor_stats(a->batch, &bs);
	uint64_t spans = ps.spans + ps.usdt.spans;

	fprintf(stderr,
		"kspan: stats: %.0f events/s, %.0f spans/s, drops: ringbuf %llu truncated %llu "
		"queue %llu, export failures %llu, targets %zu; correlation: same-node links %llu, "
		"unparented (ambiguous thread) %llu, usdt mismatches %llu (ended by kspan %llu)\n",
		(double)(ps.records - a->last_records) / (double)seconds,
		(double)(spans - a->last_spans) / (double)seconds,
		(unsigned long long)drops[KSPAN_DROP_RINGBUF_FULL],
		(unsigned long long)drops[KSPAN_DROP_TRUNCATED], (unsigned long long)bs.dropped,
		(unsigned long long)bs.export_failures, a->targets.n,
		(unsigned long long)ps.correlate.peer_linked,
		(unsigned long long)ps.correlate.ambiguous,
		(unsigned long long)(ps.usdt.end_without_start + ps.usdt.op_without_span +
				     ps.correlate.closed_by_agent),
		(unsigned long long)ps.correlate.closed_by_agent);
	a->last_records = ps.records;
	a->last_spans = spans;
}

static void on_tick(struct agent *a)
{
	a->ticks++;
	kspan_pipeline_tick(a->pipe);
	kspan_usdt_attacher_tick(a->usdt);
	if (a->tree)
		kspan_trace_tree_expire(a->tree);
	if (a->cfg->stats_interval_s && a->ticks % a->cfg->stats_interval_s == 0)
		print_stats(a, a->cfg->stats_interval_s);
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_RING = 1, TAG_SIGNAL, TAG_TIMER };

static int event_loop(struct agent *a)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	int epfd = epoll_create1(EPOLL_CLOEXEC), sfd = -1, tfd = -1, rc = 0;
	sigset_t mask;
	bool stop = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (epfd < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) ||
	    add_fd(epfd, ring_buffer__epoll_fd(a->rb), TAG_RING) || add_fd(epfd, sfd, TAG_SIGNAL) ||
	    add_fd(epfd, tfd, TAG_TIMER)) {
		fprintf(stderr, "kspan: event loop setup failed: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	while (!stop) {
		struct epoll_event evs[4];
		/* A short timeout too: the kernel side batches wake-ups. */
		int n = epoll_wait(epfd, evs, 4, 100);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "kspan: epoll_wait: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		ring_buffer__consume(a->rb);
		for (int i = 0; i < n; i++) {
			uint64_t expirations;
			struct signalfd_siginfo si;

			if (evs[i].data.u64 == TAG_SIGNAL && read(sfd, &si, sizeof(si)) > 0)
				stop = true;
			else if (evs[i].data.u64 == TAG_TIMER &&
				 read(tfd, &expirations, sizeof(expirations)) > 0)
				on_tick(a);
		}
	}
	ring_buffer__consume(a->rb); /* what arrived before the signal */
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (epfd >= 0)
		close(epfd);
	return rc;
}

static void log_targets(struct agent *a)
{
	size_t i, n;
	pid_t tgid;
	const struct kspan_exe_id *exes = kspan_targets_exes(&a->targets, &n);

	(void)exes;
	fprintf(stderr, "kspan: tracing %zu process%s", a->targets.n, a->targets.n == 1 ? "" : "es");
	kspan_targets_for_each(&a->targets, i, tgid)
		fprintf(stderr, "%s%d", i ? "," : " (pid ", (int)tgid);
	fprintf(stderr, "%s%s with the %s flavor\n", a->targets.n ? ")" : "",
		n ? " and new processes of the --exe executables" : "",
		kspan_loader_flavor(a->loader));
}

int kspan_agent_run(const struct kspan_config *cfg)
{
	struct agent a = { .cfg = cfg };
	struct kspan_loader_opts lo = { .capture_bytes = cfg->capture_bytes,
					.ring_bytes = cfg->ring_size };
	const struct kspan_exe_id *exes;
	size_t n_exes;
	int rc = 1, err;

	if (!privileged_enough())
		return 1;
	gethostname(a.host_name, sizeof(a.host_name) - 1);
	kspan_targets_init(&a.targets, NULL);
	a.targets.on_change = on_target_change;
	a.targets.ctx = &a;
	make_processor(&a);
	a.pipe = kspan_pipeline_new(&(struct kspan_pipeline_opts){
		.processor = a.batch,
		.capture_query = cfg->capture_query,
		.db = { .capture_literals = cfg->capture_db_literals,
			.capture_error_message = cfg->capture_db_errors,
			.capture_returned_rows = cfg->capture_db_rows },
		.host_name = a.host_name,
	});
	if (!a.pipe) {
		fprintf(stderr, "kspan: %s\n", strerror(errno));
		goto out;
	}
	a.loader = kspan_loader_open(&lo);
	if (!a.loader) {
		fprintf(stderr, "kspan: cannot load the kernel programs: %s\n",
			kspan_bpf_err_hint(errno));
		goto out;
	}
	err = kspan_loader_attach(a.loader);
	if (err) {
		fprintf(stderr, "kspan: cannot attach the kernel programs: %s\n",
			kspan_bpf_err_hint(-err));
		goto out;
	}
	usdt_start(&a);
	err = kspan_targets_resolve(&a.targets, cfg);
	exes = kspan_targets_exes(&a.targets, &n_exes);
	for (size_t i = 0; !err && i < n_exes; i++)
		err = kspan_loader_watch_exe(a.loader, exes[i].dev, exes[i].ino);
	if (err) {
		fprintf(stderr, "kspan: cannot select the targets: %s\n", strerror(-err));
		goto out;
	}
	if (!a.targets.n && !n_exes) {
		fprintf(stderr, "kspan: no process to trace (no --pid alive, nothing listens on "
				"the --port)\n");
		goto out;
	}
	a.rb = ring_buffer__new(kspan_loader_ring_fd(a.loader), on_record, &a, NULL);
	if (!a.rb) {
		fprintf(stderr, "kspan: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	log_targets(&a);
	rc = event_loop(&a);
	if (cfg->stats_interval_s)
		print_stats(&a, a.ticks % cfg->stats_interval_s ? a.ticks % cfg->stats_interval_s :
								 cfg->stats_interval_s);
out:
	ring_buffer__free(a.rb);
	kspan_usdt_attacher_free(a.usdt); /* its links before the program they use */
	kspan_loader_destroy(a.loader);
	kspan_pipeline_free(a.pipe);
	if (a.batch) {
		if (otel_span_processor_shutdown(a.batch, 5000))
			fprintf(stderr, "kspan: some spans could not be exported before exit\n");
		otel_span_processor_unref(a.batch);
	}
	kspan_targets_free(&a.targets);
	return rc;
}
