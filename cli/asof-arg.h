/* asof-arg.h - --at TIME of default, list defaults, show and restore
 *
 * TIME is a duration ago (2h, 3d) or an ISO-8601 timestamp
 * (common/timeparse.h).  cli_asof_parse() checks it before connecting
 * (a bad one is a usage error, exit 2, with timeparse's message);
 * cli_asof_resolve() asks the server for the instant answered (a time in
 * the future is now) and refuses one before the oldest audit row
 * ("no history before ...", exit 3).
 */
#ifndef MREG_CLI_ASOF_H
#define MREG_CLI_ASOF_H

#include <stddef.h>

#include "asof.h"
#include "cli.h"

/* The option line every --at command shares. */
#define CLI_ASOF_OPTION(id)                                                   \
	{ (id), 0, "at", "TIME",                                              \
	  "as it was at TIME (a timestamp, or a duration ago: 2h, 3d), "      \
	  "from the audit log" }

/* arg as UTC text in asked (MREG_ASOF_LEN bytes): 0, or the usage
 * error's exit status (printed). */
int cli_asof_parse(const struct cli_ctx *ctx, const char *arg, char *asked);

/* The instant answered for asked into at (MREG_ASOF_LEN bytes): 0, or
 * the exit status (printed). */
int cli_asof_resolve(const struct cli_ctx *ctx, struct mreg_conn *conn,
		     const char *asked, char *at);

#endif
