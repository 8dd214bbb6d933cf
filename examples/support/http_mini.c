// SPDX-License-Identifier: Apache-2.0
/*
 * http_mini: the demo services' HTTP/1.1 (see http_mini.h). Owns the socket work of both
 * sides: reading a message head into a bounded buffer, the few header fields that frame a
 * message (Content-Length, Connection, Transfer-Encoding), the request line and the status line,
 * the thread-per-connection server loop and the per-thread keep-alive client.
 *
 * Bounds: a head is at most HEAD_MAX bytes (431), a target at most HTTP_MINI_TARGET_MAX (414), a
 * body at most BODY_LIMIT (413, discarded unread by the handlers); at most MAX_CONNS connections
 * are served at once (503 beyond); an idle connection is closed after IDLE_TIMEOUT_S. Anything
 * malformed gets a 4xx/5xx answer and the connection is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "http_mini.h"

#define HEAD_MAX 8192
#define BODY_LIMIT (1 << 20)
#define MAX_CONNS 512
#define IDLE_TIMEOUT_S 30
#define CLIENT_TIMEOUT_S 5

/* ---- Reading messages ---- */

/* A connection's receive side: bytes read but not consumed yet. */
struct reader {
	int fd;
	size_t have;
	char buf[HEAD_MAX];
};

/* What framing a head says: the fields both sides look at. */
struct fields {
	long content_length; /* -1: none */
	bool conn_close;
	bool conn_keep_alive;
	bool chunked; /* any Transfer-Encoding: neither side supports one */
	bool too_large; /* Content-Length over BODY_LIMIT */
};

static void drop(struct reader *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->have - n);
	r->have -= n;
}

/* Read more bytes: their number, 0 at EOF, -ETIMEDOUT after the socket's timeout, -errno. */
static ssize_t fill(struct reader *r)
{
	ssize_t n;

	do
		n = recv(r->fd, r->buf + r->have, sizeof(r->buf) - r->have, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	r->have += (size_t)n;
	return n;
}

/*
 * Buffer one whole head (empty lines before it are skipped, as RFC 9112 section 2.2 allows).
 * Returns its length through the blank line; 0 when the peer closed before sending a byte;
 * -EMSGSIZE when it does not fit; -ECONNRESET when the peer closed in the middle; -errno.
 */
static ssize_t read_head(struct reader *r)
{
	size_t from = 0;

	for (;;) {
		const char *end;
		ssize_t n;

		while (r->have >= 2 && r->buf[0] == '\r' && r->buf[1] == '\n')
			drop(r, 2);
		end = r->have ? memmem(r->buf + from, r->have - from, "\r\n\r\n", 4) : NULL;
		if (end)
			return end - r->buf + 4;
		if (r->have == sizeof(r->buf))
			return -EMSGSIZE;
		from = r->have > 3 ? r->have - 3 : 0;
		n = fill(r);
		if (n <= 0)
			return n < 0 ? n : r->have ? -ECONNRESET : 0;
	}
}

/*
 * Consume the head (@head_len bytes) and a body of @len bytes: the first @size - 1 go to @out
 * (NUL-terminated; @out may be NULL), the rest is discarded. Bytes after the body stay buffered.
 */
static int read_body(struct reader *r, size_t head_len, size_t len, char *out, size_t size)
{
	size_t got = 0;

	drop(r, head_len);
	while (len) {
		size_t take;

		if (!r->have) {
			ssize_t n = fill(r);

			if (n <= 0)
				return n < 0 ? (int)n : -ECONNRESET;
		}
		take = r->have < len ? r->have : len;
		if (out && got + 1 < size) {
			size_t copy = size - 1 - got < take ? size - 1 - got : take;

			memcpy(out + got, r->buf, copy);
			got += copy;
		}
		drop(r, take);
		len -= take;
	}
	if (out && size)
		out[got] = '\0';
	return 0;
}

/* The line at *@p (without its CRLF) in [*@p, @end); moves *@p past it. False when none. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *eol = memmem(*p, (size_t)(end - *p), "\r\n", 2);

	if (!eol)
		return false;
	*line = *p;
	*len = (size_t)(eol - *p);
	*p = eol + 2;
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* True when the comma-separated token list @v (length @len) holds @token (any case). */
static bool has_token(const char *v, size_t len, const char *token)
{
	size_t tl = strlen(token);

	while (len) {
		const char *comma = memchr(v, ',', len);
		size_t item = comma ? (size_t)(comma - v) : len;
		const char *s = v;
		size_t sl = item;

		trim(&s, &sl);
		if (sl == tl && !strncasecmp(s, token, tl))
			return true;
		if (!comma)
			break;
		v += item + 1;
		len -= item + 1;
	}
	return false;
}

/* Content-Length: digits only; -1 when malformed, BODY_LIMIT + 1 for anything larger. */
static long parse_length(const char *v, size_t len)
{
	long n = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n <= BODY_LIMIT)
			n = n * 10 + (v[i] - '0');
	}
	return n > BODY_LIMIT ? BODY_LIMIT + 1 : n;
}

/*
 * The header fields from @p (after the start line) to @end (the head's last CRLF included).
 * -EINVAL for a line that is not a field, or conflicting Content-Lengths.
 */
static int parse_fields(const char *p, const char *end, struct fields *f)
{
	const char *line;
	size_t len;

	*f = (struct fields){ .content_length = -1 };
	while (next_line(&p, end, &line, &len) && len) {
		const char *colon = memchr(line, ':', len);
		const char *v;
		size_t nl, vl;

		/* no colon, an empty name, or whitespace before the colon (RFC 9112 5.1) */
		if (!colon || colon == line || colon[-1] == ' ' || colon[-1] == '\t')
			return -EINVAL;
		nl = (size_t)(colon - line);
		v = colon + 1;
		vl = len - nl - 1;
		trim(&v, &vl);
		if (nl == 14 && !strncasecmp(line, "Content-Length", nl)) {
			long n = parse_length(v, vl);

			if (n < 0 || (f->content_length >= 0 && f->content_length != n))
				return -EINVAL;
			f->content_length = n;
			f->too_large = n > BODY_LIMIT;
		} else if (nl == 10 && !strncasecmp(line, "Connection", nl)) {
			f->conn_close |= has_token(v, vl, "close");
			f->conn_keep_alive |= has_token(v, vl, "keep-alive");
		} else if (nl == 17 && !strncasecmp(line, "Transfer-Encoding", nl)) {
			f->chunked = true;
		}
	}
	return 0;
}

/* ---- Writing ---- */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

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
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status >= 500 ? "Internal Server Error" : "Unknown";
	}
}

void http_mini_reply(struct http_mini_response *res, int status, const char *content_type,
		     const char *fmt, ...)
{
	va_list ap;
	int n;

	res->status = status;
	res->content_type = content_type;
	va_start(ap, fmt);
	n = vsnprintf(res->body, sizeof(res->body), fmt, ap);
	va_end(ap);
	res->body_len = n < 0			      ? 0 :
			(size_t)n < sizeof(res->body) ? (size_t)n :
							sizeof(res->body) - 1;
}

/* The whole response in one send; the body is left out for HEAD (its length is not). */
static int send_response(int fd, const struct http_mini_response *res, bool head_only,
			 bool close_after)
{
	char msg[512 + HTTP_MINI_BODY_MAX];
	int n = snprintf(msg, sizeof(msg),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			 res->status, reason(res->status),
			 res->content_type ? res->content_type : "text/plain", res->body_len,
			 res->status == 405 ? "Allow: GET, HEAD\r\n" : "",
			 close_after ? "Connection: close\r\n" : "");

	if (n < 0 || (size_t)n + res->body_len > sizeof(msg))
		return -EOVERFLOW;
	if (!head_only) {
		memcpy(msg + n, res->body, res->body_len);
		n += (int)res->body_len;
	}
	return send_all(fd, msg, (size_t)n);
}

/* An answer http_mini gives itself (errors before a handler runs); the connection closes. */
static void send_error(int fd, int status)
{
	struct http_mini_response res;

	http_mini_reply(&res, status, "text/plain", "%s\n", reason(status));
	send_response(fd, &res, false, true);
}

/* ---- Server ---- */

struct request_line {
	struct http_mini_request req;
	bool http11;
};

/*
 * "METHOD SP origin-form SP HTTP/1.x": 0, or the status to answer: 400 malformed, 414 target
 * too long, 505 another HTTP version.
 */
static int parse_request_line(const char *line, size_t len, struct request_line *out)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *target, *q;
	size_t ml, tl, vl;

	if (!sp1)
		return 400;
	ml = (size_t)(sp1 - line);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - ml - 1);
	if (!sp2 || !ml || ml >= sizeof(out->req.method))
		return 400;
	for (size_t i = 0; i < ml; i++)
		if (line[i] < 'A' || line[i] > 'Z')
			return 400;
	tl = (size_t)(sp2 - target);
	vl = len - (size_t)(sp2 + 1 - line);
	if (vl != 8 || strncmp(sp2 + 1, "HTTP/", 5))
		return 400;
	if (strncmp(sp2 + 1, "HTTP/1.", 7) || sp2[8] < '0' || sp2[8] > '9')
		return 505;
	if (!tl || target[0] != '/')
		return 400;
	if (tl >= sizeof(out->req.path))
		return 414;
	for (size_t i = 0; i < tl; i++)
		if (target[i] <= ' ' || target[i] > '~')
			return 400;
	memcpy(out->req.method, line, ml);
	out->req.method[ml] = '\0';
	q = memchr(target, '?', tl);
	if (!q)
		q = target + tl;
	memcpy(out->req.path, target, (size_t)(q - target));
	out->req.path[q - target] = '\0';
	if (q < target + tl) {
		memcpy(out->req.query, q + 1, (size_t)(target + tl - q - 1));
		out->req.query[target + tl - q - 1] = '\0';
	} else {
		out->req.query[0] = '\0';
	}
	out->http11 = sp2[8] != '0';
	return 0;
}

struct server {
	http_mini_handler handler;
	void *ctx;
	_Atomic int conns;
};

struct conn {
	struct server *srv;
	int fd;
};

/*
 * One request from the buffered head: answer it. Returns true to keep the connection
 * for the next request.
 */
static bool serve_one(struct server *srv, struct reader *r, size_t head_len)
{
	const char *p = r->buf, *end = r->buf + head_len, *line;
	struct http_mini_response res = { 0 };
	struct request_line rl;
	struct fields f;
	bool keep, head_only;
	size_t len;
	int status;

	if (memchr(r->buf, '\0', head_len) || !next_line(&p, end, &line, &len)) {
		send_error(r->fd, 400);
		return false;
	}
	status = parse_request_line(line, len, &rl);
	if (!status && parse_fields(p, end, &f))
		status = 400;
	else if (!status && f.chunked)
		status = 501;
	else if (!status && f.too_large)
		status = 413;
	if (status) {
		send_error(r->fd, status);
		return false;
	}
	if (read_body(r, head_len, f.content_length > 0 ? (size_t)f.content_length : 0, NULL, 0))
		return false;
	keep = rl.http11 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
	head_only = !strcmp(rl.req.method, "HEAD");
	if (strcmp(rl.req.method, "GET") && !head_only) {
		http_mini_reply(&res, 405, "text/plain", "%s\n", reason(405));
	} else {
		srv->handler(&rl.req, &res, srv->ctx);
		if (!res.status)
			http_mini_reply(&res, 500, "text/plain", "no response\n");
	}
	return !send_response(r->fd, &res, head_only, !keep) && keep;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	struct reader *r = malloc(sizeof(*r));

	if (r) {
		r->fd = c->fd;
		r->have = 0;
		for (;;) {
			ssize_t head_len = read_head(r);

			if (head_len == -EMSGSIZE)
				send_error(r->fd, 431);
			if (head_len <= 0 || !serve_one(c->srv, r, (size_t)head_len))
				break;
		}
		free(r);
	}
	close(c->fd);
	atomic_fetch_sub(&c->srv->conns, 1);
	free(c);
	return NULL;
}

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Start a thread for a new connection, or answer 503 when there are too many. */
static void start_conn(struct server *srv, pthread_attr_t *attr, int fd)
{
	struct conn *c;
	pthread_t th;

	set_timeouts(fd, IDLE_TIMEOUT_S);
	if (atomic_fetch_add(&srv->conns, 1) >= MAX_CONNS)
		goto refuse;
	c = malloc(sizeof(*c));
	if (!c)
		goto refuse;
	c->srv = srv;
	c->fd = fd;
	if (!pthread_create(&th, attr, serve_conn, c))
		return;
	free(c);
refuse:
	atomic_fetch_sub(&srv->conns, 1);
	send_error(fd, 503);
	close(fd);
}

static int listen_loopback(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1, err, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

int http_mini_serve(uint16_t port, http_mini_handler handler, void *ctx)
{
	struct server srv = { .handler = handler, .ctx = ctx };
	pthread_attr_t attr;
	uint16_t bound = 0;
	int lfd = listen_loopback(port, &bound), err = 0;

	if (lfd < 0) {
		fprintf(stderr, "cannot listen on 127.0.0.1:%u: %s\n", port, strerror(-lfd));
		return lfd;
	}
	printf("port %u\n", bound);
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!err) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			start_conn(&srv, &attr, fd);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			   errno == ENOMEM) {
			usleep(10000); /* out of resources: let connections finish */
		} else if (errno != EINTR && errno != ECONNABORTED) {
			err = -errno;
			fprintf(stderr, "accept: %s\n", strerror(errno));
		}
	}
	pthread_attr_destroy(&attr);
	close(lfd);
	return err;
}

int http_mini_path_segment(const char *path, const char *prefix, char *out, size_t size)
{
	size_t pl = strlen(prefix), sl;
	const char *seg = path + pl;

	if (strncmp(path, prefix, pl))
		return -ENOENT;
	sl = strlen(seg);
	if (!sl)
		return -EINVAL;
	for (size_t i = 0; i < sl; i++)
		if (!(seg[i] >= 'a' && seg[i] <= 'z') && !(seg[i] >= 'A' && seg[i] <= 'Z') &&
		    !(seg[i] >= '0' && seg[i] <= '9') && !strchr("-._~", seg[i]))
			return -EINVAL;
	if (sl >= size)
		return -ENOSPC;
	memcpy(out, seg, sl + 1);
	return 0;
}

int http_mini_query_param(const char *query, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);

	for (const char *p = query; *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nl && p[nl] == '=' && !strncmp(p, name, nl)) {
			if (len - nl - 1 >= size)
				return -ENOSPC;
			memcpy(out, p + nl + 1, len - nl - 1);
			out[len - nl - 1] = '\0';
			return 0;
		}
		p += len + (amp ? 1 : 0);
	}
	return -ENOENT;
}

int http_mini_parse_port(const char *flag, const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v > 65535 || text[0] == '-' || text[0] == '+') {
		fprintf(stderr, "%s: '%s' is not a TCP port (0-65535)\n", flag, text);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* ---- Client ---- */

/* The calling thread's connection to an upstream, kept between calls. */
struct client_conn {
	int fd;
	uint16_t port;
};

static pthread_key_t client_key;
static pthread_once_t client_once = PTHREAD_ONCE_INIT;

static void client_conn_free(void *p)
{
	struct client_conn *c = p;

	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void client_key_init(void)
{
	pthread_key_create(&client_key, client_conn_free);
}

static struct client_conn *client_conn_get(void)
{
	struct client_conn *c;

	pthread_once(&client_once, client_key_init);
	c = pthread_getspecific(client_key);
	if (!c) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->fd = -1;
		if (pthread_setspecific(client_key, c)) {
			free(c);
			return NULL;
		}
	}
	return c;
}

static void client_close(struct client_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int client_connect(struct client_conn *c, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int err, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	set_timeouts(fd, CLIENT_TIMEOUT_S);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		close(fd);
		return err;
	}
	c->fd = fd;
	c->port = port;
	return 0;
}

/* "HTTP/1.x SSS ...": the status and whether the version is 1.1; -EPROTO otherwise. */
static int parse_status_line(const char *line, size_t len, bool *http11)
{
	int status = 0;

	if (len < 12 || strncmp(line, "HTTP/1.", 7) || line[8] != ' ' ||
	    (len > 12 && line[12] != ' '))
		return -EPROTO;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EPROTO;
		status = status * 10 + (line[i] - '0');
	}
	*http11 = line[7] == '1';
	return status >= 100 ? status : -EPROTO;
}

/*
 * One exchange on the open connection. Returns the status, or -errno; *@stale is set when the
 * connection was found closed before any byte of the response (a kept connection the server
 * had closed: worth one retry on a new one).
 */
static int client_exchange(struct client_conn *c, const char *req, size_t req_len, char *body,
			   size_t size, bool *stale)
{
	struct reader *r = malloc(sizeof(*r));
	const char *p, *line;
	struct fields f;
	ssize_t head_len;
	bool http11 = false;
	size_t len;
	int status;

	*stale = false;
	if (!r)
		return -ENOMEM;
	r->fd = c->fd;
	r->have = 0;
	status = send_all(c->fd, req, req_len);
	if (status) {
		*stale = status == -EPIPE || status == -ECONNRESET;
		goto out;
	}
	head_len = read_head(r);
	if (head_len <= 0) {
		*stale = head_len == 0 || (head_len == -ECONNRESET && !r->have);
		status = head_len ? (int)head_len : -ECONNRESET;
		goto out;
	}
	p = r->buf;
	if (memchr(r->buf, '\0', (size_t)head_len) ||
	    !next_line(&p, r->buf + head_len, &line, &len)) {
		status = -EPROTO;
		goto out;
	}
	status = parse_status_line(line, len, &http11);
	if (status >= 0 && (parse_fields(p, r->buf + head_len, &f) || f.chunked ||
			    f.content_length < 0 || f.too_large))
		status = -EPROTO;
	if (status < 0)
		goto out;
	len = (size_t)f.content_length;
	if (read_body(r, (size_t)head_len, len, body, size))
		status = -ECONNRESET;
	else if (r->have || f.conn_close || (!http11 && !f.conn_keep_alive))
		client_close(c); /* extra bytes or the server's wish: do not reuse */
out:
	if (status < 0)
		client_close(c);
	free(r);
	return status;
}

int http_mini_get(uint16_t port, const char *path, char *body, size_t size)
{
	struct client_conn *c = client_conn_get();
	char req[HTTP_MINI_TARGET_MAX + 128];
	int n, status = -ECONNRESET;

	if (!c)
		return -ENOMEM;
	if (path[0] != '/' || strlen(path) >= HTTP_MINI_TARGET_MAX)
		return -EINVAL;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", path, port);
	if (c->fd >= 0 && c->port != port)
		client_close(c);
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = c->fd >= 0, stale;

		if (!reused) {
			status = client_connect(c, port);
			if (status)
				return status;
		}
		status = client_exchange(c, req, (size_t)n, body, size, &stale);
		if (!(stale && reused))
			break;
	}
	return status;
}
