/* strbuf.h - a growable, NUL-terminated byte string
 *
 * Zero-initialise (struct mreg_strbuf b = { 0 }), append, then take p (or
 * mreg_strbuf_free()).  An allocation that fails sets oom and makes every
 * later append a no-op, so callers check once at the end.  Once anything
 * was appended (even ""), p is a NUL-terminated string of len bytes.
 */
#ifndef MREG_STRBUF_H
#define MREG_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct mreg_strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Append s[0..n); false (and oom set) if memory ran out, now or before. */
bool mreg_strbuf_add(struct mreg_strbuf *b, const char *s, size_t n);
bool mreg_strbuf_puts(struct mreg_strbuf *b, const char *s);
/* At least cap bytes reserved (one allocation for what is known ahead). */
bool mreg_strbuf_reserve(struct mreg_strbuf *b, size_t cap);
/* The string (the caller frees it), or NULL after oom; b is reset. */
char *mreg_strbuf_take(struct mreg_strbuf *b);
void mreg_strbuf_free(struct mreg_strbuf *b);

#endif
