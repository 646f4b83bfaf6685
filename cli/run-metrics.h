/* run-metrics.h - --metrics-file PATH of a command (common/metrics.h)
 *
 * A command that takes --metrics-file keeps one struct cli_metrics:
 * cli_metrics_init() when it starts (the clock of the duration),
 * cli_metrics_path() from its option handler, its own counts once it has
 * them (cli_metrics_import(), ..., or mreg_metrics_add() on ->m), and
 * cli_metrics_finish() with the exit status just before cli_finish().
 * The file is written on failure too, so that it says the run failed;
 * a usage error (exit 2) is no run and leaves the file as it was.
 */
#ifndef MREG_CLI_RUN_METRICS_H
#define MREG_CLI_RUN_METRICS_H

#include <stdbool.h>
#include <time.h>

#include "cli.h"
#include "metrics.h"

struct mreg_import_counts;
struct mreg_bulk_result;

struct cli_metrics {
	const char *path;       /* --metrics-file, or NULL: nothing to do */
	const char *command;    /* the command label */
	struct mreg_metrics *m; /* made on first use (cli_metrics_get) */
	struct timespec t0;
};

/* The run starts now. */
void cli_metrics_init(struct cli_metrics *cm);

/* --metrics-file PATH: 0, or a usage error's exit status. */
int cli_metrics_path(const struct cli_ctx *ctx, struct cli_metrics *cm,
		     const char *arg);

/*
 * The file being built (label command="<command>" set), NULL without
 * --metrics-file (or out of memory: finish says so).
 */
struct mreg_metrics *cli_metrics_get(struct cli_metrics *cm);

/* The counts of one import-dir run. */
void cli_metrics_import(struct cli_metrics *cm,
			const struct mreg_import_counts *c, bool dry_run);
/* The outcome of one bulk-update. */
void cli_metrics_bulk(struct cli_metrics *cm, const struct mreg_bulk_result *r,
		      bool dry_run);
/* migrate: migrations applied by this run, pending and drifted after it. */
void cli_metrics_migrate(struct cli_metrics *cm, int applied, int pending,
			 int drifted);

/*
 * Add how the run went (its duration, the time, status, the last
 * success) and write the file.  Returns status, or MREG_EXIT_FAILURE when
 * status was 0 and the file could not be written (said on stderr; what
 * the command did in the registry stays done).  Frees cm->m.
 */
int cli_metrics_finish(const struct cli_ctx *ctx, struct cli_metrics *cm,
		       int status);

#endif
