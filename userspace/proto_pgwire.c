// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/proto_pgwire.c: the PostgreSQL frontend/backend protocol 3.x as a
 * kspan parser (client view; see proto_pgwire.h for what makes an exchange).
 * It owns message framing in both directions, the pairing of the server's
 * replies with the client's messages, the statements and portals a
 * connection prepared, and the splitting of a simple Query into statements.
 *
 * Pairing works on messages, not exchanges: every client message the server
 * answers (Parse, Bind, Describe, Execute, Close, Sync, Query statements,
 * FunctionCall) is queued as an entry; each reply goes to the oldest entry
 * it can belong to. An entry points to the exchange it is part of (a Bind
 * and a Describe belong to the Execute after them); an exchange is reported
 * when its final entry (Execute, Parse, a Query statement) is done. A reply
 * that fits no entry at the head is matched against the next few (their
 * predecessors were answered in bytes we lost) or is an orphan.
 *
 * Framing: each direction reads a header (5 bytes typed, 4 for the
 * length-only startup packets) then the body, of which only the first bytes a
 * handler needs are kept (never any of a password or SASL message). A body
 * whole inside one read is used in place.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto_pgwire.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define PG_SSL_REQUEST 80877103u
#define PG_GSSENC_REQUEST 80877104u
#define PG_CANCEL_REQUEST 80877102u
#define PG_PROTO_MAJOR 3u

/* Bytes kept of a message body, by type (the rest only frames). */
#define KEEP_TAG 64 /* CommandComplete */
#define KEEP_ERROR 2048 /* ErrorResponse: severity, SQLSTATE, message */
#define KEEP_PARAM 128 /* ParameterStatus */
#define KEEP_NAME (KSPAN_PG_NAME_MAX + 1)

/* Entries looked past when a reply fits none at the head of the queue. */
#define LOOKAHEAD_MAX 64
/* Work allowed for one resync scan of a read (message headers and fields looked at). */
#define SCAN_BUDGET 65536
#define BUF_MIN 256

/* Detection scores (also what a resync accepts). */
#define SCORE_STRONG 95 /* two or more whole messages that check out */
#define SCORE_ONE 90 /* one whole message, ending where the bytes do */
#define SCORE_WEAK 70 /* whole messages whose bodies cannot be checked (CopyData, password) */
#define SCORE_PREFIX 50 /* a sane header whose body is not all there */
#define RESYNC_AT_START SCORE_PREFIX
#define RESYNC_INSIDE SCORE_ONE

enum phase {
	PH_STARTUP, /* length-only startup packets (requests) */
	PH_TYPED, /* type byte + length */
	PH_SSL_REPLY, /* the one-byte answer to SSLRequest/GSSENCRequest (responses) */
	PH_UNSYNCED, /* place lost: looking for a message boundary */
};

/* Statement text, shared by the statement table, portals and exchanges. */
struct pg_text {
	unsigned int refs;
	uint32_t len;
	bool cut; /* longer than kept, or bytes missing */
	char s[]; /* len bytes and a NUL */
};

/* Exchanges between two Syncs (or the statements of one Query). */
struct pg_batch {
	unsigned int refs;
	uint32_t count;
};

/* An exchange, from its first message until it is reported and no entry points to it. */
struct pg_xchg {
	unsigned int refs; /* entries, the group, the statement being read */
	uint64_t seq; /* 0 until announced */
	uint64_t req_first_ns, req_last_ns, resp_first_ns, resp_last_ns;
	struct pg_text *text; /* NULL: unknown */
	uint32_t off, len; /* the slice of text reported */
	uint32_t db_flags; /* KSPAN_DB_F_* */
	uint32_t pflags; /* KSPAN_PEF_* */
	int64_t rows;
	uint64_t data_rows; /* DataRow messages seen */
	bool requested; /* REQUEST reported */
	bool reported; /* EXCHANGE reported */
	bool answered; /* its final reply arrived */
	bool parsed; /* ParseComplete of its Parse arrived */
	uint64_t group; /* the group of extended messages it was gathered from */
	bool error;
	uint8_t status_len;
	char status[8];
	uint16_t errmsg_len;
	char *errmsg;
	struct pg_batch *batch;
};

enum ent_kind {
	ENT_PARSE,
	ENT_BIND,
	ENT_DESC_S,
	ENT_DESC_P,
	ENT_EXECUTE,
	ENT_CLOSE,
	ENT_SYNC,
	ENT_QUERY, /* one statement of a Query */
	ENT_FUNC,
	ENT_LOST, /* request bytes lost: takes every reply until ReadyForQuery */
};

/* A client message waiting for its reply. */
struct pg_entry {
	uint8_t kind;
	bool final; /* done: its exchange is reported */
	bool last; /* ENT_QUERY: the Query's last statement, which takes the ReadyForQuery */
	bool whole; /* ENT_QUERY: the Query is one exchange, ended by ReadyForQuery */
	bool got_params; /* ENT_DESC_S: ParameterDescription seen */
	bool done; /* ENT_QUERY (last) / ENT_LOST: answered, waits for ReadyForQuery */
	uint32_t copy_ends; /* client CopyDone/CopyFail count when it was sent */
	struct pg_xchg *x;
};

/* A named (or the unnamed, "") prepared statement or portal. */
struct pg_named {
	struct pg_text *text; /* NULL: text unknown */
	uint64_t used; /* for forgetting the least recently used */
	uint64_t group; /* the group its Parse was in (portals: their statement's) */
	bool named; /* portals: bound from a named statement */
	uint16_t len;
	char name[];
};

struct pg_table {
	struct pg_named **v;
	uint32_t n, cap, max;
};

/* One direction's framing. */
struct pg_dir {
	enum phase phase;
	uint8_t hdr[5];
	uint8_t hdr_len;
	bool in_body;
	bool cut; /* bytes of the kept part were not captured */
	bool tentative; /* synced on a guess: bad bytes mean "not yet", not "not pgwire" */
	uint8_t type; /* 0: startup packet */
	uint32_t body_len, body_off, keep;
	uint8_t *buf;
	uint32_t buf_len, buf_cap;
	uint64_t first_ns; /* of the message in progress */
	uint64_t skipped;
};

struct pg {
	struct kspan_parser base;
	unsigned int flags;
	struct pg_dir dir[2];
	uint64_t last_seq; /* never reset */

	/* The connection. */
	char user[KSPAN_PG_IDENT_MAX + 1];
	char database[KSPAN_PG_IDENT_MAX + 1];
	uint16_t user_len, database_len;
	bool std_strings; /* standard_conforming_strings */
	bool cancel; /* a CancelRequest connection */

	/* Client messages waiting for replies: a ring. */
	struct pg_entry *ring;
	uint32_t ring_head, ring_n, ring_cap;
	bool err_mode; /* an extended-protocol error: the server skips until Sync */

	/* What the client prepared. */
	struct pg_table stmts, portals;
	uint64_t tick;
	size_t text_bytes;

	/* Extended-protocol messages not yet part of a reported exchange. */
	struct pg_xchg *group; /* Parse/Bind/Describe since the last exchange */
	bool group_parse; /* an unnamed Parse is in it */
	uint64_t group_id;
	struct pg_xchg *reading; /* the exchange whose message (Query, Execute) is being read */
	struct pg_batch *batch; /* exchanges since the last Sync */

	/* COPY FROM STDIN. */
	uint32_t copy_ends; /* CopyDone/CopyFail sent by the client */
	bool copy_in; /* a copy-in runs: Syncs are ignored by the server */
};

static const struct kspan_str empty_str = { "", 0 };

static struct pg *to_pg(struct kspan_parser *p)
{
	return (struct pg *)((char *)p - offsetof(struct pg, base));
}

/* ---------------------------------------------------------------- bytes */

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Length of the NUL-terminated string at b[0..n), or -1 when there is no NUL. */
static long str_len(const uint8_t *b, size_t n)
{
	const uint8_t *z = memchr(b, 0, n);

	return z ? z - b : -1;
}

/* A cursor over a body for the validators. */
struct rd {
	const uint8_t *b;
	size_t n, at;
	bool bad;
};

static bool rd_skip(struct rd *r, size_t k)
{
	if (r->bad || r->n - r->at < k)
		return !(r->bad = true);
	r->at += k;
	return true;
}

static bool rd_str(struct rd *r)
{
	long k;

	if (r->bad)
		return false;
	k = str_len(r->b + r->at, r->n - r->at);
	if (k < 0)
		return !(r->bad = true);
	r->at += k + 1;
	return true;
}

static int32_t rd_i32(struct rd *r)
{
	int32_t v;

	if (r->bad || r->n - r->at < 4) {
		r->bad = true;
		return 0;
	}
	v = (int32_t)be32(r->b + r->at);
	r->at += 4;
	return v;
}

/* An Int16 count or format code (the server reads them unsigned). */
static int rd_u16(struct rd *r)
{
	int v;

	if (r->bad || r->n - r->at < 2) {
		r->bad = true;
		return 0;
	}
	v = be16(r->b + r->at);
	r->at += 2;
	return v;
}

/* k values of (Int32 length or -1, bytes). */
static void rd_values(struct rd *r, int k)
{
	for (int i = 0; i < k && !r->bad; i++) {
		int32_t l = rd_i32(r);

		if (l < -1)
			r->bad = true;
		else if (l > 0)
			rd_skip(r, (size_t)l);
	}
}

/* k format codes, each 0 (text) or 1 (binary). */
static void rd_formats(struct rd *r, int k)
{
	for (int i = 0; i < k && !r->bad; i++) {
		int f = rd_u16(r);

		if (f != 0 && f != 1)
			r->bad = true;
	}
}

static bool rd_end(const struct rd *r)
{
	return !r->bad && r->at == r->n;
}

/* ---------------------------------------------------------------- message shapes */

static bool is_req_type(uint8_t t)
{
	return t && strchr("QPBDECSHFdcfpX", t);
}

static bool is_resp_type(uint8_t t)
{
	return t && strchr("RKSZTDCENI123nstGHWdcAVv", t);
}

static bool is_type(enum kspan_msg_dir dn, uint8_t t)
{
	return dn == KSPAN_MSG_REQUEST ? is_req_type(t) : is_resp_type(t);
}

/* Is a header (type, length including itself) possible? */
static bool header_ok(enum kspan_msg_dir dn, uint8_t t, uint32_t len)
{
	if (!is_type(dn, t) || len < 4 || len > KSPAN_PG_MSG_MAX)
		return false;
	if (dn == KSPAN_MSG_REQUEST)
		return strchr("SHXc", t) ? len == 4 : true;
	switch (t) {
	case 'Z':
		return len == 5;
	case 'I':
	case '1':
	case '2':
	case '3':
	case 'n':
	case 's':
	case 'c':
		return len == 4;
	case 'K':
		return len >= 12 && len <= 264;
	case 'R':
		return len >= 8;
	default:
		return true;
	}
}

/* Do these bodies check out? (Whole bodies only; CopyData and password messages always do.) */
static bool req_body_ok(uint8_t t, const uint8_t *b, size_t n)
{
	struct rd r = { b, n, 0, false };
	int k;

	switch (t) {
	case 'Q':
	case 'f':
		rd_str(&r);
		break;
	case 'P':
		rd_str(&r);
		rd_str(&r);
		k = rd_u16(&r);
		rd_skip(&r, 4 * (size_t)k);
		break;
	case 'B':
		rd_str(&r);
		rd_str(&r);
		rd_formats(&r, rd_u16(&r));
		rd_values(&r, rd_u16(&r));
		rd_formats(&r, rd_u16(&r));
		break;
	case 'D':
	case 'C':
		if (!n || (b[0] != 'S' && b[0] != 'P'))
			return false;
		rd_skip(&r, 1);
		rd_str(&r);
		break;
	case 'E':
		rd_str(&r);
		rd_i32(&r);
		break;
	case 'F':
		rd_i32(&r);
		rd_formats(&r, rd_u16(&r));
		rd_values(&r, rd_u16(&r));
		rd_formats(&r, 1);
		break;
	case 'S':
	case 'H':
	case 'X':
	case 'c':
		return n == 0;
	default: /* 'd', 'p': anything */
		return true;
	}
	return rd_end(&r);
}

static bool auth_body_ok(const uint8_t *b, size_t n)
{
	uint32_t code = be32(b);

	switch (code) {
	case 0: /* Ok */
	case 2: /* KerberosV5 */
	case 3: /* CleartextPassword */
	case 6: /* SCMCredential */
	case 7: /* GSS */
	case 9: /* SSPI */
		return n == 4;
	case 5: /* MD5Password */
		return n == 8;
	case 10: /* SASL: mechanism names, then an empty one */
		return n >= 6 && b[n - 1] == 0 && b[n - 2] == 0;
	case 8: /* GSSContinue */
	case 11: /* SASLContinue */
	case 12: /* SASLFinal */
		return true;
	default:
		return false;
	}
}

static bool fields_ok(const uint8_t *b, size_t n)
{
	struct rd r = { b, n, 0, false };

	if (n < 2 || !b[0])
		return false;
	while (!r.bad && r.at < n && b[r.at]) {
		r.at++;
		rd_str(&r);
	}
	return !r.bad && r.at == n - 1;
}

static bool resp_body_ok(uint8_t t, const uint8_t *b, size_t n)
{
	struct rd r = { b, n, 0, false };
	int k;

	switch (t) {
	case 'R':
		return n >= 4 && auth_body_ok(b, n);
	case 'K':
		return n >= 8 && n <= 260;
	case 'S':
		rd_str(&r);
		rd_str(&r);
		break;
	case 'Z':
		return n == 1 && (b[0] == 'I' || b[0] == 'T' || b[0] == 'E');
	case 'T':
		k = rd_u16(&r);
		for (int i = 0; i < k && !r.bad; i++) {
			rd_str(&r);
			rd_skip(&r, 18);
		}
		break;
	case 'D':
		rd_values(&r, rd_u16(&r));
		break;
	case 'C':
		if (!n || str_len(b, n) != (long)n - 1)
			return false;
		for (size_t i = 0; i + 1 < n; i++)
			if (b[i] < 0x20 || b[i] > 0x7e)
				return false;
		return true;
	case 'E':
	case 'N':
		return fields_ok(b, n);
	case 'G':
	case 'H':
	case 'W':
		if (!n || b[0] > 1)
			return false;
		rd_skip(&r, 1);
		rd_formats(&r, rd_u16(&r));
		break;
	case 'A':
		rd_i32(&r);
		rd_str(&r);
		rd_str(&r);
		break;
	case 't':
		k = rd_u16(&r);
		rd_skip(&r, 4 * (size_t)k);
		break;
	case 'V':
		rd_values(&r, 1);
		break;
	case 'v':
		rd_i32(&r);
		k = (int)rd_i32(&r);
		if (k < 0)
			return false;
		for (int i = 0; i < k && !r.bad; i++)
			rd_str(&r);
		break;
	case 'd':
		return true;
	default: /* fixed, empty bodies */
		return n == 0;
	}
	return rd_end(&r);
}

static bool body_ok(enum kspan_msg_dir dn, uint8_t t, const uint8_t *b, size_t n)
{
	return dn == KSPAN_MSG_REQUEST ? req_body_ok(t, b, n) : resp_body_ok(t, b, n);
}

/* Bodies a validator can really check (not free-form bytes). */
static bool body_checkable(enum kspan_msg_dir dn, uint8_t t)
{
	return t != 'd' && !(dn == KSPAN_MSG_REQUEST && t == 'p');
}

/*
 * How well b[0..n) reads as a chain of typed messages of direction dn: every
 * whole message checks out and the last one, if cut by the end of the bytes,
 * has a sane header. 0 when it does not; see the SCORE_* values otherwise.
 * *work bounds the effort (decremented; 0 stops the walk as a failure).
 */
static int chain_score(enum kspan_msg_dir dn, const uint8_t *b, size_t n, long *work)
{
	size_t at = 0;
	int whole = 0, strong = 0;

	while (at < n) {
		uint32_t len;
		size_t left = n - at;

		if (--*work <= 0)
			return 0;
		if (!is_type(dn, b[at]))
			return 0;
		if (left < 5) {
			/* A header cut short: the length's first byte still has to fit. */
			if (left >= 2 && b[at + 1] > (KSPAN_PG_MSG_MAX >> 24))
				return 0;
			break;
		}
		len = be32(b + at + 1);
		if (!header_ok(dn, b[at], len))
			return 0;
		if (left - 1 < len)
			break; /* the body goes on past these bytes */
		*work -= len / 8;
		if (!body_ok(dn, b[at], b + at + 5, len - 4))
			return 0;
		whole++;
		strong += body_checkable(dn, b[at]);
		at += 1 + len;
	}
	if (whole >= 2 && strong)
		return SCORE_STRONG;
	if (whole == 1 && strong && at == n)
		return SCORE_ONE;
	if (whole)
		return SCORE_WEAK;
	return n >= 5 ? SCORE_PREFIX : 0;
}

/* Startup packets: 100 when whole and valid, 90/80 for a consistent prefix, else 0. */
static int startup_score(const uint8_t *buf, size_t len)
{
	uint32_t l, code;
	struct rd r;

	if (len < 8)
		return 0;
	l = be32(buf);
	code = be32(buf + 4);
	if (l == 8 && (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST))
		return 100;
	if (l == 16 && code == PG_CANCEL_REQUEST)
		return len >= 16 ? 100 : 90;
	if (code >> 16 != PG_PROTO_MAJOR || l < 9 || l > KSPAN_PG_STARTUP_MAX)
		return 0;
	if (len < l) {
		/* Parameter names come first: printable. */
		for (size_t i = 8; i < len; i++)
			if (buf[i] && (buf[i] < 0x20 || buf[i] == 0x7f))
				return 0;
		return 80;
	}
	r = (struct rd){ buf + 8, l - 8, 0, false };
	while (!r.bad && r.at < r.n && buf[8 + r.at]) {
		rd_str(&r);
		rd_str(&r);
	}
	return !r.bad && r.at == r.n - 1 ? 100 : 0;
}

int kspan_pgwire_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir)
{
	long work = SCAN_BUDGET;
	int req, resp;

	if (!buf || !len)
		return 0;
	req = startup_score(buf, len);
	if (!req)
		req = chain_score(KSPAN_MSG_REQUEST, buf, len, &work);
	resp = chain_score(KSPAN_MSG_RESPONSE, buf, len, &work);
	if (!req && !resp)
		return 0;
	if (dir)
		*dir = req >= resp ? KSPAN_MSG_REQUEST : KSPAN_MSG_RESPONSE;
	return req >= resp ? req : resp;
}

/* ---------------------------------------------------------------- status, events */

static void set_status(struct pg *pg, enum kspan_parser_status st)
{
	if (pg->base.status == KSPAN_PARSER_ACTIVE)
		pg->base.status = st;
}

static int status_rc(const struct pg *pg)
{
	switch (pg->base.status) {
	case KSPAN_PARSER_NOT_PROTO:
		return -EPROTONOSUPPORT;
	case KSPAN_PARSER_LOST:
		return -EBADMSG;
	default:
		return 0;
	}
}

static bool active(const struct pg *pg)
{
	return pg->base.status == KSPAN_PARSER_ACTIVE;
}

static struct kspan_str kstr(const char *s, size_t n)
{
	return n ? (struct kspan_str){ s, n } : empty_str;
}

static void emit(struct pg *pg, enum kspan_parser_event_type type, const struct pg_xchg *x,
		 uint32_t pflags)
{
	struct kspan_db_exchange d = {
		.system = "postgresql",
		.query = empty_str,
		.command = empty_str,
		.db_namespace = kstr(pg->database, pg->database_len),
		.user = kstr(pg->user, pg->user_len),
		.status_code = empty_str,
		.error_message = empty_str,
		.rows = -1,
	};
	struct kspan_parser_event ev = {
		.type = type,
		.flags = pflags | x->pflags,
		.req_seq = x->seq,
		.req_first_ns = x->req_first_ns,
		.req_last_ns = x->req_last_ns,
		.detail = type == KSPAN_PEV_REQUEST_START ? NULL : &d,
	};

	if (x->text) {
		uint32_t n = x->len;

		if (n > KSPAN_DB_QUERY_MAX)
			n = KSPAN_DB_QUERY_MAX;
		d.query = kstr(x->text->s + x->off, n);
	}
	d.flags = x->db_flags;
	if (x->text && (x->len > KSPAN_DB_QUERY_MAX || x->text->cut))
		d.flags |= KSPAN_DB_F_QUERY_CUT;
	if (x->batch && x->batch->count > 1)
		d.batch_size = x->batch->count;
	if (type == KSPAN_PEV_EXCHANGE) {
		ev.resp_first_ns = x->resp_first_ns;
		ev.resp_last_ns = x->resp_last_ns;
		d.error = x->error;
		d.rows = x->error ? -1 : x->rows;
		d.status_code = kstr(x->status, x->status_len);
		d.error_message = kstr(x->errmsg, x->errmsg_len);
	}
	if (pg->base.on_event)
		pg->base.on_event(pg->base.ctx, &ev);
}

/* ---------------------------------------------------------------- texts, batches, exchanges */

static void text_put(struct pg *pg, struct pg_text *t)
{
	if (t && !--t->refs) {
		pg->text_bytes -= t->len;
		free(t);
	}
}

static struct pg_text *text_get(struct pg_text *t)
{
	if (t)
		t->refs++;
	return t;
}

/* A new text, cut to the budget. NULL (and the connection LOST) when out of memory. */
static struct pg_text *text_new(struct pg *pg, const void *s, size_t n, bool cut)
{
	size_t room = KSPAN_PG_TEXT_BUDGET - MIN(pg->text_bytes, KSPAN_PG_TEXT_BUDGET);
	struct pg_text *t;

	if (n > room) {
		n = room;
		cut = true;
		pg->base.stats.fields_dropped++;
	}
	t = malloc(sizeof(*t) + n + 1);
	if (!t) {
		set_status(pg, KSPAN_PARSER_LOST);
		return NULL;
	}
	t->refs = 1;
	t->len = n;
	t->cut = cut;
	if (n)
		memcpy(t->s, s, n);
	t->s[n] = '\0';
	pg->text_bytes += n;
	return t;
}

static void batch_put(struct pg_batch *b)
{
	if (b && !--b->refs)
		free(b);
}

static struct pg_batch *batch_new(struct pg *pg)
{
	struct pg_batch *b = calloc(1, sizeof(*b));

	if (!b)
		set_status(pg, KSPAN_PARSER_LOST);
	else
		b->refs = 1;
	return b;
}

/* The exchange joins batch b (a reference is taken). */
static void batch_join(struct pg_xchg *x, struct pg_batch *b)
{
	if (!b || x->batch)
		return;
	b->refs++;
	b->count++;
	x->batch = b;
}

/* The Sync group's batch, made when its first exchange needs it. */
static struct pg_batch *sync_batch(struct pg *pg)
{
	if (!pg->batch)
		pg->batch = batch_new(pg);
	return pg->batch;
}

static void batch_close(struct pg *pg)
{
	batch_put(pg->batch);
	pg->batch = NULL;
}

static struct pg_xchg *xchg_new(struct pg *pg, uint64_t first_ns)
{
	struct pg_xchg *x = calloc(1, sizeof(*x));

	if (!x) {
		set_status(pg, KSPAN_PARSER_LOST);
		return NULL;
	}
	x->refs = 1;
	x->group = pg->group_id;
	x->rows = -1;
	x->req_first_ns = first_ns;
	return x;
}

static struct pg_xchg *xchg_get(struct pg_xchg *x)
{
	if (x)
		x->refs++;
	return x;
}

static void xchg_put(struct pg *pg, struct pg_xchg *x)
{
	if (!x || --x->refs)
		return;
	text_put(pg, x->text);
	batch_put(x->batch);
	free(x->errmsg);
	free(x);
}

/* Numbers the exchange and reports its first byte. */
static void xchg_start(struct pg *pg, struct pg_xchg *x)
{
	if (x->seq)
		return;
	x->seq = ++pg->last_seq;
	emit(pg, KSPAN_PEV_REQUEST_START, x, 0);
}

/* The request is complete: its last byte came at ts. */
static void xchg_request(struct pg *pg, struct pg_xchg *x, uint64_t ts)
{
	xchg_start(pg, x);
	if (x->requested)
		return;
	x->requested = true;
	x->req_last_ns = ts;
	pg->base.stats.requests++;
	emit(pg, KSPAN_PEV_REQUEST, x, 0);
}

/* Reports the exchange once; pflags add KSPAN_PEF_* for this report. */
static void xchg_report(struct pg *pg, struct pg_xchg *x, uint32_t pflags)
{
	if (!x->requested || x->reported)
		return;
	x->reported = true;
	pg->base.stats.exchanges++;
	if ((pflags | x->pflags) & KSPAN_PEF_NO_RESPONSE)
		pg->base.stats.unanswered++;
	emit(pg, KSPAN_PEV_EXCHANGE, x, pflags);
}

/* A reply message of x spans [first, ts]. */
static void xchg_reply(struct pg_xchg *x, uint64_t first, uint64_t ts)
{
	if (!x)
		return;
	if (!x->resp_first_ns)
		x->resp_first_ns = first;
	x->resp_last_ns = ts;
}

/* ---------------------------------------------------------------- reply contents */

/* Rows from a CommandComplete tag ("SELECT 5", "INSERT 0 1", "UPDATE 3"); -1 if none. */
static int64_t tag_rows(const uint8_t *s, size_t n)
{
	static const char *const counted[] = { "SELECT", "INSERT", "UPDATE", "DELETE",
					       "MERGE",	 "MOVE",   "FETCH",  "COPY" };
	size_t w = 0, last;
	int64_t v = 0;
	bool known = false;

	while (w < n && s[w] != ' ')
		w++;
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (w == strlen(counted[i]) && !memcmp(s, counted[i], w))
			known = true;
	if (!known || w == n)
		return -1;
	last = n;
	while (last > w && s[last - 1] != ' ')
		last--;
	if (last == n)
		return -1;
	for (size_t i = last; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

struct err_fields {
	const uint8_t *severity, *code, *message;
	size_t severity_len, code_len, message_len;
};

/* ErrorResponse/NoticeResponse fields, as far as b[0..n) goes. */
static void parse_fields(const uint8_t *b, size_t n, struct err_fields *f)
{
	size_t at = 0;

	memset(f, 0, sizeof(*f));
	while (at < n && b[at]) {
		uint8_t code = b[at++];
		long k = str_len(b + at, n - at);
		size_t len = k < 0 ? n - at : (size_t)k;

		if (code == 'V' || (code == 'S' && !f->severity)) {
			f->severity = b + at;
			f->severity_len = len;
		} else if (code == 'C') {
			f->code = b + at;
			f->code_len = len;
		} else if (code == 'M') {
			f->message = b + at;
			f->message_len = len;
		}
		if (k < 0)
			break;
		at += len + 1;
	}
}

static bool fatal_severity(const struct err_fields *f)
{
	return (f->severity_len == 5 && !memcmp(f->severity, "FATAL", 5)) ||
	       (f->severity_len == 5 && !memcmp(f->severity, "PANIC", 5));
}

/* The SQLSTATE of f (cut to what a SQLSTATE can be). */
static void xchg_set_code(struct pg_xchg *x, const struct err_fields *f)
{
	x->status_len = MIN(f->code_len, sizeof(x->status) - 1);
	if (x->status_len)
		memcpy(x->status, f->code, x->status_len);
	x->status[x->status_len] = '\0';
}

static void xchg_set_error(struct pg *pg, struct pg_xchg *x, const struct err_fields *f)
{
	size_t n;

	if (x->error)
		return;
	x->error = true;
	x->answered = true;
	xchg_set_code(x, f);
	n = MIN(f->message_len, (size_t)KSPAN_PG_ERROR_MAX);
	if (f->message_len > n)
		pg->base.stats.fields_dropped++;
	if (!n)
		return;
	x->errmsg = malloc(n + 1);
	if (!x->errmsg)
		return;
	memcpy(x->errmsg, f->message, n);
	x->errmsg[n] = '\0';
	x->errmsg_len = n;
}

/* ---------------------------------------------------------------- the entry queue */

static struct pg_entry *ent_at(struct pg *pg, uint32_t i)
{
	return &pg->ring[(pg->ring_head + i) % pg->ring_cap];
}

static struct pg_entry *ent_head(struct pg *pg)
{
	return pg->ring_n ? ent_at(pg, 0) : NULL;
}

/* Queues a copy of e (taking a reference to its exchange). False when full or out of memory. */
static bool ent_push(struct pg *pg, struct pg_entry e)
{
	if (pg->ring_n >= KSPAN_PG_PENDING_MAX) {
		set_status(pg, KSPAN_PARSER_LOST);
		return false;
	}
	if (pg->ring_n == pg->ring_cap) {
		uint32_t cap = pg->ring_cap ? pg->ring_cap * 2 : 16;
		struct pg_entry *r = malloc(sizeof(*r) * cap);

		if (!r) {
			set_status(pg, KSPAN_PARSER_LOST);
			return false;
		}
		for (uint32_t i = 0; i < pg->ring_n; i++)
			r[i] = *ent_at(pg, i);
		free(pg->ring);
		pg->ring = r;
		pg->ring_cap = cap;
		pg->ring_head = 0;
	}
	e.copy_ends = pg->copy_ends;
	xchg_get(e.x);
	*ent_at(pg, pg->ring_n++) = e;
	return true;
}

enum pop_how {
	POP_ANSWERED, /* its reply came */
	POP_SKIPPED, /* the server skipped it after an error */
	POP_UNANSWERED, /* its reply was lost (or the connection ended) */
};

/* Takes the head entry off the queue; a final entry reports its exchange. */
static void ent_pop(struct pg *pg, enum pop_how how)
{
	struct pg_entry e = *ent_at(pg, 0);
	struct pg_xchg *x = e.x;

	pg->ring_head = (pg->ring_head + 1) % pg->ring_cap;
	pg->ring_n--;
	if (!x)
		return;
	if (!e.final) {
		if (how == POP_UNANSWERED)
			x->pflags |= KSPAN_PEF_RESP_INCOMPLETE;
	} else if (how == POP_ANSWERED || x->answered) {
		xchg_report(pg, x, 0);
	} else if (how == POP_SKIPPED) {
		/* Not run: libpq reports these as PGRES_PIPELINE_ABORTED. */
		x->error = true;
		xchg_report(pg, x, KSPAN_PEF_NO_RESPONSE);
	} else {
		xchg_report(pg, x,
			    x->resp_first_ns ? KSPAN_PEF_RESP_INCOMPLETE : KSPAN_PEF_NO_RESPONSE);
	}
	xchg_put(pg, x);
}

/* Drops the entry i > 0 from the middle of the queue (it has no exchange). */
static void ent_remove(struct pg *pg, uint32_t i)
{
	for (; i + 1 < pg->ring_n; i++)
		*ent_at(pg, i) = *ent_at(pg, i + 1);
	pg->ring_n--;
}

/* Can a reply of type t belong to e? */
static bool ent_fits(const struct pg_entry *e, uint8_t t)
{
	switch (e->kind) {
	case ENT_PARSE:
		return t == '1' || t == 'E';
	case ENT_BIND:
		return t == '2' || t == 'E';
	case ENT_DESC_S:
		return (t == 't' && !e->got_params) || t == 'T' || t == 'n' || t == 'E';
	case ENT_DESC_P:
		return t == 'T' || t == 'n' || t == 'E';
	case ENT_CLOSE:
		return t == '3' || t == 'E';
	case ENT_EXECUTE:
		return strchr("DCIsEGHWdc", t) != NULL;
	case ENT_SYNC:
		return t == 'Z' || t == 'E';
	case ENT_QUERY:
		return e->done ? t == 'Z' : strchr("TDCIEGHWdcZ", t) != NULL;
	case ENT_FUNC:
		return t == 'V' || t == 'E' || t == 'Z';
	default: /* ENT_LOST */
		return true;
	}
}

/*
 * COPY FROM STDIN started for entry e: the server ignores the Syncs the client
 * sent after e and before its CopyDone/CopyFail (libpq sends one after every
 * Execute, and another after the copy).
 */
static void copy_in_started(struct pg *pg, const struct pg_entry *e)
{
	uint32_t ends = e->copy_ends;

	for (uint32_t i = 1; i < pg->ring_n;) {
		struct pg_entry *s = ent_at(pg, i);

		if (s->kind == ENT_SYNC && s->copy_ends == ends)
			ent_remove(pg, i);
		else
			i++;
	}
	if (pg->copy_ends == ends)
		pg->copy_in = true;
}

/* After an extended-protocol error, everything up to the Sync is skipped. */
static void skip_until_sync(struct pg *pg)
{
	struct pg_entry *e;

	while ((e = ent_head(pg)) && e->kind != ENT_SYNC)
		ent_pop(pg, POP_SKIPPED);
}

/* The rest of a Query after its statement at the head failed: skipped; the last waits for Z. */
static void skip_query_rest(struct pg *pg)
{
	struct pg_entry *e;

	while ((e = ent_head(pg)) && e->kind == ENT_QUERY && !e->last)
		ent_pop(pg, POP_SKIPPED);
	if (e && e->kind == ENT_QUERY && !e->done) {
		if (e->x && !e->x->answered) {
			e->x->error = true;
			xchg_report(pg, e->x, KSPAN_PEF_NO_RESPONSE);
		}
		e->done = true;
	}
}

/* A reply with no request: reported (NO_REQUEST) when it ends a command. */
static void orphan_reply(struct pg *pg, uint8_t t, const uint8_t *b, size_t n, uint64_t first,
			 uint64_t ts)
{
	struct pg_xchg x = { .rows = -1, .resp_first_ns = first, .resp_last_ns = ts };
	struct err_fields f;

	if (t == 'E') {
		parse_fields(b, n, &f);
		/* A FATAL with nothing asked: the server is ending the connection. */
		if (fatal_severity(&f))
			return;
	} else if (t != 'C' && t != 'I' && t != 's') {
		return;
	}
	pg->base.stats.orphan_responses++;
	pg->base.stats.exchanges++;
	if (t == 'C')
		x.rows = tag_rows(b, n ? n - 1 : 0);
	if (t == 'E') {
		x.error = true;
		xchg_set_code(&x, &f);
		x.errmsg = (char *)f.message;
		x.errmsg_len = MIN(f.message_len, (size_t)KSPAN_PG_ERROR_MAX);
	}
	emit(pg, KSPAN_PEV_EXCHANGE, &x, KSPAN_PEF_NO_REQUEST);
}

/* An ErrorResponse for head entry e. */
static void reply_error(struct pg *pg, struct pg_entry *e, const uint8_t *b, size_t n)
{
	struct err_fields f;

	parse_fields(b, n, &f);
	switch (e->kind) {
	case ENT_SYNC: /* the implicit commit failed: no command to blame */
	case ENT_FUNC:
		return;
	case ENT_QUERY:
		if (!e->x)
			return;
		xchg_set_error(pg, e->x, &f);
		if (e->whole)
			return;
		xchg_report(pg, e->x, 0);
		if (e->last) {
			e->done = true;
			return;
		}
		ent_pop(pg, POP_ANSWERED);
		skip_query_rest(pg);
		return;
	case ENT_LOST:
		if (e->x && !e->x->answered) {
			xchg_set_error(pg, e->x, &f);
			xchg_report(pg, e->x, 0);
		}
		return;
	default:
		break;
	}
	if (e->x)
		xchg_set_error(pg, e->x, &f);
	ent_pop(pg, POP_ANSWERED);
	pg->err_mode = true;
	skip_until_sync(pg);
}

/* A command-final reply (CommandComplete, EmptyQueryResponse, PortalSuspended) for e. */
static void reply_done(struct pg *pg, struct pg_entry *e, uint8_t t, const uint8_t *b, size_t n)
{
	struct pg_xchg *x = e->x;

	if (x && !x->answered) {
		if (t == 'C')
			x->rows = tag_rows(b, n ? n - 1 : 0);
		else if (t == 's')
			x->rows = (int64_t)x->data_rows;
		if (e->kind == ENT_QUERY && e->whole)
			return; /* its ReadyForQuery ends it */
		x->answered = true;
		xchg_report(pg, x, 0);
	}
	if (e->kind == ENT_EXECUTE || (e->kind == ENT_QUERY && !e->last))
		ent_pop(pg, POP_ANSWERED);
	else if (e->kind == ENT_QUERY || e->kind == ENT_LOST)
		e->done = true;
}

/* ReadyForQuery for e (a Sync, the last statement of a Query, a FunctionCall, lost bytes). */
static void reply_ready(struct pg *pg, struct pg_entry *e)
{
	struct pg_xchg *x = e->x;

	if (e->kind == ENT_QUERY && !e->done && !e->whole) {
		/* Fewer completions than statements: the split did not match the server's. */
		while ((e = ent_head(pg)) && e->kind == ENT_QUERY && !e->last)
			ent_pop(pg, POP_UNANSWERED);
		if (e && e->kind == ENT_QUERY)
			ent_pop(pg, POP_UNANSWERED);
		return;
	}
	/* A whole Query ends here, as do lost requests that got an answer. */
	if (x && !x->answered &&
	    (e->kind == ENT_QUERY || (e->kind == ENT_LOST && x->resp_first_ns)))
		x->answered = true;
	ent_pop(pg, x && !x->answered ? POP_UNANSWERED : POP_ANSWERED);
}

/* Reply t for the head entry e, which it fits. */
static void reply_apply(struct pg *pg, struct pg_entry *e, uint8_t t, const uint8_t *b, size_t n,
			uint64_t first, uint64_t ts)
{
	/* ReadyForQuery belongs to a whole Query only; to the others it is the cycle's end. */
	if (t != 'Z' || (e->kind == ENT_QUERY && e->whole))
		xchg_reply(e->x, first, ts);
	switch (t) {
	case 'E':
		reply_error(pg, e, b, n);
		return;
	case 'C':
	case 'I':
	case 's':
		reply_done(pg, e, t, b, n);
		return;
	case 'Z':
		reply_ready(pg, e);
		return;
	case 'D':
		if (e->kind == ENT_EXECUTE || e->kind == ENT_QUERY || e->kind == ENT_LOST) {
			if (e->x)
				e->x->data_rows++;
		}
		return;
	case 'G':
		copy_in_started(pg, e);
		return;
	case 't':
		e->got_params = true;
		return;
	case '1':
		if (e->kind == ENT_PARSE && e->x)
			e->x->parsed = true;
		/* fall through */
	case '2':
	case '3':
	case 'T':
	case 'n':
		if (e->kind != ENT_QUERY && e->kind != ENT_LOST)
			ent_pop(pg, POP_ANSWERED);
		return;
	default: /* copy data, FunctionCallResponse */
		return;
	}
}

static void param_status(struct pg *pg, const uint8_t *b, size_t n)
{
	static const char name[] = "standard_conforming_strings";

	if (n >= sizeof(name) && !memcmp(b, name, sizeof(name)))
		pg->std_strings = !(n - sizeof(name) >= 3 && !memcmp(b + sizeof(name), "off", 3));
}

static void resp_msg(struct pg *pg, uint8_t t, const uint8_t *b, size_t n, uint64_t first,
		     uint64_t ts)
{
	struct pg_entry *e;
	uint32_t i;

	switch (t) {
	case 'S':
		param_status(pg, b, n);
		return;
	case 'N':
		/* A notice never pairs, but one raised by a running command is part of its reply. */
		e = ent_head(pg);
		if (e && e->x && !e->x->reported && !e->done)
			xchg_reply(e->x, first, ts);
		return;
	case 'A': /* notifications and startup messages never pair */
	case 'K':
	case 'R':
	case 'v':
		return;
	default:
		break;
	}
	if (pg->err_mode && t == 'Z') {
		skip_until_sync(pg);
		pg->err_mode = false;
	}
	e = ent_head(pg);
	if (e && ent_fits(e, t)) {
		reply_apply(pg, e, t, b, n, first, ts);
		return;
	}
	/* Replies to the entries before the one it fits were lost. */
	for (i = 1; e && i < pg->ring_n && i < LOOKAHEAD_MAX; i++)
		if (ent_fits(ent_at(pg, i), t))
			break;
	if (!e || i >= pg->ring_n || i >= LOOKAHEAD_MAX) {
		orphan_reply(pg, t, b, n, first, ts);
		return;
	}
	pg->base.stats.resyncs++;
	while (i--)
		ent_pop(pg, POP_UNANSWERED);
	reply_apply(pg, ent_head(pg), t, b, n, first, ts);
}

/* ---------------------------------------------------------------- statements and portals */

static struct pg_named *table_find(struct pg_table *t, const char *name, size_t len)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i]->len == len && !memcmp(t->v[i]->name, name, len))
			return t->v[i];
	return NULL;
}

static void table_drop(struct pg *pg, struct pg_table *t, uint32_t i)
{
	text_put(pg, t->v[i]->text);
	free(t->v[i]);
	t->v[i] = t->v[--t->n];
}

static void table_remove(struct pg *pg, struct pg_table *t, const char *name, size_t len)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i]->len == len && !memcmp(t->v[i]->name, name, len)) {
			table_drop(pg, t, i);
			return;
		}
}

static void table_clear(struct pg *pg, struct pg_table *t)
{
	while (t->n)
		table_drop(pg, t, t->n - 1);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

/* The entry for name, made (replacing the least recently used when full) if absent. */
static struct pg_named *table_put(struct pg *pg, struct pg_table *t, const char *name, size_t len)
{
	struct pg_named *e = table_find(t, name, len);
	uint32_t lru = 0;

	if (e) {
		e->used = ++pg->tick;
		return e;
	}
	if (t->n >= t->max) {
		for (uint32_t i = 1; i < t->n; i++)
			if (t->v[i]->used < t->v[lru]->used)
				lru = i;
		table_drop(pg, t, lru);
		pg->base.stats.fields_dropped++;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 8;
		struct pg_named **v = realloc(t->v, sizeof(*v) * cap);

		if (!v)
			goto nomem;
		t->v = v;
		t->cap = cap;
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		goto nomem;
	memcpy(e->name, name, len);
	e->len = len;
	e->used = ++pg->tick;
	t->v[t->n++] = e;
	return e;
nomem:
	set_status(pg, KSPAN_PARSER_LOST);
	return NULL;
}

/* A name field at b[0..n): false when cut or longer than tracked. */
static bool take_name(const uint8_t *b, size_t n, const char **name, size_t *len)
{
	long k = str_len(b, MIN(n, (size_t)KEEP_NAME));

	if (k < 0)
		return false;
	*name = (const char *)b;
	*len = k;
	return true;
}

/* ---------------------------------------------------------------- splitting a Query */

struct stmt_span {
	uint32_t off, len;
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool ident_start(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool ident_char(uint8_t c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* After the opening quote at s[i - 1]: the index past the closing one, or 0 when unterminated. */
static size_t skip_quoted(const char *s, size_t n, size_t i, char q, bool backslash)
{
	while (i < n) {
		if (backslash && s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < n && s[i + 1] == q) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return 0;
}

/* A dollar quote opening at s[i] ('$'): the index past its end; 0 unterminated; i if none. */
static size_t skip_dollar(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;
	const char *end;

	if (j < n && ident_start((uint8_t)s[j])) {
		while (j < n && ident_char((uint8_t)s[j]) && s[j] != '$')
			j++;
	}
	if (j >= n || s[j] != '$')
		return i; /* a parameter ($1) or an operator */
	j++;
	end = memmem(s + j, n - j, s + i, j - i);
	return end ? (size_t)(end - s) + (j - i) : 0;
}

static void add_piece(const char *s, size_t a, size_t b, struct stmt_span *out, int *count, int max)
{
	while (a < b && is_space((uint8_t)s[a]))
		a++;
	while (b > a && is_space((uint8_t)s[b - 1]))
		b--;
	if (*count < max)
		out[*count] = (struct stmt_span){ a, b - a };
	(*count)++;
}

/*
 * Splits s[0..n) into its statements the way the server's lexer does:
 * top-level ';' outside quotes ('', E'', ""), dollar quotes, comments (--,
 * nested slash-star) and parentheses. Pieces without a token (only
 * whitespace and comments) are not statements. Returns their number (the
 * first max in out), or -1 when the text cannot be split safely
 * (unterminated quote or comment, a BEGIN ATOMIC function body).
 */
static int split_sql(const char *s, size_t n, bool std_strings, struct stmt_span *out, int max)
{
	size_t i = 0, start = 0;
	int count = 0, paren = 0;
	bool token = false, prev_begin = false;

	while (i < n) {
		uint8_t c = s[i];
		bool word_begin = false;

		if (is_space(c)) {
			i++;
			continue;
		}
		if (c == '-' && i + 1 < n && s[i + 1] == '-') {
			const char *nl = memchr(s + i, '\n', n - i);

			i = nl ? (size_t)(nl - s) + 1 : n;
			continue;
		}
		if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			int depth = 1;

			for (i += 2; i < n && depth; i++) {
				if (s[i] == '/' && i + 1 < n && s[i + 1] == '*')
					depth++, i++;
				else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/')
					depth--, i++;
			}
			if (depth)
				return -1;
			continue;
		}
		if (c == ';' && !paren) {
			if (token)
				add_piece(s, start, i, out, &count, max);
			start = ++i;
			token = false;
			prev_begin = false;
			continue;
		}
		token = true;
		if (c == '\'' || c == '"') {
			i = skip_quoted(s, n, i + 1, c, c == '\'' && !std_strings);
			if (!i)
				return -1;
		} else if (c == '$' && !(i && ident_char((uint8_t)s[i - 1]))) {
			size_t j = skip_dollar(s, n, i);

			if (!j)
				return -1;
			i = j > i ? j : i + 1;
		} else if (ident_start(c)) {
			size_t j = i;

			while (j < n && ident_char((uint8_t)s[j]))
				j++;
			if (j == i + 1 && (c == 'E' || c == 'e') && j < n && s[j] == '\'') {
				j = skip_quoted(s, n, j + 1, '\'', true);
				if (!j)
					return -1;
			} else if (j - i == 6 && prev_begin && !strncasecmp(s + i, "ATOMIC", 6)) {
				return -1;
			} else {
				word_begin = j - i == 5 && !strncasecmp(s + i, "BEGIN", 5);
			}
			i = j;
		} else {
			if (c == '(')
				paren++;
			else if (c == ')' && paren)
				paren--;
			i++;
		}
		prev_begin = word_begin;
	}
	if (token)
		add_piece(s, start, n, out, &count, max);
	return count;
}

/* ---------------------------------------------------------------- client messages */

static bool req_cut_flag(struct pg_xchg *x, bool cut)
{
	if (cut)
		x->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
	return cut;
}

static void startup_msg(struct pg *pg, const uint8_t *b, size_t n)
{
	uint32_t code;
	size_t at = 4;

	if (n < 4) {
		set_status(pg, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	code = be32(b);
	if (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST) {
		pg->dir[KSPAN_MSG_RESPONSE].phase = PH_SSL_REPLY;
		return;
	}
	if (code == PG_CANCEL_REQUEST) {
		pg->cancel = true;
		return;
	}
	if (code >> 16 != PG_PROTO_MAJOR) {
		set_status(pg, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	pg->dir[KSPAN_MSG_REQUEST].phase = PH_TYPED;
	pg->user_len = pg->database_len = 0;
	while (at < n && b[at]) {
		long kn = str_len(b + at, n - at), kv;
		const uint8_t *v;

		if (kn < 0)
			break;
		v = b + at + kn + 1;
		kv = str_len(v, n - (v - b));
		if (kv < 0)
			break;
		if (kv > KSPAN_PG_IDENT_MAX) {
			pg->base.stats.fields_dropped++;
		} else if (kn == 4 && !memcmp(b + at, "user", 4)) {
			memcpy(pg->user, v, kv);
			pg->user_len = kv;
		} else if (kn == 8 && !memcmp(b + at, "database", 8)) {
			memcpy(pg->database, v, kv);
			pg->database_len = kv;
		}
		at = v - b + kv + 1;
	}
	if (!pg->database_len) {
		memcpy(pg->database, pg->user, pg->user_len);
		pg->database_len = pg->user_len;
	}
	pg->user[pg->user_len] = '\0';
	pg->database[pg->database_len] = '\0';
}

/*
 * Where the unnamed Parse of group x waits in the queue (ring_n when it was
 * answered already); *later: an exchange numbered before now waits after it,
 * so numbering x now would report exchanges out of order.
 */
static uint32_t group_parse_at(struct pg *pg, const struct pg_xchg *x, bool *later)
{
	uint32_t at = pg->ring_n;

	for (uint32_t i = 0; i < pg->ring_n && at == pg->ring_n; i++)
		if (ent_at(pg, i)->x == x && ent_at(pg, i)->kind == ENT_PARSE)
			at = i;
	*later = false;
	for (uint32_t i = at == pg->ring_n ? 0 : at + 1; i < pg->ring_n; i++) {
		const struct pg_xchg *o = ent_at(pg, i)->x;

		if (o && o != x && o->seq && !o->reported)
			*later = true;
	}
	return at;
}

/*
 * The pending group ends without an Execute (Sync, Query, FunctionCall): an
 * unnamed Parse in it was a prepare of its own (unless a named prepare came
 * after it: then it is not reported, as exchanges are reported in order);
 * anything else makes no exchange.
 */
static void group_flush(struct pg *pg, uint64_t ts)
{
	struct pg_xchg *x = pg->group;

	pg->group = NULL;
	pg->group_id++;
	if (!x)
		return;
	if (pg->group_parse && active(pg)) {
		bool later;
		uint32_t at = group_parse_at(pg, x, &later);

		if (!later) {
			x->db_flags |= KSPAN_DB_F_PREPARE;
			batch_join(x, sync_batch(pg));
			xchg_request(pg, x, x->req_last_ns ? x->req_last_ns : ts);
			/* Its Parse now ends it; if answered already, it ends now. */
			if (at < pg->ring_n)
				ent_at(pg, at)->final = true;
			else
				xchg_report(pg, x,
					    x->parsed || x->error ? 0 : KSPAN_PEF_NO_RESPONSE);
		}
	}
	pg->group_parse = false;
	xchg_put(pg, x);
}

/* The group the next extended message joins, made if needed. */
static struct pg_xchg *group_get(struct pg *pg, uint64_t first)
{
	if (!pg->group)
		pg->group = xchg_new(pg, first);
	return pg->group;
}

/* The Query being read: statement exchanges and their entries. */
static void query_msg(struct pg *pg, const uint8_t *b, size_t n, bool cut, uint64_t ts)
{
	struct pg_dir *d = &pg->dir[KSPAN_MSG_REQUEST];
	struct stmt_span spans[KSPAN_PG_SPLIT_MAX];
	struct pg_xchg *first = pg->reading;
	struct pg_batch *batch = NULL;
	struct pg_text *t;
	bool whole_text = !cut && n == d->body_len && n && !b[n - 1];
	size_t len = whole_text ? n - 1 : MIN(n, (size_t)KSPAN_DB_QUERY_MAX);
	int count = -1;

	pg->reading = NULL;
	/* A Query ends the extended protocol's batch (its pending messages were flushed at its
	 * start) and destroys the unnamed statement and portal. */
	group_flush(pg, ts);
	batch_close(pg);
	table_remove(pg, &pg->stmts, "", 0);
	table_remove(pg, &pg->portals, "", 0);
	if (!first || !active(pg))
		goto out;
	if (whole_text && len <= KSPAN_PG_SPLIT_TEXT_MAX)
		count = split_sql((const char *)b, len, pg->std_strings, spans, KSPAN_PG_SPLIT_MAX);
	if (count > KSPAN_PG_SPLIT_MAX)
		count = -1;
	if (count < 0 && len > KSPAN_DB_QUERY_MAX)
		len = KSPAN_DB_QUERY_MAX;
	t = text_new(pg, b, len, !whole_text || len < n - 1);
	if (!t)
		goto out;
	req_cut_flag(first, cut);
	if (count <= 0) {
		/* One exchange: unsplittable, or no statement at all (EmptyQueryResponse). */
		first->text = t;
		first->len = t->len;
		xchg_request(pg, first, ts);
		ent_push(pg, (struct pg_entry){ .kind = ENT_QUERY,
						.final = true,
						.last = true,
						.whole = count < 0,
						.x = first });
		goto out;
	}
	if (count > 1)
		batch = batch_new(pg);
	if (batch)
		batch->count = count; /* known before the first statement is reported */
	for (int i = 0; i < count && active(pg); i++) {
		struct pg_xchg *x = i ? xchg_new(pg, first->req_first_ns) : xchg_get(first);

		if (!x)
			break;
		x->text = text_get(t);
		x->off = spans[i].off;
		x->len = spans[i].len;
		x->pflags |= first->pflags;
		if (batch) {
			batch->refs++;
			x->batch = batch;
		}
		xchg_request(pg, x, ts);
		ent_push(pg, (struct pg_entry){ .kind = ENT_QUERY,
						.final = true,
						.last = i == count - 1,
						.x = x });
		xchg_put(pg, x);
	}
	text_put(pg, t);
	batch_put(batch);
out:
	xchg_put(pg, first);
}

static void parse_msg(struct pg *pg, const uint8_t *b, size_t n, bool cut, uint64_t first,
		      uint64_t ts)
{
	const char *name;
	size_t name_len, qlen;
	const uint8_t *q;
	struct pg_text *t;
	struct pg_named *st;
	struct pg_xchg *x;
	long k;
	bool whole;

	if (!take_name(b, n, &name, &name_len)) {
		/* A name too long to track: still a prepare, of a text we do not keep. */
		x = xchg_new(pg, first);
		if (!x)
			return;
		x->db_flags |= KSPAN_DB_F_PREPARE | KSPAN_DB_F_TEXT_UNKNOWN;
		req_cut_flag(x, cut);
		batch_join(x, sync_batch(pg));
		xchg_request(pg, x, ts);
		ent_push(pg, (struct pg_entry){ .kind = ENT_PARSE, .final = true, .x = x });
		xchg_put(pg, x);
		return;
	}
	q = b + name_len + 1;
	k = str_len(q, n - name_len - 1);
	whole = k >= 0 && !cut;
	qlen = k >= 0 ? (size_t)k : n - name_len - 1;
	t = text_new(pg, q, MIN(qlen, (size_t)KSPAN_DB_QUERY_MAX),
		     !whole || qlen > KSPAN_DB_QUERY_MAX);
	if (!t)
		return;
	st = table_put(pg, &pg->stmts, name, name_len);
	if (st) {
		text_put(pg, st->text);
		st->text = text_get(t);
		st->group = pg->group_id;
	}
	if (name_len) {
		/* A named statement: a prepare of its own, answered by ParseComplete. */
		x = xchg_new(pg, first);
		if (x) {
			x->text = text_get(t);
			x->len = t->len;
			x->db_flags |= KSPAN_DB_F_PREPARE;
			req_cut_flag(x, cut);
			batch_join(x, sync_batch(pg));
			xchg_request(pg, x, ts);
			ent_push(pg, (struct pg_entry){ .kind = ENT_PARSE, .final = true, .x = x });
			xchg_put(pg, x);
		}
	} else {
		/* The unnamed statement: part of the Execute that follows (PQexecParams). */
		x = group_get(pg, first);
		if (x) {
			text_put(pg, x->text);
			x->text = text_get(t);
			x->len = t->len;
			req_cut_flag(x, cut);
			x->req_last_ns = ts;
			pg->group_parse = true;
			ent_push(pg, (struct pg_entry){ .kind = ENT_PARSE, .x = x });
		}
	}
	text_put(pg, t);
}

static void bind_msg(struct pg *pg, const uint8_t *b, size_t n, bool cut, uint64_t first)
{
	const char *portal, *stmt;
	size_t portal_len, stmt_len;
	struct pg_named *st = NULL, *po = NULL;
	struct pg_xchg *x = group_get(pg, first);

	if (!x)
		return;
	req_cut_flag(x, cut);
	if (take_name(b, n, &portal, &portal_len)) {
		po = table_put(pg, &pg->portals, portal, portal_len);
		if (po) {
			text_put(pg, po->text);
			po->text = NULL;
			if (take_name(b + portal_len + 1, n - portal_len - 1, &stmt, &stmt_len))
				st = table_find(&pg->stmts, stmt, stmt_len);
			if (st) {
				st->used = ++pg->tick;
				po->text = text_get(st->text);
				po->named = stmt_len > 0;
				po->group = st->group;
			}
		}
	}
	ent_push(pg, (struct pg_entry){ .kind = ENT_BIND, .x = x });
}

static void execute_msg(struct pg *pg, const uint8_t *b, size_t n, bool cut, uint64_t ts)
{
	struct pg_xchg *x = pg->reading;
	const char *portal;
	size_t portal_len;
	struct pg_named *po = NULL;

	pg->reading = NULL;
	if (!x)
		return;
	if (take_name(b, n, &portal, &portal_len))
		po = table_find(&pg->portals, portal, portal_len);
	if (po && po->text) {
		po->used = ++pg->tick;
		text_put(pg, x->text);
		x->text = text_get(po->text);
		x->off = 0;
		x->len = po->text->len;
		/* Prepared in an earlier exchange: a named statement, or an unnamed one reused. */
		if (po->named || po->group != x->group)
			x->db_flags |= KSPAN_DB_F_PREPARED;
	} else {
		text_put(pg, x->text);
		x->text = NULL;
		x->db_flags |= KSPAN_DB_F_TEXT_UNKNOWN;
	}
	req_cut_flag(x, cut);
	batch_join(x, sync_batch(pg));
	xchg_request(pg, x, ts);
	ent_push(pg, (struct pg_entry){ .kind = ENT_EXECUTE, .final = true, .x = x });
	xchg_put(pg, x);
}

/* Describe or Close: kind 'S' (statement) or 'P' (portal) and a name. */
static void target_msg(struct pg *pg, uint8_t t, const uint8_t *b, size_t n)
{
	const char *name;
	size_t len;
	bool portal = n && b[0] == 'P';

	if (t == 'D') {
		ent_push(pg, (struct pg_entry){ .kind = portal ? ENT_DESC_P : ENT_DESC_S,
						.x = pg->group });
		return;
	}
	if (n && take_name(b + 1, n - 1, &name, &len))
		table_remove(pg, portal ? &pg->portals : &pg->stmts, name, len);
	ent_push(pg, (struct pg_entry){ .kind = ENT_CLOSE });
}

/* A typed message starts: Query and Execute begin their exchange at their first byte. */
static void req_begin(struct pg *pg, uint8_t t, uint64_t first)
{
	struct pg_xchg *x;

	if (t != 'Q' && t != 'E')
		return;
	/* A Query ends the pending extended messages: an unnamed prepare among them is
	 * numbered before the Query. */
	if (t == 'Q')
		group_flush(pg, first);
	if (t == 'E' && pg->group) {
		x = pg->group;
		pg->group = NULL;
		pg->group_parse = false;
		pg->group_id++;
	} else {
		x = xchg_new(pg, first);
	}
	if (!x)
		return;
	xchg_put(pg, pg->reading);
	pg->reading = x;
	xchg_start(pg, x);
}

static void req_msg(struct pg *pg, uint8_t t, const uint8_t *b, size_t n, bool cut, uint64_t first,
		    uint64_t ts)
{
	switch (t) {
	case 0:
		startup_msg(pg, b, n);
		break;
	case 'Q':
		query_msg(pg, b, n, cut, ts);
		break;
	case 'P':
		parse_msg(pg, b, n, cut, first, ts);
		break;
	case 'B':
		bind_msg(pg, b, n, cut, first);
		break;
	case 'E':
		execute_msg(pg, b, n, cut, ts);
		break;
	case 'D':
	case 'C':
		target_msg(pg, t, b, n);
		break;
	case 'S':
		if (pg->copy_in)
			break; /* the server ignores it during COPY FROM STDIN */
		group_flush(pg, ts);
		batch_close(pg);
		ent_push(pg, (struct pg_entry){ .kind = ENT_SYNC });
		break;
	case 'F':
		group_flush(pg, ts);
		ent_push(pg, (struct pg_entry){ .kind = ENT_FUNC });
		break;
	case 'c':
	case 'f':
		pg->copy_ends++;
		pg->copy_in = false;
		break;
	default: /* Flush, CopyData, password/SASL/GSS responses, Terminate */
		break;
	}
}

/* ---------------------------------------------------------------- framing */

/* Bytes of a body kept for its handler (the rest only frames). */
static uint32_t keep_of(enum kspan_msg_dir dn, uint8_t t, uint32_t body_len)
{
	uint32_t cap;

	if (dn == KSPAN_MSG_REQUEST) {
		switch (t) {
		case 0:
			cap = KSPAN_PG_STARTUP_MAX;
			break;
		case 'Q':
			cap = KSPAN_PG_SPLIT_TEXT_MAX + 1;
			break;
		case 'P':
			cap = KEEP_NAME + KSPAN_DB_QUERY_MAX + 1;
			break;
		case 'B':
			cap = 2 * KEEP_NAME;
			break;
		case 'D':
		case 'C':
			cap = 1 + KEEP_NAME;
			break;
		case 'E':
			cap = KEEP_NAME + 4;
			break;
		default: /* never a password, SASL or GSS message */
			cap = 0;
			break;
		}
	} else {
		switch (t) {
		case 'C':
			cap = KEEP_TAG;
			break;
		case 'E':
			cap = KEEP_ERROR;
			break;
		case 'S':
			cap = KEEP_PARAM;
			break;
		case 'Z':
			cap = 1;
			break;
		default:
			cap = 0;
			break;
		}
	}
	return MIN(cap, body_len);
}

static void msg_clear(struct pg_dir *d)
{
	d->hdr_len = 0;
	d->in_body = false;
	d->cut = false;
	d->buf_len = 0;
}

static void unsync(struct pg_dir *d)
{
	msg_clear(d);
	d->phase = PH_UNSYNCED;
	d->skipped = 0;
	d->tentative = false;
}

/*
 * Direction dn lost its place. Request bytes lost with a Parse or Bind
 * pending make an exchange of their own; either way the replies up to the
 * next ReadyForQuery are taken for the lost requests.
 */
static void lose_place(struct pg *pg, enum kspan_msg_dir dn, uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];
	struct pg_entry *e = ent_head(pg);

	if (dn == KSPAN_MSG_RESPONSE) {
		if (e && e->x)
			e->x->pflags |= KSPAN_PEF_RESP_INCOMPLETE;
	} else if (d->phase != PH_UNSYNCED) {
		struct pg_xchg *x = pg->reading ? pg->reading : pg->group;
		struct pg_entry *tail = pg->ring_n ? ent_at(pg, pg->ring_n - 1) : NULL;

		pg->reading = NULL;
		if (x == pg->group) {
			pg->group = NULL;
			pg->group_parse = false;
			pg->group_id++;
		}
		if (x) {
			x->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
			if (!x->text)
				x->db_flags |= KSPAN_DB_F_TEXT_UNKNOWN;
			xchg_request(pg, x, ts);
		}
		if (x || !tail || tail->kind != ENT_LOST)
			ent_push(pg, (struct pg_entry){ .kind = ENT_LOST, .final = true, .x = x });
		xchg_put(pg, x);
	}
	unsync(d);
}

/* Bytes that are not the protocol: fatal, unless we only guessed where messages start. */
static void bad_bytes(struct pg *pg, enum kspan_msg_dir dn, uint64_t ts)
{
	if (!pg->dir[dn].tentative) {
		set_status(pg, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	lose_place(pg, dn, ts);
}

static void skip_bytes(struct pg *pg, struct pg_dir *d, uint64_t n)
{
	d->skipped += n;
	pg->base.stats.skipped_bytes += n;
	if (d->skipped > KSPAN_PG_RESYNC_MAX)
		set_status(pg, KSPAN_PARSER_LOST);
}

/* The header is complete: check it and set up the body. */
static bool msg_begin(struct pg *pg, enum kspan_msg_dir dn, uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];
	uint32_t len;

	if (d->phase == PH_STARTUP) {
		len = be32(d->hdr);
		if (len < 8 || len > KSPAN_PG_STARTUP_MAX || pg->cancel) {
			bad_bytes(pg, dn, ts);
			return false;
		}
		d->type = 0;
	} else {
		len = be32(d->hdr + 1);
		if (!header_ok(dn, d->hdr[0], len)) {
			bad_bytes(pg, dn, ts);
			return false;
		}
		d->type = d->hdr[0];
	}
	d->in_body = true;
	d->body_len = len - 4;
	d->body_off = 0;
	d->keep = keep_of(dn, d->type, d->body_len);
	d->cut = false;
	d->buf_len = 0;
	if (dn == KSPAN_MSG_REQUEST && d->type)
		req_begin(pg, d->type, d->first_ns);
	return true;
}

/* Keeps s[0..n) of the body (the part within keep). False when out of memory. */
static bool buf_keep(struct pg *pg, struct pg_dir *d, const uint8_t *s, size_t n)
{
	if (d->body_off >= d->keep || !n)
		return true;
	n = MIN(n, (size_t)(d->keep - d->body_off));
	if (d->buf_len + n > d->buf_cap) {
		uint32_t cap = d->buf_cap ? d->buf_cap : BUF_MIN;
		uint8_t *nb;

		while (cap < d->buf_len + n)
			cap *= 2;
		nb = realloc(d->buf, cap);
		if (!nb) {
			set_status(pg, KSPAN_PARSER_LOST);
			return false;
		}
		d->buf = nb;
		d->buf_cap = cap;
	}
	memcpy(d->buf + d->buf_len, s, n);
	d->buf_len += n;
	return true;
}

/*
 * The body is complete, b[0..n) of it kept; whole: all of it, when it is in
 * memory. It is checked (all of it while the place is a guess) and handed over.
 */
static void msg_end(struct pg *pg, enum kspan_msg_dir dn, const uint8_t *b, size_t n,
		    const uint8_t *whole, uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];
	uint8_t t = d->type;
	bool cut = d->cut;
	uint64_t first = d->first_ns;
	bool checked = false;

	d->in_body = false;
	d->hdr_len = 0;
	if (!b)
		b = (const uint8_t *)"";
	if (t && ((d->tentative && whole) || (n == d->body_len && !cut))) {
		if (!body_ok(dn, t, whole ? whole : b, d->body_len)) {
			bad_bytes(pg, dn, ts);
			return;
		}
		checked = true;
	}
	if (d->tentative && checked &&
	    (dn == KSPAN_MSG_REQUEST ? strchr("QPBES", t) : strchr("ZC", t)))
		d->tentative = false;
	if (dn == KSPAN_MSG_REQUEST)
		req_msg(pg, t, b, n, cut, first, ts);
	else
		resp_msg(pg, t, b, n, first, ts);
	d->buf_len = 0;
}

/* Consumes message bytes from *p (in sync). */
static void step_msg(struct pg *pg, enum kspan_msg_dir dn, const uint8_t **p, const uint8_t *end,
		     uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];
	size_t k;

	if (!d->in_body) {
		size_t need = d->phase == PH_STARTUP ? 4 : 5;

		if (!d->hdr_len)
			d->first_ns = ts;
		k = MIN(need - d->hdr_len, (size_t)(end - *p));
		memcpy(d->hdr + d->hdr_len, *p, k);
		d->hdr_len += k;
		*p += k;
		/* Reject a wrong type byte at once: other protocols may send little. */
		if (d->phase == PH_TYPED && !is_type(dn, d->hdr[0])) {
			bad_bytes(pg, dn, ts);
			return;
		}
		if (d->hdr_len < need || !msg_begin(pg, dn, ts))
			return;
	}
	k = MIN((size_t)(end - *p), (size_t)(d->body_len - d->body_off));
	if (!d->body_off && k == d->body_len) {
		/* The whole body is here: used in place. */
		d->body_off = k;
		*p += k;
		msg_end(pg, dn, *p - k, d->keep, *p - k, ts);
		return;
	}
	if (!buf_keep(pg, d, *p, k))
		return;
	d->body_off += k;
	*p += k;
	if (d->body_off == d->body_len)
		msg_end(pg, dn, d->buf, d->buf_len, d->buf_len == d->body_len ? d->buf : NULL, ts);
}

/* Where in b[0..n) a chain of messages begins; n when nowhere. at_start: b starts a read. */
static size_t find_boundary(enum kspan_msg_dir dn, const uint8_t *b, size_t n, bool at_start)
{
	long work = SCAN_BUDGET;

	if (chain_score(dn, b, n, &work) >= (at_start ? RESYNC_AT_START : RESYNC_INSIDE))
		return 0;
	for (size_t i = 1; i < n && work > 0; i++)
		if (is_type(dn, b[i]) && chain_score(dn, b + i, n - i, &work) >= RESYNC_INSIDE)
			return i;
	return n;
}

static void resync_scan(struct pg *pg, enum kspan_msg_dir dn, const uint8_t **p, const uint8_t *end,
			bool at_start)
{
	struct pg_dir *d = &pg->dir[dn];
	size_t at = find_boundary(dn, *p, end - *p, at_start);

	skip_bytes(pg, d, at);
	*p += at;
	if (*p == end)
		return;
	pg->base.stats.resyncs++;
	d->phase = PH_TYPED;
	d->tentative = true;
	msg_clear(d);
}

/* The one-byte answer to SSLRequest or GSSENCRequest. */
static void ssl_reply(struct pg *pg, uint8_t c)
{
	struct pg_dir *d = &pg->dir[KSPAN_MSG_RESPONSE];

	if (c == 'N' || c == 'E') {
		/* Refused (go on in plaintext), or an old server's ErrorResponse. */
		d->phase = PH_TYPED;
		if (c == 'E') {
			d->hdr[0] = c;
			d->hdr_len = 1;
		}
	} else if (c == 'S' || c == 'G') {
		/* Encrypted from here: the TLS (or GSSAPI) path sees the plaintext. */
		set_status(pg, KSPAN_PARSER_UPGRADED);
	} else {
		set_status(pg, KSPAN_PARSER_NOT_PROTO);
	}
}

static void consume(struct pg *pg, enum kspan_msg_dir dn, const uint8_t *p, const uint8_t *end,
		    uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];
	const uint8_t *begin = p;

	while (p < end && active(pg)) {
		switch (d->phase) {
		case PH_UNSYNCED:
			resync_scan(pg, dn, &p, end, p == begin);
			break;
		case PH_SSL_REPLY:
			if (!d->hdr_len)
				d->first_ns = ts;
			ssl_reply(pg, *p++);
			break;
		default:
			step_msg(pg, dn, &p, end, ts);
			break;
		}
	}
}

/* n bytes happened that were not captured: advance the framing over them. */
static void gap(struct pg *pg, enum kspan_msg_dir dn, uint64_t n, uint64_t ts)
{
	struct pg_dir *d = &pg->dir[dn];

	pg->base.stats.gap_bytes += n;
	while (n && active(pg)) {
		uint64_t k;

		if (d->phase == PH_UNSYNCED) {
			skip_bytes(pg, d, n);
			return;
		}
		if (!d->in_body) {
			/* A header (or the SSL answer) in the gap: where messages start is lost. */
			lose_place(pg, dn, ts);
			continue;
		}
		k = MIN(n, (uint64_t)(d->body_len - d->body_off));
		if (d->body_off < d->keep)
			d->cut = true;
		d->body_off += k;
		n -= k;
		if (d->body_off == d->body_len)
			msg_end(pg, dn, d->buf, d->buf_len, NULL, ts);
	}
}

static int pg_feed(struct kspan_parser *p, enum kspan_msg_dir dn, const uint8_t *buf,
		   size_t captured, size_t len, uint64_t ts_ns)
{
	struct pg *pg = to_pg(p);

	if ((dn != KSPAN_MSG_REQUEST && dn != KSPAN_MSG_RESPONSE) || captured > len ||
	    (!buf && captured))
		return -EINVAL;
	if (!active(pg))
		return status_rc(pg);
	if (captured)
		consume(pg, dn, buf, buf + captured, ts_ns);
	if (len > captured && active(pg))
		gap(pg, dn, len - captured, ts_ns);
	return status_rc(pg);
}

/* ---------------------------------------------------------------- lifecycle */

static void pg_clear(struct pg *pg, unsigned int flags)
{
	while (pg->ring_n) {
		struct pg_entry *e = ent_at(pg, 0);

		xchg_put(pg, e->x);
		pg->ring_head = (pg->ring_head + 1) % pg->ring_cap;
		pg->ring_n--;
	}
	pg->ring_head = 0;
	xchg_put(pg, pg->group);
	xchg_put(pg, pg->reading);
	pg->group = pg->reading = NULL;
	pg->group_parse = false;
	batch_close(pg);
	table_clear(pg, &pg->stmts);
	table_clear(pg, &pg->portals);
	pg->stmts.max = KSPAN_PG_STATEMENTS_MAX;
	pg->portals.max = KSPAN_PG_PORTALS_MAX;
	pg->err_mode = false;
	pg->copy_in = false;
	pg->cancel = false;
	pg->std_strings = true;
	pg->user_len = pg->database_len = 0;
	pg->user[0] = pg->database[0] = '\0';
	for (int i = 0; i < 2; i++) {
		struct pg_dir *d = &pg->dir[i];

		msg_clear(d);
		d->skipped = 0;
		d->tentative = false;
		d->phase = flags & KSPAN_PARSER_MIDSTREAM ? PH_UNSYNCED :
			   i == KSPAN_MSG_REQUEST	  ? PH_STARTUP :
							    PH_TYPED;
	}
	pg->flags = flags;
	pg->base.status = KSPAN_PARSER_ACTIVE;
}

static int pg_eof(struct kspan_parser *p, uint64_t ts_ns)
{
	struct pg *pg = to_pg(p);

	(void)ts_ns;
	if (active(pg)) {
		while (pg->ring_n)
			ent_pop(pg, POP_UNANSWERED);
		/* A request being read when the connection closed (the newest): what it was. */
		if (pg->reading) {
			pg->reading->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
			if (!pg->reading->text)
				pg->reading->db_flags |= KSPAN_DB_F_TEXT_UNKNOWN;
			xchg_request(pg, pg->reading, pg->dir[KSPAN_MSG_REQUEST].first_ns);
			xchg_report(pg, pg->reading, KSPAN_PEF_NO_RESPONSE);
		}
	}
	pg_clear(pg, pg->flags);
	return 0;
}

static void pg_reset(struct kspan_parser *p, unsigned int flags)
{
	pg_clear(to_pg(p), flags);
}

static void pg_destroy(struct kspan_parser *p)
{
	struct pg *pg;

	if (!p)
		return;
	pg = to_pg(p);
	pg_clear(pg, 0);
	free(pg->ring);
	free(pg->dir[0].buf);
	free(pg->dir[1].buf);
	free(pg);
}

static struct kspan_parser *pg_create(kspan_parser_event_fn fn, void *ctx, unsigned int flags)
{
	struct pg *pg;

	if (flags & ~KSPAN_PARSER_MIDSTREAM) {
		errno = EINVAL;
		return NULL;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg) {
		errno = ENOMEM;
		return NULL;
	}
	pg->base.ops = &kspan_pgwire_parser_ops;
	pg->base.on_event = fn;
	pg->base.ctx = ctx;
	pg_clear(pg, flags);
	return &pg->base;
}

const struct kspan_parser_ops kspan_pgwire_parser_ops = {
	.name = "pgwire",
	.detect = kspan_pgwire_detect,
	.create = pg_create,
	.feed = pg_feed,
	.eof = pg_eof,
	.reset = pg_reset,
	.destroy = pg_destroy,
};
