// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's event loop (see agent.h).
 *
 * Per record: CONN fills the connection table; DATA is fed to the
 * connection's HTTP/1.x parser (created on the first bytes that look like
 * HTTP; a connection whose bytes are not HTTP is not tracked further);
 * CLOSE ends the parser (close-delimited responses) and the connection;
 * PROC keeps the target set and the per-process resources current.
 * Each traced process has its own tracer provider (its own Resource); all of
 * them share one batch processor and one exporter.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <otel/sdk.h>
#include "agent.h"
#include "conn.h"
#include "feature_probe.h"
#include "http_span.h"
#include "ktime.h"
#include "loader.h"
#include "proc_resource.h"
#include "proto_http1.h"
#include "targets.h"

#define CONN_CAPACITY 65536
#define CONN_IDLE_NS (15ull * 60 * 1000000000ull)
#define PROC_BUCKETS 256
/* Records of a connection whose bytes do not look like HTTP before it is given up. */
#define DETECT_TRIES 4

enum conn_proto {
	PROTO_UNDECIDED = 0,
	PROTO_HTTP1,
	PROTO_NONE, /* not tracked */
};

struct agent;

/* What the agent keeps per connection (kspan_conn.proto_state). */
struct conn_state {
	struct agent *a;
	struct kspan_conn *c;
	struct kspan_parser *parser;
	bool server_side;
	uint8_t tries;
};

struct proc_entry {
	pid_t tgid;
	otel_tracer_provider *tp;
	otel_tracer *tracer;
	struct proc_entry *next;
};

struct agent {
	const struct kspan_config *cfg;
	struct kspan_loader *loader;
	struct ring_buffer *rb;
	struct kspan_conn_table *conns;
	struct kspan_targets targets;
	struct kspan_ktime kt;
	otel_span_processor *batch;
	struct proc_entry *procs[PROC_BUCKETS];
	struct kspan_http_span_opts span_opts;
	char host_name[256];
	uint64_t records, spans, not_http, last_records, last_spans, ticks;
};

/* ---- per-process providers ---- */

static struct proc_entry **proc_slot(struct agent *a, pid_t tgid)
{
	struct proc_entry **pp = &a->procs[(uint32_t)tgid % PROC_BUCKETS];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->next;
	return pp;
}

static otel_tracer *proc_tracer(struct agent *a, pid_t tgid)
{
	struct proc_entry **pp = proc_slot(a, tgid), *e = *pp;
	otel_resource *res;

	if (e)
		return e->tracer;
	e = calloc(1, sizeof(*e));
	res = kspan_proc_resource_new(NULL, tgid, a->host_name);
	if (!e || !res)
		goto fail;
	e->tgid = tgid;
	e->tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.processors = &a->batch,
		.n_processors = a->batch ? 1 : 0,
	});
	if (!e->tp)
		goto fail;
	e->tracer = otel_tracer_provider_get_tracer(e->tp, "kspan", KSPAN_VERSION, NULL);
	otel_resource_unref(res);
	*pp = e;
	return e->tracer;
fail:
	otel_resource_unref(res);
	free(e);
	return NULL;
}

/* Forget a process's provider (after exit or exec); its queued spans stay queued. */
static void proc_forget(struct agent *a, pid_t tgid)
{
	struct proc_entry **pp = proc_slot(a, tgid), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	otel_tracer_provider_free(e->tp);
	free(e);
}

/* ---- connections and parsing ---- */

static void on_parser_event(void *ctx, const struct kspan_parser_event *ev)
{
	struct conn_state *cs = ctx;
	otel_tracer *tracer;

	if (ev->type != KSPAN_PEV_EXCHANGE || (ev->flags & KSPAN_PEF_NO_REQUEST))
		return;
	tracer = proc_tracer(cs->a, (pid_t)cs->c->tgid);
	if (tracer && !kspan_http_span_emit(tracer, &cs->a->kt, cs->c, cs->server_side, ev,
					    &cs->a->span_opts))
		cs->a->spans++;
}

static void release_conn(struct kspan_conn *c, void *ctx)
{
	struct conn_state *cs = c->proto_state;

	(void)ctx;
	if (!cs)
		return;
	kspan_parser_free(cs->parser);
	free(cs);
	c->proto_state = NULL;
}

static void stop_tracking(struct agent *a, struct kspan_conn *c)
{
	release_conn(c, NULL);
	c->proto = PROTO_NONE;
	a->not_http++;
}

/* Decide from the first bytes whether (and how) to parse a connection. */
static struct conn_state *start_tracking(struct agent *a, struct kspan_conn *c,
					 const struct kspan_data_rec *r)
{
	struct conn_state *cs = c->proto_state;
	enum kspan_msg_dir dir;
	int conf;

	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return NULL;
		cs->a = a;
		cs->c = c;
		c->proto_state = cs;
	}
	conf = r->captured ? kspan_http1_detect(r->data, r->captured, &dir) : 0;
	if (!conf) {
		/* A connection of known role starts with its first message; others get a few tries. */
		if (c->role != KSPAN_ROLE_UNKNOWN || ++cs->tries >= DETECT_TRIES)
			stop_tracking(a, c);
		return NULL;
	}
	if (c->role == KSPAN_ROLE_SERVER)
		cs->server_side = true;
	else if (c->role == KSPAN_ROLE_CLIENT)
		cs->server_side = false;
	else /* a request flowing in means we serve it */
		cs->server_side = (dir == KSPAN_MSG_REQUEST) == (r->dir == KSPAN_DIR_INGRESS);
	cs->parser = kspan_parser_new(&kspan_http1_parser_ops, on_parser_event, cs,
				      c->role == KSPAN_ROLE_UNKNOWN ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!cs->parser) {
		stop_tracking(a, c);
		return NULL;
	}
	c->proto = PROTO_HTTP1;
	return cs;
}

static void on_data(struct agent *a, const struct kspan_data_rec *r)
{
	struct conn_state *cs;
	struct kspan_conn *c;
	enum kspan_msg_dir dir;
	bool created;

	c = kspan_conn_get(a->conns, r->hdr.tgid, r->sock_cookie, &created);
	if (!c)
		return;
	if (created)
		c->fd = r->fd;
	c->last_ns = r->hdr.ts_ns;
	if (c->proto == PROTO_NONE)
		return;
	cs = c->proto == PROTO_HTTP1 ? c->proto_state : start_tracking(a, c, r);
	if (!cs)
		return;
	dir = (r->dir == KSPAN_DIR_INGRESS) == cs->server_side ? KSPAN_MSG_REQUEST :
								   KSPAN_MSG_RESPONSE;
	kspan_parser_feed(cs->parser, dir, r->data, r->captured, r->len, r->hdr.ts_ns);
	if (kspan_parser_status(cs->parser) != KSPAN_PARSER_ACTIVE)
		stop_tracking(a, c);
}

static void on_conn(struct agent *a, const struct kspan_conn_rec *r)
{
	bool created;
	struct kspan_conn *c = kspan_conn_get(a->conns, r->hdr.tgid, r->sock_cookie, &created);

	if (!c)
		return;
	c->fd = r->fd;
	if (r->role != KSPAN_ROLE_UNKNOWN || created)
		c->role = r->role;
	c->local = r->local;
	c->remote = r->remote;
	c->last_ns = r->hdr.ts_ns;
}

/* The connection ended: complete what the close completes, then forget it. */
static void end_conn(struct kspan_conn_table *t, struct kspan_conn *c, uint64_t ts)
{
	struct conn_state *cs = c->proto_state;

	if (cs && cs->parser)
		kspan_parser_eof(cs->parser, ts);
	kspan_conn_remove(t, c);
}

static void on_close(struct agent *a, const struct kspan_close_rec *r)
{
	struct kspan_conn *c = kspan_conn_lookup(a->conns, r->hdr.tgid, r->sock_cookie);

	if (c)
		end_conn(a->conns, c, r->hdr.ts_ns);
}

static void on_proc(struct agent *a, const struct kspan_proc_rec *r)
{
	switch (r->kind) {
	case KSPAN_PROC_FORK:
		kspan_targets_add(&a->targets, (pid_t)r->hdr.tgid);
		break;
	case KSPAN_PROC_EXEC:
		kspan_targets_add(&a->targets, (pid_t)r->hdr.tgid);
		proc_forget(a, (pid_t)r->hdr.tgid); /* a new program: a new resource */
		break;
	case KSPAN_PROC_EXIT:
		kspan_conn_remove_process(a->conns, r->hdr.tgid);
		kspan_targets_remove(&a->targets, (pid_t)r->hdr.tgid);
		proc_forget(a, (pid_t)r->hdr.tgid);
		break;
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct kspan_hdr *h = data;

	if (size < sizeof(*h) || h->version != KSPAN_ABI_VERSION || h->size > size)
		return 0;
	a->records++;
	switch (h->type) {
	case KSPAN_REC_CONN:
		if (size >= sizeof(struct kspan_conn_rec))
			on_conn(a, data);
		break;
	case KSPAN_REC_DATA:
		if (size >= sizeof(struct kspan_data_rec) &&
		    ((const struct kspan_data_rec *)data)->captured <=
			    size - sizeof(struct kspan_data_rec))
			on_data(a, data);
		break;
	case KSPAN_REC_CLOSE:
		if (size >= sizeof(struct kspan_close_rec))
			on_close(a, data);
		break;
	case KSPAN_REC_PROC:
		if (size >= sizeof(struct kspan_proc_rec))
			on_proc(a, data);
		break;
	}
	return 0;
}

/* ---- setup, the loop, teardown ---- */

static int on_target_change(void *ctx, pid_t tgid, bool added)
{
	struct agent *a = ctx;

	return added ? kspan_loader_add_target(a->loader, (__u32)tgid) :
		       kspan_loader_remove_target(a->loader, (__u32)tgid);
}

/* No collector configured: print spans, so the agent is useful with no infrastructure. */
static struct otel_span_exporter *make_exporter(void)
{
	if (!getenv("OTEL_TRACES_EXPORTER") && !getenv("OTEL_EXPORTER_OTLP_ENDPOINT") &&
	    !getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
		return otel_console_exporter_new(stdout);
	return otel_span_exporter_from_env();
}

static void print_stats(struct agent *a, uint64_t seconds)
{
	__u64 drops[KSPAN_DROP_MAX] = { 0 };
	struct otel_batch_stats bs = { 0 };

	kspan_loader_drops(a->loader, drops);
	if (a->batch)
		otel_batch_span_processor_stats(a->batch, &bs);
	fprintf(stderr,
		"kspan: stats: %.0f events/s, %.0f spans/s, drops: ringbuf %llu truncated %llu "
		"queue %llu, export failures %llu, targets %zu\n",
		(double)(a->records - a->last_records) / (double)seconds,
		(double)(a->spans - a->last_spans) / (double)seconds,
		(unsigned long long)drops[KSPAN_DROP_RINGBUF_FULL],
		(unsigned long long)drops[KSPAN_DROP_TRUNCATED], (unsigned long long)bs.dropped,
		(unsigned long long)bs.export_failures, a->targets.n);
	a->last_records = a->records;
	a->last_spans = a->spans;
}

static void on_tick(struct agent *a)
{
	struct timespec now;

	a->ticks++;
	kspan_ktime_sync(&a->kt);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((uint64_t)now.tv_sec * 1000000000ull > CONN_IDLE_NS)
		kspan_conn_expire(a->conns, (uint64_t)now.tv_sec * 1000000000ull - CONN_IDLE_NS);
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
	struct agent a = { .cfg = cfg, .span_opts = { .capture_query = cfg->capture_query } };
	struct kspan_loader_opts lo = { .capture_bytes = cfg->capture_bytes,
					.ring_bytes = cfg->ring_size };
	const struct kspan_exe_id *exes;
	struct otel_span_exporter *exp;
	size_t n_exes;
	int rc = 1, err;

	gethostname(a.host_name, sizeof(a.host_name) - 1);
	kspan_ktime_sync(&a.kt);
	kspan_targets_init(&a.targets, NULL);
	a.targets.on_change = on_target_change;
	a.targets.ctx = &a;
	a.conns = kspan_conn_table_new(CONN_CAPACITY, release_conn, &a);
	exp = make_exporter();
	if (exp)
		a.batch = otel_batch_span_processor_new(exp, NULL);
	else if (errno)
		fprintf(stderr, "kspan: no exporter (%s); spans are not exported\n",
			strerror(errno));
	a.loader = kspan_loader_open(&lo);
	if (!a.loader || !a.conns) {
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
	kspan_loader_destroy(a.loader);
	kspan_conn_table_free(a.conns);
	for (size_t i = 0; i < PROC_BUCKETS; i++)
		while (a.procs[i])
			proc_forget(&a, a.procs[i]->tgid);
	if (a.batch) {
		if (otel_span_processor_shutdown(a.batch, 5000))
			fprintf(stderr, "kspan: some spans could not be exported before exit\n");
		otel_span_processor_unref(a.batch);
	}
	kspan_targets_free(&a.targets);
	return rc;
}
