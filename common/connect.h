/* connect.h - the one way mreg opens a libpq connection
 *
 * The pool's connections and bench's connect-per-request connections
 * come from here: the same keywords (connect_timeout,
 * fallback_application_name, the DSN through expand_dbname), the same
 * redaction, and the same error: "could not connect to <redacted DSN>:
 * <why>", with every secret of the DSN scrubbed from libpq's message,
 * detail and hint.  A DSN libpq cannot parse is never handed to libpq
 * (its message would quote the DSN, secrets and all).
 *
 * Everything is prepared once by init; mreg_db_connect only reads the
 * struct, so threads may share one.
 */
#ifndef MREG_CONNECT_H
#define MREG_CONNECT_H

#include <libpq-fe.h>

#include "dsn.h"
#include "error.h"

#define MREG_CONNECT_TIMEOUT_S 10 /* when none is given */

struct mreg_connector {
	char *dsn;                       /* NULL: libpq's defaults */
	char *appname;                   /* fallback_application_name */
	char timeout[16];                /* connect_timeout to pass, or "" */
	char timeout_text[160];          /* which timeout, from where */
	struct mreg_dsn_secrets secrets; /* to scrub libpq's messages with */
	char dsn_error[256];             /* why the DSN does not parse, or "" */
	char redacted[1024];             /* the DSN without its secrets */
};

/*
 * Prepare c for dsn (NULL or "": libpq's defaults), appname and a
 * connect timeout in seconds (<= 0: MREG_CONNECT_TIMEOUT_S).  -1 when out
 * of memory (err set; c is then safe to finish).
 *
 * The timeout is mreg's default only: libpq's own precedence comes
 * first.  When the DSN, the service it names (service=, else PGSERVICE,
 * in PGSERVICEFILE or ~/.pg_service.conf, then PGSYSCONFDIR's
 * pg_service.conf) or PGCONNECT_TIMEOUT gives a connect_timeout, mreg
 * passes none.  What libpq would use is learned from libpq itself: the
 * options are resolved (PQconnectStartParams) with a target_session_attrs
 * libpq refuses before it opens anything, and the connect_timeout of
 * that connection object (PQconninfo) is read.  timeout_text says which
 * timeout applies and where it came from (for --verbose).
 */
int mreg_connector_init(struct mreg_connector *c, const char *dsn,
			const char *appname, int timeout_s,
			struct mreg_error *err);
void mreg_connector_finish(struct mreg_connector *c);

/* A new connection in CONNECTION_OK, or NULL with err set. */
PGconn *mreg_db_connect(const struct mreg_connector *c,
			struct mreg_error *err);

#endif
