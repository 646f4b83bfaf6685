/* jsoncheck.h - the JSON type checks of model files and bulk-update items
 *
 * One set of checks and one message style for every JSON mreg reads
 * from users (import-dir's model files, bulk-update's items):
 *
 *   key 'tags': must be an array of strings, not a string
 *   key 'set.tags_add': item 2 must be a string, not an integer
 *   key 'set.description': must be a string or null, not a number
 *
 * A nested key is named by its path ('set.description', 'where.type').
 * Every error is MREG_EXIT_DATA; the caller adds the position.
 */
#ifndef MREG_JSONCHECK_H
#define MREG_JSONCHECK_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* "an object", "an array", "a string", "an integer", "a number" (a
 * real), "a boolean", "null". */
const char *mreg_json_type_name(const json_t *v);

/* Sets err to "key '<key>': <fmt ...>"; returns -1. */
__attribute__((format(printf, 3, 4)))
int mreg_json_key_error(struct mreg_error *err, const char *key,
			const char *fmt, ...);

/* Sets err to "key '<key>': must be <want>, not <type of v>"; -1. */
int mreg_json_want(struct mreg_error *err, const char *key, const json_t *v,
		   const char *want);

/*
 * v must be an array of non-empty, distinct strings, each at most
 * max_chars characters (0: no limit).  0, or -1 with err set.  When
 * sorted is not NULL, *sorted gets the strings in order (caller frees;
 * NULL for an empty array) and *n their number.
 */
int mreg_json_check_strings(struct mreg_error *err, const char *key,
			    const json_t *v, size_t max_chars,
			    const char ***sorted, size_t *n);

#endif
