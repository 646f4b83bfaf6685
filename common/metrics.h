/* metrics.h - a metrics file for node_exporter's textfile collector
 *
 * --metrics-file PATH of import-dir, bulk-update, migrate and bench: the
 * Prometheus text exposition format (version 0.0.4, what the textfile
 * collector reads), one "# HELP" and one "# TYPE" line before the samples
 * of each metric, every sample carrying the file's common labels
 * (command="import-dir", ...), so that one collector directory can hold
 * the files of several mreg jobs.  The file is written as a temporary
 * file in PATH's directory (a hidden name that does not end in .prom, so
 * the collector never reads half a file), fsync()ed and renamed over
 * PATH.
 *
 * The counts of a run are gauges (the last run's figures, replaced by the
 * next run), not counters: a counter that starts again at every run
 * would make rate() meaningless.
 *
 * Nothing here prints: errors go to struct mreg_error.  Not thread-safe
 * (one builder per thread).
 */
#ifndef MREG_METRICS_H
#define MREG_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum mreg_metric_type {
	MREG_METRIC_GAUGE,
	MREG_METRIC_COUNTER,
	MREG_METRIC_SUMMARY,
};

struct mreg_metrics;

/* An empty file: no labels, no metrics.  NULL when out of memory. */
struct mreg_metrics *mreg_metrics_create(void);
void mreg_metrics_destroy(struct mreg_metrics *m); /* NULL-safe */

/*
 * A label of every sample (name must be a valid label name; the value is
 * any text, escaped as the format wants, invalid UTF-8 shown as '?').
 * Labels come out in the order they were added.
 */
void mreg_metrics_label(struct mreg_metrics *m, const char *name,
			const char *value);

/*
 * One sample of metric name, the family created with help and type on
 * its first sample.  label/lvalue: one more label of this sample (e.g.
 * result="added"), or NULL.  Errors (out of memory, a bad name) are kept
 * and reported by mreg_metrics_render / _write.
 */
void mreg_metrics_add(struct mreg_metrics *m, const char *name,
		      enum mreg_metric_type type, const char *help,
		      const char *label, const char *lvalue, double value);

/*
 * A summary: name{quantile="q[i]"} v[i] for each of the n quantiles,
 * then name_sum and name_count.
 */
void mreg_metrics_summary(struct mreg_metrics *m, const char *name,
			  const char *help, size_t n, const double *q,
			  const double *v, double sum, double count);

/*
 * How the run went, the metrics every mreg file has:
 *   <prefix>_duration_seconds           duration_s
 *   mreg_last_run_timestamp_seconds     now_s (Unix time)
 *   mreg_last_exit_code                 exit_code
 *   mreg_last_success_timestamp_seconds now_s when exit_code is 0, else
 *     the value the file at path holds for the same labels (left out when
 *     it has none)
 * Call it after the last label was added.
 */
void mreg_metrics_run(struct mreg_metrics *m, const char *prefix,
		      int exit_code, double duration_s, double now_s,
		      const char *path);

/*
 * The value of the sample name{<the common labels>} in the metrics file
 * at path: 0 with *value set, -1 when the file or the sample is missing
 * or unreadable.
 */
int mreg_metrics_previous(const struct mreg_metrics *m, const char *path,
			  const char *name, double *value);

/* The file's text (malloc()ed, *len bytes, NUL-terminated), or NULL. */
char *mreg_metrics_render(const struct mreg_metrics *m, size_t *len,
			  struct mreg_error *err);

/*
 * Render and write to path atomically (temporary file in its directory,
 * fsync, rename; the temporary file removed on failure).  A new file is
 * mode 0644 (the collector usually runs as another user); a file that
 * exists keeps its mode.  0, or -1 with err: "could not write metrics
 * file "PATH": <why>", MREG_EXIT_FAILURE.
 */
int mreg_metrics_write(const struct mreg_metrics *m, const char *path,
		       struct mreg_error *err);

/* Unix time now, in seconds (the real-time clock). */
double mreg_metrics_now(void);

#endif
