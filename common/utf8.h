/* utf8.h - the one UTF-8 decoder: decode, validate, count, locate
 *
 * Every place that looks at UTF-8 byte by byte goes through here, so
 * "valid" means the same thing everywhere: no overlong forms, no
 * surrogates (U+D800-U+DFFF), nothing past U+10FFFF, no truncated
 * sequence.
 */
#ifndef MREG_UTF8_H
#define MREG_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Length (1-4) of the valid UTF-8 sequence at s with its code point in
 * *cp, or 0 when s does not start one (len == 0 included).
 */
size_t mreg_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Writes code point c (at most U+10FFFF) as UTF-8 into o; its length. */
size_t mreg_utf8_encode(char *o, uint32_t c);

/* Offset of the first byte of s that is not well-formed UTF-8, or len. */
size_t mreg_utf8_first_invalid(const char *s, size_t len);

/* Is s (len bytes) well-formed UTF-8 throughout? */
bool mreg_utf8_valid(const char *s, size_t len);

/* Characters in s: code points, an invalid byte counting as one. */
size_t mreg_utf8_chars(const char *s, size_t len);

/* Is byte b a continuation byte (10xxxxxx)? */
static inline bool mreg_utf8_is_cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

/* A C0 or C1 control character or DEL? */
static inline bool mreg_utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

/*
 * 1-based line and column of byte offset off in s (len bytes); columns
 * count characters (lead bytes), as jansson's do.
 */
void mreg_utf8_position(const char *s, size_t len, size_t off, long *line,
			long *col);

#endif
