/* export.h - the registry as model files (mreg export)
 *
 * Each model becomes the model file import-dir reads (mreg-model(5)):
 * the keys in the man page's order, every value as the server prints it
 * (numbers exactly as jsonb holds them), artifacts as objects {"path",
 * "size", "sha256"} with what mreg.artifacts records, two spaces of
 * indentation, a newline at the end.  The same document on one line is
 * an NDJSON record (mreg export -).
 *
 * Paths (mreg_export_path): PROVIDER/ENCODED.json.  A provider is a slug
 * already.  In the name, [a-z0-9._-] stays as it is (a '.' starting a
 * component excepted); any other ASCII byte is %xx, a character from
 * U+0080 to U+FFFF %uxxxx and one above it %vxxxxxx (lowercase hex
 * digits).  A path holds no capital letter, so two names differing in
 * case cannot meet on a case-insensitive filesystem; no component starts
 * with '.', so there is no "..", no hidden file; the encoding is
 * reversible (mreg_export_path_decode).  An encoded name longer than
 * MREG_EXPORT_CHUNK bytes is cut into directories of at most that many
 * bytes, each named CHUNK.d (a file always ends in .json), so that no
 * component exceeds NAME_MAX.
 *
 * The directory side (export-dir.c): the files are written atomically
 * (atomicfile.h), and DIR/.mreg-export, the manifest, lists what export
 * wrote there as "SHA256  PATH" lines (sha256sum's format), so a later
 * export rewrites and removes only its own files.
 */
#ifndef MREG_EXPORT_H
#define MREG_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

#define MREG_EXPORT_MANIFEST ".mreg-export"
#define MREG_EXPORT_CHUNK 200
/* The longest path mreg_export_path writes (bytes, with its NUL). */
#define MREG_EXPORT_PATH_MAX 2048

/* Which models (mreg list's filters). */
struct mreg_export_filter {
	const char *type;          /* NULL: any */
	const char *provider;      /* NULL: any */
	const char *const *tags;   /* every one of them */
	int ntags;
	bool all;                  /* inactive models too */
};

/* One model as a file. */
struct mreg_export_model {
	const char *provider, *name;
	const char *path;          /* relative to the export directory */
	const char *text;          /* the file (or the NDJSON line), '\n' at
				      the end */
	size_t len;
};

/*
 * The models f selects, ordered by provider and name (bytewise), each
 * handed to fn as a model file (compact: one line, for NDJSON).  One
 * statement, so one snapshot; rows are streamed.  fn returns 0 to go on,
 * else -1 with err filled.  0, or -1 with err filled.
 */
int mreg_export_each(struct mreg_conn *conn,
		     const struct mreg_export_filter *f, bool compact,
		     int (*fn)(void *arg, const struct mreg_export_model *m,
			       struct mreg_error *err),
		     void *arg, struct mreg_error *err);

/* The relative path of a model's file (see above); -1 if len is short. */
int mreg_export_path(const char *provider, const char *name, char *out,
		     size_t len);

/*
 * The provider and name a path of mreg_export_path names; -1 when path
 * is not one it could have written.
 */
int mreg_export_path_decode(const char *path, char *provider, size_t plen,
			    char *name, size_t nlen);

/* --- export-dir.c: the directory ----------------------------------------- */

enum mreg_export_action {
	MREG_EXPORT_WRITTEN,
	MREG_EXPORT_UNCHANGED,     /* the file already held these bytes */
	MREG_EXPORT_REMOVED,       /* an earlier export's, model gone */
	MREG_EXPORT_KEPT,          /* the same, but edited since: left */
};

struct mreg_export_file {
	char *path;
	char *model;               /* provider/name; NULL for removed, kept */
	enum mreg_export_action action;
};

struct mreg_export_result {
	struct mreg_export_file *files; /* written and unchanged by path, */
	size_t nfiles, capfiles;        /* then removed and kept */
	long written, unchanged, removed, kept;
	bool had_manifest;
};

/*
 * Export the models f selects into dir (created when missing; its parent
 * must exist).  Refused (MREG_EXIT_DATA, nothing written) when dir is
 * not empty and holds no manifest, unless force; when a file to write
 * exists and is not in the manifest, unless force (it is then replaced);
 * when a path to write is not a regular file or passes through a
 * symbolic link.  Files of the earlier manifest whose models are gone are
 * removed when they still hold what export wrote (else kept and left
 * out of the manifest).  Nothing export did not write is ever removed.
 * 0, or -1 with err filled (MREG_EXIT_FAILURE for a system error).
 * res is filled either way; free it with mreg_export_result_finish.
 */
int mreg_export_dir(struct mreg_conn *conn,
		    const struct mreg_export_filter *f, const char *dir,
		    bool force, struct mreg_export_result *res,
		    struct mreg_error *err);

void mreg_export_result_finish(struct mreg_export_result *res);

#endif
