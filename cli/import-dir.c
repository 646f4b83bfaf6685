/* import-dir.c - mreg import-dir: bring the registry in line with a tree
 *
 * Pipeline: a walker thread lists the tree and consults the content-hash
 * cache; files it cannot trust go to a bounded job queue read by --jobs
 * worker threads (common/scan.c); every outcome lands on a bounded result
 * queue read by the main thread, which checks provider/name claims across
 * files and writes batches: one transaction per batch carries the model
 * rows, their audit rows and the cache rows of the files they came from
 * (common/importer.c).  common/import.c runs the pieces in order
 * (mreg_import_run, shared with the import workload of mreg bench).  A
 * session advisory lock on a second connection keeps two imports of the
 * same source apart.
 *
 * This file parses the options, takes the lock, runs the import and says
 * what happened: progress, problems and the summary.
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
#include "import.h"
#include "importer.h"
#include "modelfile.h"
#include "utf8.h"
#include "scan.h"
#include "walk.h"

enum {
	OPT_PATTERN = 256, OPT_SOURCE, OPT_JOBS, OPT_MAX_FILE_SIZE, OPT_REHASH,
	OPT_STRICT, OPT_DRY_RUN, OPT_PRUNE, OPT_WAIT, OPT_PROGRESS, OPT_FORMAT,
	OPT_BATCH_SIZE, OPT_FOLLOW_EXTERNAL,
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
	{ OPT_REHASH, 0, "rehash", NULL,
	  "ignore the content-hash cache: read every file" },
	{ OPT_STRICT, 0, "strict", NULL,
	  "any bad file aborts the run, nothing is written" },
	{ OPT_DRY_RUN, 0, "dry-run", NULL,
	  "do everything but commit; list what would change" },
	{ OPT_PRUNE, 0, "prune", NULL,
	  "deactivate the models of files that disappeared" },
	{ OPT_WAIT, 0, "wait", NULL,
	  "wait for another import of the same source" },
	CLI_GROUP("Output"),
	{ OPT_FORMAT, 0, "format", "FORMAT",
	  "summary as text (default) or json, on stdout" },
	{ OPT_PROGRESS, 0, "progress", NULL,
	  "show progress on stderr even when not a terminal" },
	{ 'q', 'q', "quiet", NULL, "no progress and no text summary" },
	CLI_END,
};

static const struct cli_spec spec = {
	.usage = "[options] DIR",
	.description = "Import a tree of model files into the registry.",
	.options = options,
	.flags = CLI_DB | CLI_ACTOR,
	.epilogue =
		"Exit status: 0 all files imported, 3 some files were bad (the\n"
		"others were imported), 4 another import of the source is running,\n"
		"1 runtime or database error.  The file format: mreg-model(5).",
};

struct opts {
	const char *pattern;
	const char *source;
	long jobs;
	long batch_size;
	long long max_file_size;
	bool rehash, strict, dry_run, prune, wait, progress, quiet, json;
	bool follow_external;
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

struct parse_state {
	struct cli_ctx *ctx;
	struct opts *o;
};

/*
 * Why name cannot be a source (it is part of mreg.source_files' primary
 * key, a btree), or NULL.  given: named with --source, where a control
 * character is a mistake.
 */
static const char *source_problem(const char *name, bool given, char *buf,
				  size_t len)
{
	size_t n = strlen(name), i;

	if (n == 0)
		return "empty name";
	if (n > MREG_SCAN_SOURCE_MAX) {
		snprintf(buf, len, "too long (%zu bytes, at most %d)", n,
			 MREG_SCAN_SOURCE_MAX);
		return buf;
	}
	if (!mreg_utf8_valid(name, n))
		return "not valid UTF-8";
	for (i = 0; given && i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

static int on_option(void *state, int id, const char *arg)
{
	struct parse_state *ps = state;
	struct opts *o = ps->o;
	const char *why;
	char why_buf[64];

	switch (id) {
	case OPT_PATTERN:
		if (!*arg)
			return cli_usage(ps->ctx, "--pattern: empty pattern");
		o->pattern = arg;
		break;
	case OPT_SOURCE:
		why = source_problem(arg, true, why_buf, sizeof(why_buf));
		if (why)
			return cli_usage(ps->ctx, "--source: %s", why);
		o->source = arg;
		break;
	case OPT_JOBS:
	case 'j':
		if (cli_parse_long(arg, 1, 256, &o->jobs) < 0)
			return cli_usage(ps->ctx,
					 "--jobs: \"%s\" is not a number from 1 to 256",
					 arg);
		break;
	case OPT_BATCH_SIZE:
		if (cli_parse_long(arg, 1, 100000, &o->batch_size) < 0)
			return cli_usage(ps->ctx,
					 "--batch-size: \"%s\" is not a number from 1 to 100000",
					 arg);
		break;
	case OPT_MAX_FILE_SIZE:
		if (parse_size(arg, &o->max_file_size) < 0 ||
		    o->max_file_size < 1)
			return cli_usage(ps->ctx,
					 "--max-file-size: \"%s\" is not a size",
					 arg);
		break;
	case OPT_REHASH: o->rehash = true; break;
	case OPT_STRICT: o->strict = true; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_PRUNE: o->prune = true; break;
	case OPT_FOLLOW_EXTERNAL: o->follow_external = true; break;
	case OPT_WAIT: o->wait = true; break;
	case OPT_PROGRESS: o->progress = true; break;
	case 'q': o->quiet = true; break;
	case OPT_FORMAT:
		return cli_parse_report_format(ps->ctx, arg, "text", &o->json);
	default:
		return cli_usage(ps->ctx, "unexpected option");
	}
	return 0;
}

/* --- shared state -------------------------------------------------------- */

struct run {
	struct cli_ctx *ctx;
	struct opts *o;
	const char *label_root; /* DIR as the user wrote it */
	char *source;
	struct mreg_scan *scan; /* while the import runs (progress) */
	pthread_mutex_t print_lock;
	bool show_progress;
	bool progress_shown;
	atomic_bool progress_stop;
	pthread_t progress;
	bool progress_started;
	struct timespec t0;
};

static double elapsed_s(const struct run *run)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - run->t0.tv_sec) +
	       (double)(t.tv_nsec - run->t0.tv_nsec) / 1e9;
}

/* --- progress ------------------------------------------------------------ */

static void progress_clear(struct run *run)
{
	if (run->progress_shown) {
		fputs(cli_isatty(stderr) ? "\r\033[K" : "\n", stderr);
		run->progress_shown = false;
	}
}

static void progress_draw(struct run *run)
{
	long scanned = atomic_load(&run->scan->scanned);
	long hashed = atomic_load(&run->scan->hashed);
	long done = atomic_load(&run->scan->done);
	double t = elapsed_s(run), rate = t > 0 ? done / t : 0;
	char eta[32] = "";

	if (atomic_load(&run->scan->walk_done) && rate > 0)
		snprintf(eta, sizeof(eta), ", ETA %.0f s",
			 (double)(scanned - done) / rate);
	if (cli_isatty(stderr))
		fputs("\r\033[K", stderr);
	else if (run->progress_shown)
		fputc('\n', stderr);
	fprintf(stderr, "scanned %ld, hashed %ld, imported %ld (%.0f files/s%s)",
		scanned, hashed, done, rate, eta);
	fflush(stderr);
	run->progress_shown = true;
}

static void *progress_main(void *arg)
{
	struct run *run = arg;
	struct timespec ts = { 0, 250 * 1000 * 1000 };
	int ticks = 0;

	while (!atomic_load(&run->progress_stop)) {
		nanosleep(&ts, NULL);
		/* a terminal gets 4 updates a second, a log one a second */
		if (!cli_isatty(stderr) && ++ticks % 4 != 0)
			continue;
		pthread_mutex_lock(&run->print_lock);
		if (!atomic_load(&run->progress_stop))
			progress_draw(run);
		pthread_mutex_unlock(&run->print_lock);
	}
	return NULL;
}

/* The scan runs: say what the cache holds, start the progress line. */
static void on_started(void *arg, struct mreg_scan *scan)
{
	struct run *run = arg;

	if (!scan->clock.from_fs)
		cli_verbose(run->ctx, "\"%s\" is not writable: racy boundary from the system clock",
			    run->label_root);
	cli_verbose(run->ctx, "source \"%s\": %zu files recorded (loaded at %.3f s)",
		    run->source, mreg_cache_count(scan->cache), elapsed_s(run));
	run->scan = scan;
	if (run->show_progress &&
	    pthread_create(&run->progress, NULL, progress_main, run) == 0)
		run->progress_started = true;
}

static void progress_stop(struct run *run)
{
	if (!run->progress_started)
		return;
	atomic_store(&run->progress_stop, true);
	pthread_join(run->progress, NULL);
	run->progress_started = false;
}

/* The import is over: a log gets the final counts, a terminal loses the
 * line. */
static void on_ended(void *arg, struct mreg_scan *scan)
{
	struct run *run = arg;
	bool shown = run->progress_started;

	(void)scan;
	progress_stop(run);
	if (shown && !cli_isatty(stderr))
		progress_draw(run);
	progress_clear(run);
	run->scan = NULL;
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
	if (warning)
		cli_warn(run->ctx, "%s%s%s", label, sep, text);
	else
		cli_fail(run->ctx, MREG_EXIT_DATA, "%s%s%s", label, sep, text);
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

	if (run->o->dry_run && !run->o->json && !run->o->quiet) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		cli_printf(stdout, "would %s %s (%s/%s)\n",
			   create ? "add" : "update", resource,
			   run->label_root, rel);
		pthread_mutex_unlock(&run->print_lock);
	}
}

static void on_deactivated(void *arg, int n, const char *const *resources,
			   const char *const *rels)
{
	struct run *run = arg;
	int k;

	if (!run->o->json && !run->o->quiet) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		for (k = 0; k < n; k++)
			cli_printf(stdout, "%s %s (%s/%s gone)\n",
				   run->o->dry_run ? "would deactivate"
						   : "deactivated",
				   resources[k], run->label_root, rels[k]);
		pthread_mutex_unlock(&run->print_lock);
	}
}

/* --- the command --------------------------------------------------------- */

static void print_summary(struct run *run, const struct mreg_import_counts *c)
{
	double t = elapsed_s(run);
	json_t *o;
	char *s;

	if (run->o->json) {
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b}",
			      "source", run->source,
			      "scanned", (json_int_t)c->scanned,
			      "hashed", (json_int_t)c->hashed,
			      "unchanged", (json_int_t)c->unchanged,
			      "added", (json_int_t)c->added,
			      "updated", (json_int_t)c->updated,
			      "failed", (json_int_t)c->failed,
			      "pruned", (json_int_t)c->pruned,
			      "missing", (json_int_t)c->missing,
			      "elapsed", t, "dry_run", run->o->dry_run);
		s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6))
		      : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (!run->o->quiet) {
		printf("%sscanned %ld, unchanged %ld, added %ld, updated %ld, "
		       "failed %ld, pruned %ld, missing %ld in %.2f s\n",
		       run->o->dry_run ? "dry run: " : "", c->scanned,
		       c->unchanged, c->added, c->updated, c->failed,
		       c->pruned, c->missing, t);
	}
}

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Take the source's advisory lock on conn; the exit status on failure. */
static int take_lock(struct run *run, struct mreg_conn *conn)
{
	struct mreg_error err;
	bool said = false;
	int lk;

	for (;;) {
		mreg_error_clear(&err);
		lk = mreg_import_try_lock(conn, run->source, &err);
		if (lk == 1)
			return 0;
		if (lk == 0)
			mreg_error_hint(&err, "Use --wait to wait for it to finish.");
		if (lk < 0 || !run->o->wait)
			return cli_report(run->ctx, &err);
		if (!said && !run->o->quiet) {
			cli_verbose(run->ctx, "%s", err.detail);
			cli_fail(run->ctx, 0,
				 "waiting for another import of \"%s\"",
				 run->source);
			said = true;
		}
		sleep_ms(250);
	}
}

int cmd_import_dir(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .pattern = "*.json", .max_file_size = 1024 * 1024,
			  .batch_size = 1000 };
	struct parse_state ps = { ctx, &o };
	struct run run;
	struct mreg_import_config cfg;
	struct mreg_import_counts counts;
	struct mreg_error err;
	struct mreg_pool *pool = NULL;
	struct mreg_conn *lock_conn = NULL, *conn = NULL;
	bool locked = false;
	char real[PATH_MAX], ebuf[128], why_buf[64];
	const char *why;
	char *label = NULL;
	size_t n;
	int rc, rootfd = -1, argi = 0, status = MREG_EXIT_FAILURE;

	memset(&run, 0, sizeof(run));
	memset(&cfg, 0, sizeof(cfg));
	mreg_error_clear(&err);
	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	atomic_init(&run.progress_stop, false);
	pthread_mutex_init(&run.print_lock, NULL);
	o.jobs = default_jobs();
	rc = cli_parse(ctx, &spec, argc, argv, on_option, &ps, &argi);
	if (rc != -1) {
		status = rc;
		goto done;
	}
	if (argc - argi != 1) {
		status = cli_usage(ctx, argc - argi < 1 ? "missing DIR"
						       : "only one DIR, please");
		goto done;
	}
	run.ctx = ctx;
	run.o = &o;

	label = strdup(argv[argi]);
	if (!label)
		goto oom;
	n = strlen(label);
	while (n > 1 && label[n - 1] == '/')
		label[--n] = '\0';
	run.label_root = label;
	rootfd = open(label, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		status = cli_fail(ctx, MREG_EXIT_DATA,
				  "could not open directory \"%s\": %s", label,
				  mreg_strerror(errno, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	/* the tree's real path bounds what the import may read */
	if (mreg_dir_realpath(rootfd, real, sizeof(real)) < 0) {
		status = cli_fail(ctx, MREG_EXIT_DATA,
				  "could not resolve \"%s\": %s", label,
				  mreg_strerror(errno, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	if (o.source) {
		run.source = strdup(o.source);
	} else if ((why = source_problem(real, false, why_buf, sizeof(why_buf)))) {
		status = cli_usage(ctx, "the real path of \"%s\" cannot name the source: %s; name it with --source",
				   label, why);
		goto cleanup;
	} else {
		run.source = strdup(real);
	}
	if (!run.source)
		goto oom;

	pool = cli_pool(ctx, 2, &err);
	if (!pool)
		goto report;
	lock_conn = mreg_pool_acquire(pool, &err);
	if (!lock_conn)
		goto report;
	rc = take_lock(&run, lock_conn);
	if (rc != 0) {
		status = rc;
		goto cleanup;
	}
	locked = true;
	cli_verbose(ctx, "lock on \"%s\" taken at %.3f s", run.source,
		    elapsed_s(&run));
	conn = mreg_pool_acquire(pool, &err);
	if (!conn)
		goto report;

	json_object_seed(0); /* before any thread uses jansson */
	run.show_progress = !o.quiet &&
			    (o.progress || (cli_isatty(stderr) && !getenv("NO_COLOR")));
	cfg.rootfd = rootfd;
	cfg.label_root = label;
	cfg.root_real = real;
	cfg.follow_external = o.follow_external;
	cfg.pattern = o.pattern;
	cfg.max_file_size = o.max_file_size;
	cfg.rehash = o.rehash;
	cfg.jobs = (int)o.jobs;
	cfg.source = run.source;
	cfg.actor = cli_actor(ctx);
	cfg.batch_size = o.batch_size;
	cfg.strict = o.strict;
	cfg.dry_run = o.dry_run;
	cfg.prune = o.prune;
	cfg.conn = conn;
	cfg.ev = (struct mreg_import_events){ &run, on_file, on_warn,
					      on_changed, on_deactivated };
	cfg.started = on_started;
	cfg.ended = on_ended;
	if (mreg_import_run(&cfg, &counts, &err) < 0)
		goto report;
	if (counts.aborted)
		cli_fail(ctx, MREG_EXIT_DATA,
			 "nothing imported: %ld bad file%s (--strict)",
			 counts.failed, counts.failed == 1 ? "" : "s");
	print_summary(&run, &counts);
	status = counts.failed > 0 ? MREG_EXIT_DATA : MREG_EXIT_OK;
	goto cleanup;

oom:
	mreg_error_set(&err, MREG_EXIT_FAILURE, "out of memory");
report:
	status = cli_report(ctx, &err);
cleanup:
	if (conn)
		mreg_pool_release(pool, conn);
	if (locked)
		mreg_import_unlock(lock_conn, run.source);
	if (lock_conn)
		mreg_pool_release(pool, lock_conn);
	if (rootfd >= 0)
		close(rootfd);
	free(run.source);
	free(label);
done:
	pthread_mutex_destroy(&run.print_lock);
	return cli_finish(ctx, status);
}
