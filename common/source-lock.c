/* source-lock.c - an import source's lock as a row (see source.h) */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "source.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * Autocommit statements, one short statement per try: nothing waits in
 * the server and nothing stays behind on a pooled server connection.
 * A takeover deletes the stale row and inserts its own: the DELETE
 * conflicts with the fence (FOR KEY SHARE) of a transaction in flight and
 * waits for it, then finds the row fresh again if its holder beat
 * meanwhile; the heartbeat, an UPDATE of no key, never waits for its own
 * holder's fence.  $1 source, $2 host, $3 host_id, $4 pid.
 */
static const char *const take_sql =
	"INSERT INTO mreg.source_locks (source, host, host_id, pid,"
	" application, ttl_s)"
	" VALUES ($1, $2, $3, $4::integer,"
	" coalesce(nullif(current_setting('application_name'), ''), 'mreg'),"
	" " STR(MREG_SOURCE_LOCK_TTL_S) ")"
	" ON CONFLICT (source) DO NOTHING RETURNING token";
#define STALE "heartbeat_at + make_interval(secs => ttl_s) < clock_timestamp()"
static const char *const holder_sql =
	"SELECT token, host, host_id, pid, application, db_role,"
	" to_char(acquired_at, 'YYYY-MM-DD HH24:MI:SS TZ'),"
	" floor(extract(epoch FROM clock_timestamp() - heartbeat_at))::bigint,"
	" ttl_s, " STALE " FROM mreg.source_locks WHERE source = $1";
/* $1 source, $2 token, $3 whether its holder is known dead */
static const char *const takeover_sql =
	"DELETE FROM mreg.source_locks WHERE source = $1 AND token = $2::uuid"
	" AND ($3::boolean OR " STALE ")";
static const char *const drop_sql = /* $1 source, $2 token */
	"DELETE FROM mreg.source_locks WHERE source = $1 AND token = $2::uuid";
static const char *const beat_sql = /* $1 source, $2 token */
	"UPDATE mreg.source_locks SET heartbeat_at = clock_timestamp()"
	" WHERE source = $1 AND token = $2::uuid";

struct mreg_source_lock {
	struct mreg_conn *conn;     /* took it; drops it unless beat_conn */
	struct mreg_pool *pool;     /* mreg_source_lock_keep's */
	struct mreg_conn *beat_conn; /* from pool, at the first beat */
	char *source;
	char token[40];
	pthread_t beater;
	bool beating;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, lost;
};

/* --- who we are ---------------------------------------------------------- */

struct self {
	char host[256];
	char host_id[600];
	char pid[16];
};

/* The first line of a small file, or "" */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * Two processes share a pid space when they share the hostname, the
 * kernel's boot and the pid namespace: then kill(pid, 0) answers for the
 * holder.  Containers on one kernel differ in their pid namespace.
 */
static void who_am_i(struct self *me)
{
	char boot[64], ns[128];
	ssize_t n;

	if (gethostname(me->host, sizeof(me->host)) != 0)
		snprintf(me->host, sizeof(me->host), "?");
	me->host[sizeof(me->host) - 1] = '\0';
	read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	snprintf(me->host_id, sizeof(me->host_id), "%s|%s|%s", me->host, boot,
		 ns);
	snprintf(me->pid, sizeof(me->pid), "%ld", (long)getpid());
}

/* --- taking it ----------------------------------------------------------- */

struct holder {
	char token[40];
	bool dead;        /* a process of this machine that is gone */
	bool stale;       /* no heartbeat for longer than its ttl */
	char who[200];    /* pid N on HOST, "app" */
	char detail[400];
};

/* 1 taken (token filled), 0 held, -1 error. */
static int try_take(struct mreg_conn *conn, const char *source,
		    const struct self *me, char *token, size_t tlen,
		    struct mreg_error *err)
{
	const char *params[4] = { source, me->host, me->host_id, me->pid };
	PGresult *res;
	int taken;

	res = mreg_db_exec(conn, take_sql, 4, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	taken = PQntuples(res) == 1;
	if (taken)
		snprintf(token, tlen, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return taken;
}

/* The row's holder; 0 found, 1 no row (released meanwhile), -1 error. */
static int find_holder(struct mreg_conn *conn, const char *source,
		       const struct self *me, struct holder *h,
		       struct mreg_error *err)
{
	const char *params[1] = { source };
	PGresult *res;
	long pid;

	memset(h, 0, sizeof(*h));
	res = mreg_db_exec(conn, holder_sql, 1, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	snprintf(h->token, sizeof(h->token), "%s", PQgetvalue(res, 0, 0));
	pid = strtol(PQgetvalue(res, 0, 3), NULL, 10);
	h->dead = strcmp(PQgetvalue(res, 0, 2), me->host_id) == 0 &&
		  pid > 0 && pid <= INT_MAX && pid != (long)getpid() &&
		  kill((pid_t)pid, 0) != 0 && errno == ESRCH;
	h->stale = PQgetvalue(res, 0, 9)[0] == 't';
	snprintf(h->who, sizeof(h->who), "pid %ld on %s, \"%s\"", pid,
		 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 4));
	snprintf(h->detail, sizeof(h->detail),
		 "Held by pid %ld (%s) on %s as %s since %s; last heartbeat "
		 "%s s ago, stale after %s s without one.", pid,
		 PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6),
		 PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8));
	PQclear(res);
	return 0;
}

/* Remove the row with token, our own; -1 error. */
static int drop_row(struct mreg_conn *conn, const char *source,
		    const char *token, struct mreg_error *err)
{
	const char *params[2] = { source, token };

	return mreg_db_command(conn, drop_sql, 2, params, err);
}

/* Remove a dead or stale holder's row (if it still is); -1 error. */
static int take_over(struct mreg_conn *conn, const char *source,
		     const struct holder *h, struct mreg_error *err)
{
	const char *params[3] = { source, h->token, h->dead ? "t" : "f" };

	return mreg_db_command(conn, takeover_sql, 3, params, err);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep s seconds, or only left when that is less (left < 0: no cap). */
static void sleep_s(double s, double left)
{
	struct timespec ts;

	if (left >= 0 && left < s)
		s = left;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static struct mreg_source_lock *new_lock(struct mreg_conn *conn,
					 const char *source, const char *token,
					 struct mreg_error *err)
{
	struct mreg_source_lock *l = calloc(1, sizeof(*l));

	if (!l || !(l->source = strdup(source))) {
		free(l);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	l->conn = conn;
	snprintf(l->token, sizeof(l->token), "%s", token);
	return l;
}

/* The refusal once the wait is over (limit_s as in lockwait.h). */
static void refuse(const char *source, const struct holder *h,
		   double limit_s, struct mreg_error *err)
{
	char limit[32];

	mreg_lock_wait_text(limit_s, limit, sizeof(limit));
	if (limit_s > 0)
		mreg_error_set(err, MREG_EXIT_LOCKED,
			       "another import of \"%s\" is running (%s): "
			       "gave up after waiting %s", source, h->who,
			       limit);
	else
		mreg_error_set(err, MREG_EXIT_LOCKED,
			       "another import of \"%s\" is running", source);
	mreg_error_detail(err, "%s", h->detail);
}

/*
 * A statement of the wait failed (rc < 0, err filled): when the
 * connection itself was lost while waiting and pool can give another,
 * *conn is replaced (true: try again), else false.
 */
static bool replaced(struct mreg_conn **conn, struct mreg_pool *pool,
		     bool waiting, struct mreg_error *err)
{
	if (!pool || !waiting || PQstatus((*conn)->pg) == CONNECTION_OK)
		return false;
	mreg_pool_release(pool, *conn);
	mreg_error_clear(err);
	*conn = mreg_pool_acquire(pool, err);
	return *conn != NULL;
}

int mreg_source_lock(struct mreg_conn **connp, struct mreg_pool *pool,
		     const char *source, const struct mreg_lock_wait *w,
		     struct mreg_source_lock **out, struct mreg_error *err)
{
	double start = mono_s(), left;
	unsigned int seed = (unsigned int)(start * 1e6);
	struct holder h = { .who = "another process" };
	char token[40];
	struct self me;
	bool said = false;
	int rc;

	*out = NULL;
	who_am_i(&me);
	for (;;) {
		struct mreg_conn *conn = *connp;

		rc = try_take(conn, source, &me, token, sizeof(token), err);
		if (rc == 1)
			return (*out = new_lock(conn, source, token, err)) ? 1
									   : -1;
		if (rc == 0)
			rc = find_holder(conn, source, &me, &h, err);
		if (rc == 1)
			continue; /* released between the two statements */
		/* kill -9 on this machine, or no heartbeat for the ttl */
		if (rc == 0 && (h.dead || h.stale))
			rc = take_over(conn, source, &h, err) < 0 ? -1 : 1;
		if (rc < 0 && !replaced(connp, pool, said, err))
			return -1;
		left = w->limit_s - (mono_s() - start);
		/*
		 * Past the limit, refuse: also when every new connection
		 * is lost again, which would else retry for ever.
		 */
		if (rc != 1 && w->limit_s >= 0 && left <= 0)
			break;
		if (rc != 0)
			continue; /* taken over, or on a new connection */
		if (!said && w->waiting)
			w->waiting(w->arg, h.who);
		said = true;
		/* 100-200 ms between tries, never past the limit */
		sleep_s(0.1 + (double)(rand_r(&seed) % 100) / 1000,
			w->limit_s >= 0 ? left : -1);
	}
	refuse(source, &h, w->limit_s, err);
	return 0;
}

int mreg_source_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_source_lock **out, struct mreg_error *err)
{
	const struct mreg_lock_wait once = { 0 };

	return mreg_source_lock(&conn, NULL, source, &once, out, err);
}

const char *mreg_source_lock_token(const struct mreg_source_lock *l)
{
	return l->token;
}

/* --- keeping it ---------------------------------------------------------- */

/* One beat: false when the row is no longer ours. */
static bool beat(struct mreg_source_lock *l)
{
	const char *params[2] = { l->source, l->token };
	struct mreg_error ignored;
	PGresult *res;
	bool ours = true;

	mreg_error_clear(&ignored);
	/* the holder's own connection may be in a batch's transaction */
	if (!l->beat_conn &&
	    !(l->beat_conn = mreg_pool_acquire(l->pool, &ignored)))
		return true;
	res = mreg_db_exec(l->beat_conn, beat_sql, 2, params, PGRES_COMMAND_OK,
			   &ignored);
	/* an error (a dropped connection) is not proof of loss: beat again */
	if (res)
		ours = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return ours;
}

static void *beater_main(void *arg)
{
	struct mreg_source_lock *l = arg;
	struct timespec until;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && !l->lost) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += MREG_SOURCE_LOCK_BEAT_S;
		while (!l->stop &&
		       pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		if (!beat(l)) {
			pthread_mutex_lock(&l->mu);
			l->lost = true;
			break;
		}
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int mreg_source_lock_keep(struct mreg_source_lock *l, struct mreg_pool *pool,
			  struct mreg_error *err)
{
	pthread_condattr_t attr;

	l->pool = pool;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&l->mu, NULL);
	if (pthread_create(&l->beater, NULL, beater_main, l) != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "cannot start the lock's heartbeat thread");
		return -1;
	}
	l->beating = true;
	return 0;
}

int mreg_source_unlock(struct mreg_source_lock *l, struct mreg_error *err)
{
	int rc;

	if (!l)
		return 0;
	if (l->beating) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->beater, NULL);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
	}
	rc = drop_row(l->beat_conn ? l->beat_conn : l->conn, l->source,
		      l->token, err) < 0 ? -1 : 0;
	if (l->beat_conn)
		mreg_pool_release(l->pool, l->beat_conn);
	free(l->source);
	free(l);
	return rc;
}
