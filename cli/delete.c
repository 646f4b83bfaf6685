/* delete.c - mreg delete PROVIDER/NAME
 *
 * One transaction (common/edit.c): the model is locked, refused when it
 * is its type's default, else deleted with its artifacts (ON DELETE
 * CASCADE).  The audit triggers keep its last values (model.delete,
 * old = the whole row) so that history and restore can bring it back.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "edit-report.h"
#include "view.h"

static const struct cli_option options[] = {
	{ 'n', 'n', "dry-run", NULL, "show what would be deleted, write "
	  "nothing" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (a summary with the model object)" },
	CLI_END,
};

const struct cli_spec cmd_delete_spec = {
	.usage = "[options] PROVIDER/NAME",
	.description = "Delete one model and its artifacts.",
	.options = options,
	.epilogue = "A type's default model is refused (exit 3): move the "
		    "default first\n(mreg set-default) or remove it (mreg "
		    "clear-default).  The audit log keeps\nthe model's last "
		    "values (model.delete).  A model that import-dir\nrecorded "
		    "from a file comes back at the next import of that file's "
		    "source.",
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

static int report(struct cli_ctx *ctx, const struct opts *o,
		  const char *ident, const struct mreg_edit *e)
{
	struct edit_json j;

	if (e->default_of) {
		cli_fail(ctx, 0, "could not delete \"%s\": it is the default "
			 "model for type \"%s\"", ident, e->default_of);
		cli_hint("Make another model the default first (mreg "
			 "set-default PROVIDER/NAME), or remove the default "
			 "(mreg clear-default %s).", e->default_of);
		return MREG_EXIT_DATA;
	}
	edit_warn_sources(ctx, e, ident);
	if (o->json) {
		if (edit_json_begin(&j, "delete", o->dry_run) == 0) {
			edit_json_raw(&j, "model", e->model, e->model_len);
			edit_json_int(&j, "artifacts", e->artifacts);
			edit_json_sources(&j, e);
			edit_json_changes(&j, e);
		}
		return edit_json_end(ctx, &j);
	}
	cli_printf(stdout, "%s %s (id %lld, type %s; %ld artifact%s)\n",
		   o->dry_run ? "would delete" : "deleted", ident, e->id,
		   e->type, e->artifacts, e->artifacts == 1 ? "" : "s");
	if (o->dry_run)
		edit_print_changes(e);
	return 0;
}

int cmd_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_edit e = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	char provider[256];
	const char *name, *ident;
	int first, rc;

	rc = cli_parse(ctx, &cmd_delete_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	ident = argv[first];
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	if (mreg_edit_delete(conn, provider, name, cli_actor(ctx), o.dry_run,
			     &e, &err) < 0) {
		mreg_error_prefix(&err, "could not delete \"%s\"", ident);
		rc = cli_report(ctx, &err);
	} else if (!e.found) {
		rc = view_unknown_model(ctx, conn, provider, name, ident);
	} else {
		rc = report(ctx, &o, ident, &e);
	}
	mreg_edit_finish(&e);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
