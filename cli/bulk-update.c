/* bulk-update.c - mreg bulk-update: apply a batch of changes, all or nothing
 *
 * Reading, validation and the set-based apply live in common/bulk*.c; this
 * file parses the command line, opens the input and prints the outcome.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bulk.h"
#include "cli.h"
#include "commands.h"
#include "db.h"
#include "escape.h"
#include "run-metrics.h"

enum {
	OPT_DRY_RUN = 256,
	OPT_METRICS_FILE,
};

static const struct cli_option options[] = {
	{ 'n', 'n', "dry-run", NULL,
	  "validate and report what would change (per model: field, old, "
	  "new), write nothing" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default; table is a synonym) or json (one object, for CI)" },
	{ OPT_METRICS_FILE, 0, "metrics-file", "PATH",
	  "write the run's metrics to PATH (node_exporter textfile)" },
	CLI_END,
};

const struct cli_spec cmd_bulk_update_spec = {
	.usage = "[options] FILE\n[options] -",
	.description = "Apply a batch of model changes in one transaction, all "
		       "or nothing.",
	.options = options,
	.epilogue =
		"Items (one per NDJSON line, or elements of one JSON array):\n"
		"  {\"model\": \"provider/name\", \"set\": {...}, "
		"\"set_default\": true}\n"
		"  {\"where\": {\"provider\": P, \"type\": T, \"tag\": G, "
		"\"active\": B}, \"set\": {...}}\n"
		"set: active, display_name, description, version, tags, "
		"synonyms, config,\n"
		"     metadata, config_merge, metadata_merge (null removes a "
		"key), tags_add,\n"
		"     tags_remove.  Items touching the same model apply in "
		"input order.",
};

struct opts {
	const struct cli_ctx *ctx;
	bool dry_run, json;
	struct cli_metrics metrics;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case 'n':
		o->dry_run = true;
		return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	case OPT_METRICS_FILE:
		return cli_metrics_path(o->ctx, &o->metrics, arg);
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* A JSON string literal for s (NULL: null) on stdout. */
static void put_json_string(const char *s)
{
	json_t *v = s ? json_string(s) : json_null();

	if (v)
		json_dumpf(v, stdout, JSON_ENCODE_ANY);
	json_decref(v);
}

/*
 * The dry run's lists: "changes", one {"model", "field", "old", "new"} per
 * field that would change (old and new are the server's jsonb text,
 * printed verbatim so that numbers keep their digits), and "defaults",
 * one {"type", "previous", "new"} per type whose default would move.
 */
static void print_json_changes(const struct mreg_bulk_result *r)
{
	int i;

	fputs(", \"changes\": [", stdout);
	for (i = 0; i < PQntuples(r->changes); i++) {
		fputs(i ? ", {\"model\": " : "{\"model\": ", stdout);
		put_json_string(PQgetvalue(r->changes, i, 0));
		fputs(", \"field\": ", stdout);
		put_json_string(PQgetvalue(r->changes, i, 1));
		printf(", \"old\": %s, \"new\": %s}",
		       PQgetvalue(r->changes, i, 2),
		       PQgetvalue(r->changes, i, 3));
	}
	fputs("], \"defaults\": [", stdout);
	for (i = 0; i < PQntuples(r->defaults); i++) {
		fputs(i ? ", {\"type\": " : "{\"type\": ", stdout);
		put_json_string(PQgetvalue(r->defaults, i, 0));
		fputs(", \"previous\": ", stdout);
		put_json_string(PQgetisnull(r->defaults, i, 1) ? NULL :
				PQgetvalue(r->defaults, i, 1));
		fputs(", \"new\": ", stdout);
		put_json_string(PQgetvalue(r->defaults, i, 2));
		fputs("}", stdout);
	}
	fputs("]", stdout);
}

/* The summary (man/schema/bulk-update.schema.json). */
static void print_json(const struct opts *o, const struct mreg_bulk_result *r,
		       double seconds)
{
	printf("{\"command\": \"bulk-update\", \"ok\": true, "
	       "\"exit_code\": 0, \"dry_run\": %s, \"items_read\": %ld, "
	       "\"matched\": %ld, \"changed\": %ld, \"unchanged\": %ld, "
	       "\"defaults_set\": %ld, \"duration_s\": %.6f",
	       o->dry_run ? "true" : "false", r->items, r->matched,
	       r->changed, r->unchanged, r->defaults_set, seconds);
	if (o->dry_run)
		print_json_changes(r);
	puts("}");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A cell of the dry-run table: escaped text and its display width. */
struct cell {
	char *text;
	size_t cols;
};

/* Print text padded to w columns (no padding past the end of a line). */
static void put_cell(const struct cell *c, size_t w, bool last)
{
	fputs(c->text ? c->text : "?", stdout);
	if (!last)
		for (size_t k = c->cols; k < w; k++)
			putchar(' ');
}

static void print_changes(const PGresult *changes)
{
	static const char *const title[4] = { "MODEL", "FIELD", "OLD", "NEW" };
	int n = PQntuples(changes), i, k;
	struct cell *cells = calloc((size_t)n * 4, sizeof(*cells));
	size_t w[4];

	if (!cells) {
		fputs("mreg bulk-update: out of memory\n", stderr);
		return;
	}
	for (k = 0; k < 4; k++)
		w[k] = strlen(title[k]);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 4; k++) {
			struct cell *c = &cells[i * 4 + k];
			const char *v = PQgetvalue(changes, i, k);

			/* old and new are jsonb text: its escapes stay */
			c->text = mreg_escape(v, strlen(v),
					      k >= 2 ? MREG_ESC_JSON : 0,
					      &c->cols);
			if (c->cols > w[k])
				w[k] = c->cols;
		}
	}
	if (w[2] > 40)
		w[2] = 40; /* long values run over, the rest stays aligned */
	printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], title[0], (int)w[1],
	       title[1], (int)w[2], title[2], title[3]);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 4; k++) {
			if (k)
				fputs("  ", stdout);
			put_cell(&cells[i * 4 + k], w[k], k == 3);
		}
		putchar('\n');
	}
	for (i = 0; i < n * 4; i++)
		free(cells[i].text);
	free(cells);
}

static void print_table(const struct opts *o, const struct mreg_bulk_result *r)
{
	if (o->dry_run && PQntuples(r->changes) > 0)
		print_changes(r->changes);
	if (o->dry_run) {
		int i;

		for (i = 0; i < PQntuples(r->defaults); i++)
			cli_printf(stdout, "default for type \"%s\": %s -> %s\n",
				   PQgetvalue(r->defaults, i, 0),
				   PQgetisnull(r->defaults, i, 1) ? "(none)" :
				   PQgetvalue(r->defaults, i, 1),
				   PQgetvalue(r->defaults, i, 2));
	}
	printf("%s%ld item%s: matched %ld, changed %ld, unchanged %ld, "
	       "defaults set %ld%s\n", o->dry_run ? "dry run: " : "",
	       r->items, r->items == 1 ? "" : "s", r->matched, r->changed,
	       r->unchanged, r->defaults_set,
	       o->dry_run ? " (nothing was written)" : "");
}

int cmd_bulk_update(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_bulk_options bo = { 0 };
	struct mreg_bulk_result res = { 0 };
	struct mreg_bulk_reader *reader = NULL;
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct mreg_error err;
	const char *path;
	FILE *in = NULL;
	double start = now_s(), t0;
	int first, rc;

	cli_metrics_init(&o.metrics);
	rc = cli_parse(ctx, &cmd_bulk_update_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return rc;
	cli_set_json(ctx, o.json);
	path = argv[first];

	if (strcmp(path, "-") == 0) {
		in = stdin;
		path = "<stdin>";
	} else if (!(in = fopen(path, "r"))) {
		char buf[128];

		rc = cli_fail(ctx, MREG_EXIT_FAILURE, "could not open \"%s\": "
			      "%s", path, mreg_strerror(errno, buf,
							sizeof(buf)));
		goto done;
	}
	reader = mreg_bulk_reader_create(in, path, &err);
	if (!reader) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	bo.dry_run = o.dry_run;
	bo.actor = cli_actor(ctx);
	t0 = now_s();
	if (mreg_bulk_run(conn, reader, &bo, &res, &err) < 0) {
		if (err.status != MREG_EXIT_DATA || err.path[0] == '\0')
			mreg_error_prefix(&err, "batch not applied");
		rc = cli_report(ctx, &err);
		goto done;
	}
	cli_verbose(ctx, "%s %ld items (%s) in %.3f s",
		    o.dry_run ? "checked" : "applied", res.items,
		    mreg_bulk_reader_format(reader) == MREG_BULK_ARRAY
			    ? "JSON array" : "NDJSON", now_s() - t0);
	cli_metrics_bulk(&o.metrics, &res, o.dry_run);
	if (o.json)
		print_json(&o, &res, now_s() - start);
	else
		print_table(&o, &res);
	rc = 0;
done:
	if (conn)
		mreg_pool_release(pool, conn);
	mreg_bulk_result_finish(&res);
	mreg_bulk_reader_destroy(reader);
	if (in && in != stdin)
		fclose(in);
	return cli_finish(ctx, cli_metrics_finish(ctx, &o.metrics, rc));
}
