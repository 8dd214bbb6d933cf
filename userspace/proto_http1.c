// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/proto_http1.c: HTTP/1.0 and 1.1 (RFC 9112) as a kspan parser. It
 * owns message framing in both directions (Content-Length, chunked, close-
 * delimited, no-body responses), pairing of responses with requests (FIFO, so
 * pipelining works), and the few request fields a span needs.
 *
 * Each direction is a small state machine that consumes bytes as they come, so
 * a message split over any number of reads gives the same result as one read.
 * Lines (start line, fields, chunk sizes) are taken straight from the caller's
 * bytes when whole, and gathered in a bounded per-direction buffer only when a
 * read ends inside one.
 *
 * Losing our place (bytes not captured inside a head or a chunk line) is
 * survivable: the direction waits for a read that starts with a message, as
 * a connection first seen mid-stream does. Bytes that are not HTTP stop the
 * parser for good; the caller stops tracking the connection.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto_http1.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Smallest detect() confidence that lets an out-of-sync direction start again. */
#define RESYNC_CONFIDENCE 70
#define LINE_BUF_MIN 256

enum phase {
	PH_IDLE, /* between messages: empty lines are skipped, then a start line begins */
	PH_START, /* in the start line */
	PH_FIELDS, /* field lines of the head */
	PH_BODY, /* a Content-Length body: `remaining` bytes to go */
	PH_CHUNK_SIZE, /* chunk-size [; ext] line */
	PH_CHUNK_DATA, /* `remaining` bytes of chunk data */
	PH_CHUNK_END, /* the CRLF after chunk data */
	PH_TRAILERS, /* trailer lines after the last chunk */
	PH_BODY_EOF, /* a close-delimited response body */
	PH_UNSYNCED, /* place lost: skip until a read starts with a message */
};

/* The request fields kept for the span. */
enum field { FLD_METHOD, FLD_TARGET, FLD_HOST, FLD_UA, FLD_TRACEPARENT, FLD_TRACESTATE, FLD_N };

/* A request, from its start line until its response is reported. */
struct h1_rec {
	struct h1_rec *next; /* pending FIFO */
	uint64_t seq; /* kspan_parser_event.req_seq */
	uint64_t first_ns, last_ns, body_bytes, wire_bytes;
	uint32_t pflags; /* KSPAN_PEF_* */
	uint32_t xflags; /* KSPAN_HTTP1_F_* */
	uint16_t len[FLD_N];
	uint8_t version;
	bool is_head, is_connect, upgrade;
	char method[KSPAN_HTTP1_METHOD_MAX + 1];
	char target[KSPAN_HTTP1_TARGET_MAX + 1];
	char host[KSPAN_HTTP1_HOST_MAX + 1];
	char ua[KSPAN_HTTP1_UA_MAX + 1];
	char traceparent[KSPAN_HTTP1_TRACEPARENT_MAX + 1];
	char tracestate[KSPAN_HTTP1_TRACESTATE_MAX + 1];
};

static const struct {
	size_t off, cap;
} fld_info[FLD_N] = {
	[FLD_METHOD] = { offsetof(struct h1_rec, method), KSPAN_HTTP1_METHOD_MAX },
	[FLD_TARGET] = { offsetof(struct h1_rec, target), KSPAN_HTTP1_TARGET_MAX },
	[FLD_HOST] = { offsetof(struct h1_rec, host), KSPAN_HTTP1_HOST_MAX },
	[FLD_UA] = { offsetof(struct h1_rec, ua), KSPAN_HTTP1_UA_MAX },
	[FLD_TRACEPARENT] = { offsetof(struct h1_rec, traceparent), KSPAN_HTTP1_TRACEPARENT_MAX },
	[FLD_TRACESTATE] = { offsetof(struct h1_rec, tracestate), KSPAN_HTTP1_TRACESTATE_MAX },
};

/* One direction: its phase, line buffer and the message in progress. */
struct h1_dir {
	enum phase phase;
	char *lb; /* line buffer: a line that spans reads */
	uint32_t lb_len, lb_cap;
	bool line_open; /* a line has begun and not ended */
	bool line_cut; /* ... and was longer than the buffer */
	bool tentative; /* resynced on a guess: a bad start line means "not yet", not "not HTTP" */
	uint64_t line_start; /* head_bytes when the current line began */
	uint64_t skipped; /* bytes skipped while unsynced */

	/* The message in progress. */
	struct h1_rec *rec; /* request direction: the request being read (NULL once answered) */
	uint64_t first_ns, last_ns;
	uint64_t head_bytes, wire_bytes, body_bytes, remaining, content_length;
	uint32_t xflags;
	uint16_t status;
	uint8_t version;
	bool has_cl, te_seen, te_chunked, conn_close;
};

struct h1 {
	struct kspan_parser base;
	unsigned int flags;
	struct h1_dir dir[2];
	struct h1_rec *fifo_head, *fifo_tail; /* requests waiting for responses, oldest first */
	unsigned int fifo_len;
	uint64_t last_seq; /* of the newest request; never reset */
};

/* A parsed start line; fields point into the line. */
struct start_line {
	const uint8_t *method, *target;
	size_t method_len, target_len;
	uint8_t version;
	uint16_t status;
};

static const char *const known_methods[] = {
	"GET",	"HEAD", "POST",	 "PUT",	 "DELETE", "CONNECT", "OPTIONS", "TRACE",    "PATCH",
	"COPY", "LOCK", "MKCOL", "MOVE", "REPORT", "SEARCH",  "UNLOCK",	 "PROPFIND", "PROPPATCH",
};

static struct h1 *to_h1(struct kspan_parser *p)
{
	return (struct h1 *)((char *)p - offsetof(struct h1, base));
}

/* ---------------------------------------------------------------- byte classes */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 tchar, as a table: it runs on every byte of every method and field name. */
static const bool tchar[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['!'] = true,
	['#'] = true,	      ['$'] = true,	    ['%'] = true,	  ['&'] = true,
	['\''] = true,	      ['*'] = true,	    ['+'] = true,	  ['-'] = true,
	['.'] = true,	      ['^'] = true,	    ['_'] = true,	  ['`'] = true,
	['|'] = true,	      ['~'] = true,
};

static bool is_tchar(uint8_t c)
{
	return tchar[c];
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void trim_ows(const uint8_t **s, size_t *n)
{
	while (*n && is_ows((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ows((*s)[*n - 1]))
		(*n)--;
}

static bool eq_nocase(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && !strncasecmp((const char *)s, lit, n);
}

static bool is_known_method(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (n == strlen(known_methods[i]) && !memcmp(s, known_methods[i], n))
			return true;
	return false;
}

/* ---------------------------------------------------------------- start lines */

/*
 * The scanners below say whether s[0..n) is a start line (1), could still
 * become one (0: a consistent prefix; only when !whole) or cannot (-1). They fill
 * *sl as far as they get, so a line cut by the line buffer still yields its
 * method and target prefix.
 */
static int scan_version(const uint8_t *s, size_t n, bool whole, uint8_t *version)
{
	static const char pfx[] = "HTTP/1.";

	if (memcmp(s, pfx, MIN(n, sizeof(pfx) - 1)))
		return -1;
	if (n < sizeof(pfx))
		return whole ? -1 : 0;
	if (!is_digit(s[7]))
		return -1;
	*version = 10 + (s[7] - '0');
	return 1;
}

static int scan_request_line(const uint8_t *s, size_t n, bool whole, struct start_line *sl)
{
	size_t i = 0, t;
	int r;

	while (i < n && i < KSPAN_HTTP1_METHOD_MAX && is_tchar(s[i]))
		i++;
	if (i == n)
		return whole ? -1 : 0;
	if (i == 0 || s[i] != ' ')
		return -1;
	sl->method = s;
	sl->method_len = i;
	t = ++i;
	while (i < n && s[i] > ' ' && s[i] != 0x7f)
		i++;
	sl->target = s + t;
	sl->target_len = i - t;
	if (i == n)
		return whole ? -1 : 0;
	if (s[i] != ' ' || i == t)
		return -1;
	i++;
	r = scan_version(s + i, n - i, whole, &sl->version);
	if (r <= 0)
		return r;
	if (n - i > 8)
		return -1;
	return whole ? 1 : 0;
}

static int scan_status_line(const uint8_t *s, size_t n, bool whole, struct start_line *sl)
{
	int r = scan_version(s, n, whole, &sl->version);
	unsigned int code = 0;

	if (r <= 0)
		return r;
	if (n == 8)
		return whole ? -1 : 0;
	if (s[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++) {
		if (i == n)
			return whole ? -1 : 0;
		if (!is_digit(s[i]))
			return -1;
		code = code * 10 + (s[i] - '0');
	}
	if (code < 100 || (n > 12 && s[12] != ' '))
		return -1;
	sl->status = code;
	return whole ? 1 : 0;
}

int kspan_http1_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir)
{
	const uint8_t *lf = buf ? memchr(buf, '\n', len) : NULL;
	size_t n = lf ? (size_t)(lf - buf) : len;
	struct start_line sl = { 0 };
	bool whole = lf != NULL;
	int r;

	int conf;

	if (!buf || !len)
		return 0;
	/* A CR ends the line, or is the last byte read before its LF. */
	if (n && buf[n - 1] == '\r')
		n--;
	r = scan_status_line(buf, n, whole, &sl);
	if (r >= 0 && (r || sl.status || n >= 5)) {
		if (dir)
			*dir = KSPAN_MSG_RESPONSE;
		return r ? 100 : (sl.status ? 90 : 50);
	}
	r = scan_request_line(buf, n, whole, &sl);
	if (r < 0 || !sl.method_len)
		return 0;
	if (r)
		conf = is_known_method(sl.method, sl.method_len) ? 100 : 80;
	else
		conf = is_known_method(sl.method, sl.method_len) ? 70 : 0;
	if (conf && dir)
		*dir = KSPAN_MSG_REQUEST;
	return conf;
}

/* ---------------------------------------------------------------- records and events */

static struct kspan_str rec_str(const struct h1_rec *r, enum field f)
{
	return (struct kspan_str){ (const char *)r + fld_info[f].off, r->len[f] };
}

/* Sets field f (first value wins unless append), cut at its cap. */
static void rec_put(struct h1_rec *r, enum field f, const uint8_t *s, size_t n, bool append)
{
	char *dst = (char *)r + fld_info[f].off;
	size_t cap = fld_info[f].cap, at = 0;

	if (r->len[f] && !append)
		return;
	if (r->len[f]) {
		at = r->len[f];
		if (at < cap)
			dst[at++] = ',';
	}
	if (n > cap - at) {
		n = cap - at;
		r->xflags |= KSPAN_HTTP1_F_TRUNCATED;
	}
	memcpy(dst + at, s, n);
	dst[at + n] = '\0';
	r->len[f] = at + n;
}

/* Splits the target into path and query (absolute-form: the path after the authority). */
static void split_target(struct kspan_str t, struct kspan_str *path, struct kspan_str *query)
{
	const char *p = t.ptr, *end = t.ptr + t.len, *q;
	const char *scheme = memchr(p, ':', t.len);

	if (t.len && p[0] != '/' && scheme && end - scheme > 2 && !memcmp(scheme, "://", 3)) {
		const char *auth = scheme + 3;

		p = auth + strcspn(auth, "/?#");
		if (p > end)
			p = end;
	}
	q = p;
	while (q < end && *q != '?' && *q != '#')
		q++;
	*path = (struct kspan_str){ p, q - p };
	*query = (struct kspan_str){ end, 0 };
	if (q < end && *q == '?') {
		const char *qe = memchr(q + 1, '#', end - q - 1);

		*query = (struct kspan_str){ q + 1, (qe ? qe : end) - (q + 1) };
	}
}

static void rec_export(const struct h1_rec *r, struct kspan_http1_exchange *x)
{
	x->method = rec_str(r, FLD_METHOD);
	x->target = rec_str(r, FLD_TARGET);
	x->host = rec_str(r, FLD_HOST);
	x->user_agent = rec_str(r, FLD_UA);
	x->traceparent = rec_str(r, FLD_TRACEPARENT);
	x->tracestate = rec_str(r, FLD_TRACESTATE);
	split_target(x->target, &x->path, &x->query);
	x->req_version = r->version;
	x->req_body_bytes = r->body_bytes;
	x->req_bytes = r->wire_bytes;
	x->flags |= r->xflags;
}

/* Copies the request direction's running counts into its record. */
static void rec_sync(struct h1_rec *r, const struct h1_dir *d)
{
	r->last_ns = d->last_ns;
	r->body_bytes = d->body_bytes;
	r->wire_bytes = d->wire_bytes;
}

/* Reports an event: r is the request (or NULL), resp the response direction (or NULL). */
static void emit(struct h1 *h, enum kspan_parser_event_type type, uint32_t pflags,
		 const struct h1_rec *r, const struct h1_dir *resp)
{
	static const char empty[] = "";
	struct kspan_http1_exchange x = { 0 };
	struct kspan_parser_event ev = { .type = type, .flags = pflags, .detail = &x };
	struct kspan_str *all[] = { &x.method, &x.target,     &x.path,	      &x.query,
				    &x.host,   &x.user_agent, &x.traceparent, &x.tracestate };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		*all[i] = (struct kspan_str){ empty, 0 };
	if (r) {
		rec_export(r, &x);
		ev.flags |= r->pflags;
		ev.req_seq = r->seq;
		ev.req_first_ns = r->first_ns;
		ev.req_last_ns = r->last_ns;
	}
	if (resp) {
		x.status = resp->status;
		x.resp_version = resp->version;
		x.resp_body_bytes = resp->body_bytes;
		x.resp_bytes = resp->wire_bytes;
		x.flags |= resp->xflags;
		ev.resp_first_ns = resp->first_ns;
		ev.resp_last_ns = resp->last_ns;
	}
	if (h->base.on_event)
		h->base.on_event(h->base.ctx, &ev);
}

static void fifo_push(struct h1 *h, struct h1_rec *r)
{
	r->next = NULL;
	if (h->fifo_tail)
		h->fifo_tail->next = r;
	else
		h->fifo_head = r;
	h->fifo_tail = r;
	h->fifo_len++;
}

/* Takes the oldest pending request off the FIFO; it now belongs to the caller. */
static struct h1_rec *fifo_pop(struct h1 *h)
{
	struct h1_rec *r = h->fifo_head;
	struct h1_dir *req = &h->dir[KSPAN_MSG_REQUEST];

	if (!r)
		return NULL;
	h->fifo_head = r->next;
	if (!h->fifo_head)
		h->fifo_tail = NULL;
	h->fifo_len--;
	if (req->rec == r) {
		/* Answered before it was all read (an early response, a gap): report what
		 * we have. */
		rec_sync(r, req);
		r->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
		req->rec = NULL;
	}
	return r;
}

/* Reports the oldest pending request as never answered. */
static void report_unanswered(struct h1 *h)
{
	struct h1_rec *r = fifo_pop(h);

	h->base.stats.unanswered++;
	h->base.stats.exchanges++;
	emit(h, KSPAN_PEV_EXCHANGE, KSPAN_PEF_NO_RESPONSE, r, NULL);
	free(r);
}

/* ---------------------------------------------------------------- direction state */

static void msg_clear(struct h1_dir *d)
{
	d->first_ns = d->last_ns = 0;
	d->head_bytes = d->wire_bytes = d->body_bytes = d->remaining = d->content_length = 0;
	d->xflags = 0;
	d->status = 0;
	d->version = 0;
	d->has_cl = d->te_seen = d->te_chunked = d->conn_close = false;
}

static void line_clear(struct h1_dir *d)
{
	d->lb_len = 0;
	d->line_open = d->line_cut = false;
}

static void set_status(struct h1 *h, enum kspan_parser_status st)
{
	if (h->base.status == KSPAN_PARSER_ACTIVE)
		h->base.status = st;
}

static int status_rc(const struct h1 *h)
{
	switch (h->base.status) {
	case KSPAN_PARSER_NOT_PROTO:
		return -EPROTONOSUPPORT;
	case KSPAN_PARSER_LOST:
		return -EBADMSG;
	default:
		return 0;
	}
}

/* The direction lost its place: drop the partial message and wait for a message start. */
static void unsync(struct h1_dir *d)
{
	line_clear(d);
	msg_clear(d);
	d->phase = PH_UNSYNCED;
	d->skipped = 0;
	d->tentative = false;
}

/* Bytes that are not HTTP: fatal, unless we only guessed where a message started. */
static void not_http(struct h1 *h, struct h1_dir *d)
{
	if (!d->tentative) {
		set_status(h, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	if (d->rec && d->phase <= PH_FIELDS) {
		free(d->rec);
		d->rec = NULL;
	}
	unsync(d);
}

static void skip_bytes(struct h1 *h, struct h1_dir *d, uint64_t n)
{
	d->skipped += n;
	h->base.stats.skipped_bytes += n;
	if (d->skipped > KSPAN_HTTP1_RESYNC_MAX)
		set_status(h, KSPAN_PARSER_LOST);
}

/*
 * A read begins with a message while the direction was out of sync. For
 * responses, pending requests older than the newest had their responses in
 * the bytes we lost: report them unanswered so the FIFO lines up again.
 */
static void resync(struct h1 *h, enum kspan_msg_dir dn)
{
	struct h1_dir *d = &h->dir[dn];

	if (dn == KSPAN_MSG_RESPONSE)
		while (h->fifo_len > 1)
			report_unanswered(h);
	h->base.stats.resyncs++;
	d->phase = PH_IDLE;
	d->tentative = true;
}

/* ---------------------------------------------------------------- message ends */

static void req_done(struct h1 *h, uint64_t ts)
{
	struct h1_dir *d = &h->dir[KSPAN_MSG_REQUEST];
	struct h1_rec *r = d->rec;
	bool hold = false;

	d->last_ns = ts;
	if (r) {
		rec_sync(r, d);
		hold = r->is_connect || r->upgrade;
		d->rec = NULL;
		emit(h, KSPAN_PEV_REQUEST, 0, r, NULL);
	}
	msg_clear(d);
	d->phase = PH_IDLE;
	d->tentative = false;
	/* After CONNECT or an Upgrade request, what follows may not be HTTP: wait for the
	 * response to say (quiet on success) and meanwhile skip, resyncing if it was refused. */
	if (hold)
		unsync(d);
}

static void resp_done(struct h1 *h, uint64_t last_ns, uint32_t pflags)
{
	struct h1_dir *d = &h->dir[KSPAN_MSG_RESPONSE];
	struct h1_rec *r = fifo_pop(h);

	d->last_ns = last_ns;
	if (!r) {
		pflags |= KSPAN_PEF_NO_REQUEST;
		h->base.stats.orphan_responses++;
	}
	h->base.stats.exchanges++;
	emit(h, KSPAN_PEV_EXCHANGE, pflags, r, d);
	free(r);
	msg_clear(d);
	d->phase = PH_IDLE;
	d->tentative = false;
}

/*
 * Bytes of direction dn were lost where we cannot frame past them: report the
 * message in progress as far as we know it, then wait for a message start.
 */
static void lose_msg(struct h1 *h, enum kspan_msg_dir dn, uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];
	struct h1_rec *r = d->rec;

	if (dn == KSPAN_MSG_REQUEST && r && d->phase == PH_START) {
		/* No method yet: nothing usable to report. */
		free(r);
		d->rec = NULL;
	} else if (dn == KSPAN_MSG_REQUEST && r) {
		r->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
		if (d->phase == PH_FIELDS) {
			/* Still, the response will answer it: queue it. */
			if (h->fifo_len >= KSPAN_HTTP1_PIPELINE_MAX) {
				set_status(h, KSPAN_PARSER_LOST);
				return;
			}
			fifo_push(h, r);
			h->base.stats.requests++;
		}
		req_done(h, ts);
	} else if (dn == KSPAN_MSG_RESPONSE && d->phase > PH_START && d->phase != PH_UNSYNCED &&
		   (d->status >= 200 || d->status == 101)) {
		resp_done(h, ts, KSPAN_PEF_RESP_INCOMPLETE);
	}
	unsync(d);
}

/* ---------------------------------------------------------------- lines */

static void lb_append(struct h1 *h, struct h1_dir *d, const uint8_t *s, size_t n)
{
	size_t room;

	if (d->lb_len + n > d->lb_cap && d->lb_cap < KSPAN_HTTP1_LINE_MAX) {
		size_t cap = d->lb_cap ? d->lb_cap : LINE_BUF_MIN;
		char *nb;

		while (cap < d->lb_len + n && cap < KSPAN_HTTP1_LINE_MAX)
			cap *= 2;
		cap = MIN(cap, (size_t)KSPAN_HTTP1_LINE_MAX);
		nb = realloc(d->lb, cap);
		if (nb) {
			d->lb = nb;
			d->lb_cap = cap;
		}
	}
	room = d->lb_cap - d->lb_len;
	if (n > room) {
		if (!d->line_cut)
			h->base.stats.lines_truncated++;
		d->line_cut = true;
		n = room;
	}
	if (n) {
		memcpy(d->lb + d->lb_len, s, n);
		d->lb_len += n;
	}
}

/*
 * Takes bytes of the current line from *p. True with the whole line (CR LF
 * stripped) in *line and *n, which point at the caller's bytes or the line buffer;
 * false when the read ended inside the line (then *line and *n are what is kept).
 */
static bool take_line(struct h1 *h, struct h1_dir *d, const uint8_t **p, const uint8_t *end,
		      const uint8_t **line, size_t *n)
{
	const uint8_t *s = *p;
	const uint8_t *lf = memchr(s, '\n', end - s);
	size_t len = (lf ? lf : end) - s;

	*p = lf ? lf + 1 : end;
	if (!d->line_open)
		d->line_start = d->head_bytes;
	d->head_bytes += *p - s;
	d->wire_bytes += *p - s;
	if (lf && !d->line_open) {
		*line = s;
		*n = len;
		/* Cut a long line here too, so one read and many give the same result. */
		if (len > KSPAN_HTTP1_LINE_MAX) {
			*n = KSPAN_HTTP1_LINE_MAX;
			d->line_cut = true;
			h->base.stats.lines_truncated++;
		}
	} else {
		lb_append(h, d, s, len);
		*line = d->lb ? (const uint8_t *)d->lb : (const uint8_t *)"";
		*n = d->lb_len;
		if (!lf) {
			d->line_open = true;
			return false;
		}
	}
	if (*n && (*line)[*n - 1] == '\r')
		(*n)--;
	return true;
}

/* Wipes a buffered line that carried credentials, then forgets it. */
static void line_done(struct h1_dir *d, bool secret)
{
	if (secret && d->lb_len)
		explicit_bzero(d->lb, d->lb_len);
	line_clear(d);
}

/* ---------------------------------------------------------------- heads */

static void start_msg(struct h1 *h, enum kspan_msg_dir dn, uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];
	struct kspan_parser_event ev = { .type = KSPAN_PEV_REQUEST_START, .req_first_ns = ts };

	msg_clear(d);
	d->first_ns = d->last_ns = ts;
	d->phase = PH_START;
	if (dn != KSPAN_MSG_REQUEST)
		return;
	d->rec = calloc(1, sizeof(*d->rec));
	if (!d->rec) {
		set_status(h, KSPAN_PARSER_LOST);
		return;
	}
	d->rec->first_ns = ts;
	d->rec->seq = ++h->last_seq;
	ev.req_seq = d->rec->seq;
	if (h->base.on_event)
		h->base.on_event(h->base.ctx, &ev);
}

/* Could s[0..n) still begin a start line of direction dn? */
static bool start_prefix_ok(enum kspan_msg_dir dn, const uint8_t *s, size_t n)
{
	struct start_line sl = { 0 };

	/* The read may have ended between the CR and the LF. */
	if (n && s[n - 1] == '\r')
		n--;
	if (dn == KSPAN_MSG_RESPONSE)
		return scan_status_line(s, n, false, &sl) >= 0;
	return scan_request_line(s, n, false, &sl) >= 0;
}

/*
 * Takes a whole start line. A line longer than the line buffer is judged on
 * the part kept: a status line needs its code, a request line its method and
 * the start of its target (then marked cut, version unknown).
 */
static bool start_line_take(struct h1 *h, enum kspan_msg_dir dn, const uint8_t *s, size_t n)
{
	struct h1_dir *d = &h->dir[dn];
	struct start_line sl = { 0 };
	bool cut = d->line_cut;
	int r;

	if (dn == KSPAN_MSG_RESPONSE) {
		r = scan_status_line(s, n, !cut, &sl);
		d->version = sl.version;
		d->status = sl.status;
		return r > 0 || (cut && !r && sl.status);
	}
	r = scan_request_line(s, n, !cut, &sl);
	if (r < 0 || (!r && !(cut && sl.target_len)))
		return false;
	if (!r)
		d->rec->xflags |= KSPAN_HTTP1_F_TRUNCATED;
	rec_put(d->rec, FLD_METHOD, sl.method, sl.method_len, false);
	rec_put(d->rec, FLD_TARGET, sl.target, sl.target_len, false);
	d->rec->version = r ? sl.version : 0;
	d->rec->is_head = eq_nocase(sl.method, sl.method_len, "HEAD");
	d->rec->is_connect = eq_nocase(sl.method, sl.method_len, "CONNECT");
	return true;
}

static void step_start(struct h1 *h, enum kspan_msg_dir dn, const uint8_t **p, const uint8_t *end)
{
	struct h1_dir *d = &h->dir[dn];
	const uint8_t *line;
	size_t n;
	bool whole = take_line(h, d, p, end, &line, &n);

	/* What cannot become a start line is rejected at once: binary protocols may send
	 * no LF for a long time. */
	if (d->head_bytes > KSPAN_HTTP1_HEAD_MAX) {
		not_http(h, d);
		return;
	}
	if (!whole) {
		if (!start_prefix_ok(dn, line, n))
			not_http(h, d);
		return;
	}
	if (!start_line_take(h, dn, line, n)) {
		not_http(h, d);
		return;
	}
	line_done(d, false);
	d->phase = PH_FIELDS;
}

/* Content-Length: digits, or a list of equal values (RFC 9110 8.6). False when invalid. */
static bool parse_content_length(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, first = 0;
	bool have = false, digits = false;

	for (size_t i = 0; i <= n; i++) {
		uint8_t c = i < n ? s[i] : ',';

		if (is_digit(c)) {
			if (v > (UINT64_MAX >> 4) / 10)
				return false;
			v = v * 10 + (c - '0');
			digits = true;
		} else if (c == ',') {
			if (!digits || (have && v != first))
				return false;
			first = v;
			have = true;
			v = 0;
			digits = false;
		} else if (!is_ows(c)) {
			return false;
		}
	}
	*out = first;
	return have;
}

/* The last member of a comma list (trimmed), or an empty slice. */
static void list_last(const uint8_t *s, size_t n, const uint8_t **m, size_t *mn)
{
	size_t i = n;

	while (i && s[i - 1] != ',')
		i--;
	*m = s + i;
	*mn = n - i;
	trim_ows(m, mn);
	if (!*mn && i) {
		/* "chunked, " ends in an empty member: look before it. */
		list_last(s, i - 1, m, mn);
	}
}

static bool list_has(const uint8_t *s, size_t n, const char *tok)
{
	while (n) {
		const uint8_t *c = memchr(s, ',', n);
		size_t k = c ? (size_t)(c - s) : n;
		const uint8_t *m = s;
		size_t mn = k;

		trim_ows(&m, &mn);
		if (eq_nocase(m, mn, tok))
			return true;
		s += k;
		n -= k;
		if (c) {
			s++;
			n--;
		}
	}
	return false;
}

/* Framing fields, in both directions. False when they make the message unframeable. */
static bool framing_field(struct h1_dir *d, const uint8_t *name, size_t nn, const uint8_t *v,
			  size_t vn)
{
	if (eq_nocase(name, nn, "content-length")) {
		uint64_t cl;

		if (!parse_content_length(v, vn, &cl) || (d->has_cl && cl != d->content_length))
			return false;
		d->has_cl = true;
		d->content_length = cl;
	} else if (eq_nocase(name, nn, "transfer-encoding")) {
		const uint8_t *m;
		size_t mn;

		list_last(v, vn, &m, &mn);
		if (mn) {
			d->te_seen = true;
			d->te_chunked = eq_nocase(m, mn, "chunked");
		}
	} else if (eq_nocase(name, nn, "connection")) {
		if (list_has(v, vn, "close"))
			d->conn_close = true;
	}
	return true;
}

/* Request fields kept for the span. */
static void request_field(struct h1 *h, struct h1_dir *d, const uint8_t *name, size_t nn,
			  const uint8_t *v, size_t vn)
{
	struct h1_rec *r = d->rec;
	bool keep = d->line_start < KSPAN_HTTP1_HEADERS_KEEP && !d->line_cut;
	enum field f;

	if (eq_nocase(name, nn, "upgrade")) {
		r->upgrade = vn > 0;
		return;
	}
	if (eq_nocase(name, nn, "expect")) {
		if (eq_nocase(v, vn, "100-continue"))
			r->xflags |= KSPAN_HTTP1_F_EXPECT_CONTINUE;
		return;
	}
	if (eq_nocase(name, nn, "host"))
		f = FLD_HOST;
	else if (eq_nocase(name, nn, "user-agent"))
		f = FLD_UA;
	else if (eq_nocase(name, nn, "traceparent"))
		f = FLD_TRACEPARENT;
	else if (eq_nocase(name, nn, "tracestate"))
		f = FLD_TRACESTATE;
	else
		return;
	if (!keep) {
		h->base.stats.fields_dropped++;
		r->xflags |= KSPAN_HTTP1_F_FIELDS_DROPPED;
		return;
	}
	if (f == FLD_TRACEPARENT && r->len[f])
		r->xflags |= KSPAN_HTTP1_F_DUP_TRACEPARENT;
	rec_put(r, f, v, vn, f == FLD_TRACESTATE);
}

static bool is_secret(const uint8_t *name, size_t nn)
{
	return eq_nocase(name, nn, "authorization") || eq_nocase(name, nn, "proxy-authorization") ||
	       eq_nocase(name, nn, "cookie") || eq_nocase(name, nn, "set-cookie");
}

static void head_done(struct h1 *h, enum kspan_msg_dir dn, uint64_t ts);

/* One field line of a head; false when the bytes are not HTTP. *secret: it held credentials. */
static bool field_line(struct h1 *h, enum kspan_msg_dir dn, const uint8_t *s, size_t n,
		       bool *secret)
{
	struct h1_dir *d = &h->dir[dn];
	const uint8_t *colon, *v;
	size_t nn, vn;

	if (is_ows(s[0])) {
		/* obs-fold (RFC 9112 5.2): the continuation is dropped; the fields a span keeps
		 * never need folding. */
		h->base.stats.fields_dropped++;
		return true;
	}
	colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return false;
	nn = colon - s;
	for (size_t i = 0; i < nn; i++)
		if (!is_tchar(s[i]))
			return false;
	*secret = is_secret(s, nn);
	v = colon + 1;
	vn = n - nn - 1;
	trim_ows(&v, &vn);
	if (!framing_field(d, s, nn, v, vn)) {
		set_status(h, KSPAN_PARSER_LOST);
		return true;
	}
	if (dn == KSPAN_MSG_REQUEST && d->rec)
		request_field(h, d, s, nn, v, vn);
	return true;
}

static void step_fields(struct h1 *h, enum kspan_msg_dir dn, const uint8_t **p, const uint8_t *end,
			uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];
	const uint8_t *line;
	size_t n;
	bool secret = false;

	if (!take_line(h, d, p, end, &line, &n)) {
		if (d->head_bytes > KSPAN_HTTP1_HEAD_MAX)
			not_http(h, d);
		return;
	}
	if (!n) {
		line_done(d, false);
		head_done(h, dn, ts);
		return;
	}
	if (!field_line(h, dn, line, n, &secret)) {
		line_done(d, secret);
		not_http(h, d);
		return;
	}
	line_done(d, secret);
	if (d->head_bytes > KSPAN_HTTP1_HEAD_MAX)
		not_http(h, d);
}

/* Request framing (RFC 9112 6.3): chunked, Content-Length, or no body. */
static void req_head_done(struct h1 *h, uint64_t ts)
{
	struct h1_dir *d = &h->dir[KSPAN_MSG_REQUEST];
	struct h1_rec *r = d->rec;

	if (h->fifo_len >= KSPAN_HTTP1_PIPELINE_MAX) {
		set_status(h, KSPAN_PARSER_LOST);
		return;
	}
	fifo_push(h, r);
	h->base.stats.requests++;
	if (d->te_seen) {
		if (!d->te_chunked) {
			/* A server answers 400 and closes: nothing more to follow here. */
			set_status(h, KSPAN_PARSER_LOST);
			return;
		}
		r->xflags |= KSPAN_HTTP1_F_REQ_CHUNKED;
		d->phase = PH_CHUNK_SIZE;
	} else if (d->has_cl && d->content_length) {
		d->remaining = d->content_length;
		d->phase = PH_BODY;
	} else {
		req_done(h, ts);
	}
}

/* Response framing (RFC 9112 6.3), which depends on the request it answers. */
static void resp_head_done(struct h1 *h, uint64_t ts)
{
	struct h1_dir *d = &h->dir[KSPAN_MSG_RESPONSE];
	const struct h1_rec *r = h->fifo_head;
	unsigned int st = d->status;

	if (d->conn_close)
		d->xflags |= KSPAN_HTTP1_F_CONN_CLOSE;
	if (st < 200 && st != 101) {
		/* Interim (100 Continue, 103 Early Hints): the final response follows. */
		msg_clear(d);
		d->phase = PH_IDLE;
		return;
	}
	if (st == 101 || (r && r->is_connect && st / 100 == 2)) {
		d->xflags |= KSPAN_HTTP1_F_UPGRADED;
		resp_done(h, ts, 0);
		set_status(h, KSPAN_PARSER_UPGRADED);
		return;
	}
	if ((r && r->is_head) || st == 204 || st == 304) {
		resp_done(h, ts, 0);
	} else if (d->te_seen) {
		d->xflags |= d->te_chunked ? KSPAN_HTTP1_F_RESP_CHUNKED :
					     KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED;
		d->phase = d->te_chunked ? PH_CHUNK_SIZE : PH_BODY_EOF;
	} else if (d->has_cl) {
		d->remaining = d->content_length;
		d->phase = PH_BODY;
		if (!d->remaining)
			resp_done(h, ts, 0);
	} else {
		d->xflags |= KSPAN_HTTP1_F_RESP_CLOSE_DELIMITED;
		d->phase = PH_BODY_EOF;
	}
}

static void head_done(struct h1 *h, enum kspan_msg_dir dn, uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];

	d->tentative = false;
	/* From here head_bytes bounds chunk lines and trailers. */
	d->head_bytes = 0;
	if (dn == KSPAN_MSG_REQUEST)
		req_head_done(h, ts);
	else
		resp_head_done(h, ts);
}

/* ---------------------------------------------------------------- bodies */

static void msg_done(struct h1 *h, enum kspan_msg_dir dn, uint64_t ts)
{
	if (dn == KSPAN_MSG_REQUEST)
		req_done(h, ts);
	else
		resp_done(h, ts, 0);
}

static void body_bytes(struct h1_dir *d, uint64_t n)
{
	d->body_bytes += n;
	d->wire_bytes += n;
	d->remaining -= MIN(n, d->remaining);
}

/* "1a;ext=1" -> 26. False when the line is not a chunk-size line. */
static bool parse_chunk_size(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; i < n; i++) {
		uint8_t c = s[i];
		unsigned int x;

		if (is_digit(c))
			x = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			x = (c | 0x20) - 'a' + 10;
		else
			break;
		if (v >> 58)
			return false;
		v = v << 4 | x;
	}
	if (!i || (i < n && s[i] != ';' && !is_ows(s[i])))
		return false;
	*out = v;
	return true;
}

static void step_chunk_line(struct h1 *h, enum kspan_msg_dir dn, const uint8_t **p,
			    const uint8_t *end, uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];
	const uint8_t *line;
	size_t n;
	uint64_t size;
	bool whole = take_line(h, d, p, end, &line, &n);

	/* Chunk framing is not part of the head, but take_line counts it there: keep only the
	 * current line's bytes so a long extension is bounded the same way. */
	if (d->head_bytes > KSPAN_HTTP1_HEAD_MAX) {
		set_status(h, KSPAN_PARSER_LOST);
		return;
	}
	if (!whole)
		return;
	d->head_bytes = 0;
	if (d->phase == PH_CHUNK_END) {
		line_done(d, false);
		if (n) {
			set_status(h, KSPAN_PARSER_LOST);
			return;
		}
		d->phase = PH_CHUNK_SIZE;
		return;
	}
	if (d->phase == PH_TRAILERS) {
		line_done(d, false);
		if (!n)
			msg_done(h, dn, ts);
		return;
	}
	if (!parse_chunk_size(line, n, &size)) {
		line_done(d, false);
		set_status(h, KSPAN_PARSER_LOST);
		return;
	}
	line_done(d, false);
	d->remaining = size;
	d->phase = size ? PH_CHUNK_DATA : PH_TRAILERS;
}

static void step_body(struct h1 *h, enum kspan_msg_dir dn, const uint8_t **p, const uint8_t *end,
		      uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];
	uint64_t k = MIN((uint64_t)(end - *p), d->remaining);

	if (d->phase == PH_BODY_EOF)
		k = end - *p;
	body_bytes(d, k);
	*p += k;
	if (d->phase == PH_BODY_EOF || d->remaining)
		return;
	if (d->phase == PH_CHUNK_DATA)
		d->phase = PH_CHUNK_END;
	else
		msg_done(h, dn, ts);
}

/* ---------------------------------------------------------------- feeding */

static void consume(struct h1 *h, enum kspan_msg_dir dn, const uint8_t *p, const uint8_t *end,
		    uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];

	while (p < end && h->base.status == KSPAN_PARSER_ACTIVE) {
		if (d->phase != PH_IDLE && d->phase != PH_UNSYNCED)
			d->last_ns = ts;
		switch (d->phase) {
		case PH_IDLE:
			/* RFC 9112 2.2: empty lines before a start line are ignored. */
			while (p < end && (*p == '\r' || *p == '\n'))
				p++;
			if (p < end)
				start_msg(h, dn, ts);
			break;
		case PH_START:
			step_start(h, dn, &p, end);
			break;
		case PH_FIELDS:
			step_fields(h, dn, &p, end, ts);
			break;
		case PH_BODY:
		case PH_CHUNK_DATA:
		case PH_BODY_EOF:
			step_body(h, dn, &p, end, ts);
			break;
		case PH_CHUNK_SIZE:
		case PH_CHUNK_END:
		case PH_TRAILERS:
			step_chunk_line(h, dn, &p, end, ts);
			break;
		case PH_UNSYNCED:
			skip_bytes(h, d, end - p);
			p = end;
			break;
		}
	}
}

/* n bytes happened that were not captured: advance the framing over them. */
static void gap(struct h1 *h, enum kspan_msg_dir dn, uint64_t n, uint64_t ts)
{
	struct h1_dir *d = &h->dir[dn];

	h->base.stats.gap_bytes += n;
	while (n && h->base.status == KSPAN_PARSER_ACTIVE) {
		uint64_t k;

		switch (d->phase) {
		case PH_BODY:
		case PH_CHUNK_DATA:
			d->last_ns = ts;
			k = MIN(n, d->remaining);
			body_bytes(d, k);
			n -= k;
			if (d->remaining)
				break;
			if (d->phase == PH_BODY) {
				msg_done(h, dn, ts);
			} else if (n) {
				/* The chunk's CRLF and the next size are in the gap. */
				lose_msg(h, dn, ts);
			} else {
				d->phase = PH_CHUNK_END;
			}
			break;
		case PH_BODY_EOF:
			d->last_ns = ts;
			body_bytes(d, n);
			n = 0;
			break;
		case PH_UNSYNCED:
			skip_bytes(h, d, n);
			n = 0;
			break;
		default:
			/* A head, chunk line or trailers lost bytes: where it ends, and so where
			 * the next message starts, is unknown (a kernel capture gap typically
			 * runs to the end of the syscall's bytes anyway). */
			lose_msg(h, dn, ts);
			break;
		}
	}
}

static int h1_feed(struct kspan_parser *p, enum kspan_msg_dir dn, const uint8_t *buf,
		   size_t captured, size_t len, uint64_t ts_ns)
{
	struct h1 *h = to_h1(p);
	struct h1_dir *d;
	enum kspan_msg_dir seen;

	if ((dn != KSPAN_MSG_REQUEST && dn != KSPAN_MSG_RESPONSE) || captured > len ||
	    (!buf && captured))
		return -EINVAL;
	if (h->base.status != KSPAN_PARSER_ACTIVE)
		return status_rc(h);
	d = &h->dir[dn];
	if (d->phase == PH_UNSYNCED && captured &&
	    kspan_http1_detect(buf, captured, &seen) >= RESYNC_CONFIDENCE && seen == dn)
		resync(h, dn);
	if (captured)
		consume(h, dn, buf, buf + captured, ts_ns);
	if (len > captured && h->base.status == KSPAN_PARSER_ACTIVE)
		gap(h, dn, len - captured, ts_ns);
	return status_rc(h);
}

/* ---------------------------------------------------------------- lifecycle */

static void h1_clear(struct h1 *h, unsigned int flags)
{
	while (h->fifo_head) {
		struct h1_rec *r = h->fifo_head;

		h->fifo_head = r->next;
		if (h->dir[KSPAN_MSG_REQUEST].rec == r)
			h->dir[KSPAN_MSG_REQUEST].rec = NULL;
		free(r);
	}
	h->fifo_tail = NULL;
	h->fifo_len = 0;
	for (int i = 0; i < 2; i++) {
		struct h1_dir *d = &h->dir[i];

		free(d->rec);
		d->rec = NULL;
		line_clear(d);
		msg_clear(d);
		d->skipped = 0;
		d->tentative = false;
		d->phase = flags & KSPAN_PARSER_MIDSTREAM ? PH_UNSYNCED : PH_IDLE;
	}
	h->flags = flags;
	h->base.status = KSPAN_PARSER_ACTIVE;
}

static int h1_eof(struct kspan_parser *p, uint64_t ts_ns)
{
	struct h1 *h = to_h1(p);
	struct h1_dir *resp = &h->dir[KSPAN_MSG_RESPONSE];

	(void)ts_ns;
	if (h->base.status == KSPAN_PARSER_ACTIVE) {
		/* A close-delimited body ends here; any other body in progress was cut short. */
		if (resp->phase == PH_BODY_EOF)
			resp_done(h, resp->last_ns, 0);
		else if (resp->phase > PH_FIELDS && resp->phase != PH_UNSYNCED)
			resp_done(h, resp->last_ns, KSPAN_PEF_RESP_INCOMPLETE);
		while (h->fifo_head)
			report_unanswered(h);
	}
	h1_clear(h, h->flags);
	return 0;
}

static void h1_reset(struct kspan_parser *p, unsigned int flags)
{
	h1_clear(to_h1(p), flags);
}

static void h1_destroy(struct kspan_parser *p)
{
	struct h1 *h;

	if (!p)
		return;
	h = to_h1(p);
	h1_clear(h, 0);
	free(h->dir[0].lb);
	free(h->dir[1].lb);
	free(h);
}

static struct kspan_parser *h1_create(kspan_parser_event_fn fn, void *ctx, unsigned int flags)
{
	struct h1 *h;

	if (flags & ~KSPAN_PARSER_MIDSTREAM) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->base.ops = &kspan_http1_parser_ops;
	h->base.on_event = fn;
	h->base.ctx = ctx;
	h1_clear(h, flags);
	return &h->base;
}

const struct kspan_parser_ops kspan_http1_parser_ops = {
	.name = "http1",
	.detect = kspan_http1_detect,
	.create = h1_create,
	.feed = h1_feed,
	.eof = h1_eof,
	.reset = h1_reset,
	.destroy = h1_destroy,
};
