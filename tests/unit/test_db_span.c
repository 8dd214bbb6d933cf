// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of database span descriptions (userspace/db_span.c): for SQL
 * (PostgreSQL, MySQL, SQLite) and Redis exchanges, the exact name, kind,
 * status and the exact list of attributes in order; the opt-ins (literals,
 * error messages, returned rows) off by default; errors with and without a
 * code; batches; prepared and unknown statements; the name's fallbacks
 * (namespace, address:port, system); Redis argument masking by command; and
 * bounds on hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "db_span.h"

#define S(x) ((struct kspan_str){ (x), sizeof(x) - 1 })
#define STR(x) ((struct kspan_str){ (x), strlen(x) })

static struct kspan_conn conn_v4(uint16_t port)
{
	struct kspan_conn c = { .role = KSPAN_ROLE_CLIENT };

	c.local = (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },
				       .family = AF_INET,
				       .port = 40000 };
	c.remote = (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 },
					.family = AF_INET,
					.port = port };
	return c;
}

static struct kspan_db_exchange sql(const char *system, const char *query)
{
	return (struct kspan_db_exchange){
		.system = system,
		.query = STR(query),
		.command = S(""),
		.db_namespace = S("shop"),
		.user = S("app"),
		.status_code = S(""),
		.error_message = S(""),
		.rows = -1,
	};
}

static struct kspan_db_exchange redis(const char *command, const char *query)
{
	struct kspan_db_exchange x = sql("redis", query);

	x.command = STR(command);
	x.db_namespace = S("0");
	return x;
}

static const struct otel_attribute *attr(const struct kspan_db_span *s, const char *key)
{
	for (size_t i = 0; i < s->n_attrs; i++)
		if (!strcmp(s->attrs[i].key, key))
			return &s->attrs[i];
	return NULL;
}

static const char *str(const struct kspan_db_span *s, const char *key)
{
	static char buf[8192];
	const struct otel_attribute *a = attr(s, key);

	if (!a)
		fail_msg("no attribute %s", key);
	assert_int_equal(a->value.type, OTEL_VALUE_STRING);
	assert_true(a->value.str.len < sizeof(buf));
	memcpy(buf, a->value.str.ptr, a->value.str.len);
	buf[a->value.str.len] = '\0';
	return buf;
}

static int64_t num(const struct kspan_db_span *s, const char *key)
{
	const struct otel_attribute *a = attr(s, key);

	if (!a)
		fail_msg("no attribute %s", key);
	assert_int_equal(a->value.type, OTEL_VALUE_INT);
	return a->value.i;
}

/* The attribute keys, in order, are exactly the NULL-terminated list given. */
static void expect_keys(const struct kspan_db_span *s, ...)
{
	va_list ap;
	size_t i = 0;
	const char *k;

	va_start(ap, s);
	while ((k = va_arg(ap, const char *))) {
		if (i >= s->n_attrs)
			fail_msg("attribute %zu: missing, want %s", i, k);
		if (strcmp(s->attrs[i].key, k))
			fail_msg("attribute %zu: %s, want %s", i, s->attrs[i].key, k);
		i++;
	}
	va_end(ap);
	if (i != s->n_attrs)
		fail_msg("%zu attributes, want %zu (extra: %s)", s->n_attrs, i, s->attrs[i].key);
}

static struct kspan_db_span span;

static void describe(const struct kspan_conn *c, const struct kspan_db_exchange *x,
		     const struct kspan_db_span_opts *opts)
{
	memset(&span, 'X', sizeof(span));
	assert_int_equal(kspan_db_span_describe(&span, c, x, opts), 0);
	assert_int_equal(span.kind, OTEL_SPAN_KIND_CLIENT);
}

static void test_postgresql_select(void **state)
{
	struct kspan_conn c = conn_v4(5432);
	struct kspan_db_exchange x = sql("postgresql", "SELECT * FROM orders WHERE id = 42");

	(void)state;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "SELECT orders");
	assert_false(span.error);
	assert_null(span.status_description);
	expect_keys(&span, "db.system.name", "db.namespace", "db.operation.name",
		    "db.collection.name", "db.query.summary", "db.query.text", "server.address",
		    "server.port", "network.peer.address", "network.peer.port", NULL);
	assert_string_equal(str(&span, "db.system.name"), "postgresql");
	assert_string_equal(str(&span, "db.namespace"), "shop");
	assert_string_equal(str(&span, "db.operation.name"), "SELECT");
	assert_string_equal(str(&span, "db.collection.name"), "orders");
	assert_string_equal(str(&span, "db.query.summary"), "SELECT orders");
	assert_string_equal(str(&span, "db.query.text"), "SELECT * FROM orders WHERE id = ?");
	assert_string_equal(str(&span, "server.address"), "10.0.0.5");
	assert_int_equal(num(&span, "server.port"), 5432);
	assert_string_equal(str(&span, "network.peer.address"), "10.0.0.5");
	assert_int_equal(num(&span, "network.peer.port"), 5432);

	/* The literal is exported only when asked for. */
	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_literals = true });
	assert_string_equal(str(&span, "db.query.text"), "SELECT * FROM orders WHERE id = 42");

	/* Joins: a summary naming both, no single collection. */
	x = sql("postgresql", "SELECT o.id FROM orders o JOIN customers c ON c.id = o.cid "
			      "WHERE c.email = 'bob@example.com'");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "SELECT orders customers");
	assert_null(attr(&span, "db.collection.name"));
	assert_string_equal(str(&span, "db.operation.name"), "SELECT");
	assert_string_equal(str(&span, "db.query.text"),
			    "SELECT o.id FROM orders o JOIN customers c ON c.id = o.cid WHERE "
			    "c.email = ?");
}

static void test_sql_errors(void **state)
{
	struct kspan_conn c = conn_v4(5432);
	struct kspan_db_exchange x =
		sql("postgresql", "INSERT INTO users (email) VALUES ('bob@example.com')");

	(void)state;
	x.error = true;
	x.status_code = S("23505");
	x.error_message = S("duplicate key value violates unique constraint \"users_email_key\"");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "INSERT users");
	assert_true(span.error);
	/* The message can quote the data: not exported by default. */
	assert_null(span.status_description);
	expect_keys(&span, "db.system.name", "db.namespace", "db.operation.name",
		    "db.collection.name", "db.query.summary", "db.query.text",
		    "db.response.status_code", "error.type", "server.address", "server.port",
		    "network.peer.address", "network.peer.port", NULL);
	assert_string_equal(str(&span, "db.response.status_code"), "23505");
	assert_string_equal(str(&span, "error.type"), "23505");
	assert_string_equal(str(&span, "db.query.text"), "INSERT INTO users (email) VALUES (?)");

	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_error_message = true });
	assert_string_equal(span.status_description,
			    "duplicate key value violates unique constraint \"users_email_key\"");

	/* No code from the server: error.type falls back to _OTHER, no status code. */
	x.status_code = S("");
	describe(&c, &x, NULL);
	assert_true(span.error);
	assert_null(attr(&span, "db.response.status_code"));
	assert_string_equal(str(&span, "error.type"), "_OTHER");

	/* A MySQL error number; a long message is cut to the buffer. */
	char longmsg[1000];

	memset(longmsg, 'm', sizeof(longmsg));
	x = sql("mysql", "SELECT * FROM nope");
	x.error = true;
	x.status_code = S("1146");
	x.error_message = (struct kspan_str){ longmsg, sizeof(longmsg) };
	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_error_message = true });
	assert_string_equal(str(&span, "error.type"), "1146");
	assert_int_equal(strlen(span.status_description), KSPAN_DB_ERROR_MAX - 1);
}

static void test_batches_and_rows(void **state)
{
	struct kspan_conn c = conn_v4(3306);
	struct kspan_db_exchange x = sql("mariadb", "SELECT name FROM users WHERE id > 10");
	const struct kspan_db_span_opts rows = { .capture_returned_rows = true };

	(void)state;
	x.rows = 7;
	x.batch_size = 1;
	describe(&c, &x, NULL);
	/* A batch of one is no batch; returned rows are opt-in. */
	assert_null(attr(&span, "db.operation.batch.size"));
	assert_null(attr(&span, "db.response.returned_rows"));
	describe(&c, &x, &rows);
	assert_int_equal(num(&span, "db.response.returned_rows"), 7);
	x.batch_size = 3;
	describe(&c, &x, &rows);
	expect_keys(&span, "db.system.name", "db.namespace", "db.operation.name",
		    "db.collection.name", "db.query.summary", "db.query.text",
		    "db.operation.batch.size", "db.response.returned_rows", "server.address",
		    "server.port", "network.peer.address", "network.peer.port", NULL);
	assert_int_equal(num(&span, "db.operation.batch.size"), 3);
	assert_string_equal(str(&span, "db.system.name"), "mariadb");

	/* Rows of an UPDATE are affected, not returned; unknown counts are not reported. */
	x = sql("mysql", "UPDATE users SET active = 0 WHERE last_seen < '2020-01-01'");
	x.rows = 3;
	describe(&c, &x, &rows);
	assert_null(attr(&span, "db.response.returned_rows"));
	assert_string_equal(str(&span, "db.query.text"),
			    "UPDATE users SET active = ? WHERE last_seen < ?");
	x = sql("mysql", "SELECT 1");
	describe(&c, &x, &rows);
	assert_null(attr(&span, "db.response.returned_rows"));
}

static void test_statement_kinds(void **state)
{
	struct kspan_conn c = conn_v4(5432);
	struct kspan_db_exchange x = sql("postgresql", "SELECT * FROM orders WHERE id = $1");

	(void)state;
	/* Only prepared: its own operation, the statement's summary after it. */
	x.flags = KSPAN_DB_F_PREPARE;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "PREPARE SELECT orders");
	assert_string_equal(str(&span, "db.operation.name"), "PREPARE");
	assert_string_equal(str(&span, "db.query.summary"), "PREPARE SELECT orders");
	assert_string_equal(str(&span, "db.collection.name"), "orders");
	assert_string_equal(str(&span, "db.query.text"), "SELECT * FROM orders WHERE id = $1");
	/* Executed from a prepared statement: the statement's own description. */
	x.flags = KSPAN_DB_F_PREPARED;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "SELECT orders");

	/* Text never seen: the namespace names the span. */
	x = sql("postgresql", "");
	x.flags = KSPAN_DB_F_TEXT_UNKNOWN;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "shop");
	expect_keys(&span, "db.system.name", "db.namespace", "server.address", "server.port",
		    "network.peer.address", "network.peer.port", NULL);

	/* Several statements: a summary, no single operation. */
	x = sql("postgresql", "BEGIN; UPDATE accounts SET balance = balance - 100 WHERE id = 1; "
			      "COMMIT");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "BEGIN; UPDATE accounts; COMMIT");
	assert_null(attr(&span, "db.operation.name"));
	assert_null(attr(&span, "db.collection.name"));
	assert_string_equal(
		str(&span, "db.query.text"),
		"BEGIN; UPDATE accounts SET balance = balance - ? WHERE id = ?; COMMIT");

	/* A procedure call. */
	x = sql("mysql", "CALL add_points(42, 'bonus')");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "CALL add_points");
	assert_string_equal(str(&span, "db.stored_procedure.name"), "add_points");
	assert_null(attr(&span, "db.collection.name"));

	/* SQLite: the file is the namespace, no peer. */
	struct kspan_conn none = { 0 };

	x = sql("sqlite", "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT "
			  "DEFAULT 'none')");
	x.db_namespace = S("/var/lib/app/notes.db");
	describe(&none, &x, NULL);
	assert_string_equal(span.name, "CREATE TABLE notes");
	expect_keys(&span, "db.system.name", "db.namespace", "db.operation.name",
		    "db.collection.name", "db.query.summary", "db.query.text", NULL);
	assert_string_equal(str(&span, "db.operation.name"), "CREATE TABLE");
	assert_string_equal(str(&span, "db.query.text"),
			    "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT "
			    "DEFAULT ?)");
}

static void test_name_fallbacks(void **state)
{
	struct kspan_conn c = conn_v4(5433);
	struct kspan_db_exchange x = sql("postgresql", "frobnicate the widgets");

	(void)state;
	/* No operation: {target} = db.namespace, then address:port, then the system. */
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "shop");
	assert_null(attr(&span, "db.query.summary"));
	assert_null(attr(&span, "db.operation.name"));
	assert_string_equal(str(&span, "db.query.text"), "frobnicate the widgets");
	x.db_namespace = S("");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "10.0.0.5:5433");
	c.remote = (struct kspan_addr){ .addr = { [15] = 1 }, .family = AF_INET6, .port = 5433 };
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "[::1]:5433");
	assert_string_equal(str(&span, "server.address"), "::1");
	c.remote.family = 0;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "postgresql");
	assert_null(attr(&span, "server.address"));
	assert_null(attr(&span, "network.peer.port"));
}

/* MySQL commands without a statement are named by the command the protocol names. */
static void test_commands_without_statement(void **state)
{
	struct kspan_conn c = conn_v4(3306);
	struct kspan_db_exchange x = sql("mysql", "");

	(void)state;
	x.command = S("COM_PING");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "COM_PING");
	assert_string_equal(str(&span, "db.operation.name"), "COM_PING");
	assert_string_equal(str(&span, "db.query.summary"), "COM_PING");
	assert_null(attr(&span, "db.query.text"));
	/* An execute of a statement prepared before the agent: no text, the command. */
	x.command = S("COM_STMT_EXECUTE");
	x.flags = KSPAN_DB_F_TEXT_UNKNOWN;
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "COM_STMT_EXECUTE");
	assert_null(attr(&span, "db.query.text"));
	/* The statement's text wins over the command when there is one. */
	x = sql("mysql", "SELECT id FROM orders WHERE id = 7");
	x.command = S("COM_STMT_EXECUTE");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "SELECT orders");
	assert_string_equal(str(&span, "db.query.text"), "SELECT id FROM orders WHERE id = ?");
}

static void test_redis_commands(void **state)
{
	static const struct {
		const char *command, *query, *text;
	} cases[] = {
		{ "SET", "SET user:1 {\"name\":\"bob\"}", "SET user:1 ?" },
		{ "SET", "SET k hello world EX 10", "SET k ? ? ? ?" },
		{ "GET", "GET user:1", "GET user:1" },
		{ "GET", "get user:1", "get user:1" },
		{ "HMSET", "HMSET myhash field1 Hello field2 World", "HMSET myhash ? ? ? ?" },
		{ "HGET", "HGET myhash field1", "HGET myhash field1" },
		{ "MSET", "MSET a 1 b 2", "MSET ? ? ? ?" },
		{ "AUTH", "AUTH hunter2", "AUTH ?" },
		{ "AUTH", "AUTH default hunter2", "AUTH ? ?" },
		{ "HELLO", "HELLO 3 AUTH default hunter2", "HELLO 3 ? ? ?" },
		{ "CONFIG SET", "CONFIG SET requirepass hunter2", "CONFIG SET requirepass ?" },
		{ "CONFIG GET", "CONFIG GET maxmemory", "CONFIG GET maxmemory" },
		{ "ACL SETUSER", "ACL SETUSER bob on >pw ~* +@all", "ACL SETUSER ? ? ? ? ?" },
		{ "CLIENT SETNAME", "CLIENT SETNAME worker-1", "CLIENT SETNAME worker-1" },
		{ "LPUSH", "LPUSH jobs {\"id\":1} {\"id\":2}", "LPUSH jobs ? ?" },
		{ "ZADD", "ZADD board 100 alice", "ZADD board ? ?" },
		{ "ZRANGE", "ZRANGE board 0 -1 WITHSCORES", "ZRANGE board 0 -1 WITHSCORES" },
		{ "PUBLISH", "PUBLISH news hello", "PUBLISH news ?" },
		{ "SETEX", "SETEX session:9 3600 token", "SETEX session:9 3600 ?" },
		{ "EXPIRE", "EXPIRE k 60", "EXPIRE k 60" },
		{ "DEL", "DEL a b c", "DEL a b c" },
		{ "XADD", "XADD s * temp 21", "XADD s * ? ?" },
		/* (these also name the span "EVALSHA 1f2e3d": see test_redis_span) */
		{ "EVALSHA", "EVALSHA 1f2e3d 2 k1 k2 a1 a2", "EVALSHA 1f2e3d 2 k1 k2 ? ?" },
		{ "EVALSHA", "EVALSHA 1f2e3d x k1 a1", "EVALSHA 1f2e3d x ? ?" },
		{ "EVAL", "EVAL return redis.call('get', KEYS[1]) 1 k", "EVAL ? ? ? ? ?" },
		{ "PING", "PING", "PING" },
		{ "GEOADD", "GEOADD home 13.4 52.5 me", "GEOADD ? ? ? ?" },
		{ "FOO", "FOO bar baz", "FOO ? ?" },
	};
	struct kspan_conn c = conn_v4(6379);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kspan_db_exchange x = redis(cases[i].command, cases[i].query);

		describe(&c, &x, NULL);
		if (strcmp(str(&span, "db.query.text"), cases[i].text))
			fail_msg("redis \"%s\": gave \"%s\", want \"%s\"", cases[i].query,
				 str(&span, "db.query.text"), cases[i].text);
		assert_string_equal(str(&span, "db.operation.name"), cases[i].command);
		if (strcmp(cases[i].command, "EVALSHA"))
			assert_string_equal(span.name, cases[i].command);
	}
}

static void test_redis_span(void **state)
{
	struct kspan_conn c = conn_v4(6379);
	struct kspan_db_exchange x = redis("HMSET", "HMSET myhash field1 Hello field2 World");

	(void)state;
	describe(&c, &x, NULL);
	/* The namespace (a database index) is an attribute, not part of the name. */
	assert_string_equal(span.name, "HMSET");
	expect_keys(&span, "db.system.name", "db.namespace", "db.operation.name", "db.query.text",
		    "server.address", "server.port", "network.peer.address", "network.peer.port",
		    NULL);
	assert_string_equal(str(&span, "db.system.name"), "redis");
	assert_string_equal(str(&span, "db.namespace"), "0");
	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_literals = true });
	assert_string_equal(str(&span, "db.query.text"), "HMSET myhash field1 Hello field2 World");

	/* Functions and scripts by sha name their procedure. */
	x = redis("FCALL", "FCALL myfunc 1 key1 arg1");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "FCALL myfunc");
	assert_string_equal(str(&span, "db.stored_procedure.name"), "myfunc");
	assert_string_equal(str(&span, "db.query.text"), "FCALL myfunc 1 key1 ?");
	x = redis("EVALSHA", "EVALSHA 1f2e3d 0");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "EVALSHA 1f2e3d");
	assert_string_equal(str(&span, "db.stored_procedure.name"), "1f2e3d");

	/* An error reply, in a pipeline; returned rows are SQL only. */
	x = redis("INCR", "INCR name");
	x.error = true;
	x.status_code = S("WRONGTYPE");
	x.error_message = S("Operation against a key holding the wrong kind of value");
	x.batch_size = 5;
	x.rows = 2;
	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_returned_rows = true });
	assert_true(span.error);
	assert_null(span.status_description);
	assert_string_equal(str(&span, "db.response.status_code"), "WRONGTYPE");
	assert_string_equal(str(&span, "error.type"), "WRONGTYPE");
	assert_int_equal(num(&span, "db.operation.batch.size"), 5);
	assert_null(attr(&span, "db.response.returned_rows"));

	/* The parser's command name wins; without one, the first word as sent. */
	x = redis("", "get k");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "get");
	x = redis("QUIT", "");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "QUIT");
	assert_null(attr(&span, "db.query.text"));
	/* Nothing at all: address:port. */
	x = redis("", "");
	describe(&c, &x, NULL);
	assert_string_equal(span.name, "10.0.0.5:6379");
	assert_null(attr(&span, "db.operation.name"));
}

static void test_bounds(void **state)
{
	struct kspan_conn c = conn_v4(6379);
	struct kspan_db_exchange x;
	size_t big = 3 * KSPAN_DB_QUERY_MAX;
	char *q = malloc(big + 1);

	(void)state;
	assert_non_null(q);
	/* A Redis line far longer than kept: whole arguments only, all masked. */
	memcpy(q, "SADD s", 6);
	for (size_t i = 6; i < big; i += 2)
		memcpy(q + i, " x", 2);
	q[big] = '\0';
	x = redis("SADD", q);
	describe(&c, &x, NULL);
	const char *t = str(&span, "db.query.text");

	assert_true(strlen(t) <= KSPAN_DB_QUERY_MAX);
	assert_memory_equal(t, "SADD s ? ?", 10);
	assert_int_equal(t[strlen(t) - 1], '?');
	/* SQL kept as sent is cut to the buffer too. */
	memset(q, 'a', big);
	memcpy(q, "SELECT '", 8);
	x = sql("postgresql", q);
	describe(&c, &x, &(struct kspan_db_span_opts){ .capture_literals = true });
	assert_int_equal(strlen(str(&span, "db.query.text")), KSPAN_DB_QUERY_MAX);
	describe(&c, &x, NULL);
	assert_string_equal(str(&span, "db.query.text"), "SELECT ?");
	/* Binary in a key is kept as bytes (the exporter repairs UTF-8). */
	x = redis("GET", "GET \xff\x01k");
	describe(&c, &x, NULL);
	assert_string_equal(str(&span, "db.query.text"), "GET \xff\x01k");
	free(q);

	/* Bad arguments. */
	x = sql("postgresql", "SELECT 1");
	assert_int_equal(kspan_db_span_describe(NULL, &c, &x, NULL), -EINVAL);
	assert_int_equal(kspan_db_span_describe(&span, NULL, &x, NULL), -EINVAL);
	assert_int_equal(kspan_db_span_describe(&span, &c, NULL, NULL), -EINVAL);
	x.system = NULL;
	assert_int_equal(kspan_db_span_describe(&span, &c, &x, NULL), -EINVAL);
	assert_int_equal(span.n_attrs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postgresql_select), cmocka_unit_test(test_sql_errors),
		cmocka_unit_test(test_batches_and_rows),  cmocka_unit_test(test_statement_kinds),
		cmocka_unit_test(test_name_fallbacks),	  cmocka_unit_test(test_redis_commands),
		cmocka_unit_test(test_redis_span),	  cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_commands_without_statement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
