/*
 * `emberd export --warc`: the current catalog's items as WARC 1.1 records
 * (docs/protocol.md, "WARC export"). A crawled item's provenance document
 * gives back each exchange: per hop a response record (the head as
 * received, the payload from the store) and a request record; an item
 * without one (`emberd add`) is a resource record, a derived one and a
 * joined HLS capture a conversion record. Each item's catalog entry and
 * the signed catalog itself go in metadata records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "catalog.h"
#include "export.h"
#include "fsutil.h"
#include "hexutil.h"
#include "log.h"
#include "provenance.h"
#include "warc.h"

#define REVISIT_PROFILE \
	"http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

struct xw {
	struct store *st;
	struct warc *w;
	const char *url;
	json_t *seen;		/* "URI SHA256" -> [record id, date] */
	json_t *ids;		/* item sha256 -> [record id, uri] */
	char *err;
	size_t errlen;
};

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = (b->len + n + 1) * 2;
		unsigned char *q = realloc(b->p, c);
		if (q == NULL)
			return -1;
		b->p = q;
		b->cap = c;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
buf_fn(void *arg, const unsigned char *p, size_t n)
{
	struct buf *b = arg;

	if (b->len + n > PROV_DOC_MAX)
		return -1;
	return buf_add(b, p, n);
}

/* Base64 (checked by prov_doc_read) to bytes; NULL on memory. */
static unsigned char *
b64_dec(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *p = malloc(n / 4 * 3 + 1);
	int dl;

	if (p == NULL)
		return NULL;
	if ((dl = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n)) < 0) {
		free(p);
		return NULL;
	}
	if (n >= 1 && s[n - 1] == '=')
		dl--;
	if (n >= 2 && s[n - 2] == '=')
		dl--;
	*len = (size_t)dl;
	return p;
}

static void
sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char d[32];

	EVP_Digest(p, n, d, NULL, EVP_sha256(), NULL);
	hex_encode(d, 32, hex);
}

/* The value of header NAME in HEAD (its first line skipped), or NULL;
 * *VLEN its length. */
static const char *
head_get(const unsigned char *head, size_t len, const char *name, size_t *vlen)
{
	const char *s = (const char *)head, *e = s + len, *l, *nl;
	size_t nn = strlen(name);

	for (l = memchr(s, '\n', len); l != NULL && l + 1 < e; l = nl) {
		l++;
		if ((nl = memchr(l, '\n', (size_t)(e - l))) == NULL)
			nl = e;
		if ((size_t)(nl - l) > nn && strncasecmp(l, name, nn) == 0 && l[nn] == ':') {
			const char *v = l + nn + 1, *ve = nl;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		if (nl == e)
			break;
	}
	return NULL;
}

/* The line [L, E) begins with NAME (any case). */
static int
line_is(const char *l, const char *e, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(e - l) >= n && strncasecmp(l, name, n) == 0;
}

/* A copy of HEAD without the lines naming Content-Encoding,
 * Transfer-Encoding and Content-Length, and with Content-Length: N. */
static int
head_rewrite(const unsigned char *head, size_t len, uint64_t n, struct buf *out)
{
	const char *s = (const char *)head, *e = s + len, *l, *nl;
	char cl[48];
	int first = 1;

	for (l = s; l < e; l = nl) {
		nl = memchr(l, '\n', (size_t)(e - l));
		nl = nl == NULL ? e : nl + 1;
		if (!first && ((nl - l == 1 && l[0] == '\n') || (nl - l == 2 && l[0] == '\r'))) {
			snprintf(cl, sizeof(cl), "Content-Length: %llu\r\n", (unsigned long long)n);
			if (buf_add(out, cl, strlen(cl)) == -1 || buf_add(out, "\r\n", 2) == -1)
				return -1;
			return 0;
		}
		if (first || (!line_is(l, nl, "Content-Encoding:") &&
		    !line_is(l, nl, "Transfer-Encoding:") &&
		    !line_is(l, nl, "Content-Length:")))
			if (buf_add(out, l, (size_t)(nl - l)) == -1)
				return -1;
		first = 0;
	}
	/* A head cut short (or without its end): ended here. */
	if (out->len > 0 && out->p[out->len - 1] != '\n' && buf_add(out, "\r\n", 2) == -1)
		return -1;
	snprintf(cl, sizeof(cl), "Content-Length: %llu\r\n\r\n", (unsigned long long)n);
	return buf_add(out, cl, strlen(cl));
}

/* The last head of RESP (an interim 1xx may come first). */
static void
last_head(const unsigned char *resp, size_t len, size_t *off, size_t *hlen)
{
	size_t at = 0, i;

	*off = 0;
	*hlen = len;
	while (at < len) {
		for (i = at; i + 3 < len; i++)
			if (memcmp(resp + i, "\r\n\r\n", 4) == 0)
				break;
		if (i + 3 >= len) {
			*off = at;
			*hlen = len - at;
			return;
		}
		*off = at;
		*hlen = i + 4 - at;
		at = i + 4;
	}
}

int
export_warc_head(const unsigned char *resp, size_t len, int have_payload, uint64_t plen,
    unsigned char **out, size_t *outlen, const unsigned char **head, size_t *hlen,
    const char **note)
{
	struct buf b = { 0 };
	const char *v;
	size_t off, n, vl;
	int cut, coded = 0, chunked;

	*out = NULL;
	*outlen = 0;
	*note = NULL;
	last_head(resp, len, &off, &n);
	*head = resp + off;
	*hlen = n;
	if (n == 0)
		return 0;	/* nothing received: nothing to say */
	cut = n < 4 || memcmp(resp + off + n - 4, "\r\n\r\n", 4) != 0;
	if ((v = head_get(*head, n, "Content-Encoding", &vl)) != NULL)
		coded = !(vl == 8 && strncasecmp(v, "identity", 8) == 0);
	chunked = head_get(*head, n, "Transfer-Encoding", &vl) != NULL;
	/* curl hands over the content decoded (and de-chunked): the head
	 * must then say what the block holds. */
	if (have_payload && coded)
		*note = "content decoded by the crawler; Content-Encoding, "
		    "Transfer-Encoding and Content-Length of the head rewritten";
	else if (have_payload && chunked)
		*note = "transfer coding removed by the crawler; Transfer-Encoding and "
		    "Content-Length of the head rewritten";
	else if (cut)
		*note = "head cut by the crawler; Content-Length rewritten";
	else
		return 0;
	if (head_rewrite(*head, n, have_payload ? plen : 0, &b) == -1) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*outlen = b.len;
	*head = b.p;
	*hlen = b.len;
	return 0;
}

static int
status_code(const unsigned char *head, size_t len)
{
	const char *sp = memchr(head, ' ', len);

	if (sp == NULL || (size_t)(sp - (const char *)head) + 4 > len)
		return 0;
	return atoi(sp + 1);
}

struct payload_of {
	int have;
	struct warc_payload p;
	unsigned char *body;	/* decoded inline body, owned */
};

/*
 * What the last hop of capture C carried: the slice of the item its
 * payload names, its inline body, or a segment's bytes in the item (up
 * to the next segment's offset).
 */
static int
capture_payload(json_t *cap, json_t *caps, const char *item_hex, uint64_t item_size,
    struct payload_of *po)
{
	json_t *p = json_object_get(cap, "payload"), *b = json_object_get(cap, "body");
	const char *role = json_string_value(json_object_get(cap, "role"));
	json_t *o, *c;
	size_t i, n;

	memset(po, 0, sizeof(*po));
	if (p != NULL) {
		json_t *r = json_object_get(p, "range");
		po->have = 1;
		po->p.hex = json_string_value(json_object_get(p, "sha256"));
		if (r != NULL) {
			po->p.off = (uint64_t)json_integer_value(json_array_get(r, 0));
			po->p.len = (uint64_t)json_integer_value(json_array_get(r, 1)) -
			    po->p.off + 1;
		} else
			po->p.len = (uint64_t)json_integer_value(json_object_get(p, "size"));
		return 0;
	}
	if (b != NULL) {
		if ((po->body = b64_dec(json_string_value(b), &n)) == NULL)
			return -1;
		po->have = 1;
		po->p.buf = po->body;
		po->p.len = n;
		return 0;
	}
	if (role != NULL && strcmp(role, "segment") == 0 &&
	    (o = json_object_get(cap, "offset")) != NULL) {
		uint64_t off = (uint64_t)json_integer_value(o), end = item_size;
		json_array_foreach(caps, i, c) {
			json_t *oo = json_object_get(c, "offset");
			uint64_t v = (uint64_t)json_integer_value(oo);
			if (oo != NULL && v > off && v < end)
				end = v;
		}
		if (off <= item_size) {
			po->have = 1;
			po->p.hex = item_hex;
			po->p.off = off;
			po->p.len = end - off;
		}
	}
	return 0;
}

/* One hop's response and request records; *RESP_ID the response's. */
static int
write_hop(struct xw *x, json_t *hop, const struct payload_of *po, const char *role,
    int decrypted, char resp_id[WARC_ID_LEN])
{
	const char *uri = json_string_value(json_object_get(hop, "uri"));
	const char *date = json_string_value(json_object_get(hop, "date"));
	const char *ip = json_string_value(json_object_get(hop, "ip"));
	const char *rq = json_string_value(json_object_get(hop, "request"));
	const char *rs = json_string_value(json_object_get(hop, "response"));
	unsigned char *req = NULL, *resp = NULL;
	size_t reqlen = 0, resplen = 0, hlen, vl;
	const char *note = NULL;
	struct buf fixed = { 0 }, fields = { 0 };
	struct warc_rec r;
	const char *v;
	char line[1024], ph[65], *key = NULL;
	json_t *prev;
	int rc = -1, code, rewrite = 0;

	resp_id[0] = '\0';
	if (ip != NULL && strcmp(ip, PROV_VIA_PROXY) != 0) {
		snprintf(line, sizeof(line), "WARC-IP-Address: %s\r\n", ip);
		if (buf_add(&fields, line, strlen(line)) == -1)
			goto mem;
	}
	if (rq != NULL && (req = b64_dec(rq, &reqlen)) == NULL)
		goto mem;
	if (rs != NULL && (resp = b64_dec(rs, &resplen)) == NULL)
		goto mem;
	if (resp != NULL && resplen > 0) {
		const unsigned char *head;
		size_t head_len;
		size_t flen0 = fields.len;

		if (export_warc_head(resp, resplen, po != NULL, po != NULL ? po->p.len : 0,
		    &fixed.p, &fixed.len, &head, &head_len, &note) == -1)
			goto mem;
		hlen = head_len;
		code = status_code(head, hlen);
		rewrite = note != NULL;
		memset(&r, 0, sizeof(r));
		r.type = "response";
		r.uri = uri;
		r.date = date;
		r.content_type = "application/http;msgtype=response";
		/* An AES-128 stream's segments are kept decrypted. */
		if (note == NULL && decrypted && po != NULL && strcmp(role, "segment") == 0)
			note = "segment stored decrypted (AES-128): the payload is not the "
			    "bytes on the wire";
		if (note != NULL) {
			snprintf(line, sizeof(line), "WARC-Emberd-Note: %s\r\n", note);
			if (buf_add(&fields, line, strlen(line)) == -1)
				goto mem;
		}
		r.head = head;
		r.head_len = head_len;
		if (po != NULL) {
			r.payload = &po->p;
			r.payload_digest = 1;
		} else if (code == 204 || code == 304 || (code >= 100 && code < 200) ||
		    ((v = head_get(head, hlen, "Content-Length", &vl)) != NULL && vl == 1 &&
		    v[0] == '0'))
			r.payload_digest = 1;
		else if (buf_add(&fields, "WARC-Truncated: unspecified\r\n", 29) == -1)
			goto mem;
		/* The same bytes from the same URL again: a revisit. */
		if (po != NULL && uri != NULL && !rewrite) {
			if (po->p.buf != NULL || po->p.len == 0)
				sha256_hex(po->p.buf != NULL ? po->p.buf :
				    (const unsigned char *)"", (size_t)po->p.len, ph);
			else if (po->p.off == 0 && po->p.hex != NULL &&
			    json_is_string(json_object_get(hop, "uri")) &&
			    store_has_object(x->st, po->p.hex)) {
				struct object_meta m;
				char why[128];
				memset(&m, 0, sizeof(m));
				ph[0] = '\0';
				if (store_meta_read(x->st, po->p.hex, &m, why, sizeof(why)) == 0 &&
				    m.size == po->p.len)
					snprintf(ph, sizeof(ph), "%s", po->p.hex);
				store_meta_free(&m);
			} else
				ph[0] = '\0';
			if (ph[0] != '\0') {
				if (asprintf(&key, "%s %s", uri, ph) == -1)
					goto mem;
				if ((prev = json_object_get(x->seen, key)) != NULL) {
					snprintf(line, sizeof(line), "WARC-Profile: %s\r\n"
					    "WARC-Refers-To: %s\r\nWARC-Refers-To-Target-URI: %s\r\n"
					    "WARC-Refers-To-Date: %s\r\n"
					    "WARC-Payload-Digest: sha256:%s\r\n", REVISIT_PROFILE,
					    json_string_value(json_array_get(prev, 0)), uri,
					    json_string_value(json_array_get(prev, 1)), ph);
					if (buf_add(&fields, line, strlen(line)) == -1)
						goto mem;
					r.type = "revisit";
					r.payload = NULL;
					r.payload_digest = 0;
				}
			}
		}
		r.fields = fields.p != NULL ? (const char *)fields.p : NULL;
		if (warc_write(x->w, &r, x->err, x->errlen) == -1)
			goto out;
		memcpy(resp_id, r.id, WARC_ID_LEN);
		if (key != NULL && strcmp(r.type, "response") == 0 &&
		    json_object_set_new(x->seen, key, json_pack("[s, s]", r.id,
		    date != NULL ? date : "")) == -1)
			goto mem;
		fields.len = flen0;
		if (fields.p != NULL)
			fields.p[flen0] = '\0';
	}
	if (req != NULL && reqlen > 0) {
		memset(&r, 0, sizeof(r));
		r.type = "request";
		r.uri = uri;
		r.date = date;
		r.content_type = "application/http;msgtype=request";
		if (resp_id[0] != '\0') {
			snprintf(line, sizeof(line), "WARC-Concurrent-To: %s\r\n", resp_id);
			if (buf_add(&fields, line, strlen(line)) == -1)
				goto mem;
		}
		r.fields = fields.p != NULL ? (const char *)fields.p : NULL;
		r.head = req;
		r.head_len = reqlen;
		r.payload_digest = 1;
		if (warc_write(x->w, &r, x->err, x->errlen) == -1)
			goto out;
	}
	rc = 0;
	goto out;
mem:
	snprintf(x->err, x->errlen, "out of memory");
out:
	free(key);
	free(req);
	free(resp);
	free(fixed.p);
	free(fields.p);
	return rc;
}

/* The captures of a provenance document; *MAIN the record id of the
 * item's own response (a media or page capture's, else a playlist's). */
static int
write_doc(struct xw *x, json_t *doc, const char *hex, uint64_t size, char main_id[WARC_ID_LEN],
    char **main_uri, int *hls)
{
	json_t *caps = json_object_get(doc, "captures"), *cap, *hops, *hop;
	size_t i, j;
	char id[WARC_ID_LEN];
	int decrypted = 0;

	json_array_foreach(caps, i, cap)
		if (strcmp(json_string_value(json_object_get(cap, "role")), "key") == 0)
			decrypted = 1;
	main_id[0] = '\0';
	*main_uri = NULL;
	*hls = 0;
	json_array_foreach(caps, i, cap) {
		const char *role = json_string_value(json_object_get(cap, "role"));
		struct payload_of po;
		if (strcmp(role, "playlist") == 0 || strcmp(role, "segment") == 0 ||
		    strcmp(role, "key") == 0)
			*hls = 1;
		if (capture_payload(cap, caps, hex, size, &po) == -1) {
			snprintf(x->err, x->errlen, "out of memory");
			return -1;
		}
		hops = json_object_get(cap, "hops");
		json_array_foreach(hops, j, hop) {
			int last = j + 1 == json_array_size(hops);
			if (write_hop(x, hop, last && po.have ? &po : NULL, role, decrypted, id) == -1) {
				free(po.body);
				return -1;
			}
			if (last && main_id[0] == '\0' && id[0] != '\0' &&
			    (strcmp(role, "media") == 0 || strcmp(role, "playlist") == 0 ||
			    (strcmp(role, "page") == 0 && po.p.hex != NULL))) {
				memcpy(main_id, id, WARC_ID_LEN);
				free(*main_uri);
				*main_uri = strdup(json_string_value(json_object_get(hop, "uri")));
			}
		}
		free(po.body);
	}
	return 0;
}

static json_t *
read_doc(struct xw *x, const char *phex)
{
	struct buf b = { 0 };
	char why[256];
	json_t *doc;

	if (store_read_object(x->st, phex, buf_fn, &b, why, sizeof(why)) != 0) {
		snprintf(x->err, x->errlen, "provenance %s: %s", phex, why);
		free(b.p);
		return NULL;
	}
	doc = prov_doc_read(b.p != NULL ? (const char *)b.p : "", b.len, why, sizeof(why));
	if (doc == NULL)
		snprintf(x->err, x->errlen, "provenance %s: %s", phex, why);
	free(b.p);
	return doc;
}

/* files/NAME under the mirror's URL, or urn:sha256:HEX. */
static char *
item_uri(struct xw *x, const char *name, const char *hex)
{
	static const char hexd[] = "0123456789ABCDEF";
	struct buf b = { 0 };
	const unsigned char *p;

	if (x->url == NULL) {
		char *s;
		return asprintf(&s, "urn:sha256:%s", hex) == -1 ? NULL : s;
	}
	if (buf_add(&b, x->url, strlen(x->url)) == -1 || buf_add(&b, "files/", 6) == -1)
		goto fail;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		char e[3] = { '%', hexd[*p >> 4], hexd[*p & 15] };
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;
		if (buf_add(&b, plain ? (const char *)p : e, plain ? 1 : 3) == -1)
			goto fail;
	}
	return (char *)b.p;
fail:
	free(b.p);
	return NULL;
}

/*
 * The re-captures of the item's bytes (provenance.h) after the signed
 * captures, redacted for the same source_urls as the signed document:
 * the same URL and payload again, they become revisit records.
 */
static void
add_recaptures(struct xw *x, json_t *item, json_t *doc, const char *hex)
{
	const char *mode = json_string_value(json_object_get(json_object_get(item,
	    "provenance"), "source_urls"));
	json_t *re;

	if (mode == NULL || (re = prov_recaptures_read(x->st->root, hex, mode)) == NULL)
		return;
	json_array_extend(json_object_get(doc, "captures"), json_object_get(re, "captures"));
	json_decref(re);
}

static int
write_item(struct xw *x, json_t *item)
{
	const char *hex = json_string_value(json_object_get(item, "sha256"));
	const char *name = json_string_value(json_object_get(item, "name"));
	const char *type = json_string_value(json_object_get(item, "type"));
	const char *from = json_string_value(json_object_get(item, "derived_from"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(item, "size"));
	const char *phex;
	uint64_t psize;
	struct warc_payload pl = { .hex = hex, .off = 0, .len = size };
	struct warc_rec r;
	char main_id[WARC_ID_LEN], line[512], *uri = NULL, *js = NULL;
	json_t *doc = NULL, *orig;
	int hls = 0, rc = -1;

	main_id[0] = '\0';
	if (type == NULL)
		type = "application/octet-stream";
	if (catalog_item_provenance(item, &phex, &psize) == 0) {
		if ((doc = read_doc(x, phex)) == NULL)
			goto out;
		add_recaptures(x, item, doc, hex);
		if (write_doc(x, doc, hex, size, main_id, &uri, &hls) == -1)
			goto out;
	}
	memset(&r, 0, sizeof(r));
	r.content_type = type;
	r.payload = &pl;
	r.payload_digest = 1;
	if (hls || (from != NULL && (orig = json_object_get(x->ids, from)) != NULL)) {
		/* Bytes made from other records: the joined segments, a remux. */
		r.type = "conversion";
		if (hls) {
			snprintf(line, sizeof(line), "WARC-Refers-To: %s\r\n", main_id);
		} else {
			free(uri);
			uri = strdup(json_string_value(json_array_get(orig, 1)));
			snprintf(line, sizeof(line), "WARC-Refers-To: %s\r\n",
			    json_string_value(json_array_get(orig, 0)));
		}
		r.fields = main_id[0] != '\0' || !hls ? line : NULL;
		if (uri == NULL && (uri = item_uri(x, name, hex)) == NULL)
			goto mem;
		r.uri = uri;
		if (warc_write(x->w, &r, x->err, x->errlen) == -1)
			goto out;
		memcpy(main_id, r.id, WARC_ID_LEN);
	} else if (main_id[0] == '\0') {
		/* Added from a file (or its capture is not in the document). */
		r.type = "resource";
		free(uri);
		if ((uri = item_uri(x, name, hex)) == NULL)
			goto mem;
		r.uri = uri;
		if (warc_write(x->w, &r, x->err, x->errlen) == -1)
			goto out;
		memcpy(main_id, r.id, WARC_ID_LEN);
	}
	if (uri == NULL && (uri = item_uri(x, name, hex)) == NULL)
		goto mem;
	if (json_object_set_new(x->ids, hex, json_pack("[s, s]", main_id, uri)) == -1)
		goto mem;
	/* The catalog entry, for what the archive alone cannot say. */
	if ((js = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto mem;
	memset(&r, 0, sizeof(r));
	r.type = "metadata";
	r.uri = uri;
	r.content_type = "application/json";
	snprintf(line, sizeof(line), "WARC-Refers-To: %s\r\n", main_id);
	r.fields = line;
	r.head = (const unsigned char *)js;
	r.head_len = strlen(js);
	if (warc_write(x->w, &r, x->err, x->errlen) == -1)
		goto out;
	rc = 0;
	goto out;
mem:
	snprintf(x->err, x->errlen, "out of memory");
out:
	free(js);
	free(uri);
	json_decref(doc);
	return rc;
}

/* The signed catalog as two metadata records. */
static int
write_catalog(struct xw *x, const char *cat, size_t clen, const char *sig, size_t slen)
{
	struct warc_rec r;
	char hex[65], *uri = NULL, line[128];
	int t;

	for (t = 0; t < 2; t++) {
		memset(&r, 0, sizeof(r));
		r.type = "metadata";
		r.content_type = t == 0 ? "application/json" : "text/plain";
		if (x->url != NULL)
			t = asprintf(&uri, "%scatalog.json%s", x->url, t == 0 ? "" : ".minisig") ==
			    -1 ? -1 : t;
		else {
			sha256_hex(t == 0 ? cat : sig, t == 0 ? clen : slen, hex);
			t = asprintf(&uri, "urn:sha256:%s", hex) == -1 ? -1 : t;
		}
		if (t == -1) {
			snprintf(x->err, x->errlen, "out of memory");
			return -1;
		}
		snprintf(line, sizeof(line), "WARC-Emberd-Note: %s\r\n", t == 0 ?
		    "the signed catalog" : "the catalog's minisign signature");
		r.fields = line;
		r.uri = uri;
		r.head = (const unsigned char *)(t == 0 ? cat : sig);
		r.head_len = t == 0 ? clen : slen;
		if (warc_write(x->w, &r, x->err, x->errlen) == -1) {
			free(uri);
			return -1;
		}
		free(uri);
		uri = NULL;
	}
	return 0;
}

int
export_warc(struct store *st, const char *out, const char *url, char *err, size_t errlen)
{
	struct xw x;
	char *jp, *sp, *cat = NULL, *sig = NULL, *info = NULL, why[256];
	size_t clen = 0, slen = 0, i;
	json_t *c = NULL, *items, *v;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	x.st = st;
	x.url = url;
	x.err = err;
	x.errlen = errlen;
	jp = catalog_current_path(st, "catalog.json");
	sp = catalog_current_path(st, "catalog.json.minisig");
	if (jp == NULL || sp == NULL) {
		snprintf(err, errlen, "%s: no catalog yet: publish one first", st->root);
		goto out;
	}
	if (fsutil_read_file(jp, CATALOG_MAX_BYTES, &cat, &clen) == -1 ||
	    fsutil_read_file(sp, 65536, &sig, &slen) == -1) {
		snprintf(err, errlen, "%s: %s", jp, strerror(errno));
		goto out;
	}
	if ((c = catalog_parse(cat, clen, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", jp, why);
		goto out;
	}
	if ((x.seen = json_object()) == NULL || (x.ids = json_object()) == NULL ||
	    asprintf(&info, "software: emberd/%s\r\nformat: WARC File Format 1.1\r\n"
	    "conformsTo: http://iipc.github.io/warc-specifications/specifications/"
	    "warc-format/warc-1.1/\r\ndescription: catalog sequence %lld%s%s\r\n",
	    EMBERD_VERSION, (long long)json_integer_value(json_object_get(c, "sequence")),
	    url != NULL ? " of " : "", url != NULL ? url : "") == -1) {
		info = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((x.w = warc_open(out, st, info, err, errlen)) == NULL)
		goto out;
	items = json_object_get(c, "items");
	json_array_foreach(items, i, v)
		if (write_item(&x, v) == -1)
			goto out;
	if (write_catalog(&x, cat, clen, sig, slen) == -1)
		goto out;
	i = warc_records(x.w);
	if (warc_close(x.w, err, errlen) == -1) {
		x.w = NULL;
		goto out;
	}
	x.w = NULL;
	log_info("export: catalog sequence %lld, %zu items, %zu WARC records in %s",
	    (long long)json_integer_value(json_object_get(c, "sequence")),
	    json_array_size(items), i, out);
	rc = 0;
out:
	warc_abort(x.w);
	json_decref(x.seen);
	json_decref(x.ids);
	json_decref(c);
	free(info);
	free(cat);
	free(sig);
	free(jp);
	free(sp);
	return rc;
}
