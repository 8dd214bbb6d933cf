// SPDX-License-Identifier: Apache-2.0
/*
 * The OTLP/HTTP trace exporter: encodes a batch (protobuf or JSON), optionally
 * gzips it, POSTs it with libcurl and applies the OTLP/HTTP retry rules
 * (retry.c) within the export's time budget.
 *
 * Transport. One easy handle driven by one multi handle, both kept for the
 * exporter's life so the connection stays alive between exports. The multi
 * handle is what makes shutdown prompt: every wait (a transfer in progress
 * or the sleep between retries) is curl_multi_poll(), which shutdown() wakes
 * with curl_multi_wakeup() from any thread; the exporting thread then sees
 * the flag and abandons the transfer at once.
 *
 * Time budget. An export ends by min(deadline passed in, now + timeout): the
 * spec's timeout is "the maximum time the exporter will wait for each batch
 * export", retries included. A retry whose wait would end past that budget
 * is not attempted; the export fails right away instead of sleeping in vain.
 *
 * Size limits (OTLP/HTTP, opentelemetry-proto docs/specification.md): a
 * request body over 64 MiB before compression is not sent (failed, counted,
 * logged: the client "MUST NOT make the request"); a response body over
 * 4 MiB is not read further and the export fails without retry, as the spec
 * asks for an oversized response.
 *
 * Statistics: spans_ok counts spans the server accepted; spans of a partial
 * success that the server rejected count in spans_rejected instead; spans of
 * failed exports (including those after shutdown) in spans_failed. bytes_sent
 * counts request body bytes curl uploaded, retries included.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>
#include <otel/export.h>
#include <otel/version.h>
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "otlp_config.h"
#include "retry.h"
#include "span.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define OTLP_MAX_REQUEST_BYTES (64u << 20)
#define OTLP_MAX_RESPONSE_BYTES (4u << 20)
/* Longest single wait in curl_multi_poll(): deadlines are re-checked at least this often. */
#define OTLP_POLL_SLICE_MS 1000
/* A response buffer that grew past this is freed after the export, not kept. */
#define OTLP_KEEP_RESPONSE_BUF 65536

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse trace_response_pb;

struct otlp_counters {
	_Atomic uint64_t exports_ok;
	_Atomic uint64_t exports_failed;
	_Atomic uint64_t spans_ok;
	_Atomic uint64_t spans_failed;
	_Atomic uint64_t spans_rejected;
	_Atomic uint64_t retries;
	_Atomic uint64_t bytes_sent;
};

struct otlp_exporter {
	struct otel_span_exporter base;
	struct otel_otlp_config cfg;
	struct curl_slist *headers;
	CURL *easy;
	CURLM *multi;
	pid_t pid; /* the process the handles belong to (see reinit_after_fork) */
	atomic_bool shut_down;

	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when an export ends */
	bool busy;

	/* The current attempt's response, written by curl's callbacks. */
	struct otel_buf resp;
	bool resp_too_large;
	char retry_after[64];
	char resp_type[64];

	struct otlp_counters st;
	struct otel_ratelimit fail_rl; /* export failures */
	struct otel_ratelimit partial_rl; /* partial-success warnings */
};

/* How one attempt ended. */
struct attempt {
	CURLcode cc;
	long status;
	bool aborted; /* by shutdown */
};

static const struct otel_span_exporter_ops otlp_ops;

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/*
 * A rate-limited warning (at most one per 10 s per @rl, then a count of the
 * suppressed ones). Each exporter has its own limiters, so a failing
 * endpoint does not hide what another exporter reports.
 */
static void __attribute__((format(printf, 2, 3)))
log_limited(struct otel_ratelimit *rl, const char *fmt, ...)
{
	uint64_t suppressed;
	char msg[480];
	va_list ap;

	if (!otel_ratelimit_allow(rl, 10, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed)
		otel_log(OTEL_LOG_WARN, "(%llu similar messages suppressed)",
			 (unsigned long long)suppressed);
	otel_log(OTEL_LOG_WARN, "%s", msg);
}

/* Export failures, one warning stream per exporter. */
#define log_failure(E, FMT, ...) log_limited(&(E)->fail_rl, "OTLP export failed: " FMT, __VA_ARGS__)

/* ---- Response parsing: partial success and error messages ---- */

/* A minimal JSON reader: just enough to find members and read strings/integers. */
struct jcur {
	const char *p, *end;
};

static void j_ws(struct jcur *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static bool j_eat(struct jcur *j, char c)
{
	j_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/* A JSON string; its content (escapes simplified, truncated) into @out unless NULL. */
static bool j_string(struct jcur *j, char *out, size_t size)
{
	size_t n = 0;

	if (!j_eat(j, '"'))
		return false;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			c = *j->p++;
			if (c == 'u') {
				j->p += j->end - j->p < 4 ? j->end - j->p : 4;
				c = '?';
			} else if (c == 'n' || c == 'r' || c == 't' || c == 'b' || c == 'f') {
				c = ' ';
			}
		}
		if (out && n + 1 < size)
			out[n++] = c;
	}
	if (out && size)
		out[n] = '\0';
	return j_eat(j, '"');
}

static bool j_skip(struct jcur *j, int depth)
{
	char close;

	j_ws(j);
	if (j->p >= j->end || depth > 32)
		return false;
	if (*j->p == '"')
		return j_string(j, NULL, 0);
	if (*j->p != '{' && *j->p != '[') {
		/* number, true, false, null */
		while (j->p < j->end && !memchr(",}] \t\r\n", *j->p, 7))
			j->p++;
		return true;
	}
	close = *j->p == '{' ? '}' : ']';
	j->p++;
	if (j_eat(j, close))
		return true;
	do {
		if (close == '}' && (!j_string(j, NULL, 0) || !j_eat(j, ':')))
			return false;
		if (!j_skip(j, depth + 1))
			return false;
	} while (j_eat(j, ','));
	return j_eat(j, close);
}

/* Move @j to the value of member @a (or its proto name @b) of the object at @j. */
static bool j_member(struct jcur *j, const char *a, const char *b)
{
	char key[64];

	if (!j_eat(j, '{') || j_eat(j, '}'))
		return false;
	do {
		if (!j_string(j, key, sizeof(key)) || !j_eat(j, ':'))
			return false;
		if (!strcmp(key, a) || !strcmp(key, b)) {
			j_ws(j);
			return true;
		}
		if (!j_skip(j, 0))
			return false;
	} while (j_eat(j, ','));
	return false;
}

/* An int64 written as a number or (proto3 JSON) as a decimal string. */
static int64_t j_int64(struct jcur *j)
{
	char num[32];
	size_t n = 0;

	j_ws(j);
	if (j->p < j->end && *j->p == '"')
		return j_string(j, num, sizeof(num)) ? strtoll(num, NULL, 10) : 0;
	while (j->p < j->end && n + 1 < sizeof(num) && memchr("-0123456789", *j->p, 11))
		num[n++] = *j->p++;
	num[n] = '\0';
	return strtoll(num, NULL, 10);
}

static void json_partial_success(const char *body, size_t len, int64_t *rejected, char *msg,
				 size_t size)
{
	struct jcur j = { body, body + len }, m;

	if (!j_member(&j, "partialSuccess", "partial_success"))
		return;
	m = j;
	if (j_member(&m, "rejectedSpans", "rejected_spans"))
		*rejected = j_int64(&m);
	m = j;
	if (j_member(&m, "errorMessage", "error_message"))
		j_string(&m, msg, size);
}

static void pb_partial_success(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
			       size_t size)
{
	trace_response_pb *r =
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
			NULL, len, body);

	if (!r)
		return;
	if (r->partial_success) {
		*rejected = r->partial_success->rejected_spans;
		snprintf(msg, size, "%s",
			 r->partial_success->error_message ? r->partial_success->error_message :
							     "");
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
		r, NULL);
}

static bool pb_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned int shift = 0; *i < len && shift < 64; shift += 7) {
		uint8_t b = p[(*i)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* google.rpc.Status.message (field 2) of a protobuf error body. */
static void pb_status_message(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t i = 0;
	uint64_t key, v;

	while (i < len && pb_varint(p, len, &i, &key)) {
		switch (key & 7) {
		case 0:
			if (!pb_varint(p, len, &i, &v))
				return;
			break;
		case 1:
		case 5:
			i += (key & 7) == 1 ? 8 : 4;
			break;
		case 2:
			if (!pb_varint(p, len, &i, &v) || v > len - i)
				return;
			if (key >> 3 == 2) {
				snprintf(out, size, "%.*s", (int)(v < size ? v : size - 1),
					 (const char *)p + i);
				return;
			}
			i += (size_t)v;
			break;
		default:
			return;
		}
	}
}

static bool response_is_json(const struct otlp_exporter *e)
{
	if (e->resp_type[0])
		return !strncasecmp(e->resp_type, "application/json", 16);
	return e->cfg.protocol == OTEL_OTLP_HTTP_JSON;
}

/* Keep a server-supplied message printable for the log. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

/* The message of an error response (Status.message), "" if none. */
static void error_message(const struct otlp_exporter *e, char *out, size_t size)
{
	struct jcur j;

	out[0] = '\0';
	if (!e->resp.len)
		return;
	j = (struct jcur){ e->resp.data, e->resp.data + e->resp.len };
	if (response_is_json(e)) {
		if (j_member(&j, "message", "message"))
			j_string(&j, out, size);
	} else if (!strncasecmp(e->resp_type, "application/x-protobuf", 22)) {
		pb_status_message((const uint8_t *)e->resp.data, e->resp.len, out, size);
	}
	sanitize(out);
}

/* A 2xx: count accepted and rejected spans per the partial_success field. */
static void handle_success(struct otlp_exporter *e, size_t n)
{
	int64_t rejected = 0;
	char msg[256] = "";
	uint64_t bad;

	if (e->resp.len && response_is_json(e))
		json_partial_success(e->resp.data, e->resp.len, &rejected, msg, sizeof(msg));
	else if (e->resp.len)
		pb_partial_success((const uint8_t *)e->resp.data, e->resp.len, &rejected, msg,
				   sizeof(msg));
	bad = rejected <= 0 ? 0 : (uint64_t)rejected > n ? n : (uint64_t)rejected;
	if (bad || msg[0]) {
		sanitize(msg);
		/* Not retried: the spec forbids retrying a partial success. */
		log_limited(&e->partial_rl, "OTLP receiver at %s rejected %llu of %zu spans%s%s",
			    e->cfg.url, (unsigned long long)bad, n, msg[0] ? ": " : "", msg);
	}
	count(&e->st.exports_ok, 1);
	count(&e->st.spans_ok, n - bad);
	count(&e->st.spans_rejected, bad);
}

/* ---- curl callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct otlp_exporter *e = ud;
	size_t n = size * nmemb;

	if (e->resp.len + n > OTLP_MAX_RESPONSE_BYTES) {
		e->resp_too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	otel_buf_append(&e->resp, data, n);
	return e->resp.failed ? 0 : n;
}

/* Copy a header's trimmed value into @out if @line is header @name. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	if (len <= nlen || strncasecmp(line, name, nlen) || line[nlen] != ':')
		return;
	line += nlen + 1;
	len -= nlen + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	snprintf(out, size, "%.*s", (int)len, line);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
	struct otlp_exporter *e = ud;
	size_t len = size * nitems;

	/* A status line starts a new response (after a 1xx): forget older headers. */
	if (len > 5 && !strncmp(line, "HTTP/", 5)) {
		e->retry_after[0] = '\0';
		e->resp_type[0] = '\0';
	}
	take_header(line, len, "Retry-After", e->retry_after, sizeof(e->retry_after));
	take_header(line, len, "Content-Type", e->resp_type, sizeof(e->resp_type));
	return len;
}

/* ---- Transport ---- */

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Append @line; on failure free the whole list (*@l becomes NULL). */
static void slist_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *t;

	if (!*l)
		return;
	t = curl_slist_append(*l, line);
	if (!t)
		curl_slist_free_all(*l);
	*l = t;
}

static int build_headers(struct otlp_exporter *e)
{
	const struct otel_otlp_config *c = &e->cfg;
	struct curl_slist *l;
	char line[8448];

	l = curl_slist_append(NULL, c->protocol == OTEL_OTLP_HTTP_JSON ?
					    "Content-Type: application/json" :
					    "Content-Type: application/x-protobuf");
	if (c->compression == OTEL_OTLP_COMPRESSION_GZIP)
		slist_add(&l, "Content-Encoding: gzip");
	/* No "Expect: 100-continue" round trip for larger bodies. */
	slist_add(&l, "Expect:");
	for (size_t i = 0; i < c->n_headers; i++) {
		/* "Name;" is curl's way to send a header with an empty value. */
		if (c->headers[i].value[0])
			snprintf(line, sizeof(line), "%s: %s", c->headers[i].name,
				 c->headers[i].value);
		else
			snprintf(line, sizeof(line), "%s;", c->headers[i].name);
		slist_add(&l, line);
	}
	e->headers = l;
	return l ? 0 : -ENOMEM;
}

/* Set the options that hold for every request of this exporter. */
static int setup_easy(struct otlp_exporter *e)
{
	const struct otel_otlp_config *c = &e->cfg;
	CURL *h = e->easy;
	CURLcode rc = CURLE_OK;

#define SET(OPT, VAL)                                       \
	do {                                                \
		if (rc == CURLE_OK)                         \
			rc = curl_easy_setopt(h, OPT, VAL); \
	} while (0)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_HTTPHEADER, e->headers);
	SET(CURLOPT_USERAGENT, "OTel-OTLP-Exporter-C/" OTEL_VERSION_STRING);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* Redirects are not followed: they would carry the custom (credential) headers along. */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, e);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, e);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (c->client_cert_file)
		SET(CURLOPT_SSLCERT, c->client_cert_file);
	if (c->client_key_file)
		SET(CURLOPT_SSLKEY, c->client_key_file);
	if (c->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
#undef SET
	if (rc != CURLE_OK) {
		otel_log(OTEL_LOG_ERROR, "OTLP exporter: libcurl rejected an option: %s",
			 curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	}
	return 0;
}

static int open_transport(struct otlp_exporter *e)
{
	e->easy = curl_easy_init();
	e->multi = curl_multi_init();
	e->pid = getpid();
	if (!e->easy || !e->multi)
		return -ENOMEM;
	return setup_easy(e);
}

static void close_transport(struct otlp_exporter *e)
{
	curl_multi_cleanup(e->multi);
	curl_easy_cleanup(e->easy);
	e->multi = NULL;
	e->easy = NULL;
}

/*
 * In a forked child the handles' connection is the parent's socket; closing
 * it cleanly could write TLS close_notify into the parent's session. So the
 * child abandons them (a one-time leak) and opens its own.
 */
static int reinit_after_fork(struct otlp_exporter *e)
{
	if (e->pid == getpid())
		return 0;
	e->easy = NULL;
	e->multi = NULL;
	return open_transport(e);
}

/* Milliseconds from now to @deadline_ns, at least 1 (0 would mean "no timeout" to curl). */
static long ms_left(uint64_t deadline_ns)
{
	uint32_t ms = otel_ms_until(deadline_ns);

	return ms ? (long)ms : 1;
}

static bool stopping(struct otlp_exporter *e)
{
	return atomic_load_explicit(&e->shut_down, memory_order_acquire);
}

/*
 * Wait for transfer activity, shutdown's wake-up or @until_ns (at most one
 * slice). With no transfer added it is an interruptible sleep.
 */
static void poll_once(struct otlp_exporter *e, uint64_t until_ns)
{
	long ms = ms_left(until_ns);

	curl_multi_poll(e->multi, NULL, 0, ms < OTLP_POLL_SLICE_MS ? (int)ms : OTLP_POLL_SLICE_MS,
			NULL);
}

/* Wait until @until_ns; false if shutdown interrupted the wait. */
static bool sleep_until(struct otlp_exporter *e, uint64_t until_ns)
{
	while (!stopping(e) && otel_mono_ns() < until_ns)
		poll_once(e, until_ns);
	return !stopping(e);
}

/* Run the transfer to completion, the deadline or shutdown. */
static CURLcode drive(struct otlp_exporter *e, uint64_t deadline_ns, bool *aborted)
{
	CURLcode cc = CURLE_OPERATION_TIMEDOUT;
	int running = 1, left;
	CURLMsg *msg;

	while (running) {
		if (stopping(e)) {
			*aborted = true;
			return CURLE_ABORTED_BY_CALLBACK;
		}
		if (curl_multi_perform(e->multi, &running) != CURLM_OK)
			return CURLE_OUT_OF_MEMORY;
		if (!running)
			break;
		if (otel_mono_ns() >= deadline_ns)
			return CURLE_OPERATION_TIMEDOUT;
		poll_once(e, deadline_ns);
	}
	while ((msg = curl_multi_info_read(e->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	return cc;
}

/* One POST of the prepared body. */
static void attempt(struct otlp_exporter *e, uint64_t deadline_ns, struct attempt *a)
{
	curl_off_t up = 0;

	*a = (struct attempt){ .cc = CURLE_OK };
	otel_buf_clear(&e->resp);
	e->resp_too_large = false;
	e->retry_after[0] = '\0';
	e->resp_type[0] = '\0';
	curl_easy_setopt(e->easy, CURLOPT_TIMEOUT_MS, ms_left(deadline_ns));
	curl_easy_setopt(e->easy, CURLOPT_CONNECTTIMEOUT_MS, ms_left(deadline_ns));
	if (curl_multi_add_handle(e->multi, e->easy) != CURLM_OK) {
		a->cc = CURLE_OUT_OF_MEMORY;
		return;
	}
	a->cc = drive(e, deadline_ns, &a->aborted);
	curl_multi_remove_handle(e->multi, e->easy);
	if (a->cc == CURLE_OK)
		curl_easy_getinfo(e->easy, CURLINFO_RESPONSE_CODE, &a->status);
	if (curl_easy_getinfo(e->easy, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up > 0)
		count(&e->st.bytes_sent, (uint64_t)up);
}

/* Why an attempt failed, for the log. */
static void describe(struct otlp_exporter *e, const struct attempt *a, char *out, size_t size)
{
	char msg[200];

	if (e->resp_too_large) {
		snprintf(out, size, "response larger than %u MiB discarded",
			 OTLP_MAX_RESPONSE_BYTES >> 20);
	} else if (a->cc != CURLE_OK) {
		snprintf(out, size, "%s", curl_easy_strerror(a->cc));
	} else {
		error_message(e, msg, sizeof(msg));
		snprintf(out, size, "HTTP %ld%s%s", a->status, msg[0] ? ": " : "", msg);
	}
}

/* The wait before retry @retry: the server's Retry-After, else backoff with jitter. */
static uint64_t retry_wait_ms(struct otlp_exporter *e, uint32_t retry)
{
	uint64_t ms;

	if (e->retry_after[0] &&
	    !otel_retry_after_parse(e->retry_after, (int64_t)(otel_now_ns() / 1000000000ull), &ms))
		return ms;
	return otel_retry_backoff_ms(e->cfg.initial_backoff_ms, retry, otel_random_u64());
}

/* POST the body set on the handle, retrying per OTLP/HTTP; true on a 2xx. */
static bool send_with_retries(struct otlp_exporter *e, size_t n, uint64_t deadline_ns)
{
	char why[320];
	struct attempt a;

	for (uint32_t i = 1;; i++) {
		bool retryable;
		uint64_t wait;

		attempt(e, deadline_ns, &a);
		if (a.cc == CURLE_OK && a.status >= 200 && a.status < 300) {
			handle_success(e, n);
			return true;
		}
		if (a.aborted) {
			log_failure(e, "%zu spans to %s dropped: exporter shut down", n,
				    e->cfg.url);
			return false;
		}
		describe(e, &a, why, sizeof(why));
		retryable = a.cc == CURLE_OK ?
				    otel_retry_status_retryable(a.status) :
				    !e->resp_too_large && otel_retry_curl_retryable(a.cc);
		if (!retryable) {
			log_failure(e, "%zu spans to %s dropped: %s (not retryable)", n, e->cfg.url,
				    why);
			return false;
		}
		if (i >= e->cfg.max_attempts) {
			log_failure(e, "%zu spans to %s dropped: %s (gave up after %u attempts)", n,
				    e->cfg.url, why, i);
			return false;
		}
		wait = retry_wait_ms(e, i);
		if (otel_mono_ns() + wait * 1000000ull >= deadline_ns) {
			log_failure(e,
				    "%zu spans to %s dropped: %s (next retry in %llu ms would pass "
				    "the export deadline)",
				    n, e->cfg.url, why, (unsigned long long)wait);
			return false;
		}
		count(&e->st.retries, 1);
		if (!sleep_until(e, otel_mono_ns() + wait * 1000000ull)) {
			log_failure(e, "%zu spans to %s dropped: exporter shut down", n,
				    e->cfg.url);
			return false;
		}
	}
}

/* ---- Encoding ---- */

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	uint8_t *out;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	out = malloc(deflateBound(&zs, (uLong)len));
	if (out) {
		zs.next_in = (Bytef *)in;
		zs.avail_in = (uInt)len;
		zs.next_out = out;
		zs.avail_out = (uInt)deflateBound(&zs, (uLong)len);
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
			*out_len = zs.total_out;
		} else {
			free(out);
			out = NULL;
		}
	}
	deflateEnd(&zs);
	return out;
}

/* The request body, encoded (and compressed) per the configuration. */
static uint8_t *encode(struct otlp_exporter *e, const struct otel_span_data *const *spans, size_t n,
		       size_t *len)
{
	uint8_t *raw, *z;

	raw = e->cfg.protocol == OTEL_OTLP_HTTP_JSON ?
		      (uint8_t *)otel_otlp_encode_json(spans, n, len) :
		      otel_otlp_encode_protobuf(spans, n, len);
	if (!raw) {
		log_failure(e, "%zu spans dropped: encoding failed (%s)", n, strerror(errno));
		return NULL;
	}
	if (*len > OTLP_MAX_REQUEST_BYTES) {
		log_failure(e,
			    "%zu spans dropped: the request (%zu bytes) exceeds the %u MiB limit; "
			    "lower the batch size",
			    n, *len, OTLP_MAX_REQUEST_BYTES >> 20);
		free(raw);
		return NULL;
	}
	if (e->cfg.compression != OTEL_OTLP_COMPRESSION_GZIP)
		return raw;
	z = gzip(raw, *len, len);
	free(raw);
	if (!z)
		log_failure(e, "%zu spans dropped: gzip compression failed", n);
	return z;
}

/* ---- Exporter operations ---- */

/* Claim the transport for one export; false once shut down. */
static bool export_begin(struct otlp_exporter *e)
{
	bool ok;

	pthread_mutex_lock(&e->lock);
	/* In a forked child the export that was running belongs to a thread that is gone. */
	if (e->pid != getpid())
		e->busy = false;
	while (e->busy && !stopping(e))
		pthread_cond_wait(&e->idle, &e->lock);
	ok = !stopping(e);
	if (ok)
		e->busy = true;
	pthread_mutex_unlock(&e->lock);
	return ok;
}

static void export_end(struct otlp_exporter *e)
{
	if (e->resp.cap > OTLP_KEEP_RESPONSE_BUF)
		otel_buf_release(&e->resp);
	pthread_mutex_lock(&e->lock);
	e->busy = false;
	pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);
}

static bool export_locked(struct otlp_exporter *e, const struct otel_span_data *const *spans,
			  size_t n, uint64_t deadline_ns)
{
	uint64_t budget = otel_deadline_after_ms(e->cfg.timeout_ms);
	size_t len = 0;
	uint8_t *body;
	bool ok;

	if (reinit_after_fork(e)) {
		log_failure(e, "%zu spans dropped: cannot set up the HTTP client after fork", n);
		return false;
	}
	body = encode(e, spans, n, &len);
	if (!body)
		return false;
	curl_easy_setopt(e->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	ok = send_with_retries(e, n, deadline_ns < budget ? deadline_ns : budget);
	curl_easy_setopt(e->easy, CURLOPT_POSTFIELDS, NULL);
	free(body);
	return ok;
}

static enum otel_export_result otlp_export(struct otel_span_exporter *exp,
					   const struct otel_span_data *const *spans, size_t n,
					   uint64_t deadline_ns)
{
	struct otlp_exporter *e = (struct otlp_exporter *)exp;
	bool ok;

	if (!export_begin(e)) {
		count(&e->st.exports_failed, 1);
		count(&e->st.spans_failed, n);
		return OTEL_EXPORT_FAILURE;
	}
	/* The spec: senders SHOULD NOT send empty envelopes. */
	ok = !n || export_locked(e, spans, n, deadline_ns);
	if (n && !ok) {
		count(&e->st.exports_failed, 1);
		count(&e->st.spans_failed, n);
	}
	export_end(e);
	return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static int otlp_force_flush(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	(void)exp;
	(void)deadline_ns;
	return 0; /* nothing is buffered: every export is sent synchronously */
}

/*
 * Set the flag, wake an export in flight (transfer or backoff wait; the
 * wake-up is thread-safe) and wait for it to return, until @ts (NULL: no
 * limit). 0 or ETIMEDOUT.
 */
static int stop(struct otlp_exporter *e, const struct timespec *ts)
{
	int err = 0;

	pthread_mutex_lock(&e->lock);
	atomic_store_explicit(&e->shut_down, true, memory_order_release);
	if (e->multi)
		curl_multi_wakeup(e->multi);
	/* Exports waiting for their turn in export_begin() give up too. */
	pthread_cond_broadcast(&e->idle);
	while (e->busy && !err)
		err = ts ? pthread_cond_timedwait(&e->idle, &e->lock, ts) :
			   pthread_cond_wait(&e->idle, &e->lock);
	pthread_mutex_unlock(&e->lock);
	return err;
}

static int otlp_shutdown(struct otel_span_exporter *exp, uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
			       .tv_nsec = (long)(deadline_ns % 1000000000ull) };

	return stop((struct otlp_exporter *)exp, &ts) == ETIMEDOUT ? -ETIMEDOUT : 0;
}

static void otlp_destroy(struct otel_span_exporter *exp)
{
	struct otlp_exporter *e = (struct otlp_exporter *)exp;

	/* An export still in flight (shutdown timed out) is interrupted; its end is near. */
	stop(e, NULL);
	close_transport(e);
	curl_slist_free_all(e->headers);
	otel_otlp_config_free(&e->cfg);
	otel_buf_release(&e->resp);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->idle);
	free(e);
}

static const struct otel_span_exporter_ops otlp_ops = {
	.export_spans = otlp_export,
	.force_flush = otlp_force_flush,
	.shutdown = otlp_shutdown,
	.destroy = otlp_destroy,
};

static int init_sync(struct otlp_exporter *e)
{
	pthread_condattr_t ca;
	int err;

	err = pthread_condattr_init(&ca);
	if (err)
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&e->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (err)
		return -err;
	err = pthread_mutex_init(&e->lock, NULL);
	if (err) {
		pthread_cond_destroy(&e->idle);
		return -err;
	}
	return 0;
}

struct otel_span_exporter *otel_otlp_http_exporter_new(const struct otel_otlp_http_opts *opts)
{
	static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	int err;

	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	err = otel_otlp_config_resolve(opts, &e->cfg);
	if (!err)
		err = init_sync(e);
	if (err) {
		otel_otlp_config_free(&e->cfg);
		free(e);
		errno = -err;
		return NULL;
	}
	e->base.ops = &otlp_ops;
	pthread_once(&curl_once, curl_init_once);
	err = build_headers(e);
	if (!err)
		err = open_transport(e);
	if (err) {
		otlp_destroy(&e->base);
		errno = -err;
		return NULL;
	}
	otel_log(OTEL_LOG_DEBUG, "OTLP exporter: %s to %s%s, timeout %u ms",
		 e->cfg.protocol == OTEL_OTLP_HTTP_JSON ? "http/json" : "http/protobuf", e->cfg.url,
		 e->cfg.compression == OTEL_OTLP_COMPRESSION_GZIP ? " (gzip)" : "",
		 e->cfg.timeout_ms);
	return &e->base;
}

int otel_otlp_http_exporter_stats(const struct otel_span_exporter *exp, struct otel_otlp_stats *out)
{
	const struct otlp_exporter *e = (const struct otlp_exporter *)exp;

	if (!exp || !out || exp->ops != &otlp_ops)
		return -EINVAL;
	out->exports_ok = atomic_load(&e->st.exports_ok);
	out->exports_failed = atomic_load(&e->st.exports_failed);
	out->spans_ok = atomic_load(&e->st.spans_ok);
	out->spans_failed = atomic_load(&e->st.spans_failed);
	out->spans_rejected = atomic_load(&e->st.spans_rejected);
	out->retries = atomic_load(&e->st.retries);
	out->bytes_sent = atomic_load(&e->st.bytes_sent);
	return 0;
}
