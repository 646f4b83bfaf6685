/* restore.h - mreg restore PROVIDER/NAME --at TIME: a model as it was
 *
 * Every field of the model named provider/name at the instant at
 * (asof.h) is put back by one UPDATE, audited by the database with the
 * context {"command": "restore", "at": AT}.  A model deleted since is
 * inserted again with its old id (OVERRIDING SYSTEM VALUE), so its
 * history goes on, with its provider (created again if it is gone) and
 * its artifacts as they were then (and its file cache entry, which the
 * delete had unlinked, linked again).  The database's own checks still
 * apply: a restore that would deactivate or retype its type's current
 * default is refused (models_default_active, model_defaults_model_fkey:
 * exit 3).  Never prints.
 */
#ifndef MREG_RESTORE_H
#define MREG_RESTORE_H

#include <stdbool.h>

#include "error.h"
#include "pool.h"

struct mreg_restore {
	long long id;      /* the model's id */
	bool existed;      /* it is in the registry now (else re-created) */
	bool changed;      /* something differs (false: already as then) */
	char *changes;     /* mreg.jsonb_changes(now, then) as JSON text
			    * ({"old": {...}, "new": {...}}), or NULL */
};

/*
 * Plan and (unless dry_run) apply, in one transaction.  1 done (or, with
 * dry_run, planned: nothing written), 0 no model of that name at at,
 * -1 error (err; a refusal by the database's checks has MREG_EXIT_DATA).
 */
int mreg_restore(struct mreg_conn *conn, const char *provider,
		 const char *name, const char *at, const char *actor,
		 bool dry_run, struct mreg_restore *r, struct mreg_error *err);

void mreg_restore_finish(struct mreg_restore *r); /* NULL-safe */

#endif
