// SPDX-License-Identifier: Apache-2.0
/*
 * The libmariadb client behind the stmt_client and stmt_compress fixtures of
 * test_proto_mysql (built and run by record.sh, not by the Makefile). It prepares and
 * executes statements (binary rows, affected rows, a cursor read by COM_STMT_FETCH, long
 * data, MariaDB's pipelined execute-direct), resets and closes them, pings, lists fields,
 * sets an option, runs a multi-statement query and a CALL with two result sets, changes
 * database and user, resets the connection, and hits errors.
 * argv: host port [compress]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

#define CHECK(x)                                                                              \
	do {                                                                                  \
		if (!(x)) {                                                                   \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x,          \
				mysql_error(db));                                             \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static void drain(MYSQL *db)
{
	do {
		MYSQL_RES *r = mysql_store_result(db);

		if (r) {
			printf("  result: %llu rows\n", (unsigned long long)mysql_num_rows(r));
			mysql_free_result(r);
		} else {
			printf("  affected: %lld\n", (long long)mysql_affected_rows(db));
		}
	} while (mysql_next_result(db) == 0);
}

int main(int argc, char **argv)
{
	MYSQL *db = mysql_init(NULL);
	MYSQL_STMT *st, *ins, *cur, *bad;
	MYSQL_BIND p[2], out[2];
	int id = 2, qty = 0;
	char item[65] = "";
	unsigned long item_len = 0, name_len;
	char name[] = "kiwi";
	unsigned long type = CURSOR_TYPE_READ_ONLY;
	unsigned int port = argc > 2 ? atoi(argv[2]) : 13307;

	if (argc > 3)
		mysql_options(db, MYSQL_OPT_COMPRESS, NULL);
	CHECK(mysql_real_connect(db, argc > 1 ? argv[1] : "127.0.0.1", "app", "throwaway-pw", "shop",
				 port, NULL, CLIENT_MULTI_STATEMENTS));

	/* Prepare, execute with a parameter, binary rows. */
	st = mysql_stmt_init(db);
	CHECK(!mysql_stmt_prepare(st, "SELECT item, qty FROM orders WHERE id >= ?", -1));
	memset(p, 0, sizeof(p));
	p[0].buffer_type = MYSQL_TYPE_LONG;
	p[0].buffer = &id;
	CHECK(!mysql_stmt_bind_param(st, p));
	CHECK(!mysql_stmt_execute(st));
	memset(out, 0, sizeof(out));
	out[0].buffer_type = MYSQL_TYPE_STRING;
	out[0].buffer = item;
	out[0].buffer_length = sizeof(item) - 1;
	out[0].length = &item_len;
	out[1].buffer_type = MYSQL_TYPE_LONG;
	out[1].buffer = &qty;
	CHECK(!mysql_stmt_bind_result(st, out));
	CHECK(!mysql_stmt_store_result(st));
	printf("select: %llu rows\n", (unsigned long long)mysql_stmt_num_rows(st));
	/* Execute again (same statement id), then reset it. */
	id = 1;
	CHECK(!mysql_stmt_execute(st));
	CHECK(!mysql_stmt_store_result(st));
	CHECK(!mysql_stmt_reset(st));

	/* An INSERT with a string parameter sent as long data. */
	ins = mysql_stmt_init(db);
	CHECK(!mysql_stmt_prepare(ins, "INSERT INTO orders (item, qty) VALUES (?, ?)", -1));
	memset(p, 0, sizeof(p));
	name_len = strlen(name);
	p[0].buffer_type = MYSQL_TYPE_STRING;
	p[0].buffer = name;
	p[0].buffer_length = name_len;
	p[0].length = &name_len;
	p[1].buffer_type = MYSQL_TYPE_LONG;
	p[1].buffer = &qty;
	qty = 7;
	CHECK(!mysql_stmt_bind_param(ins, p));
	CHECK(!mysql_stmt_send_long_data(ins, 0, "kiwi", 4));
	CHECK(!mysql_stmt_execute(ins));
	printf("insert: %lld affected\n", (long long)mysql_stmt_affected_rows(ins));
	CHECK(!mysql_stmt_close(ins));

	/* A read-only cursor: the execute returns metadata only, rows come by COM_STMT_FETCH. */
	cur = mysql_stmt_init(db);
	CHECK(!mysql_stmt_attr_set(cur, STMT_ATTR_CURSOR_TYPE, &type));
	{
		unsigned long prefetch = 2;

		CHECK(!mysql_stmt_attr_set(cur, STMT_ATTR_PREFETCH_ROWS, &prefetch));
	}
	CHECK(!mysql_stmt_prepare(cur, "SELECT id, item FROM orders ORDER BY id", -1));
	CHECK(!mysql_stmt_execute(cur));
	memset(out, 0, sizeof(out));
	out[0].buffer_type = MYSQL_TYPE_LONG;
	out[0].buffer = &id;
	out[1].buffer_type = MYSQL_TYPE_STRING;
	out[1].buffer = item;
	out[1].buffer_length = sizeof(item) - 1;
	out[1].length = &item_len;
	CHECK(!mysql_stmt_bind_result(cur, out));
	while (mysql_stmt_fetch(cur) == 0)
		printf("  cursor row %d %s\n", id, item);
	CHECK(!mysql_stmt_close(cur));

	/* A prepare that fails. */
	bad = mysql_stmt_init(db);
	CHECK(mysql_stmt_prepare(bad, "SELECT nope FROM missing_table", -1));
	printf("prepare error: %u %s\n", mysql_stmt_errno(bad), mysql_stmt_error(bad));
	mysql_stmt_close(bad);

	/* Direct execution: PREPARE and EXECUTE(-1) pipelined in one write. */
	bad = mysql_stmt_init(db);
	CHECK(!mariadb_stmt_execute_direct(bad, "SELECT COUNT(*) FROM orders", -1));
	CHECK(!mysql_stmt_store_result(bad));
	mysql_stmt_close(bad);

	CHECK(!mysql_ping(db));
	{
		MYSQL_RES *f = mysql_list_fields(db, "orders", NULL);

		CHECK(f);
		printf("fields: %u\n", mysql_num_fields(f));
		mysql_free_result(f);
	}
	CHECK(!mysql_set_server_option(db, MYSQL_OPTION_MULTI_STATEMENTS_ON));
	CHECK(!mysql_query(db, "SELECT 1; UPDATE orders SET qty = qty + 1 WHERE id < 3; SELECT 2, 3"));
	drain(db);
	CHECK(!mysql_query(db, "CREATE PROCEDURE IF NOT EXISTS two_sets() BEGIN SELECT 1; SELECT 2, 'b'; END"));
	CHECK(!mysql_query(db, "CALL two_sets()"));
	drain(db);
	CHECK(!mysql_select_db(db, "other"));
	CHECK(!mysql_change_user(db, "app", "throwaway-pw", "shop"));
	CHECK(!mysql_reset_connection(db));
	CHECK(mysql_query(db, "SELECT * FROM nowhere"));
	printf("error: %u %s %s\n", mysql_errno(db), mysql_sqlstate(db), mysql_error(db));
	mysql_stmt_close(st);
	mysql_close(db);
	return 0;
}
