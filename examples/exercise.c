// SPDX-License-Identifier: Apache-2.0
/*
 * exercise: the smallest complete use of libotel's SDK. One tracer provider
 * (service.name=exercise-svc) with a batch processor and the exporter the
 * standard variables choose (OTEL_TRACES_EXPORTER=otlp|console|none, then
 * OTEL_EXPORTER_OTLP_*), a SERVER span with a failing CLIENT database call
 * inside it, then flush and shutdown before exit.
 *
 *   OTEL_TRACES_EXPORTER=console build/examples/exercise
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 build/examples/exercise
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <otel/sdk.h>

/* Library-style code: it only uses the API and the current context. */
static int query_orders(otel_tracer *tracer)
{
	struct otel_attribute attrs[] = {
		OTEL_ATTR_STR("db.system.name", "postgresql"),
		OTEL_ATTR_STR("db.operation.name", "SELECT"),
		OTEL_ATTR_STR("db.collection.name", "orders"),
		OTEL_ATTR_STR("db.query.text", "SELECT * FROM orders WHERE id = ?"),
	};
	OTEL_OPTS(otel_span_start_opts, opts, .kind = OTEL_SPAN_KIND_CLIENT, .attributes = attrs,
		  .n_attributes = sizeof(attrs) / sizeof(attrs[0]));
	OTEL_SPAN_SCOPE(span, tracer, "call-database", &opts);

	/* The query fails: record what happened and mark the span as an error. */
	otel_span_record_exception(span, "ConnectionError", "connection refused by 127.0.0.1:5432",
				   NULL, NULL, 0);
	otel_span_set_attribute_str(span, "db.response.status_code", "08001");
	otel_span_set_status(span, OTEL_STATUS_ERROR, "could not connect to the database");
	return -ECONNREFUSED;
}

static void handle_request(otel_tracer *tracer)
{
	struct otel_attribute attrs[] = {
		OTEL_ATTR_STR("http.request.method", "GET"),
		OTEL_ATTR_STR("url.path", "/orders/42"),
		OTEL_ATTR_STR("http.route", "/orders/{id}"),
	};
	OTEL_OPTS(otel_span_start_opts, opts, .kind = OTEL_SPAN_KIND_SERVER, .attributes = attrs,
		  .n_attributes = sizeof(attrs) / sizeof(attrs[0]));
	OTEL_SPAN_SCOPE(span, tracer, "handle-request", &opts);

	if (query_orders(tracer) < 0)
		otel_span_set_attribute_int(span, "http.response.status_code", 503);
}

int main(void)
{
	struct otel_attribute res_attrs[] = { OTEL_ATTR_STR("service.name", "exercise-svc") };
	otel_resource *base = otel_resource_default();
	otel_resource *mine = otel_resource_new(res_attrs, 1, NULL);
	otel_resource *res = otel_resource_merge(base, mine);
	struct otel_span_exporter *exp = otel_span_exporter_from_env();
	otel_span_processor *batch = exp ? otel_batch_span_processor_new(exp, NULL) : NULL;
	otel_tracer_provider *tp;
	int err;

	otel_resource_unref(base);
	otel_resource_unref(mine);
	tp = otel_tracer_provider_new(&(struct otel_tracer_provider_opts){
		.sz = sizeof(struct otel_tracer_provider_opts),
		.resource = res,
		.processors = &batch,
		.n_processors = batch ? 1 : 0,
	});
	otel_resource_unref(res);
	otel_span_processor_unref(batch); /* the provider holds its own reference */
	if (!tp) {
		fprintf(stderr, "exercise: cannot create the tracer provider: %s\n", strerror(errno));
		return 1;
	}
	otel_tracer_provider_set_global(tp);

	handle_request(otel_tracer_get("exercise", OTEL_VERSION_STRING));

	err = otel_tracer_provider_force_flush(tp, 10000);
	if (err)
		fprintf(stderr, "exercise: flush: %s\n", strerror(-err));
	otel_tracer_provider_set_global(NULL);
	otel_tracer_provider_free(tp); /* shuts down within its timeout */
	return err ? 1 : 0;
}
