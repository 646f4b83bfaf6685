/* db.c - running statements on a pooled connection (see db.h) */
#include "db.h"

#include <ctype.h>
#include <stdint.h>
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

/* Send a COPY statement and see it enter the state expect (COPY_IN or
 * COPY_OUT): 0, or -1 with err filled and the failure traced. */
static int copy_start(struct mreg_db_site site, struct mreg_conn *conn,
		      const char *copy_sql, ExecStatusType expect,
		      double t0_ms, struct mreg_error *err)
{
	PGresult *res = PQexec(conn->pg, copy_sql);

	if (!res || PQresultStatus(res) != expect)
		mreg_db_trace_result(site, copy_sql, NULL, t0_ms, res, false);
	res = mreg_db_check(conn, res, expect, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int mreg_copy_begin_at(struct mreg_db_site site, struct mreg_copy *cp,
		       struct mreg_conn *conn, const char *copy_sql,
		       struct mreg_error *err)
{
	memset(cp, 0, sizeof(*cp));
	cp->conn = conn;
	cp->site = site;
	cp->sql = copy_sql;
	cp->t0_ms = mreg_db_clock_ms();
	return copy_start(site, conn, copy_sql, PGRES_COPY_IN, cp->t0_ms, err);
}

/*
 * Does any of the eight bytes at p need an escape in COPY's text format
 * ('\\', '\t', '\n', '\r')?  Maybe, when a byte is below 0x0e or is
 * '\\' (the loop below decides): the word-at-a-time tests for a byte
 * less than n and for a zero byte (of the word xor '\\'), exact for
 * the word as a whole.
 */
static bool copy_special8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
	uint64_t w, x;

	memcpy(&w, p, 8);
	x = w ^ (ones * '\\');
	return (((w - ones * 0x0e) & ~w) | ((x - ones) & ~x)) & highs;
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
			char c;

			/* eight bytes a step while none needs an escape */
			while (n - i >= 8 && !copy_special8(v + i)) {
				memcpy(o, v + i, 8);
				o += 8;
				i += 8;
			}
			if (i == n)
				break;
			c = v[i];
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

/* ---- COPY TO STDOUT (FORMAT binary) ---------------------------------------- */

static const char copy_signature[11] = "PGCOPY\n\377\r\n";

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	       (uint32_t)u[2] << 8 | u[3];
}

int mreg_copy_out_begin_at(struct mreg_db_site site, struct mreg_copy_out *co,
			   struct mreg_conn *conn, const char *copy_sql,
			   struct mreg_error *err)
{
	memset(co, 0, sizeof(*co));
	co->conn = conn;
	co->site = site;
	co->sql = copy_sql;
	co->t0_ms = mreg_db_clock_ms();
	if (copy_start(site, conn, copy_sql, PGRES_COPY_OUT, co->t0_ms,
		       err) < 0)
		return -1;
	co->active = true;
	return 0;
}

/* The server's COPY data is not what binary COPY looks like. */
static int copy_out_malformed(struct mreg_copy_out *co, const char *what,
			      struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE,
		       "the server's COPY data is malformed (%s)", what);
	mreg_copy_out_close(co);
	return -1;
}

/*
 * Parse one row (or the header, or the trailer) from the bytes held: 1 a
 * row, 0 more bytes needed, 2 the trailer, -1 malformed (what set).
 */
static int copy_out_parse(struct mreg_copy_out *co, const char **what)
{
	const char *p = co->buf + co->off, *end = co->buf + co->len;
	uint32_t ext, flen;
	int n, i;

	if (!co->header_done) {
		if (end - p < 19)
			return 0;
		if (memcmp(p, copy_signature, sizeof(copy_signature)) != 0) {
			*what = "no binary COPY signature";
			return -1;
		}
		if (be32(p + 11) & 0xffff0000u) { /* OIDs or unknown flags */
			*what = "unexpected header flags";
			return -1;
		}
		ext = be32(p + 15);
		if ((size_t)(end - p - 19) < ext)
			return 0;
		co->off += 19 + ext;
		co->header_done = true;
		p = co->buf + co->off;
	}
	if (end - p < 2)
		return 0;
	n = (int16_t)((uint16_t)(unsigned char)p[0] << 8 | (unsigned char)p[1]);
	if (n == -1) {
		co->off += 2;
		return 2;
	}
	if (n < 0 || n > MREG_COPY_OUT_MAX_FIELDS) {
		*what = "a row of an unexpected number of fields";
		return -1;
	}
	p += 2;
	for (i = 0; i < n; i++) {
		if (end - p < 4)
			return 0;
		flen = be32(p);
		p += 4;
		if (flen == 0xffffffffu) {
			co->field[i] = NULL;
			co->flen[i] = -1;
			continue;
		}
		if (flen > 0x7fffffffu) {
			*what = "a field of negative length";
			return -1;
		}
		if ((size_t)(end - p) < flen)
			return 0;
		co->field[i] = p;
		co->flen[i] = (int)flen;
		p += flen;
	}
	co->nfields = n;
	co->off = (size_t)(p - co->buf);
	return 1;
}

/* Append the next chunk of COPY data: 1, 0 at the end of the data, -1. */
static int copy_out_fill(struct mreg_copy_out *co, struct mreg_error *err)
{
	char *chunk = NULL, *nb;
	size_t need;
	int n;

	if (co->off > 0) { /* drop what was parsed */
		memmove(co->buf, co->buf + co->off, co->len - co->off);
		co->len -= co->off;
		co->off = 0;
	}
	n = PQgetCopyData(co->conn->pg, &chunk, 0);
	if (n == -1)
		return 0;
	if (n < 0) {
		mreg_error_from_result(err, NULL, co->conn->pg);
		note_failure(co->conn, err);
		return -1;
	}
	need = co->len + (size_t)n;
	if (need > co->cap) {
		size_t cap = co->cap ? co->cap : 8192;

		while (cap < need)
			cap *= 2;
		nb = realloc(co->buf, cap);
		if (!nb) {
			PQfreemem(chunk);
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
		co->buf = nb;
		co->cap = cap;
	}
	memcpy(co->buf + co->len, chunk, (size_t)n);
	co->len += (size_t)n;
	PQfreemem(chunk);
	return 1;
}

/* The end of the data: the COPY's own result. */
static int copy_out_finish(struct mreg_copy_out *co, bool trailer,
			   struct mreg_error *err)
{
	PGresult *res = PQgetResult(co->conn->pg);

	mreg_db_trace_result(co->site, co->sql, NULL, co->t0_ms, res,
			     res && PQresultStatus(res) == PGRES_COMMAND_OK);
	co->sql = NULL;
	res = mreg_db_check(co->conn, res, PGRES_COMMAND_OK, err);
	if (!res) {
		mreg_copy_out_close(co);
		return -1;
	}
	PQclear(res);
	if (!trailer || co->off != co->len)
		return copy_out_malformed(co, trailer ? "data after the end"
						      : "no end marker", err);
	mreg_copy_out_close(co);
	return 0;
}

int mreg_copy_out_next(struct mreg_copy_out *co, struct mreg_error *err)
{
	const char *what = NULL;
	int rc;

	if (!co->active)
		return 0;
	for (;;) {
		rc = copy_out_parse(co, &what);
		if (rc == 1) {
			co->rows++;
			return 1;
		}
		if (rc < 0)
			return copy_out_malformed(co, what, err);
		if (rc == 2) {
			/* nothing may follow the trailer but the end */
			while ((rc = copy_out_fill(co, err)) > 0)
				;
			if (rc < 0) {
				mreg_copy_out_close(co);
				return -1;
			}
			return copy_out_finish(co, true, err);
		}
		rc = copy_out_fill(co, err);
		if (rc < 0) {
			mreg_copy_out_close(co);
			return -1;
		}
		if (rc == 0)
			return copy_out_finish(co, false, err);
	}
}

void mreg_copy_out_close(struct mreg_copy_out *co)
{
	PGresult *res;
	char *chunk;

	if (co->active) {
		co->active = false;
		while (PQgetCopyData(co->conn->pg, &chunk, 0) > 0)
			PQfreemem(chunk);
		while ((res = PQgetResult(co->conn->pg)) != NULL)
			PQclear(res);
		if (co->sql) /* closed early */
			mreg_db_trace_rows(co->site, co->sql, NULL, co->t0_ms,
					   co->rows, NULL);
		co->sql = NULL;
	}
	free(co->buf);
	co->buf = NULL;
	co->len = co->off = co->cap = 0;
}

long long mreg_copy_out_int8(const struct mreg_copy_out *co, int i)
{
	const char *p = co->field[i];

	if (co->flen[i] != 8)
		return 0;
	return (long long)((uint64_t)be32(p) << 32 | be32(p + 4));
}

bool mreg_copy_out_bool(const struct mreg_copy_out *co, int i)
{
	return co->flen[i] == 1 && co->field[i][0] != 0;
}

void mreg_array_element(struct mreg_strbuf *b, const char *s, size_t n,
			bool first)
{
	size_t i, from = 0;

	mreg_strbuf_puts(b, first ? "\"" : ",\"");
	for (i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		mreg_strbuf_add(b, s + from, i - from);
		mreg_strbuf_puts(b, "\\");
		from = i;
	}
	mreg_strbuf_add(b, s + from, n - from);
	mreg_strbuf_puts(b, "\"");
}
