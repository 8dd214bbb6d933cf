// SPDX-License-Identifier: Apache-2.0
/* Recording client for the pgwire fixtures (see README.md). */
#include "common.h"
static void drain(PGconn *c, const char *what)
{
	PGresult *r;
	for (;;) {
		r = PQgetResult(c);
		if (!r) {
			/* end of one query's results */
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		show(what, r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
}
int main(void)
{
	PGconn *c = connect_db();
	if (!PQenterPipelineMode(c)) return 1;
	PQsendPrepare(c, "ins", "INSERT INTO orders VALUES ($1, $2, $3)", 3, NULL);
	const char *a[] = { "10", "melon", "1" }, *b[] = { "11", "lemon", "2" }, *d[] = { "12", "grape", "3" };
	PQsendQueryPrepared(c, "ins", 3, a, NULL, NULL, 0);
	PQsendQueryPrepared(c, "ins", 3, b, NULL, NULL, 0);
	PQsendQueryPrepared(c, "ins", 3, d, NULL, NULL, 0);
	const char *ten[] = { "10" };
	PQsendQueryParams(c, "SELECT count(*) FROM orders WHERE id >= $1", 1, NULL, ten, NULL, NULL, 0);
	PQpipelineSync(c);
	drain(c, "pipeline 1");
	/* An error in the middle: the rest until the Sync is skipped. */
	PQsendQueryParams(c, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
	PQsendQueryParams(c, "SELECT 1/0", 0, NULL, NULL, NULL, NULL, 0);
	PQsendQueryParams(c, "SELECT 3", 0, NULL, NULL, NULL, NULL, 0);
	const char *e[] = { "13", "cherry", "4" };
	PQsendQueryPrepared(c, "ins", 3, e, NULL, NULL, 0);
	PQpipelineSync(c);
	PQsendQueryParams(c, "SELECT 4", 0, NULL, NULL, NULL, NULL, 0);
	PQpipelineSync(c);
	drain(c, "pipeline 2");
	drain(c, "pipeline 3");
	/* A flush request: results before the Sync. */
	PQsendQueryParams(c, "UPDATE orders SET qty = qty * 2 WHERE id >= 10", 0, NULL, NULL, NULL, NULL, 0);
	PQsendFlushRequest(c);
	PQflush(c);
	PGresult *r;
	while ((r = PQgetResult(c)) != NULL)
		show("flushed", r);
	PQpipelineSync(c);
	drain(c, "pipeline 4");
	PQexitPipelineMode(c);
	PQfinish(c);
	return 0;
}
