// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the MySQL / MariaDB parser (userspace/proto_mysql.c) through the common
 * parser interface. Most run on real byte streams recorded from MariaDB 10.11 with the
 * mariadb client, a libmariadb C client (prepared statements) and a small client that
 * negotiates CLIENT_DEPRECATE_EOF (tests/unit/data/mysql/, see record.sh there): exact
 * events (order, req_seq, timestamps, every detail field) for queries, multi-statement
 * queries, errors, COM_INIT_DB, LOAD DATA LOCAL INFILE, COM_STATISTICS, prepared
 * statements (binary rows, cursors and COM_STMT_FETCH, long data, reset, close, MariaDB's
 * pipelined execute), COM_PING, COM_FIELD_LIST, COM_SET_OPTION, CALL, COM_CHANGE_USER,
 * COM_RESET_CONNECTION, the compressed protocol, an auth switch, a refused login, TLS,
 * 17 MB rows and queries as the kernel captures them. Then: byte-at-a-time and random
 * splits give the same events, mid-stream starts, capture gaps, pipelining, statement
 * bookkeeping and its bounds, query attributes, hostile input, the detector, and that
 * credentials never reach an event. Timestamps: the n-th read of a fixture (from 0) is
 * fed at ts (n + 1) * 10.
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
#include "proto_mysql.h"

#define REQ KSPAN_MSG_REQUEST
#define RESP KSPAN_MSG_RESPONSE
#define MAX_EVENTS 1024
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define F_CUT KSPAN_DB_F_QUERY_CUT
#define F_PREPARED KSPAN_DB_F_PREPARED
#define F_PREPARE KSPAN_DB_F_PREPARE
#define F_UNKNOWN KSPAN_DB_F_TEXT_UNKNOWN
#define F_TLS KSPAN_DB_F_ENCRYPTED

/* ------------------------------------------------------------------ events */

/* A copy of one event, strings included. */
struct ev {
	enum kspan_parser_event_type type;
	uint32_t flags;
	uint64_t seq, ts[4];
	bool detail;
	char system[16], command[64], code[16];
	char query[KSPAN_DB_QUERY_MAX + 1];
	char db[KSPAN_MYSQL_NAMESPACE_MAX + 1], user[KSPAN_MYSQL_USER_MAX + 1];
	char msg[KSPAN_MYSQL_ERROR_MAX + 1];
	size_t query_len;
	bool error;
	int64_t rows;
	uint32_t dbflags, batch;
};

struct rec {
	struct ev ev[MAX_EVENTS];
	int n;
	char *log; /* one line per event, for comparing runs */
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

	if (r->log_cap - r->log_len < 16384) {
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
	e->ts[0] = pe->req_first_ns;
	e->ts[1] = pe->req_last_ns;
	e->ts[2] = pe->resp_first_ns;
	e->ts[3] = pe->resp_last_ns;
	e->detail = x != NULL;
	log_add(r, "%d #%lu f=%x ts=%lu,%lu,%lu,%lu", pe->type, (unsigned long)pe->req_seq,
		pe->flags, (unsigned long)e->ts[0], (unsigned long)e->ts[1],
		(unsigned long)e->ts[2], (unsigned long)e->ts[3]);
	if (!x) {
		assert_int_equal(pe->type, KSPAN_PEV_REQUEST_START);
		log_add(r, "\n");
		return;
	}
	assert_int_not_equal(pe->type, KSPAN_PEV_REQUEST_START);
	assert_non_null(x->system);
	snprintf(e->system, sizeof(e->system), "%s", x->system);
	copy_str(e->query, sizeof(e->query), x->query);
	e->query_len = x->query.len;
	copy_str(e->command, sizeof(e->command), x->command);
	copy_str(e->db, sizeof(e->db), x->db_namespace);
	copy_str(e->user, sizeof(e->user), x->user);
	copy_str(e->code, sizeof(e->code), x->status_code);
	copy_str(e->msg, sizeof(e->msg), x->error_message);
	e->error = x->error;
	e->rows = x->rows;
	e->dbflags = x->flags;
	e->batch = x->batch_size;
	log_add(r, " %s q=[%s] c=%s db=%s u=%s err=%d %s [%s] rows=%ld fl=%x b=%u\n", e->system,
		e->query, e->command, e->db, e->user, e->error, e->code, e->msg, (long)e->rows,
		e->dbflags, e->batch);
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
	struct kspan_parser *p = kspan_parser_new(&kspan_mysql_parser_ops, on_event, r, flags);

	assert_non_null(p);
	assert_ptr_equal(p->ops, &kspan_mysql_parser_ops);
	assert_string_equal(p->ops->name, "mysql");
	return p;
}

static int count(const struct rec *r, enum kspan_parser_event_type t)
{
	int c = 0;

	for (int i = 0; i < r->n; i++)
		c += r->ev[i].type == t;
	return c;
}

/* The event of type t for request seq (failing when there is none or several). */
static const struct ev *find(const struct rec *r, enum kspan_parser_event_type t, uint64_t seq)
{
	const struct ev *found = NULL;

	for (int i = 0; i < r->n; i++)
		if (r->ev[i].type == t && r->ev[i].seq == seq) {
			if (found)
				fail_msg("two events of type %d for request %lu", t,
					 (unsigned long)seq);
			found = &r->ev[i];
		}
	if (!found)
		fail_msg("no event of type %d for request %lu", t, (unsigned long)seq);
	return found;
}

static int index_of(const struct rec *r, const struct ev *e)
{
	return (int)(e - r->ev);
}

/* ------------------------------------------------------------------ fixtures */

struct chunk {
	enum kspan_msg_dir dir;
	uint8_t *b;
	size_t n; /* captured */
	size_t len; /* happened */
};

struct fixture {
	struct chunk *c;
	int n;
};

static FILE *open_data(const char *name)
{
	char path[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t k;
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/data/mysql/%s.txt", name);
	f = fopen(path, "r");
	if (f)
		return f;
	/* Run from elsewhere: look up from the binary (build[/asan]/tests/unit/). */
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k <= 0)
		return NULL;
	exe[k] = '\0';
	for (int up = 0; up < 6; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/tests/unit/data/mysql/%s.txt", exe, name);
		f = fopen(path, "r");
		if (f)
			return f;
	}
	return NULL;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Reads a fixture: "> hex" / "< hex" lines, "XX*N" runs, "+N" uncaptured bytes. */
static struct fixture *fixture_load(const char *name)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	FILE *f = open_data(name);
	char *line = NULL;
	size_t cap = 0;
	int cap_c = 0;

	if (!f)
		fail_msg("fixture %s not found (run from the repository root)", name);
	assert_non_null(fx);
	while (getline(&line, &cap, f) > 0) {
		struct chunk *c;
		size_t bcap = 256;
		char *save = NULL;

		if (line[0] != '>' && line[0] != '<')
			continue;
		if (fx->n == cap_c) {
			cap_c = cap_c * 2 + 64;
			fx->c = realloc(fx->c, cap_c * sizeof(*fx->c));
			assert_non_null(fx->c);
		}
		c = &fx->c[fx->n++];
		memset(c, 0, sizeof(*c));
		c->dir = line[0] == '>' ? REQ : RESP;
		c->b = malloc(bcap);
		assert_non_null(c->b);
		for (char *t = strtok_r(line + 1, " \n", &save); t;
		     t = strtok_r(NULL, " \n", &save)) {
			size_t add;
			char *star = strchr(t, '*');

			if (t[0] == '+') {
				c->len = strtoull(t + 1, NULL, 10);
				continue;
			}
			add = star ? strtoull(star + 1, NULL, 10) : strlen(t) / 2;
			while (c->n + add > bcap) {
				bcap *= 2;
				c->b = realloc(c->b, bcap);
				assert_non_null(c->b);
			}
			if (star) {
				memset(c->b + c->n, hexval(t[0]) << 4 | hexval(t[1]), add);
			} else {
				for (size_t i = 0; i < add; i++)
					c->b[c->n + i] = hexval(t[2 * i]) << 4 |
							 hexval(t[2 * i + 1]);
			}
			c->n += add;
		}
		c->len += c->n;
	}
	free(line);
	fclose(f);
	assert_true(fx->n > 0);
	return fx;
}

static void fixture_free(struct fixture *fx)
{
	if (!fx)
		return;
	for (int i = 0; i < fx->n; i++)
		free(fx->c[i].b);
	free(fx->c);
	free(fx);
}

static uint64_t ts_of(int i)
{
	return (uint64_t)(i + 1) * 10;
}

enum split { SPLIT_NONE, SPLIT_BYTES, SPLIT_RANDOM };

static uint32_t prng(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Feeds reads [from, to) of fx, each at its own ts, whole or split. */
static void feed_fixture(struct kspan_parser *p, const struct fixture *fx, int from, int to,
			 enum split split, uint32_t seed)
{
	for (int i = from; i < to && i < fx->n; i++) {
		const struct chunk *c = &fx->c[i];
		size_t off = 0;

		if (split == SPLIT_NONE || !c->n) {
			assert_int_equal(kspan_parser_feed(p, c->dir, c->b, c->n, c->len, ts_of(i)),
					 0);
			continue;
		}
		while (off < c->n) {
			size_t k = split == SPLIT_BYTES ? 1 : 1 + prng(&seed) % 64;
			size_t len;

			k = MIN(k, c->n - off);
			/* The uncaptured rest of the read follows its last captured byte. */
			len = off + k == c->n ? k + (c->len - c->n) : k;
			assert_int_equal(kspan_parser_feed(p, c->dir, c->b + off, k, len, ts_of(i)),
					 0);
			off += k;
		}
	}
}

/* Parses a whole fixture (then eof at ts 999990) into r; returns the final status. */
static enum kspan_parser_status run_fixture(struct rec *r, const char *name, enum split split)
{
	struct fixture *fx = fixture_load(name);
	struct kspan_parser *p = new_parser(r, 0);
	enum kspan_parser_status st;

	feed_fixture(p, fx, 0, fx->n, split, 7);
	st = kspan_parser_status(p);
	assert_int_equal(kspan_parser_eof(p, 999990), 0);
	kspan_parser_free(p);
	fixture_free(fx);
	return st;
}

/* ------------------------------------------------------------------ expected exchanges */

struct want {
	const char *query; /* exact; a trailing "..." means a prefix */
	const char *command;
	const char *db;
	int64_t rows;
	const char *code; /* NULL: no error */
	const char *msg; /* prefix of the error message */
	uint32_t dbflags;
	uint32_t pflags;
	int rq, rs0, rs1; /* read indexes of the request and the first and last reply bytes */
};

static void assert_text(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n > 3 && !strcmp(want + n - 3, "...")) {
		if (strncmp(got, want, n - 3))
			fail_msg("\"%s\" does not start with \"%.*s\"", got, (int)n - 3, want);
		return;
	}
	assert_string_equal(got, want);
}

static void assert_exchange(const struct ev *e, const struct want *w, const char *system,
			    const char *user, bool ts)
{
	assert_string_equal(e->system, system);
	assert_text(e->query, w->query);
	assert_string_equal(e->command, w->command);
	assert_string_equal(e->db, w->db);
	assert_string_equal(e->user, user);
	assert_int_equal(e->error, w->code != NULL);
	assert_string_equal(e->code, w->code ? w->code : "");
	assert_text(e->msg, w->msg ? w->msg : "");
	assert_int_equal(e->rows, w->rows);
	assert_int_equal(e->dbflags, w->dbflags);
	assert_int_equal(e->flags, w->pflags);
	assert_int_equal(e->batch, 0);
	if (ts) {
		assert_int_equal(e->ts[0], ts_of(w->rq));
		assert_int_equal(e->ts[1], ts_of(w->rq));
		assert_int_equal(e->ts[2], ts_of(w->rs0));
		assert_int_equal(e->ts[3], ts_of(w->rs1));
	}
}

/*
 * Exactly n requests, numbered 1..n, each with one REQUEST_START, REQUEST and EXCHANGE in
 * that order, EXCHANGEs in request order, and details as in w.
 */
static void assert_exchanges(const struct rec *r, const struct want *w, int n, const char *system,
			     const char *user, bool ts)
{
	int last_x = -1;

	assert_int_equal(r->n, 3 * n);
	for (int i = 0; i < n; i++) {
		const struct ev *s = find(r, KSPAN_PEV_REQUEST_START, i + 1);
		const struct ev *q = find(r, KSPAN_PEV_REQUEST, i + 1);
		const struct ev *x = find(r, KSPAN_PEV_EXCHANGE, i + 1);
		struct want wq = w[i];

		assert_true(index_of(r, s) < index_of(r, q));
		assert_true(index_of(r, q) < index_of(r, x));
		assert_true(index_of(r, x) > last_x);
		last_x = index_of(r, x);
		if (ts) {
			assert_int_equal(s->ts[0], ts_of(w[i].rq));
			assert_int_equal(s->ts[1], 0);
		}
		assert_exchange(x, &w[i], system, user, ts);
		/* The REQUEST carries the request half. */
		wq.rows = -1;
		wq.code = wq.msg = NULL;
		wq.pflags &= ~(KSPAN_PEF_RESP_INCOMPLETE | KSPAN_PEF_NO_RESPONSE);
		wq.rs0 = wq.rs1 = -1;
		assert_exchange(q, &wq, system, user, false);
		if (ts) {
			assert_int_equal(q->ts[0], ts_of(w[i].rq));
			assert_int_equal(q->ts[1], ts_of(w[i].rq));
			assert_int_equal(q->ts[2], 0);
			assert_int_equal(q->ts[3], 0);
		}
	}
}

/* ------------------------------------------------------------------ the recorded sessions */

static const struct want cli_session_want[] = {
	{ "SELECT id, item, qty, price FROM orders ORDER BY id", "", "shop", 3, .rq = 3, .rs0 = 4,
	  .rs1 = 4 },
	{ "INSERT INTO orders (item, qty, price) VALUES ('fig', 5, 2.10)", "", "shop", 1, .rq = 5,
	  .rs0 = 6, .rs1 = 6 },
	{ "UPDATE orders SET qty = qty + 1 WHERE qty < 5", "", "shop", 2, .rq = 7, .rs0 = 8,
	  .rs1 = 8 },
	/* Three results (1 row, 1 affected, 1 row) in one exchange, over three reads. */
	{ "SELECT 1 AS one; UPDATE orders SET qty = 9 WHERE id = 1; SELECT 'two', 2", "", "shop", 3,
	  .rq = 9, .rs0 = 10, .rs1 = 12 },
	{ "SELECT * FROM missing_table", "", "shop", -1, "1146",
	  "Table 'shop.missing_table' doesn't exist", .rq = 13, .rs0 = 14, .rs1 = 14 },
	{ "SELECT 1", "", "shop", 1, .rq = 15, .rs0 = 16, .rs1 = 16 },
	{ "SELCT 2", "", "shop", -1, "1064",
	  "You have an error in your SQL syntax; check the manual that corresponds to your "
	  "MariaDB server version for the right syntax to use near 'SELCT 2' at line 1",
	  .rq = 17, .rs0 = 18, .rs1 = 18 },
	{ "SELECT DATABASE()", "", "shop", 1, .rq = 19, .rs0 = 20, .rs1 = 20 },
	/* "use other": COM_INIT_DB; later exchanges carry the new database. */
	{ "", "COM_INIT_DB", "other", 0, .rq = 21, .rs0 = 22, .rs1 = 22 },
	{ "SELECT DATABASE()", "", "other", 1, .rq = 23, .rs0 = 24, .rs1 = 24 },
	/* LOCAL INFILE: the upload (reads 26, 27) and a progress report (28) inside. */
	{ "LOAD DATA LOCAL INFILE '/tmp/kspan-mysql-notes.csv' INTO TABLE notes FIELDS "
	  "TERMINATED BY ','",
	  "", "other", 3, .rq = 25, .rs0 = 26, .rs1 = 29 },
	{ "SELECT COUNT(*) FROM notes", "", "other", 1, .rq = 30, .rs0 = 31, .rs1 = 31 },
	{ "select DATABASE(), USER() limit 1", "", "other", 1, .rq = 32, .rs0 = 33, .rs1 = 33 },
	{ "select @@version_comment limit 1", "", "other", 1, .rq = 34, .rs0 = 35, .rs1 = 35 },
	{ "select @@character_set_client, @@character_set_connection, @@character_set_server, "
	  "@@character_set_database limit 1",
	  "", "other", 1, .rq = 36, .rs0 = 37, .rs1 = 37 },
	{ "", "COM_STATISTICS", "other", -1, .rq = 38, .rs0 = 39, .rs1 = 39 },
};

static void test_cli_session(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("cli_session");
	struct kspan_parser *p = new_parser(r, 0);
	const struct kspan_parser_stats *st = kspan_parser_stats(p);
	int n = sizeof(cli_session_want) / sizeof(cli_session_want[0]);

	/* The handshake (greeting, response with the database, OK) makes no events. */
	feed_fixture(p, fx, 0, 3, SPLIT_NONE, 0);
	assert_int_equal(r->n, 0);
	feed_fixture(p, fx, 3, fx->n, SPLIT_NONE, 0);
	/* The last read is COM_QUIT: no reply, no events. */
	assert_int_equal(fx->c[fx->n - 1].dir, REQ);
	assert_int_equal(fx->c[fx->n - 1].n, 5);
	assert_exchanges(r, cli_session_want, n, "mariadb", "app", true);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(st->requests, n);
	assert_int_equal(st->exchanges, n);
	assert_int_equal(st->unanswered + st->orphan_responses + st->skipped_bytes + st->resyncs +
				 st->gap_bytes,
			 0);
	assert_int_equal(kspan_parser_eof(p, 5000), 0);
	assert_int_equal(r->n, 3 * n);
	kspan_parser_free(p);
	fixture_free(fx);
}

static const struct want stmt_client_want[] = {
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", -1, .dbflags = F_PREPARE,
	  .rq = 3, .rs0 = 4, .rs1 = 4 },
	/* Binary rows (MariaDB's metadata cache: no column definitions resent). */
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", 2, .dbflags = F_PREPARED,
	  .rq = 5, .rs0 = 6, .rs1 = 6 },
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", 3, .dbflags = F_PREPARED,
	  .rq = 7, .rs0 = 8, .rs1 = 8 },
	{ "SELECT item, qty FROM orders WHERE id >= ?", "COM_STMT_RESET", "shop", 0,
	  .dbflags = F_PREPARED, .rq = 9, .rs0 = 10, .rs1 = 10 },
	{ "INSERT INTO orders (item, qty) VALUES (?, ?)", "", "shop", -1, .dbflags = F_PREPARE,
	  .rq = 11, .rs0 = 12, .rs1 = 12 },
	/* Read 13: COM_STMT_SEND_LONG_DATA (no reply, no events), then the execute. */
	{ "INSERT INTO orders (item, qty) VALUES (?, ?)", "", "shop", 1, .dbflags = F_PREPARED,
	  .rq = 13, .rs0 = 14, .rs1 = 14 },
	/* COM_STMT_CLOSE (read 15): nothing. Then a cursor: metadata, rows by fetch. */
	{ "SELECT id, item FROM orders ORDER BY id", "", "shop", -1, .dbflags = F_PREPARE, .rq = 16,
	  .rs0 = 17, .rs1 = 17 },
	{ "SELECT id, item FROM orders ORDER BY id", "", "shop", 0, .dbflags = F_PREPARED, .rq = 18,
	  .rs0 = 19, .rs1 = 19 },
	{ "SELECT id, item FROM orders ORDER BY id", "COM_STMT_FETCH", "shop", 2,
	  .dbflags = F_PREPARED, .rq = 20, .rs0 = 21, .rs1 = 21 },
	{ "SELECT id, item FROM orders ORDER BY id", "COM_STMT_FETCH", "shop", 2,
	  .dbflags = F_PREPARED, .rq = 22, .rs0 = 23, .rs1 = 23 },
	{ "SELECT id, item FROM orders ORDER BY id", "COM_STMT_FETCH", "shop", 0,
	  .dbflags = F_PREPARED, .rq = 24, .rs0 = 25, .rs1 = 25 },
	/* Read 26: COM_STMT_CLOSE, then a prepare that fails. */
	{ "SELECT nope FROM missing_table", "", "shop", -1, "1146",
	  "Table 'shop.missing_table' doesn't exist", .dbflags = F_PREPARE, .rq = 26, .rs0 = 27,
	  .rs1 = 27 },
	/* mariadb_stmt_execute_direct: PREPARE and EXECUTE(-1) in one write, one reply read. */
	{ "SELECT COUNT(*) FROM orders", "", "shop", -1, .dbflags = F_PREPARE, .rq = 28, .rs0 = 29,
	  .rs1 = 29 },
	{ "SELECT COUNT(*) FROM orders", "", "shop", 1, .dbflags = F_PREPARED, .rq = 28, .rs0 = 29,
	  .rs1 = 29 },
	/* Read 30: COM_STMT_CLOSE, then COM_PING. */
	{ "", "COM_PING", "shop", 0, .rq = 30, .rs0 = 31, .rs1 = 31 },
	{ "", "COM_FIELD_LIST", "shop", -1, .rq = 32, .rs0 = 33, .rs1 = 33 },
	{ "", "COM_SET_OPTION", "shop", -1, .rq = 34, .rs0 = 35, .rs1 = 35 },
	{ "SELECT 1; UPDATE orders SET qty = qty + 1 WHERE id < 3; SELECT 2, 3", "", "shop", 4,
	  .rq = 36, .rs0 = 37, .rs1 = 38 },
	{ "CREATE PROCEDURE IF NOT EXISTS two_sets() BEGIN SELECT 1; SELECT 2, 'b'; END", "",
	  "shop", 0, .rq = 39, .rs0 = 40, .rs1 = 40 },
	/* Two result sets and the CALL's own OK. */
	{ "CALL two_sets()", "", "shop", 2, .rq = 41, .rs0 = 42, .rs1 = 42 },
	{ "", "COM_INIT_DB", "other", 0, .rq = 43, .rs0 = 44, .rs1 = 44 },
	/* The new user and database; an auth switch round inside (reads 46, 47). */
	{ "", "COM_CHANGE_USER", "shop", 0, .rq = 45, .rs0 = 46, .rs1 = 48 },
	{ "", "COM_RESET_CONNECTION", "shop", 0, .rq = 49, .rs0 = 50, .rs1 = 50 },
	{ "SELECT * FROM nowhere", "", "shop", -1, "1146", "Table 'shop.nowhere' doesn't exist",
	  .rq = 51, .rs0 = 52, .rs1 = 52 },
};

static void test_stmt_client(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("stmt_client");
	struct kspan_parser *p = new_parser(r, 0);
	const struct kspan_parser_stats *st = kspan_parser_stats(p);
	int n = sizeof(stmt_client_want) / sizeof(stmt_client_want[0]);

	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_exchanges(r, stmt_client_want, n, "mariadb", "app", true);
	/* The pipelined pair: both requests before both replies. */
	assert_true(index_of(r, find(r, KSPAN_PEV_REQUEST, 14)) <
		    index_of(r, find(r, KSPAN_PEV_EXCHANGE, 13)));
	assert_int_equal(st->requests, n);
	assert_int_equal(st->exchanges, n);
	assert_int_equal(st->unanswered + st->orphan_responses + st->skipped_bytes + st->resyncs,
			 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* The same program with MYSQL_OPT_COMPRESS: the same exchanges. */
static void test_stmt_compress(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("stmt_compress");
	struct kspan_parser *p = new_parser(r, 0);
	int n = sizeof(stmt_client_want) / sizeof(stmt_client_want[0]);

	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_exchanges(r, stmt_client_want, n, "mariadb", "app", false);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 0);
	/* Timestamps still follow the reads: the first prepare is read 3, its reply read 4. */
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->ts[0], ts_of(3));
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->ts[2], ts_of(4));
	kspan_parser_free(p);
	fixture_free(fx);
}

/*
 * The compressed stream with only 60 bytes of each read captured: a cut zlib stream is a
 * gap of the bytes it should have produced; replies cut over a packet header end at the
 * next reply, which the parser finds at a compressed packet's start.
 */
static void test_compress_captured(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("stmt_compress");
	struct kspan_parser *p = new_parser(r, 0);
	int n = sizeof(stmt_client_want) / sizeof(stmt_client_want[0]);
	/* Which replies were cut: the prepares with definitions, the result sets over 60
	 * bytes, the field list, the multi-statement query and the CALL. */
	static const bool cut[] = { 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0,
				    0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0 };

	for (int i = 0; i < fx->n; i++)
		fx->c[i].n = MIN(fx->c[i].n, (size_t)60);
	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), n);
	for (int i = 0; i < n; i++) {
		const struct ev *x = find(r, KSPAN_PEV_EXCHANGE, i + 1);

		assert_string_equal(x->command, stmt_client_want[i].command);
		assert_int_equal(x->flags, cut[i] ? KSPAN_PEF_RESP_INCOMPLETE : 0);
		if (cut[i])
			assert_int_equal(x->rows, -1);
		else
			assert_int_equal(x->rows, stmt_client_want[i].rows);
		assert_int_equal(x->ts[2], x->ts[1] + 10);
	}
	/* The cursor's prepare (48 bytes) lost its last bytes: its text is cut, and so is
	 * the text its executions and fetches carry. */
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 7)->query,
			    "SELECT id, item FROM orders ORDE");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 7)->dbflags, F_PREPARE | F_CUT);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 9)->dbflags, F_PREPARED | F_CUT);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 12)->code, "1146");
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	kspan_parser_free(p);
	fixture_free(fx);
}

static const struct want deprecate_eof_want[] = {
	/* Result sets end with an OK packet whose header is 0xfe. */
	{ "SELECT id, item FROM orders ORDER BY id", "", "shop", 3, .rq = 3, .rs0 = 4, .rs1 = 4 },
	{ "SELECT item FROM orders WHERE id < 0", "", "shop", 0, .rq = 5, .rs0 = 6, .rs1 = 6 },
	{ "SELECT 1 AS a; SELECT 'b' AS b", "", "shop", 2, .rq = 7, .rs0 = 8, .rs1 = 8 },
	/* A prepare reply without EOF packets. */
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", -1, .dbflags = F_PREPARE,
	  .rq = 9, .rs0 = 10, .rs1 = 10 },
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", 2, .dbflags = F_PREPARED,
	  .rq = 11, .rs0 = 12, .rs1 = 12 },
	/* A cursor: the metadata ends with an OK carrying SERVER_STATUS_CURSOR_EXISTS. */
	{ "SELECT item, qty FROM orders WHERE id >= ?", "", "shop", 0, .dbflags = F_PREPARED,
	  .rq = 13, .rs0 = 14, .rs1 = 14 },
	{ "SELECT item, qty FROM orders WHERE id >= ?", "COM_STMT_FETCH", "shop", 2,
	  .dbflags = F_PREPARED, .rq = 15, .rs0 = 16, .rs1 = 16 },
	{ "SELECT item, qty FROM orders WHERE id >= ?", "COM_STMT_FETCH", "shop", 1,
	  .dbflags = F_PREPARED, .rq = 17, .rs0 = 18, .rs1 = 18 },
	/* COM_STMT_CLOSE (read 19): nothing. USE: the session state tracks the schema (the
	 * exchange itself carries the database it ran in). */
	{ "USE other", "", "shop", 0, .rq = 20, .rs0 = 21, .rs1 = 21 },
};

static void test_deprecate_eof(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("deprecate_eof");
	struct kspan_parser *p = new_parser(r, 0);
	int n = sizeof(deprecate_eof_want) / sizeof(deprecate_eof_want[0]);

	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_exchanges(r, deprecate_eof_want, n, "mariadb", "app", true);
	clear(r);
	/* A later command carries the database USE selected. */
	assert_int_equal(
		kspan_parser_feed(p, REQ, (const uint8_t *)"\x01\x00\x00\x00\x0e", 5, 5, 1000), 0);
	assert_int_equal(kspan_parser_eof(p, 1010), 0);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->ev[2].command, "COM_PING");
	assert_string_equal(r->ev[2].db, "other");
	assert_int_equal(r->ev[2].flags, KSPAN_PEF_NO_RESPONSE);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* An auth switch to client_ed25519 during the handshake; user "ed", no database. */
static void test_auth_switch(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ "SELECT CURRENT_USER()", "", "", 1, .rq = 5, .rs0 = 6, .rs1 = 6 },
	};

	assert_int_equal(run_fixture(r, "ed25519", SPLIT_NONE), KSPAN_PARSER_ACTIVE);
	assert_exchanges(r, w, 1, "mariadb", "ed", true);
}

/* A refused login: no events, and the parser stays usable. */
static void test_login_error(void **state)
{
	struct rec *r = *state;

	assert_int_equal(run_fixture(r, "login_error", SPLIT_NONE), KSPAN_PARSER_ACTIVE);
	assert_int_equal(r->n, 0);
}

/* --ssl: the SSLRequest turns the parser UPGRADED; TLS bytes are then ignored. */
static void test_tls_upgrade(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("tls");
	struct kspan_parser *p = new_parser(r, 0);

	feed_fixture(p, fx, 0, 1, SPLIT_NONE, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(fx->c[1].dir, REQ);
	assert_int_equal(fx->c[1].n, 36); /* 4 + 32: the SSLRequest */
	feed_fixture(p, fx, 1, 2, SPLIT_NONE, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	feed_fixture(p, fx, 2, fx->n, SPLIT_NONE, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	assert_int_equal(r->n, 0);
	kspan_parser_free(p);
	fixture_free(fx);
}

/*
 * The decrypted stream of a TLS connection starts at the full HandshakeResponse (sequence
 * id 2, CLIENT_SSL set): the session's exchanges, flagged encrypted. Built from the clear
 * cli_session by setting CLIENT_SSL and moving the sequence ids on by one.
 */
static void test_tls_plaintext(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("cli_session");
	struct kspan_parser *p = new_parser(r, 0);
	const struct ev *x;

	assert_int_equal(fx->c[1].b[3], 1);
	fx->c[1].b[3] = 2;
	fx->c[1].b[5] |= 0x08; /* CLIENT_SSL (0x800) */
	assert_int_equal(fx->c[2].b[3], 2);
	fx->c[2].b[3] = 3;
	feed_fixture(p, fx, 1, 9, SPLIT_NONE, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 3);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	/* The greeting was not seen: the system is "mysql". */
	assert_string_equal(x->system, "mysql");
	assert_string_equal(x->query, "SELECT id, item, qty, price FROM orders ORDER BY id");
	assert_string_equal(x->db, "shop");
	assert_string_equal(x->user, "app");
	assert_int_equal(x->rows, 3);
	assert_int_equal(x->dbflags, F_TLS);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 3)->dbflags, F_TLS);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* A 17 MB row (one multi-packet payload) as the kernel captures it: 4096 bytes a read. */
static void test_big_row_captured(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("big_row");
	struct kspan_parser *p = new_parser(r, 0);
	const struct ev *x;
	int last_resp = fx->n - 2;

	assert_int_equal(fx->c[last_resp].dir, RESP);
	assert_true(fx->c[last_resp].len > fx->c[last_resp].n);
	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	/*
	 * The continuation's header fell in bytes not captured: the reply's end cannot be
	 * framed, and the last read ends with uncaptured bytes. It ends at the close.
	 */
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	assert_int_equal(kspan_parser_eof(p, 999990), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(x->query, "SELECT LENGTH(REPEAT('x', 17000000)) AS n, "
				      "REPEAT('y', 17000000) AS big");
	assert_string_equal(x->db, "");
	assert_int_equal(x->rows, -1);
	assert_int_equal(x->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(x->ts[2], ts_of(4));
	assert_int_equal(x->ts[3], ts_of(last_resp));
	assert_true(kspan_parser_stats(p)->gap_bytes > 15000000);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* A 17 MB query (two packets) as captured: the text is cut, the reply still pairs. */
static void test_big_query_captured(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("big_query");
	struct kspan_parser *p = new_parser(r, 0);
	const struct ev *x;
	int reply = fx->n - 2;

	assert_int_equal(fx->c[reply].dir, RESP);
	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	/* The text is what the 4096 captured bytes hold: 4096 - header - command byte. */
	assert_int_equal(x->query_len, 4096 - 5);
	assert_text(x->query, "SELECT LENGTH('qqqqqqqqqq...");
	assert_int_equal(x->dbflags, F_CUT);
	/* Where the second packet starts was not captured: the request's end is unknown. */
	assert_int_equal(x->flags, KSPAN_PEF_REQ_INCOMPLETE);
	assert_int_equal(x->rows, 1);
	assert_int_equal(x->ts[0], ts_of(3));
	assert_int_equal(x->ts[2], ts_of(reply));
	assert_int_equal(x->ts[3], ts_of(reply));
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 1)->flags, KSPAN_PEF_REQ_INCOMPLETE);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* 1000 rows in one 12 KiB read: whole, then as captured (4096 bytes). */
static void test_many_rows(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("many_rows");
	struct kspan_parser *p = new_parser(r, 0);
	const struct ev *x;

	assert_int_equal(fx->n, 6);
	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(x->query, "SELECT seq, seq * 2 FROM seq_1_to_1000");
	assert_int_equal(x->rows, 1000);
	assert_int_equal(x->flags, 0);
	kspan_parser_free(p);

	/* Captured: the rows' framing is lost after 4096 bytes; the reply ends at the close
	 * (nothing else comes: COM_QUIT has no reply). */
	clear(r);
	fx->c[4].n = 4096;
	p = new_parser(r, 0);
	feed_fixture(p, fx, 0, fx->n, SPLIT_NONE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	assert_int_equal(kspan_parser_eof(p, 999990), 0);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(x->rows, -1);
	assert_int_equal(x->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(x->ts[2], ts_of(4));
	assert_int_equal(x->ts[3], ts_of(4));
	kspan_parser_free(p);
	fixture_free(fx);
}

/*
 * The same rows read 2000 bytes at a time with 1500 captured: the last read (462 bytes)
 * is whole and ends with the EOF, so the reply ends there, before the close.
 */
static void test_many_rows_reads(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("many_rows");
	struct kspan_parser *p = new_parser(r, 0);
	const struct chunk *c = &fx->c[4];
	const struct ev *x;
	size_t off = 0;
	uint64_t ts = 100;

	feed_fixture(p, fx, 0, 4, SPLIT_NONE, 0);
	while (off < c->n) {
		size_t k = MIN((size_t)2000, c->n - off);

		assert_int_equal(
			kspan_parser_feed(p, RESP, c->b + off, MIN(k, (size_t)1500), k, ts), 0);
		off += k;
		if (off < c->n) {
			ts += 10;
			assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
		}
	}
	assert_int_equal(c->n % 2000, 462);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(x->rows, -1);
	assert_int_equal(x->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(x->ts[2], 100);
	assert_int_equal(x->ts[3], ts);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 1);
	/* In step again: the next command pairs with its reply. */
	clear(r);
	assert_int_equal(
		kspan_parser_feed(p, REQ, (const uint8_t *)"\x01\x00\x00\x00\x0e", 5, 5, 500), 0);
	assert_int_equal(kspan_parser_feed(p, RESP,
					   (const uint8_t *)"\x07\x00\x00\x01\x00\x00\x00\x02\x00"
							    "\x00\x00",
					   11, 11, 510),
			 0);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->ev[2].command, "COM_PING");
	assert_int_equal(r->ev[2].flags, 0);
	assert_int_equal(r->ev[2].rows, 0);
	kspan_parser_free(p);
	fixture_free(fx);
}

/* Every read split into single bytes, or random pieces: the same events. */
static void test_splits(void **state)
{
	struct rec *r = *state;
	static const char *const names[] = { "cli_session",   "stmt_client", "stmt_compress",
					     "deprecate_eof", "ed25519",     "big_row",
					     "big_query" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *whole;

		clear(r);
		run_fixture(r, names[i], SPLIT_NONE);
		assert_true(r->n > 0);
		whole = strdup(r->log);
		assert_non_null(whole);
		clear(r);
		run_fixture(r, names[i], SPLIT_RANDOM);
		assert_string_equal(r->log, whole);
		clear(r);
		run_fixture(r, names[i], SPLIT_BYTES);
		assert_string_equal(r->log, whole);
		free(whole);
	}
}

/* ------------------------------------------------------------------ mid-stream */

/* Attached after the handshake: the system and database are unknown until said. */
static void test_midstream_after_handshake(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("cli_session");
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	const struct ev *x;

	feed_fixture(p, fx, 3, fx->n, SPLIT_NONE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 16);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_string_equal(x->system, "mysql");
	assert_string_equal(x->db, "");
	assert_string_equal(x->user, "");
	assert_int_equal(x->rows, 3);
	assert_int_equal(x->flags, 0);
	x = find(r, KSPAN_PEV_EXCHANGE, 4);
	assert_int_equal(x->rows, 3);
	x = find(r, KSPAN_PEV_EXCHANGE, 9);
	assert_string_equal(x->command, "COM_INIT_DB");
	assert_string_equal(x->db, "other");
	x = find(r, KSPAN_PEV_EXCHANGE, 11);
	assert_int_equal(x->rows, 3);
	assert_string_equal(x->db, "other");
	assert_int_equal(kspan_parser_stats(p)->resyncs, 2);
	kspan_parser_free(p);
	fixture_free(fx);
}

/*
 * Attached in the middle of things: a reply with no request (skipped), then a request
 * whose first bytes were missed (skipped), then in step from the next command.
 */
static void test_midstream_inside(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("cli_session");
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	const struct chunk *c = &fx->c[5];

	assert_int_equal(c->dir, REQ);
	feed_fixture(p, fx, 4, 5, SPLIT_NONE, 0);
	assert_int_equal(kspan_parser_feed(p, REQ, c->b + 3, c->n - 3, c->n - 3, ts_of(5)), 0);
	feed_fixture(p, fx, 6, 9, SPLIT_NONE, 0);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->ev[2].query, "UPDATE orders SET qty = qty + 1 WHERE qty < 5");
	assert_int_equal(r->ev[2].seq, 1);
	assert_int_equal(r->ev[2].rows, 2);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, fx->c[4].n + fx->c[6].n + c->n - 3);
	kspan_parser_free(p);
	fixture_free(fx);
}

/*
 * Prepared statements first seen mid-stream: the capabilities are unknown, so whether
 * EOF packets follow the definitions is learnt from the bytes.
 */
static void test_midstream_prepare(void **state)
{
	struct rec *r = *state;
	struct fixture *fx = fixture_load("stmt_client");
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);
	int n = sizeof(stmt_client_want) / sizeof(stmt_client_want[0]);

	feed_fixture(p, fx, 3, fx->n, SPLIT_NONE, 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), n);
	for (int i = 0; i < n; i++) {
		const struct ev *x = find(r, KSPAN_PEV_EXCHANGE, i + 1);
		struct want w = stmt_client_want[i];

		/* The database is unknown until COM_INIT_DB; COM_CHANGE_USER tells the user. */
		if (i < 20)
			w.db = "";
		assert_exchange(x, &w, "mysql", i >= 21 ? "app" : "", true);
	}
	kspan_parser_free(p);
	fixture_free(fx);
}

/* ------------------------------------------------------------------ synthetic streams */

struct out {
	uint8_t *b;
	size_t n, cap;
};

static void out_put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 256;
		o->b = realloc(o->b, o->cap);
		assert_non_null(o->b);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

/* One packet: 3-byte length, sequence id, payload. */
static void pkt(struct out *o, uint8_t seq, const void *payload, size_t n)
{
	uint8_t h[4] = { n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, seq };

	out_put(o, h, 4);
	out_put(o, payload, n);
}

#define PKT(o, seq, lit) pkt((o), (seq), (lit), sizeof(lit) - 1)

static void send_out(struct kspan_parser *p, enum kspan_msg_dir dir, struct out *o, uint64_t ts)
{
	assert_int_equal(kspan_parser_feed(p, dir, o->b, o->n, o->n, ts), 0);
	o->n = 0;
}

/* A parser past a real handshake: cli_session's (CLIENT_DEPRECATE_EOF unset) or
 * deprecate_eof's. */
static struct kspan_parser *after_handshake(struct rec *r, const char *fixture)
{
	struct fixture *fx = fixture_load(fixture);
	struct kspan_parser *p = new_parser(r, 0);

	feed_fixture(p, fx, 0, 3, SPLIT_NONE, 0);
	fixture_free(fx);
	assert_int_equal(r->n, 0);
	return p;
}

static const char OK_PKT[] = "\x00\x00\x00\x02\x00\x00\x00";

/* Commands pipelined in one write, replies in one read: paired in order. */
static void test_pipelined(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	PKT(&o, 0, "\x0e");
	PKT(&o, 0, "\x03SELECT 1");
	PKT(&o, 0, "\x02other");
	send_out(p, REQ, &o, 100);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 3);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	PKT(&o, 1, OK_PKT);
	PKT(&o, 1, "\x01");
	PKT(&o, 2,
	    "\x03"
	    "def\x00\x00\x00\x01"
	    "1\x00\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00"
	    "\x00\x00");
	PKT(&o, 3, "\xfe\x00\x00\x02\x00");
	PKT(&o, 4,
	    "\x01"
	    "1");
	PKT(&o, 5, "\xfe\x00\x00\x02\x00");
	PKT(&o, 1, "\xff\x19\x04#42000Unknown database 'other'");
	send_out(p, RESP, &o, 110);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 3);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->command, "COM_PING");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->rows, 1);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 3)->code, "1049");
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 3)->msg, "Unknown database 'other'");
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 3)->db, "other");
	/* The failed COM_INIT_DB did not change the database. */
	PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 120);
	assert_string_equal(find(r, KSPAN_PEV_REQUEST, 4)->db, "shop");
	free(o.b);
	kspan_parser_free(p);
}

/*
 * A payload of 0xffffff bytes or more: packets of 0xffffff continue in the next one (an
 * empty packet ends a payload of exactly 0xffffff). Whole bytes, fed in pieces.
 */
static void test_multi_packet(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	size_t big = 0xffffff;
	uint8_t *q = malloc(big + 100);
	struct out o = { 0 };
	const struct ev *x;

	assert_non_null(q);
	q[0] = 0x03;
	memcpy(q + 1, "SELECT '", 8);
	memset(q + 9, 'z', big + 100 - 9);
	/* A query of 0xffffff + 20 bytes: packets 0 (full) and 1 (20 bytes). */
	pkt(&o, 0, q, big);
	pkt(&o, 1, q + big, 20);
	for (size_t off = 0; off < o.n; off += 1 << 20)
		assert_int_equal(
			kspan_parser_feed(p, REQ, o.b + off, MIN((size_t)1 << 20, o.n - off),
					  MIN((size_t)1 << 20, o.n - off), 100 + off / 1000000),
			0);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST), 1);
	o.n = 0;
	/* The reply continues from the last packet's sequence id: a row of exactly
	 * 0xffffff bytes (then an empty packet), then a row of 3. */
	PKT(&o, 2, "\x01");
	PKT(&o, 3,
	    "\x03"
	    "def\x00\x00\x00\x01"
	    "x\x00\x0c\x21\x00\xff\xff\xff\x00\xfb\x00\x00\x00"
	    "\x00\x00");
	PKT(&o, 4, "\xfe\x00\x00\x02\x00");
	q[0] = 0xfe; /* a length-encoded string of 8-byte length: only in long rows */
	pkt(&o, 5, q, big);
	pkt(&o, 6, "", 0);
	PKT(&o, 7,
	    "\x02"
	    "ab");
	PKT(&o, 8, "\xfe\x00\x00\x02\x00");
	assert_int_equal(kspan_parser_feed(p, RESP, o.b, o.n, o.n, 200), 0);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(x->query_len, KSPAN_DB_QUERY_MAX);
	assert_text(x->query, "SELECT 'zzzz...");
	assert_int_equal(x->dbflags, F_CUT);
	assert_int_equal(x->flags, 0);
	assert_int_equal(x->rows, 2);
	assert_int_equal(x->ts[2], 200);
	/* The same reply as the kernel sees it: 4096 bytes of each 64 KiB read. */
	clear(r);
	{
		struct out req = { 0 };

		PKT(&req, 0, "\x03SELECT 1");
		send_out(p, REQ, &req, 300);
		free(req.b);
	}
	{
		/* The reply to a one-packet command starts at 1: shift each header's id. */
		size_t off = 0;

		while (off < o.n) {
			size_t len = o.b[off] | o.b[off + 1] << 8 | o.b[off + 2] << 16;

			o.b[off + 3]--;
			off += 4 + len;
		}
	}
	for (size_t off = 0; off < o.n; off += 65536) {
		size_t k = MIN((size_t)65536, o.n - off);

		assert_int_equal(kspan_parser_feed(p, RESP, o.b + off, MIN(k, (size_t)4096), k,
						   400 + off / 65536),
				 0);
	}
	/*
	 * The long row's payload is skipped over uncaptured; the empty packet after it
	 * starts 41 + 4 + 0xffffff bytes in (column count 5, definition 27, EOF 9), that is
	 * 44 bytes into read 256: captured, so the framing holds and the rows are counted.
	 */
	assert_int_equal((41 + 4 + big) / 65536, 256);
	assert_int_equal((41 + 4 + big) % 65536, 44);
	x = find(r, KSPAN_PEV_EXCHANGE, 2);
	assert_int_equal(x->flags, 0);
	assert_int_equal(x->rows, 2);
	assert_int_equal(x->ts[2], 400);
	assert_int_equal(x->ts[3], 400 + o.n / 65536);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 0);
	free(q);
	free(o.b);
	kspan_parser_free(p);
}

/* A gap inside a query's text: framing goes on, the text is what was captured. */
static void test_gap_in_query(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };
	char q[5001];
	const struct ev *x;

	memset(q, 'a', sizeof(q));
	memcpy(q, "\x03SELECT '", 9);
	pkt(&o, 0, q, sizeof(q));
	assert_int_equal(kspan_parser_feed(p, REQ, o.b, 100, o.n, 100), 0);
	PKT(&o, 1, OK_PKT); /* after the query bytes */
	assert_int_equal(kspan_parser_feed(p, RESP, o.b + 4 + sizeof(q), 11, 11, 110), 0);
	x = find(r, KSPAN_PEV_EXCHANGE, 1);
	assert_int_equal(x->query_len, 95);
	assert_text(x->query, "SELECT 'aaaa...");
	assert_int_equal(x->dbflags, F_CUT);
	assert_int_equal(x->flags, 0);
	assert_int_equal(x->rows, 0);
	assert_int_equal(kspan_parser_stats(p)->gap_bytes, o.n - 11 - 100);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 0);
	free(o.b);
	kspan_parser_free(p);
}

/*
 * A gap over a reply's packet headers: the reply's place is lost. The next command's
 * reply finds it again; the lost reply ends at the last read before that one.
 */
static void test_gap_lost_reply(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };
	const struct ev *x1, *q2;

	PKT(&o, 0, "\x03SELECT a FROM t");
	send_out(p, REQ, &o, 100);
	PKT(&o, 1, "\x01");
	for (int i = 0; i < 200; i++)
		PKT(&o, (uint8_t)(2 + i),
		    "\x05"
		    "hello");
	assert_int_equal(kspan_parser_feed(p, RESP, o.b, 20, o.n, 110), 0);
	/* More of it, not captured at all; then the client's next command. */
	assert_int_equal(kspan_parser_feed(p, RESP, NULL, 0, 3000, 120), 0);
	o.n = 0;
	PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 130);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 140);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	x1 = find(r, KSPAN_PEV_EXCHANGE, 1);
	q2 = find(r, KSPAN_PEV_REQUEST, 2);
	assert_true(index_of(r, q2) < index_of(r, x1));
	assert_int_equal(x1->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(x1->rows, -1);
	assert_int_equal(x1->ts[2], 110);
	assert_int_equal(x1->ts[3], 120);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->flags, 0);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	free(o.b);
	kspan_parser_free(p);
}

/* A sequence id out of step inside a reply: the place is lost, not the connection. */
static void test_sequence_mismatch(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	PKT(&o, 0, "\x03SELECT 1");
	send_out(p, REQ, &o, 100);
	PKT(&o, 1, "\x01");
	PKT(&o, 7,
	    "\x03"
	    "def\x00\x00\x00\x01"
	    "1\x00\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00"
	    "\x00\x00");
	send_out(p, RESP, &o, 110);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 0);
	assert_int_equal(kspan_parser_eof(p, 120), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_int_equal(r->ev[2].flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(r->ev[2].ts[3], 110);
	free(o.b);
	kspan_parser_free(p);
}

/* Statement ids: unknown, closed, forgotten on COM_RESET_CONNECTION; bounded. */
static void test_statements(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "deprecate_eof");
	struct out o = { 0 };
	static const char prep_ok_7[] = "\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
	static const char exec_7[] = "\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00";
	static const char exec_9[] = "\x17\x09\x00\x00\x00\x00\x01\x00\x00\x00";
	const struct ev *x;
	uint64_t seq = 0;

	/* An id never prepared here. */
	PKT(&o, 0, exec_9);
	send_out(p, REQ, &o, 100);
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 110);
	x = find(r, KSPAN_PEV_EXCHANGE, ++seq);
	assert_string_equal(x->query, "");
	assert_string_equal(x->command, "COM_STMT_EXECUTE");
	assert_int_equal(x->dbflags, F_UNKNOWN);
	/* Prepared as 7 (no parameters, no columns), executed, closed, executed. */
	PKT(&o, 0, "\x16UPDATE t SET a = 1");
	send_out(p, REQ, &o, 120);
	PKT(&o, 1, prep_ok_7);
	send_out(p, RESP, &o, 130);
	x = find(r, KSPAN_PEV_EXCHANGE, ++seq);
	assert_int_equal(x->dbflags, F_PREPARE);
	assert_int_equal(x->ts[3], 130);
	PKT(&o, 0, exec_7);
	send_out(p, REQ, &o, 140);
	PKT(&o, 1, "\x00\x05\x00\x02\x00\x00\x00");
	send_out(p, RESP, &o, 150);
	x = find(r, KSPAN_PEV_EXCHANGE, ++seq);
	assert_string_equal(x->query, "UPDATE t SET a = 1");
	assert_string_equal(x->command, "");
	assert_int_equal(x->dbflags, F_PREPARED);
	assert_int_equal(x->rows, 5);
	PKT(&o, 0, "\x19\x07\x00\x00\x00");
	PKT(&o, 0, exec_7);
	send_out(p, REQ, &o, 160);
	PKT(&o, 1,
	    "\xff\xf3\x00#HY000Unknown prepared statement handler (7) given to "
	    "mysqld_stmt_execute");
	send_out(p, RESP, &o, 170);
	x = find(r, KSPAN_PEV_EXCHANGE, ++seq);
	assert_int_equal(x->dbflags, F_UNKNOWN);
	assert_string_equal(x->code, "243");
	/* Prepared again, then COM_RESET_CONNECTION forgets every statement. */
	PKT(&o, 0, "\x16UPDATE t SET a = 2");
	send_out(p, REQ, &o, 180);
	PKT(&o, 1, prep_ok_7);
	send_out(p, RESP, &o, 190);
	++seq;
	PKT(&o, 0, "\x1f");
	send_out(p, REQ, &o, 200);
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 210);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, ++seq)->command, "COM_RESET_CONNECTION");
	PKT(&o, 0, exec_7);
	send_out(p, REQ, &o, 220);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, ++seq)->dbflags, F_UNKNOWN);
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 230);
	/* More statements than kept: the oldest are forgotten, the newest remembered. */
	for (uint32_t id = 100; id < 100 + KSPAN_MYSQL_STMT_MAX + 10; id++) {
		uint8_t ok[12] = { 0 };
		char text[32];
		int n = snprintf(text, sizeof(text), "\x16SELECT %u", id);

		ok[1] = id & 0xff;
		ok[2] = id >> 8;
		pkt(&o, 0, text, n);
		send_out(p, REQ, &o, 300);
		pkt(&o, 1, ok, sizeof(ok));
		send_out(p, RESP, &o, 310);
		++seq;
	}
	assert_int_equal(kspan_parser_stats(p)->fields_dropped, 10);
	for (uint32_t id = 100; id < 100 + KSPAN_MYSQL_STMT_MAX + 10; id += KSPAN_MYSQL_STMT_MAX) {
		uint8_t ex[10] = { 0x17, id & 0xff, id >> 8, 0, 0, 0, 1, 0, 0, 0 };

		clear(r);
		pkt(&o, 0, ex, sizeof(ex));
		send_out(p, REQ, &o, 400);
		x = find(r, KSPAN_PEV_REQUEST, ++seq);
		if (id == 100) {
			assert_int_equal(x->dbflags, F_UNKNOWN);
		} else {
			assert_int_equal(x->dbflags, F_PREPARED);
			assert_string_equal(x->query, "SELECT 356");
		}
		PKT(&o, 1, OK_PKT);
		send_out(p, RESP, &o, 410);
	}
	free(o.b);
	kspan_parser_free(p);
}

/* A COM_STMT_EXECUTE sent before its prepare's reply arrived still gets the text. */
static void test_statement_text_late(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "deprecate_eof");
	struct out o = { 0 };

	PKT(&o, 0, "\x16SELECT 42");
	PKT(&o, 0, "\x17\x03\x00\x00\x00\x00\x01\x00\x00\x00");
	send_out(p, REQ, &o, 100);
	assert_int_equal(find(r, KSPAN_PEV_REQUEST, 2)->dbflags, F_UNKNOWN);
	PKT(&o, 1, "\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 110);
	assert_string_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->query, "SELECT 42");
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->dbflags, F_PREPARED);
	free(o.b);
	kspan_parser_free(p);
}

/* More commands waiting than the parser keeps: the connection is lost. */
static void test_pipeline_bound(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	for (int i = 0; i < KSPAN_MYSQL_PIPELINE_MAX; i++)
		PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 100);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	PKT(&o, 0, "\x0e");
	assert_int_equal(kspan_parser_feed(p, REQ, o.b, o.n, o.n, 110), -EBADMSG);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
	assert_int_equal(kspan_parser_feed(p, REQ, o.b, o.n, o.n, 120), -EBADMSG);
	assert_int_equal(count(r, KSPAN_PEV_REQUEST_START), KSPAN_MYSQL_PIPELINE_MAX);
	free(o.b);
	kspan_parser_free(p);
}

/* A USE query on a connection without session tracking: the text says the database. */
static void test_use_without_tracking(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct out o = { 0 };
	/* HandshakeResponse41: PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH, user "u". */
	static const char hs[] = "\x00\x82\x08\x00\x00\x00\x00\x01\x21"
				 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
				 "\x00\x00\x00\x00\x00\x00\x00"
				 "u\x00\x00mysql_native_password";
	static const char *const uses[] = { "USE `my db`;", "  use other ", "use\tthird",
					    "USE x; SELECT 1", "USED x" };
	static const char *const dbs[] = { "my db", "other", "third", "third", "third" };

	PKT(&o, 1, hs);
	send_out(p, REQ, &o, 10);
	PKT(&o, 2, OK_PKT);
	send_out(p, RESP, &o, 20);
	for (int i = 0; i < 5; i++) {
		char q[64];
		int n = snprintf(q, sizeof(q), "\x03%s", uses[i]);

		pkt(&o, 0, q, n);
		send_out(p, REQ, &o, 100 + i);
		PKT(&o, 1, OK_PKT);
		send_out(p, RESP, &o, 100 + i);
		PKT(&o, 0, "\x0e");
		send_out(p, REQ, &o, 100 + i);
		assert_string_equal(r->ev[r->n - 1].db, dbs[i]);
		PKT(&o, 1, OK_PKT);
		send_out(p, RESP, &o, 100 + i);
	}
	assert_string_equal(r->ev[2].system, "mysql");
	assert_string_equal(r->ev[2].user, "u");
	free(o.b);
	kspan_parser_free(p);
}

/* MySQL 8 query attributes before a COM_QUERY's text. */
static void test_query_attributes(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	struct out o = { 0 };
	/* caps: PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | DEPRECATE_EOF |
	 * QUERY_ATTRIBUTES (0x08000000) */
	static const char hs[] = "\x00\x82\x08\x09\x00\x00\x00\x01\x21"
				 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
				 "\x00\x00\x00\x00\x00\x00\x00"
				 "u\x00\x00mysql_native_password";
	/* one attribute: not null, types sent: STRING (0xfe), "tp"; value "abc" */
	static const char q1[] = "\x03\x01\x01\x00\x01\xfe\x00\x02tp\x03"
				 "abcSELECT 7";
	static const char q2[] = "\x03\x00\x01SELECT 8";

	PKT(&o, 1, hs);
	send_out(p, REQ, &o, 10);
	PKT(&o, 2, OK_PKT);
	send_out(p, RESP, &o, 20);
	PKT(&o, 0, q1);
	send_out(p, REQ, &o, 30);
	assert_string_equal(r->ev[1].query, "SELECT 7");
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 40);
	PKT(&o, 0, q2);
	send_out(p, REQ, &o, 50);
	assert_string_equal(r->ev[4].query, "SELECT 8");
	free(o.b);
	kspan_parser_free(p);
}

/* COM_BINLOG_DUMP: the first reply packet ends the exchange, the stream follows. */
static void test_binlog_dump(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	PKT(&o, 0,
	    "\x12\x04\x00\x00\x00\x00\x00\x01\x00\x00\x00"
	    "binlog.000001");
	send_out(p, REQ, &o, 100);
	PKT(&o, 1,
	    "\x00\x00\x00\x00\x00\x04\x01\x00\x00\x00\x2c\x00\x00\x00\x00\x00\x00\x00\x20"
	    "\x00");
	send_out(p, RESP, &o, 110);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 1);
	assert_string_equal(r->ev[2].command, "COM_BINLOG_DUMP");
	PKT(&o, 2, "\x00garbage of an event stream");
	send_out(p, RESP, &o, 120);
	assert_int_equal(r->n, 3);
	free(o.b);
	kspan_parser_free(p);
}

/* The close: a command without reply, and one whose reply was cut. */
static void test_eof(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	PKT(&o, 0, "\x03SELECT 1");
	PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 100);
	PKT(&o, 1, "\x01");
	send_out(p, RESP, &o, 110);
	assert_int_equal(kspan_parser_eof(p, 120), 0);
	assert_int_equal(count(r, KSPAN_PEV_EXCHANGE), 2);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->flags, KSPAN_PEF_RESP_INCOMPLETE);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->rows, -1);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 1)->ts[3], 110);
	assert_int_equal(find(r, KSPAN_PEV_EXCHANGE, 2)->flags, KSPAN_PEF_NO_RESPONSE);
	assert_int_equal(kspan_parser_stats(p)->unanswered, 1);
	/* After eof the parser starts over: a new connection's greeting. */
	clear(r);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, 16,
					   130),
			 -EPROTONOSUPPORT);
	free(o.b);
	kspan_parser_free(p);
}

/* Reset forgets everything; request numbers go on. */
static void test_reset(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = after_handshake(r, "cli_session");
	struct out o = { 0 };

	PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 100);
	kspan_parser_reset(p, KSPAN_PARSER_MIDSTREAM);
	assert_int_equal(r->n, 2);
	PKT(&o, 0, "\x0e");
	send_out(p, REQ, &o, 110);
	PKT(&o, 1, OK_PKT);
	send_out(p, RESP, &o, 120);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->ev[4].seq, 2);
	assert_string_equal(r->ev[4].db, "");
	kspan_parser_free(p);
	free(o.b);
}

/* Bytes that are not MySQL at the start of a connection. */
static void test_not_mysql(void **state)
{
	struct rec *r = *state;
	static const char *const req[] = {
		"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x00\x00\x00\x08\x04\xd2\x16\x2f", /* PostgreSQL SSLRequest */
		"*1\r\n$4\r\nPING\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* TLS ClientHello */
	};
	static const char *const resp[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"+PONG\r\n",
		"\x10\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
	};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct kspan_parser *p = new_parser(r, 0);
		size_t n = strlen(req[i]) ? strlen(req[i]) : 8;

		if (i == 1)
			n = 8;
		assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)req[i], n, n, 1),
				 -EPROTONOSUPPORT);
		assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_NOT_PROTO);
		kspan_parser_free(p);
	}
	for (size_t i = 0; i < sizeof(resp) / sizeof(resp[0]); i++) {
		struct kspan_parser *p = new_parser(r, 0);
		size_t n = i == 2 ? 20 : strlen(resp[i]);

		assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)resp[i], n, n, 1),
				 -EPROTONOSUPPORT);
		kspan_parser_free(p);
	}
	assert_int_equal(r->n, 0);
}

/* Random bytes, and random packets, in both directions: no crash, sane events. */
static void test_hostile(void **state)
{
	struct rec *r = *state;
	uint32_t seed = 12345;
	uint8_t buf[600];

	for (int round = 0; round < 400; round++) {
		struct kspan_parser *p = new_parser(r, round & 1 ? KSPAN_PARSER_MIDSTREAM : 0);

		clear(r);
		for (int i = 0; i < 60; i++) {
			size_t n = 1 + prng(&seed) % sizeof(buf);
			int dir = prng(&seed) & 1;

			for (size_t k = 0; k < n; k++)
				buf[k] = prng(&seed);
			if (round % 4 >= 2) {
				/* Plausible headers: small lengths, small sequence ids. */
				buf[0] = prng(&seed) % 40;
				buf[1] = buf[2] = 0;
				buf[3] = prng(&seed) % 3;
				buf[4] = (uint8_t[]){
					0x00, 0x03, 0x16, 0x17, 0xfe, 0xff, 0x01, 0x0e
				}[prng(&seed) % 8];
			}
			kspan_parser_feed(p, dir, buf, n, n + (prng(&seed) % 8 == 0 ? 5000 : 0), i);
			if (r->n > MAX_EVENTS - 100)
				clear(r);
		}
		kspan_parser_eof(p, 100);
		for (int i = 0; i < r->n; i++)
			assert_true(r->ev[i].rows >= -1);
		kspan_parser_free(p);
	}
}

/* No event carries the auth response (scramble) or the password. */
static void test_no_credentials(void **state)
{
	struct rec *r = *state;
	static const char *const names[] = { "cli_session", "stmt_client", "ed25519" };

	for (size_t i = 0; i < 3; i++) {
		struct fixture *fx = fixture_load(names[i]);
		/* The HandshakeResponse41's auth response: after the user's NUL, 20 bytes. */
		const uint8_t *hs = fx->c[1].b + 4 + 32;
		const uint8_t *token = hs + strlen((const char *)hs) + 2;

		clear(r);
		run_fixture(r, names[i], SPLIT_BYTES);
		assert_non_null(r->log);
		assert_null(memmem(r->log, r->log_len, "throwaway", 9));
		for (int e = 0; e < r->n; e++) {
			const struct ev *ev = &r->ev[e];
			const char *fields[] = { ev->query, ev->command, ev->db, ev->user,
						 ev->msg };

			for (size_t f = 0; f < 5; f++)
				assert_null(memmem(fields[f], strlen(fields[f]), token, 8));
		}
		fixture_free(fx);
	}
}

/* ------------------------------------------------------------------ detection */

static void test_detect(void **state)
{
	struct fixture *cli = fixture_load("cli_session");
	struct fixture *tls = fixture_load("tls");
	struct fixture *st = fixture_load("stmt_client");
	enum kspan_msg_dir dir = 99;
	static const char *const others[] = {
		"GET / HTTP/1.1\r\n",
		"POST /api HTTP/1.1\r\nHost: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n",
		"\x00\x00\x00\x08\x04\xd2\x16\x2f",
		"Q\x00\x00\x00\x0dSELECT 1\x00",
		"R\x00\x00\x00\x08\x00\x00\x00\x00",
		"*1\r\n$4\r\nPING\r\n",
		"+OK\r\n",
		"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03",
	};
	static const size_t other_len[] = { 16, 31, 17, 8, 14, 9, 14, 5, 11 };

	(void)state;
	assert_int_equal(kspan_mysql_detect(cli->c[0].b, cli->c[0].n, &dir), 100);
	assert_int_equal(dir, RESP);
	assert_int_equal(kspan_mysql_detect(cli->c[0].b, 20, &dir), 80);
	assert_int_equal(kspan_mysql_detect(cli->c[1].b, cli->c[1].n, &dir), 90);
	assert_int_equal(dir, REQ);
	assert_int_equal(kspan_mysql_detect(tls->c[1].b, tls->c[1].n, &dir), 90);
	assert_int_equal(dir, REQ);
	/* A COM_QUERY filling its read; a prefix of a longer one. */
	dir = 99;
	assert_int_equal(kspan_mysql_detect(cli->c[3].b, cli->c[3].n, &dir), 50);
	assert_int_equal(dir, REQ);
	assert_int_equal(kspan_mysql_detect(cli->c[3].b, 20, &dir), 20);
	/* COM_STMT_EXECUTE of the right size; COM_QUIT. */
	assert_int_equal(kspan_mysql_detect(st->c[5].b, st->c[5].n, &dir), 40);
	assert_int_equal(kspan_mysql_detect((const uint8_t *)"\x01\x00\x00\x00\x01", 5, &dir), 40);
	/* An ERR packet; an OK packet (the reply to COM_INIT_DB, with session state). */
	assert_int_equal(kspan_mysql_detect(cli->c[14].b, cli->c[14].n, &dir), 60);
	assert_int_equal(dir, RESP);
	assert_int_equal(kspan_mysql_detect((const uint8_t *)"\x07\x00\x00\x01"
							     "\x00\x00\x00\x02"
							     "\x00\x00\x00",
					    11, &dir),
			 30);
	/* Not MySQL. */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		dir = 99;
		assert_int_equal(kspan_mysql_detect((const uint8_t *)others[i], other_len[i], &dir),
				 0);
		assert_int_equal(dir, 99);
	}
	assert_int_equal(kspan_mysql_detect(NULL, 10, &dir), 0);
	assert_int_equal(kspan_mysql_detect(cli->c[0].b, 4, &dir), 0);
	assert_int_equal(kspan_mysql_parser_ops.detect(cli->c[0].b, cli->c[0].n, NULL), 100);
	fixture_free(cli);
	fixture_free(tls);
	fixture_free(st);
}

static void test_api(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p;

	errno = 0;
	assert_null(kspan_parser_new(&kspan_mysql_parser_ops, on_event, r, 0x80));
	assert_int_equal(errno, EINVAL);
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, 2, (const uint8_t *)"x", 1, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 1, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"x", 2, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 0, 0, 1), 0);
	kspan_parser_free(p);
	kspan_parser_free(NULL);
	kspan_mysql_parser_ops.destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cli_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_compress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_captured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deprecate_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_plaintext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_row_captured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_query_captured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rows_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_after_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_prepare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_lost_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_text_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_use_without_tracking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binlog_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_mysql, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_credentials, setup, teardown),
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_api, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
