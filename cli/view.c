/* view.c - output settings shared by the registry read commands */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
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
	char hint[1024];

	cli_fail(ctx, 0, "unknown model \"%s\"", ident);
	if (mreg_lookup_suggest_models(conn, provider, name, hint,
				       sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

int view_check_filters(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *type, const char *provider)
{
	struct mreg_unknown u;
	struct mreg_error err;
	int rc = mreg_lookup_filters(conn, type, provider, &u, &err);

	if (rc < 0)
		return cli_report(ctx, &err);
	if (rc == 0)
		return 0;
	cli_fail(ctx, 0, "unknown %s \"%s\"", u.noun, u.value);
	if (u.suggest[0])
		cli_hint("did you mean %s?", u.suggest);
	return MREG_EXIT_DATA;
}

int view_identity_arg(const struct cli_ctx *ctx, int argc, char **argv,
		      int first, char *provider, size_t len,
		      const char **name)
{
	struct mreg_error err;

	if (mreg_identity_split(argv[first], provider, len, name, &err) < 0)
		return cli_usage(ctx, "%s", err.message);
	return -1;
}
