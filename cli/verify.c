/* verify.c - mreg verify: hash the recorded files and artifacts again
 *
 * Reads what the imports recorded (common/verify.h: mreg.source_files and
 * mreg.artifacts, one statement), hashes every file again with --jobs
 * threads and reports each one that changed (size or SHA-256: recorded
 * and found) or vanished.  Writes nothing.  Exit status: 0 everything as
 * recorded, 3 drift, 1 an error (a file or tree that could not be read,
 * the database).  A source named at import (--source NAME) has no tree on
 * record: it is skipped with a note, or verified under --root DIR.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "source.h"
#include "verify.h"

enum { OPT_SOURCE = 256, OPT_ROOT, OPT_FOLLOW_EXTERNAL };

static const struct cli_option options[] = {
	CLI_GROUP("What to verify"),
	{ OPT_SOURCE, 0, "source", "NAME",
	  "only this source (default: every source)" },
	{ OPT_ROOT, 0, "root", "DIR",
	  "the source's tree is DIR (a source named at import has none on "
	  "record; needs --source)" },
	{ OPT_FOLLOW_EXTERNAL, 0, "follow-external-links", NULL,
	  "follow symbolic links out of the tree (as the import did with it)" },
	CLI_GROUP("How"),
	{ 'j', 'j', "jobs", "N", "worker threads (default: the CPUs)" },
	CLI_GROUP("Output"),
	{ 'o', 'o', "format", "FORMAT",
	  "report as text (default) or json, on stdout" },
	CLI_END,
};

const struct cli_spec cmd_verify_spec = {
	.usage = "[--source NAME [--root DIR]] [--jobs N] [--format FORMAT]",
	.description = "Hash the recorded model files and artifacts again and "
		       "report drift.",
	.options = options,
	.epilogue =
		"Exit status: 0 every file as recorded, 3 a file or artifact\n"
		"changed or vanished, 1 one could not be read, or a runtime or\n"
		"database error.  Nothing is written.",
};

struct opts {
	const struct cli_ctx *ctx;
	const char *source, *root;
	int jobs;
	bool json, follow_external;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	char buf[128];
	const char *why;
	long n;

	switch (id) {
	case OPT_SOURCE:
		why = mreg_source_name_problem(arg, true, buf, sizeof(buf));
		if (why)
			return cli_usage(o->ctx, "--source: %s", why);
		o->source = arg;
		return 0;
	case OPT_ROOT:
		if (!*arg)
			return cli_usage(o->ctx, "--root: empty path");
		o->root = arg;
		return 0;
	case 'j':
		if (cli_parse_long(arg, 1, 256, &n) < 0)
			return cli_usage(o->ctx,
					 "--jobs: \"%s\" is not a number from 1 to 256",
					 arg);
		o->jobs = (int)n;
		return 0;
	case OPT_FOLLOW_EXTERNAL:
		o->follow_external = true;
		return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	}
	return cli_usage(o->ctx, "unhandled option");
}

static const char *status_name(enum mreg_verify_status s)
{
	switch (s) {
	case MREG_VERIFY_CHANGED: return "changed";
	case MREG_VERIFY_VANISHED: return "vanished";
	case MREG_VERIFY_UNREADABLE: return "unreadable";
	case MREG_VERIFY_SAME: break;
	}
	return "same";
}

/* root + "/" + rel, for people and for the JSON's path. */
static char *full_path(const struct mreg_verify *v,
		       const struct mreg_verify_item *it)
{
	const char *root = v->sources[it->source].root;
	size_t n = strlen(root) + strlen(it->path) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", root,
			 root[strlen(root) - 1] == '/' ? "" : "/", it->path);
	return s;
}

/* --- text ---------------------------------------------------------------- */

static void text_item(const struct mreg_verify *v,
		      const struct mreg_verify_item *it)
{
	char *path = full_path(v, it);

	if (it->artifact)
		cli_printf(stdout, "%s: %s (artifact \"%s\" of %s, listed in %s)\n",
			   status_name(it->status), path ? path : it->path,
			   it->artifact, it->model ? it->model : "?", it->file);
	else
		cli_printf(stdout, "%s: %s (model file%s%s)\n",
			   status_name(it->status), path ? path : it->path,
			   it->model ? " of " : "", it->model ? it->model : "");
	cli_printf(stdout, "  recorded: %lld bytes, sha256 %s\n", it->rec_size,
		   it->rec_sha);
	if (it->status == MREG_VERIFY_CHANGED)
		cli_printf(stdout, "  found:    %lld bytes, sha256 %s\n",
			   it->size, it->sha);
	else if (it->status == MREG_VERIFY_UNREADABLE)
		cli_printf(stdout, "  found:    %s\n", it->error);
	free(path);
}

static void print_text(const struct mreg_verify *v, long files, long arts)
{
	size_t i;

	for (i = 0; i < v->nitems; i++)
		if (v->items[i].status != MREG_VERIFY_SAME &&
		    v->sources[v->items[i].source].root)
			text_item(v, &v->items[i]);
	if (v->changed + v->vanished + v->unreadable == 0)
		printf("%ld file%s and %ld artifact%s as recorded\n", files,
		       files == 1 ? "" : "s", arts, arts == 1 ? "" : "s");
	else
		printf("%ld file%s and %ld artifact%s checked: %ld changed, "
		       "%ld vanished, %ld unreadable\n", files,
		       files == 1 ? "" : "s", arts, arts == 1 ? "" : "s",
		       v->changed, v->vanished, v->unreadable);
}

/* --- json ---------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_item(const struct mreg_verify *v,
			 const struct mreg_verify_item *it)
{
	char *path = full_path(v, it);
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:{s:I, s:s}, s:o, "
		      "s:o}",
		      "source", v->sources[it->source].name,
		      "status", status_name(it->status),
		      "kind", it->artifact ? "artifact" : "file",
		      "path", path ? path : it->path,
		      "relative", it->path,
		      "file", json_string(it->file),
		      "artifact", str_or_null(it->artifact),
		      "recorded", "size", (json_int_t)it->rec_size,
		      "sha256", it->rec_sha,
		      "found", it->status == MREG_VERIFY_CHANGED
				       ? json_pack("{s:I, s:s}", "size",
						   (json_int_t)it->size,
						   "sha256", it->sha)
				       : json_null(),
		      "error", it->status == MREG_VERIFY_UNREADABLE
				       ? json_string(it->error)
				       : json_null());
	if (o)
		json_object_set_new(o, "model", str_or_null(it->model));
	free(path);
	return o;
}

static void print_json(const struct mreg_verify *v, long files, long arts,
		       int rc)
{
	json_t *o, *sources = json_array(), *drift = json_array();
	char *s;
	size_t i;

	for (i = 0; sources && i < v->nsources; i++) {
		const struct mreg_verify_source *src = &v->sources[i];

		json_array_append_new(sources, json_pack(
			"{s:s, s:o, s:b, s:b, s:I, s:I, s:b}", "source",
			src->name, "root", str_or_null(src->root), "named",
			src->named, "gone", src->gone,
			"files", (json_int_t)src->files, "artifacts",
			(json_int_t)src->artifacts, "skipped", !src->root));
	}
	for (i = 0; drift && i < v->nitems; i++)
		if (v->items[i].status != MREG_VERIFY_SAME &&
		    v->sources[v->items[i].source].root)
			json_array_append_new(drift, json_item(v, &v->items[i]));
	o = json_pack("{s:s, s:b, s:i, s:o, s:{s:I, s:I}, s:I, s:I, s:I, s:o}",
		      "command", "verify", "ok", rc == 0, "exit_code", rc,
		      "sources", sources ? sources : json_array(),
		      "checked", "files", (json_int_t)files, "artifacts",
		      (json_int_t)arts, "changed", (json_int_t)v->changed,
		      "vanished", (json_int_t)v->vanished, "unreadable",
		      (json_int_t)v->unreadable,
		      "drift", drift ? drift : json_array());
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s) {
		printf("%s\n", s);
		cli_json_printed();
	}
	free(s);
	json_decref(o);
}

/* --- the command --------------------------------------------------------- */

/* Notes for the skipped sources; the files and artifacts checked. */
static void tally(const struct cli_ctx *ctx, const struct mreg_verify *v,
		  long *files, long *arts)
{
	size_t i;

	*files = *arts = 0;
	for (i = 0; i < v->nsources; i++) {
		const struct mreg_verify_source *src = &v->sources[i];

		if (src->root) {
			*files += src->files;
			*arts += src->artifacts;
			if (src->gone)
				cli_info(ctx, "the tree of source \"%s\" no longer "
					 "exists: each of its files vanished",
					 src->name);
		} else {
			cli_info(ctx, "source \"%s\" skipped: it was named at "
				 "import and has no tree on record (verify it "
				 "with --source '%s' --root DIR)", src->name,
				 src->name);
		}
	}
}

/* Load and hash; the exit status (0, 3 drift, 1 error). */
static int verify(struct cli_ctx *ctx, const struct opts *o,
		  struct mreg_conn *conn, struct mreg_verify *v)
{
	struct mreg_error err;
	long files, arts;
	int rc;

	mreg_error_clear(&err);
	if (mreg_verify_load(v, conn, o->source, &err) < 0)
		return cli_report(ctx, &err);
	if (o->source && v->nsources == 0)
		return cli_fail(ctx, MREG_EXIT_DATA,
				"no files recorded for source \"%s\"", o->source);
	if (o->source && v->sources[0].named && !o->root) {
		cli_fail(ctx, 0, "source \"%s\" was named at import: it has "
			 "no tree on record", o->source);
		cli_hint("Say where it is with --root DIR.");
		return MREG_EXIT_USAGE;
	}
	if (mreg_verify_check(v, o->root, o->jobs, o->follow_external, &err) < 0)
		return cli_report(ctx, &err);
	tally(ctx, v, &files, &arts);
	rc = v->unreadable ? MREG_EXIT_FAILURE
	     : v->changed + v->vanished ? MREG_EXIT_DATA
					: MREG_EXIT_OK;
	if (o->json)
		print_json(v, files, arts, rc);
	else
		print_text(v, files, arts);
	return rc;
}

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_verify v = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int first, rc;

	o.jobs = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	rc = cli_parse(ctx, &cmd_verify_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (o.root && !o.source)
		return cli_finish(ctx, cli_usage(ctx, "--root needs --source"));
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	rc = verify(ctx, &o, conn, &v);
	mreg_pool_release(pool, conn);
	mreg_verify_finish(&v);
	return cli_finish(ctx, rc);
}
