/* import-batch.c - the batch writer of import-dir: COPY into a temporary
 * table, then set-based statements, split when the server refuses a value
 * (see import-write.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "artifact-cache.h"
#include "audit.h"
#include "import-write.h"
#include "strmap.h"

/* --- the batch table ----------------------------------------------------- */

/*
 * The batch table's columns that COPY fills after kind and path (every row
 * has those two; a row to invalidate has nothing else): name and type, in
 * the order copy_row writes them.
 */
#define BATCH_FIELDS(X)                                                      \
	X(size, "bigint") X(mtime_ns, "bigint") X(ctime_ns, "bigint")        \
	X(inode, "bigint") X(device, "bigint") X(sha256, "text")             \
	X(racy, "boolean") X(error, "text") X(provider, "text")              \
	X(name, "text") X(type, "text") X(version, "text")                   \
	X(display_name, "text") X(description, "text") X(tags, "jsonb")      \
	X(synonyms, "jsonb") X(active, "boolean") X(config, "jsonb")         \
	X(metadata, "jsonb") X(artifacts, "jsonb")                          \
	X(artifact_stats, "jsonb")
#define FIELD_DEF(n, t) ", " #n " " t
#define FIELD_NAME(n, t) ", " #n
#define FIELD_ONE(n, t) +1

/* COPY's fields per row after kind and path */
enum { BATCH_NFIELDS = 0 BATCH_FIELDS(FIELD_ONE) };

/*
 * The copied columns, then those the statements fill.  A row lives for
 * one transaction: kept uncompressed up to a page (with the old state the
 * lock step adds it passes TOAST's 2 KB threshold, and pglz was ~5% of
 * a re-import's server samples).
 */
static const char *const create_batch_sql =
	"CREATE TEMP TABLE mreg_import_batch ("
	"kind text NOT NULL, path text NOT NULL" BATCH_FIELDS(FIELD_DEF)
	", provider_id bigint, model_id bigint, old jsonb, text_changed boolean,"
	" late_error text"
	") WITH (toast_tuple_target = 8160) ON COMMIT DROP";

static const char *const copy_batch_sql =
	"COPY mreg_import_batch (kind, path" BATCH_FIELDS(FIELD_NAME)
	") FROM STDIN";

/*
 * A temporary table has no statistics: without them the planner takes the
 * batch for a row or two and joins it to the models by a nested loop,
 * quadratic in the batch size.  The columns the joins use are enough.
 */
static const char *const analyze_batch_sql =
	"ANALYZE mreg_import_batch (kind, provider, name, provider_id, model_id)";

/* --- the statements ------------------------------------------------------ */

/* The state of a model as the audit log records it. */
#define SNAPSHOT(m)                                                          \
	"jsonb_build_object('type', " m ".type, 'version', " m ".version,"    \
	" 'display_name', " m ".display_name, 'description', " m             \
	".description, 'tags', to_jsonb(" m ".tags), 'synonyms',"            \
	" to_jsonb(" m ".synonyms), 'active', " m ".active, 'config', " m    \
	".config, 'metadata', " m ".metadata, 'artifacts', coalesce(("        \
	"SELECT jsonb_agg(jsonb_build_object('path', a.path, 'size', a.size," \
	" 'sha256', a.sha256) ORDER BY a.path) FROM mreg.artifacts a"         \
	" WHERE a.model_id = " m ".id), '[]'::jsonb))"

/* The parameters a statement takes: each takes only those it uses. */
enum step_params {
	STEP_NONE,
	STEP_SOURCE,        /* $1 source */
};

/*
 * When a statement can change anything, from what the batch holds and
 * what the statements before it found; one that cannot is not sent (a
 * batch of changed files that all exist, say, skips every statement that
 * creates).
 */
enum step_need {
	NEED_MODELS,        /* a model file in the batch */
	NEED_PROVIDERS,     /* a provider no row has found yet */
	NEED_EXISTING,      /* a model that exists (locked) */
	NEED_TEXT_CHANGED,  /* one whose searchable text changes */
	NEED_TEXT_SAME,     /* one whose searchable text stays */
	NEED_NEW,           /* a model that does not */
	NEED_ARTIFACTS,     /* a model file that lists artifacts */
	NEED_FILES,         /* a row for the cache (model, touch, error) */
	NEED_INVALIDATE,    /* a path to invalidate */
};

/* What a statement's row count tells the ones after it. */
enum step_count {
	COUNT_NONE,
	COUNT_PROVIDERS,    /* model rows given their provider's id */
	COUNT_EXISTING,     /* model rows that found (and locked) theirs,
			       each returning its text_changed */
};

struct batch_step {
	enum step_params params;
	enum step_need need;
	enum step_count count;
	const char *sql;
};

/* What the batch holds (counted as it is copied) and what was found. */
struct batch_facts {
	long models, files, invalidate;
	bool artifacts;
	long with_provider, existing, text_changed;
};

/* The model rows whose provider exists get its id (run again after the
 * missing providers are created). */
#define SET_PROVIDER_ID                                                      \
	"UPDATE mreg_import_batch b SET provider_id = p.id"                  \
	" FROM mreg.providers p WHERE b.kind = 'model'"                      \
	" AND b.provider_id IS NULL AND p.name = b.provider"

/* A batch column (jsonb array of strings) as the text[] the models hold. */
#define TEXT_ARRAY(col) "ARRAY(SELECT jsonb_array_elements_text(" col "))"

/* The batch's models that exist as the file has them (those whose
 * searchable text changes or not), for the updates below. */
#define NEW_VALUES(changed)                                                  \
	" FROM (SELECT model_id, type, version, display_name, description,"  \
	" " TEXT_ARRAY("tags") " AS tags,"                                   \
	" " TEXT_ARRAY("synonyms") " AS synonyms,"                           \
	" active, config, metadata FROM mreg_import_batch"                   \
	" WHERE kind = 'model' AND model_id IS NOT NULL"                     \
	" AND " changed "text_changed) n"                                   \
	" WHERE m.id = n.model_id"

/* The columns the search document is made of (name never changes here),
 * and the others an import sets. */
#define SEARCH_COLS(m, tags, synonyms)                                       \
	"(" m ".display_name, " m ".description, " tags ", " synonyms ")"
#define OTHER_COLS(m)                                                        \
	"(" m ".type, " m ".version, " m ".active, " m ".config, " m           \
	".metadata)"

static const struct batch_step batch_steps[] = {
	/* providers, created on first use (audited by the database) */
	{ STEP_NONE, NEED_MODELS, COUNT_PROVIDERS, SET_PROVIDER_ID },
	{ STEP_NONE, NEED_PROVIDERS, COUNT_NONE,
		"INSERT INTO mreg.providers (name)"
		" SELECT DISTINCT provider FROM mreg_import_batch"
		" WHERE kind = 'model' AND provider_id IS NULL"
		" ORDER BY 1 ON CONFLICT (name) DO NOTHING" },
	{ STEP_NONE, NEED_PROVIDERS, COUNT_NONE, SET_PROVIDER_ID },

	/* the models as they were, locked against concurrent writers */
	{ STEP_NONE, NEED_MODELS, COUNT_EXISTING,
		"UPDATE mreg_import_batch b SET model_id = m.id, old = " SNAPSHOT("m")
		", text_changed = " SEARCH_COLS("m", "m.tags", "m.synonyms")
		" IS DISTINCT FROM " SEARCH_COLS("b",
		TEXT_ARRAY("b.tags"), TEXT_ARRAY("b.synonyms"))
		" FROM (SELECT * FROM mreg.models WHERE (provider_id, name) IN"
		" (SELECT provider_id, name FROM mreg_import_batch WHERE kind = 'model')"
		" ORDER BY id FOR UPDATE) m"
		" WHERE b.kind = 'model' AND m.provider_id = b.provider_id"
		" AND m.name = b.name RETURNING b.text_changed" },

	/* a default model keeps its type and stays active: refuse the file */
	{ STEP_NONE, NEED_EXISTING, COUNT_NONE,
		"UPDATE mreg_import_batch b SET kind = 'late', late_error ="
		" CASE WHEN b.type <> m.type THEN format('model \"%s/%s\" is the"
		" default for type \"%s\": its type cannot change to \"%s\"',"
		" b.provider, b.name, m.type, b.type)"
		" ELSE format('model \"%s/%s\" is the default for type \"%s\": it"
		" cannot be deactivated', b.provider, b.name, m.type) END"
		" FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id"
		" WHERE b.kind = 'model' AND b.model_id = d.model_id"
		" AND (b.type <> m.type OR NOT b.active)" },

	/*
	 * The models there were (locked above): a plain update of those that
	 * differ, cheaper than the conflict path of the INSERT below.  Those
	 * whose searchable text is as it was are updated without naming its
	 * columns, so the server does not compute their search document
	 * again (a new version, config or metadata).
	 */
	{ STEP_NONE, NEED_TEXT_CHANGED, COUNT_NONE,
		"UPDATE mreg.models m SET type = n.type, version = n.version,"
		" display_name = n.display_name, description = n.description,"
		" tags = n.tags, synonyms = n.synonyms, active = n.active,"
		" config = n.config, metadata = n.metadata, updated_at = now()"
		NEW_VALUES("") },
	{ STEP_NONE, NEED_TEXT_SAME, COUNT_NONE,
		"UPDATE mreg.models m SET type = n.type, version = n.version,"
		" active = n.active, config = n.config, metadata = n.metadata,"
		" updated_at = now()"
		NEW_VALUES("NOT ")
		" AND " OTHER_COLS("m") " IS DISTINCT FROM " OTHER_COLS("n") },

	/* the new ones; one another run created meanwhile is updated */
	{ STEP_NONE, NEED_NEW, COUNT_NONE,
		"INSERT INTO mreg.models AS m (provider_id, name, type, version,"
		" display_name, description, tags, synonyms, active, config, metadata)"
		" SELECT provider_id, name, type, version, display_name, description,"
		" " TEXT_ARRAY("tags") ", " TEXT_ARRAY("synonyms") ","
		" active, config, metadata FROM mreg_import_batch"
		" WHERE kind = 'model' AND model_id IS NULL"
		" ORDER BY provider_id, name"
		" ON CONFLICT (provider_id, name) DO UPDATE SET type = EXCLUDED.type,"
		" version = EXCLUDED.version, display_name = EXCLUDED.display_name,"
		" description = EXCLUDED.description, tags = EXCLUDED.tags,"
		" synonyms = EXCLUDED.synonyms, active = EXCLUDED.active,"
		" config = EXCLUDED.config, metadata = EXCLUDED.metadata,"
		" updated_at = now()"
		" WHERE (m.type, m.version, m.display_name, m.description, m.tags,"
		" m.synonyms, m.active, m.config, m.metadata) IS DISTINCT FROM"
		" (EXCLUDED.type, EXCLUDED.version, EXCLUDED.display_name,"
		" EXCLUDED.description, EXCLUDED.tags, EXCLUDED.synonyms,"
		" EXCLUDED.active, EXCLUDED.config, EXCLUDED.metadata)" },

	{ STEP_NONE, NEED_NEW, COUNT_NONE,
		"UPDATE mreg_import_batch b SET model_id = m.id FROM mreg.models m"
		" WHERE b.kind = 'model' AND b.model_id IS NULL"
		" AND m.provider_id = b.provider_id AND m.name = b.name" },

	{ STEP_NONE, NEED_EXISTING, COUNT_NONE,
		"DELETE FROM mreg.artifacts a USING mreg_import_batch b"
		" WHERE b.kind = 'model' AND b.old IS NOT NULL"
		" AND a.model_id = b.model_id"
		" AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(b.artifacts) e"
		" WHERE e->>'path' = a.path)" },

	{ STEP_NONE, NEED_ARTIFACTS, COUNT_NONE,
		"INSERT INTO mreg.artifacts AS a (model_id, path, size, sha256)"
		" SELECT b.model_id, e->>'path', (e->>'size')::bigint, e->>'sha256'"
		" FROM mreg_import_batch b, jsonb_array_elements(b.artifacts) e"
		" WHERE b.kind = 'model' AND b.artifacts <> '[]'"
		" ON CONFLICT (model_id, path) DO UPDATE SET size = EXCLUDED.size,"
		" sha256 = EXCLUDED.sha256 WHERE (a.size, a.sha256) IS DISTINCT FROM"
		" (EXCLUDED.size, EXCLUDED.sha256)" },

	/* the cache rows, in the same transaction as the models */
	{ STEP_SOURCE, NEED_FILES, COUNT_NONE,
		MREG_SOURCE_FILES_INSERT
		" SELECT $1::text, path, size, mtime_ns, ctime_ns, inode, device, sha256,"
		" racy, error, model_id, artifact_stats,"
		" CASE WHEN kind = 'model' THEN provider || '/' || name END"
		" FROM mreg_import_batch"
		" WHERE kind IN ('model', 'touch', 'error')"
		MREG_SOURCE_FILES_UPSERT },

	/* files in a provider/name conflict: hash and parse them next time */
	{ STEP_SOURCE, NEED_INVALIDATE, COUNT_NONE,
		"UPDATE mreg.source_files s SET racy = true, sha256 = repeat('0', 64)"
		" FROM mreg_import_batch b WHERE b.kind = 'invalidate'"
		" AND s.source = $1 AND s.path = b.path" },
};

/*
 * What the batch changed, for the report (the database wrote the audit
 * rows).  After the upsert a model holds exactly the batch's values, so
 * its new state is built from the batch row (no second look at the
 * table); it is shaped like SNAPSHOT so that an unchanged model compares
 * equal.  An artifact-only change counts as an update.
 */
static const char *const changed_sql =
	"WITH n AS (SELECT b.path, b.provider, b.name,"
	" b.old, jsonb_build_object('type', b.type, 'version', b.version,"
	" 'display_name', b.display_name, 'description', b.description,"
	" 'tags', b.tags, 'synonyms', b.synonyms, 'active', b.active,"
	" 'config', b.config, 'metadata', b.metadata, 'artifacts',"
	" (SELECT coalesce(jsonb_agg(e ORDER BY e->>'path'), '[]'::jsonb)"
	"  FROM jsonb_array_elements(b.artifacts) e)) AS new"
	" FROM mreg_import_batch b WHERE b.kind = 'model')"
	" SELECT CASE WHEN old IS NULL THEN 'model.create'"
	" ELSE 'model.update' END, 'models/' || provider || '/' || name, path"
	" FROM n WHERE old IS NULL OR old <> new";

/* The audit rows' per-file context: each model's file and digest. */
static const char *const row_context_sql =
	"SELECT jsonb_object_agg(provider || '/' || name,"
	" jsonb_build_object('path', path, 'sha256', sha256))"
	" FROM mreg_import_batch WHERE kind = 'model'";

static const char *const late_sql =
	"SELECT path, late_error FROM mreg_import_batch"
	" WHERE late_error IS NOT NULL";

static void copy_ll(struct mreg_copy *cp, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	mreg_copy_field(cp, buf);
}

static char *artifacts_json(const struct mreg_scan_result *r)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < r->narts; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "path",
						   r->arts[i].path, "size",
						   (json_int_t)r->arts[i].size,
						   "sha256", r->arts[i].sha));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

void mreg_importer_copy_file(struct mreg_copy *cp,
			     const struct mreg_scan_result *r)
{
	char hex[MREG_SHA256_HEX];

	mreg_copy_field(cp, r->rel);
	copy_ll(cp, r->st.size);
	copy_ll(cp, r->st.mtime_ns);
	copy_ll(cp, r->st.ctime_ns);
	copy_ll(cp, (long long)r->st.inode);
	copy_ll(cp, (long long)r->st.device);
	mreg_digest_to_hex(r->sha, hex);
	mreg_copy_field(cp, hex);
	mreg_copy_field(cp, r->racy ? "t" : "f");
}

static void copy_row(struct mreg_copy *cp,
		     const struct mreg_scan_result *r, const char *kind)
{
	const struct mreg_model *m = &r->model;
	bool model = r->kind == MREG_SCAN_MODEL;
	char *arts = NULL;

	/* kind, path, then BATCH_FIELDS in order */
	mreg_copy_field(cp, kind);
	mreg_importer_copy_file(cp, r);
	if (r->kind == MREG_SCAN_ERROR)
		mreg_copy_field(cp, r->error);
	else if (r->kind == MREG_SCAN_TOUCH && r->entry)
		mreg_copy_field(cp, r->entry->error);
	else
		mreg_copy_field(cp, NULL);
	mreg_copy_field(cp, model ? m->provider : NULL);
	mreg_copy_field(cp, model ? m->name : NULL);
	mreg_copy_field(cp, model ? m->type : NULL);
	mreg_copy_field(cp, model ? m->version : NULL);
	mreg_copy_field(cp, model ? m->display_name : NULL);
	mreg_copy_field(cp, model ? m->description : NULL);
	mreg_copy_field(cp, model ? m->tags_json : NULL);
	mreg_copy_field(cp, model ? m->synonyms_json : NULL);
	mreg_copy_field(cp, model ? (m->active ? "t" : "f") : NULL);
	mreg_copy_field(cp, model ? m->config_json : NULL);
	mreg_copy_field(cp, model ? m->metadata_json : NULL);
	if (model)
		arts = artifacts_json(r);
	mreg_copy_field(cp, model ? (arts ? arts : "[]") : NULL);
	free(arts);
	/* the artifacts' stat (artifact-cache.h): a touch keeps the record */
	arts = model ? mreg_artifacts_record(r->arts, r->narts) : NULL;
	mreg_copy_field(cp, model ? arts
			: r->kind == MREG_SCAN_TOUCH && r->entry ? r->entry->artifacts
								  : NULL);
	free(arts);
	mreg_copy_row(cp);
}

/*
 * SQLSTATEs by which the server refuses a value of one file rather than
 * the batch: data exceptions (22: too long, invalid text, an encoding),
 * integrity violations (23) and program limits (54: an index entry or a
 * tsvector too large).  The batch is then split to find the file.
 * Anything else (a lost connection, a serialization failure, a bug) ends
 * the run as before.
 */
bool mreg_importer_refuses_value(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 ||
	       strncmp(sqlstate, "23", 2) == 0 ||
	       strncmp(sqlstate, "54", 2) == 0;
}

/* Item i of the batch: a scan result, then the paths to invalidate. */
static bool item_copied(const struct mreg_importer *w, size_t i)
{
	const struct mreg_scan_result *r;

	if (i >= w->nbatch)
		return true;
	r = w->batch[i];
	/* a claim found in conflict after the row was queued */
	return !r->skip;
}

static void copy_item(struct mreg_copy *cp, const struct mreg_importer *w,
		      size_t i)
{
	const struct mreg_scan_result *r;
	int k;

	if (i >= w->nbatch) {
		mreg_copy_field(cp, "invalidate");
		mreg_copy_field(cp, w->invalid[i - w->nbatch]);
		for (k = 0; k < BATCH_NFIELDS; k++)
			mreg_copy_field(cp, NULL);
		mreg_copy_row(cp);
		return;
	}
	r = w->batch[i];
	copy_row(cp, r, r->kind == MREG_SCAN_MODEL   ? "model"
			: r->kind == MREG_SCAN_TOUCH ? "touch"
						     : "error");
}

static bool step_needed(const struct batch_step *s,
			const struct batch_facts *f)
{
	switch (s->need) {
	case NEED_MODELS:
		return f->models > 0;
	case NEED_PROVIDERS:
		return f->with_provider < f->models;
	case NEED_EXISTING:
		return f->existing > 0;
	case NEED_TEXT_CHANGED:
		return f->text_changed > 0;
	case NEED_TEXT_SAME:
		return f->text_changed < f->existing;
	case NEED_NEW:
		return f->existing < f->models;
	case NEED_ARTIFACTS:
		return f->artifacts;
	case NEED_FILES:
		return f->files > 0;
	case NEED_INVALIDATE:
		return f->invalidate > 0;
	}
	return true;
}

/* The statements of batch_steps in order, each with its parameters, but
 * those that cannot change anything. */
static int run_steps(const struct mreg_importer *w, struct batch_facts *f,
		     struct mreg_error *err)
{
	const char *source[1] = { w->cfg->source };
	size_t k;

	for (k = 0; k < sizeof(batch_steps) / sizeof(*batch_steps); k++) {
		const struct batch_step *s = &batch_steps[k];
		bool rows = s->count == COUNT_EXISTING;
		PGresult *res;
		int i;

		if (!step_needed(s, f))
			continue;
		res = mreg_db_exec(w->cfg->conn, s->sql,
				   s->params == STEP_SOURCE ? 1 : 0,
				   s->params == STEP_SOURCE ? source : NULL,
				   rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, err);
		if (!res)
			return -1;
		if (s->count == COUNT_PROVIDERS)
			f->with_provider += atol(PQcmdTuples(res));
		if (rows) {
			f->existing = PQntuples(res);
			for (i = 0; i < PQntuples(res); i++)
				if (strcmp(PQgetvalue(res, i, 0), "t") == 0)
					f->text_changed++;
		}
		PQclear(res);
	}
	return 0;
}

/* Count what item i brings to the batch table. */
static void count_item(const struct mreg_importer *w, size_t i,
		       struct batch_facts *f)
{
	const struct mreg_scan_result *r;

	if (i >= w->nbatch) {
		f->invalidate++;
		return;
	}
	r = w->batch[i];
	f->files++;
	if (r->kind == MREG_SCAN_MODEL) {
		f->models++;
		if (r->narts > 0)
			f->artifacts = true;
	}
}

/*
 * Items [lo, hi) through the batch statements.  0 with the rows of the
 * audit and of the refused defaults in *audit and *late (the caller
 * clears them), or -1 with err filled; the transaction is then failed.
 */
static int try_items(struct mreg_importer *w, size_t lo, size_t hi,
		     PGresult **audit, PGresult **late,
		     struct mreg_error *err)
{
	struct mreg_conn *conn = w->cfg->conn;
	struct batch_facts facts = { 0 };
	struct mreg_copy cp;
	size_t i;

	*audit = *late = NULL;
	if (mreg_db_command(conn, create_batch_sql, 0, NULL, err) < 0)
		return -1;
	if (mreg_copy_begin(&cp, conn, copy_batch_sql, err) < 0)
		return -1;
	for (i = lo; i < hi; i++) {
		if (item_copied(w, i)) {
			copy_item(&cp, w, i);
			count_item(w, i, &facts);
		}
	}
	if (mreg_copy_end(&cp, err) < 0 ||
	    mreg_db_command(conn, analyze_batch_sql, 0, NULL, err) < 0)
		return -1;
	if (mreg_audit_row_context(conn, row_context_sql, 0, NULL, err) < 0 ||
	    run_steps(w, &facts, err) < 0)
		return -1;
	*audit = mreg_db_exec(conn, changed_sql, 0, NULL, PGRES_TUPLES_OK,
			      err);
	if (*audit)
		*late = mreg_db_exec(w->cfg->conn, late_sql, 0, NULL,
				     PGRES_TUPLES_OK, err);
	if (*late && (!w->cfg->plan || mreg_importer_plan_batch(w, err) == 0) &&
	    mreg_db_command(w->cfg->conn, "DROP TABLE mreg_import_batch",
			    0, NULL, err) == 0)
		return 0;
	PQclear(*audit);
	PQclear(*late);
	*audit = *late = NULL;
	return -1;
}

/* What a written part of the batch did: counts and events. */
static void tell_written(struct mreg_importer *w, PGresult *audit,
			 PGresult *late)
{
	int k;

	for (k = 0; k < PQntuples(audit); k++) {
		bool create = strcmp(PQgetvalue(audit, k, 0), "model.create") == 0;
		if (create)
			w->added++;
		else
			w->updated++;
		if (w->cfg->ev.changed)
			w->cfg->ev.changed(w->cfg->ev.arg, create,
				      PQgetvalue(audit, k, 1),
				      PQgetvalue(audit, k, 2));
	}
	for (k = 0; k < PQntuples(late); k++) {
		mreg_importer_report(w, PQgetvalue(late, k, 0), PQgetvalue(late, k, 1),
			    false);
		mreg_importer_mark_failed(w);
	}
}

/*
 * The server refused item i alone (why).  A model file is a bad file;
 * it is not recorded, so the next run reads it again (and imports it
 * once it is fixed).  A cache refresh or an invalidation that fails
 * leaves the file to be read again: a warning.
 */
static void refused(struct mreg_importer *w, size_t i,
		    const struct mreg_error *why)
{
	char msg[sizeof(why->message) + 64];

	if (i < w->nbatch && w->batch[i]->kind == MREG_SCAN_MODEL) {
		snprintf(msg, sizeof(msg), "the database refused it: %s",
			 why->message);
		mreg_importer_report(w, w->batch[i]->rel, msg, false);
		mreg_importer_mark_failed(w);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "could not record the file: the database refused it: %s",
		 why->message);
	mreg_importer_report(w, i < w->nbatch ? w->batch[i]->rel
				     : w->invalid[i - w->nbatch],
		    msg, true);
}

/*
 * Write items [lo, hi) under a savepoint.  When the server refuses a
 * value, roll back to it and split the range in two until the refused
 * items stand alone: they are reported, every other item is written.
 * -1 (err filled) on any other failure.
 */
static int write_items(struct mreg_importer *w, size_t lo, size_t hi,
		       struct mreg_error *err)
{
	PGresult *audit = NULL, *late = NULL;
	struct mreg_error why;
	size_t i, mid;

	for (i = lo; i < hi && !item_copied(w, i); i++)
		;
	if (i == hi || w->abort_writes)
		return 0; /* nothing to write, or --strict gave up */
	if (mreg_db_command(w->cfg->conn, "SAVEPOINT mreg_batch", 0, NULL, err) < 0)
		return -1;
	if (try_items(w, lo, hi, &audit, &late, err) == 0) {
		if (mreg_db_command(w->cfg->conn, "RELEASE SAVEPOINT mreg_batch", 0,
				    NULL, err) < 0) {
			PQclear(audit);
			PQclear(late);
			return -1;
		}
		tell_written(w, audit, late);
		mreg_importer_plan_tell(w);
		PQclear(audit);
		PQclear(late);
		return 0;
	}
	mreg_importer_plan_drop(w);
	if (!mreg_importer_refuses_value(err->sqlstate))
		return -1;
	why = *err;
	mreg_error_clear(err);
	if (mreg_db_command(w->cfg->conn, "ROLLBACK TO SAVEPOINT mreg_batch", 0,
			    NULL, err) < 0 ||
	    mreg_db_command(w->cfg->conn, "RELEASE SAVEPOINT mreg_batch", 0, NULL,
			    err) < 0)
		return -1;
	if (hi - lo == 1) {
		refused(w, lo, &why);
		return 0;
	}
	mid = lo + (hi - lo) / 2;
	if (write_items(w, lo, mid, err) < 0)
		return -1;
	return write_items(w, mid, hi, err);
}

/* r's file was recorded for a model of r's provider: the provider exists
 * (unless deleted since: the batch's own step creates it then). */
static bool provider_recorded(const struct mreg_scan_result *r)
{
	const char *key = r->entry ? r->entry->key : NULL;
	size_t n = strlen(r->model.provider);

	return key && strncmp(key, r->model.provider, n) == 0 && key[n] == '/';
}

/*
 * The names of the JSON object text (keys) one at a time, in the order
 * the server sorts them, each under a savepoint: a name the server
 * refuses is left out of names (the batch reports its files).  In the
 * caller's transaction.
 */
static int create_each_provider(struct mreg_importer *w, json_t *names,
				const char *text, struct mreg_error *err)
{
	struct mreg_conn *conn = w->cfg->conn;
	PGresult *res;
	int i, rc = -1;

	res = mreg_db_exec(conn,
			   "SELECT k FROM jsonb_object_keys($1::jsonb) k ORDER BY 1",
			   1, (const char *[]){ text }, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);

		if (mreg_db_command(conn, "SAVEPOINT mreg_provider", 0, NULL,
				    err) < 0)
			goto done;
		if (mreg_db_command(conn,
				    "INSERT INTO mreg.providers (name) VALUES ($1)"
				    " ON CONFLICT (name) DO NOTHING",
				    1, (const char *[]){ name }, err) < 0) {
			if (!mreg_importer_refuses_value(err->sqlstate))
				goto done;
			mreg_error_clear(err);
			if (mreg_db_command(conn, "ROLLBACK TO SAVEPOINT mreg_provider",
					    0, NULL, err) < 0)
				goto done;
			json_object_del(names, name);
		}
		if (mreg_db_command(conn, "RELEASE SAVEPOINT mreg_provider", 0,
				    NULL, err) < 0)
			goto done;
	}
	rc = 0;
done:
	PQclear(res);
	return rc;
}

/* The providers of names (JSON text) in one audited transaction, fenced
 * like a batch: all in one statement, or one at a time (each). */
static int create_providers(struct mreg_importer *w, json_t *names,
			    const char *text, bool each, struct mreg_error *err)
{
	static const char sql[] =
		"INSERT INTO mreg.providers (name)"
		" SELECT k FROM jsonb_object_keys($1::jsonb) k"
		" ORDER BY 1 ON CONFLICT (name) DO NOTHING";

	if (mreg_importer_begin(w, err) < 0 ||
	    mreg_importer_audit_batch(w, w->batches + 1, err) < 0)
		return -1;
	if (each ? create_each_provider(w, names, text, err)
		 : mreg_db_command(w->cfg->conn, sql, 1,
				   (const char *[]){ text }, err))
		return -1;
	if (mreg_db_commit(w->cfg->conn, err) < 0)
		return -1;
	w->in_txn = false;
	return 0;
}

/*
 * A writer of several creates the batch's providers it has not seen yet
 * in a short transaction of its own (audited, fenced like a batch) before
 * the batch.  Inside the batch, a provider another writer's open batch
 * had just inserted made this one wait for that whole batch to commit: at
 * the start of a first import every writer but one waited so (~0.3 s of
 * one core idle in 3), and the batches after it kept the delay to the
 * end.  So a provider can exist while the files that named it were all
 * refused by the server (the client checks provider names and types
 * first, so that is rare).  The batch's own provider step stays: it
 * creates what this one did not.  A file recorded for a model of its
 * provider needs nothing here (a re-import of changed files sends none).
 *
 * A name the server refuses: the others are created one at a time, so
 * the batch inserts none but the refused.  A batch that inserted them
 * itself would hold them to its end, and in the order of its halves as
 * it splits to find the refused file, not in sorted order: another
 * writer's providers step waiting for it while it waits for that step
 * was a deadlock (40P01 failed the run).
 */
static int providers_first(struct mreg_importer *w, struct mreg_error *err)
{
	json_t *names = json_object();
	const char *name;
	json_t *v;
	char *text = NULL;
	size_t i;
	int rc = -1;

	if (!names)
		goto oom;
	for (i = 0; i < w->nbatch; i++) {
		const struct mreg_scan_result *r = w->batch[i];

		if (r->kind == MREG_SCAN_MODEL && !r->skip &&
		    !provider_recorded(r) &&
		    !mreg_strmap_get(w->providers, r->model.provider) &&
		    json_object_set_new(names, r->model.provider, json_true()) < 0)
			goto oom;
	}
	if (json_object_size(names) == 0) {
		json_decref(names);
		return 0;
	}
	if (!(text = json_dumps(names, JSON_COMPACT)))
		goto oom;
	for (i = 0; i < 2; i++) {
		if (create_providers(w, names, text, i == 1, err) == 0)
			break;
		if (!mreg_importer_refuses_value(err->sqlstate) || !w->in_txn)
			goto cleanup;
		mreg_db_rollback(w->cfg->conn);
		w->in_txn = false;
		mreg_error_clear(err);
		if (i == 1) {
			/* refused at commit: the batch reports the files */
			rc = 0;
			goto cleanup;
		}
	}
	json_object_foreach(names, name, v) {
		char *copy = strdup(name);

		if (!copy || mreg_strmap_put(w->providers, copy, copy, NULL) < 0) {
			free(copy);
			break; /* only an optimization: the batch creates it */
		}
	}
	rc = 0;
	goto cleanup;
oom:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
cleanup:
	if (rc < 0 && w->in_txn) {
		mreg_db_rollback(w->cfg->conn);
		w->in_txn = false;
	}
	free(text);
	json_decref(names);
	return rc;
}

int mreg_importer_write_batch(struct mreg_importer *w, struct mreg_error *err)
{
	size_t i;
	int rc = -1, fresh;

	if (w->nbatch == 0 && w->ninvalid == 0)
		return 0;
	if (w->abort_writes) {
		rc = 0;
		goto cleanup;
	}
	/* only a writer of several has the map (never a one-transaction run) */
	if (w->providers && providers_first(w, err) < 0)
		goto cleanup;
	if (mreg_importer_begin(w, err) < 0 ||
	    mreg_importer_audit_context(w, NULL, err) < 0)
		goto cleanup;
	fresh = mreg_importer_write_fresh(w, 0, w->nbatch + w->ninvalid, err);
	if (fresh < 0 ||
	    (fresh == 0 && write_items(w, 0, w->nbatch + w->ninvalid, err) < 0))
		goto cleanup;
	if (!w->one_txn) {
		if (mreg_db_commit(w->cfg->conn, err) < 0)
			goto cleanup;
		w->in_txn = false;
	}
	rc = 0;
cleanup:
	for (i = 0; i < w->nbatch; i++)
		mreg_scan_result_free(w->batch[i]);
	w->nbatch = 0;
	for (i = 0; i < w->ninvalid; i++)
		free(w->invalid[i]);
	w->ninvalid = 0;
	return rc;
}

