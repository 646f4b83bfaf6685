/* view.h - output settings shared by the registry read commands
 * (list, show, search): --format, terminal width and colour. */
#ifndef MREG_VIEW_H
#define MREG_VIEW_H

#include <stdio.h>

#include "cli.h"
#include "listing.h"
#include "output.h"
#include "pool.h"

/*
 * Fill cfg for writing format to out: on a terminal (or the pager that
 * stands for it) the table fits $COLUMNS when set, else the terminal's
 * width; anywhere else it is never cut.  Colour only on a terminal and
 * never when NO_COLOR is set.
 */
void view_config(FILE *out, enum mreg_out_format format,
		 struct mreg_output_config *cfg);

/*
 * --columns LIST and --no-headers of a listing (list, search): the columns
 * chosen, in the order given, and where the writer's rows go.
 */
struct view_table {
	const struct cli_ctx *ctx;
	const char *columns;   /* --columns, or NULL: the listing's own */
	bool no_headers;
	const char *at;        /* --at: JSON's "at" (the instant), or NULL */
	/* set by view_table_open() */
	enum mreg_out_format format;
	struct mreg_output *out;
	struct mreg_column *cols; /* the chosen columns (NULL: all) */
	int *from;             /* index of each in the listing's rows */
	int ncols;
	const char **row;      /* one row of the chosen values */
	bool started;          /* the first row was seen (pager started) */
};

/*
 * Check t against a listing of cols in format, before connecting:
 * --columns and --no-headers go with table and CSV, and the names in
 * t->columns (case-insensitive) must be columns of the listing; else a
 * usage error naming the valid ones.  0, or the exit status (printed).
 */
int view_table_check(struct view_table *t, enum mreg_out_format format,
		     const struct mreg_column *cols, int ncols);

/* The writer for the listing (view_table_check first, if not done). */
int view_table_open(struct view_table *t, enum mreg_out_format format,
		    const struct mreg_column *cols, int ncols);

/* mreg_listing_row_fn: the pager on the first row, then the row. */
int view_table_row(void *t, const char *const *row, struct mreg_error *err);

void view_table_close(struct view_table *t); /* NULL-safe */

/* Parse a --format value; prints the usage error and returns 2 if bad. */
int view_parse_format(const struct cli_ctx *ctx, const char *arg,
		      enum mreg_out_format *out);

/* Report a failed write: silent for EPIPE (the reader went away). */
int view_write_failed(const struct cli_ctx *ctx, const struct mreg_output *o,
		      const struct mreg_error *err);

/*
 * "unknown model "provider/name"" on stderr, with close names from the
 * registry as a HINT; returns MREG_EXIT_DATA.
 */
int view_unknown_model(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *provider, const char *name,
		       const char *ident);

/*
 * A filter that matched nothing: is the --type or --provider itself
 * unknown?  Then "unknown type/provider" with close names as a HINT and
 * MREG_EXIT_DATA; a query error is reported; else 0.  NULL: no filter.
 */
int view_check_filters(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *type, const char *provider);

/*
 * The one PROVIDER/NAME operand of show and set-default, argv[first]:
 * split into provider (a buffer of len) and *name.  -1 when it is fine,
 * else the usage error's exit status (printed).
 */
int view_identity_arg(const struct cli_ctx *ctx, int argc, char **argv,
		      int first, char *provider, size_t len,
		      const char **name);

/*
 * A --since/--until (or other TIME) value: a duration ago ("2h", "3d")
 * or an ISO-8601 timestamp (common/timeparse.c), as UTC text in buf for
 * the server.  0, or the usage error's exit status (printed, naming opt).
 */
int view_parse_time(const struct cli_ctx *ctx, const char *opt,
		    const char *arg, char *buf, size_t len);

/*
 * After a listing's rows: the total and the next page's cursor where the
 * format has no place for them (table: on stdout after the rows; ndjson
 * and csv: on stderr; json carries them itself).  noun: "models", ...
 */
void view_listing_trailer(const struct cli_ctx *ctx,
			  enum mreg_out_format format, const char *noun,
			  const struct mreg_listing_result *res);

#endif
