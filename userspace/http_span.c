// SPDX-License-Identifier: Apache-2.0
/*
 * From a parsed HTTP/1.x exchange to an OpenTelemetry span (see http_span.h).
 * Attribute names follow the stable HTTP semantic conventions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <otel/propagation.h>
#include "http_span.h"
#include "proto_http1.h"
#include "route.h"

#define MAX_ATTRS 20

const char *kspan_addr_format(const struct kspan_addr *a, char *buf, size_t size)
{
	static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET || !memcmp(a->addr, v4_prefix, sizeof(v4_prefix)))
		inet_ntop(AF_INET, a->addr + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a->addr, buf, (socklen_t)size);
	return buf;
}

/* The semconv method: a known method as is, anything else "_OTHER" (original kept aside). */
static const char *known_method(const struct kspan_str *m)
{
	static const char *const methods[] = { "GET",	  "HEAD",    "POST",  "PUT",   "DELETE",
					       "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL };

	for (int i = 0; methods[i]; i++)
		if (m->len == strlen(methods[i]) && !memcmp(m->ptr, methods[i], m->len))
			return methods[i];
	return NULL;
}

/* Host header split into host and port; port 0 when absent. */
static void split_host(const struct kspan_str *h, char *host, size_t size, int *port)
{
	const char *end = h->ptr + h->len, *colon = NULL;
	size_t n;

	*port = 0;
	if (h->len && h->ptr[0] == '[') { /* [v6]:port */
		const char *close = memchr(h->ptr, ']', h->len);

		if (close) {
			n = (size_t)(close - h->ptr - 1);
			snprintf(host, size, "%.*s", (int)n, h->ptr + 1);
			if (close + 1 < end && close[1] == ':')
				*port = atoi(close + 2);
			return;
		}
	}
	colon = memchr(h->ptr, ':', h->len);
	n = colon ? (size_t)(colon - h->ptr) : h->len;
	snprintf(host, size, "%.*s", (int)n, h->ptr);
	if (colon)
		*port = atoi(colon + 1);
}

struct attrs {
	struct otel_attribute a[MAX_ATTRS];
	size_t n;
};

/* A string attribute of @len bytes (the parser's fields are slices, not C strings). */
static void add_strn(struct attrs *at, const char *key, const char *value, size_t len)
{
	if (value && len && at->n < MAX_ATTRS)
		at->a[at->n++] = (struct otel_attribute){
			key, { .type = OTEL_VALUE_STRING, .str = { value, len } }
		};
}

static void add_str(struct attrs *at, const char *key, const char *value)
{
	add_strn(at, key, value, value ? strlen(value) : 0);
}

static void add_field(struct attrs *at, const char *key, const struct kspan_str *f)
{
	add_strn(at, key, f->ptr, f->len);
}

/* Addresses are known only when the kernel reported the connection. */
static bool addr_known(const struct kspan_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

static void add_int(struct attrs *at, const char *key, int64_t value)
{
	if (at->n < MAX_ATTRS)
		at->a[at->n++] = (struct otel_attribute){
			key, { .type = OTEL_VALUE_INT, .i = value }
		};
}

/*
 * The caller's context from the valid traceparent (and tracestate) of a
 * request this process serves: the SERVER span continues that trace. NULL
 * when absent or invalid (the W3C rules: then the request starts a new trace).
 */
static otel_context *remote_parent(const struct kspan_http1_exchange *x)
{
	char ts[KSPAN_HTTP1_TRACESTATE_MAX + 1];
	struct otel_span_context sc;
	otel_context *ctx;
	otel_span *wrapped;

	if (!x->traceparent.len ||
	    otel_traceparent_parse(x->traceparent.ptr, x->traceparent.len, &sc))
		return NULL;
	if (x->tracestate.len) {
		snprintf(ts, sizeof(ts), "%.*s", (int)x->tracestate.len, x->tracestate.ptr);
		sc.trace_state = otel_trace_state_parse(ts); /* invalid: dropped, as W3C says */
	}
	wrapped = otel_span_wrap(&sc);
	otel_trace_state_unref(sc.trace_state);
	ctx = wrapped ? otel_context_with_span(NULL, wrapped) : NULL;
	otel_span_unref(wrapped);
	return ctx;
}

int kspan_http_span_emit(otel_tracer *tracer, const struct kspan_ktime *kt,
			 const struct kspan_conn *c, bool server_side,
			 const struct kspan_parser_event *ev, const struct kspan_http_span_opts *opts)
{
	const struct kspan_http1_exchange *x = ev->detail;
	char route[512], name[600], host[300], peer[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
	char url[3072], status_str[8];
	const char *method;
	struct attrs at = { .n = 0 };
	int host_port;
	bool error;

	if (ev->type != KSPAN_PEV_EXCHANGE || !x || (ev->flags & KSPAN_PEF_NO_REQUEST))
		return -EINVAL;
	method = known_method(&x->method);
	kspan_route_template(x->path.ptr, x->path.len, route, sizeof(route));
	snprintf(name, sizeof(name), "%s %s", method ? method : "HTTP", route);
	peer[0] = local[0] = '\0';
	if (addr_known(&c->remote))
		kspan_addr_format(&c->remote, peer, sizeof(peer));
	if (addr_known(&c->local))
		kspan_addr_format(&c->local, local, sizeof(local));
	split_host(&x->host, host, sizeof(host), &host_port);

	add_str(&at, "http.request.method", method ? method : "_OTHER");
	if (!method)
		add_field(&at, "http.request.method_original", &x->method);
	if (x->status)
		add_int(&at, "http.response.status_code", x->status);
	add_str(&at, "network.protocol.version",
		x->req_version == 10 ? "1.0" : x->req_version == 11 ? "1.1" : NULL);
	add_str(&at, "network.peer.address", peer);
	if (*peer)
		add_int(&at, "network.peer.port", c->remote.port);
	add_field(&at, "user_agent.original", &x->user_agent);
	add_int(&at, "http.request.body.size", (int64_t)x->req_body_bytes);
	if (x->status)
		add_int(&at, "http.response.body.size", (int64_t)x->resp_body_bytes);
	if (server_side) {
		add_str(&at, "url.scheme", "http");
		add_field(&at, "url.path", &x->path);
		if (opts->capture_query)
			add_field(&at, "url.query", &x->query);
		add_str(&at, "http.route", route);
		add_str(&at, "server.address", *host ? host : local);
		if (host_port || *local)
			add_int(&at, "server.port", host_port ? host_port : c->local.port);
		add_str(&at, "client.address", peer);
		if (*peer)
			add_int(&at, "client.port", c->remote.port);
	} else {
		/* The query goes into url.full only when asked for: it may carry secrets. */
		int n = snprintf(url, sizeof(url), "http://%.*s%s%.*s",
				 (int)(*host ? x->host.len : strlen(peer)), *host ? x->host.ptr : peer,
				 x->path.len && x->path.ptr[0] == '/' ? "" : "/", (int)x->path.len,
				 x->path.ptr);

		if (opts->capture_query && x->query.len && n > 0 && (size_t)n < sizeof(url))
			snprintf(url + n, sizeof(url) - (size_t)n, "?%.*s", (int)x->query.len,
				 x->query.ptr);
		if (*host || *peer)
			add_str(&at, "url.full", url);
		add_str(&at, "server.address", *host ? host : peer);
		if (host_port || *peer)
			add_int(&at, "server.port", host_port ? host_port : c->remote.port);
	}
	/* §7: servers fail on 5xx only, clients on 4xx too; no response at all is a failure. */
	error = !x->status || x->status >= (server_side ? 500 : 400);
	if (error) {
		snprintf(status_str, sizeof(status_str), "%u", x->status);
		add_str(&at, "error.type", x->status ? status_str : "no_response");
	}

	otel_context *parent = server_side ? remote_parent(x) : NULL;
	OTEL_OPTS(otel_span_start_opts, so, .kind = server_side ? OTEL_SPAN_KIND_SERVER :
								  OTEL_SPAN_KIND_CLIENT,
		  .start_time_ns = kspan_ktime_to_wall(kt, ev->req_first_ns), .attributes = at.a,
		  .n_attributes = at.n, .parent = parent, .root = !parent);
	otel_span *span = otel_tracer_start_span(tracer, name, &so);

	otel_context_unref(parent);
	if (error)
		otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
	otel_span_end(span, kspan_ktime_to_wall(kt, ev->resp_last_ns ? ev->resp_last_ns :
								     ev->req_last_ns));
	return 0;
}
