/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/proto_pgwire.h: the PostgreSQL frontend/backend protocol 3.x
 * parser behind the common parser interface (parser.h), as a client sees it:
 * requests flow from the client (frontend) to the server (backend). Events
 * carry a struct kspan_db_exchange (db.h) as their detail, system
 * "postgresql".
 *
 * What makes an exchange (one REQUEST_START, REQUEST and EXCHANGE each):
 *  - Simple query: a Query message is split into its statements at top-level
 *    ';' (quotes, dollar quotes, comments, parentheses and BEGIN ATOMIC bodies
 *    respected), one exchange per statement, each ended by its own
 *    CommandComplete / EmptyQueryResponse / ErrorResponse; batch_size is the
 *    number of statements when more than one. When the text cannot be split
 *    safely (longer than KSPAN_PG_SPLIT_TEXT_MAX, bytes missing, unterminated
 *    quote, over KSPAN_PG_SPLIT_MAX statements), the Query is one exchange
 *    ended by its ReadyForQuery.
 *  - Extended query: one exchange per Execute, made of the Parse/Bind/Describe
 *    messages since the previous exchange; the text comes from the statement
 *    the portal was bound from. Executing a statement prepared in an earlier
 *    exchange (a named statement, or an unnamed one parsed before) sets
 *    KSPAN_DB_F_PREPARED; one prepared before the parser started (mid-stream,
 *    or evicted from the bounded table) gives KSPAN_DB_F_TEXT_UNKNOWN and an
 *    empty text. A Parse of a named statement is an exchange of its own
 *    (KSPAN_DB_F_PREPARE) ended by ParseComplete; so is an unnamed Parse that
 *    no Execute used before the Sync. Describe, Close, Sync, Flush and
 *    FunctionCall make no exchange. batch_size counts the exchanges between
 *    two Syncs when more than one (pipelining).
 *  - Skipped commands: after an ErrorResponse the server skips the rest of a
 *    Query and, in the extended protocol, every message until Sync. Each
 *    skipped statement or Execute still ends in one EXCHANGE, flagged
 *    KSPAN_PEF_NO_RESPONSE with error = true and no SQLSTATE (libpq reports
 *    them as PGRES_PIPELINE_ABORTED).
 *  - COPY: the COPY statement is one exchange ending at its CommandComplete;
 *    CopyData in either direction only frames. Syncs sent while COPY FROM
 *    STDIN runs are ignored, as the server does.
 *  - Startup: user and database (the user when absent) of the StartupMessage
 *    are reported with every exchange. Passwords and SASL/GSS messages are
 *    framed without being copied. SSLRequest/GSSENCRequest answered 'N' go on
 *    in plaintext; answered 'S' or 'G' the parser becomes UPGRADED (the TLS
 *    path sees the plaintext). CancelRequest makes no exchange.
 *  - Asynchronous messages (NoticeResponse, NotificationResponse,
 *    ParameterStatus, BackendKeyData) never pair with requests.
 *
 * Bytes lost to a capture gap inside a message only cut what is kept; a gap
 * past a message's end loses the framing: the direction then looks for a
 * plausible chain of messages (type byte, sane length, valid body), at the
 * start of a read and then anywhere in it, as a connection first seen
 * mid-stream does. Request bytes lost that way become one exchange flagged
 * KSPAN_PEF_REQ_INCOMPLETE when a Parse or Bind was pending, and responses
 * up to the next ReadyForQuery are taken as theirs.
 *
 * Memory per connection is bounded: one message buffer per direction (at most
 * KSPAN_PG_SPLIT_TEXT_MAX bytes), at most KSPAN_PG_PENDING_MAX messages
 * waiting for replies (one more and the connection is LOST), at most
 * KSPAN_PG_STATEMENTS_MAX statements and KSPAN_PG_PORTALS_MAX portals
 * remembered (the least recently used is forgotten), and at most
 * KSPAN_PG_TEXT_BUDGET bytes of statement text alive.
 */
#ifndef KSPAN_PROTO_PGWIRE_H
#define KSPAN_PROTO_PGWIRE_H

#include "db.h"
#include "parser.h"

/* Request messages waiting for their replies (pipelining); one more and the connection is lost. */
#define KSPAN_PG_PENDING_MAX 4096
/* Prepared statements and portals remembered per connection (the unnamed ones included). */
#define KSPAN_PG_STATEMENTS_MAX 256
#define KSPAN_PG_PORTALS_MAX 32
/* Longest statement or portal name tracked; a longer one is treated as unknown. */
#define KSPAN_PG_NAME_MAX 128
/* A Query text longer than this is not split into statements (one exchange). */
#define KSPAN_PG_SPLIT_TEXT_MAX 16384
/* Most statements a Query is split into; more and it is one exchange. */
#define KSPAN_PG_SPLIT_MAX 64
/* Statement text bytes alive per connection (kept statements, portals, exchanges in flight). */
#define KSPAN_PG_TEXT_BUDGET (1u << 20)
/* Longest error message kept; user and database names kept. */
#define KSPAN_PG_ERROR_MAX 512
#define KSPAN_PG_IDENT_MAX 128
/* A StartupMessage longer than this is not PostgreSQL (the server's own limit). */
#define KSPAN_PG_STARTUP_MAX 10000
/* A message longer than this is not PostgreSQL (the server's allocation limit). */
#define KSPAN_PG_MSG_MAX 0x3fffffffu
/* Bytes skipped while looking for a message boundary before the connection is lost. */
#define KSPAN_PG_RESYNC_MAX (64u << 20)

/* The ops to give kspan_parser_new(). */
extern const struct kspan_parser_ops kspan_pgwire_parser_ops;

/*
 * Confidence that buf[0..len) starts PostgreSQL protocol traffic: 100 for a
 * whole SSLRequest, GSSENCRequest, CancelRequest or StartupMessage (protocol
 * 3.x), 80..90 for a consistent prefix of one, 95 for two or more typed
 * messages of one direction that all check out (type byte, sane length, valid
 * body), 90 for one such message ending where the bytes do, 70 when the bodies
 * cannot be checked (CopyData, password), 50 for a sane header alone, 0
 * otherwise (HTTP, MySQL, RESP and TLS bytes get 0). *dir gets the direction
 * when non-zero.
 */
int kspan_pgwire_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir);

#endif /* KSPAN_PROTO_PGWIRE_H */
