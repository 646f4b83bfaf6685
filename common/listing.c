/* listing.c - the registry's listings (see listing.h) */
#include "listing.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "queries.h"
#include "queries-asof.h"
#include "registry.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the table ------------------------------------------------------------- */

static const enum mreg_listing_param model_params[] = {
	MREG_LP_TYPE, MREG_LP_PROVIDER, MREG_LP_TAGS, MREG_LP_ACTIVE,
	MREG_LP_AFTER_KEY, MREG_LP_AFTER_ID, MREG_LP_LIMIT,
};

/*
 * The model object (queries.h, MREG_SQL_MODEL_FIELDS): its keys in
 * order, and which of them the table shows.  A listing of models is a
 * table of LIST (1: mreg list, 0: mreg search, which shows display_name
 * and not version or updated_at); JSON and CSV carry every column.
 */
#define MODEL_COLUMNS(LIST)                                                   \
	{ "model", MREG_COL_TEXT, 0, MREG_PRIO_KEY },                          \
	{ "id", MREG_COL_NUMBER, MREG_COL_HIDDEN, MREG_PRIO_FIELD },           \
	{ "provider", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_FIELD },       \
	{ "name", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_FIELD },           \
	{ "type", MREG_COL_TEXT, 0, MREG_PRIO_CORE },                          \
	{ "version", MREG_COL_TEXT, (LIST) ? 0u : MREG_COL_HIDDEN, MREG_PRIO_FIELD }, \
	{ "active", MREG_COL_BOOL, 0, MREG_PRIO_CORE },                        \
	{ "display_name", MREG_COL_TEXT, (LIST) ? MREG_COL_HIDDEN : 0u, MREG_PRIO_LABEL }, \
	{ "description", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_LEAST },    \
	{ "tags", MREG_COL_JSON, 0, MREG_PRIO_TAGS },                          \
	{ "synonyms", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_TAGS },        \
	{ "default", MREG_COL_BOOL, MREG_COL_HIDDEN, MREG_PRIO_CORE },         \
	{ "config", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_LEAST },         \
	{ "metadata", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_LEAST },       \
	{ "created_at", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_TIME },      \
	{ "updated_at", MREG_COL_TEXT, (LIST) ? 0u : MREG_COL_HIDDEN, MREG_PRIO_TIME }

static const struct mreg_column model_cols[] = { MODEL_COLUMNS(1) };

/* providers and defaults: $1 cursor, $2 limit */
static const enum mreg_listing_param key_params[] = {
	MREG_LP_AFTER_KEY, MREG_LP_LIMIT,
};

static const struct mreg_column provider_cols[] = {
	{ "name", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "active_models", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
	{ "models", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
	{ "created_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
};

static const struct mreg_column default_cols[] = {
	{ "type", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "model", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "model_id", MREG_COL_NUMBER, MREG_COL_HIDDEN, MREG_PRIO_FIELD },
	{ "updated_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
};

/* defaults --at: $1 at, $2 cursor, $3 limit */
static const enum mreg_listing_param asof_params[] = {
	MREG_LP_AT, MREG_LP_AFTER_KEY, MREG_LP_LIMIT,
};

static const enum mreg_listing_param audit_params[] = {
	MREG_LP_SINCE, MREG_LP_UNTIL, MREG_LP_ACTOR, MREG_LP_ACTION,
	MREG_LP_MODEL_PROVIDER, MREG_LP_MODEL_NAME,
	MREG_LP_AFTER_KEY, MREG_LP_AFTER_ID, MREG_LP_LIMIT,
};

static const struct mreg_column audit_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_KEY },
	{ "logged_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
	{ "actor", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "db_role", MREG_COL_TEXT, 0, MREG_PRIO_TAGS },
	{ "action", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "resource", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "model_id", MREG_COL_NUMBER, MREG_COL_HIDDEN, MREG_PRIO_FIELD },
	{ "details", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
	{ "old", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_LEAST },
	{ "new", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_LEAST },
};

/* history: $1 model id, $2 resource, $3 since, $4 until, cursor, limit */
static const enum mreg_listing_param history_params[] = {
	MREG_LP_MODEL_ID, MREG_LP_RESOURCE, MREG_LP_SINCE, MREG_LP_UNTIL,
	MREG_LP_AFTER_KEY, MREG_LP_AFTER_ID, MREG_LP_LIMIT,
};

/* one entry (JSON and NDJSON) */
static const struct mreg_column history_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_KEY },
	{ "logged_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
	{ "actor", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "db_role", MREG_COL_TEXT, 0, MREG_PRIO_TAGS },
	{ "action", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "resource", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "model_id", MREG_COL_NUMBER, 0, MREG_PRIO_FIELD },
	{ "artifact", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "changes", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
	{ "context", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
};

/* one changed field (table and CSV); the table leaves out the last four */
static const struct mreg_column history_field_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
	{ "logged_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
	{ "actor", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "action", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "field", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "old", MREG_COL_TEXT, 0, MREG_PRIO_LABEL },
	{ "new", MREG_COL_TEXT, 0, MREG_PRIO_LABEL },
	{ "command", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "path", MREG_COL_TEXT, 0, MREG_PRIO_TAGS },
	{ "batch", MREG_COL_TEXT, 0, MREG_PRIO_TAGS },
	{ "reason", MREG_COL_TEXT, 0, MREG_PRIO_LEAST },
	{ "db_role", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_TAGS },
	{ "resource", MREG_COL_TEXT, MREG_COL_HIDDEN, MREG_PRIO_CORE },
	{ "model_id", MREG_COL_NUMBER, MREG_COL_HIDDEN, MREG_PRIO_FIELD },
	{ "context", MREG_COL_JSON, MREG_COL_HIDDEN, MREG_PRIO_LEAST },
};

static const enum mreg_listing_param search_params[] = {
	MREG_LP_QUERY, MREG_LP_TYPE, MREG_LP_PROVIDER, MREG_LP_LIMIT,
};

static const struct mreg_column search_cols[] = {
	MODEL_COLUMNS(0),
	{ "score", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
};

static const struct mreg_listing listings[MREG_LISTING_N] = {
	[MREG_LISTING_MODELS] = {
		"models", "models", MREG_SQL_LIST_MODELS_BY_NAME,
		MREG_SQL_COUNT_MODELS, model_params, N(model_params), 4,
		model_cols, N(model_cols), "name", "id", 'n', false },
	[MREG_LISTING_MODELS_UPDATED] = {
		"models --sort updated", "models",
		MREG_SQL_LIST_MODELS_BY_UPDATED, MREG_SQL_COUNT_MODELS,
		model_params, N(model_params), 4, model_cols, N(model_cols),
		"updated_at", "id", 'u', false },
	[MREG_LISTING_PROVIDERS] = {
		"providers", "providers", MREG_SQL_LIST_PROVIDERS,
		MREG_SQL_COUNT_PROVIDERS, key_params, N(key_params), 0,
		provider_cols, N(provider_cols), "name", NULL, 'p', false },
	[MREG_LISTING_DEFAULTS] = {
		"defaults", "defaults", MREG_SQL_LIST_DEFAULTS,
		MREG_SQL_COUNT_DEFAULTS, key_params, N(key_params), 0,
		default_cols, N(default_cols), "type", NULL, 'd', false },
	[MREG_LISTING_AUDIT] = {
		"audit", "audit entries", MREG_SQL_LIST_AUDIT,
		MREG_SQL_COUNT_AUDIT, audit_params, N(audit_params), 6,
		audit_cols, N(audit_cols), "logged_at", "id", 'a', false },
	[MREG_LISTING_SEARCH] = {
		"search", "results", MREG_SQL_SEARCH, NULL, search_params,
		N(search_params), 0, search_cols, N(search_cols), NULL, NULL,
		's', false },
	[MREG_LISTING_HISTORY] = {
		"history", "entries", MREG_SQL_HISTORY, MREG_SQL_COUNT_HISTORY,
		history_params, N(history_params), 4, history_cols,
		N(history_cols), "logged_at", "id", 'h', false },
	[MREG_LISTING_HISTORY_FIELDS] = {
		"history (fields)", "entries", MREG_SQL_HISTORY_FIELDS,
		MREG_SQL_COUNT_HISTORY, history_params, N(history_params), 4,
		history_field_cols, N(history_field_cols), "logged_at", "id",
		'h', true },
	[MREG_LISTING_DEFAULTS_ASOF] = {
		"defaults --at", "defaults", MREG_SQL_LIST_DEFAULTS_ASOF,
		MREG_SQL_COUNT_DEFAULTS_ASOF, asof_params, N(asof_params), 1,
		default_cols, N(default_cols), "type", NULL, 'd', false },
};

const struct mreg_listing *mreg_listing_get(enum mreg_listing_id id)
{
	if ((int)id < 0 || id >= MREG_LISTING_N)
		return NULL;
	return &listings[id];
}

const struct mreg_column *mreg_model_columns(int *ncols)
{
	*ncols = N(model_cols);
	return model_cols;
}

int mreg_listing_column(const struct mreg_listing *l, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < l->ncols; i++)
		if (strcmp(l->cols[i].name, name) == 0)
			return i;
	return -1;
}

void mreg_listing_bind(const struct mreg_listing *l,
		       const char *const named[MREG_LP_N], bool count,
		       const char **values)
{
	int n = count ? l->ncount : l->nparams;

	for (int i = 0; i < n; i++)
		values[i] = named[l->params[i]];
}

/* ---- filters -> parameters -------------------------------------------------- */

/* A text[] literal for a $n parameter: every element double-quoted. */
static char *array_literal(const char *const *items, int n)
{
	struct mreg_strbuf b = { 0 };
	int k;

	mreg_strbuf_puts(&b, "{");
	for (k = 0; k < n; k++)
		mreg_array_element(&b, items[k], strlen(items[k]), k == 0);
	mreg_strbuf_puts(&b, "}");
	return mreg_strbuf_take(&b);
}

int mreg_listing_query_init(struct mreg_listing_query *q,
			    enum mreg_listing_id id,
			    const struct mreg_listing_filter *f,
			    struct mreg_error *err)
{
	const char **v = q->named;

	memset(q, 0, sizeof(*q));
	q->l = mreg_listing_get(id);
	q->limit = f->limit;
	if (!q->l) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no such listing");
		return -1;
	}
	if (f->after && q->l->key_col &&
	    mreg_cursor_decode(f->after, q->l->kind, &q->key, &q->id, err) < 0)
		return -1;
	if (f->ntags && !(q->tags = array_literal(f->tags, f->ntags))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	/* a page asks for one row more, to learn whether there is more */
	if (f->limit >= 0)
		snprintf(q->limit_text, sizeof(q->limit_text), "%lld",
			 f->limit + 1);
	v[MREG_LP_QUERY] = f->query;
	v[MREG_LP_TYPE] = f->type;
	v[MREG_LP_PROVIDER] = f->provider;
	v[MREG_LP_TAGS] = q->tags;
	v[MREG_LP_ACTIVE] = f->active == MREG_ACTIVE_ANY ? NULL
			    : f->active == MREG_ACTIVE_ONLY ? "true" : "false";
	v[MREG_LP_SINCE] = f->since;
	v[MREG_LP_UNTIL] = f->until;
	v[MREG_LP_ACTOR] = f->actor;
	v[MREG_LP_ACTION] = f->action;
	v[MREG_LP_MODEL_PROVIDER] = f->model_provider;
	v[MREG_LP_MODEL_NAME] = f->model_name;
	v[MREG_LP_MODEL_ID] = f->model_id;
	v[MREG_LP_RESOURCE] = f->resource;
	v[MREG_LP_AFTER_KEY] = q->key;
	v[MREG_LP_AFTER_ID] = q->id;
	v[MREG_LP_LIMIT] = f->limit >= 0 ? q->limit_text : NULL;
	v[MREG_LP_AT] = f->at;
	return 0;
}

void mreg_listing_query_finish(struct mreg_listing_query *q)
{
	if (!q)
		return;
	free(q->tags);
	free(q->key);
	free(q->id);
	q->tags = q->key = q->id = NULL;
}

/* ---- running ---------------------------------------------------------------- */

struct page {
	int key_col, id_col;  /* -1: none */
	long long limit;      /* < 0: every row; else the rows of the page */
	bool grouped;         /* rows of one id are one item (listing.h) */
	char *key, *id;       /* of the last row (grouped: item) handed over */
};

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The page's last row: remember its cursor fields. */
static int remember(struct page *pg, PGresult *row, struct mreg_error *err)
{
	free(pg->key);
	free(pg->id);
	pg->key = strdup(PQgetvalue(row, 0, pg->key_col));
	pg->id = strdup(pg->id_col >= 0 ? PQgetvalue(row, 0, pg->id_col) : "");
	return pg->key && pg->id ? 0 : oom(err);
}

/* Does row start an item (every row does, unless grouped)? */
static bool starts_item(const struct page *pg, PGresult *row)
{
	return !pg->grouped || !pg->id ||
	       strcmp(PQgetvalue(row, 0, pg->id_col), pg->id) != 0;
}

static int stream_page(struct mreg_conn *conn,
		       const struct mreg_listing_query *q, struct page *pg,
		       mreg_listing_row_fn fn, void *arg,
		       struct mreg_listing_result *res, struct mreg_error *err)
{
	const char *values[MREG_LISTING_MAX_PARAMS];
	const char **row = NULL;
	struct mreg_stream s;
	int ncols, i, rc, status = -1;
	bool item;

	mreg_listing_bind(q->l, q->named, false, values);
	if (mreg_stream_open(&s, conn, q->l->sql, q->l->nparams, values,
			     err) < 0)
		return -1;
	while ((rc = mreg_stream_next(&s, err)) == 1) {
		item = starts_item(pg, s.row);
		if (item && pg->limit >= 0 && res->rows == pg->limit) {
			/* the extra row: there is more, a next page */
			res->more = true;
			if (pg->key_col < 0)
				break;
			res->next = mreg_cursor_encode(q->l->kind, pg->key,
						       pg->id);
			if (!res->next) {
				oom(err);
				goto cleanup;
			}
			break;
		}
		ncols = PQnfields(s.row);
		if (!row && !(row = calloc((size_t)ncols, sizeof(*row)))) {
			oom(err);
			goto cleanup;
		}
		for (i = 0; i < ncols; i++)
			row[i] = PQgetisnull(s.row, 0, i)
					 ? NULL : PQgetvalue(s.row, 0, i);
		if (fn(arg, row, err) < 0)
			goto cleanup;
		if (!item)
			continue;
		res->rows++;
		if ((pg->grouped ||
		     (pg->limit >= 0 && res->rows == pg->limit)) &&
		    pg->key_col >= 0 && remember(pg, s.row, err) < 0)
			goto cleanup;
	}
	if (rc < 0)
		goto cleanup;
	status = 0;
cleanup:
	if (status < 0)
		mreg_stream_cancel(&s); /* e.g. the reader went away */
	mreg_stream_close(&s);
	free(row);
	return status;
}

int mreg_listing_run(struct mreg_conn *conn,
		     const struct mreg_listing_query *q, bool count,
		     mreg_listing_row_fn fn, void *arg,
		     struct mreg_listing_result *res, struct mreg_error *err)
{
	const char *values[MREG_LISTING_MAX_PARAMS];
	struct page pg = { -1, -1, -1, false, NULL, NULL };
	bool in_tx = false;
	int status = -1;

	res->rows = 0;
	res->total = -1;
	res->next = NULL;
	res->more = false;
	pg.limit = q->limit;
	pg.grouped = q->l->grouped && q->l->key_col && q->l->id_col;
	if (q->l->key_col) {
		pg.key_col = mreg_listing_column(q->l, q->l->key_col);
		pg.id_col = mreg_listing_column(q->l, q->l->id_col);
	}
	if (count && q->l->count_sql) {
		/* the total and the page from one snapshot */
		if (mreg_db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE "
					  "READ, READ ONLY", 0, NULL, err) < 0)
			goto cleanup;
		in_tx = true;
		mreg_listing_bind(q->l, q->named, true, values);
		if (mreg_query_count(conn, q->l->count_sql, q->l->ncount,
				     values, &res->total, err) < 0)
			goto cleanup;
	}
	if (stream_page(conn, q, &pg, fn, arg, res, err) < 0)
		goto cleanup;
	if (in_tx) {
		in_tx = false;
		if (mreg_db_commit(conn, err) < 0)
			goto cleanup;
	}
	status = 0;
cleanup:
	if (in_tx)
		mreg_db_rollback(conn);
	free(pg.key);
	free(pg.id);
	return status;
}

long long mreg_listing_total(const struct mreg_listing_result *res)
{
	if (res->total >= 0)
		return res->total;
	return res->more ? -1 : res->rows;
}

char *mreg_listing_explain(struct mreg_conn *conn,
			   const struct mreg_listing_query *q,
			   struct mreg_error *err)
{
	const char *values[MREG_LISTING_MAX_PARAMS];

	mreg_listing_bind(q->l, q->named, false, values);
	return mreg_explain(conn, q->l->sql, q->l->nparams, values, err);
}
