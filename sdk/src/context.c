// SPDX-License-Identifier: Apache-2.0
/*
 * Contexts (immutable, reference-counted: a span and baggage), the
 * thread-local current context with attach/detach tokens, and span scopes.
 */
#include <errno.h>
#include <stdlib.h>
#include "context.h"
#include "log.h"
#include "span.h"

struct otel_context otel_root_context;

static __thread struct otel_context *current;
static __thread uint32_t depth;

otel_context *otel_context_current(void)
{
	return current ? current : &otel_root_context;
}

otel_context *otel_context_ref(otel_context *ctx)
{
	if (ctx && ctx != &otel_root_context)
		atomic_fetch_add_explicit(&ctx->refcount, 1, memory_order_relaxed);
	return ctx;
}

void otel_context_unref(otel_context *ctx)
{
	if (!ctx || ctx == &otel_root_context)
		return;
	if (atomic_fetch_sub_explicit(&ctx->refcount, 1, memory_order_acq_rel) != 1)
		return;
	otel_span_unref(ctx->span);
	otel_baggage_unref(ctx->baggage);
	free(ctx);
}

static otel_context *derive(const otel_context *parent, otel_span *span, otel_baggage *bg)
{
	otel_context *ctx = malloc(sizeof(*ctx));

	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&ctx->refcount, 1);
	ctx->span = otel_span_ref(span);
	ctx->baggage = otel_baggage_ref(bg);
	(void)parent;
	return ctx;
}

otel_context *otel_context_with_span(const otel_context *parent, otel_span *span)
{
	return derive(parent, span, parent ? parent->baggage : NULL);
}

otel_context *otel_context_with_baggage(const otel_context *parent, otel_baggage *baggage)
{
	return derive(parent, parent ? parent->span : NULL, baggage);
}

otel_span *otel_context_get_span(const otel_context *ctx)
{
	return ctx ? ctx->span : NULL;
}

otel_baggage *otel_context_get_baggage(const otel_context *ctx)
{
	return ctx ? ctx->baggage : NULL;
}

otel_context_token otel_context_attach(otel_context *ctx)
{
	otel_context_token tok = { .prev = current, .depth = ++depth };

	current = otel_context_ref(ctx ? ctx : &otel_root_context);
	return tok;
}

int otel_context_detach(otel_context_token tok)
{
	int err = 0;

	if (tok.depth != depth) {
		otel_log(OTEL_LOG_ERROR,
			 "context detached out of order (token depth %u, current depth %u)",
			 tok.depth, depth);
		err = -EINVAL;
	}
	otel_context_unref(current);
	current = tok.prev;
	depth = tok.depth ? tok.depth - 1 : 0;
	return err;
}

otel_span *otel_span_current(void)
{
	return otel_context_get_span(otel_context_current());
}

struct otel_span_scope otel_span_scope_begin(otel_tracer *tracer, const char *name,
					     const struct otel_span_start_opts *opts)
{
	struct otel_span_scope scope = { .span = otel_tracer_start_span(tracer, name, opts) };
	const otel_context *parent = opts && opts->parent ? opts->parent : otel_context_current();
	otel_context *ctx = otel_context_with_span(parent, scope.span);

	/* Without memory for a context the span still works; it is just not current. */
	scope.token = otel_context_attach(ctx ? ctx : otel_context_current());
	otel_context_unref(ctx);
	return scope;
}

void otel_span_scope_end(struct otel_span_scope *scope)
{
	otel_context_detach(scope->token);
	otel_span_end(scope->span, 0);
}
