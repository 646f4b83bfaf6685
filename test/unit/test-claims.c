/* test-claims.c - the provider/name claims map */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "tap.h"

static int dropped;

static void drop(void *p)
{
	dropped++;
	free(p);
}

static void test_first_wins(void)
{
	struct mreg_claims c = { 0 };
	struct mreg_claim *x;
	char key[] = "acme/m1", rel[] = "a.json";
	bool oom = true;

	ok(mreg_claims_find(&c, "acme/m1") == NULL, "empty map finds nothing");
	x = mreg_claims_take(&c, key, rel, false, &oom);
	ok(x == NULL && !oom, "first claim of a key returns NULL");
	/* the map copied the strings: changing ours must not matter */
	key[0] = 'X';
	rel[0] = 'X';
	x = mreg_claims_take(&c, "acme/m1", "b.json", false, &oom);
	ok(x != NULL && !oom, "second claim returns the first claim");
	if (x) {
		is_str(x->rel, "a.json", "the first file keeps the claim");
		is_str(x->key, "acme/m1", "key copied");
		ok(!x->borrowed && !x->conflicted && !x->deferred,
		   "a new claim is owned, not conflicted, with nothing waiting");
	}
	x = mreg_claims_take(&c, "acme/m2", "b.json", false, &oom);
	ok(x == NULL && !oom, "another key is claimed independently");
	is_int(c.count, 2, "two keys claimed");
	x = mreg_claims_find(&c, "acme/m2");
	ok(x && strcmp(x->rel, "b.json") == 0, "find returns the claim");
	ok(mreg_claims_find(&c, "acme/m") == NULL &&
	   mreg_claims_find(&c, "acme/m12") == NULL &&
	   mreg_claims_find(&c, "") == NULL, "no prefix or partial matches");
	mreg_claims_finish(&c, drop);
	ok(c.map == NULL && c.count == 0, "finish empties the map");
	mreg_claims_finish(&c, drop);
	ok(1, "finish twice is safe");
}

static void test_borrow_and_deferred(void)
{
	struct mreg_claims c = { 0 };
	struct mreg_claim *x;
	const char *key = "p/n", *rel = "dir/x.json";
	bool oom;

	x = mreg_claims_take(&c, key, rel, true, &oom);
	ok(x == NULL && !oom, "borrowed claim taken");
	x = mreg_claims_find(&c, "p/n");
	ok(x && x->borrowed && x->key == key && x->rel == rel,
	   "a borrowed claim keeps the caller's strings");
	if (x)
		x->deferred = malloc(16);
	dropped = 0;
	mreg_claims_finish(&c, drop);
	is_int(dropped, 1, "finish drops the deferred item");
	/* no drop function: only claims with nothing waiting are fine */
	mreg_claims_take(&c, "q/r", "y.json", false, &oom);
	mreg_claims_finish(&c, NULL);
	ok(c.count == 0, "finish without a drop function");
}

static void test_many(void)
{
	struct mreg_claims c = { 0 };
	char key[64], rel[64];
	struct mreg_claim *x;
	int i, wrong = 0, lost = 0;
	size_t pos;
	bool oom = false;
	const int n = 50000; /* past several growths of the table */

	for (i = 0; i < n && !oom; i++) {
		snprintf(key, sizeof(key), "provider%d/model%d", i % 97, i);
		snprintf(rel, sizeof(rel), "f%d.json", i);
		if (mreg_claims_take(&c, key, rel, false, &oom) != NULL)
			wrong++;
	}
	ok(!oom, "no out of memory");
	is_int(wrong, 0, "every distinct key is a first claim");
	is_int(c.count, n, "count after %d claims", n);
	is_int(mreg_strmap_count(c.map), n, "the map holds every claim");
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "provider%d/model%d", i % 97, i);
		snprintf(rel, sizeof(rel), "f%d.json", i);
		x = mreg_claims_find(&c, key);
		if (!x || strcmp(x->rel, rel) != 0)
			lost++;
	}
	is_int(lost, 0, "every claim found after growing");
	for (i = 0, pos = 0; mreg_claims_next(&c, &pos) != NULL; i++)
		;
	is_int(i, n, "iterating visits every claim once");
	snprintf(key, sizeof(key), "provider%d/model%d", 5 % 97, 5);
	x = mreg_claims_take(&c, key, "other.json", false, &oom);
	ok(x && strcmp(x->rel, "f5.json") == 0,
	   "a repeated key after growing returns the first claim");
	is_int(c.count, n, "a repeated key adds nothing");
	mreg_claims_finish(&c, NULL);
}

/* Room made at once: the map takes every claim without a rebuild, and
 * a second reserve leaves a map that holds claims as it is. */
static void test_reserve(void)
{
	struct mreg_claims c = { 0 };
	struct mreg_strmap *before;
	char key[64];
	int i, wrong = 0;
	bool oom = false;

	ok(mreg_claims_reserve(&c, 10000) == 0 && c.map != NULL,
	   "reserve creates the map");
	before = c.map;
	for (i = 0; i < 10000 && !oom; i++) {
		snprintf(key, sizeof(key), "p/m%d", i);
		if (mreg_claims_take(&c, key, "f.json", false, &oom) != NULL)
			wrong++;
	}
	ok(!oom && wrong == 0 && c.count == 10000, "10000 claims taken");
	ok(mreg_claims_reserve(&c, 50000) == 0 && c.map == before &&
	   mreg_claims_find(&c, "p/m9999") != NULL,
	   "a second reserve keeps the map and its claims");
	/* borrowed claims of keys there already: the first comes back,
	 * nothing is added, and a new key after them is right */
	static const char k1[] = "p/m5", r1[] = "other.json";
	static const char k2[] = "p/new", r2[] = "new.json";
	struct mreg_claim *x = mreg_claims_take(&c, k1, r1, true, &oom);
	ok(!oom && x && strcmp(x->rel, "f.json") == 0 && c.count == 10000,
	   "a borrowed repeat returns the first claim and adds nothing");
	x = mreg_claims_take(&c, k2, r2, true, &oom);
	ok(!oom && x == NULL && c.count == 10001, "then a new borrowed key");
	x = mreg_claims_find(&c, "p/new");
	ok(x && x->rel == r2 && x->borrowed && !x->conflicted && !x->deferred,
	   "the new claim is whole and clean (its slot reused, zeroed)");
	mreg_claims_finish(&c, NULL);
}

int main(void)
{
	test_first_wins();
	test_borrow_and_deferred();
	test_many();
	test_reserve();
	return tap_done();
}
