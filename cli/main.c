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

#ifndef MREG_VERSION
#define MREG_VERSION "unknown"
#endif

enum command_flags {
	CMD_HIDDEN = 1 << 0, /* not listed in help (completion helper) */
};

struct command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
	unsigned flags;
};

/* The one command table: help, 'mreg help' and the completions follow it. */
static const struct command commands[] = {
	{ "bench", cmd_bench, "load-test the registry", 0 },
	{ "migrate", cmd_migrate, "apply or inspect schema migrations", 0 },
	{ "list", cmd_list, "list models, providers, defaults or audit entries",
	  0 },
	{ "show", cmd_show, "show one model in full", 0 },
	{ "search", cmd_search, "ranked search over models", 0 },
	{ "default", cmd_default, "print the default model of a type", 0 },
	{ "set-default", cmd_set_default,
	  "make a model the default for its type", 0 },
	{ "__complete", cmd_complete, "values for shell completion",
	  CMD_HIDDEN },
	{ "import-dir", cmd_import_dir, "import a tree of model files", 0 },
	{ "bulk-update", cmd_bulk_update,
	  "apply a batch of changes, all or nothing", 0 },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

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
	for (i = 0; i < NCOMMANDS; i++)
		if (!(commands[i].flags & CMD_HIDDEN))
			fprintf(out, "  %-14s%s\n", commands[i].name,
				commands[i].summary);
	fputs("\n"
	      "Global options:\n"
	      "  -d, --dsn CONNINFO      libpq connection string or URI "
	      "(default: $MREG_DSN,\n"
	      "                          then libpq's PG* environment)\n"
	      "  -v, --verbose           print connection and pool details to "
	      "stderr\n"
	      "      --actor NAME        name recorded in the audit log "
	      "(default: $MREG_ACTOR,\n"
	      "                          then the OS user)\n"
	      "  -h, --help              show this help and exit\n"
	      "  -V, --version           show the version and exit\n"
	      "\n"
	      "Exit status:\n"
	      "  0  success\n"
	      "  1  runtime or database error\n"
	      "  2  usage error\n"
	      "  3  invalid input data, or an unknown model, type or provider\n"
	      "  4  another run holds the lock\n"
	      "  5  pending work (migrate status --exit-code)\n"
	      "\n"
	      "Run 'mreg COMMAND --help' for a command's options; see mreg(1).\n",
	      out);
}

static int unknown_command(const char *name)
{
	const char *best = NULL;
	size_t i, bestd = 3;

	for (i = 0; i < NCOMMANDS; i++) {
		size_t d = edit_distance(name, commands[i].name);

		if (!(commands[i].flags & CMD_HIDDEN) && d < bestd) {
			bestd = d;
			best = commands[i].name;
		}
	}
	cli_printf(stderr, "mreg: '%s' is not an mreg command%s%s%s\n", name,
		   best ? "; did you mean '" : "", best ? best : "",
		   best ? "'?" : "");
	fputs("Try 'mreg --help' for more information.\n", stderr);
	return MREG_EXIT_USAGE;
}

static int global_usage(const char *what, const char *arg)
{
	cli_printf(stderr, "mreg: %s '%s'\n", what, arg);
	fputs("Try 'mreg --help' for more information.\n", stderr);
	return MREG_EXIT_USAGE;
}

/* The global --actor: 0 fine, else the usage error was printed. */
static int check_actor(const char *actor)
{
	char buf[64];
	const char *why = cli_actor_problem(actor, buf, sizeof(buf));

	if (!why)
		return 0;
	fprintf(stderr, "mreg: --actor: %s\n"
			"Try 'mreg --help' for more information.\n", why);
	return MREG_EXIT_USAGE;
}

static int finish_main(int status)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status; /* the reader went away: not an error */
		perror("mreg: could not write to standard output");
		return MREG_EXIT_FAILURE;
	}
	return status;
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

static int run_command(struct cli_ctx *ctx, const struct command *cmd,
		       int argc, char **argv)
{
	ctx->command = cmd->name;
	snprintf(ctx->appname, sizeof(ctx->appname), "mreg %s", cmd->name);
	return cmd->run(ctx, argc, argv);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .command = "" };
	const struct command *cmd;
	const char *env;
	int i;

	/* first of all, before anything can open a descriptor */
	if (hold_closed_std_fds() < 0)
		return MREG_EXIT_FAILURE;
	/* a reader that goes away is not an error: see cli_finish() */
	signal(SIGPIPE, SIG_IGN);
	env = getenv("MREG_DSN");
	if (env && *env)
		ctx.dsn = env;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_main_help(stdout);
			return finish_main(0);
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			int v = PQlibVersion();

			printf("mreg %s\n"
			       "built with libpq %d.%d, jansson %s, %s\n",
			       MREG_VERSION, v / 10000, v % 100,
			       JANSSON_VERSION, OPENSSL_VERSION_TEXT);
			return finish_main(0);
		}
		if (strcmp(a, "--list-commands") == 0) {
			size_t j;

			for (j = 0; j < NCOMMANDS; j++)
				if (!(commands[j].flags & CMD_HIDDEN))
					puts(commands[j].name);
			return finish_main(0);
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			ctx.verbose++;
			continue;
		}
		if (strcmp(a, "-d") == 0 || strcmp(a, "--dsn") == 0 ||
		    strcmp(a, "--actor") == 0) {
			if (i + 1 >= argc)
				return global_usage("a value is needed by option", a);
			if (a[1] == 'd' || a[2] == 'd')
				ctx.dsn = argv[++i];
			else if (check_actor(argv[i + 1]) != 0)
				return MREG_EXIT_USAGE;
			else
				ctx.actor = argv[++i];
			continue;
		}
		if (strncmp(a, "--dsn=", 6) == 0) {
			ctx.dsn = a + 6;
			continue;
		}
		if (strncmp(a, "--actor=", 8) == 0) {
			if (check_actor(a + 8) != 0)
				return MREG_EXIT_USAGE;
			ctx.actor = a + 8;
			continue;
		}
		return global_usage("unknown option", a);
	}
	if (i >= argc) {
		print_main_help(stderr);
		return MREG_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			print_main_help(stdout);
			return finish_main(0);
		}
		cmd = find_command(argv[i + 1]);
		if (!cmd)
			return unknown_command(argv[i + 1]);
		{
			char *help_argv[] = { argv[i + 1], "--help", NULL };

			return run_command(&ctx, cmd, 2, help_argv);
		}
	}
	cmd = find_command(argv[i]);
	if (!cmd)
		return unknown_command(argv[i]);
	return run_command(&ctx, cmd, argc - i, argv + i);
}
