// SPDX-License-Identifier: Apache-2.0
/*
 * Whole traces on the real kernel: the demo services (examples/quote_service
 * calling examples/rates_service over HTTP, both with USDT business steps)
 * traced by build/kspan --pid, exporting over OTLP/HTTP to the test receiver.
 * Checks exact trees (trace ids, parent ids, kinds, names, attributes,
 * events, status, times nested): SERVER > INTERNAL (three deep) > CLIENT >
 * the downstream SERVER > its INTERNAL span; a failing step's exception; an
 * incoming traceparent continued and an invalid one ignored; 48 concurrent
 * requests on 8 connections never cross-linked; and the services answering
 * the same with and without the agent attached.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent_run.h"

#define LINE_MS 15000
#define EXIT_MS 20000 /* the agent's exit detaches uprobes: ~0.1 s each in the kernel */
#define SPANS_MS 10000
#define MAX_SPANS 1024
#define RUN_INTERNAL 1

/* Skus ending in an even digit are discounted: one more "round to cents" span. */
static bool discounted(const char *sku)
{
	char last = sku[strlen(sku) - 1];

	return last >= '0' && last <= '9' && (last - '0') % 2 == 0;
}

/* The spans of one quote: 9, or 10 when discounted. */
static size_t quote_spans(const char *sku)
{
	return discounted(sku) ? 10 : 9;
}

static char build[256];

static struct {
	struct otlp_receiver *r;
	struct run_child rates, quote, agent;
	uint16_t quote_port;
	char before_sku1[512]; /* the response to /quote/sku-1?qty=3 before the agent attached */
	struct run_span spans[MAX_SPANS];
	size_t n;
} g;

/* ---- the services and the agent ---- */

static uint16_t port_of(struct run_child *c)
{
	char line[128];

	assert_true(run_wait_line(c->out, "port ", line, sizeof(line), LINE_MS));
	return (uint16_t)atoi(line + 5);
}

/* GET @path with @headers on a new connection; the response's body into @body. */
static void get(const char *path, const char *headers, char *body, size_t size)
{
	char req[1024], buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd = run_connect(g.quote_port);

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: quote\r\nConnection: close\r\n%s\r\n",
		 path, headers ? headers : "");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	len = len < size - 1 ? len : size - 1;
	memcpy(body, buf, len);
	body[len] = '\0';
}

static int setup(void **state)
{
	char bin[300], kspan[300], quote_pid[16], rates_pid[16], rates_port[16], endpoint[128];
	char line[512];

	(void)state;
	g.r = otlp_receiver_start();
	assert_non_null(g.r);
	snprintf(bin, sizeof(bin), "%s/examples/rates_service", build);
	char *rargv[] = { bin, "--port", "0", NULL };
	const char *renv[] = { "OTEL_SERVICE_NAME=rates-service", NULL };
	g.rates = run_spawn(rargv, renv, RUN_STDOUT);
	snprintf(rates_port, sizeof(rates_port), "%u", port_of(&g.rates));

	snprintf(bin, sizeof(bin), "%s/examples/quote_service", build);
	char *qargv[] = { bin, "--port", "0", "--rates-port", rates_port, NULL };
	const char *qenv[] = { "OTEL_SERVICE_NAME=quote-service", NULL };
	g.quote = run_spawn(qargv, qenv, RUN_STDOUT);
	g.quote_port = port_of(&g.quote);

	/* With USDT probes compiled in and nothing attached, the service just works. */
	get("/quote/sku-1?qty=3", NULL, g.before_sku1, sizeof(g.before_sku1));
	assert_non_null(strstr(g.before_sku1, "200 OK"));

	snprintf(kspan, sizeof(kspan), "%s/kspan", build);
	snprintf(quote_pid, sizeof(quote_pid), "%d", g.quote.pid);
	snprintf(rates_pid, sizeof(rates_pid), "%d", g.rates.pid);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(g.r));
	char *kargv[] = { kspan, "--pid", quote_pid, "--pid", rates_pid, "--no-stats", NULL };
	const char *kenv[] = { endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", NULL };
	g.agent = run_spawn(kargv, kenv, RUN_STDERR);
	snprintf(line, sizeof(line), "usdt: pid %d: 9 otel probes", g.quote.pid);
	assert_true(run_wait_line(g.agent.out, line, line, sizeof(line), LINE_MS));
	assert_true(run_wait_line(g.agent.out, "kspan: tracing 2 processes", line, sizeof(line),
				  LINE_MS));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kill(g.agent.pid, SIGTERM);
	run_expect_exit0(&g.agent, EXIT_MS);
	run_kill_all(NULL);
	fclose(g.quote.out);
	fclose(g.rates.out);
	otlp_receiver_stop(g.r);
	return 0;
}

/* ---- spans and trees ---- */

static bool same_id(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && a->len && !memcmp(a->data, b->data, a->len);
}

static const otlp_span_pb *quote_root(const char *path)
{
	for (size_t i = 0; i < g.n; i++) {
		const otlp_span_pb *s = g.spans[i].span;
		const char *p = run_attr_str(s, "url.path");

		if ((int)s->kind == RUN_SERVER && p && !strcmp(p, path) &&
		    !strcmp(run_res_str(&g.spans[i], "service.name"), "quote-service"))
			return s;
	}
	return NULL;
}

static size_t trace_size(const otlp_span_pb *root)
{
	size_t n = 0;

	for (size_t i = 0; i < g.n; i++)
		n += same_id(&g.spans[i].span->trace_id, &root->trace_id);
	return n;
}

/* The trace of the quote-service request for @path, once its @size spans arrived. */
static const otlp_span_pb *wait_trace(const char *path, size_t size)
{
	const otlp_span_pb *root = NULL;

	for (int waited = 0; waited < SPANS_MS; waited += 50) {
		g.n = run_spans(g.r, g.spans, MAX_SPANS);
		root = quote_root(path);
		if (root && trace_size(root) >= size)
			break;
		usleep(50 * 1000);
	}
	if (!root)
		fail_msg("no SERVER span for %s", path);
	/* a little longer: a span too many would show */
	usleep(200 * 1000);
	g.n = run_spans(g.r, g.spans, MAX_SPANS);
	if (trace_size(root) != size) {
		for (size_t i = 0; i < g.n; i++) {
			const otlp_span_pb *s = g.spans[i].span;

			if (same_id(&s->trace_id, &root->trace_id))
				fprintf(stderr, "  %s kind %d span %02x%02x parent %02x%02x path %s\n",
					s->name, (int)s->kind, s->span_id.data[0], s->span_id.data[1],
					s->parent_span_id.len ? s->parent_span_id.data[0] : 0,
					s->parent_span_id.len ? s->parent_span_id.data[1] : 0,
					run_attr_str(s, "url.path") ? run_attr_str(s, "url.path") : "-");
		}
		fail_msg("the trace of %s has %zu spans, want %zu", path, trace_size(root), size);
	}
	return root;
}

/* The one span of @parent's trace named @name of @kind whose parent is @parent. */
static struct run_span child(const otlp_span_pb *parent, const char *name, int kind)
{
	struct run_span found = { 0 };
	int matches = 0;

	for (size_t i = 0; i < g.n; i++) {
		const otlp_span_pb *s = g.spans[i].span;

		if (same_id(&s->trace_id, &parent->trace_id) &&
		    same_id(&s->parent_span_id, &parent->span_id) && !strcmp(s->name, name) &&
		    (int)s->kind == kind) {
			found = g.spans[i];
			matches++;
		}
	}
	if (matches != 1) {
		run_dump(g.spans, g.n);
		fail_msg("%d children named %s (kind %d) under %s", matches, name, kind,
			 parent->name);
	}
	/* a child lies inside its parent */
	assert_true(found.span->start_time_unix_nano >= parent->start_time_unix_nano);
	assert_true(found.span->end_time_unix_nano <= parent->end_time_unix_nano);
	return found;
}

static int status_code(const otlp_span_pb *s)
{
	return s->status ? (int)s->status->code : 0;
}

/* A quote's whole tree; @sku and @qty as requested, @failing for the discount error. */
static void check_quote_tree(const otlp_span_pb *root, const char *sku, int qty, bool failing)
{
	/* id-like skus ("sku-1") become {id} in names, words ("sku-err") stay */
	bool id = strpbrk(sku, "0123456789");
	char path[64], quote_name[64], rates_name[64];

	snprintf(quote_name, sizeof(quote_name), "GET /quote/%s", id ? "{id}" : sku);
	snprintf(rates_name, sizeof(rates_name), "GET /rates/%s", id ? "{id}" : sku);
	assert_int_equal(root->parent_span_id.len, 0);
	assert_string_equal(root->name, quote_name);
	assert_int_equal(run_attr_int(root, "http.response.status_code"), failing ? 502 : 200);
	assert_int_equal(status_code(root), failing ? 2 : 0);

	struct run_span load = child(root, "load pricing factors", RUN_INTERNAL);
	assert_string_equal(run_attr_str(load.span, "quote.sku"), sku);
	assert_int_equal(run_attr_int(load.span, "quote.qty"), qty);
	assert_string_equal(run_res_str(&load, "service.name"), "quote-service");

	struct run_span compute = child(root, "compute price", RUN_INTERNAL);
	struct run_span client = child(compute.span, rates_name, RUN_CLIENT);
	snprintf(path, sizeof(path), "/rates/%s", sku);
	assert_int_equal(run_attr_int(client.span, "http.response.status_code"), 200);
	struct run_span rates = child(client.span, rates_name, RUN_SERVER);
	assert_string_equal(run_attr_str(rates.span, "url.path"), path);
	assert_string_equal(run_res_str(&rates, "service.name"), "rates-service");
	assert_int_equal(rates.span->flags & 0x300, 0x300); /* parent in another process */
	struct run_span lookup = child(rates.span, "lookup rate", RUN_INTERNAL);
	assert_string_equal(run_attr_str(lookup.span, "rates.sku"), sku);
	/* three USDT spans deep: compute price > apply volume tiers > round to cents */
	struct run_span tiers = child(compute.span, "apply volume tiers", RUN_INTERNAL);
	child(tiers.span, "round to cents", RUN_INTERNAL);

	struct run_span discount = child(root, "apply discount", RUN_INTERNAL);
	assert_true(discount.span->n_events >= 1);
	assert_string_equal(discount.span->events[0]->name, "discount looked up");
	if (failing) {
		assert_int_equal(status_code(discount.span), 2);
		assert_string_equal(discount.span->status->message, "discount lookup failed");
		assert_int_equal(discount.span->n_events, 2);
		assert_string_equal(discount.span->events[1]->name, "exception");
		assert_int_equal(discount.span->events[1]->n_attributes, 2);
		assert_string_equal(discount.span->events[1]->attributes[0]->value->string_value,
				    "DiscountError");
	} else {
		assert_int_equal(status_code(discount.span), 0);
		assert_int_equal(discount.span->n_events, 1);
		if (discounted(sku))
			child(discount.span, "round to cents", RUN_INTERNAL);
	}
}

/* ---- tests ---- */

static void test_quote_tree(void **state)
{
	char body[512];

	(void)state;
	get("/quote/sku-1?qty=3", NULL, body, sizeof(body));
	/* the agent changes nothing the service does */
	assert_string_equal(body, g.before_sku1);
	check_quote_tree(wait_trace("/quote/sku-1", quote_spans("sku-1")), "sku-1", 3, false);
}

static void test_failing_step(void **state)
{
	char body[512];

	(void)state;
	get("/quote/sku-err?qty=1", NULL, body, sizeof(body));
	assert_non_null(strstr(body, "502"));
	check_quote_tree(wait_trace("/quote/sku-err", quote_spans("sku-err")), "sku-err", 1, true);
}

static void test_traceparent_continued(void **state)
{
	static const uint8_t trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					   0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	const otlp_span_pb *root;
	char body[512];

	(void)state;
	get("/quote/sku-2?qty=5",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	    "tracestate: vendor=abc\r\n",
	    body, sizeof(body));
	root = wait_trace("/quote/sku-2", quote_spans("sku-2"));
	assert_memory_equal(root->trace_id.data, trace, 16);
	assert_int_equal(root->parent_span_id.len, 8);
	assert_memory_equal(root->parent_span_id.data, parent, 8);
	assert_int_equal(root->flags & 0x300, 0x300);
	assert_string_equal(root->trace_state, "vendor=abc");
	/* the whole tree below it, in the caller's trace */
	struct run_span load = child(root, "load pricing factors", RUN_INTERNAL);
	assert_string_equal(load.span->trace_state, "vendor=abc");
	child(child(child(root, "compute price", RUN_INTERNAL).span, "GET /rates/{id}",
		    RUN_CLIENT)
		      .span,
	      "GET /rates/{id}", RUN_SERVER);
}

static void test_invalid_traceparent_ignored(void **state)
{
	const otlp_span_pb *root;
	char body[512];

	(void)state;
	/* all-zero trace id: invalid, so the request starts a new trace */
	get("/quote/sku-3?qty=1",
	    "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n", body,
	    sizeof(body));
	root = wait_trace("/quote/sku-3", quote_spans("sku-3"));
	check_quote_tree(root, "sku-3", 1, false);
}

struct worker {
	int id;
	int failures;
};

/* One connection, keep-alive, six quotes in a row, each for its own sku. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char req[256], buf[4096];
	int fd = run_connect_try(g.quote_port);

	if (fd < 0) {
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < 6; i++) {
		size_t len = 0;
		ssize_t n;

		snprintf(req, sizeof(req), "GET /quote/sku-%d?qty=%d HTTP/1.1\r\nHost: q\r\n\r\n",
			 100 + w->id * 10 + i, w->id + 1);
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
			w->failures++;
			break;
		}
		/* the JSON body ends the response */
		while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "}"))
				break;
		}
		if (!strstr(buf, "200 OK"))
			w->failures++;
	}
	close(fd);
	return NULL;
}

static void test_concurrent_requests_not_cross_linked(void **state)
{
	pthread_t threads[8];
	struct worker workers[8];
	char path[64], sku[32];

	(void)state;
	for (int i = 0; i < 8; i++) {
		workers[i] = (struct worker){ .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(workers[i].failures, 0);
	}
	for (int w = 0; w < 8; w++)
		for (int i = 0; i < 6; i++) {
			snprintf(sku, sizeof(sku), "sku-%d", 100 + w * 10 + i);
			snprintf(path, sizeof(path), "/quote/%s", sku);
			/* every trace whole, each span carrying its own request's sku */
			check_quote_tree(wait_trace(path, quote_spans(sku)), sku, w + 1, false);
		}
}

/* With no collector, the agent prints the trees on stdout. */
static void test_console_trees(void **state)
{
	char kspan[300], quote_pid[16], rates_pid[16], line[1024], body[512];
	bool server = false, client = false, deep = false;

	(void)state;
	snprintf(kspan, sizeof(kspan), "%s/kspan", build);
	snprintf(quote_pid, sizeof(quote_pid), "%d", g.quote.pid);
	snprintf(rates_pid, sizeof(rates_pid), "%d", g.rates.pid);
	char *argv[] = { kspan, "--pid", quote_pid, "--pid", rates_pid, "--no-stats", NULL };
	struct run_child console = run_spawn(argv, NULL, RUN_STDOUT);

	/* Its log goes to stderr, which this test inherits: wait for the probes to fire. */
	for (int i = 0; i < 100 && !client; i++) {
		get("/quote/sku-5?qty=2", NULL, body, sizeof(body));
		client = run_wait_line(console.out, "CLIENT GET /rates/{id}", line, sizeof(line),
				       200);
	}
	assert_true(client);
	assert_true(run_wait_line(console.out, "SERVER GET /rates/{id} [rates-service]", line,
				  sizeof(line), LINE_MS));
	assert_non_null(strstr(line, "│  │  └─ SERVER")); /* under the CLIENT, under compute */
	assert_true(run_wait_line(console.out, "INTERNAL round to cents", line, sizeof(line),
				  LINE_MS));
	deep = strstr(line, "│     └─ INTERNAL round to cents") != NULL;
	assert_true(deep);
	assert_true(run_wait_line(console.out, "INTERNAL apply discount", line, sizeof(line),
				  LINE_MS));
	server = strstr(line, "   └─ INTERNAL apply discount") != NULL;
	assert_true(server);
	kill(console.pid, SIGTERM);
	run_expect_exit0(&console, EXIT_MS);
}

int main(void)
{
	const char *b = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_tree),
		cmocka_unit_test(test_failing_step),
		cmocka_unit_test(test_traceparent_continued),
		cmocka_unit_test(test_invalid_traceparent_ignored),
		cmocka_unit_test(test_concurrent_requests_not_cross_linked),
		cmocka_unit_test(test_console_trees),
	};

	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
