/*
 * .torrent files are read by every BitTorrent client that downloads
 * from the mirror, and the infohash names the swarm: what dl_torrent
 * writes must decode, with a strict reader, to exactly what it was given.
 *
 * Input: 11 header bytes, then NUL-separated fields NAME, SHA256 (used
 * only when header byte 2 says so) and up to 4 BASEs.
 *   [0] number of bases (mod 5)
 *   [1] piece length: 2^(14 + low 3 bits), or a bad one when bit 7 is set
 *   [2] bit 0: take SHA256 from the input; bit 1: skew the piece count;
 *       bit 7: the full 64-bit size with a small piece count
 *   [3..10] size, little-endian
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "downloads.h"
#include "hexutil.h"
#include "names.h"

#define MAX_BASES	4
#define MAX_PIECES	4096
#define SHA_OK		"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
	const uint8_t *p;
	size_t len, off;
};

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
rd_byte(struct rd *r)
{
	return r->off < r->len ? r->p[r->off] : -1;
}

/* Canonical non-negative decimal up to END: no sign, no leading zero. */
static uint64_t
rd_digits(struct rd *r, int end)
{
	uint64_t v = 0;
	size_t start = r->off;
	int c;

	while ((c = rd_byte(r)) >= '0' && c <= '9') {
		check(v <= (UINT64_MAX - (uint64_t)(c - '0')) / 10);
		v = v * 10 + (uint64_t)(c - '0');
		r->off++;
	}
	check(r->off > start);
	check(r->p[start] != '0' || r->off == start + 1);
	check(rd_byte(r) == end);
	r->off++;
	return v;
}

static uint64_t
rd_int(struct rd *r)
{
	check(rd_byte(r) == 'i');
	r->off++;
	return rd_digits(r, 'e');
}

static const uint8_t *
rd_str(struct rd *r, size_t *n)
{
	const uint8_t *s;
	uint64_t v;

	check(rd_byte(r) >= '0' && rd_byte(r) <= '9');
	v = rd_digits(r, ':');
	check(v <= r->len - r->off);
	s = r->p + r->off;
	r->off += (size_t)v;
	*n = (size_t)v;
	return s;
}

static int
is(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Dict keys must be strictly increasing as raw byte strings (BEP 3). */
static void
rd_key(struct rd *r, const uint8_t **prev, size_t *prevn,
    const uint8_t **key, size_t *keyn)
{
	int cmp;

	*key = rd_str(r, keyn);
	if (*prev != NULL) {
		cmp = memcmp(*prev, *key, *prevn < *keyn ? *prevn : *keyn);
		check(cmp < 0 || (cmp == 0 && *prevn < *keyn));
	}
	*prev = *key;
	*prevn = *keyn;
}

struct expect {
	const char *name, *sha;
	uint64_t size;
	uint32_t piece_length;
	const uint8_t *pieces;
	size_t n_pieces;
	const char *const *bases;
	size_t n_bases;
};

static void
rd_info(struct rd *r, const struct expect *e)
{
	const uint8_t *prev = NULL, *k, *s;
	size_t prevn = 0, kn, n;
	int seen = 0;

	check(rd_byte(r) == 'd');
	r->off++;
	while (rd_byte(r) != 'e') {
		rd_key(r, &prev, &prevn, &k, &kn);
		if (is(k, kn, "length")) {
			check(rd_int(r) == e->size);
			seen |= 1;
		} else if (is(k, kn, "name")) {
			s = rd_str(r, &n);
			check(is(s, n, e->name));
			seen |= 2;
		} else if (is(k, kn, "piece length")) {
			check(rd_int(r) == e->piece_length);
			seen |= 4;
		} else if (is(k, kn, "pieces")) {
			s = rd_str(r, &n);
			check(n == e->n_pieces * 20 &&
			    (n == 0 || memcmp(s, e->pieces, n) == 0));
			seen |= 8;
		} else
			abort();
	}
	r->off++;
	check(seen == 15);
}

static void
rd_torrent(const uint8_t *t, size_t len, const struct expect *e)
{
	struct rd r = { t, len, 0 };
	const uint8_t *prev = NULL, *k, *s, *info = NULL;
	size_t prevn = 0, kn, n, i, bl, infolen = 0;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[41], got[41];
	int seen = 0;

	check(rd_byte(&r) == 'd');
	r.off++;
	while (rd_byte(&r) != 'e') {
		rd_key(&r, &prev, &prevn, &k, &kn);
		if (is(k, kn, "created by")) {
			s = rd_str(&r, &n);
			check(is(s, n, "emberd " EMBERD_VERSION));
			seen |= 1;
		} else if (is(k, kn, "info")) {
			info = t + r.off;
			rd_info(&r, e);
			infolen = (size_t)(t + r.off - info);
			seen |= 2;
		} else if (is(k, kn, "url-list")) {
			check(rd_byte(&r) == 'l');
			r.off++;
			for (i = 0; rd_byte(&r) != 'e'; i++) {
				check(i < e->n_bases);
				s = rd_str(&r, &n);
				bl = strlen(e->bases[i]);
				check(n == bl + 7 + 64 &&
				    memcmp(s, e->bases[i], bl) == 0 &&
				    memcmp(s + bl, "sha256/", 7) == 0 &&
				    memcmp(s + bl + 7, e->sha, 64) == 0);
			}
			r.off++;
			check(i == e->n_bases);
			seen |= 4;
		} else
			abort();
	}
	r.off++;
	check(r.off == len);
	check(seen == (e->n_bases > 0 ? 7 : 3));

	/* The infohash is the SHA-1 of the info dict exactly as written. */
	check(EVP_Digest(info, infolen, md, &mdlen, EVP_sha1(), NULL) == 1);
	hex_encode(md, 20, hex);
	check(dl_infohash(&(struct dl_item){ e->name, NULL, e->sha, e->size,
	    e->piece_length, e->pieces, e->n_pieces }, got) == 0);
	check(strcmp(hex, got) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fields[2 + MAX_BASES];
	struct expect e;
	struct dl_item it;
	uint8_t *pieces = NULL;
	char *copy = NULL, *p, *end, *out;
	size_t n_fields = 0, i, len = 0, want;
	uint64_t raw = 0;
	uint32_t pl;
	int valid;

	if (size < 11)
		return 0;
	for (i = 0; i < 8; i++)
		raw |= (uint64_t)data[3 + i] << (8 * i);
	if (data[1] & 0x80)
		pl = 16384u + (data[1] & 0x7f) * 1024u;	/* 16384 itself is valid */
	else
		pl = 1u << (14 + (data[1] & 7));

	/* Sizes that fit MAX_PIECES real pieces, unless asked for any size:
	 * then the piece count is small and almost surely wrong. */
	if (data[2] & 0x80) {
		e.size = raw;
		e.n_pieces = (data[2] >> 2) & 7;
	} else {
		e.size = raw % ((uint64_t)pl * MAX_PIECES + 1);
		want = (size_t)(e.size / pl + (e.size % pl != 0));
		e.n_pieces = want;
		if ((data[2] & 2) && !(want == 0 && (data[2] & 4) == 0))
			e.n_pieces = (data[2] & 4) ? want + 1 : want - 1;
	}

	/* The rest: NUL-separated fields, the copy keeps them terminated. */
	if ((copy = malloc(size - 11 + 1)) == NULL)
		return 0;
	memcpy(copy, data + 11, size - 11);
	copy[size - 11] = '\0';
	for (p = copy, end = copy + (size - 11); n_fields < 2 + MAX_BASES; ) {
		fields[n_fields++] = p;
		p += strlen(p);
		if (p == end)
			break;
		p++;
	}
	for (i = n_fields; i < 2 + MAX_BASES; i++)
		fields[i] = "";

	if ((pieces = malloc(e.n_pieces * 20 + 1)) == NULL) {
		free(copy);
		return 0;
	}
	for (i = 0; i < e.n_pieces * 20; i++)
		pieces[i] = data[i % size] ^ (uint8_t)i;

	e.name = fields[0];
	e.sha = (data[2] & 1) ? fields[1] : SHA_OK;
	e.piece_length = pl;
	e.pieces = pieces;
	e.bases = fields + 2;
	e.n_bases = data[0] % (MAX_BASES + 1);

	valid = e.name[0] != '\0' && name_utf8_valid(e.name, strlen(e.name)) &&
	    name_is_sha256_hex(e.sha, strlen(e.sha)) &&
	    pl >= 16384 && (pl & (pl - 1)) == 0 && e.size <= INT64_MAX &&
	    e.n_pieces == e.size / pl + (e.size % pl != 0);
	for (i = 0; i < e.n_bases; i++)
		valid = valid && e.bases[i][0] != '\0' &&
		    e.bases[i][strlen(e.bases[i]) - 1] == '/';

	it = (struct dl_item){ e.name, NULL, e.sha, e.size, pl, pieces,
	    e.n_pieces };
	out = dl_torrent(&it, e.bases, e.n_bases, &len);
	check((out != NULL) == valid);
	if (out != NULL) {
		check(out[len] == '\0');
		rd_torrent((const uint8_t *)out, len, &e);
	}
	free(out);
	free(pieces);
	free(copy);
	return 0;
}
