// SPDX-License-Identifier: Apache-2.0
/* Recording client for the pgwire fixtures (see README.md). */
#include "common.h"
int main(void)
{
	PGconn *c = connect_db();
	const char *v1[] = { "41" };
	const char *id[1];
	show("exec params", PQexecParams(c, "SELECT $1::int + 1 AS n", 1, NULL, v1, NULL, NULL, 0));
	show("prepare", PQprepare(c, "get_order", "SELECT item, qty FROM orders WHERE id = $1", 1, NULL));
	const char *ids[] = { "1", "3", "4" };
	for (int i = 0; i < 3; i++) {
		id[0] = ids[i];
		show("exec prepared", PQexecPrepared(c, "get_order", 1, id, NULL, NULL, 0));
	}
	const char *zero[] = { "0" };
	show("exec error", PQexecParams(c, "SELECT 10 / $1::int", 1, NULL, zero, NULL, NULL, 0));
	show("parse error", PQexecParams(c, "SELEC oops", 0, NULL, NULL, NULL, NULL, 0));
	show("describe prepared", PQdescribePrepared(c, "get_order"));
	show("empty simple", PQexec(c, ""));
	show("empty extended", PQexecParams(c, "", 0, NULL, NULL, NULL, NULL, 0));
	PGresult *r = PQexecParams(c, "COPY orders (id, item, qty) FROM STDIN", 0, NULL, NULL, NULL, NULL, 0);
	printf("copy start %s\n", PQresStatus(PQresultStatus(r)));
	PQclear(r);
	PQputCopyData(c, "5\tfig\t1\n", 8);
	PQputCopyData(c, "6\tlime\t2\n", 9);
	PQputCopyEnd(c, NULL);
	show("copy end", PQgetResult(c));
	r = PQgetResult(c);
	if (r) PQclear(r);
	const char *vi[] = { "7", "date", "8" };
	show("insert params", PQexecParams(c, "INSERT INTO orders VALUES ($1, $2, $3)", 3, NULL, vi, NULL, NULL, 0));
	show("deallocate", PQexec(c, "DEALLOCATE get_order"));
	PQfinish(c);
	return 0;
}
