/* set-default.c - mreg set-default PROVIDER/NAME
 *
 * One statement (mreg_set_default, common/lookup.c) moves the default
 * and writes the audit row with the exact previous default, atomically
 * and in one round trip.  The database refuses an inactive default on its own (trigger
 * model_defaults_active); the statement's own check gives the clearer
 * message in the common case.  With -o json it prints one summary
 * object holding the model object (mreg-json(7)).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "view.h"
#include "commands.h"
#include "jsontext.h"
#include "lookup.h"
#include "output.h"

enum { OPT_QUIET = 'q' };

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (a summary with the model object)" },
	{ OPT_QUIET, 'q', "quiet", NULL, "print nothing but errors (and the "
	  "JSON summary)" },
	CLI_END,
};

const struct cli_spec cmd_set_default_spec = {
	.usage = "PROVIDER/NAME",
	.description = "Make a model the default for its type.",
	.options = options,
	.epilogue = "The change and its audit entry (action default.set, "
		    "resource defaults/TYPE,\nwith the previous and the new "
		    "default) are written in one transaction.\nSetting the "
		    "current default again changes nothing.",
};

struct opts {
	const struct cli_ctx *ctx;
	bool quiet, json;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	if (id == 'o')
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	if (id == OPT_QUIET)
		o->quiet = true;
	return 0;
}

/* A JSON string or null. */
static void put_string(FILE *f, const char *s)
{
	if (s)
		mreg_json_write_string(f, s, strlen(s));
	else
		fputs("null", f);
}

/*
 * The summary: {"command", "ok", "exit_code", "type", "changed",
 * "previous" (the default before: the model itself when unchanged, null
 * when there was none), "model" (its model object, read after the
 * change)}.  The model object's text is kept as the server wrote it.
 */
static int print_json(struct cli_ctx *ctx, struct mreg_conn *conn,
		      const char *provider, const char *name,
		      const char *ident, const struct mreg_default_change *c)
{
	struct mreg_error err;
	char *doc = NULL, *buf = NULL;
	size_t len = 0, blen = 0;
	FILE *f;
	int rc;

	rc = mreg_lookup_model(conn, provider, name, &doc, &len, &err);
	if (rc <= 0) {
		if (rc == 0)
			mreg_error_set(&err, MREG_EXIT_FAILURE, "the model "
				       "went away");
		mreg_error_prefix(&err, "could not read \"%s\"", ident);
		return cli_report(ctx, &err);
	}
	f = open_memstream(&buf, &blen);
	if (!f) {
		free(doc);
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	}
	fputs("{\"command\":\"set-default\",\"ok\":true,\"exit_code\":0,"
	      "\"type\":", f);
	put_string(f, c->type);
	fprintf(f, ",\"changed\":%s,\"previous\":",
		c->changed ? "true" : "false");
	put_string(f, c->changed ? c->previous : ident);
	fputs(",\"model\":", f);
	fwrite(doc, 1, len, f);
	fputc('}', f);
	rc = fclose(f);
	free(doc);
	if (rc != 0) {
		free(buf);
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	}
	mreg_json_write(stdout, buf, blen, 2);
	putchar('\n');
	free(buf);
	return 0;
}

int cmd_set_default(struct cli_ctx *ctx, int argc, char **argv)
{
	struct mreg_default_change c = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	char provider[256];
	const char *name, *ident;
	struct opts o = { .ctx = ctx };
	int first, rc;

	rc = cli_parse(ctx, &cmd_set_default_spec, argc, argv, handle, &o,
		       &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	ident = argv[first];

	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	if (mreg_set_default(conn, provider, name, cli_actor(ctx), &c,
			     &err) < 0) {
		/* 23514 from the trigger: deactivated while we ran */
		mreg_error_prefix(&err, "could not make \"%s\" the default",
				  ident);
		rc = cli_report(ctx, &err);
	} else if (!c.found) {
		rc = view_unknown_model(ctx, conn, provider, name, ident);
	} else if (!c.active) {
		cli_fail(ctx, 0, "could not make \"%s\" the default: the model "
				 "is inactive", ident);
		cli_hint("Only an active model can be the default for its "
			 "type.");
		rc = MREG_EXIT_DATA;
	} else if (o.json) {
		rc = print_json(ctx, conn, provider, name, ident, &c);
	} else if (!c.changed) {
		if (!o.quiet)
			cli_printf(stdout, "%s is already the default for "
				   "type %s: nothing changed\n", ident, c.type);
		rc = 0;
	} else {
		if (!o.quiet)
			cli_printf(stdout, "default for type %s: %s -> %s\n",
				   c.type, c.previous ? c.previous : "(none)",
				   ident);
		rc = 0;
	}
	mreg_default_change_finish(&c);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
