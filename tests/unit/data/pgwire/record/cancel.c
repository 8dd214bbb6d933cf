// SPDX-License-Identifier: Apache-2.0
/* Recording client for the pgwire fixtures (see README.md). */
#include "common.h"
int main(void)
{
	PGconn *c = connect_db();
	char err[256];
	PQsendQuery(c, "SELECT pg_sleep(10)");
	usleep(500000);
	PGcancel *cn = PQgetCancel(c);
	if (!PQcancel(cn, err, sizeof(err))) fprintf(stderr, "cancel: %s\n", err);
	PQfreeCancel(cn);
	PGresult *r;
	while ((r = PQgetResult(c)) != NULL)
		show("canceled", r);
	PQfinish(c);
	return 0;
}
