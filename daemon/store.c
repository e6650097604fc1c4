/*
 * The content-addressed store (the layout is in store.h): opening and
 * tidying it, the writers' lock, object paths, the metadata trailer,
 * quarantine and removal, and the re-hash of an object that `verify` and
 * the scrub run.
 */

#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "fsutil.h"
#include "hexutil.h"
#include "names.h"
#include "pieces.h"

#define META_MAX (4u << 20)

static void
store_free_paths(struct store *st)
{
	free(st->root);
	free(st->objects);
	free(st->catalogs);
	free(st->quarantine);
	st->root = st->objects = st->catalogs = st->quarantine = NULL;
}

/* A temp file is ours to remove only when no live writer holds its lock. */
static void
store_clean_temps(const char *dir)
{
	DIR *d;
	struct dirent *de;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1) {
			/* A leftover temp symlink or folder of the catalog swap. */
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

uint64_t
store_current_seq(const struct store *st)
{
	char *cur = fsutil_join(st->root, "current"), link[64];
	ssize_t n;

	if (cur == NULL)
		return 0;
	n = readlink(cur, link, sizeof(link) - 1);
	free(cur);
	if (n <= 9)
		return 0;
	link[n] = '\0';
	if (strncmp(link, "catalogs/", 9) != 0)
		return 0;
	return strtoull(link + 9, NULL, 10);
}

void
store_remove_catalogs(struct store *st, int (*doomed)(uint64_t seq, uint64_t current, unsigned arg), unsigned arg)
{
	uint64_t current = store_current_seq(st);
	DIR *d;
	struct dirent *de;

	if ((d = opendir(st->catalogs)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		unsigned long long seq = strtoull(de->d_name, &end, 10);
		if (*end != '\0' || !doomed(seq, current, arg))
			continue;
		int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd != -1) {
			/* A crash while writing leaves a temp file beside them
			 * (fsutil_write_atomic): it goes too, or the folder stays. */
			int tfd = dup(dfd);
			DIR *td = tfd != -1 ? fdopendir(tfd) : NULL;
			struct dirent *te;
			if (td == NULL && tfd != -1)
				close(tfd);
			while (td != NULL && (te = readdir(td)) != NULL)
				if (strncmp(te->d_name, ".tmp-", 5) == 0)
					unlinkat(dfd, te->d_name, 0);
			if (td != NULL)
				closedir(td);
			unlinkat(dfd, "catalog.json", 0);
			unlinkat(dfd, "catalog.json.minisig", 0);
			close(dfd);
		}
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Catalog folders newer than the one `current` names were never
 * published: a crash came between writing them and the swap. */
static int
store_unpublished(uint64_t seq, uint64_t current, unsigned arg)
{
	return seq > current;
}

/* 1 with ERR when ROOT's parent folder does not exist. */
static int
store_parent_missing(const char *root, char *err, size_t errlen)
{
	struct stat sb;
	char *copy = strdup(root), *parent;
	int missing = 0;

	if (copy == NULL)
		return 0;
	parent = dirname(copy);
	if (stat(parent, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "store '%s': its parent folder '%s' does not exist "
		    "(create it, or correct [mirror] store)", root, parent);
		missing = 1;
	}
	free(copy);
	return missing;
}

int
store_open(struct store *st, const char *root, int create, char *err, size_t errlen)
{
	char *lockpath = NULL;
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	st->run_fd = -1;
	if ((st->root = strdup(root)) == NULL ||
	    (st->objects = fsutil_join(root, "objects")) == NULL ||
	    (st->catalogs = fsutil_join(root, "catalogs")) == NULL ||
	    (st->quarantine = fsutil_join(root, "quarantine")) == NULL ||
	    (lockpath = fsutil_join(root, "lock")) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (stat(root, &sb) == -1) {
		if (errno != ENOENT || !create) {
			snprintf(err, errlen, "store '%s': %s", root, strerror(errno));
			goto fail;
		}
		/* A typo in [mirror] store must not grow a tree of folders
		 * somewhere unexpected: only the store's own folder is made. */
		if (store_parent_missing(root, err, errlen))
			goto fail;
	} else if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "store '%s': not a folder", root);
		goto fail;
	}
	if (create) {
		if (fsutil_mkdir_p(st->objects, 0755) == -1 ||
		    fsutil_mkdir_p(st->catalogs, 0755) == -1 ||
		    fsutil_mkdir_p(st->quarantine, 0755) == -1) {
			snprintf(err, errlen, "store '%s': cannot create: %s", root,
			    strerror(errno));
			goto fail;
		}
	}
	st->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	st->lock_errno = st->lock_fd == -1 ? errno : 0;
	if (st->lock_fd == -1 && !(errno == EACCES || errno == EROFS)) {
		snprintf(err, errlen, "store '%s': %s", lockpath, strerror(errno));
		goto fail;
	}
	free(lockpath);
	lockpath = NULL;

	/* Tidy only when no other writer is active; it will tidy itself. */
	if (st->lock_fd != -1 && flock(st->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		store_clean_temps(st->objects);
		store_clean_temps(st->catalogs);
		store_clean_temps(st->root);
		store_remove_catalogs(st, store_unpublished, 0);
		flock(st->lock_fd, LOCK_UN);
	}
	return 0;
fail:
	free(lockpath);
	if (st->lock_fd != -1)
		close(st->lock_fd);
	st->lock_fd = -1;
	store_free_paths(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (st->lock_fd != -1)
		close(st->lock_fd);
	st->lock_fd = -1;
	if (st->run_fd != -1)
		close(st->run_fd);	/* releases the flock; the file stays */
	st->run_fd = -1;
	st->locked = 0;
	store_free_paths(st);
}

int
store_lock(struct store *st, char *err, size_t errlen)
{
	if (st->locked)
		return 0;
	if (st->lock_fd == -1) {
		snprintf(err, errlen, "store '%s': lock file cannot be opened: %s", st->root,
		    strerror(st->lock_errno));
		return -1;
	}
	while (flock(st->lock_fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			snprintf(err, errlen, "store '%s': lock: %s", st->root,
			    strerror(errno));
			return -1;
		}
	}
	st->locked = 1;
	return 0;
}

void
store_unlock(struct store *st)
{
	if (st->locked && st->lock_fd != -1)
		flock(st->lock_fd, LOCK_UN);
	st->locked = 0;
}

char *
store_object_path(const struct store *st, const char *hex)
{
	return fsutil_join(st->objects, hex);
}

int
store_has_object(const struct store *st, const char *hex)
{
	char *p = store_object_path(st, hex);
	int rc;

	if (p == NULL)
		return 0;
	rc = access(p, F_OK) == 0;
	free(p);
	return rc;
}

void
store_meta_free(struct object_meta *m)
{
	free(m->pieces);
	m->pieces = NULL;
	m->n_pieces = 0;
}

char *
store_meta_to_json(const struct object_meta *m)
{
	json_t *o;
	char *hex, *out;

	if ((hex = malloc(m->n_pieces * 40 + 1)) == NULL)
		return NULL;
	hex_encode(m->pieces, m->n_pieces * 20, hex);
	o = json_pack("{s:i, s:s, s:I, s:s, s:I, s:s, s:I, s:s, s:I}",
	    "version", 1,
	    "sha256", m->sha256,
	    "size", (json_int_t)m->size,
	    "encoding", m->gzip ? "gzip" : "identity",
	    "stored_size", (json_int_t)m->stored_size,
	    "stored_sha256", m->stored_sha256,
	    "piece_length", (json_int_t)m->piece_length,
	    "pieces", hex,
	    "mtime", (json_int_t)m->mtime);
	free(hex);
	if (o == NULL)
		return NULL;
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

int
store_meta_from_json(const char *buf, size_t len, struct object_meta *m,
    char *err, size_t errlen)
{
	json_t *o;
	json_error_t je;
	const char *sha, *enc, *ssha, *pieces;
	json_int_t size, ssize, plen, mtime = 0;
	int version;
	size_t hlen;

	memset(m, 0, sizeof(*m));
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "bad metadata: %s", je.text);
		return -1;
	}
	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:i, s:s, s:I, s:s, s:I, s:s, s:I, s:s, s?I}",
	    "version", &version, "sha256", &sha, "size", &size,
	    "encoding", &enc, "stored_size", &ssize, "stored_sha256", &ssha,
	    "piece_length", &plen, "pieces", &pieces, "mtime", &mtime) == -1) {
		snprintf(err, errlen, "bad metadata: %s", je.text);
		goto fail;
	}
	hlen = strlen(pieces);
	if (version != 1 || !name_is_sha256_hex(sha, strlen(sha)) ||
	    !name_is_sha256_hex(ssha, strlen(ssha)) || size < 0 || ssize < 0 ||
	    plen < 16384 || plen > (1 << 26) || hlen % 40 != 0 ||
	    (strcmp(enc, "gzip") != 0 && strcmp(enc, "identity") != 0) || mtime < 0 ||
	    hlen / 40 != pieces_count((uint64_t)size, (uint32_t)plen)) {
		snprintf(err, errlen, "bad metadata: inconsistent fields");
		goto fail;
	}
	memcpy(m->sha256, sha, sizeof(m->sha256));
	memcpy(m->stored_sha256, ssha, sizeof(m->stored_sha256));
	m->size = (uint64_t)size;
	m->stored_size = (uint64_t)ssize;
	m->gzip = strcmp(enc, "gzip") == 0;
	m->piece_length = (uint32_t)plen;
	m->mtime = (int64_t)mtime;
	m->n_pieces = hlen / 40;
	if ((m->pieces = malloc(m->n_pieces * 20 + 1)) == NULL ||
	    hex_decode(pieces, hlen, m->pieces) == -1) {
		snprintf(err, errlen, "bad metadata: pieces");
		goto fail;
	}
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	store_meta_free(m);
	return -1;
}

#define TRAILER_MAGIC "EMBERDM1"
#define TRAILER_TAIL 16

int
store_trailer_write(int fd, const char *json)
{
	size_t len = strlen(json);
	unsigned char tail[TRAILER_TAIL];
	int i;

	for (i = 0; i < 8; i++)
		tail[i] = (unsigned char)((uint64_t)len >> (8 * i));
	memcpy(tail + 8, TRAILER_MAGIC, 8);
	if (fsutil_write_all(fd, json, len) == -1 ||
	    fsutil_write_all(fd, tail, sizeof(tail)) == -1)
		return -1;
	return 0;
}

int
store_meta_read_fd(int fd, struct object_meta *m, char *err, size_t errlen)
{
	unsigned char tail[TRAILER_TAIL];
	struct stat sb;
	uint64_t len = 0;
	char *buf;
	int i, rc;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "stat: %s", strerror(errno));
		return -1;
	}
	if (sb.st_size < TRAILER_TAIL ||
	    pread(fd, tail, sizeof(tail), sb.st_size - TRAILER_TAIL) != TRAILER_TAIL ||
	    memcmp(tail + 8, TRAILER_MAGIC, 8) != 0) {
		snprintf(err, errlen, "no metadata trailer");
		return -1;
	}
	for (i = 0; i < 8; i++)
		len |= (uint64_t)tail[i] << (8 * i);
	if (len == 0 || len > META_MAX || len + TRAILER_TAIL > (uint64_t)sb.st_size) {
		snprintf(err, errlen, "bad metadata trailer length");
		return -1;
	}
	if ((buf = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pread(fd, buf, len, sb.st_size - TRAILER_TAIL - (off_t)len) != (ssize_t)len) {
		snprintf(err, errlen, "short read of metadata");
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	rc = store_meta_from_json(buf, len, m, err, errlen);
	free(buf);
	if (rc == 0 && m->stored_size + len + TRAILER_TAIL != (uint64_t)sb.st_size) {
		snprintf(err, errlen, "object size does not match its metadata");
		store_meta_free(m);
		rc = -1;
	}
	return rc;
}

int
store_meta_read(const struct store *st, const char *hex, struct object_meta *m,
    char *err, size_t errlen)
{
	char *path;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	if ((path = store_object_path(st, hex)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	rc = store_meta_read_fd(fd, m, err, errlen);
	close(fd);
	if (rc == 0 && strcmp(m->sha256, hex) != 0) {
		snprintf(err, errlen, "%s: metadata names another object", path);
		store_meta_free(m);
		rc = -1;
	}
	free(path);
	return rc;
}

int
store_foreach_object(const struct store *st,
    int (*fn)(const char *hex, void *arg), void *arg, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if ((d = opendir(st->objects)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", st->objects, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!name_is_sha256_hex(de->d_name, strlen(de->d_name)))
			continue;
		if ((rc = fn(de->d_name, arg)) != 0)
			break;
	}
	closedir(d);
	return rc;
}

static int
store_move(const char *from_dir, const char *to_dir, const char *name)
{
	char *a = fsutil_join(from_dir, name), *b = fsutil_join(to_dir, name);
	int rc = -1;

	if (a != NULL && b != NULL)
		rc = rename(a, b);
	free(a);
	free(b);
	return rc;
}

int
store_quarantine(struct store *st, const char *hex)
{
	if (fsutil_mkdir_p(st->quarantine, 0755) == -1)
		return -1;
	if (store_move(st->objects, st->quarantine, hex) == -1)
		return -1;
	fsutil_fsync_dir(st->quarantine);
	return fsutil_fsync_dir(st->objects);
}

int
store_remove_object(struct store *st, const char *hex)
{
	static const char *const modes[] = { "origin", "full" };
	char *data = store_object_path(st, hex), *re;
	size_t i;
	int rc = -1;

	if (data != NULL && (unlink(data) == 0 || errno == ENOENT))
		rc = 0;
	free(data);
	/* Its re-captures (provenance.h) name where it came from: a
	 * takedown takes them too. */
	for (i = 0; rc == 0 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (asprintf(&re, "%s/recaptures/%s.%s.json", st->root, hex, modes[i]) != -1) {
			unlink(re);
			free(re);
		}
	return rc;
}

#define CHECK_BUF (1u << 18)

/* The running state of one re-hash (store_check_object). */
struct store_check {
	struct object_meta m;
	EVP_MD_CTX *stored;		/* SHA-256 of the bytes on disk */
	EVP_MD_CTX *ident;		/* SHA-256 of the content */
	struct pieces pieces;		/* checked against m.pieces */
	uint64_t stored_len, ident_len;
	z_stream zs;			/* m.gzip: the content from the bytes */
	int zinit, zrc;
	unsigned char *in, *out;
	char *err;
	size_t errlen;
	store_read_fn sink;		/* store_read_object: the content goes on */
	void *sink_arg;
};

/* Digests and buffers for an object whose metadata is in c->m. */
static int
store_check_start(struct store_check *c)
{
	if ((c->in = malloc(CHECK_BUF)) == NULL ||
	    (c->out = malloc(CHECK_BUF)) == NULL ||
	    (c->ident = EVP_MD_CTX_new()) == NULL ||
	    (c->stored = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(c->ident, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(c->stored, EVP_sha256(), NULL) ||
	    pieces_init(&c->pieces, c->m.piece_length, c->m.pieces,
	    c->m.n_pieces) == -1) {
		snprintf(c->err, c->errlen, "out of memory");
		return -1;
	}
	if (c->m.gzip) {
		if (inflateInit2(&c->zs, 15 + 16) != Z_OK) {
			snprintf(c->err, c->errlen, "zlib init failed");
			return -1;
		}
		c->zinit = 1;
	}
	return 0;
}

static void
store_check_end(struct store_check *c)
{
	if (c->zinit)
		inflateEnd(&c->zs);
	EVP_MD_CTX_free(c->ident);
	EVP_MD_CTX_free(c->stored);
	pieces_free(&c->pieces);
	free(c->in);
	free(c->out);
	store_meta_free(&c->m);
}

/* LEN more bytes of content: its digest and its pieces. -1: a bad piece. */
static int
store_check_content(struct store_check *c, const unsigned char *p, size_t len)
{
	c->ident_len += len;
	EVP_DigestUpdate(c->ident, p, len);
	if (c->sink != NULL && len > 0 && c->sink(c->sink_arg, p, len) == -1) {
		snprintf(c->err, c->errlen, "the reader stopped");
		return -1;
	}
	if (pieces_update(&c->pieces, p, len) == -1) {
		snprintf(c->err, c->errlen, "piece %zu does not match",
		    c->pieces.count);
		return -1;
	}
	return 0;
}

/* N more stored bytes, inflated when the object is gzip. -1: bad data. */
static int
store_check_stored(struct store_check *c, unsigned char *p, size_t n)
{
	c->stored_len += n;
	EVP_DigestUpdate(c->stored, p, n);
	if (!c->m.gzip)
		return store_check_content(c, p, n);
	c->zs.next_in = p;
	c->zs.avail_in = (uInt)n;
	do {
		if (c->zrc == Z_STREAM_END) {
			snprintf(c->err, c->errlen,
			    "trailing bytes after the gzip member");
			return -1;
		}
		c->zs.next_out = c->out;
		c->zs.avail_out = CHECK_BUF;
		c->zrc = inflate(&c->zs, Z_NO_FLUSH);
		if (c->zrc != Z_OK && c->zrc != Z_STREAM_END &&
		    c->zrc != Z_BUF_ERROR) {
			snprintf(c->err, c->errlen, "corrupt gzip data");
			return -1;
		}
		if (store_check_content(c, c->out,
		    CHECK_BUF - c->zs.avail_out) == -1)
			return -1;
	} while ((c->zs.avail_in > 0 || c->zs.avail_out == 0) &&
	    c->zrc != Z_STREAM_END);
	return 0;
}

/* Read the stored bytes (not the trailer) through the checks: 0 all
 * read, 1 the object is bad, -1 a read error. */
static int
store_check_read(struct store_check *c, int fd, const char *path)
{
	size_t want;
	ssize_t n;

	for (;;) {
		want = CHECK_BUF;
		if (c->m.stored_size - c->stored_len < want)
			want = (size_t)(c->m.stored_size - c->stored_len);
		if (want == 0)
			return 0;
		n = read(fd, c->in, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(c->err, c->errlen, "%s: read: %s", path,
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (store_check_stored(c, c->in, (size_t)n) == -1)
			return 1;
	}
}

/* All bytes read: do the digests, sizes and pieces match the metadata
 * and the id HEX? 0 yes, 1 no. */
static int
store_check_verdict(struct store_check *c, const char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[STORE_HEX_LEN + 1];

	if (c->m.gzip && c->zrc != Z_STREAM_END) {
		snprintf(c->err, c->errlen, "truncated gzip data");
		return 1;
	}
	if (pieces_final(&c->pieces) == -1) {
		snprintf(c->err, c->errlen, "piece %zu does not match",
		    c->pieces.count);
		return 1;
	}
	EVP_DigestFinal_ex(c->stored, md, NULL);
	hex_encode(md, 32, got);
	if (c->stored_len != c->m.stored_size ||
	    strcmp(got, c->m.stored_sha256) != 0) {
		snprintf(c->err, c->errlen,
		    "stored bytes changed (%llu bytes, sha256 %s)",
		    (unsigned long long)c->stored_len, got);
		return 1;
	}
	EVP_DigestFinal_ex(c->ident, md, NULL);
	hex_encode(md, 32, got);
	if (c->ident_len != c->m.size || strcmp(got, hex) != 0 ||
	    c->pieces.count != c->m.n_pieces) {
		snprintf(c->err, c->errlen, "content hashes to %s (%llu bytes)",
		    got, (unsigned long long)c->ident_len);
		return 1;
	}
	return 0;
}

/*
 * Re-hash one object: O(size) reads, constant memory. Checks the stored
 * bytes' digest, the identity digest and size, and every torrent piece.
 * 0 good, 1 bad (or missing), -1 the check itself failed.
 */
static int
store_check_run(const struct store *st, const char *hex, store_read_fn sink, void *arg,
    char *err, size_t errlen)
{
	struct store_check c;
	char *path;
	int fd, rc = -1;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	c.sink = sink;
	c.sink_arg = arg;
	if ((path = store_object_path(st, hex)) == NULL)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = errno == ENOENT ? 1 : -1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (store_meta_read_fd(fd, &c.m, err, errlen) == -1)
		rc = 1;
	else {
		/* Advice only: a kernel that ignores it reads as fast. */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (store_check_start(&c) == 0 &&
		    (rc = store_check_read(&c, fd, path)) == 0)
			rc = store_check_verdict(&c, hex);
	}
	close(fd);
out:
	store_check_end(&c);
	free(path);
	return rc;
}

int
store_check_object(const struct store *st, const char *hex, char *err, size_t errlen)
{
	return store_check_run(st, hex, NULL, NULL, err, errlen);
}

int
store_read_object(const struct store *st, const char *hex, store_read_fn fn, void *arg,
    char *err, size_t errlen)
{
	return store_check_run(st, hex, fn, arg, err, errlen);
}

/*
 * LEN identity bytes of object HEX from OFF, through FN. An object stored
 * raw is read there directly (pread: a slice costs its own length, not
 * the bytes before it); one stored deflated is inflated from the start
 * and the slice cut out. The slice alone cannot be checked against the
 * object id: the caller checks what it needs (the WARC export hashes the
 * whole object in another record). 0, or -1 with ERR.
 */
struct store_slice {
	store_read_fn fn;
	void *arg;
	uint64_t off, end, at;
	int stop;
};

static int
store_slice_fn(void *arg, const unsigned char *p, size_t n)
{
	struct store_slice *sl = arg;
	uint64_t a = sl->at, b = sl->at + n, from, to;

	sl->at = b;
	if (b <= sl->off)
		return 0;
	from = a < sl->off ? sl->off - a : 0;
	to = b > sl->end ? n - (size_t)(b - sl->end) : n;
	if (to > from && sl->fn(sl->arg, p + from, (size_t)(to - from)) == -1)
		return -1;
	if (b >= sl->end) {
		sl->stop = 1;
		return -1;
	}
	return 0;
}

int
store_read_slice(const struct store *st, const char *hex, uint64_t off, uint64_t len,
    store_read_fn fn, void *arg, char *err, size_t errlen)
{
	struct object_meta m;
	struct store_slice sl;
	unsigned char *buf = NULL;
	char *path = NULL;
	ssize_t n;
	int fd = -1, rc = -1;

	memset(&m, 0, sizeof(m));
	if ((path = store_object_path(st, hex)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    store_meta_read_fd(fd, &m, err, errlen) == -1) {
		if (fd == -1)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (off > m.size || len > m.size - off) {
		snprintf(err, errlen, "object %s: %llu bytes at %llu are past its end (%llu)",
		    hex, (unsigned long long)len, (unsigned long long)off,
		    (unsigned long long)m.size);
		goto out;
	}
	if (len == 0) {
		rc = 0;
		goto out;
	}
	if (m.gzip) {
		memset(&sl, 0, sizeof(sl));
		sl.fn = fn;
		sl.arg = arg;
		sl.off = off;
		sl.end = off + len;
		(void)store_check_run(st, hex, store_slice_fn, &sl, err, errlen);
		rc = sl.stop ? 0 : -1;
		goto out;
	}
	if ((buf = malloc(CHECK_BUF)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (len > 0) {
		size_t want = len < CHECK_BUF ? (size_t)len : CHECK_BUF;
		if ((n = pread(fd, buf, want, (off_t)off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, n == 0 ? "shorter than its metadata" :
			    strerror(errno));
			goto out;
		}
		if (fn(arg, buf, (size_t)n) == -1) {
			snprintf(err, errlen, "stopped by the reader");
			goto out;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	rc = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	free(path);
	store_meta_free(&m);
	return rc;
}

/*
 * STORE/run.lock: held (flock) for the life of `emberd run`, so that two
 * servers never crawl, sign and collect one store at once. The lock is
 * the kernel's and dies with the process, so it cannot go stale as a pid
 * file does; the pid written in it is only for the message.
 */
int
store_run_lock(struct store *st, char *err, size_t errlen)
{
	char *path, buf[32];
	ssize_t n;
	int fd, pid_written;

	if ((path = fsutil_join(st->root, "run.lock")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errlen, "store '%s': %s: %s", st->root, path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "store '%s' is in use by another emberd run "
			    "(pid %s, lock %s): stop it first", st->root,
			    buf[0] != '\0' ? buf : "unknown", path);
		else
			snprintf(err, errlen, "store '%s': cannot lock %s: %s", st->root, path,
			    strerror(e));
		close(fd);
		free(path);
		return -1;
	}
	/* The lock holds without the pid; only a message would lack it. */
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	pid_written = ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n;
	(void)pid_written;
	free(path);
	st->run_fd = fd;
	return 0;
}

void
store_file_id(struct store_file_id *id, const struct stat *sb)
{
	id->dev = sb->st_dev;
	id->ino = sb->st_ino;
	id->size = sb->st_size;
	id->mtime = sb->st_mtim;
}

int
store_file_id_same(const struct store_file_id *id, const struct stat *sb)
{
	return id->dev == sb->st_dev && id->ino == sb->st_ino && id->size == sb->st_size &&
	    id->mtime.tv_sec == sb->st_mtim.tv_sec && id->mtime.tv_nsec == sb->st_mtim.tv_nsec;
}
