/* view.c - output settings shared by the registry read commands */
#include "view.h"

#include <errno.h>
#include <stdlib.h>

#include "queries.h"
#include "registry.h"

void view_config(FILE *out, enum mreg_out_format format,
		 struct mreg_output_config *cfg)
{
	const char *columns = getenv("COLUMNS");
	const char *no_color = getenv("NO_COLOR");
	long w = 0;
	bool tty = cli_isatty(out);

	cfg->format = format;
	cfg->window = 0;
	if (columns && cli_parse_long(columns, 1, 100000, &w) == 0)
		cfg->width = (int)w;
	else
		cfg->width = tty ? mreg_terminal_width(fileno(out)) : 0;
	cfg->color = tty && !(no_color && *no_color);
}

int view_parse_format(const struct cli_ctx *ctx, const char *arg,
		      enum mreg_out_format *out)
{
	if (mreg_output_parse_format(arg, out) < 0)
		return cli_usage(ctx, "--format must be table, json, ndjson "
				      "or csv, not '%s'", arg);
	return 0;
}

int view_write_failed(const struct cli_ctx *ctx, const struct mreg_output *o,
		      const struct mreg_error *err)
{
	if (mreg_output_errno(o) == EPIPE)
		return MREG_EXIT_OK;
	return cli_report(ctx, err);
}

int view_unknown_model(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *provider, const char *name,
		       const char *ident)
{
	const char *v[2] = { provider, name };
	char hint[1024];

	cli_fail(ctx, 0, "unknown model \"%s\"", ident);
	if (mreg_suggest(conn, MREG_SQL_SUGGEST_MODELS, 2, v, hint,
			 sizeof(hint)))
		fprintf(stderr, "HINT: did you mean %s?\n", hint);
	return MREG_EXIT_DATA;
}
