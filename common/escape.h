/* escape.h - user-controlled text made safe and unambiguous for people
 *
 * Every place that shows a person text it did not write itself (paths,
 * names, values, server and file errors) passes it through here, on
 * stdout and on stderr: a file name must not set the terminal's title,
 * clear the screen or forge a line of output.  What is escaped:
 *
 *   backslash            \\          (so every escape below is unambiguous)
 *   newline, tab, CR     \n \t \r
 *   other C0, DEL        \x1b \x7f
 *   C1 controls          \u0080 ... \u009f
 *   bidi controls        \u202a ... \u202e, \u2066 ... \u2069, \u200e,
 *                        \u200f, \u061c (text direction overrides)
 *   line/para separator  \u2028 \u2029
 *   invalid UTF-8        \xff (one escape per bad byte)
 *
 * Everything else, including all other non-ASCII characters, is kept.
 *
 * MREG_ESC_JSON says the text is JSON (as jansson or the server wrote
 * it): its backslashes are already escapes and are kept, and what must be
 * escaped is written as \uXXXX, so the result is still the same JSON.
 *
 * Data outputs (JSON, NDJSON, CSV) never go through this: they are exact.
 */
#ifndef MREG_ESCAPE_H
#define MREG_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "utf8.h" /* mreg_utf8_decode */

enum mreg_escape_flags {
	MREG_ESC_JSON = 1 << 0, /* the text is JSON: keep its backslashes */
};

/* Columns a code point takes on a terminal: 0, 1 or 2 (wide). */
int mreg_char_width(uint32_t cp);

/* Does s need escaping at all? */
bool mreg_escape_needed(const char *s, size_t len, unsigned flags);

/*
 * The escaped form of s, malloc'd (NULL if out of memory); its display
 * width in *cols when cols is not NULL.
 */
char *mreg_escape(const char *s, size_t len, unsigned flags, size_t *cols);

/*
 * The escaped form of s in out (cap bytes, always NUL-terminated when
 * cap > 0).  Output that does not fit is cut before an escape or a
 * character, never inside one.  Returns the bytes written.
 */
size_t mreg_escape_into(char *out, size_t cap, const char *s, size_t len,
			unsigned flags);

/* Write the escaped form of s to out.  0, or -1 on a write error. */
int mreg_escape_write(FILE *out, const char *s, size_t len, unsigned flags);

#endif
