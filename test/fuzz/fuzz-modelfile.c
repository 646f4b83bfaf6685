/* fuzz-modelfile.c - mreg_model_parse() on arbitrary bytes
 *
 * Differential: mreg_model_parse() takes the quick way for plain files
 * (modelfile-quick.c) and the general way (jansson) for the rest; every
 * input also goes the general way alone, and both must give the same
 * result: the same model, field for field, or the same error.
 *
 * Besides memory errors: a file that parses is UTF-8 without a NUL byte,
 * has a valid UTF-8 name of 1-200 characters without control characters,
 * slug provider and type, and every field equal to what an independent
 * jansson parse of the same bytes holds; a file that does not parse leaves the model empty and
 * says why, naming the file.
 */
#include <jansson.h>

#include "error.h"
#include "fuzz.h"
#include "jsontext.h"
#include "modelfile.h"

#define PATH "models/fuzz.json"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); /* deterministic hashing: reproducible runs */
	return 0;
}

static int slug(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

/* field is NULL exactly when the key is absent, else the same string */
static void same_string(json_t *root, const char *key, const char *field)
{
	json_t *v = json_object_get(root, key);

	if (!v) {
		fuzz_check(field == NULL, "%s absent but set", key);
		return;
	}
	fuzz_check(json_is_string(v) && field &&
		   strcmp(json_string_value(v), field) == 0,
		   "%s differs from the file", key);
}

/* dumped is the compact JSON of the key's value, or empty when absent */
static void same_json(json_t *root, const char *key, const char *dumped,
		      int want_array)
{
	json_t *v = json_object_get(root, key), *d, *e;
	json_error_t jerr;
	enum mreg_json_fail fail;
	size_t i;

	fuzz_check(dumped != NULL, "%s: no JSON text", key);
	/* numbers masked, as the parser reads them (jsontext.h) */
	d = mreg_json_loadb(dumped, strlen(dumped), JSON_REJECT_DUPLICATES,
			    &jerr, &fail);
	fuzz_check(d != NULL, "%s: \"%s\" does not parse back", key, dumped);
	if (want_array) {
		fuzz_check(json_is_array(d), "%s: not an array", key);
		json_array_foreach(d, i, e)
			fuzz_check(json_is_string(e) &&
				   json_string_length(e) > 0,
				   "%s[%zu]: not a non-empty string", key, i);
	} else {
		fuzz_check(json_is_object(d), "%s: not an object", key);
	}
	if (v)
		fuzz_check(json_equal(v, d), "%s differs from the file", key);
	else
		fuzz_check((want_array ? json_array_size(d)
				       : json_object_size(d)) == 0,
			   "%s absent but not empty", key);
	json_decref(d);
}

static void check_artifacts(json_t *root, const struct mreg_model *m)
{
	json_t *v = json_object_get(root, "artifacts");
	size_t i, j;

	if (!v) {
		fuzz_check(m->nartifacts == 0, "artifacts absent but listed");
		return;
	}
	fuzz_check(json_is_array(v) && json_array_size(v) == m->nartifacts,
		   "artifacts: %zu, file has another count", m->nartifacts);
	for (i = 0; i < m->nartifacts; i++) {
		const char *a = m->artifacts[i], *seg = a;

		json_t *item = json_array_get(v, i);

		/* a path, or an object {"path", "size", "sha256"} */
		if (json_is_object(item))
			item = json_object_get(item, "path");
		fuzz_check(json_is_string(item) &&
			   strcmp(a, json_string_value(item)) == 0,
			   "artifact %zu differs from the file", i);
		fuzz_check(a[0] != '\0' && a[0] != '/',
			   "artifact \"%s\": empty or absolute", a);
		for (;;) {
			size_t n = strcspn(seg, "/");

			fuzz_check(!(n == 2 && seg[0] == '.' && seg[1] == '.'),
				   "artifact \"%s\" has a .. segment", a);
			if (!seg[n])
				break;
			seg += n + 1;
		}
		for (j = 0; j < i; j++)
			fuzz_check(strcmp(a, m->artifacts[j]) != 0,
				   "artifact \"%s\" listed twice", a);
		/* what an object records: a size >= 0 or none, a SHA-256 of
		 * 64 lowercase hex digits or none; a path records nothing */
		if (m->recorded) {
			const struct mreg_artifact_record *r = &m->recorded[i];
			size_t n = strlen(r->sha256);

			fuzz_check(r->size >= -1, "artifact %zu: size %lld", i,
				   r->size);
			fuzz_check(n == 0 || (n == 64 && strspn(r->sha256,
				   "0123456789abcdef") == 64),
				   "artifact %zu: sha256 \"%s\"", i, r->sha256);
			fuzz_check(json_is_object(json_array_get(v, i)) ||
				   (r->size == -1 && n == 0),
				   "artifact %zu: a path records something", i);
		}
	}
}

static void check_model(const uint8_t *data, size_t size,
			const struct mreg_model *m)
{
	json_error_t jerr;
	enum mreg_json_fail fail;
	json_t *root, *active;
	size_t chars;
	int control;

	fuzz_check(fuzz_utf8((const char *)data, size, &chars, &control),
		   "parsed a file that is not UTF-8");
	fuzz_check(memchr(data, '\0', size) == NULL,
		   "parsed a file with a NUL byte, which JSON has not");
	/* a UTF-8 byte order mark at the start is skipped (mreg-model(5));
	 * numbers are masked as the parser masks them (jsontext.h) */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		size -= 3;
	}
	root = mreg_json_loadb((const char *)data, size,
			       JSON_REJECT_DUPLICATES, &jerr, &fail);
	fuzz_check(root && json_is_object(root),
		   "parsed what jansson rejects: %s", jerr.text);

	fuzz_check(m->name && fuzz_utf8(m->name, strlen(m->name), &chars,
					&control),
		   "name is not valid UTF-8");
	fuzz_check(chars >= 1 && chars <= MREG_NAME_MAX_CHARS,
		   "name has %zu characters", chars);
	fuzz_check(!control, "name has a control character");
	fuzz_check(m->provider && slug(m->provider), "provider is no slug");
	fuzz_check(m->type && slug(m->type), "type is no slug");

	same_string(root, "name", m->name);
	same_string(root, "provider", m->provider);
	same_string(root, "type", m->type);
	same_string(root, "version", m->version);
	same_string(root, "display_name", m->display_name);
	same_string(root, "description", m->description);
	same_json(root, "tags", m->tags_json, 1);
	same_json(root, "synonyms", m->synonyms_json, 1);
	same_json(root, "config", m->config_json, 0);
	same_json(root, "metadata", m->metadata_json, 0);
	active = json_object_get(root, "active");
	fuzz_check(m->active == (active ? json_is_true(active) : 1),
		   "active differs from the file");
	check_artifacts(root, m);
	json_decref(root);
}

static int same_field(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* the general way alone gives what mreg_model_parse() gave */
static void same_as_general(const uint8_t *data, size_t size, int rc,
			    const struct mreg_model *m,
			    const struct mreg_error *err)
{
	struct mreg_model g;
	struct mreg_error gerr;
	size_t i;

	mreg_error_clear(&gerr);
	fuzz_check(mreg_model_parse_general((const char *)data, size, PATH, &g,
					    &gerr) == rc,
		   "the general way says %s", rc == 0 ? "no" : "yes");
	if (rc != 0) {
		fuzz_check(gerr.status == err->status &&
			   strcmp(gerr.message, err->message) == 0 &&
			   strcmp(gerr.path, err->path) == 0 &&
			   gerr.line == err->line && gerr.column == err->column,
			   "errors differ: \"%s\" and \"%s\"", err->message,
			   gerr.message);
		return;
	}
#define SAME(f) fuzz_check(same_field(m->f, g.f), #f ": \"%s\" and \"%s\"", \
			   m->f ? m->f : "(null)", g.f ? g.f : "(null)")
	SAME(name);
	SAME(provider);
	SAME(type);
	SAME(version);
	SAME(display_name);
	SAME(description);
	SAME(tags_json);
	SAME(synonyms_json);
	SAME(config_json);
	SAME(metadata_json);
#undef SAME
	fuzz_check(m->active == g.active, "active differs");
	fuzz_check(m->nartifacts == g.nartifacts, "artifact counts differ");
	for (i = 0; i < m->nartifacts; i++)
		fuzz_check(strcmp(m->artifacts[i], g.artifacts[i]) == 0,
			   "artifact %zu differs", i);
	fuzz_check(!m->recorded == !g.recorded &&
		   (!m->recorded ||
		    memcmp(m->recorded, g.recorded,
			   m->nartifacts * sizeof(*m->recorded)) == 0),
		   "recorded artifacts differ");
	mreg_model_finish(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mreg_model empty;
	struct mreg_model m;
	struct mreg_error err;
	int rc;

	mreg_error_clear(&err);
	rc = mreg_model_parse((const char *)data, size, PATH, &m, &err);
	same_as_general(data, size, rc, &m, &err);
	if (rc == 0) {
		fuzz_check(err.status == 0, "success with an error status");
		check_model(data, size, &m);
	} else {
		fuzz_check(err.status == MREG_EXIT_DATA ||
			   err.status == MREG_EXIT_FAILURE,
			   "failure with status %d", err.status);
		fuzz_check(err.message[0] != '\0', "failure without a message");
		fuzz_check(memcmp(&m, &empty, sizeof(m)) == 0,
			   "failure left the model filled");
		if (err.status == MREG_EXIT_DATA)
			fuzz_check(strcmp(err.path, PATH) == 0,
				   "error \"%s\" does not name the file",
				   err.message);
		fuzz_check(err.line >= 0 && err.column >= 0,
			   "negative position %ld:%ld", err.line, err.column);
	}
	mreg_model_finish(&m);
	return 0;
}
