// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/usdt_scan.c: the otel:* probe sites of one ELF file, from its SystemTap SDT
 * v3 notes, and the parser of /proc/PID/maps lines (see usdt_scan.h).
 *
 * libelf does the ELF work (section headers, names, note iteration, each with its own
 * bounds checks); this file adds the limits that keep a hostile file from making the
 * agent allocate much (section count, name table and notes sizes) and checks each note's
 * layout itself: three addresses, then three NUL-terminated strings inside the note.
 * Most mapped files have no .note.stapsdt: that answer costs the ELF header, the section
 * headers and the section name table, nothing more.
 */
#include "usdt_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NOTE_SECTION ".note.stapsdt"
#define BASE_SECTION ".stapsdt.base"
#define NOTE_NAME "stapsdt"
#define NOTE_TYPE 3
#define PROVIDER "otel"
/* Sections and section-name bytes accepted at most (real files: dozens, a few hundred). */
#define MAX_SECTIONS 65536
#define MAX_SHSTRTAB (1u << 20)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif
#define NATIVE_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

static const char *const probe_names[KSPAN_USDT_PROBE_MAX + 1] = {
	[KSPAN_USDT_SPAN_START] = "span_start",
	[KSPAN_USDT_SPAN_END] = "span_end",
	[KSPAN_USDT_ATTR_STR] = "attr_str",
	[KSPAN_USDT_ATTR_INT] = "attr_int",
	[KSPAN_USDT_ATTR_DOUBLE] = "attr_double",
	[KSPAN_USDT_ATTR_BOOL] = "attr_bool",
	[KSPAN_USDT_EVENT] = "event",
	[KSPAN_USDT_STATUS] = "status",
	[KSPAN_USDT_EXCEPTION] = "exception",
};

const char *kspan_usdt_probe_name(unsigned int probe)
{
	return probe >= KSPAN_USDT_SPAN_START && probe <= KSPAN_USDT_PROBE_MAX ?
		       probe_names[probe] :
		       NULL;
}

unsigned int kspan_usdt_probe_from_name(const char *name)
{
	unsigned int p;

	for (p = KSPAN_USDT_SPAN_START; name && p <= KSPAN_USDT_PROBE_MAX; p++)
		if (!strcmp(name, probe_names[p]))
			return p;
	return 0;
}

unsigned int kspan_usdt_scan_probe_count(const struct kspan_usdt_scan *s)
{
	return s ? (unsigned int)__builtin_popcount(s->probes) : 0;
}

void kspan_usdt_scan_free(struct kspan_usdt_scan *s)
{
	if (!s)
		return;
	free(s->sites);
	memset(s, 0, sizeof(*s));
}

static __attribute__((format(printf, 4, 5))) int fail(int ret, char *err, size_t errsz,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* The identification bytes, checked before libelf sees the file (it would byte-swap). */
static int check_ident(const unsigned char *id, size_t len, char *err, size_t errsz)
{
	if (len < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG))
		return fail(-ENOEXEC, err, errsz, "not an ELF file");
	if (id[EI_CLASS] != NATIVE_CLASS || id[EI_DATA] != NATIVE_DATA)
		return fail(-ENOEXEC, err, errsz,
			    "ELF of another class or byte order than the agent's");
	return 0;
}

static int add_site(struct kspan_usdt_scan *out, size_t *cap, const struct kspan_usdt_site *site,
		    char *err, size_t errsz)
{
	struct kspan_usdt_site *v;
	size_t ncap;

	if (out->n == KSPAN_USDT_SCAN_MAX_SITES)
		return fail(-E2BIG, err, errsz, "more than %d otel probe sites",
			    KSPAN_USDT_SCAN_MAX_SITES);
	if (out->n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		v = reallocarray(out->sites, ncap, sizeof(*v));
		if (!v)
			return fail(-ENOMEM, err, errsz, "out of memory");
		out->sites = v;
		*cap = ncap;
	}
	out->sites[out->n++] = *site;
	out->probes |= 1u << site->probe;
	return 0;
}

/* The string after the NUL-terminated one at @s, or NULL when @s is not terminated before @end. */
static const char *next_str(const char *s, const char *end)
{
	const char *nul = s && s < end ? memchr(s, '\0', end - s) : NULL;

	return nul ? nul + 1 : NULL;
}

/*
 * One stapsdt note's description: pc, base, semaphore (address-sized each), then
 * provider, name and argument spec, each NUL-terminated inside the description.
 */
static int parse_note(const char *desc, size_t size, uint64_t base_sec, struct kspan_usdt_scan *out,
		      size_t *cap, char *err, size_t errsz)
{
	const size_t asz = sizeof(void *); /* the native class was checked */
	const char *provider, *name, *args, *end = desc + size;
	struct kspan_usdt_site site;
	uint64_t addr[3] = { 0 };
	int i;

	if (size < 3 * asz)
		return fail(-EINVAL, err, errsz, "stapsdt note of %zu bytes: too short", size);
	memset(&site, 0, sizeof(site)); /* padding too: sites compare as bytes */
	for (i = 0; i < 3; i++) {
		uintptr_t a;

		memcpy(&a, desc + i * asz, asz);
		addr[i] = a;
	}
	provider = desc + 3 * asz;
	name = next_str(provider, end);
	args = next_str(name, end);
	if (!next_str(args, end))
		return fail(-EINVAL, err, errsz, "stapsdt note with unterminated strings");
	site.probe = strcmp(provider, PROVIDER) ? 0 : kspan_usdt_probe_from_name(name);
	if (!site.probe) {
		out->skipped++;
		return 0;
	}
	/* Prelink moves .stapsdt.base and the note records where it was: compensate. */
	site.pc = base_sec ? addr[0] + (base_sec - addr[1]) : addr[0];
	site.sema = addr[2];
	return add_site(out, cap, &site, err, errsz);
}

static int parse_notes(Elf_Scn *scn, const GElf_Shdr *sh, uint64_t base_sec,
		       struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	size_t off = 0, next, name_off, desc_off, cap = 0;
	Elf_Data *data;
	GElf_Nhdr nh;
	int ret;

	if (sh->sh_type != SHT_NOTE)
		return fail(-EINVAL, err, errsz, NOTE_SECTION " is not a note section");
	if (sh->sh_size > KSPAN_USDT_NOTES_MAX_BYTES)
		return fail(-EFBIG, err, errsz, NOTE_SECTION " of %" PRIu64 " bytes: over %u",
			    (uint64_t)sh->sh_size, KSPAN_USDT_NOTES_MAX_BYTES);
	data = elf_getdata(scn, NULL);
	if (!data || (data->d_size && !data->d_buf))
		return fail(-EINVAL, err, errsz, "cannot read " NOTE_SECTION ": %s",
			    elf_errmsg(-1));
	while (off < data->d_size) {
		next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (!next) {
			/* Only alignment padding may follow the last note. */
			if (data->d_size - off >= sizeof(Elf64_Nhdr))
				return fail(-EINVAL, err, errsz,
					    "malformed note at offset %zu of " NOTE_SECTION, off);
			break;
		}
		off = next;
		if (nh.n_type != NOTE_TYPE || nh.n_namesz != sizeof(NOTE_NAME) ||
		    memcmp((const char *)data->d_buf + name_off, NOTE_NAME, sizeof(NOTE_NAME)))
			continue;
		ret = parse_note((const char *)data->d_buf + desc_off, nh.n_descsz, base_sec, out,
				 &cap, err, errsz);
		if (ret)
			return ret;
	}
	return 0;
}

/* @size: the file's; libelf takes headers past it for "no sections", a truncation is an error. */
static int scan_elf(Elf *e, uint64_t size, struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	GElf_Shdr sh, notes_sh = { 0 };
	Elf_Scn *scn = NULL, *notes = NULL;
	size_t shnum, shstrndx;
	uint64_t base_sec = 0;
	GElf_Ehdr eh;
	const char *name;

	if (!e || elf_kind(e) != ELF_K_ELF)
		return fail(-ENOEXEC, err, errsz, "not an ELF file");
	if (!gelf_getehdr(e, &eh))
		return fail(-EINVAL, err, errsz, "bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return fail(-ENOEXEC, err, errsz,
			    "ELF type %u is not an executable or shared object",
			    (unsigned)eh.e_type);
	if (eh.e_shoff &&
	    (eh.e_shoff > size ||
	     size - eh.e_shoff < (uint64_t)eh.e_shentsize * (eh.e_shnum ? eh.e_shnum : 1)))
		return fail(-EINVAL, err, errsz, "section headers past the end of the file");
	if (elf_getshdrnum(e, &shnum) || elf_getshdrstrndx(e, &shstrndx))
		return fail(-EINVAL, err, errsz, "bad section headers: %s", elf_errmsg(-1));
	if (shnum > MAX_SECTIONS)
		return fail(-EINVAL, err, errsz, "%zu sections: over %d", shnum, MAX_SECTIONS);
	if (!shnum)
		return 0; /* stripped of section headers: no notes to find */
	scn = elf_getscn(e, shstrndx);
	if (!scn || !gelf_getshdr(scn, &sh))
		return fail(-EINVAL, err, errsz, "bad section name table: %s", elf_errmsg(-1));
	if (sh.sh_size > MAX_SHSTRTAB)
		return fail(-EINVAL, err, errsz, "section name table of %" PRIu64 " bytes: over %u",
			    (uint64_t)sh.sh_size, MAX_SHSTRTAB);
	for (scn = NULL; (scn = elf_nextscn(e, scn));) {
		if (!gelf_getshdr(scn, &sh))
			return fail(-EINVAL, err, errsz, "bad section header: %s", elf_errmsg(-1));
		/* The cheap test first: most sections are neither notes nor PROGBITS. */
		if (sh.sh_type != SHT_NOTE && sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, NOTE_SECTION) && !notes) {
			notes = scn;
			notes_sh = sh;
		} else if (!strcmp(name, BASE_SECTION)) {
			base_sec = sh.sh_addr;
		}
	}
	return notes ? parse_notes(notes, &notes_sh, base_sec, out, err, errsz) : 0;
}

/* Run scan_elf on @e (which it ends); on failure out is left empty. */
static int scan_and_end(Elf *e, uint64_t size, struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	int ret = scan_elf(e, size, out, err, errsz);

	elf_end(e);
	if (ret)
		kspan_usdt_scan_free(out);
	return ret;
}

static void scan_begin(struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	if (err && errsz)
		err[0] = '\0';
	elf_version(EV_CURRENT);
}

int kspan_usdt_scan_mem(const void *buf, size_t len, struct kspan_usdt_scan *out, char *err,
			size_t errsz)
{
	int ret;

	if (!out || (!buf && len))
		return -EINVAL;
	scan_begin(out, err, errsz);
	ret = check_ident(buf, len, err, errsz);
	if (ret)
		return ret;
	/* Native class and byte order: libelf reads the image in place, never writes it. */
	return scan_and_end(elf_memory((char *)buf, len), len, out, err, errsz);
}

int kspan_usdt_scan_fd(int fd, struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	unsigned char id[EI_NIDENT];
	struct stat st;
	ssize_t n;
	int ret;

	if (!out)
		return -EINVAL;
	scan_begin(out, err, errsz);
	if (fstat(fd, &st))
		return fail(-errno, err, errsz, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(-EBADF, err, errsz, "not a regular file");
	n = pread(fd, id, sizeof(id), 0);
	if (n < 0)
		return fail(-errno, err, errsz, "read: %s", strerror(errno));
	ret = check_ident(id, (size_t)n, err, errsz);
	if (ret)
		return ret;
	/* ELF_C_READ: pread on demand. A mapping would fault if the file shrank meanwhile. */
	return scan_and_end(elf_begin(fd, ELF_C_READ, NULL), (uint64_t)st.st_size, out, err, errsz);
}

int kspan_usdt_scan_file(const char *path, struct kspan_usdt_scan *out, char *err, size_t errsz)
{
	int fd, ret;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		scan_begin(out, err, errsz);
		return fail(ret, err, errsz, "open: %s", strerror(-ret));
	}
	ret = kspan_usdt_scan_fd(fd, out, err, errsz);
	close(fd);
	return ret;
}

/* ---- /proc/PID/maps ---- */

bool kspan_maps_line_parse(char *line, struct kspan_map_entry *m)
{
	static const char deleted[] = " (deleted)";
	unsigned long long start, end, offset, ino;
	unsigned int major, minor;
	char perms[5];
	size_t len;
	int pos = -1;

	if (!line || !m)
		return false;
	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &offset, &major,
		   &minor, &ino, &pos) != 7 ||
	    pos < 0 || strlen(perms) != 4 || start > end ||
	    (line[pos] != '\0' && line[pos] != ' ' && line[pos] != '\n'))
		return false;
	line += pos;
	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len >= sizeof(deleted) - 1 && !strcmp(line + len - (sizeof(deleted) - 1), deleted)) {
		line[len - (sizeof(deleted) - 1)] = '\0';
		m->deleted = true;
	}
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->exec = perms[2] == 'x';
	m->dev = makedev(major, minor);
	m->ino = (ino_t)ino;
	m->path = line;
	return true;
}
