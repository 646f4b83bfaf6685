/* test-listing.c - every listing's table entry agrees with its SQL
 *
 * Each statement is prepared on the sandbox's server and described: its
 * parameter count and types must be what the listing's named parameters
 * say, position by position, its result columns the listing's columns,
 * name by name, and its cursor columns must exist.  So the positions
 * cannot drift apart again.  Then one listing is paged through for real
 * and each filter is seen to filter what its name says.
 * Needs the database (test/pg-sandbox run); a missing one is a failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench.h"
#include "db.h"
#include "listing.h"
#include "migrate.h"
#include "pool.h"
#include "queries.h"
#include "registry.h"
#include "tap.h"

static char dbname[64];
static char dsn[128];

/* type OIDs (pg_type.dat) */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_TEXT 25
#define OID_TEXT_ARRAY 1009
#define OID_TIMESTAMPTZ 1184
#define OID_JSON 114
#define OID_JSONB 3802

static void admin_exec(const char *sql)
{
	PGconn *c = PQconnectdb("dbname=postgres");
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		bail_out("no database: run under test/pg-sandbox");
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bail_out(PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

static struct mreg_pool *make_pool(void)
{
	struct mreg_pool_config cfg = { .dsn = dsn, .max_size = 1,
					.application_name = "mreg test-listing" };
	struct mreg_error err;
	struct mreg_pool *p = mreg_pool_create(&cfg, &err);

	if (!p)
		bail_out(err.message);
	return p;
}

static void migrate(struct mreg_conn *conn)
{
	struct mreg_migration_set set = { 0 };
	struct mreg_migration_status *st = NULL;
	struct mreg_error err;
	size_t n = 0;
	double ms;

	if (mreg_migrations_load(&set, NULL, &err) < 0 ||
	    mreg_migrate_bootstrap(conn, &err) < 0 ||
	    mreg_migrate_status(conn, &set, &st, &n, &err) < 0)
		bail_out(err.message);
	for (size_t i = 0; i < n; i++)
		if (st[i].state == MREG_MIG_PENDING &&
		    mreg_migrate_apply(conn, st[i].migration, "test-listing", 10,
				       &ms, &err) < 0)
			bail_out(err.message);
	free(st);
	mreg_migrations_finish(&set);
}

/* May $n of type oid carry the named parameter p? */
static bool param_type_ok(enum mreg_listing_param p, Oid oid)
{
	switch (p) {
	case MREG_LP_TAGS:
		return oid == OID_TEXT_ARRAY;
	case MREG_LP_ACTIVE:
		return oid == OID_BOOL;
	case MREG_LP_SINCE:
	case MREG_LP_UNTIL:
		return oid == OID_TIMESTAMPTZ;
	case MREG_LP_AFTER_KEY: /* a name, a type or a timestamp */
		return oid == OID_TEXT || oid == OID_TIMESTAMPTZ;
	case MREG_LP_AFTER_ID:
	case MREG_LP_LIMIT:
		return oid == OID_INT8;
	default:
		return oid == OID_TEXT;
	}
}

/* Prepare sql as name and describe it; NULL when the server refused. */
static PGresult *describe(PGconn *pg, const char *name, const char *sql)
{
	PGresult *res = PQprepare(pg, name, sql, 0, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		diag("  %s", PQerrorMessage(pg));
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	res = PQdescribePrepared(pg, name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return NULL;
	}
	return res;
}

static void check_page_sql(PGconn *pg, const struct mreg_listing *l, int i)
{
	char name[32];
	PGresult *d;
	int k, bad;

	snprintf(name, sizeof(name), "listing_%d", i);
	d = describe(pg, name, l->sql);
	if (!ok(d != NULL, "%s: the server prepares its SQL", l->name))
		return;
	is_int(PQnparams(d), l->nparams, "%s: $1..$%d as in the table",
	       l->name, l->nparams);
	for (k = 0, bad = -1; k < l->nparams && k < PQnparams(d); k++)
		if (!param_type_ok(l->params[k], PQparamtype(d, k)) && bad < 0)
			bad = k;
	if (!ok(bad < 0, "%s: each $n has the type of its named parameter",
		l->name))
		diag("  $%d is of type %u", bad + 1, PQparamtype(d, bad));
	is_int(PQnfields(d), l->ncols, "%s: %d result columns", l->name,
	       l->ncols);
	for (k = 0, bad = -1; k < l->ncols && k < PQnfields(d); k++)
		if (strcmp(PQfname(d, k), l->cols[k].name) != 0 && bad < 0)
			bad = k;
	if (!ok(bad < 0, "%s: the columns' names, in order", l->name))
		diag("  column %d is \"%s\", the table says \"%s\"", bad + 1,
		     PQfname(d, bad), l->cols[bad].name);
	if (l->key_col)
		ok(mreg_listing_column(l, l->key_col) >= 0 &&
			   (!l->id_col || mreg_listing_column(l, l->id_col) >= 0),
		   "%s: the cursor's columns are result columns", l->name);
	PQclear(d);
}

static void check_count_sql(PGconn *pg, const struct mreg_listing *l, int i)
{
	char name[32];
	PGresult *d;
	int k, bad;

	if (!l->count_sql)
		return;
	snprintf(name, sizeof(name), "listing_count_%d", i);
	d = describe(pg, name, l->count_sql);
	if (!ok(d != NULL, "%s: the server prepares its count SQL", l->name))
		return;
	ok(PQnparams(d) == l->ncount && l->ncount <= l->nparams,
	   "%s: the count takes the page's first %d parameters", l->name,
	   l->ncount);
	for (k = 0, bad = -1; k < l->ncount && k < PQnparams(d); k++)
		if (!param_type_ok(l->params[k], PQparamtype(d, k)) && bad < 0)
			bad = k;
	ok(bad < 0, "%s: the count's $n have the page's types", l->name);
	ok(PQnfields(d) == 1 && PQftype(d, 0) == OID_INT8,
	   "%s: the count returns one bigint", l->name);
	PQclear(d);
}

/* Does a column of this type print as a column of this kind says? */
static bool kind_ok(enum mreg_col_kind kind, Oid type)
{
	switch (kind) {
	case MREG_COL_TEXT:
		return type == OID_TEXT;
	case MREG_COL_NUMBER:
		return type == OID_INT8;
	case MREG_COL_BOOL:
		return type == OID_BOOL;
	case MREG_COL_JSON:
		return type == OID_JSON || type == OID_JSONB;
	}
	return false;
}

/*
 * The model object (mreg-json(7)) is one set of columns: every statement
 * that prints a model starts with the model columns of listing.c, name by
 * name and of the type their kind prints, so a model is the same object
 * in list, search, show, default and set-default.
 */
static void check_model_sql(PGconn *pg)
{
	static const struct {
		const char *what, *sql;
	} stmts[] = {
		{ "list", MREG_SQL_LIST_MODELS_BY_NAME },
		{ "list --sort updated", MREG_SQL_LIST_MODELS_BY_UPDATED },
		{ "search", MREG_SQL_SEARCH },
		{ "show", MREG_SQL_SHOW },
		{ "default -o json", MREG_SQL_GET_DEFAULT_MODEL },
		{ "set-default -o json", MREG_SQL_GET_MODEL },
	};
	const struct mreg_column *mc;
	char name[32];
	PGresult *d;
	int nm, i, k, bad;

	mc = mreg_model_columns(&nm);
	ok(nm == 16 && strcmp(mc[0].name, "model") == 0,
	   "the model object has its 16 keys, model first");
	for (i = 0; i < (int)(sizeof(stmts) / sizeof(stmts[0])); i++) {
		snprintf(name, sizeof(name), "model_%d", i);
		d = describe(pg, name, stmts[i].sql);
		if (!ok(d != NULL, "%s: the server prepares it", stmts[i].what))
			continue;
		for (k = 0, bad = -1; k < nm && bad < 0; k++)
			if (k >= PQnfields(d) ||
			    strcmp(PQfname(d, k), mc[k].name) != 0 ||
			    !kind_ok(mc[k].kind, PQftype(d, k)))
				bad = k;
		if (!ok(bad < 0, "%s: starts with the model object's columns",
			stmts[i].what))
			diag("  column %d: \"%s\" of type %u, the model "
			     "object says \"%s\"", bad + 1,
			     bad < PQnfields(d) ? PQfname(d, bad) : "(none)",
			     bad < PQnfields(d) ? PQftype(d, bad) : 0,
			     mc[bad].name);
		PQclear(d);
	}
}

/* mreg bench prepares the listings' own statements, with their counts. */
static void check_bench(void)
{
	static const struct {
		const char *stmt;
		enum mreg_listing_id id;
		bool count;
	} want[] = {
		{ "mreg_list_models", MREG_LISTING_MODELS, false },
		{ "mreg_count_models", MREG_LISTING_MODELS, true },
		{ "mreg_search", MREG_LISTING_SEARCH, false },
	};
	const struct mreg_prepared *st;
	int n, i, k;

	st = mreg_bench_statements(&n);
	for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
		const struct mreg_listing *l = mreg_listing_get(want[i].id);
		const char *sql = want[i].count ? l->count_sql : l->sql;
		int np = want[i].count ? l->ncount : l->nparams;

		for (k = 0; k < n && strcmp(st[k].name, want[i].stmt); k++)
			;
		ok(k < n && strcmp(st[k].sql, sql) == 0 && st[k].nparams == np,
		   "bench's %s is the %s listing's SQL with %d parameters",
		   want[i].stmt, l->name, np);
	}
}

static int count_row(void *arg, const char *const *row,
		     struct mreg_error *err)
{
	(void)err;
	if (row[0])
		++*(int *)arg;
	return 0;
}

/* Three providers, pages of two: a cursor, the total, the rest. */
static void check_paging(struct mreg_conn *conn)
{
	struct mreg_listing_filter f = { .limit = 2 };
	struct mreg_listing_query q;
	struct mreg_listing_result res = { 0 };
	struct mreg_error err;
	char *next = NULL;
	int rows = 0;

	if (mreg_db_command(conn, "INSERT INTO mreg.providers (name) VALUES"
				  " ('a'), ('b'), ('c')", 0, NULL, &err) < 0)
		bail_out(err.message);
	ok(mreg_listing_query_init(&q, MREG_LISTING_PROVIDERS, &f, &err) == 0 &&
		   mreg_listing_run(conn, &q, true, count_row, &rows, &res,
				    &err) == 0,
	   "first page of providers");
	ok(rows == 2 && res.rows == 2 && res.total == 3 && res.next,
	   "two rows, three in total, a next page");
	mreg_listing_query_finish(&q);
	next = res.next;
	f.after = next;
	rows = 0;
	ok(mreg_listing_query_init(&q, MREG_LISTING_PROVIDERS, &f, &err) == 0 &&
		   mreg_listing_run(conn, &q, false, count_row, &rows, &res,
				    &err) == 0,
	   "second page of providers");
	ok(rows == 1 && res.total == -1 && !res.next,
	   "the last row, no count asked, no next page");
	mreg_listing_query_finish(&q);
	free(next);
	f.after = "bm90IGEgY3Vyc29y";
	ok(mreg_listing_query_init(&q, MREG_LISTING_PROVIDERS, &f, &err) == -1 &&
		   err.status == MREG_EXIT_USAGE,
	   "a bad cursor is refused before any SQL");
	mreg_listing_query_finish(&q);
}

/* The rows listing id gives for filter f; -1 when it fails. */
static int rows_of(struct mreg_conn *conn, enum mreg_listing_id id,
		   struct mreg_listing_filter f)
{
	struct mreg_listing_result res = { 0 };
	struct mreg_listing_query q;
	struct mreg_error err;
	int rows = 0, rc;

	f.limit = f.limit ? f.limit : -1;
	rc = mreg_listing_query_init(&q, id, &f, &err) == 0 &&
	     mreg_listing_run(conn, &q, false, count_row, &rows, &res,
			      &err) == 0;
	if (!rc)
		diag("  %s", err.message);
	mreg_listing_query_finish(&q);
	free(res.next);
	return rc ? rows : -1;
}

/*
 * Each named filter lands on the $n that filters what it says: values
 * that match under one name and not under another tell two text
 * parameters apart, which their types cannot.
 */
static void check_filters(struct mreg_conn *conn)
{
	static const char *const x[] = { "x" };
	struct mreg_error err;

	if (mreg_db_command(conn,
			    "INSERT INTO mreg.models (provider_id, name, type,"
			    "  tags, active)"
			    " SELECT id, 'alpha-model', 'llm', '{x}'::text[], true"
			    "   FROM mreg.providers WHERE name = 'a'"
			    " UNION ALL SELECT id, 'beta-model', 'emb', '{}'::text[],"
			    "  false FROM mreg.providers WHERE name = 'b'",
			    0, NULL, &err) < 0 ||
	    mreg_db_command(conn,
			    "INSERT INTO mreg.audit_log (actor, action,"
			    "  resource, logged_at) VALUES"
			    " ('alice', 'model.update', 'models/a/alpha-model',"
			    "  '2026-01-01T00:00:00Z'),"
			    " ('bob', 'default.set', 'defaults/llm',"
			    "  '2026-02-01T00:00:00Z')",
			    0, NULL, &err) < 0)
		bail_out(err.message);
	is_int(rows_of(conn, MREG_LISTING_MODELS, (struct mreg_listing_filter){
		       .type = "emb", .active = MREG_ACTIVE_ANY }), 1,
	       "models: --type");
	is_int(rows_of(conn, MREG_LISTING_MODELS, (struct mreg_listing_filter){
		       .provider = "b", .active = MREG_ACTIVE_ANY }), 1,
	       "models: --provider");
	is_int(rows_of(conn, MREG_LISTING_MODELS_UPDATED,
		       (struct mreg_listing_filter){ .tags = x, .ntags = 1,
						     .active = MREG_ACTIVE_ANY }),
	       1, "models: --tag");
	is_int(rows_of(conn, MREG_LISTING_MODELS, (struct mreg_listing_filter){
		       .active = MREG_INACTIVE_ONLY }), 1, "models: --inactive");
	is_int(rows_of(conn, MREG_LISTING_AUDIT, (struct mreg_listing_filter){
		       .actor = "alice" }), 1, "audit: --actor");
	is_int(rows_of(conn, MREG_LISTING_AUDIT, (struct mreg_listing_filter){
		       .action = "default.set" }), 1, "audit: --action");
	is_int(rows_of(conn, MREG_LISTING_AUDIT, (struct mreg_listing_filter){
		       .since = "2026-01-15T00:00:00Z",
		       .until = "2026-03-01T00:00:00Z" }), 1,
	       "audit: --since and --until");
	is_int(rows_of(conn, MREG_LISTING_AUDIT, (struct mreg_listing_filter){
		       .until = "2026-01-15T00:00:00Z" }), 1, "audit: --until");
	is_int(rows_of(conn, MREG_LISTING_AUDIT, (struct mreg_listing_filter){
		       .model_provider = "a", .model_name = "alpha-model" }),
	       2, "audit: --model (the database's model.create row too)");
	is_int(rows_of(conn, MREG_LISTING_SEARCH, (struct mreg_listing_filter){
		       .query = "alpha", .type = "llm", .limit = 5 }), 1,
	       "search: QUERY and --type");
	is_int(rows_of(conn, MREG_LISTING_SEARCH, (struct mreg_listing_filter){
		       .query = "alpha", .provider = "a", .limit = 5 }), 1,
	       "search: --provider");
	is_int(rows_of(conn, MREG_LISTING_SEARCH, (struct mreg_listing_filter){
		       .query = "alpha", .provider = "b", .limit = 5 }), 0,
	       "search: --provider that does not match");
}

int main(void)
{
	struct mreg_pool *pool;
	struct mreg_conn *conn;
	struct mreg_error err;
	char sql[128];

	snprintf(dbname, sizeof(dbname), "t_unit_listing_%ld", (long)getpid());
	snprintf(dsn, sizeof(dsn), "dbname=%s", dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	admin_exec(sql);
	pool = make_pool();
	if (!(conn = mreg_pool_acquire(pool, &err)))
		bail_out(err.message);
	migrate(conn);

	for (int i = 0; i < MREG_LISTING_N; i++) {
		const struct mreg_listing *l = mreg_listing_get(i);

		check_page_sql(conn->pg, l, i);
		check_count_sql(conn->pg, l, i);
	}
	ok(mreg_listing_get(MREG_LISTING_N) == NULL, "no listing past the end");
	check_model_sql(conn->pg);
	check_bench();
	check_paging(conn);
	check_filters(conn);

	mreg_pool_release(pool, conn);
	mreg_pool_destroy(pool);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", dbname);
	admin_exec(sql);
	return tap_done();
}
