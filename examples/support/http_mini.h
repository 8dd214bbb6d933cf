/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_mini: the little HTTP/1.1 the demo services (quote_service, rates_service) need, over
 * plain POSIX sockets and nothing else: a loopback listener that serves each connection on its
 * own detached thread (keep-alive, bounded reads, malformed requests answered 4xx and closed),
 * response formatting, and a blocking GET client that keeps one connection per thread.
 *
 * It stands for whatever web framework a real service would use: nothing here knows about
 * OpenTelemetry. The services mark their business steps with <otel/usdt.h> only.
 */
#ifndef EXAMPLES_HTTP_MINI_H
#define EXAMPLES_HTTP_MINI_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MINI_TARGET_MAX 256 /* request targets longer than this get 414 */
#define HTTP_MINI_BODY_MAX 1024 /* response body bytes a handler can write */

/** A parsed request line (the only part of a request the handlers see). */
struct http_mini_request {
	char method[16];
	char path[HTTP_MINI_TARGET_MAX]; /**< the target up to '?' */
	char query[HTTP_MINI_TARGET_MAX]; /**< after '?', "" when there is none */
};

/** What a handler answers; http_mini adds the status line and the framing headers. */
struct http_mini_response {
	int status;
	const char *content_type; /**< static string */
	char body[HTTP_MINI_BODY_MAX];
	size_t body_len;
};

/** Serves one GET/HEAD request on the connection's thread; must fill @p res. */
typedef void (*http_mini_handler)(const struct http_mini_request *req,
				  struct http_mini_response *res, void *ctx);

/**
 * @brief Set the response: @p status, @p content_type (static) and a printf-formatted body
 * (truncated to HTTP_MINI_BODY_MAX - 1 bytes).
 */
void http_mini_reply(struct http_mini_response *res, int status, const char *content_type,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * @brief Listen on 127.0.0.1:@p port (0: any free port), print "port N" on stdout and flush,
 * then serve forever: one detached thread per connection, each calling @p handler for every
 * GET or HEAD request (other methods get 405). Returns only when it cannot listen or accept:
 * -errno, with a message on stderr.
 */
int http_mini_serve(uint16_t port, http_mini_handler handler, void *ctx);

/**
 * @brief The path segment after @p prefix when @p path is exactly @p prefix plus one segment of
 * URI unreserved characters (letters, digits, "-._~"), e.g. "sku-1" from "/quote/sku-1" and
 * "/quote/". @return 0; -ENOENT when @p path does not start with @p prefix; -EINVAL for an empty
 * or invalid segment; -ENOSPC when it does not fit @p size (with its NUL)
 */
int http_mini_path_segment(const char *path, const char *prefix, char *out, size_t size);

/**
 * @brief The value of parameter @p name in the query string @p query ("a=1&b=2"), not decoded.
 * @return 0; -ENOENT when absent; -ENOSPC when it does not fit @p size (with its NUL)
 */
int http_mini_query_param(const char *query, const char *name, char *out, size_t size);

/**
 * @brief Blocking GET of http://127.0.0.1:@p port@p path. Each thread keeps one keep-alive
 * connection (closed when the thread exits) and opens a new one when the kept one was closed
 * by the server. The body is copied into @p body (NUL-terminated, truncated to fit).
 * @return the response status; -errno on a socket error or timeout (5 s); -EPROTO when the
 * response is not HTTP/1.x with a Content-Length
 */
int http_mini_get(uint16_t port, const char *path, char *body, size_t size);

/**
 * @brief Parse a TCP port number ("0" to "65535") given to option @p flag; prints what is
 * wrong on stderr. @return 0 or -EINVAL
 */
int http_mini_parse_port(const char *flag, const char *text, uint16_t *port);

#endif
