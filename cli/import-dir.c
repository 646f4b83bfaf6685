/* import-dir.c - mreg import-dir: bring the registry in line with a tree
 *
 * This file parses the options into the run's one struct
 * mreg_import_config, runs the pipeline (mreg_import_run; the map of its
 * files is in common/import.h), taking the source's lock
 * (common/source-lock.c) with the import's connection in its prepare step
 * while the walk starts, and says what happened: progress, problems and
 * the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "hashcache.h"
#include "import-dir-plan.h"
#include "import-dir-report.h"
#include "import-scan.h"
#include "import.h"
#include "import-dir-progress.h"
#include "modelfile.h"
#include "run-metrics.h"
#include "source.h"
#include "utf8.h"
#include "walk.h"

enum {
	OPT_PATTERN = 256, OPT_SOURCE, OPT_JOBS, OPT_MAX_FILE_SIZE, OPT_REHASH,
	OPT_STRICT, OPT_DRY_RUN, OPT_PRUNE, OPT_WAIT, OPT_PROGRESS,
	OPT_BATCH_SIZE, OPT_FOLLOW_EXTERNAL, OPT_METRICS_FILE, OPT_PLAN,
	OPT_PRUNE_MAX, OPT_WRITERS,
};

static const struct cli_option options[] = {
	CLI_GROUP("What to import"),
	{ OPT_PATTERN, 0, "pattern", "GLOB",
	  "files to import (default *.json)" },
	{ OPT_SOURCE, 0, "source", "NAME",
	  "name the source (default: DIR's real path)" },
	{ OPT_MAX_FILE_SIZE, 0, "max-file-size", "BYTES",
	  "reject larger files (default 1M)" },
	{ OPT_FOLLOW_EXTERNAL, 0, "follow-external-links", NULL,
	  "follow symbolic links out of DIR (unsafe in shared trees)" },
	CLI_GROUP("How"),
	{ OPT_JOBS, 'j', "jobs", "N", "worker threads (default: the CPUs)" },
	{ OPT_BATCH_SIZE, 0, "batch-size", "N",
	  "files per database transaction (default 1000)" },
	{ OPT_WRITERS, 0, "writers", "N",
	  "write up to N batches at once, each on its own connection "
	  "(default 2)" },
	{ OPT_REHASH, 0, "rehash", NULL,
	  "ignore the content-hash cache: read every file" },
	{ OPT_STRICT, 0, "strict", NULL,
	  "any bad file aborts the run, nothing is written" },
	{ OPT_DRY_RUN, 0, "dry-run", NULL,
	  "do everything but commit; list what would change" },
	{ OPT_PLAN, 0, "plan", NULL,
	  "show what would change, field by field; write nothing "
	  "(exit 5: changes pending)" },
	{ OPT_PRUNE, 0, "prune", NULL,
	  "deactivate the models of files that disappeared" },
	{ OPT_PRUNE_MAX, 0, "prune-max", "N|P%",
	  "let --prune deactivate up to N models, or P% of the source's "
	  "models "
	  "(default: 10% or 50, whichever is more)" },
	{ OPT_WAIT, 0, "wait", "[=DURATION]",
	  "wait for another import of the same source: as long as it takes, "
	  "or up to DURATION (then exit 4)" },
	CLI_GROUP("Output"),
	{ 'o', 'o', "format", "FORMAT",
	  "summary as text (default) or json, on stdout" },
	{ OPT_PROGRESS, 0, "progress", NULL,
	  "show progress on stderr even when not a terminal" },
	{ 'q', 'q', "quiet", NULL, "no progress and no text summary" },
	{ OPT_METRICS_FILE, 0, "metrics-file", "PATH",
	  "write the run's metrics to PATH (node_exporter textfile)" },
	CLI_END,
};

const struct cli_spec cmd_import_dir_spec = {
	.usage = "[options] DIR",
	.description = "Import a tree of model files into the registry.",
	.options = options,
	.epilogue =
		"Exit status: 0 all files imported, 3 some files were bad (the\n"
		"others were imported) or --prune was refused (nothing written),\n"
		"4 another import of the source is running (with --wait=DURATION:\n"
		"still after DURATION), 1 runtime or database error.  --plan: 0\n"
		"nothing would change, 5 changes pending, 3 bad files or a refused\n"
		"prune.  The file format: mreg-model(5).",
};

/* One run of the command: its options, the tree and what is shown. */
struct run {
	struct cli_ctx *ctx;
	struct mreg_import_config cfg; /* filled once, then read const */
	/* options of the command alone */
	bool force_progress, quiet, json;
	bool waited;                /* the lock was busy at first */
	double wait_s;          /* --wait: 0 none, MREG_WAIT_FOREVER */
	struct cli_metrics metrics;
	char *label_root;       /* DIR as the user wrote it, without the
				   trailing slashes */
	char real[PATH_MAX];    /* DIR's canonical path */
	/* while the import runs */
	pthread_mutex_t print_lock;
	bool show_progress;
	struct import_progress progress;
	struct timespec t0;
	struct import_report report; /* the summary's lists */
	char refusal[2048];     /* the prune guard's, or "" */
};

static int parse_size(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'M')
		v *= 1024 * 1024, end++;
	else if (*end == 'G')
		v *= 1024LL * 1024 * 1024, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* The options with an argument. */
static int on_value(struct run *run, int id, const char *arg)
{
	struct mreg_import_config *cfg = &run->cfg;
	const char *why;
	char why_buf[64];
	long n;

	switch (id) {
	case OPT_PATTERN:
		if (!*arg)
			return cli_usage(run->ctx, "--pattern: empty pattern");
		cfg->pattern = arg;
		return 0;
	case OPT_SOURCE:
		why = mreg_source_name_problem(arg, true, why_buf,
					       sizeof(why_buf));
		if (why)
			return cli_usage(run->ctx, "--source: %s", why);
		cfg->source = arg;
		return 0;
	case OPT_JOBS:
	case 'j':
		if (cli_parse_long(arg, 1, 256, &n) < 0)
			return cli_usage(run->ctx,
					 "--jobs: \"%s\" is not a number from 1 to 256",
					 arg);
		cfg->jobs = (int)n;
		return 0;
	case OPT_WRITERS:
		if (cli_parse_long(arg, 1, MREG_IMPORT_MAX_WRITERS, &n) < 0)
			return cli_usage(run->ctx,
					 "--writers: \"%s\" is not a number from 1 to %d",
					 arg, MREG_IMPORT_MAX_WRITERS);
		cfg->writers = (int)n;
		return 0;
	case OPT_BATCH_SIZE:
		if (cli_parse_long(arg, 1, 100000, &cfg->batch_size) < 0)
			return cli_usage(run->ctx,
					 "--batch-size: \"%s\" is not a number from 1 to 100000",
					 arg);
		return 0;
	case OPT_MAX_FILE_SIZE:
		if (parse_size(arg, &cfg->max_file_size) < 0 ||
		    cfg->max_file_size < 1)
			return cli_usage(run->ctx,
					 "--max-file-size: \"%s\" is not a size",
					 arg);
		return 0;
	case 'o':
		return cli_parse_report_format(run->ctx, arg, "text",
					       &run->json);
	case OPT_METRICS_FILE:
		return cli_metrics_path(run->ctx, &run->metrics, arg);
	case OPT_PRUNE_MAX:
		if (import_plan_parse_prune_max(arg, &cfg->prune_max,
						&cfg->prune_max_percent) < 0)
			return cli_usage(run->ctx, "--prune-max: \"%s\" is not a count or a percentage (try 200 or 25%%)",
					 arg);
		return 0;
	case OPT_WAIT: /* --wait=DURATION */
		if (cli_parse_duration(arg, &run->wait_s) < 0)
			return cli_usage(run->ctx, "--wait: invalid duration "
						   "'%s' (try 30s, 500ms, 2m)",
					 arg);
		return 0;
	}
	return cli_usage(run->ctx, "unexpected option");
}

static int on_option(void *state, int id, const char *arg)
{
	struct run *run = state;

	switch (id) {
	case OPT_REHASH: run->cfg.rehash = true; break;
	case OPT_STRICT: run->cfg.strict = true; break;
	case OPT_DRY_RUN: run->cfg.dry_run = true; break;
	case OPT_PLAN: run->cfg.plan = run->cfg.dry_run = true; break;
	case OPT_PRUNE: run->cfg.prune = true; break;
	case OPT_FOLLOW_EXTERNAL: run->cfg.follow_external = true; break;
	case OPT_WAIT:
		if (arg)
			return on_value(run, id, arg);
		run->wait_s = MREG_WAIT_FOREVER;
		break;
	case OPT_PROGRESS: run->force_progress = true; break;
	case 'q': run->quiet = true; break;
	default: return on_value(run, id, arg);
	}
	return 0;
}

/* --- shared state -------------------------------------------------------- */

static double elapsed_s(const struct run *run)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - run->t0.tv_sec) +
	       (double)(t.tv_nsec - run->t0.tv_nsec) / 1e9;
}

/* --- progress (import-dir-progress.c) ----------------------------------- */

static void progress_clear(struct run *run)
{
	import_progress_clear(&run->progress);
}

/* The scan runs: say what the cache holds, start the progress line. */
static void on_started(void *arg, const struct mreg_scan *scan)
{
	struct run *run = arg;

	if (!scan->clock.from_fs)
		cli_verbose(run->ctx, "\"%s\" is not writable: racy boundary from the system clock",
			    run->label_root);
	cli_verbose(run->ctx, "source \"%s\": %zu files recorded (loaded at %.3f s)",
		    run->cfg.source, mreg_cache_count(scan->cache), elapsed_s(run));
	if (run->show_progress)
		import_progress_start(&run->progress, scan, &run->cfg,
				      &run->print_lock, &run->t0);
}

/* The import is over: a log gets the final counts, a terminal loses the
 * line. */
static void on_ended(void *arg, const struct mreg_scan *scan)
{
	struct run *run = arg;

	(void)scan;
	import_progress_end(&run->progress);
}

/* --- what the importer tells ------------------------------------------- */

/* "DIR/rel: text" or "DIR/rel:L:C: text" on stderr. */
static void on_file(void *arg, const char *rel, const char *text,
		    bool warning)
{
	struct run *run = arg;
	char label[PATH_MAX + 64];
	const char *sep = text[0] >= '0' && text[0] <= '9' ? ":" : ": ";

	snprintf(label, sizeof(label), "%s/%s", run->label_root, rel);
	pthread_mutex_lock(&run->print_lock);
	progress_clear(run);
	if (warning) {
		cli_warn(run->ctx, "%s%s%s", label, sep, text);
	} else {
		/* status 0: a bad file is counted in the summary, it is not
		 * the error of the run (cli/json-errors.h) */
		cli_fail(run->ctx, 0, "%s%s%s", label, sep, text);
		import_report_failure(&run->report, label, text);
	}
	pthread_mutex_unlock(&run->print_lock);
}

static void on_warn(void *arg, const char *text)
{
	struct run *run = arg;

	pthread_mutex_lock(&run->print_lock);
	progress_clear(run);
	cli_warn(run->ctx, "%s", text);
	pthread_mutex_unlock(&run->print_lock);
}

static void on_changed(void *arg, bool create, const char *resource,
		       const char *rel)
{
	struct run *run = arg;
	char label[PATH_MAX + 64];

	if (run->cfg.dry_run && !run->cfg.plan && !run->json && !run->quiet) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		cli_printf(stdout, "would %s %s (%s/%s)\n",
			   create ? "add" : "update", resource,
			   run->label_root, rel);
		pthread_mutex_unlock(&run->print_lock);
	}
	snprintf(label, sizeof(label), "%s/%s", run->label_root, rel);
	import_report_change(&run->report, create ? "add" : "update",
			     resource, label);
}

static void on_deactivated(void *arg, int n, const char *const *resources,
			   const char *const *rels)
{
	struct run *run = arg;
	char label[PATH_MAX + 64];
	int k;

	for (k = 0; k < n; k++) {
		snprintf(label, sizeof(label), "%s/%s", run->label_root,
			 rels[k]);
		import_report_change(&run->report, "prune", resources[k],
				     label);
	}
	if (!run->json && !run->quiet) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		for (k = 0; k < n; k++)
			if (run->cfg.plan)
				import_plan_print_deactivate(run->label_root,
							     resources[k],
							     rels[k]);
			else
				cli_printf(stdout, "%s %s (%s/%s gone)\n",
					   run->cfg.dry_run ? "would deactivate"
							   : "deactivated",
					   resources[k], run->label_root,
					   rels[k]);
		pthread_mutex_unlock(&run->print_lock);
	}
}

/* --plan: a model the import would add or update, its fields. */
static void on_planned(void *arg, bool create, const char *resource,
		       const char *rel, const char *fields)
{
	struct run *run = arg;
	char label[PATH_MAX + 64];

	snprintf(label, sizeof(label), "%s/%s", run->label_root, rel);
	import_report_plan_item(&run->report, create ? "add" : "update",
				resource, label, fields);
	if (run->json || run->quiet)
		return;
	pthread_mutex_lock(&run->print_lock);
	progress_clear(run);
	import_plan_print_change(run->label_root, create, resource, rel,
				 fields);
	pthread_mutex_unlock(&run->print_lock);
}

/* The prune guard refused: the run's error (exit 3), said at the end. */
static void on_prune_refused(void *arg, const char *text, long would,
			     long limit)
{
	struct run *run = arg;

	import_report_refusal(&run->report, text, would, limit);
	snprintf(run->refusal, sizeof(run->refusal), "%s", text);
}

/* --- the command --------------------------------------------------------- */

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : n;
}

/* The lock is held: say so once, unless --quiet. */
static void on_waiting(void *arg, const char *holder)
{
	struct run *run = arg;

	run->waited = true;
	if (!run->quiet)
		cli_fail(run->ctx, 0,
			 "waiting for another import of \"%s\" (%s)",
			 run->cfg.source, holder);
}

/*
 * Take the source's lock with *conn (replaced from pool if lost while the
 * run waits) and keep it beating (on a connection of pool's, *lock); the
 * exit status on failure.
 */
static int take_lock(struct run *run, struct mreg_pool *pool,
		     struct mreg_conn **conn, struct mreg_source_lock **lock)
{
	const struct mreg_lock_wait w = { run->wait_s, on_waiting, run };
	struct mreg_error err;
	int lk;

	mreg_error_clear(&err);
	lk = mreg_source_lock(conn, pool, run->cfg.source, &w, lock, &err);
	if (lk == 1 && mreg_source_lock_keep(*lock, pool, &err) == 0)
		return 0;
	if (lk == 1) {
		struct mreg_error ignored; /* reporting the first error */

		mreg_error_clear(&ignored);
		mreg_source_unlock(*lock, &ignored);
		*lock = NULL;
	} else if (lk == 0 && run->wait_s == 0)
		mreg_error_hint(&err, "Use --wait to wait for it to finish.");
	else if (lk == 0)
		mreg_error_hint(&err, "Wait longer (--wait=DURATION), or with "
				      "no limit (--wait).");
	return cli_report(run->ctx, &err);
}

/*
 * Open DIR (argument dir) and resolve it; name the source after its real
 * path unless --source did.  -1 when done, else the exit status.
 */
static int open_tree(struct run *run, const char *dir)
{
	struct mreg_import_config *cfg = &run->cfg;
	char ebuf[128], why_buf[64];
	const char *why;
	size_t n;

	run->label_root = strdup(dir);
	if (!run->label_root)
		return cli_fail(run->ctx, MREG_EXIT_FAILURE, "out of memory");
	n = strlen(run->label_root);
	while (n > 1 && run->label_root[n - 1] == '/')
		run->label_root[--n] = '\0';
	cfg->label_root = run->label_root;
	cfg->rootfd = open(run->label_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfg->rootfd < 0)
		return cli_fail(run->ctx, MREG_EXIT_DATA,
				"could not open directory \"%s\": %s",
				run->label_root,
				mreg_strerror(errno, ebuf, sizeof(ebuf)));
	/* the tree's real path bounds what the import may read */
	if (mreg_dir_realpath(cfg->rootfd, run->real, sizeof(run->real)) < 0)
		return cli_fail(run->ctx, MREG_EXIT_DATA,
				"could not resolve \"%s\": %s", run->label_root,
				mreg_strerror(errno, ebuf, sizeof(ebuf)));
	cfg->root_real = run->real;
	if (cfg->source)
		return -1;
	why = mreg_source_name_problem(run->real, false, why_buf,
				       sizeof(why_buf));
	if (why)
		return cli_usage(run->ctx, "the real path of \"%s\" cannot name the source: %s; name it with --source",
				 run->label_root, why);
	cfg->source = run->real;
	return -1;
}

/* The exit status: bad files or a refused prune 3; with --plan 5 when
 * anything would change. */
static int plan_status(const struct mreg_import_config *cfg,
		       const struct mreg_import_counts *c)
{
	if (c->failed > 0 || c->prune_refused > 0)
		return MREG_EXIT_DATA;
	if (cfg->plan && c->added + c->updated + c->pruned > 0)
		return MREG_EXIT_PENDING;
	return MREG_EXIT_OK;
}

/* Run the import on conn and say how it went: the exit status. */
static int import(struct run *run)
{
	struct mreg_import_config *cfg = &run->cfg;
	struct mreg_import_counts counts;
	struct mreg_error err;
	int status;

	mreg_error_clear(&err);
	run->report = (struct import_report){ .json = run->json,
					      .dry_run = cfg->dry_run,
					      .plan = cfg->plan,
					      .quiet = run->quiet };
	json_object_seed(0); /* before any thread uses jansson */
	run->show_progress = !run->quiet &&
			     (run->force_progress || cli_isatty(stderr));
	cfg->actor = cli_actor(run->ctx);
	cfg->ev = (struct mreg_import_events){ run, on_file, on_warn,
					       on_changed, on_deactivated,
					       on_planned, on_prune_refused };
	cfg->started = on_started;
	cfg->ended = on_ended;
	if (mreg_import_run(cfg, &counts, &err) < 0)
		return cli_report(run->ctx, &err);
	if (counts.stopped)
		return counts.stopped; /* reported by connect_and_lock */
	cli_metrics_import(&run->metrics, &counts, cfg->dry_run);
	if (counts.prune_refused > 0) {
		cli_fail(run->ctx, MREG_EXIT_DATA, "%s", run->refusal);
		cli_hint(counts.scanned == 0
				 ? "Check the checkout; to deactivate them all, give --prune-max 100%%."
				 : "Check the tree; to allow it, give --prune-max N or --prune-max P%%.");
	} else if (counts.aborted) {
		cli_fail(run->ctx, MREG_EXIT_DATA,
			 "nothing imported: %ld bad file%s (--strict)",
			 counts.failed, counts.failed == 1 ? "" : "s");
	}
	status = plan_status(cfg, &counts);
	import_report_print(&run->report, cfg->source, &counts,
			    elapsed_s(run), status);
	return status;
}

/* connect_and_lock's status when it took the lock after waiting for it */
#define WALK_AGAIN (-100)

/* The connection and the lock of a run, for connect_and_lock. */
struct locking {
	struct run *run;
	struct mreg_pool *pool;
	struct mreg_conn *conn;
	struct mreg_source_lock *lock;
};

/*
 * The import's prepare step (import.h), while the walk runs: open the
 * import's connection and take the source's lock with it (the heartbeat
 * gets a connection of its own only if the run lasts that long); 0 with
 * both in the config, else the exit status (the error reported).
 * lock_and_import releases what it took.
 */
static int connect_and_lock(void *arg)
{
	struct locking *lk = arg;
	struct run *run = lk->run;
	struct mreg_error err;
	int status;

	mreg_error_clear(&err);
	/* the pool checks the DSN with libpq, which loads while the walk
	 * has already started (a few ms of libraries) */
	if (!lk->pool && !(lk->pool = cli_pool(run->ctx, 1 + run->cfg.writers,
					      &err)))
		return cli_report(run->ctx, &err);
	lk->conn = mreg_pool_acquire(lk->pool, &err);
	if (!lk->conn)
		return cli_report(run->ctx, &err);
	status = take_lock(run, lk->pool, &lk->conn, &lk->lock);
	if (status != 0)
		return status;
	cli_verbose(run->ctx, "lock on \"%s\" taken at %.3f s",
		    run->cfg.source, elapsed_s(run));
	run->cfg.lock_token = mreg_source_lock_token(lk->lock);
	run->cfg.pool = lk->pool;
	run->cfg.conn = lk->conn;
	/* the walk saw the tree as it was before the wait: walk it again */
	return run->waited ? WALK_AGAIN : 0;
}

/*
 * Import with the source's lock taken (once the walk has started:
 * connect_and_lock), release the lock: the exit status.
 */
static int lock_and_import(struct run *run)
{
	struct mreg_error err;
	struct locking lk = { .run = run };
	int status;

	mreg_error_clear(&err);
	run->cfg.prepare = connect_and_lock;
	run->cfg.prepare_arg = &lk;
	status = import(run);
	if (status == WALK_AGAIN) {
		/* the lock is held and the connection open */
		run->cfg.prepare = NULL;
		status = import(run);
	}
	run->cfg.conn = NULL;
	/* the import is over: its connection has no transaction open */
	if (lk.lock && mreg_source_unlock(lk.lock, &err) != 0)
		cli_warn(run->ctx, "the lock on \"%s\" was not released (%s): "
			 "the next import takes it over, at once on this machine, "
			 "elsewhere once stale (%d s)", run->cfg.source,
			 err.message, MREG_SOURCE_LOCK_TTL_S);
	if (lk.conn)
		mreg_pool_release(lk.pool, lk.conn);
	return status;
}

/* The metrics file, labelled with the source (or DIR before it is known). */
static int finish_metrics(struct run *run, const char *dir, int status)
{
	struct mreg_metrics *m = cli_metrics_get(&run->metrics);

	if (m)
		mreg_metrics_label(m, "source",
				   run->cfg.source ? run->cfg.source : dir);
	return cli_metrics_finish(run->ctx, &run->metrics, status);
}

int cmd_import_dir(struct cli_ctx *ctx, int argc, char **argv)
{
	struct run run = {
		.ctx = ctx,
		.cfg = { MREG_IMPORT_CONFIG_DEFAULTS, .rootfd = -1 },
	};
	int rc, argi = 0, status;

	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	cli_metrics_init(&run.metrics);
	pthread_mutex_init(&run.print_lock, NULL);
	run.cfg.jobs = (int)default_jobs();
	run.cfg.writers = MREG_IMPORT_DEFAULT_WRITERS;
	rc = cli_parse(ctx, &cmd_import_dir_spec, argc, argv, on_option, &run, &argi);
	if (rc == -1)
		cli_set_json(ctx, run.json);
	if (rc != -1)
		status = rc;
	else if ((status = open_tree(&run, argv[argi])) == -1)
		status = lock_and_import(&run);
	if (rc == -1 && status != MREG_EXIT_USAGE)
		status = finish_metrics(&run, argv[argi], status);
	if (run.cfg.rootfd >= 0)
		close(run.cfg.rootfd);
	import_report_finish(&run.report);
	free(run.label_root);
	pthread_mutex_destroy(&run.print_lock);
	return cli_finish(ctx, status);
}
