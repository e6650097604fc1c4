/*
 * A WARC 1.1 writer: each record is one gzip member (so any record can be
 * read from its offset alone), digests are SHA-256 as lowercase hex
 * ("sha256:HEX", what warcio writes and checks). A record's block is a
 * head held in memory and an optional payload: bytes in memory or a
 * slice of a stored object, streamed twice from the store (once for the
 * digests, once to write), so an item of any size costs constant memory.
 *
 * Output goes to FILE.partial and is renamed to FILE only when whole
 * (warc_close): a crash never leaves a complete-looking FILE. In folder
 * mode (PATH ends in '/' or is a folder) the files are
 * emberd-00000.warc.gz... each at most WARC_FILE_CAP bytes unless one
 * record alone is larger; all are renamed at the end.
 */
#ifndef EMBERD_WARC_H
#define EMBERD_WARC_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define WARC_FILE_CAP	(1000ull * 1000 * 1000)
#define WARC_ID_LEN	48	/* "<urn:uuid:...>" and its NUL */

struct warc;

/* The payload of a record: LEN bytes at BUF, or the slice [OFF, OFF+LEN)
 * of object HEX (BUF NULL). */
struct warc_payload {
	const unsigned char *buf;
	const char *hex;
	uint64_t off, len;
};

struct warc_rec {
	const char *type;		/* "response", "request", ... */
	const char *uri;		/* WARC-Target-URI, or NULL */
	const char *date;		/* WARC-Date, or NULL: now */
	const char *content_type;
	const char *fields;		/* more header lines, each ending "\r\n", or NULL */
	const unsigned char *head;	/* the block's first bytes (HTTP head) */
	size_t head_len;
	const struct warc_payload *payload;	/* NULL: the block is HEAD only */
	int payload_digest;		/* write WARC-Payload-Digest */
	char id[WARC_ID_LEN];		/* out: WARC-Record-ID */
	char payload_sha256[65];	/* out: hex of the payload */
};

/* Start writing PATH (a file, or a folder as above). Each file begins
 * with a warcinfo record: its WARC-Filename, then INFO (warc-fields
 * lines). NULL with ERR set. */
struct warc *warc_open(const char *path, const struct store *st, const char *info,
    char *err, size_t errlen);

/* Append R; fills R->id (unless set: an id given out earlier, for a
 * WARC-Concurrent-To) and R->payload_sha256. 0, or -1 with ERR set. */
int warc_write(struct warc *w, struct warc_rec *r, char *err, size_t errlen);

/* Finish: sync and rename every file into place, free W. 0, or -1. */
int warc_close(struct warc *w, char *err, size_t errlen);

/* Give up: remove what was written, free W. */
void warc_abort(struct warc *w);

/* How many files were written (folder mode), records in all. */
unsigned warc_files(const struct warc *w);
unsigned warc_records(const struct warc *w);

/* Files of at most CAP bytes instead of WARC_FILE_CAP (for tests). */
void warc_set_cap(struct warc *w, uint64_t cap);

/* A new "<urn:uuid:...>" (random, version 4) into ID. */
void warc_new_id(char id[WARC_ID_LEN]);

#endif
