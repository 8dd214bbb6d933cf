/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection table: what the agent knows about each traced socket,
 * keyed by (tgid, socket cookie). The cookie identifies the socket itself,
 * so a reused fd number is a new connection and threads of one process
 * share theirs. Bounded: past the capacity the least recently used entry is
 * evicted (counted), and idle entries expire.
 */
#ifndef KSPAN_CONN_H
#define KSPAN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "kspan.h"

struct kspan_conn {
	uint32_t tgid;
	uint64_t cookie;
	int32_t fd;
	uint32_t role; /* enum kspan_role */
	struct kspan_addr local;
	struct kspan_addr remote;
	uint64_t last_ns; /* last activity, kernel monotonic ns */
	/* Protocol tracking, owned by the caller (parser state and its kind). */
	uint32_t proto;
	void *proto_state;
	/* internal: LRU list and hash chain */
	struct kspan_conn *lru_prev, *lru_next;
	struct kspan_conn *hash_next;
};

struct kspan_conn_table;

/* Called for each entry removed by the table itself (evicted or expired) or by remove. */
typedef void (*kspan_conn_release_fn)(struct kspan_conn *c, void *ctx);

/**
 * @brief A table holding at most @p capacity connections.
 * @param release called before an entry is freed (to free proto_state), may be NULL
 * @return the table, or NULL with errno EINVAL/ENOMEM
 */
struct kspan_conn_table *kspan_conn_table_new(size_t capacity, kspan_conn_release_fn release,
					      void *ctx);
/** @brief Free every entry (calling release) and the table; accepts NULL. */
void kspan_conn_table_free(struct kspan_conn_table *t);

/** @brief The entry or NULL; a hit marks it recently used. */
struct kspan_conn *kspan_conn_lookup(struct kspan_conn_table *t, uint32_t tgid, uint64_t cookie);
/**
 * @brief The entry, created zeroed (with tgid and cookie set) when missing;
 * @p created tells which. Evicts the least recently used entry when full.
 * @return NULL only on ENOMEM
 */
struct kspan_conn *kspan_conn_get(struct kspan_conn_table *t, uint32_t tgid, uint64_t cookie,
				  bool *created);
/** @brief Remove and free an entry (calling release). */
void kspan_conn_remove(struct kspan_conn_table *t, struct kspan_conn *c);
/** @brief Remove every connection of a process (it exited). Returns how many. */
size_t kspan_conn_remove_process(struct kspan_conn_table *t, uint32_t tgid);
/** @brief Remove entries idle since before @p older_than_ns. Returns how many. */
size_t kspan_conn_expire(struct kspan_conn_table *t, uint64_t older_than_ns);

struct kspan_conn_stats {
	size_t live;
	uint64_t created;
	uint64_t evicted; /* pushed out by a full table */
	uint64_t expired;
};
void kspan_conn_table_stats(const struct kspan_conn_table *t, struct kspan_conn_stats *out);

#endif
