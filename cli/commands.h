/* commands.h - the entry point of every subcommand (one file each) */
#ifndef MREG_COMMANDS_H
#define MREG_COMMANDS_H

#include "cli.h"

int cmd_bench(struct cli_ctx *ctx, int argc, char **argv);
int cmd_bulk_update(struct cli_ctx *ctx, int argc, char **argv);
int cmd_complete(struct cli_ctx *ctx, int argc, char **argv);
int cmd_default(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import_dir(struct cli_ctx *ctx, int argc, char **argv);
int cmd_list(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrate(struct cli_ctx *ctx, int argc, char **argv);
int cmd_search(struct cli_ctx *ctx, int argc, char **argv);
int cmd_set_default(struct cli_ctx *ctx, int argc, char **argv);
int cmd_show(struct cli_ctx *ctx, int argc, char **argv);

#endif
