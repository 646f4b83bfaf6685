/* verify.h - mreg verify: the recorded files and artifacts, hashed again
 *
 * What an import recorded (mreg.source_files: each model file's size and
 * SHA-256; mreg.artifacts: each artifact's) is read in one statement
 * (one snapshot) and each file is hashed again, by jobs worker threads
 * (workqueue.h), inside its source's tree (walk.h: links out of the tree
 * are not followed unless follow_external says so, as import-dir's
 * --follow-external-links).  Nothing is written.
 *
 * A source's tree is its name when that is an absolute path (import-dir's
 * default: the tree's canonical path).  A source named at import
 * (--source NAME) has no recorded tree: it is skipped unless the caller
 * names the tree (root), which it may also do for a path source whose
 * tree moved.
 *
 * Use: mreg_verify_load, mreg_verify_check, read the items, then
 * mreg_verify_finish.  Items come sorted by source, path, artifact
 * (bytewise), whatever the number of jobs.
 */
#ifndef MREG_VERIFY_H
#define MREG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"
#include "hashcache.h"

enum mreg_verify_status {
	MREG_VERIFY_SAME,       /* size and SHA-256 as recorded */
	MREG_VERIFY_CHANGED,    /* size or SHA-256 differs */
	MREG_VERIFY_VANISHED,   /* no such file (or a directory on the way) */
	MREG_VERIFY_UNREADABLE, /* it could not be read: error says why */
};

struct mreg_verify_source {
	char *name;
	char *root;          /* the tree verified, or NULL: skipped */
	bool named;          /* named at import: no recorded tree */
	bool gone;           /* its recorded tree no longer exists: each
				file of it vanished */
	long files, artifacts; /* recorded */
};

struct mreg_verify_item {
	size_t source;       /* index into sources */
	char *path;          /* below the root (an artifact: resolved) */
	char *file;          /* model file's path below the root */
	char *artifact;      /* as the model file lists it, or NULL */
	char *model;         /* "provider/name", or NULL */
	long long rec_size;
	char rec_sha[MREG_SHA256_HEX];
	enum mreg_verify_status status;
	long long size;      /* found (CHANGED, SAME) */
	char sha[MREG_SHA256_HEX];
	char error[512];     /* UNREADABLE */
};

struct mreg_verify {
	struct mreg_verify_source *sources;
	size_t nsources;
	struct mreg_verify_item *items;
	size_t nitems;
	long changed, vanished, unreadable; /* after mreg_verify_check */
};

/*
 * Read what was recorded: every source, or only source (NULL: all).  0,
 * or -1 with err filled.  A source with nothing recorded is no error
 * here: v->nsources is 0 (the caller says so).
 */
int mreg_verify_load(struct mreg_verify *v, struct mreg_conn *conn,
		     const char *source, struct mreg_error *err);

/*
 * Hash every item of the sources that have a tree: root for a single
 * source (or NULL: its name when that is an absolute path; a named
 * source is then skipped).  A recorded tree that no longer exists is
 * gone, each of its files vanished; 0, or -1 with err filled when a tree
 * cannot be opened otherwise (root included) or the threads cannot start.
 */
int mreg_verify_check(struct mreg_verify *v, const char *root, int jobs,
		      bool follow_external, struct mreg_error *err);

void mreg_verify_finish(struct mreg_verify *v); /* NULL-safe */

#endif
