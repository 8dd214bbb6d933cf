// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the PostgreSQL protocol parser (userspace/proto_pgwire.c).
 *
 * Input: the fixture format of tests/unit/data/pgwire/ (records of one byte,
 * 'S' for server-to-client and anything else for client-to-server, a 4-byte
 * big-endian length, the bytes; a length past the end takes what is left),
 * so the recorded connections are the seed corpus. Three runs over it:
 *   1. each record in one read;
 *   2. records cut into reads of random sizes (PRNG seeded from the input):
 *      the events must be identical to run 1 unless a run had to resync
 *      (resyncing looks at read boundaries, so it may differ);
 *   3. records with capture gaps (len > captured), empty reads, mid-stream
 *      starts, resets and closes: only "no crash, no leak, sane events".
 * Every run checks the interface's promises: REQUEST_START numbers grow by
 * one, each REQUEST follows its REQUEST_START, each EXCHANGE its REQUEST,
 * requests and exchanges come in request order, every string is bounded, and after the
 * close every request has had exactly one EXCHANGE (unless the parser
 * stopped or was reset). Memory stays bounded by design; run with
 * -rss_limit_mb to hold it to that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto_pgwire.h"

#define MAX_SEQS 65536

enum seq_state { SEQ_NONE, SEQ_STARTED, SEQ_REQUESTED, SEQ_DONE, SEQ_FORGIVEN };

struct sink {
	uint64_t hash, events;
	uint64_t first_seq, last_start, last_req, last_xchg;
	size_t used; /* state[0..used) has been written */
	uint8_t state[MAX_SEQS]; /* by seq - first_seq */
};

static void mix(struct sink *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		s->hash ^= b[i];
		s->hash *= 0x100000001b3ull;
	}
}

static void check_str(struct sink *s, struct kspan_str v, size_t cap)
{
	if (!v.ptr || v.len > cap)
		__builtin_trap();
	mix(s, &v.len, sizeof(v.len));
	mix(s, v.ptr, v.len);
}

static uint8_t *seq_state(struct sink *s, uint64_t seq)
{
	if (!s->first_seq)
		s->first_seq = seq;
	if (seq < s->first_seq || seq - s->first_seq >= MAX_SEQS)
		__builtin_trap();
	if (seq - s->first_seq >= s->used)
		s->used = seq - s->first_seq + 1;
	return &s->state[seq - s->first_seq];
}

static void on_event(void *ctx, const struct kspan_parser_event *ev)
{
	struct sink *s = ctx;
	const struct kspan_db_exchange *x = ev->detail;
	uint8_t *st;

	s->events++;
	mix(s, &ev->type, sizeof(ev->type));
	mix(s, &ev->flags, sizeof(ev->flags));
	mix(s, &ev->req_seq, sizeof(uint64_t) * 5);
	if ((ev->req_first_ns && ev->req_last_ns && ev->req_first_ns > ev->req_last_ns) ||
	    (ev->resp_first_ns && ev->resp_last_ns && ev->resp_first_ns > ev->resp_last_ns))
		__builtin_trap();
	if (ev->type == KSPAN_PEV_EXCHANGE && (ev->flags & KSPAN_PEF_NO_REQUEST)) {
		if (ev->req_seq)
			__builtin_trap();
	} else {
		st = seq_state(s, ev->req_seq);
		switch (ev->type) {
		case KSPAN_PEV_REQUEST_START:
			if (x || *st != SEQ_NONE ||
			    (s->last_start && ev->req_seq != s->last_start + 1))
				__builtin_trap();
			s->last_start = ev->req_seq;
			*st = SEQ_STARTED;
			return;
		case KSPAN_PEV_REQUEST:
			if (*st != SEQ_STARTED || ev->req_seq <= s->last_req)
				__builtin_trap();
			s->last_req = ev->req_seq;
			*st = SEQ_REQUESTED;
			break;
		case KSPAN_PEV_EXCHANGE:
			if (*st != SEQ_REQUESTED || ev->req_seq <= s->last_xchg)
				__builtin_trap();
			s->last_xchg = ev->req_seq;
			*st = SEQ_DONE;
			break;
		default:
			__builtin_trap();
		}
	}
	if (!x || strcmp(x->system, "postgresql"))
		__builtin_trap();
	check_str(s, x->query, KSPAN_DB_QUERY_MAX);
	check_str(s, x->command, 0);
	check_str(s, x->db_namespace, KSPAN_PG_IDENT_MAX);
	check_str(s, x->user, KSPAN_PG_IDENT_MAX);
	check_str(s, x->status_code, 7);
	check_str(s, x->error_message, KSPAN_PG_ERROR_MAX);
	if (ev->type == KSPAN_PEV_REQUEST &&
	    (x->error || x->rows != -1 || x->status_code.len || x->error_message.len))
		__builtin_trap();
	if (!x->error && (x->status_code.len || x->error_message.len))
		__builtin_trap();
	if (x->rows < -1)
		__builtin_trap();
	mix(s, &x->error, sizeof(x->error));
	mix(s, &x->rows, sizeof(x->rows));
	mix(s, &x->batch_size, sizeof(x->batch_size));
	mix(s, &x->flags, sizeof(x->flags));
}

/* Requests still open are forgiven (a reset, a stopped parser): they need no EXCHANGE. */
static void forgive(struct sink *s)
{
	for (size_t i = 0; i < s->used; i++)
		if (s->state[i] == SEQ_STARTED || s->state[i] == SEQ_REQUESTED)
			s->state[i] = SEQ_FORGIVEN;
}

/* After the close: every request got its EXCHANGE. */
static void check_closed(const struct sink *s)
{
	for (size_t i = 0; i < s->used; i++)
		if (s->state[i] == SEQ_REQUESTED)
			__builtin_trap();
}

static uint32_t next(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

struct record {
	enum kspan_msg_dir dir;
	const uint8_t *b;
	size_t n;
};

#define MAX_RECORDS 4096

static size_t split_records(const uint8_t *data, size_t size, struct record *r)
{
	size_t n = 0, at = 0;

	while (at < size && n < MAX_RECORDS) {
		size_t len = 0, left;

		r[n].dir = data[at] == 'S' ? KSPAN_MSG_RESPONSE : KSPAN_MSG_REQUEST;
		at++;
		for (int i = 0; i < 4 && at < size; i++)
			len = len << 8 | data[at++];
		left = size - at;
		if (len > left)
			len = left;
		r[n].b = data + at;
		r[n].n = len;
		at += len;
		n++;
	}
	return n;
}

/* Feeds the records in order; max_read 0 means one read each. */
static struct kspan_parser *run_sequential(const struct record *r, size_t nr, struct sink *s,
					   uint32_t seed, size_t max_read)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_pgwire_parser_ops, on_event, s, 0);

	if (!p)
		return NULL;
	for (size_t i = 0; i < nr; i++) {
		size_t off = 0;

		while (off < r[i].n) {
			size_t k = r[i].n - off;
			size_t cut = max_read ? 1 + next(&seed) % max_read : k;

			if (k > cut)
				k = cut;
			kspan_parser_feed(p, r[i].dir, r[i].b + off, k, k, 10 + i);
			off += k;
		}
	}
	if (kspan_parser_status(p) != KSPAN_PARSER_ACTIVE)
		forgive(s);
	kspan_parser_eof(p, 20 + nr);
	check_closed(s);
	return p;
}

static void run_chaos(const struct record *r, size_t nr, uint32_t seed)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct kspan_parser *p;
	uint64_t ts = 1;

	if (!s)
		return;
	p = kspan_parser_new(&kspan_pgwire_parser_ops, on_event, s,
			     seed & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!p) {
		free(s);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		size_t off = 0;

		while (off < r[i].n) {
			size_t left = r[i].n - off;
			size_t k = 1 + next(&seed) % (left < 300 ? left : 300);
			size_t len = k;

			/* Now and then the kernel captured only part of the bytes, or none. */
			switch (next(&seed) % 16) {
			case 0:
				len = k + next(&seed) % 70000;
				break;
			case 1:
				len = k + next(&seed) % 8;
				break;
			case 2:
				kspan_parser_feed(p, r[i].dir, NULL, 0, 1 + next(&seed) % 5000, ts);
				break;
			case 3:
				if (next(&seed) % 8 == 0) {
					kspan_parser_eof(p, ts);
					check_closed(s);
				}
				break;
			case 4:
				if (next(&seed) % 16 == 0) {
					kspan_parser_reset(
						p, next(&seed) & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
					forgive(s);
				}
				break;
			}
			ts += next(&seed) % 3;
			kspan_parser_feed(p, r[i].dir, r[i].b + off, k, len, ts);
			if (kspan_parser_status(p) != KSPAN_PARSER_ACTIVE)
				forgive(s);
			off += k;
		}
	}
	kspan_parser_eof(p, ts);
	check_closed(s);
	kspan_parser_free(p);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record rec[MAX_RECORDS];
	struct sink *one = calloc(1, sizeof(*one)), *split = calloc(1, sizeof(*split));
	struct kspan_parser *a = NULL, *b = NULL;
	uint32_t seed = 2166136261u;
	enum kspan_msg_dir dir;
	size_t nr;

	if (!one || !split)
		goto out;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	nr = split_records(data, size, rec);
	for (size_t i = 0; i < nr; i++)
		kspan_pgwire_detect(rec[i].b, rec[i].n, &dir);
	kspan_pgwire_detect(data, size, &dir);

	a = run_sequential(rec, nr, one, seed, 0);
	b = run_sequential(rec, nr, split, seed, 1 + seed % 61);
	if (a && b && !kspan_parser_stats(a)->resyncs && !kspan_parser_stats(b)->resyncs &&
	    !kspan_parser_stats(a)->skipped_bytes && !kspan_parser_stats(b)->skipped_bytes &&
	    (one->hash != split->hash || one->events != split->events))
		__builtin_trap();
	kspan_parser_free(a);
	kspan_parser_free(b);

	run_chaos(rec, nr, seed);
	run_chaos(rec, nr, seed ^ 0x5bd1e995u);
out:
	free(one);
	free(split);
	return 0;
}
