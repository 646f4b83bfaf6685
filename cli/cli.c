/* cli.c - option parsing, help, reporting and finishing for subcommands */
#include "cli.h"
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

enum {
	OPT_ACTOR = 1000,
	OPT_LIST_COMMANDS,
};

const struct cli_option cli_db_options[] = {
	{ 'd', 'd', "dsn", "CONNINFO",
	  "libpq connection string or URI (default: $MREG_DSN, then libpq's "
	  "PG* environment)" },
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
	  "print connection and pool details to stderr" },
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
	  "of the same source)." },
	{ MREG_EXIT_PENDING, "MREG_EXIT_PENDING",
	  "pending work (migrate status --exit-code)",
	  "Pending work: *mreg migrate status --exit-code* found migrations to "
	  "apply." },
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

#define HELP_COL 26
#define HELP_WIDTH 79

static void print_wrapped(FILE *out, const char *text, int col)
{
	int pos = col;
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (pos > col && pos + 1 + (int)word > HELP_WIDTH) {
			fprintf(out, "\n%*s", col, "");
			pos = col;
		} else if (pos > col) {
			fputc(' ', out);
			pos++;
		}
		fwrite(p, 1, word, out);
		pos += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void print_option(FILE *out, const struct cli_option *o)
{
	char left[96];
	int n;

	if (o->shortopt)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->shortopt,
			     o->longopt);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->longopt);
	if (o->arg && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg);
	fputs(left, out);
	n = (int)strlen(left);
	if (n + 2 > HELP_COL) {
		fprintf(out, "\n%*s", HELP_COL, "");
	} else {
		fprintf(out, "%*s", HELP_COL - n, "");
	}
	print_wrapped(out, o->help, HELP_COL);
}

void cli_print_options(FILE *out, const struct cli_option *o)
{
	for (; o && (o->id || o->help); o++) {
		if (!o->longopt) {
			fprintf(out, "\n%s\n", o->help);
			continue;
		}
		if (o->help)
			print_option(out, o);
	}
}

void cli_print_help(const struct cli_ctx *ctx, const struct cli_spec *spec,
		    FILE *out)
{
	const char *u = spec->usage, *nl;
	unsigned flags = ctx->cmd ? ctx->cmd->flags : 0;
	bool first = true;

	fprintf(out, "%s\n\n", spec->description);
	while (u && *u) {
		nl = strchr(u, '\n');
		fprintf(out, "%s mreg %s %.*s\n", first ? "Usage:" : "   or:",
			ctx->command, nl ? (int)(nl - u) : (int)strlen(u), u);
		first = false;
		u = nl ? nl + 1 : u + strlen(u);
	}
	if (spec->options && (spec->options->id || spec->options->help)) {
		if (spec->options->id != 0)
			fputs("\nOptions:\n", out);
		cli_print_options(out, spec->options);
	}
	fputs("\nCommon options:\n", out);
	if (flags & CLI_DB)
		cli_print_options(out, cli_db_options);
	if (flags & CLI_ACTOR)
		cli_print_options(out, cli_actor_options);
	cli_print_options(out, cli_base_options);
	if (spec->epilogue)
		fprintf(out, "\n%s\n", spec->epilogue);
	fprintf(out, "\nSee mreg-%s(1) for details and exit codes.\n",
		ctx->command);
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
		lo[*n].has_arg = o->arg ? required_argument : no_argument;
		lo[*n].flag = NULL;
		lo[*n].val = o->id;
		(*n)++;
		if (o->shortopt) {
			shorts[(*sn)++] = o->shortopt;
			if (o->arg)
				shorts[(*sn)++] = ':';
		}
	}
}

/* What one parse is about: the tables, and what to do with each option. */
struct parse {
	const struct cli_option *tables[5];
	bool global;        /* before the command: stop at the first operand */
	const struct cli_spec *spec; /* the command's, for its --help */
	void (*help)(FILE *out);     /* else this prints --help */
	void (*version)(void);
	cli_handler handler;
	void *state;
};

static int set_actor(struct cli_ctx *ctx, const char *arg)
{
	char why_buf[64];
	const char *why = cli_actor_problem(arg, why_buf, sizeof(why_buf));

	if (why)
		return cli_usage(ctx, "--actor: %s", why);
	ctx->actor = arg;
	return 0;
}

static int parse_tables(struct cli_ctx *ctx, const struct parse *p,
			int argc, char **argv, int *first_arg)
{
	struct option *lo;
	char shorts[256];
	size_t n = 0, sn = 0, total = 1, t;
	int c, rc = -1;

	for (t = 0; t < 5; t++)
		total += count_options(p->tables[t]);
	lo = calloc(total, sizeof(*lo));
	if (!lo)
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	if (p->global)
		shorts[sn++] = '+'; /* the command name ends the options */
	shorts[sn++] = ':'; /* report a missing argument as ':' */
	for (t = 0; t < 5; t++)
		add_options(p->tables[t], lo, &n, shorts, &sn);
	shorts[sn] = '\0';

	optind = 0; /* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			if (p->spec)
				cli_print_help(ctx, p->spec, stdout);
			else if (p->help)
				p->help(stdout);
			rc = 0;
			goto done;
		case 'V':
			if (!p->version)
				goto call;
			p->version();
			rc = 0;
			goto done;
		case OPT_LIST_COMMANDS:
			if (!p->global)
				goto call;
			for (t = 0; t < cli_ncommands; t++)
				if (!(cli_commands[t].flags & CLI_HIDDEN))
					puts(cli_commands[t].name);
			rc = 0;
			goto done;
		case 'd':
			if (!p->global && !(ctx->cmd && ctx->cmd->flags & CLI_DB))
				goto call;
			ctx->dsn = optarg;
			break;
		case 'v':
			ctx->verbose++;
			break;
		case OPT_ACTOR:
			if ((rc = set_actor(ctx, optarg)) != 0)
				goto done;
			rc = -1;
			break;
		case ':':
			rc = cli_usage(ctx, "option '%s' needs a value",
				       argv[optind - 1]);
			goto done;
		case '?':
			if (optopt)
				rc = cli_usage(ctx, "unknown option '-%c'",
					       optopt);
			else
				rc = cli_usage(ctx, "unknown option '%s'",
					       argv[optind - 1]);
			goto done;
		default:
call:
			rc = p->handler ? p->handler(p->state, c, optarg) : 0;
			if (rc != 0)
				goto done;
			rc = -1;
		}
	}
	*first_arg = optind;
done:
	free(lo);
	return rc;
}

int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv, int *first,
		     void (*help)(FILE *out), void (*version)(void))
{
	struct parse p = {
		.tables = { cli_db_options, cli_actor_options,
			    cli_base_options, cli_version_options, NULL },
		.global = true,
		.help = help,
		.version = version,
	};

	return parse_tables(ctx, &p, argc, argv, first);
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv, cli_handler handler, void *state, int *first_arg)
{
	unsigned flags = ctx->cmd ? ctx->cmd->flags : 0;
	struct parse p = {
		.tables = { spec->options,
			    flags & CLI_DB ? cli_db_options : NULL,
			    flags & CLI_ACTOR ? cli_actor_options : NULL,
			    cli_base_options, NULL },
		.spec = spec,
		.handler = handler,
		.state = state,
	};
	char why_buf[64];
	const char *why, *env;
	int rc, nargs;

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

/* ---- printing text people read ------------------------------------------
 *
 * Every message goes out through put_line(): its text is escaped
 * (common/escape.h), so a file name, a model name or a server message can
 * neither drive the terminal nor forge a line.  The fixed parts of the
 * messages are printable ASCII without backslashes, so escaping the whole
 * formatted text escapes exactly what came from outside.  Callers pass
 * text raw, never escaped already.
 */

/* fmt formatted into a malloc'd string; NULL if out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	char small[512], *big;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return strdup("(unprintable message)");
	if ((size_t)n < sizeof(small))
		return strdup(small);
	big = malloc((size_t)n + 1);
	if (big)
		vsnprintf(big, (size_t)n + 1, fmt, ap);
	return big;
}

struct line {
	char *p;
	size_t len, cap;
	bool oom;
};

static void line_add(struct line *l, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (l->oom)
		return;
	if (l->len + n + 1 > l->cap) {
		ncap = l->cap ? l->cap * 2 : 256;
		while (ncap < l->len + n + 1)
			ncap *= 2;
		np = realloc(l->p, ncap);
		if (!np) {
			l->oom = true;
			return;
		}
		l->p = np;
		l->cap = ncap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void line_str(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/* Append text escaped. */
static void line_esc(struct line *l, const char *text, unsigned flags)
{
	char *e = mreg_escape(text, strlen(text), flags, NULL);

	if (!e) {
		l->oom = true;
		return;
	}
	line_str(l, e);
	free(e);
}

/* Write the line (plus a newline) in one go, and free it. */
static int line_put(FILE *f, struct line *l)
{
	int rc = 0;

	line_add(l, "\n", 1);
	if (l->oom) {
		fputs("mreg: out of memory\n", f);
		rc = -1;
	} else if (fwrite(l->p, 1, l->len, f) != l->len) {
		rc = -1;
	}
	free(l->p);
	l->p = NULL;
	return rc;
}

/* prefix (trusted) and the escaped text on one line. */
static void put_line(FILE *f, const char *prefix, const char *text)
{
	struct line l = { 0 };

	line_str(&l, prefix);
	line_esc(&l, text ? text : "(out of memory)", 0);
	line_put(f, &l);
}

/* "mreg <command>", or "mreg" before a command. */
static const char *who(const struct cli_ctx *ctx, char *buf, size_t len)
{
	if (!ctx->command || !ctx->command[0])
		return "mreg";
	snprintf(buf, len, "mreg %s", ctx->command);
	return buf;
}

static void put_msg(const struct cli_ctx *ctx, const char *what,
		    const char *fmt, va_list ap)
{
	char prefix[96], name[80], *text = vformat(fmt, ap);

	snprintf(prefix, sizeof(prefix), "%s: %s",
		 who(ctx, name, sizeof(name)), what);
	put_line(stderr, prefix, text);
	free(text);
}

int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char name[80];

	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n",
		who(ctx, name, sizeof(name)));
	return MREG_EXIT_USAGE;
}

int cli_report(const struct cli_ctx *ctx, const struct mreg_error *err)
{
	struct line l = { 0 };
	char num[32], name[80];

	line_str(&l, who(ctx, name, sizeof(name)));
	line_str(&l, ": ");
	if (err->path[0]) {
		line_esc(&l, err->path, 0);
		if (err->line > 0) {
			snprintf(num, sizeof(num), ":%ld", err->line);
			line_str(&l, num);
		}
		if (err->column > 0) {
			snprintf(num, sizeof(num), ":%ld", err->column);
			line_str(&l, num);
		}
		line_str(&l, ": ");
	}
	line_esc(&l, err->message[0] ? err->message : "unknown error", 0);
	if (ctx->verbose && err->sqlstate[0]) {
		line_str(&l, " (SQLSTATE ");
		line_esc(&l, err->sqlstate, 0);
		line_str(&l, ")");
	}
	line_put(stderr, &l);
	if (err->detail[0])
		put_line(stderr, "DETAIL: ", err->detail);
	if (err->hint[0])
		put_line(stderr, "HINT: ", err->hint);
	return err->status ? err->status : MREG_EXIT_FAILURE;
}

int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
	va_end(ap);
	return status;
}

void cli_warn(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, "warning: ", fmt, ap);
	va_end(ap);
}

void cli_verbose(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
	va_end(ap);
}

void cli_hint(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	put_line(stderr, "HINT: ", text);
	free(text);
}

int cli_printf(FILE *out, const char *fmt, ...)
{
	struct line l = { 0 };
	va_list ap;
	char *text;
	size_t n;
	bool nl;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	if (!text)
		return -1;
	n = strlen(text);
	nl = n > 0 && text[n - 1] == '\n';
	if (nl)
		text[n - 1] = '\0';
	line_esc(&l, text, 0);
	free(text);
	if (nl)
		return line_put(out, &l);
	if (!l.oom && fwrite(l.p, 1, l.len, out) != l.len)
		l.oom = true;
	free(l.p);
	return l.oom ? -1 : 0;
}

struct mreg_pool *cli_pool_config(struct cli_ctx *ctx,
				  struct mreg_pool_config *cfg,
				  struct mreg_error *err)
{
	if (ctx->pool)
		return ctx->pool;
	if (!cfg->dsn)
		cfg->dsn = ctx->dsn;
	if (!cfg->application_name)
		cfg->application_name = ctx->appname;
	ctx->pool = mreg_pool_create(cfg, err);
	if (ctx->pool)
		cli_verbose(ctx, "connecting to %s (pool of %d)",
			    mreg_pool_dsn_redacted(ctx->pool), cfg->max_size);
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
		char name[80];

		mreg_pool_get_stats(ctx->pool, &s);
		fprintf(stderr,
			"%s: pool: size %d, created %lu, closed %lu, "
			"acquires %lu, waits %lu (total %.1f ms, max %.1f ms), "
			"timeouts %lu, broken %lu, probes %lu, connect "
			"failures %lu\n",
			who(ctx, name, sizeof(name)), s.max_size, s.created, s.closed,
			s.acquires, s.waits, s.wait_total_ms, s.wait_max_ms,
			s.timeouts, s.broken, s.probes, s.connect_failures);
	}
	mreg_pool_destroy(ctx->pool);
	ctx->pool = NULL;
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
	if (strcmp(arg, "json") == 0 || strcmp(arg, human) == 0) {
		*json = arg[0] == 'j';
		return 0;
	}
	return cli_usage(ctx, "--format must be %s or json, not '%s'", human,
			 arg);
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
