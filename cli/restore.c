/* restore.c - mreg restore PROVIDER/NAME --at TIME: a model as it was
 *
 * common/restore.c plans and applies it in one transaction: the model's
 * fields at TIME (read from the audit log, as show --at does) against
 * its fields now (mreg.jsonb_changes); one audited UPDATE puts every
 * field back, or, for a model deleted since, an INSERT with its old id.
 * --dry-run prints the changes and writes nothing.  With -o json it
 * prints one summary object (mreg-json(7)).
 */
#include <stdlib.h>
#include <string.h>

#include "asof-arg.h"
#include "cli.h"
#include "commands.h"
#include "jsontext.h"
#include "output.h"
#include "restore.h"
#include "view.h"

enum { OPT_AT = 256, OPT_DRY_RUN };

static const struct cli_option options[] = {
	CLI_ASOF_OPTION(OPT_AT),
	{ OPT_DRY_RUN, 0, "dry-run", NULL,
	  "print what would change, write nothing" },
	{ 'o', 'o', "format", "FORMAT", "text (default) or json (a summary)" },
	CLI_END,
};

const struct cli_spec cmd_restore_spec = {
	.usage = "PROVIDER/NAME --at TIME [--dry-run] [--format FORMAT]",
	.description = "Put every field of a model back as it was at TIME.",
	.options = options,
	.epilogue = "One audited update (context {\"command\": \"restore\", "
		    "\"at\": ...}); a model deleted\nsince is created again "
		    "with its old id.  Exits 3 when there was no such model\n"
		    "at TIME, or when the database refuses the change (it "
		    "would deactivate or\nretype its type's default).",
};

struct opts {
	const struct cli_ctx *ctx;
	bool json, dry_run;
	const char *at_arg;
	char asked[MREG_ASOF_LEN];
	char at[MREG_ASOF_LEN];
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	case OPT_AT:
		o->at_arg = arg;
		return cli_asof_parse(o->ctx, arg, o->asked);
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

/* A JSON value (a span of the server's text) compact, numbers as the
 * server wrote them; malloc'd. */
static char *value_text(struct mreg_json_span v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

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

/* "  field: now -> then", one line per changed field (the server's
 * text, never parsed into numbers: 0.35 stays 0.35). */
static int print_changes(const char *changes)
{
	struct mreg_json_span old, new, k, v, ov;
	struct mreg_json_iter it;
	char *key, *a, *b;
	int rc = 0;

	if (!mreg_json_get(changes, strlen(changes), "old", &old) ||
	    !mreg_json_get(changes, strlen(changes), "new", &new) ||
	    !mreg_json_iter_init(&it, new.p, new.len))
		return -1;
	while (rc == 0 && mreg_json_iter_next(&it, &k, &v)) {
		key = mreg_json_string_dup(k.p, k.len, NULL);
		a = key && mreg_json_get(old.p, old.len, key, &ov)
			    ? value_text(ov)
			    : strdup("null");
		b = value_text(v);
		if (!key || !a || !b)
			rc = -1;
		else
			cli_printf(stdout, "  %s: %s -> %s\n", key, a, b);
		free(key);
		free(a);
		free(b);
	}
	return rc;
}

static void print_text(const struct opts *o, const char *ident,
		       const struct mreg_restore *r)
{
	if (!r->changed) {
		cli_printf(stdout, "%s is already as at %s: nothing changed\n",
			   ident, o->at);
		return;
	}
	cli_printf(stdout, "%s %s%s as at %s (id %lld):\n",
		   o->dry_run ? "would restore" : "restored", ident,
		   r->existed ? "" : (o->dry_run ? ", creating it again,"
						 : ", created again,"),
		   o->at, r->id);
	print_changes(r->changes);
}

/* {"command", "ok", "exit_code", "model", "id", "at", "dry_run",
 *  "changed", "recreated", "changes"} */
static int print_json(const struct opts *o, const char *ident,
		      const struct mreg_restore *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -1;
	fputs("{\"command\":\"restore\",\"ok\":true,\"exit_code\":0,"
	      "\"model\":", f);
	mreg_json_write_string(f, ident, strlen(ident));
	fprintf(f, ",\"id\":%lld,\"at\":\"%s\",\"dry_run\":%s,"
		"\"changed\":%s,\"recreated\":%s,\"changes\":", r->id, o->at,
		o->dry_run ? "true" : "false", r->changed ? "true" : "false",
		r->changed && !r->existed ? "true" : "false");
	fputs(r->changes ? r->changes : "null", f);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	mreg_json_write(stdout, buf, len, 2);
	putchar('\n');
	free(buf);
	return 0;
}

static int run(struct cli_ctx *ctx, struct opts *o, struct mreg_conn *conn,
	       const char *provider, const char *name, const char *ident)
{
	struct mreg_restore r;
	struct mreg_error err;
	int rc;

	rc = cli_asof_resolve(ctx, conn, o->asked, o->at);
	if (rc)
		return rc;
	rc = mreg_restore(conn, provider, name, o->at, cli_actor(ctx),
			  o->dry_run, &r, &err);
	if (rc < 0) {
		mreg_error_prefix(&err, "could not restore \"%s\"", ident);
		return cli_report(ctx, &err);
	}
	if (rc == 0)
		return cli_fail(ctx, MREG_EXIT_DATA, "could not restore "
				"\"%s\": no model \"%s\" at %s", ident, ident,
				o->at);
	rc = 0;
	if (o->json) {
		if (print_json(o, ident, &r) < 0)
			rc = cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	} else {
		print_text(o, ident, &r);
	}
	mreg_restore_finish(&r);
	return rc;
}

int cmd_restore(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	char provider[256];
	const char *name;
	int first, rc;

	rc = cli_parse(ctx, &cmd_restore_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	rc = view_identity_arg(ctx, argc, argv, first, provider,
			       sizeof(provider), &name);
	if (rc >= 0)
		return cli_finish(ctx, rc);
	if (!o.at_arg)
		return cli_finish(ctx, cli_usage(ctx, "missing --at TIME"));
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err)))
		return cli_finish(ctx, cli_report(ctx, &err));
	rc = run(ctx, &o, conn, provider, name, argv[first]);
	mreg_pool_release(pool, conn);
	return cli_finish(ctx, rc);
}
