// SPDX-License-Identifier: Apache-2.0
/*
 * Attribute storage: copies of keys and values in an otel_store, the value
 * length limit (UTF-8 aware), key de-duplication and the count limit.
 *
 * One attribute = one block holding its key and its value's bytes, so an
 * overwrite frees (or, inside the span's inline region, abandons) exactly
 * one block and an int/double/bool overwrite allocates nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "attrs.h"

const char otel_empty_str[1];

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

void *otel_store_alloc(struct otel_store *st, size_t size)
{
	size = ALIGN8(size ? size : 1);
	if (st->cur && (size_t)(st->end - st->cur) >= size) {
		void *p = st->cur;

		st->cur += size;
		return p;
	}
	st->heap_used = true;
	return malloc(size);
}

static bool in_region(const struct otel_store *st, const void *p)
{
	return (const char *)p >= st->base && (const char *)p < st->end;
}

void otel_store_release(struct otel_store *st, const void *p)
{
	if (!p || p == otel_empty_str || in_region(st, p))
		return;
	free((void *)p);
}

char *otel_store_strndup(struct otel_store *st, const char *s, size_t len)
{
	char *p;

	if (!len)
		return (char *)otel_empty_str;
	p = otel_store_alloc(st, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

size_t otel_utf8_prefix(const char *s, size_t len, uint32_t max_chars)
{
	size_t i = 0;
	uint32_t chars = 0;

	if (max_chars == UINT32_MAX || len <= max_chars)
		return len;
	while (i < len && chars < max_chars) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
			   (c & 0xF8) == 0xF0 ? 4 : 1;

		/* A sequence cut short by the end of input counts as one character. */
		if (i + n > len)
			n = len - i;
		/* Continuation bytes must really be continuations; else treat c as one char. */
		for (size_t k = 1; k < n; k++) {
			if (((unsigned char)s[i + k] & 0xC0) != 0x80) {
				n = 1;
				break;
			}
		}
		i += n;
		chars++;
	}
	return i;
}

/* Bytes needed after the key for the value's payload, with lengths already limited. */
static size_t payload_size(const struct otel_value *v, uint32_t len_limit)
{
	size_t n = 0;

	switch (v->type) {
	case OTEL_VALUE_STRING:
		return otel_utf8_prefix(v->str.ptr, v->str.len, len_limit) + 1;
	case OTEL_VALUE_BYTES:
		return (len_limit < v->bytes.len ? len_limit : v->bytes.len) + 1;
	case OTEL_VALUE_STRING_ARRAY: {
		const char *const *items = v->array.items;

		n = ALIGN8(v->array.count * sizeof(char *));
		for (size_t i = 0; i < v->array.count; i++) {
			const char *s = items[i] ? items[i] : "";

			n += otel_utf8_prefix(s, strlen(s), len_limit) + 1;
		}
		return n;
	}
	case OTEL_VALUE_BOOL_ARRAY:
		return v->array.count * sizeof(bool);
	case OTEL_VALUE_INT_ARRAY:
		return v->array.count * sizeof(int64_t);
	case OTEL_VALUE_DOUBLE_ARRAY:
		return v->array.count * sizeof(double);
	default:
		return 0;
	}
}

/* Copy v's payload into dst (sized by payload_size) and describe the copy in out. */
static void copy_payload(char *dst, const struct otel_value *v, uint32_t len_limit,
			 struct otel_value *out)
{
	*out = *v;
	switch (v->type) {
	case OTEL_VALUE_STRING: {
		size_t n = otel_utf8_prefix(v->str.ptr, v->str.len, len_limit);

		memcpy(dst, v->str.ptr, n);
		dst[n] = '\0';
		out->str.ptr = dst;
		out->str.len = n;
		break;
	}
	case OTEL_VALUE_BYTES: {
		size_t n = len_limit < v->bytes.len ? len_limit : v->bytes.len;

		if (n)
			memcpy(dst, v->bytes.ptr, n);
		out->bytes.ptr = (const uint8_t *)dst;
		out->bytes.len = n;
		break;
	}
	case OTEL_VALUE_STRING_ARRAY: {
		const char *const *items = v->array.items;
		const char **ptrs = (const char **)dst;
		char *s = dst + ALIGN8(v->array.count * sizeof(char *));

		for (size_t i = 0; i < v->array.count; i++) {
			const char *src = items[i] ? items[i] : "";
			size_t n = otel_utf8_prefix(src, strlen(src), len_limit);

			memcpy(s, src, n);
			s[n] = '\0';
			ptrs[i] = s;
			s += n + 1;
		}
		out->array.items = ptrs;
		break;
	}
	case OTEL_VALUE_BOOL_ARRAY:
	case OTEL_VALUE_INT_ARRAY:
	case OTEL_VALUE_DOUBLE_ARRAY:
		if (v->array.count)
			memcpy(dst, v->array.items, payload_size(v, len_limit));
		out->array.items = dst;
		break;
	default:
		break;
	}
}

/*
 * Every stored key is preceded by its hash and length, so looking a key up
 * compares integers and rarely strings (a span's attributes are checked for
 * duplicates on every set).
 */
struct key_hdr {
	uint32_t hash;
	uint32_t len;
};

#define KEY_HDR(K) ((const struct key_hdr *)(const void *)(K) - 1)

/*
 * Constant time: the length and the first and last 8 bytes. Keys that share
 * a prefix ("http.request.method", "http.route") differ in one of those; a
 * collision only costs a memcmp.
 */
static uint32_t key_hash(const char *k, size_t len)
{
	uint64_t head = 0, tail = 0, h;

	memcpy(&head, k, len < 8 ? len : 8);
	if (len > 8)
		memcpy(&tail, k + len - 8, 8);
	h = head * 0x9e3779b97f4a7c15ull ^ (tail + len) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* Allocate one block with the key (and its header) and the value's payload; fill *out. */
static int attr_copy(struct otel_store *st, const char *key, size_t klen, uint32_t hash,
		     const struct otel_value *v, uint32_t len_limit, struct otel_attribute *out)
{
	size_t koff = sizeof(struct key_hdr) + ALIGN8(klen + 1);
	size_t psize = payload_size(v, len_limit);
	char *blk = otel_store_alloc(st, koff + psize);

	if (!blk)
		return -ENOMEM;
	*(struct key_hdr *)(void *)blk = (struct key_hdr){ hash, (uint32_t)klen };
	memcpy(blk + sizeof(struct key_hdr), key, klen + 1);
	out->key = blk + sizeof(struct key_hdr);
	copy_payload(blk + koff, v, len_limit, &out->value);
	return 0;
}

static void key_release(struct otel_store *st, const char *key)
{
	otel_store_release(st, KEY_HDR(key));
}

static bool value_valid(const struct otel_value *v)
{
	if (v->type <= OTEL_VALUE_NONE || v->type > OTEL_VALUE_DOUBLE_ARRAY)
		return false;
	if (v->type == OTEL_VALUE_STRING && !v->str.ptr && v->str.len)
		return false;
	if (v->type == OTEL_VALUE_BYTES && !v->bytes.ptr && v->bytes.len)
		return false;
	if (v->type >= OTEL_VALUE_STRING_ARRAY && !v->array.items && v->array.count)
		return false;
	return true;
}

static struct otel_attribute *find_hashed(const struct otel_attr_list *l, const char *key,
					  size_t klen, uint32_t hash)
{
	for (uint32_t i = 0; i < l->count; i++) {
		const struct key_hdr *h = KEY_HDR(l->items[i].key);

		if (h->hash == hash && h->len == klen && !memcmp(l->items[i].key, key, klen))
			return &l->items[i];
	}
	return NULL;
}

struct otel_attribute *otel_attr_list_find(const struct otel_attr_list *l, const char *key)
{
	size_t klen = strlen(key);

	return find_hashed(l, key, klen, key_hash(key, klen));
}

static int grow(struct otel_attr_list *l, struct otel_store *st, uint32_t count_limit)
{
	uint32_t cap = l->cap ? l->cap * 2 : 8;
	struct otel_attribute *items;

	if (cap > count_limit)
		cap = count_limit;
	items = otel_store_alloc(st, cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	if (l->count)
		memcpy(items, l->items, l->count * sizeof(*items));
	otel_store_release(st, l->items);
	l->items = items;
	l->cap = cap;
	return 0;
}

int otel_attr_list_set(struct otel_attr_list *l, struct otel_store *st, const char *key,
		       const struct otel_value *value, uint32_t count_limit, uint32_t len_limit)
{
	struct otel_attribute *slot, tmp;
	uint32_t hash;
	size_t klen;

	if (!key || !*key || !value || !value_valid(value))
		return 0;
	klen = strlen(key);
	hash = key_hash(key, klen);
	slot = find_hashed(l, key, klen, hash);
	if (slot) {
		/* Scalars fit in the slot: keep the key's block, allocate nothing. */
		if (value->type == OTEL_VALUE_BOOL || value->type == OTEL_VALUE_INT ||
		    value->type == OTEL_VALUE_DOUBLE) {
			slot->value = *value;
			return 0;
		}
		if (attr_copy(st, key, klen, hash, value, len_limit, &tmp)) {
			l->dropped++;
			return -ENOMEM;
		}
		key_release(st, slot->key);
		*slot = tmp;
		return 0;
	}
	if (l->count >= count_limit) {
		l->dropped++;
		return -ENOSPC;
	}
	if (l->count == l->cap && grow(l, st, count_limit)) {
		l->dropped++;
		return -ENOMEM;
	}
	if (attr_copy(st, key, klen, hash, value, len_limit, &l->items[l->count])) {
		l->dropped++;
		return -ENOMEM;
	}
	l->count++;
	return 0;
}

void otel_attr_list_set_all(struct otel_attr_list *l, struct otel_store *st,
			    const struct otel_attribute *attrs, size_t n, uint32_t count_limit,
			    uint32_t len_limit)
{
	for (size_t i = 0; i < n; i++)
		otel_attr_list_set(l, st, attrs[i].key, &attrs[i].value, count_limit, len_limit);
}

void otel_attr_list_release(struct otel_attr_list *l, struct otel_store *st)
{
	for (uint32_t i = 0; i < l->count; i++)
		key_release(st, l->items[i].key);
	otel_store_release(st, l->items);
	memset(l, 0, sizeof(*l));
}

bool otel_value_equal(const struct otel_value *a, const struct otel_value *b)
{
	size_t n;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case OTEL_VALUE_STRING:
		return a->str.len == b->str.len && !memcmp(a->str.ptr, b->str.ptr, a->str.len);
	case OTEL_VALUE_BOOL:
		return a->b == b->b;
	case OTEL_VALUE_INT:
		return a->i == b->i;
	case OTEL_VALUE_DOUBLE:
		return a->d == b->d;
	case OTEL_VALUE_BYTES:
		return a->bytes.len == b->bytes.len &&
		       (!a->bytes.len || !memcmp(a->bytes.ptr, b->bytes.ptr, a->bytes.len));
	case OTEL_VALUE_STRING_ARRAY:
		if (a->array.count != b->array.count)
			return false;
		for (size_t i = 0; i < a->array.count; i++) {
			const char *x = ((const char *const *)a->array.items)[i];
			const char *y = ((const char *const *)b->array.items)[i];

			if (strcmp(x ? x : "", y ? y : ""))
				return false;
		}
		return true;
	case OTEL_VALUE_BOOL_ARRAY:
		n = sizeof(bool);
		break;
	case OTEL_VALUE_INT_ARRAY:
		n = sizeof(int64_t);
		break;
	case OTEL_VALUE_DOUBLE_ARRAY:
		n = sizeof(double);
		break;
	default:
		return true;
	}
	return a->array.count == b->array.count &&
	       (!a->array.count || !memcmp(a->array.items, b->array.items, n * a->array.count));
}
