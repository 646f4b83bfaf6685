/* pooler.h - is this connection behind a transaction-mode pooler?
 *
 * Session state (LISTEN, session advisory locks, SET, temporary tables)
 * does not survive PgBouncer's transaction mode: each transaction may run
 * on another server connection.  PgBouncer answers SHOW only on its admin
 * database, and it passes the server's parameters through, so the one
 * portable tell is the port: the client connected to PQport(), the server
 * says current_setting('port'); a pooler listens on a port of its own
 * (PgBouncer's default 6432 in front of 5432).  A proxy that forwards
 * another port to the server directly (a container's port map, an SSH
 * tunnel) looks pooled too: MREG_POOLED=no says "direct", MREG_POOLED=yes
 * "pooled", whatever the ports say.
 *
 * Used by mreg watch (LISTEN) and, in issue 17, by mreg migrate.
 */
#ifndef MREG_POOLER_H
#define MREG_POOLER_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "error.h"

/* The environment variable that overrides the guess ("yes" or "no"). */
#define MREG_POOLED_ENV "MREG_POOLED"

struct mreg_pooled {
	bool pooled;
	bool overridden;        /* MREG_POOLED decided */
	char client_port[16];   /* the port libpq connected to */
	char server_port[16];   /* the server's own, or "" if overridden */
};

/*
 * Decide for pg (CONNECTION_OK, idle: runs one SELECT).  0 with *out
 * filled, -1 with err set (the query failed, or MREG_POOLED holds
 * something other than yes or no: MREG_EXIT_USAGE).
 */
int mreg_conn_pooled(PGconn *pg, struct mreg_pooled *out,
		     struct mreg_error *err);

#endif
