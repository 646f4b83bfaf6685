/* audit.h - who and why, for the audit rows the database writes
 *
 * The database audits every change of models, providers, defaults and
 * artifacts itself (sql/0002_audit.sql: statement-level triggers).  A
 * writer only tells it, for its transaction, who it is and why:
 *
 *   mreg.actor        audit_log.actor (else the database role)
 *   mreg.context      a JSON object merged into details of every row
 *   mreg.row_context  {"provider/name": {...}}: merged into the details
 *                     of that model's rows (and its artifacts')
 *
 * All three are transaction-local (set_config(..., true)), so they are
 * safe behind a transaction-mode pooler; call these inside the
 * transaction, before its first write.  A single-statement write may
 * fold MREG_SQL_AUDIT_SET into the statement instead (set-default).
 */
#ifndef MREG_AUDIT_H
#define MREG_AUDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "db.h"
#include "error.h"

/* MREG_SQL_AUDIT_SET(actor, context), the SQL that sets both, is in
 * queries.h (folded into statements there). */

/*
 * Set actor (NULL: the database role) and context (a JSON object or NULL,
 * not taken) for the rest of the current transaction.  The row context
 * is reset.  0, or -1 with err filled.
 */
int mreg_audit_begin(struct mreg_conn *conn, const char *actor,
		     const json_t *context, struct mreg_error *err);

/*
 * Set the row context from the server's data: object_sql is a scalar
 * subquery's SELECT returning one jsonb object keyed by "provider/name"
 * (NULL when there is nothing), e.g. built with jsonb_object_agg from a
 * temporary table; params as for mreg_db_exec.  0, or -1 with err.
 */
int mreg_audit_row_context(struct mreg_conn *conn, const char *object_sql,
			   int nparams, const char *const *values,
			   struct mreg_error *err);

/* The compact JSON text of a context (free()), or NULL when out of memory
 * (an empty string for NULL). */
char *mreg_audit_context_text(const json_t *context);

/*
 * mreg audit prune: remove the audit entries logged before `before`
 * (timestamptz text, see timeparse.h) through mreg.audit_prune(), which
 * leaves one audit.prune entry; with dry_run only count them.  *count:
 * the entries removed (or that would be).  0, or -1 with err filled.
 */
int mreg_audit_prune(struct mreg_conn *conn, const char *actor,
		     const char *before, bool dry_run, long long *count,
		     struct mreg_error *err);

#endif
