// SPDX-License-Identifier: Apache-2.0
/* Lifecycle of any span exporter, whatever its kind. */
#include <otel/export.h>
#include "clock.h"

/* How long freeing waits for an exporter that was not shut down to finish its work. */
#define EXPORTER_FREE_SHUTDOWN_MS 1000

void otel_span_exporter_free(struct otel_span_exporter *exp)
{
	if (!exp)
		return;
	/* Exporters' shutdown is idempotent: a second call after the processor's returns at once. */
	if (exp->ops->shutdown)
		exp->ops->shutdown(exp, otel_deadline_after_ms(EXPORTER_FREE_SHUTDOWN_MS));
	exp->ops->destroy(exp);
}
