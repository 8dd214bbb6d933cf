/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/proto_resp.h: the Redis protocol (RESP2 and RESP3, client side)
 * behind the common parser interface (parser.h). Requests are the commands a
 * client sends (arrays of bulk strings, or inline command lines); responses
 * are the server's replies. Events carry a struct kspan_db_exchange (db.h):
 * REQUEST events the command half, EXCHANGE events both halves.
 *
 * What is reported, per command:
 * - command: the first argument upper-cased; for container commands (ACL,
 *   CLIENT, CLUSTER, COMMAND, CONFIG, FUNCTION, LATENCY, MEMORY, MODULE,
 *   OBJECT, PUBSUB, SCRIPT, SENTINEL, SLOWLOG, XGROUP, XINFO) the first two
 *   ("CLIENT SETNAME").
 * - query: the arguments as sent, joined by single spaces, cut at
 *   KSPAN_DB_QUERY_MAX (KSPAN_DB_F_QUERY_CUT). Credentials are never copied:
 *   the arguments of AUTH, the user and password of HELLO ... AUTH and
 *   MIGRATE ... AUTH/AUTH2, the rules of ACL SETUSER and the value of a
 *   CONFIG SET / SENTINEL SET parameter named like "*pass*" or "*auth*" are
 *   each replaced by "?".
 * - db_namespace: the database index ("0" on a connection seen from its start,
 *   "" when unknown), following SELECT n (and RESET); user: from AUTH / HELLO
 *   AUTH; both revert when the server refuses the command.
 * - error replies (-ERR ..., RESP3 !blob errors): error, status_code = the
 *   error's first word when it is an upper-case code ("ERR", "WRONGTYPE",
 *   "NOAUTH", "EXECABORT"), error_message = the rest (cut at
 *   KSPAN_RESP_ERROR_MAX).
 * - rows: elements of an array/set reply, pairs of a map, 0 for a null reply;
 *   -1 otherwise.
 * - batch_size: how many commands arrived in the same read (a pipeline), when
 *   two or more (a read of more than KSPAN_RESP_PENDING_MAX commands counts in
 *   parts of that many); for the commands of a MULTI ... EXEC transaction and
 *   its EXEC, in their EXCHANGE, the number of commands queued, when two or
 *   more. REQUEST events are reported at the end of the read that completed
 *   them, so that they carry it.
 *
 * Transactions: a command answered +QUEUED is held until its transaction
 * ends; EXEC's array then gives each its real result and reply timestamps
 * (one EXCHANGE per queued command, in order, then EXEC's own). When the
 * transaction does not run (DISCARD, -EXECABORT, a WATCH abort's null, RESET)
 * each queued command is reported with its +QUEUED reply.
 *
 * Replies that answer no command are never paired with one: RESP3 push
 * messages (pub/sub messages, client-side caching invalidations), and in RESP2
 * subscribed mode the "message"/"pmessage"/"smessage" arrays. A
 * (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE command is answered by one confirmation
 * per channel (without channels: one per subscription it drops); its
 * exchange ends with the last one. After MONITOR, SYNC or PSYNC succeeds the
 * server streams something else and the parser goes quiet (UPGRADED). CLIENT
 * REPLY OFF/SKIP: commands the server will not answer get their EXCHANGE at
 * once, flagged KSPAN_PEF_NO_RESPONSE.
 *
 * Lost framing (bytes not captured inside a header line or between messages,
 * a connection first seen mid-stream): commands resync at a read that starts
 * with an array of bulk strings; replies at a read that starts like a reply,
 * and only once a command sent after the loss waits for one (older waiting
 * commands are then reported KSPAN_PEF_NO_RESPONSE). Bulk payloads are framed
 * by their length, so a large value that is mostly uncaptured loses nothing.
 *
 * Memory per connection is bounded: no reply is kept, only counters for
 * nested aggregates (at most KSPAN_RESP_DEPTH_MAX levels) and the first bytes
 * of the values a span needs; at most KSPAN_RESP_PENDING_MAX commands are
 * tracked while they wait for replies (later ones are framed and their
 * replies skipped, counted in stats.fields_dropped), holding at most
 * KSPAN_RESP_PENDING_TEXT_MAX bytes of query text (past that a command keeps
 * only its name, flagged KSPAN_DB_F_QUERY_CUT).
 *
 * Stats: lines_truncated counts queries cut at KSPAN_DB_QUERY_MAX;
 * fields_dropped counts commands not tracked (over the pending cap).
 */
#ifndef KSPAN_PROTO_RESP_H
#define KSPAN_PROTO_RESP_H

#include "db.h"
#include "parser.h"

/* Longest command name kept: a container command and its subcommand. */
#define KSPAN_RESP_COMMAND_MAX 64
/* Bytes of an error reply kept (code and message). */
#define KSPAN_RESP_ERROR_MAX 512
/* Commands tracked while waiting for their replies (queued MULTI commands included). */
#define KSPAN_RESP_PENDING_MAX 1024
/* Query text held by those commands together. */
#define KSPAN_RESP_PENDING_TEXT_MAX (256 * 1024)
/* Deepest nesting of aggregates (arrays, maps, sets, pushes, attributes). */
#define KSPAN_RESP_DEPTH_MAX 512
/* Longest line: a simple string or error, a header, an inline command (Redis: 64 KiB). */
#define KSPAN_RESP_LINE_MAX (64 * 1024)
/* Largest bulk string length accepted. */
#define KSPAN_RESP_BULK_MAX (1ull << 40)
/* Most arguments in one command (Redis refuses more than INT_MAX). */
#define KSPAN_RESP_ARGS_MAX 2147483647
/* Bytes skipped while looking for a message start before the connection is lost. */
#define KSPAN_RESP_RESYNC_MAX (8u << 20)

/* The ops to give kspan_parser_new(). */
extern const struct kspan_parser_ops kspan_resp_parser_ops;

/*
 * Confidence that buf[0..len) starts a RESP message: 100 for a command (an
 * array of bulk strings whose first is a word), 70-90 for a whole valid reply
 * line, 40 for an inline command line starting with a common Redis command
 * (never an HTTP method), less for plausible prefixes, 0 otherwise. *dir gets
 * the direction when non-zero.
 */
int kspan_resp_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir);

#endif /* KSPAN_PROTO_RESP_H */
