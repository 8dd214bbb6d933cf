// SPDX-License-Identifier: Apache-2.0
/*
 * From otel:* USDT probe records to spans (see usdt_span.h and the probe
 * contract in <otel/usdt.h>).
 */
#include <string.h>
#include "usdt_span.h"

static void span_start(struct kspan_correlate *c, const struct kspan_usdt_rec *r, size_t name_len, struct kspan_usdt_stats *st)
{
	enum otel_span_kind kind = r->num >= OTEL_SPAN_KIND_INTERNAL &&
						   r->num <= OTEL_SPAN_KIND_CONSUMER ?
					   (enum otel_span_kind)r->num :
					   OTEL_SPAN_KIND_INTERNAL;
	struct kspan_span_ref *ref, *parent;

	ref = kspan_ref_new(c, kind, r->hdr.tgid, r->hdr.tid, r->hdr.ts_ns, r->str1,
			    name_len);
	if (!ref) {
		st->refused++;
		return;
	}
	ref->explicit_span = true;
	parent = kspan_correlate_current(c, r->hdr.tgid, r->hdr.tid);
	if (parent)
		kspan_ref_set_parent(ref, parent, false);
	/* Started lazily, like the automatic spans: when an attribute or a child needs it. */
	if (kspan_correlate_push(c, ref))
		st->refused++;
	else
		st->spans++;
	kspan_ref_put(c, ref);
}

static void span_end(struct kspan_correlate *c, const struct kspan_usdt_rec *r,
		     struct kspan_usdt_stats *st)
{
	struct kspan_span_ref *ref = kspan_correlate_innermost_explicit(c, r->hdr.tgid, r->hdr.tid);

	if (!ref) {
		st->end_without_start++;
		return;
	}
	kspan_ref_get(ref);
	/* Explicit spans opened inside it and never ended end with it (counted there). */
	kspan_correlate_pop(c, ref, r->hdr.ts_ns);
	kspan_ref_end(c, ref, r->hdr.ts_ns);
	kspan_ref_put(c, ref);
}

/* attr_*, event, status, exception: on the thread's innermost span. */
static void span_op(struct kspan_correlate *c, const struct kspan_ktime *kt,
		    const struct kspan_usdt_rec *r, size_t len1, size_t len2,
		    struct kspan_usdt_stats *st)
{
	struct kspan_span_ref *ref = kspan_correlate_current(c, r->hdr.tgid, r->hdr.tid);
	struct otel_attribute ex[2];
	otel_span *span;
	double d;

	span = ref ? kspan_ref_span(c, ref, NULL, NULL, 0) : NULL;
	if (!span) {
		st->op_without_span++;
		return;
	}
	switch (r->probe) {
	case KSPAN_USDT_ATTR_STR:
		otel_span_set_attribute_strn(span, r->str1, r->str2, len2);
		break;
	case KSPAN_USDT_ATTR_INT:
		otel_span_set_attribute_int(span, r->str1, r->num);
		break;
	case KSPAN_USDT_ATTR_DOUBLE:
		memcpy(&d, &r->num, sizeof(d));
		otel_span_set_attribute_double(span, r->str1, d);
		break;
	case KSPAN_USDT_ATTR_BOOL:
		otel_span_set_attribute_bool(span, r->str1, r->num != 0);
		break;
	case KSPAN_USDT_EVENT:
		otel_span_add_event(span, r->str1, kspan_ktime_to_wall(kt, r->hdr.ts_ns), NULL, 0);
		break;
	case KSPAN_USDT_STATUS:
		if (r->num >= OTEL_STATUS_UNSET && r->num <= OTEL_STATUS_ERROR)
			otel_span_set_status(span, (enum otel_status_code)r->num,
					     len2 ? r->str2 : NULL);
		break;
	case KSPAN_USDT_EXCEPTION:
		/* The exception event of the spec, at the probe's time. */
		ex[0] = (struct otel_attribute){ "exception.type",
						 { .type = OTEL_VALUE_STRING,
						   .str = { r->str1, len1 } } };
		ex[1] = (struct otel_attribute){ "exception.message",
						 { .type = OTEL_VALUE_STRING,
						   .str = { r->str2, len2 } } };
		otel_span_add_event(span, "exception", kspan_ktime_to_wall(kt, r->hdr.ts_ns), ex,
				    2);
		break;
	}
}

void kspan_usdt_span_record(struct kspan_correlate *c, const struct kspan_ktime *kt,
			    const struct kspan_usdt_rec *rec,
			    struct kspan_usdt_stats *st)
{
	struct kspan_usdt_rec r = *rec; /* a terminated copy: the record comes from outside */
	size_t len1, len2;

	r.str1[sizeof(r.str1) - 1] = '\0';
	r.str2[sizeof(r.str2) - 1] = '\0';
	len1 = strlen(r.str1);
	len2 = strlen(r.str2);
	switch (r.probe) {
	case KSPAN_USDT_SPAN_START:
		span_start(c, &r, len1, st);
		break;
	case KSPAN_USDT_SPAN_END:
		span_end(c, &r, st);
		break;
	default:
		if (r.probe > KSPAN_USDT_SPAN_END && r.probe <= KSPAN_USDT_PROBE_MAX)
			span_op(c, kt, &r, len1, len2, st);
		break;
	}
}
