/* import-writers.c - batches written at once on several connections
 * (see import-write.h)
 *
 * Outside one transaction every batch is a transaction of its own that
 * carries its models, their audit rows and its files' cache rows, so
 * batches can be written side by side: the server computes the search
 * documents and index entries of one batch on one core while another
 * batch takes the other.  Batches touch disjoint rows: a provider/name
 * is claimed by one file of the run, and a batch's new providers are
 * created before it in a short transaction of their own, in name order
 * (import-batch.c), so a batch holds no row another writer waits for
 * (but a provider deleted while the run goes on, which its batch creates
 * again).
 *
 * Writer k takes batches k, k + n, k + 2n, ...: the consumer hands a
 * batch to the next writer once that writer's previous batch is done, and
 * tells that batch's outcome then.  So what the caller hears (events and
 * counts) comes in batch order, on the consumer's thread, exactly as when
 * one connection writes everything.  Each writer runs the one-connection
 * batch writer (import-batch.c) on an importer of its own whose events are
 * kept for the consumer to tell.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "import-write.h"
#include "strmap.h"

enum event_kind { EV_FILE, EV_WARN, EV_CHANGED };

struct event {
	enum event_kind kind;
	bool flag;                  /* warning (file) or create (changed) */
	char *a, *b;                /* file: rel, text; warn: text;
				       changed: resource, rel */
};

enum writer_state {
	W_IDLE,                     /* no batch, or its outcome was told */
	W_BUSY,                     /* writing a batch */
	W_DONE,                     /* written (or failed): to be told */
};

struct writer {
	pthread_t thread;
	bool started;
	bool own_conn;              /* from the pool (else the run's conn) */
	struct mreg_import_config cfg; /* the run's, with conn and events */
	struct mreg_importer part;  /* the batch writer's state */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum writer_state state;    /* under lock */
	bool quit;                  /* under lock */
	int rc;                     /* of the batch, with err */
	struct mreg_error err;
	struct event *events;
	size_t nevents, capevents;
	bool oom;                   /* an event could not be kept */
};

struct mreg_writers {
	struct writer *w;
	int n;                      /* writers in use */
	int next;                   /* takes the next batch */
	pthread_t opener;           /* open_ahead */
	bool opening;
};

/* --- the events a writer keeps ------------------------------------------- */

static void keep(struct writer *wr, enum event_kind kind, bool flag,
		 const char *a, const char *b)
{
	struct event *e;

	if (wr->nevents == wr->capevents) {
		size_t n = wr->capevents ? wr->capevents * 2 : 16;
		struct event *p = realloc(wr->events, n * sizeof(*p));
		if (!p) {
			wr->oom = true;
			return;
		}
		wr->events = p;
		wr->capevents = n;
	}
	e = &wr->events[wr->nevents];
	e->kind = kind;
	e->flag = flag;
	e->a = a ? strdup(a) : NULL;
	e->b = b ? strdup(b) : NULL;
	if ((a && !e->a) || (b && !e->b)) {
		free(e->a);
		free(e->b);
		wr->oom = true;
		return;
	}
	wr->nevents++;
}

static void keep_file(void *arg, const char *rel, const char *text,
		      bool warning)
{
	keep(arg, EV_FILE, warning, rel, text);
}

static void keep_warn(void *arg, const char *text)
{
	keep(arg, EV_WARN, false, text, NULL);
}

static void keep_changed(void *arg, bool create, const char *resource,
			 const char *rel)
{
	keep(arg, EV_CHANGED, create, resource, rel);
}

/* Tell what writer wr kept to the run's events, and forget it. */
static void tell(struct mreg_importer *w, struct writer *wr)
{
	const struct mreg_import_events *ev = &w->cfg->ev;
	size_t i;

	for (i = 0; i < wr->nevents; i++) {
		struct event *e = &wr->events[i];

		switch (e->kind) {
		case EV_FILE:
			if (ev->file)
				ev->file(ev->arg, e->a, e->b, e->flag);
			break;
		case EV_WARN:
			if (ev->warn)
				ev->warn(ev->arg, e->a);
			break;
		case EV_CHANGED:
			if (ev->changed)
				ev->changed(ev->arg, e->flag, e->a, e->b);
			break;
		}
		free(e->a);
		free(e->b);
	}
	wr->nevents = 0;
	w->added += wr->part.added;
	w->updated += wr->part.updated;
	w->failed += wr->part.failed;
	w->failed_files += wr->part.failed_files;
	wr->part.added = wr->part.updated = 0;
	wr->part.failed = wr->part.failed_files = 0;
}

/* --- the writer threads -------------------------------------------------- */

static void *writer_main(void *arg)
{
	struct writer *wr = arg;

	pthread_mutex_lock(&wr->lock);
	for (;;) {
		while (wr->state != W_BUSY && !wr->quit)
			pthread_cond_wait(&wr->cond, &wr->lock);
		if (wr->state != W_BUSY)
			break;
		pthread_mutex_unlock(&wr->lock);
		mreg_error_clear(&wr->err);
		wr->rc = mreg_importer_write_batch(&wr->part, &wr->err);
		pthread_mutex_lock(&wr->lock);
		wr->state = W_DONE;
		pthread_cond_broadcast(&wr->cond);
	}
	pthread_mutex_unlock(&wr->lock);
	return NULL;
}

/*
 * Wait for writer wr's batch and tell its outcome: 0, or -1 with err
 * filled when it failed (what it wrote before stays: its transaction is
 * rolled back, the batches before it are committed).
 */
static int collect(struct mreg_importer *w, struct writer *wr,
		   struct mreg_error *err)
{
	int rc = 0;

	if (!wr->started)
		return 0;
	pthread_mutex_lock(&wr->lock);
	while (wr->state == W_BUSY)
		pthread_cond_wait(&wr->cond, &wr->lock);
	if (wr->state == W_DONE) {
		tell(w, wr);
		if (wr->rc < 0) {
			*err = wr->err;
			rc = -1;
		} else if (wr->oom) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			rc = -1;
		}
		wr->state = W_IDLE;
	}
	pthread_mutex_unlock(&wr->lock);
	return rc;
}

/* Writer k's connection and thread, the first time it takes a batch: 0,
 * 1 when no connection could be had (the run goes on with fewer), -1. */
static int start(struct mreg_importer *w, struct writer *wr, int k,
		 struct mreg_error *err)
{
	struct mreg_error why;
	struct mreg_conn *conn = w->cfg->conn;

	mreg_error_clear(&why);
	/* the connection open_ahead is opening goes to the pool first (else
	 * each waits for the other's pool slot) */
	if (k > 0 && w->writers->opening) {
		pthread_join(w->writers->opener, NULL);
		w->writers->opening = false;
	}
	if (k > 0 && !(conn = mreg_pool_acquire(w->cfg->pool, &why))) {
		char msg[sizeof(why.message) + 96];

		snprintf(msg, sizeof(msg),
			 "writing with %d connection%s, not %d: %s", k,
			 k == 1 ? "" : "s", w->cfg->writers, why.message);
		if (w->cfg->ev.warn)
			w->cfg->ev.warn(w->cfg->ev.arg, msg);
		return 1;
	}
	wr->own_conn = k > 0;
	wr->cfg = *w->cfg;
	wr->cfg.conn = conn;
	wr->cfg.writers = 1;
	wr->cfg.ev = (struct mreg_import_events){ .arg = wr, .file = keep_file,
		.warn = keep_warn, .changed = keep_changed };
	memset(&wr->part, 0, sizeof(wr->part));
	wr->part.cfg = &wr->cfg;
	wr->part.scan = w->scan;
	wr->part.batch = calloc((size_t)w->cfg->batch_size,
				sizeof(*wr->part.batch));
	wr->part.providers = mreg_strmap_create(0);
	if (!wr->part.batch || !wr->part.providers ||
	    pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
		free(wr->part.batch);
		wr->part.batch = NULL;
		mreg_strmap_destroy(wr->part.providers, NULL);
		wr->part.providers = NULL;
		if (wr->own_conn)
			mreg_pool_release(w->cfg->pool, conn);
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "cannot start a batch writer");
		return -1;
	}
	wr->started = true;
	return 0;
}

static int create_set(struct mreg_importer *w, struct mreg_error *err)
{
	struct mreg_writers *set = calloc(1, sizeof(*set));
	int k, n = w->cfg->writers;

	if (set)
		set->w = calloc((size_t)n, sizeof(*set->w));
	if (!set || !set->w) {
		free(set);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	set->n = n;
	for (k = 0; k < n; k++) {
		pthread_mutex_init(&set->w[k].lock, NULL);
		pthread_cond_init(&set->w[k].cond, NULL);
	}
	w->writers = set;
	return 0;
}

/*
 * The connections of writers 1 .. n - 1, opened on a thread of their own
 * and handed back to the pool, which keeps them for start(): each is a
 * server process's start-up (~3 ms on 2 cores), which would otherwise
 * hold up the batch it first takes; when that is the last one, cut over
 * the writers as the walk ends (flush_last), nothing else is left to
 * overlap it.  A failure is start()'s to meet again and report.
 */
static void *open_ahead(void *arg)
{
	struct mreg_importer *w = arg;
	int k, n = w->cfg->writers - 1;
	struct mreg_conn **conn = calloc((size_t)n, sizeof(*conn));
	struct mreg_error ignored;

	if (!conn)
		return NULL;
	for (k = 0; k < n; k++) {
		mreg_error_clear(&ignored);
		conn[k] = mreg_pool_acquire(w->cfg->pool, &ignored);
		if (!conn[k])
			break;
	}
	while (k-- > 0)
		mreg_pool_release(w->cfg->pool, conn[k]);
	free(conn);
	return NULL;
}

void mreg_writers_open_ahead(struct mreg_importer *w)
{
	struct mreg_error ignored;

	mreg_error_clear(&ignored);
	if (w->writers || create_set(w, &ignored) < 0)
		return;
	w->writers->opening = pthread_create(&w->writers->opener, NULL,
					     open_ahead, w) == 0;
}

/* Move the consumer's batch to wr's importer (its arrays are wr's). */
static int hand_over(struct mreg_importer *w, struct writer *wr,
		     struct mreg_error *err)
{
	struct mreg_importer *p = &wr->part;
	size_t i;

	if (w->ninvalid > p->capinvalid) {
		char **a = realloc(p->invalid, w->ninvalid * sizeof(*a));
		if (!a) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
		p->invalid = a;
		p->capinvalid = w->ninvalid;
	}
	for (i = 0; i < w->nbatch; i++)
		p->batch[i] = w->batch[i];
	p->nbatch = w->nbatch;
	for (i = 0; i < w->ninvalid; i++)
		p->invalid[i] = w->invalid[i];
	p->ninvalid = w->ninvalid;
	/* the audit context numbers batches in the order they were formed */
	p->batches = w->batches++;
	w->nbatch = w->ninvalid = 0;
	return 0;
}

int mreg_writers_dispatch(struct mreg_importer *w, struct mreg_error *err)
{
	struct writer *wr;
	int rc;

	if (!w->writers && create_set(w, err) < 0)
		return -1;
	for (;;) {
		wr = &w->writers->w[w->writers->next];
		if (collect(w, wr, err) < 0)
			return -1;
		if (wr->started)
			break;
		rc = start(w, wr, w->writers->next, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		/* no connection for this one: go on with those started */
		w->writers->n = w->writers->next;
		w->writers->next = 0;
	}
	if (hand_over(w, wr, err) < 0)
		return -1;
	pthread_mutex_lock(&wr->lock);
	wr->state = W_BUSY;
	pthread_cond_broadcast(&wr->cond);
	pthread_mutex_unlock(&wr->lock);
	w->writers->next = (w->writers->next + 1) % w->writers->n;
	return 0;
}

int mreg_writers_drain(struct mreg_importer *w, struct mreg_error *err)
{
	struct mreg_writers *set = w->writers;
	struct mreg_error e;
	int k, rc = 0;

	if (!set)
		return 0;
	/* oldest first: the outcomes are told in batch order */
	for (k = 0; k < set->n; k++) {
		mreg_error_clear(&e);
		if (collect(w, &set->w[(set->next + k) % set->n], &e) < 0 &&
		    rc == 0) {
			*err = e;
			rc = -1;
		}
	}
	return rc;
}

void mreg_writers_stop(struct mreg_importer *w)
{
	struct mreg_writers *set = w->writers;
	int k;

	if (!set)
		return;
	if (set->opening)
		pthread_join(set->opener, NULL);
	for (k = 0; k < w->cfg->writers; k++) {
		struct writer *wr = &set->w[k];
		size_t i;

		if (wr->started) {
			pthread_mutex_lock(&wr->lock);
			wr->quit = true;
			pthread_cond_broadcast(&wr->cond);
			pthread_mutex_unlock(&wr->lock);
			pthread_join(wr->thread, NULL);
			/* rolls back a failed batch's transaction */
			mreg_importer_finish(&wr->part);
			if (wr->own_conn)
				mreg_pool_release(w->cfg->pool, wr->cfg.conn);
		}
		for (i = 0; i < wr->nevents; i++) {
			free(wr->events[i].a);
			free(wr->events[i].b);
		}
		free(wr->events);
		pthread_cond_destroy(&wr->cond);
		pthread_mutex_destroy(&wr->lock);
	}
	free(set->w);
	free(set);
	w->writers = NULL;
}
