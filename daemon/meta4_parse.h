/*
 * The piece hashes of a Metalink 4 document (RFC 5854) that a mirror
 * serves beside an object: what `emberd fetch` uses to tell, piece by
 * piece, which mirror sent altered bytes. The document is untrusted (a
 * mirror writes it, nobody signs it): it is read only for the <file>
 * whose sha-256 is the one the signed catalog names, and only when its
 * size and piece count agree with the catalog's size. The pieces then
 * localize a bad range; the catalog's SHA-256 is what proves the file.
 */
#ifndef EMBERD_META4_PARSE_H
#define EMBERD_META4_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Larger than any document an object can have (2 million pieces). */
#define META4_MAX_BYTES		(128u << 20)
#define META4_PIECE_MIN		16384u
#define META4_PIECE_MAX		(64u << 20)

struct meta4_pieces {
	uint32_t length;	/* a power of two, META4_PIECE_MIN..MAX */
	size_t n;		/* pieces_count(size, length) */
	uint8_t *sha1;		/* n * 20 bytes, malloc'd */
};

/*
 * The SHA-1 pieces of the <file> of DOC (LEN bytes) whose sha-256 hash is
 * HEX (64 lowercase hex) and whose size is SIZE (> 0). 0 with *OUT
 * filled, or -1 with ERR saying why: not XML, a DTD (no entities are
 * ever expanded), no such file, another size, no sha-1 pieces, a piece
 * length out of range, a count that is not the size's, a hash that is
 * not 40 hex digits, out of memory.
 */
int meta4_parse_pieces(const char *doc, size_t len, const char *hex, uint64_t size,
    struct meta4_pieces *out, char *err, size_t errlen);

void meta4_pieces_free(struct meta4_pieces *p);

#endif
