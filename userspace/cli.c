// SPDX-License-Identifier: Apache-2.0
/*
 * The command line of the agent: a table of options, each with its KSPAN_*
 * variable, parsed from argv first and then from the environment for the
 * settings no flag gave; the system checks of the run command; --help.
 *
 * Why a hand-written parser and not getopt_long: getopt keeps global state
 * and prints its own messages, and the messages here must name the flag or
 * the variable, the value and what is accepted.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

enum opt_id {
	OPT_PID,
	OPT_EXE,
	OPT_PORT,
	OPT_CAPTURE_BYTES,
	OPT_STATS_INTERVAL,
	OPT_NO_STATS,
	OPT_RING_SIZE,
	OPT_CAPTURE_QUERY,
	OPT_CAPTURE_DB_LITERALS,
	OPT_CAPTURE_DB_ERRORS,
	OPT_CAPTURE_DB_ROWS,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
	N_OPTS,
};

struct parse {
	struct kspan_config *cfg;
	FILE *err;
	char src[N_OPTS][32]; /* per setting: the flag or variable that gave it, or "" */
};

typedef int (*apply_fn)(struct parse *p, const char *src, const char *val);

struct opt_def {
	const char *name; /* long name without "--" */
	char short_name; /* 0: none */
	bool has_arg;
	enum opt_id setting; /* the setting it writes: --no-stats writes the stats interval */
	const char *env; /* its KSPAN_* variable, NULL for none */
	bool env_list; /* the variable holds a comma-separated list */
	const char *accepted; /* what a valid value is, for messages */
	apply_fn apply;
};

static int apply_pid(struct parse *p, const char *src, const char *val);
static int apply_exe(struct parse *p, const char *src, const char *val);
static int apply_port(struct parse *p, const char *src, const char *val);
static int apply_capture_bytes(struct parse *p, const char *src, const char *val);
static int apply_stats_interval(struct parse *p, const char *src, const char *val);
static int apply_no_stats(struct parse *p, const char *src, const char *val);
static int apply_ring_size(struct parse *p, const char *src, const char *val);
static int apply_capture_query(struct parse *p, const char *src, const char *val);
static int apply_capture_db_literals(struct parse *p, const char *src, const char *val);
static int apply_capture_db_errors(struct parse *p, const char *src, const char *val);
static int apply_capture_db_rows(struct parse *p, const char *src, const char *val);
static int apply_log_level(struct parse *p, const char *src, const char *val);

#define STR_(X) #X
#define STR(X) STR_(X)

static const struct opt_def opts[N_OPTS] = {
	[OPT_PID] = { "pid", 0, true, OPT_PID, "KSPAN_PIDS", true,
		      "a process ID, a positive integer", apply_pid },
	[OPT_EXE] = { "exe", 0, true, OPT_EXE, "KSPAN_EXES", true, "the path of an executable file",
		      apply_exe },
	[OPT_PORT] = { "port", 0, true, OPT_PORT, "KSPAN_PORTS", true, "a TCP port number, 1-65535",
		       apply_port },
	[OPT_CAPTURE_BYTES] = { "capture-bytes", 0, true, OPT_CAPTURE_BYTES, "KSPAN_CAPTURE_BYTES",
				false,
				"a number of bytes, " STR(KSPAN_CAPTURE_BYTES_MIN) "-" STR(
					KSPAN_CAPTURE_BYTES_MAX),
				apply_capture_bytes },
	[OPT_STATS_INTERVAL] = { "stats-interval", 0, true, OPT_STATS_INTERVAL,
				 "KSPAN_STATS_INTERVAL", false,
				 "a number of seconds, 0-" STR(KSPAN_STATS_INTERVAL_MAX) " (0: off)",
				 apply_stats_interval },
	[OPT_NO_STATS] = { "no-stats", 0, false, OPT_STATS_INTERVAL, NULL, false, NULL,
			   apply_no_stats },
	[OPT_RING_SIZE] = { "ring-size", 0, true, OPT_RING_SIZE, "KSPAN_RING_SIZE", false,
			    "a power of two from 4096 to 1073741824 bytes, "
			    "with an optional K, M or G suffix",
			    apply_ring_size },
	[OPT_CAPTURE_QUERY] = { "capture-query", 0, false, OPT_CAPTURE_QUERY, "KSPAN_CAPTURE_QUERY",
				false, "true or false (or 1 or 0)", apply_capture_query },
	[OPT_CAPTURE_DB_LITERALS] = { "capture-db-literals", 0, false, OPT_CAPTURE_DB_LITERALS,
				      "KSPAN_CAPTURE_DB_LITERALS", false,
				      "true or false (or 1 or 0)", apply_capture_db_literals },
	[OPT_CAPTURE_DB_ERRORS] = { "capture-db-errors", 0, false, OPT_CAPTURE_DB_ERRORS,
				    "KSPAN_CAPTURE_DB_ERRORS", false, "true or false (or 1 or 0)",
				    apply_capture_db_errors },
	[OPT_CAPTURE_DB_ROWS] = { "capture-db-rows", 0, false, OPT_CAPTURE_DB_ROWS,
				  "KSPAN_CAPTURE_DB_ROWS", false, "true or false (or 1 or 0)",
				  apply_capture_db_rows },
	[OPT_LOG_LEVEL] = { "log-level", 0, true, OPT_LOG_LEVEL, "KSPAN_LOG_LEVEL", false,
			    "error, warn, info or debug", apply_log_level },
	[OPT_HELP] = { "help", 'h', false, OPT_HELP, NULL, false, NULL, NULL },
	[OPT_VERSION] = { "version", 'V', false, OPT_VERSION, NULL, false, NULL, NULL },
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *kspan_log_level_name(enum kspan_log_level level)
{
	return (unsigned)level < 4 ? level_names[level] : "?";
}

/* ---- messages ---- */

__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		va_start(ap, fmt);
		fputs("kspan: ", p->err);
		vfprintf(p->err, fmt, ap);
		fputc('\n', p->err);
		va_end(ap);
	}
	return -EINVAL;
}

/* Values are quoted and cut short, so a megabyte of garbage gives a readable line. */
static int bad_value(struct parse *p, const char *src, const char *val, enum opt_id id)
{
	return fail(p, "%s: invalid value '%.200s%s' (expected %s)", src, val,
		    strlen(val) > 200 ? "..." : "", opts[id].accepted);
}

/* ---- values ---- */

/* A decimal number up to max: digits only (no sign, no blanks), no overflow. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		uint64_t d = (uint64_t)(*s - '0');

		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return parse_uint(s, hi, out) && *out >= lo;
}

/* Append one element to a malloc'ed array unless an equal one is there already. */
static int append_unique(void **arr, size_t *n, size_t size, const void *item)
{
	char *a = *arr;

	for (size_t i = 0; i < *n; i++)
		if (!memcmp(a + i * size, item, size))
			return 0;
	a = realloc(a, (*n + 1) * size);
	if (!a)
		return -ENOMEM;
	memcpy(a + *n * size, item, size);
	*arr = a;
	(*n)++;
	return 0;
}

static int apply_pid(struct parse *p, const char *src, const char *val)
{
	uint64_t v;
	pid_t pid;

	if (!parse_range(val, 1, INT_MAX, &v))
		return bad_value(p, src, val, OPT_PID);
	pid = (pid_t)v;
	return append_unique((void **)&p->cfg->pids, &p->cfg->n_pids, sizeof(pid), &pid);
}

static int apply_exe(struct parse *p, const char *src, const char *val)
{
	struct kspan_exe *e;

	if (!*val)
		return bad_value(p, src, val, OPT_EXE);
	for (size_t i = 0; i < p->cfg->n_exes; i++)
		if (!strcmp(p->cfg->exes[i].arg, val))
			return 0;
	e = realloc(p->cfg->exes, (p->cfg->n_exes + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	p->cfg->exes = e;
	e += p->cfg->n_exes;
	*e = (struct kspan_exe){ .arg = strdup(val) };
	if (!e->arg)
		return -ENOMEM;
	p->cfg->n_exes++;
	return 0;
}

static int apply_port(struct parse *p, const char *src, const char *val)
{
	uint64_t v;
	uint16_t port;

	if (!parse_range(val, 1, 65535, &v))
		return bad_value(p, src, val, OPT_PORT);
	port = (uint16_t)v;
	return append_unique((void **)&p->cfg->ports, &p->cfg->n_ports, sizeof(port), &port);
}

static int apply_capture_bytes(struct parse *p, const char *src, const char *val)
{
	uint64_t v;

	if (!parse_range(val, KSPAN_CAPTURE_BYTES_MIN, KSPAN_CAPTURE_BYTES_MAX, &v))
		return bad_value(p, src, val, OPT_CAPTURE_BYTES);
	p->cfg->capture_bytes = (uint32_t)v;
	return 0;
}

static int apply_stats_interval(struct parse *p, const char *src, const char *val)
{
	uint64_t v;

	if (!parse_range(val, 0, KSPAN_STATS_INTERVAL_MAX, &v))
		return bad_value(p, src, val, OPT_STATS_INTERVAL);
	p->cfg->stats_interval_s = (uint32_t)v;
	return 0;
}

static int apply_no_stats(struct parse *p, const char *src, const char *val)
{
	(void)src;
	(void)val;
	p->cfg->stats_interval_s = 0;
	return 0;
}

/* Bytes with an optional binary K/M/G suffix; a power of two in range. */
static int apply_ring_size(struct parse *p, const char *src, const char *val)
{
	static const char suffixes[] = "KMG";
	char digits[32];
	size_t len = strlen(val);
	const char *sfx;
	unsigned shift = 0;
	uint64_t v;

	if (!len || len >= sizeof(digits))
		return bad_value(p, src, val, OPT_RING_SIZE);
	memcpy(digits, val, len + 1);
	sfx = strchr(suffixes, toupper((unsigned char)digits[len - 1]));
	if (sfx && *sfx) {
		shift = 10 * (unsigned)(sfx - suffixes + 1);
		digits[len - 1] = '\0';
	}
	if (!parse_uint(digits, KSPAN_RING_SIZE_MAX >> shift, &v))
		return bad_value(p, src, val, OPT_RING_SIZE);
	v <<= shift;
	if (v < KSPAN_RING_SIZE_MIN || (v & (v - 1)))
		return bad_value(p, src, val, OPT_RING_SIZE);
	p->cfg->ring_size = (uint32_t)v;
	return 0;
}

/* A switch: the flag alone sets it; its variable says true/false/1/0. */
static int apply_switch(struct parse *p, const char *src, const char *val, enum opt_id id,
			bool *setting)
{
	if (!val || !strcasecmp(val, "true") || !strcmp(val, "1"))
		*setting = true;
	else if (!strcasecmp(val, "false") || !strcmp(val, "0"))
		*setting = false;
	else
		return bad_value(p, src, val, id);
	return 0;
}

static int apply_capture_query(struct parse *p, const char *src, const char *val)
{
	return apply_switch(p, src, val, OPT_CAPTURE_QUERY, &p->cfg->capture_query);
}

static int apply_capture_db_literals(struct parse *p, const char *src, const char *val)
{
	return apply_switch(p, src, val, OPT_CAPTURE_DB_LITERALS, &p->cfg->capture_db_literals);
}

static int apply_capture_db_errors(struct parse *p, const char *src, const char *val)
{
	return apply_switch(p, src, val, OPT_CAPTURE_DB_ERRORS, &p->cfg->capture_db_errors);
}

static int apply_capture_db_rows(struct parse *p, const char *src, const char *val)
{
	return apply_switch(p, src, val, OPT_CAPTURE_DB_ROWS, &p->cfg->capture_db_rows);
}

static int apply_log_level(struct parse *p, const char *src, const char *val)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(val, level_names[i])) {
			p->cfg->log_level = (enum kspan_log_level)i;
			return 0;
		}
	}
	return bad_value(p, src, val, OPT_LOG_LEVEL);
}

/* ---- argv ---- */

/* The option "--name[=value]" or "-c" stands for, or NULL; *inline_val gets "value". */
static const struct opt_def *find_opt(const char *arg, const char **inline_val)
{
	*inline_val = NULL;
	if (arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2]) {
		for (size_t i = 0; i < N_OPTS; i++)
			if (opts[i].short_name == arg[1])
				return &opts[i];
		return NULL;
	}
	if (strncmp(arg, "--", 2))
		return NULL;
	arg += 2;
	for (size_t i = 0; i < N_OPTS; i++) {
		size_t n = strlen(opts[i].name);

		if (strncmp(arg, opts[i].name, n) || (arg[n] && arg[n] != '='))
			continue;
		if (arg[n] == '=')
			*inline_val = arg + n + 1;
		return &opts[i];
	}
	return NULL;
}

static bool is_option(const char *arg)
{
	return arg[0] == '-' && arg[1];
}

/* -h/--help and -V/--version before "--" win over any other argument, valid or not. */
static enum kspan_cmd early_cmd(int argc, char **argv)
{
	const char *v;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const struct opt_def *o = is_option(argv[i]) ? find_opt(argv[i], &v) : NULL;

		if (o == &opts[OPT_HELP])
			return KSPAN_CMD_HELP;
		if (o == &opts[OPT_VERSION])
			return KSPAN_CMD_VERSION;
	}
	return KSPAN_CMD_RUN;
}

static int parse_command(struct parse *p, const char *arg, bool *have_cmd)
{
	if (*have_cmd)
		return fail(p, "unexpected argument '%.200s' (see kspan --help)", arg);
	*have_cmd = true;
	if (!strcmp(arg, "run"))
		p->cfg->cmd = KSPAN_CMD_RUN;
	else if (!strcmp(arg, "probe"))
		p->cfg->cmd = KSPAN_CMD_PROBE;
	else
		return fail(p, "unknown command '%.200s' (expected run or probe)", arg);
	return 0;
}

/* One option at argv[*i]; consumes its separate value argument if it takes one. */
static int parse_option(struct parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *val;
	const struct opt_def *o = find_opt(arg, &val);
	char *src;

	if (!o)
		return fail(p, "unknown option '%.200s' (see kspan --help)", arg);
	/* The setting's source is the last flag that wrote it (--no-stats or --stats-interval). */
	src = p->src[o->setting];
	snprintf(src, sizeof(p->src[0]), "--%s", o->name);
	if (!o->has_arg && val)
		return fail(p, "%s takes no value (got '%.200s')", src, val);
	if (o->has_arg && !val) {
		if (*i + 1 >= argc)
			return fail(p, "%s needs a value (%s)", src, o->accepted);
		val = argv[++*i];
	}
	return o->apply(p, src, val);
}

static int parse_argv(struct parse *p, int argc, char **argv)
{
	bool have_cmd = false, options_done = false;
	int err = 0;

	for (int i = 1; i < argc && !err; i++) {
		if (!options_done && !strcmp(argv[i], "--"))
			options_done = true;
		else if (!options_done && is_option(argv[i]))
			err = parse_option(p, argc, argv, &i);
		else
			err = parse_command(p, argv[i], &have_cmd);
	}
	return err;
}

/* ---- environment ---- */

/* The value of NAME in envp as getenv() would find it (the first entry), or NULL. */
static const char *env_lookup(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Apply one trimmed piece s[0..len) of a variable; empty pieces are skipped. */
static int apply_env_piece(struct parse *p, const struct opt_def *o, const char *s, size_t len)
{
	char *item;
	int err;

	while (len && isblank((unsigned char)*s))
		s++, len--;
	while (len && isblank((unsigned char)s[len - 1]))
		len--;
	if (!len)
		return 0;
	item = strndup(s, len);
	if (!item)
		return -ENOMEM;
	err = o->apply(p, o->env, item);
	free(item);
	return err;
}

static int apply_env(struct parse *p, const struct opt_def *o, const char *val)
{
	const char *end;
	int err = 0;

	if (!o->env_list)
		return apply_env_piece(p, o, val, strlen(val));
	while (!err) {
		end = strchrnul(val, ',');
		err = apply_env_piece(p, o, val, (size_t)(end - val));
		if (!*end)
			break;
		val = end + 1;
	}
	return err;
}

static int parse_env(struct parse *p, char **envp)
{
	int err = 0;

	for (size_t i = 0; i < N_OPTS && !err; i++) {
		const char *val;

		if (!opts[i].env || p->src[i][0])
			continue;
		val = env_lookup(envp, opts[i].env);
		if (val && *val) {
			snprintf(p->src[i], sizeof(p->src[i]), "%s", opts[i].env);
			err = apply_env(p, &opts[i], val);
		}
	}
	return err;
}

/* ---- system checks (run command) ---- */

static int check_pids(struct parse *p)
{
	for (size_t i = 0; i < p->cfg->n_pids; i++) {
		pid_t pid = p->cfg->pids[i];

		/* EPERM: it exists but belongs to someone else; the loader names the privilege. */
		if (kill(pid, 0) && errno == ESRCH)
			return fail(p, "%s: no process with PID %d", p->src[OPT_PID], (int)pid);
	}
	return 0;
}

static int resolve_exe(struct parse *p, struct kspan_exe *e)
{
	const char *src = p->src[OPT_EXE];
	struct stat st;

	if (stat(e->arg, &st))
		return fail(p, "%s: cannot use '%.200s': %s (expected %s)", src, e->arg,
			    strerror(errno), opts[OPT_EXE].accepted);
	if (!S_ISREG(st.st_mode))
		return fail(p, "%s: '%.200s' is not a regular file (expected %s)", src, e->arg,
			    opts[OPT_EXE].accepted);
	if (access(e->arg, X_OK))
		return fail(p, "%s: '%.200s' is not executable (expected %s)", src, e->arg,
			    opts[OPT_EXE].accepted);
	e->path = realpath(e->arg, NULL);
	if (!e->path)
		return errno == ENOMEM ? -ENOMEM :
					 fail(p, "%s: cannot resolve '%.200s': %s", src, e->arg,
					      strerror(errno));
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	return 0;
}

static void exe_release(struct kspan_exe *e)
{
	free(e->arg);
	free(e->path);
}

/* Resolve every --exe; two names of one file (a symlink, a hard link) become one entry. */
static int check_exes(struct parse *p)
{
	struct kspan_config *c = p->cfg;
	size_t kept = 0;

	for (size_t i = 0; i < c->n_exes; i++) {
		int err = resolve_exe(p, &c->exes[i]);
		bool dup = false;

		if (err)
			return err;
		for (size_t k = 0; k < kept && !dup; k++)
			dup = c->exes[k].dev == c->exes[i].dev && c->exes[k].ino == c->exes[i].ino;
		if (dup)
			exe_release(&c->exes[i]);
		else
			c->exes[kept++] = c->exes[i];
	}
	c->n_exes = kept;
	return 0;
}

static int check_run(struct parse *p)
{
	struct kspan_config *c = p->cfg;
	int err;

	if (!c->n_pids && !c->n_exes && !c->n_ports)
		return fail(p, "nothing to trace: give at least one --pid, --exe or --port "
			       "(or KSPAN_PIDS, KSPAN_EXES, KSPAN_PORTS); see kspan --help");
	err = check_pids(p);
	return err ? err : check_exes(p);
}

/* ---- entry points ---- */

static void config_defaults(struct kspan_config *c)
{
	*c = (struct kspan_config){
		.cmd = KSPAN_CMD_RUN,
		.capture_bytes = KSPAN_CAPTURE_BYTES_DEFAULT,
		.stats_interval_s = KSPAN_STATS_INTERVAL_DEFAULT,
		.ring_size = KSPAN_RING_SIZE_DEFAULT,
		.log_level = KSPAN_LOG_INFO,
	};
}

int kspan_cli_parse(int argc, char **argv, char **envp, struct kspan_config *out, FILE *err)
{
	struct parse p = { .cfg = out, .err = err };
	int rc;

	config_defaults(out);
	out->cmd = early_cmd(argc, argv);
	if (out->cmd == KSPAN_CMD_HELP || out->cmd == KSPAN_CMD_VERSION)
		return 0;
	rc = parse_argv(&p, argc, argv);
	if (!rc)
		rc = parse_env(&p, envp);
	if (!rc && out->cmd == KSPAN_CMD_RUN)
		rc = check_run(&p);
	if (rc == -ENOMEM)
		fail(&p, "out of memory");
	if (rc)
		kspan_config_free(out);
	return rc;
}

void kspan_config_free(struct kspan_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_exes; i++)
		exe_release(&cfg->exes[i]);
	free(cfg->exes);
	free(cfg->pids);
	free(cfg->ports);
	memset(cfg, 0, sizeof(*cfg));
}

void kspan_cli_version(FILE *f)
{
	fprintf(f, "kspan %s (libotel %s)\n", KSPAN_VERSION, otel_version_string());
}

void kspan_cli_usage(FILE *f)
{
	fputs("Usage: kspan [run] [OPTIONS]   trace running processes, export spans over OTLP\n"
	      "       kspan probe             print what the kernel offers and the attach plan\n"
	      "\n"
	      "Selectors (run needs at least one; children of a target are traced too):\n"
	      "  --pid PID            trace this process (repeatable)              KSPAN_PIDS\n"
	      "  --exe PATH           trace running and future processes of this\n"
	      "                       executable (repeatable)                      KSPAN_EXES\n"
	      "  --port N             trace the processes listening on TCP port N,\n"
	      "                       1-65535 (repeatable)                         KSPAN_PORTS\n"
	      "\n"
	      "Options:\n"
	      "  --capture-bytes N    payload bytes copied per syscall, 64-4096\n"
	      "                       (default 1024)                               KSPAN_CAPTURE_BYTES\n"
	      "  --stats-interval S   seconds between stats lines, 0-86400, 0 = off\n"
	      "                       (default 10)                                 KSPAN_STATS_INTERVAL\n"
	      "  --no-stats           no stats line (same as --stats-interval 0)\n"
	      "  --ring-size BYTES    ring buffer size, a power of two, 4096 to 1G,\n"
	      "                       K/M/G suffixes allowed (default 8M)          KSPAN_RING_SIZE\n"
	      "  --capture-query      export URL query strings (url.query); off by\n"
	      "                       default as they may carry secrets            KSPAN_CAPTURE_QUERY\n"
	      "  --capture-db-literals\n"
	      "                       keep the literals in db.query.text (and Redis\n"
	      "                       values); off: they become ?      KSPAN_CAPTURE_DB_LITERALS\n"
	      "  --capture-db-errors  the server's error message as the status\n"
	      "                       description (it may quote values)            KSPAN_CAPTURE_DB_ERRORS\n"
	      "  --capture-db-rows    db.response.returned_rows                    KSPAN_CAPTURE_DB_ROWS\n"
	      "  --log-level LEVEL    error, warn, info or debug (default info)    KSPAN_LOG_LEVEL\n"
	      "  -h, --help           print this help and exit\n"
	      "  -V, --version        print the version and exit\n"
	      "\n"
	      "Options take their value as --opt VALUE or --opt=VALUE. A flag wins over its\n"
	      "variable; an empty variable counts as unset. KSPAN_PIDS, KSPAN_EXES and KSPAN_PORTS\n"
	      "are comma-separated lists; KSPAN_CAPTURE_* are true or false.\n"
	      "\n"
	      "Export (standard OpenTelemetry variables, read by libotel):\n"
	      "  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT\n"
	      "                       collector URL; unset: spans are printed to stdout\n"
	      "  OTEL_EXPORTER_OTLP_PROTOCOL        http/protobuf (default) or http/json\n"
	      "  OTEL_EXPORTER_OTLP_HEADERS         key=value,... sent with each export\n"
	      "  OTEL_EXPORTER_OTLP_COMPRESSION     gzip or none\n"
	      "  OTEL_EXPORTER_OTLP_TIMEOUT         export timeout in milliseconds\n"
	      "  OTEL_TRACES_EXPORTER               otlp, console or none\n"
	      "  OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG   sampling\n"
	      "  OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,\n"
	      "  OTEL_BSP_EXPORT_TIMEOUT            batching\n"
	      "  OTEL_SDK_DISABLED                  true: export nothing\n"
	      "  OTEL_LOG_LEVEL                     level of libotel's own messages\n"
	      "\n"
	      "Each traced process gets its own resource: service.name from the process's own\n"
	      "OTEL_SERVICE_NAME, else service.name in its OTEL_RESOURCE_ATTRIBUTES, else its\n"
	      "executable name; the rest of its OTEL_RESOURCE_ATTRIBUTES; process.*, host.name.\n",
	      f);
}
