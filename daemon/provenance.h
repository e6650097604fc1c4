/*
 * Provenance of a crawled item: how each of its bytes was fetched. A
 * capture records one libcurl transfer as it happens (through curl's
 * debug callback): per hop (the first request and every redirect) the
 * request head emberd sent and the response head as received, the peer's
 * address and the TLS session (version, cipher, the certificate chain the
 * server showed, whether or not it was trusted). A document gathers the
 * captures of one item and is stored as an ordinary object; the signed
 * catalog names it by its SHA-256, so nobody but the publisher can make
 * or alter one.
 *
 * What a document publishes follows [mirror] source_urls like the
 * catalog's "source": URLs and request targets lose userinfo always and
 * the query unless "full"; credentials in heads (Authorization, Cookie,
 * Set-Cookie, Proxy-Authorization) keep only their name; a proxy is
 * "via proxy", never its address. With "none" no document is made at
 * all: the origin's address, its certificate and its heads all name it.
 *
 * Format (docs/protocol.md, "Provenance"), keys in this order, compact:
 * {"version":1,"item":{"name","sha256","size"},"captures":[{"role",
 *  "date","hops":[{"uri","date","ip","port","tls":{"version","cipher",
 *  "chain_sha256","chain":[base64 DER...]},"request":base64,
 *  "response":base64}],"payload":{"sha256","size","range":[first,last]},
 *  "body":base64,"offset":N}]}
 */
#ifndef EMBERD_PROVENANCE_H
#define EMBERD_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "urls.h"

/*
 * Limits, and why:
 * - HEAD_MAX: a request or response head kept; a longer one is cut (and
 *   says so): libcurl refuses heads of more than 300 KiB anyway, and a
 *   hostile origin must not make a document huge.
 * - HOPS_MAX: the first request, the crawler's 5 redirects, and room for
 *   an interim exchange.
 * - CHAIN_MAX, CERT_MAX: certificates kept of a chain, and DER bytes of
 *   one.
 * - DOC_MAX: the reader refuses a larger document (what a follower gets
 *   from a peer is read whole into memory).
 * - BODY_MAX: a body kept inline (a playlist, a key): larger ones are
 *   items or stored objects of their own.
 */
#define PROV_HEAD_MAX		(64u * 1024)
#define PROV_HOPS_MAX		8
#define PROV_CHAIN_MAX		16
#define PROV_CERT_MAX		(64u * 1024)
#define PROV_DOC_MAX		(16u << 20)
#define PROV_BODY_MAX		(1u << 20)
#define PROV_VIA_PROXY		"via proxy"

enum prov_role {
	PROV_MEDIA,		/* an item's own bytes */
	PROV_PAGE,
	PROV_FEED,
	PROV_PLAYLIST,
	PROV_SEGMENT,
	PROV_KEY
};

struct prov_capture;

/* A capture of transfers of ROLE; NULL when out of memory. */
struct prov_capture *prov_new(enum prov_role role);

/*
 * Record E's transfer into C: sets E's debug callback (and verbose mode,
 * which feeds it; nothing is printed). VIA_PROXY: E goes through a
 * proxy, so the peer is recorded as "via proxy" and the exchange with
 * the proxy (CONNECT) is left out. C must outlive the transfer. Calling
 * it again for a new transfer of the same capture (a retry) starts the
 * capture over. 0, or -1 when curl refuses the options.
 */
int prov_attach(struct prov_capture *c, CURL *e, int via_proxy);

/* The bytes the capture delivered: the object SHA256 of SIZE bytes, and
 * for a resumed transfer the range FIRST..LAST of it this transfer
 * carried (LAST < FIRST: all of it). */
void prov_payload(struct prov_capture *c, const char *sha256, uint64_t size,
    uint64_t first, uint64_t last);

/* A small body kept in the document itself (at most PROV_BODY_MAX; more
 * is not kept). OFFSET: where a segment's bytes begin in the item. */
int prov_body(struct prov_capture *c, const void *buf, size_t len);
void prov_offset(struct prov_capture *c, uint64_t offset);

/* Hops recorded so far (0: nothing was sent). */
size_t prov_hops(const struct prov_capture *c);

/* The capture as a document's "captures" entry, redacted for MODE (not
 * NONE); NULL when out of memory. */
json_t *prov_capture_json(const struct prov_capture *c, enum source_urls mode);

void prov_free(struct prov_capture *c);

/* For tests and the fuzz target: feed the recorder as curl would. */
int prov_debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *arg);

/*
 * Rewrite a request (REQUEST 1) or response head for publication in a
 * heap buffer (*OUT, *OUTLEN): the request line's target and Location /
 * Content-Location values redacted like a URL for MODE, credential
 * headers' values replaced by "[redacted]", all else byte for byte.
 * Relative references stay relative. 0, or -1 (memory).
 */
int prov_redact_head(const unsigned char *head, size_t len, int request,
    enum source_urls mode, unsigned char **out, size_t *outlen);

/* ---- documents ---- */

/* {"version":1,"item":{...},"captures":[]}; NULL when out of memory. */
json_t *prov_doc_new(const char *name, const char *sha256, uint64_t size);

/* Append CAPTURE (reference stolen). 0, or -1. */
int prov_doc_add(json_t *doc, json_t *capture);

/* Give each certificate chain once: a hop whose chain an earlier hop of
 * DOC gave keeps only its chain_sha256 (an HLS capture's thousand
 * segments come over one connection). 0, or -1 out of memory. */
int prov_doc_compact(json_t *doc);

/* The bytes that are stored (compact, keys in order): heap, *LEN set. */
char *prov_doc_dump(const json_t *doc, size_t *len);

/*
 * Read a stored or received document, strictly: at most PROV_DOC_MAX
 * bytes, version 1, only the keys above with their types, hex digests,
 * valid base64 within the caps, each chain_sha256 the SHA-256 of its
 * chain, or of one an earlier hop gave. The document, or NULL with ERR
 * set.
 */
json_t *prov_doc_read(const char *buf, size_t len, char *err, size_t errlen);

/*
 * What the catalog item carries so that the index needs no document:
 * {"host","date","ip","tls","cert_sha256"} of the last hop of the first
 * capture (the item's own transfer), each key only when known. NULL when
 * out of memory or the document has no hop.
 */
json_t *prov_summary(const json_t *doc);

/* CAPS (captures of an item of SIZE bytes whose payloads carry only a
 * range so far) read back as a document would? 0, or -1 with ERR. */
int prov_caps_check(json_t *caps, uint64_t size, char *err, size_t errlen);

/*
 * Re-captures: the transfers of a re-crawl that found the same bytes at
 * the same URL. An unchanged pass publishes nothing (no new signature),
 * so they are kept beside the store's objects, unsigned and not
 * replicated, in STORE/recaptures/HEX.MODE.json (a document of this
 * format holding only them, the latest PROV_RECAPTURES_MAX, written
 * atomically; MODE "origin" or "full", the source_urls they were
 * redacted for), for the publisher's own WARC export (revisit records).
 */
#define PROV_RECAPTURE_DIR	"recaptures"
#define PROV_RECAPTURES_MAX	32
int prov_recapture_add(const char *root, const char *name, const char *hex, uint64_t size,
    const char *mode, json_t *caps, char *err, size_t errlen);
/* (store_remove_object removes them with their object.) The document
 * of HEX's re-captures redacted for MODE, or NULL (none, or
 * one that does not read back strictly). */
json_t *prov_recaptures_read(const char *root, const char *hex, const char *mode);

#endif
