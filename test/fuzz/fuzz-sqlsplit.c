/* fuzz-sqlsplit.c - mreg_sql_split() and mreg_sql_position() on arbitrary
 * bytes
 *
 * Besides memory errors, for a script that splits: the statements are in
 * order, inside the script and disjoint; each one starts with neither
 * white space, ';' nor a comment and does not end with white space; its
 * line is the line of its first byte; together with the gaps between them
 * they cover the script, and a gap holds nothing but white space,
 * comments and ';' (split on its own it gives no statement); a statement
 * split on its own gives itself back whole.  For a script that does not
 * split: an error status, a message and a line inside the script.  The
 * position of every character of a statement maps inside the script.
 */
#include "error.h"
#include "fuzz.h"
#include "sqlsplit.h"

/* the white space the splitter skips between statements */
static int space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static long lines_before(const char *s, size_t off)
{
	long n = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (s[i] == '\n')
			n++;
	return n;
}

static void check_gap(const char *s, size_t from, size_t to)
{
	struct mreg_sql_stmt *v = NULL;
	struct mreg_error err;
	size_t n = 0;

	if (from >= to)
		return;
	mreg_error_clear(&err);
	fuzz_check(mreg_sql_split(s + from, to - from, &v, &n, &err) == 0 &&
		   n == 0,
		   "gap [%zu,%zu) holds %zu statements (%s)", from, to, n,
		   err.message);
	free(v);
}

static void check_alone(const char *s, const struct mreg_sql_stmt *st)
{
	struct mreg_sql_stmt *v = NULL;
	struct mreg_error err;
	size_t n = 0;

	mreg_error_clear(&err);
	fuzz_check(mreg_sql_split(s + st->offset, st->len, &v, &n, &err) == 0
		   && n == 1 && v[0].offset == 0 && v[0].len == st->len &&
		   v[0].line == 1,
		   "statement at %zu (%zu bytes) split alone: %zu pieces (%s)",
		   st->offset, st->len, n, err.message);
	free(v);
}

static void check_positions(const char *s, size_t size,
			    const struct mreg_sql_stmt *st)
{
	long maxline = lines_before(s, size), line, col, ch;

	/* a few positions: the first, the middle, the last and past it */
	for (ch = 1; ch <= (long)st->len + 2; ch = ch < 4 ? ch + 1 : ch * 2) {
		mreg_sql_position(s, st, ch, &line, &col);
		fuzz_check(line >= st->line && line <= maxline && col >= 1 &&
			   col <= (long)size + 1,
			   "position %ld of the statement at line %ld maps to "
			   "%ld:%ld", ch, st->line, line, col);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct mreg_sql_stmt *v = NULL;
	struct mreg_error err;
	size_t n = 0, i, prev_end = 0;

	mreg_error_clear(&err);
	if (mreg_sql_split(s, size, &v, &n, &err) < 0) {
		fuzz_check(v == NULL && n == 0, "failure returned statements");
		fuzz_check(err.status == MREG_EXIT_DATA && err.message[0],
			   "failure: status %d \"%s\"", err.status, err.message);
		fuzz_check(err.line >= 1 && err.line <= lines_before(s, size),
			   "error at line %ld", err.line);
		return 0;
	}
	fuzz_check(n == 0 || v != NULL, "statements but no array");
	for (i = 0; i < n; i++) {
		const struct mreg_sql_stmt *st = &v[i];

		fuzz_check(st->len > 0, "empty statement %zu", i);
		fuzz_check(st->offset >= prev_end && st->offset <= size &&
			   st->len <= size - st->offset,
			   "statement %zu [%zu,+%zu) out of order or bounds", i,
			   st->offset, st->len);
		fuzz_check(!space(s[st->offset]) && s[st->offset] != ';',
			   "statement %zu starts with 0x%02x", i,
			   (unsigned char)s[st->offset]);
		fuzz_check(!(st->len >= 2 && s[st->offset] == '-' &&
			     s[st->offset + 1] == '-') &&
			   !(st->len >= 2 && s[st->offset] == '/' &&
			     s[st->offset + 1] == '*'),
			   "statement %zu starts with a comment", i);
		fuzz_check(!space(s[st->offset + st->len - 1]),
			   "statement %zu ends with white space 0x%02x", i,
			   (unsigned char)s[st->offset + st->len - 1]);
		fuzz_check(st->line == lines_before(s, st->offset),
			   "statement %zu: line %ld, starts on line %ld", i,
			   st->line, lines_before(s, st->offset));
		check_gap(s, prev_end, st->offset);
		check_alone(s, st);
		check_positions(s, size, st);
		prev_end = st->offset + st->len;
	}
	check_gap(s, prev_end, size);
	free(v);
	return 0;
}
