/* bench-threshold.h - mreg bench --threshold: k6-style pass/fail criteria
 *
 *   METRIC OP VALUE[UNIT]        e.g. p99<5ms  errors<0.1%  tps>=1000
 *
 * METRIC: a latency - min, mean, max, stddev, or a percentile pN (p50,
 * p90, p95, p99, p99.9, any 0 < N <= 100) - with a unit us, ms or s;
 * errors, a count of failed requests, or with % their share of all
 * requests; tps, succeeded requests per second.  OP: < <= > >= == !=.
 * Spaces around the parts are allowed.
 *
 * Evaluated on the whole run's merged histogram (the percentiles within
 * its 0.4%, the rest exact).  A latency threshold of a run without a
 * single successful request has no value and fails.
 */
#ifndef MREG_BENCH_THRESHOLD_H
#define MREG_BENCH_THRESHOLD_H

#include <stdbool.h>

#include "bench.h"
#include "error.h"

enum mreg_bench_metric {
	MREG_BENCH_M_PERCENTILE,
	MREG_BENCH_M_MIN,
	MREG_BENCH_M_MEAN,
	MREG_BENCH_M_MAX,
	MREG_BENCH_M_STDDEV,
	MREG_BENCH_M_ERRORS,     /* count */
	MREG_BENCH_M_ERRORS_PCT, /* percent of all recorded requests */
	MREG_BENCH_M_TPS,
};

enum mreg_bench_op {
	MREG_BENCH_LT, MREG_BENCH_LE, MREG_BENCH_GT, MREG_BENCH_GE,
	MREG_BENCH_EQ, MREG_BENCH_NE,
};

struct mreg_bench_threshold {
	char expr[128];      /* as given, spaces removed */
	char metric[24];     /* "p99", "mean", "errors", "errors_pct", "tps" */
	int kind;            /* enum mreg_bench_metric */
	double pct;          /* MREG_BENCH_M_PERCENTILE: 0 < pct <= 100 */
	int op;              /* enum mreg_bench_op */
	/* seconds for a latency, a count, a percentage, per second */
	double limit;
	double limit_cmp;    /* what the value is compared with: a latency's
			      * in nanoseconds (exact for whole numbers) */
	char unit[4];        /* as written: "us", "ms", "s", "%" or "" */
	double unit_s;       /* a latency: seconds per unit; else 1 */
};

/* Parse expr; -1 with a message saying what was expected. */
int mreg_bench_threshold_parse(const char *expr,
			       struct mreg_bench_threshold *t,
			       struct mreg_error *err);

/* The value of t's metric in the run, in t's units (seconds for a
 * latency); false when it has none (no successful request). */
bool mreg_bench_threshold_value(const struct mreg_bench_threshold *t,
				const struct mreg_bench_result *r,
				double *value);

/* Does the run meet t?  *value as above (0 when it has none). */
bool mreg_bench_threshold_check(const struct mreg_bench_threshold *t,
				const struct mreg_bench_result *r,
				double *value, bool *have_value);

/* "<", "<=", ... */
const char *mreg_bench_op_name(int op);

#endif
