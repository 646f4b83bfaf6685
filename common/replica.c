/* replica.c - a connection's server: primary or standby, and its lag */
#include <stdlib.h>
#include <string.h>

#include "replica.h"

/*
 * The received-but-not-replayed test makes an idle, caught-up standby's
 * lag 0: pg_last_xact_replay_timestamp() alone grows while the primary is
 * idle, though nothing is missing.
 */
static const char *const state_sql =
	"SELECT pg_is_in_recovery(),"
	" CASE WHEN NOT pg_is_in_recovery() THEN 0"
	" WHEN pg_last_wal_receive_lsn() IS NOT NULL"
	"  AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
	" ELSE extract(epoch FROM clock_timestamp()"
	"              - pg_last_xact_replay_timestamp()) END";

int mreg_replica_state(struct mreg_conn *conn, struct mreg_replica_state *st,
		       struct mreg_error *err)
{
	PGresult *res;

	memset(st, 0, sizeof(*st));
	res = mreg_db_exec(conn, state_sql, 0, NULL, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	st->standby = PQgetvalue(res, 0, 0)[0] == 't';
	st->lag_s = PQgetisnull(res, 0, 1)
			    ? -1
			    : strtod(PQgetvalue(res, 0, 1), NULL);
	if (st->lag_s < 0 && !PQgetisnull(res, 0, 1))
		st->lag_s = 0; /* clocks of two machines: never negative */
	PQclear(res);
	return 0;
}
