/* jsontext.c - JSON text kept as written (see jsontext.h) */
#include "jsontext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

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

/*
 * Length of the number at s[i] by the grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, or 0 when the text
 * there does not follow it.  *real: it has a fraction or an exponent.
 */
static size_t number_len(const char *s, size_t len, size_t i, bool *real)
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
			n = number_len(s, len, i, &real);
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
	n = number_len(s, len, start, &real);
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

/* --- reading valid JSON text ------------------------------------------- */

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && is_ws(s[i]))
		i++;
	return i;
}

/* After the string token at s[i] ('"'), or 0 when unterminated. */
static size_t string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* After the value at s[i] (no white space before it), or 0. */
static size_t value_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return 0;
	if (s[i] == '"')
		return string_end(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !is_ws(s[i]) && s[i] != ',' && s[i] != ']' &&
		       s[i] != '}' && s[i] != ':')
			i++;
		return i;
	}
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			i = string_end(s, len, i);
			if (i == 0)
				return 0;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return 0;
}

struct mreg_json_span mreg_json_trim(const char *s, size_t len)
{
	struct mreg_json_span r;
	size_t i = skip_ws(s, len, 0);

	while (len > i && is_ws(s[len - 1]))
		len--;
	r.p = s + i;
	r.len = len - i;
	return r;
}

bool mreg_json_iter_init(struct mreg_json_iter *it, const char *s,
			 size_t len)
{
	size_t i = skip_ws(s, len, 0);

	memset(it, 0, sizeof(*it));
	if (i >= len || (s[i] != '{' && s[i] != '['))
		return false;
	it->s = s;
	it->len = len;
	it->object = s[i] == '{';
	it->pos = i + 1;
	it->first = true;
	return true;
}

bool mreg_json_iter_next(struct mreg_json_iter *it, struct mreg_json_span *key,
			 struct mreg_json_span *val)
{
	const char *s = it->s;
	size_t len = it->len, i, e;

	if (!s)
		return false;
	i = skip_ws(s, len, it->pos);
	if (i >= len || s[i] == '}' || s[i] == ']')
		goto end;
	if (!it->first) {
		if (s[i] != ',')
			goto end;
		i = skip_ws(s, len, i + 1);
	}
	key->p = s + i;
	key->len = 0;
	if (it->object) {
		if (i >= len || s[i] != '"' || !(e = string_end(s, len, i)))
			goto end;
		key->len = e - i;
		i = skip_ws(s, len, e);
		if (i >= len || s[i] != ':')
			goto end;
		i = skip_ws(s, len, i + 1);
	}
	e = value_end(s, len, i);
	if (e == 0 || e == i)
		goto end;
	val->p = s + i;
	val->len = e - i;
	it->pos = e;
	it->first = false;
	return true;
end:
	it->s = NULL;
	return false;
}

/* Four hex digits at p (n bytes left); -1 if not. */
static long hex4(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

char *mreg_json_string_dup(const char *tok, size_t len, size_t *outlen)
{
	char *out, *o;
	size_t i;
	long c, lo;

	if (len < 2 || tok[0] != '"' || tok[len - 1] != '"')
		return NULL;
	/* decoding never makes the text longer */
	out = malloc(len);
	if (!out)
		return NULL;
	o = out;
	for (i = 1; i < len - 1; i++) {
		if (tok[i] != '\\') {
			*o++ = tok[i];
			continue;
		}
		if (++i >= len - 1)
			break;
		switch (tok[i]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			c = hex4(tok + i + 1, len - 1 - (i + 1));
			if (c < 0) {
				*o++ = '?';
				break;
			}
			i += 4;
			if (c >= 0xd800 && c <= 0xdbff && i + 6 < len &&
			    tok[i + 1] == '\\' && tok[i + 2] == 'u' &&
			    (lo = hex4(tok + i + 3, len - 1 - (i + 3))) >= 0xdc00 &&
			    lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (c >= 0xd800 && c <= 0xdfff) {
				c = 0xfffd;
			}
			o += mreg_utf8_encode(o, (uint32_t)c);
			break;
		default: /* " \ / */
			*o++ = tok[i];
		}
	}
	*o = '\0';
	if (outlen)
		*outlen = (size_t)(o - out);
	return out;
}

bool mreg_json_string_eq(const char *tok, size_t len, const char *key)
{
	size_t n = strlen(key), dn;
	char *d;
	bool eq;

	if (len < 2 || tok[0] != '"')
		return false;
	if (!memchr(tok, '\\', len))
		return len - 2 == n && memcmp(tok + 1, key, n) == 0;
	d = mreg_json_string_dup(tok, len, &dn);
	eq = d && dn == n && memcmp(d, key, n) == 0;
	free(d);
	return eq;
}

bool mreg_json_get(const char *s, size_t len, const char *key,
		   struct mreg_json_span *val)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, v;

	if (!mreg_json_iter_init(&it, s, len) || !it.object)
		return false;
	while (mreg_json_iter_next(&it, &k, &v)) {
		if (mreg_json_string_eq(k.p, k.len, key)) {
			*val = v;
			return true;
		}
	}
	return false;
}

/* Append text to buf (size bytes, NUL-terminated), cutting it. */
static void path_add(char *buf, size_t size, const char *text, size_t n)
{
	size_t used = strlen(buf);

	if (used + 1 >= size)
		return;
	if (n > size - 1 - used)
		n = size - 1 - used;
	memcpy(buf + used, text, n);
	buf[used + n] = '\0';
}

void mreg_json_path_at(const char *s, size_t len, size_t off, char *buf,
		       size_t size)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, v;
	size_t index, n, vs = 0;
	char step[32], *key;
	bool found = true;

	if (size == 0)
		return;
	buf[0] = '\0';
	/* descend: the member holding off, then the member in it, ... */
	while (found && mreg_json_iter_init(&it, s, len)) {
		found = false;
		for (index = 0; mreg_json_iter_next(&it, &k, &v); index++) {
			vs = (size_t)(v.p - s);
			if (off < vs || off >= vs + v.len)
				continue;
			if (it.object) {
				key = mreg_json_string_dup(k.p, k.len, &n);
				if (buf[0])
					path_add(buf, size, ".", 1);
				if (key)
					path_add(buf, size, key, n);
				free(key);
			} else {
				snprintf(step, sizeof(step), "[%zu]", index);
				path_add(buf, size, step, strlen(step));
			}
			found = true;
			break;
		}
		if (found) {
			off -= vs;
			s = v.p;
			len = v.len;
		}
	}
}

/* A new line and the indent of depth levels (indent 0: nothing). */
static void newline(FILE *out, int indent, int depth)
{
	int i;

	if (indent <= 0)
		return;
	putc('\n', out);
	for (i = 0; i < indent * depth; i++)
		putc(' ', out);
}

int mreg_json_write(FILE *out, const char *s, size_t len, int indent)
{
	size_t i = 0, e, j;
	int depth = 0;

	while (i < len) {
		char c = s[i];

		if (is_ws(c)) {
			i++;
		} else if (c == '"') {
			e = string_end(s, len, i);
			if (e == 0)
				e = len;
			fwrite(s + i, 1, e - i, out);
			i = e;
		} else if (c == '{' || c == '[') {
			j = skip_ws(s, len, i + 1);
			if (j < len && s[j] == (c == '{' ? '}' : ']')) {
				fputs(c == '{' ? "{}" : "[]", out);
				i = j + 1;
				continue;
			}
			putc(c, out);
			newline(out, indent, ++depth);
			i++;
		} else if (c == '}' || c == ']') {
			newline(out, indent, --depth);
			putc(c, out);
			i++;
		} else if (c == ',') {
			putc(',', out);
			newline(out, indent, depth);
			i++;
		} else if (c == ':') {
			fputs(indent > 0 ? ": " : ":", out);
			i++;
		} else {
			e = value_end(s, len, i);
			if (e <= i)
				e = i + 1;
			fwrite(s + i, 1, e - i, out);
			i = e;
		}
	}
	return ferror(out) ? -1 : 0;
}
