/* strmap.c - the one string-keyed hash map (see strmap.h) */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strhash.h"

struct slot {
	const char *key; /* NULL: empty */
	void *value;
	uint64_t hash;
};

struct mreg_strmap {
	struct slot *slots;
	size_t cap;   /* a power of two */
	size_t count; /* at most cap / 2 */
};

/*
 * Slots for cap entries, zeroed and written once per page.  A large
 * calloc() is fresh memory that the kernel maps to its zero page on the
 * first read; the lookup before each insert reads a slot first, so the
 * write after it took a second fault that copies the page and, the
 * process being threaded, flushes the other cores' TLBs with an
 * interrupt: ~4 ms of the 10,000 inserts of import-dir's claims.
 * Writing first maps each page once, writable.
 */
static struct slot *slots_alloc(size_t cap)
{
	volatile char *p = calloc(cap, sizeof(struct slot));
	size_t i, n = cap * sizeof(struct slot);

	for (i = 0; p && i < n; i += 4096)
		p[i] = 0;
	return (struct slot *)p;
}

struct mreg_strmap *mreg_strmap_create(size_t hint)
{
	struct mreg_strmap *m = calloc(1, sizeof(*m));
	size_t cap = 16;

	if (!m)
		return NULL;
	while (cap / 2 < hint && cap < SIZE_MAX / 4 / sizeof(struct slot))
		cap *= 2;
	m->slots = slots_alloc(cap);
	if (!m->slots) {
		free(m);
		return NULL;
	}
	m->cap = cap;
	return m;
}

void mreg_strmap_destroy(struct mreg_strmap *m, void (*drop)(void *value))
{
	size_t i;

	if (!m)
		return;
	if (drop)
		for (i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				drop(m->slots[i].value);
	free(m->slots);
	free(m);
}

/* The slot of key, or the empty slot where it would go. */
static struct slot *find(const struct mreg_strmap *m, const char *key,
			 uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->slots[i].key && (m->slots[i].hash != h ||
				   strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static int grow(struct mreg_strmap *m)
{
	struct mreg_strmap bigger = { 0 };
	size_t i;

	if (m->cap > SIZE_MAX / 2 / sizeof(struct slot))
		return -1;
	bigger.cap = m->cap * 2;
	bigger.slots = slots_alloc(bigger.cap);
	if (!bigger.slots)
		return -1;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find(&bigger, m->slots[i].key, m->slots[i].hash) =
				m->slots[i];
	free(m->slots);
	m->slots = bigger.slots;
	m->cap = bigger.cap;
	return 0;
}

void *mreg_strmap_get(const struct mreg_strmap *m, const char *key)
{
	struct slot *s;

	if (!m)
		return NULL;
	s = find(m, key, mreg_strhash(key));
	return s->key ? s->value : NULL;
}

/* Key, new, into the empty slot s that find() gave for hash h. */
static int insert_new(struct mreg_strmap *m, struct slot *s, const char *key,
		      void *value, uint64_t h)
{
	if (m->count + 1 > m->cap / 2) {
		if (grow(m) < 0)
			return -1;
		s = find(m, key, h);
	}
	s->key = key;
	s->value = value;
	s->hash = h;
	m->count++;
	return 0;
}

int mreg_strmap_add(struct mreg_strmap *m, const char *key, void *value,
		    void **existing)
{
	uint64_t h = mreg_strhash(key);
	struct slot *s = find(m, key, h);

	*existing = s->key ? s->value : NULL;
	return s->key ? 0 : insert_new(m, s, key, value, h);
}

int mreg_strmap_put(struct mreg_strmap *m, const char *key, void *value,
		    void **old)
{
	uint64_t h = mreg_strhash(key);
	struct slot *s = find(m, key, h);

	if (old)
		*old = s->key ? s->value : NULL;
	if (s->key) {
		s->key = key;
		s->value = value;
		return 0;
	}
	return insert_new(m, s, key, value, h);
}

size_t mreg_strmap_count(const struct mreg_strmap *m)
{
	return m ? m->count : 0;
}

void *mreg_strmap_next(const struct mreg_strmap *m, size_t *pos,
		       const char **key)
{
	if (!m)
		return NULL;
	for (; *pos < m->cap; (*pos)++)
		if (m->slots[*pos].key) {
			if (key)
				*key = m->slots[*pos].key;
			return m->slots[(*pos)++].value;
		}
	return NULL;
}
