// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of otel_otlp_encode_json(): the exact OTLP/JSON text of a fixed span
 * (hex ids, 64-bit integers as strings, enums as integers, defaults left
 * out), string escaping and UTF-8 repair, doubles, base64, grouping, and a
 * small independent JSON checker run over every output.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>

/* ---- A minimal JSON checker (RFC 8259 syntax, UTF-8 in strings) ---- */

struct jp {
	const unsigned char *p, *end;
};

static bool jp_value(struct jp *j, int depth);

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

/* One UTF-8 encoded code point, decoded and range-checked (no overlongs, no surrogates). */
static bool jp_utf8(struct jp *j)
{
	unsigned c = *j->p, n, cp;

	if (c < 0x80) {
		j->p++;
		return true;
	}
	if ((c & 0xe0) == 0xc0)
		n = 1, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 2, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 3, cp = c & 0x07;
	else
		return false;
	if (j->end - j->p <= (ptrdiff_t)n)
		return false;
	for (unsigned i = 1; i <= n; i++) {
		if ((j->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (j->p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	j->p += n + 1;
	return true;
}

static bool jp_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !strchr("0123456789abcdefABCDEF", j->p[i]))
						return false;
				j->p += 5;
			} else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
				j->p++;
			} else {
				return false;
			}
		} else if (!jp_utf8(j)) {
			return false;
		}
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static bool jp_digits(struct jp *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool jp_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jp_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jp_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jp_digits(j))
			return false;
	}
	return true;
}

/* Members or elements until @close; objects have "key": before each value. */
static bool jp_items(struct jp *j, char close, bool object, int depth)
{
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		jp_ws(j);
		if (object) {
			if (!jp_string(j))
				return false;
			jp_ws(j);
			if (!jp_lit(j, ":"))
				return false;
		}
		if (!jp_value(j, depth + 1))
			return false;
		jp_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return true;
		}
		if (!jp_lit(j, ","))
			return false;
	}
}

static bool jp_value(struct jp *j, int depth)
{
	if (depth > 64)
		return false;
	jp_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return jp_items(j, '}', true, depth);
	case '[':
		return jp_items(j, ']', false, depth);
	case '"':
		return jp_string(j);
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	case 'n':
		return jp_lit(j, "null");
	default:
		return jp_number(j);
	}
}

static void assert_valid_json(const char *s, size_t len)
{
	struct jp j = { (const unsigned char *)s, (const unsigned char *)s + len };

	assert_int_equal(strlen(s), len);
	assert_true(jp_value(&j, 0));
	jp_ws(&j);
	assert_ptr_equal(j.p, j.end);
}

/* The checker itself must reject what it is meant to catch. */
static void test_checker_rejects_invalid(void **state)
{
	static const char *const bad[] = {
		"{",  "{\"a\":}",  "[1,]",    "\"\x01\"", "\"\xff\"", "\"\xed\xa0\x80\"",
		"01", "{\"a\" 1}", "\"\\x\"", "[1 2]",	  "NaN",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jp j = { (const unsigned char *)bad[i],
				(const unsigned char *)bad[i] + strlen(bad[i]) };
		bool ok = jp_value(&j, 0);

		jp_ws(&j);
		assert_false(ok && j.p == j.end);
	}
}

/* ---- Helpers ---- */

static const uint8_t trace_id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t span_id[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
static const uint8_t parent_id[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

#define T0 1700000000123456789ull

static char *encode(const struct otel_span_data *const *spans, size_t n)
{
	size_t len = 0;
	char *s = otel_otlp_encode_json(spans, n, &len);

	assert_non_null(s);
	assert_valid_json(s, len);
	return s;
}

/* Encode a span with the single attribute @a and return its "attributes":[...] text. */
static char *encode_attr(const struct otel_attribute *a)
{
	struct otel_span_data d = { .name = "x", .attributes = a, .n_attributes = 1 };
	const struct otel_span_data *list[] = { &d };
	char *s = encode(list, 1);
	char *start = strstr(s, "\"attributes\":["), *end;

	assert_non_null(start);
	end = strstr(start, "}}]");
	assert_non_null(end);
	end[3] = '\0';
	memmove(s, start, strlen(start) + 1);
	return s;
}

static void assert_attr_json(const struct otel_attribute *a, const char *want)
{
	char *got = encode_attr(a);

	assert_string_equal(got, want);
	free(got);
}

/* ---- Tests ---- */

static void test_exact_span(void **state)
{
	struct otel_attribute res_attrs[] = { OTEL_ATTR_STR("service.name", "svc") };
	otel_resource *res = otel_resource_new(res_attrs, 1, NULL);
	struct otel_scope_info scope = { .name = "lib", .version = "1.0" };
	static const uint8_t blob[] = { 0x00, 0xff, 0x10 };
	struct otel_attribute attrs[] = {
		OTEL_ATTR_INT("i", -5),
		{ .key = "b", .value = { .type = OTEL_VALUE_BYTES, .bytes = { blob, 3 } } },
		OTEL_ATTR_STR("s", "a\"b"),
		OTEL_ATTR_DOUBLE("d", 1.5),
	};
	struct otel_attribute ev_attrs[] = { OTEL_ATTR_BOOL("ok", true) };
	struct otel_event ev = {
		.name = "e", .time_ns = T0 + 10, .attributes = ev_attrs, .n_attributes = 1
	};
	otel_trace_state *lts = otel_trace_state_parse("a=b");
	struct otel_link link = {
		.context = { .trace_flags = 1, .is_remote = true, .trace_state = lts }
	};
	struct otel_span_data d = {
		.name = "q",
		.kind = OTEL_SPAN_KIND_CLIENT,
		.context = { .trace_flags = 1 },
		.start_time_ns = T0,
		.end_time_ns = T0 + 1000,
		.attributes = attrs,
		.n_attributes = 4,
		.dropped_attributes = 2,
		.events = &ev,
		.n_events = 1,
		.links = &link,
		.n_links = 1,
		.status_code = OTEL_STATUS_ERROR,
		.status_description = "bad",
		.resource = res,
		.scope = &scope,
	};
	const struct otel_span_data *list[] = { &d };
	const char *want =
		"{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
		"\"value\":{\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\","
		"\"version\":\"1.0\"},\"spans\":[{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
		"\"spanId\":\"00f067aa0ba902b7\",\"parentSpanId\":\"1122334455667788\","
		"\"flags\":257,\"name\":\"q\",\"kind\":3,"
		"\"startTimeUnixNano\":\"1700000000123456789\","
		"\"endTimeUnixNano\":\"1700000000123457789\",\"attributes\":["
		"{\"key\":\"i\",\"value\":{\"intValue\":\"-5\"}},"
		"{\"key\":\"b\",\"value\":{\"bytesValue\":\"AP8Q\"}},"
		"{\"key\":\"s\",\"value\":{\"stringValue\":\"a\\\"b\"}},"
		"{\"key\":\"d\",\"value\":{\"doubleValue\":1.5}}],\"droppedAttributesCount\":2,"
		"\"events\":[{\"timeUnixNano\":\"1700000000123456799\",\"name\":\"e\","
		"\"attributes\":[{\"key\":\"ok\",\"value\":{\"boolValue\":true}}]}],"
		"\"links\":[{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
		"\"spanId\":\"1122334455667788\",\"traceState\":\"a=b\",\"flags\":769}],"
		"\"status\":{\"message\":\"bad\",\"code\":2}}]}]}]}";
	char *got;

	(void)state;
	assert_non_null(res);
	assert_non_null(lts);
	memcpy(d.context.trace_id, trace_id, 16);
	memcpy(d.context.span_id, span_id, 8);
	memcpy(d.parent_span_id, parent_id, 8);
	memcpy(link.context.trace_id, trace_id, 16);
	memcpy(link.context.span_id, parent_id, 8);
	got = encode(list, 1);
	assert_string_equal(got, want);
	free(got);
	otel_resource_unref(res);
	otel_trace_state_unref(lts);
}

/* Root span, no resource, no scope, UNSET status: every default is left out. */
static void test_defaults_left_out(void **state)
{
	struct otel_span_data d = { .kind = OTEL_SPAN_KIND_INTERNAL };
	const struct otel_span_data *list[] = { &d };
	char *got;

	(void)state;
	memcpy(d.context.trace_id, trace_id, 16);
	memcpy(d.context.span_id, span_id, 8);
	got = encode(list, 1);
	assert_string_equal(got,
			    "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"scope\":{},"
			    "\"spans\":[{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
			    "\"spanId\":\"00f067aa0ba902b7\",\"flags\":256,\"kind\":1}]}]}]}");
	free(got);
}

static void test_string_escaping(void **state)
{
	static const char in[] = "\x01\x1f\n\t\r\"\\/ \x7f caf\xc3\xa9 \xf0\x9f\x98\x80";
	struct otel_attribute a = {
		.key = "k\n",
		.value = { .type = OTEL_VALUE_STRING, .str = { in, sizeof(in) - 1 } },
	};

	(void)state;
	assert_attr_json(
		&a, "\"attributes\":[{\"key\":\"k\\n\",\"value\":{\"stringValue\":"
		    "\"\\u0001\\u001f\\n\\t\\r\\\"\\\\/ \x7f caf\xc3\xa9 \xf0\x9f\x98\x80\"}}]");
}

static void test_embedded_nul(void **state)
{
	struct otel_attribute a = { .key = "k",
				    .value = { .type = OTEL_VALUE_STRING, .str = { "a\0b", 3 } } };

	(void)state;
	/* The length is what counts: a NUL is data, escaped. */
	assert_attr_json(&a, "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":"
			     "\"a\\u0000b\"}}]");
}

static void test_invalid_utf8_replaced(void **state)
{
	/* lone continuation, bad lead, truncated 3-byte, surrogate, overlong, above U+10FFFF */
	static const char in[] =
		"\x80|\xff|\xe2\x82|\xed\xa0\x80|\xc0\xaf|\xf4\x90\x80\x80|\xe2\x82";
	struct otel_attribute a = {
		.key = "k", .value = { .type = OTEL_VALUE_STRING, .str = { in, sizeof(in) - 1 } }
	};
#define R "\xef\xbf\xbd"

	(void)state;
	assert_attr_json(&a, "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"" R "|" R
			     "|" R "|" R R R "|" R R "|" R R R R "|" R "\"}}]");
#undef R
}

static void test_doubles(void **state)
{
	static const double v[] = { 1.5, 0.1, -0.0, 1e300, 5e-324, 123456789012345678.0, 1.0 / 3.0 };
	struct otel_attribute a = {
		.key = "d", .value = { .type = OTEL_VALUE_DOUBLE_ARRAY, .array = { v, 7 } }
	};
	char *got, *p;

	(void)state;
	got = encode_attr(&a);
	assert_string_equal(got,
			    "\"attributes\":[{\"key\":\"d\",\"value\":{\"arrayValue\":{\"values\":["
			    "{\"doubleValue\":1.5},{\"doubleValue\":0.1},{\"doubleValue\":-0},"
			    "{\"doubleValue\":1e+300},"
			    "{\"doubleValue\":4.94065645841247e-324},"
			    "{\"doubleValue\":1.2345678901234568e+17},"
			    "{\"doubleValue\":0.3333333333333333}]}}}]");
	/* Every one reads back exactly. */
	p = got;
	for (size_t i = 0; i < 7; i++) {
		p = strstr(p, "\"doubleValue\":") + strlen("\"doubleValue\":");
		assert_true(strtod(p, NULL) == v[i]);
	}
	free(got);
}

static void test_non_finite_doubles(void **state)
{
	struct otel_attribute nan_a = OTEL_ATTR_DOUBLE("n", NAN);
	struct otel_attribute inf_a = OTEL_ATTR_DOUBLE("p", INFINITY);
	struct otel_attribute ninf_a = OTEL_ATTR_DOUBLE("m", -INFINITY);

	(void)state;
	assert_attr_json(&nan_a,
			 "\"attributes\":[{\"key\":\"n\",\"value\":{\"doubleValue\":\"NaN\"}}]");
	assert_attr_json(
		&inf_a,
		"\"attributes\":[{\"key\":\"p\",\"value\":{\"doubleValue\":\"Infinity\"}}]");
	assert_attr_json(
		&ninf_a,
		"\"attributes\":[{\"key\":\"m\",\"value\":{\"doubleValue\":\"-Infinity\"}}]");
}

static void test_int64_as_strings(void **state)
{
	static const int64_t v[] = { 0, INT64_MIN, INT64_MAX };
	struct otel_attribute a = { .key = "i",
				    .value = { .type = OTEL_VALUE_INT_ARRAY, .array = { v, 3 } } };

	(void)state;
	assert_attr_json(&a,
			 "\"attributes\":[{\"key\":\"i\",\"value\":{\"arrayValue\":{\"values\":["
			 "{\"intValue\":\"0\"},{\"intValue\":\"-9223372036854775808\"},"
			 "{\"intValue\":\"9223372036854775807\"}]}}}]");
}

static void test_base64(void **state)
{
	static const uint8_t bytes[] = { 0xfb, 0xff, 0xbf, 'a', 'b' };
	static const char *const want[] = { "", "+w==", "+/8=", "+/+/", "+/+/YQ==", "+/+/YWI=" };
	char expect[160];

	(void)state;
	for (size_t n = 0; n <= 5; n++) {
		struct otel_attribute a = {
			.key = "b", .value = { .type = OTEL_VALUE_BYTES, .bytes = { bytes, n } }
		};

		snprintf(expect, sizeof(expect),
			 "\"attributes\":[{\"key\":\"b\",\"value\":{\"bytesValue\":\"%s\"}}]",
			 want[n]);
		assert_attr_json(&a, expect);
	}
}

static void test_arrays(void **state)
{
	static const char *const strs[] = { "x", NULL };
	static const bool bools[] = { false, true };
	struct otel_attribute s = {
		.key = "s", .value = { .type = OTEL_VALUE_STRING_ARRAY, .array = { strs, 2 } }
	};
	struct otel_attribute b = {
		.key = "b", .value = { .type = OTEL_VALUE_BOOL_ARRAY, .array = { bools, 2 } }
	};
	struct otel_attribute e = {
		.key = "e", .value = { .type = OTEL_VALUE_INT_ARRAY, .array = { NULL, 0 } }
	};

	(void)state;
	assert_attr_json(&s,
			 "\"attributes\":[{\"key\":\"s\",\"value\":{\"arrayValue\":{\"values\":["
			 "{\"stringValue\":\"x\"},{\"stringValue\":\"\"}]}}}]");
	assert_attr_json(&b,
			 "\"attributes\":[{\"key\":\"b\",\"value\":{\"arrayValue\":{\"values\":["
			 "{\"boolValue\":false},{\"boolValue\":true}]}}}]");
	/* An empty array is still an array value; its empty list is left out. */
	assert_attr_json(&e, "\"attributes\":[{\"key\":\"e\",\"value\":{\"arrayValue\":{}}}]");
}

/* Two resources x two scopes, interleaved: grouped in order of first appearance. */
static void test_grouping(void **state)
{
	struct otel_attribute aa[] = { OTEL_ATTR_STR("service.name", "A") };
	struct otel_attribute ba[] = { OTEL_ATTR_STR("service.name", "B") };
	otel_resource *ra = otel_resource_new(aa, 1, "https://s/a");
	otel_resource *rb = otel_resource_new(ba, 1, NULL);
	struct otel_scope_info sx = { .name = "X", .schema_url = "https://s/x" };
	struct otel_scope_info sy = { .name = "Y" };
	struct otel_span_data d[4] = {
		{ .name = "s0", .resource = ra, .scope = &sx },
		{ .name = "s1", .resource = rb, .scope = &sy },
		{ .name = "s2", .resource = ra, .scope = &sy },
		{ .name = "s3", .resource = ra, .scope = &sx },
	};
	const struct otel_span_data *list[] = { &d[0], &d[1], &d[2], &d[3] };
	char *got, *p;
	static const char *const order[] = {
		"\"stringValue\":\"A\"",
		"\"name\":\"X\"",
		"\"name\":\"s0\"",
		"\"name\":\"s3\"",
		"\"schemaUrl\":\"https://s/x\"",
		"\"name\":\"Y\"",
		"\"name\":\"s2\"",
		"\"schemaUrl\":\"https://s/a\"",
		"\"stringValue\":\"B\"",
		"\"name\":\"Y\"",
		"\"name\":\"s1\"",
	};

	(void)state;
	got = encode(list, 4);
	p = got;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		p = strstr(p, order[i]);
		assert_non_null(p);
	}
	/* One ScopeSpans per (resource, scope): X once (under A), Y twice (under A and B). */
	assert_null(strstr(strstr(got, "\"name\":\"X\"") + 1, "\"name\":\"X\""));
	p = strstr(strstr(got, "\"name\":\"Y\"") + 1, "\"name\":\"Y\"");
	assert_non_null(p);
	assert_null(strstr(p + 1, "\"name\":\"Y\""));
	free(got);
	otel_resource_unref(ra);
	otel_resource_unref(rb);
}

/* Tracestate values may hold '"' and '\\' (W3C allows them): they must be escaped. */
static void test_trace_state_escaped(void **state)
{
	otel_trace_state *ts = otel_trace_state_parse("k=a\"b\\c,z=1");
	struct otel_span_data d = { .name = "t" };
	const struct otel_span_data *list[] = { &d };
	char *got;

	(void)state;
	assert_non_null(ts);
	d.context.trace_state = ts;
	got = encode(list, 1);
	assert_non_null(strstr(got, "\"traceState\":\"k=a\\\"b\\\\c,z=1\""));
	free(got);
	otel_trace_state_unref(ts);
}

static void test_empty_and_invalid(void **state)
{
	struct otel_span_data d = { .name = "x" };
	const struct otel_span_data *list[] = { &d, NULL };
	size_t len = 99;
	char *s;

	(void)state;
	s = otel_otlp_encode_json(NULL, 0, &len);
	assert_non_null(s);
	assert_string_equal(s, "{}");
	assert_int_equal(len, 2);
	free(s);
	errno = 0;
	assert_null(otel_otlp_encode_json(list, 1, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(otel_otlp_encode_json(list, 2, &len));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_rejects_invalid),
		cmocka_unit_test(test_exact_span),
		cmocka_unit_test(test_defaults_left_out),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_non_finite_doubles),
		cmocka_unit_test(test_int64_as_strings),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_trace_state_escaped),
		cmocka_unit_test(test_empty_and_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
