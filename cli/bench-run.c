/* bench-run.c - mreg bench: running the load (Ctrl-C, progress, pool) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-cmd.h"

/* --- Ctrl-C ---------------------------------------------------------------- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* First Ctrl-C: stop and report; the handler resets, so a second kills. */
static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	got_signal = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_signals(const struct sigaction *old_int,
			    const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

double bench_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_run_cleanup(struct cli_ctx *ctx, struct mreg_pool *pool)
{
	struct mreg_error err;
	struct mreg_conn *conn = mreg_pool_acquire(pool, &err);
	long n;

	if (!conn)
		return cli_report(ctx, &err);
	n = mreg_bench_cleanup(conn, cli_actor(ctx), &err);
	mreg_pool_release(pool, conn);
	if (n < 0)
		return cli_report(ctx, &err);
	printf("removed %ld synthetic model%s\n", n, n == 1 ? "" : "s");
	return 0;
}

int bench_run_load(struct cli_ctx *ctx, const struct bench_opts *o,
		    const struct mreg_bench_config *cfg,
		    struct mreg_bench_result *res)
{
	struct sigaction old_int, old_term;
	struct mreg_bench_interval iv;
	struct mreg_error err;
	struct mreg_bench *b;
	double next_progress;
	bool stopped = false;
	int rc = 0;

	catch_signals(&old_int, &old_term);
	b = mreg_bench_start(cfg, &err);
	if (!b) {
		restore_signals(&old_int, &old_term);
		return cli_report(ctx, &err);
	}
	next_progress = bench_mono_s() + o->progress;
	while (!mreg_bench_wait(b, 100)) {
		if (got_signal && !stopped) {
			mreg_bench_stop(b);
			stopped = true;
			cli_warn(ctx, "interrupted: finishing the requests in "
				      "flight (Ctrl-C again to quit at once)");
		}
		if (o->progress > 0 && bench_mono_s() >= next_progress) {
			mreg_bench_interval(b, &iv);
			fprintf(stderr,
				"progress: %.1f s, %llu transactions, %.1f tps, "
				"p99 %.3f ms, %llu errors%s\n",
				iv.elapsed_s,
				(unsigned long long)iv.transactions,
				iv.interval_s > 0 ? (double)iv.transactions /
							    iv.interval_s
						  : 0.0,
				bench_ms(iv.p99_ns), (unsigned long long)iv.errors,
				iv.warming_up ? " (warmup)" : "");
			next_progress += o->progress;
		}
	}
	if (mreg_bench_finish(b, res, &err) < 0)
		rc = cli_report(ctx, &err);
	mreg_bench_destroy(b);
	restore_signals(&old_int, &old_term);
	return rc;
}

/*
 * Open the connections the clients will use before the clock starts, as
 * pgbench does: the run measures requests, not connection set-up (that is
 * what --connect-per-request is for).
 */
int bench_warm_pool(struct mreg_pool *pool, int n, struct mreg_error *err)
{
	struct mreg_conn **conns = calloc((size_t)n, sizeof(*conns));
	int rc = 0;

	if (!conns) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		if (!(conns[i] = mreg_pool_acquire(pool, err)))
			rc = -1;
	for (int i = 0; i < n; i++)
		if (conns[i])
			mreg_pool_release(pool, conns[i]);
	free(conns);
	return rc;
}
