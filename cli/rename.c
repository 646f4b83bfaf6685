/* rename.c - mreg rename PROVIDER/NAME NEW_PROVIDER/NEW_NAME
 *
 * A rename and/or a move to another provider (created if missing): one
 * UPDATE of the model row (common/edit.c), so the id, the artifacts, the
 * default and the history stay with it; the audit trigger records
 * provider and name old -> new (model.update).  A model that import-dir
 * recorded from a file is refused unless --force: that file still names
 * the old identity, and the next import of its source adds it again.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "edit-report.h"
#include "registry.h"
#include "view.h"

enum { OPT_FORCE = 'f' };

static const struct cli_option options[] = {
	{ OPT_FORCE, 'f', "force", NULL, "rename a model that import-dir "
	  "recorded from a file too" },
	{ 'n', 'n', "dry-run", NULL, "show what would change, write nothing" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (a summary with the model object)" },
	CLI_END,
};

const struct cli_spec cmd_rename_spec = {
	.usage = "[options] PROVIDER/NAME NEW_PROVIDER/NEW_NAME",
	.description = "Rename a model or move it to another provider.",
	.options = options,
	.epilogue = "The model keeps its id, artifacts, default and history.  "
		    "A name that is\ntaken is refused (exit 3).  A model "
		    "import-dir recorded from a file is\nrefused without "
		    "--force; with it, the file no longer stands for the "
		    "model,\nand the next import of its source adds the "
		    "file's model again.",
};

struct opts {
	const struct cli_ctx *ctx;
	bool dry_run, json, force;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case 'n': o->dry_run = true; return 0;
	case OPT_FORCE: o->force = true; return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* The new identity, split and checked as a model file's keys are. */
static int new_identity(struct cli_ctx *ctx, const char *from,
			const char *to, char *provider, size_t len,
			const char **name)
{
	struct mreg_error err;
	const char *why;

	if (mreg_identity_split(to, provider, len, name, &err) < 0)
		return cli_usage(ctx, "%s", err.message);
	if (!mreg_is_slug(provider))
		return cli_fail(ctx, MREG_EXIT_DATA, "could not rename \"%s\": "
				"provider \"%s\" is not a slug "
				"([a-z0-9][a-z0-9._-]{0,63})", from, provider);
	why = mreg_check_name(*name);
	if (why)
		return cli_fail(ctx, MREG_EXIT_DATA, "could not rename \"%s\": "
				"the new name %s", from, why);
	return -1;
}

static int refused(struct cli_ctx *ctx, const char *from, const char *to,
		   const struct mreg_edit *e)
{
	if (e->taken) {
		cli_fail(ctx, 0, "could not rename \"%s\": model \"%s\" "
			 "already exists", from, to);
		return MREG_EXIT_DATA;
	}
	cli_fail(ctx, 0, "could not rename \"%s\": import-dir recorded it "
		 "from \"%s\" of source \"%s\"", from, e->sources[0].path,
		 e->sources[0].source);
	cli_hint("The next import of that source would add \"%s\" again. "
		 "Rename it in its file, or use --force.", from);
	return MREG_EXIT_DATA;
}

static int report(struct cli_ctx *ctx, const struct opts *o,
		  const char *from, const char *to, const struct mreg_edit *e)
{
	struct edit_json j;

	if (e->taken || e->owned)
		return refused(ctx, from, to, e);
	if (e->changed)
		edit_warn_sources(ctx, e, from);
	if (o->json) {
		if (edit_json_begin(&j, "rename", o->dry_run) == 0) {
			edit_json_string(&j, "from", from);
			edit_json_string(&j, "to", to);
			edit_json_int(&j, "id", e->id);
			edit_json_bool(&j, "changed", e->changed);
			edit_json_bool(&j, "provider_created",
				       e->provider_created);
			edit_json_sources(&j, e);
			edit_json_raw(&j, "model", e->model, e->model_len);
			edit_json_changes(&j, e);
		}
		return edit_json_end(ctx, &j);
	}
	if (!e->changed)
		cli_printf(stdout, "%s is already named so: nothing changed\n",
			   from);
	else
		cli_printf(stdout, "%s %s -> %s (id %lld)\n",
			   o->dry_run ? "would rename" : "renamed", from, to,
			   e->id);
	if (o->dry_run)
		edit_print_changes(e);
	return 0;
}

int cmd_rename(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_edit e = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	char provider[256], to_provider[256];
	const char *name, *to_name, *from, *to;
	int first, rc;

	rc = cli_parse(ctx, &cmd_rename_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	from = argv[first];
	to = argv[first + 1];
	rc = new_identity(ctx, from, to, to_provider, sizeof(to_provider),
			  &to_name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	if (mreg_edit_rename(conn, provider, name, to_provider, to_name,
			     o.force, cli_actor(ctx), o.dry_run, &e,
			     &err) < 0) {
		mreg_error_prefix(&err, "could not rename \"%s\"", from);
		rc = cli_report(ctx, &err);
	} else if (!e.found) {
		rc = view_unknown_model(ctx, conn, provider, name, from);
	} else {
		rc = report(ctx, &o, from, to, &e);
	}
	mreg_edit_finish(&e);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
