/* bench-cmd.h - what the files of mreg bench share (cli/bench*.c)
 *
 * cli/bench.c parses the options and drives the run, cli/bench-run.c runs
 * the load (Ctrl-C, progress lines, the pool's warm-up and the cleanup),
 * cli/bench-report.c prints the report as text or as JSON, and
 * cli/bench-judge.c weighs the run against --threshold and decides the exit
 * status.
 */
#ifndef MREG_CLI_BENCH_CMD_H
#define MREG_CLI_BENCH_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bench.h"
#include "bench-threshold.h"
#include "cli.h"
#include "pool.h"
#include "run-metrics.h"

#define BENCH_MAX_THRESHOLDS 32

/* One --threshold after the run. */
struct bench_verdict {
	bool ok;
	bool have_value;      /* false: a latency of a run without successes */
	double value;         /* in the threshold's terms (seconds, count...) */
};

/* The options of one run, as parsed and completed by check_opts. */
struct bench_opts {
	const struct cli_ctx *ctx;
	bool mixed;
	bool have_mix;
	unsigned weights[MREG_BENCH_NWORKLOADS];
	long clients, threads, pool_size, transactions, populate;
	double duration, warmup, rate, progress, pool_timeout;
	bool have_duration;
	bool extended, cpr, force_populate, keep, cleanup, json;
	const char *read_dsn;  /* --read-dsn, else the context's */
	bool protocol_given;   /* --protocol prepared|extended, not auto */
	unsigned long long seed;
	const char *type;
	bool import;                   /* --workload import */
	long import_files;
	double import_change;
	bool have_import_opts;
	struct cli_metrics metrics;    /* --metrics-file */
	struct mreg_bench_threshold thresholds[BENCH_MAX_THRESHOLDS];
	int nthresholds;
	const char *latency_log;       /* --latency-log FILE */
};

/* What the report says about the run besides the result. */
struct bench_run_info {
	const struct bench_opts *o;
	int threads;
	int pool_size;
	bool prepared;
	struct mreg_pool_stats pool; /* during the run */
	bool have_pool;
	int import_jobs;             /* import: worker threads per import */
	long per_request;            /* import: files rewritten per request */
	struct cli_metrics *metrics; /* --metrics-file (in bench_opts) */
	int log_fd;                  /* --latency-log, open; else -1 */
	int log_errno;               /* writing or closing it failed */
	struct bench_verdict verdicts[BENCH_MAX_THRESHOLDS];
	int nfailed;                 /* thresholds not met */
	int exit_code;               /* the run's, for the report */
};

/* bench-report.c */
double bench_ms(uint64_t ns);
int bench_print_json(const struct bench_run_info *ri,
		     const struct mreg_bench_result *r);
void bench_print_table(const struct bench_run_info *ri,
		       const struct mreg_bench_result *r);
/* --metrics-file: the run's figures, then (with the exit status) the file. */
void bench_metrics(struct bench_run_info *ri,
		   const struct mreg_bench_result *r);
int bench_metrics_finish(const struct cli_ctx *ctx, struct bench_opts *o,
			 int status);

/* bench-judge.c */
/* --threshold EXPR: parse and keep it; a usage error's status, or 0. */
int bench_add_threshold(struct bench_opts *o, const char *expr);
/* --latency-log: open the file before anything runs; an exit status or -1. */
int bench_open_latency_log(struct cli_ctx *ctx, const struct bench_opts *o,
			   struct bench_run_info *ri);
/*
 * After the run: close the latency log, weigh the thresholds (into
 * ri->verdicts) and set ri->exit_code.  Nothing printed.
 */
void bench_judge(struct bench_run_info *ri, const struct mreg_bench_result *r);
/* After the report: say on stderr why ri->exit_code is not 0. */
int bench_explain(struct cli_ctx *ctx, const struct bench_run_info *ri,
		  const struct mreg_bench_result *r);
/* The text report's threshold lines. */
void bench_print_thresholds(const struct bench_run_info *ri);
/* The JSON report's "thresholds" array. */
json_t *bench_thresholds_json(const struct bench_run_info *ri);

/* bench-run.c */
double bench_mono_s(void);
/* --cleanup: remove what --keep left.  An exit status. */
int bench_run_cleanup(struct cli_ctx *ctx, struct mreg_pool *pool);
/* Run the load, with progress lines and Ctrl-C; fills res.  Exit status. */
int bench_run_load(struct cli_ctx *ctx, const struct bench_opts *o,
		   const struct mreg_bench_config *cfg,
		   struct mreg_bench_result *res);
int bench_warm_pool(struct mreg_pool *pool, int n, struct mreg_error *err);
/* The pool of the run: one connection for --cleanup and per request. */
/*
 * --protocol auto: named prepared statements on a direct connection,
 * unnamed ones through a transaction-mode pooler (detected on a
 * connection of its own, pooler.h), where a name prepared on one server
 * connection is missing on the next.  -1 to go on, else the exit status.
 */
int bench_pick_protocol(struct cli_ctx *ctx, bool *prepared);
/*
 * The read workloads' pool when a read DSN is given (--read-dsn, global or
 * bench's own, or MREG_READ_DSN), warmed like the main one; *pool stays
 * NULL without one.  -1 to go on, else the exit status.
 */
int bench_open_read_pool(struct cli_ctx *ctx, const struct bench_opts *o,
			 bool prepared, struct mreg_pool **pool);
struct mreg_pool *bench_open_pool(struct cli_ctx *ctx,
				  const struct bench_opts *o, bool prepared,
				  struct mreg_error *err);
/*
 * Populate (--populate), check the registry (import), load the
 * parameters of the requests (--type).  *made is set once there is bench
 * data to remove after the run, even when a later step fails.  -1 when
 * all went well, else an exit status.
 */
int bench_prepare_data(struct cli_ctx *ctx, const struct bench_opts *o,
		       struct mreg_conn *conn, struct mreg_bench_data *data,
		       bool *made);
/* The run's configuration from the options. */
void bench_fill_config(struct cli_ctx *ctx, const struct bench_opts *o,
		       struct mreg_pool *pool,
		       const struct mreg_bench_data *data,
		       struct bench_run_info *ri, struct mreg_bench_config *cfg);
/* Run, measure and print the report; an exit status. */
int bench_measure(struct cli_ctx *ctx, const struct bench_opts *o,
		  struct mreg_pool *pool, const struct mreg_bench_config *cfg,
		  struct bench_run_info *ri);
/* Without --keep the bench data goes after the run; rc, or 1 if not. */
int bench_remove_data(struct cli_ctx *ctx, struct mreg_pool *pool, int rc);

#endif
