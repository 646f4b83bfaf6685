/* jsontext.c - JSON text kept as written: numbers checked and masked so
 * jansson never rounds them, loading with positions (reading valid text:
 * jsonread.c; see jsontext.h) */
#include "jsontext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A byte jansson's number lexer would take as part of a number. */
static bool is_num_char(char c)
{
	return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
	       c == '-';
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '_';
}

size_t mreg_json_number_len(const char *s, size_t len, size_t i, bool *real)
{
	size_t p = i;

	*real = false;
	if (p < len && s[p] == '-')
		p++;
	if (p < len && s[p] == '0') {
		p++;
	} else if (p < len && s[p] >= '1' && s[p] <= '9') {
		while (p < len && is_digit(s[p]))
			p++;
	} else {
		return 0;
	}
	if (p < len && s[p] == '.') {
		p++;
		if (p >= len || !is_digit(s[p]))
			return 0;
		while (p < len && is_digit(s[p]))
			p++;
		*real = true;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= len || !is_digit(s[p]))
			return 0;
		while (p < len && is_digit(s[p]))
			p++;
		*real = true;
	}
	return p - i;
}

/*
 * PostgreSQL 15's numeric input (set_var_from_str, make_result): the
 * exponent as written must stay below INT_MAX / 2 (1073741823); the display
 * scale (digits after the point, less the exponent) within 16383, even
 * for zero; the first non-zero digit's weight below 10^131072.
 */
const char *mreg_json_numeric_check(const char *s, size_t n)
{
	size_t i = 0, int_start, int_len, frac_start = 0, frac_len = 0, k;
	long long exp = 0, scale, w10;
	bool neg_exp = false, nonzero = false;

	if (i < n && s[i] == '-')
		i++;
	int_start = i;
	while (i < n && is_digit(s[i]))
		i++;
	int_len = i - int_start;
	if (i < n && s[i] == '.') {
		frac_start = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		frac_len = i - frac_start;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			neg_exp = s[i++] == '-';
		for (; i < n && is_digit(s[i]); i++) {
			exp = exp * 10 + (s[i] - '0');
			if (exp > MREG_NUMERIC_MAX_EXPONENT)
				return "its exponent is too large";
		}
		if (neg_exp)
			exp = -exp;
	}
	scale = (long long)frac_len - exp;
	if (scale > MREG_NUMERIC_MAX_SCALE)
		return "more than 16383 digits after the decimal point";
	for (k = 0; k < int_len; k++) {
		if (s[int_start + k] != '0') {
			w10 = (long long)(int_len - 1 - k) + exp;
			nonzero = true;
			break;
		}
	}
	for (k = 0; !nonzero && k < frac_len; k++) {
		if (s[frac_start + k] != '0') {
			w10 = -(long long)(k + 1) + exp;
			nonzero = true;
		}
	}
	if (nonzero && w10 >= MREG_NUMERIC_MAX_INT_DIGITS)
		return "more than 131072 digits before the decimal point";
	return NULL;
}

/* The token for a message: long ones cut, with "...". */
static void token_text(const char *s, size_t n, char *buf, size_t size)
{
	if (n > 24)
		snprintf(buf, size, "%.20s...", s);
	else
		snprintf(buf, size, "%.*s", (int)n, s);
}

char *mreg_json_mask(const char *s, size_t len, struct mreg_json_issue *issue)
{
	char *m = malloc(len + 1);
	char tok[32];
	const char *why;
	size_t i = 0, n, j;
	bool real, found = false;

	if (issue) {
		issue->offset = 0;
		issue->message[0] = '\0';
	}
	if (!m)
		return NULL;
	memcpy(m, s, len);
	m[len] = '\0';
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] != '\\')
					continue;
				if (!found && issue && i + 5 < len &&
				    s[i + 1] == 'u' &&
				    memcmp(s + i + 2, "0000", 4) == 0) {
					found = true;
					issue->offset = i;
					snprintf(issue->message,
						 sizeof(issue->message), "%s",
						 "a NUL character (U+0000) in a string: "
						 "PostgreSQL cannot store it");
				}
				i++; /* the escaped character */
			}
			i++; /* the closing quote */
			continue;
		}
		if (c == '-' || is_digit(c)) {
			n = mreg_json_number_len(s, len, i, &real);
			if (n == 0 || (i + n < len && is_num_char(s[i + n]))) {
				/* not a number: left for jansson to report */
				for (j = i + 1; j < len && is_num_char(s[j]); j++)
					;
				i = j;
				continue;
			}
			if (!found && issue &&
			    (why = mreg_json_numeric_check(s + i, n)) != NULL) {
				found = true;
				issue->offset = i;
				token_text(s + i, n, tok, sizeof(tok));
				snprintf(issue->message, sizeof(issue->message),
					 "number %s is out of range for "
					 "PostgreSQL numeric: %s", tok, why);
			}
			m[i] = '0';
			if (real) {
				m[i + 1] = '.';
				m[i + 2] = '0';
				memset(m + i + 3, ' ', n - 3);
			} else {
				memset(m + i + 1, ' ', n - 1);
			}
			i += n;
			continue;
		}
		if (is_word_char(c)) {
			/* true, false, null, or a bad word: digits in it stay */
			while (i < len && is_word_char(s[i]))
				i++;
			continue;
		}
		i++;
	}
	return m;
}

/*
 * jansson quoted a placeholder ("near '0.0'") that ends at its position:
 * quote the original number, and move the position to its end.
 */
static void fix_near(json_error_t *jerr, const char *s, const char *masked,
		     size_t len)
{
	static const char mark[] = " near '";
	char *near = NULL, *p, tok[32], text[JSON_ERROR_TEXT_LENGTH];
	size_t nl, start, n;
	bool real;

	for (p = strstr(jerr->text, mark); p; p = strstr(p + 1, mark))
		near = p;
	if (!near || jerr->position < 0)
		return;
	nl = strlen(near + sizeof(mark) - 1);
	if (nl < 2 || near[sizeof(mark) - 1 + nl - 1] != '\'')
		return;
	nl--; /* the closing quote */
	if (!((nl == 1 && near[sizeof(mark) - 1] == '0') ||
	      (nl == 3 && memcmp(near + sizeof(mark) - 1, "0.0", 3) == 0)))
		return;
	if ((size_t)jerr->position < nl || (size_t)jerr->position > len)
		return;
	start = (size_t)jerr->position - nl;
	if (memcmp(masked + start, near + sizeof(mark) - 1, nl) != 0)
		return;
	n = mreg_json_number_len(s, len, start, &real);
	if (n == 0 || (n == nl && memcmp(s + start, masked + start, n) == 0))
		return;
	token_text(s + start, n, tok, sizeof(tok));
	*near = '\0';
	snprintf(text, sizeof(text), "%s near '%s'", jerr->text, tok);
	snprintf(jerr->text, sizeof(jerr->text), "%s", text);
	jerr->column += (int)(n - nl);
	jerr->position += (int)(n - nl);
}

/* A byte order mark quoted by jansson is invisible: name it. */
static void bom_near(json_error_t *jerr)
{
	char *p = strstr(jerr->text, " near '\xef\xbb\xbf");
	char text[JSON_ERROR_TEXT_LENGTH];

	if (!p)
		return;
	*p = '\0';
	snprintf(text, sizeof(text), "%s near a byte order mark (U+FEFF)",
		 jerr->text);
	snprintf(jerr->text, sizeof(jerr->text), "%s", text);
}

json_t *mreg_json_loadb(const char *s, size_t len, size_t flags,
			json_error_t *jerr, enum mreg_json_fail *fail)
{
	struct mreg_json_issue issue;
	json_t *root;
	char *masked;

	*fail = MREG_JSON_OK;
	masked = mreg_json_mask(s, len, &issue);
	if (!masked) {
		memset(jerr, 0, sizeof(*jerr));
		snprintf(jerr->text, sizeof(jerr->text), "out of memory");
		*fail = MREG_JSON_NOMEM;
		return NULL;
	}
	root = json_loadb(masked, len, flags, jerr);
	if (issue.message[0] &&
	    (root || jerr->position < 0 ||
	     issue.offset < (size_t)jerr->position)) {
		long line, col;

		json_decref(root);
		root = NULL;
		mreg_utf8_position(s, len, issue.offset, &line, &col);
		jerr->line = (int)line;
		jerr->column = (int)col;
		jerr->position = (int)issue.offset;
		snprintf(jerr->text, sizeof(jerr->text), "%s", issue.message);
		*fail = MREG_JSON_UNSTORABLE;
	} else if (!root) {
		*fail = json_error_code(jerr) == json_error_out_of_memory
				? MREG_JSON_NOMEM
				: MREG_JSON_SYNTAX;
		fix_near(jerr, s, masked, len);
		bom_near(jerr);
	}
	free(masked);
	return root;
}

void mreg_json_put_string(struct mreg_strbuf *b, const char *s)
{
	size_t i, from = 0;
	char esc[8];

	mreg_strbuf_puts(b, "\"");
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mreg_strbuf_add(b, s + from, i - from);
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		mreg_strbuf_puts(b, esc);
		from = i + 1;
	}
	mreg_strbuf_add(b, s + from, i - from);
	mreg_strbuf_puts(b, "\"");
}
