/* bench-threshold.c - mreg bench --threshold (see bench-threshold.h) */
#include "bench-threshold.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

static const struct {
	const char *name;
	int kind;
} metrics[] = {
	{ "min", MREG_BENCH_M_MIN },       { "mean", MREG_BENCH_M_MEAN },
	{ "max", MREG_BENCH_M_MAX },       { "stddev", MREG_BENCH_M_STDDEV },
	{ "errors", MREG_BENCH_M_ERRORS }, { "tps", MREG_BENCH_M_TPS },
};

static const char *const op_names[] = { "<", "<=", ">", ">=", "==", "!=" };

const char *mreg_bench_op_name(int op)
{
	return op >= 0 && op < (int)(sizeof(op_names) / sizeof(*op_names))
		       ? op_names[op]
		       : "?";
}

static bool is_latency(int kind)
{
	return kind <= MREG_BENCH_M_STDDEV;
}

/* "p99", "p99.9": the percentile; -1 with err set. */
static int parse_metric(const char *name, struct mreg_bench_threshold *t,
			struct mreg_error *err)
{
	for (size_t i = 0; i < sizeof(metrics) / sizeof(*metrics); i++)
		if (strcmp(name, metrics[i].name) == 0) {
			t->kind = metrics[i].kind;
			return 0;
		}
	if (name[0] == 'p' && (isdigit((unsigned char)name[1]))) {
		char *end;
		double p = strtod(name + 1, &end);
		size_t digits = strspn(name + 1, "0123456789.");

		if (*end || digits != strlen(name + 1) || !(p > 0) || p > 100) {
			mreg_error_set(err, MREG_EXIT_USAGE,
				       "percentile '%s' must be above p0 and at "
				       "most p100 (e.g. p99, p99.9)", name);
			return -1;
		}
		t->kind = MREG_BENCH_M_PERCENTILE;
		t->pct = p;
		return 0;
	}
	mreg_error_set(err, MREG_EXIT_USAGE,
		       "unknown metric '%s' (expected a latency: min, mean, "
		       "max, stddev or a percentile such as p99; errors; tps)",
		       name[0] ? name : "");
	return -1;
}

/* The comparison at *p; advances p.  -1 when there is none. */
static int parse_op(const char **p)
{
	static const int order[] = { MREG_BENCH_LE, MREG_BENCH_GE, MREG_BENCH_EQ,
				     MREG_BENCH_NE, MREG_BENCH_LT, MREG_BENCH_GT };

	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		const char *name = op_names[order[i]];
		size_t len = strlen(name);

		if (strncmp(*p, name, len) == 0) {
			*p += len;
			return order[i];
		}
	}
	return -1;
}

/* The unit after the number: sets limit (seconds for a latency). */
static int parse_unit(const char *unit, double v, bool whole,
		      struct mreg_bench_threshold *t, struct mreg_error *err)
{
	static const struct { const char *name; double s, ns; } units[] = {
		{ "us", 1e-6, 1e3 }, { "ms", 1e-3, 1e6 }, { "s", 1.0, 1e9 },
	};

	t->unit_s = 1.0;
	if (is_latency(t->kind)) {
		for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (strcmp(unit, units[i].name) == 0) {
				t->unit_s = units[i].s;
				t->limit = v * units[i].s;
				t->limit_cmp = v * units[i].ns;
				return 0;
			}
		if (*unit)
			mreg_error_set(err, MREG_EXIT_USAGE,
				       "unknown unit '%.32s': a latency takes us, "
				       "ms or s (e.g. %s<5ms)", unit, t->metric);
		else
			mreg_error_set(err, MREG_EXIT_USAGE,
				       "a latency needs a unit, us, ms or s "
				       "(e.g. %s<5ms)", t->metric);
		return -1;
	}
	t->limit = t->limit_cmp = v;
	if (t->kind == MREG_BENCH_M_TPS) {
		if (!*unit)
			return 0;
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "tps takes a plain number (e.g. tps>1000)");
		return -1;
	}
	if (strcmp(unit, "%") == 0) {
		if (v > 100) {
			mreg_error_set(err, MREG_EXIT_USAGE,
				       "a percentage is at most 100");
			return -1;
		}
		t->kind = MREG_BENCH_M_ERRORS_PCT;
		snprintf(t->metric, sizeof(t->metric), "errors_pct");
		return 0;
	}
	if (!*unit && whole)
		return 0;
	mreg_error_set(err, MREG_EXIT_USAGE,
		       "errors takes a whole count or a percentage "
		       "(e.g. errors==0, errors<0.1%%)");
	return -1;
}

int mreg_bench_threshold_parse(const char *expr,
			       struct mreg_bench_threshold *t,
			       struct mreg_error *err)
{
	char num[32];
	const char *p, *start;
	size_t n = 0, len;
	bool whole;
	double v;

	memset(t, 0, sizeof(*t));
	for (p = expr; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (n + 1 >= sizeof(t->expr)) {
			mreg_error_set(err, MREG_EXIT_USAGE, "too long");
			return -1;
		}
		t->expr[n++] = *p;
	}
	t->expr[n] = '\0';
	p = t->expr;
	len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.");
	if (len >= sizeof(t->metric))
		len = sizeof(t->metric) - 1;
	memcpy(t->metric, p, len);
	t->metric[len] = '\0';
	if (parse_metric(t->metric, t, err) < 0)
		return -1;
	p += len;
	if ((t->op = parse_op(&p)) < 0) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "expected a comparison after '%s': < <= > >= == "
			       "or !=", t->metric);
		return -1;
	}
	start = p;
	p += strspn(p, "0123456789");
	whole = true;
	if (*p == '.') {
		whole = false;
		p++;
		p += strspn(p, "0123456789");
	}
	len = (size_t)(p - start);
	if (len == 0 || (len == 1 && *start == '.') || len >= sizeof(num)) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "expected a number after '%s%s'", t->metric,
			       mreg_bench_op_name(t->op));
		return -1;
	}
	memcpy(num, start, len);
	num[len] = '\0';
	v = strtod(num, NULL);
	snprintf(t->unit, sizeof(t->unit), "%.3s", p);
	return parse_unit(p, v, whole, t, err);
}

/* The value to compare with limit_cmp (nanoseconds for a latency). */
static bool raw_value(const struct mreg_bench_threshold *t,
		      const struct mreg_bench_result *r, double *value)
{
	const struct mreg_histogram *h = r->latency;
	uint64_t all = r->transactions + r->errors;

	*value = 0;
	switch (t->kind) {
	case MREG_BENCH_M_ERRORS:
		*value = (double)r->errors;
		return true;
	case MREG_BENCH_M_ERRORS_PCT:
		*value = all ? 100.0 * (double)r->errors / (double)all : 0.0;
		return true;
	case MREG_BENCH_M_TPS:
		*value = r->elapsed_s > 0 ? (double)r->transactions / r->elapsed_s
					  : 0.0;
		return true;
	}
	if (!h || mreg_histogram_count(h) == 0)
		return false;
	switch (t->kind) {
	case MREG_BENCH_M_PERCENTILE:
		*value = (double)mreg_histogram_percentile(h, t->pct);
		break;
	case MREG_BENCH_M_MIN:
		*value = (double)mreg_histogram_min(h);
		break;
	case MREG_BENCH_M_MEAN:
		*value = mreg_histogram_mean(h);
		break;
	case MREG_BENCH_M_MAX:
		*value = (double)mreg_histogram_max(h);
		break;
	case MREG_BENCH_M_STDDEV:
		*value = mreg_histogram_stddev(h);
		break;
	}
	return true;
}

bool mreg_bench_threshold_value(const struct mreg_bench_threshold *t,
				const struct mreg_bench_result *r,
				double *value)
{
	bool have = raw_value(t, r, value);

	if (is_latency(t->kind))
		*value /= 1e9; /* ns to s */
	return have;
}

bool mreg_bench_threshold_check(const struct mreg_bench_threshold *t,
				const struct mreg_bench_result *r,
				double *value, bool *have_value)
{
	double v, l = t->limit_cmp;

	*have_value = raw_value(t, r, &v);
	*value = is_latency(t->kind) ? v / 1e9 : v;
	if (!*have_value)
		return false;
	switch (t->op) {
	case MREG_BENCH_LT: return v < l;
	case MREG_BENCH_LE: return v <= l;
	case MREG_BENCH_GT: return v > l;
	case MREG_BENCH_GE: return v >= l;
	case MREG_BENCH_EQ: return v == l;
	case MREG_BENCH_NE: return v != l;
	}
	return false;
}
