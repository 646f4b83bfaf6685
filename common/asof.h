/* asof.h - the registry as it was at an instant (--at TIME)
 *
 * Read from the audit log only (the SQL and the indexes it probes are in
 * queries-asof.h).  An instant is timestamptz text: what
 * mreg_time_format() wrote for the asked TIME, turned by mreg_asof_check()
 * into the instant answered.  Each returns data for cli/ to print; none
 * prints.
 */
#ifndef MREG_ASOF_H
#define MREG_ASOF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "pool.h"

/* Room for an instant's text ("2026-12-01T03:00:00.000000Z"). */
#define MREG_ASOF_LEN 40

/*
 * The instant answered for asked: asked itself, or now when it lies in
 * the future, into at (MREG_ASOF_LEN bytes).  0; -1 with err set, its
 * status MREG_EXIT_DATA with 'no history before <oldest logged_at>' when
 * asked precedes the oldest audit row (or the log is empty).
 */
int mreg_asof_check(struct mreg_conn *conn, const char *asked, char *at,
		    struct mreg_error *err);

/* The "provider/name" (its name then) of type's default at at, malloc'd
 * in *model: 1 found, 0 no default then, -1 error. */
int mreg_asof_default(struct mreg_conn *conn, const char *type,
		      const char *at, char **model, struct mreg_error *err);

/* The same as the model object as it was then, plus "at" (JSON text,
 * malloc'd in *doc, *len bytes): 1, 0, -1. */
int mreg_asof_default_model(struct mreg_conn *conn, const char *type,
			    const char *at, char **doc, size_t *len,
			    struct mreg_error *err);

/* mreg show's document of the model named provider/name at at (fields,
 * artifacts, source, the last audit entries up to then), plus "at": 1,
 * 0 no such model then, -1. */
int mreg_asof_show(struct mreg_conn *conn, const char *provider,
		   const char *name, long audit, const char *at, char **doc,
		   size_t *len, struct mreg_error *err);

#endif
