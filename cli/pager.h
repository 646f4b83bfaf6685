/* pager.h - long tables for people go through a pager, as in git and psql
 *
 * On a terminal, list, search and show send their table through
 * $MREG_PAGER, else $PAGER, else "less -FRX" (-F: quit at once when it
 * fits on one screen, -R: keep the bold header, -X: leave the text on the
 * screen).  An empty value or "cat" means no pager, and so do --no-pager
 * and a standard output that is not a terminal.
 *
 * A command of plain words ("less -FRX", "most") is run directly, so a
 * pager that cannot be started is noticed: a warning, and the output is
 * printed directly.  Anything else ("less | tee x") runs under sh -c.
 * Standard output is redirected into the pager's pipe; at exit (atexit,
 * and on SIGINT/SIGTERM/SIGHUP/SIGQUIT) mreg closes it and waits for the
 * pager, so the shell's prompt comes back after the pager has quit.  A
 * pager quit early (q in less) makes later writes fail with EPIPE, which
 * the read commands treat as the reader going away: exit 0, no message.
 */
#ifndef MREG_PAGER_H
#define MREG_PAGER_H

#include <stdbool.h>

#include "cli.h"

/*
 * The pager command to use, or NULL for none ($MREG_PAGER, $PAGER,
 * "less -FRX"; empty or "cat": none).  *chosen tells whether the user set
 * it (a default that is missing is no reason for a warning).
 */
const char *cli_pager_command(bool *chosen);

/*
 * Start the pager for standard output, unless --no-pager was given,
 * standard output is no terminal, no pager is configured or one is
 * running already.  Call it just before the first line of a table.
 */
void cli_pager_start(const struct cli_ctx *ctx);

/* Is standard output going to the pager? */
bool cli_pager_active(void);

/* The terminal's width when the pager started (0: unknown). */
int cli_pager_width(void);

#endif
