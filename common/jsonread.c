/* jsonread.c - reading JSON text that is known to be valid, as written:
 * iterating, string tokens, paths, pretty printing (see jsontext.h) */
#include "jsontext.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t mreg_json_skip_ws(const char *s, size_t len, size_t i)
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
	size_t i = mreg_json_skip_ws(s, len, 0);

	while (len > i && is_ws(s[len - 1]))
		len--;
	r.p = s + i;
	r.len = len - i;
	return r;
}

bool mreg_json_iter_init(struct mreg_json_iter *it, const char *s,
			 size_t len)
{
	size_t i = mreg_json_skip_ws(s, len, 0);

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
	i = mreg_json_skip_ws(s, len, it->pos);
	if (i >= len || s[i] == '}' || s[i] == ']')
		goto end;
	if (!it->first) {
		if (s[i] != ',')
			goto end;
		i = mreg_json_skip_ws(s, len, i + 1);
	}
	key->p = s + i;
	key->len = 0;
	if (it->object) {
		if (i >= len || s[i] != '"' || !(e = string_end(s, len, i)))
			goto end;
		key->len = e - i;
		i = mreg_json_skip_ws(s, len, e);
		if (i >= len || s[i] != ':')
			goto end;
		i = mreg_json_skip_ws(s, len, i + 1);
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
			j = mreg_json_skip_ws(s, len, i + 1);
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
