/* test-bench-log.c - --latency-log: threads write through their own
 * buffers into one file; every line arrives once, whole, in the format */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-log.h"
#include "tap.h"

enum { THREADS = 4, LINES = 20000 };

static struct mreg_bench_log shared;

static void *writer(void *arg)
{
	int id = (int)(long)arg;
	struct mreg_bench_logbuf lb;

	if (mreg_bench_logbuf_init(&lb) < 0)
		bail_out("out of memory");
	for (int i = 0; i < LINES; i++)
		mreg_bench_log_line(&shared, &lb,
				    1764590691886123000LL + (int64_t)i * 1000,
				    id, "get-default", 1234567 + i,
				    i % 100 ? "ok" : "pool_timeout", 812);
	mreg_bench_log_flush(&shared, &lb);
	mreg_bench_logbuf_finish(&lb);
	return NULL;
}

static void test_threads(void)
{
	char path[] = "/tmp/mreg-test-bench-log.XXXXXX";
	int fd = mkstemp(path);
	pthread_t t[THREADS];
	long per[THREADS] = { 0 };
	long lines = 0, bad = 0, errs = 0;
	uint64_t written;
	char line[512];
	regex_t re;
	FILE *f;

	if (fd < 0)
		bail_out("mkstemp");
	if (mreg_bench_log_init(&shared, fd) < 0)
		bail_out("log init");
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	is_int(mreg_bench_log_error(&shared, &written), 0, "no write error");
	is_int(written, THREADS * LINES, "every line counted as written");
	mreg_bench_log_finish(&shared);
	close(fd);

	if (regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			 "[0-9]{2}\\.[0-9]{6}Z [0-9]+ [a-z-]+ [0-9]+\\.[0-9]{3} "
			 "[a-z_]+ [0-9]+\\.[0-9]{3}\n$",
		    REG_EXTENDED | REG_NOSUB) != 0)
		bail_out("regcomp");
	f = fopen(path, "r");
	if (!f)
		bail_out("fopen");
	while (fgets(line, sizeof(line), f)) {
		int id = -1;

		lines++;
		if (regexec(&re, line, 0, NULL, 0) != 0) {
			if (bad++ < 3)
				diag("bad line: %s", line);
			continue;
		}
		if (sscanf(line, "%*s %d", &id) == 1 && id >= 0 && id < THREADS)
			per[id]++;
		if (strstr(line, " pool_timeout "))
			errs++;
	}
	fclose(f);
	regfree(&re);
	is_int(lines, THREADS * LINES, "the file has every line");
	is_int(bad, 0, "every line whole and in the format");
	for (int i = 0; i < THREADS; i++)
		is_int(per[i], LINES, "thread %d: all its lines", i);
	is_int(errs, THREADS * LINES / 100, "error kinds written as the status");
	unlink(path);
}

static void test_format(void)
{
	char path[] = "/tmp/mreg-test-bench-log.XXXXXX";
	int fd = mkstemp(path);
	struct mreg_bench_log log;
	struct mreg_bench_logbuf lb;
	char buf[256] = "";
	ssize_t n;

	if (fd < 0 || mreg_bench_log_init(&log, fd) < 0 ||
	    mreg_bench_logbuf_init(&lb) < 0)
		bail_out("setup");
	/* 2026-12-01T12:04:51.886123Z */
	mreg_bench_log_line(&log, &lb, 1796126691886123999LL, 3, "list",
			    1234567, "ok", -5);
	mreg_bench_log_line(&log, &lb, 1796126692000000000LL, 0, "import",
			    999, "disconnect", 1000);
	mreg_bench_log_flush(&log, &lb);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf,
	       "2026-12-01T12:04:51.886123Z 3 list 1234.567 ok 0.000\n"
	       "2026-12-01T12:04:52.000000Z 0 import 0.999 disconnect 1.000\n",
	       "the line format, exactly");
	mreg_bench_logbuf_finish(&lb);
	mreg_bench_logbuf_finish(&lb); /* twice: harmless */
	mreg_bench_log_finish(&log);
	close(fd);
	unlink(path);
}

/* A write error is kept, later lines dropped, nothing crashes. */
static void test_error(void)
{
	struct mreg_bench_log log;
	struct mreg_bench_logbuf lb;
	int fd = open("/dev/full", O_WRONLY);
	uint64_t written = 99;

	if (fd < 0) {
		ok(1, "# SKIP no /dev/full");
		return;
	}
	if (mreg_bench_log_init(&log, fd) < 0 || mreg_bench_logbuf_init(&lb) < 0)
		bail_out("setup");
	for (int i = 0; i < 5000; i++)
		mreg_bench_log_line(&log, &lb, 0, 0, "show", 1, "ok", 0);
	mreg_bench_log_flush(&log, &lb);
	is_int(mreg_bench_log_error(&log, &written), ENOSPC,
	       "a full disk is reported as ENOSPC");
	is_int(written, 0, "no line counted as written");
	mreg_bench_logbuf_finish(&lb);
	mreg_bench_log_finish(&log);
	close(fd);
}

int main(void)
{
	test_format();
	test_threads();
	test_error();
	return tap_done();
}
