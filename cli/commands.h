/* commands.h - the command table: one line per subcommand
 *
 * The one source of truth for dispatch, operand counts, help, the man
 * page's EXIT STATUS and the shell completions (mreg __complete --spec).
 * A new command is its cli/<name>.c (int cmd_<name>() and const struct
 * cli_spec cmd_<name>_spec), its man page, its tests and one X() line
 * here.  Each line:
 *
 *   X(id, "name", flags, min operands, max operands (-1: any),
 *     the usage error for too few ["|" a hint for too many],
 *     operand kinds (see struct cli_command), option values, summary)
 */
#ifndef MREG_COMMANDS_H
#define MREG_COMMANDS_H

#include "cli.h"

/* -o/--format values (mreg-json(7)): a listing's rows, one object or a
 * summary (table is still accepted there, as text's old name) */
#define MREG_FORMATS "format=table|json|ndjson|csv"
#define MREG_REPORT_FORMATS "format=text|json"

#define MREG_COMMANDS(X)                                                      \
	X(bench, "bench", CLI_DB | CLI_ACTOR, 0, 0, NULL, "",                 \
	  "workload=get-default|list|show|search|set-default|import|mixed "   \
	  "protocol=auto|prepared|extended " MREG_REPORT_FORMATS,                 \
	  "load-test the registry")                                           \
	X(migrate, "migrate", CLI_DB | CLI_ACTOR, 0, 1, NULL, "word:status",  \
	  MREG_REPORT_FORMATS, "apply or inspect schema migrations")          \
	X(list, "list", CLI_DB | CLI_READ, 0, 1, NULL,                                   \
	  "word:models|providers|defaults|audit",                             \
	  MREG_FORMATS " provider=provider sort=name|updated "                \
	  "action=model.create|model.update|model.delete|default.set|"        \
	  "default.clear|artifact.create|artifact.update|artifact.delete|"    \
	  "provider.create|provider.update|provider.delete|migration.apply|"  \
	  "audit.prune",                                                      \
	  "list models, providers, defaults or audit entries")                \
	X(show, "show", CLI_DB | CLI_READ, 1, 1, "missing PROVIDER/NAME", "model",       \
	  "format=text|json|ndjson|csv", "show one model in full")           \
	X(search, "search", CLI_DB | CLI_READ, 1, 1, "missing QUERY|quote a query of several words", "text",            \
	  MREG_FORMATS " provider=provider", "ranked search over models")     \
	X(default, "default", CLI_DB | CLI_READ, 1, 1, "missing TYPE", "type",           \
	  MREG_REPORT_FORMATS,                                                \
	  "print the default model of a type")                                \
	X(set_default, "set-default", CLI_DB | CLI_ACTOR, 0, 1,               \
	  "missing PROVIDER/NAME", "model", MREG_REPORT_FORMATS,              \
	  "make a model the default for its type")                            \
	X(history, "history", CLI_DB | CLI_READ, 0, 1, NULL, "model", MREG_FORMATS,     \
	  "show the changes of a model or of a type's default")             \
	X(complete, "__complete", CLI_DB | CLI_HIDDEN, 0, -1, NULL, "text",   \
	  "", "values for shell completion")                                  \
	X(import_dir, "import-dir", CLI_DB | CLI_ACTOR, 1, 1, "missing DIR",  \
	  "directory", MREG_REPORT_FORMATS, "import a tree of model files")   \
	X(bulk_update, "bulk-update", CLI_DB | CLI_ACTOR, 1, 1,               \
	  "missing input: give a FILE, or '-' for standard input", "file",    \
	  MREG_REPORT_FORMATS, "apply a batch of changes, all or nothing")    \
	X(add, "add", CLI_DB | CLI_ACTOR, 0, 1, NULL, "text",                 \
	  MREG_REPORT_FORMATS, "add one model")                               \
	X(delete, "delete", CLI_DB | CLI_ACTOR, 1, 1, "missing PROVIDER/NAME", \
	  "model", MREG_REPORT_FORMATS, "delete one model")                  \
	X(rename, "rename", CLI_DB | CLI_ACTOR, 2, 2,                         \
	  "missing PROVIDER/NAME NEW_PROVIDER/NEW_NAME", "model text",        \
	  MREG_REPORT_FORMATS, "rename a model or move it to another provider") \
	X(clear_default, "clear-default", CLI_DB | CLI_ACTOR, 1, 1,           \
	  "missing TYPE", "type", MREG_REPORT_FORMATS,                        \
	  "remove a type's default model")                                    \
	X(audit, "audit", CLI_DB | CLI_ACTOR, 1, 1, "missing action: prune", \
	  "word:prune", MREG_REPORT_FORMATS,                                  \
	  "trim the append-only audit log")                                   \
	X(watch, "watch", CLI_DB, 0, 0, NULL, "",                             \
	  "format=ndjson action=model.create|model.update|model.delete|"      \
	  "artifact.create|artifact.update|artifact.delete|default.set|"      \
	  "default.clear|provider.create|provider.update|provider.delete|"    \
	  "migration.apply|audit.prune|model.*|artifact.*|default.*|"         \
	  "provider.*",                                                       \
	  "print each committed change as one NDJSON line, as it happens")   \
	X(restore, "restore", CLI_DB | CLI_ACTOR, 1, 1,                       \
	  "missing PROVIDER/NAME", "model", MREG_REPORT_FORMATS,              \
	  "put a model back as it was at a time")                             \
	X(export, "export", CLI_DB | CLI_READ, 1, 1,                                     \
	  "missing DIR: give a directory, or '-' for NDJSON on standard "     \
	  "output", "directory", MREG_REPORT_FORMATS " provider=provider",    \
	  "write the registry as model files")                                \
	X(verify, "verify", CLI_DB | CLI_READ, 0, 0, NULL, "",                           \
	  MREG_REPORT_FORMATS,                                                \
	  "hash the recorded files and artifacts again, report drift")        \
	/* a new command: its X(...) line above this one */

#define MREG_DECLARE_COMMAND(id, name, flags, min, max, missing, operands,   \
			     values, summary)                                 \
	int cmd_##id(struct cli_ctx *ctx, int argc, char **argv);             \
	extern const struct cli_spec cmd_##id##_spec;
MREG_COMMANDS(MREG_DECLARE_COMMAND)

#endif
