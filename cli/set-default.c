/* set-default.c - mreg set-default PROVIDER/NAME
 *
 * One statement (mreg_set_default, common/lookup.c) moves the default
 * and writes the audit row with the exact previous default, atomically
 * and in one round trip.  The database refuses an inactive default on its own (trigger
 * model_defaults_active); the statement's own check gives the clearer
 * message in the common case.
 */
#include "cli.h"
#include "view.h"
#include "commands.h"
#include "lookup.h"

enum { OPT_QUIET = 'q' };

static const struct cli_option options[] = {
	{ OPT_QUIET, 'q', "quiet", NULL, "print nothing but errors" },
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

static int handle(void *state, int id, const char *arg)
{
	bool *quiet = state;

	(void)arg;
	if (id == OPT_QUIET)
		*quiet = true;
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
	bool quiet = false;
	int first, rc;

	rc = cli_parse(ctx, &cmd_set_default_spec, argc, argv, handle, &quiet, &first);
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
	} else if (!c.changed) {
		if (!quiet)
			cli_printf(stdout, "%s is already the default for "
				   "type %s: nothing changed\n", ident, c.type);
		rc = 0;
	} else {
		if (!quiet)
			cli_printf(stdout, "default for type %s: %s -> %s\n",
				   c.type, c.previous ? c.previous : "(none)",
				   ident);
		rc = 0;
	}
	mreg_default_change_finish(&c);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
