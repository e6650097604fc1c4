/*
 * The HTML index at "/": every catalog item with name, type, human size,
 * SHA-256 and links (the file; .meta4 and .torrent too); <video controls>
 * or <audio controls> for media (they seek with Range requests); an
 * item's title, description, language and publication date when the
 * catalog has them; media grouped under the page or feed they were found
 * on, a derived copy beside its original (index_layout.h); the
 * catalog's description and other mirrors; the publisher's public key and the exact
 * commands to fetch the catalog and a file (curl, wget, aria2c) and to
 * verify them with minisign and sha256sum. In one of the languages of
 * index_strings.h, with links to the others; INDEX_PAGE_ITEMS items a
 * page, a search by name or title (a GET form). No JavaScript, no
 * external resources, inline CSS only, media players that load nothing
 * until played. Every string from the catalog is HTML-escaped, and
 * URL-escaped where it goes in a link.
 */

#ifndef EMBERD_INDEX_PAGE_H
#define EMBERD_INDEX_PAGE_H

#include <stddef.h>

#include <jansson.h>

#include "index_strings.h"

/* Items on a page; a group (a page or feed with its media) is not split
 * across pages unless it alone holds more. */
#define INDEX_PAGE_ITEMS	50

/* The longest search text (bytes) a reader may send. */
#define INDEX_QUERY_MAX		256

struct index_page_info {
	json_t *catalog;	/* the parsed catalog (docs/protocol.md, "Catalog") */
	const char *pubkey;	/* minisign public key, "RW..." */
	const char *self_url;	/* [mirror] url, or NULL */
	/* base64 SHA-256 of the certificate's public key when the mirror's
	 * certificate is self-signed: the commands pin it; NULL: plain
	 * commands (a CA-issued certificate, or plain HTTP) */
	const char *pin;
	int lang;		/* index in index_langs[] */
	const int *langs;	/* the languages to link to, in order */
	size_t n_langs;
	size_t page;		/* 1-based; past the last is the last */
	const char *query;	/* NULL or "": every item */
	/* A static export: the other pages and languages are files named by
	 * index_static_name, and there is no search (no server to ask). */
	int static_pages;
};

/* The file of page PAGE in language LANG of a static export whose first
 * language is FIRST: "index.html" for the first page in the first
 * language, else "index.TAG.html" or "index.TAG.N.html". */
void index_static_name(char *buf, size_t len, int first, int lang, size_t page);

/* The page, malloc'd and NUL-terminated; *len is its length. NULL when
 * out of memory. O(n log n) time in the catalog's items (the grouping's
 * sorts) and memory linear in the page. *PAGES (when not NULL) receives
 * the number of pages, at least 1. */
char *index_page_render(const struct index_page_info *info, size_t *len,
    size_t *pages);

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
