/* search.c - mreg search QUERY: ranked search over the registry */
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "listing.h"
#include "view.h"

enum {
	OPT_TYPE = 256,
	OPT_PROVIDER,
	OPT_LIMIT,
	OPT_EXPLAIN,
	OPT_COLUMNS,
	OPT_NO_HEADERS,
};

static const struct cli_option options[] = {
	{ OPT_TYPE, 0, "type", "TYPE", "only models of this type" },
	{ OPT_PROVIDER, 0, "provider", "NAME", "only models of this provider" },
	{ OPT_LIMIT, 0, "limit", "N", "at most N results (default 20)" },
	{ 'o', 'o', "format", "FORMAT",
	  "table (default), json, ndjson or csv" },
	{ OPT_COLUMNS, 0, "columns", "LIST",
	  "table and csv: these columns in this order (model,type,...)" },
	{ OPT_NO_HEADERS, 0, "no-headers", NULL,
	  "table and csv: no header line" },
	{ OPT_EXPLAIN, 0, "explain", NULL,
	  "print the query plan (EXPLAIN, JSON) instead of results" },
	CLI_END,
};

const struct cli_spec cmd_search_spec = {
	.usage = "QUERY [--type TYPE] [--provider NAME] [--limit N]",
	.description = "Ranked search over model names, display names, "
		       "descriptions, tags and synonyms.",
	.options = options,
	.epilogue = "QUERY is matched word by word (web-search syntax: "
		    "\"a phrase\", or) and, as a\nwhole, by trigram "
		    "similarity against model names, so a misspelt name "
		    "still\nmatches.  Best matches first.",
};

struct opts {
	const struct cli_ctx *ctx;
	enum mreg_out_format format;
	const char *type, *provider, *columns;
	long limit;
	bool explain, no_headers;
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
	case OPT_PROVIDER:
		o->provider = arg;
		return 0;
	case OPT_LIMIT:
		if (cli_parse_long(arg, 1, 100000, &o->limit) < 0)
			return cli_usage(o->ctx, "--limit must be a number "
						 "from 1 to 100000, not '%s'",
					 arg);
		return 0;
	case OPT_EXPLAIN:
		o->explain = true;
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

/* The results of q, written as o asks. */
static int print_results(struct cli_ctx *ctx, const struct opts *o,
			 struct mreg_conn *conn,
			 const struct mreg_listing_query *q,
			 struct view_table *t)
{
	struct mreg_listing_result res = { 0 };
	struct mreg_error err;
	int rc;

	rc = view_table_open(t, o->format, q->l->cols, q->l->ncols);
	if (rc)
		return rc;
	if (mreg_listing_run(conn, q, false, view_table_row, t, &res,
			     &err) < 0) {
		if (mreg_output_errno(t->out)) {
			rc = view_write_failed(ctx, t->out, &err);
		} else {
			mreg_error_prefix(&err, "search failed");
			rc = cli_report(ctx, &err);
		}
		goto cleanup;
	}
	if (res.rows == 0 && (rc = view_check_filters(ctx, conn, o->type,
						     o->provider)) != 0)
		goto cleanup;
	if (mreg_output_finish(t->out, NULL, mreg_listing_total(&res), &err) <
	    0)
		rc = view_write_failed(ctx, t->out, &err);
cleanup:
	free(res.next);
	return rc;
}

int cmd_search(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE, .limit = 20 };
	struct mreg_listing_filter f = { 0 };
	struct mreg_listing_query q = { 0 };
	struct view_table t = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool = NULL;
	struct mreg_error err;
	char *plan = NULL;
	int first, rc;

	rc = cli_parse(ctx, &cmd_search_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (!*argv[first])
		return cli_finish(ctx, cli_usage(ctx, "empty QUERY"));
	f.query = argv[first];
	f.type = o.type;
	f.provider = o.provider;
	f.limit = o.limit;
	if (mreg_listing_query_init(&q, MREG_LISTING_SEARCH, &f, &err) < 0)
		return cli_finish(ctx, cli_report(ctx, &err));
	t.columns = o.columns;
	t.no_headers = o.no_headers;
	rc = view_table_check(&t, o.format, q.l->cols, q.l->ncols);
	if (rc) {
		mreg_listing_query_finish(&q);
		view_table_close(&t);
		return cli_finish(ctx, rc);
	}
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
	} else if (o.explain) {
		plan = mreg_listing_explain(conn, &q, &err);
		if (!plan)
			rc = cli_report(ctx, &err);
		else
			printf("%s\n", plan);
	} else {
		rc = print_results(ctx, &o, conn, &q, &t);
	}
	free(plan);
	view_table_close(&t);
	mreg_listing_query_finish(&q);
	if (conn)
		mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
