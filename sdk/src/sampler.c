// SPDX-License-Identifier: Apache-2.0
/*
 * The specification's built-in samplers: AlwaysOn, AlwaysOff,
 * TraceIdRatioBased, ParentBased, and their selection from
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
 *
 * None of them touches the tracestate: the result's trace_state stays NULL,
 * which tells the SDK to keep the parent's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env.h"
#include "log.h"

/* ---- AlwaysOn / AlwaysOff: static singletons, free is a no-op ---- */

static void decide(struct otel_sampling_result *out, enum otel_sampling_decision d)
{
	*out = (struct otel_sampling_result){ .decision = d };
}

static void always_on_sample(const otel_sampler *s, const struct otel_sampling_params *p,
			     struct otel_sampling_result *out)
{
	(void)s;
	(void)p;
	decide(out, OTEL_SAMPLING_RECORD_AND_SAMPLE);
}

static void always_off_sample(const otel_sampler *s, const struct otel_sampling_params *p,
			      struct otel_sampling_result *out)
{
	(void)s;
	(void)p;
	decide(out, OTEL_SAMPLING_DROP);
}

static void always_on_describe(const otel_sampler *s, char *buf, size_t size)
{
	(void)s;
	snprintf(buf, size, "AlwaysOnSampler");
}

static void always_off_describe(const otel_sampler *s, char *buf, size_t size)
{
	(void)s;
	snprintf(buf, size, "AlwaysOffSampler");
}

static const struct otel_sampler_ops always_on_ops = {
	.should_sample = always_on_sample,
	.describe = always_on_describe,
};
static const struct otel_sampler_ops always_off_ops = {
	.should_sample = always_off_sample,
	.describe = always_off_describe,
};
static otel_sampler always_on_sampler = { .ops = &always_on_ops };
static otel_sampler always_off_sampler = { .ops = &always_off_ops };

otel_sampler *otel_sampler_always_on(void)
{
	return &always_on_sampler;
}

otel_sampler *otel_sampler_always_off(void)
{
	return &always_off_sampler;
}

/* ---- TraceIdRatioBased ---- */

struct ratio_sampler {
	otel_sampler base;
	double ratio;
	bool all; /* ratio 1.0: bound below cannot express 2^64 */
	uint64_t bound; /* sample when the id's last 8 bytes (big-endian) are below this */
};

static uint64_t trace_id_low64(const uint8_t *id)
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | id[i];
	return v;
}

static void ratio_sample(const otel_sampler *s, const struct otel_sampling_params *p,
			 struct otel_sampling_result *out)
{
	const struct ratio_sampler *r = (const struct ratio_sampler *)s;
	bool yes = r->all || trace_id_low64(p->trace_id) < r->bound;

	decide(out, yes ? OTEL_SAMPLING_RECORD_AND_SAMPLE : OTEL_SAMPLING_DROP);
}

/*
 * "%f" as the spec's example shows, with more digits only when six are not
 * enough to tell this ratio from another (the spec asks for that precision).
 */
static void ratio_describe(const otel_sampler *s, char *buf, size_t size)
{
	double ratio = ((const struct ratio_sampler *)s)->ratio;
	char num[64];
	int prec = 6;

	do
		snprintf(num, sizeof(num), "%.*f", prec, ratio);
	while (strtod(num, NULL) != ratio && ++prec <= 20);
	/* Tiny ratios need an exponent to stay distinct. */
	if (prec > 20)
		snprintf(num, sizeof(num), "%.17g", ratio);
	snprintf(buf, size, "TraceIdRatioBased{%s}", num);
}

static void free_self(otel_sampler *s)
{
	free(s);
}

static const struct otel_sampler_ops ratio_ops = {
	.should_sample = ratio_sample,
	.describe = ratio_describe,
	.destroy = free_self,
};

otel_sampler *otel_sampler_traceidratio(double ratio)
{
	struct ratio_sampler *r;

	if (!(ratio >= 0.0 && ratio <= 1.0)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base.ops = &ratio_ops;
	r->ratio = ratio;
	r->all = ratio >= 1.0;
	/* ratio < 1 keeps the product at most 2^64 - 2^11: the conversion cannot overflow. */
	r->bound = r->all ? UINT64_MAX : (uint64_t)(ratio * 18446744073709551616.0);
	return &r->base;
}

/* ---- ParentBased ---- */

enum {
	PB_ROOT,
	PB_REMOTE_SAMPLED,
	PB_REMOTE_NOT_SAMPLED,
	PB_LOCAL_SAMPLED,
	PB_LOCAL_NOT_SAMPLED,
	PB_COUNT
};

static const char *const pb_names[PB_COUNT] = {
	"root",
	"remoteParentSampled",
	"remoteParentNotSampled",
	"localParentSampled",
	"localParentNotSampled",
};

struct parent_sampler {
	otel_sampler base;
	otel_sampler *delegate[PB_COUNT];
};

static int pb_pick(const struct otel_span_context *parent)
{
	if (!parent || !otel_span_context_is_valid(parent))
		return PB_ROOT;
	if (parent->is_remote)
		return otel_span_context_is_sampled(parent) ? PB_REMOTE_SAMPLED :
							      PB_REMOTE_NOT_SAMPLED;
	return otel_span_context_is_sampled(parent) ? PB_LOCAL_SAMPLED : PB_LOCAL_NOT_SAMPLED;
}

static void parent_sample(const otel_sampler *s, const struct otel_sampling_params *p,
			  struct otel_sampling_result *out)
{
	const struct parent_sampler *pb = (const struct parent_sampler *)s;
	const otel_sampler *d = pb->delegate[pb_pick(p->parent)];

	d->ops->should_sample(d, p, out);
}

/* Appends at buf[*used], keeping *used within the buffer so truncation stays safe. */
static void append(char *buf, size_t size, size_t *used, const char *prefix, const otel_sampler *s)
{
	size_t n;

	if (*used >= size)
		return;
	n = (size_t)snprintf(buf + *used, size - *used, "%s", prefix);
	*used = *used + n < size ? *used + n : size - 1;
	if (s) {
		otel_sampler_describe(s, buf + *used, size - *used);
		*used += strlen(buf + *used);
	}
}

/* Java's format: ParentBased{root:...,remoteParentSampled:...,...}. */
static void parent_describe(const otel_sampler *s, char *buf, size_t size)
{
	const struct parent_sampler *pb = (const struct parent_sampler *)s;
	size_t used = 0;
	char label[32];

	if (!size)
		return;
	buf[0] = '\0';
	for (int i = 0; i < PB_COUNT; i++) {
		snprintf(label, sizeof(label), "%s%s:", i ? "," : "ParentBased{", pb_names[i]);
		append(buf, size, &used, label, pb->delegate[i]);
	}
	append(buf, size, &used, "}", NULL);
}

static void parent_destroy(otel_sampler *s)
{
	struct parent_sampler *pb = (struct parent_sampler *)s;

	for (int i = 0; i < PB_COUNT; i++)
		otel_sampler_free(pb->delegate[i]);
	free(pb);
}

static const struct otel_sampler_ops parent_ops = {
	.should_sample = parent_sample,
	.describe = parent_describe,
	.destroy = parent_destroy,
};

/* The given samplers are consumed even on failure, so a caller never has to untangle them. */
otel_sampler *otel_sampler_parentbased(otel_sampler *root, otel_sampler *remote_sampled,
				       otel_sampler *remote_not_sampled,
				       otel_sampler *local_sampled, otel_sampler *local_not_sampled)
{
	otel_sampler *given[PB_COUNT] = { root, remote_sampled, remote_not_sampled, local_sampled,
					  local_not_sampled };
	otel_sampler *defaults[PB_COUNT] = { NULL, &always_on_sampler, &always_off_sampler,
					     &always_on_sampler, &always_off_sampler };
	struct parent_sampler *pb = NULL;
	int err = EINVAL;

	if (root) {
		err = ENOMEM;
		pb = calloc(1, sizeof(*pb));
	}
	if (!pb) {
		for (int i = 0; i < PB_COUNT; i++)
			otel_sampler_free(given[i]);
		errno = err;
		return NULL;
	}
	pb->base.ops = &parent_ops;
	for (int i = 0; i < PB_COUNT; i++)
		pb->delegate[i] = given[i] ? given[i] : defaults[i];
	return &pb->base;
}

/* ---- From the environment ---- */

enum env_sampler {
	ENV_ALWAYS_ON,
	ENV_ALWAYS_OFF,
	ENV_RATIO,
	ENV_PB_ALWAYS_ON,
	ENV_PB_ALWAYS_OFF,
	ENV_PB_RATIO,
	ENV_JAEGER_REMOTE,
	ENV_PB_JAEGER_REMOTE,
	ENV_XRAY,
};

static double env_ratio(void)
{
	/* The spec: a bad argument is logged and otherwise treated as unset (ratio 1.0). */
	return otel_env_double("OTEL_TRACES_SAMPLER_ARG", 1.0, 0.0, 1.0);
}

otel_sampler *otel_sampler_from_env(void)
{
	static const char *const names[] = {
		"always_on",
		"always_off",
		"traceidratio",
		"parentbased_always_on",
		"parentbased_always_off",
		"parentbased_traceidratio",
		"jaeger_remote",
		"parentbased_jaeger_remote",
		"xray",
		NULL,
	};
	int which = otel_env_enum("OTEL_TRACES_SAMPLER", names);

	switch (which) {
	case ENV_ALWAYS_ON:
		return otel_sampler_always_on();
	case ENV_ALWAYS_OFF:
		return otel_sampler_always_off();
	case ENV_RATIO:
		return otel_sampler_traceidratio(env_ratio());
	case ENV_PB_ALWAYS_OFF:
		return otel_sampler_parentbased(otel_sampler_always_off(), NULL, NULL, NULL, NULL);
	case ENV_PB_RATIO: {
		otel_sampler *r = otel_sampler_traceidratio(env_ratio());

		return r ? otel_sampler_parentbased(r, NULL, NULL, NULL, NULL) : NULL;
	}
	case ENV_JAEGER_REMOTE:
	case ENV_PB_JAEGER_REMOTE:
	case ENV_XRAY:
		otel_log(OTEL_LOG_WARN,
			 "OTEL_TRACES_SAMPLER=%s is not supported by libotel; using "
			 "parentbased_always_on",
			 names[which]);
		break;
	default:
		break;
	}
	return otel_sampler_parentbased(otel_sampler_always_on(), NULL, NULL, NULL, NULL);
}

void otel_sampler_free(otel_sampler *s)
{
	if (s && s->ops && s->ops->destroy)
		s->ops->destroy(s);
}

void otel_sampler_describe(const otel_sampler *s, char *buf, size_t size)
{
	if (!size)
		return;
	if (s && s->ops && s->ops->describe)
		s->ops->describe(s, buf, size);
	else
		snprintf(buf, size, "%s", s ? "UnnamedSampler" : "NoSampler");
}
