/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf/kspan.h: the ABI between the kernel programs (bpf/kspan.bpf.c) and the
 * agent: the records the programs put in the ring buffer, the drop reasons
 * they count, and the sizes they are built with.
 *
 * Fixed-size types only, no includes: BPF code gets __u8..__u64 from
 * vmlinux.h, userspace from <linux/types.h>, included before this header.
 * Every record starts with struct kspan_hdr; padding is explicit and zero.
 * Bump KSPAN_ABI_VERSION on any change of layout or meaning.
 */
#ifndef KSPAN_BPF_KSPAN_H
#define KSPAN_BPF_KSPAN_H

#define KSPAN_ABI_VERSION 3

/* Largest payload copy per syscall; the run-time limit (capture_bytes) may be lower. */
#define KSPAN_MAX_CAPTURE 4096
/* iovecs copied at most per readv/writev/recvmsg/sendmsg (bounded loop). */
#define KSPAN_MAX_IOV 8

enum kspan_rec_type {
	KSPAN_REC_CONN = 1, /* a socket became known: accept, connect, or first I/O seen */
	KSPAN_REC_DATA = 2, /* bytes moved on a socket */
	KSPAN_REC_CLOSE = 3, /* a socket fd was closed */
	KSPAN_REC_PROC = 4, /* fork, exec, exit of a process in the target set */
	KSPAN_REC_USDT = 5, /* an otel:* USDT probe of <otel/usdt.h> fired in a target */
	KSPAN_REC_SQLITE = 6, /* a libsqlite3 call of a target (struct kspan_sqlite_rec) */
};

enum kspan_role {
	KSPAN_ROLE_UNKNOWN = 0, /* first seen mid-stream: classify from the bytes */
	KSPAN_ROLE_SERVER = 1, /* accepted */
	KSPAN_ROLE_CLIENT = 2, /* connected */
};

enum kspan_dir {
	KSPAN_DIR_INGRESS = 1, /* read, recv*: bytes into the process */
	KSPAN_DIR_EGRESS = 2, /* write, send*, sendfile: bytes out of the process */
};

/* The syscall a DATA record came from (for diagnostics and sendfile handling). */
enum kspan_io_call {
	KSPAN_IO_READ = 1,
	KSPAN_IO_WRITE,
	KSPAN_IO_READV,
	KSPAN_IO_WRITEV,
	KSPAN_IO_RECVFROM,
	KSPAN_IO_SENDTO,
	KSPAN_IO_RECVMSG,
	KSPAN_IO_SENDMSG,
	KSPAN_IO_SENDFILE, /* no payload: the bytes come from a file */
	KSPAN_IO_SSL_READ, /* plaintext SSL_read/SSL_read_ex returned (dir INGRESS) */
	KSPAN_IO_SSL_WRITE, /* plaintext SSL_write/SSL_write_ex took (dir EGRESS) */
};

enum kspan_proc_kind {
	KSPAN_PROC_FORK = 1, /* pid is the new child, ppid its parent (a target) */
	KSPAN_PROC_EXEC = 2,
	KSPAN_PROC_EXIT = 3, /* the whole thread group exited */
	KSPAN_PROC_THREAD_EXIT = 4, /* one thread (hdr.tid) of a target exited, others remain */
};

/*
 * The otel:* probes of <otel/usdt.h>; the attach cookie of each probe is its
 * value here, and kspan_usdt_rec.probe carries it back.
 */
enum kspan_usdt_probe {
	KSPAN_USDT_SPAN_START = 1, /* str1 name, num kind */
	KSPAN_USDT_SPAN_END, /* no arguments */
	KSPAN_USDT_ATTR_STR, /* str1 key, str2 value */
	KSPAN_USDT_ATTR_INT, /* str1 key, num value */
	KSPAN_USDT_ATTR_DOUBLE, /* str1 key, num the IEEE-754 bits of the value */
	KSPAN_USDT_ATTR_BOOL, /* str1 key, num 0 or 1 */
	KSPAN_USDT_EVENT, /* str1 name */
	KSPAN_USDT_STATUS, /* num code, str2 description */
	KSPAN_USDT_EXCEPTION, /* str1 type, str2 message */
	KSPAN_USDT_PROBE_MAX = KSPAN_USDT_EXCEPTION,
};

/* String arguments copied per USDT record (NUL included; longer ones are cut). */
#define KSPAN_USDT_STR1_MAX 128 /* names, keys, exception types */
#define KSPAN_USDT_STR2_MAX 256 /* values, descriptions, messages */

/* Why a record was not delivered; counted in the per-CPU drops map, index = reason. */
enum kspan_drop_reason {
	KSPAN_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	KSPAN_DROP_TRUNCATED = 1, /* payload longer than capture_bytes (record sent, bytes cut) */
	KSPAN_DROP_READ_FAULT = 2, /* bpf_probe_read_user failed (record sent without bytes) */
	KSPAN_DROP_ARGS_MISSING = 3, /* a sys_exit without its sys_enter whose arguments could not be
				      * read back from the saved user registers */
	KSPAN_DROP_MAX = 4,
};

struct kspan_hdr {
	__u16 version; /* KSPAN_ABI_VERSION */
	__u16 type; /* enum kspan_rec_type */
	__u32 size; /* bytes of the whole record, header included */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 tgid; /* process */
	__u32 tid; /* thread */
};

/* An IPv4 (mapped into ::ffff:a.b.c.d) or IPv6 address and port, host byte order port. */
struct kspan_addr {
	__u8 addr[16];
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 port;
	__u32 pad;
};

struct kspan_conn_rec {
	struct kspan_hdr hdr;
	__s32 fd;
	__u32 role; /* enum kspan_role */
	__u64 sock_cookie; /* identifies the socket while it lives (its address, mixed) */
	struct kspan_addr local;
	struct kspan_addr remote;
};

struct kspan_data_rec {
	struct kspan_hdr hdr;
	__s32 fd;
	__u16 dir; /* enum kspan_dir */
	__u16 call; /* enum kspan_io_call */
	__u64 sock_cookie;
	__u64 start_ns; /* sys_enter time: with hdr.ts_ns (sys_exit) the syscall's span */
	__u32 len; /* bytes the syscall moved (its return value) */
	__u32 captured; /* bytes of payload that follow (<= len, <= capture_bytes) */
	__u8 data[]; /* captured bytes, record size rounded up to 8 */
};

struct kspan_close_rec {
	struct kspan_hdr hdr;
	__s32 fd;
	__u32 pad;
	__u64 sock_cookie;
};

struct kspan_proc_rec {
	struct kspan_hdr hdr; /* tgid: the process concerned (the child for FORK) */
	__u32 kind; /* enum kspan_proc_kind */
	__u32 ppid; /* parent for FORK, 0 otherwise */
	__s32 exit_code; /* EXIT only */
	__u32 pad;
	char comm[16];
};

/*
 * A USDT probe fired. Strings are NUL-terminated inside their arrays (empty
 * when the probe has no such argument or passed NULL); bytes after the NUL
 * are zero. num is the probe's integer argument (see enum kspan_usdt_probe).
 */
struct kspan_usdt_rec {
	struct kspan_hdr hdr;
	__u32 probe; /* enum kspan_usdt_probe */
	__u32 flags; /* KSPAN_USDT_F_* */
	__s64 num;
	char str1[KSPAN_USDT_STR1_MAX];
	char str2[KSPAN_USDT_STR2_MAX];
};

#define KSPAN_USDT_F_STR1_CUT (1u << 0) /* str1 filled its array: possibly cut */
#define KSPAN_USDT_F_STR2_CUT (1u << 1)
#define KSPAN_USDT_F_READ_FAULT (1u << 2) /* a string argument could not be read */

#endif /* KSPAN_BPF_KSPAN_H */
