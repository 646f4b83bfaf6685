/* view.c - output settings shared by the registry read commands */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
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
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

/* Does value exist (exists_sql, $1)?  Else say so with suggestions. */
static int check_known(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *noun, const char *exists_sql,
		       const char *suggest_sql, int nsuggest,
		       const char *value)
{
	const char *v[2] = { value, NULL };
	struct mreg_error err;
	char hint[512];
	PGresult *res;
	bool exists;

	res = mreg_db_exec(conn, exists_sql, 1, v, PGRES_TUPLES_OK, &err);
	if (!res)
		return cli_report(ctx, &err);
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists)
		return 0;
	cli_fail(ctx, 0, "unknown %s \"%s\"", noun, value);
	/* the type suggestions take the value as $2 */
	if (nsuggest == 2) {
		v[0] = NULL;
		v[1] = value;
	}
	if (mreg_suggest(conn, suggest_sql, nsuggest, v, hint, sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

int view_check_filters(const struct cli_ctx *ctx, struct mreg_conn *conn,
		       const char *type, const char *provider)
{
	int rc = 0;

	if (type)
		rc = check_known(ctx, conn, "type", MREG_SQL_TYPE_EXISTS,
				 MREG_SQL_SUGGEST_TYPES, 2, type);
	if (rc == 0 && provider)
		rc = check_known(ctx, conn, "provider",
				 MREG_SQL_PROVIDER_EXISTS,
				 MREG_SQL_SUGGEST_PROVIDERS, 1, provider);
	return rc;
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
