/* watch.c - following the audit log (see watch.h)
 *
 * Exactly once, in id order, with concurrent writers.
 *
 * mreg.audit_log.id is an identity: a writer takes its ids when it
 * inserts, not when it commits, so a transaction holding id 103 may
 * commit after one holding 105, and an id may never commit at all (a
 * rollback, an identity cache a session threw away, a pruned row).  A
 * reader that printed 105 as soon as it saw it and moved on could never
 * print 103 after it, in order, without a duplicate-prone second cursor.
 * So the position (last) only moves over ids that are settled:
 *
 *   1. Read WHERE id > last ORDER BY id.  While the next row is last + 1,
 *      hand it out and advance (filters decide what is printed; the
 *      position advances over every row read).
 *   2. A row r > last + 1 means ids in between are not visible.  Their
 *      holders took them before r's writer took r, and r committed
 *      before this read's snapshot was taken, so every holder already
 *      had its transaction id by then: the audit rows are written by
 *      triggers after the statement changed its rows (which assigned the
 *      xid), and mreg's own audit inserts (migrate, the prune) follow
 *      writes too.  We take a bound B: pg_current_xact_id() of a tiny
 *      transaction of our own, run after that read, so every
 *      transaction that could hold a missing id has an xid below B.
 *      (Why not the snapshot's in-progress list, pg_snapshot_xip()?  It
 *      only lists xids below the snapshot's xmax, and xmax is the latest
 *      completed xid + 1: a writer with a higher xid that is still open
 *      is in no list at all.  B covers it.)
 *   3. Print past the gap only once a read's own snapshot (the same
 *      statement: pg_current_snapshot()) has xmin >= B, i.e. every
 *      transaction below B has ended, committed or rolled back, in that
 *      very snapshot.  That read then shows every row that will ever
 *      fill the gap: those are printed in id order, ids still missing
 *      were rolled back (or pruned, or never used) and are skipped.
 *      Until then the read hands out nothing past the gap and the caller
 *      reads again after a short wait; a commit also notifies.  B covers
 *      every gap below the highest id that read saw; a gap above it
 *      takes a new B.
 *
 * So a rolled-back id or an identity cache never stalls the watch longer
 * than the transactions that were open when the gap was seen, and a
 * transaction that stays open (any transaction with an xid, even one
 * that writes nothing the audit sees) holds the lines after a gap until
 * it ends.  Two limits, both documented in mreg-watch(1): a row inserted
 * into the audit log directly as the first write of its transaction gets
 * its id a moment before its xid, so for that moment it is not covered;
 * and with an identity CACHE above 1 a session can commit an id long
 * after higher ids were settled: that row is below the position and is
 * not printed.  The identity's default (CACHE 1) has neither problem
 * with the triggers' rows.
 *
 * Restarting from the last id handed out (--after-id) repeats nothing
 * and loses nothing: everything up to it was settled.
 */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pool.h"
#include "pooler.h"
#include "queries.h"

#define WATCH_BATCH 500

struct mreg_watch {
	const struct mreg_connector *connector;
	char *type, *model, *actions;  /* the filter, copied */
	struct mreg_conn conn;         /* pg NULL when not connected */
	long long last;                /* the position; -1 before the start */
	char bound[32];                /* B of the open gap (xid8), or "" */
	long long gap_limit;           /* B settles gaps below this id */
	long long gap_after;           /* waiting after this id, or -1 */
	unsigned long long skipped;
	char notice[512];              /* the server's last notice (a FATAL) */
};

/* $1 last, $2 limit, $3 type, $4 model, $5 actions, $6 B -> id, the line
 * (NULL when filtered out), and whether B has settled in this snapshot */
#define WATCH_TYPE_MATCH                                                     \
	"($3::text IS NULL OR a.resource = 'defaults/' || $3::text"          \
	"  OR $3::text IN (a.new ->> 'type', a.old ->> 'type')"              \
	"  OR (a.resource LIKE 'models/%' AND a.model_id IS NOT NULL"        \
	"      AND NOT coalesce(a.new ? 'type' OR a.old ? 'type', false)"    \
	"      AND coalesce((SELECT h.new ->> 'type' FROM mreg.audit_log h"  \
	"             WHERE h.model_id = a.model_id AND h.id < a.id"         \
	"               AND h.resource LIKE 'models/%' AND h.new ? 'type'"   \
	"             ORDER BY h.id DESC LIMIT 1),"                          \
	"           (SELECT m.type FROM mreg.models m"                       \
	"             WHERE m.id = a.model_id)) = $3::text))"

#define WATCH_MODEL_MATCH                                                    \
	"($4::text IS NULL OR a.resource = 'models/' || $4::text"            \
	"  OR $4::text IN (a.new ->> 'model', a.old ->> 'model')"            \
	"  OR a.model_id IN (SELECT model_id FROM named))"

#define WATCH_ACTION_MATCH                                                   \
	"($5::text[] IS NULL OR a.action = ANY ($5::text[])"                 \
	"  OR split_part(a.action, '.', 1) || '.*' = ANY ($5::text[]))"

static const char read_sql[] =
	"WITH s AS MATERIALIZED (SELECT pg_current_snapshot() AS snap),"
	" named AS MATERIALIZED (SELECT DISTINCT h.model_id"
	"     FROM mreg.audit_log h"
	"    WHERE $4::text IS NOT NULL"
	"      AND h.resource = 'models/' || $4::text"
	"      AND h.model_id IS NOT NULL)"
	" SELECT a.id,"
	"   CASE WHEN " WATCH_TYPE_MATCH " AND " WATCH_MODEL_MATCH
	"         AND " WATCH_ACTION_MATCH
	"   THEN json_build_object('id', a.id,"
	"     'logged_at', " MREG_SQL_ISO("a.logged_at") ","
	"     'actor', a.actor, 'action', a.action, 'resource', a.resource,"
	"     'model_id', a.model_id, 'old', a.old, 'new', a.new,"
	"     'context', a.details)::text END,"
	"   (SELECT $6::xid8 IS NULL OR pg_snapshot_xmin(s.snap) >= $6::xid8"
	"      FROM s)"
	"  FROM mreg.audit_log a"
	" WHERE a.id > $1::bigint"
	" ORDER BY a.id LIMIT $2::int";

static void keep_notice(void *arg, const char *msg)
{
	struct mreg_watch *w = arg;
	size_t n;

	snprintf(w->notice, sizeof(w->notice), "%s", msg);
	n = strlen(w->notice);
	while (n && (w->notice[n - 1] == '\n' || w->notice[n - 1] == ' '))
		w->notice[--n] = '\0';
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct mreg_watch *mreg_watch_create(const struct mreg_connector *c,
				     const struct mreg_watch_filter *f,
				     long long after_id)
{
	struct mreg_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->connector = c;
	w->last = after_id < 0 ? -1 : after_id;
	w->gap_after = -1;
	w->type = dup_or_null(f ? f->type : NULL);
	w->model = dup_or_null(f ? f->model : NULL);
	w->actions = dup_or_null(f ? f->actions : NULL);
	if (f && ((f->type && !w->type) || (f->model && !w->model) ||
		  (f->actions && !w->actions))) {
		mreg_watch_destroy(w);
		return NULL;
	}
	return w;
}

void mreg_watch_disconnect(struct mreg_watch *w)
{
	if (!w || !w->conn.pg)
		return;
	PQfinish(w->conn.pg);
	w->conn.pg = NULL;
}

void mreg_watch_destroy(struct mreg_watch *w)
{
	if (!w)
		return;
	mreg_watch_disconnect(w);
	free(w->type);
	free(w->model);
	free(w->actions);
	free(w);
}

int mreg_watch_socket(const struct mreg_watch *w)
{
	return w->conn.pg ? PQsocket(w->conn.pg) : -1;
}

long long mreg_watch_last(const struct mreg_watch *w)
{
	return w->last;
}

long long mreg_watch_gap(const struct mreg_watch *w)
{
	return w->gap_after;
}

unsigned long long mreg_watch_skipped(const struct mreg_watch *w)
{
	return w->skipped;
}

/* A statement failed: the connection is gone (LOST) or not (FAILED). */
static int failed(struct mreg_watch *w, struct mreg_error *err)
{
	bool gone = PQstatus(w->conn.pg) != CONNECTION_OK ||
		    w->conn.saw_disconnect ||
		    mreg_sqlstate_is_disconnect(err->sqlstate);

	if (gone && w->notice[0] && !strstr(err->message, w->notice)) {
		/* the server said why before it hung up (a FATAL) */
		mreg_error_detail(err, "%s", w->notice);
	}
	if (gone) {
		mreg_watch_disconnect(w);
		return MREG_WATCH_LOST;
	}
	return MREG_WATCH_FAILED;
}

static int refuse_pooled(struct mreg_watch *w, const struct mreg_pooled *p,
			 struct mreg_error *err)
{
	if (p->overridden)
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "cannot LISTEN through a transaction-mode "
			       "pooler (%s=yes)", MREG_POOLED_ENV);
	else
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "cannot LISTEN through a transaction-mode "
			       "pooler: connected to port %s, the server "
			       "runs on port %s", p->client_port,
			       p->server_port);
	mreg_error_detail(err, "LISTEN is session state: behind a pooler in "
			  "transaction mode each transaction may run on "
			  "another server connection, and notifications are "
			  "lost");
	mreg_error_hint(err, "Connect mreg watch to the server directly (not "
			"through PgBouncer); if nothing pools this port (a "
			"tunnel, a port map), set %s=no.", MREG_POOLED_ENV);
	mreg_watch_disconnect(w);
	return MREG_WATCH_FAILED;
}

/* The start: the highest id now (only changes from now on are shown). */
static int take_start(struct mreg_watch *w, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(&w->conn,
				     "SELECT coalesce(max(id), 0)"
				     "  FROM mreg.audit_log",
				     0, NULL, PGRES_TUPLES_OK, err);

	if (!res)
		return failed(w, err);
	w->last = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return MREG_WATCH_IDLE;
}

int mreg_watch_connect(struct mreg_watch *w, struct mreg_error *err)
{
	struct mreg_pooled p;
	PGconn *pg;

	mreg_watch_disconnect(w);
	w->notice[0] = '\0';
	pg = mreg_db_connect(w->connector, err);
	if (!pg)
		return MREG_WATCH_LOST;
	PQsetNoticeProcessor(pg, keep_notice, w);
	mreg_db_trace_connected(pg);
	memset(&w->conn, 0, sizeof(w->conn));
	w->conn.pg = pg;
	if (mreg_conn_pooled(pg, &p, err) < 0) {
		if (err->status != MREG_EXIT_USAGE)
			return failed(w, err);
		mreg_watch_disconnect(w); /* MREG_POOLED is neither yes nor no */
		return MREG_WATCH_FAILED;
	}
	if (p.pooled)
		return refuse_pooled(w, &p, err);
	/* before the first read: nothing committed after it goes unnoticed */
	if (mreg_db_command(&w->conn, "LISTEN mreg_audit", 0, NULL, err) < 0)
		return failed(w, err);
	if (w->last < 0)
		return take_start(w, err);
	return MREG_WATCH_IDLE;
}

int mreg_watch_consume(struct mreg_watch *w, struct mreg_error *err)
{
	PGnotify *n;

	if (!w->conn.pg) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "not connected");
		return MREG_WATCH_LOST;
	}
	if (!PQconsumeInput(w->conn.pg) ||
	    PQstatus(w->conn.pg) != CONNECTION_OK) {
		mreg_error_from_conn(err, w->conn.pg);
		memcpy(err->sqlstate, "08006", 6);
		return failed(w, err);
	}
	while ((n = PQnotifies(w->conn.pg)))
		PQfreemem(n);
	return MREG_WATCH_IDLE;
}

/* Step 2: B, an xid taken after the read that saw the gap. */
static int take_bound(struct mreg_watch *w, long long limit,
		      struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(&w->conn,
				     "SELECT pg_current_xact_id()::text", 0,
				     NULL, PGRES_TUPLES_OK, err);

	if (!res)
		return failed(w, err);
	snprintf(w->bound, sizeof(w->bound), "%s", PQgetvalue(res, 0, 0));
	w->gap_limit = limit;
	PQclear(res);
	return MREG_WATCH_IDLE;
}

/*
 * Steps 1 and 3 over one read: MREG_WATCH_IDLE (all rows taken; *full
 * when the batch was full), MREG_WATCH_GAP (*need_bound: a gap B does
 * not cover), or MREG_WATCH_STOPPED.
 */
static int take_rows(struct mreg_watch *w, PGresult *res,
		     mreg_watch_emit emit, void *arg, bool *need_bound,
		     bool *full)
{
	int n = PQntuples(res), i;
	bool settled = n > 0 && strcmp(PQgetvalue(res, 0, 2), "t") == 0;

	*need_bound = false;
	*full = n == WATCH_BATCH;
	for (i = 0; i < n; i++) {
		long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		int stop;

		if (id != w->last + 1) {
			w->gap_after = w->last;
			if (!w->bound[0] || id > w->gap_limit) {
				*need_bound = true;
				return MREG_WATCH_GAP;
			}
			if (!settled)
				return MREG_WATCH_GAP;
			w->skipped += (unsigned long long)(id - w->last - 1);
		}
		w->gap_after = -1;
		stop = emit(arg, id,
			    PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1));
		w->last = id;
		if (w->bound[0] && w->last >= w->gap_limit)
			w->bound[0] = '\0';
		if (stop)
			return MREG_WATCH_STOPPED;
	}
	return MREG_WATCH_IDLE;
}

int mreg_watch_read(struct mreg_watch *w, mreg_watch_emit emit, void *arg,
		    struct mreg_error *err)
{
	char last[24], limit[16];
	const char *params[6];
	bool need_bound, full;
	PGresult *res;
	int rc;

	if (!w->conn.pg) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "not connected");
		return MREG_WATCH_LOST;
	}
	snprintf(limit, sizeof(limit), "%d", WATCH_BATCH);
	for (;;) {
		snprintf(last, sizeof(last), "%lld", w->last);
		params[0] = last;
		params[1] = limit;
		params[2] = w->type;
		params[3] = w->model;
		params[4] = w->actions;
		params[5] = w->bound[0] ? w->bound : NULL;
		res = mreg_db_exec(&w->conn, read_sql, 6, params,
				   PGRES_TUPLES_OK, err);
		if (!res)
			return failed(w, err);
		rc = take_rows(w, res, emit, arg, &need_bound, &full);
		if (rc == MREG_WATCH_GAP && need_bound) {
			long long top = strtoll(
				PQgetvalue(res, PQntuples(res) - 1, 0), NULL, 10);

			PQclear(res);
			if ((rc = take_bound(w, top, err)) != MREG_WATCH_IDLE)
				return rc;
			continue; /* at once: the gap may have settled already */
		}
		PQclear(res);
		if (rc != MREG_WATCH_IDLE || !full)
			return rc;
	}
}
