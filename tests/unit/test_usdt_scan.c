// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of userspace/usdt_scan.c: the exact otel probe sites of this binary (checked
 * against its own semaphores) and of build/tests/servers/usdt_app (by file, descriptor and
 * memory alike); files without otel notes (none at all, another provider's); and hostile
 * input: every truncation of a real image, random mutations, corrupted note and section
 * sizes, unterminated note strings, non-ELF and non-regular files. Each gets 0 or a
 * -errno with a message, never a crash (ASan/UBSan run this too). Then the
 * /proc/PID/maps line parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <otel/usdt.h>

#include "usdt_scan.h"

/* ------------------------------------------------------------------ helpers */

/* The semaphore of another provider's probe (sdt.h names it so). */
__attribute__((used, section(".probes"))) volatile unsigned short other_thing_semaphore;

/* This binary's own sites (never run): the exact list the self-scan must find. */
__attribute__((used, noinline)) static void own_sites(int x)
{
	OTEL_USDT_SPAN_START("a");
	OTEL_USDT_SPAN_START_KIND("b", OTEL_USDT_KIND_CLIENT);
	OTEL_USDT_ATTR_STR("k", "v");
	OTEL_USDT_ATTR_INT("k", x);
	OTEL_USDT_ATTR_DOUBLE("k", 1.5);
	OTEL_USDT_ATTR_BOOL("k", x);
	OTEL_USDT_EVENT("e");
	OTEL_USDT_STATUS(OTEL_USDT_STATUS_OK, "");
	OTEL_USDT_EXCEPTION("T", "m");
	OTEL_USDT_SPAN_END();
	STAP_PROBE1(other, thing, x); /* another provider: skipped */
}

/* usdt_app's sites per probe (index: enum kspan_usdt_probe); see tests/servers/usdt_app.c. */
static const size_t app_sites[KSPAN_USDT_PROBE_MAX + 1] = {
	[KSPAN_USDT_SPAN_START] = 4, [KSPAN_USDT_SPAN_END] = 4,	   [KSPAN_USDT_ATTR_STR] = 3,
	[KSPAN_USDT_ATTR_INT] = 2,   [KSPAN_USDT_ATTR_DOUBLE] = 1, [KSPAN_USDT_ATTR_BOOL] = 1,
	[KSPAN_USDT_EVENT] = 4,	     [KSPAN_USDT_STATUS] = 1,	   [KSPAN_USDT_EXCEPTION] = 1,
};
#define APP_SITES 21

static struct {
	char app[PATH_MAX];
	unsigned char *img; /* usdt_app, read whole */
	size_t len;
	char tmp[64]; /* a scratch directory */
} g;

static unsigned char *read_whole(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

/*
 * build/tests/servers/usdt_app, from build/tests/unit/ or from the sanitizer build's
 * build/asan/tests/unit/ (which builds no servers: the normal build's).
 */
static void find_app(char *out, size_t size)
{
	static const char *const rel[] = { "../servers/usdt_app",
					   "../../../tests/servers/usdt_app" };
	char self[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	assert_true(n > 0);
	self[n] = '\0';
	dir = dirname(self);
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, size, "%s/%s", dir, rel[i]);
		if (access(out, R_OK) == 0)
			return;
	}
	fail_msg("usdt_app not found next to %s: build it first (make)", dir);
}

static int setup(void **state)
{
	(void)state;
	find_app(g.app, sizeof(g.app));
	g.img = read_whole(g.app, &g.len);
	snprintf(g.tmp, sizeof(g.tmp), "/tmp/kspan-usdt-scan-XXXXXX");
	return mkdtemp(g.tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(g.img);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.tmp);
	return system(cmd);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Offset of section @name's header and of its contents in an ELF image. */
struct sec_loc {
	size_t shdr_off; /* of its Elf64_Shdr in the image */
	size_t off, size; /* its contents */
};

static struct sec_loc find_section(const unsigned char *img, size_t len, const char *name)
{
	struct sec_loc loc = { 0 };
	Elf *e = elf_memory((char *)img, len);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Ehdr eh;
	GElf_Shdr sh;

	assert_non_null(e);
	assert_non_null(gelf_getehdr(e, &eh));
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), name)) {
			loc.shdr_off = eh.e_shoff + elf_ndxscn(scn) * eh.e_shentsize;
			loc.off = sh.sh_offset;
			loc.size = sh.sh_size;
			elf_end(e);
			return loc;
		}
	}
	elf_end(e);
	fail_msg("no section %s", name);
	return loc;
}

static unsigned char *image_copy(void)
{
	unsigned char *c = malloc(g.len);

	assert_non_null(c);
	memcpy(c, g.img, g.len);
	return c;
}

/* usdt_app's exact list: the counts per probe, one semaphore per probe, nothing else. */
static void check_app_scan(const struct kspan_usdt_scan *s)
{
	uint64_t sema[KSPAN_USDT_PROBE_MAX + 1] = { 0 };
	size_t count[KSPAN_USDT_PROBE_MAX + 1] = { 0 }, i;
	unsigned int p, q;

	assert_int_equal(s->n, APP_SITES);
	assert_int_equal(s->skipped, 0);
	assert_int_equal(s->probes, 0x3fe); /* bits 1..9 */
	assert_int_equal(kspan_usdt_scan_probe_count(s), 9);
	for (i = 0; i < s->n; i++) {
		p = s->sites[i].probe;
		assert_true(p >= KSPAN_USDT_SPAN_START && p <= KSPAN_USDT_PROBE_MAX);
		count[p]++;
		assert_true(s->sites[i].pc != 0);
		assert_true(s->sites[i].sema != 0);
		if (!sema[p])
			sema[p] = s->sites[i].sema;
		assert_int_equal(s->sites[i].sema, sema[p]); /* all sites share it */
	}
	for (p = KSPAN_USDT_SPAN_START; p <= KSPAN_USDT_PROBE_MAX; p++) {
		assert_int_equal(count[p], app_sites[p]);
		for (q = KSPAN_USDT_SPAN_START; q < p; q++)
			assert_true(sema[q] != sema[p]); /* one semaphore per probe */
	}
}

/* ------------------------------------------------------------------ tests */

static void test_probe_names(void **state)
{
	static const char *const names[] = { NULL,	 "span_start",	"span_end",  "attr_str",
					     "attr_int", "attr_double", "attr_bool", "event",
					     "status",	 "exception" };
	unsigned int p;

	(void)state;
	for (p = KSPAN_USDT_SPAN_START; p <= KSPAN_USDT_PROBE_MAX; p++) {
		assert_string_equal(kspan_usdt_probe_name(p), names[p]);
		assert_int_equal(kspan_usdt_probe_from_name(names[p]), p);
	}
	assert_null(kspan_usdt_probe_name(0));
	assert_null(kspan_usdt_probe_name(KSPAN_USDT_PROBE_MAX + 1));
	assert_int_equal(kspan_usdt_probe_from_name("span"), 0);
	assert_int_equal(kspan_usdt_probe_from_name(""), 0);
	assert_int_equal(kspan_usdt_probe_from_name(NULL), 0);
}

static int main_bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uintptr_t *)data = info->dlpi_addr;
	return 1; /* the first object is the program */
}

/* This binary: own_sites() exactly, each note's semaphore the very variable. */
static void test_scan_self_matches_own_semaphores(void **state)
{
	volatile unsigned short *const semas[KSPAN_USDT_PROBE_MAX + 1] = {
		[KSPAN_USDT_SPAN_START] = &otel_span_start_semaphore,
		[KSPAN_USDT_SPAN_END] = &otel_span_end_semaphore,
		[KSPAN_USDT_ATTR_STR] = &otel_attr_str_semaphore,
		[KSPAN_USDT_ATTR_INT] = &otel_attr_int_semaphore,
		[KSPAN_USDT_ATTR_DOUBLE] = &otel_attr_double_semaphore,
		[KSPAN_USDT_ATTR_BOOL] = &otel_attr_bool_semaphore,
		[KSPAN_USDT_EVENT] = &otel_event_semaphore,
		[KSPAN_USDT_STATUS] = &otel_status_semaphore,
		[KSPAN_USDT_EXCEPTION] = &otel_exception_semaphore,
	};
	size_t count[KSPAN_USDT_PROBE_MAX + 1] = { 0 }, i;
	struct kspan_usdt_scan s;
	char err[256] = "x";
	uintptr_t bias = 0;
	unsigned int p;

	(void)state;
	dl_iterate_phdr(main_bias_cb, &bias);
	assert_int_equal(kspan_usdt_scan_file("/proc/self/exe", &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.n, 10);
	assert_int_equal(s.skipped, 1); /* other:thing */
	for (i = 0; i < s.n; i++) {
		p = s.sites[i].probe;
		count[p]++;
		assert_int_equal(s.sites[i].sema + bias, (uintptr_t)semas[p]);
		/* The site is in this program's code, not in a library's. */
		Dl_info di;
		assert_int_not_equal(dladdr((void *)(s.sites[i].pc + bias), &di), 0);
		assert_ptr_equal(di.dli_fbase, (void *)bias);
	}
	for (p = KSPAN_USDT_SPAN_START; p <= KSPAN_USDT_PROBE_MAX; p++)
		assert_int_equal(count[p], p == KSPAN_USDT_SPAN_START ? 2 : 1);
	kspan_usdt_scan_free(&s);
	assert_null(s.sites);
	assert_int_equal(s.n, 0);
	kspan_usdt_scan_free(NULL);
}

/* usdt_app by path, by descriptor and from memory: the same exact list. */
static void test_scan_usdt_app_three_ways(void **state)
{
	struct kspan_usdt_scan a, b, c;
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(kspan_usdt_scan_file(g.app, &a, err, sizeof(err)), 0);
	check_app_scan(&a);
	fd = open(g.app, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(kspan_usdt_scan_fd(fd, &b, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(kspan_usdt_scan_mem(g.img, g.len, &c, err, sizeof(err)), 0);
	assert_int_equal(b.n, a.n);
	assert_int_equal(c.n, a.n);
	assert_memory_equal(b.sites, a.sites, a.n * sizeof(*a.sites));
	assert_memory_equal(c.sites, a.sites, a.n * sizeof(*a.sites));
	kspan_usdt_scan_free(&a);
	kspan_usdt_scan_free(&b);
	kspan_usdt_scan_free(&c);
}

/* A renamed note section is no note section: no sites, no error. */
static void test_file_without_stapsdt_notes(void **state)
{
	struct sec_loc shstr = find_section(g.img, g.len, ".shstrtab");
	unsigned char *img = image_copy(), *name;
	struct kspan_usdt_scan s;
	char err[256];

	(void)state;
	name = memmem(img + shstr.off, shstr.size, ".note.stapsdt", sizeof(".note.stapsdt"));
	assert_non_null(name);
	name[12] = 'X';
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.skipped, 0);
	assert_int_equal(s.probes, 0);
	free(img);
}

/* A real library without otel probes (the C library): no sites, no error. */
static void test_library_without_otel_probes(void **state)
{
	struct kspan_usdt_scan s;
	char err[256] = "x";
	Dl_info info;

	(void)state;
	assert_int_not_equal(dladdr((void *)&fprintf, &info), 0);
	assert_int_equal(kspan_usdt_scan_file(info.dli_fname, &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.n, 0);
	assert_int_equal(s.probes, 0);
	assert_null(s.sites);
}

/* Every prefix of a real image: a clean answer, and the full list only when complete. */
static void test_every_truncation(void **state)
{
	struct sec_loc notes = find_section(g.img, g.len, ".note.stapsdt");
	const Elf64_Ehdr *eh = (const void *)g.img;
	struct kspan_usdt_scan s;
	char err[256], path[128];
	size_t len, ok = 0;
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/truncated", g.tmp);
	for (len = 0; len < g.len; len += len < 128 ? 1 : 37) {
		err[0] = '\0';
		ret = kspan_usdt_scan_mem(g.img, len, &s, err, sizeof(err));
		if (ret) {
			assert_true(ret == -ENOEXEC || ret == -EINVAL);
			assert_true(err[0] != '\0');
			assert_null(s.sites);
			assert_int_equal(s.n, 0);
		} else {
			assert_true(s.n == 0 || s.n == APP_SITES);
			ok += s.n == APP_SITES;
		}
		if (len < EI_NIDENT) {
			assert_int_equal(ret, -ENOEXEC);
			assert_string_equal(err, "not an ELF file");
		}
		/* The section headers come last: any cut loses them. */
		if (len >= EI_NIDENT && len < eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize)
			assert_int_not_equal(ret, 0);
		if (len >= sizeof(*eh) &&
		    len < eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize) {
			assert_int_equal(ret, -EINVAL);
			assert_string_equal(err, "section headers past the end of the file");
		}
		kspan_usdt_scan_free(&s);
	}
	assert_int_equal(ok, 0);
	/* The same through a file, at a few telling lengths. */
	const size_t cuts[] = {
		0, 3, EI_NIDENT, sizeof(Elf64_Ehdr), notes.off + notes.size / 2, g.len - 1
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct kspan_usdt_scan m;
		char merr[256];

		write_file(path, g.img, cuts[i]);
		ret = kspan_usdt_scan_file(path, &s, err, sizeof(err));
		assert_int_equal(ret, kspan_usdt_scan_mem(g.img, cuts[i], &m, merr, sizeof(merr)));
		assert_true(ret < 0);
		assert_string_equal(err, merr);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Garbage, ELF magic on garbage, and thousands of random mutations of a real image. */
static void test_garbage_and_mutations(void **state)
{
	struct sec_loc notes = find_section(g.img, g.len, ".note.stapsdt");
	const Elf64_Ehdr *eh = (const void *)g.img;
	unsigned char junk[4096], *img = image_copy();
	struct kspan_usdt_scan s;
	size_t i, k, at, n;
	char err[256];
	int ret;

	(void)state;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rng();
	assert_int_equal(kspan_usdt_scan_mem(junk, sizeof(junk), &s, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "not an ELF file");
	memcpy(junk, g.img, EI_NIDENT); /* a valid identification, garbage after it */
	ret = kspan_usdt_scan_mem(junk, sizeof(junk), &s, err, sizeof(err));
	assert_true(ret == -EINVAL || ret == -ENOEXEC);
	assert_true(err[0] != '\0');
	junk[EI_CLASS] = ELFCLASS32;
	assert_int_equal(kspan_usdt_scan_mem(junk, sizeof(junk), &s, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "ELF of another class or byte order than the agent's");

	/* Mutations where they matter: header, section headers, the notes. */
	for (i = 0; i < 3000; i++) {
		memcpy(img, g.img, g.len);
		n = 1 + rng() % 8;
		for (k = 0; k < n; k++) {
			switch (rng() % 3) {
			case 0:
				at = rng() % sizeof(Elf64_Ehdr);
				break;
			case 1:
				at = eh->e_shoff + rng() % ((size_t)eh->e_shnum * eh->e_shentsize);
				break;
			default:
				at = notes.off + rng() % notes.size;
				break;
			}
			img[at] = (unsigned char)rng();
		}
		err[0] = '\0';
		ret = kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err));
		if (ret)
			assert_true(err[0] != '\0');
		assert_true(s.n <= KSPAN_USDT_SCAN_MAX_SITES);
		kspan_usdt_scan_free(&s);
	}
	free(img);
}

/* The first stapsdt note of usdt_app, in a copy of the image. */
static unsigned char *first_note(unsigned char *img, Elf64_Nhdr **nh)
{
	struct sec_loc notes = find_section(g.img, g.len, ".note.stapsdt");

	*nh = (Elf64_Nhdr *)(img + notes.off);
	assert_int_equal((*nh)->n_type, 3);
	assert_int_equal((*nh)->n_namesz, 8);
	return img + notes.off + sizeof(**nh) + 8; /* its description */
}

static void test_corrupt_notes(void **state)
{
	struct sec_loc notes = find_section(g.img, g.len, ".note.stapsdt");
	struct kspan_usdt_scan s;
	unsigned char *img, *desc;
	Elf64_Shdr *sh;
	Elf64_Nhdr *nh;
	char err[256];
	uint32_t i;

	(void)state;
	/* A description past the section's end. */
	img = image_copy();
	first_note(img, &nh);
	nh->n_descsz = 0x7fffff00;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "malformed note at offset 0 of .note.stapsdt");
	assert_null(s.sites);
	free(img);

	/* Strings without their NULs: nothing is read past the note. */
	img = image_copy();
	desc = first_note(img, &nh);
	for (i = 3 * 8; i < nh->n_descsz; i++)
		if (!desc[i])
			desc[i] = 'x';
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "stapsdt note with unterminated strings");
	free(img);

	/* Too short to hold its addresses. */
	img = image_copy();
	first_note(img, &nh);
	nh->n_descsz = 20;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EINVAL);
	free(img);

	/* A section size past the file's end, and one past the limit. */
	img = image_copy();
	sh = (Elf64_Shdr *)(img + notes.shdr_off);
	sh->sh_size = g.len;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot read .note.stapsdt: "));
	sh->sh_size = KSPAN_USDT_NOTES_MAX_BYTES + 1;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, ".note.stapsdt of 16777217 bytes: over"));
	/* Not a note section at all. */
	sh->sh_size = notes.size;
	sh->sh_type = SHT_PROGBITS;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, ".note.stapsdt is not a note section");
	free(img);

	/* Not an executable or a shared object. */
	img = image_copy();
	((Elf64_Ehdr *)img)->e_type = ET_REL;
	assert_int_equal(kspan_usdt_scan_mem(img, g.len, &s, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "ELF type 1 is not an executable or shared object");
	free(img);
}

static void test_bad_files_and_arguments(void **state)
{
	struct kspan_usdt_scan s;
	char err[256], fifo[128];

	(void)state;
	assert_int_equal(kspan_usdt_scan_file("/nonexistent/x", &s, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "open: No such file or directory");
	assert_int_equal(kspan_usdt_scan_file("/dev/null", &s, err, sizeof(err)), -EBADF);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(kspan_usdt_scan_file("/", &s, err, sizeof(err)), -EBADF);
	/* A FIFO in a library's place cannot block the scan. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", g.tmp);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(kspan_usdt_scan_file(fifo, &s, err, sizeof(err)), -EBADF);
	assert_int_equal(kspan_usdt_scan_mem(NULL, 0, &s, err, sizeof(err)), -ENOEXEC);
	assert_int_equal(kspan_usdt_scan_mem(NULL, 8, &s, NULL, 0), -EINVAL);
	assert_int_equal(kspan_usdt_scan_mem(g.img, g.len, NULL, NULL, 0), -EINVAL);
	assert_int_equal(kspan_usdt_scan_file(NULL, &s, NULL, 0), -EINVAL);
	assert_int_equal(kspan_usdt_scan_fd(-1, &s, NULL, 0), -EBADF);
	assert_int_equal(kspan_usdt_scan_probe_count(NULL), 0);
}

/* ------------------------------------------------------------------ maps lines */

static void test_maps_line_parse(void **state)
{
	char exe[] = "55d0c0a00000-55d0c0a02000 r-xp 00002000 fd:01 1234567"
		     "                    /usr/bin/foo\n";
	char anon[] = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
	char heap[] = "55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0          [heap]\n";
	char spaces[] = "7f0000000000-7f0000001000 r-xp 00001000 08:02 42 /tmp/a b/lib x.so\n";
	char gone[] = "7f0000000000-7f0000001000 r-xp 00000000 103:05 77 /tmp/lib.so (deleted)\n";
	char data[] = "7f0000000000-7f0000001000 r--p 00000000 08:02 42 /usr/lib/libc.so.6";
	char *bad[] = { "",
			"garbage",
			"1-2 r-xp",
			"10-1 r-xp 0 08:02 42 /x",
			"1-2 r-xp 0 08:02 42x /x",
			"zz-2 r-xp 0 08:02 42 /x" };
	struct kspan_map_entry m;
	size_t i;

	(void)state;
	assert_true(kspan_maps_line_parse(exe, &m));
	assert_int_equal(m.start, 0x55d0c0a00000ull);
	assert_int_equal(m.end, 0x55d0c0a02000ull);
	assert_int_equal(m.offset, 0x2000);
	assert_true(m.exec);
	assert_false(m.deleted);
	assert_int_equal(m.dev, makedev(0xfd, 1));
	assert_int_equal(m.ino, 1234567);
	assert_string_equal(m.path, "/usr/bin/foo");
	assert_true(kspan_map_entry_is_exec_file(&m));

	assert_true(kspan_maps_line_parse(anon, &m));
	assert_false(m.exec);
	assert_int_equal(m.ino, 0);
	assert_string_equal(m.path, "");
	assert_false(kspan_map_entry_is_exec_file(&m));

	assert_true(kspan_maps_line_parse(heap, &m));
	assert_string_equal(m.path, "[heap]");
	assert_false(kspan_map_entry_is_exec_file(&m));

	assert_true(kspan_maps_line_parse(spaces, &m));
	assert_string_equal(m.path, "/tmp/a b/lib x.so");
	assert_int_equal(m.dev, makedev(8, 2));
	assert_true(kspan_map_entry_is_exec_file(&m));

	assert_true(kspan_maps_line_parse(gone, &m));
	assert_true(m.deleted);
	assert_string_equal(m.path, "/tmp/lib.so");
	assert_int_equal(m.dev, makedev(0x103, 5));
	assert_false(kspan_map_entry_is_exec_file(&m));

	assert_true(kspan_maps_line_parse(data, &m));
	assert_false(m.exec);
	assert_string_equal(m.path, "/usr/lib/libc.so.6");
	assert_false(kspan_map_entry_is_exec_file(&m));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];

		snprintf(line, sizeof(line), "%s", bad[i]);
		assert_false(kspan_maps_line_parse(line, &m));
	}
	assert_false(kspan_maps_line_parse(NULL, &m));
	assert_false(kspan_maps_line_parse(exe, NULL));
}

/* This process's own maps: the program itself is an executable file mapping. */
static void test_own_maps_name_this_program(void **state)
{
	char self[PATH_MAX], *line = NULL;
	struct kspan_map_entry m;
	size_t cap = 0, found = 0;
	struct stat st;
	ssize_t n;
	FILE *f;

	(void)state;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_int_equal(stat(self, &st), 0);
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		assert_true(kspan_maps_line_parse(line, &m));
		if (kspan_map_entry_is_exec_file(&m) && !strcmp(m.path, self)) {
			assert_int_equal(m.dev, st.st_dev);
			assert_int_equal(m.ino, st.st_ino);
			found++;
		}
	}
	free(line);
	fclose(f);
	assert_int_equal(found, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_names),
		cmocka_unit_test(test_scan_self_matches_own_semaphores),
		cmocka_unit_test(test_scan_usdt_app_three_ways),
		cmocka_unit_test(test_file_without_stapsdt_notes),
		cmocka_unit_test(test_library_without_otel_probes),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_garbage_and_mutations),
		cmocka_unit_test(test_corrupt_notes),
		cmocka_unit_test(test_bad_files_and_arguments),
		cmocka_unit_test(test_maps_line_parse),
		cmocka_unit_test(test_own_maps_name_this_program),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
