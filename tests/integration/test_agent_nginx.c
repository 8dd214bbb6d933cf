// SPDX-License-Identifier: Apache-2.0
/*
 * End to end against a real nginx (Debian's): the test runs its own instance
 * (a temporary prefix, master + 1 worker on 127.0.0.1:<free port>, files of
 * known sizes) and build/kspan attached by --port (the master and its worker)
 * and by --exe to curl, exporting over OTLP/HTTP to the test receiver.
 * Checks the exact spans: SERVER spans from nginx (200 with the file's size,
 * 404, HEAD without a body, a templated route, HTTP/1.0 and keep-alive, a
 * response larger than the capture sent by sendfile), CLIENT spans from curl,
 * the resources (service.name "nginx" and the worker's pid), and that
 * nothing else arrives. nginx is stopped gracefully at the end and killed
 * (master and worker) if a test fails half-way.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent_run.h"

#define NGINX "/usr/sbin/nginx"
#define LINE_MS 15000
#define EXIT_MS 10000

/* The files served; each ends with its own marker so a reader knows it has all of it. */
struct file {
	const char *path; /* under the document root */
	size_t size;
	const char *marker;
};

static const struct file files[] = {
	{ "/index.html", 1234, "END-OF-INDEX\n" },
	{ "/items/42", 17, "END-OF-ITEM-42\n" },
	{ "/big.bin", 100000, "END-OF-BIG\n" }, /* larger than a capture, sent by sendfile */
};

static char build[256];
static char dir[] = "/tmp/kspan-test-nginx-XXXXXX";

static void write_file(const char *path, const char *text, size_t size)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (size == (size_t)-1)
		size = strlen(text);
	assert_int_equal(fwrite(text, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
}

/* A file of @size bytes: filler, then @marker. */
static void write_sized(const struct file *fl)
{
	char path[512];
	size_t mlen = strlen(fl->marker);
	char *body = malloc(fl->size);

	assert_non_null(body);
	assert_true(fl->size >= mlen);
	for (size_t i = 0; i < fl->size - mlen; i++)
		body[i] = (char)('a' + i % 26);
	memcpy(body + fl->size - mlen, fl->marker, mlen);
	snprintf(path, sizeof(path), "%s/html%s", dir, fl->path);
	write_file(path, body, fl->size);
	free(body);
}

/* The prefix: nginx.conf, the document root; everything nginx writes stays in it. */
static void make_prefix(uint16_t port)
{
	char path[512], conf[2048];

	assert_non_null(mkdtemp(dir));
	/* The worker runs as nobody: it must be able to read the root. */
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/html", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/html/items", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_sized(&files[i]);
	snprintf(conf, sizeof(conf),
		 "daemon off;\n"
		 "master_process on;\n"
		 "worker_processes 1;\n"
		 "pid %1$s/nginx.pid;\n"
		 "error_log %1$s/error.log info;\n"
		 "events { worker_connections 64; }\n"
		 "http {\n"
		 "  default_type application/octet-stream;\n"
		 "  access_log %1$s/access.log;\n"
		 "  client_body_temp_path %1$s/body;\n"
		 "  proxy_temp_path %1$s/proxy;\n"
		 "  fastcgi_temp_path %1$s/fastcgi;\n"
		 "  uwsgi_temp_path %1$s/uwsgi;\n"
		 "  scgi_temp_path %1$s/scgi;\n"
		 "  sendfile on;\n"
		 "  keepalive_timeout 60;\n"
		 "  server_tokens off;\n"
		 "  server {\n"
		 "    listen 127.0.0.1:%2$u;\n"
		 "    root %1$s/html;\n"
		 "  }\n"
		 "}\n",
		 dir, (unsigned)port);
	snprintf(path, sizeof(path), "%s/nginx.conf", dir);
	write_file(path, conf, (size_t)-1);
}

/* The only child of nginx's master once it has started its worker. */
static pid_t worker_of(pid_t master)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", master, master);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		int pid = 0;

		assert_non_null(f);
		if (fgets(buf, sizeof(buf), f))
			pid = atoi(buf);
		fclose(f);
		if (pid > 0)
			return pid;
		usleep(10000);
	}
	fail_msg("nginx started no worker");
	return 0;
}

/* Wait until nginx answers; the first exchange also proves the worker serves. */
static void wait_ready(uint16_t port)
{
	for (int i = 0; i < 500; i++) {
		int fd = run_connect_try(port);

		if (fd >= 0) {
			run_exchange(fd, "GET /index.html HTTP/1.1\r\nHost: w\r\n\r\n",
				     files[0].marker);
			close(fd);
			return;
		}
		usleep(10000);
	}
	fail_msg("nginx does not listen on port %u", port);
}

static void rm_prefix(void)
{
	char cmd[600];

	if (strchr(dir, 'X'))
		return; /* never created */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Check a SERVER span from nginx. */
static void check_server(const struct run_span *f, const char *method, const char *path,
			 int64_t status, int64_t body, const char *version, uint16_t port,
			 pid_t worker)
{
	const otlp_span_pb *s = f->span;

	assert_string_equal(run_attr_str(s, "http.request.method"), method);
	assert_string_equal(run_attr_str(s, "url.path"), path);
	assert_string_equal(run_attr_str(s, "url.scheme"), "http");
	assert_int_equal(run_attr_int(s, "http.response.status_code"), status);
	assert_int_equal(run_attr_int(s, "http.response.body.size"), body);
	assert_int_equal(run_attr_int(s, "http.request.body.size"), 0);
	assert_int_equal(run_attr_int(s, "server.port"), port);
	assert_string_equal(run_attr_str(s, "network.protocol.version"), version);
	assert_string_equal(run_attr_str(s, "client.address"), "127.0.0.1");
	assert_true(s->start_time_unix_nano < s->end_time_unix_nano);
	/* A 404 is not a server error. */
	assert_int_equal(s->status ? (int)s->status->code : 0, 0);
	assert_null(run_attr_str(s, "error.type"));
	assert_string_equal(run_res_str(f, "service.name"), "nginx");
	assert_string_equal(run_res_str(f, "process.executable.name"), "nginx");
	assert_int_equal(run_res_int(f, "process.pid"), worker);
	assert_string_equal(run_res_str(f, "telemetry.distro.name"), "kspan");
}

static void check_client(const struct run_span *f, const char *method, const char *url,
			 int64_t status, int64_t body, uint16_t port, pid_t curl)
{
	const otlp_span_pb *s = f->span;
	char error_type[24];

	assert_string_equal(run_attr_str(s, "http.request.method"), method);
	assert_string_equal(run_attr_str(s, "url.full"), url);
	assert_null(run_attr_str(s, "url.path")); /* a client span carries url.full only */
	assert_int_equal(run_attr_int(s, "http.response.status_code"), status);
	assert_int_equal(run_attr_int(s, "http.response.body.size"), body);
	assert_string_equal(run_attr_str(s, "server.address"), "127.0.0.1");
	assert_int_equal(run_attr_int(s, "server.port"), port);
	assert_string_equal(run_attr_str(s, "network.protocol.version"), "1.1");
	/* Clients fail on 4xx too. */
	assert_int_equal(s->status ? (int)s->status->code : 0, status >= 400 ? 2 : 0);
	snprintf(error_type, sizeof(error_type), "%lld", (long long)status);
	assert_string_equal(run_attr_str(s, "error.type") ?: "-", status >= 400 ? error_type : "-");
	assert_string_equal(run_res_str(f, "service.name"), "curl");
	assert_int_equal(run_res_int(f, "process.pid"), curl);
}

/* curl fetches @url (HEAD with @head) and must succeed; its pid. */
static pid_t run_curl(const char *url, bool head)
{
	char *argv[] = { "/usr/bin/curl", "-s", "-o", "/dev/null", (char *)url, NULL, NULL };
	struct run_child c;

	if (head)
		argv[5] = "-I";
	c = run_spawn(argv, NULL, RUN_STDOUT);
	run_expect_exit0(&c, EXIT_MS);
	return c.pid;
}

/* The Content-Length nginx answers GET @path with (before the agent runs: no span). */
static long content_length(uint16_t port, const char *path)
{
	char req[256], buf[4096];
	size_t have = 0;
	ssize_t got;
	int fd = run_connect(port);
	const char *cl;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n",
		 path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (have < sizeof(buf) - 1 && (got = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)got;
	close(fd);
	buf[have] = '\0';
	cl = strcasestr(buf, "\r\nContent-Length: ");
	assert_non_null(cl);
	return atol(cl + 18);
}

static void test_nginx_spans(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char conf[600], kspan_bin[300], line[1024], endpoint[128], port_arg[8], url[3][128];
	struct run_span spans[64];
	uint16_t port = otlp_unused_port();
	pid_t worker, curl_pid[3];
	long page404;
	int fd;

	assert_non_null(r);
	assert_int_not_equal(port, 0);
	make_prefix(port);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	char errlog[600];
	snprintf(errlog, sizeof(errlog), "%s/error.log", dir);
	char *nargv[] = { NGINX, "-p", dir, "-c", conf, "-e", errlog, NULL };
	struct run_child nginx = run_spawn(nargv, NULL, RUN_STDOUT);
	wait_ready(port);
	worker = worker_of(nginx.pid);
	run_track(worker);
	page404 = content_length(port, "/missing.html");
	assert_int_equal(content_length(port, "/big.bin"), 100000);

	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(r));
	snprintf(port_arg, sizeof(port_arg), "%u", port);
	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	char *kargv[] = { kspan_bin, "--port", port_arg, "--exe", "/usr/bin/curl", "--no-stats",
			  NULL };
	const char *kenv[] = { endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", NULL };
	struct run_child agent = run_spawn(kargv, kenv, RUN_STDERR);
	assert_true(run_wait_line(agent.out, "kspan: tracing 2 processes", line, sizeof(line),
				  LINE_MS));
	/* Both nginx processes, whatever their order. */
	snprintf(endpoint, sizeof(endpoint), "%d", nginx.pid);
	assert_non_null(strstr(line, endpoint));
	snprintf(endpoint, sizeof(endpoint), "%d", worker);
	assert_non_null(strstr(line, endpoint));

	/* One keep-alive connection: 200s, a templated route, a 404, a HEAD, a big file. */
	fd = run_connect(port);
	run_exchange(fd, "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", files[0].marker);
	run_exchange(fd, "GET /items/42 HTTP/1.1\r\nHost: localhost\r\n\r\n", files[1].marker);
	run_exchange(fd, "GET /missing.html HTTP/1.1\r\nHost: localhost\r\n\r\n", "</html>\r\n");
	run_exchange(fd, "HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", "\r\n\r\n");
	run_exchange(fd, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n", files[2].marker);
	close(fd);
	/* HTTP/1.0: nginx closes after the response. */
	fd = run_connect(port);
	run_exchange(fd, "GET /index.html HTTP/1.0\r\n\r\n", files[0].marker);
	assert_int_equal(read(fd, line, sizeof(line)), 0);
	close(fd);
	/* curl, traced through --exe: a CLIENT span each, and the SERVER spans they cause. */
	snprintf(url[0], sizeof(url[0]), "http://127.0.0.1:%u/index.html", port);
	snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%u/nope", port);
	snprintf(url[2], sizeof(url[2]), "http://127.0.0.1:%u/items/42", port);
	curl_pid[0] = run_curl(url[0], false);
	curl_pid[1] = run_curl(url[1], false);
	curl_pid[2] = run_curl(url[2], true);

	/* 6 SERVER spans from the sockets, 3 SERVER + 3 CLIENT from curl. */
	run_wait_spans(r, 12, 5000);
	usleep(300000); /* time for a 13th to show up, were there one */
	kill(agent.pid, SIGTERM);
	run_expect_exit0(&agent, EXIT_MS);
	size_t n = run_spans(r, spans, 64);
	run_dump(spans, n);
	assert_int_equal(n, 12);

	struct run_span f;
	f = run_find(spans, n, "GET /index.html", RUN_SERVER, 0);
	check_server(&f, "GET", "/index.html", 200, 1234, "1.1", port, worker);
	assert_string_equal(run_attr_str(f.span, "http.route"), "/index.html");
	assert_string_equal(run_attr_str(f.span, "server.address"), "localhost");
	f = run_find(spans, n, "GET /items/{id}", RUN_SERVER, 0);
	check_server(&f, "GET", "/items/42", 200, 17, "1.1", port, worker);
	assert_string_equal(run_attr_str(f.span, "http.route"), "/items/{id}");
	f = run_find(spans, n, "GET /missing.html", RUN_SERVER, 0);
	check_server(&f, "GET", "/missing.html", 404, page404, "1.1", port, worker);
	f = run_find(spans, n, "HEAD /index.html", RUN_SERVER, 0);
	check_server(&f, "HEAD", "/index.html", 200, 0, "1.1", port, worker);
	f = run_find(spans, n, "GET /big.bin", RUN_SERVER, 0);
	check_server(&f, "GET", "/big.bin", 200, 100000, "1.1", port, worker);
	f = run_find(spans, n, "GET /index.html", RUN_SERVER, 1);
	check_server(&f, "GET", "/index.html", 200, 1234, "1.0", port, worker);
	/* The SERVER side of curl's requests. */
	f = run_find(spans, n, "GET /index.html", RUN_SERVER, 2);
	check_server(&f, "GET", "/index.html", 200, 1234, "1.1", port, worker);
	assert_non_null(run_attr_str(f.span, "user_agent.original"));
	assert_int_equal(strncmp(run_attr_str(f.span, "user_agent.original"), "curl/", 5), 0);
	f = run_find(spans, n, "GET /nope", RUN_SERVER, 0);
	check_server(&f, "GET", "/nope", 404, page404, "1.1", port, worker);
	f = run_find(spans, n, "HEAD /items/{id}", RUN_SERVER, 0);
	check_server(&f, "HEAD", "/items/42", 200, 0, "1.1", port, worker);
	/* curl's CLIENT spans. */
	f = run_find(spans, n, "GET /index.html", RUN_CLIENT, 0);
	check_client(&f, "GET", url[0], 200, 1234, port, curl_pid[0]);
	f = run_find(spans, n, "GET /nope", RUN_CLIENT, 0);
	check_client(&f, "GET", url[1], 404, page404, port, curl_pid[1]);
	f = run_find(spans, n, "HEAD /items/{id}", RUN_CLIENT, 0);
	check_client(&f, "HEAD", url[2], 200, 0, port, curl_pid[2]);

	/* A graceful stop: the master waits for its worker and exits 0. */
	assert_int_equal(kill(nginx.pid, SIGQUIT), 0);
	run_expect_exit0(&nginx, EXIT_MS);
	assert_int_equal(kill(worker, 0) == -1 && errno == ESRCH, 1);
	otlp_receiver_stop(r);
}

static int teardown(void **state)
{
	run_kill_all(state);
	rm_prefix();
	return 0;
}

int main(void)
{
	const char *b = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_nginx_spans, teardown),
	};

	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	/* nginx and curl must name themselves, not inherit a name from our environment. */
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
