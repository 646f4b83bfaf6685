/* claims.h - which file claims a provider/name key
 *
 * A hash map from "provider/name" to the first file (relative path) that
 * defined it in this run.  import-dir uses two: the claims of the files
 * handled so far, and the owners recorded in the content-hash cache.  A
 * claim can hold one item that waits for another file (deferred); the
 * map owns it and frees it with the function given to finish.
 */
#ifndef MREG_CLAIMS_H
#define MREG_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>

#include "strmap.h"

struct mreg_claim {
	char *key;
	char *rel;
	bool borrowed;           /* key and rel belong to someone else */
	bool conflicted;
	bool written;            /* its file's row left in a batch */
	void *deferred;          /* waiting for the recorded owner's file */
};

/* Zero-initialise; the map (strmap.h) is created on the first take. */
struct mreg_claim_slab;

struct mreg_claims {
	struct mreg_strmap *map;
	size_t count;
	/* the claims themselves, allocated many at a time: a cache of
	 * 10,000 files claims them all at once (import-write.c) */
	struct mreg_claim_slab *slabs;
};

/* Free every claim, and each deferred item with drop (may be NULL). */
void mreg_claims_finish(struct mreg_claims *c, void (*drop)(void *));

/* The claim of key, or NULL. */
struct mreg_claim *mreg_claims_find(const struct mreg_claims *c,
				    const char *key);

/* Make room for n claims at once (-1 when out of memory): a map filled
 * from a cache of known size is then never rebuilt as it grows. */
int mreg_claims_reserve(struct mreg_claims *c, size_t n);

/*
 * Claim key for rel.  Returns NULL when rel is the first, else the claim
 * of the file that came first; *oom is set when out of memory (and NULL
 * returned).  With borrow, key and rel are kept as given (they must
 * outlive the map), else copied.
 */
struct mreg_claim *mreg_claims_take(struct mreg_claims *c, const char *key,
				    const char *rel, bool borrow, bool *oom);

/*
 * Iterate over the claims: start with *pos = 0; NULL at the end.  No
 * take while iterating.
 */
struct mreg_claim *mreg_claims_next(const struct mreg_claims *c, size_t *pos);

#endif
