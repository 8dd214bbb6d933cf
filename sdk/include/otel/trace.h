/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tracing API: what a library codes against. With no SDK provider
 * installed (see <otel/sdk.h>) every call here is a cheap no-op that still
 * propagates a parent's span context, as the OpenTelemetry API requires.
 *
 * Ownership: a span handle returned by a start function holds one reference.
 * otel_span_end() ends the span and releases that reference; call
 * otel_span_ref() first to keep using the handle (for example to read its
 * context) after ending it, and otel_span_unref() when done. Every other
 * function borrows. All span functions are safe to call from several threads.
 */
#ifndef OTEL_TRACE_H
#define OTEL_TRACE_H

#include <otel/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otel_tracer_provider otel_tracer_provider;
typedef struct otel_tracer otel_tracer;
typedef struct otel_span otel_span;
typedef struct otel_context otel_context;
typedef struct otel_trace_state otel_trace_state;

enum otel_span_kind {
	OTEL_SPAN_KIND_INTERNAL = 0,
	OTEL_SPAN_KIND_SERVER,
	OTEL_SPAN_KIND_CLIENT,
	OTEL_SPAN_KIND_PRODUCER,
	OTEL_SPAN_KIND_CONSUMER,
};

enum otel_status_code {
	OTEL_STATUS_UNSET = 0,
	OTEL_STATUS_OK = 1,
	OTEL_STATUS_ERROR = 2,
};

#define OTEL_TRACE_FLAG_SAMPLED 0x01

/** Identity of a span as it propagates; a plain value type. */
struct otel_span_context {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t trace_flags;
	bool is_remote;
	/** W3C tracestate, NULL when empty. Borrowed: see otel_trace_state_ref(). */
	otel_trace_state *trace_state;
};

/** @brief True when trace id and span id are both non-zero. */
OTEL_API bool otel_span_context_is_valid(const struct otel_span_context *sc);
/** @brief True when the sampled flag is set. */
static inline bool otel_span_context_is_sampled(const struct otel_span_context *sc)
{
	return sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED;
}

/** A link to another span, given at start or added later. */
struct otel_link {
	struct otel_span_context context;
	const struct otel_attribute *attributes;
	size_t n_attributes;
	uint32_t dropped_attributes; /**< set by the SDK in span data; ignored on input */
};

/** Options of otel_tracer_start_span(). */
struct otel_span_start_opts {
	size_t sz;
	enum otel_span_kind kind;
	/** Parent context; NULL means the thread's current context. */
	const otel_context *parent;
	/** Start a new trace, ignoring any parent. */
	bool root;
	/** Start time in ns since the Unix epoch; 0 means now. */
	uint64_t start_time_ns;
	const struct otel_attribute *attributes;
	size_t n_attributes;
	const struct otel_link *links;
	size_t n_links;
};

/* ---- Providers and tracers ---- */

/**
 * @brief The global tracer provider: the one installed with
 * otel_tracer_provider_set_global(), or a no-op provider. Never NULL.
 */
OTEL_API otel_tracer_provider *otel_tracer_provider_global(void);

/**
 * @brief Get a tracer for an instrumentation scope. Tracers are owned by the
 * provider and live as long as it does; the same scope gives the same tracer.
 * @param name scope name (NULL or "" is allowed but discouraged; a warning is logged)
 * @param version scope version, may be NULL
 * @param schema_url may be NULL
 * @return the tracer; NULL with errno ENOMEM
 */
OTEL_API otel_tracer *otel_tracer_provider_get_tracer(otel_tracer_provider *tp, const char *name,
						      const char *version, const char *schema_url);

/** @brief Shorthand for a tracer of the global provider. */
OTEL_API otel_tracer *otel_tracer_get(const char *name, const char *version);

/** @brief True when spans started now from this tracer may be recorded. */
OTEL_API bool otel_tracer_enabled(const otel_tracer *tracer);

/**
 * @brief Start a span. Never returns NULL: on allocation failure or with no
 * SDK, a non-recording span carrying the parent's context is returned.
 * @param opts may be NULL (INTERNAL kind, current context as parent, now)
 */
OTEL_API otel_span *otel_tracer_start_span(otel_tracer *tracer, const char *name,
					   const struct otel_span_start_opts *opts);

/* ---- Spans ---- */

/** @brief Take another reference on a span handle. Returns @p span. */
OTEL_API otel_span *otel_span_ref(otel_span *span);
/** @brief Release a reference; accepts NULL. */
OTEL_API void otel_span_unref(otel_span *span);

/**
 * @brief A non-recording span that carries @p sc, e.g. a remote parent
 * extracted from headers (takes its own reference on the trace_state).
 * @return new span reference; NULL with errno ENOMEM
 */
OTEL_API otel_span *otel_span_wrap(const struct otel_span_context *sc);

/** @brief Copy the span's context into @p out (the trace_state pointer is borrowed). */
OTEL_API void otel_span_get_context(const otel_span *span, struct otel_span_context *out);
/** @brief True while the span records (sampled-in or record-only, and not ended). */
OTEL_API bool otel_span_is_recording(const otel_span *span);

/**
 * @brief Set an attribute; setting an existing key overwrites it. String
 * values longer than the attribute value length limit are truncated at a
 * character boundary. Ignored on non-recording spans; over the count limit
 * the attribute is dropped and counted.
 */
OTEL_API void otel_span_set_attribute(otel_span *span, const char *key,
				      const struct otel_value *value);
OTEL_API void otel_span_set_attributes(otel_span *span, const struct otel_attribute *attrs,
				       size_t n);
OTEL_API void otel_span_set_attribute_str(otel_span *span, const char *key, const char *value);
OTEL_API void otel_span_set_attribute_strn(otel_span *span, const char *key, const char *value,
					   size_t len);
OTEL_API void otel_span_set_attribute_int(otel_span *span, const char *key, int64_t value);
OTEL_API void otel_span_set_attribute_double(otel_span *span, const char *key, double value);
OTEL_API void otel_span_set_attribute_bool(otel_span *span, const char *key, bool value);

/**
 * @brief Add an event.
 * @param time_ns ns since the Unix epoch, 0 for now
 */
OTEL_API void otel_span_add_event(otel_span *span, const char *name, uint64_t time_ns,
				  const struct otel_attribute *attrs, size_t n);

/** @brief Add a link after start (sampling does not see it). */
OTEL_API void otel_span_add_link(otel_span *span, const struct otel_span_context *context,
				 const struct otel_attribute *attrs, size_t n);

/**
 * @brief Set the status. UNSET is ignored; OK is final; a description is kept
 * only with ERROR.
 */
OTEL_API void otel_span_set_status(otel_span *span, enum otel_status_code code,
				   const char *description);

/**
 * @brief Record an exception as the spec's `exception` event
 * (exception.type, exception.message, exception.stacktrace; NULLs are
 * omitted). Does not change the status.
 */
OTEL_API void otel_span_record_exception(otel_span *span, const char *type, const char *message,
					 const char *stacktrace, const struct otel_attribute *attrs,
					 size_t n);

/** @brief Rename the span (sampling already happened with the old name). */
OTEL_API void otel_span_update_name(otel_span *span, const char *name);

/**
 * @brief End the span and release the caller's reference. Later calls on an
 * ended span are ignored.
 * @param end_time_ns ns since the Unix epoch, 0 for now
 */
OTEL_API void otel_span_end(otel_span *span, uint64_t end_time_ns);

/* ---- Context ---- */

/**
 * A context is immutable and reference-counted. It carries at most one span
 * (possibly a non-recording wrapper of a remote span context) and baggage.
 */
typedef struct otel_baggage otel_baggage;

/** Token returned by otel_context_attach(), to give back to otel_context_detach(). */
typedef struct {
	otel_context *prev;
	uint32_t depth;
} otel_context_token;

/** @brief The thread's current context (never NULL; borrowed, valid until detached). */
OTEL_API otel_context *otel_context_current(void);
OTEL_API otel_context *otel_context_ref(otel_context *ctx);
/** @brief Release a reference; accepts NULL. */
OTEL_API void otel_context_unref(otel_context *ctx);
/** @brief A new context: @p parent (NULL = empty) with @p span as its span. New reference. */
OTEL_API otel_context *otel_context_with_span(const otel_context *parent, otel_span *span);
/** @brief A new context: @p parent (NULL = empty) with @p baggage. New reference. */
OTEL_API otel_context *otel_context_with_baggage(const otel_context *parent,
						 otel_baggage *baggage);
/** @brief The context's span (borrowed) or NULL. */
OTEL_API otel_span *otel_context_get_span(const otel_context *ctx);
/** @brief The context's baggage (borrowed) or NULL. */
OTEL_API otel_baggage *otel_context_get_baggage(const otel_context *ctx);

/** @brief Make @p ctx the thread's current context (takes a reference). */
OTEL_API otel_context_token otel_context_attach(otel_context *ctx);
/**
 * @brief Restore the context that was current before the matching attach.
 * @return 0, or -EINVAL when detaches are out of order (logged; the context
 * is restored anyway)
 */
OTEL_API int otel_context_detach(otel_context_token token);

/** @brief The current context's span (borrowed), or NULL. */
OTEL_API otel_span *otel_span_current(void);

/* ---- Scopes: start_as_current_span for C ---- */

struct otel_span_scope {
	otel_span *span;
	otel_context_token token;
};

/** @brief Start a span and make it current. Pair with otel_span_scope_end(). */
OTEL_API struct otel_span_scope otel_span_scope_begin(otel_tracer *tracer, const char *name,
						      const struct otel_span_start_opts *opts);
/** @brief Detach the scope's context and end its span. */
OTEL_API void otel_span_scope_end(struct otel_span_scope *scope);

/**
 * Start a span as the current span for the rest of the enclosing block; it
 * is detached and ended when the block exits by any path.
 *
 *   {
 *           OTEL_SPAN_SCOPE(span, tracer, "work", NULL);
 *           otel_span_set_attribute_int(span, "items", n);
 *   }   // span ends here
 */
#define OTEL_SPAN_SCOPE(VAR, TRACER, NAME, OPTS)                                                   \
	struct otel_span_scope VAR##__scope __attribute__((cleanup(otel_span_scope_end))) =        \
		otel_span_scope_begin((TRACER), (NAME), (OPTS));                                   \
	otel_span *const VAR = VAR##__scope.span

/* ---- W3C tracestate values ---- */

/**
 * @brief Parse a W3C tracestate header value (list members separated by
 * commas; entries over 32 or invalid ones make the whole value invalid).
 * @return a new tracestate, or NULL with errno EINVAL (invalid) or ENOMEM;
 * an empty value returns NULL with errno 0.
 */
OTEL_API otel_trace_state *otel_trace_state_parse(const char *header);
/** @brief Serialize into @p buf. @return length written (without NUL) or -ENOSPC. */
OTEL_API int otel_trace_state_format(const otel_trace_state *ts, char *buf, size_t size);
/** @brief Value of @p key or NULL. */
OTEL_API const char *otel_trace_state_get(const otel_trace_state *ts, const char *key);
/**
 * @brief A new tracestate with @p key set to @p value, moved to the front
 * (the W3C mutation rule); the oldest entry is dropped past 32 entries.
 * @return new tracestate, NULL with errno EINVAL for an invalid key/value
 */
OTEL_API otel_trace_state *otel_trace_state_set(const otel_trace_state *ts, const char *key,
						const char *value);
/** @brief A new tracestate without @p key. */
OTEL_API otel_trace_state *otel_trace_state_delete(const otel_trace_state *ts, const char *key);
OTEL_API otel_trace_state *otel_trace_state_ref(otel_trace_state *ts);
/** @brief Release; accepts NULL. */
OTEL_API void otel_trace_state_unref(otel_trace_state *ts);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_TRACE_H */
