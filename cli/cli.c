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
};

static const struct cli_option db_options[] = {
	{ 'd', 'd', "dsn", "CONNINFO",
	  "libpq connection string or URI (default: $MREG_DSN, then libpq's "
	  "PG* environment)" },
	CLI_END,
};
static const struct cli_option actor_options[] = {
	{ OPT_ACTOR, 0, "actor", "NAME",
	  "name recorded in the audit log (default: $MREG_ACTOR, then the OS "
	  "user)" },
	CLI_END,
};
static const struct cli_option base_options[] = {
	{ 'v', 'v', "verbose", NULL,
	  "print connection and pool details to stderr" },
	{ 'h', 'h', "help", NULL, "show this help and exit" },
	CLI_END,
};

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

static void print_table(FILE *out, const struct cli_option *o, bool heading)
{
	if (heading && o->id != 0)
		fputs("\nOptions:\n", out);
	for (; o->id || o->help; o++) {
		if (!o->longopt) {
			fprintf(out, "\n%s\n", o->help);
			continue;
		}
		print_option(out, o);
	}
}

void cli_print_help(const struct cli_ctx *ctx, const struct cli_spec *spec,
		    FILE *out)
{
	const char *u = spec->usage, *nl;
	bool first = true;

	fprintf(out, "%s\n\n", spec->description);
	while (u && *u) {
		nl = strchr(u, '\n');
		fprintf(out, "%s mreg %s %.*s\n", first ? "Usage:" : "   or:",
			ctx->command, nl ? (int)(nl - u) : (int)strlen(u), u);
		first = false;
		u = nl ? nl + 1 : u + strlen(u);
	}
	if (spec->options && (spec->options->id || spec->options->help))
		print_table(out, spec->options, true);
	fputs("\nCommon options:\n", out);
	if (spec->flags & CLI_DB)
		print_table(out, db_options, false);
	if (spec->flags & CLI_ACTOR)
		print_table(out, actor_options, false);
	print_table(out, base_options, false);
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

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv, cli_handler handler, void *state, int *first_arg)
{
	struct option *lo;
	char shorts[256], why_buf[64];
	const char *why, *env;
	size_t n = 0, sn = 0, total;
	int c, rc = -1;

	total = count_options(spec->options) + count_options(db_options) +
		count_options(actor_options) + count_options(base_options) + 1;
	lo = calloc(total, sizeof(*lo));
	if (!lo)
		return cli_fail(ctx, MREG_EXIT_FAILURE, "out of memory");
	shorts[sn++] = ':'; /* report a missing argument as ':' */
	add_options(spec->options, lo, &n, shorts, &sn);
	if (spec->flags & CLI_DB)
		add_options(db_options, lo, &n, shorts, &sn);
	if (spec->flags & CLI_ACTOR)
		add_options(actor_options, lo, &n, shorts, &sn);
	add_options(base_options, lo, &n, shorts, &sn);
	shorts[sn] = '\0';

	optind = 0; /* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_print_help(ctx, spec, stdout);
			rc = 0;
			goto done;
		case 'd':
			if (!(spec->flags & CLI_DB))
				goto call;
			ctx->dsn = optarg;
			break;
		case 'v':
			ctx->verbose++;
			break;
		case OPT_ACTOR:
			if ((why = cli_actor_problem(optarg, why_buf,
						     sizeof(why_buf)))) {
				rc = cli_usage(ctx, "--actor: %s", why);
				goto done;
			}
			ctx->actor = optarg;
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
			rc = handler ? handler(state, c, optarg) : 0;
			if (rc != 0)
				goto done;
			rc = -1;
		}
	}
	*first_arg = optind;
	rc = -1;
	/* the environment's actor is checked where an actor is recorded */
	env = getenv("MREG_ACTOR");
	if ((spec->flags & CLI_ACTOR) && !(ctx->actor && *ctx->actor) && env &&
	    *env && (why = cli_actor_problem(env, why_buf, sizeof(why_buf))))
		rc = cli_usage(ctx, "MREG_ACTOR: %s", why);
done:
	free(lo);
	return rc;
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

static void put_msg(const struct cli_ctx *ctx, const char *what,
		    const char *fmt, va_list ap)
{
	char prefix[96], *text = vformat(fmt, ap);

	snprintf(prefix, sizeof(prefix), "mreg %s: %s", ctx->command, what);
	put_line(stderr, prefix, text);
	free(text);
}

int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'mreg %s --help' for more information.\n",
		ctx->command);
	return MREG_EXIT_USAGE;
}

int cli_report(const struct cli_ctx *ctx, const struct mreg_error *err)
{
	struct line l = { 0 };
	char num[32];

	line_str(&l, "mreg ");
	line_str(&l, ctx->command);
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

		mreg_pool_get_stats(ctx->pool, &s);
		fprintf(stderr,
			"mreg %s: pool: size %d, created %lu, closed %lu, "
			"acquires %lu, waits %lu (total %.1f ms, max %.1f ms), "
			"timeouts %lu, broken %lu, probes %lu, connect "
			"failures %lu\n",
			ctx->command, s.max_size, s.created, s.closed,
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

int cli_parse_format(const char *s, enum cli_format *out)
{
	static const struct { const char *name; enum cli_format f; } names[] = {
		{ "table", CLI_FORMAT_TABLE }, { "json", CLI_FORMAT_JSON },
		{ "ndjson", CLI_FORMAT_NDJSON }, { "csv", CLI_FORMAT_CSV },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -1;
}

bool cli_isatty(FILE *f)
{
	return isatty(fileno(f)) == 1;
}
