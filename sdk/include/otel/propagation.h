/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context propagation: W3C Trace Context (traceparent, tracestate), W3C
 * Baggage, composite propagators and the global propagator set by
 * OTEL_PROPAGATORS. Carriers are reached through callbacks, so any header
 * container works (HTTP headers, message metadata, ...).
 */
#ifndef OTEL_PROPAGATION_H
#define OTEL_PROPAGATION_H

#include <otel/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read a header from a carrier: return its value (NULL when absent). When a
 * header appears several times, return the values joined with ",". The key is
 * given in lower case; carriers must compare case-insensitively.
 */
typedef const char *(*otel_carrier_get_fn)(void *carrier, const char *key);
/** Write a header to a carrier, replacing any previous value. */
typedef void (*otel_carrier_set_fn)(void *carrier, const char *key, const char *value);

typedef struct otel_propagator otel_propagator;

/** @brief W3C Trace Context propagator (traceparent + tracestate). Static; never freed. */
OTEL_API otel_propagator *otel_propagator_tracecontext(void);
/** @brief W3C Baggage propagator. Static; never freed. */
OTEL_API otel_propagator *otel_propagator_baggage(void);
/**
 * @brief A propagator running @p parts in order (extract: later ones see the
 * context built by earlier ones). The array is copied; the parts are borrowed
 * and must outlive it. NULL with errno EINVAL/ENOMEM.
 */
OTEL_API otel_propagator *otel_propagator_composite(otel_propagator *const *parts, size_t n);
/**
 * @brief Build from OTEL_PROPAGATORS (default "tracecontext,baggage";
 * "none" gives a no-op propagator; unknown names are warned about once and
 * skipped).
 */
OTEL_API otel_propagator *otel_propagator_from_env(void);
/** @brief Free a propagator made by composite or from_env; accepts NULL and static ones. */
OTEL_API void otel_propagator_free(otel_propagator *p);

/** @brief Inject @p ctx (NULL = current) into the carrier. */
OTEL_API void otel_propagator_inject(const otel_propagator *p, const otel_context *ctx,
				     void *carrier, otel_carrier_set_fn set);
/**
 * @brief Extract from the carrier into a new context derived from @p ctx
 * (NULL = current). Invalid headers are ignored as the W3C rules say.
 * @return a new context reference (never NULL except ENOMEM)
 */
OTEL_API otel_context *otel_propagator_extract(const otel_propagator *p, const otel_context *ctx,
					       void *carrier, otel_carrier_get_fn get);
/** @brief Header names the propagator uses, NULL-terminated. */
OTEL_API const char *const *otel_propagator_fields(const otel_propagator *p);

/** @brief The global propagator (a no-op one until set). */
OTEL_API otel_propagator *otel_propagator_global(void);
/** @brief Install the global propagator (borrowed; must outlive its use). */
OTEL_API void otel_propagator_set_global(otel_propagator *p);

/* ---- traceparent ---- */

#define OTEL_TRACEPARENT_LEN 55

/**
 * @brief Parse a traceparent header value strictly per W3C Trace Context
 * level 2 (version 00 exact length; higher versions accept extra fields after
 * a '-'; version ff, uppercase hex, all-zero ids are invalid).
 * @return 0 and fill @p out (is_remote set, trace_state NULL), or -EINVAL
 */
OTEL_API int otel_traceparent_parse(const char *value, size_t len, struct otel_span_context *out);
/** @brief Format as version 00 into @p buf (at least OTEL_TRACEPARENT_LEN + 1 bytes). */
OTEL_API void otel_traceparent_format(const struct otel_span_context *sc, char *buf);

/* ---- Baggage ---- */

/* W3C Baggage limits: 180 members, 4096 bytes per member, 8192 bytes in all. */
#define OTEL_BAGGAGE_MAX_MEMBERS 180
#define OTEL_BAGGAGE_MAX_MEMBER_BYTES 4096
#define OTEL_BAGGAGE_MAX_BYTES 8192

/** @brief A new empty-or-copied baggage with @p name set (NULL @p bg = empty). */
OTEL_API otel_baggage *otel_baggage_set(const otel_baggage *bg, const char *name,
					const char *value, const char *metadata);
/** @brief A new baggage without @p name. */
OTEL_API otel_baggage *otel_baggage_remove(const otel_baggage *bg, const char *name);
/** @brief Value of @p name or NULL. */
OTEL_API const char *otel_baggage_get(const otel_baggage *bg, const char *name);
/** @brief Number of entries (0 for NULL). */
OTEL_API size_t otel_baggage_count(const otel_baggage *bg);
/** @brief Entry @p i: name, value and metadata (may be NULL). @return 0 or -ERANGE */
OTEL_API int otel_baggage_entry(const otel_baggage *bg, size_t i, const char **name,
				const char **value, const char **metadata);
/**
 * @brief Parse a baggage header value (percent-decoding values). Invalid
 * list members are skipped, and so are members past the W3C limits.
 * @return new baggage, or NULL (errno EINVAL when nothing valid, ENOMEM)
 */
OTEL_API otel_baggage *otel_baggage_parse(const char *header);
/**
 * @brief Serialize (percent-encoding values), dropping members that would
 * exceed the limits. @return length (without NUL) or -ENOSPC
 */
OTEL_API int otel_baggage_format(const otel_baggage *bg, char *buf, size_t size);
OTEL_API otel_baggage *otel_baggage_ref(otel_baggage *bg);
/** @brief Release; accepts NULL. */
OTEL_API void otel_baggage_unref(otel_baggage *bg);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_PROPAGATION_H */
