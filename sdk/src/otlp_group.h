/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the protobuf and JSON OTLP encoders share: grouping a batch of spans
 * into ResourceSpans and ScopeSpans, and the span-level field mappings (kind,
 * flags, tracestate) so both encodings say the same thing.
 */
#ifndef OTEL_SRC_OTLP_GROUP_H
#define OTEL_SRC_OTLP_GROUP_H

#include <otel/export.h>
#include "buf.h"

struct otel_otlp_scope_group {
	const struct otel_scope_info *scope; /* NULL: an empty scope */
	const struct otel_span_data **spans;
	size_t n_spans;
};

struct otel_otlp_resource_group {
	const otel_resource *resource; /* NULL: an empty resource */
	struct otel_otlp_scope_group *scopes;
	size_t n_scopes;
};

/*
 * Resources in order of first appearance, each with its scopes in order of
 * first appearance within it, each with its spans in input order.
 */
struct otel_otlp_groups {
	struct otel_otlp_resource_group *resources;
	size_t n_resources;
	size_t n_scopes; /* over all resources */
	size_t n_spans;
};

/*
 * Group @spans; one allocation, freed by otel_otlp_groups_release().
 * 0, -EINVAL (NULL array or span) or -ENOMEM.
 */
int otel_otlp_group(struct otel_otlp_groups *g, const struct otel_span_data *const *spans,
		    size_t n);
/*
 * The common start of both encoders: check @len (the output length pointer)
 * and group the spans. Returns false with errno set (EINVAL, ENOMEM).
 */
bool otel_otlp_encode_begin(struct otel_otlp_groups *g, const struct otel_span_data *const *spans,
			    size_t n, const size_t *len);
void otel_otlp_groups_release(struct otel_otlp_groups *g);

/* OTLP SpanFlags bits: the W3C trace flags, and whether the parent (or link) is remote. */
#define OTEL_OTLP_FLAGS_HAS_IS_REMOTE 0x100u
#define OTEL_OTLP_FLAGS_IS_REMOTE 0x200u

static inline uint32_t otel_otlp_flags(uint8_t trace_flags, bool is_remote)
{
	/* We always know whether it is remote, so HAS_IS_REMOTE is always set. */
	return trace_flags | OTEL_OTLP_FLAGS_HAS_IS_REMOTE |
	       (is_remote ? OTEL_OTLP_FLAGS_IS_REMOTE : 0);
}

/* OTLP Span.SpanKind: ours starts at INTERNAL = 0, OTLP's at UNSPECIFIED = 0. */
static inline int otel_otlp_kind(enum otel_span_kind kind)
{
	return (unsigned)kind <= OTEL_SPAN_KIND_CONSUMER ? (int)kind + 1 : 0;
}

/* Status.StatusCode has the same numbering as enum otel_status_code. */
static inline int otel_otlp_status_code(enum otel_status_code code)
{
	return (unsigned)code <= OTEL_STATUS_ERROR ? (int)code : 0;
}

static inline bool otel_otlp_id_is_zero(const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (id[i])
			return false;
	return true;
}

/* Element @i of an array value (OTEL_VALUE_*_ARRAY) as a scalar value. */
static inline struct otel_value otel_otlp_array_item(const struct otel_value *v, size_t i)
{
	switch (v->type) {
	case OTEL_VALUE_STRING_ARRAY:
		return otel_value_str(((const char *const *)v->array.items)[i]);
	case OTEL_VALUE_BOOL_ARRAY:
		return (struct otel_value){ .type = OTEL_VALUE_BOOL,
					    .b = ((const bool *)v->array.items)[i] };
	case OTEL_VALUE_INT_ARRAY:
		return (struct otel_value){ .type = OTEL_VALUE_INT,
					    .i = ((const int64_t *)v->array.items)[i] };
	case OTEL_VALUE_DOUBLE_ARRAY:
		return (struct otel_value){ .type = OTEL_VALUE_DOUBLE,
					    .d = ((const double *)v->array.items)[i] };
	default:
		return (struct otel_value){ .type = OTEL_VALUE_NONE };
	}
}

static inline bool otel_otlp_is_array(const struct otel_value *v)
{
	return v->type >= OTEL_VALUE_STRING_ARRAY && v->type <= OTEL_VALUE_DOUBLE_ARRAY;
}

/*
 * Append the W3C serialization of @ts (raw, not escaped) to @out. Appends
 * nothing for NULL or an empty tracestate. 0, or -ENOMEM.
 */
int otel_otlp_trace_state(const otel_trace_state *ts, struct otel_buf *out);

#endif
