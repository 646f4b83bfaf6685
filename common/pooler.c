/* pooler.c - is this connection behind a transaction-mode pooler? (see
 * pooler.h) */
#include "pooler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* MREG_POOLED: 1 yes, 0 no, -1 unset, -2 something else. */
static int env_override(void)
{
	const char *v = getenv(MREG_POOLED_ENV);

	if (!v || !*v)
		return -1;
	if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -2;
}

int mreg_conn_pooled(PGconn *pg, struct mreg_pooled *out,
		     struct mreg_error *err)
{
	static const char sql[] = "SELECT current_setting('port')";
	int o = env_override();
	double t0;
	PGresult *res;

	memset(out, 0, sizeof(*out));
	snprintf(out->client_port, sizeof(out->client_port), "%s",
		 PQport(pg) ? PQport(pg) : "");
	if (o == -2) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "%s must be yes or no, not '%.64s'",
			       MREG_POOLED_ENV, getenv(MREG_POOLED_ENV));
		return -1;
	}
	if (o >= 0) {
		out->pooled = o == 1;
		out->overridden = true;
		return 0;
	}
	t0 = mreg_db_clock_ms();
	res = PQexec(pg, sql);
	mreg_db_trace_result(MREG_DB_SITE, sql, NULL, t0, res,
			     PQresultStatus(res) == PGRES_TUPLES_OK);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		mreg_error_from_result(err, res, pg);
		mreg_error_prefix(err, "could not read the server's port");
		PQclear(res);
		return -1;
	}
	snprintf(out->server_port, sizeof(out->server_port), "%s",
		 PQgetvalue(res, 0, 0));
	PQclear(res);
	/* libpq always knows the port it used (its default when none was
	 * given); an empty one would be a libpq we do not know: trust it */
	out->pooled = out->client_port[0] &&
		      strcmp(out->client_port, out->server_port) != 0;
	return 0;
}
