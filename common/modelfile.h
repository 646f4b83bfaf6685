/* modelfile.h - parse and validate one model definition file
 *
 * A model file is one JSON object (UTF-8) with these keys:
 *   name (required)      1-200 characters, no control characters, not
 *                        only white space
 *   provider (required)  slug [a-z0-9][a-z0-9._-]{0,63}
 *   type (required)      slug, as provider
 *   version, display_name, description   strings
 *   tags                 array of distinct non-empty strings, 200
 *                        characters each at most
 *   synonyms             array of distinct non-empty strings
 *   active               boolean (default true)
 *   config, metadata     objects
 *   artifacts            array of relative paths (no "..", not absolute,
 *                        2000 bytes at most), each a string or an object
 *                        {"path", "size", "sha256"} (what mreg export
 *                        writes: the recorded size and SHA-256, checked
 *                        against the file when it is there)
 * Unknown keys, duplicate keys, wrong types and trailing garbage are
 * errors, and so is what PostgreSQL's jsonb cannot hold (a number beyond
 * numeric, \u0000).  A UTF-8 byte order mark at the start is skipped.
 * Syntax errors carry line and column; validation errors name the key.
 * Numbers never pass through a double (see jsontext.h): config and
 * metadata are kept as the exact text of the file, for the server to
 * parse.  The parser is reentrant: call json_object_seed() once before
 * using it from several threads.
 */
#ifndef MREG_MODELFILE_H
#define MREG_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MREG_NAME_MAX_CHARS 200
/* The longest slug (bytes): a provider or a type, [a-z0-9][a-z0-9._-]{0,63}.
 * A buffer for one holds MREG_SLUG_MAX + 1. */
#define MREG_SLUG_MAX 64
/* The longest "provider/name" (bytes, with its NUL): a name's characters
 * take up to 4 bytes each in UTF-8. */
#define MREG_MODEL_KEY_MAX (MREG_SLUG_MAX + 1 + 4 * MREG_NAME_MAX_CHARS + 1)
/*
 * Values that land in a btree or GIN index, whose entries hold at most
 * about 2700 bytes: a tag (models_tags_idx) and an artifact path
 * (mreg.artifacts' primary key) are bounded before the server sees them.
 */
#define MREG_TAG_MAX_CHARS 200
#define MREG_ARTIFACT_PATH_MAX 2000 /* bytes */

/* An artifact's size and SHA-256 as a model file records them. */
struct mreg_artifact_record {
	long long size;     /* -1: not given */
	char sha256[65];    /* 64 lowercase hex digits, or "" */
};

struct mreg_model {
	char *provider;
	char *name;
	char *type;
	char *version;      /* NULL when absent */
	char *display_name; /* NULL when absent */
	char *description;  /* NULL when absent */
	char *tags_json;    /* compact JSON array of strings, "[]" if absent */
	char *synonyms_json;
	bool active;
	char *config_json;  /* the object's text in the file, "{}" if absent */
	char *metadata_json;
	char **artifacts;   /* relative paths as written in the file */
	/*
	 * What an object item says about each artifact (NULL when every item
	 * is a plain path): size -1 and sha256 "" where it says nothing.
	 */
	struct mreg_artifact_record *recorded;
	size_t nartifacts;
};

/*
 * Parse buf (len bytes, the whole file) into *out.  path is only used in
 * error messages (err->path, line, column).  0 on success; -1 with err
 * filled (status MREG_EXIT_DATA) and *out left empty.
 */
int mreg_model_parse(const char *buf, size_t len, const char *path,
		     struct mreg_model *out, struct mreg_error *err);

/*
 * mreg_model_parse() is the quick way (modelfile-quick.c) for a plain
 * file, and the general way for everything else.  Both on their own, for
 * the tests that hold them to the same results (fuzz-modelfile,
 * test-modelfile): the general way alone (same contract as
 * mreg_model_parse), and the quick way alone on a file already known to
 * be UTF-8 without NUL and without a byte order mark: 1 when it filled
 * *out, 0 when it leaves the file to the general way (*out empty).
 */
int mreg_model_parse_general(const char *buf, size_t len, const char *path,
			     struct mreg_model *out, struct mreg_error *err);
int mreg_model_quick(const char *buf, size_t len, struct mreg_model *out);

/* Free what mreg_model_parse() filled; NULL-safe, leaves *m zeroed. */
void mreg_model_finish(struct mreg_model *m);

/* Is s a slug: [a-z0-9][a-z0-9._-]{0,63}? */
bool mreg_is_slug(const char *s);

/*
 * Check a model name: valid UTF-8, 1-200 characters, no control
 * characters (C0, DEL, C1), not only white space.  NULL when fine, else
 * why not.
 */
const char *mreg_check_name(const char *s);

#endif
