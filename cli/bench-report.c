/* bench-report.c - mreg bench: the report, as text or as JSON */
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "bench-cmd.h"
#include "histogram.h"
#include "run-metrics.h"

static const double report_pcts[] = { 50, 90, 95, 99, 99.9 };
static const char *const report_pct_names[] = { "p50", "p90", "p95", "p99",
						"p99.9" };
#define NPCTS (sizeof(report_pcts) / sizeof(*report_pcts))

double bench_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* min, mean, stddev, the percentiles and max, in seconds; null if empty. */
static json_t *latency_json(const struct mreg_histogram *h)
{
	json_t *o;

	if (mreg_histogram_count(h) == 0)
		return json_null();
	o = json_object();
	json_object_set_new(o, "min", json_real(seconds(mreg_histogram_min(h))));
	json_object_set_new(o, "mean", json_real(mreg_histogram_mean(h) / 1e9));
	json_object_set_new(o, "stddev",
			    json_real(mreg_histogram_stddev(h) / 1e9));
	for (size_t i = 0; i < NPCTS; i++)
		json_object_set_new(o, report_pct_names[i],
				    json_real(seconds(mreg_histogram_percentile(
					    h, report_pcts[i]))));
	json_object_set_new(o, "max", json_real(seconds(mreg_histogram_max(h))));
	return o;
}

/* "2026-12-01T12:04:51.886123Z" (mreg-json(7)). */
static json_t *timestamp_json(int64_t unix_ns)
{
	time_t sec = (time_t)(unix_ns / 1000000000);
	struct tm tm;
	char buf[40];

	if (unix_ns <= 0 || !gmtime_r(&sec, &tm))
		return json_null();
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)(unix_ns % 1000000000 / 1000));
	return json_string(buf);
}

static const char *workload_label(const struct bench_opts *o)
{
	if (o->mixed)
		return "mixed";
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (o->weights[i])
			return mreg_bench_workload_name(i);
	return "?";
}

/* "mix" (the weights) and "workloads" (each one's figures). */
static void workloads_json(const struct bench_opts *o,
			   const struct mreg_bench_result *r, json_t *mix,
			   json_t *wls)
{
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		uint64_t ok;
		json_t *w;

		if (!o->weights[i])
			continue;
		json_object_set_new(mix, mreg_bench_workload_name(i),
				    json_integer(o->weights[i]));
		ok = mreg_histogram_count(r->by_workload[i]);
		w = json_object();
		json_object_set_new(w, "requests", json_integer((json_int_t)(
			ok + r->errors_by_workload[i])));
		json_object_set_new(w, "succeeded", json_integer((json_int_t)ok));
		json_object_set_new(w, "failed",
				    json_integer((json_int_t)r->errors_by_workload[i]));
		json_object_set_new(w, "latency_s",
				    latency_json(r->by_workload[i]));
		json_object_set_new(wls, mreg_bench_workload_name(i), w);
	}
}

static json_t *errors_json(const struct mreg_bench_result *r)
{
	json_t *errs = json_object(), *kinds = json_object(),
	       *first = json_object();

	for (int k = 0; k < MREG_BENCH_NERRKINDS; k++) {
		json_object_set_new(kinds, mreg_bench_error_kind_name(k),
				    json_integer((json_int_t)r->errors_by_kind[k]));
		if (r->first_error[k][0])
			json_object_set_new(first, mreg_bench_error_kind_name(k),
					    json_string(r->first_error[k]));
	}
	json_object_set_new(errs, "by_kind", kinds);
	json_object_set_new(errs, "first", first);
	return errs;
}

static json_t *pool_json(const struct bench_run_info *ri)
{
	const struct mreg_pool_stats *s = &ri->pool;

	if (!ri->have_pool || ri->o->cpr)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I}",
			 "connections_created", (json_int_t)s->created,
			 "acquires", (json_int_t)s->acquires,
			 "waits", (json_int_t)s->waits,
			 "wait_total_s", s->wait_total_ms / 1e3,
			 "wait_max_s", s->wait_max_ms / 1e3,
			 "timeouts", (json_int_t)s->timeouts,
			 "broken", (json_int_t)s->broken,
			 "connect_failures", (json_int_t)s->connect_failures);
}

static json_t *latency_log_json(const struct bench_run_info *ri,
				const struct mreg_bench_result *r)
{
	if (!ri->o->latency_log)
		return json_null();
	return json_pack("{s:s, s:I}", "path", ri->o->latency_log, "lines",
			 (json_int_t)r->latency_log_lines);
}

/* The run's settings: workload, load, connections. */
static void settings_json(json_t *root, const struct bench_run_info *ri,
			  json_t *mix)
{
	const struct bench_opts *o = ri->o;

	json_object_set_new(root, "workload", json_string(workload_label(o)));
	json_object_set_new(root, "mix", mix);
	json_object_set_new(root, "clients", json_integer(o->clients));
	json_object_set_new(root, "threads", json_integer(ri->threads));
	json_object_set_new(root, "pool_size",
			    o->cpr ? json_null() : json_integer(ri->pool_size));
	json_object_set_new(root, "protocol",
			    json_string(ri->prepared ? "prepared" : "extended"));
	json_object_set_new(root, "connect_per_request", json_boolean(o->cpr));
	json_object_set_new(root, "rate",
			    o->rate > 0 ? json_real(o->rate) : json_null());
	json_object_set_new(root, "warmup_s", json_real(o->warmup));
	json_object_set_new(root, "populated",
			    o->populate ? json_integer(o->populate) : json_null());
}

int bench_print_json(const struct bench_run_info *ri,
		     const struct mreg_bench_result *r)
{
	const struct bench_opts *o = ri->o;
	json_t *root = json_object(), *mix = json_object(),
	       *wls = json_object();
	int rc;

	workloads_json(o, r, mix, wls);
	json_object_set_new(root, "command", json_string("bench"));
	json_object_set_new(root, "ok", json_boolean(ri->exit_code == 0));
	json_object_set_new(root, "exit_code", json_integer(ri->exit_code));
	settings_json(root, ri, mix);
	json_object_set_new(root, "started_at", timestamp_json(r->started_unix_ns));
	json_object_set_new(root, "finished_at",
			    timestamp_json(r->finished_unix_ns));
	json_object_set_new(root, "duration_s", json_real(r->elapsed_s));
	json_object_set_new(root, "interrupted", json_boolean(r->interrupted));
	json_object_set_new(root, "requests", json_integer((json_int_t)(
		r->transactions + r->errors)));
	json_object_set_new(root, "succeeded",
			    json_integer((json_int_t)r->transactions));
	json_object_set_new(root, "failed", json_integer((json_int_t)r->errors));
	json_object_set_new(root, "tps",
			    json_real(r->elapsed_s > 0
					      ? (double)r->transactions / r->elapsed_s
					      : 0.0));
	json_object_set_new(root, "errors", errors_json(r));
	json_object_set_new(root, "latency_s", latency_json(r->latency));
	json_object_set_new(root, "schedule_lag_s",
			    o->rate > 0 ? latency_json(r->lag) : json_null());
	json_object_set_new(root, "workloads", wls);
	json_object_set_new(root, "pool", pool_json(ri));
	json_object_set_new(root, "connections_opened",
			    o->cpr ? json_integer((json_int_t)r->connections_opened)
				   : json_null());
	json_object_set_new(root, "import", !o->import ? json_null() : json_pack(
		"{s:I, s:f, s:I, s:i}",
		"files", (json_int_t)o->import_files,
		"change_pct", o->import_change,
		"files_per_request", (json_int_t)ri->per_request,
		"jobs", ri->import_jobs));
	json_object_set_new(root, "latency_log", latency_log_json(ri, r));
	json_object_set_new(root, "thresholds", bench_thresholds_json(ri));
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(9));
	putchar('\n');
	cli_json_printed(); /* its own document: no error object after it */
	json_decref(root);
	return rc;
}

/* One column per workload (and "all" for a mix), one row per statistic. */
static void print_latency_table(const struct bench_opts *o,
				const struct mreg_bench_result *r)
{
	const struct mreg_histogram *h[MREG_BENCH_NWORKLOADS + 1];
	uint64_t err[MREG_BENCH_NWORKLOADS + 1];
	const char *name[MREG_BENCH_NWORKLOADS + 1];
	int n = 0;

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		if (!o->weights[i])
			continue;
		h[n] = r->by_workload[i];
		err[n] = r->errors_by_workload[i];
		name[n++] = mreg_bench_workload_name(i);
	}
	if (n > 1 && n <= MREG_BENCH_NWORKLOADS) {
		h[n] = r->latency;
		err[n] = r->errors;
		name[n++] = "all";
	}
	printf("%-14s", "latency (ms)");
	for (int i = 0; i < n; i++)
		printf(" %12s", name[i]);
	printf("\n  %-12s", "requests");
	for (int i = 0; i < n; i++)
		printf(" %12llu", (unsigned long long)mreg_histogram_count(h[i]));
	printf("\n  %-12s", "errors");
	for (int i = 0; i < n; i++)
		printf(" %12llu", (unsigned long long)err[i]);
	printf("\n  %-12s", "min");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", bench_ms(mreg_histogram_min(h[i])));
	printf("\n  %-12s", "mean");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", mreg_histogram_mean(h[i]) / 1e6);
	printf("\n  %-12s", "stddev");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", mreg_histogram_stddev(h[i]) / 1e6);
	for (size_t p = 0; p < NPCTS; p++) {
		printf("\n  %-12s", report_pct_names[p]);
		for (int i = 0; i < n; i++)
			printf(" %12.3f",
			       bench_ms(mreg_histogram_percentile(h[i], report_pcts[p])));
	}
	printf("\n  %-12s", "max");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", bench_ms(mreg_histogram_max(h[i])));
	putchar('\n');
}

void bench_print_table(const struct bench_run_info *ri,
			const struct mreg_bench_result *r)
{
	const struct bench_opts *o = ri->o;

	printf("workload:      %s", workload_label(o));
	if (o->mixed) {
		const char *sep = " (";

		for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
			if (o->weights[i]) {
				printf("%s%s=%u", sep, mreg_bench_workload_name(i),
				       o->weights[i]);
				sep = ",";
			}
		putchar(')');
	}
	putchar('\n');
	if (o->import)
		printf("import:        %ld files per client, %ld rewritten per "
		       "request (%g%%), %d worker thread%s per import\n",
		       o->import_files, ri->per_request, o->import_change,
		       ri->import_jobs, ri->import_jobs == 1 ? "" : "s");
	printf("clients:       %ld over %d thread%s, ", o->clients, ri->threads,
	       ri->threads == 1 ? "" : "s");
	if (o->cpr)
		printf("a new connection per request");
	else
		printf("pool of %d", ri->pool_size);
	printf(", %s protocol\n", ri->prepared ? "prepared" : "extended");
	if (o->rate > 0)
		printf("rate:          %.1f requests/s scheduled (open loop)\n",
		       o->rate);
	printf("duration:      %.3f s", r->elapsed_s);
	if (o->warmup > 0)
		printf(" after %.3f s warmup", o->warmup);
	if (r->interrupted)
		printf(" (interrupted)");
	putchar('\n');
	printf("transactions:  %llu (%.1f per second)\n",
	       (unsigned long long)r->transactions,
	       r->elapsed_s > 0 ? (double)r->transactions / r->elapsed_s : 0.0);
	printf("errors:        %llu\n", (unsigned long long)r->errors);
	for (int k = 0; k < MREG_BENCH_NERRKINDS; k++)
		if (r->errors_by_kind[k])
			cli_printf(stdout, "  %-13s %llu (first: %s)\n",
				   mreg_bench_error_kind_name(k),
				   (unsigned long long)r->errors_by_kind[k],
				   r->first_error[k]);
	print_latency_table(o, r);
	if (o->rate > 0) {
		printf("schedule lag (ms): mean %.3f", mreg_histogram_mean(r->lag) / 1e6);
		for (size_t i = 0; i < NPCTS; i++)
			printf("  %s %.3f", report_pct_names[i],
			       bench_ms(mreg_histogram_percentile(r->lag, report_pcts[i])));
		printf("  max %.3f\n", bench_ms(mreg_histogram_max(r->lag)));
	}
	if (o->cpr) {
		printf("connections:   %lu opened\n", r->connections_opened);
	} else if (ri->have_pool) {
		const struct mreg_pool_stats *s = &ri->pool;

		printf("pool:          %lu acquires, %lu waits (%.3f ms in all, "
		       "%.3f ms at most), %lu timeouts\n"
		       "               %lu connections opened, %lu broken "
		       "replaced, %lu connect failures\n",
		       s->acquires, s->waits, s->wait_total_ms, s->wait_max_ms,
		       s->timeouts, s->created, s->broken, s->connect_failures);
	}
	if (o->latency_log)
		cli_printf(stdout, "latency log:   %llu lines in \"%s\"\n",
			   (unsigned long long)r->latency_log_lines,
			   o->latency_log);
	bench_print_thresholds(ri);
}

/* --- --metrics-file -------------------------------------------------------- */

void bench_metrics(struct bench_run_info *ri, const struct mreg_bench_result *r)
{
	struct mreg_metrics *m = cli_metrics_get(ri->metrics);
	const struct mreg_histogram *h = r->latency;
	double q[NPCTS], v[NPCTS], n = (double)mreg_histogram_count(h);

	if (!m)
		return;
	mreg_metrics_add(m, "mreg_bench_transactions", MREG_METRIC_GAUGE,
			 "Requests of the last run that succeeded.", NULL, NULL,
			 (double)r->transactions);
	mreg_metrics_add(m, "mreg_bench_errors", MREG_METRIC_GAUGE,
			 "Requests of the last run that failed.", NULL, NULL,
			 (double)r->errors);
	mreg_metrics_add(m, "mreg_bench_transactions_per_second",
			 MREG_METRIC_GAUGE,
			 "Throughput of the last run's measured phase.", NULL,
			 NULL, r->elapsed_s > 0
				 ? (double)r->transactions / r->elapsed_s : 0.0);
	mreg_metrics_add(m, "mreg_bench_measured_seconds", MREG_METRIC_GAUGE,
			 "Length of the last run's measured phase (after the "
			 "warmup).", NULL, NULL, r->elapsed_s);
	mreg_metrics_add(m, "mreg_bench_clients", MREG_METRIC_GAUGE,
			 "Concurrent clients of the last run.", NULL, NULL,
			 (double)ri->o->clients);
	mreg_metrics_add(m, "mreg_bench_interrupted", MREG_METRIC_GAUGE,
			 "1 when the last run was stopped before its end.",
			 NULL, NULL, r->interrupted);
	if (n == 0)
		return;
	for (size_t i = 0; i < NPCTS; i++) {
		q[i] = report_pcts[i] / 100;
		v[i] = (double)mreg_histogram_percentile(h, report_pcts[i]) /
		       1e9;
	}
	mreg_metrics_summary(m, "mreg_bench_latency_seconds",
			     "Latency of the last run's successful requests.",
			     NPCTS, q, v, mreg_histogram_mean(h) * n / 1e9, n);
	mreg_metrics_add(m, "mreg_bench_latency_max_seconds",
			 MREG_METRIC_GAUGE,
			 "Slowest successful request of the last run.", NULL,
			 NULL, (double)mreg_histogram_max(h) / 1e9);
}

int bench_metrics_finish(const struct cli_ctx *ctx, struct bench_opts *o,
			 int status)
{
	struct mreg_metrics *m = cli_metrics_get(&o->metrics);

	if (m)
		mreg_metrics_label(m, "workload", workload_label(o));
	return cli_metrics_finish(ctx, &o->metrics, status);
}
