/* output.h - result writers for the read commands: table, JSON, NDJSON, CSV
 *
 * A writer is created with a column list, fed one row at a time (values
 * as text, NULL for SQL NULL) and finished.  Rows are written as they
 * come, so memory stays bounded whatever the number of rows:
 *
 *   table   aligned columns under an upper-case header.  The first
 *           `window` rows are held back to size the columns; later rows
 *           reuse those widths.  With a width limit, columns shrink to
 *           fit by priority (struct mreg_column): the least important
 *           first, down to a few columns each, the widest first among
 *           equals; the identifying column (MREG_PRIO_KEY) is cut last.
 *           When even that does not fit, the least important columns
 *           are left out (a "-- not shown" line after the rows names
 *           them) before the identifying one is cut.  A cut cell ends in
 *           "\u2026" (an ellipsis).  Cells are escaped as escape.h says (\n, \t,
 *           \x1b, \\, \u202e, ...) so a value can neither break the
 *           layout nor drive the terminal; JSON cells keep their own
 *           escapes.
 *   json    {"items": [ {...}, ... ], "next": CURSOR-or-null,
 *            "count": N-or-null[, "at": INSTANT]} (mreg-json(7))
 *   ndjson  one object per line, nothing else
 *   csv     RFC 4180: header line, CRLF line ends, fields quoted when they
 *           hold a comma, quote, CR or LF; NULL is an empty unquoted
 *           field, the empty string is "".
 *
 * Column kinds decide how a value is rendered in JSON (string, number,
 * true/false, embedded JSON text) and in the table (a JSON array of
 * strings is shown joined by ", ").  Invalid UTF-8 never reaches the
 * output: JSON gets U+FFFD, the table an \xNN escape.
 *
 * The writer only writes to the FILE it is given; it never prints
 * diagnostics.  A write error stops it: every later call returns -1.
 */
#ifndef MREG_OUTPUT_H
#define MREG_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

enum mreg_out_format {
	MREG_OUT_TABLE,
	MREG_OUT_JSON,
	MREG_OUT_NDJSON,
	MREG_OUT_CSV,
};

enum mreg_col_kind {
	MREG_COL_TEXT,   /* a JSON string */
	MREG_COL_NUMBER, /* a JSON number (anything else becomes a string) */
	MREG_COL_BOOL,   /* "t"/"true" or "f"/"false" -> true / false */
	MREG_COL_JSON,   /* JSON text from the server, embedded as is */
};

enum mreg_col_flags {
	MREG_COL_RIGHT = 1 << 0, /* table: right-aligned (numbers) */
	MREG_COL_HIDDEN = 1 << 1, /* table: not shown (JSON/CSV only) */
};

/*
 * How long a column keeps its width in a table too wide for the terminal:
 * the lower, the sooner it is cut (0, the default, first).  The values
 * between are a guide; only their order matters.
 */
enum mreg_col_priority {
	MREG_PRIO_LEAST = 0,    /* descriptions, JSON details */
	MREG_PRIO_TAGS = 10,    /* tags, hashes */
	MREG_PRIO_TIME = 20,    /* timestamps */
	MREG_PRIO_LABEL = 30,   /* display names, roles */
	MREG_PRIO_FIELD = 50,   /* short fields: version, actor */
	MREG_PRIO_CORE = 70,    /* type, active, counts, score, action */
	MREG_PRIO_KEY = 100,    /* the identifying column: cut last, never
				 * left out */
};

struct mreg_column {
	const char *name; /* field name in JSON and CSV, header in the table */
	enum mreg_col_kind kind;
	unsigned flags;   /* enum mreg_col_flags */
	int priority;     /* table: enum mreg_col_priority */
};

struct mreg_output_config {
	enum mreg_out_format format;
	int width;         /* table: total width limit; <= 0: no limit */
	bool color;        /* table: bold header (caller checks TTY/NO_COLOR) */
	size_t window;     /* table: rows held back to size columns; 0: 500 */
	bool no_headers;   /* table and CSV: no header line */
};

struct mreg_output;

struct mreg_output *mreg_output_create(FILE *out,
				       const struct mreg_output_config *cfg,
				       const struct mreg_column *cols,
				       int ncols, struct mreg_error *err);

/* One row of ncols values (NULL entries are SQL NULL).  0 ok, -1 error. */
int mreg_output_row(struct mreg_output *o, const char *const *values,
		    struct mreg_error *err);

/*
 * Write what is still held back and the closing text.  For JSON, next is
 * the cursor of the following page (NULL: none) and count the total
 * number of matching rows (< 0: unknown, null).  The other formats ignore both (the
 * caller reports them elsewhere).  0 ok, -1 error.
 */
int mreg_output_finish(struct mreg_output *o, const char *next,
		       long long count, struct mreg_error *err);

/*
 * JSON: an "at" member after count (the instant a listing --at answers
 * for; at is not copied and must outlive o), or NULL for none.
 */
void mreg_output_set_at(struct mreg_output *o, const char *at);

/* errno of the first failed write, 0 if none. */
int mreg_output_errno(const struct mreg_output *o);

void mreg_output_destroy(struct mreg_output *o); /* NULL-safe */

/* "table", "json", "ndjson", "csv"; 0 ok, -1 unknown. */
int mreg_output_parse_format(const char *s, enum mreg_out_format *out);

/*
 * Writers for single values, used by the writers above and by commands
 * that print one document (mreg show).  Return 0 or -1 on write error.
 */
int mreg_json_write_string(FILE *out, const char *s, size_t len);
int mreg_csv_write_field(FILE *out, const char *s, size_t len);

/* One row of ncols values as one JSON object, as the json and ndjson
 * writers write each row (keys: the column names, in order). */
int mreg_json_write_object(FILE *out, const struct mreg_column *cols,
			   int ncols, const char *const *values);

/*
 * Render s for a terminal cell: mreg_escape(s, len, 0, cols) (escape.h).
 * Returns a malloc'd string (NULL if out of memory) and its display width
 * in *cols.
 */
char *mreg_cell_escape(const char *s, size_t len, size_t *cols);

/* Display width of valid UTF-8 text (wide East Asian characters count 2). */
size_t mreg_display_width(const char *s, size_t len);

/* Terminal width of fd, or 0 if it is not a terminal. */
int mreg_terminal_width(int fd);

#endif
