/* main.c - the mreg dispatcher: global options and the command table */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/opensslv.h>

#include "cli.h"
#include "commands.h"
#include "json-errors.h"
#include "libpq-lazy.h"

#ifndef MREG_VERSION
#define MREG_VERSION "unknown"
#endif

/* The one command table (its lines are in commands.h). */
#define ENTRY(id, name, flags, min, max, missing, operands, values, summary) \
	{ name, cmd_##id, &cmd_##id##_spec, flags, min, max, missing,         \
	  operands, values, summary },
const struct cli_command cli_commands[] = { MREG_COMMANDS(ENTRY) };
const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

/* Optimal string alignment distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la > 30 || lb > 30)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v;

			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static void print_main_help(FILE *out)
{
	size_t i;

	fputs("mreg - keep an ML model registry in PostgreSQL\n"
	      "\n"
	      "Usage: mreg [global options] COMMAND [options] [args]\n"
	      "       mreg help COMMAND\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < cli_ncommands; i++)
		if (!(cli_commands[i].flags & CLI_HIDDEN))
			fprintf(out, "  %-14s%s\n", cli_commands[i].name,
				cli_commands[i].summary);
	fputs("\nGlobal options:\n", out);
	cli_print_options(out, cli_db_options);
	cli_print_options(out, cli_read_options);
	cli_print_options(out, cli_actor_options);
	cli_print_options(out, cli_base_options);
	cli_print_options(out, cli_version_options);
	fputs("\nExit status:\n", out);
	for (i = 0; i < cli_nexit_codes; i++)
		fprintf(out, "  %d  %s\n", cli_exit_codes[i].code,
			cli_exit_codes[i].summary);
	fputs("\nRun 'mreg COMMAND --help' for a command's options; see "
	      "mreg(1).\n", out);
}

static void print_version(void)
{
	int v = PQlibVersion();

	printf("mreg %s\n"
	       "built with libpq %d.%d, jansson %s, %s\n",
	       MREG_VERSION, v / 10000, v % 100, JANSSON_VERSION,
	       OPENSSL_VERSION_TEXT);
}

static int unknown_command(const struct cli_ctx *ctx, const char *name)
{
	const char *best = NULL;
	size_t i, bestd = 3;

	for (i = 0; i < cli_ncommands; i++) {
		size_t d = edit_distance(name, cli_commands[i].name);

		if (!(cli_commands[i].flags & CLI_HIDDEN) && d < bestd) {
			bestd = d;
			best = cli_commands[i].name;
		}
	}
	/* "mreg: ..." and "Try 'mreg --help' ...", as log lines */
	return cli_usage(ctx, "'%s' is not an mreg command%s%s%s", name,
			 best ? "; did you mean '" : "", best ? best : "",
			 best ? "'?" : "");
}

/*
 * A standard descriptor closed by the caller (mreg list >&-) would be
 * taken by the next open() or socket(): libpq's connection would become
 * standard output and the table would be written into it.  Hold each
 * closed one with /dev/null, opened in the direction that makes it act
 * as closed still: writes to a held 1 or 2 fail with EBADF (a clear
 * write error), reads from a held 0 fail the same way.  Returns -1 if a
 * closed descriptor could not be held.
 */
static int hold_closed_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (got != fd) {
			if (got >= 0)
				close(got);
			return -1;
		}
	}
	return 0;
}

static int run_command(struct cli_ctx *ctx, const struct cli_command *cmd,
		       int argc, char **argv)
{
	/* libpq and its 25 libraries load while the command starts
	 * (libpq-lazy.h); errors in the global options never load it */
	if (cmd->flags & CLI_DB)
		mreg_libpq_preload();
	ctx->command = cmd->name;
	ctx->cmd = cmd;
	snprintf(ctx->appname, sizeof(ctx->appname), "mreg %s", cmd->name);
	return cli_json_finish(ctx, cmd->run(ctx, argc, argv));
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .command = "" };
	const struct cli_command *cmd;
	const char *env;
	int i, rc;

	/* first of all, before anything can open a descriptor */
	if (hold_closed_std_fds() < 0)
		return MREG_EXIT_FAILURE;
	/* a reader that goes away is not an error: see cli_finish() */
	signal(SIGPIPE, SIG_IGN);
	env = getenv("MREG_DSN");
	if (env && *env)
		ctx.dsn = env;
	env = getenv("MREG_READ_DSN");
	if (env && *env)
		ctx.read_dsn = env;
	ctx.max_lag_s = -1;
	env = getenv("MREG_MAX_LAG");
	if (env && *env && (rc = cli_set_max_lag(&ctx, env, "MREG_MAX_LAG")) >= 0)
		return cli_finish(&ctx, rc);

	rc = cli_parse_global(&ctx, argc, argv, &i, print_main_help,
			      print_version);
	if (rc >= 0)
		return cli_finish(&ctx, rc);
	if (i >= argc) {
		print_main_help(stderr);
		return MREG_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			print_main_help(stdout);
			return cli_finish(&ctx, 0);
		}
		cmd = cli_find_command(argv[i + 1]);
		if (!cmd)
			return unknown_command(&ctx, argv[i + 1]);
		{
			char *help_argv[] = { argv[i + 1], "--help", NULL };

			return run_command(&ctx, cmd, 2, help_argv);
		}
	}
	cmd = cli_find_command(argv[i]);
	if (!cmd)
		return unknown_command(&ctx, argv[i]);
	return run_command(&ctx, cmd, argc - i, argv + i);
}
