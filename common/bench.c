/* bench.c - the load generator behind 'mreg bench' (see bench.h) */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchtree.h"
#include "db.h"
#include "dsn.h"
#include "import.h"
#include "queries.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define MAX_PARAMS 7
#define PARAM_LEN 256
#define BACKOFF_NS (10 * NS_PER_MS) /* after a failed connect (closed loop) */
#define TICK_NS (100 * NS_PER_MS)   /* longest sleep between stop checks */

/* --- workloads ------------------------------------------------------------ */

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

static void params_get_default(struct bench_client *c, int step,
			       const char **values);
static void params_list(struct bench_client *c, int step, const char **values);
static void params_show(struct bench_client *c, int step, const char **values);
static void params_search(struct bench_client *c, int step,
			  const char **values);
static void params_set_default(struct bench_client *c, int step,
			       const char **values);

/* What the commands ask for by default. */
#define LIST_PAGE "51"    /* mreg list: 50 rows and one to see a next page */
#define SHOW_AUDIT "10"   /* mreg show: --audit 10 */
#define SEARCH_LIMIT "20" /* mreg search: --limit 20 */

static const struct bench_step get_default_steps[] = {
	{ "mreg_get_default", MREG_SQL_GET_DEFAULT, 1, PGRES_TUPLES_OK, 1, 1 },
};

/* mreg list --type T --count: the total and the page from one snapshot */
static const struct bench_step list_steps[] = {
	{ NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0,
	  PGRES_COMMAND_OK, 0, 0 },
	{ "mreg_count_models", MREG_SQL_COUNT_MODELS, 4, PGRES_TUPLES_OK, 1, 1 },
	{ "mreg_list_models", MREG_SQL_LIST_MODELS_BY_NAME, 7, PGRES_TUPLES_OK,
	  0, 51 },
	{ NULL, "COMMIT", 0, PGRES_COMMAND_OK, 0, 0 },
};

static const struct bench_step show_steps[] = {
	{ "mreg_show", MREG_SQL_SHOW, 3, PGRES_TUPLES_OK, 1, 1 },
};

static const struct bench_step search_steps[] = {
	{ "mreg_search", MREG_SQL_SEARCH, 4, PGRES_TUPLES_OK, 0, 20 },
};

static const struct bench_step set_default_steps[] = {
	{ "mreg_set_default", MREG_SQL_SET_DEFAULT, 3, PGRES_TUPLES_OK, 1, 1 },
};

#define NSTEPS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct bench_workload workloads[MREG_BENCH_NWORKLOADS] = {
	[MREG_BENCH_GET_DEFAULT] = { "get-default", false, get_default_steps,
				     NSTEPS(get_default_steps),
				     params_get_default },
	[MREG_BENCH_LIST] = { "list", false, list_steps, NSTEPS(list_steps),
			      params_list },
	[MREG_BENCH_SHOW] = { "show", false, show_steps, NSTEPS(show_steps),
			      params_show },
	[MREG_BENCH_SEARCH] = { "search", false, search_steps,
				NSTEPS(search_steps), params_search },
	[MREG_BENCH_SET_DEFAULT] = { "set-default", true, set_default_steps,
				     NSTEPS(set_default_steps),
				     params_set_default },
	/* no statements of its own: one import-dir run (import_main) */
	[MREG_BENCH_IMPORT] = { "import", true, NULL, 0, NULL },
};

const char *mreg_bench_workload_name(int workload)
{
	if (workload < 0 || workload >= MREG_BENCH_NWORKLOADS)
		return NULL;
	return workloads[workload].name;
}

int mreg_bench_workload_find(const char *name)
{
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (strcmp(workloads[i].name, name) == 0)
			return i;
	return -1;
}

bool mreg_bench_workload_writes(int workload)
{
	return workload >= 0 && workload < MREG_BENCH_NWORKLOADS &&
	       workloads[workload].writes;
}

bool mreg_bench_workload_mixable(int workload)
{
	return workload >= 0 && workload < MREG_BENCH_NWORKLOADS &&
	       workload != MREG_BENCH_IMPORT;
}

const struct mreg_prepared *mreg_bench_statements(int *count)
{
	static struct mreg_prepared stmts[MREG_BENCH_NWORKLOADS * 4];
	static int n = -1;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	if (n < 0) {
		n = 0;
		for (int w = 0; w < MREG_BENCH_NWORKLOADS; w++)
			for (int s = 0; s < workloads[w].nsteps; s++) {
				const struct bench_step *st = &workloads[w].steps[s];

				if (!st->stmt)
					continue;
				stmts[n].name = st->stmt;
				stmts[n].sql = st->sql;
				stmts[n].nparams = st->nparams;
				n++;
			}
	}
	pthread_mutex_unlock(&lock);
	*count = n;
	return stmts;
}

/* --- errors ---------------------------------------------------------------- */

static const char *const error_kind_names[MREG_BENCH_NERRKINDS] = {
	[MREG_BENCH_ERR_CONNECT] = "connect",
	[MREG_BENCH_ERR_POOL_TIMEOUT] = "pool_timeout",
	[MREG_BENCH_ERR_DISCONNECT] = "disconnect",
	[MREG_BENCH_ERR_STATEMENT_TIMEOUT] = "statement_timeout",
	[MREG_BENCH_ERR_CONFLICT] = "conflict",
	[MREG_BENCH_ERR_CONSTRAINT] = "constraint",
	[MREG_BENCH_ERR_SERVER] = "server",
	[MREG_BENCH_ERR_RESULT] = "result",
};

const char *mreg_bench_error_kind_name(int kind)
{
	if (kind < 0 || kind >= MREG_BENCH_NERRKINDS)
		return NULL;
	return error_kind_names[kind];
}

int mreg_bench_classify(const struct mreg_error *err)
{
	const char *s = err->sqlstate;

	if (strcmp(s, "57014") == 0)
		return MREG_BENCH_ERR_STATEMENT_TIMEOUT;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return MREG_BENCH_ERR_CONFLICT;
	if (strncmp(s, "23", 2) == 0)
		return MREG_BENCH_ERR_CONSTRAINT;
	if (s[0] == '\0' || mreg_sqlstate_is_disconnect(s))
		return MREG_BENCH_ERR_DISCONNECT;
	return MREG_BENCH_ERR_SERVER;
}

/* --- run state ------------------------------------------------------------- */

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
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / NS_PER_S);
	ts.tv_nsec = (long)(ns % NS_PER_S);
	nanosleep(&ts, NULL);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

/* --- workload parameters --------------------------------------------------- */

static void params_get_default(struct bench_client *c, int step,
			       const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	(void)step;
	values[0] = d->types[rng_below(&c->w->rng, (uint64_t)d->ntypes)];
}

static void params_list(struct bench_client *c, int step, const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	if (step == 0) {
		c->pick = (int)rng_below(&c->w->rng, (uint64_t)d->nlist_types);
		return;
	}
	/* $1 type, $2 provider, $3 tags, $4 active, $5 $6 cursor, $7 limit */
	values[0] = d->list_types[c->pick];
	values[3] = "true";
	if (step == 2)
		values[6] = LIST_PAGE;
}

static void params_show(struct bench_client *c, int step, const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;
	int i = (int)rng_below(&c->w->rng, (uint64_t)d->nshow);

	(void)step;
	values[0] = d->show_provider[i];
	values[1] = d->show_name[i];
	values[2] = SHOW_AUDIT;
}

static void params_search(struct bench_client *c, int step,
			  const char **values)
{
	const struct mreg_bench_data *d = c->w->b->cfg.data;

	(void)step;
	values[0] = d->terms[rng_below(&c->w->rng, (uint64_t)d->nterms)];
	values[3] = SEARCH_LIMIT;
}

static void params_set_default(struct bench_client *c, int step,
			       const char **values)
{
	const struct mreg_bench *b = c->w->b;
	const struct mreg_bench_data *d = b->cfg.data;
	int i = (int)rng_below(&c->w->rng, (uint64_t)d->nsd);

	(void)step;
	values[0] = d->sd_provider[i];
	values[1] = d->sd_name[i];
	values[2] = b->cfg.actor ? b->cfg.actor : "mreg bench";
}

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

/* Count one recorded request into the thread's totals and interval. */
static void record(struct bench_worker *w, int workload, bool failed,
		   int kind, const char *message, long long intended,
		   long long sent, long long end)
{
	const struct mreg_bench *b = w->b;

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
		mreg_pool_release(b->cfg.pool, c->conn);
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
		record(w, c->workload, c->failed, c->kind, c->err.message,
		       c->intended_ns, c->sent_ns, end);
}

static void fail(struct bench_client *c, int kind)
{
	c->failed = true;
	c->kind = kind;
}

/* Send the current step; on failure the request ends. */
static void send_step(struct bench_client *c)
{
	const struct mreg_bench *b = c->w->b;
	const struct bench_workload *wl = &workloads[c->workload];
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
		fail(c, MREG_BENCH_ERR_DISCONNECT);
		end_request(c);
		return;
	}
	c->busy = true;
}

static PGconn *connect_own(const struct mreg_bench *b, struct mreg_error *err)
{
	const char *keys[3] = { NULL }, *vals[3] = { NULL };
	int n = 0;
	PGconn *pg;

	if (b->cfg.dsn) {
		keys[n] = "dbname";
		vals[n++] = b->cfg.dsn;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = b->cfg.application_name ? b->cfg.application_name : "mreg bench";
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not connect: out of memory");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		struct mreg_dsn_secrets sec;
		char why[256];

		if (mreg_dsn_check(b->cfg.dsn, why, sizeof(why)) < 0) {
			/* libpq's message would quote the DSN */
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "invalid connection string: %s", why);
		} else {
			mreg_error_from_conn(err, pg);
			mreg_dsn_secrets_init(&sec, b->cfg.dsn);
			mreg_dsn_secrets_scrub(&sec, err->message,
					       sizeof(err->message));
			mreg_dsn_secrets_scrub(&sec, err->detail,
					       sizeof(err->detail));
			mreg_dsn_secrets_finish(&sec);
		}
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static void start_request(struct bench_client *c, long long intended,
			   bool recording)
{
	struct bench_worker *w = c->w;
	struct mreg_bench *b = w->b;

	c->workload = pick_workload(w);
	c->step = 0;
	c->failed = false;
	c->recording = recording;
	c->intended_ns = intended;
	mreg_error_clear(&c->err);

	if (b->cfg.connect_per_request) {
		c->own = connect_own(b, &c->err);
		if (c->own)
			w->connections_opened++;
	} else {
		c->conn = mreg_pool_acquire(b->cfg.pool, &c->err);
	}
	c->sent_ns = now_ns();
	if (!client_pg(c)) {
		struct mreg_pool_stats st;
		int kind = MREG_BENCH_ERR_CONNECT;

		if (!b->cfg.connect_per_request) {
			/* a timeout leaves every slot in use */
			mreg_pool_get_stats(b->cfg.pool, &st);
			if (st.in_use >= st.max_size)
				kind = MREG_BENCH_ERR_POOL_TIMEOUT;
		}
		fail(c, kind);
		end_request(c);
		return;
	}
	send_step(c);
}

/* Check one result against what the step expects. */
static void take_result(struct bench_client *c, PGresult *res)
{
	const struct bench_step *st = &workloads[c->workload].steps[c->step];
	PGconn *pg = client_pg(c);
	int rows;

	if (c->failed || c->got_result) {
		if (!c->failed) {
			mreg_error_set(&c->err, MREG_EXIT_FAILURE,
				       "more than one result from one statement");
			fail(c, MREG_BENCH_ERR_RESULT);
		}
		return;
	}
	c->got_result = true;
	if (PQresultStatus(res) != st->expect) {
		mreg_error_from_result(&c->err, res, pg);
		fail(c, PQstatus(pg) == CONNECTION_OK
				? mreg_bench_classify(&c->err)
				: MREG_BENCH_ERR_DISCONNECT);
		return;
	}
	if (st->expect != PGRES_TUPLES_OK)
		return;
	rows = PQntuples(res);
	if (rows < st->min_rows || (st->max_rows >= 0 && rows > st->max_rows)) {
		mreg_error_set(&c->err, MREG_EXIT_FAILURE,
			       "%s returned %d rows", workloads[c->workload].name,
			       rows);
		fail(c, MREG_BENCH_ERR_RESULT);
	}
}

/* The socket is readable: read what arrived, go on when a step is done. */
static void on_readable(struct bench_client *c)
{
	PGconn *pg = client_pg(c);
	PGresult *res;

	if (!PQconsumeInput(pg)) {
		mreg_error_from_conn(&c->err, pg);
		fail(c, MREG_BENCH_ERR_DISCONNECT);
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
			fail(c, MREG_BENCH_ERR_DISCONNECT);
		}
		if (c->failed || ++c->step == workloads[c->workload].nsteps) {
			end_request(c);
			return;
		}
		send_step(c);
		return;
	}
}

/* --- worker threads -------------------------------------------------------- */

/* Would an acquire have to wait? */
static bool pool_full(struct mreg_bench *b)
{
	struct mreg_pool_stats st;

	if (!b->pool_can_fill)
		return false;
	mreg_pool_get_stats(b->cfg.pool, &st);
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

static void *worker_main(void *arg)
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

/* --- the import workload -------------------------------------------------- */

long mreg_bench_import_per_request(const struct mreg_bench_config *cfg)
{
	double n;

	if (!cfg->weights[MREG_BENCH_IMPORT] || cfg->import_files < 1)
		return 0;
	n = (double)cfg->import_files * cfg->import_change_pct / 100.0 + 0.5;
	if (n < 1)
		return 1;
	if (n > (double)cfg->import_files)
		return cfg->import_files;
	return (long)n;
}

const char *mreg_bench_import_dir(const struct mreg_bench *b)
{
	return b ? b->import_dir : NULL;
}

/* The kind of a failed import on conn (NULL: no connection). */
static int import_error_kind(const struct mreg_conn *conn,
			     const struct mreg_error *err)
{
	if (err->status == MREG_EXIT_LOCKED)
		return MREG_BENCH_ERR_CONFLICT;
	if (conn && PQstatus(conn->pg) != CONNECTION_OK)
		return MREG_BENCH_ERR_DISCONNECT;
	return mreg_bench_classify(err);
}

/*
 * One import of the client's tree on a pooled connection; counts and the
 * first bad file's message in out/problem.  The kind of error, or -1.
 */
static int import_once(struct bench_worker *w, struct mreg_import_counts *out,
		       char *problem, size_t len, struct mreg_error *err)
{
	struct mreg_bench *b = w->b;
	struct mreg_conn *conn = mreg_pool_acquire(b->cfg.pool, err);
	struct mreg_pool_stats st;
	int kind = -1;

	if (!conn) {
		mreg_pool_get_stats(b->cfg.pool, &st);
		return st.in_use >= st.max_size ? MREG_BENCH_ERR_POOL_TIMEOUT
						: MREG_BENCH_ERR_CONNECT;
	}
	if (mreg_bench_tree_import(&w->tree, conn,
				   b->cfg.actor ? b->cfg.actor : "mreg bench",
				   b->cfg.import_jobs, out, problem, len,
				   err) < 0)
		kind = import_error_kind(conn, err);
	mreg_pool_release(b->cfg.pool, conn);
	return kind;
}

/* Write the tree and import it once, unrecorded. */
static int import_setup(struct bench_worker *w, struct mreg_error *err)
{
	struct mreg_bench *b = w->b;
	struct mreg_import_counts n;
	char problem[512];

	if (mreg_bench_tree_create(&w->tree, b->import_dir,
				   w->clients[0].index, b->cfg.import_files,
				   err) < 0)
		return -1;
	if (import_once(w, &n, problem, sizeof(problem), err) >= 0) {
		mreg_error_prefix(err, "initial import of \"%s\"", w->tree.path);
		return -1;
	}
	if (n.failed > 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "initial import of \"%s\": %ld files failed: %s",
			       w->tree.path, n.failed, problem);
		return -1;
	}
	return 0;
}

/*
 * One request: rewrite the next files, then import the tree (the clock
 * runs from after the rewrite).  The import must update exactly the files
 * rewritten (plus, after a failed request, up to those rewritten then),
 * add none and find no bad file.
 */
static void import_request(struct bench_worker *w, bool recording)
{
	struct mreg_bench *b = w->b;
	struct bench_client *c = &w->clients[0];
	struct mreg_import_counts n;
	long want = b->per_request, most;
	long long intended, end;
	char problem[512];

	c->failed = false;
	mreg_error_clear(&c->err);
	if (mreg_bench_tree_change(&w->tree, want, &c->err) < 0) {
		intended = now_ns();
		fail(c, MREG_BENCH_ERR_RESULT);
		goto done;
	}
	most = w->carried + want;
	if (most > w->tree.files)
		most = w->tree.files;
	w->carried = most;
	intended = now_ns();
	c->kind = import_once(w, &n, problem, sizeof(problem), &c->err);
	if (c->kind >= 0) {
		c->failed = true;
		goto done;
	}
	w->carried = 0;
	if (n.failed > 0 || n.added > 0 || n.updated < want ||
	    n.updated > most) {
		mreg_error_set(&c->err, MREG_EXIT_FAILURE,
			       "import updated %ld models for %ld rewritten files"
			       " (added %ld, failed %ld)%s%s", n.updated, want,
			       n.added, n.failed, problem[0] ? ": " : "",
			       problem);
		fail(c, MREG_BENCH_ERR_RESULT);
	}
done:
	end = now_ns();
	if (c->failed && (c->kind == MREG_BENCH_ERR_CONNECT ||
			  c->kind == MREG_BENCH_ERR_DISCONNECT ||
			  c->kind == MREG_BENCH_ERR_RESULT))
		c->next_ns = end + BACKOFF_NS; /* do not spin on a dead server */
	if (recording)
		record(w, MREG_BENCH_IMPORT, c->failed, c->kind, c->err.message,
		       intended, intended, end);
}

/* One client of the import workload: set up, wait for the start, run. */
static void *import_main(void *arg)
{
	struct bench_worker *w = arg;
	struct mreg_bench *b = w->b;
	struct bench_client *c = &w->clients[0];
	struct mreg_error err;
	bool ok;

	mreg_error_clear(&err);
	ok = import_setup(w, &err) == 0;
	pthread_mutex_lock(&b->setup_lock);
	if (ok) {
		b->setup_ready++;
	} else {
		if (!b->setup_failed++)
			b->setup_err = err;
	}
	pthread_cond_broadcast(&b->setup_cond);
	while (ok && !b->go && !atomic_load(&b->stop))
		pthread_cond_wait(&b->setup_cond, &b->setup_lock);
	pthread_mutex_unlock(&b->setup_lock);

	while (ok && !atomic_load(&b->stop)) {
		long long now = now_ns();
		bool recording;

		if (now >= b->end_ns)
			break;
		if (c->next_ns > now) {
			long long wait = c->next_ns - now;

			sleep_ns(wait < TICK_NS ? wait : TICK_NS);
			continue;
		}
		recording = now >= b->measure_ns;
		if (recording && b->cfg.transactions > 0 &&
		    atomic_fetch_sub(&b->tickets, 1) <= 0)
			break;
		import_request(w, recording);
	}
	w->finished_ns = now_ns();
	atomic_fetch_sub(&b->running, 1);
	return NULL;
}

/* --- the run --------------------------------------------------------------- */

static void worker_free(struct bench_worker *w)
{
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		mreg_histogram_destroy(w->hist[i]);
	mreg_histogram_destroy(w->lag);
	mreg_histogram_destroy(w->interval);
	free(w->clients);
	free(w->pfd);
	free(w->pclient);
	pthread_mutex_destroy(&w->lock);
}

static int check_import_config(const struct mreg_bench_config *cfg,
			       struct mreg_error *err)
{
	const char *why = NULL;

	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (i != MREG_BENCH_IMPORT && cfg->weights[i])
			why = "import runs alone: it cannot be part of a mix";
	if (cfg->clients < 1)
		why = "no clients";
	else if (cfg->rate > 0)
		why = "import runs closed loop only (no rate)";
	else if (cfg->connect_per_request || !cfg->pool)
		why = "import runs on pooled connections";
	else if (cfg->import_files < 1 || cfg->import_jobs < 1)
		why = "import needs files and worker threads";
	else if (!(cfg->import_change_pct > 0) || cfg->import_change_pct > 100)
		why = "import's change must be above 0 and at most 100 percent";
	else if (!cfg->import_parent || !cfg->import_parent[0])
		why = "import needs a directory for its trees";
	else if (cfg->duration_s <= 0 && cfg->transactions <= 0)
		why = "neither a duration nor a transaction count";
	if (why) {
		mreg_error_set(err, MREG_EXIT_USAGE, "%s", why);
		return -1;
	}
	return 0;
}

static int check_config(const struct mreg_bench_config *cfg,
			struct mreg_error *err)
{
	unsigned total = 0;

	if (cfg->weights[MREG_BENCH_IMPORT])
		return check_import_config(cfg, err);
	if (cfg->clients < 1 || cfg->threads < 1 || cfg->threads > cfg->clients) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "threads must be between 1 and the number of clients");
		return -1;
	}
	if (!cfg->connect_per_request && !cfg->pool) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no connection pool");
		return -1;
	}
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		total += cfg->weights[i];
	if (total == 0) {
		mreg_error_set(err, MREG_EXIT_USAGE, "no workload selected");
		return -1;
	}
	if (cfg->duration_s <= 0 && cfg->transactions <= 0) {
		mreg_error_set(err, MREG_EXIT_USAGE,
			       "neither a duration nor a transaction count");
		return -1;
	}
	if (!cfg->data) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no workload parameters");
		return -1;
	}
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
		const struct mreg_bench_data *d = cfg->data;
		const char *why = NULL;

		if (!cfg->weights[i])
			continue;
		if (i == MREG_BENCH_GET_DEFAULT && d->ntypes == 0)
			why = "no type has a default model";
		else if (i == MREG_BENCH_LIST && d->nlist_types == 0)
			why = "the registry holds no models";
		else if (i == MREG_BENCH_SHOW && d->nshow == 0)
			why = "the registry holds no models";
		else if (i == MREG_BENCH_SEARCH && d->nterms == 0)
			why = "the registry holds no models to search for";
		else if (i == MREG_BENCH_SET_DEFAULT && d->nsd == 0)
			why = "no type has a default that mreg bench created"
			      " (set-default only moves bench defaults)";
		if (!why)
			continue;
		mreg_error_set(err, MREG_EXIT_DATA, "cannot run %s: %s",
			       workloads[i].name, why);
		mreg_error_hint(err, "Fill a scratch registry with --populate N.");
		return -1;
	}
	return 0;
}

/* import: the run's private directory and the setup rendezvous. */
static int import_prepare(struct mreg_bench *b, struct mreg_error *err)
{
	static const char tail[] = "/mreg-bench.XXXXXX";
	size_t len = strlen(b->cfg.import_parent) + sizeof(tail);
	char ebuf[128];

	b->per_request = mreg_bench_import_per_request(&b->cfg);
	if (!(b->import_dir = malloc(len))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	snprintf(b->import_dir, len, "%s%s", b->cfg.import_parent, tail);
	if (!mkdtemp(b->import_dir)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not create a directory in \"%s\": %s",
			       b->cfg.import_parent,
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		free(b->import_dir);
		b->import_dir = NULL;
		return -1;
	}
	pthread_mutex_init(&b->setup_lock, NULL);
	pthread_cond_init(&b->setup_cond, NULL);
	b->setup_sync = true;
	return 0;
}

/*
 * import: wait until every client wrote and imported its tree, then
 * start the clock and let them go; -1 with the first failure.
 */
static int import_wait_setup(struct mreg_bench *b, struct mreg_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&b->setup_lock);
	while (b->setup_ready + b->setup_failed < b->nworkers)
		pthread_cond_wait(&b->setup_cond, &b->setup_lock);
	if (b->setup_failed) {
		*err = b->setup_err;
		atomic_store(&b->stop, true);
		rc = -1;
	} else {
		b->t0_ns = now_ns();
		b->measure_ns = b->t0_ns +
				(long long)(b->cfg.warmup_s * NS_PER_S);
		b->end_ns = b->cfg.duration_s > 0
				    ? b->measure_ns +
					      (long long)(b->cfg.duration_s * NS_PER_S)
				    : LLONG_MAX;
		b->last_interval_ns = b->t0_ns;
		b->go = true;
	}
	pthread_cond_broadcast(&b->setup_cond);
	pthread_mutex_unlock(&b->setup_lock);
	return rc;
}

struct mreg_bench *mreg_bench_start(const struct mreg_bench_config *cfg,
				    struct mreg_error *err)
{
	struct mreg_bench *b = NULL;
	sigset_t all, old;
	int per, extra, next_client = 0;

	if (check_config(cfg, err) < 0)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto oom;
	b->cfg = *cfg;
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		b->weight_total += cfg->weights[i];
	b->import = cfg->weights[MREG_BENCH_IMPORT] != 0;
	/* import: one thread per client, each running one import at a time */
	b->nworkers = b->import ? cfg->clients : cfg->threads;
	b->workers = calloc((size_t)b->nworkers, sizeof(*b->workers));
	b->interval_merge = mreg_histogram_create();
	if (!b->workers || !b->interval_merge)
		goto oom;
	per = cfg->clients / b->nworkers;
	extra = cfg->clients % b->nworkers;
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		w->b = b;
		w->tree.dirfd = -1;
		pthread_mutex_init(&w->lock, NULL);
		w->nclients = per + (t < extra);
		w->rng = (cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ULL) ^
			 ((uint64_t)(t + 1) * 0xBF58476D1CE4E5B9ULL);
		w->clients = calloc((size_t)w->nclients, sizeof(*w->clients));
		w->pfd = calloc((size_t)w->nclients, sizeof(*w->pfd));
		w->pclient = calloc((size_t)w->nclients, sizeof(*w->pclient));
		w->lag = mreg_histogram_create();
		w->interval = mreg_histogram_create();
		if (!w->clients || !w->pfd || !w->pclient || !w->lag ||
		    !w->interval)
			goto oom;
		for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
			if (!(w->hist[i] = mreg_histogram_create()))
				goto oom;
		for (int i = 0; i < w->nclients; i++) {
			w->clients[i].w = w;
			w->clients[i].index = next_client++;
		}
	}

	if (!cfg->connect_per_request) {
		struct mreg_pool_stats st;

		mreg_pool_get_stats(cfg->pool, &st);
		b->pool_can_fill = st.max_size < cfg->clients;
	}
	if (b->import && import_prepare(b, err) < 0) {
		mreg_bench_destroy(b);
		return NULL;
	}
	b->t0_ns = now_ns();
	b->measure_ns = b->t0_ns + (long long)(cfg->warmup_s * NS_PER_S);
	b->end_ns = cfg->duration_s > 0
			    ? b->measure_ns + (long long)(cfg->duration_s * NS_PER_S)
			    : LLONG_MAX;
	b->last_interval_ns = b->t0_ns;
	atomic_init(&b->tickets, cfg->transactions);
	atomic_init(&b->stop, false);
	atomic_init(&b->running, b->nworkers);
	if (cfg->rate > 0) {
		double gap = (double)NS_PER_S / cfg->rate;

		b->interval_ns = (long long)(gap * cfg->clients);
		if (b->interval_ns < 1)
			b->interval_ns = 1;
		for (int t = 0; t < b->nworkers; t++)
			for (int i = 0; i < b->workers[t].nclients; i++) {
				struct bench_client *c = &b->workers[t].clients[i];

				c->next_ns = b->t0_ns + (long long)(gap * c->index);
			}
	}

	/* Workers never take signals: the caller's thread handles Ctrl-C. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int t = 0; t < b->nworkers; t++) {
		int rc = pthread_create(&b->workers[t].thread, NULL,
					b->import ? import_main : worker_main,
					&b->workers[t]);
		char msg[128];

		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "could not start worker thread: %s",
				       mreg_strerror(rc, msg, sizeof(msg)));
			/* the threads started so far stop at once */
			atomic_store(&b->stop, true);
			atomic_fetch_sub(&b->running, b->nworkers - t);
			mreg_bench_destroy(b);
			return NULL;
		}
		b->workers[t].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (b->import && import_wait_setup(b, err) < 0) {
		mreg_bench_destroy(b);
		return NULL;
	}
	return b;

oom:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	mreg_bench_destroy(b);
	return NULL;
}

void mreg_bench_stop(struct mreg_bench *b)
{
	if (b)
		atomic_store(&b->stop, true);
}

bool mreg_bench_wait(struct mreg_bench *b, int timeout_ms)
{
	long long until = now_ns() + (long long)timeout_ms * NS_PER_MS;
	struct timespec ts = { 0, 10 * NS_PER_MS };

	for (;;) {
		if (atomic_load(&b->running) == 0)
			return true;
		if (now_ns() >= until)
			return false;
		/* a signal cuts the sleep short so the caller can react */
		if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
			return atomic_load(&b->running) == 0;
	}
}

void mreg_bench_interval(struct mreg_bench *b, struct mreg_bench_interval *out)
{
	long long now = now_ns();

	memset(out, 0, sizeof(*out));
	mreg_histogram_reset(b->interval_merge);
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		pthread_mutex_lock(&w->lock);
		out->transactions += w->interval_tx;
		out->errors += w->interval_err;
		mreg_histogram_merge(b->interval_merge, w->interval);
		mreg_histogram_reset(w->interval);
		w->interval_tx = w->interval_err = 0;
		pthread_mutex_unlock(&w->lock);
	}
	out->p99_ns = mreg_histogram_percentile(b->interval_merge, 99.0);
	out->elapsed_s = (double)(now - b->t0_ns) / NS_PER_S;
	out->interval_s = (double)(now - b->last_interval_ns) / NS_PER_S;
	out->warming_up = now < b->measure_ns;
	b->last_interval_ns = now;
}

static void join_all(struct mreg_bench *b)
{
	for (int t = 0; t < b->nworkers; t++)
		if (b->workers[t].started) {
			pthread_join(b->workers[t].thread, NULL);
			b->workers[t].started = false;
		}
}

int mreg_bench_finish(struct mreg_bench *b, struct mreg_bench_result *res,
		      struct mreg_error *err)
{
	long long finished = b->measure_ns;

	memset(res, 0, sizeof(*res));
	join_all(b);
	res->latency = mreg_histogram_create();
	res->lag = mreg_histogram_create();
	if (!res->latency || !res->lag)
		goto oom;
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		if (!(res->by_workload[i] = mreg_histogram_create()))
			goto oom;
	for (int t = 0; t < b->nworkers; t++) {
		struct bench_worker *w = &b->workers[t];

		if (w->finished_ns > finished)
			finished = w->finished_ns;
		res->transactions += w->transactions;
		res->connections_opened += w->connections_opened;
		mreg_histogram_merge(res->lag, w->lag);
		for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++) {
			mreg_histogram_merge(res->by_workload[i], w->hist[i]);
			mreg_histogram_merge(res->latency, w->hist[i]);
			res->errors_by_workload[i] += w->errors_by_workload[i];
		}
		for (int k = 0; k < MREG_BENCH_NERRKINDS; k++) {
			res->errors += w->errors_by_kind[k];
			res->errors_by_kind[k] += w->errors_by_kind[k];
			if (!res->first_error[k][0] && w->first_error[k][0])
				memcpy(res->first_error[k], w->first_error[k],
				       sizeof(res->first_error[k]));
		}
	}
	res->elapsed_s = (double)(finished - b->measure_ns) / NS_PER_S;
	res->interrupted = atomic_load(&b->stop);
	return 0;

oom:
	mreg_bench_result_finish(res);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

void mreg_bench_result_finish(struct mreg_bench_result *res)
{
	if (!res)
		return;
	mreg_histogram_destroy(res->latency);
	mreg_histogram_destroy(res->lag);
	for (int i = 0; i < MREG_BENCH_NWORKLOADS; i++)
		mreg_histogram_destroy(res->by_workload[i]);
	memset(res, 0, sizeof(*res));
}

void mreg_bench_destroy(struct mreg_bench *b)
{
	if (!b)
		return;
	if (b->workers) {
		atomic_store(&b->stop, true);
		if (b->setup_sync) { /* wake clients waiting for the start */
			pthread_mutex_lock(&b->setup_lock);
			pthread_cond_broadcast(&b->setup_cond);
			pthread_mutex_unlock(&b->setup_lock);
		}
		join_all(b);
		for (int t = 0; t < b->nworkers; t++)
			if (b->workers[t].b) {
				mreg_bench_tree_finish(&b->workers[t].tree);
				worker_free(&b->workers[t]);
			}
		free(b->workers);
	}
	mreg_bench_remove_dir(b->import_dir);
	free(b->import_dir);
	if (b->setup_sync) {
		pthread_mutex_destroy(&b->setup_lock);
		pthread_cond_destroy(&b->setup_cond);
	}
	mreg_histogram_destroy(b->interval_merge);
	free(b);
}
