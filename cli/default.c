/* default.c - mreg default TYPE: print the default model of a type
 *
 * Made for $(mreg default embedding) in scripts: one connection, one
 * query, the bare "provider/name" on stdout.  The extra lookups that
 * explain a missing default run only on that error path.  With -o json
 * it prints the model object instead (mreg-json(7)).
 */
#include <stdlib.h>

#include "asof-arg.h"
#include "cli.h"
#include "commands.h"
#include "jsontext.h"
#include "lookup.h"

enum { OPT_AT = 256 };

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "text (default: the bare provider/name) or json (the model "
	  "object)" },
	CLI_ASOF_OPTION(OPT_AT),
	CLI_END,
};

const struct cli_spec cmd_default_spec = {
	.usage = "TYPE [--at TIME] [--format FORMAT]",
	.description = "Print the default model of TYPE as provider/name.",
	.options = options,
	.epilogue = "Exits 3 when TYPE is unknown or has no default model "
		    "(with --at: had none\nthen, or TIME precedes the audit "
		    "log).",
};

struct opts {
	const struct cli_ctx *ctx;
	bool json;
	const char *at_arg;      /* --at, or NULL */
	char asked[MREG_ASOF_LEN];
	char at[MREG_ASOF_LEN];  /* the instant answered */
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	if (id == 'o')
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	if (id == OPT_AT) {
		o->at_arg = arg;
		return cli_asof_parse(o->ctx, arg, o->asked);
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* The lookup: now, or (--at) as it was then; 1, 0 none, -1 (err). */
static int lookup(struct cli_ctx *ctx, struct opts *o, struct mreg_conn *conn,
		  const char *type, char **model, size_t *len,
		  struct mreg_error *err)
{
	if (o->at_arg) {
		int rc = cli_asof_resolve(ctx, conn, o->asked, o->at);

		if (rc) {
			err->status = rc;
			return -2; /* reported */
		}
		if (o->json)
			return mreg_asof_default_model(conn, type, o->at, model,
						       len, err);
		return mreg_asof_default(conn, type, o->at, model, err);
	}
	if (o->json)
		return mreg_lookup_default_model(conn, type, model, len, err);
	return mreg_lookup_default(conn, type, model, err);
}

/* No default: say whether the type exists at all, with close names. */
static int no_default(struct cli_ctx *ctx, struct mreg_conn *conn,
		      const char *type)
{
	struct mreg_error err;
	char hint[512];
	bool exists;

	if (mreg_lookup_type_exists(conn, type, &exists, &err) < 0)
		return cli_report(ctx, &err);
	if (exists) {
		cli_fail(ctx, 0, "type \"%s\" has no default model", type);
		cli_hint("Choose one with 'mreg set-default PROVIDER/NAME' "
			 "(see 'mreg list --type %s').", type);
		return MREG_EXIT_DATA;
	}
	cli_fail(ctx, 0, "unknown type \"%s\"", type);
	if (mreg_lookup_suggest_types(conn, type, hint, sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

int cmd_default(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	char *model = NULL;
	const char *type;
	size_t len = 0;
	int first, rc;

	rc = cli_parse(ctx, &cmd_default_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	type = argv[first];
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	rc = lookup(ctx, &o, conn, type, &model, &len, &err);
	if (rc == -2) {
		rc = err.status;
	} else if (rc < 0) {
		mreg_error_prefix(&err, "could not read the default of \"%s\"",
				  type);
		rc = cli_report(ctx, &err);
	} else if (rc == 0 && o.at_arg) {
		rc = cli_fail(ctx, MREG_EXIT_DATA, "type \"%s\" had no default "
			      "model at %s", type, o.at);
	} else if (rc == 0) {
		rc = no_default(ctx, conn, type);
	} else if (o.json) {
		mreg_json_write(stdout, model, len, 2);
		putchar('\n');
		rc = 0;
	} else {
		/* exact for $(mreg default TYPE); escaped for a person */
		if (cli_isatty(stdout))
			cli_printf(stdout, "%s\n", model);
		else
			puts(model);
		rc = 0;
	}
	free(model);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
