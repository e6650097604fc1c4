/*
 * The streaming SHA-1 piece hasher of pieces.h, shared by ingest and the
 * store's re-check so that both cut the content at the same offsets.
 */

#include "pieces.h"

#include <stdlib.h>
#include <string.h>

int
pieces_init(struct pieces *pc, uint32_t length, const uint8_t *expect,
    size_t n_expect)
{
	memset(pc, 0, sizeof(*pc));
	pc->length = length;
	pc->expect = expect;
	pc->n_expect = n_expect;
	if ((pc->sha1 = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(pc->sha1, EVP_sha1(), NULL)) {
		pieces_free(pc);
		return -1;
	}
	return 0;
}

/* Keep a finished digest, or compare it with the expected one. */
static int
pieces_keep(struct pieces *pc, const unsigned char *md)
{
	uint8_t *p;
	size_t cap;

	if (pc->expect != NULL) {
		if (pc->count >= pc->n_expect || memcmp(md, pc->expect +
		    pc->count * PIECES_SHA1_LEN, PIECES_SHA1_LEN) != 0)
			return -1;
		return 0;
	}
	if (pc->count == pc->cap) {
		/* Doubling: a 4 GiB object at the smallest piece length
		 * needs 16384 pieces, and growth stays O(n) overall. */
		cap = pc->cap ? pc->cap * 2 : 64;
		if ((p = realloc(pc->digests, cap * PIECES_SHA1_LEN)) == NULL)
			return -1;
		pc->digests = p;
		pc->cap = cap;
	}
	memcpy(pc->digests + pc->count * PIECES_SHA1_LEN, md, PIECES_SHA1_LEN);
	return 0;
}

/* The current piece is complete (or the content ended): its digest. */
static int
pieces_finish_one(struct pieces *pc)
{
	unsigned char md[EVP_MAX_MD_SIZE];

	if (!EVP_DigestFinal_ex(pc->sha1, md, NULL) ||
	    pieces_keep(pc, md) == -1)
		goto fail;
	pc->count++;
	pc->fill = 0;
	if (!EVP_DigestInit_ex(pc->sha1, EVP_sha1(), NULL))
		goto fail;
	return 0;
fail:
	pc->failed = 1;
	return -1;
}

int
pieces_update(struct pieces *pc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t take;

	if (pc->failed)
		return -1;
	while (len > 0) {
		take = pc->length - pc->fill;
		if (take > len)
			take = len;
		if (!EVP_DigestUpdate(pc->sha1, p, take)) {
			pc->failed = 1;
			return -1;
		}
		pc->fill += (uint32_t)take;
		p += take;
		len -= take;
		if (pc->fill == pc->length && pieces_finish_one(pc) == -1)
			return -1;
	}
	return 0;
}

int
pieces_final(struct pieces *pc)
{
	if (pc->failed)
		return -1;
	if (pc->fill == 0)
		return 0;
	return pieces_finish_one(pc);
}

uint64_t
pieces_count(uint64_t size, uint32_t length)
{
	/* Not (size + length - 1) / length: no overflow near UINT64_MAX. */
	return size / length + (size % length != 0);
}

void
pieces_free(struct pieces *pc)
{
	EVP_MD_CTX_free(pc->sha1);
	free(pc->digests);
	pc->sha1 = NULL;
	pc->digests = NULL;
	pc->count = pc->cap = 0;
}
