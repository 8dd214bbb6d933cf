// SPDX-License-Identifier: Apache-2.0
/*
 * tests/integration/test_usdt_capture.c: the otel:* USDT probes of <otel/usdt.h> on the
 * real kernel, through userspace/loader.c and userspace/usdt_attach.c, with
 * tests/servers/usdt_app as the traced program: the exact USDT records of each probe
 * (strings, numbers, cut and fault flags, thread, order); semaphores raised while
 * attached and back to 0 after detach; a library loaded later (dlopen) picked up by the
 * periodic rescan; exec (old links replaced), fork (the child attached on its own), exit;
 * the THREAD_EXIT record of a thread that ends while others remain; then the agent
 * (build/kspan --pid) doing all of it by itself. Needs root.
 *
 * The library is tests/servers/usdt_app.c built with -DUSDT_APP_LIBRARY by the Makefile
 * (build/tests/servers/libusdt_app.so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "agent_run.h"
#include "feature_probe.h"
#include "kspan.h"
#include "ring_recs.h"
#include "loader.h"
#include "probe_cmd.h"
#include "usdt_attach.h"

#define LINE_MS 10000
#define NPROBES 9
#define ALL_ATTACHED "4 4 3 2 1 1 4 1 1" /* usdt_app's sites per probe: the semaphores */
#define NONE_ATTACHED "0 0 0 0 0 0 0 0 0"

static struct {
	struct kspan_loader *l;
	struct kspan_usdt_attacher *u;
	struct ring_buffer *rb;
	struct ring_recs got;
	char log[8192];
	char app[PATH_MAX], app_real[PATH_MAX], kspan[PATH_MAX];
	char lib[PATH_MAX];
} g;

/* usdt_app, driven through its stdin; its answers come on out. */
struct app {
	pid_t pid;
	int in;
	FILE *out;
};

/* ------------------------------------------------------------------ setup */

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
	struct kspan_loader_opts lo = { .log = log_to_buffer };
	struct kspan_usdt_opts uo = { .log = log_to_buffer };
	char self[PATH_MAX], lib[PATH_MAX + 32], *dir;
	ssize_t n;

	(void)state;
	libbpf_set_print(quiet_libbpf);
	if (geteuid() != 0) {
		fprintf(stderr, "test_usdt_capture needs root\n");
		return -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	dir = dirname(self);
	snprintf(g.app, sizeof(g.app), "%s/../servers/usdt_app", dir);
	snprintf(g.kspan, sizeof(g.kspan), "%s/../../kspan", dir);
	if (!realpath(g.app, g.app_real)) {
		fprintf(stderr, "%s: %s\n", g.app, strerror(errno));
		return -1;
	}
	/* as the process's maps name it */
	snprintf(lib, sizeof(lib), "%s/../servers/libusdt_app.so", dir);
	if (!realpath(lib, g.lib)) {
		fprintf(stderr, "%s: %s\n", lib, strerror(errno));
		return -1;
	}
	g.l = kspan_loader_open(&lo);
	if (!g.l || kspan_loader_attach(g.l)) {
		fprintf(stderr, "loader: %s\n", g.l ? kspan_loader_reason(g.l) : strerror(errno));
		return -1;
	}
	g.u = kspan_usdt_attacher_new(kspan_loader_usdt_prog(g.l), &uo);
	g.rb = ring_buffer__new(kspan_loader_ring_fd(g.l), ring_recs_keep, &g.got, NULL);
	return g.u && g.rb ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ring_recs_forget(&g.got);
	ring_buffer__free(g.rb);
	kspan_usdt_attacher_free(g.u);
	kspan_loader_destroy(g.l);
	return 0;
}

/* Each test: no log left over, no process left behind. */
static int test_setup(void **state)
{
	(void)state;
	g.log[0] = '\0';
	collect();
	return 0;
}

static int test_teardown(void **state)
{
	return run_kill_all(state);
}

/* ------------------------------------------------------------------ usdt_app */

static void app_line(struct app *a, const char *what, char *line, size_t size)
{
	if (!run_wait_line(a->out, what, line, size, LINE_MS))
		fail_msg("usdt_app did not answer \"%s\"", what);
	line[strcspn(line, "\n")] = '\0';
}

static struct app app_start(void)
{
	int in[2], out[2];
	struct app a;
	char line[64];

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	a.pid = fork();
	assert_true(a.pid >= 0);
	if (a.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(g.app, "usdt_app", (char *)NULL);
		_exit(127);
	}
	run_track(a.pid);
	close(in[0]);
	close(out[1]);
	a.in = in[1];
	a.out = fdopen(out[0], "r");
	assert_non_null(a.out);
	setvbuf(a.out, NULL, _IONBF, 0);
	app_line(&a, "ready ", line, sizeof(line));
	assert_int_equal(atoi(line + 6), a.pid);
	return a;
}

/* Send @cmd; the answer line starting with @answer (the whole line into @line). */
static void app_cmd(struct app *a, const char *cmd, const char *answer, char *line, size_t size)
{
	assert_true(dprintf(a->in, "%s\n", cmd) > 0);
	app_line(a, answer, line, size);
	if (strncmp(line, answer, strlen(answer)))
		fail_msg("usdt_app answered \"%s\" to \"%s\"", line, cmd);
}

/* The number after @answer in the answer to @cmd. */
static int app_cmd_int(struct app *a, const char *cmd, const char *answer)
{
	char line[128];

	app_cmd(a, cmd, answer, line, sizeof(line));
	return atoi(line + strlen(answer));
}

static void app_expect_sema(struct app *a, const char *cmd, const char *values)
{
	char line[128], want[128];

	snprintf(want, sizeof(want), "%s %s", cmd, values);
	app_cmd(a, cmd, cmd, line, sizeof(line));
	assert_string_equal(line, want);
}

static void app_quit(struct app *a)
{
	struct run_child c = { .pid = a->pid, .out = a->out };
	int status;

	assert_true(dprintf(a->in, "quit\n") > 0);
	status = run_wait_exit(&c, LINE_MS);
	assert_true(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(a->in);
	fclose(a->out);
}

/* usdt_app started, a target, its probes attached: "9 otel probes" logged, 9 links. */
static struct app app_start_attached(void)
{
	struct app a = app_start();
	char want[PATH_MAX + 64];

	assert_int_equal(kspan_loader_add_target(g.l, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_add(g.u, a.pid), 0);
	snprintf(want, sizeof(want), "usdt: pid %d: 9 otel probes in %s\n", (int)a.pid, g.app_real);
	assert_non_null(strstr(g.log, want));
	assert_int_equal(kspan_usdt_attacher_links(g.u, a.pid), NPROBES);
	return a;
}

/* ------------------------------------------------------------------ records */

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

/* A NUL-terminated string filling the rest of its array with zeros equal to @want. */
static void check_str(const char *s, size_t size, const char *want)
{
	size_t len = strnlen(s, size), i;

	assert_true(len < size);
	assert_string_equal(s, want);
	for (i = len; i < size; i++)
		assert_int_equal(s[i], 0);
}

/* The next USDT record of tgid (*i: its index among tgid's records), exactly so. */
static void check_usdt(__u32 tgid, size_t *i, __u32 tid, __u32 probe, const char *str1, __s64 num,
		       const char *str2, __u32 flags)
{
	const struct kspan_usdt_rec *r = nth(tgid, (*i)++, KSPAN_REC_USDT);

	assert_int_equal(r->hdr.size, sizeof(*r));
	assert_int_equal(r->hdr.tid, tid);
	assert_int_equal(r->probe, probe);
	assert_int_equal(r->flags, flags);
	assert_int_equal(r->num, num);
	check_str(r->str1, sizeof(r->str1), str1);
	check_str(r->str2, sizeof(r->str2), str2);
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

static char *repeat(char c, size_t n)
{
	static char buf[2][512];
	static int which;
	char *b = buf[which ^= 1];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

/* Every record of usdt_app's fire_sequence(), in order, from thread tid. */
static void check_fire_sequence(__u32 pid, size_t *i, __u32 tid)
{
	double price = 12.5;
	__s64 bits;

	memcpy(&bits, &price, sizeof(bits));
	check_usdt(pid, i, tid, KSPAN_USDT_SPAN_START, "checkout", 1, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_STR, "user.id", 0, "u-42", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_STR, "note", 0, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_STR, repeat('k', KSPAN_USDT_STR1_MAX - 1), 0,
		   repeat('v', KSPAN_USDT_STR2_MAX - 1),
		   KSPAN_USDT_F_STR1_CUT | KSPAN_USDT_F_STR2_CUT);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_INT, "items", -7, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_DOUBLE, "price", bits, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_ATTR_BOOL, "gift", 1, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_EVENT, "cart loaded", 0, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_EVENT, repeat('e', 126), 0, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_EVENT, repeat('e', 127), 0, "", KSPAN_USDT_F_STR1_CUT);
	check_usdt(pid, i, tid, KSPAN_USDT_EVENT, "", 0, "", KSPAN_USDT_F_READ_FAULT);
	check_usdt(pid, i, tid, KSPAN_USDT_STATUS, "", 2, "out of stock", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_EXCEPTION, "StockError", 0, "item 7 missing", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_SPAN_START, "", 0, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_SPAN_END, "", 0, "", 0);
	check_usdt(pid, i, tid, KSPAN_USDT_SPAN_END, "", 0, "", 0);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* ------------------------------------------------------------------ tests */

/* The program is loaded with the flavor but attached to nothing; `kspan probe` says so. */
static void test_loader_exposes_an_unattached_usdt_program(void **state)
{
	struct kspan_loader *l = kspan_loader_open(NULL);
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	(void)state;
	out = open_memstream(&text, &size);
	assert_non_null(out);
	assert_int_equal(kspan_probe_cmd(out), 0);
	fclose(out);
	assert_non_null(strstr(text, "\nusdt: yes, otel:* probes attached in each traced process "
				     "(uprobes with semaphore reference counters ("));
	free(text);
	assert_non_null(l);
	assert_null(kspan_loader_usdt_prog(l)); /* nothing loaded before attach */
	kspan_loader_destroy(l);
	assert_null(kspan_loader_usdt_prog(NULL));
	assert_non_null(kspan_loader_usdt_prog(g.l));
	assert_true(kspan_loader_features(g.l)->f[KSPAN_FEAT_USDT].ok);
	errno = 0;
	assert_null(kspan_usdt_attacher_new(NULL, NULL));
	assert_int_equal(errno, EINVAL);
}

/* Every probe's exact record, in order; the semaphores up while attached, 0 after. */
static void test_fire_gives_exact_records(void **state)
{
	struct app a = app_start_attached();
	size_t i = 0;
	int tid;

	(void)state;
	app_expect_sema(&a, "sema", ALL_ATTACHED);
	collect();
	tid = app_cmd_int(&a, "fire", "fired ");
	assert_int_equal(tid, a.pid);
	collect();
	check_fire_sequence(a.pid, &i, a.pid);
	assert_int_equal(count_tgid(a.pid), i);
	for (i = 1; i < g.got.n; i++)
		assert_true(rec(i)->ts_ns >= rec(i - 1)->ts_ns);

	/* Detached: the semaphores drop back to 0 and the sites stay silent. */
	assert_int_equal(kspan_usdt_attacher_remove(g.u, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_links(g.u, a.pid), 0);
	assert_false(kspan_usdt_attacher_has(g.u, a.pid));
	kspan_usdt_attacher_flush(g.u);
	app_expect_sema(&a, "sema", NONE_ATTACHED);
	app_cmd_int(&a, "fire", "fired ");
	collect();
	assert_int_equal(count_tgid(a.pid), 0);
	app_quit(&a);
	collect();
	assert_int_equal(find_proc(a.pid, KSPAN_PROC_EXIT)->hdr.tid, a.pid);
}

/* A thread's probes carry its tid; its end is a THREAD_EXIT, not an EXIT. */
static void test_thread_records_and_thread_exit(void **state)
{
	struct app a = app_start_attached();
	const struct kspan_proc_rec *p;
	size_t i = 0;
	int tid;

	(void)state;
	tid = app_cmd_int(&a, "thread", "thread ");
	assert_true(tid > 0 && tid != a.pid);
	collect();
	check_usdt(a.pid, &i, tid, KSPAN_USDT_SPAN_START, "worker", 0, "", 0);
	check_usdt(a.pid, &i, tid, KSPAN_USDT_ATTR_INT, "thread.n", 1, "", 0);
	check_usdt(a.pid, &i, tid, KSPAN_USDT_SPAN_END, "", 0, "", 0);
	p = nth(a.pid, i++, KSPAN_REC_PROC);
	assert_int_equal(p->kind, KSPAN_PROC_THREAD_EXIT);
	assert_int_equal(p->hdr.tid, tid);
	assert_int_equal(p->hdr.size, sizeof(*p));
	assert_string_equal(p->comm, "usdt_app");
	assert_int_equal(count_tgid(a.pid), i);
	assert_true(kspan_loader_is_target(g.l, a.pid)); /* the process lives on */

	app_quit(&a);
	collect();
	p = nth(a.pid, 0, KSPAN_REC_PROC);
	assert_int_equal(p->kind, KSPAN_PROC_EXIT);
	assert_int_equal(p->hdr.tid, a.pid);
	assert_int_equal(count_tgid(a.pid), 1);
	assert_false(kspan_loader_is_target(g.l, a.pid));
	assert_int_equal(kspan_usdt_attacher_remove(g.u, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_links(g.u, 0), 0);
}

/* A library dlopen()ed after the attach: the periodic rescan attaches its own probes. */
static void test_library_loaded_later_is_attached_by_the_rescan(void **state)
{
	struct kspan_usdt_opts uo = { .rescan_ms = 100, .log = log_to_buffer };
	struct kspan_usdt_attacher *u = kspan_usdt_attacher_new(kspan_loader_usdt_prog(g.l), &uo);
	char line[PATH_MAX + 128], want[PATH_MAX + 64];
	struct app a = app_start();
	size_t i = 0;
	int tid, tries;

	(void)state;
	assert_non_null(u);
	assert_int_equal(kspan_loader_add_target(g.l, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_add(u, a.pid), 0);
	snprintf(line, sizeof(line), "dlopen %s", g.lib);
	app_cmd(&a, line, "loaded", line, sizeof(line));
	app_expect_sema(&a, "libsema", NONE_ATTACHED);
	snprintf(want, sizeof(want), "usdt: pid %d: 3 otel probes in %s\n", (int)a.pid, g.lib);
	for (tries = 0; tries < 50 && !strstr(g.log, want); tries++) {
		usleep(100 * 1000);
		kspan_usdt_attacher_tick(u);
	}
	assert_non_null(strstr(g.log, want));
	assert_int_equal(kspan_usdt_attacher_links(u, a.pid), NPROBES + 3);
	/* The program's file is looked at once; the library's semaphores are its own. */
	assert_int_equal(count_str(g.log, "9 otel probes in"), 1);
	app_expect_sema(&a, "libsema", "1 1 1 0 0 0 0 0 0");
	app_expect_sema(&a, "sema", ALL_ATTACHED);
	collect();
	tid = app_cmd_int(&a, "libfire", "libfired ");
	collect();
	check_usdt(a.pid, &i, tid, KSPAN_USDT_SPAN_START, "lib span", 0, "", 0);
	check_usdt(a.pid, &i, tid, KSPAN_USDT_ATTR_STR, "lib.key", 0, "lib value", 0);
	check_usdt(a.pid, &i, tid, KSPAN_USDT_SPAN_END, "", 0, "", 0);
	assert_int_equal(count_tgid(a.pid), i);
	/* A rescan with nothing new attaches nothing more. */
	assert_int_equal(kspan_usdt_attacher_rescan(u, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_links(u, a.pid), NPROBES + 3);
	kspan_usdt_attacher_free(u); /* waits for the links to go */
	app_expect_sema(&a, "libsema", NONE_ATTACHED);
	app_expect_sema(&a, "sema", NONE_ATTACHED);
	assert_int_equal(kspan_loader_remove_target(g.l, a.pid), 0);
	app_quit(&a);
}

/* exec: the old image's links go, the new image's probes are attached. */
static void test_exec_replaces_the_links(void **state)
{
	struct app a = app_start_attached();
	char line[64];
	size_t i = 0;

	(void)state;
	collect();
	assert_true(dprintf(a.in, "exec\n") > 0);
	app_line(&a, "ready ", line, sizeof(line));
	assert_int_equal(atoi(line + 6), a.pid);
	collect();
	find_proc(a.pid, KSPAN_PROC_EXEC);
	/*
	 * The kernel's uprobe filter is the task's mm: links on the program's file follow
	 * the task into a new image of that same file. The exec replaces them all the same
	 * (another program, or a library no longer mapped, would not be covered).
	 */
	app_expect_sema(&a, "sema", ALL_ATTACHED);
	assert_int_equal(kspan_usdt_attacher_exec(g.u, a.pid), 0);
	assert_int_equal(count_str(g.log, "9 otel probes in"), 2);
	assert_int_equal(kspan_usdt_attacher_links(g.u, a.pid), NPROBES);
	assert_int_equal(kspan_usdt_attacher_links(g.u, 0), NPROBES);
	kspan_usdt_attacher_flush(g.u); /* the old links are gone: their counts with them */
	app_expect_sema(&a, "sema", ALL_ATTACHED);
	collect();
	assert_int_equal(app_cmd_int(&a, "fire", "fired "), a.pid);
	collect();
	check_fire_sequence(a.pid, &i, a.pid);
	assert_int_equal(kspan_usdt_attacher_remove(g.u, a.pid), 0);
	assert_int_equal(kspan_loader_remove_target(g.l, a.pid), 0);
	app_quit(&a);
	kspan_usdt_attacher_flush(g.u);
}

/* A forked child is a target of the kernel, but its probes need an attach of their own. */
static void test_fork_child_is_attached_on_its_own(void **state)
{
	struct app a = app_start_attached();
	const struct kspan_proc_rec *p;
	char want[PATH_MAX + 64];
	size_t i = 0;
	int child;

	(void)state;
	collect();
	child = app_cmd_int(&a, "fork", "child ");
	collect();
	p = find_proc(child, KSPAN_PROC_FORK);
	assert_int_equal(p->ppid, a.pid);
	assert_int_equal(p->hdr.tid, child);
	assert_int_equal(kspan_usdt_attacher_add(g.u, child), 0);
	snprintf(want, sizeof(want), "usdt: pid %d: 9 otel probes in %s\n", child, g.app_real);
	assert_non_null(strstr(g.log, want));
	assert_int_equal(kspan_usdt_attacher_links(g.u, child), NPROBES);
	assert_int_equal(kill(child, SIGUSR1), 0);
	assert_int_equal(app_cmd_int(&a, "reap", "reaped "), 0);
	collect();
	check_usdt(child, &i, child, KSPAN_USDT_SPAN_START, "child", 0, "", 0);
	check_usdt(child, &i, child, KSPAN_USDT_SPAN_END, "", 0, "", 0);
	assert_int_equal(((const struct kspan_proc_rec *)nth(child, i++, KSPAN_REC_PROC))->kind,
			 KSPAN_PROC_EXIT);
	assert_int_equal(count_tgid(child), i);
	assert_int_equal(count_tgid(a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_remove(g.u, child), 0);
	assert_int_equal(kspan_usdt_attacher_remove(g.u, a.pid), 0);
	assert_int_equal(kspan_loader_remove_target(g.l, a.pid), 0);
	app_quit(&a);
	kspan_usdt_attacher_flush(g.u);
}

/* Processes that are gone, that have no probes, and calls that make no sense. */
static void test_gone_plain_and_bad_arguments(void **state)
{
	struct app a = app_start();

	(void)state;
	/* This test program has no otel probes: followed, nothing attached, nothing logged. */
	assert_int_equal(kspan_usdt_attacher_add(g.u, getpid()), 0);
	assert_true(kspan_usdt_attacher_has(g.u, getpid()));
	assert_int_equal(kspan_usdt_attacher_links(g.u, getpid()), 0);
	assert_int_equal(kspan_usdt_attacher_add(g.u, getpid()), 0); /* already: no-op */
	assert_int_equal(kspan_usdt_attacher_remove(g.u, getpid()), 0);
	assert_string_equal(g.log, "");

	/* A followed process that exits is forgotten by its next rescan. */
	assert_int_equal(kspan_usdt_attacher_add(g.u, a.pid), 0);
	assert_int_equal(kspan_usdt_attacher_links(g.u, a.pid), NPROBES);
	app_quit(&a);
	assert_int_equal(kspan_usdt_attacher_rescan(g.u, a.pid), -ESRCH);
	assert_false(kspan_usdt_attacher_has(g.u, a.pid));
	assert_int_equal(kspan_usdt_attacher_links(g.u, 0), 0);
	assert_int_equal(kspan_usdt_attacher_add(g.u, a.pid), -ESRCH);
	assert_int_equal(kspan_usdt_attacher_exec(g.u, a.pid), -ESRCH);
	assert_false(kspan_usdt_attacher_has(g.u, a.pid));

	assert_int_equal(kspan_usdt_attacher_remove(g.u, a.pid), -ENOENT);
	assert_int_equal(kspan_usdt_attacher_rescan(g.u, a.pid), -ENOENT);
	assert_int_equal(kspan_usdt_attacher_add(g.u, 0), -EINVAL);
	assert_int_equal(kspan_usdt_attacher_add(NULL, 1), -EINVAL);
	assert_int_equal(kspan_usdt_attacher_remove(NULL, 1), -EINVAL);
	assert_int_equal(kspan_usdt_attacher_links(NULL, 0), 0);
	kspan_usdt_attacher_tick(NULL);
	kspan_usdt_attacher_flush(NULL);
	kspan_usdt_attacher_free(NULL);
	kspan_usdt_attacher_flush(g.u);
}

/* The agent: attach at start, a forked child, a library loaded later, detach at exit. */
static void test_agent_attaches_follows_and_detaches(void **state)
{
	struct app a = app_start();
	char pid[16], line[PATH_MAX + 128], want[PATH_MAX + 64];
	char *argv[] = { g.kspan, "--pid", pid, NULL };
	const char *env[] = { "OTEL_TRACES_EXPORTER=none", NULL };
	struct run_child agent;
	int child;

	(void)state;
	snprintf(pid, sizeof(pid), "%d", (int)a.pid);
	agent = run_spawn(argv, env, RUN_STDERR);
	snprintf(want, sizeof(want), "kspan: usdt: pid %d: 9 otel probes in %s", (int)a.pid,
		 g.app_real);
	assert_true(run_wait_line(agent.out, want, line, sizeof(line), LINE_MS));
	assert_true(
		run_wait_line(agent.out, "kspan: tracing 1 process", line, sizeof(line), LINE_MS));
	app_expect_sema(&a, "sema", ALL_ATTACHED);

	child = app_cmd_int(&a, "fork", "child ");
	snprintf(want, sizeof(want), "kspan: usdt: pid %d: 9 otel probes in %s", child, g.app_real);
	assert_true(run_wait_line(agent.out, want, line, sizeof(line), LINE_MS));
	assert_int_equal(kill(child, SIGUSR1), 0);
	assert_int_equal(app_cmd_int(&a, "reap", "reaped "), 0);

	snprintf(line, sizeof(line), "dlopen %s", g.lib);
	app_cmd(&a, line, "loaded", line, sizeof(line));
	snprintf(want, sizeof(want), "kspan: usdt: pid %d: 3 otel probes in %s", (int)a.pid, g.lib);
	/* Within a rescan period (5 s) and a tick. */
	assert_true(run_wait_line(agent.out, want, line, sizeof(line), LINE_MS));
	app_expect_sema(&a, "libsema", "1 1 1 0 0 0 0 0 0");

	assert_int_equal(kill(agent.pid, SIGTERM), 0);
	run_expect_exit0(&agent, 30000);
	app_expect_sema(&a, "sema", NONE_ATTACHED);
	app_expect_sema(&a, "libsema", NONE_ATTACHED);
	app_quit(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loader_exposes_an_unattached_usdt_program,
						test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_fire_gives_exact_records, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_thread_records_and_thread_exit, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_library_loaded_later_is_attached_by_the_rescan,
						test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_exec_replaces_the_links, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_fork_child_is_attached_on_its_own, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_gone_plain_and_bad_arguments, test_setup,
						test_teardown),
		cmocka_unit_test_setup_teardown(test_agent_attaches_follows_and_detaches,
						test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
