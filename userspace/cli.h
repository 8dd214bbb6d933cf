/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's command line: argv and the KSPAN_* environment variables turned
 * into one validated struct kspan_config, the --help text and the version line.
 *
 * Parsing is a function of (argv, envp) and the system checks the run command
 * needs (the PIDs exist, the executables are executable); it prints only to
 * the FILE it is given and keeps no state, so tests call it directly.
 */
#ifndef KSPAN_CLI_H
#define KSPAN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <otel/version.h>

/* The agent ships with the SDK it is built with: one version for both. */
#ifndef KSPAN_VERSION
#define KSPAN_VERSION OTEL_VERSION_STRING
#endif

#define KSPAN_CAPTURE_BYTES_DEFAULT 1024
#define KSPAN_CAPTURE_BYTES_MIN 64
#define KSPAN_CAPTURE_BYTES_MAX 4096
#define KSPAN_STATS_INTERVAL_DEFAULT 10
#define KSPAN_STATS_INTERVAL_MAX 86400
#define KSPAN_RING_SIZE_DEFAULT (8u << 20)
#define KSPAN_RING_SIZE_MIN 4096u
#define KSPAN_RING_SIZE_MAX (1u << 30)

enum kspan_cmd {
	KSPAN_CMD_RUN = 0, /* trace the selected processes */
	KSPAN_CMD_PROBE, /* print what the kernel offers and the attach plan */
	KSPAN_CMD_HELP, /* -h/--help: print kspan_cli_usage() and exit 0 */
	KSPAN_CMD_VERSION, /* -V/--version: print kspan_cli_version() and exit 0 */
};

/* Same order and values as enum otel_log_level, so one can be cast to the other. */
enum kspan_log_level {
	KSPAN_LOG_ERROR = 0,
	KSPAN_LOG_WARN,
	KSPAN_LOG_INFO,
	KSPAN_LOG_DEBUG,
};

/* An --exe: the path as given, its canonical absolute form and the file's identity. */
struct kspan_exe {
	char *arg; /* as given on the command line / in KSPAN_EXES */
	char *path; /* realpath(); NULL until validated (run command only) */
	dev_t dev; /* st_dev of the file (userspace encoding) */
	ino_t ino;
};

struct kspan_config {
	enum kspan_cmd cmd;
	pid_t *pids; /* --pid / KSPAN_PIDS, duplicates removed, order kept */
	size_t n_pids;
	struct kspan_exe *exes; /* --exe / KSPAN_EXES, duplicates (same file) removed */
	size_t n_exes;
	uint16_t *ports; /* --port / KSPAN_PORTS, duplicates removed */
	size_t n_ports;
	uint32_t capture_bytes; /* payload bytes copied per syscall */
	uint32_t stats_interval_s; /* 0: no stats line */
	uint32_t ring_size; /* ring buffer bytes, a power of two */
	bool capture_query; /* export URL query strings */
	bool capture_db_literals; /* db.query.text with its literals */
	bool capture_db_errors; /* database error messages as status descriptions */
	bool capture_db_rows; /* db.response.returned_rows */
	enum kspan_log_level log_level;
};

/**
 * @brief Parse the command line and the KSPAN_* variables of @p envp into @p out.
 *
 * A flag wins over its variable; for the repeatable selectors the flags
 * replace the variable's whole list. An empty variable counts as unset. For
 * the run command at least one selector is required, every PID must exist and
 * every --exe must be an executable regular file (resolved to its canonical
 * path and (dev, ino)); `probe` checks syntax only. -h/--help and -V/--version
 * anywhere before "--" win over everything else.
 *
 * @param argc, argv  as given to main(); argv[0] is skipped
 * @param envp        NULL-terminated "NAME=value" array (environ), may be NULL
 * @param out         filled on success; release with kspan_config_free()
 * @param err         where error messages go (one line each, "kspan: ..."), may be NULL
 * @return 0; -EINVAL for a bad argument or value (message on @p err, @p out
 *         left empty); -ENOMEM
 */
int kspan_cli_parse(int argc, char **argv, char **envp, struct kspan_config *out, FILE *err);

/** @brief Release what kspan_cli_parse() allocated; @p cfg is zeroed. Accepts NULL. */
void kspan_config_free(struct kspan_config *cfg);

/** @brief Print the --help text: every flag, the KSPAN_* and the main OTEL_* variables. */
void kspan_cli_usage(FILE *f);

/** @brief Print the version line ("kspan 0.1.0 (libotel 0.1.0)"). */
void kspan_cli_version(FILE *f);

/** @brief "error", "warn", "info" or "debug". */
const char *kspan_log_level_name(enum kspan_log_level level);

#endif
