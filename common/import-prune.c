/* import-prune.c - after the last batch of import-dir: the recorded files
 * that are gone, and with --prune the models they defined (see
 * import-write.h) */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "import-write.h"

struct gone {
	struct mreg_copy *cp;
	struct mreg_importer *w;
	long n;
};

static int gone_cb(struct mreg_cache_entry *e, void *arg)
{
	struct gone *g = arg;

	if (e->seen)
		return 0;
	g->n++;
	if (g->cp) {
		mreg_copy_field(g->cp, e->path);
		mreg_copy_row(g->cp);
	} else if (!g->w->cfg->prune) {
		mreg_importer_report(g->w, e->path,
			    "file is gone; its model stays active (see --prune)",
			    true);
	}
	return 0;
}

/* $1 source: the gone files whose model is a default */
static const char *const prune_defaults_sql =
	"SELECT g.path, p.name || '/' || m.name, m.type"
	" FROM mreg_import_gone g"
	" JOIN mreg.source_files s ON s.source = $1 AND s.path = g.path"
	" JOIN mreg.models m ON m.id = s.model_id"
	" JOIN mreg.providers p ON p.id = m.provider_id"
	" JOIN mreg.model_defaults d ON d.model_id = m.id"
	" ORDER BY 1";
/* $1 source: the models to deactivate (no default, no other file) */
#define PRUNE_CANDIDATES                                                     \
	"SELECT DISTINCT s.model_id FROM mreg.source_files s"                \
	" JOIN mreg_import_gone g ON g.path = s.path"                        \
	" WHERE s.source = $1 AND s.model_id IS NOT NULL"                    \
	" AND NOT EXISTS (SELECT 1 FROM mreg.model_defaults d"               \
	"                 WHERE d.model_id = s.model_id)"                    \
	" AND NOT EXISTS (SELECT 1 FROM mreg.source_files o"                 \
	"   WHERE o.model_id = s.model_id AND NOT (o.source = $1 AND o.path IN" \
	"   (SELECT path FROM mreg_import_gone)))"
/* $1 source: each candidate's file, for the audit rows' details */
static const char *const prune_row_context_sql =
	"SELECT jsonb_object_agg(p.name || '/' || m.name,"
	" jsonb_build_object('path', (SELECT min(x.path) FROM mreg.source_files x"
	"   WHERE x.source = $1 AND x.model_id = m.id)))"
	" FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE m.active AND m.id IN (" PRUNE_CANDIDATES ")";
/* $1 source: deactivate (the database audits it), and tell which */
static const char *const prune_sql =
	"WITH upd AS (UPDATE mreg.models m SET active = false, updated_at = now()"
	" WHERE m.id IN (" PRUNE_CANDIDATES ") AND m.active"
	" RETURNING m.id, m.provider_id, m.name)"
	" SELECT 'models/' || p.name || '/' || upd.name, s.path"
	" FROM upd JOIN mreg.providers p ON p.id = upd.provider_id"
	" JOIN LATERAL (SELECT min(x.path) AS path FROM mreg.source_files x"
	"   WHERE x.source = $1 AND x.model_id = upd.id) s ON true";
/* $1 source: forget the gone files (a default's stays recorded) */
static const char *const prune_delete_sql =
	"DELETE FROM mreg.source_files s USING mreg_import_gone g"
	" WHERE s.source = $1 AND s.path = g.path AND NOT EXISTS"
	" (SELECT 1 FROM mreg.model_defaults d WHERE d.model_id = s.model_id)";

/* The gone files into the temporary table mreg_import_gone. */
static int copy_gone(struct mreg_importer *w, struct mreg_error *err)
{
	struct mreg_copy cp;
	struct gone g = { &cp, w, 0 };

	if (mreg_db_command(w->cfg->conn,
			    "CREATE TEMP TABLE mreg_import_gone (path text"
			    " PRIMARY KEY) ON COMMIT DROP", 0, NULL, err) < 0 ||
	    mreg_copy_begin(&cp, w->cfg->conn,
			    "COPY mreg_import_gone (path) FROM STDIN", err) < 0)
		return -1;
	mreg_cache_foreach(w->scan->cache, gone_cb, &g);
	return mreg_copy_end(&cp, err);
}

/* Warn of the gone files whose model is a default: it stays active. */
static int tell_kept_defaults(struct mreg_importer *w, struct mreg_error *err)
{
	const char *params[1] = { w->cfg->source };
	char msg[1024];
	PGresult *res;
	int k;

	res = mreg_db_exec(w->cfg->conn, prune_defaults_sql, 1, params,
			   PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (k = 0; k < PQntuples(res); k++) {
		snprintf(msg, sizeof(msg),
			 "file is gone but model \"%s\" is the default for type \"%s\": not deactivated",
			 PQgetvalue(res, k, 1), PQgetvalue(res, k, 2));
		mreg_importer_report(w, PQgetvalue(res, k, 0), msg, true);
		w->kept_defaults++;
	}
	PQclear(res);
	return 0;
}

/* Deactivate the models of the gone files and tell which. */
static int deactivate(struct mreg_importer *w, struct mreg_error *err)
{
	const char *params[1] = { w->cfg->source };
	const struct mreg_import_events *ev = &w->cfg->ev;
	const char **rows = NULL;
	PGresult *res;
	int k, n, rc = -1;

	if (mreg_importer_audit_context(w, "source file removed", err) < 0 ||
	    mreg_audit_row_context(w->cfg->conn, prune_row_context_sql, 1,
				   params, err) < 0)
		return -1;
	res = mreg_db_exec(w->cfg->conn, prune_sql, 1, params, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	w->pruned = n = PQntuples(res);
	if (ev->deactivated) {
		/* resources then files, pointing into res */
		if (n > 0 && !(rows = calloc(2 * (size_t)n, sizeof(*rows)))) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			goto cleanup;
		}
		for (k = 0; k < n; k++) {
			rows[k] = PQgetvalue(res, k, 0);
			rows[n + k] = PQgetvalue(res, k, 1);
		}
		ev->deactivated(ev->arg, n, rows, rows ? rows + n : NULL);
	}
	rc = 0;
cleanup:
	free(rows);
	PQclear(res);
	return rc;
}

int mreg_importer_prune(struct mreg_importer *w, struct mreg_error *err)
{
	const char *params[1] = { w->cfg->source };
	struct gone g = { NULL, w, 0 };
	char msg[1024];

	mreg_cache_foreach(w->scan->cache, gone_cb, &g);
	w->missing = g.n;
	if (!w->cfg->prune || g.n == 0 || w->abort_writes)
		return 0;
	if (w->walk_errors > 0) {
		snprintf(msg, sizeof(msg),
			 "not pruning: the walk of \"%s\" was incomplete",
			 w->cfg->label_root);
		if (w->cfg->ev.warn)
			w->cfg->ev.warn(w->cfg->ev.arg, msg);
		return 0;
	}
	if (mreg_importer_begin(w, err) < 0 || copy_gone(w, err) < 0 ||
	    tell_kept_defaults(w, err) < 0 || deactivate(w, err) < 0)
		return -1;
	if (mreg_db_command(w->cfg->conn, prune_delete_sql, 1, params,
			    err) < 0 ||
	    mreg_db_command(w->cfg->conn, "DROP TABLE mreg_import_gone", 0,
			    NULL, err) < 0)
		return -1;
	return 0;
}
