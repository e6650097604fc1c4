/*
 * Which public key this mirror's catalog is signed with: a follower's
 * [follow] pubkey (its publisher's), else the one of [mirror] key, our
 * own. `run` serves it, `verify` checks the catalog against it.
 */
#ifndef EMBERD_KEYS_H
#define EMBERD_KEYS_H

#include <stddef.h>

#include "config.h"
#include "minisign.h"
#include "store.h"

/* 0, or -1 with ERR naming the config or key file at fault. */
int keys_public(const struct config *cfg, struct minisign_pubkey *pk, char *err,
    size_t errlen);

/* The same as text: *B64 the "RW..." line for `minisign -P`, *FILE the
 * .pub file's text; both malloc'd. 0, or -1 with ERR. */
int keys_public_text(const struct config *cfg, char **b64, char **file, char *err,
    size_t errlen);

/*
 * Before a publisher downloads or imports anything: can it sign? The key
 * [mirror] key must exist (else the message says to run `emberd keygen
 * -c CONFIG`), be readable, be the running user's with mode 0600, and be
 * the key that signed the store's current catalog, if there is one (a
 * catalog signed by another key would be refused by every follower).
 * 0, or -1 with ERR.
 */
int keys_check_signer(const struct config *cfg, const struct store *st, char *err,
    size_t errlen);

#endif
