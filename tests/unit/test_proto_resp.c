// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the Redis RESP2/RESP3 parser (userspace/proto_resp.c) through
 * the common parser interface. Most run on byte streams recorded from Debian's
 * redis-server 7.0 with redis-cli (a session, --pipe pipelines, pub/sub with a
 * publisher, RESP3, MONITOR, large values), hiredis 0.14 (pipeline, MULTI/EXEC,
 * CLIENT REPLY) and a raw-socket C client (RESP3 types, pushes), in
 * tests/unit/data/resp/ (format in its README.md). They check the exact
 * events (order, req_seq, timestamps, every detail field), that feeding
 * byte-at-a-time or in random splits gives the same exchanges, capture gaps
 * (large values, lost header bytes), mid-stream starts, RESP3 types the server
 * never sends (streamed strings and aggregates, blob errors), the detector,
 * credentials, caps, and hostile input.
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
#include "proto_resp.h"

#define REQ KSPAN_MSG_REQUEST
#define RESP KSPAN_MSG_RESPONSE
#define NO_RESP KSPAN_PEF_NO_RESPONSE
#define REQ_INC KSPAN_PEF_REQ_INCOMPLETE
#define RESP_INC KSPAN_PEF_RESP_INCOMPLETE
#define CUT KSPAN_DB_F_QUERY_CUT
#define START KSPAN_PEV_REQUEST_START
#define REQUEST KSPAN_PEV_REQUEST
#define EXCHANGE KSPAN_PEV_EXCHANGE
#define MAX_EVENTS 512
#define PASSWORD "throwaway-pw"
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ------------------------------------------------------------------ event recording */

/* A copy of one event, strings included. */
struct ev {
	enum kspan_parser_event_type type;
	uint32_t flags;
	uint64_t seq, req_first, req_last, resp_first, resp_last;
	bool detail, error;
	int64_t rows;
	uint32_t batch, dbflags;
	char cmd[128], query[KSPAN_DB_QUERY_MAX + 1], ns[64], user[128], code[64];
	char msg[KSPAN_RESP_ERROR_MAX + 1];
};

struct rec {
	struct ev ev[MAX_EVENTS];
	int n;
	char *log; /* REQUEST and EXCHANGE events, one line each, batch left out */
	size_t log_len, log_cap;
	bool leaked; /* a detail string held the fixtures' password */
};

static void copy_str(struct rec *r, char *dst, size_t cap, struct kspan_str s)
{
	assert_non_null(s.ptr);
	assert_true(s.len < cap);
	memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
	if (memmem(s.ptr, s.len, PASSWORD, strlen(PASSWORD)))
		r->leaked = true;
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
	if (pe->type == START) {
		assert_null(x);
		return;
	}
	assert_non_null(x);
	assert_string_equal(x->system, "redis");
	copy_str(r, e->cmd, sizeof(e->cmd), x->command);
	copy_str(r, e->query, sizeof(e->query), x->query);
	copy_str(r, e->ns, sizeof(e->ns), x->db_namespace);
	copy_str(r, e->user, sizeof(e->user), x->user);
	copy_str(r, e->code, sizeof(e->code), x->status_code);
	copy_str(r, e->msg, sizeof(e->msg), x->error_message);
	e->error = x->error;
	e->rows = x->rows;
	e->batch = x->batch_size;
	e->dbflags = x->flags;
	log_add(r, "%d %lu f=%x ts=%lu,%lu,%lu,%lu [%s] [%s] ns=%s u=%s e=%d %s|%s rows=%ld x=%x\n",
		pe->type, (unsigned long)e->seq, e->flags, (unsigned long)e->req_first,
		(unsigned long)e->req_last, (unsigned long)e->resp_first,
		(unsigned long)e->resp_last, e->cmd, e->query, e->ns, e->user, e->error, e->code,
		e->msg, (long)e->rows, e->dbflags);
}

static struct kspan_parser *new_parser(struct rec *r, unsigned int flags)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_resp_parser_ops, on_event, r, flags);

	assert_non_null(p);
	assert_ptr_equal(p->ops, &kspan_resp_parser_ops);
	assert_string_equal(p->ops->name, "redis");
	return p;
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
	r->leaked = false;
}

static int feed_n(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, size_t n,
		  uint64_t ts)
{
	return kspan_parser_feed(p, dir, (const uint8_t *)s, n, n, ts);
}

static void feed_ok(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, uint64_t ts)
{
	assert_int_equal(feed_n(p, dir, s, strlen(s), ts), 0);
}

static int count(const struct rec *r, enum kspan_parser_event_type t)
{
	int c = 0;

	for (int i = 0; i < r->n; i++)
		c += r->ev[i].type == t;
	return c;
}

/* The n-th (0-based) event of type t. */
static const struct ev *nth(const struct rec *r, enum kspan_parser_event_type t, int n)
{
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].type == t && n-- == 0)
			return &r->ev[i];
	fail_msg("no event %d of type %d among %d", n, t, r->n);
	return &r->ev[0];
}

/*
 * What every run must satisfy: per req_seq a START, then one REQUEST, then one
 * EXCHANGE (unless the request was lost before its head); REQUEST and
 * EXCHANGE agree on the request half; seqs increase.
 */
static void check_invariants(const struct rec *r)
{
	for (int i = 0; i < r->n; i++) {
		const struct ev *e = &r->ev[i];
		int starts = 0, reqs = 0, exch = 0;
		const struct ev *req = NULL;

		if (e->type != START)
			continue;
		for (int j = 0; j < r->n; j++) {
			const struct ev *o = &r->ev[j];

			if (o->seq != e->seq)
				continue;
			if (o->type == START) {
				starts++;
				assert_true(j == i);
			} else if (o->type == REQUEST) {
				reqs++;
				assert_true(j > i);
				req = o;
			} else {
				exch++;
				assert_non_null(req);
				assert_string_equal(o->cmd, req->cmd);
				assert_string_equal(o->query, req->query);
				assert_string_equal(o->ns, req->ns);
				assert_string_equal(o->user, req->user);
				assert_int_equal(o->req_first, req->req_first);
			}
		}
		assert_int_equal(starts, 1);
		assert_true(reqs <= 1);
		assert_int_equal(exch, reqs);
		if (req)
			assert_int_equal(req->req_first, e->req_first);
	}
	for (int i = 0, last = 0; i < r->n; i++) {
		if (r->ev[i].type == START) {
			assert_true(r->ev[i].seq > (uint64_t)last);
			last = r->ev[i].seq;
		}
	}
	assert_false(r->leaked);
}

/* ------------------------------------------------------------------ fixtures */

#define MAX_CHUNKS 64

struct chunk {
	enum kspan_msg_dir dir;
	const char *b;
	size_t n;
};

struct fixture {
	char *data;
	struct chunk c[MAX_CHUNKS];
	int n;
};

static FILE *open_data(const char *name)
{
	char path[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t k;
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/data/resp/%s", name);
	f = fopen(path, "rb");
	if (f)
		return f;
	/* Run from elsewhere: look up from the binary (build[/asan]/tests/unit/). */
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k <= 0)
		return NULL;
	exe[k] = '\0';
	for (int up = 0; up < 6 && !f; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/tests/unit/data/resp/%s", exe, name);
		f = fopen(path, "rb");
	}
	return f;
}

/* "# comment" lines, then chunks: "> N\n" (client to server) or "< N\n", N bytes, "\n". */
static void load(struct fixture *fx, const char *name)
{
	FILE *f = open_data(name);
	long size;
	size_t i = 0;

	assert_non_null(f);
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	fx->data = malloc(size);
	assert_non_null(fx->data);
	assert_int_equal(fread(fx->data, 1, size, f), (size_t)size);
	fclose(f);
	while (i < (size_t)size) {
		char *nl;

		if (fx->data[i] == '#') {
			nl = memchr(fx->data + i, '\n', size - i);
			assert_non_null(nl);
			i = nl - fx->data + 1;
			continue;
		}
		assert_true(fx->n < MAX_CHUNKS);
		assert_true(fx->data[i] == '>' || fx->data[i] == '<');
		fx->c[fx->n].dir = fx->data[i] == '>' ? REQ : RESP;
		fx->c[fx->n].n = strtoul(fx->data + i + 2, &nl, 10);
		assert_int_equal(*nl, '\n');
		fx->c[fx->n].b = nl + 1;
		i = nl + 1 - fx->data + fx->c[fx->n].n;
		assert_true(i < (size_t)size);
		assert_int_equal(fx->data[i], '\n');
		i++;
		fx->n++;
	}
}

static void unload(struct fixture *fx)
{
	free(fx->data);
}

/* How a fixture is fed: chunk k (0-based) at ts 100 * (k + 1). */
struct how {
	size_t split; /* reads of at most this many bytes (0: whole chunks) */
	bool random; /* ... of random sizes up to split */
	size_t cap; /* the kernel captured at most this many bytes of each read (0: all) */
	int from; /* first chunk fed */
	unsigned int flags; /* creation flags */
};

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static struct kspan_parser *run(struct rec *r, const struct fixture *fx, struct how how)
{
	struct kspan_parser *p = new_parser(r, how.flags);
	uint32_t seed = 7;

	for (int k = how.from; k < fx->n; k++) {
		size_t off = 0;

		while (off < fx->c[k].n) {
			size_t n = fx->c[k].n - off, cap;
			int rc;

			if (how.split) {
				size_t most = how.random ? 1 + next_rand(&seed) % how.split :
							   how.split;

				n = MIN(n, most);
			}
			cap = how.cap ? MIN(n, how.cap) : n;
			rc = kspan_parser_feed(p, fx->c[k].dir, (const uint8_t *)fx->c[k].b + off,
					       cap, n, 100 * (k + 1));
			if (rc)
				fail_msg("feed %d at chunk %d offset %zu (split %zu)", rc, k, off,
					 how.split);
			off += n;
		}
	}
	return p;
}

/* Runs a fixture whole, checks the invariants, closes. */
static void run_closed(struct rec *r, const char *name, struct how how)
{
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, name);
	p = run(r, &fx, how);
	assert_int_equal(kspan_parser_eof(p, 1000000), 0);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* One expected exchange. code NULL: no error. */
struct want {
	uint64_t seq;
	const char *cmd, *query, *ns, *user, *code, *msg;
	int64_t rows;
	uint32_t batch, flags, dbflags;
	uint64_t rq0, rq1, rs0, rs1;
};

static void check_exchange(const struct ev *e, const struct want *w)
{
	assert_int_equal(e->type, EXCHANGE);
	assert_int_equal(e->seq, w->seq);
	assert_string_equal(e->cmd, w->cmd);
	assert_string_equal(e->query, w->query);
	assert_string_equal(e->ns, w->ns);
	assert_string_equal(e->user, w->user);
	assert_int_equal(e->error, w->code != NULL);
	assert_string_equal(e->code, w->code ? w->code : "");
	assert_string_equal(e->msg, w->msg ? w->msg : "");
	assert_int_equal(e->rows, w->rows);
	assert_int_equal(e->batch, w->batch);
	assert_int_equal(e->flags, w->flags);
	assert_int_equal(e->dbflags, w->dbflags);
	assert_int_equal(e->req_first, w->rq0);
	assert_int_equal(e->req_last, w->rq1);
	assert_int_equal(e->resp_first, w->rs0);
	assert_int_equal(e->resp_last, w->rs1);
}

static void check_exchanges(const struct rec *r, const struct want *w, int n)
{
	assert_int_equal(count(r, EXCHANGE), n);
	for (int i = 0; i < n; i++)
		check_exchange(nth(r, EXCHANGE, i), &w[i]);
}

/* The first n REQUESTs: their seqs, and nothing of a reply. */
static void check_requests_match(const struct rec *r, const struct want *w, int n)
{
	assert_true(count(r, REQUEST) >= n);
	for (int i = 0; i < n; i++) {
		const struct ev *e = nth(r, REQUEST, i);

		assert_int_equal(e->seq, w[i].seq);
		assert_int_equal(e->flags, 0);
		assert_int_equal(e->resp_first, 0);
		assert_int_equal(e->resp_last, 0);
		assert_false(e->error);
		assert_int_equal(e->rows, -1);
		assert_string_equal(e->code, "");
	}
}

#define ERR_INT "value is not an integer or out of range"
#define ERR_TYPE "Operation against a key holding the wrong kind of value"

/* ------------------------------------------------------------------ recorded sessions */

/* redis-cli: its COMMAND DOCS (a 174 KB nested reply over 5 reads), then one command per write. */
static const struct want cli_session[] = {
	{ 1, "COMMAND DOCS", "COMMAND DOCS", "0", "", NULL, NULL, 480, 0, 0, 0, 100, 100, 200,
	  600 },
	{ 2, "SET", "SET user:1 alice", "0", "", NULL, NULL, -1, 0, 0, 0, 700, 700, 800, 800 },
	{ 3, "GET", "GET user:1", "0", "", NULL, NULL, -1, 0, 0, 0, 900, 900, 1000, 1000 },
	{ 4, "GET", "GET missing", "0", "", NULL, NULL, 0, 0, 0, 0, 1100, 1100, 1200, 1200 },
	{ 5, "INCR", "INCR counter", "0", "", NULL, NULL, -1, 0, 0, 0, 1300, 1300, 1400, 1400 },
	{ 6, "INCR", "INCR user:1", "0", "", "ERR", ERR_INT, -1, 0, 0, 0, 1500, 1500, 1600, 1600 },
	{ 7, "LPUSH", "LPUSH user:1 x", "0", "", "WRONGTYPE", ERR_TYPE, -1, 0, 0, 0, 1700, 1700,
	  1800, 1800 },
	{ 8, "RPUSH", "RPUSH list a b c", "0", "", NULL, NULL, -1, 0, 0, 0, 1900, 1900, 2000,
	  2000 },
	{ 9, "LRANGE", "LRANGE list 0 -1", "0", "", NULL, NULL, 3, 0, 0, 0, 2100, 2100, 2200,
	  2200 },
	{ 10, "HSET", "HSET h f1 v1 f2 v2", "0", "", NULL, NULL, -1, 0, 0, 0, 2300, 2300, 2400,
	  2400 },
	{ 11, "HGETALL", "HGETALL h", "0", "", NULL, NULL, 4, 0, 0, 0, 2500, 2500, 2600, 2600 },
	{ 12, "DEL", "DEL user:1 counter", "0", "", NULL, NULL, -1, 0, 0, 0, 2700, 2700, 2800,
	  2800 },
	{ 13, "SELECT", "SELECT 2", "2", "", NULL, NULL, -1, 0, 0, 0, 2900, 2900, 3000, 3000 },
	{ 14, "SET", "SET k2 v2", "2", "", NULL, NULL, -1, 0, 0, 0, 3100, 3100, 3200, 3200 },
	{ 15, "CLIENT SETNAME", "CLIENT SETNAME app1", "2", "", NULL, NULL, -1, 0, 0, 0, 3300, 3300,
	  3400, 3400 },
	{ 16, "CONFIG GET", "CONFIG GET maxmemory", "2", "", NULL, NULL, 2, 0, 0, 0, 3500, 3500,
	  3600, 3600 },
	{ 17, "XADD", "XADD s 1-1 f v", "2", "", NULL, NULL, -1, 0, 0, 0, 3700, 3700, 3800, 3800 },
	{ 18, "XINFO STREAM", "XINFO STREAM s", "2", "", NULL, NULL, 20, 0, 0, 0, 3900, 3900, 4000,
	  4000 },
	{ 19, "SCRIPT LOAD", "SCRIPT LOAD return 1", "2", "", NULL, NULL, -1, 0, 0, 0, 4100, 4100,
	  4200, 4200 },
	{ 20, "NOSUCHCMD", "NOSUCHCMD a", "2", "", "ERR",
	  "unknown command 'NOSUCHCMD', with args beginning with: 'a' ", -1, 0, 0, 0, 4300, 4300,
	  4400, 4400 },
	{ 21, "AUTH", "AUTH ? ?", "2", "app", NULL, NULL, -1, 0, 0, 0, 4500, 4500, 4600, 4600 },
	{ 22, "PING", "PING", "2", "app", NULL, NULL, -1, 0, 0, 0, 4700, 4700, 4800, 4800 },
};

static void test_cli_session(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;
	const struct kspan_parser_stats *st;

	load(&fx, "cli_session");
	p = run(r, &fx, (struct how){ 0 });
	/* One command per write: START, REQUEST, EXCHANGE each, in that order. */
	assert_int_equal(r->n, 66);
	for (int i = 0; i < 22; i++) {
		assert_int_equal(r->ev[3 * i].type, START);
		assert_int_equal(r->ev[3 * i].seq, i + 1);
		assert_int_equal(r->ev[3 * i].req_first, cli_session[i].rq0);
		assert_int_equal(r->ev[3 * i + 1].type, REQUEST);
		assert_int_equal(r->ev[3 * i + 2].type, EXCHANGE);
	}
	check_exchanges(r, cli_session, 22);
	check_requests_match(r, cli_session, 22);
	assert_string_equal(nth(r, REQUEST, 20)->user, "app");
	assert_string_equal(nth(r, REQUEST, 20)->query, "AUTH ? ?");
	st = kspan_parser_stats(p);
	assert_int_equal(st->requests, 22);
	assert_int_equal(st->exchanges, 22);
	assert_int_equal(st->orphan_responses + st->unanswered + st->gap_bytes + st->skipped_bytes +
				 st->resyncs + st->fields_dropped + st->lines_truncated,
			 0);
	assert_int_equal(kspan_parser_eof(p, 5000), 0);
	assert_int_equal(r->n, 66);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* redis-cli --pipe: 48 commands in one write (a MULTI ... EXEC among them), replies in one read. */
static void test_pipe(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;
	char q[64];

	load(&fx, "pipe");
	p = run(r, &fx, (struct how){ 0 });
	assert_int_equal(r->n, 3 * 48);
	/* All STARTs, then all REQUESTs (at the end of the read, with the batch size). */
	for (int i = 0; i < 48; i++) {
		assert_int_equal(r->ev[i].type, START);
		assert_int_equal(r->ev[i].seq, i + 1);
		assert_int_equal(r->ev[48 + i].type, REQUEST);
		assert_int_equal(r->ev[48 + i].seq, i + 1);
		assert_int_equal(r->ev[48 + i].batch, 48);
		assert_int_equal(r->ev[48 + i].req_first, 100);
		assert_int_equal(r->ev[48 + i].req_last, 100);
	}
	for (int i = 0; i < 40; i++) {
		const struct ev *e = nth(r, EXCHANGE, i);

		snprintf(q, sizeof(q), "SET key:%d value-%d", i, i);
		check_exchange(e, &(struct want){ i + 1, "SET", q, "0", "", NULL, NULL, -1, 48, 0,
						  0, 100, 100, 200, 200 });
	}
	{
		/* The queued commands get their EXEC results, then EXEC; batch = queued count. */
		static const struct want rest[] = {
			{ 41, "INCR", "INCR key:1", "0", "", "ERR", ERR_INT, -1, 48, 0, 0, 100, 100,
			  200, 200 },
			{ 42, "GET", "GET key:39", "0", "", NULL, NULL, -1, 48, 0, 0, 100, 100, 200,
			  200 },
			{ 43, "MULTI", "MULTI", "0", "", NULL, NULL, -1, 48, 0, 0, 100, 100, 200,
			  200 },
			{ 44, "INCR", "INCR n", "0", "", NULL, NULL, -1, 3, 0, 0, 100, 100, 200,
			  200 },
			{ 45, "INCR", "INCR key:2", "0", "", "ERR", ERR_INT, -1, 3, 0, 0, 100, 100,
			  200, 200 },
			{ 46, "GET", "GET n", "0", "", NULL, NULL, -1, 3, 0, 0, 100, 100, 200,
			  200 },
			{ 47, "EXEC", "EXEC", "0", "", NULL, NULL, 3, 3, 0, 0, 100, 100, 200, 200 },
		};

		for (int i = 0; i < 7; i++)
			check_exchange(nth(r, EXCHANGE, 40 + i), &rest[i]);
	}
	/* redis-cli's end marker: ECHO of 20 random bytes. */
	assert_string_equal(nth(r, EXCHANGE, 47)->cmd, "ECHO");
	assert_int_equal(strlen(nth(r, EXCHANGE, 47)->query), 25);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* Inline commands through redis-cli --pipe: quoting, a blank line, AUTH, an arity error. */
static void test_pipe_inline(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;
	static const struct want w[] = {
		{ 1, "SET", "SET a 1", "0", "", NULL, NULL, -1, 8, 0, 0, 100, 100, 200, 200 },
		{ 2, "INCR", "INCR a", "0", "", NULL, NULL, -1, 8, 0, 0, 100, 100, 200, 200 },
		{ 3, "SET", "SET quoted key hello world", "0", "", NULL, NULL, -1, 8, 0, 0, 100,
		  100, 200, 200 },
		{ 4, "GET", "GET quoted key", "0", "", NULL, NULL, -1, 8, 0, 0, 100, 100, 200,
		  200 },
		{ 5, "PING", "PING", "0", "", NULL, NULL, -1, 8, 0, 0, 100, 100, 200, 200 },
		/* Inline AUTH: the argument count is only known at the end; no user. */
		{ 6, "AUTH", "AUTH ? ?", "0", "", NULL, NULL, -1, 8, 0, 0, 100, 100, 200, 200 },
		{ 7, "SET", "SET b", "0", "", "ERR", "wrong number of arguments for 'set' command",
		  -1, 8, 0, 0, 100, 100, 200, 200 },
	};

	load(&fx, "pipe_inline");
	p = run(r, &fx, (struct how){ 0 });
	assert_int_equal(count(r, START), 8);
	check_requests_match(r, w, 7);
	assert_int_equal(count(r, REQUEST), 8);
	for (int i = 0; i < 7; i++)
		check_exchange(nth(r, EXCHANGE, i), &w[i]);
	assert_string_equal(nth(r, EXCHANGE, 7)->cmd, "ECHO");
	assert_int_equal(count(r, EXCHANGE), 8);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* hiredis: six commands appended and sent in one write, replies in one read, then a PING. */
static void test_hiredis_pipeline(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ 1, "SET", "SET pk:1 v1", "0", "", NULL, NULL, -1, 6, 0, 0, 100, 100, 200, 200 },
		{ 2, "GET", "GET pk:1", "0", "", NULL, NULL, -1, 6, 0, 0, 100, 100, 200, 200 },
		{ 3, "INCR", "INCR pk:1", "0", "", "ERR", ERR_INT, -1, 6, 0, 0, 100, 100, 200,
		  200 },
		{ 4, "HSET", "HSET ph a 1 b 2", "0", "", NULL, NULL, -1, 6, 0, 0, 100, 100, 200,
		  200 },
		{ 5, "HGETALL", "HGETALL ph", "0", "", NULL, NULL, 4, 6, 0, 0, 100, 100, 200, 200 },
		{ 6, "DEL", "DEL pk:1 ph", "0", "", NULL, NULL, -1, 6, 0, 0, 100, 100, 200, 200 },
		{ 7, "PING", "PING", "0", "", NULL, NULL, -1, 0, 0, 0, 300, 300, 400, 400 },
	};

	run_closed(r, "hiredis_pipeline", (struct how){ 0 });
	check_exchanges(r, w, 7);
	check_requests_match(r, w, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(nth(r, REQUEST, i)->batch, w[i].batch);
}

/* hiredis, one command per write: SELECT 3, then four transactions. */
static const struct want hiredis_multi[] = {
	{ 1, "SELECT", "SELECT 3", "3", "", NULL, NULL, -1, 0, 0, 0, 100, 100, 200, 200 },
	{ 2, "MULTI", "MULTI", "3", "", NULL, NULL, -1, 0, 0, 0, 300, 300, 400, 400 },
	/* EXEC's array gives each queued command its result and EXEC's timestamps. */
	{ 3, "SET", "SET tx:a 1", "3", "", NULL, NULL, -1, 4, 0, 0, 500, 500, 1400, 1400 },
	{ 4, "INCR", "INCR tx:a", "3", "", NULL, NULL, -1, 4, 0, 0, 700, 700, 1400, 1400 },
	{ 5, "LPUSH", "LPUSH tx:a x", "3", "", "WRONGTYPE", ERR_TYPE, -1, 4, 0, 0, 900, 900, 1400,
	  1400 },
	{ 6, "GET", "GET tx:a", "3", "", NULL, NULL, -1, 4, 0, 0, 1100, 1100, 1400, 1400 },
	{ 7, "EXEC", "EXEC", "3", "", NULL, NULL, 4, 4, 0, 0, 1300, 1300, 1400, 1400 },
	{ 8, "MULTI", "MULTI", "3", "", NULL, NULL, -1, 0, 0, 0, 1500, 1500, 1600, 1600 },
	/* Refused when queued: answered at once. */
	{ 10, "NOSUCHCMD", "NOSUCHCMD x", "3", "", "ERR",
	  "unknown command 'NOSUCHCMD', with args beginning with: 'x' ", -1, 0, 0, 0, 1900, 1900,
	  2000, 2000 },
	/* -EXECABORT: the queued SET is reported with its +QUEUED. */
	{ 9, "SET", "SET tx:b 1", "3", "", NULL, NULL, -1, 0, 0, 0, 1700, 1700, 1800, 1800 },
	{ 11, "EXEC", "EXEC", "3", "", "EXECABORT",
	  "Transaction discarded because of previous errors.", -1, 0, 0, 0, 2100, 2100, 2200,
	  2200 },
	{ 12, "MULTI", "MULTI", "3", "", NULL, NULL, -1, 0, 0, 0, 2300, 2300, 2400, 2400 },
	{ 13, "SET", "SET tx:c 1", "3", "", NULL, NULL, -1, 0, 0, 0, 2500, 2500, 2600, 2600 },
	{ 14, "DISCARD", "DISCARD", "3", "", NULL, NULL, -1, 0, 0, 0, 2700, 2700, 2800, 2800 },
	{ 15, "WATCH", "WATCH tx:w", "3", "", NULL, NULL, -1, 0, 0, 0, 2900, 2900, 3000, 3000 },
	{ 16, "MULTI", "MULTI", "3", "", NULL, NULL, -1, 0, 0, 0, 3100, 3100, 3200, 3200 },
	/* The watched key changed: EXEC answers a null array; SET did not run. */
	{ 17, "SET", "SET tx:w mine", "3", "", NULL, NULL, -1, 0, 0, 0, 3300, 3300, 3400, 3400 },
	{ 18, "EXEC", "EXEC", "3", "", NULL, NULL, 0, 0, 0, 0, 3500, 3500, 3600, 3600 },
	{ 19, "SELECT", "SELECT 0", "0", "", NULL, NULL, -1, 0, 0, 0, 3700, 3700, 3800, 3800 },
	{ 20, "GET", "GET tx:a", "0", "", NULL, NULL, 0, 0, 0, 0, 3900, 3900, 4000, 4000 },
};

static void test_hiredis_multi(void **state)
{
	struct rec *r = *state;

	run_closed(r, "hiredis_multi", (struct how){ 0 });
	check_exchanges(r, hiredis_multi, 20);
	assert_int_equal(count(r, REQUEST), 20);
	assert_int_equal(count(r, START), 20);
}

/* CLIENT REPLY OFF ... ON and SKIP: unanswered commands are reported at once. */
static void test_hiredis_reply_off(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ 1, "CLIENT REPLY", "CLIENT REPLY OFF", "0", "", NULL, NULL, -1, 4, NO_RESP, 0,
		  100, 100, 0, 0 },
		{ 2, "SET", "SET ro:1 a", "0", "", NULL, NULL, -1, 4, NO_RESP, 0, 100, 100, 0, 0 },
		{ 3, "SET", "SET ro:2 b", "0", "", NULL, NULL, -1, 4, NO_RESP, 0, 100, 100, 0, 0 },
		{ 4, "CLIENT REPLY", "CLIENT REPLY ON", "0", "", NULL, NULL, -1, 4, 0, 0, 100, 100,
		  200, 200 },
		{ 5, "CLIENT REPLY", "CLIENT REPLY SKIP", "0", "", NULL, NULL, -1, 3, NO_RESP, 0,
		  300, 300, 0, 0 },
		{ 6, "GET", "GET ro:1", "0", "", NULL, NULL, -1, 3, NO_RESP, 0, 300, 300, 0, 0 },
		{ 7, "GET", "GET ro:2", "0", "", NULL, NULL, -1, 3, 0, 0, 300, 300, 400, 400 },
	};
	const struct kspan_parser_stats *st;
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, "hiredis_reply_off");
	p = run(r, &fx, (struct how){ 0 });
	check_exchanges(r, w, 7);
	/* REQUEST then at once its EXCHANGE, for each command the server will not answer. */
	assert_int_equal(r->ev[4].type, REQUEST);
	assert_int_equal(r->ev[5].type, EXCHANGE);
	assert_int_equal(r->ev[5].seq, 1);
	st = kspan_parser_stats(p);
	assert_int_equal(st->unanswered, 5);
	assert_int_equal(st->orphan_responses, 0);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* redis-cli SUBSCRIBE (RESP2): two confirmations answer it; three messages answer nothing. */
static void test_pubsub_resp2(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ 1, "SUBSCRIBE", "SUBSCRIBE news alerts.cpu", "0", "", NULL, NULL, -1, 0, 0, 0,
		  100, 100, 200, 200 },
	};
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, "pubsub_resp2");
	p = run(r, &fx, (struct how){ 0 });
	check_exchanges(r, w, 1);
	assert_int_equal(r->n, 3);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	/* Still subscribed: a message is not an orphan reply either after more commands. */
	feed_ok(p, REQ, "*1\r\n$4\r\nPING\r\n", 700);
	feed_ok(p, RESP, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n", 800);
	feed_ok(p, RESP, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", 900);
	check_exchange(nth(r, EXCHANGE, 1), &(struct want){ 2, "PING", "PING", "0", "", NULL, NULL,
							    2, 0, 0, 0, 700, 700, 900, 900 });
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* Raw C client, RESP2 subscribed mode end to end. */
static void test_c_resp2_pubsub(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ 1, "SUBSCRIBE", "SUBSCRIBE a b", "0", "", NULL, NULL, -1, 0, 0, 0, 100, 100, 200,
		  200 },
		{ 2, "PSUBSCRIBE", "PSUBSCRIBE p.*", "0", "", NULL, NULL, -1, 0, 0, 0, 300, 300,
		  400, 400 },
		/* The message and pmessage (chunks 5, 6) answer nothing; PING gets ["pong", ""]. */
		{ 3, "PING", "PING", "0", "", NULL, NULL, 2, 0, 0, 0, 700, 700, 800, 800 },
		{ 4, "PING", "PING hello", "0", "", NULL, NULL, 2, 0, 0, 0, 900, 900, 1000, 1000 },
		{ 5, "GET", "GET x", "0", "", "ERR",
		  "Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
		  "are allowed in this context",
		  -1, 0, 0, 0, 1100, 1100, 1200, 1200 },
		/* Without arguments: one confirmation per channel it drops (2), then patterns (1). */
		{ 6, "UNSUBSCRIBE", "UNSUBSCRIBE", "0", "", NULL, NULL, -1, 0, 0, 0, 1300, 1300,
		  1400, 1400 },
		{ 7, "PUNSUBSCRIBE", "PUNSUBSCRIBE", "0", "", NULL, NULL, -1, 0, 0, 0, 1500, 1500,
		  1600, 1600 },
		/* Out of subscribed mode, a normal reply. */
		{ 8, "GET", "GET x", "0", "", NULL, NULL, 0, 0, 0, 0, 1700, 1700, 1800, 1800 },
	};

	run_closed(r, "c_resp2_pubsub", (struct how){ 0 });
	check_exchanges(r, w, 8);
	check_requests_match(r, w, 8);
}

/* redis-cli -3 PSUBSCRIBE: HELLO 3's map, then RESP3 push confirmation and a pmessage push. */
static void test_psubscribe_resp3(void **state)
{
	struct rec *r = *state;
	static const struct want w[] = {
		{ 1, "HELLO", "HELLO 3", "0", "", NULL, NULL, 7, 0, 0, 0, 100, 100, 200, 200 },
		{ 2, "PSUBSCRIBE", "PSUBSCRIBE alerts.*", "0", "", NULL, NULL, -1, 0, 0, 0, 300,
		  300, 400, 400 },
	};
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, "psubscribe_resp3");
	p = run(r, &fx, (struct how){ 0 });
	check_exchanges(r, w, 2);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	/* RESP3: a command's reply comes through between pushes. */
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 600);
	feed_ok(p, RESP, ">4\r\n$8\r\npmessage\r\n$8\r\nalerts.*\r\n$8\r\nalerts.x\r\n$1\r\nm\r\n",
		700);
	feed_ok(p, RESP, "$1\r\nv\r\n>4\r\n$8\r\npmessage\r\n$1\r\na\r\n$1\r\na\r\n$0\r\n\r\n",
		800);
	check_exchange(nth(r, EXCHANGE, 2), &(struct want){ 3, "GET", "GET k", "0", "", NULL, NULL,
							    -1, 0, 0, 0, 600, 600, 800, 800 });
	assert_int_equal(count(r, EXCHANGE), 3);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* Raw C client over RESP3: every type Redis 7.0 sends, an attribute, pushes, HELLO AUTH. */
static void test_c_resp3(void **state)
{
	struct rec *r = *state;
#define R3(seq, cmd, q, u, code, msg, rows)                                                      \
	{                                                                                        \
		seq, cmd, q, "0", u, code, msg, rows, 0, 0, 0, 200 * (seq)-100, 200 * (seq)-100, \
			200 * (seq), 200 * (seq)                                                 \
	}
	static const struct want w[] = {
		R3(1, "HELLO", "HELLO 3 AUTH ? ? SETNAME kspan-test", "app", NULL, NULL, 7),
		R3(2, "DEBUG", "DEBUG PROTOCOL string", "app", NULL, NULL, -1),
		R3(3, "DEBUG", "DEBUG PROTOCOL integer", "app", NULL, NULL, -1),
		R3(4, "DEBUG", "DEBUG PROTOCOL double", "app", NULL, NULL, -1),
		R3(5, "DEBUG", "DEBUG PROTOCOL bignum", "app", NULL, NULL, -1),
		R3(6, "DEBUG", "DEBUG PROTOCOL null", "app", NULL, NULL, 0),
		R3(7, "DEBUG", "DEBUG PROTOCOL array", "app", NULL, NULL, 3),
		R3(8, "DEBUG", "DEBUG PROTOCOL set", "app", NULL, NULL, 3),
		R3(9, "DEBUG", "DEBUG PROTOCOL map", "app", NULL, NULL, 3),
		/* An attribute, then the real reply (a blob string). */
		R3(10, "DEBUG", "DEBUG PROTOCOL attrib", "app", NULL, NULL, -1),
		/* A push, then the real reply: the push is not it. */
		R3(11, "DEBUG", "DEBUG PROTOCOL push", "app", NULL, NULL, -1),
		R3(12, "DEBUG", "DEBUG PROTOCOL verbatim", "app", NULL, NULL, -1),
		R3(13, "DEBUG", "DEBUG PROTOCOL true", "app", NULL, NULL, -1),
		R3(14, "DEBUG", "DEBUG PROTOCOL false", "app", NULL, NULL, -1),
		R3(15, "HSET", "HSET h3 a 1 b 2", "app", NULL, NULL, -1),
		R3(16, "HGETALL", "HGETALL h3", "app", NULL, NULL, 2),
		R3(17, "ZADD", "ZADD z 1.5 m", "app", NULL, NULL, -1),
		R3(18, "ZSCORE", "ZSCORE z m", "app", NULL, NULL, -1),
		R3(19, "EVAL", "EVAL return {err=\"MYERR custom failure\"} 0", "app", "MYERR",
		   "custom failure", -1),
		R3(20, "CLIENT TRACKING", "CLIENT TRACKING on", "app", NULL, NULL, -1),
		R3(21, "GET", "GET tr:k", "app", NULL, NULL, -1),
		/* At 4300 the invalidation push of tr:k, answering nothing. */
		{ 22, "PING", "PING", "0", "app", NULL, NULL, -1, 0, 0, 0, 4400, 4400, 4500, 4500 },
		{ 23, "SUBSCRIBE", "SUBSCRIBE ch1 ch2", "0", "app", NULL, NULL, -1, 0, 0, 0, 4600,
		  4600, 4700, 4700 },
		/* At 4800 a message push. */
		{ 24, "GET", "GET tr:k", "0", "app", NULL, NULL, -1, 0, 0, 0, 4900, 4900, 5000,
		  5000 },
		{ 25, "PING", "PING", "0", "app", NULL, NULL, -1, 0, 0, 0, 5100, 5100, 5200, 5200 },
		{ 26, "UNSUBSCRIBE", "UNSUBSCRIBE", "0", "app", NULL, NULL, -1, 0, 0, 0, 5300, 5300,
		  5400, 5400 },
		{ 27, "SELECT", "SELECT 1", "1", "app", NULL, NULL, -1, 0, 0, 0, 5500, 5500, 5600,
		  5600 },
		{ 28, "GET", "GET x", "1", "app", NULL, NULL, -1, 0, 0, 0, 5700, 5700, 5800, 5800 },
	};
#undef R3

	run_closed(r, "c_resp3", (struct how){ 0 });
	check_exchanges(r, w, 28);
	check_requests_match(r, w, 28);
	/* The user is known from the REQUEST of HELLO on. */
	assert_string_equal(nth(r, REQUEST, 0)->user, "app");
}

/* MONITOR: its +OK is its reply; the stream after it is not replies: the parser goes quiet. */
static void test_monitor(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, "monitor");
	p = run(r, &fx, (struct how){ 0 });
	check_exchanges(r,
			&(struct want){ 1, "MONITOR", "MONITOR", "0", "", NULL, NULL, -1, 0, 0, 0,
					100, 100, 200, 200 },
			1);
	assert_int_equal(r->n, 3);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	assert_int_equal(feed_n(p, REQ, "*1\r\n$4\r\nQUIT\r\n", 14, 500), 0);
	assert_int_equal(feed_n(p, RESP, "+OK\r\n", 5, 600), 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	kspan_parser_free(p);
	unload(&fx);
}

/* A pipelined command after MONITOR is reported unanswered when the parser goes quiet. */
static void test_monitor_pipelined(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*1\r\n$7\r\nMONITOR\r\n*1\r\n$4\r\nPING\r\n", 10);
	feed_ok(p, RESP, "+OK\r\n+1700000000.1 [0 127.0.0.1:1] \"PING\"\r\n", 20);
	assert_int_equal(count(r, EXCHANGE), 2);
	assert_int_equal(nth(r, EXCHANGE, 0)->flags, 0);
	assert_int_equal(nth(r, EXCHANGE, 1)->seq, 2);
	assert_int_equal(nth(r, EXCHANGE, 1)->flags, NO_RESP);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	kspan_parser_free(p);
	check_invariants(r);
}

/* ------------------------------------------------------------------ splitting */

/* Exchanges and requests do not depend on how bytes were split into reads (batch aside). */
static void test_split_equivalence(void **state)
{
	struct rec *r = *state;
	static const char *const names[] = {
		"cli_session",	    "pipe",	      "pipe_inline",
		"hiredis_pipeline", "hiredis_multi",  "hiredis_reply_off",
		"pubsub_resp2",	    "c_resp2_pubsub", "psubscribe_resp3",
		"c_resp3",	    "monitor",	      "big_set",
		"big_get",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		static const struct how hows[] = {
			{ .split = 1 },
			{ .split = 7, .random = true },
			{ .split = 300, .random = true },
		};
		char *whole;
		size_t whole_len;

		clear(r);
		run_closed(r, names[i], (struct how){ 0 });
		whole = strndup(r->log, r->log_len);
		whole_len = r->log_len;
		assert_non_null(whole);
		for (size_t k = 0; k < sizeof(hows) / sizeof(hows[0]); k++) {
			/* byte-at-a-time over 174 KB of COMMAND DOCS is slow under ASan: skip it */
			if (!strcmp(names[i], "cli_session") && hows[k].split == 1)
				continue;
			clear(r);
			run_closed(r, names[i], hows[k]);
			if (r->log_len != whole_len || memcmp(r->log, whole, whole_len))
				fail_msg("%s split %zu: events differ:\n%.*s\nvs\n%s", names[i],
					 hows[k].split, (int)r->log_len, r->log, whole);
		}
		free(whole);
	}
}

/* Byte-at-a-time gives every command its own read: no batch sizes then. */
static void test_byte_at_a_time_batches(void **state)
{
	struct rec *r = *state;

	run_closed(r, "hiredis_pipeline", (struct how){ .split = 1 });
	assert_int_equal(count(r, EXCHANGE), 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(nth(r, EXCHANGE, i)->batch, 0);
	/* REQUEST right after each command's last byte, so START, REQUEST alternate. */
	for (int i = 0; i < 12; i += 2) {
		assert_int_equal(r->ev[i].type, START);
		assert_int_equal(r->ev[i + 1].type, REQUEST);
	}
}

/* ------------------------------------------------------------------ gaps */

/* A 40000-byte value with only the first bytes of each read captured: framing holds. */
static void test_big_values_with_gaps(void **state)
{
	struct rec *r = *state;
	static const size_t caps[] = { 4096, 512, 40 };
	/* "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$40000\r\n" */
	const size_t head = 30;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const struct ev *e;
		struct fixture fx;
		struct kspan_parser *p;

		clear(r);
		load(&fx, "big_set");
		p = run(r, &fx, (struct how){ .cap = caps[i] });
		assert_int_equal(count(r, EXCHANGE), 1);
		e = nth(r, EXCHANGE, 0);
		assert_string_equal(e->cmd, "SET");
		assert_int_equal(strlen(e->query), 8 + caps[i] - head);
		assert_memory_equal(e->query, "SET big chunk-00000|", 8 + MIN(12, caps[i] - head));
		/* Bytes of the value are missing: the request is incomplete, its text cut. */
		assert_int_equal(e->flags, REQ_INC);
		assert_int_equal(e->dbflags, CUT);
		assert_int_equal(e->req_first, 100);
		assert_int_equal(e->req_last, 100);
		assert_int_equal(e->resp_first, 200);
		assert_int_equal(e->resp_last, 200);
		assert_false(e->error);
		assert_int_equal(kspan_parser_stats(p)->gap_bytes, 40032 - caps[i]);
		kspan_parser_free(p);
		unload(&fx);
		check_invariants(r);

		/* GET: the 40010-byte reply in reads of 1000 bytes, each mostly a gap. */
		clear(r);
		load(&fx, "big_get");
		p = run(r, &fx, (struct how){ .split = 1000, .cap = caps[i] });
		check_exchanges(r,
				&(struct want){ 1, "GET", "GET big", "0", "", NULL, NULL, -1, 0, 0,
						0, 100, 100, 200, 200 },
				1);
		assert_int_equal(kspan_parser_stats(p)->gap_bytes,
				 40 * (1000 - MIN(1000, caps[i])) + 10 - MIN(10, caps[i]));
		kspan_parser_free(p);
		unload(&fx);
		check_invariants(r);
	}

	/* One byte per read: the command header is lost; nothing is reported, nothing breaks. */
	clear(r);
	run_closed(r, "big_set", (struct how){ .cap = 1 });
	assert_int_equal(r->n, 0);
}

/*
 * redis-cli's COMMAND DOCS reply with only 4096 bytes of each 64 KiB read: the nested reply
 * loses its framing, is reported cut, and the next command's reply resyncs.
 */
static void test_nested_reply_with_gaps(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;
	const struct kspan_parser_stats *st;
	struct want w0 = cli_session[0];

	load(&fx, "cli_session");
	p = run(r, &fx, (struct how){ .cap = 4096 });
	w0.flags = RESP_INC;
	w0.rs1 = 200;
	check_exchange(nth(r, EXCHANGE, 0), &w0);
	for (int i = 1; i < 22; i++)
		check_exchange(nth(r, EXCHANGE, i), &cli_session[i]);
	st = kspan_parser_stats(p);
	assert_int_equal(st->resyncs, 1);
	/* The reads after the one that lost framing: skipped whole. */
	assert_int_equal(st->skipped_bytes, 12240 + 65536 + 16320 + 12666);
	assert_int_equal(st->orphan_responses, 0);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/*
 * A pipeline write captured in part: the command cut in its header is kept (its name was
 * read), the ones in the gap are unknown; their replies are skipped until a reply follows a
 * command sent after the loss.
 */
static void test_request_gap_in_pipeline(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	static const char pipeline[] = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
				       "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n"
				       "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n";
	/* Captured: the first command and "*3\r\n$3\r\nSET\r\n$1\r\nb" of the second. */
	size_t cap = 20 + 18;

	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)pipeline, cap,
					   sizeof(pipeline) - 1, 10),
			 0);
	assert_int_equal(count(r, REQUEST), 2);
	assert_int_equal(nth(r, REQUEST, 1)->flags, REQ_INC);
	assert_string_equal(nth(r, REQUEST, 1)->query, "SET b");
	assert_int_equal(nth(r, REQUEST, 1)->dbflags, CUT);
	/* Three replies: GET a, SET b, and GET c (a command never seen). */
	feed_ok(p, RESP, "$1\r\nA\r\n+OK\r\n$1\r\nC\r\n", 20);
	assert_int_equal(count(r, EXCHANGE), 2);
	check_exchange(nth(r, EXCHANGE, 0), &(struct want){ 1, "GET", "GET a", "0", "", NULL, NULL,
							    -1, 2, 0, 0, 10, 10, 20, 20 });
	check_exchange(nth(r, EXCHANGE, 1), &(struct want){ 2, "SET", "SET b", "0", "", NULL, NULL,
							    -1, 2, REQ_INC, CUT, 10, 10, 20, 20 });
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	/* The next command is framed again once a read starts with one. */
	feed_ok(p, REQ, "*1\r\n$4\r\nPING\r\n", 30);
	feed_ok(p, RESP, "+PONG\r\n", 40);
	check_exchange(nth(r, EXCHANGE, 2), &(struct want){ 3, "PING", "PING", "0", "", NULL, NULL,
							    -1, 0, 0, 0, 30, 30, 40, 40 });
	assert_int_equal(kspan_parser_stats(p)->resyncs, 2);
	kspan_parser_free(p);
	check_invariants(r);
}

/* A gap at a reply boundary: replies owed before it are reported unanswered at the resync. */
static void test_reply_gap_at_boundary(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 10);
	/* The first reply captured, the other two in the gap. */
	assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)"+PONG\r\n+PONG\r\n+PONG\r\n",
					   7, 21, 20),
			 0);
	assert_int_equal(count(r, EXCHANGE), 1);
	/* Bytes that are not a reply start while nothing new waits: skipped. */
	feed_ok(p, RESP, "+PONG\r\n", 30);
	assert_int_equal(count(r, EXCHANGE), 1);
	feed_ok(p, REQ, "*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", 40);
	feed_ok(p, RESP, "$1\r\nx\r\n", 50);
	assert_int_equal(count(r, EXCHANGE), 4);
	assert_int_equal(nth(r, EXCHANGE, 1)->seq, 2);
	assert_int_equal(nth(r, EXCHANGE, 1)->flags, NO_RESP);
	assert_int_equal(nth(r, EXCHANGE, 2)->seq, 3);
	assert_int_equal(nth(r, EXCHANGE, 2)->flags, NO_RESP);
	check_exchange(nth(r, EXCHANGE, 3), &(struct want){ 4, "ECHO", "ECHO x", "0", "", NULL,
							    NULL, -1, 0, 0, 0, 40, 40, 50, 50 });
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 7);
	kspan_parser_free(p);
	check_invariants(r);
}

/* A gap inside a reply's header line: that reply is reported cut, with what was known. */
static void test_reply_gap_in_header(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	static const char reply[] = "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";

	feed_ok(p, REQ, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n", 10);
	assert_int_equal(
		kspan_parser_feed(p, RESP, (const uint8_t *)reply, 13, sizeof(reply) - 1, 20), 0);
	check_exchange(nth(r, EXCHANGE, 0),
		       &(struct want){ 1, "LRANGE", "LRANGE l 0 -1", "0", "", NULL, NULL, 3, 0,
				       RESP_INC, 0, 10, 10, 20, 20 });
	kspan_parser_free(p);
	check_invariants(r);
}

/* A gap inside the command name: framing holds, the name is unknown. */
static void test_gap_in_name(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	static const char cmd[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";

	/* Captured "*2\r\n$3\r\nG"; the rest of the name, its CR LF and "$1\r\nk\r\n" lost. */
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)cmd, 9, sizeof(cmd) - 1, 1), 0);
	feed_ok(p, RESP, "$1\r\nv\r\n", 2);
	check_exchanges(r,
			&(struct want){ 1, "", "G", "0", "", NULL, NULL, -1, 0, REQ_INC,
					CUT | KSPAN_DB_F_TEXT_UNKNOWN, 1, 1, 2, 2 },
			1);
	kspan_parser_free(p);
	check_invariants(r);
}

/* ------------------------------------------------------------------ mid-stream */

/* Started in the middle of redis-cli's session (inside the COMMAND DOCS reply). */
static void test_midstream_cli_session(void **state)
{
	struct rec *r = *state;
	struct fixture fx;
	struct kspan_parser *p;

	load(&fx, "cli_session");
	/* Chunk 2 is the second read of the COMMAND DOCS reply. */
	p = run(r, &fx, (struct how){ .from = 2, .flags = KSPAN_PARSER_MIDSTREAM });
	assert_int_equal(count(r, EXCHANGE), 21);
	for (int i = 1; i < 22; i++) {
		struct want w = cli_session[i];

		w.seq = i;
		/* A session first seen mid-stream has no namespace until SELECT. */
		if (i < 12)
			w.ns = "";
		check_exchange(nth(r, EXCHANGE, i - 1), &w);
	}
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	assert_int_equal(kspan_parser_stats(p)->resyncs, 2);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 12240 + 65536 + 16320 + 12666);
	kspan_parser_free(p);
	unload(&fx);
	check_invariants(r);
}

/* Mid-stream start inside a command: its rest is skipped; replies wait for a command. */
static void test_midstream_inside_command(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);

	feed_ok(p, RESP, "+OK\r\n", 5);
	feed_ok(p, REQ, "$5\r\nvalue\r\n", 10);
	feed_ok(p, RESP, "+OK\r\n", 20);
	assert_int_equal(r->n, 0);
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 30);
	feed_ok(p, RESP, "$1\r\nv\r\n", 40);
	check_exchanges(r,
			&(struct want){ 1, "GET", "GET k", "", "", NULL, NULL, -1, 0, 0, 0, 30, 30,
					40, 40 },
			1);
	assert_int_equal(kspan_parser_stats(p)->skipped_bytes, 5 + 11 + 5);
	kspan_parser_free(p);
	check_invariants(r);
}

/* A RESP2 subscriber first seen mid-stream: messages are not replies to its PING. */
static void test_midstream_subscriber(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);

	feed_ok(p, RESP, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n", 10);
	feed_ok(p, REQ, "*1\r\n$4\r\nPING\r\n", 20);
	feed_ok(p, RESP, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm2\r\n", 30);
	assert_int_equal(count(r, EXCHANGE), 0);
	feed_ok(p, RESP, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", 40);
	check_exchanges(r,
			&(struct want){ 1, "PING", "PING", "", "", NULL, NULL, 2, 0, 0, 0, 20, 20,
					40, 40 },
			1);
	kspan_parser_free(p);
	check_invariants(r);
}

/* A guess that was wrong (a value that looked like a command) is dropped, not fatal. */
static void test_midstream_bad_guess(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);

	/* Starts like a command array, then is not one. */
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n:1\r\n", 10);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	assert_int_equal(count(r, START), 1);
	assert_int_equal(count(r, REQUEST), 0);
	feed_ok(p, REQ, "*1\r\n$4\r\nPING\r\n", 20);
	feed_ok(p, RESP, "+PONG\r\n", 30);
	assert_int_equal(count(r, EXCHANGE), 1);
	assert_int_equal(nth(r, EXCHANGE, 0)->seq, 2);
	kspan_parser_free(p);
	check_invariants(r);
}

/* ------------------------------------------------------------------ reply types */

#define PING "*1\r\n$4\r\nPING\r\n"

/* Feeds s whole, or byte-at-a-time, at ts. */
static void feed_mode(struct kspan_parser *p, enum kspan_msg_dir dir, const char *s, uint64_t ts,
		      bool bytes)
{
	size_t n = strlen(s);

	if (!bytes) {
		assert_int_equal(feed_n(p, dir, s, n, ts), 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed_n(p, dir, s + i, 1, ts), 0);
}

/* Every reply type, including RESP3 forms Redis 7.0 never sends (streamed, blob errors). */
static void test_reply_types(void **state)
{
	struct rec *r = *state;
	static const struct {
		const char *reply;
		int64_t rows;
		const char *code, *msg;
	} cases[] = {
		{ "+OK\r\n", -1, NULL, NULL },
		{ ":-42\r\n", -1, NULL, NULL },
		{ "$0\r\n\r\n", -1, NULL, NULL },
		{ "$-1\r\n", 0, NULL, NULL },
		{ "*-1\r\n", 0, NULL, NULL },
		{ "*0\r\n", 0, NULL, NULL },
		{ "_\r\n", 0, NULL, NULL },
		{ "%0\r\n", 0, NULL, NULL },
		{ "$4\r\na\r\nb\r\n", -1, NULL, NULL }, /* a payload may hold CR LF */
		{ ",inf\r\n", -1, NULL, NULL },
		{ ",-nan\r\n", -1, NULL, NULL },
		{ ",1.5e+10\r\n", -1, NULL, NULL },
		{ "#f\r\n", -1, NULL, NULL },
		{ "(-3492890328409238509324850943850943825024385\r\n", -1, NULL, NULL },
		{ "=15\r\ntxt:Some string\r\n", -1, NULL, NULL },
		{ "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n", -1, NULL, NULL },
		{ "*?\r\n:1\r\n:2\r\n:3\r\n.\r\n", 3, NULL, NULL },
		{ "%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n", 2, NULL, NULL },
		{ "~?\r\n*?\r\n:1\r\n.\r\n$?\r\n;1\r\nx\r\n;0\r\n~0\r\n.\r\n", 3, NULL, NULL },
		{ "*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n", 3, NULL, NULL },
		{ "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n:2\r\n", 2, NULL,
		  NULL },
		{ "%2\r\n*1\r\n:1\r\n%1\r\n+k\r\n~1\r\n#t\r\n_\r\n>1\r\n+x\r\n", 2, NULL, NULL },
		{ "-WRONGTYPE Operation against a key\r\n", -1, "WRONGTYPE",
		  "Operation against a key" },
		{ "-ERR\r\n", -1, "ERR", "" },
		{ "-just words here\r\n", -1, "", "just words here" },
		{ "!21\r\nSYNTAX invalid syntax\r\n", -1, "SYNTAX", "invalid syntax" },
		{ "|1\r\n+a\r\n:1\r\n-NOAUTH Authentication required.\r\n", -1, "NOAUTH",
		  "Authentication required." },
		/* An error inside an array is not the reply's error. */
		{ "*1\r\n-ERR inner\r\n", 1, NULL, NULL },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);

	for (int mode = 0; mode < 2; mode++) {
		struct kspan_parser *p = new_parser(r, 0);

		clear(r);
		for (size_t i = 0; i < n; i++) {
			feed_ok(p, REQ, PING, 10 * i + 1);
			feed_mode(p, RESP, cases[i].reply, 10 * i + 2, mode);
			assert_int_equal(count(r, EXCHANGE), i + 1);
			check_exchange(nth(r, EXCHANGE, i),
				       &(struct want){ i + 1, "PING", "PING", "0", "",
						       cases[i].code, cases[i].msg, cases[i].rows,
						       0, 0, 0, 10 * i + 1, 10 * i + 1, 10 * i + 2,
						       10 * i + 2 });
		}
		assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
		kspan_parser_free(p);
		check_invariants(r);
	}
}

/* A long error is kept up to KSPAN_RESP_ERROR_MAX bytes. */
static void test_long_error(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	char *reply = malloc(2000);

	assert_non_null(reply);
	strcpy(reply, "-ERR ");
	memset(reply + 5, 'x', 1500);
	strcpy(reply + 1505, "\r\n");
	feed_ok(p, REQ, PING, 1);
	feed_ok(p, RESP, reply, 2);
	assert_string_equal(nth(r, EXCHANGE, 0)->code, "ERR");
	assert_int_equal(strlen(nth(r, EXCHANGE, 0)->msg), KSPAN_RESP_ERROR_MAX - 4);
	free(reply);
	kspan_parser_free(p);
}

/* Nesting: KSPAN_RESP_DEPTH_MAX levels are framed, one more loses the connection. */
static void test_nesting(void **state)
{
	struct rec *r = *state;

	for (int extra = 0; extra < 2; extra++) {
		struct kspan_parser *p = new_parser(r, 0);
		int depth = KSPAN_RESP_DEPTH_MAX + extra;

		clear(r);
		feed_ok(p, REQ, PING, 1);
		for (int i = 0; i < depth; i++)
			assert_int_equal(feed_n(p, RESP, i % 2 ? "%1\r\n:0\r\n" : "*1\r\n",
						i % 2 ? 8 : 4, 2),
					 extra && i == depth - 1 ? -EBADMSG : 0);
		if (!extra) {
			feed_ok(p, RESP, ":1\r\n", 3);
			check_exchanges(r,
					&(struct want){ 1, "PING", "PING", "0", "", NULL, NULL, 1,
							0, 0, 0, 1, 1, 2, 3 },
					1);
		} else {
			assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
			assert_int_equal(count(r, EXCHANGE), 0);
		}
		kspan_parser_free(p);
	}
}

/* ------------------------------------------------------------------ commands */

/* Credentials are replaced by "?" and never reach an event, in one read or byte by byte. */
static void test_credentials(void **state)
{
	struct rec *r = *state;
	static const struct {
		const char *cmd, *query, *name, *user;
	} cases[] = {
		{ "*2\r\n$4\r\nAUTH\r\n$12\r\nthrowaway-pw\r\n", "AUTH ?", "AUTH", "default" },
		{ "*3\r\n$4\r\nauth\r\n$3\r\nbob\r\n$12\r\nthrowaway-pw\r\n", "auth ? ?", "AUTH",
		  "bob" },
		{ "*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nauth\r\n$5\r\nalice\r\n$12\r\nthrowaway-pw\r\n"
		  "$7\r\nSETNAME\r\n$1\r\nc\r\n",
		  "HELLO 3 auth ? ? SETNAME c", "HELLO", "alice" },
		{ "*11\r\n$7\r\nMIGRATE\r\n$1\r\nh\r\n$4\r\n6379\r\n$0\r\n\r\n$1\r\n0\r\n$4\r\n5000\r\n"
		  "$4\r\nAUTH\r\n$12\r\nthrowaway-pw\r\n$4\r\nKEYS\r\n$1\r\na\r\n$1\r\nb\r\n",
		  "MIGRATE h 6379  0 5000 AUTH ? KEYS a b", "MIGRATE", "alice" },
		{ "*11\r\n$7\r\nMIGRATE\r\n$1\r\nh\r\n$4\r\n6379\r\n$0\r\n\r\n$1\r\n0\r\n$4\r\n5000\r\n"
		  "$5\r\nAUTH2\r\n$3\r\nbob\r\n$12\r\nthrowaway-pw\r\n$4\r\nKEYS\r\n$1\r\na\r\n",
		  "MIGRATE h 6379  0 5000 AUTH2 ? ? KEYS a", "MIGRATE", "alice" },
		{ "*8\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$12\r\nthrowaway-pw\r\n"
		  "$9\r\nmaxmemory\r\n$4\r\n10mb\r\n$10\r\nmasterauth\r\n$12\r\nthrowaway-pw\r\n",
		  "CONFIG SET requirepass ? maxmemory 10mb masterauth ?", "CONFIG SET", "alice" },
		{ "*7\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$3\r\nbob\r\n$2\r\non\r\n$13\r\n>throwaway-pw\r\n"
		  "$2\r\n~*\r\n$5\r\n+@all\r\n",
		  "ACL SETUSER bob ? ? ? ?", "ACL SETUSER", "alice" },
		{ "*5\r\n$8\r\nSENTINEL\r\n$3\r\nSET\r\n$8\r\nmymaster\r\n$9\r\nauth-pass\r\n"
		  "$12\r\nthrowaway-pw\r\n",
		  "SENTINEL SET mymaster auth-pass ?", "SENTINEL SET", "alice" },
		{ "*5\r\n$8\r\nSENTINEL\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$13\r\nsentinel-pass\r\n"
		  "$12\r\nthrowaway-pw\r\n",
		  "SENTINEL CONFIG SET sentinel-pass ?", "SENTINEL CONFIG", "alice" },
		{ "AUTH throwaway-pw\r\n", "AUTH ?", "AUTH", "alice" },
		{ "HELLO 3 AUTH carol \"throwaway-pw\"\r\n", "HELLO 3 AUTH ? ?", "HELLO", "carol" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);

	for (int mode = 0; mode < 2; mode++) {
		struct kspan_parser *p = new_parser(r, 0);

		clear(r);
		for (size_t i = 0; i < n; i++) {
			const struct ev *e;

			feed_mode(p, REQ, cases[i].cmd, 10 * i + 1, mode);
			feed_ok(p, RESP, "+OK\r\n", 10 * i + 2);
			e = nth(r, EXCHANGE, i);
			assert_string_equal(e->query, cases[i].query);
			assert_string_equal(e->cmd, cases[i].name);
			assert_string_equal(e->user, cases[i].user);
		}
		kspan_parser_free(p);
		check_invariants(r); /* no event held the password */
	}
}

/* SELECT and AUTH change what later commands run under, and revert when refused. */
static void test_namespace_and_user(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n", 1);
	feed_ok(p, RESP, "+OK\r\n", 2);
	feed_ok(p, REQ, "*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n", 3);
	feed_ok(p, RESP, "-ERR DB index is out of range\r\n", 4);
	feed_ok(p, REQ, "*2\r\n$6\r\nSELECT\r\n$3\r\nabc\r\n", 5);
	feed_ok(p, RESP, "-ERR value is not an integer or out of range\r\n", 6);
	feed_ok(p, REQ, "*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$2\r\npw\r\n", 7);
	feed_ok(p, RESP, "+OK\r\n", 8);
	feed_ok(p, REQ, "*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$5\r\nwrong\r\n", 9);
	feed_ok(p, RESP, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", 10);
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 11);
	feed_ok(p, RESP, "$-1\r\n", 12);
	feed_ok(p, REQ, "*1\r\n$5\r\nRESET\r\n", 13);
	feed_ok(p, RESP, "+RESET\r\n", 14);
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 15);
	feed_ok(p, RESP, "$-1\r\n", 16);
	{
		static const struct want w[] = {
			{ 1, "SELECT", "SELECT 5", "5", "", NULL, NULL, -1, 0, 0, 0, 1, 1, 2, 2 },
			{ 2, "SELECT", "SELECT 99", "99", "", "ERR", "DB index is out of range", -1,
			  0, 0, 0, 3, 3, 4, 4 },
			{ 3, "SELECT", "SELECT abc", "5", "", "ERR", ERR_INT, -1, 0, 0, 0, 5, 5, 6,
			  6 },
			{ 4, "AUTH", "AUTH ? ?", "5", "app", NULL, NULL, -1, 0, 0, 0, 7, 7, 8, 8 },
			{ 5, "AUTH", "AUTH ? ?", "5", "bob", "WRONGPASS",
			  "invalid username-password pair or user is disabled.", -1, 0, 0, 0, 9, 9,
			  10, 10 },
			{ 6, "GET", "GET k", "5", "app", NULL, NULL, 0, 0, 0, 0, 11, 11, 12, 12 },
			{ 7, "RESET", "RESET", "0", "default", NULL, NULL, -1, 0, 0, 0, 13, 13, 14,
			  14 },
			{ 8, "GET", "GET k", "0", "default", NULL, NULL, 0, 0, 0, 0, 15, 15, 16,
			  16 },
		};

		check_exchanges(r, w, 8);
	}
	kspan_parser_free(p);
	check_invariants(r);
}

/* Inline commands: quotes and escapes as Redis splits them, blank lines, mixed with arrays. */
static void test_inline(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ,
		"SET \"a b\" 'c\\'d' \"\\x41\\x4g\\t\"\r\n"
		"\r\n  \r\n"
		"*2\r\n$3\r\nGET\r\n$3\r\na b\r\n"
		"ping\n"
		"client  setname   x\r\n",
		1);
	feed_ok(p, RESP, "+OK\r\n$3\r\nc'd\r\n+PONG\r\n+OK\r\n", 2);
	{
		static const struct want w[] = {
			{ 1, "SET", "SET a b c'd Ax4g\t", "0", "", NULL, NULL, -1, 4, 0, 0, 1, 1, 2,
			  2 },
			{ 2, "GET", "GET a b", "0", "", NULL, NULL, -1, 4, 0, 0, 1, 1, 2, 2 },
			{ 3, "PING", "ping", "0", "", NULL, NULL, -1, 4, 0, 0, 1, 1, 2, 2 },
			{ 4, "CLIENT SETNAME", "client setname x", "0", "", NULL, NULL, -1, 4, 0, 0,
			  1, 1, 2, 2 },
		};

		check_exchanges(r, w, 4);
	}
	/* An inline line split anywhere, and an unbalanced quote (Redis refuses the line). */
	clear(r);
	feed_mode(p, REQ, "ECHO \"x y\"\r\nGET \"abc\r\n", 3, true);
	feed_ok(p, RESP, "$3\r\nx y\r\n-ERR Protocol error: unbalanced quotes in request\r\n", 4);
	assert_string_equal(nth(r, EXCHANGE, 0)->query, "ECHO x y");
	assert_string_equal(nth(r, EXCHANGE, 1)->cmd, "GET");
	assert_true(nth(r, EXCHANGE, 1)->error);
	kspan_parser_free(p);
	check_invariants(r);
}

/* Arrays Redis ignores, odd names, long arguments. */
static void test_command_shapes(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);
	char *big = malloc(6000);
	const struct ev *e;

	assert_non_null(big);
	feed_ok(p, REQ, "*0\r\n*-1\r\n", 1);
	assert_int_equal(r->n, 0);
	/* A name longer than kept, a binary name, a container without subcommand. */
	feed_ok(p, REQ,
		"*1\r\n$40\r\nabcdefghijabcdefghijabcdefghijabcdefghij\r\n"
		"*2\r\n$2\r\n\x01z\r\n$1\r\na\r\n"
		"*1\r\n$7\r\ncommand\r\n"
		"*2\r\n$6\r\nCONFIG\r\n$3\r\na b\r\n",
		2);
	assert_string_equal(nth(r, REQUEST, 0)->cmd, "ABCDEFGHIJABCDEFGHIJABCDEFGHIJA");
	assert_string_equal(nth(r, REQUEST, 0)->query, "abcdefghijabcdefghijabcdefghijabcdefghij");
	assert_string_equal(nth(r, REQUEST, 1)->cmd, "?Z");
	assert_string_equal(nth(r, REQUEST, 2)->cmd, "COMMAND");
	assert_string_equal(nth(r, REQUEST, 3)->cmd, "CONFIG");
	/* A 5000-byte value: the text is cut at KSPAN_DB_QUERY_MAX. */
	clear(r);
	strcpy(big, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n");
	memset(big + 27, 'v', 5000);
	strcpy(big + 5027, "\r\n");
	feed_ok(p, REQ, big, 3);
	e = nth(r, REQUEST, 0);
	assert_int_equal(strlen(e->query), KSPAN_DB_QUERY_MAX);
	assert_int_equal(e->dbflags, CUT);
	assert_int_equal(e->flags, 0);
	assert_int_equal(kspan_parser_stats(p)->lines_truncated, 1);
	free(big);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ connection modes */

/* Subscriptions: one confirmation per channel, across reads, a command pipelined after. */
static void test_subscribe_confirmations(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*4\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n" PING, 1);
	feed_ok(p, RESP, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 2);
	feed_ok(p, RESP,
		"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n",
		3);
	assert_int_equal(count(r, EXCHANGE), 0);
	feed_ok(p, RESP, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:3\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
		4);
	/* Shard channels count apart; SUNSUBSCRIBE without arguments drops both. */
	feed_ok(p, REQ,
		"*3\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n$1\r\nt\r\n*1\r\n$12\r\nSUNSUBSCRIBE\r\n",
		5);
	feed_ok(p, RESP,
		"*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$1\r\nt\r\n:2\r\n"
		"*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:1\r\n",
		6);
	assert_int_equal(count(r, EXCHANGE), 3);
	feed_ok(p, RESP, "*3\r\n$12\r\nsunsubscribe\r\n$1\r\nt\r\n:0\r\n", 7);
	/* Channels a b c remain: UNSUBSCRIBE with two of them, then one without (drops c). */
	feed_ok(p, REQ,
		"*3\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$11\r\nUNSUBSCRIBE\r\n",
		8);
	feed_ok(p, RESP,
		"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"
		"*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n",
		9);
	/* Not subscribed now: an array that looks like a message is a reply. */
	feed_ok(p, REQ, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n", 10);
	feed_ok(p, RESP, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n", 11);
	{
		static const struct want w[] = {
			{ 1, "SUBSCRIBE", "SUBSCRIBE a b c", "0", "", NULL, NULL, -1, 2, 0, 0, 1, 1,
			  2, 4 },
			{ 2, "PING", "PING", "0", "", NULL, NULL, 2, 2, 0, 0, 1, 1, 4, 4 },
			{ 3, "SSUBSCRIBE", "SSUBSCRIBE s t", "0", "", NULL, NULL, -1, 2, 0, 0, 5, 5,
			  6, 6 },
			{ 4, "SUNSUBSCRIBE", "SUNSUBSCRIBE", "0", "", NULL, NULL, -1, 2, 0, 0, 5, 5,
			  6, 7 },
			{ 5, "UNSUBSCRIBE", "UNSUBSCRIBE a b", "0", "", NULL, NULL, -1, 2, 0, 0, 8,
			  8, 9, 9 },
			{ 6, "UNSUBSCRIBE", "UNSUBSCRIBE", "0", "", NULL, NULL, -1, 2, 0, 0, 8, 8,
			  9, 9 },
			{ 7, "LRANGE", "LRANGE l 0 -1", "0", "", NULL, NULL, 3, 0, 0, 0, 10, 10, 11,
			  11 },
		};

		check_exchanges(r, w, 7);
	}
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	kspan_parser_free(p);
	check_invariants(r);
}

/* After HELLO 3 a reply array is never a push, even while subscribed. */
static void test_resp3_arrays_are_replies(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", 1);
	feed_ok(p, RESP, "%1\r\n$5\r\nproto\r\n:3\r\n", 2);
	feed_ok(p, REQ, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n", 3);
	feed_ok(p, RESP,
		">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
		"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n",
		4);
	assert_int_equal(count(r, EXCHANGE), 3);
	assert_int_equal(nth(r, EXCHANGE, 1)->rows, -1);
	check_exchange(nth(r, EXCHANGE, 2), &(struct want){ 3, "LRANGE", "LRANGE l", "0", "", NULL,
							    NULL, 3, 2, 0, 0, 3, 3, 4, 4 });
	/* HELLO 2 goes back to RESP2: the same array is then a pushed message. */
	feed_ok(p, REQ, "*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n", 5);
	feed_ok(p, RESP, "*2\r\n$5\r\nproto\r\n:2\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n",
		6);
	assert_int_equal(count(r, EXCHANGE), 4);
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 0);
	kspan_parser_free(p);
	check_invariants(r);
}

/* A transaction pipelined whole, and one left open at the close. */
static void test_transactions(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n",
		1);
	feed_ok(p, RESP, "+OK\r\n+QUEUED\r\n", 2);
	feed_ok(p, RESP, "*1\r\n:1", 3);
	feed_ok(p, RESP, "\r\n", 4);
	{
		static const struct want w[] = {
			{ 1, "MULTI", "MULTI", "0", "", NULL, NULL, -1, 3, 0, 0, 1, 1, 2, 2 },
			/* One queued command: no transaction batch, the pipeline's stays. */
			{ 2, "INCR", "INCR n", "0", "", NULL, NULL, -1, 3, 0, 0, 1, 1, 3, 4 },
			{ 3, "EXEC", "EXEC", "0", "", NULL, NULL, 1, 3, 0, 0, 1, 1, 3, 4 },
		};

		check_exchanges(r, w, 3);
	}
	clear(r);
	feed_ok(p, REQ, "*1\r\n$5\r\nMULTI\r\n", 5);
	feed_ok(p, RESP, "+OK\r\n", 6);
	feed_ok(p, REQ, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", 7);
	feed_ok(p, RESP, "+QUEUED\r\n", 8);
	feed_ok(p, REQ, "*1\r\n$4\r\nEXEC\r\n", 9);
	assert_int_equal(kspan_parser_eof(p, 10), 0);
	{
		static const struct want w[] = {
			{ 4, "MULTI", "MULTI", "0", "", NULL, NULL, -1, 0, 0, 0, 5, 5, 6, 6 },
			{ 5, "INCR", "INCR n", "0", "", NULL, NULL, -1, 0, NO_RESP, 0, 7, 7, 8, 8 },
			{ 6, "EXEC", "EXEC", "0", "", NULL, NULL, -1, 0, NO_RESP, 0, 9, 9, 0, 0 },
		};

		check_exchanges(r, w, 3);
	}
	kspan_parser_free(p);
}

/* SYNC/PSYNC: the replication stream follows; the parser goes quiet at its first byte. */
static void test_replication(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n", 1);
	feed_ok(p, RESP,
		"+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n$88\r\nREDIS0010", 2);
	check_exchanges(r,
			&(struct want){ 1, "PSYNC", "PSYNC ? -1", "0", "", NULL, NULL, -1, 0, 0, 0,
					1, 1, 2, 2 },
			1);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_UPGRADED);
	assert_int_equal(feed_n(p, RESP, "\xff\x00", 2, 3), 0);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ ends, resets, API */

static void test_eof(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, PING "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" PING, 1);
	feed_ok(p, RESP, "+PONG\r\n$5\r\nhel", 2);
	feed_ok(p, REQ, "*2\r\n$3\r\nGET\r\n$1", 3);
	assert_int_equal(kspan_parser_eof(p, 4), 0);
	{
		static const struct want w[] = {
			{ 1, "PING", "PING", "0", "", NULL, NULL, -1, 3, 0, 0, 1, 1, 2, 2 },
			/* Cut by the close: the reply, then the unanswered, then the unsent. */
			{ 2, "GET", "GET k", "0", "", NULL, NULL, -1, 3, RESP_INC, 0, 1, 1, 2, 2 },
			{ 3, "PING", "PING", "0", "", NULL, NULL, -1, 3, NO_RESP, 0, 1, 1, 0, 0 },
			{ 4, "GET", "GET", "0", "", NULL, NULL, -1, 0, REQ_INC | NO_RESP, 0, 3, 4,
			  0, 0 },
		};

		check_exchanges(r, w, 4);
	}
	assert_int_equal(kspan_parser_stats(p)->unanswered, 2);
	/* After eof the parser starts over: a new connection's first command is seq 5. */
	clear(r);
	feed_ok(p, REQ, PING, 5);
	assert_int_equal(nth(r, START, 0)->seq, 5);
	kspan_parser_free(p);
}

static void test_orphan_reply(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, RESP, "-ERR nothing asked\r\n", 1);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->ev[0].type, EXCHANGE);
	assert_int_equal(r->ev[0].flags, KSPAN_PEF_NO_REQUEST);
	assert_int_equal(r->ev[0].seq, 0);
	assert_string_equal(r->ev[0].cmd, "");
	assert_string_equal(r->ev[0].code, "ERR");
	assert_int_equal(kspan_parser_stats(p)->orphan_responses, 1);
	kspan_parser_free(p);
}

static void test_reset(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, 0);

	feed_ok(p, REQ, PING PING, 1);
	kspan_parser_reset(p, KSPAN_PARSER_MIDSTREAM);
	assert_int_equal(count(r, EXCHANGE), 0);
	feed_ok(p, RESP, "+PONG\r\n", 2);
	feed_ok(p, REQ, PING, 3);
	feed_ok(p, RESP, "+PONG\r\n", 4);
	check_exchange(nth(r, EXCHANGE, 0), &(struct want){ 3, "PING", "PING", "", "", NULL, NULL,
							    -1, 0, 0, 0, 3, 3, 4, 4 });
	assert_int_equal(count(r, EXCHANGE), 1);
	kspan_parser_free(p);
}

static void test_api(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p;

	errno = 0;
	assert_null(kspan_parser_new(&kspan_resp_parser_ops, on_event, r, 0x80));
	assert_int_equal(errno, EINVAL);
	kspan_parser_free(NULL);
	p = new_parser(r, 0);
	assert_int_equal(kspan_parser_feed(p, 7, (const uint8_t *)"x", 1, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, (const uint8_t *)"x", 2, 1, 1), -EINVAL);
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 1, 1, 1), -EINVAL);
	/* A read with nothing captured is a gap; at a message boundary it loses the place. */
	assert_int_equal(kspan_parser_feed(p, REQ, NULL, 0, 10, 1), 0);
	assert_int_equal(kspan_parser_stats(p)->gap_bytes, 10);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_ACTIVE);
	/* No callback: parsing goes on silently. */
	kspan_parser_free(p);
	p = kspan_parser_new(&kspan_resp_parser_ops, NULL, NULL, 0);
	assert_non_null(p);
	feed_ok(p, REQ, PING, 1);
	feed_ok(p, RESP, "+PONG\r\n", 2);
	assert_int_equal(kspan_parser_stats(p)->exchanges, 1);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ caps and hostile input */

/* Counts events, for runs with more of them than the recorder holds. */
struct tally {
	int starts, reqs, exch;
	uint64_t last_seq;
	uint32_t last_flags;
	char last_query[64];
	uint16_t query_len[256]; /* per seq: REQUEST query length */
	uint32_t dbflags[256];
};

static void on_tally(void *ctx, const struct kspan_parser_event *ev)
{
	struct tally *t = ctx;
	const struct kspan_db_exchange *x = ev->detail;

	if (ev->type == START) {
		t->starts++;
		return;
	}
	if (ev->type == REQUEST) {
		t->reqs++;
		if (ev->req_seq < 256) {
			t->query_len[ev->req_seq] = x->query.len;
			t->dbflags[ev->req_seq] = x->flags;
		}
		return;
	}
	t->exch++;
	t->last_seq = ev->req_seq;
	t->last_flags = ev->flags;
	snprintf(t->last_query, sizeof(t->last_query), "%.*s", (int)MIN(x->query.len, 63),
		 x->query.ptr);
}

/* Past KSPAN_RESP_PENDING_MAX waiting commands, more are framed but not reported. */
static void test_pending_cap(void **state)
{
	const int n = KSPAN_RESP_PENDING_MAX + 76;
	char *cmds = malloc(n * 14), *replies = malloc(n * 7);
	struct tally t = { 0 };
	struct kspan_parser *p = kspan_parser_new(&kspan_resp_parser_ops, on_tally, &t, 0);
	const struct kspan_parser_stats *st;

	(void)state;
	assert_non_null(p);
	assert_non_null(cmds);
	assert_non_null(replies);
	st = kspan_parser_stats(p);
	for (int i = 0; i < n; i++) {
		memcpy(cmds + 14 * i, PING, 14);
		memcpy(replies + 7 * i, "+PONG\r\n", 7);
	}
	assert_int_equal(feed_n(p, REQ, cmds, 14 * n, 1), 0);
	assert_int_equal(t.starts, KSPAN_RESP_PENDING_MAX);
	assert_int_equal(t.reqs, KSPAN_RESP_PENDING_MAX);
	assert_int_equal(st->requests, KSPAN_RESP_PENDING_MAX);
	assert_int_equal(st->fields_dropped, 76);
	/* 1000 replies; then a command that is tracked again (24 tracked ones still wait). */
	assert_int_equal(feed_n(p, RESP, replies, 7 * 1000, 2), 0);
	assert_int_equal(t.exch, 1000);
	feed_ok(p, REQ, "*2\r\n$4\r\nECHO\r\n$4\r\nlast\r\n", 3);
	assert_int_equal(t.starts, KSPAN_RESP_PENDING_MAX + 1);
	/* 24 replies for tracked PINGs, 76 for untracked ones (skipped), then ECHO's. */
	assert_int_equal(feed_n(p, RESP, replies, 7 * 100, 4), 0);
	assert_int_equal(t.exch, KSPAN_RESP_PENDING_MAX);
	assert_int_equal(t.last_seq, KSPAN_RESP_PENDING_MAX);
	feed_ok(p, RESP, "$4\r\nlast\r\n", 5);
	assert_int_equal(t.exch, KSPAN_RESP_PENDING_MAX + 1);
	assert_int_equal(t.last_seq, KSPAN_RESP_PENDING_MAX + 1);
	assert_int_equal(t.last_flags, 0);
	assert_string_equal(t.last_query, "ECHO last");
	assert_int_equal(st->orphan_responses, 0);
	kspan_parser_free(p);
	free(cmds);
	free(replies);
}

/*
 * CLIENT REPLY OFF: commands that get no reply do not count against the cap, and a read of
 * very many of them is reported in parts of KSPAN_RESP_PENDING_MAX.
 */
static void test_reply_off_many(void **state)
{
	const int n = 3000;
	char *cmds = malloc(n * 14);
	struct tally t = { 0 };
	struct kspan_parser *p = kspan_parser_new(&kspan_resp_parser_ops, on_tally, &t, 0);
	const struct kspan_parser_stats *st;

	(void)state;
	assert_non_null(p);
	assert_non_null(cmds);
	st = kspan_parser_stats(p);
	for (int i = 0; i < n; i++)
		memcpy(cmds + 14 * i, PING, 14);
	feed_ok(p, REQ, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n", 1);
	assert_int_equal(feed_n(p, REQ, cmds, 14 * n, 2), 0);
	assert_int_equal(t.reqs, n + 1);
	assert_int_equal(t.exch, n + 1);
	assert_int_equal(t.last_seq, n + 1);
	assert_int_equal(t.last_flags, NO_RESP);
	assert_int_equal(st->fields_dropped, 0);
	feed_ok(p, REQ, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n", 3);
	feed_ok(p, RESP, "+OK\r\n", 4);
	assert_int_equal(t.exch, n + 2);
	assert_int_equal(t.last_flags, 0);
	assert_string_equal(t.last_query, "CLIENT REPLY ON");
	kspan_parser_free(p);
	free(cmds);
}

/* Past KSPAN_RESP_PENDING_TEXT_MAX of held query text, commands keep only their name. */
static void test_pending_text_cap(void **state)
{
	const int n = 100, vlen = 4000;
	const size_t one = 27 + vlen + 2; /* "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000\r\n" + value */
	char *cmds = malloc(n * one);
	struct tally t = { 0 };
	struct kspan_parser *p = kspan_parser_new(&kspan_resp_parser_ops, on_tally, &t, 0);
	const int fit = KSPAN_RESP_PENDING_TEXT_MAX / (vlen + 6);

	(void)state;
	assert_non_null(p);
	assert_non_null(cmds);
	for (int i = 0; i < n; i++) {
		char *c = cmds + i * one;

		memcpy(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000\r\n", 27);
		memset(c + 27, 'v', vlen);
		memcpy(c + 27 + vlen, "\r\n", 2);
	}
	assert_int_equal(feed_n(p, REQ, cmds, n * one, 1), 0);
	assert_int_equal(t.reqs, n);
	for (int seq = 1; seq <= n; seq++) {
		assert_int_equal(t.query_len[seq], seq <= fit ? vlen + 6 : 3);
		assert_int_equal(t.dbflags[seq], seq <= fit ? 0 : CUT);
	}
	kspan_parser_free(p);
	free(cmds);
}

/* Bytes that are not RESP stop the parser (NOT_PROTO); nothing crashes or hangs. */
static void test_not_resp(void **state)
{
	struct rec *r = *state;
	static const struct {
		enum kspan_msg_dir dir;
		const char *bytes;
	} cases[] = {
		{ REQ, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" }, /* TLS ClientHello */
		{ REQ, "*1\r\n:1\r\n" }, /* a command element that is not a bulk string */
		{ REQ, "*1\n$4\r\nPING\r\n" }, /* LF without CR */
		{ REQ, "*x\r\n" },
		{ REQ, "*1\r\n$-5\r\n" },
		{ REQ, "*1\r\n$1099511627777\r\n" },
		{ REQ, "*99999999999999999999\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\n" },
		{ RESP, "+OK\n" },
		{ RESP, "+O\rK\r\n" },
		{ RESP, "$-2\r\n" },
		{ RESP, "%-1\r\n" },
		{ RESP, "*?\r\n:1\r\n;1\r\n" }, /* a chunk outside a streamed string */
		{ RESP, ".\r\n" },
		{ RESP, "*1\r\n.\r\n" }, /* END in a counted array */
		{ RESP, ">?\r\n" },
		{ RESP, "#x\r\n" },
		{ RESP, "_x\r\n" },
		{ RESP, ":12a\r\n" },
		{ RESP, "(1-2\r\n" },
		{ RESP, ",1 2\r\n" },
		{ RESP, "$3\r\nabcX\r\n" }, /* no CR LF after the payload */
		{ RESP, "$?\r\n+x\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kspan_parser *p = new_parser(r, 0);

		clear(r);
		if (cases[i].dir == RESP)
			feed_ok(p, REQ, PING, 1);
		assert_int_equal(feed_n(p, cases[i].dir, cases[i].bytes, strlen(cases[i].bytes), 2),
				 -EPROTONOSUPPORT);
		assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_NOT_PROTO);
		/* Stopped: later bytes are refused, eof reports nothing. */
		assert_int_equal(feed_n(p, REQ, PING, 14, 3), -EPROTONOSUPPORT);
		assert_int_equal(kspan_parser_eof(p, 4), 0);
		assert_int_equal(count(r, EXCHANGE), 0);
		kspan_parser_free(p);
	}
}

/* Lines and inline commands longer than KSPAN_RESP_LINE_MAX; huge counts and lengths. */
static void test_limits(void **state)
{
	struct rec *r = *state;
	size_t n = KSPAN_RESP_LINE_MAX + 10;
	char *s = malloc(n + 1);
	struct kspan_parser *p;

	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	p = new_parser(r, 0);
	assert_int_equal(feed_n(p, REQ, s, n, 1), -EPROTONOSUPPORT);
	kspan_parser_free(p);
	s[0] = '+';
	p = new_parser(r, 0);
	feed_ok(p, REQ, PING, 1);
	assert_int_equal(feed_n(p, RESP, s, n, 2), -EPROTONOSUPPORT);
	kspan_parser_free(p);
	/* A line just under the limit is fine. */
	s[KSPAN_RESP_LINE_MAX - 2] = '\r';
	s[KSPAN_RESP_LINE_MAX - 1] = '\n';
	p = new_parser(r, 0);
	feed_ok(p, REQ, PING, 1);
	assert_int_equal(feed_n(p, RESP, s, KSPAN_RESP_LINE_MAX, 2), 0);
	assert_int_equal(kspan_parser_stats(p)->exchanges, 1);
	kspan_parser_free(p);
	free(s);
	/* An array announcing 2^63-1 elements and a 2^40-byte string: framed, no memory. */
	clear(r);
	p = new_parser(r, 0);
	feed_ok(p, REQ, PING PING, 1);
	feed_ok(p, RESP, "*9223372036854775807\r\n:1\r\n:2\r\n", 2);
	assert_int_equal(kspan_parser_feed(p, RESP, NULL, 0, 1u << 30, 3), 0);
	assert_int_equal(kspan_parser_eof(p, 4), 0);
	assert_int_equal(count(r, EXCHANGE), 2);
	assert_int_equal(nth(r, EXCHANGE, 0)->flags, RESP_INC);
	assert_int_equal(nth(r, EXCHANGE, 0)->rows, INT64_MAX);
	assert_int_equal(nth(r, EXCHANGE, 1)->flags, NO_RESP);
	kspan_parser_free(p);
	clear(r);
	p = new_parser(r, 0);
	feed_ok(p, REQ, PING, 1);
	feed_ok(p, RESP, "$1099511627776\r\n", 2);
	assert_int_equal(kspan_parser_feed(p, RESP, NULL, 0, 1099511627776ull, 3), 0);
	feed_ok(p, RESP, "\r\n", 4);
	assert_int_equal(nth(r, EXCHANGE, 0)->flags, 0);
	assert_int_equal(nth(r, EXCHANGE, 0)->resp_last, 4);
	kspan_parser_free(p);
}

/* Skipping stops at KSPAN_RESP_RESYNC_MAX bytes: the connection is given up. */
static void test_resync_limit(void **state)
{
	struct rec *r = *state;
	struct kspan_parser *p = new_parser(r, KSPAN_PARSER_MIDSTREAM);

	assert_int_equal(
		kspan_parser_feed(p, RESP, (const uint8_t *)"xx", 2, KSPAN_RESP_RESYNC_MAX, 1), 0);
	assert_int_equal(kspan_parser_feed(p, RESP, (const uint8_t *)"xx", 2, 2, 2), -EBADMSG);
	assert_int_equal(kspan_parser_status(p), KSPAN_PARSER_LOST);
	kspan_parser_free(p);
}

/* ------------------------------------------------------------------ detection */

static void test_detect(void **state)
{
	enum kspan_msg_dir dir;
	static const struct {
		const char *s;
		size_t n;
		int conf;
		enum kspan_msg_dir dir;
	} cases[] = {
#define C(lit, conf, dir) { lit, sizeof(lit) - 1, conf, dir }
		C("*1\r\n$4\r\nPING\r\n", 100, REQ),
		C("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 100, REQ),
		C("*2\r\n$6\r\nCLIENT", 100, REQ),
		C("*2\r\n$3\r\n", 90, REQ),
		C("*2\r\n$3", 80, REQ),
		C("*2\r\n", 60, REQ),
		C("*2", 40, REQ),
		C("*2\r\n$5\r\nhe lo\r\n", 70, REQ),
		C("*-1\r\n", 70, RESP),
		C("*0\r\n", 70, RESP),
		C("*2\r\n:1\r\n:2\r\n", 70, RESP),
		C("*?\r\n", 70, RESP),
		C("+OK\r\n", 80, RESP),
		C("-ERR unknown command\r\n", 90, RESP),
		C("-err lower\r\n", 80, RESP),
		C(":1000\r\n", 70, RESP),
		C("$5\r\nhello\r\n", 70, RESP),
		C("$-1\r\n", 70, RESP),
		C("$?\r\n", 70, RESP),
		C("_\r\n", 70, RESP),
		C(",3.14\r\n", 70, RESP),
		C("#t\r\n", 70, RESP),
		C("(12345\r\n", 70, RESP),
		C("%2\r\n", 70, RESP),
		C("~1\r\n", 70, RESP),
		C(">3\r\n", 70, RESP),
		C("|1\r\n", 70, RESP),
		C("!21\r\n", 70, RESP),
		C("=15\r\n", 70, RESP),
		C("+OK", 50, RESP),
		C("PING\r\n", 40, REQ),
		C("ping\n", 40, REQ),
		C("SET k v\r\n", 40, REQ),
		/* Not RESP, or not claimed. */
		C("+", 0, REQ),
		C("PING", 0, REQ),
		C("FOO bar\r\n", 0, REQ),
		C("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, REQ),
		C("GET /", 0, REQ),
		C("GET key\r\n", 0, REQ),
		C("SET /x HTTP/1.1\r\n", 0, REQ),
		C("POST /x HTTP/1.1\r\n", 0, REQ),
		C("HTTP/1.1 200 OK\r\n", 0, REQ),
		C("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, REQ),
		C("\0\0\0\x08\x04\xd2\x16\x2f", 0, REQ), /* PostgreSQL SSLRequest */
		C("\0\0\0\x29\0\x03\0\0user\0app\0", 0, REQ), /* PostgreSQL startup */
		C("Q\0\0\0\x0dSELECT 1\0", 0, REQ), /* PostgreSQL Query */
		C("R\0\0\0\x08\0\0\0\0", 0, REQ), /* PostgreSQL AuthenticationOk */
		C("E\0\0\0\x20SERROR\0", 0, REQ), /* PostgreSQL ErrorResponse */
		C("J\0\0\0\x0a"
		  "5.5.5-10.11.6-MariaDB",
		  0, REQ), /* MySQL greeting */
		C("!\0\0\0\x03SELECT 1 FROM t WHERE a = 42", 0,
		  REQ), /* MySQL COM_QUERY, length 33 */
		C("*\0\0\0\x03", 0, REQ),
		C("+\0\0\0\x03", 0, REQ),
		C("-\0\0\x02\xff\x15\x04", 0, REQ), /* MySQL ERR packet, length 45 */
		C(":\0\0\x01", 0, REQ),
		C("\x16\x03\x01\x02\x00\x01", 0, REQ), /* TLS */
		C("+OK\n", 0, REQ),
		C("$abc\r\n", 0, REQ),
		C("*-2\r\n", 0, REQ),
		C("%?x", 0, REQ),
		C("#x\r\n", 0, REQ),
#undef C
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		dir = 99;
		got = kspan_resp_detect((const uint8_t *)cases[i].s, cases[i].n, &dir);
		if (got != cases[i].conf)
			fail_msg("case %zu \"%s\": %d, want %d", i, cases[i].s, got, cases[i].conf);
		assert_int_equal(dir, cases[i].conf ? cases[i].dir : 99);
		assert_int_equal(kspan_resp_parser_ops.detect((const uint8_t *)cases[i].s,
							      cases[i].n, NULL),
				 cases[i].conf);
	}
	assert_int_equal(kspan_resp_detect(NULL, 5, &dir), 0);
	assert_int_equal(kspan_resp_detect((const uint8_t *)"*", 0, &dir), 0);
	/* HTTP's detector does not claim RESP either. */
	assert_int_equal(kspan_http1_detect((const uint8_t *)"*1\r\n$4\r\nPING\r\n", 14, &dir), 0);
	assert_int_equal(kspan_http1_detect((const uint8_t *)"+OK\r\n", 5, &dir), 0);
	assert_int_equal(kspan_http1_detect((const uint8_t *)"PING\r\n", 6, &dir), 0);
	assert_int_equal(kspan_http1_detect((const uint8_t *)"SET k v\r\n", 9, &dir), 0);
}

/* The first bytes of every recorded stream are detected in their direction. */
static void test_detect_fixtures(void **state)
{
	static const char *const names[] = {
		"cli_session",	 "pipe",	 "pipe_inline",	     "hiredis_pipeline",
		"hiredis_multi", "pubsub_resp2", "psubscribe_resp3", "c_resp3",
		"monitor",	 "big_get",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fixture fx;
		enum kspan_msg_dir dir;

		load(&fx, names[i]);
		for (int k = 0; k < fx.n; k++) {
			int conf = kspan_resp_detect((const uint8_t *)fx.c[k].b, fx.c[k].n, &dir);

			if (fx.c[k].dir == REQ) {
				/* Commands: arrays of bulk strings, or inline lines. */
				assert_true(conf >= 40);
				assert_int_equal(dir, REQ);
			} else if (conf) {
				assert_true(conf >= 70);
				/* A reply that is an array of bulk strings reads as a command. */
				assert_true(dir == RESP || fx.c[k].b[0] == '*');
			}
		}
		unload(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cli_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hiredis_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hiredis_multi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hiredis_reply_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pubsub_resp2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_c_resp2_pubsub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_psubscribe_resp3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_c_resp3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_equivalence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_at_a_time_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_values_with_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_reply_with_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_gap_in_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_gap_at_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_gap_in_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_cli_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_inside_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_subscriber, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream_bad_guess, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace_and_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_confirmations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resp3_arrays_are_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replication, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api, setup, teardown),
		cmocka_unit_test(test_pending_cap),
		cmocka_unit_test(test_pending_text_cap),
		cmocka_unit_test(test_reply_off_many),
		cmocka_unit_test_setup_teardown(test_not_resp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_limit, setup, teardown),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_detect_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
