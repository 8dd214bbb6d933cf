/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf/hello.h: the event hello.bpf.c sends to userspace. It exists to prove
 * the BPF build pipeline (compile, link, skeleton, load, attach, ring buffer).
 *
 * Shared between BPF and userspace, so it uses fixed-size types only and
 * includes nothing: BPF code gets __u32/__u64 from vmlinux.h, userspace from
 * <linux/types.h>, included before this header.
 */
#ifndef KSPAN_BPF_HELLO_H
#define KSPAN_BPF_HELLO_H

#define HELLO_EVENT_VERSION 1

struct hello_event {
	__u32 version; /* HELLO_EVENT_VERSION */
	__u32 tgid; /* process (thread group) id */
	__u32 tid; /* kernel thread id */
	__u32 pad; /* explicit padding, always 0 */
	__u64 ts_ns; /* bpf_ktime_get_ns() at the syscall */
};

#endif /* KSPAN_BPF_HELLO_H */
