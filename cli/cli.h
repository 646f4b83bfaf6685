/* cli.h - what every subcommand shares: context, options, reporting
 *
 * Each subcommand is one file cli/<name>.c with one entry point
 *   int cmd_<name>(struct cli_ctx *ctx, int argc, char **argv);
 * and its options, const struct cli_spec cmd_<name>_spec, registered by
 * one line of the command table in cli/commands.h.  argv[0] is the
 * command name.  cli_parse() turns the spec into getopt_long() input,
 * prints --help from it (so help and parser cannot disagree), handles the
 * common options and checks the number of operands the table allows.
 */
#ifndef MREG_CLI_H
#define MREG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "pool.h"

struct cli_command;

struct cli_ctx {
	const char *command;  /* "list", "import-dir", ..., "" before one */
	const struct cli_command *cmd; /* its entry in the command table */
	const char *dsn;      /* -d/--dsn, else MREG_DSN, else NULL */
	const char *read_dsn; /* --read-dsn, else MREG_READ_DSN, else NULL */
	double max_lag_s;     /* --max-lag, else MREG_MAX_LAG; < 0: none */
	const char *max_lag;  /* as written, for messages */
	const char *actor;    /* --actor, else NULL (see cli_actor) */
	int verbose;          /* -v/--verbose, counted */
	bool no_pager;        /* --no-pager (cli/pager.h) */
	struct mreg_pool *pool; /* made by cli_pool(), freed by cli_finish() */
	char appname[64];     /* "mreg <command>" */
	/*
	 * The output is JSON (-o/--format json or ndjson): a failure prints
	 * one error object on stdout too (cli/json-errors.h).  cli_parse()
	 * sets it from the command line; cli_set_json() overrides it.
	 */
	bool json_errors;
};

/*
 * One option.  id is what the handler receives: the short option letter
 * when there is one, else any value >= 256.  arg names the argument in
 * --help (NULL for a flag); it also tells the shell completions what to
 * offer (see cli_value_kind()).  An entry with only help set (longopt
 * NULL, id 0) starts a new group in --help; one with a longopt and no help
 * is hidden from --help.  The table ends with {0}.  An arg in brackets,
 * "[=DURATION]", is optional: given only as --name=VALUE (getopt's
 * optional_argument), else the handler gets NULL.
 */
struct cli_option {
	int id;
	char shortopt;
	const char *longopt;
	const char *arg;
	const char *help;
};

/* Is o's argument optional ("[=VALUE]")? */
static inline bool cli_option_optional(const struct cli_option *o)
{
	return o->arg && o->arg[0] == '[';
}

#define CLI_GROUP(title) { 0, 0, NULL, NULL, title }
#define CLI_END { 0, 0, NULL, NULL, NULL }

/* Flags of a command-table entry (struct cli_command). */
enum cli_command_flags {
	CLI_DB = 1 << 0,     /* needs the database: add -d/--dsn */
	CLI_ACTOR = 1 << 1,  /* writes: add --actor */
	CLI_HIDDEN = 1 << 2, /* not listed in help (completion helper) */
	CLI_READ = 1 << 3,   /* only reads: add --read-dsn and --max-lag */
};

/*
 * What a command file exports (const struct cli_spec cmd_<name>_spec):
 * its usage, description and options.  The rest of what is known about a
 * command (operand counts, flags, summary, completion hints) is its line
 * in the command table, cli/main.c.
 */
struct cli_spec {
	const char *usage;       /* lines after "Usage: ", '\n'-separated */
	const char *description; /* one line */
	const struct cli_option *options;
	const char *epilogue;    /* optional text after the options, or NULL */
};

/*
 * One line of the command table (cli/main.c), the one source of truth
 * for dispatch, help, the man page's EXIT STATUS and the completions.
 */
struct cli_command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const struct cli_spec *spec;
	unsigned flags;       /* enum cli_command_flags */
	int min_args;         /* operands after the options, checked by */
	int max_args;         /* cli_parse(); max -1: no limit */
	/*
	 * The usage error for too few operands, optionally followed by '|'
	 * and a hint added to "unexpected argument 'X'" for too many.
	 */
	const char *missing;
	/*
	 * Completion: operands is the kind of each operand, space separated
	 * (a kind of cli_value_kind(), or "word:A|B|C"; the last one repeats
	 * when max_args is -1); values overrides what an option's value
	 * completes to: "format=table|json sort=name|updated".
	 */
	const char *operands;
	const char *values;
	const char *summary;  /* one line for mreg --help */
};

/* The command table and the global options, for help and completion. */
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;
const struct cli_command *cli_find_command(const char *name);

/*
 * The option tables every command shares: the connection (-d, with
 * CLI_DB), --actor (with CLI_ACTOR), and -v/-h.  The dispatcher takes
 * them before the command, too (plus -V).
 */
extern const struct cli_option cli_db_options[];
extern const struct cli_option cli_actor_options[];
extern const struct cli_option cli_read_options[];
extern const struct cli_option cli_base_options[];
/* What the common options' values complete to (as cli_command.values). */
#define CLI_COMMON_VALUES "log-format=auto|plain|stamped|json"
extern const struct cli_option cli_version_options[];

/* What the shells should offer for an option's ARG name (or an operand). */
const char *cli_value_kind(const char *arg);

/* The exit codes, one table: mreg --help and mreg(1) print it. */
struct cli_exit_code {
	int code;
	const char *name;    /* MREG_EXIT_... */
	const char *summary; /* for --help */
	const char *text;    /* for the man page (scdoc) */
};
extern const struct cli_exit_code cli_exit_codes[];
extern const size_t cli_nexit_codes;

/* Print the option table o as --help does (groups and hidden lines too). */
void cli_print_options(FILE *out, const struct cli_option *o);

/*
 * Parse the global options in argv (up to the command name).  Returns -1
 * with *first set to the command's index, else an exit status.
 */
int cli_parse_global(struct cli_ctx *ctx, int argc, char **argv, int *first,
		     void (*help)(FILE *out), void (*version)(void));

/*
 * The handler: 0 to go on, or an exit status (after printing a message,
 * e.g. with cli_usage()) to stop parsing.
 */
typedef int (*cli_handler)(void *state, int id, const char *arg);

/*
 * Parse argv against spec.  Common options (-h/--help, -d/--dsn, -v/
 * --verbose, --actor) are handled here and recorded in ctx, and the
 * number of operands is checked against the command's table entry.
 * Returns -1 on success with *first_arg set to the index of the first
 * operand; otherwise the exit status the command should return (0 after
 * --help, 2 after a usage error, or whatever the handler returned).
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

/* "mreg <cmd>: <msg>" on stderr, for information (not an error). */
void cli_info(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "<msg>" on stderr, as a log line (level info), e.g. progress in a log. */
void cli_log_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * A live line on a terminal (a progress line, redrawn in place with
 * \r): text escaped, no newline; NULL erases it.  Any other line written
 * on stderr through these functions erases it first; its owner draws it
 * again on its next tick.
 */
void cli_live_line(const char *text);

/*
 * --log-format / MREG_LOG_FORMAT: how every line above is written.
 * auto is plain on a terminal, stamped otherwise.
 */
enum cli_log_format {
	CLI_LOG_AUTO,
	CLI_LOG_PLAIN,
	CLI_LOG_STAMPED,
	CLI_LOG_JSON,
};
int cli_set_log_format(const char *name); /* 0, or -1 if unknown */
enum cli_log_format cli_log_format(void); /* auto resolved */
void cli_set_log_command(const char *command); /* json's "command" */

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
 * Finish a command (or the dispatcher, before one: ctx->command ""):
 * print pool statistics with --verbose, destroy the pool, flush stdout.  A failed flush is an error (exit 1) unless the
 * reader went away (EPIPE).  Returns the status to exit with.
 */
int cli_finish(struct cli_ctx *ctx, int status);

/* Parsers for option values; 0 ok, -1 if malformed or out of range. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* "250ms", "10s", "2m", "1h", or a plain number of seconds. */
int cli_parse_duration(const char *s, double *seconds);
/*
 * --max-lag / MREG_MAX_LAG (what names it in the message): -1 when set,
 * else the usage error's exit status.
 */
int cli_set_max_lag(struct cli_ctx *ctx, const char *arg, const char *what);
/*
 * -o/--format of a command that prints one object or summary: "text"
 * (also "table", its old name, and human, the name the caller gives it:
 * pass "text") or "json".  Sets *json; a usage error (its exit status)
 * for anything else, else 0.
 */
int cli_parse_report_format(const struct cli_ctx *ctx, const char *arg,
			    const char *human, bool *json);

/*
 * Errors as data (cli/json-errors.h).  cli_set_json: the command's output
 * is JSON, so a failure prints its error object on stdout (cli_parse()
 * already did this for a -o/--format json|ndjson on the command line).
 * cli_json_printed: the command printed its own JSON document (a summary
 * with "ok": false), so no error object follows it.
 */
void cli_set_json(struct cli_ctx *ctx, bool on);
void cli_json_printed(void);

/* Is this stream an interactive terminal? */
bool cli_isatty(FILE *f);

#endif
