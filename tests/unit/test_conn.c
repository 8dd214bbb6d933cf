// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the connection table: identity by (tgid, cookie), fd reuse
 * giving a new connection, LRU eviction at capacity, expiry of idle entries,
 * removal of a process's connections, and release callbacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "conn.h"

static int released;

static void on_release(struct kspan_conn *c, void *ctx)
{
	(void)ctx;
	released++;
	free(c->proto_state);
}

static void test_identity_and_fd_reuse(void **state)
{
	(void)state;
	struct kspan_conn_table *t = kspan_conn_table_new(8, on_release, NULL);
	bool created;

	released = 0;
	struct kspan_conn *a = kspan_conn_get(t, 100, 0xabc, &created);
	assert_true(created);
	a->fd = 5;
	a->proto_state = malloc(16);
	assert_ptr_equal(kspan_conn_get(t, 100, 0xabc, &created), a);
	assert_false(created);
	/* Same fd number, new socket (new cookie): a different connection. */
	struct kspan_conn *b = kspan_conn_get(t, 100, 0xdef, &created);
	assert_true(created);
	assert_ptr_not_equal(a, b);
	/* Same cookie in another process (a socket passed over SCM_RIGHTS): its own entry. */
	struct kspan_conn *c = kspan_conn_get(t, 200, 0xabc, &created);
	assert_true(created);
	assert_ptr_not_equal(a, c);
	assert_null(kspan_conn_lookup(t, 300, 0xabc));
	kspan_conn_remove(t, a);
	assert_int_equal(released, 1);
	assert_null(kspan_conn_lookup(t, 100, 0xabc));
	assert_ptr_equal(kspan_conn_lookup(t, 100, 0xdef), b);
	kspan_conn_table_free(t);
	assert_int_equal(released, 3);
}

static void test_lru_eviction(void **state)
{
	(void)state;
	struct kspan_conn_table *t = kspan_conn_table_new(3, on_release, NULL);
	struct kspan_conn_stats st;
	bool created;

	released = 0;
	for (uint64_t i = 1; i <= 3; i++)
		kspan_conn_get(t, 1, i, &created);
	kspan_conn_lookup(t, 1, 1); /* 2 is now the least recently used */
	kspan_conn_get(t, 1, 4, &created);
	assert_null(kspan_conn_lookup(t, 1, 2));
	assert_non_null(kspan_conn_lookup(t, 1, 1));
	assert_non_null(kspan_conn_lookup(t, 1, 3));
	assert_non_null(kspan_conn_lookup(t, 1, 4));
	kspan_conn_table_stats(t, &st);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.created, 4);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(released, 1);
	kspan_conn_table_free(t);
}

static void test_expire_and_remove_process(void **state)
{
	(void)state;
	struct kspan_conn_table *t = kspan_conn_table_new(100, NULL, NULL);
	struct kspan_conn_stats st;
	bool created;

	for (uint64_t i = 0; i < 10; i++)
		kspan_conn_get(t, i < 4 ? 7 : 8, i, &created)->last_ns = 1000 + i;
	assert_int_equal(kspan_conn_expire(t, 1003), 3); /* 1000, 1001, 1002 */
	assert_null(kspan_conn_lookup(t, 7, 2));
	assert_non_null(kspan_conn_lookup(t, 7, 3));
	assert_int_equal(kspan_conn_remove_process(t, 8), 6);
	assert_int_equal(kspan_conn_remove_process(t, 8), 0);
	kspan_conn_table_stats(t, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.expired, 3);
	kspan_conn_table_free(t);
}

static void test_many_connections(void **state)
{
	(void)state;
	struct kspan_conn_table *t = kspan_conn_table_new(4096, NULL, NULL);
	bool created;

	for (uint64_t i = 0; i < 4096; i++)
		kspan_conn_get(t, (uint32_t)(i % 13), i * 0x9e3779b97f4a7c15ull, &created);
	for (uint64_t i = 0; i < 4096; i++) {
		struct kspan_conn *c = kspan_conn_lookup(t, (uint32_t)(i % 13), i * 0x9e3779b97f4a7c15ull);

		assert_non_null(c);
		assert_int_equal(c->cookie, i * 0x9e3779b97f4a7c15ull);
	}
	assert_null(kspan_conn_table_new(0, NULL, NULL));
	kspan_conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_fd_reuse),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_expire_and_remove_process),
		cmocka_unit_test(test_many_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
