/*
 * The ingest sink: the one streaming path by which bytes enter the store,
 * for `add`, the crawler and the follower alike. Bytes pass once through
 * SHA-256, SHA-1 torrent pieces and, when it pays, zlib deflate (gzip
 * format), into an unnamed temp file in STORE/objects. Memory is constant
 * whatever the object's size (a few MiB at most).
 *
 * Life of an ingest: ingest_new, ingest_write..., ingest_finish (the digest
 * is known), then ingest_commit (durable and visible) under the store
 * lock, and ingest_free. Freeing an uncommitted ingest discards it; a
 * crash discards it too, since the temp file has no name until commit.
 */

#ifndef EMBERD_INGEST_H
#define EMBERD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct ingest;

/* SIZE_HINT: the expected size, or 0 when unknown; it sets the torrent
 * piece length and lets deflate give up early on media. */
struct ingest *ingest_new(struct store *st, uint64_t size_hint, char *err, size_t errlen);

/* Feed bytes. -1 on error (disk full, ...): ingest_error() says why and
 * the ingest can only be freed. */
int ingest_write(struct ingest *in, const void *buf, size_t len);

/* Zero-copy feeding: ingest_reserve gives a buffer of *LEN bytes to read
 * into directly (NULL on error); ingest_produce says how many arrived. */
void *ingest_reserve(struct ingest *in, size_t *len);
int ingest_produce(struct ingest *in, size_t n);

/*
 * A download that may be resumed after a crash keeps a prefix of its
 * bytes under PATH. While the object is stored raw, its temp file itself
 * is given that name (now, or once deflate is ruled out), so the bytes
 * are written once: PATH then holds the bytes written so far, a prefix of
 * the content. ingest_finish removes the name before writing metadata;
 * ingest_free leaves it, for the resume. ingest_kept: 1 while PATH names
 * the temp file (the caller need not keep the bytes itself), else 0.
 */
int ingest_keep(struct ingest *in, const char *path);

/* Before the first bytes: store raw without the deflate trial, for a
 * caller that knows deflate will not pay (a follower whose peer stored
 * the object raw: the same bytes, the same choice). */
void ingest_store_raw(struct ingest *in);
int ingest_kept(const struct ingest *in);

/* No more bytes: finish hashing and deflate, write the metadata. */
int ingest_finish(struct ingest *in);

/* After finish: what was ingested. */
const struct object_meta *ingest_meta(const struct ingest *in);
uint64_t ingest_size(const struct ingest *in);

/*
 * Make N finished ingests durable and visible: data and metadata reach
 * the disk first, then are linked under their ids, then the folder is
 * synced. An object already in the store is success (content dedupe).
 * The caller holds store_lock(). 0 ok, -1 with ingest_error() of the
 * failing one (those before it are committed).
 */
int ingest_commit(struct store *st, struct ingest **v, size_t n, char *err, size_t errlen);

const char *ingest_error(const struct ingest *in);
void ingest_free(struct ingest *in);

#endif
