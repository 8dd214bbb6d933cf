// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the Redis RESP2/RESP3 parser (userspace/proto_resp.c).
 *
 * Input: chunks as in tests/unit/data/resp/ ("# comment" lines, then
 * "> N\n" client-to-server or "< N\n" server-to-client, N bytes, "\n"); an
 * input not in that form is the command stream, then optionally "\n===\n" and
 * the reply stream. Three runs over the chunks, in order:
 *   1. each chunk in one read;
 *   2. each chunk in reads of random sizes (PRNG seeded from the input): the
 *      REQUEST and EXCHANGE events must be identical to run 1 (batch sizes
 *      aside, they count commands per read) unless a run had to skip bytes;
 *   3. chunks cut anywhere, with capture gaps (len > captured), reads that
 *      captured nothing, mid-stream starts, resets and closes.
 * Every run checks each event (bounded strings, ordered timestamps) and the
 * pairing: a START per seq, increasing; a REQUEST only after its START; an
 * EXCHANGE only for a REQUEST not yet answered; at a close of a parser still
 * active, every REQUEST answered. Memory stays bounded by design; run with
 * -rss_limit_mb to hold it to that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto_resp.h"

#define SEP "\n===\n"
#define MAX_CHUNKS 4096

enum { S_STARTED = 1, S_REQUESTED = 2, S_ANSWERED = 4 };

struct sink {
	uint64_t hash, events, last_start;
	uint8_t *state; /* per seq: S_* */
	size_t cap;
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
	if (seq >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		uint8_t *n;

		while (cap <= seq)
			cap *= 2;
		n = realloc(s->state, cap);
		if (!n)
			abort();
		memset(n + s->cap, 0, cap - s->cap);
		s->state = n;
		s->cap = cap;
	}
	return &s->state[seq];
}

static void on_event(void *ctx, const struct kspan_parser_event *ev)
{
	struct sink *s = ctx;
	const struct kspan_db_exchange *x = ev->detail;
	uint8_t *st = ev->req_seq ? seq_state(s, ev->req_seq) : NULL;

	if ((ev->req_first_ns && ev->req_last_ns && ev->req_first_ns > ev->req_last_ns) ||
	    (ev->resp_first_ns && ev->resp_last_ns && ev->resp_first_ns > ev->resp_last_ns))
		__builtin_trap();
	switch (ev->type) {
	case KSPAN_PEV_REQUEST_START:
		if (x || !st || ev->req_seq <= s->last_start)
			__builtin_trap();
		s->last_start = ev->req_seq;
		*st = S_STARTED;
		return;
	case KSPAN_PEV_REQUEST:
		if (!st || *st != S_STARTED || ev->resp_first_ns)
			__builtin_trap();
		*st |= S_REQUESTED;
		break;
	case KSPAN_PEV_EXCHANGE:
		if (st && *st != (S_STARTED | S_REQUESTED))
			__builtin_trap();
		if (st)
			*st |= S_ANSWERED;
		break;
	default:
		__builtin_trap();
	}
	if (!x || strcmp(x->system, "redis"))
		__builtin_trap();
	/* The byte-stream hash leaves out batch_size and START events (both depend on reads). */
	s->events++;
	mix(s, &ev->type, sizeof(ev->type));
	mix(s, &ev->flags, sizeof(ev->flags));
	mix(s, &ev->req_seq, sizeof(uint64_t) * 5);
	check_str(s, x->query, KSPAN_DB_QUERY_MAX);
	check_str(s, x->command, KSPAN_RESP_COMMAND_MAX);
	check_str(s, x->db_namespace, 23);
	check_str(s, x->user, 63);
	check_str(s, x->status_code, 31);
	check_str(s, x->error_message, KSPAN_RESP_ERROR_MAX);
	if (x->status_code.len && !x->error)
		__builtin_trap();
	if (ev->type == KSPAN_PEV_REQUEST && (x->error || x->rows != -1))
		__builtin_trap();
	if (x->rows < -1)
		__builtin_trap();
	mix(s, &x->error, sizeof(x->error));
	mix(s, &x->rows, sizeof(x->rows));
	mix(s, &x->flags, sizeof(x->flags));
}

/* At a close: every request of a parser still active has been answered. */
static void check_closed(struct sink *s, bool was_active)
{
	for (size_t i = 0; i < s->cap; i++) {
		if (was_active && (s->state[i] & S_REQUESTED) && !(s->state[i] & S_ANSWERED))
			__builtin_trap();
		s->state[i] = 0;
	}
}

static uint32_t next(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

struct chunk {
	enum kspan_msg_dir dir;
	const uint8_t *b;
	size_t n;
};

/* The fixture format, or "commands\n===\nreplies". */
static int parse_input(const uint8_t *data, size_t size, struct chunk *c)
{
	const uint8_t *sep;
	size_t i = 0;
	int n = 0;

	if (size && (data[0] == '#' ||
		     ((data[0] == '>' || data[0] == '<') && size > 1 && data[1] == ' '))) {
		while (i < size && n < MAX_CHUNKS) {
			size_t len = 0, j;

			if (data[i] == '#' || data[i] == '\n') {
				const uint8_t *nl = memchr(data + i, '\n', size - i);

				if (!nl)
					break;
				i = nl - data + 1;
				continue;
			}
			if ((data[i] != '>' && data[i] != '<') || i + 2 >= size ||
			    data[i + 1] != ' ')
				break;
			for (j = i + 2; j < size && data[j] >= '0' && data[j] <= '9' && j < i + 12;
			     j++)
				len = len * 10 + (data[j] - '0');
			if (j >= size || data[j] != '\n')
				break;
			c[n].dir = data[i] == '>' ? KSPAN_MSG_REQUEST : KSPAN_MSG_RESPONSE;
			c[n].b = data + j + 1;
			c[n].n = len < size - j - 1 ? len : size - j - 1;
			i = j + 1 + c[n].n;
			n++;
		}
		return n;
	}
	sep = memmem(data, size, SEP, sizeof(SEP) - 1);
	c[0] = (struct chunk){ KSPAN_MSG_REQUEST, data, sep ? (size_t)(sep - data) : size };
	if (!sep)
		return 1;
	c[1] = (struct chunk){ KSPAN_MSG_RESPONSE, sep + sizeof(SEP) - 1,
			       size - (sep - data) - (sizeof(SEP) - 1) };
	return 2;
}

/* Feeds every chunk, in reads of at most max_read bytes (0: whole), then closes. */
static uint64_t run_sequential(const struct chunk *c, int n, struct sink *s, uint32_t seed,
			       size_t max_read)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_resp_parser_ops, on_event, s, 0);
	uint64_t skipped;
	bool active;

	if (!p)
		return 0;
	for (int k = 0; k < n; k++) {
		size_t off = 0;

		while (off < c[k].n) {
			size_t len = c[k].n - off;
			size_t cut = max_read ? 1 + next(&seed) % max_read : len;

			if (len > cut)
				len = cut;
			kspan_parser_feed(p, c[k].dir, c[k].b + off, len, len, 10 * (k + 1));
			off += len;
		}
	}
	active = kspan_parser_status(p) == KSPAN_PARSER_ACTIVE;
	kspan_parser_eof(p, 10 * (n + 1));
	check_closed(s, active);
	skipped = kspan_parser_stats(p)->skipped_bytes;
	kspan_parser_free(p);
	return skipped;
}

static void run_chaos(const struct chunk *c, int n, uint32_t seed)
{
	struct sink s = { 0 };
	struct kspan_parser *p;
	uint64_t ts = 1;

	p = kspan_parser_new(&kspan_resp_parser_ops, on_event, &s,
			     seed & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!p)
		return;
	for (int k = 0; k < n; k++) {
		size_t off = 0;

		while (off < c[k].n) {
			size_t left = c[k].n - off;
			size_t len = 1 + next(&seed) % (left < 64 ? left : 64);
			size_t cap = len;

			/* Now and then the kernel captured only part of the bytes, or none. */
			switch (next(&seed) % 16) {
			case 0:
				len += next(&seed) % 70000;
				break;
			case 1:
				cap = next(&seed) % (len + 1);
				break;
			case 2:
				kspan_parser_feed(p, c[k].dir, NULL, 0, 1 + next(&seed) % 5000, ts);
				break;
			case 3:
				if (next(&seed) % 8 == 0) {
					bool active = kspan_parser_status(p) == KSPAN_PARSER_ACTIVE;

					kspan_parser_eof(p, ts);
					check_closed(&s, active);
				}
				break;
			case 4:
				if (next(&seed) % 32 == 0) {
					kspan_parser_reset(
						p, next(&seed) & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
					check_closed(&s, false);
				}
				break;
			}
			ts += next(&seed) % 3;
			kspan_parser_feed(p, c[k].dir, c[k].b + off, cap, len, ts);
			off += len < left ? len : left;
		}
	}
	{
		bool active = kspan_parser_status(p) == KSPAN_PARSER_ACTIVE;

		kspan_parser_eof(p, ts);
		check_closed(&s, active);
	}
	kspan_parser_free(p);
	free(s.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chunk c[MAX_CHUNKS];
	struct sink one = { 0 }, split = { 0 };
	uint32_t seed = 2166136261u;
	enum kspan_msg_dir dir;
	uint64_t skip_one, skip_split;
	int n = parse_input(data, size, c);

	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	for (int k = 0; k < n; k++)
		kspan_resp_detect(c[k].b, c[k].n, &dir);

	skip_one = run_sequential(c, n, &one, seed, 0);
	skip_split = run_sequential(c, n, &split, seed, 1 + seed % 97);
	if (!skip_one && !skip_split && (one.hash != split.hash || one.events != split.events))
		__builtin_trap();
	free(one.state);
	free(split.state);

	run_chaos(c, n, seed);
	run_chaos(c, n, seed ^ 0x5bd1e995u);
	return 0;
}
