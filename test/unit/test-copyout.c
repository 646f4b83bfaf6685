/* test-copyout.c - COPY TO STDOUT (FORMAT binary) read row by row (db.h),
 * against the sandbox database: exact values, many rows, a row too big for
 * one read, an error and a dead server half-way, stopping early; and the
 * other way, COPY FROM STDIN's text escaping (mreg_copy_fieldn): every
 * byte that needs an escape at every offset of an eight-byte step
 *
 * Needs the PG* environment of test/pg-sandbox; without a database every
 * test fails (Bail out), it never skips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pool.h"
#include "tap.h"

static struct mreg_pool *pool;

static struct mreg_conn *conn(void)
{
	struct mreg_error err;
	struct mreg_conn *c = mreg_pool_acquire(pool, &err);

	if (!c)
		bail_out(err.message);
	return c;
}

/* The connection still answers (the COPY left it idle). */
static int answers(struct mreg_conn *c)
{
	struct mreg_error err;
	PGresult *res = mreg_db_exec(c, "SELECT 41 + 1", 0, NULL,
				     PGRES_TUPLES_OK, &err);
	int ok_ = res && strcmp(PQgetvalue(res, 0, 0), "42") == 0;

	PQclear(res);
	return ok_;
}

static int field_is(const struct mreg_copy_out *co, int i, const char *want)
{
	return co->flen[i] == (int)strlen(want) &&
	       memcmp(co->field[i], want, strlen(want)) == 0;
}

static void test_values(void)
{
	struct mreg_conn *c = conn();
	struct mreg_copy_out co;
	struct mreg_error err;
	int rc;

	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT (-9223372036854775807 - 1)::int8, 9223372036854775807::int8,"
		" 0::int8, -1::int8, true, false, NULL::text, ''::text,"
		" E'tab\\there\\nnew line \\\\ back\\\\slash \\u00e9\\u4e2d\\U0001F600'::text,"
		" 'x'::text)"
		" TO STDOUT (FORMAT binary)", &err);
	is_int(rc, 0, "a COPY begins");
	rc = mreg_copy_out_next(&co, &err);
	is_int(rc, 1, "one row");
	is_int(co.nfields, 10, "... of ten fields");
	ok(mreg_copy_out_int8(&co, 0) == INT64_MIN &&
	   mreg_copy_out_int8(&co, 1) == INT64_MAX &&
	   mreg_copy_out_int8(&co, 2) == 0 && mreg_copy_out_int8(&co, 3) == -1,
	   "int8: the extremes, 0 and -1 exactly");
	ok(mreg_copy_out_bool(&co, 4) && !mreg_copy_out_bool(&co, 5),
	   "bool: true and false");
	is_int(co.flen[6], -1, "NULL: length -1");
	ok(co.flen[7] == 0, "the empty string: length 0, not NULL");
	ok(field_is(&co, 8, "tab\there\nnew line \\ back\\slash \xc3\xa9"
			    "\xe4\xb8\xad\xf0\x9f\x98\x80"),
	   "text: tabs, newlines, backslashes and UTF-8 byte for byte");
	ok(field_is(&co, 9, "x"), "the last field");
	is_int(mreg_copy_out_next(&co, &err), 0, "then the end");
	is_int(mreg_copy_out_next(&co, &err), 0, "... and the end again");
	mreg_copy_out_close(&co);
	ok(answers(c), "the connection is idle again");
	mreg_pool_release(pool, c);
}

static void test_many_and_big(void)
{
	struct mreg_conn *c = conn();
	struct mreg_copy_out co;
	struct mreg_error err;
	long n = 0, sum = 0, bad = 0;
	int rc;

	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT g::int8, repeat('ab', g % 50) FROM"
		" generate_series(1, 20000) g) TO STDOUT (FORMAT binary)", &err);
	while (rc >= 0 && (rc = mreg_copy_out_next(&co, &err)) > 0) {
		long g = (long)mreg_copy_out_int8(&co, 0);

		n++;
		sum += g;
		if (co.nfields != 2 || co.flen[1] != (int)(2 * (g % 50)))
			bad++;
	}
	is_int(rc, 0, "20,000 rows end cleanly");
	ok(n == 20000 && sum == 20000L * 20001 / 2 && bad == 0,
	   "every row, once, with its fields (%ld rows)", n);
	is_int(co.rows, 20000, "the rows are counted");
	mreg_copy_out_close(&co);

	/* one field of 3 MB: more than any one read brings */
	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT repeat('0123456789', 300000), 7::int8)"
		" TO STDOUT (FORMAT binary)", &err);
	rc = rc == 0 ? mreg_copy_out_next(&co, &err) : rc;
	ok(rc == 1 && co.flen[0] == 3000000 &&
	   memcmp(co.field[0] + 2999990, "0123456789", 10) == 0 &&
	   mreg_copy_out_int8(&co, 1) == 7, "a 3 MB field arrives whole");
	is_int(mreg_copy_out_next(&co, &err), 0, "... then the end");
	mreg_copy_out_close(&co);
	ok(answers(c), "the connection is idle again");
	mreg_pool_release(pool, c);
}

static void test_failures(void)
{
	struct mreg_conn *c = conn();
	struct mreg_copy_out co;
	struct mreg_error err;
	long n = 0;
	int rc;

	/* the server fails after 499 rows */
	mreg_error_clear(&err);
	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT 1 / (g - 500) FROM generate_series(1, 1000) g)"
		" TO STDOUT (FORMAT binary)", &err);
	while (rc >= 0 && (rc = mreg_copy_out_next(&co, &err)) > 0)
		n++;
	ok(rc == -1 && n == 499, "an error half-way: -1 after the rows before it (%ld)", n);
	is_str(err.sqlstate, "22012", "... with the server's SQLSTATE");
	ok(strstr(err.message, "division by zero") != NULL,
	   "... and message: %s", err.message);
	mreg_copy_out_close(&co);
	ok(answers(c), "the connection is idle again");

	/* stopped early: the rest is read and dropped */
	n = 0;
	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT g FROM generate_series(1, 100000) g)"
		" TO STDOUT (FORMAT binary)", &err);
	while (rc >= 0 && n < 10 && (rc = mreg_copy_out_next(&co, &err)) > 0)
		n++;
	mreg_copy_out_close(&co);
	ok(n == 10 && answers(c), "closed after 10 of 100,000 rows: the "
				  "connection answers the next query");

	/* a statement that is not a COPY TO STDOUT, and a bad one */
	mreg_error_clear(&err);
	ok(mreg_copy_out_begin(&co, c, "SELECT 1", &err) == -1,
	   "not a COPY: refused");
	mreg_error_clear(&err);
	ok(mreg_copy_out_begin(&co, c, "COPY (SELECT nope) TO STDOUT", &err) == -1 &&
	   strcmp(err.sqlstate, "42703") == 0, "a bad COPY: the server's error");
	ok(answers(c), "the connection still answers");

	/* the server goes away half-way (the backend ends itself at row 500) */
	n = 0;
	mreg_error_clear(&err);
	rc = mreg_copy_out_begin(&co, c,
		"COPY (SELECT g, CASE WHEN g = 500 THEN"
		" pg_terminate_backend(pg_backend_pid()) END"
		" FROM generate_series(1, 100000) g) TO STDOUT (FORMAT binary)",
		&err);
	while (rc >= 0 && (rc = mreg_copy_out_next(&co, &err)) > 0)
		n++;
	ok(rc == -1 && n < 100000, "a dead server half-way: -1 after %ld rows", n);
	ok(err.message[0] != '\0', "... with a message: %s", err.message);
	mreg_copy_out_close(&co);
	ok(PQstatus(c->pg) == CONNECTION_BAD, "... and the connection is marked dead");
	mreg_pool_release(pool, c);
}

/* One text per row into a temporary table, and back, in order. */
static void test_copy_in(void)
{
	static const char specials[] = { '\\', '\t', '\n', '\r', 0x01, 0x0d,
					 0x0e, 0x1f, 0x5b, 0x5d, 0x7f };
	struct mreg_conn *c = conn();
	struct mreg_copy cp;
	struct mreg_error err;
	PGresult *res;
	char texts[300][40];
	size_t lens[300], n = 0, i, k, at, len;
	int same = 0, rc;

	/* each byte above (those COPY escapes and their neighbours) at each
	 * offset of texts of 1 to 24 bytes of 'a' (plain: the eight-byte
	 * step), some ending in UTF-8 */
	for (k = 0; k < sizeof(specials); k++)
		for (at = 0; at < 24; at++) {
			len = 1 + (at * 7 + k) % 24;
			if (at >= len)
				len = at + 1;
			memset(texts[n], 'a', len);
			if (k % 3 == 0 && len >= at + 6)
				memcpy(texts[n] + len - 5, "\xc3\xa9\xe4\xb8\xad", 5);
			texts[n][at] = specials[k];
			lens[n++] = len;
		}
	rc = mreg_db_command(c, "CREATE TEMP TABLE copy_in_t (i int, v text)",
			     0, NULL, &err);
	is_int(rc, 0, "a table for the round trip");
	rc = mreg_copy_begin(&cp, c, "COPY copy_in_t (i, v) FROM STDIN", &err);
	is_int(rc, 0, "a COPY FROM STDIN begins");
	for (i = 0; i < n; i++) {
		char num[16];

		snprintf(num, sizeof(num), "%zu", i);
		mreg_copy_field(&cp, num);
		mreg_copy_fieldn(&cp, texts[i], lens[i]);
		mreg_copy_row(&cp);
	}
	is_int(mreg_copy_end(&cp, &err), (long)n, "%zu rows copied", n);
	res = mreg_db_exec(c, "SELECT v FROM copy_in_t ORDER BY i", 0, NULL,
			   PGRES_TUPLES_OK, &err);
	ok(res && (size_t)PQntuples(res) == n, "read back");
	for (i = 0; res && i < n && i < (size_t)PQntuples(res); i++) {
		if ((size_t)PQgetlength(res, (int)i, 0) == lens[i] &&
		    memcmp(PQgetvalue(res, (int)i, 0), texts[i], lens[i]) == 0)
			same++;
		else
			diag("  row %zu differs", i);
	}
	is_int(same, (int)n, "every text came back as written");
	PQclear(res);
	mreg_pool_release(pool, c);
}

int main(void)
{
	struct mreg_pool_config cfg = { .max_size = 2,
					.application_name = "mreg test-copyout" };
	struct mreg_error err;

	pool = mreg_pool_create(&cfg, &err);
	if (!pool)
		bail_out(err.message);
	test_values();
	test_many_and_big();
	test_failures();
	test_copy_in();
	mreg_pool_destroy(pool);
	return tap_done();
}
