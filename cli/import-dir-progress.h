/* import-dir-progress.h - import-dir's progress line (import-dir.c)
 *
 * On a terminal one live line, redrawn 4 times a second; in a log (with
 * --progress) one line a second, each a log line of its own (so it is
 * stamped or JSON as --log-format says).  The total comes from a walk of
 * its own that only counts (a stat per file: about 35 ms for 10k files),
 * so the percentage and the ETA are there from the first second, not
 * once the import's walk -- held back by its queues -- is over; when that
 * walk is over its count is exact.  NO_COLOR has no say: the line has no
 * colour.
 */
#ifndef MREG_IMPORT_DIR_PROGRESS_H
#define MREG_IMPORT_DIR_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "import-scan.h"
#include "import.h"

struct import_progress {
	/* set by import_progress_start */
	const struct mreg_scan *scan;
	const struct mreg_import_config *cfg;
	pthread_mutex_t *print_lock; /* held while the line is drawn */
	struct timespec t0;          /* the run's start */
	/* private */
	bool shown, started, counter_started;
	atomic_bool stop;
	atomic_long counted;
	atomic_bool count_done;
	pthread_t thread, counter;
};

/* Start drawing (p zeroed by the caller before). */
void import_progress_start(struct import_progress *p,
			   const struct mreg_scan *scan,
			   const struct mreg_import_config *cfg,
			   pthread_mutex_t *print_lock,
			   const struct timespec *t0);

/* Erase the live line before other output (print_lock held). */
void import_progress_clear(struct import_progress *p);

/* Stop: a log gets the final counts, a terminal loses the line. */
void import_progress_end(struct import_progress *p);

#endif
