/* db.c - running statements on a pooled connection (see db.h) */
#include "db.h"

#include <stdlib.h>
#include <string.h>

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

PGresult *mreg_db_exec(struct mreg_conn *conn, const char *sql, int nparams,
		       const char *const *values, ExecStatusType expect,
		       struct mreg_error *err)
{
	PGresult *res = PQexecParams(conn->pg, sql, nparams, NULL, values,
				     NULL, NULL, 0);

	return mreg_db_check(conn, res, expect, err);
}

PGresult *mreg_db_exec_prepared(struct mreg_conn *conn, const char *name,
				int nparams, const char *const *values,
				ExecStatusType expect, struct mreg_error *err)
{
	PGresult *res = PQexecPrepared(conn->pg, name, nparams, values, NULL,
				       NULL, 0);

	return mreg_db_check(conn, res, expect, err);
}

int mreg_db_command(struct mreg_conn *conn, const char *sql, int nparams,
		    const char *const *values, struct mreg_error *err)
{
	PGresult *res = mreg_db_exec(conn, sql, nparams, values,
				     PGRES_COMMAND_OK, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int mreg_db_begin(struct mreg_conn *conn, struct mreg_error *err)
{
	return mreg_db_command(conn, "BEGIN", 0, NULL, err);
}

int mreg_db_commit(struct mreg_conn *conn, struct mreg_error *err)
{
	PGresult *res = PQexec(conn->pg, "COMMIT");

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

void mreg_db_rollback(struct mreg_conn *conn)
{
	PGTransactionStatusType ts;
	PGresult *res;

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
	res = PQexec(conn->pg, "ROLLBACK");
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

int mreg_copy_begin(struct mreg_copy *cp, struct mreg_conn *conn,
		    const char *copy_sql, struct mreg_error *err)
{
	PGresult *res;

	memset(cp, 0, sizeof(*cp));
	cp->conn = conn;
	res = PQexec(conn->pg, copy_sql);
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
		mreg_error_from_result(err, res, cp->conn->pg);
		note_failure(cp->conn, err);
		PQclear(res);
		copy_drain(cp);
		return -1;
	}
	res = mreg_db_check(cp->conn, PQgetResult(cp->conn->pg), PGRES_COMMAND_OK, err);
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
