// SPDX-License-Identifier: Apache-2.0
/* Span processor test scaffolding: see test_pipeline.h. */
#include <string.h>
#include "test_pipeline.h"

static void record_only(const otel_sampler *s, const struct otel_sampling_params *p,
			struct otel_sampling_result *out)
{
	(void)s;
	(void)p;
	out->decision = OTEL_SAMPLING_RECORD_ONLY;
}

static const struct otel_sampler_ops record_only_ops = { .should_sample = record_only };
otel_sampler test_record_only_sampler = { .ops = &record_only_ops };

struct test_pipeline test_pipeline_new(otel_span_processor *p, otel_sampler *sampler)
{
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "test") };
	otel_resource *res = otel_resource_new(attrs, 1, NULL);
	otel_tracer_provider *tp;

	tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = sampler ? sampler : otel_sampler_always_on(),
		.processors = &p,
		.n_processors = 1,
	});
	otel_resource_unref(res);
	assert_non_null(tp);
	return (struct test_pipeline){ .p = p, .tp = tp };
}

void test_pipeline_free(struct test_pipeline pl)
{
	otel_tracer_provider_free(pl.tp);
	otel_span_processor_unref(pl.p);
}

void test_end_spans(otel_tracer_provider *tp, int64_t first, int64_t count)
{
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "pipeline-test", NULL, NULL);

	for (int64_t i = first; i < first + count; i++) {
		struct otel_attribute a[] = { OTEL_ATTR_INT("n", i) };
		OTEL_OPTS(otel_span_start_opts, o, .root = true, .attributes = a,
			  .n_attributes = 1);

		otel_span_end(otel_tracer_start_span(t, "op", &o), 0);
	}
}

int64_t test_span_n(const struct otel_span_data *d)
{
	for (size_t i = 0; i < d->n_attributes; i++)
		if (!strcmp(d->attributes[i].key, "n"))
			return d->attributes[i].value.i;
	return -1;
}

uint64_t test_elapsed_ms(uint64_t start_ns)
{
	return (otel_mono_ns() - start_ns) / 1000000;
}
