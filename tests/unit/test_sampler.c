// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the samplers (sdk/src/sampler.c): AlwaysOn/Off, the
 * TraceIdRatioBased boundaries, determinism and empirical rate, ParentBased
 * for roots and all four parent cases, descriptions, ownership, and the
 * selection from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/sdk.h>

/* ---- helpers ---- */


static int setup(void **state)
{
	(void)state;
	unsetenv("OTEL_TRACES_SAMPLER");
	unsetenv("OTEL_TRACES_SAMPLER_ARG");
	log_capture_start(OTEL_LOG_DEBUG);
	return 0;
}

/* A trace id whose last 8 bytes hold @low (big-endian) and first 8 bytes @high. */
static void make_id(uint8_t id[16], uint64_t high, uint64_t low)
{
	for (int i = 0; i < 8; i++) {
		id[7 - i] = (uint8_t)(high >> (8 * i));
		id[15 - i] = (uint8_t)(low >> (8 * i));
	}
}

static enum otel_sampling_decision sample_parent(const otel_sampler *s, const uint8_t id[16],
						 const struct otel_span_context *parent)
{
	struct otel_sampling_result res;
	struct otel_span_context root = { 0 };
	struct otel_sampling_params p = {
		.parent = parent ? parent : &root,
		.trace_id = id,
		.name = "op",
	};

	memset(&res, 0xA5, sizeof(res)); /* samplers must set every field */
	s->ops->should_sample(s, &p, &res);
	assert_null(res.trace_state); /* built-in samplers keep the parent's tracestate */
	assert_null(res.attributes);
	assert_int_equal(res.n_attributes, 0);
	return res.decision;
}

static enum otel_sampling_decision sample_low(const otel_sampler *s, uint64_t low)
{
	uint8_t id[16];

	make_id(id, 0x0123456789abcdefull, low);
	return sample_parent(s, id, NULL);
}

#define assert_prefix(S, PREFIX) assert_memory_equal((S), (PREFIX), strlen(PREFIX))

static const char *describe(const otel_sampler *s)
{
	static char buf[512];

	otel_sampler_describe(s, buf, sizeof(buf));
	return buf;
}

/* splitmix64: reproducible pseudo-random ids. */
static uint64_t next_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define DEFAULT_PB                                                                    \
	"ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,"       \
	"remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler," \
	"localParentNotSampled:AlwaysOffSampler}"

/* ---- AlwaysOn / AlwaysOff ---- */

static void test_always_on_off(void **state)
{
	otel_sampler *on = otel_sampler_always_on(), *off = otel_sampler_always_off();

	(void)state;
	assert_ptr_equal(on, otel_sampler_always_on()); /* singletons */
	assert_ptr_equal(off, otel_sampler_always_off());
	assert_int_equal(sample_low(on, 0), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(on, UINT64_MAX), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(off, 0), OTEL_SAMPLING_DROP);
	assert_int_equal(sample_low(off, UINT64_MAX), OTEL_SAMPLING_DROP);
	assert_string_equal(describe(on), "AlwaysOnSampler");
	assert_string_equal(describe(off), "AlwaysOffSampler");
	/* Freeing the static samplers is a no-op: they keep working. */
	otel_sampler_free(on);
	otel_sampler_free(off);
	otel_sampler_free(NULL);
	assert_int_equal(sample_low(otel_sampler_always_on(), 5), OTEL_SAMPLING_RECORD_AND_SAMPLE);
}

/* ---- TraceIdRatioBased ---- */

static void test_ratio_invalid(void **state)
{
	const double bad[] = { -0.0001, 1.0000001, -1.0, 2.0, NAN, INFINITY, -INFINITY };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(otel_sampler_traceidratio(bad[i]));
		assert_int_equal(errno, EINVAL);
	}
}

static void test_ratio_boundaries(void **state)
{
	otel_sampler *zero = otel_sampler_traceidratio(0.0);
	otel_sampler *one = otel_sampler_traceidratio(1.0);
	otel_sampler *half = otel_sampler_traceidratio(0.5);
	otel_sampler *quarter = otel_sampler_traceidratio(0.25);

	(void)state;
	assert_non_null(zero);
	assert_non_null(one);
	assert_non_null(half);
	assert_non_null(quarter);
	/* 0 never samples, not even the smallest value. */
	assert_int_equal(sample_low(zero, 0), OTEL_SAMPLING_DROP);
	assert_int_equal(sample_low(zero, UINT64_MAX), OTEL_SAMPLING_DROP);
	/* 1 always samples, even the largest value. */
	assert_int_equal(sample_low(one, 0), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(one, UINT64_MAX), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	/* 0.5: sampled iff low < 2^63. */
	assert_int_equal(sample_low(half, 0), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(half, (1ull << 63) - 1), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(half, 1ull << 63), OTEL_SAMPLING_DROP);
	assert_int_equal(sample_low(half, UINT64_MAX), OTEL_SAMPLING_DROP);
	/* 0.25: sampled iff low < 2^62. */
	assert_int_equal(sample_low(quarter, (1ull << 62) - 1), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_low(quarter, 1ull << 62), OTEL_SAMPLING_DROP);
	otel_sampler_free(zero);
	otel_sampler_free(one);
	otel_sampler_free(half);
	otel_sampler_free(quarter);
}

static void test_ratio_uses_low_bytes_only(void **state)
{
	otel_sampler *half = otel_sampler_traceidratio(0.5);
	uint8_t id[16];

	(void)state;
	/* The first 8 bytes do not matter, whatever they hold. */
	make_id(id, UINT64_MAX, 1);
	assert_int_equal(sample_parent(half, id, NULL), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	make_id(id, 0, 1);
	assert_int_equal(sample_parent(half, id, NULL), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	make_id(id, 0, UINT64_MAX - 1);
	assert_int_equal(sample_parent(half, id, NULL), OTEL_SAMPLING_DROP);
	/* Big-endian: byte 8 is the most significant. */
	memset(id, 0, sizeof(id));
	id[8] = 0x80;
	assert_int_equal(sample_parent(half, id, NULL), OTEL_SAMPLING_DROP);
	id[8] = 0x7f;
	memset(id + 9, 0xff, 7);
	assert_int_equal(sample_parent(half, id, NULL), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	otel_sampler_free(half);
}

static void test_ratio_deterministic_and_monotonic(void **state)
{
	const double ratios[] = { 0.0, 0.001, 0.1, 0.3, 0.5, 0.7, 0.999, 1.0 };
	otel_sampler *s[8];
	uint64_t seed = 42;

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_non_null(s[i] = otel_sampler_traceidratio(ratios[i]));
	for (int n = 0; n < 2000; n++) {
		uint64_t low = next_rand(&seed);
		bool prev = false;

		for (int i = 0; i < 8; i++) {
			bool yes = sample_low(s[i], low) == OTEL_SAMPLING_RECORD_AND_SAMPLE;

			/* The same id gives the same decision every time. */
			assert_int_equal(yes,
					 sample_low(s[i], low) == OTEL_SAMPLING_RECORD_AND_SAMPLE);
			/* Sampled at a ratio means sampled at every larger ratio. */
			assert_true(yes || !prev);
			prev = yes;
		}
	}
	for (int i = 0; i < 8; i++)
		otel_sampler_free(s[i]);
}

static void test_ratio_empirical_rate(void **state)
{
	const double ratios[] = { 0.01, 0.1, 0.5, 0.9 };
	const int n = 100000;

	(void)state;
	for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
		otel_sampler *s = otel_sampler_traceidratio(ratios[r]);
		uint64_t seed = 7 + r;
		uint8_t id[16];
		int hits = 0;

		assert_non_null(s);
		for (int i = 0; i < n; i++) {
			make_id(id, next_rand(&seed), next_rand(&seed));
			hits += sample_parent(s, id, NULL) == OTEL_SAMPLING_RECORD_AND_SAMPLE;
		}
		/* Within 6 standard deviations (sqrt(p(1-p)/n) <= 0.0016). */
		assert_true(fabs((double)hits / n - ratios[r]) < 0.01);
		otel_sampler_free(s);
	}
}

static void test_ratio_describe(void **state)
{
	static const struct {
		double ratio;
		const char *text;
	} cases[] = {
		{ 0.5, "TraceIdRatioBased{0.500000}" },
		{ 0.0001, "TraceIdRatioBased{0.000100}" },
		{ 0.0, "TraceIdRatioBased{0.000000}" },
		{ 1.0, "TraceIdRatioBased{1.000000}" },
		/* More digits only where six cannot tell ratios apart. */
		{ 0.0000001, "TraceIdRatioBased{0.0000001}" },
		{ 0.0000002, "TraceIdRatioBased{0.0000002}" },
		{ 1.0 / 3.0, "TraceIdRatioBased{0.3333333333333333}" },
		{ 1e-30, "TraceIdRatioBased{1.0000000000000001e-30}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		otel_sampler *s = otel_sampler_traceidratio(cases[i].ratio);

		assert_string_equal(describe(s), cases[i].text);
		otel_sampler_free(s);
	}
}

/* ---- ParentBased ---- */

static const uint8_t some_id[16] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
				     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct otel_span_context parent_ctx(bool remote, bool sampled)
{
	struct otel_span_context sc = { .trace_id = { 1 }, .span_id = { 2 } };

	sc.is_remote = remote;
	sc.trace_flags = sampled ? OTEL_TRACE_FLAG_SAMPLED : 0;
	return sc;
}

static void test_parentbased_defaults(void **state)
{
	struct otel_span_context rs = parent_ctx(true, true), rn = parent_ctx(true, false);
	struct otel_span_context ls = parent_ctx(false, true), ln = parent_ctx(false, false);
	struct otel_span_context invalid = { .trace_flags = OTEL_TRACE_FLAG_SAMPLED,
					     .is_remote = true };
	otel_sampler *on =
		otel_sampler_parentbased(otel_sampler_always_on(), NULL, NULL, NULL, NULL);
	otel_sampler *off =
		otel_sampler_parentbased(otel_sampler_always_off(), NULL, NULL, NULL, NULL);

	(void)state;
	assert_non_null(on);
	assert_non_null(off);
	/* Roots go to the root sampler. */
	assert_int_equal(sample_parent(on, some_id, NULL), OTEL_SAMPLING_RECORD_AND_SAMPLE);
	assert_int_equal(sample_parent(off, some_id, NULL), OTEL_SAMPLING_DROP);
	/* An invalid parent context counts as no parent, whatever its flags say. */
	assert_int_equal(sample_parent(off, some_id, &invalid), OTEL_SAMPLING_DROP);
	/* Children follow the parent's sampled flag, whatever the root sampler. */
	for (int i = 0; i < 2; i++) {
		otel_sampler *pb = i ? off : on;

		assert_int_equal(sample_parent(pb, some_id, &rs), OTEL_SAMPLING_RECORD_AND_SAMPLE);
		assert_int_equal(sample_parent(pb, some_id, &rn), OTEL_SAMPLING_DROP);
		assert_int_equal(sample_parent(pb, some_id, &ls), OTEL_SAMPLING_RECORD_AND_SAMPLE);
		assert_int_equal(sample_parent(pb, some_id, &ln), OTEL_SAMPLING_DROP);
	}
	assert_string_equal(describe(on), DEFAULT_PB);
	otel_sampler_free(on);
	otel_sampler_free(off);
}

/* A sampler that records its calls and answers a fixed decision. */
struct probe {
	otel_sampler base;
	const char *name;
	int calls;
	int *destroyed;
	enum otel_sampling_decision decision;
};

static void probe_sample(const otel_sampler *s, const struct otel_sampling_params *p,
			 struct otel_sampling_result *out)
{
	struct probe *pr = (struct probe *)s;

	(void)p;
	pr->calls++;
	*out = (struct otel_sampling_result){ .decision = pr->decision };
}

static void probe_describe(const otel_sampler *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s", ((const struct probe *)s)->name);
}

static void probe_destroy(otel_sampler *s)
{
	(*((struct probe *)s)->destroyed)++;
}

static const struct otel_sampler_ops probe_ops = {
	.should_sample = probe_sample,
	.describe = probe_describe,
	.destroy = probe_destroy,
};

static void test_parentbased_delegates(void **state)
{
	int destroyed = 0;
	struct probe pr[5];
	const char *names[5] = { "R", "RS", "RN", "LS", "LN" };
	struct otel_span_context ctx[5] = { { .is_remote = false },
					    parent_ctx(true, true),
					    parent_ctx(true, false),
					    parent_ctx(false, true),
					    parent_ctx(false, false) };
	otel_sampler *pb;

	(void)state;
	for (int i = 0; i < 5; i++)
		pr[i] = (struct probe){ { &probe_ops },
					names[i],
					0,
					&destroyed,
					i % 2 ? OTEL_SAMPLING_RECORD_ONLY : OTEL_SAMPLING_DROP };
	pb = otel_sampler_parentbased(&pr[0].base, &pr[1].base, &pr[2].base, &pr[3].base,
				      &pr[4].base);
	assert_non_null(pb);
	for (int i = 0; i < 5; i++) {
		/* Each of root and the four parent cases reaches exactly its own delegate. */
		assert_int_equal(sample_parent(pb, some_id, &ctx[i]), pr[i].decision);
		for (int k = 0; k < 5; k++)
			assert_int_equal(pr[k].calls, k <= i ? 1 : 0);
	}
	assert_string_equal(describe(pb), "ParentBased{root:R,remoteParentSampled:RS,"
					  "remoteParentNotSampled:RN,localParentSampled:LS,"
					  "localParentNotSampled:LN}");
	otel_sampler_free(pb);
	assert_int_equal(destroyed, 5); /* the parent owns and frees its delegates */
}

static void test_parentbased_needs_root(void **state)
{
	int destroyed = 0;
	struct probe a = { { &probe_ops }, "A", 0, &destroyed, OTEL_SAMPLING_DROP };
	struct probe b = { { &probe_ops }, "B", 0, &destroyed, OTEL_SAMPLING_DROP };

	(void)state;
	errno = 0;
	assert_null(otel_sampler_parentbased(NULL, &a.base, NULL, &b.base, NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(destroyed, 2); /* ownership was taken even on failure */
}

static void test_parentbased_nested_and_truncated(void **state)
{
	otel_sampler *inner =
		otel_sampler_parentbased(otel_sampler_traceidratio(0.5), NULL, NULL, NULL, NULL);
	otel_sampler *outer = otel_sampler_parentbased(inner, NULL, NULL, NULL, NULL);
	char small[20];

	(void)state;
	assert_non_null(outer);
	assert_prefix(describe(outer),
		      "ParentBased{root:ParentBased{root:TraceIdRatioBased{0.500000},remote");
	/* A short buffer gets a NUL-terminated prefix. */
	memset(small, 'x', sizeof(small));
	otel_sampler_describe(outer, small, sizeof(small));
	assert_string_equal(small, "ParentBased{root:Pa");
	otel_sampler_describe(outer, small, 0); /* size 0: nothing written, no crash */
	otel_sampler_free(outer);
}

static void test_custom_sampler_ops(void **state)
{
	static const struct otel_sampler_ops bare_ops = { .should_sample = probe_sample };
	struct probe bare = { { &bare_ops }, "bare", 0, NULL, OTEL_SAMPLING_DROP };
	char buf[32];

	(void)state;
	otel_sampler_free(&bare.base); /* no destroy: nothing to do */
	otel_sampler_describe(&bare.base, buf, sizeof(buf));
	assert_string_equal(buf, "UnnamedSampler");
	otel_sampler_describe(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "NoSampler");
}

/* ---- From the environment ---- */

static const char *from_env(const char *name, const char *arg)
{
	static char buf[512];
	otel_sampler *s;

	if (name)
		setenv("OTEL_TRACES_SAMPLER", name, 1);
	if (arg)
		setenv("OTEL_TRACES_SAMPLER_ARG", arg, 1);
	s = otel_sampler_from_env();
	assert_non_null(s);
	otel_sampler_describe(s, buf, sizeof(buf));
	otel_sampler_free(s);
	unsetenv("OTEL_TRACES_SAMPLER");
	unsetenv("OTEL_TRACES_SAMPLER_ARG");
	return buf;
}

static void test_env_selection(void **state)
{
	(void)state;
	assert_string_equal(from_env(NULL, NULL), DEFAULT_PB);
	assert_string_equal(from_env("", NULL), DEFAULT_PB); /* empty means unset */
	assert_string_equal(from_env("always_on", NULL), "AlwaysOnSampler");
	assert_string_equal(from_env("always_off", NULL), "AlwaysOffSampler");
	assert_string_equal(from_env(" always_off\t", NULL), "AlwaysOffSampler");
	assert_string_equal(from_env("traceidratio", "0.25"), "TraceIdRatioBased{0.250000}");
	assert_string_equal(from_env("traceidratio", NULL), "TraceIdRatioBased{1.000000}");
	assert_string_equal(from_env("traceidratio", "0"), "TraceIdRatioBased{0.000000}");
	assert_string_equal(from_env("traceidratio", "1"), "TraceIdRatioBased{1.000000}");
	assert_string_equal(from_env("parentbased_always_on", NULL), DEFAULT_PB);
	assert_string_equal(from_env("parentbased_always_off", NULL),
			    "ParentBased{root:AlwaysOffSampler,remoteParentSampled:AlwaysOnSampler,"
			    "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:"
			    "AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}");
	assert_string_equal(from_env("parentbased_traceidratio", "0.1"),
			    "ParentBased{root:TraceIdRatioBased{0.100000},remoteParentSampled:"
			    "AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,"
			    "localParentSampled:AlwaysOnSampler,localParentNotSampled:"
			    "AlwaysOffSampler}");
	/* The argument only matters to the ratio samplers. */
	assert_string_equal(from_env("always_off", "0.5"), "AlwaysOffSampler");
	assert_int_equal(log_warnings, 0);
}

static void test_env_bad_arg(void **state)
{
	const char *bad[] = { "abc", "1.5", "-0.1", "0.5x", "nan", "inf" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_warnings = 0;
		/* Logged, then treated as unset: ratio 1.0. */
		assert_string_equal(from_env("traceidratio", bad[i]),
				    "TraceIdRatioBased{1.000000}");
		assert_int_equal(log_warnings, 1);
	}
	log_warnings = 0;
	assert_prefix(from_env("parentbased_traceidratio", "2"),
		      "ParentBased{root:TraceIdRatioBased{1.000000},remote");
	assert_int_equal(log_warnings, 1);
	assert_non_null(strstr(log_text, "OTEL_TRACES_SAMPLER_ARG"));
}

static void test_env_unsupported_and_unknown(void **state)
{
	const char *names[] = { "jaeger_remote", "parentbased_jaeger_remote", "xray", "bogus",
				"always-on" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		log_warnings = 0;
		log_text[0] = '\0';
		assert_string_equal(from_env(names[i], NULL), DEFAULT_PB);
		assert_int_equal(log_warnings, 1);
		assert_non_null(strstr(log_text, names[i])); /* the warning names the value */
	}
	assert_non_null(strstr(log_text, "always-on")); /* the last: unknown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_always_on_off, setup),
		cmocka_unit_test_setup(test_ratio_invalid, setup),
		cmocka_unit_test_setup(test_ratio_boundaries, setup),
		cmocka_unit_test_setup(test_ratio_uses_low_bytes_only, setup),
		cmocka_unit_test_setup(test_ratio_deterministic_and_monotonic, setup),
		cmocka_unit_test_setup(test_ratio_empirical_rate, setup),
		cmocka_unit_test_setup(test_ratio_describe, setup),
		cmocka_unit_test_setup(test_parentbased_defaults, setup),
		cmocka_unit_test_setup(test_parentbased_delegates, setup),
		cmocka_unit_test_setup(test_parentbased_needs_root, setup),
		cmocka_unit_test_setup(test_parentbased_nested_and_truncated, setup),
		cmocka_unit_test_setup(test_custom_sampler_ops, setup),
		cmocka_unit_test_setup(test_env_selection, setup),
		cmocka_unit_test_setup(test_env_bad_arg, setup),
		cmocka_unit_test_setup(test_env_unsupported_and_unknown, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
