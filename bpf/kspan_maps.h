/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf/kspan_maps.h: keys and values of the maps userspace writes into
 * bpf/kspan.bpf.c (targets, watch_exe). Like kspan.h it is shared by both
 * sides, so fixed-size types only and no includes.
 */
#ifndef KSPAN_BPF_KSPAN_MAPS_H
#define KSPAN_BPF_KSPAN_MAPS_H

/* Capacity of the maps; the loader reports -E2BIG/-ENOSPC past them. */
#define KSPAN_MAX_TARGETS 16384
#define KSPAN_MAX_WATCH_EXE 64

/* targets: key __u32 tgid, value a mask of how the process became a target. */
enum kspan_target_origin {
	KSPAN_TARGET_USER = 1, /* written by the agent (--pid, --port, a /proc scan) */
	KSPAN_TARGET_FORK = 2, /* child of a target, added by the fork tracepoint */
	KSPAN_TARGET_EXEC = 4, /* exec of a watched executable (watch_exe) */
};

/*
 * watch_exe key: the executable's inode. dev is the kernel's internal dev_t
 * (major << 20 | minor, as in super_block.s_dev), not stat()'s st_dev encoding.
 */
struct kspan_exe_key {
	__u64 dev;
	__u64 ino;
};

#endif /* KSPAN_BPF_KSPAN_MAPS_H */
