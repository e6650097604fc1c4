/*
 * Least privilege ([mirror] user, allow_root). A mirror of banned media is
 * a target: whatever an attacker gets from a bug, it should be an
 * unprivileged user's store, not the machine.
 *
 * Started as root with `user`, `emberd run` does what needs root (bind
 * ports, raise the descriptor limit, read a TLS key only root can read)
 * and then drops to that user for good; the store and its files are made
 * as that user (priv_enter/priv_leave around them). Other commands drop at
 * once. As root without `user`, commands refuse to start unless
 * `allow_root = yes`. Not root: nothing to do (`user` is then ignored).
 */

#ifndef EMBERD_PRIVILEGES_H
#define EMBERD_PRIVILEGES_H

#include <stddef.h>

#include "config.h"

/* Refuse root without user (unless allow_root), look the user up. */
int priv_init(const struct config *cfg, char *err, size_t errlen);

/* Act as the user for a while (files made now are the user's): seteuid. */
int priv_enter(char *err, size_t errlen);
/* Back to root, after priv_enter. */
int priv_leave(char *err, size_t errlen);

/* Drop to the user for good: groups, gid, uid; checked not to be undoable. */
int priv_drop(char *err, size_t errlen);

#endif
