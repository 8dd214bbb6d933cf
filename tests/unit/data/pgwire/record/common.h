/* SPDX-License-Identifier: Apache-2.0 */
/* The libpq clients that recorded the pgwire fixtures share this (see README.md). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define CONNINFO "host=127.0.0.1 port=55433 user=kspan password=kspan-throwaway dbname=shop sslmode=disable application_name=shop-worker"
static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(CONNINFO);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}
static void show(const char *what, PGresult *r)
{
	printf("%-28s %-22s %s rows=%d %s", what, PQresStatus(PQresultStatus(r)), PQcmdStatus(r),
	       PQntuples(r), PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "");
	if (PQntuples(r) && PQnfields(r))
		printf(" first=%s", PQgetvalue(r, 0, 0));
	printf("\n");
	PQclear(r);
}
