/* fuzz.h - what every fuzz target shares
 *
 * A target defines LLVMFuzzerTestOneInput() (and LLVMFuzzerInitialize()
 * where it needs set-up).  It is linked either with libFuzzer
 * (-Dfuzz=true, clang) or with replay.c, which feeds it the committed
 * corpus in the normal test suite.  A property that does not hold is a
 * crash: fuzz_check() says which and aborts, so libFuzzer keeps the input.
 */
#ifndef MREG_FUZZ_H
#define MREG_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

__attribute__((format(printf, 3, 4), unused))
static void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: property violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define fuzz_check(cond, ...)                                                \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);          \
	} while (0)

/* A NUL-terminated copy of data (the targets that take C strings). */
__attribute__((unused))
static char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Occurrences of needle (non-empty) in hay[0..haylen), overlapping. */
__attribute__((unused))
static size_t fuzz_count(const char *hay, size_t haylen, const char *needle,
			 size_t nlen)
{
	size_t i, n = 0;

	if (nlen == 0 || nlen > haylen)
		return 0;
	for (i = 0; i + nlen <= haylen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			n++;
	return n;
}

/*
 * Independent of common/: is s[0..len) well-formed UTF-8 (shortest form,
 * no surrogates, at most U+10FFFF)?  Counts the characters into *chars and
 * sets *control when one is C0, DEL or C1.
 */
__attribute__((unused))
static int fuzz_utf8(const char *str, size_t len, size_t *chars, int *control)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n = 0;

	*control = 0;
	while (i < len) {
		unsigned long cp;
		size_t k, need;

		if (s[i] < 0x80) {
			cp = s[i];
			need = 0;
		} else if ((s[i] & 0xe0) == 0xc0) {
			cp = s[i] & 0x1f;
			need = 1;
		} else if ((s[i] & 0xf0) == 0xe0) {
			cp = s[i] & 0x0f;
			need = 2;
		} else if ((s[i] & 0xf8) == 0xf0) {
			cp = s[i] & 0x07;
			need = 3;
		} else {
			return 0;
		}
		if (len - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			*control = 1;
		i += need + 1;
		n++;
	}
	*chars = n;
	return 1;
}

#endif
