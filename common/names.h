/* names.h - names in the registry, for shell completion
 *
 * A short list of the types, providers, models or tags that start with a
 * prefix.  What the shells offer; the caller prints.
 */
#ifndef MREG_NAMES_H
#define MREG_NAMES_H

#include <stddef.h>

#include "error.h"
#include "pool.h"

enum mreg_names_kind {
	MREG_NAMES_TYPES,
	MREG_NAMES_PROVIDERS,
	/* "provider/" while the prefix has no '/', then "provider/name" */
	MREG_NAMES_MODELS,
	MREG_NAMES_TAGS,
};

struct mreg_names {
	char **v;   /* n strings, malloc'd */
	size_t n;
};

/* The kind named "types", "providers", "models" or "tags"; -1 if none. */
int mreg_names_kind_from(const char *name);

/*
 * Fill names (empty on entry) with at most 500 values of kind starting
 * with prefix (NULL: any), under a 2 s statement timeout.  0 ok, -1 with
 * err filled; names holds nothing then.
 */
int mreg_names_lookup(struct mreg_conn *conn, enum mreg_names_kind kind,
		      const char *prefix, struct mreg_names *names,
		      struct mreg_error *err);

/* Free what names holds (NULL-safe); leaves it empty. */
void mreg_names_finish(struct mreg_names *names);

#endif
