/* import-run.c - one whole import-dir run: producer, cache, consumer
 * (see import.h for the map of the pipeline) */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "hashcache.h"
#include "import-scan.h"
#include "import-write.h"
#include "import.h"
#include "source.h"
#include "walk.h"

static void count(const struct mreg_scan *s, const struct mreg_importer *w,
		  struct mreg_import_counts *out)
{
	out->scanned = atomic_load(&s->scanned);
	out->hashed = atomic_load(&s->hashed);
	out->added = w->added;
	out->updated = w->updated;
	out->failed = w->failed;
	out->failed_files = w->failed_files;
	out->pruned = w->pruned;
	out->missing = w->missing;
	out->kept_defaults = w->kept_defaults;
	out->aborted = w->abort_writes;
	out->prune_refused = w->prune_refused;
	out->unchanged = out->scanned - w->added - w->updated - w->failed_files;
	if (out->unchanged < 0)
		out->unchanged = 0;
	/* the prune guard rolled the batches back: nothing was added or
	 * updated (a dry run keeps what it would have done) */
	if (w->prune_refused > 0 && !w->cfg->dry_run)
		out->added = out->updated = 0;
}

/*
 * Start the producer and load the cache while it walks.  0, or -1 with err
 * filled: *fatal tells whether the producer runs and must be drained.
 */
static int start(const struct mreg_import_config *cfg, struct mreg_scan *scan,
		 struct mreg_import_counts *out, bool *fatal,
		 struct mreg_error *err)
{
	/* the boundary of the racy rule, before anything is read */
	if (mreg_fs_clock_read(cfg->rootfd, &scan->clock, err) < 0)
		return -1;
	out->clock_from_fs = scan->clock.from_fs;
	scan->cache = mreg_cache_create();
	if (!scan->cache) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (mreg_scan_start_workers(scan, err) < 0)
		return -1;
	if (mreg_scan_start_walker(scan, err) < 0)
		*fatal = true;
	/* the walk runs meanwhile; found files wait for the cache */
	if (!*fatal && cfg->prepare &&
	    (out->stopped = cfg->prepare(cfg->prepare_arg)) != 0)
		*fatal = true;
	if (!*fatal && mreg_source_load_cache(scan->cache, cfg->conn,
					      cfg->source, err) < 0)
		*fatal = true;
	out->recorded = mreg_cache_count(scan->cache);
	mreg_scan_cache_ready(scan, *fatal);
	return 0;
}

/* Feed every result to the consumer, join the producer, complete. */
static bool consume(const struct mreg_import_config *cfg,
		    struct mreg_scan *scan, struct mreg_importer *w,
		    bool fatal, struct mreg_error *err)
{
	struct mreg_scan_result *r;

	while ((r = mreg_scan_next(scan)) != NULL) {
		if (fatal) {
			mreg_scan_result_free(r);
			continue;
		}
		if (mreg_importer_take(w, r, err) < 0) {
			fatal = true;
			mreg_scan_stop(scan);
		}
	}
	mreg_scan_join(scan);
	if (!fatal && scan->walk_rc < 0) {
		*err = scan->walk_err;
		mreg_error_prefix(err, "could not walk \"%s\"", cfg->label_root);
		fatal = true;
	}
	if (!fatal && mreg_importer_complete(w, err) < 0)
		fatal = true;
	return fatal;
}

int mreg_import_run(const struct mreg_import_config *cfg,
		    struct mreg_import_counts *out, struct mreg_error *err)
{
	struct mreg_scan scan;
	struct mreg_importer w;
	bool fatal = false, started = false;
	const char *root_real = cfg->root_real;
	char real[PATH_MAX], ebuf[128];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!root_real) {
		if (mreg_dir_realpath_of(cfg->rootfd, cfg->label_root, real,
					 sizeof(real)) < 0) {
			mreg_error_set(err, MREG_EXIT_DATA,
				       "could not resolve \"%s\": %s",
				       cfg->label_root,
				       mreg_strerror(errno, ebuf, sizeof(ebuf)));
			return -1;
		}
		root_real = real;
	}
	mreg_scan_init(&scan, cfg, root_real);
	if (mreg_importer_init(&w, cfg, &scan, err) < 0 ||
	    start(cfg, &scan, out, &fatal, err) < 0)
		goto cleanup;
	if (!fatal && cfg->started) {
		cfg->started(cfg->ev.arg, &scan);
		started = true;
	}
	fatal = consume(cfg, &scan, &w, fatal, err);
	count(&scan, &w, out);
	if (started && cfg->ended)
		cfg->ended(cfg->ev.arg, &scan);
	rc = fatal && !out->stopped ? -1 : 0;
cleanup:
	mreg_importer_finish(&w);
	mreg_scan_finish(&scan);
	mreg_cache_destroy(scan.cache);
	return rc;
}
