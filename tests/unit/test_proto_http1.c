// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the HTTP/1.x parser (userspace/proto_http1.c) through the
 * common parser interface: framing (Content-Length, chunked with extensions
 * and trailers, close-delimited, no-body responses, 1xx, upgrades), pairing
 * (keep-alive, pipelining, early responses, responses without requests),
 * exact timestamps and sizes, splitting (byte-at-a-time and random splits give
 * the same events as one read), bounded memory for very long heads, bytes that
 * are not HTTP, capture gaps in bodies and heads, mid-stream starts, the
 * detector, and that credentials never reach an event.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proto_http1.h"

#define REQ KSPAN_MSG_REQUEST
#define RESP KSPAN_MSG_RESPONSE
#define MAX_EVENTS 256
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A copy of one event, strings included. */
struct ev {
	enum kspan_parser_event_type type;
	uint32_t flags;
	uint64_t req_first, req_last, resp_first, resp_last;
	bool detail;
	char method[64], target[4096], path[4096], query[4096], host[512], ua[1024];
	char traceparent[256], tracestate[1024];
	struct kspan_http1_exchange x; /* numbers only: its strings point into the parser */
};

struct rec {
	struct ev ev[MAX_EVENTS];
	int n;
	char *log; /* one line per event, for comparing runs */
	size_t log_len, log_cap;
};

static void copy_str(char *dst, size_t cap, struct kspan_str s)
{
	assert_non_null(s.ptr);
	assert_true(s.len < cap);
	memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
}

static void log_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->log_cap - r->log_len < 8192) {
		r->log_cap = r->log_cap * 2 + 65536;
		r->log = realloc(r->log, r->log_cap);
		assert_non_null(r->log);
	}
	va_start(ap, fmt);
	n = vsnprintf(r->log + r->log_len, r->log_cap - r->log_len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < r->log_cap - r->log_len);
	r->log_len += n;
}

static void on_event(void *ctx, const struct kspan_parser_event *pe)
{
	struct rec *r = ctx;
	struct ev *e;
	const struct kspan_http1_exchange *x = pe->detail;

	assert_true(r->n < MAX_EVENTS);
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = pe->type;
	e->flags = pe->flags;
	e->req_first = pe->req_first_ns;
	e->req_last = pe->req_last_ns;
	e->resp_first = pe->resp_first_ns;
	e->resp_last = pe->resp_last_ns;
	e->detail = x != NULL;
	log_add(r, "%d f=%x ts=%lu,%lu,%lu,%lu", pe->type, pe->flags,
		(unsigned long)pe->req_first_ns, (unsigned long)pe->req_last_ns,
		(unsigned long)pe->resp_first_ns, (unsigned long)pe->resp_last_ns);
	if (!x) {
		log_add(r, "\n");
		return;
	}
	e->x = *x;
	copy_str(e->method, sizeof(e->method), x->method);
	copy_str(e->target, sizeof(e->target), x->target);
	copy_str(e->path, sizeof(e->path), x->path);
	copy_str(e->query, sizeof(e->query), x->query);
	copy_str(e->host, sizeof(e->host), x->host);
	copy_str(e->ua, sizeof(e->ua), x->user_agent);
	copy_str(e->traceparent, sizeof(e->traceparent), x->traceparent);
	copy_str(e->tracestate, sizeof(e->tracestate), x->tracestate);
	log_add(r, " %s %s [%s|%s] h=%s ua=%s tp=%s ts=%s v=%u/%u st=%u b=%lu/%lu w=%lu/%lu x=%x\n",
		e->method, e->target, e->path, e->query, e->host, e->ua, e->traceparent,
		e->tracestate, x->req_version, x->resp_version, x->status,
		(unsigned long)x->req_body_bytes, (unsigned long)x->resp_body_bytes,
		(unsigned long)x->req_bytes, (unsigned long)x->resp_bytes, x->flags);
}

static struct kspan_parser *new_parser(struct rec *r, unsigned int flags)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_http1_parser_ops, on_event, r, flags);

	assert_non_null(p);
	assert_ptr_equal(p->ops, &kspan_http1_parser_ops);
	assert_string_equal(p->ops->name, "http1");
	return p;
}

static int setup(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	free(r->log);
	free(r);
	return 0;
}

static int feed_n(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, size_t n,
		  uint64_t ts)
{
	return kspan_parser_feed(p, dir, (const uint8_t *)s, n, n, ts);
}

static int feed(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, uint64_t ts)
{
	return feed_n(p, dir, s, strlen(s), ts);
}

static void feed_ok(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, uint64_t ts)
{
	assert_int_equal(feed(p, dir, s, ts), 0);
}

/* Feeds s one byte at a time, all at ts. */
static void feed_bytes(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, size_t n,
		       uint64_t ts)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed_n(p, dir, s + i, 1, ts), 0);
}

/* Index of the n-th (0-based) event of type t, failing when there is none. */
static struct ev *find(struct rec *r, enum kspan_parser_event_type t, int nth)
{
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].type == t && nth-- == 0)
			return &r->ev[i];
	fail_msg("no event %d of type %d among %d", nth, t, r->n);
	return &r->ev[0]; /* not reached */
}

static int count(struct rec *r, enum kspan_parser_event_type t)
{
	int c = 0;

	for (int i = 0; i < r->n; i++)
		c += r->ev[i].type == t;
	return c;
}

static void clear(struct rec *r)
{
	r->n = 0;
	r->log_len = 0;
}

/* ------------------------------------------------------------------ basics */

static const char GET_REQ[] =
	"GET /users/42?q=1&x=2 HTTP/1.1\r\n"
	"Host: example.com:8080\r\n"
	"User-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n"
	"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
	"tracestate: congo=t61rcWkgMzE\r\n"
	"\r\n";
static const char OK_RESP[] = "HTTP/1.1 200 OK\r\n"
			      "Content-Type: text/plain\r\n"
			      "Content-Length: 5\r\n"
			      "\r\n"
			      "hello";

static void test_simple_exchange(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, GET_REQ, 100);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->ev[0].type, KSPAN_PEV_REQUEST_START);
	assert_false(r->ev[0].detail);
	assert_int_equal(r->ev[0].req_first, 100);
	e = &r->ev[1];
	assert_int_equal(e->type, KSPAN_PEV_REQUEST);
	assert_int_equal(e->flags, 0);
	assert_string_equal(e->method, "GET");
	assert_string_equal(e->target, "/users/42?q=1&x=2");
	assert_int_equal(e->x.status, 0);

	feed_ok(p, RESP, OK_RESP, 250);
	assert_int_equal(r->n, 3);
	e = &r->ev[2];
	assert_int_equal(e->type, KSPAN_PEV_EXCHANGE);
	assert_int_equal(e->flags, 0);
	assert_string_equal(e->method, "GET");
	assert_string_equal(e->target, "/users/42?q=1&x=2");
	assert_string_equal(e->path, "/users/42");
	assert_string_equal(e->query, "q=1&x=2");
	assert_string_equal(e->host, "example.com:8080");
	assert_string_equal(e->ua, "curl/7.88.1");
	assert_string_equal(e->traceparent,
			    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	assert_string_equal(e->tracestate, "congo=t61rcWkgMzE");
	assert_int_equal(e->x.req_version, 11);
	assert_int_equal(e->x.resp_version, 11);
	assert_int_equal(e->x.status, 200);
	assert_int_equal(e->x.req_body_bytes, 0);
	assert_int_equal(e->x.resp_body_bytes, 5);
	assert_int_equal(e->x.req_bytes, strlen(GET_REQ));
	assert_int_equal(e->x.resp_bytes, strlen(OK_RESP));
	assert_int_equal(e->x.flags, 0);
	assert_int_equal(e->req_first, 100);
	assert_int_equal(e->req_last, 100);
	assert_int_equal(e->resp_first, 250);
	assert_int_equal(e->resp_last, 250);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(kspan_parser_stats(p)->requests, 1);
	assert_int_equal(kspan_parser_stats(p)->exchanges, 1);
	kspan_parser_free(p);
}

static void test_timestamps_across_reads(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "POST /upload HTTP/1.1\r\nHo", 10);
	feed_ok(p, REQ, "st: a\r\nContent-Length: 6\r\n\r\nabc", 20);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 0);
	feed_ok(p, REQ, "def", 30);
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(e->req_first, 10);
	assert_int_equal(e->req_last, 30);
	assert_int_equal(e->x.req_body_bytes, 6);
	feed_ok(p, RESP, "HTTP/1.1 201 Created\r\n", 40);
	feed_ok(p, RESP, "Content-Length: 4\r\n\r\nab", 50);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	feed_ok(p, RESP, "cd", 60);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->req_first, 10);
	assert_int_equal(e->req_last, 30);
	assert_int_equal(e->resp_first, 40);
	assert_int_equal(e->resp_last, 60);
	assert_int_equal(e->x.status, 201);
	assert_string_equal(e->host, "a");
	assert_int_equal(e->x.req_body_bytes, 6);
	assert_int_equal(e->x.resp_body_bytes, 4);
	kspan_parser_free(p);
}

static void test_keepalive_pipelining(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	/* Three requests in one read, the responses in one read: FIFO pairing. */
	feed_ok(p, REQ,
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
		"HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
		"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz",
		1);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST_START), 3);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 3);
	feed_ok(p, RESP,
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
		"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\nabc\r\n0\r\n\r\n",
		2);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 3);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->path, "/a");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.resp_body_bytes, 2);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->method, "HEAD");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->x.resp_body_bytes, 0);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->x.status, 200);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->method, "POST");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->x.status, 404);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->x.req_body_bytes, 3);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->x.resp_body_bytes, 3);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->x.flags, KSPAN_HTTP1_F_RESP_CHUNKED);
	for (int i = 0; i < 3; i++)
		assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, i)->flags, 0);

	/* Keep-alive: the connection goes on. */
	clear(r);
	feed_ok(p, REQ, "\r\nGET /d HTTP/1.1\r\n\r\n", 3);
	feed_ok(p, RESP, "HTTP/1.1 204 No Content\r\n\r\n", 4);
	assert_int_equal(r->n, 3);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->path, "/d");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.status, 204);
	/* The ignored empty line is not part of the request. */
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.req_bytes, 19);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ splitting */

/* A conversation touching every framing rule; the response side ends close-delimited. */
static const char CONV_REQ[] =
	"GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\n\r\n"
	"POST /b?x=1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"
	"hello world"
	"HEAD /c HTTP/1.1\r\n\r\n"
	"PUT /d HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	"4;ext=\"q\"\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Checksum: 1\r\n\r\n"
	"GET /e HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n"
	"DELETE /f HTTP/1.1\r\n\r\n"
	"GET /g HTTP/1.0\r\n\r\n";
static const char CONV_RESP[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	"1a;name=value;x\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-A: b\r\nTrailer-C: d\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
	"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
	"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n"
	"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
	"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>close-delimited</html>";

static void conv_check(struct rec *r)
{
	static const struct {
		const char *method, *path;
		unsigned int status;
		uint64_t req_body, resp_body;
		uint32_t flags;
	} want[] = {
		{ "GET", "/a", 200, 0, 3, 0 },
		{ "POST", "/b", 201, 11, 26,
		  KSPAN_HTTP1_F_EXPECT_CONTINUE | KSPAN_HTTP1_F_RESP_CHUNKED },
		{ "HEAD", "/c", 200, 0, 0, 0 },
		{ "PUT", "/d", 200, 14, 0, KSPAN_HTTP1_F_REQ_CHUNKED },
		{ "GET", "/e", 304, 0, 0, 0 },
		{ "DELETE", "/f", 204, 0, 0, 0 },
		{ "GET", "/g", 200, 0, 28, KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED },
	};

	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 7);
	for (int i = 0; i < 7; i++) {
		struct ev *e = find(r, KSPAN_PEV_EXCHANGE, i);

		assert_string_equal(e->method, want[i].method);
		assert_string_equal(e->path, want[i].path);
		assert_int_equal(e->x.status, want[i].status);
		assert_int_equal(e->x.req_body_bytes, want[i].req_body);
		assert_int_equal(e->x.resp_body_bytes, want[i].resp_body);
		assert_int_equal(e->x.flags, want[i].flags);
		assert_int_equal(e->flags, 0);
	}
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 6)->x.req_version, 10);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 6)->x.resp_version, 10);
}

/* Feeds the conversation with reads ending at the cut points a PRNG picks (0: one read). */
static void run_conv(struct rec *r, unsigned int seed, size_t max_read)
{
	struct kspan_parser *p = new_parser(r, 0);
	const char *s[2] = { CONV_REQ, CONV_RESP };
	size_t len[2] = { sizeof(CONV_REQ) - 1, sizeof(CONV_RESP) - 1 }, off[2] = { 0, 0 };

	/* Requests first, so that pairing does not depend on the interleaving. */
	for (int d = 0; d < 2; d++) {
		while (off[d] < len[d]) {
			size_t n = len[d] - off[d];

			if (max_read) {
				seed = seed * 1103515245u + 12345u;
				n = MIN(n, 1 + (seed >> 16) % max_read);
			}
			assert_int_equal(feed_n(p, d, s[d] + off[d], n, 7), 0);
			off[d] += n;
		}
	}
	assert_int_equal(kspan_parser_eof(p, 8), 0);
	kspan_parser_free(p);
}

static void test_splits_give_same_events(void **state)
{
	struct rec *r = *state;
	char *one;

	run_conv(r, 0, 0);
	conv_check(r);
	one = strndup(r->log, r->log_len);
	assert_non_null(one);

	/* Byte at a time. */
	clear(r);
	run_conv(r, 0, 1);
	conv_check(r);
	assert_int_equal(r->log_len, strlen(one));
	assert_memory_equal(r->log, one, r->log_len);
	/* Random splits. */
	for (unsigned int seed = 1; seed < 200; seed++) {
		char *log;

		clear(r);
		run_conv(r, seed, 1 + seed % 40);
		log = strndup(r->log, r->log_len);
		assert_non_null(log);
		if (strcmp(log, one))
			fail_msg("seed %u: events differ:\n%s\nvs one read:\n%s", seed, log, one);
		free(log);
	}
	free(one);
}

static void test_byte_at_a_time_exchange(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_bytes(p, REQ, GET_REQ, strlen(GET_REQ), 5);
	feed_bytes(p, RESP, OK_RESP, strlen(OK_RESP), 6);
	assert_int_equal(r->n, 3);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->host, "example.com:8080");
	assert_string_equal(e->tracestate, "congo=t61rcWkgMzE");
	assert_int_equal(e->x.resp_body_bytes, 5);
	assert_int_equal(e->resp_last, 6);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ framing details */

static void test_expect_100_continue(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.1 100 Continue\r\n\r\n", 2);
	/* The interim response is not the answer. */
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	feed_ok(p, REQ, "12345", 3);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.status, 200);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_EXPECT_CONTINUE);
	assert_int_equal(e->x.req_body_bytes, 5);
	assert_int_equal(e->req_last, 3);
	assert_int_equal(e->resp_first, 4);
	assert_int_equal(e->resp_last, 4);
	assert_int_equal(e->x.resp_bytes, 38);
	kspan_parser_free(p);
}

static void test_early_response(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	/* The server refuses the body before it has all arrived. */
	feed_ok(p, REQ, "POST /big HTTP/1.1\r\nContent-Length: 10\r\n\r\n1234", 1);
	feed_ok(p, RESP, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n", 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);
	assert_int_equal(e->x.status, 413);
	assert_int_equal(e->x.req_body_bytes, 4);
	assert_int_equal(e->req_last, 1);
	/* The rest of the body still frames, and the next request is parsed. */
	feed_ok(p, REQ, "567890GET /next HTTP/1.1\r\n\r\n", 3);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/next");
	assert_int_equal(e->flags, 0);
	kspan_parser_free(p);
}

static void test_no_body_statuses(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	static const char *const resp[] = {
		"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", /* answers HEAD */
	};

	for (int i = 0; i < 3; i++) {
		feed_ok(p, REQ, i == 2 ? "HEAD / HTTP/1.1\r\n\r\n" : "GET / HTTP/1.1\r\n\r\n", i);
		feed_ok(p, RESP, resp[i], i);
		assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), i + 1);
		assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, i)->x.resp_body_bytes, 0);
		assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, i)->x.resp_bytes, strlen(resp[i]));
	}
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.status, 204);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->x.status, 304);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->method, "HEAD");
	kspan_parser_free(p);
}

static void test_interim_responses(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", 2);
	feed_ok(p, RESP, "HTTP/1.1 102 Processing\r\nContent-Length: 4\r\n\r\n", 3);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	feed_ok(p, RESP, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.status, 500);
	assert_int_equal(e->resp_first, 4);
	assert_int_equal(e->x.resp_body_bytes, 4);
	kspan_parser_free(p);
}

static void test_chunked_details(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
			   "A ; a=b\r\n0123456789\r\n"
			   "1F\r\n0123456789012345678901234567890\r\n"
			   "0;last\r\nExpires: never\r\n\r\n";
	struct ev *e;

	feed_ok(p, REQ,
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\nabc\r\n0\r\n\r\n",
		1);
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(e->x.req_body_bytes, 3);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_REQ_CHUNKED);
	/* The end of a chunked body is its last CRLF, not the zero chunk. */
	feed_ok(p, RESP,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
		"A ; a=b\r\n0123456789\r\n1F\r\n0123456789012345678901234567890\r\n0;last\r\n",
		2);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	feed_ok(p, RESP, "Expires: never\r\n", 3);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	feed_ok(p, RESP, "\r\n", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.resp_body_bytes, 41);
	assert_int_equal(e->x.resp_bytes, strlen(resp));
	assert_int_equal(e->resp_first, 2);
	assert_int_equal(e->resp_last, 4);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_REQ_CHUNKED | KSPAN_HTTP1_F_RESP_CHUNKED);
	/* Bad chunk sizes lose the framing. */
	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 5);
	assert_int_equal(feed(p, RESP,
			      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 6),
			 -EBADMSG);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
	kspan_parser_free(p);
}

static void test_chunk_size_overflow(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2);
	/* 2^60 - 1 is fine (no bytes, just a large remaining count)... */
	feed_ok(p, RESP, "fffffffffffffff\r\nab", 3);
	kspan_parser_reset(p, 0);
	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2);
	/* ... 2^64 is not. */
	assert_int_equal(feed(p, RESP, "10000000000000000\r\n", 3), -EBADMSG);
	kspan_parser_free(p);
}

static void test_close_delimited(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "GET /old HTTP/1.0\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.0 200 OK\r\n\r\nfirst ", 2);
	feed_ok(p, RESP, "second", 3);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	assert_int_equal(kspan_parser_eof(p, 9), 0);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->x.resp_body_bytes, 12);
	/* The last byte came with the last read, not with the close. */
	assert_int_equal(e->resp_last, 3);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED);

	/* HTTP/1.1 with Connection: close and no length: the same. */
	clear(r);
	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 10);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\nbody", 11);
	assert_int_equal(kspan_parser_eof(p, 12), 0);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.resp_body_bytes, 4);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED | KSPAN_HTTP1_F_CONN_CLOSE);
	/* A transfer coding that is not chunked is close-delimited too. */
	clear(r);
	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 10);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", 11);
	assert_int_equal(kspan_parser_eof(p, 12), 0);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.resp_body_bytes, 3);
	kspan_parser_free(p);
}

static void test_eof_reports_the_rest(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	/* A body cut by the close, and a request never answered. */
	feed_ok(p, REQ, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", 2);
	assert_int_equal(kspan_parser_eof(p, 3), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->path, "/1");
	assert_int_equal(e->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(e->x.resp_body_bytes, 9);
	assert_int_equal(e->resp_last, 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/2");
	assert_int_equal(e->flags, KSPAN_PEF_NO_RESPONSE);
	assert_int_equal(e->x.status, 0);
	assert_int_equal(e->resp_first, 0);
	assert_int_equal(kspan_parser_stats(p)->unanswered, 1);
	/* After eof the parser starts over. */
	clear(r);
	feed_ok(p, REQ, GET_REQ, 4);
	feed_ok(p, RESP, OK_RESP, 5);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	kspan_parser_free(p);
}

static void test_upgrade(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ,
		"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		1);
	/* A client may not send frames before the 101, but they must not break anything. */
	feed_ok(p, REQ, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 2);
	feed_ok(p, RESP, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05",
		3);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.status, 101);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_UPGRADED);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	/* Quiet from now on. */
	feed_ok(p, REQ, "\x81\x85 garbage", 4);
	feed_ok(p, RESP, "\x00\x01\x02", 5);
	assert_int_equal(kspan_parser_eof(p, 6), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	kspan_parser_free(p);
}

static void test_connect(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	/* Refused: parsing goes on, the request side waits for the next request line. */
	feed_ok(p, REQ, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 1);
	feed_ok(p, REQ, "\x16\x03\x01\x02\x00", 2);
	feed_ok(p, RESP, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
		3);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->x.status, 407);
	assert_string_equal(e->target, "example.com:443");
	assert_string_equal(e->path, "example.com:443");
	feed_ok(p, REQ, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 4);
	feed_ok(p, RESP, "HTTP/1.1 200 Connection Established\r\n\r\n", 5);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(e->x.status, 200);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_UPGRADED);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	feed_ok(p, REQ, "\x16\x03\x01\x02\x00", 6);
	feed_ok(p, RESP, "\x16\x03\x03\x00\x7a", 7);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ fields */

static void test_targets(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	static const struct {
		const char *line, *path, *query;
	} cases[] = {
		{ "GET http://example.com:8080/a/b?x=1#f HTTP/1.1", "/a/b", "x=1" },
		{ "GET http://example.com HTTP/1.1", "", "" },
		{ "GET http://example.com?q HTTP/1.1", "", "q" },
		{ "OPTIONS * HTTP/1.1", "*", "" },
		{ "GET /p? HTTP/1.1", "/p", "" },
		{ "GET /p#frag HTTP/1.1", "/p", "" },
		{ "GET /a:b?c=d?e HTTP/1.1", "/a:b", "c=d?e" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s\r\n\r\n", cases[i].line);
		feed_ok(p, REQ, buf, 1);
		feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
		assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, i)->path, cases[i].path);
		assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, i)->query, cases[i].query);
	}
	kspan_parser_free(p);
}

static void test_fields(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ,
		"GET / HTTP/1.1\r\n"
		"HOST:   spaced.example \t\r\n"
		"host: second.example\r\n"
		"User-Agent: first\r\n"
		" folded continuation\r\n"
		"TraceParent: 00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01\r\n"
		"traceparent: 00-cccccccccccccccccccccccccccccccc-dddddddddddddddd-01\r\n"
		"tracestate: a=1\r\n"
		"X-Empty:\r\n"
		"TraceState: b=2,c=3\n" /* a bare LF ends a line too */
		"\n",
		1);
	feed_ok(p, RESP, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->host, "spaced.example");
	assert_string_equal(e->ua, "first");
	assert_string_equal(e->traceparent,
			    "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01");
	assert_string_equal(e->tracestate, "a=1,b=2,c=3");
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_DUP_TRACEPARENT);
	assert_int_equal(e->x.status, 200);
	assert_int_equal(kspan_parser_stats(p)->fields_dropped, 1);
	kspan_parser_free(p);
}

static void test_credentials_not_copied(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	const char *req = "GET /private HTTP/1.1\r\n"
			  "Authorization: Bearer SECRET-TOKEN-1\r\n"
			  "Cookie: session=SECRET-COOKIE-2\r\n"
			  "Proxy-Authorization: Basic SECRET-3\r\n"
			  "Host: h\r\n\r\n";

	/* Byte at a time: every line passes through the line buffer. */
	feed_bytes(p, REQ, req, strlen(req), 1);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nSet-Cookie: id=SECRET-4\r\nContent-Length: 0\r\n\r\n",
		2);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_null(strstr(r->log, "SECRET"));
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->host, "h");
	kspan_parser_free(p);
}

static void test_long_heads_bounded(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	size_t cap = 64 * 1024, n = 0;
	char *req = malloc(cap);
	struct ev *e;

	/* 20 KiB of padding fields, then the fields we keep and the framing. */
	assert_non_null(req);
	n += sprintf(req + n, "POST /x HTTP/1.1\r\nHost: early\r\n");
	for (int i = 0; n < 20000; i++)
		n += sprintf(req + n, "X-Pad-%d: %0200d\r\n", i, 0);
	n += sprintf(req + n,
		     "User-Agent: late\r\ntraceparent: late\r\nContent-Length: 3\r\n\r\nabc");
	feed_bytes(p, REQ, req, n, 1);
	e = find(r, KSPAN_PEV_REQUEST, 0);
	/* Fields past the kept budget are dropped and counted; framing still applies. */
	assert_string_equal(e->host, "early");
	assert_string_equal(e->ua, "");
	assert_string_equal(e->traceparent, "");
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_FIELDS_DROPPED);
	assert_int_equal(e->x.req_body_bytes, 3);
	assert_int_equal(kspan_parser_stats(p)->fields_dropped, 2);

	/* One 20 KiB field line and a target longer than the kept cap. */
	n = 0;
	n += sprintf(req + n, "GET /");
	memset(req + n, 'a', 3000);
	n += 3000;
	n += sprintf(req + n, "?q HTTP/1.1\r\nX-Big: ");
	memset(req + n, 'b', 20000);
	n += 20000;
	n += sprintf(req + n, "\r\nUser-Agent: after-big\r\n\r\n");
	feed_bytes(p, REQ, req, n, 2);
	e = find(r, KSPAN_PEV_REQUEST, 1);
	assert_int_equal(strlen(e->target), KSPAN_HTTP1_TARGET_MAX);
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_TRUNCATED | KSPAN_HTTP1_F_FIELDS_DROPPED);
	assert_int_equal(e->x.req_version, 11);
	assert_int_equal(kspan_parser_stats(p)->lines_truncated, 1);

	/* A start line longer than the line buffer: method and the kept target, version unknown. */
	n = 0;
	n += sprintf(req + n, "GET /");
	memset(req + n, 'c', 9000);
	n += 9000;
	n += sprintf(req + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	feed_bytes(p, REQ, req, n, 3);
	e = find(r, KSPAN_PEV_REQUEST, 2);
	assert_string_equal(e->method, "GET");
	assert_int_equal(strlen(e->target), KSPAN_HTTP1_TARGET_MAX);
	assert_int_equal(e->x.req_version, 0);
	assert_string_equal(e->host, "h");
	assert_int_equal(e->x.flags, KSPAN_HTTP1_F_TRUNCATED);
	free(req);
	kspan_parser_free(p);
}

/* A line longer than the line buffer is cut the same way in one read as in many. */
static void test_long_line_one_read(void **state)
{
	struct rec *r = *state;
	size_t n = 0;
	char *req = malloc(32768);
	struct kspan_parser *p;
	char *log;

	assert_non_null(req);
	n += sprintf(req + n, "GET /");
	memset(req + n, 'c', 9000);
	n += 9000;
	n += sprintf(req + n, " HTTP/1.1\r\nHost: h\r\nUser-Agent: ");
	memset(req + n, 'u', 9000);
	n += 9000;
	n += sprintf(req + n, "\r\n\r\n");
	p = new_parser(r, 0);
	feed_n(p, REQ, req, n, 1);
	assert_int_equal(kspan_parser_stats(p)->lines_truncated, 2);
	kspan_parser_free(p);
	log = strndup(r->log, r->log_len);
	assert_non_null(log);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 0)->x.req_version, 0);
	/* A cut field line is not kept: its value is not all there. */
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 0)->ua, "");
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 0)->host, "h");
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 0)->x.flags,
			 KSPAN_HTTP1_F_TRUNCATED | KSPAN_HTTP1_F_FIELDS_DROPPED);
	clear(r);
	p = new_parser(r, 0);
	feed_bytes(p, REQ, req, n, 1);
	kspan_parser_free(p);
	assert_int_equal(r->log_len, strlen(log));
	assert_memory_equal(r->log, log, r->log_len);
	free(log);
	free(req);
}

static void test_endless_head_is_not_http(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	char line[1024];
	int rc = 0;

	feed_ok(p, REQ, "GET / HTTP/1.1\r\n", 1);
	memset(line, 'x', sizeof(line) - 3);
	memcpy(line, "X-A: ", 5);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	for (int i = 0; i < 1000 && !rc; i++)
		rc = feed(p, REQ, line, 2);
	assert_int_equal(rc, -EPROTONOSUPPORT);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_NOT_PROTO);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ not HTTP */

static void expect_not_http(struct rec *r, enum kspan_msg_dir dir, const char *bytes, size_t n)
{
	struct kspan_parser *p = new_parser(r, 0);
	int rc = 0;

	clear(r);
	for (size_t i = 0; i < n && !rc; i++)
		rc = feed_n(p, dir, bytes + i, 1, 1);
	if (rc != -EPROTONOSUPPORT)
		fail_msg("\"%.*s\": rc %d, want not HTTP", (int)n, bytes, rc);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_NOT_PROTO);
	/* It stays stopped, in both directions, and reports nothing more. */
	assert_int_equal(feed(p, REQ, "GET / HTTP/1.1\r\n\r\n", 2), -EPROTONOSUPPORT);
	assert_int_equal(feed(p, RESP, OK_RESP, 2), -EPROTONOSUPPORT);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	kspan_parser_free(p);
}

static void test_not_http(void **state)
{
	struct rec *r = *state;
	static const struct {
		enum kspan_msg_dir dir;
		const char *s;
		size_t n;
	} cases[] = {
#define C(d, lit) { d, lit, sizeof(lit) - 1 }
		C(REQ, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"), /* TLS ClientHello */
		C(REQ, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), /* HTTP/2 preface */
		C(REQ, "*1\r\n$4\r\nPING\r\n"), /* RESP (Redis) */
		C(REQ, "\x00\x00\x00\x08\x04\xd2\x16\x2f"), /* PostgreSQL SSLRequest */
		C(REQ, "GET /\r\n"), /* HTTP/0.9 */
		C(REQ, "GET / HTTP/2.0\r\n\r\n"),
		C(REQ, "GET  / HTTP/1.1\r\n"),
		C(REQ, "GET / HTTP/1.1 x\r\n"),
		C(REQ, "G\tT / HTTP/1.1\r\n"),
		C(REQ, "GET / HTTP/1.1\r\nno colon here\r\n\r\n"),
		C(REQ, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
		C(REQ, "GET / HTTP/1.1\r\n: empty name\r\n\r\n"),
		C(REQ, "AVERYLONGMETHODNAMETHATISNOTAMETHOD / HTTP/1.1\r\n"),
		C(RESP, "\x16\x03\x03\x00\x5d\x02"), /* TLS ServerHello */
		C(RESP, "HTTP/2 200\r\n"),
		C(RESP, "HTTP/1.1 20 OK\r\n"),
		C(RESP, "HTTP/1.1 099 Low\r\n"),
		C(RESP, "HTTP/1.1 200OK\r\n"),
		C(RESP, "+OK\r\n"),
		C(RESP, "HTTP/1.1\r\n"),
#undef C
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_not_http(r, cases[i].dir, cases[i].s, cases[i].n);
}

static void test_not_http_found_early(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	/* The first byte decides: no waiting for a line end that binary traffic never sends. */
	assert_int_equal(feed_n(p, REQ, "\x16", 1, 1), -EPROTONOSUPPORT);
	kspan_parser_free(p);
	p = new_parser(r, 0);
	assert_int_equal(feed_n(p, RESP, "HTTP/3", 6, 1), -EPROTONOSUPPORT);
	kspan_parser_free(p);
}

static void test_bad_framing_fields(void **state)
{
	struct rec *r = *state;
	static const char *const reqs[] = {
		"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	};
	struct kspan_parser *p;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		p = new_parser(r, 0);
		assert_int_equal(feed(p, REQ, reqs[i], 1), -EBADMSG);
		assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
		kspan_parser_free(p);
	}
	/* Repeated equal values are one value (RFC 9110 8.6). */
	p = new_parser(r, 0);
	clear(r);
	feed_ok(p, REQ, "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab",
		1);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 0)->x.req_body_bytes, 2);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ gaps */

static int feed_gap(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, size_t len,
		    uint64_t ts)
{
	return kspan_parser_feed(p, dir, (const uint8_t *)s, strlen(s), len, ts);
}

static void test_gap_in_body(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	char head[128];
	struct ev *e;

	feed_ok(p, REQ, "GET /big HTTP/1.1\r\n\r\n", 1);
	/* One syscall of 10 KiB of which 4 KiB were captured... */
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 20000);
	assert_int_equal(feed_gap(p, RESP, head, 10240, 2), 0);
	/* ... then bytes not captured at all... */
	assert_int_equal(kspan_parser_feed(p, RESP, NULL, 0, 8000, 3), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	/* ... and the last bytes, captured, with the next response behind them. */
	feed_ok(p, RESP, "", 4);
	{
		size_t rest = 20000 - (10240 - strlen(head)) - 8000;
		char *tail = malloc(rest + 64);

		assert_non_null(tail);
		memset(tail, 'z', rest);
		strcpy(tail + rest, "HTTP/1.1 204 No Content\r\n\r\n");
		feed_ok(p, REQ, "GET /next HTTP/1.1\r\n\r\n", 4);
		feed_ok(p, RESP, tail, 5);
		free(tail);
	}
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->x.resp_body_bytes, 20000);
	assert_int_equal(e->x.resp_bytes, strlen(head) + 20000);
	assert_int_equal(e->resp_last, 5);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/next");
	assert_int_equal(e->x.status, 204);
	assert_int_equal(kspan_parser_stats(p)->gap_bytes, 10240 - strlen(head) + 8000);

	/* A gap that ends a Content-Length body exactly, in the request direction. */
	clear(r);
	{
		const char *put = "PUT /f HTTP/1.1\r\nContent-Length: 100\r\n\r\n";

		assert_int_equal(feed_gap(p, REQ, put, strlen(put) + 100, 6), 0);
	}
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(e->x.req_body_bytes, 100);
	assert_int_equal(e->req_last, 6);
	assert_int_equal(e->flags, 0);
	kspan_parser_free(p);
}

static void test_gap_in_chunked_body(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1);
	/* A gap inside chunk data keeps the framing. */
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2);
	assert_int_equal(feed_gap(p, RESP, "1000\r\nab", 6 + 0x1000, 3), 0);
	feed_ok(p, RESP, "\r\n0\r\n\r\n", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->x.resp_body_bytes, 0x1000);
	/* A gap running past the chunk's end loses the framing: reported, then resync. */
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 5);
	assert_int_equal(feed_gap(p, RESP, "10\r\n", 4 + 0x10 + 20, 6), 0);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/2");
	assert_int_equal(e->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(e->resp_last, 6);
	/* Out of sync: the rest of that read's stream is skipped... */
	feed_ok(p, RESP, "more data\r\n0\r\n\r\n", 7);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	/* ... until a read starts with a response. */
	feed_ok(p, REQ, "GET /3 HTTP/1.1\r\n\r\n", 8);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 9);
	e = find(r, KSPAN_PEV_EXCHANGE, 2);
	assert_string_equal(e->path, "/3");
	assert_int_equal(e->flags, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 1);
	/* The gap's 20 bytes past the chunk, and the 16 of the next read. */
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 36);
	kspan_parser_free(p);
}

static void test_gap_in_headers(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	/* Request head cut by the capture: the request is kept (incomplete) and answered. */
	assert_int_equal(feed_gap(p, REQ, "GET /cut HTTP/1.1\r\nHost: h\r\nX-Long: aaaa", 9000, 1),
			 0);
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);
	assert_string_equal(e->host, "h");
	/* The response head is cut too: reported with what is known. */
	assert_int_equal(feed_gap(p, RESP, "HTTP/1.1 502 Bad Gateway\r\nServer: x", 9000, 2), 0);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->path, "/cut");
	assert_int_equal(e->x.status, 502);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE | KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	/* Both directions find their place again at the next message. */
	feed_ok(p, REQ, "rest of the big head\r\n\r\n", 3);
	feed_ok(p, RESP, "tail of the response", 3);
	feed_ok(p, REQ, "GET /ok HTTP/1.1\r\n\r\n", 4);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 5);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/ok");
	assert_int_equal(e->flags, 0);
	/* A gap inside a start line: the partial request is dropped. */
	clear(r);
	assert_int_equal(feed_gap(p, REQ, "GET /aaaa", 9000, 6), 0);
	feed_ok(p, RESP, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 7);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	assert_int_equal(e->x.status, 400);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 1);
	kspan_parser_free(p);
}

static void test_resync_drops_stale_requests(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct ev *e;

	feed_ok(p, REQ, "GET /1 HTTP/1.1\r\n\r\n", 1);
	/* The response to /1 loses its place... */
	assert_int_equal(feed_gap(p, RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
				  100, 2),
			 0);
	/* ... a later request is sent, and the next response read starts a response. */
	feed_ok(p, REQ, "GET /2 HTTP/1.1\r\n\r\n", 3);
	feed_ok(p, RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 4);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->path, "/1");
	assert_int_equal(e->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(e->x.status, 200);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/2");
	assert_int_equal(e->x.status, 201);
	/* A gap past the end of a body: the body is complete, the next message unknown. */
	clear(r);
	feed_ok(p, REQ, "GET /3 HTTP/1.1\r\n\r\n", 5);
	assert_int_equal(feed_gap(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 300, 6),
			 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->flags, 0);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->x.resp_body_bytes, 10);
	/* Two requests wait when the response side resyncs: the older one's response was in
	 * the lost bytes, so it is reported unanswered and the newer one gets the response. */
	feed_ok(p, REQ, "GET /4 HTTP/1.1\r\n\r\nGET /5 HTTP/1.1\r\n\r\n", 7);
	feed_ok(p, RESP, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", 8);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 3);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->path, "/4");
	assert_int_equal(e->flags, KSPAN_PEF_NO_RESPONSE);
	e = find(r, KSPAN_PEV_EXCHANGE, 2);
	assert_string_equal(e->path, "/5");
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->x.status, 202);
	assert_int_equal(kspan_parser_stats(p)->unanswered, 1);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ mid-stream */

static void test_midstream(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	struct ev *e;

	/* The tail of a response and of a request body: skipped silently. */
	feed_ok(p, RESP, "...end of a body</html>", 1);
	feed_ok(p, REQ, "x=1&y=2", 1);
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	/* A response to a request never seen. */
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	assert_int_equal(e->x.status, 200);
	assert_string_equal(e->method, "");
	assert_int_equal(e->req_first, 0);
	/* Then ordinary exchanges. */
	feed_ok(p, REQ, "GET /next HTTP/1.1\r\n\r\n", 3);
	feed_ok(p, RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(e->flags, 0);
	assert_string_equal(e->path, "/next");

	/* A resync guess that turns out wrong is not fatal: body bytes starting "GET ". */
	kspan_parser_reset(p, KSPAN_PARSER_MIDSTREAM);
	clear(r);
	feed_ok(p, REQ, "GET /milk", 5);
	feed_ok(p, REQ, "\x01\x02 and eggs\r\n", 5);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 0);
	feed_ok(p, REQ, "POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 6);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	kspan_parser_free(p);
}

static void test_midstream_lost_after_budget(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	int rc = 0;

	/* Never a message start: the connection is given up after the skip budget. */
	for (int i = 0; i < 1000 && !rc; i++)
		rc = kspan_parser_feed(p, REQ, (const uint8_t *)"zz", 2, 1 << 16, 1);
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
	assert_true(kspan_parser_stats(p)->skipped_bytes > KSPAN_HTTP1_RESYNC_MAX);
	kspan_parser_free(p);
}

static void test_pipeline_limit(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	int rc = 0, i;

	for (i = 0; i <= KSPAN_HTTP1_PIPELINE_MAX && !rc; i++)
		rc = feed(p, REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(i, KSPAN_HTTP1_PIPELINE_MAX + 1);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ API */

static void test_detect(void **state)
{
	static const struct {
		const char *s;
		int conf;
		enum kspan_msg_dir dir;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 100, REQ },
		{ "DELETE /a HTTP/1.0\n", 100, REQ },
		{ "FROB /a HTTP/1.1\r\n", 80, REQ },
		{ "GET /partial-line", 70, REQ },
		{ "POST ", 70, REQ },
		{ "FROB /a", 0, REQ },
		{ "GET", 0, REQ },
		{ "HTTP/1.1 200 OK\r\n", 100, RESP },
		{ "HTTP/1.0 404\r\n", 100, RESP },
		{ "HTTP/1.1 200 OK", 90, RESP },
		{ "HTTP/1.1 2", 50, RESP },
		{ "HTTP/", 50, RESP },
		{ "HTTP", 0, RESP },
		{ "HTTP/2 200\r\n", 0, RESP },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, REQ },
		{ "GET / HTTP/1.1 \r\n", 0, REQ },
		{ "\x16\x03\x01", 0, REQ },
		{ "", 0, REQ },
	};
	enum kspan_msg_dir dir;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int c;

		dir = 99;
		c = kspan_http1_detect((const uint8_t *)cases[i].s, strlen(cases[i].s), &dir);
		if (c != cases[i].conf)
			fail_msg("detect(\"%s\") = %d, want %d", cases[i].s, c, cases[i].conf);
		if (c)
			assert_int_equal(dir, cases[i].dir);
		else
			assert_int_equal(dir, 99);
	}
	assert_int_equal(kspan_http1_detect(NULL, 5, NULL), 0);
	assert_ptr_equal(kspan_http1_parser_ops.detect, kspan_http1_detect);
}

static void test_api_errors(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p;

	errno = 0;
	assert_null(kspan_parser_new(&kspan_http1_parser_ops, on_event, r, 0x80));
	assert_int_equal(errno, EINVAL);
	kspan_parser_free(NULL);
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"GET", 3, 2, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, 7, (const uint8_t *)"GET", 3, 3, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 1, 1, 1), -EINVAL);
	/* Empty reads are fine. */
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 0, 0, 1), 0);
	assert_int_equal(r->n, 0);
	/* Reset forgets pending requests without reporting them. */
	feed_ok(p, REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	kspan_parser_reset(p, 0);
	assert_int_equal(kspan_parser_eof(p, 2), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	kspan_parser_free(p);
	/* A parser without a callback still parses. */
	p = kspan_parser_new(&kspan_http1_parser_ops, NULL, NULL, 0);
	assert_non_null(p);
	feed_ok(p, REQ, GET_REQ, 1);
	feed_ok(p, RESP, OK_RESP, 2);
	assert_int_equal(kspan_parser_stats(p)->exchanges, 1);
	kspan_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_simple_exchange),
		T(test_timestamps_across_reads),
		T(test_keepalive_pipelining),
		T(test_splits_give_same_events),
		T(test_byte_at_a_time_exchange),
		T(test_expect_100_continue),
		T(test_early_response),
		T(test_no_body_statuses),
		T(test_interim_responses),
		T(test_chunked_details),
		T(test_chunk_size_overflow),
		T(test_close_delimited),
		T(test_eof_reports_the_rest),
		T(test_upgrade),
		T(test_connect),
		T(test_targets),
		T(test_fields),
		T(test_credentials_not_copied),
		T(test_long_heads_bounded),
		T(test_long_line_one_read),
		T(test_endless_head_is_not_http),
		T(test_not_http),
		T(test_not_http_found_early),
		T(test_bad_framing_fields),
		T(test_gap_in_body),
		T(test_gap_in_chunked_body),
		T(test_gap_in_headers),
		T(test_resync_drops_stale_requests),
		T(test_midstream),
		T(test_midstream_lost_after_budget),
		T(test_pipeline_limit),
		T(test_detect),
		T(test_api_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
