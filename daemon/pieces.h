/*
 * BitTorrent v1 pieces: the SHA-1 of every LENGTH bytes of an object's
 * content, the last piece possibly shorter. One streaming hasher serves
 * both ends of an object's life: ingest collects the digests as bytes
 * arrive, and a re-check (store_check_object) compares each finished
 * piece with the recorded one, so a corrupt object is reported at its
 * first bad piece. Memory: one SHA-1 context, plus 20 bytes a piece when
 * collecting.
 */

#ifndef EMBERD_PIECES_H
#define EMBERD_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define PIECES_SHA1_LEN 20

struct pieces {
	EVP_MD_CTX *sha1;
	uint32_t length;	/* bytes in a piece */
	uint32_t fill;		/* bytes of the current piece hashed so far */
	size_t count;		/* pieces finished (and matched, when checking) */
	uint8_t *digests;	/* collecting: count digests, back to back */
	size_t cap;		/* digests' room, in pieces */
	const uint8_t *expect;	/* checking: the digests to match */
	size_t n_expect;
	int failed;		/* sticky: a bad piece or no memory */
};

/*
 * Start hashing pieces of LENGTH (> 0) bytes. With EXPECT NULL the
 * digests are collected into pc->digests; otherwise every finished piece
 * must equal the next of the N_EXPECT digests of EXPECT (20 bytes each),
 * which the caller keeps alive. 0, or -1 when out of memory.
 */
int pieces_init(struct pieces *pc, uint32_t length, const uint8_t *expect,
    size_t n_expect);

/*
 * Hash LEN more bytes of content; any split of the content into calls
 * gives the same pieces. -1 when collecting runs out of memory, or when
 * checking a piece does not match (or is one more than expected):
 * pc->count is then the index of that piece. After -1 every call fails
 * the same way, so a thread that keeps feeding bytes does no harm.
 */
int pieces_update(struct pieces *pc, const void *buf, size_t len);

/* The content is complete: finish the last, short piece, if any. -1 as
 * for pieces_update. */
int pieces_final(struct pieces *pc);

/* How many pieces SIZE bytes make at LENGTH (> 0): what clients
 * recompute from a torrent or Metalink, and what a trailer must hold. */
uint64_t pieces_count(uint64_t size, uint32_t length);

/* Frees the context and the collected digests (which a caller may have
 * taken by setting pc->digests to NULL). */
void pieces_free(struct pieces *pc);

#endif
