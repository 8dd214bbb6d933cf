// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the HTTP/1.x parser (userspace/proto_http1.c).
 *
 * Input: the request stream, then optionally "\n===\n" and the response
 * stream (without it, the whole input is used for both directions). Three
 * runs over it:
 *   1. each direction in one read;
 *   2. each direction in reads of random sizes (PRNG seeded from the input):
 *      the events must be identical to run 1 unless a direction had to skip
 *      bytes (skipping resumes at read boundaries, so it may differ);
 *   3. both directions interleaved, with capture gaps (len > captured),
 *      mid-stream starts, resets and closes: only "no crash, no leak, sane
 *      events".
 * Every event is checked for sane fields. Memory stays bounded by design;
 * run with -rss_limit_mb to hold it to that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto_http1.h"

#define SEP "\n===\n"

struct sink {
	uint64_t hash;
	uint64_t events;
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
	const struct kspan_http1_exchange *x = ev->detail;

	s->events++;
	mix(s, &ev->type, sizeof(ev->type));
	mix(s, &ev->flags, sizeof(ev->flags));
	mix(s, &ev->req_first_ns, sizeof(uint64_t) * 4);
	if ((ev->req_first_ns && ev->req_last_ns && ev->req_first_ns > ev->req_last_ns) ||
	    (ev->resp_first_ns && ev->resp_last_ns && ev->resp_first_ns > ev->resp_last_ns))
		__builtin_trap();
	if (ev->type == KSPAN_PEV_REQUEST_START) {
		if (x)
			__builtin_trap();
		return;
	}
	if (!x)
		__builtin_trap();
	check_str(s, x->method, KSPAN_HTTP1_METHOD_MAX);
	check_str(s, x->target, KSPAN_HTTP1_TARGET_MAX);
	check_str(s, x->path, KSPAN_HTTP1_TARGET_MAX);
	check_str(s, x->query, KSPAN_HTTP1_TARGET_MAX);
	check_str(s, x->host, KSPAN_HTTP1_HOST_MAX);
	check_str(s, x->user_agent, KSPAN_HTTP1_UA_MAX);
	check_str(s, x->traceparent, KSPAN_HTTP1_TRACEPARENT_MAX);
	check_str(s, x->tracestate, KSPAN_HTTP1_TRACESTATE_MAX);
	/* path and query are slices of target. */
	if (x->path.len && (x->path.ptr < x->target.ptr ||
			    x->path.ptr + x->path.len > x->target.ptr + x->target.len))
		__builtin_trap();
	if (x->status && (x->status < 100 || x->status > 999))
		__builtin_trap();
	if (ev->type == KSPAN_PEV_REQUEST && x->status)
		__builtin_trap();
	mix(s, &x->req_version, sizeof(x->req_version));
	mix(s, &x->resp_version, sizeof(x->resp_version));
	mix(s, &x->status, sizeof(x->status));
	mix(s, &x->req_body_bytes, sizeof(uint64_t) * 4);
	mix(s, &x->flags, sizeof(x->flags));
}

static uint32_t next(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

struct streams {
	const uint8_t *b[2];
	size_t n[2];
};

/* Feeds both streams, requests first; max_read 0 means one read each. */
static struct kspan_parser *run_sequential(const struct streams *st, struct sink *s, uint32_t seed,
					   size_t max_read)
{
	struct kspan_parser *p = kspan_parser_new(&kspan_http1_parser_ops, on_event, s, 0);

	if (!p)
		return NULL;
	for (int d = 0; d < 2; d++) {
		size_t off = 0;

		while (off < st->n[d]) {
			size_t k = st->n[d] - off;
			size_t cut = max_read ? 1 + next(&seed) % max_read : k;

			if (k > cut)
				k = cut;
			kspan_parser_feed(p, d, st->b[d] + off, k, k, 1);
			off += k;
		}
	}
	kspan_parser_eof(p, 2);
	return p;
}

static void run_chaos(const struct streams *st, uint32_t seed)
{
	struct sink s = { 0 };
	struct kspan_parser *p;
	size_t off[2] = { 0, 0 };
	uint64_t ts = 1;

	p = kspan_parser_new(&kspan_http1_parser_ops, on_event, &s,
			     seed & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
	if (!p)
		return;
	while (off[0] < st->n[0] || off[1] < st->n[1]) {
		uint32_t r = next(&seed);
		int d = off[0] < st->n[0] && (off[1] >= st->n[1] || r & 1) ? 0 : 1;
		size_t left = st->n[d] - off[d];
		size_t k = 1 + next(&seed) % (left < 64 ? left : 64);
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
			kspan_parser_feed(p, d, NULL, 0, 1 + next(&seed) % 5000, ts);
			break;
		case 3:
			if (next(&seed) % 8 == 0)
				kspan_parser_eof(p, ts);
			break;
		case 4:
			if (next(&seed) % 32 == 0)
				kspan_parser_reset(p, next(&seed) & 1 ? KSPAN_PARSER_MIDSTREAM : 0);
			break;
		}
		ts += next(&seed) % 3;
		kspan_parser_feed(p, d, st->b[d] + off[d], k, len, ts);
		off[d] += k;
	}
	kspan_parser_eof(p, ts);
	kspan_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct streams st = { { data, data }, { size, size } };
	const uint8_t *sep = memmem(data, size, SEP, sizeof(SEP) - 1);
	struct sink one = { 0 }, split = { 0 };
	struct kspan_parser *a, *b;
	enum kspan_msg_dir dir;
	uint32_t seed = 2166136261u;

	if (sep) {
		st.n[0] = sep - data;
		st.b[1] = sep + sizeof(SEP) - 1;
		st.n[1] = size - st.n[0] - (sizeof(SEP) - 1);
	}
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;

	kspan_http1_detect(st.b[0], st.n[0], &dir);
	kspan_http1_detect(st.b[1], st.n[1], &dir);

	a = run_sequential(&st, &one, seed, 0);
	b = run_sequential(&st, &split, seed, 1 + seed % 97);
	if (a && b && !kspan_parser_stats(a)->skipped_bytes &&
	    !kspan_parser_stats(b)->skipped_bytes &&
	    (one.hash != split.hash || one.events != split.events))
		__builtin_trap();
	kspan_parser_free(a);
	kspan_parser_free(b);

	run_chaos(&st, seed);
	run_chaos(&st, seed ^ 0x5bd1e995u);
	return 0;
}
