// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: SQL sanitizing and summarizing (userspace/sql_sanitize.c)
 * and the database span description built on them (userspace/db_span.c).
 *
 * Input: the first byte picks the dialect (and the system for db_span); the
 * rest is the statement. Checked on every input, for every dialect reading:
 *   - the text fits its buffer, has no control bytes (NUL included), and
 *     sanitizing it again changes nothing (so it holds no literal: a literal
 *     would become `?`);
 *   - with a small buffer the text is a prefix of the full text;
 *   - a literal in front of the input ('SECRETxyz', E'..', $$..$$, "..", a
 *     number) leaves no byte of itself in the text or the summary;
 *   - the summary is bounded, has no control bytes, and is the same for the
 *     sanitized text as for the original;
 *   - as a Redis command line after AUTH, every argument is masked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "db_span.h"
#include "sql_sanitize.h"

#define MARKER "SECRETxyz"
#define NUMBER_MARKER "31337424242"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_summary(const struct kspan_sql_summary *s)
{
	size_t n = strnlen(s->text, sizeof(s->text));

	check(n <= KSPAN_SQL_SUMMARY_MAX);
	for (size_t i = 0; i < n; i++)
		check((unsigned char)s->text[i] >= ' ' && s->text[i] != 0x7f);
	check(strnlen(s->operation, sizeof(s->operation)) < sizeof(s->operation));
	check(strnlen(s->collection, sizeof(s->collection)) < sizeof(s->collection));
	check(strnlen(s->procedure, sizeof(s->procedure)) < sizeof(s->procedure));
}

static void fuzz_dialect(enum kspan_sql_dialect d, const char *sql, size_t len, char *out,
			 char *again, size_t cap, uint32_t seed)
{
	struct kspan_sql_summary a, b;
	char small[80];
	size_t n, m, k, small_size = 1 + seed % sizeof(small);

	n = kspan_sql_sanitize(sql, len, d, out, cap);
	check(n < cap && out[n] == '\0');
	for (size_t i = 0; i < n; i++)
		check((unsigned char)out[i] >= ' ' && out[i] != 0x7f);
	m = kspan_sql_sanitize(out, n, d, again, cap);
	check(m == n && !memcmp(out, again, n));
	k = kspan_sql_sanitize(sql, len, d, small, small_size);
	check(k < small_size && small[k] == '\0' && k <= n && !memcmp(small, out, k));

	kspan_sql_summarize(sql, len, d, &a);
	check_summary(&a);
	kspan_sql_summarize(out, n, d, &b);
	check(!strcmp(a.text, b.text) && !strcmp(a.operation, b.operation) &&
	      !strcmp(a.collection, b.collection));
}

/* A literal of dialect d in front of the input must vanish. */
static void fuzz_marker(enum kspan_sql_dialect d, const char *data, size_t len, char *buf,
			char *out, size_t cap)
{
	static const char *const literals[] = {
		"'" MARKER "' ",   "'it''s " MARKER "' ", NUMBER_MARKER " ", "-" NUMBER_MARKER " ",
		"X'" MARKER "' ",  "E'\\'" MARKER "' ",	  "$$" MARKER "$$ ", "$a$" MARKER "$a$ ",
		"\"" MARKER "\" ", "'\\'" MARKER "' ",
	};
	struct kspan_sql_summary s;

	if (memmem(data, len, MARKER, sizeof(MARKER) - 1) ||
	    memmem(data, len, NUMBER_MARKER, sizeof(NUMBER_MARKER) - 1))
		return;
	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		const char *lit = literals[i];
		size_t ll = strlen(lit), n;

		/* Only the forms that are literals in this dialect. */
		if ((lit[0] == 'E' || lit[0] == '$') && d != KSPAN_SQL_POSTGRESQL)
			continue;
		if ((lit[0] == '"' || (lit[0] == '\'' && lit[1] == '\\')) && d != KSPAN_SQL_MYSQL)
			continue;
		memcpy(buf, lit, ll);
		memcpy(buf + ll, data, len);
		n = kspan_sql_sanitize(buf, ll + len, d, out, cap);
		check(!memmem(out, n, MARKER, sizeof(MARKER) - 1));
		check(!memmem(out, n, NUMBER_MARKER, sizeof(NUMBER_MARKER) - 1));
		kspan_sql_summarize(buf, ll + len, d, &s);
		check(!strstr(s.text, MARKER) && !strstr(s.text, NUMBER_MARKER));
	}
}

static void fuzz_db_span(const char *system, const char *data, size_t len, char *buf)
{
	static struct kspan_db_span s;
	struct kspan_conn c = { .remote = { .addr = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 },
					    .family = 2 /* AF_INET */,
					    .port = 5432 } };
	struct kspan_db_exchange x = {
		.system = system,
		.query = { data, len },
		.command = { "", 0 },
		.db_namespace = { data, len < 8 ? len : 8 },
		.user = { "", 0 },
		.status_code = { data, len < 5 ? len : 5 },
		.error_message = { data, len },
		.error = len & 1,
		.rows = (int64_t)len - 3,
		.batch_size = (uint32_t)len % 4,
		.flags = (uint32_t)len % 16,
	};
	const struct kspan_db_span_opts opts = { .capture_error_message = true,
						 .capture_returned_rows = true };

	check(kspan_db_span_describe(&s, &c, &x, &opts) == 0);
	check(s.n_attrs <= KSPAN_DB_SPAN_ATTRS_MAX && strlen(s.name) <= KSPAN_DB_SPAN_NAME_MAX);
	check(strlen(s.query) <= KSPAN_DB_QUERY_MAX);
	for (size_t i = 0; i < s.n_attrs; i++)
		check(s.attrs[i].key &&
		      (s.attrs[i].value.type != OTEL_VALUE_STRING || s.attrs[i].value.str.ptr));

	/* Every argument after AUTH is masked, however the line is spaced. */
	memcpy(buf, "AUTH ", 5);
	memcpy(buf + 5, data, len);
	x = (struct kspan_db_exchange){ .system = "redis",
					.query = { buf, len + 5 },
					.command = { "AUTH", 4 },
					.db_namespace = { "", 0 },
					.status_code = { "", 0 },
					.error_message = { "", 0 },
					.rows = -1 };
	check(kspan_db_span_describe(&s, &c, &x, NULL) == 0);
	check(!strncmp(s.query, "AUTH", 4));
	for (size_t i = 4; s.query[i]; i += 2)
		check(s.query[i] == ' ' && s.query[i + 1] == '?');
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	static const char *const systems[] = { "postgresql", "mysql", "sqlite",
					       "other_sql",  "redis", "mariadb" };
	const char *data = (const char *)d + (size > 0);
	size_t len = size ? size - 1 : 0, cap = 2 * len + 64;
	char *out = malloc(cap), *again = malloc(cap), *buf = malloc(len + 64);
	uint32_t seed = 2166136261u;

	if (!out || !again || !buf)
		goto done;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ d[i]) * 16777619u;
	for (int dialect = KSPAN_SQL_STANDARD; dialect <= KSPAN_SQL_SQLITE; dialect++) {
		fuzz_dialect(dialect, data, len, out, again, cap, seed);
		fuzz_marker(dialect, data, len, buf, out, cap);
	}
	fuzz_db_span(systems[(size ? d[0] : 0) % 6], data, len, buf);
done:
	free(out);
	free(again);
	free(buf);
	return 0;
}
