// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the OTLP exporter configuration (sdk/src/otlp_config.c):
 * the precedence of options, per-signal and general variables, URL joining,
 * header lists with percent-encoding and bad entries, and the handling of
 * bad protocol/compression/timeout values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/sdk.h>
#include "otlp_config.h"

static const char *const all_vars[] = {
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	"OTEL_EXPORTER_OTLP_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_INSECURE",
	"OTEL_EXPORTER_OTLP_TRACES_INSECURE",
};

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
		unsetenv(all_vars[i]);
	log_capture_start(OTEL_LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	return setup(state);
}

/* Resolve with @opts (NULL = none), expecting success. */
static void resolve_ok(const struct otel_otlp_http_opts *opts, struct otel_otlp_config *cfg)
{
	assert_int_equal(otel_otlp_config_resolve(opts, cfg), 0);
}

static const char *header_value(const struct otel_otlp_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_headers; i++)
		if (!strcmp(cfg->headers[i].name, name))
			return cfg->headers[i].value;
	return NULL;
}

/* ---- Defaults and endpoint precedence ---- */

static void test_defaults(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	resolve_ok(NULL, &cfg);
	assert_string_equal(cfg.url, "http://localhost:4318/v1/traces");
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_PROTOBUF);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_NONE);
	assert_int_equal(cfg.n_headers, 0);
	assert_null(cfg.headers);
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_null(cfg.ca_file);
	assert_null(cfg.client_cert_file);
	assert_null(cfg.client_key_file);
	assert_false(cfg.insecure);
	assert_int_equal(cfg.max_attempts, 6);
	assert_int_equal(cfg.initial_backoff_ms, 1000);
	assert_string_equal(log_text, ""); /* nothing to warn about */
	otel_otlp_config_free(&cfg);
	assert_null(cfg.url); /* free empties the config */
	otel_otlp_config_free(&cfg); /* and a second free is harmless */
	otel_otlp_config_free(NULL);
}

struct endpoint_case {
	const char *opt_traces_url;
	const char *opt_endpoint;
	const char *env_traces;
	const char *env_general;
	const char *expect;
};

static void test_endpoint_precedence(void **state)
{
	static const struct endpoint_case cases[] = {
		/* each source alone */
		{ NULL, NULL, NULL, NULL, "http://localhost:4318/v1/traces" },
		{ NULL, NULL, NULL, "http://gen:4318", "http://gen:4318/v1/traces" },
		{ NULL, NULL, "http://sig:1234/custom", NULL, "http://sig:1234/custom" },
		{ NULL, "http://opt:4318", NULL, NULL, "http://opt:4318/v1/traces" },
		{ "https://full/x/y", NULL, NULL, NULL, "https://full/x/y" },
		/* the per-signal variable is used as is and beats the general one */
		{ NULL, NULL, "http://sig:1/", "http://gen:2", "http://sig:1/" },
		/* options beat every variable; traces_url beats endpoint */
		{ NULL, "http://opt:3", "http://sig:1", "http://gen:2", "http://opt:3/v1/traces" },
		{ "http://full:4/t", "http://opt:3", "http://sig:1", "http://gen:2",
		  "http://full:4/t" },
		{ "http://full:4/t", "http://opt:3", NULL, NULL, "http://full:4/t" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct endpoint_case *c = &cases[i];
		OTEL_OPTS(otel_otlp_http_opts, o, .traces_url = c->opt_traces_url,
			  .endpoint = c->opt_endpoint);
		struct otel_otlp_config cfg;

		setup(state);
		if (c->env_traces)
			setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c->env_traces, 1);
		if (c->env_general)
			setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c->env_general, 1);
		resolve_ok(&o, &cfg);
		assert_string_equal(cfg.url, c->expect);
		otel_otlp_config_free(&cfg);
	}
}

static void test_empty_env_is_unset(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	/* An empty (or blank) per-signal variable falls through to the general one. */
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "  ", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://gen:9", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	resolve_ok(NULL, &cfg);
	assert_string_equal(cfg.url, "http://gen:9/v1/traces");
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_JSON);
	otel_otlp_config_free(&cfg);
}

static void test_url_join(void **state)
{
	static const char *const cases[][2] = {
		{ "http://h:4318", "http://h:4318/v1/traces" },
		{ "http://h:4318/", "http://h:4318/v1/traces" },
		{ "http://h:4318//", "http://h:4318/v1/traces" },
		{ "https://h/otlp", "https://h/otlp/v1/traces" },
		{ "https://h/otlp/", "https://h/otlp/v1/traces" },
	};

	char *u;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u = otel_otlp_url_join(cases[i][0], "v1/traces");
		assert_string_equal(u, cases[i][1]);
		free(u);
	}
	/* A leading slash on the path side is not doubled either. */
	u = otel_otlp_url_join("http://h/", "/v1/traces");

	assert_string_equal(u, "http://h/v1/traces");
	free(u);
}

static void test_url_validation(void **state)
{
	static const char *const good[] = { "http://localhost", "HTTPS://Example.com:443/p?q=1",
					    "http://[::1]:4318/v1/traces", "http://127.0.0.1:1" };
	static const char *const bad[] = {
		"localhost:4318", "ftp://h/x",	 "http://", "https://",	       "http:///path",
		"http//h",	  "http://h /x", "",	    "unix:///tmp/sock"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(otel_otlp_url_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(otel_otlp_url_valid(bad[i]));
	assert_false(otel_otlp_url_valid(NULL));
}

static void test_invalid_endpoint_fails(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", 1);
	assert_int_equal(otel_otlp_config_resolve(NULL, &cfg), -EINVAL);
	assert_null(cfg.url); /* nothing is left allocated */
	/* The message names the variable and the value. */
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_ENDPOINT=\"collector:4318\""));

	setup(state);
	OTEL_OPTS(otel_otlp_http_opts, o, .traces_url = "ftp://h/v1/traces");
	assert_int_equal(otel_otlp_config_resolve(&o, &cfg), -EINVAL);
	assert_non_null(strstr(log_text, "opts.traces_url=\"ftp://h/v1/traces\""));

	/* An invalid per-signal URL fails even when the general one is fine. */
	setup(state);
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "nonsense", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ok:1", 1);
	assert_int_equal(otel_otlp_config_resolve(NULL, &cfg), -EINVAL);
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"nonsense\""));
}

/* ---- Headers ---- */

static void test_headers_parse_valid(void **state)
{
	struct otel_otlp_header *h;
	size_t n;

	(void)state;
	assert_int_equal(
		otel_otlp_headers_parse(" api-key = secret1 ,Authorization=Basic%20dXNl%3Dcg"
					"%3D%3D, x-list=a%2Cb,x-plus=a+b,x-empty=",
					"test", &h, &n),
		0);
	assert_int_equal(n, 5);
	assert_string_equal(h[0].name, "api-key"); /* blanks around key and value trimmed */
	assert_string_equal(h[0].value, "secret1");
	assert_string_equal(h[1].name, "Authorization");
	assert_string_equal(h[1].value, "Basic dXNl=cg=="); /* percent-decoded */
	assert_string_equal(h[2].value, "a,b"); /* an encoded comma does not split */
	assert_string_equal(h[3].value, "a+b"); /* '+' is literal, not a space */
	assert_string_equal(h[4].name, "x-empty");
	assert_string_equal(h[4].value, ""); /* an empty value is allowed */
	assert_string_equal(log_text, "");
	otel_otlp_headers_free(h, n);

	/* Empty list members are ignored silently; a repeated name keeps the last value. */
	assert_int_equal(otel_otlp_headers_parse(",a=1,,A=2,", "test", &h, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "A");
	assert_string_equal(h[0].value, "2");
	assert_string_equal(log_text, "");
	otel_otlp_headers_free(h, n);

	assert_int_equal(otel_otlp_headers_parse("", "test", &h, &n), 0);
	assert_int_equal(n, 0);
	assert_null(h);
	otel_otlp_headers_free(NULL, 0);
}

static void test_headers_parse_bad_entries(void **state)
{
	struct otel_otlp_header *h;
	size_t n;

	(void)state;
	/* Every bad entry is skipped with a warning; the good ones around them are kept. */
	assert_int_equal(otel_otlp_headers_parse("good1=1,novalue,=v,bad key=v,k1=%zz,k2=%4,"
						 "k3=a%0D%0AInjected: yes,Content-Type=text/plain,"
						 "k4=tab%09ok,good2=2",
						 "OTEL_EXPORTER_OTLP_HEADERS", &h, &n),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[0].name, "good1");
	assert_string_equal(h[0].value, "1");
	assert_string_equal(h[1].name, "k4");
	assert_string_equal(h[1].value, "tab\tok"); /* HTAB is a legal header character */
	assert_string_equal(h[2].name, "good2");
	assert_string_equal(h[2].value, "2");
	otel_otlp_headers_free(h, n);
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_HEADERS: an entry has no \"=\""));
	assert_non_null(strstr(log_text, "an entry has an empty key"));
	assert_non_null(strstr(log_text, "\"bad key\" is not a valid header name"));
	assert_non_null(strstr(log_text, "header \"k1\" has a bad %-escape"));
	assert_non_null(strstr(log_text, "header \"k2\" has a bad %-escape"));
	assert_non_null(strstr(log_text, "header \"k3\" has a bad %-escape or a control character"));
	assert_non_null(strstr(log_text, "header \"Content-Type\" is set by the exporter itself"));
}

static void test_headers_values_never_logged(void **state)
{
	struct otel_otlp_header *h;
	size_t n;

	(void)state;
	assert_int_equal(
		otel_otlp_headers_parse("Authorization=Bearer%zzTOPSECRET", "test", &h, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(log_text, "\"Authorization\"")); /* the name helps the user... */
	assert_null(strstr(log_text, "TOPSECRET")); /* ...the credential never reaches the log */
	otel_otlp_headers_free(h, n);
}

static void test_headers_precedence(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "general=1,both=g", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.n_headers, 2);
	assert_string_equal(header_value(&cfg, "general"), "1");
	assert_string_equal(header_value(&cfg, "both"), "g");
	otel_otlp_config_free(&cfg);

	/* The per-signal list replaces the general one (override, not merge). */
	setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "signal=2,both=s", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.n_headers, 2);
	assert_string_equal(header_value(&cfg, "signal"), "2");
	assert_string_equal(header_value(&cfg, "both"), "s");
	assert_null(header_value(&cfg, "general"));
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, o, .headers = "opt=3");
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.n_headers, 1);
	assert_string_equal(header_value(&cfg, "opt"), "3");
	otel_otlp_config_free(&cfg);
}

/* ---- Protocol, compression, timeout ---- */

static void test_protocol(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_JSON);
	otel_otlp_config_free(&cfg);

	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/Protobuf", 1); /* any case */
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_PROTOBUF);
	otel_otlp_config_free(&cfg);

	/* protocol_set makes even the zero value (protobuf) beat the environment. */
	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", 1);
	OTEL_OPTS(otel_otlp_http_opts, o, .protocol = OTEL_OTLP_HTTP_PROTOBUF,
		  .protocol_set = true);
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_PROTOBUF);
	otel_otlp_config_free(&cfg);
	o.protocol_set = false; /* without it, the zero field is "not given" */
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_JSON);
	otel_otlp_config_free(&cfg);
	assert_string_equal(log_text, "");
}

static void test_protocol_bad_values(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_PROTOBUF); /* warned, default used */
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_PROTOCOL=\"thrift\" is not one of"));
	otel_otlp_config_free(&cfg);

	setup(state);
	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc", 1);
	assert_int_equal(otel_otlp_config_resolve(NULL, &cfg), -ENOTSUP);
	assert_null(cfg.url);
	assert_non_null(strstr(log_text, "grpc protocol is not implemented yet"));

	setup(state);
	OTEL_OPTS(otel_otlp_http_opts, g, .protocol = OTEL_OTLP_GRPC, .protocol_set = true);
	assert_int_equal(otel_otlp_config_resolve(&g, &cfg), -ENOTSUP);

	OTEL_OPTS(otel_otlp_http_opts, bad, .protocol = (enum otel_otlp_protocol)7,
		  .protocol_set = true);
	assert_int_equal(otel_otlp_config_resolve(&bad, &cfg), -EINVAL);
	assert_non_null(strstr(log_text, "opts.protocol=7"));
}

static void test_compression(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_GZIP);
	otel_otlp_config_free(&cfg);

	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_NONE);
	otel_otlp_config_free(&cfg);
	assert_string_equal(log_text, "");

	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_NONE);
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=\"zstd\""));
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, o, .compression = OTEL_OTLP_COMPRESSION_GZIP,
		  .compression_set = true);
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_GZIP);
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, bad, .compression = (enum otel_otlp_compression)9,
		  .compression_set = true);
	assert_int_equal(otel_otlp_config_resolve(&bad, &cfg), -EINVAL);
}

static void test_timeout(void **state)
{
	static const char *const bad[] = { "abc", "0", "-5", "1.5", "99999999999" };
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.timeout_ms, 2500);
	otel_otlp_config_free(&cfg);

	setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "100", 1);
	resolve_ok(NULL, &cfg);
	assert_int_equal(cfg.timeout_ms, 100);
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, o, .timeout_ms = 42);
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.timeout_ms, 42);
	otel_otlp_config_free(&cfg);
	assert_string_equal(log_text, "");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expect[128];

		setup(state);
		setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", bad[i], 1);
		resolve_ok(NULL, &cfg);
		assert_int_equal(cfg.timeout_ms, 10000); /* warned, default used */
		snprintf(expect, sizeof(expect), "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=\"%s\"",
			 bad[i]);
		assert_non_null(strstr(log_text, expect));
		otel_otlp_config_free(&cfg);
	}
}

/* ---- TLS files, insecure, retry knobs, ignore_env, old option structs ---- */

static void test_tls_files(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/g/ca.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/g/cert.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/s/cert.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/s/key.pem", 1);
	resolve_ok(NULL, &cfg);
	assert_string_equal(cfg.ca_file, "/g/ca.pem");
	assert_string_equal(cfg.client_cert_file, "/s/cert.pem");
	assert_string_equal(cfg.client_key_file, "/s/key.pem");
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, o, .ca_file = "/o/ca.pem", .client_key_file = "/o/key.pem");
	resolve_ok(&o, &cfg);
	assert_string_equal(cfg.ca_file, "/o/ca.pem");
	assert_string_equal(cfg.client_cert_file, "/s/cert.pem");
	assert_string_equal(cfg.client_key_file, "/o/key.pem");
	otel_otlp_config_free(&cfg);
}

static void test_insecure(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	/* The variable is gRPC-only in the spec: it never turns off https verification. */
	setenv("OTEL_EXPORTER_OTLP_INSECURE", "true", 1);
	resolve_ok(NULL, &cfg);
	assert_false(cfg.insecure);
	assert_non_null(strstr(log_text, "OTEL_EXPORTER_OTLP_INSECURE applies to OTLP/gRPC only"));
	otel_otlp_config_free(&cfg);

	OTEL_OPTS(otel_otlp_http_opts, o, .insecure = true);
	resolve_ok(&o, &cfg);
	assert_true(cfg.insecure);
	otel_otlp_config_free(&cfg);
}

static void test_retry_knobs(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	OTEL_OPTS(otel_otlp_http_opts, o, .max_attempts = 2, .initial_backoff_ms = 50);
	resolve_ok(&o, &cfg);
	assert_int_equal(cfg.max_attempts, 2);
	assert_int_equal(cfg.initial_backoff_ms, 50);
	otel_otlp_config_free(&cfg);
}

static void test_ignore_env(void **state)
{
	struct otel_otlp_config cfg;

	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:1", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=b", 1);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5", 1);
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca", 1);
	OTEL_OPTS(otel_otlp_http_opts, o, .ignore_env = true);
	resolve_ok(&o, &cfg);
	assert_string_equal(cfg.url, "http://localhost:4318/v1/traces");
	assert_int_equal(cfg.protocol, OTEL_OTLP_HTTP_PROTOBUF);
	assert_int_equal(cfg.compression, OTEL_OTLP_COMPRESSION_NONE);
	assert_int_equal(cfg.n_headers, 0);
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_null(cfg.ca_file);
	otel_otlp_config_free(&cfg);
}

static void test_opts_size(void **state)
{
	struct otel_otlp_http_opts o;
	struct otel_otlp_config cfg;

	(void)state;
	/* A caller built against an older, shorter struct: fields past sz are not read. */
	memset(&o, 0, sizeof(o));
	o.sz = offsetof(struct otel_otlp_http_opts, protocol);
	o.endpoint = "http://old:1";
	o.timeout_ms = 5; /* beyond sz: ignored */
	resolve_ok(&o, &cfg);
	assert_string_equal(cfg.url, "http://old:1/v1/traces");
	assert_int_equal(cfg.timeout_ms, 10000);
	otel_otlp_config_free(&cfg);

	o.sz = 0;
	assert_int_equal(otel_otlp_config_resolve(&o, &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_env_is_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_endpoint_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_parse_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_parse_bad_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_values_never_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insecure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_knobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opts_size, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
