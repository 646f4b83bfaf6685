/* history.c - the past of a model or a default (see history.h) */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The model of that name now, else the owner of the newest entry about
 * the name (index audit_log_resource_idx, read backwards). */
#define SQL_MODEL_ID                                                         \
	"SELECT coalesce("                                                   \
	"  (SELECT m.id FROM mreg.models m"                                  \
	"     JOIN mreg.providers p ON p.id = m.provider_id"                 \
	"    WHERE p.name = $1::text AND m.name = $2::text),"                \
	"  (SELECT a.model_id FROM mreg.audit_log a"                         \
	"    WHERE a.resource = 'models/' || $1::text || '/' || $2::text"    \
	"      AND a.model_id IS NOT NULL"                                   \
	"    ORDER BY a.logged_at DESC, a.id DESC LIMIT 1))"

#define SQL_TYPE_KNOWN                                                       \
	"SELECT EXISTS (SELECT 1 FROM mreg.models WHERE type = $1::text)"    \
	"    OR EXISTS (SELECT 1 FROM mreg.audit_log"                        \
	"                WHERE resource = 'defaults/' || $1::text)"

int mreg_history_model_id(struct mreg_conn *conn, const char *provider,
			  const char *name, char *buf, size_t len,
			  struct mreg_error *err)
{
	const char *v[2] = { provider, name };
	PGresult *res;
	int rc = 0;

	res = mreg_db_exec(conn, SQL_MODEL_ID, 2, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
		rc = 1;
	}
	PQclear(res);
	return rc;
}

int mreg_history_type_known(struct mreg_conn *conn, const char *type,
			    bool *known, struct mreg_error *err)
{
	const char *v[1] = { type };
	PGresult *res;

	res = mreg_db_exec(conn, SQL_TYPE_KNOWN, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	*known = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/* ---- set-default --previous ----------------------------------------------- */

/* $1 type -> the current default's id and name; the row stays locked
 * until the transaction ends, so no other set-default moves it meanwhile. */
#define SQL_LOCK_DEFAULT                                                     \
	"SELECT d.model_id, p.name || '/' || m.name"                         \
	"  FROM mreg.model_defaults d"                                       \
	"  JOIN mreg.models m ON m.id = d.model_id"                          \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE d.type = $1::text FOR UPDATE OF d"

/*
 * $1 type, $2 the current default's id -> the model before it: its id
 * and name from the newest default.set entry that made it the default
 * ("old"; entries written before migration 0002 carried it in details).
 */
#define SQL_PREVIOUS                                                         \
	"SELECT coalesce(a.old->>'model_id',"                                \
	"                a.details->>'previous_model_id'),"                  \
	"       coalesce(a.old->>'model', a.details->>'previous')"           \
	"  FROM mreg.audit_log a"                                            \
	" WHERE a.resource = 'defaults/' || $1::text"                        \
	"   AND a.action = 'default.set' AND a.model_id = $2::bigint"        \
	" ORDER BY a.logged_at DESC, a.id DESC LIMIT 1"

/* $1 id -> the model as it is now (FOR SHARE: no one deactivates or
 * retypes it before we commit): active, type, provider, name. */
#define SQL_MODEL                                                            \
	"SELECT m.active, m.type, p.name, m.name FROM mreg.models m"         \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE m.id = $1::bigint FOR SHARE OF m"

#define SQL_MOVE                                                             \
	"UPDATE mreg.model_defaults"                                         \
	"   SET model_id = $2::bigint, previous_model_id = model_id,"        \
	"       updated_at = now()"                                          \
	" WHERE type = $1::text"

/* The actor and the rollback's context for the audit rows the
 * database writes (common/audit.c). */
static int audit_begin(struct mreg_conn *conn, const char *actor,
		       struct mreg_error *err)
{
	json_t *ctx = json_pack("{s:s, s:s, s:b}", "command", "set-default",
				"reason", "rollback", "rollback", 1);
	int rc;

	if (!ctx)
		return oom(err);
	rc = mreg_audit_begin(conn, actor, ctx, err);
	json_decref(ctx);
	return rc;
}

/* strdup of row's field, NULL for SQL NULL; -1 when out of memory. */
static int take(PGresult *res, int col, char **out, struct mreg_error *err)
{
	if (PQgetisnull(res, 0, col))
		return 0;
	*out = strdup(PQgetvalue(res, 0, col));
	return *out ? 0 : oom(err);
}

/* The model's provider and name now (SQL_MODEL's row), and previous
 * as its name now rather than as the log named it. */
static int name_now(PGresult *res, struct mreg_rollback *r,
		    struct mreg_error *err)
{
	size_t len;

	if (take(res, 2, &r->provider, err) < 0 ||
	    take(res, 3, &r->name, err) < 0)
		return -1;
	if (!r->provider || !r->name)
		return oom(err);
	len = strlen(r->provider) + strlen(r->name) + 2;
	free(r->previous);
	if (!(r->previous = malloc(len)))
		return oom(err);
	snprintf(r->previous, len, "%s/%s", r->provider, r->name);
	return 0;
}

/* Lock, find the model before, check it, move: in the transaction. */
static int roll(struct mreg_conn *conn, const char *type,
		struct mreg_rollback *r, struct mreg_error *err)
{
	char cur[32], prev[32];
	const char *v[2] = { type, cur };
	PGresult *res;
	int rc;

	res = mreg_db_exec(conn, SQL_LOCK_DEFAULT, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		r->outcome = MREG_ROLLBACK_NO_DEFAULT;
		return 0;
	}
	snprintf(cur, sizeof(cur), "%s", PQgetvalue(res, 0, 0));
	rc = take(res, 1, &r->current, err);
	PQclear(res);
	if (rc < 0)
		return -1;
	res = mreg_db_exec(conn, SQL_PREVIOUS, 2, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		r->outcome = MREG_ROLLBACK_NO_PREVIOUS;
		return 0;
	}
	snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 0));
	rc = take(res, 1, &r->previous, err);
	PQclear(res);
	if (rc < 0)
		return -1;
	v[0] = prev;
	res = mreg_db_exec(conn, SQL_MODEL, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		r->outcome = MREG_ROLLBACK_GONE;
		return 0;
	}
	r->outcome = strcmp(PQgetvalue(res, 0, 1), type) != 0
			     ? MREG_ROLLBACK_RETYPED
		     : strcmp(PQgetvalue(res, 0, 0), "t") != 0
			     ? MREG_ROLLBACK_INACTIVE
			     : MREG_ROLLBACK_DONE;
	rc = name_now(res, r, err);
	PQclear(res);
	if (rc < 0)
		return -1;
	if (r->outcome != MREG_ROLLBACK_DONE)
		return 0;
	v[0] = type;
	v[1] = prev;
	return mreg_db_command(conn, SQL_MOVE, 2, v, err);
}

int mreg_default_rollback(struct mreg_conn *conn, const char *type,
			  const char *actor, struct mreg_rollback *r,
			  struct mreg_error *err)
{
	memset(r, 0, sizeof(*r));
	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (audit_begin(conn, actor, err) < 0 || roll(conn, type, r, err) < 0)
		goto fail;
	if (r->outcome != MREG_ROLLBACK_DONE) {
		mreg_db_rollback(conn);
		return 0;
	}
	if (mreg_db_commit(conn, err) < 0)
		goto fail_done;
	return 0;
fail:
	mreg_db_rollback(conn);
fail_done:
	mreg_rollback_finish(r);
	return -1;
}

void mreg_rollback_finish(struct mreg_rollback *r)
{
	if (!r)
		return;
	free(r->current);
	free(r->previous);
	free(r->provider);
	free(r->name);
	r->current = r->previous = r->provider = r->name = NULL;
}
