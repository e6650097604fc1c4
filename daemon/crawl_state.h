/*
 * What the crawler keeps per source between passes, in STORE/crawl/:
 * ID.json (the validators and digest of the last good copy, for
 * conditional requests, and which URL and validator the kept bytes
 * belong to) and ID.part (a prefix of an unfinished transfer, for a
 * Range resume). Both are caches: lost or torn, they cost a download.
 */
#ifndef EMBERD_CRAWL_STATE_H
#define EMBERD_CRAWL_STATE_H

struct crawl_state {
	char *url;		/* that gave the last good copy */
	char *etag, *last_modified;
	char *sha256;		/* of the last good copy */
	char *name;		/* its item name (a 304 has no Content-Disposition) */
	char *part_url;		/* ID.part holds a prefix of this URL... */
	char *part_validator;	/* ...as of this ETag or Last-Modified ("hls" for a capture,
				 * whose segment boundaries are in ID.hls) */
	char *kind;		/* "page", "feed", "hls": what the URL gave last time */
	char *hls;		/* an HLS capture: the SHA-256 of the media playlist it
				 * was made from (an unchanged VOD playlist is not captured again) */
};

/* DIR/ID EXT (".json", ".part"), or NULL when out of memory. */
char *crawl_state_path(const char *dir, const char *id, const char *ext);

/* Read DIR/ID.json into S; missing or unreadable reads as empty. */
void crawl_state_load(const char *dir, const char *id, struct crawl_state *s);

/* Rewrite DIR/ID.json from S. -1 with errno on failure. */
int crawl_state_save(const char *dir, const char *id, const struct crawl_state *s);

void crawl_state_free(struct crawl_state *s);

/* *DST = a copy of V, or NULL when V is NULL or empty. */
void crawl_state_set(char **dst, const char *v);

/*
 * Remove PATH (in DIR) without holding the event loop: a large file is
 * renamed aside at once and unlinked by a WORKQ_UNLINK job (inline when
 * the work queue is not running).
 */
void crawl_state_unlink(const char *dir, const char *path);

/* Remove what an earlier process set aside in DIR and did not finish. */
void crawl_state_sweep(const char *dir);

#endif
