/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SDK's own diagnostics captured for assertions: one sink for every test
 * that checks what libotel (or the agent's modules logging through it) says.
 */
#ifndef TESTS_LOG_CAPTURE_H
#define TESTS_LOG_CAPTURE_H

#include <otel/sdk.h>

/* Every message delivered since the last start, one per line (cut when full). */
extern char log_text[16384];
/* How many of them were warnings or errors. */
extern int log_warnings;

/* Clear both and route the SDK's messages up to @max_level here. */
void log_capture_start(enum otel_log_level max_level);

#endif
