// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP/protobuf encoding of a batch of spans (ExportTraceServiceRequest)
 * through the protobuf-c generated code.
 *
 * Speed: the protobuf-c message structs of a whole request come from one
 * allocation sized by a counting pass, and point at the span data's own
 * strings and ids instead of copying them; the output is allocated once at
 * its packed size. Strings are checked to be UTF-8 (proto3 requires it and
 * receivers reject requests that are not); the rare invalid ones are
 * repaired into side storage.
 */
#include <errno.h>
#include <stdlib.h>
#include <opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h>
#include "otlp_group.h"
#include "text.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_link;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Common__V1__ArrayValue pb_array;

/* How many of each message a request needs. */
struct pb_counts {
	size_t resource_spans, scope_spans, spans, statuses, events, links;
	size_t kvs, anys, arrays;
	size_t ptrs; /* slots of the repeated fields' pointer arrays */
};

/* Side storage for repaired strings and tracestates: a block each (they are rare). */
struct side_chunk {
	struct side_chunk *next;
	char data[];
};

/* The pools the request is built from, each filled front to back. */
struct pb_arena {
	pb_resource_spans *resource_spans;
	pb_resource *resources;
	pb_scope_spans *scope_spans;
	pb_scope *scopes;
	pb_span *spans;
	pb_status *statuses;
	pb_event *events;
	pb_link *links;
	pb_kv *kvs;
	pb_any *anys;
	pb_array *arrays;
	void **ptrs;
	struct side_chunk *side;
	struct otel_buf scratch; /* a tracestate or a repaired string being made */
	const otel_trace_state *last_ts; /* spans of a trace share one: format it once */
	char *last_ts_str;
	bool failed;
};

/* ---- Counting ---- */

static void count_attrs(struct pb_counts *c, const struct otel_attribute *attrs, size_t n)
{
	c->kvs += n;
	c->anys += n;
	c->ptrs += n;
	for (size_t i = 0; i < n; i++) {
		const struct otel_value *v = &attrs[i].value;

		if (otel_otlp_is_array(v)) {
			c->arrays++;
			c->anys += v->array.count;
			c->ptrs += v->array.count;
		}
	}
}

static void count_span(struct pb_counts *c, const struct otel_span_data *d)
{
	c->spans++;
	c->statuses += d->status_code != OTEL_STATUS_UNSET;
	count_attrs(c, d->attributes, d->n_attributes);
	c->events += d->n_events;
	c->ptrs += d->n_events;
	for (size_t i = 0; i < d->n_events; i++)
		count_attrs(c, d->events[i].attributes, d->events[i].n_attributes);
	c->links += d->n_links;
	c->ptrs += d->n_links;
	for (size_t i = 0; i < d->n_links; i++)
		count_attrs(c, d->links[i].attributes, d->links[i].n_attributes);
}

static void count_request(struct pb_counts *c, const struct otel_otlp_groups *g)
{
	c->resource_spans = g->n_resources;
	c->scope_spans = g->n_scopes;
	c->ptrs += g->n_resources + g->n_scopes + g->n_spans;
	for (size_t r = 0; r < g->n_resources; r++) {
		const struct otel_otlp_resource_group *rg = &g->resources[r];
		size_t n = 0;
		const struct otel_attribute *attrs =
			rg->resource ? otel_resource_attributes(rg->resource, &n) : NULL;

		count_attrs(c, attrs, n);
		for (size_t s = 0; s < rg->n_scopes; s++) {
			const struct otel_otlp_scope_group *sg = &rg->scopes[s];

			if (sg->scope)
				count_attrs(c, sg->scope->attributes, sg->scope->n_attributes);
			for (size_t i = 0; i < sg->n_spans; i++)
				count_span(c, sg->spans[i]);
		}
	}
}

/* @bytes at *@off from @base (NULL when only measuring). */
static void *pool(char *base, size_t *off, size_t bytes)
{
	void *p = base ? base + *off : NULL;

	*off += bytes;
	return p;
}

/*
 * Point every pool into @base (NULL: only measure) and return the bytes they
 * take. Every message struct holds pointers, so each pool stays aligned.
 */
static size_t place_pools(struct pb_arena *a, const struct pb_counts *c, char *base)
{
	size_t off = 0;

	a->resource_spans = pool(base, &off, c->resource_spans * sizeof(*a->resource_spans));
	a->resources = pool(base, &off, c->resource_spans * sizeof(*a->resources));
	a->scope_spans = pool(base, &off, c->scope_spans * sizeof(*a->scope_spans));
	a->scopes = pool(base, &off, c->scope_spans * sizeof(*a->scopes));
	a->spans = pool(base, &off, c->spans * sizeof(*a->spans));
	a->statuses = pool(base, &off, c->statuses * sizeof(*a->statuses));
	a->events = pool(base, &off, c->events * sizeof(*a->events));
	a->links = pool(base, &off, c->links * sizeof(*a->links));
	a->kvs = pool(base, &off, c->kvs * sizeof(*a->kvs));
	a->anys = pool(base, &off, c->anys * sizeof(*a->anys));
	a->arrays = pool(base, &off, c->arrays * sizeof(*a->arrays));
	a->ptrs = pool(base, &off, c->ptrs * sizeof(*a->ptrs));
	return off;
}

/* The one allocation holding every message of the request. */
static void *arena_alloc(struct pb_arena *a, const struct pb_counts *c)
{
	size_t size = place_pools(a, c, NULL);
	char *mem = malloc(size ? size : 1);

	if (mem)
		place_pools(a, c, mem);
	return mem;
}

/* ---- Strings ---- */

static char *side_alloc(struct pb_arena *a, size_t size)
{
	struct side_chunk *c = malloc(sizeof(*c) + size);

	if (!c) {
		a->failed = true;
		return NULL;
	}
	c->next = a->side;
	a->side = c;
	return c->data;
}

/* A copy of @buf's content in side storage (NUL-terminated); "" on ENOMEM. */
static char *side_copy(struct pb_arena *a, const struct otel_buf *buf)
{
	char *s;

	if (buf->failed) {
		a->failed = true;
		return "";
	}
	s = side_alloc(a, buf->len + 1);
	if (!s)
		return "";
	memcpy(s, buf->data, buf->len);
	s[buf->len] = '\0';
	return s;
}

/*
 * @s as a protobuf-c string: the span data's own when it is valid UTF-8, else
 * a repaired copy. protobuf-c takes NUL-terminated strings, so @s must end at
 * @len (span data strings do) and cannot carry an embedded NUL.
 */
static char *pb_strn(struct pb_arena *a, const char *s, size_t len)
{
	if (otel_text_utf8_valid_prefix(s, len) == len)
		return (char *)s; /* protobuf-c only reads it */
	otel_buf_clear(&a->scratch);
	otel_buf_utf8(&a->scratch, s, len);
	return side_copy(a, &a->scratch);
}

static char *pb_str(struct pb_arena *a, const char *s)
{
	return s ? pb_strn(a, s, strlen(s)) : NULL;
}

static char *pb_trace_state(struct pb_arena *a, const otel_trace_state *ts)
{
	if (!ts)
		return NULL;
	if (ts != a->last_ts) {
		otel_buf_clear(&a->scratch);
		if (otel_otlp_trace_state(ts, &a->scratch))
			a->failed = true;
		a->last_ts = ts;
		a->last_ts_str = side_copy(a, &a->scratch);
	}
	return a->last_ts_str;
}

static ProtobufCBinaryData pb_bytes(const uint8_t *p, size_t len)
{
	return (ProtobufCBinaryData){ .len = len, .data = (uint8_t *)p };
}

/* ---- Filling ---- */

static void **take_ptrs(struct pb_arena *a, size_t n)
{
	void **p = a->ptrs;

	a->ptrs += n;
	return p;
}

static pb_any *fill_value(struct pb_arena *a, const struct otel_value *v);

static pb_array *fill_array(struct pb_arena *a, const struct otel_value *v)
{
	pb_array *arr = a->arrays++;
	size_t n = v->array.count;

	*arr = (pb_array)OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
	arr->n_values = n;
	arr->values = (pb_any **)take_ptrs(a, n);
	for (size_t i = 0; i < n; i++) {
		struct otel_value item = otel_otlp_array_item(v, i);

		arr->values[i] = fill_value(a, &item);
	}
	return arr;
}

static pb_any *fill_value(struct pb_arena *a, const struct otel_value *v)
{
	pb_any *any = a->anys++;

	*any = (pb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	switch (v->type) {
	case OTEL_VALUE_STRING:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		any->string_value = v->str.ptr ? pb_strn(a, v->str.ptr, v->str.len) : "";
		break;
	case OTEL_VALUE_BOOL:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		any->bool_value = v->b;
		break;
	case OTEL_VALUE_INT:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		any->int_value = v->i;
		break;
	case OTEL_VALUE_DOUBLE:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
		any->double_value = v->d;
		break;
	case OTEL_VALUE_BYTES:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		any->bytes_value = pb_bytes(v->bytes.ptr, v->bytes.len);
		break;
	case OTEL_VALUE_STRING_ARRAY:
	case OTEL_VALUE_BOOL_ARRAY:
	case OTEL_VALUE_INT_ARRAY:
	case OTEL_VALUE_DOUBLE_ARRAY:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		any->array_value = fill_array(a, v);
		break;
	default:
		break; /* NONE: an empty AnyValue */
	}
	return any;
}

static pb_kv **fill_attrs(struct pb_arena *a, const struct otel_attribute *attrs, size_t n)
{
	pb_kv **list = (pb_kv **)take_ptrs(a, n);

	for (size_t i = 0; i < n; i++) {
		pb_kv *kv = a->kvs++;

		*kv = (pb_kv)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
		kv->key = pb_str(a, attrs[i].key);
		kv->value = fill_value(a, &attrs[i].value);
		list[i] = kv;
	}
	return list;
}

static pb_event *fill_event(struct pb_arena *a, const struct otel_event *e)
{
	pb_event *ev = a->events++;

	*ev = (pb_event)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
	ev->time_unix_nano = e->time_ns;
	ev->name = pb_str(a, e->name);
	ev->n_attributes = e->n_attributes;
	ev->attributes = fill_attrs(a, e->attributes, e->n_attributes);
	ev->dropped_attributes_count = e->dropped_attributes;
	return ev;
}

static pb_link *fill_link(struct pb_arena *a, const struct otel_link *l)
{
	pb_link *lk = a->links++;

	*lk = (pb_link)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__LINK__INIT;
	lk->trace_id = pb_bytes(l->context.trace_id, sizeof(l->context.trace_id));
	lk->span_id = pb_bytes(l->context.span_id, sizeof(l->context.span_id));
	lk->trace_state = pb_trace_state(a, l->context.trace_state);
	lk->n_attributes = l->n_attributes;
	lk->attributes = fill_attrs(a, l->attributes, l->n_attributes);
	lk->dropped_attributes_count = l->dropped_attributes;
	lk->flags = otel_otlp_flags(l->context.trace_flags, l->context.is_remote);
	return lk;
}

static pb_status *fill_status(struct pb_arena *a, const struct otel_span_data *d)
{
	pb_status *st;

	if (d->status_code == OTEL_STATUS_UNSET)
		return NULL;
	st = a->statuses++;
	*st = (pb_status)OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
	st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)otel_otlp_status_code(
		d->status_code);
	st->message = pb_str(a, d->status_description);
	return st;
}

static pb_span *fill_span(struct pb_arena *a, const struct otel_span_data *d)
{
	pb_span *sp = a->spans++;

	*sp = (pb_span)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
	sp->trace_id = pb_bytes(d->context.trace_id, sizeof(d->context.trace_id));
	sp->span_id = pb_bytes(d->context.span_id, sizeof(d->context.span_id));
	sp->trace_state = pb_trace_state(a, d->context.trace_state);
	if (!otel_otlp_id_is_zero(d->parent_span_id, sizeof(d->parent_span_id)))
		sp->parent_span_id = pb_bytes(d->parent_span_id, sizeof(d->parent_span_id));
	sp->flags = otel_otlp_flags(d->context.trace_flags, d->parent_is_remote);
	sp->name = pb_str(a, d->name);
	sp->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)otel_otlp_kind(d->kind);
	sp->start_time_unix_nano = d->start_time_ns;
	sp->end_time_unix_nano = d->end_time_ns;
	sp->n_attributes = d->n_attributes;
	sp->attributes = fill_attrs(a, d->attributes, d->n_attributes);
	sp->dropped_attributes_count = d->dropped_attributes;
	sp->n_events = d->n_events;
	sp->events = (pb_event **)take_ptrs(a, d->n_events);
	for (size_t i = 0; i < d->n_events; i++)
		sp->events[i] = fill_event(a, &d->events[i]);
	sp->dropped_events_count = d->dropped_events;
	sp->n_links = d->n_links;
	sp->links = (pb_link **)take_ptrs(a, d->n_links);
	for (size_t i = 0; i < d->n_links; i++)
		sp->links[i] = fill_link(a, &d->links[i]);
	sp->dropped_links_count = d->dropped_links;
	sp->status = fill_status(a, d);
	return sp;
}

static pb_scope_spans *fill_scope_spans(struct pb_arena *a, const struct otel_otlp_scope_group *g)
{
	pb_scope_spans *ss = a->scope_spans++;
	pb_scope *sc = a->scopes++;
	const struct otel_scope_info *info = g->scope;

	*ss = (pb_scope_spans)OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
	*sc = (pb_scope)OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	ss->scope = sc;
	if (info) {
		sc->name = pb_str(a, info->name);
		sc->version = pb_str(a, info->version);
		sc->n_attributes = info->n_attributes;
		sc->attributes = fill_attrs(a, info->attributes, info->n_attributes);
		ss->schema_url = pb_str(a, info->schema_url);
	}
	ss->n_spans = g->n_spans;
	ss->spans = (pb_span **)take_ptrs(a, g->n_spans);
	for (size_t i = 0; i < g->n_spans; i++)
		ss->spans[i] = fill_span(a, g->spans[i]);
	return ss;
}

static pb_resource_spans *fill_resource_spans(struct pb_arena *a,
					      const struct otel_otlp_resource_group *g)
{
	pb_resource_spans *rs = a->resource_spans++;
	pb_resource *res = a->resources++;
	const struct otel_attribute *attrs = NULL;
	size_t n = 0;

	*rs = (pb_resource_spans)OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
	*res = (pb_resource)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	rs->resource = res;
	if (g->resource) {
		attrs = otel_resource_attributes(g->resource, &n);
		rs->schema_url = pb_str(a, otel_resource_schema_url(g->resource));
	}
	res->n_attributes = n;
	res->attributes = fill_attrs(a, attrs, n);
	rs->n_scope_spans = g->n_scopes;
	rs->scope_spans = (pb_scope_spans **)take_ptrs(a, g->n_scopes);
	for (size_t i = 0; i < g->n_scopes; i++)
		rs->scope_spans[i] = fill_scope_spans(a, &g->scopes[i]);
	return rs;
}

static uint8_t *pack(const pb_request *req, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(&req->base);
	uint8_t *out = malloc(size ? size : 1);

	if (!out)
		return NULL;
	*len = protobuf_c_message_pack(&req->base, out);
	return out;
}

static void arena_release(struct pb_arena *a)
{
	while (a->side) {
		struct side_chunk *next = a->side->next;

		free(a->side);
		a->side = next;
	}
	otel_buf_release(&a->scratch);
}

uint8_t *otel_otlp_encode_protobuf(const struct otel_span_data *const *spans, size_t n, size_t *len)
{
	pb_request req =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	struct otel_otlp_groups g;
	struct pb_counts c = { 0 };
	struct pb_arena a = { 0 };
	uint8_t *out = NULL;
	void *mem;

	if (!otel_otlp_encode_begin(&g, spans, n, len))
		return NULL;
	count_request(&c, &g);
	mem = arena_alloc(&a, &c);
	if (mem) {
		req.n_resource_spans = g.n_resources;
		req.resource_spans = (pb_resource_spans **)take_ptrs(&a, g.n_resources);
		for (size_t i = 0; i < g.n_resources; i++)
			req.resource_spans[i] = fill_resource_spans(&a, &g.resources[i]);
		if (!a.failed)
			out = pack(&req, len);
	}
	arena_release(&a);
	free(mem);
	otel_otlp_groups_release(&g);
	if (!out)
		errno = ENOMEM;
	return out;
}
