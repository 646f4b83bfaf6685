/* benchdata.c - synthetic registry data for 'mreg bench', and the
 * parameter values the workloads draw from (see bench.h)
 *
 * Bench data is marked twice: every model it creates carries metadata
 * {"mreg_bench": true} and every provider it creates is named
 * mreg-bench-pNNN (--populate) or mreg-bench-cCCC-pK (the import
 * workload, whose sources are named mreg-bench-import/...).  Populating and cleaning up are set-based (a few
 * INSERT ... SELECT / DELETE ... RETURNING statements in one transaction)
 * and audited like any other change: one audit row per provider, model and
 * default created or removed.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "bench.h"
#include "benchtree.h"
#include "db.h"
#include "queries.h"

#define BENCH_MARK "{\"mreg_bench\": true}"
#define BENCH_PROVIDER_LIKE "mreg-bench-p%"
#define BENCH_ANY_PROVIDER_LIKE "mreg-bench-%"

static const char sql_count_foreign[] =
	"SELECT count(*) FROM mreg.models"
	" WHERE NOT metadata @> '" BENCH_MARK "'";

/*
 * Every statement below is audited by the database (sql/0002_audit.sql)
 * with the context set_context() gives the transaction.
 */

/* $1 number of providers */
static const char sql_providers[] =
	"INSERT INTO mreg.providers (name)"
	" SELECT format('mreg-bench-p%s', lpad(g::text, 3, '0'))"
	"   FROM generate_series(1, $1::int) g";

/* $1 number of models */
static const char sql_models[] =
	"WITH p AS ("
	"  SELECT id, name, (row_number() OVER (ORDER BY name))::int - 1 AS k"
	"    FROM mreg.providers WHERE name LIKE '" BENCH_PROVIDER_LIKE "'),"
	" np AS (SELECT count(*)::int AS n FROM p),"
	" words AS (SELECT ARRAY['chat', 'instruct', 'base', 'code', 'math',"
	"   'multilingual', 'vision', 'long', 'small', 'medium', 'large',"
	"   'distilled', 'quantized', 'retrieval', 'sparse', 'dense'] AS w),"
	" src AS ("
	"  SELECT g,"
	"         (ARRAY['llm', 'llm', 'llm', 'llm', 'llm', 'llm', 'llm', 'llm',"
	"                'embedding', 'embedding', 'embedding', 'embedding',"
	"                'embedding', 'embedding', 'reranker', 'reranker',"
	"                'classifier', 'vision', 'speech', 'llm'])[1 + g % 20]"
	"           AS type,"
	"         words.w[1 + (g / 7) % 16] AS w1,"
	"         words.w[1 + (g / 113) % 16] AS w2"
	"    FROM generate_series(1, $1::int) g, words)"
	" INSERT INTO mreg.models (provider_id, name, type, version,"
	"         display_name, description, tags, synonyms, active, config,"
	"         metadata)"
	"  SELECT p.id,"
	"         format('%s-%s-%s', src.w1, src.type, lpad(src.g::text, 7, '0')),"
	"         src.type,"
	"         format('%s.%s', 1 + src.g % 4, src.g % 10),"
	"         format('%s %s %s', initcap(src.w1), initcap(src.type), src.g),"
	"         format('A %s %s model tuned for %s workloads (synthetic entry"
	" %s made by mreg bench).', src.w1, src.type, src.w2, src.g),"
	"         ARRAY[src.w1, src.w2, src.type],"
	"         ARRAY[format('%s%s', src.w1, src.g)],"
	"         src.g % 10 <> 0,"
	"         jsonb_build_object('context_length', 1024 << (src.g % 6),"
	"                            'temperature', 0.7),"
	"         jsonb_build_object('mreg_bench', true, 'seq', src.g)"
	"    FROM src JOIN p ON p.k = src.g % (SELECT n FROM np)";

/* a bench default for every type that has none */
static const char sql_defaults[] =
	"WITH pick AS ("
	"  SELECT DISTINCT ON (m.type) m.type, m.id, p.name || '/' || m.name AS label"
	"    FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"
	"   WHERE m.metadata @> '" BENCH_MARK "' AND m.active"
	"     AND NOT EXISTS (SELECT 1 FROM mreg.model_defaults d"
	"                      WHERE d.type = m.type)"
	"   ORDER BY m.type, m.id)"
	" INSERT INTO mreg.model_defaults (type, model_id)"
	" SELECT type, id FROM pick";

static const char sql_unset_defaults[] =
	"DELETE FROM mreg.model_defaults d USING mreg.models m"
	" WHERE m.id = d.model_id AND m.metadata @> '" BENCH_MARK "'";

static const char sql_delete_models[] =
	"DELETE FROM mreg.models m WHERE m.metadata @> '" BENCH_MARK "'";

static const char sql_delete_providers[] =
	"DELETE FROM mreg.providers p"
	" WHERE p.name LIKE '" BENCH_ANY_PROVIDER_LIKE "'"
	"   AND NOT EXISTS (SELECT 1 FROM mreg.models m"
	"                    WHERE m.provider_id = p.id)";

/*
 * The content-hash cache of the import workload's sources: cache rows,
 * not registry data (import-dir --prune drops such rows unaudited too);
 * the models they point to are deleted, audited, by sql_delete_models.
 */
static const char sql_delete_source_files[] =
	"DELETE FROM mreg.source_files"
	" WHERE source LIKE '" MREG_BENCH_SOURCE_PREFIX "%'";

/* Run an audited data-modifying statement; rows written, or -1. */
static long run_counted(struct mreg_conn *conn, const char *sql, int nparams,
			const char *const *values, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, values,
				     PGRES_COMMAND_OK, err);
	long n;

	if (!res)
		return -1;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

/* Who and why, for the audit rows of the rest of the transaction. */
static int set_context(struct mreg_conn *conn, const char *actor,
		       const char *source, struct mreg_error *err)
{
	json_t *ctx = json_pack("{s:s, s:s}", "command", "bench", "source",
				source);
	int rc;

	if (!ctx) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = mreg_audit_begin(conn, actor, ctx, err);
	json_decref(ctx);
	return rc;
}

static long remove_bench_data(struct mreg_conn *conn,
			      struct mreg_error *err)
{
	long models;

	if (run_counted(conn, sql_delete_source_files, 0, NULL, err) < 0 ||
	    run_counted(conn, sql_unset_defaults, 0, NULL, err) < 0)
		return -1;
	models = run_counted(conn, sql_delete_models, 0, NULL, err);
	if (models < 0)
		return -1;
	if (run_counted(conn, sql_delete_providers, 0, NULL, err) < 0)
		return -1;
	return models;
}

int mreg_bench_check_registry(struct mreg_conn *conn, bool force,
			      const char *doing, struct mreg_error *err)
{
	PGresult *res;
	long foreign;

	res = mreg_db_exec(conn, sql_count_foreign, 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	foreign = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (foreign > 0 && !force) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "refusing to %s: the registry holds %ld models"
			       " that mreg bench did not create", doing, foreign);
		mreg_error_hint(err, "Use a scratch database, or pass"
				" --force-populate to add bench models next to"
				" them (they are left untouched).");
		return -1;
	}
	return 0;
}

int mreg_bench_populate(struct mreg_conn *conn, long n, bool force,
			const char *actor, struct mreg_error *err)
{
	char nbuf[32], pbuf[32];
	const char *v[1];
	long providers = n / 200;
	int rc = -1;

	if (providers < 1)
		providers = 1;
	if (providers > 999)
		providers = 999;
	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (mreg_bench_check_registry(conn, force, "populate", err) < 0)
		goto cleanup;
	if (set_context(conn, actor, "mreg bench --populate", err) < 0 ||
	    remove_bench_data(conn, err) < 0)
		goto cleanup;
	snprintf(nbuf, sizeof(nbuf), "%ld", n);
	snprintf(pbuf, sizeof(pbuf), "%ld", providers);
	v[0] = pbuf;
	if (run_counted(conn, sql_providers, 1, v, err) < 0)
		goto cleanup;
	v[0] = nbuf;
	if (run_counted(conn, sql_models, 1, v, err) < 0)
		goto cleanup;
	if (run_counted(conn, sql_defaults, 0, NULL, err) < 0)
		goto cleanup;
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 0;

cleanup:
	if (rc < 0) {
		mreg_db_rollback(conn);
		mreg_error_prefix(err, "could not populate the registry");
	}
	return rc;
}

long mreg_bench_cleanup(struct mreg_conn *conn, const char *actor,
			struct mreg_error *err)
{
	long models;

	if (mreg_db_begin(conn, err) < 0)
		goto fail;
	models = set_context(conn, actor, "mreg bench cleanup", err) < 0
			 ? -1 : remove_bench_data(conn, err);
	if (models < 0 || mreg_db_commit(conn, err) < 0)
		goto fail;
	return models;

fail:
	mreg_db_rollback(conn);
	mreg_error_prefix(err, "could not remove the bench data");
	return -1;
}

/* --- parameter values ---------------------------------------------------- */

/* Up to 2000 random models (read-only workloads). */
static const char sql_show_sample[] =
	"SELECT p.name, m.name FROM mreg.models m"
	"  JOIN mreg.providers p ON p.id = m.provider_id"
	" ORDER BY random() LIMIT 2000";

/* Search queries: tags and the first word of names of a model sample. */
static const char sql_search_terms[] =
	"SELECT DISTINCT term FROM ("
	"  SELECT unnest(s.tags || split_part(s.name, '-', 1)) AS term"
	"    FROM (SELECT tags, name FROM mreg.models"
	"           ORDER BY random() LIMIT 500) s) t"
	" WHERE term <> '' ORDER BY term LIMIT 200";

/* Active bench models of the types whose default is a bench model. */
static const char sql_set_default_candidates[] =
	"SELECT p.name, m.name FROM mreg.models m"
	"  JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE m.active AND m.metadata @> '" BENCH_MARK "'"
	"   AND EXISTS (SELECT 1 FROM mreg.model_defaults d"
	"                 JOIN mreg.models dm ON dm.id = d.model_id"
	"                WHERE d.type = m.type"
	"                  AND dm.metadata @> '" BENCH_MARK "')"
	" ORDER BY random() LIMIT 2000";

static void free_list(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Read ncols columns of every row into NULL-terminated arrays. */
static int load_rows(struct mreg_conn *conn, const char *sql, int nparams,
		     const char *const *values, int ncols, char ***cols[],
		     int *count, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, values,
				     PGRES_TUPLES_OK, err);
	int n, c;

	if (!res)
		return -1;
	n = PQntuples(res);
	for (c = 0; c < ncols; c++) {
		char **v = calloc((size_t)n + 1, sizeof(*v));

		if (!v)
			goto oom;
		*cols[c] = v;
		for (int i = 0; i < n; i++)
			if (!(v[i] = strdup(PQgetvalue(res, i, c))))
				goto oom;
	}
	*count = n;
	PQclear(res);
	return 0;
oom:
	for (c = 0; c < ncols; c++) {
		free_list(*cols[c], n);
		*cols[c] = NULL;
	}
	PQclear(res);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

int mreg_bench_data_load(struct mreg_conn *conn,
			 const unsigned weights[MREG_BENCH_NWORKLOADS],
			 struct mreg_bench_data *data, struct mreg_error *err)
{
	const char *null1[1] = { NULL };

	memset(data, 0, sizeof(*data));
	if (weights[MREG_BENCH_GET_DEFAULT] &&
	    load_rows(conn, "SELECT type FROM mreg.model_defaults ORDER BY type",
		      0, NULL, 1, (char ***[]){ &data->types }, &data->ntypes,
		      err) < 0)
		goto fail;
	if (weights[MREG_BENCH_LIST] &&
	    load_rows(conn, MREG_SQL_TYPES, 1, null1, 1,
		      (char ***[]){ &data->list_types }, &data->nlist_types,
		      err) < 0)
		goto fail;
	if (weights[MREG_BENCH_SHOW] &&
	    load_rows(conn, sql_show_sample, 0, NULL, 2,
		      (char ***[]){ &data->show_provider, &data->show_name },
		      &data->nshow, err) < 0)
		goto fail;
	if (weights[MREG_BENCH_SEARCH] &&
	    load_rows(conn, sql_search_terms, 0, NULL, 1,
		      (char ***[]){ &data->terms }, &data->nterms, err) < 0)
		goto fail;
	if (weights[MREG_BENCH_SET_DEFAULT] &&
	    load_rows(conn, sql_set_default_candidates, 0, NULL, 2,
		      (char ***[]){ &data->sd_provider, &data->sd_name },
		      &data->nsd, err) < 0)
		goto fail;
	return 0;
fail:
	mreg_error_prefix(err, "could not read the workload parameters");
	mreg_bench_data_finish(data);
	return -1;
}

void mreg_bench_data_finish(struct mreg_bench_data *data)
{
	if (!data)
		return;
	free_list(data->types, data->ntypes);
	free_list(data->list_types, data->nlist_types);
	free_list(data->show_provider, data->nshow);
	free_list(data->show_name, data->nshow);
	free_list(data->terms, data->nterms);
	free_list(data->sd_provider, data->nsd);
	free_list(data->sd_name, data->nsd);
	memset(data, 0, sizeof(*data));
}

static void keep_only(char **v, int *n, const char *value)
{
	int kept = 0;

	for (int i = 0; i < *n; i++) {
		if (strcmp(v[i], value) == 0)
			v[kept++] = v[i];
		else
			free(v[i]);
	}
	if (v)
		v[kept] = NULL;
	*n = kept;
}

void mreg_bench_data_only_type(struct mreg_bench_data *data, const char *type)
{
	keep_only(data->types, &data->ntypes, type);
	keep_only(data->list_types, &data->nlist_types, type);
}
