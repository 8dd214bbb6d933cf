// SPDX-License-Identifier: Apache-2.0
/*
 * tests/integration/test_bpf_skeleton.c: end-to-end check of the BPF pipeline
 * with bpf/hello.bpf.c: open the generated skeleton, configure a const volatile
 * global, load (verifier), attach a syscall tracepoint, and read back both a map
 * and ring buffer events. Then the socket flavor of bpf/kspan.bpf.c (no syscall hook):
 * its programs pass the verifier, and attached through userspace/loader.c they report
 * the exact records of a loopback exchange, repair a close they could not see, and
 * count the syscalls they cannot read. Needs root and a real kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "hello.h"
#include "hello.skel.h"
#include "kspan.h"
#include "ring_recs.h"
#include "feature_probe.h"
#include "loader.h"
#include "tracefs.h"

#define NCALLS 5

struct seen {
	int events;
	int wrong_pid;
	int bad_version;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct seen *seen = ctx;
	const struct hello_event *e = data;

	if (size < sizeof(*e) || e->version != HELLO_EVENT_VERSION) {
		seen->bad_version++;
		return 0;
	}
	if (e->tgid != (__u32)getpid() || e->tid != (__u32)syscall(SYS_gettid))
		seen->wrong_pid++;
	seen->events++;
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void test_hello_counts_and_streams_getppid(void **state)
{
	struct seen seen = { 0 };
	struct ring_buffer *rb = NULL;
	struct hello *skel;
	__u64 count = 0;
	__u32 key = 0;
	int err, i;

	(void)state;
	libbpf_set_print(libbpf_print);
	assert_int_equal(geteuid(), 0); /* loading BPF and mounting tracefs need root */
	assert_int_equal(test_tracefs_ensure(), 0);

	skel = hello__open();
	assert_non_null(skel);
	skel->rodata->target_tgid = getpid();

	err = hello__load(skel);
	if (err)
		fprintf(stderr, "hello__load: %s\n", strerror(-err));
	assert_int_equal(err, 0);

	err = hello__attach(skel);
	if (err)
		fprintf(stderr, "hello__attach: %s\n", strerror(-err));
	assert_int_equal(err, 0);

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &seen, NULL);
	assert_non_null(rb);

	/* The raw syscall: glibc might cache or vDSO-ify getppid some day. */
	for (i = 0; i < NCALLS; i++)
		syscall(SYS_getppid);

	err = ring_buffer__consume(rb);
	assert_true(err >= 0);
	assert_int_equal(seen.events, NCALLS);
	assert_int_equal(seen.wrong_pid, 0);
	assert_int_equal(seen.bad_version, 0);

	err = bpf_map__lookup_elem(skel->maps.calls, &key, sizeof(key), &count, sizeof(count), 0);
	assert_int_equal(err, 0);
	assert_int_equal(count, NCALLS);

	ring_buffer__free(rb);
	hello__destroy(skel);
}

/* ------------------------------------------------------------------ socket flavor */


static struct {
	struct kspan_loader *l;
	struct ring_buffer *rb;
	struct ring_recs got;
} sk;

static void collect(void)
{
	assert_true(ring_recs_collect(&sk.got, sk.rb) >= 0);
}

static bool socket_flavor_available(void)
{
	struct kspan_features f;

	kspan_features_probe(&f);
	return f.f[KSPAN_FEAT_SOCK_TP].ok;
}

static void test_socket_flavor_passes_the_verifier(void **state)
{
	char err[512] = "";
	int ret;

	(void)state;
	if (!socket_flavor_available())
		skip(); /* before 6.3, or not x86-64 */
	ret = kspan_loader_verify_flavor(NULL, KSPAN_FLAVOR_SOCKET, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(ret, 0);
}

static void no_log(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static int socket_setup(void **state)
{
	struct kspan_loader_opts opts = { .capture_bytes = 64,
					  .flavor = KSPAN_FLAVOR_SOCKET,
					  .log = no_log };

	(void)state;
	if (!socket_flavor_available())
		return 0; /* the tests skip */
	sk.l = kspan_loader_open(&opts);
	if (!sk.l || kspan_loader_attach(sk.l))
		return -1;
	sk.rb = ring_buffer__new(kspan_loader_ring_fd(sk.l), ring_recs_keep, &sk.got, NULL);
	if (!sk.rb || kspan_loader_add_target(sk.l, getpid()))
		return -1;
	return 0;
}

static int socket_teardown(void **state)
{
	(void)state;
	ring_recs_forget(&sk.got);
	ring_buffer__free(sk.rb);
	kspan_loader_destroy(sk.l);
	memset(&sk, 0, sizeof(sk));
	return 0;
}

static int listen_loopback(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (void *)addr, sizeof(*addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (void *)addr, &len), 0);
	return fd;
}

static int connect_to(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const void *)addr, sizeof(*addr)), 0);
	return fd;
}

static const struct kspan_hdr *rec_at(size_t i, __u16 type)
{
	const struct kspan_hdr *h;

	if (i >= sk.got.n)
		fail_msg("record %zu missing (%zu records)", i, sk.got.n);
	h = sk.got.recs[i];
	assert_int_equal(h->version, KSPAN_ABI_VERSION);
	assert_int_equal(h->tgid, (__u32)getpid());
	assert_int_equal(h->type, type);
	return h;
}

/* CONN i: fd, role and the socket's own ports; returns its cookie. */
static __u64 conn_at(size_t i, int fd, __u32 role)
{
	const struct kspan_conn_rec *c = (const void *)rec_at(i, KSPAN_REC_CONN);
	struct sockaddr_in local, peer;
	socklen_t len = sizeof(local);

	assert_int_equal(getsockname(fd, (void *)&local, &len), 0);
	len = sizeof(peer);
	assert_int_equal(getpeername(fd, (void *)&peer, &len), 0);
	assert_int_equal(c->fd, fd);
	assert_int_equal(c->role, role);
	assert_int_equal(c->local.family, AF_INET);
	assert_int_equal(c->local.port, ntohs(local.sin_port));
	assert_int_equal(c->remote.port, ntohs(peer.sin_port));
	assert_memory_equal(c->remote.addr + 12, &peer.sin_addr, 4);
	assert_true(c->sock_cookie != 0);
	return c->sock_cookie;
}

/* DATA i: exactly these fields and captured bytes (bytes NULL: none captured). */
static const struct kspan_data_rec *data_at(size_t i, int fd, __u16 dir, __u16 call, __u64 cookie,
					    __u32 len, const char *bytes)
{
	const struct kspan_data_rec *d = (const void *)rec_at(i, KSPAN_REC_DATA);
	__u32 captured = bytes ? strlen(bytes) : 0;

	assert_int_equal(d->fd, fd);
	assert_int_equal(d->dir, dir);
	assert_int_equal(d->call, call);
	assert_int_equal(d->sock_cookie, cookie);
	assert_int_equal(d->len, len);
	assert_int_equal(d->captured, captured);
	assert_memory_equal(d->data, bytes ? bytes : "", captured);
	assert_true(d->start_ns > 0 && d->start_ns <= d->hdr.ts_ns);
	return d;
}

static void close_at(size_t i, int fd, __u64 cookie)
{
	const struct kspan_close_rec *c = (const void *)rec_at(i, KSPAN_REC_CLOSE);

	assert_int_equal(c->fd, fd);
	assert_int_equal(c->sock_cookie, cookie);
}

static __u64 drops(enum kspan_drop_reason reason)
{
	__u64 d[KSPAN_DROP_MAX];

	assert_int_equal(kspan_loader_drops(sk.l, d), 0);
	return d[reason];
}

/*
 * Connect, accept, a request, a response by sendfile, both closes: each socket's CONN
 * at its first I/O (CLIENT: seen connecting; SERVER: accepted, nothing moved before),
 * the data with the syscall the saved registers name, a CLOSE per close(2).
 */
static void test_socket_flavor_records_an_exchange(void **state)
{
	char path[] = "/tmp/kspan-skel-XXXXXX", buf[64];
	__u64 ccookie, scookie;
	struct sockaddr_in addr;
	int lfd, c, s, file;

	(void)state;
	if (!sk.l)
		skip();
	file = mkstemp(path);
	assert_true(file >= 0);
	unlink(path);
	assert_int_equal(write(file, "0123456789", 10), 10); /* a file: not reported */
	assert_int_equal(lseek(file, 0, SEEK_SET), 0);
	lfd = listen_loopback(&addr);
	c = connect_to(&addr);
	s = accept(lfd, NULL, NULL);
	assert_true(s >= 0);
	collect();
	assert_int_equal(sk.got.n, 0); /* nothing before the first I/O */

	assert_int_equal(write(c, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	assert_int_equal(read(s, buf, sizeof(buf)), 18);
	assert_int_equal(sendfile(s, file, NULL, 10), 10);
	assert_int_equal(recv(c, buf, 10, MSG_WAITALL), 10);
	collect();
	ccookie = conn_at(0, c, KSPAN_ROLE_CLIENT);
	data_at(1, c, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE, ccookie, 18, "GET / HTTP/1.1\r\n\r\n");
	scookie = conn_at(2, s, KSPAN_ROLE_SERVER);
	assert_true(scookie != ccookie);
	data_at(3, s, KSPAN_DIR_INGRESS, KSPAN_IO_READ, scookie, 18, "GET / HTTP/1.1\r\n\r\n");
	data_at(4, s, KSPAN_DIR_EGRESS, KSPAN_IO_SENDFILE, scookie, 10, NULL);
	data_at(5, c, KSPAN_DIR_INGRESS, KSPAN_IO_RECVFROM, ccookie, 10, "0123456789");
	assert_int_equal(sk.got.n, 6);

	close(c);
	close(s);
	close(lfd); /* never used for I/O: not a connection, no CLOSE */
	close(file);
	collect();
	close_at(0, c, ccookie);
	close_at(1, s, scookie);
	assert_int_equal(sk.got.n, 2);
}

/*
 * close_range(2) is not close(2): that close goes unseen, and is reported when the fd
 * is next seen holding another socket, before that socket's CONN.
 */
static void test_socket_flavor_repairs_an_unseen_close(void **state)
{
	struct sockaddr_in addr;
	__u64 old, new;
	int lfd, c, c2, s, s2;

	(void)state;
	if (!sk.l)
		skip();
	lfd = listen_loopback(&addr);
	c = connect_to(&addr);
	s = accept(lfd, NULL, NULL);
	assert_int_equal(write(c, "one", 3), 3);
	collect();
	old = conn_at(0, c, KSPAN_ROLE_CLIENT);
	data_at(1, c, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE, old, 3, "one");
	assert_int_equal(sk.got.n, 2);

	assert_int_equal(syscall(SYS_close_range, c, c, 0), 0);
	c2 = connect_to(&addr);
	assert_int_equal(c2, c); /* the lowest free fd */
	s2 = accept(lfd, NULL, NULL);
	assert_int_equal(write(c2, "two", 3), 3);
	collect();
	close_at(0, c, old);
	new = conn_at(1, c2, KSPAN_ROLE_CLIENT);
	assert_true(new != old);
	data_at(2, c2, KSPAN_DIR_EGRESS, KSPAN_IO_WRITE, new, 3, "two");
	assert_int_equal(sk.got.n, 3);
	close(c2);
	close(s2);
	close(s);
	close(lfd);
	collect();
	close_at(0, c2, new); /* the accepted sockets never did I/O: no CONN, no CLOSE */
	assert_int_equal(sk.got.n, 1);
}

/* sendmmsg names no buffer in the registers: no record, an ARGS_MISSING drop. */
static void test_socket_flavor_counts_what_it_cannot_read(void **state)
{
	struct iovec iov = { "mm", 2 };
	struct mmsghdr mm = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	struct sockaddr_in addr;
	int lfd, c, s;
	__u64 before;

	(void)state;
	if (!sk.l)
		skip();
	lfd = listen_loopback(&addr);
	c = connect_to(&addr);
	s = accept(lfd, NULL, NULL);
	collect();
	before = drops(KSPAN_DROP_ARGS_MISSING);
	assert_int_equal(sendmmsg(c, &mm, 1, 0), 1);
	collect();
	assert_int_equal(sk.got.n, 0);
	assert_int_equal(drops(KSPAN_DROP_ARGS_MISSING) - before, 1);
	close(c);
	close(s);
	close(lfd);
	collect();
	assert_int_equal(sk.got.n, 0); /* never reported: no CLOSE either */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_counts_and_streams_getppid),
		cmocka_unit_test(test_socket_flavor_passes_the_verifier),
		cmocka_unit_test_setup_teardown(test_socket_flavor_records_an_exchange,
						socket_setup, socket_teardown),
		cmocka_unit_test_setup_teardown(test_socket_flavor_repairs_an_unseen_close,
						socket_setup, socket_teardown),
		cmocka_unit_test_setup_teardown(test_socket_flavor_counts_what_it_cannot_read,
						socket_setup, socket_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
