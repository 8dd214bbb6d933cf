// SPDX-License-Identifier: Apache-2.0
/*
 * The console exporter: one readable block per span, for development and
 * for running with no backend at all:
 *
 *   [svc] GET /users/{id} SERVER 12.345 ms trace=<32 hex> span=<16 hex> parent=<16 hex|-> status=OK
 *       http.request.method = "GET"
 *       event exception @+1.234ms {exception.type="E"}
 *       link trace=<32 hex> span=<16 hex> {k=1}
 *
 * Each span is formatted into a buffer and written with one fwrite, so spans
 * from several exporters sharing a stream do not interleave mid-line.
 * Strings are escaped like JSON strings: captured data cannot forge lines or
 * send control sequences to a terminal.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "buf.h"
#include "otlp_group.h"

struct console_exporter {
	struct otel_span_exporter base;
	pthread_mutex_t lock; /* the stream and the buffer */
	FILE *out;
	struct otel_buf line;
	bool shut_down;
};

static const char *kind_name(enum otel_span_kind kind)
{
	static const char *const names[] = { "INTERNAL", "SERVER", "CLIENT", "PRODUCER",
					     "CONSUMER" };

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "UNSPECIFIED";
}

static const char *status_name(enum otel_status_code code)
{
	switch (code) {
	case OTEL_STATUS_OK:
		return "OK";
	case OTEL_STATUS_ERROR:
		return "ERROR";
	default:
		return "UNSET";
	}
}

static void put_text(struct otel_buf *b, const char *s)
{
	if (s)
		otel_buf_json_escape(b, s, strlen(s));
}

/* @ns as milliseconds with 3 decimals, e.g. "-1.234"; "+" first when @plus. */
static void put_ms(struct otel_buf *b, int64_t ns, bool plus)
{
	uint64_t abs = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	if (ns < 0 || plus)
		otel_buf_putc(b, ns < 0 ? '-' : '+');
	otel_buf_printf(b, "%llu.%03llu", (unsigned long long)(abs / 1000000),
			(unsigned long long)(abs % 1000000 / 1000));
}

static void put_value(struct otel_buf *b, const struct otel_value *v)
{
	switch (v->type) {
	case OTEL_VALUE_STRING:
		otel_buf_json_string(b, v->str.ptr, v->str.ptr ? v->str.len : 0);
		break;
	case OTEL_VALUE_BOOL:
		otel_buf_puts(b, v->b ? "true" : "false");
		break;
	case OTEL_VALUE_INT:
		otel_buf_i64(b, v->i);
		break;
	case OTEL_VALUE_DOUBLE:
		otel_buf_double(b, v->d);
		break;
	case OTEL_VALUE_BYTES:
		otel_buf_puts(b, "0x");
		otel_buf_hex(b, v->bytes.ptr, v->bytes.len);
		break;
	default:
		if (!otel_otlp_is_array(v)) {
			otel_buf_puts(b, "(none)");
			break;
		}
		otel_buf_putc(b, '[');
		for (size_t i = 0; i < v->array.count; i++) {
			struct otel_value item = otel_otlp_array_item(v, i);

			if (i)
				otel_buf_puts(b, ", ");
			put_value(b, &item);
		}
		otel_buf_putc(b, ']');
	}
}

/* Attributes inline, as {k=v, k2=v2}; nothing when there are none. */
static void put_inline_attrs(struct otel_buf *b, const struct otel_attribute *attrs, size_t n)
{
	if (!n)
		return;
	otel_buf_puts(b, " {");
	for (size_t i = 0; i < n; i++) {
		if (i)
			otel_buf_puts(b, ", ");
		put_text(b, attrs[i].key);
		otel_buf_putc(b, '=');
		put_value(b, &attrs[i].value);
	}
	otel_buf_putc(b, '}');
}

static void put_service(struct otel_buf *b, const otel_resource *res)
{
	const struct otel_value *name = res ? otel_resource_get(res, "service.name") : NULL;

	otel_buf_putc(b, '[');
	if (name && name->type == OTEL_VALUE_STRING)
		otel_buf_json_escape(b, name->str.ptr, name->str.len);
	else
		otel_buf_putc(b, '-');
	otel_buf_puts(b, "] ");
}

static void put_head(struct otel_buf *b, const struct otel_span_data *d)
{
	put_service(b, d->resource);
	put_text(b, d->name);
	otel_buf_printf(b, " %s ", kind_name(d->kind));
	put_ms(b, (int64_t)(d->end_time_ns - d->start_time_ns), false);
	otel_buf_puts(b, " ms trace=");
	otel_buf_hex(b, d->context.trace_id, sizeof(d->context.trace_id));
	otel_buf_puts(b, " span=");
	otel_buf_hex(b, d->context.span_id, sizeof(d->context.span_id));
	otel_buf_puts(b, " parent=");
	if (otel_otlp_id_is_zero(d->parent_span_id, sizeof(d->parent_span_id)))
		otel_buf_putc(b, '-');
	else
		otel_buf_hex(b, d->parent_span_id, sizeof(d->parent_span_id));
	otel_buf_printf(b, " status=%s", status_name(d->status_code));
	if (d->status_description) {
		otel_buf_putc(b, ' ');
		otel_buf_json_string(b, d->status_description, strlen(d->status_description));
	}
	otel_buf_putc(b, '\n');
}

static void put_body(struct otel_buf *b, const struct otel_span_data *d)
{
	for (size_t i = 0; i < d->n_attributes; i++) {
		otel_buf_puts(b, "    ");
		put_text(b, d->attributes[i].key);
		otel_buf_puts(b, " = ");
		put_value(b, &d->attributes[i].value);
		otel_buf_putc(b, '\n');
	}
	for (size_t i = 0; i < d->n_events; i++) {
		const struct otel_event *e = &d->events[i];

		otel_buf_puts(b, "    event ");
		put_text(b, e->name);
		otel_buf_puts(b, " @");
		put_ms(b, (int64_t)(e->time_ns - d->start_time_ns), true);
		otel_buf_puts(b, "ms");
		put_inline_attrs(b, e->attributes, e->n_attributes);
		otel_buf_putc(b, '\n');
	}
	for (size_t i = 0; i < d->n_links; i++) {
		const struct otel_link *l = &d->links[i];

		otel_buf_puts(b, "    link trace=");
		otel_buf_hex(b, l->context.trace_id, sizeof(l->context.trace_id));
		otel_buf_puts(b, " span=");
		otel_buf_hex(b, l->context.span_id, sizeof(l->context.span_id));
		put_inline_attrs(b, l->attributes, l->n_attributes);
		otel_buf_putc(b, '\n');
	}
	if (d->dropped_attributes || d->dropped_events || d->dropped_links)
		otel_buf_printf(b, "    dropped attributes=%u events=%u links=%u\n",
				d->dropped_attributes, d->dropped_events, d->dropped_links);
}

static enum otel_export_result console_export(struct otel_span_exporter *exp,
					      const struct otel_span_data *const *spans, size_t n,
					      uint64_t deadline_ns)
{
	struct console_exporter *c = (struct console_exporter *)exp;
	enum otel_export_result res = OTEL_EXPORT_SUCCESS;

	(void)deadline_ns;
	pthread_mutex_lock(&c->lock);
	if (c->shut_down) {
		pthread_mutex_unlock(&c->lock);
		return OTEL_EXPORT_FAILURE;
	}
	for (size_t i = 0; i < n; i++) {
		otel_buf_clear(&c->line);
		put_head(&c->line, spans[i]);
		put_body(&c->line, spans[i]);
		if (c->line.failed || fwrite(c->line.data, 1, c->line.len, c->out) != c->line.len)
			res = OTEL_EXPORT_FAILURE;
	}
	if (fflush(c->out))
		res = OTEL_EXPORT_FAILURE;
	pthread_mutex_unlock(&c->lock);
	return res;
}

static int console_force_flush(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct console_exporter *c = (struct console_exporter *)exp;
	int err;

	(void)deadline_ns;
	pthread_mutex_lock(&c->lock);
	err = fflush(c->out) ? -errno : 0;
	pthread_mutex_unlock(&c->lock);
	return err;
}

static int console_shutdown(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct console_exporter *c = (struct console_exporter *)exp;
	int err = console_force_flush(exp, deadline_ns);

	pthread_mutex_lock(&c->lock);
	c->shut_down = true;
	pthread_mutex_unlock(&c->lock);
	return err;
}

static void console_destroy(struct otel_span_exporter *exp)
{
	struct console_exporter *c = (struct console_exporter *)exp;

	otel_buf_release(&c->line);
	pthread_mutex_destroy(&c->lock);
	free(c); /* the stream is the caller's */
}

static const struct otel_span_exporter_ops console_ops = {
	.export_spans = console_export,
	.force_flush = console_force_flush,
	.shutdown = console_shutdown,
	.destroy = console_destroy,
};

struct otel_span_exporter *otel_console_exporter_new(FILE *out)
{
	struct console_exporter *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base.ops = &console_ops;
	c->out = out ? out : stdout;
	pthread_mutex_init(&c->lock, NULL);
	return &c->base;
}
