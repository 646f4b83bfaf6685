/* show.c - mreg show PROVIDER/NAME: one model in full
 *
 * One query builds the whole document (fields, artifacts, default flag,
 * source file, recent audit entries) as JSON on the server; this file
 * prints it as JSON, NDJSON, CSV (field,value) or a readable table.  The
 * server's text is never turned into numbers: JSON output re-indents its
 * tokens, the table and CSV show its values as written (a number or an
 * object as jsonb wrote it, strings decoded), so 0.35 stays 0.35.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "jsontext.h"
#include "lookup.h"
#include "pager.h"
#include "view.h"

enum { OPT_AUDIT = 256 };

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "text (default), json, ndjson (one line) or csv (field,value)" },
	{ OPT_AUDIT, 0, "audit", "N",
	  "how many recent audit entries to show (default 10, 0: none)" },
	CLI_END,
};

const struct cli_spec cmd_show_spec = {
	.usage = "PROVIDER/NAME [--format FORMAT]",
	.description = "Show one model in full: fields, artifacts, default "
		       "status, source, audit.",
	.options = options,
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

	if (id == 'o') {
		/* one object: text (table, its old name) or json; ndjson and
		 * csv too, as before */
		if (strcmp(arg, "text") == 0) {
			o->format = MREG_OUT_TABLE;
			return 0;
		}
		if (mreg_output_parse_format(arg, &o->format) < 0)
			return cli_usage(o->ctx, "--format must be text, json, "
					 "ndjson or csv, not '%s'", arg);
		return 0;
	}
	if (id == OPT_AUDIT) {
		if (cli_parse_long(arg, 0, 1000, &o->audit) < 0)
			return cli_usage(o->ctx, "--audit must be a number "
						 "from 0 to 1000, not '%s'",
					 arg);
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* A value as table text: strings decoded, null empty, the rest as
 * written. */
static char *value_text(struct mreg_json_span v)
{
	char *s;

	if (v.len > 0 && v.p[0] == '"')
		return mreg_json_string_dup(v.p, v.len, NULL);
	if (v.len == 4 && memcmp(v.p, "null", 4) == 0)
		return strdup("");
	s = malloc(v.len + 1);
	if (s) {
		memcpy(s, v.p, v.len);
		s[v.len] = '\0';
	}
	return s;
}

/* For CSV: objects and arrays compact (the server's text has spaces). */
static char *csv_text(struct mreg_json_span v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (v.len == 0 || (v.p[0] != '{' && v.p[0] != '['))
		return value_text(v);
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (mreg_json_write(f, v.p, v.len, 0) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The text of member key of obj, as value_text (NULL when absent). */
static char *member_text(struct mreg_json_span obj, const char *key)
{
	struct mreg_json_span v;

	if (!mreg_json_get(obj.p, obj.len, key, &v))
		return NULL;
	return value_text(v);
}

static bool is_null(struct mreg_json_span v)
{
	return v.len == 4 && memcmp(v.p, "null", 4) == 0;
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

/* The elements of the array arr as rows of cols. */
static int print_rows(struct mreg_json_span arr,
		      const struct mreg_column *cols, int ncols,
		      struct mreg_error *err)
{
	struct mreg_output_config cfg;
	struct mreg_output *out = NULL;
	struct mreg_json_iter it;
	struct mreg_json_span k, e, v;
	const char **row = NULL;
	char **texts = NULL;
	int i, rc = -1;

	view_config(stdout, MREG_OUT_TABLE, &cfg);
	out = mreg_output_create(stdout, &cfg, cols, ncols, err);
	row = calloc((size_t)ncols, sizeof(*row));
	texts = calloc((size_t)ncols, sizeof(*texts));
	if (!out || !row || !texts)
		goto cleanup;
	mreg_json_iter_init(&it, arr.p, arr.len);
	while (mreg_json_iter_next(&it, &k, &e)) {
		for (i = 0; i < ncols; i++) {
			free(texts[i]);
			texts[i] = mreg_json_get(e.p, e.len, cols[i].name, &v) &&
						   !is_null(v)
					   ? value_text(v)
					   : NULL;
			row[i] = texts[i];
		}
		if (mreg_output_row(out, row, err) < 0)
			goto cleanup;
	}
	rc = mreg_output_finish(out, NULL, -1, err);
cleanup:
	if (texts)
		for (i = 0; i < ncols; i++)
			free(texts[i]);
	free(texts);
	free(row);
	mreg_output_destroy(out);
	return rc;
}

static const struct mreg_column artifact_cols[] = {
	{ "path", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "size", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
	{ "sha256", MREG_COL_TEXT, 0, MREG_PRIO_TAGS },
};

static const struct mreg_column audit_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_KEY },
	{ "logged_at", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "actor", MREG_COL_TEXT, 0, MREG_PRIO_FIELD },
	{ "action", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "old", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
	{ "new", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
	{ "details", MREG_COL_JSON, 0, MREG_PRIO_LEAST },
};

/* An array shown in one line: strings joined by ", ", others as written. */
static char *array_text(struct mreg_json_span v)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, e;
	char line[4096], *t;
	size_t used = 0;
	int n = 0, w;

	line[0] = '\0';
	mreg_json_iter_init(&it, v.p, v.len);
	while (mreg_json_iter_next(&it, &k, &e)) {
		t = value_text(e);
		if (!t)
			return NULL;
		w = snprintf(line + used, sizeof(line) - used, "%s%s",
			     n++ ? ", " : "", t);
		free(t);
		if (w < 0 || (size_t)w >= sizeof(line) - used)
			break;
		used += (size_t)w;
	}
	return strdup(line);
}

/* The "source:" line: the file the model was last imported from. */
static void print_source(struct mreg_json_span doc)
{
	struct mreg_json_span src;
	char *a, *b, *c, *d, line[4096];

	if (!mreg_json_get(doc.p, doc.len, "source", &src) || src.p[0] != '{') {
		print_field("source:", "(none)", 0);
		return;
	}
	a = member_text(src, "source");
	b = member_text(src, "path");
	c = member_text(src, "size");
	d = member_text(src, "sha256");
	snprintf(line, sizeof(line), "%s/%s (%s bytes, sha256 %s)",
		 a ? a : "", b ? b : "", c ? c : "?", d ? d : "");
	free(a);
	free(b);
	free(c);
	free(d);
	print_field("source:", line, 0);
}

/* One "key: value" line of the table view. */
static int print_member(struct mreg_json_span doc, const char *key,
			struct mreg_json_span v)
{
	char *text, *a, line[4096];
	unsigned flags = 0;

	if (v.p[0] == '[') {
		text = array_text(v);
	} else if (strcmp(key, "default") == 0 && v.len == 4 &&
		   memcmp(v.p, "true", 4) == 0) {
		a = member_text(doc, "type");
		snprintf(line, sizeof(line), "yes (for type %s)", a ? a : "");
		free(a);
		text = strdup(line);
	} else {
		text = value_text(v);
		if (v.p[0] != '"')
			flags = MREG_ESC_JSON;
	}
	if (!text)
		return -1;
	snprintf(line, sizeof(line), "%s:", key);
	print_field(line, text, flags);
	free(text);
	return 0;
}

/* The table view's fields in order; "model" comes first on its own and
 * id, provider and name are in it.  A key not named here (a newer one)
 * follows them. */
static const char *const table_order[] = {
	"type", "version", "display_name", "description", "tags",
	"synonyms", "active", "default", "config", "metadata", "created_at",
	"updated_at",
};
static const char *const table_skip[] = {
	"model", "id", "provider", "name", "artifacts", "source", "audit",
};

static bool named_in(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

#define NAMES(a) (a), (sizeof(a) / sizeof((a)[0]))

/* Every field but the arrays and the source, one line each. */
static int print_fields(struct mreg_json_span doc)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, v;
	char *key, *a;
	size_t i;
	int rc = 0;

	a = member_text(doc, "model");
	print_field("model:", a ? a : "", 0);
	free(a);
	for (i = 0; i < sizeof(table_order) / sizeof(table_order[0]); i++)
		if (mreg_json_get(doc.p, doc.len, table_order[i], &v) &&
		    print_member(doc, table_order[i], v) < 0)
			return -1;
	mreg_json_iter_init(&it, doc.p, doc.len);
	while (rc == 0 && mreg_json_iter_next(&it, &k, &v)) {
		key = mreg_json_string_dup(k.p, k.len, NULL);
		if (!key)
			return -1;
		if (!named_in(key, NAMES(table_order)) &&
		    !named_in(key, NAMES(table_skip)))
			rc = print_member(doc, key, v);
		free(key);
	}
	return rc;
}

static int print_table(struct mreg_json_span doc, struct mreg_error *err)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, v, arts, audit;
	size_t n;

	if (print_fields(doc) < 0)
		goto oom;
	print_source(doc);
	if (!mreg_json_get(doc.p, doc.len, "artifacts", &arts))
		arts.len = 0;
	n = 0;
	if (arts.len && mreg_json_iter_init(&it, arts.p, arts.len))
		while (mreg_json_iter_next(&it, &k, &v))
			n++;
	printf("\nartifacts: %zu\n", n);
	if (n && print_rows(arts, artifact_cols, 3, err) < 0)
		return -1;
	if (mreg_json_get(doc.p, doc.len, "audit", &audit) &&
	    mreg_json_iter_init(&it, audit.p, audit.len) &&
	    mreg_json_iter_next(&it, &k, &v)) {
		printf("\nrecent audit entries:\n");
		if (print_rows(audit, audit_cols,
			       sizeof(audit_cols) / sizeof(*audit_cols), err) < 0)
			return -1;
	}
	return 0;
oom:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

static int print_csv(struct mreg_json_span doc)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, v;
	char *key, *text;

	fputs("field,value\r\n", stdout);
	mreg_json_iter_init(&it, doc.p, doc.len);
	while (mreg_json_iter_next(&it, &k, &v)) {
		key = mreg_json_string_dup(k.p, k.len, NULL);
		if (!key)
			return -1;
		mreg_csv_write_field(stdout, key, strlen(key));
		free(key);
		putchar(',');
		if (!is_null(v)) {
			text = csv_text(v);
			if (!text)
				return -1;
			mreg_csv_write_field(stdout, text, strlen(text));
			free(text);
		}
		fputs("\r\n", stdout);
	}
	return 0;
}

/* Print the document doc (checked to be a JSON object) in o's format. */
static int print_doc(struct cli_ctx *ctx, const struct opts *o,
		     struct mreg_json_span doc)
{
	struct mreg_error err;

	switch (o->format) {
	case MREG_OUT_JSON:
		mreg_json_write(stdout, doc.p, doc.len, 2);
		putchar('\n');
		break;
	case MREG_OUT_NDJSON:
		mreg_json_write(stdout, doc.p, doc.len, 0);
		putchar('\n');
		break;
	case MREG_OUT_CSV:
		if (print_csv(doc) < 0)
			return cli_fail(ctx, MREG_EXIT_FAILURE,
					"out of memory");
		break;
	case MREG_OUT_TABLE:
		cli_pager_start(ctx);
		if (print_table(doc, &err) < 0)
			return cli_report(ctx, &err);
		break;
	}
	return 0;
}

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE, .audit = 10 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct mreg_error err;
	json_t *check = NULL;
	json_error_t jerr;
	enum mreg_json_fail fail;
	struct mreg_json_span doc = { NULL, 0 };
	char provider[256], *text = NULL;
	const char *name, *ident;
	int first, rc;

	rc = cli_parse(ctx, &cmd_show_spec, argc, argv, handle, &o, &first);
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
	rc = mreg_lookup_show(conn, provider, name, o.audit, &text, &doc.len,
			      &err);
	if (rc < 0) {
		mreg_error_prefix(&err, "could not read \"%s\"", ident);
		rc = cli_report(ctx, &err);
		goto cleanup;
	}
	if (rc == 0) {
		rc = view_unknown_model(ctx, conn, provider, name, ident);
		goto cleanup;
	}
	/* the span readers below take valid JSON: check it first */
	doc.p = text;
	check = mreg_json_loadb(doc.p, doc.len, 0, &jerr, &fail);
	if (!check || !json_is_object(check)) {
		rc = cli_fail(ctx, MREG_EXIT_FAILURE, "could not read \"%s\": "
			      "malformed JSON from the server: %s", ident,
			      check ? "not an object" : jerr.text);
		goto cleanup;
	}
	rc = print_doc(ctx, &o, doc);
cleanup:
	json_decref(check);
	free(text);
	if (conn)
		mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
