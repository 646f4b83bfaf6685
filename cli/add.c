/* add.c - mreg add PROVIDER/NAME --type T [...] | --file FILE|-
 *
 * The options become a model file (common/edit-model.c) checked by the
 * model file parser itself, so add accepts exactly what import-dir
 * accepts and says so in the same words; the insert is one transaction
 * (common/edit.c), audited by the database's triggers.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "edit-report.h"
#include "import.h"
#include "view.h"

enum {
	OPT_TYPE = 256, OPT_VERSION, OPT_DISPLAY_NAME, OPT_DESCRIPTION,
	OPT_TAG, OPT_SYNONYM, OPT_CONFIG, OPT_METADATA, OPT_INACTIVE,
	OPT_FILE,
};

static const struct cli_option options[] = {
	CLI_GROUP("The model (the keys of a model file, mreg-model(5)):"),
	{ OPT_TYPE, 0, "type", "TYPE", "its type (required without --file)" },
	{ OPT_VERSION, 0, "version", "VERSION", "its version" },
	{ OPT_DISPLAY_NAME, 0, "display-name", "TEXT", "its display name" },
	{ OPT_DESCRIPTION, 0, "description", "TEXT", "its description" },
	{ OPT_TAG, 0, "tag", "TAG", "a tag (repeat for more)" },
	{ OPT_SYNONYM, 0, "synonym", "TEXT", "a synonym (repeat for more)" },
	{ OPT_CONFIG, 0, "config", "JSON", "its config, a JSON object" },
	{ OPT_METADATA, 0, "metadata", "JSON", "its metadata, a JSON object" },
	{ OPT_INACTIVE, 0, "inactive", NULL, "add it inactive" },
	{ OPT_FILE, 0, "file", "FILE",
	  "read the model from a model file ('-': standard input) instead" },
	CLI_GROUP("Output:"),
	{ 'n', 'n', "dry-run", NULL, "check and show what would be added, "
	  "write nothing" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (a summary with the model object)" },
	CLI_END,
};

const struct cli_spec cmd_add_spec = {
	.usage = "[options] PROVIDER/NAME --type TYPE\n"
		 "[options] --file FILE|-",
	.description = "Add one model, creating its provider if needed.",
	.options = options,
	.epilogue = "Checked exactly as a model file is (mreg-model(5)); a "
		    "model that exists\nalready is refused (exit 3).  The "
		    "audit log records model.create (and\nprovider.create "
		    "for a new provider, artifact.create for each artifact).",
};

struct opts {
	const struct cli_ctx *ctx;
	struct mreg_model_args a;
	const char **tags, **synonyms; /* argc entries each */
	const char *file;
	char *artifacts;  /* --file: its artifacts hashed (JSON) */
	bool dry_run, json, model_options;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	o->model_options = o->model_options || (id >= OPT_TYPE &&
						id < OPT_FILE);
	switch (id) {
	case 'n': o->dry_run = true; return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	case OPT_TYPE: o->a.type = arg; return 0;
	case OPT_VERSION: o->a.version = arg; return 0;
	case OPT_DISPLAY_NAME: o->a.display_name = arg; return 0;
	case OPT_DESCRIPTION: o->a.description = arg; return 0;
	case OPT_TAG: o->tags[o->a.ntags++] = arg; return 0;
	case OPT_SYNONYM: o->synonyms[o->a.nsynonyms++] = arg; return 0;
	case OPT_CONFIG: o->a.config = arg; return 0;
	case OPT_METADATA: o->a.metadata = arg; return 0;
	case OPT_INACTIVE: o->a.inactive = true; return 0;
	case OPT_FILE: o->file = arg; return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* The model the command line names, checked: -1, or an exit status. */
static int model_of(struct cli_ctx *ctx, struct opts *o, int argc,
		    char **argv, int first, struct mreg_model *m)
{
	struct mreg_error err;
	char provider[MREG_SLUG_MAX + 2];
	int rc;

	if (o->file) {
		if (first < argc)
			return cli_usage(ctx, "give PROVIDER/NAME or --file, "
					 "not both");
		if (o->model_options)
			return cli_usage(ctx, "--file takes the whole model: "
					 "no other model option goes with it");
		rc = mreg_model_from_file(strcmp(o->file, "-") == 0 ? NULL
								    : o->file,
					  MREG_IMPORT_DEFAULT_MAX_FILE_SIZE, m,
					  &o->artifacts, &err);
		return rc < 0 ? cli_report(ctx, &err) : -1;
	}
	if (first >= argc)
		return cli_usage(ctx, "missing PROVIDER/NAME (or --file FILE)");
	if (!o->a.type)
		return cli_usage(ctx, "missing --type TYPE");
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &o->a.name);
	if (rc >= 0)
		return rc;
	o->a.provider = provider;
	o->a.tags = o->tags;
	o->a.synonyms = o->synonyms;
	if (mreg_model_from_args(&o->a, m, &err) < 0)
		return cli_report(ctx, &err);
	return -1;
}

static int report(struct cli_ctx *ctx, const struct opts *o,
		  const struct mreg_model *m, const struct mreg_edit *e)
{
	struct edit_json j;

	if (e->taken) {
		cli_fail(ctx, 0, "model \"%s/%s\" already exists", m->provider,
			 m->name);
		cli_hint("Change it with 'mreg bulk-update', or delete or "
			 "rename it first.");
		return MREG_EXIT_DATA;
	}
	if (o->json) {
		if (edit_json_begin(&j, "add", o->dry_run) == 0) {
			edit_json_raw(&j, "model", e->model, e->model_len);
			edit_json_bool(&j, "provider_created",
				       e->provider_created);
			edit_json_changes(&j, e);
		}
		return edit_json_end(ctx, &j);
	}
	cli_printf(stdout, "%s %s/%s (id %lld, type %s%s%s)\n",
		   o->dry_run ? "would add" : "added", m->provider, m->name,
		   e->id, m->type,
		   e->provider_created ? ", new provider " : "",
		   e->provider_created ? m->provider : "");
	if (o->dry_run)
		edit_print_changes(e);
	return 0;
}

int cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_model m = { 0 };
	struct mreg_edit e = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct mreg_error err;
	int first, rc;

	o.tags = calloc((size_t)argc + 1, sizeof(*o.tags));
	o.synonyms = calloc((size_t)argc + 1, sizeof(*o.synonyms));
	if (!o.tags || !o.synonyms) {
		rc = cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
		goto done;
	}
	rc = cli_parse(ctx, &cmd_add_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		goto done;
	rc = model_of(ctx, &o, argc, argv, first, &m);
	if (rc >= 0)
		goto done;
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (mreg_edit_add(conn, &m, o.artifacts, cli_actor(ctx), o.dry_run, &e,
			  &err) < 0) {
		mreg_error_prefix(&err, "could not add \"%s/%s\"", m.provider,
				  m.name);
		rc = cli_report(ctx, &err);
	} else {
		rc = report(ctx, &o, &m, &e);
	}
	mreg_pool_release(pool, conn);
done:
	mreg_edit_finish(&e);
	mreg_model_finish(&m);
	free(o.tags);
	free(o.synonyms);
	free(o.artifacts);
	return cli_finish(ctx, rc);
}
