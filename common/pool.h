/* pool.h - a thread-safe pool of libpq connections
 *
 * Every subcommand talks to PostgreSQL through this pool; a single-threaded
 * command uses a pool of one.  Connections are opened lazily, handed out
 * only when idle (PQTRANS_IDLE, CONNECTION_OK), checked cheaply on every
 * acquire (data waiting on an idle socket means the server spoke: usually a
 * FATAL before it hung up) and probed with an empty query after a long
 * idle spell.  A connection that saw a disconnect SQLSTATE, is past its
 * lifetime (with jitter), or is not idle on release is closed; after a
 * disconnect error every connection older than that moment is recycled.
 */
#ifndef MREG_POOL_H
#define MREG_POOL_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "error.h"

struct mreg_pool;

/* A statement every new connection prepares (only when prepare is on). */
struct mreg_prepared {
	const char *name;
	const char *sql;
	int nparams;
};

struct mreg_pool_config {
	const char *dsn;              /* conninfo or URI; NULL: libpq defaults */
	const char *application_name; /* used as fallback_application_name */
	int max_size;                 /* connections at most (>= 1) */
	int acquire_timeout_ms;       /* waiting for a free slot; <= 0: 30 s */
	int connect_timeout_s;        /* libpq connect_timeout; 0: 10 s */
	int max_lifetime_ms;          /* <= 0: one hour; 10% jitter */
	int idle_probe_ms;            /* probe when idle longer; <= 0: 5 s */
	int probe_timeout_ms;         /* deadline of that probe; <= 0: 2 s */
	const struct mreg_prepared *prepare; /* NULL or array ... */
	int nprepare;                        /* ... of this many */
};

struct mreg_pool_stats {
	int max_size;
	int open;                   /* connections open now */
	int in_use;                 /* handed out now */
	unsigned long created;      /* connections opened */
	unsigned long closed;       /* connections closed */
	unsigned long acquires;     /* successful acquires */
	unsigned long waits;        /* acquires that had to wait */
	unsigned long timeouts;     /* acquires that gave up */
	unsigned long broken;       /* broken connections discarded */
	unsigned long probes;       /* idle probes sent */
	unsigned long connect_failures;
	double wait_total_ms;
	double wait_max_ms;
};

/* A pooled connection.  Use conn->pg; do not close it yourself. */
struct mreg_conn {
	PGconn *pg;
	/* private to the pool below this line */
	struct mreg_pool *pool;
	int slot;
	long long created_ns;
	long long expires_ns;
	long long last_used_ns;
	bool saw_disconnect;
	bool in_use;
};

struct mreg_pool *mreg_pool_create(const struct mreg_pool_config *cfg,
				   struct mreg_error *err);
void mreg_pool_destroy(struct mreg_pool *pool); /* NULL-safe */

/*
 * Hand out an idle, working connection, opening one if there is room,
 * waiting up to acquire_timeout_ms otherwise.  NULL with err filled on
 * timeout (how long, pool size, all busy) or when connecting fails.
 */
struct mreg_conn *mreg_pool_acquire(struct mreg_pool *pool,
				    struct mreg_error *err);

/*
 * The same; on failure *timed_out says whether the wait for a busy pool
 * ran out (true) or a connection could not be opened (false).
 */
struct mreg_conn *mreg_pool_acquire_timed(struct mreg_pool *pool,
					  bool *timed_out,
					  struct mreg_error *err);

/* Give a connection back; it is closed if it is not fit for reuse. */
void mreg_pool_release(struct mreg_pool *pool, struct mreg_conn *conn);

/*
 * Record that a statement on conn failed with this SQLSTATE.  db.c calls
 * it for you; a disconnect class (08, 57P0x) marks the connection broken
 * and makes the pool recycle every connection opened before now.  A
 * struct mreg_conn outside any pool (pool NULL: mreg watch's connection of
 * its own) only gets saw_disconnect set.
 */
void mreg_conn_note_sqlstate(struct mreg_conn *conn, const char *sqlstate);

void mreg_pool_get_stats(struct mreg_pool *pool, struct mreg_pool_stats *out);

/* Which connect_timeout applies and where it came from (connect.h). */
const char *mreg_pool_timeout_text(const struct mreg_pool *pool);

/* The DSN with any password replaced by "***" (see dsn.h). */
const char *mreg_pool_dsn_redacted(const struct mreg_pool *pool);

#endif
