/*
 * The torrent piece hasher: however the content is split into updates,
 * the pieces are the one-shot SHA-1 of each PIECE_LENGTH slice, the last
 * one short; checking mode stops at the first piece that differs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pieces.h"
#include "check.h"

#define LEN 16384

/* The pieces of BUF, one EVP_Digest per slice, into a new array. */
static uint8_t *
oneshot(const unsigned char *buf, size_t len, size_t *n)
{
	uint8_t *d;
	size_t i, off, take;

	*n = (len + LEN - 1) / LEN;
	if ((d = malloc(*n * PIECES_SHA1_LEN + 1)) == NULL)
		abort();
	for (i = 0, off = 0; off < len; i++, off += take) {
		take = len - off < LEN ? len - off : LEN;
		EVP_Digest(buf + off, take, d + i * PIECES_SHA1_LEN, NULL,
		    EVP_sha1(), NULL);
	}
	return d;
}

/* Hash BUF in updates of the sizes in STEPS (cycled; 0 is an empty
 * update) and compare with the one-shot pieces. */
static void
collect(const unsigned char *buf, size_t len, const size_t *steps,
    size_t nsteps)
{
	struct pieces pc;
	uint8_t *want;
	size_t n, off = 0, k = 0, step;

	want = oneshot(buf, len, &n);
	CHECK(pieces_init(&pc, LEN, NULL, 0) == 0);
	while (off < len) {
		step = steps[k++ % nsteps];
		if (step > len - off)
			step = len - off;
		CHECK(pieces_update(&pc, buf + off, step) == 0);
		off += step;
	}
	CHECK(pieces_final(&pc) == 0);
	CHECK(pc.count == n);
	CHECK(n == 0 || memcmp(pc.digests, want, n * PIECES_SHA1_LEN) == 0);
	/* Final twice adds nothing: the short piece is already done. */
	CHECK(pieces_final(&pc) == 0 && pc.count == n);
	pieces_free(&pc);
	free(want);
}

int
main(void)
{
	static const size_t odd[] = { 1, 4095, 0, 16383, 16385, 7, 40000 };
	static const size_t whole[] = { 3 * LEN + 100 };
	const size_t len = 5 * LEN + 1234;
	unsigned char *buf = malloc(len);
	struct pieces pc;
	uint8_t *want;
	size_t n;

	CHECK(buf != NULL);
	if (buf == NULL)
		return 1;
	RAND_bytes(buf, (int)len);

	/* Pieces across updates of odd sizes, a short last piece. */
	collect(buf, len, odd, sizeof(odd) / sizeof(odd[0]));
	collect(buf, len, whole, 1);
	/* Whole pieces only: no empty piece after the last. */
	collect(buf, 4 * LEN, odd, sizeof(odd) / sizeof(odd[0]));
	/* Shorter than one piece, and empty content: no piece at all. */
	collect(buf, 100, odd, sizeof(odd) / sizeof(odd[0]));
	collect(buf, 0, odd, sizeof(odd) / sizeof(odd[0]));

	/* Checking: the right pieces pass, whatever the split. */
	want = oneshot(buf, len, &n);
	CHECK(pieces_init(&pc, LEN, want, n) == 0);
	CHECK(pieces_update(&pc, buf, 12345) == 0);
	CHECK(pieces_update(&pc, buf + 12345, len - 12345) == 0);
	CHECK(pieces_final(&pc) == 0);
	CHECK(pc.count == n && pc.digests == NULL);
	pieces_free(&pc);

	/* A changed byte in piece 2: the error names piece 2, and stays. */
	buf[2 * LEN + 5] ^= 1;
	CHECK(pieces_init(&pc, LEN, want, n) == 0);
	CHECK(pieces_update(&pc, buf, len) == -1);
	CHECK(pc.count == 2);
	CHECK(pieces_update(&pc, buf, 1) == -1);
	CHECK(pieces_final(&pc) == -1);
	pieces_free(&pc);
	buf[2 * LEN + 5] ^= 1;

	/* A last piece the record lacks, and a short last piece that
	 * differs, are found at the end. */
	CHECK(pieces_init(&pc, LEN, want, n - 1) == 0);
	CHECK(pieces_update(&pc, buf, len) == 0);
	CHECK(pieces_final(&pc) == -1 && pc.count == n - 1);
	pieces_free(&pc);
	CHECK(pieces_init(&pc, LEN, want, n) == 0);
	CHECK(pieces_update(&pc, buf, len - 1) == 0);
	CHECK(pieces_final(&pc) == -1 && pc.count == n - 1);
	pieces_free(&pc);

	/* The count clients recompute, without overflow at the top. */
	CHECK(pieces_count(0, LEN) == 0);
	CHECK(pieces_count(1, LEN) == 1);
	CHECK(pieces_count(LEN, LEN) == 1);
	CHECK(pieces_count(LEN + 1, LEN) == 2);
	CHECK(pieces_count(UINT64_MAX, LEN) == (UINT64_MAX >> 14) + 1);

	free(want);
	free(buf);
	CHECK_DONE();
}
