/* migrate.c - the schema migration engine: status, the lock, applying
 * (loading the migrations: migrate-load.c; see migrate.h) */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db.h"
#include "migrations.h"
#include "sha256.h"
#include "sqlsplit.h"

#define LOCK_KEY_SQL "hashtextextended('mreg.migrate', 0)"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --- status ------------------------------------------------------------- */

int mreg_migrate_status(struct mreg_conn *conn,
			const struct mreg_migration_set *set,
			struct mreg_migration_status **out, size_t *count,
			struct mreg_error *err)
{
	struct mreg_migration_status *st = NULL;
	PGresult *res = NULL;
	size_t n = 0, i;
	int rows = 0, r;

	res = mreg_db_exec(conn,
			   "SELECT to_regclass('mreg.schema_migrations') "
			   "IS NOT NULL", 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		res = mreg_db_exec(conn,
				   "SELECT version, name, checksum, "
				   "to_char(applied_at AT TIME ZONE 'UTC', "
				   "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
				   "duration_ms FROM mreg.schema_migrations "
				   "ORDER BY version", 0, NULL,
				   PGRES_TUPLES_OK, err);
		if (!res)
			return -1;
		rows = PQntuples(res);
	} else {
		PQclear(res);
		res = NULL;
	}
	st = calloc(set->count + (size_t)rows + 1, sizeof(*st));
	if (!st) {
		PQclear(res);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (i = 0; i < set->count; i++) {
		const struct mreg_migration *m = &set->items[i];

		st[n].version = m->version;
		snprintf(st[n].name, sizeof(st[n].name), "%s", m->name);
		memcpy(st[n].checksum, m->checksum, sizeof(st[n].checksum));
		st[n].state = MREG_MIG_PENDING;
		st[n].migration = m;
		n++;
	}
	for (r = 0; r < rows; r++) {
		int version = atoi(PQgetvalue(res, r, 0));
		struct mreg_migration_status *s = NULL;

		for (i = 0; i < set->count; i++)
			if (st[i].version == version)
				s = &st[i];
		if (!s) {
			s = &st[n++];
			s->version = version;
			snprintf(s->name, sizeof(s->name), "%s",
				 PQgetvalue(res, r, 1));
			s->state = MREG_MIG_UNKNOWN;
		} else {
			s->state = strcmp(PQgetvalue(res, r, 2), s->checksum)
					   ? MREG_MIG_DRIFTED
					   : MREG_MIG_APPLIED;
		}
		snprintf(s->recorded, sizeof(s->recorded), "%s",
			 PQgetvalue(res, r, 2));
		snprintf(s->applied_at, sizeof(s->applied_at), "%s",
			 PQgetvalue(res, r, 3));
		s->duration_ms = strtod(PQgetvalue(res, r, 4), NULL);
	}
	PQclear(res);
	for (i = 1; i < n; i++) {
		/* insertion sort by version: the list is short */
		struct mreg_migration_status tmp = st[i];
		size_t j = i;

		while (j > 0 && st[j - 1].version > tmp.version) {
			st[j] = st[j - 1];
			j--;
		}
		st[j] = tmp;
	}
	*out = st;
	*count = n;
	return 0;
}

/* --- locking ------------------------------------------------------------ */

/*
 * Who holds the lock: "pid N, \"app\"" in who (or "another session"),
 * the whole description in detail (or "").
 */
static void find_holder(struct mreg_conn *conn, char *who, size_t wlen,
			char *detail, size_t dlen)
{
	struct mreg_error ignored;
	PGresult *res;

	snprintf(who, wlen, "another session");
	detail[0] = '\0';
	res = mreg_db_exec(conn,
			   "SELECT a.pid, coalesce(a.application_name, ''), "
			   "coalesce(a.client_addr::text, 'local socket'), "
			   "to_char(a.backend_start AT TIME ZONE 'UTC', "
			   "'YYYY-MM-DD HH24:MI:SS\"Z\"') "
			   "FROM pg_locks l JOIN pg_stat_activity a "
			   "ON a.pid = l.pid "
			   "WHERE l.locktype = 'advisory' AND l.granted "
			   "AND l.objsubid = 1 AND l.database = (SELECT oid "
			   "FROM pg_database WHERE datname = current_database()) "
			   "AND ((l.classid::bigint << 32) | l.objid::bigint) = "
			   LOCK_KEY_SQL " LIMIT 1",
			   0, NULL, PGRES_TUPLES_OK, &ignored);
	if (res && PQntuples(res) == 1) {
		snprintf(who, wlen, "pid %s, \"%s\"", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1));
		snprintf(detail, dlen, "The lock is held by pid %s (\"%s\", "
			 "%s, connected since %s).",
			 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
			 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	}
	PQclear(res);
}

/* 1 taken, 0 held by another session, -1 error. */
static int try_lock(struct mreg_conn *conn, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, "SELECT pg_try_advisory_lock("
					   LOCK_KEY_SQL ")", 0, NULL,
				     PGRES_TUPLES_OK, err);
	int got;

	if (!res)
		return -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return got;
}

int mreg_migrate_lock(struct mreg_conn *conn, const struct mreg_lock_wait *w,
		      struct mreg_error *err)
{
	double start = now_ms();
	unsigned int seed = (unsigned int)start;
	char who[160], limit[32], detail[sizeof(err->detail)];
	bool said = false;
	int rc;

	for (;;) {
		struct timespec ts;
		double left, pause;

		if ((rc = try_lock(conn, err)) != 0)
			return rc < 0 ? -1 : 0;
		left = w->limit_s * 1e3 - (now_ms() - start);
		if (w->limit_s >= 0 && left <= 0)
			break;
		if (!said && w->waiting) {
			find_holder(conn, who, sizeof(who), detail,
				    sizeof(detail));
			w->waiting(w->arg, who);
		}
		said = true;
		/* 50-150 ms between polls, never past the limit */
		pause = 50 + rand_r(&seed) % 100;
		if (w->limit_s >= 0 && left < pause)
			pause = left;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(pause * 1e6);
		nanosleep(&ts, NULL);
	}
	find_holder(conn, who, sizeof(who), detail, sizeof(detail));
	mreg_lock_wait_text(w->limit_s, limit, sizeof(limit));
	if (w->limit_s > 0)
		mreg_error_set(err, MREG_EXIT_LOCKED, "another mreg migrate is "
			       "running (%s): gave up after waiting %s", who,
			       limit);
	else
		mreg_error_set(err, MREG_EXIT_LOCKED, "another mreg migrate is "
			       "running (%s)", who);
	if (detail[0])
		mreg_error_detail(err, "%s", detail);
	mreg_error_hint(err, "Wait for it to finish, or wait longer: "
			     "--wait=DURATION, or --wait with no limit.");
	return -1;
}

void mreg_migrate_unlock(struct mreg_conn *conn)
{
	struct mreg_error ignored;
	PGresult *res = mreg_db_exec(conn,
				     "SELECT pg_advisory_unlock(" LOCK_KEY_SQL
				     ")", 0, NULL, PGRES_TUPLES_OK, &ignored);

	PQclear(res);
}

int mreg_migrate_bootstrap(struct mreg_conn *conn, struct mreg_error *err)
{
	static const char *const steps[] = {
		"CREATE SCHEMA IF NOT EXISTS mreg",
		"CREATE TABLE IF NOT EXISTS mreg.schema_migrations ("
		" version integer PRIMARY KEY,"
		" name text NOT NULL,"
		" checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
		" applied_at timestamptz NOT NULL DEFAULT now(),"
		" duration_ms double precision NOT NULL,"
		" applied_by text NOT NULL DEFAULT current_user)",
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		/* quiet the NOTICE of IF NOT EXISTS: not an error */
		if (mreg_db_command(conn, steps[i], 0, NULL, err) < 0) {
			mreg_error_prefix(err, "could not create the "
					       "migration bookkeeping");
			return -1;
		}
	}
	return 0;
}

/* --- applying ----------------------------------------------------------- */

/* Fill err's position from a failed statement's result. */
static void locate(struct mreg_error *err, const struct mreg_migration *m,
		   const struct mreg_sql_stmt *stmt, const char *position)
{
	long line = stmt->line, column = 0;

	if (position && *position)
		mreg_sql_position(m->sql, stmt, atol(position), &line, &column);
	mreg_error_at(err, m->name, line, column);
}

static int run_statement(struct mreg_conn *conn,
			 const struct mreg_migration *m,
			 const struct mreg_sql_stmt *stmt,
			 struct mreg_error *err)
{
	char *text = strndup(m->sql + stmt->offset, stmt->len);
	PGresult *res;
	double t0;
	int rc = 0;

	if (!text) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	t0 = mreg_db_clock_ms();
	res = PQexec(conn->pg, text);
	mreg_db_trace_result(MREG_DB_SITE, text, NULL, t0, res,
			     PQresultStatus(res) == PGRES_COMMAND_OK ||
			     PQresultStatus(res) == PGRES_TUPLES_OK);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		mreg_error_from_result(err, res, conn->pg);
		mreg_conn_note_sqlstate(conn, err->sqlstate);
		err->status = MREG_EXIT_FAILURE;
		locate(err, m, stmt,
		       res ? PQresultErrorField(res,
						PG_DIAG_STATEMENT_POSITION)
			   : NULL);
		rc = -1;
	}
	PQclear(res);
	free(text);
	return rc;
}

static int record(struct mreg_conn *conn, const struct mreg_migration *m,
		  const char *actor, double duration_ms,
		  struct mreg_error *err)
{
	char version[16], duration[32];
	const char *params[5];

	snprintf(version, sizeof(version), "%d", m->version);
	snprintf(duration, sizeof(duration), "%.3f", duration_ms);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	params[3] = duration;
	params[4] = actor;
	if (mreg_db_command(conn,
			    "INSERT INTO mreg.schema_migrations "
			    "(version, name, checksum, duration_ms) "
			    "VALUES ($1, $2, $3, $4)", 4, params, err) < 0)
		return -1;
	/* audit once the registry's audit log exists (after 0001) */
	return mreg_db_command(conn,
			       "INSERT INTO mreg.audit_log "
			       "(actor, action, resource, details) "
			       "SELECT $5, 'migration.apply', "
			       "'migrations/' || $1, jsonb_build_object("
			       "'version', $1::int, 'name', $2::text, "
			       "'checksum', $3::text, 'duration_ms', "
			       "$4::float8) "
			       "WHERE to_regclass('mreg.audit_log') IS NOT NULL",
			       5, params, err);
}

/*
 * CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table
 * -> the index name and the table, as written (quotes kept).  Returns 0
 * when stmt is such a statement.
 */
static const char *skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

static const char *word(const char *p, const char *end, const char **w,
			size_t *wlen)
{
	bool quoted = false;

	p = skip_space(p, end);
	*w = p;
	while (p < end) {
		if (*p == '"') {
			if (quoted && p + 1 < end && p[1] == '"') {
				p += 2;
				continue;
			}
			quoted = !quoted;
		} else if (!quoted && (isspace((unsigned char)*p) || *p == '(')) {
			break;
		}
		p++;
	}
	*wlen = (size_t)(p - *w);
	return p;
}

static bool word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

static int parse_cic(const char *sql, size_t len, char *index, size_t ilen,
		     char *table, size_t tlen)
{
	const char *p = sql, *end = sql + len, *w;
	size_t n;

	p = word(p, end, &w, &n);
	if (!word_is(w, n, "create"))
		return -1;
	p = word(p, end, &w, &n);
	if (word_is(w, n, "unique"))
		p = word(p, end, &w, &n);
	if (!word_is(w, n, "index"))
		return -1;
	p = word(p, end, &w, &n);
	if (!word_is(w, n, "concurrently"))
		return -1;
	p = word(p, end, &w, &n);
	if (word_is(w, n, "if")) {
		p = word(p, end, &w, &n); /* not */
		p = word(p, end, &w, &n); /* exists */
		p = word(p, end, &w, &n);
	}
	if (word_is(w, n, "on"))
		return -1; /* unnamed: nothing to look for */
	snprintf(index, ilen, "%.*s", (int)n, w);
	p = word(p, end, &w, &n);
	if (!word_is(w, n, "on"))
		return -1;
	p = word(p, end, &w, &n);
	if (word_is(w, n, "only"))
		p = word(p, end, &w, &n);
	snprintf(table, tlen, "%.*s", (int)n, w);
	return 0;
}

/*
 * If an index of that name exists on that table's schema and is INVALID
 * (left by a failed CONCURRENTLY build), drop it.  *dropped says so.
 */
static int drop_invalid_index(struct mreg_conn *conn, const char *index,
			      const char *table, bool *dropped,
			      struct mreg_error *err)
{
	const char *params[2] = { index, table };
	char *drop = NULL;
	PGresult *res;
	int rc = 0;

	*dropped = false;
	/* the server unquotes and requotes: identifiers, never values */
	res = mreg_db_exec(conn,
			   "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS "
			   "%I.%I', n.nspname, c.relname) "
			   "FROM pg_index i "
			   "JOIN pg_class c ON c.oid = i.indexrelid "
			   "JOIN pg_namespace n ON n.oid = c.relnamespace "
			   "WHERE NOT i.indisvalid "
			   "AND c.relname = (parse_ident($1))[1] "
			   "AND i.indrelid = to_regclass($2)",
			   2, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		drop = strdup(PQgetvalue(res, 0, 0));
		if (!drop || mreg_db_command(conn, drop, 0, NULL, err) < 0)
			rc = -1;
		else
			*dropped = true;
	}
	free(drop);
	PQclear(res);
	return rc;
}

static int apply_no_transaction(struct mreg_conn *conn,
				const struct mreg_migration *m,
				const struct mreg_sql_stmt *stmts, size_t n,
				struct mreg_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char index[256], table[512];
		bool cic, dropped;

		cic = parse_cic(m->sql + stmts[i].offset, stmts[i].len, index,
				sizeof(index), table, sizeof(table)) == 0;
		if (cic && drop_invalid_index(conn, index, table, &dropped,
					      err) < 0)
			return -1;
		if (run_statement(conn, m, &stmts[i], err) == 0)
			continue;
		if (cic && PQstatus(conn->pg) == CONNECTION_OK) {
			struct mreg_error ignored;

			/* leave no INVALID index behind */
			drop_invalid_index(conn, index, table, &dropped,
					   &ignored);
			if (dropped)
				mreg_error_hint(err, "The INVALID index \"%s\" "
						     "the failed build left "
						     "was dropped.", index);
		}
		return -1;
	}
	return 0;
}

int mreg_migrate_apply(struct mreg_conn *conn, const struct mreg_migration *m,
		       const char *actor, double lock_timeout_s,
		       double *duration_ms, struct mreg_error *err)
{
	struct mreg_sql_stmt *stmts = NULL;
	char timeout[32];
	const char *params[1] = { timeout };
	double start = now_ms();
	size_t n = 0, i;
	int rc = -1;

	if (mreg_sql_split(m->sql, m->len, &stmts, &n, err) < 0) {
		err->status = MREG_EXIT_DATA;
		mreg_error_at(err, m->name, err->line, 0);
		return -1;
	}
	snprintf(timeout, sizeof(timeout), "%ldms",
		 (long)(lock_timeout_s * 1000.0));
	if (m->no_transaction) {
		PGresult *res = mreg_db_exec(conn, "SELECT set_config("
					     "'lock_timeout', $1, false)", 1,
					     params, PGRES_TUPLES_OK, err);

		if (!res)
			goto done;
		PQclear(res);
		if (apply_no_transaction(conn, m, stmts, n, err) < 0) {
			mreg_db_command(conn, "RESET lock_timeout", 0, NULL,
					&(struct mreg_error){ 0 });
			goto done;
		}
		if (mreg_db_command(conn, "RESET lock_timeout", 0, NULL,
				    err) < 0 ||
		    mreg_db_begin(conn, err) < 0)
			goto done;
	} else {
		PGresult *res;

		if (mreg_db_begin(conn, err) < 0)
			goto done;
		res = mreg_db_exec(conn, "SELECT set_config('lock_timeout', "
					 "$1, true)", 1, params,
				   PGRES_TUPLES_OK, err);
		if (!res)
			goto rollback;
		PQclear(res);
		for (i = 0; i < n; i++)
			if (run_statement(conn, m, &stmts[i], err) < 0)
				goto rollback;
	}
	*duration_ms = now_ms() - start;
	if (record(conn, m, actor, *duration_ms, err) < 0 ||
	    mreg_db_commit(conn, err) < 0)
		goto rollback;
	rc = 0;
	goto done;
rollback:
	mreg_db_rollback(conn);
done:
	free(stmts);
	return rc;
}
