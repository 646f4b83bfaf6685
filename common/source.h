/* source.h - a source of import-dir: its name, its lock, its recorded files
 *
 * A source is a tree imported under one name (by default its real path);
 * mreg.source_files holds, per source, what the last runs recorded of
 * each file (stat, digest, error, model): the content-hash cache.  An
 * import holds the source's lock (a row of mreg.source_locks, see
 * sql/0004_source_locks.sql: it works through a transaction-mode pooler,
 * where a session advisory lock leaks) so that two imports of one source
 * never run at once.  'mreg import-dir' and the import workload of
 * 'mreg bench' use it.
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

/* How long a lock lives without a heartbeat, and how often it beats. */
#define MREG_SOURCE_LOCK_TTL_S 30
#define MREG_SOURCE_LOCK_BEAT_S 5

struct mreg_source_lock;

/*
 * Take source's lock with conn, polling as w says (lockwait.h): a row in
 * mreg.source_locks naming this process (host, pid, application_name).
 * A row whose heartbeat is older than its ttl, or whose holder is a
 * process of this machine that no longer exists, is stale and taken
 * over.  1 taken (*out set), 0 held by another process until the limit
 * passed (err says so, naming the holder, with the limit when there was
 * one, and the holder in full in its detail; exit status
 * MREG_EXIT_LOCKED), -1 error.  A connection lost while it waits (a
 * pooler's or the server's idle limit, a restart) is replaced from pool
 * unless pool is NULL, and the wait goes on to the same deadline: *conn
 * is the connection in the end (NULL when no other could be had), the
 * holder's to use, and idle (no transaction open) at
 * mreg_source_unlock(), which drops the row with it unless the heartbeat
 * has a connection of its own.
 */
struct mreg_pool;
int mreg_source_lock(struct mreg_conn **conn, struct mreg_pool *pool,
		     const char *source, const struct mreg_lock_wait *w,
		     struct mreg_source_lock **out, struct mreg_error *err);
/* The same, tried once. */
int mreg_source_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_source_lock **out,
			 struct mreg_error *err);
/*
 * Beat the lock's heartbeat every MREG_SOURCE_LOCK_BEAT_S seconds from a
 * thread of its own until unlock, on a connection of pool's taken at the
 * first beat (a run shorter than that opens none: one server process
 * fewer), for a holder that may run longer than the ttl.  A beat that
 * finds the row taken over (the holder stalled past its ttl) stops
 * beating; the fence below keeps the stalled holder from writing.  -1
 * (err set) if the thread cannot start.
 */
int mreg_source_lock_keep(struct mreg_source_lock *l, struct mreg_pool *pool,
			  struct mreg_error *err);
/*
 * Fence a transaction: a statement that holds the lock's row FOR KEY
 * SHARE (nobody can take it over until that transaction ends; its
 * heartbeat still can beat) and returns
 * one row while the lock is still this holder's; $1 source, $2 token.
 */
#define MREG_SOURCE_LOCK_FENCE_SQL                                           \
	"SELECT 1 FROM mreg.source_locks WHERE source = $1 AND token = $2::uuid" \
	" FOR KEY SHARE"
/* The lock's token, for MREG_SOURCE_LOCK_FENCE_SQL. */
const char *mreg_source_lock_token(const struct mreg_source_lock *l);
/*
 * Stop the heartbeat, release the lock and free l (NULL is fine): 0, or
 * -1 (err set) when the row could not be deleted (the connection is
 * gone): the row stays until a later import takes it over.
 */
int mreg_source_unlock(struct mreg_source_lock *l, struct mreg_error *err);

/* Load source's rows of mreg.source_files into cache (own transaction). */
int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err);

#endif
