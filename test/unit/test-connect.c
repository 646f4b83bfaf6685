/* test-connect.c - the one connect routine, without a server */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "connect.h"
#include "tap.h"

static bool leaks(const struct mreg_error *e, const char *secret)
{
	return strstr(e->message, secret) || strstr(e->detail, secret) ||
	       strstr(e->hint, secret);
}

static void test_unreachable(void)
{
	struct mreg_connector c;
	struct mreg_error err = { 0 };
	PGconn *pg;

	ok(mreg_connector_init(&c, "host=/nonexistent password=hunter2",
			       "mreg test", 0, &err) == 0, "init");
	is_str(c.timeout, "10", "default connect_timeout: 10 s");
	is_str(c.redacted, "password=*** host=/nonexistent",
	       "the DSN redacted");
	pg = mreg_db_connect(&c, &err);
	ok(pg == NULL, "no server: no connection");
	PQfinish(pg);
	ok(strncmp(err.message,
		   "could not connect to password=*** host=/nonexistent: ",
		   53) == 0, "the error names the redacted DSN");
	if (strncmp(err.message, "could not connect to", 20) != 0)
		diag("  got \"%s\"", err.message);
	ok(!leaks(&err, "hunter2"), "no secret in message, detail or hint");
	is_int(err.status, MREG_EXIT_FAILURE, "a runtime error");
	mreg_connector_finish(&c);
	mreg_connector_finish(&c);
	mreg_connector_finish(NULL);
	ok(1, "finish twice and on NULL is safe");
}

static void test_unparseable(void)
{
	struct mreg_connector c;
	struct mreg_error err = { 0 };

	ok(mreg_connector_init(&c, "postgresql://u:hunter2@[::1/db",
			       NULL, 3, &err) == 0, "init, unparseable DSN");
	is_str(c.timeout, "3", "connect_timeout as given");
	ok(mreg_db_connect(&c, &err) == NULL, "never handed to libpq");
	ok(strncmp(err.message, "could not connect to ", 21) == 0 &&
	   !leaks(&err, "hunter2"), "named, without the password: %s",
	   err.message);
	mreg_connector_finish(&c);
}

int main(void)
{
	test_unreachable();
	test_unparseable();
	return tap_done();
}
