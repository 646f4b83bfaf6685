/* history.c - mreg history PROVIDER/NAME | --type TYPE
 *
 * The changes the audit log holds for one model (followed by its id, so
 * renames and moves stay in one history; a deleted model is found by the
 * name its entries carry) or for the default of a type.  The entries are
 * a listing (common/listing.c): JSON and NDJSON print one item per entry
 * with its changes {field: {old, new}} and context; the table and CSV
 * print one row per changed field, from a grouped listing whose pages are
 * still whole entries (a page boundary never splits one).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "history.h"
#include "listing.h"
#include "lookup.h"
#include "registry.h"
#include "view.h"

enum {
	OPT_TYPE = 256,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_AFTER,
	OPT_COUNT,
	OPT_COLUMNS,
	OPT_NO_HEADERS,
};

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "table (default, one line per changed field), json, ndjson (one "
	  "item per entry) or csv" },
	{ OPT_TYPE, 0, "type", "TYPE",
	  "the history of TYPE's default instead of a model's" },
	{ OPT_SINCE, 0, "since", "TIME",
	  "entries at or after TIME (a timestamp, or a duration ago: 2h, "
	  "3d)" },
	{ OPT_UNTIL, 0, "until", "TIME", "entries before TIME" },
	CLI_GROUP("Pages (newest first):"),
	{ OPT_LIMIT, 0, "limit", "N",
	  "a page of at most N entries, with a cursor to the next page "
	  "(default: every entry, streamed)" },
	{ OPT_AFTER, 0, "after", "CURSOR",
	  "the page after the one that printed CURSOR" },
	{ OPT_COUNT, 0, "count", NULL,
	  "also report how many entries match in total (same snapshot)" },
	{ OPT_COLUMNS, 0, "columns", "LIST",
	  "table and csv: these columns in this order (id,field,...)" },
	{ OPT_NO_HEADERS, 0, "no-headers", NULL,
	  "table and csv: no header line" },
	CLI_END,
};

const struct cli_spec cmd_history_spec = {
	.usage = "PROVIDER/NAME [--since TIME] [--until TIME] [--limit N]\n"
		 "--type TYPE [--since TIME] [--until TIME] [--limit N]",
	.description = "Show the changes of a model, or of a type's default, "
		       "from the audit log.",
	.options = options,
	.epilogue = "A model's history follows its id across renames and "
		    "moves; a deleted model is\nfound by its name.  Pages are "
		    "keyset-paginated like 'mreg list': pass the\nprinted "
		    "cursor to --after for the next page.",
};

struct opts {
	const struct cli_ctx *ctx;
	enum mreg_out_format format;
	const char *type, *since, *until, *after, *columns;
	long limit; /* -1: every entry */
	bool count, no_headers;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case 'o':
		return view_parse_format(o->ctx, arg, &o->format);
	case OPT_TYPE:
		o->type = arg;
		return 0;
	case OPT_SINCE:
		o->since = arg;
		return 0;
	case OPT_UNTIL:
		o->until = arg;
		return 0;
	case OPT_LIMIT:
		if (cli_parse_long(arg, 1, 1000000000L, &o->limit) < 0)
			return cli_usage(o->ctx, "--limit must be a positive "
						 "number, not '%s'", arg);
		return 0;
	case OPT_AFTER:
		o->after = arg;
		return 0;
	case OPT_COUNT:
		o->count = true;
		return 0;
	case OPT_COLUMNS:
		o->columns = arg;
		return 0;
	case OPT_NO_HEADERS:
		o->no_headers = true;
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* What the history is of, and the filter's storage. */
struct subject {
	const char *ident;      /* PROVIDER/NAME, or NULL with --type */
	char provider[256];
	const char *name;
	char model_id[32];
	char resource[300];     /* "defaults/<type>" */
	char since[64], until[64];
};

/* The operand or --type (exactly one), and the times; 0 or the exit
 * status (printed). */
static int check_args(struct cli_ctx *ctx, const struct opts *o, int argc,
		      char **argv, int first, struct subject *s)
{
	int rc;

	if (first < argc && o->type)
		return cli_usage(ctx, "give PROVIDER/NAME or --type TYPE, not "
				      "both");
	if (first >= argc && !o->type)
		return cli_usage(ctx, "missing PROVIDER/NAME (or --type TYPE)");
	if (first < argc) {
		rc = view_identity_arg(ctx, argc, argv, first, s->provider,
				       sizeof(s->provider), &s->name);
		if (rc >= 0)
			return rc;
		s->ident = argv[first];
	} else if ((size_t)snprintf(s->resource, sizeof(s->resource),
				    "defaults/%s", o->type) >=
		   sizeof(s->resource)) {
		return cli_usage(ctx, "--type: too long");
	}
	if (o->since && (rc = view_parse_time(ctx, "--since", o->since,
					      s->since, sizeof(s->since))))
		return rc;
	if (o->until && (rc = view_parse_time(ctx, "--until", o->until,
					      s->until, sizeof(s->until))))
		return rc;
	return 0;
}

/* The filter as a listing query; 0 or the exit status (printed). */
static int make_query(struct cli_ctx *ctx, const struct opts *o,
		      const struct subject *s, struct mreg_listing_query *q)
{
	struct mreg_listing_filter f = {
		.model_id = s->ident ? s->model_id : NULL,
		.resource = s->ident ? NULL : s->resource,
		.since = o->since ? s->since : NULL,
		.until = o->until ? s->until : NULL,
		.after = o->after, .limit = o->limit,
	};
	enum mreg_listing_id id = o->format == MREG_OUT_JSON ||
					  o->format == MREG_OUT_NDJSON
				  ? MREG_LISTING_HISTORY
				  : MREG_LISTING_HISTORY_FIELDS;
	struct mreg_error err;

	if (mreg_listing_query_init(q, id, &f, &err) < 0)
		return err.status == MREG_EXIT_USAGE
			       ? cli_usage(ctx, "%s", err.message)
			       : cli_report(ctx, &err);
	return 0;
}

/* Which model or type: the model's id, or an unknown one (exit 3). */
static int resolve(struct cli_ctx *ctx, struct mreg_conn *conn,
		   const struct opts *o, struct subject *s)
{
	struct mreg_error err;
	char hint[512];
	bool known;
	int rc;

	if (s->ident) {
		rc = mreg_history_model_id(conn, s->provider, s->name,
					   s->model_id, sizeof(s->model_id),
					   &err);
		if (rc < 0)
			return cli_report(ctx, &err);
		if (rc == 0)
			return view_unknown_model(ctx, conn, s->provider,
						  s->name, s->ident);
		return 0;
	}
	if (mreg_history_type_known(conn, o->type, &known, &err) < 0)
		return cli_report(ctx, &err);
	if (known)
		return 0;
	cli_fail(ctx, 0, "unknown type \"%s\"", o->type);
	if (mreg_lookup_suggest_types(conn, o->type, hint, sizeof(hint)))
		cli_hint("did you mean %s?", hint);
	return MREG_EXIT_DATA;
}

static int run(struct cli_ctx *ctx, const struct opts *o,
	       struct mreg_conn *conn, const struct mreg_listing_query *q,
	       struct view_table *t)
{
	struct mreg_listing_result res = { 0 };
	struct mreg_error err;
	int rc;

	rc = view_table_open(t, o->format, q->l->cols, q->l->ncols);
	if (rc)
		return rc;
	if (mreg_listing_run(conn, q, o->count, view_table_row, t, &res,
			     &err) < 0) {
		if (mreg_output_errno(t->out)) {
			rc = view_write_failed(ctx, t->out, &err);
		} else {
			mreg_error_prefix(&err, "could not read the history");
			rc = cli_report(ctx, &err);
		}
	} else if (mreg_output_finish(t->out, res.next,
				      mreg_listing_total(&res), &err) < 0) {
		rc = view_write_failed(ctx, t->out, &err);
	} else {
		view_listing_trailer(ctx, o->format, q->l->noun, &res);
	}
	free(res.next);
	return rc;
}

int cmd_history(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE, .limit = -1 };
	struct mreg_listing_query q = { 0 };
	struct view_table t = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct subject s = { 0 };
	struct mreg_error err;
	int first, rc;

	rc = cli_parse(ctx, &cmd_history_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		goto done;
	t.columns = o.columns;
	t.no_headers = o.no_headers;
	rc = check_args(ctx, &o, argc, argv, first, &s);
	if (rc == 0)
		rc = make_query(ctx, &o, &s, &q);
	if (rc == 0)
		rc = view_table_check(&t, o.format, q.l->cols, q.l->ncols);
	if (rc)
		goto done;
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	rc = resolve(ctx, conn, &o, &s);
	if (rc == 0)
		rc = run(ctx, &o, conn, &q, &t);
	mreg_pool_release(pool, conn);
done:
	view_table_close(&t);
	mreg_listing_query_finish(&q);
	return cli_finish(ctx, rc);
}
