/* import.h - one import-dir run: its map, its one configuration, its counts
 *
 * The pipeline, file by file:
 *
 *   import-run.c    the whole run: reads the filesystem's clock, starts
 *                   the producer, lets the caller connect and lock
 *                   (prepare) and loads the source's cache meanwhile,
 *                   feeds every result to the consumer, completes it
 *                   (mreg_import_run, below)
 *   import-scan.c   the producer: a walker thread lists the tree and
 *                   consults the cache; worker threads read, hash, parse
 *                   and validate the files it cannot trust; a bounded
 *                   result queue (import-scan.h)
 *   import-write.c  the consumer, on the caller's thread: provider/name
 *                   claims across files, filling batches (import-write.h)
 *   import-batch.c  the batch writer: COPY into a temporary table, then
 *                   set-based statements, one transaction per batch
 *   import-fresh.c  its way for a batch of new files: COPY straight into
 *                   mreg.models, falling back to the general way
 *   import-prune.c  after the last batch: the files that are gone
 *   source.c        a source's name and the loading of its cache
 *                   (mreg.source_files), used by import-dir and bench
 *   source-lock.c   a source's lock (a row of mreg.source_locks)
 *
 * 'mreg import-dir' (cli/import-dir.c) and the import workload of 'mreg
 * bench' (common/benchtree.c) fill one struct mreg_import_config and pass
 * it, const, to mreg_import_run: the producer and the consumer read their
 * options from it, never from copies.
 *
 * Nothing here prints: problems go to the events, counts to struct
 * mreg_import_counts, a fatal error to struct mreg_error.  The caller
 * takes the source's lock if it wants one (mreg_source_try_lock), before
 * the run or in its prepare step, and must have called json_object_seed()
 * before (threads parse JSON).
 */
#ifndef MREG_IMPORT_H
#define MREG_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

struct mreg_scan;

/* What happened, for the caller to show; called on the consumer's thread. */
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
	/*
	 * Optional, with plan: a model the batch adds (create) or updates,
	 * from file rel, and what changes: fields is JSON text as the server
	 * wrote it, an array of {"field", "old", "new"} in key order (a
	 * create lists every field that is not null, old null).
	 */
	void (*planned)(void *arg, bool create, const char *resource,
			const char *rel, const char *fields);
	/* Optional: --prune refused (import-guard.c); text says why, what
	 * it would have done and how to allow it; nothing is written. */
	void (*prune_refused)(void *arg, const char *text, long would,
			      long limit);
};

/* The defaults of import-dir's options, shared with bench's workload. */
#define MREG_IMPORT_DEFAULT_PATTERN "*.json"
#define MREG_IMPORT_DEFAULT_MAX_FILE_SIZE (1024LL * 1024)
#define MREG_IMPORT_DEFAULT_BATCH_SIZE 1000L
#define MREG_IMPORT_DEFAULT_WRITERS 2
#define MREG_IMPORT_MAX_WRITERS 16
/* for an initializer: { MREG_IMPORT_CONFIG_DEFAULTS, .rootfd = ..., } */
#define MREG_IMPORT_CONFIG_DEFAULTS                                    \
	.pattern = MREG_IMPORT_DEFAULT_PATTERN,                        \
	.max_file_size = MREG_IMPORT_DEFAULT_MAX_FILE_SIZE,            \
	.batch_size = MREG_IMPORT_DEFAULT_BATCH_SIZE,                  \
	.writers = 1,                                                  \
	.prune_max = -1
/* The default prune guard: max(PERCENT% of the source's active models,
 * MIN) */
#define MREG_PRUNE_DEFAULT_PERCENT 10
#define MREG_PRUNE_DEFAULT_MIN 50

/* Filled once by the caller (conn, lock_token and pool by prepare, when
 * it is given); read (const) by every part of the run. */
struct mreg_import_config {
	/* what to read (the producer) */
	int rootfd;                 /* the tree, open O_DIRECTORY */
	const char *label_root;     /* the tree as the user named it */
	const char *root_real;      /* rootfd's canonical path; NULL: found
				       from label_root (realpath, checked) */
	bool follow_external;       /* follow links out of the tree */
	const char *pattern;        /* e.g. "*.json" */
	long long max_file_size;
	bool rehash;                /* ignore the content-hash cache */
	int jobs;                   /* worker threads, >= 1 */
	/* what to write (the consumer) */
	const char *source;         /* the source's name in source_files */
	const char *lock_token;     /* the source lock's, to fence writes */
	const char *actor;          /* of the audit rows */
	long batch_size;            /* files per transaction, >= 1 */
	bool strict;                /* a bad file: nothing is written */
	bool dry_run;               /* everything but the commit */
	bool prune;                 /* deactivate the models of gone files */
	bool plan;                  /* --plan: dry_run, and the planned
				       event for each change (needs dry_run) */
	/*
	 * The prune guard (import-guard.c): at most prune_max models (a
	 * percentage of the source's active models when prune_max_percent);
	 * prune_max < 0: the default, max(10%, 50), and a tree without model
	 * files prunes nothing.
	 */
	long prune_max;
	bool prune_max_percent;
	struct mreg_conn *conn;     /* cache load and writes; left idle */
	/*
	 * Batches written at once outside one transaction (import-writers.c):
	 * writers > 1 takes up to writers - 1 more connections from pool
	 * (opened only when a batch is ready while the others are busy).
	 * 0 or 1, or no pool: every batch on conn, one after the other.
	 */
	int writers;
	struct mreg_pool *pool;
	/* what the caller hears */
	struct mreg_import_events ev;
	/*
	 * Optional, called with ev.arg on the caller's thread: started once
	 * the cache is loaded and the scan runs (its atomic counters may be
	 * read until ended returns, e.g. for progress); ended after the
	 * import completed or failed, before the scan is freed.
	 */
	void (*started)(void *arg, const struct mreg_scan *scan);
	void (*ended)(void *arg, const struct mreg_scan *scan);
	/*
	 * Optional, called with prepare_arg on the caller's thread once the
	 * walk has started and before the cache is read (nothing is read
	 * from the tree or the database before it returns): it connects and
	 * takes the source's lock, and sets conn, lock_token and pool in the
	 * caller's config object (the one mreg_import_run was given).  So
	 * the walk's stat() calls overlap the connection and the lock.  0, or
	 * the exit status of what it has already reported: the walk is then
	 * stopped and nothing imported (out->stopped).  NULL: conn is set.
	 */
	int (*prepare)(void *arg);
	void *prepare_arg;
};

struct mreg_import_counts {
	long scanned;       /* files found by the walk */
	long hashed;        /* files read and hashed */
	long unchanged;     /* scanned - added - updated - failed files */
	long added, updated;
	long failed;        /* bad files and walk errors */
	long failed_files;  /* bad files alone */
	long pruned;        /* models deactivated (--prune) */
	long missing;       /* recorded files that are gone */
	long kept_defaults; /* gone, but the default of their type */
	bool aborted;       /* --strict after a bad file, or the prune
			       guard refused: nothing written */
	long prune_refused; /* models the refused prune would deactivate */
	size_t recorded;    /* files the cache held before the run */
	bool clock_from_fs; /* false: racy boundary from the system clock */
	int stopped;        /* cfg->prepare's exit status: not imported */
};

/*
 * Run one import.  0 when it ran to the end (bad files are counted, not
 * fatal) or cfg->prepare stopped it (out->stopped), -1 with err filled
 * otherwise (out is still filled with what was counted).  With --strict,
 * --prune or --dry-run nothing was committed when out->aborted or
 * cfg->dry_run.  --prune runs in one transaction, so
 * that the prune guard can refuse after the last batch and leave the
 * registry and the cache as they were.
 */
int mreg_import_run(const struct mreg_import_config *cfg,
		    struct mreg_import_counts *out, struct mreg_error *err);

#endif
