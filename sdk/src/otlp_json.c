// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP/JSON encoding of a batch of spans (ExportTraceServiceRequest), per
 * the OTLP specification's JSON rules: the proto3 JSON mapping with
 * lowerCamelCase names, trace and span ids as lowercase hex (not base64),
 * enums as integers, 64-bit integers as decimal strings, and fields holding
 * their default value left out. Strings are escaped and repaired to valid
 * UTF-8, so the output is always valid JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "otlp_group.h"

struct json_enc {
	struct otel_buf out;
	struct otel_buf ts; /* the last tracestate, formatted */
	const otel_trace_state *last_ts; /* spans of a trace share one: format it once */
};

/* A JSON object being written: tracks whether a member needs a comma first. */
struct jobj {
	struct otel_buf *b;
	bool more;
};

static struct jobj jobj_open(struct otel_buf *b)
{
	otel_buf_putc(b, '{');
	return (struct jobj){ .b = b };
}

static void jobj_close(struct jobj *o)
{
	otel_buf_putc(o->b, '}');
}

/* Start member @name (a plain identifier); its value is written next. */
static struct otel_buf *jkey(struct jobj *o, const char *name)
{
	if (o->more)
		otel_buf_putc(o->b, ',');
	o->more = true;
	otel_buf_putc(o->b, '"');
	otel_buf_puts(o->b, name);
	otel_buf_append(o->b, "\":", 2);
	return o->b;
}

/* String member, left out when NULL or empty. */
static void jstr(struct jobj *o, const char *name, const char *s)
{
	if (s && *s)
		otel_buf_json_string(jkey(o, name), s, strlen(s));
}

/* uint32/enum member (a JSON number), left out when 0. */
static void juint(struct jobj *o, const char *name, uint32_t v)
{
	if (v)
		otel_buf_u64(jkey(o, name), v);
}

/* 64-bit member: a decimal string, left out when 0. */
static void ju64(struct jobj *o, const char *name, uint64_t v)
{
	struct otel_buf *b;

	if (!v)
		return;
	b = jkey(o, name);
	otel_buf_putc(b, '"');
	otel_buf_u64(b, v);
	otel_buf_putc(b, '"');
}

/* Id member (trace, span): lowercase hex. */
static void jid(struct jobj *o, const char *name, const uint8_t *id, size_t n)
{
	struct otel_buf *b = jkey(o, name);

	otel_buf_putc(b, '"');
	otel_buf_hex(b, id, n);
	otel_buf_putc(b, '"');
}

static void json_double(struct otel_buf *b, double d)
{
	/* JSON has no NaN or infinities: the proto3 mapping makes them strings. */
	if (!isfinite(d))
		otel_buf_putc(b, '"');
	otel_buf_double(b, d);
	if (!isfinite(d))
		otel_buf_putc(b, '"');
}

static void json_value(struct otel_buf *b, const struct otel_value *v);

static void json_array_value(struct otel_buf *b, const struct otel_value *v)
{
	struct jobj arr = jobj_open(b);

	if (v->array.count) {
		otel_buf_putc(jkey(&arr, "values"), '[');
		for (size_t i = 0; i < v->array.count; i++) {
			struct otel_value item = otel_otlp_array_item(v, i);

			if (i)
				otel_buf_putc(b, ',');
			json_value(b, &item);
		}
		otel_buf_putc(b, ']');
	}
	jobj_close(&arr);
}

/* An AnyValue object. */
static void json_value(struct otel_buf *b, const struct otel_value *v)
{
	struct jobj o = jobj_open(b);

	switch (v->type) {
	case OTEL_VALUE_STRING:
		otel_buf_json_string(jkey(&o, "stringValue"), v->str.ptr,
				     v->str.ptr ? v->str.len : 0);
		break;
	case OTEL_VALUE_BOOL:
		otel_buf_puts(jkey(&o, "boolValue"), v->b ? "true" : "false");
		break;
	case OTEL_VALUE_INT:
		otel_buf_putc(jkey(&o, "intValue"), '"');
		otel_buf_i64(b, v->i);
		otel_buf_putc(b, '"');
		break;
	case OTEL_VALUE_DOUBLE:
		json_double(jkey(&o, "doubleValue"), v->d);
		break;
	case OTEL_VALUE_BYTES:
		otel_buf_putc(jkey(&o, "bytesValue"), '"');
		otel_buf_base64(b, v->bytes.ptr, v->bytes.len);
		otel_buf_putc(b, '"');
		break;
	default:
		if (otel_otlp_is_array(v))
			json_array_value(jkey(&o, "arrayValue"), v);
		break; /* NONE: an empty AnyValue */
	}
	jobj_close(&o);
}

/* A KeyValue list member, left out when empty. */
static void jattrs(struct jobj *o, const char *name, const struct otel_attribute *attrs, size_t n)
{
	struct otel_buf *b;

	if (!n)
		return;
	b = jkey(o, name);
	otel_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		struct jobj kv;

		if (i)
			otel_buf_putc(b, ',');
		kv = jobj_open(b);
		jstr(&kv, "key", attrs[i].key);
		json_value(jkey(&kv, "value"), &attrs[i].value);
		jobj_close(&kv);
	}
	otel_buf_putc(b, ']');
}

static void jtrace_state(struct json_enc *e, struct jobj *o, const otel_trace_state *ts)
{
	if (!ts)
		return;
	if (ts != e->last_ts) {
		otel_buf_clear(&e->ts);
		if (otel_otlp_trace_state(ts, &e->ts))
			e->out.failed = true;
		e->last_ts = ts;
	}
	if (e->ts.len)
		otel_buf_json_string(jkey(o, "traceState"), e->ts.data, e->ts.len);
}

static void json_event(struct otel_buf *b, const struct otel_event *ev)
{
	struct jobj o = jobj_open(b);

	ju64(&o, "timeUnixNano", ev->time_ns);
	jstr(&o, "name", ev->name);
	jattrs(&o, "attributes", ev->attributes, ev->n_attributes);
	juint(&o, "droppedAttributesCount", ev->dropped_attributes);
	jobj_close(&o);
}

static void json_link(struct json_enc *e, const struct otel_link *l)
{
	struct jobj o = jobj_open(&e->out);

	jid(&o, "traceId", l->context.trace_id, sizeof(l->context.trace_id));
	jid(&o, "spanId", l->context.span_id, sizeof(l->context.span_id));
	jtrace_state(e, &o, l->context.trace_state);
	jattrs(&o, "attributes", l->attributes, l->n_attributes);
	juint(&o, "droppedAttributesCount", l->dropped_attributes);
	juint(&o, "flags", otel_otlp_flags(l->context.trace_flags, l->context.is_remote));
	jobj_close(&o);
}

static void json_status(struct jobj *span, const struct otel_span_data *d)
{
	struct jobj o;

	if (d->status_code == OTEL_STATUS_UNSET)
		return;
	o = jobj_open(jkey(span, "status"));
	jstr(&o, "message", d->status_description);
	juint(&o, "code", (uint32_t)otel_otlp_status_code(d->status_code));
	jobj_close(&o);
}

static void json_events(struct jobj *span, const struct otel_span_data *d)
{
	struct otel_buf *b;

	if (!d->n_events)
		return;
	b = jkey(span, "events");
	otel_buf_putc(b, '[');
	for (size_t i = 0; i < d->n_events; i++) {
		if (i)
			otel_buf_putc(b, ',');
		json_event(b, &d->events[i]);
	}
	otel_buf_putc(b, ']');
}

static void json_links(struct json_enc *e, struct jobj *span, const struct otel_span_data *d)
{
	struct otel_buf *b;

	if (!d->n_links)
		return;
	b = jkey(span, "links");
	otel_buf_putc(b, '[');
	for (size_t i = 0; i < d->n_links; i++) {
		if (i)
			otel_buf_putc(b, ',');
		json_link(e, &d->links[i]);
	}
	otel_buf_putc(b, ']');
}

static void json_span(struct json_enc *e, const struct otel_span_data *d)
{
	struct jobj o = jobj_open(&e->out);

	jid(&o, "traceId", d->context.trace_id, sizeof(d->context.trace_id));
	jid(&o, "spanId", d->context.span_id, sizeof(d->context.span_id));
	jtrace_state(e, &o, d->context.trace_state);
	if (!otel_otlp_id_is_zero(d->parent_span_id, sizeof(d->parent_span_id)))
		jid(&o, "parentSpanId", d->parent_span_id, sizeof(d->parent_span_id));
	juint(&o, "flags", otel_otlp_flags(d->context.trace_flags, d->parent_is_remote));
	jstr(&o, "name", d->name);
	juint(&o, "kind", (uint32_t)otel_otlp_kind(d->kind));
	ju64(&o, "startTimeUnixNano", d->start_time_ns);
	ju64(&o, "endTimeUnixNano", d->end_time_ns);
	jattrs(&o, "attributes", d->attributes, d->n_attributes);
	juint(&o, "droppedAttributesCount", d->dropped_attributes);
	json_events(&o, d);
	juint(&o, "droppedEventsCount", d->dropped_events);
	json_links(e, &o, d);
	juint(&o, "droppedLinksCount", d->dropped_links);
	json_status(&o, d);
	jobj_close(&o);
}

static void json_scope_spans(struct json_enc *e, const struct otel_otlp_scope_group *g)
{
	struct jobj o = jobj_open(&e->out), scope;
	const struct otel_scope_info *info = g->scope;

	scope = jobj_open(jkey(&o, "scope"));
	if (info) {
		jstr(&scope, "name", info->name);
		jstr(&scope, "version", info->version);
		jattrs(&scope, "attributes", info->attributes, info->n_attributes);
	}
	jobj_close(&scope);
	otel_buf_putc(jkey(&o, "spans"), '[');
	for (size_t i = 0; i < g->n_spans; i++) {
		if (i)
			otel_buf_putc(&e->out, ',');
		json_span(e, g->spans[i]);
	}
	otel_buf_putc(&e->out, ']');
	if (info)
		jstr(&o, "schemaUrl", info->schema_url);
	jobj_close(&o);
}

static void json_resource_spans(struct json_enc *e, const struct otel_otlp_resource_group *g)
{
	struct jobj o = jobj_open(&e->out), res;
	const struct otel_attribute *attrs = NULL;
	size_t n = 0;

	if (g->resource)
		attrs = otel_resource_attributes(g->resource, &n);
	res = jobj_open(jkey(&o, "resource"));
	jattrs(&res, "attributes", attrs, n);
	jobj_close(&res);
	otel_buf_putc(jkey(&o, "scopeSpans"), '[');
	for (size_t i = 0; i < g->n_scopes; i++) {
		if (i)
			otel_buf_putc(&e->out, ',');
		json_scope_spans(e, &g->scopes[i]);
	}
	otel_buf_putc(&e->out, ']');
	if (g->resource)
		jstr(&o, "schemaUrl", otel_resource_schema_url(g->resource));
	jobj_close(&o);
}

static void json_request(struct json_enc *e, const struct otel_otlp_groups *g)
{
	struct jobj o = jobj_open(&e->out);

	if (g->n_resources) {
		otel_buf_putc(jkey(&o, "resourceSpans"), '[');
		for (size_t i = 0; i < g->n_resources; i++) {
			if (i)
				otel_buf_putc(&e->out, ',');
			json_resource_spans(e, &g->resources[i]);
		}
		otel_buf_putc(&e->out, ']');
	}
	jobj_close(&o);
}

char *otel_otlp_encode_json(const struct otel_span_data *const *spans, size_t n, size_t *len)
{
	struct json_enc e = { 0 };
	struct otel_otlp_groups g;

	if (!otel_otlp_encode_begin(&g, spans, n, len))
		return NULL;
	/* A typical span takes a few hundred bytes: start big enough to rarely regrow. */
	otel_buf_reserve(&e.out, 64 + n * 512);
	json_request(&e, &g);
	otel_otlp_groups_release(&g);
	otel_buf_release(&e.ts);
	return otel_buf_take(&e.out, len);
}
