/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/proto_http1.h: the HTTP/1.0 and 1.1 parser (RFC 9112) behind the
 * common parser interface (parser.h). Events carry a struct
 * kspan_http1_exchange as their detail: REQUEST events fill the request
 * half, EXCHANGE events both halves.
 *
 * Only what a span needs is copied out of the traffic; Authorization,
 * Cookie and the other credentials are never copied. Memory per connection is
 * bounded: one line buffer (at most KSPAN_HTTP1_LINE_MAX bytes) per direction,
 * and at most KSPAN_HTTP1_PIPELINE_MAX pending requests of at most a few KiB
 * of kept fields each.
 */
#ifndef KSPAN_PROTO_HTTP1_H
#define KSPAN_PROTO_HTTP1_H

#include "parser.h"

/* Longest line kept whole; a longer one is cut (a request target is then truncated). */
#define KSPAN_HTTP1_LINE_MAX 8192
/* Header bytes of a message from which fields are kept; later fields only frame. */
#define KSPAN_HTTP1_HEADERS_KEEP 16384
/* A message head (start line + fields) longer than this is not HTTP we track. */
#define KSPAN_HTTP1_HEAD_MAX (256 * 1024)
/* Requests waiting for their responses (pipelining); one more and the connection is lost. */
#define KSPAN_HTTP1_PIPELINE_MAX 64
/* Bytes skipped while looking for a message start before the connection is lost. */
#define KSPAN_HTTP1_RESYNC_MAX (8u << 20)

/* Caps on the fields kept (bytes, longer values are cut and flagged). */
#define KSPAN_HTTP1_METHOD_MAX 32
#define KSPAN_HTTP1_TARGET_MAX 2048
#define KSPAN_HTTP1_HOST_MAX 256
#define KSPAN_HTTP1_UA_MAX 512
#define KSPAN_HTTP1_TRACEPARENT_MAX 128
#define KSPAN_HTTP1_TRACESTATE_MAX 512

/* struct kspan_http1_exchange.flags */
#define KSPAN_HTTP1_F_TRUNCATED (1u << 0) /* a kept field (target, host, ...) was cut */
#define KSPAN_HTTP1_F_FIELDS_DROPPED (1u << 1) /* request fields past the kept budget */
#define KSPAN_HTTP1_F_REQ_CHUNKED (1u << 2)
#define KSPAN_HTTP1_F_RESP_CHUNKED (1u << 3)
#define KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED (1u << 4) /* response body ended by the close */
#define KSPAN_HTTP1_F_UPGRADED (1u << 5) /* 101 or CONNECT 2xx: the parser went quiet */
#define KSPAN_HTTP1_F_DUP_TRACEPARENT (1u << 6) /* several traceparent fields: first kept */
#define KSPAN_HTTP1_F_EXPECT_CONTINUE (1u << 7) /* the request had Expect: 100-continue */
#define KSPAN_HTTP1_F_CONN_CLOSE (1u << 8) /* the response ends the connection */

/*
 * A kept string, ptr[0..len); ptr is never NULL ("" when absent). Whole fields
 * are also NUL-terminated; path and query are slices of target and are not.
 */
struct kspan_str {
	const char *ptr;
	size_t len;
};

struct kspan_http1_exchange {
	struct kspan_str method;
	struct kspan_str target; /* as sent */
	struct kspan_str path; /* target without query/fragment; absolute-form: the path part */
	struct kspan_str query; /* after '?', without it; "" when none */
	struct kspan_str host; /* Host field */
	struct kspan_str user_agent;
	struct kspan_str traceparent;
	struct kspan_str tracestate; /* several fields joined with ',' */
	uint8_t req_version; /* 10, 11; 0 when unknown (cut start line, no request) */
	uint8_t resp_version; /* 10, 11; 0 when no response */
	uint16_t status; /* final status code; 0 when no response */
	uint64_t req_body_bytes; /* payload bytes (chunked: decoded data bytes) */
	uint64_t resp_body_bytes;
	uint64_t req_bytes; /* whole message on the wire: head, framing, body */
	uint64_t resp_bytes; /* final response only (interim 1xx not counted) */
	uint32_t flags; /* KSPAN_HTTP1_F_* */
};

/* The ops to give kspan_parser_new(). */
extern const struct kspan_parser_ops kspan_http1_parser_ops;

/*
 * Confidence that buf[0..len) starts an HTTP/1.x message: 100 for a whole
 * valid request or status line, less for a plausible prefix (a known method
 * and a space, "HTTP/1."), 0 otherwise. *dir gets the direction when non-zero.
 */
int kspan_http1_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir);

#endif /* KSPAN_PROTO_HTTP1_H */
