// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/proto_mysql.c: the MySQL / MariaDB client/server protocol as a kspan
 * parser (see proto_mysql.h for what it reports). It owns, per connection:
 *   - packet framing in both directions (4-byte header: 3-byte length, sequence id;
 *     0xFFFFFF-byte packets continued in the next), with the zlib compressed protocol
 *     layered under it when negotiated;
 *   - the connection phase (handshake, capabilities, user, database, auth rounds);
 *   - the command phase: a FIFO of commands awaiting replies, and the reply state
 *     machine (OK/ERR/EOF, result sets, prepare replies, LOCAL INFILE, auth rounds of
 *     COM_CHANGE_USER), checked against the sequence ids;
 *   - the prepared statements' texts by statement id.
 *
 * Each direction consumes bytes as they come, so a packet split over any number of
 * reads gives the same result as one read. A packet's first bytes (what the parser
 * reads from it) are taken straight from the caller's buffer when the packet is whole
 * there, and gathered in a bounded per-direction buffer otherwise.
 *
 * Bytes that were not captured (captured < len) advance the framing inside a packet;
 * a gap over a packet header loses the direction's place. It then waits for a read
 * that starts with a plausible packet: a command (sequence id 0, a known command byte
 * of the right size) for requests, the reply to the oldest pending command (the next
 * sequence id, a first byte that fits the command) for responses. A reply whose end
 * was lost ends at the last read before the next command's reply, at a fully captured
 * read that ends with a result set's last packet, or at the close.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#define ZLIB_CONST
#include <zlib.h>
#include "proto_mysql.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Capability flags (mysql_com.h). */
#define CLIENT_CONNECT_WITH_DB 0x00000008u
#define CLIENT_COMPRESS 0x00000020u
#define CLIENT_PROTOCOL_41 0x00000200u
#define CLIENT_SSL 0x00000800u
#define CLIENT_TRANSACTIONS 0x00002000u
#define CLIENT_SECURE_CONNECTION 0x00008000u
#define CLIENT_PLUGIN_AUTH_LENENC_DATA 0x00200000u
#define CLIENT_SESSION_TRACK 0x00800000u
#define CLIENT_DEPRECATE_EOF 0x01000000u
#define CLIENT_ZSTD_COMPRESSION 0x04000000u
#define CLIENT_QUERY_ATTRIBUTES 0x08000000u

/* Server status flags. */
#define SERVER_MORE_RESULTS_EXISTS 0x0008u
#define SERVER_STATUS_CURSOR_EXISTS 0x0040u
#define SERVER_SESSION_STATE_CHANGED 0x4000u
#define SESSION_TRACK_SCHEMA 1

#define MAX_PACKET 0xffffffu
/* MariaDB progress reports are ERR packets with this code (not an error). */
#define PROGRESS_CODE 0xffff
/* A packet's first bytes kept for parsing, per direction. */
#define REQ_KEEP 8192
#define RESP_KEEP 2048
/* Longest HandshakeResponse / greeting accepted on a new connection. */
#define HANDSHAKE_MAX (16 * 1024)
#define GREETING_MAX 1024
#define ZOUT 4096
/* Query attributes a COM_QUERY may carry before its text (MySQL allows 32767; a few in
 * practice). */
#define QUERY_ATTRS_MAX 1024

/* ---------------------------------------------------------------- commands */

enum cmd_kind {
	K_NONE = 0, /* not a command byte we accept */
	K_SIMPLE, /* one reply packet: OK, ERR, EOF */
	K_RESULT, /* OK, ERR or result sets (no text) */
	K_QUERY, /* text; OK, ERR, result sets, LOCAL INFILE */
	K_PREPARE, /* text; prepare OK + definitions, or ERR */
	K_EXECUTE, /* statement id; OK, ERR or binary result sets */
	K_FETCH, /* statement id; binary rows then a terminator */
	K_STMT, /* statement id; one reply packet (COM_STMT_RESET) */
	K_FIELD_LIST, /* column definitions then a terminator */
	K_STAT, /* one packet: a string or ERR */
	K_INIT_DB, /* schema name; OK or ERR */
	K_CHANGE_USER, /* user, database; auth rounds then OK or ERR */
	K_DUMP, /* binlog stream: the first reply packet, then quiet */
	K_NO_REPLY, /* COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT */
};

struct cmd_info {
	const char *name;
	uint8_t kind;
	uint8_t min_len, max_len; /* payload bytes a plausible packet has; max 0: any */
};

static const struct cmd_info cmd_table[256] = {
	[0x01] = { "COM_QUIT", K_NO_REPLY, 1, 1 },
	[0x02] = { "COM_INIT_DB", K_INIT_DB, 2, 0 },
	[0x03] = { "COM_QUERY", K_QUERY, 2, 0 },
	[0x04] = { "COM_FIELD_LIST", K_FIELD_LIST, 2, 0 },
	[0x05] = { "COM_CREATE_DB", K_SIMPLE, 2, 0 },
	[0x06] = { "COM_DROP_DB", K_SIMPLE, 2, 0 },
	[0x07] = { "COM_REFRESH", K_SIMPLE, 2, 2 },
	[0x08] = { "COM_SHUTDOWN", K_SIMPLE, 1, 2 },
	[0x09] = { "COM_STATISTICS", K_STAT, 1, 1 },
	[0x0a] = { "COM_PROCESS_INFO", K_RESULT, 1, 1 },
	[0x0c] = { "COM_PROCESS_KILL", K_SIMPLE, 5, 5 },
	[0x0d] = { "COM_DEBUG", K_SIMPLE, 1, 1 },
	[0x0e] = { "COM_PING", K_SIMPLE, 1, 1 },
	[0x11] = { "COM_CHANGE_USER", K_CHANGE_USER, 2, 0 },
	[0x12] = { "COM_BINLOG_DUMP", K_DUMP, 11, 0 },
	[0x13] = { "COM_TABLE_DUMP", K_SIMPLE, 3, 0 },
	[0x15] = { "COM_REGISTER_SLAVE", K_SIMPLE, 2, 0 },
	[0x16] = { "COM_STMT_PREPARE", K_PREPARE, 2, 0 },
	[0x17] = { "COM_STMT_EXECUTE", K_EXECUTE, 10, 0 },
	[0x18] = { "COM_STMT_SEND_LONG_DATA", K_NO_REPLY, 7, 0 },
	[0x19] = { "COM_STMT_CLOSE", K_NO_REPLY, 5, 5 },
	[0x1a] = { "COM_STMT_RESET", K_STMT, 5, 5 },
	[0x1b] = { "COM_SET_OPTION", K_SIMPLE, 3, 3 },
	[0x1c] = { "COM_STMT_FETCH", K_FETCH, 9, 9 },
	[0x1e] = { "COM_BINLOG_DUMP_GTID", K_DUMP, 2, 0 },
	[0x1f] = { "COM_RESET_CONNECTION", K_SIMPLE, 1, 1 },
	[0xfa] = { "COM_STMT_BULK_EXECUTE", K_EXECUTE, 7, 0 },
};

#define COM_QUIT 0x01
#define COM_QUERY 0x03
#define COM_STMT_CLOSE 0x19
#define COM_RESET_CONNECTION 0x1f

/* ---------------------------------------------------------------- state */

/* A command awaiting its reply, from its first byte until its EXCHANGE. */
struct my_rec {
	struct my_rec *next; /* pending FIFO */
	uint64_t seq; /* kspan_parser_event.req_seq */
	uint64_t first_ns, last_ns;
	uint32_t pflags; /* KSPAN_PEF_* */
	uint32_t dbflags; /* KSPAN_DB_F_* */
	uint32_t stmt_id;
	uint8_t cmd;
	uint8_t last_pkt_seq; /* sequence id of its last packet: the reply continues from it */
	bool reported; /* REQUEST sent */
	bool has_stmt; /* stmt_id is known */
	bool seq_unknown; /* its end was lost: the reply's first sequence id is unknown */
	char *text; /* query text; schema (COM_INIT_DB); user then db (COM_CHANGE_USER) */
	uint16_t text_len, user_len;
};

/* One logical packet as the interpreter sees it. */
struct pkt {
	const uint8_t *b; /* its first bytes */
	uint32_t n; /* ... how many (<= the kept cap) */
	uint64_t len; /* payload bytes in all (multi-packet payloads joined) */
	uint64_t first_ns, last_ns;
	uint8_t seq, last_seq; /* of its first and last wire packets */
	bool gap; /* some of its first bytes were not captured: b[0..n) is all there is */
};

/* Packet framing of one direction. */
struct my_frame {
	uint8_t hdr[4];
	uint8_t hdr_have;
	uint8_t seq; /* of the current wire packet */
	uint8_t first_seq; /* of the logical packet's first wire packet */
	bool cont; /* the current wire packet continues a logical packet */
	bool kept_gap; /* bytes of the kept prefix were not captured */
	bool secret; /* the packet carries credentials: wipe its kept bytes */
	bool first_seen; /* the logical packet's first payload byte was handed on */
	uint32_t wire_len, wire_got;
	uint32_t keep; /* how many first bytes to keep for this packet */
	uint64_t total; /* logical payload bytes so far */
	uint64_t hdr_ns, first_ns;
	uint8_t *kb; /* kept first bytes when the packet spans reads */
	uint32_t kb_len, kb_cap;
};

/* The compressed protocol under the packet framing of one direction. */
struct my_zdir {
	uint8_t hdr[7];
	uint8_t hdr_have;
	bool synced; /* the compressed framing's place is known */
	bool skip; /* the rest of this compressed packet is not decoded */
	bool check; /* the packet framing is unsynced: test this packet's start */
	bool stream_end;
	uint32_t clen, cgot, ulen, produced;
	z_stream zs;
	bool zinit;
};

struct my_dir {
	struct my_frame f;
	struct my_zdir z;
	bool synced; /* the packet framing's place is known */
	bool compressed;
	bool skip_exempt; /* skipping inside an exchange known to be in flight */
	uint64_t skipped; /* bytes skipped since the place was lost */
};

enum rq_phase {
	RQ_START, /* first packet: HandshakeResponse, SSLRequest or a command */
	RQ_AUTH, /* auth data (sequence id != 0) until the first command */
	RQ_CMD, /* commands (sequence id 0) and their continuations */
};

enum rs_phase {
	RS_GREETING, /* the server's handshake (or, after TLS, an auth-phase packet) */
	RS_AUTH, /* auth switch / more data until OK or ERR */
	RS_IDLE, /* between replies */
	RS_FIRST, /* a result's first packet (OK, ERR, column count, LOCAL INFILE) */
	RS_COLS, /* column definitions */
	RS_COLS_DONE, /* after them: EOF (older clients), rows or the terminator */
	RS_ROWS, /* rows until the terminator */
	RS_PREP_DEFS, /* prepare reply: parameter then column definitions */
	RS_PREP_EOF, /* ... the EOF after a block of them */
	RS_FIELDS, /* COM_FIELD_LIST: definitions until the terminator */
	RS_INFILE, /* LOCAL INFILE: the server's final OK/ERR after the upload */
	RS_CHANGE_USER, /* COM_CHANGE_USER auth rounds until OK or ERR */
};

enum eof_mode { EOF_UNKNOWN, EOF_YES, EOF_NO };

/* The reply in progress (one at a time: replies come in command order). */
struct my_resp {
	enum rs_phase phase;
	bool in_reply; /* a reply to the head of the FIFO has started */
	bool lost; /* ... and its framing was lost */
	bool seq_any; /* the next packet may have any sequence id (the client had a turn) */
	bool rows_unknown;
	bool error;
	bool prep_in_params, prep_section_start;
	bool schema_changed; /* the reply's OK carried a schema change */
	bool stray_eof; /* an EOF may follow the last prepare reply (capabilities unknown) */
	uint8_t next_seq, stray_eof_seq;
	uint16_t msg_len;
	uint32_t pflags;
	uint32_t prep_id;
	uint64_t first_ns, last_ns;
	uint64_t defs_left, prep_cols;
	int64_t rows;
	char code[8];
	char msg[KSPAN_MYSQL_ERROR_MAX + 1];
	char schema[KSPAN_MYSQL_NAMESPACE_MAX + 1];
	uint16_t schema_len;
};

struct my_stmt {
	uint32_t id;
	uint16_t len;
	bool cut;
	uint64_t age;
	char *text;
};

struct mysql {
	struct kspan_parser base;
	unsigned int flags;
	struct my_dir dir[2];
	enum rq_phase rq;
	struct my_resp rs;
	struct my_rec *head, *tail; /* pending commands, oldest first */
	unsigned int pending;
	struct my_rec *cur; /* the command being read (REQUEST not sent yet) */
	uint64_t last_seq; /* of the newest command; never reset */
	bool proven[2]; /* a valid packet was seen in this direction */
	/* What the connection phase said. */
	const char *system;
	bool tls;
	bool server_caps_known, client_caps_known;
	uint32_t server_caps, client_caps;
	char user[KSPAN_MYSQL_USER_MAX + 1];
	char db[KSPAN_MYSQL_NAMESPACE_MAX + 1];
	uint16_t user_len, db_len;
	/* Prepared statements. */
	struct my_stmt *stmts;
	uint32_t n_stmts;
	size_t stmt_bytes;
	uint64_t stmt_clock;
	uint32_t last_prepared;
	bool have_last_prepared;
};

static struct mysql *to_my(struct kspan_parser *p)
{
	return (struct mysql *)((char *)p - offsetof(struct mysql, base));
}

/* ---------------------------------------------------------------- little helpers */

static uint32_t le16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le24(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}

/* A bounded reader over a packet's kept bytes. */
struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static bool rd_need(struct rd *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return false;
	}
	return true;
}

static uint32_t rd_u8(struct rd *r)
{
	return rd_need(r, 1) ? *r->p++ : 0;
}

static uint32_t rd_u16(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 2))
		return 0;
	v = le16(r->p);
	r->p += 2;
	return v;
}

static void rd_skip(struct rd *r, uint64_t n)
{
	if (rd_need(r, n))
		r->p += n;
}

/* Length-encoded integer; 0xfb (NULL) reads as 0, 0xff is invalid. */
static uint64_t rd_lenenc(struct rd *r)
{
	uint64_t v = 0;
	uint32_t c = rd_u8(r), n;

	if (c < 0xfb || r->bad)
		return c;
	if (c == 0xfb)
		return 0;
	if (c == 0xff) {
		r->bad = true;
		return 0;
	}
	n = c == 0xfc ? 2 : c == 0xfd ? 3 : 8;
	if (!rd_need(r, n))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static size_t lenenc_size(uint8_t c)
{
	return c < 0xfb ? 1 : c == 0xfc ? 3 : c == 0xfd ? 4 : c == 0xfe ? 9 : 1;
}

/* A NUL-terminated string; when the NUL is missing, the rest (and *cut). */
static void rd_nulstr(struct rd *r, const uint8_t **s, size_t *n, bool *cut)
{
	const uint8_t *z;

	*s = r->p;
	if (r->bad) {
		*n = 0;
		return;
	}
	z = memchr(r->p, 0, r->end - r->p);
	if (!z) {
		*n = r->end - r->p;
		r->p = r->end;
		if (cut)
			*cut = true;
		else
			r->bad = true;
		return;
	}
	*n = z - r->p;
	r->p = z + 1;
}

static void rd_lenenc_str(struct rd *r, const uint8_t **s, uint64_t *n)
{
	*n = rd_lenenc(r);
	*s = r->p;
	rd_skip(r, *n);
}

/* Copies s[0..n) into dst (cap bytes + NUL), cut at cap; returns the length kept. */
static uint16_t put_str(char *dst, size_t cap, const void *s, size_t n)
{
	n = MIN(n, cap);
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
	return n;
}

static bool contains_nocase(const uint8_t *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp((const char *)s + i, lit, k))
			return true;
	return false;
}

static bool is_text_byte(uint8_t c)
{
	return c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
}

/* ---------------------------------------------------------------- status and events */

static void set_status(struct mysql *m, enum kspan_parser_status st)
{
	if (m->base.status == KSPAN_PARSER_ACTIVE)
		m->base.status = st;
}

static bool active(const struct mysql *m)
{
	return m->base.status == KSPAN_PARSER_ACTIVE;
}

static int status_rc(const struct mysql *m)
{
	switch (m->base.status) {
	case KSPAN_PARSER_NOT_PROTO:
		return -EPROTONOSUPPORT;
	case KSPAN_PARSER_LOST:
		return -EBADMSG;
	default:
		return 0;
	}
}

static uint32_t eff_caps(const struct mysql *m)
{
	if (m->client_caps_known && m->server_caps_known)
		return m->client_caps & m->server_caps;
	return m->client_caps_known ? m->client_caps : m->server_caps;
}

static bool caps_known(const struct mysql *m)
{
	return m->client_caps_known || m->server_caps_known;
}

static enum eof_mode eof_mode(const struct mysql *m)
{
	if (!caps_known(m))
		return EOF_UNKNOWN;
	return eff_caps(m) & CLIENT_DEPRECATE_EOF ? EOF_NO : EOF_YES;
}

/*
 * Sequence ids of packets inside compressed packets follow the compressed packets'
 * numbering (the server renumbers at each flush): they are not checked there.
 */
static bool seq_is(const struct mysql *m, enum kspan_msg_dir dn, uint8_t got, uint8_t want)
{
	return got == want || m->dir[dn].compressed;
}

static const struct my_stmt *stmt_find(const struct mysql *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->n_stmts; i++)
		if (m->stmts[i].id == id)
			return &m->stmts[i];
	return NULL;
}

static struct kspan_str kstr(const char *s, size_t n)
{
	return (struct kspan_str){ s ? s : "", s ? n : 0 };
}

/* The text a command carries into its events (statements resolve late if need be). */
static void rec_query(const struct mysql *m, const struct my_rec *r, struct kspan_db_exchange *x)
{
	const struct cmd_info *ci = &cmd_table[r->cmd];
	const struct my_stmt *st;

	x->command = kstr(ci->name, strlen(ci->name));
	switch (ci->kind) {
	case K_QUERY:
	case K_PREPARE:
		x->query = kstr(r->text, r->text_len);
		x->command = kstr("", 0);
		return;
	case K_EXECUTE:
	case K_FETCH:
	case K_STMT:
		if (r->text) {
			x->query = kstr(r->text, r->text_len);
		} else if (r->has_stmt && (st = stmt_find(m, r->stmt_id))) {
			x->query = kstr(st->text, st->len);
			x->flags &= ~KSPAN_DB_F_TEXT_UNKNOWN;
			x->flags |= KSPAN_DB_F_PREPARED | (st->cut ? KSPAN_DB_F_QUERY_CUT : 0);
		}
		if (ci->kind == K_EXECUTE && !(x->flags & KSPAN_DB_F_TEXT_UNKNOWN))
			x->command = kstr("", 0);
		return;
	case K_INIT_DB:
		x->db_namespace = kstr(r->text, r->text_len);
		return;
	case K_CHANGE_USER:
		x->user = kstr(r->text, r->user_len);
		x->db_namespace =
			kstr(r->text ? r->text + r->user_len : NULL, r->text_len - r->user_len);
		return;
	default:
		return;
	}
}

static void emit(struct mysql *m, enum kspan_parser_event_type type, uint32_t pflags,
		 const struct my_rec *r, const struct my_resp *rs)
{
	struct kspan_db_exchange x = {
		.system = m->system,
		.query = kstr("", 0),
		.command = kstr("", 0),
		.db_namespace = kstr(m->db, m->db_len),
		.user = kstr(m->user, m->user_len),
		.status_code = kstr("", 0),
		.error_message = kstr("", 0),
		.rows = -1,
		.flags = r->dbflags | (m->tls ? KSPAN_DB_F_ENCRYPTED : 0),
	};
	struct kspan_parser_event ev = {
		.type = type,
		.flags = pflags | r->pflags,
		.req_seq = r->seq,
		.req_first_ns = r->first_ns,
		.req_last_ns = r->last_ns,
		.detail = &x,
	};

	rec_query(m, r, &x);
	if (rs) {
		x.error = rs->error;
		x.rows = rs->rows_unknown ? -1 : rs->rows;
		if (rs->error) {
			x.status_code = kstr(rs->code, strlen(rs->code));
			x.error_message = kstr(rs->msg, rs->msg_len);
		}
		ev.resp_first_ns = rs->first_ns;
		ev.resp_last_ns = rs->last_ns;
	}
	if (m->base.on_event)
		m->base.on_event(m->base.ctx, &ev);
}

/* ---------------------------------------------------------------- prepared statements */

static void stmt_forget(struct mysql *m, uint32_t i)
{
	m->stmt_bytes -= m->stmts[i].len;
	free(m->stmts[i].text);
	m->stmts[i] = m->stmts[--m->n_stmts];
}

static void stmt_forget_id(struct mysql *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->n_stmts; i++)
		if (m->stmts[i].id == id) {
			stmt_forget(m, i);
			return;
		}
}

static void stmt_clear(struct mysql *m)
{
	while (m->n_stmts)
		stmt_forget(m, m->n_stmts - 1);
	m->have_last_prepared = false;
}

static void stmt_evict_oldest(struct mysql *m)
{
	uint32_t oldest = 0;

	for (uint32_t i = 1; i < m->n_stmts; i++)
		if (m->stmts[i].age < m->stmts[oldest].age)
			oldest = i;
	stmt_forget(m, oldest);
	m->base.stats.fields_dropped++;
}

/* Remembers statement id's text (from its prepare). */
static void stmt_add(struct mysql *m, uint32_t id, const char *text, uint16_t len, bool cut)
{
	struct my_stmt *st;
	char *copy;

	stmt_forget_id(m, id);
	m->last_prepared = id;
	m->have_last_prepared = true;
	if (!m->stmts) {
		m->stmts = calloc(KSPAN_MYSQL_STMT_MAX, sizeof(*m->stmts));
		if (!m->stmts)
			return;
	}
	while (m->n_stmts && (m->n_stmts >= KSPAN_MYSQL_STMT_MAX ||
			      m->stmt_bytes + len > KSPAN_MYSQL_STMT_TEXT_MAX))
		stmt_evict_oldest(m);
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, text ? text : "", len);
	copy[len] = '\0';
	st = &m->stmts[m->n_stmts++];
	*st = (struct my_stmt){
		.id = id, .len = len, .cut = cut, .age = ++m->stmt_clock, .text = copy
	};
	m->stmt_bytes += len;
}

/* ---------------------------------------------------------------- the FIFO */

static void rec_free(struct my_rec *r)
{
	if (r) {
		free(r->text);
		free(r);
	}
}

static void fifo_push(struct mysql *m, struct my_rec *r)
{
	r->next = NULL;
	if (m->tail)
		m->tail->next = r;
	else
		m->head = r;
	m->tail = r;
	m->pending++;
}

static struct my_rec *fifo_pop(struct mysql *m)
{
	struct my_rec *r = m->head;

	if (!r)
		return NULL;
	m->head = r->next;
	if (!m->head)
		m->tail = NULL;
	m->pending--;
	return r;
}

/* Sends the REQUEST event of r once (flagged incomplete when its bytes ended early). */
static void rec_report(struct mysql *m, struct my_rec *r, uint32_t pflags)
{
	if (r->reported)
		return;
	r->reported = true;
	r->pflags |= pflags;
	if (m->cur == r)
		m->cur = NULL;
	emit(m, KSPAN_PEV_REQUEST, 0, r, NULL);
}

/* Reports the oldest pending command as never answered. */
static void report_unanswered(struct mysql *m)
{
	struct my_rec *r = fifo_pop(m);

	rec_report(m, r, KSPAN_PEF_REQ_INCOMPLETE);
	m->base.stats.unanswered++;
	m->base.stats.exchanges++;
	emit(m, KSPAN_PEV_EXCHANGE, KSPAN_PEF_NO_RESPONSE, r, NULL);
	rec_free(r);
}

/* ---------------------------------------------------------------- reply state */

static void resp_clear(struct my_resp *rs, enum rs_phase phase)
{
	bool stray = rs->stray_eof;
	uint8_t stray_seq = rs->stray_eof_seq;

	memset(rs, 0, offsetof(struct my_resp, msg));
	rs->msg[0] = rs->schema[0] = rs->code[0] = '\0';
	rs->schema_len = 0;
	rs->phase = phase;
	rs->rows = -1;
	rs->stray_eof = stray;
	rs->stray_eof_seq = stray_seq;
}

static void rows_add(struct my_resp *rs, uint64_t n)
{
	if (rs->rows < 0)
		rs->rows = 0;
	if ((uint64_t)rs->rows + n < (uint64_t)INT64_MAX)
		rs->rows += n;
}

static void set_db(struct mysql *m, const void *s, size_t n)
{
	if (n > KSPAN_MYSQL_NAMESPACE_MAX)
		m->base.stats.fields_dropped++;
	m->db_len = put_str(m->db, KSPAN_MYSQL_NAMESPACE_MAX, s, n);
}

/* "USE db" (one statement, optional quotes): the database it selects, or false. */
static bool parse_use(const char *q, size_t n, const char **db, size_t *dn)
{
	size_t i = 0, s;
	char quote = 0;

	while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
		i++;
	if (n - i < 4 || strncasecmp(q + i, "use", 3) ||
	    (q[i + 3] != ' ' && q[i + 3] != '\t' && q[i + 3] != '\n' && q[i + 3] != '`'))
		return false;
	i += 3;
	while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
		i++;
	if (i < n && (q[i] == '`' || q[i] == '"'))
		quote = q[i++];
	s = i;
	while (i < n && (quote ? q[i] != quote :
				 (q[i] != ' ' && q[i] != ';' && q[i] != '\t' && q[i] != '\n' &&
				  q[i] != '\r')))
		i++;
	if (i == s || (quote && i == n))
		return false;
	*db = q + s;
	*dn = i - s;
	if (quote)
		i++;
	while (i < n &&
	       (q[i] == ' ' || q[i] == ';' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
		i++;
	return i == n;
}

/* What a successful reply changes in the connection. */
static void apply_success(struct mysql *m, const struct my_rec *r)
{
	const struct cmd_info *ci = &cmd_table[r->cmd];
	const char *db;
	size_t dn;

	switch (ci->kind) {
	case K_INIT_DB:
		set_db(m, r->text, r->text_len);
		break;
	case K_CHANGE_USER:
		if (!r->text)
			break;
		m->user_len = put_str(m->user, KSPAN_MYSQL_USER_MAX, r->text, r->user_len);
		set_db(m, r->text + r->user_len, r->text_len - r->user_len);
		stmt_clear(m);
		break;
	case K_QUERY:
		if (!m->rs.schema_changed && r->text && parse_use(r->text, r->text_len, &db, &dn))
			set_db(m, db, dn);
		break;
	default:
		if (r->cmd == COM_RESET_CONNECTION)
			stmt_clear(m);
		break;
	}
	if (m->rs.schema_changed)
		set_db(m, m->rs.schema, m->rs.schema_len);
}

/* The reply to the oldest command is complete. */
static void reply_done(struct mysql *m, uint32_t pflags)
{
	struct my_resp *rs = &m->rs;
	struct my_rec *r = fifo_pop(m);

	if (!r) {
		resp_clear(rs, RS_IDLE);
		return;
	}
	rs->in_reply = false;
	rec_report(m, r, KSPAN_PEF_REQ_INCOMPLETE);
	m->base.stats.exchanges++;
	/* The exchange carries the database it ran in; what it changes comes after. */
	emit(m, KSPAN_PEV_EXCHANGE, pflags | rs->pflags, r, rs);
	if (!rs->error && !rs->lost)
		apply_success(m, r);
	else if (!rs->error && rs->schema_changed)
		set_db(m, rs->schema, rs->schema_len);
	rec_free(r);
	resp_clear(rs, RS_IDLE);
}

/* ---------------------------------------------------------------- OK / ERR / EOF */

struct ok_info {
	uint64_t affected;
	uint32_t status;
};

/* Session state changes of an OK packet: remembers a new schema. */
static void session_track(struct mysql *m, struct rd *r)
{
	const uint8_t *s, *v;
	uint64_t n, vn;
	struct rd st;

	rd_lenenc_str(r, &s, &n); /* info */
	rd_lenenc_str(r, &s, &n); /* session state changes */
	if (r->bad)
		return;
	st = (struct rd){ s, s + n, false };
	while (st.p < st.end && !st.bad) {
		uint32_t type = rd_u8(&st);
		struct rd item;

		rd_lenenc_str(&st, &v, &vn);
		if (st.bad || type != SESSION_TRACK_SCHEMA)
			continue;
		item = (struct rd){ v, v + vn, false };
		rd_lenenc_str(&item, &v, &vn);
		if (item.bad)
			continue;
		if (vn > KSPAN_MYSQL_NAMESPACE_MAX)
			m->base.stats.fields_dropped++;
		m->rs.schema_len = put_str(m->rs.schema, KSPAN_MYSQL_NAMESPACE_MAX, v, vn);
		m->rs.schema_changed = true;
	}
}

/* An OK packet (header 0x00, or 0xfe as a result set's end); false when malformed. */
static bool parse_ok(struct mysql *m, const struct pkt *k, struct ok_info *ok)
{
	struct rd r = { k->b + 1, k->b + k->n, false };
	uint32_t caps = eff_caps(m);
	bool p41 = !caps_known(m) || (caps & CLIENT_PROTOCOL_41);

	ok->affected = rd_lenenc(&r);
	rd_lenenc(&r);
	ok->status = 0;
	if (p41 || (caps & CLIENT_TRANSACTIONS))
		ok->status = rd_u16(&r);
	if (p41)
		rd_u16(&r);
	if (r.bad)
		return false;
	if ((ok->status & SERVER_SESSION_STATE_CHANGED) &&
	    (!caps_known(m) || (caps & CLIENT_SESSION_TRACK)))
		session_track(m, &r);
	return true;
}

static bool is_progress(const struct pkt *k)
{
	return k->n >= 3 && k->b[0] == 0xff && le16(k->b + 1) == PROGRESS_CODE;
}

/* An ERR packet: error number, SQL state (when there), message. */
static void take_error(struct mysql *m, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	size_t at = 3;

	rs->error = true;
	if (k->n < 3) {
		snprintf(rs->code, sizeof(rs->code), "%s", "");
		return;
	}
	snprintf(rs->code, sizeof(rs->code), "%u", le16(k->b + 1));
	if (k->n >= 9 && k->b[3] == '#')
		at = 9;
	if (k->n > at) {
		if (k->len - at > KSPAN_MYSQL_ERROR_MAX)
			m->base.stats.fields_dropped++;
		rs->msg_len = put_str(rs->msg, KSPAN_MYSQL_ERROR_MAX, k->b + at, k->n - at);
	}
}

/* A result set's end marker: 0xfe in a packet shorter than a row could be. */
static bool is_terminator(const struct pkt *k)
{
	return k->n >= 1 && k->b[0] == 0xfe && k->len < MAX_PACKET;
}

/* An EOF packet (as opposed to an OK with header 0xfe): 5 bytes, or 1 before 4.1. */
static bool is_eof(const struct pkt *k)
{
	return is_terminator(k) && (k->len == 5 || k->len == 1);
}

/* Status flags of a terminator. */
static uint32_t terminator_status(struct mysql *m, const struct pkt *k)
{
	struct ok_info ok;

	if (is_eof(k))
		return k->n >= 5 ? le16(k->b + 3) : 0;
	return parse_ok(m, k, &ok) ? ok.status : 0;
}

/* ---------------------------------------------------------------- connection phase */

/* The server's Handshake v10: capabilities and which server it is. */
static bool parse_greeting(struct mysql *m, const struct pkt *k)
{
	struct rd r = { k->b + 1, k->b + k->n, false };
	const uint8_t *ver;
	size_t vn;
	uint32_t caps;

	if (k->n < 1 || k->b[0] != 0x0a)
		return false;
	rd_nulstr(&r, &ver, &vn, NULL);
	rd_skip(&r, 4 + 8 + 1);
	caps = rd_u16(&r);
	if (r.bad)
		return false;
	if (r.end - r.p >= 5) {
		rd_skip(&r, 3);
		caps |= rd_u16(&r) << 16;
	}
	m->server_caps = caps;
	m->server_caps_known = true;
	m->system = contains_nocase(ver, vn, "mariadb") ? "mariadb" : "mysql";
	return true;
}

enum hs_kind { HS_BAD, HS_SSL, HS_FULL };

/* HandshakeResponse41/320 or SSLRequest: capabilities, user, database. */
static enum hs_kind parse_handshake_response(struct mysql *m, const struct pkt *k)
{
	struct rd r = { k->b, k->b + k->n, false };
	const uint8_t *user = NULL, *db = NULL, *s;
	size_t un = 0, dn = 0, sn;
	uint64_t an = 0;
	uint32_t caps;
	bool cut = false;

	if (k->n < 4)
		return HS_BAD;
	caps = le16(k->b);
	if (caps & CLIENT_PROTOCOL_41) {
		caps = rd_u16(&r);
		caps |= rd_u16(&r) << 16;
		rd_skip(&r, 4 + 1 + 23);
		if (r.bad)
			return HS_BAD;
		if (k->len == 32)
			return caps & CLIENT_SSL ? HS_SSL : HS_BAD;
		rd_nulstr(&r, &user, &un, &cut);
		if (caps & CLIENT_PLUGIN_AUTH_LENENC_DATA)
			an = rd_lenenc(&r);
		else if (caps & CLIENT_SECURE_CONNECTION)
			an = rd_u8(&r);
		else
			rd_nulstr(&r, &s, &sn, &cut);
		rd_skip(&r, an);
		if ((caps & CLIENT_CONNECT_WITH_DB) && !r.bad)
			rd_nulstr(&r, &db, &dn, &cut);
	} else {
		rd_u16(&r);
		rd_skip(&r, 3);
		if (r.bad)
			return HS_BAD;
		if (k->len == 5)
			return caps & CLIENT_SSL ? HS_SSL : HS_BAD;
		rd_nulstr(&r, &user, &un, &cut);
		if ((caps & CLIENT_CONNECT_WITH_DB) && !r.bad) {
			rd_nulstr(&r, &s, &sn, &cut);
			rd_nulstr(&r, &db, &dn, &cut);
		}
	}
	if (r.bad && !user)
		return HS_BAD;
	m->client_caps = caps;
	m->client_caps_known = true;
	if (caps & CLIENT_SSL)
		m->tls = true;
	if (un > KSPAN_MYSQL_USER_MAX)
		m->base.stats.fields_dropped++;
	m->user_len = put_str(m->user, KSPAN_MYSQL_USER_MAX, user, un);
	if (db && !r.bad)
		set_db(m, db, dn);
	return HS_FULL;
}

static void compression_on(struct mysql *m);

static void auth_packet(struct mysql *m, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	struct ok_info ok;
	uint8_t h = k->n ? k->b[0] : 0;

	if (h == 0x00 && parse_ok(m, k, &ok)) {
		if (rs->schema_changed)
			set_db(m, rs->schema, rs->schema_len);
		resp_clear(rs, RS_IDLE);
		if ((eff_caps(m) & CLIENT_COMPRESS) && m->client_caps_known)
			compression_on(m);
		else if ((eff_caps(m) & CLIENT_ZSTD_COMPRESSION) && m->client_caps_known)
			set_status(m, KSPAN_PARSER_UPGRADED); /* zstd is not decoded */
		return;
	}
	if (h == 0xff) {
		/* Login refused: the server closes the connection. */
		resp_clear(rs, RS_IDLE);
		return;
	}
	/* 0xfe auth switch, 0x01 more data, or plugin data: the client answers. */
	rs->seq_any = true;
}

/* ---------------------------------------------------------------- replies */

static void resp_unsync(struct mysql *m);

static void reply_error(struct mysql *m, const struct pkt *k)
{
	take_error(m, k);
	reply_done(m, 0);
}

/* The end of one result: another follows when the server says so. */
static void result_end(struct mysql *m, uint32_t status)
{
	if (status & SERVER_MORE_RESULTS_EXISTS)
		m->rs.phase = RS_FIRST;
	else
		reply_done(m, 0);
}

static void result_first(struct mysql *m, const struct my_rec *r, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	struct ok_info ok;
	struct rd rd = { k->b, k->b + k->n, false };
	uint64_t ncols;
	uint8_t h = k->b[0];

	switch (h) {
	case 0x00:
		if (!parse_ok(m, k, &ok)) {
			resp_unsync(m);
			return;
		}
		rows_add(rs, ok.affected);
		result_end(m, ok.status);
		return;
	case 0xff:
		reply_error(m, k);
		return;
	case 0xfb:
		if (r->cmd == COM_QUERY) {
			/* LOCAL INFILE: the client uploads, then the server answers. */
			rs->phase = RS_INFILE;
			rs->seq_any = true;
			return;
		}
		break;
	case 0xfe:
		if (is_terminator(k)) {
			result_end(m, terminator_status(m, k));
			return;
		}
		break;
	default:
		break;
	}
	ncols = rd_lenenc(&rd);
	if (rd.bad || !ncols) {
		resp_unsync(m);
		return;
	}
	/* One more byte: "metadata follows" (MariaDB's cache, MySQL's optional metadata). */
	rows_add(rs, 0);
	if (k->n > lenenc_size(h) && !k->b[lenenc_size(h)]) {
		rs->phase = RS_COLS_DONE;
		return;
	}
	rs->defs_left = ncols;
	rs->phase = RS_COLS;
}

static void result_packet(struct mysql *m, const struct my_rec *r, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	uint32_t status;

	switch (rs->phase) {
	case RS_COLS:
		if (--rs->defs_left == 0)
			rs->phase = RS_COLS_DONE;
		return;
	case RS_COLS_DONE:
		if (is_eof(k)) {
			status = terminator_status(m, k);
			/* A cursor was opened: rows come by COM_STMT_FETCH. */
			if ((status & SERVER_STATUS_CURSOR_EXISTS) &&
			    cmd_table[r->cmd].kind == K_EXECUTE) {
				reply_done(m, 0);
				return;
			}
			rs->phase = RS_ROWS;
			return;
		}
		/* Without EOF packets, rows follow the definitions at once. */
		rs->phase = RS_ROWS;
		/* fall through */
	case RS_ROWS:
	default:
		if (is_terminator(k)) {
			result_end(m, terminator_status(m, k));
		} else if (k->b[0] == 0xff && k->len < MAX_PACKET) {
			reply_error(m, k);
		} else {
			rows_add(rs, 1);
		}
		return;
	}
}

/* A block of prepare-reply definitions ended: its EOF, the next block, or the end. */
static void prep_block_done(struct mysql *m, const struct pkt *k, bool eof_seen)
{
	struct my_resp *rs = &m->rs;
	enum eof_mode mode = eof_mode(m);

	if (mode == EOF_YES && !eof_seen) {
		rs->phase = RS_PREP_EOF;
		return;
	}
	if (rs->prep_in_params && rs->prep_cols) {
		rs->prep_in_params = false;
		rs->defs_left = rs->prep_cols;
		rs->prep_section_start = true;
		rs->phase = RS_PREP_DEFS;
		return;
	}
	reply_done(m, 0);
	if (mode == EOF_UNKNOWN) {
		/* Older clients get an EOF here; with the capabilities unknown, allow one. */
		rs->stray_eof = true;
		rs->stray_eof_seq = k->last_seq + 1;
	}
}

static void prepare_packet(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	uint32_t params, cols;

	switch (rs->phase) {
	case RS_FIRST:
		if (k->b[0] == 0xff) {
			reply_error(m, k);
			return;
		}
		if (k->b[0] != 0x00 || k->n < 12) {
			resp_unsync(m);
			return;
		}
		rs->prep_id = le32(k->b + 1);
		cols = le16(k->b + 5);
		params = le16(k->b + 7);
		if (r->text)
			stmt_add(m, rs->prep_id, r->text, r->text_len,
				 r->dbflags & KSPAN_DB_F_QUERY_CUT);
		if (k->n >= 13 && !k->b[12])
			params = cols = 0; /* MySQL's optional metadata: none follows */
		rs->prep_cols = cols;
		rs->prep_in_params = params > 0;
		rs->defs_left = params ? params : cols;
		rs->prep_section_start = true;
		if (!rs->defs_left) {
			reply_done(m, 0);
			return;
		}
		rs->phase = RS_PREP_DEFS;
		return;
	case RS_PREP_EOF:
		if (!is_eof(k)) {
			resp_unsync(m);
			return;
		}
		prep_block_done(m, k, true);
		return;
	default:
		/* With the capabilities unknown, the previous block's EOF may come first. */
		if (rs->prep_section_start && !rs->prep_in_params && eof_mode(m) == EOF_UNKNOWN &&
		    is_eof(k))
			return;
		rs->prep_section_start = false;
		if (--rs->defs_left == 0)
			prep_block_done(m, k, false);
		return;
	}
}

/* Replies of one packet (progress reports aside); 0xfe is EOF or an auth switch. */
static void one_packet(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	struct ok_info ok;
	uint8_t h = k->b[0];

	if (h == 0xff) {
		reply_error(m, k);
		return;
	}
	if (h == 0x00 && cmd_table[r->cmd].kind != K_STAT) {
		if (!parse_ok(m, k, &ok)) {
			resp_unsync(m);
			return;
		}
		rows_add(rs, ok.affected);
	}
	reply_done(m, 0);
}

static void change_user_packet(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	uint8_t h = k->b[0];

	if (h == 0x00 || h == 0xff) {
		one_packet(m, r, k);
		return;
	}
	m->rs.phase = RS_CHANGE_USER;
	m->rs.seq_any = true;
}

/* A packet of the reply to r. */
static void reply_packet(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	enum cmd_kind kind = cmd_table[r->cmd].kind;

	if (is_progress(k))
		return;
	switch (kind) {
	case K_QUERY:
	case K_EXECUTE:
	case K_RESULT:
		if (rs->phase == RS_FIRST)
			result_first(m, r, k);
		else if (rs->phase == RS_INFILE)
			one_packet(m, r, k);
		else
			result_packet(m, r, k);
		return;
	case K_FETCH:
		rs->phase = RS_ROWS;
		rows_add(rs, 0);
		result_packet(m, r, k);
		return;
	case K_PREPARE:
		prepare_packet(m, r, k);
		return;
	case K_FIELD_LIST:
		if (is_terminator(k))
			reply_done(m, 0);
		else if (k->b[0] == 0xff)
			reply_error(m, k);
		else
			rs->phase = RS_FIELDS;
		return;
	case K_CHANGE_USER:
		change_user_packet(m, r, k);
		return;
	case K_DUMP:
		if (k->b[0] == 0xff) {
			reply_error(m, k);
			return;
		}
		reply_done(m, 0);
		set_status(m, KSPAN_PARSER_UPGRADED); /* an event stream follows */
		return;
	default:
		one_packet(m, r, k);
		return;
	}
}

/* A packet from the server while no reply is in progress. */
static void idle_packet(struct mysql *m, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	struct my_rec *r = m->head;

	if (rs->stray_eof && seq_is(m, KSPAN_MSG_RESPONSE, k->seq, rs->stray_eof_seq) &&
	    is_eof(k)) {
		rs->stray_eof = false;
		return;
	}
	rs->stray_eof = false;
	if (!r ||
	    (!r->seq_unknown && !seq_is(m, KSPAN_MSG_RESPONSE, k->seq, r->last_pkt_seq + 1)) ||
	    (r->seq_unknown && !k->seq)) {
		/* Not an answer we expect (a request we missed, an unsolicited error before
		 * a close): lose the place until a reply we can pair starts a read. */
		m->base.stats.orphan_responses++;
		resp_unsync(m);
		return;
	}
	if (m->cur == r)
		rec_report(m, r, KSPAN_PEF_REQ_INCOMPLETE);
	rs->in_reply = true;
	rs->first_ns = k->first_ns;
	rs->phase = RS_FIRST;
}

static void resp_packet(struct mysql *m, const struct pkt *k)
{
	struct my_resp *rs = &m->rs;
	bool seq_any = rs->seq_any;

	if (!k->n) {
		/* An empty (or uncaptured) packet: nothing in this protocol replies with it. */
		resp_unsync(m);
		return;
	}
	/* Handlers set it again when the client takes a turn (auth data, an upload). */
	rs->seq_any = false;
	switch (rs->phase) {
	case RS_GREETING:
		if (k->seq == 0 && k->b[0] == 0x0a && parse_greeting(m, k)) {
			m->proven[KSPAN_MSG_RESPONSE] = true;
			rs->phase = RS_AUTH;
		} else if (k->seq == 0 && k->b[0] == 0xff) {
			m->proven[KSPAN_MSG_RESPONSE] = true;
			rs->phase = RS_IDLE; /* refused (too many connections, host blocked) */
		} else if (k->seq >= 2 &&
			   (k->b[0] == 0x00 || k->b[0] == 0x01 || k->b[0] == 0xfe ||
			    k->b[0] == 0xff) &&
			   m->client_caps_known) {
			/* The decrypted side of a TLS connection: the handshake was in clear. */
			m->proven[KSPAN_MSG_RESPONSE] = true;
			rs->phase = RS_AUTH;
			auth_packet(m, k);
		} else {
			set_status(m, KSPAN_PARSER_NOT_PROTO);
		}
		break;
	case RS_AUTH:
		auth_packet(m, k);
		break;
	case RS_IDLE:
		idle_packet(m, k);
		if (rs->phase == RS_FIRST && active(m)) {
			rs->last_ns = k->last_ns;
			reply_packet(m, m->head, k);
		}
		break;
	default:
		if (!rs->in_reply ||
		    (!seq_any && !seq_is(m, KSPAN_MSG_RESPONSE, k->seq, rs->next_seq))) {
			/* Out of step: our place in the reply is wrong. */
			resp_unsync(m);
			return;
		}
		rs->last_ns = k->last_ns;
		reply_packet(m, m->head, k);
		break;
	}
	rs->next_seq = k->last_seq + 1;
}

/* ---------------------------------------------------------------- requests */

/* Query attributes (CLIENT_QUERY_ATTRIBUTES) before a COM_QUERY's text: their size. */
static size_t query_attrs_size(const struct mysql *m, const uint8_t *b, size_t n)
{
	struct rd r = { b, b + n, false };
	const uint8_t *nulls;
	uint8_t types[QUERY_ATTRS_MAX];
	uint64_t count, vn;

	if (caps_known(m) ? !(eff_caps(m) & CLIENT_QUERY_ATTRIBUTES) :
			    !(n >= 2 && b[0] == 0x00 && b[1] == 0x01))
		return 0;
	count = rd_lenenc(&r);
	rd_lenenc(&r);
	if (!count || r.bad)
		return r.bad ? n + 1 : (size_t)(r.p - b);
	if (count > QUERY_ATTRS_MAX)
		return n + 1;
	nulls = r.p;
	rd_skip(&r, (count + 7) / 8);
	if (!rd_u8(&r)) /* types not sent: not on a COM_QUERY */
		return n + 1;
	for (uint64_t i = 0; i < count && !r.bad; i++) {
		const uint8_t *name;

		types[i] = rd_u8(&r);
		rd_u8(&r);
		rd_lenenc_str(&r, &name, &vn);
	}
	/* Values: binary protocol, sized by type; NULLs are only in the bitmap. */
	for (uint64_t i = 0; i < count && !r.bad; i++) {
		if (nulls[i >> 3] >> (i & 7) & 1)
			continue;
		switch (types[i]) {
		case 0x01: /* TINY */
			rd_skip(&r, 1);
			break;
		case 0x02: /* SHORT */
		case 0x0d: /* YEAR */
			rd_skip(&r, 2);
			break;
		case 0x03: /* LONG */
		case 0x04: /* FLOAT */
		case 0x09: /* INT24 */
			rd_skip(&r, 4);
			break;
		case 0x05: /* DOUBLE */
		case 0x08: /* LONGLONG */
			rd_skip(&r, 8);
			break;
		case 0x06: /* NULL */
			break;
		case 0x07: /* TIMESTAMP */
		case 0x0a: /* DATE */
		case 0x0b: /* TIME */
		case 0x0c: /* DATETIME */
			rd_skip(&r, rd_u8(&r));
			break;
		default: /* strings, decimals, blobs, JSON, ...: length-encoded */
			rd_skip(&r, rd_lenenc(&r));
			break;
		}
	}
	return r.bad ? n + 1 : (size_t)(r.p - b);
}

/* Copies a command's text into r: the whole payload after `skip` bytes, cut at cap. */
static void rec_take_text(struct mysql *m, struct my_rec *r, const struct pkt *k, size_t skip,
			  size_t cap)
{
	size_t avail = k->n > skip ? k->n - skip : 0;
	size_t n = MIN(avail, cap);

	if (k->len > skip + n || k->n < skip) {
		r->dbflags |= KSPAN_DB_F_QUERY_CUT;
		m->base.stats.lines_truncated++;
	}
	r->text = malloc(n + 1);
	if (!r->text) {
		r->dbflags |= KSPAN_DB_F_QUERY_CUT;
		return;
	}
	memcpy(r->text, k->b + skip, n);
	r->text[n] = '\0';
	r->text_len = n;
}

/* COM_INIT_DB: the schema name. */
static void rec_take_name(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	size_t n = k->n > 1 ? k->n - 1 : 0;

	if (k->len - 1 > KSPAN_MYSQL_NAMESPACE_MAX)
		m->base.stats.fields_dropped++;
	n = MIN(n, (size_t)KSPAN_MYSQL_NAMESPACE_MAX);
	r->text = malloc(n + 1);
	if (!r->text)
		return;
	r->text_len = put_str(r->text, n, k->b + 1, n);
}

/* COM_STMT_EXECUTE and friends: the statement's text from its prepare. */
static void rec_take_stmt(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	const struct my_stmt *st = NULL;
	const struct my_rec *p;
	const char *text = NULL;
	size_t len = 0;
	bool cut = false;

	if (k->n < 5) {
		r->dbflags |= KSPAN_DB_F_TEXT_UNKNOWN;
		return;
	}
	r->stmt_id = le32(k->b + 1);
	r->has_stmt = true;
	if (r->stmt_id == 0xffffffffu) {
		/* MariaDB: "the statement just prepared", possibly in the same write. */
		for (p = m->head; p; p = p->next)
			if (cmd_table[p->cmd].kind == K_PREPARE && p != r) {
				text = p->text;
				len = p->text_len;
				cut = p->dbflags & KSPAN_DB_F_QUERY_CUT;
			}
		if (!text && m->have_last_prepared)
			st = stmt_find(m, m->last_prepared);
	} else {
		st = stmt_find(m, r->stmt_id);
	}
	if (st) {
		text = st->text;
		len = st->len;
		cut = st->cut;
	}
	if (!text) {
		r->dbflags |= KSPAN_DB_F_TEXT_UNKNOWN;
		return;
	}
	r->text = malloc(len + 1);
	if (!r->text) {
		r->dbflags |= KSPAN_DB_F_TEXT_UNKNOWN;
		return;
	}
	memcpy(r->text, text, len);
	r->text[len] = '\0';
	r->text_len = len;
	r->dbflags |= KSPAN_DB_F_PREPARED | (cut ? KSPAN_DB_F_QUERY_CUT : 0);
}

/* COM_CHANGE_USER: the new user and database (the auth response is skipped). */
static void rec_take_change_user(struct mysql *m, struct my_rec *r, const struct pkt *k)
{
	struct rd rd = { k->b + 1, k->b + k->n, false };
	const uint8_t *user, *db = NULL, *s;
	size_t un, dn = 0, sn;
	bool cut = false;

	rd_nulstr(&rd, &user, &un, &cut);
	if (eff_caps(m) & CLIENT_SECURE_CONNECTION || !caps_known(m))
		rd_skip(&rd, rd_u8(&rd));
	else
		rd_nulstr(&rd, &s, &sn, &cut);
	if (!rd.bad)
		rd_nulstr(&rd, &db, &dn, &cut);
	un = MIN(un, (size_t)KSPAN_MYSQL_USER_MAX);
	dn = rd.bad ? 0 : MIN(dn, (size_t)KSPAN_MYSQL_NAMESPACE_MAX);
	r->text = malloc(un + dn + 1);
	if (!r->text)
		return;
	memcpy(r->text, user, un);
	if (dn)
		memcpy(r->text + un, db, dn);
	r->text[un + dn] = '\0';
	r->user_len = un;
	r->text_len = un + dn;
}

/* The first byte of a command with a reply: it is pending from now on. */
static void command_start(struct mysql *m, uint8_t cmd, uint64_t first_ns)
{
	struct kspan_parser_event ev = { .type = KSPAN_PEV_REQUEST_START };
	struct my_rec *r;

	if (m->pending >= KSPAN_MYSQL_PIPELINE_MAX) {
		set_status(m, KSPAN_PARSER_LOST);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		set_status(m, KSPAN_PARSER_LOST);
		return;
	}
	r->cmd = cmd;
	r->first_ns = r->last_ns = first_ns;
	r->seq = ++m->last_seq;
	if (cmd_table[cmd].kind == K_PREPARE)
		r->dbflags |= KSPAN_DB_F_PREPARE;
	fifo_push(m, r);
	m->cur = r;
	m->base.stats.requests++;
	ev.req_seq = r->seq;
	ev.req_first_ns = first_ns;
	if (m->base.on_event)
		m->base.on_event(m->base.ctx, &ev);
}

/* A whole command packet: take what the events carry, report the request. */
static void command_done(struct mysql *m, const struct pkt *k)
{
	struct my_rec *r = m->cur;
	uint8_t cmd = k->b[0];

	if (cmd == COM_STMT_CLOSE && k->n >= 5)
		stmt_forget_id(m, le32(k->b + 1));
	if (!r)
		return;
	r->last_ns = k->last_ns;
	r->last_pkt_seq = k->last_seq;
	switch (cmd_table[cmd].kind) {
	case K_QUERY:
		rec_take_text(m, r, k, 1 + query_attrs_size(m, k->b + 1, k->n - 1),
			      KSPAN_DB_QUERY_MAX);
		break;
	case K_PREPARE:
		rec_take_text(m, r, k, 1, KSPAN_DB_QUERY_MAX);
		break;
	case K_EXECUTE:
	case K_FETCH:
	case K_STMT:
		rec_take_stmt(m, r, k);
		break;
	case K_INIT_DB:
		rec_take_name(m, r, k);
		break;
	case K_CHANGE_USER:
		rec_take_change_user(m, r, k);
		break;
	default:
		break;
	}
	rec_report(m, r, 0);
}

/* Could this packet be a command (sequence id 0, a known byte, a fitting size)? */
static bool command_plausible(const uint8_t *b, size_t n, uint64_t len)
{
	const struct cmd_info *ci;

	if (n < 1 || !len)
		return false;
	ci = &cmd_table[b[0]];
	if (ci->kind == K_NONE || len < ci->min_len || (ci->max_len && len > ci->max_len))
		return false;
	if (ci->kind == K_QUERY || ci->kind == K_PREPARE || ci->kind == K_INIT_DB) {
		/* Text: the first bytes must look like it (query attributes aside). */
		size_t at = 1;

		if (ci->kind == K_QUERY && n >= 3 && b[1] == 0x00 && b[2] == 0x01)
			at = 3;
		for (size_t i = at; i < MIN(n, (size_t)32); i++)
			if (!is_text_byte(b[i]))
				return false;
	}
	return true;
}

static void req_unsync(struct mysql *m);

/* The first payload byte of a request packet (its command byte when seq is 0). */
static void req_first_byte(struct mysql *m, uint8_t seq, uint8_t c, uint64_t first_ns, uint64_t len)
{
	struct my_frame *f = &m->dir[KSPAN_MSG_REQUEST].f;
	const struct cmd_info *ci = &cmd_table[c];

	if (m->rq == RQ_START && seq != 0)
		return; /* a HandshakeResponse */
	if (seq != 0) {
		/* Auth data, a LOCAL INFILE upload: nothing to keep (and credentials). */
		f->keep = 0;
		f->secret = true;
		return;
	}
	if (ci->kind == K_NONE) {
		if (!m->proven[KSPAN_MSG_REQUEST] && !(m->flags & KSPAN_PARSER_MIDSTREAM))
			set_status(m, KSPAN_PARSER_NOT_PROTO);
		else
			req_unsync(m);
		return;
	}
	if (!m->proven[KSPAN_MSG_REQUEST] && !(m->flags & KSPAN_PARSER_MIDSTREAM) &&
	    (len < ci->min_len || (ci->max_len && len > ci->max_len))) {
		/* The first bytes of a connection: a command of an impossible size is not
		 * MySQL (a TLS ClientHello reads as COM_QUIT of 66 KB). */
		set_status(m, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	if (m->rq != RQ_CMD) {
		m->rq = RQ_CMD;
		/* Commands without a handshake seen: the server's side is in its command
		 * phase too. */
		if (m->rs.phase == RS_GREETING)
			m->rs.phase = RS_IDLE;
	}
	m->proven[KSPAN_MSG_REQUEST] = true;
	if (ci->kind == K_CHANGE_USER)
		f->secret = true;
	if (ci->kind != K_NO_REPLY)
		command_start(m, c, first_ns);
}

static void req_packet(struct mysql *m, const struct pkt *k)
{
	if (m->rq == RQ_START && k->seq != 0) {
		switch (parse_handshake_response(m, k)) {
		case HS_SSL:
			set_status(m, KSPAN_PARSER_UPGRADED); /* TLS from here */
			return;
		case HS_FULL:
			m->proven[KSPAN_MSG_REQUEST] = true;
			m->rq = RQ_AUTH;
			return;
		default:
			set_status(m, KSPAN_PARSER_NOT_PROTO);
			return;
		}
	}
	if (k->seq != 0) {
		/* A continuation: auth data, LOCAL INFILE data. Expected only there. */
		if (m->rq == RQ_AUTH ||
		    (m->tail &&
		     (m->tail->cmd == COM_QUERY || cmd_table[m->tail->cmd].kind == K_CHANGE_USER)))
			return;
		req_unsync(m);
		return;
	}
	if (!k->n) {
		/* The command byte was not captured: nothing to pair a reply with. */
		req_unsync(m);
		return;
	}
	command_done(m, k);
}

/* ---------------------------------------------------------------- packet framing */

static void frame_begin(struct mysql *m, enum kspan_msg_dir dn, uint32_t wire_len)
{
	struct my_frame *f = &m->dir[dn].f;

	f->first_seq = f->seq;
	f->first_ns = f->hdr_ns;
	f->total = 0;
	f->kb_len = 0;
	f->kept_gap = f->secret = f->first_seen = false;
	f->keep = dn == KSPAN_MSG_REQUEST ? REQ_KEEP : RESP_KEEP;
	if (dn == KSPAN_MSG_REQUEST) {
		if (m->rq == RQ_START && f->seq != 0) {
			f->secret = true; /* a HandshakeResponse: the auth response is in it */
			if (f->seq > 2 || wire_len < 4 || wire_len > HANDSHAKE_MAX)
				set_status(m, KSPAN_PARSER_NOT_PROTO);
		}
	} else if (m->rs.phase == RS_GREETING && !m->proven[KSPAN_MSG_RESPONSE]) {
		if ((f->seq == 0 && wire_len > GREETING_MAX) || wire_len > HANDSHAKE_MAX ||
		    f->seq == 1)
			set_status(m, KSPAN_PARSER_NOT_PROTO);
	}
}

static void frame_first_byte(struct mysql *m, enum kspan_msg_dir dn, uint8_t c)
{
	struct my_frame *f = &m->dir[dn].f;

	f->first_seen = true;
	if (dn == KSPAN_MSG_REQUEST)
		req_first_byte(m, f->first_seq, c, f->first_ns,
			       f->cont || f->wire_len == MAX_PACKET ? MAX_PACKET : f->wire_len);
}

static void frame_keep(struct my_frame *f, enum kspan_msg_dir dn, const uint8_t *p, size_t n)
{
	size_t room;

	if (f->kept_gap || f->kb_len >= f->keep)
		return;
	if (!f->kb) {
		/* Once per direction, at the most it ever keeps. */
		f->kb_cap = dn == KSPAN_MSG_REQUEST ? REQ_KEEP : RESP_KEEP;
		f->kb = malloc(f->kb_cap);
		if (!f->kb) {
			f->kept_gap = true;
			return;
		}
	}
	room = f->keep - f->kb_len;
	n = MIN(n, room);
	memcpy(f->kb + f->kb_len, p, n);
	f->kb_len += n;
}

/* A logical packet is complete: hand it to its direction's interpreter. */
static void frame_deliver(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *b, uint32_t n,
			  uint64_t ts)
{
	struct my_frame *f = &m->dir[dn].f;
	struct pkt k = {
		.b = b,
		.n = n,
		.len = f->total,
		.first_ns = f->first_ns,
		.last_ns = ts,
		.seq = f->first_seq,
		.last_seq = f->seq,
		.gap = f->kept_gap,
	};

	if (!f->first_seen && k.n)
		frame_first_byte(m, dn, k.b[0]);
	if (active(m) && m->dir[dn].synced) {
		if (dn == KSPAN_MSG_REQUEST)
			req_packet(m, &k);
		else
			resp_packet(m, &k);
	}
	if (f->secret && f->kb_len)
		explicit_bzero(f->kb, f->kb_len);
	f->kb_len = 0;
	f->secret = false;
}

static void frame_wire_done(struct mysql *m, enum kspan_msg_dir dn, uint64_t ts)
{
	struct my_frame *f = &m->dir[dn].f;

	f->hdr_have = 0;
	if (f->wire_len == MAX_PACKET) {
		f->cont = true;
		return;
	}
	f->cont = false;
	frame_deliver(m, dn, f->kb ? f->kb : (const uint8_t *)"", f->kb_len, ts);
}

/* A header is complete: start (or continue) a logical packet. */
static bool frame_header(struct mysql *m, enum kspan_msg_dir dn)
{
	struct my_frame *f = &m->dir[dn].f;
	uint32_t len = le24(f->hdr);
	uint8_t seq = f->hdr[3];

	if (f->cont && !seq_is(m, dn, seq, f->seq + 1))
		return false;
	f->seq = seq;
	f->wire_len = len;
	f->wire_got = 0;
	if (!f->cont)
		frame_begin(m, dn, len);
	return true;
}

static void dir_lost(struct mysql *m, enum kspan_msg_dir dn, uint64_t ts);

/*
 * Consumes captured bytes of direction dn through the packet framing; stops early when
 * the direction loses its place or its mode changes. Returns the bytes consumed.
 */
static size_t frame_bytes(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n,
			  uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	struct my_frame *f = &d->f;
	const uint8_t *start = p, *end = p + n;
	bool compressed = d->compressed;

	while (p < end && active(m) && d->synced && d->compressed == compressed) {
		if (f->hdr_have < 4) {
			if (!f->hdr_have && !f->cont && end - p >= 4) {
				uint32_t len = le24(p);

				if (len < MAX_PACKET && (size_t)(end - p - 4) >= len) {
					/* The whole packet is here: read it in place. */
					f->hdr_ns = ts;
					memcpy(f->hdr, p, 4);
					frame_header(m, dn);
					f->total = len;
					p += 4 + len;
					if (!active(m))
						break;
					if (len)
						frame_first_byte(m, dn, p[-(long)len]);
					if (!active(m) || !d->synced)
						break;
					frame_deliver(m, dn, p - len, MIN(len, f->keep), ts);
					continue;
				}
			}
			if (!f->hdr_have)
				f->hdr_ns = ts;
			f->hdr[f->hdr_have++] = *p++;
			if (f->hdr_have < 4)
				continue;
			if (!frame_header(m, dn)) {
				dir_lost(m, dn, ts);
				break;
			}
			if (!f->wire_len)
				frame_wire_done(m, dn, ts);
			continue;
		}
		{
			size_t k = MIN((size_t)(end - p), (size_t)(f->wire_len - f->wire_got));

			if (!f->first_seen && !f->total && k) {
				frame_first_byte(m, dn, p[0]);
				if (!active(m) || !d->synced)
					break;
			}
			frame_keep(f, dn, p, k);
			f->wire_got += k;
			f->total += k;
			p += k;
			if (f->wire_got == f->wire_len)
				frame_wire_done(m, dn, ts);
		}
	}
	return p - start;
}

/* n bytes of direction dn happened but were not captured. Returns the bytes used. */
static uint64_t frame_gap(struct mysql *m, enum kspan_msg_dir dn, uint64_t n, uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	struct my_frame *f = &d->f;
	uint64_t used = 0;
	bool compressed = d->compressed;

	while (n && active(m) && d->synced && d->compressed == compressed) {
		uint64_t k;

		if (f->hdr_have < 4) {
			/* Where the next packet starts is unknown. */
			dir_lost(m, dn, ts);
			break;
		}
		k = MIN(n, (uint64_t)(f->wire_len - f->wire_got));
		if (k && f->kb_len < f->keep)
			f->kept_gap = true;
		f->wire_got += k;
		f->total += k;
		n -= k;
		used += k;
		if (f->wire_got == f->wire_len)
			frame_wire_done(m, dn, ts);
	}
	return used;
}

static void frame_reset(struct my_frame *f)
{
	if (f->kb && f->secret)
		explicit_bzero(f->kb, f->kb_len);
	f->hdr_have = 0;
	f->cont = f->kept_gap = f->secret = f->first_seen = false;
	f->wire_len = f->wire_got = 0;
	f->total = 0;
	f->kb_len = 0;
}

/* ---------------------------------------------------------------- losing and finding our place */

static void skip_bytes(struct mysql *m, enum kspan_msg_dir dn, uint64_t n)
{
	struct my_dir *d = &m->dir[dn];

	m->base.stats.skipped_bytes += n;
	if (d->skip_exempt)
		return;
	d->skipped += n;
	if (d->skipped > KSPAN_MYSQL_RESYNC_MAX)
		set_status(m, KSPAN_PARSER_LOST);
}

static void resp_unsync(struct mysql *m)
{
	struct my_dir *d = &m->dir[KSPAN_MSG_RESPONSE];
	struct my_resp *rs = &m->rs;

	d->synced = false;
	d->skipped = 0;
	d->skip_exempt = false;
	frame_reset(&d->f);
	rs->stray_eof = false;
	if (rs->in_reply) {
		/* The reply goes on in bytes we cannot frame: it ends later (see resp_resync). */
		rs->lost = true;
		rs->rows_unknown = true;
		rs->pflags |= KSPAN_PEF_RESP_INCOMPLETE;
		d->skip_exempt = true;
	} else if (rs->phase != RS_IDLE) {
		resp_clear(rs, RS_IDLE);
	}
}

static void req_unsync(struct mysql *m)
{
	struct my_dir *d = &m->dir[KSPAN_MSG_REQUEST];

	if (m->cur) {
		m->cur->seq_unknown = true;
		rec_report(m, m->cur, KSPAN_PEF_REQ_INCOMPLETE);
	}
	d->synced = false;
	d->skipped = 0;
	/* Inside a command's upload (LOCAL INFILE), skipping is expected. */
	d->skip_exempt = m->proven[KSPAN_MSG_REQUEST];
	frame_reset(&d->f);
	m->rq = RQ_CMD;
}

static void dir_lost(struct mysql *m, enum kspan_msg_dir dn, uint64_t ts)
{
	if (dn == KSPAN_MSG_REQUEST) {
		struct my_frame *f = &m->dir[dn].f;

		/* A command cut short still gets its REQUEST, with what was kept. */
		if (m->cur) {
			m->cur->seq_unknown = true;
			m->cur->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
		}
		if (m->cur && f->first_seen && f->kb_len) {
			struct pkt k = { .b = f->kb,
					 .n = f->kb_len,
					 .len = f->total + 1,
					 .first_ns = f->first_ns,
					 .last_ns = ts,
					 .seq = f->first_seq,
					 .last_seq = f->seq,
					 .gap = true };

			command_done(m, &k);
		}
		req_unsync(m);
	} else {
		if (m->rs.phase == RS_GREETING || m->rs.phase == RS_AUTH)
			resp_clear(&m->rs, RS_IDLE);
		resp_unsync(m);
	}
}

/* Could b[0..n) (of a read of len bytes) start the reply to r? */
static bool reply_plausible(struct mysql *m, const struct my_rec *r, const uint8_t *b, size_t n)
{
	uint32_t len;
	uint8_t h;
	struct pkt k;
	struct ok_info ok;
	enum cmd_kind kind = cmd_table[r->cmd].kind;

	if (n < 5)
		return false;
	len = le24(b);
	h = b[4];
	if (!len ||
	    (r->seq_unknown ? !b[3] : !seq_is(m, KSPAN_MSG_RESPONSE, b[3], r->last_pkt_seq + 1)))
		return false;
	k = (struct pkt){ .b = b + 4, .n = MIN((size_t)len, n - 4), .len = len };
	if (h == 0xff)
		return len >= 3 && (k.n < 4 || k.b[3] == '#' || len < 9 || kind == K_STAT);
	if (kind == K_STAT)
		return true;
	if (h == 0x00 && kind != K_FETCH) {
		if (kind == K_PREPARE)
			return len == 12 || len == 13;
		return k.n == len && parse_ok(m, &k, &ok);
	}
	switch (kind) {
	case K_QUERY:
	case K_EXECUTE:
	case K_RESULT:
		if (h == 0xfb)
			return r->cmd == COM_QUERY && len > 1;
		if (h == 0xfe || h == 0xff)
			return false;
		return len == lenenc_size(h) || len == lenenc_size(h) + 1;
	case K_FETCH:
		return h == 0x00 || (h == 0xfe && len < 9);
	case K_FIELD_LIST:
		return (h == 0x03 && k.n >= 4 && !memcmp(k.b + 1, "def", 3)) ||
		       (h == 0xfe && len < 9);
	case K_CHANGE_USER:
		return h == 0xfe || h == 0x01;
	case K_PREPARE:
		return false;
	default:
		return h == 0xfe && len < 9;
	}
}

/* A fully captured read ends with a result set's last packet: where it ends. */
static bool tail_terminator(const uint8_t *b, size_t n, size_t *at)
{
	/* EOF: 05 00 00 sq fe ww ww ss ss */
	if (n >= 9 && le24(b + n - 9) == 5 && b[n - 5] == 0xfe) {
		*at = n - 9;
		return true;
	}
	/* OK with header 0xfe (CLIENT_DEPRECATE_EOF), info and state changes aside. */
	for (size_t len = 7; len <= 64 && len + 4 <= n; len++) {
		const uint8_t *h = b + n - len - 4;
		struct rd r = { h + 5, b + n, false };

		if (le24(h) != len || h[4] != 0xfe)
			continue;
		rd_lenenc(&r);
		rd_lenenc(&r);
		rd_skip(&r, 4);
		if (!r.bad) {
			*at = n - len - 4;
			return true;
		}
	}
	/* ERR: ff code '#' state message */
	for (size_t len = 9; len <= 9 + KSPAN_MYSQL_ERROR_MAX && len + 4 <= n; len++) {
		const uint8_t *h = b + n - len - 4;

		if (le24(h) == len && h[4] == 0xff && h[7] == '#') {
			*at = n - len - 4;
			return true;
		}
	}
	return false;
}

static size_t feed_synced(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n,
			  uint64_t ts);

/*
 * A read while the response side has lost its place. Returns how many leading bytes
 * are to be skipped (n: all of them); the rest is parsed in sync.
 */
static size_t resp_resync(struct mysql *m, const uint8_t *b, size_t n, uint64_t len, uint64_t ts,
			  bool read_start)
{
	struct my_dir *d = &m->dir[KSPAN_MSG_RESPONSE];
	struct my_resp *rs = &m->rs;
	struct my_rec *want = m->head;
	size_t at;

	if (rs->lost && want)
		want = want->next;
	if (want && n && reply_plausible(m, want, b, n)) {
		if (rs->lost)
			reply_done(m, 0);
		while (m->head != want)
			report_unanswered(m);
		d->synced = true;
		d->skipped = 0;
		d->skip_exempt = false;
		m->proven[KSPAN_MSG_RESPONSE] = true;
		m->base.stats.resyncs++;
		return 0;
	}
	if (rs->lost && (!m->head || !m->head->next)) {
		rs->last_ns = ts;
		if (read_start && n == len &&
		    (rs->phase == RS_COLS || rs->phase == RS_COLS_DONE || rs->phase == RS_ROWS ||
		     rs->phase == RS_FIELDS) &&
		    tail_terminator(b, n, &at)) {
			/* The read ends with the result's last packet: parse it in sync. */
			if (rs->phase == RS_COLS)
				rs->phase = RS_COLS_DONE;
			d->synced = true;
			d->skipped = 0;
			rs->seq_any = true;
			rs->lost = false;
			m->base.stats.resyncs++;
			return at;
		}
	}
	return n;
}

static bool req_resync(struct mysql *m, const uint8_t *b, size_t n)
{
	struct my_dir *d = &m->dir[KSPAN_MSG_REQUEST];
	uint32_t len;

	if (n < 5 || b[3] != 0)
		return false;
	len = le24(b);
	if (!command_plausible(b + 4, n - 4, len))
		return false;
	d->synced = true;
	d->skipped = 0;
	d->skip_exempt = false;
	m->rq = RQ_CMD;
	if (m->rs.phase == RS_GREETING || m->rs.phase == RS_AUTH)
		resp_clear(&m->rs, RS_IDLE);
	m->base.stats.resyncs++;
	return true;
}

/* ---------------------------------------------------------------- compressed protocol */

/* Does b[0..n) start a compressed packet (7-byte header, then zlib or raw packets)? */
static bool compressed_plausible(const uint8_t *b, size_t n)
{
	uint32_t clen, ulen;

	/* 7-byte header, then a packet header or a zlib header */
	if (n < 11)
		return false;
	clen = le24(b);
	ulen = le24(b + 4);
	if (!clen)
		return false;
	if (!ulen)
		return clen >= 4 && le24(b + 7) + 4 <= clen;
	return b[7] == 0x78 && ((b[7] << 8) | b[8]) % 31 == 0 && clen < ulen + 64;
}

static void compression_on(struct mysql *m)
{
	for (int i = 0; i < 2; i++) {
		struct my_dir *d = &m->dir[i];

		d->compressed = true;
		d->z.synced = d->synced;
		d->z.hdr_have = 0;
		d->z.check = false;
	}
}

/* Inner (uncompressed) bytes of direction dn, from a compressed packet. */
static void inner_bytes(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n,
			uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	size_t used;

	if (!n)
		return;
	if (d->z.check) {
		/* The packet framing is unsynced: does this compressed packet start one? */
		d->z.check = false;
		if (dn == KSPAN_MSG_REQUEST ? req_resync(m, p, n) :
					      resp_resync(m, p, n, n, ts, false) == 0) {
			d->synced = true;
			frame_reset(&d->f);
		}
	}
	used = d->synced ? frame_bytes(m, dn, p, n, ts) : 0;
	if (used < n)
		skip_bytes(m, dn, n - used);
}

static void inner_gap(struct mysql *m, enum kspan_msg_dir dn, uint64_t n, uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	uint64_t used;

	if (!n)
		return;
	d->z.check = false;
	used = d->synced ? frame_gap(m, dn, n, ts) : 0;
	if (used < n)
		skip_bytes(m, dn, n - used);
}

static void z_packet_start(struct mysql *m, enum kspan_msg_dir dn)
{
	struct my_zdir *z = &m->dir[dn].z;

	z->clen = le24(z->hdr);
	z->ulen = le24(z->hdr + 4);
	z->cgot = z->produced = 0;
	z->skip = z->stream_end = false;
	z->check = !m->dir[dn].synced;
	if (!z->ulen)
		return;
	if (!z->zinit) {
		if (inflateInit(&z->zs) != Z_OK) {
			z->skip = true;
			return;
		}
		z->zinit = true;
	} else if (inflateReset(&z->zs) != Z_OK) {
		z->skip = true;
	}
}

/* The compressed packet ended: what it should have produced and did not is a gap. */
static void z_packet_end(struct mysql *m, enum kspan_msg_dir dn, uint64_t ts)
{
	struct my_zdir *z = &m->dir[dn].z;

	z->hdr_have = 0;
	if (z->ulen && z->produced < z->ulen)
		inner_gap(m, dn, z->ulen - z->produced, ts);
	z->check = false;
}

static void z_inflate(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n,
		      uint64_t ts)
{
	struct my_zdir *z = &m->dir[dn].z;
	uint8_t out[ZOUT];

	z->zs.next_in = p;
	z->zs.avail_in = n;
	while (!z->skip && !z->stream_end && active(m)) {
		size_t got, in_before = z->zs.avail_in;
		int rc;

		z->zs.next_out = out;
		z->zs.avail_out = sizeof(out);
		rc = inflate(&z->zs, Z_NO_FLUSH);
		got = sizeof(out) - z->zs.avail_out;
		if (got > z->ulen - z->produced) {
			got = z->ulen - z->produced;
			rc = Z_DATA_ERROR;
		}
		z->produced += got;
		inner_bytes(m, dn, out, got, ts);
		if (rc == Z_STREAM_END)
			z->stream_end = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			z->skip = true;
		else if (rc == Z_BUF_ERROR || (!got && z->zs.avail_in == in_before))
			break;
		else if (!z->zs.avail_in && z->zs.avail_out)
			break;
	}
}

/* Captured bytes of a compressed direction. */
static void z_bytes(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n, uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	struct my_zdir *z = &d->z;
	const uint8_t *end = p + n;

	while (p < end && active(m) && z->synced) {
		size_t k;

		if (z->hdr_have < 7) {
			z->hdr[z->hdr_have++] = *p++;
			if (z->hdr_have == 7) {
				z_packet_start(m, dn);
				if (!z->clen)
					z_packet_end(m, dn, ts);
			}
			continue;
		}
		k = MIN((size_t)(end - p), (size_t)(z->clen - z->cgot));
		if (!z->ulen)
			inner_bytes(m, dn, p, k, ts);
		else
			z_inflate(m, dn, p, k, ts);
		z->cgot += k;
		p += k;
		if (z->cgot == z->clen)
			z_packet_end(m, dn, ts);
	}
	if (p < end)
		skip_bytes(m, dn, end - p);
}

static void z_gap(struct mysql *m, enum kspan_msg_dir dn, uint64_t n, uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	struct my_zdir *z = &d->z;

	while (n && active(m) && z->synced) {
		uint64_t k;

		if (z->hdr_have < 7) {
			z->synced = false;
			dir_lost(m, dn, ts);
			break;
		}
		k = MIN(n, (uint64_t)(z->clen - z->cgot));
		if (!z->ulen)
			inner_gap(m, dn, k, ts);
		else
			z->skip = true; /* the rest of the stream cannot be inflated */
		z->cgot += k;
		n -= k;
		if (z->cgot == z->clen)
			z_packet_end(m, dn, ts);
	}
	if (n)
		skip_bytes(m, dn, n);
}

/* ---------------------------------------------------------------- feeding */

/* Bytes of a direction whose place is known (plain or compressed). */
static size_t feed_synced(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *p, size_t n,
			  uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];
	size_t done = 0;

	while (done < n && active(m)) {
		if (d->compressed) {
			z_bytes(m, dn, p + done, n - done, ts);
			return n;
		}
		if (!d->synced)
			break;
		done += frame_bytes(m, dn, p + done, n - done, ts);
	}
	return done;
}

/* A read arrives while direction dn is out of place: does it start a packet? */
static size_t try_resync(struct mysql *m, enum kspan_msg_dir dn, const uint8_t *b, size_t n,
			 uint64_t len, uint64_t ts)
{
	struct my_dir *d = &m->dir[dn];

	if (d->compressed) {
		if (!d->z.synced && compressed_plausible(b, n)) {
			d->z.synced = true;
			d->z.hdr_have = 0;
		}
		return d->z.synced ? 0 : n;
	}
	if (dn == KSPAN_MSG_REQUEST) {
		if (req_resync(m, b, n))
			return 0;
		if (!caps_known(m) && (m->flags & KSPAN_PARSER_MIDSTREAM) &&
		    compressed_plausible(b, n)) {
			/* A compressed connection first seen mid-stream. */
			compression_on(m);
			d->z.synced = true;
			return 0;
		}
		return n;
	}
	return resp_resync(m, b, n, len, ts, true);
}

static int my_feed(struct kspan_parser *p, enum kspan_msg_dir dn, const uint8_t *buf,
		   size_t captured, size_t len, uint64_t ts_ns)
{
	struct mysql *m = to_my(p);
	struct my_dir *d;
	size_t done = 0;

	if ((dn != KSPAN_MSG_REQUEST && dn != KSPAN_MSG_RESPONSE) || captured > len ||
	    (!buf && captured))
		return -EINVAL;
	if (!active(m))
		return status_rc(m);
	d = &m->dir[dn];
	if (len > captured)
		m->base.stats.gap_bytes += len - captured;
	if (captured && ((!d->synced && !d->compressed) || (d->compressed && !d->z.synced))) {
		done = try_resync(m, dn, buf, captured, len, ts_ns);
		if (done)
			skip_bytes(m, dn, done);
	} else if (!captured && !d->synced && !d->compressed) {
		if (dn == KSPAN_MSG_RESPONSE && m->rs.lost && m->head && !m->head->next)
			m->rs.last_ns = ts_ns;
		skip_bytes(m, dn, len);
		return status_rc(m);
	}
	if (done < captured && active(m))
		done += feed_synced(m, dn, buf + done, captured - done, ts_ns);
	if (done < captured && active(m))
		skip_bytes(m, dn, captured - done);
	if (len > captured && active(m)) {
		uint64_t gap = len - captured;

		if (d->compressed) {
			z_gap(m, dn, gap, ts_ns);
		} else if (d->synced) {
			uint64_t used = frame_gap(m, dn, gap, ts_ns);

			if (used < gap)
				skip_bytes(m, dn, gap - used);
		} else {
			skip_bytes(m, dn, gap);
		}
	}
	return status_rc(m);
}

/* ---------------------------------------------------------------- lifecycle */

static void my_clear(struct mysql *m, unsigned int flags)
{
	bool midstream = flags & KSPAN_PARSER_MIDSTREAM;

	while (m->head) {
		struct my_rec *r = fifo_pop(m);

		rec_free(r);
	}
	m->cur = NULL;
	stmt_clear(m);
	for (int i = 0; i < 2; i++) {
		struct my_dir *d = &m->dir[i];

		frame_reset(&d->f);
		d->synced = !midstream;
		d->compressed = false;
		d->skip_exempt = false;
		d->skipped = 0;
		d->z.hdr_have = 0;
		d->z.synced = false;
		d->z.check = d->z.skip = false;
		m->proven[i] = false;
	}
	m->rq = midstream ? RQ_CMD : RQ_START;
	m->rs.stray_eof = false;
	resp_clear(&m->rs, midstream ? RS_IDLE : RS_GREETING);
	m->system = "mysql";
	m->tls = false;
	m->server_caps_known = m->client_caps_known = false;
	m->server_caps = m->client_caps = 0;
	m->user_len = m->db_len = 0;
	m->user[0] = m->db[0] = '\0';
	m->flags = flags;
	m->base.status = KSPAN_PARSER_ACTIVE;
}

static int my_eof(struct kspan_parser *p, uint64_t ts_ns)
{
	struct mysql *m = to_my(p);

	(void)ts_ns;
	if (active(m)) {
		if (m->cur)
			rec_report(m, m->cur, KSPAN_PEF_REQ_INCOMPLETE);
		if (m->rs.in_reply) {
			/* Cut short by the close. */
			m->rs.rows_unknown = true;
			m->rs.lost = true;
			reply_done(m, KSPAN_PEF_RESP_INCOMPLETE);
		}
		while (m->head)
			report_unanswered(m);
	}
	my_clear(m, m->flags);
	return 0;
}

static void my_reset(struct kspan_parser *p, unsigned int flags)
{
	my_clear(to_my(p), flags);
}

static void my_destroy(struct kspan_parser *p)
{
	struct mysql *m;

	if (!p)
		return;
	m = to_my(p);
	my_clear(m, 0);
	for (int i = 0; i < 2; i++) {
		struct my_dir *d = &m->dir[i];

		if (d->f.kb)
			explicit_bzero(d->f.kb, d->f.kb_cap);
		free(d->f.kb);
		if (d->z.zinit)
			inflateEnd(&d->z.zs);
	}
	free(m->stmts);
	free(m);
}

static struct kspan_parser *my_create(kspan_parser_event_fn fn, void *ctx, unsigned int flags)
{
	struct mysql *m;

	if (flags & ~KSPAN_PARSER_MIDSTREAM) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->base.ops = &kspan_mysql_parser_ops;
	m->base.on_event = fn;
	m->base.ctx = ctx;
	my_clear(m, flags);
	return &m->base;
}

/* ---------------------------------------------------------------- detection */

static bool greeting_plausible(const uint8_t *b, size_t n, bool *whole)
{
	const uint8_t *z;
	size_t vn;

	if (n < 2 || b[0] != 0x0a)
		return false;
	z = memchr(b + 1, 0, n - 1);
	vn = z ? (size_t)(z - b - 1) : n - 1;
	if (!vn || vn > 64)
		return false;
	for (size_t i = 1; i <= vn; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return false;
	if (!z || (size_t)(z - b) + 14 > n) {
		*whole = false;
		return vn >= 3;
	}
	/* thread id (4), scramble (8), filler 0x00 */
	*whole = z[13] == 0;
	return *whole;
}

/* Each returns a confidence (0: not this kind of packet); b is the payload. */
static int detect_greeting(const uint8_t *b, size_t n, uint32_t plen, uint8_t seq)
{
	bool whole = false;

	if (seq != 0 || b[0] != 0x0a || plen > GREETING_MAX || !greeting_plausible(b, n, &whole))
		return 0;
	return whole ? 100 : 80;
}

static int detect_handshake_response(const uint8_t *b, size_t n, uint32_t plen, uint8_t seq)
{
	if ((seq != 1 && seq != 2) || plen < 32 || plen > HANDSHAKE_MAX || n < 32 ||
	    !(le16(b) & CLIENT_PROTOCOL_41))
		return 0;
	for (size_t i = 9; i < 9 + 19; i++)
		if (b[i])
			return 0;
	return plen > 32 || (le16(b) & CLIENT_SSL) ? 90 : 0;
}

static int detect_command(const uint8_t *b, size_t n, uint32_t plen, uint8_t seq, size_t len)
{
	enum cmd_kind kind;
	bool text;

	if (seq != 0 || !command_plausible(b, n, plen))
		return 0;
	kind = cmd_table[b[0]].kind;
	text = kind == K_QUERY || kind == K_PREPARE;
	if (len == 4 + (size_t)plen)
		return text ? 50 : 40;
	return text && len < 4 + (size_t)plen && len >= 16 ? 20 : 0;
}

static int detect_err(const uint8_t *b, uint32_t plen, uint8_t seq, size_t len)
{
	if (!seq || b[0] != 0xff || len != 4 + (size_t)plen || plen < 9 || b[3] != '#')
		return 0;
	for (size_t i = 4; i < 9; i++)
		if (b[i] < '0' || (b[i] > '9' && b[i] < 'A') || b[i] > 'Z')
			return 0;
	/* An exact packet, 0xff, '#' and five SQLSTATE characters: above a lone pgwire guess. */
	return 60;
}

static int detect_ok(const uint8_t *b, uint32_t plen, uint8_t seq, size_t len)
{
	struct rd r = { b + 1, b + plen, false };

	if (!seq || b[0] != 0x00 || len != 4 + (size_t)plen || plen < 7 || plen > 64)
		return 0;
	rd_lenenc(&r);
	rd_lenenc(&r);
	rd_skip(&r, 4);
	if (r.bad || (r.p != r.end && (size_t)(r.end - r.p) != (size_t)r.p[0] + 1))
		return 0;
	return 30;
}

int kspan_mysql_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir)
{
	uint32_t plen;
	uint8_t seq;
	const uint8_t *b;
	size_t n;
	int conf;
	enum kspan_msg_dir d = KSPAN_MSG_RESPONSE;

	if (!buf || len < 5)
		return 0;
	plen = le24(buf);
	seq = buf[3];
	b = buf + 4;
	n = MIN((size_t)plen, len - 4);
	if (!plen)
		return 0;
	conf = detect_greeting(b, n, plen, seq);
	if (!conf) {
		d = KSPAN_MSG_REQUEST;
		conf = detect_handshake_response(b, n, plen, seq);
	}
	if (!conf)
		conf = detect_command(b, n, plen, seq, len);
	if (!conf) {
		d = KSPAN_MSG_RESPONSE;
		conf = detect_err(b, plen, seq, len);
	}
	if (!conf)
		conf = detect_ok(b, plen, seq, len);
	if (conf && dir)
		*dir = d;
	return conf;
}

const struct kspan_parser_ops kspan_mysql_parser_ops = {
	.name = "mysql",
	.detect = kspan_mysql_detect,
	.create = my_create,
	.feed = my_feed,
	.eof = my_eof,
	.reset = my_reset,
	.destroy = my_destroy,
};
