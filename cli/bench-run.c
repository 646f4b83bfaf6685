/* bench-run.c - mreg bench: preparing, running and measuring the load */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench-cmd.h"
#include "pooler.h"
#include "connect.h"

/* --- Ctrl-C ---------------------------------------------------------------- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* First Ctrl-C: stop and report; the handler resets, so a second kills. */
static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	got_signal = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_signals(const struct sigaction *old_int,
			    const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

double bench_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_run_cleanup(struct cli_ctx *ctx, struct mreg_pool *pool)
{
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);
	long n;

	if (!conn)
		return cli_report(ctx, &err);
	n = mreg_bench_cleanup(conn, cli_actor(ctx), &err);
	mreg_pool_release(pool, conn);
	if (n < 0)
		return cli_report(ctx, &err);
	printf("removed %ld synthetic model%s\n", n, n == 1 ? "" : "s");
	return 0;
}

int bench_run_load(struct cli_ctx *ctx, const struct bench_opts *o,
		   const struct mreg_bench_config *cfg,
		   struct mreg_bench_result *res)
{
	struct sigaction old_int, old_term;
	struct mreg_bench_interval iv;
	struct mreg_error err;
	struct mreg_bench *b;
	double next_progress;
	bool stopped = false;
	int rc = 0;

	catch_signals(&old_int, &old_term);
	b = mreg_bench_start(cfg, &err);
	if (!b) {
		restore_signals(&old_int, &old_term);
		return cli_report(ctx, &err);
	}
	next_progress = bench_mono_s() + o->progress;
	while (!mreg_bench_wait(b, 100)) {
		if (got_signal && !stopped) {
			mreg_bench_stop(b);
			stopped = true;
			cli_warn(ctx, "interrupted: finishing the requests in "
				      "flight (Ctrl-C again to quit at once)");
		}
		if (o->progress > 0 && bench_mono_s() >= next_progress) {
			mreg_bench_interval(b, &iv);
			cli_log_line(
				"progress: %.1f s, %llu transactions, %.1f tps, "
				"p99 %.3f ms, %llu errors%s",
				iv.elapsed_s,
				(unsigned long long)iv.transactions,
				iv.interval_s > 0 ? (double)iv.transactions /
							    iv.interval_s
						  : 0.0,
				bench_ms(iv.p99_ns), (unsigned long long)iv.errors,
				iv.warming_up ? " (warmup)" : "");
			next_progress += o->progress;
		}
	}
	if (mreg_bench_finish(b, res, &err) < 0)
		rc = cli_report(ctx, &err);
	mreg_bench_destroy(b);
	restore_signals(&old_int, &old_term);
	return rc;
}

/*
 * Open the connections the clients will use before the clock starts, as
 * pgbench does: the run measures requests, not connection set-up (that is
 * what --connect-per-request is for).
 */
int bench_warm_pool(struct mreg_pool *pool, int n, struct mreg_error *err)
{
	struct mreg_conn **conns = calloc((size_t)n, sizeof(*conns));
	int rc = 0;

	if (!conns) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		if (!(conns[i] = mreg_pool_acquire(pool, err)))
			rc = -1;
	for (int i = 0; i < n; i++)
		if (conns[i])
			mreg_pool_release(pool, conns[i]);
	free(conns);
	return rc;
}

/* The pool of the run: one connection for --cleanup and per request. */
struct mreg_pool *bench_open_pool(struct cli_ctx *ctx,
				  const struct bench_opts *o, bool prepared,
				  struct mreg_error *err)
{
	struct mreg_pool_config pcfg = { 0 };

	pcfg.max_size = o->cpr || o->cleanup ? 1 : (int)o->pool_size;
	pcfg.acquire_timeout_ms = (int)(o->pool_timeout * 1000);
	if (pcfg.acquire_timeout_ms <= 0)
		pcfg.acquire_timeout_ms = 1;
	if (prepared)
		pcfg.prepare = mreg_bench_statements(&pcfg.nprepare);
	return cli_pool_config(ctx, &pcfg, err);
}

int bench_pick_protocol(struct cli_ctx *ctx, bool *prepared)
{
	struct mreg_connector c;
	struct mreg_pooled pd;
	struct mreg_error err;
	PGconn *pg = NULL;
	int rc = -1;

	mreg_error_clear(&err);
	if (mreg_connector_init(&c, ctx->dsn, ctx->appname, 0, &err) < 0)
		return cli_report(ctx, &err);
	if (!(pg = mreg_db_connect(&c, &err)) ||
	    mreg_conn_pooled(pg, &pd, &err) < 0)
		rc = cli_report(ctx, &err);
	else if (pd.pooled) {
		*prepared = false;
		cli_verbose(ctx, "a transaction-mode pooler (port %s, the "
			    "server's %s%s): unnamed statements, as "
			    "--protocol extended", pd.client_port,
			    pd.server_port[0] ? pd.server_port : "?",
			    pd.overridden ? ", as MREG_POOLED says" : "");
	}
	if (pg)
		PQfinish(pg);
	mreg_connector_finish(&c);
	return rc;
}

int bench_open_read_pool(struct cli_ctx *ctx, const struct bench_opts *o,
			 bool prepared, struct mreg_pool **pool)
{
	const char *dsn = o->read_dsn ? o->read_dsn : ctx->read_dsn;
	struct mreg_pool_config pcfg = { 0 };
	struct mreg_error err;
	int n = o->clients < o->pool_size ? (int)o->clients : (int)o->pool_size;

	*pool = NULL;
	if (!dsn || o->import || o->cleanup)
		return -1;
	if (o->cpr)
		return cli_usage(ctx, "--read-dsn needs the pool: not with "
				      "--connect-per-request");
	pcfg.dsn = dsn;
	pcfg.application_name = ctx->appname;
	pcfg.max_size = (int)o->pool_size;
	pcfg.acquire_timeout_ms = (int)(o->pool_timeout * 1000);
	if (pcfg.acquire_timeout_ms <= 0)
		pcfg.acquire_timeout_ms = 1;
	if (prepared)
		pcfg.prepare = mreg_bench_statements(&pcfg.nprepare);
	mreg_error_clear(&err);
	if (!(*pool = mreg_pool_create(&pcfg, &err)) ||
	    bench_warm_pool(*pool, n, &err) < 0) {
		mreg_pool_destroy(*pool);
		*pool = NULL;
		return cli_report(ctx, &err);
	}
	cli_verbose(ctx, "read workloads on %s (pool of %d)",
		    mreg_pool_dsn_redacted(*pool), pcfg.max_size);
	return -1;
}

/* Populate, check, load the parameters (see bench-cmd.h). */
int bench_prepare_data(struct cli_ctx *ctx, const struct bench_opts *o,
		       struct mreg_conn *conn, struct mreg_bench_data *data,
		       bool *made)
{
	struct mreg_error err;
	double t;

	if (o->populate) {
		t = bench_mono_s();
		if (mreg_bench_populate(conn, o->populate, o->force_populate,
					cli_actor(ctx), &err) < 0)
			return cli_report(ctx, &err);
		*made = true;
		cli_verbose(ctx, "populated %ld synthetic models in %.2f s",
			    o->populate, bench_mono_s() - t);
	}
	if (o->import) {
		/* the imported models are bench data: the same rule */
		if (mreg_bench_check_registry(conn, o->force_populate,
					      "run the import workload",
					      &err) < 0)
			return cli_report(ctx, &err);
		*made = true; /* from here on, clean up after the run */
	}
	if (mreg_bench_data_load(conn, o->weights, data, &err) < 0)
		return cli_report(ctx, &err);
	if (o->type) {
		mreg_bench_data_only_type(data, o->type);
		if ((o->weights[MREG_BENCH_GET_DEFAULT] && data->ntypes == 0) ||
		    (o->weights[MREG_BENCH_LIST] && data->nlist_types == 0))
			return cli_fail(ctx, MREG_EXIT_DATA, "type \"%s\" has %s",
					o->type,
					data->nlist_types ||
							!o->weights[MREG_BENCH_LIST]
						? "no default model"
						: "no models");
	}
	return -1;
}

/* The run's configuration from the options. */
void bench_fill_config(struct cli_ctx *ctx, const struct bench_opts *o,
		       struct mreg_pool *pool,
		       const struct mreg_bench_data *data,
		       struct bench_run_info *ri, struct mreg_bench_config *cfg)
{
	const char *tmp;

	cfg->pool = pool;
	cfg->connect_per_request = o->cpr;
	cfg->dsn = ctx->dsn;
	cfg->application_name = ctx->appname;
	cfg->prepared = ri->prepared;
	cfg->clients = (int)o->clients;
	cfg->threads = (int)o->threads;
	cfg->duration_s = o->duration;
	cfg->transactions = o->transactions;
	cfg->warmup_s = o->warmup;
	cfg->rate = o->rate;
	memcpy(cfg->weights, o->weights, sizeof(cfg->weights));
	cfg->data = data;
	cfg->actor = cli_actor(ctx);
	cfg->seed = o->seed;
	cfg->latency_log = ri->log_fd >= 0;
	cfg->latency_log_fd = ri->log_fd;
	if (!o->import)
		return;
	tmp = getenv("TMPDIR");
	cfg->import_parent = tmp && *tmp ? tmp : "/tmp";
	cfg->import_files = o->import_files;
	cfg->import_change_pct = o->import_change;
	cfg->import_jobs = (int)o->threads;
	cfg->threads = (int)o->clients;
	ri->threads = (int)o->clients;
	ri->import_jobs = (int)o->threads;
	ri->per_request = mreg_bench_import_per_request(cfg);
	cli_verbose(ctx, "import: %ld files per client under \"%s\", "
			 "%ld rewritten per request",
		    o->import_files, cfg->import_parent, ri->per_request);
}

/* The pool's counters during the run: after minus before. */
static void pool_delta(struct mreg_pool_stats *d,
		       const struct mreg_pool_stats *before,
		       const struct mreg_pool_stats *after)
{
	*d = *after;
	d->created = after->created - before->created;
	d->acquires = after->acquires - before->acquires;
	d->waits = after->waits - before->waits;
	d->timeouts = after->timeouts - before->timeouts;
	d->broken = after->broken - before->broken;
	d->connect_failures = after->connect_failures - before->connect_failures;
	d->wait_total_ms = after->wait_total_ms - before->wait_total_ms;
}

/* Without --keep the bench data goes after the run; rc, or 1 if not. */
int bench_remove_data(struct cli_ctx *ctx, struct mreg_pool *pool, int rc)
{
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);
	long n = conn ? mreg_bench_cleanup(conn, cli_actor(ctx), &err) : -1;

	if (conn)
		mreg_pool_release(pool, conn);
	if (n >= 0)
		return rc;
	cli_report(ctx, &err);
	cli_warn(ctx, "the bench data is still there: "
		      "remove it with 'mreg bench --cleanup'");
	return MREG_EXIT_FAILURE;
}

/* Measure and report; an exit status. */
int bench_measure(struct cli_ctx *ctx, const struct bench_opts *o,
		  struct mreg_pool *pool, const struct mreg_bench_config *cfg,
		  struct bench_run_info *ri)
{
	struct mreg_bench_result res = { 0 };
	struct mreg_pool_stats before, after;
	int rc;

	json_object_seed(0);
	mreg_pool_get_stats(pool, &before);
	rc = bench_run_load(ctx, o, cfg, &res);
	if (rc == 0)
		bench_metrics(ri, &res);
	if (rc == 0) {
		mreg_pool_get_stats(pool, &after);
		ri->have_pool = true;
		pool_delta(&ri->pool, &before, &after);
		bench_judge(ri, &res);
		if (o->json)
			bench_print_json(ri, &res);
		else
			bench_print_table(ri, &res);
		fflush(stdout);
		rc = bench_explain(ctx, ri, &res);
	}
	mreg_bench_result_finish(&res);
	return rc;
}
