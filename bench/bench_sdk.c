// SPDX-License-Identifier: Apache-2.0
/*
 * bench_sdk: the SDK's hot path and encoder, measured as the issue and the
 * peer comparison define them.
 *
 *  - span: ns per span (start, 4 attributes, end) through the Batch processor
 *    (queue 2048, batch 512, delay 5 s) to a discarding exporter, on 1 and 2
 *    producer threads; spans dropped by the queue; mallocs per span.
 *  - encode: OTLP protobuf (and JSON) encoding throughput in spans/s, batches
 *    of 512 spans of the same shape.
 *
 * Each figure is repeated REPS times; the median, min and max are printed.
 * Usage: bench_sdk [spans_per_thread] [reps]
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <otel/sdk.h>

/* ---- malloc counting: glibc's functions are interposable by the executable ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static atomic_ulong n_allocs;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

/* ---- a discarding exporter that counts ---- */

struct discard {
	struct otel_span_exporter base;
	atomic_ulong spans;
};

static enum otel_export_result discard_export(struct otel_span_exporter *e,
					      const struct otel_span_data *const *spans, size_t n,
					      uint64_t deadline_ns)
{
	(void)spans;
	(void)deadline_ns;
	atomic_fetch_add(&((struct discard *)e)->spans, n);
	return OTEL_EXPORT_SUCCESS;
}

static int discard_flush(struct otel_span_exporter *e, uint64_t deadline_ns)
{
	(void)e;
	(void)deadline_ns;
	return 0;
}

static void discard_destroy(struct otel_span_exporter *e)
{
	(void)e; /* static storage */
}

static const struct otel_span_exporter_ops discard_ops = {
	.export_spans = discard_export,
	.force_flush = discard_flush,
	.shutdown = discard_flush,
	.destroy = discard_destroy,
};

/* ---- helpers ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, const char *unit, double *v, int reps)
{
	qsort(v, reps, sizeof(*v), cmp_double);
	printf("%-44s median %10.1f %-8s min %10.1f  max %10.1f  (n=%d)\n", what, v[reps / 2],
	       unit, v[0], v[reps - 1], reps);
}

static void one_span(otel_tracer *t, uint64_t i)
{
	OTEL_OPTS(otel_span_start_opts, o, .kind = OTEL_SPAN_KIND_SERVER);
	otel_span *s = otel_tracer_start_span(t, "GET /users/{id}", &o);

	otel_span_set_attribute_str(s, "http.request.method", "GET");
	otel_span_set_attribute_str(s, "http.route", "/users/{id}");
	otel_span_set_attribute_int(s, "http.response.status_code", 200);
	otel_span_set_attribute_int(s, "request.seq", (int64_t)i);
	otel_span_end(s, 0);
}

struct producer {
	otel_tracer *tracer;
	uint64_t n;
	pthread_barrier_t *start;
};

static void *produce(void *p)
{
	struct producer *pr = p;

	pthread_barrier_wait(pr->start);
	for (uint64_t i = 0; i < pr->n; i++)
		one_span(pr->tracer, i);
	return NULL;
}

static otel_resource *bench_resource(void)
{
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("service.name", "bench") };

	return otel_resource_new(attrs, 1, NULL);
}

/* One run: ns per span (wall, all threads), drops and mallocs per span. */
static void run_spans(int threads, uint64_t per_thread, double *ns, double *drop_pct,
		      double *allocs)
{
	static struct discard exp = { .base = { &discard_ops } };
	OTEL_OPTS(otel_batch_opts, bo, .max_queue_size = 2048, .max_export_batch_size = 512,
		  .schedule_delay_ms = 5000, .export_timeout_ms = 30000, .ignore_env = true);
	otel_resource *res = bench_resource();
	otel_span_processor *bsp = otel_batch_span_processor_new(&exp.base, &bo);
	otel_tracer_provider *tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = otel_sampler_always_on(),
		.processors = &bsp,
		.n_processors = 1,
	});
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "bench", "1.0", NULL);
	struct producer pr[8];
	pthread_t th[8];
	pthread_barrier_t start;
	struct otel_batch_stats st;
	unsigned long a0;
	double t0;

	atomic_store(&exp.spans, 0);
	pthread_barrier_init(&start, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		pr[i] = (struct producer){ t, per_thread, &start };
		pthread_create(&th[i], NULL, produce, &pr[i]);
	}
	pthread_barrier_wait(&start);
	a0 = atomic_load(&n_allocs);
	t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	*ns = (now_s() - t0) * 1e9 / (double)(per_thread * threads);
	*allocs = (double)(atomic_load(&n_allocs) - a0) / (double)(per_thread * threads);
	otel_tracer_provider_force_flush(tp, 30000);
	otel_batch_span_processor_stats(bsp, &st);
	*drop_pct = 100.0 * (double)st.dropped / (double)(per_thread * threads);
	if (st.exported + st.dropped != per_thread * threads)
		fprintf(stderr, "bench: %llu exported + %llu dropped != %llu spans\n",
			(unsigned long long)st.exported, (unsigned long long)st.dropped,
			(unsigned long long)(per_thread * threads));
	otel_span_processor_unref(bsp);
	otel_tracer_provider_free(tp);
	otel_resource_unref(res);
	pthread_barrier_destroy(&start);
}

/* Collects ended spans so the encoder has real span data to encode. */
struct keep {
	otel_span_processor base;
	const struct otel_span_data *spans[512];
	size_t n;
};

static void keep_on_end(otel_span_processor *p, const struct otel_span_data *d)
{
	struct keep *k = (struct keep *)p;

	if (k->n < 512)
		k->spans[k->n++] = otel_span_data_ref(d);
}

static int keep_flush(otel_span_processor *p, uint32_t ms)
{
	(void)p;
	(void)ms;
	return 0;
}

static void keep_destroy(otel_span_processor *p)
{
	(void)p;
}

static const struct otel_span_processor_ops keep_ops = {
	.on_end = keep_on_end,
	.force_flush = keep_flush,
	.shutdown = keep_flush,
	.destroy = keep_destroy,
};

static void run_encode(int reps)
{
	static struct keep k = { .base = { &keep_ops, 1 } };
	otel_span_processor *p = &k.base;
	otel_resource *res = bench_resource();
	otel_tracer_provider *tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.sampler = otel_sampler_always_on(),
		.processors = &p,
		.n_processors = 1,
	});
	otel_tracer *t = otel_tracer_provider_get_tracer(tp, "bench", "1.0", NULL);
	double pb[32], js[32];
	size_t bytes = 0;

	for (uint64_t i = 0; i < 512; i++)
		one_span(t, i);
	for (int r = 0; r < reps; r++) {
		int iters = 200;
		double t0 = now_s();

		for (int i = 0; i < iters; i++) {
			uint8_t *buf = otel_otlp_encode_protobuf(k.spans, k.n, &bytes);

			free(buf);
		}
		pb[r] = iters * 512 / (now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < iters / 4; i++) {
			size_t len;
			char *buf = otel_otlp_encode_json(k.spans, k.n, &len);

			free(buf);
		}
		js[r] = iters / 4 * 512 / (now_s() - t0);
	}
	printf("OTLP protobuf request for 512 spans: %zu bytes\n", bytes);
	report("encode OTLP protobuf (spans/s, 1 core)", "spans/s", pb, reps);
	report("encode OTLP JSON (spans/s, 1 core)", "spans/s", js, reps);
	for (size_t i = 0; i < k.n; i++)
		otel_span_data_unref(k.spans[i]);
	otel_tracer_provider_free(tp);
	otel_resource_unref(res);
}

int main(int argc, char **argv)
{
	uint64_t per_thread = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	double ns[32], drops[32], allocs[32];

	if (reps < 1 || reps > 32)
		reps = 7;
	printf("span: start + 4 attributes + end -> Batch(2048/512) -> discarding exporter, "
	       "%llu spans per thread\n", (unsigned long long)per_thread);
	for (int threads = 1; threads <= 2; threads++) {
		char label[64];

		for (int r = 0; r < reps; r++)
			run_spans(threads, per_thread, &ns[r], &drops[r], &allocs[r]);
		snprintf(label, sizeof(label), "span, %d thread%s (ns/span, wall)", threads,
			 threads > 1 ? "s" : "");
		report(label, "ns", ns, reps);
		snprintf(label, sizeof(label), "span, %d thread%s (%% dropped)", threads,
			 threads > 1 ? "s" : "");
		report(label, "%", drops, reps);
		snprintf(label, sizeof(label), "span, %d thread%s (mallocs/span)", threads,
			 threads > 1 ? "s" : "");
		report(label, "allocs", allocs, reps);
	}
	run_encode(reps);
	return 0;
}
