/* bench-loop.c - one request of 'mreg bench' and the worker threads that
 * drive their clients over one poll() (see bench.h) */
#include "bench-impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* --- one request ----------------------------------------------------------- */

static PGconn *client_pg(struct bench_client *c)
{
	return c->own ? c->own : c->conn ? c->conn->pg : NULL;
}

static int pick_workload(struct bench_worker *w)
{
	const struct mreg_bench *b = w->b;
	uint64_t r = rng_below(&w->rng, b->weight_total);

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		if (r < b->cfg.weights[i])
			return i;
		r -= b->cfg.weights[i];
	}
	return 0;
}

/* (bench-impl.h) */
void mreg_bench_record(struct bench_worker *w, int client, int workload,
		       bool failed, int kind, const char *message,
		       long long intended, long long sent, long long end)
{
	struct mreg_bench *b = w->b;

	if (failed) {
		if (w->errors_by_kind[kind]++ == 0)
			snprintf(w->first_error[kind],
				 sizeof(w->first_error[kind]), "%.250s",
				 message);
		w->errors_by_workload[workload]++;
	} else {
		mreg_histogram_record(w->hist[workload],
				      (uint64_t)(end - intended));
		if (b->cfg.rate > 0)
			mreg_histogram_record(w->lag,
					      (uint64_t)(sent - intended));
		w->transactions++;
	}
	pthread_mutex_lock(&w->lock);
	if (failed) {
		w->interval_err++;
	} else {
		w->interval_tx++;
		mreg_histogram_record(w->interval, (uint64_t)(end - intended));
	}
	pthread_mutex_unlock(&w->lock);
	if (b->have_log)
		mreg_bench_log_line(&b->log, &w->logbuf,
				    intended + b->real_offset_ns, client,
				    mreg_bench_workload_name(workload),
				    end - intended,
				    failed ? mreg_bench_error_kind_name(kind)
					   : "ok",
				    sent - intended);
}

/* The pool a request of this workload takes its connection from. */
static struct mreg_pool *pool_of(const struct mreg_bench *b, int workload)
{
	if (b->cfg.read_pool && !mreg_bench_workload_writes(workload))
		return b->cfg.read_pool;
	return b->cfg.pool;
}

static void end_request(struct bench_client *c)
{
	struct bench_worker *w = c->w;
	struct mreg_bench *b = w->b;
	long long end = now_ns();
	PGconn *pg = client_pg(c);

	if (c->conn) {
		if (c->failed) {
			if (c->err.sqlstate[0])
				mreg_conn_note_sqlstate(c->conn, c->err.sqlstate);
			else if (PQstatus(pg) != CONNECTION_OK)
				mreg_conn_note_sqlstate(c->conn, "08006");
			if (PQstatus(pg) == CONNECTION_OK &&
			    PQtransactionStatus(pg) != PQTRANS_IDLE)
				mreg_db_rollback(c->conn);
		}
		mreg_pool_release(pool_of(b, c->workload), c->conn);
		c->conn = NULL;
	}
	if (c->own) {
		PQfinish(c->own);
		c->own = NULL;
	}
	c->busy = false;

	if (c->failed && !b->cfg.rate &&
	    (c->kind == MREG_BENCH_ERR_CONNECT ||
	     c->kind == MREG_BENCH_ERR_DISCONNECT))
		c->next_ns = end + BACKOFF_NS; /* do not spin on a dead server */

	if (c->recording)
		mreg_bench_record(w, c->index, c->workload, c->failed, c->kind,
				  c->err.message, c->intended_ns, c->sent_ns,
				  end);
}

/* Send the current step; on failure the request ends. */
static void send_step(struct bench_client *c)
{
	const struct mreg_bench *b = c->w->b;
	const struct bench_workload *wl = &mreg_bench_workload_table[c->workload];
	const struct bench_step *st = &wl->steps[c->step];
	const char *values[MAX_PARAMS] = { NULL };
	PGconn *pg = client_pg(c);
	int sent;

	wl->params(c, c->step, values);
	c->got_result = false;
	if (st->stmt && b->cfg.prepared && !c->own)
		sent = PQsendQueryPrepared(pg, st->stmt, st->nparams, values,
					   NULL, NULL, 0);
	else
		sent = PQsendQueryParams(pg, st->sql, st->nparams, NULL, values,
					 NULL, NULL, 0);
	if (!sent) {
		mreg_error_from_conn(&c->err, pg);
		bench_fail(c, MREG_BENCH_ERR_DISCONNECT);
		end_request(c);
		return;
	}
	c->busy = true;
}

static void start_request(struct bench_client *c, long long intended,
			   bool recording)
{
	struct bench_worker *w = c->w;
	struct mreg_bench *b = w->b;
	bool timed_out = false;

	c->workload = pick_workload(w);
	c->step = 0;
	c->failed = false;
	c->recording = recording;
	c->intended_ns = intended;
	mreg_error_clear(&c->err);

	if (b->cfg.connect_per_request) {
		c->own = mreg_db_connect(&b->connector, &c->err);
		if (c->own)
			w->connections_opened++;
	} else {
		c->conn = mreg_pool_acquire_timed(pool_of(b, c->workload),
						  &timed_out, &c->err);
	}
	c->sent_ns = now_ns();
	if (!client_pg(c)) {
		bench_fail(c, timed_out ? MREG_BENCH_ERR_POOL_TIMEOUT
					: MREG_BENCH_ERR_CONNECT);
		end_request(c);
		return;
	}
	send_step(c);
}

/* Check one result against what the step expects. */
static void take_result(struct bench_client *c, PGresult *res)
{
	const struct bench_step *st = &mreg_bench_workload_table[c->workload].steps[c->step];
	PGconn *pg = client_pg(c);
	int rows;

	if (c->failed || c->got_result) {
		if (!c->failed) {
			mreg_error_set(&c->err, MREG_EXIT_FAILURE,
				       "more than one result from one statement");
			bench_fail(c, MREG_BENCH_ERR_RESULT);
		}
		return;
	}
	c->got_result = true;
	if (PQresultStatus(res) != st->expect) {
		mreg_error_from_result(&c->err, res, pg);
		bench_fail(c, PQstatus(pg) == CONNECTION_OK
				? mreg_bench_classify(&c->err)
				: MREG_BENCH_ERR_DISCONNECT);
		return;
	}
	if (st->expect != PGRES_TUPLES_OK)
		return;
	rows = PQntuples(res);
	if (rows < st->min_rows || (st->max_rows >= 0 && rows > st->max_rows)) {
		mreg_error_set(&c->err, MREG_EXIT_FAILURE,
			       "%s returned %d rows", mreg_bench_workload_table[c->workload].name,
			       rows);
		bench_fail(c, MREG_BENCH_ERR_RESULT);
	}
}

/* The socket is readable: read what arrived, go on when a step is done. */
static void on_readable(struct bench_client *c)
{
	PGconn *pg = client_pg(c);
	PGresult *res;

	if (!PQconsumeInput(pg)) {
		mreg_error_from_conn(&c->err, pg);
		bench_fail(c, MREG_BENCH_ERR_DISCONNECT);
		end_request(c);
		return;
	}
	while (!PQisBusy(pg)) {
		res = PQgetResult(pg);
		if (res) {
			take_result(c, res);
			PQclear(res);
			continue;
		}
		/* the step's statement is complete */
		if (!c->got_result && !c->failed) {
			mreg_error_from_conn(&c->err, pg);
			bench_fail(c, MREG_BENCH_ERR_DISCONNECT);
		}
		if (c->failed || ++c->step == mreg_bench_workload_table[c->workload].nsteps) {
			end_request(c);
			return;
		}
		send_step(c);
		return;
	}
}

/* --- worker threads -------------------------------------------------------- */

/* Would an acquire have to wait (in either pool: the next request's
 * workload is not drawn yet)? */
static bool pool_full(struct mreg_bench *b)
{
	struct mreg_pool_stats st;

	if (!b->pool_can_fill)
		return false;
	mreg_pool_get_stats(b->cfg.pool, &st);
	if (st.in_use >= st.max_size)
		return true;
	if (!b->cfg.read_pool)
		return false;
	mreg_pool_get_stats(b->cfg.read_pool, &st);
	return st.in_use >= st.max_size;
}

/* Start the requests that are due; returns the next time to look again. */
static long long start_due(struct bench_worker *w, long long now,
			   bool stopping)
{
	struct mreg_bench *b = w->b;
	long long wake = now + TICK_NS;
	int inflight = 0;

	for (int i = 0; i < w->nclients; i++)
		inflight += w->clients[i].busy;
	for (int i = 0; i < w->nclients; i++) {
		struct bench_client *c = &w->clients[i];
		long long intended;
		bool recording;

		if (c->busy || c->done)
			continue;
		if (stopping) {
			c->done = true;
			continue;
		}
		if (c->next_ns > now) {
			if (c->next_ns < wake)
				wake = c->next_ns;
			continue;
		}
		if (inflight > 0 && pool_full(b)) {
			/*
			 * Waiting in the pool now could wait for a connection
			 * this very thread holds: try again once a reply came.
			 */
			if (!c->waiting_since)
				c->waiting_since = now;
			continue;
		}
		if (b->cfg.rate > 0) {
			intended = c->next_ns;
			c->next_ns += b->interval_ns;
		} else {
			intended = c->waiting_since ? c->waiting_since : now;
		}
		c->waiting_since = 0;
		if (intended >= b->end_ns) {
			c->done = true;
			continue;
		}
		recording = intended >= b->measure_ns;
		if (recording && b->cfg.transactions > 0 &&
		    atomic_fetch_sub(&b->tickets, 1) <= 0) {
			c->done = true;
			continue;
		}
		start_request(c, intended, recording);
		if (c->busy)
			inflight++;
		if (!c->busy && c->next_ns > now && c->next_ns < wake)
			wake = c->next_ns;
		if (!c->busy && b->cfg.rate <= 0 && c->next_ns <= now)
			wake = now; /* failed at once: look again soon */
	}
	return wake;
}

void *mreg_bench_worker_main(void *arg)
{
	struct bench_worker *w = arg;
	struct mreg_bench *b = w->b;

	for (;;) {
		long long now = now_ns();
		bool stopping = atomic_load(&b->stop) || now >= b->end_ns;
		long long wake = start_due(w, now, stopping);
		int nfds = 0, ready, all_done = 1;
		long long wait;

		for (int i = 0; i < w->nclients; i++) {
			struct bench_client *c = &w->clients[i];

			if (!c->done || c->busy)
				all_done = 0;
			if (!c->busy)
				continue;
			w->pfd[nfds].fd = PQsocket(client_pg(c));
			w->pfd[nfds].events = POLLIN;
			w->pfd[nfds].revents = 0;
			w->pclient[nfds++] = c;
		}
		if (all_done)
			break;
		now = now_ns();
		wait = wake - now;
		if (wait < 0)
			wait = 0;
		if (nfds == 0) {
			sleep_ns(wait);
			continue;
		}
		/*
		 * Round the wait up: a reply wakes poll() at once, while a
		 * scheduled start may be up to a millisecond late (that is
		 * schedule lag, and counted in the latency).
		 */
		ready = poll(w->pfd, (nfds_t)nfds,
			     (int)((wait + NS_PER_MS - 1) / NS_PER_MS));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			/* cannot happen with valid descriptors; end the run */
			atomic_store(&b->stop, true);
			continue;
		}
		for (int i = 0; i < nfds && ready > 0; i++) {
			if (!w->pfd[i].revents)
				continue;
			ready--;
			on_readable(w->pclient[i]);
		}
	}
	w->finished_ns = now_ns();
	atomic_fetch_sub(&b->running, 1);
	return NULL;
}
