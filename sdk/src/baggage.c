// SPDX-License-Identifier: Apache-2.0
/*
 * W3C Baggage values (otel_baggage_*): the immutable name/value/metadata
 * set, parsing of the `baggage` header (percent-decoding values, properties
 * kept verbatim as metadata) and serialization (percent-encoding values),
 * both within the W3C limits: 180 members, 4096 bytes a member, 8192 in all.
 *
 * A baggage is one allocation: the header, the entry table and the
 * NUL-terminated strings, shared by atomic reference counting.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <otel/propagation.h>
#include "text.h"

struct bg_entry {
	const char *name;
	const char *value;
	const char *metadata; /* NULL when the member has no properties */
};

struct otel_baggage {
	_Atomic uint32_t refcount;
	uint32_t n;
	struct bg_entry e[];
	/* strings follow the table */
};

/* An entry as (pointer, length) slices before it is copied; meta NULL = none. */
struct bg_slice {
	const char *name;
	size_t nlen;
	const char *value;
	size_t vlen;
	const char *meta;
	size_t mlen;
};

/* ---- character classes ---- */

/* baggage-octet: printable ASCII except DQUOTE, ',', ';' and '\'. */
static bool is_baggage_octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* ---- the immutable set ---- */

static const char *copy_str(char **p, const char *s, size_t len)
{
	char *dst = *p;

	memcpy(dst, s, len);
	dst[len] = '\0';
	*p += len + 1;
	return dst;
}

static otel_baggage *bg_build(const struct bg_slice *s, size_t n)
{
	size_t table = sizeof(struct otel_baggage) + n * sizeof(struct bg_entry), strings = 0;
	struct otel_baggage *bg;
	char *p;

	for (size_t i = 0; i < n; i++)
		strings += s[i].nlen + s[i].vlen + 2 + (s[i].meta ? s[i].mlen + 1 : 0);
	bg = malloc(table + strings);
	if (!bg)
		return NULL;
	atomic_init(&bg->refcount, 1);
	bg->n = (uint32_t)n;
	p = (char *)bg + table;
	for (size_t i = 0; i < n; i++) {
		bg->e[i].name = copy_str(&p, s[i].name, s[i].nlen);
		bg->e[i].value = copy_str(&p, s[i].value, s[i].vlen);
		bg->e[i].metadata = s[i].meta ? copy_str(&p, s[i].meta, s[i].mlen) : NULL;
	}
	return bg;
}

static struct bg_slice entry_slice(const struct bg_entry *e)
{
	return (struct bg_slice){
		.name = e->name,
		.nlen = strlen(e->name),
		.value = e->value,
		.vlen = strlen(e->value),
		.meta = e->metadata,
		.mlen = e->metadata ? strlen(e->metadata) : 0,
	};
}

static ssize_t slice_find(const struct bg_slice *s, size_t n, const char *name, size_t nlen)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].nlen == nlen && !memcmp(s[i].name, name, nlen))
			return (ssize_t)i;
	return -1;
}

/* Add @add to s[0..*n): a name already there gets the new value in its place. */
static void slice_put(struct bg_slice *s, size_t *n, const struct bg_slice *add)
{
	ssize_t i = slice_find(s, *n, add->name, add->nlen);

	s[i < 0 ? (*n)++ : (size_t)i] = *add;
}

/*
 * The entries of @bg as slices in a new array with room for one more,
 * leaving out @skip (NULL: none). *n gets the count.
 */
static struct bg_slice *bg_slices(const otel_baggage *bg, const char *skip, size_t *n)
{
	size_t count = bg ? bg->n : 0;
	struct bg_slice *s = calloc(count + 1, sizeof(*s));

	*n = 0;
	for (size_t i = 0; s && i < count; i++)
		if (!skip || strcmp(bg->e[i].name, skip))
			s[(*n)++] = entry_slice(&bg->e[i]);
	return s;
}

otel_baggage *otel_baggage_set(const otel_baggage *bg, const char *name, const char *value,
			       const char *metadata)
{
	struct bg_slice add, *s;
	otel_baggage *out;
	size_t n;

	if (!name || !*name || !value) {
		errno = EINVAL;
		return NULL;
	}
	add = (struct bg_slice){ name, strlen(name), value, strlen(value), NULL, 0 };
	if (metadata && *metadata) {
		add.meta = metadata;
		add.mlen = strlen(metadata);
	}
	s = bg_slices(bg, NULL, &n);
	if (!s)
		return NULL;
	slice_put(s, &n, &add);
	out = bg_build(s, n);
	free(s);
	return out;
}

otel_baggage *otel_baggage_remove(const otel_baggage *bg, const char *name)
{
	struct bg_slice *s;
	otel_baggage *out;
	size_t n;

	/* Nothing to remove: the same immutable value serves. */
	if (bg && (!name || !otel_baggage_get(bg, name)))
		return otel_baggage_ref((otel_baggage *)bg);
	s = bg_slices(bg, name, &n);
	if (!s)
		return NULL;
	out = bg_build(s, n);
	free(s);
	return out;
}

const char *otel_baggage_get(const otel_baggage *bg, const char *name)
{
	for (uint32_t i = 0; bg && name && i < bg->n; i++)
		if (!strcmp(bg->e[i].name, name))
			return bg->e[i].value;
	return NULL;
}

size_t otel_baggage_count(const otel_baggage *bg)
{
	return bg ? bg->n : 0;
}

int otel_baggage_entry(const otel_baggage *bg, size_t i, const char **name, const char **value,
		       const char **metadata)
{
	if (!bg || i >= bg->n)
		return -ERANGE;
	if (name)
		*name = bg->e[i].name;
	if (value)
		*value = bg->e[i].value;
	if (metadata)
		*metadata = bg->e[i].metadata;
	return 0;
}

otel_baggage *otel_baggage_ref(otel_baggage *bg)
{
	if (bg)
		atomic_fetch_add_explicit(&bg->refcount, 1, memory_order_relaxed);
	return bg;
}

void otel_baggage_unref(otel_baggage *bg)
{
	if (bg && atomic_fetch_sub_explicit(&bg->refcount, 1, memory_order_acq_rel) == 1)
		free(bg);
}

/* ---- parsing ---- */

/*
 * property = key OWS "=" OWS value / key OWS, properties separated by
 * OWS ";" OWS. @s is the text after a member's first ';'.
 */
static bool props_valid(const char *s, size_t len)
{
	const char *end = s + len;

	do {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));
		const char *k = s, *v = eq ? eq + 1 : stop;
		size_t klen = (size_t)((eq ? eq : stop) - s), vlen = (size_t)(stop - v);

		otel_text_trim_ows(&k, &klen);
		otel_text_trim_ows(&v, &vlen);
		if (!otel_text_is_token(k, klen))
			return false;
		for (size_t i = 0; i < vlen; i++)
			if (!is_baggage_octet((unsigned char)v[i]))
				return false;
		s = semi ? semi + 1 : NULL;
	} while (s);
	return true;
}

/*
 * Percent-decode a value of baggage-octets into @out (room for @len bytes);
 * -1 on another byte, a bad escape or a decoded NUL (values are C strings).
 */
static ssize_t value_decode(const char *v, size_t len, char *out)
{
	ssize_t n;

	for (size_t i = 0; i < len; i++)
		if (!is_baggage_octet((unsigned char)v[i]))
			return -1;
	n = otel_text_pct_decode(v, len, out);
	if (n < 0 || memchr(out, '\0', (size_t)n))
		return -1;
	return n;
}

struct bg_parser {
	struct bg_slice s[OTEL_BAGGAGE_MAX_MEMBERS];
	size_t n;
	size_t bytes; /* header bytes of the members kept, commas included */
	char *tmp; /* percent-decoded value of the current member */
	char *out; /* where the next repaired value goes */
};

/* Parse one trimmed, non-empty list member: key OWS "=" OWS value *(OWS ";" OWS property). */
static bool member_parse(struct bg_parser *bp, const char *m, size_t len, struct bg_slice *sl)
{
	const char *rest, *semi, *v;
	size_t rlen, vlen;
	ssize_t dlen;

	if (!otel_text_split_kv(m, len, &sl->name, &sl->nlen, &rest, &rlen))
		return false;
	/* the value runs to the first ';', the properties after it */
	semi = memchr(rest, ';', rlen);
	v = rest;
	vlen = semi ? (size_t)(semi - rest) : rlen;
	otel_text_trim_ows(&v, &vlen);
	sl->meta = semi ? semi + 1 : NULL;
	sl->mlen = semi ? (size_t)(rest + rlen - sl->meta) : 0;
	otel_text_trim_ows(&sl->meta, &sl->mlen);
	if (!otel_text_is_token(sl->name, sl->nlen) || (semi && !props_valid(sl->meta, sl->mlen)))
		return false;
	dlen = value_decode(v, vlen, bp->tmp);
	if (dlen < 0)
		return false;
	/*
	 * Each ill-formed UTF-8 subpart becomes U+FFFD, as the W3C Baggage spec
	 * asks. Ill-formed bytes are never ASCII, so they came from "%XX"
	 * escapes: the value never grows past its encoded length.
	 */
	sl->value = bp->out;
	sl->vlen = otel_text_utf8_repair(bp->tmp, (size_t)dlen, bp->out);
	bp->out += sl->vlen;
	return true;
}

/* Keep a member if it is valid and within the limits; others are skipped. */
static void member_add(struct bg_parser *bp, const char *m, size_t len)
{
	size_t bytes = bp->bytes + len + (bp->bytes ? 1 : 0);
	struct bg_slice sl;

	if (len > OTEL_BAGGAGE_MAX_MEMBER_BYTES || bytes > OTEL_BAGGAGE_MAX_BYTES ||
	    !member_parse(bp, m, len, &sl))
		return;
	bp->bytes = bytes;
	/* a repeated name keeps its place and takes the later value */
	slice_put(bp->s, &bp->n, &sl);
}

otel_baggage *otel_baggage_parse(const char *header)
{
	const char *p = header, *m;
	struct bg_parser *bp;
	otel_baggage *bg = NULL;
	size_t hlen, len;

	if (!header) {
		errno = EINVAL;
		return NULL;
	}
	hlen = strlen(header);
	/* one block: the parser, the decode scratch and the decoded values */
	bp = malloc(sizeof(*bp) + 2 * (hlen + 1));
	if (!bp)
		return NULL;
	bp->n = 0;
	bp->bytes = 0;
	bp->tmp = (char *)(bp + 1);
	bp->out = bp->tmp + hlen + 1;
	while (bp->n < OTEL_BAGGAGE_MAX_MEMBERS && otel_text_list_next(&p, header + hlen, &m, &len))
		if (len)
			member_add(bp, m, len);
	if (bp->n)
		bg = bg_build(bp->s, bp->n);
	else
		errno = EINVAL;
	free(bp);
	return bg;
}

/* ---- serialization ---- */

static size_t value_encode(const char *v, char *out)
{
	return otel_text_pct_encode(v, strlen(v), is_baggage_octet, out);
}

/* Metadata is sent when it is a valid property list, else left out. */
static bool meta_sendable(const char *meta)
{
	return meta && props_valid(meta, strlen(meta));
}

/* Header bytes of an entry, or 0 when its name cannot be sent (not a token). */
static size_t member_len(const struct bg_entry *e)
{
	const char *meta = e->metadata;

	if (!otel_text_is_token(e->name, strlen(e->name)))
		return 0;
	return strlen(e->name) + 1 + value_encode(e->value, NULL) +
	       (meta_sendable(meta) ? 1 + strlen(meta) : 0);
}

static size_t member_write(const struct bg_entry *e, char *out)
{
	size_t nlen = strlen(e->name), o;

	memcpy(out, e->name, nlen);
	out[nlen] = '=';
	o = nlen + 1 + value_encode(e->value, out + nlen + 1);
	if (meta_sendable(e->metadata)) {
		out[o++] = ';';
		memcpy(out + o, e->metadata, strlen(e->metadata));
		o += strlen(e->metadata);
	}
	return o;
}

int otel_baggage_format(const otel_baggage *bg, char *buf, size_t size)
{
	size_t off = 0, count = 0;

	if (!size)
		return -ENOSPC;
	for (uint32_t i = 0; bg && i < bg->n && count < OTEL_BAGGAGE_MAX_MEMBERS; i++) {
		size_t mlen = member_len(&bg->e[i]), need = mlen + (count ? 1 : 0);

		if (!mlen || mlen > OTEL_BAGGAGE_MAX_MEMBER_BYTES ||
		    off + need > OTEL_BAGGAGE_MAX_BYTES)
			continue;
		if (off + need + 1 > size)
			return -ENOSPC;
		if (count++)
			buf[off++] = ',';
		off += member_write(&bg->e[i], buf + off);
	}
	buf[off] = '\0';
	return (int)off;
}
