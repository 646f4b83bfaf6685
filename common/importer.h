/* importer.h - the consumer side of import-dir: claims, batches, prune
 *
 * The importer takes the scan's results one by one on one thread.  It
 * checks provider/name claims across files (two files defining the same
 * model are both refused, and a file waits for the file recorded for its
 * model if that one is still to come), and writes batches: one
 * transaction per batch carries the model rows, their audit rows and the
 * cache rows of the files they came from (COPY into a temporary table,
 * then set-based statements).  With one_txn (--strict, --dry-run) all
 * batches share one transaction that mreg_importer_complete commits or
 * rolls back.
 *
 * It never prints: what the user should hear goes to the events.
 * Also here: loading the cache of a source, and the source's lock.
 */
#ifndef MREG_IMPORTER_H
#define MREG_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "claims.h"
#include "db.h"
#include "error.h"
#include "hashcache.h"
#include "scan.h"

/* What happened, for the caller to show; called on the importer's thread. */
struct mreg_import_events {
	void *arg;
	/* a file's problem: an error (counted as failed) or a warning */
	void (*file)(void *arg, const char *rel, const char *text,
		     bool warning);
	/* a warning about the run */
	void (*warn)(void *arg, const char *text);
	/* a model a batch adds (create) or updates, from file rel */
	void (*changed)(void *arg, bool create, const char *resource,
			const char *rel);
	/* the n models prune deactivated, and the files that were gone */
	void (*deactivated)(void *arg, int n, const char *const *resources,
			    const char *const *rels);
};

struct mreg_importer {
	/* set by the caller before mreg_importer_init */
	struct mreg_scan *scan;     /* its cache, rootfd and done counter */
	struct mreg_conn *conn;
	const char *actor;
	const char *source;
	const char *label_root;     /* DIR as the user wrote it (messages) */
	long batch_size;            /* files per transaction */
	bool strict, dry_run, prune;
	struct mreg_import_events ev;
	/* counts, for the summary */
	long added, updated, failed, failed_files, pruned, missing;
	long kept_defaults;
	long walk_errors;
	bool abort_writes;          /* --strict after a bad file */
	/* private */
	bool one_txn;
	bool in_txn;
	struct mreg_scan_result **batch;
	size_t nbatch;
	char **invalid;             /* paths to invalidate with this batch */
	size_t ninvalid, capinvalid;
	struct mreg_claims claims;
	struct mreg_claims owners;  /* provider/name -> file recorded for it */
	bool claims_active;         /* built on the first model file read */
};

/* Allocate the batch; -1 (err filled) when out of memory. */
int mreg_importer_init(struct mreg_importer *w, struct mreg_error *err);
/* Roll back an open transaction and free everything; NULL-safe fields. */
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

/* Load source's rows of mreg.source_files into cache (own transaction). */
int mreg_import_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err);

/*
 * The session advisory lock of source on conn: 1 taken, 0 held by
 * another session (err says so, with who in its detail, exit status
 * MREG_EXIT_LOCKED), -1 error.
 */
int mreg_import_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_error *err);
/* Release it; best effort (a lost session has released it anyway). */
void mreg_import_unlock(struct mreg_conn *conn, const char *source);

#endif
