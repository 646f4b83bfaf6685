/* test-strmap.c - the one string-keyed hash map */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strhash.h"
#include "strmap.h"
#include "tap.h"

static int dropped;

static void drop(void *p)
{
	dropped++;
	free(p);
}

static void test_basics(void)
{
	struct mreg_strmap *m = mreg_strmap_create(0);
	int a = 1, b = 2;
	void *old = &a;
	size_t pos = 0;
	const char *key = NULL;

	ok(m != NULL, "create");
	ok(mreg_strmap_get(m, "x") == NULL, "empty map finds nothing");
	ok(mreg_strmap_put(m, "x", &a, &old) == 0 && old == NULL,
	   "a new key: nothing replaced");
	ok(mreg_strmap_get(m, "x") == &a, "get returns the value");
	ok(mreg_strmap_get(m, "") == NULL && mreg_strmap_get(m, "xx") == NULL,
	   "no prefix or partial matches");
	ok(mreg_strmap_put(m, "x", &b, &old) == 0 && old == &a,
	   "put on a known key returns the value replaced");
	is_int(mreg_strmap_count(m), 1, "replacing adds nothing");
	ok(mreg_strmap_next(m, &pos, &key) == &b && key &&
	   strcmp(key, "x") == 0, "next: the one entry and its key");
	ok(mreg_strmap_next(m, &pos, &key) == NULL, "next: then the end");
	mreg_strmap_destroy(m, NULL);
	mreg_strmap_destroy(NULL, drop);
	ok(mreg_strmap_get(NULL, "x") == NULL && mreg_strmap_count(NULL) == 0 &&
	   mreg_strmap_next(NULL, &pos, NULL) == NULL,
	   "NULL map: destroy, get, count and next are safe");
}

static void test_many(void)
{
	struct mreg_strmap *m = mreg_strmap_create(4);
	const int n = 100000; /* many growths */
	char **keys = calloc((size_t)n, sizeof(*keys));
	int i, lost = 0, failed = 0, seen = 0;
	size_t pos = 0;

	for (i = 0; i < n; i++) {
		keys[i] = malloc(32);
		snprintf(keys[i], 32, "p%d/m%d", i % 13, i);
		if (mreg_strmap_put(m, keys[i], keys[i], NULL) < 0)
			failed++;
	}
	is_int(failed, 0, "%d puts", n);
	is_int(mreg_strmap_count(m), n, "count after growing");
	for (i = 0; i < n; i++)
		if (mreg_strmap_get(m, keys[i]) != keys[i])
			lost++;
	is_int(lost, 0, "every key found after growing");
	while (mreg_strmap_next(m, &pos, NULL))
		seen++;
	is_int(seen, n, "iterating visits every entry once");
	dropped = 0;
	mreg_strmap_destroy(m, drop);
	is_int(dropped, n, "destroy hands every value to drop");
	free(keys);
}

/* add: a new key goes in; a key there already keeps its value, which
 * comes back; through the table's growth. */
static void test_add(void)
{
	struct mreg_strmap *m = mreg_strmap_create(0);
	static char keys[3000][16];
	static int vals[3000];
	void *existing = &vals[0];
	int i, wrong = 0;

	for (i = 0; i < 3000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		if (mreg_strmap_add(m, keys[i], &vals[i], &existing) != 0 ||
		    existing != NULL)
			wrong++;
	}
	ok(wrong == 0 && mreg_strmap_count(m) == 3000,
	   "3000 new keys go in, each with no existing value");
	for (i = 0, wrong = 0; i < 3000; i++) {
		char again[16];

		snprintf(again, sizeof(again), "k%d", i);
		if (mreg_strmap_add(m, again, &vals[(i + 1) % 3000], &existing) != 0 ||
		    existing != &vals[i] || mreg_strmap_get(m, again) != &vals[i])
			wrong++;
	}
	ok(wrong == 0 && mreg_strmap_count(m) == 3000,
	   "a key there already: its value comes back and stays");
	mreg_strmap_destroy(m, NULL);
}

/*
 * The tables index by the hash's low bits: keys that differ in one
 * byte anywhere (paths of one directory, numbered names) must still
 * spread over them about as random ones would.
 */
static void test_spread(void)
{
	enum { KEYS = 8000, SLOTS = 16384 };
	static unsigned char used[SLOTS];
	char key[128];
	int distinct = 0, i;
	uint64_t a, b;

	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "d%04d/%06d-openai-gpt-4o-mini-%06d.json",
			 i / 100, i, i);
		size_t slot = (size_t)mreg_strhash(key) & (SLOTS - 1);
		if (!used[slot]++)
			distinct++;
	}
	/* random: SLOTS * (1 - e^(-KEYS/SLOTS)) = 6314 */
	ok(distinct > 6000, "8000 similar paths fill %d of 16384 slots",
	   distinct);
	/* every length up to 40 and every byte of it counts */
	int same = 0;
	for (int len = 1; len <= 40; len++) {
		for (int at = 0; at < len; at++) {
			memset(key, 'x', (size_t)len);
			key[len] = '\0';
			a = mreg_strhash(key);
			key[at] = 'y';
			b = mreg_strhash(key);
			if (a == b || (a & (SLOTS - 1)) == (b & (SLOTS - 1)))
				same++;
		}
		memset(key, 'x', (size_t)len);
		key[len] = '\0';
		a = mreg_strhash(key);
		key[len - 1] = '\0';
		if (a == mreg_strhash(key))
			same++;
	}
	ok(same < 3, "one byte changed or dropped changes the slot (%d alike)",
	   same);
}

int main(void)
{
	test_basics();
	test_many();
	test_spread();
	test_add();
	return tap_done();
}
