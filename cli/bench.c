/* bench.c - mreg bench: load-test the registry with the commands' own SQL */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "db.h"

enum {
	OPT_WORKLOAD = 'w',
	OPT_CLIENTS = 'c',
	OPT_THREADS = 'j',
	OPT_DURATION = 'T',
	OPT_TRANSACTIONS = 't',
	OPT_RATE = 'R',
	OPT_PROGRESS = 'P',
	OPT_MIX = 256,
	OPT_POOL_SIZE,
	OPT_POOL_TIMEOUT,
	OPT_CONNECT_PER_REQUEST,
	OPT_PROTOCOL,
	OPT_WARMUP,
	OPT_POPULATE,
	OPT_FORCE_POPULATE,
	OPT_KEEP,
	OPT_CLEANUP,
	OPT_FORMAT,
	OPT_SEED,
	OPT_TYPE,
	OPT_IMPORT_FILES,
	OPT_IMPORT_CHANGE,
};

static const struct cli_option options[] = {
	CLI_GROUP("Workload:"),
	{ OPT_WORKLOAD, 'w', "workload", "NAME",
	  "get-default (default), list, show, search, set-default, "
	  "import, or mixed" },
	{ OPT_MIX, 0, "mix", "NAME=W,...",
	  "weights of a mixed workload (default get-default=80,list=15,"
	  "set-default=5)" },
	{ OPT_TYPE, 0, "type", "TYPE",
	  "get-default and list: only this type (default: every type)" },
	{ OPT_IMPORT_FILES, 0, "import-files", "N",
	  "import: model files in each client's tree (default 1000)" },
	{ OPT_IMPORT_CHANGE, 0, "import-change", "PCT",
	  "import: percent of them rewritten per request (default 1)" },
	CLI_GROUP("Load:"),
	{ OPT_CLIENTS, 'c', "clients", "N", "concurrent clients (default 1)" },
	{ OPT_THREADS, 'j', "threads", "J",
	  "worker threads (default: clients, at most the CPUs); import: "
	  "worker threads of each client's import (default: CPUs / "
	  "clients)" },
	{ OPT_DURATION, 'T', "duration", "DURATION",
	  "run this long after the warmup (default 10s)" },
	{ OPT_TRANSACTIONS, 't', "transactions", "N",
	  "run N requests in all instead of a duration" },
	{ OPT_WARMUP, 0, "warmup", "DURATION",
	  "run this long first without recording (default 0)" },
	{ OPT_RATE, 'R', "rate", "R",
	  "open loop: R requests per second in all, latency from the "
	  "scheduled start" },
	{ OPT_PROGRESS, 'P', "progress", "DURATION",
	  "print throughput, p99 and errors to stderr this often" },
	{ OPT_SEED, 0, "seed", "N", "seed of the parameter choices" },
	CLI_GROUP("Connections:"),
	{ OPT_POOL_SIZE, 0, "pool-size", "N",
	  "connections in the pool (default: clients)" },
	{ OPT_POOL_TIMEOUT, 0, "pool-timeout", "DURATION",
	  "give up waiting for a pooled connection after this (default 30s)" },
	{ OPT_PROTOCOL, 0, "protocol", "MODE",
	  "prepared (default; named statements prepared on each pooled "
	  "connection) or extended (unnamed; for PgBouncer before 1.21)" },
	{ OPT_CONNECT_PER_REQUEST, 0, "connect-per-request", NULL,
	  "open a new connection for every request (extended protocol)" },
	CLI_GROUP("Data:"),
	{ OPT_POPULATE, 0, "populate", "N",
	  "first fill the registry with N synthetic models, remove them after" },
	{ OPT_FORCE_POPULATE, 0, "force-populate", NULL,
	  "populate (or import) even though the registry holds other "
	  "models" },
	{ OPT_KEEP, 0, "keep", NULL,
	  "keep the synthetic models (and imported ones) after the run" },
	{ OPT_CLEANUP, 0, "cleanup", NULL,
	  "remove synthetic models left by --keep, run nothing" },
	CLI_GROUP("Output:"),
	{ OPT_FORMAT, 0, "format", "FORMAT", "table (default) or json" },
	CLI_END,
};

const struct cli_spec cmd_bench_spec = {
	.usage = "[options]",
	.description = "Load-test the registry with the SQL the commands run.",
	.options = options,
	.epilogue =
		"The import workload runs import-dir's pipeline over generated "
		"trees, one\nper client (--import-files, --import-change); it "
		"does not mix and takes\nneither --rate nor "
		"--connect-per-request.\n"
		"Exit status is 1 when any request failed; the report is printed "
		"anyway,\nalso after Ctrl-C.  See mreg-bench(1).",
};

struct opts {
	const struct cli_ctx *ctx;
	bool mixed;
	bool have_mix;
	unsigned weights[MREG_BENCH_NWORKLOADS];
	long clients, threads, pool_size, transactions, populate;
	double duration, warmup, rate, progress, pool_timeout;
	bool have_duration;
	bool extended, cpr, force_populate, keep, cleanup, json;
	unsigned long long seed;
	const char *type;
	bool import;                   /* --workload import */
	long import_files;
	double import_change;
	bool have_import_opts;
};

static int parse_mix(struct opts *o, const char *arg)
{
	const char *p = arg;

	memset(o->weights, 0, sizeof(o->weights));
	while (*p) {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[64], num[32];
		long w;
		int wl;

		eq = memchr(p, '=', len);
		if (!eq || (size_t)(eq - p) >= sizeof(name) ||
		    len - (size_t)(eq - p) - 1 >= sizeof(num))
			return cli_usage(o->ctx, "invalid --mix '%s' (expected "
						 "NAME=WEIGHT,...)", arg);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		memcpy(num, eq + 1, len - (size_t)(eq - p) - 1);
		num[len - (size_t)(eq - p) - 1] = '\0';
		wl = mreg_bench_workload_find(name);
		if (wl < 0)
			return cli_usage(o->ctx, "unknown workload '%s' in --mix",
					 name);
		if (!mreg_bench_workload_mixable(wl))
			return cli_usage(o->ctx, "%s cannot be part of --mix "
						 "(it runs alone: --workload %s)",
					 name, name);
		if (cli_parse_long(num, 0, 1000000, &w) < 0)
			return cli_usage(o->ctx, "invalid weight '%s' for %s in "
						 "--mix", num, name);
		o->weights[wl] = (unsigned)w;
		if (!comma)
			break;
		p = comma + 1;
	}
	o->have_mix = true;
	return 0;
}

static int handle(void *state, int id, const char *arg)
{
	struct opts *o = state;
	const struct cli_ctx *ctx = o->ctx;
	double d;
	int wl;

	switch (id) {
	case OPT_WORKLOAD:
		if (strcmp(arg, "mixed") == 0) {
			o->mixed = true;
			o->import = false;
			return 0;
		}
		wl = mreg_bench_workload_find(arg);
		if (wl < 0)
			return cli_usage(ctx, "unknown workload '%s'", arg);
		o->mixed = false;
		o->import = wl == MREG_BENCH_IMPORT;
		memset(o->weights, 0, sizeof(o->weights));
		o->weights[wl] = 1;
		return 0;
	case OPT_MIX:
		o->mixed = true;
		o->import = false;
		return parse_mix(o, arg);
	case OPT_IMPORT_FILES:
		if (cli_parse_long(arg, 1, 1000000, &o->import_files) < 0)
			return cli_usage(ctx, "invalid file count '%s' (1 to "
					      "1000000)", arg);
		o->have_import_opts = true;
		return 0;
	case OPT_IMPORT_CHANGE: {
		char *end;

		o->import_change = strtod(arg, &end);
		if (end == arg || *end || !(o->import_change > 0) ||
		    o->import_change > 100)
			return cli_usage(ctx, "invalid percentage '%s' (above 0, "
					      "at most 100)", arg);
		o->have_import_opts = true;
		return 0;
	}
	case OPT_CLIENTS:
	case OPT_THREADS:
	case OPT_POOL_SIZE:
		if (cli_parse_long(arg, 1, 10000,
				   id == OPT_CLIENTS ? &o->clients
				   : id == OPT_THREADS ? &o->threads
						       : &o->pool_size) < 0)
			return cli_usage(ctx, "invalid number '%s' (1 to 10000)",
					 arg);
		return 0;
	case OPT_TRANSACTIONS:
		if (cli_parse_long(arg, 1, 1000000000000L, &o->transactions) < 0)
			return cli_usage(ctx, "invalid transaction count '%s'",
					 arg);
		return 0;
	case OPT_POPULATE:
		if (cli_parse_long(arg, 1, 100000000, &o->populate) < 0)
			return cli_usage(ctx, "invalid model count '%s'", arg);
		return 0;
	case OPT_DURATION:
	case OPT_WARMUP:
	case OPT_PROGRESS:
	case OPT_POOL_TIMEOUT:
		if (cli_parse_duration(arg, &d) < 0)
			return cli_usage(ctx, "invalid duration '%s' (try 10s, "
					      "500ms, 2m)", arg);
		if (id == OPT_DURATION) {
			if (d <= 0)
				return cli_usage(ctx, "--duration must be "
						      "positive");
			o->duration = d;
			o->have_duration = true;
		} else if (id == OPT_WARMUP) {
			o->warmup = d;
		} else if (id == OPT_PROGRESS) {
			if (d < 0.1)
				return cli_usage(ctx, "--progress must be at "
						      "least 100ms");
			o->progress = d;
		} else {
			o->pool_timeout = d;
		}
		return 0;
	case OPT_RATE: {
		char *end;

		o->rate = strtod(arg, &end);
		if (end == arg || *end || !(o->rate > 0) || o->rate > 1e7)
			return cli_usage(ctx, "invalid rate '%s' (requests per "
					      "second)", arg);
		return 0;
	}
	case OPT_SEED: {
		long seed;

		if (cli_parse_long(arg, 0, 0x7fffffffL, &seed) < 0)
			return cli_usage(ctx, "invalid seed '%s'", arg);
		o->seed = (unsigned long long)seed;
		return 0;
	}
	case OPT_PROTOCOL:
		if (strcmp(arg, "extended") == 0)
			o->extended = true;
		else if (strcmp(arg, "prepared") == 0)
			o->extended = false;
		else
			return cli_usage(ctx, "--protocol must be prepared or "
					      "extended, not '%s'", arg);
		return 0;
	case OPT_TYPE:
		o->type = arg;
		return 0;
	case OPT_CONNECT_PER_REQUEST:
		o->cpr = true;
		return 0;
	case OPT_FORCE_POPULATE:
		o->force_populate = true;
		return 0;
	case OPT_KEEP:
		o->keep = true;
		return 0;
	case OPT_CLEANUP:
		o->cleanup = true;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "json") == 0)
			o->json = true;
		else if (strcmp(arg, "table") == 0)
			o->json = false;
		else
			return cli_usage(ctx, "--format must be table or json, "
					      "not '%s'", arg);
		return 0;
	}
	return cli_usage(ctx, "unhandled option");
}

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

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the report ------------------------------------------------------------ */

static const double report_pcts[] = { 50, 90, 95, 99, 99.9 };
static const char *const report_pct_names[] = { "p50", "p90", "p95", "p99",
						"p99.9" };
#define NPCTS (sizeof(report_pcts) / sizeof(*report_pcts))

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static json_t *latency_json(const struct mreg_histogram *h)
{
	json_t *o;

	if (mreg_histogram_count(h) == 0)
		return json_null();
	o = json_object();
	json_object_set_new(o, "min", json_real(ms(mreg_histogram_min(h))));
	json_object_set_new(o, "mean", json_real(mreg_histogram_mean(h) / 1e6));
	for (size_t i = 0; i < NPCTS; i++)
		json_object_set_new(o, report_pct_names[i],
				    json_real(ms(mreg_histogram_percentile(
					    h, report_pcts[i]))));
	json_object_set_new(o, "max", json_real(ms(mreg_histogram_max(h))));
	return o;
}

struct run_info {
	const struct opts *o;
	int threads;
	int pool_size;
	bool prepared;
	struct mreg_pool_stats pool; /* during the run */
	bool have_pool;
	int import_jobs;             /* import: worker threads per import */
	long per_request;            /* import: files rewritten per request */
};

static const char *workload_label(const struct opts *o)
{
	if (o->mixed)
		return "mixed";
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (o->weights[i])
			return mreg_bench_workload_name(i);
	return "?";
}

static int print_json(const struct run_info *ri,
		      const struct mreg_bench_result *r)
{
	const struct opts *o = ri->o;
	json_t *root = json_object(), *mix = json_object(), *errs,
	       *kinds = json_object(), *first = json_object(),
	       *wls = json_object();
	int rc;

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		json_t *w;

		if (!o->weights[i])
			continue;
		json_object_set_new(mix, mreg_bench_workload_name(i),
				    json_integer(o->weights[i]));
		w = json_object();
		json_object_set_new(w, "transactions",
				    json_integer((json_int_t)mreg_histogram_count(
					    r->by_workload[i])));
		json_object_set_new(w, "errors",
				    json_integer((json_int_t)r->errors_by_workload[i]));
		json_object_set_new(w, "latency_ms",
				    latency_json(r->by_workload[i]));
		json_object_set_new(wls, mreg_bench_workload_name(i), w);
	}
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
	json_object_set_new(root, "duration_s", json_real(r->elapsed_s));
	json_object_set_new(root, "interrupted", json_boolean(r->interrupted));
	json_object_set_new(root, "populated",
			    o->populate ? json_integer(o->populate) : json_null());
	json_object_set_new(root, "transactions",
			    json_integer((json_int_t)r->transactions));
	json_object_set_new(root, "tps",
			    json_real(r->elapsed_s > 0
					      ? (double)r->transactions / r->elapsed_s
					      : 0.0));
	for (int k = 0; k < MREG_BENCH_NERRKINDS; k++) {
		json_object_set_new(kinds, mreg_bench_error_kind_name(k),
				    json_integer((json_int_t)r->errors_by_kind[k]));
		if (r->first_error[k][0])
			json_object_set_new(first, mreg_bench_error_kind_name(k),
					    json_string(r->first_error[k]));
	}
	errs = json_object();
	json_object_set_new(errs, "total", json_integer((json_int_t)r->errors));
	json_object_set_new(errs, "by_kind", kinds);
	json_object_set_new(errs, "first", first);
	json_object_set_new(root, "errors", errs);
	json_object_set_new(root, "latency_ms", latency_json(r->latency));
	json_object_set_new(root, "schedule_lag_ms",
			    o->rate > 0 ? latency_json(r->lag) : json_null());
	json_object_set_new(root, "workloads", wls);
	if (ri->have_pool && !o->cpr) {
		const struct mreg_pool_stats *s = &ri->pool;

		json_object_set_new(root, "pool", json_pack(
			"{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I}",
			"connections_created", (json_int_t)s->created,
			"acquires", (json_int_t)s->acquires,
			"waits", (json_int_t)s->waits,
			"wait_total_ms", s->wait_total_ms,
			"wait_max_ms", s->wait_max_ms,
			"timeouts", (json_int_t)s->timeouts,
			"broken", (json_int_t)s->broken,
			"connect_failures", (json_int_t)s->connect_failures));
	} else {
		json_object_set_new(root, "pool", json_null());
	}
	json_object_set_new(root, "connections_opened",
			    o->cpr ? json_integer((json_int_t)r->connections_opened)
				   : json_null());
	json_object_set_new(root, "import", !o->import ? json_null() : json_pack(
		"{s:I, s:f, s:I, s:i}",
		"files", (json_int_t)o->import_files,
		"change_pct", o->import_change,
		"files_per_request", (json_int_t)ri->per_request,
		"jobs", ri->import_jobs));
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(root);
	return rc;
}

/* One column per workload (and "all" for a mix), one row per statistic. */
static void print_latency_table(const struct opts *o,
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
		printf(" %12.3f", ms(mreg_histogram_min(h[i])));
	printf("\n  %-12s", "mean");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", mreg_histogram_mean(h[i]) / 1e6);
	for (size_t p = 0; p < NPCTS; p++) {
		printf("\n  %-12s", report_pct_names[p]);
		for (int i = 0; i < n; i++)
			printf(" %12.3f",
			       ms(mreg_histogram_percentile(h[i], report_pcts[p])));
	}
	printf("\n  %-12s", "max");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", ms(mreg_histogram_max(h[i])));
	putchar('\n');
}

static void print_table(const struct run_info *ri,
			const struct mreg_bench_result *r)
{
	const struct opts *o = ri->o;

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
			       ms(mreg_histogram_percentile(r->lag, report_pcts[i])));
		printf("  max %.3f\n", ms(mreg_histogram_max(r->lag)));
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
}

/* --- the command ----------------------------------------------------------- */

static void default_mix(struct opts *o)
{
	static const struct { const char *name; unsigned weight; } mix[] = {
		{ "get-default", 80 }, { "list", 15 }, { "set-default", 5 },
	};

	memset(o->weights, 0, sizeof(o->weights));
	for (size_t i = 0; i < sizeof(mix) / sizeof(*mix); i++) {
		int wl = mreg_bench_workload_find(mix[i].name);

		if (wl >= 0)
			o->weights[wl] = mix[i].weight;
	}
}

/* The import workload: its own thread per client, closed loop, pooled. */
static int check_import_opts(struct cli_ctx *ctx, struct opts *o, long cpus)
{
	if (o->rate > 0)
		return cli_usage(ctx, "--rate does not go with --workload import "
				      "(imports run closed loop)");
	if (o->cpr)
		return cli_usage(ctx, "--connect-per-request does not go with "
				      "--workload import");
	if (o->threads > 256)
		return cli_usage(ctx, "--threads: at most 256 worker threads per "
				      "import");
	if (!o->threads)
		o->threads = cpus / o->clients < 1 ? 1 : cpus / o->clients;
	if (!o->pool_size)
		o->pool_size = o->clients;
	if (!o->import_files)
		o->import_files = 1000;
	if (!(o->import_change > 0))
		o->import_change = 1;
	return -1;
}

static int check_opts(struct cli_ctx *ctx, struct opts *o)
{
	unsigned total = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (o->mixed && !o->have_mix)
		default_mix(o);
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		total += o->weights[i];
	if (total == 0) {
		if (o->have_mix)
			return cli_usage(ctx, "--mix gives every workload weight 0");
		o->weights[MREG_BENCH_GET_DEFAULT] = 1;
	}
	if (o->have_duration && o->transactions)
		return cli_usage(ctx, "--duration and --transactions do not go "
				      "together");
	if (!o->have_duration)
		o->duration = o->transactions ? 0 : 10;
	if (o->have_import_opts && !o->import)
		return cli_usage(ctx, "--import-files and --import-change go with "
				      "--workload import");
	if (o->cleanup && (o->populate || o->keep || o->force_populate))
		return cli_usage(ctx, "--cleanup does not go with --populate, "
				      "--keep or --force-populate");
	if (o->import)
		return check_import_opts(ctx, o, cpus);
	if (o->threads > o->clients)
		return cli_usage(ctx, "--threads (%ld) must not exceed --clients "
				      "(%ld)", o->threads, o->clients);
	if (!o->threads)
		o->threads = o->clients < cpus ? o->clients : cpus < 1 ? 1 : cpus;
	if (!o->pool_size)
		o->pool_size = o->clients;
	if (o->cleanup && (o->populate || o->keep || o->force_populate))
		return cli_usage(ctx, "--cleanup does not go with --populate, "
				      "--keep or --force-populate");
	if (!o->populate && (o->keep || o->force_populate))
		return cli_usage(ctx, "--keep and --force-populate go with "
				      "--populate or --workload import");
	return -1;
}

static int run_cleanup(struct cli_ctx *ctx, struct mreg_pool *pool)
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

/* Run the load; fills res. */
static int run_load(struct cli_ctx *ctx, struct opts *o,
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
	next_progress = mono_s() + o->progress;
	while (!mreg_bench_wait(b, 100)) {
		if (got_signal && !stopped) {
			mreg_bench_stop(b);
			stopped = true;
			cli_warn(ctx, "interrupted: finishing the requests in "
				      "flight (Ctrl-C again to quit at once)");
		}
		if (o->progress > 0 && mono_s() >= next_progress) {
			mreg_bench_interval(b, &iv);
			fprintf(stderr,
				"progress: %.1f s, %llu transactions, %.1f tps, "
				"p99 %.3f ms, %llu errors%s\n",
				iv.elapsed_s,
				(unsigned long long)iv.transactions,
				iv.interval_s > 0 ? (double)iv.transactions /
							    iv.interval_s
						  : 0.0,
				ms(iv.p99_ns), (unsigned long long)iv.errors,
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
static int warm_pool(struct mreg_pool *pool, int n, struct mreg_error *err)
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

int cmd_bench(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o = { .ctx = ctx, .clients = 1, .pool_timeout = 30 };
	struct mreg_pool_config pcfg = { 0 };
	struct mreg_bench_config cfg = { 0 };
	struct mreg_bench_data data = { 0 };
	struct mreg_bench_result res = { 0 };
	struct mreg_pool_stats before, after;
	struct run_info ri = { 0 };
	struct mreg_conn *conn = NULL;
	struct mreg_pool *pool;
	struct mreg_error err;
	bool populated = false, imported = false;
	const char *tmp;
	int first, rc;
	double t;

	rc = cli_parse(ctx, &cmd_bench_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return rc;
	rc = check_opts(ctx, &o);
	if (rc >= 0)
		return rc;

	ri.o = &o;
	ri.threads = (int)o.threads;
	ri.pool_size = (int)o.pool_size;
	ri.prepared = !o.extended && !o.cpr && !o.import;
	pcfg.max_size = o.cpr || o.cleanup ? 1 : (int)o.pool_size;
	pcfg.acquire_timeout_ms = (int)(o.pool_timeout * 1000);
	if (pcfg.acquire_timeout_ms <= 0)
		pcfg.acquire_timeout_ms = 1;
	if (ri.prepared)
		pcfg.prepare = mreg_bench_statements(&pcfg.nprepare);
	pool = cli_pool_config(ctx, &pcfg, &err);
	if (!pool)
		return cli_finish(ctx, cli_report(ctx, &err));
	if (o.cleanup)
		return cli_finish(ctx, run_cleanup(ctx, pool));

	if (!(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (o.populate) {
		t = mono_s();
		if (mreg_bench_populate(conn, o.populate, o.force_populate,
					cli_actor(ctx), &err) < 0) {
			rc = cli_report(ctx, &err);
			goto done;
		}
		populated = true;
		cli_verbose(ctx, "populated %ld synthetic models in %.2f s",
			    o.populate, mono_s() - t);
	}
	if (o.import) {
		/* the imported models are bench data: the same rule */
		if (mreg_bench_check_registry(conn, o.force_populate,
					      "run the import workload",
					      &err) < 0) {
			rc = cli_report(ctx, &err);
			goto done;
		}
		imported = true; /* from here on, clean up after the run */
	}
	if (mreg_bench_data_load(conn, o.weights, &data, &err) < 0) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (o.type) {
		mreg_bench_data_only_type(&data, o.type);
		if ((o.weights[MREG_BENCH_GET_DEFAULT] && data.ntypes == 0) ||
		    (o.weights[MREG_BENCH_LIST] && data.nlist_types == 0)) {
			rc = cli_fail(ctx, MREG_EXIT_DATA, "type \"%s\" has %s",
				      o.type, data.nlist_types || !o.weights[MREG_BENCH_LIST]
						      ? "no default model"
						      : "no models");
			goto done;
		}
	}
	mreg_pool_release(pool, conn);
	conn = NULL;
	if (!o.cpr && warm_pool(pool, o.clients < o.pool_size ? (int)o.clients
							      : (int)o.pool_size,
				&err) < 0) {
		rc = cli_report(ctx, &err);
		goto done;
	}

	cfg.pool = pool;
	cfg.connect_per_request = o.cpr;
	cfg.dsn = ctx->dsn;
	cfg.application_name = ctx->appname;
	cfg.prepared = ri.prepared;
	cfg.clients = (int)o.clients;
	cfg.threads = (int)o.threads;
	cfg.duration_s = o.duration;
	cfg.transactions = o.transactions;
	cfg.warmup_s = o.warmup;
	cfg.rate = o.rate;
	memcpy(cfg.weights, o.weights, sizeof(cfg.weights));
	cfg.data = &data;
	cfg.actor = cli_actor(ctx);
	cfg.seed = o.seed;
	if (o.import) {
		tmp = getenv("TMPDIR");
		cfg.import_parent = tmp && *tmp ? tmp : "/tmp";
		cfg.import_files = o.import_files;
		cfg.import_change_pct = o.import_change;
		cfg.import_jobs = (int)o.threads;
		cfg.threads = (int)o.clients;
		ri.threads = (int)o.clients;
		ri.import_jobs = (int)o.threads;
		ri.per_request = mreg_bench_import_per_request(&cfg);
		cli_verbose(ctx, "import: %ld files per client under \"%s\", "
				 "%ld rewritten per request",
			    o.import_files, cfg.import_parent, ri.per_request);
	}

	json_object_seed(0);
	mreg_pool_get_stats(pool, &before);
	rc = run_load(ctx, &o, &cfg, &res);
	if (rc != 0)
		goto done;
	mreg_pool_get_stats(pool, &after);
	ri.have_pool = true;
	ri.pool = after;
	ri.pool.created = after.created - before.created;
	ri.pool.acquires = after.acquires - before.acquires;
	ri.pool.waits = after.waits - before.waits;
	ri.pool.timeouts = after.timeouts - before.timeouts;
	ri.pool.broken = after.broken - before.broken;
	ri.pool.connect_failures = after.connect_failures - before.connect_failures;
	ri.pool.wait_total_ms = after.wait_total_ms - before.wait_total_ms;

	if (o.json)
		print_json(&ri, &res);
	else
		print_table(&ri, &res);
	fflush(stdout);
	rc = 0;
	if (res.errors)
		rc = cli_fail(ctx, MREG_EXIT_FAILURE,
			      "%llu of %llu requests failed",
			      (unsigned long long)res.errors,
			      (unsigned long long)(res.errors + res.transactions));

done:
	if (conn)
		mreg_pool_release(pool, conn);
	if ((populated || imported) && !o.keep) {
		long n;

		conn = mreg_pool_acquire(pool, &err);
		n = conn ? mreg_bench_cleanup(conn, cli_actor(ctx), &err) : -1;
		if (conn)
			mreg_pool_release(pool, conn);
		if (n < 0) {
			cli_report(ctx, &err);
			cli_warn(ctx, "the bench data is still there: "
				      "remove it with 'mreg bench --cleanup'");
			rc = MREG_EXIT_FAILURE;
		}
	}
	mreg_bench_result_finish(&res);
	mreg_bench_data_finish(&data);
	return cli_finish(ctx, rc);
}
