/* bench.c - the load generator behind 'mreg bench': a run's configuration,
 * start, progress, end and results (see bench.h and bench-impl.h) */
#include "bench-impl.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* --- the run --------------------------------------------------------------- */

static void worker_free(struct bench_worker *w)
{
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		mreg_histogram_destroy(w->hist[i]);
	mreg_histogram_destroy(w->lag);
	mreg_histogram_destroy(w->interval);
	free(w->clients);
	free(w->pfd);
	free(w->pclient);
	mreg_bench_logbuf_finish(&w->logbuf);
	pthread_mutex_destroy(&w->lock);
}

static long long real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int check_config(const struct mreg_bench_config *cfg,
			struct mreg_error *err)
{
	unsigned total = 0;

	if (cfg->weights[MREG_BENCH_IMPORT])
		return mreg_bench_check_import_config(cfg, err);
	if (cfg->clients < 1 || cfg->threads < 1 || cfg->threads > cfg->clients) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "threads must be between 1 and the number of clients");
		return -1;
	}
	if (!cfg->connect_per_request && !cfg->pool) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no connection pool");
		return -1;
	}
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		total += cfg->weights[i];
	if (total == 0) {
		mreg_error_set(err, MREG_EXIT_USAGE, "no workload selected");
		return -1;
	}
	if (cfg->duration_s <= 0 && cfg->transactions <= 0) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "neither a duration nor a transaction count");
		return -1;
	}
	if (!cfg->data) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no workload parameters");
		return -1;
	}
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		const struct mreg_bench_data *d = cfg->data;
		const char *why = NULL;

		if (!cfg->weights[i])
			continue;
		if (i == MREG_BENCH_GET_DEFAULT && d->ntypes == 0)
			why = "no type has a default model";
		else if (i == MREG_BENCH_LIST && d->nlist_types == 0)
			why = "the registry holds no models";
		else if (i == MREG_BENCH_SHOW && d->nshow == 0)
			why = "the registry holds no models";
		else if (i == MREG_BENCH_SEARCH && d->nterms == 0)
			why = "the registry holds no models to search for";
		else if (i == MREG_BENCH_SET_DEFAULT && d->nsd == 0)
			why = "no type has a default that mreg bench created"
			      " (set-default only moves bench defaults)";
		if (!why)
			continue;
		mreg_error_set(err, MREG_EXIT_DATA, "cannot run %s: %s",
			       mreg_bench_workload_table[i].name, why);
		mreg_error_hint(err, "Fill a scratch registry with --populate N.");
		return -1;
	}
	return 0;
}

struct mreg_bench *mreg_bench_start(const struct mreg_bench_config *cfg,
				    struct mreg_error *err)
{
	struct mreg_bench *b = NULL;
	sigset_t all, old;
	int per, extra, next_client = 0;

	if (check_config(cfg, err) < 0)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto oom;
	b->cfg = *cfg;
	if (cfg->connect_per_request &&
	    mreg_connector_init(&b->connector, cfg->dsn,
				cfg->application_name ? cfg->application_name
						      : "mreg bench",
				0, err) < 0) {
		mreg_bench_destroy(b);
		return NULL;
	}
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		b->weight_total += cfg->weights[i];
	b->import = cfg->weights[MREG_BENCH_IMPORT] != 0;
	b->real_offset_ns = real_ns() - now_ns();
	if (cfg->latency_log) {
		if (mreg_bench_log_init(&b->log, cfg->latency_log_fd) < 0)
			goto oom;
		b->have_log = true;
	}
	/* import: one thread per client, each running one import at a time */
	b->nworkers = b->import ? cfg->clients : cfg->threads;
	b->workers = calloc((size_t)b->nworkers, sizeof(*b->workers));
	b->interval_merge = mreg_histogram_create();
	if (!b->workers || !b->interval_merge)
		goto oom;
	per = cfg->clients / b->nworkers;
	extra = cfg->clients % b->nworkers;
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		w->b = b;
		w->tree.dirfd = -1;
		pthread_mutex_init(&w->lock, NULL);
		w->nclients = per + (t < extra);
		w->rng = (cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ULL) ^
			 ((uint64_t)(t + 1) * 0xBF58476D1CE4E5B9ULL);
		w->clients = calloc((size_t)w->nclients, sizeof(*w->clients));
		w->pfd = calloc((size_t)w->nclients, sizeof(*w->pfd));
		w->pclient = calloc((size_t)w->nclients, sizeof(*w->pclient));
		w->lag = mreg_histogram_create();
		w->interval = mreg_histogram_create();
		if (!w->clients || !w->pfd || !w->pclient || !w->lag ||
		    !w->interval ||
		    (b->have_log && mreg_bench_logbuf_init(&w->logbuf) < 0))
			goto oom;
		for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
			if (!(w->hist[i] = mreg_histogram_create()))
				goto oom;
		for (int i = 0; i < w->nclients; i++) {
			w->clients[i].w = w;
			w->clients[i].index = next_client++;
		}
	}

	if (!cfg->connect_per_request) {
		struct mreg_pool_stats st;

		mreg_pool_get_stats(cfg->pool, &st);
		b->pool_can_fill = st.max_size < cfg->clients;
		if (cfg->read_pool) {
			mreg_pool_get_stats(cfg->read_pool, &st);
			b->pool_can_fill |= st.max_size < cfg->clients;
		}
	}
	if (b->import && mreg_bench_import_prepare(b, err) < 0) {
		mreg_bench_destroy(b);
		return NULL;
	}
	b->t0_ns = now_ns();
	b->measure_ns = b->t0_ns + (long long)(cfg->warmup_s * NS_PER_S);
	b->end_ns = cfg->duration_s > 0
			    ? b->measure_ns + (long long)(cfg->duration_s * NS_PER_S)
			    : LLONG_MAX;
	b->last_interval_ns = b->t0_ns;
	atomic_init(&b->tickets, cfg->transactions);
	atomic_init(&b->stop, false);
	atomic_init(&b->running, b->nworkers);
	if (cfg->rate > 0) {
		double gap = (double)NS_PER_S / cfg->rate;

		b->interval_ns = (long long)(gap * cfg->clients);
		if (b->interval_ns < 1)
			b->interval_ns = 1;
		for (int t = 0; t < b->nworkers; t++)
			for (int i = 0; i < b->workers[t].nclients; i++) {
				struct bench_client *c = &b->workers[t].clients[i];

				c->next_ns = b->t0_ns + (long long)(gap * c->index);
			}
	}

	/* Workers never take signals: the caller's thread handles Ctrl-C. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int t = 0; t < b->nworkers; t++) {
		int rc = pthread_create(&b->workers[t].thread, NULL,
					b->import ? mreg_bench_import_main : mreg_bench_worker_main,
					&b->workers[t]);
		char msg[128];

		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "could not start worker thread: %s",
				       mreg_strerror(rc, msg, sizeof(msg)));
			/* the threads started so far stop at once */
			atomic_store(&b->stop, true);
			atomic_fetch_sub(&b->running, b->nworkers - t);
			mreg_bench_destroy(b);
			return NULL;
		}
		b->workers[t].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (b->import && mreg_bench_import_wait_setup(b, err) < 0) {
		mreg_bench_destroy(b);
		return NULL;
	}
	return b;

oom:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	mreg_bench_destroy(b);
	return NULL;
}

void mreg_bench_stop(struct mreg_bench *b)
{
	if (b)
		atomic_store(&b->stop, true);
}

bool mreg_bench_wait(struct mreg_bench *b, int timeout_ms)
{
	long long until = now_ns() + (long long)timeout_ms * NS_PER_MS;
	struct timespec ts = { 0, 10 * NS_PER_MS };

	for (;;) {
		if (atomic_load(&b->running) == 0)
			return true;
		if (now_ns() >= until)
			return false;
		/* a signal cuts the sleep short so the caller can react */
		if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
			return atomic_load(&b->running) == 0;
	}
}

void mreg_bench_interval(struct mreg_bench *b, struct mreg_bench_interval *out)
{
	long long now = now_ns();

	memset(out, 0, sizeof(*out));
	mreg_histogram_reset(b->interval_merge);
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		pthread_mutex_lock(&w->lock);
		out->transactions += w->interval_tx;
		out->errors += w->interval_err;
		mreg_histogram_merge(b->interval_merge, w->interval);
		mreg_histogram_reset(w->interval);
		w->interval_tx = w->interval_err = 0;
		pthread_mutex_unlock(&w->lock);
	}
	out->p99_ns = mreg_histogram_percentile(b->interval_merge, 99.0);
	out->elapsed_s = (double)(now - b->t0_ns) / NS_PER_S;
	out->interval_s = (double)(now - b->last_interval_ns) / NS_PER_S;
	out->warming_up = now < b->measure_ns;
	b->last_interval_ns = now;
}

static void join_all(struct mreg_bench *b)
{
	for (int t = 0; t < b->nworkers; t++)
		if (b->workers[t].started) {
			pthread_join(b->workers[t].thread, NULL);
			b->workers[t].started = false;
		}
}

int mreg_bench_finish(struct mreg_bench *b, struct mreg_bench_result *res,
		      struct mreg_error *err)
{
	long long finished = b->measure_ns;

	memset(res, 0, sizeof(*res));
	join_all(b);
	res->latency = mreg_histogram_create();
	res->lag = mreg_histogram_create();
	if (!res->latency || !res->lag)
		goto oom;
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (!(res->by_workload[i] = mreg_histogram_create()))
			goto oom;
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		if (w->finished_ns > finished)
			finished = w->finished_ns;
		if (b->have_log) /* the threads have ended: no contention */
			mreg_bench_log_flush(&b->log, &w->logbuf);
		res->transactions += w->transactions;
		res->connections_opened += w->connections_opened;
		mreg_histogram_merge(res->lag, w->lag);
		for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
			mreg_histogram_merge(res->by_workload[i], w->hist[i]);
			mreg_histogram_merge(res->latency, w->hist[i]);
			res->errors_by_workload[i] += w->errors_by_workload[i];
		}
		for (int k = 0; k < MREG_BENCH_NERRKINDS; k++) {
			res->errors += w->errors_by_kind[k];
			res->errors_by_kind[k] += w->errors_by_kind[k];
			if (!res->first_error[k][0] && w->first_error[k][0])
				memcpy(res->first_error[k], w->first_error[k],
				       sizeof(res->first_error[k]));
		}
	}
	res->elapsed_s = (double)(finished - b->measure_ns) / NS_PER_S;
	res->interrupted = atomic_load(&b->stop);
	res->started_unix_ns = b->measure_ns + b->real_offset_ns;
	res->finished_unix_ns = finished + b->real_offset_ns;
	if (b->have_log)
		res->latency_log_error = mreg_bench_log_error(&b->log,
							      &res->latency_log_lines);
	return 0;

oom:
	mreg_bench_result_finish(res);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

void mreg_bench_result_finish(struct mreg_bench_result *res)
{
	if (!res)
		return;
	mreg_histogram_destroy(res->latency);
	mreg_histogram_destroy(res->lag);
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		mreg_histogram_destroy(res->by_workload[i]);
	memset(res, 0, sizeof(*res));
}

void mreg_bench_destroy(struct mreg_bench *b)
{
	if (!b)
		return;
	if (b->workers) {
		atomic_store(&b->stop, true);
		if (b->setup_sync) { /* wake clients waiting for the start */
			pthread_mutex_lock(&b->setup_lock);
			pthread_cond_broadcast(&b->setup_cond);
			pthread_mutex_unlock(&b->setup_lock);
		}
		join_all(b);
		for (int t = 0; t < b->nworkers; t++)
			if (b->workers[t].b) {
				mreg_bench_tree_finish(&b->workers[t].tree);
				worker_free(&b->workers[t]);
			}
		free(b->workers);
	}
	mreg_bench_remove_dir(b->import_dir);
	free(b->import_dir);
	if (b->setup_sync) {
		pthread_mutex_destroy(&b->setup_lock);
		pthread_cond_destroy(&b->setup_cond);
	}
	mreg_histogram_destroy(b->interval_merge);
	mreg_connector_finish(&b->connector);
	if (b->have_log)
		mreg_bench_log_finish(&b->log);
	free(b);
}
