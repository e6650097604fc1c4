/*
 * Small objects held in memory by a serving loop (see server_cache.h).
 *
 * Why: a page asked for over and over cost, each time, an open, an
 * fstat, a read per 16 KiB and a close. On this kind of machine (a
 * virtual one, where every system call pays for the hypervisor too)
 * those were a fifth of the server's CPU for a 48 KB gzip page over
 * HTTP/2, more than nginx spends on the same page.
 *
 * Limits, and why:
 * - OBJECT_MAX: only objects stored in at most this many bytes, the
 *   ones the server answers in one piece anyway (SMALL_REPLY); large
 *   media streams from its file as before.
 * - BUDGET: bytes held by one loop's entries. Past it, entries are let
 *   go in turn (a clock hand over the slots) to make room.
 * - MIN_USES: an object is read into memory at its second request in a
 *   row to its slot (not counting those answered from memory), so
 *   objects asked for once (a follower's sync, a crawl of the mirror)
 *   cost no extra read and hash, and do not push out what is held.
 * - CACHE_VALID: an entry is served this long after its file was last
 *   seen; then the next request opens the file again, as without the
 *   cache, and the entry lives on if the file is the same one (device,
 *   inode, size, mtime). A file removed or changed by hand stops being
 *   served within this time; the bytes served meanwhile are the ones
 *   whose hash was checked.
 * - SLOTS: entries by the id's first bytes (ids are uniform), one a
 *   slot: two objects sharing a slot take turns in it.
 */
#include "server_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hexutil.h"

#define OBJECT_MAX	(256u * 1024)
#define BUDGET		(4u * 1024 * 1024)
#define MIN_USES	2
#define CACHE_VALID	5
#define SLOTS		1024

struct cache_entry {
	struct cached_object pub;	/* first: what callers hold */
	unsigned refs;			/* the cache's, and each response's */
	struct store_file_id id;	/* the file it was read from */
	time_t seen;			/* when the file was last found the same */
	uint8_t bytes[];
};

struct cache_slot {
	struct cache_entry *e;		/* the object held here, if any */
	char hex[STORE_HEX_LEN + 1];	/* the last other one asked for here */
	unsigned uses;			/* its requests in a row */
};

struct server_cache {
	struct cache_slot slot[SLOTS];
	size_t bytes;			/* held by entries in slots */
	unsigned hand;			/* the next slot to let go for room */
};

static time_t
cache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

static struct cache_slot *
cache_slot(struct server_cache *sc, const char *hex)
{
	uint8_t h[2];

	if (hex_decode(hex, 4, h) == -1)
		return NULL;
	return &sc->slot[((size_t)h[0] << 8 | h[1]) % SLOTS];
}

void
server_cache_release(const struct cached_object *co)
{
	struct cache_entry *e = (struct cache_entry *)co;

	if (e != NULL && --e->refs == 0)
		free(e);
}

static void
cache_drop(struct server_cache *sc, struct cache_slot *s)
{
	if (s->e == NULL)
		return;
	sc->bytes -= s->e->pub.m.stored_size;
	server_cache_release(&s->e->pub);
	s->e = NULL;
}

struct server_cache *
server_cache_new(void)
{
	return calloc(1, sizeof(struct server_cache));
}

void
server_cache_free(struct server_cache *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < SLOTS; i++)
		cache_drop(sc, &sc->slot[i]);
	free(sc);
}

const struct cached_object *
server_cache_get(struct server_cache *sc, const char *hex)
{
	struct cache_slot *s;

	if (sc == NULL || (s = cache_slot(sc, hex)) == NULL || s->e == NULL ||
	    strcmp(s->e->pub.m.sha256, hex) != 0 || cache_now() - s->e->seen >= CACHE_VALID)
		return NULL;
	s->e->refs++;
	return &s->e->pub;
}

/* Read the stored bytes of FD whole into a new entry and check them
 * against M's hash: the entry, or NULL (ERR set when they do not match). */
static struct cache_entry *
cache_read(int fd, const struct object_meta *m, char *err, size_t errlen)
{
	struct cache_entry *e;
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[STORE_HEX_LEN + 1];
	size_t len = (size_t)m->stored_size, done = 0;
	ssize_t n;

	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return NULL;
	while (done < len) {
		n = pread(fd, e->bytes + done, len - done, (off_t)done);
		if (n <= 0) {
			/* Shorter than its metadata says: left to the usual
			 * path, which answers it as it always did. */
			free(e);
			return NULL;
		}
		done += (size_t)n;
	}
	if (EVP_Digest(e->bytes, len, md, NULL, EVP_sha256(), NULL) != 1) {
		free(e);
		return NULL;
	}
	hex_encode(md, 32, got);
	if (strcmp(got, m->stored_sha256) != 0) {
		snprintf(err, errlen, "stored bytes do not match their hash (read whole "
		    "to be held in memory: %.16s…)", got);
		free(e);
		return NULL;
	}
	e->pub.m = *m;
	e->pub.m.pieces = NULL;
	e->pub.m.n_pieces = 0;
	e->pub.data = e->bytes;
	return e;
}

const struct cached_object *
server_cache_offer(struct server_cache *sc, const char *hex, int fd,
    const struct object_meta *m, char *err, size_t errlen)
{
	struct cache_slot *s;
	struct cache_entry *e;
	struct stat sb;
	size_t i;

	if (errlen > 0)
		err[0] = '\0';
	if (sc == NULL || m->stored_size == 0 || m->stored_size > OBJECT_MAX ||
	    (s = cache_slot(sc, hex)) == NULL)
		return NULL;
	if ((e = s->e) != NULL && strcmp(e->pub.m.sha256, hex) == 0) {
		/* Held, and asked for again once CACHE_VALID has passed. */
		if (fstat(fd, &sb) == 0 && store_file_id_same(&e->id, &sb)) {
			e->seen = cache_now();
			e->refs++;
			return &e->pub;
		}
		cache_drop(sc, s);	/* another file now: read it again */
		memcpy(s->hex, hex, sizeof(s->hex));
		s->uses = MIN_USES;
	} else if (strcmp(s->hex, hex) != 0) {
		memcpy(s->hex, hex, sizeof(s->hex));
		s->uses = 1;
	} else if (s->uses < MIN_USES)
		s->uses++;
	if (s->uses < MIN_USES || fstat(fd, &sb) == -1)
		return NULL;
	for (i = 0; i < SLOTS && sc->bytes + m->stored_size > BUDGET; i++) {
		cache_drop(sc, &sc->slot[sc->hand]);
		sc->hand = (sc->hand + 1) % SLOTS;
	}
	if ((e = cache_read(fd, m, err, errlen)) == NULL) {
		s->uses = 0;
		return NULL;
	}
	cache_drop(sc, s);	/* what another object held here */
	s->hex[0] = '\0';
	s->uses = 0;
	e->refs = 2;	/* the slot's and the caller's */
	store_file_id(&e->id, &sb);
	e->seen = cache_now();
	s->e = e;
	sc->bytes += m->stored_size;
	return &e->pub;
}
