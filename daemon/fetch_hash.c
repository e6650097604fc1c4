/*
 * The hashing threads of fetch_ranges (fetch.h). Ranges land out of
 * order, but SHA-256 must see the file in order: one thread checks each
 * written piece (one pread, one SHA-1), another feeds the SHA-256 as far
 * as the good pieces reach from the start, reading each once more from
 * the page cache. Two threads, because on a fast link SHA-1 and SHA-256
 * of every byte are more than one core does while the bytes arrive: one
 * thread doing both was the slowest part of a loopback fetch. The curl
 * thread only writes; when the last piece lands, only the tail is left
 * to hash, never a second pass over the network.
 *
 * Memory: a piece buffer, a buffer of FH_SPAN (or a piece), two rings of
 * piece numbers and a byte per piece, whatever the object's size in
 * pieces.
 *
 * Each thread waits on a condition of its own and is woken only for what
 * it waits for: with one condition for all, every piece handed over (2,048
 * of them in 512 MiB) woke all three. With that, the SHA-256 reading up to
 * FH_SPAN at once, and the checks kept off its CPU (fh_may_check), a
 * 512 MiB fetch from three loopback mirrors went from 0.72 to 0.67 s.
 */
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fetch.h"
#include "pieces.h"

enum { FH_NONE, FH_WRITTEN, FH_GOOD, FH_BAD };

#define FH_SYNC_EVERY	(32u << 20)	/* bytes of prefix between flushes */
#define FH_SPAN		(1u << 20)	/* the SHA-256 reads this much at once */

struct fh_ring {
	size_t *v, cap, head, len;
};

struct fetch_hash {
	pthread_t thread, prefix, flusher;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* the curl thread, in fetch_hash_final/checked */
	pthread_cond_t cv_check, cv_prefix, cv_flush;	/* the three threads */
	int fd;
	uint64_t size;
	uint32_t plen;
	size_t n;
	const uint8_t *list;
	CURLM *wake;
	struct fh_ring todo, done;	/* pieces to check; results (bit 0: good) */
	unsigned char *st;		/* FH_* per piece */
	size_t next;			/* pieces [0, next) are in the SHA-256 */
	uint64_t written, flushed;	/* bytes handed over; flushed to disk */
	EVP_MD_CTX *sha256, *sha1;
	unsigned char *buf, *pbuf;	/* the checker's; the SHA-256's */
	int stop, err, started;
	int checking;		/* the checker holds a piece */
	int prefix_idle;	/* the SHA-256 thread waits for a piece */
	int check_all;		/* fetch_hash_checked: check, whatever the SHA-256 does */
	size_t reading;		/* the SHA-256 thread holds pieces NEXT.. this many */
	int tainted;		/* a piece in the SHA-256 failed its check */
};

static void
fh_ring_push(struct fh_ring *r, size_t v)
{
	/* Never full: a piece is in at most one ring at a time. */
	r->v[(r->head + r->len++) % r->cap] = v;
}

static size_t
fh_ring_pop(struct fh_ring *r)
{
	size_t v = r->v[r->head];

	r->head = (r->head + 1) % r->cap;
	r->len--;
	return v;
}

static size_t
fh_len(const struct fetch_hash *h, size_t i)
{
	uint64_t off = (uint64_t)i * h->plen;

	return h->size - off < h->plen ? (size_t)(h->size - off) : h->plen;
}

/* LEN bytes from piece I on. */
static int
fh_read_span(struct fetch_hash *h, size_t i, size_t len, unsigned char *buf)
{
	size_t got = 0;
	off_t off = (off_t)((uint64_t)i * h->plen);
	ssize_t r;

	while (got < len) {
		r = pread(h->fd, buf + got, len - got, off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A hole past the end reads short: not these bytes. */
			memset(buf + got, 0, len - got);
			return r == 0 ? 0 : -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int
fh_check(struct fetch_hash *h, size_t i)
{
	unsigned char md[EVP_MAX_MD_SIZE];

	if (h->list == NULL)
		return 1;
	if (EVP_DigestInit_ex(h->sha1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(h->sha1, h->buf, fh_len(h, i)) != 1 ||
	    EVP_DigestFinal_ex(h->sha1, md, NULL) != 1)
		return 0;
	return memcmp(md, h->list + i * PIECES_SHA1_LEN, PIECES_SHA1_LEN) == 0;
}

/* A hashing thread's end, with the lock held: whoever waits on it
 * learns of it (the curl thread through its wakeup). */
static void *
fh_thread_end(struct fetch_hash *h)
{
	pthread_cond_broadcast(&h->cv);
	pthread_cond_broadcast(&h->cv_check);
	pthread_cond_broadcast(&h->cv_prefix);
	pthread_cond_broadcast(&h->cv_flush);
	if (h->wake != NULL)
		curl_multi_wakeup(h->wake);
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/*
 * A check runs while the SHA-256 thread waits for a piece (or when asked
 * for every check), never beside it: on a slow link that is nearly all
 * the time, so a lying mirror is found by its first pieces; on a fast
 * one, where the SHA-256 is what the download waits for, checks beside
 * it slowed a 512 MiB fetch from three mirrors by a tenth, and a lie is
 * found at the end anyway (the SHA-256 is wrong: fetch_hash_checked).
 * Without a list a check costs nothing and always runs.
 */
static int
fh_may_check(const struct fetch_hash *h)
{
	return h->todo.len > 0 && (h->list == NULL || h->prefix_idle || h->check_all);
}

static void *
fh_main(void *arg)
{
	struct fetch_hash *h = arg;
	size_t i;
	int good;

	/* The checks only say where a mirror lied: the SHA-256 decides,
	 * and the download does not wait for them (fetch_hash_final). They
	 * take the CPU the transfers and the SHA-256 leave. */
	if (h->list != NULL)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->stop && !h->err && !fh_may_check(h))
			pthread_cond_wait(&h->cv_check, &h->mu);
		if (h->stop || h->err)
			break;
		i = fh_ring_pop(&h->todo);
		h->checking = 1;
		if (h->list == NULL) {
			good = 1;	/* nothing to check: read once, by the SHA-256 */
		} else {
			pthread_mutex_unlock(&h->mu);
			if (fh_read_span(h, i, fh_len(h, i), h->buf) == -1) {
				pthread_mutex_lock(&h->mu);
				h->err = errno ? errno : EIO;
				break;
			}
			good = fh_check(h, i);
			pthread_mutex_lock(&h->mu);
		}
		/* Already in the SHA-256 (or being read for it): that hash is
		 * void, and made again once the piece is fetched again. */
		if (!good && i < h->next + h->reading)
			h->tainted = 1;
		h->checking = 0;
		if (h->st[i] == FH_WRITTEN)
			h->st[i] = good ? FH_GOOD : FH_BAD;
		fh_ring_push(&h->done, i << 1 | (size_t)good);
		/* Only a failed piece needs the curl thread now (to drop its
		 * mirror); good ones it takes when it next wakes for its
		 * transfers, not with a wakeup each. */
		if (!good && h->wake != NULL)
			curl_multi_wakeup(h->wake);
		pthread_cond_signal(&h->cv);
	}
	return fh_thread_end(h);
}

/* The SHA-256 of the prefix of written pieces that did not fail their
 * check (checked or not yet): read without the lock, since a piece is
 * written again only after failing, which taints the hash. */
static int
fh_ready(const struct fetch_hash *h, size_t i)
{
	return i < h->n && (h->st[i] == FH_GOOD || h->st[i] == FH_WRITTEN);
}

static void *
fh_prefix(void *arg)
{
	struct fetch_hash *h = arg;
	size_t i, k, span = h->plen < FH_SPAN ? FH_SPAN / h->plen : 1;
	uint64_t len;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		if (!h->stop && !h->err && !fh_ready(h, h->next)) {
			h->prefix_idle = 1;
			if (fh_may_check(h))
				pthread_cond_signal(&h->cv_check);
			while (!h->stop && !h->err && !fh_ready(h, h->next))
				pthread_cond_wait(&h->cv_prefix, &h->mu);
			h->prefix_idle = 0;
		}
		if (h->stop || h->err)
			break;
		/* The ready pieces in a row, up to FH_SPAN: one read, one
		 * update, one wakeup for them all. */
		i = h->next;
		for (k = 1; k < span && fh_ready(h, i + k); k++)
			;
		h->reading = k;
		pthread_mutex_unlock(&h->mu);
		len = (uint64_t)(i + k - 1) * h->plen + fh_len(h, i + k - 1) - (uint64_t)i * h->plen;
		if (fh_read_span(h, i, (size_t)len, h->pbuf) == -1) {
			pthread_mutex_lock(&h->mu);
			h->reading = 0;
			h->err = errno ? errno : EIO;
			break;
		}
		EVP_DigestUpdate(h->sha256, h->pbuf, (size_t)len);
		pthread_mutex_lock(&h->mu);
		h->reading = 0;
		h->next += k;
		pthread_cond_signal(&h->cv);
	}
	return fh_thread_end(h);
}

/* Flushes what was written now and then, so the fsync before the rename
 * waits for the last pieces only: on a fast link a final fsync of the
 * whole object was a third of the fetch. A thread of its own, since it
 * mostly waits on the disk, and the hashing threads must not. A failure
 * here shows again at that fsync. */
static void *
fh_flusher(void *arg)
{
	struct fetch_hash *h = arg;
	uint64_t to;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->stop && !h->err && h->written - h->flushed < FH_SYNC_EVERY)
			pthread_cond_wait(&h->cv_flush, &h->mu);
		if (h->stop || h->err)
			break;
		to = h->written;
		pthread_mutex_unlock(&h->mu);
		(void)fdatasync(h->fd);
		pthread_mutex_lock(&h->mu);
		h->flushed = to;
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
fh_free(struct fetch_hash *h)
{
	free(h->todo.v);
	free(h->done.v);
	free(h->st);
	free(h->buf);
	free(h->pbuf);
	EVP_MD_CTX_free(h->sha256);
	EVP_MD_CTX_free(h->sha1);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	pthread_cond_destroy(&h->cv_check);
	pthread_cond_destroy(&h->cv_prefix);
	pthread_cond_destroy(&h->cv_flush);
	free(h);
}

/* Stops the first N threads (checker, prefix, flusher) and frees H. */
static void
fh_halt(struct fetch_hash *h, int n)
{
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_cond_broadcast(&h->cv_check);
	pthread_cond_broadcast(&h->cv_prefix);
	pthread_cond_broadcast(&h->cv_flush);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	if (n > 1)
		pthread_join(h->prefix, NULL);
	if (n > 2)
		pthread_join(h->flusher, NULL);
	fh_free(h);
}

struct fetch_hash *
fetch_hash_start(int fd, uint64_t size, uint32_t plen, size_t n, const uint8_t *list,
    CURLM *wake)
{
	struct fetch_hash *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	pthread_cond_init(&h->cv_check, NULL);
	pthread_cond_init(&h->cv_prefix, NULL);
	pthread_cond_init(&h->cv_flush, NULL);
	h->fd = fd;
	h->size = size;
	h->plen = plen;
	h->n = n;
	h->list = list;
	h->wake = wake;
	h->todo.cap = h->done.cap = n + 1;
	h->todo.v = calloc(n + 1, sizeof(size_t));
	h->done.v = calloc(n + 1, sizeof(size_t));
	h->st = calloc(n + 1, 1);
	h->buf = malloc(plen);
	h->pbuf = malloc(plen < FH_SPAN ? FH_SPAN / plen * plen : plen);
	h->sha256 = EVP_MD_CTX_new();
	h->sha1 = EVP_MD_CTX_new();
	if (h->todo.v == NULL || h->done.v == NULL || h->st == NULL || h->buf == NULL ||
	    h->pbuf == NULL || h->sha256 == NULL || h->sha1 == NULL ||
	    EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) != 1 ||
	    pthread_create(&h->thread, NULL, fh_main, h) != 0) {
		fh_free(h);
		return NULL;
	}
	if (pthread_create(&h->prefix, NULL, fh_prefix, h) != 0) {
		fh_halt(h, 1);
		return NULL;
	}
	if (pthread_create(&h->flusher, NULL, fh_flusher, h) != 0) {
		fh_halt(h, 2);
		return NULL;
	}
	h->started = 1;
	return h;
}

void
fetch_hash_push(struct fetch_hash *h, size_t i)
{
	uint64_t before;

	pthread_mutex_lock(&h->mu);
	h->st[i] = FH_WRITTEN;
	before = h->written;
	h->written += fh_len(h, i);
	fh_ring_push(&h->todo, i);
	if (fh_may_check(h))
		pthread_cond_signal(&h->cv_check);
	if (i == h->next)
		pthread_cond_signal(&h->cv_prefix);
	if ((before - h->flushed) < FH_SYNC_EVERY && h->written - h->flushed >= FH_SYNC_EVERY)
		pthread_cond_signal(&h->cv_flush);
	pthread_mutex_unlock(&h->mu);
}

int
fetch_hash_result(struct fetch_hash *h, size_t *i, int *good)
{
	int rc = 0;
	size_t v;

	pthread_mutex_lock(&h->mu);
	if (h->done.len > 0) {
		v = fh_ring_pop(&h->done);
		*i = v >> 1;
		*good = (int)(v & 1);
		rc = 1;
	} else if (h->err) {
		errno = h->err;
		rc = -1;
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int
fetch_hash_final(struct fetch_hash *h, unsigned char md[32])
{
	unsigned int len = 0;
	int rc = 0;

	pthread_mutex_lock(&h->mu);
	while (((h->next < h->n && h->st[h->next] != FH_BAD && h->st[h->next] != FH_NONE) ||
	    h->reading) && !h->err && !h->stop)
		pthread_cond_wait(&h->cv, &h->mu);
	if (h->err || h->stop) {
		errno = h->err ? h->err : EIO;
		rc = -1;
	} else if (h->tainted) {
		/* The SHA-256 thread is idle: start the hash again. */
		h->next = 0;
		h->tainted = 0;
		rc = EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) == 1 ? 1 : -1;
		pthread_cond_signal(&h->cv_prefix);
	} else if (h->next < h->n) {
		rc = 1;		/* a piece to fetch again first */
	}
	pthread_mutex_unlock(&h->mu);
	/* The thread is idle now: nothing left to feed the SHA-256. */
	if (rc == 0 && EVP_DigestFinal_ex(h->sha256, md, &len) != 1)
		rc = -1;
	return rc;
}

void
fetch_hash_checked(struct fetch_hash *h)
{
	pthread_mutex_lock(&h->mu);
	h->check_all = 1;
	pthread_cond_signal(&h->cv_check);
	while ((h->todo.len > 0 || h->checking) && !h->err && !h->stop)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void
fetch_hash_stop(struct fetch_hash *h)
{
	if (h != NULL)
		fh_halt(h, 3);
}
