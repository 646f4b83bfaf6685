/* test-utf8.c - the one UTF-8 decoder */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

#define U(s) ((const unsigned char *)(s))

static void test_decode(void)
{
	uint32_t c = 0;

	is_int(mreg_utf8_decode(U("A"), 1, &c), 1, "decode: ASCII");
	is_int(c, 'A', "decode: ASCII code point");
	is_int(mreg_utf8_decode(U("\xc3\xa9"), 2, &c), 2, "decode: 2 bytes");
	is_int(c, 0xe9, "decode: U+00E9");
	is_int(mreg_utf8_decode(U("\xf0\x9f\x98\x80"), 4, &c), 4,
	       "decode: 4 bytes");
	is_int(c, 0x1f600, "decode: U+1F600");
	is_int(mreg_utf8_decode(U(""), 0, &c), 0, "decode: nothing left");
	is_int(mreg_utf8_decode(U("\xc0\xaf"), 2, &c), 0, "decode: overlong");
	is_int(mreg_utf8_decode(U("\xe0\x80\xaf"), 3, &c), 0,
	       "decode: overlong 3-byte form");
	is_int(mreg_utf8_decode(U("\xed\xa0\x80"), 3, &c), 0,
	       "decode: surrogate");
	is_int(mreg_utf8_decode(U("\xf4\x90\x80\x80"), 4, &c), 0,
	       "decode: past U+10FFFF");
	is_int(mreg_utf8_decode(U("\xe2\x82"), 2, &c), 0, "decode: truncated");
	is_int(mreg_utf8_decode(U("\x80"), 1, &c), 0,
	       "decode: lone continuation byte");
}

static void test_encode(void)
{
	static const uint32_t cps[] = { 0x41, 0xe9, 0x20ac, 0x1f600, 0x10ffff };
	char buf[4];
	uint32_t c = 0;
	size_t i, n;

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		n = mreg_utf8_encode(buf, cps[i]);
		ok(mreg_utf8_decode(U(buf), n, &c) == n && c == cps[i],
		   "encode/decode round trip U+%04X", (unsigned)cps[i]);
	}
}

static void test_valid_count_locate(void)
{
	const char *s = "ab\xc3\xa9\n\xe2\x82\xac\xff!";
	size_t len = strlen(s);
	long line = 0, col = 0;

	ok(mreg_utf8_valid("caf\xc3\xa9", 5), "valid: well-formed text");
	ok(mreg_utf8_valid("", 0), "valid: empty text");
	ok(!mreg_utf8_valid(s, len), "valid: a bad byte makes it invalid");
	is_int(mreg_utf8_first_invalid(s, len), 8, "first invalid byte");
	is_int(mreg_utf8_first_invalid("abc", 3), 3, "none invalid: len");
	is_int(mreg_utf8_chars(s, len), 7,
	       "chars: code points, a bad byte counts one");
	is_int(mreg_utf8_chars("\xe2\x82", 2), 2,
	       "chars: each byte of a truncated sequence counts one");
	mreg_utf8_position(s, len, 8, &line, &col);
	is_int(line, 2, "position: line");
	is_int(col, 2, "position: column in characters");
	ok(mreg_utf8_is_control(0x1b) && mreg_utf8_is_control(0x85) &&
	   mreg_utf8_is_control(0x7f) && !mreg_utf8_is_control(0xa0),
	   "control: C0, C1 and DEL, not NBSP");
}

int main(void)
{
	test_decode();
	test_encode();
	test_valid_count_locate();
	return tap_done();
}
