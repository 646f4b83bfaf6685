/* import.h - one whole import-dir run: the scan and the importer in order
 *
 * mreg_import_run reads the filesystem's clock, starts the scan's workers
 * and walker, loads the source's cache while the walk runs, feeds every
 * result to the importer, joins the scan and completes the import (last
 * batch, prune, commit).  'mreg import-dir' and the import workload of
 * 'mreg bench' both call it, so the benchmark measures the command's own
 * code.
 *
 * It never prints: problems go to the events (see importer.h), counts to
 * struct mreg_import_counts, a fatal error to struct mreg_error.  The
 * caller takes the source's lock if it wants one (mreg_import_try_lock)
 * and must have called json_object_seed() before (threads parse JSON).
 */
#ifndef MREG_IMPORT_H
#define MREG_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"
#include "importer.h"
#include "scan.h"

struct mreg_import_config {
	int rootfd;                 /* the tree, open O_DIRECTORY */
	const char *label_root;     /* the tree as the user named it */
	const char *root_real;      /* rootfd's canonical path; NULL: found
				       from label_root (realpath, checked) */
	bool follow_external;       /* follow links out of the tree */
	const char *pattern;        /* e.g. "*.json" */
	long long max_file_size;
	bool rehash;                /* ignore the content-hash cache */
	int jobs;                   /* worker threads, >= 1 */
	const char *source;         /* the source's name in source_files */
	const char *actor;          /* of the audit rows */
	long batch_size;            /* files per transaction, >= 1 */
	bool strict, dry_run, prune;
	struct mreg_conn *conn;     /* cache load and writes; left idle */
	struct mreg_import_events ev;
	/*
	 * Optional, called with ev.arg on the caller's thread: started once
	 * the cache is loaded and the scan runs (its atomic counters may be
	 * read until ended returns, e.g. for progress); ended after the
	 * import completed or failed, before the scan is freed.
	 */
	void (*started)(void *arg, struct mreg_scan *scan);
	void (*ended)(void *arg, struct mreg_scan *scan);
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
	bool aborted;       /* --strict after a bad file: nothing written */
	size_t recorded;    /* files the cache held before the run */
	bool clock_from_fs; /* false: racy boundary from the system clock */
};

/*
 * Run one import.  0 when it ran to the end (bad files are counted, not
 * fatal), -1 with err filled otherwise (out is still filled with what was
 * counted).  With --strict or --dry-run nothing was committed when
 * out->aborted or dry_run.
 */
int mreg_import_run(const struct mreg_import_config *cfg,
		    struct mreg_import_counts *out, struct mreg_error *err);

#endif
