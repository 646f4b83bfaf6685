/* test-bench-threshold.c - --threshold: parsing (and what a malformed one
 * says), evaluation against a run's result, at the limits */
#include <math.h>
#include <string.h>

#include "bench-threshold.h"
#include "histogram.h"
#include "tap.h"

static void parses(const char *expr, const char *metric, int kind, int op,
		   double limit, double limit_cmp)
{
	struct mreg_bench_threshold t;
	struct mreg_error err;
	int rc = mreg_bench_threshold_parse(expr, &t, &err);

	ok(rc == 0, "'%s' parses%s%s", expr, rc ? ": " : "",
	   rc ? err.message : "");
	if (rc)
		return;
	is_str(t.metric, metric, "'%s': metric", expr);
	is_int(t.kind, kind, "'%s': kind", expr);
	is_int(t.op, op, "'%s': op", expr);
	ok(fabs(t.limit - limit) <= 1e-12 * fabs(limit),
	   "'%s': limit %g (got %g)", expr, limit, t.limit);
	ok(t.limit_cmp == limit_cmp, "'%s': compared with %g (got %g)", expr,
	   limit_cmp, t.limit_cmp);
}

static void refused(const char *expr, const char *why)
{
	struct mreg_bench_threshold t;
	struct mreg_error err;
	int rc = mreg_bench_threshold_parse(expr, &t, &err);

	ok(rc < 0 && err.status == MREG_EXIT_USAGE &&
		   strstr(err.message, why) != NULL,
	   "'%s' is refused: '%s' (got '%s')", expr, why,
	   rc < 0 ? err.message : "accepted");
}

static void test_parse(void)
{
	parses("p99<5ms", "p99", MREG_BENCH_M_PERCENTILE, MREG_BENCH_LT, 0.005, 5e6);
	parses("p95<=20ms", "p95", MREG_BENCH_M_PERCENTILE, MREG_BENCH_LE, 0.02, 2e7);
	parses("p99.9 < 250 us", "p99.9", MREG_BENCH_M_PERCENTILE, MREG_BENCH_LT,
	       250e-6, 250e3);
	parses("mean<2ms", "mean", MREG_BENCH_M_MEAN, MREG_BENCH_LT, 0.002, 2e6);
	parses("max<1s", "max", MREG_BENCH_M_MAX, MREG_BENCH_LT, 1.0, 1e9);
	parses("min>=0.5us", "min", MREG_BENCH_M_MIN, MREG_BENCH_GE, 0.5e-6, 500);
	parses("stddev<1ms", "stddev", MREG_BENCH_M_STDDEV, MREG_BENCH_LT, 0.001, 1e6);
	parses("errors<0.1%", "errors_pct", MREG_BENCH_M_ERRORS_PCT, MREG_BENCH_LT,
	       0.1, 0.1);
	parses("errors==0", "errors", MREG_BENCH_M_ERRORS, MREG_BENCH_EQ, 0, 0);
	parses("errors!=3", "errors", MREG_BENCH_M_ERRORS, MREG_BENCH_NE, 3, 3);
	parses("tps>1000", "tps", MREG_BENCH_M_TPS, MREG_BENCH_GT, 1000, 1000);
	parses("tps>=12.5", "tps", MREG_BENCH_M_TPS, MREG_BENCH_GE, 12.5, 12.5);
	parses("p100<=1s", "p100", MREG_BENCH_M_PERCENTILE, MREG_BENCH_LE, 1, 1e9);

	refused("p99<5", "a latency needs a unit, us, ms or s");
	refused("p99<5min", "unknown unit 'min': a latency takes us, ms or s");
	refused("p99<5m", "unknown unit 'm'");
	refused("p99", "expected a comparison after 'p99'");
	refused("p99=5ms", "expected a comparison");
	refused("p99<", "expected a number after 'p99<'");
	refused("p99<-1ms", "expected a number");
	refused("p99<0x10ms", "unknown unit 'x10ms'");
	refused("p99<nanms", "expected a number");
	refused("p99<.ms", "expected a number");
	refused("p0<1ms", "must be above p0 and at most p100");
	refused("p101<1ms", "must be above p0 and at most p100");
	refused("p9.9.9<1ms", "must be above p0");
	refused("latency<1ms", "unknown metric 'latency'");
	refused("<1ms", "unknown metric ''");
	refused("P99<1ms", "unknown metric");
	refused("", "unknown metric");
	refused("errors<0.1", "errors takes a whole count or a percentage");
	refused("errors<1ms", "errors takes a whole count or a percentage");
	refused("errors<101%", "a percentage is at most 100");
	refused("tps>1000%", "tps takes a plain number");
	refused("tps>1k", "tps takes a plain number");
	refused("p99<1ms extra", "unknown unit 'msextra'");
}

/* A result with these successful latencies (ns) and failures. */
static struct mreg_bench_result result(const uint64_t *ns, int n,
				       uint64_t errors, double elapsed)
{
	struct mreg_bench_result r = { 0 };

	r.latency = mreg_histogram_create();
	if (!r.latency)
		bail_out("out of memory");
	for (int i = 0; i < n; i++)
		mreg_histogram_record(r.latency, ns[i]);
	r.transactions = (uint64_t)n;
	r.errors = errors;
	r.elapsed_s = elapsed;
	return r;
}

static void check(const struct mreg_bench_result *r, const char *expr,
		  bool want, double want_value)
{
	struct mreg_bench_threshold t;
	struct mreg_error err;
	bool have, got;
	double v;

	if (mreg_bench_threshold_parse(expr, &t, &err) < 0)
		bail_out(err.message);
	got = mreg_bench_threshold_check(&t, r, &v, &have);
	ok(got == want && have && fabs(v - want_value) <= 1e-9 * fabs(want_value),
	   "'%s' %s (value %g, want %g)", expr, want ? "passes" : "fails", v,
	   want_value);
}

static void test_eval(void)
{
	static const uint64_t ns[] = { 1000000, 2000000, 3000000, 4000000,
				       5000000 };
	struct mreg_bench_result r = result(ns, 5, 0, 2.0);
	struct mreg_bench_result e;
	struct mreg_bench_threshold t;
	struct mreg_error err;
	bool have;
	double v;

	check(&r, "max<=5ms", true, 0.005);
	check(&r, "max<5ms", false, 0.005);
	check(&r, "min==1ms", true, 0.001);
	check(&r, "min>1000us", false, 0.001);
	check(&r, "mean==3ms", true, 0.003);
	check(&r, "stddev<1.5ms", true, sqrt(2e12) / 1e9);
	check(&r, "stddev>1.4ms", true, sqrt(2e12) / 1e9);
	check(&r, "p1<1us", false, mreg_histogram_percentile(r.latency, 1) / 1e9);
	check(&r, "p50<10s", true, mreg_histogram_percentile(r.latency, 50) / 1e9);
	check(&r, "errors==0", true, 0);
	check(&r, "errors<0.1%", true, 0);
	check(&r, "tps==2.5", true, 2.5);
	check(&r, "tps>1000", false, 2.5);
	mreg_bench_result_finish(&r);

	/* 1 failure in 1000 requests: 0.1% */
	{
		uint64_t many[999];

		for (int i = 0; i < 999; i++)
			many[i] = 1000;
		r = result(many, 999, 1, 1.0);
	}
	check(&r, "errors<0.1%", false, 0.1);
	check(&r, "errors<=0.1%", true, 0.1);
	check(&r, "errors==0", false, 1);
	check(&r, "errors<2", true, 1);
	mreg_bench_result_finish(&r);

	/* no successful request: latencies have no value and fail */
	e = result(NULL, 0, 4, 1.0);
	if (mreg_bench_threshold_parse("p99<1s", &t, &err) < 0)
		bail_out(err.message);
	ok(!mreg_bench_threshold_check(&t, &e, &v, &have) && !have,
	   "a latency threshold of a run without successes fails, no value");
	check(&e, "errors<=100%", true, 100);
	check(&e, "tps<1", true, 0);
	mreg_bench_result_finish(&e);
	e = result(NULL, 0, 0, 0);
	check(&e, "errors<0.1%", true, 0);
	check(&e, "tps==0", true, 0);
	mreg_bench_result_finish(&e);
}

int main(void)
{
	test_parse();
	test_eval();
	is_str(mreg_bench_op_name(MREG_BENCH_NE), "!=", "operator names");
	return tap_done();
}
