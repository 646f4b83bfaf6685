/* claims.c - which file claims a provider/name key */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "strhash.h"

void mreg_claims_finish(struct mreg_claims *c, void (*drop)(void *))
{
	struct mreg_claim *x, *next;
	size_t i;

	for (i = 0; i < c->n; i++)
		for (x = c->b[i]; x; x = next) {
			next = x->next;
			if (drop && x->deferred)
				drop(x->deferred);
			if (!x->borrowed) {
				free(x->key);
				free(x->rel);
			}
			free(x);
		}
	free(c->b);
	c->b = NULL;
	c->n = c->count = 0;
}

static int claims_grow(struct mreg_claims *c)
{
	size_t n = c->n ? c->n * 4 : 4096, i;
	struct mreg_claim **b = calloc(n, sizeof(*b)), *x, *next;

	if (!b)
		return -1;
	for (i = 0; i < c->n; i++)
		for (x = c->b[i]; x; x = next) {
			size_t h = mreg_strhash(x->key) & (n - 1);
			next = x->next;
			x->next = b[h];
			b[h] = x;
		}
	free(c->b);
	c->b = b;
	c->n = n;
	return 0;
}

struct mreg_claim *mreg_claims_find(const struct mreg_claims *c,
				    const char *key)
{
	struct mreg_claim *x;

	if (c->n == 0)
		return NULL;
	for (x = c->b[mreg_strhash(key) & (c->n - 1)]; x; x = x->next)
		if (strcmp(x->key, key) == 0)
			return x;
	return NULL;
}

struct mreg_claim *mreg_claims_take(struct mreg_claims *c, const char *key,
				    const char *rel, bool borrow, bool *oom)
{
	struct mreg_claim *x;
	size_t h;

	*oom = false;
	if (c->count >= c->n && claims_grow(c) < 0) {
		*oom = true;
		return NULL;
	}
	h = mreg_strhash(key) & (c->n - 1);
	for (x = c->b[h]; x; x = x->next)
		if (strcmp(x->key, key) == 0)
			return x;
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
	x->next = c->b[h];
	c->b[h] = x;
	c->count++;
	return NULL;
}
