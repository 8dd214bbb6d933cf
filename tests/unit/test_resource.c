// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of resources (sdk/src/resource.c): creation and sorting, merge
 * precedence and the schema URL rules, the OTEL_RESOURCE_ATTRIBUTES parser
 * (percent-decoding, whitespace, malformed values discarded whole),
 * OTEL_SERVICE_NAME precedence, the host and process detectors against the
 * system's own answers, and the default resource.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/sdk.h>
#include "attrs.h"
#include "resource.h"

#define SCHEMA "https://opentelemetry.io/schemas/1.34.0"

static int main_argc;
static char **main_argv;

static int setup(void **state)
{
	(void)state;
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	unsetenv("OTEL_SERVICE_NAME");
	log_capture_start(OTEL_LOG_DEBUG);
	return 0;
}

/* Every resource keeps its keys unique and sorted. */
static void assert_sorted(const otel_resource *r)
{
	size_t n;
	const struct otel_attribute *a = otel_resource_attributes(r, &n);

	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(a[i - 1].key, a[i].key) < 0);
}

static void assert_str_attr(const otel_resource *r, const char *key, const char *want)
{
	const struct otel_value *v = otel_resource_get(r, key);

	assert_non_null(v);
	assert_int_equal(v->type, OTEL_VALUE_STRING);
	assert_string_equal(v->str.ptr, want);
	assert_int_equal(v->str.len, strlen(want));
}

static size_t count_of(const otel_resource *r)
{
	size_t n = 99;

	otel_resource_attributes(r, &n);
	return n;
}

/* ---- creation, reading, references ---- */

static void test_new_sorted_and_copied(void **state)
{
	char val[] = "original";
	const char *items[] = { "x", "y" };
	struct otel_attribute attrs[] = {
		OTEL_ATTR_STR("zeta", "z"),
		{ .key = "alpha", .value = { .type = OTEL_VALUE_STRING, .str = { val, 8 } } },
		OTEL_ATTR_INT("mid", 42),
		OTEL_ATTR_DOUBLE("dbl", 2.5),
		OTEL_ATTR_BOOL("flag", true),
		{ .key = "arr",
		  .value = { .type = OTEL_VALUE_STRING_ARRAY, .array = { items, 2 } } },
		OTEL_ATTR_STR("zeta", "z2"), /* later duplicate wins */
		{ .key = NULL, .value = { .type = OTEL_VALUE_INT, .i = 1 } }, /* skipped */
		{ .key = "none", .value = { .type = OTEL_VALUE_NONE } }, /* skipped */
	};
	otel_resource *r = otel_resource_new(attrs, sizeof(attrs) / sizeof(attrs[0]), SCHEMA);
	const struct otel_attribute *a;
	const struct otel_value *v;
	size_t n;

	(void)state;
	assert_non_null(r);
	memcpy(val, "CHANGED!", 8); /* the resource holds its own copy */
	a = otel_resource_attributes(r, &n);
	assert_int_equal(n, 6);
	assert_string_equal(a[0].key, "alpha");
	assert_string_equal(a[1].key, "arr");
	assert_string_equal(a[2].key, "dbl");
	assert_string_equal(a[3].key, "flag");
	assert_string_equal(a[4].key, "mid");
	assert_string_equal(a[5].key, "zeta");
	assert_str_attr(r, "alpha", "original");
	assert_str_attr(r, "zeta", "z2");
	assert_int_equal(otel_resource_get(r, "mid")->i, 42);
	assert_true(otel_resource_get(r, "dbl")->d == 2.5);
	assert_true(otel_resource_get(r, "flag")->b);
	v = otel_resource_get(r, "arr");
	assert_int_equal(v->type, OTEL_VALUE_STRING_ARRAY);
	assert_int_equal(v->array.count, 2);
	assert_string_equal(((const char *const *)v->array.items)[1], "y");
	assert_null(otel_resource_get(r, "none"));
	assert_null(otel_resource_get(r, "missing"));
	assert_null(otel_resource_get(r, NULL));
	assert_string_equal(otel_resource_schema_url(r), SCHEMA);
	otel_resource_unref(r);
}

static void test_new_edge_cases(void **state)
{
	otel_resource *r;
	size_t n = 99;

	(void)state;
	r = otel_resource_new(NULL, 0, NULL);
	assert_non_null(r);
	assert_null(otel_resource_attributes(r, &n)); /* empty */
	assert_int_equal(n, 0);
	assert_null(otel_resource_schema_url(r));
	otel_resource_unref(r);
	r = otel_resource_new(NULL, 0, ""); /* an empty schema URL is no schema URL */
	assert_null(otel_resource_schema_url(r));
	otel_resource_unref(r);
	errno = 0;
	assert_null(otel_resource_new(NULL, 3, NULL));
	assert_int_equal(errno, EINVAL);
	/* NULL resources read as empty. */
	assert_null(otel_resource_attributes(NULL, &n));
	assert_int_equal(n, 0);
	assert_null(otel_resource_schema_url(NULL));
	assert_null(otel_resource_get(NULL, "k"));
}

static void test_ref_unref(void **state)
{
	struct otel_attribute a[] = { OTEL_ATTR_STR("k", "v") };
	otel_resource *r = otel_resource_new(a, 1, NULL);

	(void)state;
	assert_ptr_equal(otel_resource_ref(r), r);
	otel_resource_unref(r);
	assert_str_attr(r, "k", "v"); /* still alive: one reference left */
	otel_resource_unref(r); /* freed: the leak checker sees no leak */
	otel_resource_unref(NULL);
	assert_null(otel_resource_ref(NULL));
}

/* ---- merge ---- */

static void test_merge_precedence(void **state)
{
	struct otel_attribute ba[] = { OTEL_ATTR_STR("a", "base"), OTEL_ATTR_STR("b", "base"),
				       OTEL_ATTR_INT("c", 1) };
	struct otel_attribute ua[] = { OTEL_ATTR_STR("b", "upd"), OTEL_ATTR_STR("c", ""),
				       OTEL_ATTR_STR("d", "upd") };
	otel_resource *base = otel_resource_new(ba, 3, NULL);
	otel_resource *upd = otel_resource_new(ua, 3, NULL);
	otel_resource *m = otel_resource_merge(base, upd);

	(void)state;
	assert_non_null(m);
	assert_int_equal(count_of(m), 4);
	assert_sorted(m);
	assert_str_attr(m, "a", "base"); /* only in base */
	assert_str_attr(m, "b", "upd"); /* updating wins */
	assert_str_attr(m, "c", ""); /* even with an empty value, and another type */
	assert_str_attr(m, "d", "upd"); /* only in updating */
	/* The inputs are untouched. */
	assert_str_attr(base, "b", "base");
	assert_int_equal(otel_resource_get(base, "c")->i, 1);
	otel_resource_unref(m);

	/* NULL on either side is an empty resource. */
	m = otel_resource_merge(NULL, upd);
	assert_int_equal(count_of(m), 3);
	assert_str_attr(m, "b", "upd");
	otel_resource_unref(m);
	m = otel_resource_merge(base, NULL);
	assert_int_equal(count_of(m), 3);
	assert_str_attr(m, "b", "base");
	otel_resource_unref(m);
	m = otel_resource_merge(NULL, NULL);
	assert_non_null(m);
	assert_int_equal(count_of(m), 0);
	otel_resource_unref(m);
	otel_resource_unref(base);
	otel_resource_unref(upd);
}

static const char *merged_schema(const char *base_url, const char *upd_url, char *buf)
{
	struct otel_attribute a[] = { OTEL_ATTR_STR("k", "base") };
	struct otel_attribute b[] = { OTEL_ATTR_STR("k", "upd") };
	otel_resource *base = otel_resource_new(a, 1, base_url);
	otel_resource *upd = otel_resource_new(b, 1, upd_url);
	otel_resource *m = otel_resource_merge(base, upd);
	const char *url = otel_resource_schema_url(m);

	/* Whatever the schema URLs, the attributes merge the same way. */
	assert_str_attr(m, "k", "upd");
	snprintf(buf, 128, "%s", url ? url : "(none)");
	otel_resource_unref(base);
	otel_resource_unref(upd);
	otel_resource_unref(m);
	return buf;
}

static void test_merge_schema_url(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(merged_schema(NULL, NULL, buf), "(none)");
	assert_string_equal(merged_schema(NULL, "https://s/1", buf), "https://s/1");
	assert_string_equal(merged_schema("", "https://s/1", buf), "https://s/1");
	assert_string_equal(merged_schema("https://s/1", NULL, buf), "https://s/1");
	assert_string_equal(merged_schema("https://s/1", "https://s/1", buf), "https://s/1");
	assert_int_equal(log_warnings, 0);
	/* A conflict: implementation-specific; we keep the base's URL and warn once. */
	assert_string_equal(merged_schema("https://s/1", "https://s/2", buf), "https://s/1");
	assert_int_equal(log_warnings, 1);
	assert_non_null(strstr(log_text, "https://s/2"));
	assert_string_equal(merged_schema("https://s/2", "https://s/3", buf), "https://s/2");
	assert_int_equal(log_warnings, 1);
}

/* ---- the OTEL_RESOURCE_ATTRIBUTES parser ---- */

struct parsed {
	struct otel_store st;
	struct otel_attr_list l;
	int rc;
};

static void parse(struct parsed *p, const char *s, size_t len)
{
	memset(p, 0, sizeof(*p)); /* an all-NULL store is heap-only */
	p->rc = otel_resource_parse_kv_list(s, len, &p->l, &p->st);
}

static void parsed_free(struct parsed *p)
{
	otel_attr_list_release(&p->l, &p->st);
}

/* Parse @s and expect exactly the @n pairs in @kv (key, value, key, value...). */
static void expect_pairs(const char *s, const char *const *kv, size_t n)
{
	struct parsed p;

	parse(&p, s, strlen(s));
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.count, n);
	for (size_t i = 0; i < n; i++) {
		const struct otel_attribute *a = otel_attr_list_find(&p.l, kv[2 * i]);

		assert_non_null(a);
		assert_int_equal(a->value.type, OTEL_VALUE_STRING);
		assert_int_equal(a->value.str.len, strlen(kv[2 * i + 1]));
		assert_string_equal(a->value.str.ptr, kv[2 * i + 1]);
	}
	parsed_free(&p);
}

#define EXPECT(S, ...)                                                    \
	do {                                                              \
		const char *const kv_[] = { __VA_ARGS__ };                \
		expect_pairs((S), kv_, sizeof(kv_) / sizeof(kv_[0]) / 2); \
	} while (0)

static void expect_invalid(const char *s, size_t len)
{
	struct parsed p;

	parse(&p, s, len);
	assert_int_equal(p.rc, -EINVAL);
	/* Discarded whole: nothing is kept, not even the valid pairs before the error. */
	assert_int_equal(p.l.count, 0);
	assert_null(p.l.items);
	parsed_free(&p);
}

static void test_parse_valid(void **state)
{
	struct parsed p;

	(void)state;
	EXPECT("a=1,b=2", "a", "1", "b", "2");
	EXPECT("service.name=checkout", "service.name", "checkout");
	/* Blanks around keys and values are trimmed, inner ones kept. */
	EXPECT(" a = 1 ,\tb=x y\t", "a", "1", "b", "x y");
	/* Percent-decoding of values and keys, either hex case. */
	EXPECT("k=hello%20world%2C%3D%25", "k", "hello world,=%");
	EXPECT("my%2ekey=%2c%2C", "my.key", ",,");
	EXPECT("k=%20padded%20", "k", " padded ");
	EXPECT("%20=v", " ", "v"); /* an encoded blank is a (non-empty) key */
	EXPECT("k=%C3%A9t%C3%A9", "k", "\xC3\xA9t\xC3\xA9");
	/* Empty values are values; empty members are skipped. */
	EXPECT("a=", "a", "");
	EXPECT("a=1,,b=2,", "a", "1", "b", "2");
	EXPECT(" , a=1 , ", "a", "1");
	/* Later duplicates win; keys are case-sensitive. */
	EXPECT("a=1,a=2", "a", "2");
	EXPECT("A=1,a=2", "A", "1", "a", "2");

	parse(&p, "", 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.count, 0);
	parsed_free(&p);
	parse(&p, " \t ", 3);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.count, 0);
	parsed_free(&p);
	/* Only len bytes are read. */
	parse(&p, "a=1,b=2", 3);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.count, 1);
	assert_string_equal(p.l.items[0].value.str.ptr, "1");
	parsed_free(&p);
}

static void test_parse_utf8(void **state)
{
	struct parsed p;

	(void)state;
	/*
	 * Ill-formed UTF-8 becomes U+FFFD, one per maximal ill-formed subpart
	 * (W3C Baggage, decoding as the WHATWG Encoding standard does).
	 */
	EXPECT("k=%FF", "k", "\xEF\xBF\xBD");
	EXPECT("k=a%E2%82", "k", "a\xEF\xBF\xBD"); /* truncated sequence: one subpart */
	EXPECT("k=%F0%9F%98z", "k", "\xEF\xBF\xBDz"); /* cut short before an ASCII byte */
	EXPECT("k=%C0%AF", "k", "\xEF\xBF\xBD\xEF\xBF\xBD"); /* overlong */
	EXPECT("k=%ED%A0%80", "k", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
	EXPECT("k=%F4%90%80%80", "k",
	       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* above U+10FFFF */
	EXPECT("k=\xFFz", "k", "\xEF\xBF\xBDz"); /* raw bytes too */
	EXPECT("k=%F0%9F%98%80", "k", "\xF0\x9F\x98\x80"); /* 4-byte sequence kept */
	/* A NUL in a value is kept, with its length. */
	parse(&p, "k=x%00y", 7);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.items[0].value.str.len, 3);
	assert_memory_equal(p.l.items[0].value.str.ptr, "x\0y", 4);
	parsed_free(&p);
}

static void test_parse_invalid(void **state)
{
	/*
	 * No "=" (in a later member too: the valid ones before it are dropped as
	 * well), empty keys, truncated or non-hex escapes in values and keys, an
	 * unencoded "=" in a value, a NUL in a key.
	 */
	const char *bad[] = { "a",    "a=1,b", "a=1, b ,c=3", "=v",    " =v",  "a=1,=2",
			      "a=%",  "a=%2",  "a=%zz",	      "a=%g0", "a=1%", "a%3=v",
			      "a%=v", "a=b=c", "a=1,b=2=",    "%00=v" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i], strlen(bad[i]));
	/* A NUL byte inside a key cannot be represented. */
	expect_invalid("k\0ey=v", 6);
}

/* ---- from the environment ---- */

static void test_from_env(void **state)
{
	otel_resource *r;

	(void)state;
	r = otel_resource_from_env();
	assert_int_equal(count_of(r), 0); /* nothing set: empty */
	assert_null(otel_resource_schema_url(r));
	otel_resource_unref(r);

	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=svc, deployment.environment.name=prod%201",
	       1);
	r = otel_resource_from_env();
	assert_int_equal(count_of(r), 2);
	assert_sorted(r);
	assert_str_attr(r, "service.name", "svc");
	assert_str_attr(r, "deployment.environment.name", "prod 1");
	assert_null(otel_resource_schema_url(r)); /* env attributes have no known schema */
	otel_resource_unref(r);

	/* OTEL_SERVICE_NAME takes precedence, trimmed; other attributes stay. */
	setenv("OTEL_SERVICE_NAME", " billing ", 1);
	r = otel_resource_from_env();
	assert_int_equal(count_of(r), 2);
	assert_str_attr(r, "service.name", "billing");
	assert_str_attr(r, "deployment.environment.name", "prod 1");
	otel_resource_unref(r);
	assert_int_equal(log_warnings, 0);
}

static void test_from_env_invalid(void **state)
{
	otel_resource *r;

	(void)state;
	setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken,service.name=x", 1);
	r = otel_resource_from_env();
	assert_int_equal(count_of(r), 0); /* the whole value is discarded */
	assert_int_equal(log_warnings, 1);
	assert_non_null(strstr(log_text, "OTEL_RESOURCE_ATTRIBUTES"));
	otel_resource_unref(r);

	/* OTEL_SERVICE_NAME still applies. */
	setenv("OTEL_SERVICE_NAME", "svc", 1);
	r = otel_resource_from_env();
	assert_int_equal(count_of(r), 1);
	assert_str_attr(r, "service.name", "svc");
	otel_resource_unref(r);

	/* An empty OTEL_SERVICE_NAME is unset. */
	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=fromattrs", 1);
	setenv("OTEL_SERVICE_NAME", "", 1);
	r = otel_resource_from_env();
	assert_str_attr(r, "service.name", "fromattrs");
	otel_resource_unref(r);
}

/* ---- detectors ---- */

static const char *expected_arch(const char *machine)
{
	if (!strcmp(machine, "x86_64"))
		return "amd64";
	if (!strcmp(machine, "aarch64"))
		return "arm64";
	if (!strcmp(machine, "s390x"))
		return "s390x";
	if (!strncmp(machine, "ppc64", 5))
		return "ppc64";
	return NULL;
}

static void test_detect_host(void **state)
{
	char host[HOST_NAME_MAX + 1] = "", desc[300];
	struct utsname u;
	otel_resource *r = otel_resource_detect_host();
	const char *arch;

	(void)state;
	assert_non_null(r);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_int_equal(uname(&u), 0);
	assert_int_equal(count_of(r), 4);
	assert_sorted(r);
	assert_str_attr(r, "host.name", host);
	arch = expected_arch(u.machine);
	if (arch)
		assert_str_attr(r, "host.arch", arch);
	else
		assert_true(otel_resource_get(r, "host.arch")->str.len > 0);
	assert_str_attr(r, "os.type", "linux");
	snprintf(desc, sizeof(desc), "%s %s", u.sysname, u.release);
	assert_str_attr(r, "os.description", desc);
	assert_string_equal(otel_resource_schema_url(r), SCHEMA);
	otel_resource_unref(r);
}

static void test_detect_process(void **state)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct passwd *pw = getpwuid(geteuid());
	otel_resource *r = otel_resource_detect_process();
	const struct otel_value *v;

	(void)state;
	assert_non_null(r);
	assert_true(len > 0);
	exe[len] = '\0';
	assert_sorted(r);
	v = otel_resource_get(r, "process.pid");
	assert_non_null(v);
	assert_int_equal(v->type, OTEL_VALUE_INT);
	assert_int_equal(v->i, getpid());
	assert_str_attr(r, "process.executable.path", exe);
	assert_str_attr(r, "process.executable.name", strrchr(exe, '/') + 1);
	assert_str_attr(r, "process.executable.name", "test_resource");
	/* The arguments as the process received them. */
	v = otel_resource_get(r, "process.command_args");
	assert_non_null(v);
	assert_int_equal(v->type, OTEL_VALUE_STRING_ARRAY);
	assert_int_equal(v->array.count, main_argc);
	for (int i = 0; i < main_argc; i++)
		assert_string_equal(((const char *const *)v->array.items)[i], main_argv[i]);
	assert_non_null(pw);
	assert_str_attr(r, "process.owner", pw->pw_name);
	assert_str_attr(r, "process.runtime.name", "glibc");
	assert_str_attr(r, "process.runtime.version", gnu_get_libc_version());
	assert_int_equal(count_of(r), 7);
	assert_string_equal(otel_resource_schema_url(r), SCHEMA);
	otel_resource_unref(r);
}

/* ---- the default resource ---- */

static void test_default(void **state)
{
	otel_resource *r = otel_resource_default();
	const struct otel_value *v;

	(void)state;
	assert_non_null(r);
	assert_sorted(r);
	assert_str_attr(r, "telemetry.sdk.name", "libotel");
	assert_str_attr(r, "telemetry.sdk.language", "c");
	assert_str_attr(r, "telemetry.sdk.version", otel_version_string());
	/* Nothing named the service: unknown_service:<process.executable.name>. */
	assert_str_attr(r, "service.name", "unknown_service:test_resource");
	/* The detectors' attributes are there. */
	v = otel_resource_get(r, "process.pid");
	assert_non_null(v);
	assert_int_equal(v->i, getpid());
	assert_non_null(otel_resource_get(r, "host.name"));
	assert_str_attr(r, "os.type", "linux");
	assert_non_null(otel_resource_get(r, "process.command_args"));
	assert_int_equal(count_of(r), 4 + 4 + 7);
	assert_string_equal(otel_resource_schema_url(r), SCHEMA);
	otel_resource_unref(r);
	assert_int_equal(log_warnings, 0);
}

static void test_default_with_env(void **state)
{
	otel_resource *r;

	(void)state;
	/* OTEL_RESOURCE_ATTRIBUTES overrides the detectors and the fallback. */
	setenv("OTEL_RESOURCE_ATTRIBUTES", "host.name=override,service.name=fromattrs,team=a", 1);
	r = otel_resource_default();
	assert_str_attr(r, "host.name", "override");
	assert_str_attr(r, "service.name", "fromattrs");
	assert_str_attr(r, "team", "a");
	assert_str_attr(r, "telemetry.sdk.name", "libotel");
	assert_sorted(r);
	otel_resource_unref(r);

	/* OTEL_SERVICE_NAME overrides both. */
	setenv("OTEL_SERVICE_NAME", "named", 1);
	r = otel_resource_default();
	assert_str_attr(r, "service.name", "named");
	assert_str_attr(r, "team", "a");
	otel_resource_unref(r);

	/* A malformed OTEL_RESOURCE_ATTRIBUTES leaves the defaults. */
	unsetenv("OTEL_SERVICE_NAME");
	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=x,bad", 1);
	r = otel_resource_default();
	assert_str_attr(r, "service.name", "unknown_service:test_resource");
	assert_null(otel_resource_get(r, "team"));
	assert_int_equal(log_warnings, 1);
	otel_resource_unref(r);

	/* A user resource merged over the default wins (what otel_sdk_init does). */
	{
		struct otel_attribute ua[] = { OTEL_ATTR_STR("service.name", "user") };
		otel_resource *user = otel_resource_new(ua, 1, NULL);
		otel_resource *def = otel_resource_default();
		otel_resource *m = otel_resource_merge(def, user);

		assert_str_attr(m, "service.name", "user");
		assert_string_equal(otel_resource_schema_url(m), SCHEMA);
		otel_resource_unref(m);
		otel_resource_unref(def);
		otel_resource_unref(user);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_new_sorted_and_copied, setup),
		cmocka_unit_test_setup(test_new_edge_cases, setup),
		cmocka_unit_test_setup(test_ref_unref, setup),
		cmocka_unit_test_setup(test_merge_precedence, setup),
		cmocka_unit_test_setup(test_merge_schema_url, setup),
		cmocka_unit_test_setup(test_parse_valid, setup),
		cmocka_unit_test_setup(test_parse_utf8, setup),
		cmocka_unit_test_setup(test_parse_invalid, setup),
		cmocka_unit_test_setup(test_from_env, setup),
		cmocka_unit_test_setup(test_from_env_invalid, setup),
		cmocka_unit_test_setup(test_detect_host, setup),
		cmocka_unit_test_setup(test_detect_process, setup),
		cmocka_unit_test_setup(test_default, setup),
		cmocka_unit_test_setup(test_default_with_env, setup),
	};

	main_argc = argc;
	main_argv = argv;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
