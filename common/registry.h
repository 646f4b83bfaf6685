/* registry.h - helpers of the registry read/write commands
 *
 * Model identity, opaque keyset cursors, streaming a query's rows one at
 * a time (bounded memory), and close-name suggestions.
 */
#ifndef MREG_REGISTRY_H
#define MREG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "db.h"
#include "error.h"
#include "pool.h"

/*
 * Split "provider/name" at the first '/': the provider is copied into
 * provider (size plen), *name points into s.  -1 with err filled (status
 * MREG_EXIT_DATA) when there is no '/' or either side is empty.
 */
int mreg_identity_split(const char *s, char *provider, size_t plen,
			const char **name, struct mreg_error *err);

/*
 * Keyset cursors.  A cursor is an opaque token (base64url of "1", the
 * kind, US, the id, US, the key) naming what it continues (kind: one
 * letter per listing and sort order: n models by name, u models by
 * update time, a audit entries, h history, p providers, d defaults) and
 * the sort key and id of the last row of the page.  Decode checks the whole token
 * before any SQL sees it: the alphabet, canonical padding bits, the
 * framing (exactly two fields), the kind, and each field (an id of 1 to
 * 2^63-1 without leading zeros, a model name of valid UTF-8 without
 * control characters, a timestamp exactly as the queries print it, a
 * provider or type slug).  It returns malloc'd key and id (id may be
 * empty), or -1 with err filled (MREG_EXIT_USAGE): "invalid cursor", or
 * "belongs to another listing or sort order".
 */
char *mreg_cursor_encode(char kind, const char *key, const char *id);
int mreg_cursor_decode(const char *token, char kind, char **key, char **id,
		       struct mreg_error *err);

/*
 * A query whose rows arrive one at a time (libpq single-row mode), so
 * that a million-row result never sits in memory.
 */
struct mreg_stream {
	struct mreg_conn *conn;
	PGresult *row;  /* the current row (one tuple) while next() says 1 */
	bool active;    /* results still to be read */
	/* for the trace (db.h) */
	struct mreg_db_site site;
	const char *sql;
	double t0_ms;
	long rows;
};

int mreg_stream_open_at(struct mreg_db_site site, struct mreg_stream *s,
			struct mreg_conn *conn, const char *sql, int nparams,
			const char *const *values, struct mreg_error *err);
#define mreg_stream_open(...) mreg_stream_open_at(MREG_DB_SITE, __VA_ARGS__)
/* 1: s->row holds a row; 0: no more rows; -1: error (err filled). */
int mreg_stream_next(struct mreg_stream *s, struct mreg_error *err);
/* Read what is left, leave the connection idle. */
void mreg_stream_close(struct mreg_stream *s);
/* Ask the server to stop sending rows (before close, when giving up on a
 * large result). */
void mreg_stream_cancel(struct mreg_stream *s);

/*
 * Run sql (one text column) and join up to max values into buf as
 * "\"a\", \"b\"".  Returns how many; 0 on error or none (suggestions are
 * a courtesy: their failure never hides the real error).
 */
int mreg_suggest(struct mreg_conn *conn, const char *sql, int nparams,
		 const char *const *values, char *buf, size_t len);

/* Run sql and return its single value as a long long; -1 on error. */
int mreg_query_count(struct mreg_conn *conn, const char *sql, int nparams,
		     const char *const *values, long long *out,
		     struct mreg_error *err);

/*
 * EXPLAIN (FORMAT JSON) sql with these parameters, as the commands would
 * run it; the plan's JSON text is returned malloc'd.
 */
char *mreg_explain(struct mreg_conn *conn, const char *sql, int nparams,
		   const char *const *values, struct mreg_error *err);

#endif
