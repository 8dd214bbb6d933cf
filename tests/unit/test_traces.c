// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of correlation (correlate.h, usdt_span.h) through the pipeline:
 * synthetic records of two "services" in, exact trees out (trace ids, parent
 * ids, kinds, names, attributes, times). Covers thread stacks (children of
 * the request a thread serves, USDT spans nested three deep), the peer index
 * (client and server on one node, in both orders of arrival, a chain through
 * three processes), traceparent precedence, threads that must not be
 * cross-linked, event loops left unparented, and every mismatched USDT case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "collector.h"
#include "pipeline.h"
#include "records.h"

#define A 100 /* the front service */
#define B 200 /* the service it calls */
#define C 300 /* the service B calls */
#define T0 5000000000000ull
#define US 1000ull

static struct collector col;
static otel_tracer_provider *col_tp;
static struct kspan_pipeline *pl;
static struct rec_stream rs;

static otel_resource *test_resource(void *ctx, pid_t tgid)
{
	char name[32];

	(void)ctx;
	snprintf(name, sizeof(name), "svc-%d", (int)tgid);
	struct otel_attribute a[] = { OTEL_ATTR_STR("service.name", name) };
	return otel_resource_new(a, 1, NULL);
}

static int setup(void **state)
{
	(void)state;
	col_tp = collector_provider(&col, NULL, NULL);
	pl = kspan_pipeline_new(&(struct kspan_pipeline_opts){
		.processor = &col.proc,
		.resource_for = test_resource,
	});
	return pl && col_tp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kspan_pipeline_free(pl);
	pl = NULL;
	collector_free(&col, col_tp);
	rec_stream_free(&rs);
	return 0;
}

/* ---- helpers ---- */

static struct kspan_pipeline_stats stats(void)
{
	struct kspan_pipeline_stats s;

	kspan_pipeline_stats(pl, &s);
	return s;
}

static const struct otel_span_data *named(const char *name)
{
	const struct otel_span_data *d = collector_find(&col, name);

	if (!d)
		fail_msg("no span named %s", name);
	return d;
}

static const char *service(const struct otel_span_data *d)
{
	const struct otel_value *v = otel_resource_get(d->resource, "service.name");

	return v ? v->str.ptr : "(none)";
}

static bool is_root(const struct otel_span_data *d)
{
	static const uint8_t zero[8];

	return !memcmp(d->parent_span_id, zero, sizeof(zero));
}

/* @child is a child of @parent: same trace, parent id, and it lies inside it in time. */
static void assert_child(const struct otel_span_data *child, const struct otel_span_data *parent)
{
	assert_memory_equal(child->context.trace_id, parent->context.trace_id, 16);
	assert_memory_equal(child->parent_span_id, parent->context.span_id, 8);
	assert_true(child->start_time_ns >= parent->start_time_ns);
	assert_true(child->end_time_ns <= parent->end_time_ns);
}

static const struct rec_sock *sock(uint32_t tgid, uint32_t tid, int32_t fd)
{
	static struct rec_sock socks[32];
	static unsigned int next;
	struct rec_sock *k = &socks[next++ % 32];

	*k = (struct rec_sock){ .tgid = tgid, .tid = tid, .fd = fd,
				.cookie = (uint64_t)tgid << 16 | (uint64_t)fd };
	return k;
}

/* Loopback endpoints: 127.0.0.1:port. */
static struct kspan_addr lo(uint16_t port)
{
	return rec_addr_v4(127, 0, 0, 1, port);
}

/* An accepted connection from client port @from to server port @to. */
static void accepted(const struct rec_sock *k, uint64_t ts, uint16_t to, uint16_t from)
{
	struct kspan_addr l = lo(to), r = lo(from);

	rec_conn(&rs, k, ts, KSPAN_ROLE_SERVER, &l, &r);
}

/* A connection made from local port @from to server port @to. */
static void connected(const struct rec_sock *k, uint64_t ts, uint16_t from, uint16_t to)
{
	struct kspan_addr l = lo(from), r = lo(to);

	rec_conn(&rs, k, ts, KSPAN_ROLE_CLIENT, &l, &r);
}

static void usdt(uint32_t tgid, uint32_t tid, uint64_t ts, enum kspan_usdt_probe probe,
		 const char *s1, const char *s2, int64_t num)
{
	rec_usdt(&rs, tgid, tid, ts, probe, s1, s2, num);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define GET_TP(path, tp) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceparent: " tp "\r\n\r\n"

static const char *ok(void)
{
	static char buf[128];

	return rec_http_response(buf, sizeof(buf), 200, "{}");
}

/*
 * A (pid 100, thread 101) serves GET /quote/7 on port 8080 from an untraced
 * client; inside it a USDT span "compute" calls B (pid 200, thread 201) on port
 * 9090 with GET /rates/7; B serves it with a USDT span "lookup". With
 * @server_reads_first, B's read is reported before A's write (the race of two
 * CPUs: the ring buffer orders records by when their syscall ended).
 */
static void two_services(const char *b_request, bool server_reads_first)
{
	const struct rec_sock *sa = sock(A, 101, 5), *ca = sock(A, 101, 6);
	const struct rec_sock *sb = sock(B, 201, 5);
	uint64_t t = T0;

	accepted(sa, t, 8080, 50000);
	rec_data_str(&rs, sa, t + 10 * US, KSPAN_DIR_INGRESS, GET("/quote/7"));
	usdt(A, 101, t + 20 * US, KSPAN_USDT_SPAN_START, "load factors", NULL, 0);
	usdt(A, 101, t + 21 * US, KSPAN_USDT_ATTR_INT, "quote.qty", NULL, 3);
	usdt(A, 101, t + 30 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	usdt(A, 101, t + 40 * US, KSPAN_USDT_SPAN_START, "compute", NULL, 0);
	connected(ca, t + 41 * US, 40100, 9090);
	accepted(sb, t + 42 * US, 9090, 40100);
	if (server_reads_first)
		rec_data_str(&rs, sb, t + 51 * US, KSPAN_DIR_INGRESS, b_request);
	rec_data_str(&rs, ca, t + 50 * US, KSPAN_DIR_EGRESS, b_request);
	if (!server_reads_first)
		rec_data_str(&rs, sb, t + 51 * US, KSPAN_DIR_INGRESS, b_request);
	usdt(B, 201, t + 55 * US, KSPAN_USDT_SPAN_START, "lookup", NULL, 0);
	usdt(B, 201, t + 60 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	rec_data_str(&rs, sb, t + 70 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, ca, t + 80 * US, KSPAN_DIR_INGRESS, ok());
	usdt(A, 101, t + 90 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	rec_data_str(&rs, sa, t + 100 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);
}

/* The tree two_services() makes when B's request carries no usable traceparent. */
static void assert_two_service_tree(void)
{
	const struct otel_span_data *quote = named("GET /quote/{id}"), *load = named("load factors");
	const struct otel_span_data *compute = named("compute"), *lookup = named("lookup");
	const struct otel_span_data *client = NULL, *server = NULL;

	for (size_t i = 0; i < col.n; i++)
		if (!strcmp(col.spans[i]->name, "GET /rates/{id}"))
			*(col.spans[i]->kind == OTEL_SPAN_KIND_CLIENT ? &client : &server) =
				col.spans[i];
	assert_int_equal(col.n, 6);
	assert_non_null(client);
	assert_non_null(server);
	/* End order: children before parents. */
	assert_ptr_equal(col.spans[0], load);
	assert_ptr_equal(col.spans[1], lookup);
	assert_ptr_equal(col.spans[2], server);
	assert_ptr_equal(col.spans[3], client);
	assert_ptr_equal(col.spans[4], compute);
	assert_ptr_equal(col.spans[5], quote);

	assert_true(is_root(quote));
	assert_int_equal(quote->kind, OTEL_SPAN_KIND_SERVER);
	assert_int_equal(load->kind, OTEL_SPAN_KIND_INTERNAL);
	assert_int_equal(compute->kind, OTEL_SPAN_KIND_INTERNAL);
	assert_int_equal(lookup->kind, OTEL_SPAN_KIND_INTERNAL);
	assert_child(load, quote);
	assert_child(compute, quote);
	assert_child(client, compute);
	assert_child(server, client);
	assert_child(lookup, server);
	assert_false(client->parent_is_remote);
	assert_true(server->parent_is_remote); /* another process */
	assert_int_equal(span_int(load, "quote.qty"), 3);
	assert_string_equal(service(quote), "svc-100");
	assert_string_equal(service(client), "svc-100");
	assert_string_equal(service(server), "svc-200");
	assert_string_equal(service(lookup), "svc-200");
	assert_int_equal(load->start_time_ns + 10 * US, load->end_time_ns);
}

/* ---- tests ---- */

static void test_request_through_two_services(void **state)
{
	(void)state;
	two_services(GET("/rates/7"), false);
	assert_two_service_tree();
	assert_int_equal(stats().correlate.peer_linked, 1);
	assert_int_equal(stats().correlate.ambiguous, 0);
	assert_int_equal(stats().correlate.refs, 0);
	assert_int_equal(stats().correlate.threads, 0);
	assert_int_equal(stats().usdt.spans, 3);
}

static void test_server_read_reported_before_client_write(void **state)
{
	(void)state;
	two_services(GET("/rates/7"), true);
	assert_two_service_tree();
	assert_int_equal(stats().correlate.peer_linked, 1);
	assert_int_equal(stats().correlate.peer_late, 0);
}

static void test_invalid_traceparent_ignored(void **state)
{
	(void)state;
	/* version ff is forbidden: the W3C rules say ignore it, so the peer link applies. */
	two_services(GET_TP("/rates/7", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
		     false);
	assert_two_service_tree();
}

static void test_traceparent_wins_over_peer(void **state)
{
	const struct otel_span_data *server = NULL;
	static const uint8_t trace[16] = { 0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
					   0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c };
	static const uint8_t parent[8] = { 0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31 };

	(void)state;
	two_services(GET_TP("/rates/7", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
		     false);
	for (size_t i = 0; i < col.n; i++)
		if (col.spans[i]->kind == OTEL_SPAN_KIND_SERVER &&
		    !strcmp(col.spans[i]->name, "GET /rates/{id}"))
			server = col.spans[i];
	assert_non_null(server);
	assert_memory_equal(server->context.trace_id, trace, 16);
	assert_memory_equal(server->parent_span_id, parent, 8);
	assert_true(server->parent_is_remote);
	assert_child(named("lookup"), server);
	assert_int_equal(stats().correlate.peer_linked, 0);
}

/* A -> B -> C on one node: one trace, each server the child of its caller's client span. */
static void test_chain_of_three(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5), *ca = sock(A, 101, 6);
	const struct rec_sock *sb = sock(B, 201, 5), *cb = sock(B, 201, 6);
	const struct rec_sock *sc = sock(C, 301, 5);
	const struct otel_span_data *s[5];
	uint64_t t = T0;

	(void)state;
	accepted(sa, t, 8080, 50000);
	rec_data_str(&rs, sa, t + 1 * US, KSPAN_DIR_INGRESS, GET("/a"));
	connected(ca, t + 2 * US, 40100, 9090);
	accepted(sb, t + 3 * US, 9090, 40100);
	rec_data_str(&rs, ca, t + 4 * US, KSPAN_DIR_EGRESS, GET("/b"));
	rec_data_str(&rs, sb, t + 5 * US, KSPAN_DIR_INGRESS, GET("/b"));
	connected(cb, t + 6 * US, 40200, 9191);
	accepted(sc, t + 7 * US, 9191, 40200);
	/* C reads before B's write is reported, and B's server span is still waiting too. */
	rec_data_str(&rs, sc, t + 9 * US, KSPAN_DIR_INGRESS, GET("/c"));
	rec_data_str(&rs, cb, t + 8 * US, KSPAN_DIR_EGRESS, GET("/c"));
	rec_data_str(&rs, sc, t + 10 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, cb, t + 11 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, sb, t + 12 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, ca, t + 13 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, sa, t + 14 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 5);
	for (int i = 0; i < 5; i++)
		s[i] = col.spans[i];
	/* end order: C server, B client, B server, A client, A server */
	assert_string_equal(s[0]->name, "GET /c");
	assert_string_equal(s[4]->name, "GET /a");
	assert_true(is_root(s[4]));
	assert_child(s[3], s[4]); /* A client under A server */
	assert_child(s[2], s[3]); /* B server under A client */
	assert_child(s[1], s[2]); /* B client under B server */
	assert_child(s[0], s[1]); /* C server under B client */
	assert_string_equal(service(s[0]), "svc-300");
	assert_int_equal(stats().correlate.peer_linked, 2);
}

/*
 * Bytes written leave during the write: a CLIENT span starts when its write
 * started, so it starts before the SERVER span of the process that read the
 * request on another CPU, even when that read ended before the write returned.
 */
static void test_write_start_is_send_time(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5), *ca = sock(A, 101, 6);
	const struct rec_sock *sb = sock(B, 201, 5);
	const struct otel_span_data *client = NULL, *server = NULL;
	struct kspan_data_rec *w;
	uint64_t t = T0;

	(void)state;
	accepted(sa, t, 8080, 50000);
	rec_data_str(&rs, sa, t + 1 * US, KSPAN_DIR_INGRESS, GET("/a"));
	connected(ca, t + 2 * US, 40100, 9090);
	accepted(sb, t + 3 * US, 9090, 40100);
	w = rec_data_str(&rs, ca, t + 20 * US, KSPAN_DIR_EGRESS, GET("/b"));
	w->start_ns = t + 10 * US; /* the write ran from 10 to 20 µs */
	rec_data_str(&rs, sb, t + 15 * US, KSPAN_DIR_INGRESS, GET("/b"));
	w = rec_data_str(&rs, sb, t + 40 * US, KSPAN_DIR_EGRESS, ok());
	w->start_ns = t + 30 * US;
	rec_data_str(&rs, ca, t + 45 * US, KSPAN_DIR_INGRESS, ok());
	w = rec_data_str(&rs, sa, t + 60 * US, KSPAN_DIR_EGRESS, ok());
	w->start_ns = t + 50 * US;
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 3);
	server = col.spans[0];
	client = col.spans[1];
	assert_int_equal(server->kind, OTEL_SPAN_KIND_SERVER);
	assert_int_equal(client->kind, OTEL_SPAN_KIND_CLIENT);
	assert_child(server, client);
	assert_child(client, col.spans[2]);
	assert_int_equal(client->end_time_ns - client->start_time_ns, 35 * US); /* 10 to 45 */
	assert_int_equal(server->end_time_ns - server->start_time_ns, 15 * US); /* 15 to 30 */
	assert_int_equal(col.spans[2]->end_time_ns - col.spans[2]->start_time_ns, 49 * US);
}

/* Two threads of A, each serving a request and calling B: never cross-linked. */
static void test_concurrent_threads_not_cross_linked(void **state)
{
	const struct rec_sock *s1 = sock(A, 101, 5), *c1 = sock(A, 101, 6);
	const struct rec_sock *s2 = sock(A, 102, 7), *c2 = sock(A, 102, 8);
	const struct otel_span_data *srv1 = NULL, *srv2 = NULL, *cli1 = NULL, *cli2 = NULL;
	uint64_t t = T0;

	(void)state;
	accepted(s1, t, 8080, 50001);
	accepted(s2, t + 1 * US, 8080, 50002);
	rec_data_str(&rs, s1, t + 2 * US, KSPAN_DIR_INGRESS, GET("/one"));
	rec_data_str(&rs, s2, t + 3 * US, KSPAN_DIR_INGRESS, GET("/two"));
	connected(c2, t + 4 * US, 40002, 9999);
	connected(c1, t + 5 * US, 40001, 9999);
	rec_data_str(&rs, c2, t + 6 * US, KSPAN_DIR_EGRESS, GET("/from-two"));
	rec_data_str(&rs, c1, t + 7 * US, KSPAN_DIR_EGRESS, GET("/from-one"));
	rec_data_str(&rs, c1, t + 8 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, c2, t + 9 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, s2, t + 10 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, s1, t + 11 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 4);
	srv1 = named("GET /one");
	srv2 = named("GET /two");
	cli1 = named("GET /from-one");
	cli2 = named("GET /from-two");
	assert_child(cli1, srv1);
	assert_child(cli2, srv2);
	assert_memory_not_equal(srv1->context.trace_id, srv2->context.trace_id, 16);
	assert_int_equal(stats().correlate.ambiguous, 0);
}

/*
 * One thread with two requests open (an event loop): a call it makes could
 * belong to either, so it gets no parent and is counted; once one request is
 * answered, the next call belongs to the other.
 */
static void test_event_loop_left_unparented(void **state)
{
	const struct rec_sock *s1 = sock(A, 101, 5), *s2 = sock(A, 101, 7);
	const struct rec_sock *c1 = sock(A, 101, 6);
	const struct otel_span_data *first, *second, *srv2;
	uint64_t t = T0;

	(void)state;
	accepted(s1, t, 8080, 50001);
	accepted(s2, t, 8080, 50002);
	connected(c1, t, 40001, 9999);
	rec_data_str(&rs, s1, t + 1 * US, KSPAN_DIR_INGRESS, GET("/one"));
	rec_data_str(&rs, s2, t + 2 * US, KSPAN_DIR_INGRESS, GET("/two"));
	rec_data_str(&rs, c1, t + 3 * US, KSPAN_DIR_EGRESS, GET("/first"));
	rec_data_str(&rs, c1, t + 4 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, s1, t + 5 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, c1, t + 6 * US, KSPAN_DIR_EGRESS, GET("/second"));
	rec_data_str(&rs, c1, t + 7 * US, KSPAN_DIR_INGRESS, ok());
	rec_data_str(&rs, s2, t + 8 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);

	first = named("GET /first");
	second = named("GET /second");
	srv2 = named("GET /two");
	assert_true(is_root(first));
	assert_child(second, srv2);
	assert_int_equal(stats().correlate.ambiguous, 1);
}

/* USDT spans three deep under the request, with every kind of operation. */
static void test_usdt_nesting_and_operations(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5);
	const struct otel_span_data *req, *u1, *u2, *u3;
	double pi = 3.25;
	int64_t bits;
	uint64_t t = T0;

	(void)state;
	memcpy(&bits, &pi, sizeof(bits));
	accepted(sa, t, 8080, 50000);
	rec_data_str(&rs, sa, t + 1 * US, KSPAN_DIR_INGRESS, GET("/quote/7"));
	usdt(A, 101, t + 2 * US, KSPAN_USDT_ATTR_STR, "app.user", "u-1", 0); /* on the request */
	usdt(A, 101, t + 3 * US, KSPAN_USDT_SPAN_START, "price quote", NULL, 0);
	usdt(A, 101, t + 4 * US, KSPAN_USDT_SPAN_START, "compute", NULL, 2 /* CLIENT */);
	usdt(A, 101, t + 5 * US, KSPAN_USDT_SPAN_START, "round", NULL, 99 /* bad: INTERNAL */);
	usdt(A, 101, t + 6 * US, KSPAN_USDT_ATTR_DOUBLE, "price", NULL, bits);
	usdt(A, 101, t + 6 * US, KSPAN_USDT_ATTR_BOOL, "rounded", NULL, 1);
	usdt(A, 101, t + 6 * US, KSPAN_USDT_EVENT, "cents dropped", NULL, 0);
	usdt(A, 101, t + 7 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	usdt(A, 101, t + 8 * US, KSPAN_USDT_EXCEPTION, "PricingError", "no table", 0);
	usdt(A, 101, t + 8 * US, KSPAN_USDT_STATUS, NULL, "pricing failed", OTEL_STATUS_ERROR);
	usdt(A, 101, t + 9 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	usdt(A, 101, t + 10 * US, KSPAN_USDT_ATTR_STR, "quote.sku", "sku-7", 0);
	usdt(A, 101, t + 11 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	rec_data_str(&rs, sa, t + 12 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 4);
	u3 = col.spans[0];
	u2 = col.spans[1];
	u1 = col.spans[2];
	req = col.spans[3];
	assert_string_equal(u3->name, "round");
	assert_string_equal(u2->name, "compute");
	assert_string_equal(u1->name, "price quote");
	assert_string_equal(req->name, "GET /quote/{id}");
	assert_child(u1, req);
	assert_child(u2, u1);
	assert_child(u3, u2);
	assert_int_equal(u3->kind, OTEL_SPAN_KIND_INTERNAL);
	assert_int_equal(u2->kind, OTEL_SPAN_KIND_CLIENT);
	assert_string_equal(span_str(req, "app.user"), "u-1");
	assert_string_equal(span_str(u1, "quote.sku"), "sku-7");
	assert_true(span_attr(u3, "price")->value.d == 3.25);
	assert_true(span_attr(u3, "rounded")->value.b);
	assert_int_equal(u3->n_events, 1);
	assert_string_equal(u3->events[0].name, "cents dropped");
	assert_int_equal(u3->events[0].time_ns, u3->start_time_ns + 1 * US);
	assert_int_equal(u2->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(u2->status_description, "pricing failed");
	assert_int_equal(u2->n_events, 1);
	assert_string_equal(u2->events[0].name, "exception");
	assert_int_equal(u2->events[0].n_attributes, 2);
	assert_string_equal(u2->events[0].attributes[0].value.str.ptr, "PricingError");
	assert_string_equal(u2->events[0].attributes[1].value.str.ptr, "no table");
	assert_int_equal(u1->status_code, OTEL_STATUS_UNSET);
	assert_int_equal(u1->end_time_ns - u1->start_time_ns, 8 * US);
	assert_int_equal(stats().usdt.spans, 3);
	assert_int_equal(stats().correlate.closed_by_agent, 0);
}

/* An end without a start, operations with no span: counted, nothing made. */
static void test_usdt_unmatched_counted(void **state)
{
	(void)state;
	usdt(A, 101, T0, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	usdt(A, 101, T0 + 1, KSPAN_USDT_ATTR_INT, "x", NULL, 1);
	usdt(A, 101, T0 + 2, KSPAN_USDT_EVENT, "e", NULL, 0);
	rec_stream_feed(&rs, pl);
	assert_int_equal(col.n, 0);
	assert_int_equal(stats().usdt.end_without_start, 1);
	assert_int_equal(stats().usdt.op_without_span, 2);
	assert_int_equal(stats().correlate.refs, 0);
}

/*
 * A USDT span never ended inside a request ends with the request (counted),
 * so the next request on that thread is not nested in it.
 */
static void test_usdt_missing_end_closed_with_request(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5);
	const struct otel_span_data *leak, *req1, *req2, *next;
	uint64_t t = T0;

	(void)state;
	accepted(sa, t, 8080, 50000);
	rec_data_str(&rs, sa, t + 1 * US, KSPAN_DIR_INGRESS, GET("/one"));
	usdt(A, 101, t + 2 * US, KSPAN_USDT_SPAN_START, "leaky", NULL, 0);
	rec_data_str(&rs, sa, t + 3 * US, KSPAN_DIR_EGRESS, ok());
	rec_data_str(&rs, sa, t + 4 * US, KSPAN_DIR_INGRESS, GET("/two"));
	usdt(A, 101, t + 5 * US, KSPAN_USDT_SPAN_START, "next", NULL, 0);
	usdt(A, 101, t + 6 * US, KSPAN_USDT_SPAN_END, NULL, NULL, 0);
	rec_data_str(&rs, sa, t + 7 * US, KSPAN_DIR_EGRESS, ok());
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 4);
	leak = named("leaky");
	req1 = named("GET /one");
	req2 = named("GET /two");
	next = named("next");
	assert_child(leak, req1);
	assert_int_equal(leak->end_time_ns, req1->end_time_ns);
	assert_child(next, req2);
	assert_int_equal(stats().correlate.closed_by_agent, 1);
}

/* A thread that exits (or a process) with USDT spans open: they end at the exit. */
static void test_usdt_thread_and_process_exit(void **state)
{
	const struct otel_span_data *worker, *inner, *main_span;

	(void)state;
	usdt(A, 102, T0, KSPAN_USDT_SPAN_START, "worker job", NULL, 0);
	usdt(A, 102, T0 + 1 * US, KSPAN_USDT_SPAN_START, "inner", NULL, 0);
	usdt(A, 101, T0 + 2 * US, KSPAN_USDT_SPAN_START, "main job", NULL, 0);
	rec_thread_exit(&rs, A, 102, T0 + 5 * US);
	rec_proc(&rs, A, T0 + 9 * US, KSPAN_PROC_EXIT, 0, "a");
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 3);
	inner = col.spans[0];
	worker = col.spans[1];
	main_span = col.spans[2];
	assert_string_equal(inner->name, "inner");
	assert_string_equal(worker->name, "worker job");
	assert_string_equal(main_span->name, "main job");
	assert_true(is_root(worker));
	assert_child(inner, worker);
	assert_true(is_root(main_span));
	assert_int_equal(worker->end_time_ns - worker->start_time_ns, 5 * US);
	assert_int_equal(main_span->end_time_ns - main_span->start_time_ns, 7 * US);
	assert_int_equal(stats().correlate.closed_by_agent, 3);
	assert_int_equal(stats().correlate.threads, 0);
	assert_int_equal(stats().correlate.refs, 0);
}

/* A server whose client connection closes before answering: a no_response span, no leak. */
static void test_open_request_at_close(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5);
	const struct otel_span_data *req, *step;

	(void)state;
	accepted(sa, T0, 8080, 50000);
	rec_data_str(&rs, sa, T0 + 1 * US, KSPAN_DIR_INGRESS, GET("/slow"));
	usdt(A, 101, T0 + 2 * US, KSPAN_USDT_SPAN_START, "step", NULL, 0);
	usdt(A, 101, T0 + 3 * US, KSPAN_USDT_ATTR_INT, "n", NULL, 1); /* starts both spans */
	rec_close(&rs, sa, T0 + 4 * US);
	rec_stream_feed(&rs, pl);

	assert_int_equal(col.n, 2);
	step = col.spans[0];
	req = col.spans[1];
	assert_string_equal(span_str(req, "error.type"), "no_response");
	assert_child(step, req);
	assert_int_equal(stats().correlate.closed_by_agent, 1);
	assert_int_equal(stats().correlate.refs, 0);
}

/* Freeing the pipeline with spans open ends them (nothing leaks under ASan). */
static void test_free_with_open_spans(void **state)
{
	const struct rec_sock *sa = sock(A, 101, 5), *ca = sock(A, 101, 6);

	(void)state;
	accepted(sa, T0, 8080, 50000);
	connected(ca, T0, 40100, 9090);
	rec_data_str(&rs, sa, T0 + 1 * US, KSPAN_DIR_INGRESS, GET("/x"));
	usdt(A, 101, T0 + 2 * US, KSPAN_USDT_SPAN_START, "open", NULL, 0);
	usdt(A, 101, T0 + 3 * US, KSPAN_USDT_EVENT, "started", NULL, 0);
	rec_data_str(&rs, ca, T0 + 4 * US, KSPAN_DIR_EGRESS, GET("/y"));
	rec_stream_feed(&rs, pl);
	assert_int_equal(col.n, 0);
	kspan_pipeline_free(pl);
	pl = NULL;
	/* the USDT span ended at the free; the request span was started for it: abandoned */
	assert_int_equal(col.n, 2);
	assert_string_equal(col.spans[0]->name, "open");
	assert_string_equal(col.spans[1]->name, "GET /x");
	assert_child(col.spans[0], col.spans[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_through_two_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_read_reported_before_client_write,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_traceparent_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traceparent_wins_over_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_of_three, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_start_is_send_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_threads_not_cross_linked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_loop_left_unparented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_nesting_and_operations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_unmatched_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_missing_end_closed_with_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usdt_thread_and_process_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_request_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_open_spans, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
