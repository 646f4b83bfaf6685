/* messages.c - what mreg tells people on stderr (and cli_printf on stdout) */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "escape.h"
#include "strbuf.h"
#include "json-errors.h"
#include "utf8.h"

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

/* ---- the log line layer ---------------------------------------------------
 *
 * Every line mreg writes on stderr for people (messages, DETAIL, HINT,
 * warnings, verbose lines, progress in a log) is one call of emit(), in
 * the form --log-format chose:
 *   plain    mreg list: could not connect ...
 *   stamped  2026-12-01T12:04:51.886Z mreg list: could not connect ...
 *   json     {"ts":"2026-12-01T12:04:51.886Z","level":"error",
 *             "command":"list","message":"could not connect ..."}
 * A line is built twice as it grows: escaped (for plain and stamped) and
 * raw (for json, where it is JSON-escaped instead; text that is not
 * valid UTF-8 is written escaped there too).  Each line goes out in one
 * write under stderr's lock, so lines of threads never mix, and a live
 * progress line on the terminal (cli_live_line) is cleared first.
 */

struct line {
	struct mreg_strbuf esc, raw;
	bool oom;
	const char *sqlstate; /* json only: an extra "sqlstate" key */
};

enum level { L_ERROR, L_WARNING, L_HINT, L_DETAIL, L_INFO, L_VERBOSE };
static const char *const level_names[] = {
	"error", "warning", "hint", "detail", "info", "verbose",
};

static enum cli_log_format log_format = CLI_LOG_AUTO;
static const char *log_command = "";
static bool live_shown; /* under stderr's lock */

static void line_add(struct line *l, const char *s, size_t n)
{
	if (!l->oom && (!mreg_strbuf_add(&l->esc, s, n) || !mreg_strbuf_add(&l->raw, s, n)))
		l->oom = true;
}

static void line_str(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/* Append text from outside: escaped, and raw for json. */
static void line_esc(struct line *l, const char *text, unsigned flags)
{
	char *e = mreg_escape(text, strlen(text), flags, NULL);

	if (!e || l->oom || !mreg_strbuf_add(&l->esc, e, strlen(e)) ||
	    !mreg_strbuf_add(&l->raw, text, strlen(text)))
		l->oom = true;
	free(e);
}

static void line_free(struct line *l)
{
	free(l->esc.p);
	free(l->raw.p);
	memset(l, 0, sizeof(*l));
}

int cli_set_log_format(const char *s)
{
	static const char *const names[] = { "auto", "plain", "stamped",
					     "json" };
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			log_format = (enum cli_log_format)i;
			return 0;
		}
	}
	return -1;
}

void cli_set_log_command(const char *command)
{
	log_command = command ? command : "";
}

enum cli_log_format cli_log_format(void)
{
	if (log_format == CLI_LOG_AUTO)
		return cli_isatty(stderr) ? CLI_LOG_PLAIN : CLI_LOG_STAMPED;
	return log_format;
}

/* "2026-12-01T12:04:51.886Z" */
static void timestamp(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
	snprintf(out, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000L);
}

/* s as a JSON string (quotes included); s is valid UTF-8. */
static bool json_str(struct mreg_strbuf *b, const char *s)
{
	char u[8];
	bool ok = mreg_strbuf_add(b, "\"", 1);

	for (; ok && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			ok = mreg_strbuf_add(b, "\\", 1) && mreg_strbuf_add(b, s, 1);
		} else if (c == '\n') {
			ok = mreg_strbuf_add(b, "\\n", 2);
		} else if (c == '\t') {
			ok = mreg_strbuf_add(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			ok = mreg_strbuf_add(b, u, 6);
		} else {
			ok = mreg_strbuf_add(b, s, 1);
		}
	}
	return ok && mreg_strbuf_add(b, "\"", 1);
}

/* One json log line for body at level (newline included). */
static bool json_line(struct mreg_strbuf *o, enum level lv, const char *ts,
		      const struct line *body)
{
	const char *msg = mreg_utf8_valid(body->raw.p, body->raw.len)
				  ? body->raw.p : body->esc.p;
	bool ok = mreg_strbuf_add(o, "{\"ts\":", 6) && json_str(o, ts) &&
		  mreg_strbuf_add(o, ",\"level\":", 9) &&
		  json_str(o, level_names[lv]) &&
		  mreg_strbuf_add(o, ",\"command\":", 11);

	if (ok && log_command[0])
		ok = json_str(o, log_command);
	else if (ok)
		ok = mreg_strbuf_add(o, "null", 4);
	ok = ok && mreg_strbuf_add(o, ",\"message\":", 11) && json_str(o, msg);
	if (ok && body->sqlstate && body->sqlstate[0] &&
	    mreg_utf8_valid(body->sqlstate, strlen(body->sqlstate)))
		ok = mreg_strbuf_add(o, ",\"sqlstate\":", 12) &&
		     json_str(o, body->sqlstate);
	return ok && mreg_strbuf_add(o, "}\n", 2);
}

/*
 * Write body as one line at level: prefix (trusted text: "mreg list: ",
 * "DETAIL: ") before it in plain and stamped form.  Frees body.
 */
static int emit(enum level lv, const char *prefix, struct line *body)
{
	enum cli_log_format fmt = cli_log_format();
	struct mreg_strbuf o = { 0 };
	char ts[40];
	bool ok;
	int rc = 0;

	if (!body->esc.p)
		line_str(body, "");
	timestamp(ts, sizeof(ts));
	if (body->oom)
		ok = false;
	else if (fmt == CLI_LOG_JSON)
		ok = json_line(&o, lv, ts, body);
	else
		ok = (fmt != CLI_LOG_STAMPED ||
		      (mreg_strbuf_add(&o, ts, strlen(ts)) && mreg_strbuf_add(&o, " ", 1))) &&
		     mreg_strbuf_add(&o, prefix, strlen(prefix)) &&
		     mreg_strbuf_add(&o, body->esc.p, body->esc.len) &&
		     mreg_strbuf_add(&o, "\n", 1);
	flockfile(stderr);
	if (live_shown) {
		fputs("\r\033[K", stderr);
		live_shown = false;
	}
	if (!ok)
		fputs("mreg: out of memory\n", stderr);
	if (!ok || fwrite(o.p, 1, o.len, stderr) != o.len)
		rc = -1;
	funlockfile(stderr);
	free(o.p);
	line_free(body);
	return rc;
}

/* prefix (trusted) and the escaped text on one line. */
static void put_line(enum level lv, const char *prefix, const char *text)
{
	struct line l = { 0 };

	line_esc(&l, text ? text : "(out of memory)", 0);
	emit(lv, prefix, &l);
}

/* Columns of the terminal on stderr, or 0 if unknown. */
static size_t term_columns(void)
{
	struct winsize ws;

	if (ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

void cli_live_line(const char *text)
{
	size_t cols = text ? term_columns() : 0, n;
	char *e = text ? mreg_escape(text, strlen(text), 0, NULL) : NULL;

	flockfile(stderr);
	if (e) {
		/* one row, or \r would go back to the start of the last one
		 * (the text is ASCII: a byte is a column) */
		n = strlen(e);
		if (cols > 1 && n > cols - 1)
			n = cols - 1;
		fputs("\r\033[K", stderr);
		fwrite(e, 1, n, stderr);
		live_shown = true;
	} else if (live_shown) {
		fputs("\r\033[K", stderr);
		live_shown = false;
	}
	fflush(stderr);
	funlockfile(stderr);
	free(e);
}

/* "mreg <command>", or "mreg" before a command. */
static const char *who(const struct cli_ctx *ctx, char *buf, size_t len)
{
	if (!ctx->command || !ctx->command[0])
		return "mreg";
	snprintf(buf, len, "mreg %s", ctx->command);
	return buf;
}

static void put_msg(const struct cli_ctx *ctx, enum level lv,
		    const char *fmt, va_list ap)
{
	char prefix[96], name[80], *text = vformat(fmt, ap);

	snprintf(prefix, sizeof(prefix), "%s: %s",
		 who(ctx, name, sizeof(name)),
		 lv == L_WARNING ? "warning: " : "");
	put_line(lv, prefix, text);
	free(text);
}

/* ---- the same messages as data (cli/json-errors.h) ---------------------- */

static void note_report(const struct mreg_error *err)
{
	struct mreg_error e = *err;

	if (!e.status)
		e.status = MREG_EXIT_FAILURE;
	cli_json_note(&e);
}

static void note_fail(int status, const char *fmt, va_list ap)
{
	struct mreg_error e;

	mreg_error_setv(&e, status, fmt, ap);
	cli_json_note(&e);
}

static void note_usage(const struct cli_ctx *ctx, const char *fmt,
		       va_list ap)
{
	struct mreg_error e;
	char name[80];

	mreg_error_setv(&e, MREG_EXIT_USAGE, fmt, ap);
	mreg_error_hint(&e, "Try '%s --help' for more information.",
			who(ctx, name, sizeof(name)));
	cli_json_note(&e);
}

int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char name[80], try[128];

	va_start(ap, fmt);
	put_msg(ctx, L_ERROR, fmt, ap);
	va_end(ap);
	snprintf(try, sizeof(try), "Try '%s --help' for more information.",
		 who(ctx, name, sizeof(name)));
	put_line(L_HINT, "", try);
	va_start(ap, fmt);
	note_usage(ctx, fmt, ap);
	va_end(ap);
	return MREG_EXIT_USAGE;
}

int cli_report(const struct cli_ctx *ctx, const struct mreg_error *err)
{
	struct line l = { 0 };
	char num[32], name[80], prefix[96];

	snprintf(prefix, sizeof(prefix), "%s: ", who(ctx, name, sizeof(name)));
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
	l.sqlstate = err->sqlstate;
	emit(L_ERROR, prefix, &l);
	if (err->detail[0])
		put_line(L_DETAIL, "DETAIL: ", err->detail);
	if (err->hint[0])
		put_line(L_HINT, "HINT: ", err->hint);
	note_report(err);
	return err->status ? err->status : MREG_EXIT_FAILURE;
}

int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, L_ERROR, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	note_fail(status, fmt, ap);
	va_end(ap);
	return status;
}

void cli_warn(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, L_WARNING, fmt, ap);
	va_end(ap);
	cli_json_note_other();
}

void cli_verbose(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	va_start(ap, fmt);
	put_msg(ctx, L_VERBOSE, fmt, ap);
	va_end(ap);
}

void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, L_INFO, fmt, ap);
	va_end(ap);
}

void cli_log_line(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	put_line(L_INFO, "", text);
	free(text);
}

void cli_hint(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	put_line(L_HINT, "HINT: ", text);
	cli_json_note_hint(text);
	free(text);
}

int cli_printf(FILE *out, const char *fmt, ...)
{
	struct line l = { 0 };
	va_list ap;
	char *text;
	size_t n;
	bool nl;
	int rc = 0;

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
	/* a whole line on stderr is a log line like the others */
	if (nl && out == stderr)
		return emit(L_INFO, "", &l);
	if (nl)
		line_add(&l, "\n", 1);
	if (l.oom || fwrite(l.esc.p, 1, l.esc.len, out) != l.esc.len)
		rc = -1;
	line_free(&l);
	return rc;
}
