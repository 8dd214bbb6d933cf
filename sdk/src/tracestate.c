// SPDX-License-Identifier: Apache-2.0
/*
 * W3C tracestate values (otel_trace_state_*): strict parsing of the header
 * per the Trace Context recommendation, serialization, and the immutable
 * get/set/delete operations with the spec's mutation rule (an updated key
 * moves to the front; past 32 members the last one is dropped).
 *
 * A tracestate is one allocation: the header, the entry table and the
 * NUL-terminated key/value strings, shared by atomic reference counting.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <otel/trace.h>
#include "text.h"

#define TS_MAX_MEMBERS 32
#define TS_MAX_KEY 256
#define TS_MAX_TENANT 241
#define TS_MAX_SYSTEM 14
#define TS_MAX_VALUE 256

struct ts_entry {
	const char *key;
	const char *value;
};

struct otel_trace_state {
	_Atomic uint32_t refcount;
	uint32_t n;
	size_t header_len; /* length of the serialized form, for format() */
	struct ts_entry e[];
	/* key/value strings follow the table */
};

/* A member as a pair of (pointer, length) slices, before it is copied. */
struct ts_slice {
	const char *key;
	size_t klen;
	const char *value;
	size_t vlen;
};

static bool is_lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
	return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

/* A first character accepted by @first followed by up to @max - 1 key characters. */
static bool key_part_valid(const char *s, size_t len, size_t max, bool (*first)(char))
{
	if (!len || len > max || !first(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_key_char(s[i]))
			return false;
	return true;
}

static bool is_tenant_first(char c)
{
	return is_lcalpha(c) || is_digit(c);
}

/* simple-key, or multi-tenant-key = tenant-id "@" system-id. */
static bool ts_key_valid(const char *k, size_t len)
{
	const char *at = memchr(k, '@', len);
	size_t tlen;

	if (!at)
		return key_part_valid(k, len, TS_MAX_KEY, is_lcalpha);
	tlen = (size_t)(at - k);
	return key_part_valid(k, tlen, TS_MAX_TENANT, is_tenant_first) &&
	       key_part_valid(at + 1, len - tlen - 1, TS_MAX_SYSTEM, is_lcalpha);
}

/* value = 0*255(chr) nblk-chr: printable ASCII but ',' and '=', not ending in a space. */
static bool ts_value_valid(const char *v, size_t len)
{
	if (!len || len > TS_MAX_VALUE || v[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
			return false;
	return true;
}

static int ts_find(const struct ts_slice *s, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].klen == klen && !memcmp(s[i].key, key, klen))
			return (int)i;
	return -1;
}

/* Copy the slices into one new tracestate; n == 0 gives NULL with errno 0 (empty). */
static otel_trace_state *ts_build(const struct ts_slice *s, size_t n)
{
	size_t strings = 0, table = sizeof(struct otel_trace_state) + n * sizeof(struct ts_entry);
	struct otel_trace_state *ts;
	char *p;

	if (!n) {
		errno = 0;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		strings += s[i].klen + s[i].vlen + 2;
	ts = malloc(table + strings);
	if (!ts)
		return NULL;
	atomic_init(&ts->refcount, 1);
	ts->n = (uint32_t)n;
	/* each member takes klen + vlen + 2 here and klen + 1 + vlen + ',' there, less one ',' */
	ts->header_len = strings - 1;
	p = (char *)ts + table;
	for (size_t i = 0; i < n; i++) {
		ts->e[i].key = memcpy(p, s[i].key, s[i].klen);
		p[s[i].klen] = '\0';
		p += s[i].klen + 1;
		ts->e[i].value = memcpy(p, s[i].value, s[i].vlen);
		p[s[i].vlen] = '\0';
		p += s[i].vlen + 1;
	}
	return ts;
}

/* Split one list member "key=value" (already trimmed, non-empty) and validate it. */
static bool ts_member_parse(const char *m, size_t len, struct ts_slice *out)
{
	const char *eq = memchr(m, '=', len);

	if (!eq)
		return false;
	out->key = m;
	out->klen = (size_t)(eq - m);
	out->value = eq + 1;
	out->vlen = len - out->klen - 1;
	return ts_key_valid(out->key, out->klen) && ts_value_valid(out->value, out->vlen);
}

otel_trace_state *otel_trace_state_parse(const char *header)
{
	struct ts_slice s[TS_MAX_MEMBERS];
	const char *p = header, *end = header ? header + strlen(header) : NULL, *m;
	size_t n = 0, len;

	while (otel_text_list_next(&p, end, &m, &len)) {
		/* Empty and whitespace-only members are allowed (joined headers). */
		if (!len)
			continue;
		if (n == TS_MAX_MEMBERS || !ts_member_parse(m, len, &s[n]) ||
		    ts_find(s, n, s[n].key, s[n].klen) >= 0)
			goto invalid;
		n++;
	}
	return ts_build(s, n);
invalid:
	errno = EINVAL;
	return NULL;
}

/* The members of @ts as slices, leaving out @skip_key (NULL: none); returns the count. */
static size_t ts_slices(const otel_trace_state *ts, const char *skip_key, struct ts_slice *s)
{
	size_t n = 0;

	for (uint32_t i = 0; ts && i < ts->n; i++) {
		if (skip_key && !strcmp(ts->e[i].key, skip_key))
			continue;
		s[n].key = ts->e[i].key;
		s[n].klen = strlen(ts->e[i].key);
		s[n].value = ts->e[i].value;
		s[n].vlen = strlen(ts->e[i].value);
		n++;
	}
	return n;
}

int otel_trace_state_format(const otel_trace_state *ts, char *buf, size_t size)
{
	size_t len = ts ? ts->header_len : 0, off = 0;

	if (size < len + 1)
		return -ENOSPC;
	for (uint32_t i = 0; ts && i < ts->n; i++) {
		size_t kl = strlen(ts->e[i].key), vl = strlen(ts->e[i].value);

		if (i)
			buf[off++] = ',';
		memcpy(buf + off, ts->e[i].key, kl);
		off += kl;
		buf[off++] = '=';
		memcpy(buf + off, ts->e[i].value, vl);
		off += vl;
	}
	buf[off] = '\0';
	return (int)off;
}

const char *otel_trace_state_get(const otel_trace_state *ts, const char *key)
{
	for (uint32_t i = 0; ts && key && i < ts->n; i++)
		if (!strcmp(ts->e[i].key, key))
			return ts->e[i].value;
	return NULL;
}

otel_trace_state *otel_trace_state_set(const otel_trace_state *ts, const char *key,
				       const char *value)
{
	/* one extra slot: the new member plus up to 32 old ones, then the last is cut */
	struct ts_slice s[TS_MAX_MEMBERS + 1];
	size_t n;

	if (!key || !value || !ts_key_valid(key, strlen(key)) ||
	    !ts_value_valid(value, strlen(value))) {
		errno = EINVAL;
		return NULL;
	}
	s[0] = (struct ts_slice){ key, strlen(key), value, strlen(value) };
	n = 1 + ts_slices(ts, key, s + 1);
	return ts_build(s, n > TS_MAX_MEMBERS ? TS_MAX_MEMBERS : n);
}

otel_trace_state *otel_trace_state_delete(const otel_trace_state *ts, const char *key)
{
	struct ts_slice s[TS_MAX_MEMBERS];

	if (key && otel_trace_state_get(ts, key))
		return ts_build(s, ts_slices(ts, key, s));
	/* Nothing to remove: the same immutable value serves. */
	if (!ts)
		errno = 0;
	return otel_trace_state_ref((otel_trace_state *)ts);
}

otel_trace_state *otel_trace_state_ref(otel_trace_state *ts)
{
	if (ts)
		atomic_fetch_add_explicit(&ts->refcount, 1, memory_order_relaxed);
	return ts;
}

void otel_trace_state_unref(otel_trace_state *ts)
{
	if (ts && atomic_fetch_sub_explicit(&ts->refcount, 1, memory_order_acq_rel) == 1)
		free(ts);
}
