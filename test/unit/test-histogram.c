/* test-histogram.c - percentiles against a sorted array, merging, buckets,
 * standard deviation */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "histogram.h"
#include "tap.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0; /* [0, 1) */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const double percentiles[] = { 0.1, 1, 10, 25, 50, 75, 90, 95, 99,
				      99.9, 99.99, 100 };

/* Every percentile within the stated relative error of the sorted array. */
static void check_against_sorted(const char *name, uint64_t *v, size_t n)
{
	struct mreg_histogram *h = mreg_histogram_create();
	double sum = 0;
	int bad = 0;

	if (!h)
		bail_out("out of memory");
	for (size_t i = 0; i < n; i++) {
		mreg_histogram_record(h, v[i]);
		sum += (double)v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	is_int(mreg_histogram_count(h), n, "%s: count", name);
	is_int(mreg_histogram_min(h), v[0], "%s: min is exact", name);
	is_int(mreg_histogram_max(h), v[n - 1], "%s: max is exact", name);
	ok(fabs(mreg_histogram_mean(h) - sum / (double)n) <=
		   1e-9 * (sum / (double)n),
	   "%s: mean is exact", name);
	{
		/* two passes in long double: the reference */
		long double mean = 0, ss = 0, sd;

		for (size_t i = 0; i < n; i++)
			mean += (long double)v[i];
		mean /= (long double)n;
		for (size_t i = 0; i < n; i++)
			ss += ((long double)v[i] - mean) * ((long double)v[i] - mean);
		sd = sqrtl(ss / (long double)n);
		ok(fabsl((long double)mreg_histogram_stddev(h) - sd) <= 1e-9L * sd + 1e-9L,
		   "%s: stddev is exact (%.6g vs %.6Lg)", name,
		   mreg_histogram_stddev(h), sd);
	}
	for (size_t k = 0; k < sizeof(percentiles) / sizeof(*percentiles); k++) {
		double p = percentiles[k];
		size_t rank = (size_t)ceil(p / 100.0 * (double)n);
		uint64_t want = v[(rank ? rank : 1) - 1];
		uint64_t got = mreg_histogram_percentile(h, p);
		double diff = fabs((double)got - (double)want);

		if (diff > (double)want * MREG_HISTOGRAM_REL_ERROR) {
			bad++;
			diag("%s: p%g got %llu want %llu", name, p,
			     (unsigned long long)got, (unsigned long long)want);
		}
	}
	ok(bad == 0, "%s: all percentiles within %.2f%% of the sorted array",
	   name, 100.0 * MREG_HISTOGRAM_REL_ERROR);
	mreg_histogram_destroy(h);
}

static void test_buckets(void)
{
	int bad = 0;
	int last = mreg_histogram_bucket_of(UINT64_MAX);

	is_int(mreg_histogram_bucket_of(0), 0, "value 0 in bucket 0");
	is_int(mreg_histogram_bucket_low(0), 0, "bucket 0 starts at 0");
	ok(mreg_histogram_bucket_high(last) == UINT64_MAX,
	   "the last bucket ends at UINT64_MAX");
	for (int i = 0; i <= last; i++) {
		uint64_t lo = mreg_histogram_bucket_low(i);
		uint64_t hi = mreg_histogram_bucket_high(i);

		if (mreg_histogram_bucket_of(lo) != i ||
		    mreg_histogram_bucket_of(hi) != i ||
		    (i < last && mreg_histogram_bucket_low(i + 1) != hi + 1) ||
		    (double)(hi - lo) > (double)lo / 128.0 + 1e-9 * (double)lo) {
			if (bad++ < 5)
				diag("bucket %d: [%llu, %llu]", i,
				     (unsigned long long)lo,
				     (unsigned long long)hi);
		}
	}
	ok(bad == 0, "%d buckets tile the 64-bit range, each within 1/128", last + 1);
	for (uint64_t v = 0; v < 256; v++)
		if (mreg_histogram_bucket_low(mreg_histogram_bucket_of(v)) != v)
			bad++;
	ok(bad == 0, "values below 256 are recorded exactly");
}

static void test_empty_and_edges(void)
{
	struct mreg_histogram *h = mreg_histogram_create();

	if (!h)
		bail_out("out of memory");
	is_int(mreg_histogram_count(h), 0, "empty: count 0");
	is_int(mreg_histogram_percentile(h, 50), 0, "empty: p50 is 0");
	is_int(mreg_histogram_max(h), 0, "empty: max is 0");
	ok(mreg_histogram_mean(h) == 0.0, "empty: mean is 0");

	mreg_histogram_record_n(h, 1000000, 3);
	mreg_histogram_record(h, 7);
	is_int(mreg_histogram_count(h), 4, "record_n counts n values");
	is_int(mreg_histogram_percentile(h, 25), 7, "p25 is the small value");
	is_int(mreg_histogram_percentile(h, 26), 1000000,
	       "p26 is the repeated value (clamped to max)");
	is_int(mreg_histogram_percentile(h, 0), 7, "p0 is the minimum");
	mreg_histogram_record(h, UINT64_MAX);
	ok(mreg_histogram_max(h) == UINT64_MAX, "UINT64_MAX is recorded");
	mreg_histogram_reset(h);
	is_int(mreg_histogram_count(h), 0, "reset empties it");
	mreg_histogram_destroy(h);
	mreg_histogram_destroy(NULL);
	ok(1, "destroy(NULL) is a no-op");
}

/* Per-thread histograms merged give the same answers as one histogram. */
static void test_merge(void)
{
	enum { N = 100000, PARTS = 4 };
	struct mreg_histogram *whole = mreg_histogram_create();
	struct mreg_histogram *merged = mreg_histogram_create();
	struct mreg_histogram *part[PARTS] = { NULL };
	int same = 1;

	if (!whole || !merged)
		bail_out("out of memory");
	for (int i = 0; i < PARTS; i++)
		if (!(part[i] = mreg_histogram_create()))
			bail_out("out of memory");
	for (int i = 0; i < N; i++) {
		uint64_t v = (uint64_t)(exp(rng_unit() * 20.0));

		mreg_histogram_record(whole, v);
		mreg_histogram_record(part[rng() % PARTS], v);
	}
	for (int i = 0; i < PARTS; i++)
		mreg_histogram_merge(merged, part[i]);
	is_int(mreg_histogram_count(merged), N, "merge: counts add up");
	is_int(mreg_histogram_min(merged), mreg_histogram_min(whole), "merge: min");
	is_int(mreg_histogram_max(merged), mreg_histogram_max(whole), "merge: max");
	for (size_t k = 0; k < sizeof(percentiles) / sizeof(*percentiles); k++)
		if (mreg_histogram_percentile(merged, percentiles[k]) !=
		    mreg_histogram_percentile(whole, percentiles[k]))
			same = 0;
	ok(same, "merge: percentiles equal those of one histogram");
	ok(fabs(mreg_histogram_stddev(merged) - mreg_histogram_stddev(whole)) <=
		   1e-9 * mreg_histogram_stddev(whole),
	   "merge: stddev equals that of one histogram");
	ok(fabs(mreg_histogram_mean(merged) - mreg_histogram_mean(whole)) <=
		   1e-9 * mreg_histogram_mean(whole),
	   "merge: mean equals that of one histogram");
	for (int i = 0; i < PARTS; i++)
		mreg_histogram_destroy(part[i]);
	mreg_histogram_destroy(whole);
	mreg_histogram_destroy(merged);
}

/* Known answers, record_n, and what an empty or one-value histogram says. */
static void test_stddev(void)
{
	static const uint64_t v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct mreg_histogram *h = mreg_histogram_create();
	struct mreg_histogram *e = mreg_histogram_create();

	if (!h || !e)
		bail_out("out of memory");
	ok(mreg_histogram_stddev(h) == 0.0, "stddev: empty is 0");
	mreg_histogram_record(h, 1000);
	ok(mreg_histogram_stddev(h) == 0.0, "stddev: one value is 0");
	mreg_histogram_record_n(h, 1000, 5);
	ok(mreg_histogram_stddev(h) == 0.0, "stddev: equal values give 0");
	mreg_histogram_reset(h);
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		mreg_histogram_record(h, v[i]);
	ok(fabs(mreg_histogram_stddev(h) - 2.0) < 1e-12,
	   "stddev: 2 4 4 4 5 5 7 9 gives 2 (population)");
	mreg_histogram_reset(h);
	mreg_histogram_record_n(h, 10, 3);
	mreg_histogram_record(h, 20);
	ok(fabs(mreg_histogram_stddev(h) - sqrt(18.75)) < 1e-12,
	   "stddev: record_n counts each value");
	mreg_histogram_merge(h, e);
	ok(fabs(mreg_histogram_stddev(h) - sqrt(18.75)) < 1e-12,
	   "stddev: merging an empty histogram changes nothing");
	mreg_histogram_merge(e, h);
	ok(fabs(mreg_histogram_stddev(e) - sqrt(18.75)) < 1e-12,
	   "stddev: merging into an empty histogram copies it");
	/* a large offset, tiny spread: no cancellation (10 s +- 1 ns; a
	 * sum of squares would lose it all) */
	mreg_histogram_reset(h);
	for (int i = 0; i < 100000; i++)
		mreg_histogram_record(h, 10000000000ULL + (uint64_t)(i & 1) * 2);
	ok(fabs(mreg_histogram_stddev(h) - 1.0) < 1e-6,
	   "stddev: 1 ns spread around 10 s is 1 ns (%.9g)",
	   mreg_histogram_stddev(h));
	mreg_histogram_destroy(h);
	mreg_histogram_destroy(e);
}

int main(void)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v));
	const char *seed_env = getenv("MREG_TEST_SEED");

	if (!v)
		bail_out("out of memory");
	rng_state = seed_env ? strtoull(seed_env, NULL, 10)
			     : (uint64_t)time(NULL) | 1;
	diag("seed %llu (set MREG_TEST_SEED to repeat)",
	     (unsigned long long)rng_state);

	test_buckets();
	test_empty_and_edges();
	test_stddev();

	/* latencies in ns: uniform 50 us .. 5 ms */
	for (size_t i = 0; i < N; i++)
		v[i] = 50000 + rng() % 4950000;
	check_against_sorted("uniform", v, N);

	/* log-uniform over 1 ns .. ~1 hour: every bucket size is exercised */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)exp(rng_unit() * log(3.6e12));
	check_against_sorted("log-uniform", v, N);

	/* a fat tail: mostly ~200 us, 1% between 100 ms and 10 s */
	for (size_t i = 0; i < N; i++)
		v[i] = rng() % 100 == 0
			       ? 100000000 + rng() % 9900000000ULL
			       : 150000 + (uint64_t)(-log(1.0 - rng_unit()) * 50000);
	check_against_sorted("fat tail", v, N);

	/* small exact values */
	for (size_t i = 0; i < 1000; i++)
		v[i] = rng() % 300;
	check_against_sorted("small", v, 1000);

	test_merge();
	free(v);
	return tap_done();
}
