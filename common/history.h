/* history.h - what the audit log tells about the past of a model or a
 * default: which model a history names, whether a type has any past,
 * and the rollback of a default (mreg set-default --previous).  The
 * entries themselves are listings (listing.h, MREG_LISTING_HISTORY*).
 * None of it prints.
 */
#ifndef MREG_HISTORY_H
#define MREG_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "pool.h"

/*
 * The id of the model provider/name names (decimal text in buf of len):
 * the model of that name now, else the one the newest audit entry about
 * "models/provider/name" belongs to (a deleted or renamed model).  1
 * found, 0 unknown, -1 error.
 */
int mreg_history_model_id(struct mreg_conn *conn, const char *provider,
			  const char *name, char *buf, size_t len,
			  struct mreg_error *err);

/* Has type a past: a model of that type, or an entry about its
 * default?  0 (*known set) or -1. */
int mreg_history_type_known(struct mreg_conn *conn, const char *type,
			    bool *known, struct mreg_error *err);

/* How a rollback ended. */
enum mreg_rollback_outcome {
	MREG_ROLLBACK_DONE,        /* the previous model is the default */
	MREG_ROLLBACK_NO_DEFAULT,  /* the type has no default now */
	MREG_ROLLBACK_NO_PREVIOUS, /* the current one was the first */
	MREG_ROLLBACK_GONE,        /* the previous model was deleted */
	MREG_ROLLBACK_INACTIVE,    /* ... is inactive */
	MREG_ROLLBACK_RETYPED,     /* ... is of another type now */
};

struct mreg_rollback {
	enum mreg_rollback_outcome outcome;
	char *current;   /* the default before the call ("provider/name") */
	char *previous;  /* the model before it: its name now, or (GONE) as
			  * the log names it; NULL when there is none */
	char *provider;  /* DONE: the new default's provider and name */
	char *name;
};

/*
 * Make the model that was type's default before the current one the
 * default again, in one transaction: the type's default row is locked,
 * the current default's newest default.set entry gives the model before
 * it (its "old" model_id), and that model must still exist, be active
 * and be of type.  The change is audited as a rollback (context
 * {"command": "set-default", "reason": "rollback", "rollback": true}),
 * so a second call goes back again.  Any outcome but DONE changes
 * nothing.  0 (r filled; mreg_rollback_finish frees it) or -1.
 */
int mreg_default_rollback(struct mreg_conn *conn, const char *type,
			  const char *actor, struct mreg_rollback *r,
			  struct mreg_error *err);
void mreg_rollback_finish(struct mreg_rollback *r); /* NULL-safe */

#endif
