/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SDK: what an application (not a library) uses to build resources,
 * samplers, span processors and tracer providers, and to install a global
 * provider. otel_sdk_init() does all of it from the standard OTEL_*
 * environment variables.
 */
#ifndef OTEL_SDK_H
#define OTEL_SDK_H

#include <otel/export.h>
#include <otel/trace.h>
#include <otel/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Resources ---- */

/**
 * @brief A resource with a copy of @p attrs (later duplicates win).
 * @return new resource, NULL with errno ENOMEM
 */
OTEL_API otel_resource *otel_resource_new(const struct otel_attribute *attrs, size_t n,
					  const char *schema_url);
/**
 * @brief Merge per the spec: attributes of @p updating win; schema URLs must
 * match or one be empty (otherwise the result has no schema URL... per spec
 * it is implementation-defined; we keep @p base's and log once).
 * Either may be NULL. @return new resource
 */
OTEL_API otel_resource *otel_resource_merge(const otel_resource *base,
					    const otel_resource *updating);
/**
 * @brief The SDK's default resource: telemetry.sdk.*, the host and process
 * detectors, OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, and
 * service.name=unknown_service:<exe> when none gave one.
 */
OTEL_API otel_resource *otel_resource_default(void);
/** @brief Only OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME. */
OTEL_API otel_resource *otel_resource_from_env(void);
/** @brief host.name, host.arch, os.type, os.description. */
OTEL_API otel_resource *otel_resource_detect_host(void);
/** @brief process.pid, process.executable.name/.path, process.command_args, process.owner, runtime. */
OTEL_API otel_resource *otel_resource_detect_process(void);
OTEL_API otel_resource *otel_resource_ref(otel_resource *res);
/** @brief Release; accepts NULL. */
OTEL_API void otel_resource_unref(otel_resource *res);

/* ---- Samplers ---- */

enum otel_sampling_decision {
	OTEL_SAMPLING_DROP = 0,
	OTEL_SAMPLING_RECORD_ONLY,
	OTEL_SAMPLING_RECORD_AND_SAMPLE,
};

/** What a sampler sees (borrowed for the call). */
struct otel_sampling_params {
	/** Parent span context; is_valid false for a root span. */
	const struct otel_span_context *parent;
	const uint8_t *trace_id; /**< 16 bytes */
	const char *name;
	enum otel_span_kind kind;
	const struct otel_attribute *attributes;
	size_t n_attributes;
	const struct otel_link *links;
	size_t n_links;
};

struct otel_sampling_result {
	enum otel_sampling_decision decision;
	/** Extra attributes for the span (static or sampler-owned storage). */
	const struct otel_attribute *attributes;
	size_t n_attributes;
	/** New tracestate for the span (a reference the SDK takes over), NULL = keep the parent's. */
	otel_trace_state *trace_state;
};

typedef struct otel_sampler otel_sampler;

/** Write your own sampler: embed as first member. */
struct otel_sampler_ops {
	void (*should_sample)(const otel_sampler *s, const struct otel_sampling_params *p,
			      struct otel_sampling_result *out);
	/** Describe into buf, e.g. "TraceIdRatioBased{0.500000}". */
	void (*describe)(const otel_sampler *s, char *buf, size_t size);
	void (*destroy)(otel_sampler *s);
};
struct otel_sampler {
	const struct otel_sampler_ops *ops;
};

OTEL_API otel_sampler *otel_sampler_always_on(void);
OTEL_API otel_sampler *otel_sampler_always_off(void);
/** @brief TraceIdRatioBased; deterministic on the lower 8 bytes of the trace id. EINVAL outside [0,1]. */
OTEL_API otel_sampler *otel_sampler_traceidratio(double ratio);
/**
 * @brief ParentBased: @p root decides for roots; the others (NULL = the spec's
 * defaults: always_on for sampled parents, always_off for unsampled) for
 * children of remote/local parents. Takes ownership of the given samplers,
 * also when it fails (NULL with errno EINVAL when @p root is NULL, ENOMEM).
 */
OTEL_API otel_sampler *otel_sampler_parentbased(otel_sampler *root, otel_sampler *remote_sampled,
						otel_sampler *remote_not_sampled,
						otel_sampler *local_sampled,
						otel_sampler *local_not_sampled);
/**
 * @brief From OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default
 * parentbased_always_on; a bad name or argument warns and uses the default).
 */
OTEL_API otel_sampler *otel_sampler_from_env(void);
/** @brief Free; accepts NULL and the static always_on/off. */
OTEL_API void otel_sampler_free(otel_sampler *s);
/** @brief Describe the sampler (e.g. for logs). */
OTEL_API void otel_sampler_describe(const otel_sampler *s, char *buf, size_t size);

/* ---- Span limits ---- */

#define OTEL_LIMIT_UNLIMITED UINT32_MAX

struct otel_span_limits {
	size_t sz;
	uint32_t attribute_count; /**< default 128 */
	uint32_t attribute_value_length; /**< characters; default unlimited */
	uint32_t event_count; /**< default 128 */
	uint32_t link_count; /**< default 128 */
	uint32_t attributes_per_event; /**< default 128 */
	uint32_t attributes_per_link; /**< default 128 */
};

/**
 * @brief The limits from the OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_* and
 * OTEL_ATTRIBUTE_* variables over the spec's defaults.
 */
OTEL_API void otel_span_limits_from_env(struct otel_span_limits *out);
/** @brief The spec's defaults. */
OTEL_API void otel_span_limits_default(struct otel_span_limits *out);

/* ---- Id generator ---- */

struct otel_id_generator {
	void (*trace_id)(void *ctx, uint8_t out[16]);
	void (*span_id)(void *ctx, uint8_t out[8]);
	void *ctx;
};

/* ---- Span processors ---- */

typedef struct otel_span_processor otel_span_processor;

/** Write your own processor: embed as first member; see on_end()'s contract. */
struct otel_span_processor_ops {
	/** Called at start on the starting thread, span still writable. May be NULL. */
	void (*on_start)(otel_span_processor *p, otel_span *span, const otel_context *parent);
	/** Called at end; keep the data with otel_span_data_ref(). Must not block. */
	void (*on_end)(otel_span_processor *p, const struct otel_span_data *span);
	int (*force_flush)(otel_span_processor *p, uint32_t timeout_ms);
	int (*shutdown)(otel_span_processor *p, uint32_t timeout_ms);
	void (*destroy)(otel_span_processor *p);
};
struct otel_span_processor {
	const struct otel_span_processor_ops *ops;
	/** Start at 1 (the creator's reference); the SDK counts the providers sharing it. */
	int refcount;
	/** Managed by the SDK: ops->shutdown is called at most once. Start at 0. */
	int shut_down;
};

/** @brief Exports each span as it ends, on the ending thread. Takes the exporter, also on failure. */
OTEL_API otel_span_processor *otel_simple_span_processor_new(struct otel_span_exporter *exp);

struct otel_batch_opts {
	size_t sz;
	uint32_t max_queue_size; /**< default 2048 (OTEL_BSP_MAX_QUEUE_SIZE) */
	uint32_t schedule_delay_ms; /**< default 5000 (OTEL_BSP_SCHEDULE_DELAY) */
	uint32_t export_timeout_ms; /**< default 30000 (OTEL_BSP_EXPORT_TIMEOUT) */
	uint32_t max_export_batch_size; /**< default 512 (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) */
	bool ignore_env; /**< do not read OTEL_BSP_* */
};

/**
 * @brief Queues ended spans (no lock, no I/O on the ending thread; a full
 * queue drops and counts) and exports them in batches from one worker thread.
 * Takes the exporter, also when it fails. @return NULL with errno
 * EINVAL/ENOMEM/EAGAIN
 */
OTEL_API otel_span_processor *otel_batch_span_processor_new(struct otel_span_exporter *exp,
							    const struct otel_batch_opts *opts);

struct otel_batch_stats {
	uint64_t enqueued;
	uint64_t dropped; /**< queue full, after shutdown, cut off by shutdown, or inherited by fork */
	uint64_t exported; /**< spans handed to successful exports */
	uint64_t export_failures; /**< spans in failed exports */
	uint64_t batches;
};

/** @brief Counters of a batch processor; -EINVAL for other processors. */
OTEL_API int otel_batch_span_processor_stats(const otel_span_processor *p,
					     struct otel_batch_stats *out);

/**
 * @brief Export what is queued now. @return 0; -ETIMEDOUT when the timeout
 * passed first; -EIO when an export failed meanwhile (the spans are lost).
 */
OTEL_API int otel_span_processor_force_flush(otel_span_processor *p, uint32_t timeout_ms);
/** @brief Shut down (idempotent); 0 or -ETIMEDOUT. */
OTEL_API int otel_span_processor_shutdown(otel_span_processor *p, uint32_t timeout_ms);
/** @brief Take a reference (a provider takes its own). */
OTEL_API otel_span_processor *otel_span_processor_ref(otel_span_processor *p);
/** @brief Release; the last reference shuts down (5 s) and frees. Accepts NULL. */
OTEL_API void otel_span_processor_unref(otel_span_processor *p);

/* ---- Tracer provider ---- */

struct otel_tracer_provider_opts {
	size_t sz;
	/** Borrowed (a reference is taken); NULL = otel_resource_default(). */
	otel_resource *resource;
	/** Owned by the provider; NULL = otel_sampler_from_env(). */
	otel_sampler *sampler;
	/** NULL = otel_span_limits_from_env(). */
	const struct otel_span_limits *limits;
	/** NULL = random ids. */
	const struct otel_id_generator *id_generator;
	/** Borrowed (a reference is taken each): several providers may share processors. */
	otel_span_processor *const *processors;
	size_t n_processors;
};

/** @brief A new provider. NULL with errno EINVAL/ENOMEM. */
OTEL_API otel_tracer_provider *otel_tracer_provider_new(const struct otel_tracer_provider_opts *opts);
/** @brief Install as the global provider (borrowed; NULL restores the no-op). */
OTEL_API void otel_tracer_provider_set_global(otel_tracer_provider *tp);
/** @brief Flush every processor; 0 or -ETIMEDOUT. */
OTEL_API int otel_tracer_provider_force_flush(otel_tracer_provider *tp, uint32_t timeout_ms);
/**
 * @brief Shut down (idempotent): later spans are non-recording. Processors
 * this provider holds the last reference to are shut down; processors still
 * shared with other providers or held by their creator are left running
 * (their owner flushes and shuts them down).
 */
OTEL_API int otel_tracer_provider_shutdown(otel_tracer_provider *tp, uint32_t timeout_ms);
/** @brief Shut down (5 s) and free; accepts NULL. Spans still open may be ended later safely. */
OTEL_API void otel_tracer_provider_free(otel_tracer_provider *tp);
/** @brief The provider's resource (borrowed). */
OTEL_API const otel_resource *otel_tracer_provider_resource(const otel_tracer_provider *tp);

/* ---- Everything from the environment ---- */

/**
 * @brief Build the provider the OTEL_* variables describe and install it
 * globally, with the global propagator from OTEL_PROPAGATORS. Honors
 * OTEL_SDK_DISABLED (then installs nothing and returns NULL with errno 0)
 * and OTEL_TRACES_EXPORTER (otlp, console, none). Bad values warn once and
 * fall back to defaults.
 * @param resource extra resource merged over the default one, may be NULL
 * @return the provider (also global), NULL with errno on failure
 */
OTEL_API otel_tracer_provider *otel_sdk_init(const otel_resource *resource);
/**
 * @brief The exporter the first entry of OTEL_TRACES_EXPORTER names (otlp,
 * the default, with the OTEL_EXPORTER_OTLP_* settings; console; none).
 * @return the exporter; NULL with errno 0 for "none", or with errno on error
 */
OTEL_API struct otel_span_exporter *otel_span_exporter_from_env(void);
/** @brief Flush, shut down and free what otel_sdk_init() made. */
OTEL_API void otel_sdk_shutdown(uint32_t timeout_ms);

/* ---- Diagnostics ---- */

enum otel_log_level {
	OTEL_LOG_ERROR = 0,
	OTEL_LOG_WARN,
	OTEL_LOG_INFO,
	OTEL_LOG_DEBUG,
};
typedef void (*otel_log_fn)(enum otel_log_level level, const char *msg, void *ctx);
/**
 * @brief Route the SDK's own diagnostics (default: stderr, "otel: " prefix,
 * WARN and above, level from OTEL_LOG_LEVEL).
 */
OTEL_API void otel_set_logger(otel_log_fn fn, void *ctx, enum otel_log_level max_level);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_SDK_H */
