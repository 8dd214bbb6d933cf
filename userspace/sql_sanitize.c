// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/sql_sanitize.c: SQL text to what a span may carry (see
 * sql_sanitize.h). One lexer, driven by the dialect, splits the text into
 * tokens; the sanitizer re-emits them with literals as `?`, the summarizer
 * follows a small state machine over them (statement keywords, FROM lists,
 * parenthesized subqueries, WITH headers) to find operations and targets. No
 * parse tree is built: each byte is looked at a bounded number of times and
 * nothing is allocated, so hostile input costs what its length costs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "sql_sanitize.h"

/* ---------------------------------------------------------------- keywords */

enum kw_act {
	ACT_NONE,
	ACT_SELECT, /* an operation wherever it appears */
	ACT_DML, /* INSERT REPLACE UPDATE DELETE MERGE: at a statement or WITH body start */
	ACT_WITH,
	ACT_VALUES,
	ACT_DDL, /* CREATE ALTER DROP, then an object type */
	ACT_TRUNCATE,
	ACT_LOCK,
	ACT_USE,
	ACT_CALL,
	ACT_EXECUTE,
	ACT_PREPARE,
	ACT_EXPLAIN,
	ACT_COPY,
	ACT_TXN, /* transaction control, optionally followed by TRANSACTION/WORK */
	ACT_SIMPLE, /* the keyword alone; the rest of the statement adds nothing */
};

enum kw_id {
	K_OTHER,
	K_ALTER,
	K_APPLY,
	K_AS,
	K_CONNECT,
	K_CREATE,
	K_DELETE,
	K_EXCEPT,
	K_FROM,
	K_IN,
	K_INSERT,
	K_INTERSECT,
	K_JOIN,
	K_MATERIALIZED,
	K_MERGE,
	K_NOT,
	K_PREPARE,
	K_RECURSIVE,
	K_REPLACE,
	K_ROLE,
	K_SELECT,
	K_STRAIGHT_JOIN,
	K_TABLE,
	K_TABLES,
	K_TRANSACTION,
	K_UNION,
	K_UPDATE,
	K_USER,
	K_USING,
	K_VIEW,
	K_WORK,
};

/* Keyword flags. */
#define F_UNARY (1u << 0) /* a sign right after it belongs to a number: "WHERE -1" */
#define F_SKIP (1u << 1) /* skipped while a name is expected: INTO, ONLY, IF NOT EXISTS */
#define F_STOP (1u << 2) /* ends the expectation of a name */
#define F_ENDS_FROM (1u << 3) /* ends a FROM list */
#define F_EXPLAIN_OPT (1u << 4) /* an EXPLAIN option */
#define F_DDL_TYPE (1u << 5) /* an object type after CREATE/ALTER/DROP */
#define F_ROUTINE (1u << 6) /* CREATE of it has a body whose ';' do not end the statement */

enum target_kind { TGT_NONE, TGT_COLLECTION, TGT_PROCEDURE, TGT_NAMESPACE, TGT_OTHER };

struct keyword {
	const char *name;
	uint8_t len;
	uint8_t id; /* enum kw_id */
	uint8_t act; /* enum kw_act */
	uint8_t target; /* enum target_kind: what a DDL type's name is */
	uint16_t flags;
};

#define KW(name, id, act, target, flags)                       \
	{                                                      \
		name, sizeof(name) - 1, id, act, target, flags \
	}
#define STOPS (F_STOP | F_ENDS_FROM)

/* Sorted by name (binary search). */
static const struct keyword keywords[] = {
	KW("ABORT", K_OTHER, ACT_TXN, 0, 0),
	KW("ALTER", K_ALTER, ACT_DDL, 0, 0),
	KW("ANALYZE", K_OTHER, ACT_SIMPLE, 0, F_EXPLAIN_OPT),
	KW("AND", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("APPLY", K_APPLY, ACT_NONE, 0, F_STOP),
	KW("AS", K_AS, ACT_NONE, 0, F_STOP),
	KW("ATTACH", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("BEGIN", K_OTHER, ACT_TXN, 0, 0),
	KW("BETWEEN", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("BY", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("CALL", K_OTHER, ACT_CALL, 0, 0),
	KW("CASE", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("CHECKPOINT", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("CLUSTER", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("COMMENT", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("COMMIT", K_OTHER, ACT_TXN, 0, 0),
	KW("CONCURRENTLY", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("CONNECT", K_CONNECT, ACT_SIMPLE, 0, 0),
	KW("COPY", K_OTHER, ACT_COPY, 0, 0),
	KW("CREATE", K_CREATE, ACT_DDL, 0, 0),
	KW("DATABASE", K_OTHER, ACT_NONE, TGT_NAMESPACE, F_DDL_TYPE),
	KW("DEALLOCATE", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("DECLARE", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("DEFAULT", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("DELAYED", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("DELETE", K_DELETE, ACT_DML, 0, 0),
	KW("DESC", K_OTHER, ACT_EXPLAIN, 0, 0),
	KW("DESCRIBE", K_OTHER, ACT_EXPLAIN, 0, 0),
	KW("DETACH", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("DISCARD", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("DO", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("DOMAIN", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("DROP", K_OTHER, ACT_DDL, 0, 0),
	KW("ELSE", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("END", K_OTHER, ACT_TXN, 0, 0),
	KW("EVENT", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE | F_ROUTINE),
	KW("EXCEPT", K_EXCEPT, ACT_NONE, 0, STOPS),
	KW("EXEC", K_OTHER, ACT_EXECUTE, 0, 0),
	KW("EXECUTE", K_OTHER, ACT_EXECUTE, 0, 0),
	KW("EXISTS", K_OTHER, ACT_NONE, 0, F_UNARY | F_SKIP),
	KW("EXPLAIN", K_OTHER, ACT_EXPLAIN, 0, 0),
	KW("EXTENDED", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("EXTENSION", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("FAIL", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("FETCH", K_OTHER, ACT_SIMPLE, 0, STOPS),
	KW("FLUSH", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("FOR", K_OTHER, ACT_NONE, 0, STOPS),
	KW("FORMAT", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("FROM", K_FROM, ACT_NONE, 0, F_STOP),
	KW("FUNCTION", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE | F_ROUTINE),
	KW("GRANT", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("GROUP", K_OTHER, ACT_NONE, 0, STOPS),
	KW("HANDLER", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("HAVING", K_OTHER, ACT_NONE, 0, F_UNARY | STOPS),
	KW("HIGH_PRIORITY", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("IF", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("IGNORE", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("IN", K_IN, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("INDEX", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("INSERT", K_INSERT, ACT_DML, 0, 0),
	KW("INTERSECT", K_INTERSECT, ACT_NONE, 0, STOPS),
	KW("INTO", K_OTHER, ACT_NONE, 0, F_SKIP | STOPS),
	KW("IS", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("JOIN", K_JOIN, ACT_NONE, 0, F_STOP),
	KW("JSON", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("KILL", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("LATERAL", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("LIKE", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("LIMIT", K_OTHER, ACT_NONE, 0, F_UNARY | STOPS),
	KW("LISTEN", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("LOAD", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("LOCK", K_OTHER, ACT_LOCK, 0, STOPS),
	KW("LOW_PRIORITY", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("MATERIALIZED", K_MATERIALIZED, ACT_NONE, TGT_COLLECTION, F_DDL_TYPE),
	KW("MERGE", K_MERGE, ACT_DML, 0, 0),
	KW("NOT", K_NOT, ACT_NONE, 0, F_UNARY | F_SKIP),
	KW("NOTIFY", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("OFFSET", K_OTHER, ACT_NONE, 0, F_UNARY | STOPS),
	KW("ON", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("ONLY", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("OPTIMIZE", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("OR", K_OTHER, ACT_NONE, 0, F_UNARY | F_SKIP),
	KW("ORDER", K_OTHER, ACT_NONE, 0, STOPS),
	KW("PARTITIONS", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("PLAN", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("PRAGMA", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("PREPARE", K_PREPARE, ACT_PREPARE, 0, 0),
	KW("PROCEDURE", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE | F_ROUTINE),
	KW("QUERY", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("QUICK", K_OTHER, ACT_NONE, 0, F_SKIP),
	KW("RECURSIVE", K_RECURSIVE, ACT_NONE, 0, 0),
	KW("REFRESH", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("REINDEX", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("RELEASE", K_OTHER, ACT_TXN, 0, 0),
	KW("RENAME", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("REPLACE", K_REPLACE, ACT_DML, 0, F_SKIP),
	KW("RESET", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("RETURN", K_OTHER, ACT_NONE, 0, F_UNARY),
	KW("RETURNING", K_OTHER, ACT_NONE, 0, STOPS),
	KW("REVOKE", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("ROLE", K_ROLE, ACT_NONE, TGT_NONE, F_DDL_TYPE),
	KW("ROLLBACK", K_OTHER, ACT_TXN, 0, F_SKIP),
	KW("SAVEPOINT", K_OTHER, ACT_TXN, 0, 0),
	KW("SCHEMA", K_OTHER, ACT_NONE, TGT_NAMESPACE, F_DDL_TYPE),
	KW("SELECT", K_SELECT, ACT_SELECT, 0, F_UNARY | STOPS),
	KW("SEQUENCE", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("SET", K_OTHER, ACT_SIMPLE, 0, F_UNARY | STOPS),
	KW("SHOW", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("START", K_OTHER, ACT_TXN, 0, 0),
	KW("STRAIGHT_JOIN", K_STRAIGHT_JOIN, ACT_NONE, 0, F_STOP),
	KW("TABLE", K_TABLE, ACT_NONE, TGT_COLLECTION, F_DDL_TYPE),
	KW("TABLES", K_TABLES, ACT_NONE, 0, 0),
	KW("TABLESPACE", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("THEN", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("TRADITIONAL", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("TRANSACTION", K_TRANSACTION, ACT_NONE, 0, 0),
	KW("TREE", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("TRIGGER", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE | F_ROUTINE),
	KW("TRUNCATE", K_OTHER, ACT_TRUNCATE, 0, 0),
	KW("TYPE", K_OTHER, ACT_NONE, TGT_OTHER, F_DDL_TYPE),
	KW("UNION", K_UNION, ACT_NONE, 0, STOPS),
	KW("UNLISTEN", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("UPDATE", K_UPDATE, ACT_DML, 0, 0),
	KW("USE", K_OTHER, ACT_USE, 0, 0),
	KW("USER", K_USER, ACT_NONE, TGT_NONE, F_DDL_TYPE),
	KW("USING", K_USING, ACT_NONE, 0, F_STOP),
	KW("VACUUM", K_OTHER, ACT_SIMPLE, 0, 0),
	KW("VALUES", K_OTHER, ACT_VALUES, 0, F_UNARY | STOPS),
	KW("VERBOSE", K_OTHER, ACT_NONE, 0, F_EXPLAIN_OPT),
	KW("VIEW", K_VIEW, ACT_NONE, TGT_COLLECTION, F_DDL_TYPE),
	KW("WHEN", K_OTHER, ACT_NONE, 0, F_UNARY | F_STOP),
	KW("WHERE", K_OTHER, ACT_NONE, 0, F_UNARY | STOPS),
	KW("WINDOW", K_OTHER, ACT_NONE, 0, STOPS),
	KW("WITH", K_OTHER, ACT_WITH, 0, 0),
	KW("WORK", K_WORK, ACT_NONE, 0, 0),
	KW("XA", K_OTHER, ACT_SIMPLE, 0, 0),
};

#define KEYWORD_MAX_LEN 13 /* HIGH_PRIORITY, STRAIGHT_JOIN */

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* strcmp order of the upper-cased word up[0..n) and a keyword (both short). */
static int keyword_cmp(const char *up, size_t n, const struct keyword *k)
{
	size_t m = n < k->len ? n : k->len;

	for (size_t i = 0; i < m; i++)
		if (up[i] != k->name[i])
			return (unsigned char)up[i] < (unsigned char)k->name[i] ? -1 : 1;
	return n < k->len ? -1 : n > k->len;
}

static const struct keyword *keyword_find(const char *w, size_t n)
{
	char up[KEYWORD_MAX_LEN];
	size_t lo = 0, hi = sizeof(keywords) / sizeof(keywords[0]);

	if (n < 2 || n > KEYWORD_MAX_LEN)
		return NULL;
	for (size_t i = 0; i < n; i++)
		up[i] = (char)upper((unsigned char)w[i]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = keyword_cmp(up, n, &keywords[mid]);

		if (!c)
			return &keywords[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---------------------------------------------------------------- lexer */

enum tok_type {
	TK_END,
	TK_SPACE, /* whitespace, control bytes, comments, MySQL executable-comment markers */
	TK_WORD, /* keyword or identifier, MySQL @var */
	TK_QIDENT, /* "ident", `ident`, [ident] */
	TK_LITERAL, /* string, number, dollar-quoted string; anything left open at the end */
	TK_PARAM, /* $1 ? ?1 :name @name $name */
	TK_PUNCT, /* one operator or punctuation byte ("::" is one token) */
};

struct token {
	enum tok_type type;
	const char *p;
	size_t n;
	const struct keyword *kw; /* TK_WORD: the keyword, or NULL */
};

struct lexer {
	const char *s;
	size_t len, pos;
	enum kspan_sql_dialect dialect;
	bool exec_comment; /* inside a MySQL executable comment */
	bool operand; /* the last significant token ends an operand: a sign after it is binary */
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Control bytes count as white space, so the output never carries one. */
static bool is_space(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_space((unsigned char)s[i]) && s[i] != ' ')
			return true;
	return false;
}

static bool is_ident_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

static bool is_ident(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static unsigned char at(const struct lexer *L, size_t i)
{
	return i < L->len ? (unsigned char)L->s[i] : 0;
}

/* Index just past a quoted run opened at L->pos; *closed tells whether it was. */
static size_t scan_quoted(const struct lexer *L, unsigned char q, bool backslash, bool *closed)
{
	size_t i = L->pos + 1;

	while (i < L->len) {
		unsigned char c = (unsigned char)L->s[i];

		if (backslash && c == '\\') {
			i += 2;
			continue;
		}
		if (c == q) {
			if (q != ']' && at(L, i + 1) == q) { /* doubled: an escaped quote */
				i += 2;
				continue;
			}
			*closed = true;
			return i + 1;
		}
		i++;
	}
	*closed = false;
	return L->len;
}

/* Index past a block comment at L->pos; PostgreSQL nests them. */
static size_t scan_block_comment(const struct lexer *L)
{
	bool nest = L->dialect == KSPAN_SQL_POSTGRESQL;
	size_t i = L->pos + 2;
	unsigned int depth = 1;

	while (i + 1 < L->len) {
		if (L->s[i] == '*' && L->s[i + 1] == '/') {
			i += 2;
			if (!--depth)
				return i;
		} else if (nest && L->s[i] == '/' && L->s[i + 1] == '*') {
			i += 2;
			depth++;
		} else {
			i++;
		}
	}
	return L->len;
}

/* PostgreSQL $tag$...$tag$ at L->pos: the end index, or 0 when this is not one. */
static size_t scan_dollar_quote(const struct lexer *L)
{
	size_t i = L->pos + 1, tag_len;
	const char *close;

	if (i < L->len && (is_digit(at(L, i)) || !is_ident_start(at(L, i))) && at(L, i) != '$')
		return 0;
	while (i < L->len && L->s[i] != '$' && is_ident(at(L, i)))
		i++;
	if (at(L, i) != '$' || i >= L->len)
		return 0;
	tag_len = i + 1 - L->pos; /* "$tag$" */
	close = memmem(L->s + i + 1, L->len - i - 1, L->s + L->pos, tag_len);
	return close ? (size_t)(close - L->s) + tag_len : L->len;
}

/* A number at i: digits, letters, '_', '.' before a digit, and an exponent's sign. */
static size_t scan_number(const struct lexer *L, size_t i)
{
	while (i < L->len) {
		unsigned char c = (unsigned char)L->s[i];

		if (is_ident(c) && c != '$')
			i++;
		else if (c == '.' && is_digit(at(L, i + 1)))
			i++;
		else if ((c == '+' || c == '-') && (L->s[i - 1] | 0x20) == 'e' &&
			 is_digit(at(L, i + 1)))
			i++;
		else
			break;
	}
	return i;
}

static size_t scan_ident(const struct lexer *L, size_t i)
{
	while (i < L->len && is_ident(at(L, i)))
		i++;
	return i;
}

/* The next token; TK_END at the end. Every call but the last consumes at least a byte. */
static void lex_next(struct lexer *L, struct token *t)
{
	enum kspan_sql_dialect d = L->dialect;
	size_t start = L->pos, end, dollar_end;
	unsigned char c, c1;
	bool closed;

	t->kw = NULL;
	t->p = L->s + start;
	if (start >= L->len) {
		t->type = TK_END;
		t->n = 0;
		return;
	}
	c = (unsigned char)L->s[start];
	c1 = at(L, start + 1);
	t->type = TK_PUNCT;
	end = start + 1;

	if (is_space(c)) {
		end = start;
		while (end < L->len && is_space(at(L, end)))
			end++;
		t->type = TK_SPACE;
	} else if ((c == '-' && c1 == '-') || (c == '#' && d == KSPAN_SQL_MYSQL)) {
		const char *nl = memchr(L->s + start, '\n', L->len - start);

		end = nl ? (size_t)(nl - L->s) : L->len;
		t->type = TK_SPACE;
	} else if (c == '/' && c1 == '*') {
		size_t m = start + 2 + (at(L, start + 2) == 'M');

		t->type = TK_SPACE;
		if (d == KSPAN_SQL_MYSQL && at(L, m) == '!') {
			/* Executable comment: its body is SQL the server runs. */
			end = m + 1;
			while (is_digit(at(L, end)))
				end++;
			L->exec_comment = true;
		} else {
			end = scan_block_comment(L);
		}
	} else if (c == '*' && c1 == '/' && L->exec_comment) {
		end = start + 2;
		L->exec_comment = false;
		t->type = TK_SPACE;
	} else if (c == '\'') {
		end = scan_quoted(L, '\'', d == KSPAN_SQL_MYSQL, &closed);
		t->type = TK_LITERAL;
	} else if (c == '"' || c == '`' ||
		   (c == '[' && (d == KSPAN_SQL_STANDARD || d == KSPAN_SQL_SQLITE))) {
		bool string = c == '"' && d == KSPAN_SQL_MYSQL;

		end = scan_quoted(L, c == '[' ? ']' : c, string, &closed);
		/* Left open, it may be a string of another dialect: never echo it; nor a
		 * name holding control bytes, which no real identifier does. */
		t->type = string || !closed || has_control(L->s + start, end - start) ? TK_LITERAL :
											TK_QIDENT;
	} else if (c == '$' && d == KSPAN_SQL_POSTGRESQL && !is_digit(c1) &&
		   (dollar_end = scan_dollar_quote(L))) {
		end = dollar_end;
		t->type = TK_LITERAL;
	} else if (c == '$' && is_digit(c1) && d != KSPAN_SQL_MYSQL) {
		end = start + 1;
		while (is_digit(at(L, end)))
			end++;
		t->type = TK_PARAM;
	} else if (c == '$' && d == KSPAN_SQL_SQLITE && is_ident_start(c1)) {
		end = scan_ident(L, start + 1);
		t->type = TK_PARAM;
	} else if (c == '?') {
		while (is_digit(at(L, end)))
			end++;
		t->type = TK_PARAM;
	} else if (c == ':' && c1 == ':') {
		end = start + 2;
	} else if (c == ':' && (d == KSPAN_SQL_STANDARD || d == KSPAN_SQL_SQLITE) &&
		   (is_ident_start(c1) || is_digit(c1))) {
		end = scan_ident(L, start + 1);
		t->type = TK_PARAM;
	} else if (c == '@' && d == KSPAN_SQL_MYSQL && (c1 == '@' || is_ident_start(c1))) {
		end = scan_ident(L, start + 1 + (c1 == '@'));
		t->type = TK_WORD; /* a variable, not a value */
	} else if (c == '@' && d != KSPAN_SQL_POSTGRESQL && d != KSPAN_SQL_MYSQL &&
		   is_ident_start(c1)) {
		end = scan_ident(L, start + 1);
		t->type = TK_PARAM;
	} else if (is_digit(c) || (c == '.' && is_digit(c1))) {
		end = scan_number(L, start + 1);
		t->type = TK_LITERAL;
	} else if ((c == '-' || c == '+') && !L->operand &&
		   (is_digit(c1) || (c1 == '.' && is_digit(at(L, start + 2))))) {
		end = scan_number(L, start + 2);
		t->type = TK_LITERAL;
	} else if (is_ident_start(c) || (c == '$' && d == KSPAN_SQL_MYSQL)) {
		end = scan_ident(L, start + 1);
		if (end == start + 1 && c1 == '\'' && strchr("eEbBxXnN", c)) {
			/* E'..' B'..' X'..' N'..': one literal, prefix included. */
			bool bs = d == KSPAN_SQL_MYSQL || (c | 0x20) == 'e';

			L->pos = start + 1;
			end = scan_quoted(L, '\'', bs, &closed);
			t->type = TK_LITERAL;
		} else {
			t->type = TK_WORD;
			t->kw = keyword_find(L->s + start, end - start);
		}
	}
	L->pos = end;
	t->n = end - start;
	switch (t->type) {
	case TK_SPACE:
		break;
	case TK_WORD:
		L->operand = !(t->kw && (t->kw->flags & F_UNARY));
		break;
	case TK_PUNCT:
		L->operand = c == ')' || c == ']';
		break;
	default:
		L->operand = true;
	}
}

static void lex_init(struct lexer *L, const char *s, size_t len, enum kspan_sql_dialect d)
{
	*L = (struct lexer){ .s = s ? s : "", .len = s ? len : 0, .dialect = d };
}

/* The next token that is not white space. */
static void lex_next_sig(struct lexer *L, struct token *t)
{
	do
		lex_next(L, t);
	while (t->type == TK_SPACE);
}

static bool is_punct(const struct token *t, char c)
{
	return t->type == TK_PUNCT && t->n == 1 && t->p[0] == c;
}

static int kw_id(const struct token *t)
{
	return t->type == TK_WORD && t->kw ? t->kw->id : K_OTHER;
}

enum kspan_sql_dialect kspan_sql_dialect_of(const char *system)
{
	if (!system)
		return KSPAN_SQL_STANDARD;
	if (!strcmp(system, "postgresql"))
		return KSPAN_SQL_POSTGRESQL;
	if (!strcmp(system, "mysql") || !strcmp(system, "mariadb"))
		return KSPAN_SQL_MYSQL;
	if (!strcmp(system, "sqlite"))
		return KSPAN_SQL_SQLITE;
	return KSPAN_SQL_STANDARD;
}

/* ---------------------------------------------------------------- sanitizer */

struct out {
	char *buf;
	size_t cap; /* bytes usable for text */
	size_t pos;
	bool full;
};

/* Appends a space (when asked and not at the start) and s, whole or not at all. */
static void emit(struct out *o, bool space, const char *s, size_t n)
{
	size_t need = n + (space && o->pos);

	if (o->full || need > o->cap - o->pos) {
		o->full = true; /* nothing after a token that did not fit */
		return;
	}
	if (space && o->pos)
		o->buf[o->pos++] = ' ';
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
}

/*
 * IN (...) collapsing. After IN and its opening parenthesis the list is read
 * ahead without writing anything: literals and ? separated by commas up to
 * the closing parenthesis become "?)". Anything else ends the attempt and the
 * lexer goes back to just after the parenthesis to write the list as usual;
 * each list is read at most twice, so time stays linear, and a list far longer
 * than the output still collapses.
 */
static bool in_list_collapses(struct lexer *L)
{
	struct lexer ahead = *L;
	bool expect_elem = true;
	struct token t;

	for (lex_next_sig(&ahead, &t); t.type != TK_END; lex_next_sig(&ahead, &t)) {
		bool value = t.type == TK_LITERAL || (t.type == TK_PARAM && t.n == 1);

		if (value && expect_elem)
			expect_elem = false;
		else if (is_punct(&t, ',') && !expect_elem)
			expect_elem = true;
		else if (is_punct(&t, ')') && !expect_elem)
			break;
		else
			return false;
	}
	if (t.type == TK_END)
		return false;
	*L = ahead;
	return true;
}

/* CREATE/ALTER USER|ROLE and CONNECT may carry an unquoted password. */
static bool sensitive_statement(const struct lexer *L, const struct token *t, struct token *second)
{
	struct lexer peek = *L;
	int id = kw_id(t);

	second->n = 0;
	if (id == K_CONNECT)
		return true;
	if (id != K_CREATE && id != K_ALTER)
		return false;
	lex_next_sig(&peek, second);
	return kw_id(second) == K_USER || kw_id(second) == K_ROLE;
}

size_t kspan_sql_sanitize(const char *sql, size_t len, enum kspan_sql_dialect dialect, char *out,
			  size_t out_size)
{
	struct out o = { .buf = out, .cap = out_size ? out_size - 1 : 0 };
	bool space = false, stmt_start = true, after_in = false;
	struct lexer L;
	struct token t, second;

	if (!out_size)
		return 0;
	lex_init(&L, sql, len, dialect);
	for (lex_next(&L, &t); t.type != TK_END && !o.full; lex_next(&L, &t)) {
		if (t.type == TK_SPACE) {
			space = true;
			continue;
		}
		if (stmt_start && sensitive_statement(&L, &t, &second)) {
			/* Keep the statement's first words, hide the rest up to the next ';'. */
			bool rest = false;

			emit(&o, space, t.p, t.n);
			if (second.n) {
				lex_next_sig(&L, &second);
				emit(&o, true, second.p, second.n);
			}
			for (lex_next_sig(&L, &t); t.type != TK_END && !is_punct(&t, ';');
			     lex_next_sig(&L, &t))
				rest = true;
			if (rest)
				emit(&o, true, "?", 1);
			if (t.type == TK_END)
				break;
			space = false;
		}
		emit(&o, space, t.type == TK_LITERAL ? "?" : t.p, t.type == TK_LITERAL ? 1 : t.n);
		space = false;
		if (after_in && is_punct(&t, '(') && in_list_collapses(&L))
			emit(&o, false, "?)", 2);
		after_in = kw_id(&t) == K_IN;
		stmt_start = is_punct(&t, ';');
	}
	out[o.pos] = '\0';
	return o.pos;
}

/* ---------------------------------------------------------------- summarizer */

#define MAX_DEPTH 32
#define MAX_CTES 8
/* Names searched for the object type after CREATE/ALTER/DROP. Only names count, as
 * sanitizing keeps them all: the window is the same over the sanitized text. */
#define DDL_MAX_NAMES 16

enum cte_state { CTE_NONE, CTE_NAME, CTE_AFTER_NAME, CTE_AS, CTE_AFTER_BODY };

/* One parenthesis level (level 0: the statement). */
struct frame {
	uint8_t stmt; /* enum kw_id of the statement owning this level's clauses */
	uint8_t target_kind; /* what an expected name is */
	uint8_t cte; /* enum cte_state */
	bool at_start; /* nothing significant seen yet at this level */
	bool allow_dml; /* INSERT/UPDATE/DELETE/MERGE may start here */
	bool from_list; /* in a table list: ',' expects another table */
	bool expect_target; /* the next name is a target */
	bool explain; /* after EXPLAIN/DESCRIBE, before the statement or table */
	bool main_level; /* the statement itself, or parentheses it starts with */
};

struct slice {
	const char *p;
	size_t n;
};

struct name {
	char s[KSPAN_SQL_TARGET_MAX + 1];
	size_t n;
	bool ok; /* fits and has no control bytes */
};

struct summarizer {
	struct lexer L;
	struct token peeked;
	bool has_peek;
	struct frame frames[MAX_DEPTH];
	unsigned int depth; /* index of the current frame */
	unsigned int overflow; /* parentheses opened beyond MAX_DEPTH */
	struct kspan_sql_summary *out;
	size_t text_len;
	bool text_full; /* a part did not fit: no later part is added */
	bool need_semicolon; /* the next part starts a new statement */
	bool stmt_has_part;
	bool stmt_has_op; /* the statement's own operation is known */
	bool stmt_opaque; /* the rest of the statement adds nothing */
	bool routine; /* in CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT: ';' is in the body */
	/* DDL: CREATE/ALTER/DROP seen, looking for the object type */
	const struct keyword *ddl;
	unsigned int ddl_names;
	bool ddl_materialized;
	struct slice ctes[MAX_CTES]; /* names WITH defined in this statement */
	unsigned int n_ctes;
	/* first target of the whole text, and whether all targets equal it */
	struct name first;
	uint8_t first_kind;
	unsigned int targets;
	bool targets_differ;
};

static void next_sig(struct summarizer *z, struct token *t)
{
	if (z->has_peek) {
		*t = z->peeked;
		z->has_peek = false;
		return;
	}
	lex_next_sig(&z->L, t);
}

static const struct token *peek_sig(struct summarizer *z)
{
	if (!z->has_peek) {
		lex_next_sig(&z->L, &z->peeked);
		z->has_peek = true;
	}
	return &z->peeked;
}

static struct frame *top(struct summarizer *z)
{
	return &z->frames[z->depth];
}

static void add_part(struct summarizer *z, const char *s, size_t n)
{
	size_t need = n + (z->text_len ? 1 : 0) + (z->need_semicolon ? 1 : 0);

	if (!z->stmt_has_part) {
		z->stmt_has_part = true;
		z->out->statements++;
	}
	if (z->text_full || need > KSPAN_SQL_SUMMARY_MAX - z->text_len) {
		z->text_full = true;
		return;
	}
	if (z->need_semicolon)
		z->out->text[z->text_len++] = ';';
	if (z->text_len)
		z->out->text[z->text_len++] = ' ';
	memcpy(z->out->text + z->text_len, s, n);
	z->text_len += n;
	z->out->text[z->text_len] = '\0';
	z->need_semicolon = false;
}

static void copy_str(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * An operation; the first at the statement's own level is the statement's:
 * not one in a subquery or WITH body, but (SELECT ...) UNION (SELECT ...) is.
 */
static void add_op(struct summarizer *z, const char *s, size_t n)
{
	add_part(z, s, n);
	if (top(z)->main_level && !z->stmt_has_op) {
		z->stmt_has_op = true;
		if (z->out->statements == 1)
			copy_str(z->out->operation, sizeof(z->out->operation), s, n);
	}
}

static void name_append(struct name *nm, const struct token *t)
{
	if (nm->n + t->n > KSPAN_SQL_TARGET_MAX) {
		nm->ok = false;
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		if ((unsigned char)t->p[i] < ' ' || t->p[i] == 0x7f)
			nm->ok = false;
	memcpy(nm->s + nm->n, t->p, t->n);
	nm->n += t->n;
	nm->s[nm->n] = '\0';
}

static bool is_name(const struct token *t)
{
	return t->type == TK_WORD || t->type == TK_QIDENT;
}

/* A possibly qualified name starting with t: schema.table, "s"."t", `db`.`t`. */
static void read_name(struct summarizer *z, const struct token *t, struct name *nm)
{
	struct token dot, part;

	nm->n = 0;
	nm->ok = true;
	nm->s[0] = '\0';
	name_append(nm, t);
	while (is_punct(peek_sig(z), '.')) {
		next_sig(z, &dot);
		if (!is_name(peek_sig(z)))
			break;
		next_sig(z, &part);
		name_append(nm, &dot);
		name_append(nm, &part);
	}
}

static bool same_name(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (upper((unsigned char)a[i]) != upper((unsigned char)b[i]))
			return false;
	return true;
}

static void add_target(struct summarizer *z, uint8_t kind, const struct name *nm)
{
	for (unsigned int i = 0; i < z->n_ctes; i++)
		if (same_name(z->ctes[i].p, z->ctes[i].n, nm->s, nm->n))
			return; /* defined by WITH: not a table of the database */
	if (!z->targets++) {
		z->first = *nm;
		z->first_kind = kind;
	} else if (!nm->ok || !z->first.ok || nm->n != z->first.n ||
		   memcmp(nm->s, z->first.s, nm->n)) {
		z->targets_differ = true;
	}
	if (nm->ok)
		add_part(z, nm->s, nm->n);
}

/* Reads the name at t as a target of the current frame. */
static void take_target(struct summarizer *z, const struct token *t)
{
	struct frame *f = top(z);
	bool dml = f->stmt == K_SELECT || f->stmt == K_DELETE || f->stmt == K_UPDATE ||
		   f->stmt == K_MERGE;
	struct name nm;

	f->expect_target = false;
	read_name(z, t, &nm);
	/* generate_series(1, 3) in a FROM list is a function, not a table. */
	if (f->from_list && dml && is_punct(peek_sig(z), '('))
		return;
	if (f->target_kind != TGT_NONE)
		add_target(z, f->target_kind, &nm);
}

static void expect(struct frame *f, uint8_t kind, bool list)
{
	f->expect_target = true;
	f->target_kind = kind;
	f->from_list = list;
}

/* The keyword's canonical spelling, plus " TRANSACTION"/" WORK" when that follows. */
static void op_txn(struct summarizer *z, const struct keyword *k)
{
	char op[KSPAN_SQL_OPERATION_MAX];
	int id = kw_id(peek_sig(z));
	size_t n = k->len;
	struct token t;

	memcpy(op, k->name, n);
	if (id == K_TRANSACTION || id == K_WORK) {
		next_sig(z, &t);
		op[n++] = ' ';
		memcpy(op + n, t.kw->name, t.kw->len);
		n += t.kw->len;
	}
	add_op(z, op, n);
}

/* "TRUNCATE TABLE" / "LOCK TABLES" when the object word follows, else the keyword alone. */
static void op_with_table_word(struct summarizer *z, const struct keyword *k)
{
	char op[KSPAN_SQL_OPERATION_MAX];
	int id = kw_id(peek_sig(z));
	size_t n = k->len;
	struct token t;

	memcpy(op, k->name, n);
	if (id == K_TABLE || id == K_TABLES) {
		next_sig(z, &t);
		op[n++] = ' ';
		memcpy(op + n, t.kw->name, t.kw->len);
		n += t.kw->len;
	}
	add_op(z, op, n);
}

/*
 * A statement keyword where statements may start; false when the keyword
 * cannot start one here (the caller then treats it as an ordinary word).
 */
static bool start_statement(struct summarizer *z, const struct token *t)
{
	const struct keyword *k = t->kw;
	struct frame *f = top(z);
	bool level0 = z->depth == 0 && !f->explain;

	switch (k->act) {
	case ACT_SELECT:
		return false; /* handled wherever it appears */
	case ACT_WITH:
		f->cte = CTE_NAME;
		return true;
	case ACT_DML:
		if (!f->allow_dml)
			return false;
		add_op(z, k->name, k->len);
		f->stmt = k->id == K_REPLACE ? K_INSERT : k->id;
		if (k->id == K_INSERT || k->id == K_REPLACE || k->id == K_MERGE)
			expect(f, TGT_COLLECTION, false);
		else if (k->id == K_UPDATE)
			expect(f, TGT_COLLECTION, true);
		return true;
	case ACT_EXPLAIN:
		if (z->depth)
			return false;
		add_op(z, k->name, k->len);
		f->explain = true;
		f->at_start = true;
		expect(f, TGT_COLLECTION, false);
		return true;
	case ACT_NONE:
		return false;
	default:
		break;
	}
	if (!level0)
		return false;
	f->stmt = k->id;
	switch (k->act) {
	case ACT_VALUES:
		add_op(z, k->name, k->len);
		break;
	case ACT_DDL:
		z->ddl = k;
		z->ddl_names = 0;
		z->ddl_materialized = false;
		break;
	case ACT_TRUNCATE:
		op_with_table_word(z, k);
		expect(f, TGT_COLLECTION, true);
		break;
	case ACT_LOCK:
		op_with_table_word(z, k);
		expect(f, TGT_COLLECTION, false);
		break;
	case ACT_USE:
		add_op(z, k->name, k->len);
		expect(f, TGT_NAMESPACE, false);
		break;
	case ACT_CALL:
		add_op(z, k->name, k->len);
		expect(f, TGT_PROCEDURE, false);
		break;
	case ACT_EXECUTE:
	case ACT_PREPARE:
		add_op(z, k->name, k->len);
		expect(f, TGT_OTHER, false);
		break;
	case ACT_COPY:
		add_op(z, k->name, k->len);
		expect(f, TGT_COLLECTION, false);
		break;
	case ACT_TXN:
		op_txn(z, k);
		z->stmt_opaque = true;
		break;
	default: /* ACT_SIMPLE */
		add_op(z, k->name, k->len);
		z->stmt_opaque = true;
		break;
	}
	return true;
}

/* After CREATE/ALTER/DROP: modifiers until the object type, which makes the operation. */
static void ddl_step(struct summarizer *z, const struct token *t)
{
	const struct keyword *k = t->kw;
	char op[KSPAN_SQL_OPERATION_MAX];
	size_t n = z->ddl->len;
	bool drop = z->ddl->name[0] == 'D', create = z->ddl->id == K_CREATE;

	memcpy(op, z->ddl->name, n);
	if (t->type == TK_WORD && k && (k->flags & F_DDL_TYPE) &&
	    !(z->ddl_materialized && k->id != K_VIEW)) {
		if (k->id == K_MATERIALIZED && !z->ddl_materialized) {
			z->ddl_materialized = true;
			return;
		}
		op[n++] = ' ';
		if (z->ddl_materialized) {
			memcpy(op + n, "MATERIALIZED ", 13);
			n += 13;
		}
		memcpy(op + n, k->name, k->len);
		n += k->len;
		add_op(z, op, n);
		z->ddl = NULL;
		expect(top(z), k->target, drop); /* DROP TABLE a, b names several */
		/* MySQL sends BEGIN ... ; ... END bodies as one statement. */
		z->routine = (k->flags & F_ROUTINE) && create;
		if (k->target == TGT_NONE)
			z->stmt_opaque = true; /* CREATE USER: nothing more to say */
		return;
	}
	if (is_name(t))
		z->ddl_names++;
	if (t->type == TK_END || is_punct(t, ';') || z->ddl_names >= DDL_MAX_NAMES) {
		add_op(z, op, n);
		z->ddl = NULL;
		z->stmt_opaque = true;
	}
}

static void end_statement(struct summarizer *z)
{
	if (z->ddl)
		ddl_step(z, &(struct token){ .type = TK_END });
	if (z->stmt_has_part)
		z->need_semicolon = true;
	z->stmt_has_part = z->stmt_has_op = z->stmt_opaque = z->routine = false;
	z->depth = z->overflow = 0;
	z->n_ctes = 0;
	z->frames[0] = (struct frame){ .at_start = true, .allow_dml = true, .main_level = true };
}

static void open_paren(struct summarizer *z)
{
	struct frame *f = top(z);
	struct frame child = { .at_start = true, .main_level = f->main_level && f->at_start };
	bool keep_start = false;

	if (z->depth + 1 >= MAX_DEPTH) {
		z->overflow++;
		return;
	}
	if (f->cte == CTE_AS) { /* a WITH body */
		child.allow_dml = true;
		f->cte = CTE_AFTER_BODY;
	} else if (f->explain && f->at_start) {
		keep_start = true; /* EXPLAIN (ANALYZE, ...) options */
	} else if (f->expect_target) {
		/* FROM (t), FROM (a JOIN b), FROM (SELECT ...) */
		child.stmt = f->stmt;
		expect(&child, f->target_kind, f->from_list);
		f->expect_target = false;
	}
	if (!keep_start)
		f->at_start = false;
	z->frames[++z->depth] = child;
}

static void close_paren(struct summarizer *z)
{
	if (z->overflow)
		z->overflow--;
	else if (z->depth)
		z->depth--;
}

/* The WITH header: name [(columns)] AS [NOT] [MATERIALIZED] (body) [, ...]. */
static bool cte_step(struct summarizer *z, const struct token *t)
{
	struct frame *f = top(z);
	int id = kw_id(t);

	switch (f->cte) {
	case CTE_NAME:
		if (id == K_RECURSIVE)
			return true;
		if (is_name(t)) {
			if (z->n_ctes < MAX_CTES)
				z->ctes[z->n_ctes++] = (struct slice){ t->p, t->n };
			f->cte = CTE_AFTER_NAME;
			return true;
		}
		break;
	case CTE_AFTER_NAME:
		if (id == K_AS) {
			f->cte = CTE_AS;
			return true;
		}
		if (is_punct(t, '(')) {
			open_paren(z); /* column list */
			return true;
		}
		break;
	case CTE_AS:
		if (id == K_NOT || id == K_MATERIALIZED)
			return true;
		if (is_punct(t, '(')) {
			open_paren(z);
			return true;
		}
		break;
	case CTE_AFTER_BODY:
		if (is_punct(t, ',')) {
			f->cte = CTE_NAME;
			return true;
		}
		f->cte = CTE_NONE;
		f->at_start = true; /* the main statement */
		return false;
	}
	f->cte = CTE_NONE;
	return false;
}

static void on_word(struct summarizer *z, const struct token *t)
{
	struct frame *f = top(z);
	const struct keyword *k = t->kw;
	int id = kw_id(t);

	if (f->at_start) {
		if (f->explain && k && (k->flags & F_EXPLAIN_OPT))
			return;
		f->at_start = false;
		if (k && start_statement(z, t))
			return;
		f->explain = false;
	}
	if (id == K_SELECT) {
		add_op(z, k->name, k->len);
		f->stmt = K_SELECT;
		f->from_list = f->expect_target = false;
		return;
	}
	if (f->expect_target) {
		if (k && (k->flags & F_SKIP))
			return;
		if (!k || !(k->flags & F_STOP)) {
			take_target(z, t);
			return;
		}
		f->expect_target = false;
	}
	if (k && (k->flags & F_ENDS_FROM))
		f->from_list = false;
	switch (id) {
	case K_FROM: /* not in EXTRACT(x FROM y), SHOW ... FROM, REVOKE ... FROM */
		if (f->stmt == K_SELECT || f->stmt == K_DELETE || f->stmt == K_UPDATE)
			expect(f, TGT_COLLECTION, true);
		break;
	case K_JOIN:
	case K_APPLY:
	case K_STRAIGHT_JOIN:
		if (f->from_list)
			f->expect_target = true;
		break;
	case K_USING:
		if (f->stmt == K_DELETE || f->stmt == K_MERGE)
			expect(f, TGT_COLLECTION, f->stmt == K_DELETE);
		break;
	case K_AS:
		if (f->stmt == K_PREPARE && z->depth == 0)
			f->at_start = true; /* PREPARE p AS <statement> */
		break;
	}
}

void kspan_sql_summarize(const char *sql, size_t len, enum kspan_sql_dialect dialect,
			 struct kspan_sql_summary *out)
{
	struct summarizer z = { .out = out };
	bool after_semicolon = true;
	struct token t, second;

	memset(out, 0, sizeof(*out));
	lex_init(&z.L, sql, len, dialect);
	end_statement(&z);
	z.need_semicolon = false;
	for (next_sig(&z, &t); t.type != TK_END; next_sig(&z, &t)) {
		struct frame *f = top(&z);
		bool stmt_start = after_semicolon;

		after_semicolon = is_punct(&t, ';');
		if (z.routine && stmt_start && sensitive_statement(&z.L, &t, &second)) {
			/* Hidden by the sanitizer in a routine body: read nothing of it. */
			while (t.type != TK_END && !is_punct(&t, ';'))
				next_sig(&z, &t);
			after_semicolon = true;
			if (t.type == TK_END)
				break;
			continue;
		}
		if (is_punct(&t, ';') && !z.routine) {
			end_statement(&z);
			continue;
		}
		if (z.stmt_opaque)
			continue;
		if (z.ddl) {
			ddl_step(&z, &t);
			continue;
		}
		if (z.overflow) { /* too deep to follow: only count parentheses */
			if (is_punct(&t, '('))
				z.overflow++;
			else if (is_punct(&t, ')'))
				z.overflow--;
			continue;
		}
		if (f->cte != CTE_NONE && cte_step(&z, &t))
			continue;
		if (is_punct(&t, '(')) {
			open_paren(&z);
		} else if (is_punct(&t, ')')) {
			close_paren(&z);
		} else if (is_punct(&t, ',')) {
			f->at_start = false;
			if (f->from_list)
				f->expect_target = true;
		} else if (t.type == TK_WORD) {
			on_word(&z, &t);
		} else if (t.type == TK_QIDENT && f->expect_target) {
			f->at_start = false;
			take_target(&z, &t);
		} else if (!(f->explain && f->at_start && is_punct(&t, '='))) { /* FORMAT=JSON */
			f->at_start = f->expect_target = false;
		}
	}
	end_statement(&z);
	if (out->statements != 1)
		out->operation[0] = '\0';
	if (out->statements == 1 && z.targets && !z.targets_differ && z.first.ok) {
		if (z.first_kind == TGT_COLLECTION)
			copy_str(out->collection, sizeof(out->collection), z.first.s, z.first.n);
		else if (z.first_kind == TGT_PROCEDURE)
			copy_str(out->procedure, sizeof(out->procedure), z.first.s, z.first.n);
	}
}
