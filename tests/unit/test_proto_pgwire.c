// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the PostgreSQL protocol parser (userspace/proto_pgwire.c)
 * through the common parser interface: real connections recorded from
 * Debian's PostgreSQL 15 with psql and libpq (tests/unit/data/pgwire/: simple
 * and multi-statement queries, errors, notices, LISTEN/NOTIFY, COPY both ways,
 * PQexecParams, PQprepare/PQexecPrepared, the extended protocol's COPY,
 * pipeline mode with an aborted pipeline, SSLRequest refused and accepted,
 * SCRAM failure, a canceled query and its CancelRequest, a large result) fed
 * whole, byte by byte, in random reads, with capture gaps and from the middle;
 * and hand-built messages for what the recordings lack (GSSENCRequest,
 * portals run in steps, splitting rules, FunctionCall, hostile bytes, bounds).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "proto_http1.h"
#include "proto_pgwire.h"

#define REQ KSPAN_MSG_REQUEST
#define RESP KSPAN_MSG_RESPONSE
#define MAX_EVENTS 1024
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define NO_RESP KSPAN_PEF_NO_RESPONSE
#define PREPARE KSPAN_DB_F_PREPARE
#define PREPARED KSPAN_DB_F_PREPARED
#define UNKNOWN KSPAN_DB_F_TEXT_UNKNOWN

/* ------------------------------------------------------------------ events */

struct ev {
	enum kspan_parser_event_type type;
	uint32_t flags;
	uint64_t seq, req_first, req_last, resp_first, resp_last;
	bool detail;
	char query[KSPAN_DB_QUERY_MAX + 1], db[256], user[256], status[16], msg[1024];
	bool error;
	int64_t rows;
	uint32_t batch, dbflags;
};

struct rec {
	struct ev ev[MAX_EVENTS];
	int n;
	char *log; /* one line per event, to compare runs */
	size_t log_len, log_cap;
};

static void copy_str(char *dst, size_t cap, struct kspan_str s)
{
	assert_non_null(s.ptr);
	assert_true(s.len < cap);
	memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
}

static void log_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->log_cap - r->log_len < 8192) {
		r->log_cap = r->log_cap * 2 + 65536;
		r->log = realloc(r->log, r->log_cap);
		assert_non_null(r->log);
	}
	va_start(ap, fmt);
	n = vsnprintf(r->log + r->log_len, r->log_cap - r->log_len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < r->log_cap - r->log_len);
	r->log_len += n;
}

static void on_event(void *ctx, const struct kspan_parser_event *pe)
{
	struct rec *r = ctx;
	const struct kspan_db_exchange *x = pe->detail;
	struct ev *e;

	assert_true(r->n < MAX_EVENTS);
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = pe->type;
	e->flags = pe->flags;
	e->seq = pe->req_seq;
	e->req_first = pe->req_first_ns;
	e->req_last = pe->req_last_ns;
	e->resp_first = pe->resp_first_ns;
	e->resp_last = pe->resp_last_ns;
	e->detail = x != NULL;
	log_add(r, "%d s=%lu f=%x ts=%lu,%lu,%lu,%lu", pe->type, (unsigned long)pe->req_seq,
		pe->flags, (unsigned long)pe->req_first_ns, (unsigned long)pe->req_last_ns,
		(unsigned long)pe->resp_first_ns, (unsigned long)pe->resp_last_ns);
	if (!x) {
		assert_int_equal(pe->type, KSPAN_PEV_REQUEST_START);
		log_add(r, "\n");
		return;
	}
	assert_string_equal(x->system, "postgresql");
	assert_int_equal(x->command.len, 0);
	copy_str(e->query, sizeof(e->query), x->query);
	copy_str(e->db, sizeof(e->db), x->db_namespace);
	copy_str(e->user, sizeof(e->user), x->user);
	copy_str(e->status, sizeof(e->status), x->status_code);
	copy_str(e->msg, sizeof(e->msg), x->error_message);
	e->error = x->error;
	e->rows = x->rows;
	e->batch = x->batch_size;
	e->dbflags = x->flags;
	log_add(r, " q=[%s] db=%s u=%s st=%s err=%d m=[%s] rows=%ld b=%u x=%x\n", e->query, e->db,
		e->user, e->status, e->error, e->msg, (long)e->rows, e->batch, e->dbflags);
}

static int setup(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	free(r->log);
	free(r);
	return 0;
}

static void clear(struct rec *r)
{
	r->n = 0;
	r->log_len = 0;
	if (r->log)
		r->log[0] = '\0';
}

static struct kspan_parser *new_parser(struct rec *r, unsigned int flags)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_pgwire_parser_ops, on_event, r, flags);

	assert_non_null(p);
	assert_ptr_equal(p->ops, &kspan_pgwire_parser_ops);
	assert_string_equal(p->ops->name, "pgwire");
	return p;
}

static int count(const struct rec *r, enum kspan_parser_event_type t)
{
	int c = 0;

	for (int i = 0; i < r->n; i++)
		c += r->ev[i].type == t;
	return c;
}

/* The n-th (0-based) event of type t. */
static struct ev *find(struct rec *r, enum kspan_parser_event_type t, int nth)
{
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].type == t && nth-- == 0)
			return &r->ev[i];
	fail_msg("no event %d of type %d among %d", nth, t, r->n);
	return &r->ev[0];
}

/*
 * The interface's promises over a whole run: every request has one
 * REQUEST_START, then one REQUEST, then one EXCHANGE, in that order; seqs
 * grow; exchanges come in seq order.
 */
static void check_lifecycle(const struct rec *r)
{
	uint64_t last_start = 0, last_xchg = 0;

	for (int i = 0; i < r->n; i++) {
		const struct ev *e = &r->ev[i];
		int starts = 0, reqs = 0, xchgs = 0;

		if (e->type == KSPAN_PEV_EXCHANGE && (e->flags & KSPAN_PEF_NO_REQUEST)) {
			assert_int_equal(e->seq, 0);
			continue;
		}
		assert_true(e->seq > 0);
		if (e->type == KSPAN_PEV_REQUEST_START) {
			assert_true(e->seq > last_start);
			last_start = e->seq;
		}
		if (e->type == KSPAN_PEV_EXCHANGE) {
			assert_true(e->seq > last_xchg);
			last_xchg = e->seq;
		}
		for (int j = 0; j < r->n; j++) {
			if (r->ev[j].seq != e->seq)
				continue;
			starts += r->ev[j].type == KSPAN_PEV_REQUEST_START;
			reqs += r->ev[j].type == KSPAN_PEV_REQUEST;
			xchgs += r->ev[j].type == KSPAN_PEV_EXCHANGE;
			if (r->ev[j].type == KSPAN_PEV_REQUEST_START)
				assert_true(j <= i);
			if (r->ev[j].type == KSPAN_PEV_EXCHANGE)
				assert_true(j >= i);
		}
		assert_int_equal(starts, 1);
		assert_int_equal(reqs, 1);
		assert_int_equal(xchgs, 1);
	}
}

/* ------------------------------------------------------------------ fixtures */

struct chunk {
	enum kspan_msg_dir dir;
	const uint8_t *b;
	size_t n;
};

struct fixture {
	uint8_t *data;
	struct chunk c[256];
	int n;
};

/* tests/unit/data/pgwire/, from the current directory or above the executable. */
static FILE *open_data(const char *name)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t k;
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/data/pgwire/%s", name);
	f = fopen(path, "rb");
	if (f)
		return f;
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(k > 0);
	exe[k] = '\0';
	for (int up = 0; up < 6 && !f; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/tests/unit/data/pgwire/%s", exe, name);
		f = fopen(path, "rb");
	}
	if (!f)
		fail_msg("fixture %s not found", name);
	return f;
}

static void fixture_load(struct fixture *fx, const char *name)
{
	FILE *f = open_data(name);
	size_t n, at = 0;

	memset(fx, 0, sizeof(*fx));
	fx->data = malloc(1 << 20);
	assert_non_null(fx->data);
	n = fread(fx->data, 1, 1 << 20, f);
	fclose(f);
	while (at + 5 <= n) {
		uint8_t *h = fx->data + at;
		size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];

		assert_true(h[0] == 'C' || h[0] == 'S');
		assert_true(at + 5 + len <= n);
		assert_true(fx->n < 256);
		fx->c[fx->n++] = (struct chunk){ h[0] == 'S' ? RESP : REQ, h + 5, len };
		at += 5 + len;
	}
	assert_int_equal(at, n);
}

static void fixture_free(struct fixture *fx)
{
	free(fx->data);
}

/* The time given to the i-th (0-based) record. */
static uint64_t ts_of(int i)
{
	return 110 + 10 * (uint64_t)i;
}

struct feed_opts {
	int from; /* first record fed */
	size_t read; /* bytes per read; 0: a record is one read */
	size_t capture; /* bytes captured per read; 0: all */
	unsigned int seed; /* != 0: random reads of 1..read bytes */
};

static uint32_t next_rand(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void feed_fixture(struct kspan_parser *p, const struct fixture *fx, struct feed_opts o)
{
	for (int i = o.from; i < fx->n; i++) {
		const struct chunk *c = &fx->c[i];

		for (size_t off = 0; off < c->n;) {
			size_t k = c->n - off, cap;

			if (o.seed) {
				size_t want = 1 + next_rand(&o.seed) % o.read;

				k = MIN(k, want);
			} else if (o.read)
				k = MIN(k, o.read);
			cap = o.capture ? MIN(k, o.capture) : k;
			assert_int_equal(kspan_parser_feed(p, c->dir, c->b + off, cap, k, ts_of(i)),
					 0);
			off += k;
		}
	}
}

/* ------------------------------------------------------------------ building messages */

struct mb {
	uint8_t b[80000];
	size_t n, start;
};

static void mb_u8(struct mb *m, uint8_t v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}

static void mb_i16(struct mb *m, int v)
{
	mb_u8(m, (uint8_t)(v >> 8));
	mb_u8(m, (uint8_t)v);
}

static void mb_i32(struct mb *m, int32_t v)
{
	mb_i16(m, (int)((uint32_t)v >> 16));
	mb_i16(m, v & 0xffff);
}

static void mb_raw(struct mb *m, const void *s, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

static void mb_str(struct mb *m, const char *s)
{
	mb_raw(m, s, strlen(s) + 1);
}

static void mb_begin(struct mb *m, char t)
{
	mb_u8(m, (uint8_t)t);
	m->start = m->n;
	mb_i32(m, 0);
}

static void mb_end(struct mb *m)
{
	uint32_t len = m->n - m->start;

	m->b[m->start] = len >> 24;
	m->b[m->start + 1] = len >> 16;
	m->b[m->start + 2] = len >> 8;
	m->b[m->start + 3] = len;
}

/* A message whose body is one string (Query, CommandComplete, CopyFail). */
static void m_str(struct mb *m, char t, const char *s)
{
	mb_begin(m, t);
	mb_str(m, s);
	mb_end(m);
}

static void m_empty(struct mb *m, char t)
{
	mb_begin(m, t);
	mb_end(m);
}

static void m_startup(struct mb *m, const char *user, const char *db)
{
	m->start = m->n;
	mb_i32(m, 0);
	mb_i32(m, 196608);
	mb_str(m, "user");
	mb_str(m, user);
	if (db) {
		mb_str(m, "database");
		mb_str(m, db);
	}
	mb_str(m, "application_name");
	mb_str(m, "test");
	mb_u8(m, 0);
	mb_end(m);
}

static void m_parse(struct mb *m, const char *name, const char *sql)
{
	mb_begin(m, 'P');
	mb_str(m, name);
	mb_str(m, sql);
	mb_i16(m, 0);
	mb_end(m);
}

static void m_bind(struct mb *m, const char *portal, const char *stmt)
{
	mb_begin(m, 'B');
	mb_str(m, portal);
	mb_str(m, stmt);
	mb_i16(m, 0);
	mb_i16(m, 1);
	mb_i32(m, 2);
	mb_raw(m, "42", 2);
	mb_i16(m, 0);
	mb_end(m);
}

static void m_target(struct mb *m, char t, char kind, const char *name)
{
	mb_begin(m, t);
	mb_u8(m, (uint8_t)kind);
	mb_str(m, name);
	mb_end(m);
}

static void m_execute(struct mb *m, const char *portal, int32_t max_rows)
{
	mb_begin(m, 'E');
	mb_str(m, portal);
	mb_i32(m, max_rows);
	mb_end(m);
}

static void m_ready(struct mb *m, char st)
{
	mb_begin(m, 'Z');
	mb_u8(m, (uint8_t)st);
	mb_end(m);
}

static void m_row(struct mb *m, const char *v)
{
	mb_begin(m, 'D');
	mb_i16(m, 1);
	mb_i32(m, (int32_t)strlen(v));
	mb_raw(m, v, strlen(v));
	mb_end(m);
}

static void m_error(struct mb *m, char t, const char *severity, const char *code, const char *msg)
{
	mb_begin(m, t);
	mb_u8(m, 'S');
	mb_str(m, severity);
	mb_u8(m, 'V');
	mb_str(m, severity);
	if (code) {
		mb_u8(m, 'C');
		mb_str(m, code);
	}
	mb_u8(m, 'M');
	mb_str(m, msg);
	mb_u8(m, 0);
	mb_end(m);
}

static void m_param(struct mb *m, const char *name, const char *value)
{
	mb_begin(m, 'S');
	mb_str(m, name);
	mb_str(m, value);
	mb_end(m);
}

static void m_copy_resp(struct mb *m, char t)
{
	mb_begin(m, t);
	mb_u8(m, 0);
	mb_i16(m, 1);
	mb_i16(m, 0);
	mb_end(m);
}

static void m_notification(struct mb *m)
{
	mb_begin(m, 'A');
	mb_i32(m, 1234);
	mb_str(m, "chan");
	mb_str(m, "hello");
	mb_end(m);
}

static void feed_mb(struct kspan_parser *p, enum kspan_msg_dir d, struct mb *m, uint64_t ts)
{
	assert_int_equal(kspan_parser_feed(p, d, m->b, m->n, m->n, ts), 0);
	m->n = 0;
}

/* A parser past its startup, user "app" on database "shop". */
static struct kspan_parser *connected(struct rec *r)
{
	struct kspan_parser *p = new_parser(r, 0);
	struct mb m = { 0 };

	m_startup(&m, "app", "shop");
	feed_mb(p, REQ, &m, 1);
	mb_begin(&m, 'R');
	mb_i32(&m, 0);
	mb_end(&m);
	m_param(&m, "server_version", "15.14");
	mb_begin(&m, 'K');
	mb_i32(&m, 4242);
	mb_i32(&m, 99);
	mb_end(&m);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 2);
	assert_int_equal(r->n, 0);
	return p;
}

/* Sends one simple Query and its reply of one CommandComplete; returns its exchange. */
static struct ev *simple(struct kspan_parser *p, struct rec *r, const char *sql, const char *tag,
			 uint64_t ts)
{
	struct mb m = { 0 };

	clear(r);
	m_str(&m, 'Q', sql);
	feed_mb(p, REQ, &m, ts);
	m_str(&m, 'C', tag);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, ts + 1);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	return find(r, KSPAN_PEV_EXCHANGE, 0);
}

/* ------------------------------------------------------------------ expected exchanges */

struct want {
	uint64_t seq;
	const char *query;
	int64_t rows;
	const char *status; /* NULL: no error */
	const char *msg;
	uint32_t batch, dbflags, flags;
	uint64_t req_first, req_last, resp_first, resp_last;
};

static void check_exchanges(struct rec *r, const struct want *w, int n, const char *db,
			    const char *user)
{
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), n);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), n);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST_START), n);
	check_lifecycle(r);
	for (int i = 0; i < n; i++) {
		struct ev *e = find(r, KSPAN_PEV_EXCHANGE, i);
		struct ev *q = find(r, KSPAN_PEV_REQUEST, i);

		assert_int_equal(e->seq, w[i].seq);
		assert_string_equal(e->query, w[i].query);
		assert_int_equal(e->rows, w[i].rows);
		assert_int_equal(e->error, w[i].status != NULL);
		assert_string_equal(e->status, w[i].status ? w[i].status : "");
		assert_string_equal(e->msg, w[i].msg ? w[i].msg : "");
		assert_int_equal(e->batch, w[i].batch);
		assert_int_equal(e->dbflags, w[i].dbflags);
		assert_int_equal(e->flags, w[i].flags);
		assert_int_equal(e->req_first, w[i].req_first);
		assert_int_equal(e->req_last, w[i].req_last);
		assert_int_equal(e->resp_first, w[i].resp_first);
		assert_int_equal(e->resp_last, w[i].resp_last);
		assert_string_equal(e->db, db);
		assert_string_equal(e->user, user);
		/* The REQUEST has the request half, no reply yet. */
		assert_int_equal(q->seq, w[i].seq);
		assert_string_equal(q->query, w[i].query);
		assert_int_equal(q->req_first, w[i].req_first);
		assert_int_equal(q->req_last, w[i].req_last);
		assert_int_equal(q->resp_first, 0);
		assert_int_equal(q->resp_last, 0);
		assert_false(q->error);
		assert_int_equal(q->rows, -1);
		assert_string_equal(q->status, "");
		assert_int_equal(q->dbflags, w[i].dbflags);
	}
}

/* psql_session.bin: 22 statements, record i at ts_of(i). */
static const struct want psql_session_want[] = {
	{ 1, "CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text, qty int)", -1, NULL,
	  NULL, 0, 0, 0, 170, 170, 180, 180 },
	{ 2, "TRUNCATE orders", -1, NULL, NULL, 0, 0, 0, 190, 190, 200, 200 },
	{ 3, "INSERT INTO orders VALUES (1, 'apple', 3), (2, 'pear', 5)", 2, NULL, NULL, 0, 0, 0,
	  210, 210, 220, 220 },
	{ 4, "UPDATE orders SET qty = qty + 1 WHERE id <= 2", 2, NULL, NULL, 0, 0, 0, 230, 230, 240,
	  240 },
	{ 5, "SELECT id, item, qty FROM orders ORDER BY id", 2, NULL, NULL, 0, 0, 0, 250, 250, 260,
	  260 },
	{ 6, "SELECT 1 AS a", 1, NULL, NULL, 3, 0, 0, 270, 270, 280, 280 },
	{ 7, "SELECT 'x;y' AS b", 1, NULL, NULL, 3, 0, 0, 270, 270, 280, 280 },
	{ 8, "DELETE FROM orders WHERE id = 2", 1, NULL, NULL, 3, 0, 0, 270, 270, 280, 280 },
	{ 9, "SELECT 1/0", -1, "22012", "division by zero", 0, 0, 0, 290, 290, 300, 300 },
	{ 10, "SELECT 1", 1, NULL, NULL, 3, 0, 0, 320, 320, 330, 330 },
	{ 11, "SELECT 1/0", -1, "22012", "division by zero", 3, 0, 0, 320, 320, 330, 330 },
	{ 12, "SELECT 3", -1, "", NULL, 3, 0, NO_RESP, 320, 320, 0, 0 },
	{ 13, "DO $$BEGIN RAISE NOTICE 'hello notice'; END$$", -1, NULL, NULL, 0, 0, 0, 340, 340,
	  350, 360 },
	{ 14, "LISTEN chan", -1, NULL, NULL, 0, 0, 0, 370, 370, 380, 380 },
	{ 15, "NOTIFY chan, 'payload'", -1, NULL, NULL, 0, 0, 0, 390, 390, 400, 400 },
	{ 16, "COPY orders TO STDOUT", 1, NULL, NULL, 0, 0, 0, 410, 410, 420, 420 },
	{ 17, "COPY orders (id, item, qty) FROM STDIN", 2, NULL, NULL, 0, 0, 0, 430, 430, 440,
	  460 },
	{ 18, "SELECT count(*) FROM orders", 1, NULL, NULL, 0, 0, 0, 470, 470, 480, 480 },
	{ 19, "SET application_name = 'shop-app'", -1, NULL, NULL, 0, 0, 0, 490, 490, 500, 500 },
	{ 20, "BEGIN", -1, NULL, NULL, 0, 0, 0, 510, 510, 520, 520 },
	{ 21, "SELECT * FROM nosuchtable", -1, "42P01", "relation \"nosuchtable\" does not exist",
	  0, 0, 0, 530, 530, 540, 540 },
	{ 22, "ROLLBACK", -1, NULL, NULL, 0, 0, 0, 550, 550, 560, 560 },
};

#define N_WANT(w) ((int)(sizeof(w) / sizeof((w)[0])))

/* ------------------------------------------------------------------ recorded sessions */

static void test_psql_session(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	const struct kspan_parser_stats *st = kspan_parser_stats(p);

	fixture_load(&fx, "psql_session.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(r, psql_session_want, N_WANT(psql_session_want), "shop", "kspan");
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(st->requests, 22);
	assert_int_equal(st->exchanges, 22);
	assert_int_equal(st->unanswered, 1);
	assert_int_equal(st->orphan_responses, 0);
	assert_int_equal(st->gap_bytes, 0);
	assert_int_equal(st->skipped_bytes, 0);
	assert_int_equal(st->resyncs, 0);
	/* Terminate was the last message: nothing left for the close. */
	clear(r);
	assert_int_equal(kspan_parser_eof(p, 999), 0);
	assert_int_equal(r->n, 0);
	kspan_parser_free(p);
	fixture_free(&fx);
}

/* The same events whatever the reads: byte by byte, and random splits. */
static void test_psql_session_splits(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	char *whole = NULL;

	fixture_load(&fx, "psql_session.bin");
	for (int run = 0; run < 12; run++) {
		struct kspan_parser *p = new_parser(r, 0);
		struct feed_opts o = { 0 };

		if (run == 1)
			o.read = 1;
		else if (run > 1)
			o = (struct feed_opts){ .read = 1 + run * 7, .seed = 77u * run };
		clear(r);
		feed_fixture(p, &fx, o);
		assert_int_equal(kspan_parser_eof(p, 999), 0);
		if (!run) {
			whole = strdup(r->log);
			assert_non_null(whole);
			check_exchanges(r, psql_session_want, N_WANT(psql_session_want), "shop",
					"kspan");
		} else {
			assert_string_equal(r->log, whole);
		}
		kspan_parser_free(p);
	}
	free(whole);
	fixture_free(&fx);
}

static const struct want libpq_extended_want[] = {
	/* PQexecParams: Parse/Bind/Describe/Execute/Sync in one write. */
	{ 1, "SELECT $1::int + 1 AS n", 1, NULL, NULL, 0, 0, 0, 170, 170, 180, 180 },
	/* PQprepare: Parse "get_order" + Sync. */
	{ 2, "SELECT item, qty FROM orders WHERE id = $1", -1, NULL, NULL, 0, PREPARE, 0, 190, 190,
	  200, 200 },
	/* PQexecPrepared x3: the text of the prepare. */
	{ 3, "SELECT item, qty FROM orders WHERE id = $1", 1, NULL, NULL, 0, PREPARED, 0, 210, 210,
	  220, 220 },
	{ 4, "SELECT item, qty FROM orders WHERE id = $1", 1, NULL, NULL, 0, PREPARED, 0, 230, 230,
	  240, 240 },
	{ 5, "SELECT item, qty FROM orders WHERE id = $1", 1, NULL, NULL, 0, PREPARED, 0, 250, 250,
	  260, 260 },
	/* The Execute fails; ParseComplete came first, in another read. */
	{ 6, "SELECT 10 / $1::int", -1, "22012", "division by zero", 0, 0, 0, 270, 270, 280, 280 },
	/* The Parse fails: the whole exchange does. */
	{ 7, "SELEC oops", -1, "42601", "syntax error at or near \"SELEC\"", 0, 0, 0, 300, 300, 310,
	  310 },
	/* PQdescribePrepared makes no exchange; empty queries, simple then extended. */
	{ 8, "", -1, NULL, NULL, 0, 0, 0, 340, 340, 350, 350 },
	{ 9, "", -1, NULL, NULL, 0, 0, 0, 360, 360, 370, 370 },
	/* COPY FROM STDIN through the extended protocol: one exchange until COPY 2. */
	{ 10, "COPY orders (id, item, qty) FROM STDIN", 2, NULL, NULL, 0, 0, 0, 380, 380, 390,
	  410 },
	{ 11, "INSERT INTO orders VALUES ($1, $2, $3)", 1, NULL, NULL, 0, 0, 0, 420, 420, 430,
	  430 },
	{ 12, "DEALLOCATE get_order", -1, NULL, NULL, 0, 0, 0, 440, 440, 450, 450 },
};

static void test_libpq_extended(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);

	fixture_load(&fx, "libpq_extended.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(r, libpq_extended_want, N_WANT(libpq_extended_want), "shop", "kspan");
	assert_int_equal(kspan_parser_stats(p)->unanswered, 0);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 0);
	kspan_parser_free(p);

	/* Byte by byte: the same. */
	p = new_parser(r, 0);
	clear(r);
	feed_fixture(p, &fx, (struct feed_opts){ .read = 1 });
	check_exchanges(r, libpq_extended_want, N_WANT(libpq_extended_want), "shop", "kspan");
	kspan_parser_free(p);
	fixture_free(&fx);
}

static const struct want libpq_pipeline_want[] = {
	/* One write: Parse "ins", three Bind/Describe/Execute of it, one unnamed, Sync. */
	{ 1, "INSERT INTO orders VALUES ($1, $2, $3)", -1, NULL, NULL, 5, PREPARE, 0, 170, 170, 180,
	  180 },
	{ 2, "INSERT INTO orders VALUES ($1, $2, $3)", 1, NULL, NULL, 5, PREPARED, 0, 170, 170, 180,
	  180 },
	{ 3, "INSERT INTO orders VALUES ($1, $2, $3)", 1, NULL, NULL, 5, PREPARED, 0, 170, 170, 180,
	  180 },
	{ 4, "INSERT INTO orders VALUES ($1, $2, $3)", 1, NULL, NULL, 5, PREPARED, 0, 170, 170, 180,
	  180 },
	{ 5, "SELECT count(*) FROM orders WHERE id >= $1", 1, NULL, NULL, 5, 0, 0, 170, 170, 180,
	  180 },
	/* An error aborts the pipeline: the two Executes after it are skipped. */
	{ 6, "SELECT 1", 1, NULL, NULL, 4, 0, 0, 190, 190, 210, 210 },
	{ 7, "SELECT 1/0", -1, "22012", "division by zero", 4, 0, 0, 190, 190, 210, 210 },
	{ 8, "SELECT 3", -1, "", NULL, 4, 0, NO_RESP, 190, 190, 0, 0 },
	{ 9, "INSERT INTO orders VALUES ($1, $2, $3)", -1, "", NULL, 4, PREPARED, NO_RESP, 190, 190,
	  0, 0 },
	/* The next Sync's pipeline runs. */
	{ 10, "SELECT 4", 1, NULL, NULL, 0, 0, 0, 200, 200, 210, 210 },
	/* A flush request: answered before its Sync. */
	{ 11, "UPDATE orders SET qty = qty * 2 WHERE id >= 10", 3, NULL, NULL, 0, 0, 0, 220, 220,
	  230, 230 },
};

static void test_libpq_pipeline(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	const struct kspan_parser_stats *st = kspan_parser_stats(p);

	fixture_load(&fx, "libpq_pipeline.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(r, libpq_pipeline_want, N_WANT(libpq_pipeline_want), "shop", "kspan");
	assert_int_equal(st->unanswered, 2);
	assert_int_equal(st->orphan_responses, 0);
	kspan_parser_free(p);

	/* Random reads: the same. */
	for (unsigned int seed = 1; seed < 6; seed++) {
		p = new_parser(r, 0);
		clear(r);
		feed_fixture(p, &fx, (struct feed_opts){ .read = 9, .seed = seed });
		check_exchanges(r, libpq_pipeline_want, N_WANT(libpq_pipeline_want), "shop",
				"kspan");
		kspan_parser_free(p);
	}
	fixture_free(&fx);
}

static void test_ssl_refused_and_accepted(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x01, 0x20, 0x01, 0x00 };

	/* 'N': the StartupMessage follows in plaintext. */
	fixture_load(&fx, "psql_ssl_refused.bin");
	assert_int_equal(fx.c[0].n, 8);
	assert_int_equal(fx.c[1].n, 1);
	assert_int_equal(fx.c[1].b[0], 'N');
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(r,
			(const struct want[]){ { 1, "SELECT current_database(), current_user", 1,
						 NULL, NULL, 0, 0, 0, 190, 190, 200, 200 } },
			1, "shop", "kspan");
	kspan_parser_free(p);
	fixture_free(&fx);

	/* 'S': TLS from here; the parser goes quiet and ignores the encrypted bytes. */
	clear(r);
	p = new_parser(r, 0);
	fixture_load(&fx, "psql_ssl_accepted.bin");
	assert_int_equal(fx.c[1].b[0], 'S');
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, tls, sizeof(tls), sizeof(tls), 9), 0);
	assert_int_equal(kspan_parser_stats(p)->requests, 0);
	kspan_parser_free(p);
	fixture_free(&fx);

	/* The same request split over reads, the answer in its own. */
	clear(r);
	p = new_parser(r, 0);
	fixture_load(&fx, "psql_ssl_accepted.bin");
	feed_fixture(p, &fx, (struct feed_opts){ .read = 3 });
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	kspan_parser_free(p);
	fixture_free(&fx);
}

static void test_gssenc_request(void **state)
{
	struct rec *r = *state;
	static const uint8_t gss[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30 };
	struct kspan_parser *p = new_parser(r, 0);
	enum kspan_msg_dir dir = RESP;
	struct mb m = { 0 };

	assert_int_equal(kspan_pgwire_detect(gss, sizeof(gss), &dir), 100);
	assert_int_equal(dir, REQ);
	/* Refused: SSLRequest may follow, then the startup in plaintext. */
	assert_int_equal(kspan_parser_feed(p, REQ, gss, sizeof(gss), sizeof(gss), 1), 0);
	assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)"N", 1, 1, 2), 0);
	m_startup(&m, "u", NULL);
	feed_mb(p, REQ, &m, 3);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 4);
	/* No database parameter: the server uses the user's name. */
	assert_string_equal(simple(p, r, "SELECT 1", "SELECT 1", 5)->db, "u");
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->user, "u");
	kspan_parser_free(p);

	/* Accepted ('G'): GSSAPI-encrypted from here. */
	clear(r);
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, gss, sizeof(gss), sizeof(gss), 1), 0);
	assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)"G", 1, 1, 2), 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	kspan_parser_free(p);

	/* An old server answers SSLRequest with an ErrorResponse: no exchange, no confusion. */
	clear(r);
	p = new_parser(r, 0);
	{
		static const uint8_t ssl[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

		assert_int_equal(kspan_parser_feed(p, REQ, ssl, sizeof(ssl), sizeof(ssl), 1), 0);
	}
	m_error(&m, 'E', "FATAL", "08P01", "unsupported frontend protocol");
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(kspan_parser_feed(p, RESP, m.b + i, 1, 1, 2), 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(r->n, 0);
	kspan_parser_free(p);
}

static void test_auth_failed_and_credentials(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	struct mb m = { 0 };

	fixture_load(&fx, "psql_auth_failed.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	/* SCRAM exchange and FATAL 28P01: no query, so no exchange and no orphan. */
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	kspan_parser_free(p);
	fixture_free(&fx);

	/* A cleartext password never reaches an event. */
	p = new_parser(r, 0);
	m_startup(&m, "app", "shop");
	feed_mb(p, REQ, &m, 1);
	mb_begin(&m, 'R');
	mb_i32(&m, 3);
	mb_end(&m);
	feed_mb(p, RESP, &m, 2);
	m_str(&m, 'p', "s3cret-password");
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(kspan_parser_feed(p, REQ, m.b + i, 1, 1, 3), 0);
	m.n = 0;
	mb_begin(&m, 'R');
	mb_i32(&m, 0);
	mb_end(&m);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 4);
	simple(p, r, "SELECT 1", "SELECT 1", 5);
	assert_null(memmem(r->log, r->log_len, "s3cret", 6));
	kspan_parser_free(p);
}

static void test_cancel(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	enum kspan_msg_dir dir = RESP;

	fixture_load(&fx, "libpq_cancel_request.bin");
	assert_int_equal(kspan_pgwire_detect(fx.c[0].b, fx.c[0].n, &dir), 100);
	assert_int_equal(dir, REQ);
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_eof(p, 9), 0);
	assert_int_equal(r->n, 0);
	kspan_parser_free(p);
	fixture_free(&fx);

	p = new_parser(r, 0);
	fixture_load(&fx, "libpq_cancel_query.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(r,
			(const struct want[]){ { 1, "SELECT pg_sleep(10)", -1, "57014",
						 "canceling statement due to user request", 0, 0, 0,
						 170, 170, 180, 180 } },
			1, "shop", "kspan");
	kspan_parser_free(p);
	fixture_free(&fx);
}

/* 35 KB of replies read 8 KiB at a time, of which the kernel captured 4 KiB. */
static void test_large_result_with_gaps(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, 0);
	const struct kspan_parser_stats *st = kspan_parser_stats(p);
	const char *sql = "SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 300) g";
	struct ev *e;

	fixture_load(&fx, "psql_large_result.bin");
	feed_fixture(p, &fx, (struct feed_opts){ 0 });
	check_exchanges(
		r,
		(const struct want[]){ { 1, sql, 300, NULL, NULL, 0, 0, 0, 170, 170, 180, 190 } },
		1, "shop", "kspan");
	kspan_parser_free(p);

	clear(r);
	p = new_parser(r, 0);
	st = kspan_parser_stats(p);
	feed_fixture(p, &fx, (struct feed_opts){ .read = 8192, .capture = 4096 });
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	/* The rows count comes from CommandComplete, found again after each gap. */
	assert_string_equal(e->query, sql);
	assert_int_equal(e->rows, 300);
	assert_false(e->error);
	assert_int_equal(e->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(e->resp_first, 180);
	assert_int_equal(e->resp_last, 190);
	assert_int_equal(st->gap_bytes, 4 * 4096);
	assert_int_equal(st->resyncs, 4);
	assert_true(st->skipped_bytes > 0 && st->skipped_bytes < 4 * 4096);
	kspan_parser_free(p);
	fixture_free(&fx);
}

/* Connections first seen mid-stream (opened before the agent). */
static void test_midstream(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	const char *get = "SELECT item, qty FROM orders WHERE id = $1";
	struct ev *e;

	/* From the first PQexecPrepared on: the statement was prepared before we came. */
	fixture_load(&fx, "libpq_extended.bin");
	feed_fixture(p, &fx, (struct feed_opts){ .from = 10 });
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 10);
	check_lifecycle(r);
	for (int i = 0; i < 3; i++) {
		e = find(r, KSPAN_PEV_EXCHANGE, i);
		assert_string_equal(e->query, "");
		assert_int_equal(e->dbflags, UNKNOWN);
		assert_int_equal(e->rows, 1);
		assert_int_equal(e->flags, 0);
		assert_string_equal(e->db, "");
		assert_string_equal(e->user, "");
	}
	e = find(r, KSPAN_PEV_EXCHANGE, 3);
	assert_string_equal(e->query, "SELECT 10 / $1::int");
	assert_string_equal(e->status, "22012");
	e = find(r, KSPAN_PEV_EXCHANGE, 9);
	assert_string_equal(e->query, "DEALLOCATE get_order");
	assert_int_equal(kspan_parser_stats(p)->resyncs, 2);
	kspan_parser_free(p);

	/* Started inside a reply: it is an orphan, then all goes on. */
	clear(r);
	p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	feed_fixture(p, &fx, (struct feed_opts){ .from = 11 });
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	assert_int_equal(e->seq, 0);
	assert_int_equal(e->rows, 1);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 1);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 10);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(e->seq, 1);
	assert_string_equal(e->query, "");
	assert_int_equal(e->dbflags, UNKNOWN);
	kspan_parser_free(p);

	/* Mid-stream into a session whose Parse we do see: the text is known. */
	clear(r);
	p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	feed_fixture(p, &fx, (struct feed_opts){ .from = 8 });
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, get);
	assert_int_equal(e->dbflags, PREPARE);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->query, get);
	assert_int_equal(e->dbflags, PREPARED);
	kspan_parser_free(p);
	fixture_free(&fx);

	/* A request read that starts inside a message: skipped until the next one. */
	clear(r);
	p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	fixture_load(&fx, "psql_session.bin");
	assert_int_equal(
		kspan_parser_feed(p, REQ, fx.c[10].b + 7, fx.c[10].n - 7, fx.c[10].n - 7, 1), 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, fx.c[10].n - 7);
	feed_fixture(p, &fx, (struct feed_opts){ .from = 11 });
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->query, "UPDATE orders SET qty = qty + 1 WHERE id <= 2");
	assert_int_equal(e->seq, 1);
	kspan_parser_free(p);
	fixture_free(&fx);
}

/* ------------------------------------------------------------------ hand-built cases */

/* Statement splitting follows the server's lexer. */
static void test_query_split(void **state)
{
	static const struct {
		const char *sql;
		int n;
		const char *stmts[4];
	} cases[] = {
		{ "SELECT ';' ; SELECT 2;", 2, { "SELECT ';'", "SELECT 2" } },
		{ "SELECT 'it''s;'; SELECT \"a;b\" FROM t",
		  2,
		  { "SELECT 'it''s;'", "SELECT \"a;b\" FROM t" } },
		{ "SELECT E'\\';'; SELECT 2", 2, { "SELECT E'\\';'", "SELECT 2" } },
		{ "DO $f$ BEGIN PERFORM 1; END $f$; SELECT $$;$$",
		  2,
		  { "DO $f$ BEGIN PERFORM 1; END $f$", "SELECT $$;$$" } },
		{ "SELECT $1; SELECT a$b$c", 2, { "SELECT $1", "SELECT a$b$c" } },
		{ "/* x; /* nested; */ */ SELECT 1; -- c;\n SELECT 2 -- end;",
		  2,
		  { "/* x; /* nested; */ */ SELECT 1", "-- c;\n SELECT 2 -- end;" } },
		{ "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); DELETE FROM b);"
		  " SELECT 1",
		  2,
		  { "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); DELETE FROM "
		    "b)",
		    "SELECT 1" } },
		{ "  ;; SELECT 1 ;  ; -- only a comment\n", 1, { "SELECT 1" } },
		{ "BEGIN; SELECT 1; COMMIT", 3, { "BEGIN", "SELECT 1", "COMMIT" } },
	};
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		clear(r);
		m_str(&m, 'Q', cases[c].sql);
		feed_mb(p, REQ, &m, 10);
		assert_int_equal(count(r, KSPAN_PEV_REQUEST), cases[c].n);
		for (int i = 0; i < cases[c].n; i++) {
			struct ev *e = find(r, KSPAN_PEV_REQUEST, i);

			assert_string_equal(e->query, cases[c].stmts[i]);
			assert_int_equal(e->batch, cases[c].n > 1 ? cases[c].n : 0);
			m_str(&m, 'C', "SELECT 1");
		}
		m_ready(&m, 'I');
		feed_mb(p, RESP, &m, 11);
		assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), cases[c].n);
		check_lifecycle(r);
		for (int i = 0; i < cases[c].n; i++)
			assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, i)->flags, 0);
	}
	kspan_parser_free(p);
}

/* Texts that cannot be split are one exchange, ended by ReadyForQuery. */
static void test_query_whole(void **state)
{
	static const char *const sqls[] = {
		("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; "
		 "SELECT 3"),
		"SELECT 'unterminated; SELECT 2",
		"SELECT 1 /* open comment; SELECT 2",
		"SELECT $q$ open; SELECT 2",
	};
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;
	char *big;

	for (size_t c = 0; c < sizeof(sqls) / sizeof(sqls[0]); c++) {
		clear(r);
		m_str(&m, 'Q', sqls[c]);
		feed_mb(p, REQ, &m, 10);
		m_str(&m, 'C', "CREATE FUNCTION");
		m_str(&m, 'C', "SELECT 1");
		m_ready(&m, 'I');
		feed_mb(p, RESP, &m, 11);
		assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
		e = find(r, KSPAN_PEV_EXCHANGE, 0);
		assert_string_equal(e->query, sqls[c]);
		assert_int_equal(e->rows, 1); /* the last completion's */
		assert_int_equal(e->batch, 0);
		assert_int_equal(e->resp_last, 11);
	}

	/* More statements than split: one exchange with the text cut at KSPAN_DB_QUERY_MAX. */
	big = malloc(KSPAN_PG_SPLIT_TEXT_MAX + 100);
	assert_non_null(big);
	big[0] = '\0';
	for (int i = 0; i < KSPAN_PG_SPLIT_MAX + 1; i++)
		strcat(big, "SELECT 1;");
	clear(r);
	m_str(&m, 'Q', big);
	feed_mb(p, REQ, &m, 20);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 0)->query, big);
	for (int i = 0; i < KSPAN_PG_SPLIT_MAX + 1; i++)
		m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 21);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);

	/* A text longer than splitting allows: one exchange, cut. */
	memset(big, 'x', KSPAN_PG_SPLIT_TEXT_MAX + 50);
	memcpy(big, "SELECT '", 8);
	strcpy(big + KSPAN_PG_SPLIT_TEXT_MAX + 40, "'; SELECT 2");
	clear(r);
	m_str(&m, 'Q', big);
	feed_mb(p, REQ, &m, 30);
	m_str(&m, 'C', "SELECT 1");
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 31);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(strlen(e->query), KSPAN_DB_QUERY_MAX);
	assert_memory_equal(e->query, big, KSPAN_DB_QUERY_MAX);
	assert_int_equal(e->dbflags, KSPAN_DB_F_QUERY_CUT);
	assert_int_equal(e->flags, 0);
	free(big);

	/* A statement longer than kept, in a split text: its own text is cut. */
	big = calloc(1, KSPAN_DB_QUERY_MAX + 100);
	assert_non_null(big);
	memset(big, ' ', KSPAN_DB_QUERY_MAX + 50);
	memcpy(big, "SELECT 2;SELECT 3", 17);
	clear(r);
	m_str(&m, 'Q', big);
	feed_mb(p, REQ, &m, 40);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 1)->query, "SELECT 3");
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 1)->dbflags, 0);
	free(big);
	kspan_parser_free(p);
}

/* standard_conforming_strings=off makes backslashes escapes in plain strings. */
static void test_query_split_backslashes(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	const char *sql = "SELECT 'x\\'; SELECT 2; -- '\n";

	m_str(&m, 'Q', sql);
	feed_mb(p, REQ, &m, 10);
	/* On (the default): the quote closes at the backslash. */
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 2);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 0)->query, "SELECT 'x\\'");
	m_error(&m, 'E', "ERROR", "42601", "syntax error");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	clear(r);
	m_param(&m, "standard_conforming_strings", "off");
	feed_mb(p, RESP, &m, 12);
	m_str(&m, 'Q', sql);
	feed_mb(p, REQ, &m, 13);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 0)->query, "SELECT 'x\\'; SELECT 2; -- '");
	kspan_parser_free(p);
}

static void test_empty_query(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	m_str(&m, 'Q', " ; ");
	feed_mb(p, REQ, &m, 10);
	m_empty(&m, 'I');
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_string_equal(e->query, " ; ");
	assert_int_equal(e->rows, -1);
	assert_false(e->error);
	assert_int_equal(e->flags, 0);
	kspan_parser_free(p);
}

/* Portals run in steps (Execute with a row limit) and named portals. */
static void test_portal_suspended(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	m_str(&m, 'Q', "BEGIN");
	feed_mb(p, REQ, &m, 5);
	m_str(&m, 'C', "BEGIN");
	m_ready(&m, 'T');
	feed_mb(p, RESP, &m, 6);
	clear(r);
	m_parse(&m, "", "SELECT * FROM big");
	m_bind(&m, "cur", "");
	m_execute(&m, "cur", 2);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 10);
	m_empty(&m, '1');
	m_empty(&m, '2');
	m_row(&m, "a");
	m_row(&m, "b");
	m_empty(&m, 's');
	m_ready(&m, 'T');
	feed_mb(p, RESP, &m, 11);
	m_execute(&m, "cur", 2);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 12);
	m_row(&m, "c");
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'T');
	feed_mb(p, RESP, &m, 13);
	m_target(&m, 'C', 'P', "cur");
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 14);
	m_empty(&m, '3');
	m_ready(&m, 'T');
	feed_mb(p, RESP, &m, 15);
	/* The closed portal is forgotten. */
	m_execute(&m, "cur", 0);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 16);
	m_error(&m, 'E', "ERROR", "34000", "portal \"cur\" does not exist");
	m_ready(&m, 'E');
	feed_mb(p, RESP, &m, 17);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 3);
	check_lifecycle(r);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "SELECT * FROM big");
	assert_int_equal(e->rows, 2); /* the rows this step returned */
	assert_int_equal(e->dbflags, 0);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->query, "SELECT * FROM big");
	assert_int_equal(e->rows, 1);
	assert_int_equal(e->dbflags, PREPARED);
	assert_int_equal(e->req_first, 12);
	e = find(r, KSPAN_PEV_EXCHANGE, 2);
	assert_string_equal(e->query, "");
	assert_int_equal(e->dbflags, UNKNOWN);
	assert_string_equal(e->status, "34000");
	kspan_parser_free(p);
}

/* Describe, Close, Flush and Sync alone make no exchange; an unnamed prepare does. */
static void test_no_exchange_messages(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	m_target(&m, 'D', 'S', "s1");
	m_empty(&m, 'H');
	m_target(&m, 'C', 'S', "s1");
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 10);
	mb_begin(&m, 't');
	mb_i16(&m, 0);
	mb_end(&m);
	m_empty(&m, 'n');
	m_empty(&m, '3');
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	assert_int_equal(r->n, 0);

	/* Parse "" + Describe + Sync (an unnamed PQprepare): a prepare, ended by its reply. */
	m_parse(&m, "", "SELECT $1::text");
	m_target(&m, 'D', 'S', "");
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 20);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	m_empty(&m, '1');
	mb_begin(&m, 't');
	mb_i16(&m, 1);
	mb_i32(&m, 25);
	mb_end(&m);
	m_empty(&m, 'n');
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 21);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "SELECT $1::text");
	assert_int_equal(e->dbflags, PREPARE);
	assert_int_equal(e->resp_last, 21);
	/* Then executed: the unnamed statement's text, prepared earlier. */
	clear(r);
	m_bind(&m, "", "");
	m_execute(&m, "", 0);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 30);
	m_empty(&m, '2');
	m_row(&m, "42");
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 31);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "SELECT $1::text");
	assert_int_equal(e->dbflags, PREPARED);
	assert_int_equal(e->rows, 1);
	/* A simple Query destroys the unnamed statement. */
	simple(p, r, "SELECT 2", "SELECT 1", 40);
	clear(r);
	m_bind(&m, "", "");
	m_execute(&m, "", 0);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 50);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 0)->dbflags, UNKNOWN);
	kspan_parser_free(p);
}

/* Notices, notifications and parameter changes never pair with requests. */
static void test_async_messages(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	/* While idle. */
	m_notification(&m);
	m_error(&m, 'N', "NOTICE", "00000", "idle notice");
	m_param(&m, "TimeZone", "UTC");
	feed_mb(p, RESP, &m, 5);
	assert_int_equal(r->n, 0);
	/* Inside a reply: a notice before the result belongs to its timing only. */
	m_str(&m, 'Q', "SELECT pg_notify('chan', 'x')");
	feed_mb(p, REQ, &m, 10);
	m_error(&m, 'N', "WARNING", "01000", "careful");
	feed_mb(p, RESP, &m, 11);
	m_row(&m, "");
	m_param(&m, "application_name", "x");
	m_str(&m, 'C', "SELECT 1");
	m_notification(&m);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 12);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_int_equal(e->rows, 1);
	assert_false(e->error);
	assert_int_equal(e->resp_first, 11);
	assert_int_equal(e->resp_last, 12);
	/* A FATAL while idle (administrator shutdown): no exchange, no orphan. */
	clear(r);
	m_error(&m, 'E', "FATAL", "57P01", "terminating connection due to administrator command");
	feed_mb(p, RESP, &m, 20);
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	kspan_parser_free(p);
}

static void test_copy(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	/* COPY FROM STDIN aborted by the client: CopyFail, then the error. */
	m_str(&m, 'Q', "COPY t FROM STDIN; SELECT 2");
	feed_mb(p, REQ, &m, 10);
	m_copy_resp(&m, 'G');
	feed_mb(p, RESP, &m, 11);
	mb_begin(&m, 'd');
	mb_raw(&m, "1\n", 2);
	mb_end(&m);
	m_str(&m, 'f', "client gave up");
	feed_mb(p, REQ, &m, 12);
	m_error(&m, 'E', "ERROR", "57014", "COPY from stdin failed: client gave up");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 13);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "COPY t FROM STDIN");
	assert_string_equal(e->status, "57014");
	assert_int_equal(e->resp_first, 11);
	assert_int_equal(e->resp_last, 13);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->query, "SELECT 2");
	assert_int_equal(e->flags, NO_RESP);
	assert_true(e->error);

	/* COPY TO STDOUT with a notice between rows. */
	clear(r);
	m_str(&m, 'Q', "COPY t TO STDOUT");
	feed_mb(p, REQ, &m, 20);
	m_copy_resp(&m, 'H');
	mb_begin(&m, 'd');
	mb_raw(&m, "1\n", 2);
	mb_end(&m);
	m_error(&m, 'N', "NOTICE", "00000", "n");
	mb_begin(&m, 'd');
	mb_raw(&m, "2\n", 2);
	mb_end(&m);
	m_empty(&m, 'c');
	m_str(&m, 'C', "COPY 2");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 21);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->rows, 2);
	assert_int_equal(e->flags, 0);
	kspan_parser_free(p);
}

static void test_function_call(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };

	mb_begin(&m, 'F');
	mb_i32(&m, 952); /* lo_open */
	mb_i16(&m, 0);
	mb_i16(&m, 2);
	mb_i32(&m, 4);
	mb_i32(&m, 1234);
	mb_i32(&m, 4);
	mb_i32(&m, 0x20000);
	mb_i16(&m, 1);
	mb_end(&m);
	feed_mb(p, REQ, &m, 10);
	mb_begin(&m, 'V');
	mb_i32(&m, 4);
	mb_i32(&m, 0);
	mb_end(&m);
	m_ready(&m, 'T');
	feed_mb(p, RESP, &m, 11);
	assert_int_equal(r->n, 0);
	assert_int_equal(simple(p, r, "SELECT 1", "SELECT 1", 20)->rows, 1);
	kspan_parser_free(p);
}

static void test_error_fields(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	char longmsg[KSPAN_PG_ERROR_MAX + 100];
	struct ev *e;

	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	m_str(&m, 'Q', "SELECT f()");
	feed_mb(p, REQ, &m, 10);
	/* Localized severity (S) and the untranslated one (V), detail and hint fields. */
	mb_begin(&m, 'E');
	mb_u8(&m, 'S');
	mb_str(&m, "FEHLER");
	mb_u8(&m, 'V');
	mb_str(&m, "ERROR");
	mb_u8(&m, 'C');
	mb_str(&m, "P0001");
	mb_u8(&m, 'M');
	mb_str(&m, longmsg);
	mb_u8(&m, 'D');
	mb_str(&m, "detail");
	mb_u8(&m, 'H');
	mb_str(&m, "hint");
	mb_u8(&m, 0);
	mb_end(&m);
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_true(e->error);
	assert_string_equal(e->status, "P0001");
	assert_int_equal(strlen(e->msg), KSPAN_PG_ERROR_MAX);
	assert_memory_equal(e->msg, longmsg, KSPAN_PG_ERROR_MAX);
	assert_int_equal(e->rows, -1);

	/* No SQLSTATE field (not from a real server, but possible): still an error. */
	clear(r);
	m_str(&m, 'Q', "SELECT 2");
	feed_mb(p, REQ, &m, 20);
	m_error(&m, 'E', "ERROR", NULL, "odd");
	m_ready(&m, 'I');
	/* And one more with no request at all: an orphan. */
	m_error(&m, 'E', "ERROR", NULL, "orphan");
	feed_mb(p, RESP, &m, 21);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_true(e->error);
	assert_string_equal(e->status, "");
	assert_string_equal(e->msg, "odd");
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	assert_true(e->error);
	assert_string_equal(e->msg, "orphan");
	kspan_parser_free(p);
}

/* Request bytes the kernel did not capture. */
static void test_request_gaps(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	char *sql = malloc(6001);
	struct ev *e;

	assert_non_null(sql);
	memset(sql, ' ', 6000);
	memcpy(sql, "SELECT 1;", 9);
	sql[6000] = '\0';
	/* A Query whose text goes past the capture: cut, one exchange. */
	m_str(&m, 'Q', sql);
	assert_int_equal(kspan_parser_feed(p, REQ, m.b, 100, m.n, 10), 0);
	m.n = 0;
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(strlen(e->query), 95);
	assert_int_equal(e->dbflags, KSPAN_DB_F_QUERY_CUT);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->rows, 1);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);

	/* Parse/Bind/Describe/Execute/Sync in one write whose capture ends in the Parse: the
	 * lost messages become one exchange, answered by the replies up to ReadyForQuery. */
	clear(r);
	m_parse(&m, "", sql);
	m_bind(&m, "", "");
	m_target(&m, 'D', 'P', "");
	m_execute(&m, "", 0);
	m_empty(&m, 'S');
	assert_int_equal(kspan_parser_feed(p, REQ, m.b, 200, m.n, 20), 0);
	m.n = 0;
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	e = find(r, KSPAN_PEV_REQUEST, 0);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);
	assert_int_equal(e->req_first, 20);
	m_empty(&m, '1');
	m_empty(&m, '2');
	m_empty(&m, 'n');
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 21);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_REQ_INCOMPLETE);
	assert_int_equal(e->rows, 1);
	assert_int_equal(strncmp(e->query, "SELECT 1;", 9), 0);
	assert_int_equal(e->dbflags, KSPAN_DB_F_QUERY_CUT);
	/* The next write starts with a message: in step again. */
	assert_int_equal(simple(p, r, "SELECT 7", "SELECT 1", 30)->flags, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 1);
	free(sql);
	kspan_parser_free(p);
}

/* The connection closes with requests in flight. */
static void test_eof(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	m_str(&m, 'Q', "SELECT a FROM t; SELECT 2");
	feed_mb(p, REQ, &m, 10);
	m_row(&m, "1");
	feed_mb(p, RESP, &m, 11);
	assert_int_equal(kspan_parser_eof(p, 12), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	check_lifecycle(r);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(e->resp_first, 11);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(e->flags, NO_RESP);
	assert_false(e->error);
	assert_int_equal(kspan_parser_stats(p)->unanswered, 1);
	kspan_parser_free(p);
}

static void test_orphan_and_reset(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	m_str(&m, 'C', "UPDATE 3");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 5);
	assert_int_equal(r->n, 1);
	e = &r->ev[0];
	assert_int_equal(e->type, KSPAN_PEV_EXCHANGE);
	assert_int_equal(e->flags, KSPAN_PEF_NO_REQUEST);
	assert_int_equal(e->rows, 3);
	assert_int_equal(e->resp_first, 5);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 1);

	/* Reset forgets everything, but request numbers go on. */
	assert_int_equal(simple(p, r, "SELECT 1", "SELECT 1", 10)->seq, 1);
	clear(r);
	m_str(&m, 'Q', "SELECT 2");
	feed_mb(p, REQ, &m, 20);
	kspan_parser_reset(p, KSPAN_PARSER_MIDSTREAM);
	m_str(&m, 'Q', "SELECT 3");
	feed_mb(p, REQ, &m, 21);
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 22);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_int_equal(e->seq, 3);
	assert_string_equal(e->query, "SELECT 3");
	assert_string_equal(e->db, "");
	kspan_parser_free(p);
	kspan_parser_free(NULL);
}

/* Exchanges are reported in request order, even when an unnamed prepare meets a named one. */
static void test_report_order(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	struct ev *e;

	/* Parse "" then Parse "n1" before one Sync: the named prepare (numbered first) is
	 * reported; the unnamed one, which would come out of order, is not. */
	m_parse(&m, "", "SELECT 1");
	m_parse(&m, "n1", "SELECT 2");
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 10);
	m_empty(&m, '1');
	m_empty(&m, '1');
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	check_lifecycle(r);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "SELECT 2");
	assert_int_equal(e->dbflags, PREPARE);
	/* Both statements are known afterwards. */
	clear(r);
	m_bind(&m, "", "");
	m_execute(&m, "", 0);
	m_bind(&m, "p", "n1");
	m_execute(&m, "p", 0);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 20);
	m_empty(&m, '2');
	m_str(&m, 'C', "SELECT 1");
	m_empty(&m, '2');
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 21);
	check_lifecycle(r);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->query, "SELECT 1");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->dbflags, PREPARED);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->batch, 2);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->query, "SELECT 2");

	/* An unnamed Parse left pending by a Query (no Sync): a prepare, numbered first. */
	clear(r);
	m_parse(&m, "", "SELECT 5");
	m_str(&m, 'Q', "SELECT 6");
	feed_mb(p, REQ, &m, 25);
	m_empty(&m, '1');
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 26);
	check_lifecycle(r);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->query, "SELECT 5");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->dbflags, PREPARE);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->query, "SELECT 6");

	/* Closed while a Query is half read, with one still waiting: oldest first. */
	clear(r);
	m_str(&m, 'Q', "SELECT 3");
	feed_mb(p, REQ, &m, 30);
	m_str(&m, 'Q', "SELECT 4");
	assert_int_equal(kspan_parser_feed(p, REQ, m.b, 7, 7, 31), 0);
	assert_int_equal(kspan_parser_eof(p, 32), 0);
	check_lifecycle(r);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	e = find(r, KSPAN_PEV_EXCHANGE, 0);
	assert_string_equal(e->query, "SELECT 3");
	assert_int_equal(e->flags, NO_RESP);
	e = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(e->query, "");
	assert_int_equal(e->flags, NO_RESP | KSPAN_PEF_REQ_INCOMPLETE);
	assert_int_equal(e->dbflags, UNKNOWN);
	assert_int_equal(e->req_first, 31);
	kspan_parser_free(p);
}

/* Named statements beyond the table's size: the least recently used is forgotten. */
static void test_statement_table_bound(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };
	char name[32], sql[64];

	for (int i = 0; i <= KSPAN_PG_STATEMENTS_MAX; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		m_parse(&m, name, sql);
		m_empty(&m, 'S');
		feed_mb(p, REQ, &m, 10);
		m_empty(&m, '1');
		m_ready(&m, 'I');
		feed_mb(p, RESP, &m, 11);
	}
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), KSPAN_PG_STATEMENTS_MAX + 1);
	assert_int_equal(kspan_parser_stats(p)->fields_dropped, 1);
	clear(r);
	m_bind(&m, "", "s0");
	m_execute(&m, "", 0);
	m_bind(&m, "", "s1");
	m_execute(&m, "", 0);
	m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 20);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 0)->dbflags, UNKNOWN);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 1)->query, "SELECT 1");
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 1)->dbflags, PREPARED);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 1)->batch, 2);
	kspan_parser_free(p);
}

/* Bytes that are not PostgreSQL, and limits. */
static void test_hostile(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct mb m = { 0 };
	uint8_t junk[64];

	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)http, sizeof(http) - 1,
					   sizeof(http) - 1, 1),
			 -EPROTONOSUPPORT);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_NOT_PROTO);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"x", 1, 1, 1),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);

	/* A bad type byte once in step. */
	p = connected(r);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"Z", 1, 1, 5),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);

	/* A length past the limit; a Sync with a body; a Query without its NUL. */
	p = connected(r);
	assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)"D\x40\0\0\0", 5, 5, 5),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);
	p = connected(r);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"S\0\0\0\5x", 6, 6, 5),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);
	p = connected(r);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"Q\0\0\0\6ab", 7, 7, 5),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);

	/* Protocol 2.0 startup, and a startup over the server's limit. */
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"\0\0\0\x09\0\2\0\0\0", 9, 9,
					   1),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"\0\1\0\0", 4, 4, 1),
			 -EPROTONOSUPPORT);
	kspan_parser_free(p);

	/* Arguments. */
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, 2, junk, 1, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, junk, 2, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 1, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 0, 0, 1), 0);
	kspan_parser_free(p);
	errno = 0;
	assert_null(kspan_parser_new(&kspan_pgwire_parser_ops, on_event, r, 0x80));
	assert_int_equal(errno, EINVAL);

	/* Mid-stream garbage is skipped (bounded), never taken for messages. */
	clear(r);
	p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(kspan_parser_feed(p, RESP, junk, sizeof(junk), sizeof(junk), 1),
				 0);
		assert_int_equal(kspan_parser_feed(p, REQ, junk, sizeof(junk), sizeof(junk), 1), 0);
	}
	assert_int_equal(r->n, 0);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 2 * 100 * sizeof(junk));
	/* Unsynced past the resync limit: lost. */
	assert_int_equal(kspan_parser_feed(p, RESP, NULL, 0, KSPAN_PG_RESYNC_MAX, 2), -EBADMSG);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
	kspan_parser_free(p);

	/* More requests in flight than the queue holds: lost, not unbounded. */
	p = connected(r);
	for (int i = 0; i < KSPAN_PG_PENDING_MAX; i++)
		m_empty(&m, 'S');
	feed_mb(p, REQ, &m, 5);
	m_empty(&m, 'S');
	assert_int_equal(kspan_parser_feed(p, REQ, m.b, m.n, m.n, 6), -EBADMSG);
	kspan_parser_free(p);
}

/* A Sync sent while COPY FROM STDIN runs is ignored by the server: so here. */
static void test_copy_in_sync_ignored(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = connected(r);
	struct mb m = { 0 };

	/* The client's whole stream first, then the server's: the same pairing. */
	m_parse(&m, "", "COPY t FROM STDIN");
	m_bind(&m, "", "");
	m_execute(&m, "", 0);
	m_empty(&m, 'S');
	mb_begin(&m, 'd');
	mb_raw(&m, "1\n", 2);
	mb_end(&m);
	m_empty(&m, 'c');
	m_empty(&m, 'S');
	m_str(&m, 'Q', "SELECT 5");
	feed_mb(p, REQ, &m, 10);
	m_empty(&m, '1');
	m_empty(&m, '2');
	m_copy_resp(&m, 'G');
	m_str(&m, 'C', "COPY 1");
	m_ready(&m, 'I');
	m_str(&m, 'C', "SELECT 1");
	m_ready(&m, 'I');
	feed_mb(p, RESP, &m, 11);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 0)->rows, 1);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->query, "SELECT 5");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->flags, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 0);
	kspan_parser_free(p);
}

static void test_detect(void **state)
{
	static const char *const not_pg[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /api HTTP/1.1\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"PUT",
		"*1\r\n$4\r\nPING\r\n",
		"+OK\r\n",
		"-ERR unknown\r\n",
		"ping\r\n",
		"DELETE /x HTTP/1.1\r\n\r\n",
	};
	/* MySQL: a COM_QUERY packet whose length byte is 'Q'; a server greeting; TLS. */
	static const uint8_t mysql_query[] = { 'Q', 0, 0, 0, 3, 'S', 'E', 'L', 'E', 'C', 'T' };
	static const uint8_t mysql_greeting[] = { 'N', 0,   0,	 0, 10, '8', '.', '0',
						  '.', '3', '2', 0, 8,	0,   0,	  0 };
	static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };
	struct fixture fx;
	enum kspan_msg_dir dir;

	(void)state;
	for (size_t i = 0; i < sizeof(not_pg) / sizeof(not_pg[0]); i++)
		assert_int_equal(kspan_pgwire_detect((const uint8_t *)not_pg[i], strlen(not_pg[i]),
						     &dir),
				 0);
	assert_int_equal(kspan_pgwire_detect(mysql_query, sizeof(mysql_query), &dir), 0);
	assert_int_equal(kspan_pgwire_detect(mysql_greeting, sizeof(mysql_greeting), &dir), 0);
	assert_int_equal(kspan_pgwire_detect(tls_hello, sizeof(tls_hello), &dir), 0);
	assert_int_equal(kspan_pgwire_detect(NULL, 5, &dir), 0);
	assert_int_equal(kspan_pgwire_detect((const uint8_t *)"Q", 0, &dir), 0);

	fixture_load(&fx, "psql_session.bin");
	/* HTTP's detector does not claim ours either. */
	assert_int_equal(kspan_http1_detect(fx.c[0].b, fx.c[0].n, &dir), 0);
	dir = RESP;
	assert_int_equal(kspan_pgwire_detect(fx.c[0].b, fx.c[0].n, &dir), 100);
	assert_int_equal(dir, REQ);
	/* A prefix of the StartupMessage. */
	assert_int_equal(kspan_pgwire_detect(fx.c[0].b, 20, &dir), 80);
	/* Typed messages, mid-stream: a Query; a reply of RowDescription, rows, completion. */
	dir = RESP;
	assert_int_equal(kspan_pgwire_detect(fx.c[6].b, fx.c[6].n, &dir), 90);
	assert_int_equal(dir, REQ);
	assert_int_equal(kspan_pgwire_detect(fx.c[15].b, fx.c[15].n, &dir), 95);
	assert_int_equal(dir, RESP);
	assert_int_equal(kspan_pgwire_detect(fx.c[15].b, 40, &dir), 50);
	/* The SSL request; a lone Sync; a message with a broken body. */
	fixture_free(&fx);
	fixture_load(&fx, "psql_ssl_refused.bin");
	assert_int_equal(kspan_pgwire_detect(fx.c[0].b, fx.c[0].n, &dir), 100);
	assert_int_equal(dir, REQ);
	assert_int_equal(kspan_pgwire_detect((const uint8_t *)"S\0\0\0\4", 5, &dir), 90);
	assert_int_equal(dir, REQ);
	assert_int_equal(kspan_pgwire_detect((const uint8_t *)"Z\0\0\0\5X", 6, &dir), 0);
	assert_int_equal(kspan_pgwire_detect((const uint8_t *)"Z\0\0\0\5I", 6, &dir), 90);
	assert_int_equal(dir, RESP);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_psql_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_psql_session_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libpq_extended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libpq_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssl_refused_and_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gssenc_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_failed_and_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_result_with_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_split_backslashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portal_suspended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_exchange_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_in_sync_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_table_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
