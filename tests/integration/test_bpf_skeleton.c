// SPDX-License-Identifier: Apache-2.0
/*
 * tests/integration/test_bpf_skeleton.c: end-to-end check of the BPF pipeline
 * with bpf/hello.bpf.c: open the generated skeleton, configure a const volatile
 * global, load (verifier), attach a syscall tracepoint, and read back both a map
 * and ring buffer events. Needs root and a real kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "hello.h"
#include "hello.skel.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_counts_and_streams_getppid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
