/*
 * The ingest sink of ingest.h: a ring of slots, a hasher and a writer
 * thread, the deflate trial and the switch back to raw, the keep name for
 * resumes, and the commit that links objects into the store.
 *
 * How the bytes flow, and why:
 *
 * Input lands in a ring of NSLOTS aligned slots of SLOT_LEN bytes (the
 * caller reads straight into them with ingest_reserve/ingest_produce, or
 * ingest_write copies). The caller's thread hashes SHA-256 as bytes
 * arrive. A full slot is handed to a hasher thread (SHA-1 torrent
 * pieces) and, when the object is stored raw, to a writer thread, so the
 * two digests and the write run on both cores at once: hashing a random
 * file with SHA-256 and SHA-1 on one core is the limit to beat.
 *
 * Writes use O_DIRECT where the file system allows it: on a VM, copying
 * media into the page cache costs more CPU than hashing it.
 *
 * Compression is decided on the first PREFIX_LEN bytes: if deflate does
 * not save 10% there, it never runs again (media pay nothing). While
 * deflating (on the caller's thread), every CHECK_EVERY bytes the running
 * ratio, and the ratio projected from the size hint, must stay at or
 * below 90%; otherwise the gzip member so far is inflated into a raw temp
 * file and the rest goes raw. Level 5: the stored bytes are what gzip
 * readers receive, every time, so they are worth more effort than level 4
 * (about 2-5% smaller on text); level 6 gains another 2-3% at 1.7 times the
 * time of level 5. Level 5 is tuned down a little (TUNE_*).
 *
 * Objects smaller than one slot never start a thread.
 */

#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "fsutil.h"
#include "hexutil.h"
#include "pieces.h"

#define SLOT_LEN	(1u << 20)
#define NSLOTS		4
#define OUTBUF_LEN	(1u << 20)
#define PREFIX_LEN	(256u * 1024)
#define CHECK_EVERY	(4u << 20)
#define DEFLATE_LEVEL	5
/* Level 5's lazy matching, searched less hard (zlib's level 5 is 8, 16,
 * 32, 32): on text, 12% less time for 0.7% more bytes. */
#define TUNE_GOOD	4
#define TUNE_LAZY	16
#define TUNE_NICE	24
#define TUNE_CHAIN	24
#define PIECE_MIN	(256u * 1024)
#define PIECE_MAX	(16u << 20)
#define PIECES_TARGET	2048

enum ingest_mode { MODE_PREFIX, MODE_GZIP, MODE_RAW };

struct ingest_tmp {
	int fd;
	char *name;		/* NULL: O_TMPFILE, no name until linked */
	int direct;
};

struct ingest_slot {
	unsigned char *buf;
	size_t cap, len;
	int busy;		/* jobs outstanding on the threads */
	int need_write;
	int filling;		/* taken by the caller, not yet submitted */
};

struct ingest {
	struct store *st;
	pthread_mutex_t errmu;
	char err[512];
	int failed, finished, committed;
	enum ingest_mode mode;
	uint64_t size_hint, size;

	EVP_MD_CTX *sha256, *stored_sha256;
	struct pieces pieces;	/* on the hasher thread while it runs */

	z_stream zs;
	int zinit, zdone;
	uint64_t next_check, last_in, last_out;

	unsigned char *out;	/* deflate output and conversions */
	size_t out_cap, out_len;
	uint64_t written;	/* by the caller's thread */
	uint64_t slot_written;	/* by the writer thread */

	struct ingest_tmp data;
	struct object_meta result;

	char *keep;		/* ingest_keep's path */
	int kept;		/* the raw data file is linked there */
	dev_t kept_dev;
	ino_t kept_ino;

	struct ingest_slot slots[NSLOTS];
	uint64_t submitted;	/* slots handed over so far; the next to fill */
	int threads, quit;
	pthread_t hasher, writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t hash_next, write_next;
};

static int
ingest_fail(struct ingest *in, const char *msg)
{
	pthread_mutex_lock(&in->errmu);
	if (!in->failed)
		snprintf(in->err, sizeof(in->err), "%s", msg);
	in->failed = 1;
	pthread_mutex_unlock(&in->errmu);
	return -1;
}

static int
ingest_failed(struct ingest *in)
{
	int f;

	pthread_mutex_lock(&in->errmu);
	f = in->failed;
	pthread_mutex_unlock(&in->errmu);
	return f;
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
ingest_hash_pieces(struct ingest *in, const unsigned char *p, size_t len)
{
	if (pieces_update(&in->pieces, p, len) == -1)
		ingest_fail(in, "out of memory");
}

/* Write a slot at the end of the data file. Only the last slot may be
 * short, and O_DIRECT cannot take an unaligned length: it ends there. */
static int
ingest_write_slot(struct ingest *in, struct ingest_slot *sl)
{
	struct ingest_tmp *t = &in->data;

	if (t->direct && sl->len % 4096 != 0) {
		int fl = fcntl(t->fd, F_GETFL);
		if (fl == -1 || fcntl(t->fd, F_SETFL, fl & ~O_DIRECT) == -1)
			return ingest_fail_errno(in, "fcntl");
		t->direct = 0;
	}
	if (fsutil_write_all(t->fd, sl->buf, sl->len) == -1)
		return ingest_fail_errno(in, "write");
	in->slot_written += sl->len;
	return 0;
}

/* The two helper threads take slots in ring order. */
static void *
ingest_hasher(void *arg)
{
	struct ingest *in = arg;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (in->hash_next == in->submitted && !in->quit)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->hash_next == in->submitted)
			break;
		struct ingest_slot *sl = &in->slots[in->hash_next % NSLOTS];
		pthread_mutex_unlock(&in->mu);
		ingest_hash_pieces(in, sl->buf, sl->len);
		pthread_mutex_lock(&in->mu);
		sl->busy--;
		in->hash_next++;
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

static void *
ingest_writer(void *arg)
{
	struct ingest *in = arg;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (in->write_next == in->submitted && !in->quit)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->write_next == in->submitted)
			break;
		struct ingest_slot *sl = &in->slots[in->write_next % NSLOTS];
		if (sl->need_write) {
			pthread_mutex_unlock(&in->mu);
			/* After a failure the bytes have nowhere to go; keep
			 * draining so the caller never waits forever. */
			if (!ingest_failed(in))
				ingest_write_slot(in, sl);
			pthread_mutex_lock(&in->mu);
			sl->busy--;
		}
		in->write_next++;
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

static int
ingest_start_threads(struct ingest *in)
{
	/* Slots before this one (a first slot sized by a wrong hint) were
	 * handled inline. */
	in->hash_next = in->write_next = in->submitted;
	if (pthread_create(&in->hasher, NULL, ingest_hasher, in) != 0)
		return -1;
	if (pthread_create(&in->writer, NULL, ingest_writer, in) != 0) {
		pthread_mutex_lock(&in->mu);
		in->quit = 1;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
		pthread_join(in->hasher, NULL);
		in->quit = 0;
		return -1;
	}
	in->threads = 1;
	return 0;
}

/* Wait until the threads are done with every slot handed to them. */
static void
ingest_drain(struct ingest *in)
{
	if (!in->threads)
		return;
	pthread_mutex_lock(&in->mu);
	while (in->hash_next != in->submitted || in->write_next != in->submitted)
		pthread_cond_wait(&in->cv, &in->mu);
	pthread_mutex_unlock(&in->mu);
}

/* Write out the full part of the output buffer; ALL also the tail, which
 * O_DIRECT cannot take, so direct I/O ends there. */
static int
ingest_flush(struct ingest *in, int all)
{
	struct ingest_tmp *t = &in->data;
	size_t n = in->out_len;

	if (!all && n < in->out_cap)
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

/* Buffers are sized to the object: many small files in one `add` must
 * not map and unmap megabytes each (page faults, TLB shootdowns). */
static size_t
ingest_round(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

static int
ingest_out_ready(struct ingest *in, size_t want)
{
	if (in->out != NULL && in->out_cap >= want)
		return 0;
	free(in->out);
	in->out = NULL;
	in->out_cap = 0;
	if (posix_memalign((void **)&in->out, 4096, ingest_round(want)) != 0) {
		in->out = NULL;
		return ingest_fail(in, "out of memory");
	}
	in->out_cap = ingest_round(want);
	return 0;
}

/* Run deflate over P, its output going through the output buffer. */
static int
ingest_deflate(struct ingest *in, const unsigned char *p, size_t len, int flush)
{
	int rc;

	in->zs.next_in = (unsigned char *)p;
	in->zs.avail_in = (uInt)len;
	for (;;) {
		in->zs.next_out = in->out + in->out_len;
		in->zs.avail_out = (uInt)(in->out_cap - in->out_len);
		rc = deflate(&in->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return ingest_fail(in, "zlib deflate failed");
		in->out_len = in->out_cap - in->zs.avail_out;
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
 * Give the raw data file the keep name too (ingest_keep). An unnamed
 * (O_TMPFILE) file gets a locked ".tmp-" name in the objects folder
 * first: once linked anywhere it could never be linked again after that
 * name went away, and commit needs to link it. The keep name is made
 * under a temp name and renamed over PATH, so PATH always names a whole
 * prefix of the content. Failing costs only the resume, so errors leave
 * the ingest going.
 */
static void
ingest_keep_link(struct ingest *in)
{
	struct ingest_tmp *t = &in->data;
	char proc[64], *tmp = NULL;
	struct stat sb;

	if (in->keep == NULL || in->mode != MODE_RAW || t->fd == -1)
		return;
	if (t->name == NULL) {
		char *name = NULL;
		int tries;
		flock(t->fd, LOCK_EX);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
		for (tries = 0; tries < 8; tries++) {
			char tail[32];
			snprintf(tail, sizeof(tail), ".tmp-%08lx", (unsigned long)random());
			free(name);
			if ((name = fsutil_join(in->st->objects, tail)) == NULL)
				return;
			if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
				break;
			if (errno != EEXIST) {
				tries = 8;
				break;
			}
		}
		if (tries == 8) {
			free(name);
			return;
		}
		t->name = name;
	}
	if (asprintf(&tmp, "%s.new", in->keep) == -1)
		return;
	unlink(tmp);
	if (link(t->name, tmp) == 0 && fstat(t->fd, &sb) == 0 && rename(tmp, in->keep) == 0) {
		in->kept = 1;
		in->kept_dev = sb.st_dev;
		in->kept_ino = sb.st_ino;
	} else {
		unlink(tmp);
		in->kept = 0;
	}
	free(tmp);
}

/* Take the keep name away, if it still names our data file. */
static void
ingest_keep_unlink(struct ingest *in)
{
	struct stat sb;

	if (in->kept && stat(in->keep, &sb) == 0 && sb.st_dev == in->kept_dev &&
	    sb.st_ino == in->kept_ino)
		unlink(in->keep);
	in->kept = 0;
	free(in->keep);
	in->keep = NULL;
}

/*
 * Deflate stopped paying after some bytes were stored deflated: finish the
 * gzip member, inflate what was written into a fresh raw temp file, and go
 * on raw. Costs one inflate of the bytes so far, which the early checks
 * keep small. Called between slots, when no slot is waiting to be
 * written, so the writer thread never sees the file change under it.
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
	if (ingest_out_ready(in, OUTBUF_LEN) == -1)
		return -1;
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
			zs.avail_out = (uInt)(in->out_cap - in->out_len);
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END) {
				ingest_fail(in, "zlib inflate failed");
				goto out_z;
			}
			in->out_len = in->out_cap - zs.avail_out;
			if (ingest_flush(in, 0) == -1)
				goto out_z;
		}
	}
	/* Slot-sized so far, so this is aligned unless the object ended. */
	if (ingest_flush(in, 1) == -1)
		goto out_z;
	ingest_keep_link(in);
	rc = 0;
out_z:
	inflateEnd(&zs);
out:
	ingest_tmp_close(&raw, 1);
	free(buf);
	return rc;
}

/* Decide from the first slot's head whether deflate pays. Returns how
 * many bytes of the slot deflate consumed (0 when raw). */
static int
ingest_decide(struct ingest *in, struct ingest_slot *sl, int final, size_t *used)
{
	size_t head = sl->len < PREFIX_LEN ? sl->len : PREFIX_LEN;
	int whole = final && head == sl->len;

	*used = 0;
	if (deflateInit2(&in->zs, DEFLATE_LEVEL, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK ||
	    deflateTune(&in->zs, TUNE_GOOD, TUNE_LAZY, TUNE_NICE, TUNE_CHAIN) != Z_OK)
		return ingest_fail(in, "zlib init failed");
	in->zinit = 1;
	/* The trial's whole output must fit, so that nothing is written
	 * before the choice; a whole small object needs only its bound. */
	if (ingest_out_ready(in, whole ? deflateBound(&in->zs, head) + 64 : OUTBUF_LEN) == -1)
		return -1;
	/* At most PREFIX_LEN plus deflate's bound: fits the buffer, so nothing
	 * reaches the file before the choice. */
	if (ingest_deflate(in, sl->buf, head, whole ? Z_FINISH : Z_SYNC_FLUSH) == -1)
		return -1;
	if (head > 0 && in->written == 0 &&
	    (uint64_t)in->out_len * 10 <= (uint64_t)head * 9) {
		in->mode = MODE_GZIP;
		in->next_check = CHECK_EVERY;
		in->last_in = in->zs.total_in;
		in->last_out = in->zs.total_out;
		*used = head;
		return 0;
	}
	deflateEnd(&in->zs);
	in->zinit = 0;
	in->zdone = 0;
	in->out_len = 0;
	in->mode = MODE_RAW;
	ingest_keep_link(in);
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

/* Hand the slot being filled over: hashing and (raw) writing on the
 * threads, or inline for objects smaller than a slot; deflate here. */
static int
ingest_submit(struct ingest *in, int final)
{
	struct ingest_slot *sl = &in->slots[in->submitted % NSLOTS];
	size_t used = 0;

	if (in->mode == MODE_PREFIX && ingest_decide(in, sl, final, &used) == -1)
		return -1;
	sl->need_write = in->mode == MODE_RAW;
	sl->filling = 0;
	if (!in->threads && sl->len == SLOT_LEN && !final)
		ingest_start_threads(in);	/* on failure, inline */
	if (in->threads) {
		pthread_mutex_lock(&in->mu);
		sl->busy = 1 + sl->need_write;
		in->submitted++;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
	} else {
		ingest_hash_pieces(in, sl->buf, sl->len);
		if (sl->need_write && ingest_write_slot(in, sl) == -1)
			return -1;
		in->submitted++;
	}
	if (in->mode == MODE_GZIP) {
		if (!in->zdone && ingest_deflate(in, sl->buf + used, sl->len - used,
		    final ? Z_FINISH : Z_NO_FLUSH) == -1)
			return -1;
		if (!final && in->zs.total_in >= in->next_check &&
		    ingest_gzip_check(in) == -1)
			return -1;
	}
	return ingest_failed(in) ? -1 : 0;
}

/*
 * Whole slots freed by one ingest are the next one's. Allocated afresh,
 * a 1 MiB slot is mmap'd, and every page faults and is zeroed on first
 * use: for a follower syncing hundreds of objects that cost more CPU
 * than hashing them. At most SLOT_CACHE wait here (a crawl's transfers
 * at once hold four each); memory stays bounded whatever the number of
 * objects. Any thread: ingests run on the loop and on the work queue.
 */
#define SLOT_CACHE	32
static pthread_mutex_t slot_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *slot_cache[SLOT_CACHE];
static unsigned slot_cached;

static unsigned char *
slot_alloc(size_t len)
{
	unsigned char *p = NULL;

	if (len == SLOT_LEN) {
		pthread_mutex_lock(&slot_cache_mu);
		if (slot_cached > 0)
			p = slot_cache[--slot_cached];
		pthread_mutex_unlock(&slot_cache_mu);
		if (p != NULL)
			return p;
	}
	if (posix_memalign((void **)&p, 4096, len) != 0)
		return NULL;
	return p;
}

static void
slot_release(unsigned char *p, size_t len)
{
	if (p != NULL && len == SLOT_LEN) {
		pthread_mutex_lock(&slot_cache_mu);
		if (slot_cached < SLOT_CACHE) {
			slot_cache[slot_cached++] = p;
			p = NULL;
		}
		pthread_mutex_unlock(&slot_cache_mu);
	}
	free(p);
}

/* The slot to fill next, once the threads are done with it. */
static struct ingest_slot *
ingest_fill_slot(struct ingest *in)
{
	struct ingest_slot *sl = &in->slots[in->submitted % NSLOTS];

	if (sl->filling)
		return sl;
	if (in->threads) {
		pthread_mutex_lock(&in->mu);
		while (sl->busy > 0)
			pthread_cond_wait(&in->cv, &in->mu);
		pthread_mutex_unlock(&in->mu);
	}
	/* The first slot fits an object smaller than a slot, with room for
	 * the read that sees its end. */
	size_t want = SLOT_LEN;
	if (in->submitted == 0 && in->size_hint > 0 && in->size_hint < SLOT_LEN)
		want = ingest_round((size_t)in->size_hint + 1);
	if (sl->cap < want) {
		slot_release(sl->buf, sl->cap);
		sl->buf = NULL;
		sl->cap = 0;
	}
	if (sl->buf == NULL) {
		if ((sl->buf = slot_alloc(want)) == NULL) {
			ingest_fail(in, "out of memory");
			return NULL;
		}
		sl->cap = want;
	}
	sl->len = 0;
	sl->filling = 1;
	return sl;
}

struct ingest *
ingest_new(struct store *st, uint64_t size_hint, char *err, size_t errlen)
{
	struct ingest *in;
	uint32_t piece_length;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->st = st;
	in->size_hint = size_hint;
	in->data.fd = -1;
	piece_length = PIECE_MIN;
	while (size_hint / piece_length > PIECES_TARGET && piece_length < PIECE_MAX)
		piece_length *= 2;
	pthread_mutex_init(&in->errmu, NULL);
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	if ((in->sha256 = EVP_MD_CTX_new()) == NULL ||
	    (in->stored_sha256 = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(in->sha256, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(in->stored_sha256, EVP_sha256(), NULL) ||
	    pieces_init(&in->pieces, piece_length, NULL, 0) == -1) {
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

void *
ingest_reserve(struct ingest *in, size_t *len)
{
	struct ingest_slot *sl;

	if (in->failed || in->finished || (sl = ingest_fill_slot(in)) == NULL)
		return NULL;
	*len = sl->cap - sl->len;
	return sl->buf + sl->len;
}

int
ingest_produce(struct ingest *in, size_t n)
{
	struct ingest_slot *sl = &in->slots[in->submitted % NSLOTS];

	if (in->failed)
		return -1;
	if (n == 0)
		return 0;
	EVP_DigestUpdate(in->sha256, sl->buf + sl->len, n);
	sl->len += n;
	in->size += n;
	if (sl->len == sl->cap)
		return ingest_submit(in, 0);
	return 0;
}

int
ingest_write(struct ingest *in, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		size_t room;
		unsigned char *dst = ingest_reserve(in, &room);
		if (dst == NULL)
			return -1;
		if (room > len)
			room = len;
		memcpy(dst, p, room);
		if (ingest_produce(in, room) == -1)
			return -1;
		p += room;
		len -= room;
	}
	return in->failed ? -1 : 0;
}

/* A finished ingest waits for its commit holding only two file
 * descriptors and its metadata: `add` keeps a batch of them at once. */
static void
ingest_release(struct ingest *in)
{
	size_t i;

	if (in->threads) {
		pthread_mutex_lock(&in->mu);
		in->quit = 1;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
		pthread_join(in->hasher, NULL);
		pthread_join(in->writer, NULL);
		in->threads = 0;
	}
	if (in->zinit)
		deflateEnd(&in->zs);
	in->zinit = 0;
	for (i = 0; i < NSLOTS; i++) {
		slot_release(in->slots[i].buf, in->slots[i].cap);
		in->slots[i].buf = NULL;
		in->slots[i].cap = 0;
	}
	free(in->out);
	in->out = NULL;
	in->out_cap = 0;
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
	/* The metadata trailer is not content: the kept prefix goes first. */
	ingest_keep_unlink(in);
	/* The last slot, short or even empty (an empty object). */
	if (ingest_fill_slot(in) == NULL || ingest_submit(in, 1) == -1) {
		ingest_drain(in);
		return -1;
	}
	ingest_drain(in);
	if (ingest_failed(in))
		return -1;
	if (in->mode == MODE_GZIP) {
		if (!in->zdone && ingest_deflate(in, NULL, 0, Z_FINISH) == -1)
			return -1;
		/* Deflate has to pay overall too, not just on the way. */
		if ((uint64_t)in->zs.total_out * 10 > in->size * 9 &&
		    ingest_to_raw(in) == -1)
			return -1;
	}
	if (in->out != NULL && ingest_flush(in, 1) == -1)
		return -1;
	/* The last, short piece. */
	if (pieces_final(&in->pieces) == -1)
		return ingest_fail(in, "out of memory");
	if (in->failed)
		return -1;

	struct object_meta *m = &in->result;
	EVP_DigestFinal_ex(in->sha256, md, NULL);
	hex_encode(md, 32, m->sha256);
	m->size = in->size;
	m->gzip = in->mode == MODE_GZIP;
	m->stored_size = in->written + in->slot_written;
	if (m->gzip) {
		EVP_DigestFinal_ex(in->stored_sha256, md, NULL);
		hex_encode(md, 32, m->stored_sha256);
	} else
		memcpy(m->stored_sha256, m->sha256, sizeof(m->sha256));
	m->piece_length = in->pieces.length;
	m->pieces = in->pieces.digests;	/* still owned by in->pieces */
	m->n_pieces = in->pieces.count;
	m->mtime = (int64_t)time(NULL);

	/* The metadata trails the stored bytes in the same file, so one
	 * link makes the object and all it says about itself visible. */
	if ((json = store_meta_to_json(m)) == NULL)
		return ingest_fail(in, "out of memory");
	if (in->data.direct) {
		int fl = fcntl(in->data.fd, F_GETFL);
		if (fl == -1 || fcntl(in->data.fd, F_SETFL, fl & ~O_DIRECT) == -1) {
			free(json);
			return ingest_fail_errno(in, "fcntl");
		}
		in->data.direct = 0;
	}
	if (store_trailer_write(in->data.fd, json) == -1) {
		free(json);
		return ingest_fail_errno(in, "write");
	}
	free(json);
	{
		/* The mtime the trailer names: any later write changes it,
		 * and the server then knows the file is no longer what was
		 * hashed. */
		struct timespec ts[2] = { { (time_t)m->mtime, 0 }, { (time_t)m->mtime, 0 } };
		if (futimens(in->data.fd, ts) == -1)
			return ingest_fail_errno(in, "futimens");
	}
	in->finished = 1;
	ingest_release(in);
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

int
ingest_keep(struct ingest *in, const char *path)
{
	if (in->keep != NULL || in->finished || in->failed)
		return in->kept;
	if ((in->keep = strdup(path)) == NULL)
		return 0;
	ingest_keep_link(in);
	return in->kept;
}

void
ingest_store_raw(struct ingest *in)
{
	if (in->mode != MODE_PREFIX || in->submitted > 0 || in->failed)
		return;
	in->mode = MODE_RAW;
	ingest_keep_link(in);
}

int
ingest_kept(const struct ingest *in)
{
	return in->kept;
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
			if (fsync(v[i]->data.fd) == -1) {
				ingest_fail_errno(v[i], "fsync");
				snprintf(err, errlen, "%s", v[i]->err);
				return -1;
			}
		}
	}
	for (i = 0; i < n; i++) {
		struct ingest *in = v[i];
		const char *hex = in->result.sha256;
		char *data = store_object_path(st, hex);
		int rc = -1;

		if (data == NULL)
			ingest_fail(in, "out of memory");
		else if (access(data, F_OK) == 0)
			rc = 0;		/* the same content is already stored */
		else if (ingest_link(in, &in->data, data) == 0)
			rc = 0;
		free(data);
		if (rc == -1) {
			snprintf(err, errlen, "%s", in->err);
			return -1;
		}
		in->committed = 1;
		ingest_tmp_close(&in->data, 1);
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
	ingest_release(in);
	pthread_mutex_destroy(&in->mu);
	pthread_mutex_destroy(&in->errmu);
	pthread_cond_destroy(&in->cv);
	ingest_tmp_close(&in->data, 1);
	free(in->keep);
	EVP_MD_CTX_free(in->sha256);
	EVP_MD_CTX_free(in->stored_sha256);
	pieces_free(&in->pieces);
	free(in);
}
