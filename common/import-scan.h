/* import-scan.h - the producer of import-dir: walk, consult the cache, read
 *
 * A walker thread lists the tree and consults the content-hash cache;
 * files it cannot trust go to a bounded job queue read by worker threads
 * (read, hash, parse, validate, hash artifacts); every outcome lands on a
 * bounded result queue that one consumer drains with mreg_scan_next().
 * The walk starts while the cache is still loading: files found before
 * mreg_scan_cache_ready() wait in memory.
 *
 * Its options come from the run's struct mreg_import_config (import.h):
 * rootfd, root_real, follow_external, pattern, max_file_size, rehash, jobs.
 *
 * Use: mreg_scan_init, mreg_scan_start_workers, mreg_scan_start_walker,
 * load the cache, mreg_scan_cache_ready, mreg_scan_next until NULL,
 * mreg_scan_join, mreg_scan_finish.
 */
#ifndef MREG_IMPORT_SCAN_H
#define MREG_IMPORT_SCAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "hashcache.h"
#include "import.h"
#include "modelfile.h"
#include "walk.h"

enum mreg_scan_kind {
	MREG_SCAN_UNCHANGED, /* cache hit: nothing read */
	MREG_SCAN_TOUCH,     /* read, same digest as recorded: refresh stat */
	MREG_SCAN_MODEL,     /* read and valid: upsert */
	MREG_SCAN_ERROR,     /* read and invalid: cache the error + digest */
	MREG_SCAN_FAIL,      /* could not read, or invalid for a reason that
				may change without the file changing: report
				only */
	MREG_SCAN_WALK,      /* a problem found by the walk */
};

/*
 * The longest path below the root (bytes) a file can be recorded under:
 * mreg.source_files' primary key (source, path) is a btree, whose entries
 * hold at most 2704 bytes (see MREG_SOURCE_NAME_MAX for the source).  A
 * longer path is a bad file.
 */
#define MREG_SCAN_PATH_MAX 2000

struct mreg_scan_artifact {
	char *path;
	long long size;
	char sha[MREG_SHA256_HEX];
	struct mreg_stat st;       /* as hashed (artifact-cache.h) */
	bool racy;
};

struct mreg_claim;

struct mreg_scan_result {
	enum mreg_scan_kind kind;
	char *rel;
	struct mreg_stat st;
	unsigned char sha[MREG_SHA256_LEN];
	bool racy;
	char *error;               /* formatted: "L:C: msg" or "msg" */
	const struct mreg_cache_entry *entry; /* cached record, or NULL */
	struct mreg_model model;   /* MREG_SCAN_MODEL */
	struct mreg_scan_artifact *arts;
	size_t narts;
	struct mreg_claim *claim;  /* MREG_SCAN_MODEL: set by the consumer */
	bool skip;                 /* its claim was in conflict when the
				      batch was handed to its writer */
	struct mreg_cache_entry **many; /* UNCHANGED: the entries */
	size_t nmany;
};

void mreg_scan_result_free(struct mreg_scan_result *r); /* NULL-safe */

struct mreg_scan_pending;

/* Read the counters atomically. */
struct mreg_scan {
	const struct mreg_import_config *cfg; /* the run's options */
	/* set by the caller after mreg_scan_init; the caller owns them */
	struct mreg_fs_clock clock;
	struct mreg_cache *cache;
	/* progress, for anyone */
	atomic_long scanned, hashed, done; /* done: counted by the consumer */
	atomic_bool walk_done;
	atomic_bool stop;
	/* after mreg_scan_join: the root itself could not be walked */
	int walk_rc;
	struct mreg_error walk_err;
	/* private */
	struct mreg_tree tree;      /* cfg's root, at its real path */
	struct mreg_queue *jobs;
	struct mreg_queue *results;
	struct mreg_workers *workers;
	pthread_t walker;
	bool walker_started;
	atomic_int producers; /* walker + workers still running */
	struct mreg_scan_pending *pending;
	size_t npending, cappending;
	struct mreg_cache_entry **hits; /* cache hits not yet sent */
	size_t nhits;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	bool cache_ready, cache_failed; /* under ready_lock */
	atomic_bool cache_ready_fast;   /* cache_ready, read without the lock */
};

/*
 * Zero s, keep cfg (read until mreg_scan_finish) and cfg's tree at
 * root_real, its canonical path, and set up the locks; then the caller
 * fills in the clock and the cache, empty, loaded while the walk runs.
 * Nothing starts yet.  Pair with mreg_scan_finish.
 */
void mreg_scan_init(struct mreg_scan *s, const struct mreg_import_config *cfg,
		    const char *root_real);

/*
 * Create the queues and start cfg->jobs worker threads.  -1 (err filled)
 * when not all of them started: nothing is left running.
 */
int mreg_scan_start_workers(struct mreg_scan *s, struct mreg_error *err);
/*
 * Start the walker.  -1 (err filled) when it could not start: the
 * workers see the closed job queue and leave; still drain and join.
 */
int mreg_scan_start_walker(struct mreg_scan *s, struct mreg_error *err);

/*
 * The cache is loaded (failed: it could not be; the scan then stops).
 * Wakes the walker's held-back files.
 */
void mreg_scan_cache_ready(struct mreg_scan *s, bool failed);

/* The next result (the caller owns it); NULL once all producers ended. */
struct mreg_scan_result *mreg_scan_next(struct mreg_scan *s);

/* Ask walker and workers to stop early (results still need draining). */
void mreg_scan_stop(struct mreg_scan *s);

/* Wait for the walker and the workers. */
void mreg_scan_join(struct mreg_scan *s);

/* Free the queues and locks; after mreg_scan_join.  The cache and the
 * config stay the caller's. */
void mreg_scan_finish(struct mreg_scan *s);

#endif
