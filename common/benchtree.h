/* benchtree.h - the model trees of the import workload of 'mreg bench'
 *
 * Each client owns one generated tree of model files (mreg-model(5)) in a
 * private directory and imports it as its own source,
 * "mreg-bench-import/<pid>/<client>", so clients never share a source or
 * its lock.  The content is deterministic: file i of client c defines
 * model mreg-bench-cCCC-pK/<words>-<type>-<i> (K = i % 8) with metadata
 * {"mreg_bench": true}, so its rows count as bench data and
 * mreg_bench_cleanup removes them.  A request rewrites the next files in
 * turn (their version goes up) and imports the tree with mreg_import_run,
 * the code of 'mreg import-dir'.
 */
#ifndef MREG_BENCHTREE_H
#define MREG_BENCHTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "import.h"
#include "pool.h"

#define MREG_BENCH_SOURCE_PREFIX "mreg-bench-import/"

struct mreg_bench_tree {
	char *path;       /* the tree's directory */
	int dirfd;        /* open on path, or -1 */
	int client;
	long files;
	long next;        /* the next file to rewrite */
	unsigned *rev;    /* per file: how often it was rewritten */
	char source[96];
};

/*
 * Make directory parent/cCCC and write files model files into it.  On
 * failure what was written is removed again; finish t all the same.
 */
int mreg_bench_tree_create(struct mreg_bench_tree *t, const char *parent,
			   int client, long files, struct mreg_error *err);

/* Rewrite the next n files (n <= files) with a new version. */
int mreg_bench_tree_change(struct mreg_bench_tree *t, long n,
			   struct mreg_error *err);

/*
 * One import of the tree on conn, as 'mreg import-dir --source SOURCE'
 * does: take the source's lock, run the pipeline with jobs workers,
 * release the lock.  problem receives the first bad file's message, if
 * any.  -1 with err filled when the import failed (MREG_EXIT_LOCKED: the
 * lock was held by another session).
 */
int mreg_bench_tree_import(struct mreg_bench_tree *t, struct mreg_conn *conn,
			   const char *actor, int jobs,
			   struct mreg_import_counts *out, char *problem,
			   size_t problem_len, struct mreg_error *err);

/* Remove the tree's files and directory, free t; NULL-safe fields. */
void mreg_bench_tree_finish(struct mreg_bench_tree *t);

/* Remove directory path and everything under it (best effort). */
void mreg_bench_remove_dir(const char *path);

#endif
