// SPDX-License-Identifier: Apache-2.0
/*
 * Grouping a batch of spans by resource, then scope, for the OTLP encoders,
 * in time linear in the batch (a batch may mix many providers' resources and
 * many tracers), and the tracestate serialization both encoders use.
 */
#include <errno.h>
#include <stdlib.h>
#include "otlp_group.h"

/*
 * An insertion-ordered set of pointer pairs: (resource, NULL) for resources,
 * (resource, scope) for scopes. Open addressing, grown at half load.
 */
struct pair {
	const void *a, *b;
	size_t count; /* spans (scope pairs) or scopes (resource pairs) */
	size_t link; /* scope pairs: index of the resource pair, then of the output slot */
};

struct pair_set {
	size_t *slots; /* index + 1 into items; 0 = empty */
	size_t mask;
	struct pair *items;
	size_t n, cap;
};

static size_t pair_hash(const void *a, const void *b)
{
	uint64_t h = (uintptr_t)a * 0x9e3779b97f4a7c15ull ^ (uintptr_t)b * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ (h >> 29));
}

static int pair_set_rehash(struct pair_set *s)
{
	size_t nslots = s->slots ? 2 * (s->mask + 1) : 16;
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->mask = nslots - 1;
	for (size_t i = 0; i < s->n; i++) {
		size_t h = pair_hash(s->items[i].a, s->items[i].b) & s->mask;

		while (slots[h])
			h = (h + 1) & s->mask;
		slots[h] = i + 1;
	}
	return 0;
}

/* Index of (a, b), added at the end when new; -ENOMEM. */
static ptrdiff_t pair_set_add(struct pair_set *s, const void *a, const void *b)
{
	size_t h;

	if (2 * (s->n + 1) > (s->slots ? s->mask + 1 : 0) && pair_set_rehash(s))
		return -ENOMEM;
	for (h = pair_hash(a, b) & s->mask; s->slots[h]; h = (h + 1) & s->mask) {
		struct pair *p = &s->items[s->slots[h] - 1];

		if (p->a == a && p->b == b)
			return (ptrdiff_t)(s->slots[h] - 1);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct pair *items = realloc(s->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		s->items = items;
		s->cap = cap;
	}
	s->items[s->n] = (struct pair){ .a = a, .b = b };
	s->slots[h] = ++s->n;
	return (ptrdiff_t)(s->n - 1);
}

static void pair_set_release(struct pair_set *s)
{
	free(s->slots);
	free(s->items);
}

/* Pass 1: the distinct resources and (resource, scope) pairs, and each span's pair. */
static int collect(struct pair_set *res, struct pair_set *scopes, size_t *pair_of,
		   const struct otel_span_data *const *spans, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct otel_span_data *d = spans[i];
		ptrdiff_t p, r;

		if (!d)
			return -EINVAL;
		/* Batches come in runs of one scope: skip the lookup for those. */
		if (i && d->resource == spans[i - 1]->resource && d->scope == spans[i - 1]->scope) {
			p = (ptrdiff_t)pair_of[i - 1];
		} else {
			size_t before = scopes->n;

			p = pair_set_add(scopes, d->resource, d->scope);
			if (p < 0)
				return (int)p;
			if (scopes->n != before) {
				r = pair_set_add(res, d->resource, NULL);
				if (r < 0)
					return (int)r;
				scopes->items[p].link = (size_t)r;
				res->items[r].count++;
			}
		}
		pair_of[i] = (size_t)p;
		scopes->items[p].count++;
	}
	return 0;
}

/* Pass 2: lay out the groups in @mem and place each span in its scope. */
static void lay_out(struct otel_otlp_groups *g, void *mem, struct pair_set *res,
		    struct pair_set *scopes, const size_t *pair_of,
		    const struct otel_span_data *const *spans, size_t n)
{
	struct otel_otlp_resource_group *rg = mem;
	struct otel_otlp_scope_group *sg = (void *)(rg + res->n);
	const struct otel_span_data **out = (void *)(sg + scopes->n);
	size_t first = 0;

	for (size_t r = 0; r < res->n; r++) {
		rg[r] = (struct otel_otlp_resource_group){ .resource = res->items[r].a,
							   .scopes = sg + first };
		first += res->items[r].count;
	}
	/* Pairs are in order of first appearance, so each resource's scopes are too. */
	for (size_t p = 0; p < scopes->n; p++) {
		struct otel_otlp_resource_group *owner = &rg[scopes->items[p].link];
		struct otel_otlp_scope_group *slot = &owner->scopes[owner->n_scopes++];

		slot->scope = scopes->items[p].b;
		slot->n_spans = scopes->items[p].count;
		scopes->items[p].link = (size_t)(slot - sg);
	}
	first = 0;
	for (size_t s = 0; s < scopes->n; s++) {
		sg[s].spans = out + first;
		first += sg[s].n_spans;
		sg[s].n_spans = 0; /* counts up again as the spans are placed */
	}
	for (size_t i = 0; i < n; i++) {
		struct otel_otlp_scope_group *s = &sg[scopes->items[pair_of[i]].link];

		s->spans[s->n_spans++] = spans[i];
	}
	g->resources = rg;
	g->n_resources = res->n;
	g->n_scopes = scopes->n;
	g->n_spans = n;
}

int otel_otlp_group(struct otel_otlp_groups *g, const struct otel_span_data *const *spans, size_t n)
{
	struct pair_set res = { 0 }, scopes = { 0 };
	size_t *pair_of = NULL;
	void *mem = NULL;
	int err = -ENOMEM;

	*g = (struct otel_otlp_groups){ 0 };
	if (!n)
		return 0;
	if (!spans)
		return -EINVAL;
	pair_of = malloc(n * sizeof(*pair_of));
	if (!pair_of)
		goto out;
	err = collect(&res, &scopes, pair_of, spans, n);
	if (err)
		goto out;
	err = -ENOMEM;
	mem = malloc(res.n * sizeof(struct otel_otlp_resource_group) +
		     scopes.n * sizeof(struct otel_otlp_scope_group) + n * sizeof(*spans));
	if (!mem)
		goto out;
	lay_out(g, mem, &res, &scopes, pair_of, spans, n);
	err = 0;
out:
	free(pair_of);
	pair_set_release(&res);
	pair_set_release(&scopes);
	return err;
}

void otel_otlp_groups_release(struct otel_otlp_groups *g)
{
	free(g->resources); /* the one allocation starts with the resource groups */
	*g = (struct otel_otlp_groups){ 0 };
}

int otel_otlp_trace_state(const otel_trace_state *ts, struct otel_buf *out)
{
	/* Largest W3C tracestate: 32 members of a 256-char key, '=', 256-char value, and commas. */
	size_t room = 512;
	int n;

	if (!ts)
		return 0;
	for (;;) {
		if (!otel_buf_reserve(out, room))
			return -ENOMEM;
		n = otel_trace_state_format(ts, out->data + out->len, out->cap - out->len);
		if (n >= 0)
			break;
		if (n != -ENOSPC || room > 64 * 1024)
			return 0; /* cannot happen for a valid tracestate: send none */
		room *= 4;
	}
	out->len += (size_t)n;
	return 0;
}

bool otel_otlp_encode_begin(struct otel_otlp_groups *g, const struct otel_span_data *const *spans,
			    size_t n, const size_t *len)
{
	int err;

	if (!len) {
		errno = EINVAL;
		return false;
	}
	err = otel_otlp_group(g, spans, n);
	if (err) {
		errno = -err;
		return false;
	}
	return true;
}
