/* pool.c - a thread-safe pool of libpq connections (see pool.h) */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect.h"
#include "db.h"

/* The names of the pool's own statements in the trace (db.h). */
#define PREPARE_SITE ((struct mreg_db_site){ "pool.c", "prepare" })
#define PROBE_SITE ((struct mreg_db_site){ "pool.c", "probe" })

struct mreg_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct mreg_pool_config cfg;
	struct mreg_connector connector; /* DSN, keywords, redaction */
	struct mreg_conn *slots;
	long long broken_before_ns; /* recycle connections opened before */
	unsigned int seed;
	struct mreg_pool_stats stats;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct mreg_pool *mreg_pool_create(const struct mreg_pool_config *cfg,
				   struct mreg_error *err)
{
	struct mreg_pool *pool = NULL;
	pthread_condattr_t attr;
	int i;

	if (!cfg || cfg->max_size < 1) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "the pool needs at least one connection");
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		goto nomem;
	pool->cfg = *cfg;
	if (pool->cfg.acquire_timeout_ms <= 0)
		pool->cfg.acquire_timeout_ms = 30000;
	if (pool->cfg.connect_timeout_s <= 0)
		pool->cfg.connect_timeout_s = MREG_CONNECT_TIMEOUT_S;
	if (pool->cfg.max_lifetime_ms <= 0)
		pool->cfg.max_lifetime_ms = 3600 * 1000;
	if (pool->cfg.idle_probe_ms <= 0)
		pool->cfg.idle_probe_ms = 5000;
	if (pool->cfg.probe_timeout_ms <= 0)
		pool->cfg.probe_timeout_ms = 2000;
	pool->slots = calloc((size_t)cfg->max_size, sizeof(*pool->slots));
	if (mreg_connector_init(&pool->connector, cfg->dsn,
				cfg->application_name,
				pool->cfg.connect_timeout_s, err) < 0 ||
	    !pool->slots) {
		mreg_connector_finish(&pool->connector);
		free(pool->slots);
		free(pool);
		goto nomem;
	}
	pool->cfg.dsn = pool->connector.dsn;
	pool->cfg.application_name = pool->connector.appname;
	for (i = 0; i < cfg->max_size; i++) {
		pool->slots[i].slot = i;
		pool->slots[i].pool = pool;
	}
	pool->seed = (unsigned int)now_ns();
	pool->stats.max_size = cfg->max_size;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->freed, &attr);
	pthread_condattr_destroy(&attr);
	return pool;

nomem:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return NULL;
}

void mreg_pool_destroy(struct mreg_pool *pool)
{
	int i;

	if (!pool)
		return;
	for (i = 0; i < pool->cfg.max_size; i++)
		PQfinish(pool->slots[i].pg);
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	mreg_connector_finish(&pool->connector);
	free(pool->slots);
	free(pool);
}

const char *mreg_pool_timeout_text(const struct mreg_pool *pool)
{
	return pool ? pool->connector.timeout_text : "";
}

const char *mreg_pool_dsn_redacted(const struct mreg_pool *pool)
{
	return pool ? pool->connector.redacted : "";
}

/* NOTICEs (IF NOT EXISTS, cascades) are not for the user's terminal. */
static void ignore_notice(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

/* Connect slot c (reserved by the caller, lock not held). */
static int open_conn(struct mreg_pool *pool, struct mreg_conn *c,
		     struct mreg_error *err)
{
	PGconn *pg;
	int i;

	pg = mreg_db_connect(&pool->connector, err);
	if (!pg)
		return -1;
	PQsetNoticeReceiver(pg, ignore_notice, NULL);
	mreg_db_trace_connected(pg);
	for (i = 0; i < pool->cfg.nprepare; i++) {
		const struct mreg_prepared *p = &pool->cfg.prepare[i];
		double t0 = mreg_db_clock_ms();
		PGresult *res = PQprepare(pg, p->name, p->sql, p->nparams,
					  NULL);

		mreg_db_trace_result(PREPARE_SITE, NULL, p->name, t0, res,
				     PQresultStatus(res) == PGRES_COMMAND_OK);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			mreg_error_from_result(err, res, pg);
			mreg_error_prefix(err, "could not prepare \"%s\"",
					  p->name);
			PQclear(res);
			PQfinish(pg);
			return -1;
		}
		PQclear(res);
	}
	c->pg = pg;
	c->created_ns = now_ns();
	c->last_used_ns = c->created_ns;
	c->saw_disconnect = false;
	return 0;
}

/*
 * Wait until fd is readable or the deadline passes: 1 readable,
 * 0 timed out, -1 error.
 */
static int wait_readable(int fd, long long deadline_ns)
{
	for (;;) {
		long long left = deadline_ns - now_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0;
	}
}

/*
 * Is this idle connection still good?  Cheap checks always; an empty
 * query with a deadline when it sat idle for long.  Lock not held.
 */
static bool conn_usable(struct mreg_pool *pool, struct mreg_conn *c,
			bool *probed)
{
	struct pollfd p;
	PGresult *res;
	PGnotify *note;
	long long deadline;
	double t0;
	bool good = true;

	*probed = false;
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		return false;
	/*
	 * Nothing should arrive on an idle connection.  If something did,
	 * it is usually a FATAL from pg_terminate_backend() or a shutdown,
	 * followed by EOF: let libpq read it and look again.
	 */
	p.fd = PQsocket(c->pg);
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd < 0)
		return false;
	for (int round = 0; round < 4 && poll(&p, 1, 0) > 0; round++) {
		bool notified = false;

		/*
		 * The first read usually returns the FATAL message (parsed by
		 * PQisBusy and passed to the notice receiver, since no query
		 * is running); the next one meets EOF and marks the
		 * connection bad.  The server may not have closed the socket
		 * yet (it ends the session after sending the FATAL): anything
		 * but a notification on an idle connection means it is going
		 * away, EOF or not.
		 */
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
			return false;
		(void)PQisBusy(c->pg);
		while ((note = PQnotifies(c->pg)) != NULL) {
			PQfreemem(note);
			notified = true;
		}
		if (!notified)
			return false;
		p.revents = 0;
	}
	if (now_ns() - c->last_used_ns <
	    (long long)pool->cfg.idle_probe_ms * 1000000LL)
		return true;

	*probed = true;
	t0 = mreg_db_clock_ms();
	if (!PQsendQuery(c->pg, "")) {
		mreg_db_trace_rows(PROBE_SITE, NULL, NULL, t0, -1, "08006");
		return false;
	}
	deadline = now_ns() + (long long)pool->cfg.probe_timeout_ms * 1000000LL;
	while (PQisBusy(c->pg)) {
		if (wait_readable(PQsocket(c->pg), deadline) <= 0 ||
		    !PQconsumeInput(c->pg)) {
			mreg_db_trace_rows(PROBE_SITE, NULL, NULL, t0, -1,
					   "57014");
			return false;
		}
	}
	while ((res = PQgetResult(c->pg)) != NULL) {
		if (PQresultStatus(res) != PGRES_EMPTY_QUERY)
			good = false;
		PQclear(res);
	}
	mreg_db_trace_rows(PROBE_SITE, NULL, NULL, t0, 0,
			   good ? NULL : "08006");
	return good && PQstatus(c->pg) == CONNECTION_OK &&
	       PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* Lock held.  Should this open connection be closed rather than used? */
static bool conn_expired(struct mreg_pool *pool, struct mreg_conn *c,
			 long long now)
{
	return c->saw_disconnect || now >= c->expires_ns ||
	       c->created_ns <= pool->broken_before_ns;
}

static void set_expiry(struct mreg_pool *pool, struct mreg_conn *c)
{
	/* lifetime minus up to 10%, so connections do not expire together */
	long long life = (long long)pool->cfg.max_lifetime_ms * 1000000LL;
	long long jitter = life / 10;

	if (jitter > 0)
		life -= (long long)(rand_r(&pool->seed) % 1000) * jitter / 1000;
	c->expires_ns = c->created_ns + life;
}

struct mreg_conn *mreg_pool_acquire(struct mreg_pool *pool,
				    struct mreg_error *err)
{
	bool timed_out;

	return mreg_pool_acquire_timed(pool, &timed_out, err);
}

struct mreg_conn *mreg_pool_acquire_timed(struct mreg_pool *pool,
					  bool *timed_out,
					  struct mreg_error *err)
{
	long long start = now_ns(), deadline;
	struct timespec ts;
	bool waited = false;

	*timed_out = false;
	deadline = start + (long long)pool->cfg.acquire_timeout_ms * 1000000LL;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct mreg_conn *idle = NULL, *empty = NULL;
		long long now = now_ns();
		int i;

		/* most recently used idle connection first: keeps few warm */
		for (i = 0; i < pool->cfg.max_size; i++) {
			struct mreg_conn *c = &pool->slots[i];

			if (c->in_use)
				continue;
			if (c->pg && (!idle || c->last_used_ns > idle->last_used_ns))
				idle = c;
			else if (!c->pg && !empty)
				empty = c;
		}
		if (idle) {
			PGconn *old = NULL;
			bool probed, usable, expired;

			idle->in_use = true;
			expired = conn_expired(pool, idle, now);
			pthread_mutex_unlock(&pool->lock);
			usable = !expired && conn_usable(pool, idle, &probed);
			pthread_mutex_lock(&pool->lock);
			if (!expired && probed)
				pool->stats.probes++;
			if (usable) {
				idle->last_used_ns = now_ns();
				goto got_one;
			}
			if (!expired)
				pool->stats.broken++;
			old = idle->pg;
			idle->pg = NULL;
			idle->in_use = false;
			pool->stats.closed++;
			pthread_mutex_unlock(&pool->lock);
			PQfinish(old);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		if (empty) {
			int rc;

			empty->in_use = true;
			pthread_mutex_unlock(&pool->lock);
			rc = open_conn(pool, empty, err);
			pthread_mutex_lock(&pool->lock);
			if (rc < 0) {
				empty->in_use = false;
				pool->stats.connect_failures++;
				pthread_cond_signal(&pool->freed);
				pthread_mutex_unlock(&pool->lock);
				return NULL;
			}
			pool->stats.created++;
			set_expiry(pool, empty);
			idle = empty;
			goto got_one;
		}
		/* everything is busy: wait for a release */
		if (!waited) {
			waited = true;
			pool->stats.waits++;
		}
		if (now >= deadline) {
			pool->stats.timeouts++;
			pthread_mutex_unlock(&pool->lock);
			*timed_out = true;
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "timed out after %.1f s waiting for a "
				       "database connection: all %d "
				       "connections of the pool are busy",
				       (double)(now - start) / 1e9,
				       pool->cfg.max_size);
			mreg_error_hint(err, "Use a larger pool or fewer "
					     "concurrent clients.");
			return NULL;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000LL);
		ts.tv_nsec = (long)(deadline % 1000000000LL);
		pthread_cond_timedwait(&pool->freed, &pool->lock, &ts);
		continue;

got_one:
		pool->stats.acquires++;
		if (waited) {
			double ms = (double)(now_ns() - start) / 1e6;

			pool->stats.wait_total_ms += ms;
			if (ms > pool->stats.wait_max_ms)
				pool->stats.wait_max_ms = ms;
		}
		pthread_mutex_unlock(&pool->lock);
		return idle;
	}
}

void mreg_pool_release(struct mreg_pool *pool, struct mreg_conn *c)
{
	PGconn *old = NULL;
	bool fit;

	if (!pool || !c)
		return;
	fit = c->pg && PQstatus(c->pg) == CONNECTION_OK &&
	      PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	pthread_mutex_lock(&pool->lock);
	c->last_used_ns = now_ns();
	if (!fit || conn_expired(pool, c, c->last_used_ns)) {
		if (!fit || c->saw_disconnect)
			pool->stats.broken++;
		pool->stats.closed++;
		old = c->pg;
		c->pg = NULL;
	}
	c->in_use = false;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
	PQfinish(old);
}

void mreg_conn_note_sqlstate(struct mreg_conn *c, const char *sqlstate)
{
	struct mreg_pool *pool;

	if (!c || !mreg_sqlstate_is_disconnect(sqlstate))
		return;
	pool = c->pool;
	if (!pool) { /* a connection of its own (mreg watch): no pool */
		c->saw_disconnect = true;
		return;
	}
	pthread_mutex_lock(&pool->lock);
	c->saw_disconnect = true;
	pool->broken_before_ns = now_ns();
	pthread_mutex_unlock(&pool->lock);
}

void mreg_pool_get_stats(struct mreg_pool *pool, struct mreg_pool_stats *out)
{
	int i;

	pthread_mutex_lock(&pool->lock);
	*out = pool->stats;
	out->open = 0;
	out->in_use = 0;
	for (i = 0; i < pool->cfg.max_size; i++) {
		if (pool->slots[i].pg)
			out->open++;
		if (pool->slots[i].in_use)
			out->in_use++;
	}
	pthread_mutex_unlock(&pool->lock);
}
