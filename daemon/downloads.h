/*
 * The download descriptions served beside every item: a Metalink 4
 * document (/files/NAME.meta4) and a BitTorrent v1 metainfo file
 * (/files/NAME.torrent). Both point at the mirrors' immutable
 * /sha256/HEX URLs, never at /files/NAME, so a client downloading from
 * several mirrors at once cannot mix two versions of a renamed item.
 * Pure writers: no I/O, output depends only on the arguments.
 */

#ifndef EMBERD_DOWNLOADS_H
#define EMBERD_DOWNLOADS_H

#include <stddef.h>
#include <stdint.h>

struct dl_item {
	const char *name;		/* item name: UTF-8, no '/', validated already */
	const char *type;		/* MIME type or NULL; neither format carries it */
	const char *sha256;		/* 64 lowercase hex: the object id */
	uint64_t size;			/* identity size */
	uint32_t piece_length;		/* power of two >= DL_PIECE_MIN */
	const uint8_t *pieces;		/* n_pieces * 20 bytes of SHA-1 */
	size_t n_pieces;
};

#define DL_PIECE_MIN		16384
#define DL_METALINK_MAX_URLS	999999	/* RFC 5854 priority range */

/* Append URL to the N BASES (at most MAX) unless it is NULL or there
 * already: the mirrors a document lists, each once, in order of
 * preference. Returns the new count. */
size_t dl_bases_add(const char **bases, size_t n, size_t max, const char *url);

/*
 * Metalink 4 (RFC 5854): <published> (PUBLISHED, an RFC 3339 UTC time
 * such as "2026-11-28T12:00:00Z"; omitted when NULL), one <file> with
 * <size>, <hash type="sha-256"> and one <url priority="N"> per base, in
 * order, each BASE + "sha256/" + HEX. Every BASE must end with '/'.
 * NULL when the sha256 is not 64 lowercase hex, the name or a base is
 * not UTF-8 or holds a character XML 1.0 cannot carry, PUBLISHED is
 * malformed, there is no base (a <file> must have a <url>), a base does
 * not end with '/', or out of memory. Returns malloc'd,
 * NUL-terminated bytes; *len is their length. O(total input length).
 */
char *dl_metalink(const struct dl_item *it, const char *const *bases,
    size_t n_bases, const char *published, size_t *len);

/*
 * BitTorrent v1 metainfo (BEP 3), single file: { "created by": "emberd
 * VERSION", "info": { "length", "name", "piece length", "pieces" },
 * "url-list": [ BASE + "sha256/" + HEX, ... ] (BEP 19) }, keys sorted.
 * The info dict holds exactly these keys so the infohash depends only on
 * content, name and piece length, and every mirror announces the same
 * swarm. "url-list" is a list even for one base and left out when there
 * is none. NULL when the name is empty or not UTF-8, the sha256 is not
 * 64 lowercase hex, n_pieces is not ceil(size / piece_length), the piece
 * length is not a power of two >= DL_PIECE_MIN, the size does not fit a
 * bencode integer (int64), a base does not end with '/', or out of
 * memory. Returns malloc'd bytes (NUL-terminated for convenience; the
 * pieces may hold NULs, so use *len).
 */
char *dl_torrent(const struct dl_item *it, const char *const *bases,
    size_t n_bases, size_t *len);

/* The infohash (SHA-1 of the bencoded info dict) as 40 lowercase hex
 * plus NUL. 0 on success, -1 on the errors dl_torrent reports. */
int dl_infohash(const struct dl_item *it, char out[41]);

#endif
