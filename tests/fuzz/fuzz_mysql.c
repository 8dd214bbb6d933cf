// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the MySQL / MariaDB parser (userspace/proto_mysql.c).
 *
 * Input: a sequence of reads, each a 3-byte header (byte 0: bit 0 the direction, 1 =
 * server to client; bit 1: the read had uncaptured bytes; bytes 1-2: the captured
 * length, little-endian), an optional 3-byte count of uncaptured bytes (when bit 1),
 * then the captured bytes. MySQL's order matters (the server speaks first, replies
 * follow their commands), so the reads keep theirs. Three runs over it:
 *   1. each read in one feed;
 *   2. each read split at random (PRNG seeded from the input): the events must be
 *      identical to run 1 unless a direction had to skip bytes (finding our place again
 *      happens at read starts, so it may differ);
 *   3. the reads re-cut, with extra capture gaps, mid-stream starts, resets and closes:
 *      only "no crash, no leak, sane events".
 * Every event is checked: sane fields, and per request exactly one REQUEST_START, then
 * one REQUEST, then one EXCHANGE; after the close every request has had its EXCHANGE
 * unless the parser had stopped. Memory stays bounded by design; run with
 * -rss_limit_mb to hold it to that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto_mysql.h"

#define MAX_READS 4096
#define MAX_SEQS 8192

struct rd {
	int dir;
	const uint8_t *b;
	size_t n, len;
};

struct sink {
	uint64_t hash;
	uint64_t events;
	uint64_t base; /* requests before this are forgotten (reset) */
	uint64_t last_start;
	uint8_t state[MAX_SEQS]; /* per req_seq: 1 started, 2 requested, 3 exchanged */
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

static void on_event(void *ctx, const struct kspan_parser_event *ev)
{
	struct sink *s = ctx;
	const struct kspan_db_exchange *x = ev->detail;
	uint8_t *st;

	s->events++;
	mix(s, &ev->type, sizeof(ev->type));
	mix(s, &ev->flags, sizeof(ev->flags));
	mix(s, &ev->req_seq, sizeof(ev->req_seq));
	mix(s, &ev->req_first_ns, sizeof(uint64_t) * 4);
	if ((ev->req_first_ns && ev->req_last_ns && ev->req_first_ns > ev->req_last_ns) ||
	    (ev->resp_first_ns && ev->resp_last_ns && ev->resp_first_ns > ev->resp_last_ns))
		__builtin_trap();
	if (!ev->req_seq)
		__builtin_trap();
	/* Past what the sink tracks, only the fields are checked. */
	st = &s->state[ev->req_seq < MAX_SEQS ? ev->req_seq : 0];
	if (ev->req_seq >= MAX_SEQS) {
		*st = ev->type == KSPAN_PEV_REQUEST_START ? 1 :
		      ev->type == KSPAN_PEV_REQUEST	  ? 2 :
							    3;
		if (ev->type == KSPAN_PEV_REQUEST_START) {
			s->last_start = ev->req_seq;
			if (x)
				__builtin_trap();
			return;
		}
	}
	switch (ev->type) {
	case KSPAN_PEV_REQUEST_START:
		if (x || *st || ev->req_seq != s->last_start + 1)
			__builtin_trap();
		s->last_start = ev->req_seq;
		*st = 1;
		return;
	case KSPAN_PEV_REQUEST:
		if (*st != 1 && ev->req_seq > s->base)
			__builtin_trap();
		*st = 2;
		break;
	case KSPAN_PEV_EXCHANGE:
		if (*st != 2 && ev->req_seq > s->base)
			__builtin_trap();
		*st = 3;
		break;
	default:
		__builtin_trap();
	}
	if (!x || !x->system)
		__builtin_trap();
	if (strcmp(x->system, "mysql") && strcmp(x->system, "mariadb"))
		__builtin_trap();
	check_str(s, x->query, KSPAN_DB_QUERY_MAX);
	check_str(s, x->command, 32);
	check_str(s, x->db_namespace, KSPAN_MYSQL_NAMESPACE_MAX);
	check_str(s, x->user, KSPAN_MYSQL_USER_MAX);
	check_str(s, x->status_code, 7);
	check_str(s, x->error_message, KSPAN_MYSQL_ERROR_MAX);
	for (size_t i = 0; i < x->status_code.len; i++)
		if (x->status_code.ptr[i] < '0' || x->status_code.ptr[i] > '9')
			__builtin_trap();
	if (x->rows < -1 || (ev->type == KSPAN_PEV_REQUEST && (x->rows != -1 || x->error)) ||
	    (x->status_code.len && !x->error) || x->batch_size)
		__builtin_trap();
	mix(s, &x->error, sizeof(x->error));
	mix(s, &x->rows, sizeof(x->rows));
	mix(s, &x->flags, sizeof(x->flags));
}

/* Every request the sink saw start has been answered (or was forgotten by a reset). */
static void check_complete(const struct sink *s)
{
	for (uint64_t i = s->base + 1; i <= s->last_start && i < MAX_SEQS; i++)
		if (s->state[i] != 3)
			__builtin_trap();
}

static uint32_t next(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static size_t parse_reads(const uint8_t *data, size_t size, struct rd *rd)
{
	size_t n = 0, off = 0;

	while (n < MAX_READS && off + 3 <= size) {
		uint8_t h = data[off];
		size_t len = data[off + 1] | (size_t)data[off + 2] << 8, extra = 0;

		off += 3;
		if (h & 2) {
			if (off + 3 > size)
				break;
			extra = data[off] | (size_t)data[off + 1] << 8 |
				(size_t)data[off + 2] << 16;
			off += 3;
		}
		if (len > size - off)
			len = size - off;
		rd[n++] = (struct rd){ h & 1, data + off, len, len + extra };
		off += len;
	}
	return n;
}

/* Runs 1 and 2: max_piece 0 feeds each read whole. */
static struct kspan_parser *run_sequential(const struct rd *rd, size_t n, struct sink *s,
					   uint32_t seed, size_t max_piece)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_mysql_parser_ops, on_event, s, 0);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t off = 0;

		if (!rd[i].n) {
			kspan_parser_feed(p, rd[i].dir, NULL, 0, rd[i].len, i + 1);
			continue;
		}
		while (off < rd[i].n) {
			size_t k = rd[i].n - off, cut = max_piece ? 1 + next(&seed) % max_piece : k;

			if (k > cut)
				k = cut;
			kspan_parser_feed(p, rd[i].dir, rd[i].b + off, k,
					  off + k == rd[i].n ? k + rd[i].len - rd[i].n : k, i + 1);
			off += k;
		}
	}
	if (kspan_parser_status(p) == KSPAN_PARSER_ACTIVE) {
		kspan_parser_eof(p, n + 1);
		check_complete(s);
	} else {
		kspan_parser_eof(p, n + 1);
	}
	return p;
}

static void run_chaos(const struct rd *rd, size_t n, uint32_t seed)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct kspan_parser *p;
	uint64_t ts = 1;

	if (!s)
		return;
	p = kspan_parser_new(&kspan_mysql_parser_ops, on_event, s,
			     seed & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!p) {
		free(s);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t off = 0;

		while (off < rd[i].n || (!rd[i].n && !off)) {
			size_t left = rd[i].n - off;
			size_t k = left ? 1 + next(&seed) % (left < 256 ? left : 256) : 0;
			size_t len = off + k == rd[i].n ? k + rd[i].len - rd[i].n : k;

			switch (next(&seed) % 16) {
			case 0:
				len += next(&seed) % 70000;
				break;
			case 1:
				len += next(&seed) % 8;
				break;
			case 2:
				kspan_parser_feed(p, rd[i].dir, NULL, 0, 1 + next(&seed) % 5000,
						  ts);
				break;
			case 3:
				if (next(&seed) % 8 == 0) {
					kspan_parser_eof(p, ts);
					s->base = s->last_start;
				}
				break;
			case 4:
				if (next(&seed) % 32 == 0) {
					kspan_parser_reset(
						p, next(&seed) & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
					s->base = s->last_start;
				}
				break;
			}
			ts += next(&seed) % 3;
			kspan_parser_feed(p, rd[i].dir, rd[i].b + off, k, len, ts);
			off += k;
			if (!k)
				break;
		}
	}
	kspan_parser_eof(p, ts);
	kspan_parser_free(p);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rd rd[MAX_READS];
	struct sink *one = calloc(1, sizeof(*one)), *split = calloc(1, sizeof(*split));
	struct kspan_parser *a = NULL, *b = NULL;
	enum kspan_msg_dir dir;
	uint32_t seed = 2166136261u;
	size_t n = parse_reads(data, size, rd);

	if (!one || !split)
		goto out;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	kspan_mysql_detect(data, size, &dir);
	for (size_t i = 0; i < n && i < 4; i++)
		kspan_mysql_detect(rd[i].b, rd[i].n, &dir);

	a = run_sequential(rd, n, one, seed, 0);
	b = run_sequential(rd, n, split, seed, 1 + seed % 97);
	if (a && b && !kspan_parser_stats(a)->skipped_bytes &&
	    !kspan_parser_stats(b)->skipped_bytes &&
	    (one->hash != split->hash || one->events != split->events))
		__builtin_trap();
	kspan_parser_free(a);
	kspan_parser_free(b);

	run_chaos(rd, n, seed);
	run_chaos(rd, n, seed ^ 0x5bd1e995u);
out:
	free(one);
	free(split);
	return 0;
}
