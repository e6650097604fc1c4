#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "fsutil.h"
#include "hexutil.h"

/*
 * Tuning, and why:
 * - The deflate decision is made on the first PREFIX_LEN bytes so that
 *   media (already compressed) never pays a full deflate pass.
 * - Every CHECK_EVERY bytes deflate must still be paying: stored at most
 *   90% of the identity size, or projected to be by the size hint.
 * - Output goes through an aligned OUTBUF_LEN buffer written with
 *   O_DIRECT where the file system allows it: on a VM, page-cache writes
 *   of large media cost more CPU than hashing them.
 * - SHA-1 pieces run on a second thread for large writes; SHA-256 and the
 *   write stay on the caller's, so two cores hash at once.
 */
#define PREFIX_LEN	(256u * 1024)
#define OUTBUF_LEN	(1u << 20)
#define CHECK_EVERY	(4u << 20)
#define WORKER_MIN	(128u * 1024)
#define DEFLATE_LEVEL	6
#define PIECE_MIN	(256u * 1024)
#define PIECE_MAX	(16u << 20)
#define PIECES_TARGET	2048

enum ingest_mode { MODE_PREFIX, MODE_GZIP, MODE_RAW };

struct ingest_tmp {
	int fd;
	char *name;		/* NULL: O_TMPFILE, no name until linked */
	int direct;
};

struct ingest {
	struct store *st;
	char err[512];
	int failed, finished, committed;
	enum ingest_mode mode;
	uint64_t size_hint, size;

	EVP_MD_CTX *sha256, *stored_sha256, *sha1;
	uint32_t piece_length;
	uint64_t piece_fill;
	uint8_t *pieces;
	size_t n_pieces, cap_pieces;

	unsigned char *prefix;
	size_t prefix_len;

	z_stream zs;
	int zinit, zdone;
	uint64_t next_check, last_in, last_out;

	unsigned char *out;
	size_t out_len;
	uint64_t written;

	struct ingest_tmp data, meta;
	struct object_meta result;

	pthread_t thr;
	int thr_started, thr_quit, job_state;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const unsigned char *job;
	size_t job_len;
};

static int
ingest_fail(struct ingest *in, const char *msg)
{
	if (!in->failed)
		snprintf(in->err, sizeof(in->err), "%s", msg);
	in->failed = 1;
	return -1;
}

static int
ingest_fail_errno(struct ingest *in, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "store '%s': %s: %s", in->st->root, what,
	    strerror(errno));
	return ingest_fail(in, msg);
}

/*
 * An unnamed temp file in the objects folder (same file system, so commit
 * is a link, never a copy). Where O_TMPFILE is missing, a named ".tmp-"
 * file held under flock, which store_open() removes once nobody holds it.
 */
static int
ingest_tmp_open(struct ingest *in, struct ingest_tmp *t, int direct)
{
	t->fd = -1;
	t->name = NULL;
	t->direct = 0;
	if (direct) {
		t->fd = open(in->st->objects, O_RDWR | O_CLOEXEC | O_TMPFILE | O_DIRECT, 0444);
		if (t->fd != -1) {
			t->direct = 1;
			return 0;
		}
	}
	t->fd = open(in->st->objects, O_RDWR | O_CLOEXEC | O_TMPFILE, 0444);
	if (t->fd != -1)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return ingest_fail_errno(in, "temp file");
	if ((t->name = fsutil_join(in->st->objects, ".tmp-XXXXXX")) == NULL)
		return ingest_fail(in, "out of memory");
	if ((t->fd = mkostemp(t->name, O_CLOEXEC)) == -1) {
		free(t->name);
		t->name = NULL;
		return ingest_fail_errno(in, "temp file");
	}
	flock(t->fd, LOCK_EX);
	fchmod(t->fd, 0444);
	return 0;
}

static void
ingest_tmp_close(struct ingest_tmp *t, int discard)
{
	if (t->fd != -1)
		close(t->fd);
	if (t->name != NULL && discard)
		unlink(t->name);
	free(t->name);
	t->fd = -1;
	t->name = NULL;
}

static void
ingest_piece_done(struct ingest *in)
{
	unsigned char md[EVP_MAX_MD_SIZE];

	if (in->n_pieces == in->cap_pieces) {
		size_t cap = in->cap_pieces ? in->cap_pieces * 2 : 64;
		uint8_t *p = realloc(in->pieces, cap * 20);
		if (p == NULL) {
			ingest_fail(in, "out of memory");
			return;
		}
		in->pieces = p;
		in->cap_pieces = cap;
	}
	EVP_DigestFinal_ex(in->sha1, md, NULL);
	memcpy(in->pieces + in->n_pieces * 20, md, 20);
	in->n_pieces++;
	in->piece_fill = 0;
	EVP_DigestInit_ex(in->sha1, EVP_sha1(), NULL);
}

static void
ingest_hash_pieces(struct ingest *in, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t take = in->piece_length - in->piece_fill;
		if (take > len)
			take = len;
		EVP_DigestUpdate(in->sha1, p, take);
		in->piece_fill += take;
		p += take;
		len -= take;
		if (in->piece_fill == in->piece_length)
			ingest_piece_done(in);
	}
}

static void *
ingest_worker(void *arg)
{
	struct ingest *in = arg;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (in->job_state != 1 && !in->thr_quit)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->thr_quit)
			break;
		pthread_mutex_unlock(&in->mu);
		ingest_hash_pieces(in, in->job, in->job_len);
		pthread_mutex_lock(&in->mu);
		in->job_state = 2;
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/* Write out the full part of the output buffer; ALL also the tail, which
 * O_DIRECT cannot take, so direct I/O ends there. */
static int
ingest_flush(struct ingest *in, int all)
{
	struct ingest_tmp *t = &in->data;
	size_t n = in->out_len;

	if (!all && n < OUTBUF_LEN)
		return 0;
	if (all && t->direct && n % 4096 != 0) {
		int fl = fcntl(t->fd, F_GETFL);
		if (fl == -1 || fcntl(t->fd, F_SETFL, fl & ~O_DIRECT) == -1)
			return ingest_fail_errno(in, "fcntl");
		t->direct = 0;
	}
	if (n == 0)
		return 0;
	if (in->mode == MODE_GZIP)
		EVP_DigestUpdate(in->stored_sha256, in->out, n);
	if (fsutil_write_all(t->fd, in->out, n) == -1)
		return ingest_fail_errno(in, "write");
	in->written += n;
	in->out_len = 0;
	return 0;
}

static int
ingest_out_append(struct ingest *in, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t take = OUTBUF_LEN - in->out_len;
		if (take > len)
			take = len;
		memcpy(in->out + in->out_len, p, take);
		in->out_len += take;
		p += take;
		len -= take;
		if (ingest_flush(in, 0) == -1)
			return -1;
	}
	return 0;
}

/* Run deflate over P, writing its output through the output buffer. With
 * NOFLUSH_OUT the output must fit the buffer (the prefix trial). */
static int
ingest_deflate(struct ingest *in, const unsigned char *p, size_t len, int flush)
{
	int rc;

	in->zs.next_in = (unsigned char *)p;
	in->zs.avail_in = (uInt)len;
	for (;;) {
		in->zs.next_out = in->out + in->out_len;
		in->zs.avail_out = (uInt)(OUTBUF_LEN - in->out_len);
		rc = deflate(&in->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return ingest_fail(in, "zlib deflate failed");
		in->out_len = OUTBUF_LEN - in->zs.avail_out;
		if (ingest_flush(in, 0) == -1)
			return -1;
		if (flush == Z_FINISH) {
			if (rc == Z_STREAM_END) {
				in->zdone = 1;
				return 0;
			}
			continue;
		}
		if (in->zs.avail_in == 0 && in->zs.avail_out != 0)
			return 0;
	}
}

/*
 * Deflate stopped paying after some bytes were stored deflated: finish the
 * gzip member, inflate what was written into a fresh raw temp file, and go
 * on raw. Costs one inflate of the bytes so far, which the early checks
 * keep small.
 */
static int
ingest_to_raw(struct ingest *in)
{
	struct ingest_tmp raw;
	z_stream zs;
	unsigned char *buf;
	off_t off = 0;
	int rc = -1, zr = Z_OK;

	if (!in->zdone && ingest_deflate(in, NULL, 0, Z_FINISH) == -1)
		return -1;
	if (ingest_flush(in, 1) == -1)
		return -1;
	deflateEnd(&in->zs);
	in->zinit = 0;
	if (ingest_tmp_open(in, &raw, 1) == -1)
		return -1;
	if ((buf = malloc(OUTBUF_LEN)) == NULL) {
		ingest_tmp_close(&raw, 1);
		return ingest_fail(in, "out of memory");
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		ingest_fail(in, "zlib inflate failed");
		goto out;
	}
	in->mode = MODE_RAW;
	in->out_len = 0;
	in->written = 0;
	{
		struct ingest_tmp old = in->data;
		in->data = raw;
		raw = old;	/* closed below */
	}
	while (zr != Z_STREAM_END) {
		ssize_t n = pread(raw.fd, buf, OUTBUF_LEN, off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			ingest_fail_errno(in, "read back");
			goto out_z;
		}
		if (n == 0) {
			ingest_fail(in, "deflated temp file is truncated");
			goto out_z;
		}
		off += n;
		zs.next_in = buf;
		zs.avail_in = (uInt)n;
		while (zs.avail_in > 0 && zr != Z_STREAM_END) {
			zs.next_out = in->out + in->out_len;
			zs.avail_out = (uInt)(OUTBUF_LEN - in->out_len);
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END) {
				ingest_fail(in, "zlib inflate failed");
				goto out_z;
			}
			in->out_len = OUTBUF_LEN - zs.avail_out;
			if (ingest_flush(in, 0) == -1)
				goto out_z;
		}
	}
	rc = 0;
out_z:
	inflateEnd(&zs);
out:
	ingest_tmp_close(&raw, 1);
	free(buf);
	return rc;
}

/* Decide from the prefix whether deflate pays. FINAL: the whole object is
 * in the prefix. */
static int
ingest_decide(struct ingest *in, int final)
{
	if (deflateInit2(&in->zs, DEFLATE_LEVEL, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return ingest_fail(in, "zlib init failed");
	in->zinit = 1;
	/* Output of at most PREFIX_LEN plus deflate's bound fits the buffer,
	 * so nothing reaches the file before the choice. */
	if (ingest_deflate(in, in->prefix, in->prefix_len,
	    final ? Z_FINISH : Z_SYNC_FLUSH) == -1)
		return -1;
	if (in->written == 0 && (uint64_t)in->out_len * 10 <= (uint64_t)in->prefix_len * 9 &&
	    in->prefix_len > 0) {
		in->mode = MODE_GZIP;
		in->next_check = in->prefix_len + CHECK_EVERY;
		in->last_in = in->zs.total_in;
		in->last_out = in->zs.total_out;
	} else {
		deflateEnd(&in->zs);
		in->zinit = 0;
		in->zdone = 0;
		in->out_len = 0;
		in->mode = MODE_RAW;
		if (ingest_out_append(in, in->prefix, in->prefix_len) == -1)
			return -1;
	}
	free(in->prefix);
	in->prefix = NULL;
	return 0;
}

static int
ingest_gzip_check(struct ingest *in)
{
	uint64_t zin = in->zs.total_in, zout = in->zs.total_out;
	unsigned pending = 0;
	int bits;

	deflatePending(&in->zs, &pending, &bits);
	zout += pending;
	in->next_check = zin + CHECK_EVERY;
	if (zout * 10 > zin * 9)
		return ingest_to_raw(in);
	if (in->size_hint > zin) {
		double r = (double)(zout - in->last_out) / (double)(zin - in->last_in);
		double projected = (double)zout + r * (double)(in->size_hint - zin);
		if (projected * 10 > (double)in->size_hint * 9)
			return ingest_to_raw(in);
	}
	in->last_in = zin;
	in->last_out = zout;
	return 0;
}

static int
ingest_store_bytes(struct ingest *in, const unsigned char *p, size_t len)
{
	while (len > 0) {
		switch (in->mode) {
		case MODE_PREFIX: {
			size_t take = PREFIX_LEN - in->prefix_len;
			if (take > len)
				take = len;
			memcpy(in->prefix + in->prefix_len, p, take);
			in->prefix_len += take;
			p += take;
			len -= take;
			if (in->prefix_len == PREFIX_LEN && ingest_decide(in, 0) == -1)
				return -1;
			break;
		}
		case MODE_GZIP: {
			size_t take = len > CHECK_EVERY ? CHECK_EVERY : len;
			if (ingest_deflate(in, p, take, Z_NO_FLUSH) == -1)
				return -1;
			p += take;
			len -= take;
			if (in->zs.total_in >= in->next_check && ingest_gzip_check(in) == -1)
				return -1;
			break;
		}
		case MODE_RAW:
			return ingest_out_append(in, p, len);
		}
	}
	return 0;
}

struct ingest *
ingest_new(struct store *st, uint64_t size_hint, char *err, size_t errlen)
{
	struct ingest *in;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->st = st;
	in->size_hint = size_hint;
	in->data.fd = in->meta.fd = -1;
	in->piece_length = PIECE_MIN;
	while (size_hint / in->piece_length > PIECES_TARGET && in->piece_length < PIECE_MAX)
		in->piece_length *= 2;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	if ((in->sha256 = EVP_MD_CTX_new()) == NULL ||
	    (in->stored_sha256 = EVP_MD_CTX_new()) == NULL ||
	    (in->sha1 = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(in->sha256, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(in->stored_sha256, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(in->sha1, EVP_sha1(), NULL) ||
	    (in->prefix = malloc(PREFIX_LEN)) == NULL ||
	    posix_memalign((void **)&in->out, 4096, OUTBUF_LEN) != 0) {
		in->out = NULL;
		snprintf(err, errlen, "out of memory");
		ingest_free(in);
		return NULL;
	}
	if (ingest_tmp_open(in, &in->data, 1) == -1) {
		snprintf(err, errlen, "%s", in->err);
		ingest_free(in);
		return NULL;
	}
	return in;
}

int
ingest_write(struct ingest *in, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int threaded = 0, rc;

	if (in->failed)
		return -1;
	if (in->finished)
		return ingest_fail(in, "write after finish");
	if (len == 0)
		return 0;
	if (len >= WORKER_MIN) {
		if (!in->thr_started &&
		    pthread_create(&in->thr, NULL, ingest_worker, in) == 0)
			in->thr_started = 1;
		threaded = in->thr_started;
	}
	if (threaded) {
		pthread_mutex_lock(&in->mu);
		in->job = p;
		in->job_len = len;
		in->job_state = 1;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
	} else
		ingest_hash_pieces(in, p, len);

	EVP_DigestUpdate(in->sha256, p, len);
	in->size += len;
	rc = ingest_store_bytes(in, p, len);

	if (threaded) {
		pthread_mutex_lock(&in->mu);
		while (in->job_state != 2)
			pthread_cond_wait(&in->cv, &in->mu);
		in->job_state = 0;
		pthread_mutex_unlock(&in->mu);
	}
	return in->failed ? -1 : rc;
}

int
ingest_finish(struct ingest *in)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char *json = NULL;

	if (in->failed)
		return -1;
	if (in->finished)
		return 0;
	if (in->mode == MODE_PREFIX && ingest_decide(in, 1) == -1)
		return -1;
	if (in->mode == MODE_GZIP) {
		if (!in->zdone && ingest_deflate(in, NULL, 0, Z_FINISH) == -1)
			return -1;
		/* Deflate has to pay overall too, not just on the way. */
		if ((uint64_t)in->zs.total_out * 10 > in->size * 9 &&
		    ingest_to_raw(in) == -1)
			return -1;
	}
	if (ingest_flush(in, 1) == -1)
		return -1;
	if (in->piece_fill > 0)
		ingest_piece_done(in);
	if (in->failed)
		return -1;

	struct object_meta *m = &in->result;
	EVP_DigestFinal_ex(in->sha256, md, NULL);
	hex_encode(md, 32, m->sha256);
	m->size = in->size;
	m->gzip = in->mode == MODE_GZIP;
	m->stored_size = in->written;
	if (m->gzip) {
		EVP_DigestFinal_ex(in->stored_sha256, md, NULL);
		hex_encode(md, 32, m->stored_sha256);
	} else
		memcpy(m->stored_sha256, m->sha256, sizeof(m->sha256));
	m->piece_length = in->piece_length;
	m->pieces = in->pieces;
	m->n_pieces = in->n_pieces;

	if ((json = store_meta_to_json(m)) == NULL)
		return ingest_fail(in, "out of memory");
	if (ingest_tmp_open(in, &in->meta, 0) == -1 ||
	    fsutil_write_all(in->meta.fd, json, strlen(json)) == -1) {
		free(json);
		return ingest_fail_errno(in, "write metadata");
	}
	free(json);
	in->finished = 1;
	return 0;
}

const struct object_meta *
ingest_meta(const struct ingest *in)
{
	return in->finished ? &in->result : NULL;
}

uint64_t
ingest_size(const struct ingest *in)
{
	return in->size;
}

const char *
ingest_error(const struct ingest *in)
{
	return in->err[0] ? in->err : "unknown error";
}

static int
ingest_link(struct ingest *in, struct ingest_tmp *t, const char *dst)
{
	char proc[64];

	if (t->name != NULL) {
		if (rename(t->name, dst) == -1)
			return ingest_fail_errno(in, "rename");
		free(t->name);
		t->name = NULL;
		return 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == -1 &&
	    errno != EEXIST)
		return ingest_fail_errno(in, "link");
	return 0;
}

int
ingest_commit(struct store *st, struct ingest **v, size_t n, char *err, size_t errlen)
{
	size_t i;
	int batch = n > 8;

	for (i = 0; i < n; i++) {
		if (!v[i]->finished || v[i]->failed) {
			snprintf(err, errlen, "%s", v[i]->failed ? v[i]->err : "not finished");
			return -1;
		}
	}
	/* Many small objects: one syncfs is far cheaper than 2n fsyncs. */
	if (batch && n > 0) {
		if (syncfs(v[0]->data.fd) == -1) {
			snprintf(err, errlen, "store '%s': sync: %s", st->root, strerror(errno));
			return -1;
		}
	} else {
		for (i = 0; i < n; i++) {
			if (fsync(v[i]->data.fd) == -1 || fsync(v[i]->meta.fd) == -1) {
				ingest_fail_errno(v[i], "fsync");
				snprintf(err, errlen, "%s", v[i]->err);
				return -1;
			}
		}
	}
	for (i = 0; i < n; i++) {
		struct ingest *in = v[i];
		const char *hex = in->result.sha256;
		char *data = store_object_path(st, hex), *meta = store_meta_path(st, hex);
		int rc = -1;

		if (data == NULL || meta == NULL)
			ingest_fail(in, "out of memory");
		else if (access(data, F_OK) == 0)
			rc = 0;		/* the same content is already stored */
		else if (ingest_link(in, &in->meta, meta) == 0 &&
		    ingest_link(in, &in->data, data) == 0)
			rc = 0;
		free(data);
		free(meta);
		if (rc == -1) {
			snprintf(err, errlen, "%s", in->err);
			return -1;
		}
		in->committed = 1;
		ingest_tmp_close(&in->data, 1);
		ingest_tmp_close(&in->meta, 1);
	}
	if (n > 0 && fsutil_fsync_dir(st->objects) == -1) {
		snprintf(err, errlen, "store '%s': fsync: %s", st->objects, strerror(errno));
		return -1;
	}
	return 0;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	if (in->thr_started) {
		pthread_mutex_lock(&in->mu);
		in->thr_quit = 1;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
		pthread_join(in->thr, NULL);
	}
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	if (in->zinit)
		deflateEnd(&in->zs);
	ingest_tmp_close(&in->data, 1);
	ingest_tmp_close(&in->meta, 1);
	EVP_MD_CTX_free(in->sha256);
	EVP_MD_CTX_free(in->stored_sha256);
	EVP_MD_CTX_free(in->sha1);
	free(in->prefix);
	free(in->out);
	free(in->pieces);
	free(in);
}
