// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end tests of the OTLP/HTTP exporter against the test receiver over
 * real loopback HTTP: exact spans in protobuf and JSON, gzip, headers and
 * User-Agent, keep-alive, the retry rules (Retry-After, backoff, what is not
 * retried, partial success), deadlines against dead and hanging endpoints,
 * shutdown from another thread, size limits, and memory over many failures.
 * Needs only loopback sockets (no root).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/sdk.h>
#include "clock.h"
#include "collector.h"
#include "otlp_receiver.h"

#define T0 1700000000000000000ull /* span timestamps: fixed, so they can be compared exactly */
#define N_SPANS 3

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static struct collector col;
static otel_tracer_provider *tp;
/* Ended in this order: the client child, its server parent, an internal root with an error. */
static const struct otel_span_data *spans[N_SPANS];
static struct otlp_receiver *rx;

static void make_spans(void)
{
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "kspan.test", "1.2.3", NULL);
	struct otel_attribute sattrs[] = { OTEL_ATTR_STR("http.request.method", "GET"),
					   OTEL_ATTR_INT("http.response.status_code", 200) };
	OTEL_OPTS(otel_span_start_opts, so, .kind = OTEL_SPAN_KIND_SERVER, .root = true,
		  .start_time_ns = T0, .attributes = sattrs, .n_attributes = 2);
	otel_span *server = otel_tracer_start_span(t, "GET /users/{id}", &so);
	otel_context *ctx = otel_context_with_span(NULL, server);
	OTEL_OPTS(otel_span_start_opts, co, .kind = OTEL_SPAN_KIND_CLIENT, .parent = ctx,
		  .start_time_ns = T0 + 1000);
	otel_span *client = otel_tracer_start_span(t, "SELECT users", &co);
	OTEL_OPTS(otel_span_start_opts, io, .root = true, .start_time_ns = T0 + 10000);
	otel_span *internal = otel_tracer_start_span(t, "checkout", &io);

	otel_span_set_attribute_str(client, "db.system.name", "postgresql");
	otel_span_end(client, T0 + 5000);
	otel_span_end(server, T0 + 9000);
	otel_span_add_event(internal, "paid", T0 + 15000, NULL, 0);
	otel_span_set_status(internal, OTEL_STATUS_ERROR, "card declined");
	otel_span_end(internal, T0 + 20000);
	otel_context_unref(ctx);
	assert_int_equal(col.n, N_SPANS);
	for (size_t i = 0; i < N_SPANS; i++)
		spans[i] = col.spans[i];
}

static int group_setup(void **state)
{
	static const char *const vars[] = { "http_proxy",  "HTTP_PROXY", "https_proxy",
					    "HTTPS_PROXY", "all_proxy",	 "ALL_PROXY" };

	(void)state;
	/* A proxy from the environment would swallow loopback requests. */
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	log_capture_start(OTEL_LOG_WARN);
	tp = collector_provider(&col, NULL, otel_sampler_always_on());
	make_spans();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	collector_free(&col, tp);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	log_text[0] = '\0';
	rx = otlp_receiver_start();
	assert_non_null(rx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otlp_receiver_stop(rx);
	rx = NULL;
	return 0;
}

/* ---- Helpers ---- */

/* Test defaults: the receiver, no environment, short backoff, 5 s per export. */
#define TEST_OPTS(NAME)                                                           \
	OTEL_OPTS(otel_otlp_http_opts, NAME, .traces_url = otlp_receiver_url(rx), \
		  .ignore_env = true, .initial_backoff_ms = 50, .timeout_ms = 5000)

static struct otel_span_exporter *new_exporter(const struct otel_otlp_http_opts *o)
{
	struct otel_span_exporter *e = otel_otlp_http_exporter_new(o);

	assert_non_null(e);
	return e;
}

static enum otel_export_result export_all(struct otel_span_exporter *e, uint32_t budget_ms)
{
	return e->ops->export_spans(e, spans, N_SPANS, otel_deadline_after_ms(budget_ms));
}

static struct otel_otlp_stats stats_of(const struct otel_span_exporter *e)
{
	struct otel_otlp_stats s;

	assert_int_equal(otel_otlp_http_exporter_stats(e, &s), 0);
	return s;
}

static double seconds_since(uint64_t t0)
{
	return (double)(otel_mono_ns() - t0) / 1e9;
}

static const struct otlp_request *request(size_t i)
{
	const struct otlp_request *q = otlp_receiver_request(rx, i);

	assert_non_null(q);
	return q;
}

static const otlp_span_pb *find_span(const struct otlp_request *q, const char *name)
{
	for (size_t i = 0; i < otlp_request_span_count(q); i++)
		if (!strcmp(otlp_request_span(q, i)->name, name))
			return otlp_request_span(q, i);
	fail_msg("span %s not in the request", name);
	return NULL;
}

static void assert_bytes(ProtobufCBinaryData b, const uint8_t *want, size_t len)
{
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
}

static const Opentelemetry__Proto__Common__V1__AnyValue *attr(const otlp_span_pb *s,
							      const char *key)
{
	for (size_t i = 0; i < s->n_attributes; i++)
		if (!strcmp(s->attributes[i]->key, key))
			return s->attributes[i]->value;
	fail_msg("attribute %s missing", key);
	return NULL;
}

/* The three spans arrived with exactly the ids, times, kinds and attributes they had. */
static void assert_exact_spans(const struct otlp_request *q)
{
	const struct otel_span_data *client = spans[0], *server = spans[1], *internal = spans[2];
	const otlp_span_pb *s;

	assert_non_null(q->proto);
	assert_int_equal(otlp_request_span_count(q), N_SPANS);
	assert_int_equal(q->proto->n_resource_spans, 1);

	s = find_span(q, "GET /users/{id}");
	assert_bytes(s->trace_id, server->context.trace_id, 16);
	assert_bytes(s->span_id, server->context.span_id, 8);
	assert_int_equal(s->parent_span_id.len, 0); /* a root */
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_int_equal(s->start_time_unix_nano, T0);
	assert_int_equal(s->end_time_unix_nano, T0 + 9000);
	assert_string_equal(attr(s, "http.request.method")->string_value, "GET");
	assert_int_equal(attr(s, "http.response.status_code")->int_value, 200);

	s = find_span(q, "SELECT users");
	assert_bytes(s->trace_id, server->context.trace_id, 16); /* same trace as its parent */
	assert_bytes(s->span_id, client->context.span_id, 8);
	assert_bytes(s->parent_span_id, server->context.span_id, 8);
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
	assert_int_equal(s->start_time_unix_nano, T0 + 1000);
	assert_int_equal(s->end_time_unix_nano, T0 + 5000);
	assert_string_equal(attr(s, "db.system.name")->string_value, "postgresql");

	s = find_span(q, "checkout");
	assert_bytes(s->trace_id, internal->context.trace_id, 16);
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
	assert_int_equal(s->n_events, 1);
	assert_string_equal(s->events[0]->name, "paid");
	assert_int_equal(s->events[0]->time_unix_nano, T0 + 15000);
	assert_non_null(s->status);
	assert_int_equal(s->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_string_equal(s->status->message, "card declined");
}

static void plan(int status, const char *headers)
{
	struct otlp_response r = { .status = status, .headers = headers };

	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
}

/* ---- Delivery ---- */

static void test_protobuf_exact_spans(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	const struct otlp_request *q;
	struct otel_otlp_stats st;

	(void)state;
	o.max_attempts = 6;
	e = new_exporter(&o);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 1);
	q = request(0);
	assert_string_equal(q->method, "POST");
	assert_string_equal(q->target, "/v1/traces");
	assert_string_equal(otlp_request_header(q, "Content-Type"), "application/x-protobuf");
	assert_string_equal(otlp_request_header(q, "User-Agent"),
			    "OTel-OTLP-Exporter-C/" OTEL_VERSION_STRING);
	assert_null(otlp_request_header(q, "Content-Encoding"));
	assert_int_equal(q->status, 200);
	assert_exact_spans(q);

	st = stats_of(e);
	assert_int_equal(st.exports_ok, 1);
	assert_int_equal(st.exports_failed, 0);
	assert_int_equal(st.spans_ok, N_SPANS);
	assert_int_equal(st.spans_failed, 0);
	assert_int_equal(st.spans_rejected, 0);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.bytes_sent, q->wire_len);
	otel_span_exporter_free(e);
}

static void test_json_body(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	const struct otlp_request *q;
	char want[64];

	(void)state;
	o.protocol = OTEL_OTLP_HTTP_JSON;
	o.protocol_set = true;
	e = new_exporter(&o);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 1);
	q = request(0);
	assert_string_equal(otlp_request_header(q, "Content-Type"), "application/json");
	assert_true(q->is_json);
	assert_null(q->proto);
	/* Ids are lowercase hex in OTLP/JSON; each span's name and id are in the body. */
	strcpy(want, "\"traceId\":\"");
	for (int i = 0; i < 16; i++)
		sprintf(want + strlen(want), "%02x", spans[1]->context.trace_id[i]);
	assert_non_null(strstr(q->json, want));
	assert_non_null(strstr(q->json, "\"name\":\"GET /users/{id}\""));
	assert_non_null(strstr(q->json, "\"name\":\"SELECT users\""));
	assert_non_null(strstr(q->json, "\"name\":\"checkout\""));
	assert_int_equal(stats_of(e).spans_ok, N_SPANS);
	otel_span_exporter_free(e);
}

static void test_gzip_body(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	const struct otlp_request *q;

	(void)state;
	o.compression = OTEL_OTLP_COMPRESSION_GZIP;
	o.compression_set = true;
	e = new_exporter(&o);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	q = request(0);
	assert_string_equal(otlp_request_header(q, "Content-Encoding"), "gzip");
	assert_int_not_equal(q->wire_len, q->body_len); /* what travelled was compressed */
	assert_int_equal(stats_of(e).bytes_sent, q->wire_len);
	assert_exact_spans(q); /* and inflates to the same spans */
	otel_span_exporter_free(e);
}

static void test_custom_headers(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	const struct otlp_request *q;

	(void)state;
	o.headers = "x-api-key=abc%20def%3D, X-Tenant = t1,x-empty=";
	e = new_exporter(&o);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	q = request(0);
	assert_string_equal(otlp_request_header(q, "x-api-key"), "abc def=");
	assert_string_equal(otlp_request_header(q, "X-Tenant"), "t1");
	assert_string_equal(otlp_request_header(q, "x-empty"), "");
	assert_null(otlp_request_header(q, "Expect")); /* no 100-continue round trip */
	otel_span_exporter_free(e);
}

static void test_headers_from_env(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	const struct otlp_request *q;

	(void)state;
	o.ignore_env = false;
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "from=general", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "from=traces", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip", 1);
	e = new_exporter(&o);
	unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	q = request(0);
	assert_string_equal(otlp_request_header(q, "from"), "traces");
	assert_string_equal(otlp_request_header(q, "Content-Encoding"), "gzip");
	otel_span_exporter_free(e);
}

static void test_keep_alive(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;

	(void)state;
	e = new_exporter(&o);
	for (int i = 0; i < 3; i++)
		assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 3);
	assert_int_equal(otlp_receiver_connections(rx), 1); /* one connection for all three */
	assert_int_equal(request(2)->conn_id, request(0)->conn_id);
	otel_span_exporter_free(e);
}

static void test_empty_export_sends_nothing(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;

	(void)state;
	e = new_exporter(&o);
	assert_int_equal(e->ops->export_spans(e, spans, 0, otel_deadline_after_ms(1000)),
			 OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 0);
	assert_int_equal(stats_of(e).exports_ok, 0);
	otel_span_exporter_free(e);
}

static void test_simple_processor_pipeline(void **state)
{
	TEST_OPTS(o);
	otel_span_processor *p = otel_simple_span_processor_new(new_exporter(&o));
	otel_resource *res = otel_resource_new(
		(struct otel_attribute[]){ OTEL_ATTR_STR("service.name", "shop") }, 1, NULL);
	otel_tracer_provider *ptp;
	const otlp_span_pb *s;
	const struct otlp_request *q;

	(void)state;
	assert_non_null(p);
	ptp = otel_tracer_provider_new(
		&(struct otel_tracer_provider_opts){ .sz = sizeof(struct otel_tracer_provider_opts),
						     .resource = res,
						     .sampler = otel_sampler_always_on(),
						     .processors = &p,
						     .n_processors = 1 });
	assert_non_null(ptp);
	otel_span_end(
		otel_tracer_start_span(otel_tracer_provider_get_tracer(ptp, "lib", NULL, NULL),
				       "pipeline-span", NULL),
		0);
	assert_true(otlp_receiver_wait(rx, 1, 5000));
	q = request(0);
	s = find_span(q, "pipeline-span");
	assert_int_equal(s->trace_id.len, 16);
	assert_string_equal(q->proto->resource_spans[0]->scope_spans[0]->scope->name, "lib");
	otel_tracer_provider_free(ptp);
	otel_span_processor_unref(p);
	otel_resource_unref(res);
}

/* ---- Retries ---- */

static void test_retry_after_503(void **state)
{
	/* A 2.5-5 s backoff: only honouring Retry-After: 1 explains a ~1 s retry. */
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();
	double took;

	(void)state;
	o.initial_backoff_ms = 5000;
	o.timeout_ms = 10000;
	e = new_exporter(&o);
	plan(503, "Retry-After: 1\r\n");
	assert_int_equal(export_all(e, 10000), OTEL_EXPORT_SUCCESS);
	took = seconds_since(t0);
	assert_true(took >= 0.9);
	assert_true(took < 2.4);
	assert_int_equal(otlp_receiver_count(rx), 2);
	assert_int_equal(request(0)->status, 503);
	assert_int_equal(request(1)->status, 200); /* delivered once */
	assert_true(request(1)->mono_ns - request(0)->mono_ns >= 900000000ull);
	assert_exact_spans(request(1));
	assert_int_equal(stats_of(e).retries, 1);
	assert_int_equal(stats_of(e).exports_ok, 1);
	assert_int_equal(stats_of(e).spans_ok, N_SPANS);
	otel_span_exporter_free(e);
}

static void test_retry_after_http_date_in_past(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();

	(void)state;
	o.initial_backoff_ms = 5000;
	e = new_exporter(&o);
	/* A date already passed means "retry now", not the 2.5-5 s backoff. */
	plan(429, "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
	assert_int_equal(export_all(e, 10000), OTEL_EXPORT_SUCCESS);
	assert_true(seconds_since(t0) < 2.4);
	assert_int_equal(otlp_receiver_count(rx), 2);
	otel_span_exporter_free(e);
}

static void test_retryable_statuses(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otel_otlp_stats st;

	(void)state;
	e = new_exporter(&o);
	plan(429, NULL);
	plan(502, NULL);
	plan(504, NULL);
	plan(503, NULL);
	assert_int_equal(export_all(e, 10000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 5);
	assert_int_equal(request(4)->status, 200);
	st = stats_of(e);
	assert_int_equal(st.retries, 4);
	assert_int_equal(st.exports_ok, 1);
	assert_int_equal(st.exports_failed, 0);
	/* Each attempt uploaded the whole body. */
	assert_int_equal(st.bytes_sent, 5 * request(0)->wire_len);
	otel_span_exporter_free(e);
}

static void test_disconnect_is_retried(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otlp_response drop = { .drop = true };

	(void)state;
	e = new_exporter(&o);
	/* "If the server disconnects without returning a response, the client SHOULD retry." */
	assert_int_equal(otlp_receiver_plan(rx, &drop), 0);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(otlp_receiver_count(rx), 2);
	assert_int_equal(request(0)->status, 0);
	assert_int_equal(request(1)->status, 200);
	assert_int_equal(stats_of(e).retries, 1);
	otel_span_exporter_free(e);
}

static void assert_not_retried(int status)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otel_otlp_stats st;

	e = new_exporter(&o);
	plan(status, NULL);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_FAILURE);
	/* Give a wrongly scheduled retry (50-100 ms backoff) time to show up. */
	usleep(300000);
	assert_int_equal(otlp_receiver_count(rx), 1);
	st = stats_of(e);
	assert_int_equal(st.exports_failed, 1);
	assert_int_equal(st.spans_failed, N_SPANS);
	assert_int_equal(st.exports_ok, 0);
	assert_int_equal(st.retries, 0);
	otel_span_exporter_free(e);
}

static void test_400_not_retried(void **state)
{
	(void)state;
	assert_not_retried(400);
}

static void test_other_statuses_not_retried(void **state)
{
	static const int statuses[] = { 401, 403, 404, 408, 413, 500, 501, 505 };

	(void)state;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		teardown(state);
		setup(state);
		assert_not_retried(statuses[i]);
	}
}

static void test_error_message_logged(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	/* google.rpc.Status{code: 3, message: "span 7 has no name"} */
	static const uint8_t status_pb[] = { 0x08, 0x03, 0x12, 0x12, 's', 'p', 'a', 'n',
					     ' ',  '7',	 ' ',  'h',  'a', 's', ' ', 'n',
					     'o',  ' ',	 'n',  'a',  'm', 'e' };
	struct otlp_response r = { .status = 400,
				   .body = status_pb,
				   .body_len = sizeof(status_pb) };

	(void)state;
	e = new_exporter(&o);
	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_FAILURE);
	/* Failure messages are rate-limited per process; this is the first within 10 s. */
	assert_non_null(strstr(log_text, "HTTP 400: span 7 has no name (not retryable)"));
	otel_span_exporter_free(e);
}

static void test_gives_up_after_max_attempts(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;

	(void)state;
	o.max_attempts = 3;
	e = new_exporter(&o);
	for (int i = 0; i < 5; i++)
		plan(503, NULL);
	assert_int_equal(export_all(e, 10000), OTEL_EXPORT_FAILURE);
	assert_int_equal(otlp_receiver_count(rx), 3);
	assert_int_equal(stats_of(e).retries, 2);
	assert_int_equal(stats_of(e).exports_failed, 1);
	otel_span_exporter_free(e);
}

static void test_retry_after_beyond_deadline(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();

	(void)state;
	e = new_exporter(&o);
	/* Waiting 30 s cannot fit a 2 s budget: fail now rather than sleep in vain. */
	plan(429, "Retry-After: 30\r\n");
	assert_int_equal(export_all(e, 2000), OTEL_EXPORT_FAILURE);
	assert_true(seconds_since(t0) < 1.0);
	assert_int_equal(otlp_receiver_count(rx), 1);
	assert_int_equal(stats_of(e).retries, 0);
	otel_span_exporter_free(e);
}

/* ---- Partial success ---- */

static void test_partial_success_protobuf(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otlp_response r = { .status = 200 };
	struct otel_otlp_stats st;
	uint8_t *body;

	(void)state;
	e = new_exporter(&o);
	body = otlp_partial_success_pb(2, "spans too old", &r.body_len);
	r.body = body;
	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
	free(body);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	usleep(200000);
	assert_int_equal(otlp_receiver_count(rx), 1); /* never retried */
	st = stats_of(e);
	assert_int_equal(st.exports_ok, 1);
	assert_int_equal(st.spans_rejected, 2);
	assert_int_equal(st.spans_ok, 1);
	assert_int_equal(st.retries, 0);
	/* The first partial-success warning in this process (they are rate-limited). */
	assert_non_null(strstr(log_text, "rejected 2 of 3 spans: spans too old"));
	otel_span_exporter_free(e);
}

static void test_partial_success_json(void **state)
{
	static const char body[] =
		"{\"unknown\":[1,{\"a\":null}],\"partialSuccess\":"
		"{\"errorMessage\":\"quota \\\"x\\\"\",\"rejectedSpans\":\"1\"}}";
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otlp_response r = { .status = 200, .body = body, .body_len = strlen(body) };
	struct otel_otlp_stats st;

	(void)state;
	o.protocol = OTEL_OTLP_HTTP_JSON;
	o.protocol_set = true;
	e = new_exporter(&o);
	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	st = stats_of(e);
	assert_int_equal(st.spans_rejected, 1);
	assert_int_equal(st.spans_ok, 2);
	assert_int_equal(otlp_receiver_count(rx), 1);
	otel_span_exporter_free(e);
}

static void test_partial_success_warning_only(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	struct otlp_response r = { .status = 200 };
	uint8_t *body;

	(void)state;
	e = new_exporter(&o);
	/* rejected 0 with a message is a warning: everything counts as accepted. */
	body = otlp_partial_success_pb(0, "attribute names should be lowercase", &r.body_len);
	r.body = body;
	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
	free(body);
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_SUCCESS);
	assert_int_equal(stats_of(e).spans_rejected, 0);
	assert_int_equal(stats_of(e).spans_ok, N_SPANS);
	otel_span_exporter_free(e);
}

/* ---- Deadlines, dead and hanging endpoints, shutdown ---- */

static void dead_url(char *url, size_t size)
{
	uint16_t port = otlp_unused_port();

	assert_int_not_equal(port, 0);
	snprintf(url, size, "http://127.0.0.1:%u/v1/traces", port);
}

static void test_dead_endpoint_bounded_retries(void **state)
{
	char url[64];
	OTEL_OPTS(otel_otlp_http_opts, o, .traces_url = url, .ignore_env = true, .max_attempts = 4,
		  .initial_backoff_ms = 50);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();
	struct otel_otlp_stats st;

	(void)state;
	dead_url(url, sizeof(url));
	e = new_exporter(&o);
	assert_int_equal(export_all(e, 10000), OTEL_EXPORT_FAILURE);
	/* 3 backoffs of at most 50, 100, 200 ms. */
	assert_true(seconds_since(t0) < 2.0);
	st = stats_of(e);
	assert_int_equal(st.retries, 3);
	assert_int_equal(st.exports_failed, 1);
	assert_int_equal(st.spans_failed, N_SPANS);
	assert_int_equal(st.bytes_sent, 0);
	otel_span_exporter_free(e);
}

static void test_dead_endpoint_within_deadline(void **state)
{
	char url[64];
	OTEL_OPTS(otel_otlp_http_opts, o, .traces_url = url, .ignore_env = true,
		  .max_attempts = 1000, .initial_backoff_ms = 200);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();
	double took;

	(void)state;
	dead_url(url, sizeof(url));
	e = new_exporter(&o);
	/* Unlimited attempts in effect: only the 1.5 s deadline ends the export. */
	assert_int_equal(export_all(e, 1500), OTEL_EXPORT_FAILURE);
	took = seconds_since(t0);
	assert_true(took <= 1.6);
	assert_true(stats_of(e).retries >= 2);
	assert_true(stats_of(e).retries < 10);
	otel_span_exporter_free(e);
}

static void test_hang_cut_at_timeout(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	uint64_t t0 = otel_mono_ns();
	double took;

	(void)state;
	o.timeout_ms = 500;
	e = new_exporter(&o);
	otlp_receiver_set_hang(rx, true);
	/* The caller allows 30 s; the exporter's own 500 ms timeout ends it. */
	assert_int_equal(export_all(e, 30000), OTEL_EXPORT_FAILURE);
	took = seconds_since(t0);
	assert_true(took >= 0.45);
	assert_true(took < 1.5);
	assert_int_equal(otlp_receiver_count(rx), 1);
	assert_int_equal(stats_of(e).exports_failed, 1);
	otel_span_exporter_free(e);
}

struct export_thread {
	struct otel_span_exporter *e;
	enum otel_export_result res;
	uint64_t returned_ns;
};

static void *export_in_thread(void *arg)
{
	struct export_thread *t = arg;

	t->res = export_all(t->e, 60000);
	t->returned_ns = otel_mono_ns();
	return NULL;
}

/* Start an export in a thread, wait until the receiver has it, shut down; how long it took. */
static double shutdown_during_export(struct otel_span_exporter *e)
{
	struct export_thread t = { .e = e };
	pthread_t th;
	uint64_t t0;

	assert_int_equal(pthread_create(&th, NULL, export_in_thread, &t), 0);
	assert_true(otlp_receiver_wait(rx, 1, 5000));
	usleep(100000); /* let it settle into the wait */
	t0 = otel_mono_ns();
	assert_int_equal(e->ops->shutdown(e, otel_deadline_after_ms(5000)), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.res, OTEL_EXPORT_FAILURE);
	return (double)(t.returned_ns - t0) / 1e9;
}

static void test_shutdown_interrupts_hang(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	uint64_t t0;

	(void)state;
	o.timeout_ms = 60000;
	e = new_exporter(&o);
	otlp_receiver_set_hang(rx, true);
	/* The export would hang 60 s; shutdown cuts it off at once (~ms, bound generous). */
	assert_true(shutdown_during_export(e) < 0.5);
	/* After shutdown, exports fail immediately without touching the network. */
	t0 = otel_mono_ns();
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_FAILURE);
	assert_true(seconds_since(t0) < 0.1);
	assert_int_equal(otlp_receiver_count(rx), 1);
	assert_int_equal(stats_of(e).exports_failed, 2);
	assert_int_equal(stats_of(e).spans_failed, 2 * N_SPANS);
	/* A second shutdown is harmless. */
	assert_int_equal(e->ops->shutdown(e, otel_deadline_after_ms(100)), 0);
	otel_span_exporter_free(e);
}

static void test_shutdown_interrupts_backoff(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;

	(void)state;
	o.timeout_ms = 60000;
	e = new_exporter(&o);
	plan(503, "Retry-After: 30\r\n");
	/* Sleeping 30 s before the retry; shutdown wakes it. */
	assert_true(shutdown_during_export(e) < 0.5);
	assert_int_equal(otlp_receiver_count(rx), 1);
	otel_span_exporter_free(e);
}

/* ---- Size limits ---- */

static void test_response_too_large(void **state)
{
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	size_t len = (4u << 20) + 1;
	struct otlp_response r = { .status = 200, .body_len = len };
	void *big = calloc(1, len);

	(void)state;
	e = new_exporter(&o);
	assert_non_null(big);
	r.body = big;
	assert_int_equal(otlp_receiver_plan(rx, &r), 0);
	free(big);
	/* An oversized response is a non-retryable failure (OTLP/HTTP response limit). */
	assert_int_equal(export_all(e, 5000), OTEL_EXPORT_FAILURE);
	usleep(200000);
	assert_int_equal(otlp_receiver_count(rx), 1);
	assert_int_equal(stats_of(e).retries, 0);
	otel_span_exporter_free(e);
}

static void test_request_too_large_not_sent(void **state)
{
	enum { N = 70 };
	TEST_OPTS(o);
	struct otel_span_exporter *e;
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "big", NULL, NULL);
	size_t len = 1u << 20, before = col.n;
	const struct otel_span_data *many[N];
	char *value = malloc(len + 1);
	otel_span *s;

	(void)state;
	e = new_exporter(&o);
	assert_non_null(value);
	memset(value, 'x', len);
	value[len] = '\0';
	s = otel_tracer_start_span(t, "big", NULL);
	otel_span_set_attribute_str(s, "blob", value);
	otel_span_end(s, 0);
	free(value);
	assert_int_equal(col.n, before + 1);
	/* 70 copies of a 1 MiB span encode to more than 64 MiB: not sent at all. */
	for (int i = 0; i < N; i++)
		many[i] = col.spans[before];
	assert_int_equal(e->ops->export_spans(e, many, N, otel_deadline_after_ms(10000)),
			 OTEL_EXPORT_FAILURE);
	assert_int_equal(otlp_receiver_count(rx), 0);
	assert_int_equal(stats_of(e).spans_failed, N);
	assert_int_equal(stats_of(e).bytes_sent, 0);
	otel_span_data_unref(col.spans[before]);
	col.n = before;
	otel_span_exporter_free(e);
}

/* ---- Resources ---- */

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void test_memory_flat_over_failures(void **state)
{
	char url[64];
	OTEL_OPTS(otel_otlp_http_opts, o, .traces_url = url, .ignore_env = true, .max_attempts = 1);
	struct otel_span_exporter *e;
	size_t before, after;

	(void)state;
	dead_url(url, sizeof(url));
	e = new_exporter(&o);
	for (int i = 0; i < 20; i++) /* warm up allocator and curl caches */
		assert_int_equal(export_all(e, 2000), OTEL_EXPORT_FAILURE);
	before = rss_bytes();
	for (int i = 0; i < 200; i++)
		assert_int_equal(export_all(e, 2000), OTEL_EXPORT_FAILURE);
	after = rss_bytes();
	assert_int_equal(stats_of(e).exports_failed, 220);
	assert_int_equal(stats_of(e).spans_failed, 220 * N_SPANS);
#ifndef UNDER_ASAN
	/* Under ASan freed memory sits in quarantine; there, LeakSanitizer is the check. */
	assert_true(after < before + (1u << 20));
#else
	(void)before;
	(void)after;
#endif
	otel_span_exporter_free(e);
}

/* ---- The receiver itself: chunked bodies, pipelining, bad requests ---- */

static int raw_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(otlp_receiver_port(rx)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read @n responses (pipelined responses may share a read) into @status. */
static void raw_responses(int fd, int *status, size_t n)
{
	char buf[8192];
	size_t len = 0, pos = 0;

	for (size_t i = 0; i < n;) {
		char *end = memmem(buf + pos, len - pos, "\r\n\r\n", 4), *cl;
		size_t body;
		ssize_t got;

		if (end) {
			*end = '\0';
			cl = strcasestr(buf + pos, "Content-Length:");
			assert_non_null(cl);
			body = strtoul(cl + 15, NULL, 10);
			if ((size_t)(end + 4 - buf) + body <= len) {
				assert_int_equal(sscanf(buf + pos, "HTTP/1.1 %d", &status[i++]), 1);
				pos = (size_t)(end + 4 - buf) + body;
				continue;
			}
			*end = '\r';
		}
		assert_true(len < sizeof(buf));
		got = recv(fd, buf + len, sizeof(buf) - len, 0);
		assert_true(got > 0);
		len += (size_t)got;
	}
}

static int raw_response(int fd)
{
	int status;

	raw_responses(fd, &status, 1);
	return status;
}

static void raw_send(int fd, const void *p, size_t len)
{
	assert_int_equal(send(fd, p, len, 0), (ssize_t)len);
}

static void test_receiver_chunked_and_pipelined(void **state)
{
	static const char head[] = "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
				   "Content-Type: application/x-protobuf\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	size_t len, half;
	uint8_t *body = otel_otlp_encode_protobuf(spans, N_SPANS, &len);
	char line[32];
	int fd, status[2];

	(void)state;
	assert_non_null(body);
	half = len / 2;
	fd = raw_connect();
	/* One request in two chunks, split across writes, then a second one pipelined. */
	raw_send(fd, head, sizeof(head) - 1);
	snprintf(line, sizeof(line), "%zx\r\n", half);
	raw_send(fd, line, strlen(line));
	raw_send(fd, body, half);
	snprintf(line, sizeof(line), "\r\n%zx;ext=1\r\n", len - half);
	raw_send(fd, line, strlen(line));
	raw_send(fd, body + half, len - half);
	raw_send(fd, "\r\n0\r\n\r\n", 7);
	raw_send(fd, head, sizeof(head) - 1);
	raw_send(fd, "0\r\n\r\n", 5);
	raw_responses(fd, status, 2);
	assert_int_equal(status[0], 200);
	assert_int_equal(status[1], 200);
	close(fd);
	assert_int_equal(otlp_receiver_count(rx), 2);
	assert_true(request(0)->chunked);
	assert_int_equal(request(0)->body_len, len);
	assert_exact_spans(request(0));
	assert_int_equal(otlp_request_span_count(request(1)), 0); /* an empty request */
	assert_int_equal(request(1)->conn_id, request(0)->conn_id);
	free(body);
}

static void test_receiver_rejects_bad_requests(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\n"
		  "Content-Length: 3\r\n\r\n\xff\xff\xff",
		  400 },
		{ "POST /v1/logs HTTP/1.1\r\nContent-Type: application/x-protobuf\r\n"
		  "Content-Length: 0\r\n\r\n",
		  404 },
		{ "GET /v1/traces HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405 },
		{ "POST /v1/traces HTTP/1.1\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 0\r\n\r\n",
		  415 },
	};
	int fd = raw_connect();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_send(fd, cases[i].req, strlen(cases[i].req));
		assert_int_equal(raw_response(fd), cases[i].status);
		assert_int_equal(request(i)->status, cases[i].status);
	}
	close(fd);
	assert_null(request(0)->proto); /* garbage is kept but not decoded */
}

/* ---- Construction ---- */

static void test_constructor_errors(void **state)
{
	OTEL_OPTS(otel_otlp_http_opts, grpc, .protocol = OTEL_OTLP_GRPC, .protocol_set = true,
		  .ignore_env = true);
	OTEL_OPTS(otel_otlp_http_opts, bad, .endpoint = "collector:4318", .ignore_env = true);
	struct otel_span_exporter *mem = otel_memory_exporter_new();
	struct otel_otlp_stats st;

	(void)state;
	errno = 0;
	assert_null(otel_otlp_http_exporter_new(&grpc));
	assert_int_equal(errno, ENOTSUP);
	assert_non_null(strstr(log_text, "grpc protocol is not implemented yet"));
	errno = 0;
	assert_null(otel_otlp_http_exporter_new(&bad));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(log_text, "\"collector:4318\""));
	/* Stats only for OTLP exporters. */
	assert_int_equal(otel_otlp_http_exporter_stats(mem, &st), -EINVAL);
	assert_int_equal(otel_otlp_http_exporter_stats(NULL, &st), -EINVAL);
	otel_span_exporter_free(mem);
	otel_span_exporter_free(NULL);
}

#define T(F) cmocka_unit_test_setup_teardown(F, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_protobuf_exact_spans),
		T(test_json_body),
		T(test_gzip_body),
		T(test_custom_headers),
		T(test_headers_from_env),
		T(test_keep_alive),
		T(test_empty_export_sends_nothing),
		T(test_simple_processor_pipeline),
		T(test_retry_after_503),
		T(test_retry_after_http_date_in_past),
		T(test_retryable_statuses),
		T(test_disconnect_is_retried),
		T(test_400_not_retried),
		T(test_other_statuses_not_retried),
		T(test_error_message_logged),
		T(test_gives_up_after_max_attempts),
		T(test_retry_after_beyond_deadline),
		T(test_partial_success_protobuf),
		T(test_partial_success_json),
		T(test_partial_success_warning_only),
		T(test_dead_endpoint_bounded_retries),
		T(test_dead_endpoint_within_deadline),
		T(test_hang_cut_at_timeout),
		T(test_shutdown_interrupts_hang),
		T(test_shutdown_interrupts_backoff),
		T(test_response_too_large),
		T(test_request_too_large_not_sent),
		T(test_memory_flat_over_failures),
		T(test_receiver_chunked_and_pipelined),
		T(test_receiver_rejects_bad_requests),
		T(test_constructor_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
