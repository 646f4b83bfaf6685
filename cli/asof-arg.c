/* asof-arg.c - --at TIME (see asof-arg.h) */
#include "asof-arg.h"

#include <time.h>

#include "timeparse.h"

int cli_asof_parse(const struct cli_ctx *ctx, const char *arg, char *asked)
{
	struct mreg_error err;
	struct mreg_time t;

	if (mreg_time_parse(arg, (long long)time(NULL), &t, &err) < 0)
		return cli_usage(ctx, "--at: %s", err.message);
	if (mreg_time_format(&t, asked, MREG_ASOF_LEN) < 0)
		return cli_usage(ctx, "--at: invalid time \"%s\": out of range",
				 arg);
	return 0;
}

int cli_asof_resolve(const struct cli_ctx *ctx, struct mreg_conn *conn,
		     const char *asked, char *at)
{
	struct mreg_error err;

	if (mreg_asof_check(conn, asked, at, &err) < 0)
		return cli_report(ctx, &err);
	return 0;
}
