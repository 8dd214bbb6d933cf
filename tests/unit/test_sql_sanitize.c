// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of SQL sanitizing and summarizing (userspace/sql_sanitize.c):
 * tables of real-world statements per dialect (pgbench, ORMs, mysqldump,
 * SQLite shells, the semantic conventions' own examples) with the exact text,
 * summary, operation and collection they must give; then hostile input (cut
 * literals, NULs, control and non-UTF-8 bytes, thousands of quotes, deep
 * parentheses, huge IN lists), the output bounds (small buffers, input that
 * is not NUL-terminated) and two properties checked over every table entry:
 * sanitizing is idempotent (so no literal survives) and the summary of the
 * sanitized text is the summary of the original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sql_sanitize.h"

#define PG KSPAN_SQL_POSTGRESQL
#define MY KSPAN_SQL_MYSQL
#define LITE KSPAN_SQL_SQLITE
#define STD KSPAN_SQL_STANDARD

static const char *dialect_name(enum kspan_sql_dialect d)
{
	return d == PG ? "pg" : d == MY ? "mysql" : d == LITE ? "sqlite" : "standard";
}

static void expect_text_n(enum kspan_sql_dialect d, const char *in, size_t len, const char *want)
{
	char out[8192];
	size_t n;

	memset(out, 'X', sizeof(out));
	n = kspan_sql_sanitize(in, len, d, out, sizeof(out));
	if (n != strlen(want) || strcmp(out, want))
		fail_msg("%s sanitize(\"%s\")\n  gave \"%s\" (%zu)\n  want \"%s\"", dialect_name(d),
			 in, out, n, want);
}

static void expect_text(enum kspan_sql_dialect d, const char *in, const char *want)
{
	expect_text_n(d, in, strlen(in), want);
}

static void expect_summary(enum kspan_sql_dialect d, const char *in, const char *text,
			   const char *op, const char *coll)
{
	struct kspan_sql_summary s;

	memset(&s, 'X', sizeof(s));
	kspan_sql_summarize(in, strlen(in), d, &s);
	if (strcmp(s.text, text) || strcmp(s.operation, op) || strcmp(s.collection, coll))
		fail_msg("%s summarize(\"%s\")\n  gave [%s] op [%s] coll [%s]\n  want [%s] op [%s] "
			 "coll [%s]",
			 dialect_name(d), in, s.text, s.operation, s.collection, text, op, coll);
}

struct text_case {
	enum kspan_sql_dialect d;
	const char *in, *want;
};

static const struct text_case text_cases[] = {
	/* pgbench, simple protocol: literals go, the rest stays as written. */
	{ PG, "SELECT abalance FROM pgbench_accounts WHERE aid = 48291;",
	  "SELECT abalance FROM pgbench_accounts WHERE aid = ?;" },
	{ PG, "UPDATE pgbench_tellers SET tbalance = tbalance + -2914 WHERE tid = 7;",
	  "UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?;" },
	{ PG,
	  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 48291, -2914, "
	  "CURRENT_TIMESTAMP);",
	  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, "
	  "CURRENT_TIMESTAMP);" },
	/* pgbench, extended protocol: parameters are not literals. */
	{ PG, "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
	  "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2" },
	/* Numbers of every form; a sign is part of a number only where it is not binary. */
	{ PG, "SELECT 1.5e-3, .5, 2E+9, 0x1F, 0xdeadBEEF, 123-45-6789, 1/2/34",
	  "SELECT ?, ?, ?, ?, ?, ?-?-?, ?/?/?" },
	{ PG, "SELECT -1, - 1, a-1, a - -1, (1)-1, x=-1, x>=-.5, +7",
	  "SELECT ?, - ?, a-?, a - ?, (?)-?, x=?, x>=?, ?" },
	{ PG, "SELECT t1.c2, FIELD2, TABLE_123, A + B FROM t1",
	  "SELECT t1.c2, FIELD2, TABLE_123, A + B FROM t1" },
	{ PG, "SELECT TRUE, FALSE, NULL, DEFAULT", "SELECT TRUE, FALSE, NULL, DEFAULT" },
	/* Typed and prefixed literals (pg_stat_statements replaces the same constants). */
	{ PG, "SELECT * FROM events WHERE day > DATE '2024-01-31' AND age < INTERVAL '1 day'",
	  "SELECT * FROM events WHERE day > DATE ? AND age < INTERVAL ?" },
	{ PG, "SELECT '{1,2,3}'::int[], ARRAY[1, 2], X'1F', B'0101', N'abc', U&'d\\0061t'",
	  "SELECT ?::int[], ARRAY[?, ?], ?, ?, ?, U&?" },
	/* Escapes: '' everywhere, backslashes only in E'' strings. */
	{ PG, "SELECT * FROM t WHERE a = 'it''s' OR b = E'it\\'s' OR c = 'C:\\' OR d = 'x'",
	  "SELECT * FROM t WHERE a = ? OR b = ? OR c = ? OR d = ?" },
	/* Dollar quoting, tagged and nested tags. */
	{ PG, "SELECT $$quotes '\" inside$$, $tag$a $b$ nested $b$ c$tag$, $$$$",
	  "SELECT ?, ?, ?" },
	{ PG, "DO $body$ BEGIN RAISE NOTICE 'x'; END $body$", "DO ?" },
	{ PG, "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
	  "CREATE FUNCTION f() RETURNS int AS ? LANGUAGE sql" },
	/* Identifiers stay, quoted or not; PostgreSQL's [ ] are subscripts. */
	{ PG, "SELECT \"User\".\"e-mail\", arr[1] FROM \"User\" WHERE \"a\"\"b\" = 1",
	  "SELECT \"User\".\"e-mail\", arr[?] FROM \"User\" WHERE \"a\"\"b\" = ?" },
	{ PG, "SELECT $1::text, a::int, foo$bar FROM t",
	  "SELECT $1::text, a::int, foo$bar FROM t" },
	{ PG, "SELECT data->>'name' FROM docs WHERE data @> '{\"a\":1}' AND data ? 'k'",
	  "SELECT data->>? FROM docs WHERE data @> ? AND data ? ?" },
	/* Comments go (nested in PostgreSQL); white space collapses and is trimmed. */
	{ PG, "  /* app=shop */ SELECT /* a /* b */ 'c' */ 1 -- trailing 'x'\n FROM t  ",
	  "SELECT ? FROM t" },
	{ PG, "SELECT    *    \t\r\nFROM  TABLE WHERE FIELD1 = 12344 AND FIELD2 = 5678",
	  "SELECT * FROM TABLE WHERE FIELD1 = ? AND FIELD2 = ?" },
	{ PG, "SELECT a/**/FROM t", "SELECT a FROM t" },
	/* IN lists of literals collapse; lists of anything else stay. */
	{ PG, "select col from t where col in (1, 2, 3)", "select col from t where col in (?)" },
	{ PG, "select 'a' IN(x, 'b') from t where c in (1) and z IN( '3', '4' ) and y in (?, ?)",
	  "select ? IN(x, ?) from t where c in (?) and z IN(?) and y in (?)" },
	{ PG, "SELECT * FROM t WHERE id IN ($1, $2) AND x NOT IN (SELECT y FROM u) AND z IN ()",
	  "SELECT * FROM t WHERE id IN ($1, $2) AND x NOT IN (SELECT y FROM u) AND z IN ()" },
	{ PG, "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))",
	  "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))" },
	/* Statements that may carry an unquoted password keep their first words only. */
	{ PG, "ALTER USER bob WITH PASSWORD 'x'; SELECT 1", "ALTER USER ?; SELECT ?" },
	{ STD, "CREATE USER new_user IDENTIFIED BY Password1", "CREATE USER ?" },
	{ STD, "CONNECT user PASSWORD Password1", "CONNECT ?" },
	{ PG, "CREATE ROLE", "CREATE ROLE" },
	{ MY, "CREATE PROCEDURE p() BEGIN SELECT 1; CREATE USER u IDENTIFIED BY pw; SELECT 2; END",
	  "CREATE PROCEDURE p() BEGIN SELECT ?; CREATE USER ?; SELECT ?; END" },
	{ PG, "SELECT connect FROM t", "SELECT connect FROM t" },

	/* MySQL: backslash escapes, "" strings, `` identifiers, # comments. */
	{ MY,
	  "SELECT * FROM users WHERE name = 'O\\'Brien' AND note = \"say \\\"hi\\\"\" AND "
	  "pw = 'secret'",
	  "SELECT * FROM users WHERE name = ? AND note = ? AND pw = ?" },
	{ MY, "SELECT * FROM t WHERE a = 'C:\\\\' AND b = 'secret'",
	  "SELECT * FROM t WHERE a = ? AND b = ?" },
	{ MY, "INSERT INTO `orders` (`id`, `total`) VALUES (1, 9.99), (2, 19.99)",
	  "INSERT INTO `orders` (`id`, `total`) VALUES (?, ?), (?, ?)" },
	{ MY, "SELECT * FROM `my``table` WHERE `col``name` = 1",
	  "SELECT * FROM `my``table` WHERE `col``name` = ?" },
	{ MY, "SELECT 1 # it's a comment 'x'\nFROM t", "SELECT ? FROM t" },
	{ MY, "/*!40101 SET character_set_client = utf8 */;", "SET character_set_client = utf8 ;" },
	{ MY, "/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`%`*/ /*!50003 TRIGGER tr */",
	  "CREATE DEFINER=`root`@`%` TRIGGER tr" },
	{ MY, "SELECT /*+ MAX_EXECUTION_TIME(1000) */ @@session.transaction_isolation, @x := 5",
	  "SELECT @@session.transaction_isolation, @x := ?" },
	{ MY, "SELECT x'4D', 0b101, _utf8mb4'abc' COLLATE utf8mb4_bin",
	  "SELECT ?, ?, _utf8mb4? COLLATE utf8mb4_bin" },
	{ MY, "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw'", "CREATE USER ?" },
	{ MY, "SHOW VARIABLES LIKE 'sql_mode'", "SHOW VARIABLES LIKE ?" },
	{ MY, "GRANT ALL PRIVILEGES ON database.* TO 'user'@'host'",
	  "GRANT ALL PRIVILEGES ON database.* TO ?@?" },
	{ MY, "SELECT a$b, $c FROM t", "SELECT a$b, $c FROM t" },

	/* SQLite: [ident], and every parameter form. */
	{ LITE, "SELECT * FROM [order items] WHERE id = ?1 AND n = :name AND x = @x AND y = $y",
	  "SELECT * FROM [order items] WHERE id = ?1 AND n = :name AND x = @x AND y = $y" },
	{ LITE, "INSERT OR REPLACE INTO kv (k, v) VALUES ('a', X'00ff')",
	  "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)" },
	{ LITE,
	  "CREATE TABLE IF NOT EXISTS \"notes\" (id INTEGER PRIMARY KEY, body TEXT "
	  "DEFAULT '')",
	  "CREATE TABLE IF NOT EXISTS \"notes\" (id INTEGER PRIMARY KEY, body TEXT DEFAULT ?)" },
	{ LITE, "SELECT \"app_user\".\"id\" FROM \"app_user\" WHERE \"app_user\".\"id\" = 5",
	  "SELECT \"app_user\".\"id\" FROM \"app_user\" WHERE \"app_user\".\"id\" = ?" },
	{ LITE, "ATTACH DATABASE 'other.db' AS other", "ATTACH DATABASE ? AS other" },

	/* Anything left open at the end (a cut statement) is a literal. */
	{ PG, "SELECT * FROM t WHERE name = 'Rob", "SELECT * FROM t WHERE name = ?" },
	{ PG, "SELECT \"unterminated", "SELECT ?" },
	{ PG, "SELECT $tag$abc", "SELECT ?" },
	{ PG, "SELECT 1 /* open", "SELECT ?" },
	{ MY, "SELECT `abc", "SELECT ?" },
	{ MY, "SELECT 'abc\\'", "SELECT ?" },
	{ LITE, "SELECT [abc", "SELECT ?" },
	{ PG, "SELECT $a b$ c", "SELECT $a b$ c" }, /* not a dollar quote */
	{ PG, "", "" },
	{ PG, " \t\n ", "" },
	{ PG, "-- only a comment", "" },
};

static void test_text_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++)
		expect_text(text_cases[i].d, text_cases[i].in, text_cases[i].want);
}

struct summary_case {
	enum kspan_sql_dialect d;
	const char *in, *text, *op, *coll;
};

static const struct summary_case summary_cases[] = {
	/* The semantic conventions' examples. */
	{ PG, "SELECT *\nFROM   wuser_table\nWHERE  username = ?", "SELECT wuser_table", "SELECT",
	  "wuser_table" },
	{ PG,
	  "INSERT INTO shipping_details\n (order_id,\n address)\nSELECT order_id,\n address\n"
	  "FROM   orders\nWHERE  order_id = ?",
	  "INSERT shipping_details SELECT orders", "INSERT", "" },
	{ PG, "SELECT *\nFROM   songs,\n artists\nWHERE  songs.artist_id == artists.id",
	  "SELECT songs artists", "SELECT", "" },
	{ PG,
	  "SELECT order_date\nFROM   (SELECT *\n FROM   orders o\n JOIN customers c\n"
	  " ON o.customer_id = c.customer_id)",
	  "SELECT SELECT orders customers", "SELECT", "" },
	/* A single-quoted name is a string to us (FROM 'x' is not a table in these dialects). */
	{ PG, "SELECT * FROM \"song list\", 'artists'", "SELECT \"song list\"", "SELECT",
	  "\"song list\"" },
	{ PG, "SELECT * FROM (SELECT * FROM table) t", "SELECT SELECT table", "SELECT", "table" },

	/* Selects: names as written, schema and quotes kept, no case change. */
	{ PG, "SeLeCT * FrOm TAblE", "SELECT TAblE", "SELECT", "TAblE" },
	{ PG, "SELECT x, y, z FROM schema.table", "SELECT schema.table", "SELECT", "schema.table" },
	{ PG, "SELECT x FROM \"schema\" . \"table\"", "SELECT \"schema\".\"table\"", "SELECT",
	  "\"schema\".\"table\"" },
	{ MY, "SELECT x FROM `schema`.`table`", "SELECT `schema`.`table`", "SELECT",
	  "`schema`.`table`" },
	{ LITE, "SELECT * FROM [schema].[table]", "SELECT [schema].[table]", "SELECT",
	  "[schema].[table]" },
	{ PG, "SELECT 1", "SELECT", "SELECT", "" },
	{ PG, "select col /* from table2 */ from table", "SELECT table", "SELECT", "table" },
	{ PG, "/* update comment */ select * from table1", "SELECT table1", "SELECT", "table1" },
	{ PG, "select col from table join anotherTable", "SELECT table anotherTable", "SELECT",
	  "" },
	{ PG, "SELECT * FROM t1 LEFT JOIN t2 ON t1.id = t2.id JOIN t3 ON t2.x = t3.x",
	  "SELECT t1 t2 t3", "SELECT", "" },
	{ PG, "select col from table1 as t1, table2 t2", "SELECT table1 table2", "SELECT", "" },
	{ PG, "SELECT * FROM a, (SELECT * FROM b), c", "SELECT a SELECT b c", "SELECT", "" },
	{ PG, "SELECT * FROM (SELECT * FROM t1) sub, t2 JOIN t3 ON t2.id = t3.id",
	  "SELECT SELECT t1 t2 t3", "SELECT", "" },
	{ PG,
	  "select id, (select max(foo) from (select foo from foos union all select foo from "
	  "bars)) as foo from main_table",
	  "SELECT SELECT SELECT foos SELECT bars main_table", "SELECT", "" },
	{ PG, "select col from table1 union select col from table2", "SELECT table1 SELECT table2",
	  "SELECT", "" },
	{ PG, "(SELECT a FROM t1) UNION ALL (SELECT b FROM t2) ORDER BY 1", "SELECT t1 SELECT t2",
	  "SELECT", "" },
	{ PG, "select col from t where col in (select * from u)", "SELECT t SELECT u", "SELECT",
	  "" },
	{ PG, "SELECT * FROM (t)", "SELECT t", "SELECT", "t" },
	{ PG, "SELECT * FROM (a JOIN b ON a.x = b.x), c", "SELECT a b c", "SELECT", "" },
	{ PG, "SELECT * FROM t1, LATERAL (SELECT * FROM t2 WHERE t2.id = t1.id) s",
	  "SELECT t1 SELECT t2", "SELECT", "" },
	{ PG, "SELECT * FROM ONLY parent", "SELECT parent", "SELECT", "parent" },
	{ PG, "SELECT * FROM t WHERE id IN (SELECT id FROM t)", "SELECT t SELECT t", "SELECT",
	  "t" },
	/* Functions in FROM and FROM inside functions are not tables. */
	{ PG, "SELECT * FROM generate_series(1, 10) g", "SELECT", "SELECT", "" },
	{ PG,
	  "SELECT EXTRACT(YEAR FROM ts), SUBSTRING(name FROM 'x'), TRIM(BOTH 'x' FROM n) "
	  "FROM events",
	  "SELECT events", "SELECT", "events" },
	{ PG, "SELECT * FROM (VALUES (1, 2), (3, 4)) AS t(a, b)", "SELECT", "SELECT", "" },
	{ PG, "select next value in hibernate_sequence", "SELECT", "SELECT", "" },
	{ PG, "SELECT * FROM t FOR UPDATE", "SELECT t", "SELECT", "t" },
	/* WITH: the bodies come first, the names it defines are not tables. */
	{ PG, "WITH cte AS (SELECT a FROM b) SELECT * FROM cte", "SELECT b SELECT", "SELECT", "b" },
	{ PG,
	  "WITH a AS (SELECT * FROM t1), b (x) AS MATERIALIZED (SELECT * FROM t2) "
	  "SELECT * FROM a JOIN b ON a.id = b.id",
	  "SELECT t1 SELECT t2 SELECT", "SELECT", "" },
	{ PG,
	  "WITH RECURSIVE cte AS (SELECT id FROM t WHERE parent IS NULL UNION ALL SELECT t.id "
	  "FROM t JOIN cte ON t.parent = cte.id) SELECT * FROM cte",
	  "SELECT t SELECT t SELECT", "SELECT", "t" },
	{ PG,
	  "WITH moved AS (DELETE FROM queue WHERE id = $1 RETURNING *) "
	  "INSERT INTO done SELECT * FROM moved",
	  "DELETE queue INSERT done SELECT", "INSERT", "" },
	/* Inserts, updates, deletes, merges. */
	{ PG, " insert into table where lalala", "INSERT table", "INSERT", "table" },
	{ PG, "insert into \"db table\" (a) values (1)", "INSERT \"db table\"", "INSERT",
	  "\"db table\"" },
	{ MY, "INSERT IGNORE INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "INSERT t",
	  "INSERT", "t" },
	{ MY, "REPLACE INTO users VALUES (1, 'name')", "REPLACE users", "REPLACE", "users" },
	{ LITE, "INSERT OR REPLACE INTO kv VALUES (1)", "INSERT kv", "INSERT", "kv" },
	{ PG, "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", "INSERT t",
	  "INSERT", "t" },
	{ PG, "update \"my table\" set answer=42", "UPDATE \"my table\"", "UPDATE",
	  "\"my table\"" },
	{ PG, "UPDATE ONLY parent SET x = 1", "UPDATE parent", "UPDATE", "parent" },
	{ PG, "UPDATE t1 SET x = (SELECT y FROM t2)", "UPDATE t1 SELECT t2", "UPDATE", "" },
	{ PG, "UPDATE t SET a = s.a FROM src s WHERE s.id = t.id", "UPDATE t src", "UPDATE", "" },
	{ MY, "UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 5", "UPDATE t1 t2", "UPDATE", "" },
	{ PG, "update /*table", "UPDATE", "UPDATE", "" },
	{ MY, "delete from `my table` where something", "DELETE `my table`", "DELETE",
	  "`my table`" },
	{ PG, "DELETE FROM t1 WHERE x IN (SELECT y FROM t2)", "DELETE t1 SELECT t2", "DELETE", "" },
	{ PG, "DELETE FROM t USING t2 WHERE t.id = t2.id", "DELETE t t2", "DELETE", "" },
	{ MY, "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", "DELETE t1 t2", "DELETE", "" },
	{ PG, "delete from 12345678", "DELETE", "DELETE", "" },
	{ PG,
	  "MERGE INTO target t USING source s ON t.id = s.id WHEN MATCHED THEN UPDATE SET "
	  "v = s.v WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)",
	  "MERGE target source", "MERGE", "" },
	/* DDL: the object type is part of the operation. */
	{ MY, "CREATE TABLE `table`", "CREATE TABLE `table`", "CREATE TABLE", "`table`" },
	{ PG, "CREATE TABLE IF NOT EXISTS public.orders (id int DEFAULT -1)",
	  "CREATE TABLE public.orders", "CREATE TABLE", "public.orders" },
	{ PG, "CREATE UNLOGGED TABLE t AS SELECT * FROM s", "CREATE TABLE t SELECT s",
	  "CREATE TABLE", "" },
	{ PG, "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS types_name ON types (name)",
	  "CREATE INDEX types_name", "CREATE INDEX", "" },
	{ PG, "CREATE INDEX ON types (name)", "CREATE INDEX", "CREATE INDEX", "" },
	{ PG, "CREATE OR REPLACE VIEW tmp AS SELECT type FROM table WHERE id = ?",
	  "CREATE VIEW tmp SELECT table", "CREATE VIEW", "" },
	{ PG, "CREATE MATERIALIZED VIEW mv AS SELECT 1", "CREATE MATERIALIZED VIEW mv SELECT",
	  "CREATE MATERIALIZED VIEW", "mv" },
	{ PG, "ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (fid) REFERENCES ref (id)",
	  "ALTER TABLE t", "ALTER TABLE", "t" },
	{ PG, "DROP TABLE IF EXISTS a, b CASCADE", "DROP TABLE a b", "DROP TABLE", "" },
	{ PG, "DROP INDEX types_name", "DROP INDEX types_name", "DROP INDEX", "" },
	{ PG, "CREATE DATABASE shop", "CREATE DATABASE shop", "CREATE DATABASE", "" },
	{ PG, "ALTER SYSTEM SET work_mem = '64MB'", "ALTER", "ALTER", "" },
	{ PG, "CREATE USER bob WITH PASSWORD 'x'", "CREATE USER", "CREATE USER", "" },
	{ MY, "CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT * FROM t; END",
	  "CREATE PROCEDURE p SELECT t", "CREATE PROCEDURE", "" },
	/* A body statement the sanitizer hides is not read either. */
	{ MY,
	  "CREATE PROCEDURE p() BEGIN SELECT 1; ALTER USER u IDENTIFIED BY (SELECT x FROM "
	  "hidden); SELECT * FROM t; END",
	  "CREATE PROCEDURE p SELECT SELECT t", "CREATE PROCEDURE", "" },
	{ PG, "DROP PROCEDURE p; SELECT 1", "DROP PROCEDURE p; SELECT", "", "" },
	{ PG, "TRUNCATE TABLE users", "TRUNCATE TABLE users", "TRUNCATE TABLE", "users" },
	{ PG, "TRUNCATE a, b", "TRUNCATE a b", "TRUNCATE", "" },
	/* Procedures, prepared statements, EXPLAIN, COPY, USE. */
	{ PG, "CALL test_proc(1, 'a')", "CALL test_proc", "CALL", "" },
	{ PG, "PREPARE p (int) AS INSERT INTO t VALUES ($1)", "PREPARE p INSERT t", "PREPARE", "" },
	{ MY, "PREPARE s FROM 'SELECT * FROM t WHERE a = ?'", "PREPARE s", "PREPARE", "" },
	{ PG, "EXECUTE p(1, 2)", "EXECUTE p", "EXECUTE", "" },
	{ PG, "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t", "EXPLAIN SELECT t", "EXPLAIN", "t" },
	{ MY, "EXPLAIN FORMAT=JSON SELECT * FROM t", "EXPLAIN SELECT t", "EXPLAIN", "t" },
	{ LITE, "EXPLAIN QUERY PLAN SELECT * FROM t", "EXPLAIN SELECT t", "EXPLAIN", "t" },
	{ MY, "DESCRIBE users", "DESCRIBE users", "DESCRIBE", "users" },
	{ PG, "COPY orders (id, total) FROM STDIN", "COPY orders", "COPY", "orders" },
	{ PG, "COPY (SELECT * FROM orders) TO STDOUT", "COPY SELECT orders", "COPY", "orders" },
	{ MY, "USE `my database`", "USE `my database`", "USE", "" },
	/* Transactions, sessions, maintenance: the keyword alone. */
	{ PG, "BEGIN", "BEGIN", "BEGIN", "" },
	{ PG, "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE", "BEGIN TRANSACTION",
	  "BEGIN TRANSACTION", "" },
	{ MY, "START TRANSACTION READ ONLY", "START TRANSACTION", "START TRANSACTION", "" },
	{ PG, "COMMIT", "COMMIT", "COMMIT", "" },
	{ PG, "ROLLBACK TO SAVEPOINT s1", "ROLLBACK", "ROLLBACK", "" },
	{ PG, "SAVEPOINT s1", "SAVEPOINT", "SAVEPOINT", "" },
	{ PG, "SET search_path TO 'x'", "SET", "SET", "" },
	{ MY, "SET NAMES utf8mb4", "SET", "SET", "" },
	{ MY, "/*!40101 SET NAMES utf8 */", "SET", "SET", "" },
	{ MY, "SHOW CREATE TABLE users", "SHOW", "SHOW", "" },
	{ PG, "GRANT SELECT ON users TO some_user", "GRANT", "GRANT", "" },
	{ PG, "VACUUM ANALYZE t", "VACUUM", "VACUUM", "" },
	{ LITE, "PRAGMA journal_mode=WAL", "PRAGMA", "PRAGMA", "" },
	{ PG, "LOCK TABLE users IN EXCLUSIVE MODE", "LOCK TABLE users", "LOCK TABLE", "users" },
	{ MY, "LOCK TABLES users WRITE, orders READ", "LOCK TABLES users", "LOCK TABLES", "users" },
	{ PG, "VALUES (1, 'a'), (2, 'b')", "VALUES", "VALUES", "" },
	/* Several statements. */
	{ PG, "SELECT * FROM t1; SELECT * FROM t2", "SELECT t1; SELECT t2", "", "" },
	{ PG, "SELECT * FROM t1; INSERT INTO t2 VALUES (1)", "SELECT t1; INSERT t2", "", "" },
	{ PG, "SELECT * FROM t;;", "SELECT t", "SELECT", "t" },
	{ PG, "BEGIN; COMMIT", "BEGIN; COMMIT", "", "" },
	{ PG, "foo bar; SELECT 1", "SELECT", "SELECT", "" },
	/* Nothing to say. */
	{ PG, "and now for something completely different", "", "", "" },
	{ PG, "", "", "", "" },
	{ PG, " ; ;; ", "", "", "" },
	{ PG, "/* comment only */", "", "", "" },
	{ PG, "SELECT * FROM 'literal'", "SELECT", "SELECT", "" },
	{ MY, "SELECT * FROM \"string\"", "SELECT", "SELECT", "" },
};

static void test_summary_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(summary_cases) / sizeof(summary_cases[0]); i++) {
		const struct summary_case *c = &summary_cases[i];

		expect_summary(c->d, c->in, c->text, c->op, c->coll);
	}
}

static void test_procedure(void **state)
{
	struct kspan_sql_summary s;

	(void)state;
	kspan_sql_summarize("call db.test_proc", 17, PG, &s);
	assert_string_equal(s.procedure, "db.test_proc");
	assert_string_equal(s.collection, "");
	assert_string_equal(s.text, "CALL db.test_proc");
	kspan_sql_summarize("SELECT 1", 8, PG, &s);
	assert_string_equal(s.procedure, "");
	kspan_sql_summarize("CALL a(); CALL b()", 18, PG, &s);
	assert_string_equal(s.procedure, "");
	assert_int_equal(s.statements, 2);
}

/* Sanitizing its own output changes nothing: no literal is left to replace. */
static void check_properties(enum kspan_sql_dialect d, const char *in, size_t len)
{
	static char once[16384], twice[16384];
	struct kspan_sql_summary a, b;
	size_t n1, n2;

	n1 = kspan_sql_sanitize(in, len, d, once, sizeof(once));
	n2 = kspan_sql_sanitize(once, n1, d, twice, sizeof(twice));
	if (n1 != n2 || memcmp(once, twice, n1))
		fail_msg("%s: not idempotent on \"%s\"\n  once  \"%s\"\n  twice \"%s\"",
			 dialect_name(d), in, once, twice);
	kspan_sql_summarize(in, len, d, &a);
	kspan_sql_summarize(once, n1, d, &b);
	if (strcmp(a.text, b.text) || strcmp(a.operation, b.operation) ||
	    strcmp(a.collection, b.collection))
		fail_msg("%s: summary of \"%s\" is [%s], of its sanitized text [%s]",
			 dialect_name(d), in, a.text, b.text);
}

static void test_properties_over_tables(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++)
		check_properties(text_cases[i].d, text_cases[i].in, strlen(text_cases[i].in));
	for (size_t i = 0; i < sizeof(summary_cases) / sizeof(summary_cases[0]); i++)
		check_properties(summary_cases[i].d, summary_cases[i].in,
				 strlen(summary_cases[i].in));
}

/* The dialect decides what a quote means: the same bytes, three readings. */
static void test_dialects_differ(void **state)
{
	const char *my = "SELECT \"a\" FROM t WHERE a = 'it\\'s' AND b = 'secret'";

	(void)state;
	/* MySQL: "a" is a string and \' does not end a literal. */
	expect_text(MY, my, "SELECT ? FROM t WHERE a = ? AND b = ?");
	/* Read with PostgreSQL's rules, the same bytes put secret outside any literal:
	 * the reason the dialect must follow db.system.name. */
	expect_text(PG, my, "SELECT \"a\" FROM t WHERE a = ?s?secret?");
	expect_text(MY, "SELECT 1 # x", "SELECT ?");
	expect_text(PG, "SELECT 1 # x", "SELECT ? # x");
	expect_text(LITE, "SELECT [a] FROM t", "SELECT [a] FROM t");
	expect_text(PG, "SELECT a[1] FROM t", "SELECT a[?] FROM t");
	expect_text(MY, "SELECT $$x$$", "SELECT $$x$$");
	assert_int_equal(kspan_sql_dialect_of("postgresql"), PG);
	assert_int_equal(kspan_sql_dialect_of("mysql"), MY);
	assert_int_equal(kspan_sql_dialect_of("mariadb"), MY);
	assert_int_equal(kspan_sql_dialect_of("sqlite"), LITE);
	assert_int_equal(kspan_sql_dialect_of("other_sql"), STD);
	assert_int_equal(kspan_sql_dialect_of(NULL), STD);
}

static void test_bytes_that_are_not_text(void **state)
{
	static const char nul[] = "SELECT 'a\0b', 1\0, c FROM t";

	(void)state;
	/* NULs and control bytes are white space outside literals, part of them inside. */
	expect_text_n(PG, nul, sizeof(nul) - 1, "SELECT ?, ? , c FROM t");
	expect_text(PG,
		    "SELECT\x01"
		    "a\x7f,\tb\x1b",
		    "SELECT a , b");
	/* Bytes that are not UTF-8 are identifier bytes, kept as they are. */
	expect_text(PG, "SELECT \xff\xfe FROM t\xe9 WHERE x = '\xc3'",
		    "SELECT \xff\xfe FROM t\xe9 WHERE x = ?");
	expect_summary(PG, "SELECT \xff FROM t\xe9", "SELECT t\xe9", "SELECT", "t\xe9");
	/* A quoted name with a control byte is no name: hidden, and not in the summary. */
	expect_text(PG, "SELECT * FROM \"a\nb\", `c\td`", "SELECT * FROM ?, ?");
	expect_summary(PG, "SELECT * FROM \"a\nb\"", "SELECT", "SELECT", "");
	/* NULL input is empty input. */
	expect_text_n(PG, NULL, 5, "");
}

static char *repeat(const char *unit, size_t times, const char *prefix, const char *suffix)
{
	size_t ul = strlen(unit), pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + ul * times + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	for (size_t i = 0; i < times; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + ul * times, suffix, sl + 1);
	return s;
}

static void test_hostile_sizes(void **state)
{
	static char out[512];
	struct kspan_sql_summary s;
	char *q;

	(void)state;
	/* Thousands of quotes: one literal either way, open or closed. */
	q = repeat("'", 10000, "", "");
	expect_text(PG, q, "?");
	free(q);
	q = repeat("'", 10001, "SELECT ", "");
	expect_text(MY, q, "SELECT ?");
	free(q);
	/* A 20000-digit number, and one glued to a name. */
	q = repeat("1234567890", 2000, "SELECT ", " FROM t");
	expect_text(PG, q, "SELECT ? FROM t");
	free(q);
	q = repeat("1234567890", 2000, "SELECT A", "");
	kspan_sql_sanitize(q, strlen(q), PG, out, sizeof(out));
	assert_int_equal(strlen(out), 6); /* the name does not fit: stop before it */
	free(q);
	/* A 10000-element IN list collapses. */
	q = repeat("?,", 10000, "select col from table where col in (", "?)");
	expect_text(PG, q, "select col from table where col in (?)");
	free(q);
	q = repeat("42, ", 10000, "DELETE FROM t WHERE id IN (", "42)");
	expect_text(PG, q, "DELETE FROM t WHERE id IN (?)");
	free(q);
	/* 100000 nested parentheses: bounded state (what is deeper than it is not read),
	 * and the statement after them is read again. */
	q = repeat("(", 100000, "SELECT * FROM t WHERE x IN ", "SELECT 1; SELECT * FROM u");
	kspan_sql_summarize(q, strlen(q), PG, &s);
	assert_string_equal(s.text, "SELECT t; SELECT u");
	free(q);
	q = repeat("(SELECT * FROM t ", 1000, "", "");
	kspan_sql_summarize(q, strlen(q), PG, &s);
	assert_true(strlen(s.text) <= KSPAN_SQL_SUMMARY_MAX);
	assert_string_equal(s.operation, "SELECT");
	free(q);
	/* 100000 closing parentheses. */
	q = repeat(")", 100000, "SELECT * FROM a", "; SELECT * FROM b");
	kspan_sql_summarize(q, strlen(q), PG, &s);
	assert_string_equal(s.text, "SELECT a; SELECT b");
	free(q);
}

static void test_summary_is_cut_between_names(void **state)
{
	char sql[4096] = "SELECT * FROM ";
	struct kspan_sql_summary s;
	char name[KSPAN_SQL_TARGET_MAX + 2];

	(void)state;
	for (int i = 0; i < 50; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%svery_long_table_name_%d",
			 i ? ", " : "", i);
	kspan_sql_summarize(sql, strlen(sql), PG, &s);
	assert_string_equal(s.text,
			    "SELECT very_long_table_name_0 very_long_table_name_1 "
			    "very_long_table_name_2 very_long_table_name_3 very_long_table_name_4 "
			    "very_long_table_name_5 very_long_table_name_6 very_long_table_name_7 "
			    "very_long_table_name_8 very_long_table_name_9");
	assert_int_equal(strlen(s.text), 236);
	/* Once a part did not fit, a later shorter one is not added out of order. */
	strcat(sql, "; SELECT * FROM x");
	kspan_sql_summarize(sql, strlen(sql), PG, &s);
	assert_int_equal(strlen(s.text), 236);
	/* A name longer than KSPAN_SQL_TARGET_MAX is left out, and is not the collection. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(sql, sizeof(sql), "SELECT * FROM %s", name);
	expect_summary(PG, sql, "SELECT", "SELECT", "");
	name[KSPAN_SQL_TARGET_MAX] = '\0';
	snprintf(sql, sizeof(sql), "SELECT * FROM %s", name);
	kspan_sql_summarize(sql, strlen(sql), PG, &s);
	assert_int_equal(strlen(s.collection), KSPAN_SQL_TARGET_MAX);
}

static void test_output_bounds(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	/* Nothing written with no room; an empty string with room for the NUL only. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(kspan_sql_sanitize("SELECT 1", 8, PG, out, 0), 0);
	assert_int_equal(out[0], 'X');
	assert_int_equal(kspan_sql_sanitize("SELECT 1", 8, PG, out, 1), 0);
	assert_string_equal(out, "");
	/* Cut at the last whole token that fits, never inside one, never past the buffer. */
	memset(out, 'X', sizeof(out));
	n = kspan_sql_sanitize("SELECT * FROM orders WHERE id = 1", 33, PG, out, 16);
	assert_int_equal(n, 13);
	assert_string_equal(out, "SELECT * FROM");
	assert_int_equal(out[16], 'X');
	n = kspan_sql_sanitize("SELECT 'secret'", 15, PG, out, 9);
	assert_string_equal(out, "SELECT ?");
	assert_int_equal(n, 8);
	n = kspan_sql_sanitize("SELECT 'secret'", 15, PG, out, 8);
	assert_string_equal(out, "SELECT");
	/* An IN list collapses even when its written form would not fit; one that does
	 * not collapse is cut like anything else. */
	n = kspan_sql_sanitize("x IN (1, 2, 3, 4, 5, 6, 7)", 26, PG, out, 9);
	assert_string_equal(out, "x IN (?)");
	n = kspan_sql_sanitize("x IN (1, 2, 3, 4, 5, 6, y)", 26, PG, out, 12);
	assert_string_equal(out, "x IN (?, ?,");
	/* Input that is not NUL-terminated: only len bytes are read. */
	n = kspan_sql_sanitize("SELECT 1 garbage", 8, PG, out, sizeof(out));
	assert_string_equal(out, "SELECT ?");
	expect_summary(PG, "SELECT * FROM tab", "SELECT tab", "SELECT", "tab");
	{
		struct kspan_sql_summary s;

		kspan_sql_summarize("SELECT * FROM tab", 16, PG, &s);
		assert_string_equal(s.collection, "ta");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_table),
		cmocka_unit_test(test_summary_table),
		cmocka_unit_test(test_procedure),
		cmocka_unit_test(test_properties_over_tables),
		cmocka_unit_test(test_dialects_differ),
		cmocka_unit_test(test_bytes_that_are_not_text),
		cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_summary_is_cut_between_names),
		cmocka_unit_test(test_output_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
