// SPDX-License-Identifier: Apache-2.0
/*
 * End to end: the example program build/examples/exercise, configured only by
 * the standard OTEL_* variables, exports its trace over real OTLP/HTTP to the
 * test receiver on loopback (protobuf, JSON, gzip), prints it with the console
 * exporter, and exits in bounded time against a dead collector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "otlp_receiver.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_pb;

static char exe[512];

/* Run the example with extra environment entries; its stdout goes to @out (may be NULL). */
static int run_exercise(const char *const *env, FILE *out, double *elapsed_s)
{
	struct timespec a, b;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsetenv("OTEL_TRACES_EXPORTER");
		unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
		unsetenv("OTEL_SERVICE_NAME");
		for (size_t i = 0; env[i]; i++)
			putenv((char *)env[i]);
		if (out)
			dup2(fileno(out), 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (elapsed_s)
		*elapsed_s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static const kv_pb *find_kv(kv_pb **kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kvs[i]->key, key))
			return kvs[i];
	return NULL;
}

static const char *str_attr(kv_pb **kvs, size_t n, const char *key)
{
	const kv_pb *kv = find_kv(kvs, n, key);

	return kv && kv->value && kv->value->value_case ==
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE ?
		       kv->value->string_value :
		       NULL;
}

/* The exact trace exercise.c makes, as the receiver decoded it. */
static void check_trace(const otlp_trace_request_pb *req)
{
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 1);
	const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[0];
	const Opentelemetry__Proto__Resource__V1__Resource *res = rs->resource;
	assert_string_equal(str_attr(res->attributes, res->n_attributes, "service.name"),
			    "exercise-svc");
	assert_string_equal(str_attr(res->attributes, res->n_attributes, "telemetry.sdk.name"),
			    "libotel");
	assert_non_null(find_kv(res->attributes, res->n_attributes, "process.pid"));
	assert_int_equal(rs->n_scope_spans, 1);
	const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];
	assert_string_equal(ss->scope->name, "exercise");
	assert_int_equal(ss->n_spans, 2);

	/* The child ends first, so it is exported first. */
	const otlp_span_pb *db = ss->spans[0], *srv = ss->spans[1];
	assert_string_equal(db->name, "call-database");
	assert_int_equal(db->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
	assert_string_equal(srv->name, "handle-request");
	assert_int_equal(srv->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_int_equal(db->trace_id.len, 16);
	assert_memory_equal(db->trace_id.data, srv->trace_id.data, 16);
	assert_int_equal(db->parent_span_id.len, 8);
	assert_memory_equal(db->parent_span_id.data, srv->span_id.data, 8);
	assert_int_equal(srv->parent_span_id.len, 0);
	assert_true(srv->start_time_unix_nano <= db->start_time_unix_nano);
	assert_true(db->start_time_unix_nano <= db->end_time_unix_nano);
	assert_true(db->end_time_unix_nano <= srv->end_time_unix_nano);

	assert_string_equal(str_attr(db->attributes, db->n_attributes, "db.system.name"),
			    "postgresql");
	assert_string_equal(str_attr(db->attributes, db->n_attributes, "db.response.status_code"),
			    "08001");
	assert_non_null(db->status);
	assert_int_equal(db->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_string_equal(db->status->message, "could not connect to the database");
	assert_int_equal(db->n_events, 1);
	assert_string_equal(db->events[0]->name, "exception");
	assert_string_equal(str_attr(db->events[0]->attributes, db->events[0]->n_attributes,
				     "exception.type"),
			    "ConnectionError");
	assert_string_equal(str_attr(db->events[0]->attributes, db->events[0]->n_attributes,
				     "exception.message"),
			    "connection refused by 127.0.0.1:5432");
	/* The server span is not an error: only its child failed. */
	assert_true(!srv->status || srv->status->code == 0);
	const kv_pb *code = find_kv(srv->attributes, srv->n_attributes, "http.response.status_code");
	assert_non_null(code);
	assert_int_equal(code->value->int_value, 503);
}

static void test_otlp_protobuf(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char endpoint[128];

	assert_non_null(r);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_receiver_port(r));
	const char *env[] = { endpoint, "OTEL_SERVICE_NAME=ignored-code-wins", NULL };
	assert_int_equal(run_exercise(env, NULL, NULL), 0);
	assert_int_equal(otlp_receiver_count(r), 1);
	const struct otlp_request *q = otlp_receiver_request(r, 0);
	assert_string_equal(q->target, "/v1/traces");
	assert_string_equal(otlp_request_header(q, "content-type"), "application/x-protobuf");
	check_trace(q->proto);
	otlp_receiver_stop(r);
}

static void test_otlp_gzip_and_traces_endpoint(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char endpoint[160];

	assert_non_null(r);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=%s",
		 otlp_receiver_url(r));
	const char *env[] = { endpoint, "OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
			      "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", NULL };
	assert_int_equal(run_exercise(env, NULL, NULL), 0);
	assert_int_equal(otlp_receiver_count(r), 1);
	const struct otlp_request *q = otlp_receiver_request(r, 0);
	assert_string_equal(otlp_request_header(q, "content-encoding"), "gzip");
	check_trace(q->proto);
	otlp_receiver_stop(r);
}

static void test_otlp_json(void **state)
{
	(void)state;
	struct otlp_receiver *r = otlp_receiver_start();
	char endpoint[128];

	assert_non_null(r);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u/",
		 otlp_receiver_port(r));
	const char *env[] = { endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL=http/json", NULL };
	assert_int_equal(run_exercise(env, NULL, NULL), 0);
	assert_int_equal(otlp_receiver_count(r), 1);
	const struct otlp_request *q = otlp_receiver_request(r, 0);
	assert_true(q->is_json);
	assert_string_equal(q->target, "/v1/traces");
	assert_non_null(strstr(q->json, "\"name\":\"call-database\""));
	assert_non_null(strstr(q->json, "\"name\":\"handle-request\""));
	assert_non_null(strstr(q->json, "{\"key\":\"service.name\",\"value\":{\"stringValue\":"
					"\"exercise-svc\"}}"));
	assert_non_null(strstr(q->json, "\"kind\":3"));
	assert_non_null(strstr(q->json, "\"kind\":2"));
	assert_non_null(strstr(q->json, "\"code\":2"));
	otlp_receiver_stop(r);
}

static void test_console(void **state)
{
	(void)state;
	FILE *out = tmpfile();
	char text[8192];
	size_t n;

	assert_non_null(out);
	const char *env[] = { "OTEL_TRACES_EXPORTER=console", NULL };
	assert_int_equal(run_exercise(env, out, NULL), 0);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	assert_non_null(strstr(text, "[exercise-svc] call-database CLIENT"));
	assert_non_null(strstr(text, "[exercise-svc] handle-request SERVER"));
	assert_non_null(strstr(text, "status=ERROR \"could not connect to the database\""));
	assert_non_null(strstr(text, "db.system.name = \"postgresql\""));
	assert_non_null(strstr(text, "event exception"));
	/* The child line comes first and names the server span as its parent. */
	assert_true(strstr(text, "call-database") < strstr(text, "handle-request"));
}

static void test_dead_collector_exits_in_bounded_time(void **state)
{
	(void)state;
	char endpoint[128];
	double elapsed;

	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%u",
		 otlp_unused_port());
	const char *env[] = { endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT=1000", NULL };
	/* The flush fails (reported, exit 1) but neither hangs nor crashes. */
	assert_int_equal(run_exercise(env, NULL, &elapsed), 1);
	assert_true(elapsed < 5.0);
}

int main(void)
{
	const char *build = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_otlp_protobuf),
		cmocka_unit_test(test_otlp_gzip_and_traces_endpoint),
		cmocka_unit_test(test_otlp_json),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_dead_collector_exits_in_bounded_time),
	};

	snprintf(exe, sizeof(exe), "%s/examples/exercise", build && *build ? build : "build");
	if (access(exe, X_OK)) {
		fprintf(stderr, "test_exercise: %s is not built\n", exe);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
