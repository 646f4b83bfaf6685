/* migrate.h - the schema migration engine behind 'mreg migrate'
 *
 * Migrations are the files sql/NNNN_name.sql embedded at build time, plus
 * (for tests only) the files of the directory named by the environment
 * variable MREG_TEST_MIGRATIONS_DIR.  mreg.schema_migrations records each
 * applied version with the SHA-256 of its text; a recorded checksum that
 * no longer matches is drift, and nothing runs.
 */
#ifndef MREG_MIGRATE_H
#define MREG_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "lockwait.h"
#include "pool.h"

struct mreg_migration {
	int version;
	char *name;          /* "0001_initial.sql" */
	char *sql;           /* the exact text */
	size_t len;
	char checksum[65];   /* SHA-256 of the text, hex */
	bool no_transaction; /* a line "-- mreg:no-transaction" */
};

struct mreg_migration_set {
	struct mreg_migration *items; /* sorted by version */
	size_t count;
};

/* Embedded migrations plus extra_dir's (NULL: none). */
int mreg_migrations_load(struct mreg_migration_set *set,
			 const char *extra_dir, struct mreg_error *err);
void mreg_migrations_finish(struct mreg_migration_set *set);

enum mreg_migration_state {
	MREG_MIG_PENDING,
	MREG_MIG_APPLIED,
	MREG_MIG_DRIFTED, /* applied, but the text changed since */
	MREG_MIG_UNKNOWN, /* applied, but not known to this binary */
};

struct mreg_migration_status {
	int version;
	char name[256];
	enum mreg_migration_state state;
	char checksum[65]; /* of this binary's text ("" if unknown) */
	char recorded[65]; /* as recorded when applied ("" if pending) */
	char applied_at[64];
	double duration_ms;
	const struct mreg_migration *migration; /* NULL if unknown */
};

/*
 * Compare the set with what the database recorded.  *out is malloc()ed,
 * sorted by version.  Reads only: an empty database has everything
 * pending.
 */
int mreg_migrate_status(struct mreg_conn *conn,
			const struct mreg_migration_set *set,
			struct mreg_migration_status **out, size_t *count,
			struct mreg_error *err);

/*
 * Take the session advisory lock that serialises migrate runs, polling
 * pg_try_advisory_lock() as w says (lockwait.h: once, up to a limit, or
 * with no limit).  A waiter blocked inside pg_advisory_lock() would be a
 * transaction CREATE INDEX CONCURRENTLY waits for.  When the limit
 * passes: MREG_EXIT_LOCKED naming the holder and the limit.
 */
int mreg_migrate_lock(struct mreg_conn *conn, const struct mreg_lock_wait *w,
		      struct mreg_error *err);
void mreg_migrate_unlock(struct mreg_conn *conn);

/* Create schema mreg and mreg.schema_migrations if missing. */
int mreg_migrate_bootstrap(struct mreg_conn *conn, struct mreg_error *err);

/*
 * Apply one migration: in one transaction with its schema_migrations row
 * (and an audit row once mreg.audit_log exists), or, when marked
 * no-transaction, statement by statement with INVALID indexes left by
 * CREATE INDEX CONCURRENTLY dropped and rebuilt.  lock_timeout_s bounds
 * each statement's wait for table locks.  Errors name the file and line.
 */
int mreg_migrate_apply(struct mreg_conn *conn, const struct mreg_migration *m,
		       const char *actor, double lock_timeout_s,
		       double *duration_ms, struct mreg_error *err);

#endif
