// SPDX-License-Identifier: Apache-2.0
/*
 * Target resolution and per-process resources on the real /proc
 * (userspace/targets.c, procfs.c, proc_resource.c, cli.c): real processes
 * are started — a shell with two children, copies of sleep under a private
 * executable, a thread whose ID is given as --pid, TCP servers on ephemeral
 * IPv4 and IPv6 loopback ports with a child each — and resolving by --pid,
 * --exe and --port must find exactly them and their descendants; the
 * resources built for them must hold exactly the expected attributes.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "log_capture.h"
#include "resource_check.h"
#include <otel/sdk.h>
#include "cli.h"
#include "proc_resource.h"
#include "procfs.h"
#include "targets.h"

#define MAX_PROCS 32

static char tmpdir[] = "/tmp/kspan-test-targets-XXXXXX";
static char sleeper[PATH_MAX]; /* a private copy of sleep: its (dev, ino) is ours alone */
static char hostname[HOST_NAME_MAX + 1];

/* Everything started, killed at the end (orphans come back to us: we are a subreaper). */
static pid_t procs[MAX_PROCS];
static size_t n_procs;

/* The processes of the scenario. */
static pid_t sh_pid, sh_kids[2], billing_pid, tid_owner, tid_thread, srv4_pid, srv4_child,
	srv6_pid;
static uint16_t port4, port6;

static void remember(pid_t pid)
{
	assert_true(n_procs < MAX_PROCS);
	procs[n_procs++] = pid;
}

static pid_t spawn(char *const argv[], char *const envp[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	remember(pid);
	return pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when /proc/PID/exe is the sleeper (the child has exec'ed). */
static bool runs_sleeper(pid_t pid)
{
	char path[PATH_MAX];

	return !kspan_procfs_exe(NULL, pid, path, sizeof(path), NULL, NULL) &&
	       !strcmp(path, sleeper);
}

/* Wait until the shell's two children run the sleeper; record them. */
static void wait_shell_children(void)
{
	double deadline = now_s() + 10;

	for (;;) {
		struct kspan_pidvec kids = { 0 };
		bool ready;

		assert_int_equal(kspan_procfs_children(NULL, sh_pid, &kids), 0);
		ready = kids.n == 2 && runs_sleeper(kids.v[0]) && runs_sleeper(kids.v[1]);
		if (ready) {
			sh_kids[0] = kids.v[0] < kids.v[1] ? kids.v[0] : kids.v[1];
			sh_kids[1] = kids.v[0] < kids.v[1] ? kids.v[1] : kids.v[0];
		}
		kspan_pidvec_free(&kids);
		if (ready)
			break;
		if (now_s() > deadline)
			fail_msg("the shell's children did not start");
		usleep(10000);
	}
	remember(sh_kids[0]);
	remember(sh_kids[1]);
}

static void wait_exec(pid_t pid)
{
	double deadline = now_s() + 10;

	while (!runs_sleeper(pid)) {
		if (now_s() > deadline)
			fail_msg("PID %d did not exec the sleeper", (int)pid);
		usleep(10000);
	}
}

/* ---- a TCP server: listens, forks a child that does not hold the socket, waits ---- */

static int listen_on(int family, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					  ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* Start a server; *child gets its child's PID (0: none). False when the family is unavailable. */
static bool start_server(int family, bool with_child, pid_t *server, pid_t *child, uint16_t *port)
{
	int pfd[2];
	pid_t msg[2];
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = listen_on(family, port);
		pid_t kid = 0;

		msg[0] = fd < 0 ? -1 : *port;
		if (fd >= 0 && with_child && (kid = fork()) == 0) {
			close(fd);
			pause();
			_exit(0);
		}
		msg[1] = kid;
		if (write(pfd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	remember(pid);
	assert_int_equal(read(pfd[0], msg, sizeof(msg)), sizeof(msg));
	close(pfd[0]);
	if (msg[0] < 0)
		return false;
	*server = pid;
	*port = (uint16_t)msg[0];
	*child = msg[1];
	if (*child)
		remember(*child);
	return true;
}

/* ---- a process with a second thread, whose TID is given as --pid ---- */

static int tid_pipe[2];

static void *thread_main(void *arg)
{
	pid_t tid = gettid();

	(void)arg;
	if (write(tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

static void start_threaded(void)
{
	pid_t pid;

	assert_int_equal(pipe(tid_pipe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		if (pthread_create(&th, NULL, thread_main, NULL))
			_exit(1);
		for (;;)
			pause();
	}
	remember(pid);
	tid_owner = pid;
	assert_int_equal(read(tid_pipe[0], &tid_thread, sizeof(tid_thread)), sizeof(tid_thread));
	assert_int_not_equal(tid_thread, tid_owner);
	close(tid_pipe[0]);
	close(tid_pipe[1]);
}

/* ---- setup ---- */

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, 0755), 0);
}

static int group_setup(void **state)
{
	char script[PATH_MAX * 2 + 64];
	char *sh_env[] = { "OTEL_RESOURCE_ATTRIBUTES=service.name=from-attrs", NULL };
	char *billing_env[] = { "PATH=/usr/bin:/bin", "OTEL_SERVICE_NAME=billing",
				"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=staging,"
				"team=pay%20ments,service.name=ignored",
				NULL };
	char sleep_bin[PATH_MAX];

	(void)state;
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	log_capture_start(OTEL_LOG_DEBUG);
	/* Orphans (the shell's children if it dies first) are reparented to us, for reaping. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	assert_non_null(mkdtemp(tmpdir));
	assert_non_null(realpath("/bin/sleep", sleep_bin));
	snprintf(sleeper, sizeof(sleeper), "%s/kspan-sleeper", tmpdir);
	copy_file(sleep_bin, sleeper);
	assert_int_equal(gethostname(hostname, sizeof(hostname)), 0);

	snprintf(script, sizeof(script), "%s 600 & %s 600 & wait", sleeper, sleeper);
	sh_pid = spawn((char *[]){ "/bin/sh", "-c", script, NULL }, sh_env);
	billing_pid = spawn((char *[]){ sleeper, "600", NULL }, billing_env);
	wait_shell_children();
	wait_exec(billing_pid);
	start_threaded();
	assert_true(start_server(AF_INET, true, &srv4_pid, &srv4_child, &port4));
	if (!start_server(AF_INET6, false, &srv6_pid, &(pid_t){ 0 }, &port6))
		port6 = 0; /* no IPv6 in this network namespace */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_procs; i++)
		kill(procs[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	unlink(sleeper);
	rmdir(tmpdir);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	log_text[0] = '\0';
	return 0;
}

/* ---- helpers ---- */

/* Resolve the command line (argv after "kspan") into a fresh target set. */
static void resolve(struct kspan_targets *t, ...)
{
	char *argv[16] = { "kspan" };
	struct kspan_config cfg;
	int argc = 1;
	va_list ap;

	va_start(ap, t);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_int_equal(kspan_cli_parse(argc, argv, NULL, &cfg, stderr), 0);
	kspan_targets_init(t, NULL);
	assert_int_equal(kspan_targets_resolve(t, &cfg), 0);
	kspan_config_free(&cfg);
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/* The set is exactly these TGIDs. */
static void assert_set(const struct kspan_targets *t, size_t n, ...)
{
	pid_t want[MAX_PROCS], tgid;
	size_t i;
	va_list ap;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		want[i] = va_arg(ap, int);
	va_end(ap);
	qsort(want, n, sizeof(pid_t), cmp_pid);
	if (t->n != n) {
		for (i = 0; i < t->n; i++)
			print_message("target %d\n", (int)t->tgids[i]);
		fail_msg("%zu targets, expected %zu", t->n, n);
	}
	kspan_targets_for_each(t, i, tgid)
		assert_int_equal(tgid, want[i]);
}

static const char *pidstr(pid_t pid)
{
	static char bufs[8][16];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, 16, "%d", (int)pid);
	return b;
}

/* ---- resolution ---- */

static void test_by_pid_with_children(void **state)
{
	struct kspan_targets t;

	(void)state;
	resolve(&t, "--pid", pidstr(sh_pid), NULL);
	assert_set(&t, 3, sh_pid, sh_kids[0], sh_kids[1]);
	kspan_targets_free(&t);
	resolve(&t, "--pid", pidstr(billing_pid), NULL);
	assert_set(&t, 1, billing_pid);
	kspan_targets_free(&t);
}

/* A thread ID stands for its process. */
static void test_by_thread_id(void **state)
{
	struct kspan_targets t;

	(void)state;
	resolve(&t, "--pid", pidstr(tid_thread), NULL);
	assert_set(&t, 1, tid_owner);
	kspan_targets_free(&t);
}

static void test_by_exe(void **state)
{
	struct kspan_targets t;
	const struct kspan_exe_id *ids;
	struct stat st;
	size_t n;

	(void)state;
	assert_int_equal(stat(sleeper, &st), 0);
	resolve(&t, "--exe", sleeper, NULL);
	assert_set(&t, 3, billing_pid, sh_kids[0], sh_kids[1]);
	ids = kspan_targets_exes(&t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0].dev, st.st_dev);
	assert_int_equal(ids[0].ino, st.st_ino);
	assert_true(kspan_targets_exe_selected(&t, st.st_dev, st.st_ino));
	assert_false(kspan_targets_exe_selected(&t, st.st_dev, st.st_ino + 1));
	assert_int_equal(kspan_dev_to_kernel(makedev(8, 1)), (8u << 20) | 1);
	kspan_targets_free(&t);
}

static void test_by_port(void **state)
{
	struct kspan_targets t;

	(void)state;
	/* The server holds the socket; its child does not, and is traced as a descendant. */
	resolve(&t, "--port", pidstr(port4), NULL);
	assert_set(&t, 2, srv4_pid, srv4_child);
	kspan_targets_free(&t);
	if (port6) {
		resolve(&t, "--port", pidstr(port6), NULL);
		assert_set(&t, 1, srv6_pid);
		kspan_targets_free(&t);
	} else {
		print_message("no IPv6 loopback here: the tcp6 case is covered by test_procfs\n");
	}
}

static void test_port_nobody_listens(void **state)
{
	struct kspan_targets t;
	char msg[128];
	uint16_t free_port;
	int fd = listen_on(AF_INET, &free_port);

	(void)state;
	/* A port that was free a moment ago: close it and ask. */
	assert_true(fd >= 0);
	close(fd);
	resolve(&t, "--port", pidstr(free_port), NULL);
	assert_int_equal(t.n, 0);
	snprintf(msg, sizeof(msg), "kspan: no process listens on TCP port %u\n", free_port);
	assert_string_equal(log_text, msg);
	kspan_targets_free(&t);
}

static void test_combined(void **state)
{
	struct kspan_targets t;

	(void)state;
	resolve(&t, "--pid", pidstr(sh_pid), "--exe", sleeper, "--port", pidstr(port4), "--pid",
		pidstr(tid_owner), NULL);
	assert_set(&t, 7, sh_pid, sh_kids[0], sh_kids[1], billing_pid, srv4_pid, srv4_child,
		   tid_owner);
	kspan_targets_free(&t);
}

/* ---- the set and its hook ---- */

struct hook_log {
	pid_t tgid[16];
	bool added[16];
	int n;
	pid_t refuse; /* the hook fails for this one */
};

static int record_hook(void *ctx, pid_t tgid, bool added)
{
	struct hook_log *h = ctx;

	if (tgid == h->refuse)
		return -EIO;
	if (h->n < 16) {
		h->tgid[h->n] = tgid;
		h->added[h->n] = added;
	}
	h->n++;
	return 0;
}

static void test_set_and_hook(void **state)
{
	struct hook_log h = { .refuse = 999 };
	struct kspan_targets t;

	(void)state;
	kspan_targets_init(&t, NULL);
	t.on_change = record_hook;
	t.ctx = &h;
	assert_int_equal(kspan_targets_add(&t, 30), 1);
	assert_int_equal(kspan_targets_add(&t, 10), 1);
	assert_int_equal(kspan_targets_add(&t, 20), 1);
	assert_int_equal(kspan_targets_add(&t, 10), 0);
	assert_set(&t, 3, 10, 20, 30);
	/* A failing hook leaves the set as it was and reports its error. */
	assert_int_equal(kspan_targets_add(&t, 999), -EIO);
	assert_false(kspan_targets_contains(&t, 999));
	assert_int_equal(kspan_targets_remove(&t, 20), 1);
	assert_int_equal(kspan_targets_remove(&t, 20), 0);
	assert_set(&t, 2, 10, 30);
	h.refuse = 30;
	assert_int_equal(kspan_targets_remove(&t, 30), -EIO);
	assert_true(kspan_targets_contains(&t, 30));
	assert_int_equal(h.n, 4);
	assert_int_equal(h.tgid[0], 30);
	assert_int_equal(h.tgid[1], 10);
	assert_int_equal(h.tgid[2], 20);
	assert_true(h.added[2]);
	assert_int_equal(h.tgid[3], 20);
	assert_false(h.added[3]);
	/* Many: stays sorted. */
	h.refuse = -1;
	for (pid_t p = 1000; p > 900; p--)
		assert_int_equal(kspan_targets_add(&t, p), 1);
	assert_int_equal(t.n, 102);
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.tgids[i - 1] < t.tgids[i]);
	kspan_targets_free(&t);
	assert_int_equal(t.n, 0);
	kspan_targets_free(NULL);

	/* The hook sees every member of a resolved tree. */
	h = (struct hook_log){ .refuse = -1 };
	kspan_targets_init(&t, NULL);
	t.on_change = record_hook;
	t.ctx = &h;
	assert_int_equal(kspan_targets_add_tree(&t, sh_pid), 0);
	assert_set(&t, 3, sh_pid, sh_kids[0], sh_kids[1]);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.tgid[0], sh_pid);
	kspan_targets_free(&t);
}

/* ---- resources ---- */

static void assert_process(const otel_resource *r, pid_t pid, const char *exe_path,
			   const char *cmdline)
{
	const struct otel_value *v = otel_resource_get(r, "process.pid");
	const char *slash = strrchr(exe_path, '/');

	assert_non_null(v);
	assert_int_equal(v->type, OTEL_VALUE_INT);
	assert_int_equal(v->i, pid);
	assert_str(r, "process.executable.path", exe_path);
	assert_str(r, "process.executable.name", slash + 1);
	assert_str(r, "process.command_line", cmdline);
	assert_str(r, "host.name", hostname);
	assert_str(r, "telemetry.sdk.name", "libotel");
	assert_str(r, "telemetry.sdk.language", "c");
	assert_str(r, "telemetry.sdk.version", OTEL_VERSION_STRING);
	assert_str(r, "telemetry.distro.name", "kspan");
	assert_str(r, "telemetry.distro.version", KSPAN_VERSION);
}

static void test_resources(void **state)
{
	char cmdline[PATH_MAX + 16], self[PATH_MAX], self_cmd[PATH_MAX];
	otel_resource *r;
	ssize_t n;

	(void)state;
	/* OTEL_SERVICE_NAME wins; the other OTEL_RESOURCE_ATTRIBUTES are decoded. */
	r = kspan_proc_resource_new(NULL, billing_pid, NULL);
	assert_non_null(r);
	snprintf(cmdline, sizeof(cmdline), "%s 600", sleeper);
	assert_process(r, billing_pid, sleeper, cmdline);
	assert_str(r, "service.name", "billing");
	assert_str(r, "deployment.environment", "staging");
	assert_str(r, "team", "pay ments");
	assert_int_equal(n_attrs(r), 13);
	otel_resource_unref(r);

	/* service.name from OTEL_RESOURCE_ATTRIBUTES (inherited from the shell). */
	r = kspan_proc_resource_new(NULL, sh_kids[0], "node-a");
	assert_non_null(r);
	assert_str(r, "service.name", "from-attrs");
	assert_str(r, "host.name", "node-a");
	assert_str(r, "process.command_line", cmdline);
	assert_int_equal(n_attrs(r), 11);
	otel_resource_unref(r);

	/* Neither variable: the executable's name (a forked copy of this test). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_int_equal(kspan_procfs_cmdline(NULL, getpid(), self_cmd, sizeof(self_cmd)), 0);
	r = kspan_proc_resource_new(NULL, srv4_pid, NULL);
	assert_non_null(r);
	assert_process(r, srv4_pid, self, self_cmd);
	assert_str(r, "service.name", strrchr(self, '/') + 1);
	assert_int_equal(n_attrs(r), 11);
	otel_resource_unref(r);
	assert_string_equal(log_text, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_by_pid_with_children, setup),
		cmocka_unit_test_setup(test_by_thread_id, setup),
		cmocka_unit_test_setup(test_by_exe, setup),
		cmocka_unit_test_setup(test_by_port, setup),
		cmocka_unit_test_setup(test_port_nobody_listens, setup),
		cmocka_unit_test_setup(test_combined, setup),
		cmocka_unit_test_setup(test_set_and_hook, setup),
		cmocka_unit_test_setup(test_resources, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
