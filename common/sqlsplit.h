/* sqlsplit.h - splitting a SQL script into statements
 *
 * Needed where statements must be sent one at a time (a multi-statement
 * string runs as one implicit transaction, which CREATE INDEX CONCURRENTLY
 * refuses) and to report the line of a failing statement.  Understands
 * -- and nested block comments, '...' strings (with ''), E'...' strings
 * (with backslash escapes), "..." identifiers and $tag$...$tag$ quoting.
 */
#ifndef MREG_SQLSPLIT_H
#define MREG_SQLSPLIT_H

#include <stddef.h>

#include "error.h"

struct mreg_sql_stmt {
	size_t offset; /* first byte of the statement (after comments) */
	size_t len;    /* up to, not including, the terminating ';' */
	long line;     /* 1-based line of the first byte */
};

/*
 * Split sql[0..len) into statements; statements holding only white space
 * and comments are skipped.  *out is malloc()ed (free it).  Returns 0, or
 * -1 with err filled (line of an unterminated quote or comment).
 */
int mreg_sql_split(const char *sql, size_t len, struct mreg_sql_stmt **out,
		   size_t *count, struct mreg_error *err);

/*
 * Map a 1-based character position inside a statement (as the server
 * reports it in PG_DIAG_STATEMENT_POSITION, counting UTF-8 characters) to a
 * line and column of the whole script.
 */
void mreg_sql_position(const char *sql, const struct mreg_sql_stmt *stmt,
		       long charpos, long *line, long *column);

#endif
