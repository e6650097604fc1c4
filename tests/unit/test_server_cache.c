/*
 * The small-object cache of a serving loop: held from the second offer,
 * the bytes checked against the stored hash (a mismatch named, nothing
 * held), a one-off request to a slot leaves what it holds, a second one
 * takes it over, the budget holds with more objects than fit, objects
 * over the size limit are never held, and a reference outlives the
 * cache. The re-check of the file every few seconds is shown end to end
 * by server_cache.sh.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hexutil.h"
#include "server_cache.h"
#include "check.h"

static char dir[] = "/tmp/emberd-cache-XXXXXX";

/* A raw object of LEN bytes in a file, opened as *FD, described by M;
 * ID gives its id (any 64 hex: the cache keys on it, and checks the
 * bytes against stored_sha256). */
static void
make(const char *id, size_t len, int fd_i, struct object_meta *m, int *fd)
{
	unsigned char *b = malloc(len ? len : 1), md[32];
	char path[256];
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(rand() >> 7);
	snprintf(path, sizeof(path), "%s/o%d", dir, fd_i);
	*fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(*fd != -1);
	CHECK(write(*fd, b, len) == (ssize_t)len);
	memset(m, 0, sizeof(*m));
	snprintf(m->sha256, sizeof(m->sha256), "%s", id);
	m->size = m->stored_size = len;
	EVP_Digest(b, len, md, NULL, EVP_sha256(), NULL);
	hex_encode(md, 32, m->stored_sha256);
	free(b);
}

/* 64 hex digits starting with PREFIX (4), then FILL. */
static const char *
id_of(char *buf, const char *prefix, char fill)
{
	memset(buf, fill, 64);
	memcpy(buf, prefix, 4);
	buf[64] = '\0';
	return buf;
}

static int
same_bytes(int fd, const struct cached_object *co)
{
	size_t len = (size_t)co->m.stored_size;
	unsigned char *b = malloc(len);
	int ok = b != NULL && pread(fd, b, len, 0) == (ssize_t)len &&
	    memcmp(b, co->data, len) == 0;

	free(b);
	return ok;
}

int
main(void)
{
	struct server_cache *sc = server_cache_new();
	const struct cached_object *co, *co2;
	struct object_meta ma, mb, mbad, mbig, mk[24];
	int fa, fb, fbad, fbig, fk[24], held, i;
	char ida[65], idb[65], idbad[65], idbig[65], idk[65], err[256];

	CHECK(sc != NULL);
	CHECK(mkdtemp(dir) != NULL);

	/* Held from the second offer; the bytes are the file's. */
	make(id_of(ida, "0001", 'a'), 5000, 0, &ma, &fa);
	CHECK(server_cache_get(sc, ida) == NULL);
	CHECK(server_cache_offer(sc, ida, fa, &ma, err, sizeof(err)) == NULL && err[0] == '\0');
	CHECK(server_cache_get(sc, ida) == NULL);
	co = server_cache_offer(sc, ida, fa, &ma, err, sizeof(err));
	CHECK(co != NULL && err[0] == '\0');
	CHECK(co != NULL && co->m.stored_size == 5000 && same_bytes(fa, co));
	co2 = server_cache_get(sc, ida);
	CHECK(co2 == co);
	server_cache_release(co2);
	server_cache_release(co);

	/* A one-off request for another object of the same slot ("0401":
	 * (4 << 8 | 1) % 1024 == 1) leaves A held; a second takes it. */
	make(id_of(idb, "0401", 'b'), 7000, 1, &mb, &fb);
	CHECK(server_cache_offer(sc, idb, fb, &mb, err, sizeof(err)) == NULL);
	co = server_cache_get(sc, ida);
	CHECK(co != NULL);
	server_cache_release(co);
	co = server_cache_offer(sc, idb, fb, &mb, err, sizeof(err));
	CHECK(co != NULL && same_bytes(fb, co));
	server_cache_release(co);
	CHECK(server_cache_get(sc, ida) == NULL);

	/* Bytes that do not match: named, not held. */
	make(id_of(idbad, "0002", 'c'), 3000, 2, &mbad, &fbad);
	mbad.stored_sha256[0] = mbad.stored_sha256[0] == '0' ? '1' : '0';
	CHECK(server_cache_offer(sc, idbad, fbad, &mbad, err, sizeof(err)) == NULL && err[0] == '\0');
	CHECK(server_cache_offer(sc, idbad, fbad, &mbad, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "do not match") != NULL);
	CHECK(server_cache_get(sc, idbad) == NULL);

	/* Over 256 KiB: never held. */
	make(id_of(idbig, "0003", 'd'), 256 * 1024 + 1, 3, &mbig, &fbig);
	for (i = 0; i < 3; i++)
		CHECK(server_cache_offer(sc, idbig, fbig, &mbig, err, sizeof(err)) == NULL);
	CHECK(server_cache_get(sc, idbig) == NULL);

	/* 24 objects of 256 KiB (6 MiB) through 4 MiB: each held when
	 * offered, at most 16 still held after. */
	for (i = 0; i < 24; i++) {
		char pre[5];
		snprintf(pre, sizeof(pre), "01%02x", i);
		make(id_of(idk, pre, 'e'), 256 * 1024, 10 + i, &mk[i], &fk[i]);
		CHECK(server_cache_offer(sc, idk, fk[i], &mk[i], err, sizeof(err)) == NULL);
		co = server_cache_offer(sc, idk, fk[i], &mk[i], err, sizeof(err));
		CHECK(co != NULL);
		server_cache_release(co);
	}
	held = 0;
	for (i = 0; i < 24; i++) {
		if ((co = server_cache_get(sc, mk[i].sha256)) != NULL) {
			held++;
			CHECK(same_bytes(fk[i], co));
			server_cache_release(co);
		}
	}
	CHECK(held >= 1 && held <= 16);

	/* A reference outlives the cache (a response still sending). */
	co = server_cache_get(sc, mk[23].sha256);
	CHECK(co != NULL);
	server_cache_free(sc);
	if (co != NULL) {
		CHECK(same_bytes(fk[23], co));
		server_cache_release(co);
	}

	close(fa);
	close(fb);
	close(fbad);
	close(fbig);
	for (i = 0; i < 24; i++)
		close(fk[i]);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}
