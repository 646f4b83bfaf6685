/* modelfile-quick.c - the quick way through a plain model file
 *
 * Most model files are plain: no escape in any string, no artifacts, no
 * unknown or doubled key, values of the right types.  For those, one pass
 * over the text checks what jansson would check (the grammar, duplicate
 * keys at every depth, what jsonb cannot hold) and what validate() in
 * modelfile.c checks, and fills the model directly: no tree, no masked
 * copy, no second scan for the text of config and metadata.  Whatever it
 * does not recognise (a backslash, a control character in a string,
 * artifacts, a wrong type, a missing key, a bad slug, deep nesting, ...)
 * it leaves to the general way, which decides and words every error: the
 * quick way never rejects a file, it only declines.  fuzz-modelfile
 * checks that both ways agree on every input the quick way takes.
 */
#include "modelfile.h"

#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "utf8.h"

/* Nesting inside config and metadata it takes (jansson allows 2048). */
#define QUICK_MAX_DEPTH 32
/* Keys per object, and items of tags and synonyms, it compares pairwise. */
#define QUICK_MAX_KEYS 64

struct quick {
	const char *s;
	size_t len, i;
};

struct span {
	const char *p;
	size_t n;
};

enum key {
	K_NAME, K_PROVIDER, K_TYPE, K_VERSION, K_DISPLAY_NAME, K_DESCRIPTION,
	K_TAGS, K_SYNONYMS, K_ACTIVE, K_CONFIG, K_METADATA, K_NKEYS,
};

static const char *const key_names[K_NKEYS] = {
	"name", "provider", "type", "version", "display_name", "description",
	"tags", "synonyms", "active", "config", "metadata",
};

static void skip_ws(struct quick *q)
{
	q->i = mreg_json_skip_ws(q->s, q->len, q->i);
}

/* At the byte after a value: white space, then one of stops, or false. */
static bool at_stop(struct quick *q, const char *stops)
{
	skip_ws(q);
	return q->i < q->len && strchr(stops, q->s[q->i]) != NULL &&
	       q->s[q->i] != '\0';
}

/* A string at q->i ('"') without escapes or control characters (the
 * text is known to be UTF-8 without NUL): its bytes between the quotes. */
static bool string(struct quick *q, struct span *out)
{
	const unsigned char *s = (const unsigned char *)q->s;
	size_t i = q->i + 1;

	for (; i < q->len; i++) {
		if (s[i] == '"') {
			out->p = q->s + q->i + 1;
			out->n = i - q->i - 1;
			q->i = i + 1;
			return true;
		}
		if (s[i] == '\\' || s[i] < 0x20)
			return false;
	}
	return false;
}

static bool same(const struct span *a, const struct span *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* The literal w at q->i: taken (true), or nothing moved. */
static bool word(struct quick *q, const char *w)
{
	size_t n = strlen(w);

	if (q->len - q->i < n || memcmp(q->s + q->i, w, n) != 0)
		return false;
	q->i += n;
	return true;
}

static bool value(struct quick *q, int depth);

/* An object or an array at q->i, every key unique, at most depth deep. */
static bool container(struct quick *q, int depth)
{
	bool object = q->s[q->i] == '{';
	char close = object ? '}' : ']';
	struct span keys[QUICK_MAX_KEYS];
	size_t n = 0, k;

	if (depth > QUICK_MAX_DEPTH)
		return false;
	q->i++;
	skip_ws(q);
	if (q->i < q->len && q->s[q->i] == close) {
		q->i++;
		return true;
	}
	for (;;) {
		if (object) {
			if (q->i >= q->len || q->s[q->i] != '"' || n == QUICK_MAX_KEYS ||
			    !string(q, &keys[n]))
				return false;
			for (k = 0; k < n; k++)
				if (same(&keys[k], &keys[n]))
					return false;
			n++;
			if (!at_stop(q, ":"))
				return false;
			q->i++;
			skip_ws(q);
		}
		if (!value(q, depth + 1) || !at_stop(q, object ? ",}" : ",]"))
			return false;
		if (q->s[q->i++] == close)
			return true;
		skip_ws(q);
	}
}

/* Any JSON value at q->i (no white space before it). */
static bool value(struct quick *q, int depth)
{
	struct span str;
	size_t n;
	bool real;
	char c;

	if (q->i >= q->len)
		return false;
	c = q->s[q->i];
	if (c == '"')
		return string(q, &str);
	if (c == '{' || c == '[')
		return container(q, depth);
	if (c == '-' || (c >= '0' && c <= '9')) {
		n = mreg_json_number_len(q->s, q->len, q->i, &real);
		if (n == 0 || mreg_json_numeric_check(q->s + q->i, n) != NULL)
			return false;
		q->i += n;
		return true;
	}
	return word(q, "true") || word(q, "false") || word(q, "null");
}

/* The top-level key at q->i, or K_NKEYS when it is not a plain known
 * key. */
static enum key top_key(struct quick *q)
{
	struct span k;
	int i;

	if (q->i >= q->len || q->s[q->i] != '"' || !string(q, &k))
		return K_NKEYS;
	for (i = 0; i < K_NKEYS; i++)
		if (strlen(key_names[i]) == k.n &&
		    memcmp(key_names[i], k.p, k.n) == 0)
			return (enum key)i;
	return K_NKEYS;
}

/*
 * tags or synonyms: an array of non-empty, distinct strings, each at most
 * max_chars characters (0: no limit); its compact JSON (what json_dumps
 * writes for strings that need no escape) into *out.
 */
static bool string_array(struct quick *q, size_t max_chars, char **out)
{
	struct span items[QUICK_MAX_KEYS];
	size_t n = 0, k, size = 3;
	char *o;

	if (q->i >= q->len || q->s[q->i] != '[')
		return false;
	q->i++;
	skip_ws(q);
	if (q->i < q->len && q->s[q->i] == ']') {
		q->i++;
	} else {
		for (;;) {
			if (q->i >= q->len || q->s[q->i] != '"' ||
			    n == QUICK_MAX_KEYS || !string(q, &items[n]) ||
			    items[n].n == 0 ||
			    (max_chars &&
			     mreg_utf8_chars(items[n].p, items[n].n) > max_chars))
				return false;
			for (k = 0; k < n; k++)
				if (same(&items[k], &items[n]))
					return false;
			size += items[n].n + 3;
			n++;
			if (!at_stop(q, ",]"))
				return false;
			if (q->s[q->i++] == ']')
				break;
			skip_ws(q);
		}
	}
	if (!(o = malloc(size)))
		return false;
	*out = o;
	*o++ = '[';
	for (k = 0; k < n; k++) {
		if (k > 0)
			*o++ = ',';
		*o++ = '"';
		memcpy(o, items[k].p, items[k].n);
		o += items[k].n;
		*o++ = '"';
	}
	*o++ = ']';
	*o = '\0';
	return true;
}

static char *dup_span(const struct span *sp)
{
	char *d = malloc(sp->n + 1);

	if (d) {
		memcpy(d, sp->p, sp->n);
		d[sp->n] = '\0';
	}
	return d;
}

/* One member's value at q->i, into m. */
static bool member(struct quick *q, enum key k, struct mreg_model *m)
{
	char **strings[] = {
		[K_NAME] = &m->name, [K_PROVIDER] = &m->provider,
		[K_TYPE] = &m->type, [K_VERSION] = &m->version,
		[K_DISPLAY_NAME] = &m->display_name,
		[K_DESCRIPTION] = &m->description,
	};
	struct span sp;
	size_t from = q->i;

	switch (k) {
	case K_TAGS:
		return string_array(q, MREG_TAG_MAX_CHARS, &m->tags_json);
	case K_SYNONYMS:
		return string_array(q, 0, &m->synonyms_json);
	case K_ACTIVE:
		if (word(q, "true"))
			m->active = true;
		else if (word(q, "false"))
			m->active = false;
		else
			return false;
		return true;
	case K_CONFIG:
	case K_METADATA:
		if (q->i >= q->len || q->s[q->i] != '{' || !container(q, 1))
			return false;
		sp.p = q->s + from;
		sp.n = q->i - from;
		return (*(k == K_CONFIG ? &m->config_json : &m->metadata_json) =
				dup_span(&sp)) != NULL;
	case K_NKEYS:
		return false;
	default:
		return q->i < q->len && q->s[q->i] == '"' && string(q, &sp) &&
		       (*strings[k] = dup_span(&sp)) != NULL;
	}
}

static bool defaults(char **field, const char *text)
{
	return *field || (*field = strdup(text)) != NULL;
}

int mreg_model_quick(const char *buf, size_t len, struct mreg_model *m)
{
	struct quick q = { .s = buf, .len = len, .i = 0 };
	bool seen[K_NKEYS] = { false };
	enum key k;

	memset(m, 0, sizeof(*m));
	m->active = true;
	skip_ws(&q);
	if (q.i >= len || buf[q.i] != '{')
		return 0;
	q.i++;
	skip_ws(&q);
	if (q.i < len && buf[q.i] == '}')
		goto decline; /* no name: the general way says so */
	for (;;) {
		k = top_key(&q);
		if (k == K_NKEYS || seen[k] || !at_stop(&q, ":"))
			goto decline;
		seen[k] = true;
		q.i++;
		skip_ws(&q);
		if (!member(&q, k, m) || !at_stop(&q, ",}"))
			goto decline;
		if (buf[q.i++] == '}')
			break;
		skip_ws(&q);
	}
	skip_ws(&q);
	if (q.i != len || !seen[K_NAME] || !seen[K_PROVIDER] || !seen[K_TYPE] ||
	    !mreg_is_slug(m->provider) || !mreg_is_slug(m->type) ||
	    mreg_check_name(m->name) != NULL ||
	    !defaults(&m->tags_json, "[]") ||
	    !defaults(&m->synonyms_json, "[]") ||
	    !defaults(&m->config_json, "{}") ||
	    !defaults(&m->metadata_json, "{}"))
		goto decline;
	return 1;
decline:
	mreg_model_finish(m);
	return 0;
}
