/* list.c - mreg list: models, providers, defaults or audit entries */
#include <stdlib.h>
#include <string.h>

#include "asof-arg.h"
#include "cli.h"
#include "commands.h"
#include "listing.h"
#include "registry.h"
#include "view.h"

enum {
	OPT_TYPE = 256,
	OPT_PROVIDER,
	OPT_TAG,
	OPT_ACTIVE,
	OPT_INACTIVE,
	OPT_ALL,
	OPT_SORT,
	OPT_LIMIT,
	OPT_AFTER,
	OPT_COUNT,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_ACTOR_FILTER,
	OPT_ACTION,
	OPT_MODEL,
	OPT_EXPLAIN,
	OPT_COLUMNS,
	OPT_NO_HEADERS,
	OPT_AT,
};

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "table (default), json, ndjson or csv" },
	{ OPT_LIMIT, 0, "limit", "N",
	  "a page of at most N rows, with a cursor to the next page "
	  "(default: every row, streamed)" },
	{ OPT_AFTER, 0, "after", "CURSOR",
	  "the page after the one that printed CURSOR" },
	{ OPT_COUNT, 0, "count", NULL,
	  "also report how many rows match in total (same snapshot)" },
	{ OPT_EXPLAIN, 0, "explain", NULL,
	  "print the query plan (EXPLAIN, JSON) instead of rows" },
	{ OPT_COLUMNS, 0, "columns", "LIST",
	  "table and csv: these columns in this order (model,type,...)" },
	{ OPT_NO_HEADERS, 0, "no-headers", NULL,
	  "table and csv: no header line" },
	CLI_GROUP("Models:"),
	{ OPT_TYPE, 0, "type", "TYPE", "only models of this type" },
	{ OPT_PROVIDER, 0, "provider", "NAME", "only models of this provider" },
	{ OPT_TAG, 0, "tag", "TAG",
	  "only models with this tag (repeatable: all of them)" },
	{ OPT_ACTIVE, 0, "active", NULL, "only active models (the default)" },
	{ OPT_INACTIVE, 0, "inactive", NULL, "only inactive models" },
	{ OPT_ALL, 0, "all", NULL, "active and inactive models" },
	{ OPT_SORT, 0, "sort", "KEY",
	  "name (default) or updated (newest first)" },
	CLI_GROUP("Audit entries (newest first):"),
	{ OPT_SINCE, 0, "since", "TIME",
	  "entries at or after TIME (a timestamp, or a duration ago: 2h, "
	  "3d)" },
	{ OPT_UNTIL, 0, "until", "TIME", "entries before TIME" },
	{ OPT_ACTOR_FILTER, 0, "actor", "NAME", "entries by this actor" },
	{ OPT_ACTION, 0, "action", "ACTION",
	  "entries of this action (model.update, default.set, ...)" },
	{ OPT_MODEL, 0, "model", "PROVIDER/NAME", "entries about this model" },
	CLI_GROUP("Defaults:"),
	CLI_ASOF_OPTION(OPT_AT),
	CLI_END,
};

const struct cli_spec cmd_list_spec = {
	.usage = "[models] [--type TYPE] [--provider NAME] [--tag TAG]...\n"
		 "providers\n"
		 "defaults [--at TIME]\n"
		 "audit [--since TIME] [--until TIME] [--actor NAME]",
	.description = "List models, providers, default models or audit "
		       "entries.",
	.options = options,
	.epilogue = "Pages are keyset-paginated: pass the printed cursor to "
		    "--after for the next\npage (JSON output carries it as "
		    "\"next\"; other formats print it after the rows).",
};

enum subject { S_MODELS, S_PROVIDERS, S_DEFAULTS, S_AUDIT };

struct opts {
	const struct cli_ctx *ctx;
	enum mreg_out_format format;
	const char *type, *provider, *after, *since, *until, *actor;
	const char *action, *model, *columns;
	const char **tags;
	int ntags;
	enum mreg_activity active;
	bool sort_updated, count, explain, no_headers;
	long limit;        /* -1: every row */
	unsigned model_opts, audit_opts; /* which subject's options were used */
	const char *at_arg;      /* --at (list defaults), or NULL */
	char asked[MREG_ASOF_LEN];
	char at[MREG_ASOF_LEN];  /* the instant answered */
};

/* --type, --provider, --tag, --active, --inactive, --all, --sort */
static int handle_models(struct opts *o, int id, const char *arg)
{
	const char **tags;

	o->model_opts |= 1;
	switch (id) {
	case OPT_TYPE:
		o->type = arg;
		return 0;
	case OPT_PROVIDER:
		o->provider = arg;
		return 0;
	case OPT_TAG:
		tags = realloc(o->tags, (size_t)(o->ntags + 1) * sizeof(*tags));
		if (!tags)
			return cli_fail(o->ctx, MREG_EXIT_FAILURE,
					"out of memory");
		o->tags = tags;
		o->tags[o->ntags++] = arg;
		return 0;
	case OPT_ACTIVE:
		o->active = MREG_ACTIVE_ONLY;
		return 0;
	case OPT_INACTIVE:
		o->active = MREG_INACTIVE_ONLY;
		return 0;
	case OPT_ALL:
		o->active = MREG_ACTIVE_ANY;
		return 0;
	case OPT_SORT:
		if (strcmp(arg, "updated") == 0)
			o->sort_updated = true;
		else if (strcmp(arg, "name") == 0)
			o->sort_updated = false;
		else
			return cli_usage(o->ctx, "--sort must be name or "
						 "updated, not '%s'", arg);
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* --since, --until, --actor, --action, --model */
static int handle_audit(struct opts *o, int id, const char *arg)
{
	o->audit_opts |= 1;
	switch (id) {
	case OPT_SINCE:
		o->since = arg;
		return 0;
	case OPT_UNTIL:
		o->until = arg;
		return 0;
	case OPT_ACTOR_FILTER:
		o->actor = arg;
		return 0;
	case OPT_ACTION:
		o->action = arg;
		return 0;
	case OPT_MODEL:
		o->model = arg;
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case 'o':
		return view_parse_format(o->ctx, arg, &o->format);
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
	case OPT_EXPLAIN:
		o->explain = true;
		return 0;
	case OPT_COLUMNS:
		o->columns = arg;
		return 0;
	case OPT_NO_HEADERS:
		o->no_headers = true;
		return 0;
	case OPT_AT:
		o->at_arg = arg;
		return cli_asof_parse(o->ctx, arg, o->asked);
	case OPT_SINCE:
	case OPT_UNTIL:
	case OPT_ACTOR_FILTER:
	case OPT_ACTION:
	case OPT_MODEL:
		return handle_audit(o, id, arg);
	}
	return handle_models(o, id, arg);
}

static int run(struct cli_ctx *ctx, const struct opts *o,
	       struct mreg_conn *conn, const struct mreg_listing_query *q,
	       enum subject subj, struct view_table *t)
{
	struct mreg_listing_result res = { 0 };
	struct mreg_error err;
	char *plan = NULL;
	int rc = 0;

	if (o->explain) {
		plan = mreg_listing_explain(conn, q, &err);
		if (!plan)
			return cli_report(ctx, &err);
		printf("%s\n", plan);
		free(plan);
		return 0;
	}
	rc = view_table_open(t, o->format, q->l->cols, q->l->ncols);
	if (rc)
		goto cleanup;
	if (mreg_listing_run(conn, q, o->count, view_table_row, t, &res,
			     &err) < 0) {
		if (mreg_output_errno(t->out)) {
			rc = view_write_failed(ctx, t->out, &err);
		} else {
			mreg_error_prefix(&err, "could not list %s",
					  q->l->noun);
			rc = cli_report(ctx, &err);
		}
		goto cleanup;
	}
	if (res.rows == 0 && subj == S_MODELS && !o->after) {
		rc = view_check_filters(ctx, conn, o->type, o->provider);
		if (rc)
			goto cleanup;
	}
	if (mreg_output_finish(t->out, res.next, mreg_listing_total(&res),
			       &err) < 0) {
		rc = view_write_failed(ctx, t->out, &err);
		goto cleanup;
	}
	view_listing_trailer(ctx, o->format, q->l->noun, &res);
cleanup:
	free(res.next);
	return rc;
}

static int parse_subject(struct cli_ctx *ctx, int argc, char **argv,
			 int first, enum subject *subj)
{
	static const char *const names[] = { "models", "providers",
					     "defaults", "audit" };
	size_t i;

	*subj = S_MODELS;
	if (first >= argc)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(argv[first], names[i]) == 0) {
			*subj = (enum subject)i;
			return 0;
		}
	}
	return cli_usage(ctx, "cannot list '%s' (expected models, providers, "
			      "defaults or audit)", argv[first]);
}

/* Options of one subject used with another? */
static int check_subject(struct cli_ctx *ctx, const struct opts *o,
			 enum subject subj)
{
	if (subj != S_MODELS && o->model_opts)
		return cli_usage(ctx, "--type, --provider, --tag, --active, "
				      "--inactive, --all and --sort go with "
				      "'list models'");
	if (subj != S_AUDIT && o->audit_opts)
		return cli_usage(ctx, "--since, --until, --actor, --action and "
				      "--model go with 'list audit'");
	if (subj != S_DEFAULTS && o->at_arg)
		return cli_usage(ctx, "--at goes with 'list defaults'");
	return 0;
}

/* Storage for the audit filter's values. */
struct audit_args {
	char provider[256], since[64], until[64];
};

/* --model, --since, --until into f; 0, or the exit status (printed). */
static int audit_filter(struct cli_ctx *ctx, const struct opts *o,
			struct audit_args *a, struct mreg_listing_filter *f)
{
	struct mreg_error err;
	int rc;

	if (o->model) {
		if (mreg_identity_split(o->model, a->provider,
					sizeof(a->provider), &f->model_name,
					&err) < 0)
			return cli_usage(ctx, "--model: %s", err.message);
		f->model_provider = a->provider;
	}
	if (o->since) {
		rc = view_parse_time(ctx, "--since", o->since, a->since,
				     sizeof(a->since));
		if (rc)
			return rc;
		f->since = a->since;
	}
	if (o->until) {
		rc = view_parse_time(ctx, "--until", o->until, a->until,
				     sizeof(a->until));
		if (rc)
			return rc;
		f->until = a->until;
	}
	return 0;
}

/* The options as a listing query; 0, or the exit status (printed). */
static int make_query(struct cli_ctx *ctx, const struct opts *o,
		      enum subject subj, struct audit_args *a,
		      struct mreg_listing_query *q)
{
	static const enum mreg_listing_id ids[] = {
		[S_MODELS] = MREG_LISTING_MODELS,
		[S_PROVIDERS] = MREG_LISTING_PROVIDERS,
		[S_DEFAULTS] = MREG_LISTING_DEFAULTS,
		[S_AUDIT] = MREG_LISTING_AUDIT,
	};
	struct mreg_listing_filter f = {
		.type = o->type, .provider = o->provider, .tags = o->tags,
		.ntags = o->ntags, .active = o->active, .actor = o->actor,
		.action = o->action, .after = o->after, .limit = o->limit,
	};
	enum mreg_listing_id id = ids[subj];
	struct mreg_error err;
	int rc;

	if (subj == S_MODELS && o->sort_updated)
		id = MREG_LISTING_MODELS_UPDATED;
	if (subj == S_DEFAULTS && o->at_arg) {
		id = MREG_LISTING_DEFAULTS_ASOF;
		f.at = o->asked; /* the instant answered, once connected */
	}
	if (subj == S_AUDIT && (rc = audit_filter(ctx, o, a, &f)) != 0)
		return rc;
	if (mreg_listing_query_init(q, id, &f, &err) < 0)
		return err.status == MREG_EXIT_USAGE
			       ? cli_usage(ctx, "%s", err.message)
			       : cli_report(ctx, &err);
	return 0;
}

int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE,
			  .active = MREG_ACTIVE_ONLY, .limit = -1 };
	struct mreg_listing_query q = { 0 };
	struct view_table t = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct audit_args audit;
	struct mreg_pool *pool;
	struct mreg_error err;
	enum subject subj;
	int first, rc;

	rc = cli_parse(ctx, &cmd_list_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		goto done;
	t.columns = o.columns;
	t.no_headers = o.no_headers;
	rc = parse_subject(ctx, argc, argv, first, &subj);
	if (rc == 0)
		rc = check_subject(ctx, &o, subj);
	if (rc == 0)
		rc = make_query(ctx, &o, subj, &audit, &q);
	if (rc == 0)
		rc = view_table_check(&t, o.format, q.l->cols, q.l->ncols);
	if (rc)
		goto done;
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (o.at_arg) {
		rc = cli_asof_resolve(ctx, conn, o.asked, o.at);
		q.named[MREG_LP_AT] = o.at;
		t.at = o.at;
	}
	if (rc == 0)
		rc = run(ctx, &o, conn, &q, subj, &t);
	mreg_pool_release(pool, conn);
done:
	view_table_close(&t);
	mreg_listing_query_finish(&q);
	free(o.tags);
	return cli_finish(ctx, rc);
}
