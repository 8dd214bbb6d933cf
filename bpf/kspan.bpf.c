// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/kspan.bpf.c: the kernel side of the agent. Captures the TCP socket I/O of
 * target processes (the `targets` map) and sends kspan.h records through one
 * ring buffer: CONN (accept, connect, first I/O on a socket opened before we
 * looked), DATA (bounded payload copy), CLOSE, PROC (fork/exec/exit, which
 * also keep `targets` current in the kernel, without a round trip, and the exit of
 * one thread of a target), and USDT (an otel:* probe of <otel/usdt.h> fired).
 *
 * The same capture has four hook flavors; the loader (userspace/loader.c)
 * autoloads exactly one of them, chosen at run time:
 *   fentry/fexit on the syscall functions   programs fe_* / fx_*  (cheapest)
 *   kprobe/kretprobe on the syscall functions  ks_* / kr_*
 *   socket tracepoints (tp_btf, 6.3+, x86-64)  sk_*
 *   syscall tracepoints                        tp_enter_* / tp_exit_*
 * The first three cost nothing to threads that are not traced; syscall tracepoints
 * put every thread on the slow syscall path, so they are the fallback. The socket
 * flavor hooks no syscall: it sees each send/recv of a socket as it completes and
 * takes the syscall and its arguments from the task's saved user registers (see
 * "Flavor 4" below for what that does not see).
 * The proc_* programs (raw tracepoints) and kspan_usdt are loaded with every flavor.
 * kspan_usdt has no attach point of its own: userspace/usdt_attach.c attaches it to
 * each otel:* probe of each target, with the probe's enum kspan_usdt_probe as cookie.
 *
 * Every handler does the TGID check first and returns at once for others. The
 * enter half stashes the arguments per thread; the exit half uses the return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
/*
 * libbpf's USDT argument specs: one per distinct argument layout per attach (per probe,
 * file and process), so the default 256 would run out at ~28 instrumented processes.
 * usdt_attach.c keeps its links below this (KSPAN_USDT_MAX_LINKS). With BPF cookies
 * (5.15+) the IP map is unused; it is kept at its default for older kernels.
 */
#define BPF_USDT_MAX_SPEC_CNT 1024
#include <bpf/usdt.bpf.h>
#include "kspan.h"
#include "kspan_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Macros vmlinux.h cannot carry. */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115

/* Set by the loader between open and load. */
const volatile __u32 capture_bytes = 1024; /* clamped to KSPAN_MAX_CAPTURE below */
const volatile __u32 wakeup_every = 64; /* force a wake-up every Nth record; <= 1: always */

/* Calls the exit half handles besides the enum kspan_io_call data calls. */
enum {
	CALL_ACCEPT = 100,
	CALL_CONNECT,
	CALL_CLOSE,
	CALL_SEND_START, /* socket flavor: a TCP send began (start_ns) on socket sk */
};

/* What the enter half leaves for the exit half, per thread. */
struct call_args {
	__u64 start_ns;
	__u64 buf; /* buffer, iovec array or user_msghdr, by call */
	__u64 count; /* iovcnt for readv/writev */
	__u64 sk; /* struct sock * of a TCP socket fd (or of CALL_SEND_START), else 0 */
	__s32 fd;
	__u32 call;
};

/* A socket fd of a target, as known to userspace through a CONN record. */
struct fd_key {
	__u32 tgid;
	__s32 fd;
};

/*
 * What `known` keeps of that socket: the cookie its CONN carried and, with the socket
 * flavor, the kernel's own socket cookie, which is never reused: a socket at the
 * recycled address of one whose close went unseen is still told apart. 0 elsewhere.
 */
struct known_sock {
	__u64 cookie;
	__u64 gen;
};

/* The DATA record under construction: twice the largest copy, so the verifier can see
 * that a copy of at most KSPAN_MAX_CAPTURE bytes at an offset below it stays inside. */
#define DATA_AREA (2 * KSPAN_MAX_CAPTURE)
struct scratch {
	__u8 raw[sizeof(struct kspan_data_rec) + DATA_AREA];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KSPAN_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32); /* enum kspan_target_origin mask */
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KSPAN_MAX_WATCH_EXE);
	__type(key, struct kspan_exe_key);
	__type(value, __u32);
} watch_exe SEC(".maps");

/*
 * Per thread, in the task itself: no hashing, no LRU lock, nothing to delete (a thread
 * killed inside a syscall takes its entry along). call == 0: nothing stashed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_args);
} args SEC(".maps");

/* (tgid, fd) -> the socket reported in the last CONN; LRU: exits leave entries behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fd_key);
	__type(value, struct known_sock);
} known SEC(".maps");

/*
 * Socket flavor: sockets a target is connecting (kernel socket cookie -> 1), so that
 * their CONN, sent at the first I/O once the local address is bound, says CLIENT.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KSPAN_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wakeups SEC(".maps");

/* Size set by the loader (kspan_loader_opts.ring_bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* ------------------------------------------------------------------ helpers */

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		*n += 1;
}

/* Batched wake-ups: the agent also polls with a timeout, so a quiet ring never stalls. */
static __always_inline __u64 submit_flags(void)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&wakeups, &key);

	if (!n || wakeup_every <= 1)
		return BPF_RB_FORCE_WAKEUP;
	*n += 1;
	return *n % wakeup_every ? BPF_RB_NO_WAKEUP : BPF_RB_FORCE_WAKEUP;
}

static __always_inline bool is_target(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline void fill_hdr(struct kspan_hdr *h, __u16 type, __u32 size, __u64 id)
{
	h->version = KSPAN_ABI_VERSION;
	h->type = type;
	h->size = size;
	h->ts_ns = bpf_ktime_get_ns();
	h->tgid = id >> 32;
	h->tid = (__u32)id;
}

/*
 * The TCP socket behind fd in the current task, or NULL (not a socket, not
 * AF_INET/AF_INET6 stream, fd not open). Walks task->files->fdt->fd[fd]: the task's
 * own fields load directly through its BTF pointer (this runs on every captured syscall
 * of a target, and a helper call per field cost several times as much); past the fd
 * table CO-RE reads, because the direct form (the bpf_rdonly_cast kfunc) needs 6.2+.
 */
static __always_inline struct file *fd_to_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	/* fd[] is an array of pointers: the one read with a variable index. */
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]))
		return NULL;
	return file;
}

static __always_inline struct sock *fd_to_sock(int fd)
{
	struct file *file = fd_to_file(fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6 ? sk : NULL;
}

/*
 * The socket's identity for userspace. bpf_get_socket_cookie() needs a BTF socket
 * pointer, which tracepoint programs do not have, and skc_cookie stays 0 until someone
 * asks for it; so: the sock address through a bijective mix (unique while the socket
 * lives, and no kernel address leaves the kernel as such).
 */
static __always_inline __u64 sock_cookie(struct sock *sk)
{
	__u64 x = (__u64)sk;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static __always_inline void v4_mapped(__u8 out[16], __u32 addr_be)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &addr_be, 4);
}

static __always_inline void read_addrs(struct sock *sk, struct kspan_addr *local,
				       struct kspan_addr *remote)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	local->family = family;
	remote->family = family;
	local->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	remote->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr);
	} else {
		v4_mapped(local->addr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		v4_mapped(remote->addr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	}
}

/* ------------------------------------------------------------------ records */

/* gen: the kernel's socket cookie (socket flavor) or 0; see struct known_sock. */
static __always_inline void emit_conn(int fd, struct sock *sk, __u32 role, __u64 gen)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct fd_key key = { .tgid = id >> 32, .fd = fd };
	struct known_sock k = { .cookie = sock_cookie(sk), .gen = gen };
	__u64 cookie = k.cookie;
	struct kspan_conn_rec *r;

	bpf_map_update_elem(&known, &key, &k, BPF_ANY);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(KSPAN_DROP_RINGBUF_FULL);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	fill_hdr(&r->hdr, KSPAN_REC_CONN, sizeof(*r), id);
	r->fd = fd;
	r->role = role;
	r->sock_cookie = cookie;
	read_addrs(sk, &r->local, &r->remote);
	bpf_ringbuf_submit(r, submit_flags());
}

/* A socket first seen doing I/O (opened before we looked, or inherited): report it. */
static __always_inline __u64 ensure_known(int fd, struct sock *sk)
{
	struct fd_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	__u64 cookie = sock_cookie(sk);
	struct known_sock *seen = bpf_map_lookup_elem(&known, &key);

	if (!seen || seen->cookie != cookie)
		emit_conn(fd, sk, KSPAN_ROLE_UNKNOWN, 0);
	return cookie;
}

/* The CLOSE record of fd, whose socket had this cookie. */
static __always_inline void emit_close_rec(int fd, __u64 cookie)
{
	struct kspan_close_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_drop(KSPAN_DROP_RINGBUF_FULL);
		return;
	}
	fill_hdr(&r->hdr, KSPAN_REC_CLOSE, sizeof(*r), bpf_get_current_pid_tgid());
	r->fd = fd;
	r->pad = 0;
	r->sock_cookie = cookie;
	bpf_ringbuf_submit(r, submit_flags());
}

/*
 * fd of the current process was closed: if it was a known socket (the one of this
 * struct known_sock gen, unless only_gen is 0), forget it and say so.
 */
static __always_inline void emit_close(int fd, __u64 only_gen)
{
	struct fd_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct known_sock *k = bpf_map_lookup_elem(&known, &key);
	__u64 c;

	if (!k || (only_gen && k->gen != only_gen))
		return;
	c = k->cookie;
	bpf_map_delete_elem(&known, &key);
	emit_close_rec(fd, c);
}

/* Copy want (<= KSPAN_MAX_CAPTURE) bytes of one user buffer; returns the bytes copied. */
static __always_inline __u32 copy_flat(__u8 *data, __u64 buf, __u32 want, bool *fault)
{
	__u64 n = want;

	barrier_var(n); /* keep the bound check on the register the helper gets */
	if (n > KSPAN_MAX_CAPTURE)
		n = KSPAN_MAX_CAPTURE;
	if (bpf_probe_read_user(data, n, (const void *)buf)) {
		*fault = true;
		return 0;
	}
	return n;
}

/* Copy up to want bytes from at most KSPAN_MAX_IOV iovecs; returns the bytes copied. */
static __always_inline __u32 copy_iov(__u8 *data, __u64 iovp, __u64 iovcnt, __u32 want, bool *fault)
{
	const struct iovec *vec = (const struct iovec *)iovp;
	__u32 off = 0;
	int i;

	for (i = 0; i < KSPAN_MAX_IOV; i++) {
		struct iovec iov;
		__u64 n;

		if (i >= iovcnt || off >= want)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), &vec[i])) {
			*fault = true;
			break;
		}
		n = iov.iov_len;
		if (n > want - off)
			n = want - off;
		barrier_var(n);
		if (n > KSPAN_MAX_CAPTURE)
			n = KSPAN_MAX_CAPTURE;
		barrier_var(off);
		off &= KSPAN_MAX_CAPTURE - 1; /* a no-op (off < want): for the verifier */
		if (bpf_probe_read_user(data + off, n, iov.iov_base)) {
			*fault = true;
			break;
		}
		off += n;
	}
	return off;
}

static __always_inline __u16 call_dir(__u32 call)
{
	return call == KSPAN_IO_READ || call == KSPAN_IO_READV || call == KSPAN_IO_RECVFROM ||
			       call == KSPAN_IO_RECVMSG ?
		       KSPAN_DIR_INGRESS :
		       KSPAN_DIR_EGRESS;
}

static __always_inline void emit_data(const struct call_args *a, __u32 len, __u64 cookie)
{
	__u32 cap = capture_bytes < KSPAN_MAX_CAPTURE ? capture_bytes : KSPAN_MAX_CAPTURE;
	__u32 want = len < cap ? len : cap, got = 0, size, key = 0, i;
	struct kspan_data_rec *r;
	struct user_msghdr msg;
	bool fault = false;
	struct scratch *s;

	s = bpf_map_lookup_elem(&scratch, &key);
	if (!s)
		return;
	r = (struct kspan_data_rec *)s->raw;

	switch (a->call) {
	case KSPAN_IO_READ:
	case KSPAN_IO_WRITE:
	case KSPAN_IO_RECVFROM:
	case KSPAN_IO_SENDTO:
		got = copy_flat(r->data, a->buf, want, &fault);
		break;
	case KSPAN_IO_READV:
	case KSPAN_IO_WRITEV:
		got = copy_iov(r->data, a->buf, a->count, want, &fault);
		break;
	case KSPAN_IO_RECVMSG:
	case KSPAN_IO_SENDMSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)a->buf))
			fault = true;
		else
			got = copy_iov(r->data, (__u64)msg.msg_iov, msg.msg_iovlen, want, &fault);
		break;
	default: /* sendfile: the bytes come from a file, len only; nothing was cut */
		want = len;
		got = 0;
		break;
	}
	if (fault)
		count_drop(KSPAN_DROP_READ_FAULT);
	else if (a->call != KSPAN_IO_SENDFILE && (len > want || got < want))
		count_drop(KSPAN_DROP_TRUNCATED); /* past capture_bytes, or past KSPAN_MAX_IOV */

	got &= DATA_AREA - 1; /* got <= KSPAN_MAX_CAPTURE: for the verifier */
	for (i = 0; i < 8; i++) /* explicit zero padding up to the next 8 bytes */
		r->data[(got + i) & (DATA_AREA - 1)] = 0;
	size = (sizeof(*r) + got + 7) & ~7U;

	fill_hdr(&r->hdr, KSPAN_REC_DATA, size, bpf_get_current_pid_tgid());
	r->fd = a->fd;
	r->dir = call_dir(a->call);
	r->call = a->call;
	r->sock_cookie = cookie;
	r->start_ns = a->start_ns;
	r->len = len;
	r->captured = got;
	if (size > sizeof(*r) + KSPAN_MAX_CAPTURE + 8)
		return;
	if (bpf_ringbuf_output(&events, r, size, submit_flags()))
		count_drop(KSPAN_DROP_RINGBUF_FULL);
}

/* ------------------------------------------------------------------ enter / exit */

static __always_inline int on_enter(__u32 call, long fd, __u64 buf, __u64 count)
{
	struct call_args *a;

	if (!is_target(bpf_get_current_pid_tgid() >> 32))
		return 0;
	a = bpf_task_storage_get(&args, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->start_ns = bpf_ktime_get_ns();
	a->buf = buf;
	a->count = count;
	a->fd = (__s32)fd;
	a->call = call;
	/* The listening socket of accept is not a connection; close looks at `known`. */
	a->sk = call != CALL_ACCEPT && call != CALL_CLOSE ? (__u64)fd_to_sock(a->fd) : 0;
	return 0;
}

/*
 * The syscall the current thread is in and its first three arguments, from its saved
 * user registers: x86-64 passes the number in rax (kept in orig_ax) and fd, buf, count
 * in rdi, rsi, rdx, and the kernel leaves them there for the whole syscall. False
 * elsewhere, and for a 32-bit syscall (other numbers, other registers).
 */
struct user_call {
	__u64 nr;
	__u64 arg[3];
};

#define TS_COMPAT 0x0002 /* x86 thread_info.status: in a 32-bit syscall */

static __always_inline bool current_user_call(struct user_call *u)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;

	if (task->thread_info.status & TS_COMPAT)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	u->nr = regs->orig_ax;
	u->arg[0] = regs->di;
	u->arg[1] = regs->si;
	u->arg[2] = regs->dx;
	return true;
#else
	return false;
#endif
}

/*
 * A syscall that entered before the agent attached (a server blocked in read()
 * on a keep-alive connection) exits without its stashed arguments: they are read
 * back from the saved user registers. Where that is not possible the record is dropped.
 */
static __always_inline bool args_from_regs(__u32 call, struct call_args *a)
{
	struct user_call u;

	if (!current_user_call(&u))
		return false;
	a->fd = (__s32)u.arg[0];
	a->buf = u.arg[1];
	a->count = u.arg[2];
	a->call = call;
	a->start_ns = bpf_ktime_get_ns();
	a->sk = call != CALL_ACCEPT && call != CALL_CLOSE ? (__u64)fd_to_sock(a->fd) : 0;
	return true;
}

static __always_inline int on_exit(__u32 call, long ret)
{
	struct call_args *p, a = {};
	struct sock *sk;

	if (!is_target(bpf_get_current_pid_tgid() >> 32))
		return 0;
	p = bpf_task_storage_get(&args, bpf_get_current_task_btf(), NULL, 0);
	if (p && p->call) {
		a = *p;
		p->call = 0;
	} else if (!args_from_regs(call, &a)) {
		count_drop(KSPAN_DROP_ARGS_MISSING);
		return 0;
	}

	switch (a.call) {
	case CALL_ACCEPT:
		if (ret >= 0) {
			sk = fd_to_sock(ret);
			if (sk)
				emit_conn(ret, sk, KSPAN_ROLE_SERVER, 0);
		}
		break;
	case CALL_CONNECT:
		/* -EINPROGRESS: a non-blocking client; the addresses are set already. */
		if ((ret == 0 || ret == -EINPROGRESS) && a.sk)
			emit_conn(a.fd, (struct sock *)a.sk, KSPAN_ROLE_CLIENT, 0);
		break;
	case CALL_CLOSE:
		if (ret == 0)
			emit_close(a.fd, 0);
		break;
	default:
		if (ret > 0 && a.sk)
			emit_data(&a, (__u32)ret, ensure_known(a.fd, (struct sock *)a.sk));
		break;
	}
	return 0;
}

/*
 * One enter/exit pair per syscall and flavor. Every captured syscall takes fd first,
 * then the buffer (or iovec array, or msghdr), then a count: (fd, buf, count); nargs
 * says how many of those it has (a tracepoint program may not read past its record).
 */
#define CAPTURED_SYSCALLS(X)              \
	X(accept, CALL_ACCEPT, 1)         \
	X(accept4, CALL_ACCEPT, 1)        \
	X(connect, CALL_CONNECT, 1)       \
	X(close, CALL_CLOSE, 1)           \
	X(read, KSPAN_IO_READ, 3)         \
	X(write, KSPAN_IO_WRITE, 3)       \
	X(readv, KSPAN_IO_READV, 3)       \
	X(writev, KSPAN_IO_WRITEV, 3)     \
	X(recvfrom, KSPAN_IO_RECVFROM, 3) \
	X(sendto, KSPAN_IO_SENDTO, 3)     \
	X(recvmsg, KSPAN_IO_RECVMSG, 3)   \
	X(sendmsg, KSPAN_IO_SENDMSG, 3)   \
	X(sendfile64, KSPAN_IO_SENDFILE, 1) /* sendfile(2) on 64-bit */

/* Argument i (0-based) if the call uses it, else 0: a compile-time choice. */
#define ARG(nargs, i, expr) ((nargs) > (i) ? (__u64)(expr) : 0)

/* Flavor 1: syscall tracepoints. */
#define TP_PROGS(sys, call, nargs)                                               \
	SEC("tp/syscalls/sys_enter_" #sys)                                       \
	int tp_enter_##sys(struct trace_event_raw_sys_enter *ctx)                \
	{                                                                        \
		return on_enter(call, ctx->args[0], ARG(nargs, 1, ctx->args[1]), \
				ARG(nargs, 2, ctx->args[2]));                    \
	}                                                                        \
	SEC("tp/syscalls/sys_exit_" #sys)                                        \
	int tp_exit_##sys(struct trace_event_raw_sys_exit *ctx)                  \
	{                                                                        \
		return on_exit(call, ctx->ret);                                  \
	}
CAPTURED_SYSCALLS(TP_PROGS)

/* Flavor 2: kprobes on the syscall functions (libbpf resolves the arch's wrapper name). */
#define KPROBE_PROGS(sys, call, nargs)                                  \
	SEC("ksyscall/" #sys)                                           \
	int BPF_KSYSCALL(ks_enter_##sys, long fd, long buf, long count) \
	{                                                               \
		return on_enter(call, fd, buf, count);                  \
	}                                                               \
	SEC("kretsyscall/" #sys)                                        \
	int BPF_KRETPROBE(kr_exit_##sys, long ret)                      \
	{                                                               \
		return on_exit(call, ret);                              \
	}
CAPTURED_SYSCALLS(KPROBE_PROGS)

/* Flavor 3: fentry/fexit on the syscall functions, which take the user pt_regs. */
#if defined(__TARGET_ARCH_x86)
#define SYS_PREFIX "__x64_sys_"
#elif defined(__TARGET_ARCH_arm64)
#define SYS_PREFIX "__arm64_sys_"
#elif defined(__TARGET_ARCH_s390)
#define SYS_PREFIX "__s390x_sys_"
#else
#error "kspan: no syscall function prefix known for this architecture"
#endif

#define FENTRY_PROGS(sys, call, nargs)                                            \
	SEC("fentry/" SYS_PREFIX #sys)                                            \
	int BPF_PROG(fe_enter_##sys, struct pt_regs *regs)                        \
	{                                                                         \
		return on_enter(call, PT_REGS_PARM1_CORE_SYSCALL(regs),           \
				ARG(nargs, 1, PT_REGS_PARM2_CORE_SYSCALL(regs)),  \
				ARG(nargs, 2, PT_REGS_PARM3_CORE_SYSCALL(regs))); \
	}                                                                         \
	SEC("fexit/" SYS_PREFIX #sys)                                             \
	int BPF_PROG(fx_exit_##sys, struct pt_regs *regs, long ret)               \
	{                                                                         \
		return on_exit(call, ret);                                        \
	}
CAPTURED_SYSCALLS(FENTRY_PROGS)

/* ------------------------------------------------------------------ flavor 4: sockets */

/*
 * Flavor 4: socket tracepoints, no syscall hook. sock_send_length and sock_recv_length
 * (6.3+) fire as a send or receive on a socket returns, whatever the syscall: read, write,
 * readv, writev, recvfrom, sendto, recvmsg, sendmsg, and sendfile and splice to a socket.
 * The syscall and its arguments come from the saved user registers (current_user_call);
 * the payload is copied from the user buffer then (filled, for a receive). start_ns of a
 * send is when tcp_sendmsg_locked began it (optional: a tracepoint of recent kernels), as
 * the other flavors' syscall entry, before the peer can have the bytes; without it, and
 * for a receive, the time it returned. Connections:
 *  - CONN at a socket's first I/O under an fd (a connect binds the local address only
 *    after the state change that announces it): CLIENT when the target was seen connecting
 *    it (inet_sock_set_state to SYN_SENT), SERVER for an accepted socket (it inherits its
 *    listener's backlog) on which nothing moved before, UNKNOWN otherwise.
 *  - CLOSE when close(2) of the fd moves the socket to FIN_WAIT1, LAST_ACK or CLOSE
 *    (inet_sock_set_state) or destroys it (tcp_destroy_sock: it was closed already). An fd
 *    whose close is not seen that way (close_range, dup2 over it, the last reference held
 *    by another thread's syscall) gets its CLOSE when it is next seen with another socket.
 * Not captured: recvmmsg, sendmmsg and io_uring (counted as KSPAN_DROP_ARGS_MISSING),
 * splice from a socket (no recvmsg). x86-64 only (registers and syscall numbers).
 */

/* x86-64 syscall numbers; current_user_call() says no on other architectures. */
enum {
	NR_read = 0,
	NR_write = 1,
	NR_close = 3,
	NR_readv = 19,
	NR_writev = 20,
	NR_sendfile = 40,
	NR_sendto = 44,
	NR_recvfrom = 45,
	NR_sendmsg = 46,
	NR_recvmsg = 47,
	NR_splice = 275,
};

#define MSG_PEEK 2

/* The I/O call (fd, buffer, count) syscall u made; false for syscalls not captured. */
static __always_inline bool io_of_call(const struct user_call *u, struct call_args *a)
{
	static const __u32 calls[] = {
		[NR_read] = KSPAN_IO_READ,	   [NR_write] = KSPAN_IO_WRITE,
		[NR_readv] = KSPAN_IO_READV,	   [NR_writev] = KSPAN_IO_WRITEV,
		[NR_sendfile] = KSPAN_IO_SENDFILE, [NR_sendto] = KSPAN_IO_SENDTO,
		[NR_recvfrom] = KSPAN_IO_RECVFROM, [NR_sendmsg] = KSPAN_IO_SENDMSG,
		[NR_recvmsg] = KSPAN_IO_RECVMSG,
	};

	a->fd = (__s32)u->arg[0];
	a->buf = u->arg[1];
	a->count = u->arg[2];
	if (u->nr == NR_splice) { /* splice(fd_in, off_in, fd_out, ...): bytes from a pipe */
		a->fd = (__s32)u->arg[2];
		a->call = KSPAN_IO_SENDFILE;
		return true;
	}
	a->call = u->nr < sizeof(calls) / sizeof(calls[0]) ? calls[u->nr] : 0;
	return a->call != 0;
}

static __always_inline bool is_tcp_stream(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return (family == AF_INET || family == AF_INET6) && sk->sk_type == SOCK_STREAM;
}

/* Whether fd of the current process is sk's file. */
static __always_inline bool fd_holds_sock(int fd, struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct file *file = fd_to_file(fd);

	return file && sock && sock->file == file;
}

/*
 * The role of sk at its first I/O (moved: the bytes of that I/O, 0 for a peek). Nothing
 * moved before on an accepted socket when the bytes acknowledged and queued to send, and
 * the bytes received less those still queued, are exactly this I/O's.
 */
static __always_inline __u32 first_io_role(struct sock *sk, __u64 gen, __u16 dir, __u32 moved)
{
	struct tcp_sock *tp;
	__u64 written, consumed;

	if (bpf_map_lookup_elem(&connecting, &gen)) {
		bpf_map_delete_elem(&connecting, &gen);
		return KSPAN_ROLE_CLIENT;
	}
	if (!sk->sk_max_ack_backlog)
		return KSPAN_ROLE_UNKNOWN;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return KSPAN_ROLE_UNKNOWN;
	written = tp->bytes_acked + (__u32)(tp->write_seq - tp->snd_una);
	consumed = tp->bytes_received - (__u32)(tp->rcv_nxt - tp->copied_seq);
	if (written == (dir == KSPAN_DIR_EGRESS ? moved : 0) &&
	    consumed == (dir == KSPAN_DIR_INGRESS ? moved : 0))
		return KSPAN_ROLE_SERVER;
	return KSPAN_ROLE_UNKNOWN;
}

/*
 * The address a BTF pointer holds, as a plain number: the verifier allows no arithmetic
 * on the pointer itself (sock_cookie), so it is copied out through the stack.
 */
static __always_inline __u64 ptr_value(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/*
 * The cookie of sk for a record of its I/O through fd, after a CONN if this is the first
 * (and a CLOSE of the socket fd held before, if that close went unseen); 0 when fd does
 * not hold sk: the registers were not those of this I/O's syscall.
 */
static __always_inline __u64 sk_ensure_known(int fd, struct sock *sk, __u16 dir, __u32 moved)
{
	struct fd_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct known_sock *k = bpf_map_lookup_elem(&known, &key);
	__u64 gen = bpf_get_socket_cookie(sk);
	struct sock *plain;

	if (k && k->gen == gen)
		return k->cookie;
	if (!fd_holds_sock(fd, sk))
		return 0;
	if (k)
		emit_close_rec(fd, k->cookie);
	plain = (struct sock *)ptr_value(sk);
	emit_conn(fd, plain, first_io_role(sk, gen, dir, moved), gen);
	return sock_cookie(plain);
}

/*
 * When the send on sk that is returning began (sk_send_start), or 0; the mark is taken
 * in any case, so that a send it was not made for never finds it.
 */
static __always_inline __u64 take_send_start(struct sock *sk)
{
	struct call_args *p = bpf_task_storage_get(&args, bpf_get_current_task_btf(), NULL, 0);
	__u64 t = 0;

	if (p && p->call == CALL_SEND_START) {
		if (p->sk == (__u64)sk)
			t = p->start_ns;
		p->call = 0;
	}
	return t;
}

static __always_inline int on_sock_io(struct sock *sk, int ret, __u16 dir, bool peek)
{
	struct call_args a = {};
	struct user_call u;
	__u64 cookie;

	if (!is_target(bpf_get_current_pid_tgid() >> 32))
		return 0;
	a.start_ns = dir == KSPAN_DIR_EGRESS ? take_send_start(sk) : 0;
	if (ret <= 0 || !is_tcp_stream(sk))
		return 0;
	if (!a.start_ns)
		a.start_ns = bpf_ktime_get_ns();
	if (!current_user_call(&u) || !io_of_call(&u, &a) || call_dir(a.call) != dir) {
		count_drop(KSPAN_DROP_ARGS_MISSING);
		return 0;
	}
	cookie = sk_ensure_known(a.fd, sk, dir, peek ? 0 : ret);
	if (!cookie) {
		count_drop(KSPAN_DROP_ARGS_MISSING);
		return 0;
	}
	emit_data(&a, (__u32)ret, cookie);
	return 0;
}

/*
 * A TCP send's copy loop, once per round: the first round of a send by a target marks
 * when it began, before any byte can have reached the peer (on loopback the peer is
 * woken inside the send). Loaded only where the kernel has the tracepoint.
 */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(sk_send_start, struct sock *sk, struct msghdr *msg, struct sk_buff *skb, int size_goal)
{
	struct call_args *a;

	if (!is_target(bpf_get_current_pid_tgid() >> 32))
		return 0;
	a = bpf_task_storage_get(&args, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a || (a->call == CALL_SEND_START && a->sk == (__u64)sk))
		return 0; /* a later round of the same send */
	a->start_ns = bpf_ktime_get_ns();
	a->sk = (__u64)sk;
	a->call = CALL_SEND_START;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sk_send, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk, ret, KSPAN_DIR_EGRESS, false);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sk_recv, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk, ret, KSPAN_DIR_INGRESS, flags & MSG_PEEK);
}

/* sk changed state or is being destroyed in a target: a CLOSE if that is close(2) of its fd. */
static __always_inline void sk_closing(struct sock *sk)
{
	struct user_call u;

	if (current_user_call(&u) && u.nr == NR_close)
		emit_close((__s32)u.arg[0], bpf_get_socket_cookie(sk));
}

/*
 * Every TCP state change, of every socket (on loopback the peer's too, in the same
 * context): a connect of a target, or a close.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sk_state, struct sock *sk, int oldstate, int newstate)
{
	__u32 one = 1;
	__u64 gen;

	if (!is_target(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (newstate == TCP_SYN_SENT) {
		gen = bpf_get_socket_cookie(sk);
		bpf_map_update_elem(&connecting, &gen, &one, BPF_ANY);
	} else if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE) {
		sk_closing(sk);
	}
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sk_destroy, struct sock *sk)
{
	if (is_target(bpf_get_current_pid_tgid() >> 32))
		sk_closing(sk);
	return 0;
}

/* ------------------------------------------------------------------ processes */

/* A PROC record about process tgid, from (or about) its thread tid. */
static __always_inline void emit_proc(__u32 kind, __u32 tgid, __u32 tid, __u32 ppid, __s32 code,
				      const char *comm)
{
	struct kspan_proc_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_drop(KSPAN_DROP_RINGBUF_FULL);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	fill_hdr(&r->hdr, KSPAN_REC_PROC, sizeof(*r), (__u64)tgid << 32 | tid);
	r->kind = kind;
	r->ppid = ppid;
	r->exit_code = code;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm);
	/* Process changes are rare and the agent acts on them at once; thread exits only
	 * tidy up, and a thread pool can churn, so they go with the data records' batching. */
	bpf_ringbuf_submit(r, kind == KSPAN_PROC_THREAD_EXIT ? submit_flags() :
							       BPF_RB_FORCE_WAKEUP);
}

static __always_inline void add_target(__u32 tgid, __u32 origin)
{
	__u32 *v = bpf_map_lookup_elem(&targets, &tgid);

	if (v)
		*v |= origin; /* informational: a lost race costs nothing */
	else
		bpf_map_update_elem(&targets, &tgid, &origin, BPF_NOEXIST);
}

/* Children of a target are targets; new threads are not new processes. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = bpf_get_current_pid_tgid() >> 32;
	__u32 pid, tgid;

	if (!is_target(ptgid))
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	if (pid != tgid)
		return 0;
	add_target(tgid, KSPAN_TARGET_FORK);
	emit_proc(KSPAN_PROC_FORK, tgid, pid, ptgid, 0, child->comm);
	return 0;
}

/* Exec of a target, or of a watched executable (which makes the process a target). */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct kspan_exe_key key;
	struct inode *inode;

	if (!is_target(tgid)) {
		inode = BPF_CORE_READ(bprm, file, f_inode);
		key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(inode, i_ino);
		if (!bpf_map_lookup_elem(&watch_exe, &key))
			return 0;
		add_target(tgid, KSPAN_TARGET_EXEC);
	}
	/* The thread that execs becomes the group leader: its tid is the tgid now. */
	emit_proc(KSPAN_PROC_EXEC, tgid, tgid, 0, 0, p->comm);
	return 0;
}

/*
 * A thread of a target is leaving: THREAD_EXIT while others remain (the agent drops
 * what it keeps per thread); EXIT when it is the last one, and the process is forgotten.
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (!is_target(tgid))
		return 0;
	if (BPF_CORE_READ(p, signal, live.counter) != 0) {
		emit_proc(KSPAN_PROC_THREAD_EXIT, tgid, (__u32)id, 0, 0, p->comm);
		return 0;
	}
	bpf_map_delete_elem(&targets, &tgid);
	emit_proc(KSPAN_PROC_EXIT, tgid, (__u32)id, 0, BPF_CORE_READ(p, exit_code), p->comm);
	return 0;
}

/* ------------------------------------------------------------------ USDT */

/*
 * Copy USDT argument arg_num, a user string pointer, into dst (zero-filled first by the
 * caller); NULL stays "". Returns the KSPAN_USDT_F_* flags it earned: cut when the
 * string filled dst (the helper returns the length with the NUL), fault when unreadable.
 * The helper cannot fault pages in: a string on a page the process has not touched since
 * it was forked (fork does not copy file mappings' page tables) reads as a fault too.
 */
static __always_inline __u32 usdt_str(struct pt_regs *ctx, __u64 arg_num, char *dst, __u32 size,
				      __u32 cut_flag)
{
	long ptr = 0, n;

	if (bpf_usdt_arg(ctx, arg_num, &ptr) || !ptr)
		return 0;
	n = bpf_probe_read_user_str(dst, size, (const void *)ptr);
	if (n < 0)
		return KSPAN_USDT_F_READ_FAULT; /* the helper zeroed dst */
	return n == size ? cut_flag : 0;
}

/*
 * Every otel:* probe of <otel/usdt.h>: the attach cookie says which (enum
 * kspan_usdt_probe), and so where its strings and its number are (see kspan.h).
 * The semaphores keep unattached sites from reaching here at all.
 */
SEC("usdt")
int kspan_usdt(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 probe = bpf_usdt_cookie(ctx);
	struct kspan_usdt_rec *r;
	long num = 0;

	if (!is_target(id >> 32) || probe < KSPAN_USDT_SPAN_START || probe > KSPAN_USDT_PROBE_MAX)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(KSPAN_DROP_RINGBUF_FULL);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	fill_hdr(&r->hdr, KSPAN_REC_USDT, sizeof(*r), id);
	r->probe = probe;
	switch (probe) {
	case KSPAN_USDT_SPAN_END:
		break;
	case KSPAN_USDT_STATUS: /* (code, description) */
		bpf_usdt_arg(ctx, 0, &num);
		r->flags |= usdt_str(ctx, 1, r->str2, sizeof(r->str2), KSPAN_USDT_F_STR2_CUT);
		break;
	case KSPAN_USDT_ATTR_STR: /* (key, value), as exception (type, message) */
	case KSPAN_USDT_EXCEPTION:
		r->flags |= usdt_str(ctx, 0, r->str1, sizeof(r->str1), KSPAN_USDT_F_STR1_CUT);
		r->flags |= usdt_str(ctx, 1, r->str2, sizeof(r->str2), KSPAN_USDT_F_STR2_CUT);
		break;
	case KSPAN_USDT_EVENT: /* (name) */
		r->flags |= usdt_str(ctx, 0, r->str1, sizeof(r->str1), KSPAN_USDT_F_STR1_CUT);
		break;
	default: /* span_start (name, kind), attr_int/double/bool (key, value) */
		r->flags |= usdt_str(ctx, 0, r->str1, sizeof(r->str1), KSPAN_USDT_F_STR1_CUT);
		bpf_usdt_arg(ctx, 1, &num);
		break;
	}
	r->num = num;
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}
