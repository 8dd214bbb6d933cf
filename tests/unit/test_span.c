// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of spans: attributes of every type, overwrite, limits and
 * UTF-8-safe truncation, events, exceptions, links, status rules, names,
 * end semantics and reference counting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <otel/sdk.h>
#include "attrs.h"
#include "collector.h"

static struct collector col;

static otel_tracer_provider *provider(const struct otel_span_limits *limits)
{
	return collector_provider(&col, limits, otel_sampler_always_on());
}

static const struct otel_attribute *find_attr(const struct otel_span_data *d, const char *key)
{
	for (size_t i = 0; i < d->n_attributes; i++)
		if (!strcmp(d->attributes[i].key, key))
			return &d->attributes[i];
	return NULL;
}

static void test_attributes_all_types(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", "1.0", NULL);
	const char *strs[] = { "a", NULL, "ccc" };
	int64_t ints[] = { 1, -2, 3 };
	double dbls[] = { 0.5, -1.25 };
	bool bools[] = { true, false };
	uint8_t bytes[] = { 0, 1, 2, 255 };
	struct otel_value v;
	otel_span *s = otel_tracer_start_span(t, "op", NULL);

	otel_span_set_attribute_str(s, "s", "hello");
	otel_span_set_attribute_strn(s, "sn", "hello world", 5);
	otel_span_set_attribute_int(s, "i", -42);
	otel_span_set_attribute_double(s, "d", 2.5);
	otel_span_set_attribute_bool(s, "b", true);
	v = (struct otel_value){ .type = OTEL_VALUE_STRING_ARRAY, .array = { strs, 3 } };
	otel_span_set_attribute(s, "sa", &v);
	v = (struct otel_value){ .type = OTEL_VALUE_INT_ARRAY, .array = { ints, 3 } };
	otel_span_set_attribute(s, "ia", &v);
	v = (struct otel_value){ .type = OTEL_VALUE_DOUBLE_ARRAY, .array = { dbls, 2 } };
	otel_span_set_attribute(s, "da", &v);
	v = (struct otel_value){ .type = OTEL_VALUE_BOOL_ARRAY, .array = { bools, 2 } };
	otel_span_set_attribute(s, "ba", &v);
	v = (struct otel_value){ .type = OTEL_VALUE_BYTES, .bytes = { bytes, 4 } };
	otel_span_set_attribute(s, "by", &v);
	otel_span_set_attribute_str(s, "", "empty key is ignored");
	otel_span_set_attribute_str(s, NULL, "null key is ignored");
	otel_span_end(s, 0);

	assert_int_equal(col.n, 1);
	const struct otel_span_data *d = col.spans[0];
	assert_int_equal(d->n_attributes, 10);
	assert_int_equal(d->dropped_attributes, 0);
	assert_string_equal(find_attr(d, "s")->value.str.ptr, "hello");
	assert_int_equal(find_attr(d, "s")->value.str.len, 5);
	assert_string_equal(find_attr(d, "sn")->value.str.ptr, "hello");
	assert_int_equal(find_attr(d, "i")->value.i, -42);
	assert_true(find_attr(d, "d")->value.d == 2.5);
	assert_true(find_attr(d, "b")->value.b);
	const struct otel_value *sa = &find_attr(d, "sa")->value;
	assert_int_equal(sa->type, OTEL_VALUE_STRING_ARRAY);
	assert_int_equal(sa->array.count, 3);
	assert_string_equal(((const char *const *)sa->array.items)[0], "a");
	assert_string_equal(((const char *const *)sa->array.items)[1], "");
	assert_string_equal(((const char *const *)sa->array.items)[2], "ccc");
	assert_memory_equal(find_attr(d, "ia")->value.array.items, ints, sizeof(ints));
	assert_memory_equal(find_attr(d, "da")->value.array.items, dbls, sizeof(dbls));
	assert_memory_equal(find_attr(d, "ba")->value.array.items, bools, sizeof(bools));
	assert_int_equal(find_attr(d, "by")->value.bytes.len, 4);
	assert_memory_equal(find_attr(d, "by")->value.bytes.ptr, bytes, 4);
	assert_non_null(d->resource);
	assert_string_equal(d->scope->name, "test");
	assert_string_equal(d->scope->version, "1.0");
	assert_null(d->scope->schema_url);
	collector_free(&col, tp);
}

static void test_attribute_overwrite(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	otel_span *s = otel_tracer_start_span(t, "op", NULL);
	char big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Overwrites in a loop must not grow memory: ASan's leak check and RSS stay flat. */
	for (int i = 0; i < 10000; i++) {
		otel_span_set_attribute_str(s, "k", big + (i % 200));
		otel_span_set_attribute_int(s, "n", i);
	}
	otel_span_set_attribute_str(s, "k", "final");
	otel_span_set_attribute_int(s, "k2", 1);
	otel_span_set_attribute_str(s, "k2", "now a string");
	otel_span_end(s, 0);
	const struct otel_span_data *d = col.spans[0];
	assert_int_equal(d->n_attributes, 3);
	assert_string_equal(find_attr(d, "k")->value.str.ptr, "final");
	assert_int_equal(find_attr(d, "n")->value.i, 9999);
	assert_int_equal(find_attr(d, "k2")->value.type, OTEL_VALUE_STRING);
	assert_string_equal(find_attr(d, "k2")->value.str.ptr, "now a string");
	collector_free(&col, tp);
}

static void test_limits_count_and_truncation(void **state)
{
	(void)state;
	struct otel_span_limits lim;
	otel_span_limits_default(&lim);
	lim.attribute_count = 3;
	lim.attribute_value_length = 4;
	lim.event_count = 2;
	lim.link_count = 1;
	lim.attributes_per_event = 1;
	lim.attributes_per_link = 1;
	otel_tracer_provider *tp = provider(&lim);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	otel_span *s = otel_tracer_start_span(t, "op", NULL);
	/* "héllo wörld": é and ö are 2 bytes each; 4 characters = "héll" = 5 bytes. */
	const char *utf8 = "h\xc3\xa9llo w\xc3\xb6rld";
	const char *arr[] = { "abcdef", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" };
	struct otel_value av = { .type = OTEL_VALUE_STRING_ARRAY, .array = { arr, 2 } };
	struct otel_attribute two[] = { OTEL_ATTR_INT("a", 1), OTEL_ATTR_INT("b", 2) };
	struct otel_span_context lc = { .trace_id = { 1 }, .span_id = { 2 } };

	otel_span_set_attribute_str(s, "u", utf8);
	otel_span_set_attribute(s, "arr", &av);
	otel_span_set_attribute_int(s, "third", 3);
	otel_span_set_attribute_int(s, "fourth", 4); /* over the count: dropped */
	otel_span_set_attribute_int(s, "third", 33); /* overwrite is still allowed */
	otel_span_add_event(s, "e1", 0, two, 2);
	otel_span_add_event(s, "e2", 0, NULL, 0);
	otel_span_add_event(s, "e3", 0, NULL, 0);
	otel_span_add_link(s, &lc, two, 2);
	otel_span_add_link(s, &lc, NULL, 0);
	otel_span_end(s, 0);

	const struct otel_span_data *d = col.spans[0];
	assert_int_equal(d->n_attributes, 3);
	assert_int_equal(d->dropped_attributes, 1);
	assert_string_equal(find_attr(d, "u")->value.str.ptr, "h\xc3\xa9ll");
	assert_int_equal(find_attr(d, "u")->value.str.len, 5);
	const char *const *ta = find_attr(d, "arr")->value.array.items;
	assert_string_equal(ta[0], "abcd");
	assert_string_equal(ta[1], "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
	assert_int_equal(find_attr(d, "third")->value.i, 33);
	assert_int_equal(d->n_events, 2);
	assert_int_equal(d->dropped_events, 1);
	assert_int_equal(d->events[0].n_attributes, 1);
	assert_int_equal(d->events[0].dropped_attributes, 1);
	assert_int_equal(d->n_links, 1);
	assert_int_equal(d->dropped_links, 1);
	assert_int_equal(d->links[0].n_attributes, 1);
	assert_int_equal(d->links[0].dropped_attributes, 1);
	collector_free(&col, tp);
}

static void test_utf8_prefix(void **state)
{
	(void)state;
	/* Never split a character; invalid bytes count as one character each. */
	assert_int_equal(otel_utf8_prefix("abc", 3, 10), 3);
	assert_int_equal(otel_utf8_prefix("abc", 3, 0), 0);
	assert_int_equal(otel_utf8_prefix("\xf0\x9f\x98\x80x", 5, 1), 4);
	assert_int_equal(otel_utf8_prefix("\xff\xfe\xfd", 3, 2), 2);
	assert_int_equal(otel_utf8_prefix("\xc3", 1, 0), 0);
	assert_int_equal(otel_utf8_prefix("a\xc3", 2, 1), 1);
	assert_int_equal(otel_utf8_prefix("\xe2\x82x", 3, 1), 1);
}

static void test_events_and_exception(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	struct otel_attribute extra[] = { OTEL_ATTR_STR("retry", "no") };
	otel_span *s = otel_tracer_start_span(
		t, "op", &(struct otel_span_start_opts){ .sz = sizeof(struct otel_span_start_opts),
							 .start_time_ns = 1000 });

	otel_span_add_event(s, "cache miss", 1500, extra, 1);
	otel_span_record_exception(s, "IOError", "disk on fire", NULL, extra, 1);
	otel_span_end(s, 3000);

	const struct otel_span_data *d = col.spans[0];
	assert_int_equal(d->start_time_ns, 1000);
	assert_int_equal(d->end_time_ns, 3000);
	assert_int_equal(d->n_events, 2);
	assert_string_equal(d->events[0].name, "cache miss");
	assert_int_equal(d->events[0].time_ns, 1500);
	assert_string_equal(d->events[1].name, "exception");
	assert_true(d->events[1].time_ns > 3000); /* now, in wall time */
	assert_int_equal(d->events[1].n_attributes, 3);
	assert_string_equal(d->events[1].attributes[0].key, "exception.type");
	assert_string_equal(d->events[1].attributes[0].value.str.ptr, "IOError");
	assert_string_equal(d->events[1].attributes[1].key, "exception.message");
	assert_string_equal(d->events[1].attributes[1].value.str.ptr, "disk on fire");
	assert_string_equal(d->events[1].attributes[2].key, "retry");
	/* Recording an exception does not change the status. */
	assert_int_equal(d->status_code, OTEL_STATUS_UNSET);
	collector_free(&col, tp);
}

static void end_with_status(otel_tracer *t, enum otel_status_code a, const char *da,
			    enum otel_status_code b, const char *db)
{
	otel_span *s = otel_tracer_start_span(t, "st", NULL);

	otel_span_set_status(s, a, da);
	otel_span_set_status(s, b, db);
	otel_span_end(s, 0);
}

static void test_status_rules(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);

	end_with_status(t, OTEL_STATUS_ERROR, "boom", OTEL_STATUS_UNSET, "ignored");
	end_with_status(t, OTEL_STATUS_OK, "not kept", OTEL_STATUS_ERROR, "final ok");
	end_with_status(t, OTEL_STATUS_ERROR, "first", OTEL_STATUS_ERROR, "second");
	end_with_status(t, OTEL_STATUS_ERROR, "e", OTEL_STATUS_OK, "desc dropped");
	end_with_status(t, OTEL_STATUS_UNSET, "x", OTEL_STATUS_UNSET, NULL);

	assert_int_equal(col.n, 5);
	assert_int_equal(col.spans[0]->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(col.spans[0]->status_description, "boom");
	assert_int_equal(col.spans[1]->status_code, OTEL_STATUS_OK);
	assert_null(col.spans[1]->status_description);
	assert_int_equal(col.spans[2]->status_code, OTEL_STATUS_ERROR);
	assert_string_equal(col.spans[2]->status_description, "second");
	assert_int_equal(col.spans[3]->status_code, OTEL_STATUS_OK);
	assert_null(col.spans[3]->status_description);
	assert_int_equal(col.spans[4]->status_code, OTEL_STATUS_UNSET);
	collector_free(&col, tp);
}

static void test_end_semantics(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	otel_span *s = otel_tracer_start_span(t, "old name", NULL);

	otel_span_update_name(s, "new name");
	assert_true(otel_span_is_recording(s));
	otel_span_ref(s); /* keep the handle past end */
	otel_span_end(s, 0);
	assert_false(otel_span_is_recording(s));
	otel_span_set_attribute_int(s, "late", 1); /* ignored */
	otel_span_update_name(s, "late");
	otel_span_ref(s);
	otel_span_end(s, 0); /* second end: ignored, releases the ref */
	assert_int_equal(col.n, 1);
	assert_string_equal(col.spans[0]->name, "new name");
	assert_int_equal(col.spans[0]->n_attributes, 0);
	otel_span_unref(s);
	collector_free(&col, tp);
}

static void test_kinds_and_end_before_start(void **state)
{
	(void)state;
	otel_tracer_provider *tp = provider(NULL);
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "test", NULL, NULL);
	enum otel_span_kind kinds[] = { OTEL_SPAN_KIND_INTERNAL, OTEL_SPAN_KIND_SERVER,
					OTEL_SPAN_KIND_CLIENT, OTEL_SPAN_KIND_PRODUCER,
					OTEL_SPAN_KIND_CONSUMER };

	for (int i = 0; i < 5; i++) {
		OTEL_OPTS(otel_span_start_opts, o, .kind = kinds[i], .start_time_ns = 5000);
		otel_span_end(otel_tracer_start_span(t, "k", &o), 10 + i);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(col.spans[i]->kind, kinds[i]);
		/* An end before the start is clamped to the start. */
		assert_int_equal(col.spans[i]->end_time_ns, 5000);
	}
	collector_free(&col, tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes_all_types),
		cmocka_unit_test(test_attribute_overwrite),
		cmocka_unit_test(test_limits_count_and_truncation),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_events_and_exception),
		cmocka_unit_test(test_status_rules),
		cmocka_unit_test(test_end_semantics),
		cmocka_unit_test(test_kinds_and_end_before_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
