/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resolved configuration of the OTLP/HTTP trace exporter: what the
 * options struct says, else the OTEL_EXPORTER_OTLP_TRACES_* variables, else
 * the OTEL_EXPORTER_OTLP_* ones, else the specification's defaults. Resolving
 * only reads options and the environment (no I/O), so it is unit-tested
 * directly.
 */
#ifndef OTEL_SRC_OTLP_CONFIG_H
#define OTEL_SRC_OTLP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <otel/export.h>

#define OTEL_OTLP_DEFAULT_TRACES_URL "http://localhost:4318/v1/traces"
#define OTEL_OTLP_TRACES_PATH "v1/traces"
#define OTEL_OTLP_DEFAULT_TIMEOUT_MS 10000u
#define OTEL_OTLP_DEFAULT_MAX_ATTEMPTS 6u
#define OTEL_OTLP_DEFAULT_INITIAL_BACKOFF_MS 1000u

/* One extra request header, name and (percent-decoded) value. */
struct otel_otlp_header {
	char *name;
	char *value;
};

struct otel_otlp_config {
	char *url; /* full traces URL */
	enum otel_otlp_protocol protocol; /* never OTEL_OTLP_GRPC */
	enum otel_otlp_compression compression;
	struct otel_otlp_header *headers;
	size_t n_headers;
	uint32_t timeout_ms; /* per export, > 0 */
	char *ca_file; /* NULL: the system's trust store */
	char *client_cert_file;
	char *client_key_file;
	bool insecure; /* skip TLS peer/host verification */
	uint32_t max_attempts; /* >= 1 */
	uint32_t initial_backoff_ms;
};

/*
 * Resolve @opts (NULL = all defaults) and the environment into @out.
 * Returns 0; -EINVAL for an invalid URL or option (logged, naming the value);
 * -ENOTSUP for the grpc protocol (logged); -ENOMEM. On error @out is left
 * empty (free is still safe).
 */
int otel_otlp_config_resolve(const struct otel_otlp_http_opts *opts, struct otel_otlp_config *out);
/* Free what resolve allocated; accepts NULL and an empty config. */
void otel_otlp_config_free(struct otel_otlp_config *cfg);

/*
 * @base + "/" + @path with exactly one "/" between them (trailing slashes of
 * @base and leading ones of @path are dropped). Malloc'ed, NULL on ENOMEM.
 */
char *otel_otlp_url_join(const char *base, const char *path);
/* True when @url is http:// or https:// (any case) followed by a host. */
bool otel_otlp_url_valid(const char *url);

/*
 * Parse "k1=v1,k2=v2" (the W3C baggage list form without properties; values
 * percent-decoded, blanks around keys and values ignored) into a new array.
 * An invalid entry (no "=", a key that is not an HTTP token, a bad "%xx", a
 * value with control characters, or a header the transport sets itself such
 * as Content-Type) is skipped with a warning naming @origin; the valid
 * entries are kept. Returns 0 or -ENOMEM.
 */
int otel_otlp_headers_parse(const char *s, const char *origin, struct otel_otlp_header **out,
			    size_t *n);
void otel_otlp_headers_free(struct otel_otlp_header *h, size_t n);

#endif
