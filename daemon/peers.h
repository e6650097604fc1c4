/*
 * Choosing among mirrors that are not trusted, shared by the follower
 * (on the event loop) and `emberd fetch` (a command-line client); each
 * brings its own transport and hands over what every peer answered for
 * catalog.json and catalog.json.minisig.
 *
 * A catalog counts only when its signature verifies with the publisher's
 * key (checked before a byte of it is parsed), it is not older than
 * what the caller already holds, and it has not expired (a mirror frozen
 * by a censor must not pass stale data on as current; a catalog without
 * "expires", from an earlier version, never expires). The newest such
 * catalog wins; the peers
 * are ordered newest catalog first (they have its objects), then older
 * valid ones (they may have some), the failed ones last, and taken in
 * turn, round after round, skipping those found unable to help.
 */
#ifndef EMBERD_PEERS_H
#define EMBERD_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "minisign.h"

#define PEERS_ERRLEN	512
/* A signature file is a few hundred bytes; anything much larger is not
 * one. A catalog is capped as catalog_parse caps it (CATALOG_MAX_BYTES). */
#define PEERS_SIG_MAX	4096

enum peers_doc { PEERS_CATALOG, PEERS_SIGNATURE };

struct peer {
	char *base;			/* ends in '/' */
	char *cat, *sig;		/* as fetched, NUL-terminated */
	size_t cat_len, sig_len;
	char why[PEERS_ERRLEN];		/* why its catalog is no good */
	uint64_t seq;
	json_t *json;			/* verified and parsed */
	char sha256[65];		/* of cat, once verified ("" before) */
	int64_t expires;		/* once verified; INT64_MAX: it has none */
	int expired;			/* refused for that alone */
};

struct peers {
	struct peer *p;
	size_t n;
	struct peer *best;		/* after peers_choose */
	struct peer *stale;		/* the newest refused as expired, or NULL */
	char **order;			/* the peers' bases, best first */
	unsigned char *dead;		/* by place in order */
	size_t turn;
};

/* The peers at URLS (a '/' is added where missing). -1 out of memory. */
int peers_init(struct peers *ps, char *const *urls, size_t n);
void peers_free(struct peers *ps);

/* "catalog.json" or "catalog.json.minisig". */
const char *peers_doc_name(enum peers_doc doc);
/* The most bytes DOC may have. */
size_t peers_doc_max(enum peers_doc doc);

/* What peer I answered for DOC: BODY (copied), or ERR (the first error
 * of a peer is the one kept). -1 out of memory (the peer's why says it). */
int peers_got(struct peers *ps, size_t i, enum peers_doc doc, const char *body,
    size_t len, const char *err);

/*
 * Check a peer's catalog (untrusted bytes) against PK: the signature
 * first, then the catalog is parsed and its sequence must match the one
 * in the signed trusted comment. Returns the parsed catalog and its
 * sequence, or NULL with ERR saying why. peers_choose applies it to
 * every peer; exposed to check one catalog alone (tests, fuzzing).
 */
json_t *peers_check_catalog(const struct minisign_pubkey *pk, const char *cat,
    size_t catlen, const char *sig, size_t siglen, uint64_t *seq, char *err,
    size_t errlen);

/*
 * Verify every peer's catalog with PK, refuse one older than HELD (a
 * rollback) and one whose "expires" is NOW or earlier, take the newest
 * and order the peers. Each peer then has json, seq, sha256 and expires,
 * or why. -1 when no peer gave a valid catalog; stale then names the
 * newest expired one, if any was.
 */
int peers_choose(struct peers *ps, const struct minisign_pubkey *pk, uint64_t held,
    int64_t now);

/* The next peer to try (its place in order): round after round, ROUNDS
 * times, skipping dead ones. -1 when none is left. */
int peers_next(struct peers *ps, unsigned rounds, size_t *at);

/* The peer at AT in order cannot help: peers_next skips it from now on. */
void peers_dead(struct peers *ps, size_t at);

/*
 * One object's turn among N peers, when its transfers are cut or refused
 * (the follower's sync, where each object goes its own way round the
 * peers): from the peer AT, the next that may still help. A peer that
 * cannot help (no such object, wrong bytes) is skipped from then on;
 * one that failed in passing (a timeout, a 503) gets its turn again in
 * the next round. Peers past the 64th are never skipped.
 */
struct peers_turn {
	size_t at;		/* the peer asked last */
	size_t n;
	unsigned tries;		/* transfers over all peers */
	uint64_t dead;		/* peers (bits) that cannot help */
};

enum peers_step {
	PEERS_NONE,		/* ATTEMPTS rounds are over, or no peer can help */
	PEERS_NEXT,		/* ask the peer now at AT */
	PEERS_ROUND,		/* every peer had its turn: wait, then ask AT */
};

/* The transfer from AT ended without the object; RETRY: that peer may do
 * better later. At most ATTEMPTS transfers per peer in all. */
enum peers_step peers_turn_next(struct peers_turn *t, int retry, unsigned attempts);

#endif
