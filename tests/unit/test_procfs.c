// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the /proc readers (userspace/procfs.c) against a fake procfs
 * tree built under /tmp: environ with hostile content, cmdline, status,
 * exe, the PID list, children (task/TID/children and the PPid fallback), and
 * listening sockets from real-format net/tcp and net/tcp6 lines across two
 * network namespaces. Also the per-process resource built from that tree
 * (userspace/proc_resource.c), with exact attributes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "log_capture.h"
#include "resource_check.h"
#include <otel/sdk.h>
#include "proc_resource.h"
#include "procfs.h"

static char root[] = "/tmp/kspan-test-procfs-XXXXXX";

/* ---- building the fake tree ---- */

static void make_dirs(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

/* Write root/rel with len bytes (creating its directories). */
static void put_bytes(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX], dir[PATH_MAX];
	char *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		make_dirs(dir);
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put_file(const char *rel, const char *text)
{
	put_bytes(rel, text, strlen(text));
}

static void put_link(const char *rel, const char *target)
{
	char path[PATH_MAX], dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		make_dirs(dir);
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void put_status(pid_t pid, pid_t tgid, pid_t ppid)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "%d/status", (int)pid);
	snprintf(text, sizeof(text),
		 "Name:\tfake\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\n"
		 "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n",
		 (int)tgid, (int)pid, (int)ppid);
	put_file(rel, text);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/kspan-test-procfs-XXXXXX");
	log_capture_start(OTEL_LOG_DEBUG);
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/* The vector holds exactly these PIDs, in any order. */
static void assert_pids(struct kspan_pidvec *pv, size_t n, ...)
{
	va_list ap;

	qsort(pv->v, pv->n, sizeof(pid_t), cmp_pid);
	assert_int_equal(pv->n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pv->v[i], va_arg(ap, int));
	va_end(ap);
}

/* ---- environ (pure) ---- */

#define FIND(BUF, NAME) find_in(BUF, sizeof(BUF) - 1, NAME)
static char found[256];

/* The value found as a string, or "<none>". */
static const char *find_in(const char *buf, size_t len, const char *name)
{
	const char *v;
	size_t n;

	if (!kspan_environ_find(buf, len, name, &v, &n))
		return "<none>";
	assert_true(v >= buf && v + n <= buf + len);
	assert_null(memchr(v, '\0', n));
	snprintf(found, sizeof(found), "%.*s", (int)n, v);
	return found;
}

static void test_environ_find(void **state)
{
	static const char env[] = "PATH=/bin\0OTEL_SERVICE_NAME=checkout\0HOME=/root\0";
	static const char eq[] = "OTEL_RESOURCE_ATTRIBUTES=a=b=c,d=e\0";
	static const char dup[] = "OTEL_SERVICE_NAME=first\0OTEL_SERVICE_NAME=second\0";
	static const char unterminated[] = "A=1\0OTEL_SERVICE_NAME=tail";
	static const char prefixes[] = "OTEL_SERVICE_NAMEX=no\0XOTEL_SERVICE_NAME=no\0"
				       "OTEL_SERVICE_NAME\0OTEL_SERVICE_NAME=\0";
	static const char garbage[] = "\xff\xfe=\x01\0\0\0=\0==\0OTEL_SERVICE_NAME=\xc3\x28ok\0";
	static const char cut[] = "A=1\0OTEL_SERVICE_NA";

	(void)state;
	assert_string_equal(FIND(env, "OTEL_SERVICE_NAME"), "checkout");
	assert_string_equal(FIND(env, "PATH"), "/bin");
	assert_string_equal(FIND(env, "HOME"), "/root");
	assert_string_equal(FIND(env, "OTEL_RESOURCE_ATTRIBUTES"), "<none>");
	/* Only the first '=' separates the name. */
	assert_string_equal(FIND(eq, "OTEL_RESOURCE_ATTRIBUTES"), "a=b=c,d=e");
	/* getenv() in the target returns the first of two entries. */
	assert_string_equal(FIND(dup, "OTEL_SERVICE_NAME"), "first");
	/* The last entry may lack its NUL (the kernel shows what the process left). */
	assert_string_equal(FIND(unterminated, "OTEL_SERVICE_NAME"), "tail");
	/* Names match whole; a bare name is no assignment; an empty value is found empty. */
	assert_string_equal(FIND(prefixes, "OTEL_SERVICE_NAME"), "");
	assert_string_equal(FIND(garbage, "OTEL_SERVICE_NAME"), "\xc3\x28ok");
	assert_string_equal(FIND(cut, "OTEL_SERVICE_NAME"), "<none>");
	assert_string_equal(find_in("", 0, "A"), "<none>");
	assert_string_equal(find_in(NULL, 0, "A"), "<none>");
	assert_string_equal(find_in("A=1", 3, ""), "<none>");
}

/* A huge value, and a buffer of nothing but NULs or nothing but '=': found or not, no overrun. */
static void test_environ_find_huge(void **state)
{
	const size_t big = 2u << 20;
	char *buf = calloc(1, big);
	const char *v;
	size_t n;

	(void)state;
	if (!buf)
		fail();
	memset(buf, 'x', big); /* no NUL anywhere */
	memcpy(buf, "OTEL_SERVICE_NAME=", 18);
	assert_true(kspan_environ_find(buf, big, "OTEL_SERVICE_NAME", &v, &n));
	assert_ptr_equal(v, buf + 18);
	assert_int_equal(n, big - 18);
	memset(buf, 0, big);
	assert_false(kspan_environ_find(buf, big, "OTEL_SERVICE_NAME", &v, &n));
	memset(buf, '=', big);
	assert_false(kspan_environ_find(buf, big, "OTEL_SERVICE_NAME", &v, &n));
	free(buf);
}

static void test_read_environ_bounded(void **state)
{
	size_t big = KSPAN_ENVIRON_MAX + 12345, len = 0;
	char *data = malloc(big), *got;

	(void)state;
	memset(data, 'a', big);
	memcpy(data, "X=", 2);
	put_bytes("77/environ", data, big);
	got = kspan_procfs_read_environ(root, 77, &len);
	assert_non_null(got);
	assert_int_equal(len, KSPAN_ENVIRON_MAX);
	assert_int_equal(got[len], '\0');
	assert_memory_equal(got, data, len);
	free(got);
	put_bytes("78/environ", "A=1\0B=2\0", 8);
	got = kspan_procfs_read_environ(root, 78, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(got, "A=1\0B=2\0", 9);
	free(got);
	put_bytes("79/environ", "", 0);
	got = kspan_procfs_read_environ(root, 79, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	free(got);
	errno = 0;
	assert_null(kspan_procfs_read_environ(root, 80, &len));
	assert_int_equal(errno, ENOENT);
	free(data);
}

/* ---- cmdline, comm, status, exe ---- */

static void test_cmdline(void **state)
{
	char out[64], small[8];

	(void)state;
	assert_int_equal(kspan_cmdline_join("nginx\0-g\0daemon off;\0", 22, out, sizeof(out)), 20);
	assert_string_equal(out, "nginx -g daemon off;");
	/* No final NUL (a process that rewrote its argv), and several. */
	assert_int_equal(kspan_cmdline_join("nginx: worker process", 21, out, sizeof(out)), 21);
	assert_string_equal(out, "nginx: worker process");
	assert_int_equal(kspan_cmdline_join("a\0\0b\0\0\0", 7, out, sizeof(out)), 4);
	assert_string_equal(out, "a  b");
	assert_int_equal(kspan_cmdline_join("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(kspan_cmdline_join("\0\0", 2, out, sizeof(out)), 0);
	/* Cut to the buffer, always terminated. */
	assert_int_equal(kspan_cmdline_join("abcdef\0ghij\0", 12, small, sizeof(small)), 7);
	assert_string_equal(small, "abcdef ");

	put_bytes("5/cmdline", "/usr/bin/python3\0app.py\0--port\08080\0", 36);
	assert_int_equal(kspan_procfs_cmdline(root, 5, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/python3 app.py --port 8080");
	assert_int_equal(kspan_procfs_cmdline(root, 6, out, sizeof(out)), -ENOENT);
	put_file("5/comm", "python3\n");
	assert_int_equal(kspan_procfs_comm(root, 5, out, sizeof(out)), 0);
	assert_string_equal(out, "python3");
}

static void test_cmdline_bounded(void **state)
{
	size_t big = KSPAN_CMDLINE_MAX * 3;
	char *data = malloc(big), out[KSPAN_CMDLINE_MAX * 2];

	(void)state;
	memset(data, 'z', big);
	put_bytes("9/cmdline", data, big);
	assert_int_equal(kspan_procfs_cmdline(root, 9, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), KSPAN_CMDLINE_MAX);
	free(data);
}

static void test_status(void **state)
{
	pid_t tgid = 0, ppid = 0;

	(void)state;
	put_status(120, 100, 7);
	assert_int_equal(kspan_procfs_status(root, 120, &tgid, &ppid), 0);
	assert_int_equal(tgid, 100);
	assert_int_equal(ppid, 7);
	assert_int_equal(kspan_procfs_status(root, 120, NULL, NULL), 0);
	put_file("121/status", "Name:\tx\nTgid:\t121\n");
	assert_int_equal(kspan_procfs_status(root, 121, &tgid, &ppid), -EINVAL);
	put_file("122/status", "Tgid:\tabc\nPPid:\t1\n");
	assert_int_equal(kspan_procfs_status(root, 122, &tgid, &ppid), -EINVAL);
	/* "PPidX" is another field. */
	put_file("123/status", "Tgid:\t123\nPPidX:\t9\nPPid:\t4\n");
	assert_int_equal(kspan_procfs_status(root, 123, &tgid, &ppid), 0);
	assert_int_equal(ppid, 4);
	assert_int_equal(kspan_procfs_status(root, 124, &tgid, &ppid), -ENOENT);
}

static void test_exe(void **state)
{
	char target[PATH_MAX], got[PATH_MAX], tiny[4];
	struct stat st;
	dev_t dev;
	ino_t ino;

	(void)state;
	snprintf(target, sizeof(target), "%s/bin-server", root);
	put_file("bin-server", "#!/bin/sh\n");
	assert_int_equal(stat(target, &st), 0);
	put_link("30/exe", target);
	assert_int_equal(kspan_procfs_exe(root, 30, got, sizeof(got), &dev, &ino), 0);
	assert_string_equal(got, target);
	assert_int_equal(dev, st.st_dev);
	assert_int_equal(ino, st.st_ino);
	assert_int_equal(kspan_procfs_exe(root, 30, got, sizeof(got), NULL, NULL), 0);
	assert_int_equal(kspan_procfs_exe(root, 30, tiny, sizeof(tiny), NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(kspan_procfs_exe(root, 31, got, sizeof(got), &dev, &ino), -ENOENT);
	/* A link whose file is gone: the path reads, the identity does not. */
	put_link("32/exe", "/nonexistent/binary");
	assert_int_equal(kspan_procfs_exe(root, 32, got, sizeof(got), NULL, NULL), 0);
	assert_string_equal(got, "/nonexistent/binary");
	assert_int_equal(kspan_procfs_exe(root, 32, got, sizeof(got), &dev, NULL), -ENOENT);
}

/* ---- process lists ---- */

static void test_list_pids(void **state)
{
	struct kspan_pidvec pv = { 0 };

	(void)state;
	make_dirs("1");
	make_dirs("42");
	make_dirs("net");
	make_dirs("12a");
	make_dirs("0");
	make_dirs("99999999999");
	put_link("self", "42");
	assert_int_equal(kspan_procfs_list_pids(root, &pv), 0);
	assert_pids(&pv, 2, 1, 42);
	assert_true(kspan_pidvec_has(&pv, 42));
	assert_false(kspan_pidvec_has(&pv, 12));
	kspan_pidvec_free(&pv);
	assert_null(pv.v);
	kspan_pidvec_free(NULL);
	assert_int_equal(kspan_procfs_list_pids("/nonexistent-proc", &pv), -ENOENT);
}

static void test_children_files(void **state)
{
	struct kspan_pidvec pv = { 0 };

	(void)state;
	put_file("42/task/42/children", "100 101 ");
	put_file("42/task/43/children", "102 100\n");
	put_file("42/task/44/children", "");
	assert_int_equal(kspan_procfs_children(root, 42, &pv), 0);
	assert_pids(&pv, 3, 100, 101, 102);
	kspan_pidvec_free(&pv);
	assert_int_equal(kspan_procfs_children(root, 43, &pv), -ENOENT);
	assert_int_equal(pv.n, 0);
}

/* Without CONFIG_PROC_CHILDREN: every process's PPid. */
static void test_children_fallback(void **state)
{
	struct kspan_pidvec pv = { 0 };

	(void)state;
	make_dirs("10/task/10");
	put_status(10, 10, 1);
	put_status(11, 11, 10);
	put_status(12, 12, 10);
	put_status(13, 13, 11);
	make_dirs("14"); /* exited: no status */
	assert_int_equal(kspan_procfs_children(root, 10, &pv), 0);
	assert_pids(&pv, 2, 11, 12);
	kspan_pidvec_free(&pv);
}

/* ---- listening sockets ---- */

#define TCP_HEADER                                                                                 \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout inode                                                     \n"
#define TCP6_HEADER                                                                                \
	"  sl  local_address                         remote_address                        st "   \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

static void test_tcp_line(void **state)
{
	uint16_t port;
	unsigned st;
	unsigned long ino;

	(void)state;
	assert_true(kspan_tcp_line_parse("   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 "
					 "00:00000000 00000000     0        0 5001 1 "
					 "000000004da8302c 100 0 0 10 0\n",
					 &port, &st, &ino));
	assert_int_equal(port, 8080);
	assert_int_equal(st, 0x0A);
	assert_int_equal(ino, 5001);
	assert_true(kspan_tcp_line_parse("  12: 0100007F:D2C4 0100007F:1F90 01 00000000:00000000 "
					 "00:00000000 00000000  1000        0 123456789 3 "
					 "0000000000000000 20 4 30 10 -1",
					 &port, &st, &ino));
	assert_int_equal(port, 0xD2C4);
	assert_int_equal(st, 1);
	assert_int_equal(ino, 123456789);
	assert_true(kspan_tcp_line_parse("   0: 00000000000000000000000001000000:FFFF "
					 "00000000000000000000000000000000:0000 0A "
					 "00000000:00000000 00:00000000 00000000     0        0 7 1 "
					 "0000000000000000 100 0 0 10 0",
					 &port, &st, &ino));
	assert_int_equal(port, 65535);
	assert_int_equal(ino, 7);
	assert_false(kspan_tcp_line_parse(TCP_HEADER, &port, &st, &ino));
	assert_false(kspan_tcp_line_parse(TCP6_HEADER, &port, &st, &ino));
	assert_false(kspan_tcp_line_parse("", &port, &st, &ino));
	assert_false(kspan_tcp_line_parse("   0: 00000000:1F90 00000000:0000 0A", &port, &st, &ino));
	/* Port out of range, address of the wrong width, bad inode, no colon after sl. */
	assert_false(kspan_tcp_line_parse("0: 00000000:10000 0:0 0A 0:0 0:0 0 0 0 5", &port, &st,
					  &ino));
	assert_false(kspan_tcp_line_parse("0: 0000000:1F90 0:0 0A 0:0 0:0 0 0 0 5", &port, &st,
					  &ino));
	assert_false(kspan_tcp_line_parse("0: 00000000:1F90 0:0 0A 0:0 0:0 0 0 0 5x", &port, &st,
					  &ino));
	assert_false(kspan_tcp_line_parse("0 00000000:1F90 0:0 0A 0:0 0:0 0 0 0 5", &port, &st,
					  &ino));
	assert_false(kspan_tcp_line_parse("0: 00000000:1G90 0:0 0A 0:0 0:0 0 0 0 5", &port, &st,
					  &ino));
	assert_true(kspan_tcp_line_parse("0: 00000000:1f90 0:0 0a 0:0 0:0 0 0 0 5", &port, &st,
					 &ino));
	assert_int_equal(port, 8080);
	assert_int_equal(st, 10);
}

static void make_listen_tree(void)
{
	put_file("net/tcp",
		 TCP_HEADER
		 "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		 "0        0 5001 1 0000000000000000 100 0 0 10 0\n"
		 "   1: 0100007F:1F90 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000     "
		 "0        0 5002 1 0000000000000000 20 4 30 10 -1\n"
		 "   2: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		 "0        0 5004 1 0000000000000000 100 0 0 10 0\n"
		 "   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		 "0        0 0 1 0000000000000000 100 0 0 10 0\n");
	put_file("net/tcp6",
		 TCP6_HEADER "   0: 00000000000000000000000000000000:1F90 "
			     "00000000000000000000000000000000:0000 0A 00000000:00000000 "
			     "00:00000000 00000000     0        0 5003 1 0000000000000000 100 0 0 "
			     "10 0\n");
	/* 42 and 43 share the agent's namespace; 45 and 46 are in another one. */
	put_file("ns-a", "");
	put_file("ns-b", "");
	for (int pid = 42; pid <= 46; pid++) {
		char rel[64], target[PATH_MAX];

		snprintf(rel, sizeof(rel), "%d/ns/net", pid);
		snprintf(target, sizeof(target), "%s/%s", root, pid < 45 ? "ns-a" : "ns-b");
		put_link(rel, target);
	}
	put_link("42/fd/0", "/dev/null");
	put_link("42/fd/3", "socket:[5001]");
	put_link("43/fd/4", "socket:[5003]");
	put_link("43/fd/5", "socket:[5003]");
	put_link("44/fd/5", "socket:[5002]"); /* connected, not listening */
	put_link("44/fd/6", "socket:[5004]"); /* listening on another port */
	put_link("44/fd/7", "pipe:[5001]");
	put_file("45/net/tcp",
		 TCP_HEADER
		 "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		 "0        0 6001 1 0000000000000000 100 0 0 10 0\n");
	put_file("46/net/tcp",
		 TCP_HEADER
		 "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		 "0        0 6001 1 0000000000000000 100 0 0 10 0\n");
	put_link("self", "42");
	put_link("46/fd/9", "socket:[6001]");
	put_link("46/fd/10", "socket:[60011]");
}

static void test_listeners(void **state)
{
	struct kspan_pidvec pv = { 0 };

	(void)state;
	make_listen_tree();
	assert_int_equal(kspan_procfs_listeners(root, 8080, &pv), 0);
	/* IPv4 (42), IPv6 (43, twice), and the other namespace (46 holds 45's table's socket). */
	assert_pids(&pv, 3, 42, 43, 46);
	kspan_pidvec_free(&pv);
	assert_int_equal(kspan_procfs_listeners(root, 80, &pv), 0);
	assert_pids(&pv, 1, 44);
	kspan_pidvec_free(&pv);
	assert_int_equal(kspan_procfs_listeners(root, 9, &pv), 0);
	assert_int_equal(pv.n, 0);
}

/* ---- the resource of a process in the fake tree ---- */

static void assert_common(const otel_resource *r, int pid)
{
	const struct otel_value *v = otel_resource_get(r, "process.pid");

	assert_non_null(v);
	assert_int_equal(v->type, OTEL_VALUE_INT);
	assert_int_equal(v->i, pid);
	assert_str(r, "host.name", "node-1");
	assert_str(r, "telemetry.sdk.name", "libotel");
	assert_str(r, "telemetry.sdk.language", "c");
	assert_str(r, "telemetry.sdk.version", OTEL_VERSION_STRING);
	assert_str(r, "telemetry.distro.name", "kspan");
	assert_str(r, "telemetry.distro.version", OTEL_VERSION_STRING);
	assert_null(otel_resource_schema_url(r));
}

static void test_resource_from_tree(void **state)
{
	static const char env[] = "PATH=/bin\0OTEL_RESOURCE_ATTRIBUTES=deployment.environment="
				  "prod, team=a%2Cb ,service.name=from-attrs\0"
				  "OTEL_SERVICE_NAME= checkout \0";
	char target[PATH_MAX], path[PATH_MAX + 16];
	otel_resource *r;

	(void)state;
	snprintf(target, sizeof(target), "%s/srv/checkout-bin", root);
	put_file("srv/checkout-bin", "");
	put_link("50/exe", target);
	put_file("50/comm", "checkout-bin\n");
	put_bytes("50/cmdline", "checkout-bin\0--listen\0:8080\0", 28);
	put_bytes("50/environ", env, sizeof(env) - 1);
	r = kspan_proc_resource_new(root, 50, "node-1");
	assert_non_null(r);
	assert_common(r, 50);
	assert_str(r, "service.name", "checkout");
	assert_str(r, "deployment.environment", "prod");
	assert_str(r, "team", "a,b");
	assert_str(r, "process.executable.name", "checkout-bin");
	assert_str(r, "process.executable.path", target);
	assert_str(r, "process.command_line", "checkout-bin --listen :8080");
	assert_int_equal(n_attrs(r), 13);
	otel_resource_unref(r);
	assert_string_equal(log_text, "");

	/* service.name from OTEL_RESOURCE_ATTRIBUTES; a replaced binary is named without "(deleted)". */
	snprintf(path, sizeof(path), "%s (deleted)", target);
	put_link("51/exe", path);
	put_file("51/comm", "checkout-bin\n");
	put_bytes("51/environ", "OTEL_SERVICE_NAME=\0OTEL_RESOURCE_ATTRIBUTES=service.name=cart", 61);
	r = kspan_proc_resource_new(root, 51, "node-1");
	assert_non_null(r);
	assert_common(r, 51);
	assert_str(r, "service.name", "cart");
	assert_str(r, "process.executable.path", target);
	assert_null(otel_resource_get(r, "process.command_line")); /* no cmdline file */
	assert_int_equal(n_attrs(r), 10);
	otel_resource_unref(r);

	/* Nothing readable but comm: the executable name is comm; malformed attributes warned. */
	put_file("52/comm", "kworker\n");
	put_bytes("52/environ", "OTEL_RESOURCE_ATTRIBUTES=a=1,b", 30);
	r = kspan_proc_resource_new(root, 52, "node-1");
	assert_non_null(r);
	assert_common(r, 52);
	assert_str(r, "service.name", "kworker");
	assert_str(r, "process.executable.name", "kworker");
	assert_null(otel_resource_get(r, "process.executable.path"));
	assert_null(otel_resource_get(r, "a"));
	assert_int_equal(n_attrs(r), 9);
	otel_resource_unref(r);
	assert_string_equal(log_text, "kspan: PID 52: OTEL_RESOURCE_ATTRIBUTES is malformed (expected "
				    "key=value pairs separated by ',', percent-encoded); ignored\n");

	errno = 0;
	assert_null(kspan_proc_resource_new(root, 53, "node-1"));
	assert_int_equal(errno, ESRCH);
}

/* Hostile values: invalid UTF-8 repaired, over-long variables ignored with a warning. */
static void test_resource_hostile(void **state)
{
	size_t big = KSPAN_ENV_VALUE_MAX + 10;
	char *env = malloc(big + 64);
	struct kspan_proc_info info = {
		.pid = 60,
		.exe_path = "/opt/\xff\xfe/app",
		.command_line = "app \xc3\x28",
		.host_name = "node-1",
		.environ = env,
	};
	otel_resource *r;
	int n = sprintf(env, "OTEL_SERVICE_NAME=");

	(void)state;
	memset(env + n, 's', big);
	info.environ_len = (size_t)n + big;
	r = kspan_proc_resource_build(&info);
	assert_non_null(r);
	assert_common(r, 60);
	assert_str(r, "service.name", "app");
	assert_str(r, "process.executable.path", "/opt/\xef\xbf\xbd\xef\xbf\xbd/app");
	assert_str(r, "process.command_line", "app \xef\xbf\xbd(");
	otel_resource_unref(r);
	assert_string_equal(log_text, "kspan: PID 60: OTEL_SERVICE_NAME is longer than 65536 bytes; "
				    "ignored\n");
	/* An empty service.name in OTEL_RESOURCE_ATTRIBUTES leaves the fallback. */
	memcpy(env, "OTEL_RESOURCE_ATTRIBUTES=service.name=,a=b", 42);
	info.environ_len = 42;
	r = kspan_proc_resource_build(&info);
	assert_str(r, "service.name", "app");
	assert_str(r, "a", "b");
	otel_resource_unref(r);
	/* An invalid service name is repaired too. */
	memcpy(env, "OTEL_SERVICE_NAME=\xe2\x82", 20);
	info.environ_len = 20;
	r = kspan_proc_resource_build(&info);
	assert_str(r, "service.name", "\xef\xbf\xbd");
	otel_resource_unref(r);
	free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environ_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environ_find_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_environ_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_children_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_children_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resource_from_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resource_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
