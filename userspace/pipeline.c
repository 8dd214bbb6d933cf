// SPDX-License-Identifier: Apache-2.0
/*
 * The userspace pipeline (see pipeline.h): records to connections, parsed
 * exchanges and spans.
 *
 * A connection is parsed as HTTP/1.x once its first bytes look like HTTP;
 * a connection of known role whose first bytes do not (or one first seen
 * mid-stream that shows no HTTP within a few records) is not tracked further.
 *
 * Each request gets its span ref (correlate.h) when the parser reports it
 * complete, on the thread whose read or write completed it: a SERVER span then
 * opens on that thread's stack, a CLIENT span takes the thread's current span as
 * its parent. The span itself is made when the response completes (or earlier,
 * when a child needs it). Client connections join the peer index so that a
 * traced server on this node can find the client span of the request it reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include "cli.h"
#include "conn.h"
#include "correlate.h"
#include "db_span.h"
#include "http_span.h"
#include "kspan.h"
#include "ktime.h"
#include "pipeline.h"
#include "proc_resource.h"
#include "proto_http1.h"
#include "protocols.h"
#include "usdt_span.h"

#define CONN_CAPACITY_DEFAULT 65536
#define CONN_IDLE_NS (15ull * 60 * 1000000000ull)
#define PROC_BUCKETS 256
/* Records of a connection first seen mid-stream without HTTP before it is given up. */
#define DETECT_TRIES 4

enum conn_proto {
	PROTO_UNDECIDED = 0,
	PROTO_TRACKED, /* conn_state.proto says which */
	PROTO_NONE, /* not tracked */
};

/* What the pipeline keeps per connection (kspan_conn.proto_state). */
struct conn_state {
	struct kspan_pipeline *p;
	struct kspan_conn *c;
	struct kspan_parser *parser;
	const struct kspan_protocol *proto;
	bool server_side;
	uint8_t tries;
	/* refs of the requests parsed and not yet answered, oldest first (ref->next) */
	struct kspan_span_ref *reqs, *reqs_tail;
	struct kspan_peer peer; /* client side: this connection in the peer index */
};

struct proc_entry {
	pid_t tgid;
	otel_tracer_provider *tp;
	otel_tracer *tracer;
	struct proc_entry *next;
};

struct kspan_pipeline {
	struct kspan_pipeline_opts opts;
	struct kspan_conn_table *conns;
	struct kspan_ktime kt;
	struct kspan_http_span_opts span_opts;
	struct kspan_db_span_opts db_opts;
	struct proc_entry *procs[PROC_BUCKETS];
	struct kspan_pipeline_stats stats;
	struct kspan_correlate *corr;
	struct kspan_usdt_stats usdt;
	uint32_t cur_tid; /* thread of the record being handled: parser events happen on it */
	uint64_t last_ts; /* newest record time */
	bool freeing; /* spans still open end at last_ts */
	bool conn_ended; /* connections being removed really ended (see release_conn) */
};

/* ---- per-process providers ---- */

static struct proc_entry **proc_slot(struct kspan_pipeline *p, pid_t tgid)
{
	struct proc_entry **pp = &p->procs[(uint32_t)tgid % PROC_BUCKETS];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->next;
	return pp;
}

static otel_tracer *proc_tracer(struct kspan_pipeline *p, pid_t tgid)
{
	struct proc_entry **pp = proc_slot(p, tgid), *e = *pp;
	otel_resource *res;

	if (e)
		return e->tracer;
	e = calloc(1, sizeof(*e));
	res = p->opts.resource_for ? p->opts.resource_for(p->opts.ctx, tgid) :
				     kspan_proc_resource_new(NULL, tgid, p->opts.host_name);
	if (!e || !res)
		goto fail;
	e->tgid = tgid;
	e->tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.processors = &p->opts.processor,
		.n_processors = p->opts.processor ? 1 : 0,
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

/* Forget a process's provider (after exit or exec); its ended spans stay queued. */
static void proc_forget(struct kspan_pipeline *p, pid_t tgid)
{
	struct proc_entry **pp = proc_slot(p, tgid), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	otel_tracer_provider_free(e->tp);
	free(e);
}

static otel_tracer *tracer_for(void *ctx, uint32_t tgid)
{
	return proc_tracer(ctx, (pid_t)tgid);
}

/* ---- requests: their span refs ---- */

/*
 * The ref of a request of this connection. @p open: it is still to be answered
 * (a SERVER ref goes on its thread's stack, a CLIENT ref waits for the server
 * it calls); otherwise it is answered already and only needs its parents.
 */
static struct kspan_span_ref *request_ref(struct conn_state *cs,
					  const struct kspan_parser_event *ev, bool open)
{
	bool http = cs->proto->family == KSPAN_FAMILY_HTTP;
	struct kspan_pipeline *p = cs->p;
	struct kspan_conn *c = cs->c;
	struct kspan_span_ref *r, *parent;
	otel_context *remote;
	char name[sizeof(((struct kspan_http_span *)0)->name)];
	size_t len;

	if (!ev->detail)
		return NULL;
	/* A database span is named from its sanitized text when it ends; until then, its system. */
	if (http)
		len = kspan_http_span_name(ev->detail, name, sizeof(name));
	else
		len = (size_t)snprintf(name, sizeof(name), "%s",
				       ((const struct kspan_db_exchange *)ev->detail)->system);
	r = kspan_ref_new(p->corr, cs->server_side ? OTEL_SPAN_KIND_SERVER : OTEL_SPAN_KIND_CLIENT,
			  c->tgid, p->cur_tid, ev->req_first_ns, name, len);
	if (!r)
		return NULL;
	r->seq = ev->req_seq;
	if (cs->server_side) {
		/* A caller's valid traceparent wins; else a traced client on this node. */
		remote = http ? kspan_http_remote_parent(ev->detail) : NULL;
		if (remote)
			kspan_ref_set_remote(r, remote);
		else
			kspan_peer_server_request(p->corr, r, &c->local, &c->remote);
		if (open)
			kspan_correlate_push(p->corr, r); /* a full stack is counted there */
	} else {
		parent = kspan_correlate_current(p->corr, c->tgid, p->cur_tid);
		if (parent)
			kspan_ref_set_parent(r, parent, false);
		if (open)
			kspan_peer_client_request(p->corr, &cs->peer, r);
	}
	return r;
}

/* A request's ref leaves every place it waits in; its span ends at @p ts if it must. */
static void request_drop(struct kspan_pipeline *p, struct kspan_span_ref *r, uint64_t ts)
{
	kspan_correlate_pop(p->corr, r, ts);
	kspan_peer_forget(p->corr, r);
	kspan_ref_abandon(p->corr, r, ts);
	kspan_ref_put(p->corr, r);
}

/* The ref of request @p seq, unlinked; older ones (never answered) are dropped. */
static struct kspan_span_ref *request_take(struct conn_state *cs, uint64_t seq)
{
	struct kspan_span_ref *r;

	while ((r = cs->reqs) && r->seq <= seq) {
		cs->reqs = r->next;
		if (!cs->reqs)
			cs->reqs_tail = NULL;
		r->next = NULL;
		if (r->seq == seq)
			return r;
		request_drop(cs->p, r, cs->c->last_ns);
	}
	return NULL;
}

static void request_open(struct conn_state *cs, const struct kspan_parser_event *ev)
{
	struct kspan_span_ref *r = request_ref(cs, ev, true);

	if (!r)
		return;
	if (cs->reqs_tail)
		cs->reqs_tail->next = r;
	else
		cs->reqs = r;
	cs->reqs_tail = r;
}

/* A request was answered (or will never be): its span. */
static void request_close(struct conn_state *cs, const struct kspan_parser_event *ev)
{
	struct kspan_pipeline *p = cs->p;
	struct kspan_span_ref *r = request_take(cs, ev->req_seq);
	/* Unanswered: it was pending until the connection ended (or lost its place). */
	uint64_t end_ns = ev->resp_last_ns				? ev->resp_last_ns :
			  ev->flags & KSPAN_PEF_NO_RESPONSE && cs->c->last_ns ? cs->c->last_ns :
									      ev->req_last_ns;
	union {
		struct kspan_http_span http;
		struct kspan_db_span db;
	} d;
	otel_span *span;

	if (!r)
		r = request_ref(cs, ev, false); /* answered before it was all read */
	if (!r)
		return;
	if (cs->proto->family == KSPAN_FAMILY_HTTP) {
		kspan_http_span_describe(&d.http, cs->c, cs->server_side, ev->detail, &p->span_opts);
		span = kspan_ref_span(p->corr, r, d.http.name, d.http.attrs, d.http.n_attrs);
		if (span && d.http.error)
			otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
	} else {
		kspan_db_span_describe(&d.db, cs->c, ev->detail, &p->db_opts);
		span = kspan_ref_span(p->corr, r, d.db.name, d.db.attrs, d.db.n_attrs);
		if (span && d.db.error)
			otel_span_set_status(span, OTEL_STATUS_ERROR, d.db.status_description);
		if (span && !d.db.error && (ev->flags & KSPAN_PEF_NO_RESPONSE)) {
			/* the connection ended (or lost its place) before the reply */
			otel_span_set_attribute_str(span, "error.type", "no_response");
			otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
		}
	}
	if (span)
		p->stats.spans++;
	kspan_correlate_pop(p->corr, r, end_ns);
	kspan_peer_forget(p->corr, r);
	kspan_ref_end(p->corr, r, end_ns);
	kspan_ref_put(p->corr, r);
}

/* ---- connections and parsing ---- */

static void on_parser_event(void *ctx, const struct kspan_parser_event *ev)
{
	struct conn_state *cs = ctx;

	if (ev->type == KSPAN_PEV_REQUEST)
		request_open(cs, ev);
	else if (ev->type == KSPAN_PEV_EXCHANGE && !(ev->flags & KSPAN_PEF_NO_REQUEST))
		request_close(cs, ev);
}

static struct conn_state *conn_state_get(struct kspan_pipeline *p, struct kspan_conn *c)
{
	struct conn_state *cs = c->proto_state;

	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return NULL;
		cs->p = p;
		cs->c = c;
		c->proto_state = cs;
	}
	return cs;
}

/* Forget a connection's protocol state; requests still open are dropped. */
static void conn_state_free(struct kspan_pipeline *p, struct kspan_conn *c)
{
	struct conn_state *cs = c->proto_state;

	if (!cs)
		return;
	while (cs->reqs) {
		struct kspan_span_ref *r = cs->reqs;

		cs->reqs = r->next;
		r->next = NULL;
		request_drop(p, r, p->freeing ? p->last_ts : c->last_ns);
	}
	kspan_peer_unregister(p->corr, &cs->peer);
	kspan_parser_free(cs->parser);
	free(cs);
	c->proto_state = NULL;
}

/*
 * A connection is forgotten. When it really ended (closed, or its process
 * exited: p->conn_ended) requests still waiting for a response are reported
 * (no_response); when the table only evicts, expires or is freed they are not,
 * as nothing about the exchange is known to have failed.
 */
static void release_conn(struct kspan_conn *c, void *ctx)
{
	struct kspan_pipeline *p = ctx;
	struct conn_state *cs = c->proto_state;

	if (!cs)
		return;
	if (p->conn_ended && cs->parser && kspan_parser_status(cs->parser) == KSPAN_PARSER_ACTIVE)
		kspan_parser_eof(cs->parser, c->last_ns);
	conn_state_free(p, c);
}

static void stop_tracking(struct kspan_pipeline *p, struct kspan_conn *c)
{
	conn_state_free(p, c);
	c->proto = PROTO_NONE;
	p->stats.not_tracked++;
}

/*
 * Decide from the first bytes whether (and how) to parse a connection: the
 * protocol that claims them; with a known role and bytes nobody claims (a
 * first read of one byte), HTTP/1.x, whose parser says soon enough whether
 * they are. A protocol of clients only (databases) is not tracked on the
 * server side.
 */
static struct conn_state *start_tracking(struct kspan_pipeline *p, struct kspan_conn *c,
					 const struct kspan_data_rec *r)
{
	struct conn_state *cs = conn_state_get(p, c);
	const struct kspan_protocol *proto;
	enum kspan_msg_dir dir;

	if (!cs)
		return NULL;
	proto = r->captured ? kspan_protocol_detect(r->data, r->captured, &dir) : NULL;
	if (c->role == KSPAN_ROLE_SERVER || c->role == KSPAN_ROLE_CLIENT) {
		cs->server_side = c->role == KSPAN_ROLE_SERVER;
		if (!proto)
			proto = kspan_protocol_http1();
	} else {
		if (!proto) {
			if (++cs->tries >= DETECT_TRIES)
				stop_tracking(p, c);
			return NULL;
		}
		/* a request flowing in means this process serves it */
		cs->server_side = (dir == KSPAN_MSG_REQUEST) == (r->dir == KSPAN_DIR_INGRESS);
		if (!cs->server_side && !cs->peer.registered)
			kspan_peer_register(p->corr, &cs->peer, &c->local, &c->remote);
	}
	if (proto->client_only && cs->server_side) {
		stop_tracking(p, c);
		return NULL;
	}
	cs->proto = proto;
	cs->parser = kspan_parser_new(proto->ops, on_parser_event, cs,
				      c->role == KSPAN_ROLE_UNKNOWN ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!cs->parser) {
		stop_tracking(p, c);
		return NULL;
	}
	c->proto = PROTO_TRACKED;
	return cs;
}

static void on_data(struct kspan_pipeline *p, const struct kspan_data_rec *r)
{
	struct conn_state *cs;
	struct kspan_conn *c;
	enum kspan_msg_dir dir;
	bool created;

	c = kspan_conn_get(p->conns, r->hdr.tgid, r->sock_cookie, &created);
	if (!c)
		return;
	if (created)
		c->fd = r->fd;
	c->last_ns = r->hdr.ts_ns;
	if (c->proto == PROTO_NONE)
		return;
	cs = c->proto == PROTO_TRACKED ? c->proto_state : start_tracking(p, c, r);
	if (!cs)
		return;
	p->cur_tid = r->hdr.tid;
	dir = (r->dir == KSPAN_DIR_INGRESS) == cs->server_side ? KSPAN_MSG_REQUEST :
								   KSPAN_MSG_RESPONSE;
	/*
	 * Bytes read were there when the read returned; bytes written left during
	 * the write, so its start is when they were sent: a client's request then
	 * starts before the server that reads it, on another CPU, does.
	 */
	kspan_parser_feed(cs->parser, dir, r->data, r->captured, r->len,
			  r->dir == KSPAN_DIR_EGRESS && r->start_ns && r->start_ns <= r->hdr.ts_ns ?
				  r->start_ns :
				  r->hdr.ts_ns);
	if (kspan_parser_status(cs->parser) != KSPAN_PARSER_ACTIVE)
		stop_tracking(p, c);
}

static void on_conn(struct kspan_pipeline *p, const struct kspan_conn_rec *r)
{
	bool created;
	struct kspan_conn *c = kspan_conn_get(p->conns, r->hdr.tgid, r->sock_cookie, &created);

	if (!c)
		return;
	c->fd = r->fd;
	if (r->role != KSPAN_ROLE_UNKNOWN || created)
		c->role = r->role;
	c->local = r->local;
	c->remote = r->remote;
	c->last_ns = r->hdr.ts_ns;
	/* A client connection joins the peer index: a traced server may read its requests. */
	if (c->role == KSPAN_ROLE_CLIENT) {
		struct conn_state *cs = conn_state_get(p, c);

		if (cs && !cs->peer.registered)
			kspan_peer_register(p->corr, &cs->peer, &c->local, &c->remote);
	}
}

static void on_close(struct kspan_pipeline *p, const struct kspan_close_rec *r)
{
	struct kspan_conn *c = kspan_conn_lookup(p->conns, r->hdr.tgid, r->sock_cookie);

	if (!c)
		return;
	/* The close ends the parser at its time (close-delimited responses). */
	c->last_ns = r->hdr.ts_ns;
	p->cur_tid = r->hdr.tid;
	p->conn_ended = true;
	kspan_conn_remove(p->conns, c);
	p->conn_ended = false;
}

static void on_proc(struct kspan_pipeline *p, const struct kspan_proc_rec *r)
{
	switch (r->kind) {
	case KSPAN_PROC_THREAD_EXIT:
		kspan_correlate_thread_exit(p->corr, r->hdr.tgid, r->hdr.tid, r->hdr.ts_ns);
		break;
	case KSPAN_PROC_EXIT:
		p->conn_ended = true;
		kspan_conn_remove_process(p->conns, r->hdr.tgid);
		p->conn_ended = false;
		/* fall through */
	case KSPAN_PROC_EXEC:
		/* Gone, or a new program: spans open on its threads end, a new resource. */
		kspan_correlate_process_exit(p->corr, r->hdr.tgid, r->hdr.ts_ns);
		proc_forget(p, (pid_t)r->hdr.tgid);
		break;
	}
}

/* The ABI's rules for a DATA record: payload inside the record, within len, a direction. */
static bool data_rec_valid(const struct kspan_data_rec *r, size_t size)
{
	return r->captured <= size - sizeof(*r) && r->captured <= r->len &&
	       (r->dir == KSPAN_DIR_INGRESS || r->dir == KSPAN_DIR_EGRESS);
}

bool kspan_pipeline_record(struct kspan_pipeline *p, const void *data, size_t size)
{
	const struct kspan_hdr *h = data;
	static const size_t min_size[] = {
		[KSPAN_REC_CONN] = sizeof(struct kspan_conn_rec),
		[KSPAN_REC_DATA] = sizeof(struct kspan_data_rec),
		[KSPAN_REC_CLOSE] = sizeof(struct kspan_close_rec),
		[KSPAN_REC_PROC] = sizeof(struct kspan_proc_rec),
		[KSPAN_REC_USDT] = sizeof(struct kspan_usdt_rec),
	};

	if (size < sizeof(*h) || h->version != KSPAN_ABI_VERSION || h->size > size ||
	    h->type < KSPAN_REC_CONN || h->type > KSPAN_REC_USDT || size < min_size[h->type] ||
	    h->size < min_size[h->type] || (h->type == KSPAN_REC_DATA && !data_rec_valid(data, size))) {
		p->stats.malformed++;
		return false;
	}
	p->stats.records++;
	if (h->ts_ns > p->last_ts)
		p->last_ts = h->ts_ns;
	switch (h->type) {
	case KSPAN_REC_CONN:
		on_conn(p, data);
		break;
	case KSPAN_REC_DATA:
		on_data(p, data);
		break;
	case KSPAN_REC_CLOSE:
		on_close(p, data);
		break;
	case KSPAN_REC_PROC:
		on_proc(p, data);
		break;
	case KSPAN_REC_USDT:
		kspan_usdt_span_record(p->corr, &p->kt, data, &p->usdt);
		break;
	}
	return true;
}

void kspan_pipeline_tick(struct kspan_pipeline *p)
{
	struct timespec now;
	uint64_t ns;

	kspan_ktime_sync(&p->kt);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (ns > CONN_IDLE_NS)
		kspan_conn_expire(p->conns, ns - CONN_IDLE_NS);
}

void kspan_pipeline_stats(const struct kspan_pipeline *p, struct kspan_pipeline_stats *out)
{
	struct kspan_conn_stats cs;

	*out = p->stats;
	kspan_conn_table_stats(p->conns, &cs);
	out->connections = cs.live;
	out->usdt = p->usdt;
	kspan_correlate_stats(p->corr, &out->correlate);
}

struct kspan_pipeline *kspan_pipeline_new(const struct kspan_pipeline_opts *opts)
{
	struct kspan_pipeline *p;

	if (!opts) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->opts = *opts;
	p->span_opts.capture_query = opts->capture_query;
	p->db_opts = opts->db;
	kspan_ktime_sync(&p->kt);
	p->corr = kspan_correlate_new(&p->kt, tracer_for, p);
	if (!p->corr) {
		free(p);
		return NULL;
	}
	p->conns = kspan_conn_table_new(opts->conn_capacity ? opts->conn_capacity :
							      CONN_CAPACITY_DEFAULT,
					release_conn, p);
	if (!p->conns) {
		kspan_correlate_free(p->corr);
		free(p);
		return NULL;
	}
	return p;
}

void kspan_pipeline_free(struct kspan_pipeline *p)
{
	if (!p)
		return;
	p->freeing = true;
	kspan_conn_table_free(p->conns);
	kspan_correlate_free(p->corr);
	for (size_t i = 0; i < PROC_BUCKETS; i++)
		while (p->procs[i])
			proc_forget(p, p->procs[i]->tgid);
	free(p);
}
