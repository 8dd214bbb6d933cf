// SPDX-License-Identifier: Apache-2.0
/*
 * quote-service: the front service of the demo, a small web service of the kind kspan traces
 * without changing it. It prices quotes with the help of rates-service (rates_service.c):
 *
 *   GET /quote/{sku}?qty=N  200 {"sku":"sku-1","qty":3,"price":12.34}
 *                           400 for a bad sku (1-63 of A-Z a-z 0-9 - . _ ~) or qty (1-10000;
 *                           1 when absent); 502 {"error":...} when rates-service fails, and for
 *                           sku "sku-err", which has no discount table
 *   GET /health             200 ok
 *   anything else           404
 *
 *   quote_service --rates-port N [--port N]     (prints "port N" once listening)
 *
 * Each step of pricing is a business span marked with <otel/usdt.h> (header-only: no library is
 * linked, and while no tracer is attached each mark is a not-taken branch):
 *
 *   load pricing factors (quote.sku, quote.qty)
 *   compute price (quote.base_price)
 *     [GET /rates/{sku} to rates-service, seen by kspan as a CLIENT span]
 *     apply volume tiers (quote.tier_factor)
 *       round to cents
 *   apply discount (quote.discounted; event "discount looked up"; for sku-err an exception
 *                   DiscountError and status ERROR)
 *
 * kspan makes them children of the SERVER span of the request being served on the thread, and
 * the rates-service request a child of "compute price".
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <otel/usdt.h>
#include "support/http_mini.h"

#define MAX_QTY 10000
#define MARGIN 1.25
/* The sku whose discount lookup fails, to show an error inside a trace. */
#define FAILING_SKU "sku-err"

struct quote {
	char sku[64];
	long qty;
	double margin;
	double rate;
	double base_price;
	double price;
	bool discounted;
	char error[160]; /* why it failed */
};

static double round_to_cents(double amount)
{
	double cents;

	OTEL_USDT_SPAN_START("round to cents");
	cents = round(amount * 100.0) / 100.0;
	OTEL_USDT_SPAN_END();
	return cents;
}

static void load_pricing_factors(struct quote *q)
{
	OTEL_USDT_SPAN_START("load pricing factors");
	OTEL_USDT_ATTR_STR("quote.sku", q->sku);
	OTEL_USDT_ATTR_INT("quote.qty", q->qty);
	q->margin = MARGIN;
	OTEL_USDT_SPAN_END();
}

/* The unit rate of the sku from rates-service; 0 or -1 with q->error set. */
static int fetch_rate(struct quote *q, uint16_t rates_port)
{
	char path[128], body[512];
	const char *field;
	int status;

	snprintf(path, sizeof(path), "/rates/%s", q->sku);
	status = http_mini_get(rates_port, path, body, sizeof(body));
	if (status < 0) {
		snprintf(q->error, sizeof(q->error), "rates-service: %s", strerror(-status));
		return -1;
	}
	field = strstr(body, "\"rate\":");
	q->rate = field ? strtod(field + 7, NULL) : 0;
	if (status != 200 || !(q->rate > 0) || !isfinite(q->rate)) {
		snprintf(q->error, sizeof(q->error), "rates-service: status %d, no rate", status);
		return -1;
	}
	return 0;
}

static void apply_volume_tiers(struct quote *q)
{
	double factor = q->qty >= 100 ? 0.85 : q->qty >= 10 ? 0.95 : 1.0;

	OTEL_USDT_SPAN_START("apply volume tiers");
	OTEL_USDT_ATTR_DOUBLE("quote.tier_factor", factor);
	q->price = round_to_cents(q->base_price * factor);
	OTEL_USDT_SPAN_END();
}

static int compute_price(struct quote *q, uint16_t rates_port)
{
	int err;

	OTEL_USDT_SPAN_START("compute price");
	err = fetch_rate(q, rates_port);
	if (err) {
		OTEL_USDT_EXCEPTION("RatesError", q->error);
		OTEL_USDT_STATUS(OTEL_USDT_STATUS_ERROR, "no rate for the sku");
	} else {
		q->base_price = q->rate * q->margin * (double)q->qty;
		OTEL_USDT_ATTR_DOUBLE("quote.base_price", q->base_price);
		apply_volume_tiers(q);
	}
	OTEL_USDT_SPAN_END();
	return err;
}

/* Skus ending in an even digit are on promotion: 10 % off. */
static int apply_discount(struct quote *q)
{
	char last = q->sku[strlen(q->sku) - 1];
	int err = 0;

	OTEL_USDT_SPAN_START("apply discount");
	OTEL_USDT_EVENT("discount looked up");
	if (!strcmp(q->sku, FAILING_SKU)) {
		snprintf(q->error, sizeof(q->error), "no discount table for %s", q->sku);
		OTEL_USDT_EXCEPTION("DiscountError", q->error);
		OTEL_USDT_STATUS(OTEL_USDT_STATUS_ERROR, "discount lookup failed");
		err = -1;
	} else {
		q->discounted = last >= '0' && last <= '9' && (last - '0') % 2 == 0;
		if (q->discounted)
			q->price = round_to_cents(q->price * 0.9);
	}
	OTEL_USDT_ATTR_BOOL("quote.discounted", q->discounted);
	OTEL_USDT_SPAN_END();
	return err;
}

/* qty from the query: 1 when absent; -EINVAL when not an integer in [1, MAX_QTY]. */
static int parse_qty(const char *query, long *qty)
{
	char text[16], *end;
	int err = http_mini_query_param(query, "qty", text, sizeof(text));

	*qty = 1;
	if (err == -ENOENT)
		return 0;
	if (err)
		return -EINVAL;
	errno = 0;
	*qty = strtol(text, &end, 10);
	if (errno || end == text || *end || *qty < 1 || *qty > MAX_QTY)
		return -EINVAL;
	return 0;
}

static void handle_quote(const struct http_mini_request *req, struct http_mini_response *res,
			 uint16_t rates_port)
{
	struct quote q = { 0 };

	if (http_mini_path_segment(req->path, "/quote/", q.sku, sizeof(q.sku))) {
		http_mini_reply(res, 400, "application/json", "{\"error\":\"bad sku\"}");
		return;
	}
	if (parse_qty(req->query, &q.qty)) {
		http_mini_reply(res, 400, "application/json",
				"{\"error\":\"qty must be an integer from 1 to %d\"}", MAX_QTY);
		return;
	}
	load_pricing_factors(&q);
	if (compute_price(&q, rates_port) || apply_discount(&q)) {
		/* q.error holds text from our own formats and strerror: nothing to escape */
		http_mini_reply(res, 502, "application/json", "{\"error\":\"%s\"}", q.error);
		return;
	}
	http_mini_reply(res, 200, "application/json", "{\"sku\":\"%s\",\"qty\":%ld,\"price\":%.2f}",
			q.sku, q.qty, q.price);
}

static void handle(const struct http_mini_request *req, struct http_mini_response *res, void *ctx)
{
	uint16_t rates_port = *(const uint16_t *)ctx;

	if (!strncmp(req->path, "/quote/", 7))
		handle_quote(req, res, rates_port);
	else if (!strcmp(req->path, "/health"))
		http_mini_reply(res, 200, "text/plain", "ok\n");
	else
		http_mini_reply(res, 404, "application/json", "{\"error\":\"not found\"}");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: quote_service --rates-port N [--port N]\n"
		     "  --port N        listen on 127.0.0.1:N (default 0: any free port)\n"
		     "  --rates-port N  rates-service on 127.0.0.1:N (required)\n"
		     "Prints \"port N\" on stdout once listening.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "rates-port", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint16_t port = 0, rates_port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'p' && !http_mini_parse_port("--port", optarg, &port))
			continue;
		if (c == 'r' && !http_mini_parse_port("--rates-port", optarg, &rates_port))
			continue;
		usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : 2;
	}
	if (optind < argc || !rates_port) {
		fprintf(stderr, "quote_service: %s\n",
			optind < argc ? "unexpected argument" : "--rates-port is required");
		usage(stderr);
		return 2;
	}
	return http_mini_serve(port, handle, &rates_port) ? 1 : 0;
}
