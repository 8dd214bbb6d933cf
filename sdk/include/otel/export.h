/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The export side of the SDK: the read-only view of an ended span that
 * processors and exporters see, the exporter interface for writing your own,
 * and the exporters libotel ships (OTLP over HTTP with protobuf or JSON,
 * console, in-memory).
 */
#ifndef OTEL_EXPORT_H
#define OTEL_EXPORT_H

#include <stdio.h>
#include <otel/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otel_resource otel_resource;

/** An instrumentation scope (the tracer's name, version, schema URL). */
struct otel_scope_info {
	const char *name;
	const char *version; /**< NULL when not given */
	const char *schema_url; /**< NULL when not given */
	const struct otel_attribute *attributes;
	size_t n_attributes;
};

/** A timed event on a span. */
struct otel_event {
	const char *name;
	uint64_t time_ns;
	const struct otel_attribute *attributes;
	size_t n_attributes;
	uint32_t dropped_attributes;
};

/**
 * Read-only view of a span, valid while the exporter holds it (during
 * export(), or after otel_span_data_ref()). All strings are NUL-terminated.
 */
struct otel_span_data {
	const char *name;
	enum otel_span_kind kind;
	struct otel_span_context context;
	uint8_t parent_span_id[8]; /**< all zero for a root span */
	bool parent_is_remote;
	uint64_t start_time_ns;
	uint64_t end_time_ns;
	const struct otel_attribute *attributes;
	size_t n_attributes;
	uint32_t dropped_attributes;
	const struct otel_event *events;
	size_t n_events;
	uint32_t dropped_events;
	const struct otel_link *links;
	size_t n_links;
	uint32_t dropped_links;
	enum otel_status_code status_code;
	const char *status_description; /**< NULL unless status is ERROR with a description */
	const otel_resource *resource;
	const struct otel_scope_info *scope;
};

/** @brief Keep a span's data beyond the export call. Returns @p data. */
OTEL_API const struct otel_span_data *otel_span_data_ref(const struct otel_span_data *data);
/** @brief Release a reference taken with otel_span_data_ref(); accepts NULL. */
OTEL_API void otel_span_data_unref(const struct otel_span_data *data);

/* ---- Resources (read side; building them is in <otel/sdk.h>) ---- */

/** @brief The resource's attributes (sorted by key). */
OTEL_API const struct otel_attribute *otel_resource_attributes(const otel_resource *res,
							       size_t *n);
/** @brief The resource's schema URL or NULL. */
OTEL_API const char *otel_resource_schema_url(const otel_resource *res);
/** @brief The value of @p key or NULL. */
OTEL_API const struct otel_value *otel_resource_get(const otel_resource *res, const char *key);

/* ---- The exporter interface ---- */

enum otel_export_result {
	OTEL_EXPORT_SUCCESS = 0,
	OTEL_EXPORT_FAILURE = 1,
};

struct otel_span_exporter;

/**
 * Operations of an exporter. export() is never called concurrently with
 * itself by the SDK's processors; shutdown() may be called while an export is
 * in flight and must make it return promptly (this is how a hung backend is
 * cut off at the shutdown deadline). Times are absolute CLOCK_MONOTONIC ns.
 */
struct otel_span_exporter_ops {
	enum otel_export_result (*export_spans)(struct otel_span_exporter *exp,
						const struct otel_span_data *const *spans,
						size_t n, uint64_t deadline_ns);
	int (*force_flush)(struct otel_span_exporter *exp, uint64_t deadline_ns);
	int (*shutdown)(struct otel_span_exporter *exp, uint64_t deadline_ns);
	void (*destroy)(struct otel_span_exporter *exp);
};

/** Embed as the first member of your exporter struct. */
struct otel_span_exporter {
	const struct otel_span_exporter_ops *ops;
};

/** @brief Shut down (if not yet) and free an exporter; accepts NULL. */
OTEL_API void otel_span_exporter_free(struct otel_span_exporter *exp);

/* ---- OTLP over HTTP ---- */

enum otel_otlp_protocol {
	OTEL_OTLP_HTTP_PROTOBUF = 0,
	OTEL_OTLP_HTTP_JSON,
	OTEL_OTLP_GRPC, /**< not implemented yet: the constructor fails with ENOTSUP */
};

enum otel_otlp_compression {
	OTEL_OTLP_COMPRESSION_NONE = 0,
	OTEL_OTLP_COMPRESSION_GZIP,
};

/**
 * Options of otel_otlp_http_exporter_new(). Zero fields take the values of
 * the OTEL_EXPORTER_OTLP_* environment variables, then the spec's defaults.
 */
struct otel_otlp_http_opts {
	size_t sz;
	/** Full traces URL, used as is (like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
	const char *traces_url;
	/** Base URL; "/v1/traces" is appended (like OTEL_EXPORTER_OTLP_ENDPOINT). */
	const char *endpoint;
	enum otel_otlp_protocol protocol;
	bool protocol_set; /**< use @p protocol even when it is 0 */
	enum otel_otlp_compression compression;
	bool compression_set;
	/** "k1=v1,k2=v2" extra headers (percent-decoded values), as in OTEL_EXPORTER_OTLP_HEADERS. */
	const char *headers;
	uint32_t timeout_ms; /**< per export, default 10000 */
	const char *ca_file;
	const char *client_cert_file;
	const char *client_key_file;
	bool insecure; /**< skip TLS verification (testing only) */
	/** Give up retrying after this many attempts in total (default 6). */
	uint32_t max_attempts;
	/** First backoff (default 1000 ms), doubled each retry, with jitter, capped at 5 s. */
	uint32_t initial_backoff_ms;
	/** Read no environment variables: only the fields above and the defaults. */
	bool ignore_env;
};

/**
 * @brief An OTLP/HTTP trace exporter (protobuf or JSON), retrying as the OTLP
 * spec says. @return exporter, or NULL with errno (EINVAL bad option,
 * ENOTSUP grpc, ENOMEM)
 */
OTEL_API struct otel_span_exporter *otel_otlp_http_exporter_new(const struct otel_otlp_http_opts *opts);

/** Counters of an OTLP exporter, for health reporting. */
struct otel_otlp_stats {
	uint64_t exports_ok;
	uint64_t exports_failed;
	uint64_t spans_ok;
	uint64_t spans_failed;
	uint64_t spans_rejected; /**< counted from partial-success responses */
	uint64_t retries;
	uint64_t bytes_sent;
};

/** @brief Read the counters of an exporter made by otel_otlp_http_exporter_new(). */
OTEL_API int otel_otlp_http_exporter_stats(const struct otel_span_exporter *exp,
					   struct otel_otlp_stats *out);

/* ---- Console and memory ---- */

/** @brief Prints readable spans to @p out (NULL = stdout). */
OTEL_API struct otel_span_exporter *otel_console_exporter_new(FILE *out);

/** @brief Keeps exported spans in memory, for tests. */
OTEL_API struct otel_span_exporter *otel_memory_exporter_new(void);
/** @brief Number of spans kept. */
OTEL_API size_t otel_memory_exporter_count(struct otel_span_exporter *exp);
/** @brief Span @p i (in export order), borrowed until reset/free; NULL out of range. */
OTEL_API const struct otel_span_data *otel_memory_exporter_get(struct otel_span_exporter *exp,
							       size_t i);
/** @brief The first kept span named @p name, or NULL. */
OTEL_API const struct otel_span_data *otel_memory_exporter_find(struct otel_span_exporter *exp,
								const char *name);
/** @brief Drop all kept spans. */
OTEL_API void otel_memory_exporter_reset(struct otel_span_exporter *exp);

/* ---- OTLP encoding (for custom transports and tests) ---- */

/**
 * @brief Encode spans as an ExportTraceServiceRequest (protobuf), grouped by
 * resource and scope. @return a malloc'ed buffer and its length in @p len,
 * or NULL with errno.
 */
OTEL_API uint8_t *otel_otlp_encode_protobuf(const struct otel_span_data *const *spans, size_t n,
					    size_t *len);
/** @brief Same as OTLP/JSON (NUL-terminated). */
OTEL_API char *otel_otlp_encode_json(const struct otel_span_data *const *spans, size_t n,
				     size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_EXPORT_H */
