/* import-dir-progress.c - import-dir's progress line (see
 * import-dir-progress.h) */
#include "import-dir-progress.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "walk.h"

static double elapsed_s(const struct import_progress *p)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) +
	       (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

void import_progress_clear(struct import_progress *p)
{
	if (p->shown) {
		if (cli_isatty(stderr))
			cli_live_line(NULL);
		p->shown = false;
	}
}

/* The files to import, or -1 while not known yet. */
static long total_files(const struct import_progress *p)
{
	if (atomic_load(&p->scan->walk_done))
		return atomic_load(&p->scan->scanned);
	if (atomic_load(&p->count_done))
		return atomic_load(&p->counted);
	return -1;
}

static void progress_text(const struct import_progress *p, char *buf,
			  size_t len)
{
	long scanned = atomic_load(&p->scan->scanned);
	long hashed = atomic_load(&p->scan->hashed);
	long done = atomic_load(&p->scan->done);
	long total = total_files(p);
	double t = elapsed_s(p), rate = t > 0 ? (double)done / t : 0;
	char eta[32] = "";

	if (total < 0) {
		snprintf(buf, len, "scanned %ld, hashed %ld, imported %ld "
			 "(%.0f files/s)", scanned, hashed, done, rate);
		return;
	}
	if (total < done)
		total = done; /* the tree grew under the count */
	if (rate > 0)
		snprintf(eta, sizeof(eta), ", ETA %.0f s",
			 (double)(total - done) / rate);
	snprintf(buf, len, "scanned %ld, hashed %ld, imported %ld of %ld "
		 "(%.0f%%, %.0f files/s%s)", scanned, hashed, done, total,
		 total > 0 ? 100.0 * (double)done / (double)total : 100.0,
		 rate, eta);
}

static void draw(struct import_progress *p)
{
	char text[256];

	progress_text(p, text, sizeof(text));
	if (cli_isatty(stderr))
		cli_live_line(text);
	else
		cli_log_line("%s", text);
	p->shown = true;
}

static void *progress_main(void *arg)
{
	struct import_progress *p = arg;
	struct timespec ts = { 0, 250 * 1000 * 1000 };
	bool tty = cli_isatty(stderr);
	int ticks = 0;

	while (!atomic_load(&p->stop)) {
		nanosleep(&ts, NULL);
		/* a terminal gets 4 updates a second, a log one a second */
		if (!tty && ++ticks % 4 != 0)
			continue;
		pthread_mutex_lock(p->print_lock);
		if (!atomic_load(&p->stop))
			draw(p);
		pthread_mutex_unlock(p->print_lock);
	}
	return NULL;
}

/* The counting walk: the files the import's walk counts as scanned. */
static int count_one(void *arg, const char *rel, const struct stat *st,
		     const struct mreg_error *err)
{
	struct import_progress *p = arg;

	(void)rel;
	(void)err;
	if (st)
		atomic_fetch_add(&p->counted, 1);
	/* once the import's own walk is done its count is the total */
	return atomic_load(&p->stop) || atomic_load(&p->scan->walk_done) ? 1
									   : 0;
}

static void *counter_main(void *arg)
{
	struct import_progress *p = arg;
	struct mreg_tree tree = { p->cfg->rootfd, p->cfg->root_real,
				  p->cfg->follow_external };
	struct mreg_error err;

	mreg_error_clear(&err);
	if (mreg_walk(&tree, p->cfg->pattern, 0, count_one, p, &err) == 0)
		atomic_store(&p->count_done, true);
	return NULL;
}

void import_progress_start(struct import_progress *p,
			   const struct mreg_scan *scan,
			   const struct mreg_import_config *cfg,
			   pthread_mutex_t *print_lock,
			   const struct timespec *t0)
{
	p->scan = scan;
	p->cfg = cfg;
	p->print_lock = print_lock;
	p->t0 = *t0;
	p->shown = p->started = p->counter_started = false;
	atomic_init(&p->stop, false);
	atomic_init(&p->counted, 0);
	atomic_init(&p->count_done, false);
	if (pthread_create(&p->thread, NULL, progress_main, p) != 0)
		return;
	p->started = true;
	if (pthread_create(&p->counter, NULL, counter_main, p) == 0)
		p->counter_started = true;
}

void import_progress_end(struct import_progress *p)
{
	if (!p->started)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	if (p->counter_started)
		pthread_join(p->counter, NULL);
	p->started = p->counter_started = false;
	pthread_mutex_lock(p->print_lock);
	if (!cli_isatty(stderr))
		draw(p);
	import_progress_clear(p);
	pthread_mutex_unlock(p->print_lock);
}
