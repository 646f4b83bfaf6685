/* db.c - running statements on a pooled connection (see db.h) */
#include "db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- tracing ------------------------------------------------------------- */

static struct mreg_db_trace trace; /* set before threads start */

void mreg_db_set_trace(const struct mreg_db_trace *t)
{
	if (t)
		trace = *t;
	else
		memset(&trace, 0, sizeof(trace));
}

bool mreg_db_tracing(void)
{
	return trace.statement != NULL;
}

double mreg_db_clock_ms(void)
{
	struct timespec ts;

	if (!trace.statement)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The first word of sql (skipping blanks and comments), upper-cased. */
static void sql_verb(const char *sql, char *out, size_t len)
{
	size_t n = 0;

	while (sql && *sql) {
		if (isspace((unsigned char)*sql)) {
			sql++;
		} else if (sql[0] == '-' && sql[1] == '-') {
			sql += strcspn(sql, "\n");
		} else if (sql[0] == '/' && sql[1] == '*') {
			const char *end = strstr(sql + 2, "*/");

			sql = end ? end + 2 : sql + strlen(sql);
		} else {
			break;
		}
	}
	while (sql && isalpha((unsigned char)*sql) && n + 1 < len)
		out[n++] = (char)toupper((unsigned char)*sql++);
	out[n] = '\0';
}

void mreg_db_stmt_name(const struct mreg_db_stmt *s, char *buf, size_t len)
{
	const char *file = s->site.file ? s->site.file : "?";
	const char *func = s->site.func ? s->site.func : "?";
	const char *slash = strrchr(file, '/');
	size_t flen, mlen;
	char verb[24];

	file = slash ? slash + 1 : file;
	flen = strcspn(file, ".");
	if (strncmp(func, "mreg_", 5) == 0)
		func += 5;
	/* the module's own prefix: listing_page in listing.c */
	mlen = strcspn(file, ".-");
	if (mlen < strlen(func) && strncmp(func, file, mlen) == 0 &&
	    func[mlen] == '_')
		func += mlen + 1;
	if (s->prepared)
		snprintf(verb, sizeof(verb), "%s", s->prepared);
	else
		sql_verb(s->sql, verb, sizeof(verb));
	snprintf(buf, len, "%.*s.%s%s%s%s", (int)flen, file, func,
		 verb[0] ? " (" : "", verb, verb[0] ? ")" : "");
}

void mreg_db_trace_rows(struct mreg_db_site site, const char *sql,
			const char *prepared, double t0_ms, long rows,
			const char *sqlstate)
{
	struct mreg_db_stmt st = { .site = site, .sql = sql,
				   .prepared = prepared, .rows = rows,
				   .sqlstate = sqlstate };

	if (!trace.statement)
		return;
	st.ms = mreg_db_clock_ms() - t0_ms;
	trace.statement(trace.arg, &st);
}

void mreg_db_trace_result(struct mreg_db_site site, const char *sql,
			  const char *prepared, double t0_ms,
			  const PGresult *res, bool ok)
{
	const char *state = NULL;
	long rows = -1;

	if (!trace.statement)
		return;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
		rows = PQntuples(res);
	else if (res && PQcmdTuples((PGresult *)res)[0])
		rows = strtol(PQcmdTuples((PGresult *)res), NULL, 10);
	if (!ok) {
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (!state || !*state)
			state = "08006";
	}
	mreg_db_trace_rows(site, sql, prepared, t0_ms, rows, state);
}

void mreg_db_trace_connected(PGconn *pg)
{
	if (trace.connected && pg)
		trace.connected(trace.arg, PQhost(pg), PQport(pg), PQdb(pg));
}

static void note_failure(struct mreg_conn *conn, struct mreg_error *err)
{
	if (PQstatus(conn->pg) != CONNECTION_OK && !err->sqlstate[0])
		memcpy(err->sqlstate, "08006", 6);
	mreg_conn_note_sqlstate(conn, err->sqlstate);
}

PGresult *mreg_db_check(struct mreg_conn *conn, PGresult *res,
			ExecStatusType expect, struct mreg_error *err)
{
	struct mreg_error ignored;

	if (res && PQresultStatus(res) == expect)
		return res;
	if (!err)
		err = &ignored; /* the caller does not want the details */
	if (res && PQresultStatus(res) != PGRES_FATAL_ERROR &&
	    PQresultStatus(res) != PGRES_NONFATAL_ERROR) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "unexpected result from the server: %s "
			       "(expected %s)",
			       PQresStatus(PQresultStatus(res)),
			       PQresStatus(expect));
	} else {
		mreg_error_from_result(err, res, conn->pg);
	}
	note_failure(conn, err);
	PQclear(res);
	return NULL;
}

/* Trace res (when tracing), then check it. */
static PGresult *traced_check(struct mreg_db_site site, const char *sql,
			      const char *prepared, double t0,
			      struct mreg_conn *conn, PGresult *res,
			      ExecStatusType expect, struct mreg_error *err)
{
	mreg_db_trace_result(site, sql, prepared, t0, res,
			     res && PQresultStatus(res) == expect);
	return mreg_db_check(conn, res, expect, err);
}

PGresult *mreg_db_exec_at(struct mreg_db_site site, struct mreg_conn *conn,
			  const char *sql, int nparams,
			  const char *const *values, ExecStatusType expect,
			  struct mreg_error *err)
{
	double t0 = mreg_db_clock_ms();
	PGresult *res = PQexecParams(conn->pg, sql, nparams, NULL, values,
				     NULL, NULL, 0);

	return traced_check(site, sql, NULL, t0, conn, res, expect, err);
}

PGresult *mreg_db_exec_prepared_at(struct mreg_db_site site,
				   struct mreg_conn *conn, const char *name,
				   int nparams, const char *const *values,
				   ExecStatusType expect,
				   struct mreg_error *err)
{
	double t0 = mreg_db_clock_ms();
	PGresult *res = PQexecPrepared(conn->pg, name, nparams, values, NULL,
				       NULL, 0);

	return traced_check(site, NULL, name, t0, conn, res, expect, err);
}

int mreg_db_command_at(struct mreg_db_site site, struct mreg_conn *conn,
		       const char *sql, int nparams,
		       const char *const *values, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec_at(site, conn, sql, nparams, values,
					PGRES_COMMAND_OK, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int mreg_db_begin_at(struct mreg_db_site site, struct mreg_conn *conn,
		     struct mreg_error *err)
{
	return mreg_db_command_at(site, conn, "BEGIN", 0, NULL, err);
}

int mreg_db_commit_at(struct mreg_db_site site, struct mreg_conn *conn,
		      struct mreg_error *err)
{
	double t0 = mreg_db_clock_ms();
	PGresult *res = PQexec(conn->pg, "COMMIT");

	mreg_db_trace_result(site, "COMMIT", NULL, t0, res,
			     res && PQresultStatus(res) == PGRES_COMMAND_OK);

	/* COMMIT of a failed transaction answers ROLLBACK, not an error */
	if (res && PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		PQclear(res);
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "the transaction was rolled back");
		return -1;
	}
	res = mreg_db_check(conn, res, PGRES_COMMAND_OK, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

void mreg_db_rollback_at(struct mreg_db_site site, struct mreg_conn *conn)
{
	PGTransactionStatusType ts;
	PGresult *res;
	double t0;

	if (!conn || !conn->pg)
		return;
	ts = PQtransactionStatus(conn->pg);
	if (ts == PQTRANS_IDLE)
		return;
	if (ts == PQTRANS_ACTIVE || ts == PQTRANS_UNKNOWN) {
		/* a query is still running or the link is gone */
		mreg_conn_note_sqlstate(conn, "08006");
		return;
	}
	t0 = mreg_db_clock_ms();
	res = PQexec(conn->pg, "ROLLBACK");
	mreg_db_trace_result(site, "ROLLBACK", NULL, t0, res,
			     PQresultStatus(res) == PGRES_COMMAND_OK);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		mreg_conn_note_sqlstate(conn, "08006");
	PQclear(res);
}

/* --- COPY FROM STDIN ---------------------------------------------------- */

#define COPY_FLUSH_AT (64 * 1024)

static int copy_reserve(struct mreg_copy *cp, size_t more)
{
	size_t cap;
	char *p;

	if (cp->len + more <= cp->cap)
		return 0;
	cap = cp->cap ? cp->cap : COPY_FLUSH_AT * 2;
	while (cap < cp->len + more)
		cap *= 2;
	p = realloc(cp->buf, cap);
	if (!p) {
		cp->failed = 1;
		return -1;
	}
	cp->buf = p;
	cp->cap = cap;
	return 0;
}

static int copy_flush(struct mreg_copy *cp)
{
	if (cp->failed)
		return -1;
	if (cp->len == 0)
		return 0;
	if (PQputCopyData(cp->conn->pg, cp->buf, (int)cp->len) != 1) {
		cp->failed = 1;
		return -1;
	}
	cp->len = 0;
	return 0;
}

int mreg_copy_begin_at(struct mreg_db_site site, struct mreg_copy *cp,
		       struct mreg_conn *conn, const char *copy_sql,
		       struct mreg_error *err)
{
	PGresult *res;

	memset(cp, 0, sizeof(*cp));
	cp->conn = conn;
	cp->site = site;
	cp->sql = copy_sql;
	cp->t0_ms = mreg_db_clock_ms();
	res = PQexec(conn->pg, copy_sql);
	if (!res || PQresultStatus(res) != PGRES_COPY_IN)
		mreg_db_trace_result(site, copy_sql, NULL, cp->t0_ms, res,
				     false);
	res = mreg_db_check(conn, res, PGRES_COPY_IN, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int mreg_copy_fieldn(struct mreg_copy *cp, const char *v, size_t n)
{
	size_t i;
	char *o;

	if (cp->failed)
		return -1;
	/* worst case every byte doubles, plus separator and \N */
	if (copy_reserve(cp, n * 2 + 3) < 0)
		return -1;
	o = cp->buf + cp->len;
	if (cp->fields++ > 0)
		*o++ = '\t';
	if (!v) {
		*o++ = '\\';
		*o++ = 'N';
	} else {
		for (i = 0; i < n; i++) {
			char c = v[i];

			switch (c) {
			case '\\': *o++ = '\\'; *o++ = '\\'; break;
			case '\t': *o++ = '\\'; *o++ = 't'; break;
			case '\n': *o++ = '\\'; *o++ = 'n'; break;
			case '\r': *o++ = '\\'; *o++ = 'r'; break;
			default: *o++ = c;
			}
		}
	}
	cp->len = (size_t)(o - cp->buf);
	return 0;
}

int mreg_copy_field(struct mreg_copy *cp, const char *value)
{
	return mreg_copy_fieldn(cp, value, value ? strlen(value) : 0);
}

int mreg_copy_row(struct mreg_copy *cp)
{
	if (cp->failed || copy_reserve(cp, 1) < 0)
		return -1;
	cp->buf[cp->len++] = '\n';
	cp->fields = 0;
	cp->rows++;
	if (cp->len >= COPY_FLUSH_AT)
		return copy_flush(cp);
	return 0;
}

static void copy_drain(struct mreg_copy *cp)
{
	PGresult *res;

	while ((res = PQgetResult(cp->conn->pg)) != NULL)
		PQclear(res);
	free(cp->buf);
	cp->buf = NULL;
	cp->len = cp->cap = 0;
}

long mreg_copy_end(struct mreg_copy *cp, struct mreg_error *err)
{
	PGresult *res;
	long rows = -1;
	struct mreg_error ignored;

	if (!err)
		err = &ignored;
	if (copy_flush(cp) < 0 || PQputCopyEnd(cp->conn->pg, NULL) != 1) {
		PQputCopyEnd(cp->conn->pg, "client failed to send COPY data");
		res = PQgetResult(cp->conn->pg);
		mreg_db_trace_result(cp->site, cp->sql, NULL, cp->t0_ms, res,
				     false);
		mreg_error_from_result(err, res, cp->conn->pg);
		note_failure(cp->conn, err);
		PQclear(res);
		copy_drain(cp);
		return -1;
	}
	res = PQgetResult(cp->conn->pg);
	mreg_db_trace_result(cp->site, cp->sql, NULL, cp->t0_ms, res,
			     res && PQresultStatus(res) == PGRES_COMMAND_OK);
	res = mreg_db_check(cp->conn, res, PGRES_COMMAND_OK, err);
	if (res) {
		rows = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	copy_drain(cp);
	return rows;
}

void mreg_copy_abort(struct mreg_copy *cp)
{
	if (!cp->conn)
		return;
	if (PQputCopyEnd(cp->conn->pg, "aborted by client") != 1)
		mreg_conn_note_sqlstate(cp->conn, "08006");
	copy_drain(cp);
}
