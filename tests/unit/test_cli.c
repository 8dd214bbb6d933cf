// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the agent's command line (userspace/cli.c): every flag in
 * both forms, the KSPAN_* variables and their precedence, the commands, the
 * system checks of run (PIDs, executables), and the exact message and exit
 * code of every bad value.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli.h"

/* A PID no process can have: above PID_MAX_LIMIT (4194304). */
#define NO_PID "2147483647"

static struct kspan_config cfg;
static char errbuf[4096];
static char selfpid[32];
static char tmpdir[] = "/tmp/kspan-test-cli-XXXXXX";

/* Parse a NULL-terminated argument list (argv[0] added) with envp; messages into errbuf. */
static int parse_env(char **envp, ...)
{
	char *argv[64] = { "kspan" };
	int argc = 1, rc;
	va_list ap;
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);

	assert_non_null(err);
	va_start(ap, envp);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	kspan_config_free(&cfg);
	rc = kspan_cli_parse(argc, argv, envp, &cfg, err);
	fclose(err);
	snprintf(errbuf, sizeof(errbuf), "%s", buf);
	free(buf);
	return rc;
}

#define parse(...) parse_env(NULL, __VA_ARGS__, NULL)
#define ENV(...) ((char *[]){ __VA_ARGS__, NULL })

/* The call fails with -EINVAL, this exact message and nothing in the config. */
#define assert_bad(MSG, RC)                                                                        \
	do {                                                                                       \
		assert_int_equal((RC), -EINVAL);                                                   \
		assert_string_equal(errbuf, "kspan: " MSG "\n");                                   \
		assert_null(cfg.pids);                                                             \
		assert_int_equal(cfg.n_pids, 0);                                                   \
		assert_null(cfg.exes);                                                             \
		assert_null(cfg.ports);                                                            \
	} while (0)

static int setup(void **state)
{
	(void)state;
	snprintf(selfpid, sizeof(selfpid), "%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kspan_config_free(&cfg);
	return 0;
}

static int group_setup(void **state)
{
	char path[sizeof(tmpdir) + 32];
	FILE *f;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("not a program\n", f);
	fclose(f);
	return chmod(path, 0644);
}

static int group_teardown(void **state)
{
	char path[sizeof(tmpdir) + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* ---- defaults, commands, help ---- */

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("--pid", selfpid), 0);
	assert_string_equal(errbuf, "");
	assert_int_equal(cfg.cmd, KSPAN_CMD_RUN);
	assert_int_equal(cfg.n_pids, 1);
	assert_int_equal(cfg.pids[0], getpid());
	assert_int_equal(cfg.n_exes, 0);
	assert_int_equal(cfg.n_ports, 0);
	assert_int_equal(cfg.capture_bytes, 1024);
	assert_int_equal(cfg.stats_interval_s, 10);
	assert_int_equal(cfg.ring_size, 8 << 20);
	assert_false(cfg.capture_query);
	assert_int_equal(cfg.log_level, KSPAN_LOG_INFO);
}

static void test_commands(void **state)
{
	(void)state;
	assert_int_equal(parse("run", "--port", "80"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_RUN);
	assert_int_equal(parse("--port", "80", "run"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_RUN);
	/* probe needs no selector and does not check the system. */
	assert_int_equal(parse("probe"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_PROBE);
	assert_int_equal(parse("probe", "--pid", NO_PID, "--exe", "/nonexistent"), 0);
	assert_int_equal(cfg.n_exes, 1);
	assert_string_equal(cfg.exes[0].arg, "/nonexistent");
	assert_null(cfg.exes[0].path);
	/* After "--" everything is an argument. */
	assert_int_equal(parse("--port", "80", "--", "probe"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_PROBE);
	assert_bad("unknown command 'trace' (expected run or probe)", parse("trace"));
	assert_bad("unexpected argument 'x' (see kspan --help)", parse("probe", "x"));
	assert_bad("unexpected argument 'run' (see kspan --help)", parse("run", "--", "run"));
}

static void test_help_and_version(void **state)
{
	(void)state;
	assert_int_equal(parse("-h"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_HELP);
	/* Help wins over bad arguments anywhere before "--". */
	assert_int_equal(parse("--port", "0", "bogus", "--help"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_HELP);
	assert_string_equal(errbuf, "");
	assert_int_equal(parse("-V"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_VERSION);
	assert_int_equal(parse("--version", "--nope"), 0);
	assert_int_equal(cfg.cmd, KSPAN_CMD_VERSION);
	assert_bad("unknown command '--help' (expected run or probe)",
		   parse("--pid", selfpid, "--", "--help"));
}

/* The usage text names every flag and every variable. */
static void test_usage_text(void **state)
{
	static const char *const must[] = {
		"--pid PID", "--exe PATH", "--port N", "--capture-bytes N", "--stats-interval S",
		"--no-stats", "--ring-size BYTES", "--capture-query", "--log-level LEVEL",
		"-h, --help", "-V, --version", "kspan probe", "KSPAN_PIDS", "KSPAN_EXES",
		"KSPAN_PORTS", "KSPAN_CAPTURE_BYTES", "KSPAN_STATS_INTERVAL", "KSPAN_RING_SIZE",
		"KSPAN_CAPTURE_QUERY", "KSPAN_LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_SAMPLER",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "--capture-db-literals",
		"--capture-db-errors", "--capture-db-rows", "KSPAN_CAPTURE_DB_LITERALS",
		"KSPAN_CAPTURE_DB_ERRORS", "KSPAN_CAPTURE_DB_ROWS",
	};
	char *buf = NULL, line[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	kspan_cli_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (!strstr(buf, must[i]))
			fail_msg("--help does not mention %s", must[i]);
	}
	/* Kernel style: nothing wider than 100 columns, and help fits a terminal at 100. */
	for (char *p = buf, *nl; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		assert_in_range(nl - p, 0, 100);
		if (!*nl)
			break;
	}
	free(buf);
	f = open_memstream(&buf, &len);
	kspan_cli_version(f);
	fclose(f);
	snprintf(line, sizeof(line), "kspan %s (libotel %s)\n", KSPAN_VERSION, OTEL_VERSION_STRING);
	assert_string_equal(buf, line);
	free(buf);
	assert_string_equal(kspan_log_level_name(KSPAN_LOG_WARN), "warn");
}

/* ---- every flag ---- */

static void test_every_flag(void **state)
{
	char sh[PATH_MAX];
	struct stat st;

	(void)state;
	assert_non_null(realpath("/bin/sh", sh));
	assert_int_equal(stat(sh, &st), 0);
	assert_int_equal(parse("--pid", selfpid, "--pid=1", "--pid", selfpid, "--exe", "/bin/sh",
			       "--port", "80", "--port=65535", "--port", "1", "--port", "80",
			       "--capture-bytes", "64", "--stats-interval=0", "--ring-size", "4M",
			       "--capture-query", "--log-level", "DEBUG"),
			 0);
	assert_int_equal(cfg.n_pids, 2); /* the repeated PID counts once */
	assert_int_equal(cfg.pids[0], getpid());
	assert_int_equal(cfg.pids[1], 1);
	assert_int_equal(cfg.n_exes, 1);
	assert_string_equal(cfg.exes[0].arg, "/bin/sh");
	assert_string_equal(cfg.exes[0].path, sh);
	assert_int_equal(cfg.exes[0].dev, st.st_dev);
	assert_int_equal(cfg.exes[0].ino, st.st_ino);
	assert_int_equal(cfg.n_ports, 3);
	assert_int_equal(cfg.ports[0], 80);
	assert_int_equal(cfg.ports[1], 65535);
	assert_int_equal(cfg.ports[2], 1);
	assert_int_equal(cfg.capture_bytes, 64);
	assert_int_equal(cfg.stats_interval_s, 0);
	assert_int_equal(cfg.ring_size, 4 << 20);
	assert_true(cfg.capture_query);
	assert_int_equal(cfg.log_level, KSPAN_LOG_DEBUG);
}

static void test_limits_accepted(void **state)
{
	(void)state;
	assert_int_equal(parse("--port", "1", "--capture-bytes", "4096", "--stats-interval",
			       "86400", "--ring-size", "1G", "--log-level", "error"),
			 0);
	assert_int_equal(cfg.capture_bytes, 4096);
	assert_int_equal(cfg.stats_interval_s, 86400);
	assert_int_equal(cfg.ring_size, 1u << 30);
	assert_int_equal(cfg.log_level, KSPAN_LOG_ERROR);
	assert_int_equal(parse("--port", "1", "--ring-size", "4096", "--log-level", "warn"), 0);
	assert_int_equal(cfg.ring_size, 4096);
	assert_int_equal(cfg.log_level, KSPAN_LOG_WARN);
	assert_int_equal(parse("--port", "1", "--ring-size", "64k"), 0);
	assert_int_equal(cfg.ring_size, 64 << 10);
	assert_int_equal(parse("--port", "1", "--ring-size", "1048576"), 0);
	assert_int_equal(cfg.ring_size, 1 << 20);
}

/* --no-stats and --stats-interval write one setting: the last one wins. */
static void test_no_stats(void **state)
{
	(void)state;
	assert_int_equal(parse("--port", "1", "--no-stats"), 0);
	assert_int_equal(cfg.stats_interval_s, 0);
	assert_int_equal(parse("--port", "1", "--no-stats", "--stats-interval", "5"), 0);
	assert_int_equal(cfg.stats_interval_s, 5);
	assert_int_equal(parse("--port", "1", "--stats-interval", "5", "--no-stats"), 0);
	assert_int_equal(cfg.stats_interval_s, 0);
	/* The flag wins over the variable. */
	assert_int_equal(parse_env(ENV("KSPAN_STATS_INTERVAL=7"), "--port", "1", "--no-stats", NULL),
			 0);
	assert_int_equal(cfg.stats_interval_s, 0);
	assert_bad("--no-stats takes no value (got '1')", parse("--port", "1", "--no-stats=1"));
}

/* Two names of one file are one --exe. */
static void test_exe_dedup(void **state)
{
	char sh[PATH_MAX];

	(void)state;
	assert_non_null(realpath("/bin/sh", sh));
	assert_int_equal(parse("--exe", "/bin/sh", "--exe", sh, "--exe", "/bin/sh"), 0);
	assert_int_equal(cfg.n_exes, 1);
	assert_string_equal(cfg.exes[0].path, sh);
}

/* ---- environment ---- */

static void test_env_all(void **state)
{
	char pids[64], sh[PATH_MAX];

	(void)state;
	snprintf(pids, sizeof(pids), "KSPAN_PIDS= %s , 1,,", selfpid);
	assert_non_null(realpath("/bin/sh", sh));
	assert_int_equal(parse_env(ENV(pids, "KSPAN_EXES=/bin/sh", "KSPAN_PORTS=80,443",
				       "KSPAN_CAPTURE_BYTES=2048", "KSPAN_STATS_INTERVAL=0",
				       "KSPAN_RING_SIZE=16M", "KSPAN_CAPTURE_QUERY=TRUE",
				       "KSPAN_LOG_LEVEL=warn", "KSPAN_CAPTURE_DB_LITERALS=true",
				       "KSPAN_CAPTURE_DB_ERRORS=1", "KSPAN_CAPTURE_DB_ROWS=0",
				       "OTHER=1"),
				   NULL),
			 0);
	assert_int_equal(cfg.n_pids, 2);
	assert_int_equal(cfg.pids[0], getpid());
	assert_int_equal(cfg.pids[1], 1);
	assert_int_equal(cfg.n_exes, 1);
	assert_string_equal(cfg.exes[0].path, sh);
	assert_int_equal(cfg.n_ports, 2);
	assert_int_equal(cfg.ports[0], 80);
	assert_int_equal(cfg.ports[1], 443);
	assert_int_equal(cfg.capture_bytes, 2048);
	assert_int_equal(cfg.stats_interval_s, 0);
	assert_int_equal(cfg.ring_size, 16 << 20);
	assert_true(cfg.capture_query);
	assert_true(cfg.capture_db_literals);
	assert_true(cfg.capture_db_errors);
	assert_false(cfg.capture_db_rows);
	assert_int_equal(cfg.log_level, KSPAN_LOG_WARN);
}

/* The database capture switches: off by default, on by flag, a variable says true or false. */
static void test_db_capture_switches(void **state)
{
	(void)state;
	assert_int_equal(parse("--pid", selfpid, NULL), 0);
	assert_false(cfg.capture_db_literals);
	assert_false(cfg.capture_db_errors);
	assert_false(cfg.capture_db_rows);
	assert_int_equal(parse("--pid", selfpid, "--capture-db-literals", "--capture-db-errors",
			       "--capture-db-rows", NULL),
			 0);
	assert_true(cfg.capture_db_literals);
	assert_true(cfg.capture_db_errors);
	assert_true(cfg.capture_db_rows);
	assert_int_equal(parse_env(ENV("KSPAN_CAPTURE_DB_ROWS=false"), "--pid", selfpid,
				   "--capture-db-rows", NULL),
			 0);
	assert_true(cfg.capture_db_rows); /* the flag wins */
	assert_bad("KSPAN_CAPTURE_DB_ERRORS: invalid value 'yes' (expected true or false (or 1 or "
		   "0))",
		   parse_env(ENV("KSPAN_CAPTURE_DB_ERRORS=yes"), "--pid", selfpid, NULL));
}

static void test_env_precedence(void **state)
{
	(void)state;
	/* Each flag replaces its variable (a list entirely); other variables still apply. */
	assert_int_equal(parse_env(ENV("KSPAN_PORTS=80,443", "KSPAN_CAPTURE_BYTES=2048",
				       "KSPAN_CAPTURE_QUERY=1", "KSPAN_LOG_LEVEL=error",
				       "KSPAN_RING_SIZE=4096"),
				   "--port", "8080", "--capture-bytes", "128", "--log-level", "debug",
				   NULL),
			 0);
	assert_int_equal(cfg.n_ports, 1);
	assert_int_equal(cfg.ports[0], 8080);
	assert_int_equal(cfg.capture_bytes, 128);
	assert_int_equal(cfg.log_level, KSPAN_LOG_DEBUG);
	assert_true(cfg.capture_query);
	assert_int_equal(cfg.ring_size, 4096);
	/* A bad variable that a flag overrides is never looked at. */
	assert_int_equal(parse_env(ENV("KSPAN_CAPTURE_BYTES=lots", "KSPAN_PORTS=x"), "--port", "1",
				   "--capture-bytes", "100", NULL),
			 0);
	assert_int_equal(cfg.capture_bytes, 100);
	/* Empty means unset; the first of two entries wins, as getenv() has it. */
	assert_int_equal(parse_env(ENV("KSPAN_CAPTURE_BYTES=", "KSPAN_PORTS=22",
				       "KSPAN_PORTS=x", "KSPAN_CAPTURE_QUERY=false"),
				   NULL),
			 0);
	assert_int_equal(cfg.capture_bytes, 1024);
	assert_int_equal(cfg.n_ports, 1);
	assert_int_equal(cfg.ports[0], 22);
	assert_false(cfg.capture_query);
	/* A name that merely starts like a variable is another variable. */
	assert_bad("nothing to trace: give at least one --pid, --exe or --port (or KSPAN_PIDS, "
		   "KSPAN_EXES, KSPAN_PORTS); see kspan --help",
		   parse_env(ENV("KSPAN_PORTSX=80", "KSPAN_PORTS"), NULL));
}

static void test_env_bad_values(void **state)
{
	(void)state;
	assert_bad("KSPAN_PIDS: invalid value 'x' (expected a process ID, a positive integer)",
		   parse_env(ENV("KSPAN_PIDS=1, x"), NULL));
	assert_bad("KSPAN_PORTS: invalid value '70000' (expected a TCP port number, 1-65535)",
		   parse_env(ENV("KSPAN_PORTS=80,70000"), NULL));
	assert_bad("KSPAN_CAPTURE_BYTES: invalid value '10' (expected a number of bytes, 64-4096)",
		   parse_env(ENV("KSPAN_CAPTURE_BYTES=10", "KSPAN_PORTS=1"), NULL));
	assert_bad("KSPAN_STATS_INTERVAL: invalid value 'often' (expected a number of seconds, "
		   "0-86400 (0: off))",
		   parse_env(ENV("KSPAN_STATS_INTERVAL= often ", "KSPAN_PORTS=1"), NULL));
	assert_bad("KSPAN_RING_SIZE: invalid value '3000' (expected a power of two from 4096 to "
		   "1073741824 bytes, with an optional K, M or G suffix)",
		   parse_env(ENV("KSPAN_RING_SIZE=3000", "KSPAN_PORTS=1"), NULL));
	assert_bad("KSPAN_CAPTURE_QUERY: invalid value 'yes please' (expected true or false (or 1 "
		   "or 0))",
		   parse_env(ENV("KSPAN_CAPTURE_QUERY=yes please", "KSPAN_PORTS=1"), NULL));
	assert_bad("KSPAN_LOG_LEVEL: invalid value 'trace' (expected error, warn, info or debug)",
		   parse_env(ENV("KSPAN_LOG_LEVEL=trace", "KSPAN_PORTS=1"), NULL));
	assert_bad("KSPAN_PIDS: no process with PID " NO_PID,
		   parse_env(ENV("KSPAN_PIDS=" NO_PID), NULL));
	assert_bad("KSPAN_EXES: cannot use '/nonexistent/kspan': No such file or directory "
		   "(expected the path of an executable file)",
		   parse_env(ENV("KSPAN_EXES=/bin/sh,/nonexistent/kspan"), NULL));
}

/* ---- bad flag values: the exact message ---- */

static void test_bad_pid(void **state)
{
	(void)state;
	assert_bad("--pid: invalid value '0' (expected a process ID, a positive integer)",
		   parse("--pid", "0"));
	assert_bad("--pid: invalid value '-5' (expected a process ID, a positive integer)",
		   parse("--pid", "-5"));
	assert_bad("--pid: invalid value '12a' (expected a process ID, a positive integer)",
		   parse("--pid=12a"));
	assert_bad("--pid: invalid value ' 12' (expected a process ID, a positive integer)",
		   parse("--pid", " 12"));
	assert_bad("--pid: invalid value '2147483648' (expected a process ID, a positive integer)",
		   parse("--pid", "2147483648"));
	assert_bad("--pid: invalid value '' (expected a process ID, a positive integer)",
		   parse("--pid="));
	assert_bad("--pid: no process with PID " NO_PID, parse("--pid", selfpid, "--pid", NO_PID));
	assert_bad("--pid needs a value (a process ID, a positive integer)", parse("--pid"));
}

static void test_bad_port(void **state)
{
	(void)state;
	assert_bad("--port: invalid value '0' (expected a TCP port number, 1-65535)",
		   parse("--port", "0"));
	assert_bad("--port: invalid value '65536' (expected a TCP port number, 1-65535)",
		   parse("--port", "65536"));
	assert_bad("--port: invalid value 'http' (expected a TCP port number, 1-65535)",
		   parse("--port=http"));
	assert_bad("--port: invalid value '99999999999999999999999' (expected a TCP port number, "
		   "1-65535)",
		   parse("--port", "99999999999999999999999"));
	assert_bad("--port needs a value (a TCP port number, 1-65535)", parse("--port"));
}

static void test_bad_exe(void **state)
{
	char data[sizeof(tmpdir) + 32], msg[512];

	(void)state;
	assert_bad("--exe: cannot use '/nonexistent/kspan': No such file or directory (expected "
		   "the path of an executable file)",
		   parse("--exe", "/nonexistent/kspan"));
	assert_bad("--exe: '/tmp' is not a regular file (expected the path of an executable file)",
		   parse("--exe", "/tmp"));
	assert_bad("--exe: invalid value '' (expected the path of an executable file)",
		   parse("--exe="));
	snprintf(data, sizeof(data), "%s/data", tmpdir);
	assert_int_equal(parse("--exe", data), -EINVAL);
	snprintf(msg, sizeof(msg),
		 "kspan: --exe: '%s' is not executable (expected the path of an executable file)\n",
		 data);
	assert_string_equal(errbuf, msg);
	assert_null(cfg.exes);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	assert_bad("--capture-bytes: invalid value '63' (expected a number of bytes, 64-4096)",
		   parse("--port", "1", "--capture-bytes", "63"));
	assert_bad("--capture-bytes: invalid value '4097' (expected a number of bytes, 64-4096)",
		   parse("--port", "1", "--capture-bytes", "4097"));
	assert_bad("--capture-bytes: invalid value '1k' (expected a number of bytes, 64-4096)",
		   parse("--port", "1", "--capture-bytes", "1k"));
	assert_bad("--stats-interval: invalid value '86401' (expected a number of seconds, 0-86400 "
		   "(0: off))",
		   parse("--port", "1", "--stats-interval", "86401"));
	assert_bad("--stats-interval: invalid value '-1' (expected a number of seconds, 0-86400 "
		   "(0: off))",
		   parse("--port", "1", "--stats-interval=-1"));
	assert_bad("--log-level: invalid value 'verbose' (expected error, warn, info or debug)",
		   parse("--port", "1", "--log-level", "verbose"));
	assert_bad("--capture-query takes no value (got 'false')",
		   parse("--port", "1", "--capture-query=false"));
}

static void test_bad_ring_size(void **state)
{
	static const char *const bad[] = { "3000", "0", "2G", "1025K", "8MB", "", "K", "-4096",
					   "5000", "2048", "4294967296", "12345678901234567890123" };
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse("--port", "1", "--ring-size", bad[i]), -EINVAL);
		snprintf(msg, sizeof(msg),
			 "kspan: --ring-size: invalid value '%s' (expected a power of two from 4096 "
			 "to 1073741824 bytes, with an optional K, M or G suffix)\n",
			 bad[i]);
		assert_string_equal(errbuf, msg);
	}
}

static void test_bad_usage(void **state)
{
	char big[400], msg[600];

	(void)state;
	assert_bad("unknown option '--pids' (see kspan --help)", parse("--pids", "1"));
	assert_bad("unknown option '-p' (see kspan --help)", parse("-p", "1"));
	assert_bad("unknown option '---' (see kspan --help)", parse("---"));
	assert_bad("nothing to trace: give at least one --pid, --exe or --port (or KSPAN_PIDS, "
		   "KSPAN_EXES, KSPAN_PORTS); see kspan --help",
		   parse("run", "--capture-bytes", "100"));
	/* A huge value is cut in the message. */
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse("--port", big), -EINVAL);
	snprintf(msg, sizeof(msg),
		 "kspan: --port: invalid value '%.200s...' (expected a TCP port number, 1-65535)\n",
		 big);
	assert_string_equal(errbuf, msg);
	/* With no error stream the result is the same, silently. */
	assert_int_equal(kspan_cli_parse(2, (char *[]){ "kspan", "--nope", NULL }, NULL, &cfg, NULL),
			 -EINVAL);
	kspan_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exe_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_capture_switches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_exe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_usage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
