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

#define MAX_ATTRS KSPAN_HTTP_SPAN_ATTRS_MAX

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

/* A string attribute of @len bytes (the parser's fields are slices, not C strings). */
static void add_strn(struct kspan_http_span *at, const char *key, const char *value, size_t len)
{
	if (value && len && at->n_attrs < MAX_ATTRS)
		at->attrs[at->n_attrs++] = (struct otel_attribute){
			key, { .type = OTEL_VALUE_STRING, .str = { value, len } }
		};
}

static void add_str(struct kspan_http_span *at, const char *key, const char *value)
{
	add_strn(at, key, value, value ? strlen(value) : 0);
}

static void add_field(struct kspan_http_span *at, const char *key, const struct kspan_str *f)
{
	add_strn(at, key, f->ptr, f->len);
}

/* Addresses are known only when the kernel reported the connection. */
static bool addr_known(const struct kspan_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

static void add_int(struct kspan_http_span *at, const char *key, int64_t value)
{
	if (at->n_attrs < MAX_ATTRS)
		at->attrs[at->n_attrs++] = (struct otel_attribute){
			key, { .type = OTEL_VALUE_INT, .i = value }
		};
}

otel_context *kspan_http_remote_parent(const struct kspan_http1_exchange *x)
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

size_t kspan_http_span_name(const struct kspan_http1_exchange *x, char *buf, size_t size)
{
	const char *method = known_method(&x->method);
	char route[KSPAN_HTTP_ROUTE_MAX];
	int n;

	kspan_route_template(x->path.ptr, x->path.len, route, sizeof(route));
	n = snprintf(buf, size, "%s %s", method ? method : "HTTP", route);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

int kspan_http_span_describe(struct kspan_http_span *at, const struct kspan_conn *c,
			     bool server_side, const struct kspan_http1_exchange *x,
			     const struct kspan_http_span_opts *opts)
{
	const char *method;
	int host_port;

	at->n_attrs = 0;
	if (!x)
		return -EINVAL;
	method = known_method(&x->method);
	kspan_route_template(x->path.ptr, x->path.len, at->route, sizeof(at->route));
	snprintf(at->name, sizeof(at->name), "%s %s", method ? method : "HTTP", at->route);
	at->kind = server_side ? OTEL_SPAN_KIND_SERVER : OTEL_SPAN_KIND_CLIENT;
	at->peer[0] = at->local[0] = '\0';
	if (addr_known(&c->remote))
		kspan_addr_format(&c->remote, at->peer, sizeof(at->peer));
	if (addr_known(&c->local))
		kspan_addr_format(&c->local, at->local, sizeof(at->local));
	split_host(&x->host, at->host, sizeof(at->host), &host_port);

	add_str(at, "http.request.method", method ? method : "_OTHER");
	if (!method)
		add_field(at, "http.request.method_original", &x->method);
	if (x->status)
		add_int(at, "http.response.status_code", x->status);
	add_str(at, "network.protocol.version",
		x->req_version == 10 ? "1.0" : x->req_version == 11 ? "1.1" : NULL);
	add_str(at, "network.peer.address", at->peer);
	if (*at->peer)
		add_int(at, "network.peer.port", c->remote.port);
	add_field(at, "user_agent.original", &x->user_agent);
	add_int(at, "http.request.body.size", (int64_t)x->req_body_bytes);
	if (x->status)
		add_int(at, "http.response.body.size", (int64_t)x->resp_body_bytes);
	if (server_side) {
		add_str(at, "url.scheme", "http");
		add_field(at, "url.path", &x->path);
		if (opts->capture_query)
			add_field(at, "url.query", &x->query);
		add_str(at, "http.route", at->route);
		add_str(at, "server.address", *at->host ? at->host : at->local);
		if (host_port || *at->local)
			add_int(at, "server.port", host_port ? host_port : c->local.port);
		add_str(at, "client.address", at->peer);
		if (*at->peer)
			add_int(at, "client.port", c->remote.port);
	} else {
		/* The query goes into url.full only when asked for: it may carry secrets. */
		bool has_host = *at->host;
		int n = snprintf(at->url, sizeof(at->url), "http://%.*s%s%.*s",
				 (int)(has_host ? x->host.len : strlen(at->peer)),
				 has_host ? x->host.ptr : at->peer,
				 x->path.len && x->path.ptr[0] == '/' ? "" : "/", (int)x->path.len,
				 x->path.ptr);

		if (opts->capture_query && x->query.len && n > 0 && (size_t)n < sizeof(at->url))
			snprintf(at->url + n, sizeof(at->url) - (size_t)n, "?%.*s",
				 (int)x->query.len, x->query.ptr);
		if (has_host || *at->peer)
			add_str(at, "url.full", at->url);
		add_str(at, "server.address", has_host ? at->host : at->peer);
		if (host_port || *at->peer)
			add_int(at, "server.port", host_port ? host_port : c->remote.port);
	}
	/* §7: servers fail on 5xx only, clients on 4xx too; no response at all is a failure. */
	at->error = !x->status || x->status >= (server_side ? 500 : 400);
	if (at->error) {
		snprintf(at->status_str, sizeof(at->status_str), "%u", x->status);
		add_str(at, "error.type", x->status ? at->status_str : "no_response");
	}
	return 0;
}

int kspan_http_span_emit(otel_tracer *tracer, const struct kspan_ktime *kt,
			 const struct kspan_conn *c, bool server_side,
			 const struct kspan_parser_event *ev, const struct kspan_http_span_opts *opts)
{
	struct kspan_http_span hs;
	otel_context *parent;
	otel_span *span;

	if (ev->type != KSPAN_PEV_EXCHANGE || !ev->detail || (ev->flags & KSPAN_PEF_NO_REQUEST))
		return -EINVAL;
	kspan_http_span_describe(&hs, c, server_side, ev->detail, opts);
	parent = server_side ? kspan_http_remote_parent(ev->detail) : NULL;
	OTEL_OPTS(otel_span_start_opts, so, .kind = hs.kind,
		  .start_time_ns = kspan_ktime_to_wall(kt, ev->req_first_ns), .attributes = hs.attrs,
		  .n_attributes = hs.n_attrs, .parent = parent, .root = !parent);
	span = otel_tracer_start_span(tracer, hs.name, &so);
	otel_context_unref(parent);
	if (hs.error)
		otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
	otel_span_end(span, kspan_ktime_to_wall(kt, ev->resp_last_ns ? ev->resp_last_ns :
								     ev->req_last_ns));
	return 0;
}
