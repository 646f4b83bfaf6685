/* bench.h - the load generator behind 'mreg bench'
 *
 * N clients spread over J worker threads.  Each thread drives its clients
 * with libpq's asynchronous API (one poll() over their sockets), so a
 * thread keeps several requests in flight like pgbench does.  A request
 * takes a connection from the shared pool (or opens its own with
 * connect_per_request), runs the workload's statements - the exact SQL of
 * common/queries.h, as unnamed extended-protocol statements or as the
 * statements the pool prepared on each connection - and gives it back.
 *
 * Closed loop by default: a client starts its next request when the last
 * one ended.  With a rate, requests are scheduled at fixed intervals and
 * latency runs from the scheduled start, so a stall is charged to every
 * request it delays (no coordinated omission); how late requests were
 * sent is kept apart as schedule lag.
 *
 * Each thread records into its own histograms; the results are merged
 * when the run ends.  Failures are counted by kind, never fatal.
 */
#ifndef MREG_BENCH_H
#define MREG_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "histogram.h"
#include "pool.h"

enum mreg_bench_workload {
	MREG_BENCH_GET_DEFAULT, /* mreg default TYPE */
	MREG_BENCH_LIST,        /* mreg list --type TYPE --count (page of 50) */
	MREG_BENCH_SHOW,        /* mreg show PROVIDER/NAME */
	MREG_BENCH_SEARCH,      /* mreg search QUERY (20 results) */
	MREG_BENCH_SET_DEFAULT, /* mreg set-default PROVIDER/NAME (audited) */
	MREG_BENCH_IMPORT,      /* mreg import-dir over a generated tree */
	MREG_BENCH_NWORKLOADS
};

/* "get-default", ...; NULL when out of range. */
const char *mreg_bench_workload_name(int workload);
/* The workload of that name, or -1. */
int mreg_bench_workload_find(const char *name);
/* Does the workload write (and so need bench data it may change)? */
bool mreg_bench_workload_writes(int workload);
/* Can it be part of a mix?  All but import, which runs alone. */
bool mreg_bench_workload_mixable(int workload);

enum mreg_bench_error_kind {
	MREG_BENCH_ERR_CONNECT,      /* could not get a connection */
	MREG_BENCH_ERR_POOL_TIMEOUT, /* all pooled connections stayed busy */
	MREG_BENCH_ERR_DISCONNECT,   /* connection lost during a request */
	MREG_BENCH_ERR_STATEMENT_TIMEOUT, /* 57014: canceled or timed out */
	MREG_BENCH_ERR_CONFLICT,     /* 40001 serialization, 40P01 deadlock */
	MREG_BENCH_ERR_CONSTRAINT,   /* class 23 */
	MREG_BENCH_ERR_SERVER,       /* any other server error */
	MREG_BENCH_ERR_RESULT,       /* unexpected result shape */
	MREG_BENCH_NERRKINDS
};

/* "connect", "pool_timeout", ... (stable: used as JSON keys). */
const char *mreg_bench_error_kind_name(int kind);
/* The kind of a failure described by err. */
int mreg_bench_classify(const struct mreg_error *err);

/* The SQL statements the pool must prepare when prepared is on. */
const struct mreg_prepared *mreg_bench_statements(int *count);

/*
 * Parameter values the workloads draw from, read from the registry
 * before the run (mreg_bench_data_load).
 */
struct mreg_bench_data {
	char **types;          /* get-default: types that have a default */
	int ntypes;
	char **list_types;     /* list: types that have models */
	int nlist_types;
	char **show_provider;  /* show: a random sample of models */
	char **show_name;
	int nshow;
	char **terms;          /* search: tags and name words of a sample */
	int nterms;
	char **sd_provider;    /* set-default: active bench models of types */
	char **sd_name;        /* whose default is a bench model */
	int nsd;
};

/*
 * Read what the workloads with a non-zero weight need.  set-default only
 * ever moves defaults between bench models (never a real default).
 */
int mreg_bench_data_load(struct mreg_conn *conn,
			 const unsigned weights[MREG_BENCH_NWORKLOADS],
			 struct mreg_bench_data *data, struct mreg_error *err);
void mreg_bench_data_finish(struct mreg_bench_data *data); /* NULL-safe */
/* Keep only this type for get-default and list. */
void mreg_bench_data_only_type(struct mreg_bench_data *data, const char *type);

struct mreg_bench_config {
	struct mreg_pool *pool;      /* unless connect_per_request */
	/* optional: the read workloads' pool (--read-dsn), pool only */
	struct mreg_pool *read_pool;
	bool connect_per_request;
	const char *dsn;             /* for connect_per_request; NULL: libpq */
	const char *application_name;
	bool prepared;               /* use the pool's prepared statements */
	int clients;                 /* >= 1 */
	int threads;                 /* 1 .. clients */
	double duration_s;           /* > 0: run this long (after warmup) */
	long transactions;           /* > 0: this many requests in all */
	double warmup_s;             /* run unrecorded first */
	double rate;                 /* > 0: requests per second, open loop */
	unsigned weights[MREG_BENCH_NWORKLOADS]; /* relative; sum > 0 */
	const struct mreg_bench_data *data;
	const char *actor;           /* for audited writes */
	uint64_t seed;
	/* import: one thread per client (threads is ignored), pool only */
	const char *import_parent;   /* the run's directory is made here */
	long import_files;           /* files in each client's tree */
	double import_change_pct;    /* of them rewritten per request */
	int import_jobs;             /* worker threads of each import */
	/* --latency-log: a line per recorded request (bench-log.h) */
	bool latency_log;
	int latency_log_fd;          /* the caller's; not closed here */
};

struct mreg_bench;

/*
 * Validate cfg and start the worker threads.  For import, each client's
 * thread first writes its tree (see benchtree.h) and imports it once,
 * unrecorded; this returns once every client is ready (or NULL with the
 * first client's error), and the clock starts then.
 */
struct mreg_bench *mreg_bench_start(const struct mreg_bench_config *cfg,
				    struct mreg_error *err);

/* import: files rewritten per request (at least 1), 0 for the others. */
long mreg_bench_import_per_request(const struct mreg_bench_config *cfg);
/* import: the run's private directory (removed by mreg_bench_destroy). */
const char *mreg_bench_import_dir(const struct mreg_bench *b);

/* Ask the workers to stop (no new requests; in-flight ones finish). */
void mreg_bench_stop(struct mreg_bench *b);

/* Wait up to timeout_ms for the run to end; true once it has ended. */
bool mreg_bench_wait(struct mreg_bench *b, int timeout_ms);

/* Counts since the previous call (or the start), for progress lines. */
struct mreg_bench_interval {
	double elapsed_s;       /* since the start of the run */
	bool warming_up;
	uint64_t transactions;  /* completed in the interval */
	uint64_t errors;
	uint64_t p99_ns;
	double interval_s;
};
void mreg_bench_interval(struct mreg_bench *b,
			 struct mreg_bench_interval *out);

struct mreg_bench_result {
	double elapsed_s;        /* measured phase, after warmup */
	bool interrupted;        /* stopped before its end */
	uint64_t transactions;   /* succeeded */
	uint64_t errors;
	uint64_t errors_by_kind[MREG_BENCH_NERRKINDS];
	char first_error[MREG_BENCH_NERRKINDS][256]; /* one message per kind */
	struct mreg_histogram *latency;  /* all workloads, ns */
	struct mreg_histogram *lag;      /* schedule lag, ns (rate only) */
	struct mreg_histogram *by_workload[MREG_BENCH_NWORKLOADS];
	uint64_t errors_by_workload[MREG_BENCH_NWORKLOADS];
	unsigned long connections_opened; /* connect_per_request */
	int64_t started_unix_ns;  /* wall clock at the end of the warmup */
	int64_t finished_unix_ns; /* and when the last request ended */
	int latency_log_error;    /* first write errno of the log, or 0 */
	uint64_t latency_log_lines; /* lines written to it */
};

/*
 * Join the workers (after mreg_bench_wait returned true) and merge their
 * results into res, which owns the histograms afterwards.
 */
int mreg_bench_finish(struct mreg_bench *b, struct mreg_bench_result *res,
		      struct mreg_error *err);
void mreg_bench_result_finish(struct mreg_bench_result *res); /* NULL-safe */
void mreg_bench_destroy(struct mreg_bench *b); /* NULL-safe; stops, joins */

/*
 * --populate: replace any bench data with n synthetic models (set-based,
 * one transaction, audited).  Refuses (MREG_EXIT_DATA) when the registry
 * holds models bench did not create, unless force.  Bench data is marked
 * with metadata {"mreg_bench": true} and providers named mreg-bench-*.
 */
int mreg_bench_populate(struct mreg_conn *conn, long n, bool force,
			const char *actor, struct mreg_error *err);
/*
 * Refuse (MREG_EXIT_DATA, "refusing to <doing>: ...") when the registry
 * holds models bench did not create, unless force.  0 when it may go on.
 */
int mreg_bench_check_registry(struct mreg_conn *conn, bool force,
			      const char *doing, struct mreg_error *err);
/*
 * Remove all bench data (audited): the models, their defaults, the bench
 * providers left without models, and the cache rows (mreg.source_files)
 * of the import workload's sources.  One transaction.  The number of
 * models removed, or -1.
 */
long mreg_bench_cleanup(struct mreg_conn *conn, const char *actor,
			struct mreg_error *err);

#endif
