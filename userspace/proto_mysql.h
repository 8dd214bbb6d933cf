/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/proto_mysql.h: the MySQL / MariaDB client/server protocol behind
 * the common parser interface (parser.h), seen from the client: requests
 * (commands) flow client to server, the server speaks first with its
 * handshake. REQUEST and EXCHANGE events carry a struct kspan_db_exchange
 * (db.h): one per command that gets a reply, with its final reply.
 *
 * What an exchange holds, per command:
 *   COM_QUERY          query = the text; one exchange for the whole command, multi-statement
 *                      queries and CALLs included (it ends at the last result: the one whose
 *                      status lacks SERVER_MORE_RESULTS_EXISTS, or an error); rows = the
 *                      sum over its results of rows returned (result sets) or affected (OK).
 *   COM_STMT_PREPARE   query = the text, flags KSPAN_DB_F_PREPARE, rows -1.
 *   COM_STMT_EXECUTE   query = the text of the statement it executes (remembered from its
 *   (and MariaDB's     prepare), flags KSPAN_DB_F_PREPARED; KSPAN_DB_F_TEXT_UNKNOWN when the
 *   COM_STMT_BULK_     prepare was never seen (then command = "COM_STMT_EXECUTE").
 *   EXECUTE)
 *   COM_INIT_DB        command = "COM_INIT_DB", db_namespace = the database it selects; on
 *                      success later exchanges carry that database.
 *   COM_CHANGE_USER    command = "COM_CHANGE_USER", user and db_namespace = the new ones.
 *   other commands     command = their protocol name ("COM_PING", "COM_STMT_FETCH" with the
 *                      statement's text, "COM_STMT_RESET", "COM_STATISTICS", ...), query "".
 * Commands the server never answers (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT)
 * make no events. The connection phase (handshake, authentication, its switch and
 * more-data rounds) makes no events either: it gives the user, the database
 * (CLIENT_CONNECT_WITH_DB), the capabilities and the system ("mariadb" when the server's
 * version says MariaDB, else "mysql"; "mysql" when the handshake was not seen). An
 * SSLRequest turns the parser UPGRADED (the rest is TLS); a parser fed the decrypted
 * stream of such a connection starts at the full HandshakeResponse and marks its
 * exchanges KSPAN_DB_F_ENCRYPTED. Errors: status_code = the error number in decimal,
 * error_message = the server's text; the database changes with COM_INIT_DB, a session
 * state change of the schema, or a successful "USE db" query.
 *
 * Also handled: multi-packet payloads (0xFFFFFF-byte packets continued), CLIENT_DEPRECATE_EOF
 * result sets (and the older EOF packets), binary result sets with and without metadata
 * (MariaDB's metadata cache, MySQL's optional metadata), cursors and COM_STMT_FETCH,
 * LOCAL INFILE uploads, MariaDB progress reports, MySQL query attributes, and the zlib
 * compressed protocol (CLIENT_COMPRESS). zstd compression is not decoded: the parser turns
 * UPGRADED.
 *
 * Credentials (auth responses, scrambles) are never copied out of the bytes; a packet that
 * held them is wiped from the parser's buffer once read. Memory per connection is bounded:
 * one packet-prefix buffer per direction, KSPAN_MYSQL_PIPELINE_MAX pending commands with
 * at most KSPAN_DB_QUERY_MAX bytes of text each, and KSPAN_MYSQL_STMT_MAX remembered
 * statements holding at most KSPAN_MYSQL_STMT_TEXT_MAX bytes of text together.
 */
#ifndef KSPAN_PROTO_MYSQL_H
#define KSPAN_PROTO_MYSQL_H

#include "db.h"
#include "parser.h"

/* Commands sent and not yet answered (pipelining); one more and the connection is lost. */
#define KSPAN_MYSQL_PIPELINE_MAX 64
/* Prepared statements remembered per connection (oldest forgotten first). */
#define KSPAN_MYSQL_STMT_MAX 256
/* Statement text bytes remembered per connection, all statements together. */
#define KSPAN_MYSQL_STMT_TEXT_MAX (256 * 1024)
/* Caps on kept names (longer ones are cut). */
#define KSPAN_MYSQL_USER_MAX 256
#define KSPAN_MYSQL_NAMESPACE_MAX 256
#define KSPAN_MYSQL_ERROR_MAX 512
/*
 * Bytes skipped in one direction while looking for a packet start, with no exchange
 * known to be in flight there, before the connection is declared lost.
 */
#define KSPAN_MYSQL_RESYNC_MAX (64u << 20)

/* The ops to give kspan_parser_new(). */
extern const struct kspan_parser_ops kspan_mysql_parser_ops;

/*
 * Confidence that buf[0..len) starts a MySQL message: 100 for a whole Handshake v10
 * (*dir RESPONSE: the server speaks first), 90 for a HandshakeResponse or SSLRequest
 * (REQUEST), 50 for a whole text command (COM_QUERY, COM_STMT_PREPARE) filling the
 * buffer exactly, 40 for another command of exactly the right size or a whole ERR packet
 * (RESPONSE), 30 for a whole OK packet (RESPONSE), 20 for a text command longer than the
 * buffer; 0 otherwise (HTTP, PostgreSQL, Redis and TLS bytes get 0).
 */
int kspan_mysql_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir);

#endif /* KSPAN_PROTO_MYSQL_H */
