/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/db_span.h: one database exchange (db.h: a PostgreSQL, MySQL,
 * MariaDB or SQLite statement, or a Redis command, and its reply) described
 * as a CLIENT span: name, attributes and status per the database semantic
 * conventions. Query text leaves sanitized unless the user opts out; the
 * server's error message only when asked for (it can quote the data).
 */
#ifndef KSPAN_DB_SPAN_H
#define KSPAN_DB_SPAN_H

#include <stdbool.h>
#include <netinet/in.h>
#include <otel/trace.h>
#include "conn.h"
#include "db.h"
#include "sql_sanitize.h"

struct kspan_db_span_opts {
	/* db.query.text as sent: SQL literals and Redis arguments kept */
	bool capture_literals;
	/* the server's error message as the status description */
	bool capture_error_message;
	/* db.response.returned_rows (Opt-In in the conventions) for row-returning
	 * statements (SELECT, SHOW, VALUES, EXPLAIN, DESCRIBE, FETCH, PRAGMA) */
	bool capture_returned_rows;
};

#define KSPAN_DB_SPAN_ATTRS_MAX 16
#define KSPAN_DB_OPERATION_MAX 64 /* Redis "CLIENT SETNAME", SQL "CREATE TABLE" */
#define KSPAN_DB_ERROR_MAX 256 /* status description kept */
/* "PREPARE " + a summary, or a bounded fallback target */
#define KSPAN_DB_SPAN_NAME_MAX (KSPAN_SQL_SUMMARY_MAX + 16)

/* What one exchange contributes to its span; attributes point into the struct or into @x. */
struct kspan_db_span {
	char name[KSPAN_DB_SPAN_NAME_MAX + 1];
	enum otel_span_kind kind; /* always CLIENT */
	bool error; /* the status is ERROR */
	const char *status_description; /* NULL unless opts allow and the server said why */
	struct otel_attribute attrs[KSPAN_DB_SPAN_ATTRS_MAX];
	size_t n_attrs;
	/* storage */
	struct kspan_sql_summary sql;
	char summary[KSPAN_DB_SPAN_NAME_MAX + 1];
	char operation[KSPAN_DB_OPERATION_MAX];
	char procedure[KSPAN_SQL_TARGET_MAX + 1];
	char query[KSPAN_DB_QUERY_MAX + 1];
	char peer[INET6_ADDRSTRLEN];
	char error_text[KSPAN_DB_ERROR_MAX];
};

/**
 * kspan_db_span_describe() - name, kind, attributes and status of the span of @x.
 * @out: filled in; its attributes stay valid while @out and @x's strings do
 * @c: the connection (its remote end is the server)
 * @x: the exchange a database parser reported
 * @opts: what to capture beyond the defaults; NULL for the defaults
 *
 * SQL (db.system.name other than "redis"): db.query.summary from
 * kspan_sql_summarize() is the span name ("SELECT orders"), as the conventions
 * ask; db.operation.name and db.collection.name are set when the statement has
 * a single operation and a single collection; db.query.text is the sanitized
 * statement. A statement that was only prepared (KSPAN_DB_F_PREPARE) has the
 * operation PREPARE and the summary "PREPARE <summary>".
 *
 * Redis: db.operation.name is the command as sent ("GET", "CLIENT SETNAME")
 * and the span name; db.namespace is left out of the name (the conventions:
 * it is a number that reads confusingly). db.query.text is the command in
 * redis-cli syntax with the values it carries replaced by `?`, by a table of
 * commands: keys and field names stay ("HMSET h f1 ? f2 ?", "SET k ?"), AUTH
 * and HELLO credentials, CONFIG SET and ACL values go, and every argument of a
 * command not in the table goes. FCALL/EVALSHA name their function or script
 * (db.stored_procedure.name, span name "FCALL fn").
 *
 * Either: with neither summary nor operation, the name is the namespace, else
 * "address:port", else db.system.name. An error reply sets ERROR, the status
 * code as db.response.status_code and error.type ("_OTHER" when the server
 * gave no code). db.operation.batch.size is set when batch_size > 1.
 * server.address/port and network.peer.address/port are the connection's
 * remote end when the kernel reported it.
 *
 * Return: 0, or -EINVAL when @out, @c or @x is NULL.
 */
int kspan_db_span_describe(struct kspan_db_span *out, const struct kspan_conn *c,
			   const struct kspan_db_exchange *x,
			   const struct kspan_db_span_opts *opts);

#endif /* KSPAN_DB_SPAN_H */
