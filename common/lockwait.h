/* lockwait.h - how long to wait for a lock another process holds
 *
 * import-dir's source lock (a row, source.h) and migrate's lock (a session
 * advisory lock, migrate.h) are taken by polling: a short statement per
 * try, in autocommit, against a deadline kept on the client's monotonic
 * clock.  Nothing waits inside the server (a waiter
 * blocked in pg_advisory_lock() is a transaction that CREATE INDEX
 * CONCURRENTLY waits for), no session setting such as lock_timeout is
 * left behind on a pooled server connection, and a server connection is
 * never held by a statement that sleeps.
 */
#ifndef MREG_LOCKWAIT_H
#define MREG_LOCKWAIT_H

#include <stdio.h>

/* limit_s of a wait with no limit */
#define MREG_WAIT_FOREVER (-1.0)

struct mreg_lock_wait {
	/* 0: try once; > 0: give up after this long; < 0: no limit */
	double limit_s;
	/*
	 * Optional: called once when the first try failed and a wait
	 * begins (limit_s != 0); holder is "pid N, \"application\""
	 * (migrate's server pid) or "pid N on HOST, \"application\"" (a
	 * source's client pid), or "another session"/"another process"
	 * when the holder was not found.
	 */
	void (*waiting)(void *arg, const char *holder);
	void *arg;
};

/* A limit for people: "250 ms", "1 s", "1.5 s", "5 min". */
static inline void mreg_lock_wait_text(double s, char *buf, size_t len)
{
	if (s < 1)
		snprintf(buf, len, "%g ms", s * 1000);
	else if (s >= 60 && (long long)s % 60 == 0 && (long long)s == s)
		snprintf(buf, len, "%g min", s / 60);
	else
		snprintf(buf, len, "%g s", s);
}

#endif
