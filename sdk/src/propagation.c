// SPDX-License-Identifier: Apache-2.0
/*
 * Propagators: the traceparent parser/formatter, the W3C Trace Context and
 * W3C Baggage propagators, composites, the no-op propagator, construction
 * from OTEL_PROPAGATORS and the global propagator.
 *
 * A propagator is a table of operations plus its header names; composites
 * also carry their parts. The built-in ones are static; composites (and so
 * everything from_env makes, except the no-op one) are allocated.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <otel/propagation.h>
#include "env.h"
#include "log.h"
#include "text.h"

struct otel_propagator_ops {
	void (*inject)(const otel_propagator *p, const otel_context *ctx, void *carrier,
		       otel_carrier_set_fn set);
	/* returns a new reference derived from @ctx (never NULL but on ENOMEM) */
	otel_context *(*extract)(const otel_propagator *p, const otel_context *ctx, void *carrier,
				 otel_carrier_get_fn get);
};

struct otel_propagator {
	const struct otel_propagator_ops *ops;
	const char *const *fields; /* NULL-terminated */
	bool allocated; /* freed by otel_propagator_free(); static ones are not */
	size_t n_parts; /* composites only */
	otel_propagator **parts;
};

/* ---- traceparent ---- */

/*
 * version "-" trace-id "-" parent-id "-" trace-flags. Version 00 is exactly
 * 55 characters; a higher version is read by the 00 rules for its first 55
 * characters and may go on only after a '-'.
 */
int otel_traceparent_parse(const char *value, size_t len, struct otel_span_context *out)
{
	struct otel_span_context sc = { .is_remote = true };
	uint8_t version, flags;

	if (!value || len < OTEL_TRACEPARENT_LEN || !otel_text_hex_decode_lower(value, 1, &version) ||
	    version == 0xff)
		return -EINVAL;
	if (version == 0 ? len != OTEL_TRACEPARENT_LEN :
			   len > OTEL_TRACEPARENT_LEN && value[OTEL_TRACEPARENT_LEN] != '-')
		return -EINVAL;
	if (value[2] != '-' || value[35] != '-' || value[52] != '-' ||
	    !otel_text_hex_decode_lower(value + 3, 16, sc.trace_id) || !otel_text_hex_decode_lower(value + 36, 8, sc.span_id) ||
	    !otel_text_hex_decode_lower(value + 53, 1, &flags) || !otel_span_context_is_valid(&sc))
		return -EINVAL;
	/* Only the sampled flag is defined for us; other bits are not carried on. */
	sc.trace_flags = flags & OTEL_TRACE_FLAG_SAMPLED;
	*out = sc;
	return 0;
}

void otel_traceparent_format(const struct otel_span_context *sc, char *buf)
{
	uint8_t flags = sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED;

	memcpy(buf, "00-", 3);
	otel_text_hex_encode(sc->trace_id, 16, buf + 3);
	buf[35] = '-';
	otel_text_hex_encode(sc->span_id, 8, buf + 36);
	buf[52] = '-';
	otel_text_hex_encode(&flags, 1, buf + 53);
	buf[OTEL_TRACEPARENT_LEN] = '\0';
}

/* ---- helpers shared by the propagators ---- */

static const otel_context *ctx_or_current(const otel_context *ctx)
{
	return ctx ? ctx : otel_context_current();
}

/* A new reference on a context the caller only borrows. */
static otel_context *ctx_ref(const otel_context *ctx)
{
	return otel_context_ref((otel_context *)ctx);
}

/* ---- W3C Trace Context ---- */

static void tc_inject_tracestate(const otel_trace_state *ts, void *carrier, otel_carrier_set_fn set)
{
	char small[512], *buf = small;
	int len = otel_trace_state_format(ts, small, sizeof(small));

	/* 32 members of 256 + 1 + 256 bytes, commas and the NUL */
	if (len == -ENOSPC) {
		size_t max = 32 * (256 + 1 + 256 + 1);

		buf = malloc(max);
		if (!buf)
			return;
		len = otel_trace_state_format(ts, buf, max);
	}
	if (len > 0)
		set(carrier, "tracestate", buf);
	if (buf != small)
		free(buf);
}

static void tc_inject(const otel_propagator *p, const otel_context *ctx, void *carrier,
		      otel_carrier_set_fn set)
{
	otel_span *span = otel_context_get_span(ctx);
	struct otel_span_context sc;
	char tp[OTEL_TRACEPARENT_LEN + 1];

	(void)p;
	if (!span)
		return;
	otel_span_get_context(span, &sc);
	if (!otel_span_context_is_valid(&sc))
		return;
	otel_traceparent_format(&sc, tp);
	set(carrier, "traceparent", tp);
	if (sc.trace_state)
		tc_inject_tracestate(sc.trace_state, carrier, set);
}

/* HTTP field values may carry optional whitespace around them. */
static int tc_parse_header(const char *v, struct otel_span_context *sc)
{
	size_t len;

	if (!v)
		return -EINVAL;
	len = strlen(v);
	otel_text_trim_ows(&v, &len);
	return otel_traceparent_parse(v, len, sc);
}

static otel_context *tc_extract(const otel_propagator *p, const otel_context *ctx, void *carrier,
				otel_carrier_get_fn get)
{
	struct otel_span_context sc;
	otel_context *out;
	otel_span *span;

	(void)p;
	if (tc_parse_header(get(carrier, "traceparent"), &sc))
		return ctx_ref(ctx);
	/* an invalid tracestate is dropped; the traceparent still counts */
	sc.trace_state = otel_trace_state_parse(get(carrier, "tracestate"));
	span = otel_span_wrap(&sc);
	otel_trace_state_unref(sc.trace_state);
	if (!span)
		return NULL;
	out = otel_context_with_span(ctx, span);
	otel_span_unref(span);
	return out;
}

static const char *const tc_fields[] = { "traceparent", "tracestate", NULL };
static const struct otel_propagator_ops tc_ops = { .inject = tc_inject, .extract = tc_extract };
static struct otel_propagator tc_propagator = { .ops = &tc_ops, .fields = tc_fields };

otel_propagator *otel_propagator_tracecontext(void)
{
	return &tc_propagator;
}

/* ---- W3C Baggage ---- */

static void bg_inject(const otel_propagator *p, const otel_context *ctx, void *carrier,
		      otel_carrier_set_fn set)
{
	otel_baggage *bg = otel_context_get_baggage(ctx);
	char *buf;

	(void)p;
	if (!otel_baggage_count(bg))
		return;
	buf = malloc(OTEL_BAGGAGE_MAX_BYTES + 1);
	if (!buf)
		return;
	if (otel_baggage_format(bg, buf, OTEL_BAGGAGE_MAX_BYTES + 1) > 0)
		set(carrier, "baggage", buf);
	free(buf);
}

static otel_context *bg_extract(const otel_propagator *p, const otel_context *ctx, void *carrier,
				otel_carrier_get_fn get)
{
	const char *header = get(carrier, "baggage");
	otel_baggage *bg;
	otel_context *out;

	(void)p;
	bg = header ? otel_baggage_parse(header) : NULL;
	if (!bg)
		return ctx_ref(ctx);
	out = otel_context_with_baggage(ctx, bg);
	otel_baggage_unref(bg);
	return out;
}

static const char *const bg_fields[] = { "baggage", NULL };
static const struct otel_propagator_ops bg_ops = { .inject = bg_inject, .extract = bg_extract };
static struct otel_propagator bg_propagator = { .ops = &bg_ops, .fields = bg_fields };

otel_propagator *otel_propagator_baggage(void)
{
	return &bg_propagator;
}

/* ---- no-op ---- */

static void noop_inject(const otel_propagator *p, const otel_context *ctx, void *carrier,
			otel_carrier_set_fn set)
{
	(void)p;
	(void)ctx;
	(void)carrier;
	(void)set;
}

static otel_context *noop_extract(const otel_propagator *p, const otel_context *ctx, void *carrier,
				  otel_carrier_get_fn get)
{
	(void)p;
	(void)carrier;
	(void)get;
	return ctx_ref(ctx);
}

static const char *const noop_fields[] = { NULL };
static const struct otel_propagator_ops noop_ops = { .inject = noop_inject,
						     .extract = noop_extract };
static struct otel_propagator noop_propagator = { .ops = &noop_ops, .fields = noop_fields };

/* ---- composite ---- */

static void comp_inject(const otel_propagator *p, const otel_context *ctx, void *carrier,
			otel_carrier_set_fn set)
{
	for (size_t i = 0; i < p->n_parts; i++)
		p->parts[i]->ops->inject(p->parts[i], ctx, carrier, set);
}

static otel_context *comp_extract(const otel_propagator *p, const otel_context *ctx, void *carrier,
				  otel_carrier_get_fn get)
{
	otel_context *cur = ctx_ref(ctx), *next;

	for (size_t i = 0; i < p->n_parts && cur; i++) {
		next = p->parts[i]->ops->extract(p->parts[i], cur, carrier, get);
		otel_context_unref(cur);
		cur = next;
	}
	return cur;
}

static const struct otel_propagator_ops comp_ops = { .inject = comp_inject,
						     .extract = comp_extract };

static size_t count_fields(otel_propagator *const *parts, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		for (const char *const *f = parts[i]->fields; *f; f++)
			total++;
	return total;
}

static bool has_field(const char *const *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(fields[i], name))
			return true;
	return false;
}

otel_propagator *otel_propagator_composite(otel_propagator *const *parts, size_t n)
{
	struct otel_propagator *p;
	const char **fields;
	size_t nf = 0, total;

	if (n && !parts) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!parts[i]) {
			errno = EINVAL;
			return NULL;
		}
	}
	total = count_fields(parts, n);
	/* one block: the propagator, its parts and its (deduplicated) field list */
	p = calloc(1, sizeof(*p) + n * sizeof(*parts) + (total + 1) * sizeof(*fields));
	if (!p)
		return NULL;
	p->ops = &comp_ops;
	p->allocated = true;
	p->n_parts = n;
	p->parts = (otel_propagator **)(p + 1);
	if (n)
		memcpy(p->parts, parts, n * sizeof(*parts));
	fields = (const char **)(p->parts + n);
	for (size_t i = 0; i < n; i++)
		for (const char *const *f = parts[i]->fields; *f; f++)
			if (!has_field(fields, nf, *f))
				fields[nf++] = *f;
	fields[nf] = NULL;
	p->fields = fields;
	return p;
}

void otel_propagator_free(otel_propagator *p)
{
	if (p && p->allocated)
		free(p);
}

/* ---- OTEL_PROPAGATORS ---- */

/* Known to the specification but not built into libotel. */
static const char *const unsupported_names[] = { "b3", "b3multi", "jaeger", "xray", "ottrace" };
static atomic_uint unsupported_warned; /* one bit per name: warn once each */

static bool name_is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && !strncasecmp(s, name, len);
}

static void warn_unsupported(const char *s, size_t len)
{
	for (unsigned int i = 0; i < sizeof(unsupported_names) / sizeof(*unsupported_names); i++) {
		if (!name_is(s, len, unsupported_names[i]))
			continue;
		if (!(atomic_fetch_or(&unsupported_warned, 1u << i) & (1u << i)))
			otel_log(OTEL_LOG_WARN,
				 "OTEL_PROPAGATORS: propagator \"%s\" is not supported by libotel; "
				 "skipped",
				 unsupported_names[i]);
		return;
	}
	otel_log(OTEL_LOG_WARN,
		 "OTEL_PROPAGATORS: unknown propagator \"%.*s\" (accepted: tracecontext, baggage, "
		 "none); skipped",
		 (int)len, s);
}

/* Add the propagator named by s[0..len) to parts (no duplicates); true for "none". */
static bool add_named(const char *s, size_t len, otel_propagator **parts, size_t *n)
{
	otel_propagator *p = NULL;

	if (name_is(s, len, "none"))
		return true;
	if (name_is(s, len, "tracecontext"))
		p = &tc_propagator;
	else if (name_is(s, len, "baggage"))
		p = &bg_propagator;
	else
		warn_unsupported(s, len);
	for (size_t i = 0; p && i < *n; i++)
		if (parts[i] == p)
			p = NULL;
	if (p)
		parts[(*n)++] = p;
	return false;
}

otel_propagator *otel_propagator_from_env(void)
{
	char buf[512];
	const char *list = otel_env_str("OTEL_PROPAGATORS", buf, sizeof(buf));
	otel_propagator *parts[2];
	size_t n = 0, len;
	bool none = false;
	const char *p, *end, *s;

	if (!list)
		list = "tracecontext,baggage";
	end = list + strlen(list);
	for (p = list; otel_text_list_next(&p, end, &s, &len);)
		if (len)
			none |= add_named(s, len, parts, &n);
	if (none && n)
		otel_log(OTEL_LOG_WARN,
			 "OTEL_PROPAGATORS=\"%s\" lists \"none\" with other propagators; "
			 "propagation is disabled",
			 list);
	if (none || !n)
		return &noop_propagator;
	return otel_propagator_composite(parts, n);
}

/* ---- use ---- */

void otel_propagator_inject(const otel_propagator *p, const otel_context *ctx, void *carrier,
			    otel_carrier_set_fn set)
{
	if (p && set)
		p->ops->inject(p, ctx_or_current(ctx), carrier, set);
}

otel_context *otel_propagator_extract(const otel_propagator *p, const otel_context *ctx,
				      void *carrier, otel_carrier_get_fn get)
{
	const otel_context *parent = ctx_or_current(ctx);
	otel_context *out;

	if (!p || !get)
		return ctx_ref(parent);
	out = p->ops->extract(p, parent, carrier, get);
	if (!out)
		errno = ENOMEM;
	return out;
}

const char *const *otel_propagator_fields(const otel_propagator *p)
{
	return p ? p->fields : noop_fields;
}

static _Atomic(otel_propagator *) global_propagator = &noop_propagator;

otel_propagator *otel_propagator_global(void)
{
	return atomic_load_explicit(&global_propagator, memory_order_acquire);
}

void otel_propagator_set_global(otel_propagator *p)
{
	atomic_store_explicit(&global_propagator, p ? p : &noop_propagator, memory_order_release);
}
