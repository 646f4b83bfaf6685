/* strhash.h - FNV-1a over a C string, for the in-memory hash tables */
#ifndef MREG_STRHASH_H
#define MREG_STRHASH_H

#include <stdint.h>

static inline uint64_t mreg_strhash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
