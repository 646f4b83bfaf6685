/* import-write.c - the consumer of import-dir: claims and batches
 * (see import-write.h) */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "audit.h"
#include "import-write.h"
#include "source.h"
#include "strmap.h"
#include "modelfile.h"

void mreg_importer_report(const struct mreg_importer *w, const char *rel,
			  const char *text, bool warning)
{
	if (w->cfg->ev.file)
		w->cfg->ev.file(w->cfg->ev.arg, rel, text, warning);
}

void mreg_importer_mark_failed(struct mreg_importer *w)
{
	w->failed++;
	w->failed_files++;
	if (w->cfg->strict)
		w->abort_writes = true;
}

/*
 * A transaction writes only while this run still holds the source's lock:
 * the fence keeps the lock row from being taken over until it ends, and
 * finds it gone when a stalled run's lock was taken over meanwhile.
 */
static int fence(struct mreg_importer *w, struct mreg_error *err)
{
	const char *params[2] = { w->cfg->source, w->cfg->lock_token };
	PGresult *res;
	int held;

	if (!w->cfg->lock_token)
		return 0;
	res = mreg_db_exec(w->cfg->conn, MREG_SOURCE_LOCK_FENCE_SQL, 2, params,
			   PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	held = PQntuples(res) == 1;
	PQclear(res);
	if (held)
		return 0;
	mreg_error_set(err, MREG_EXIT_LOCKED,
		       "lost the lock on \"%s\": another import took it over",
		       w->cfg->source);
	mreg_error_detail(err, "This run stalled past the lock's %d s without "
			  "a heartbeat; what it committed before stays.",
			  MREG_SOURCE_LOCK_TTL_S);
	return -1;
}

/*
 * Every lookup an import transaction makes is by key, through a btree.
 * pg_trgm's GIN index on models.name also answers name = x, and while the
 * statistics of a growing registry are stale (a first import of 100,000
 * files outruns autovacuum) the planner may take it: each lookup then
 * decodes the posting lists of trigrams most names share, and the import
 * turns quadratic (seen: 90-136 s instead of 30-37 s, two thirds of the
 * server's time in gingetbitmap).  GIN is reached only by bitmap scans,
 * so the transaction does without them.
 *
 * And a batch's lookups of its models (the lock step, the new models'
 * ids) are priced as the default random_page_cost of 4 has them: a
 * thousand index probes cost more than reading every model, so each
 * batch of a first import scanned the whole table, twice, a cost that
 * grows with every batch (10,000 files: 2 -> 22 ms a batch for the lock
 * step alone, ~0.25 s of the server's time in all; 100,000 files would
 * pay it a hundred times over a ten times larger table).  The rows an
 * import reads are those it just wrote or is about to change, in the
 * server's cache: probes are priced at 1.1, and the table is scanned only
 * while it is a few batches small.
 */
int mreg_importer_begin(struct mreg_importer *w, struct mreg_error *err)
{
	PGresult *res;

	if (w->in_txn)
		return 0;
	if (mreg_db_begin(w->cfg->conn, err) < 0)
		return -1;
	w->in_txn = true;
	res = mreg_db_exec(w->cfg->conn,
			   "SELECT set_config('enable_bitmapscan', 'off', true),"
			   " set_config('random_page_cost', '1.1', true)",
			   0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	return fence(w, err);
}

static int audit_context(struct mreg_importer *w, const char *reason,
			 long batch, struct mreg_error *err)
{
	json_t *ctx;
	int rc;

	ctx = json_pack("{s:s, s:s?}", "command", "import-dir", "source",
			w->cfg->source);
	if (ctx && reason)
		json_object_set_new(ctx, "reason", json_string(reason));
	else if (ctx)
		json_object_set_new(ctx, "batch", json_integer(batch));
	if (!ctx) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = mreg_audit_begin(w->cfg->conn, w->cfg->actor, ctx, err);
	json_decref(ctx);
	return rc;
}

int mreg_importer_audit_context(struct mreg_importer *w, const char *reason,
				struct mreg_error *err)
{
	return audit_context(w, reason, reason ? 0 : ++w->batches, err);
}

int mreg_importer_audit_batch(struct mreg_importer *w, long batch,
			      struct mreg_error *err)
{
	return audit_context(w, NULL, batch, err);
}

/* --- claims: one file per provider/name ---------------------------------- */

static int add_invalid(struct mreg_importer *w, const char *rel)
{
	if (w->ninvalid == w->capinvalid) {
		size_t n = w->capinvalid ? w->capinvalid * 2 : 16;
		char **p = realloc(w->invalid, n * sizeof(*p));
		if (!p)
			return -1;
		w->invalid = p;
		w->capinvalid = n;
	}
	if (!(w->invalid[w->ninvalid] = strdup(rel)))
		return -1;
	w->ninvalid++;
	return 0;
}

/*
 * Record that rel defines key.  false when another file defines it too:
 * both are reported and failed, and both are re-read next time.
 */
static bool claim_key(struct mreg_importer *w, const char *key,
		      const char *rel, bool borrow, struct mreg_error *err)
{
	struct mreg_claim *first;
	bool oom, written;
	char msg[2048];

	first = mreg_claims_take(&w->claims, key, rel, borrow, &oom);
	if (oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return false;
	}
	if (!first)
		return true;
	if (first->deferred) {
		mreg_scan_result_free(first->deferred);
		first->deferred = NULL;
	}
	/* the first file's row may have left in a batch already: say so */
	written = first->written && !w->cfg->dry_run;
	snprintf(msg, sizeof(msg),
		 written
			 ? "model \"%s\" is also defined in \"%s/%s\", which this run had written before it found this file; this file is not imported"
			 : "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
		 key, w->cfg->label_root, first->rel);
	mreg_importer_report(w, rel, msg, false);
	mreg_importer_mark_failed(w);
	add_invalid(w, rel);
	if (!first->conflicted) {
		first->conflicted = true;
		snprintf(msg, sizeof(msg),
			 written
				 ? "model \"%s\" is also defined in \"%s/%s\", found after this file was written; one of them must go"
				 : "model \"%s\" is also defined in \"%s/%s\"; neither file is imported",
			 key, w->cfg->label_root, rel);
		mreg_importer_report(w, first->rel, msg, false);
		mreg_importer_mark_failed(w);
		add_invalid(w, first->rel);
	}
	return false;
}

/*
 * Write what the batch holds: on this thread, or handed to a writer
 * (import-writers.c).  The claims are the consumer's: which rows a claim
 * in conflict keeps out is settled here, when the batch leaves.
 */
static void settle_claims(struct mreg_importer *w)
{
	size_t i;

	for (i = 0; i < w->nbatch; i++) {
		struct mreg_scan_result *r = w->batch[i];

		r->skip = r->kind == MREG_SCAN_MODEL && r->claim &&
			  r->claim->conflicted;
		if (r->kind == MREG_SCAN_MODEL && r->claim && !r->skip &&
		    !w->abort_writes)
			r->claim->written = true;
	}
}

static bool several_writers(const struct mreg_importer *w)
{
	return w->cfg->writers > 1 && w->cfg->pool && !w->one_txn;
}

static int flush(struct mreg_importer *w, struct mreg_error *err)
{
	settle_claims(w);
	if (several_writers(w) && (w->nbatch > 0 || w->ninvalid > 0)) {
		/* a file to invalidate may be in a batch still being written:
		 * its row must be there before this batch updates it (rare:
		 * two files claiming one model) */
		if (w->ninvalid > 0 && mreg_writers_drain(w, err) < 0)
			return -1;
		return mreg_writers_dispatch(w, err);
	}
	return mreg_importer_write_batch(w, err);
}

/*
 * The last batch is what is left when the walk ends: with one writer for
 * it the others idle while it is written, and a 1% re-import is often
 * nothing but that batch.  One of at least 2 * SPLIT_MIN files is cut
 * into as many parts as there are writers (each at least SPLIT_MIN: a
 * transaction and its fresh statements cost a few milliseconds of their
 * own), each part a batch and a transaction of its own, as if the
 * batch size had been smaller.  (100 of 10,000 files rewritten, two
 * writers: 65 -> 59 ms median of 11.)
 */
#define SPLIT_MIN 40

static int batch_add(struct mreg_importer *w, struct mreg_scan_result *r,
		     struct mreg_error *err)
{
	w->batch[w->nbatch++] = r;
	/* enough for a batch of their own: the other writers' connections
	 * open while the walk goes on (the last batch is split from twice
	 * this) */
	if (w->nbatch == SPLIT_MIN && several_writers(w))
		mreg_writers_open_ahead(w);
	if (w->nbatch >= (size_t)w->cfg->batch_size)
		return flush(w, err);
	return 0;
}

/*
 * The file recorded for a provider/name is other than rel, still there,
 * and not handled yet in this run: rel's row waits for it, so that a
 * conflict between them is found before either is written.
 */
static bool must_wait_for_owner(struct mreg_importer *w, const char *key,
				const char *rel)
{
	struct mreg_claim *owner = mreg_claims_find(&w->owners, key);
	struct mreg_cache_entry *e;
	struct stat st;

	if (!owner || strcmp(owner->rel, rel) == 0)
		return false;
	e = mreg_cache_get(w->scan->cache, owner->rel);
	if (!e || e->done)
		return false;
	return fstatat(w->cfg->rootfd, owner->rel, &st, 0) == 0 &&
	       S_ISREG(st.st_mode);
}

/* rel has been handled: release a row that waited for it. */
static int release_entry(struct mreg_importer *w, struct mreg_cache_entry *e,
			 struct mreg_error *err)
{
	struct mreg_claim *c;
	struct mreg_scan_result *r;

	e->done = true;
	if (!e->key || !(c = mreg_claims_find(&w->claims, e->key)) ||
	    !c->deferred)
		return 0;
	r = c->deferred;
	c->deferred = NULL;
	if (c->conflicted) {
		mreg_scan_result_free(r);
		return 0;
	}
	return batch_add(w, r, err);
}

static int release_waiting(struct mreg_importer *w, const char *rel,
			   struct mreg_error *err)
{
	struct mreg_cache_entry *e = mreg_cache_get(w->scan->cache, rel);

	return e ? release_entry(w, e, err) : 0;
}

/* At the end: rows still waiting (their owner's file never came). */
static int release_all(struct mreg_importer *w, struct mreg_error *err)
{
	struct mreg_claim *x;
	struct mreg_scan_result *r;
	size_t pos = 0;

	while ((x = mreg_claims_next(&w->claims, &pos)) != NULL) {
		if (!x->deferred)
			continue;
		r = x->deferred;
		x->deferred = NULL;
		if (x->conflicted)
			mreg_scan_result_free(r);
		else if (batch_add(w, r, err) < 0)
			return -1;
	}
	return 0;
}

static int owners_cb(struct mreg_cache_entry *e, void *arg)
{
	struct mreg_importer *w = arg;
	bool oom;

	if (e->key && !e->error) {
		mreg_claims_take(&w->owners, e->key, e->path, true, &oom);
		if (oom)
			return -1;
	}
	return 0;
}

struct activate {
	struct mreg_importer *w;
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
static int activate_claims(struct mreg_importer *w, struct mreg_error *err)
{
	struct activate a = { w, err };
	size_t n = mreg_cache_count(w->scan->cache);

	w->claims_active = true;
	if (mreg_claims_reserve(&w->owners, n) < 0 ||
	    mreg_claims_reserve(&w->claims, n) < 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return mreg_cache_foreach(w->scan->cache, activate_cb, &a) ? -1 : 0;
}

/* An unchanged file (cached entry e) has been handled. */
static int take_unchanged(struct mreg_importer *w,
			  struct mreg_cache_entry *e,
			  struct mreg_error *err)
{
	if (e->error) {
		mreg_importer_report(w, e->path, e->error, false);
		mreg_importer_mark_failed(w);
	} else if (e->key && w->claims_active) {
		claim_key(w, e->key, e->path, true, err);
		if (err->status)
			return -1;
	}
	return release_entry(w, e, err);
}

/* --- taking results ------------------------------------------------------ */

/*
 * What one result (not UNCHANGED) means: reported, counted, claimed.
 * true when it goes into the batch; *rp is NULL when it waits for its
 * model's recorded file.  err->status on a fatal error.
 */
static bool sort_result(struct mreg_importer *w, struct mreg_scan_result **rp,
			struct mreg_error *err)
{
	struct mreg_scan_result *r = *rp;
	const struct mreg_cache_entry *e = r->entry;
	char key[MREG_MODEL_KEY_MAX];
	struct mreg_claim *c;
	bool keep;

	switch (r->kind) {
	case MREG_SCAN_WALK:
		mreg_importer_report(w, r->rel, r->error, false);
		w->walk_errors++;
		w->failed++;
		if (w->cfg->strict)
			w->abort_writes = true;
		return false;
	case MREG_SCAN_FAIL:
	case MREG_SCAN_ERROR:
		mreg_importer_report(w, r->rel, r->error, false);
		mreg_importer_mark_failed(w);
		/* an invalid file is recorded, with its error */
		return r->kind == MREG_SCAN_ERROR;
	case MREG_SCAN_UNCHANGED: /* handled by the caller */
	case MREG_SCAN_TOUCH:
		if (e && e->error) {
			mreg_importer_report(w, r->rel, e->error, false);
			mreg_importer_mark_failed(w);
		} else if (e && e->key && w->claims_active) {
			claim_key(w, e->key, e->path, true, err);
		}
		return r->kind == MREG_SCAN_TOUCH;
	case MREG_SCAN_MODEL:
		break;
	}
	snprintf(key, sizeof(key), "%s/%s", r->model.provider, r->model.name);
	keep = claim_key(w, key, r->rel, false, err);
	if (keep && (c = mreg_claims_find(&w->claims, key)) != NULL) {
		r->claim = c;
		if (must_wait_for_owner(w, key, r->rel)) {
			c->deferred = r;
			*rp = NULL;
			return false;
		}
	}
	return keep;
}

/* A bunch of cache hits: each is handled, nothing is written for them. */
static int take_unchanged_many(struct mreg_importer *w,
			       struct mreg_scan_result *r,
			       struct mreg_error *err)
{
	size_t i;

	atomic_fetch_add(&w->scan->done, (long)r->nmany);
	for (i = 0; i < r->nmany; i++)
		if (take_unchanged(w, r->many[i], err) < 0)
			break;
	mreg_scan_result_free(r);
	return err->status ? -1 : 0;
}

/* Handle one result; -1 on a fatal error. */
int mreg_importer_take(struct mreg_importer *w, struct mreg_scan_result *r,
		       struct mreg_error *err)
{
	bool keep;
	char *rel = NULL;
	int rc = -1;

	if (r->kind == MREG_SCAN_UNCHANGED)
		return take_unchanged_many(w, r, err);
	atomic_fetch_add(&w->scan->done, 1);
	if (r->kind != MREG_SCAN_WALK && !(rel = strdup(r->rel))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	if (r->kind == MREG_SCAN_MODEL && !w->claims_active &&
	    activate_claims(w, err) < 0)
		goto cleanup;
	keep = sort_result(w, &r, err);
	if (err->status)
		goto cleanup;
	if (r && keep) {
		struct mreg_scan_result *taken = r;

		r = NULL; /* the batch owns it now */
		if (batch_add(w, taken, err) < 0)
			goto cleanup;
	} else {
		mreg_scan_result_free(r);
		r = NULL;
	}
	if (rel && release_waiting(w, rel, err) < 0)
		goto cleanup;
	rc = 0;
	if (w->ninvalid >= (size_t)w->cfg->batch_size)
		rc = flush(w, err);
cleanup:
	mreg_scan_result_free(r);
	free(rel);
	return rc;
}

/* --- setting up and finishing ------------------------------------------- */

static void drop_result(void *r)
{
	mreg_scan_result_free(r);
}

int mreg_importer_init(struct mreg_importer *w,
		       const struct mreg_import_config *cfg,
		       struct mreg_scan *scan, struct mreg_error *err)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->scan = scan;
	w->one_txn = cfg->strict || cfg->dry_run || cfg->plan || cfg->prune;
	w->batch = calloc((size_t)cfg->batch_size, sizeof(*w->batch));
	if (!w->batch) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

static int flush_last(struct mreg_importer *w, struct mreg_error *err)
{
	size_t parts, left, size;

	if (!several_writers(w) || w->ninvalid > 0 ||
	    w->nbatch < 2 * SPLIT_MIN)
		return flush(w, err);
	settle_claims(w);
	parts = w->nbatch / SPLIT_MIN;
	if (parts > (size_t)w->cfg->writers)
		parts = (size_t)w->cfg->writers;
	for (; parts > 1; parts--) {
		left = w->nbatch;
		size = left / parts;
		w->nbatch = size;
		if (mreg_writers_dispatch(w, err) < 0) {
			/* not handed over: the batch is still whole here */
			w->nbatch = left;
			return -1;
		}
		w->nbatch = left - size;
		memmove(w->batch, w->batch + size,
			w->nbatch * sizeof(*w->batch));
	}
	return mreg_writers_dispatch(w, err);
}

int mreg_importer_complete(struct mreg_importer *w, struct mreg_error *err)
{
	if (release_all(w, err) < 0 || flush_last(w, err) < 0 ||
	    mreg_writers_drain(w, err) < 0 || mreg_importer_prune(w, err) < 0)
		return -1;
	if (w->in_txn) {
		w->in_txn = false;
		if (w->cfg->dry_run || w->cfg->plan || w->abort_writes)
			mreg_db_rollback(w->cfg->conn);
		else if (mreg_db_commit(w->cfg->conn, err) < 0)
			return -1;
	}
	return 0;
}

void mreg_importer_finish(struct mreg_importer *w)
{
	size_t i;

	mreg_writers_stop(w);
	if (w->in_txn)
		mreg_db_rollback(w->cfg->conn);
	w->in_txn = false;
	mreg_importer_plan_drop(w);
	for (i = 0; i < w->nbatch; i++)
		mreg_scan_result_free(w->batch[i]);
	free(w->batch);
	w->batch = NULL;
	w->nbatch = 0;
	for (i = 0; i < w->ninvalid; i++)
		free(w->invalid[i]);
	free(w->invalid);
	w->invalid = NULL;
	w->ninvalid = w->capinvalid = 0;
	mreg_claims_finish(&w->claims, drop_result);
	mreg_claims_finish(&w->owners, drop_result);
	mreg_strmap_destroy(w->providers, free);
	w->providers = NULL;
}
