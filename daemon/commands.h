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

#endif
