/* bench-log.h - mreg bench --latency-log: one line per request
 *
 * Every worker thread formats its lines into its own buffer (no lock, no
 * system call per request) and hands a full buffer to the shared log,
 * which writes it under a mutex: lines of one thread stay in order and
 * whole, those of different threads interleave buffer by buffer.  A line
 * (see mreg-bench(1)):
 *
 *   2026-12-01T12:04:51.886123Z 3 get-default 1234.567 ok 0.812
 *
 * the moment the request's latency counts from (UTC, microseconds), the
 * client (0-based), the workload, the latency in microseconds (exact to
 * the nanosecond), "ok" or the error kind, and the schedule lag in
 * microseconds (how late the request was sent after that moment).
 *
 * The first write error is kept; later lines are dropped then, and the
 * caller reports it after the run.
 */
#ifndef MREG_BENCH_LOG_H
#define MREG_BENCH_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MREG_BENCH_LOGBUF_SIZE 65536

/* Shared by the worker threads. */
struct mreg_bench_log {
	int fd;                 /* the caller's, opened for writing */
	pthread_mutex_t lock;
	int error;              /* first write errno, 0 if none (under lock) */
	uint64_t lines;         /* lines written (under lock) */
};

/* One per thread. */
struct mreg_bench_logbuf {
	char *buf;
	size_t len, cap;
	uint64_t lines;         /* in buf */
	time_t second;          /* the second prefix[] spells, -1 at first */
	char prefix[24];        /* "YYYY-MM-DDTHH:MM:SS" */
};

/* 0, or -1 when the mutex could not be made. */
int mreg_bench_log_init(struct mreg_bench_log *log, int fd);
void mreg_bench_log_finish(struct mreg_bench_log *log); /* NULL-safe */
/* The first write errno (0 if none) and the lines written so far. */
int mreg_bench_log_error(struct mreg_bench_log *log, uint64_t *lines);

/* 0, or -1 when out of memory. */
int mreg_bench_logbuf_init(struct mreg_bench_logbuf *lb);
void mreg_bench_logbuf_finish(struct mreg_bench_logbuf *lb); /* NULL-safe */

/*
 * Add one line to lb, writing lb to log first when the line may not fit.
 * real_ns is the start in nanoseconds since the epoch; latency_ns and
 * lag_ns are durations (a negative one is written as 0).
 */
void mreg_bench_log_line(struct mreg_bench_log *log,
			 struct mreg_bench_logbuf *lb, int64_t real_ns,
			 int client, const char *workload, int64_t latency_ns,
			 const char *status, int64_t lag_ns);
/* Write what lb holds to log. */
void mreg_bench_log_flush(struct mreg_bench_log *log,
			  struct mreg_bench_logbuf *lb);

#endif
