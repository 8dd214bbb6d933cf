// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/usdt_attach.c: the per-process USDT links (see usdt_attach.h).
 *
 * Per process: its links, the files (dev, ino from /proc/PID/maps) already looked at, so
 * a rescan only opens what is new, and when to look again. Across processes: the files
 * known to have no otel probes (by stat identity), so the libc of a hundred targets is
 * parsed once. libbpf parses the ELF again when attaching; that is paid only for files
 * that have probes.
 *
 * Destroying links is slow: the kernel waits for a grace period per uprobe (about 0.1 s
 * each here), so a process with 25 probe sites takes seconds to detach. A reaper thread
 * does it, so an exit or exec never stalls the event loop. libbpf's USDT bookkeeping (the
 * spec ids a link returns when destroyed) is not thread-safe: `bpf_lock` serializes attach
 * (event loop) and destroy (reaper), which takes it one link at a time and lets a waiting
 * attach go first; an attach waits at most for one link's destruction.
 */
#include "usdt_attach.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "usdt_scan.h"

/* /proc/PID/maps lines read at most per scan. */
#define MAX_MAPS_LINES 65536
/* Files without otel probes remembered at most; the memory is forgotten when full. */
#define MAX_PLAIN_FILES 4096

/* A mapped file as /proc/PID/maps names it. */
struct obj_key {
	dev_t dev;
	ino_t ino;
};

/* A file's stat identity: a file rewritten in place gets looked at again. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* A link and the probe sites (uprobes, descriptors) behind it. */
struct held_link {
	struct bpf_link *link;
	size_t sites;
};

struct proc {
	pid_t pid;
	struct held_link *links;
	size_t nlinks, cap_links;
	size_t nsites; /* sum of the links' sites */
	struct obj_key *seen; /* sorted */
	size_t nseen, cap_seen;
	uint64_t next_scan_ns;
	unsigned int quick; /* quick rescans left */
};

struct reaper {
	pthread_mutex_t bpf_lock; /* libbpf's USDT state: held to attach or destroy a link */
	pthread_mutex_t qlock; /* the fields below */
	pthread_cond_t cond; /* work, stop, idle, or the event loop done with bpf_lock */
	struct held_link *queue;
	size_t n, cap;
	size_t busy_links, busy_sites; /* queued or being destroyed */
	bool running, stop;
	atomic_bool want; /* the event loop waits for bpf_lock: the reaper lets it go first */
	pthread_t thread;
};

struct kspan_usdt_attacher {
	struct bpf_program *prog;
	struct kspan_usdt_opts opts;
	struct proc **procs; /* sorted by pid */
	size_t nprocs, cap_procs;
	size_t cursor; /* where the next tick starts looking */
	size_t nlinks, nsites; /* over all processes */
	struct file_id *plain; /* sorted; files without otel probes */
	size_t nplain, cap_plain;
	bool limit_logged;
	struct reaper reaper;
};

/* ---- helpers ---- */

static void default_log(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "kspan: %s\n", msg);
}

static __attribute__((format(printf, 2, 3))) void ulog(const struct kspan_usdt_attacher *u,
						       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(u->opts.log ? u->opts.log : default_log)(u->opts.log_ctx, msg);
}

/* Room for one more element in *v (n used, *cap allocated, of size bytes each). */
static int grow(void *v, size_t n, size_t *cap, size_t size)
{
	void **pv = v, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	nv = reallocarray(*pv, ncap, size);
	if (!nv)
		return -ENOMEM;
	*pv = nv;
	*cap = ncap;
	return 0;
}

/* Index of the first element of v[0..n) not below key (by cmp); *found if equal. */
static size_t lower_bound(const void *v, size_t n, size_t size, const void *key,
			  int (*cmp)(const void *, const void *), bool *found)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp((const char *)v + mid * size, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && !cmp((const char *)v + lo * size, key);
	return lo;
}

/* Insert item at index i of v[0..*n) (room made by grow()). */
static void insert_at(void *v, size_t *n, size_t i, size_t size, const void *item)
{
	char *b = v;

	memmove(b + (i + 1) * size, b + i * size, (*n - i) * size);
	memcpy(b + i * size, item, size);
	(*n)++;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int cmp_obj(const void *pa, const void *pb)
{
	const struct obj_key *a = pa, *b = pb;

	return a->dev != b->dev ? CMP(a->dev, b->dev) : CMP(a->ino, b->ino);
}

static int cmp_file(const void *pa, const void *pb)
{
	const struct file_id *a = pa, *b = pb;

	if (a->dev != b->dev)
		return CMP(a->dev, b->dev);
	if (a->ino != b->ino)
		return CMP(a->ino, b->ino);
	if (a->size != b->size)
		return CMP(a->size, b->size);
	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return CMP(a->mtime.tv_sec, b->mtime.tv_sec);
	return CMP(a->mtime.tv_nsec, b->mtime.tv_nsec);
}

static int cmp_proc(const void *pa, const void *pb)
{
	const struct proc *const *a = pa;
	const pid_t *pid = pb;

	return CMP((*a)->pid, *pid);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the reaper: links destroyed off the event loop ---- */

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;
	struct held_link d;

	pthread_mutex_lock(&r->qlock);
	for (;;) {
		while (!r->stop && (!r->n || atomic_load(&r->want)))
			pthread_cond_wait(&r->cond, &r->qlock);
		if (!r->n)
			break; /* stopping, with nothing left */
		d = r->queue[--r->n];
		pthread_mutex_unlock(&r->qlock);
		pthread_mutex_lock(&r->bpf_lock);
		bpf_link__destroy(d.link);
		pthread_mutex_unlock(&r->bpf_lock);
		pthread_mutex_lock(&r->qlock);
		r->busy_links--;
		r->busy_sites -= d.sites;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->qlock);
	return NULL;
}

static void reaper_init(struct reaper *r)
{
	pthread_mutex_init(&r->bpf_lock, NULL);
	pthread_mutex_init(&r->qlock, NULL);
	pthread_cond_init(&r->cond, NULL);
	atomic_init(&r->want, false);
}

/* Started on first use, with every signal blocked: the agent takes its signals by signalfd. */
static int reaper_start(struct reaper *r)
{
	sigset_t all, old;
	int err;

	if (r->running)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&r->thread, NULL, reaper_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r->running = !err;
	return err;
}

/* Queue @h for destruction; without a reaper (no thread, no memory), destroy it here. */
static void reaper_give(struct reaper *r, const struct held_link *h)
{
	bool queued = false;

	pthread_mutex_lock(&r->qlock);
	if (!reaper_start(r) && !grow(&r->queue, r->n, &r->cap, sizeof(*r->queue))) {
		r->queue[r->n++] = *h;
		r->busy_links++;
		r->busy_sites += h->sites;
		pthread_cond_broadcast(&r->cond);
		queued = true;
	}
	pthread_mutex_unlock(&r->qlock);
	if (!queued) {
		pthread_mutex_lock(&r->bpf_lock);
		bpf_link__destroy(h->link);
		pthread_mutex_unlock(&r->bpf_lock);
	}
}

/* Links and sites still held by the reaper. */
static void reaper_busy(struct reaper *r, size_t *links, size_t *sites)
{
	pthread_mutex_lock(&r->qlock);
	*links = r->busy_links;
	*sites = r->busy_sites;
	pthread_mutex_unlock(&r->qlock);
}

static void reaper_wait_idle(struct reaper *r)
{
	pthread_mutex_lock(&r->qlock);
	while (r->busy_links)
		pthread_cond_wait(&r->cond, &r->qlock);
	pthread_mutex_unlock(&r->qlock);
}

/* The event loop's turn with libbpf: ahead of the reaper's next link. */
static void bpf_lock_take(struct reaper *r)
{
	atomic_store(&r->want, true);
	pthread_mutex_lock(&r->bpf_lock);
}

static void bpf_lock_give(struct reaper *r)
{
	pthread_mutex_unlock(&r->bpf_lock);
	pthread_mutex_lock(&r->qlock);
	atomic_store(&r->want, false);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->qlock);
}

static void reaper_stop(struct reaper *r)
{
	if (r->running) {
		pthread_mutex_lock(&r->qlock);
		r->stop = true;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->qlock);
		pthread_join(r->thread, NULL);
	}
	free(r->queue);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->qlock);
	pthread_mutex_destroy(&r->bpf_lock);
}

/* ---- libbpf's messages while attaching ---- */

static libbpf_print_fn_t forward_print;
static char libbpf_reason[256];

/* Warnings become the reason of our own message; the rest goes where it went before. */
static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t len;

	if (level != LIBBPF_WARN)
		return forward_print ? forward_print(level, fmt, ap) : 0;
	vsnprintf(libbpf_reason, sizeof(libbpf_reason), fmt, ap);
	len = strlen(libbpf_reason);
	while (len && libbpf_reason[len - 1] == '\n')
		libbpf_reason[--len] = '\0';
	return 0;
}

/* Attach to every site of otel:<probe> in @path for @pid; bpf_lock held. */
static struct bpf_link *attach_probe(struct kspan_usdt_attacher *u, pid_t pid, const char *path,
				     unsigned int probe, int *err)
{
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = probe);
	struct bpf_link *link;

	libbpf_reason[0] = '\0';
	forward_print = libbpf_set_print(capture_print);
	link = bpf_program__attach_usdt(u->prog, pid, path, "otel", kspan_usdt_probe_name(probe),
					&opts);
	*err = link ? 0 : -errno;
	libbpf_set_print(forward_print);
	return link;
}

/* ---- processes ---- */

static struct proc *find_proc(const struct kspan_usdt_attacher *u, pid_t pid, size_t *at)
{
	bool found;
	size_t i = lower_bound(u->procs, u->nprocs, sizeof(*u->procs), &pid, cmp_proc, &found);

	if (at)
		*at = i;
	return found ? u->procs[i] : NULL;
}

/* Hand the links of @p to the reaper and forget which files it was looked at for. */
static void proc_reset(struct kspan_usdt_attacher *u, struct proc *p)
{
	size_t i;

	for (i = 0; i < p->nlinks; i++)
		reaper_give(&u->reaper, &p->links[i]);
	u->nlinks -= p->nlinks;
	u->nsites -= p->nsites;
	p->nlinks = 0;
	p->nsites = 0;
	p->nseen = 0;
	u->limit_logged = false;
}

static void proc_drop(struct kspan_usdt_attacher *u, size_t at)
{
	struct proc *p = u->procs[at];

	proc_reset(u, p);
	free(p->links);
	free(p->seen);
	free(p);
	memmove(&u->procs[at], &u->procs[at + 1], (u->nprocs - at - 1) * sizeof(*u->procs));
	u->nprocs--;
	if (u->cursor > at)
		u->cursor--;
}

static struct proc *proc_new(struct kspan_usdt_attacher *u, pid_t pid, size_t at)
{
	struct proc *p;

	if (grow(&u->procs, u->nprocs, &u->cap_procs, sizeof(*u->procs)))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	insert_at(u->procs, &u->nprocs, at, sizeof(*u->procs), &p);
	if (u->cursor > at)
		u->cursor++;
	return p;
}

/* The next look at @p: soon while the loader may still be mapping libraries. */
static void schedule(const struct kspan_usdt_attacher *u, struct proc *p, uint64_t now)
{
	unsigned int ms = u->opts.rescan_ms;

	if (p->quick) {
		p->quick--;
		if (ms > KSPAN_USDT_QUICK_RESCAN_MS)
			ms = KSPAN_USDT_QUICK_RESCAN_MS;
	}
	p->next_scan_ns = now + (uint64_t)ms * 1000000u;
}

/* ---- files ---- */

static bool known_plain(const struct kspan_usdt_attacher *u, const struct file_id *f)
{
	bool found;

	lower_bound(u->plain, u->nplain, sizeof(*u->plain), f, cmp_file, &found);
	return found;
}

static void remember_plain(struct kspan_usdt_attacher *u, const struct file_id *f)
{
	bool found;
	size_t i;

	if (u->nplain >= MAX_PLAIN_FILES)
		u->nplain = 0; /* start over: cheaper than tracking which is oldest */
	i = lower_bound(u->plain, u->nplain, sizeof(*u->plain), f, cmp_file, &found);
	if (!found && !grow(&u->plain, u->nplain, &u->cap_plain, sizeof(*u->plain)))
		insert_at(u->plain, &u->nplain, i, sizeof(*u->plain), f);
}

static size_t sites_of(const struct kspan_usdt_scan *s, unsigned int probe)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->sites[i].probe == probe;
	return n;
}

/* Attach every probe @s found in @path (@shown: the path as the process sees it). */
static int attach_scan(struct kspan_usdt_attacher *u, struct proc *p, const char *path,
		       const char *shown, const struct kspan_usdt_scan *s)
{
	unsigned int probe, nprobes = kspan_usdt_scan_probe_count(s), ok = 0, failed = 0;
	size_t dying_links, dying_sites;
	struct bpf_link *link;
	int err = 0;

	/* Links still being destroyed hold their spec ids and descriptors too. */
	reaper_busy(&u->reaper, &dying_links, &dying_sites);
	if (u->nlinks + dying_links + nprobes > u->opts.max_links ||
	    u->nsites + dying_sites + s->n > u->opts.max_sites) {
		if (!u->limit_logged)
			ulog(u,
			     "usdt: pid %d: otel probes in %s not attached: %zu links and %zu "
			     "probe sites held, the limit is %zu and %zu",
			     (int)p->pid, shown, u->nlinks + dying_links, u->nsites + dying_sites,
			     u->opts.max_links, u->opts.max_sites);
		u->limit_logged = true;
		return -ENOSPC;
	}
	bpf_lock_take(&u->reaper); /* once for the file: the reaper waits until it is done */
	for (probe = KSPAN_USDT_SPAN_START; probe <= KSPAN_USDT_PROBE_MAX && !err; probe++) {
		if (!(s->probes & (1u << probe)))
			continue;
		err = grow(&p->links, p->nlinks, &p->cap_links, sizeof(*p->links));
		if (err)
			break;
		link = attach_probe(u, p->pid, path, probe, &err);
		if (!link) {
			failed++;
			ulog(u, "usdt: pid %d: attaching otel:%s in %s failed: %s%s%s%s",
			     (int)p->pid, kspan_usdt_probe_name(probe), shown, strerror(-err),
			     libbpf_reason[0] ? " (libbpf: " : "", libbpf_reason,
			     libbpf_reason[0] ? ")" : "");
			/* Gone (the process or the file): the rest would fail alike. */
			err = err == -ESRCH || err == -ENOENT ? err : 0;
			continue;
		}
		p->links[p->nlinks++] = (struct held_link){ link, sites_of(s, probe) };
		p->nsites += sites_of(s, probe);
		u->nsites += sites_of(s, probe);
		u->nlinks++;
		ok++;
	}
	bpf_lock_give(&u->reaper);
	if (ok)
		ulog(u, "usdt: pid %d: %u otel probe%s in %s%s", (int)p->pid, ok,
		     ok == 1 ? "" : "s", shown, failed ? " (some failed)" : "");
	return err == -ENOMEM ? err : 0;
}

/* Look at one mapped file of @p; -ENOSPC when the limits kept it from being attached. */
static int look_at_file(struct kspan_usdt_attacher *u, struct proc *p, const char *shown)
{
	struct kspan_usdt_scan s;
	char path[PATH_MAX + 32], err[256];
	struct file_id f = { 0 };
	struct stat st;
	int ret;

	if (snprintf(path, sizeof(path), "/proc/%d/root%s", (int)p->pid, shown) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return -errno; /* replaced or out of reach: its probes cannot be attached */
	f = (struct file_id){ st.st_dev, st.st_ino, st.st_size, st.st_mtim };
	if (known_plain(u, &f))
		return 0;
	ret = kspan_usdt_scan_file(path, &s, err, sizeof(err));
	if (ret) {
		ulog(u, "usdt: pid %d: cannot list the otel probes of %s: %s", (int)p->pid, shown,
		     err);
		return ret;
	}
	if (!s.n)
		remember_plain(u, &f);
	else
		ret = attach_scan(u, p, path, shown, &s);
	kspan_usdt_scan_free(&s);
	return ret;
}

/* Every executable file mapping of @p not looked at yet. -ESRCH: the process is gone. */
static int scan_proc(struct kspan_usdt_attacher *u, struct proc *p)
{
	struct kspan_map_entry m;
	char maps[64], *line = NULL;
	size_t cap = 0, lines = 0, i;
	struct obj_key key;
	bool seen;
	FILE *f;
	int ret = 0;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)p->pid);
	f = fopen(maps, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	while (ret != -ENOMEM && lines++ < MAX_MAPS_LINES && getline(&line, &cap, f) > 0) {
		if (!kspan_maps_line_parse(line, &m) || !kspan_map_entry_is_exec_file(&m))
			continue;
		key = (struct obj_key){ m.dev, m.ino };
		i = lower_bound(p->seen, p->nseen, sizeof(*p->seen), &key, cmp_obj, &seen);
		if (seen)
			continue;
		/* A file kept out by the limits is looked at again next time; others not. */
		if (look_at_file(u, p, m.path) == -ENOSPC)
			continue;
		ret = grow(&p->seen, p->nseen, &p->cap_seen, sizeof(*p->seen));
		if (!ret)
			insert_at(p->seen, &p->nseen, i, sizeof(*p->seen), &key);
	}
	free(line);
	fclose(f);
	return ret == -ENOMEM ? ret : 0;
}

/* Scan @p now and schedule the next look; a process found gone is dropped. */
static int scan_and_schedule(struct kspan_usdt_attacher *u, struct proc *p)
{
	size_t at;
	int ret = scan_proc(u, p);

	if (ret == -ESRCH) {
		if (find_proc(u, p->pid, &at) == p)
			proc_drop(u, at);
		return ret;
	}
	schedule(u, p, now_ns());
	return ret;
}

/* ---- the interface ---- */

struct kspan_usdt_attacher *kspan_usdt_attacher_new(struct bpf_program *prog,
						    const struct kspan_usdt_opts *opts)
{
	struct kspan_usdt_attacher *u;
	struct rlimit rl;

	if (!prog) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->prog = prog;
	reaper_init(&u->reaper);
	if (opts)
		u->opts = *opts;
	if (!u->opts.rescan_ms)
		u->opts.rescan_ms = KSPAN_USDT_RESCAN_MS;
	if (!u->opts.max_links || u->opts.max_links > KSPAN_USDT_MAX_LINKS)
		u->opts.max_links = KSPAN_USDT_MAX_LINKS;
	if (!u->opts.max_sites || u->opts.max_sites > KSPAN_USDT_MAX_SITES)
		u->opts.max_sites = KSPAN_USDT_MAX_SITES;
	/* Each probe site is a perf event descriptor; 1024 would not go far. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return u;
}

int kspan_usdt_attacher_add(struct kspan_usdt_attacher *u, pid_t pid)
{
	struct proc *p;
	size_t at;

	if (!u || pid <= 0)
		return -EINVAL;
	if (find_proc(u, pid, &at))
		return 0;
	p = proc_new(u, pid, at);
	if (!p)
		return -ENOMEM;
	p->quick = KSPAN_USDT_QUICK_RESCANS;
	return scan_and_schedule(u, p);
}

int kspan_usdt_attacher_exec(struct kspan_usdt_attacher *u, pid_t pid)
{
	struct proc *p;
	size_t at;

	if (!u || pid <= 0)
		return -EINVAL;
	p = find_proc(u, pid, &at);
	if (p)
		proc_reset(u, p);
	else if (!(p = proc_new(u, pid, at)))
		return -ENOMEM;
	p->quick = KSPAN_USDT_QUICK_RESCANS;
	return scan_and_schedule(u, p);
}

int kspan_usdt_attacher_rescan(struct kspan_usdt_attacher *u, pid_t pid)
{
	struct proc *p;

	if (!u || pid <= 0)
		return -EINVAL;
	p = find_proc(u, pid, NULL);
	return p ? scan_and_schedule(u, p) : -ENOENT;
}

int kspan_usdt_attacher_remove(struct kspan_usdt_attacher *u, pid_t pid)
{
	size_t at;

	if (!u || pid <= 0)
		return -EINVAL;
	if (!find_proc(u, pid, &at))
		return -ENOENT;
	proc_drop(u, at);
	return 0;
}

void kspan_usdt_attacher_tick(struct kspan_usdt_attacher *u)
{
	size_t visited, scanned = 0, nprocs;
	uint64_t now = now_ns();
	struct proc *p;

	if (!u)
		return;
	nprocs = u->nprocs;
	/* Each process at most once; a dropped one shifts the rest down under the cursor. */
	for (visited = 0; visited < nprocs && scanned < KSPAN_USDT_SCANS_PER_TICK; visited++) {
		if (u->cursor >= u->nprocs)
			u->cursor = 0;
		if (!u->nprocs)
			break;
		p = u->procs[u->cursor];
		if (p->next_scan_ns > now) {
			u->cursor++;
			continue;
		}
		scanned++;
		if (scan_and_schedule(u, p) != -ESRCH)
			u->cursor++;
	}
}

size_t kspan_usdt_attacher_links(const struct kspan_usdt_attacher *u, pid_t pid)
{
	const struct proc *p;

	if (!u)
		return 0;
	if (!pid)
		return u->nlinks;
	p = find_proc(u, pid, NULL);
	return p ? p->nlinks : 0;
}

bool kspan_usdt_attacher_has(const struct kspan_usdt_attacher *u, pid_t pid)
{
	return u && find_proc(u, pid, NULL);
}

void kspan_usdt_attacher_flush(struct kspan_usdt_attacher *u)
{
	if (u)
		reaper_wait_idle(&u->reaper);
}

void kspan_usdt_attacher_free(struct kspan_usdt_attacher *u)
{
	if (!u)
		return;
	while (u->nprocs)
		proc_drop(u, u->nprocs - 1);
	reaper_stop(&u->reaper); /* after it destroyed every link */
	free(u->procs);
	free(u->plain);
	free(u);
}
