/* test-sqlsplit.c - statement splitting and error positions */
#include <stdlib.h>
#include <string.h>

#include "sqlsplit.h"
#include "tap.h"

static size_t split(const char *sql, struct mreg_sql_stmt **st)
{
	struct mreg_error err;
	size_t n = 0;

	if (mreg_sql_split(sql, strlen(sql), st, &n, &err) < 0) {
		diag("split failed: %s (line %ld)", err.message, err.line);
		return (size_t)-1;
	}
	return n;
}

static void check_texts(const char *name, const char *sql,
			const char *const *want, size_t nwant)
{
	struct mreg_sql_stmt *st = NULL;
	size_t n = split(sql, &st), i;

	is_int(n, nwant, "%s: %zu statements", name, nwant);
	for (i = 0; i < n && i < nwant; i++) {
		char buf[512];

		snprintf(buf, sizeof(buf), "%.*s", (int)st[i].len,
			 sql + st[i].offset);
		is_str(buf, want[i], "%s: statement %zu", name, i + 1);
	}
	free(st);
}

int main(void)
{
	struct mreg_sql_stmt *st = NULL;
	struct mreg_error err;
	size_t n;
	long line, col;

	{
		const char *w[] = { "SELECT 1", "SELECT 2" };
		check_texts("plain", "SELECT 1; SELECT 2;", w, 2);
	}
	{
		const char *w[] = { "SELECT ';' AS a", "SELECT 'it''s;'" };
		check_texts("quotes", "SELECT ';' AS a;\nSELECT 'it''s;';", w, 2);
	}
	{
		const char *w[] = { "SELECT E'a\\';b'", "SELECT \"we;ird\"" };
		check_texts("escape strings and identifiers",
			    "SELECT E'a\\';b'; SELECT \"we;ird\";", w, 2);
	}
	{
		const char *w[] = {
			"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS "
			"$body$ SELECT 1; $body$",
			"SELECT $$;$$",
		};
		check_texts("dollar quotes",
			    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS "
			    "$body$ SELECT 1; $body$;\nSELECT $$;$$;", w, 2);
	}
	{
		const char *w[] = { "SELECT $1::int", "SELECT a$b FROM t" };
		check_texts("parameters and $ in identifiers",
			    "SELECT $1::int; SELECT a$b FROM t", w, 2);
	}
	{
		const char *w[] = { "SELECT 1", "SELECT 2 /* ; */" };
		check_texts("comments",
			    "-- leading; comment\nSELECT 1; /* block ; /* nested ; */ */"
			    "\n-- only a comment;\n;SELECT 2 /* ; */",
			    w, 2);
	}
	{
		const char *w[] = { "SELECT 1" };
		check_texts("empty statements and no final semicolon",
			    ";;\n  ; SELECT 1\n\n", w, 1);
	}

	n = split("SELECT 1;\n\n-- c\nCREATE TABLE x (\n  a int,\n  b nope\n);", &st);
	is_int(n, 2, "lines: two statements");
	if (n == 2) {
		is_int(st[0].line, 1, "lines: first statement on line 1");
		is_int(st[1].line, 4, "lines: second starts on line 4, after the comment");
		/* "nope" is character 31 of the statement */
		mreg_sql_position("SELECT 1;\n\n-- c\nCREATE TABLE x (\n  a int,\n  b nope\n);",
				  &st[1], 31, &line, &col);
		is_int(line, 6, "position: line of the error");
		is_int(col, 5, "position: column of the error");
	}
	free(st);

	n = split("SELECT 'é';\nSELECT 'ü' + nope;", &st);
	if (n == 2) {
		mreg_sql_position("SELECT 'é';\nSELECT 'ü' + nope;", &st[1], 14,
				  &line, &col);
		is_int(line, 2, "utf-8: line");
		is_int(col, 14, "utf-8: column counts characters, not bytes");
	} else {
		ok(0, "utf-8: split");
	}
	free(st);

	ok(mreg_sql_split("SELECT 1;\nSELECT 'open", 21, &st, &n, &err) < 0,
	   "unterminated string is an error");
	is_int(err.line, 2, "unterminated string: line of the quote");
	ok(mreg_sql_split("SELECT $x$ never", 16, &st, &n, &err) < 0,
	   "unterminated dollar quote is an error");
	ok(strstr(err.message, "$x$") != NULL, "dollar quote error names the tag");
	ok(mreg_sql_split("/* a /* b */", 12, &st, &n, &err) < 0,
	   "unterminated nested comment is an error");
	return tap_done();
}
