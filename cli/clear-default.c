/* clear-default.c - mreg clear-default TYPE
 *
 * One DELETE of the type's row in mreg.model_defaults (common/edit.c);
 * the audit trigger records default.clear with the model that was the
 * default.  A type without a default is an error (exit 3), as it is for
 * mreg default: a script that clears a default it believes is set
 * learns that it was not.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "edit-report.h"
#include "lookup.h"

static const struct cli_option options[] = {
	{ 'n', 'n', "dry-run", NULL, "show what would change, write nothing" },
	{ 'o', 'o', "format", "FORMAT", "text (default) or json (a summary)" },
	CLI_END,
};

const struct cli_spec cmd_clear_default_spec = {
	.usage = "[options] TYPE",
	.description = "Remove a type's default model.",
	.options = options,
	.epilogue = "The model stays; only the default goes (audited as "
		    "default.clear).  A type\nwithout a default is refused "
		    "(exit 3).",
};

struct opts {
	const struct cli_ctx *ctx;
	bool dry_run, json;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	if (id == 'n') {
		o->dry_run = true;
		return 0;
	}
	if (id == 'o')
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	return cli_usage(o->ctx, "unhandled option");
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
	cli_fail(ctx, 0, "type \"%s\" has no default", type);
	if (!exists && mreg_lookup_suggest_types(conn, type, hint,
						 sizeof(hint)))
		cli_hint("No model has that type; did you mean %s?", hint);
	else if (!exists)
		cli_hint("No model has that type.");
	return MREG_EXIT_DATA;
}

static int report(struct cli_ctx *ctx, const struct opts *o,
		  const struct mreg_edit *e)
{
	struct edit_json j;

	if (o->json) {
		if (edit_json_begin(&j, "clear-default", o->dry_run) == 0) {
			edit_json_string(&j, "type", e->type);
			edit_json_string(&j, "previous", e->previous);
			edit_json_int(&j, "previous_model_id", e->id);
			edit_json_changes(&j, e);
		}
		return edit_json_end(ctx, &j);
	}
	cli_printf(stdout, "%sdefault for type %s: %s -> (none)\n",
		   o->dry_run ? "would change " : "", e->type, e->previous);
	if (o->dry_run)
		edit_print_changes(e);
	return 0;
}

int cmd_clear_default(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_edit e = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	const char *type;
	int first, rc;

	rc = cli_parse(ctx, &cmd_clear_default_spec, argc, argv, handle, &o,
		       &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	type = argv[first];
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	if (mreg_edit_clear_default(conn, type, cli_actor(ctx), o.dry_run, &e,
				    &err) < 0) {
		mreg_error_prefix(&err, "could not clear the default of type "
				  "\"%s\"", type);
		rc = cli_report(ctx, &err);
	} else if (!e.found) {
		rc = no_default(ctx, conn, type);
	} else {
		rc = report(ctx, &o, &e);
	}
	mreg_edit_finish(&e);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
