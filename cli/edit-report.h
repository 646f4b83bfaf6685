/* edit-report.h - what add, delete, rename and clear-default share:
 * their summary object (mreg-json(7)) and their notes for people */
#ifndef MREG_EDIT_REPORT_H
#define MREG_EDIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "edit.h"

/*
 * The summary, written to memory and printed re-indented at the end:
 * {"command", "ok": true, "exit_code": 0, "dry_run", ...the command's
 * keys}.  The put functions append one key (a NULL string: null; raw:
 * JSON text as the server wrote it, kept token for token).
 */
struct edit_json {
	FILE *f;
	char *buf;
	size_t len;
};

int edit_json_begin(struct edit_json *j, const char *command, bool dry_run);
void edit_json_string(struct edit_json *j, const char *key, const char *v);
void edit_json_bool(struct edit_json *j, const char *key, bool v);
void edit_json_int(struct edit_json *j, const char *key, long long v);
void edit_json_raw(struct edit_json *j, const char *key, const char *v,
		   size_t len);
/* "sources": [{"source", "path"}...] of e. */
void edit_json_sources(struct edit_json *j, const struct mreg_edit *e);
/* "changes": the audit rows the edit wrote (would write), each
 * {"action", "resource", "model_id", "old", "new"}. */
void edit_json_changes(struct edit_json *j, const struct mreg_edit *e);
/* Close and print it; 0, or the exit status of a failure (reported). */
int edit_json_end(const struct cli_ctx *ctx, struct edit_json *j);

/* The changes for people (after a dry run's line): one line per audit
 * row, "  ACTION RESOURCE[: OLD -> NEW]". */
void edit_print_changes(const struct mreg_edit *e);

/*
 * The next import-dir of each source that recorded the model reads its
 * file again and adds the model under the file's name: say so (a
 * warning on stderr, one line per file).
 */
void edit_warn_sources(const struct cli_ctx *ctx, const struct mreg_edit *e,
		       const char *what);

#endif
