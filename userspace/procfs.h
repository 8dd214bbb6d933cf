/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small readers of /proc for process discovery and metadata: environ
 * (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), exe, cmdline, comm, status
 * (Tgid, PPid), the PID list, children, and the owners of listening TCP
 * sockets (net/tcp, net/tcp6 of every network namespace, then fd links).
 *
 * Every reader takes the procfs root (NULL means "/proc") so tests can point
 * it at a fake tree. Reads are bounded; the parsers of file contents are pure
 * functions over bytes (the environ one is fuzzed). Target processes are not
 * trusted: their environ and cmdline may hold anything.
 */
#ifndef KSPAN_PROCFS_H
#define KSPAN_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes read at most from /proc/PID/environ: later variables are not seen. */
#define KSPAN_ENVIRON_MAX (1u << 20)
/* Bytes read at most from /proc/PID/cmdline; the joined command line is cut there. */
#define KSPAN_CMDLINE_MAX 4096u

/* A growable array of PIDs (kept in insertion order). */
struct kspan_pidvec {
	pid_t *v;
	size_t n, cap;
};

/** @brief Append @p pid (duplicates allowed). @return 0, -ENOMEM */
int kspan_pidvec_push(struct kspan_pidvec *pv, pid_t pid);
/** @brief True when @p pid is in the vector. */
bool kspan_pidvec_has(const struct kspan_pidvec *pv, pid_t pid);
/** @brief Free the array; the vector is empty after. Accepts NULL. */
void kspan_pidvec_free(struct kspan_pidvec *pv);

/**
 * @brief Find NAME's value in an environ image buf[0..len): "K=V" entries
 * separated by NULs, the last one maybe unterminated. The first entry wins,
 * as getenv() in the process itself would see it. Pure: no allocation.
 * @return true with val[0..*vlen) pointing into @p buf (no NUL inside)
 */
bool kspan_environ_find(const char *buf, size_t len, const char *name, const char **val,
			size_t *vlen);

/**
 * @brief Read /proc/PID/environ (at most KSPAN_ENVIRON_MAX bytes).
 * @return malloc'ed buffer (NUL-terminated past *len), NULL with errno
 */
char *kspan_procfs_read_environ(const char *root, pid_t pid, size_t *len);

/**
 * @brief /proc/PID/exe: the link target into @p path (NUL-terminated, cut to
 * @p size) and the identity of the file it names. @p dev / @p ino may be NULL.
 * @return 0, -errno (-ENOENT: no such process; -EACCES; -ENAMETOOLONG)
 */
int kspan_procfs_exe(const char *root, pid_t pid, char *path, size_t size, dev_t *dev, ino_t *ino);

/**
 * @brief The command line from a cmdline image buf[0..len): arguments joined
 * with single spaces, empty trailing arguments dropped, into out (size > 0,
 * always NUL-terminated, cut at @p size - 1). Pure. @return the length written
 */
size_t kspan_cmdline_join(const char *buf, size_t len, char *out, size_t size);

/** @brief /proc/PID/cmdline joined (see kspan_cmdline_join()). @return 0, -errno */
int kspan_procfs_cmdline(const char *root, pid_t pid, char *out, size_t size);

/** @brief /proc/PID/comm without its newline. @return 0, -errno */
int kspan_procfs_comm(const char *root, pid_t pid, char *out, size_t size);

/**
 * @brief Tgid and PPid from /proc/PID/status; either pointer may be NULL.
 * @return 0, -errno; -EINVAL when a field is missing
 */
int kspan_procfs_status(const char *root, pid_t pid, pid_t *tgid, pid_t *ppid);

/** @brief Every numeric entry of the procfs root (thread group leaders). @return 0, -errno */
int kspan_procfs_list_pids(const char *root, struct kspan_pidvec *out);

/**
 * @brief The direct children of process @p pid, from /proc/PID/task/TID/children
 * when the kernel has it (CONFIG_PROC_CHILDREN), else by scanning every
 * process's PPid. Appended to @p out. @return 0, -errno
 */
int kspan_procfs_children(const char *root, pid_t pid, struct kspan_pidvec *out);

/**
 * @brief Parse one line of /proc/net/tcp or /proc/net/tcp6 (header lines
 * and anything malformed give false). Pure.
 * @return true with the local port, the state (0x0A = LISTEN) and the socket inode
 */
bool kspan_tcp_line_parse(const char *line, uint16_t *port, unsigned *state, unsigned long *inode);

/**
 * @brief The processes (TGIDs) holding a socket that listens on TCP @p port,
 * IPv4 or IPv6, in any network namespace the agent can see. Appended to @p out.
 * @return 0, -errno
 */
int kspan_procfs_listeners(const char *root, uint16_t port, struct kspan_pidvec *out);

#endif
