/* asof.c - the registry as it was at an instant (see asof.h) */
#include "asof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "lookup.h"
#include "queries-asof.h"

int mreg_asof_check(struct mreg_conn *conn, const char *asked, char *at,
		    struct mreg_error *err)
{
	const char *v[1] = { asked };
	PGresult *res;
	int rc = 0;

	res = mreg_db_exec(conn, MREG_SQL_ASOF_CHECK, 1, v, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	/* at, oldest, before */
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "unexpected result shape");
		rc = -1;
	} else if (PQgetisnull(res, 0, 1)) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "no history: the audit log is empty");
		rc = -1;
	} else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "no history before %s",
			       PQgetvalue(res, 0, 1));
		rc = -1;
	} else {
		snprintf(at, MREG_ASOF_LEN, "%s", PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

int mreg_asof_default(struct mreg_conn *conn, const char *type,
		      const char *at, char **model, struct mreg_error *err)
{
	const char *v[2] = { type, at };
	PGresult *res;

	*model = NULL;
	res = mreg_db_exec(conn, MREG_SQL_DEFAULT_ASOF, 2, v, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return 0;
	}
	*model = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!*model) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 1;
}

int mreg_asof_default_model(struct mreg_conn *conn, const char *type,
			    const char *at, char **doc, size_t *len,
			    struct mreg_error *err)
{
	const char *v[2] = { type, at };

	return mreg_lookup_object(conn, MREG_SQL_DEFAULT_MODEL_ASOF, 2, v, doc,
				  len, err);
}

int mreg_asof_show(struct mreg_conn *conn, const char *provider,
		   const char *name, long audit, const char *at, char **doc,
		   size_t *len, struct mreg_error *err)
{
	char n[32];
	const char *v[4] = { provider, name, n, at };

	snprintf(n, sizeof(n), "%ld", audit);
	return mreg_lookup_object(conn, MREG_SQL_SHOW_ASOF, 4, v, doc, len,
				  err);
}
