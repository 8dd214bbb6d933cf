/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent's end-to-end tests share: starting programs (build/kspan, the
 * test servers, nginx, curl) with their output on a pipe and killing whatever a
 * failed test left running; waiting for a line of output or an exit within a
 * bounded time; loopback sockets; and the spans an OTLP receiver got, with
 * their resources and attribute look-ups. Failures are cmocka assertions.
 */
#ifndef TESTS_AGENT_RUN_H
#define TESTS_AGENT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "otlp_receiver.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue run_kv_pb;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans run_rs_pb;

/* OTLP span kinds, as the receiver decodes them. */
#define RUN_SERVER 2
#define RUN_CLIENT 3

/* Which output of a child goes to the pipe. */
enum run_capture {
	RUN_STDOUT,
	RUN_STDERR,
};

struct run_child {
	pid_t pid;
	FILE *out; /* read end of the pipe, unbuffered (so poll() tells the truth) */
};

/* One received span and the resource it came with. */
struct run_span {
	const otlp_span_pb *span;
	const run_rs_pb *rs;
};

/**
 * Start @argv (argv[0] a path) with @env ("NAME=value" entries added to ours,
 * NULL-terminated, may be NULL) and one of its outputs on a pipe; the other
 * output is inherited. The child is remembered for run_kill_all().
 */
struct run_child run_spawn(char *const argv[], const char *const *env, enum run_capture cap);
/** Remember a process that is not our child (e.g. nginx's worker) for run_kill_all(). */
void run_track(pid_t pid);
/** Wait for child @c to exit within @timeout_ms; its wait status, or -1 on timeout. */
int run_wait_exit(struct run_child *c, int timeout_ms);
/** run_wait_exit() that must succeed with exit code 0; closes @c's pipe. */
void run_expect_exit0(struct run_child *c, int timeout_ms);
/** SIGKILL and reap every remembered process still alive; a cmocka teardown. */
int run_kill_all(void **state);

/**
 * Run @argv to its end (within @timeout_ms) with output @cap collected into
 * @buf (NUL-terminated, cut at @size - 1); its wait status.
 */
int run_output(char *const argv[], enum run_capture cap, char *buf, size_t size,
	       int timeout_ms);

/**
 * Read @f's lines until one contains @what (copied to @line), within @timeout_ms.
 * False on EOF or timeout.
 */
bool run_wait_line(FILE *f, const char *what, char *line, size_t size, int timeout_ms);

/** Connect to 127.0.0.1:@port; a test failure if nobody listens. */
int run_connect(uint16_t port);
/** The same, but -1 if nobody listens (yet). */
int run_connect_try(uint16_t port);
/** Write @req, then read until @until appears in what came back (at most 256 KiB). */
void run_exchange(int fd, const char *req, const char *until);

/** Every span @r received so far (at most @max), in arrival order. */
size_t run_spans(struct otlp_receiver *r, struct run_span *out, size_t max);
/** Poll until @r holds at least @n spans or @timeout_ms passed; the count. */
size_t run_wait_spans(struct otlp_receiver *r, size_t n, int timeout_ms);
/** The @nth (from 0) span named @name of @kind, or a test failure. */
struct run_span run_find(const struct run_span *s, size_t n, const char *name, int kind,
			 int nth);
/** Print every span (name, kind, url.path, process.pid) to the test's output. */
void run_dump(const struct run_span *s, size_t n);

/** Attribute @key of a span: string (NULL if absent), int (-1 if absent). */
const char *run_attr_str(const otlp_span_pb *s, const char *key);
int64_t run_attr_int(const otlp_span_pb *s, const char *key);
/** Resource attribute @key of a received span. */
const char *run_res_str(const struct run_span *f, const char *key);
int64_t run_res_int(const struct run_span *f, const char *key);

#endif /* TESTS_AGENT_RUN_H */
