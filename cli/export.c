/* export.c - mreg export DIR: the registry as model files
 *
 * The files are import-dir's format (mreg-model(5)), one per model, at
 * paths common/export.h describes; DIR/.mreg-export lists what export
 * wrote, so that exporting again rewrites and removes only those.  '-'
 * writes the same documents as NDJSON on stdout instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "export.h"
#include "jsontext.h"
#include "view.h"

enum {
	OPT_TYPE = 256,
	OPT_PROVIDER,
	OPT_TAG,
	OPT_ALL,
	OPT_FORCE,
};

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json: the summary (not with '-')" },
	{ OPT_FORCE, 0, "force", NULL,
	  "write into a non-empty directory that is not an export, and "
	  "replace files in the way (nothing is removed that export did "
	  "not write)" },
	CLI_GROUP("FILTERS (which models, as for mreg list):"),
	{ OPT_TYPE, 0, "type", "TYPE", "only models of this type" },
	{ OPT_PROVIDER, 0, "provider", "NAME", "only models of this provider" },
	{ OPT_TAG, 0, "tag", "TAG",
	  "only models with this tag (repeatable: all of them)" },
	{ OPT_ALL, 0, "all", NULL,
	  "inactive models too (default: active ones)" },
	CLI_END,
};

const struct cli_spec cmd_export_spec = {
	.usage = "[--force] [--format FORMAT] [FILTERS] DIR\n"
		 "[FILTERS] -",
	.description = "Write the registry as model files, one per model, "
		       "that import-dir reads.",
	.options = options,
	.epilogue = "DIR/.mreg-export lists the files export wrote: a later "
		    "export into DIR\nrewrites those and removes the ones "
		    "whose models are gone.  '-' writes\nthe models as "
		    "NDJSON on standard output.  See mreg-export(1).",
};

struct opts {
	const struct cli_ctx *ctx;
	struct mreg_export_filter f;
	const char **tags;
	bool json, force;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	const char **tags;

	switch (id) {
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	case OPT_TYPE:
		o->f.type = arg;
		return 0;
	case OPT_PROVIDER:
		o->f.provider = arg;
		return 0;
	case OPT_TAG:
		tags = realloc(o->tags, (size_t)(o->f.ntags + 1) * sizeof(*tags));
		if (!tags)
			return cli_fail(o->ctx, MREG_EXIT_FAILURE, "out of memory");
		o->tags = tags;
		o->tags[o->f.ntags++] = arg;
		o->f.tags = o->tags;
		return 0;
	case OPT_ALL:
		o->f.all = true;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* '-': each model file as one NDJSON line; *(bool *)arg on EPIPE (the
 * reader went away: not an error). */
static int put_line(void *arg, const struct mreg_export_model *m,
		    struct mreg_error *err)
{
	char buf[128];

	/* a buffered write may fail inside a call that reports success:
	 * ferror() tells, errno still says why */
	errno = 0;
	if (fwrite(m->text, 1, m->len, stdout) != m->len || ferror(stdout)) {
		*(bool *)arg = errno == EPIPE;
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not write to standard output: %s",
			       mreg_strerror(errno ? errno : EIO, buf,
					     sizeof(buf)));
		return -1;
	}
	return 0;
}

static const char *action_name(enum mreg_export_action a)
{
	switch (a) {
	case MREG_EXPORT_WRITTEN:
		return "written";
	case MREG_EXPORT_UNCHANGED:
		return "unchanged";
	case MREG_EXPORT_REMOVED:
		return "removed";
	case MREG_EXPORT_KEPT:
		return "kept";
	}
	return "?";
}

/*
 * {"command", "ok", "exit_code", "directory", "models", "written",
 * "unchanged", "removed", "kept", "files": [{"path", "model", "action"}]}
 * (mreg-json(7)); removed and kept files have "model": null.
 */
static int print_json(const char *dir, const struct mreg_export_result *r)
{
	json_t *doc, *files = json_array(), *f;
	char *s;
	size_t i;

	for (i = 0; files && i < r->nfiles; i++) {
		const struct mreg_export_file *x = &r->files[i];
		f = json_pack("{s:s, s:o, s:s}", "path", x->path, "model",
			      x->model ? json_string(x->model) : json_null(),
			      "action", action_name(x->action));
		if (!f || json_array_append_new(files, f) < 0)
			break;
	}
	doc = json_pack("{s:s, s:b, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
			"command", "export", "ok", 1, "exit_code", 0,
			"directory", dir, "models",
			(json_int_t)(r->written + r->unchanged), "written",
			(json_int_t)r->written, "unchanged",
			(json_int_t)r->unchanged, "removed",
			(json_int_t)r->removed, "kept", (json_int_t)r->kept,
			"files", files);
	s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!s)
		return MREG_EXIT_FAILURE;
	mreg_json_write(stdout, s, strlen(s), 2);
	putchar('\n');
	free(s);
	return 0;
}

static int report(const struct cli_ctx *ctx, const char *dir, bool json,
		  const struct mreg_export_result *r)
{
	size_t i;
	char full[4200];

	for (i = 0; i < r->nfiles; i++) {
		if (r->files[i].action != MREG_EXPORT_KEPT)
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, r->files[i].path);
		cli_warn(ctx, "\"%s\" was edited since the last export: left "
			 "in place, no longer in the manifest", full);
	}
	if (json)
		return print_json(dir, r) == 0
			       ? 0
			       : cli_fail(ctx, MREG_EXIT_FAILURE,
					  "out of memory");
	cli_printf(stdout, "exported %ld models to \"%s\": %ld written, "
		   "%ld unchanged, %ld removed%s\n", r->written + r->unchanged,
		   dir, r->written, r->unchanged, r->removed,
		   r->kept ? ", some kept (see the warnings)" : "");
	return 0;
}

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_export_result res = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	const char *dir;
	bool epipe = false;
	int first, rc;

	rc = cli_parse(ctx, &cmd_export_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		goto done;
	dir = argv[first];
	if (strcmp(dir, "-") == 0 && (o.json || o.force)) {
		rc = cli_usage(ctx, "'-' writes the models as NDJSON on "
			       "standard output: no %s", o.json ? "--format json"
							       : "--force");
		goto done;
	}
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	rc = view_check_filters(ctx, conn, o.f.type, o.f.provider);
	if (rc == 0 && strcmp(dir, "-") == 0) {
		if (mreg_export_each(conn, &o.f, true, put_line, &epipe,
				     &err) < 0)
			rc = epipe ? 0 : cli_report(ctx, &err);
		if (epipe) /* quiet: cli_finish's flush must not complain */
			clearerr(stdout);
	} else if (rc == 0) {
		if (mreg_export_dir(conn, &o.f, dir, o.force, &res, &err) < 0)
			rc = cli_report(ctx, &err);
		else
			rc = report(ctx, dir, o.json, &res);
	}
	mreg_pool_release(pool, conn);
done:
	mreg_export_result_finish(&res);
	free(o.tags);
	return cli_finish(ctx, rc);
}
