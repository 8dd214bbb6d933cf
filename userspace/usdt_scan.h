/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/usdt_scan.h: the parsing behind USDT attach, with no process state and no
 * BPF: which otel:* probes of <otel/usdt.h> one ELF file has (its SystemTap SDT v3
 * notes: section .note.stapsdt, note type 3, name "stapsdt"), and which files a line of
 * /proc/PID/maps names.
 *
 * The files are the traced processes' own (their executable and libraries), so they are
 * not trusted: every read is bounded, a malformed or truncated file gives -errno and a
 * message saying what is wrong, never a crash. Files are read, not mapped, so a target
 * that truncates a file while it is scanned cannot fault the agent.
 */
#ifndef KSPAN_USERSPACE_USDT_SCAN_H
#define KSPAN_USERSPACE_USDT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "kspan.h"

/* otel probe sites listed at most per file (-E2BIG past it). */
#define KSPAN_USDT_SCAN_MAX_SITES 4096
/* Largest .note.stapsdt section read (-EFBIG past it). */
#define KSPAN_USDT_NOTES_MAX_BYTES (16u << 20)

/* One site of an otel probe: where it is, and the semaphore it shares with its siblings. */
struct kspan_usdt_site {
	enum kspan_usdt_probe probe;
	uint64_t pc; /* the probe's virtual address in the file (.stapsdt.base adjusted) */
	uint64_t sema; /* its semaphore's virtual address; 0: none */
};

struct kspan_usdt_scan {
	struct kspan_usdt_site *sites; /* in note order; malloc'ed */
	size_t n;
	uint32_t probes; /* bit (1u << probe) set for each probe with at least one site */
	size_t skipped; /* notes of other providers, and otel probes not in the contract */
};

/** @brief "span_start", ... for enum kspan_usdt_probe; NULL when out of range. */
const char *kspan_usdt_probe_name(unsigned int probe);

/** @brief The enum kspan_usdt_probe of an otel probe name, 0 when not in the contract. */
unsigned int kspan_usdt_probe_from_name(const char *name);

/** @brief How many distinct probes @p s found (bits of s->probes). */
unsigned int kspan_usdt_scan_probe_count(const struct kspan_usdt_scan *s);

/**
 * @brief List the otel probes of the ELF image buf[0..len). Pure (no I/O).
 *
 * A file without .note.stapsdt is no error: 0 with no sites.
 *
 * @param out filled on success (free it with kspan_usdt_scan_free()); empty on error
 * @param err receives a message on failure (may be NULL)
 * @return 0; -ENOEXEC not a native ELF executable or shared object; -EINVAL malformed
 *         (section headers, a note); -EFBIG notes past KSPAN_USDT_NOTES_MAX_BYTES;
 *         -E2BIG past KSPAN_USDT_SCAN_MAX_SITES sites; -ENOMEM.
 */
int kspan_usdt_scan_mem(const void *buf, size_t len, struct kspan_usdt_scan *out, char *err,
			size_t errsz);

/**
 * @brief kspan_usdt_scan_mem() on an open file, read with pread (never mapped).
 * @return the same, or -EBADF when @p fd is not a regular file, or the read's error.
 */
int kspan_usdt_scan_fd(int fd, struct kspan_usdt_scan *out, char *err, size_t errsz);

/**
 * @brief kspan_usdt_scan_fd() on @p path (opened O_NONBLOCK: a FIFO put in a file's
 * place cannot block the agent). @return the same, or open()'s error (-ENOENT, ...).
 */
int kspan_usdt_scan_file(const char *path, struct kspan_usdt_scan *out, char *err, size_t errsz);

/** @brief Free the sites; the scan is empty after. Accepts NULL. */
void kspan_usdt_scan_free(struct kspan_usdt_scan *s);

/* One line of /proc/PID/maps. */
struct kspan_map_entry {
	uint64_t start, end, offset;
	bool exec; /* mapped executable ('x') */
	bool deleted; /* the file was unlinked (" (deleted)" stripped from path) */
	dev_t dev; /* the file's device, in stat()'s st_dev encoding */
	ino_t ino; /* 0 for anonymous mappings */
	const char *path; /* into the line; "" for anonymous, "[heap]" ... for special ones */
};

/**
 * @brief Parse one line of /proc/PID/maps ("start-end perms offset major:minor inode
 * path"). Pure; cuts the line's newline and " (deleted)" suffix in place.
 * @return true with @p m filled; false for a malformed line.
 */
bool kspan_maps_line_parse(char *line, struct kspan_map_entry *m);

/** @brief True when @p m maps an executable part of a file that still has a path. */
static inline bool kspan_map_entry_is_exec_file(const struct kspan_map_entry *m)
{
	return m->exec && m->ino && m->path[0] == '/' && !m->deleted;
}

#endif /* KSPAN_USERSPACE_USDT_SCAN_H */
