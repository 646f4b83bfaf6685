/* db.h - running statements on a pooled connection
 *
 * Every value travels as a $n parameter; every result is checked against
 * the one status the caller expects; failures fill struct mreg_error (err
 * may be NULL when the caller needs no details) with
 * the server's message, detail, hint and SQLSTATE, and tell the pool when
 * the connection died.
 */
#ifndef MREG_DB_H
#define MREG_DB_H

#include <stddef.h>

#include <libpq-fe.h>

#include "error.h"
#include "pool.h"

/*
 * Run sql with nparams text parameters (NULL entries are SQL NULL).
 * Returns the result when its status is expect (caller PQclear()s it),
 * else NULL with err filled.
 */
PGresult *mreg_db_exec(struct mreg_conn *conn, const char *sql, int nparams,
		       const char *const *values, ExecStatusType expect,
		       struct mreg_error *err);

/*
 * Check a result libpq handed back (NULL included): res itself when its
 * status is expect, else NULL with err filled and res cleared.  For code
 * that sends its own queries (single-row mode, pipelines).
 */
PGresult *mreg_db_check(struct mreg_conn *conn, PGresult *res,
			ExecStatusType expect, struct mreg_error *err);

/* The same for a statement that returns no rows: 0 ok, -1 error. */
int mreg_db_command(struct mreg_conn *conn, const char *sql, int nparams,
		    const char *const *values, struct mreg_error *err);

/* Run a prepared statement (see mreg_pool_config.prepare). */
PGresult *mreg_db_exec_prepared(struct mreg_conn *conn, const char *name,
				int nparams, const char *const *values,
				ExecStatusType expect, struct mreg_error *err);

int mreg_db_begin(struct mreg_conn *conn, struct mreg_error *err);
int mreg_db_commit(struct mreg_conn *conn, struct mreg_error *err);
/* Best effort; leaves the connection idle or marks it broken. */
void mreg_db_rollback(struct mreg_conn *conn);

/*
 * COPY FROM STDIN in text format, buffered.  Usage:
 *   struct mreg_copy cp;
 *   mreg_copy_begin(&cp, conn, "COPY t (a, b) FROM STDIN", err);
 *   mreg_copy_field(&cp, "a"); mreg_copy_field(&cp, NULL); mreg_copy_row(&cp);
 *   mreg_copy_end(&cp, err);     (or mreg_copy_abort(&cp) on error)
 * Field values are escaped for COPY text format (\t \n \r \\ and NULL).
 * mreg_copy_field/mreg_copy_row return -1 once a send failed; the error is
 * reported by mreg_copy_end.
 */
struct mreg_copy {
	struct mreg_conn *conn;
	char *buf;
	size_t len, cap;
	int fields;  /* fields in the current row */
	int failed;
	long rows;
};

int mreg_copy_begin(struct mreg_copy *cp, struct mreg_conn *conn,
		    const char *copy_sql, struct mreg_error *err);
int mreg_copy_field(struct mreg_copy *cp, const char *value);
int mreg_copy_fieldn(struct mreg_copy *cp, const char *value, size_t len);
int mreg_copy_row(struct mreg_copy *cp);
/* Returns the number of rows the server reports, or -1 with err filled. */
long mreg_copy_end(struct mreg_copy *cp, struct mreg_error *err);
void mreg_copy_abort(struct mreg_copy *cp);

#endif
