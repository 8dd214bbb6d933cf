// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/probe_cmd.c: `kspan probe` (see probe_cmd.h). The plan printed is the
 * one the loader follows: the feature probes pick the flavor, and the verifier
 * lines show whether that flavor's programs would load (the USDT program with each);
 * the usdt line says whether the agent will attach to otel:* probes.
 */
#include "probe_cmd.h"

#include <errno.h>
#include <sys/utsname.h>

#include "feature_probe.h"
#include "loader.h"

static void print_features(FILE *out, const struct kspan_features *f)
{
	enum kspan_feature i;

	for (i = 0; i < KSPAN_FEAT_MAX; i++)
		fprintf(out, "feature %s: %s (%s)\n", kspan_feature_name(i),
			f->f[i].ok ? "yes" : "no", f->f[i].reason);
}

/* Whether each flavor's programs pass the verifier; returns whether `plan`'s do. */
static int print_verifier(FILE *out, enum kspan_flavor plan)
{
	enum kspan_flavor fl;
	char err[512];
	int ret, plan_ret = -ENOTSUP;

	for (fl = KSPAN_FLAVOR_FENTRY; fl < KSPAN_FLAVOR_MAX; fl++) {
		ret = kspan_loader_verify_flavor(NULL, fl, err, sizeof(err));
		if (ret)
			fprintf(out, "verifier %s: failed (%s)\n", kspan_flavor_name(fl), err);
		else
			fprintf(out, "verifier %s: ok\n", kspan_flavor_name(fl));
		if (fl == plan)
			plan_ret = ret;
	}
	return plan_ret;
}

/* Whether the otel:* probes of <otel/usdt.h> will be attached in traced processes. */
static void print_usdt(FILE *out, const struct kspan_features *f)
{
	const struct kspan_feature_result *r = &f->f[KSPAN_FEAT_USDT];

	if (r->ok)
		fprintf(out, "usdt: yes, otel:* probes attached in each traced process (%s)\n",
			r->reason);
	else
		fprintf(out, "usdt: no, otel:* probes not attached (%s)\n", r->reason);
}

int kspan_probe_cmd(FILE *out)
{
	struct kspan_features f;
	enum kspan_flavor plan;
	struct utsname u;
	char why[1024];

	if (!out)
		return -EINVAL;
	if (uname(&u) == 0)
		fprintf(out, "kernel: %s %s\n", u.release, u.machine);
	kspan_features_probe(&f);
	print_features(out, &f);
	plan = kspan_features_plan(&f, why, sizeof(why));
	if (print_verifier(out, plan) || plan == KSPAN_FLAVOR_AUTO) {
		fprintf(out, "plan: none (%s)\n", why);
		return -ENOTSUP;
	}
	fprintf(out, "plan: %s (%s)\n", kspan_flavor_name(plan), why);
	print_usdt(out, &f);
	return 0;
}
