/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attribute storage shared by spans, events, links, resources and scopes:
 * copying values (with the value-length limit applied at a UTF-8 character
 * boundary), de-duplicating keys (a later set overwrites), and the count limit.
 *
 * Memory comes from an otel_store: a fixed bump region (a span's inline
 * arena, so a typical span needs a single malloc) with malloc for the rest.
 * Blocks outside the region are freed individually when overwritten, so
 * repeated overwrites cannot grow memory without bound.
 */
#ifndef OTEL_SRC_ATTRS_H
#define OTEL_SRC_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <otel/common.h>

struct otel_store {
	char *base, *cur, *end; /* bump region; all NULL for a heap-only store */
	bool heap_used; /* some block came from malloc: releasing has work to do */
};

/* The shared empty string: never freed. */
extern const char otel_empty_str[1];

static inline void otel_store_init(struct otel_store *st, void *mem, size_t size)
{
	st->base = st->cur = mem;
	st->end = mem ? (char *)mem + size : NULL;
	st->heap_used = false;
}

/* size bytes aligned to 8, from the region or malloc; NULL on ENOMEM. */
void *otel_store_alloc(struct otel_store *st, size_t size);
/* Free a block from otel_store_alloc() unless it lives in the region; accepts NULL. */
void otel_store_release(struct otel_store *st, const void *p);
/* A NUL-terminated copy of len bytes (otel_empty_str when len is 0). */
char *otel_store_strndup(struct otel_store *st, const char *s, size_t len);

/* Bytes in the longest prefix of s[0..len) holding at most max_chars UTF-8 characters. */
size_t otel_utf8_prefix(const char *s, size_t len, uint32_t max_chars);

struct otel_attr_list {
	struct otel_attribute *items;
	uint32_t count;
	uint32_t cap;
	uint32_t dropped;
};

/*
 * Set key=value in the list: overwrite when the key exists; append when under
 * count_limit, else count a drop. Invalid (NULL/empty key, NONE value) is
 * ignored. Returns 0, -ENOSPC (dropped) or -ENOMEM (dropped too).
 */
int otel_attr_list_set(struct otel_attr_list *l, struct otel_store *st, const char *key,
		       const struct otel_value *value, uint32_t count_limit, uint32_t len_limit);
/* Add every attribute of the array with otel_attr_list_set(). */
void otel_attr_list_set_all(struct otel_attr_list *l, struct otel_store *st,
			    const struct otel_attribute *attrs, size_t n, uint32_t count_limit,
			    uint32_t len_limit);
/* The entry for key or NULL. */
struct otel_attribute *otel_attr_list_find(const struct otel_attr_list *l, const char *key);
/* Free everything the list owns (outside the region); the list is empty after. */
void otel_attr_list_release(struct otel_attr_list *l, struct otel_store *st);

/* Equality of two values (type and content). */
bool otel_value_equal(const struct otel_value *a, const struct otel_value *b);

#endif
