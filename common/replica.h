/* replica.h - where a connection reads from: a primary or a standby, and
 * how far behind the standby replays
 */
#ifndef MREG_REPLICA_H
#define MREG_REPLICA_H

#include <stdbool.h>

#include "db.h"
#include "error.h"

struct mreg_replica_state {
	bool standby;  /* pg_is_in_recovery() */
	/*
	 * Seconds the standby's replay is behind: 0 when it has replayed all
	 * the WAL it received (nothing is pending, however old the last
	 * transaction), else the age of the last replayed transaction's
	 * commit; -1 when unknown (nothing replayed since the standby
	 * started, and WAL pending).  0 on a primary.
	 */
	double lag_s;
};

/* Measure it on conn (one statement); -1 with err on failure. */
int mreg_replica_state(struct mreg_conn *conn, struct mreg_replica_state *st,
		       struct mreg_error *err);

#endif
