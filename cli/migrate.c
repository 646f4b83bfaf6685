/* migrate.c - mreg migrate: apply or inspect schema migrations */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "escape.h"
#include "migrate.h"
#include "pooler.h"
#include "run-metrics.h"

enum {
	OPT_DRY_RUN = 256,
	OPT_EXIT_CODE,
	OPT_LOCK_TIMEOUT,
	OPT_DDL_LOCK_TIMEOUT,
	OPT_WAIT,
	OPT_METRICS_FILE,
	OPT_DIRECT_DSN,
};

static const struct cli_option options[] = {
	{ OPT_DRY_RUN, 0, "dry-run", NULL,
	  "print the SQL of pending migrations, change nothing" },
	{ 'q', 'q', "quiet", NULL, "print nothing but errors" },
	{ OPT_WAIT, 0, "wait", "[=DURATION]",
	  "wait for a concurrent migrate to finish: as long as it takes, or "
	  "up to DURATION (default: up to 60s)" },
	{ OPT_LOCK_TIMEOUT, 0, "lock-timeout", "DURATION",
	  "the same as --wait=DURATION" },
	{ OPT_DDL_LOCK_TIMEOUT, 0, "ddl-lock-timeout", "DURATION",
	  "lock_timeout of each migration's statements (default 10s)" },
	{ OPT_DIRECT_DSN, 0, "direct-dsn", "CONNINFO",
	  "apply through this direct connection to the primary, not a "
	  "transaction-mode pooler (default: $MREG_DIRECT_DSN, else --dsn)" },
	{ 'o', 'o', "format", "FORMAT",
	  "text (default; table is a synonym) or json (one summary object)" },
	CLI_GROUP("Options for 'status':"),
	{ OPT_EXIT_CODE, 0, "exit-code", NULL,
	  "exit 5 when migrations are pending, 1 on drift" },
	CLI_GROUP("Unattended runs:"),
	{ OPT_METRICS_FILE, 0, "metrics-file", "PATH",
	  "write the run's metrics to PATH (node_exporter textfile)" },
	CLI_END,
};

const struct cli_spec cmd_migrate_spec = {
	.usage = "[options]\nstatus [--format FORMAT] [--exit-code]",
	.description = "Apply pending schema migrations, or show their status.",
	.options = options,
	.epilogue = "Migrations run one at a time under an advisory lock; use "
		    "a direct connection,\nnot PgBouncer in transaction mode.",
};

struct opts {
	const struct cli_ctx *ctx;
	bool dry_run, quiet, exit_code, json;
	double lock_timeout, ddl_lock_timeout;
	const char *direct_dsn;        /* --direct-dsn, else MREG_DIRECT_DSN */
	struct cli_metrics metrics;
	bool counted;                  /* the counts below are known */
	int applied, pending, drifted; /* for the metrics */
};

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;

	switch (id) {
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case OPT_DIRECT_DSN:
		o->direct_dsn = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_EXIT_CODE:
		o->exit_code = true;
		return 0;
	case 'o':
		return cli_parse_report_format(o->ctx, arg, "text", &o->json);
	case OPT_METRICS_FILE:
		return cli_metrics_path(o->ctx, &o->metrics, arg);
	case OPT_WAIT:
		if (!arg) {
			o->lock_timeout = MREG_WAIT_FOREVER;
			return 0;
		}
		if (cli_parse_duration(arg, &o->lock_timeout) < 0)
			return cli_usage(o->ctx, "--wait: invalid duration "
						 "'%s' (try 30s, 500ms, 2m)",
					 arg);
		return 0;
	case OPT_LOCK_TIMEOUT:
	case OPT_DDL_LOCK_TIMEOUT:
		if (cli_parse_duration(arg, id == OPT_LOCK_TIMEOUT
						    ? &o->lock_timeout
						    : &o->ddl_lock_timeout) < 0)
			return cli_usage(o->ctx, "invalid duration '%s' "
						 "(try 30s, 500ms, 2m)", arg);
		return 0;
	}
	return cli_usage(o->ctx, "unhandled option");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *state_name(enum mreg_migration_state s)
{
	switch (s) {
	case MREG_MIG_PENDING: return "pending";
	case MREG_MIG_APPLIED: return "applied";
	case MREG_MIG_DRIFTED: return "drifted";
	case MREG_MIG_UNKNOWN: return "unknown";
	}
	return "?";
}

static void print_status_table(const struct mreg_migration_status *st,
			       size_t n)
{
	size_t i, w = 4, cols;
	char *name;

	/* names and checksums can come from the database: escaped */
	for (i = 0; i < n; i++) {
		name = mreg_escape(st[i].name, strlen(st[i].name), 0, &cols);
		if (name && cols > w)
			w = cols;
		free(name);
	}
	printf("%-7s  %-*s  %-7s  %-12s  %-20s  %s\n", "VERSION", (int)w,
	       "NAME", "STATE", "CHECKSUM", "APPLIED (UTC)", "DURATION");
	for (i = 0; i < n; i++) {
		const char *sum = st[i].checksum[0] ? st[i].checksum
						    : st[i].recorded;
		char dur[32] = "", esum[16], when[24] = "-";

		if (st[i].applied_at[0]) {
			snprintf(dur, sizeof(dur), "%.1f ms",
				 st[i].duration_ms);
			/* to the second here; JSON has the microseconds */
			snprintf(when, sizeof(when), "%.19sZ",
				 st[i].applied_at);
		}
		name = mreg_escape(st[i].name, strlen(st[i].name), 0, &cols);
		mreg_escape_into(esum, sizeof(esum), sum, strlen(sum), 0);
		printf("%04d     %s%*s  %-7s  %-12.12s  %-20s  %s\n",
		       st[i].version, name ? name : "?",
		       name && cols < w ? (int)(w - cols) : 0, "",
		       state_name(st[i].state), esum, when, dur);
		free(name);
	}
}

/*
 * The start of every JSON summary of migrate (mreg-json(7)): command,
 * action ("apply" or "status"), ok (exactly when exit_code is 0) and
 * exit_code.
 */
static json_t *summary(const char *action, int exit_code)
{
	return json_pack("{s:s, s:s, s:b, s:i}", "command", "migrate",
			 "action", action, "ok", exit_code == 0, "exit_code",
			 exit_code);
}

static int put_json(json_t *root)
{
	int rc = json_dumpf(root, stdout, JSON_INDENT(2) |
					  JSON_PRESERVE_ORDER |
					  JSON_REAL_PRECISION(6));

	putchar('\n');
	cli_json_printed(); /* its own document: no error object after it */
	json_decref(root);
	return rc;
}

static json_t *text_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static int print_status_json(const struct mreg_migration_status *st,
			     size_t n, int pending, int drifted, int rc)
{
	json_t *root = summary("status", rc), *list = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *m = json_pack("{s:i, s:s, s:s}", "version",
				      st[i].version, "name", st[i].name,
				      "state", state_name(st[i].state));

		json_object_set_new(m, "checksum",
				    text_or_null(st[i].checksum));
		json_object_set_new(m, "recorded_checksum",
				    text_or_null(st[i].recorded));
		json_object_set_new(m, "applied_at",
				    text_or_null(st[i].applied_at));
		json_object_set_new(m, "duration_s",
				    st[i].applied_at[0]
					    ? json_real(st[i].duration_ms /
							1000.0)
					    : json_null());
		json_array_append_new(list, m);
	}
	json_object_set_new(root, "migrations", list);
	json_object_set_new(root, "pending", json_integer(pending));
	json_object_set_new(root, "drifted", json_integer(drifted));
	return put_json(root);
}

static int count_state(const struct mreg_migration_status *st, size_t n,
		       enum mreg_migration_state s)
{
	int c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += st[i].state == s;
	return c;
}

/* The counts the metrics file reports, once the status is known. */
static void note_counts(struct opts *o, const struct mreg_migration_status *st,
			size_t n)
{
	o->counted = true;
	o->pending = count_state(st, n, MREG_MIG_PENDING);
	o->drifted = count_state(st, n, MREG_MIG_DRIFTED);
}

/* Drift is an error that names every changed migration. */
static int check_drift(struct cli_ctx *ctx,
		       const struct mreg_migration_status *st, size_t n)
{
	size_t i;
	int drifted = 0;

	for (i = 0; i < n; i++) {
		if (st[i].state == MREG_MIG_UNKNOWN)
			cli_warn(ctx, "the database has migration \"%s\", "
				      "which this mreg does not know (is it "
				      "newer?)", st[i].name);
		if (st[i].state != MREG_MIG_DRIFTED)
			continue;
		drifted++;
		cli_fail(ctx, 0, "migration \"%s\" changed after it was "
				 "applied: recorded checksum %.12s, now %.12s",
			 st[i].name, st[i].recorded, st[i].checksum);
	}
	if (drifted) {
		cli_hint("Restore the applied text, and put new changes in a "
			 "new migration.");
		cli_log_line("Nothing was run.");
	}
	return drifted;
}

static int run_status(struct cli_ctx *ctx, struct opts *o,
		      struct mreg_conn *conn,
		      const struct mreg_migration_set *set)
{
	struct mreg_migration_status *st = NULL;
	struct mreg_error err;
	size_t n = 0;
	int pending, drifted, rc = 0;

	if (mreg_migrate_status(conn, set, &st, &n, &err) < 0)
		return cli_report(ctx, &err);
	note_counts(o, st, n);
	pending = o->pending;
	drifted = o->drifted;
	if (o->exit_code)
		rc = drifted ? MREG_EXIT_FAILURE
			     : pending ? MREG_EXIT_PENDING : 0;
	if (o->json)
		print_status_json(st, n, pending, drifted, rc);
	else
		print_status_table(st, n);
	free(st);
	return rc;
}

/* A migration applied (or, dry, to apply) as a JSON object. */
static json_t *migration_json(const struct mreg_migration *m, double ms,
			      bool dry)
{
	json_t *j = json_pack("{s:i, s:s, s:b}", "version", m->version,
			      "name", m->name, "in_transaction",
			      !m->no_transaction);

	if (dry)
		json_object_set_new(j, "sql", json_stringn(m->sql, m->len));
	else
		json_object_set_new(j, "duration_s", json_real(ms / 1000.0));
	return j;
}

/*
 * The JSON summary of an apply or a dry run: applied and pending (after
 * the run), migrations (those applied), with --dry-run changes (those it
 * would apply, with their SQL), and the time taken.
 */
static int print_apply_json(const struct opts *o, json_t *list, int count,
			    double seconds)
{
	json_t *root = summary("apply", 0);

	json_object_set_new(root, "dry_run", json_boolean(o->dry_run));
	json_object_set_new(root, "applied",
			    json_integer(o->dry_run ? 0 : count));
	json_object_set_new(root, "pending",
			    json_integer(o->dry_run ? count : 0));
	if (o->dry_run) {
		json_object_set_new(root, "migrations", json_array());
		json_object_set_new(root, "changes", list);
	} else {
		json_object_set_new(root, "migrations", list);
	}
	json_object_set_new(root, "duration_s", json_real(seconds));
	return put_json(root);
}

static int run_dry(struct cli_ctx *ctx, struct opts *o,
		   struct mreg_conn *conn,
		   const struct mreg_migration_set *set)
{
	struct mreg_migration_status *st = NULL;
	struct mreg_error err;
	json_t *list = o->json ? json_array() : NULL;
	double start = now_s();
	size_t n = 0, i;
	int pending = 0;

	if (mreg_migrate_status(conn, set, &st, &n, &err) < 0) {
		json_decref(list);
		return cli_report(ctx, &err);
	}
	note_counts(o, st, n);
	if (check_drift(ctx, st, n)) {
		json_decref(list);
		free(st);
		return MREG_EXIT_FAILURE;
	}
	for (i = 0; i < n; i++) {
		const struct mreg_migration *m = st[i].migration;

		if (st[i].state != MREG_MIG_PENDING)
			continue;
		pending++;
		if (list) {
			json_array_append_new(list, migration_json(m, 0, true));
			continue;
		}
		cli_printf(stdout, "-- %s (pending, %s)\n", m->name,
			   m->no_transaction ? "statement by statement"
					     : "in one transaction");
		printf("%s%s", m->sql,
		       m->len && m->sql[m->len - 1] == '\n' ? "" : "\n");
	}
	cli_info(ctx, "dry run: %d migration%s would be applied, nothing "
		      "was changed", pending, pending == 1 ? "" : "s");
	if (list)
		print_apply_json(o, list, pending, now_s() - start);
	free(st);
	return 0;
}

/* Apply the pending migrations of st, in order; 0 or the exit status. */
static int apply_pending(struct cli_ctx *ctx, struct opts *o,
			 struct mreg_conn *conn,
			 struct mreg_migration_status *st, size_t n,
			 json_t *list, int *applied)
{
	struct mreg_error err;
	size_t i;

	for (i = 0; i < n; i++) {
		double ms = 0;

		if (st[i].state != MREG_MIG_PENDING)
			continue;
		if (mreg_migrate_apply(conn, st[i].migration, cli_actor(ctx),
				       o->ddl_lock_timeout, &ms, &err) < 0) {
			int rc = cli_report(ctx, &err);

			cli_fail(ctx, 0, "%s was not applied%s", st[i].name,
				 st[i].migration->no_transaction
					 ? " (statements before the failing "
					   "one stay applied)"
					 : " (rolled back)");
			return rc;
		}
		(*applied)++;
		o->applied++;
		o->pending--;
		if (list)
			json_array_append_new(list, migration_json(
					st[i].migration, ms, false));
		else if (!o->quiet)
			cli_printf(stdout, "applied %s (%.1f ms)\n",
				   st[i].name, ms);
	}
	return 0;
}

/* The lock is held: say so once, unless --quiet. */
static void on_waiting(void *arg, const char *holder)
{
	const struct opts *o = arg;

	if (!o->quiet)
		cli_fail(o->ctx, 0, "waiting for another mreg migrate (%s)",
			 holder);
}

static int run_apply(struct cli_ctx *ctx, struct opts *o,
		     struct mreg_conn *conn,
		     const struct mreg_migration_set *set)
{
	struct mreg_migration_status *st = NULL;
	struct mreg_error err;
	json_t *list = o->json ? json_array() : NULL;
	double start = now_s();
	size_t n = 0;
	int applied = 0, rc = 0;
	const struct mreg_lock_wait wait = { o->lock_timeout, on_waiting, o };

	if (mreg_migrate_lock(conn, &wait, &err) < 0) {
		json_decref(list);
		return cli_report(ctx, &err);
	}
	if (mreg_migrate_bootstrap(conn, &err) < 0 ||
	    mreg_migrate_status(conn, set, &st, &n, &err) < 0) {
		rc = cli_report(ctx, &err);
		goto unlock;
	}
	note_counts(o, st, n);
	if (check_drift(ctx, st, n)) {
		rc = MREG_EXIT_FAILURE;
		goto unlock;
	}
	rc = apply_pending(ctx, o, conn, st, n, list, &applied);
	if (rc)
		goto unlock;
	if (list) {
		print_apply_json(o, list, applied, now_s() - start);
		list = NULL;
	} else if (!o->quiet) {
		printf(applied ? "the database is up to date\n"
			       : "the database is up to date: nothing to "
				 "apply\n");
	}
unlock:
	json_decref(list);
	if (PQstatus(conn->pg) == CONNECTION_OK &&
	    PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
		mreg_migrate_unlock(conn);
	free(st);
	return rc;
}

/*
 * Applying holds a session advisory lock and runs DDL statement by
 * statement: a transaction-mode pooler would run them on any server
 * connection.  -1 when conn is direct (or said to be), else the exit
 * status of the refusal.
 */
static int refuse_pooled(struct cli_ctx *ctx, struct mreg_conn *conn)
{
	struct mreg_pooled pd;
	struct mreg_error err;

	mreg_error_clear(&err);
	if (mreg_conn_pooled(conn->pg, &pd, &err) < 0)
		return cli_report(ctx, &err);
	if (!pd.pooled)
		return -1;
	if (pd.overridden)
		mreg_error_set(&err, MREG_EXIT_FAILURE,
			       "cannot apply migrations through a pooler: "
			       "MREG_POOLED says the connection is pooled");
	else
		mreg_error_set(&err, MREG_EXIT_FAILURE,
			       "cannot apply migrations through a pooler: "
			       "connected to port %s, the server listens on "
			       "port %s", pd.client_port, pd.server_port);
	mreg_error_detail(&err, "mreg migrate holds a session lock and runs "
			  "its statements on one session; a transaction-mode "
			  "pooler (PgBouncer) hands each transaction to any "
			  "server connection.");
	mreg_error_hint(&err, "Give a direct connection to the primary: "
			"--direct-dsn CONNINFO or MREG_DIRECT_DSN ('migrate "
			"status' works through the pooler; MREG_POOLED=no if "
			"this is a plain port forward).");
	return cli_report(ctx, &err);
}

int cmd_migrate(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .lock_timeout = 60,
			  .ddl_lock_timeout = 10 };
	struct mreg_migration_set set = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_error err;
	struct mreg_pool *pool;
	bool status = false;
	int first, rc;

	cli_metrics_init(&o.metrics);
	rc = cli_parse(ctx, &cmd_migrate_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return rc; /* a usage error is no run: no metrics */
	if (first < argc) {
		if (strcmp(argv[first], "status") != 0)
			return cli_usage(ctx, "unknown action '%s' (expected "
					      "'status' or nothing)",
					 argv[first]);
		status = true;
	}
	if (!status && o.exit_code)
		return cli_usage(ctx, "--exit-code goes with 'status'");
	if (status && o.dry_run)
		return cli_usage(ctx, "--dry-run does not go with 'status'");

	if (mreg_migrations_load(&set, getenv("MREG_TEST_MIGRATIONS_DIR"),
				 &err) < 0)
		return cli_report(ctx, &err);
	if (!o.direct_dsn && getenv("MREG_DIRECT_DSN") &&
	    *getenv("MREG_DIRECT_DSN"))
		o.direct_dsn = getenv("MREG_DIRECT_DSN");
	if (!status && o.direct_dsn)
		ctx->dsn = o.direct_dsn;
	pool = cli_pool(ctx, 1, &err);
	if (!pool || !(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (!status && !o.dry_run && (rc = refuse_pooled(ctx, conn)) >= 0)
		goto release;
	if (status)
		rc = run_status(ctx, &o, conn, &set);
	else if (o.dry_run)
		rc = run_dry(ctx, &o, conn, &set);
	else
		rc = run_apply(ctx, &o, conn, &set);
release:
	mreg_pool_release(pool, conn);
done:
	mreg_migrations_finish(&set);
	if (o.counted)
		cli_metrics_migrate(&o.metrics, o.applied, o.pending,
				    o.drifted);
	return cli_finish(ctx, cli_metrics_finish(ctx, &o.metrics, rc));
}
