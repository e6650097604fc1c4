#ifndef EMBERD_HTTP_REQUEST_H
#define EMBERD_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/*
 * The untrusted parts of a request, parsed without any I/O so that they
 * can be unit-tested and fuzzed: the path (decoded and routed, never
 * mapped to a file), the Range header, the conditional headers and
 * Accept-Encoding; and, as pure, the status a failed open answers.
 * Nothing here allocates.
 */

enum http_route {
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_BAD,		/* 400: malformed request target */
	ROUTE_INDEX,		/* "/" */
	ROUTE_CATALOG,		/* "/catalog.json" */
	ROUTE_CATALOG_SIG,	/* "/catalog.json.minisig" */
	ROUTE_PUBKEY,		/* "/pubkey" */
	ROUTE_FILE,		/* "/files/NAME": arg = NAME, decoded and valid */
	ROUTE_META4,		/* "/files/NAME.meta4": arg = NAME (without .meta4) */
	ROUTE_TORRENT,		/* "/files/NAME.torrent": arg = NAME (without .torrent) */
	ROUTE_SHA256,		/* "/sha256/HEX": arg = 64 lowercase hex */
	ROUTE_HEALTHZ,		/* "/healthz" */
	ROUTE_METRICS,		/* "/metrics" */
	ROUTE_FEED,		/* "/feed.xml" */
};

/*
 * Route a request target (as sent: origin-form "/path?query"; the query
 * is left to the route: only "/" reads one, see lang_negotiate.h). ARG receives the decoded item name or hex (NUL-terminated,
 * at most ARGLEN - 1 bytes). A NAME must pass name_check() after
 * percent-decoding once; %2F, %00, "..", backslashes, overlong or invalid
 * UTF-8 make it ROUTE_NOT_FOUND (it can name no catalog item), malformed
 * percent-escapes or a target not starting with '/' ROUTE_BAD.
 */
enum http_route http_route(const char *target, char *arg, size_t arglen);

struct http_range {
	uint64_t first, last;	/* inclusive */
};

enum http_range_result {
	RANGE_NONE,		/* no Range header, or one to ignore: send 200 whole */
	RANGE_SINGLE,		/* one satisfiable range: 206 */
	RANGE_UNSATISFIABLE,	/* 416 with Content-Range: bytes * /SIZE */
};

/*
 * Parse a Range header value against an object of SIZE bytes (RFC 9110
 * 14.1.2): "bytes=a-b", "bytes=a-", "bytes=-n" (a suffix of n bytes).
 * Several ranges, other units or a malformed value give RANGE_NONE (the
 * whole object: allowed by RFC 9110). "a-b" with b >= SIZE is clipped;
 * a >= SIZE, or "-0", is unsatisfiable; b < a is malformed (ignored).
 * NULL header: RANGE_NONE.
 */
enum http_range_result http_range_parse(const char *value, uint64_t size,
    struct http_range *out);

/* If-None-Match (weak comparison, "*" matches, comma-separated list):
 * 1 when ETAG (with its quotes, e.g. "\"abc\"") matches. */
int http_if_none_match(const char *value, const char *etag);

/* If-Range: 1 when the range may be honoured, i.e. VALUE is a strong
 * entity tag equal to ETAG; a date or weak tag or anything else: 0. A
 * NULL value: 1. */
int http_if_range(const char *value, const char *etag);

/* Accept-Encoding (RFC 9110 12.5.3): 1 when gzip is acceptable with q>0,
 * either by name (gzip, x-gzip) or "*" not overridden. */
int http_accepts_gzip(const char *value);

/*
 * A request head: request line and header fields, up to and including
 * the empty line. Only what the server acts on is kept; every string
 * points into the buffer given to http_head_parse(), which is modified
 * (NUL-terminated in place).
 */
enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER,		/* a well-formed method we do not allow: 405 */
};

struct http_head {
	enum http_method method;
	const char *method_text;
	const char *target;
	int minor;		/* HTTP/1.MINOR: 0 or 1 (1.x above 1 counts as 1) */
	int keep_alive;		/* from the version and Connection */
	int has_body;		/* Content-Length > 0 or any Transfer-Encoding */
	const char *range;	/* each: NULL when absent; "" when sent twice */
	const char *if_none_match;
	const char *if_range;
	const char *accept_encoding;
	const char *accept_language;
	const char *host;	/* as sent: untrusted, check before use */
};

/*
 * Where the head in BUF (LEN bytes) ends: the offset just past the empty
 * line ("\r\n\r\n" or "\n\n"), or 0 when it is not all there yet.
 * Empty lines before the request line (RFC 9112 2.2) count as part of it.
 */
size_t http_head_end(const char *buf, size_t len);

/*
 * Parse the head in BUF[0..LEN) (LEN as returned by http_head_end).
 * 0: parsed into H. -1: malformed, answer 400 and close: a bad request
 * line or version, a field line without a colon or with whitespace before
 * it, a folded line, control characters, a bad or repeated
 * Content-Length.
 */
int http_head_parse(char *buf, size_t len, struct http_head *h);

/*
 * The status a reader gets when opening what it asked for failed with
 * ERRNUM, decided here alone (as OpenBSD httpd's server_file_access):
 * ENOENT 404 (listed but not on this mirror), EACCES and EPERM 403 (the
 * store's permissions are wrong), EMFILE and ENFILE 503 (out of
 * descriptors for now: send Retry-After), anything else 500.
 */
int http_errno_status(int errnum);

#endif
