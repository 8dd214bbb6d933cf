/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP spans: one completed HTTP/1.x exchange of a traced connection becomes
 * one span, SERVER when the process received the request, CLIENT when it sent
 * it, with the stable semantic-convention attributes, a low-cardinality name
 * ("GET /users/{id}"), kernel timestamps converted to wall time and the
 * status rules of DESIGN.md §7. URL query strings are exported only when
 * asked for; credentials never are (the parser does not even keep them).
 */
#ifndef KSPAN_HTTP_SPAN_H
#define KSPAN_HTTP_SPAN_H

#include <stdbool.h>
#include <netinet/in.h>
#include <linux/types.h>
#include <otel/trace.h>
#include "conn.h"
#include "ktime.h"
#include "parser.h"
#include "proto_http1.h"

struct kspan_http_span_opts {
	bool capture_query; /* export url.query / the query in url.full */
};

/** @brief Format an address ("127.0.0.1", "::1") into buf; returns buf. */
const char *kspan_addr_format(const struct kspan_addr *a, char *buf, size_t size);

#define KSPAN_HTTP_SPAN_ATTRS_MAX 20
#define KSPAN_HTTP_ROUTE_MAX 512

/* What one exchange contributes to its span; attributes point into the struct itself. */
struct kspan_http_span {
	char name[KSPAN_HTTP1_METHOD_MAX + KSPAN_HTTP_ROUTE_MAX + 2]; /* "GET /users/{id}" */
	enum otel_span_kind kind; /* SERVER or CLIENT */
	bool error; /* the status is ERROR (§7) */
	struct otel_attribute attrs[KSPAN_HTTP_SPAN_ATTRS_MAX];
	size_t n_attrs;
	/* storage */
	char route[KSPAN_HTTP_ROUTE_MAX], host[KSPAN_HTTP1_HOST_MAX + 1];
	char peer[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
	char url[KSPAN_HTTP1_HOST_MAX + KSPAN_HTTP1_TARGET_MAX + 16], status_str[8];
};

/** @brief The span name of a request ("GET /users/{id}") into buf; returns its length. */
size_t kspan_http_span_name(const struct kspan_http1_exchange *x, char *buf, size_t size);

/**
 * @brief Name, kind, attributes and error status of the span of exchange @p x
 * on connection @p c (@p server_side: this process served the request).
 * @return 0, or -EINVAL when @p x is NULL
 */
int kspan_http_span_describe(struct kspan_http_span *out, const struct kspan_conn *c,
			     bool server_side, const struct kspan_http1_exchange *x,
			     const struct kspan_http_span_opts *opts);

/**
 * @brief The caller's context from the valid traceparent (and tracestate) of a
 * request, which a SERVER span continues; NULL when absent or invalid (the W3C
 * rules: the request then starts a new trace). New reference.
 */
otel_context *kspan_http_remote_parent(const struct kspan_http1_exchange *x);

/**
 * @brief Start and end the span for an EXCHANGE event of an HTTP/1.x parser
 * on connection @p c (role SERVER or CLIENT; UNKNOWN is treated from the
 * direction the request flowed, given by @p server_side).
 * @return 0, or -EINVAL for an event that is not an exchange with a request
 */
int kspan_http_span_emit(otel_tracer *tracer, const struct kspan_ktime *kt,
			 const struct kspan_conn *c, bool server_side,
			 const struct kspan_parser_event *ev, const struct kspan_http_span_opts *opts);

#endif
