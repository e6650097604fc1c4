#ifndef EMBERD_COMMANDS_H
#define EMBERD_COMMANDS_H

/*
 * The subcommands of the emberd binary. Each takes the arguments after
 * the command name (argv[0] is the command) and returns the process exit
 * status: 0 success, 1 the operation found a problem (a bad object, a
 * failed item), 2 bad usage, config or environment.
 */
int cmd_add(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_crawl(int argc, char **argv);
int cmd_fetch(int argc, char **argv);	/* fetch.c */
int cmd_rm(int argc, char **argv);	/* catalog_commands.c */
int cmd_publish(int argc, char **argv);	/* catalog_commands.c */
int cmd_export(int argc, char **argv);	/* export.c */
int cmd_import(int argc, char **argv);	/* import.c */

/* ---- shared by the files of the commands ---- */

#include <stdio.h>

#include "config.h"
#include "store.h"

struct cmd_ctx {
	struct config cfg;
	struct store st;
	int have_cfg, have_store;
};

/* Load the config, drop privileges and open (with CREATE, make) the
 * store. 0, or 2 with the error logged; free C either way. */
int cmd_ctx_open(struct cmd_ctx *c, const char *cfgpath, int create);
void cmd_ctx_free(struct cmd_ctx *c);

/* TEXT to F; STATUS back. */
int cmd_usage(FILE *f, const char *text, int status);

#endif
