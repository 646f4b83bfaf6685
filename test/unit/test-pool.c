/* test-pool.c - the connection pool against the sandbox database
 *
 * Needs the PG* environment of test/pg-sandbox; without a database every
 * test fails (Bail out), it never skips.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "pool.h"
#include "tap.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int backend_pid(struct mreg_conn *c)
{
	return PQbackendPID(c->pg);
}

/* Terminate a backend from an independent connection. */
static int terminate(int pid)
{
	PGconn *admin = PQconnectdb("");
	char p[16];
	const char *v[1] = { p };
	PGresult *res;
	int ok_;

	snprintf(p, sizeof(p), "%d", pid);
	if (PQstatus(admin) != CONNECTION_OK) {
		PQfinish(admin);
		return 0;
	}
	res = PQexecParams(admin, "SELECT pg_terminate_backend($1::int)", 1,
			   NULL, v, NULL, NULL, 0);
	ok_ = PQresultStatus(res) == PGRES_TUPLES_OK &&
	      strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	PQfinish(admin);
	return ok_;
}

/*
 * Wait until the backend pid has left pg_stat_activity: it sends its FATAL
 * to the client before it exits, so the message is then in our socket.
 * An event, not a time; bails out after 60 s (a hang, not slowness).
 */
static void wait_backend_gone(int pid)
{
	PGconn *admin = PQconnectdb("");
	char p[16];
	const char *v[1] = { p };
	int i;

	snprintf(p, sizeof(p), "%d", pid);
	for (i = 0; i < 6000; i++) {
		PGresult *res = PQexecParams(
			admin,
			"SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
			1, NULL, v, NULL, NULL, 0);
		int gone = PQresultStatus(res) == PGRES_TUPLES_OK &&
			   strcmp(PQgetvalue(res, 0, 0), "0") == 0;

		PQclear(res);
		if (gone) {
			PQfinish(admin);
			return;
		}
		sleep_ms(10); /* polling */
	}
	PQfinish(admin);
	bail_out("a terminated backend did not exit within 60 s");
}

static struct mreg_pool *make_pool(int size, int timeout_ms)
{
	struct mreg_pool_config cfg = { .max_size = size,
					.application_name = "mreg test-pool",
					.acquire_timeout_ms = timeout_ms };
	struct mreg_error err;
	struct mreg_pool *p = mreg_pool_create(&cfg, &err);

	if (!p)
		bail_out(err.message);
	return p;
}

struct worker {
	struct mreg_pool *pool;
	pthread_barrier_t *start;
	int rounds;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < w->rounds; i++) {
		struct mreg_error err;
		struct mreg_conn *c = mreg_pool_acquire(w->pool, &err);
		PGresult *res;

		if (!c) {
			w->failures++;
			continue;
		}
		/* hold the connection a moment: more threads than slots */
		res = mreg_db_exec(c, "SELECT pg_sleep(0.002), $1::int", 1,
				   (const char *const[]){ "7" },
				   PGRES_TUPLES_OK, &err);
		if (!res || strcmp(PQgetvalue(res, 0, 1), "7") != 0)
			w->failures++;
		PQclear(res);
		mreg_pool_release(w->pool, c);
	}
	return NULL;
}

static void test_many_threads(void)
{
	enum { THREADS = 16, ROUNDS = 40, SIZE = 4 };
	struct mreg_pool *pool = make_pool(SIZE, 20000);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	pthread_barrier_t start;
	struct mreg_pool_stats s;
	int i, failures = 0;

	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ pool, &start, ROUNDS, 0 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	pthread_barrier_destroy(&start);
	mreg_pool_get_stats(pool, &s);
	is_int(failures, 0, "16 threads x 40 rounds over 4 connections: no failures");
	is_int(s.acquires, THREADS * ROUNDS, "every acquire counted");
	ok(s.created >= 1 && s.created <= SIZE, "at most %d connections opened (%lu)",
	   SIZE, s.created);
	is_int(s.in_use, 0, "nothing in use at the end");
	ok(s.waits > 0, "threads had to wait for a connection (%lu waits)", s.waits);
	ok(s.wait_max_ms >= 0 && s.wait_total_ms >= s.wait_max_ms,
	   "wait times add up (total %.1f ms, max %.1f ms)", s.wait_total_ms,
	   s.wait_max_ms);
	mreg_pool_destroy(pool);
}

static struct mreg_pool *waiter_pool;

static void *acquire_and_release(void *arg)
{
	struct mreg_error err;
	struct mreg_conn *c = mreg_pool_acquire(waiter_pool, &err);

	(void)arg;
	if (c)
		mreg_pool_release(waiter_pool, c);
	return c ? (void *)1 : NULL;
}

/* A wait that ends with a connection: counted, with its time. */
static void test_wait(void)
{
	struct mreg_error err;
	struct mreg_conn *a;
	struct mreg_pool_stats s;
	pthread_t t;
	void *got = NULL;
	int i;

	waiter_pool = make_pool(1, 60000);
	a = mreg_pool_acquire(waiter_pool, &err);
	ok(a != NULL, "the only connection taken");
	pthread_create(&t, NULL, acquire_and_release, NULL);
	/* an event: the other thread is waiting in the pool */
	for (i = 0;; i++) {
		mreg_pool_get_stats(waiter_pool, &s);
		if (s.waits == 1)
			break;
		if (i == 6000)
			bail_out("the second acquire did not wait within 60 s");
		sleep_ms(10); /* polling */
	}
	mreg_pool_release(waiter_pool, a);
	pthread_join(t, &got);
	ok(got != NULL, "the waiting acquire got the connection once released");
	mreg_pool_get_stats(waiter_pool, &s);
	is_int(s.waits, 1, "one wait counted");
	is_int(s.timeouts, 0, "no timeout");
	ok(s.wait_total_ms > 0 && s.wait_max_ms > 0,
	   "its time counted (%.3f ms)", s.wait_total_ms);
	mreg_pool_destroy(waiter_pool);
	waiter_pool = NULL;
}

static void test_timeout(void)
{
	struct mreg_pool *pool = make_pool(1, 200);
	struct mreg_error err;
	struct mreg_conn *a, *b;
	struct mreg_pool_stats s;
	bool timed_out = false;

	a = mreg_pool_acquire(pool, &err);
	ok(a != NULL, "first acquire of a pool of one");
	b = mreg_pool_acquire_timed(pool, &timed_out, &err);
	ok(b == NULL, "second acquire times out");
	ok(timed_out, "and says it timed out");
	ok(strstr(err.message, "timed out after") &&
	   strstr(err.message, "all 1 connections of the pool are busy"),
	   "timeout message says how long and why: %s", err.message);
	mreg_pool_get_stats(pool, &s);
	is_int(s.timeouts, 1, "timeout counted");
	mreg_pool_release(pool, a);
	b = mreg_pool_acquire(pool, &err);
	ok(b != NULL, "acquire works again after release");
	mreg_pool_release(pool, b);
	mreg_pool_destroy(pool);
}

static void test_killed_idle(void)
{
	struct mreg_pool *pool = make_pool(2, 5000);
	struct mreg_error err;
	struct mreg_conn *c;
	struct mreg_pool_stats s;
	PGresult *res;
	int pid;

	c = mreg_pool_acquire(pool, &err);
	pid = backend_pid(c);
	mreg_pool_release(pool, c);
	ok(terminate(pid), "terminated backend %d server-side", pid);
	wait_backend_gone(pid);
	c = mreg_pool_acquire(pool, &err);
	ok(c != NULL, "acquire after the kill succeeds");
	if (!c)
		return;
	ok(backend_pid(c) != pid, "a new backend replaced the killed one");
	res = mreg_db_exec(c, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, &err);
	ok(res != NULL, "the replacement works");
	PQclear(res);
	mreg_pool_release(pool, c);
	mreg_pool_get_stats(pool, &s);
	ok(s.broken >= 1, "broken connection counted (%lu)", s.broken);
	mreg_pool_destroy(pool);
}

static void test_killed_in_use(void)
{
	struct mreg_pool *pool = make_pool(2, 5000);
	struct mreg_error err;
	struct mreg_conn *c, *other;
	PGresult *res;
	int pid, other_pid;

	/* two connections; kill the one in use mid-session */
	c = mreg_pool_acquire(pool, &err);
	other = mreg_pool_acquire(pool, &err);
	pid = backend_pid(c);
	other_pid = backend_pid(other);
	mreg_pool_release(pool, other);
	terminate(pid);
	wait_backend_gone(pid);
	res = mreg_db_exec(c, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, &err);
	ok(res == NULL, "a statement on the killed connection fails");
	ok(mreg_sqlstate_is_disconnect(err.sqlstate),
	   "with a disconnect SQLSTATE (%s)", err.sqlstate);
	mreg_pool_release(pool, c);
	c = mreg_pool_acquire(pool, &err);
	ok(c && backend_pid(c) != pid && backend_pid(c) != other_pid,
	   "after a disconnect error, older connections are recycled too");
	mreg_pool_release(pool, c);
	mreg_pool_destroy(pool);
}

static void test_open_transaction_discarded(void)
{
	struct mreg_pool *pool = make_pool(1, 5000);
	struct mreg_error err;
	struct mreg_conn *c;
	int pid;

	c = mreg_pool_acquire(pool, &err);
	pid = backend_pid(c);
	mreg_db_begin(c, &err);
	mreg_pool_release(pool, c);
	c = mreg_pool_acquire(pool, &err);
	ok(c && backend_pid(c) != pid,
	   "a connection released inside a transaction is not handed out again");
	ok(c && PQtransactionStatus(c->pg) == PQTRANS_IDLE, "the new one is idle");
	mreg_pool_release(pool, c);
	mreg_pool_destroy(pool);
}

static void test_lifetime_and_probe(void)
{
	/* reuse and probing: a lifetime no test run comes near */
	struct mreg_pool_config cfg = { .max_size = 1,
					.max_lifetime_ms = 3600 * 1000,
					.idle_probe_ms = 1 };
	struct mreg_error err;
	struct mreg_pool *pool = mreg_pool_create(&cfg, &err);
	struct mreg_pool_stats s;
	struct mreg_conn *c;
	struct timespec t0, t;
	int pid;

	c = mreg_pool_acquire(pool, &err);
	pid = backend_pid(c);
	mreg_pool_release(pool, c);
	sleep_ms(5); /* a lower bound: idle for at least idle_probe_ms */
	c = mreg_pool_acquire(pool, &err);
	ok(c && backend_pid(c) == pid, "an idle connection within its lifetime is reused");
	mreg_pool_release(pool, c);
	mreg_pool_get_stats(pool, &s);
	ok(s.probes >= 1, "a connection idle past idle_probe_ms was probed");
	mreg_pool_destroy(pool);

	/* expiry: a 100 ms lifetime (90-100 ms with jitter) */
	cfg.max_lifetime_ms = 100;
	pool = mreg_pool_create(&cfg, &err);
	c = mreg_pool_acquire(pool, &err);
	clock_gettime(CLOCK_MONOTONIC, &t0); /* the connection is older */
	pid = backend_pid(c);
	mreg_pool_release(pool, c);
	do { /* until the connection is surely past its lifetime */
		sleep_ms(10);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
			 (t.tv_nsec - t0.tv_nsec) / 1000000 <= 110);
	c = mreg_pool_acquire(pool, &err);
	ok(c && backend_pid(c) != pid, "a connection past its lifetime is replaced");
	mreg_pool_release(pool, c);
	mreg_pool_destroy(pool);
}

static void test_connect_failure(void)
{
	struct mreg_pool_config cfg = {
		.max_size = 1,
		.dsn = "host=/nonexistent/socket/dir user=u password=topsecret99",
	};
	struct mreg_error err;
	struct mreg_pool *pool = mreg_pool_create(&cfg, &err);
	bool timed_out = true;
	struct mreg_conn *c = mreg_pool_acquire_timed(pool, &timed_out, &err);
	struct mreg_pool_stats s;

	ok(c == NULL, "connecting to a missing server fails");
	ok(!timed_out, "a connect failure is not a pool timeout");
	ok(strstr(err.message, "could not connect to") != NULL,
	   "message says so: %s", err.message);
	ok(strstr(err.message, "topsecret99") == NULL &&
	   strstr(err.detail, "topsecret99") == NULL,
	   "and does not print the password");
	ok(strstr(err.message, "password=***") != NULL, "the DSN is shown redacted");
	mreg_pool_get_stats(pool, &s);
	is_int(s.connect_failures, 1, "connect failure counted");
	is_int(s.in_use, 0, "the slot was given back");
	mreg_pool_destroy(pool);
}

static void test_prepared(void)
{
	static const struct mreg_prepared prep[] = {
		{ "add_one", "SELECT $1::int + 1", 1 },
	};
	struct mreg_pool_config cfg = { .max_size = 1, .prepare = prep,
					.nprepare = 1 };
	struct mreg_error err;
	struct mreg_pool *pool = mreg_pool_create(&cfg, &err);
	struct mreg_conn *c = mreg_pool_acquire(pool, &err);
	PGresult *res;

	res = c ? mreg_db_exec_prepared(c, "add_one", 1,
					(const char *const[]){ "41" },
					PGRES_TUPLES_OK, &err)
		: NULL;
	is_str(res ? PQgetvalue(res, 0, 0) : NULL, "42",
	       "statements prepared on connect can be executed");
	PQclear(res);
	res = c ? mreg_db_exec(c, "SELECT nope", 0, NULL, PGRES_TUPLES_OK, NULL)
		: NULL;
	ok(res == NULL, "a failing statement with no error record wanted");
	mreg_pool_release(pool, c);
	mreg_pool_destroy(pool);
}

int main(void)
{
	PGconn *probe = PQconnectdb("");

	if (PQstatus(probe) != CONNECTION_OK) {
		PQfinish(probe);
		bail_out("no database: run under test/pg-sandbox");
	}
	PQfinish(probe);
	test_many_threads();
	test_timeout();
	test_wait();
	test_killed_idle();
	test_killed_in_use();
	test_open_transaction_discarded();
	test_lifetime_and_probe();
	test_connect_failure();
	test_prepared();
	return tap_done();
}
