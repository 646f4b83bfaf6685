/* messages.c - what mreg tells people on stderr (and cli_printf on stdout) */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "json-errors.h"

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
	char name[80];

	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n",
		who(ctx, name, sizeof(name)));
	va_start(ap, fmt);
	note_usage(ctx, fmt, ap);
	va_end(ap);
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
	note_report(err);
	return err->status ? err->status : MREG_EXIT_FAILURE;
}

int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(ctx, "", fmt, ap);
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
	put_msg(ctx, "warning: ", fmt, ap);
	va_end(ap);
	cli_json_note_other();
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
