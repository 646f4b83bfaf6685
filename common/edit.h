/* edit.h - edits from the shell: add, delete, rename a model, clear a
 * type's default (mreg add / delete / rename / clear-default)
 *
 * Each edit is one transaction on conn: the audit context is set first
 * (actor and {"command": ...}; the database's audit triggers write the
 * rows), then the change, then COMMIT -- or ROLLBACK with dry_run, so a
 * dry run checks everything the real run would (constraints included)
 * and leaves nothing behind (an identity value it drew stays used).
 * The model to add is a parsed and validated model file (modelfile.h):
 * the command line is turned into one before it gets here.  None of
 * these print; each fills struct mreg_edit for the caller to report.
 */
#ifndef MREG_EDIT_H
#define MREG_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "modelfile.h"
#include "pool.h"

/* A file of an import source recorded as the model's origin. */
struct mreg_edit_source {
	char *source;
	char *path;
};

/* One audit row the edit's transaction wrote (the triggers' rows). */
struct mreg_edit_change {
	char *action, *resource;
	char *model_id;      /* NULL when the row has none */
	char *old, *new_;    /* jsonb text, NULL for SQL NULL */
};

/* What an edit did (or, in a dry run, would do). */
struct mreg_edit {
	bool found;            /* the model / the type's default was there */
	bool taken;            /* add, rename: the target name exists */
	bool changed;          /* false: nothing to do (rename onto itself) */
	bool provider_created; /* add, rename: the provider is new */
	bool owned;            /* rename: refused, import sources own it */
	long long id;          /* the model's id */
	char *type;            /* its type (clear-default: the type) */
	char *default_of;      /* delete: refused, it is this type's default */
	char *previous;        /* clear-default: the default, "provider/name" */
	long artifacts;        /* delete: its artifacts (deleted with it) */
	/* the model object (mreg-json(7)): after add and rename, before
	 * delete; NULL for clear-default */
	char *model;
	size_t model_len;
	struct mreg_edit_source *sources; /* its mreg.source_files rows */
	size_t nsources;
	/* the audit rows the change wrote (a dry run: would write), in
	 * order: what it did, as the log will tell it */
	struct mreg_edit_change *changes;
	size_t nchanges;
	long long mark;        /* private: the last audit id before it */
};

void mreg_edit_finish(struct mreg_edit *e); /* NULL-safe */

/* ---- the model to add (edit-model.c) ---------------------------------- */

/* mreg add's options: each NULL (or 0 items) when not given. */
struct mreg_model_args {
	const char *provider, *name; /* PROVIDER/NAME */
	const char *type, *version, *display_name, *description;
	const char *const *tags;
	size_t ntags;
	const char *const *synonyms;
	size_t nsynonyms;
	const char *config, *metadata; /* JSON text */
	bool inactive;
};

/*
 * The model file the options stand for, one key per line, parsed and
 * checked by mreg_model_parse() like any model file, so every message is
 * the model file's.  An error found on an option's line names the option
 * as its path ("--config", with line and column inside its value;
 * "PROVIDER/NAME"); a key error names the key.  0, or -1 with err
 * filled (MREG_EXIT_DATA for bad input).
 */
int mreg_model_from_args(const struct mreg_model_args *a,
			 struct mreg_model *out, struct mreg_error *err);

/*
 * A model file read from path (NULL: standard input, named "<stdin>"),
 * at most max_size bytes, parsed by mreg_model_parse().  Its artifacts
 * are hashed as import-dir hashes them: relative to the file's directory
 * (the working directory for standard input), never outside it (a link
 * that leads out is refused).  *artifacts: a JSON array of {"path",
 * "size", "sha256"} (malloc'd; "[]" without artifacts).
 */
int mreg_model_from_file(const char *path, long long max_size,
			 struct mreg_model *out, char **artifacts,
			 struct mreg_error *err);

/*
 * Add m (validated) with artifacts (NULL, or the JSON array of
 * mreg_model_from_file), creating its provider if missing.  0 with e
 * filled (e->taken: it exists, nothing written), or -1 with err filled.
 */
int mreg_edit_add(struct mreg_conn *conn, const struct mreg_model *m,
		  const char *artifacts, const char *actor, bool dry_run,
		  struct mreg_edit *e, struct mreg_error *err);

/*
 * Delete provider/name (its artifacts cascade; its source_files rows
 * keep their file with no model).  0 with e filled: !e->found unknown,
 * e->default_of set: refused (nothing written); -1 error.
 */
int mreg_edit_delete(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *actor, bool dry_run,
		     struct mreg_edit *e, struct mreg_error *err);

/*
 * Rename provider/name to to_provider/to_name (the provider created if
 * missing), same id.  A model that import sources own (source_files
 * rows) is refused (e->owned, e->sources) unless force: then it is
 * renamed and its source rows let go of it (model_id NULL), so the next
 * import of the source reads the file again and adds the model under
 * the file's name.  0 with e filled (!found, taken, owned: nothing
 * written); -1 error.
 */
int mreg_edit_rename(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *to_provider,
		     const char *to_name, bool force, const char *actor,
		     bool dry_run, struct mreg_edit *e, struct mreg_error *err);

/* Remove type's default.  0 with e filled (!e->found: it had none), -1. */
int mreg_edit_clear_default(struct mreg_conn *conn, const char *type,
			    const char *actor, bool dry_run,
			    struct mreg_edit *e, struct mreg_error *err);

#endif
