/* hex.h - the value of one hexadecimal digit */
#ifndef MREG_HEX_H
#define MREG_HEX_H

/*
 * 0-15 for 0-9, a-f, A-F; -1 for anything else.  A table, not tests:
 * digests are random digits and letters, and the branches of a test per
 * class mispredicted half the time (10,000 digests decoded per cache
 * load cost ~3.5 ms that way, ~0.3 ms this way).
 */
static const signed char mreg_hex_digits[256] = {
	/* the value + 1: 0 is "not a digit" */
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline int mreg_hex_value(char c)
{
	return mreg_hex_digits[(unsigned char)c] - 1;
}

#endif
