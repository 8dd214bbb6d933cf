// SPDX-License-Identifier: Apache-2.0
/*
 * The connection table (see conn.h): a chained hash table sized to a power
 * of two at twice the capacity, plus a doubly linked LRU list whose head is
 * the most recently used entry.
 */
#include <errno.h>
#include <stdlib.h>
#include "conn.h"

struct kspan_conn_table {
	struct kspan_conn **buckets;
	size_t mask;
	size_t capacity;
	struct kspan_conn *lru_head, *lru_tail;
	kspan_conn_release_fn release;
	void *ctx;
	struct kspan_conn_stats stats;
};

static size_t bucket_of(const struct kspan_conn_table *t, uint32_t tgid, uint64_t cookie)
{
	uint64_t h = cookie ^ ((uint64_t)tgid << 32 | tgid);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & t->mask;
}

struct kspan_conn_table *kspan_conn_table_new(size_t capacity, kspan_conn_release_fn release,
					      void *ctx)
{
	struct kspan_conn_table *t;
	size_t n = 16;

	if (!capacity || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < capacity * 2)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->capacity = capacity;
	t->release = release;
	t->ctx = ctx;
	return t;
}

static void lru_unlink(struct kspan_conn_table *t, struct kspan_conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_push_front(struct kspan_conn_table *t, struct kspan_conn *c)
{
	c->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = c;
	t->lru_head = c;
	if (!t->lru_tail)
		t->lru_tail = c;
}

struct kspan_conn *kspan_conn_lookup(struct kspan_conn_table *t, uint32_t tgid, uint64_t cookie)
{
	struct kspan_conn *c = t->buckets[bucket_of(t, tgid, cookie)];

	while (c && (c->tgid != tgid || c->cookie != cookie))
		c = c->hash_next;
	if (c && c != t->lru_head) {
		lru_unlink(t, c);
		lru_push_front(t, c);
	}
	return c;
}

void kspan_conn_remove(struct kspan_conn_table *t, struct kspan_conn *c)
{
	struct kspan_conn **pp = &t->buckets[bucket_of(t, c->tgid, c->cookie)];

	while (*pp && *pp != c)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = c->hash_next;
	lru_unlink(t, c);
	if (t->release)
		t->release(c, t->ctx);
	free(c);
	t->stats.live--;
}

struct kspan_conn *kspan_conn_get(struct kspan_conn_table *t, uint32_t tgid, uint64_t cookie,
				  bool *created)
{
	struct kspan_conn *c = kspan_conn_lookup(t, tgid, cookie);
	size_t b;

	*created = false;
	if (c)
		return c;
	if (t->stats.live >= t->capacity) {
		kspan_conn_remove(t, t->lru_tail);
		t->stats.evicted++;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tgid = tgid;
	c->cookie = cookie;
	c->fd = -1;
	b = bucket_of(t, tgid, cookie);
	c->hash_next = t->buckets[b];
	t->buckets[b] = c;
	lru_push_front(t, c);
	t->stats.live++;
	t->stats.created++;
	*created = true;
	return c;
}

size_t kspan_conn_remove_process(struct kspan_conn_table *t, uint32_t tgid)
{
	struct kspan_conn *c = t->lru_head, *next;
	size_t n = 0;

	for (; c; c = next) {
		next = c->lru_next;
		if (c->tgid == tgid) {
			kspan_conn_remove(t, c);
			n++;
		}
	}
	return n;
}

size_t kspan_conn_expire(struct kspan_conn_table *t, uint64_t older_than_ns)
{
	size_t n = 0;

	/* The tail is the least recently used: stop at the first entry still in use. */
	while (t->lru_tail && t->lru_tail->last_ns < older_than_ns) {
		kspan_conn_remove(t, t->lru_tail);
		n++;
	}
	t->stats.expired += n;
	return n;
}

void kspan_conn_table_stats(const struct kspan_conn_table *t, struct kspan_conn_stats *out)
{
	*out = t->stats;
}

void kspan_conn_table_free(struct kspan_conn_table *t)
{
	if (!t)
		return;
	while (t->lru_head)
		kspan_conn_remove(t, t->lru_head);
	free(t->buckets);
	free(t);
}
