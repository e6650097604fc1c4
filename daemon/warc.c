/*
 * WARC 1.1 records, one gzip member each (warc.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "fsutil.h"
#include "hexutil.h"
#include "warc.h"

#define WARC_OUT	(256 * 1024)
#define WARC_HEAD_MAX	(64 * 1024)	/* the WARC header of a record */
#define WARC_FILES_MAX	100000

struct warc {
	const struct store *st;
	char *path;			/* the file, or the folder */
	int folder;
	char *info;
	int fd;
	int dirfd;			/* folder mode: the folder, locked */
	unsigned nfiles, nrecords;
	uint64_t bytes;			/* of the current file */
	uint64_t cap;			/* a file's size at most, in folder mode */
	char **parts;			/* .partial names, written so far */
	z_stream z;
	unsigned char out[WARC_OUT];
};

void
warc_new_id(char id[WARC_ID_LEN])
{
	unsigned char u[16];
	char h[33];

	if (RAND_bytes(u, sizeof(u)) != 1)
		abort();	/* no randomness: nothing sensible to name records */
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	hex_encode(u, sizeof(u), h);
	snprintf(id, WARC_ID_LEN, "<urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s>", h, h + 8, h + 12,
	    h + 16, h + 20);
}

static void
warc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

void
warc_set_cap(struct warc *w, uint64_t cap)
{
	w->cap = cap;
}

unsigned
warc_files(const struct warc *w)
{
	return w->nfiles;
}

unsigned
warc_records(const struct warc *w)
{
	return w->nrecords;
}

/* ---- output: the gzip member of a record, the files ---- */

static int
warc_deflate(struct warc *w, const void *p, size_t n)
{
	w->z.next_in = (unsigned char *)(uintptr_t)p;
	w->z.avail_in = (uInt)n;
	do {
		int zr;
		size_t got;

		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		zr = deflate(&w->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_ERROR) {
			errno = EIO;
			return -1;
		}
		got = sizeof(w->out) - w->z.avail_out;
		if (got > 0 && fsutil_write_all(w->fd, w->out, got) == -1)
			return -1;
		w->bytes += got;
	} while (w->z.avail_out == 0);
	return 0;
}

/*
 * A large record is media, compressed already: the fastest level costs a
 * fraction of the time for the same size. One whose object the store
 * keeps raw is known not to shrink by a tenth (the store's own test), so
 * it is stored in its gzip member: the same archive, read the same way,
 * written at the speed of the disk.
 */
static int
warc_member_begin(struct warc *w, uint64_t len, int raw)
{
	int level = len <= (1u << 20) ? Z_DEFAULT_COMPRESSION :
	    raw ? Z_NO_COMPRESSION : Z_BEST_SPEED;

	memset(&w->z, 0, sizeof(w->z));
	/* windowBits 31: a gzip wrapper, one member a record. */
	if (deflateInit2(&w->z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int
warc_member_end(struct warc *w)
{
	int zr;

	w->z.next_in = NULL;
	w->z.avail_in = 0;
	do {
		size_t got;

		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		zr = deflate(&w->z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			deflateEnd(&w->z);
			errno = EIO;
			return -1;
		}
		got = sizeof(w->out) - w->z.avail_out;
		if (got > 0 && fsutil_write_all(w->fd, w->out, got) == -1) {
			deflateEnd(&w->z);
			return -1;
		}
		w->bytes += got;
	} while (zr != Z_STREAM_END);
	deflateEnd(&w->z);
	return 0;
}

static char *
warc_part_name(struct warc *w, unsigned n)
{
	char *s;

	if (w->folder) {
		if (asprintf(&s, "%s/emberd-%05u.warc.gz.partial", w->path, n) == -1)
			return NULL;
	} else if (asprintf(&s, "%s.partial", w->path) == -1)
		return NULL;
	return s;
}

static int warc_put(struct warc *w, struct warc_rec *r, char *err, size_t errlen);

/* Close the file being written (synced, still .partial). */
static int
warc_file_end(struct warc *w)
{
	int e = 0;

	if (w->fd == -1)
		return 0;
	if (fsync(w->fd) == -1)
		e = errno;
	if (close(w->fd) == -1 && e == 0)
		e = errno;
	w->fd = -1;
	errno = e;
	return e == 0 ? 0 : -1;
}

static int
warc_file_begin(struct warc *w, char *err, size_t errlen)
{
	struct warc_rec r;
	char **np, *name, *base;
	int rc;

	if (w->nfiles >= WARC_FILES_MAX) {
		snprintf(err, errlen, "%s: more than %u files", w->path, WARC_FILES_MAX);
		return -1;
	}
	if ((name = warc_part_name(w, w->nfiles)) == NULL ||
	    (np = realloc(w->parts, (w->nfiles + 1) * sizeof(*np))) == NULL) {
		free(name);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->parts = np;
	w->parts[w->nfiles++] = name;
	/* Locked before it is emptied: a second export to the same OUT is
	 * refused rather than mixing its records into this one's. */
	if ((w->fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1 ||
	    flock(w->fd, LOCK_EX | LOCK_NB) == -1 || ftruncate(w->fd, 0) == -1) {
		snprintf(err, errlen, "%s: %s", name, errno == EWOULDBLOCK ?
		    "another export to this name is running" : strerror(errno));
		if (w->fd != -1)
			close(w->fd);
		w->fd = -1;
		/* Not ours to remove. */
		free(w->parts[--w->nfiles]);
		return -1;
	}
	w->bytes = 0;
	/* The name it will have, without the directory. */
	base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	{
		char fields[PATH_MAX + 32];
		size_t bl = strlen(base) - strlen(".partial");

		snprintf(fields, sizeof(fields), "WARC-Filename: %.*s\r\n", (int)bl, base);
		memset(&r, 0, sizeof(r));
		r.type = "warcinfo";
		r.content_type = "application/warc-fields";
		r.fields = fields;
		r.head = (const unsigned char *)w->info;
		r.head_len = strlen(w->info);
		rc = warc_put(w, &r, err, errlen);
	}
	return rc;
}

struct warc *
warc_open(const char *path, const struct store *st, const char *info, char *err,
    size_t errlen)
{
	struct warc *w;
	struct stat sb;
	size_t n = strlen(path);

	if (n == 0) {
		snprintf(err, errlen, "--warc: an empty name");
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->st = st;
	w->fd = -1;
	w->dirfd = -1;
	w->cap = WARC_FILE_CAP;
	w->folder = path[n - 1] == '/' || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
	if ((w->path = strdup(path)) == NULL || (w->info = strdup(info)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (w->folder && n > 1 && w->path[n - 1] == '/')
		w->path[--n] = '\0';
	if (w->folder && mkdir(w->path, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		goto fail;
	}
	/* Two exports into one folder would overwrite each other's files. */
	if (w->folder && ((w->dirfd = open(w->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(w->dirfd, LOCK_EX | LOCK_NB) == -1)) {
		snprintf(err, errlen, "%s: %s", w->path, errno == EWOULDBLOCK ?
		    "another export into this folder is running" : strerror(errno));
		goto fail;
	}
	if (warc_file_begin(w, err, errlen) == -1)
		goto fail;
	return w;
fail:
	warc_abort(w);
	return NULL;
}

void
warc_abort(struct warc *w)
{
	unsigned i;

	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	if (w->dirfd != -1)
		close(w->dirfd);
	for (i = 0; i < w->nfiles; i++) {
		unlink(w->parts[i]);
		free(w->parts[i]);
	}
	free(w->parts);
	free(w->path);
	free(w->info);
	free(w);
}

int
warc_close(struct warc *w, char *err, size_t errlen)
{
	char *dir, *slash, *final;
	unsigned i;
	size_t n;

	/* Synced, and kept open (so locked) until renamed. */
	if (w->fd != -1 && fsync(w->fd) == -1) {
		snprintf(err, errlen, "%s: %s", w->parts[w->nfiles - 1], strerror(errno));
		warc_abort(w);
		return -1;
	}
	/* In folder mode, earlier exports' files of higher numbers would
	 * look like part of this one. */
	if (w->folder)
		for (i = w->nfiles; ; i++) {
			char *old;
			if (asprintf(&old, "%s/emberd-%05u.warc.gz", w->path, i) == -1)
				break;
			if (unlink(old) == -1) {
				free(old);
				break;
			}
			free(old);
		}
	for (i = 0; i < w->nfiles; i++) {
		n = strlen(w->parts[i]) - strlen(".partial");
		if ((final = strndup(w->parts[i], n)) == NULL ||
		    rename(w->parts[i], final) == -1) {
			snprintf(err, errlen, "%s: %s", w->parts[i], strerror(errno));
			free(final);
			warc_abort(w);
			return -1;
		}
		free(final);
	}
	if ((dir = strdup(w->folder ? w->path : w->path)) != NULL) {
		if (!w->folder) {
			if ((slash = strrchr(dir, '/')) == NULL)
				strcpy(dir, ".");
			else if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
		(void)fsutil_fsync_dir(dir);
		free(dir);
	}
	for (i = 0; i < w->nfiles; i++)
		free(w->parts[i]);
	w->nfiles = 0;
	if (w->fd != -1)
		close(w->fd);
	if (w->dirfd != -1)
		close(w->dirfd);
	free(w->parts);
	w->parts = NULL;
	free(w->path);
	free(w->info);
	free(w);
	return 0;
}

/* ---- a record ---- */

struct warc_pass {
	struct warc *w;
	EVP_MD_CTX *block, *payload;
	uint64_t off, end, at;
	int write, werr, done;
};

static int
warc_pass_fn(void *arg, const unsigned char *p, size_t n)
{
	struct warc_pass *ps = arg;
	uint64_t a = ps->at, b = ps->at + n, from, to;

	ps->at = b;
	if (a >= ps->end) {
		ps->done = 1;
		return -1;	/* the rest is not this record's */
	}
	if (b <= ps->off)
		return 0;
	from = a < ps->off ? ps->off - a : 0;
	to = b > ps->end ? n - (size_t)(b - ps->end) : n;
	if (to > from) {
		EVP_DigestUpdate(ps->block, p + from, to - from);
		if (ps->payload != NULL)
			EVP_DigestUpdate(ps->payload, p + from, to - from);
		if (ps->write && warc_deflate(ps->w, p + from, to - from) == -1) {
			ps->werr = errno;
			return -1;
		}
	}
	/* Read on to the object's end when the slice reaches it: the store
	 * then checks the whole. */
	if (b >= ps->end)
		ps->done = 1;
	return 0;
}

/* Feed the payload P to the digests (and with WRITE, to the file). */
static int
warc_payload(struct warc *w, const struct warc_payload *p, EVP_MD_CTX *block,
    EVP_MD_CTX *payload, int write, char *err, size_t errlen)
{
	struct warc_pass ps;
	char why[256];
	int rc;

	if (p->buf != NULL || p->len == 0) {
		EVP_DigestUpdate(block, p->buf != NULL ? p->buf : (const unsigned char *)"",
		    (size_t)p->len);
		if (payload != NULL)
			EVP_DigestUpdate(payload, p->buf != NULL ? p->buf :
			    (const unsigned char *)"", (size_t)p->len);
		if (write && p->len > 0 && warc_deflate(w, p->buf, (size_t)p->len) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		return 0;
	}
	memset(&ps, 0, sizeof(ps));
	ps.w = w;
	ps.block = block;
	ps.payload = payload;
	ps.off = p->off;
	ps.end = p->off + p->len;
	ps.write = write;
	if (p->off > 0) {
		/* A slice (an HLS segment, a resumed range): read where it is,
		 * not from the start, or N segments cost N times the capture.
		 * The whole object is checked by the record that carries it
		 * (the conversion of the segments). */
		ps.at = p->off;
		rc = store_read_slice(w->st, p->hex, p->off, p->len, warc_pass_fn, &ps,
		    why, sizeof(why));
		if (ps.werr != 0) {
			snprintf(err, errlen, "%s", strerror(ps.werr));
			return -1;
		}
		if (rc == -1 || !ps.done) {
			snprintf(err, errlen, "object %s: %s", p->hex, rc == -1 ? why :
			    "shorter than a capture says");
			return -1;
		}
		return 0;
	}
	rc = store_read_object(w->st, p->hex, warc_pass_fn, &ps, why, sizeof(why));
	if (ps.werr != 0) {
		snprintf(err, errlen, "%s", strerror(ps.werr));
		return -1;
	}
	/* Stopped at the slice's end: the store could not check the rest,
	 * but both passes compare their digests. */
	if (rc != 0 && !ps.done) {
		snprintf(err, errlen, "object %s: %s (run `emberd verify`)", p->hex, why);
		return -1;
	}
	if (!ps.done) {
		snprintf(err, errlen, "object %s: shorter than a capture says", p->hex);
		return -1;
	}
	return 0;
}

/*
 * The block's digest into BHEX and the payload's into PHEX; with WRITE,
 * the block to the file and no payload digest (PHEX NULL: the first
 * pass made it). A block that is all payload is hashed once.
 */
static int
warc_digests(struct warc *w, const struct warc_rec *r, int write, char bhex[65],
    char *phex, char *err, size_t errlen)
{
	int same = r->head_len == 0;
	EVP_MD_CTX *b = EVP_MD_CTX_new(), *p = phex != NULL && !same ? EVP_MD_CTX_new() : NULL;
	unsigned char d[32];
	int rc = -1;

	if (b == NULL || (phex != NULL && !same && p == NULL) ||
	    EVP_DigestInit_ex(b, EVP_sha256(), NULL) != 1 ||
	    (p != NULL && EVP_DigestInit_ex(p, EVP_sha256(), NULL) != 1)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	EVP_DigestUpdate(b, r->head != NULL ? r->head : (const unsigned char *)"", r->head_len);
	if (write && r->head_len > 0 && warc_deflate(w, r->head, r->head_len) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (r->payload != NULL &&
	    warc_payload(w, r->payload, b, p, write, err, errlen) == -1)
		goto out;
	EVP_DigestFinal_ex(b, d, NULL);
	hex_encode(d, 32, bhex);
	if (p != NULL) {
		EVP_DigestFinal_ex(p, d, NULL);
		hex_encode(d, 32, phex);
	} else if (phex != NULL)
		memcpy(phex, bhex, 65);	/* no head: the block is the payload */
	rc = 0;
out:
	EVP_MD_CTX_free(b);
	EVP_MD_CTX_free(p);
	return rc;
}

/* 1 when P is a slice of an object the store keeps raw (not deflated). */
static int
warc_payload_raw(const struct warc *w, const struct warc_payload *p)
{
	struct object_meta m;
	char err[256];
	int raw;

	if (p == NULL || p->hex == NULL || w->st == NULL ||
	    store_meta_read(w->st, p->hex, &m, err, sizeof(err)) == -1)
		return 0;
	raw = !m.gzip;
	store_meta_free(&m);
	return raw;
}

static int
warc_put(struct warc *w, struct warc_rec *r, char *err, size_t errlen)
{
	char *hdr, date[40], bhex[65], phex[65], b2[65];
	uint64_t len = r->head_len + (r->payload != NULL ? r->payload->len : 0);
	int n;

	if (r->id[0] == '\0')
		warc_new_id(r->id);
	if (r->date == NULL)
		warc_now(date, sizeof(date));
	if (warc_digests(w, r, 0, bhex, phex, err, errlen) == -1)
		return -1;
	memcpy(r->payload_sha256, phex, sizeof(phex));
	if ((hdr = malloc(WARC_HEAD_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = snprintf(hdr, WARC_HEAD_MAX, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: %s\r\n"
	    "WARC-Date: %s\r\n%s%s%s%s"
	    "Content-Type: %s\r\nWARC-Block-Digest: sha256:%s\r\n%s%s%s"
	    "Content-Length: %llu\r\n\r\n",
	    r->type, r->id, r->date != NULL ? r->date : date,
	    r->uri != NULL ? "WARC-Target-URI: " : "", r->uri != NULL ? r->uri : "",
	    r->uri != NULL ? "\r\n" : "", r->fields != NULL ? r->fields : "",
	    r->content_type, bhex,
	    r->payload_digest ? "WARC-Payload-Digest: sha256:" : "",
	    r->payload_digest ? phex : "", r->payload_digest ? "\r\n" : "",
	    (unsigned long long)len);
	if (n < 0 || n >= WARC_HEAD_MAX) {
		free(hdr);
		snprintf(err, errlen, "a WARC header of more than %d bytes", WARC_HEAD_MAX);
		return -1;
	}
	if (warc_member_begin(w, len, warc_payload_raw(w, r->payload)) == -1) {
		free(hdr);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (warc_deflate(w, hdr, (size_t)n) == -1) {
		free(hdr);
		deflateEnd(&w->z);
		snprintf(err, errlen, "%s: %s", w->parts[w->nfiles - 1], strerror(errno));
		return -1;
	}
	free(hdr);
	if (warc_digests(w, r, 1, b2, NULL, err, errlen) == -1) {
		deflateEnd(&w->z);
		return -1;
	}
	/* The bytes written must be those digested. */
	if (strcmp(b2, bhex) != 0) {
		deflateEnd(&w->z);
		snprintf(err, errlen, "%s: the bytes changed between two reads",
		    r->payload != NULL && r->payload->hex != NULL ? r->payload->hex : "a record");
		return -1;
	}
	if (warc_deflate(w, "\r\n\r\n", 4) == -1 || warc_member_end(w) == -1) {
		deflateEnd(&w->z);
		snprintf(err, errlen, "%s: %s", w->parts[w->nfiles - 1], strerror(errno));
		return -1;
	}
	w->nrecords++;
	return 0;
}

int
warc_write(struct warc *w, struct warc_rec *r, char *err, size_t errlen)
{
	uint64_t est = 4096 + r->head_len + (r->payload != NULL ? r->payload->len : 0);

	/* Deflate may grow incompressible bytes a little. */
	est += est / 1000;
	if (w->folder && w->bytes > 0 && w->bytes + est > w->cap) {
		if (warc_file_end(w) == -1) {
			snprintf(err, errlen, "%s: %s", w->parts[w->nfiles - 1], strerror(errno));
			return -1;
		}
		if (warc_file_begin(w, err, errlen) == -1)
			return -1;
	}
	return warc_put(w, r, err, errlen);
}
