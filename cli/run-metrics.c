/* run-metrics.c - --metrics-file PATH of a command (see run-metrics.h) */
#include "run-metrics.h"

#include <string.h>

#include "bulk.h"
#include "import.h"

void cli_metrics_init(struct cli_metrics *cm)
{
	clock_gettime(CLOCK_MONOTONIC, &cm->t0);
}

int cli_metrics_path(const struct cli_ctx *ctx, struct cli_metrics *cm,
		     const char *arg)
{
	if (!*arg)
		return cli_usage(ctx, "--metrics-file: empty path");
	cm->path = arg;
	cm->command = ctx->command;
	return 0;
}

struct mreg_metrics *cli_metrics_get(struct cli_metrics *cm)
{
	if (cm->m || !cm->path)
		return cm->m;
	if ((cm->m = mreg_metrics_create()))
		mreg_metrics_label(cm->m, "command", cm->command);
	return cm->m;
}

#define G MREG_METRIC_GAUGE

void cli_metrics_import(struct cli_metrics *cm,
			const struct mreg_import_counts *c, bool dry_run)
{
	static const char files_help[] =
		"Files of the last run by outcome (unchanged, added, "
		"updated, failed).";
	struct mreg_metrics *m = cli_metrics_get(cm);

	if (!m)
		return;
	mreg_metrics_add(m, "mreg_import_dir_files", G, files_help,
			 "result", "unchanged", (double)c->unchanged);
	mreg_metrics_add(m, "mreg_import_dir_files", G, files_help,
			 "result", "added", (double)c->added);
	mreg_metrics_add(m, "mreg_import_dir_files", G, files_help,
			 "result", "updated", (double)c->updated);
	mreg_metrics_add(m, "mreg_import_dir_files", G, files_help,
			 "result", "failed", (double)c->failed_files);
	mreg_metrics_add(m, "mreg_import_dir_files_scanned", G,
			 "Files the last run's walk found.", NULL, NULL,
			 (double)c->scanned);
	mreg_metrics_add(m, "mreg_import_dir_files_hashed", G,
			 "Files the last run read and hashed (the others were "
			 "trusted from the cache).", NULL, NULL,
			 (double)c->hashed);
	mreg_metrics_add(m, "mreg_import_dir_files_missing", G,
			 "Recorded files the last run found gone.", NULL, NULL,
			 (double)c->missing);
	mreg_metrics_add(m, "mreg_import_dir_models_pruned", G,
			 "Models the last run deactivated (--prune).", NULL,
			 NULL, (double)c->pruned);
	mreg_metrics_add(m, "mreg_import_dir_failures", G,
			 "Problems of the last run: bad files and walk "
			 "errors.", NULL, NULL, (double)c->failed);
	mreg_metrics_add(m, "mreg_import_dir_dry_run", G,
			 "1 when the last run was a dry run (nothing "
			 "written).", NULL, NULL, dry_run || c->aborted);
}

void cli_metrics_bulk(struct cli_metrics *cm, const struct mreg_bulk_result *r,
		      bool dry_run)
{
	static const char models_help[] =
		"Models the last batch selected, by outcome (changed, "
		"unchanged).";
	struct mreg_metrics *m = cli_metrics_get(cm);

	if (!m)
		return;
	mreg_metrics_add(m, "mreg_bulk_update_items", G,
			 "Items the last batch held.", NULL, NULL,
			 (double)r->items);
	mreg_metrics_add(m, "mreg_bulk_update_models", G, models_help,
			 "result", "changed", (double)r->changed);
	mreg_metrics_add(m, "mreg_bulk_update_models", G, models_help,
			 "result", "unchanged", (double)r->unchanged);
	mreg_metrics_add(m, "mreg_bulk_update_defaults_set", G,
			 "Types whose default model the last batch changed.",
			 NULL, NULL, (double)r->defaults_set);
	mreg_metrics_add(m, "mreg_bulk_update_dry_run", G,
			 "1 when the last batch was a dry run (nothing "
			 "written).", NULL, NULL, dry_run);
}

void cli_metrics_migrate(struct cli_metrics *cm, int applied, int pending,
			 int drifted)
{
	struct mreg_metrics *m = cli_metrics_get(cm);

	if (!m)
		return;
	mreg_metrics_add(m, "mreg_migrate_applied", G,
			 "Migrations the last run applied.", NULL, NULL,
			 applied);
	mreg_metrics_add(m, "mreg_migrate_pending", G,
			 "Migrations pending after the last run.", NULL, NULL,
			 pending);
	mreg_metrics_add(m, "mreg_migrate_drifted", G,
			 "Applied migrations whose text changed since (drift).",
			 NULL, NULL, drifted);
}

/* "import-dir" -> "mreg_import_dir" */
static void prefix_of(const char *command, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "mreg_%s", command);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '-')
			buf[i] = '_';
}

int cli_metrics_finish(const struct cli_ctx *ctx, struct cli_metrics *cm,
		       int status)
{
	struct mreg_error err;
	struct timespec t;
	char prefix[64];
	double d;

	if (!cm->path)
		return status;
	if (!cli_metrics_get(cm)) {
		cli_fail(ctx, 0, "could not write metrics file \"%s\": out of "
			 "memory", cm->path);
		return status ? status : MREG_EXIT_FAILURE;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	d = (double)(t.tv_sec - cm->t0.tv_sec) +
	    (double)(t.tv_nsec - cm->t0.tv_nsec) / 1e9;
	prefix_of(ctx->command, prefix, sizeof(prefix));
	mreg_metrics_run(cm->m, prefix, status, d, mreg_metrics_now(),
			 cm->path);
	mreg_error_clear(&err);
	if (mreg_metrics_write(cm->m, cm->path, &err) < 0) {
		cli_report(ctx, &err);
		if (status == 0)
			status = MREG_EXIT_FAILURE;
	} else {
		cli_verbose(ctx, "metrics written to \"%s\"", cm->path);
	}
	mreg_metrics_destroy(cm->m);
	cm->m = NULL;
	return status;
}
