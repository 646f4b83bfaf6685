/* test-error.c - filling struct mreg_error */
#include <string.h>

#include "error.h"
#include "tap.h"

int main(void)
{
	struct mreg_error err;
	char buf[64];

	mreg_error_set(&err, MREG_EXIT_DATA, "could not read \"%s\"", "a.json");
	is_int(err.status, MREG_EXIT_DATA, "status kept");
	is_str(err.message, "could not read \"a.json\"", "message formatted");
	mreg_error_prefix(&err, "import of %s", "root");
	is_str(err.message, "import of root: could not read \"a.json\"",
	       "prefix added");
	mreg_error_at(&err, "a.json", 3, 7);
	is_str(err.path, "a.json", "path");
	is_int(err.line * 100 + err.column, 307, "line and column");

	ok(mreg_sqlstate_is_disconnect("08006"), "08006 is a disconnect");
	ok(mreg_sqlstate_is_disconnect("57P01"), "57P01 (admin shutdown) is a disconnect");
	ok(!mreg_sqlstate_is_disconnect("57014"), "57014 (query canceled) is not");
	ok(!mreg_sqlstate_is_disconnect("23505"), "23505 is not");
	ok(!mreg_sqlstate_is_disconnect(""), "empty is not");

	mreg_error_from_conn(&err, NULL);
	is_str(err.sqlstate, "08006", "no connection: disconnect state");
	is_int(err.status, MREG_EXIT_FAILURE, "no connection: failure");

	is_str(mreg_strerror(2, buf, sizeof(buf)), "No such file or directory",
	       "strerror_r wrapper");
	return tap_done();
}
