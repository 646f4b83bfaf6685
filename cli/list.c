/* list.c - mreg list: models, providers, defaults or audit entries */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "queries.h"
#include "registry.h"
#include "timeparse.h"
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
	CLI_END,
};

const struct cli_spec cmd_list_spec = {
	.usage = "[models] [--type TYPE] [--provider NAME] [--tag TAG]...\n"
		 "providers\n"
		 "defaults\n"
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
	const char *action, *model;
	char **tags;
	int ntags;
	int active;        /* 1 active, 0 inactive, -1 all */
	bool sort_updated, count, explain;
	long limit;        /* -1: every row */
	unsigned model_opts, audit_opts; /* which subject's options were used */
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	char **tags;

	switch (id) {
	case 'o':
		return view_parse_format(o->ctx, arg, &o->format);
	case OPT_TYPE:
		o->type = arg;
		break;
	case OPT_PROVIDER:
		o->provider = arg;
		break;
	case OPT_TAG:
		tags = realloc(o->tags, (size_t)(o->ntags + 1) * sizeof(*tags));
		if (!tags)
			return cli_fail(o->ctx, MREG_EXIT_FAILURE,
					"out of memory");
		o->tags = tags;
		o->tags[o->ntags++] = (char *)arg;
		break;
	case OPT_ACTIVE:
		o->active = 1;
		break;
	case OPT_INACTIVE:
		o->active = 0;
		break;
	case OPT_ALL:
		o->active = -1;
		break;
	case OPT_SORT:
		if (strcmp(arg, "updated") == 0)
			o->sort_updated = true;
		else if (strcmp(arg, "name") == 0)
			o->sort_updated = false;
		else
			return cli_usage(o->ctx, "--sort must be name or "
						 "updated, not '%s'", arg);
		break;
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
	case OPT_SINCE:
		o->since = arg;
		o->audit_opts |= 1;
		return 0;
	case OPT_UNTIL:
		o->until = arg;
		o->audit_opts |= 1;
		return 0;
	case OPT_ACTOR_FILTER:
		o->actor = arg;
		o->audit_opts |= 1;
		return 0;
	case OPT_ACTION:
		o->action = arg;
		o->audit_opts |= 1;
		return 0;
	case OPT_MODEL:
		o->model = arg;
		o->audit_opts |= 1;
		return 0;
	default:
		return cli_usage(o->ctx, "unhandled option");
	}
	o->model_opts |= 1;
	return 0;
}

/* A text[] literal for a $n parameter: every element double-quoted. */
static char *array_literal(char **items, int n)
{
	size_t len = 3, i;
	char *out, *p;
	int k;

	for (k = 0; k < n; k++)
		len += 2 * strlen(items[k]) + 3;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	*p++ = '{';
	for (k = 0; k < n; k++) {
		if (k)
			*p++ = ',';
		*p++ = '"';
		for (i = 0; items[k][i]; i++) {
			if (items[k][i] == '"' || items[k][i] == '\\')
				*p++ = '\\';
			*p++ = items[k][i];
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/*
 * --since/--until: a duration ago ("2h", "3d") or an ISO-8601 timestamp,
 * checked here (common/timeparse.c) and handed to the server as UTC text.
 */
static int parse_time(const struct cli_ctx *ctx, const char *opt,
		      const char *arg, char *buf, size_t len)
{
	struct mreg_error err;
	struct mreg_time t;

	if (mreg_time_parse(arg, (long long)time(NULL), &t, &err) < 0)
		return cli_usage(ctx, "%s: %s", opt, err.message);
	if (mreg_time_format(&t, buf, len) < 0)
		return cli_usage(ctx, "%s: invalid time \"%s\": out of range",
				 opt, arg);
	return 0;
}

static const struct mreg_column model_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_HIDDEN },
	{ "model", MREG_COL_TEXT, 0 },
	{ "provider", MREG_COL_TEXT, MREG_COL_HIDDEN },
	{ "name", MREG_COL_TEXT, MREG_COL_HIDDEN },
	{ "type", MREG_COL_TEXT, 0 },
	{ "version", MREG_COL_TEXT, 0 },
	{ "active", MREG_COL_BOOL, 0 },
	{ "display_name", MREG_COL_TEXT, MREG_COL_HIDDEN },
	{ "tags", MREG_COL_JSON, 0 },
	{ "updated_at", MREG_COL_TEXT, 0 },
};

static const struct mreg_column provider_cols[] = {
	{ "name", MREG_COL_TEXT, 0 },
	{ "active_models", MREG_COL_NUMBER, MREG_COL_RIGHT },
	{ "models", MREG_COL_NUMBER, MREG_COL_RIGHT },
	{ "created_at", MREG_COL_TEXT, 0 },
};

static const struct mreg_column default_cols[] = {
	{ "type", MREG_COL_TEXT, 0 },
	{ "model", MREG_COL_TEXT, 0 },
	{ "model_id", MREG_COL_NUMBER, MREG_COL_HIDDEN },
	{ "updated_at", MREG_COL_TEXT, 0 },
};

static const struct mreg_column audit_cols[] = {
	{ "id", MREG_COL_NUMBER, MREG_COL_RIGHT },
	{ "logged_at", MREG_COL_TEXT, 0 },
	{ "actor", MREG_COL_TEXT, 0 },
	{ "db_role", MREG_COL_TEXT, 0 },
	{ "action", MREG_COL_TEXT, 0 },
	{ "resource", MREG_COL_TEXT, 0 },
	{ "model_id", MREG_COL_NUMBER, MREG_COL_HIDDEN },
	{ "details", MREG_COL_JSON, 0 },
};

/* What one listing runs. */
struct query {
	const char *sql, *count_sql;
	const char *values[9];
	int nparams, ncount;  /* count_sql takes the first ncount values */
	const struct mreg_column *cols;
	int ncols;
	struct mreg_page page;
	const char *noun;     /* "models", ... */
};

static int run(struct cli_ctx *ctx, struct opts *o, struct mreg_conn *conn,
	       struct query *q, enum subject subj)
{
	struct mreg_output_config cfg;
	struct mreg_output *out = NULL;
	struct mreg_error err;
	long long total = -1;
	bool in_tx = false;
	char *plan = NULL;
	int rc = 0;

	if (o->explain) {
		plan = mreg_explain(conn, q->sql, q->nparams, q->values, &err);
		if (!plan)
			return cli_report(ctx, &err);
		printf("%s\n", plan);
		free(plan);
		return 0;
	}
	view_config(stdout, o->format, &cfg);
	out = mreg_output_create(stdout, &cfg, q->cols, q->ncols, &err);
	if (!out)
		return cli_report(ctx, &err);
	if (o->count) {
		/* the total and the page from one snapshot */
		if (mreg_db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE "
					  "READ, READ ONLY", 0, NULL, &err) < 0)
			goto fail;
		in_tx = true;
		if (mreg_query_count(conn, q->count_sql, q->ncount, q->values,
				     &total, &err) < 0)
			goto fail;
	}
	if (mreg_stream_page(conn, q->sql, q->nparams, q->values, out,
			     &q->page, &err) < 0) {
		if (mreg_output_errno(out)) {
			rc = view_write_failed(ctx, out, &err);
			goto cleanup;
		}
		goto fail;
	}
	if (in_tx) {
		in_tx = false;
		if (mreg_db_commit(conn, &err) < 0)
			goto fail;
	}
	if (q->page.rows == 0 && subj == S_MODELS && !o->after) {
		rc = view_check_filters(ctx, conn, o->type, o->provider);
		if (rc)
			goto cleanup;
	}
	if (mreg_output_finish(out, q->page.next, total, &err) < 0) {
		rc = view_write_failed(ctx, out, &err);
		goto cleanup;
	}
	if (o->format == MREG_OUT_TABLE) {
		if (total >= 0)
			printf("-- %lld %s in total\n", total, q->noun);
		if (q->page.next)
			printf("-- next page: --after %s\n", q->page.next);
	} else if (o->format != MREG_OUT_JSON) {
		if (total >= 0)
			fprintf(stderr, "mreg list: %lld %s in total\n", total,
				q->noun);
		if (q->page.next)
			fprintf(stderr, "mreg list: next page: --after %s\n",
				q->page.next);
	}
	goto cleanup;
fail:
	mreg_error_prefix(&err, "could not list %s", q->noun);
	rc = cli_report(ctx, &err);
cleanup:
	if (in_tx)
		mreg_db_rollback(conn);
	free(q->page.next);
	q->page.next = NULL;
	mreg_output_destroy(out);
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

int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .format = MREG_OUT_TABLE, .active = 1,
			  .limit = -1 };
	struct query q = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	enum subject subj;
	char *tags = NULL, *key = NULL, *id = NULL;
	char provider[256], since[64], until[64], limit[32];
	const char *name = NULL;
	char kind;
	int first, rc;

	rc = cli_parse(ctx, &cmd_list_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		goto done;
	rc = parse_subject(ctx, argc, argv, first, &subj);
	if (rc)
		goto done;
	if (subj != S_MODELS && o.model_opts) {
		rc = cli_usage(ctx, "--type, --provider, --tag, --active, "
				    "--inactive, --all and --sort go with "
				    "'list models'");
		goto done;
	}
	if (subj != S_AUDIT && o.audit_opts) {
		rc = cli_usage(ctx, "--since, --until, --actor, --action and "
				    "--model go with 'list audit'");
		goto done;
	}

	kind = subj == S_MODELS ? (o.sort_updated ? 'u' : 'n')
	       : subj == S_PROVIDERS ? 'p' : subj == S_DEFAULTS ? 'd' : 'a';
	if (o.after && mreg_cursor_decode(o.after, kind, &key, &id, &err) < 0) {
		rc = cli_usage(ctx, "%s", err.message);
		goto done;
	}
	if (o.limit >= 0)
		snprintf(limit, sizeof(limit), "%ld", o.limit + 1);
	q.page.limit = o.limit;
	q.page.kind = kind;

	switch (subj) {
	case S_MODELS:
		if (o.ntags && !(tags = array_literal(o.tags, o.ntags))) {
			rc = cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
			goto done;
		}
		q.sql = o.sort_updated ? MREG_SQL_LIST_MODELS_BY_UPDATED
				       : MREG_SQL_LIST_MODELS_BY_NAME;
		q.count_sql = MREG_SQL_COUNT_MODELS;
		q.values[0] = o.type;
		q.values[1] = o.provider;
		q.values[2] = tags;
		q.values[3] = o.active < 0 ? NULL : o.active ? "true" : "false";
		q.values[4] = key;
		q.values[5] = id;
		q.values[6] = o.limit >= 0 ? limit : NULL;
		q.nparams = 7;
		q.ncount = 4;
		q.cols = model_cols;
		q.ncols = sizeof(model_cols) / sizeof(model_cols[0]);
		q.page.key_col = o.sort_updated ? 9 : 3;
		q.page.id_col = 0;
		q.noun = "models";
		break;
	case S_PROVIDERS:
		q.sql = MREG_SQL_LIST_PROVIDERS;
		q.count_sql = MREG_SQL_COUNT_PROVIDERS;
		q.values[0] = key;
		q.values[1] = o.limit >= 0 ? limit : NULL;
		q.nparams = 2;
		q.cols = provider_cols;
		q.ncols = sizeof(provider_cols) / sizeof(provider_cols[0]);
		q.page.key_col = 0;
		q.page.id_col = -1;
		q.noun = "providers";
		break;
	case S_DEFAULTS:
		q.sql = MREG_SQL_LIST_DEFAULTS;
		q.count_sql = MREG_SQL_COUNT_DEFAULTS;
		q.values[0] = key;
		q.values[1] = o.limit >= 0 ? limit : NULL;
		q.nparams = 2;
		q.cols = default_cols;
		q.ncols = sizeof(default_cols) / sizeof(default_cols[0]);
		q.page.key_col = 0;
		q.page.id_col = -1;
		q.noun = "defaults";
		break;
	case S_AUDIT:
		if (o.model && mreg_identity_split(o.model, provider,
						   sizeof(provider), &name,
						   &err) < 0) {
			rc = cli_usage(ctx, "--model: %s", err.message);
			goto done;
		}
		if ((o.since && (rc = parse_time(ctx, "--since", o.since, since,
						 sizeof(since)))) ||
		    (o.until && (rc = parse_time(ctx, "--until", o.until, until,
						 sizeof(until)))))
			goto done;
		q.sql = MREG_SQL_LIST_AUDIT;
		q.count_sql = MREG_SQL_COUNT_AUDIT;
		q.values[0] = o.since ? since : NULL;
		q.values[1] = o.until ? until : NULL;
		q.values[2] = o.actor;
		q.values[3] = o.action;
		q.values[4] = o.model ? provider : NULL;
		q.values[5] = name;
		q.values[6] = key;
		q.values[7] = id;
		q.values[8] = o.limit >= 0 ? limit : NULL;
		q.nparams = 9;
		q.ncount = 6;
		q.cols = audit_cols;
		q.ncols = sizeof(audit_cols) / sizeof(audit_cols[0]);
		q.page.key_col = 1;
		q.page.id_col = 0;
		q.noun = "audit entries";
		break;
	}

	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	rc = run(ctx, &o, conn, &q, subj);
	mreg_pool_release(pool, conn);
done:
	free(tags);
	free(key);
	free(id);
	free(o.tags);
	return cli_finish(ctx, rc);
}
