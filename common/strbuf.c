/* strbuf.c - a growable, NUL-terminated byte string (see strbuf.h) */
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

bool mreg_strbuf_reserve(struct mreg_strbuf *b, size_t cap)
{
	char *p;

	if (b->oom)
		return false;
	if (cap <= b->cap)
		return true;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	if (!b->p)
		p[0] = '\0';
	b->p = p;
	b->cap = cap;
	return true;
}

bool mreg_strbuf_add(struct mreg_strbuf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->oom)
		return false;
	if (n > (size_t)-1 / 2 - b->len) {
		b->oom = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!mreg_strbuf_reserve(b, cap))
			return false;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

bool mreg_strbuf_puts(struct mreg_strbuf *b, const char *s)
{
	return mreg_strbuf_add(b, s, strlen(s));
}

char *mreg_strbuf_take(struct mreg_strbuf *b)
{
	char *p = b->oom ? NULL : b->p;

	if (b->oom)
		free(b->p);
	*b = (struct mreg_strbuf){ 0 };
	return p;
}

void mreg_strbuf_free(struct mreg_strbuf *b)
{
	free(b->p);
	*b = (struct mreg_strbuf){ 0 };
}
