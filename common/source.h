/* source.h - a source of import-dir: its name, its lock, its recorded files
 *
 * A source is a tree imported under one name (by default its real path);
 * mreg.source_files holds, per source, what the last runs recorded of
 * each file (stat, digest, error, model): the content-hash cache.  An
 * import holds the source's session advisory lock, on a connection of
 * its own, so that two imports of one source never run at once.
 * 'mreg import-dir' and the import workload of 'mreg bench' use it.
 */
#ifndef MREG_SOURCE_H
#define MREG_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"
#include "hashcache.h"
#include "lockwait.h"

/*
 * The longest source name (bytes): (source, path) is mreg.source_files'
 * primary key, a btree, whose entries hold at most 2704 bytes (see
 * MREG_SCAN_PATH_MAX for the path).
 */
#define MREG_SOURCE_NAME_MAX 512

/*
 * Why name cannot be a source, or NULL.  given: named by the user
 * (--source), where a control character is a mistake; buf (len bytes)
 * may receive the text.
 */
const char *mreg_source_name_problem(const char *name, bool given, char *buf,
				     size_t len);

/*
 * The session advisory lock of source on conn, polled with
 * pg_try_advisory_lock() as w says (lockwait.h): 1 taken, 0 held by
 * another session until the limit passed (err says so, naming the holder,
 * with the limit when there was one, and the holder in full in its
 * detail; exit status MREG_EXIT_LOCKED), -1 error.
 */
int mreg_source_lock(struct mreg_conn *conn, const char *source,
		     const struct mreg_lock_wait *w, struct mreg_error *err);
/* The same, tried once. */
int mreg_source_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_error *err);
/* Release it; best effort (a lost session has released it anyway). */
void mreg_source_unlock(struct mreg_conn *conn, const char *source);

/* Load source's rows of mreg.source_files into cache (own transaction). */
int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err);

#endif
