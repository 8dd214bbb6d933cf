// SPDX-License-Identifier: Apache-2.0
/*
 * Readers of /proc (or of a fake tree under another root, for tests): bounded
 * reads of a process's files, the pure parsers of their contents, and the
 * scans that map a listening TCP port to the processes that own the socket.
 *
 * Processes come and go while we read: a file that vanished (ENOENT, ESRCH)
 * means the process exited and is skipped by the scans, never an error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procfs.h"

#define DEFAULT_ROOT "/proc"
#define LISTEN_STATE 0x0A
/* Bytes of /proc/PID/task/TID/children read at most (about 8000 children). */
#define CHILDREN_MAX (64u << 10)

/* ---- growable arrays ---- */

/* Append one element of @size bytes to the array *v of *n elements (room for *cap). */
static int vec_push(void **v, size_t *n, size_t *cap, size_t size, const void *item)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv = reallocarray(*v, ncap, size);

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	memcpy((char *)*v + *n * size, item, size);
	(*n)++;
	return 0;
}

int kspan_pidvec_push(struct kspan_pidvec *pv, pid_t pid)
{
	return vec_push((void **)&pv->v, &pv->n, &pv->cap, sizeof(pid), &pid);
}

bool kspan_pidvec_has(const struct kspan_pidvec *pv, pid_t pid)
{
	for (size_t i = 0; i < pv->n; i++)
		if (pv->v[i] == pid)
			return true;
	return false;
}

static int pidvec_push_unique(struct kspan_pidvec *pv, pid_t pid)
{
	return kspan_pidvec_has(pv, pid) ? 0 : kspan_pidvec_push(pv, pid);
}

void kspan_pidvec_free(struct kspan_pidvec *pv)
{
	if (!pv)
		return;
	free(pv->v);
	*pv = (struct kspan_pidvec){ 0 };
}

struct inovec {
	unsigned long *v;
	size_t n, cap;
};

static bool inovec_has(const struct inovec *iv, unsigned long ino)
{
	for (size_t i = 0; i < iv->n; i++)
		if (iv->v[i] == ino)
			return true;
	return false;
}

static int inovec_add(struct inovec *iv, unsigned long ino)
{
	return inovec_has(iv, ino) ? 0 :
				     vec_push((void **)&iv->v, &iv->n, &iv->cap, sizeof(ino), &ino);
}

/* ---- paths and bounded reads ---- */

/* root/PID/rel, or root/rel when pid is 0. */
static int proc_path(char *buf, size_t size, const char *root, pid_t pid, const char *rel)
{
	int n;

	root = root ? root : DEFAULT_ROOT;
	if (pid)
		n = snprintf(buf, size, "%s/%d/%s", root, (int)pid, rel);
	else
		n = snprintf(buf, size, "%s/%s", root, rel);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Up to @cap bytes of the file into buf. Returns the count or -errno. */
static ssize_t read_bounded(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -errno;
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	n = n < 0 ? -errno : (ssize_t)got;
	close(fd);
	return n;
}

/* A small file of the process, NUL-terminated, at most size - 1 bytes. */
static ssize_t read_small(const char *root, pid_t pid, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int err = proc_path(path, sizeof(path), root, pid, rel);

	if (err)
		return err;
	n = read_bounded(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The whole file up to @max bytes in a malloc'ed buffer grown as needed, NUL-terminated. */
static char *read_alloc(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = max < 4096 ? max : 4096, got = 0;
	char *buf = NULL, *nb;
	ssize_t n;

	if (fd < 0)
		return NULL;
	for (;;) {
		nb = realloc(buf, cap + 1);
		if (!nb)
			goto fail;
		buf = nb;
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		got += (size_t)n;
		if (!n || got == max)
			break;
		if (got == cap)
			cap = cap * 2 < max ? cap * 2 : max;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	n = errno;
	free(buf);
	close(fd);
	errno = (int)n;
	return NULL;
}

/* ---- environ ---- */

bool kspan_environ_find(const char *buf, size_t len, const char *name, const char **val,
			size_t *vlen)
{
	size_t n = strlen(name);
	const char *p = buf, *end = buf + len;

	if (!n || !buf)
		return false;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t elen = nul ? (size_t)(nul - p) : (size_t)(end - p);

		if (elen > n && p[n] == '=' && !memcmp(p, name, n)) {
			*val = p + n + 1;
			*vlen = elen - n - 1;
			return true;
		}
		if (!nul)
			break;
		p = nul + 1;
	}
	return false;
}

char *kspan_procfs_read_environ(const char *root, pid_t pid, size_t *len)
{
	char path[PATH_MAX];
	int err = proc_path(path, sizeof(path), root, pid, "environ");

	if (err) {
		errno = -err;
		return NULL;
	}
	return read_alloc(path, KSPAN_ENVIRON_MAX, len);
}

/* ---- exe, cmdline, comm, status ---- */

int kspan_procfs_exe(const char *root, pid_t pid, char *path, size_t size, dev_t *dev, ino_t *ino)
{
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int err = proc_path(link, sizeof(link), root, pid, "exe");

	if (err)
		return err;
	n = readlink(link, path, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	path[n] = '\0';
	/* stat() follows the magic link to the very file mapped, even in another mount namespace. */
	if ((dev || ino) && stat(link, &st))
		return -errno;
	if (dev)
		*dev = st.st_dev;
	if (ino)
		*ino = st.st_ino;
	return 0;
}

size_t kspan_cmdline_join(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = 0;

	while (len && !buf[len - 1])
		len--;
	for (size_t i = 0; i < len && n + 1 < size; i++)
		out[n++] = buf[i] ? buf[i] : ' ';
	out[n] = '\0';
	return n;
}

int kspan_procfs_cmdline(const char *root, pid_t pid, char *out, size_t size)
{
	char buf[KSPAN_CMDLINE_MAX + 1];
	ssize_t n = read_small(root, pid, "cmdline", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	kspan_cmdline_join(buf, (size_t)n, out, size);
	return 0;
}

int kspan_procfs_comm(const char *root, pid_t pid, char *out, size_t size)
{
	ssize_t n = read_small(root, pid, "comm", out, size);

	if (n < 0)
		return (int)n;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* The decimal value of "Key:\t123" in a status text, or -1. */
static long status_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	char *end;
	long v;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		errno = 0;
		v = strtol(line + klen + 1, &end, 10);
		return errno || end == line + klen + 1 || v < 0 || v > INT_MAX ? -1 : v;
	}
	return -1;
}

int kspan_procfs_status(const char *root, pid_t pid, pid_t *tgid, pid_t *ppid)
{
	char buf[4096];
	ssize_t n = read_small(root, pid, "status", buf, sizeof(buf));
	long t, pp;

	if (n < 0)
		return (int)n;
	t = status_field(buf, "Tgid");
	pp = status_field(buf, "PPid");
	if (t < 0 || pp < 0)
		return -EINVAL;
	if (tgid)
		*tgid = (pid_t)t;
	if (ppid)
		*ppid = (pid_t)pp;
	return 0;
}

/* ---- process lists ---- */

/* A PID from a directory entry name: digits only, 1..INT_MAX; else 0. */
static pid_t name_to_pid(const char *s)
{
	long v = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > INT_MAX / 10)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v <= INT_MAX ? (pid_t)v : 0;
}

int kspan_procfs_list_pids(const char *root, struct kspan_pidvec *out)
{
	DIR *d = opendir(root ? root : DEFAULT_ROOT);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		pid_t pid = name_to_pid(de->d_name);

		if (pid)
			err = kspan_pidvec_push(out, pid);
	}
	closedir(d);
	return err;
}

/* Add the space-separated PIDs of one children file. -ENOENT when the kernel has none. */
static int read_children_file(const char *path, struct kspan_pidvec *out)
{
	size_t len;
	char *buf = read_alloc(path, CHILDREN_MAX, &len), *tok, *save = NULL;
	int err = 0;

	if (!buf)
		return -errno;
	for (tok = strtok_r(buf, " \n", &save); tok && !err; tok = strtok_r(NULL, " \n", &save)) {
		pid_t child = name_to_pid(tok);

		if (child)
			err = pidvec_push_unique(out, child);
	}
	free(buf);
	return err;
}

static bool task_gone(const char *root, pid_t pid, pid_t tid)
{
	char path[PATH_MAX], rel[32];

	snprintf(rel, sizeof(rel), "task/%d", (int)tid);
	return !proc_path(path, sizeof(path), root, pid, rel) && access(path, F_OK) &&
	       errno == ENOENT;
}

/* Children through task/TID/children; -ENOSYS when the kernel does not provide the file. */
static int children_from_tasks(const char *root, pid_t pid, struct kspan_pidvec *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = proc_path(path, sizeof(path), root, pid, "task");

	if (err)
		return err;
	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		pid_t tid = name_to_pid(de->d_name);
		char rel[64];

		if (!tid)
			continue;
		snprintf(rel, sizeof(rel), "task/%d/children", (int)tid);
		err = proc_path(path, sizeof(path), root, pid, rel);
		if (!err)
			err = read_children_file(path, out);
		if (err == -ENOENT) /* the thread exited, or no CONFIG_PROC_CHILDREN */
			err = task_gone(root, pid, tid) ? 0 : -ENOSYS;
	}
	closedir(d);
	return err;
}

static int children_from_ppid(const char *root, pid_t pid, struct kspan_pidvec *out)
{
	struct kspan_pidvec all = { 0 };
	int err = kspan_procfs_list_pids(root, &all);

	for (size_t i = 0; i < all.n && !err; i++) {
		pid_t ppid;

		if (!kspan_procfs_status(root, all.v[i], NULL, &ppid) && ppid == pid)
			err = pidvec_push_unique(out, all.v[i]);
	}
	kspan_pidvec_free(&all);
	return err;
}

int kspan_procfs_children(const char *root, pid_t pid, struct kspan_pidvec *out)
{
	int err = children_from_tasks(root, pid, out);

	return err == -ENOSYS ? children_from_ppid(root, pid, out) : err;
}

/* ---- listening sockets ---- */

/* The next blank-separated field of *s, its length in *len; NULL at the end. */
static const char *next_field(const char **s, size_t *len)
{
	const char *p = *s, *f;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n')
		return NULL;
	f = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	*len = (size_t)(p - f);
	*s = p;
	return f;
}

/* A hex (base 16) or decimal number filling exactly f[0..len). */
static bool parse_num(const char *f, size_t len, int base, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!len || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		int d = isdigit((unsigned char)f[i]) ? f[i] - '0' :
			base == 16 && isxdigit((unsigned char)f[i]) ?
						       tolower((unsigned char)f[i]) - 'a' + 10 :
						       -1;

		if (d < 0 || v > (ULONG_MAX - (unsigned long)d) / (unsigned long)base)
			return false;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Fields: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
 * timeout inode ... ; local_address is HEXADDR:HEXPORT (8 or 32 hex digits of address).
 */
bool kspan_tcp_line_parse(const char *line, uint16_t *port, unsigned *state, unsigned long *inode)
{
	const char *f[10], *colon;
	size_t flen[10];
	unsigned long p, st, ino;

	for (int i = 0; i < 10; i++)
		if (!(f[i] = next_field(&line, &flen[i])))
			return false;
	if (flen[0] < 2 || f[0][flen[0] - 1] != ':')
		return false;
	colon = memchr(f[1], ':', flen[1]);
	if (!colon || (colon - f[1] != 8 && colon - f[1] != 32))
		return false;
	if (!parse_num(colon + 1, flen[1] - (size_t)(colon + 1 - f[1]), 16, 0xFFFF, &p) ||
	    !parse_num(f[3], flen[3], 16, 0xFF, &st) ||
	    !parse_num(f[9], flen[9], 10, ULONG_MAX, &ino))
		return false;
	*port = (uint16_t)p;
	*state = (unsigned)st;
	*inode = ino;
	return true;
}

/* Add the inodes of the sockets listening on @port in one tcp or tcp6 table. */
static int listen_inodes(const char *path, uint16_t port, struct inovec *out)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no tcp6 without IPv6 */
	while (!err && getline(&line, &cap, f) > 0) {
		uint16_t p;
		unsigned st;
		unsigned long ino;

		/* Inode 0: a socket being torn down, owned by no fd. */
		if (kspan_tcp_line_parse(line, &p, &st, &ino) && p == port && st == LISTEN_STATE &&
		    ino)
			err = inovec_add(out, ino);
	}
	free(line);
	fclose(f);
	return err;
}

/* Both tables of the network namespace that root/PID/net (or root/net when pid is 0) shows. */
static int netns_listen_inodes(const char *root, pid_t pid, uint16_t port, struct inovec *out)
{
	static const char *const tables[] = { "net/tcp", "net/tcp6" };
	char path[PATH_MAX];
	int err = 0;

	for (size_t i = 0; i < 2 && !err; i++) {
		err = proc_path(path, sizeof(path), root, pid, tables[i]);
		if (!err)
			err = listen_inodes(path, port, out);
	}
	return err;
}

/* The inode of the network namespace of root/PID (pid 0: "self"), or 0. */
static unsigned long netns_of(const char *root, pid_t pid)
{
	char path[PATH_MAX];
	struct stat st;

	if (pid)
		proc_path(path, sizeof(path), root, pid, "ns/net");
	else
		proc_path(path, sizeof(path), root, 0, "self/ns/net");
	return stat(path, &st) ? 0 : (unsigned long)st.st_ino;
}

/*
 * Listening inodes in every network namespace: ours through root/net, then
 * each other namespace once, through the first process seen in it. A process
 * whose namespace cannot be read (it exited) is skipped.
 */
static int all_listen_inodes(const char *root, const struct kspan_pidvec *pids, uint16_t port,
			     struct inovec *out)
{
	struct inovec seen = { 0 };
	unsigned long ns = netns_of(root, 0);
	int err = ns ? inovec_add(&seen, ns) : 0;

	if (!err)
		err = netns_listen_inodes(root, 0, port, out);
	for (size_t i = 0; i < pids->n && !err; i++) {
		ns = netns_of(root, pids->v[i]);
		if (!ns || inovec_has(&seen, ns))
			continue;
		err = inovec_add(&seen, ns);
		if (!err)
			err = netns_listen_inodes(root, pids->v[i], port, out);
		if (err == -ENOENT || err == -EACCES)
			err = 0;
	}
	free(seen.v);
	return err;
}

/* The inode of an fd link "socket:[123]", or 0. */
static unsigned long socket_inode(const char *link)
{
	unsigned long ino;
	size_t len = strlen(link);

	if (strncmp(link, "socket:[", 8) || len < 10 || link[len - 1] != ']')
		return 0;
	return parse_num(link + 8, len - 9, 10, ULONG_MAX, &ino) ? ino : 0;
}

/* True when an fd of root/PID is one of the sockets. */
static bool holds_socket(const char *root, pid_t pid, const struct inovec *inodes)
{
	char path[PATH_MAX], link[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (proc_path(path, sizeof(path), root, pid, "fd") || !(d = opendir(path)))
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		found = inovec_has(inodes, socket_inode(link));
	}
	closedir(d);
	return found;
}

int kspan_procfs_listeners(const char *root, uint16_t port, struct kspan_pidvec *out)
{
	struct kspan_pidvec pids = { 0 };
	struct inovec inodes = { 0 };
	int err = kspan_procfs_list_pids(root, &pids);

	if (!err)
		err = all_listen_inodes(root, &pids, port, &inodes);
	for (size_t i = 0; i < pids.n && !err && inodes.n; i++)
		if (holds_socket(root, pids.v[i], &inodes))
			err = pidvec_push_unique(out, pids.v[i]);
	kspan_pidvec_free(&pids);
	free(inodes.v);
	return err;
}
