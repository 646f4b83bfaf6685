/* sqlsplit.c - splitting a SQL script into statements (see sqlsplit.h) */
#include "sqlsplit.h"

#include <stdlib.h>
#include <string.h>

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	       (unsigned char)c >= 0x80;
}

/* Length of a dollar-quote tag starting at s[i] ('$'), or 0 if none. */
static size_t dollar_tag(const char *s, size_t i, size_t len)
{
	size_t j = i + 1;

	if (i > 0 && ident_char(s[i - 1]))
		return 0; /* part of an identifier such as a$b */
	if (j < len && s[j] >= '0' && s[j] <= '9')
		return 0; /* $1 is a parameter */
	while (j < len && s[j] != '$') {
		if (!ident_char(s[j]))
			return 0;
		j++;
	}
	return j < len ? j - i + 1 : 0;
}

static long count_lines(const char *s, size_t from, size_t to)
{
	long n = 0;

	for (; from < to; from++)
		if (s[from] == '\n')
			n++;
	return n;
}

static int push(const char *s, struct mreg_sql_stmt **v, size_t *n,
		size_t *cap, size_t off, size_t len, long line)
{
	/* the white space skipped between statements, \f included */
	while (len > 0 && (s[off + len - 1] == ' ' || s[off + len - 1] == '\n' ||
			   s[off + len - 1] == '\t' || s[off + len - 1] == '\r' ||
			   s[off + len - 1] == '\f'))
		len--;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct mreg_sql_stmt *p = realloc(*v, ncap * sizeof(**v));

		if (!p)
			return -1;
		*v = p;
		*cap = ncap;
	}
	(*v)[*n].offset = off;
	(*v)[*n].len = len;
	(*v)[*n].line = line;
	(*n)++;
	return 0;
}

int mreg_sql_split(const char *s, size_t len, struct mreg_sql_stmt **out,
		   size_t *count, struct mreg_error *err)
{
	struct mreg_sql_stmt *v = NULL;
	size_t n = 0, cap = 0, i = 0, start = 0;
	long start_line = 1;
	int have_start = 0;

	while (i < len) {
		char c = s[i];

		if (c == '-' && i + 1 < len && s[i + 1] == '-') {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t open = i;
			int depth = 1;

			i += 2;
			while (i < len && depth > 0) {
				if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (s[i] == '*' && i + 1 < len &&
					   s[i + 1] == '/') {
					depth--;
					i += 2;
				} else {
					i++;
				}
			}
			if (depth > 0) {
				mreg_error_set(err, MREG_EXIT_DATA,
					       "unterminated /* comment");
				err->line = 1 + count_lines(s, 0, open);
				goto fail;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f') {
			i++;
			continue;
		}
		if (!have_start && c == ';') {
			i++; /* an empty statement */
			continue;
		}
		if (!have_start) {
			have_start = 1;
			start = i;
			start_line = 1 + count_lines(s, 0, i);
		}
		if (c == ';') {
			if (push(s, &v, &n, &cap, start, i - start, start_line) < 0)
				goto nomem;
			have_start = 0;
			i++;
			continue;
		}
		if (c == '\'' || c == '"') {
			size_t open = i;
			int backslash = c == '\'' && i > 0 &&
					(s[i - 1] == 'E' || s[i - 1] == 'e') &&
					(i < 2 || !ident_char(s[i - 2]));

			i++;
			for (;;) {
				if (i >= len) {
					mreg_error_set(err, MREG_EXIT_DATA,
						       "unterminated %s",
						       c == '"' ? "quoted identifier"
								: "string");
					err->line = 1 + count_lines(s, 0, open);
					goto fail;
				}
				if (backslash && s[i] == '\\') {
					i += 2;
					continue;
				}
				if (s[i] == c) {
					if (i + 1 < len && s[i + 1] == c) {
						i += 2;
						continue;
					}
					i++;
					break;
				}
				i++;
			}
			continue;
		}
		if (c == '$') {
			size_t tag = dollar_tag(s, i, len), open = i, j;

			if (tag == 0) {
				i++;
				continue;
			}
			for (j = i + tag; j + tag <= len; j++)
				if (memcmp(s + j, s + i, tag) == 0)
					break;
			if (j + tag > len) {
				mreg_error_set(err, MREG_EXIT_DATA,
					       "unterminated dollar-quoted "
					       "string %.*s", (int)tag, s + i);
				err->line = 1 + count_lines(s, 0, open);
				goto fail;
			}
			i = j + tag;
			continue;
		}
		i++;
	}
	if (have_start && push(s, &v, &n, &cap, start, len - start, start_line) < 0)
		goto nomem;
	*out = v;
	*count = n;
	return 0;

nomem:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
fail:
	free(v);
	*out = NULL;
	*count = 0;
	return -1;
}

void mreg_sql_position(const char *sql, const struct mreg_sql_stmt *stmt,
		       long charpos, long *line, long *column)
{
	const char *p = sql + stmt->offset, *end = p + stmt->len;
	long l = stmt->line, col = 1, ch = 1;
	const char *ls = sql + stmt->offset;

	/* column of the statement's first byte within its line */
	while (ls > sql && ls[-1] != '\n') {
		ls--;
		if (((unsigned char)*ls & 0xC0) != 0x80)
			col++;
	}
	for (; p < end && ch < charpos; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue; /* UTF-8 continuation byte */
		ch++;
		if (*p == '\n') {
			l++;
			col = 1;
		} else {
			col++;
		}
	}
	*line = l;
	*column = col;
}
