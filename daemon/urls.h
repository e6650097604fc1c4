/*
 * What of an origin's or a peer's URL others get to see. A configured
 * URL may carry secrets: a user and password (https://user:pass@host/),
 * a signed query (?X-Amz-Signature=..., ?token=...). emberd downloads
 * with the URL as written, but publishes it in the catalog only as far
 * as [mirror] source_urls allows, and writes it to logs without
 * userinfo or query at all. Parsing and rebuilding is libcurl's URL API
 * (curl_url), never hand-written.
 */
#ifndef EMBERD_URLS_H
#define EMBERD_URLS_H

#include <stddef.h>

/* [mirror] source_urls: what an item's catalog "source" keeps. */
enum source_urls {
	SOURCE_URLS_ORIGIN,	/* scheme://host[:port]/path (the default) */
	SOURCE_URLS_FULL,	/* that and the ?query */
	SOURCE_URLS_NONE	/* no "source" key at all */
};

/* "origin", "full", "none" into *OUT: 0, or -1 for anything else. */
int url_source_urls_parse(const char *s, enum source_urls *out);

/*
 * URL as MODE publishes it: never userinfo (user, password, login
 * options) nor fragment; the query only with SOURCE_URLS_FULL. A heap
 * string (free()), "" for "" or a URL libcurl cannot parse (whatever it
 * holds is not published), NULL when out of memory. MODE NONE is the
 * caller's to act on (it drops the key); here it reads as ORIGIN.
 */
char *url_redact(const char *url, enum source_urls mode);

/*
 * URL for a log line or an error message, in BUF of LEN bytes:
 * scheme://host[:port]/path, and "?…" when it had a query. Userinfo,
 * query and fragment are never written; a URL libcurl cannot parse is
 * shown as "(unparsable URL)". Cut with "…" when longer than BUF.
 * Returns BUF. Costs a parse (an allocation or two): for messages only.
 */
/*
 * 1 when URL is an http(s) URL on a v3 onion service (56 base32
 * characters, then ".onion"), without userinfo, query or fragment: what
 * `[mirror] onion` may name. Else 0.
 */
int url_is_onion(const char *url);

#define URL_SHOW_MAX	512
const char *url_show(const char *url, char *buf, size_t len);

#endif
