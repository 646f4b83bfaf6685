/* test-bench.c - the bench runner against the sandbox: counts add up across
 * threads (and in the latency log), progress snapshots race with the
 * workers, stop ends a run, populate/cleanup round-trip.  Needs test/pg-sandbox (fails without). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "db.h"
#include "migrate.h"
#include "tap.h"

static char dbname[64];
static char dsn[128];

static PGconn *admin_connect(void)
{
	PGconn *c = PQconnectdb("dbname=postgres");

	if (PQstatus(c) != CONNECTION_OK)
		bail_out("no database: run under test/pg-sandbox");
	return c;
}

static void admin_exec(const char *sql)
{
	PGconn *c = admin_connect();
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bail_out(PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

static struct mreg_pool *make_pool(int size, bool prepared)
{
	struct mreg_pool_config cfg = { .dsn = dsn, .max_size = size,
					.application_name = "mreg test-bench" };
	struct mreg_error err;
	struct mreg_pool *p;

	if (prepared)
		cfg.prepare = mreg_bench_statements(&cfg.nprepare);
	p = mreg_pool_create(&cfg, &err);
	if (!p)
		bail_out(err.message);
	return p;
}

/*
 * Open every connection before a run, as 'mreg bench' does, so the run
 * measures (and exercises) requests, not lazy connection set-up.
 */
static void warm(struct mreg_pool *pool, int n)
{
	struct mreg_conn *c[16] = { NULL };
	struct mreg_error err;

	for (int i = 0; i < n; i++)
		if (!(c[i] = mreg_pool_acquire(pool, &err)))
			bail_out(err.message);
	for (int i = 0; i < n; i++)
		mreg_pool_release(pool, c[i]);
}

static void migrate(void)
{
	struct mreg_pool *pool = make_pool(1, false);
	struct mreg_migration_set set = { 0 };
	struct mreg_migration_status *st = NULL;
	struct mreg_conn *conn;
	struct mreg_error err;
	size_t n = 0;
	double ms;

	if (!(conn = mreg_pool_acquire(pool, &err)) ||
	    mreg_migrations_load(&set, NULL, &err) < 0 ||
	    mreg_migrate_bootstrap(conn, &err) < 0 ||
	    mreg_migrate_status(conn, &set, &st, &n, &err) < 0)
		bail_out(err.message);
	for (size_t i = 0; i < n; i++)
		if (st[i].state == MREG_MIG_PENDING &&
		    mreg_migrate_apply(conn, st[i].migration, "test-bench", 10,
				       &ms, &err) < 0)
			bail_out(err.message);
	free(st);
	mreg_migrations_finish(&set);
	mreg_pool_release(pool, conn);
	mreg_pool_destroy(pool);
}

static long count_models(struct mreg_pool *pool)
{
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);
	PGresult *res;
	long n;

	if (!conn)
		bail_out(err.message);
	res = mreg_db_exec(conn, "SELECT count(*) FROM mreg.models", 0, NULL,
			   PGRES_TUPLES_OK, &err);
	if (!res)
		bail_out(err.message);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	mreg_pool_release(pool, conn);
	return n;
}

static void load_data(struct mreg_pool *pool, struct mreg_bench_data *data)
{
	unsigned all[MREG_BENCH_NWORKLOADS];
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		all[i] = 1;
	if (!conn || mreg_bench_data_load(conn, all, data, &err) < 0)
		bail_out(err.message);
	mreg_pool_release(pool, conn);
}

static long count_lines(int fd)
{
	char buf[8192];
	long n = 0;
	ssize_t got;
	off_t at = 0;

	while ((got = pread(fd, buf, sizeof(buf), at)) > 0) {
		for (ssize_t i = 0; i < got; i++)
			n += buf[i] == '\n';
		at += got;
	}
	return n;
}

/*
 * A mixed run over 3 threads, into a latency log; progress snapshots
 * taken while it runs.
 */
static void test_counts(struct mreg_pool *pool,
			const struct mreg_bench_data *data, bool prepared)
{
	struct mreg_bench_config cfg = {
		.pool = pool, .prepared = prepared, .clients = 6, .threads = 3,
		.transactions = 3000, .data = data, .actor = "test-bench",
		.seed = 42,
	};
	struct mreg_bench_interval iv;
	struct mreg_bench_result res;
	struct mreg_error err;
	struct mreg_bench *b;
	uint64_t seen = 0, per = 0;
	char logpath[] = "/tmp/mreg-test-bench-log.XXXXXX";
	int logfd = mkstemp(logpath);

	if (logfd < 0)
		bail_out("mkstemp");
	/* the latency log: every thread writes to it while the run goes on */
	cfg.latency_log = true;
	cfg.latency_log_fd = logfd;
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		cfg.weights[i] = mreg_bench_workload_mixable(i);
	cfg.weights[MREG_BENCH_GET_DEFAULT] = 10;
	b = mreg_bench_start(&cfg, &err);
	if (!b)
		bail_out(err.message);
	while (!mreg_bench_wait(b, 5)) {
		mreg_bench_interval(b, &iv);
		seen += iv.transactions + iv.errors;
	}
	mreg_bench_interval(b, &iv);
	seen += iv.transactions + iv.errors;
	ok(mreg_bench_finish(b, &res, &err) == 0, "%s: finish",
	   prepared ? "prepared" : "extended");
	mreg_bench_destroy(b);
	is_int(res.transactions + res.errors, 3000,
	       "%s: exactly the requested transactions ran",
	       prepared ? "prepared" : "extended");
	is_int(res.errors, 0, "no errors");
	if (res.errors)
		for (int k = 0; k < MREG_BENCH_NERRKINDS; k++)
			if (res.first_error[k][0])
				diag("%s: %s", mreg_bench_error_kind_name(k),
				     res.first_error[k]);
	is_int(seen, 3000, "progress snapshots saw every request once");
	is_int(mreg_histogram_count(res.latency), res.transactions,
	       "merged histogram counts every success");
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		per += mreg_histogram_count(res.by_workload[i]);
		if (mreg_bench_workload_mixable(i))
			ok(mreg_histogram_count(res.by_workload[i]) > 0,
			   "workload %s ran", mreg_bench_workload_name(i));
		else
			is_int(mreg_histogram_count(res.by_workload[i]), 0,
			       "workload %s is not mixed in",
			       mreg_bench_workload_name(i));
	}
	is_int(per, res.transactions, "per-workload counts add up");
	ok(mreg_histogram_count(res.by_workload[MREG_BENCH_GET_DEFAULT]) >
		   mreg_histogram_count(res.by_workload[MREG_BENCH_LIST]),
	   "weights are respected");
	ok(!res.interrupted, "not interrupted");
	ok(res.elapsed_s > 0, "elapsed time measured");
	ok(res.finished_unix_ns > res.started_unix_ns &&
		   res.started_unix_ns > 1700000000LL * 1000000000LL,
	   "wall-clock start and end of the measured part");
	ok(mreg_histogram_stddev(res.latency) > 0, "a standard deviation");
	is_int(res.latency_log_error, 0, "latency log: no write error");
	is_int(res.latency_log_lines, 3000, "latency log: a line per request");
	is_int(count_lines(logfd), 3000, "latency log: the file has them all");
	close(logfd);
	unlink(logpath);
	mreg_bench_result_finish(&res);
}

/* A long run stopped from outside ends promptly with what it did. */
static void test_stop(struct mreg_pool *pool, const struct mreg_bench_data *data)
{
	struct mreg_bench_config cfg = {
		.pool = pool, .prepared = true, .clients = 4, .threads = 2,
		.duration_s = 60, .data = data, .rate = 2000,
	};
	struct mreg_bench_result res;
	struct mreg_error err;
	struct mreg_bench *b;
	uint64_t seen = 0;

	cfg.weights[MREG_BENCH_GET_DEFAULT] = 1;
	b = mreg_bench_start(&cfg, &err);
	if (!b)
		bail_out(err.message);
	/* stop once the run has done some work: an event, not a time */
	for (int i = 0; seen < 50; i++) {
		struct mreg_bench_interval iv;

		if (i == 6000 || mreg_bench_wait(b, 10))
			bail_out("the open-loop run did no 50 requests in 60 s");
		mreg_bench_interval(b, &iv);
		seen += iv.transactions;
	}
	mreg_bench_stop(b);
	ok(mreg_bench_wait(b, 60000), "a stopped run ends");
	ok(mreg_bench_finish(b, &res, &err) == 0, "finish after stop");
	mreg_bench_destroy(b);
	ok(res.interrupted, "marked interrupted");
	ok(res.transactions >= seen, "the report counts at least what the "
	   "intervals saw (%llu >= %llu)", (unsigned long long)res.transactions,
	   (unsigned long long)seen);
	/* an open loop never starts a request before its scheduled time */
	ok((double)res.transactions <= 2000.0 * res.elapsed_s + cfg.clients,
	   "open loop at 2000/s: %llu requests in %.3f s, never ahead of "
	   "the schedule", (unsigned long long)res.transactions, res.elapsed_s);
	is_int(mreg_histogram_count(res.lag), res.transactions,
	       "schedule lag recorded for every request");
	mreg_bench_result_finish(&res);
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return false;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

static long count_rows(struct mreg_pool *pool, const char *sql)
{
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);
	PGresult *res;
	long n;

	if (!conn)
		bail_out(err.message);
	res = mreg_db_exec(conn, sql, 0, NULL, PGRES_TUPLES_OK, &err);
	if (!res)
		bail_out(err.message);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	mreg_pool_release(pool, conn);
	return n;
}

/*
 * The import workload: 3 clients import their own trees; every request
 * is one import that updates exactly the rewritten files; the trees are
 * gone afterwards, the rows stay until mreg_bench_cleanup.
 */
static void test_import(struct mreg_pool *pool, const char *parent)
{
	struct mreg_bench_config cfg = {
		.pool = pool, .clients = 3, .threads = 1, .transactions = 12,
		.warmup_s = 0.05, .actor = "test-bench",
		.import_parent = parent, .import_files = 120,
		.import_change_pct = 5, .import_jobs = 1,
	};
	struct mreg_bench_data empty = { 0 };
	struct mreg_bench_result res;
	struct mreg_error err;
	struct mreg_conn *conn;
	struct mreg_bench *b;
	long before, models;

	cfg.data = &empty;
	cfg.weights[MREG_BENCH_IMPORT] = 1;
	is_int(mreg_bench_import_per_request(&cfg), 6,
	       "5%% of 120 files is 6 per request");
	before = count_rows(pool, "SELECT count(*) FROM mreg.audit_log"
				  " WHERE action = 'model.update'");
	b = mreg_bench_start(&cfg, &err);
	if (!b)
		bail_out(err.message);
	ok(mreg_bench_import_dir(b) != NULL &&
		   strncmp(mreg_bench_import_dir(b), parent, strlen(parent)) == 0,
	   "the trees live in a directory under the parent");
	while (!mreg_bench_wait(b, 50))
		;
	ok(mreg_bench_finish(b, &res, &err) == 0, "import: finish");
	mreg_bench_destroy(b);
	is_int(res.transactions, 12, "12 imports recorded");
	is_int(res.errors, 0, "no errors");
	for (int k = 0; k < MREG_BENCH_NERRKINDS; k++)
		if (res.first_error[k][0])
			diag("%s: %s", mreg_bench_error_kind_name(k),
			     res.first_error[k]);
	is_int(mreg_histogram_count(res.by_workload[MREG_BENCH_IMPORT]), 12,
	       "recorded under the import workload");
	mreg_bench_result_finish(&res);
	ok(dir_is_empty(parent), "the trees are removed");
	models = count_rows(pool, "SELECT count(*) FROM mreg.models"
				  " WHERE provider_id IN (SELECT id FROM"
				  " mreg.providers WHERE name LIKE 'mreg-bench-c%')");
	is_int(models, 360, "3 trees of 120 models were imported");
	is_int(count_rows(pool, "SELECT count(*) FROM mreg.source_files"
				" WHERE source LIKE 'mreg-bench-import/%'"),
	       360, "one cache row per file");
	/* warmup requests are not recorded, but they updated models too */
	ok(count_rows(pool, "SELECT count(*) FROM mreg.audit_log"
			    " WHERE action = 'model.update'") - before >= 72,
	   "every recorded request updated its 6 models");

	/* a mix with import, a rate, no directory: refused */
	cfg.weights[MREG_BENCH_GET_DEFAULT] = 1;
	ok(!mreg_bench_start(&cfg, &err) && err.status == MREG_EXIT_USAGE,
	   "import in a mix is refused: %s", err.message);
	cfg.weights[MREG_BENCH_GET_DEFAULT] = 0;
	cfg.rate = 10;
	ok(!mreg_bench_start(&cfg, &err) && err.status == MREG_EXIT_USAGE,
	   "import with a rate is refused: %s", err.message);
	cfg.rate = 0;
	cfg.import_parent = "/nonexistent/mreg-bench-test";
	ok(!mreg_bench_start(&cfg, &err) && err.status == MREG_EXIT_FAILURE,
	   "an unusable parent directory fails the start: %s", err.message);

	if (!(conn = mreg_pool_acquire(pool, &err)))
		bail_out(err.message);
	ok(mreg_bench_check_registry(conn, false, "test", &err) == 0,
	   "bench data alone is not real data");
	is_int(mreg_bench_cleanup(conn, "test-bench", &err), 360,
	   "cleanup removes the imported models");
	mreg_pool_release(pool, conn);
	is_int(count_rows(pool, "SELECT count(*) FROM mreg.source_files"
				" WHERE source LIKE 'mreg-bench-import/%'"),
	       0, "and their cache rows");
	is_int(count_rows(pool, "SELECT count(*) FROM mreg.providers"
				" WHERE name LIKE 'mreg-bench-%'"),
	       0, "and their providers");
}

static void test_bad_config(const struct mreg_bench_data *data)
{
	struct mreg_bench_config cfg = { .clients = 2, .threads = 3,
					 .transactions = 1, .data = data };
	struct mreg_bench_data empty = { 0 };
	struct mreg_error err;

	cfg.weights[0] = 1;
	cfg.connect_per_request = true;
	ok(!mreg_bench_start(&cfg, &err) && err.status == MREG_EXIT_USAGE,
	   "more threads than clients is refused");
	cfg.threads = 1;
	cfg.data = &empty;
	ok(!mreg_bench_start(&cfg, &err) && err.status == MREG_EXIT_DATA,
	   "a workload without parameters is refused: %s", err.message);
}

static void test_classify(void)
{
	static const struct { const char *state; int kind; } cases[] = {
		{ "57014", MREG_BENCH_ERR_STATEMENT_TIMEOUT },
		{ "40001", MREG_BENCH_ERR_CONFLICT },
		{ "40P01", MREG_BENCH_ERR_CONFLICT },
		{ "23505", MREG_BENCH_ERR_CONSTRAINT },
		{ "23514", MREG_BENCH_ERR_CONSTRAINT },
		{ "08006", MREG_BENCH_ERR_DISCONNECT },
		{ "57P01", MREG_BENCH_ERR_DISCONNECT },
		{ "", MREG_BENCH_ERR_DISCONNECT },
		{ "42P01", MREG_BENCH_ERR_SERVER },
		{ "53300", MREG_BENCH_ERR_SERVER },
	};
	struct mreg_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mreg_error_clear(&err);
		snprintf(err.sqlstate, sizeof(err.sqlstate), "%s",
			 cases[i].state);
		is_int(mreg_bench_classify(&err), cases[i].kind,
		       "SQLSTATE '%s' is a %s error", cases[i].state,
		       mreg_bench_error_kind_name(cases[i].kind));
	}
	for (int k = 0; k < MREG_BENCH_NERRKINDS; k++)
		ok(mreg_bench_error_kind_name(k) != NULL, "kind %d has a name", k);
	ok(mreg_bench_error_kind_name(MREG_BENCH_NERRKINDS) == NULL,
	   "no name past the last kind");
	ok(mreg_bench_workload_find("set-default") == MREG_BENCH_SET_DEFAULT &&
		   mreg_bench_workload_find("nope") < 0 &&
		   mreg_bench_workload_writes(MREG_BENCH_SET_DEFAULT) &&
		   !mreg_bench_workload_writes(MREG_BENCH_LIST),
	   "workload names and write flags");
}

int main(void)
{
	struct mreg_bench_data data = { 0 };
	struct mreg_pool *pool, *pool2;
	struct mreg_error err;
	struct mreg_conn *conn;
	char sql[128];

	json_object_seed(0); /* before the import workload's threads parse */
	test_classify();
	snprintf(dbname, sizeof(dbname), "t_unit_bench_%ld", (long)getpid());
	snprintf(dsn, sizeof(dsn), "dbname=%s", dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	admin_exec(sql);
	migrate();

	pool = make_pool(6, true);
	if (!(conn = mreg_pool_acquire(pool, &err)))
		bail_out(err.message);
	ok(mreg_bench_populate(conn, 2000, false, "test-bench", &err) == 0,
	   "populate 2000 models");
	mreg_pool_release(pool, conn);
	is_int(count_models(pool), 2000, "2000 models in the registry");
	load_data(pool, &data);
	warm(pool, 6);
	ok(data.ntypes == 6 && data.nlist_types == 6 && data.nshow > 0 &&
		   data.nterms > 0 && data.nsd > 0,
	   "parameters for every workload");

	test_counts(pool, &data, true);
	pool2 = make_pool(3, false);
	warm(pool2, 3);
	test_counts(pool2, &data, false); /* a pool smaller than the clients */
	mreg_pool_destroy(pool2);
	test_stop(pool, &data);
	test_bad_config(&data);

	if (!(conn = mreg_pool_acquire(pool, &err)))
		bail_out(err.message);
	is_int(mreg_bench_cleanup(conn, "test-bench", &err), 2000,
	       "cleanup removes the 2000 models");
	mreg_pool_release(pool, conn);
	is_int(count_models(pool), 0, "nothing left");
	{
		char parent[] = "/tmp/mreg-test-bench.XXXXXX";

		if (!mkdtemp(parent))
			bail_out("mkdtemp");
		test_import(pool, parent);
		rmdir(parent);
	}

	mreg_bench_data_finish(&data);
	mreg_pool_destroy(pool);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", dbname);
	admin_exec(sql);
	return tap_done();
}
