/* modelfile.c - parse and validate one model definition file */
#include "modelfile.h"
#include "jsoncheck.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsontext.h"

bool mreg_is_slug(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];
		if (i >= MREG_SLUG_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * White space (Unicode White_Space) and the invisible characters that
 * show as nothing (zero-width spaces and joiners, word joiner, BOM).
 */
static bool is_blank_cp(uint32_t cp)
{
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || cp == 0x180e ||
	       (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x2060 ||
	       cp == 0x3000 || cp == 0xfeff;
}

const char *mreg_check_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, len = strlen(s), chars = 0;
	uint32_t cp;
	bool blank = true;

	if (len == 0)
		return "must not be empty";
	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			return "is not valid UTF-8";
		if (mreg_utf8_is_control(cp))
			return "must not contain control characters";
		blank = blank && is_blank_cp(cp);
		i += n;
		chars++;
	}
	if (chars > MREG_NAME_MAX_CHARS)
		return "is longer than 200 characters";
	if (blank)
		return "must not be blank (white space only)";
	return NULL;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void mreg_model_finish(struct mreg_model *m)
{
	size_t i;

	if (!m)
		return;
	free(m->provider);
	free(m->name);
	free(m->type);
	free(m->version);
	free(m->display_name);
	free(m->description);
	free(m->tags_json);
	free(m->synonyms_json);
	free(m->config_json);
	free(m->metadata_json);
	for (i = 0; i < m->nartifacts; i++)
		free(m->artifacts[i]);
	free(m->artifacts);
	free(m->recorded);
	memset(m, 0, sizeof(*m));
}

static const char *const known_keys[] = {
	"name", "provider", "type", "version", "display_name", "description",
	"tags", "synonyms", "active", "config", "metadata", "artifacts", NULL,
};

__attribute__((format(printf, 4, 5)))
static int key_error(struct mreg_error *err, const char *path,
		     const char *key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mreg_json_key_error(err, key, "%s", msg);
	mreg_error_at(err, path, 0, 0);
	return -1;
}

/* "key '<key>': must be <what>, not <type of v>" at path. */
static int want(struct mreg_error *err, const char *path, const char *key,
		const json_t *v, const char *what)
{
	mreg_json_want(err, key, v, what);
	mreg_error_at(err, path, 0, 0);
	return -1;
}

/* A string value; required or not.  *out stays NULL when absent. */
static int get_string(json_t *root, const char *key, bool required,
		      const char *path, char **out, struct mreg_error *err)
{
	json_t *v = json_object_get(root, key);

	if (!v) {
		if (required)
			return key_error(err, path, key, "%s", "is required");
		return 0;
	}
	if (!json_is_string(v))
		return want(err, path, key, v, "a string");
	*out = xstrdup(json_string_value(v));
	if (!*out) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

static int dump_to(json_t *v, char **out, struct mreg_error *err)
{
	*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!*out) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * An array of non-empty, distinct strings, as compact JSON; max_chars
 * (0: no limit) bounds each.
 */
static int get_string_array(json_t *root, const char *key, const char *path,
			    size_t max_chars, char **out,
			    struct mreg_error *err)
{
	json_t *v = json_object_get(root, key);

	if (!v) {
		*out = xstrdup("[]");
		if (!*out) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
		return 0;
	}
	if (mreg_json_check_strings(err, key, v, max_chars, NULL, NULL) < 0) {
		if (err->status == MREG_EXIT_DATA)
			mreg_error_at(err, path, 0, 0);
		return -1;
	}
	return dump_to(v, out, err);
}

/*
 * An object, kept as the exact text of the file (text, len): the server
 * parses it, so numbers keep every digit.
 */
static int get_object(json_t *root, const char *text, size_t len,
		      const char *key, const char *path, char **out,
		      struct mreg_error *err)
{
	json_t *v = json_object_get(root, key);
	struct mreg_json_span span;

	if (v && !json_is_object(v))
		return want(err, path, key, v, "an object");
	if (!v) {
		*out = xstrdup("{}");
	} else if (!mreg_json_get(text, len, key, &span)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "key '%s': could not find its text", key);
		return -1;
	} else if ((*out = malloc(span.len + 1)) != NULL) {
		memcpy(*out, span.p, span.len);
		(*out)[span.len] = '\0';
	}
	if (!*out) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

static const char *check_artifact_path(const char *p, char *buf,
				       size_t len)
{
	const char *seg = p;
	size_t n = strlen(p);

	if (!*p)
		return "is an empty path";
	if (n > MREG_ARTIFACT_PATH_MAX) {
		snprintf(buf, len, "is too long (%zu bytes, at most %d)", n,
			 MREG_ARTIFACT_PATH_MAX);
		return buf;
	}
	if (p[0] == '/')
		return "must be relative to the model file";
	/* no ".." segment: artifacts live beside or below the file */
	while (seg) {
		if (strncmp(seg, "..", 2) == 0 && (seg[2] == '/' || !seg[2]))
			return "must not contain '..'";
		seg = strchr(seg, '/');
		if (seg)
			seg++;
	}
	return NULL;
}

/* The text of the size of artifact i: the tree holds only placeholders. */
static bool artifact_size_text(const char *text, size_t len, size_t i,
			       struct mreg_json_span *out)
{
	struct mreg_json_span arr, key, val;
	struct mreg_json_iter it;
	size_t k = 0;

	if (!mreg_json_get(text, len, "artifacts", &arr) ||
	    !mreg_json_iter_init(&it, arr.p, arr.len))
		return false;
	while (mreg_json_iter_next(&it, &key, &val))
		if (k++ == i)
			return mreg_json_get(val.p, val.len, "size", out);
	return false;
}

static bool is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/*
 * Item i is an object {"path", "size", "sha256"} (what mreg export
 * writes): its path in *path, what it records in m->recorded[i].
 */
static int artifact_object(json_t *item, size_t i, const char *text,
			   size_t len, const char *path, struct mreg_model *m,
			   const char **apath, struct mreg_error *err)
{
	struct mreg_artifact_record *rec;
	struct mreg_json_span span;
	const char *k;
	json_t *v;
	size_t d;

	rec = &m->recorded[i];
	rec->size = -1;
	json_object_foreach(item, k, v) {
		if (strcmp(k, "path") != 0 && strcmp(k, "size") != 0 &&
		    strcmp(k, "sha256") != 0)
			return key_error(err, path, "artifacts",
					 "item %zu: unknown key '%s' (path, "
					 "size, sha256)", i, k);
	}
	v = json_object_get(item, "path");
	if (!json_is_string(v))
		return key_error(err, path, "artifacts",
				 "item %zu: 'path' must be a string", i);
	*apath = json_string_value(v);
	v = json_object_get(item, "sha256");
	if (v && (!json_is_string(v) || !is_sha256_hex(json_string_value(v))))
		return key_error(err, path, "artifacts",
				 "item %zu: 'sha256' must be 64 lowercase "
				 "hexadecimal digits", i);
	if (v)
		memcpy(rec->sha256, json_string_value(v), 65);
	v = json_object_get(item, "size");
	if (v) {
		if (!json_is_integer(v) || !artifact_size_text(text, len, i, &span) ||
		    span.len == 0 || span.len > 18 || span.p[0] == '-' ||
		    (span.p[0] == '0' && span.len > 1))
			return key_error(err, path, "artifacts",
					 "item %zu: 'size' must be a whole "
					 "number of bytes (0 to 18 digits)", i);
		rec->size = 0;
		for (d = 0; d < span.len; d++)
			rec->size = rec->size * 10 + (span.p[d] - '0');
	}
	return 0;
}

static int get_artifacts(json_t *root, const char *text, size_t len,
			 const char *path, struct mreg_model *m,
			 struct mreg_error *err)
{
	json_t *v = json_object_get(root, "artifacts"), *item;
	size_t i, n;
	const char *why, *a = NULL;
	char why_buf[64];

	if (!v)
		return 0;
	if (!json_is_array(v))
		return key_error(err, path, "artifacts",
				 "must be an array of paths, not %s",
				 mreg_json_type_name(v));
	n = json_array_size(v);
	m->artifacts = calloc(n + 1, sizeof(char *));
	if (!m->artifacts) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (json_is_object(item)) {
			if (!m->recorded &&
			    !(m->recorded = calloc(n + 1, sizeof(*m->recorded)))) {
				mreg_error_set(err, MREG_EXIT_FAILURE,
					       "out of memory");
				return -1;
			}
			if (artifact_object(item, i, text, len, path, m, &a,
					    err) < 0)
				return -1;
		} else if (json_is_string(item)) {
			a = json_string_value(item);
		} else {
			return key_error(err, path, "artifacts",
					 "item %zu must be a path or an object, "
					 "not %s", i, mreg_json_type_name(item));
		}
		why = check_artifact_path(a, why_buf, sizeof(why_buf));
		if (why) {
			/* the path itself may be long: the message ends
			 * with why */
			mreg_error_set(err, MREG_EXIT_DATA,
				       "key 'artifacts': \"%.200s%s\" %s", a,
				       strlen(a) > 200 ? "..." : "", why);
			mreg_error_at(err, path, 0, 0);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->artifacts[j], a) == 0) {
				mreg_error_set(err, MREG_EXIT_DATA,
					       "key 'artifacts': \"%s\" is listed twice",
					       a);
				mreg_error_at(err, path, 0, 0);
				return -1;
			}
		}
		m->artifacts[i] = xstrdup(a);
		if (!m->artifacts[i]) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
		m->nartifacts = i + 1;
	}
	/* the items that were plain paths record nothing */
	for (i = 0; m->recorded && i < n; i++)
		if (!json_is_object(json_array_get(v, i)))
			m->recorded[i].size = -1;
	return 0;
}

static int validate(json_t *root, const char *text, size_t len,
		    const char *path, struct mreg_model *m,
		    struct mreg_error *err)
{
	const char *key, *why;
	json_t *v;
	size_t i;

	json_object_foreach(root, key, v) {
		for (i = 0; known_keys[i]; i++)
			if (strcmp(key, known_keys[i]) == 0)
				break;
		if (!known_keys[i])
			return key_error(err, path, key, "%s", "unknown key");
	}
	if (get_string(root, "provider", true, path, &m->provider, err) < 0 ||
	    get_string(root, "name", true, path, &m->name, err) < 0 ||
	    get_string(root, "type", true, path, &m->type, err) < 0 ||
	    get_string(root, "version", false, path, &m->version, err) < 0 ||
	    get_string(root, "display_name", false, path, &m->display_name,
		       err) < 0 ||
	    get_string(root, "description", false, path, &m->description,
		       err) < 0)
		return -1;
	if (!mreg_is_slug(m->provider))
		return key_error(err, path, "provider",
				 "\"%s\" is not a slug ([a-z0-9][a-z0-9._-]{0,63})",
				 m->provider);
	if (!mreg_is_slug(m->type))
		return key_error(err, path, "type",
				 "\"%s\" is not a slug ([a-z0-9][a-z0-9._-]{0,63})",
				 m->type);
	why = mreg_check_name(m->name);
	if (why)
		return key_error(err, path, "name", "%s", why);

	v = json_object_get(root, "active");
	if (v && !json_is_boolean(v))
		return want(err, path, "active", v, "a boolean");
	m->active = v ? json_is_true(v) : true;

	if (get_string_array(root, "tags", path, MREG_TAG_MAX_CHARS,
			     &m->tags_json, err) < 0 ||
	    get_string_array(root, "synonyms", path, 0, &m->synonyms_json,
			     err) < 0 ||
	    get_object(root, text, len, "config", path, &m->config_json,
		       err) < 0 ||
	    get_object(root, text, len, "metadata", path, &m->metadata_json,
		       err) < 0 ||
	    get_artifacts(root, text, len, path, m, err) < 0)
		return -1;
	return 0;
}

static int parse(const char *buf, size_t len, const char *path,
		 struct mreg_model *out, struct mreg_error *err, bool quick)
{
	json_t *root = NULL;
	json_error_t jerr;
	enum mreg_json_fail fail;
	char where[256];
	const char *nul;
	size_t bad;
	long line, col;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* a UTF-8 byte order mark (Windows editors write one) is skipped */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	bad = mreg_utf8_first_invalid(buf, len);
	if (bad < len) {
		mreg_utf8_position(buf, len, bad, &line, &col);
		mreg_error_set(err, MREG_EXIT_DATA,
			       "invalid UTF-8 (byte 0x%02x)",
			       (unsigned char)buf[bad]);
		mreg_error_at(err, path, line, col);
		goto cleanup;
	}
	/* JSON has no NUL byte (jansson skips one after a number or literal) */
	nul = memchr(buf, '\0', len);
	if (nul) {
		mreg_utf8_position(buf, len, (size_t)(nul - buf), &line, &col);
		mreg_error_set(err, MREG_EXIT_DATA,
			       "NUL byte (not allowed in JSON)");
		mreg_error_at(err, path, line, col);
		goto cleanup;
	}
	if (quick && mreg_model_quick(buf, len, out) == 1)
		return 0;
	/*
	 * jansson checks a copy with the numbers masked (no double ever
	 * holds them); no JSON_DISABLE_EOF_CHECK: trailing garbage is an
	 * error
	 */
	root = mreg_json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr, &fail);
	if (!root) {
		if (fail == MREG_JSON_NOMEM) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			goto cleanup;
		}
		where[0] = '\0';
		if (fail == MREG_JSON_UNSTORABLE)
			mreg_json_path_at(buf, len, (size_t)jerr.position,
					  where, sizeof(where));
		if (where[0])
			mreg_error_set(err, MREG_EXIT_DATA, "key '%s': %s",
				       where, jerr.text);
		else
			mreg_error_set(err, MREG_EXIT_DATA, "%s", jerr.text);
		mreg_error_at(err, path, jerr.line > 0 ? jerr.line : 1,
			      jerr.column > 0 ? jerr.column : 1);
		goto cleanup;
	}
	if (!json_is_object(root)) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "the file must hold one JSON object, not %s",
			       mreg_json_type_name(root));
		mreg_error_at(err, path, 1, 1);
		goto cleanup;
	}
	if (validate(root, buf, len, path, out, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc < 0)
		mreg_model_finish(out);
	json_decref(root);
	return rc;
}

int mreg_model_parse(const char *buf, size_t len, const char *path,
		     struct mreg_model *out, struct mreg_error *err)
{
	return parse(buf, len, path, out, err, true);
}

int mreg_model_parse_general(const char *buf, size_t len, const char *path,
			     struct mreg_model *out, struct mreg_error *err)
{
	return parse(buf, len, path, out, err, false);
}
