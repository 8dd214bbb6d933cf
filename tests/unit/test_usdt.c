// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of <otel/usdt.h>: unattached sites evaluate nothing, an attached one evaluates each
 * argument once, and this binary's .note.stapsdt notes carry the documented probe contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <cmocka.h>
#include <otel/usdt.h>

static int evals;

static const char *str_arg(const char *s)
{
	evals++;
	return s;
}

static long long int_arg(long long v)
{
	evals++;
	return v;
}

static double double_arg(double v)
{
	evals++;
	return v;
}

/* One site of every macro; a Nth call of an argument function adds 1 to evals. */
static void fire_all(void)
{
	OTEL_USDT_SPAN_START(str_arg("quote"));
	OTEL_USDT_SPAN_START_KIND(str_arg("load"), int_arg(OTEL_USDT_KIND_CLIENT));
	OTEL_USDT_ATTR_STR(str_arg("k.str"), str_arg("v"));
	OTEL_USDT_ATTR_INT(str_arg("k.int"), int_arg(-7));
	OTEL_USDT_ATTR_DOUBLE(str_arg("k.double"), double_arg(2.5));
	OTEL_USDT_ATTR_BOOL(str_arg("k.bool"), int_arg(1));
	OTEL_USDT_EVENT(str_arg("cache miss"));
	OTEL_USDT_STATUS(int_arg(OTEL_USDT_STATUS_ERROR), str_arg("failed"));
	OTEL_USDT_EXCEPTION(str_arg("PricingError"), str_arg("no factor"));
	OTEL_USDT_SPAN_END();
}

/* Arguments evaluated by fire_all() when every semaphore is set. */
#define FIRE_ALL_ARGS 16

static void set_all_semaphores(unsigned short v)
{
	otel_span_start_semaphore = v;
	otel_span_end_semaphore = v;
	otel_attr_str_semaphore = v;
	otel_attr_int_semaphore = v;
	otel_attr_double_semaphore = v;
	otel_attr_bool_semaphore = v;
	otel_event_semaphore = v;
	otel_status_semaphore = v;
	otel_exception_semaphore = v;
}

static void test_unattached_evaluates_nothing(void **state)
{
	(void)state;
	evals = 0;
	fire_all();
	assert_int_equal(evals, 0);
	assert_false(OTEL_USDT_ENABLED(span_start));
	assert_false(OTEL_USDT_ENABLED(span_end));
	assert_false(OTEL_USDT_ENABLED(attr_str));
	assert_false(OTEL_USDT_ENABLED(attr_int));
	assert_false(OTEL_USDT_ENABLED(attr_double));
	assert_false(OTEL_USDT_ENABLED(attr_bool));
	assert_false(OTEL_USDT_ENABLED(event));
	assert_false(OTEL_USDT_ENABLED(status));
	assert_false(OTEL_USDT_ENABLED(exception));
}

static void test_attached_evaluates_once(void **state)
{
	(void)state;
	/* Only span_start attached: its two sites' 3 arguments, each once. */
	otel_span_start_semaphore = 1;
	evals = 0;
	assert_true(OTEL_USDT_ENABLED(span_start));
	assert_false(OTEL_USDT_ENABLED(span_end));
	fire_all();
	otel_span_start_semaphore = 0;
	assert_int_equal(evals, 3);

	set_all_semaphores(1);
	evals = 0;
	fire_all();
	set_all_semaphores(0);
	assert_int_equal(evals, FIRE_ALL_ARGS);
}

static void test_double_bits(void **state)
{
	(void)state;
	/* IEEE-754 binary64 bit patterns. */
	assert_int_equal(otel_usdt_double_bits(1.0), 0x3ff0000000000000ll);
	assert_int_equal(otel_usdt_double_bits(-2.5), (int64_t)0xc004000000000000ull);
	assert_int_equal(otel_usdt_double_bits(0.0), 0);
}

/* The contract: every probe with its argument count. */
static const struct {
	const char *name;
	int nargs;
	volatile unsigned short *sema;
} probes[] = {
	{ "span_start", 2, &otel_span_start_semaphore },
	{ "span_end", 0, &otel_span_end_semaphore },
	{ "attr_str", 2, &otel_attr_str_semaphore },
	{ "attr_int", 2, &otel_attr_int_semaphore },
	{ "attr_double", 2, &otel_attr_double_semaphore },
	{ "attr_bool", 2, &otel_attr_bool_semaphore },
	{ "event", 1, &otel_event_semaphore },
	{ "status", 2, &otel_status_semaphore },
	{ "exception", 2, &otel_exception_semaphore },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* The argument specs each probe must carry ("8@" pointer, "-4@" int32, "-8@" int64). */
static const char *const arg_sizes[NPROBES][2] = {
	{ "8@", "-4@" }, { NULL, NULL },   { "8@", "8@" },	{ "8@", "-8@" }, { "8@", "-8@" },
	{ "8@", "-4@" }, { "8@", NULL }, { "-4@", "8@" }, { "8@", "8@" },
};

static int main_bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uintptr_t *)data = info->dlpi_addr; /* the first object is the executable */
	return 1;
}

/* Checks one note's arguments against probe i; returns how many there are. */
static int check_args(size_t i, const char *args)
{
	int n = 0;
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", args);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), n++) {
		assert_true(n < 2);
		assert_non_null(arg_sizes[i][n]);
		assert_memory_equal(tok, arg_sizes[i][n], strlen(arg_sizes[i][n]));
	}
	return n;
}

/* Checks one .note.stapsdt descriptor; marks its probe in seen[]. */
static void check_note(const char *desc, size_t len, uintptr_t bias, int *seen)
{
	uint64_t addrs[3];

	assert_true(len > sizeof(addrs) + 2);
	memcpy(addrs, desc, sizeof(addrs)); /* pc, .stapsdt.base, semaphore */
	const char *provider = desc + sizeof(addrs);
	const char *name = provider + strlen(provider) + 1;
	const char *args = name + strlen(name) + 1;

	assert_true(args + strlen(args) < desc + len);
	if (strcmp(provider, "otel") != 0)
		return; /* another library's probes (libc has some) */
	for (size_t i = 0; i < NPROBES; i++) {
		if (strcmp(name, probes[i].name) != 0)
			continue;
		assert_int_not_equal(addrs[2], 0);
		/* The note's semaphore is this executable's otel_<name>_semaphore. */
		assert_int_equal(addrs[2] + bias, (uintptr_t)probes[i].sema);
		assert_int_equal(check_args(i, args), probes[i].nargs);
		seen[i]++;
		return;
	}
	fail_msg("unknown otel probe '%s'", name);
}

static void test_notes_follow_contract(void **state)
{
	(void)state;
	int seen[NPROBES] = { 0 };
	uintptr_t bias = 0;

	dl_iterate_phdr(main_bias_cb, &bias);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	int fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	size_t shstrndx;
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);

	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr shdr;
		assert_non_null(gelf_getshdr(scn, &shdr));
		const char *sname = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (shdr.sh_type != SHT_NOTE || !sname || strcmp(sname, ".note.stapsdt") != 0)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		assert_non_null(data);
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type != 3 ||
			    strcmp((const char *)data->d_buf + name_off, "stapsdt") != 0)
				continue;
			check_note((const char *)data->d_buf + desc_off, nhdr.n_descsz, bias, seen);
		}
	}
	elf_end(elf);
	close(fd);

	/* fire_all() has one site per macro: span_start twice (with and without a kind). */
	for (size_t i = 0; i < NPROBES; i++)
		assert_int_equal(seen[i], i == 0 ? 2 : 1);
}

/*
 * Compiles a translation unit using every macro with one compiler; returns the number of
 * failures (0 when that compiler is not installed).
 */
static int compile_with(const char *compiler, const char *lang, const char *src_path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", compiler);
	if (system(cmd) != 0)
		return 0;
	snprintf(cmd, sizeof(cmd),
		 "%s -x %s -std=%s -O2 -Wall -Wextra -Werror -Isdk/include -c -o /dev/null %s",
		 compiler, lang, strcmp(lang, "c") == 0 ? "c11" : "c++11", src_path);
	if (system(cmd) == 0)
		return 0;
	print_error("failed: %s\n", cmd);
	return 1;
}

static void test_compiles_as_c_and_cxx(void **state)
{
	(void)state;
	static const char src[] =
		"#include <otel/usdt.h>\n"
		"int f(int x, double d);\n"
		"int f(int x, double d)\n{\n"
		"\tOTEL_USDT_SPAN_START(\"a\");\n"
		"\tOTEL_USDT_SPAN_START_KIND(\"b\", OTEL_USDT_KIND_SERVER);\n"
		"\tOTEL_USDT_ATTR_STR(\"k\", \"v\");\n"
		"\tOTEL_USDT_ATTR_INT(\"k\", x);\n"
		"\tOTEL_USDT_ATTR_DOUBLE(\"k\", d);\n"
		"\tOTEL_USDT_ATTR_BOOL(\"k\", x > 1);\n"
		"\tOTEL_USDT_EVENT(\"e\");\n"
		"\tOTEL_USDT_STATUS(OTEL_USDT_STATUS_ERROR, \"bad\");\n"
		"\tOTEL_USDT_EXCEPTION(\"T\", \"m\");\n"
		"\tOTEL_USDT_SPAN_END();\n"
		"\treturn OTEL_USDT_ENABLED(attr_str);\n}\n";
	char path[] = "/tmp/test_usdt_XXXXXX";

	if (access("sdk/include/otel/usdt.h", R_OK) != 0)
		skip(); /* not run from the source tree */
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, src, sizeof(src) - 1), (ssize_t)(sizeof(src) - 1));
	close(fd);
	int failures = compile_with("gcc", "c", path) + compile_with("clang", "c", path) +
		       compile_with("g++", "c++", path) + compile_with("clang++", "c++", path);
	unlink(path);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unattached_evaluates_nothing),
		cmocka_unit_test(test_attached_evaluates_once),
		cmocka_unit_test(test_double_bits),
		cmocka_unit_test(test_notes_follow_contract),
		cmocka_unit_test(test_compiles_as_c_and_cxx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
