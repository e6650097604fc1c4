/*
 * The HTML index at "/": every catalog item with name, type, human size,
 * SHA-256 and links (the file; .meta4 and .torrent too); <video controls>
 * or <audio controls> for media (they seek with Range requests); an
 * item's title, description, language and publication date when the
 * catalog has them; media grouped under the page or feed they were found
 * on, a derived copy beside its original (index_layout.h); the
 * catalog's description and other mirrors; the publisher's public key and the exact
 * commands to verify a download with minisign and sha256sum. No
 * JavaScript, no external resources, inline CSS only. Every string from
 * the catalog is HTML-escaped, and URL-escaped where it goes in a link.
 */

#ifndef EMBERD_INDEX_PAGE_H
#define EMBERD_INDEX_PAGE_H

#include <stddef.h>

#include <jansson.h>

struct index_page_info {
	json_t *catalog;	/* the parsed catalog (docs/protocol.md, "Catalog") */
	const char *pubkey;	/* minisign public key, "RW..." */
	const char *self_url;	/* [mirror] url, or NULL */
};

/* The page, malloc'd and NUL-terminated; *len is its length. NULL when
 * out of memory. O(n log n) time in the catalog's items (the grouping's
 * sorts) and memory linear in the page. */
char *index_page_render(const struct index_page_info *info, size_t *len);

/* Append S to BUF escaped for HTML text and attribute values
 * (& < > " '). Exposed for tests. Returns -1 when out of memory. */
struct index_buf {
	char *data;
	size_t len, cap;
};
int index_buf_html(struct index_buf *b, const char *s);
/* Percent-encode S as one URL path segment (RFC 3986 unreserved kept). */
int index_buf_url(struct index_buf *b, const char *s);

#endif
