/* json-errors.h - errors as data: the one error object of a failed run
 *
 * With -o/--format json or ndjson a failing command prints, besides its
 * messages on stderr, exactly one JSON object on stdout (mreg-json(7),
 * man/schema/error.schema.json):
 *
 *   {"command": "list", "ok": false, "exit_code": 1, "error": {"message":
 *    "...", "detail": s|null, "hint": s|null, "sqlstate": s|null,
 *    "file": s|null, "line": n|null, "column": n|null}}
 *
 * The messages are noted as they are reported (cli/messages.c), and the
 * object is printed once, after the command returned (cli/main.c), with
 * the command's final exit status.  Which message: the first one reported
 * as an error (cli_report, cli_usage, cli_fail with a status); if there
 * was none, the last one reported (cli_fail with status 0, the form of a
 * message whose status is decided after it).  A HINT line that follows
 * the chosen message (cli_hint) becomes its hint.  No object when the run
 * succeeded, when no message was reported at all (migrate status
 * --exit-code's 5 is a result, not an error), or when the command printed
 * its own JSON document (cli_json_printed: import-dir's summary with
 * "ok": false).
 *
 * The record is process-wide (one command per process) and guarded by a
 * mutex: import-dir reports from more than one thread.
 */
#ifndef MREG_JSON_ERRORS_H
#define MREG_JSON_ERRORS_H

#include <stddef.h>

#include "cli.h"
#include "error.h"

/* A message was reported: err (status 0: not known to be an error yet). */
void cli_json_note(const struct mreg_error *err);
/* A message that is not an error (a warning): later hints are not its. */
void cli_json_note_other(void);
/* A HINT line: the hint of the message just noted, if it has none. */
void cli_json_note_hint(const char *hint);

/*
 * cli_parse(): set ctx->json_errors from the command line as getopt_long
 * will read it (the last -o/--format wins; values of other options are
 * skipped), before parsing, so that a usage error found before the
 * format option is reached is an error object too.
 */
void cli_json_prescan(struct cli_ctx *ctx,
		      const struct cli_option *const *tables, size_t ntables,
		      int argc, char **argv);

/* main.c, after the command: print the error object if one is due. */
int cli_json_finish(const struct cli_ctx *ctx, int status);

#endif
