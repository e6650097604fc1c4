/*
 * The content-addressed store on disk:
 *
 *   STORE/objects/HEX        one object: the stored bytes (raw, or one
 *                            gzip member), then its metadata as a trailer
 *   STORE/catalogs/SEQ/      catalog.json + catalog.json.minisig
 *   STORE/current            symlink to catalogs/SEQ: the one served
 *   STORE/quarantine/        objects that failed a re-hash
 *   STORE/recaptures/        HEX.MODE.json: re-crawls of object HEX that
 *                            found the same bytes (provenance.h); removed
 *                            with the object
 *   STORE/lock               serialises writers (flock)
 *   STORE/run.lock           held by the one `emberd run` of the store
 *
 * The trailer is the metadata JSON (size, encoding, the stored bytes'
 * SHA-256, SHA-1 torrent pieces), its length as 8 bytes little-endian,
 * and the 8-byte magic "EMBERDM1". Keeping it in the object's own file
 * means one link publishes an object whole, a reader's one open() gets
 * bytes and metadata that belong together, and an object costs one inode.
 *
 * Paths are only ever built from 64 validated hex digits, never from
 * anything a client sends.
 */

#ifndef EMBERD_STORE_H
#define EMBERD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define STORE_HEX_LEN 64

struct store {
	char *root;
	char *objects;
	char *catalogs;
	char *quarantine;
	int lock_fd;
	int run_fd;		/* store_run_lock(), or -1 */
	int lock_errno;		/* why lock_fd could not be opened (read-only use) */
	int locked;
};

/* An object file as fstat saw it: it is the same file, and holds the
 * same bytes (objects are never written in place), while these match. */
struct store_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

void store_file_id(struct store_file_id *id, const struct stat *sb);
int store_file_id_same(const struct store_file_id *id, const struct stat *sb);

struct object_meta {
	char sha256[STORE_HEX_LEN + 1];		/* identity bytes: the object id */
	uint64_t size;				/* identity size */
	int gzip;				/* stored as one gzip member */
	uint64_t stored_size;
	char stored_sha256[STORE_HEX_LEN + 1];	/* of the stored bytes (Repr-Digest) */
	uint32_t piece_length;
	uint8_t *pieces;			/* 20 bytes a piece */
	size_t n_pieces;
	/* The file's mtime as stored (whole seconds, set after the last
	 * write): a file whose mtime differs was written since it was
	 * verified. 0 in objects stored before this was kept. */
	int64_t mtime;
};

/* Open (and with CREATE, make) the store at ROOT. Removes what a crash
 * may have left: temp files, metadata without data, catalogs newer than
 * the current one. */
int store_open(struct store *st, const char *root, int create, char *err, size_t errlen);
void store_close(struct store *st);

/* Take STORE/run.lock for the life of the process (until store_close).
 * -1 with ERR naming the pid of the `emberd run` that holds it. */
int store_run_lock(struct store *st, char *err, size_t errlen);

/* Exclusive writer lock: objects commits, catalog publishing, gc and
 * verify hold it; streaming ingest does not. Blocks. */
int store_lock(struct store *st, char *err, size_t errlen);
void store_unlock(struct store *st);

/* The sequence `current` points at; 0 when none. */
uint64_t store_current_seq(const struct store *st);
/* Remove every catalog folder for which DOOMED(seq, current) is true. */
void store_remove_catalogs(struct store *st,
    int (*doomed)(uint64_t seq, uint64_t current, unsigned arg), unsigned arg);

/* malloc'd path of an object id (HEX must be valid). */
char *store_object_path(const struct store *st, const char *hex);

int store_has_object(const struct store *st, const char *hex);

/* Read the metadata trailer of object HEX, or of an open object file,
 * validating it strictly (also against the file's size). */
int store_meta_read(const struct store *st, const char *hex, struct object_meta *m,
    char *err, size_t errlen);
int store_meta_read_fd(int fd, struct object_meta *m, char *err, size_t errlen);
/* Append JSON as the trailer at FD's current end. 0 or -1 with errno. */
int store_trailer_write(int fd, const char *json);
char *store_meta_to_json(const struct object_meta *m);
int store_meta_from_json(const char *buf, size_t len, struct object_meta *m,
    char *err, size_t errlen);
void store_meta_free(struct object_meta *m);

/* Call FN for every object id in the store (sorted not guaranteed). */
int store_foreach_object(const struct store *st,
    int (*fn)(const char *hex, void *arg), void *arg, char *err, size_t errlen);

/* Move an object to quarantine/. */
int store_quarantine(struct store *st, const char *hex);
/* Remove an object. */
int store_remove_object(struct store *st, const char *hex);

/* Re-hash an object from disk against its metadata. 0 good, 1 bad (why
 * in err), -1 could not be read. */
int store_check_object(const struct store *st, const char *hex, char *err, size_t errlen);

/*
 * Read an object's content (inflated when stored deflated) through FN,
 * in pieces of up to 256 KiB, while checking it as store_check_object
 * does: the bytes FN saw are the object only when the result is 0. FN
 * returns -1 to stop (the result is then 1). Constant memory.
 */
typedef int (*store_read_fn)(void *arg, const unsigned char *p, size_t n);
int store_read_object(const struct store *st, const char *hex, store_read_fn fn, void *arg,
    char *err, size_t errlen);

/* LEN identity bytes from OFF of object HEX through FN, not checked
 * against the id (store.c says why); a raw object is read at OFF
 * directly. 0, or -1 with ERR. */
int store_read_slice(const struct store *st, const char *hex, uint64_t off, uint64_t len,
    store_read_fn fn, void *arg, char *err, size_t errlen);

#endif
