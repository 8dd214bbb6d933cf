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
#include <linux/types.h>
#include <otel/trace.h>
#include "conn.h"
#include "ktime.h"
#include "parser.h"

struct kspan_http_span_opts {
	bool capture_query; /* export url.query / the query in url.full */
};

/** @brief Format an address ("127.0.0.1", "::1") into buf; returns buf. */
const char *kspan_addr_format(const struct kspan_addr *a, char *buf, size_t size);

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
