// SPDX-License-Identifier: Apache-2.0
/*
 * otel_sdk_init(): the whole tracing pipeline from the standard OTEL_*
 * variables (OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER, the exporter, batch,
 * sampler and limit variables, OTEL_PROPAGATORS), installed globally.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <otel/propagation.h>
#include "env.h"
#include "log.h"

#define MAX_EXPORTERS 4

static otel_tracer_provider *sdk_provider;
static otel_propagator *sdk_propagator;

/* The exporter one OTEL_TRACES_EXPORTER entry names; NULL with errno 0 for "none". */
static struct otel_span_exporter *exporter_named(const char *name)
{
	struct otel_span_exporter *exp;

	errno = 0;
	if (!strcasecmp(name, "none"))
		return NULL;
	if (!strcasecmp(name, "console") || !strcasecmp(name, "logging"))
		return otel_console_exporter_new(NULL);
	if (strcasecmp(name, "otlp")) {
		otel_log(OTEL_LOG_WARN,
			 "OTEL_TRACES_EXPORTER: \"%s\" is not supported (otlp, console, none); "
			 "skipped", name);
		errno = EINVAL;
		return NULL;
	}
	exp = otel_otlp_http_exporter_new(NULL);
	if (!exp)
		otel_log(OTEL_LOG_ERROR,
			 "the OTLP exporter could not be created (%s); spans will not be exported",
			 strerror(errno));
	return exp;
}

/* The exporters OTEL_TRACES_EXPORTER (default "otlp") names, at most max. */
static size_t exporters_from_env(struct otel_span_exporter **out, size_t max)
{
	char buf[256], *save = NULL, *tok;
	size_t n = 0;

	if (!otel_env_str("OTEL_TRACES_EXPORTER", buf, sizeof(buf)))
		strcpy(buf, "otlp");
	for (tok = strtok_r(buf, ", \t", &save); tok && n < max;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct otel_span_exporter *exp = exporter_named(tok);

		if (exp)
			out[n++] = exp;
	}
	return n;
}

struct otel_span_exporter *otel_span_exporter_from_env(void)
{
	struct otel_span_exporter *exp = NULL;

	exporters_from_env(&exp, 1);
	return exp;
}

/* A batch processor per exporter of OTEL_TRACES_EXPORTER. */
static size_t processors_from_env(otel_span_processor **out)
{
	struct otel_span_exporter *exps[MAX_EXPORTERS];
	size_t n = exporters_from_env(exps, MAX_EXPORTERS), k = 0;

	for (size_t i = 0; i < n; i++) {
		otel_span_processor *p = otel_batch_span_processor_new(exps[i], NULL);

		if (p)
			out[k++] = p;
		else
			otel_log(OTEL_LOG_ERROR, "batch processor: %s", strerror(errno));
	}
	return k;
}

otel_tracer_provider *otel_sdk_init(const otel_resource *resource)
{
	otel_span_processor *procs[MAX_EXPORTERS];
	otel_resource *def, *res;
	size_t n;

	if (sdk_provider) {
		errno = EALREADY;
		return NULL;
	}
	sdk_propagator = otel_propagator_from_env();
	otel_propagator_set_global(sdk_propagator);
	if (otel_env_bool("OTEL_SDK_DISABLED", false)) {
		errno = 0;
		return NULL;
	}
	def = otel_resource_default();
	res = otel_resource_merge(def, resource);
	otel_resource_unref(def);
	if (!res)
		return NULL;
	n = processors_from_env(procs);
	sdk_provider = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.processors = procs,
		.n_processors = n,
	});
	otel_resource_unref(res);
	for (size_t i = 0; i < n; i++)
		otel_span_processor_unref(procs[i]); /* the provider holds its own */
	if (sdk_provider)
		otel_tracer_provider_set_global(sdk_provider);
	return sdk_provider;
}

void otel_sdk_shutdown(uint32_t timeout_ms)
{
	if (sdk_provider) {
		otel_tracer_provider_set_global(NULL);
		otel_tracer_provider_shutdown(sdk_provider, timeout_ms);
		otel_tracer_provider_free(sdk_provider);
		sdk_provider = NULL;
	}
	if (sdk_propagator) {
		otel_propagator_set_global(NULL);
		otel_propagator_free(sdk_propagator);
		sdk_propagator = NULL;
	}
}
