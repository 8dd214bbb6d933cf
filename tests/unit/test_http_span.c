// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of HTTP span assembly: SERVER and CLIENT spans from parsed
 * exchanges with their exact names, kinds, attributes, times and status
 * rules, the query kept out by default, and unknown methods.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <otel/propagation.h>
#include "collector.h"
#include "http_span.h"
#include "proto_http1.h"

static struct collector col;

#define S(x) ((struct kspan_str){ (x), sizeof(x) - 1 })

static struct kspan_conn conn_v4(uint32_t role)
{
	struct kspan_conn c = { .role = role };

	c.local = (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 },
				       .family = AF_INET, .port = 8080 };
	c.remote = (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 2 },
					.family = AF_INET, .port = 51000 };
	return c;
}

static struct kspan_http1_exchange exchange(const char *method, const char *path, const char *query,
					    uint16_t status)
{
	struct kspan_http1_exchange x = {
		.method = { method, strlen(method) },
		.target = S("/ignored"),
		.path = { path, strlen(path) },
		.query = { query, strlen(query) },
		.host = S("shop.example:8080"),
		.user_agent = S("curl/7.88.1"),
		.traceparent = S(""),
		.tracestate = S(""),
		.req_version = 11,
		.resp_version = 11,
		.status = status,
		.req_body_bytes = 0,
		.resp_body_bytes = 1234,
	};
	return x;
}

static const struct otel_span_data *emit(otel_tracer *t, struct kspan_conn *c, bool server,
					 struct kspan_http1_exchange *x, bool query)
{
	struct kspan_ktime kt = { .offset_ns = 1000000000000ll };
	struct kspan_parser_event ev = { .type = KSPAN_PEV_EXCHANGE,
					 .req_first_ns = 5000,
					 .req_last_ns = 6000,
					 .resp_first_ns = 7000,
					 .resp_last_ns = 9000,
					 .detail = x };
	struct kspan_http_span_opts opts = { .capture_query = query };

	assert_int_equal(kspan_http_span_emit(t, &kt, c, server, &ev, &opts), 0);
	return col.spans[col.n - 1];
}

static void test_server_span(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "kspan", NULL, NULL);
	struct kspan_conn c = conn_v4(KSPAN_ROLE_SERVER);
	struct kspan_http1_exchange x = exchange("GET", "/users/12345/orders", "token=secret", 200);

	const struct otel_span_data *d = emit(t, &c, true, &x, false);
	assert_string_equal(d->name, "GET /users/{id}/orders");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_SERVER);
	assert_int_equal(d->start_time_ns, 1000000000000ull + 5000);
	assert_int_equal(d->end_time_ns, 1000000000000ull + 9000);
	assert_string_equal(span_str(d, "http.request.method"), "GET");
	assert_string_equal(span_str(d, "url.path"), "/users/12345/orders");
	assert_string_equal(span_str(d, "http.route"), "/users/{id}/orders");
	assert_string_equal(span_str(d, "url.scheme"), "http");
	assert_null(span_attr(d, "url.query")); /* not exported by default */
	assert_int_equal(span_int(d, "http.response.status_code"), 200);
	assert_string_equal(span_str(d, "network.protocol.version"), "1.1");
	assert_string_equal(span_str(d, "server.address"), "shop.example");
	assert_int_equal(span_int(d, "server.port"), 8080);
	assert_string_equal(span_str(d, "client.address"), "127.0.0.2");
	assert_int_equal(span_int(d, "client.port"), 51000);
	assert_string_equal(span_str(d, "user_agent.original"), "curl/7.88.1");
	assert_int_equal(span_int(d, "http.response.body.size"), 1234);
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	assert_null(span_attr(d, "error.type"));

	/* 404 is not a server error; 500 is. */
	x = exchange("GET", "/missing", "", 404);
	d = emit(t, &c, true, &x, false);
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	x = exchange("POST", "/api/v1/orders", "", 500);
	d = emit(t, &c, true, &x, false);
	assert_string_equal(d->name, "POST /api/v1/orders");
	assert_int_equal(d->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(span_str(d, "error.type"), "500");
	/* With query capture on, the query is exported. */
	x = exchange("GET", "/search", "q=kspan", 200);
	d = emit(t, &c, true, &x, true);
	assert_string_equal(span_str(d, "url.query"), "q=kspan");
	collector_free(&col, tp);
}

static void test_client_span(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_always_on());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "kspan", NULL, NULL);
	struct kspan_conn c = conn_v4(KSPAN_ROLE_CLIENT);
	struct kspan_http1_exchange x = exchange("GET", "/items/42", "secret=1", 404);

	const struct otel_span_data *d = emit(t, &c, false, &x, false);
	assert_string_equal(d->name, "GET /items/{id}");
	assert_int_equal(d->kind, OTEL_SPAN_KIND_CLIENT);
	assert_string_equal(span_str(d, "url.full"), "http://shop.example:8080/items/42");
	assert_string_equal(span_str(d, "server.address"), "shop.example");
	assert_int_equal(span_int(d, "server.port"), 8080);
	assert_string_equal(span_str(d, "network.peer.address"), "127.0.0.2");
	assert_null(span_attr(d, "client.address"));
	/* A client span fails on 4xx. */
	assert_int_equal(d->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(span_str(d, "error.type"), "404");

	/* Unknown method: _OTHER, the original kept aside. */
	x = exchange("PURGE", "/cache", "", 200);
	d = emit(t, &c, false, &x, false);
	assert_string_equal(d->name, "HTTP /cache");
	assert_string_equal(span_str(d, "http.request.method"), "_OTHER");
	assert_string_equal(span_str(d, "http.request.method_original"), "PURGE");
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	collector_free(&col, tp);
}

static void test_ipv6_address_format(void **state)
{
	(void)state;
	struct kspan_addr a = { .addr = { [15] = 1 }, .family = AF_INET6 };
	char buf[64];

	assert_string_equal(kspan_addr_format(&a, buf, sizeof(buf)), "::1");
	a = (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, 10, 1, 2, 3 }, .family = AF_INET6 };
	assert_string_equal(kspan_addr_format(&a, buf, sizeof(buf)), "10.1.2.3");
}

static void test_traceparent_continues_the_callers_trace(void **state)
{
	(void)state;
	otel_tracer_provider *tp = collector_provider(&col, NULL, otel_sampler_from_env());
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "kspan", NULL, NULL);
	struct kspan_conn c = conn_v4(KSPAN_ROLE_SERVER);
	struct kspan_http1_exchange x = exchange("GET", "/users/1", "", 200);
	static const uint8_t trace_id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent_id[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	static const uint8_t zero[8];

	x.traceparent = S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	x.tracestate = S("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	const struct otel_span_data *d = emit(t, &c, true, &x, false);
	assert_memory_equal(d->context.trace_id, trace_id, 16);
	assert_memory_equal(d->parent_span_id, parent_id, 8);
	assert_true(d->parent_is_remote);
	assert_true(otel_span_context_is_sampled(&d->context));
	assert_string_equal(otel_trace_state_get(d->context.trace_state, "congo"), "t61rcWkgMzE");

	/* Invalid (uppercase hex): ignored, a new trace with no parent. */
	x.traceparent = S("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01");
	d = emit(t, &c, true, &x, false);
	assert_memory_not_equal(d->context.trace_id, trace_id, 16);
	assert_memory_equal(d->parent_span_id, zero, 8);
	assert_null(d->context.trace_state);

	/* A client's own outgoing traceparent is not its parent. */
	x.traceparent = S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	struct kspan_conn cc = conn_v4(KSPAN_ROLE_CLIENT);
	d = emit(t, &cc, false, &x, false);
	assert_memory_equal(d->parent_span_id, zero, 8);

	/* An unsampled caller: the default parent-based sampler drops the span. */
	x.traceparent = S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
	size_t before = col.n;
	struct kspan_ktime kt = { 0 };
	struct kspan_parser_event ev = { .type = KSPAN_PEV_EXCHANGE, .req_first_ns = 1,
					 .resp_last_ns = 2, .detail = &x };
	struct kspan_http_span_opts opts = { 0 };
	assert_int_equal(kspan_http_span_emit(t, &kt, &c, true, &ev, &opts), 0);
	assert_int_equal(col.n, before);
	collector_free(&col, tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_span),
		cmocka_unit_test(test_client_span),
		cmocka_unit_test(test_ipv6_address_format),
		cmocka_unit_test(test_traceparent_continues_the_callers_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
