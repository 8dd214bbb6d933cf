/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/sql_sanitize.h: what a database span may say about a SQL
 * statement without leaking its data: the text with every literal replaced
 * by `?` (db.query.text), and a low-cardinality summary of its operations and
 * targets (db.query.summary, "SELECT orders"), from which the span name, the
 * operation and the collection come. One lexer serves both, for the dialects
 * of PostgreSQL, MySQL/MariaDB and SQLite. Pure functions over bytes: any
 * input (not UTF-8, NULs, cut in the middle of a literal) is safe, time is
 * linear in the input and output is bounded by the caller's buffer.
 */
#ifndef KSPAN_SQL_SANITIZE_H
#define KSPAN_SQL_SANITIZE_H

#include <stddef.h>

/*
 * How the text is lexed. The dialect matters for safety, not only fidelity:
 * 'it\'s' is one literal in MySQL and a literal followed by code in
 * PostgreSQL, so a sanitizer lexing with the wrong rules can leak.
 */
enum kspan_sql_dialect {
	/* Standard SQL: '' escapes, "ident", [ident], ?, ?NNN, :name, @name, $1 parameters. */
	KSPAN_SQL_STANDARD,
	/* + E'..' with backslash escapes, $$..$$ and $tag$..$tag$ strings, nested comments,
	 * $1 parameters; # is an operator. standard_conforming_strings=on (the default since
	 * 9.1) is assumed: with it off, backslashes in plain '..' strings would escape. */
	KSPAN_SQL_POSTGRESQL,
	/* '..' and ".." are strings with backslash escapes (sql_mode without ANSI_QUOTES and
	 * NO_BACKSLASH_ESCAPES, the default), `ident`, # comments, @var and @@var; the body
	 * of an executable comment (slash-star-bang 50000 ...) is lexed as SQL. */
	KSPAN_SQL_MYSQL,
	/* Standard, plus `ident` and $name parameters. "x" is taken as an identifier (SQLite's
	 * legacy fallback of an unknown "x" to a string is not modelled). */
	KSPAN_SQL_SQLITE,
};

/** @brief The dialect of a db.system.name ("postgresql", "mysql", "mariadb", "sqlite"). */
enum kspan_sql_dialect kspan_sql_dialect_of(const char *system);

/**
 * kspan_sql_sanitize() - the statement with its literals replaced by `?`.
 * @sql: statement text, need not be NUL-terminated, may contain any bytes
 * @len: bytes of @sql
 * @dialect: lexing rules
 * @out: receives the text, always NUL-terminated when @out_size > 0
 * @out_size: bytes of @out
 *
 * Literals: strings ('..', E'..', B'..', X'..', N'..', MySQL ".."), dollar-quoted
 * strings, numbers (integers, decimals, exponents, 0x.. hex, and a sign in front of a
 * number where it cannot be a binary operator: `x = -5` gives `x = ?`, `a-5` gives `a-?`).
 * Kept: keywords, identifiers (quoted ones as written), operators, TRUE/FALSE/NULL and
 * parameters ($1, ?, ?1, :name, @name). Comments are removed, so nothing they carry
 * survives; runs of white space, control bytes and removed comments become one space,
 * trimmed at both ends, and a quoted name holding a control byte is hidden like a
 * literal: the result never holds a control byte (NUL included). An IN list of literals and `?` collapses to `IN (?)` (the conventions allow it;
 * it keeps long lists from making every statement distinct); a list holding anything
 * else, $1 parameters included, is kept. A literal or quoted identifier left open at
 * the end of the input (a cut statement) becomes `?`, so the result never ends inside
 * a quote. CREATE/ALTER USER/ROLE and CONNECT statements keep only their first words
 * ("CREATE USER ?"), as some dialects take unquoted passwords there.
 *
 * When the result does not fit, it ends at the last whole token that does.
 *
 * Return: the length of the text in @out (0 when @out_size is 0).
 */
size_t kspan_sql_sanitize(const char *sql, size_t len, enum kspan_sql_dialect dialect, char *out,
			  size_t out_size);

/* Longest db.query.summary, as the conventions recommend. */
#define KSPAN_SQL_SUMMARY_MAX 255
/* Longest operation ("CREATE MATERIALIZED VIEW"), NUL included. */
#define KSPAN_SQL_OPERATION_MAX 32
/* Longest target (collection, procedure...) name kept, as written, quotes included. */
#define KSPAN_SQL_TARGET_MAX 128

struct kspan_sql_summary {
	/*
	 * db.query.summary: operations and targets in the order written, "SELECT orders",
	 * "INSERT shipping SELECT orders", "SELECT a SELECT b c"; statements joined with
	 * "; ". Empty when no statement was recognized.
	 */
	char text[KSPAN_SQL_SUMMARY_MAX + 1];
	/* The operation of the only statement ("SELECT", "CREATE TABLE"); "" when none or
	 * several statements. WITH ... SELECT gives SELECT, EXPLAIN SELECT gives EXPLAIN. */
	char operation[KSPAN_SQL_OPERATION_MAX];
	/* The one table of the only statement, when it names exactly one (several
	 * mentions of the same name count as one); "" otherwise. */
	char collection[KSPAN_SQL_TARGET_MAX + 1];
	/* The procedure of a lone CALL statement; "" otherwise. */
	char procedure[KSPAN_SQL_TARGET_MAX + 1];
	unsigned int statements; /* statements that contributed to text */
};

/**
 * kspan_sql_summarize() - the summary, operation and collection of a statement.
 * @sql: statement text, need not be NUL-terminated, may contain any bytes
 * @len: bytes of @sql
 * @dialect: lexing rules
 * @out: receives the result (all fields NUL-terminated)
 *
 * Operations are upper-cased keywords: SELECT (anywhere, subqueries included), INSERT,
 * REPLACE, UPDATE, DELETE, MERGE (at the start of a statement or of a WITH body),
 * CREATE/ALTER/DROP with the object type ("CREATE TABLE", "DROP INDEX"), TRUNCATE
 * [TABLE], LOCK TABLE(S), CALL, EXEC/EXECUTE, PREPARE, EXPLAIN/DESCRIBE, COPY, USE,
 * VALUES, transaction control (BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, END) and, as their bare keyword, session and maintenance statements (SET,
 * SHOW, GRANT, REVOKE, VACUUM, ANALYZE, PRAGMA...). A statement starting with anything
 * else contributes nothing.
 *
 * Targets are names as written (quotes and schema kept, no case change): tables after
 * FROM, JOIN, a comma in a FROM list, INSERT/REPLACE [INTO], UPDATE, DELETE ... FROM /
 * USING, MERGE INTO / USING, TRUNCATE, COPY, LOCK, DESCRIBE; the object of CREATE/ALTER/
 * DROP; the procedure of CALL; the statement of EXECUTE/PREPARE; the database of USE.
 * Not targets: aliases, functions in FROM (generate_series(...)), FROM inside a
 * function call (EXTRACT(YEAR FROM x)), names defined by WITH, and anything inside
 * string literals or comments. A subquery contributes its own SELECT and targets where
 * it appears, as the conventions' examples do ("SELECT SELECT orders customers").
 *
 * The summary stops at the last operation or target that fits in
 * KSPAN_SQL_SUMMARY_MAX bytes; a name longer than KSPAN_SQL_TARGET_MAX or with control
 * bytes is left out.
 */
void kspan_sql_summarize(const char *sql, size_t len, enum kspan_sql_dialect dialect,
			 struct kspan_sql_summary *out);

#endif /* KSPAN_SQL_SANITIZE_H */
