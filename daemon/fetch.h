/*
 * `emberd fetch`, the reader's client, in three parts: fetch.c (the
 * command line, the catalogs, one mirror at a time), fetch_ranges.c
 * (a large object in ranges from several mirrors at once) and
 * fetch_hash.c (the threads that hash the bytes as they land). A
 * follower's sync runs fetch_ranges too, on a worker (crawl_ranges.c),
 * with the fields of fetch_args marked for it.
 */
#ifndef EMBERD_FETCH_H
#define EMBERD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "minisign.h"
#include "peers.h"

#define FETCH_ERRLEN		512
#define FETCH_CONNECTIONS	4	/* --connections default */
#define FETCH_CONNECTIONS_MAX	64
#define FETCH_RANGES_MIN	(8u << 20)	/* smaller: one mirror at a time */

/* What the command line asks for. */
struct fetch_args {
	char **mirrors;		/* argv's strings */
	size_t n_mirrors;
	const char *pubkey, *out, *want, *proxy;
	int insecure;
	int connections;	/* --connections */
	/* A follower's sync uses fetch_ranges too: */
	const char *tag;	/* log lines start "TAG: " (NULL: "fetch") */
	const char *ca_file;	/* extra CAs, or NULL */
	const char *user_agent;	/* NULL: emberd-fetch */
	int no_proxy_env;	/* 1: curl's proxy variables do not apply */
	char *keytext;
	struct minisign_pubkey pk;
	char keyid[17];
};

struct fetch {
	const struct fetch_args *a;
	int rc;			/* the exit status when a step fails */
	struct peers ps;
	/* the item, from the newest catalog */
	const char *hex, *name, *out;
	char *part, *state;	/* OUT.part, OUT.part.state */
	/* the transfer */
	int fd;
	EVP_MD_CTX *sha;
	uint64_t have, size;
	int progress;		/* stderr is a terminal */
	const char *label;
	double t0, last_draw;
	uint64_t have0;		/* bytes at the start of this run */
	int too_much;
	long status;
	int started;		/* body bytes of this response seen */
	uint64_t start;		/* the Range asked for */
	CURL *easy;
	char why[FETCH_ERRLEN];	/* why the write callback refused */
	char content_range[96];
	char etag[200];
	uint64_t kept;		/* ranges: verified bytes left in OUT.part */
	volatile int *cancel;	/* ranges: stop when it turns non-zero */
};

double fetch_now(void);
/* The options every request of fetch shares (proxy, timeouts, TLS). */
int fetch_setup(const struct fetch *f, CURL *e);
/* The progress bar (on a terminal only); LAST ends its line. */
void fetch_draw(struct fetch *f, int last);
/* The rename of a verified OUT.part to OUT, durably. -1 logged. */
int fetch_install(struct fetch *f);
/* OUT.part emptied, the SHA-256 of fetch.c started afresh. */
int fetch_reset(struct fetch *f);

/*
 * Download f->size bytes of f->hex into f->part (open as f->fd) in
 * ranges over the mirrors with the newest catalog, checked piece by
 * piece against their Metalinks and as a whole against the catalog's
 * SHA-256. 0 verified and installed; -1 failed (logged, f->rc set);
 * 1 give up on ranges: OUT.part is reset, go one mirror at a time.
 */
int fetch_ranges(struct fetch *f);

/* Whether fetch_ranges is the way for this item: large enough, and more
 * than one connection asked for or a OUT.part.state left by a run that
 * used ranges. */
int fetch_ranges_wanted(const struct fetch *f);

/* ---- fetch_hash.c ---- */

struct fetch_hash;

/*
 * Threads that check the pieces of FD (SIZE bytes, pieces of PLEN)
 * handed to it with fetch_hash_push: against LIST (N SHA-1 digests) when
 * it is not NULL (at the lowest priority, and only while the SHA-256
 * waits for a piece: the SHA-256 decides, and a check only says where a
 * mirror lied), else each counts as good once written, and hash the file
 * with SHA-256 in file order, as far as the written pieces that did not
 * fail reach, so the whole-file hash is ready when the last piece is. A
 * failed check is woken to WAKE (curl_multi_wakeup); the others wait for
 * fetch_hash_result. NULL when out of memory or no threads.
 */
struct fetch_hash *fetch_hash_start(int fd, uint64_t size, uint32_t plen, size_t n,
    const uint8_t *list, CURLM *wake);
/* Piece I is written: check it. */
void fetch_hash_push(struct fetch_hash *h, size_t i);
/* A result: 1 with *I and *GOOD, 0 none yet, -1 a read failed (errno). */
int fetch_hash_result(struct fetch_hash *h, size_t *i, int *good);
/*
 * Every piece is written: wait for the SHA-256 of the whole file (not for
 * the checks). 0 with MD; 1 a piece failed its check and is to be fetched
 * again first (or one in the hash did: the hash starts over); -1 a read
 * failed.
 */
int fetch_hash_final(struct fetch_hash *h, unsigned char md[32]);
/* Wait until every piece handed over has been checked. */
void fetch_hash_checked(struct fetch_hash *h);
void fetch_hash_stop(struct fetch_hash *h);

#endif
