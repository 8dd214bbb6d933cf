// SPDX-License-Identifier: Apache-2.0
/*
 * bench_usdt: the cost of <otel/usdt.h> probe sites, unattached and with the agent attached.
 *
 * Unattached: the same small loop body (a 64-bit LCG step and a sum) runs with and without a
 * full set of probe sites (span start, 3 attributes, span end); the difference in ns per
 * iteration is what the 5 sites cost unattached: a semaphore load and a not-taken branch each.
 * The probe arguments depend on the loop's state, so they would have to be computed if the
 * guard did not skip them.
 *
 * Attached: ns per USDT span (span_start, one attr_int, span_end), first unattached, then with
 * the kspan agent (the $KSPAN binary, default ../kspan next to this one) attached to this
 * process with --pid: three uprobe hits and the kernel program that copies each into the ring
 * buffer. Spans go in bursts of BURST with a pause in between (not timed), so the agent drains
 * the ring and nothing is dropped; its ring-buffer drops are printed. Needs root; skipped
 * (and said so) otherwise.
 *
 * Each figure is repeated REPS times; the median, min and max are printed.
 * Usage: bench_usdt [iterations] [reps] [attached spans per rep]
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <otel/usdt.h>

#define LCG_MUL 6364136223846793005ull
#define LCG_ADD 1442695040888963407ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t loop_plain(uint64_t n)
{
	uint64_t x = 1, sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		x = x * LCG_MUL + LCG_ADD;
		sum += x >> 33;
	}
	return sum;
}

__attribute__((noinline)) static uint64_t loop_probed(uint64_t n)
{
	uint64_t x = 1, sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		OTEL_USDT_SPAN_START("step");
		x = x * LCG_MUL + LCG_ADD;
		OTEL_USDT_ATTR_INT("step.i", i);
		OTEL_USDT_ATTR_DOUBLE("step.x", (double)(x >> 11));
		OTEL_USDT_ATTR_BOOL("step.odd", x & 1);
		sum += x >> 33;
		OTEL_USDT_SPAN_END();
	}
	return sum;
}

/* One USDT span as an application writes it: start, one attribute, end. */
__attribute__((noinline)) static uint64_t spans(uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		OTEL_USDT_SPAN_START("step");
		OTEL_USDT_ATTR_INT("step.i", i);
		sum += i;
		OTEL_USDT_SPAN_END();
	}
	return sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *v, int reps)
{
	qsort(v, reps, sizeof(*v), cmp_double);
	printf("%-36s median %7.3f ns  min %7.3f  max %7.3f  (n=%d)\n", what, v[reps / 2], v[0],
	       v[reps - 1], reps);
}

/* The loops' sums land here so that the loops cannot be dropped. */
volatile uint64_t bench_usdt_sink;

static double ns_per_iter(uint64_t (*loop)(uint64_t), uint64_t n)
{
	uint64_t t0 = now_ns();

	bench_usdt_sink = loop(n);
	return (double)(now_ns() - t0) / (double)n;
}

/* Spans per burst: their records (3 x 416 bytes each) fit the agent's 4 MiB ring. */
#define BURST 2000
#define PAUSE_NS 20000000 /* between bursts: the agent drains the ring */

/* ns per span over @total spans in bursts, only the bursts timed; a pause after each one. */
static double ns_per_span(uint64_t total, bool pause_between)
{
	struct timespec pause = { 0, pause_between ? PAUSE_NS : 0 };
	uint64_t done = 0, ns = 0, t0, n;

	while (done < total) {
		n = total - done < BURST ? total - done : BURST;
		t0 = now_ns();
		bench_usdt_sink = spans(n);
		ns += now_ns() - t0;
		done += n;
		if (pause_between)
			nanosleep(&pause, NULL);
	}
	return (double)ns / (double)total;
}

/* The agent binary: $KSPAN, else kspan in the parent directory of this program's. */
static void agent_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv("KSPAN")) {
		snprintf(out, size, "%s", getenv("KSPAN"));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	snprintf(out, size, "%s/../kspan", dirname(self));
}

/* `kspan --pid <us>` with nothing exported, its stderr into @log; its pid, or -1. */
static pid_t agent_start(const char *kspan, const char *log)
{
	char pid[16];
	pid_t a;
	int fd;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	a = fork();
	if (a == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || !freopen("/dev/null", "w", stdout))
			_exit(126);
		setenv("OTEL_TRACES_EXPORTER", "none", 1);
		execl(kspan, "kspan", "--pid", pid, "--stats-interval", "1", (char *)NULL);
		_exit(127);
	}
	return a;
}

/* Ring-buffer drops in the agent's last stats line, or -1 if there is none. */
static long long agent_drops(const char *log)
{
	char line[1024], *p;
	long long drops = -1;
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f))
		if ((p = strstr(line, "drops: ringbuf ")))
			drops = atoll(p + strlen("drops: ringbuf "));
	if (f)
		fclose(f);
	return drops;
}

/* ns per USDT span unattached, then with the agent attached; 0, or 1 when it could not run. */
static int bench_attached(uint64_t n, int reps)
{
	double *off = calloc(reps, sizeof(double)), *on = calloc(reps, sizeof(double));
	char kspan[PATH_MAX], log[] = "/tmp/kspan-bench-usdt-XXXXXX";
	int fd, status, waited, rc = 1;
	pid_t agent = -1;

	printf("USDT span (span_start, attr_int, span_end): %llu spans per rep, bursts of %d\n",
	       (unsigned long long)n, BURST);
	if (!off || !on)
		goto out;
	if (geteuid() != 0) {
		printf("attached: skipped (needs root to run the agent)\n");
		rc = 0;
		goto out;
	}
	agent_path(kspan, sizeof(kspan));
	fd = mkstemp(log);
	if (fd < 0)
		goto out;
	close(fd);
	ns_per_span(n / 10, false);
	for (int r = 0; r < reps; r++)
		off[r] = ns_per_span(n, false);
	fflush(stdout); /* the child must not write our buffer out again */
	agent = agent_start(kspan, log);
	/* Attached once the agent has raised the semaphores (within 15 s). */
	for (waited = 0; agent > 0 && !OTEL_USDT_ENABLED(span_start) && waited < 1500; waited++)
		usleep(10000);
	if (agent <= 0 || !OTEL_USDT_ENABLED(span_start)) {
		fprintf(stderr, "bench_usdt: %s did not attach (its log: %s)\n", kspan, log);
		goto out;
	}
	ns_per_span(n / 10, true);
	for (int r = 0; r < reps; r++)
		on[r] = ns_per_span(n, true);
	sleep(2); /* a stats line after the last burst */
	report("ns/span, unattached", off, reps);
	report("ns/span, kspan attached", on, reps);
	printf("%-36s %7.1f ns (difference of the medians)\n", "attached cost per span",
	       on[reps / 2] - off[reps / 2]);
	kill(agent, SIGTERM);
	if (waitpid(agent, &status, 0) == agent && WIFEXITED(status) && !WEXITSTATUS(status)) {
		printf("agent: ring buffer drops %lld, exit 0, semaphores back to %u\n",
		       agent_drops(log), otel_span_start_semaphore);
		rc = 0;
	} else {
		fprintf(stderr, "bench_usdt: the agent did not exit cleanly (its log: %s)\n", log);
	}
	agent = -1;
out:
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
	if (!rc)
		unlink(log);
	free(off);
	free(on);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000000ull;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	uint64_t attached = argc > 3 ? strtoull(argv[3], NULL, 10) : 100000ull;
	int rc;

	if (n == 0 || reps < 1 || reps > 1000 || attached == 0) {
		fprintf(stderr, "usage: %s [iterations>0] [reps 1..1000] [attached spans>0]\n",
			argv[0]);
		return 2;
	}
	double *plain = calloc(reps, sizeof(double));
	double *probed = calloc(reps, sizeof(double));
	double *diff = calloc(reps, sizeof(double));
	if (!plain || !probed || !diff)
		return 1;

	ns_per_iter(loop_plain, n / 10); /* warm-up: page in, let the CPU clock settle */
	ns_per_iter(loop_probed, n / 10);
	for (int r = 0; r < reps; r++) {
		plain[r] = ns_per_iter(loop_plain, n);
		probed[r] = ns_per_iter(loop_probed, n);
		diff[r] = probed[r] - plain[r];
	}
	printf("USDT sites unattached: %llu iterations, 5 sites per iteration (start, 3 attrs, end)\n",
	       (unsigned long long)n);
	report("ns/iteration, no probes", plain, reps);
	report("ns/iteration, 5 probe sites", probed, reps);
	report("difference (ns/iteration, paired)", diff, reps);
	free(plain);
	free(probed);
	free(diff);
	fflush(stdout);
	rc = bench_attached(attached, reps);
	return rc;
}
