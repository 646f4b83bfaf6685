/* import-dir-plan.h - import-dir --plan as text, for people
 *
 * One line per model: "add P/N (DIR/path)", "update P/N (DIR/path)"
 * followed by one indented line per changed field ("    description:
 * OLD -> NEW", the values as JSON, cut to a readable width and escaped
 * for the terminal), "deactivate P/N (DIR/path gone)".  Bad files are
 * reported on stderr as import-dir reports them; the summary line is
 * import-dir-report.c's.  JSON: import_report_plan_item.
 */
#ifndef MREG_IMPORT_DIR_PLAN_H
#define MREG_IMPORT_DIR_PLAN_H

#include <stdbool.h>

#include "cli.h"

/* fields: the planned event's JSON text (common/import.h) */
void import_plan_print_change(const char *label_root, bool create,
			      const char *resource, const char *rel,
			      const char *fields);
void import_plan_print_deactivate(const char *label_root,
				  const char *resource, const char *rel);

/* --prune-max N or P% (P from 0 to 100): 0, or -1 when arg is neither. */
int import_plan_parse_prune_max(const char *arg, long *max, bool *percent);

#endif
