/* jsontext.h - JSON text kept as written: numbers never become doubles
 *
 * jansson holds every real as a C double (0.06 comes back as
 * 0.059999999999999998) and refuses integers beyond 64 bits, while
 * PostgreSQL's jsonb keeps numbers as numeric, exactly.  So mreg lets
 * jansson check structure, duplicate keys and types on a *masked copy*
 * of the text, and hands the server the text as written:
 *
 *  - mreg_json_loadb() parses a masked copy: outside strings, each number
 *    token that follows the JSON grammar is replaced by a placeholder of
 *    the same length ("0" and spaces for an integer, "0.0" and spaces for
 *    a real), so lines, columns and offsets of errors stay right.  The
 *    tree it returns has the types of the original and placeholder
 *    values: use it for structure, never for numbers.  It also refuses,
 *    with a clear message and the position, what jsonb cannot hold: a
 *    number outside numeric's range and the escape \u0000.
 *  - The span functions read text already known to be valid JSON (a file
 *    parsed above, or the server's output) without converting anything:
 *    the exact text of a member, the members of an object or array, a
 *    string decoded, the path to an offset, the text re-indented.
 */
#ifndef MREG_JSONTEXT_H
#define MREG_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "strbuf.h"

#include <jansson.h>

/* What jsonb's numeric holds (PostgreSQL 15): */
#define MREG_NUMERIC_MAX_INT_DIGITS 131072   /* before the decimal point */
#define MREG_NUMERIC_MAX_SCALE 16383         /* after it */
#define MREG_NUMERIC_MAX_EXPONENT 1073741822 /* |exponent| as written */

enum mreg_json_fail {
	MREG_JSON_OK,
	MREG_JSON_SYNTAX,     /* malformed JSON (jansson's message) */
	MREG_JSON_UNSTORABLE, /* valid JSON that jsonb cannot hold */
	MREG_JSON_NOMEM,
};

/*
 * json_loadb(s, len, flags, jerr) on a masked copy of s.  NULL on failure
 * with *fail set and jerr filled for the original text: line, column
 * (characters, 1-based), position (byte offset: for MREG_JSON_UNSTORABLE
 * the start of the token at fault) and text.  A jansson message that
 * quotes a placeholder ("near '0.0'") quotes the original token instead.
 * When s has several problems the first in the text is reported.
 */
json_t *mreg_json_loadb(const char *s, size_t len, size_t flags,
			json_error_t *jerr, enum mreg_json_fail *fail);

/*
 * The masked copy itself (len bytes plus a NUL, malloc'd; NULL if out of
 * memory).  When issue is not NULL, the first problem jsonb would refuse
 * is described there (message empty when none).
 */
struct mreg_json_issue {
	size_t offset; /* byte offset of the token */
	char message[160];
};
char *mreg_json_mask(const char *s, size_t len, struct mreg_json_issue *issue);

/*
 * Length of the number at s[i] by the grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, or 0 when the text
 * there does not follow it.  *real: it has a fraction or an exponent.
 */
size_t mreg_json_number_len(const char *s, size_t len, size_t i, bool *real);

/*
 * NULL when the number token s (n bytes, JSON grammar) fits PostgreSQL's
 * numeric, else why not (a static string).
 */
const char *mreg_json_numeric_check(const char *s, size_t n);

/* --- reading valid JSON text ------------------------------------------- */

struct mreg_json_span {
	const char *p;
	size_t len;
};

/* The offset of the first byte at or after i that is no JSON white space
 * (len when there is none). */
size_t mreg_json_skip_ws(const char *s, size_t len, size_t i);

/* Leading and trailing JSON white space removed. */
struct mreg_json_span mreg_json_trim(const char *s, size_t len);

/* Members of an object (key: the string token, quotes included) or
 * elements of an array (key empty). */
struct mreg_json_iter {
	const char *s;
	size_t len, pos;
	bool object, first;
};

/* s holds one object or array (white space around allowed); else false. */
bool mreg_json_iter_init(struct mreg_json_iter *it, const char *s,
			 size_t len);
/* The next member; false at the end (or on malformed text). */
bool mreg_json_iter_next(struct mreg_json_iter *it, struct mreg_json_span *key,
			 struct mreg_json_span *val);

/* The value of key in the object s; false when absent or s no object. */
bool mreg_json_get(const char *s, size_t len, const char *key,
		   struct mreg_json_span *val);

/* Is the string token tok (quotes included) equal to key once decoded? */
bool mreg_json_string_eq(const char *tok, size_t len, const char *key);

/*
 * The string token tok (quotes included) decoded to UTF-8: malloc'd and
 * NUL-terminated, its length in *outlen when not NULL.  NULL when tok is
 * not a string token or out of memory.
 */
char *mreg_json_string_dup(const char *tok, size_t len, size_t *outlen);

/*
 * The path of the innermost value of s that holds byte offset off, as
 * "config.prices[2]" (keys joined with '.', array indices in brackets),
 * written to buf (cut to size).  Empty when off is not inside a member.
 */
void mreg_json_path_at(const char *s, size_t len, size_t off, char *buf,
		       size_t size);

/*
 * Write the JSON text s again, tokens as they are (numbers and strings
 * byte for byte), white space redone: indent 0 compact (no spaces), else
 * one member per line indented by that many spaces per level, "key":
 * value.  0, or -1 on a write error.
 */
int mreg_json_write(FILE *out, const char *s, size_t len, int indent);

/*
 * s as a JSON string appended to b: '"', '\\' and C0 controls escaped,
 * every other byte as it is (invalid UTF-8 too: check first where that
 * matters).
 */
void mreg_json_put_string(struct mreg_strbuf *b, const char *s);

#endif
