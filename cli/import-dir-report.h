/* import-dir-report.h - what import-dir says at the end: the summary
 *
 * The text summary is one line.  The JSON summary (--format json, see
 * man/schema/import-dir.schema.json) is one object: "command", "ok",
 * "exit_code", the counts, "duration_s", "failures" (each problem of a bad
 * file: file, line, column, message) and, with --dry-run, "changes" (each
 * model that would be added, updated or pruned, and its file).  The lists
 * are kept only for the JSON summary.
 */
#ifndef MREG_IMPORT_DIR_REPORT_H
#define MREG_IMPORT_DIR_REPORT_H

#include <stdbool.h>

#include <jansson.h>

#include "cli.h"
#include "import.h"

struct import_report {
	bool json, dry_run, quiet;
	json_t *failures; /* array; NULL until the first one, or without json */
	json_t *changes;  /* array, only with json and dry_run */
};

/* A bad file: label is "DIR/path", text "L:C: message" or "message". */
void import_report_failure(struct import_report *r, const char *label,
			   const char *text);

/* A model the run adds, updates or prunes ("add", "update", "prune");
 * resource is the audit log's "models/provider/name". */
void import_report_change(struct import_report *r, const char *action,
			  const char *resource, const char *label);

/* Print the summary (JSON: exit_code is the status the run ends with). */
void import_report_print(struct import_report *r, const char *source,
			 const struct mreg_import_counts *c, double seconds,
			 int exit_code);

void import_report_finish(struct import_report *r); /* frees the lists */

#endif
