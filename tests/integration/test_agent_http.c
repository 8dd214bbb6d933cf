// SPDX-License-Identifier: Apache-2.0
/*
 * End to end on the real kernel: build/kspan attached by --pid to the test
 * HTTP server (tests/servers/http_server) and by --exe to curl, exporting over
 * OTLP/HTTP to the test receiver. Checks the exact spans: SERVER spans with
 * route, status and sizes for keep-alive, pipelined, chunked, 404 and 500
 * exchanges (a connection opened before the agent started included), a
 * CLIENT span from curl, per-process resources (service.name from the
 * target's OTEL_SERVICE_NAME), no span for bytes that are not HTTP, and a
 * clean exit on SIGTERM.
 */
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

/* Bounds for lines and exits: generous, a loaded machine is slow, a hang is not. */
#define LINE_MS 15000
#define EXIT_MS 10000

static char build[256];

static void check_server(struct run_span f, const char *path, int64_t status, int64_t body,
			 bool error)
{
	const otlp_span_pb *s = f.span;

	assert_string_equal(run_attr_str(s, "http.request.method"), "GET");
	assert_string_equal(run_attr_str(s, "url.path"), path);
	assert_int_equal(run_attr_int(s, "http.response.status_code"), status);
	assert_int_equal(run_attr_int(s, "http.response.body.size"), body);
	assert_string_equal(run_attr_str(s, "client.address"), "127.0.0.1");
	assert_true(s->start_time_unix_nano < s->end_time_unix_nano);
	assert_int_equal(s->status ? (int)s->status->code : 0, error ? 2 : 0);
	assert_string_equal(run_res_str(&f, "service.name"), "shop-api");
	assert_string_equal(run_res_str(&f, "telemetry.distro.name"), "kspan");
}

static void test_agent_http_spans(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char server_bin[300], kspan_bin[300], line[1024], endpoint[128], pid_arg[16], curl_url[128];
	struct run_span spans[64];
	uint16_t port;
	int early, fd;

	assert_non_null(r);
	snprintf(server_bin, sizeof(server_bin), "%s/tests/servers/http_server", build);
	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	char *sargv[] = { server_bin, "0", NULL };
	const char *senv[] = { "OTEL_SERVICE_NAME=shop-api", NULL };
	struct run_child server = run_spawn(sargv, senv, RUN_STDOUT);
	assert_true(run_wait_line(server.out, "port ", line, sizeof(line), LINE_MS));
	port = (uint16_t)atoi(line + 5);

	/* A connection the server accepted before the agent started. */
	early = run_connect(port);
	run_exchange(early, "GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n", "{\"id\":\"1\"}");

	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(r));
	snprintf(pid_arg, sizeof(pid_arg), "%d", server.pid);
	char *kargv[] = { kspan_bin, "--pid", pid_arg, "--exe", "/usr/bin/curl", "--no-stats",
			  NULL };
	const char *kenv[] = { endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", NULL };
	struct run_child agent = run_spawn(kargv, kenv, RUN_STDERR);
	assert_true(run_wait_line(agent.out, "kspan: tracing", line, sizeof(line), LINE_MS));

	run_exchange(early, "GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n", "{\"id\":\"2\"}");
	fd = run_connect(port);
	/* keep-alive, then two pipelined requests in one write */
	/* a caller's W3C context: the SERVER span continues its trace */
	run_exchange(fd,
		     "GET /users/42 HTTP/1.1\r\nHost: shop\r\nUser-Agent: t/1\r\n"
		     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
		     "\"42\"}");
	run_exchange(fd,
		     "GET /fail HTTP/1.1\r\nHost: shop\r\n\r\n"
		     "GET /chunked HTTP/1.1\r\nHost: shop\r\n\r\n",
		     "0\r\n\r\n");
	run_exchange(fd, "GET /missing HTTP/1.1\r\nHost: shop\r\n\r\n", "not found");
	close(fd);
	/* Not HTTP: the server hangs up, no span. */
	fd = run_connect(port);
	assert_int_equal(write(fd, "\x16\x03\x01 hello, not http\r\n\r\n", 24), 24);
	assert_int_equal(read(fd, line, sizeof(line)), 0);
	close(fd);
	/* curl, started after the agent, traced through --exe: a CLIENT span. */
	snprintf(curl_url, sizeof(curl_url), "http://127.0.0.1:%u/users/99", port);
	char *cargv[] = { "/usr/bin/curl", "-s", "-o", "/dev/null", curl_url, NULL };
	struct run_child curl = run_spawn(cargv, NULL, RUN_STDOUT);
	run_expect_exit0(&curl, EXIT_MS);

	/* 6 SERVER spans (1 on the early connection, 4 on the second, 1 from curl) + 1 CLIENT. */
	run_wait_spans(r, 7, 5000);
	kill(agent.pid, SIGTERM);
	run_expect_exit0(&agent, EXIT_MS);
	size_t n = run_spans(r, spans, 64);
	run_dump(spans, n);
	assert_int_equal(n, 7);

	struct run_span f = run_find(spans, n, "GET /users/{id}", RUN_SERVER, 0);
	check_server(f, "/users/2", 200, 10, false); /* the early connection, seen mid-stream */
	f = run_find(spans, n, "GET /users/{id}", RUN_SERVER, 1);
	check_server(f, "/users/42", 200, 11, false);
	assert_string_equal(run_attr_str(f.span, "user_agent.original"), "t/1");
	static const uint8_t caller_trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
						  0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t caller_span[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	assert_int_equal(f.span->trace_id.len, 16);
	assert_memory_equal(f.span->trace_id.data, caller_trace, 16);
	assert_int_equal(f.span->parent_span_id.len, 8);
	assert_memory_equal(f.span->parent_span_id.data, caller_span, 8);
	assert_int_equal(f.span->flags & 0x300, 0x300); /* the parent is remote */
	/* without a traceparent: a new trace, no parent */
	assert_int_equal(run_find(spans, n, "GET /fail", RUN_SERVER, 0).span->parent_span_id.len, 0);
	check_server(run_find(spans, n, "GET /fail", RUN_SERVER, 0), "/fail", 500, 5, true);
	check_server(run_find(spans, n, "GET /chunked", RUN_SERVER, 0), "/chunked", 200, 15,
		     false);
	check_server(run_find(spans, n, "GET /missing", RUN_SERVER, 0), "/missing", 404, 9,
		     false);
	check_server(run_find(spans, n, "GET /users/{id}", RUN_SERVER, 2), "/users/99", 200, 11,
		     false);
	f = run_find(spans, n, "GET /users/{id}", RUN_CLIENT, 0);
	assert_string_equal(run_attr_str(f.span, "url.full"), curl_url);
	assert_int_equal(run_attr_int(f.span, "server.port"), port);
	assert_int_equal(run_attr_int(f.span, "http.response.status_code"), 200);
	assert_string_equal(run_res_str(&f, "service.name"), "curl");
	assert_int_equal(run_res_int(&f, "process.pid"), curl.pid);

	close(early);
	kill(server.pid, SIGKILL);
	assert_int_not_equal(run_wait_exit(&server, EXIT_MS), -1);
	fclose(server.out);
	otlp_receiver_stop(r);
}

/* kspan with @arg: a message naming @what on stderr and a non-zero exit. */
static void expect_refused(const char *flag, const char *arg, const char *what)
{
	char kspan_bin[300], line[512];
	int status;

	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	char *argv[] = { kspan_bin, (char *)flag, (char *)arg, NULL };
	struct run_child c = run_spawn(argv, NULL, RUN_STDERR);
	assert_true(run_wait_line(c.out, what, line, sizeof(line), LINE_MS));
	status = run_wait_exit(&c, EXIT_MS);
	assert_true(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0);
	fclose(c.out);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	expect_refused("--pid", "999999999", "999999999");
	expect_refused("--port", "70000", "70000");
}

int main(void)
{
	const char *b = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_agent_http_spans, run_kill_all),
		cmocka_unit_test_teardown(test_bad_arguments, run_kill_all),
	};

	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
