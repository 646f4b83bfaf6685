/* importer.c - the consumer side of import-dir: claims, batches, prune */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "importer.h"

/* rel's problem, for the caller to show. */
static void report_file(struct mreg_importer *w, const char *rel,
			const char *text, bool warning)
{
	if (w->ev.file)
		w->ev.file(w->ev.arg, rel, text, warning);
}

/* --- the batch: COPY into a temporary table, then set-based SQL -------- */

static const char *const create_batch_sql =
	"CREATE TEMP TABLE mreg_import_batch ("
	" kind text NOT NULL, path text NOT NULL, size bigint,"
	" mtime_ns bigint, ctime_ns bigint, inode bigint, device bigint,"
	" sha256 text, racy boolean, error text,"
	" provider text, name text, type text, version text,"
	" display_name text, description text, tags jsonb, synonyms jsonb,"
	" active boolean, config jsonb, metadata jsonb, artifacts jsonb,"
	" provider_id bigint, model_id bigint, old jsonb, late_error text"
	") ON COMMIT DROP";

static const char *const copy_batch_sql =
	"COPY mreg_import_batch (kind, path, size, mtime_ns, ctime_ns, inode,"
	" device, sha256, racy, error, provider, name, type, version,"
	" display_name, description, tags, synonyms, active, config,"
	" metadata, artifacts) FROM STDIN";

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

/* $1 actor, $2 source */
static const char *const batch_steps[] = {
	/* providers, created on first use */
	"WITH ins AS (INSERT INTO mreg.providers (name)"
	" SELECT DISTINCT provider FROM mreg_import_batch WHERE kind = 'model'"
	" ORDER BY 1 ON CONFLICT (name) DO NOTHING RETURNING name)"
	" INSERT INTO mreg.audit_log (actor, action, resource, details)"
	" SELECT $1, 'provider.create', 'providers/' || name,"
	" jsonb_build_object('source', $2::text) FROM ins",

	"UPDATE mreg_import_batch b SET provider_id = p.id"
	" FROM mreg.providers p WHERE b.kind = 'model' AND p.name = b.provider"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	/* the models as they were, locked against concurrent writers */
	"UPDATE mreg_import_batch b SET model_id = m.id, old = " SNAPSHOT("m")
	" FROM (SELECT * FROM mreg.models WHERE (provider_id, name) IN"
	" (SELECT provider_id, name FROM mreg_import_batch WHERE kind = 'model')"
	" ORDER BY id FOR UPDATE) m"
	" WHERE b.kind = 'model' AND m.provider_id = b.provider_id"
	" AND m.name = b.name AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	/* a default model keeps its type and stays active: refuse the file */
	"UPDATE mreg_import_batch b SET kind = 'late', late_error ="
	" CASE WHEN b.type <> m.type THEN format('model \"%s/%s\" is the"
	" default for type \"%s\": its type cannot change to \"%s\"',"
	" b.provider, b.name, m.type, b.type)"
	" ELSE format('model \"%s/%s\" is the default for type \"%s\": it"
	" cannot be deactivated', b.provider, b.name, m.type) END"
	" FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id"
	" WHERE b.kind = 'model' AND b.model_id = d.model_id"
	" AND (b.type <> m.type OR NOT b.active)"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"INSERT INTO mreg.models AS m (provider_id, name, type, version,"
	" display_name, description, tags, synonyms, active, config, metadata)"
	" SELECT provider_id, name, type, version, display_name, description,"
	" ARRAY(SELECT jsonb_array_elements_text(tags)),"
	" ARRAY(SELECT jsonb_array_elements_text(synonyms)),"
	" active, config, metadata FROM mreg_import_batch"
	" WHERE kind = 'model' AND $1::text IS NOT NULL AND $2::text IS NOT NULL"
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
	" EXCLUDED.active, EXCLUDED.config, EXCLUDED.metadata)",

	"UPDATE mreg_import_batch b SET model_id = m.id FROM mreg.models m"
	" WHERE b.kind = 'model' AND b.model_id IS NULL"
	" AND m.provider_id = b.provider_id AND m.name = b.name"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"DELETE FROM mreg.artifacts a USING mreg_import_batch b"
	" WHERE b.kind = 'model' AND b.old IS NOT NULL"
	" AND a.model_id = b.model_id"
	" AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(b.artifacts) e"
	" WHERE e->>'path' = a.path)"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"INSERT INTO mreg.artifacts AS a (model_id, path, size, sha256)"
	" SELECT b.model_id, e->>'path', (e->>'size')::bigint, e->>'sha256'"
	" FROM mreg_import_batch b, jsonb_array_elements(b.artifacts) e"
	" WHERE b.kind = 'model' AND b.artifacts <> '[]' AND $1::text IS NOT NULL"
	" AND $2::text IS NOT NULL"
	" ON CONFLICT (model_id, path) DO UPDATE SET size = EXCLUDED.size,"
	" sha256 = EXCLUDED.sha256 WHERE (a.size, a.sha256) IS DISTINCT FROM"
	" (EXCLUDED.size, EXCLUDED.sha256)",

	/* the cache rows, in the same transaction as the models */
	"INSERT INTO mreg.source_files AS s (source, path, size, mtime_ns,"
	" ctime_ns, inode, device, sha256, racy, error, model_id)"
	" SELECT $2, path, size, mtime_ns, ctime_ns, inode, device, sha256,"
	" racy, error, model_id FROM mreg_import_batch"
	" WHERE kind IN ('model', 'touch', 'error') AND $1::text IS NOT NULL"
	" ON CONFLICT (source, path) DO UPDATE SET size = EXCLUDED.size,"
	" mtime_ns = EXCLUDED.mtime_ns, ctime_ns = EXCLUDED.ctime_ns,"
	" inode = EXCLUDED.inode, device = EXCLUDED.device,"
	" sha256 = EXCLUDED.sha256, racy = EXCLUDED.racy,"
	" error = EXCLUDED.error,"
	" model_id = coalesce(EXCLUDED.model_id, s.model_id),"
	" recorded_at = now()",

	/* files in a provider/name conflict: hash and parse them next time */
	"UPDATE mreg.source_files s SET racy = true, sha256 = repeat('0', 64)"
	" FROM mreg_import_batch b WHERE b.kind = 'invalidate'"
	" AND s.source = $2 AND s.path = b.path AND $1::text IS NOT NULL",
	NULL,
};

/*
 * After the upsert a model holds exactly the batch's values, so its new
 * state is built from the batch row (no second look at the table); it is
 * shaped like SNAPSHOT so that an unchanged model compares equal.
 */
static const char *const audit_sql =
	"WITH n AS (SELECT b.path, b.sha256, b.model_id, b.provider, b.name,"
	" b.old, jsonb_build_object('type', b.type, 'version', b.version,"
	" 'display_name', b.display_name, 'description', b.description,"
	" 'tags', b.tags, 'synonyms', b.synonyms, 'active', b.active,"
	" 'config', b.config, 'metadata', b.metadata, 'artifacts',"
	" (SELECT coalesce(jsonb_agg(e ORDER BY e->>'path'), '[]'::jsonb)"
	"  FROM jsonb_array_elements(b.artifacts) e)) AS new"
	" FROM mreg_import_batch b WHERE b.kind = 'model')"
	" INSERT INTO mreg.audit_log (actor, action, resource, model_id, details)"
	" SELECT $1, CASE WHEN old IS NULL THEN 'model.create'"
	" ELSE 'model.update' END, 'models/' || provider || '/' || name,"
	" model_id, jsonb_build_object('source', $2::text, 'path', path,"
	" 'sha256', sha256, 'old', old, 'new', new)"
	" FROM n WHERE old IS NULL OR old <> new"
	" RETURNING action, resource, details->>'path'";

static const char *const late_sql =
	"SELECT path, late_error FROM mreg_import_batch"
	" WHERE late_error IS NOT NULL";

static void mark_failed(struct mreg_importer *w)
{
	w->failed++;
	w->failed_files++;
	if (w->strict)
		w->abort_writes = true;
}

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

static void copy_row(struct mreg_copy *cp,
		     const struct mreg_scan_result *r, const char *kind)
{
	char hex[MREG_SHA256_HEX];
	const struct mreg_model *m = &r->model;
	bool model = r->kind == MREG_SCAN_MODEL;
	char *arts = NULL;

	mreg_copy_field(cp, kind);
	mreg_copy_field(cp, r->rel);
	copy_ll(cp, r->st.size);
	copy_ll(cp, r->st.mtime_ns);
	copy_ll(cp, r->st.ctime_ns);
	copy_ll(cp, (long long)r->st.inode);
	copy_ll(cp, (long long)r->st.device);
	mreg_digest_to_hex(r->sha, hex);
	mreg_copy_field(cp, hex);
	mreg_copy_field(cp, r->racy ? "t" : "f");
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
static bool refuses_a_value(const char *sqlstate)
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
	return !(r->kind == MREG_SCAN_MODEL && r->claim && r->claim->conflicted);
}

static void copy_item(struct mreg_copy *cp, const struct mreg_importer *w,
		      size_t i)
{
	const struct mreg_scan_result *r;
	int k;

	if (i >= w->nbatch) {
		mreg_copy_field(cp, "invalidate");
		mreg_copy_field(cp, w->invalid[i - w->nbatch]);
		for (k = 0; k < 20; k++)
			mreg_copy_field(cp, NULL);
		mreg_copy_row(cp);
		return;
	}
	r = w->batch[i];
	copy_row(cp, r, r->kind == MREG_SCAN_MODEL   ? "model"
			: r->kind == MREG_SCAN_TOUCH ? "touch"
						     : "error");
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
	const char *params[2] = { w->actor, w->source };
	struct mreg_copy cp;
	size_t i;
	int k;

	*audit = *late = NULL;
	if (mreg_db_command(w->conn, create_batch_sql, 0, NULL, err) < 0)
		return -1;
	if (mreg_copy_begin(&cp, w->conn, copy_batch_sql, err) < 0)
		return -1;
	for (i = lo; i < hi; i++)
		if (item_copied(w, i))
			copy_item(&cp, w, i);
	if (mreg_copy_end(&cp, err) < 0)
		return -1;
	for (k = 0; batch_steps[k]; k++)
		if (mreg_db_command(w->conn, batch_steps[k], 2, params, err) < 0)
			return -1;
	*audit = mreg_db_exec(w->conn, audit_sql, 2, params, PGRES_TUPLES_OK,
			      err);
	if (*audit)
		*late = mreg_db_exec(w->conn, late_sql, 0, NULL,
				     PGRES_TUPLES_OK, err);
	if (*late && mreg_db_command(w->conn, "DROP TABLE mreg_import_batch",
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
		if (w->ev.changed)
			w->ev.changed(w->ev.arg, create,
				      PQgetvalue(audit, k, 1),
				      PQgetvalue(audit, k, 2));
	}
	for (k = 0; k < PQntuples(late); k++) {
		report_file(w, PQgetvalue(late, k, 0), PQgetvalue(late, k, 1),
			    false);
		mark_failed(w);
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
		report_file(w, w->batch[i]->rel, msg, false);
		mark_failed(w);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "could not record the file: the database refused it: %s",
		 why->message);
	report_file(w, i < w->nbatch ? w->batch[i]->rel
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
	if (mreg_db_command(w->conn, "SAVEPOINT mreg_batch", 0, NULL, err) < 0)
		return -1;
	if (try_items(w, lo, hi, &audit, &late, err) == 0) {
		if (mreg_db_command(w->conn, "RELEASE SAVEPOINT mreg_batch", 0,
				    NULL, err) < 0) {
			PQclear(audit);
			PQclear(late);
			return -1;
		}
		tell_written(w, audit, late);
		PQclear(audit);
		PQclear(late);
		return 0;
	}
	if (!refuses_a_value(err->sqlstate))
		return -1;
	why = *err;
	mreg_error_clear(err);
	if (mreg_db_command(w->conn, "ROLLBACK TO SAVEPOINT mreg_batch", 0,
			    NULL, err) < 0 ||
	    mreg_db_command(w->conn, "RELEASE SAVEPOINT mreg_batch", 0, NULL,
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

static int write_batch(struct mreg_importer *w, struct mreg_error *err)
{
	size_t i;
	int rc = -1;

	if (w->nbatch == 0 && w->ninvalid == 0)
		return 0;
	if (w->abort_writes) {
		rc = 0;
		goto cleanup;
	}
	if (!w->in_txn) {
		if (mreg_db_begin(w->conn, err) < 0)
			goto cleanup;
		w->in_txn = true;
	}
	if (write_items(w, 0, w->nbatch + w->ninvalid, err) < 0)
		goto cleanup;
	if (!w->one_txn) {
		if (mreg_db_commit(w->conn, err) < 0)
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

static int add_invalid(struct mreg_importer *w, const char *rel)
{
	if (w->ninvalid == w->capinvalid) {
		size_t n = w->capinvalid ? w->capinvalid * 2 : 16;
		char **p = realloc(w->invalid, n * sizeof(*p));
		if (!p)
			return -1;
		w->invalid = p;
		w->capinvalid = n;
	}
	if (!(w->invalid[w->ninvalid] = strdup(rel)))
		return -1;
	w->ninvalid++;
	return 0;
}

/*
 * Record that rel defines key.  false when another file defines it too:
 * both are reported and failed, and both are re-read next time.
 */
static bool claim_key(struct mreg_importer *w, const char *key,
		      const char *rel, bool borrow, struct mreg_error *err)
{
	struct mreg_claim *first;
	bool oom;
	char msg[2048];

	first = mreg_claims_take(&w->claims, key, rel, borrow, &oom);
	if (oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return false;
	}
	if (!first)
		return true;
	if (first->deferred) {
		mreg_scan_result_free(first->deferred);
		first->deferred = NULL;
	}
	snprintf(msg, sizeof(msg),
		 "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
		 key, w->label_root, first->rel);
	report_file(w, rel, msg, false);
	mark_failed(w);
	add_invalid(w, rel);
	if (!first->conflicted) {
		first->conflicted = true;
		snprintf(msg, sizeof(msg),
			 "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
			 key, w->label_root, rel);
		report_file(w, first->rel, msg, false);
		mark_failed(w);
		add_invalid(w, first->rel);
	}
	return false;
}

static int batch_add(struct mreg_importer *w, struct mreg_scan_result *r,
		     struct mreg_error *err)
{
	w->batch[w->nbatch++] = r;
	if (w->nbatch >= (size_t)w->batch_size)
		return write_batch(w, err);
	return 0;
}

/*
 * The file recorded for a provider/name is other than rel, still there,
 * and not handled yet in this run: rel's row waits for it, so that a
 * conflict between them is found before either is written.
 */
static bool must_wait_for_owner(struct mreg_importer *w, const char *key,
				const char *rel)
{
	struct mreg_claim *owner = mreg_claims_find(&w->owners, key);
	struct mreg_cache_entry *e;
	struct stat st;

	if (!owner || strcmp(owner->rel, rel) == 0)
		return false;
	e = mreg_cache_get(w->scan->cache, owner->rel);
	if (!e || e->done)
		return false;
	return fstatat(w->scan->rootfd, owner->rel, &st, 0) == 0 &&
	       S_ISREG(st.st_mode);
}

/* rel has been handled: release a row that waited for it. */
static int release_waiting(struct mreg_importer *w, const char *rel,
			   struct mreg_error *err)
{
	struct mreg_cache_entry *e = mreg_cache_get(w->scan->cache, rel);
	struct mreg_claim *c;
	struct mreg_scan_result *r;

	if (!e)
		return 0;
	e->done = true;
	if (!e->key || !(c = mreg_claims_find(&w->claims, e->key)) ||
	    !c->deferred)
		return 0;
	r = c->deferred;
	c->deferred = NULL;
	if (c->conflicted) {
		mreg_scan_result_free(r);
		return 0;
	}
	return batch_add(w, r, err);
}

/* At the end: rows still waiting (their owner's file never came). */
static int release_all(struct mreg_importer *w, struct mreg_error *err)
{
	struct mreg_claim *x;
	struct mreg_scan_result *r;
	size_t pos = 0;

	while ((x = mreg_claims_next(&w->claims, &pos)) != NULL) {
		if (!x->deferred)
			continue;
		r = x->deferred;
		x->deferred = NULL;
		if (x->conflicted)
			mreg_scan_result_free(r);
		else if (batch_add(w, r, err) < 0)
			return -1;
	}
	return 0;
}

static int owners_cb(struct mreg_cache_entry *e, void *arg)
{
	struct mreg_importer *w = arg;
	bool oom;

	if (e->key && !e->error) {
		mreg_claims_take(&w->owners, e->key, e->path, true, &oom);
		if (oom)
			return -1;
	}
	return 0;
}

struct activate {
	struct mreg_importer *w;
	struct mreg_error *err;
};

static int activate_cb(struct mreg_cache_entry *e, void *arg)
{
	struct activate *a = arg;

	if (owners_cb(e, a->w) != 0) {
		mreg_error_set(a->err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (e->done && e->key && !e->error)
		claim_key(a->w, e->key, e->path, true, a->err);
	return a->err->status ? -1 : 0;
}

/*
 * Claims matter only once a model file has been read: until then every
 * file was unchanged.  The first such file builds the claims of the files
 * handled so far and the map of recorded owners.
 */
static int activate_claims(struct mreg_importer *w, struct mreg_error *err)
{
	struct activate a = { w, err };

	w->claims_active = true;
	return mreg_cache_foreach(w->scan->cache, activate_cb, &a) ? -1 : 0;
}

/* An unchanged file (cached entry e) has been handled. */
static int take_unchanged(struct mreg_importer *w,
			  const struct mreg_cache_entry *e,
			  struct mreg_error *err)
{
	if (e->error) {
		report_file(w, e->path, e->error, false);
		mark_failed(w);
	} else if (e->key && w->claims_active) {
		claim_key(w, e->key, e->path, true, err);
		if (err->status)
			return -1;
	}
	return release_waiting(w, e->path, err);
}

/* Handle one result; -1 on a fatal error. */
int mreg_importer_take(struct mreg_importer *w, struct mreg_scan_result *r,
		       struct mreg_error *err)
{
	char key[1024];
	bool keep = false;
	struct mreg_claim *c;
	char *rel = NULL;
	size_t i;

	if (r->kind == MREG_SCAN_UNCHANGED) {
		atomic_fetch_add(&w->scan->done, (long)r->nmany);
		for (i = 0; i < r->nmany; i++)
			if (take_unchanged(w, r->many[i], err) < 0)
				break;
		mreg_scan_result_free(r);
		return err->status ? -1 : 0;
	}
	atomic_fetch_add(&w->scan->done, 1);
	if (r->kind != MREG_SCAN_WALK && !(rel = strdup(r->rel))) {
		mreg_scan_result_free(r);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (r->kind == MREG_SCAN_MODEL && !w->claims_active &&
	    activate_claims(w, err) < 0) {
		mreg_scan_result_free(r);
		free(rel);
		return -1;
	}
	switch (r->kind) {
	case MREG_SCAN_WALK:
		report_file(w, r->rel, r->error, false);
		w->walk_errors++;
		w->failed++;
		if (w->strict)
			w->abort_writes = true;
		break;
	case MREG_SCAN_FAIL:
		report_file(w, r->rel, r->error, false);
		mark_failed(w);
		break;
	case MREG_SCAN_ERROR:
		report_file(w, r->rel, r->error, false);
		mark_failed(w);
		keep = true;
		break;
	case MREG_SCAN_UNCHANGED: /* handled above */
	case MREG_SCAN_TOUCH:
		if (r->entry && r->entry->error) {
			report_file(w, r->rel, r->entry->error, false);
			mark_failed(w);
		} else if (r->entry && r->entry->key && w->claims_active) {
			claim_key(w, r->entry->key, r->entry->path, true, err);
		}
		keep = r->kind == MREG_SCAN_TOUCH;
		break;
	case MREG_SCAN_MODEL:
		snprintf(key, sizeof(key), "%s/%s", r->model.provider,
			 r->model.name);
		keep = claim_key(w, key, r->rel, false, err);
		if (keep && (c = mreg_claims_find(&w->claims, key)) != NULL) {
			r->claim = c;
			if (must_wait_for_owner(w, key, r->rel)) {
				c->deferred = r;
				keep = false;
				r = NULL;
			}
		}
		break;
	}
	if (err->status) {
		mreg_scan_result_free(r);
		free(rel);
		return -1;
	}
	if (r && !keep)
		mreg_scan_result_free(r);
	else if (r && batch_add(w, r, err) < 0)
		goto fail;
	if (rel && release_waiting(w, rel, err) < 0)
		goto fail;
	free(rel);
	if (w->ninvalid >= (size_t)w->batch_size)
		return write_batch(w, err);
	return 0;
fail:
	free(rel);
	return -1;
}

/* --- loading the cache --------------------------------------------------- */

static const char *const load_sql =
	"DECLARE mreg_import_cache NO SCROLL CURSOR FOR"
	" SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device,"
	" s.sha256, s.racy, s.error, s.model_id, p.name || '/' || m.name"
	" FROM mreg.source_files s"
	" LEFT JOIN mreg.models m ON m.id = s.model_id"
	" LEFT JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE s.source = $1";

int mreg_import_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_cache_entry e;
	PGresult *res = NULL;
	int i, n, rc = -1;

	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (mreg_db_command(conn, load_sql, 1, params, err) < 0)
		goto cleanup;
	do {
		res = mreg_db_exec(conn, "FETCH 20000 FROM mreg_import_cache",
				   0, NULL, PGRES_TUPLES_OK, err);
		if (!res)
			goto cleanup;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			memset(&e, 0, sizeof(e));
			e.path = PQgetvalue(res, i, 0);
			e.st.size = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			e.st.mtime_ns = strtoll(PQgetvalue(res, i, 2), NULL, 10);
			e.st.ctime_ns = strtoll(PQgetvalue(res, i, 3), NULL, 10);
			e.st.inode = (uint64_t)strtoll(PQgetvalue(res, i, 4),
						       NULL, 10);
			e.st.device = (uint64_t)strtoll(PQgetvalue(res, i, 5),
							NULL, 10);
			mreg_digest_from_hex(PQgetvalue(res, i, 6), e.sha256);
			e.racy = PQgetvalue(res, i, 7)[0] == 't';
			e.error = PQgetisnull(res, i, 8) ? NULL
							 : PQgetvalue(res, i, 8);
			e.model_id = PQgetisnull(res, i, 9)
					     ? 0
					     : strtoll(PQgetvalue(res, i, 9),
						       NULL, 10);
			e.key = PQgetisnull(res, i, 10) ? NULL
							: PQgetvalue(res, i, 10);
			if (mreg_cache_put(cache, &e) < 0) {
				mreg_error_set(err, MREG_EXIT_FAILURE,
					       "out of memory");
				goto cleanup;
			}
		}
		PQclear(res);
		res = NULL;
	} while (n > 0);
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	PQclear(res);
	if (rc < 0)
		mreg_db_rollback(conn);
	return rc;
}

/* --- the lock ------------------------------------------------------------ */

static const char *const lock_sql =
	"SELECT pg_try_advisory_lock(hashtextextended('mreg.import:' || $1, 0))";
static const char *const unlock_sql =
	"SELECT pg_advisory_unlock(hashtextextended('mreg.import:' || $1, 0))";
static const char *const holder_sql =
	"WITH k AS (SELECT hashtextextended('mreg.import:' || $1, 0) AS key)"
	" SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
	" coalesce(host(a.client_addr), 'local socket'),"
	" coalesce(a.usename::text, '?'),"
	" to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')"
	" FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
	" WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
	" AND l.database = (SELECT oid FROM pg_database"
	"                   WHERE datname = current_database())"
	" AND l.classid::text::bigint = (k.key >> 32) & 4294967295"
	" AND l.objid::text::bigint = k.key & 4294967295"
	" AND a.pid <> pg_backend_pid()";

int mreg_import_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_error ignored;
	PGresult *res;
	int taken;

	res = mreg_db_exec(conn, lock_sql, 1, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	taken = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (taken)
		return 1;
	mreg_error_set(err, MREG_EXIT_LOCKED,
		       "another import of \"%s\" is running", source);
	mreg_error_clear(&ignored);
	res = mreg_db_exec(conn, holder_sql, 1, params, PGRES_TUPLES_OK,
			   &ignored);
	if (res && PQntuples(res) > 0)
		mreg_error_detail(err,
				  "Held by pid %s (%s) from %s as %s, connected since %s.",
				  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
				  PQgetvalue(res, 0, 4));
	PQclear(res);
	return 0;
}

void mreg_import_unlock(struct mreg_conn *conn, const char *source)
{
	const char *params[1] = { source };
	struct mreg_error ignored;
	PGresult *res;

	mreg_error_clear(&ignored);
	res = mreg_db_exec(conn, unlock_sql, 1, params, PGRES_TUPLES_OK,
			   &ignored);
	PQclear(res);
}

/* --- prune --------------------------------------------------------------- */

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
	} else if (!g->w->prune) {
		report_file(g->w, e->path,
			    "file is gone; its model stays active (see --prune)",
			    true);
	}
	return 0;
}

/* $1 source, $2 actor */
static const char *const prune_defaults_sql =
	"SELECT g.path, p.name || '/' || m.name, m.type"
	" FROM mreg_import_gone g"
	" JOIN mreg.source_files s ON s.source = $1 AND s.path = g.path"
	" JOIN mreg.models m ON m.id = s.model_id"
	" JOIN mreg.providers p ON p.id = m.provider_id"
	" JOIN mreg.model_defaults d ON d.model_id = m.id"
	" WHERE $2::text IS NOT NULL ORDER BY 1";
static const char *const prune_sql =
	"WITH cand AS (SELECT DISTINCT s.model_id FROM mreg.source_files s"
	" JOIN mreg_import_gone g ON g.path = s.path"
	" WHERE s.source = $1 AND s.model_id IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM mreg.model_defaults d"
	"                 WHERE d.model_id = s.model_id)"
	" AND NOT EXISTS (SELECT 1 FROM mreg.source_files o"
	"   WHERE o.model_id = s.model_id AND NOT (o.source = $1 AND o.path IN"
	"   (SELECT path FROM mreg_import_gone)))),"
	" upd AS (UPDATE mreg.models m SET active = false, updated_at = now()"
	" FROM cand WHERE m.id = cand.model_id AND m.active"
	" RETURNING m.id, m.provider_id, m.name)"
	" INSERT INTO mreg.audit_log (actor, action, resource, model_id, details)"
	" SELECT $2, 'model.deactivate', 'models/' || p.name || '/' || upd.name,"
	" upd.id, jsonb_build_object('source', $1::text, 'path', s.path,"
	" 'reason', 'source file removed', 'old', jsonb_build_object('active',"
	" true), 'new', jsonb_build_object('active', false))"
	" FROM upd JOIN mreg.providers p ON p.id = upd.provider_id"
	" JOIN LATERAL (SELECT min(x.path) AS path FROM mreg.source_files x"
	"   WHERE x.source = $1 AND x.model_id = upd.id) s ON true"
	" RETURNING resource, details->>'path'";
static const char *const prune_delete_sql =
	"DELETE FROM mreg.source_files s USING mreg_import_gone g"
	" WHERE s.source = $1 AND s.path = g.path AND NOT EXISTS"
	" (SELECT 1 FROM mreg.model_defaults d WHERE d.model_id = s.model_id)"
	" AND $2::text IS NOT NULL";

static int prune(struct mreg_importer *w, struct mreg_error *err)
{
	const char *params[2] = { w->source, w->actor };
	struct gone g = { NULL, w, 0 };
	struct mreg_copy cp;
	PGresult *res = NULL;
	const char **rows = NULL;
	char msg[1024];
	int k, n, rc = -1;

	mreg_cache_foreach(w->scan->cache, gone_cb, &g);
	w->missing = g.n;
	if (!w->prune || g.n == 0 || w->abort_writes)
		return 0;
	if (w->walk_errors > 0) {
		snprintf(msg, sizeof(msg),
			 "not pruning: the walk of \"%s\" was incomplete",
			 w->label_root);
		if (w->ev.warn)
			w->ev.warn(w->ev.arg, msg);
		return 0;
	}
	if (!w->in_txn) {
		if (mreg_db_begin(w->conn, err) < 0)
			return -1;
		w->in_txn = true;
	}
	if (mreg_db_command(w->conn,
			    "CREATE TEMP TABLE mreg_import_gone (path text"
			    " PRIMARY KEY) ON COMMIT DROP", 0, NULL, err) < 0 ||
	    mreg_copy_begin(&cp, w->conn,
			    "COPY mreg_import_gone (path) FROM STDIN", err) < 0)
		goto cleanup;
	g.cp = &cp;
	g.n = 0;
	mreg_cache_foreach(w->scan->cache, gone_cb, &g);
	if (mreg_copy_end(&cp, err) < 0)
		goto cleanup;
	res = mreg_db_exec(w->conn, prune_defaults_sql, 2, params,
			   PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	for (k = 0; k < PQntuples(res); k++) {
		snprintf(msg, sizeof(msg),
			 "file is gone but model \"%s\" is the default for type \"%s\": not deactivated",
			 PQgetvalue(res, k, 1), PQgetvalue(res, k, 2));
		report_file(w, PQgetvalue(res, k, 0), msg, true);
		w->kept_defaults++;
	}
	PQclear(res);
	res = mreg_db_exec(w->conn, prune_sql, 2, params, PGRES_TUPLES_OK,
			   err);
	if (!res)
		goto cleanup;
	w->pruned = n = PQntuples(res);
	if (w->ev.deactivated) {
		/* resources then files, pointing into res */
		if (n > 0 && !(rows = calloc(2 * (size_t)n, sizeof(*rows)))) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			goto cleanup;
		}
		for (k = 0; k < n; k++) {
			rows[k] = PQgetvalue(res, k, 0);
			rows[n + k] = PQgetvalue(res, k, 1);
		}
		w->ev.deactivated(w->ev.arg, n, rows, rows ? rows + n : NULL);
	}
	PQclear(res);
	res = NULL;
	if (mreg_db_command(w->conn, prune_delete_sql, 2, params, err) < 0 ||
	    mreg_db_command(w->conn, "DROP TABLE mreg_import_gone", 0, NULL,
			    err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	free(rows);
	PQclear(res);
	return rc;
}


/* --- setting up and finishing ------------------------------------------- */

static void drop_result(void *r)
{
	mreg_scan_result_free(r);
}

int mreg_importer_init(struct mreg_importer *w, struct mreg_error *err)
{
	w->one_txn = w->strict || w->dry_run;
	w->batch = calloc((size_t)w->batch_size, sizeof(*w->batch));
	if (!w->batch) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

int mreg_importer_complete(struct mreg_importer *w, struct mreg_error *err)
{
	if (release_all(w, err) < 0 || write_batch(w, err) < 0 ||
	    prune(w, err) < 0)
		return -1;
	if (w->in_txn) {
		w->in_txn = false;
		if (w->dry_run || w->abort_writes)
			mreg_db_rollback(w->conn);
		else if (mreg_db_commit(w->conn, err) < 0)
			return -1;
	}
	return 0;
}

void mreg_importer_finish(struct mreg_importer *w)
{
	size_t i;

	if (w->in_txn)
		mreg_db_rollback(w->conn);
	w->in_txn = false;
	for (i = 0; i < w->nbatch; i++)
		mreg_scan_result_free(w->batch[i]);
	free(w->batch);
	w->batch = NULL;
	w->nbatch = 0;
	for (i = 0; i < w->ninvalid; i++)
		free(w->invalid[i]);
	free(w->invalid);
	w->invalid = NULL;
	w->ninvalid = w->capinvalid = 0;
	mreg_claims_finish(&w->claims, drop_result);
	mreg_claims_finish(&w->owners, drop_result);
}
