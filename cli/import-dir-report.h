/* import-dir-report.h - what import-dir says at the end: the summary
 *
 * The text summary is one line.  The JSON summary (--format json, see
 * man/schema/import-dir.schema.json) is one object: "command", "ok",
 * "exit_code", the counts, "duration_s", "failures" (each problem of a bad
 * file: file, line, column, message) and, with --dry-run or --plan,
 * "changes" (each model that would be added, updated or pruned, and its
 * file; with --plan also its "fields": field, old, new), "plan", and
 * "refusal" when the prune guard refused.  The lists are kept only for
 * the JSON summary.
 */
#ifndef MREG_IMPORT_DIR_REPORT_H
#define MREG_IMPORT_DIR_REPORT_H

#include <stdbool.h>

#include <jansson.h>

#include "cli.h"
#include "import.h"
#include "strbuf.h"

struct import_report {
	bool json, dry_run, quiet, plan;
	json_t *failures; /* array; NULL until the first one, or without json */
	json_t *changes;  /* array, only with json and dry_run */
	/* with json and plan: the changes' JSON text, comma separated (the
	 * fields' values as the server wrote them, digit for digit) */
	struct mreg_strbuf plan_items;
	json_t *refusal;  /* the prune guard's refusal, or NULL */
};

/* --plan: a model the run would add, update or prune ("add", "update",
 * "prune"), its file label and its fields (JSON text, an array). */
void import_report_plan_item(struct import_report *r, const char *action,
			     const char *resource, const char *label,
			     const char *fields);

/* The prune guard refused (import.h, prune_refused). */
void import_report_refusal(struct import_report *r, const char *text,
			   long would, long limit);

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
