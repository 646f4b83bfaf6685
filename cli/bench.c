/* bench.c - mreg bench: load-test the registry with the commands' own SQL */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench-cmd.h"
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
	OPT_FORMAT = 'o',
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
	OPT_SEED,
	OPT_TYPE,
	OPT_IMPORT_FILES,
	OPT_IMPORT_CHANGE,
	OPT_METRICS_FILE,
	OPT_THRESHOLD,
	OPT_LATENCY_LOG,
	OPT_READ_DSN,
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
	  "auto (default: prepared, or extended through a transaction-mode "
	  "pooler), prepared (named statements prepared on each pooled "
	  "connection) or extended (unnamed statements)" },
	{ OPT_READ_DSN, 0, "read-dsn", "CONNINFO",
	  "run the read workloads on this server (a replica; its own pool "
	  "of --pool-size), the writes on --dsn (default: $MREG_READ_DSN)" },
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
	{ OPT_FORMAT, 'o', "format", "FORMAT",
	  "text (default; table is a synonym) or json" },
	{ OPT_METRICS_FILE, 0, "metrics-file", "PATH",
	  "write the run's metrics to PATH (node_exporter textfile)" },
	{ OPT_THRESHOLD, 0, "threshold", "EXPR",
	  "fail (exit 6) unless the run meets EXPR, e.g. p99<5ms, "
	  "errors<0.1%, tps>1000 (repeatable)" },
	{ OPT_LATENCY_LOG, 0, "latency-log", "FILE",
	  "write a line per request (time, client, workload, latency, "
	  "status) to FILE" },
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
		"Thresholds: METRIC OP VALUE, METRIC a latency (min, mean, max, "
		"stddev,\np50, p90, p95, p99, p99.9 or any pN; with us, ms or s), "
		"errors (a count,\nor with % a share of all requests) or tps; "
		"OP < <= > >= == !=.\n"
		"Exit status is 6 when a threshold was not met, 1 when a request "
		"failed\n(unless a threshold judges errors); the report is printed "
		"anyway, also\nafter Ctrl-C.  See mreg-bench(1).",
};


static int parse_mix(struct bench_opts *o, const char *arg)
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

/* --workload, --mix and the import workload's options. */
static int handle_workload(struct bench_opts *o, int id, const char *arg)
{
	const struct cli_ctx *ctx = o->ctx;
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
	}
	return cli_usage(ctx, "unhandled option");
}

/* The options that take a number. */
static int handle_number(struct bench_opts *o, int id, const char *arg)
{
	const struct cli_ctx *ctx = o->ctx;

	switch (id) {
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
	}
	return cli_usage(ctx, "unhandled option");
}

/* The options that take a duration. */
static int handle_duration(struct bench_opts *o, int id, const char *arg)
{
	const struct cli_ctx *ctx = o->ctx;
	double d;

	if (cli_parse_duration(arg, &d) < 0)
		return cli_usage(ctx, "invalid duration '%s' (try 10s, "
				      "500ms, 2m)", arg);
	if (id == OPT_DURATION) {
		if (d <= 0)
			return cli_usage(ctx, "--duration must be positive");
		o->duration = d;
		o->have_duration = true;
	} else if (id == OPT_WARMUP) {
		o->warmup = d;
	} else if (id == OPT_PROGRESS) {
		if (d < 0.1)
			return cli_usage(ctx, "--progress must be at least "
					      "100ms");
		o->progress = d;
	} else {
		o->pool_timeout = d;
	}
	return 0;
}

static int handle(void *state, int id, const char *arg)
{
	struct bench_opts *o = state;
	const struct cli_ctx *ctx = o->ctx;

	switch (id) {
	case OPT_WORKLOAD:
	case OPT_MIX:
	case OPT_IMPORT_FILES:
	case OPT_IMPORT_CHANGE:
		return handle_workload(o, id, arg);
	case OPT_CLIENTS:
	case OPT_THREADS:
	case OPT_POOL_SIZE:
	case OPT_TRANSACTIONS:
	case OPT_POPULATE:
	case OPT_RATE:
	case OPT_SEED:
		return handle_number(o, id, arg);
	case OPT_DURATION:
	case OPT_WARMUP:
	case OPT_PROGRESS:
	case OPT_POOL_TIMEOUT:
		return handle_duration(o, id, arg);
	case OPT_PROTOCOL:
		o->protocol_given = strcmp(arg, "auto") != 0;
		if (strcmp(arg, "extended") == 0)
			o->extended = true;
		else if (strcmp(arg, "prepared") == 0 ||
			 strcmp(arg, "auto") == 0)
			o->extended = false;
		else
			return cli_usage(ctx, "--protocol must be auto, prepared "
					      "or extended, not '%s'", arg);
		return 0;
	case OPT_TYPE:
		o->type = arg;
		return 0;
	case OPT_CONNECT_PER_REQUEST:
		o->cpr = true;
		return 0;
	case OPT_READ_DSN:
		o->read_dsn = arg;
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
	case OPT_METRICS_FILE:
		return cli_metrics_path(ctx, &o->metrics, arg);
	case OPT_FORMAT:
		return cli_parse_report_format(ctx, arg, "text", &o->json);
	case OPT_THRESHOLD:
		return bench_add_threshold(o, arg);
	case OPT_LATENCY_LOG:
		if (!*arg)
			return cli_usage(ctx, "--latency-log needs a file name");
		o->latency_log = arg;
		return 0;
	}
	return cli_usage(ctx, "unhandled option");
}

/* --- the command ----------------------------------------------------------- */

static void default_mix(struct bench_opts *o)
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
static int check_import_opts(struct cli_ctx *ctx, struct bench_opts *o, long cpus)
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

static int check_opts(struct cli_ctx *ctx, struct bench_opts *o)
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
	if (o->cleanup && (o->nthresholds || o->latency_log))
		return cli_usage(ctx, "--cleanup runs nothing: it does not go "
				      "with --threshold or --latency-log");
	if (o->import)
		return check_import_opts(ctx, o, cpus);
	if (o->threads > o->clients)
		return cli_usage(ctx, "--threads (%ld) must not exceed --clients "
				      "(%ld)", o->threads, o->clients);
	if (!o->threads)
		o->threads = o->clients < cpus ? o->clients : cpus < 1 ? 1 : cpus;
	if (!o->pool_size)
		o->pool_size = o->clients;
	if (!o->populate && (o->keep || o->force_populate))
		return cli_usage(ctx, "--keep and --force-populate go with "
				      "--populate or --workload import");
	return -1;
}

int cmd_bench(struct cli_ctx *ctx, int argc, char **argv)
{
	struct bench_opts o = { .ctx = ctx, .clients = 1, .pool_timeout = 30 };
	struct mreg_bench_config cfg = { 0 };
	struct mreg_bench_data data = { 0 };
	struct bench_run_info ri = { 0 };
	struct mreg_conn *conn;
	struct mreg_pool *pool, *rpool = NULL;
	struct mreg_error err;
	bool made = false;
	int first, rc;

	cli_metrics_init(&o.metrics);
	rc = cli_parse(ctx, &cmd_bench_spec, argc, argv, handle, &o, &first);
	if (rc >= 0)
		return rc;
	rc = check_opts(ctx, &o);
	if (rc >= 0)
		return rc;

	ri.o = &o;
	ri.metrics = &o.metrics;
	ri.threads = (int)o.threads;
	ri.pool_size = (int)o.pool_size;
	ri.prepared = !o.extended && !o.cpr && !o.import;
	if (ri.prepared && !o.protocol_given &&
	    (rc = bench_pick_protocol(ctx, &ri.prepared)) >= 0)
		return cli_finish(ctx, rc);
	if ((rc = bench_open_latency_log(ctx, &o, &ri)) >= 0)
		return cli_finish(ctx, rc);
	pool = bench_open_pool(ctx, &o, ri.prepared, &err);
	if (!pool) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if (o.cleanup)
		return cli_finish(ctx, bench_metrics_finish(ctx, &o,
				  bench_run_cleanup(ctx, pool)));

	if (!(conn = mreg_pool_acquire(pool, &err))) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	rc = bench_prepare_data(ctx, &o, conn, &data, &made);
	mreg_pool_release(pool, conn);
	if (rc >= 0)
		goto done;
	if (!o.cpr && bench_warm_pool(pool, o.clients < o.pool_size
						    ? (int)o.clients
						    : (int)o.pool_size,
				      &err) < 0) {
		rc = cli_report(ctx, &err);
		goto done;
	}
	if ((rc = bench_open_read_pool(ctx, &o, ri.prepared, &rpool)) >= 0)
		goto done;
	bench_fill_config(ctx, &o, pool, &data, &ri, &cfg);
	cfg.read_pool = rpool;
	rc = bench_measure(ctx, &o, pool, &cfg, &ri);
done:
	mreg_pool_destroy(rpool);
	if (made && !o.keep)
		rc = bench_remove_data(ctx, pool, rc);
	if (ri.log_fd >= 0) /* the run did not get to it */
		close(ri.log_fd);
	mreg_bench_data_finish(&data);
	return cli_finish(ctx, bench_metrics_finish(ctx, &o, rc));
}
