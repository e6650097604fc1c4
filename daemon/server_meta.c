/*
 * The cache of parsed object metadata (see server_meta.h).
 */
#include "server_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hexutil.h"

/*
 * Objects never change once stored, so an entry stays good while the
 * file is the same one (device, inode, size, mtime: checked against the
 * fstat every request makes anyway); it saves two preads and a JSON
 * parse per request. Slots by the id's first bytes: ids are uniform.
 */
#define META_CACHE 1024

struct server_meta_entry {
	char hex[STORE_HEX_LEN + 1];
	struct store_file_id id;
	struct object_meta m;	/* without pieces */
};

struct server_meta {
	struct server_meta_entry e[META_CACHE];
};

struct server_meta *
server_meta_new(void)
{
	return calloc(1, sizeof(struct server_meta));
}

void
server_meta_free(struct server_meta *mc)
{
	free(mc);
}

int
server_meta_get(struct server_meta *mc, int fd, const char *hex, struct object_meta *m,
    char *err, size_t errlen)
{
	struct server_meta_entry *e = NULL;
	struct stat sb;
	size_t slot;

	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	if (mc != NULL) {
		uint8_t h[4];
		hex_decode(hex, 8, h);
		slot = ((size_t)h[0] << 8 | h[1]) % META_CACHE;
		e = &mc->e[slot];
		if (strcmp(e->hex, hex) == 0 && store_file_id_same(&e->id, &sb)) {
			*m = e->m;
			return 0;
		}
	}
	if (store_meta_read_fd(fd, m, err, errlen) == -1)
		return -1;
	if (strcmp(m->sha256, hex) != 0) {
		snprintf(err, errlen, "metadata names another object");
		store_meta_free(m);
		return -1;
	}
	if (m->mtime > 0 && (sb.st_mtim.tv_sec != (time_t)m->mtime || sb.st_mtim.tv_nsec != 0)) {
		/* Written to since it was hashed and stored: whatever it holds
		 * now is unverified. */
		snprintf(err, errlen, "changed on disk since it was stored (mtime %lld.%09ld, "
		    "stored at %lld)", (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
		    (long long)m->mtime);
		store_meta_free(m);
		return -1;
	}
	store_meta_free(m);	/* pieces are not needed here */
	if (e != NULL) {
		memcpy(e->hex, hex, sizeof(e->hex));
		store_file_id(&e->id, &sb);
		e->m = *m;
	}
	return 0;
}
