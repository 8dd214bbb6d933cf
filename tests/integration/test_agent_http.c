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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "otlp_receiver.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_pb;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans rs_pb;

static char build[256];
/* Children to kill if a test fails half-way, so nothing outlives the test. */
static pid_t children[8];
static size_t n_children;

struct child {
	pid_t pid;
	FILE *out; /* the child's stdout (server) or stderr (agent) */
};

/* Start argv with extra environment; capture stdout (or stderr) through a pipe. */
static struct child spawn(char *const argv[], const char *const *env, bool capture_stderr)
{
	struct child c = { 0 };
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		dup2(fds[1], capture_stderr ? 2 : 1);
		close(fds[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	c.out = fdopen(fds[0], "r");
	if (n_children < 8)
		children[n_children++] = c.pid;
	return c;
}

/* Read lines until one contains @what; false on EOF. */
static bool wait_line(FILE *f, const char *what, char *line, size_t size)
{
	while (fgets(line, (int)size, f))
		if (strstr(line, what))
			return true;
	return false;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send raw bytes, then read until @n responses ("HTTP/1.1 " count) and their bodies arrived. */
static void exchange(int fd, const char *req, const char *until)
{
	char buf[8192];
	size_t have = 0;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (have < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		assert_true(r > 0);
		have += (size_t)r;
		buf[have] = '\0';
		if (strstr(buf, until))
			return;
	}
	fail_msg("no '%s' in the responses", until);
}

static const kv_pb *kv(kv_pb **kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kvs[i]->key, key))
			return kvs[i];
	return NULL;
}

static const char *kv_str(kv_pb **kvs, size_t n, const char *key)
{
	const kv_pb *k = kv(kvs, n, key);

	return k ? k->value->string_value : NULL;
}

static int64_t kv_int(kv_pb **kvs, size_t n, const char *key)
{
	const kv_pb *k = kv(kvs, n, key);

	return k ? k->value->int_value : -1;
}

struct found {
	const otlp_span_pb *span;
	const rs_pb *rs;
};

/* Every span the receiver got, with its resource. */
static size_t all_spans(struct otlp_receiver *r, struct found *out, size_t max)
{
	size_t n = 0;

	for (size_t q = 0; q < otlp_receiver_count(r); q++) {
		const otlp_trace_request_pb *req = otlp_receiver_request(r, q)->proto;

		for (size_t i = 0; req && i < req->n_resource_spans; i++)
			for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
				for (size_t k = 0;
				     k < req->resource_spans[i]->scope_spans[j]->n_spans && n < max; k++)
					out[n++] = (struct found){
						req->resource_spans[i]->scope_spans[j]->spans[k],
						req->resource_spans[i]
					};
	}
	return n;
}

/* The @nth span named @name of @kind (SERVER=2, CLIENT=3), or a failure. */
static struct found find(struct found *f, size_t n, const char *name, int kind, int nth)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].span->name, name) && (int)f[i].span->kind == kind && !nth--)
			return f[i];
	fail_msg("no span '%s' of kind %d", name, kind);
	return (struct found){ 0 };
}

static void check_server(struct found f, const char *path, int64_t status, int64_t body,
			 bool error)
{
	const otlp_span_pb *s = f.span;

	assert_string_equal(kv_str(s->attributes, s->n_attributes, "http.request.method"), "GET");
	assert_string_equal(kv_str(s->attributes, s->n_attributes, "url.path"), path);
	assert_int_equal(kv_int(s->attributes, s->n_attributes, "http.response.status_code"),
			 status);
	assert_int_equal(kv_int(s->attributes, s->n_attributes, "http.response.body.size"), body);
	assert_string_equal(kv_str(s->attributes, s->n_attributes, "client.address"), "127.0.0.1");
	assert_true(s->start_time_unix_nano < s->end_time_unix_nano);
	assert_int_equal(s->status ? (int)s->status->code : 0, error ? 2 : 0);
	assert_string_equal(kv_str(f.rs->resource->attributes, f.rs->resource->n_attributes,
				   "service.name"),
			    "shop-api");
	assert_string_equal(kv_str(f.rs->resource->attributes, f.rs->resource->n_attributes,
				   "telemetry.distro.name"),
			    "kspan");
}

static void test_agent_http_spans(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char server_bin[300], kspan_bin[300], line[1024], endpoint[128], pid_arg[16], curl_url[128];
	struct found spans[64];
	uint16_t port;
	int status, early, fd;

	assert_non_null(r);
	snprintf(server_bin, sizeof(server_bin), "%s/tests/servers/http_server", build);
	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	char *sargv[] = { server_bin, "0", NULL };
	const char *senv[] = { "OTEL_SERVICE_NAME=shop-api", NULL };
	struct child server = spawn(sargv, senv, false);
	assert_true(wait_line(server.out, "port ", line, sizeof(line)));
	port = (uint16_t)atoi(line + 5);

	/* A connection the server accepted before the agent started. */
	early = connect_to(port);
	exchange(early, "GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n", "{\"id\":\"1\"}");

	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(r));
	snprintf(pid_arg, sizeof(pid_arg), "%d", server.pid);
	char *kargv[] = { kspan_bin, "--pid", pid_arg, "--exe", "/usr/bin/curl", "--no-stats",
			  NULL };
	const char *kenv[] = { endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", NULL };
	struct child agent = spawn(kargv, kenv, true);
	assert_true(wait_line(agent.out, "kspan: tracing", line, sizeof(line)));

	exchange(early, "GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n", "{\"id\":\"2\"}");
	fd = connect_to(port);
	/* keep-alive, then two pipelined requests in one write */
	exchange(fd, "GET /users/42 HTTP/1.1\r\nHost: shop\r\nUser-Agent: t/1\r\n\r\n", "\"42\"}");
	exchange(fd,
		 "GET /fail HTTP/1.1\r\nHost: shop\r\n\r\nGET /chunked HTTP/1.1\r\nHost: shop\r\n\r\n",
		 "0\r\n\r\n");
	exchange(fd, "GET /missing HTTP/1.1\r\nHost: shop\r\n\r\n", "not found");
	close(fd);
	/* Not HTTP: the server hangs up, no span. */
	fd = connect_to(port);
	assert_int_equal(write(fd, "\x16\x03\x01 hello, not http\r\n\r\n", 24), 24);
	assert_int_equal(read(fd, line, sizeof(line)), 0);
	close(fd);
	/* curl, started after the agent, traced through --exe: a CLIENT span. */
	snprintf(curl_url, sizeof(curl_url), "http://127.0.0.1:%u/users/99", port);
	char *cargv[] = { "/usr/bin/curl", "-s", "-o", "/dev/null", curl_url, NULL };
	struct child curl = spawn(cargv, NULL, false);
	assert_int_equal(waitpid(curl.pid, &status, 0), curl.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(curl.out);

	/* 6 SERVER spans (1 on the early connection, 4 on the second, 1 from curl) + 1 CLIENT. */
	for (int i = 0; i < 100 && all_spans(r, spans, 64) < 7; i++)
		usleep(50000);
	kill(agent.pid, SIGTERM);
	assert_int_equal(waitpid(agent.pid, &status, 0), agent.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	size_t n = all_spans(r, spans, 64);
	for (size_t i = 0; i < n; i++)
		print_message("span %zu: %s kind %d path %s\n", i, spans[i].span->name,
			      (int)spans[i].span->kind,
			      kv_str(spans[i].span->attributes, spans[i].span->n_attributes, "url.path"));
	assert_int_equal(n, 7);

	struct found f = find(spans, n, "GET /users/{id}", 2, 0);
	check_server(f, "/users/2", 200, 10, false); /* the early connection, seen mid-stream */
	check_server(find(spans, n, "GET /users/{id}", 2, 1), "/users/42", 200, 11, false);
	assert_string_equal(kv_str(find(spans, n, "GET /users/{id}", 2, 1).span->attributes,
				   find(spans, n, "GET /users/{id}", 2, 1).span->n_attributes,
				   "user_agent.original"),
			    "t/1");
	check_server(find(spans, n, "GET /fail", 2, 0), "/fail", 500, 5, true);
	check_server(find(spans, n, "GET /chunked", 2, 0), "/chunked", 200, 15, false);
	check_server(find(spans, n, "GET /missing", 2, 0), "/missing", 404, 9, false);
	check_server(find(spans, n, "GET /users/{id}", 2, 2), "/users/99", 200, 11, false);
	f = find(spans, n, "GET /users/{id}", 3, 0);
	assert_string_equal(kv_str(f.span->attributes, f.span->n_attributes, "url.full"),
			    curl_url);
	assert_int_equal(kv_int(f.span->attributes, f.span->n_attributes, "server.port"), port);
	assert_int_equal(kv_int(f.span->attributes, f.span->n_attributes,
				"http.response.status_code"),
			 200);
	assert_string_equal(kv_str(f.rs->resource->attributes, f.rs->resource->n_attributes,
				   "service.name"),
			    "curl");
	assert_int_equal(kv_int(f.rs->resource->attributes, f.rs->resource->n_attributes,
				"process.pid"),
			 curl.pid);

	close(early);
	kill(server.pid, SIGKILL);
	waitpid(server.pid, &status, 0);
	fclose(server.out);
	fclose(agent.out);
	otlp_receiver_stop(r);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	char kspan_bin[300], line[512];
	int status;

	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	char *argv1[] = { kspan_bin, "--pid", "999999999", NULL };
	struct child c = spawn(argv1, NULL, true);
	assert_true(wait_line(c.out, "999999999", line, sizeof(line)));
	waitpid(c.pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	fclose(c.out);

	char *argv2[] = { kspan_bin, "--port", "70000", NULL };
	c = spawn(argv2, NULL, true);
	assert_true(wait_line(c.out, "70000", line, sizeof(line)));
	waitpid(c.pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	fclose(c.out);
}

static int kill_children(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_children; i++)
		if (kill(children[i], SIGKILL) == 0)
			waitpid(children[i], NULL, 0);
	n_children = 0;
	return 0;
}

int main(void)
{
	const char *b = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_agent_http_spans, kill_children),
		cmocka_unit_test_teardown(test_bad_arguments, kill_children),
	};

	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
