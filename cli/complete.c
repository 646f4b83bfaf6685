/* complete.c - mreg __complete types|providers|models [PREFIX]
 *
 * Values for the shell completions, one per line.  Hidden from help.
 * Quick and silent: a short connect timeout, and no output and exit 0
 * when there is no database to ask.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "queries.h"
#include "registry.h"

static const struct cli_option options[] = {
	CLI_END,
};

static const struct cli_spec spec = {
	.usage = "types|providers|models [PREFIX]",
	.description = "Print completion values (used by the shell "
		       "completions).",
	.options = options,
	.flags = CLI_DB,
	.epilogue = NULL,
};

int cmd_complete(struct cli_ctx *ctx, int argc, char **argv)
{
	struct mreg_pool_config cfg = { .max_size = 1, .connect_timeout_s = 2,
					.acquire_timeout_ms = 2000 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	PGresult *res = NULL;
	const char *what, *prefix, *sql, *v[2] = { NULL, NULL }, *slash;
	char provider[256];
	int first, rc, i, n = 1;

	rc = cli_parse(ctx, &spec, argc, argv, NULL, NULL, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (first >= argc || first + 2 < argc)
		return cli_finish(ctx, cli_usage(ctx, "expected types, "
						      "providers or models, "
						      "and an optional "
						      "prefix"));
	what = argv[first];
	prefix = first + 1 < argc ? argv[first + 1] : NULL;
	if (strcmp(what, "types") == 0) {
		sql = MREG_SQL_TYPES;
		v[0] = prefix;
	} else if (strcmp(what, "providers") == 0) {
		sql = MREG_SQL_PROVIDER_NAMES;
		v[0] = prefix;
	} else if (strcmp(what, "models") == 0) {
		slash = prefix ? strchr(prefix, '/') : NULL;
		if (!slash || (size_t)(slash - prefix) >= sizeof(provider)) {
			/* no provider yet: offer "provider/" */
			sql = "SELECT name || '/' FROM (" MREG_SQL_PROVIDER_NAMES
			      ") p";
			v[0] = prefix;
		} else {
			memcpy(provider, prefix, (size_t)(slash - prefix));
			provider[slash - prefix] = '\0';
			sql = MREG_SQL_MODEL_NAMES;
			v[0] = provider;
			v[1] = slash + 1;
			n = 2;
		}
	} else {
		return cli_finish(ctx, cli_usage(ctx, "cannot complete '%s'",
						 what));
	}
	/* from here on: silent, exit 0 */
	pool = cli_pool_config(ctx, &cfg, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, 0);
	if (mreg_db_command(conn, "SET statement_timeout = '2s'", 0, NULL,
			    &err) == 0)
		res = mreg_db_exec(conn, sql, n, v, PGRES_TUPLES_OK, &err);
	for (i = 0; res && i < PQntuples(res); i++)
		puts(PQgetvalue(res, i, 0));
	PQclear(res);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, 0);
}
