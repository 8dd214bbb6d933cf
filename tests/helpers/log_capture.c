// SPDX-License-Identifier: Apache-2.0
/* The test log sink: see log_capture.h. */
#include <stdio.h>
#include <string.h>
#include "log_capture.h"

char log_text[16384];
int log_warnings;

static void capture(enum otel_log_level level, const char *msg, void *ctx)
{
	size_t used = strlen(log_text);

	(void)ctx;
	log_warnings += level <= OTEL_LOG_WARN;
	snprintf(log_text + used, sizeof(log_text) - used, "%s\n", msg);
}

void log_capture_start(enum otel_log_level max_level)
{
	log_text[0] = '\0';
	log_warnings = 0;
	otel_set_logger(capture, NULL, max_level);
}
