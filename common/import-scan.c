/* import-scan.c - the producer of import-dir: walk, consult the cache, read
 *
 * Threads: one walker (walker_main) and cfg->jobs workers (worker_main);
 * see import-scan.h.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact-cache.h"
#include "import-scan.h"
#include "walk.h"
#include "workqueue.h"

struct job {
	char *rel;
	struct mreg_cache_entry *entry;
	bool check_arts; /* a cache hit, if its artifacts are as recorded */
};

/* a file walked before the cache was loaded (walker only) */
struct mreg_scan_pending {
	char *rel;
	struct mreg_stat st;
	char *why;  /* a bad file: why it cannot be imported */
};

void mreg_scan_result_free(struct mreg_scan_result *r)
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

/* "L:C: message" when there is a position, else the message. */
static char *format_error(const struct mreg_error *err)
{
	char buf[2048];

	if (err->line > 0)
		snprintf(buf, sizeof(buf), "%ld:%ld: %s", err->line,
			 err->column, err->message);
	else
		snprintf(buf, sizeof(buf), "%s", err->message);
	return strdup(buf);
}

static void producer_exit(struct mreg_scan *s)
{
	if (atomic_fetch_sub(&s->producers, 1) == 1)
		mreg_queue_close(s->results);
}

/* --- the walker ---------------------------------------------------------- */

static int push_result(struct mreg_scan *s, struct mreg_scan_result *r)
{
	if (mreg_queue_push(s->results, r) < 0) {
		mreg_scan_result_free(r);
		return -1;
	}
	return 0;
}

#define HITS_PER_RESULT 256

/* Send the cache hits gathered so far as one result (walker only). */
static int flush_hits(struct mreg_scan *s)
{
	struct mreg_scan_result *r;

	if (s->nhits == 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->kind = MREG_SCAN_UNCHANGED;
	r->many = s->hits;
	r->nmany = s->nhits;
	s->hits = NULL;
	s->nhits = 0;
	return push_result(s, r) < 0;
}

/*
 * A file found by the walk that cannot be imported whatever it holds (not
 * a regular file, a path too long to record; rel and why are taken
 * over): reported, not cached, and seen (a recorded file in that state is
 * not "gone").
 */
static int walk_bad_file(struct mreg_scan *s, char *rel, char *why)
{
	struct mreg_scan_result *r = calloc(1, sizeof(*r));
	struct mreg_cache_entry *e;

	atomic_fetch_add(&s->scanned, 1);
	if ((e = mreg_cache_get(s->cache, rel)) != NULL)
		e->seen = true;
	if (!r) {
		free(rel);
		free(why);
		return 1;
	}
	r->kind = MREG_SCAN_FAIL;
	r->rel = rel;
	r->error = why;
	return push_result(s, r) < 0;
}

/* One file found by the walk (rel is taken over): a result or a job. */
static int walk_file(struct mreg_scan *s, char *rel,
		     const struct mreg_stat *now)
{
	struct mreg_cache_entry *e;
	struct job *j = NULL;
	bool hit;

	atomic_fetch_add(&s->scanned, 1);
	e = mreg_cache_get(s->cache, rel);
	if (e)
		e->seen = true;
	hit = !s->cfg->rehash && mreg_cache_judge(e, now) == MREG_CACHE_HIT;
	/* a hit that lists artifacts: a worker looks at their stat first */
	if (hit && !mreg_artifacts_to_check(e)) {
		/* nothing to read: sent in bunches to spare the queue */
		free(rel);
		if (!s->hits &&
		    !(s->hits = calloc(HITS_PER_RESULT, sizeof(*s->hits))))
			return 1;
		s->hits[s->nhits++] = e;
		if (s->nhits == HITS_PER_RESULT)
			return flush_hits(s);
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		free(rel);
		return 1;
	}
	j->rel = rel;
	j->entry = s->cfg->rehash ? NULL : e;
	j->check_arts = hit; /* the workers stat its artifacts */
	if (mreg_queue_push(s->jobs, j) < 0) {
		free(j->rel);
		free(j);
		return 1;
	}
	return 0;
}

/*
 * The walk starts while the cache is still loading: files found before it
 * is ready wait in s->pending.  Wait for the cache (0), or learn that
 * loading it failed (-1).
 */
static int wait_for_cache(struct mreg_scan *s)
{
	int rc;

	pthread_mutex_lock(&s->ready_lock);
	while (!s->cache_ready)
		pthread_cond_wait(&s->ready_cond, &s->ready_lock);
	rc = s->cache_failed ? -1 : 0;
	pthread_mutex_unlock(&s->ready_lock);
	return rc;
}

static int take_found(struct mreg_scan *s, char *rel,
		      const struct mreg_stat *now, char *why)
{
	return why ? walk_bad_file(s, rel, why) : walk_file(s, rel, now);
}

static int drain_pending(struct mreg_scan *s)
{
	struct mreg_scan_pending *p;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->npending; i++) {
		p = &s->pending[i];
		if (rc == 0 && !atomic_load(&s->stop)) {
			rc = take_found(s, p->rel, &p->st, p->why);
		} else {
			free(p->rel);
			free(p->why);
		}
	}
	free(s->pending);
	s->pending = NULL;
	s->npending = s->cappending = 0;
	return rc;
}

/* A file found by the walk (rel and why taken over), once the cache is
 * ready. */
static int found(struct mreg_scan *s, char *rel, const struct mreg_stat *now,
		 char *why)
{
	if (!atomic_load(&s->cache_ready_fast)) {
		if (s->npending == s->cappending) {
			size_t n = s->cappending ? s->cappending * 2 : 1024;
			struct mreg_scan_pending *p =
				realloc(s->pending, n * sizeof(*p));
			if (!p) {
				free(rel);
				free(why);
				return 1;
			}
			s->pending = p;
			s->cappending = n;
		}
		s->pending[s->npending].rel = rel;
		if (now)
			s->pending[s->npending].st = *now;
		s->pending[s->npending].why = why;
		s->npending++;
		return 0;
	}
	if (s->pending) {
		if (wait_for_cache(s) < 0 || drain_pending(s) != 0) {
			free(rel);
			free(why);
			return 1;
		}
	}
	return take_found(s, rel, now, why);
}

static int on_walk(void *arg, const char *rel, const struct stat *st,
		   const struct mreg_error *err)
{
	struct mreg_scan *s = arg;
	struct mreg_scan_result *r = NULL;
	struct mreg_stat now;
	size_t len = strlen(rel);
	char *copy, *why = NULL, buf[128];

	if (atomic_load(&s->stop))
		return 1;
	if (err && !st) {
		r = calloc(1, sizeof(*r));
		if (!r || !(r->rel = strdup(rel)) ||
		    !(r->error = strdup(err->message))) {
			mreg_scan_result_free(r);
			return 1;
		}
		r->kind = MREG_SCAN_WALK;
		return push_result(s, r) < 0;
	}
	if (err) {
		why = strdup(err->message);
	} else if (len > MREG_SCAN_PATH_MAX) {
		/* mreg.source_files could not index it: never sent */
		snprintf(buf, sizeof(buf), "path too long (%zu bytes, at most %d)",
			 len, MREG_SCAN_PATH_MAX);
		why = strdup(buf);
	}
	if (!(copy = strdup(rel)) || ((err || len > MREG_SCAN_PATH_MAX) && !why)) {
		free(copy);
		free(why);
		return 1;
	}
	mreg_stat_from(&now, st);
	return found(s, copy, &now, why);
}

/*
 * Threads that share the walk's stat() calls with the walker: --jobs
 * bounds them as it bounds the readers, and more than the cores (or than
 * four in all) buys nothing for system calls this short.
 */
static int stat_helpers(const struct mreg_scan *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), n = s->cfg->jobs;

	if (cpus > 0 && n > cpus)
		n = cpus;
	if (n > 4)
		n = 4;
	return n > 1 ? (int)n - 1 : 0;
}

static void *walker_main(void *arg)
{
	struct mreg_scan *s = arg;

	s->walk_rc = mreg_walk(&s->tree, s->cfg->pattern, stat_helpers(s),
			       on_walk, s, &s->walk_err);
	if (s->pending) {
		if (wait_for_cache(s) < 0)
			atomic_store(&s->stop, true);
		drain_pending(s);
	}
	if (!atomic_load(&s->stop))
		flush_hits(s);
	free(s->hits);
	s->hits = NULL;
	atomic_store(&s->walk_done, true);
	mreg_queue_close(s->jobs);
	producer_exit(s);
	return NULL;
}

/* --- the workers --------------------------------------------------------- */

/*
 * Open rel inside the tree (a link out of it, a FIFO, a device: an error,
 * nothing opened) and read and hash it.
 */
static int read_file(struct mreg_scan *s, const char *rel, long long max,
		     char **buf, size_t *len, struct mreg_stat *st,
		     unsigned char d[MREG_SHA256_LEN], int *errnum,
		     struct mreg_error *err)
{
	struct mreg_tree_found f;
	int rc;

	if (mreg_tree_open(&s->tree, rel, MREG_TREE_FILE, &f, err) < 0) {
		mreg_error_at(err, rel, 0, 0);
		if (errnum)
			*errnum = f.errnum;
		return -1;
	}
	rc = mreg_hash_fd(f.fd, rel, max, buf, len, st, d, err);
	close(f.fd);
	return rc;
}

/*
 * What the model file records for an artifact (an object item, as mreg
 * export writes them), against the file found: NULL when they agree (or
 * nothing is recorded), else why not, in msg.
 */
static const char *check_recorded(const struct mreg_artifact_record *rec,
				  long long size, const char *sha, char *msg,
				  size_t len)
{
	if (!rec)
		return NULL;
	if (rec->size >= 0 && rec->size != size) {
		snprintf(msg, len, "the file has %lld bytes, the model file "
			 "records %lld", size, rec->size);
		return msg;
	}
	if (rec->sha256[0] && strcmp(rec->sha256, sha) != 0) {
		snprintf(msg, len, "the file's SHA-256 is %s, the model file "
			 "records %s", sha, rec->sha256);
		return msg;
	}
	return NULL;
}

static void hash_artifacts(struct mreg_scan *s, struct mreg_scan_result *r)
{
	struct mreg_error err;
	struct mreg_stat st;
	unsigned char d[MREG_SHA256_LEN];
	char path[PATH_MAX], msg[1400], why[256];
	size_t i, n = r->model.nartifacts;
	const struct mreg_artifact_record *rec;
	bool absent;
	int errnum;

	if (n == 0)
		return;
	r->arts = calloc(n, sizeof(*r->arts));
	if (!r->arts)
		goto oom;
	for (i = 0; i < n; i++) {
		const char *a = r->model.artifacts[i];
		rec = r->model.recorded ? &r->model.recorded[i] : NULL;
		if (mreg_artifact_rel(r->rel, a, path, sizeof(path)) < 0) {
			snprintf(msg, sizeof(msg),
				 "key 'artifacts': \"%.200s%s\": path too long", a,
				 strlen(a) > 200 ? "..." : "");
			goto fail;
		}
		mreg_error_clear(&err);
		errnum = 0;
		absent = false;
		if (read_file(s, path, -1, NULL, NULL, &st, d, &errnum,
			      &err) < 0) {
			/* absent, and the model file records it: taken as
			 * recorded (mreg-model(5)) */
			if (errnum == ENOENT && rec && rec->size >= 0 &&
			    rec->sha256[0]) {
				memset(&st, 0, sizeof(st));
				st.size = rec->size;
				memcpy(r->arts[i].sha, rec->sha256,
				       MREG_SHA256_HEX);
				absent = true;
			} else {
				snprintf(msg, sizeof(msg),
					 "key 'artifacts': \"%.200s%s\": %s", a,
					 strlen(a) > 200 ? "..." : "",
					 err.message);
				goto fail;
			}
		} else {
			mreg_digest_to_hex(d, r->arts[i].sha);
			if (check_recorded(rec, st.size, r->arts[i].sha, why,
					   sizeof(why))) {
				snprintf(msg, sizeof(msg),
					 "key 'artifacts': \"%.200s%s\": %s", a,
					 strlen(a) > 200 ? "..." : "", why);
				goto fail;
			}
		}
		r->arts[i].path = strdup(a);
		if (!r->arts[i].path)
			goto oom;
		r->arts[i].size = st.size;
		r->arts[i].st = st;
		/* an absent artifact taken as recorded: never trusted by stat */
		r->arts[i].racy = absent || mreg_stat_is_racy(&st, &s->clock);
		r->narts = i + 1;
	}
	return;
oom:
	snprintf(msg, sizeof(msg), "out of memory");
fail:
	/* an artifact may appear later without the model file changing:
	 * report, do not cache */
	r->kind = MREG_SCAN_FAIL;
	r->error = strdup(msg);
	mreg_model_finish(&r->model);
}

/*
 * A cache hit whose artifacts are as recorded: the same result as the
 * walker's hits, for one entry.  NULL when out of memory.
 */
static struct mreg_scan_result *one_hit(struct mreg_scan_result *r,
					struct mreg_cache_entry *e)
{
	r->kind = MREG_SCAN_UNCHANGED;
	r->many = malloc(sizeof(*r->many));
	if (!r->many) {
		mreg_scan_result_free(r);
		return NULL;
	}
	r->many[0] = e;
	r->nmany = 1;
	return r;
}

static struct mreg_scan_result *process(struct mreg_scan *s,
					struct job *j)
{
	struct mreg_scan_result *r = calloc(1, sizeof(*r));
	struct mreg_error err;
	char *buf = NULL;
	size_t len = 0;
	struct mreg_cache_entry *e = j->entry;
	bool arts_ok;

	if (!r)
		return NULL;
	if (j->check_arts && mreg_artifacts_fresh(&s->tree, e))
		return one_hit(r, e);
	r->rel = j->rel;
	j->rel = NULL;
	r->entry = e;
	mreg_error_clear(&err);
	if (read_file(s, r->rel, s->cfg->max_file_size, &buf, &len, &r->st, r->sha,
		      NULL, &err) < 0) {
		r->kind = MREG_SCAN_FAIL;
		r->error = format_error(&err);
		return r;
	}
	atomic_fetch_add(&s->hashed, 1);
	r->racy = mreg_stat_is_racy(&r->st, &s->clock);
	/* a hit whose artifacts changed: read them again (below) */
	arts_ok = !j->check_arts && (!mreg_artifacts_to_check(e) ||
				     mreg_artifacts_fresh(&s->tree, e));
	if (e && memcmp(e->sha256, r->sha, MREG_SHA256_LEN) == 0 &&
	    (e->model_id || e->error) && arts_ok) {
		/* same bytes as recorded, artifacts too: not imported again */
		r->kind = MREG_SCAN_TOUCH;
		free(buf);
		return r;
	}
	if (mreg_model_parse(buf, len, r->rel, &r->model, &err) < 0) {
		r->kind = err.status == MREG_EXIT_DATA ? MREG_SCAN_ERROR
						       : MREG_SCAN_FAIL;
		r->error = format_error(&err);
	} else {
		r->kind = MREG_SCAN_MODEL;
		hash_artifacts(s, r);
	}
	free(buf);
	return r;
}

static void *worker_main(void *arg)
{
	struct mreg_scan *s = arg;
	struct job *j;
	struct mreg_scan_result *r;

	while ((j = mreg_queue_pop(s->jobs)) != NULL) {
		r = atomic_load(&s->stop) ? NULL : process(s, j);
		free(j->rel);
		free(j);
		if (!r)
			continue;
		if (push_result(s, r) < 0)
			atomic_store(&s->stop, true);
	}
	producer_exit(s);
	return NULL;
}


/* --- the public side ----------------------------------------------------- */

void mreg_scan_init(struct mreg_scan *s, const struct mreg_import_config *cfg,
		    const char *root_real)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->tree.rootfd = cfg->rootfd;
	s->tree.real = root_real;
	s->tree.follow_external = cfg->follow_external;
	pthread_mutex_init(&s->ready_lock, NULL);
	pthread_cond_init(&s->ready_cond, NULL);
}

int mreg_scan_start_workers(struct mreg_scan *s, struct mreg_error *err)
{
	int jobs = s->cfg->jobs;

	s->jobs = mreg_queue_create((size_t)jobs * 64, err);
	s->results = s->jobs ? mreg_queue_create(1024, err) : NULL;
	if (!s->results)
		return -1;
	atomic_store(&s->producers, jobs + 1);
	s->workers = mreg_workers_start(jobs, worker_main, s, err);
	if (!s->workers || mreg_workers_count(s->workers) < jobs) {
		/* those that started see the closed queues and leave */
		atomic_store(&s->producers, INT_MAX);
		mreg_queue_close(s->jobs);
		mreg_queue_close(s->results);
		mreg_workers_join(s->workers);
		s->workers = NULL;
		if (!err->status)
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

int mreg_scan_start_walker(struct mreg_scan *s, struct mreg_error *err)
{
	if (pthread_create(&s->walker, NULL, walker_main, s) != 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not start the walker thread");
		mreg_queue_close(s->jobs);
		producer_exit(s); /* the walker's share */
		return -1;
	}
	s->walker_started = true;
	return 0;
}

void mreg_scan_cache_ready(struct mreg_scan *s, bool failed)
{
	pthread_mutex_lock(&s->ready_lock);
	s->cache_ready = true;
	s->cache_failed = failed;
	pthread_cond_broadcast(&s->ready_cond);
	pthread_mutex_unlock(&s->ready_lock);
	atomic_store(&s->cache_ready_fast, true);
	if (failed)
		mreg_scan_stop(s);
}

struct mreg_scan_result *mreg_scan_next(struct mreg_scan *s)
{
	return mreg_queue_pop(s->results);
}

void mreg_scan_stop(struct mreg_scan *s)
{
	atomic_store(&s->stop, true);
	mreg_queue_close(s->jobs);
}

void mreg_scan_join(struct mreg_scan *s)
{
	if (s->walker_started)
		pthread_join(s->walker, NULL);
	s->walker_started = false;
	mreg_workers_join(s->workers);
	s->workers = NULL;
}

void mreg_scan_finish(struct mreg_scan *s)
{
	mreg_queue_destroy(s->jobs);
	mreg_queue_destroy(s->results);
	s->jobs = s->results = NULL;
	pthread_mutex_destroy(&s->ready_lock);
	pthread_cond_destroy(&s->ready_cond);
}
