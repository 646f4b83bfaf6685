/* show.c - mreg show PROVIDER/NAME: one model in full
 *
 * One query builds the whole document (fields, artifacts, default flag,
 * source file, recent audit entries) as JSON on the server; this file
 * prints it as JSON, NDJSON, CSV (field,value) or a readable table.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "escape.h"
#include "queries.h"
#include "registry.h"
#include "view.h"

enum { OPT_AUDIT = 256 };

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "table (default), json, ndjson (one line) or csv (field,value)" },
	{ OPT_AUDIT, 0, "audit", "N",
	  "how many recent audit entries to show (default 10, 0: none)" },
	CLI_END,
};

static const struct cli_spec spec = {
	.usage = "PROVIDER/NAME [--format FORMAT]",
	.description = "Show one model in full: fields, artifacts, default "
		       "status, source, audit.",
	.options = options,
	.flags = CLI_DB,
	.epilogue = "A model is named provider/name, split at the first '/' "
		    "(the name may hold more).",
};

struct opts {
	const struct cli_ctx *ctx;
	enum mreg_out_format format;
	long audit;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	if (id == 'o')
		return view_parse_format(o->ctx, arg, &o->format);
	if (id == OPT_AUDIT) {
		if (cli_parse_long(arg, 0, 1000, &o->audit) < 0)
			return cli_usage(o->ctx, "--audit must be a number "
						 "from 0 to 1000, not '%s'",
					 arg);
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* A value as text: strings bare, anything else as JSON. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_null(v))
		return strdup("");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/*
 * "key:          text", the text escaped (escape.h): a newline shows as
 * \n and a backslash as \\, so the two cannot look alike.  JSON text
 * (flags MREG_ESC_JSON) keeps its own escapes.
 */
static void print_field(const char *key, const char *text, unsigned flags)
{
	char *e = mreg_escape(text, strlen(text), flags, NULL);

	printf("%-14s%s\n", key, e ? e : "");
	free(e);
}

static int print_rows(json_t *arr, const struct mreg_column *cols,
		      int ncols, struct mreg_error *err)
{
	struct mreg_output_config cfg;
	struct mreg_output *out = NULL;
	const char **row = NULL;
	char **texts = NULL;
	size_t i;
	int k, rc = -1;

	view_config(stdout, MREG_OUT_TABLE, &cfg);
	out = mreg_output_create(stdout, &cfg, cols, ncols, err);
	row = calloc((size_t)ncols, sizeof(*row));
	texts = calloc((size_t)ncols, sizeof(*texts));
	if (!out || !row || !texts)
		goto cleanup;
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);

		for (k = 0; k < ncols; k++) {
			json_t *v = json_object_get(e, cols[k].name);

			free(texts[k]);
			texts[k] = v && !json_is_null(v) ? value_text(v)
							 : NULL;
			row[k] = texts[k];
		}
		if (mreg_output_row(out, row, err) < 0)
			goto cleanup;
	}
	rc = mreg_output_finish(out, NULL, -1, err);
cleanup:
	if (texts)
		for (k = 0; k < ncols; k++)
			free(texts[k]);
	free(texts);
	free(row);
	mreg_output_destroy(out);
	return rc;
}

static const struct mreg_column artifact_cols[] = {
	{ "path", MREG_COL_TEXT, 0 },
	{ "size", MREG_COL_NUMBER, MREG_COL_RIGHT },
	{ "sha256", MREG_COL_TEXT, 0 },
};

static const struct mreg_column audit_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT },
	{ "logged_at", MREG_COL_TEXT, 0 },
	{ "actor", MREG_COL_TEXT, 0 },
	{ "action", MREG_COL_TEXT, 0 },
	{ "details", MREG_COL_JSON, 0 },
};

static int print_table(json_t *doc, struct mreg_error *err)
{
	static const char *const skip[] = { "id", "provider", "name",
					    "artifacts", "source", "audit" };
	json_t *v, *src, *arts, *audit;
	const char *key;
	char *text, line[4096];
	size_t i;
	bool skipped;
	unsigned flags;

	snprintf(line, sizeof(line), "%s/%s",
		 json_string_value(json_object_get(doc, "provider")),
		 json_string_value(json_object_get(doc, "name")));
	print_field("model:", line, 0);
	json_object_foreach(doc, key, v) {
		skipped = false;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			skipped |= strcmp(key, skip[i]) == 0;
		if (skipped)
			continue;
		flags = 0;
		if (json_is_array(v)) {
			size_t k;
			json_t *e;
			size_t used = 0;

			line[0] = '\0';
			json_array_foreach(v, k, e) {
				int w = snprintf(line + used,
						 sizeof(line) - used, "%s%s",
						 k ? ", " : "",
						 json_is_string(e)
							 ? json_string_value(e)
							 : "?");
				if (w < 0 || (size_t)w >= sizeof(line) - used)
					break;
				used += (size_t)w;
			}
			text = strdup(line);
		} else if (json_is_true(v) && strcmp(key, "default") == 0) {
			snprintf(line, sizeof(line), "yes (for type %s)",
				 json_string_value(json_object_get(doc,
								   "type")));
			text = strdup(line);
		} else {
			text = value_text(v);
			if (!json_is_string(v))
				flags = MREG_ESC_JSON;
		}
		snprintf(line, sizeof(line), "%s:", key);
		print_field(line, text ? text : "", flags);
		free(text);
	}
	src = json_object_get(doc, "source");
	if (json_is_object(src)) {
		snprintf(line, sizeof(line), "%s/%s (%lld bytes, sha256 %s)",
			 json_string_value(json_object_get(src, "source")),
			 json_string_value(json_object_get(src, "path")),
			 (long long)json_integer_value(
				 json_object_get(src, "size")),
			 json_string_value(json_object_get(src, "sha256")));
		print_field("source:", line, 0);
	} else {
		print_field("source:", "(none)", 0);
	}
	arts = json_object_get(doc, "artifacts");
	printf("\nartifacts: %zu\n", json_array_size(arts));
	if (json_array_size(arts) &&
	    print_rows(arts, artifact_cols, 3, err) < 0)
		return -1;
	audit = json_object_get(doc, "audit");
	if (json_array_size(audit)) {
		printf("\nrecent audit entries:\n");
		if (print_rows(audit, audit_cols, 5, err) < 0)
			return -1;
	}
	return 0;
}

static int print_csv(json_t *doc)
{
	const char *key;
	json_t *v;
	char *text;

	fputs("field,value\r\n", stdout);
	json_object_foreach(doc, key, v) {
		mreg_csv_write_field(stdout, key, strlen(key));
		putchar(',');
		if (!json_is_null(v)) {
			text = value_text(v);
			if (!text)
				return -1;
			mreg_csv_write_field(stdout, text, strlen(text));
			free(text);
		}
		fputs("\r\n", stdout);
	}
	return 0;
}

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE, .audit = 10 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct mreg_error err;
	PGresult *res = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	char provider[256], audit[16];
	const char *name, *ident, *v[3];
	int first, rc;

	rc = cli_parse(ctx, &spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	ident = argv[first];

	rc = 0;
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto cleanup;
	}
	snprintf(audit, sizeof(audit), "%ld", o.audit);
	v[0] = provider;
	v[1] = name;
	v[2] = audit;
	res = mreg_db_exec(conn, MREG_SQL_SHOW, 3, v, PGRES_TUPLES_OK, &err);
	if (!res) {
		mreg_error_prefix(&err, "could not read \"%s\"", ident);
		rc = cli_report(ctx, &err);
		goto cleanup;
	}
	if (PQntuples(res) == 0) {
		rc = view_unknown_model(ctx, conn, provider, name, ident);
		goto cleanup;
	}
	doc = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
	if (!doc) {
		rc = cli_fail(ctx, MREG_EXIT_FAILURE, "could not read \"%s\": "
			      "malformed JSON from the server: %s", ident,
			      jerr.text);
		goto cleanup;
	}
	switch (o.format) {
	case MREG_OUT_JSON:
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		break;
	case MREG_OUT_NDJSON:
		json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		break;
	case MREG_OUT_CSV:
		if (print_csv(doc) < 0)
			rc = cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
		break;
	case MREG_OUT_TABLE:
		if (print_table(doc, &err) < 0)
			rc = cli_report(ctx, &err);
		break;
	}
cleanup:
	json_decref(doc);
	PQclear(res);
	if (conn)
		mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
