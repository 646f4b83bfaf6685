/* default.c - mreg default TYPE: print the default model of a type
 *
 * Made for $(mreg default embedding) in scripts: one connection, one
 * query, the bare "provider/name" on stdout.  The extra lookups that
 * explain a missing default run only on that error path.
 */
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "queries.h"
#include "registry.h"

static const struct cli_option options[] = {
	CLI_END,
};

const struct cli_spec cmd_default_spec = {
	.usage = "TYPE",
	.description = "Print the default model of TYPE as provider/name.",
	.options = options,
	.epilogue = "Exits 3 when TYPE is unknown or has no default model.",
};

/* No default: say whether the type exists at all, with close names. */
static int no_default(struct cli_ctx *ctx, struct mreg_conn *conn,
		      const char *type)
{
	const char *v[2] = { type, NULL };
	struct mreg_error err;
	char hint[512];
	PGresult *res;
	bool exists;

	res = mreg_db_exec(conn, MREG_SQL_TYPE_EXISTS, 1, v, PGRES_TUPLES_OK,
			   &err);
	if (!res)
		return cli_report(ctx, &err);
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists) {
		cli_fail(ctx, 0, "type \"%s\" has no default model", type);
		cli_hint("Choose one with 'mreg set-default PROVIDER/NAME' "
			 "(see 'mreg list --type %s').", type);
		return MREG_EXIT_DATA;
	}
	cli_fail(ctx, 0, "unknown type \"%s\"", type);
	v[0] = NULL;
	v[1] = type;
	if (mreg_suggest(conn, MREG_SQL_SUGGEST_TYPES, 2, v, hint,
			 sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

int cmd_default(struct cli_ctx *ctx, int argc, char **argv)
{
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	PGresult *res = NULL;
	const char *v[1];
	int first, rc;

	rc = cli_parse(ctx, &cmd_default_spec, argc, argv, NULL, NULL, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	v[0] = argv[first];
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	res = mreg_db_exec(conn, MREG_SQL_GET_DEFAULT, 1, v, PGRES_TUPLES_OK,
			   &err);
	if (!res) {
		mreg_error_prefix(&err, "could not read the default of \"%s\"",
				  v[0]);
		rc = cli_report(ctx, &err);
	} else if (PQntuples(res) == 0) {
		rc = no_default(ctx, conn, v[0]);
	} else {
		/* exact for $(mreg default TYPE); escaped for a person */
		if (cli_isatty(stdout))
			cli_printf(stdout, "%s\n", PQgetvalue(res, 0, 0));
		else
			puts(PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
