/* claims.c - which file claims a provider/name key */
#include <stdlib.h>
#include <string.h>

#include "claims.h"

/* A claim, without its deferred item (finish drops those first). */
static void claim_free(void *p)
{
	struct mreg_claim *x = p;

	if (!x->borrowed) {
		free(x->key);
		free(x->rel);
	}
	free(x);
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

	*oom = false;
	if ((x = mreg_strmap_get(c->map, key)) != NULL)
		return x;
	if (!c->map && !(c->map = mreg_strmap_create(4096))) {
		*oom = true;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x && borrow) {
		/* strings owned by the caller, which outlive the claims */
		x->key = (char *)key;
		x->rel = (char *)rel;
		x->borrowed = true;
	} else if (!x || !(x->key = strdup(key)) || !(x->rel = strdup(rel))) {
		if (x)
			free(x->key);
		free(x);
		*oom = true;
		return NULL;
	}
	if (mreg_strmap_put(c->map, x->key, x, NULL) < 0) {
		claim_free(x);
		*oom = true;
		return NULL;
	}
	c->count++;
	return NULL;
}

struct mreg_claim *mreg_claims_next(const struct mreg_claims *c, size_t *pos)
{
	return mreg_strmap_next(c->map, pos, NULL);
}
