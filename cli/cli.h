/* cli.h - what every subcommand shares: context, options, reporting
 *
 * Each subcommand is one file cli/<name>.c with one entry point
 *   int cmd_<name>(struct cli_ctx *ctx, int argc, char **argv);
 * registered in the table in cli/main.c.  argv[0] is the command name.
 * A command declares its options in a struct cli_spec; cli_parse() turns
 * that table into getopt_long() input, prints --help from it (so help and
 * parser cannot disagree) and handles the common options for you.
 */
#ifndef MREG_CLI_H
#define MREG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "pool.h"

struct cli_ctx {
	const char *command;  /* "list", "import-dir", ... */
	const char *dsn;      /* -d/--dsn, else MREG_DSN, else NULL */
	const char *actor;    /* --actor, else NULL (see cli_actor) */
	int verbose;          /* -v/--verbose, counted */
	struct mreg_pool *pool; /* made by cli_pool(), freed by cli_finish() */
	char appname[64];     /* "mreg <command>" */
};

/*
 * One option.  id is what the handler receives: the short option letter
 * when there is one, else any value >= 256.  arg names the argument in
 * --help (NULL for a flag).  An entry with only help set (longopt NULL,
 * id 0) starts a new group in --help.  The table ends with {0}.
 */
struct cli_option {
	int id;
	char shortopt;
	const char *longopt;
	const char *arg;
	const char *help;
};

#define CLI_GROUP(title) { 0, 0, NULL, NULL, title }
#define CLI_END { 0, 0, NULL, NULL, NULL }

enum cli_spec_flags {
	CLI_DB = 1 << 0,    /* add -d/--dsn (connection options group) */
	CLI_ACTOR = 1 << 1, /* add --actor (commands that write) */
};

struct cli_spec {
	const char *usage;       /* lines after "Usage: ", '\n'-separated */
	const char *description; /* one line */
	const struct cli_option *options;
	unsigned flags;          /* enum cli_spec_flags */
	const char *epilogue;    /* optional text after the options, or NULL */
};

/*
 * The handler: 0 to go on, or an exit status (after printing a message,
 * e.g. with cli_usage()) to stop parsing.
 */
typedef int (*cli_handler)(void *state, int id, const char *arg);

/*
 * Parse argv against spec.  Common options (-h/--help, -d/--dsn, -v/
 * --verbose, --actor) are handled here and recorded in ctx.  Returns -1 on
 * success with *first_arg set to the index of the first operand; otherwise
 * the exit status the command should return (0 after --help, 2 after a
 * usage error, or whatever the handler returned).
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc,
	      char **argv, cli_handler handler, void *state, int *first_arg);

void cli_print_help(const struct cli_ctx *ctx, const struct cli_spec *spec,
		    FILE *out);

/*
 * Messages for people, on stderr.  The text (message, detail, hint, path
 * and every %s value) is escaped on the way out (common/escape.h): pass
 * values raw, never escaped already.
 */

/* "mreg <cmd>: <msg>" + "Try 'mreg <cmd> --help'...", returns 2. */
int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Print err as "mreg <cmd>: [path:line:column: ]message", then DETAIL and
 * HINT lines.  Returns err->status, or 1 if the status was not set.
 */
int cli_report(const struct cli_ctx *ctx, const struct mreg_error *err);

/* "mreg <cmd>: <msg>" on stderr; returns status. */
int cli_fail(const struct cli_ctx *ctx, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "mreg <cmd>: warning: <msg>" on stderr. */
void cli_warn(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Verbose diagnostics (only with -v) on stderr. */
void cli_verbose(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "HINT: <msg>" on stderr. */
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * printf to out for people: the formatted text is escaped as a whole
 * (common/escape.h) except one final newline.  Use it for lines that
 * show names, paths or values; pass the values raw.  0, or -1 on error.
 */
int cli_printf(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The pool for this command, created on first call with max_size
 * connections (later calls return the same pool).  NULL with err filled
 * if the configuration is unusable.  Connections are opened lazily.
 */
struct mreg_pool *cli_pool(struct cli_ctx *ctx, int max_size,
			   struct mreg_error *err);
struct mreg_pool *cli_pool_config(struct cli_ctx *ctx,
				  struct mreg_pool_config *cfg,
				  struct mreg_error *err);

/* --actor, else MREG_ACTOR, else the OS user name, else "unknown". */
const char *cli_actor(const struct cli_ctx *ctx);

/*
 * The longest actor (bytes): mreg.audit_log's btree index on actor holds
 * entries of at most 2704 bytes, and a name is not a document.
 */
#define CLI_ACTOR_MAX 200

/*
 * Why s cannot be an actor (too long, not UTF-8, a control character),
 * or NULL.  buf (at least 64 bytes) may hold the text.
 */
const char *cli_actor_problem(const char *s, char *buf, size_t len);

/*
 * Finish a command: print pool statistics with --verbose, destroy the
 * pool, flush stdout.  A failed flush is an error (exit 1) unless the
 * reader went away (EPIPE).  Returns the status to exit with.
 */
int cli_finish(struct cli_ctx *ctx, int status);

/* Parsers for option values; 0 ok, -1 if malformed or out of range. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* "250ms", "10s", "2m", "1h", or a plain number of seconds. */
int cli_parse_duration(const char *s, double *seconds);
/*
 * --format of a command that prints one report: human (the name of its
 * readable form, "table" or "text") or "json".  Sets *json; a usage error
 * (its exit status) for anything else, else 0.
 */
int cli_parse_report_format(const struct cli_ctx *ctx, const char *arg,
			    const char *human, bool *json);

/* Output format shared by the read commands. */
enum cli_format { CLI_FORMAT_TABLE, CLI_FORMAT_JSON, CLI_FORMAT_NDJSON,
		  CLI_FORMAT_CSV };
int cli_parse_format(const char *s, enum cli_format *out);

/* Is this stream an interactive terminal? */
bool cli_isatty(FILE *f);

#endif
