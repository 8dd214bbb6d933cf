// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of otel_otlp_encode_protobuf(): every request is decoded again with
 * the protobuf-c generated unpacker and each field is checked exactly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include <opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h>

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;

#define ANY(X) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##X

static const uint8_t trace_id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t span_id[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
static const uint8_t parent_id[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
static const uint8_t link_trace_id[16] = { [0] = 0xaa, [15] = 0x01 };
static const uint8_t link_span_id[8] = { [0] = 0xbb, [7] = 0x02 };

#define T0 1700000000123456789ull

/* Encode, decode, and check the encoder's length is the whole message. */
static pb_request *roundtrip(const struct otel_span_data *const *spans, size_t n)
{
	size_t len = 12345;
	uint8_t *buf = otel_otlp_encode_protobuf(spans, n, &len);
	pb_request *req;

	assert_non_null(buf);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, buf);
	assert_non_null(req);
	free(buf);
	return req;
}

static void free_request(pb_request *req)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		req, NULL);
}

static void assert_bytes(ProtobufCBinaryData got, const uint8_t *want, size_t n)
{
	assert_int_equal(got.len, n);
	assert_memory_equal(got.data, want, n);
}

static const pb_any *kv_value(const pb_kv *kv, const char *key)
{
	assert_string_equal(kv->key, key);
	assert_non_null(kv->value);
	return kv->value;
}

static void assert_kv_str(const pb_kv *kv, const char *key, const char *value)
{
	const pb_any *v = kv_value(kv, key);

	assert_int_equal(v->value_case, ANY(STRING_VALUE));
	assert_string_equal(v->string_value, value);
}

static void assert_kv_int(const pb_kv *kv, const char *key, int64_t value)
{
	const pb_any *v = kv_value(kv, key);

	assert_int_equal(v->value_case, ANY(INT_VALUE));
	assert_true(v->int_value == value);
}

/* ---- One span with every field set ---- */

static const char *const strs[] = { "a", "", "c" };
static const bool bools[] = { true, false };
static const int64_t ints[] = { 1, INT64_MIN, INT64_MAX };
static const double doubles[] = { 0.5, -1e300 };
static const uint8_t blob[] = { 0x00, 0xff, 0x10 };

static const struct otel_attribute span_attrs[] = {
	OTEL_ATTR_STR("str", "hello"),
	OTEL_ATTR_BOOL("bool", true),
	OTEL_ATTR_INT("int", -42),
	OTEL_ATTR_DOUBLE("double", 2.5),
	{ .key = "bytes", .value = { .type = OTEL_VALUE_BYTES, .bytes = { blob, sizeof(blob) } } },
	{ .key = "strs", .value = { .type = OTEL_VALUE_STRING_ARRAY, .array = { strs, 3 } } },
	{ .key = "bools", .value = { .type = OTEL_VALUE_BOOL_ARRAY, .array = { bools, 2 } } },
	{ .key = "ints", .value = { .type = OTEL_VALUE_INT_ARRAY, .array = { ints, 3 } } },
	{ .key = "doubles", .value = { .type = OTEL_VALUE_DOUBLE_ARRAY, .array = { doubles, 2 } } },
	OTEL_ATTR_STR("empty", ""),
};

static const struct otel_attribute event_attrs[] = { OTEL_ATTR_INT("k", 1) };
static const struct otel_attribute link_attrs[] = { OTEL_ATTR_STR("lk", "lv") };

static void check_span_attrs(const pb_span *sp)
{
	const pb_any *v;

	assert_int_equal(sp->n_attributes, 10);
	assert_kv_str(sp->attributes[0], "str", "hello");
	v = kv_value(sp->attributes[1], "bool");
	assert_int_equal(v->value_case, ANY(BOOL_VALUE));
	assert_true(v->bool_value);
	assert_kv_int(sp->attributes[2], "int", -42);
	v = kv_value(sp->attributes[3], "double");
	assert_int_equal(v->value_case, ANY(DOUBLE_VALUE));
	assert_true(v->double_value == 2.5);
	v = kv_value(sp->attributes[4], "bytes");
	assert_int_equal(v->value_case, ANY(BYTES_VALUE));
	assert_bytes(v->bytes_value, blob, sizeof(blob));

	v = kv_value(sp->attributes[5], "strs");
	assert_int_equal(v->value_case, ANY(ARRAY_VALUE));
	assert_int_equal(v->array_value->n_values, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(v->array_value->values[i]->value_case, ANY(STRING_VALUE));
		assert_string_equal(v->array_value->values[i]->string_value, strs[i]);
	}
	v = kv_value(sp->attributes[6], "bools");
	assert_int_equal(v->array_value->n_values, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(v->array_value->values[i]->value_case, ANY(BOOL_VALUE));
		assert_int_equal(!!v->array_value->values[i]->bool_value, bools[i]);
	}
	v = kv_value(sp->attributes[7], "ints");
	assert_int_equal(v->array_value->n_values, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(v->array_value->values[i]->value_case, ANY(INT_VALUE));
		assert_true(v->array_value->values[i]->int_value == ints[i]);
	}
	v = kv_value(sp->attributes[8], "doubles");
	assert_int_equal(v->array_value->n_values, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(v->array_value->values[i]->value_case, ANY(DOUBLE_VALUE));
		assert_true(v->array_value->values[i]->double_value == doubles[i]);
	}
	/* An empty string is still a set oneof: present, not an empty AnyValue. */
	assert_kv_str(sp->attributes[9], "empty", "");
}

static void check_events(const pb_span *sp)
{
	assert_int_equal(sp->n_events, 2);
	assert_true(sp->events[0]->time_unix_nano == T0 + 1000);
	assert_string_equal(sp->events[0]->name, "ev1");
	assert_int_equal(sp->events[0]->n_attributes, 1);
	assert_kv_int(sp->events[0]->attributes[0], "k", 1);
	assert_int_equal(sp->events[0]->dropped_attributes_count, 2);
	assert_true(sp->events[1]->time_unix_nano == T0 + 2000);
	assert_string_equal(sp->events[1]->name, "ev2");
	assert_int_equal(sp->events[1]->n_attributes, 0);
	assert_int_equal(sp->events[1]->dropped_attributes_count, 0);
	assert_int_equal(sp->dropped_events_count, 4);
}

static void check_links(const pb_span *sp)
{
	assert_int_equal(sp->n_links, 2);
	assert_bytes(sp->links[0]->trace_id, link_trace_id, 16);
	assert_bytes(sp->links[0]->span_id, link_span_id, 8);
	assert_string_equal(sp->links[0]->trace_state, "lnk=1");
	assert_int_equal(sp->links[0]->n_attributes, 1);
	assert_kv_str(sp->links[0]->attributes[0], "lk", "lv");
	assert_int_equal(sp->links[0]->dropped_attributes_count, 1);
	/* sampled, HAS_IS_REMOTE, IS_REMOTE */
	assert_int_equal(sp->links[0]->flags, 0x301);
	assert_bytes(sp->links[1]->trace_id, trace_id, 16);
	assert_bytes(sp->links[1]->span_id, parent_id, 8);
	assert_string_equal(sp->links[1]->trace_state, "");
	assert_int_equal(sp->links[1]->flags, 0x100);
	assert_int_equal(sp->dropped_links_count, 5);
}

static void test_full_span(void **state)
{
	otel_trace_state *ts = otel_trace_state_parse("vendor=value,other=x");
	otel_trace_state *lts = otel_trace_state_parse("lnk=1");
	struct otel_attribute res_attrs[] = { OTEL_ATTR_STR("service.name", "svc") };
	otel_resource *res =
		otel_resource_new(res_attrs, 1, "https://opentelemetry.io/schemas/1.0");
	struct otel_scope_info scope = { .name = "lib", .version = "2.1" };
	struct otel_event events[] = {
		{ .name = "ev1",
		  .time_ns = T0 + 1000,
		  .attributes = event_attrs,
		  .n_attributes = 1,
		  .dropped_attributes = 2 },
		{ .name = "ev2", .time_ns = T0 + 2000 },
	};
	struct otel_link links[2] = {
		{ .attributes = link_attrs, .n_attributes = 1, .dropped_attributes = 1 },
	};
	struct otel_span_data d = {
		.name = "GET /users/{id}",
		.kind = OTEL_SPAN_KIND_SERVER,
		.context = { .trace_flags = 1, .trace_state = ts },
		.parent_is_remote = true,
		.start_time_ns = T0,
		.end_time_ns = T0 + 12345678,
		.attributes = span_attrs,
		.n_attributes = 10,
		.dropped_attributes = 3,
		.events = events,
		.n_events = 2,
		.dropped_events = 4,
		.links = links,
		.n_links = 2,
		.dropped_links = 5,
		.status_code = OTEL_STATUS_ERROR,
		.status_description = "boom",
		.resource = res,
		.scope = &scope,
	};
	const struct otel_span_data *list[] = { &d };
	pb_request *req;
	const pb_span *sp;

	(void)state;
	assert_non_null(ts);
	assert_non_null(lts);
	assert_non_null(res);
	memcpy(d.context.trace_id, trace_id, 16);
	memcpy(d.context.span_id, span_id, 8);
	memcpy(d.parent_span_id, parent_id, 8);
	memcpy(links[0].context.trace_id, link_trace_id, 16);
	memcpy(links[0].context.span_id, link_span_id, 8);
	links[0].context.trace_flags = 1;
	links[0].context.is_remote = true;
	links[0].context.trace_state = lts;
	memcpy(links[1].context.trace_id, trace_id, 16);
	memcpy(links[1].context.span_id, parent_id, 8);

	req = roundtrip(list, 1);
	assert_int_equal(req->n_resource_spans, 1);
	assert_string_equal(req->resource_spans[0]->schema_url,
			    "https://opentelemetry.io/schemas/1.0");
	assert_int_equal(req->resource_spans[0]->resource->n_attributes, 1);
	assert_kv_str(req->resource_spans[0]->resource->attributes[0], "service.name", "svc");
	assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->name, "lib");
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->version, "2.1");
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->schema_url, "");
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 1);

	sp = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_bytes(sp->trace_id, trace_id, 16);
	assert_bytes(sp->span_id, span_id, 8);
	assert_bytes(sp->parent_span_id, parent_id, 8);
	assert_string_equal(sp->trace_state, "vendor=value,other=x");
	assert_int_equal(sp->flags, 0x301);
	assert_string_equal(sp->name, "GET /users/{id}");
	assert_int_equal(sp->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_true(sp->start_time_unix_nano == T0);
	assert_true(sp->end_time_unix_nano == T0 + 12345678);
	check_span_attrs(sp);
	assert_int_equal(sp->dropped_attributes_count, 3);
	check_events(sp);
	check_links(sp);
	assert_non_null(sp->status);
	assert_int_equal(sp->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_string_equal(sp->status->message, "boom");

	free_request(req);
	otel_resource_unref(res);
	otel_trace_state_unref(ts);
	otel_trace_state_unref(lts);
}

/* ---- Grouping: 2 resources x 2 scopes, interleaved ---- */

static void test_grouping(void **state)
{
	struct otel_attribute a_attrs[] = { OTEL_ATTR_STR("service.name", "a"),
					    OTEL_ATTR_INT("z.n", 7) };
	struct otel_attribute b_attrs[] = { OTEL_ATTR_STR("service.name", "b") };
	struct otel_attribute x_attrs[] = { OTEL_ATTR_INT("sa", 1) };
	otel_resource *ra = otel_resource_new(a_attrs, 2, "https://a");
	otel_resource *rb = otel_resource_new(b_attrs, 1, NULL);
	struct otel_scope_info sx = { .name = "x",
				      .version = "1.0",
				      .schema_url = "https://x",
				      .attributes = x_attrs,
				      .n_attributes = 1 };
	struct otel_scope_info sy = { .name = "y" };
	/* (resource, scope) of s0..s5 */
	struct {
		otel_resource *r;
		struct otel_scope_info *s;
	} plan[] = {
		{ ra, &sx }, { rb, &sy }, { ra, &sy }, { ra, &sx }, { rb, &sx }, { rb, &sy },
	};
	static const char *const names[] = { "s0", "s1", "s2", "s3", "s4", "s5" };
	struct otel_span_data d[6];
	const struct otel_span_data *list[6];
	const pb_resource_spans *rs;
	pb_request *req;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		d[i] = (struct otel_span_data){ .name = names[i],
						.resource = plan[i].r,
						.scope = plan[i].s,
						.context.trace_id = { 1 },
						.context.span_id = { (uint8_t)(i + 1) } };
		list[i] = &d[i];
	}
	req = roundtrip(list, 6);
	assert_int_equal(req->n_resource_spans, 2);

	rs = req->resource_spans[0];
	assert_string_equal(rs->schema_url, "https://a");
	assert_int_equal(rs->resource->n_attributes, 2);
	assert_kv_str(rs->resource->attributes[0], "service.name", "a");
	assert_kv_int(rs->resource->attributes[1], "z.n", 7);
	assert_int_equal(rs->n_scope_spans, 2);
	assert_string_equal(rs->scope_spans[0]->scope->name, "x");
	assert_string_equal(rs->scope_spans[0]->scope->version, "1.0");
	assert_int_equal(rs->scope_spans[0]->scope->n_attributes, 1);
	assert_kv_int(rs->scope_spans[0]->scope->attributes[0], "sa", 1);
	assert_string_equal(rs->scope_spans[0]->schema_url, "https://x");
	assert_int_equal(rs->scope_spans[0]->n_spans, 2);
	assert_string_equal(rs->scope_spans[0]->spans[0]->name, "s0");
	assert_string_equal(rs->scope_spans[0]->spans[1]->name, "s3");
	assert_string_equal(rs->scope_spans[1]->scope->name, "y");
	assert_string_equal(rs->scope_spans[1]->scope->version, "");
	assert_int_equal(rs->scope_spans[1]->n_spans, 1);
	assert_string_equal(rs->scope_spans[1]->spans[0]->name, "s2");

	rs = req->resource_spans[1];
	assert_string_equal(rs->schema_url, "");
	assert_int_equal(rs->resource->n_attributes, 1);
	assert_kv_str(rs->resource->attributes[0], "service.name", "b");
	assert_int_equal(rs->n_scope_spans, 2);
	assert_string_equal(rs->scope_spans[0]->scope->name, "y");
	assert_int_equal(rs->scope_spans[0]->n_spans, 2);
	assert_string_equal(rs->scope_spans[0]->spans[0]->name, "s1");
	assert_string_equal(rs->scope_spans[0]->spans[1]->name, "s5");
	assert_string_equal(rs->scope_spans[1]->scope->name, "x");
	assert_int_equal(rs->scope_spans[1]->n_spans, 1);
	assert_string_equal(rs->scope_spans[1]->spans[0]->name, "s4");

	free_request(req);
	otel_resource_unref(ra);
	otel_resource_unref(rb);
}

/* Many scopes force the grouping's hash set to grow; order must hold. */
static void test_grouping_many_scopes(void **state)
{
	enum { N = 300, SCOPES = 100 };
	struct otel_scope_info *scopes = calloc(SCOPES, sizeof(*scopes));
	struct otel_span_data *d = calloc(N, sizeof(*d));
	const struct otel_span_data **list = calloc(N, sizeof(*list));
	char(*names)[8] = calloc(SCOPES, sizeof(*names));
	pb_request *req;

	(void)state;
	assert_non_null(scopes);
	assert_non_null(d);
	assert_non_null(list);
	assert_non_null(names);
	for (size_t i = 0; i < SCOPES; i++) {
		snprintf(names[i], sizeof(names[i]), "sc%zu", i);
		scopes[i].name = names[i];
	}
	for (size_t i = 0; i < N; i++) {
		d[i].name = names[i % SCOPES];
		d[i].scope = &scopes[i % SCOPES];
		list[i] = &d[i];
	}
	req = roundtrip(list, N);
	assert_int_equal(req->n_resource_spans, 1);
	assert_int_equal(req->resource_spans[0]->n_scope_spans, SCOPES);
	for (size_t s = 0; s < SCOPES; s++) {
		const pb_scope_spans *ss = req->resource_spans[0]->scope_spans[s];

		assert_string_equal(ss->scope->name, names[s]);
		assert_int_equal(ss->n_spans, N / SCOPES);
		for (size_t i = 0; i < ss->n_spans; i++)
			assert_string_equal(ss->spans[i]->name, names[s]);
	}
	free_request(req);
	free(scopes);
	free(d);
	free(list);
	free(names);
}

/* ---- Field mappings ---- */

static void test_kind_mapping(void **state)
{
	static const int want[] = {
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL,
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER,
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_PRODUCER,
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CONSUMER,
	};
	struct otel_span_data d[5];
	const struct otel_span_data *list[5];
	pb_request *req;

	(void)state;
	for (int k = 0; k < 5; k++) {
		d[k] = (struct otel_span_data){ .name = "k", .kind = (enum otel_span_kind)k };
		list[k] = &d[k];
	}
	req = roundtrip(list, 5);
	for (int k = 0; k < 5; k++)
		assert_int_equal(req->resource_spans[0]->scope_spans[0]->spans[k]->kind, want[k]);
	free_request(req);
}

static void test_root_span_flags_and_status(void **state)
{
	struct otel_span_data root = { .name = "root", .context.trace_flags = 0 };
	struct otel_span_data local = { .name = "local",
					.context.trace_flags = 1,
					.parent_span_id = { 9 },
					.status_code = OTEL_STATUS_OK };
	const struct otel_span_data *list[] = { &root, &local };
	pb_request *req;
	const pb_span *a, *b;

	(void)state;
	req = roundtrip(list, 2);
	a = req->resource_spans[0]->scope_spans[0]->spans[0];
	b = req->resource_spans[0]->scope_spans[0]->spans[1];
	/* A root span has no parent id at all, not eight zero bytes. */
	assert_int_equal(a->parent_span_id.len, 0);
	assert_int_equal(a->flags, 0x100);
	assert_string_equal(a->trace_state, "");
	assert_null(a->status);
	assert_int_equal(b->parent_span_id.len, 8);
	assert_int_equal(b->parent_span_id.data[0], 9);
	assert_int_equal(b->flags, 0x101);
	assert_non_null(b->status);
	assert_int_equal(b->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK);
	assert_string_equal(b->status->message, "");
	/* No resource and no scope: empty ones, still present. */
	assert_non_null(req->resource_spans[0]->resource);
	assert_int_equal(req->resource_spans[0]->resource->n_attributes, 0);
	assert_non_null(req->resource_spans[0]->scope_spans[0]->scope);
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->name, "");
	free_request(req);
}

/* Strings must be UTF-8 in proto3: invalid sequences become U+FFFD. */
static void test_invalid_utf8_repaired(void **state)
{
	struct otel_attribute attrs[] = {
		OTEL_ATTR_STR("k\xff", "a\xc3(b"),
		OTEL_ATTR_STR("cut", "x\xe2\x82"),
		OTEL_ATTR_STR("ok", "caf\xc3\xa9 \xf0\x9f\x98\x80"),
	};
	struct otel_span_data d = { .name = "bad\xed\xa0\x80name",
				    .attributes = attrs,
				    .n_attributes = 3,
				    .status_code = OTEL_STATUS_ERROR,
				    .status_description = "\x80" };
	const struct otel_span_data *list[] = { &d };
	pb_request *req;
	const pb_span *sp;

	(void)state;
	req = roundtrip(list, 1);
	sp = req->resource_spans[0]->scope_spans[0]->spans[0];
	/* A surrogate (ED A0 80) is three ill-formed subparts: three replacements. */
	assert_string_equal(sp->name, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdname");
	assert_kv_str(sp->attributes[0], "k\xef\xbf\xbd", "a\xef\xbf\xbd(b");
	/* A truncated sequence is one maximal subpart: one replacement. */
	assert_kv_str(sp->attributes[1], "cut", "x\xef\xbf\xbd");
	assert_kv_str(sp->attributes[2], "ok", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(sp->status->message, "\xef\xbf\xbd");
	free_request(req);
}

/* Spans of one trace share a tracestate; a long one (over 512 bytes) must come out whole. */
static void test_shared_long_trace_state(void **state)
{
	enum { N = 1000 };
	char header[32 * 40], *p = header;
	struct otel_span_data *d = calloc(N, sizeof(*d));
	const struct otel_span_data **list = calloc(N, sizeof(*list));
	otel_trace_state *ts;
	pb_request *req;
	const pb_scope_spans *ss;

	(void)state;
	assert_non_null(d);
	assert_non_null(list);
	for (int i = 0; i < 32; i++)
		p += sprintf(p, "%sk%02d=%030d", i ? "," : "", i, i);
	ts = otel_trace_state_parse(header);
	assert_non_null(ts);
	assert_true(strlen(header) > 512);
	for (size_t i = 0; i < N; i++) {
		d[i].name = i % 2 ? "odd" : "even";
		d[i].context.trace_state = i == N - 1 ? NULL : ts;
		d[i].start_time_ns = i;
		list[i] = &d[i];
	}
	req = roundtrip(list, N);
	ss = req->resource_spans[0]->scope_spans[0];
	assert_int_equal(ss->n_spans, N);
	for (size_t i = 0; i < N; i++) {
		assert_string_equal(ss->spans[i]->trace_state, i == N - 1 ? "" : header);
		assert_string_equal(ss->spans[i]->name, i % 2 ? "odd" : "even");
		assert_true(ss->spans[i]->start_time_unix_nano == i);
	}
	free_request(req);
	otel_trace_state_unref(ts);
	free(d);
	free(list);
}

static void test_empty_and_invalid(void **state)
{
	struct otel_span_data d = { .name = "x" };
	const struct otel_span_data *list[] = { &d, NULL };
	size_t len = 99;
	uint8_t *buf;

	(void)state;
	/* No spans: an empty request, which is zero bytes on the wire. */
	buf = otel_otlp_encode_protobuf(NULL, 0, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);

	errno = 0;
	assert_null(otel_otlp_encode_protobuf(list, 1, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_otlp_encode_protobuf(list, 2, &len));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_otlp_encode_protobuf(NULL, 1, &len));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_span),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_grouping_many_scopes),
		cmocka_unit_test(test_kind_mapping),
		cmocka_unit_test(test_root_span_flags_and_status),
		cmocka_unit_test(test_invalid_utf8_repaired),
		cmocka_unit_test(test_shared_long_trace_state),
		cmocka_unit_test(test_empty_and_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
