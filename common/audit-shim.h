/* audit-shim.h - TEMPORARY stand-in for helper A's common/audit.h
 * (branch i13-a), removed when that branch is merged. */
#ifndef MREG_AUDIT_SHIM_H
#define MREG_AUDIT_SHIM_H

#include <stdlib.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "error.h"
#include "pool.h"

static inline int mreg_audit_begin(struct mreg_conn *conn,
				   const char *actor, const json_t *context,
				   struct mreg_error *err)
{
	PGconn *c = conn->pg;
	char *ctx = json_dumps(context, JSON_COMPACT);
	const char *v[2] = { actor, ctx };
	PGresult *res = PQexecParams(c,
		"SELECT set_config('mreg.actor', coalesce($1, ''), true),"
		" set_config('mreg.context', coalesce($2, ''), true)",
		2, NULL, v, NULL, NULL, 0);
	int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;

	if (rc < 0)
		mreg_error_from_result(err, res, c);
	PQclear(res);
	free(ctx);
	return rc;
}

#endif
