/* cli.c - option tables, parsing and finishing for subcommands (help text:
 * help.c; messages: messages.c) */
#include "cli.h"
#include "db.h"
#include "modelfile.h"
#include "utf8.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "replica.h"
#include "json-errors.h"

enum {
	OPT_ACTOR = 1000,
	OPT_LIST_COMMANDS,
	OPT_NO_PAGER,
	OPT_LOG_FORMAT,
	OPT_READ_DSN,
	OPT_MAX_LAG,
};

const struct cli_option cli_db_options[] = {
	{ 'd', 'd', "dsn", "CONNINFO",
	  "libpq connection string or URI (default: $MREG_DSN, then libpq's "
	  "PG* environment)" },
	CLI_END,
};
const struct cli_option cli_read_options[] = {
	{ OPT_READ_DSN, 0, "read-dsn", "CONNINFO",
	  "read from this server, e.g. a streaming replica (default: "
	  "$MREG_READ_DSN, else --dsn)" },
	{ OPT_MAX_LAG, 0, "max-lag", "DURATION",
	  "read from the primary instead when the replica's replay lag is "
	  "over DURATION (default: $MREG_MAX_LAG, else no limit)" },
	CLI_END,
};
const struct cli_option cli_actor_options[] = {
	{ OPT_ACTOR, 0, "actor", "NAME",
	  "name recorded in the audit log (default: $MREG_ACTOR, then the OS "
	  "user)" },
	CLI_END,
};
const struct cli_option cli_base_options[] = {
	{ 'v', 'v', "verbose", NULL,
	  "print connection details, each statement's time and rows, and "
	  "pool statistics to stderr" },
	{ OPT_LOG_FORMAT, 0, "log-format", "FORMAT",
	  "stderr lines: auto, plain, stamped or json (default: "
	  "$MREG_LOG_FORMAT, then auto: plain on a terminal, else stamped)" },
	{ OPT_NO_PAGER, 0, "no-pager", NULL,
	  "never page tables through $MREG_PAGER or $PAGER" },
	{ 'h', 'h', "help", NULL, "show this help and exit" },
	CLI_END,
};
const struct cli_option cli_version_options[] = {
	{ 'V', 'V', "version", NULL, "show the version and exit" },
	{ OPT_LIST_COMMANDS, 0, "list-commands", NULL, NULL }, /* hidden */
	CLI_END,
};

const struct cli_exit_code cli_exit_codes[] = {
	{ MREG_EXIT_OK, "MREG_EXIT_OK", "success", "Success." },
	{ MREG_EXIT_FAILURE, "MREG_EXIT_FAILURE", "runtime or database error",
	  "A runtime or database error (connection refused, statement failed, "
	  "migration drift)." },
	{ MREG_EXIT_USAGE, "MREG_EXIT_USAGE", "usage error",
	  "A usage error: unknown command or option, bad option value, missing "
	  "or extra operand." },
	{ MREG_EXIT_DATA, "MREG_EXIT_DATA",
	  "invalid input data, or an unknown model, type or provider",
	  "Invalid input data, or an unknown model, type or provider. For "
	  "*import-dir*: some files were rejected." },
	{ MREG_EXIT_LOCKED, "MREG_EXIT_LOCKED", "another run holds the lock",
	  "Another run holds the lock (a concurrent *migrate* or *import-dir* "
	  "of the same source); with *--wait*=_DURATION_: still when "
	  "_DURATION_ ran out." },
	{ MREG_EXIT_PENDING, "MREG_EXIT_PENDING",
	  "pending work (migrate status --exit-code)",
	  "Pending work: *mreg migrate status --exit-code* found migrations to "
	  "apply." },
	{ MREG_EXIT_THRESHOLD, "MREG_EXIT_THRESHOLD",
	  "a threshold was not met (bench --threshold)",
	  "A threshold was not met: *mreg bench --threshold* found the run "
	  "outside a limit (the report is printed all the same)." },
};
const size_t cli_nexit_codes = sizeof(cli_exit_codes) /
			       sizeof(cli_exit_codes[0]);

const struct cli_command *cli_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

const char *cli_value_kind(const char *arg)
{
	static const struct { const char *arg, *kind; } kinds[] = {
		{ "TYPE", "type" },
		{ "PROVIDER", "provider" },
		{ "PROVIDER/NAME", "model" },
		{ "MODEL", "model" },
		{ "TAG", "tag" },
		{ "DIR", "directory" },
		{ "FILE", "file" },
		{ "PATH", "file" },
		{ "FORMAT", "format" },
		{ "DURATION", "duration" },
		{ "N", "number" },
		{ "J", "number" },
		{ "R", "number" },
		{ "PCT", "number" },
		{ "BYTES", "number" },
	};
	size_t i;

	if (!arg)
		return "none";
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(arg, kinds[i].arg) == 0)
			return kinds[i].kind;
	return "text";
}

static size_t count_options(const struct cli_option *o)
{
	size_t n = 0;

	for (; o && (o->id || o->help); o++)
		if (o->longopt)
			n++;
	return n;
}

static void add_options(const struct cli_option *o, struct option *lo,
			size_t *n, char *shorts, size_t *sn)
{
	for (; o && (o->id || o->help); o++) {
		if (!o->longopt)
			continue;
		lo[*n].name = o->longopt;
		lo[*n].has_arg = !o->arg ? no_argument
				 : cli_option_optional(o) ? optional_argument
							  : required_argument;
		lo[*n].flag = NULL;
		lo[*n].val = o->id;
		(*n)++;
		if (o->shortopt) {
			shorts[(*sn)++] = o->shortopt;
			if (o->arg)
				shorts[(*sn)++] = ':';
			if (cli_option_optional(o))
				shorts[(*sn)++] = ':';
		}
	}
}

/* What one parse is about: the tables, and what to do with each option. */
struct parse {
	const struct cli_option *tables[6];
	bool global;        /* before the command: stop at the first operand */
	const struct cli_spec *spec; /* the command's, for its --help */
	void (*help)(FILE *out);     /* else this prints --help */
	void (*version)(void);
	cli_handler handler;
	void *state;
};

int cli_set_max_lag(struct cli_ctx *ctx, const char *arg, const char *what)
{
	double s;

	if (cli_parse_duration(arg, &s) < 0)
		return cli_usage(ctx, "%s: invalid duration '%s' (try 10s, "
				      "500ms, 2m)", what, arg);
	ctx->max_lag_s = s;
	ctx->max_lag = arg;
	return -1;
}

static int set_actor(struct cli_ctx *ctx, const char *arg)
{
	char why_buf[64];
	const char *why = cli_actor_problem(arg, why_buf, sizeof(why_buf));

	if (why)
		return cli_usage(ctx, "--actor: %s", why);
	ctx->actor = arg;
	return 0;
}

#define NOT_COMMON (-2)

/*
 * One option getopt_long returned, if it is a common one (help, version,
 * --list-commands, -d, -v, --no-pager, --log-format, --actor, or an
 * error): -1 to go on, an exit status to stop, or NOT_COMMON for the
 * command's handler.
 */
static int take_common(struct cli_ctx *ctx, const struct parse *p, int c,
		       char **argv)
{
	size_t t;
	int rc;

	switch (c) {
	case 'h':
		if (p->spec)
			cli_print_help(ctx, p->spec, stdout);
		else if (p->help)
			p->help(stdout);
		return 0;
	case 'V':
		if (!p->version)
			return NOT_COMMON;
		p->version();
		return 0;
	case OPT_LIST_COMMANDS:
		if (!p->global)
			return NOT_COMMON;
		for (t = 0; t < cli_ncommands; t++)
			if (!(cli_commands[t].flags & CLI_HIDDEN))
				puts(cli_commands[t].name);
		return 0;
	case 'd':
		if (!p->global && !(ctx->cmd && ctx->cmd->flags & CLI_DB))
			return NOT_COMMON;
		ctx->dsn = optarg;
		return -1;
	case OPT_READ_DSN:
		if (!p->global && !(ctx->cmd && ctx->cmd->flags & CLI_READ))
			return NOT_COMMON;
		ctx->read_dsn = optarg;
		return -1;
	case OPT_MAX_LAG:
		if (!p->global && !(ctx->cmd && ctx->cmd->flags & CLI_READ))
			return NOT_COMMON;
		return cli_set_max_lag(ctx, optarg, "--max-lag");
	case 'v':
		ctx->verbose++;
		return -1;
	case OPT_NO_PAGER:
		ctx->no_pager = true;
		return -1;
	case OPT_LOG_FORMAT:
		if (cli_set_log_format(optarg) < 0)
			return cli_usage(ctx, "--log-format must be auto, plain, "
					      "stamped or json, not '%s'",
					 optarg);
		return -1;
	case OPT_ACTOR:
		rc = set_actor(ctx, optarg);
		return rc ? rc : -1;
	case ':':
		return cli_usage(ctx, "option '%s' needs a value",
				 argv[optind - 1]);
	case '?':
		if (optopt)
			return cli_usage(ctx, "unknown option '-%c'", optopt);
		return cli_usage(ctx, "unknown option '%s'", argv[optind - 1]);
	}
	return NOT_COMMON;
}

/* getopt_long's tables for p's option tables (lo: calloc'd, NULL on OOM). */
static struct option *getopt_tables(const struct parse *p, char *shorts)
{
	struct option *lo;
	size_t n = 0, sn = 0, total = 1, t;

	for (t = 0; t < 6; t++)
		total += count_options(p->tables[t]);
	lo = calloc(total, sizeof(*lo));
	if (!lo)
		return NULL;
	if (p->global)
		shorts[sn++] = '+'; /* the command name ends the options */
	shorts[sn++] = ':'; /* report a missing argument as ':' */
	for (t = 0; t < 6; t++)
		add_options(p->tables[t], lo, &n, shorts, &sn);
	shorts[sn] = '\0';
	return lo;
}

static int parse_tables(struct cli_ctx *ctx, const struct parse *p,
			int argc, char **argv, int *first_arg)
{
	char shorts[256];
	struct option *lo = getopt_tables(p, shorts);
	int c, rc = -1;

	if (!lo)
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	optind = 0; /* glibc: full reinitialisation */
	opterr = 0;
	while (rc == -1 &&
	       (c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		rc = take_common(ctx, p, c, argv);
		if (rc == NOT_COMMON) {
			rc = p->handler ? p->handler(p->state, c, optarg) : 0;
			if (rc == 0)
				rc = -1;
		}
	}
	if (rc == -1)
		*first_arg = optind;
	free(lo);
	return rc;
}

/*
 * A --log-format anywhere on the command line (before "--") applies to
 * the messages of the parse itself too, even those about an option
 * before it: a bad value is left for the parse to report.
 */
static void prescan_log_format(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc)
			(void)cli_set_log_format(argv[++i]);
		else if (strncmp(argv[i], "--log-format=", 13) == 0)
			(void)cli_set_log_format(argv[i] + 13);
	}
}

int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv, int *first,
		     void (*help)(FILE *out), void (*version)(void))
{
	struct parse p = {
		.tables = { cli_db_options, cli_read_options,
			    cli_actor_options, cli_base_options,
			    cli_version_options, NULL },
		.global = true,
		.help = help,
		.version = version,
	};
	const char *env = getenv("MREG_LOG_FORMAT");

	if (env && *env && cli_set_log_format(env) < 0)
		return cli_usage(ctx, "MREG_LOG_FORMAT must be auto, plain, "
				 "stamped or json, not '%s'", env);
	prescan_log_format(argc, argv);
	return parse_tables(ctx, &p, argc, argv, first);
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv, cli_handler handler, void *state, int *first_arg)
{
	unsigned flags = ctx->cmd ? ctx->cmd->flags : 0;
	struct parse p = {
		.tables = { spec->options,
			    flags & CLI_DB ? cli_db_options : NULL,
			    flags & CLI_READ ? cli_read_options : NULL,
			    flags & CLI_ACTOR ? cli_actor_options : NULL,
			    cli_base_options, NULL },
		.spec = spec,
		.handler = handler,
		.state = state,
	};
	char why_buf[64];
	const char *why, *env;
	int rc, nargs;

	cli_json_prescan(ctx, p.tables, 6, argc, argv);
	cli_set_log_command(ctx->command);
	rc = parse_tables(ctx, &p, argc, argv, first_arg);
	if (rc >= 0)
		return rc;
	/* the operands, as the command table says */
	nargs = argc - *first_arg;
	if (ctx->cmd && ctx->cmd->spec == spec) {
		const char *m = ctx->cmd->missing ? ctx->cmd->missing
						  : "missing operand";
		const char *bar = strchr(m, '|');

		if (nargs < ctx->cmd->min_args)
			return cli_usage(ctx, "%.*s",
					 bar ? (int)(bar - m) : (int)strlen(m),
					 m);
		if (ctx->cmd->max_args >= 0 && nargs > ctx->cmd->max_args)
			return cli_usage(ctx, "unexpected argument '%s'%s%s%s",
					 argv[*first_arg + ctx->cmd->max_args],
					 bar ? " (" : "", bar ? bar + 1 : "",
					 bar ? ")" : "");
	}
	/* the environment's actor is checked where an actor is recorded */
	env = getenv("MREG_ACTOR");
	if ((flags & CLI_ACTOR) && !(ctx->actor && *ctx->actor) && env &&
	    *env && (why = cli_actor_problem(env, why_buf, sizeof(why_buf))))
		return cli_usage(ctx, "MREG_ACTOR: %s", why);
	return -1;
}

/* --verbose: each statement (from any thread: one line, one write). */
static void on_statement(void *arg, const struct mreg_db_stmt *st)
{
	char name[160], rows[48] = "";

	mreg_db_stmt_name(st, name, sizeof(name));
	if (st->rows >= 0)
		snprintf(rows, sizeof(rows), ", %ld row%s", st->rows,
			 st->rows == 1 ? "" : "s");
	if (st->sqlstate)
		cli_verbose(arg, "statement %s: %.3f ms, failed (SQLSTATE %s)",
			    name, st->ms, st->sqlstate);
	else
		cli_verbose(arg, "statement %s: %.3f ms%s", name, st->ms,
			    rows);
}

static void on_connected(void *arg, const char *host, const char *port,
			 const char *dbname)
{
	cli_verbose(arg, "connected to host \"%s\" port %s database \"%s\"",
		    host ? host : "", port ? port : "", dbname ? dbname : "");
}

/*
 * A command that only reads, given a read DSN: a pool to it, unless the
 * server there replays more than --max-lag behind (then NULL, and the
 * caller reads from the primary).  The lag is measured once, on the
 * pool's first connection, before the command reads anything.
 */
static struct mreg_pool *read_pool(struct cli_ctx *ctx,
				   struct mreg_pool_config *cfg,
				   struct mreg_error *err)
{
	struct mreg_pool_config rc = *cfg;
	struct mreg_replica_state st;
	struct mreg_pool *pool;
	struct mreg_conn *conn;

	/* the caller tells a fallback (NULL, err clear) from a failure */
	mreg_error_clear(err);
	rc.dsn = ctx->read_dsn;
	if (!(pool = mreg_pool_create(&rc, err)))
		return NULL;
	cli_verbose(ctx, "reading from %s (pool of %d, %s)",
		    mreg_pool_dsn_redacted(pool), rc.max_size,
		    mreg_pool_timeout_text(pool));
	if (ctx->max_lag_s < 0)
		return pool;
	if (!(conn = mreg_pool_acquire(pool, err)) ||
	    mreg_replica_state(conn, &st, err) < 0) {
		if (conn)
			mreg_pool_release(pool, conn);
		mreg_pool_destroy(pool);
		return NULL;
	}
	mreg_pool_release(pool, conn);
	if (!st.standby || (st.lag_s >= 0 && st.lag_s <= ctx->max_lag_s)) {
		cli_verbose(ctx, "%s, replay lag %.3f s (--max-lag %s)",
			    st.standby ? "a standby" : "not a standby",
			    st.lag_s, ctx->max_lag);
		return pool;
	}
	mreg_pool_destroy(pool);
	if (st.lag_s < 0)
		cli_verbose(ctx, "the standby's replay lag is unknown (nothing "
			    "replayed yet): reading from the primary");
	else
		cli_verbose(ctx, "the standby replays %.3f s behind, over "
			    "--max-lag %s: reading from the primary",
			    st.lag_s, ctx->max_lag);
	return NULL;
}

struct mreg_pool *cli_pool_config(struct cli_ctx *ctx,
				  struct mreg_pool_config *cfg,
				  struct mreg_error *err)
{
	if (ctx->pool)
		return ctx->pool;
	if (!cfg->application_name)
		cfg->application_name = ctx->appname;
	if (ctx->verbose) {
		struct mreg_db_trace t = { on_statement, on_connected, ctx };

		mreg_db_set_trace(&t);
	}
	if (ctx->read_dsn && ctx->cmd && ctx->cmd->flags & CLI_READ) {
		ctx->pool = read_pool(ctx, cfg, err);
		if (ctx->pool || err->message[0])
			return ctx->pool;
	}
	if (!cfg->dsn)
		cfg->dsn = ctx->dsn;
	ctx->pool = mreg_pool_create(cfg, err);
	if (ctx->pool)
		cli_verbose(ctx, "connecting to %s (pool of %d, %s)",
			    mreg_pool_dsn_redacted(ctx->pool), cfg->max_size,
			    mreg_pool_timeout_text(ctx->pool));
	return ctx->pool;
}

struct mreg_pool *cli_pool(struct cli_ctx *ctx, int max_size,
			   struct mreg_error *err)
{
	struct mreg_pool_config cfg = { .max_size = max_size };

	return cli_pool_config(ctx, &cfg, err);
}

const char *cli_actor_problem(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), i;

	if (n > CLI_ACTOR_MAX) {
		snprintf(buf, len, "too long (%zu bytes, at most %d)", n,
			 CLI_ACTOR_MAX);
		return buf;
	}
	if (!mreg_utf8_valid(s, n))
		return "not valid UTF-8";
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

const char *cli_actor(const struct cli_ctx *ctx)
{
	static char user[256];
	struct passwd pw, *res = NULL;
	char buf[1024];
	const char *env;

	if (ctx->actor && *ctx->actor)
		return ctx->actor;
	env = getenv("MREG_ACTOR");
	if (env && *env)
		return env;
	if (!user[0]) {
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
		    res)
			snprintf(user, sizeof(user), "%s", res->pw_name);
		else
			snprintf(user, sizeof(user), "uid:%ld",
				 (long)getuid());
	}
	return user;
}

int cli_finish(struct cli_ctx *ctx, int status)
{
	if (ctx->pool && ctx->verbose) {
		struct mreg_pool_stats s;

		mreg_pool_get_stats(ctx->pool, &s);
		cli_verbose(ctx,
			    "pool: size %d, created %lu, closed %lu, acquires "
			    "%lu, waits %lu (total %.1f ms, max %.1f ms), "
			    "timeouts %lu, broken %lu, probes %lu, connect "
			    "failures %lu",
			    s.max_size, s.created, s.closed,
			    s.acquires, s.waits, s.wait_total_ms,
			    s.wait_max_ms, s.timeouts, s.broken, s.probes,
			    s.connect_failures);
	}
	mreg_pool_destroy(ctx->pool);
	ctx->pool = NULL;
	mreg_db_set_trace(NULL);
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		char buf[128];

		if (errno == EPIPE)
			return status;
		/* a command that failed has said why (often this very write
		 * error, from its output writer): once is enough */
		if (status)
			return status;
		cli_fail(ctx, 0, "could not write to standard output: %s",
			 mreg_strerror(errno ? errno : EIO, buf, sizeof(buf)));
		return MREG_EXIT_FAILURE;
	}
	return status;
}

int cli_parse_report_format(const struct cli_ctx *ctx, const char *arg,
			    const char *human, bool *json)
{
	/* "table", the old name of some summaries' text, stays a synonym */
	if (strcmp(arg, "json") == 0 || strcmp(arg, human) == 0 ||
	    strcmp(arg, "text") == 0 || strcmp(arg, "table") == 0) {
		*json = strcmp(arg, "json") == 0;
		return 0;
	}
	return cli_usage(ctx, "--format must be text or json, not '%s'", arg);
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_duration(const char *s, double *seconds)
{
	char *end;
	double v, scale = 1.0;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		scale = 0.001;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		scale = 1.0;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		scale = 60.0;
	else if (strcmp(end, "h") == 0)
		scale = 3600.0;
	else
		return -1;
	*seconds = v * scale;
	return 0;
}

bool cli_isatty(FILE *f)
{
	return isatty(fileno(f)) == 1;
}
