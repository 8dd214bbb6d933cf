// SPDX-License-Identifier: Apache-2.0
/*
 * bench_replay: the agent's userspace cost per event and per span, without
 * the kernel. A recorded-like stream of ring-buffer records (many keep-alive
 * connections of an nginx worker pair serving HTTP/1.1 GETs of nginx-like
 * sizes, interleaved, with CONN and CLOSE) is replayed through the pipeline
 * (pipeline.h) on one thread:
 *
 *  (a) discard: a span processor that drops spans at on_end: records to
 *      connections, HTTP parsing and span assembly only;
 *  (b) otlp: the real Batch processor and an exporter that encodes each batch
 *      as OTLP protobuf (otel_otlp_encode_protobuf) and throws the bytes away.
 *      The worker encodes on another thread, so per-core figures divide by the
 *      CPU time of the whole process. The queue has the agent's default size
 *      (2048); a flush every FLUSH_RECORDS records keeps it from overflowing
 *      (a replay runs flat out, faster than any capture), so no span is dropped.
 *
 * Each mode runs REPS times; median, min and max are printed, then VmRSS.
 * Usage: bench_replay [passes_per_rep] [reps] [modes: a, b or ab (default)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <otel/sdk.h>
#include "cli.h"
#include "pipeline.h"
#include "records.h"

#define N_CONNS 256 /* keep-alive connections per pass */
#define EXCHANGES 100 /* requests per connection */
#define N_WORKERS 2 /* nginx worker processes */
#define CAPTURE KSPAN_CAPTURE_BYTES_DEFAULT
#define SENDFILE_CHUNK (128u << 10)
/* Records between two flushes: about 740 spans of this stream, well under the queue's 2048. */
#define FLUSH_RECORDS 2048
#define REPS_DEFAULT 7
#define PASSES_DEFAULT 8

/* ---- the stream ---- */

/* What nginx answers, by share of requests. */
struct resource_kind {
	const char *request_path;
	int status;
	uint32_t body;
	bool sendfile; /* head written, body sent from the file */
	int percent;
};

static const struct resource_kind kinds[] = {
	{ "/", 200, 615, true, 45 },
	{ "/static/app.3f9a2c.js", 200, 24576, true, 20 },
	{ "/api/items/48213", 200, 182, false, 20 },
	{ "/favicon.ico", 404, 153, false, 10 },
	{ "/img/photo-1920.jpg", 200, 183500, true, 5 },
};

struct gen_conn {
	struct rec_sock k;
	int done; /* exchanges completed */
	bool open;
};

static const struct resource_kind *pick_kind(unsigned int *seed)
{
	int r = rand_r(seed) % 100;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (r < kinds[i].percent)
			return &kinds[i];
		r -= kinds[i].percent;
	}
	return &kinds[0];
}

/* A response as nginx writes it: the head alone (sendfile) or head and body in one write. */
static void gen_response(struct rec_stream *s, const struct rec_sock *k, uint64_t *ts,
			 const struct resource_kind *rk)
{
	static char body[CAPTURE];
	char head[512];
	uint8_t buf[CAPTURE];
	uint32_t hl, len, cap;

	if (!body[0])
		memset(body, 'a', sizeof(body));
	hl = (uint32_t)snprintf(head, sizeof(head),
				"HTTP/1.1 %d %s\r\nServer: nginx/1.22.1\r\n"
				"Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"
				"Content-Type: %s\r\nContent-Length: %u\r\n"
				"Last-Modified: Mon, 03 Jun 2024 08:12:31 GMT\r\n"
				"Connection: keep-alive\r\nETag: \"665d7a3f-%x\"\r\n"
				"Accept-Ranges: bytes\r\n\r\n",
				rk->status, rk->status == 200 ? "OK" : "Not Found",
				rk->status == 200 ? "text/html" : "text/html", rk->body, rk->body);
	if (rk->sendfile) {
		rec_data(s, k, *ts += 3000, KSPAN_DIR_EGRESS, head, hl, hl);
		for (uint32_t sent = 0; sent < rk->body; sent += SENDFILE_CHUNK) {
			struct kspan_data_rec *r;

			len = rk->body - sent < SENDFILE_CHUNK ? rk->body - sent : SENDFILE_CHUNK;
			r = rec_data(s, k, *ts += 2000, KSPAN_DIR_EGRESS, NULL, 0, len);
			r->call = KSPAN_IO_SENDFILE;
		}
		return;
	}
	len = hl + rk->body;
	cap = len < CAPTURE ? len : CAPTURE;
	memcpy(buf, head, hl);
	memcpy(buf + hl, body, cap - hl);
	rec_data(s, k, *ts += 5000, KSPAN_DIR_EGRESS, buf, cap, len);
}

static void gen_request(struct rec_stream *s, const struct rec_sock *k, uint64_t *ts,
			const struct resource_kind *rk)
{
	char req[512];

	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: www.example.com\r\n"
		 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 "
		 "Firefox/126.0\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		 "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
		 "Connection: keep-alive\r\n\r\n",
		 rk->request_path);
	rec_data_str(s, k, *ts += 1000, KSPAN_DIR_INGRESS, req);
}

/* The connections open one by one, then take turns at random; each closes after its last. */
static void gen_stream(struct rec_stream *s, size_t *exchanges)
{
	static struct gen_conn conns[N_CONNS];
	unsigned int seed = 42;
	uint64_t ts = 1000000000000ull;
	size_t open = N_CONNS;

	*exchanges = 0;
	for (int i = 0; i < N_CONNS; i++) {
		struct kspan_addr local = rec_addr_v4(10, 1, 0, 1, 80);
		struct kspan_addr remote =
			rec_addr_v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i, (uint16_t)(32768 + i));

		conns[i] = (struct gen_conn){
			.k = { .tgid = 4000 + (uint32_t)(i % N_WORKERS),
			       .fd = 10 + i / N_WORKERS,
			       .cookie = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) },
			.open = true,
		};
		rec_conn(s, &conns[i].k, ts += 500, KSPAN_ROLE_SERVER, &local, &remote);
	}
	while (open) {
		struct gen_conn *c = &conns[rand_r(&seed) % N_CONNS];
		const struct resource_kind *rk;

		if (!c->open)
			continue;
		rk = pick_kind(&seed);
		gen_request(s, &c->k, &ts, rk);
		gen_response(s, &c->k, &ts, rk);
		++*exchanges;
		if (++c->done == EXCHANGES) {
			rec_close(s, &c->k, ts += 800);
			c->open = false;
			open--;
		}
	}
}

/* ---- processors and exporter ---- */

static void discard_on_end(otel_span_processor *p, const struct otel_span_data *d)
{
	(void)p;
	(void)d;
}

static int discard_flush(otel_span_processor *p, uint32_t timeout_ms)
{
	(void)p;
	(void)timeout_ms;
	return 0;
}

static void discard_destroy(otel_span_processor *p)
{
	(void)p; /* static */
}

static const struct otel_span_processor_ops discard_ops = {
	.on_end = discard_on_end,
	.force_flush = discard_flush,
	.shutdown = discard_flush,
	.destroy = discard_destroy,
};

struct encoding_exporter {
	struct otel_span_exporter base;
	uint64_t spans, bytes, failures;
};

static enum otel_export_result encode_export(struct otel_span_exporter *e,
					     const struct otel_span_data *const *spans, size_t n,
					     uint64_t deadline_ns)
{
	struct encoding_exporter *x = (struct encoding_exporter *)e;
	size_t len = 0;
	uint8_t *buf = otel_otlp_encode_protobuf(spans, n, &len);

	(void)deadline_ns;
	if (!buf) {
		x->failures++;
		return OTEL_EXPORT_FAILURE;
	}
	x->spans += n;
	x->bytes += len;
	free(buf);
	return OTEL_EXPORT_SUCCESS;
}

static int encode_flush(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	(void)e;
	(void)deadline_ns;
	return 0;
}

static void encode_destroy(struct otel_span_exporter *e)
{
	(void)e; /* static */
}

static const struct otel_span_exporter_ops encode_ops = {
	.export_spans = encode_export,
	.force_flush = encode_flush,
	.shutdown = encode_flush,
	.destroy = encode_destroy,
};

/* ---- measuring ---- */

static otel_resource *bench_resource(void *ctx, pid_t tgid)
{
	struct otel_attribute a[] = {
		OTEL_ATTR_STR("service.name", "nginx"),
		OTEL_ATTR_INT("process.pid", tgid),
		OTEL_ATTR_STR("process.executable.name", "nginx"),
		OTEL_ATTR_STR("process.executable.path", "/usr/sbin/nginx"),
		OTEL_ATTR_STR("process.command_line", "nginx: worker process"),
		OTEL_ATTR_STR("host.name", "bench-host"),
		OTEL_ATTR_STR("telemetry.sdk.name", "libotel"),
		OTEL_ATTR_STR("telemetry.sdk.language", "c"),
		OTEL_ATTR_STR("telemetry.distro.name", "kspan"),
	};

	(void)ctx;
	return otel_resource_new(a, sizeof(a) / sizeof(a[0]), NULL);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vm_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

struct result {
	double wall_s, cpu_s;
	uint64_t spans;
};

/* VmRSS with a pipeline at its fullest (after a run, before it is freed), over all runs. */
static long rss_loaded_kib;

/* One pass over the stream, flushing @proc every FLUSH_RECORDS records. */
static void replay(const struct rec_stream *s, struct kspan_pipeline *p, otel_span_processor *proc)
{
	size_t n = 0;

	for (size_t off = 0; off < s->len; off += rec_size(s->buf + off)) {
		kspan_pipeline_record(p, s->buf + off, rec_size(s->buf + off));
		if (++n % FLUSH_RECORDS == 0 && otel_span_processor_force_flush(proc, 60000))
			fprintf(stderr, "bench_replay: flush failed\n");
	}
	if (otel_span_processor_force_flush(proc, 60000))
		fprintf(stderr, "bench_replay: flush failed\n");
}

/* @passes replays of the stream through a fresh pipeline feeding @proc. */
static struct result run(const struct rec_stream *s, int passes, otel_span_processor *proc)
{
	struct kspan_pipeline_stats ps;
	struct result r = { 0 };
	struct kspan_pipeline *p = kspan_pipeline_new(&(struct kspan_pipeline_opts){
		.processor = proc,
		.resource_for = bench_resource,
	});
	double w0, c0;

	if (!p) {
		perror("kspan_pipeline_new");
		exit(1);
	}
	w0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < passes; i++)
		replay(s, p, proc);
	r.wall_s = clock_s(CLOCK_MONOTONIC) - w0;
	r.cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	kspan_pipeline_stats(p, &ps);
	r.spans = ps.spans;
	if (ps.malformed || ps.not_tracked || ps.connections)
		fprintf(stderr, "bench_replay: malformed %llu, not tracked %llu, left open %zu\n",
			(unsigned long long)ps.malformed, (unsigned long long)ps.not_tracked,
			ps.connections);
	if (vm_rss_kib() > rss_loaded_kib)
		rss_loaded_kib = vm_rss_kib();
	kspan_pipeline_free(p);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *v, int reps)
{
	qsort(v, (size_t)reps, sizeof(*v), cmp_double);
	printf("  %-36s median %9.0f  min %9.0f  max %9.0f  (n=%d)\n", what, v[reps / 2], v[0],
	       v[reps - 1], reps);
}

static void measure(const char *mode, const struct rec_stream *s, size_t exchanges, int passes,
		    int reps, otel_span_processor *proc)
{
	double ev_wall[64], ev_cpu[64], sp_wall[64], sp_cpu[64];
	double events = (double)s->count * passes;

	rss_loaded_kib = 0;
	run(s, 1, proc); /* warm-up, untimed: the allocator's first growth */

	for (int i = 0; i < reps; i++) {
		struct result r = run(s, passes, proc);

		if (r.spans != exchanges * (size_t)passes)
			fprintf(stderr, "bench_replay: %s: %llu spans, expected %zu\n", mode,
				(unsigned long long)r.spans, exchanges * (size_t)passes);
		ev_wall[i] = events / r.wall_s;
		ev_cpu[i] = events / r.cpu_s;
		sp_wall[i] = (double)r.spans / r.wall_s;
		sp_cpu[i] = (double)r.spans / r.cpu_s;
	}
	printf("%s\n", mode);
	printf("  VmRSS after a run (pipeline not yet freed): %ld KiB\n", rss_loaded_kib);
	report("events/s per core (CPU time)", ev_cpu, reps);
	report("spans/s per core (CPU time)", sp_cpu, reps);
	report("events/s (wall)", ev_wall, reps);
	report("spans/s (wall)", sp_wall, reps);
}

int main(int argc, char **argv)
{
	static struct otel_span_processor discard = { .ops = &discard_ops, .refcount = 1 };
	static struct encoding_exporter enc = { .base = { &encode_ops } };
	int passes = argc > 1 ? atoi(argv[1]) : PASSES_DEFAULT;
	int reps = argc > 2 ? atoi(argv[2]) : REPS_DEFAULT;
	const char *modes = argc > 3 ? argv[3] : "ab";
	struct rec_stream s = { 0 };
	struct otel_batch_stats bs;
	otel_span_processor *batch;
	long rss0 = vm_rss_kib(), rss1;
	size_t exchanges;

	if (passes < 1 || reps < 1 || reps > 64) {
		fprintf(stderr,
			"usage: bench_replay [passes_per_rep >= 1] [reps 1..64] [a|b|ab]\n");
		return 2;
	}
	gen_stream(&s, &exchanges);
	rss1 = vm_rss_kib();
	printf("VmRSS: %ld KiB at start, %ld KiB with the stream generated\n", rss0, rss1);
	printf("stream: %zu records (%.1f MiB, %.0f B/record), %zu exchanges on %d keep-alive "
	       "connections, capture %d B; %d passes per rep\n",
	       s.count, (double)s.len / (1 << 20), (double)s.len / (double)s.count, exchanges,
	       N_CONNS, CAPTURE, passes);

	if (strchr(modes, 'a'))
		measure("(a) pipeline, spans discarded at on_end", &s, exchanges, passes, reps,
			&discard);
	if (!strchr(modes, 'b'))
		goto out;

	batch = otel_batch_span_processor_new(
		&enc.base, &(struct otel_batch_opts){
				   .sz = sizeof(struct otel_batch_opts),
				   .ignore_env = true, /* the defaults, as the agent has them */
			   });
	if (!batch) {
		perror("otel_batch_span_processor_new");
		return 1;
	}
	measure("(b) pipeline + Batch processor + OTLP protobuf encoding", &s, exchanges, passes,
		reps, batch);
	otel_batch_span_processor_stats(batch, &bs);
	printf("  batch: %llu exported in %llu batches, %llu dropped; %.0f B/span encoded\n",
	       (unsigned long long)bs.exported, (unsigned long long)bs.batches,
	       (unsigned long long)bs.dropped, enc.spans ? (double)enc.bytes / enc.spans : 0.0);
	otel_span_processor_shutdown(batch, 5000);
	otel_span_processor_unref(batch);
out:
	rec_stream_free(&s);
	return 0;
}
