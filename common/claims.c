/* claims.c - which file claims a provider/name key */
#include <stdlib.h>
#include <string.h>

#include "claims.h"

#define CLAIMS_PER_SLAB 512

struct mreg_claim_slab {
	struct mreg_claim_slab *next;
	size_t used;
	struct mreg_claim items[CLAIMS_PER_SLAB];
};

/* A zeroed claim from the current slab (a new one when it is full). */
static struct mreg_claim *claim_alloc(struct mreg_claims *c)
{
	struct mreg_claim_slab *s = c->slabs;

	if (!s || s->used == CLAIMS_PER_SLAB) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->next = c->slabs;
		c->slabs = s;
	}
	return &s->items[s->used++];
}

/* Give back x, the claim claim_alloc() returned last, zeroed. */
static void claim_unalloc(struct mreg_claims *c, struct mreg_claim *x)
{
	memset(x, 0, sizeof(*x));
	if (c->slabs && c->slabs->used > 0 &&
	    &c->slabs->items[c->slabs->used - 1] == x)
		c->slabs->used--;
}

/* A claim's strings, without its deferred item (finish drops those
 * first); the claim itself goes with its slab. */
static void claim_free(void *p)
{
	struct mreg_claim *x = p;

	if (!x->borrowed) {
		free(x->key);
		free(x->rel);
	}
}

void mreg_claims_finish(struct mreg_claims *c, void (*drop)(void *))
{
	struct mreg_claim *x;
	size_t pos = 0;

	while ((x = mreg_strmap_next(c->map, &pos, NULL)) != NULL) {
		if (drop && x->deferred)
			drop(x->deferred);
		x->deferred = NULL;
	}
	mreg_strmap_destroy(c->map, claim_free);
	c->map = NULL;
	c->count = 0;
	while (c->slabs) {
		struct mreg_claim_slab *next = c->slabs->next;

		free(c->slabs);
		c->slabs = next;
	}
}

struct mreg_claim *mreg_claims_find(const struct mreg_claims *c,
				    const char *key)
{
	return mreg_strmap_get(c->map, key);
}

int mreg_claims_reserve(struct mreg_claims *c, size_t n)
{
	if (c->map)
		return 0;
	c->map = mreg_strmap_create(n);
	return c->map ? 0 : -1;
}

struct mreg_claim *mreg_claims_take(struct mreg_claims *c, const char *key,
				    const char *rel, bool borrow, bool *oom)
{
	struct mreg_claim *x;
	void *existing;

	*oom = false;
	if (!c->map && !(c->map = mreg_strmap_create(4096))) {
		*oom = true;
		return NULL;
	}
	/* a borrowed claim goes in by one lookup (10,000 of them at once
	 * when import-dir activates its claims); a copied one is looked up
	 * first, so that its strings are copied only when it is new */
	if (!borrow && (x = mreg_strmap_get(c->map, key)) != NULL)
		return x;
	x = claim_alloc(c);
	if (x && borrow) {
		/* strings owned by the caller, which outlive the claims */
		x->key = (char *)key;
		x->rel = (char *)rel;
		x->borrowed = true;
	} else if (!x || !(x->key = strdup(key)) || !(x->rel = strdup(rel))) {
		if (x) {
			free(x->key);
			x->key = NULL;
		}
		*oom = true;
		return NULL;
	}
	if (mreg_strmap_add(c->map, x->key, x, &existing) < 0) {
		claim_free(x);
		claim_unalloc(c, x);
		*oom = true;
		return NULL;
	}
	if (existing) {
		claim_free(x);
		claim_unalloc(c, x);
		return existing;
	}
	c->count++;
	return NULL;
}

struct mreg_claim *mreg_claims_next(const struct mreg_claims *c, size_t *pos)
{
	return mreg_strmap_next(c->map, pos, NULL);
}
