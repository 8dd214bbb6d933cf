// SPDX-License-Identifier: Apache-2.0
/*
 * Span limits: the specification's defaults and the OTEL_* variables that
 * override them. A model-specific variable (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
 * OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, ...) wins over the general
 * OTEL_ATTRIBUTE_* one, which wins over the default, as the spec's attribute
 * limits section orders them.
 */
#include <otel/sdk.h>
#include "env.h"

#define DEFAULT_COUNT 128

void otel_span_limits_default(struct otel_span_limits *out)
{
	*out = (struct otel_span_limits){
		.sz = sizeof(*out),
		.attribute_count = DEFAULT_COUNT,
		.attribute_value_length = OTEL_LIMIT_UNLIMITED,
		.event_count = DEFAULT_COUNT,
		.link_count = DEFAULT_COUNT,
		.attributes_per_event = DEFAULT_COUNT,
		.attributes_per_link = DEFAULT_COUNT,
	};
}

void otel_span_limits_from_env(struct otel_span_limits *out)
{
	uint32_t count, length;

	otel_span_limits_default(out);
	count = otel_env_u32("OTEL_ATTRIBUTE_COUNT_LIMIT", out->attribute_count);
	length = otel_env_u32("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", out->attribute_value_length);
	out->attribute_count = otel_env_u32("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", count);
	out->attribute_value_length =
		otel_env_u32("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", length);
	out->event_count = otel_env_u32("OTEL_SPAN_EVENT_COUNT_LIMIT", out->event_count);
	out->link_count = otel_env_u32("OTEL_SPAN_LINK_COUNT_LIMIT", out->link_count);
	out->attributes_per_event = otel_env_u32("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", count);
	out->attributes_per_link = otel_env_u32("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", count);
}
