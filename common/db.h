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

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "strbuf.h"

#include "error.h"
#include "pool.h"

/*
 * Tracing (mreg --verbose): every statement run through this module (and
 * the pool's own: prepares, probes) is reported to one process-wide
 * callback with its name, duration and row count -- never its values.
 * The name comes from where the statement is run: each entry point below
 * is a macro that passes __FILE__ and __func__ (MREG_DB_SITE), and
 * mreg_db_stmt_name() makes "<module>.<function>" of them, without the
 * "mreg_" and module prefixes ("listing.c", mreg_listing_page ->
 * "listing.page").  common/ never prints: the callback decides.
 *
 * Set it once, before any thread runs statements; it is called from
 * whatever thread ran the statement, so it must be thread-safe.
 */
struct mreg_db_site {
	const char *file;
	const char *func;
};
#define MREG_DB_SITE ((struct mreg_db_site){ __FILE__, __func__ })

struct mreg_db_stmt {
	struct mreg_db_site site;
	const char *sql;      /* the statement's text (for its verb), or NULL */
	const char *prepared; /* else the prepared statement's name, or NULL */
	double ms;            /* from sending it to its last result */
	long rows;            /* rows returned or affected; -1 if unknown */
	const char *sqlstate; /* NULL when it succeeded */
};

struct mreg_db_trace {
	void (*statement)(void *arg, const struct mreg_db_stmt *s);
	/* a connection was opened: where libpq actually connected */
	void (*connected)(void *arg, const char *host, const char *port,
			  const char *dbname);
	void *arg;
};

/* Install t (copied; NULL turns tracing off). */
void mreg_db_set_trace(const struct mreg_db_trace *t);
bool mreg_db_tracing(void);

/* "listing.page (SELECT)"-style: name and verb of s into buf. */
void mreg_db_stmt_name(const struct mreg_db_stmt *s, char *buf, size_t len);

/* For code that runs statements itself: the clock, and the report. */
double mreg_db_clock_ms(void);
void mreg_db_trace_result(struct mreg_db_site site, const char *sql,
			  const char *prepared, double t0_ms,
			  const PGresult *res, bool ok);
/* The same from the parts: rows -1 if unknown, sqlstate NULL if ok. */
void mreg_db_trace_rows(struct mreg_db_site site, const char *sql,
			const char *prepared, double t0_ms, long rows,
			const char *sqlstate);
void mreg_db_trace_connected(PGconn *pg);

/*
 * Run sql with nparams text parameters (NULL entries are SQL NULL).
 * Returns the result when its status is expect (caller PQclear()s it),
 * else NULL with err filled.
 */
PGresult *mreg_db_exec_at(struct mreg_db_site site, struct mreg_conn *conn,
			  const char *sql, int nparams,
			  const char *const *values, ExecStatusType expect,
			  struct mreg_error *err);
#define mreg_db_exec(...) mreg_db_exec_at(MREG_DB_SITE, __VA_ARGS__)

/*
 * Check a result libpq handed back (NULL included): res itself when its
 * status is expect, else NULL with err filled and res cleared.  For code
 * that sends its own queries (single-row mode, pipelines).
 */
PGresult *mreg_db_check(struct mreg_conn *conn, PGresult *res,
			ExecStatusType expect, struct mreg_error *err);

/* The same for a statement that returns no rows: 0 ok, -1 error. */
int mreg_db_command_at(struct mreg_db_site site, struct mreg_conn *conn,
		       const char *sql, int nparams,
		       const char *const *values, struct mreg_error *err);
#define mreg_db_command(...) mreg_db_command_at(MREG_DB_SITE, __VA_ARGS__)

/* Run a prepared statement (see mreg_pool_config.prepare). */
PGresult *mreg_db_exec_prepared_at(struct mreg_db_site site,
				   struct mreg_conn *conn, const char *name,
				   int nparams, const char *const *values,
				   ExecStatusType expect,
				   struct mreg_error *err);
#define mreg_db_exec_prepared(...) \
	mreg_db_exec_prepared_at(MREG_DB_SITE, __VA_ARGS__)

int mreg_db_begin_at(struct mreg_db_site site, struct mreg_conn *conn,
		     struct mreg_error *err);
#define mreg_db_begin(...) mreg_db_begin_at(MREG_DB_SITE, __VA_ARGS__)
int mreg_db_commit_at(struct mreg_db_site site, struct mreg_conn *conn,
		      struct mreg_error *err);
#define mreg_db_commit(...) mreg_db_commit_at(MREG_DB_SITE, __VA_ARGS__)
/* Best effort; leaves the connection idle or marks it broken. */
void mreg_db_rollback_at(struct mreg_db_site site, struct mreg_conn *conn);
#define mreg_db_rollback(conn) mreg_db_rollback_at(MREG_DB_SITE, conn)

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
	struct mreg_db_site site; /* for the trace */
	const char *sql;
	double t0_ms;
};

int mreg_copy_begin_at(struct mreg_db_site site, struct mreg_copy *cp,
		       struct mreg_conn *conn, const char *copy_sql,
		       struct mreg_error *err);
#define mreg_copy_begin(...) mreg_copy_begin_at(MREG_DB_SITE, __VA_ARGS__)
int mreg_copy_field(struct mreg_copy *cp, const char *value);
int mreg_copy_fieldn(struct mreg_copy *cp, const char *value, size_t len);
int mreg_copy_row(struct mreg_copy *cp);
/* Returns the number of rows the server reports, or -1 with err filled. */
long mreg_copy_end(struct mreg_copy *cp, struct mreg_error *err);
void mreg_copy_abort(struct mreg_copy *cp);

/*
 * COPY ... TO STDOUT (FORMAT binary), row by row.  Usage:
 *   struct mreg_copy_out co;
 *   mreg_copy_out_begin(&co, conn, "COPY (SELECT ...) TO STDOUT "
 *                       "(FORMAT binary)", err);
 *   while ((rc = mreg_copy_out_next(&co, err)) > 0)
 *           use co.nfields, co.field[i] and co.flen[i] (-1: NULL; the
 *           bytes are not NUL-terminated and last until the next call);
 *   mreg_copy_out_close(&co);     (rc 0: the end; -1: err filled)
 * Binary rather than text: no escapes to undo, and integers arrive as
 * 8 bytes (mreg_copy_out_int8).  The caller casts every column in the
 * query to a type whose binary form it reads: text, int8, bool.
 * A row the server sends malformed is an error (status MREG_EXIT_FAILURE).
 */
#define MREG_COPY_OUT_MAX_FIELDS 32

struct mreg_copy_out {
	struct mreg_conn *conn;
	char *buf;            /* bytes received and not yet parsed */
	size_t len, off, cap;
	bool header_done, active;
	int nfields;
	const char *field[MREG_COPY_OUT_MAX_FIELDS];
	int flen[MREG_COPY_OUT_MAX_FIELDS];
	long rows;
	struct mreg_db_site site; /* for the trace */
	const char *sql;
	double t0_ms;
};

int mreg_copy_out_begin_at(struct mreg_db_site site, struct mreg_copy_out *co,
			   struct mreg_conn *conn, const char *copy_sql,
			   struct mreg_error *err);
#define mreg_copy_out_begin(...) \
	mreg_copy_out_begin_at(MREG_DB_SITE, __VA_ARGS__)
int mreg_copy_out_next(struct mreg_copy_out *co, struct mreg_error *err);
/* Stop early (the rest is read and dropped) or after the end. */
void mreg_copy_out_close(struct mreg_copy_out *co);
/* An int8 or bool field's value (0 / false when NULL or malformed). */
long long mreg_copy_out_int8(const struct mreg_copy_out *co, int i);
bool mreg_copy_out_bool(const struct mreg_copy_out *co, int i);

/*
 * s[0..n) appended to b as an element of a text[] literal ("{...}"):
 * double-quoted, '"' and '\\' escaped, so that any text (a comma, a
 * brace, the word NULL) stays one element as written; a comma before it
 * unless first.  For a parameter or a COPY field (which escapes it again).
 */
void mreg_array_element(struct mreg_strbuf *b, const char *s, size_t n,
			bool first);

#endif
