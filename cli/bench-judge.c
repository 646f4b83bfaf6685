/* bench-judge.c - mreg bench: --threshold and --latency-log around the
 * run, and the exit status they decide */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-cmd.h"

int bench_add_threshold(struct bench_opts *o, const char *expr)
{
	struct mreg_error err;

	if (o->nthresholds == BENCH_MAX_THRESHOLDS)
		return cli_usage(o->ctx, "at most %d --threshold options",
				 BENCH_MAX_THRESHOLDS);
	if (mreg_bench_threshold_parse(expr, &o->thresholds[o->nthresholds],
				       &err) < 0)
		return cli_usage(o->ctx, "invalid --threshold '%s': %s "
					 "(expected METRIC OP VALUE, e.g. "
					 "p99<5ms, errors<0.1%%, tps>1000)",
				 expr, err.message);
	o->nthresholds++;
	return 0;
}

int bench_open_latency_log(struct cli_ctx *ctx, const struct bench_opts *o,
			   struct bench_run_info *ri)
{
	char msg[128];

	ri->log_fd = -1;
	if (!o->latency_log)
		return -1;
	ri->log_fd = open(o->latency_log, O_WRONLY | O_CREAT | O_TRUNC |
						  O_CLOEXEC, 0666);
	if (ri->log_fd < 0)
		return cli_fail(ctx, MREG_EXIT_FAILURE,
				"could not open latency log \"%s\": %s",
				o->latency_log,
				mreg_strerror(errno, msg, sizeof(msg)));
	return -1;
}

/* Does any threshold judge the failed requests? */
static bool errors_judged(const struct bench_opts *o)
{
	for (int i = 0; i < o->nthresholds; i++)
		if (o->thresholds[i].kind == MREG_BENCH_M_ERRORS ||
		    o->thresholds[i].kind == MREG_BENCH_M_ERRORS_PCT)
			return true;
	return false;
}

/*
 * 1 when the latency log is incomplete; else 6 when a threshold was not
 * met; else 1 when a request failed, unless a threshold on errors
 * allowed it; else 0.
 */
void bench_judge(struct bench_run_info *ri, const struct mreg_bench_result *r)
{
	const struct bench_opts *o = ri->o;

	if (ri->log_fd >= 0) {
		ri->log_errno = r->latency_log_error;
		if (close(ri->log_fd) < 0 && !ri->log_errno)
			ri->log_errno = errno;
		ri->log_fd = -1;
	}
	ri->nfailed = 0;
	for (int i = 0; i < o->nthresholds; i++) {
		struct bench_verdict *v = &ri->verdicts[i];

		v->ok = mreg_bench_threshold_check(&o->thresholds[i], r,
						   &v->value, &v->have_value);
		ri->nfailed += !v->ok;
	}
	if (ri->log_errno)
		ri->exit_code = MREG_EXIT_FAILURE;
	else if (ri->nfailed)
		ri->exit_code = MREG_EXIT_THRESHOLD;
	else if (r->errors && !errors_judged(o))
		ri->exit_code = MREG_EXIT_FAILURE;
	else
		ri->exit_code = MREG_EXIT_OK;
}

int bench_explain(struct cli_ctx *ctx, const struct bench_run_info *ri,
		  const struct mreg_bench_result *r)
{
	const struct bench_opts *o = ri->o;
	char msg[128];
	int rc = 0;

	if (ri->log_errno)
		rc = cli_fail(ctx, MREG_EXIT_FAILURE,
			      "could not write latency log \"%s\": %s",
			      o->latency_log,
			      mreg_strerror(ri->log_errno, msg, sizeof(msg)));
	if (r->errors && errors_judged(o))
		cli_warn(ctx, "%llu of %llu requests failed",
			 (unsigned long long)r->errors,
			 (unsigned long long)(r->errors + r->transactions));
	else if (r->errors)
		cli_fail(ctx, MREG_EXIT_FAILURE, "%llu of %llu requests failed",
			 (unsigned long long)r->errors,
			 (unsigned long long)(r->errors + r->transactions));
	if (ri->nfailed) {
		char list[512] = "";
		size_t len = 0;

		for (int i = 0; i < o->nthresholds && len < sizeof(list); i++)
			if (!ri->verdicts[i].ok)
				len += (size_t)snprintf(list + len, sizeof(list) - len,
							"%s%s", len ? ", " : "",
							o->thresholds[i].expr);
		cli_fail(ctx, MREG_EXIT_THRESHOLD, "%d of %d threshold%s not met: %s",
			 ri->nfailed, o->nthresholds,
			 o->nthresholds == 1 ? "" : "s", list);
	}
	return rc ? rc : ri->exit_code;
}

/* "1.234 ms", "0.100%", "1234.5": the value in the threshold's terms. */
static void format_value(const struct mreg_bench_threshold *t,
			 const struct bench_verdict *v, char *buf, size_t size)
{
	if (!v->have_value) {
		snprintf(buf, size, "no successful request");
		return;
	}
	switch (t->kind) {
	case MREG_BENCH_M_ERRORS:
		snprintf(buf, size, "%.0f", v->value);
		return;
	case MREG_BENCH_M_ERRORS_PCT:
		snprintf(buf, size, "%.3f%%", v->value);
		return;
	case MREG_BENCH_M_TPS:
		snprintf(buf, size, "%.1f", v->value);
		return;
	}
	snprintf(buf, size, "%.*f %s",
		 t->unit_s < 1e-3 ? 1 : t->unit_s < 1 ? 3 : 6,
		 v->value / t->unit_s, t->unit);
}

void bench_print_thresholds(const struct bench_run_info *ri)
{
	const struct bench_opts *o = ri->o;
	char value[64];

	if (!o->nthresholds)
		return;
	printf("thresholds:    %d of %d met\n", o->nthresholds - ri->nfailed,
	       o->nthresholds);
	for (int i = 0; i < o->nthresholds; i++) {
		const struct mreg_bench_threshold *t = &o->thresholds[i];

		format_value(t, &ri->verdicts[i], value, sizeof(value));
		printf("  %-4s  %-22s %s %s\n", ri->verdicts[i].ok ? "pass" : "FAIL",
		       t->expr, t->kind == MREG_BENCH_M_ERRORS_PCT ? "errors"
								  : t->metric,
		       value);
	}
}

json_t *bench_thresholds_json(const struct bench_run_info *ri)
{
	const struct bench_opts *o = ri->o;
	json_t *a = json_array();

	for (int i = 0; i < o->nthresholds; i++) {
		const struct mreg_bench_threshold *t = &o->thresholds[i];
		const struct bench_verdict *v = &ri->verdicts[i];

		bool count = t->kind == MREG_BENCH_M_ERRORS;

		json_array_append_new(a, json_pack(
			"{s:s, s:s, s:s, s:o, s:o, s:b}", "expr", t->expr,
			"metric", t->metric, "op", mreg_bench_op_name(t->op),
			"value", !v->have_value ? json_null()
				 : count ? json_integer((json_int_t)v->value)
					 : json_real(v->value),
			"limit", count ? json_integer((json_int_t)t->limit)
				       : json_real(t->limit),
			"ok", v->ok));
	}
	return a;
}
