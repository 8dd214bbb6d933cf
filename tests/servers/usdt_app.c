// SPDX-License-Identifier: Apache-2.0
/*
 * tests/servers/usdt_app.c: a program with every otel:* probe of <otel/usdt.h>, fired with
 * known arguments when told to, for tests/integration/test_usdt_capture.c (and whose notes
 * tests/unit/test_usdt_scan.c lists). It prints "ready PID", then reads one command per
 * line on stdin and answers with one line on stdout:
 *
 *   fire           fire_sequence() (see there), then "fired TID"
 *   sema           "sema N N N N N N N N N": the 9 semaphores, in enum kspan_usdt_probe order
 *   thread         a thread fires span_start("worker"), attr_int("thread.n", 1), span_end and
 *                  exits; joined, then "thread TID" (the thread's)
 *   fork           a child that waits for SIGUSR1, then fires span_start("child"), span_end
 *                  and exits 0: "child PID"
 *   reap           waits for that child: "reaped STATUS"
 *   exec           execs this program again (which prints "ready PID" again)
 *   dlopen PATH    loads a library built from this file with -DUSDT_APP_LIBRARY: "loaded"
 *   libfire        its probes: span_start("lib span"), attr_str("lib.key", "lib value"),
 *                  span_end, then "libfired TID"
 *   libsema        "libsema N N N N N N N N N": the library's own 9 semaphores
 *   quit           exit 0
 *
 * Anything else: "error ...". Built with -DUSDT_APP_LIBRARY, this file is that library.
 */
#include <otel/usdt.h>

#include <stdio.h>

/* The semaphores of this object (executable or library), in enum kspan_usdt_probe order. */
static void print_semaphores(const char *tag)
{
	printf("%s %u %u %u %u %u %u %u %u %u\n", tag, otel_span_start_semaphore,
	       otel_span_end_semaphore, otel_attr_str_semaphore, otel_attr_int_semaphore,
	       otel_attr_double_semaphore, otel_attr_bool_semaphore, otel_event_semaphore,
	       otel_status_semaphore, otel_exception_semaphore);
}

#ifdef USDT_APP_LIBRARY

__attribute__((visibility("default"))) void usdt_app_lib_fire(void)
{
	OTEL_USDT_SPAN_START("lib span");
	OTEL_USDT_ATTR_STR("lib.key", "lib value");
	OTEL_USDT_SPAN_END();
}

__attribute__((visibility("default"))) void usdt_app_lib_semaphores(void)
{
	print_semaphores("libsema");
}

#else /* the program */

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The records test_usdt_capture expects, in this order (probe: str1 / num / str2, flags):
 *   span_start  "checkout" / 1 (SERVER)
 *   attr_str    "user.id" / "u-42"
 *   attr_str    "note" / NULL -> ""
 *   attr_str    200 x 'k' / 300 x 'v' -> cut to 127 and 255 bytes, STR1_CUT | STR2_CUT
 *   attr_int    "items" / -7
 *   attr_double "price" / the bits of 12.5
 *   attr_bool   "gift" / 1
 *   event       "cart loaded"
 *   event       126 x 'e' (fits), then 127 x 'e' (fills str1: STR1_CUT)
 *   event       an unreadable pointer -> "", READ_FAULT
 *   status      2 (ERROR) / "out of stock"
 *   exception   "StockError" / "item 7 missing"
 *   span_start  NULL -> "" / 0
 *   span_end, span_end
 */
__attribute__((noinline)) static void fire_sequence(void)
{
	char key[201], value[301], e126[127], e127[128];

	memset(key, 'k', 200);
	key[200] = '\0';
	memset(value, 'v', 300);
	value[300] = '\0';
	memset(e126, 'e', 126);
	e126[126] = '\0';
	memset(e127, 'e', 127);
	e127[127] = '\0';

	OTEL_USDT_SPAN_START_KIND("checkout", OTEL_USDT_KIND_SERVER);
	OTEL_USDT_ATTR_STR("user.id", "u-42");
	OTEL_USDT_ATTR_STR("note", NULL);
	OTEL_USDT_ATTR_STR(key, value);
	OTEL_USDT_ATTR_INT("items", -7);
	OTEL_USDT_ATTR_DOUBLE("price", 12.5);
	OTEL_USDT_ATTR_BOOL("gift", true);
	OTEL_USDT_EVENT("cart loaded");
	OTEL_USDT_EVENT(e126);
	OTEL_USDT_EVENT(e127);
	OTEL_USDT_EVENT((const char *)16); /* never mapped */
	OTEL_USDT_STATUS(OTEL_USDT_STATUS_ERROR, "out of stock");
	OTEL_USDT_EXCEPTION("StockError", "item 7 missing");
	OTEL_USDT_SPAN_START(NULL);
	OTEL_USDT_SPAN_END();
	OTEL_USDT_SPAN_END();
}

static void *thread_main(void *arg)
{
	pid_t *tid = arg;

	*tid = gettid();
	OTEL_USDT_SPAN_START("worker");
	OTEL_USDT_ATTR_INT("thread.n", 1);
	OTEL_USDT_SPAN_END();
	return NULL;
}

/*
 * The forked child: wait for SIGUSR1 (blocked before the fork), fire, exit. Its name is on
 * the stack: fork does not copy the page table entries of file mappings, and the kernel
 * side reads strings without faulting pages in, so a literal in .rodata the child has not
 * touched yet would read as a fault (KSPAN_USDT_F_READ_FAULT).
 */
static void child_main(void)
{
	char name[] = "child";
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig))
		_exit(3);
	OTEL_USDT_SPAN_START(name);
	OTEL_USDT_SPAN_END();
	_exit(0);
}

struct app {
	char **argv;
	pid_t child;
	void (*lib_fire)(void);
	void (*lib_sema)(void);
};

static void cmd_thread(void)
{
	pthread_t t;
	pid_t tid = 0;

	if (pthread_create(&t, NULL, thread_main, &tid) || pthread_join(t, NULL))
		printf("error thread\n");
	else
		printf("thread %d\n", (int)tid);
}

static void cmd_fork(struct app *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(stdout);
	a->child = fork();
	if (a->child == 0)
		child_main();
	if (a->child < 0)
		printf("error fork\n");
	else
		printf("child %d\n", (int)a->child);
}

static void cmd_reap(struct app *a)
{
	int status;

	if (a->child <= 0 || waitpid(a->child, &status, 0) != a->child)
		printf("error reap\n");
	else
		printf("reaped %d\n", status);
	a->child = 0;
}

static void cmd_dlopen(struct app *a, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (h) {
		a->lib_fire = (void (*)(void))dlsym(h, "usdt_app_lib_fire");
		a->lib_sema = (void (*)(void))dlsym(h, "usdt_app_lib_semaphores");
	}
	if (!h || !a->lib_fire || !a->lib_sema)
		printf("error dlopen %s\n", dlerror());
	else
		printf("loaded\n");
}

/* One command; false to quit. */
static bool command(struct app *a, const char *cmd)
{
	if (!strcmp(cmd, "fire")) {
		fire_sequence();
		printf("fired %d\n", (int)gettid());
	} else if (!strcmp(cmd, "sema")) {
		print_semaphores("sema");
	} else if (!strcmp(cmd, "thread")) {
		cmd_thread();
	} else if (!strcmp(cmd, "fork")) {
		cmd_fork(a);
	} else if (!strcmp(cmd, "reap")) {
		cmd_reap(a);
	} else if (!strcmp(cmd, "exec")) {
		fflush(stdout);
		execv("/proc/self/exe", a->argv);
		printf("error exec\n");
	} else if (!strncmp(cmd, "dlopen ", 7)) {
		cmd_dlopen(a, cmd + 7);
	} else if (!strcmp(cmd, "libfire") && a->lib_fire) {
		a->lib_fire();
		printf("libfired %d\n", (int)gettid());
	} else if (!strcmp(cmd, "libsema") && a->lib_sema) {
		a->lib_sema();
	} else if (!strcmp(cmd, "quit")) {
		return false;
	} else {
		printf("error unknown command: %s\n", cmd);
	}
	return true;
}

int main(int argc, char **argv)
{
	struct app a = { .argv = argv };
	char line[4096];
	size_t len;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (!command(&a, line))
			break;
	}
	return 0;
}

#endif /* USDT_APP_LIBRARY */
