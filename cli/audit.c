/* audit.c - mreg audit prune: the one way to trim the audit log */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "cli.h"
#include "commands.h"
#include "timeparse.h"

enum {
	OPT_BEFORE = 256,
	OPT_DRY_RUN,
};

static const struct cli_option options[] = {
	{ OPT_BEFORE, 0, "before", "TIME",
	  "remove the entries logged before TIME: a duration ago (90d) or "
	  "an ISO-8601 timestamp (required)" },
	{ OPT_DRY_RUN, 0, "dry-run", NULL,
	  "count the entries that would be removed, remove nothing" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (one summary object)" },
	CLI_END,
};

const struct cli_spec cmd_audit_spec = {
	.usage = "prune --before TIME [--dry-run] [--format FORMAT]",
	.description = "Trim the audit log (append-only otherwise).",
	.options = options,
	.epilogue = "Every trim is itself audited (an audit.prune entry).",
};

struct opts {
	const struct cli_ctx *ctx;
	const char *before_arg;
	char before[64]; /* UTC text for the server */
	bool dry_run, json;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	struct mreg_error err;
	struct mreg_time t;

	switch (id) {
	case OPT_BEFORE:
		if (mreg_time_parse(arg, (long long)time(NULL), &t, &err) < 0)
			return cli_usage(o->ctx, "--before: %s", err.message);
		if (mreg_time_format(&t, o->before, sizeof(o->before)) < 0)
			return cli_usage(o->ctx, "--before: invalid time \"%s\":"
						 " out of range", arg);
		o->before_arg = arg;
		return 0;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	}
	return cli_usage(o->ctx, "unhandled option");
}

static int print_json(const struct opts *o, long long n)
{
	json_t *root = json_pack("{s:s, s:s, s:b, s:i, s:b, s:s, s:I}",
				 "command", "audit", "action", "prune", "ok",
				 1, "exit_code", 0, "dry_run", o->dry_run,
				 "before", o->before, "deleted", (json_int_t)n);

	if (!root)
		return cli_fail(o->ctx, MREG_EXIT_FAILURE, "out of memory");
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	cli_json_printed();
	json_decref(root);
	return 0;
}

int cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	long long n;
	int first, rc;

	rc = cli_parse(ctx, &cmd_audit_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (strcmp(argv[first], "prune") != 0)
		return cli_finish(ctx, cli_usage(ctx, "unknown action '%s' "
						      "(expected 'prune')",
						 argv[first]));
	if (!o.before_arg)
		return cli_finish(ctx, cli_usage(ctx, "prune needs --before "
						      "TIME"));
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	if (mreg_audit_prune(conn, cli_actor(ctx), o.before, o.dry_run, &n,
			     &err) < 0) {
		mreg_error_prefix(&err, "could not prune the audit log");
		rc = cli_report(ctx, &err);
	} else if (o.json) {
		rc = print_json(&o, n);
	} else {
		cli_printf(stdout, "%s %lld audit %s logged before %s\n",
			   o.dry_run ? "would remove" : "removed", n,
			   n == 1 ? "entry" : "entries", o.before);
		rc = 0;
	}
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
