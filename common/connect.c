/* connect.c - the one way mreg opens a libpq connection (see connect.h) */
#include "connect.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of keyword in opts (NULL if unset), opts may be NULL. */
static const char *opt_value(const PQconninfoOption *opts, const char *kw)
{
	for (; opts && opts->keyword; opts++)
		if (strcmp(opts->keyword, kw) == 0)
			return opts->val;
	return NULL;
}

/* Does libpq take dsn as a connection string (else a database name)? */
static bool is_conninfo(const char *dsn)
{
	return strncmp(dsn, "postgresql://", 13) == 0 ||
	       strncmp(dsn, "postgres://", 11) == 0 || strchr(dsn, '=');
}

/*
 * The connect_timeout libpq would use for dsn without mreg's (from the
 * DSN, the service file or the environment), malloc'd; NULL if none.
 * Nothing is opened: a target_session_attrs libpq refuses stops it after
 * it resolved the options and before it connects.
 */
static char *libpq_timeout(const char *dsn)
{
	const char *keys[3], *vals[3];
	PQconninfoOption *opts;
	const char *v;
	char *out = NULL;
	PGconn *pg;
	int n = 0;

	if (dsn) {
		keys[n] = "dbname";
		vals[n++] = dsn;
	}
	keys[n] = "target_session_attrs";
	vals[n++] = "mreg-resolve-options-only";
	keys[n] = vals[n] = NULL;
	/* libpq checks target_session_attrs in connectOptions2(), after it
	 * filled in the service and the environment and before it starts
	 * to connect: the connection object is CONNECTION_BAD at once */
	pg = PQconnectStartParams(keys, vals, 1);
	if (!pg)
		return NULL;
	opts = PQconninfo(pg);
	v = opt_value(opts, "connect_timeout");
	if (v)
		out = strdup(v);
	PQconninfoFree(opts);
	PQfinish(pg);
	return out;
}

/* Decide c->timeout and say so in c->timeout_text. */
static void choose_timeout(struct mreg_connector *c, int timeout_s)
{
	PQconninfoOption *mine = NULL;
	const char *env = getenv("PGCONNECT_TIMEOUT"), *svc, *from = "";
	char *used = NULL, *msg = NULL;

	if (c->dsn && is_conninfo(c->dsn))
		mine = PQconninfoParse(c->dsn, &msg);
	PQfreemem(msg);
	svc = opt_value(mine, "service");
	if (!svc || !*svc)
		svc = getenv("PGSERVICE");
	if (opt_value(mine, "connect_timeout")) {
		used = strdup(opt_value(mine, "connect_timeout"));
		from = "from the DSN";
	} else if (!c->dsn_error[0] && (used = libpq_timeout(c->dsn)) &&
		   !*used) {
		/* an empty PGCONNECT_TIMEOUT (which libpq would refuse as "not
		 * an integer") counts as none: mreg's own is passed, and a
		 * keyword's value beats the environment */
		free(used);
		used = NULL;
	} else if (used) {
		if (svc && *svc && (!env || strcmp(env, used) != 0))
			from = "from the service file";
		else if (svc && *svc)
			from = "from the service file or PGCONNECT_TIMEOUT";
		else
			from = "from PGCONNECT_TIMEOUT";
	}
	if (used) {
		c->timeout[0] = '\0';
		snprintf(c->timeout_text, sizeof(c->timeout_text),
			 "connect_timeout %.16s s %s%s%.64s%s", used, from,
			 svc && *svc && strstr(from, "service") ? " (service \""
								: "",
			 svc && *svc && strstr(from, "service") ? svc : "",
			 svc && *svc && strstr(from, "service") ? "\")" : "");
	} else {
		snprintf(c->timeout, sizeof(c->timeout), "%d", timeout_s);
		snprintf(c->timeout_text, sizeof(c->timeout_text),
			 "connect_timeout %d s, mreg's default", timeout_s);
	}
	free(used);
	PQconninfoFree(mine);
}

int mreg_connector_init(struct mreg_connector *c, const char *dsn,
			const char *appname, int timeout_s,
			struct mreg_error *err)
{
	memset(c, 0, sizeof(*c));
	if (timeout_s <= 0)
		timeout_s = MREG_CONNECT_TIMEOUT_S;
	c->dsn = dsn && *dsn ? strdup(dsn) : NULL;
	c->appname = strdup(appname ? appname : "mreg");
	if ((dsn && *dsn && !c->dsn) || !c->appname) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	mreg_dsn_redact(c->dsn, c->redacted, sizeof(c->redacted));
	mreg_dsn_secrets_init(&c->secrets, c->dsn);
	mreg_dsn_check(c->dsn, c->dsn_error, sizeof(c->dsn_error));
	choose_timeout(c, timeout_s);
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
	/* earlier entries are overridden by what the DSN itself says; the
	 * timeout only when nothing else gives one (choose_timeout) */
	if (c->timeout[0]) {
		keys[n] = "connect_timeout";
		vals[n++] = c->timeout;
	}
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
