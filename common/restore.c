/* restore.c - a model as it was at an instant (see restore.h) */
#include "restore.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "queries-asof.h"

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The plan's row into r (target and created_at malloc'd): 1, 0 none. */
static int plan(struct mreg_conn *conn, const char *provider,
		const char *name, const char *at, struct mreg_restore *r,
		char **target, char **created_at, struct mreg_error *err)
{
	const char *v[3] = { provider, name, at };
	PGresult *res;

	res = mreg_db_exec(conn, MREG_SQL_RESTORE_PLAN, 3, v, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	/* id, exists, target, changes, created_at */
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r->existed = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	r->changed = !PQgetisnull(res, 0, 3);
	*target = strdup(PQgetvalue(res, 0, 2));
	*created_at = strdup(PQgetvalue(res, 0, 4));
	if (r->changed)
		r->changes = strdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	if (!*target || !*created_at || (r->changed && !r->changes))
		return oom(err);
	return 1;
}

/* The target's provider name (for a re-creation), malloc'd. */
static char *target_provider(const char *target)
{
	json_t *t = json_loads(target, 0, NULL);
	const char *p = json_string_value(json_object_get(t, "provider"));
	char *out = p ? strdup(p) : NULL;

	json_decref(t);
	return out;
}

/* Put the target back: an UPDATE, or the model again with its id. */
static int apply(struct mreg_conn *conn, struct mreg_restore *r,
		 const char *at, const char *target, const char *created_at,
		 struct mreg_error *err)
{
	char id[32], *prov = NULL;
	const char *v[3] = { id, target, created_at };
	const char *pv[1];
	PGresult *res;
	int rc = -1;

	snprintf(id, sizeof(id), "%lld", r->id);
	if (r->existed) {
		res = mreg_db_exec(conn, MREG_SQL_RESTORE_UPDATE, 2, v,
				   PGRES_COMMAND_OK, err);
		if (!res)
			return -1;
		rc = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : 1;
		PQclear(res);
		if (rc)
			mreg_error_set(err, MREG_EXIT_DATA, "its provider no "
				       "longer exists");
		return rc ? -1 : 0;
	}
	if (!(prov = target_provider(target)))
		return oom(err);
	pv[0] = prov;
	if (mreg_db_command(conn, MREG_SQL_RESTORE_PROVIDER, 1, pv, err) < 0 ||
	    mreg_db_command(conn, MREG_SQL_RESTORE_INSERT, 3, v, err) < 0)
		goto cleanup;
	v[1] = at;
	if (mreg_db_command(conn, MREG_SQL_RESTORE_ARTIFACTS, 2, v, err) < 0 ||
	    mreg_db_command(conn, MREG_SQL_RESTORE_SOURCE, 1, v, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	free(prov);
	return rc;
}

int mreg_restore(struct mreg_conn *conn, const char *provider,
		 const char *name, const char *at, const char *actor,
		 bool dry_run, struct mreg_restore *r, struct mreg_error *err)
{
	char *target = NULL, *created_at = NULL;
	json_t *context = NULL;
	bool in_tx = false;
	int rc = -1, found;

	memset(r, 0, sizeof(*r));
	if (mreg_db_begin(conn, err) < 0)
		return -1;
	in_tx = true;
	context = json_pack("{s:s, s:s}", "command", "restore", "at", at);
	if (!context) {
		oom(err);
		goto cleanup;
	}
	if (mreg_audit_begin(conn, actor, context, err) < 0)
		goto cleanup;
	found = plan(conn, provider, name, at, r, &target, &created_at, err);
	if (found <= 0) {
		rc = found;
		goto cleanup;
	}
	if (dry_run || !r->changed) {
		rc = 1;
		goto cleanup; /* rolled back: nothing written */
	}
	if (apply(conn, r, at, target, created_at, err) < 0)
		goto cleanup;
	in_tx = false;
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 1;
cleanup:
	if (in_tx)
		mreg_db_rollback(conn);
	json_decref(context);
	free(target);
	free(created_at);
	if (rc < 0) {
		free(r->changes);
		r->changes = NULL;
	}
	return rc;
}

void mreg_restore_finish(struct mreg_restore *r)
{
	if (!r)
		return;
	free(r->changes);
	r->changes = NULL;
}
