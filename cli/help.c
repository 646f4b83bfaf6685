/* help.c - the --help text of mreg and its commands, from the option tables */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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
		snprintf(left + n, sizeof(left) - (size_t)n,
			 cli_option_optional(o) ? "%s" : " %s", o->arg);
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
	if (flags & CLI_READ)
		cli_print_options(out, cli_read_options);
	if (flags & CLI_ACTOR)
		cli_print_options(out, cli_actor_options);
	cli_print_options(out, cli_base_options);
	if (spec->epilogue)
		fprintf(out, "\n%s\n", spec->epilogue);
	fprintf(out, "\nSee mreg-%s(1) for details and exit codes.\n",
		ctx->command);
}
