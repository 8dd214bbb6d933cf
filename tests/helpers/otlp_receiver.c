// SPDX-License-Identifier: Apache-2.0
/*
 * The test OTLP/HTTP receiver (see otlp_receiver.h). One thread polls the
 * listening socket, a wake-up pipe (for stop) and every open connection; it
 * reads requests into a per-connection buffer, decodes them when complete
 * and answers from the plan queue. Everything shared with the test thread is
 * under one mutex.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "otlp_receiver.h"

#define MAX_CONNS 64
#define MAX_HEADER_BYTES (64u << 10)

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse trace_response_pb;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess partial_success_pb;

struct conn {
	int fd;
	unsigned int id;
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool hung; /* a request was left unanswered: ignore the rest */
};

struct plan {
	struct otlp_response resp; /* owned copies of the strings and body */
	struct plan *next;
};

struct otlp_receiver {
	int listen_fd;
	int wake[2];
	uint16_t port;
	char url[64];
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* a request was recorded */
	struct otlp_request **reqs;
	size_t n_reqs;
	struct plan *plans, **plans_tail;
	bool hang;
	unsigned int n_conns_total;

	/* Owned by the server thread. */
	struct conn conns[MAX_CONNS];
	size_t n_conns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Requests ---- */

static void request_free(struct otlp_request *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_headers; i++) {
		free(q->headers[i].name);
		free(q->headers[i].value);
	}
	free(q->headers);
	free(q->body);
	if (q->proto)
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
			q->proto, NULL);
	free(q);
}

const char *otlp_request_header(const struct otlp_request *q, const char *name)
{
	for (size_t i = 0; q && i < q->n_headers; i++)
		if (!strcasecmp(q->headers[i].name, name))
			return q->headers[i].value;
	return NULL;
}

const otlp_span_pb *otlp_request_span(const struct otlp_request *q, size_t i)
{
	if (!q || !q->proto)
		return NULL;
	for (size_t r = 0; r < q->proto->n_resource_spans; r++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
			q->proto->resource_spans[r];

		for (size_t s = 0; s < rs->n_scope_spans; s++) {
			if (i < rs->scope_spans[s]->n_spans)
				return rs->scope_spans[s]->spans[i];
			i -= rs->scope_spans[s]->n_spans;
		}
	}
	return NULL;
}

size_t otlp_request_span_count(const struct otlp_request *q)
{
	size_t n = 0;

	if (!q || !q->proto)
		return 0;
	for (size_t r = 0; r < q->proto->n_resource_spans; r++)
		for (size_t s = 0; s < q->proto->resource_spans[r]->n_scope_spans; s++)
			n += q->proto->resource_spans[r]->scope_spans[s]->n_spans;
	return n;
}

/* ---- HTTP parsing ---- */

static int add_header(struct otlp_request *q, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	const char *v;
	size_t nlen, vlen;
	struct otlp_header_kv *grown;

	if (!colon || colon == line)
		return -400;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	grown = realloc(q->headers, (q->n_headers + 1) * sizeof(*grown));
	if (!grown)
		return -500;
	q->headers = grown;
	grown[q->n_headers].name = strndup(line, nlen);
	grown[q->n_headers].value = strndup(v, vlen);
	q->n_headers++;
	return 0;
}

/* Request line and headers of the @hlen bytes before the blank line. */
static int parse_head(struct otlp_request *q, const char *p, size_t hlen)
{
	const char *end = p + hlen, *eol = memmem(p, hlen, "\r\n", 2);
	int minor;

	if (!eol || sscanf(p, "%15s %255s HTTP/1.%d", q->method, q->target, &minor) != 3)
		return -400;
	for (p = eol + 2; p < end; p = eol + 2) {
		int err;

		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		err = add_header(q, p, (size_t)(eol - p));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Decode a chunked body starting at @p (@len bytes available) into *@out.
 * 1 when complete (*@used bytes consumed), 0 when more bytes are needed,
 * negative HTTP status on a malformed or too large body.
 */
static int dechunk(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len, size_t *used)
{
	size_t pos = 0, total = 0;
	uint8_t *body = NULL;

	for (;;) {
		const uint8_t *eol = memmem(p + pos, len - pos, "\r\n", 2);
		unsigned long long size;
		char *endp;
		uint8_t *grown;

		if (!eol)
			goto more;
		size = strtoull((const char *)p + pos, &endp, 16);
		if (endp == (const char *)p + pos || (*endp != ';' && *endp != '\r'))
			goto bad;
		pos = (size_t)(eol - p) + 2;
		if (!size)
			break;
		if (total + size > OTLP_RECEIVER_MAX_BODY) {
			free(body);
			return -413;
		}
		if (len - pos < size + 2)
			goto more;
		grown = realloc(body, total + size + 1);
		if (!grown)
			goto bad;
		body = grown;
		memcpy(body + total, p + pos, size);
		total += size;
		pos += size;
		if (memcmp(p + pos, "\r\n", 2))
			goto bad;
		pos += 2;
	}
	/* Trailers (ignored) up to the blank line. */
	for (;;) {
		const uint8_t *eol = memmem(p + pos, len - pos, "\r\n", 2);

		if (!eol)
			goto more;
		if (eol == p + pos) {
			pos += 2;
			break;
		}
		pos = (size_t)(eol - p) + 2;
	}
	*out = body ? body : calloc(1, 1);
	*out_len = total;
	*used = pos;
	return 1;
more:
	free(body);
	return 0;
bad:
	free(body);
	return -400;
}

/* Inflate a gzip (or zlib) body; 0, or a negative HTTP status. */
static int inflate_body(struct otlp_request *q)
{
	z_stream zs = { 0 };
	size_t cap = q->body_len * 4 + 64, len = 0;
	uint8_t *out = malloc(cap + 1);
	int rc = Z_OK;

	if (!out || inflateInit2(&zs, 15 + 32) != Z_OK) {
		free(out);
		return -500;
	}
	zs.next_in = q->body;
	zs.avail_in = (uInt)q->body_len;
	while (rc != Z_STREAM_END) {
		if (len == cap) {
			uint8_t *grown;

			if (cap >= OTLP_RECEIVER_MAX_BODY)
				goto fail_413;
			cap *= 2;
			grown = realloc(out, cap + 1);
			if (!grown)
				goto fail_400;
			out = grown;
		}
		zs.next_out = out + len;
		zs.avail_out = (uInt)(cap - len);
		rc = inflate(&zs, Z_NO_FLUSH);
		len = cap - zs.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END)
			goto fail_400;
	}
	inflateEnd(&zs);
	if (len > OTLP_RECEIVER_MAX_BODY) {
		free(out);
		return -413;
	}
	out[len] = '\0';
	free(q->body);
	q->body = out;
	q->body_len = len;
	return 0;
fail_413:
	inflateEnd(&zs);
	free(out);
	return -413;
fail_400:
	inflateEnd(&zs);
	free(out);
	return -400;
}

/*
 * Parse one request from @buf. 1 when complete (*@used bytes consumed, @q
 * filled), 0 when more bytes are needed, a negative HTTP status if invalid.
 */
static int parse_request(const uint8_t *buf, size_t len, struct otlp_request *q, size_t *used)
{
	const uint8_t *hend = memmem(buf, len, "\r\n\r\n", 4);
	const char *te, *cl;
	size_t hlen, blen;
	int err;

	if (!hend)
		return len > MAX_HEADER_BYTES ? -431 : 0;
	hlen = (size_t)(hend - buf);
	err = parse_head(q, (const char *)buf, hlen);
	if (err)
		return err;
	buf += hlen + 4;
	len -= hlen + 4;
	te = otlp_request_header(q, "Transfer-Encoding");
	cl = otlp_request_header(q, "Content-Length");
	if (te && !strcasecmp(te, "chunked")) {
		q->chunked = true;
		err = dechunk(buf, len, &q->body, &q->body_len, &blen);
		if (err <= 0)
			return err;
	} else {
		unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;

		if (n > OTLP_RECEIVER_MAX_BODY)
			return -413;
		if (len < n)
			return 0;
		blen = (size_t)n;
		q->body = malloc(blen + 1);
		if (!q->body)
			return -500;
		memcpy(q->body, buf, blen);
		q->body[blen] = '\0';
		q->body_len = blen;
	}
	q->wire_len = q->body_len;
	*used = hlen + 4 + blen;
	return 1;
}

/* Check and decode a complete request; the status to answer. */
static int decode_request(struct otlp_request *q)
{
	const char *ce = otlp_request_header(q, "Content-Encoding");
	const char *ct = otlp_request_header(q, "Content-Type");

	if (strcmp(q->method, "POST"))
		return 405;
	if (strcmp(q->target, "/v1/traces"))
		return 404;
	if (ce && !strcasecmp(ce, "gzip")) {
		int err = inflate_body(q);

		if (err)
			return -err;
	} else if (ce && strcasecmp(ce, "identity")) {
		return 415;
	}
	if (ct && !strncasecmp(ct, "application/json", 16)) {
		q->is_json = true;
		q->json = (const char *)q->body;
		return 200;
	}
	if (!ct || strncasecmp(ct, "application/x-protobuf", 22))
		return 415;
	q->proto = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, q->body_len, q->body);
	return q->proto ? 200 : 400;
}

/* ---- Responses ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

static void send_all(int fd, const void *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p = (const char *)p + n;
		len -= (size_t)n;
	}
}

static void send_response(int fd, int status, const char *ctype, const char *extra,
			  const void *body, size_t body_len)
{
	char head[1024];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
		     reason(status), ctype, body_len, extra ? extra : "");
	send_all(fd, head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
	send_all(fd, body, body_len);
}

static struct plan *plan_pop(struct otlp_receiver *r)
{
	struct plan *p = r->plans;

	if (p) {
		r->plans = p->next;
		if (!r->plans)
			r->plans_tail = &r->plans;
	}
	return p;
}

static void plan_free(struct plan *p)
{
	if (!p)
		return;
	free((char *)p->resp.headers);
	free((void *)p->resp.body);
	free((char *)p->resp.content_type);
	free(p);
}

/*
 * Record @q and answer it per the plan (or 200). Returns false when the
 * connection must be closed.
 */
static bool answer(struct otlp_receiver *r, struct conn *c, struct otlp_request *q, int status)
{
	const char *req_ct = otlp_request_header(q, "Content-Type");
	const char *conn_hdr = otlp_request_header(q, "Connection");
	bool json = req_ct && !strncasecmp(req_ct, "application/json", 16);
	bool keep = !(conn_hdr && !strcasecmp(conn_hdr, "close"));
	struct otlp_request **grown;
	struct plan *p = NULL;
	bool hang, recorded = false;

	pthread_mutex_lock(&r->lock);
	hang = r->hang;
	if (!hang && status == 200)
		p = plan_pop(r);
	if (p && !p->resp.drop)
		status = p->resp.status;
	q->status = hang || (p && p->resp.drop) ? 0 : status;
	grown = realloc(r->reqs, (r->n_reqs + 1) * sizeof(*grown));
	if (grown) {
		r->reqs = grown;
		r->reqs[r->n_reqs++] = q;
		recorded = true;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);

	if (hang) {
		c->hung = true;
	} else if (p && p->resp.drop) {
		keep = false;
	} else if (p && p->resp.body) {
		send_response(c->fd, status,
			      p->resp.content_type ? p->resp.content_type :
			      req_ct		   ? req_ct :
						     "application/x-protobuf",
			      p->resp.headers, p->resp.body, p->resp.body_len);
	} else {
		/* An empty ExportTraceServiceResponse: no bytes in protobuf, {} in JSON. */
		send_response(c->fd, status,
			      p && p->resp.content_type ? p->resp.content_type :
			      json			? "application/json" :
							  "application/x-protobuf",
			      p ? p->resp.headers : NULL, json ? "{}" : "", json ? 2 : 0);
	}
	plan_free(p);
	if (!recorded)
		request_free(q);
	return keep;
}

/* ---- Connections ---- */

static void conn_close(struct otlp_receiver *r, size_t i)
{
	close(r->conns[i].fd);
	free(r->conns[i].buf);
	r->conns[i] = r->conns[--r->n_conns];
}

/* Handle every complete request in the buffer; false to close the connection. */
static bool conn_process(struct otlp_receiver *r, struct conn *c)
{
	while (c->len && !c->hung) {
		struct otlp_request *q = calloc(1, sizeof(*q));
		size_t used = 0;
		int rc;

		if (!q)
			return false;
		rc = parse_request(c->buf, c->len, q, &used);
		if (rc == 0) {
			request_free(q);
			return true;
		}
		if (rc < 0) {
			send_response(c->fd, -rc, "text/plain", "Connection: close\r\n", "", 0);
			request_free(q);
			return false;
		}
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		q->conn_id = c->id;
		q->mono_ns = mono_ns();
		if (!answer(r, c, q, decode_request(q)))
			return false;
	}
	return true;
}

/* Read what is available; false when the peer closed or on error. */
static bool conn_read(struct otlp_receiver *r, struct conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		uint8_t *grown;

		if (cap > 2 * (OTLP_RECEIVER_MAX_BODY + MAX_HEADER_BYTES))
			return false;
		grown = realloc(c->buf, cap);
		if (!grown)
			return false;
		c->buf = grown;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (c->hung)
		return true; /* a hung connection swallows whatever else comes */
	c->len += (size_t)n;
	return conn_process(r, c);
}

static void accept_conn(struct otlp_receiver *r)
{
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (r->n_conns == MAX_CONNS) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->conns[r->n_conns] = (struct conn){ .fd = fd, .id = ++r->n_conns_total };
	pthread_mutex_unlock(&r->lock);
	r->n_conns++;
}

static void *serve(void *arg)
{
	struct otlp_receiver *r = arg;
	struct pollfd pfd[MAX_CONNS + 2];

	for (;;) {
		size_t n = r->n_conns;

		pfd[0] = (struct pollfd){ .fd = r->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = r->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < n; i++)
			pfd[i + 2] = (struct pollfd){ .fd = r->conns[i].fd, .events = POLLIN };
		if (poll(pfd, n + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		/* Back to front: closing moves the last connection into the freed slot. */
		for (size_t i = n; i-- > 0;)
			if (pfd[i + 2].revents && !conn_read(r, &r->conns[i]))
				conn_close(r, i);
		if (pfd[1].revents)
			accept_conn(r);
	}
	while (r->n_conns)
		conn_close(r, r->n_conns - 1);
	return NULL;
}

/* ---- Public API ---- */

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

struct otlp_receiver *otlp_receiver_start(void)
{
	struct otlp_receiver *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int err;

	if (!r)
		return NULL;
	r->listen_fd = listen_loopback(&r->port);
	if (r->listen_fd < 0) {
		err = -r->listen_fd;
		free(r);
		errno = err;
		return NULL;
	}
	if (pipe2(r->wake, O_CLOEXEC)) {
		err = errno;
		close(r->listen_fd);
		free(r);
		errno = err;
		return NULL;
	}
	snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%u/v1/traces", r->port);
	r->plans_tail = &r->plans;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&r->thread, NULL, serve, r);
	if (err) {
		close(r->listen_fd);
		close(r->wake[0]);
		close(r->wake[1]);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

void otlp_receiver_stop(struct otlp_receiver *r)
{
	if (!r)
		return;
	if (write(r->wake[1], "x", 1) != 1)
		perror("otlp_receiver_stop: write");
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
	close(r->wake[0]);
	close(r->wake[1]);
	for (size_t i = 0; i < r->n_reqs; i++)
		request_free(r->reqs[i]);
	free(r->reqs);
	while (r->plans)
		plan_free(plan_pop(r));
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

uint16_t otlp_receiver_port(const struct otlp_receiver *r)
{
	return r->port;
}

const char *otlp_receiver_url(const struct otlp_receiver *r)
{
	return r->url;
}

static char *dup_or_null(const void *p, size_t len)
{
	char *c;

	if (!p)
		return NULL;
	c = malloc(len + 1);
	if (c) {
		memcpy(c, p, len);
		c[len] = '\0';
	}
	return c;
}

int otlp_receiver_plan(struct otlp_receiver *r, const struct otlp_response *resp)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->resp = *resp;
	p->resp.headers = dup_or_null(resp->headers, resp->headers ? strlen(resp->headers) : 0);
	p->resp.body = dup_or_null(resp->body, resp->body_len);
	p->resp.content_type = dup_or_null(resp->content_type,
					   resp->content_type ? strlen(resp->content_type) : 0);
	if ((resp->headers && !p->resp.headers) || (resp->body && !p->resp.body) ||
	    (resp->content_type && !p->resp.content_type)) {
		plan_free(p);
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	*r->plans_tail = p;
	r->plans_tail = &p->next;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void otlp_receiver_set_hang(struct otlp_receiver *r, bool hang)
{
	pthread_mutex_lock(&r->lock);
	r->hang = hang;
	pthread_mutex_unlock(&r->lock);
}

size_t otlp_receiver_count(struct otlp_receiver *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n_reqs;
	pthread_mutex_unlock(&r->lock);
	return n;
}

const struct otlp_request *otlp_receiver_request(struct otlp_receiver *r, size_t i)
{
	const struct otlp_request *q;

	pthread_mutex_lock(&r->lock);
	q = i < r->n_reqs ? r->reqs[i] : NULL;
	pthread_mutex_unlock(&r->lock);
	return q;
}

unsigned int otlp_receiver_connections(struct otlp_receiver *r)
{
	unsigned int n;

	pthread_mutex_lock(&r->lock);
	n = r->n_conns_total;
	pthread_mutex_unlock(&r->lock);
	return n;
}

bool otlp_receiver_wait(struct otlp_receiver *r, size_t n, uint32_t timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ull),
			       .tv_nsec = (long)(deadline % 1000000000ull) };
	bool ok;

	pthread_mutex_lock(&r->lock);
	while (r->n_reqs < n)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) == ETIMEDOUT)
			break;
	ok = r->n_reqs >= n;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

uint8_t *otlp_partial_success_pb(int64_t rejected, const char *message, size_t *len)
{
	partial_success_pb ps =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	trace_response_pb resp =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	uint8_t *buf;

	ps.rejected_spans = rejected;
	ps.error_message = (char *)(message ? message : "");
	resp.partial_success = &ps;
	*len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
		&resp);
	buf = malloc(*len ? *len : 1);
	if (buf)
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
			&resp, buf);
	return buf;
}

uint16_t otlp_unused_port(void)
{
	uint16_t port = 0;
	int fd = listen_loopback(&port);

	if (fd < 0)
		return 0;
	/* Closed right away: connecting to it is refused (until someone else binds it). */
	close(fd);
	return port;
}
