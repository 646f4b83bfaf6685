/* import.c - one whole import-dir run (see import.h) */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "hashcache.h"
#include "import.h"
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
	out->unchanged = out->scanned - w->added - w->updated - w->failed_files;
	if (out->unchanged < 0)
		out->unchanged = 0;
}

int mreg_import_run(const struct mreg_import_config *cfg,
		    struct mreg_import_counts *out, struct mreg_error *err)
{
	struct mreg_scan scan;
	struct mreg_importer w;
	struct mreg_scan_result *r;
	bool fatal = false, started = false;
	char real[PATH_MAX], ebuf[128];

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	mreg_scan_init(&scan);
	if (!cfg->root_real &&
	    mreg_dir_realpath_of(cfg->rootfd, cfg->label_root, real,
				 sizeof(real)) < 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "could not resolve \"%s\": %s",
			       cfg->label_root,
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		goto fail;
	}
	scan.rootfd = cfg->rootfd;
	scan.root_real = cfg->root_real ? cfg->root_real : real;
	scan.follow_external = cfg->follow_external;
	scan.pattern = cfg->pattern;
	scan.max_file_size = cfg->max_file_size;
	scan.rehash = cfg->rehash;
	w.scan = &scan;
	w.conn = cfg->conn;
	w.actor = cfg->actor;
	w.source = cfg->source;
	w.label_root = cfg->label_root;
	w.batch_size = cfg->batch_size;
	w.strict = cfg->strict;
	w.dry_run = cfg->dry_run;
	w.prune = cfg->prune;
	w.ev = cfg->ev;

	/* the boundary of the racy rule, before anything is read */
	if (mreg_fs_clock_read(cfg->rootfd, &scan.clock, err) < 0)
		goto fail;
	out->clock_from_fs = scan.clock.from_fs;
	scan.cache = mreg_cache_create();
	if (!scan.cache) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto fail;
	}
	if (mreg_importer_init(&w, err) < 0)
		goto fail;
	if (mreg_scan_start_workers(&scan, cfg->jobs, err) < 0)
		goto fail;
	if (mreg_scan_start_walker(&scan, err) < 0)
		fatal = true;
	/* the walk runs meanwhile; found files wait for the cache */
	if (!fatal && mreg_import_load_cache(scan.cache, cfg->conn,
					     cfg->source, err) < 0)
		fatal = true;
	out->recorded = mreg_cache_count(scan.cache);
	mreg_scan_cache_ready(&scan, fatal);
	if (!fatal && cfg->started) {
		cfg->started(cfg->ev.arg, &scan);
		started = true;
	}

	while ((r = mreg_scan_next(&scan)) != NULL) {
		if (fatal) {
			mreg_scan_result_free(r);
			continue;
		}
		if (mreg_importer_take(&w, r, err) < 0) {
			fatal = true;
			mreg_scan_stop(&scan);
		}
	}
	mreg_scan_join(&scan);
	if (!fatal && scan.walk_rc < 0) {
		*err = scan.walk_err;
		mreg_error_prefix(err, "could not walk \"%s\"", cfg->label_root);
		fatal = true;
	}
	if (!fatal && mreg_importer_complete(&w, err) < 0)
		fatal = true;
	count(&scan, &w, out);
	if (started && cfg->ended)
		cfg->ended(cfg->ev.arg, &scan);
	mreg_importer_finish(&w);
	mreg_scan_finish(&scan);
	mreg_cache_destroy(scan.cache);
	return fatal ? -1 : 0;

fail:
	mreg_importer_finish(&w);
	mreg_scan_finish(&scan);
	mreg_cache_destroy(scan.cache);
	return -1;
}
