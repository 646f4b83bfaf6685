/* edit.c - add, delete, rename a model, clear a default (see edit.h) */
#include "edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "lookup.h"

/* ---- the statements ---------------------------------------------------- */

/* $1 provider, $2 name -> the model locked: id, type, the type it is the
 * default of (or NULL), its artifacts. */
#define EDIT_SQL_FIND                                                        \
	"SELECT m.id, m.type, d.type,"                                       \
	"       (SELECT count(*) FROM mreg.artifacts a"                      \
	"         WHERE a.model_id = m.id)"                                  \
	"  FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id" \
	"  LEFT JOIN mreg.model_defaults d ON d.model_id = m.id"             \
	" WHERE p.name = $1::text AND m.name = $2::text FOR UPDATE OF m"

/* $1 model id -> the import source files recorded for it. */
#define EDIT_SQL_SOURCES                                                     \
	"SELECT source, path FROM mreg.source_files WHERE model_id = $1::bigint" \
	" ORDER BY source, path"

/* $1 provider -> its id and whether this statement created it.  The
 * SELECT half does not see the row the INSERT half adds (one snapshot),
 * so exactly one row comes back -- unless another transaction committed
 * the provider in between: then none, and the caller asks again. */
#define EDIT_SQL_PROVIDER                                                    \
	"WITH ins AS (INSERT INTO mreg.providers (name) VALUES ($1::text)"   \
	"             ON CONFLICT (name) DO NOTHING RETURNING id)"           \
	"SELECT id, true FROM ins"                                           \
	" UNION ALL SELECT id, false FROM mreg.providers WHERE name = $1::text"

/* $1 provider id, $2 name, $3 type, $4 version, $5 display_name,
 * $6 description, $7 tags, $8 synonyms (JSON arrays), $9 active,
 * $10 config, $11 metadata -> the new id, or no row: the name is taken. */
#define EDIT_SQL_ADD                                                         \
	"INSERT INTO mreg.models (provider_id, name, type, version,"         \
	"       display_name, description, tags, synonyms, active, config,"  \
	"       metadata)"                                                   \
	" VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text,"       \
	"         $6::text, ARRAY(SELECT jsonb_array_elements_text($7::jsonb)),"\
	"         ARRAY(SELECT jsonb_array_elements_text($8::jsonb)),"       \
	"         $9::boolean, $10::jsonb, $11::jsonb)"                      \
	" ON CONFLICT (provider_id, name) DO NOTHING RETURNING id"

/* $1 model id, $2 a JSON array of {"path", "size", "sha256"}. */
#define EDIT_SQL_ARTIFACTS                                                   \
	"INSERT INTO mreg.artifacts (model_id, path, size, sha256)"          \
	" SELECT $1::bigint, a->>'path', (a->>'size')::bigint, a->>'sha256'" \
	"   FROM jsonb_array_elements($2::jsonb) a ORDER BY 2"

#define EDIT_SQL_DELETE "DELETE FROM mreg.models WHERE id = $1::bigint"

/* $1 id, $2 provider id, $3 name -> no row when nothing changes. */
#define EDIT_SQL_RENAME                                                      \
	"UPDATE mreg.models SET provider_id = $2::bigint, name = $3::text,"  \
	"       updated_at = now()"                                          \
	" WHERE id = $1::bigint"                                             \
	"   AND (provider_id, name) IS DISTINCT FROM ($2::bigint, $3::text)" \
	" RETURNING id"

/* $1 model id: its source rows let go of it (read again next import). */
#define EDIT_SQL_RELEASE                                                     \
	"UPDATE mreg.source_files SET model_id = NULL"                       \
	" WHERE model_id = $1::bigint"

/* The last audit id before the edit: its own rows come after it. */
#define EDIT_SQL_MARK "SELECT coalesce(max(id), 0) FROM mreg.audit_log"

/* $1 the mark -> the audit rows this transaction wrote after it (the
 * primary key's range, filtered by the writing transaction). */
#define EDIT_SQL_CHANGES                                                     \
	"SELECT action, resource, model_id, old, new FROM mreg.audit_log"    \
	" WHERE id > $1::bigint AND xid = pg_current_xact_id() ORDER BY id"

/* $1 type -> the default removed: model id, "provider/name". */
#define EDIT_SQL_CLEAR_DEFAULT                                               \
	"DELETE FROM mreg.model_defaults d USING mreg.models m"              \
	"  JOIN mreg.providers p ON p.id = m.provider_id"                    \
	" WHERE d.type = $1::text AND m.id = d.model_id"                     \
	" RETURNING d.model_id, p.name || '/' || m.name"

/* ---- helpers ------------------------------------------------------------ */

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

void mreg_edit_finish(struct mreg_edit *e)
{
	size_t i;

	if (!e)
		return;
	free(e->type);
	free(e->default_of);
	free(e->previous);
	free(e->model);
	for (i = 0; i < e->nsources; i++) {
		free(e->sources[i].source);
		free(e->sources[i].path);
	}
	free(e->sources);
	for (i = 0; i < e->nchanges; i++) {
		free(e->changes[i].action);
		free(e->changes[i].resource);
		free(e->changes[i].model_id);
		free(e->changes[i].old);
		free(e->changes[i].new_);
	}
	free(e->changes);
	memset(e, 0, sizeof(*e));
}

static int dup_value(PGresult *res, int row, int col, char **out,
		     struct mreg_error *err)
{
	*out = NULL;
	if (PQgetisnull(res, row, col))
		return 0;
	*out = strdup(PQgetvalue(res, row, col));
	return *out ? 0 : oom(err);
}

/*
 * BEGIN, the audit context (actor and {"command": command}), and the
 * mark after which the edit's own audit rows will be.
 */
static int begin(struct mreg_conn *conn, const char *actor,
		 const char *command, struct mreg_edit *e,
		 struct mreg_error *err)
{
	json_t *context = json_pack("{ss}", "command", command);
	PGresult *res = NULL;
	int rc;

	if (!context)
		return oom(err);
	rc = mreg_db_begin(conn, err);
	if (rc == 0)
		rc = mreg_audit_begin(conn, actor, context, err);
	json_decref(context);
	if (rc == 0 && !(res = mreg_db_exec(conn, EDIT_SQL_MARK, 0, NULL,
					     PGRES_TUPLES_OK, err)))
		rc = -1;
	if (res)
		e->mark = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (rc < 0)
		mreg_db_rollback(conn);
	return rc < 0 ? -1 : 0;
}

/* e->changes: the audit rows the transaction wrote. */
static int read_changes(struct mreg_conn *conn, struct mreg_edit *e,
			struct mreg_error *err)
{
	char mark[32];
	const char *v[1] = { mark };
	PGresult *res;
	int i, n, rc = 0;

	snprintf(mark, sizeof(mark), "%lld", e->mark);
	res = mreg_db_exec(conn, EDIT_SQL_CHANGES, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	n = PQntuples(res);
	if (n > 0 && !(e->changes = calloc((size_t)n, sizeof(*e->changes))))
		rc = oom(err);
	for (i = 0; rc == 0 && i < n; i++) {
		struct mreg_edit_change *c = &e->changes[i];
		e->nchanges++;
		if (dup_value(res, i, 0, &c->action, err) < 0 ||
		    dup_value(res, i, 1, &c->resource, err) < 0 ||
		    dup_value(res, i, 2, &c->model_id, err) < 0 ||
		    dup_value(res, i, 3, &c->old, err) < 0 ||
		    dup_value(res, i, 4, &c->new_, err) < 0)
			rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * The end of an edit that went through: its audit rows read, then
 * COMMIT -- or ROLLBACK for a dry run and for an edit that was refused
 * or changed nothing.
 */
static int end(struct mreg_conn *conn, bool dry_run, struct mreg_edit *e,
	       struct mreg_error *err)
{
	if (e->changed && read_changes(conn, e, err) < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	if (e->changed && !dry_run)
		return mreg_db_commit(conn, err);
	mreg_db_rollback(conn);
	return 0;
}

/* Find provider/name, locked: 1 (e->id, type, default_of, artifacts),
 * 0 unknown, -1. */
static int find(struct mreg_conn *conn, const char *provider,
		const char *name, struct mreg_edit *e, struct mreg_error *err)
{
	const char *v[2] = { provider, name };
	PGresult *res = mreg_db_exec(conn, EDIT_SQL_FIND, 2, v,
				     PGRES_TUPLES_OK, err);
	int rc = 0;

	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		e->found = true;
		e->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		e->artifacts = strtol(PQgetvalue(res, 0, 3), NULL, 10);
		rc = dup_value(res, 0, 1, &e->type, err) < 0 ||
				     dup_value(res, 0, 2, &e->default_of, err) < 0
			     ? -1 : 1;
	}
	PQclear(res);
	return rc;
}

static int sources(struct mreg_conn *conn, struct mreg_edit *e,
		   struct mreg_error *err)
{
	char id[32];
	const char *v[1] = { id };
	PGresult *res;
	int i, n, rc = 0;

	snprintf(id, sizeof(id), "%lld", e->id);
	res = mreg_db_exec(conn, EDIT_SQL_SOURCES, 1, v, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	n = PQntuples(res);
	if (n > 0 && !(e->sources = calloc((size_t)n, sizeof(*e->sources))))
		rc = oom(err);
	for (i = 0; rc == 0 && i < n; i++) {
		e->nsources++;
		if (dup_value(res, i, 0, &e->sources[i].source, err) < 0 ||
		    dup_value(res, i, 1, &e->sources[i].path, err) < 0)
			rc = -1;
	}
	PQclear(res);
	return rc;
}

/* The provider's id (text, in id), created if missing. */
static int provider_id(struct mreg_conn *conn, const char *provider,
		       char *id, size_t len, bool *created,
		       struct mreg_error *err)
{
	const char *v[1] = { provider };
	PGresult *res = NULL;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		res = mreg_db_exec(conn, EDIT_SQL_PROVIDER, 1, v,
				   PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		if (PQntuples(res) == 1)
			break;
		PQclear(res);
		res = NULL;
	}
	if (!res) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "provider \"%s\" could "
			       "not be created or found", provider);
		return -1;
	}
	snprintf(id, len, "%s", PQgetvalue(res, 0, 0));
	*created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return 0;
}

/* e->model: the model object of provider/name, as the transaction sees
 * it. */
static int read_model(struct mreg_conn *conn, const char *provider,
		      const char *name, struct mreg_edit *e,
		      struct mreg_error *err)
{
	int rc = mreg_lookup_model(conn, provider, name, &e->model,
				   &e->model_len, err);

	if (rc == 0)
		mreg_error_set(err, MREG_EXIT_FAILURE, "model \"%s/%s\" went "
			       "away", provider, name);
	return rc == 1 ? 0 : -1;
}

/* ---- the edits ---------------------------------------------------------- */

int mreg_edit_add(struct mreg_conn *conn, const struct mreg_model *m,
		  const char *artifacts, const char *actor, bool dry_run,
		  struct mreg_edit *e, struct mreg_error *err)
{
	char pid[32], id[32];
	const char *av[2] = { id, artifacts };
	const char *v[11] = { pid, m->name, m->type, m->version,
			      m->display_name, m->description, m->tags_json,
			      m->synonyms_json, m->active ? "true" : "false",
			      m->config_json, m->metadata_json };
	PGresult *res = NULL;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	if (begin(conn, actor, "add", e, err) < 0)
		return -1;
	if (provider_id(conn, m->provider, pid, sizeof(pid),
			&e->provider_created, err) < 0)
		goto cleanup;
	res = mreg_db_exec(conn, EDIT_SQL_ADD, 11, v, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	if (PQntuples(res) == 0) {
		e->taken = true;
		e->provider_created = false;
		rc = 0;
		goto cleanup;
	}
	e->found = e->changed = true;
	e->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(id, sizeof(id), "%lld", e->id);
	if (artifacts && strcmp(artifacts, "[]") != 0 &&
	    mreg_db_command(conn, EDIT_SQL_ARTIFACTS, 2, av, err) < 0)
		goto cleanup;
	if (!(e->type = strdup(m->type))) {
		oom(err);
		goto cleanup;
	}
	if (read_model(conn, m->provider, m->name, e, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	PQclear(res);
	if (rc == 0)
		return end(conn, dry_run, e, err);
	mreg_db_rollback(conn);
	return -1;
}

int mreg_edit_delete(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *actor, bool dry_run,
		     struct mreg_edit *e, struct mreg_error *err)
{
	char id[32];
	const char *v[1] = { id };
	int rc;

	memset(e, 0, sizeof(*e));
	if (begin(conn, actor, "delete", e, err) < 0)
		return -1;
	rc = find(conn, provider, name, e, err);
	if (rc == 1 && !e->default_of)
		rc = read_model(conn, provider, name, e, err) < 0 ||
				     sources(conn, e, err) < 0
			     ? -1 : 1;
	if (rc == 1 && !e->default_of) {
		snprintf(id, sizeof(id), "%lld", e->id);
		rc = mreg_db_command(conn, EDIT_SQL_DELETE, 1, v, err) < 0
			     ? -1 : 1;
		e->changed = rc == 1;
	}
	if (rc < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	return end(conn, dry_run, e, err);
}

/* The rename's UPDATE: 0 (e->changed set, or e->taken), -1. */
static int rename_row(struct mreg_conn *conn, const char *pid,
		      const char *to_name, struct mreg_edit *e,
		      struct mreg_error *err)
{
	char id[32];
	const char *v[3] = { id, pid, to_name };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", e->id);
	res = mreg_db_exec(conn, EDIT_SQL_RENAME, 3, v, PGRES_TUPLES_OK, err);
	if (!res) {
		if (strcmp(err->sqlstate, "23505") != 0)
			return -1;
		/* models_provider_name_key: another model has that name */
		e->taken = true;
		return 0;
	}
	e->changed = PQntuples(res) == 1;
	PQclear(res);
	return 0;
}

int mreg_edit_rename(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *to_provider,
		     const char *to_name, bool force, const char *actor,
		     bool dry_run, struct mreg_edit *e, struct mreg_error *err)
{
	char pid[32], id[32];
	const char *v[1] = { id };
	int rc;

	memset(e, 0, sizeof(*e));
	if (begin(conn, actor, "rename", e, err) < 0)
		return -1;
	rc = find(conn, provider, name, e, err);
	if (rc == 1)
		rc = sources(conn, e, err) < 0 ? -1 : 1;
	if (rc == 1 && e->nsources > 0 && !force) {
		e->owned = true;
		rc = 0;
	}
	if (rc == 1)
		rc = provider_id(conn, to_provider, pid, sizeof(pid),
				 &e->provider_created, err) < 0 ||
				     rename_row(conn, pid, to_name, e, err) < 0
			     ? -1 : 1;
	if (rc == 1 && e->taken) {
		/* the failed UPDATE ended the transaction's usefulness */
		e->provider_created = false;
		mreg_db_rollback(conn);
		return 0;
	}
	if (rc == 1 && e->changed && e->nsources > 0) {
		snprintf(id, sizeof(id), "%lld", e->id);
		rc = mreg_db_command(conn, EDIT_SQL_RELEASE, 1, v, err) < 0
			     ? -1 : 1;
	}
	if (rc == 1)
		rc = read_model(conn, to_provider, to_name, e, err) < 0 ? -1 : 1;
	if (rc < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	return end(conn, dry_run, e, err);
}

int mreg_edit_clear_default(struct mreg_conn *conn, const char *type,
			    const char *actor, bool dry_run,
			    struct mreg_edit *e, struct mreg_error *err)
{
	const char *v[1] = { type };
	PGresult *res;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (begin(conn, actor, "clear-default", e, err) < 0)
		return -1;
	res = mreg_db_exec(conn, EDIT_SQL_CLEAR_DEFAULT, 1, v, PGRES_TUPLES_OK,
			   err);
	if (!res) {
		mreg_db_rollback(conn);
		return -1;
	}
	if (PQntuples(res) == 1) {
		e->found = e->changed = true;
		e->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (dup_value(res, 0, 1, &e->previous, err) < 0 ||
		    !(e->type = strdup(type)))
			rc = oom(err);
	}
	PQclear(res);
	if (rc < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	return end(conn, dry_run, e, err);
}
