// SPDX-License-Identifier: Apache-2.0
/*
 * kspan: the command line entry point. Parses the arguments (cli.c) and runs
 * the chosen command: trace (agent.c), probe (probe_cmd.c), help, version.
 */
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "cli.h"
#include "probe_cmd.h"

extern char **environ;

static enum libbpf_print_level libbpf_max = LIBBPF_WARN;

/* libbpf's own messages: warnings and errors unless --log-level debug, with our prefix. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > libbpf_max)
		return 0;
	fputs("kspan: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct kspan_config cfg;
	int rc = 0;

	if (kspan_cli_parse(argc, argv, environ, &cfg, stderr))
		return 2;
	if (cfg.log_level >= KSPAN_LOG_DEBUG)
		libbpf_max = LIBBPF_DEBUG;
	libbpf_set_print(libbpf_log);
	switch (cfg.cmd) {
	case KSPAN_CMD_HELP:
		kspan_cli_usage(stdout);
		break;
	case KSPAN_CMD_VERSION:
		kspan_cli_version(stdout);
		break;
	case KSPAN_CMD_PROBE:
		rc = kspan_probe_cmd(stdout) ? 1 : 0;
		break;
	case KSPAN_CMD_RUN:
		rc = kspan_agent_run(&cfg);
		break;
	}
	kspan_config_free(&cfg);
	return rc;
}
