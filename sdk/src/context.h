/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of otel_context, for propagators that build contexts. */
#ifndef OTEL_SRC_CONTEXT_H
#define OTEL_SRC_CONTEXT_H

#include <stdatomic.h>
#include <otel/propagation.h>

struct otel_context {
	_Atomic uint32_t refcount; /* 0 for the static root context */
	otel_span *span; /* a reference, or NULL */
	otel_baggage *baggage; /* a reference, or NULL */
};

/* The empty root context (static). */
extern struct otel_context otel_root_context;

#endif
