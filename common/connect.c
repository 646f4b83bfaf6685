/* connect.c - the one way mreg opens a libpq connection (see connect.h) */
#include "connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mreg_connector_init(struct mreg_connector *c, const char *dsn,
			const char *appname, int timeout_s,
			struct mreg_error *err)
{
	memset(c, 0, sizeof(*c));
	if (timeout_s <= 0)
		timeout_s = MREG_CONNECT_TIMEOUT_S;
	snprintf(c->timeout, sizeof(c->timeout), "%d", timeout_s);
	c->dsn = dsn && *dsn ? strdup(dsn) : NULL;
	c->appname = strdup(appname ? appname : "mreg");
	if ((dsn && *dsn && !c->dsn) || !c->appname) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	mreg_dsn_redact(c->dsn, c->redacted, sizeof(c->redacted));
	mreg_dsn_secrets_init(&c->secrets, c->dsn);
	mreg_dsn_check(c->dsn, c->dsn_error, sizeof(c->dsn_error));
	return 0;
}

void mreg_connector_finish(struct mreg_connector *c)
{
	if (!c)
		return;
	mreg_dsn_secrets_finish(&c->secrets);
	free(c->dsn);
	free(c->appname);
	c->dsn = c->appname = NULL;
}

PGconn *mreg_db_connect(const struct mreg_connector *c,
			struct mreg_error *err)
{
	const char *keys[4], *vals[4];
	PGconn *pg;
	int n = 0;

	if (c->dsn_error[0]) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "%s", c->dsn_error);
		mreg_error_prefix(err, "could not connect to %s", c->redacted);
		return NULL;
	}
	/* earlier entries are overridden by what the DSN itself says */
	keys[n] = "connect_timeout";
	vals[n++] = c->timeout;
	keys[n] = "fallback_application_name";
	vals[n++] = c->appname;
	if (c->dsn) {
		keys[n] = "dbname";
		vals[n++] = c->dsn;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		mreg_error_prefix(err, "could not connect to %s", c->redacted);
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		mreg_error_from_conn(err, pg);
		mreg_dsn_secrets_scrub(&c->secrets, err->message,
				       sizeof(err->message));
		mreg_dsn_secrets_scrub(&c->secrets, err->detail,
				       sizeof(err->detail));
		mreg_dsn_secrets_scrub(&c->secrets, err->hint,
				       sizeof(err->hint));
		mreg_error_prefix(err, "could not connect to %s", c->redacted);
		PQfinish(pg);
		return NULL;
	}
	return pg;
}
