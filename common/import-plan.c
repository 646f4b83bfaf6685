/* import-plan.c - import-dir --plan: what a batch changed, field by field
 *
 * --plan runs the import as it is (the same scan, cache, claims, batch
 * statements, refusals and prune) in one transaction that is rolled back
 * at the end (import-write.c).  After each batch's statements, while the
 * batch table still holds the models as they were (old, taken under FOR
 * UPDATE before the upsert), one statement compares them with the models
 * as they now are, through mreg.jsonb_changes (sql/0002_audit.sql: the
 * function the audit triggers use), so the plan names exactly the fields
 * the import would change and no more.  The result waits in w->plan
 * until the batch's savepoint is released: a part of the batch that the
 * server refused and that was rolled back is never told.
 */
#include <stdlib.h>
#include <string.h>

#include "import-write.h"

/*
 * The batch's changed models: action, resource, file, the fields (an
 * array in the model file's key order).  Both sides have the shape of
 * the audit log's model rows (mreg.model_fields) plus the artifacts: the
 * batch's old column (import-batch.c's SNAPSHOT) lacks only provider and
 * name, which are the batch row's (it was matched by them).  A create
 * (old NULL) lists every field that is not null.
 */
static const char *const plan_sql =
	"SELECT CASE WHEN b.old IS NULL THEN 'add' ELSE 'update' END,"
	" 'models/' || b.provider || '/' || b.name, b.path,"
	" (SELECT coalesce(jsonb_agg(jsonb_build_object('field', k,"
	"   'old', c.ch->'old'->k, 'new', c.ch->'new'->k) ORDER BY"
	"   array_position(ARRAY['provider', 'name', 'type', 'version',"
	"   'display_name', 'description', 'tags', 'synonyms', 'active',"
	"   'config', 'metadata', 'artifacts'], k), k), '[]'::jsonb)"
	"  FROM jsonb_object_keys(coalesce(c.ch->'old', '{}'::jsonb)"
	"   || coalesce(c.ch->'new', '{}'::jsonb)) k)::text"
	" FROM mreg_import_batch b JOIN mreg.models m ON m.id = b.model_id"
	" CROSS JOIN LATERAL (SELECT mreg.jsonb_changes(b.old ||"
	"   jsonb_build_object('provider', b.provider, 'name', b.name),"
	"   mreg.model_fields(m) || jsonb_build_object('artifacts',"
	"   coalesce((SELECT jsonb_agg(jsonb_build_object('path', a.path,"
	"   'size', a.size, 'sha256', a.sha256) ORDER BY a.path)"
	"   FROM mreg.artifacts a WHERE a.model_id = m.id), '[]'::jsonb)))"
	"   AS ch) c"
	" WHERE b.kind = 'model' AND c.ch IS NOT NULL"
	" ORDER BY b.path";

int mreg_importer_plan_batch(struct mreg_importer *w, struct mreg_error *err)
{
	PGresult *res;

	res = mreg_db_exec(w->cfg->conn, plan_sql, 0, NULL, PGRES_TUPLES_OK,
			   err);
	if (!res)
		return -1;
	PQclear(w->plan);
	w->plan = res;
	return 0;
}

void mreg_importer_plan_tell(struct mreg_importer *w)
{
	const struct mreg_import_events *ev = &w->cfg->ev;
	int k;

	if (!w->plan)
		return;
	for (k = 0; ev->planned && k < PQntuples(w->plan); k++)
		ev->planned(ev->arg, strcmp(PQgetvalue(w->plan, k, 0), "add") == 0,
			    PQgetvalue(w->plan, k, 1), PQgetvalue(w->plan, k, 2),
			    PQgetvalue(w->plan, k, 3));
	mreg_importer_plan_drop(w);
}

void mreg_importer_plan_drop(struct mreg_importer *w)
{
	PQclear(w->plan);
	w->plan = NULL;
}
