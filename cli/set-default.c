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
#include "history.h"
#include "jsontext.h"
#include "lookup.h"
#include "output.h"

enum { OPT_QUIET = 'q', OPT_PREVIOUS = 256 };

static const struct cli_option options[] = {
	{ 'o', 'o', "format", "FORMAT",
	  "text (default) or json (a summary with the model object)" },
	{ OPT_QUIET, 'q', "quiet", NULL, "print nothing but errors (and the "
	  "JSON summary)" },
	{ OPT_PREVIOUS, 0, "previous", "TYPE",
	  "make TYPE's previous default the default again (a rollback; "
	  "twice: back again)" },
	CLI_END,
};

const struct cli_spec cmd_set_default_spec = {
	.usage = "PROVIDER/NAME\n--previous TYPE",
	.description = "Make a model the default for its type.",
	.options = options,
	.epilogue = "The change and its audit entry (action default.set, "
		    "resource defaults/TYPE,\nwith the previous and the new "
		    "default) are written in one transaction.\nSetting the "
		    "current default again changes nothing.  --previous reads "
		    "the model\nbefore the current default from the audit log "
		    "and refuses (exit 3) when\nthere is none, or it was "
		    "deleted, deactivated or retyped since.",
};

struct opts {
	const struct cli_ctx *ctx;
	const char *previous; /* --previous TYPE */
	bool quiet, json;
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	if (id == 'o')
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	if (id == OPT_QUIET)
		o->quiet = true;
	if (id == OPT_PREVIOUS)
		o->previous = arg;
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
		      const char *ident, const struct mreg_default_change *c,
		      bool rollback)
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
	fprintf(f, ",\"rollback\":%s,\"model\":", rollback ? "true" : "false");
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

/* A rollback that could not be done: why (exit 3, nothing changed). */
static int refused(struct cli_ctx *ctx, const char *type,
		   const struct mreg_rollback *r)
{
	const char *what = "could not make the previous default the default "
			   "again";

	switch (r->outcome) {
	case MREG_ROLLBACK_NO_DEFAULT:
		cli_fail(ctx, 0, "%s: type \"%s\" has no default", what, type);
		break;
	case MREG_ROLLBACK_NO_PREVIOUS:
		cli_fail(ctx, 0, "%s: \"%s\" is the first default of type "
				 "\"%s\" (no previous default)", what,
			 r->current, type);
		break;
	case MREG_ROLLBACK_GONE:
		cli_fail(ctx, 0, "%s: the previous default \"%s\" was "
				 "deleted", what, r->previous ? r->previous
							     : "(unknown)");
		break;
	case MREG_ROLLBACK_INACTIVE:
		cli_fail(ctx, 0, "%s: the previous default \"%s\" is "
				 "inactive", what, r->previous);
		cli_hint("Only an active model can be the default for its "
			 "type.");
		break;
	case MREG_ROLLBACK_RETYPED:
		cli_fail(ctx, 0, "%s: the previous default \"%s\" is no "
				 "longer of type \"%s\"", what, r->previous,
			 type);
		break;
	case MREG_ROLLBACK_DONE:
		return 0;
	}
	if (r->outcome != MREG_ROLLBACK_INACTIVE)
		cli_hint("See 'mreg history --type %s'; choose one with "
			 "'mreg set-default PROVIDER/NAME'.", type);
	return MREG_EXIT_DATA;
}

/* --previous TYPE: the rollback, then the same output as a set. */
static int previous(struct cli_ctx *ctx, struct mreg_conn *conn,
		    const struct opts *o)
{
	struct mreg_rollback r;
	struct mreg_error err;
	int rc;

	if (mreg_default_rollback(conn, o->previous, cli_actor(ctx), &r,
				  &err) < 0) {
		mreg_error_prefix(&err, "could not make the previous default "
					"of type \"%s\" the default again",
				  o->previous);
		return cli_report(ctx, &err);
	}
	rc = refused(ctx, o->previous, &r);
	if (rc == 0 && o->json) {
		struct mreg_default_change c = {
			.found = true, .active = true, .changed = true,
			.type = (char *)o->previous, .previous = r.current,
		};
		rc = print_json(ctx, conn, r.provider, r.name, r.previous, &c,
				true);
	} else if (rc == 0 && !o->quiet) {
		cli_printf(stdout, "default for type %s: %s -> %s (rollback)\n",
			   o->previous, r.current, r.previous);
	}
	mreg_rollback_finish(&r);
	return rc;
}

/* Connect, then previous(). */
static int run_previous(struct cli_ctx *ctx, const struct opts *o)
{
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	int rc;

	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_report(ctx, &err);
	rc = previous(ctx, conn, o);
	mreg_pool_release(pool, conn);
	return rc;
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
	if (o.previous && first < argc)
		return cli_finish(ctx, cli_usage(ctx, "--previous TYPE and a "
						      "PROVIDER/NAME cannot go "
						      "together"));
	if (o.previous)
		return cli_finish(ctx, run_previous(ctx, &o));
	if (first >= argc)
		return cli_finish(ctx, cli_usage(ctx, "missing PROVIDER/NAME "
						      "(or --previous TYPE)"));
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
		rc = print_json(ctx, conn, provider, name, ident, &c, false);
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
