/* view.h - output settings shared by the registry read commands
 * (list, show, search): --format, terminal width and colour. */
#ifndef MREG_VIEW_H
#define MREG_VIEW_H

#include <stdio.h>

#include "cli.h"
#include "output.h"
#include "pool.h"

/*
 * Fill cfg for writing format to out: the table fits $COLUMNS when set,
 * else the terminal's width when out is a terminal, else has no limit;
 * colour only on a terminal and never when NO_COLOR is set.
 */
void view_config(FILE *out, enum mreg_out_format format,
		 struct mreg_output_config *cfg);

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

#endif
