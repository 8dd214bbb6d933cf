/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/db.h: what every database protocol parser (proto_pgwire.c,
 * proto_mysql.c, proto_resp.c) reports, so that one module turns any of them
 * into CLIENT spans. A parser's REQUEST and EXCHANGE events (parser.h) carry a
 * struct kspan_db_exchange as their detail: one per query/command and its
 * final reply (a pipelined batch is one exchange per command).
 *
 * The query text is the statement as the client sent it, literals included:
 * it must not leave the agent as is (the span module sanitizes it). Strings
 * are slices valid only during the callback; ptr is never NULL ("" when
 * absent).
 */
#ifndef KSPAN_DB_H
#define KSPAN_DB_H

#include <stdbool.h>
#include <stdint.h>
#include "proto_http1.h" /* struct kspan_str */

/* Longest statement text kept per exchange; a longer one is cut (KSPAN_DB_F_QUERY_CUT). */
#define KSPAN_DB_QUERY_MAX 4096

/* struct kspan_db_exchange.flags */
#define KSPAN_DB_F_QUERY_CUT (1u << 0) /* the statement text was longer than kept */
#define KSPAN_DB_F_PREPARED (1u << 1) /* executed as a prepared statement (text from its prepare) */
#define KSPAN_DB_F_PREPARE (1u << 2) /* the exchange only prepared a statement */
#define KSPAN_DB_F_TEXT_UNKNOWN (1u << 3) /* executed a statement whose text was never seen */
#define KSPAN_DB_F_ENCRYPTED (1u << 4) /* the client asked for TLS and the server accepted */

struct kspan_db_exchange {
	const char *system; /* db.system.name: "postgresql", "mysql", "mariadb", "redis" */
	struct kspan_str query; /* statement text, or the Redis command and its arguments */
	/* Redis: the command name ("GET", "CLIENT SETNAME"); SQL parsers leave it "" (the
	 * span module derives the operation from the text). */
	struct kspan_str command;
	struct kspan_str db_namespace; /* database (startup, handshake, USE, SELECT n) */
	struct kspan_str user; /* database user, when the protocol says (not exported) */
	struct kspan_str status_code; /* SQLSTATE, MySQL error number, Redis error prefix */
	struct kspan_str error_message; /* the server's error text (not exported by default) */
	bool error; /* the server answered with an error */
	int64_t rows; /* rows returned or affected; -1 when unknown */
	uint32_t batch_size; /* commands in the pipeline/transaction this one is part of; 0: single */
	uint32_t flags; /* KSPAN_DB_F_* */
};

#endif /* KSPAN_DB_H */
