/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's run command: load and attach the kernel programs, select the
 * target processes, then one event loop (ring buffer, signals, a 1 s timer on
 * one epoll) that turns records into connections, parsed exchanges and spans,
 * exported through libotel's batch pipeline.
 */
#ifndef KSPAN_AGENT_H
#define KSPAN_AGENT_H

#include "cli.h"

/** @brief Trace until SIGINT/SIGTERM. @return the process exit code. */
int kspan_agent_run(const struct kspan_config *cfg);

#endif
