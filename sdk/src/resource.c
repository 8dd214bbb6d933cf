// SPDX-License-Identifier: Apache-2.0
/*
 * Resources: immutable, reference-counted attribute sets sorted by key;
 * merging per the specification; the SDK's default resource (telemetry.sdk.*,
 * the host and process detectors, OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_SERVICE_NAME, the unknown_service fallback); and the parser of the
 * OTEL_RESOURCE_ATTRIBUTES value, which the fuzzer calls directly.
 *
 * Resource attributes are exempt from attribute limits (the spec says so), so
 * every list here is built with unlimited count and length.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <otel/sdk.h>
#include "attrs.h"
#include "env.h"
#include "log.h"
#include "resource.h"
#include "text.h"

/*
 * The semantic conventions version whose names the SDK's detectors use; the
 * spec requires detectors that populate semconv attributes to say which.
 */
#define SEMCONV_SCHEMA_URL "https://opentelemetry.io/schemas/1.34.0"
#define SDK_NAME "libotel"
#define SDK_LANGUAGE "c"

struct otel_resource {
	_Atomic uint32_t refcount;
	struct otel_store st; /* heap-only: every block is malloc'ed */
	struct otel_attr_list attrs; /* sorted by key once built */
	char *schema_url; /* NULL when empty */
};

/* ---- Building ---- */

static otel_resource *resource_alloc(const char *schema_url)
{
	otel_resource *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	/* calloc left r->st all NULL: a heap-only store (otel_store_init(NULL, 0) is the same). */
	atomic_init(&r->refcount, 1);
	if (schema_url && *schema_url && !(r->schema_url = strdup(schema_url))) {
		free(r);
		return NULL;
	}
	return r;
}

static void resource_free(otel_resource *r)
{
	otel_attr_list_release(&r->attrs, &r->st);
	free(r->schema_url);
	free(r);
}

/* A failed build: free what was made, report ENOMEM. */
static otel_resource *resource_fail(otel_resource *r)
{
	if (r)
		resource_free(r);
	errno = ENOMEM;
	return NULL;
}

/* Set in an unlimited list: only memory can fail; invalid attributes are skipped silently. */
static int set_unlimited(struct otel_attr_list *l, struct otel_store *st, const char *key,
			 const struct otel_value *v)
{
	int err = otel_attr_list_set(l, st, key, v, UINT32_MAX, OTEL_LIMIT_UNLIMITED);

	return err == -ENOMEM ? err : 0;
}

/* Add attributes in order: a later key overwrites an earlier one. */
static int add_attrs(otel_resource *r, const struct otel_attribute *attrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set_unlimited(&r->attrs, &r->st, attrs[i].key, &attrs[i].value))
			return -ENOMEM;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct otel_attribute *)a)->key,
		      ((const struct otel_attribute *)b)->key);
}

/* Keys are unique (the list de-duplicates), so sorting once makes the order total. */
static otel_resource *resource_seal(otel_resource *r)
{
	if (r->attrs.count > 1)
		qsort(r->attrs.items, r->attrs.count, sizeof(*r->attrs.items), cmp_key);
	return r;
}

otel_resource *otel_resource_new(const struct otel_attribute *attrs, size_t n,
				 const char *schema_url)
{
	otel_resource *r;

	if (!attrs && n) {
		errno = EINVAL;
		return NULL;
	}
	r = resource_alloc(schema_url);
	if (!r || add_attrs(r, attrs, n))
		return resource_fail(r);
	return resource_seal(r);
}

/* The spec's schema URL rule for merging @updating over @base. */
static const char *merge_schema_url(const char *base, const char *updating)
{
	if (!base)
		return updating;
	if (!updating || !strcmp(base, updating))
		return base;
	/* The spec leaves this result to the implementation: keep the base's URL. */
	otel_log_once(OTEL_LOG_WARN,
		      "merging resources with different schema URLs (%s and %s): keeping %s", base,
		      updating, base);
	return base;
}

/* Merge @parts in order (NULLs skipped): later parts win. */
static otel_resource *merge_all(const otel_resource *const *parts, size_t n)
{
	const char *schema_url = NULL;
	otel_resource *r;

	for (size_t i = 0; i < n; i++)
		if (parts[i])
			schema_url = merge_schema_url(schema_url, parts[i]->schema_url);
	r = resource_alloc(schema_url);
	if (!r)
		return resource_fail(r);
	for (size_t i = 0; i < n; i++)
		if (parts[i] && add_attrs(r, parts[i]->attrs.items, parts[i]->attrs.count))
			return resource_fail(r);
	return resource_seal(r);
}

otel_resource *otel_resource_merge(const otel_resource *base, const otel_resource *updating)
{
	const otel_resource *parts[] = { base, updating };

	return merge_all(parts, 2);
}

otel_resource *otel_resource_ref(otel_resource *res)
{
	if (res)
		atomic_fetch_add_explicit(&res->refcount, 1, memory_order_relaxed);
	return res;
}

void otel_resource_unref(otel_resource *res)
{
	if (res && atomic_fetch_sub_explicit(&res->refcount, 1, memory_order_acq_rel) == 1)
		resource_free(res);
}

/* ---- Reading ---- */

const struct otel_attribute *otel_resource_attributes(const otel_resource *res, size_t *n)
{
	if (n)
		*n = res ? res->attrs.count : 0;
	return res && res->attrs.count ? res->attrs.items : NULL;
}

const char *otel_resource_schema_url(const otel_resource *res)
{
	return res ? res->schema_url : NULL;
}

const struct otel_value *otel_resource_get(const otel_resource *res, const char *key)
{
	const struct otel_attribute probe = { .key = key }, *hit;

	if (!res || !key || !res->attrs.count)
		return NULL;
	hit = bsearch(&probe, res->attrs.items, res->attrs.count, sizeof(probe), cmp_key);
	return hit ? &hit->value : NULL;
}

/* ---- OTEL_RESOURCE_ATTRIBUTES ---- */

/* Scratch for one list: a decode buffer, and a NUL-terminated output each for key and value. */
struct kv_scratch {
	char *raw; /* n bytes */
	char *key; /* 3n + 1 bytes */
	char *val; /* 3n + 1 bytes */
};

/*
 * Decode s[0..n) into out (NUL-terminated): percent-decoded, then each
 * ill-formed UTF-8 subpart replaced with U+FFFD as W3C Baggage does. Its
 * length, or -EINVAL.
 */
static ssize_t decode_part(const char *s, size_t n, char *raw, char *out)
{
	ssize_t len = otel_text_pct_decode(s, n, raw);

	if (len < 0)
		return len;
	len = (ssize_t)otel_text_utf8_repair(raw, (size_t)len, out);
	out[len] = '\0';
	return len;
}

/* One trimmed "key=value" list member m[0..len); an empty member is skipped. */
static int parse_member(const char *m, size_t len, struct kv_scratch *sc,
			struct otel_attr_list *out, struct otel_store *st)
{
	const char *k, *v;
	size_t klen, vlen;
	ssize_t kdec, vdec;
	struct otel_value val = { .type = OTEL_VALUE_STRING };

	if (!len)
		return 0;
	if (!otel_text_split_kv(m, len, &k, &klen, &v, &vlen))
		return -EINVAL;
	/* "=" inside a value MUST be percent-encoded: a second one is malformed. */
	if (memchr(v, '=', vlen))
		return -EINVAL;
	kdec = decode_part(k, klen, sc->raw, sc->key);
	vdec = decode_part(v, vlen, sc->raw, sc->val);
	/* A key is a C string: empty or with an embedded NUL it cannot be represented. */
	if (kdec <= 0 || vdec < 0 || strlen(sc->key) != (size_t)kdec)
		return -EINVAL;
	val.str.ptr = sc->val;
	val.str.len = (size_t)vdec;
	return set_unlimited(out, st, sc->key, &val);
}

int otel_resource_parse_kv_list(const char *s, size_t len, struct otel_attr_list *out,
				struct otel_store *st)
{
	struct kv_scratch sc;
	const char *p = s, *m;
	size_t mlen;
	char *mem;
	int err = 0;

	if (!len)
		return 0;
	if (len > SIZE_MAX / 8)
		return -ENOMEM;
	mem = malloc(7 * len + 2);
	if (!mem)
		return -ENOMEM;
	sc = (struct kv_scratch){ .raw = mem, .key = mem + len, .val = mem + 4 * len + 1 };
	while (!err && otel_text_list_next(&p, s + len, &m, &mlen))
		err = parse_member(m, mlen, &sc, out, st);
	free(mem);
	if (err)
		otel_attr_list_release(out, st);
	return err;
}

otel_resource *otel_resource_from_env(void)
{
	const char *env = getenv("OTEL_RESOURCE_ATTRIBUTES");
	char name[1024];
	otel_resource *r = resource_alloc(NULL);
	int err;

	if (!r)
		return resource_fail(r);
	err = env ? otel_resource_parse_kv_list(env, strlen(env), &r->attrs, &r->st) : 0;
	if (err == -ENOMEM)
		return resource_fail(r);
	if (err)
		otel_log(OTEL_LOG_WARN,
			 "OTEL_RESOURCE_ATTRIBUTES=\"%s\" is malformed (expected key=value pairs "
			 "separated by ',', with ',', '=' and '%%' percent-encoded); ignored",
			 env);
	/* OTEL_SERVICE_NAME takes precedence over service.name in OTEL_RESOURCE_ATTRIBUTES. */
	if (otel_env_str("OTEL_SERVICE_NAME", name, sizeof(name))) {
		struct otel_value v = otel_value_str(name);

		if (set_unlimited(&r->attrs, &r->st, "service.name", &v))
			return resource_fail(r);
	}
	return resource_seal(r);
}

/* ---- Detectors ---- */

/* Append a string attribute to a detector's array (borrowed until the resource copies it). */
static void put_str(struct otel_attribute *attrs, size_t *n, const char *key, const char *value)
{
	attrs[(*n)++] = (struct otel_attribute){ .key = key, .value = otel_value_str(value) };
}

/* uname -m to the semantic conventions' host.arch values; others are passed through. */
static const char *host_arch(const char *machine)
{
	static const struct {
		const char *prefix, *arch;
	} map[] = {
		{ "x86_64", "amd64" }, { "amd64", "amd64" }, { "aarch64", "arm64" },
		{ "arm64", "arm64" },  { "i386", "x86" },    { "i486", "x86" },
		{ "i586", "x86" },     { "i686", "x86" },    { "arm", "arm32" },
		{ "ppc64", "ppc64" },  { "ppc", "ppc32" },   { "s390x", "s390x" },
		{ "ia64", "ia64" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(machine, map[i].prefix, strlen(map[i].prefix)))
			return map[i].arch;
	return machine;
}

otel_resource *otel_resource_detect_host(void)
{
	struct otel_attribute attrs[4];
	char host[HOST_NAME_MAX + 1], os_type[sizeof(((struct utsname *)0)->sysname)];
	char os_desc[2 * sizeof(((struct utsname *)0)->release) + 2];
	struct utsname u;
	size_t n = 0;

	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		put_str(attrs, &n, "host.name", host);
	}
	if (!uname(&u)) {
		size_t i;

		/* os.type values are the lowercase system names: "linux", "freebsd"... */
		for (i = 0; u.sysname[i] && i + 1 < sizeof(os_type); i++)
			os_type[i] = (char)tolower((unsigned char)u.sysname[i]);
		os_type[i] = '\0';
		snprintf(os_desc, sizeof(os_desc), "%s %s", u.sysname, u.release);
		put_str(attrs, &n, "host.arch", host_arch(u.machine));
		put_str(attrs, &n, "os.type", os_type);
		put_str(attrs, &n, "os.description", os_desc);
	}
	return otel_resource_new(attrs, n, SEMCONV_SCHEMA_URL);
}

/* The whole of a small /proc file, malloc'ed with a NUL after it; NULL when unreadable. */
static char *read_proc_file(const char *path, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	ssize_t got = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while (got > 0) {
		if (n + 1 >= cap) {
			char *nbuf = realloc(buf, cap ? cap * 2 : 4096);

			if (!nbuf)
				break;
			buf = nbuf;
			cap = cap ? cap * 2 : 4096;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got > 0)
			n += (size_t)got;
	}
	close(fd);
	if (got != 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* /proc/self/cmdline as an array of the process's arguments (the NUL-separated strings). */
static const char **command_args(char **text, size_t *count)
{
	size_t len, n = 0;
	const char **args;
	char *buf = read_proc_file("/proc/self/cmdline", &len);

	if (!buf || !len) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		n += !buf[i];
	/* A process that rewrote its arguments may have left the last without its NUL. */
	n += buf[len - 1] != '\0';
	args = malloc(n * sizeof(*args));
	if (!args) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0, k = 0; k < n; i += strlen(buf + i) + 1)
		args[k++] = buf + i;
	*text = buf;
	*count = n;
	return args;
}

/* The effective user's name, malloc'ed; NULL when it has none. */
static char *owner_name(void)
{
	struct passwd pw, *found = NULL;
	size_t size = 1024;
	char *buf = NULL, *name = NULL;
	int err = ERANGE;

	while (err == ERANGE && size <= 1 << 20) {
		char *nbuf = realloc(buf, size);

		if (!nbuf)
			break;
		buf = nbuf;
		err = getpwuid_r(geteuid(), &pw, buf, size, &found);
		size *= 2;
	}
	if (!err && found)
		name = strdup(found->pw_name);
	free(buf);
	return name;
}

otel_resource *otel_resource_detect_process(void)
{
	struct otel_attribute attrs[8];
	char exe[PATH_MAX], libc[64], *args_text = NULL, *owner = owner_name(), *sp;
	size_t n = 0, n_args = 0;
	const char **args = command_args(&args_text, &n_args);
	ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	otel_resource *r;

	attrs[n++] = (struct otel_attribute)OTEL_ATTR_INT("process.pid", getpid());
	if (exe_len > 0) {
		const char *base;

		exe[exe_len] = '\0';
		base = strrchr(exe, '/');
		put_str(attrs, &n, "process.executable.path", exe);
		put_str(attrs, &n, "process.executable.name", base ? base + 1 : exe);
	}
	if (args) {
		attrs[n].key = "process.command_args";
		attrs[n++].value = (struct otel_value){ .type = OTEL_VALUE_STRING_ARRAY,
							.array = { args, n_args } };
	}
	if (owner)
		put_str(attrs, &n, "process.owner", owner);
	/* A C program's runtime is its C library: "glibc 2.36" splits into name and version. */
	if (confstr(_CS_GNU_LIBC_VERSION, libc, sizeof(libc)) && (sp = strchr(libc, ' '))) {
		*sp = '\0';
		put_str(attrs, &n, "process.runtime.name", libc);
		put_str(attrs, &n, "process.runtime.version", sp + 1);
	}
	r = otel_resource_new(attrs, n, SEMCONV_SCHEMA_URL);
	free(args);
	free(args_text);
	free(owner);
	return r;
}

/* ---- The default resource ---- */

/* The semantic conventions' fallback: unknown_service[:<process.executable.name>]. */
static void unknown_service(const otel_resource *process, char *buf, size_t size)
{
	const struct otel_value *exe = otel_resource_get(process, "process.executable.name");

	if (exe && exe->type == OTEL_VALUE_STRING && exe->str.len)
		snprintf(buf, size, "unknown_service:%s", exe->str.ptr);
	else
		snprintf(buf, size, "unknown_service");
}

/* telemetry.sdk.* and the service.name fallback, which any later source overrides. */
static otel_resource *sdk_resource(const otel_resource *process)
{
	char service[PATH_MAX + 32];
	struct otel_attribute attrs[] = {
		{ "service.name", otel_value_str("") }, /* filled below */
		OTEL_ATTR_STR("telemetry.sdk.language", SDK_LANGUAGE),
		OTEL_ATTR_STR("telemetry.sdk.name", SDK_NAME),
		{ "telemetry.sdk.version", otel_value_str(otel_version_string()) },
	};

	unknown_service(process, service, sizeof(service));
	attrs[0].value = otel_value_str(service);
	return otel_resource_new(attrs, sizeof(attrs) / sizeof(attrs[0]), SEMCONV_SCHEMA_URL);
}

otel_resource *otel_resource_default(void)
{
	otel_resource *process = otel_resource_detect_process();
	otel_resource *host = otel_resource_detect_host();
	otel_resource *env = otel_resource_from_env();
	otel_resource *sdk = process ? sdk_resource(process) : NULL;
	const otel_resource *parts[] = { sdk, host, process, env };
	otel_resource *r = NULL;

	if (sdk && host && env)
		r = merge_all(parts, 4);
	otel_resource_unref(sdk);
	otel_resource_unref(host);
	otel_resource_unref(process);
	otel_resource_unref(env);
	if (!r)
		errno = ENOMEM;
	return r;
}
