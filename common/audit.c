/* audit.c - who and why, for the audit rows the database writes (see
 * audit.h and sql/0002_audit.sql) */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "queries.h"
#include "strbuf.h"

/* A SELECT of set_config(): 0, or -1 with err filled. */
static int run_select(struct mreg_conn *conn, const char *sql, int nparams,
		      const char *const *values, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, values,
				     PGRES_TUPLES_OK, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

char *mreg_audit_context_text(const json_t *context)
{
	if (!context)
		return strdup("");
	return json_dumps(context, JSON_COMPACT | JSON_SORT_KEYS);
}

int mreg_audit_begin(struct mreg_conn *conn, const char *actor,
		     const json_t *context, struct mreg_error *err)
{
	char *text = mreg_audit_context_text(context);
	const char *values[2] = { actor, text };
	int rc;

	if (!text) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = run_select(conn,
			"SELECT " MREG_SQL_AUDIT_SET("$1", "$2") ","
			" set_config('mreg.row_context', '', true)",
			2, values, err);
	free(text);
	return rc;
}

int mreg_audit_row_context(struct mreg_conn *conn, const char *object_sql,
			   int nparams, const char *const *values,
			   struct mreg_error *err)
{
	struct mreg_strbuf b = { 0 };
	char *sql;
	int rc;

	mreg_strbuf_puts(&b, "SELECT set_config('mreg.row_context',"
			     " coalesce((");
	mreg_strbuf_puts(&b, object_sql);
	mreg_strbuf_puts(&b, ")::text, ''), true)");
	if (!(sql = mreg_strbuf_take(&b))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = run_select(conn, sql, nparams, values, err);
	free(sql);
	return rc;
}

int mreg_audit_prune(struct mreg_conn *conn, const char *actor,
		     const char *before, bool dry_run, long long *count,
		     struct mreg_error *err)
{
	const char *values[1] = { before };
	json_t *ctx = NULL;
	PGresult *res = NULL;
	int rc = -1;

	*count = 0;
	if (dry_run) {
		res = mreg_db_exec(conn, "SELECT count(*) FROM mreg.audit_log"
				   " WHERE logged_at < $1::timestamptz", 1,
				   values, PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		return 0;
	}
	if (mreg_db_begin(conn, err) < 0)
		return -1;
	ctx = json_pack("{s:s}", "command", "audit prune");
	if (!ctx) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	if (mreg_audit_begin(conn, actor, ctx, err) < 0)
		goto cleanup;
	res = mreg_db_exec(conn, "SELECT mreg.audit_prune($1::timestamptz)", 1,
			   values, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	rc = mreg_db_commit(conn, err);
cleanup:
	if (rc < 0)
		mreg_db_rollback(conn);
	PQclear(res);
	json_decref(ctx);
	return rc;
}
