// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the userspace pipeline (pipeline.h) without the kernel:
 * synthetic ring-buffer records (tests/helpers/records.h) in, the exact
 * spans the collector processor keeps out. Covers server and client roles,
 * keep-alive, pipelining, 1-byte reads, payloads the kernel cut short,
 * chunked and close-delimited bodies, connections first seen mid-stream,
 * bytes that are not HTTP, process exit and exec, fd reuse, malformed
 * records, per-process resources, freeing with connections open, and database
 * clients (a Redis client's span, the capture options).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "collector.h"
#include "ktime.h"
#include "pipeline.h"
#include "records.h"

#define TGID 100
#define TGID2 200
/* Kernel monotonic time of the first record of a test. */
#define T0 1000000000000ull
/* Slack for the pipeline's own measurement of the clock offset (see assert_times). */
#define OFFSET_SLACK_NS 100000

static struct collector col;
static otel_tracer_provider *col_tp; /* keeps the collector's processor set up */
static struct kspan_pipeline *pl;
static struct rec_stream rs;
static struct kspan_ktime kt_before, kt_after; /* measured around kspan_pipeline_new() */
static unsigned int generations[1024]; /* resources made per tgid (% 1024) */

static const struct rec_sock srv = { .tgid = TGID, .fd = 7, .cookie = 0x1001 };
static const struct rec_sock cli = { .tgid = TGID, .fd = 8, .cookie = 0x2002 };

/* service.name svc-<tgid>, process.pid, and how many resources this tgid had so far. */
static otel_resource *test_resource(void *ctx, pid_t tgid)
{
	char name[32];
	unsigned int gen = ++generations[(unsigned int)tgid % 1024];

	(void)ctx;
	snprintf(name, sizeof(name), "svc-%d", (int)tgid);
	struct otel_attribute a[] = { OTEL_ATTR_STR("service.name", name),
				      OTEL_ATTR_INT("process.pid", tgid),
				      OTEL_ATTR_INT("test.generation", gen) };
	return otel_resource_new(a, 3, NULL);
}

static int setup(void **state)
{
	(void)state;
	memset(generations, 0, sizeof(generations));
	col_tp = collector_provider(&col, NULL, NULL);
	kspan_ktime_sync(&kt_before);
	pl = kspan_pipeline_new(&(struct kspan_pipeline_opts){
		.processor = &col.proc,
		.resource_for = test_resource,
	});
	kspan_ktime_sync(&kt_after);
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

/* Hand every record built so far to the pipeline, in order. */
static void feed(void)
{
	rec_stream_feed(&rs, pl);
}

static struct kspan_pipeline_stats stats(void)
{
	struct kspan_pipeline_stats s;

	kspan_pipeline_stats(pl, &s);
	return s;
}

static const char *res_str(const struct otel_span_data *d, const char *key)
{
	const struct otel_value *v = otel_resource_get(d->resource, key);

	return v && v->type == OTEL_VALUE_STRING ? v->str.ptr : "(none)";
}

static int64_t res_num(const struct otel_span_data *d, const char *key)
{
	const struct otel_value *v = otel_resource_get(d->resource, key);

	return v && v->type == OTEL_VALUE_INT ? v->i : -1;
}

static const struct otel_span_data *span(size_t i)
{
	assert_true(i < col.n);
	return col.spans[i];
}

/*
 * The span lasts exactly from the first to the last kernel timestamp, and
 * starts at first_ts plus the clock offset, which the pipeline measured
 * between kt_before and kt_after (each within its own error).
 */
static void assert_times(const struct otel_span_data *d, uint64_t first_ts, uint64_t last_ts)
{
	int64_t lo = kt_before.offset_ns < kt_after.offset_ns ? kt_before.offset_ns :
								kt_after.offset_ns;
	int64_t hi = kt_before.offset_ns > kt_after.offset_ns ? kt_before.offset_ns :
								kt_after.offset_ns;
	int64_t err = (int64_t)(kt_before.error_ns > kt_after.error_ns ? kt_before.error_ns :
									 kt_after.error_ns) +
		      OFFSET_SLACK_NS;
	int64_t start = (int64_t)d->start_time_ns - (int64_t)first_ts;

	assert_int_equal(d->end_time_ns - d->start_time_ns, last_ts - first_ts);
	assert_in_range(start, lo - err, hi + err);
}

#define response rec_http_response

static void conn(const struct rec_sock *k, uint64_t ts, enum kspan_role role)
{
	struct kspan_addr local = rec_addr_v4(127, 0, 0, 1, 8080);
	struct kspan_addr remote = rec_addr_v4(127, 0, 0, 2, (uint16_t)(51000 + k->fd));

	if (role == KSPAN_ROLE_CLIENT) {
		local = rec_addr_v4(10, 0, 0, 1, (uint16_t)(40000 + k->fd));
		remote = rec_addr_v4(10, 0, 0, 5, 80);
	}
	rec_conn(&rs, k, ts, role, &local, &remote);
}

/* One exchange on @k: the request at @t, its response at @t_resp, both ways by @server. */
static void exchange(const struct rec_sock *k, bool server, uint64_t t, const char *req,
		     uint64_t t_resp, const char *resp)
{
	rec_data_str(&rs, k, t, server ? KSPAN_DIR_INGRESS : KSPAN_DIR_EGRESS, req);
	rec_data_str(&rs, k, t_resp, server ? KSPAN_DIR_EGRESS : KSPAN_DIR_INGRESS, resp);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: t/1\r\n\r\n"

/* ---- tests ---- */

static void test_server_span(void **state)
{
	char buf[256];
	struct kspan_pipeline_stats s;
	const struct otel_span_data *d;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	exchange(&srv, true, T0 + 1000, GET("/users/42"), T0 + 5000,
		 response(buf, sizeof(buf), 200, "hello"));
	feed();

	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "GET /users/{id}");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_SERVER);
	assert_times(d, T0 + 1000, T0 + 5000);
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	assert_string_equal(d->scope->name, "kspan");
	assert_string_equal(span_str(d, "http.request.method"), "GET");
	assert_int_equal(span_int(d, "http.response.status_code"), 200);
	assert_string_equal(span_str(d, "url.scheme"), "http");
	assert_string_equal(span_str(d, "url.path"), "/users/42");
	assert_string_equal(span_str(d, "http.route"), "/users/{id}");
	assert_string_equal(span_str(d, "network.protocol.version"), "1.1");
	assert_string_equal(span_str(d, "server.address"), "shop.example");
	assert_int_equal(span_int(d, "server.port"), 8080);
	assert_string_equal(span_str(d, "client.address"), "127.0.0.2");
	assert_int_equal(span_int(d, "client.port"), 51007);
	assert_string_equal(span_str(d, "network.peer.address"), "127.0.0.2");
	assert_int_equal(span_int(d, "network.peer.port"), 51007);
	assert_string_equal(span_str(d, "user_agent.original"), "t/1");
	assert_int_equal(span_int(d, "http.request.body.size"), 0);
	assert_int_equal(span_int(d, "http.response.body.size"), 5);
	assert_null(span_attr(d, "error.type"));
	assert_string_equal(res_str(d, "service.name"), "svc-100");

	s = stats();
	assert_int_equal(s.records, 3);
	assert_int_equal(s.spans, 1);
	assert_int_equal(s.malformed, 0);
	assert_int_equal(s.not_tracked, 0);
	assert_int_equal(s.connections, 1);
}

static void test_client_span(void **state)
{
	char buf[256];
	const struct otel_span_data *d;

	(void)state;
	conn(&cli, T0, KSPAN_ROLE_CLIENT);
	exchange(&cli, false, T0 + 2000,
		 "DELETE /v1/items/9f86d081884c7d65 HTTP/1.1\r\nHost: api.example\r\n\r\n",
		 T0 + 9500, response(buf, sizeof(buf), 404, "nope"));
	feed();

	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "DELETE /v1/items/{id}");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_CLIENT);
	assert_times(d, T0 + 2000, T0 + 9500);
	/* Clients fail on 4xx. */
	assert_int_equal(d->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(span_str(d, "error.type"), "404");
	assert_string_equal(span_str(d, "http.request.method"), "DELETE");
	assert_int_equal(span_int(d, "http.response.status_code"), 404);
	assert_string_equal(span_str(d, "url.full"), "http://api.example/v1/items/9f86d081884c7d65");
	assert_string_equal(span_str(d, "server.address"), "api.example");
	assert_int_equal(span_int(d, "server.port"), 80);
	assert_string_equal(span_str(d, "network.peer.address"), "10.0.0.5");
	assert_null(span_attr(d, "http.route")); /* server spans only */
	assert_null(span_attr(d, "client.address"));
	assert_int_equal(span_int(d, "http.response.body.size"), 4);
}

static void test_keep_alive(void **state)
{
	static const char *const paths[] = { GET("/a"), GET("/b/123"), "HEAD /c HTTP/1.1\r\n\r\n" };
	static const char *const names[] = { "GET /a", "GET /b/{id}", "HEAD /c" };
	static const int status[] = { 200, 500, 200 };
	char buf[256];

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	for (int i = 0; i < 3; i++) /* the HEAD response has a Content-Length but no body */
		exchange(&srv, true, T0 + 10000 * i + 100, paths[i], T0 + 10000 * i + 700 + i,
			 i == 2 ? "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" :
				  response(buf, sizeof(buf), status[i], "0123456789"));
	rec_close(&rs, &srv, T0 + 30000);
	feed();

	assert_int_equal(col.n, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct otel_span_data *d = span(i);

		assert_string_equal(d->name, names[i]);
		assert_int_equal(d->kind, OTEL_SPAN_KIND_SERVER);
		assert_times(d, T0 + 10000 * i + 100, T0 + 10000 * i + 700 + i);
		assert_int_equal(span_int(d, "http.response.status_code"), status[i]);
		assert_int_equal(d->status_code,
				 status[i] >= 500 ? OTEL_STATUS_ERROR : OTEL_STATUS_UNSET);
	}
	assert_int_equal(span_int(span(2), "http.response.body.size"), 0);
	/* Every span is its own trace (no incoming traceparent). */
	assert_memory_not_equal(span(0)->context.trace_id, span(1)->context.trace_id, 16);
	assert_int_equal(stats().connections, 0);
}

static void test_pipelined(void **state)
{
	char r1[128], r2[128], r3[128], all[512];

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 100, KSPAN_DIR_INGRESS, GET("/one") GET("/two") GET("/three"));
	snprintf(all, sizeof(all), "%s%s", response(r1, sizeof(r1), 200, "1"),
		 response(r2, sizeof(r2), 201, "22"));
	rec_data_str(&rs, &srv, T0 + 900, KSPAN_DIR_EGRESS, all);
	rec_data_str(&rs, &srv, T0 + 1500, KSPAN_DIR_EGRESS, response(r3, sizeof(r3), 202, "333"));
	feed();

	assert_int_equal(col.n, 3);
	assert_string_equal(span(0)->name, "GET /one");
	assert_string_equal(span(1)->name, "GET /two");
	assert_string_equal(span(2)->name, "GET /three");
	assert_times(span(0), T0 + 100, T0 + 900);
	assert_times(span(1), T0 + 100, T0 + 900);
	assert_times(span(2), T0 + 100, T0 + 1500);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(span_int(span(i), "http.response.status_code"), 200 + (int)i);
		assert_int_equal(span_int(span(i), "http.response.body.size"), (int64_t)i + 1);
	}
}

/* After its first read ("POST "), the request arrives one byte per read. */
static void test_request_in_1_byte_reads(void **state)
{
	static const char req[] = "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
	char buf[128];
	const struct otel_span_data *d;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data(&rs, &srv, T0, KSPAN_DIR_INGRESS, req, 5, 5);
	for (size_t i = 5; i < sizeof(req) - 1; i++)
		rec_data(&rs, &srv, T0 + 10 * i, KSPAN_DIR_INGRESS, req + i, 1, 1);
	rec_data_str(&rs, &srv, T0 + 5000, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, "ok"));
	feed();

	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "POST /form");
	assert_times(d, T0, T0 + 5000);
	assert_string_equal(span_str(d, "server.address"), "h");
	assert_int_equal(span_int(d, "http.request.body.size"), 3);
	assert_int_equal(stats().not_tracked, 0);
}

/* A request whose very first read returned 1 byte. */
static void test_request_first_read_1_byte(void **state)
{
	static const char req[] = "GET /tiny HTTP/1.1\r\n\r\n";
	char buf[128];

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	for (size_t i = 0; i < sizeof(req) - 1; i++)
		rec_data(&rs, &srv, T0 + 10 * i, KSPAN_DIR_INGRESS, req + i, 1, 1);
	rec_data_str(&rs, &srv, T0 + 5000, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, "ok"));
	feed();

	assert_int_equal(col.n, 1);
	assert_string_equal(span(0)->name, "GET /tiny");
	assert_times(span(0), T0, T0 + 5000);
}

/* The kernel copied only the first bytes of a big response; Content-Length still frames it. */
static void test_truncated_response(void **state)
{
	char head[128], big[4096], buf[128];
	size_t hl;
	const uint32_t body = 100000;

	(void)state;
	hl = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
			      body);
	memset(big, 'x', sizeof(big));
	memcpy(big, head, hl);
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 100, KSPAN_DIR_INGRESS, GET("/big.iso"));
	/* first write: head and part of the body, captured cut at 4096 of 65536 */
	rec_data(&rs, &srv, T0 + 200, KSPAN_DIR_EGRESS, big, sizeof(big), 65536);
	/* second write: the rest, nothing captured */
	rec_data(&rs, &srv, T0 + 300, KSPAN_DIR_EGRESS, NULL, 0, (uint32_t)(body + hl - 65536));
	/* the next exchange is framed right after it */
	exchange(&srv, true, T0 + 1000, GET("/next"), T0 + 1200,
		 response(buf, sizeof(buf), 200, "n"));
	feed();

	assert_int_equal(col.n, 2);
	assert_string_equal(span(0)->name, "GET /big.iso");
	assert_times(span(0), T0 + 100, T0 + 300);
	assert_int_equal(span_int(span(0), "http.response.body.size"), body);
	assert_string_equal(span(1)->name, "GET /next");
	assert_times(span(1), T0 + 1000, T0 + 1200);
	assert_int_equal(span_int(span(1), "http.response.body.size"), 1);
}

static void test_chunked_response(void **state)
{
	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 100, KSPAN_DIR_INGRESS, GET("/stream"));
	rec_data_str(&rs, &srv, T0 + 200, KSPAN_DIR_EGRESS,
		     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
	rec_data_str(&rs, &srv, T0 + 300, KSPAN_DIR_EGRESS, "6\r\n world\r\n");
	feed();
	assert_int_equal(col.n, 0); /* not complete before the last chunk */

	rec_data_str(&rs, &srv, T0 + 400, KSPAN_DIR_EGRESS, "0\r\n\r\n");
	feed();
	assert_int_equal(col.n, 1);
	assert_string_equal(span(0)->name, "GET /stream");
	assert_times(span(0), T0 + 100, T0 + 400);
	assert_int_equal(span_int(span(0), "http.response.body.size"), 11);
}

/* An HTTP/1.0 response without Content-Length ends with the connection. */
static void test_close_delimited(void **state)
{
	const struct otel_span_data *d;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 100, KSPAN_DIR_INGRESS, "GET /old HTTP/1.0\r\n\r\n");
	rec_data_str(&rs, &srv, T0 + 200, KSPAN_DIR_EGRESS, "HTTP/1.0 200 OK\r\n\r\nfirst ");
	rec_data_str(&rs, &srv, T0 + 300, KSPAN_DIR_EGRESS, "second");
	feed();
	assert_int_equal(col.n, 0);

	rec_close(&rs, &srv, T0 + 900);
	feed();
	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "GET /old");
	/* the last byte of the response went out with the last write, not at the close */
	assert_times(d, T0 + 100, T0 + 300);
	assert_string_equal(span_str(d, "network.protocol.version"), "1.0");
	assert_int_equal(span_int(d, "http.response.body.size"), 12);
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	assert_int_equal(stats().connections, 0);
}

/*
 * No CONN record: the connection was open before the agent. It starts with
 * the response to a request we never saw (no span), then a whole exchange
 * (one span); the side is inferred from which way the request flowed.
 */
static void midstream(const struct rec_sock *k, bool server)
{
	char buf[128];
	enum kspan_dir out = server ? KSPAN_DIR_EGRESS : KSPAN_DIR_INGRESS;

	/* the tail of an earlier body, then the response it belonged to ended */
	rec_data_str(&rs, k, T0 + 10, out, "of an earlier body");
	rec_data_str(&rs, k, T0 + 20, out, response(buf, sizeof(buf), 200, "orphan"));
	exchange(k, server, T0 + 100, GET("/after"), T0 + 700,
		 response(buf, sizeof(buf), 200, "fine"));
	feed();
}

static void test_midstream_server(void **state)
{
	const struct otel_span_data *d;

	(void)state;
	midstream(&srv, true);
	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "GET /after");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_SERVER);
	assert_times(d, T0 + 100, T0 + 700);
	assert_int_equal(span_int(d, "http.response.body.size"), 4);
	assert_int_equal(stats().not_tracked, 0);
}

static void test_midstream_client(void **state)
{
	const struct otel_span_data *d;

	(void)state;
	midstream(&cli, false);
	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "GET /after");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_CLIENT);
	assert_times(d, T0 + 100, T0 + 700);
	assert_string_equal(span_str(d, "url.full"), "http://shop.example:8080/after");
}

static void test_not_http(void **state)
{
	static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00,
					     0x01, 0xfc, 0x03, 0x03, 0x5a, 0x11 };
	struct kspan_pipeline_stats s;
	char buf[128];

	(void)state;
	/* A server connection whose first bytes are TLS: given up at once. */
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data(&rs, &srv, T0 + 1, KSPAN_DIR_INGRESS, tls_hello, sizeof(tls_hello), 517);
	feed();
	assert_int_equal(stats().not_tracked, 1);
	/* ... and stays given up, even if HTTP-looking bytes follow. */
	exchange(&srv, true, T0 + 2, GET("/x"), T0 + 3, response(buf, sizeof(buf), 200, ""));
	/* A connection seen mid-stream carrying only binary bytes: given up after a few. */
	for (int i = 0; i < 16; i++)
		rec_data(&rs, &cli, T0 + 10 + (uint64_t)i,
			 i % 2 ? KSPAN_DIR_INGRESS : KSPAN_DIR_EGRESS, tls_hello, sizeof(tls_hello),
			 sizeof(tls_hello));
	feed();

	s = stats();
	assert_int_equal(col.n, 0);
	assert_int_equal(s.spans, 0);
	assert_int_equal(s.not_tracked, 2);
	assert_int_equal(s.connections, 2);
	assert_int_equal(s.records, 1 + 1 + 2 + 16);
}

/* A process exit drops its connections; what follows on the same cookie starts afresh. */
static void test_proc_exit(void **state)
{
	char buf[128];
	struct kspan_pipeline_stats s;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	conn(&cli, T0, KSPAN_ROLE_CLIENT);
	exchange(&srv, true, T0 + 10, GET("/before"), T0 + 20, response(buf, sizeof(buf), 200, ""));
	rec_data_str(&rs, &srv, T0 + 30, KSPAN_DIR_INGRESS, GET("/pending"));
	rec_proc(&rs, TGID, T0 + 40, KSPAN_PROC_EXIT, 0, "srv");
	feed();
	s = stats();
	assert_int_equal(s.connections, 0);
	/* The request the process never answered is reported, as at a close. */
	assert_int_equal(col.n, 2);
	assert_int_equal(res_num(span(0), "test.generation"), 1);
	assert_string_equal(span_str(span(1), "url.path"), "/pending");
	assert_string_equal(span_str(span(1), "error.type"), "no_response");
	assert_int_equal(span(1)->status_code, OTEL_STATUS_ERROR);

	/* The same cookie again (pid reused): the old request is gone, so this response is an
	 * orphan and no span; then a whole exchange, under a new resource. */
	rec_data_str(&rs, &srv, T0 + 50, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, "x"));
	exchange(&srv, true, T0 + 60, GET("/after"), T0 + 70, response(buf, sizeof(buf), 200, ""));
	feed();
	assert_int_equal(col.n, 3);
	assert_string_equal(span(2)->name, "GET /after");
	assert_int_equal(span(2)->kind, OTEL_SPAN_KIND_SERVER);
	assert_int_equal(res_num(span(2), "test.generation"), 2);
	assert_int_equal(stats().connections, 1);
}

/* An exec keeps the connections (fds survive it) but the program, so the resource, is new. */
static void test_proc_exec(void **state)
{
	char buf[128];

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	exchange(&srv, true, T0 + 10, GET("/one"), T0 + 20, response(buf, sizeof(buf), 200, ""));
	rec_proc(&rs, TGID, T0 + 30, KSPAN_PROC_EXEC, 0, "new");
	exchange(&srv, true, T0 + 40, GET("/two"), T0 + 50, response(buf, sizeof(buf), 200, ""));
	/* a fork of another process does not touch this one */
	rec_proc(&rs, TGID2, T0 + 60, KSPAN_PROC_FORK, TGID, "child");
	exchange(&srv, true, T0 + 70, GET("/three"), T0 + 80, response(buf, sizeof(buf), 200, ""));
	feed();

	assert_int_equal(col.n, 3);
	assert_int_equal(res_num(span(0), "test.generation"), 1);
	assert_int_equal(res_num(span(1), "test.generation"), 2);
	assert_int_equal(res_num(span(2), "test.generation"), 2);
	assert_int_equal(stats().connections, 1);
}

/* The same fd number on a new socket (new cookie) is another connection. */
static void test_fd_reuse(void **state)
{
	struct rec_sock a = { .tgid = TGID, .fd = 9, .cookie = 0xa }, b = a, c = a;
	char buf[128];

	(void)state;
	b.cookie = 0xb;
	c.cookie = 0xc;
	conn(&a, T0, KSPAN_ROLE_SERVER);
	exchange(&a, true, T0 + 10, GET("/a"), T0 + 20, response(buf, sizeof(buf), 200, ""));
	rec_close(&rs, &a, T0 + 30);
	/* b gets fd 9 but its close is missed; b's request stays pending */
	conn(&b, T0 + 40, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &b, T0 + 50, KSPAN_DIR_INGRESS, GET("/b"));
	/* c gets fd 9 too, as a client socket */
	conn(&c, T0 + 60, KSPAN_ROLE_CLIENT);
	exchange(&c, false, T0 + 70, GET("/c"), T0 + 80, response(buf, sizeof(buf), 200, ""));
	feed();

	assert_int_equal(col.n, 2);
	assert_string_equal(span(0)->name, "GET /a");
	assert_int_equal(span(0)->kind, OTEL_SPAN_KIND_SERVER);
	assert_string_equal(span(1)->name, "GET /c");
	assert_int_equal(span(1)->kind, OTEL_SPAN_KIND_CLIENT);
	assert_times(span(1), T0 + 70, T0 + 80);
	assert_int_equal(stats().connections, 2);

	/* b answered later: its own span, its own peer port */
	rec_data_str(&rs, &b, T0 + 90, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, ""));
	feed();
	assert_int_equal(col.n, 3);
	assert_string_equal(span(2)->name, "GET /b");
	assert_times(span(2), T0 + 50, T0 + 90);
}

/* Query strings stay out of url.path and url.full unless capture_query is set. */
static void test_query_not_exported(void **state)
{
	char buf[128];
	const struct otel_span_data *d;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	exchange(&srv, true, T0 + 10, GET("/users/42?token=secret"), T0 + 20,
		 response(buf, sizeof(buf), 200, ""));
	conn(&cli, T0, KSPAN_ROLE_CLIENT);
	exchange(&cli, false, T0 + 30, "GET /x?api_key=k HTTP/1.1\r\nHost: api.example\r\n\r\n",
		 T0 + 40, response(buf, sizeof(buf), 200, ""));
	feed();
	assert_int_equal(col.n, 2);
	d = span(0);
	assert_string_equal(d->name, "GET /users/{id}");
	assert_null(span_attr(d, "url.query"));
	assert_string_equal(span_str(d, "url.path"), "/users/42");
	assert_string_equal(span_str(span(1), "url.full"), "http://api.example/x");
}

#define REDIS_SET "*3\r\n$3\r\nSET\r\n$7\r\nsession\r\n$6\r\nhunter\r\n"

/* A Redis client: a DB CLIENT span, values masked; the server side of Redis makes none. */
static void test_redis_client(void **state)
{
	const struct otel_span_data *d;

	(void)state;
	conn(&cli, T0, KSPAN_ROLE_CLIENT);
	exchange(&cli, false, T0 + 100, REDIS_SET, T0 + 900, "+OK\r\n");
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	exchange(&srv, true, T0 + 1000, "*1\r\n$4\r\nPING\r\n", T0 + 1100, "+PONG\r\n");
	feed();
	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "SET");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_CLIENT);
	assert_times(d, T0 + 100, T0 + 900);
	assert_string_equal(span_str(d, "db.system.name"), "redis");
	assert_string_equal(span_str(d, "db.operation.name"), "SET");
	assert_string_equal(span_str(d, "db.query.text"), "SET session ?");
	assert_string_equal(span_str(d, "server.address"), "10.0.0.5");
}

/* The database capture options reach the spans: literals kept when asked for. */
static void test_db_capture_options(void **state)
{
	struct kspan_pipeline *keep = kspan_pipeline_new(&(struct kspan_pipeline_opts){
		.processor = &col.proc,
		.resource_for = test_resource,
		.db = { .capture_literals = true },
	});

	(void)state;
	assert_non_null(keep);
	conn(&cli, T0, KSPAN_ROLE_CLIENT);
	exchange(&cli, false, T0 + 100, REDIS_SET, T0 + 900, "+OK\r\n");
	rec_stream_feed(&rs, keep);
	kspan_pipeline_free(keep);
	assert_int_equal(col.n, 1);
	assert_string_equal(span_str(span(0), "db.query.text"), "SET session hunter");
}

/* A request still unanswered when the connection closes: a span that says so. */
static void test_close_unanswered(void **state)
{
	const struct otel_span_data *d;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 10, KSPAN_DIR_INGRESS, GET("/hang"));
	rec_close(&rs, &srv, T0 + 90);
	feed();
	assert_int_equal(col.n, 1);
	d = span(0);
	assert_string_equal(d->name, "GET /hang");
	assert_int_equal(d->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(span_str(d, "error.type"), "no_response");
	assert_null(span_attr(d, "http.response.status_code"));
	/* pending from its first byte until the connection closed */
	assert_times(d, T0 + 10, T0 + 90);
}

/* DATA records that break the ABI's own rules (captured <= len, a known direction). */
static void test_data_record_rules(void **state)
{
	struct kspan_data_rec *d;
	struct kspan_pipeline_stats s;

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	d = rec_data_str(&rs, &srv, T0 + 10, KSPAN_DIR_INGRESS, GET("/a"));
	d->len = d->captured - 1;
	d = rec_data_str(&rs, &srv, T0 + 20, KSPAN_DIR_INGRESS, GET("/b"));
	d->dir = 0;
	d = rec_data_str(&rs, &srv, T0 + 30, KSPAN_DIR_INGRESS, GET("/c"));
	d->dir = 3;
	feed();
	s = stats();
	assert_int_equal(s.malformed, 3);
	assert_int_equal(s.records, 1);
	assert_int_equal(col.n, 0);
}

static void feed_copy(const void *rec, size_t size)
{
	uint8_t copy[512];

	memcpy(copy, rec, size);
	kspan_pipeline_record(pl, copy, size);
}

static void test_malformed(void **state)
{
	struct kspan_data_rec *d;
	struct kspan_hdr *h;
	uint8_t rec[512];
	struct kspan_pipeline_stats s;
	size_t size;

	(void)state;
	d = rec_data_str(&rs, &srv, T0, KSPAN_DIR_INGRESS, GET("/m"));
	size = rec_size(d);
	assert_true(size <= sizeof(rec));
	memcpy(rec, d, size);
	d = (struct kspan_data_rec *)rec;
	h = &d->hdr;

	feed_copy(rec, 10); /* shorter than a header */
	feed_copy(rec, sizeof(struct kspan_hdr)); /* a header, not a DATA record */
	feed_copy(rec, sizeof(*d) - 1);
	h->version = KSPAN_ABI_VERSION + 1;
	feed_copy(rec, size);
	h->version = KSPAN_ABI_VERSION;
	h->type = 0;
	feed_copy(rec, size);
	h->type = KSPAN_REC_PROC + 1;
	feed_copy(rec, size);
	h->type = KSPAN_REC_DATA;
	h->size = (uint32_t)size + 8; /* claims more than was delivered */
	feed_copy(rec, size);
	h->size = (uint32_t)size;
	d->captured = (uint32_t)(size - sizeof(*d) + 1); /* payload past the record's end */
	feed_copy(rec, size);
	d->captured = 0xffffffffu;
	feed_copy(rec, size);

	s = stats();
	assert_int_equal(s.malformed, 9);
	assert_int_equal(s.records, 0);
	assert_int_equal(s.connections, 0);
	assert_int_equal(col.n, 0);

	/* The record itself was fine. */
	d->captured = d->len;
	feed_copy(rec, size);
	s = stats();
	assert_int_equal(s.malformed, 9);
	assert_int_equal(s.records, 1);
	assert_int_equal(s.connections, 1);
}

static void test_two_processes(void **state)
{
	struct rec_sock other = { .tgid = TGID2, .fd = 7, .cookie = 0x1001 }; /* same cookie */
	char buf[128];

	(void)state;
	conn(&srv, T0, KSPAN_ROLE_SERVER);
	conn(&other, T0 + 1, KSPAN_ROLE_SERVER);
	rec_data_str(&rs, &srv, T0 + 10, KSPAN_DIR_INGRESS, GET("/first"));
	rec_data_str(&rs, &other, T0 + 11, KSPAN_DIR_INGRESS, GET("/second"));
	rec_data_str(&rs, &other, T0 + 20, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, ""));
	rec_data_str(&rs, &srv, T0 + 21, KSPAN_DIR_EGRESS, response(buf, sizeof(buf), 200, ""));
	feed();

	assert_int_equal(col.n, 2);
	assert_string_equal(span(0)->name, "GET /second");
	assert_string_equal(res_str(span(0), "service.name"), "svc-200");
	assert_int_equal(res_num(span(0), "process.pid"), TGID2);
	assert_times(span(0), T0 + 11, T0 + 20);
	assert_string_equal(span(1)->name, "GET /first");
	assert_string_equal(res_str(span(1), "service.name"), "svc-100");
	assert_int_equal(res_num(span(1), "process.pid"), TGID);
	assert_times(span(1), T0 + 10, T0 + 21);
	assert_int_equal(stats().connections, 2);
}

/* Freed with parsers mid-message on many connections: nothing leaks (ASan), no span. */
static void test_free_with_open_connections(void **state)
{
	(void)state;
	for (int i = 0; i < 50; i++) {
		struct rec_sock k = { .tgid = TGID + (uint32_t)(i % 3),
				      .fd = i,
				      .cookie = 100 + (uint64_t)i };

		conn(&k, T0 + (uint64_t)i, i % 2 ? KSPAN_ROLE_CLIENT : KSPAN_ROLE_SERVER);
		rec_data_str(&rs, &k, T0 + 100 + (uint64_t)i,
			     i % 2 ? KSPAN_DIR_EGRESS : KSPAN_DIR_INGRESS,
			     "POST /upload HTTP/1.1\r\nContent-Length: 99999\r\n\r\npartial");
	}
	feed();
	assert_int_equal(stats().connections, 50);
	assert_int_equal(col.n, 0);
	kspan_pipeline_free(pl);
	pl = NULL;
	assert_int_equal(col.n, 0);
	kspan_pipeline_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_server_span, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_span, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_in_1_byte_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_first_read_1_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_delimited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_not_exported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_record_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_open_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_capture_options, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
