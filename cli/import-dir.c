/* import-dir.c - mreg import-dir: bring the registry in line with a tree
 *
 * Pipeline: a walker thread lists the tree and consults the content-hash
 * cache; files it cannot trust go to a bounded job queue read by --jobs
 * worker threads (read, hash, parse, validate, hash artifacts); every
 * outcome lands on a bounded result queue read by the main thread, which
 * checks provider/name claims across files and writes batches: one
 * transaction per batch carries the model rows, their audit rows and the
 * cache rows of the files they came from (see import_batch_sql below).
 * A session advisory lock on a second connection keeps two imports of
 * the same source apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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
#include "modelfile.h"
#include "walk.h"
#include "workqueue.h"



enum {
	OPT_PATTERN = 256, OPT_SOURCE, OPT_JOBS, OPT_MAX_FILE_SIZE, OPT_REHASH,
	OPT_STRICT, OPT_DRY_RUN, OPT_PRUNE, OPT_WAIT, OPT_PROGRESS, OPT_FORMAT,
	OPT_BATCH_SIZE,
};

static const struct cli_option options[] = {
	CLI_GROUP("What to import"),
	{ OPT_PATTERN, 0, "pattern", "GLOB",
	  "files to import (default *.json)" },
	{ OPT_SOURCE, 0, "source", "NAME",
	  "name the source (default: DIR's real path)" },
	{ OPT_MAX_FILE_SIZE, 0, "max-file-size", "BYTES",
	  "reject larger files (default 1M)" },
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

static int on_option(void *state, int id, const char *arg)
{
	struct parse_state *ps = state;
	struct opts *o = ps->o;

	switch (id) {
	case OPT_PATTERN:
		if (!*arg)
			return cli_usage(ps->ctx, "--pattern: empty pattern");
		o->pattern = arg;
		break;
	case OPT_SOURCE:
		if (!*arg)
			return cli_usage(ps->ctx, "--source: empty name");
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
	case OPT_WAIT: o->wait = true; break;
	case OPT_PROGRESS: o->progress = true; break;
	case 'q': o->quiet = true; break;
	case OPT_FORMAT:
		if (strcmp(arg, "json") == 0)
			o->json = true;
		else if (strcmp(arg, "text") == 0)
			o->json = false;
		else
			return cli_usage(ps->ctx,
					 "--format: \"%s\" is not text or json",
					 arg);
		break;
	default:
		return cli_usage(ps->ctx, "unexpected option");
	}
	return 0;
}

/* --- what flows through the pipeline ----------------------------------- */

enum result_kind {
	R_UNCHANGED, /* cache hit: nothing read */
	R_TOUCH,     /* read, same digest as recorded: refresh the stat */
	R_MODEL,     /* read and valid: upsert */
	R_ERROR,     /* read and invalid: cache the error with the digest */
	R_FAIL,      /* could not read, or invalid for a reason that may
			change without the file changing: report only */
	R_WALK,      /* a problem found by the walk */
};

struct artifact {
	char *path;
	long long size;
	char sha[MREG_SHA256_HEX];
};

struct result {
	enum result_kind kind;
	char *rel;
	struct mreg_stat st;
	unsigned char sha[MREG_SHA256_LEN];
	bool racy;
	char *error;               /* formatted: "L:C: msg" or "msg" */
	const struct mreg_cache_entry *entry; /* cached record, or NULL */
	struct mreg_model model;   /* R_MODEL */
	struct artifact *arts;
	size_t narts;
	struct claim *claim;       /* R_MODEL: its provider/name claim */
	const struct mreg_cache_entry **many; /* R_UNCHANGED: the entries */
	size_t nmany;
};

struct job {
	char *rel;
	const struct mreg_cache_entry *entry;
};

static void result_free(struct result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->rel);
	free(r->error);
	mreg_model_finish(&r->model);
	for (i = 0; i < r->narts; i++)
		free(r->arts[i].path);
	free(r->arts);
	free(r->many);
	free(r);
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* "L:C: message" when there is a position, else the message. */
static char *format_error(const struct mreg_error *err)
{
	char buf[2048];

	if (err->line > 0)
		snprintf(buf, sizeof(buf), "%ld:%ld: %s", err->line,
			 err->column, err->message);
	else
		snprintf(buf, sizeof(buf), "%s", err->message);
	return xstrdup(buf);
}

/* --- shared state -------------------------------------------------------- */

struct run {
	struct cli_ctx *ctx;
	struct opts *o;
	const char *label_root; /* DIR as the user wrote it */
	char *source;
	int rootfd;
	struct mreg_fs_clock clock;
	struct mreg_cache *cache;
	struct mreg_queue *jobs;
	struct mreg_queue *results;
	atomic_int producers; /* walker + workers still running */
	atomic_long scanned, hashed, done;
	atomic_bool walk_done;
	atomic_bool stop;
	long walk_errors;
	struct mreg_error walk_err; /* the root itself could not be walked */
	int walk_rc;
	pthread_mutex_t print_lock;
	bool show_progress;
	bool progress_shown;
	/* files walked before the cache was loaded (walker only) */
	struct pending { char *rel; struct mreg_stat st; } *pending;
	const struct mreg_cache_entry **hits; /* cache hits not yet sent */
	size_t nhits;
	size_t npending, cappending;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	bool cache_ready, cache_failed; /* under ready_lock */
	atomic_bool cache_ready_fast;   /* cache_ready, read without the lock */
	struct timespec t0;
};

static void producer_exit(struct run *run)
{
	if (atomic_fetch_sub(&run->producers, 1) == 1)
		mreg_queue_close(run->results);
}

static double elapsed_s(const struct run *run)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - run->t0.tv_sec) +
	       (double)(t.tv_nsec - run->t0.tv_nsec) / 1e9;
}

/* --- the walker ---------------------------------------------------------- */

static int push_result(struct run *run, struct result *r)
{
	if (mreg_queue_push(run->results, r) < 0) {
		result_free(r);
		return -1;
	}
	return 0;
}

#define HITS_PER_RESULT 256

/* Send the cache hits gathered so far as one result (walker only). */
static int flush_hits(struct run *run)
{
	struct result *r;

	if (run->nhits == 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->kind = R_UNCHANGED;
	r->many = run->hits;
	r->nmany = run->nhits;
	run->hits = NULL;
	run->nhits = 0;
	return push_result(run, r) < 0;
}

/* One file found by the walk (rel is taken over): a result or a job. */
static int walk_file(struct run *run, char *rel, const struct mreg_stat *now)
{
	struct mreg_cache_entry *e;
	struct job *j = NULL;

	atomic_fetch_add(&run->scanned, 1);
	e = mreg_cache_get(run->cache, rel);
	if (e)
		e->seen = true;
	if (!run->o->rehash && mreg_cache_judge(e, now) == MREG_CACHE_HIT) {
		/* nothing to read: sent in bunches to spare the queue */
		free(rel);
		if (!run->hits &&
		    !(run->hits = calloc(HITS_PER_RESULT, sizeof(*run->hits))))
			return 1;
		run->hits[run->nhits++] = e;
		if (run->nhits == HITS_PER_RESULT)
			return flush_hits(run);
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		free(rel);
		return 1;
	}
	j->rel = rel;
	j->entry = run->o->rehash ? NULL : e;
	if (mreg_queue_push(run->jobs, j) < 0) {
		free(j->rel);
		free(j);
		return 1;
	}
	return 0;
}

/*
 * The walk starts while the cache is still loading: files found before it
 * is ready wait in run->pending.  Wait for the cache (0), or learn that
 * loading it failed (-1).
 */
static int wait_for_cache(struct run *run)
{
	int rc;

	pthread_mutex_lock(&run->ready_lock);
	while (!run->cache_ready)
		pthread_cond_wait(&run->ready_cond, &run->ready_lock);
	rc = run->cache_failed ? -1 : 0;
	pthread_mutex_unlock(&run->ready_lock);
	return rc;
}

static int drain_pending(struct run *run)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < run->npending; i++) {
		if (rc == 0 && !atomic_load(&run->stop))
			rc = walk_file(run, run->pending[i].rel,
				       &run->pending[i].st);
		else
			free(run->pending[i].rel);
	}
	free(run->pending);
	run->pending = NULL;
	run->npending = run->cappending = 0;
	return rc;
}

static int on_walk(void *arg, const char *rel, const struct stat *st,
		   const struct mreg_error *err)
{
	struct run *run = arg;
	struct result *r = NULL;
	struct mreg_stat now;
	char *copy;

	if (atomic_load(&run->stop))
		return 1;
	if (err) {
		r = calloc(1, sizeof(*r));
		if (!r || !(r->rel = xstrdup(rel)) ||
		    !(r->error = xstrdup(err->message))) {
			result_free(r);
			return 1;
		}
		r->kind = R_WALK;
		return push_result(run, r) < 0;
	}
	mreg_stat_from(&now, st);
	if (!(copy = xstrdup(rel)))
		return 1;
	if (!atomic_load(&run->cache_ready_fast)) {
		if (run->npending == run->cappending) {
			size_t n = run->cappending ? run->cappending * 2 : 1024;
			struct pending *p = realloc(run->pending, n * sizeof(*p));
			if (!p) {
				free(copy);
				return 1;
			}
			run->pending = p;
			run->cappending = n;
		}
		run->pending[run->npending].rel = copy;
		run->pending[run->npending].st = now;
		run->npending++;
		return 0;
	}
	if (run->pending) {
		if (wait_for_cache(run) < 0 || drain_pending(run) != 0) {
			free(copy);
			return 1;
		}
	}
	return walk_file(run, copy, &now);
}

static void *walker_main(void *arg)
{
	struct run *run = arg;

	run->walk_rc = mreg_walk(run->rootfd, run->o->pattern, on_walk, run,
				 &run->walk_err);
	if (run->pending) {
		if (wait_for_cache(run) < 0)
			atomic_store(&run->stop, true);
		drain_pending(run);
	}
	if (!atomic_load(&run->stop))
		flush_hits(run);
	free(run->hits);
	run->hits = NULL;
	atomic_store(&run->walk_done, true);
	mreg_queue_close(run->jobs);
	producer_exit(run);
	return NULL;
}

/* --- the workers --------------------------------------------------------- */

/* The directory part of rel joined with an artifact path. */
static int artifact_rel(const char *rel, const char *a, char *out, size_t len)
{
	const char *slash = strrchr(rel, '/');
	int n;

	if (slash)
		n = snprintf(out, len, "%.*s/%s", (int)(slash - rel), rel, a);
	else
		n = snprintf(out, len, "%s", a);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void hash_artifacts(struct run *run, struct result *r)
{
	struct mreg_error err;
	struct mreg_stat st;
	unsigned char d[MREG_SHA256_LEN];
	char path[PATH_MAX], msg[1400];
	size_t i, n = r->model.nartifacts;

	if (n == 0)
		return;
	r->arts = calloc(n, sizeof(*r->arts));
	if (!r->arts)
		goto oom;
	for (i = 0; i < n; i++) {
		const char *a = r->model.artifacts[i];
		if (artifact_rel(r->rel, a, path, sizeof(path)) < 0) {
			snprintf(msg, sizeof(msg),
				 "key 'artifacts': \"%s\": path too long", a);
			goto fail;
		}
		mreg_error_clear(&err);
		if (mreg_read_and_hash(run->rootfd, path, path, -1, NULL, NULL,
				       &st, d, &err) < 0) {
			snprintf(msg, sizeof(msg), "key 'artifacts': \"%s\": %s",
				 a, err.message);
			goto fail;
		}
		r->arts[i].path = xstrdup(a);
		if (!r->arts[i].path)
			goto oom;
		r->arts[i].size = st.size;
		mreg_digest_to_hex(d, r->arts[i].sha);
		r->narts = i + 1;
	}
	return;
oom:
	snprintf(msg, sizeof(msg), "out of memory");
fail:
	/* an artifact may appear later without the model file changing:
	 * report, do not cache */
	r->kind = R_FAIL;
	r->error = xstrdup(msg);
	mreg_model_finish(&r->model);
}

static struct result *process(struct run *run, struct job *j)
{
	struct result *r = calloc(1, sizeof(*r));
	struct mreg_error err;
	char *buf = NULL;
	size_t len = 0;
	const struct mreg_cache_entry *e = j->entry;

	if (!r)
		return NULL;
	r->rel = j->rel;
	j->rel = NULL;
	r->entry = e;
	mreg_error_clear(&err);
	if (mreg_read_and_hash(run->rootfd, r->rel, r->rel,
			       run->o->max_file_size, &buf, &len, &r->st,
			       r->sha, &err) < 0) {
		r->kind = R_FAIL;
		r->error = format_error(&err);
		return r;
	}
	atomic_fetch_add(&run->hashed, 1);
	r->racy = mreg_stat_is_racy(&r->st, &run->clock);
	if (e && memcmp(e->sha256, r->sha, MREG_SHA256_LEN) == 0 &&
	    (e->model_id || e->error)) {
		/* same bytes as recorded: not imported again */
		r->kind = R_TOUCH;
		free(buf);
		return r;
	}
	if (mreg_model_parse(buf, len, r->rel, &r->model, &err) < 0) {
		r->kind = err.status == MREG_EXIT_DATA ? R_ERROR : R_FAIL;
		r->error = format_error(&err);
	} else {
		r->kind = R_MODEL;
		hash_artifacts(run, r);
	}
	free(buf);
	return r;
}

static void *worker_main(void *arg)
{
	struct run *run = arg;
	struct job *j;
	struct result *r;

	while ((j = mreg_queue_pop(run->jobs)) != NULL) {
		r = atomic_load(&run->stop) ? NULL : process(run, j);
		free(j->rel);
		free(j);
		if (!r)
			continue;
		if (push_result(run, r) < 0)
			atomic_store(&run->stop, true);
	}
	producer_exit(run);
	return NULL;
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
	long scanned = atomic_load(&run->scanned);
	long hashed = atomic_load(&run->hashed);
	long done = atomic_load(&run->done);
	double t = elapsed_s(run), rate = t > 0 ? done / t : 0;
	char eta[32] = "";

	if (atomic_load(&run->walk_done) && rate > 0)
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

	while (!atomic_load(&run->stop)) {
		nanosleep(&ts, NULL);
		/* a terminal gets 4 updates a second, a log one a second */
		if (!cli_isatty(stderr) && ++ticks % 4 != 0)
			continue;
		pthread_mutex_lock(&run->print_lock);
		if (!atomic_load(&run->stop))
			progress_draw(run);
		pthread_mutex_unlock(&run->print_lock);
	}
	return NULL;
}

/* "DIR/rel: text" or "DIR/rel:L:C: text" on stderr. */
static void report_file(struct run *run, const char *rel, const char *text,
			bool warning)
{
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

/* --- provider/name claims ------------------------------------------------ */

struct claim {
	char *key;
	char *rel;
	bool borrowed;           /* key and rel belong to the cache */
	bool conflicted;
	struct result *deferred; /* waiting for the recorded owner's file */
	struct claim *next;
};

struct claims {
	struct claim **b;
	size_t n, count;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void claims_free(struct claims *c)
{
	struct claim *x, *next;
	size_t i;

	for (i = 0; i < c->n; i++)
		for (x = c->b[i]; x; x = next) {
			next = x->next;
			result_free(x->deferred);
			if (!x->borrowed) {
				free(x->key);
				free(x->rel);
			}
			free(x);
		}
	free(c->b);
}

static int claims_grow(struct claims *c)
{
	size_t n = c->n ? c->n * 4 : 4096, i;
	struct claim **b = calloc(n, sizeof(*b)), *x, *next;

	if (!b)
		return -1;
	for (i = 0; i < c->n; i++)
		for (x = c->b[i]; x; x = next) {
			size_t h = hash_str(x->key) & (n - 1);
			next = x->next;
			x->next = b[h];
			b[h] = x;
		}
	free(c->b);
	c->b = b;
	c->n = n;
	return 0;
}

static struct claim *claims_find(struct claims *c, const char *key)
{
	struct claim *x;

	if (c->n == 0)
		return NULL;
	for (x = c->b[hash_str(key) & (c->n - 1)]; x; x = x->next)
		if (strcmp(x->key, key) == 0)
			return x;
	return NULL;
}

/*
 * Claim key for rel.  Returns NULL when rel is the first, else the claim
 * of the file that came first; -1 in *oom when out of memory.
 */
static struct claim *claims_take(struct claims *c, const char *key,
				 const char *rel, bool borrow, bool *oom)
{
	struct claim *x;
	size_t h;

	*oom = false;
	if (c->count >= c->n && claims_grow(c) < 0) {
		*oom = true;
		return NULL;
	}
	h = hash_str(key) & (c->n - 1);
	for (x = c->b[h]; x; x = x->next)
		if (strcmp(x->key, key) == 0)
			return x;
	x = calloc(1, sizeof(*x));
	if (x && borrow) {
		/* strings owned by the cache, which outlives the claims */
		x->key = (char *)key;
		x->rel = (char *)rel;
		x->borrowed = true;
	} else if (!x || !(x->key = xstrdup(key)) || !(x->rel = xstrdup(rel))) {
		if (x)
			free(x->key);
		free(x);
		*oom = true;
		return NULL;
	}
	x->next = c->b[h];
	c->b[h] = x;
	c->count++;
	return NULL;
}

/* --- the database side --------------------------------------------------- */

static const char *const create_batch_sql =
	"CREATE TEMP TABLE mreg_import_batch ("
	" kind text NOT NULL, path text NOT NULL, size bigint,"
	" mtime_ns bigint, ctime_ns bigint, inode bigint, device bigint,"
	" sha256 text, racy boolean, error text,"
	" provider text, name text, type text, version text,"
	" display_name text, description text, tags jsonb, synonyms jsonb,"
	" active boolean, config jsonb, metadata jsonb, artifacts jsonb,"
	" provider_id bigint, model_id bigint, old jsonb, late_error text"
	") ON COMMIT DROP";

static const char *const copy_batch_sql =
	"COPY mreg_import_batch (kind, path, size, mtime_ns, ctime_ns, inode,"
	" device, sha256, racy, error, provider, name, type, version,"
	" display_name, description, tags, synonyms, active, config,"
	" metadata, artifacts) FROM STDIN";

/* The state of a model as the audit log records it. */
#define SNAPSHOT(m)                                                          \
	"jsonb_build_object('type', " m ".type, 'version', " m ".version,"    \
	" 'display_name', " m ".display_name, 'description', " m             \
	".description, 'tags', to_jsonb(" m ".tags), 'synonyms',"            \
	" to_jsonb(" m ".synonyms), 'active', " m ".active, 'config', " m    \
	".config, 'metadata', " m ".metadata, 'artifacts', coalesce(("        \
	"SELECT jsonb_agg(jsonb_build_object('path', a.path, 'size', a.size," \
	" 'sha256', a.sha256) ORDER BY a.path) FROM mreg.artifacts a"         \
	" WHERE a.model_id = " m ".id), '[]'::jsonb))"

/* $1 actor, $2 source */
static const char *const batch_steps[] = {
	/* providers, created on first use */
	"WITH ins AS (INSERT INTO mreg.providers (name)"
	" SELECT DISTINCT provider FROM mreg_import_batch WHERE kind = 'model'"
	" ORDER BY 1 ON CONFLICT (name) DO NOTHING RETURNING name)"
	" INSERT INTO mreg.audit_log (actor, action, resource, details)"
	" SELECT $1, 'provider.create', 'providers/' || name,"
	" jsonb_build_object('source', $2::text) FROM ins",

	"UPDATE mreg_import_batch b SET provider_id = p.id"
	" FROM mreg.providers p WHERE b.kind = 'model' AND p.name = b.provider"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	/* the models as they were, locked against concurrent writers */
	"UPDATE mreg_import_batch b SET model_id = m.id, old = " SNAPSHOT("m")
	" FROM (SELECT * FROM mreg.models WHERE (provider_id, name) IN"
	" (SELECT provider_id, name FROM mreg_import_batch WHERE kind = 'model')"
	" ORDER BY id FOR UPDATE) m"
	" WHERE b.kind = 'model' AND m.provider_id = b.provider_id"
	" AND m.name = b.name AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	/* a default model keeps its type and stays active: refuse the file */
	"UPDATE mreg_import_batch b SET kind = 'late', late_error ="
	" CASE WHEN b.type <> m.type THEN format('model \"%s/%s\" is the"
	" default for type \"%s\": its type cannot change to \"%s\"',"
	" b.provider, b.name, m.type, b.type)"
	" ELSE format('model \"%s/%s\" is the default for type \"%s\": it"
	" cannot be deactivated', b.provider, b.name, m.type) END"
	" FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id"
	" WHERE b.kind = 'model' AND b.model_id = d.model_id"
	" AND (b.type <> m.type OR NOT b.active)"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"INSERT INTO mreg.models AS m (provider_id, name, type, version,"
	" display_name, description, tags, synonyms, active, config, metadata)"
	" SELECT provider_id, name, type, version, display_name, description,"
	" ARRAY(SELECT jsonb_array_elements_text(tags)),"
	" ARRAY(SELECT jsonb_array_elements_text(synonyms)),"
	" active, config, metadata FROM mreg_import_batch"
	" WHERE kind = 'model' AND $1::text IS NOT NULL AND $2::text IS NOT NULL"
	" ORDER BY provider_id, name"
	" ON CONFLICT (provider_id, name) DO UPDATE SET type = EXCLUDED.type,"
	" version = EXCLUDED.version, display_name = EXCLUDED.display_name,"
	" description = EXCLUDED.description, tags = EXCLUDED.tags,"
	" synonyms = EXCLUDED.synonyms, active = EXCLUDED.active,"
	" config = EXCLUDED.config, metadata = EXCLUDED.metadata,"
	" updated_at = now()"
	" WHERE (m.type, m.version, m.display_name, m.description, m.tags,"
	" m.synonyms, m.active, m.config, m.metadata) IS DISTINCT FROM"
	" (EXCLUDED.type, EXCLUDED.version, EXCLUDED.display_name,"
	" EXCLUDED.description, EXCLUDED.tags, EXCLUDED.synonyms,"
	" EXCLUDED.active, EXCLUDED.config, EXCLUDED.metadata)",

	"UPDATE mreg_import_batch b SET model_id = m.id FROM mreg.models m"
	" WHERE b.kind = 'model' AND b.model_id IS NULL"
	" AND m.provider_id = b.provider_id AND m.name = b.name"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"DELETE FROM mreg.artifacts a USING mreg_import_batch b"
	" WHERE b.kind = 'model' AND b.old IS NOT NULL"
	" AND a.model_id = b.model_id"
	" AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(b.artifacts) e"
	" WHERE e->>'path' = a.path)"
	" AND $1::text IS NOT NULL AND $2::text IS NOT NULL",

	"INSERT INTO mreg.artifacts AS a (model_id, path, size, sha256)"
	" SELECT b.model_id, e->>'path', (e->>'size')::bigint, e->>'sha256'"
	" FROM mreg_import_batch b, jsonb_array_elements(b.artifacts) e"
	" WHERE b.kind = 'model' AND b.artifacts <> '[]' AND $1::text IS NOT NULL"
	" AND $2::text IS NOT NULL"
	" ON CONFLICT (model_id, path) DO UPDATE SET size = EXCLUDED.size,"
	" sha256 = EXCLUDED.sha256 WHERE (a.size, a.sha256) IS DISTINCT FROM"
	" (EXCLUDED.size, EXCLUDED.sha256)",

	/* the cache rows, in the same transaction as the models */
	"INSERT INTO mreg.source_files AS s (source, path, size, mtime_ns,"
	" ctime_ns, inode, device, sha256, racy, error, model_id)"
	" SELECT $2, path, size, mtime_ns, ctime_ns, inode, device, sha256,"
	" racy, error, model_id FROM mreg_import_batch"
	" WHERE kind IN ('model', 'touch', 'error') AND $1::text IS NOT NULL"
	" ON CONFLICT (source, path) DO UPDATE SET size = EXCLUDED.size,"
	" mtime_ns = EXCLUDED.mtime_ns, ctime_ns = EXCLUDED.ctime_ns,"
	" inode = EXCLUDED.inode, device = EXCLUDED.device,"
	" sha256 = EXCLUDED.sha256, racy = EXCLUDED.racy,"
	" error = EXCLUDED.error,"
	" model_id = coalesce(EXCLUDED.model_id, s.model_id),"
	" recorded_at = now()",

	/* files in a provider/name conflict: hash and parse them next time */
	"UPDATE mreg.source_files s SET racy = true, sha256 = repeat('0', 64)"
	" FROM mreg_import_batch b WHERE b.kind = 'invalidate'"
	" AND s.source = $2 AND s.path = b.path AND $1::text IS NOT NULL",
	NULL,
};

/*
 * After the upsert a model holds exactly the batch's values, so its new
 * state is built from the batch row (no second look at the table); it is
 * shaped like SNAPSHOT so that an unchanged model compares equal.
 */
static const char *const audit_sql =
	"WITH n AS (SELECT b.path, b.sha256, b.model_id, b.provider, b.name,"
	" b.old, jsonb_build_object('type', b.type, 'version', b.version,"
	" 'display_name', b.display_name, 'description', b.description,"
	" 'tags', b.tags, 'synonyms', b.synonyms, 'active', b.active,"
	" 'config', b.config, 'metadata', b.metadata, 'artifacts',"
	" (SELECT coalesce(jsonb_agg(e ORDER BY e->>'path'), '[]'::jsonb)"
	"  FROM jsonb_array_elements(b.artifacts) e)) AS new"
	" FROM mreg_import_batch b WHERE b.kind = 'model')"
	" INSERT INTO mreg.audit_log (actor, action, resource, model_id, details)"
	" SELECT $1, CASE WHEN old IS NULL THEN 'model.create'"
	" ELSE 'model.update' END, 'models/' || provider || '/' || name,"
	" model_id, jsonb_build_object('source', $2::text, 'path', path,"
	" 'sha256', sha256, 'old', old, 'new', new)"
	" FROM n WHERE old IS NULL OR old <> new"
	" RETURNING action, resource, details->>'path'";

static const char *const late_sql =
	"SELECT path, late_error FROM mreg_import_batch"
	" WHERE late_error IS NOT NULL";

struct writer {
	struct run *run;
	struct mreg_conn *conn;
	bool one_txn;       /* --strict / --dry-run: everything in one */
	bool in_txn;
	struct result **batch;
	size_t nbatch;
	char **invalid;     /* paths to invalidate with this batch */
	size_t ninvalid, capinvalid;
	struct claims claims;
	struct claims owners; /* provider/name -> file recorded for it */
	bool claims_active;   /* built on the first model file read */
	long added, updated, failed, failed_files, pruned, missing;
	long kept_defaults;
	bool abort_writes;  /* --strict after a bad file */
};

static void mark_failed(struct writer *w)
{
	w->failed++;
	w->failed_files++;
	if (w->run->o->strict)
		w->abort_writes = true;
}

static void copy_ll(struct mreg_copy *cp, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	mreg_copy_field(cp, buf);
}

static char *artifacts_json(const struct result *r)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < r->narts; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "path",
						   r->arts[i].path, "size",
						   (json_int_t)r->arts[i].size,
						   "sha256", r->arts[i].sha));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void copy_row(struct mreg_copy *cp, const struct result *r,
		     const char *kind)
{
	char hex[MREG_SHA256_HEX];
	const struct mreg_model *m = &r->model;
	bool model = r->kind == R_MODEL;
	char *arts = NULL;

	mreg_copy_field(cp, kind);
	mreg_copy_field(cp, r->rel);
	copy_ll(cp, r->st.size);
	copy_ll(cp, r->st.mtime_ns);
	copy_ll(cp, r->st.ctime_ns);
	copy_ll(cp, (long long)r->st.inode);
	copy_ll(cp, (long long)r->st.device);
	mreg_digest_to_hex(r->sha, hex);
	mreg_copy_field(cp, hex);
	mreg_copy_field(cp, r->racy ? "t" : "f");
	if (r->kind == R_ERROR)
		mreg_copy_field(cp, r->error);
	else if (r->kind == R_TOUCH && r->entry)
		mreg_copy_field(cp, r->entry->error);
	else
		mreg_copy_field(cp, NULL);
	mreg_copy_field(cp, model ? m->provider : NULL);
	mreg_copy_field(cp, model ? m->name : NULL);
	mreg_copy_field(cp, model ? m->type : NULL);
	mreg_copy_field(cp, model ? m->version : NULL);
	mreg_copy_field(cp, model ? m->display_name : NULL);
	mreg_copy_field(cp, model ? m->description : NULL);
	mreg_copy_field(cp, model ? m->tags_json : NULL);
	mreg_copy_field(cp, model ? m->synonyms_json : NULL);
	mreg_copy_field(cp, model ? (m->active ? "t" : "f") : NULL);
	mreg_copy_field(cp, model ? m->config_json : NULL);
	mreg_copy_field(cp, model ? m->metadata_json : NULL);
	if (model)
		arts = artifacts_json(r);
	mreg_copy_field(cp, model ? (arts ? arts : "[]") : NULL);
	free(arts);
	mreg_copy_row(cp);
}

static int write_batch(struct writer *w, struct mreg_error *err)
{
	struct run *run = w->run;
	const char *params[2] = { cli_actor(run->ctx), run->source };
	struct mreg_copy cp;
	PGresult *res = NULL;
	size_t i;
	int k, rc = -1;

	if (w->nbatch == 0 && w->ninvalid == 0)
		return 0;
	if (w->abort_writes) {
		rc = 0;
		goto cleanup;
	}
	if (!w->in_txn) {
		if (mreg_db_begin(w->conn, err) < 0)
			goto cleanup;
		w->in_txn = true;
	}
	if (mreg_db_command(w->conn, create_batch_sql, 0, NULL, err) < 0)
		goto cleanup;
	if (mreg_copy_begin(&cp, w->conn, copy_batch_sql, err) < 0)
		goto cleanup;
	for (i = 0; i < w->nbatch; i++) {
		struct result *r = w->batch[i];
		/* a claim found in conflict after the row was queued */
		if (r->kind == R_MODEL && r->claim && r->claim->conflicted)
			continue;
		copy_row(&cp, r, r->kind == R_MODEL   ? "model"
				 : r->kind == R_TOUCH ? "touch"
						      : "error");
	}
	for (i = 0; i < w->ninvalid; i++) {
		mreg_copy_field(&cp, "invalidate");
		mreg_copy_field(&cp, w->invalid[i]);
		for (k = 0; k < 20; k++)
			mreg_copy_field(&cp, NULL);
		mreg_copy_row(&cp);
	}
	if (mreg_copy_end(&cp, err) < 0)
		goto cleanup;
	for (k = 0; batch_steps[k]; k++)
		if (mreg_db_command(w->conn, batch_steps[k], 2, params, err) < 0)
			goto cleanup;
	res = mreg_db_exec(w->conn, audit_sql, 2, params, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	for (k = 0; k < PQntuples(res); k++) {
		bool create = strcmp(PQgetvalue(res, k, 0), "model.create") == 0;
		if (create)
			w->added++;
		else
			w->updated++;
		if (run->o->dry_run && !run->o->json && !run->o->quiet) {
			pthread_mutex_lock(&run->print_lock);
			progress_clear(run);
			printf("would %s %s (%s/%s)\n",
			       create ? "add" : "update", PQgetvalue(res, k, 1),
			       run->label_root, PQgetvalue(res, k, 2));
			pthread_mutex_unlock(&run->print_lock);
		}
	}
	PQclear(res);
	res = mreg_db_exec(w->conn, late_sql, 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	for (k = 0; k < PQntuples(res); k++) {
		report_file(run, PQgetvalue(res, k, 0), PQgetvalue(res, k, 1),
			    false);
		mark_failed(w);
	}
	PQclear(res);
	res = NULL;
	if (mreg_db_command(w->conn, "DROP TABLE mreg_import_batch", 0, NULL,
			    err) < 0)
		goto cleanup;
	if (!w->one_txn) {
		if (mreg_db_commit(w->conn, err) < 0)
			goto cleanup;
		w->in_txn = false;
	}
	rc = 0;
cleanup:
	PQclear(res);
	for (i = 0; i < w->nbatch; i++)
		result_free(w->batch[i]);
	w->nbatch = 0;
	for (i = 0; i < w->ninvalid; i++)
		free(w->invalid[i]);
	w->ninvalid = 0;
	return rc;
}

static int add_invalid(struct writer *w, const char *rel)
{
	if (w->ninvalid == w->capinvalid) {
		size_t n = w->capinvalid ? w->capinvalid * 2 : 16;
		char **p = realloc(w->invalid, n * sizeof(*p));
		if (!p)
			return -1;
		w->invalid = p;
		w->capinvalid = n;
	}
	if (!(w->invalid[w->ninvalid] = xstrdup(rel)))
		return -1;
	w->ninvalid++;
	return 0;
}

/*
 * Record that rel defines key.  false when another file defines it too:
 * both are reported and failed, and both are re-read next time.
 */
static bool claim_key(struct writer *w, const char *key, const char *rel,
		      bool borrow, struct mreg_error *err)
{
	struct claim *first;
	bool oom;
	char msg[2048];

	first = claims_take(&w->claims, key, rel, borrow, &oom);
	if (oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return false;
	}
	if (!first)
		return true;
	if (first->deferred) {
		result_free(first->deferred);
		first->deferred = NULL;
	}
	snprintf(msg, sizeof(msg),
		 "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
		 key, w->run->label_root, first->rel);
	report_file(w->run, rel, msg, false);
	mark_failed(w);
	add_invalid(w, rel);
	if (!first->conflicted) {
		first->conflicted = true;
		snprintf(msg, sizeof(msg),
			 "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
			 key, w->run->label_root, rel);
		report_file(w->run, first->rel, msg, false);
		mark_failed(w);
		add_invalid(w, first->rel);
	}
	return false;
}

static int batch_add(struct writer *w, struct result *r,
		     struct mreg_error *err)
{
	w->batch[w->nbatch++] = r;
	if (w->nbatch >= (size_t)w->run->o->batch_size)
		return write_batch(w, err);
	return 0;
}

/*
 * The file recorded for a provider/name is other than rel, still there,
 * and not handled yet in this run: rel's row waits for it, so that a
 * conflict between them is found before either is written.
 */
static bool must_wait_for_owner(struct writer *w, const char *key,
				const char *rel)
{
	struct claim *owner = claims_find(&w->owners, key);
	struct mreg_cache_entry *e;
	struct stat st;

	if (!owner || strcmp(owner->rel, rel) == 0)
		return false;
	e = mreg_cache_get(w->run->cache, owner->rel);
	if (!e || e->done)
		return false;
	return fstatat(w->run->rootfd, owner->rel, &st, 0) == 0 &&
	       S_ISREG(st.st_mode);
}

/* rel has been handled: release a row that waited for it. */
static int release_waiting(struct writer *w, const char *rel,
			   struct mreg_error *err)
{
	struct mreg_cache_entry *e = mreg_cache_get(w->run->cache, rel);
	struct claim *c;
	struct result *r;

	if (!e)
		return 0;
	e->done = true;
	if (!e->key || !(c = claims_find(&w->claims, e->key)) || !c->deferred)
		return 0;
	r = c->deferred;
	c->deferred = NULL;
	if (c->conflicted) {
		result_free(r);
		return 0;
	}
	return batch_add(w, r, err);
}

/* At the end: rows still waiting (their owner's file never came). */
static int release_all(struct writer *w, struct mreg_error *err)
{
	struct claim *x;
	struct result *r;
	size_t i;

	for (i = 0; i < w->claims.n; i++)
		for (x = w->claims.b[i]; x; x = x->next) {
			if (!x->deferred)
				continue;
			r = x->deferred;
			x->deferred = NULL;
			if (x->conflicted)
				result_free(r);
			else if (batch_add(w, r, err) < 0)
				return -1;
		}
	return 0;
}

static int owners_cb(struct mreg_cache_entry *e, void *arg)
{
	struct writer *w = arg;
	bool oom;

	if (e->key && !e->error) {
		claims_take(&w->owners, e->key, e->path, true, &oom);
		if (oom)
			return -1;
	}
	return 0;
}

struct activate {
	struct writer *w;
	struct mreg_error *err;
};

static int activate_cb(struct mreg_cache_entry *e, void *arg)
{
	struct activate *a = arg;

	if (owners_cb(e, a->w) != 0) {
		mreg_error_set(a->err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (e->done && e->key && !e->error)
		claim_key(a->w, e->key, e->path, true, a->err);
	return a->err->status ? -1 : 0;
}

/*
 * Claims matter only once a model file has been read: until then every
 * file was unchanged.  The first such file builds the claims of the files
 * handled so far and the map of recorded owners.
 */
static int activate_claims(struct writer *w, struct mreg_error *err)
{
	struct activate a = { w, err };

	w->claims_active = true;
	return mreg_cache_foreach(w->run->cache, activate_cb, &a) ? -1 : 0;
}

/* An unchanged file (cached entry e) has been handled. */
static int take_unchanged(struct writer *w, const struct mreg_cache_entry *e,
			  struct mreg_error *err)
{
	if (e->error) {
		report_file(w->run, e->path, e->error, false);
		mark_failed(w);
	} else if (e->key && w->claims_active) {
		claim_key(w, e->key, e->path, true, err);
		if (err->status)
			return -1;
	}
	return release_waiting(w, e->path, err);
}

/* Handle one result; -1 on a fatal error. */
static int take_result(struct writer *w, struct result *r,
		       struct mreg_error *err)
{
	struct run *run = w->run;
	char key[1024];
	bool keep = false;
	struct claim *c;
	char *rel = NULL;
	size_t i;

	if (r->kind == R_UNCHANGED) {
		atomic_fetch_add(&run->done, (long)r->nmany);
		for (i = 0; i < r->nmany; i++)
			if (take_unchanged(w, r->many[i], err) < 0)
				break;
		result_free(r);
		return err->status ? -1 : 0;
	}
	atomic_fetch_add(&run->done, 1);
	if (r->kind != R_WALK && !(rel = xstrdup(r->rel))) {
		result_free(r);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (r->kind == R_MODEL && !w->claims_active &&
	    activate_claims(w, err) < 0) {
		result_free(r);
		free(rel);
		return -1;
	}
	switch (r->kind) {
	case R_WALK:
		report_file(run, r->rel, r->error, false);
		run->walk_errors++;
		w->failed++;
		if (run->o->strict)
			w->abort_writes = true;
		break;
	case R_FAIL:
		report_file(run, r->rel, r->error, false);
		mark_failed(w);
		break;
	case R_ERROR:
		report_file(run, r->rel, r->error, false);
		mark_failed(w);
		keep = true;
		break;
	case R_UNCHANGED: /* handled above */
	case R_TOUCH:
		if (r->entry && r->entry->error) {
			report_file(run, r->rel, r->entry->error, false);
			mark_failed(w);
		} else if (r->entry && r->entry->key && w->claims_active) {
			claim_key(w, r->entry->key, r->entry->path, true, err);
		}
		keep = r->kind == R_TOUCH;
		break;
	case R_MODEL:
		snprintf(key, sizeof(key), "%s/%s", r->model.provider,
			 r->model.name);
		keep = claim_key(w, key, r->rel, false, err);
		if (keep && (c = claims_find(&w->claims, key)) != NULL) {
			r->claim = c;
			if (must_wait_for_owner(w, key, r->rel)) {
				c->deferred = r;
				keep = false;
				r = NULL;
			}
		}
		break;
	}
	if (err->status) {
		result_free(r);
		free(rel);
		return -1;
	}
	if (r && !keep)
		result_free(r);
	else if (r && batch_add(w, r, err) < 0)
		goto fail;
	if (rel && release_waiting(w, rel, err) < 0)
		goto fail;
	free(rel);
	if (w->ninvalid >= (size_t)run->o->batch_size)
		return write_batch(w, err);
	return 0;
fail:
	free(rel);
	return -1;
}

/* --- loading the cache --------------------------------------------------- */

static const char *const load_sql =
	"DECLARE mreg_import_cache NO SCROLL CURSOR FOR"
	" SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device,"
	" s.sha256, s.racy, s.error, s.model_id, p.name || '/' || m.name"
	" FROM mreg.source_files s"
	" LEFT JOIN mreg.models m ON m.id = s.model_id"
	" LEFT JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE s.source = $1";

static int load_cache(struct run *run, struct mreg_conn *conn,
		      struct mreg_error *err)
{
	const char *params[1] = { run->source };
	struct mreg_cache_entry e;
	PGresult *res = NULL;
	int i, n, rc = -1;

	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (mreg_db_command(conn, load_sql, 1, params, err) < 0)
		goto cleanup;
	do {
		res = mreg_db_exec(conn, "FETCH 20000 FROM mreg_import_cache",
				   0, NULL, PGRES_TUPLES_OK, err);
		if (!res)
			goto cleanup;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			memset(&e, 0, sizeof(e));
			e.path = PQgetvalue(res, i, 0);
			e.st.size = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			e.st.mtime_ns = strtoll(PQgetvalue(res, i, 2), NULL, 10);
			e.st.ctime_ns = strtoll(PQgetvalue(res, i, 3), NULL, 10);
			e.st.inode = (uint64_t)strtoll(PQgetvalue(res, i, 4),
						       NULL, 10);
			e.st.device = (uint64_t)strtoll(PQgetvalue(res, i, 5),
							NULL, 10);
			mreg_digest_from_hex(PQgetvalue(res, i, 6), e.sha256);
			e.racy = PQgetvalue(res, i, 7)[0] == 't';
			e.error = PQgetisnull(res, i, 8) ? NULL
							 : PQgetvalue(res, i, 8);
			e.model_id = PQgetisnull(res, i, 9)
					     ? 0
					     : strtoll(PQgetvalue(res, i, 9),
						       NULL, 10);
			e.key = PQgetisnull(res, i, 10) ? NULL
							: PQgetvalue(res, i, 10);
			if (mreg_cache_put(run->cache, &e) < 0) {
				mreg_error_set(err, MREG_EXIT_FAILURE,
					       "out of memory");
				goto cleanup;
			}
		}
		PQclear(res);
		res = NULL;
	} while (n > 0);
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	PQclear(res);
	if (rc < 0)
		mreg_db_rollback(conn);
	return rc;
}

/* --- the lock ------------------------------------------------------------ */

static const char *const lock_sql =
	"SELECT pg_try_advisory_lock(hashtextextended('mreg.import:' || $1, 0))";
static const char *const unlock_sql =
	"SELECT pg_advisory_unlock(hashtextextended('mreg.import:' || $1, 0))";
static const char *const holder_sql =
	"WITH k AS (SELECT hashtextextended('mreg.import:' || $1, 0) AS key)"
	" SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
	" coalesce(host(a.client_addr), 'local socket'),"
	" coalesce(a.usename::text, '?'),"
	" to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')"
	" FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
	" WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
	" AND l.database = (SELECT oid FROM pg_database"
	"                   WHERE datname = current_database())"
	" AND l.classid::text::bigint = (k.key >> 32) & 4294967295"
	" AND l.objid::text::bigint = k.key & 4294967295"
	" AND a.pid <> pg_backend_pid()";

/* 1 taken, 0 held by someone else (err has who), -1 error */
static int try_lock(struct run *run, struct mreg_conn *conn,
		    struct mreg_error *err)
{
	const char *params[1] = { run->source };
	struct mreg_error ignored;
	PGresult *res;
	int taken;

	res = mreg_db_exec(conn, lock_sql, 1, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	taken = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (taken)
		return 1;
	mreg_error_set(err, MREG_EXIT_LOCKED,
		       "another import of \"%s\" is running", run->source);
	mreg_error_clear(&ignored);
	res = mreg_db_exec(conn, holder_sql, 1, params, PGRES_TUPLES_OK,
			   &ignored);
	if (res && PQntuples(res) > 0)
		mreg_error_detail(err,
				  "Held by pid %s (%s) from %s as %s, connected since %s.",
				  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
				  PQgetvalue(res, 0, 4));
	PQclear(res);
	mreg_error_hint(err, "Use --wait to wait for it to finish.");
	return 0;
}

/* --- prune --------------------------------------------------------------- */

struct gone {
	struct mreg_copy *cp;
	struct run *run;
	long n;
};

static int gone_cb(struct mreg_cache_entry *e, void *arg)
{
	struct gone *g = arg;

	if (e->seen)
		return 0;
	g->n++;
	if (g->cp) {
		mreg_copy_field(g->cp, e->path);
		mreg_copy_row(g->cp);
	} else if (!g->run->o->prune) {
		report_file(g->run, e->path,
			    "file is gone; its model stays active (see --prune)",
			    true);
	}
	return 0;
}

/* $1 source, $2 actor */
static const char *const prune_defaults_sql =
	"SELECT g.path, p.name || '/' || m.name, m.type"
	" FROM mreg_import_gone g"
	" JOIN mreg.source_files s ON s.source = $1 AND s.path = g.path"
	" JOIN mreg.models m ON m.id = s.model_id"
	" JOIN mreg.providers p ON p.id = m.provider_id"
	" JOIN mreg.model_defaults d ON d.model_id = m.id"
	" WHERE $2::text IS NOT NULL ORDER BY 1";
static const char *const prune_sql =
	"WITH cand AS (SELECT DISTINCT s.model_id FROM mreg.source_files s"
	" JOIN mreg_import_gone g ON g.path = s.path"
	" WHERE s.source = $1 AND s.model_id IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM mreg.model_defaults d"
	"                 WHERE d.model_id = s.model_id)"
	" AND NOT EXISTS (SELECT 1 FROM mreg.source_files o"
	"   WHERE o.model_id = s.model_id AND NOT (o.source = $1 AND o.path IN"
	"   (SELECT path FROM mreg_import_gone)))),"
	" upd AS (UPDATE mreg.models m SET active = false, updated_at = now()"
	" FROM cand WHERE m.id = cand.model_id AND m.active"
	" RETURNING m.id, m.provider_id, m.name)"
	" INSERT INTO mreg.audit_log (actor, action, resource, model_id, details)"
	" SELECT $2, 'model.deactivate', 'models/' || p.name || '/' || upd.name,"
	" upd.id, jsonb_build_object('source', $1::text, 'path', s.path,"
	" 'reason', 'source file removed', 'old', jsonb_build_object('active',"
	" true), 'new', jsonb_build_object('active', false))"
	" FROM upd JOIN mreg.providers p ON p.id = upd.provider_id"
	" JOIN LATERAL (SELECT min(x.path) AS path FROM mreg.source_files x"
	"   WHERE x.source = $1 AND x.model_id = upd.id) s ON true"
	" RETURNING resource, details->>'path'";
static const char *const prune_delete_sql =
	"DELETE FROM mreg.source_files s USING mreg_import_gone g"
	" WHERE s.source = $1 AND s.path = g.path AND NOT EXISTS"
	" (SELECT 1 FROM mreg.model_defaults d WHERE d.model_id = s.model_id)"
	" AND $2::text IS NOT NULL";

static int prune(struct writer *w, struct mreg_error *err)
{
	struct run *run = w->run;
	const char *params[2] = { run->source, cli_actor(run->ctx) };
	struct gone g = { NULL, run, 0 };
	struct mreg_copy cp;
	PGresult *res = NULL;
	char msg[1024];
	int k, rc = -1;

	mreg_cache_foreach(run->cache, gone_cb, &g);
	w->missing = g.n;
	if (!run->o->prune || g.n == 0 || w->abort_writes)
		return 0;
	if (run->walk_errors > 0) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		cli_warn(run->ctx,
			 "not pruning: the walk of \"%s\" was incomplete",
			 run->label_root);
		pthread_mutex_unlock(&run->print_lock);
		return 0;
	}
	if (!w->in_txn) {
		if (mreg_db_begin(w->conn, err) < 0)
			return -1;
		w->in_txn = true;
	}
	if (mreg_db_command(w->conn,
			    "CREATE TEMP TABLE mreg_import_gone (path text"
			    " PRIMARY KEY) ON COMMIT DROP", 0, NULL, err) < 0 ||
	    mreg_copy_begin(&cp, w->conn,
			    "COPY mreg_import_gone (path) FROM STDIN", err) < 0)
		goto cleanup;
	g.cp = &cp;
	g.n = 0;
	mreg_cache_foreach(run->cache, gone_cb, &g);
	if (mreg_copy_end(&cp, err) < 0)
		goto cleanup;
	res = mreg_db_exec(w->conn, prune_defaults_sql, 2, params,
			   PGRES_TUPLES_OK, err);
	if (!res)
		goto cleanup;
	for (k = 0; k < PQntuples(res); k++) {
		snprintf(msg, sizeof(msg),
			 "file is gone but model \"%s\" is the default for type \"%s\": not deactivated",
			 PQgetvalue(res, k, 1), PQgetvalue(res, k, 2));
		report_file(run, PQgetvalue(res, k, 0), msg, true);
		w->kept_defaults++;
	}
	PQclear(res);
	res = mreg_db_exec(w->conn, prune_sql, 2, params, PGRES_TUPLES_OK,
			   err);
	if (!res)
		goto cleanup;
	w->pruned = PQntuples(res);
	if (!run->o->json && !run->o->quiet) {
		pthread_mutex_lock(&run->print_lock);
		progress_clear(run);
		for (k = 0; k < PQntuples(res); k++)
			printf("%s %s (%s/%s gone)\n",
			       run->o->dry_run ? "would deactivate" : "deactivated",
			       PQgetvalue(res, k, 0), run->label_root,
			       PQgetvalue(res, k, 1));
		pthread_mutex_unlock(&run->print_lock);
	}
	PQclear(res);
	res = NULL;
	if (mreg_db_command(w->conn, prune_delete_sql, 2, params, err) < 0 ||
	    mreg_db_command(w->conn, "DROP TABLE mreg_import_gone", 0, NULL,
			    err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	PQclear(res);
	return rc;
}

/* --- the command --------------------------------------------------------- */

static void print_summary(struct run *run, struct writer *w)
{
	long scanned = atomic_load(&run->scanned);
	long unchanged = scanned - w->added - w->updated - w->failed_files;
	double t = elapsed_s(run);
	json_t *o;
	char *s;

	if (unchanged < 0)
		unchanged = 0;
	if (run->o->json) {
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b}",
			      "source", run->source,
			      "scanned", (json_int_t)scanned,
			      "hashed", (json_int_t)atomic_load(&run->hashed),
			      "unchanged", (json_int_t)unchanged,
			      "added", (json_int_t)w->added,
			      "updated", (json_int_t)w->updated,
			      "failed", (json_int_t)w->failed,
			      "pruned", (json_int_t)w->pruned,
			      "missing", (json_int_t)w->missing,
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
		       run->o->dry_run ? "dry run: " : "", scanned, unchanged,
		       w->added, w->updated, w->failed, w->pruned, w->missing,
		       t);
	}
}

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : n;
}

/*
 * The canonical absolute path of the directory open as fd: getcwd() after
 * fchdir() resolves symbolic links.  Called before any thread starts.
 */
static int canonical_path(int fd, char *out, size_t len)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1, e = 0;

	if (here < 0)
		return -1;
	if (fchdir(fd) == 0) {
		if (getcwd(out, len))
			rc = 0;
		else
			e = errno;
		if (fchdir(here) < 0 && rc == 0) {
			e = errno;
			rc = -1;
		}
	} else {
		e = errno;
	}
	close(here);
	errno = e;
	return rc;
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
		lk = try_lock(run, conn, &err);
		if (lk == 1)
			return 0;
		if (lk < 0 || !run->o->wait)
			return cli_report(run->ctx, &err);
		if (!said && !run->o->quiet) {
			cli_verbose(run->ctx, "%s", err.detail);
			fprintf(stderr, "mreg %s: waiting for another import of \"%s\"\n",
				run->ctx->command, run->source);
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
	struct writer w;
	struct mreg_error err;
	struct mreg_pool *pool = NULL;
	struct mreg_conn *lock_conn = NULL;
	struct mreg_workers *workers = NULL;
	pthread_t walker, progress;
	bool walker_started = false, progress_started = false, locked = false;
	bool fatal = false;
	struct result *r;
	char real[PATH_MAX], ebuf[128];
	char *label = NULL;
	const char *params[1];
	size_t n;
	int rc, argi = 0, status = MREG_EXIT_FAILURE;

	memset(&run, 0, sizeof(run));
	memset(&w, 0, sizeof(w));
	mreg_error_clear(&err);
	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	run.rootfd = -1;
	pthread_mutex_init(&run.print_lock, NULL);
	pthread_mutex_init(&run.ready_lock, NULL);
	pthread_cond_init(&run.ready_cond, NULL);
	o.jobs = default_jobs();
	rc = cli_parse(ctx, &spec, argc, argv, on_option, &ps, &argi);
	if (rc != -1)
		return cli_finish(ctx, rc);
	if (argc - argi != 1)
		return cli_finish(ctx, cli_usage(ctx, argc - argi < 1
						 ? "missing DIR"
						 : "only one DIR, please"));
	run.ctx = ctx;
	run.o = &o;
	w.run = &run;

	label = xstrdup(argv[argi]);
	if (!label)
		goto oom;
	n = strlen(label);
	while (n > 1 && label[n - 1] == '/')
		label[--n] = '\0';
	run.label_root = label;
	run.rootfd = open(label, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run.rootfd < 0) {
		status = cli_fail(ctx, MREG_EXIT_DATA,
				  "could not open directory \"%s\": %s", label,
				  mreg_strerror(errno, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	if (o.source) {
		run.source = xstrdup(o.source);
	} else if (canonical_path(run.rootfd, real, sizeof(real)) == 0) {
		run.source = xstrdup(real);
	} else {
		status = cli_fail(ctx, MREG_EXIT_DATA,
				  "could not resolve \"%s\": %s", label,
				  mreg_strerror(errno, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	if (!run.source)
		goto oom;
	/* the boundary of the racy rule, before anything is read */
	if (mreg_fs_clock_read(run.rootfd, &run.clock, &err) < 0)
		goto report;
	if (!run.clock.from_fs)
		cli_verbose(ctx, "\"%s\" is not writable: racy boundary from the system clock",
			    label);

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
	w.conn = mreg_pool_acquire(pool, &err);
	if (!w.conn)
		goto report;
	run.cache = mreg_cache_create();
	w.batch = calloc((size_t)o.batch_size, sizeof(*w.batch));
	if (!run.cache || !w.batch)
		goto oom;

	json_object_seed(0); /* before any thread uses jansson */
	run.jobs = mreg_queue_create((size_t)o.jobs * 64, &err);
	run.results = run.jobs ? mreg_queue_create(1024, &err) : NULL;
	if (!run.results)
		goto report;
	w.one_txn = o.strict || o.dry_run;
	run.show_progress = !o.quiet &&
			    (o.progress || (cli_isatty(stderr) && !getenv("NO_COLOR")));

	atomic_store(&run.producers, (int)o.jobs + 1);
	workers = mreg_workers_start((int)o.jobs, worker_main, &run, &err);
	if (!workers || mreg_workers_count(workers) < o.jobs) {
		/* those that started see the closed queues and leave */
		atomic_store(&run.producers, INT_MAX);
		mreg_queue_close(run.jobs);
		mreg_queue_close(run.results);
		mreg_workers_join(workers);
		workers = NULL;
		if (!err.status)
			mreg_error_set(&err, MREG_EXIT_FAILURE, "out of memory");
		goto report;
	}
	if (pthread_create(&walker, NULL, walker_main, &run) != 0) {
		mreg_error_set(&err, MREG_EXIT_FAILURE,
			       "could not start the walker thread");
		mreg_queue_close(run.jobs);
		producer_exit(&run); /* the walker's share */
		fatal = true;
	} else {
		walker_started = true;
	}
	/* the walk runs meanwhile; found files wait for the cache */
	if (!fatal && load_cache(&run, w.conn, &err) < 0)
		fatal = true;
	if (!fatal) {
		cli_verbose(ctx, "source \"%s\": %zu files recorded (loaded at %.3f s)",
			    run.source, mreg_cache_count(run.cache),
			    elapsed_s(&run));
	}
	pthread_mutex_lock(&run.ready_lock);
	run.cache_ready = true;
	run.cache_failed = fatal;
	pthread_cond_broadcast(&run.ready_cond);
	pthread_mutex_unlock(&run.ready_lock);
	atomic_store(&run.cache_ready_fast, true);
	if (fatal) {
		atomic_store(&run.stop, true);
		mreg_queue_close(run.jobs);
	}
	if (run.show_progress &&
	    pthread_create(&progress, NULL, progress_main, &run) == 0)
		progress_started = true;

	while ((r = mreg_queue_pop(run.results)) != NULL) {
		if (fatal) {
			result_free(r);
			continue;
		}
		if (take_result(&w, r, &err) < 0) {
			fatal = true;
			atomic_store(&run.stop, true);
			mreg_queue_close(run.jobs);
		}
	}
	if (walker_started)
		pthread_join(walker, NULL);
	mreg_workers_join(workers);
	workers = NULL;
	if (!fatal && run.walk_rc < 0) {
		err = run.walk_err;
		mreg_error_prefix(&err, "could not walk \"%s\"", label);
		fatal = true;
	}
	if (!fatal && (release_all(&w, &err) < 0 || write_batch(&w, &err) < 0 ||
		       prune(&w, &err) < 0))
		fatal = true;
	if (!fatal && w.in_txn) {
		if (o.dry_run || w.abort_writes) {
			mreg_db_rollback(w.conn);
		} else if (mreg_db_commit(w.conn, &err) < 0) {
			fatal = true;
		}
		w.in_txn = false;
	}
	if (progress_started) {
		atomic_store(&run.stop, true);
		pthread_join(progress, NULL);
		progress_started = false;
		/* a log gets the final counts; a terminal loses the line */
		if (!cli_isatty(stderr))
			progress_draw(&run);
	}
	progress_clear(&run);
	if (fatal)
		goto report;
	if (w.abort_writes)
		cli_fail(ctx, MREG_EXIT_DATA,
			 "nothing imported: %ld bad file%s (--strict)", w.failed,
			 w.failed == 1 ? "" : "s");
	print_summary(&run, &w);
	status = w.failed > 0 ? MREG_EXIT_DATA : MREG_EXIT_OK;
	goto cleanup;

oom:
	mreg_error_set(&err, MREG_EXIT_FAILURE, "out of memory");
report:
	status = cli_report(ctx, &err);
cleanup:
	if (progress_started) {
		atomic_store(&run.stop, true);
		pthread_join(progress, NULL);
	}
	if (w.in_txn)
		mreg_db_rollback(w.conn);
	if (w.conn)
		mreg_pool_release(pool, w.conn);
	if (locked) {
		/* best effort: a lost session has released it anyway */
		PGresult *res;
		struct mreg_error ignored;
		mreg_error_clear(&ignored);
		params[0] = run.source;
		res = mreg_db_exec(lock_conn, unlock_sql, 1, params,
				   PGRES_TUPLES_OK, &ignored);
		PQclear(res);
	}
	if (lock_conn)
		mreg_pool_release(pool, lock_conn);
	for (n = 0; n < w.nbatch; n++)
		result_free(w.batch[n]);
	free(w.batch);
	for (n = 0; n < w.ninvalid; n++)
		free(w.invalid[n]);
	free(w.invalid);
	claims_free(&w.claims);
	claims_free(&w.owners);
	mreg_queue_destroy(run.jobs);
	mreg_queue_destroy(run.results);
	mreg_cache_destroy(run.cache);
	if (run.rootfd >= 0)
		close(run.rootfd);
	free(run.source);
	free(label);
	pthread_mutex_destroy(&run.print_lock);
	pthread_mutex_destroy(&run.ready_lock);
	pthread_cond_destroy(&run.ready_cond);
	return cli_finish(ctx, status);
}
