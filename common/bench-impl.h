/* bench-impl.h - what the parts of the load generator share (private)
 *
 * bench.h is the interface; behind it:
 *   bench-workloads.c  the workloads: steps, SQL, parameters; error kinds
 *   bench-loop.c       one request and the worker threads' event loop
 *   bench-import.c     the import workload (one thread per client)
 *   bench.c            the run: configuration, start, wait, results
 */
#ifndef MREG_BENCH_IMPL_H
#define MREG_BENCH_IMPL_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <libpq-fe.h>

#include "bench.h"
#include "connect.h"
#include "benchtree.h"
#include "bench-log.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define MAX_PARAMS 7
#define PARAM_LEN 256
#define BACKOFF_NS (10 * NS_PER_MS) /* after a failed connect (closed loop) */
#define TICK_NS (100 * NS_PER_MS)   /* longest sleep between stop checks */

struct bench_client;

struct bench_step {
	const char *stmt;      /* prepared statement name, NULL: never prepared */
	const char *sql;
	int nparams;
	ExecStatusType expect;
	int min_rows, max_rows; /* for PGRES_TUPLES_OK; max < 0: no limit */
};

struct bench_workload {
	const char *name;
	bool writes;
	const struct bench_step *steps;
	int nsteps;
	/* Fill values[0..nparams) for step i; may use the client's buffers. */
	void (*params)(struct bench_client *c, int step, const char **values);
};

/* The workloads, indexed by enum mreg_bench_workload (bench-workloads.c). */
extern const struct bench_workload mreg_bench_workload_table[MREG_BENCH_NWORKLOADS];

struct bench_worker;

struct bench_client {
	struct bench_worker *w;
	int index;                /* 0 .. clients-1 */
	struct mreg_conn *conn;   /* pooled connection of this request */
	PGconn *own;              /* connect_per_request */
	bool busy;                /* a request is in flight */
	bool done;                /* no more requests */
	bool recording;           /* after warmup: counted */
	bool failed;
	bool got_result;
	int kind;                 /* error kind when failed */
	int workload;
	int step;
	int pick;                 /* a parameter chosen for the whole request */
	long long intended_ns;
	long long sent_ns;
	long long next_ns;        /* rate: next scheduled start; else backoff */
	long long waiting_since;  /* closed loop: due since, pool was full */
	struct mreg_error err;
	char buf[MAX_PARAMS][PARAM_LEN];
};

struct bench_worker {
	struct mreg_bench *b;
	pthread_t thread;
	bool started;
	struct bench_client *clients;
	int nclients;
	uint64_t rng;
	long long finished_ns;
	struct pollfd *pfd;
	struct bench_client **pclient;
	/* owned by the thread until it ends */
	struct mreg_histogram *hist[MREG_BENCH_NWORKLOADS];
	struct mreg_histogram *lag;
	uint64_t transactions;
	uint64_t errors_by_kind[MREG_BENCH_NERRKINDS];
	uint64_t errors_by_workload[MREG_BENCH_NWORKLOADS];
	char first_error[MREG_BENCH_NERRKINDS][256];
	unsigned long connections_opened;
	/* shared with mreg_bench_interval() */
	pthread_mutex_t lock;
	struct mreg_histogram *interval;
	uint64_t interval_tx;
	uint64_t interval_err;
	/* import: the client's tree; files rewritten since the last import
	 * that ran to the end (a failed one may not have recorded them) */
	struct mreg_bench_tree tree;
	long carried;
	struct mreg_bench_logbuf logbuf; /* --latency-log */
};

struct mreg_bench {
	struct mreg_bench_config cfg;
	unsigned weight_total;
	long long t0_ns;
	long long measure_ns;     /* end of warmup */
	long long end_ns;         /* no request starts at or after this */
	long long interval_ns;    /* rate: per-client period */
	long long last_interval_ns;
	atomic_bool stop;
	atomic_long tickets;      /* transactions still to start */
	atomic_int running;       /* workers not finished */
	struct bench_worker *workers;
	int nworkers;
	struct mreg_histogram *interval_merge;
	bool pool_can_fill;       /* fewer pooled connections than clients */
	struct mreg_connector connector; /* connect_per_request */
	/* import */
	bool import;
	char *import_dir;         /* the run's private directory */
	long per_request;         /* files rewritten per request */
	pthread_mutex_t setup_lock;
	pthread_cond_t setup_cond;
	bool setup_sync;          /* setup_lock and setup_cond exist */
	int setup_ready, setup_failed; /* clients past their setup */
	bool go;                  /* the clock is set: start requests */
	struct mreg_error setup_err;  /* the first client's failure */
	/* --latency-log */
	bool have_log;            /* log exists */
	struct mreg_bench_log log;
	long long real_offset_ns; /* wall clock minus monotonic clock */
};

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static inline void sleep_ns(long long ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / NS_PER_S);
	ts.tv_nsec = (long)(ns % NS_PER_S);
	nanosleep(&ts, NULL);
}

static inline uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

static inline void bench_fail(struct bench_client *c, int kind)
{
	c->failed = true;
	c->kind = kind;
}

/* bench-loop.c */
void *mreg_bench_worker_main(void *arg);
/*
 * Count one recorded request into the thread's totals and interval, and
 * write its line to the latency log.
 */
void mreg_bench_record(struct bench_worker *w, int client, int workload,
		       bool failed, int kind, const char *message,
		       long long intended, long long sent, long long end);

/* bench-import.c */
void *mreg_bench_import_main(void *arg);
int mreg_bench_check_import_config(const struct mreg_bench_config *cfg,
				   struct mreg_error *err);
int mreg_bench_import_prepare(struct mreg_bench *b, struct mreg_error *err);
int mreg_bench_import_wait_setup(struct mreg_bench *b, struct mreg_error *err);

#endif
