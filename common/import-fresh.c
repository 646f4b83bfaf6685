/* import-fresh.c - the batch writer's way for a batch of new files
 *
 * A batch whose every file is one the source never recorded (a first
 * import, files added since) and brings a model that lists no artifacts
 * is written without the batch table of import-batch.c: its models are
 * COPYed into mreg.models itself, in provider and name order as the
 * general way inserts them (the same statement trigger writes their
 * model.create rows, from the same row context); one query reads their
 * ids back, and the files' cache rows are COPYed too (an INSERT from one
 * jsonb document with ON CONFLICT cost the server ~3x the COPY: parsing
 * the document and the speculative insertion).  Beside the rows
 * themselves, the general way costs a first import of 10,000 files ~0.8 s
 * of the server's CPU (log_statement_stats): the batch table's COPY, two
 * UPDATEs of its wide rows, its ANALYZE, the lookup of models that do not
 * exist yet, the row context and the report built from it.
 *
 * A new file's model usually does not exist.  When one does (made by
 * mreg add, another source, or another run meanwhile), a provider does
 * not exist yet, or the server refuses a value, nothing of this way is
 * kept: the batch is rolled back to its savepoint and written the general
 * way, which updates the model, creates the provider or finds the file
 * at fault.  So what is written is what the general way writes.
 */
#include <stdlib.h>
#include <string.h>

#include "artifact-cache.h"
#include "audit.h"
#include "db.h"
#include "hashcache.h"
#include "import-write.h"
#include "jsontext.h"
#include "strbuf.h"
#include "utf8.h"

/* The ids of the models just copied, in the order of the arrays. */
static const char *const ids_sql =
	"SELECT m.id FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY"
	" AS k(provider_id, name, i)"
	" JOIN mreg.models m ON m.provider_id = k.provider_id"
	" AND m.name = k.name ORDER BY k.i";

/* The cache rows of the batch's files (never recorded: no conflict). */
static const char *const files_copy_sql =
	"COPY mreg.source_files (source, path, size, mtime_ns, ctime_ns,"
	" inode, device, sha256, racy, error, model_id, artifacts, model_key)"
	" FROM STDIN";

static const char *const models_copy_sql =
	"COPY mreg.models (provider_id, name, type, version, display_name,"
	" description, tags, synonyms, active, config, metadata) FROM STDIN";

/* A file of the batch with its provider's id and its model's. */
struct fresh {
	const struct mreg_scan_result *r;
	const char *id_text;       /* the provider's */
	const char *model_id;
};

/* The number of items of [lo, hi) to write when every one is a new model
 * file without artifacts, else 0. */
static size_t count_fresh(const struct mreg_importer *w, size_t lo,
			  size_t hi)
{
	size_t i, n = 0;

	if (w->fresh_off || w->cfg->plan || hi > w->nbatch)
		return 0; /* --plan reads the batch table; an invalidation */
	for (i = lo; i < hi; i++) {
		const struct mreg_scan_result *r = w->batch[i];

		if (r->skip)
			continue;
		if (r->kind != MREG_SCAN_MODEL || r->entry || r->narts > 0)
			return 0;
		n++;
	}
	return n;
}

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* s as a JSON string in b; false when s is no UTF-8 (a file name can be
 * any bytes: the general way, whose COPY the server refuses the same). */
static bool put_string(struct mreg_strbuf *b, const char *s)
{
	if (mreg_utf8_first_invalid(s, strlen(s)) < strlen(s))
		return false;
	mreg_json_put_string(b, s);
	return true;
}

/*
 * The items of [lo, hi) not skipped into f[0..n), each with its
 * provider's id, in the order the general way's INSERT has them (ORDER BY
 * provider_id, name, in the server's collation), from one query: 1 when
 * every provider exists, 0 when one does not (the general way creates
 * it), -1 (err filled).  *res keeps the ids' text.
 */
static int order_items(struct mreg_importer *w, size_t lo, size_t hi,
		       size_t n, struct fresh *f, PGresult **res,
		       struct mreg_error *err)
{
	const struct mreg_scan_result **items = calloc(n, sizeof(*items));
	struct mreg_strbuf keys = { 0 };
	char num[32];
	size_t i, k = 0;
	int j, rc = -1;

	*res = NULL;
	if (!items)
		return oom(err);
	mreg_strbuf_puts(&keys, "[");
	for (i = lo; i < hi; i++) {
		const struct mreg_scan_result *r = w->batch[i];

		if (r->skip)
			continue;
		snprintf(num, sizeof(num), "%s{\"i\":%zu,\"provider\":",
			 k ? "," : "", k);
		mreg_strbuf_puts(&keys, num);
		put_string(&keys, r->model.provider);
		mreg_strbuf_puts(&keys, ",\"name\":");
		put_string(&keys, r->model.name);
		mreg_strbuf_puts(&keys, "}");
		items[k++] = r;
	}
	mreg_strbuf_puts(&keys, "]");
	if (keys.oom) {
		rc = oom(err);
		goto done;
	}
	*res = mreg_db_exec(w->cfg->conn,
			    "SELECT k.i, p.id FROM jsonb_to_recordset($1::jsonb)"
			    " AS k(i integer, provider text, name text)"
			    " JOIN mreg.providers p ON p.name = k.provider"
			    " ORDER BY p.id, k.name",
			    1, (const char *[]){ keys.p }, PGRES_TUPLES_OK, err);
	if (!*res)
		goto done;
	rc = 0;
	if ((size_t)PQntuples(*res) != n)
		goto done;
	for (j = 0; j < PQntuples(*res); j++) {
		f[j].r = items[atoi(PQgetvalue(*res, j, 0))];
		f[j].id_text = PQgetvalue(*res, j, 1);
	}
	rc = 1;
done:
	mreg_strbuf_free(&keys);
	free(items);
	return rc;
}

/*
 * The JSON array of strings json (a model file's tags or synonyms as
 * compact JSON) as a PostgreSQL array literal in b: every element quoted,
 * " and \ escaped, so any text (a comma, a brace, NULL) stays an element
 * as written.  false when out of memory.
 */
static bool array_literal(struct mreg_strbuf *b, const char *json)
{
	struct mreg_json_iter it;
	struct mreg_json_span key, val;
	bool first = true;

	b->len = 0;
	mreg_strbuf_puts(b, "{");
	if (!mreg_json_iter_init(&it, json, strlen(json)))
		return false; /* never: json is json_dumps' */
	while (mreg_json_iter_next(&it, &key, &val)) {
		size_t n;
		char *s = mreg_json_string_dup(val.p, val.len, &n);

		if (!s)
			return false;
		mreg_array_element(b, s, n, first);
		free(s);
		first = false;
	}
	mreg_strbuf_puts(b, "}");
	return !b->oom;
}

/* prefix and "provider/name" of r's model into b, emptied first. */
static void model_key(struct mreg_strbuf *b, const char *prefix,
		      const struct mreg_scan_result *r)
{
	b->len = 0;
	mreg_strbuf_puts(b, prefix);
	mreg_strbuf_puts(b, r->model.provider);
	mreg_strbuf_puts(b, "/");
	mreg_strbuf_puts(b, r->model.name);
}

/* End COPY cp, which sent n rows of what: 0, or -1 with err filled. */
static int copy_end(struct mreg_copy *cp, size_t n, const char *what,
		    struct mreg_error *err)
{
	long rows = mreg_copy_end(cp, err);

	if (rows < 0)
		return -1;
	if ((size_t)rows != n) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "COPY wrote %ld %s of %zu", rows, what, n);
		return -1;
	}
	return 0;
}

/* The models of f[0..n) into mreg.models; -1 with err filled. */
static int copy_models(struct mreg_importer *w, const struct fresh *f,
		       size_t n, struct mreg_error *err)
{
	struct mreg_strbuf tags = { 0 }, synonyms = { 0 };
	struct mreg_copy cp;
	size_t i;

	if (mreg_copy_begin(&cp, w->cfg->conn, models_copy_sql, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct mreg_model *m = &f[i].r->model;

		if (!array_literal(&tags, m->tags_json) ||
		    !array_literal(&synonyms, m->synonyms_json)) {
			mreg_copy_abort(&cp);
			mreg_strbuf_free(&tags);
			mreg_strbuf_free(&synonyms);
			return oom(err);
		}
		mreg_copy_field(&cp, f[i].id_text);
		mreg_copy_field(&cp, m->name);
		mreg_copy_field(&cp, m->type);
		mreg_copy_field(&cp, m->version);
		mreg_copy_field(&cp, m->display_name);
		mreg_copy_field(&cp, m->description);
		mreg_copy_fieldn(&cp, tags.p, tags.len);
		mreg_copy_fieldn(&cp, synonyms.p, synonyms.len);
		mreg_copy_field(&cp, m->active ? "t" : "f");
		mreg_copy_field(&cp, m->config_json);
		mreg_copy_field(&cp, m->metadata_json);
		mreg_copy_row(&cp);
	}
	mreg_strbuf_free(&tags);
	mreg_strbuf_free(&synonyms);
	return copy_end(&cp, n, "models", err);
}

/*
 * One file's member of the audit rows' context (an object keyed by
 * "provider/name": {"path", "sha256"}), as JSON text; false when its path
 * is no UTF-8.
 */
static bool add_context(struct mreg_strbuf *context, struct mreg_strbuf *key,
			const struct fresh *f)
{
	const struct mreg_scan_result *r = f->r;
	char hex[MREG_SHA256_HEX];

	mreg_digest_to_hex(r->sha, hex);
	if (context->len > 1)
		mreg_strbuf_puts(context, ",");
	model_key(key, "", r);
	if (key->oom || !put_string(context, key->p))
		return false;
	mreg_strbuf_puts(context, ":{\"path\":");
	if (!put_string(context, r->rel))
		return false;
	mreg_strbuf_puts(context, ",\"sha256\":\"");
	mreg_strbuf_puts(context, hex);
	mreg_strbuf_puts(context, "\"}");
	return true;
}

/*
 * The ids of the models of f[0..n), just copied, into f[i].model_id (the
 * text of *res); -1 with err filled.
 */
static int model_ids(struct mreg_importer *w, struct fresh *f, size_t n,
		     PGresult **res, struct mreg_error *err)
{
	struct mreg_strbuf pids = { 0 }, names = { 0 };
	size_t i;
	int rc = -1;

	mreg_strbuf_puts(&pids, "{");
	mreg_strbuf_puts(&names, "{");
	for (i = 0; i < n; i++) {
		const char *name = f[i].r->model.name;

		if (i > 0)
			mreg_strbuf_puts(&pids, ",");
		mreg_strbuf_puts(&pids, f[i].id_text);
		mreg_array_element(&names, name, strlen(name), i == 0);
	}
	mreg_strbuf_puts(&pids, "}");
	mreg_strbuf_puts(&names, "}");
	if (pids.oom || names.oom) {
		oom(err);
		goto done;
	}
	*res = mreg_db_exec(w->cfg->conn, ids_sql, 2,
			    (const char *[]){ pids.p, names.p }, PGRES_TUPLES_OK,
			    err);
	if (!*res)
		goto done;
	if ((size_t)PQntuples(*res) != n) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "found %d of the %zu models just copied",
			       PQntuples(*res), n);
		goto done;
	}
	for (i = 0; i < n; i++)
		f[i].model_id = PQgetvalue(*res, (int)i, 0);
	rc = 0;
done:
	mreg_strbuf_free(&pids);
	mreg_strbuf_free(&names);
	return rc;
}

/* The cache rows of f[0..n) into mreg.source_files; -1 with err filled. */
static int copy_files(struct mreg_importer *w, const struct fresh *f,
		      size_t n, struct mreg_error *err)
{
	struct mreg_strbuf key = { 0 };
	struct mreg_copy cp;
	size_t i;

	if (mreg_copy_begin(&cp, w->cfg->conn, files_copy_sql, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct mreg_scan_result *r = f[i].r;

		model_key(&key, "", r);
		if (key.oom) {
			mreg_copy_abort(&cp);
			mreg_strbuf_free(&key);
			return oom(err);
		}
		mreg_copy_field(&cp, w->cfg->source);
		mreg_importer_copy_file(&cp, r);
		mreg_copy_field(&cp, NULL);
		mreg_copy_field(&cp, f[i].model_id);
		mreg_copy_field(&cp, "[]"); /* no artifacts (count_fresh) */
		mreg_copy_fieldn(&cp, key.p, key.len);
		mreg_copy_row(&cp);
	}
	mreg_strbuf_free(&key);
	return copy_end(&cp, n, "files", err);
}

/* The audit rows' context, the models, the cache rows; 1 (written), 0
 * (not for this way: nothing written) or -1 (err filled). */
static int try_fresh(struct mreg_importer *w, size_t lo, size_t hi,
		     size_t n, struct mreg_error *err)
{
	struct fresh *f = calloc(n, sizeof(*f));
	struct mreg_strbuf context = { 0 }, key = { 0 };
	PGresult *providers = NULL, *models = NULL;
	size_t i;
	int rc = -1;

	if (!f) {
		oom(err);
		goto done;
	}
	rc = order_items(w, lo, hi, n, f, &providers, err);
	if (rc <= 0)
		goto done;
	mreg_strbuf_puts(&context, "{");
	for (i = 0; i < n; i++)
		if (!add_context(&context, &key, &f[i])) {
			rc = 0; /* a path that is no UTF-8: the general way */
			goto done;
		}
	mreg_strbuf_puts(&context, "}");
	if (context.oom) {
		rc = oom(err);
		goto done;
	}
	rc = -1;
	if (mreg_audit_row_context(w->cfg->conn, "SELECT $1::jsonb", 1,
				   (const char *[]){ context.p }, err) < 0 ||
	    copy_models(w, f, n, err) < 0 ||
	    model_ids(w, f, n, &models, err) < 0 ||
	    copy_files(w, f, n, err) < 0)
		goto done;
	rc = 1;
done:
	PQclear(models);
	PQclear(providers);
	mreg_strbuf_free(&context);
	mreg_strbuf_free(&key);
	free(f);
	return rc;
}

/* What the written range did: every model created, in the batch's order
 * (as the general way's report has them). */
static void tell_created(struct mreg_importer *w, size_t lo, size_t hi)
{
	struct mreg_strbuf res = { 0 };
	size_t i;

	for (i = lo; i < hi; i++) {
		const struct mreg_scan_result *r = w->batch[i];

		if (r->skip)
			continue;
		w->added++;
		if (!w->cfg->ev.changed)
			continue;
		model_key(&res, "models/", r);
		if (!res.oom)
			w->cfg->ev.changed(w->cfg->ev.arg, true, res.p, r->rel);
	}
	mreg_strbuf_free(&res);
}

int mreg_importer_write_fresh(struct mreg_importer *w, size_t lo, size_t hi,
			      struct mreg_error *err)
{
	struct mreg_conn *conn = w->cfg->conn;
	size_t n = count_fresh(w, lo, hi);
	int rc;

	if (n == 0)
		return 0;
	if (mreg_db_command(conn, "SAVEPOINT mreg_fresh", 0, NULL, err) < 0)
		return -1;
	rc = try_fresh(w, lo, hi, n, err);
	if (rc < 0 && !mreg_importer_refuses_value(err->sqlstate))
		return -1;
	/* a model that exists (a renamed tree), or a value refused: the
	 * rest of the run writes the general way, so that no other batch
	 * pays for rows it then rolls back */
	if (rc < 0)
		w->fresh_off = true;
	if (rc == 1) {
		if (mreg_db_command(conn, "RELEASE SAVEPOINT mreg_fresh", 0,
				    NULL, err) < 0)
			return -1;
		tell_created(w, lo, hi);
		return 1;
	}
	mreg_error_clear(err);
	if (mreg_db_command(conn, "ROLLBACK TO SAVEPOINT mreg_fresh", 0, NULL,
			    err) < 0 ||
	    mreg_db_command(conn, "RELEASE SAVEPOINT mreg_fresh", 0, NULL,
			    err) < 0)
		return -1;
	return 0;
}
