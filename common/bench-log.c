/* bench-log.c - mreg bench --latency-log: per-thread buffers, one shared
 * file (see bench-log.h) */
#include "bench-log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 256 /* the longest line is about 160 */

int mreg_bench_log_init(struct mreg_bench_log *log, int fd)
{
	memset(log, 0, sizeof(*log));
	log->fd = fd;
	return pthread_mutex_init(&log->lock, NULL) == 0 ? 0 : -1;
}

void mreg_bench_log_finish(struct mreg_bench_log *log)
{
	if (log)
		pthread_mutex_destroy(&log->lock);
}

int mreg_bench_log_error(struct mreg_bench_log *log, uint64_t *lines)
{
	int e;

	pthread_mutex_lock(&log->lock);
	e = log->error;
	if (lines)
		*lines = log->lines;
	pthread_mutex_unlock(&log->lock);
	return e;
}

int mreg_bench_logbuf_init(struct mreg_bench_logbuf *lb)
{
	memset(lb, 0, sizeof(*lb));
	lb->second = (time_t)-1;
	lb->buf = malloc(MREG_BENCH_LOGBUF_SIZE);
	if (!lb->buf)
		return -1;
	lb->cap = MREG_BENCH_LOGBUF_SIZE;
	return 0;
}

void mreg_bench_logbuf_finish(struct mreg_bench_logbuf *lb)
{
	if (!lb)
		return;
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
}

/* Write all of buf unless the log already failed; the lock is held. */
static void write_all(struct mreg_bench_log *log, const char *buf, size_t len)
{
	while (len > 0 && !log->error) {
		ssize_t n = write(log->fd, buf, len);

		if (n < 0) {
			if (errno != EINTR)
				log->error = errno;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void mreg_bench_log_flush(struct mreg_bench_log *log,
			  struct mreg_bench_logbuf *lb)
{
	if (!lb->len)
		return;
	pthread_mutex_lock(&log->lock);
	write_all(log, lb->buf, lb->len);
	if (!log->error)
		log->lines += lb->lines;
	pthread_mutex_unlock(&log->lock);
	lb->len = 0;
	lb->lines = 0;
}

/* "1234.567": nanoseconds as microseconds with three decimals. */
static int put_us(char *p, size_t size, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return snprintf(p, size, "%lld.%03lld", (long long)(ns / 1000),
			(long long)(ns % 1000));
}

void mreg_bench_log_line(struct mreg_bench_log *log,
			 struct mreg_bench_logbuf *lb, int64_t real_ns,
			 int client, const char *workload, int64_t latency_ns,
			 const char *status, int64_t lag_ns)
{
	time_t sec = (time_t)(real_ns / 1000000000);
	long usec = (long)(real_ns % 1000000000 / 1000);
	char lat[32], lag[32];
	size_t room;
	int n;

	if (!lb->buf)
		return;
	if (lb->cap - lb->len < LINE_MAX_LEN)
		mreg_bench_log_flush(log, lb);
	if (sec != lb->second) {
		struct tm tm;

		if (!gmtime_r(&sec, &tm))
			memset(&tm, 0, sizeof(tm));
		snprintf(lb->prefix, sizeof(lb->prefix),
			 "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		lb->second = sec;
	}
	put_us(lat, sizeof(lat), latency_ns);
	put_us(lag, sizeof(lag), lag_ns);
	room = lb->cap - lb->len;
	n = snprintf(lb->buf + lb->len, room, "%s.%06ldZ %d %.32s %s %.32s %s\n",
		     lb->prefix, usec, client, workload, lat, status, lag);
	if (n < 0 || (size_t)n >= room)
		return; /* cannot happen: LINE_MAX_LEN bounds every field */
	lb->len += (size_t)n;
	lb->lines++;
}
