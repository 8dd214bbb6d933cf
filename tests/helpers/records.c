// SPDX-License-Identifier: Apache-2.0
/* Synthetic ring-buffer records: see records.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "pipeline.h"
#include "records.h"

void rec_stream_free(struct rec_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

void rec_stream_clear(struct rec_stream *s)
{
	s->len = 0;
	s->count = 0;
}

/* Room for a record of @size bytes (8-aligned), zeroed, with its header filled. */
static void *append(struct rec_stream *s, enum kspan_rec_type type, size_t size, uint32_t tgid,
		    uint32_t tid, uint64_t ts_ns)
{
	struct kspan_hdr *h;

	size = (size + 7) & ~(size_t)7;
	if (s->len + size > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;

		while (cap < s->len + size)
			cap *= 2;
		s->buf = realloc(s->buf, cap);
		if (!s->buf) {
			fprintf(stderr, "records: out of memory\n");
			abort();
		}
		s->cap = cap;
	}
	h = (struct kspan_hdr *)(s->buf + s->len);
	memset(h, 0, size);
	*h = (struct kspan_hdr){ .version = KSPAN_ABI_VERSION,
				 .type = (__u16)type,
				 .size = (__u32)size,
				 .ts_ns = ts_ns,
				 .tgid = tgid,
				 .tid = tid ? tid : tgid };
	s->len += size;
	s->count++;
	return h;
}

struct kspan_addr rec_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct kspan_addr){ .addr = { [10] = 0xff, [11] = 0xff, a, b, c, d },
				    .family = AF_INET,
				    .port = port };
}

struct kspan_addr rec_addr_v6(const char *text, uint16_t port)
{
	struct kspan_addr a = { .family = AF_INET6, .port = port };

	if (inet_pton(AF_INET6, text, a.addr) != 1) {
		fprintf(stderr, "records: bad IPv6 address %s\n", text);
		abort();
	}
	return a;
}

struct kspan_conn_rec *rec_conn(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				enum kspan_role role, const struct kspan_addr *local,
				const struct kspan_addr *remote)
{
	struct kspan_conn_rec *r = append(s, KSPAN_REC_CONN, sizeof(*r), k->tgid, k->tid, ts_ns);

	r->fd = k->fd;
	r->role = role;
	r->sock_cookie = k->cookie;
	r->local = *local;
	r->remote = *remote;
	return r;
}

struct kspan_data_rec *rec_data(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				enum kspan_dir dir, const void *payload, uint32_t captured,
				uint32_t len)
{
	struct kspan_data_rec *r =
		append(s, KSPAN_REC_DATA, sizeof(*r) + captured, k->tgid, k->tid, ts_ns);

	r->fd = k->fd;
	r->dir = (__u16)dir;
	r->call = dir == KSPAN_DIR_INGRESS ? KSPAN_IO_READ : KSPAN_IO_WRITE;
	r->sock_cookie = k->cookie;
	r->start_ns = ts_ns - REC_SYSCALL_NS;
	r->len = len;
	r->captured = captured;
	if (captured)
		memcpy(r->data, payload, captured);
	return r;
}

struct kspan_data_rec *rec_data_str(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				    enum kspan_dir dir, const char *text)
{
	uint32_t n = (uint32_t)strlen(text);

	return rec_data(s, k, ts_ns, dir, text, n, n);
}

struct kspan_close_rec *rec_close(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns)
{
	struct kspan_close_rec *r = append(s, KSPAN_REC_CLOSE, sizeof(*r), k->tgid, k->tid, ts_ns);

	r->fd = k->fd;
	r->sock_cookie = k->cookie;
	return r;
}

struct kspan_proc_rec *rec_proc(struct rec_stream *s, uint32_t tgid, uint64_t ts_ns,
				enum kspan_proc_kind kind, uint32_t ppid, const char *comm)
{
	struct kspan_proc_rec *r = append(s, KSPAN_REC_PROC, sizeof(*r), tgid, tgid, ts_ns);

	r->kind = kind;
	r->ppid = ppid;
	if (comm)
		strncpy(r->comm, comm, sizeof(r->comm) - 1);
	return r;
}

struct kspan_proc_rec *rec_thread_exit(struct rec_stream *s, uint32_t tgid, uint32_t tid,
				       uint64_t ts_ns)
{
	struct kspan_proc_rec *r = append(s, KSPAN_REC_PROC, sizeof(*r), tgid, tid, ts_ns);

	r->kind = KSPAN_PROC_THREAD_EXIT;
	return r;
}

struct kspan_usdt_rec *rec_usdt(struct rec_stream *s, uint32_t tgid, uint32_t tid, uint64_t ts_ns,
				enum kspan_usdt_probe probe, const char *str1, const char *str2,
				int64_t num)
{
	struct kspan_usdt_rec *r = append(s, KSPAN_REC_USDT, sizeof(*r), tgid, tid, ts_ns);

	r->probe = probe;
	r->num = num;
	if (str1)
		strncpy(r->str1, str1, sizeof(r->str1) - 1);
	if (str2)
		strncpy(r->str2, str2, sizeof(r->str2) - 1);
	return r;
}

void rec_stream_each(const struct rec_stream *s,
		     void (*fn)(void *ctx, const void *rec, size_t size), void *ctx)
{
	for (size_t off = 0; off < s->len; off += rec_size(s->buf + off))
		fn(ctx, s->buf + off, rec_size(s->buf + off));
}

static void feed_one(void *ctx, const void *rec, size_t size)
{
	kspan_pipeline_record(ctx, rec, size);
}

void rec_stream_feed(struct rec_stream *s, struct kspan_pipeline *p)
{
	rec_stream_each(s, feed_one, p);
	rec_stream_clear(s);
}

const char *rec_http_response(char *buf, size_t size, int status, const char *body)
{
	snprintf(buf, size, "HTTP/1.1 %d X\r\nServer: test\r\nContent-Length: %zu\r\n\r\n%s",
		 status, strlen(body), body);
	return buf;
}
