/* lookup.h - the registry's small reads: does a type or provider exist,
 * close names for a misspelt one, a type's default, one model in full,
 * and moving a default.  Each returns data for cli/ to print; none
 * prints.
 */
#ifndef MREG_LOOKUP_H
#define MREG_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "pool.h"

/*
 * Close names, joined into buf (size len) as "\"a\", \"b\"".  The
 * number found; 0 on error or none (suggestions are a courtesy: their
 * failure never hides the real error).
 */
int mreg_lookup_suggest_models(struct mreg_conn *conn, const char *provider,
			       const char *name, char *buf, size_t len);
int mreg_lookup_suggest_types(struct mreg_conn *conn, const char *type,
			      char *buf, size_t len);

/* Does any model have this type?  0 (*exists set) or -1 (err). */
int mreg_lookup_type_exists(struct mreg_conn *conn, const char *type,
			    bool *exists, struct mreg_error *err);

/* A --type or --provider filter that names nothing in the registry. */
struct mreg_unknown {
	const char *noun;   /* "type" or "provider" */
	const char *value;  /* the filter's value */
	char suggest[512];  /* close names ("" when none) */
};

/*
 * Are the filters (NULL: none) known?  0 yes, 1 no (*u filled: the first
 * unknown one), -1 error (err).
 */
int mreg_lookup_filters(struct mreg_conn *conn, const char *type,
			const char *provider, struct mreg_unknown *u,
			struct mreg_error *err);

/* The default "provider/name" of type, malloc'd in *model: 1 found,
 * 0 no default, -1 error. */
int mreg_lookup_default(struct mreg_conn *conn, const char *type,
			char **model, struct mreg_error *err);

/*
 * One model as the JSON document of mreg show: the model object
 * (mreg-json(7)) and its artifacts, source and last audit entries,
 * malloc'd in *doc (*len bytes): 1, 0 unknown, -1.
 */
int mreg_lookup_show(struct mreg_conn *conn, const char *provider,
		     const char *name, long audit, char **doc, size_t *len,
		     struct mreg_error *err);

/* The model object of provider/name, or of type's default model, as
 * JSON text malloc'd in *doc (*len bytes): 1, 0 none, -1. */
int mreg_lookup_model(struct mreg_conn *conn, const char *provider,
		      const char *name, char **doc, size_t *len,
		      struct mreg_error *err);
int mreg_lookup_default_model(struct mreg_conn *conn, const char *type,
			      char **doc, size_t *len, struct mreg_error *err);

/*
 * The one row of sql (nparams values v) as one JSON object, malloc'd in
 * *doc (*len bytes): the model object's columns first, any further
 * column as embedded JSON under its name (the readers above, and
 * asof.h's).  1, 0 no row, -1.
 */
int mreg_lookup_object(struct mreg_conn *conn, const char *sql,
		       int nparams, const char *const *v, char **doc,
		       size_t *len, struct mreg_error *err);

/* What mreg set-default did. */
struct mreg_default_change {
	bool found;      /* the model exists */
	bool active;     /* ... and is active (else nothing changed) */
	bool changed;    /* false: it already was the default */
	char *type;      /* its type */
	char *previous;  /* the previous default, or NULL */
};

/* Make provider/name its type's default (one audited statement). */
int mreg_set_default(struct mreg_conn *conn, const char *provider,
		     const char *name, const char *actor,
		     struct mreg_default_change *c, struct mreg_error *err);
void mreg_default_change_finish(struct mreg_default_change *c);

#endif
