// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's life around its targets, with build/kspan on the real kernel:
 * --exe picks up a server started after the agent, forgets it when it exits
 * and picks up its restart (spans from both lives, each with its own
 * process.pid); a --pid target that exits leaves the agent running until
 * SIGTERM, which ends it promptly with exit code 0 and its spans flushed;
 * `kspan probe` prints the features and the plan; --help documents every flag;
 * an --exe that is not executable is refused with a message naming it.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent_run.h"
#include "feature_probe.h"

#define LINE_MS 15000
#define EXIT_MS 10000

static char build[256], kspan_bin[300], server_bin[PATH_MAX];

struct server {
	struct run_child c;
	uint16_t port;
};

static struct server server_start(void)
{
	char *argv[] = { server_bin, "0", NULL };
	struct server s = { .c = run_spawn(argv, NULL, RUN_STDOUT) };
	char line[128];

	assert_true(run_wait_line(s.c.out, "port ", line, sizeof(line), LINE_MS));
	s.port = (uint16_t)atoi(line + 5);
	return s;
}

static void server_stop(struct server *s)
{
	int status;

	assert_int_equal(kill(s->c.pid, SIGTERM), 0);
	status = run_wait_exit(&s->c, EXIT_MS);
	assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	fclose(s->c.out);
}

/* One request on a new connection; the body the test server answers is {"id":"<id>"}. */
static void get_user(uint16_t port, const char *id)
{
	char req[128], body[64];
	int fd = run_connect(port);

	snprintf(req, sizeof(req), "GET /users/%s HTTP/1.1\r\nHost: x\r\n\r\n", id);
	snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
	run_exchange(fd, req, body);
	close(fd);
}

/* Start kspan with @args (NULL-terminated, at most 8) exporting to @r; stderr on the pipe. */
static struct run_child agent_start(struct otlp_receiver *r, const char *const *args,
				    const char *started)
{
	static char endpoint[128];
	char *argv[12] = { kspan_bin };
	const char *env[] = { endpoint, "OTEL_BSP_SCHEDULE_DELAY=100", NULL };
	char line[1024];
	size_t n = 1;

	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(r));
	for (; args[n - 1]; n++) {
		assert_true(n < 10);
		argv[n] = (char *)args[n - 1];
	}
	struct run_child a = run_spawn(argv, env, RUN_STDERR);
	assert_true(run_wait_line(a.out, started, line, sizeof(line), LINE_MS));
	return a;
}

/* SIGTERM ends the agent within EXIT_MS with exit code 0; how long it took, in ms. */
static long agent_stop(struct run_child *a)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kill(a->pid, SIGTERM), 0);
	run_expect_exit0(a, EXIT_MS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static void check_user_span(const struct run_span *f, const char *path, pid_t pid)
{
	assert_string_equal(run_attr_str(f->span, "url.path"), path);
	assert_int_equal(run_attr_int(f->span, "http.response.status_code"), 200);
	assert_string_equal(run_res_str(f, "service.name"), "http_server");
	assert_int_equal(run_res_int(f, "process.pid"), pid);
}

/* --exe: started after the agent, exits, restarted: both lives traced, the first forgotten. */
static void test_exe_started_later_and_restarted(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	struct run_span spans[16];
	char line[512];
	pid_t first;

	assert_non_null(r);
	const char *args[] = { "--exe", server_bin, "--stats-interval", "1", NULL };
	struct run_child agent = agent_start(r, args, "kspan: tracing 0 processes and new");

	struct server s = server_start();
	first = s.c.pid;
	get_user(s.port, "1");
	assert_int_equal(run_wait_spans(r, 1, 5000), 1);
	assert_true(run_wait_line(agent.out, "targets 1;", line, sizeof(line), LINE_MS));
	server_stop(&s);
	/* The agent forgets the exited process... */
	assert_true(run_wait_line(agent.out, "targets 0;", line, sizeof(line), LINE_MS));

	/* ...and picks up the new one, without a restart. */
	s = server_start();
	assert_int_not_equal(s.c.pid, first);
	get_user(s.port, "2");
	assert_int_equal(run_wait_spans(r, 2, 5000), 2);
	assert_true(run_wait_line(agent.out, "targets 1;", line, sizeof(line), LINE_MS));
	server_stop(&s);
	agent_stop(&agent);

	size_t n = run_spans(r, spans, 16);
	run_dump(spans, n);
	assert_int_equal(n, 2);
	struct run_span f = run_find(spans, n, "GET /users/{id}", RUN_SERVER, 0);
	check_user_span(&f, "/users/1", first);
	f = run_find(spans, n, "GET /users/{id}", RUN_SERVER, 1);
	check_user_span(&f, "/users/2", s.c.pid);
	otlp_receiver_stop(r);
}

/* --pid of a process that exits: the agent carries on, then stops promptly on SIGTERM. */
static void test_pid_target_exits(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	struct run_span spans[4];
	char line[512], pid_arg[16];
	long took;

	assert_non_null(r);
	struct server s = server_start();
	snprintf(pid_arg, sizeof(pid_arg), "%d", s.c.pid);
	const char *args[] = { "--pid", pid_arg, "--stats-interval", "1", NULL };
	struct run_child agent = agent_start(r, args, "kspan: tracing 1 process");

	get_user(s.port, "7");
	server_stop(&s);
	/* Two stats lines after the exit: the loop still turns. */
	assert_true(run_wait_line(agent.out, "kspan: stats:", line, sizeof(line), LINE_MS));
	assert_true(run_wait_line(agent.out, "kspan: stats:", line, sizeof(line), LINE_MS));
	assert_int_equal(kill(agent.pid, 0), 0);
	took = agent_stop(&agent);
	print_message("SIGTERM to exit: %ld ms\n", took);
	assert_true(took < 10000);

	/* The span was flushed on the way out. */
	size_t n = run_spans(r, spans, 4);
	assert_int_equal(n, 1);
	check_user_span(&spans[0], "/users/7", s.c.pid);
	otlp_receiver_stop(r);
}

static void test_probe(void **state)
{
	(void)state;
	char out[16384], want[128];
	char *argv[] = { kspan_bin, "probe", NULL };
	int status = run_output(argv, RUN_STDOUT, out, sizeof(out), EXIT_MS);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* This kernel has no kprobes and refuses fentry: the syscall tracepoint flavor. */
	assert_non_null(strstr(out, "\nplan: tracepoint"));
	for (int i = 0; i < KSPAN_FEAT_MAX; i++) {
		snprintf(want, sizeof(want), "\nfeature %s: ",
			 kspan_feature_name((enum kspan_feature)i));
		assert_non_null(strstr(out, want));
	}
}

static void test_help(void **state)
{
	(void)state;
	static const char *const flags[] = {
		"--pid PID",	   "--exe PATH",	"--port N",	   "--capture-bytes N",
		"--stats-interval S", "--no-stats",	"--ring-size BYTES", "--capture-query",
		"--log-level LEVEL", "-h, --help",	"-V, --version",   "kspan probe",
	};
	char out[16384];
	char *argv[] = { kspan_bin, "--help", NULL };
	int status = run_output(argv, RUN_STDOUT, out, sizeof(out), EXIT_MS);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!strstr(out, flags[i]))
			fail_msg("--help does not mention '%s'", flags[i]);
	}
}

static void expect_exe_refused(const char *path)
{
	char out[4096];
	char *argv[] = { kspan_bin, "--exe", (char *)path, NULL };
	int status = run_output(argv, RUN_STDERR, out, sizeof(out), EXIT_MS);

	print_message("%s", out);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, path));
}

static void test_bad_exe(void **state)
{
	(void)state;
	char path[] = "/tmp/kspan-test-notexec-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	expect_exe_refused(path);
	unlink(path);
	expect_exe_refused("/nonexistent/kspan-no-such-program");
}

int main(void)
{
	const char *b = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exe_started_later_and_restarted, run_kill_all),
		cmocka_unit_test_teardown(test_pid_target_exits, run_kill_all),
		cmocka_unit_test_teardown(test_probe, run_kill_all),
		cmocka_unit_test_teardown(test_help, run_kill_all),
		cmocka_unit_test_teardown(test_bad_exe, run_kill_all),
	};
	char rel[300];

	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	snprintf(kspan_bin, sizeof(kspan_bin), "%s/kspan", build);
	/* --exe is matched by file identity; an absolute path keeps messages unambiguous. */
	snprintf(rel, sizeof(rel), "%s/tests/servers/http_server", build);
	if (!realpath(rel, server_bin))
		snprintf(server_bin, sizeof(server_bin), "%s", rel);
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
