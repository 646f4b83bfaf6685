/* bulk-apply.c - applying a bulk-update batch with set-based statements
 * (their SQL: bulk-sql.h)
 *
 * One transaction:
 *  1. COPY every validated item (its exact text included) into the temp
 *     table bulk_items while reading: the batch reaches the server in one
 *     stream, and an invalid item aborts it before anything is written.
 *  2. Resolve "model" items and "where" selectors to model ids
 *     (bulk_targets); an unknown "model" is an error.
 *  3. Lock: default rows of the affected types first, then the models in
 *     id order (the order 'set-default' takes them: default row, then the
 *     model through the schema's trigger), so the two never deadlock.
 *  4. Copy the targeted models, old values and new, into bulk_new while
 *     applying each one's first item, then the later items in input order:
 *     round k applies each model's k-th item, so the number of statements
 *     is the largest number of items touching one model (1 when no two
 *     items overlap), never the number of items.
 *  5. Check the defaults rule with the item's position in the message,
 *     find the changed models (bulk_changes), and either report old/new
 *     of every changed field and roll back (dry run) or write the models
 *     (only the columns that change somewhere in the batch), the defaults
 *     (the database writes one audit row per changed model or default,
 *     with the context set here), and commit.
 *     The schema's constraint triggers are deferred to commit, so a batch
 *     may move a type's default and deactivate the old one; they still
 *     catch a concurrent change that slipped past the checks.
 */
#include "bulk.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "bulk-sql.h"
#include "db.h"
#include "strbuf.h"

static const struct {
	const char *join;   /* condition on m (and p) for this selector key */
} where_keys[4] = {
	{ "p.name = i.w_provider" },
	{ "m.type = i.w_type" },
	{ "m.tags @> ARRAY[i.w_tag]" },
	{ "m.active = i.w_active" },
};

/* One UNION ALL branch for the selectors of this shape (bits of keys). */
static void add_shape(struct mreg_strbuf *b, unsigned shape)
{
	char filter[64];
	unsigned k;
	bool first = true;

	mreg_strbuf_puts(b, " UNION ALL SELECT i.seq, m.id FROM bulk_items i"
		  " JOIN mreg.models m ON ");
	for (k = 1; k < 4; k++) {
		if (!(shape & (1u << k)))
			continue;
		mreg_strbuf_puts(b, first ? "" : " AND ");
		mreg_strbuf_puts(b, where_keys[k].join);
		first = false;
	}
	if (first)
		mreg_strbuf_puts(b, "true");
	mreg_strbuf_puts(b, " JOIN mreg.providers p ON p.id = m.provider_id");
	if (shape & 1u) {
		mreg_strbuf_puts(b, " AND ");
		mreg_strbuf_puts(b, where_keys[0].join);
	}
	snprintf(filter, sizeof(filter), " = %u", shape);
	mreg_strbuf_puts(b, " WHERE i.provider IS NULL AND " SHAPE_EXPR);
	mreg_strbuf_puts(b, filter);
}

static int command(struct mreg_conn *conn, const char *sql,
		   struct mreg_error *err)
{
	return mreg_db_command(conn, sql, 0, NULL, err);
}

/* Position an error at an item given as text columns line, idx. */
static void at_item(struct mreg_error *err, const struct mreg_bulk_reader *r,
		    const char *line, const char *idx)
{
	if (idx)
		mreg_error_prefix(err, "array index %s", idx);
	mreg_error_at(err, mreg_bulk_reader_path(r), line ? atol(line) : 0,
		      0);
}

/* Does the object under key in set hold a JSON null? */
static bool has_null(const json_t *set, const char *key)
{
	const json_t *obj = set ? json_object_get(set, key) : NULL;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (json_is_null(v))
			return true;
	return false;
}

static int copy_item(struct mreg_copy *cp, const struct mreg_bulk_item *it)
{
	char seq[32], line[32], idx[32];

	snprintf(seq, sizeof(seq), "%ld", it->seq);
	snprintf(line, sizeof(line), "%ld", it->line);
	snprintf(idx, sizeof(idx), "%ld", it->index);
	mreg_copy_field(cp, seq);
	mreg_copy_field(cp, line);
	mreg_copy_field(cp, it->index >= 0 ? idx : NULL);
	mreg_copy_field(cp, it->provider);
	mreg_copy_field(cp, it->name);
	mreg_copy_field(cp, it->where_provider);
	mreg_copy_field(cp, it->where_type);
	mreg_copy_field(cp, it->where_tag);
	mreg_copy_field(cp, it->where_active < 0 ? NULL
			: it->where_active ? "t" : "f");
	mreg_copy_field(cp, it->set_default ? "t" : "f");
	mreg_copy_fieldn(cp, it->raw, it->raw_len);
	mreg_copy_field(cp, has_null(it->set, "config_merge") ? "t" : "f");
	mreg_copy_field(cp, has_null(it->set, "metadata_merge") ? "t" : "f");
	return mreg_copy_row(cp);
}

/* Stream all items into bulk_items.  Returns the count or -1. */
static long ship_items(struct mreg_conn *conn, struct mreg_bulk_reader *r,
		       struct mreg_error *err)
{
	struct mreg_bulk_item item;
	struct mreg_copy cp;
	long n = 0;
	int rc;

	if (mreg_copy_begin(&cp, conn, ITEMS_COPY, err) < 0)
		return -1;
	while ((rc = mreg_bulk_reader_next(r, &item, err)) == 1) {
		rc = copy_item(&cp, &item);
		mreg_bulk_item_finish(&item);
		if (rc < 0)
			break; /* mreg_copy_end reports why */
		n++;
	}
	if (rc < 0 && err->status != 0) {
		mreg_copy_abort(&cp);
		return -1;
	}
	if (mreg_copy_end(&cp, err) < 0)
		return -1;
	return n;
}

static int resolve_targets(struct mreg_conn *conn, struct mreg_error *err)
{
	struct mreg_strbuf b = { 0 };
	PGresult *res;
	int i, rc = -1;

	res = mreg_db_exec(conn, SHAPES_SQL, 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	mreg_strbuf_puts(&b, TARGETS_HEAD);
	for (i = 0; i < PQntuples(res); i++)
		add_shape(&b, (unsigned)atoi(PQgetvalue(res, i, 0)));
	mreg_strbuf_puts(&b, TARGETS_TAIL);
	PQclear(res);
	if (b.oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	rc = command(conn, b.p, err);
cleanup:
	free(b.p);
	return rc;
}

static int check_unknown(struct mreg_conn *conn,
			 const struct mreg_bulk_reader *r,
			 struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, UNKNOWN_SQL, 0, NULL,
				     PGRES_TUPLES_OK, err);
	char more[900];
	size_t len = 0;
	int i, rc = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		rc = 0;
		goto cleanup;
	}
	mreg_error_set(err, MREG_EXIT_DATA, "unknown model \"%s\"",
		       PQgetvalue(res, 0, 2));
	at_item(err, r, PQgetvalue(res, 0, 0),
		PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1));
	more[0] = '\0';
	for (i = 1; i < PQntuples(res) && len < sizeof(more); i++) {
		int w = snprintf(more + len, sizeof(more) - len,
				 "%s\"%s\" (line %s)", i > 1 ? ", " : "",
				 PQgetvalue(res, i, 2), PQgetvalue(res, i, 0));
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (PQntuples(res) > 1)
		mreg_error_detail(err, "%s items name unknown models; also %s%s",
				  PQgetvalue(res, 0, 3), more,
				  atol(PQgetvalue(res, 0, 3)) >
				  PQntuples(res) ? ", ..." : "");
	mreg_error_hint(err, "Every \"model\" item must name an existing "
			"model; use \"where\" to select models that may be "
			"absent.");
cleanup:
	PQclear(res);
	return rc;
}

static int check_defaults(struct mreg_conn *conn,
			  const struct mreg_bulk_reader *r,
			  struct mreg_error *err)
{
	PGresult *res;

	res = mreg_db_exec(conn, INACTIVE_DEFAULT_SQL, 0, NULL,
			   PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) > 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "cannot make \"%s\" the "
			       "default for type \"%s\": the model is not "
			       "active", PQgetvalue(res, 0, 0),
			       PQgetvalue(res, 0, 1));
		at_item(err, r, PQgetvalue(res, 0, 2),
			PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3));
		mreg_error_hint(err, "Only an active model can be the default "
				"for its type.");
		PQclear(res);
		return -1;
	}
	PQclear(res);

	res = mreg_db_exec(conn, DEACTIVATED_DEFAULT_SQL, 0, NULL,
			   PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) > 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "cannot deactivate \"%s\": "
			       "it is the default model for type \"%s\"",
			       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		at_item(err, r, PQgetisnull(res, 0, 2) ? NULL :
			PQgetvalue(res, 0, 2),
			PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3));
		mreg_error_hint(err, "Make another model of type \"%s\" the "
				"default in the same batch: {\"model\": "
				"\"<provider>/<name>\", \"set_default\": true}",
				PQgetvalue(res, 0, 1));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static long scalar_long(struct mreg_conn *conn, const char *sql,
			struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, 0, NULL, PGRES_TUPLES_OK,
				     err);
	long v;

	if (!res)
		return -1;
	v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)
		? atol(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return v;
}

static int apply_rounds(struct mreg_conn *conn, struct mreg_error *err)
{
	long rounds, k;

	rounds = scalar_long(conn, "SELECT max(round) FROM bulk_targets",
			     err);
	if (rounds < 0)
		return -1;
	if (rounds > 1 &&
	    command(conn, "CREATE INDEX ON bulk_targets (round)", err) < 0)
		return -1;
	/* round 1 made bulk_new (NEW_SQL) */
	for (k = 2; k <= rounds; k++) {
		char round[32];
		const char *values[1] = { round };

		snprintf(round, sizeof(round), "%ld", k);
		if (mreg_db_command(conn, ROUND_SQL, 1, values, err) < 0)
			return -1;
	}
	return 0;
}

static int read_counts(struct mreg_conn *conn, struct mreg_bulk_result *res,
		       struct mreg_error *err)
{
	PGresult *pg = mreg_db_exec(conn, COUNTS_SQL, 0, NULL,
				    PGRES_TUPLES_OK, err);

	if (!pg)
		return -1;
	res->matched = atol(PQgetvalue(pg, 0, 0));
	res->changed = atol(PQgetvalue(pg, 0, 1));
	res->defaults_set = atol(PQgetvalue(pg, 0, 2));
	res->unchanged = res->matched - res->changed;
	PQclear(pg);
	return 0;
}

/* The database writes the audit rows: say who and which input. */
static int audit_context(struct mreg_conn *conn, struct mreg_bulk_reader *r,
			 const char *actor, struct mreg_error *err)
{
	json_t *ctx = json_pack("{s:s, s:s?}", "command", "bulk-update",
				"input", mreg_bulk_reader_path(r));
	int rc;

	if (!ctx) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = mreg_audit_begin(conn, actor, ctx, err);
	json_decref(ctx);
	return rc;
}

/* The columns a batch may change (bulk_new has old_<c> and <c>). */
static const char *const bulk_update_columns[] = {
	"active", "display_name", "description", "version",
	"tags", "synonyms", "config", "metadata",
};

#define N_UPDATE_COLUMNS \
	(sizeof(bulk_update_columns) / sizeof(bulk_update_columns[0]))

/* SELECT, per column, whether some model of bulk_new changes it. */
static void changed_columns_sql(struct mreg_strbuf *b)
{
	size_t k;

	mreg_strbuf_puts(b, "SELECT ");
	for (k = 0; k < N_UPDATE_COLUMNS; k++) {
		if (k > 0)
			mreg_strbuf_puts(b, ", ");
		mreg_strbuf_puts(b, CHANGED_COLUMN_HEAD);
		mreg_strbuf_puts(b, bulk_update_columns[k]);
		mreg_strbuf_puts(b, CHANGED_COLUMN_MID);
		mreg_strbuf_puts(b, bulk_update_columns[k]);
		mreg_strbuf_puts(b, CHANGED_COLUMN_TAIL);
	}
	mreg_strbuf_puts(b, CHANGED_COLUMNS_FROM);
}

/* UPDATE of the changed models that sets only the columns that change. */
static int update_models(struct mreg_conn *conn, struct mreg_error *err)
{
	struct mreg_strbuf b = { 0 };
	PGresult *res = NULL;
	size_t k;
	int rc = -1;

	changed_columns_sql(&b);
	if (b.oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	res = mreg_db_exec(conn, b.p, 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	if (PQntuples(res) != 1 || PQnfields(res) != (int)N_UPDATE_COLUMNS) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "unexpected answer to "
			       "the changed columns query");
		goto cleanup;
	}
	b.len = 0;
	mreg_strbuf_puts(&b, UPDATE_HEAD);
	for (k = 0; k < N_UPDATE_COLUMNS; k++) {
		if (strcmp(PQgetvalue(res, 0, (int)k), "t") != 0)
			continue;
		mreg_strbuf_puts(&b, ", ");
		mreg_strbuf_puts(&b, bulk_update_columns[k]);
		mreg_strbuf_puts(&b, " = n.");
		mreg_strbuf_puts(&b, bulk_update_columns[k]);
	}
	mreg_strbuf_puts(&b, UPDATE_TAIL);
	if (b.oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	rc = command(conn, b.p, err);
cleanup:
	PQclear(res);
	free(b.p);
	return rc;
}

static int write_changes(struct mreg_conn *conn, struct mreg_error *err)
{
	if (update_models(conn, err) < 0 ||
	    command(conn, SET_DEFAULTS_SQL, err) < 0)
		return -1;
	return 0;
}

int mreg_bulk_run(struct mreg_conn *conn, struct mreg_bulk_reader *r,
		  const struct mreg_bulk_options *opt,
		  struct mreg_bulk_result *res, struct mreg_error *err)
{
	bool in_tx = false;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	mreg_error_clear(err);
	if (mreg_db_begin(conn, err) < 0)
		goto cleanup;
	in_tx = true;
	/*
	 * The input is UTF-8 (jansson checked it), whatever the database's
	 * encoding.  JIT compiling these one-off statements costs more than
	 * it saves (a second on 100k items); ANALYZE of the temp tables (no
	 * autovacuum for them) needs only a small sample.
	 */
	if (command(conn, "SET LOCAL client_encoding = 'UTF8'", err) < 0 ||
	    command(conn, "SET LOCAL jit = off", err) < 0 ||
	    command(conn, "SET LOCAL default_statistics_target = 10",
		    err) < 0 ||
	    command(conn, "SET LOCAL work_mem = '64MB'", err) < 0 ||
	    command(conn, "SET CONSTRAINTS mreg.models_default_active,"
		    " mreg.model_defaults_active DEFERRED", err) < 0 ||
	    command(conn, ITEMS_TABLE, err) < 0)
		goto cleanup;
	res->items = ship_items(conn, r, err);
	if (res->items < 0)
		goto cleanup;
	if (command(conn, "ANALYZE bulk_items", err) < 0 ||
	    resolve_targets(conn, err) < 0 ||
	    command(conn, "ANALYZE bulk_targets", err) < 0 ||
	    check_unknown(conn, r, err) < 0)
		goto cleanup;
	if (!opt->dry_run &&
	    (scalar_long(conn, LOCK_DEFAULTS_SQL, err) < 0 ||
	     scalar_long(conn, LOCK_MODELS_SQL, err) < 0))
		goto cleanup;
	if (command(conn, NEW_SQL, err) < 0 ||
	    command(conn, "ALTER TABLE bulk_new ADD PRIMARY KEY (id)",
		    err) < 0 ||
	    command(conn, "ANALYZE bulk_new", err) < 0 ||
	    apply_rounds(conn, err) < 0 ||
	    command(conn, DEFAULTS_SQL, err) < 0 ||
	    check_defaults(conn, r, err) < 0 ||
	    command(conn, opt->dry_run ? CHANGES_SQL : CHANGED_IDS_SQL,
		    err) < 0 ||
	    read_counts(conn, res, err) < 0)
		goto cleanup;
	if (opt->dry_run) {
		res->changes = mreg_db_exec(conn, LIST_CHANGES_SQL, 0, NULL,
					    PGRES_TUPLES_OK, err);
		if (!res->changes)
			goto cleanup;
		res->defaults = mreg_db_exec(conn, LIST_DEFAULTS_SQL, 0, NULL,
					     PGRES_TUPLES_OK, err);
		if (!res->defaults)
			goto cleanup;
		rc = 0;
		goto cleanup; /* rolled back below */
	}
	if (audit_context(conn, r, opt->actor, err) < 0 ||
	    write_changes(conn, err) < 0)
		goto cleanup;
	in_tx = false;
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (in_tx)
		mreg_db_rollback(conn);
	return rc;
}

void mreg_bulk_result_finish(struct mreg_bulk_result *res)
{
	if (!res)
		return;
	PQclear(res->changes);
	PQclear(res->defaults);
	res->changes = NULL;
	res->defaults = NULL;
}
