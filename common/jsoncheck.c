/* jsoncheck.c - the JSON type checks of model files and bulk-update items */
#include "jsoncheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

const char *mreg_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: /* fall through */
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

int mreg_json_key_error(struct mreg_error *err, const char *key,
			const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mreg_error_set(err, MREG_EXIT_DATA, "key '%s': %s", key, msg);
	return -1;
}

int mreg_json_want(struct mreg_error *err, const char *key, const json_t *v,
		   const char *want)
{
	return mreg_json_key_error(err, key, "must be %s, not %s", want,
				   mreg_json_type_name(v));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int mreg_json_check_strings(struct mreg_error *err, const char *key,
			    const json_t *v, size_t max_chars,
			    const char ***sorted, size_t *n)
{
	const char **s = NULL;
	const json_t *item;
	size_t i, count;
	int rc = -1;

	if (!json_is_array(v))
		return mreg_json_want(err, key, v, "an array of strings");
	count = json_array_size(v);
	if (count > 0 && !(s = calloc(count, sizeof(*s)))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	json_array_foreach(v, i, item) {
		const char *text = json_string_value(item);

		if (!json_is_string(item)) {
			mreg_json_key_error(err, key,
					    "item %zu must be a string, not %s",
					    i, mreg_json_type_name(item));
			goto cleanup;
		}
		if (json_string_length(item) == 0) {
			mreg_json_key_error(err, key,
					    "item %zu is an empty string", i);
			goto cleanup;
		}
		if (max_chars &&
		    mreg_utf8_chars(text, strlen(text)) > max_chars) {
			mreg_json_key_error(err, key,
					    "item %zu is longer than %zu "
					    "characters", i, max_chars);
			goto cleanup;
		}
		s[i] = text;
	}
	/* a tag or synonym listed twice is a mistake, not a wish */
	if (count > 1)
		qsort(s, count, sizeof(*s), cmp_str);
	for (i = 1; i < count; i++) {
		if (strcmp(s[i - 1], s[i]) == 0) {
			mreg_json_key_error(err, key, "\"%s\" is listed twice",
					    s[i]);
			goto cleanup;
		}
	}
	rc = 0;
	if (sorted) {
		*sorted = s;
		*n = count;
		s = NULL;
	}
cleanup:
	free(s);
	return rc;
}
