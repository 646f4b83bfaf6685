/* test-escape.c - text for people: nothing can drive the terminal, and
 * every escape reads one way only */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "tap.h"

/* in -> want (both as C strings), with the display width */
static void esc(const char *in, size_t len, unsigned flags, const char *want,
		size_t want_cols, const char *name)
{
	size_t cols = 999;
	char *e = mreg_escape(in, len, flags, &cols);

	is_str(e, want, "%s: %s", name, want);
	is_int(cols, want_cols, "%s: width %zu", name, want_cols);
	ok(mreg_escape_needed(in, len, flags) == (strcmp(e, in) != 0 ||
						 strlen(in) != len),
	   "%s: needed() agrees", name);
	free(e);
}

static void test_escapes(void)
{
	esc("plain text", 10, 0, "plain text", 10, "plain ASCII stays");
	esc("caf\xc3\xa9 \xe4\xb8\xad", 9, 0, "caf\xc3\xa9 \xe4\xb8\xad", 7,
	    "other UTF-8 stays, wide counts 2");
	esc("a\\b", 3, 0, "a\\\\b", 4, "a backslash is doubled");
	esc("a\nb", 3, 0, "a\\nb", 4, "newline");
	esc("a\\nb", 4, 0, "a\\\\nb", 5,
	    "a real backslash-n differs from a newline");
	esc("\t\r", 2, 0, "\\t\\r", 4, "tab, CR");
	esc("evil\x1b]0;pwned\x07\x1b[2J\nfake: ok", 27, 0,
	    "evil\\x1b]0;pwned\\x07\\x1b[2J\\nfake: ok", 37,
	    "OSC title, bell, clear screen, forged line");
	esc("\x7f", 1, 0, "\\x7f", 4, "DEL");
	esc("a\0b", 3, 0, "a\\x00b", 6, "NUL inside the text");
	esc("\xc2\x9b" "31m", 5, 0, "\\u009b31m", 9, "C1 CSI");
	esc("\xc2\x85", 2, 0, "\\u0085", 6, "C1 NEL");
	esc("m\xe2\x80\xaetxt.exe", 11, 0, "m\\u202etxt.exe", 14,
	    "U+202E right-to-left override");
	esc("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 12, 0,
	    "\\u202a\\u202b\\u202c\\u202d", 24, "embeddings and overrides");
	esc("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 12, 0,
	    "\\u2066\\u2067\\u2068\\u2069", 24, "isolates");
	esc("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 8, 0,
	    "\\u200e\\u200f\\u061c", 18, "LRM, RLM, ALM");
	esc("\xe2\x80\xa8\xe2\x80\xa9", 6, 0, "\\u2028\\u2029", 12,
	    "line and paragraph separators");
	esc("\xe2\x80\xa9x\xe2\x81\xaa", 7, 0, "\\u2029x\xe2\x81\xaa", 8,
	    "U+206A (not bidi) stays");
	esc("a\xff" "b", 3, 0, "a\\xffb", 6, "invalid byte");
	esc("\xc0\xaf", 2, 0, "\\xc0\\xaf", 8, "overlong form, byte by byte");
	esc("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80", 12, "surrogate");
	esc("\xe2\x80", 2, 0, "\\xe2\\x80", 8, "truncated sequence");
	esc("", 0, 0, "", 0, "empty");

	/* JSON text keeps its escapes, stays JSON */
	esc("{\"p\":\"C:\\\\m\"}", 13, MREG_ESC_JSON, "{\"p\":\"C:\\\\m\"}",
	    13, "json: backslashes kept");
	esc("[\"m\xe2\x80\xae\"]", 8, MREG_ESC_JSON, "[\"m\\u202e\"]", 11,
	    "json: bidi as \\u202e");
	esc("\"\x1b\"", 3, MREG_ESC_JSON, "\"\\u001b\"", 8,
	    "json: a raw control as \\u001b");
	esc("\"a\nb\"", 5, MREG_ESC_JSON, "\"a\\nb\"", 6, "json: newline");
}

static void test_into(void)
{
	char buf[8];
	size_t n;

	n = mreg_escape_into(buf, sizeof(buf), "abc", 3, 0);
	is_str(buf, "abc", "into: fits");
	is_int(n, 3, "into: length");
	n = mreg_escape_into(buf, sizeof(buf), "abcdefghij", 10, 0);
	is_str(buf, "abcdefg", "into: cut at the end of the buffer");
	n = mreg_escape_into(buf, sizeof(buf), "abcde\x1b", 6, 0);
	is_str(buf, "abcde", "into: an escape is never cut in two");
	n = mreg_escape_into(buf, sizeof(buf), "abcde\xc3\xa9\xc3\xa9", 9, 0);
	is_str(buf, "abcde\xc3\xa9", "into: a character is never cut in two");
	n = mreg_escape_into(buf, 1, "abc", 3, 0);
	is_str(buf, "", "into: room for the NUL only");
	is_int(mreg_escape_into(buf, 0, "abc", 3, 0), 0, "into: no room");
	(void)n;
}

static void test_write(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ok(f && mreg_escape_write(f, "x\x1b[2Jy\\", 7, 0) == 0,
	   "write: to a stream");
	if (f)
		fclose(f);
	is_str(text, "x\\x1b[2Jy\\\\", "write: escaped");
	free(text);
}

static void test_utf8(void)
{
	uint32_t c = 0;

	is_int(mreg_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4,
				&c), 4, "decode: 4-byte sequence");
	is_int(c, 0x1f600, "decode: code point");
	is_int(mreg_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4,
				&c), 0, "decode: past U+10FFFF refused");
	is_int(mreg_char_width(0x4e2d), 2, "width: CJK is wide");
	is_int(mreg_char_width(0x301), 0, "width: combining mark");
}

int main(void)
{
	test_escapes();
	test_into();
	test_write();
	test_utf8();
	return tap_done();
}
