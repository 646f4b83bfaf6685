/* histogram.h - a log-linear latency histogram (HdrHistogram-style)
 *
 * Fixed memory, constant-time record, mergeable: each worker thread keeps
 * its own histogram and the results are merged at the end, so recording
 * needs no lock.  Values are unsigned 64-bit integers (mreg bench records
 * nanoseconds); the whole range is covered, nothing is clamped.
 *
 * Layout: values below 128 have a bucket each; above that every power of
 * two [2^k, 2^(k+1)) is split into 128 equal buckets.  A bucket is at most
 * 1/128 of the smallest value it holds, and a percentile is reported as the
 * middle of its bucket (kept within the recorded min and max), so a
 * reported percentile is within MREG_HISTOGRAM_REL_ERROR (1/256, about
 * 0.4%, better than two significant digits) of the true value at that
 * rank.  Min, max, count, mean and standard deviation are exact (up to
 * double rounding): they come from the recorded values themselves, not from
 * the buckets (a running mean and sum of squared deviations, Welford's
 * update, merged with Chan et al.'s pairwise formula).
 */
#ifndef MREG_HISTOGRAM_H
#define MREG_HISTOGRAM_H

#include <stdint.h>

#define MREG_HISTOGRAM_SUB_BITS 7
#define MREG_HISTOGRAM_REL_ERROR (1.0 / 256.0)

struct mreg_histogram;

/* A new, empty histogram (about 58 KiB), or NULL when out of memory. */
struct mreg_histogram *mreg_histogram_create(void);
void mreg_histogram_destroy(struct mreg_histogram *h); /* NULL-safe */

void mreg_histogram_reset(struct mreg_histogram *h);
void mreg_histogram_record(struct mreg_histogram *h, uint64_t value);
void mreg_histogram_record_n(struct mreg_histogram *h, uint64_t value,
			     uint64_t n);

/* Add every recorded value of src to dst. */
void mreg_histogram_merge(struct mreg_histogram *dst,
			  const struct mreg_histogram *src);

uint64_t mreg_histogram_count(const struct mreg_histogram *h);
/* 0 when empty. */
uint64_t mreg_histogram_min(const struct mreg_histogram *h);
uint64_t mreg_histogram_max(const struct mreg_histogram *h);
double mreg_histogram_mean(const struct mreg_histogram *h);
/*
 * The population standard deviation of the recorded values (divided by
 * the count, as pgbench reports it); 0 when fewer than two.
 */
double mreg_histogram_stddev(const struct mreg_histogram *h);

/*
 * The value at percentile p (0 < p <= 100): the value of rank
 * ceil(p / 100 * count) in sorted order, within the stated relative error.
 * p <= 0 gives the minimum; 0 when empty.
 */
uint64_t mreg_histogram_percentile(const struct mreg_histogram *h, double p);

/* Bucket arithmetic, exposed for the unit test. */
int mreg_histogram_bucket_of(uint64_t value);
uint64_t mreg_histogram_bucket_low(int bucket);
uint64_t mreg_histogram_bucket_high(int bucket); /* inclusive */

#endif
