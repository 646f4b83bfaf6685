/* bench-import.c - the import workload of 'mreg bench': one thread per
 * client, each with its own generated tree and source; a request rewrites
 * some files and runs a whole import (mreg_import_run) on a pooled
 * connection */
#include "bench-impl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "import.h"

/* --- the import workload -------------------------------------------------- */

long mreg_bench_import_per_request(const struct mreg_bench_config *cfg)
{
	double n;

	if (!cfg->weights[MREG_BENCH_IMPORT] || cfg->import_files < 1)
		return 0;
	n = (double)cfg->import_files * cfg->import_change_pct / 100.0 + 0.5;
	if (n < 1)
		return 1;
	if (n > (double)cfg->import_files)
		return cfg->import_files;
	return (long)n;
}

const char *mreg_bench_import_dir(const struct mreg_bench *b)
{
	return b ? b->import_dir : NULL;
}

/* The kind of a failed import on conn (NULL: no connection). */
static int import_error_kind(const struct mreg_conn *conn,
			     const struct mreg_error *err)
{
	if (err->status == MREG_EXIT_LOCKED)
		return MREG_BENCH_ERR_CONFLICT;
	if (conn && PQstatus(conn->pg) != CONNECTION_OK)
		return MREG_BENCH_ERR_DISCONNECT;
	return mreg_bench_classify(err);
}

/*
 * One import of the client's tree on a pooled connection; counts and the
 * first bad file's message in out/problem.  The kind of error, or -1.
 */
static int import_once(struct bench_worker *w, struct mreg_import_counts *out,
		       char *problem, size_t len, struct mreg_error *err)
{
	struct mreg_bench *b = w->b;
	bool timed_out;
	struct mreg_conn *conn = mreg_pool_acquire_timed(b->cfg.pool,
							 &timed_out, err);
	int kind = -1;

	if (!conn)
		return timed_out ? MREG_BENCH_ERR_POOL_TIMEOUT
				 : MREG_BENCH_ERR_CONNECT;
	if (mreg_bench_tree_import(&w->tree, conn,
				   b->cfg.actor ? b->cfg.actor : "mreg bench",
				   b->cfg.import_jobs, out, problem, len,
				   err) < 0)
		kind = import_error_kind(conn, err);
	mreg_pool_release(b->cfg.pool, conn);
	return kind;
}

/* Write the tree and import it once, unrecorded. */
static int import_setup(struct bench_worker *w, struct mreg_error *err)
{
	struct mreg_bench *b = w->b;
	struct mreg_import_counts n;
	char problem[512];

	if (mreg_bench_tree_create(&w->tree, b->import_dir,
				   w->clients[0].index, b->cfg.import_files,
				   err) < 0)
		return -1;
	if (import_once(w, &n, problem, sizeof(problem), err) >= 0) {
		mreg_error_prefix(err, "initial import of \"%s\"", w->tree.path);
		return -1;
	}
	if (n.failed > 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "initial import of \"%s\": %ld files failed: %s",
			       w->tree.path, n.failed, problem);
		return -1;
	}
	return 0;
}

/*
 * One request: rewrite the next files, then import the tree (the clock
 * runs from after the rewrite).  The import must update exactly the files
 * rewritten (plus, after a failed request, up to those rewritten then),
 * add none and find no bad file.
 */
static void import_request(struct bench_worker *w, bool recording)
{
	struct mreg_bench *b = w->b;
	struct bench_client *c = &w->clients[0];
	struct mreg_import_counts n;
	long want = b->per_request, most;
	long long intended, end;
	char problem[512];

	c->failed = false;
	mreg_error_clear(&c->err);
	if (mreg_bench_tree_change(&w->tree, want, &c->err) < 0) {
		intended = now_ns();
		bench_fail(c, MREG_BENCH_ERR_RESULT);
		goto done;
	}
	most = w->carried + want;
	if (most > w->tree.files)
		most = w->tree.files;
	w->carried = most;
	intended = now_ns();
	c->kind = import_once(w, &n, problem, sizeof(problem), &c->err);
	if (c->kind >= 0) {
		c->failed = true;
		goto done;
	}
	w->carried = 0;
	if (n.failed > 0 || n.added > 0 || n.updated < want ||
	    n.updated > most) {
		mreg_error_set(&c->err, MREG_EXIT_FAILURE,
			       "import updated %ld models for %ld rewritten files"
			       " (added %ld, failed %ld)%s%s", n.updated, want,
			       n.added, n.failed, problem[0] ? ": " : "",
			       problem);
		bench_fail(c, MREG_BENCH_ERR_RESULT);
	}
done:
	end = now_ns();
	if (c->failed && (c->kind == MREG_BENCH_ERR_CONNECT ||
			  c->kind == MREG_BENCH_ERR_DISCONNECT ||
			  c->kind == MREG_BENCH_ERR_RESULT))
		c->next_ns = end + BACKOFF_NS; /* do not spin on a dead server */
	if (recording)
		mreg_bench_record(w, c->index, MREG_BENCH_IMPORT, c->failed,
				  c->kind, c->err.message, intended, intended,
				  end);
}

/* One client of the import workload: set up, wait for the start, run. */
void *mreg_bench_import_main(void *arg)
{
	struct bench_worker *w = arg;
	struct mreg_bench *b = w->b;
	struct bench_client *c = &w->clients[0];
	struct mreg_error err;
	bool ok;

	mreg_error_clear(&err);
	ok = import_setup(w, &err) == 0;
	pthread_mutex_lock(&b->setup_lock);
	if (ok) {
		b->setup_ready++;
	} else {
		if (!b->setup_failed++)
			b->setup_err = err;
	}
	pthread_cond_broadcast(&b->setup_cond);
	while (ok && !b->go && !atomic_load(&b->stop))
		pthread_cond_wait(&b->setup_cond, &b->setup_lock);
	pthread_mutex_unlock(&b->setup_lock);

	while (ok && !atomic_load(&b->stop)) {
		long long now = now_ns();
		bool recording;

		if (now >= b->end_ns)
			break;
		if (c->next_ns > now) {
			long long wait = c->next_ns - now;

			sleep_ns(wait < TICK_NS ? wait : TICK_NS);
			continue;
		}
		recording = now >= b->measure_ns;
		if (recording && b->cfg.transactions > 0 &&
		    atomic_fetch_sub(&b->tickets, 1) <= 0)
			break;
		import_request(w, recording);
	}
	w->finished_ns = now_ns();
	atomic_fetch_sub(&b->running, 1);
	return NULL;
}

int mreg_bench_check_import_config(const struct mreg_bench_config *cfg,
				   struct mreg_error *err)
{
	const char *why = NULL;

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (i != MREG_BENCH_IMPORT && cfg->weights[i])
			why = "import runs alone: it cannot be part of a mix";
	if (cfg->clients < 1)
		why = "no clients";
	else if (cfg->rate > 0)
		why = "import runs closed loop only (no rate)";
	else if (cfg->connect_per_request || !cfg->pool)
		why = "import runs on pooled connections";
	else if (cfg->import_files < 1 || cfg->import_jobs < 1)
		why = "import needs files and worker threads";
	else if (!(cfg->import_change_pct > 0) || cfg->import_change_pct > 100)
		why = "import's change must be above 0 and at most 100 percent";
	else if (!cfg->import_parent || !cfg->import_parent[0])
		why = "import needs a directory for its trees";
	else if (cfg->duration_s <= 0 && cfg->transactions <= 0)
		why = "neither a duration nor a transaction count";
	if (why) {
		mreg_error_set(err, MREG_EXIT_USAGE, "%s", why);
		return -1;
	}
	return 0;
}

/* import: the run's private directory and the setup rendezvous. */
int mreg_bench_import_prepare(struct mreg_bench *b, struct mreg_error *err)
{
	static const char tail[] = "/mreg-bench.XXXXXX";
	size_t len = strlen(b->cfg.import_parent) + sizeof(tail);
	char ebuf[128];

	b->per_request = mreg_bench_import_per_request(&b->cfg);
	if (!(b->import_dir = malloc(len))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	snprintf(b->import_dir, len, "%s%s", b->cfg.import_parent, tail);
	if (!mkdtemp(b->import_dir)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not create a directory in \"%s\": %s",
			       b->cfg.import_parent,
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		free(b->import_dir);
		b->import_dir = NULL;
		return -1;
	}
	pthread_mutex_init(&b->setup_lock, NULL);
	pthread_cond_init(&b->setup_cond, NULL);
	b->setup_sync = true;
	return 0;
}

/*
 * import: wait until every client wrote and imported its tree, then
 * start the clock and let them go; -1 with the first failure.
 */
int mreg_bench_import_wait_setup(struct mreg_bench *b, struct mreg_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&b->setup_lock);
	while (b->setup_ready + b->setup_failed < b->nworkers)
		pthread_cond_wait(&b->setup_cond, &b->setup_lock);
	if (b->setup_failed) {
		*err = b->setup_err;
		atomic_store(&b->stop, true);
		rc = -1;
	} else {
		b->t0_ns = now_ns();
		b->measure_ns = b->t0_ns +
				(long long)(b->cfg.warmup_s * NS_PER_S);
		b->end_ns = b->cfg.duration_s > 0
				    ? b->measure_ns +
					      (long long)(b->cfg.duration_s * NS_PER_S)
				    : LLONG_MAX;
		b->last_interval_ns = b->t0_ns;
		b->go = true;
	}
	pthread_cond_broadcast(&b->setup_cond);
	pthread_mutex_unlock(&b->setup_lock);
	return rc;
}
