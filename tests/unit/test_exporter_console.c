// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the console exporter: the exact text of a span with every kind of
 * field, escaping of names and values, a root span without resource, and
 * the shutdown rule (later exports fail and print nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>

#define T0 1700000000000000000ull

struct capture {
	FILE *f;
	char *text;
	size_t len;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

static enum otel_export_result export_one(struct otel_span_exporter *exp,
					  const struct otel_span_data *d)
{
	const struct otel_span_data *list[] = { d };

	return exp->ops->export_spans(exp, list, 1, UINT64_MAX);
}

static void test_full_span(void **state)
{
	struct otel_attribute res_attrs[] = { OTEL_ATTR_STR("service.name", "exercise-svc") };
	otel_resource *res = otel_resource_new(res_attrs, 1, NULL);
	static const char *const list[] = { "a", "b\n" };
	static const uint8_t raw[] = { 0x00, 0xff };
	struct otel_attribute attrs[] = {
		OTEL_ATTR_STR("db.system.name", "postgresql"),
		OTEL_ATTR_INT("n", -3),
		OTEL_ATTR_DOUBLE("ratio", 0.25),
		OTEL_ATTR_BOOL("ok", true),
		{ .key = "raw", .value = { .type = OTEL_VALUE_BYTES, .bytes = { raw, 2 } } },
		{ .key = "list",
		  .value = { .type = OTEL_VALUE_STRING_ARRAY, .array = { list, 2 } } },
	};
	struct otel_attribute ev_attrs[] = { OTEL_ATTR_STR("exception.type", "E"),
					     OTEL_ATTR_STR("exception.message", "boom") };
	struct otel_attribute link_attrs[] = { OTEL_ATTR_INT("k", 1) };
	struct otel_event ev = { .name = "exception",
				 .time_ns = T0 + 1234000,
				 .attributes = ev_attrs,
				 .n_attributes = 2 };
	struct otel_link link = { .context = { .trace_id = { 0xaa, [15] = 0x01 },
					       .span_id = { 0xbb, [7] = 0x02 } },
				  .attributes = link_attrs,
				  .n_attributes = 1 };
	struct otel_span_data d = {
		.name = "handle-request",
		.kind = OTEL_SPAN_KIND_SERVER,
		.context = { .trace_id = { 0x4b, 0xf9, [15] = 0x36 },
			     .span_id = { 0x00, 0xf0, [7] = 0xb7 } },
		.parent_span_id = { 0x11, [7] = 0x88 },
		.start_time_ns = T0,
		.end_time_ns = T0 + 12345678,
		.attributes = attrs,
		.n_attributes = 6,
		.dropped_attributes = 1,
		.events = &ev,
		.n_events = 1,
		.links = &link,
		.n_links = 1,
		.dropped_links = 2,
		.status_code = OTEL_STATUS_ERROR,
		.status_description = "desc",
		.resource = res,
	};
	struct capture c;
	struct otel_span_exporter *exp;

	(void)state;
	assert_non_null(res);
	capture_open(&c);
	exp = otel_console_exporter_new(c.f);
	assert_non_null(exp);
	assert_int_equal(export_one(exp, &d), OTEL_EXPORT_SUCCESS);
	/* The exporter flushed: the text is there without closing the stream. */
	assert_string_equal(
		c.text,
		"[exercise-svc] handle-request SERVER 12.345 ms "
		"trace=4bf90000000000000000000000000036 span=00f00000000000b7 "
		"parent=1100000000000088 status=ERROR \"desc\"\n"
		"    db.system.name = \"postgresql\"\n"
		"    n = -3\n"
		"    ratio = 0.25\n"
		"    ok = true\n"
		"    raw = 0x00ff\n"
		"    list = [\"a\", \"b\\n\"]\n"
		"    event exception @+1.234ms {exception.type=\"E\", exception.message=\"boom\"}\n"
		"    link trace=aa000000000000000000000000000001 span=bb00000000000002 {k=1}\n"
		"    dropped attributes=1 events=0 links=2\n");
	otel_span_exporter_free(exp);
	capture_close(&c);
	otel_resource_unref(res);
}

/* No resource, root, UNSET; a name with a newline cannot start a fake line. */
static void test_minimal_span_escaped(void **state)
{
	struct otel_event ev = { .name = "early", .time_ns = T0 - 1000000 };
	struct otel_span_data d = {
		.name = "a\nb",
		.kind = OTEL_SPAN_KIND_CONSUMER,
		.context = { .trace_id = { 1 }, .span_id = { 2 } },
		.start_time_ns = T0,
		.end_time_ns = T0 + 999,
		.events = &ev,
		.n_events = 1,
	};
	struct capture c;
	struct otel_span_exporter *exp;

	(void)state;
	capture_open(&c);
	exp = otel_console_exporter_new(c.f);
	assert_int_equal(export_one(exp, &d), OTEL_EXPORT_SUCCESS);
	assert_string_equal(c.text, "[-] a\\nb CONSUMER 0.000 ms "
				    "trace=01000000000000000000000000000000 span=0200000000000000 "
				    "parent=- status=UNSET\n"
				    "    event early @-1.000ms\n");
	otel_span_exporter_free(exp);
	capture_close(&c);
}

static void test_batch_and_shutdown(void **state)
{
	struct otel_span_data a = { .name = "one", .status_code = OTEL_STATUS_OK };
	struct otel_span_data b = { .name = "two", .kind = OTEL_SPAN_KIND_CLIENT };
	const struct otel_span_data *list[] = { &a, &b };
	struct capture c;
	struct otel_span_exporter *exp;
	size_t len;

	(void)state;
	capture_open(&c);
	exp = otel_console_exporter_new(c.f);
	assert_int_equal(exp->ops->export_spans(exp, list, 2, UINT64_MAX), OTEL_EXPORT_SUCCESS);
	assert_string_equal(c.text,
			    "[-] one INTERNAL 0.000 ms trace=00000000000000000000000000000000 "
			    "span=0000000000000000 parent=- status=OK\n"
			    "[-] two CLIENT 0.000 ms trace=00000000000000000000000000000000 "
			    "span=0000000000000000 parent=- status=UNSET\n");
	len = c.len;
	assert_int_equal(exp->ops->force_flush(exp, UINT64_MAX), 0);
	assert_int_equal(exp->ops->shutdown(exp, UINT64_MAX), 0);
	assert_int_equal(exp->ops->export_spans(exp, list, 2, UINT64_MAX), OTEL_EXPORT_FAILURE);
	fflush(c.f);
	assert_int_equal(c.len, len);
	otel_span_exporter_free(exp); /* a second shutdown inside is harmless */
	capture_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_span),
		cmocka_unit_test(test_minimal_span_escaped),
		cmocka_unit_test(test_batch_and_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
