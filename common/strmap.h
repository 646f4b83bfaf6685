/* strmap.h - the one string-keyed hash map
 *
 * Open addressing with linear probing over FNV-1a (strhash.h), a power
 * of two of slots, at most half full.  The map borrows its keys: each
 * key must stay valid, unchanged, while it is in the map (usually it
 * lives in the value it maps to).  Values are the caller's; destroy
 * hands each to drop when one is given.  No removal: the import's
 * tables only grow, and dropping deletion keeps probing trivial.
 *
 * Not thread-safe: one owner at a time.
 */
#ifndef MREG_STRMAP_H
#define MREG_STRMAP_H

#include <stddef.h>

struct mreg_strmap;

/* An empty map sized for about hint entries (0: a small default). */
struct mreg_strmap *mreg_strmap_create(size_t hint);

/* Free the map, each value through drop when drop is not NULL; NULL-safe. */
void mreg_strmap_destroy(struct mreg_strmap *m, void (*drop)(void *value));

/* The value of key, or NULL (m may be NULL). */
void *mreg_strmap_get(const struct mreg_strmap *m, const char *key);

/*
 * Map key to value (not NULL), replacing what key mapped to; the value
 * replaced goes to *old (NULL when key is new) when old is not NULL.
 * 0, or -1 when out of memory (the map unchanged).
 */
int mreg_strmap_put(struct mreg_strmap *m, const char *key, void *value,
		    void **old);

/*
 * Map key to value (not NULL) unless key is there already: then nothing
 * changes and its value goes to *existing (NULL when value went in).  One
 * lookup where a get and a put would take two.  0, or -1 when out of
 * memory (the map unchanged).
 */
int mreg_strmap_add(struct mreg_strmap *m, const char *key, void *value,
		    void **existing);

/* Entries in the map (0 for NULL). */
size_t mreg_strmap_count(const struct mreg_strmap *m);

/*
 * Iterate: start with *pos = 0; each call returns the next value (its key
 * in *key when key is not NULL), NULL at the end.  Adding entries while
 * iterating is not allowed.
 */
void *mreg_strmap_next(const struct mreg_strmap *m, size_t *pos,
		       const char **key);

#endif
