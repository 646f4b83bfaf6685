/* histogram.c - a log-linear latency histogram (see histogram.h) */
#include "histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_COUNT (1 << MREG_HISTOGRAM_SUB_BITS) /* 128 */
/* Values 0..2*SUB_COUNT-1 map to themselves; then SUB_COUNT buckets per
 * power of two up to 2^64. */
#define NBUCKETS ((64 - MREG_HISTOGRAM_SUB_BITS + 1) * SUB_COUNT)

struct mreg_histogram {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	double wmean;  /* running mean (Welford) */
	double m2;     /* sum of squared deviations from it */
	uint64_t buckets[NBUCKETS];
};

/* Index of the highest set bit of v (v > 0). */
static int msb(uint64_t v)
{
	int n = 0;

	if (v >> 32) { v >>= 32; n += 32; }
	if (v >> 16) { v >>= 16; n += 16; }
	if (v >> 8) { v >>= 8; n += 8; }
	if (v >> 4) { v >>= 4; n += 4; }
	if (v >> 2) { v >>= 2; n += 2; }
	if (v >> 1) n += 1;
	return n;
}

int mreg_histogram_bucket_of(uint64_t value)
{
	int shift;

	if (value < SUB_COUNT)
		return (int)value;
	shift = msb(value) - MREG_HISTOGRAM_SUB_BITS;
	return shift * SUB_COUNT + (int)(value >> shift);
}

uint64_t mreg_histogram_bucket_low(int bucket)
{
	int shift;

	if (bucket < 2 * SUB_COUNT)
		return (uint64_t)bucket;
	shift = bucket / SUB_COUNT - 1;
	return (uint64_t)(bucket - shift * SUB_COUNT) << shift;
}

uint64_t mreg_histogram_bucket_high(int bucket)
{
	int shift;

	if (bucket < 2 * SUB_COUNT)
		return (uint64_t)bucket;
	shift = bucket / SUB_COUNT - 1;
	return mreg_histogram_bucket_low(bucket) + (((uint64_t)1 << shift) - 1);
}

struct mreg_histogram *mreg_histogram_create(void)
{
	struct mreg_histogram *h = calloc(1, sizeof(*h));

	return h;
}

void mreg_histogram_destroy(struct mreg_histogram *h)
{
	free(h);
}

void mreg_histogram_reset(struct mreg_histogram *h)
{
	memset(h, 0, sizeof(*h));
}

/*
 * Fold a group of n values with mean `mean` and squared deviations m2
 * into h's moments (before h->count grows).  Chan, Golub and LeVeque's
 * pairwise update; for n = 1 it is Welford's.
 */
static void add_moments(struct mreg_histogram *h, double n, double mean,
			double m2)
{
	double na = (double)h->count, total = na + n, delta = mean - h->wmean;

	h->wmean += delta * n / total;
	h->m2 += m2 + delta * delta * na * n / total;
}

void mreg_histogram_record_n(struct mreg_histogram *h, uint64_t value,
			     uint64_t n)
{
	if (n == 0)
		return;
	if (h->count == 0 || value < h->min)
		h->min = value;
	if (h->count == 0 || value > h->max)
		h->max = value;
	add_moments(h, (double)n, (double)value, 0.0);
	h->count += n;
	h->sum += (double)value * (double)n;
	h->buckets[mreg_histogram_bucket_of(value)] += n;
}

void mreg_histogram_record(struct mreg_histogram *h, uint64_t value)
{
	mreg_histogram_record_n(h, value, 1);
}

void mreg_histogram_merge(struct mreg_histogram *dst,
			  const struct mreg_histogram *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	add_moments(dst, (double)src->count, src->wmean, src->m2);
	dst->count += src->count;
	dst->sum += src->sum;
	for (int i = 0; i < NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

uint64_t mreg_histogram_count(const struct mreg_histogram *h)
{
	return h->count;
}

uint64_t mreg_histogram_min(const struct mreg_histogram *h)
{
	return h->count ? h->min : 0;
}

uint64_t mreg_histogram_max(const struct mreg_histogram *h)
{
	return h->count ? h->max : 0;
}

double mreg_histogram_mean(const struct mreg_histogram *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

double mreg_histogram_stddev(const struct mreg_histogram *h)
{
	if (h->count < 2 || !(h->m2 > 0))
		return 0.0;
	return sqrt(h->m2 / (double)h->count);
}

uint64_t mreg_histogram_percentile(const struct mreg_histogram *h, double p)
{
	uint64_t rank, seen = 0, low, high, mid;
	double r;

	if (h->count == 0)
		return 0;
	if (p <= 0.0)
		return h->min;
	if (p >= 100.0)
		return h->max;
	r = ceil(p / 100.0 * (double)h->count);
	rank = r < 1.0 ? 1 : (uint64_t)r;
	if (rank > h->count)
		rank = h->count;
	for (int i = 0; i < NBUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		low = mreg_histogram_bucket_low(i);
		high = mreg_histogram_bucket_high(i);
		mid = low + (high - low) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}
