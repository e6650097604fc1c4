/*
 * A mirror's .meta4 is untrusted: `emberd fetch` reads its piece hashes
 * (meta4_parse_pieces) to tell which mirror sent altered bytes. The
 * reader must hold on any bytes, accept only a piece list that fits the
 * catalog's size, and read back exactly what dl_metalink wrote.
 *
 * Input: [0] bit 0: round trip (else the rest is a document as is);
 * [1..8] the size, little-endian (kept small); in a round trip [9] the
 * piece length's shift and the rest the pieces' bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "downloads.h"
#include "meta4_parse.h"
#include "pieces.h"

#define SHA_OK	"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void
round_trip(const uint8_t *data, size_t size, uint64_t osize)
{
	static uint8_t pieces[64 * PIECES_SHA1_LEN];
	const char *bases[] = { "http://127.0.0.1/", "https://b.example/x/" };
	struct dl_item it = { .name = "a b&c.bin", .sha256 = SHA_OK };
	struct meta4_pieces p;
	char err[256], *doc;
	size_t len, i;

	if (size < 1)
		return;
	it.piece_length = DL_PIECE_MIN << (data[0] % 4);
	it.size = osize % (64ull * it.piece_length) + 1;
	it.n_pieces = (size_t)pieces_count(it.size, it.piece_length);
	for (i = 0; i < it.n_pieces * PIECES_SHA1_LEN; i++)
		pieces[i] = 1 + i < size ? data[1 + i] : (uint8_t)i;
	it.pieces = pieces;
	if ((doc = dl_metalink(&it, bases, 2, NULL, &len)) == NULL)
		return;
	check(meta4_parse_pieces(doc, len, SHA_OK, it.size, &p, err, sizeof(err)) == 0);
	check(p.length == it.piece_length && p.n == it.n_pieces &&
	    memcmp(p.sha1, pieces, p.n * PIECES_SHA1_LEN) == 0);
	meta4_pieces_free(&p);
	/* Another size is another object: refused. */
	check(meta4_parse_pieces(doc, len, SHA_OK, it.size + 1, &p, err, sizeof(err)) == -1);
	free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct meta4_pieces p;
	uint64_t osize = 0;
	char err[256];
	int i;

	if (size < 9)
		return 0;
	for (i = 0; i < 8; i++)
		osize |= (uint64_t)data[1 + i] << (8 * i);
	if (data[0] & 1) {
		round_trip(data + 9, size - 9, osize);
		return 0;
	}
	osize = osize % (1ull << 30) + 1;
	if (meta4_parse_pieces((const char *)data + 9, size - 9, SHA_OK, osize, &p, err,
	    sizeof(err)) == 0) {
		check(p.length >= META4_PIECE_MIN && p.length <= META4_PIECE_MAX &&
		    (p.length & (p.length - 1)) == 0 && p.n == pieces_count(osize, p.length) &&
		    p.sha1 != NULL);
		meta4_pieces_free(&p);
	} else
		check(p.sha1 == NULL && p.n == 0);
	return 0;
}
