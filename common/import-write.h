/* import-write.h - the consumer of import-dir: claims, batches, prune
 *
 * The importer takes the producer's results (import-scan.h) one by one
 * on one thread.  It checks provider/name claims across files (two files
 * defining the same model are both refused, and a file waits for the
 * file recorded for its model if that one is still to come), and hands
 * full batches to the batch writer (import-batch.c): one transaction per
 * batch carries the model rows, their audit rows and the cache rows of
 * the files they came from.  With one_txn (--strict, --dry-run, --plan,
 * --prune) all batches share one transaction that mreg_importer_complete
 * commits or rolls back, after prune (import-prune.c) and its guard
 * (import-guard.c).
 *
 * Its options come from the run's struct mreg_import_config (import.h):
 * conn, actor, source, label_root, batch_size, strict, dry_run, prune and
 * the events.  It never prints: what the user should hear goes to the
 * events.
 */
#ifndef MREG_IMPORT_WRITE_H
#define MREG_IMPORT_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "claims.h"
#include "error.h"
#include "import-scan.h"
#include "import.h"

struct mreg_strmap;

struct mreg_importer {
	const struct mreg_import_config *cfg; /* the run's options */
	struct mreg_scan *scan;     /* its cache and done counter */
	/* counts, for the summary */
	long added, updated, failed, failed_files, pruned, missing;
	long kept_defaults;
	long walk_errors;
	long prune_refused;         /* the guard refused this many */
	bool abort_writes;          /* --strict after a bad file, or the
				       prune guard refused */
	/* private */
	bool one_txn;
	bool in_txn;
	long batches;               /* written so far (audit context) */
	struct mreg_scan_result **batch;
	size_t nbatch;
	char **invalid;             /* paths to invalidate with this batch */
	size_t ninvalid, capinvalid;
	PGresult *plan;             /* --plan: the batch's changes, told
				       once its savepoint is released */
	struct mreg_writers *writers; /* import-writers.c, once started */
	struct mreg_claims claims;
	struct mreg_claims owners;  /* provider/name -> file recorded for it */
	bool claims_active;         /* built on the first model file read */
	/* a writer of several (import-writers.c): the providers it has seen
	 * committed, each name its own key and value */
	struct mreg_strmap *providers;
	/* import-fresh.c: a batch of new files could not be written its
	 * way (a model existed, a value was refused): no more tries */
	bool fresh_off;
};

/* Keep cfg and scan (both read until finish), allocate the batch; -1
 * (err filled) when out of memory. */
int mreg_importer_init(struct mreg_importer *w,
		       const struct mreg_import_config *cfg,
		       struct mreg_scan *scan, struct mreg_error *err);
/* Roll back an open transaction and free everything; after a failed
 * init too. */
void mreg_importer_finish(struct mreg_importer *w);

/* Handle one result (taken over); -1 on a fatal error. */
int mreg_importer_take(struct mreg_importer *w, struct mreg_scan_result *r,
		       struct mreg_error *err);

/*
 * After the last result: write what waits, prune (or count the files
 * that are gone), then commit the one transaction, or roll it back for
 * --dry-run and for --strict after a bad file.
 */
int mreg_importer_complete(struct mreg_importer *w, struct mreg_error *err);

/* --- inside the consumer: import-write.c, import-batch.c, import-prune.c */

/* rel's problem, for the caller to show (the file event). */
void mreg_importer_report(const struct mreg_importer *w, const char *rel,
			  const char *text, bool warning);
/* A bad file: counted, and with --strict nothing will be written. */
void mreg_importer_mark_failed(struct mreg_importer *w);
/* Open the run's transaction unless one is open. */
int mreg_importer_begin(struct mreg_importer *w, struct mreg_error *err);
/*
 * The audit context of what follows in the transaction (audit.h):
 * {"command": "import-dir", "source": ..., and "batch": N} for a batch
 * (reason NULL; counts batches), or {..., "reason": reason} instead.
 * mreg_importer_audit_batch: that of the next batch, before it is counted.
 */
int mreg_importer_audit_context(struct mreg_importer *w, const char *reason,
				struct mreg_error *err);
int mreg_importer_audit_batch(struct mreg_importer *w, long batch,
			      struct mreg_error *err);

/*
 * import-batch.c: write the batch and the paths to invalidate, then empty
 * both (commit unless one_txn).  A file whose value the server refuses is
 * reported alone; -1 (err filled) on any other failure.
 */
int mreg_importer_write_batch(struct mreg_importer *w,
			      struct mreg_error *err);
/*
 * Does the server refuse a value of one file (data exception, integrity
 * violation, program limit) rather than the batch?
 */
bool mreg_importer_refuses_value(const char *sqlstate);
/*
 * The fields a file's cache record starts with, as COPY fields: path,
 * size, mtime_ns, ctime_ns, inode, device, sha256, racy (the batch
 * table's and mreg.source_files' order).
 */
void mreg_importer_copy_file(struct mreg_copy *cp,
			     const struct mreg_scan_result *r);

/*
 * import-fresh.c: items [lo, hi) of the batch when every one is a file
 * the source never recorded, bringing a model that lists no artifacts,
 * written straight into the tables under a savepoint: 1 when written
 * (and told), 0 when it is for the general way (nothing written: the
 * range was not such, a provider does not exist yet, a model does, or
 * the server refused a value), -1 (err filled) on any other failure.
 */
int mreg_importer_write_fresh(struct mreg_importer *w, size_t lo, size_t hi,
			      struct mreg_error *err);

/* The cache rows' INSERT and its conflict rule, shared by both ways. */
#define MREG_SOURCE_FILES_INSERT                                             \
	"INSERT INTO mreg.source_files AS s (source, path, size, mtime_ns,"  \
	" ctime_ns, inode, device, sha256, racy, error, model_id, artifacts," \
	" model_key)"
#define MREG_SOURCE_FILES_UPSERT                                             \
	" ON CONFLICT (source, path) DO UPDATE SET size = EXCLUDED.size,"    \
	" mtime_ns = EXCLUDED.mtime_ns, ctime_ns = EXCLUDED.ctime_ns,"       \
	" inode = EXCLUDED.inode, device = EXCLUDED.device,"                 \
	" sha256 = EXCLUDED.sha256, racy = EXCLUDED.racy,"                   \
	" error = EXCLUDED.error, artifacts = EXCLUDED.artifacts,"           \
	" model_id = coalesce(EXCLUDED.model_id, s.model_id),"               \
	" model_key = coalesce(EXCLUDED.model_key, s.model_key),"            \
	" recorded_at = now()"

/*
 * import-writers.c, with cfg->writers > 1 outside one transaction: hand
 * the batch and the paths to invalidate to the next writer (after telling
 * the outcome of that writer's previous batch), then empty both; -1 (err
 * filled) when a batch written before failed.  drain waits for every
 * batch handed over and tells the outcomes (-1: the first failure); stop
 * ends the writers (called by mreg_importer_finish).
 */
struct mreg_writers;
int mreg_writers_dispatch(struct mreg_importer *w, struct mreg_error *err);
/* Open the other writers' connections meanwhile, once batches are
 * coming (best effort: dispatch reports what fails). */
void mreg_writers_open_ahead(struct mreg_importer *w);
int mreg_writers_drain(struct mreg_importer *w, struct mreg_error *err);
void mreg_writers_stop(struct mreg_importer *w);

/* import-prune.c: count the files that are gone; with --prune deactivate
 * their models (in the run's transaction). */
int mreg_importer_prune(struct mreg_importer *w, struct mreg_error *err);

/*
 * import-guard.c: res holds the models the prune deactivated (column 0,
 * "models/provider/name"), in the run's transaction.  0 when the guard
 * lets them go; 1 when it refuses (told to the prune_refused event,
 * abort_writes set: the run is rolled back); -1 with err filled.
 */
int mreg_importer_guard(struct mreg_importer *w, PGresult *res,
			struct mreg_error *err);

/*
 * import-plan.c, with --plan: after the batch statements, what they
 * changed, field by field (w->plan, replacing a previous result); told
 * by mreg_importer_plan_tell once the batch's savepoint is released,
 * dropped by mreg_importer_plan_drop when it was rolled back.
 */
int mreg_importer_plan_batch(struct mreg_importer *w,
			     struct mreg_error *err);
void mreg_importer_plan_tell(struct mreg_importer *w);
void mreg_importer_plan_drop(struct mreg_importer *w);

#endif
