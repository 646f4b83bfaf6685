/* source.c - a source's name, lock and recorded files (see source.h) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelfile.h"
#include "source.h"
#include "utf8.h"

/* --- the name ------------------------------------------------------------ */

const char *mreg_source_name_problem(const char *name, bool given, char *buf,
				     size_t len)
{
	size_t n = strlen(name), i;

	if (n == 0)
		return "empty name";
	if (n > MREG_SOURCE_NAME_MAX) {
		snprintf(buf, len, "too long (%zu bytes, at most %d)", n,
			 MREG_SOURCE_NAME_MAX);
		return buf;
	}
	if (!mreg_utf8_valid(name, n))
		return "not valid UTF-8";
	for (i = 0; given && i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/* --- the lock ------------------------------------------------------------ */

#define LOCK_KEY "hashtextextended('mreg.import:' || $1, 0)"

static const char *const lock_sql =
	"SELECT pg_try_advisory_lock(" LOCK_KEY ")";
static const char *const unlock_sql =
	"SELECT pg_advisory_unlock(" LOCK_KEY ")";
static const char *const holder_sql =
	"WITH k AS (SELECT " LOCK_KEY " AS key)"
	" SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
	" coalesce(host(a.client_addr), 'local socket'),"
	" coalesce(a.usename::text, '?'),"
	" to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')"
	" FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
	" WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
	" AND l.database = (SELECT oid FROM pg_database"
	"                   WHERE datname = current_database())"
	" AND l.classid::text::bigint = (k.key >> 32) & 4294967295"
	" AND l.objid::text::bigint = k.key & 4294967295"
	" AND a.pid <> pg_backend_pid()";

/* 1 taken, 0 held by another session, -1 error. */
static int try_once(struct mreg_conn *conn, const char *source,
		    struct mreg_error *err)
{
	const char *params[1] = { source };
	PGresult *res;
	int taken;

	res = mreg_db_exec(conn, lock_sql, 1, params, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	taken = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return taken;
}

/*
 * Who holds the lock: "pid N, \"app\"" in who (or "another session"),
 * the whole description in detail (or "").
 */
static void find_holder(struct mreg_conn *conn, const char *source,
			char *who, size_t wlen, char *detail, size_t dlen)
{
	const char *params[1] = { source };
	struct mreg_error ignored;
	PGresult *res;

	mreg_error_clear(&ignored);
	snprintf(who, wlen, "another session");
	detail[0] = '\0';
	res = mreg_db_exec(conn, holder_sql, 1, params, PGRES_TUPLES_OK,
			   &ignored);
	if (res && PQntuples(res) > 0) {
		snprintf(who, wlen, "pid %s, \"%s\"", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1));
		snprintf(detail, dlen,
			 "Held by pid %s (%s) from %s as %s, connected since %s.",
			 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
			 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
			 PQgetvalue(res, 0, 4));
	}
	PQclear(res);
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

int mreg_source_lock(struct mreg_conn *conn, const char *source,
		     const struct mreg_lock_wait *w, struct mreg_error *err)
{
	double start = mono_s(), left;
	unsigned int seed = (unsigned int)(start * 1e6);
	char who[160], limit[32], detail[sizeof(err->detail)];
	bool said = false;
	int rc;

	for (;;) {
		if ((rc = try_once(conn, source, err)) != 0)
			return rc;
		left = w->limit_s - (mono_s() - start);
		if (w->limit_s >= 0 && left <= 0)
			break;
		if (!said && w->waiting) {
			find_holder(conn, source, who, sizeof(who), detail,
				    sizeof(detail));
			w->waiting(w->arg, who);
		}
		said = true;
		/* 100-200 ms between tries, never past the limit */
		sleep_s(0.1 + (double)(rand_r(&seed) % 100) / 1000,
			w->limit_s >= 0 ? left : -1);
	}
	find_holder(conn, source, who, sizeof(who), detail, sizeof(detail));
	mreg_lock_wait_text(w->limit_s, limit, sizeof(limit));
	if (w->limit_s > 0)
		mreg_error_set(err, MREG_EXIT_LOCKED,
			       "another import of \"%s\" is running (%s): "
			       "gave up after waiting %s", source, who, limit);
	else
		mreg_error_set(err, MREG_EXIT_LOCKED,
			       "another import of \"%s\" is running", source);
	if (detail[0])
		mreg_error_detail(err, "%s", detail);
	return 0;
}

int mreg_source_try_lock(struct mreg_conn *conn, const char *source,
			 struct mreg_error *err)
{
	const struct mreg_lock_wait once = { 0 };

	return mreg_source_lock(conn, source, &once, err);
}

void mreg_source_unlock(struct mreg_conn *conn, const char *source)
{
	const char *params[1] = { source };
	struct mreg_error ignored;
	PGresult *res;

	mreg_error_clear(&ignored);
	res = mreg_db_exec(conn, unlock_sql, 1, params, PGRES_TUPLES_OK,
			   &ignored);
	PQclear(res);
}

/* --- the recorded files -------------------------------------------------- */

/* Rows of the cursor per round trip: a few MB, whatever the source. */
#define CACHE_FETCH_ROWS 20000
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const load_sql =
	"DECLARE mreg_import_cache NO SCROLL CURSOR FOR"
	" SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device,"
	" s.sha256, s.racy, s.error, s.model_id, p.name || '/' || m.name,"
	" s.artifacts"
	" FROM mreg.source_files s"
	" LEFT JOIN mreg.models m ON m.id = s.model_id"
	" LEFT JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE s.source = $1";
static const char *const fetch_sql =
	"FETCH " STR(CACHE_FETCH_ROWS) " FROM mreg_import_cache";

static long long ll_at(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static char *text_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Row i of load_sql as an entry pointing into res. */
static void entry_from_row(struct mreg_cache_entry *e, const PGresult *res,
			   int i)
{
	memset(e, 0, sizeof(*e));
	e->path = PQgetvalue(res, i, 0);
	e->st.size = ll_at(res, i, 1);
	e->st.mtime_ns = ll_at(res, i, 2);
	e->st.ctime_ns = ll_at(res, i, 3);
	e->st.inode = (uint64_t)ll_at(res, i, 4);
	e->st.device = (uint64_t)ll_at(res, i, 5);
	mreg_digest_from_hex(PQgetvalue(res, i, 6), e->sha256);
	e->racy = PQgetvalue(res, i, 7)[0] == 't';
	e->error = text_at(res, i, 8);
	e->model_id = PQgetisnull(res, i, 9) ? 0 : ll_at(res, i, 9);
	e->key = text_at(res, i, 10);
	e->artifacts = text_at(res, i, 11);
}

int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_cache_entry e;
	PGresult *res = NULL;
	int i, n, rc = -1;

	if (mreg_db_begin(conn, err) < 0)
		return -1;
	if (mreg_db_command(conn, load_sql, 1, params, err) < 0)
		goto cleanup;
	do {
		res = mreg_db_exec(conn, fetch_sql, 0, NULL, PGRES_TUPLES_OK,
				   err);
		if (!res)
			goto cleanup;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			entry_from_row(&e, res, i);
			if (mreg_cache_put(cache, &e) < 0) {
				mreg_error_set(err, MREG_EXIT_FAILURE,
					       "out of memory");
				goto cleanup;
			}
		}
		PQclear(res);
		res = NULL;
	} while (n > 0);
	if (mreg_db_commit(conn, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	PQclear(res);
	if (rc < 0)
		mreg_db_rollback(conn);
	return rc;
}
