/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/helpers/records.h: synthetic ring-buffer records (bpf/kspan.h) for
 * tests and the replay benchmark: CONN, DATA (with payload, and a length
 * larger than what was captured, as when the kernel cut the copy), CLOSE and
 * PROC, THREAD_EXIT and USDT, appended to a growing stream laid out as the ring buffer delivers
 * them: each record hdr.size bytes, rounded up to 8, padding zeroed.
 */
#ifndef KSPAN_TEST_RECORDS_H
#define KSPAN_TEST_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "kspan.h"

/*
 * The DATA records' start_ns is their ts_ns minus this: syscalls take no time
 * unless a test sets start_ns on the record it got back.
 */
#define REC_SYSCALL_NS 0

/* Records back to back; a returned record pointer is valid until the next append. */
struct rec_stream {
	uint8_t *buf;
	size_t len; /* bytes used */
	size_t cap;
	size_t count; /* records */
};

/* What every record of one socket shares. */
struct rec_sock {
	uint32_t tgid;
	uint32_t tid; /* 0: the tgid */
	int32_t fd;
	uint64_t cookie;
};

/** @brief Free the stream's buffer and zero it (a zeroed stream is empty and valid). */
void rec_stream_free(struct rec_stream *s);
/** @brief Forget the records, keep the buffer. */
void rec_stream_clear(struct rec_stream *s);

/** @brief a.b.c.d:port as struct kspan_addr (IPv4-mapped, as the kernel reports it). */
struct kspan_addr rec_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
/** @brief An IPv6 address in text form (inet_pton) and port; aborts on bad text. */
struct kspan_addr rec_addr_v6(const char *text, uint16_t port);

struct kspan_conn_rec *rec_conn(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				enum kspan_role role, const struct kspan_addr *local,
				const struct kspan_addr *remote);
/**
 * @brief A DATA record: the syscall moved @p len bytes, of which the first
 * @p captured (from @p payload) were copied. The call is read/write by @p dir.
 */
struct kspan_data_rec *rec_data(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				enum kspan_dir dir, const void *payload, uint32_t captured,
				uint32_t len);
/** @brief A DATA record of a whole NUL-terminated string. */
struct kspan_data_rec *rec_data_str(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns,
				    enum kspan_dir dir, const char *text);
struct kspan_close_rec *rec_close(struct rec_stream *s, const struct rec_sock *k, uint64_t ts_ns);
struct kspan_proc_rec *rec_proc(struct rec_stream *s, uint32_t tgid, uint64_t ts_ns,
				enum kspan_proc_kind kind, uint32_t ppid, const char *comm);

/** @brief PROC THREAD_EXIT: thread @p tid of @p tgid exited, others remain. */
struct kspan_proc_rec *rec_thread_exit(struct rec_stream *s, uint32_t tgid, uint32_t tid,
				       uint64_t ts_ns);
/** @brief A USDT record of thread @p tid (0: the tgid); NULL strings are empty. */
struct kspan_usdt_rec *rec_usdt(struct rec_stream *s, uint32_t tgid, uint32_t tid, uint64_t ts_ns,
				enum kspan_usdt_probe probe, const char *str1, const char *str2,
				int64_t num);

/** @brief The size a consumer is given for @p rec (its hdr.size). */
static inline size_t rec_size(const void *rec)
{
	return ((const struct kspan_hdr *)rec)->size;
}

/** @brief Call @p fn on every record in order, with the size the ring buffer would give. */
void rec_stream_each(const struct rec_stream *s,
		     void (*fn)(void *ctx, const void *rec, size_t size), void *ctx);

struct kspan_pipeline;
/** @brief Hand every record to @p p in order, then clear the stream. */
void rec_stream_feed(struct rec_stream *s, struct kspan_pipeline *p);

/** @brief "HTTP/1.1 <status> X" with a Content-Length @p body, in @p buf. */
const char *rec_http_response(char *buf, size_t size, int status, const char *body);

#endif /* KSPAN_TEST_RECORDS_H */
