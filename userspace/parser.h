/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/parser.h: the one interface every protocol parser implements
 * (HTTP/1.x now; PostgreSQL, MySQL, Redis later). A parser is a pure state
 * machine over one connection's bytes: no I/O, no globals, no clocks. The
 * caller feeds each direction's bytes as the kernel saw them and gets events
 * back through a callback: a request started, a request completed, an
 * exchange (request + its response) completed.
 *
 * Directions are the protocol's, not the socket's: the caller maps
 * ingress/egress and its server/client role to "request" (client to server)
 * and "response" (server to client).
 *
 * The kernel copies a bounded prefix of each syscall's bytes but knows the
 * real length, so feed() takes both: `len` bytes happened, the first
 * `captured` of them are in `buf`. Bytes that were not captured still advance
 * the framing (a body's length is known without its bytes).
 *
 * A parser embeds struct kspan_parser first and is driven through its ops; the
 * inline wrappers below are what callers use. Events are delivered
 * synchronously from feed()/eof(); a callback must not feed, reset or free
 * the parser that called it. Pointers in an event are valid only during the
 * callback.
 *
 * Until the parser is reset, freed or stopped, every request whose head was
 * parsed ends in exactly one EXCHANGE event (answered, or flagged NO_RESPONSE
 * at eof or when the response side had to resync); a REQUEST_START can stay
 * alone when the request is lost before its head was read (a gap in its start
 * line, bytes that are not the protocol).
 */
#ifndef KSPAN_PARSER_H
#define KSPAN_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which way bytes flow, in protocol terms. */
enum kspan_msg_dir {
	KSPAN_MSG_REQUEST = 0, /* client to server */
	KSPAN_MSG_RESPONSE = 1, /* server to client */
};

enum kspan_parser_status {
	KSPAN_PARSER_ACTIVE = 0, /* parsing */
	KSPAN_PARSER_UPGRADED, /* switched to another protocol (or a tunnel): quiet from now on */
	KSPAN_PARSER_NOT_PROTO, /* the bytes are not this protocol: stopped, drop the connection */
	KSPAN_PARSER_LOST, /* framing lost beyond recovery: stopped, drop the connection */
};

enum kspan_parser_event_type {
	KSPAN_PEV_REQUEST_START = 1, /* first byte of a request seen; no detail yet */
	KSPAN_PEV_REQUEST, /* a request is complete (head and body) */
	KSPAN_PEV_EXCHANGE, /* a final response is complete, with the request it answers */
};

/* Event flags: what is missing or uncertain. */
#define KSPAN_PEF_NO_REQUEST (1u << 0) /* a response whose request was never seen */
#define KSPAN_PEF_NO_RESPONSE (1u << 1) /* the connection ended or resynced before a response */
#define KSPAN_PEF_REQ_INCOMPLETE (1u << 2) /* request bytes missing (gap) or still arriving */
#define KSPAN_PEF_RESP_INCOMPLETE (1u << 3) /* response bytes missing, or cut by close */

/* Parser creation flags. */
/* The connection was first seen mid-stream: each direction starts at the first chunk of
 * bytes that begins a message; bytes before it are skipped. */
#define KSPAN_PARSER_MIDSTREAM (1u << 0)

struct kspan_parser_event {
	enum kspan_parser_event_type type;
	uint32_t flags; /* KSPAN_PEF_* */
	/*
	 * The request's number on this connection (1, 2, ...; never reused, not even
	 * after a reset): the same in its REQUEST_START, REQUEST and EXCHANGE events,
	 * so a caller can attach its own state to a request. 0: no request.
	 */
	uint64_t req_seq;
	uint64_t req_first_ns; /* ts of the chunk holding the request's first byte; 0 if unknown */
	uint64_t req_last_ns; /* ... its last byte; 0 while unknown */
	uint64_t resp_first_ns; /* ... the final response's first byte; 0 if none */
	uint64_t resp_last_ns; /* ... its last byte; 0 if none */
	const void *detail; /* protocol record (e.g. struct kspan_http1_exchange), or NULL */
};

typedef void (*kspan_parser_event_fn)(void *ctx, const struct kspan_parser_event *ev);

/* Counters a parser keeps for diagnostics (all monotonic until reset). */
struct kspan_parser_stats {
	uint64_t requests; /* requests whose head was parsed */
	uint64_t exchanges; /* EXCHANGE events */
	uint64_t orphan_responses; /* responses without a request */
	uint64_t unanswered; /* requests reported without a response */
	uint64_t fields_dropped; /* header/field lines not kept: over budget, folded, unusable */
	uint64_t lines_truncated; /* lines longer than the line buffer */
	uint64_t gap_bytes; /* bytes that happened but were not captured */
	uint64_t skipped_bytes; /* bytes skipped while out of sync */
	uint64_t resyncs; /* times a direction lost its place and found it again */
};

struct kspan_parser;

struct kspan_parser_ops {
	const char *name;
	/*
	 * Confidence 0..100 that buf[0..len) starts a message of this protocol; when
	 * non-zero, *dir says which direction it flows. Pure, for connections first
	 * seen mid-stream and for classifying new ones.
	 */
	int (*detect)(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir);
	/* NULL with errno ENOMEM/EINVAL. */
	struct kspan_parser *(*create)(kspan_parser_event_fn fn, void *ctx, unsigned int flags);
	/*
	 * 0; -EINVAL on bad arguments; once stopped, -EPROTONOSUPPORT (NOT_PROTO) or
	 * -EBADMSG (LOST). UPGRADED parsers return 0 and ignore the bytes.
	 */
	int (*feed)(struct kspan_parser *p, enum kspan_msg_dir dir, const uint8_t *buf,
		    size_t captured, size_t len, uint64_t ts_ns);
	/* The connection closed: complete close-delimited messages, report the rest. */
	int (*eof)(struct kspan_parser *p, uint64_t ts_ns);
	/* Forget everything (no events); flags as for create. */
	void (*reset)(struct kspan_parser *p, unsigned int flags);
	void (*destroy)(struct kspan_parser *p);
};

/* Every parser state starts with this. */
struct kspan_parser {
	const struct kspan_parser_ops *ops;
	kspan_parser_event_fn on_event;
	void *ctx;
	enum kspan_parser_status status;
	struct kspan_parser_stats stats;
};

static inline struct kspan_parser *kspan_parser_new(const struct kspan_parser_ops *ops,
						    kspan_parser_event_fn fn, void *ctx,
						    unsigned int flags)
{
	return ops->create(fn, ctx, flags);
}

static inline int kspan_parser_feed(struct kspan_parser *p, enum kspan_msg_dir dir,
				    const uint8_t *buf, size_t captured, size_t len, uint64_t ts_ns)
{
	return p->ops->feed(p, dir, buf, captured, len, ts_ns);
}

static inline int kspan_parser_eof(struct kspan_parser *p, uint64_t ts_ns)
{
	return p->ops->eof(p, ts_ns);
}

static inline void kspan_parser_reset(struct kspan_parser *p, unsigned int flags)
{
	p->ops->reset(p, flags);
}

static inline void kspan_parser_free(struct kspan_parser *p)
{
	if (p)
		p->ops->destroy(p);
}

static inline enum kspan_parser_status kspan_parser_status(const struct kspan_parser *p)
{
	return p->status;
}

static inline const struct kspan_parser_stats *kspan_parser_stats(const struct kspan_parser *p)
{
	return &p->stats;
}

#endif /* KSPAN_PARSER_H */
