// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/hello.bpf.c: the smallest real program, to exercise the build pipeline
 * (clang -target bpf, bpftool gen object/skeleton) and the load/attach path.
 * On getppid() by the target process it counts the call and sends an event.
 * Tested by tests/integration/test_bpf_skeleton.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "hello.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace between open and load; 0 matches nothing. */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int handle_getppid(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u32 key = 0;
	struct hello_event *e;
	__u64 *count;

	if (tgid != target_tgid)
		return 0;

	count = bpf_map_lookup_elem(&calls, &key);
	if (count)
		__sync_fetch_and_add(count, 1);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->version = HELLO_EVENT_VERSION;
	e->tgid = tgid;
	e->tid = (__u32)id;
	e->pad = 0;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
