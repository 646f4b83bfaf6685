/* watch.h - following the audit log: every committed entry once, in id
 * order (mreg watch)
 *
 * A watch owns one connection of its own (not the pool: LISTEN is
 * session state), LISTENs on mreg_audit (the audit triggers notify once
 * per statement with the highest id they wrote; the payload is only a
 * wake-up) and reads the log by id: WHERE id > last ORDER BY id.  How it
 * stays exactly once and in order although ids are taken at insert time
 * and committed in any order is explained at the top of watch.c.
 *
 * The caller runs the loop (cli/watch.c): connect, read, wait on the
 * socket (and its own signals), consume, read again; on a lost
 * connection connect again (the position is kept) and read: it catches
 * up from the last entry it was handed.  Nothing here prints.
 */
#ifndef MREG_WATCH_H
#define MREG_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "error.h"

/* What is printed (the position advances over every entry read). */
struct mreg_watch_filter {
	const char *type;    /* the model's type, or defaults/<type>; NULL: any */
	const char *model;   /* "provider/name" (renames followed); NULL: any */
	const char *actions; /* text[] literal "{model.update,default.*}"; NULL */
};

/* What mreg_watch_connect() and mreg_watch_read() answer. */
enum mreg_watch_status {
	MREG_WATCH_FAILED = -1, /* err set: give up (not a connection fault) */
	MREG_WATCH_IDLE = 0,    /* caught up: wait for a notification */
	MREG_WATCH_GAP = 1,     /* waiting for transactions: read again soon */
	MREG_WATCH_STOPPED = 2, /* the emit callback asked to stop */
	MREG_WATCH_LOST = 3,    /* the connection is gone (err says why) */
};

/*
 * One entry for the caller: its id and, when it passes the filter, its
 * NDJSON object (line, len bytes, no newline; else NULL).  Return 0 to go
 * on, anything else to stop after this entry (it counts as read).
 */
typedef int (*mreg_watch_emit)(void *arg, long long id, const char *line,
			       size_t len);

struct mreg_watch;

/*
 * A watch for connector c (kept by pointer: it must outlive the watch)
 * starting after audit id after_id, or at the highest id when the first
 * connection is made (after_id < 0).  NULL only when out of memory.
 */
struct mreg_watch *mreg_watch_create(const struct mreg_connector *c,
				     const struct mreg_watch_filter *f,
				     long long after_id);
void mreg_watch_destroy(struct mreg_watch *w); /* NULL-safe */

/*
 * (Re)connect: open the connection, refuse a transaction-mode pooler
 * (common/pooler.h: MREG_WATCH_FAILED, exit status 1), LISTEN, and on the
 * first connection without after_id take the highest id as the start.
 * MREG_WATCH_IDLE when connected, MREG_WATCH_LOST when the server cannot
 * be reached (try again later), MREG_WATCH_FAILED otherwise.
 */
int mreg_watch_connect(struct mreg_watch *w, struct mreg_error *err);
void mreg_watch_disconnect(struct mreg_watch *w);

/* The connection's socket to poll() for input, or -1. */
int mreg_watch_socket(const struct mreg_watch *w);

/*
 * The socket is readable: take in what the server sent and drop the
 * notifications (they only say "read").  MREG_WATCH_IDLE, or
 * MREG_WATCH_LOST.
 */
int mreg_watch_consume(struct mreg_watch *w, struct mreg_error *err);

/*
 * Hand every entry after the position to emit, in id order, as far as
 * it is certain that no lower id can still commit.  MREG_WATCH_IDLE (all
 * read), MREG_WATCH_GAP (an id below the next visible one may still
 * commit: call again after a short wait or a notification),
 * MREG_WATCH_STOPPED, MREG_WATCH_LOST or MREG_WATCH_FAILED.
 */
int mreg_watch_read(struct mreg_watch *w, mreg_watch_emit emit, void *arg,
		    struct mreg_error *err);

/* The last id read (emitted or filtered out), or -1 before the start. */
long long mreg_watch_last(const struct mreg_watch *w);

/* While waiting at a gap: the id after which it waits, else -1. */
long long mreg_watch_gap(const struct mreg_watch *w);

/* Ids passed over as never committed (rolled back, pruned, cached). */
unsigned long long mreg_watch_skipped(const struct mreg_watch *w);

#endif
