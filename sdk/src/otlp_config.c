// SPDX-License-Identifier: Apache-2.0
/*
 * Configuration of the OTLP/HTTP trace exporter, resolved once at
 * construction as the OTLP exporter specification says: options first, then
 * the signal-specific OTEL_EXPORTER_OTLP_TRACES_* variable, then the general
 * OTEL_EXPORTER_OTLP_* one, then the default. An endpoint that is not an
 * http(s) URL and the not-implemented grpc protocol make construction fail;
 * every other bad value warns (naming the variable and the value) and falls
 * back to the default, like the rest of the SDK's environment handling.
 *
 * OTEL_EXPORTER_OTLP_[TRACES_]INSECURE is deliberately not applied: the spec
 * defines it for gRPC only ("OTLP/HTTP always uses the scheme provided for
 * the endpoint"), and reading it as "skip certificate verification" would
 * silently weaken https. Only the explicit opts.insecure does that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "env.h"
#include "log.h"
#include "otlp_config.h"
#include "text.h"

/* Longest environment value read (URLs and header lists with tokens). */
#define OTLP_ENV_MAX 8192

/* A chosen environment variable: its name (for messages) and trimmed value. */
struct env_val {
	char name[64];
	char value[OTLP_ENV_MAX];
};

/*
 * Fill @ev with OTEL_EXPORTER_OTLP_TRACES_<what> if set, else with
 * OTEL_EXPORTER_OTLP_<what>; false when neither is set (or env is ignored).
 */
static bool env_lookup(const struct otel_otlp_http_opts *o, const char *what, struct env_val *ev)
{
	static const char *const fmt[] = { "OTEL_EXPORTER_OTLP_TRACES_%s",
					   "OTEL_EXPORTER_OTLP_%s" };

	if (o->ignore_env)
		return false;
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		snprintf(ev->name, sizeof(ev->name), fmt[i], what);
		if (otel_env_str(ev->name, ev->value, sizeof(ev->value)))
			return true;
	}
	return false;
}

/* ---- URLs ---- */

bool otel_otlp_url_valid(const char *url)
{
	size_t skip;
	const char *p;

	if (!url)
		return false;
	if (!strncasecmp(url, "http://", 7))
		skip = 7;
	else if (!strncasecmp(url, "https://", 8))
		skip = 8;
	else
		return false;
	/* A host must follow the scheme. */
	if (!url[skip] || strchr("/?#", url[skip]))
		return false;
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

char *otel_otlp_url_join(const char *base, const char *path)
{
	size_t blen = strlen(base);
	char *out;

	while (blen && base[blen - 1] == '/')
		blen--;
	while (*path == '/')
		path++;
	if (asprintf(&out, "%.*s/%s", (int)blen, base, path) < 0)
		return NULL;
	return out;
}

/* The traces URL and where it came from (for messages). */
static int resolve_url(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg)
{
	struct env_val *ev = malloc(sizeof(*ev));
	const char *origin, *value;
	bool join = false;
	int err = 0;

	if (!ev)
		return -ENOMEM;
	if (o->traces_url) {
		origin = "opts.traces_url";
		value = o->traces_url;
	} else if (o->endpoint) {
		origin = "opts.endpoint";
		value = o->endpoint;
		join = true;
	} else if (!o->ignore_env && otel_env_str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ev->value,
						  sizeof(ev->value))) {
		origin = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
		value = ev->value;
	} else if (!o->ignore_env &&
		   otel_env_str("OTEL_EXPORTER_OTLP_ENDPOINT", ev->value, sizeof(ev->value))) {
		origin = "OTEL_EXPORTER_OTLP_ENDPOINT";
		value = ev->value;
		join = true;
	} else {
		origin = "default";
		value = OTEL_OTLP_DEFAULT_TRACES_URL;
	}
	if (!otel_otlp_url_valid(value)) {
		otel_log(OTEL_LOG_ERROR,
			 "OTLP exporter: %s=\"%s\" is not a valid endpoint (an http:// or https:// "
			 "URL with a host)",
			 origin, value);
		err = -EINVAL;
	} else {
		cfg->url = join ? otel_otlp_url_join(value, OTEL_OTLP_TRACES_PATH) : strdup(value);
		if (!cfg->url)
			err = -ENOMEM;
	}
	free(ev);
	return err;
}

/* ---- Headers ---- */

/* Header values may not carry CR/LF/NUL or other controls (HTAB is fine). */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/*
 * Percent-decode @len bytes of @s into a new string; NULL with errno EINVAL
 * for a malformed "%xx" or a control character (raw or decoded), ENOMEM.
 */
static char *header_value_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	ssize_t n;

	if (!out)
		return NULL;
	n = otel_text_pct_decode(s, len, out);
	if (n < 0 || has_control(out, (size_t)n)) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/* Headers the transport owns: a user value would corrupt the request. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = { "content-type",
						"content-length",
						"content-encoding",
						"transfer-encoding",
						"connection",
						"expect",
						"host" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcasecmp(name, reserved[i]))
			return true;
	return false;
}

/* Add or replace (same name, any case: the later entry wins). */
static int headers_put(struct otel_otlp_header **arr, size_t *n, char *name, char *value)
{
	struct otel_otlp_header *grown;

	for (size_t i = 0; i < *n; i++) {
		if (!strcasecmp((*arr)[i].name, name)) {
			free((*arr)[i].name);
			free((*arr)[i].value);
			(*arr)[i].name = name;
			(*arr)[i].value = value;
			return 0;
		}
	}
	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown)
		return -ENOMEM;
	grown[*n].name = name;
	grown[*n].value = value;
	*arr = grown;
	(*n)++;
	return 0;
}

/*
 * One trimmed "key=value" entry. Returns 0 (added or skipped with a warning) or
 * -ENOMEM. The value is never logged: headers usually carry credentials.
 */
static int header_entry(const char *e, size_t len, const char *origin,
			struct otel_otlp_header **arr, size_t *n)
{
	const char *k, *v;
	size_t klen, vlen;
	char *name, *value;

	if (!len)
		return 0; /* empty list member, e.g. a trailing comma */
	if (!otel_text_split_kv(e, len, &k, &klen, &v, &vlen)) {
		otel_log(OTEL_LOG_WARN, "%s: an entry has no \"=\" (expected key=value); skipped",
			 origin);
		return 0;
	}
	if (!klen) {
		otel_log(OTEL_LOG_WARN, "%s: an entry has an empty key; skipped", origin);
		return 0;
	}
	if (!otel_text_is_token(k, klen)) {
		otel_log(OTEL_LOG_WARN,
			 "%s: \"%.*s\" is not a valid header name (an HTTP token); skipped", origin,
			 (int)klen, k);
		return 0;
	}
	name = strndup(k, klen);
	if (!name)
		return -ENOMEM;
	if (header_reserved(name)) {
		otel_log(OTEL_LOG_WARN, "%s: header \"%s\" is set by the exporter itself; skipped",
			 origin, name);
		free(name);
		return 0;
	}
	value = header_value_decode(v, vlen);
	if (!value) {
		int err = errno;

		if (err == EINVAL)
			otel_log(OTEL_LOG_WARN,
				 "%s: the value of header \"%s\" has a bad %%-escape or a control "
				 "character; skipped",
				 origin, name);
		free(name);
		return err == EINVAL ? 0 : -ENOMEM;
	}
	if (headers_put(arr, n, name, value)) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	return 0;
}

int otel_otlp_headers_parse(const char *s, const char *origin, struct otel_otlp_header **out,
			    size_t *n)
{
	struct otel_otlp_header *arr = NULL;
	const char *p = s, *end = s ? s + strlen(s) : NULL, *e;
	size_t cnt = 0, len;

	*out = NULL;
	*n = 0;
	while (otel_text_list_next(&p, end, &e, &len)) {
		if (header_entry(e, len, origin, &arr, &cnt)) {
			otel_otlp_headers_free(arr, cnt);
			return -ENOMEM;
		}
	}
	*out = arr;
	*n = cnt;
	return 0;
}

void otel_otlp_headers_free(struct otel_otlp_header *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static int resolve_headers(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg)
{
	struct env_val *ev;
	int err;

	if (o->headers)
		return otel_otlp_headers_parse(o->headers, "opts.headers", &cfg->headers,
					       &cfg->n_headers);
	ev = malloc(sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	err = env_lookup(o, "HEADERS", ev) ?
		      otel_otlp_headers_parse(ev->value, ev->name, &cfg->headers, &cfg->n_headers) :
		      0;
	free(ev);
	return err;
}

/* ---- Protocol, compression, timeout, files ---- */

static int resolve_protocol(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg,
			    struct env_val *ev)
{
	static const char *const names[] = { [OTEL_OTLP_HTTP_PROTOBUF] = "http/protobuf",
					     [OTEL_OTLP_HTTP_JSON] = "http/json",
					     [OTEL_OTLP_GRPC] = "grpc" };
	int p = OTEL_OTLP_HTTP_PROTOBUF;

	if (o->protocol_set) {
		if ((unsigned int)o->protocol > OTEL_OTLP_GRPC) {
			otel_log(OTEL_LOG_ERROR,
				 "OTLP exporter: opts.protocol=%d is not a protocol",
				 (int)o->protocol);
			return -EINVAL;
		}
		p = (int)o->protocol;
	} else if (env_lookup(o, "PROTOCOL", ev)) {
		for (p = 0; p <= OTEL_OTLP_GRPC && strcasecmp(ev->value, names[p]); p++)
			;
		if (p > OTEL_OTLP_GRPC) {
			otel_log(OTEL_LOG_WARN,
				 "%s=\"%s\" is not one of http/protobuf, http/json, grpc; using "
				 "http/protobuf",
				 ev->name, ev->value);
			p = OTEL_OTLP_HTTP_PROTOBUF;
		}
	}
	if (p == OTEL_OTLP_GRPC) {
		otel_log(
			OTEL_LOG_ERROR,
			"OTLP exporter: the grpc protocol is not implemented yet; use http/protobuf "
			"or http/json (OTEL_EXPORTER_OTLP_PROTOCOL)");
		return -ENOTSUP;
	}
	cfg->protocol = (enum otel_otlp_protocol)p;
	return 0;
}

static int resolve_compression(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg,
			       struct env_val *ev)
{
	cfg->compression = OTEL_OTLP_COMPRESSION_NONE;
	if (o->compression_set) {
		if ((unsigned int)o->compression > OTEL_OTLP_COMPRESSION_GZIP) {
			otel_log(OTEL_LOG_ERROR,
				 "OTLP exporter: opts.compression=%d is not a compression",
				 (int)o->compression);
			return -EINVAL;
		}
		cfg->compression = o->compression;
	} else if (env_lookup(o, "COMPRESSION", ev)) {
		if (!strcasecmp(ev->value, "gzip"))
			cfg->compression = OTEL_OTLP_COMPRESSION_GZIP;
		else if (strcasecmp(ev->value, "none"))
			otel_log(OTEL_LOG_WARN, "%s=\"%s\" is not one of gzip, none; using none",
				 ev->name, ev->value);
	}
	return 0;
}

static void resolve_timeout(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg,
			    struct env_val *ev)
{
	cfg->timeout_ms = OTEL_OTLP_DEFAULT_TIMEOUT_MS;
	if (o->timeout_ms) {
		cfg->timeout_ms = o->timeout_ms;
	} else if (env_lookup(o, "TIMEOUT", ev)) {
		/* otel_env_u32 warns about non-numbers; a zero timeout could never export. */
		cfg->timeout_ms = otel_env_u32(ev->name, OTEL_OTLP_DEFAULT_TIMEOUT_MS);
		if (!cfg->timeout_ms) {
			otel_log(OTEL_LOG_WARN,
				 "%s=\"%s\" must be a positive number of ms; using %u", ev->name,
				 ev->value, OTEL_OTLP_DEFAULT_TIMEOUT_MS);
			cfg->timeout_ms = OTEL_OTLP_DEFAULT_TIMEOUT_MS;
		}
	}
}

/* @opt if given, else the environment variable for @what, else NULL. */
static int resolve_file(const struct otel_otlp_http_opts *o, const char *opt, const char *what,
			struct env_val *ev, char **out)
{
	const char *v = opt ? opt : env_lookup(o, what, ev) ? ev->value : NULL;

	*out = NULL;
	if (!v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

static void note_insecure_env(const struct otel_otlp_http_opts *o, struct env_val *ev)
{
	if (env_lookup(o, "INSECURE", ev) && otel_env_bool(ev->name, false))
		otel_log(OTEL_LOG_INFO,
			 "%s applies to OTLP/gRPC only; OTLP/HTTP follows the endpoint's scheme",
			 ev->name);
}

static int resolve_all(const struct otel_otlp_http_opts *o, struct otel_otlp_config *cfg,
		       struct env_val *ev)
{
	int err;

	err = resolve_protocol(o, cfg, ev);
	if (!err)
		err = resolve_url(o, cfg);
	if (!err)
		err = resolve_compression(o, cfg, ev);
	if (!err)
		err = resolve_headers(o, cfg);
	if (!err)
		err = resolve_file(o, o->ca_file, "CERTIFICATE", ev, &cfg->ca_file);
	if (!err)
		err = resolve_file(o, o->client_cert_file, "CLIENT_CERTIFICATE", ev,
				   &cfg->client_cert_file);
	if (!err)
		err = resolve_file(o, o->client_key_file, "CLIENT_KEY", ev, &cfg->client_key_file);
	if (err)
		return err;
	resolve_timeout(o, cfg, ev);
	note_insecure_env(o, ev);
	cfg->insecure = o->insecure;
	cfg->max_attempts = o->max_attempts ? o->max_attempts : OTEL_OTLP_DEFAULT_MAX_ATTEMPTS;
	cfg->initial_backoff_ms = o->initial_backoff_ms ? o->initial_backoff_ms :
							  OTEL_OTLP_DEFAULT_INITIAL_BACKOFF_MS;
	return 0;
}

int otel_otlp_config_resolve(const struct otel_otlp_http_opts *opts, struct otel_otlp_config *out)
{
	struct otel_otlp_http_opts o = { 0 };
	struct env_val *ev;
	int err;

	memset(out, 0, sizeof(*out));
	if (opts) {
		if (opts->sz < sizeof(opts->sz))
			return -EINVAL;
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	}
	ev = malloc(sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	err = resolve_all(&o, out, ev);
	free(ev);
	if (err)
		otel_otlp_config_free(out);
	return err;
}

void otel_otlp_config_free(struct otel_otlp_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->url);
	otel_otlp_headers_free(cfg->headers, cfg->n_headers);
	free(cfg->ca_file);
	free(cfg->client_cert_file);
	free(cfg->client_key_file);
	memset(cfg, 0, sizeof(*cfg));
}
