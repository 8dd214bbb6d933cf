// SPDX-License-Identifier: Apache-2.0
/*
 * Helpers of the agent's end-to-end tests (see agent_run.h): processes, output
 * lines, loopback exchanges and received spans.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent_run.h"

#define MAX_PROCS 32
#define EXCHANGE_MAX (256u << 10)

/* What a failed test may leave running; a slot is cleared once its process is reaped. */
static pid_t procs[MAX_PROCS];

static void remember(pid_t pid)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (!procs[i]) {
			procs[i] = pid;
			return;
		}
	fail_msg("more than %d processes to remember", MAX_PROCS);
}

static void forget(pid_t pid)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct run_child run_spawn(char *const argv[], const char *const *env, enum run_capture cap)
{
	struct run_child c = { 0 };
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		dup2(fds[1], cap == RUN_STDERR ? 2 : 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	c.out = fdopen(fds[0], "r");
	assert_non_null(c.out);
	setvbuf(c.out, NULL, _IONBF, 0);
	remember(c.pid);
	return c;
}

void run_track(pid_t pid)
{
	remember(pid);
}

int run_wait_exit(struct run_child *c, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid) {
			forget(c->pid);
			return status;
		}
		assert_int_equal(r, 0);
		if (mono_ms() >= deadline)
			return -1;
		usleep(10000);
	}
}

void run_expect_exit0(struct run_child *c, int timeout_ms)
{
	int status = run_wait_exit(c, timeout_ms);

	assert_int_not_equal(status, -1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	if (c->out)
		fclose(c->out);
	c->out = NULL;
}

int run_kill_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_PROCS; i++) {
		if (procs[i] && kill(procs[i], SIGKILL) == 0)
			waitpid(procs[i], NULL, 0); /* fails (ECHILD) for tracked non-children */
		procs[i] = 0;
	}
	return 0;
}

int run_output(char *const argv[], enum run_capture cap, char *buf, size_t size,
	       int timeout_ms)
{
	struct run_child c = run_spawn(argv, NULL, cap);
	struct pollfd pfd = { .fd = fileno(c.out), .events = POLLIN };
	int64_t deadline = mono_ms() + timeout_ms;
	size_t have = 0;
	int status;

	assert_true(size > 0);
	for (;;) {
		int64_t left = deadline - mono_ms();
		char tmp[4096];
		ssize_t got;

		assert_true(left > 0 && poll(&pfd, 1, (int)left) > 0);
		got = read(pfd.fd, tmp, sizeof(tmp));
		if (got <= 0)
			break;
		if ((size_t)got > size - 1 - have)
			got = (ssize_t)(size - 1 - have);
		memcpy(buf + have, tmp, (size_t)got);
		have += (size_t)got;
	}
	buf[have] = '\0';
	fclose(c.out);
	status = run_wait_exit(&c, (int)(deadline - mono_ms() > 0 ? deadline - mono_ms() : 0));
	assert_int_not_equal(status, -1);
	return status;
}

bool run_wait_line(FILE *f, const char *what, char *line, size_t size, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fileno(f), .events = POLLIN };
	size_t len = 0;

	assert_true(size > 1);
	for (;;) {
		int64_t left = deadline - mono_ms();
		char ch;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		if (read(pfd.fd, &ch, 1) != 1)
			return false;
		if (len < size - 1)
			line[len++] = ch;
		line[len] = '\0';
		if (ch != '\n')
			continue;
		if (strstr(line, what))
			return true;
		len = 0;
	}
}

int run_connect_try(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int run_connect(uint16_t port)
{
	int fd = run_connect_try(port);

	assert_true(fd >= 0);
	return fd;
}

void run_exchange(int fd, const char *req, const char *until)
{
	char *buf = malloc(EXCHANGE_MAX + 1);
	size_t have = 0;

	assert_non_null(buf);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (have < EXCHANGE_MAX) {
		ssize_t r = read(fd, buf + have, EXCHANGE_MAX - have);

		assert_true(r > 0);
		have += (size_t)r;
		buf[have] = '\0';
		/* Bodies may hold NULs: search the bytes, not the string. */
		if (memmem(buf, have, until, strlen(until))) {
			free(buf);
			return;
		}
	}
	free(buf);
	fail_msg("no '%s' in the responses", until);
}

size_t run_spans(struct otlp_receiver *r, struct run_span *out, size_t max)
{
	size_t n = 0;

	for (size_t q = 0; q < otlp_receiver_count(r); q++) {
		const otlp_trace_request_pb *req = otlp_receiver_request(r, q)->proto;

		for (size_t i = 0; req && i < req->n_resource_spans; i++) {
			const run_rs_pb *rs = req->resource_spans[i];

			for (size_t j = 0; j < rs->n_scope_spans; j++)
				for (size_t k = 0; k < rs->scope_spans[j]->n_spans && n < max; k++)
					out[n++] = (struct run_span){ rs->scope_spans[j]->spans[k],
								      rs };
		}
	}
	return n;
}

size_t run_wait_spans(struct otlp_receiver *r, size_t n, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	struct run_span s[256];
	size_t have;

	while ((have = run_spans(r, s, 256)) < n && mono_ms() < deadline)
		usleep(20000);
	return have;
}

struct run_span run_find(const struct run_span *s, size_t n, const char *name, int kind,
			 int nth)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].span->name, name) && (int)s[i].span->kind == kind && !nth--)
			return s[i];
	fail_msg("no span '%s' of kind %d", name, kind);
	return (struct run_span){ 0 };
}

void run_dump(const struct run_span *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		print_message("span %zu: %s kind %d path %s pid %lld\n", i, s[i].span->name,
			      (int)s[i].span->kind, run_attr_str(s[i].span, "url.path"),
			      (long long)run_res_int(&s[i], "process.pid"));
}

static const run_kv_pb *kv(run_kv_pb **kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kvs[i]->key, key))
			return kvs[i];
	return NULL;
}

#define ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static const char *kv_str(run_kv_pb **kvs, size_t n, const char *key)
{
	const run_kv_pb *k = kv(kvs, n, key);

	if (!k || !k->value || k->value->value_case != ANY(STRING_VALUE))
		return NULL;
	return k->value->string_value;
}

static int64_t kv_int(run_kv_pb **kvs, size_t n, const char *key)
{
	const run_kv_pb *k = kv(kvs, n, key);

	if (!k || !k->value || k->value->value_case != ANY(INT_VALUE))
		return -1;
	return k->value->int_value;
}

const char *run_attr_str(const otlp_span_pb *s, const char *key)
{
	return kv_str(s->attributes, s->n_attributes, key);
}

int64_t run_attr_int(const otlp_span_pb *s, const char *key)
{
	return kv_int(s->attributes, s->n_attributes, key);
}

const char *run_res_str(const struct run_span *f, const char *key)
{
	return kv_str(f->rs->resource->attributes, f->rs->resource->n_attributes, key);
}

int64_t run_res_int(const struct run_span *f, const char *key)
{
	return kv_int(f->rs->resource->attributes, f->rs->resource->n_attributes, key);
}
