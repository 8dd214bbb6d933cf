// SPDX-License-Identifier: Apache-2.0
/*
 * tests/integration/test_capture.c: the kernel side of the agent on the real
 * kernel, through userspace/loader.c: the flavor choice and the verifier for every
 * flavor, `kspan probe`, and the exact records of loopback TCP traffic (IPv4 and
 * IPv6, every captured syscall), of connections opened before tracing, of forked
 * children and of a watched executable; and what must not be reported (files,
 * pipes, other processes). Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "kspan.h"
#include "ring_recs.h"
#include "feature_probe.h"
#include "loader.h"
#include "probe_cmd.h"

/* Small, so truncation is easy to provoke; every other message is shorter. */
#define CAPTURE 64

static struct {
	struct kspan_loader *l;
	struct ring_buffer *rb;
	struct ring_recs got;
	char log[4096];
} g;

static void log_to_buffer(void *ctx, const char *msg)
{
	size_t used = strlen(g.log);

	(void)ctx;
	snprintf(g.log + used, sizeof(g.log) - used, "%s\n", msg);
}

static void collect(void)
{
	assert_true(ring_recs_collect(&g.got, g.rb) >= 0);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int setup(void **state)
{
	struct kspan_loader_opts opts = { .capture_bytes = CAPTURE, .log = log_to_buffer };

	(void)state;
	libbpf_set_print(quiet_libbpf);
	if (geteuid() != 0) {
		fprintf(stderr, "test_capture needs root\n");
		return -1;
	}
	g.l = kspan_loader_open(&opts);
	if (!g.l || kspan_loader_attach(g.l)) {
		fprintf(stderr, "loader: %s\n", g.l ? kspan_loader_reason(g.l) : strerror(errno));
		return -1;
	}
	g.rb = ring_buffer__new(kspan_loader_ring_fd(g.l), ring_recs_keep, &g.got, NULL);
	return g.rb ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ring_recs_forget(&g.got);
	ring_buffer__free(g.rb);
	kspan_loader_destroy(g.l);
	return 0;
}

/* ------------------------------------------------------------------ record lookups */

static const struct kspan_hdr *rec(size_t i)
{
	return g.got.recs[i];
}

static size_t count_tgid(__u32 tgid)
{
	size_t i, n = 0;

	for (i = 0; i < g.got.n; i++)
		n += rec(i)->tgid == tgid;
	return n;
}

/* The i-th record of tgid (in ring order), which must exist and have this type. */
static const void *nth(__u32 tgid, size_t want, __u16 type)
{
	size_t i, seen = 0;

	for (i = 0; i < g.got.n; i++) {
		if (rec(i)->tgid != tgid)
			continue;
		if (seen++ == want) {
			assert_int_equal(rec(i)->version, KSPAN_ABI_VERSION);
			assert_int_equal(rec(i)->type, type);
			return rec(i);
		}
	}
	fail_msg("record %zu of tgid %u missing (%zu records)", want, tgid, seen);
	return NULL;
}

static const struct kspan_proc_rec *find_proc(__u32 tgid, __u32 kind)
{
	const struct kspan_proc_rec *p;
	size_t i;

	for (i = 0; i < g.got.n; i++) {
		p = g.got.recs[i];
		if (p->hdr.type == KSPAN_REC_PROC && p->hdr.tgid == tgid && p->kind == kind)
			return p;
	}
	fail_msg("no PROC record kind %u for %u", kind, tgid);
	return NULL;
}

/* ------------------------------------------------------------------ expectations */

/* The kspan_addr of a socket's local or peer address: IPv4 as ::ffff:a.b.c.d. */
static void sockaddr_to_kspan(int fd, int peer, struct kspan_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(out, 0, sizeof(*out));
	assert_int_equal(
		peer ? getpeername(fd, (void *)&ss, &len) : getsockname(fd, (void *)&ss, &len), 0);
	out->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;

		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&ss;

		memcpy(out->addr, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
	}
}

/* A CONN record of fd with this role and exactly the socket's addresses; its cookie. */
static __u64 check_conn(const struct kspan_conn_rec *c, int fd, __u32 role)
{
	struct kspan_addr local, remote;

	assert_int_equal(c->hdr.size, sizeof(*c));
	assert_int_equal(c->fd, fd);
	assert_int_equal(c->role, role);
	assert_int_equal(c->hdr.tid, c->hdr.tgid); /* single-threaded processes here */
	sockaddr_to_kspan(fd, 0, &local);
	sockaddr_to_kspan(fd, 1, &remote);
	assert_memory_equal(&c->local, &local, sizeof(local));
	assert_memory_equal(&c->remote, &remote, sizeof(remote));
	assert_true(c->sock_cookie != 0);
	return c->sock_cookie;
}

/* A DATA record with exactly these fields and bytes (expect: the first captured bytes). */
static void check_data(const struct kspan_data_rec *d, int fd, __u16 dir, __u16 call, __u64 cookie,
		       __u32 len, const void *expect, __u32 captured)
{
	size_t i;

	assert_int_equal(d->fd, fd);
	assert_int_equal(d->dir, dir);
	assert_int_equal(d->call, call);
	assert_int_equal(d->sock_cookie, cookie);
	assert_int_equal(d->len, len);
	assert_int_equal(d->captured, captured);
	assert_int_equal(d->hdr.size, (sizeof(*d) + captured + 7) & ~7u);
	assert_true(d->start_ns > 0 && d->start_ns <= d->hdr.ts_ns);
	if (captured)
		assert_memory_equal(d->data, expect, captured);
	for (i = sizeof(*d) + captured; i < d->hdr.size; i++)
		assert_int_equal(((const __u8 *)d)[i], 0); /* padding is zero */
}

static void check_close(const struct kspan_close_rec *c, int fd, __u64 cookie)
{
	assert_int_equal(c->hdr.size, sizeof(*c));
	assert_int_equal(c->fd, fd);
	assert_int_equal(c->sock_cookie, cookie);
}

/* ------------------------------------------------------------------ sockets */

struct pair {
	int listener, client, server;
};

static int listen_on(int family, struct sockaddr_storage *addr, socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)addr;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (void *)addr, *len), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (void *)addr, len), 0);
	return fd;
}

/* Connect (non-blocking when asked: connect() then says EINPROGRESS) and accept. */
static void open_pair(int family, int nonblock, struct pair *p)
{
	struct sockaddr_storage addr;
	struct pollfd pfd;
	socklen_t len;
	int ret;

	p->listener = listen_on(family, &addr, &len);
	p->client = socket(family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	assert_true(p->client >= 0);
	ret = connect(p->client, (void *)&addr, len);
	if (nonblock) {
		assert_int_equal(ret, -1);
		assert_int_equal(errno, EINPROGRESS);
		pfd = (struct pollfd){ .fd = p->client, .events = POLLOUT };
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_int_equal(fcntl(p->client, F_SETFL, 0), 0);
	} else {
		assert_int_equal(ret, 0);
	}
	p->server = accept(p->listener, NULL, NULL);
	assert_true(p->server >= 0);
}

static void close_pair(struct pair *p)
{
	close(p->client);
	close(p->server);
	close(p->listener);
}

static __u64 drop_count(enum kspan_drop_reason reason)
{
	__u64 drops[KSPAN_DROP_MAX];

	assert_int_equal(kspan_loader_drops(g.l, drops), 0);
	return drops[reason];
}

/* A file of known bytes, for sendfile and for "files are not reported". */
static int temp_file(const char *content)
{
	char path[] = "/tmp/kspan-capture-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* ------------------------------------------------------------------ tests */

static void test_probe_cmd_prints_features_and_plan(void **state)
{
	const struct kspan_features *f = kspan_loader_features(g.l);
	char *text = NULL, line[256], why[1024];
	enum kspan_flavor plan;
	size_t size = 0;
	FILE *out;
	int i;

	(void)state;
	out = open_memstream(&text, &size);
	assert_non_null(out);
	plan = kspan_features_plan(f, why, sizeof(why));
	assert_int_equal(kspan_probe_cmd(out), 0);
	fclose(out);
	for (i = 0; i < KSPAN_FEAT_MAX; i++) {
		snprintf(line, sizeof(line), "\nfeature %s: %s (", kspan_feature_name(i),
			 f->f[i].ok ? "yes" : "no");
		assert_non_null(strstr(text, line));
	}
	assert_non_null(strstr(text, "\nverifier tracepoint: ok\n"));
	assert_non_null(strstr(text, "\nverifier kprobe: ok\n"));
	snprintf(line, sizeof(line), "\nplan: %s (", kspan_flavor_name(plan));
	assert_non_null(strstr(text, line));
	if (!f->f[KSPAN_FEAT_FENTRY].ok && !f->f[KSPAN_FEAT_KPROBE].ok) {
		/* This machine: no kprobes, no fentry. */
		assert_non_null(strstr(text, "\nplan: tracepoint (fentry unavailable: "));
		assert_non_null(strstr(text, "; kprobe unavailable: kernel built without "
					     "CONFIG_KPROBES"));
	}
	free(text);
}

static void test_every_flavor_passes_the_verifier(void **state)
{
	const struct kspan_features *f = kspan_loader_features(g.l);
	char err[512] = "";
	int ret;

	(void)state;
	assert_int_equal(
		kspan_loader_verify_flavor(NULL, KSPAN_FLAVOR_SYSCALL_TP, err, sizeof(err)), 0);
	/* kprobe programs load (and verify) even where kprobes cannot be attached. */
	assert_int_equal(kspan_loader_verify_flavor(NULL, KSPAN_FLAVOR_KPROBE, err, sizeof(err)),
			 0);
	/* fentry programs are checked against their attach point at load: where the
	 * kernel has no trampolines that load fails, and the probe must have said so. */
	ret = kspan_loader_verify_flavor(NULL, KSPAN_FLAVOR_FENTRY, err, sizeof(err));
	if (f->f[KSPAN_FEAT_FENTRY].ok) {
		assert_int_equal(ret, 0);
	} else {
		assert_true(ret < 0);
		assert_non_null(strstr(err, "loading the fentry programs failed: "));
	}
	assert_int_equal(kspan_loader_verify_flavor(NULL, KSPAN_FLAVOR_AUTO, err, sizeof(err)),
			 -EINVAL);
}

static void test_loader_chooses_and_logs_the_flavor(void **state)
{
	const struct kspan_features *f = kspan_loader_features(g.l);
	enum kspan_flavor plan = kspan_features_plan(f, NULL, 0);
	char line[128];

	(void)state;
	assert_int_equal(kspan_loader_flavor_id(g.l), plan);
	snprintf(line, sizeof(line), "hook flavor: %s (", kspan_flavor_name(plan));
	assert_non_null(strstr(g.log, line));
	if (!f->f[KSPAN_FEAT_FENTRY].ok && !f->f[KSPAN_FEAT_KPROBE].ok) {
		assert_string_equal(kspan_loader_flavor(g.l), "tracepoint");
		assert_non_null(strstr(kspan_loader_reason(g.l), "fentry unavailable: "));
		assert_non_null(strstr(kspan_loader_reason(g.l), "kprobe unavailable: "));
	}
}

static void test_loader_rejects_bad_options(void **state)
{
	struct kspan_loader_opts big = { .capture_bytes = KSPAN_MAX_CAPTURE + 1 };
	struct kspan_loader_opts ring = { .ring_bytes = 3 << 12 };
	struct kspan_loader *l;

	(void)state;
	errno = 0;
	assert_null(kspan_loader_open(&big));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(kspan_loader_open(&ring));
	assert_int_equal(errno, EINVAL);
	l = kspan_loader_open(NULL);
	assert_non_null(l);
	/* Nothing is loaded before attach. */
	assert_int_equal(kspan_loader_add_target(l, getpid()), -EINVAL);
	assert_int_equal(kspan_loader_ring_fd(l), -EINVAL);
	assert_string_equal(kspan_loader_flavor(l), "none");
	kspan_loader_destroy(l);
	kspan_loader_destroy(NULL);
	assert_int_equal(kspan_loader_attach(g.l), -EALREADY);
}

/*
 * Every captured syscall on one loopback connection, in this process (a target):
 * the exact records, in order. Files and pipes used in between are not reported.
 */
static void exchange(int family, int nonblock)
{
	__u32 me = getpid();
	char buf[256], big[100], a[4], b[16];
	struct iovec out3[3] = { { "abc", 3 }, { "defg", 4 }, { "hi", 2 } };
	struct iovec in2[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec out2[2] = { { "GET ", 4 }, { "/x", 2 } };
	struct iovec in1 = { buf, sizeof(buf) };
	struct msghdr mout = { .msg_iov = out2, .msg_iovlen = 2 };
	struct msghdr min = { .msg_iov = &in1, .msg_iovlen = 1 };
	__u64 ccookie, scookie, trunc0, fault0;
	int file = temp_file("0123456789"), pipefd[2], i;
	struct pair p;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = 'A' + i % 26;
	assert_int_equal(pipe(pipefd), 0);
	trunc0 = drop_count(KSPAN_DROP_TRUNCATED);
	fault0 = drop_count(KSPAN_DROP_READ_FAULT);
	collect();
	assert_int_equal(kspan_loader_add_target(g.l, me), 0);

	open_pair(family, nonblock, &p);
	assert_int_equal(write(p.client, "hello", 5), 5);
	assert_int_equal(read(p.server, buf, sizeof(buf)), 5);
	assert_int_equal(send(p.client, "ping", 4, 0), 4);
	assert_int_equal(recv(p.server, buf, sizeof(buf), 0), 4);
	assert_int_equal(writev(p.client, out3, 3), 9);
	assert_int_equal(recv(p.server, buf, 9, MSG_PEEK | MSG_WAITALL), 9);
	assert_int_equal(readv(p.server, in2, 2), 9);
	assert_int_equal(sendmsg(p.client, &mout, 0), 6);
	assert_int_equal(recv(p.server, buf, 6, MSG_PEEK | MSG_WAITALL), 6);
	assert_int_equal(recvmsg(p.server, &min, 0), 6);
	assert_int_equal(sendfile(p.client, file, NULL, 10), 10);
	assert_int_equal(recv(p.server, buf, 10, MSG_PEEK | MSG_WAITALL), 10);
	assert_int_equal(read(p.server, buf, sizeof(buf)), 10);
	assert_int_equal(write(p.client, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(recv(p.server, buf, sizeof(big), MSG_PEEK | MSG_WAITALL), sizeof(big));
	assert_int_equal(read(p.server, buf, sizeof(buf)), (ssize_t)sizeof(big));
	/* Files and pipes of a target are not sockets: nothing is reported for them. */
	assert_int_equal(write(pipefd[1], "pipe", 4), 4);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 4);
	assert_int_equal(read(file, buf, sizeof(buf)), 0);
	assert_int_equal(write(file, "more", 4), 4);
	close(pipefd[0]);
	close(pipefd[1]);
	close(file);

	collect();
	i = 0;
	ccookie = check_conn(nth(me, i++, KSPAN_REC_CONN), p.client, KSPAN_ROLE_CLIENT);
	scookie = check_conn(nth(me, i++, KSPAN_REC_CONN), p.server, KSPAN_ROLE_SERVER);
	assert_true(ccookie != scookie);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE,
		   ccookie, 5, "hello", 5);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_READ,
		   scookie, 5, "hello", 5);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_SENDTO,
		   ccookie, 4, "ping", 4);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM,
		   scookie, 4, "ping", 4);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_WRITEV,
		   ccookie, 9, "abcdefghi", 9);
	/* The MSG_PEEK recv, which waits for all the bytes, is a recvfrom too. */
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM,
		   scookie, 9, "abcdefghi", 9);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_READV,
		   scookie, 9, "abcdefghi", 9);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_SENDMSG,
		   ccookie, 6, "GET /x", 6);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM,
		   scookie, 6, "GET /x", 6);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVMSG,
		   scookie, 6, "GET /x", 6);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_SENDFILE,
		   ccookie, 10, NULL, 0);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM,
		   scookie, 10, "0123456789", 10);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_READ,
		   scookie, 10, "0123456789", 10);
	/* Past capture_bytes: the full length, the first CAPTURE bytes, a TRUNCATED drop. */
	check_data(nth(me, i++, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE,
		   ccookie, sizeof(big), big, CAPTURE);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM,
		   scookie, sizeof(big), big, CAPTURE);
	check_data(nth(me, i++, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_READ,
		   scookie, sizeof(big), big, CAPTURE);
	assert_int_equal(count_tgid(me), i);
	assert_int_equal(drop_count(KSPAN_DROP_TRUNCATED) - trunc0, 3);
	assert_int_equal(drop_count(KSPAN_DROP_READ_FAULT) - fault0, 0);

	close(p.client);
	close(p.server);
	close(p.listener); /* never used for I/O: not a connection, no CLOSE */
	collect();
	check_close(nth(me, 0, KSPAN_REC_CLOSE), p.client, ccookie);
	check_close(nth(me, 1, KSPAN_REC_CLOSE), p.server, scookie);
	assert_int_equal(count_tgid(me), 2);
	assert_int_equal(kspan_loader_remove_target(g.l, me), 0);
}

static void test_ipv4_exchange_records(void **state)
{
	(void)state;
	exchange(AF_INET, 0);
}

/* IPv6, with a non-blocking connect (EINPROGRESS still makes a CLIENT CONN). */
static void test_ipv6_exchange_records(void **state)
{
	(void)state;
	exchange(AF_INET6, 1);
}

static void test_connection_opened_before_tracing(void **state)
{
	__u32 me = getpid();
	__u64 ccookie, scookie;
	char buf[16];
	struct pair p;

	(void)state;
	open_pair(AF_INET, 0, &p);
	collect();
	assert_int_equal(count_tgid(me), 0); /* not a target yet */
	assert_int_equal(kspan_loader_add_target(g.l, me), 0);
	assert_int_equal(write(p.client, "late", 4), 4);
	assert_int_equal(read(p.server, buf, sizeof(buf)), 4);
	assert_int_equal(write(p.client, "again", 5), 5);
	collect();
	/* First I/O on each socket: a CONN with role UNKNOWN, then the data; once only. */
	ccookie = check_conn(nth(me, 0, KSPAN_REC_CONN), p.client, KSPAN_ROLE_UNKNOWN);
	check_data(nth(me, 1, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE, ccookie,
		   4, "late", 4);
	scookie = check_conn(nth(me, 2, KSPAN_REC_CONN), p.server, KSPAN_ROLE_UNKNOWN);
	check_data(nth(me, 3, KSPAN_REC_DATA), p.server, KSPAN_DIR_INGRESS, KSPAN_IO_READ, scookie,
		   4, "late", 4);
	check_data(nth(me, 4, KSPAN_REC_DATA), p.client, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE, ccookie,
		   5, "again", 5);
	assert_int_equal(count_tgid(me), 5);
	close_pair(&p);
	collect();
	check_close(nth(me, 0, KSPAN_REC_CLOSE), p.client, ccookie);
	check_close(nth(me, 1, KSPAN_REC_CLOSE), p.server, scookie);
	assert_int_equal(count_tgid(me), 2);
	assert_int_equal(kspan_loader_remove_target(g.l, me), 0);
}

/* Runs in a child: connect to port on 127.0.0.1, write msg, close, _exit(code). */
static void child_send(int port, const char *msg, int code)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = strlen(msg);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (void *)&in, sizeof(in)) || write(fd, msg, len) != (ssize_t)len)
		_exit(100);
	close(fd);
	_exit(code);
}

static int listener_port(int fd)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);

	assert_int_equal(getsockname(fd, (void *)&in, &len), 0);
	return ntohs(in.sin_port);
}

/* Accept one connection, read exactly len bytes, close. */
static void accept_and_read(int listener, size_t len)
{
	char buf[64];
	int fd = accept(listener, NULL, NULL);

	assert_true(fd >= 0);
	assert_int_equal(recv(fd, buf, len, MSG_WAITALL), (ssize_t)len);
	close(fd);
}

static int wait_exit(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_other_processes_are_not_reported(void **state)
{
	struct sockaddr_storage addr;
	int listener, go[2];
	__u32 me = getpid();
	socklen_t len;
	pid_t child;
	char c;

	(void)state;
	listener = listen_on(AF_INET, &addr, &len);
	assert_int_equal(pipe(go), 0);
	child = fork(); /* before we are a target: the child is not one */
	assert_true(child >= 0);
	if (child == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(101);
		child_send(listener_port(listener), "not traced", 0);
	}
	collect();
	assert_int_equal(kspan_loader_add_target(g.l, me), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	accept_and_read(listener, 10);
	assert_int_equal(wait_exit(child), 0);
	collect();
	assert_int_equal(count_tgid(child), 0);
	/* Our side of it is: CONN SERVER, the read, the close. */
	assert_int_equal(count_tgid(me), 3);
	assert_false(kspan_loader_is_target(g.l, child));
	assert_int_equal(kspan_loader_remove_target(g.l, me), 0);
	close(go[0]);
	close(go[1]);
	close(listener);
}

static void test_forked_child_is_traced_until_exit(void **state)
{
	const struct kspan_proc_rec *fork_rec, *exit_rec;
	const struct kspan_conn_rec *conn;
	const struct kspan_data_rec *d;
	struct sockaddr_storage addr;
	__u32 me = getpid();
	socklen_t len;
	int listener;
	pid_t child;

	(void)state;
	listener = listen_on(AF_INET, &addr, &len);
	collect();
	assert_int_equal(kspan_loader_add_target(g.l, me), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		child_send(listener_port(listener), "from-child", 7);
	accept_and_read(listener, 10);
	assert_int_equal(wait_exit(child), 7);
	collect();

	fork_rec = find_proc(child, KSPAN_PROC_FORK);
	assert_int_equal(fork_rec->ppid, me);
	assert_int_equal(fork_rec->hdr.size, sizeof(*fork_rec));
	assert_string_equal(fork_rec->comm, "test_capture");
	conn = nth(child, 1, KSPAN_REC_CONN);
	assert_int_equal(conn->role, KSPAN_ROLE_CLIENT);
	assert_int_equal(conn->remote.port, listener_port(listener));
	d = nth(child, 2, KSPAN_REC_DATA);
	assert_int_equal(d->len, 10);
	assert_int_equal(d->captured, 10);
	assert_memory_equal(d->data, "from-child", 10);
	assert_int_equal(
		((const struct kspan_close_rec *)nth(child, 3, KSPAN_REC_CLOSE))->sock_cookie,
		conn->sock_cookie);
	exit_rec = find_proc(child, KSPAN_PROC_EXIT);
	assert_int_equal(exit_rec->exit_code, 7 << 8); /* the kernel's wait status */
	assert_int_equal(count_tgid(child), 5); /* FORK, CONN, DATA, CLOSE, EXIT */
	assert_false(kspan_loader_is_target(g.l, child)); /* the kernel forgot it */
	assert_int_equal(kspan_loader_remove_target(g.l, me), 0);
	close(listener);
}

/* The path of a program built from tests/servers/, next to this test's build dir. */
static void server_path(const char *name, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	snprintf(out, size, "%s/../servers/%s", dirname(self), name);
}

static void test_watched_executable_becomes_target(void **state)
{
	const struct kspan_proc_rec *exec_rec, *exit_rec;
	const struct kspan_data_rec *d;
	struct sockaddr_storage addr;
	char path[PATH_MAX], port[16];
	__u32 me = getpid();
	struct stat st;
	socklen_t len;
	int listener;
	pid_t child;

	(void)state;
	server_path("tcp_send", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(kspan_loader_watch_exe(g.l, st.st_dev, st.st_ino), 0);
	listener = listen_on(AF_INET, &addr, &len);
	snprintf(port, sizeof(port), "%d", listener_port(listener));
	collect();
	child = fork(); /* we are not a target: the child is one only once it execs */
	assert_true(child >= 0);
	if (child == 0) {
		execl(path, "tcp_send", "127.0.0.1", port, "watched", (char *)NULL);
		_exit(102);
	}
	accept_and_read(listener, 7);
	assert_int_equal(wait_exit(child), 0);
	collect();

	assert_int_equal(count_tgid(me), 0);
	exec_rec = nth(child, 0, KSPAN_REC_PROC);
	assert_int_equal(exec_rec->kind, KSPAN_PROC_EXEC);
	assert_string_equal(exec_rec->comm, "tcp_send");
	assert_int_equal(((const struct kspan_conn_rec *)nth(child, 1, KSPAN_REC_CONN))->role,
			 KSPAN_ROLE_CLIENT);
	d = nth(child, 2, KSPAN_REC_DATA);
	assert_int_equal(d->len, 7);
	assert_memory_equal(d->data, "watched", 7);
	nth(child, 3, KSPAN_REC_CLOSE);
	exit_rec = nth(child, 4, KSPAN_REC_PROC);
	assert_int_equal(exit_rec->kind, KSPAN_PROC_EXIT);
	assert_int_equal(exit_rec->exit_code, 0);
	assert_int_equal(count_tgid(child), 5);
	assert_false(kspan_loader_is_target(g.l, child));
	close(listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_cmd_prints_features_and_plan),
		cmocka_unit_test(test_every_flavor_passes_the_verifier),
		cmocka_unit_test(test_loader_chooses_and_logs_the_flavor),
		cmocka_unit_test(test_loader_rejects_bad_options),
		cmocka_unit_test(test_ipv4_exchange_records),
		cmocka_unit_test(test_ipv6_exchange_records),
		cmocka_unit_test(test_connection_opened_before_tracing),
		cmocka_unit_test(test_other_processes_are_not_reported),
		cmocka_unit_test(test_forked_child_is_traced_until_exit),
		cmocka_unit_test(test_watched_executable_becomes_target),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
