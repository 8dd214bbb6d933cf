// SPDX-License-Identifier: Apache-2.0
/*
 * rates-service: the back service of the demo. quote-service (quote_service.c) asks it for the
 * unit rate of a sku:
 *
 *   GET /rates/{sku}  200 {"sku":"sku-1","rate":4.17}: a rate from 1.00 to 9.99 derived from
 *                     the sku (the same sku always gets the same rate); 400 for a bad sku
 *   GET /health       200 ok
 *   anything else     404
 *
 *   rates_service [--port N]     (prints "port N" once listening)
 *
 * The lookup is a business span marked with <otel/usdt.h>: "lookup rate" (rates.sku).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <otel/usdt.h>
#include "support/http_mini.h"

/* Stands for a table lookup: FNV-1a of the sku, into cents from 100 to 999. */
static unsigned lookup_rate_cents(const char *sku)
{
	uint32_t h = 2166136261u;
	unsigned cents;

	OTEL_USDT_SPAN_START("lookup rate");
	OTEL_USDT_ATTR_STR("rates.sku", sku);
	for (const char *p = sku; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	cents = 100 + h % 900;
	OTEL_USDT_SPAN_END();
	return cents;
}

static void handle(const struct http_mini_request *req, struct http_mini_response *res, void *ctx)
{
	char sku[64];
	unsigned cents;
	int err = http_mini_path_segment(req->path, "/rates/", sku, sizeof(sku));

	(void)ctx;
	if (!err) {
		cents = lookup_rate_cents(sku);
		http_mini_reply(res, 200, "application/json", "{\"sku\":\"%s\",\"rate\":%u.%02u}",
				sku, cents / 100, cents % 100);
	} else if (err != -ENOENT) {
		http_mini_reply(res, 400, "application/json", "{\"error\":\"bad sku\"}");
	} else if (!strcmp(req->path, "/health")) {
		http_mini_reply(res, 200, "text/plain", "ok\n");
	} else {
		http_mini_reply(res, 404, "application/json", "{\"error\":\"not found\"}");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint16_t port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'p' && !http_mini_parse_port("--port", optarg, &port))
			continue;
		fprintf(c == 'h' ? stdout : stderr,
			"usage: rates_service [--port N]\n"
			"  --port N  listen on 127.0.0.1:N (default 0: any free port)\n"
			"Prints \"port N\" on stdout once listening.\n");
		return c == 'h' ? 0 : 2;
	}
	if (optind < argc) {
		fprintf(stderr, "rates_service: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return http_mini_serve(port, handle, NULL) ? 1 : 0;
}
