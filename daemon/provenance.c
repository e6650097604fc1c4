/*
 * Provenance captures and documents (see provenance.h): the recorder on
 * libcurl's debug callback, the redaction of what it recorded, and the
 * strict reader of documents a follower gets from a peer.
 */
#include "provenance.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "fsutil.h"
#include "hexutil.h"

#define PROV_URI_MAX		8192
#define PROV_CAPTURES_MAX	(1u << 20)

struct prov_hop {
	char *uri;		/* as requested: redacted when published */
	char date[40];
	char ip[64];
	long port;
	int tls;		/* the fields below are known */
	char version[32];
	char cipher[128];
	char chain_sha256[65];
	json_t *chain;		/* base64 DER of each certificate, leaf first */
	unsigned char *req, *resp;
	size_t req_len, resp_len;
	int cut;		/* a head was longer than PROV_HEAD_MAX */
	int resp_seen;		/* the response began: the next request is a new hop */
};

struct prov_capture {
	enum prov_role role;
	int via_proxy;
	int tunnel;		/* inside the exchange with a proxy (CONNECT) */
	int dropping;		/* a hop past PROV_HOPS_MAX: not kept */
	struct prov_hop hops[PROV_HOPS_MAX];
	size_t n;
	int has_payload;
	char sha256[65];
	uint64_t size, first, last;
	unsigned char *body;
	size_t body_len;
	int has_offset;
	uint64_t offset;
};

static const char *const role_names[] = {
	[PROV_MEDIA] = "media",
	[PROV_PAGE] = "page",
	[PROV_FEED] = "feed",
	[PROV_PLAYLIST] = "playlist",
	[PROV_SEGMENT] = "segment",
	[PROV_KEY] = "key",
};

/* ---- recording ---- */

struct prov_capture *
prov_new(enum prov_role role)
{
	struct prov_capture *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->role = role;
	return c;
}

static void
prov_hop_clear(struct prov_hop *h)
{
	free(h->uri);
	free(h->req);
	free(h->resp);
	json_decref(h->chain);
	memset(h, 0, sizeof(*h));
}

static void
prov_reset(struct prov_capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		prov_hop_clear(&c->hops[i]);
	c->n = 0;
	c->tunnel = 0;
	c->dropping = 0;
	c->has_payload = 0;
	c->has_offset = 0;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
}

void
prov_free(struct prov_capture *c)
{
	if (c == NULL)
		return;
	prov_reset(c);
	free(c);
}

size_t
prov_hops(const struct prov_capture *c)
{
	return c->n;
}

/* RFC 3339, UTC, microseconds: the WARC-Date of a later export. */
static void
prov_now(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char s[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", s, (long)tv.tv_usec);
}

/* Append up to the cap; what is left out is only counted as a cut. */
static void
prov_append(unsigned char **p, size_t *len, int *cut, const char *data, size_t n)
{
	unsigned char *q;

	if (*len + n > PROV_HEAD_MAX) {
		*cut = 1;
		n = PROV_HEAD_MAX - *len;
	}
	if (n == 0)
		return;
	if ((q = realloc(*p, *len + n)) == NULL) {
		*cut = 1;
		return;
	}
	memcpy(q + *len, data, n);
	*p = q;
	*len += n;
}

static char *
prov_b64(const unsigned char *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s != NULL)
		EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* The TLS session the hop's response came over: OpenSSL's, as libcurl
 * gives it while the transfer runs. The chain is the one the server
 * showed, trusted or not (tls_verify = no, a private CA). */
static void
prov_tls(struct prov_hop *h, CURL *e)
{
	struct curl_tlssessioninfo *ti = NULL;
	STACK_OF(X509) *sk;
	SSL *ssl;
	EVP_MD_CTX *md = NULL;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int diglen = 0;
	const char *s;

	if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || ti == NULL ||
	    ti->backend != CURLSSLBACKEND_OPENSSL || ti->internals == NULL)
		return;
	ssl = ti->internals;
	if (!SSL_is_init_finished(ssl))
		return;
	s = SSL_get_version(ssl);
	snprintf(h->version, sizeof(h->version), "%s", s != NULL ? s : "");
	s = SSL_get_cipher_name(ssl);
	snprintf(h->cipher, sizeof(h->cipher), "%s", s != NULL ? s : "");
	h->tls = 1;
	if ((sk = SSL_get_peer_cert_chain(ssl)) == NULL ||
	    (h->chain = json_array()) == NULL || (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto done;
	for (int i = 0; i < sk_X509_num(sk) && i < PROV_CHAIN_MAX; i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(sk_X509_value(sk, i), &der);
		char *b;
		if (n <= 0)
			continue;
		EVP_DigestUpdate(md, der, (size_t)n);
		if ((size_t)n <= PROV_CERT_MAX && (b = prov_b64(der, (size_t)n)) != NULL) {
			json_array_append_new(h->chain, json_string(b));
			free(b);
		}
		OPENSSL_free(der);
	}
	if (EVP_DigestFinal_ex(md, dig, &diglen) == 1 && diglen == 32)
		hex_encode(dig, 32, h->chain_sha256);
done:
	EVP_MD_CTX_free(md);
}

/* The peer and the session, once per hop, when its response begins. */
static void
prov_peer(struct prov_capture *c, struct prov_hop *h, CURL *e)
{
	char *ip = NULL;

	if (e == NULL)
		return;
	if (!c->via_proxy) {
		if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL)
			snprintf(h->ip, sizeof(h->ip), "%s", ip);
		curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &h->port);
	}
	prov_tls(h, e);
}

int
prov_debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	struct prov_capture *c = arg;
	struct prov_hop *h;

	if (type == CURLINFO_HEADER_OUT) {
		if (size >= 8 && memcmp(data, "CONNECT ", 8) == 0) {
			/* The proxy's tunnel: not the origin's exchange. */
			c->tunnel = 1;
			return 0;
		}
		if (c->n == 0 || c->hops[c->n - 1].resp_seen) {
			char *u = NULL;
			if (c->n == PROV_HOPS_MAX) {
				c->dropping = 1;
				return 0;
			}
			h = &c->hops[c->n++];
			if (e != NULL && curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &u) ==
			    CURLE_OK && u != NULL)
				h->uri = strdup(u);
			prov_now(h->date, sizeof(h->date));
		}
		h = &c->hops[c->n - 1];
		if (!h->resp_seen)
			prov_append(&h->req, &h->req_len, &h->cut, data, size);
	} else if (type == CURLINFO_HEADER_IN) {
		if (c->tunnel) {
			/* The blank line ends the proxy's answer. */
			if ((size == 2 && memcmp(data, "\r\n", 2) == 0) ||
			    (size == 1 && data[0] == '\n'))
				c->tunnel = 0;
			return 0;
		}
		if (c->n == 0 || c->dropping)
			return 0;
		h = &c->hops[c->n - 1];
		if (!h->resp_seen) {
			h->resp_seen = 1;
			prov_peer(c, h, e);
		}
		prov_append(&h->resp, &h->resp_len, &h->cut, data, size);
	}
	return 0;
}

int
prov_attach(struct prov_capture *c, CURL *e, int via_proxy)
{
	prov_reset(c);
	c->via_proxy = via_proxy;
	if (curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, prov_debug_cb) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DEBUGDATA, c) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L) != CURLE_OK)
		return -1;
	return 0;
}

void
prov_payload(struct prov_capture *c, const char *sha256, uint64_t size, uint64_t first,
    uint64_t last)
{
	c->has_payload = 1;
	snprintf(c->sha256, sizeof(c->sha256), "%s", sha256);
	c->size = size;
	c->first = first;
	c->last = last;
}

int
prov_body(struct prov_capture *c, const void *buf, size_t len)
{
	unsigned char *p;

	if (len > PROV_BODY_MAX)
		return -1;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	memcpy(p, buf, len);
	free(c->body);
	c->body = p;
	c->body_len = len;
	return 0;
}

void
prov_offset(struct prov_capture *c, uint64_t offset)
{
	c->has_offset = 1;
	c->offset = offset;
}

/* ---- redaction ---- */

/* A URL or a request target as MODE publishes it: absolute ones through
 * url_redact, relative ones (a path, "?query") without the query unless
 * "full"; never a fragment. Heap; NULL when out of memory. */
static char *
prov_redact_ref(const char *ref, size_t len, enum source_urls mode)
{
	char *s, *r;

	if ((s = strndup(ref, len)) == NULL)
		return NULL;
	if (strstr(s, "://") != NULL || strncmp(s, "//", 2) == 0) {
		r = url_redact(s, mode);
		free(s);
		return r;
	}
	s[strcspn(s, mode == SOURCE_URLS_FULL ? "#" : "?#")] = '\0';
	return s;
}

static int
prov_is(const char *line, size_t namelen, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strlen(*names) == namelen && strncasecmp(line, *names, namelen) == 0)
			return 1;
	return 0;
}

struct prov_buf {
	unsigned char *p;
	size_t len, cap;
};

static int
prov_put(struct prov_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 256;
		unsigned char *q = realloc(b->p, cap);
		if (q == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
prov_redact_head(const unsigned char *head, size_t len, int request, enum source_urls mode, unsigned char **out, size_t *outlen)
{
	static const char *const secret_req[] = { "authorization", "proxy-authorization",
	    "cookie", NULL };
	static const char *const secret_resp[] = { "set-cookie", "set-cookie2",
	    "www-authenticate", NULL };
	static const char *const urls_resp[] = { "location", "content-location", NULL };
	struct prov_buf b = { NULL, 0, 0 };
	const char *s = (const char *)head, *end = len > 0 ? s + len : s;
	int first = 1, hidden = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl + 1 : end;
		size_t body = (size_t)(eol - s);	/* the line without its ending */
		const char *colon;
		char *r = NULL;
		int rc = 0;

		while (body > 0 && (s[body - 1] == '\n' || s[body - 1] == '\r'))
			body--;
		colon = memchr(s, ':', body);
		if (body > 0 && (s[0] == ' ' || s[0] == '\t') && !first) {
			/* A folded continuation belongs to the header above. */
			if (!hidden)
				rc = prov_put(&b, s, (size_t)(eol - s));
		} else if (request && first && body > 0) {
			/* METHOD SP target SP version */
			const char *sp1 = memchr(s, ' ', body);
			const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ',
			    body - (size_t)(sp1 + 1 - s)) : NULL;
			if (sp2 == NULL)
				sp2 = s + body;
			if (sp1 == NULL || (r = prov_redact_ref(sp1 + 1,
			    (size_t)(sp2 - sp1 - 1), mode)) == NULL) {
				rc = sp1 == NULL ? prov_put(&b, s, (size_t)(eol - s)) : -1;
			} else {
				rc = prov_put(&b, s, (size_t)(sp1 + 1 - s)) == -1 ||
				    prov_put(&b, r, strlen(r)) == -1 ||
				    prov_put(&b, sp2, (size_t)(eol - sp2)) == -1 ? -1 : 0;
			}
			hidden = 0;
		} else if (colon != NULL && prov_is(s, (size_t)(colon - s),
		    request ? secret_req : secret_resp)) {
			static const char red[] = ": [redacted]";
			rc = prov_put(&b, s, (size_t)(colon - s)) == -1 ||
			    prov_put(&b, red, sizeof(red) - 1) == -1 ||
			    prov_put(&b, s + body, (size_t)(eol - s) - body) == -1 ? -1 : 0;
			hidden = 1;
		} else if (!request && colon != NULL && prov_is(s, (size_t)(colon - s),
		    urls_resp)) {
			const char *v = colon + 1;
			while (v < s + body && (*v == ' ' || *v == '\t'))
				v++;
			if ((r = prov_redact_ref(v, (size_t)(s + body - v), mode)) == NULL)
				rc = -1;
			else
				rc = prov_put(&b, s, (size_t)(v - s)) == -1 ||
				    prov_put(&b, r, strlen(r)) == -1 ||
				    prov_put(&b, s + body, (size_t)(eol - s) - body) == -1 ?
				    -1 : 0;
			hidden = 1;	/* a folded rest of a URL is dropped too */
		} else {
			rc = prov_put(&b, s, (size_t)(eol - s));
			hidden = 0;
		}
		free(r);
		if (rc == -1) {
			free(b.p);
			return -1;
		}
		/* Each response of a hop (an interim 1xx, then the final one)
		 * starts with its status line. */
		first = body == 0;
		s = eol;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* ---- the document entry ---- */

static int
prov_set_b64(json_t *o, const char *key, const unsigned char *p, size_t n)
{
	char *s = prov_b64(p != NULL ? p : (const unsigned char *)"", n);
	int rc;

	if (s == NULL)
		return -1;
	rc = json_object_set_new(o, key, json_string(s));
	free(s);
	return rc;
}

static json_t *
prov_hop_json(const struct prov_capture *c, const struct prov_hop *h, enum source_urls mode)
{
	json_t *o = json_object();
	unsigned char *red = NULL;
	size_t redlen = 0;
	char *u = NULL;

	if (o == NULL)
		return NULL;
	if (h->uri != NULL) {
		if ((u = url_redact(h->uri, mode)) == NULL)
			goto fail;
		if (u[0] != '\0' && json_object_set_new(o, "uri", json_string(u)) == -1)
			goto fail;
	}
	if (json_object_set_new(o, "date", json_string(h->date)) == -1)
		goto fail;
	if (c->via_proxy) {
		if (json_object_set_new(o, "ip", json_string(PROV_VIA_PROXY)) == -1)
			goto fail;
	} else if (h->ip[0] != '\0') {
		if (json_object_set_new(o, "ip", json_string(h->ip)) == -1 ||
		    (h->port > 0 && json_object_set_new(o, "port", json_integer(h->port)) == -1))
			goto fail;
	}
	if (h->tls) {
		json_t *t = json_pack("{s:s, s:s}", "version", h->version, "cipher", h->cipher);
		if (t == NULL || json_object_set_new(o, "tls", t) == -1)
			goto fail;
		if (h->chain != NULL && json_array_size(h->chain) > 0 &&
		    (json_object_set_new(t, "chain_sha256", json_string(h->chain_sha256)) == -1 ||
		    json_object_set(t, "chain", h->chain) == -1))
			goto fail;
	}
	if (prov_redact_head(h->req, h->req_len, 1, mode, &red, &redlen) == -1 ||
	    prov_set_b64(o, "request", red, redlen) == -1)
		goto fail;
	free(red);
	red = NULL;
	if (prov_redact_head(h->resp, h->resp_len, 0, mode, &red, &redlen) == -1 ||
	    prov_set_b64(o, "response", red, redlen) == -1)
		goto fail;
	if (h->cut && json_object_set_new(o, "cut", json_true()) == -1)
		goto fail;
	free(red);
	free(u);
	return o;
fail:
	free(red);
	free(u);
	json_decref(o);
	return NULL;
}

json_t *
prov_capture_json(const struct prov_capture *c, enum source_urls mode)
{
	json_t *o = json_object(), *hops = json_array();

	if (o == NULL || hops == NULL)
		goto fail;
	if (json_object_set_new(o, "role", json_string(role_names[c->role])) == -1 ||
	    json_object_set_new(o, "date", json_string(c->n > 0 ? c->hops[0].date : "")) == -1)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		json_t *h = prov_hop_json(c, &c->hops[i], mode);
		if (h == NULL || json_array_append_new(hops, h) == -1)
			goto fail;
	}
	if (json_object_set(o, "hops", hops) == -1)
		goto fail;
	if (c->has_payload) {
		json_t *p = json_pack("{s:s, s:I}", "sha256", c->sha256, "size",
		    (json_int_t)c->size);
		if (p == NULL || json_object_set_new(o, "payload", p) == -1)
			goto fail;
		if (c->last >= c->first && json_object_set_new(p, "range",
		    json_pack("[I, I]", (json_int_t)c->first, (json_int_t)c->last)) == -1)
			goto fail;
	}
	if (c->body != NULL && prov_set_b64(o, "body", c->body, c->body_len) == -1)
		goto fail;
	if (c->has_offset && json_object_set_new(o, "offset",
	    json_integer((json_int_t)c->offset)) == -1)
		goto fail;
	json_decref(hops);
	return o;
fail:
	json_decref(hops);
	json_decref(o);
	return NULL;
}

/* ---- documents ---- */

json_t *
prov_doc_new(const char *name, const char *sha256, uint64_t size)
{
	return json_pack("{s:i, s:{s:s, s:s, s:I}, s:[]}", "version", 1, "item", "name", name,
	    "sha256", sha256, "size", (json_int_t)size, "captures");
}

int
prov_doc_add(json_t *doc, json_t *capture)
{
	json_t *a = json_object_get(doc, "captures");

	if (capture == NULL || a == NULL)
		return -1;
	return json_array_append_new(a, capture);
}

int
prov_doc_compact(json_t *doc)
{
	json_t *seen = json_object(), *cap, *h, *t;
	size_t i, k;
	const char *hash;

	if (seen == NULL)
		return -1;
	json_array_foreach(json_object_get(doc, "captures"), i, cap) {
		json_array_foreach(json_object_get(cap, "hops"), k, h) {
			t = json_object_get(h, "tls");
			if ((hash = json_string_value(json_object_get(t, "chain_sha256"))) == NULL ||
			    json_object_get(t, "chain") == NULL)
				continue;
			if (json_object_get(seen, hash) != NULL)
				json_object_del(t, "chain");
			else
				json_object_set_new(seen, hash, json_true());
		}
	}
	json_decref(seen);
	return 0;
}

char *
prov_doc_dump(const json_t *doc, size_t *len)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s != NULL)
		*len = strlen(s);
	return s;
}

/* ---- the strict reader ---- */

struct prov_check {
	char *err;
	size_t errlen;
	json_t *chains;		/* chain_sha256 of the chains given so far */
};

static int
bad(struct prov_check *k, const char *what, const char *where)
{
	snprintf(k->err, k->errlen, "provenance: %s%s%s", where, where[0] ? ": " : "", what);
	return -1;
}

static int
only_keys(struct prov_check *k, json_t *o, const char *const *keys, const char *where)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return bad(k, "not an object", where);
	json_object_foreach(o, key, v) {
		const char *const *p;
		for (p = keys; *p != NULL && strcmp(*p, key) != 0; p++)
			;
		if (*p == NULL)
			return bad(k, "unknown key", where);
	}
	return 0;
}

static int
is_hex64(json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int
is_uint(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int
is_str(json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) <= max &&
	    strlen(json_string_value(v)) == json_string_length(v);
}

/* Canonical base64 of at most MAX bytes: whole quads, the alphabet, and
 * padding only at the end. */
static int
is_b64(json_t *v, size_t max)
{
	const char *s = json_string_value(v);
	size_t n, pad = 0;

	if (s == NULL || (n = json_string_length(v)) % 4 != 0 || n / 4 * 3 > max + 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return 0;
			pad++;
		} else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) {
			return 0;
		}
	}
	return n / 4 * 3 - pad <= max;
}

/* RFC 3339 in UTC as prov_now writes it: YYYY-MM-DDTHH:MM:SS[.frac]Z. */
static int
is_date(json_t *v)
{
	const char *s = json_string_value(v);
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (s == NULL || json_string_length(v) > 40)
		return 0;
	for (i = 0; pat[i] != '\0'; i++)
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			return 0;
	if (s[i] == '.') {
		size_t f = 0;
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			f++;
		if (f == 0 || f > 9)
			return 0;
	}
	return s[i] == 'Z' && s[i + 1] == '\0';
}

static int
check_tls(struct prov_check *k, json_t *t)
{
	static const char *const keys[] = { "version", "cipher", "chain_sha256", "chain",
	    NULL };
	json_t *chain = json_object_get(t, "chain"), *v;
	size_t i;
	const char *hash;
	EVP_MD_CTX *md;
	unsigned char *der, dig[EVP_MAX_MD_SIZE];
	unsigned int diglen = 0;
	char hex[65];
	int ok;

	if (only_keys(k, t, keys, "tls") == -1)
		return -1;
	if (!is_str(json_object_get(t, "version"), 32) ||
	    !is_str(json_object_get(t, "cipher"), 127))
		return bad(k, "version or cipher", "tls");
	if (chain != NULL && json_object_get(t, "chain_sha256") == NULL)
		return bad(k, "chain without its hash", "tls");
	if (json_object_get(t, "chain_sha256") == NULL)
		return 0;
	if (!is_hex64(json_object_get(t, "chain_sha256")))
		return bad(k, "chain_sha256", "tls");
	hash = json_string_value(json_object_get(t, "chain_sha256"));
	if (chain == NULL) {
		/* The same chain as an earlier hop's: given once a document. */
		if (json_object_get(k->chains, hash) == NULL)
			return bad(k, "chain_sha256 of no chain given before", "tls");
		return 0;
	}
	if (!json_is_array(chain) || json_array_size(chain) == 0 ||
	    json_array_size(chain) > PROV_CHAIN_MAX)
		return bad(k, "chain", "tls");
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    (der = malloc(PROV_CERT_MAX + 3)) == NULL) {
		EVP_MD_CTX_free(md);
		return bad(k, "out of memory", "tls");
	}
	json_array_foreach(chain, i, v) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		int dl;
		if (!is_b64(v, PROV_CERT_MAX) ||
		    (dl = EVP_DecodeBlock(der, (const unsigned char *)s, (int)n)) < 0)
			break;
		dl -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
		EVP_DigestUpdate(md, der, (size_t)dl);
	}
	free(der);
	if (i < json_array_size(chain)) {
		EVP_MD_CTX_free(md);
		return bad(k, "certificate", "tls");
	}
	ok = EVP_DigestFinal_ex(md, dig, &diglen) == 1 && diglen == 32;
	EVP_MD_CTX_free(md);
	if (ok) {
		hex_encode(dig, 32, hex);
		ok = strcmp(hex, hash) == 0;
	}
	if (!ok)
		return bad(k, "chain_sha256 is not the chain's", "tls");
	json_object_set_new(k->chains, hash, json_true());
	return 0;
}

static int
check_hop(struct prov_check *k, json_t *h)
{
	static const char *const keys[] = { "uri", "date", "ip", "port", "tls", "request",
	    "response", "cut", NULL };
	json_t *v;

	if (only_keys(k, h, keys, "hop") == -1)
		return -1;
	if ((v = json_object_get(h, "uri")) != NULL && !is_str(v, PROV_URI_MAX))
		return bad(k, "uri", "hop");
	if (!is_date(json_object_get(h, "date")))
		return bad(k, "date", "hop");
	if ((v = json_object_get(h, "ip")) != NULL && !is_str(v, 63))
		return bad(k, "ip", "hop");
	if ((v = json_object_get(h, "port")) != NULL && (!is_uint(v) ||
	    json_integer_value(v) > 65535))
		return bad(k, "port", "hop");
	if ((v = json_object_get(h, "tls")) != NULL && check_tls(k, v) == -1)
		return -1;
	if (!is_b64(json_object_get(h, "request"), PROV_HEAD_MAX) ||
	    !is_b64(json_object_get(h, "response"), PROV_HEAD_MAX))
		return bad(k, "request or response head", "hop");
	if ((v = json_object_get(h, "cut")) != NULL && !json_is_true(v))
		return bad(k, "cut", "hop");
	return 0;
}

static int
check_capture(struct prov_check *k, json_t *c)
{
	static const char *const keys[] = { "role", "date", "hops", "payload", "body",
	    "offset", NULL };
	static const char *const pkeys[] = { "sha256", "size", "range", NULL };
	json_t *v, *hops = json_object_get(c, "hops"), *p;
	const char *role;
	size_t i;

	if (only_keys(k, c, keys, "capture") == -1)
		return -1;
	role = json_string_value(json_object_get(c, "role"));
	for (i = 0; role != NULL && i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role, role_names[i]) == 0)
			break;
	if (role == NULL || i == sizeof(role_names) / sizeof(role_names[0]))
		return bad(k, "role", "capture");
	if (!is_date(json_object_get(c, "date")))
		return bad(k, "date", "capture");
	if (!json_is_array(hops) || json_array_size(hops) == 0 ||
	    json_array_size(hops) > PROV_HOPS_MAX)
		return bad(k, "hops", "capture");
	json_array_foreach(hops, i, v)
		if (check_hop(k, v) == -1)
			return -1;
	if ((p = json_object_get(c, "payload")) != NULL) {
		json_t *r = json_object_get(p, "range");
		if (only_keys(k, p, pkeys, "payload") == -1)
			return -1;
		if (!is_hex64(json_object_get(p, "sha256")) ||
		    !is_uint(json_object_get(p, "size")))
			return bad(k, "sha256 or size", "payload");
		if (r != NULL && (!json_is_array(r) || json_array_size(r) != 2 ||
		    !is_uint(json_array_get(r, 0)) || !is_uint(json_array_get(r, 1)) ||
		    json_integer_value(json_array_get(r, 0)) >
		    json_integer_value(json_array_get(r, 1)) ||
		    json_integer_value(json_array_get(r, 1)) >=
		    json_integer_value(json_object_get(p, "size"))))
			return bad(k, "range", "payload");
	}
	if ((v = json_object_get(c, "body")) != NULL && !is_b64(v, PROV_BODY_MAX))
		return bad(k, "body", "capture");
	if ((v = json_object_get(c, "offset")) != NULL && !is_uint(v))
		return bad(k, "offset", "capture");
	return 0;
}

json_t *
prov_doc_read(const char *buf, size_t len, char *err, size_t errlen)
{
	static const char *const keys[] = { "version", "item", "captures", NULL };
	static const char *const ikeys[] = { "name", "sha256", "size", NULL };
	struct prov_check k = { err, errlen, NULL };
	json_error_t je;
	json_t *doc, *item, *caps, *v;
	size_t i;

	if (len > PROV_DOC_MAX) {
		bad(&k, "larger than 16 MiB", "");
		return NULL;
	}
	if ((doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "provenance: not JSON (%s)", je.text);
		return NULL;
	}
	if ((k.chains = json_object()) == NULL) {
		bad(&k, "out of memory", "");
		goto fail;
	}
	if (only_keys(&k, doc, keys, "") == -1)
		goto fail;
	if (!json_is_integer(json_object_get(doc, "version")) ||
	    json_integer_value(json_object_get(doc, "version")) != 1) {
		bad(&k, "not version 1", "");
		goto fail;
	}
	item = json_object_get(doc, "item");
	if (only_keys(&k, item, ikeys, "item") == -1)
		goto fail;
	if (!is_str(json_object_get(item, "name"), 1024) ||
	    !is_hex64(json_object_get(item, "sha256")) ||
	    !is_uint(json_object_get(item, "size"))) {
		bad(&k, "name, sha256 or size", "item");
		goto fail;
	}
	caps = json_object_get(doc, "captures");
	if (!json_is_array(caps) || json_array_size(caps) == 0 ||
	    json_array_size(caps) > PROV_CAPTURES_MAX) {
		bad(&k, "captures", "");
		goto fail;
	}
	json_array_foreach(caps, i, v)
		if (check_capture(&k, v) == -1)
			goto fail;
	json_decref(k.chains);
	return doc;
fail:
	json_decref(k.chains);
	json_decref(doc);
	return NULL;
}

json_t *
prov_summary(const json_t *doc)
{
	json_t *cap = json_array_get(json_object_get(doc, "captures"), 0);
	json_t *hops = json_object_get(cap, "hops");
	json_t *h = json_array_get(hops, json_array_size(hops) - 1);
	json_t *o, *tls;
	const char *uri, *s;
	CURLU *u;
	char *host = NULL;

	if (h == NULL || (o = json_object()) == NULL)
		return NULL;
	if ((uri = json_string_value(json_object_get(h, "uri"))) != NULL &&
	    (u = curl_url()) != NULL) {
		if (curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
			json_object_set_new(o, "host", json_string(host));
		curl_free(host);
		curl_url_cleanup(u);
	}
	if ((s = json_string_value(json_object_get(cap, "date"))) != NULL)
		json_object_set_new(o, "date", json_string(s));
	if ((s = json_string_value(json_object_get(h, "ip"))) != NULL)
		json_object_set_new(o, "ip", json_string(s));
	tls = json_object_get(h, "tls");
	if ((s = json_string_value(json_object_get(tls, "version"))) != NULL)
		json_object_set_new(o, "tls", json_string(s));
	if ((s = json_string_value(json_object_get(tls, "chain_sha256"))) != NULL)
		json_object_set_new(o, "cert_sha256", json_string(s));
	return o;
}

/* ---- re-captures ---- */

static char *
prov_recapture_path(const char *root, const char *hex, const char *mode)
{
	char *p;

	return asprintf(&p, "%s/" PROV_RECAPTURE_DIR "/%s.%s.json", root, hex, mode) == -1 ?
	    NULL : p;
}

int
prov_recapture_add(const char *root, const char *name, const char *hex, uint64_t size,
    const char *mode, json_t *caps, char *err, size_t errlen)
{
	char *dir = NULL, *path = NULL, *buf = NULL, *s = NULL, fname[96], why[256];
	json_t *doc = NULL, *a, *v;
	size_t len, i;
	int rc = -1;

	if (asprintf(&dir, "%s/" PROV_RECAPTURE_DIR, root) == -1) {
		dir = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((path = prov_recapture_path(root, hex, mode)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	/* A file that does not read back (a disk error) is started over. */
	if (fsutil_read_file(path, PROV_DOC_MAX, &buf, &len) == 0)
		doc = prov_doc_read(buf, len, why, sizeof(why));
	if (doc == NULL && (doc = prov_doc_new(name, hex, size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	a = json_object_get(doc, "captures");
	json_array_foreach(caps, i, v)
		if (json_array_append(a, v) == -1) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	while (json_array_size(a) > PROV_RECAPTURES_MAX)
		json_array_remove(a, 0);
	while ((s = prov_doc_dump(doc, &len)) != NULL && len > PROV_DOC_MAX &&
	    json_array_size(a) > 1) {
		free(s);
		json_array_remove(a, 0);
	}
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(fname, sizeof(fname), "%s.%s.json", hex, mode);
	if (fsutil_write_atomic(dir, fname, s, len, 0644) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	free(s);
	free(buf);
	free(path);
	free(dir);
	return rc;
}

json_t *
prov_recaptures_read(const char *root, const char *hex, const char *mode)
{
	char *path, *buf = NULL, why[256];
	json_t *doc = NULL;
	size_t len;

	if ((path = prov_recapture_path(root, hex, mode)) == NULL)
		return NULL;
	if (fsutil_read_file(path, PROV_DOC_MAX, &buf, &len) == 0)
		doc = prov_doc_read(buf, len, why, sizeof(why));
	free(buf);
	free(path);
	return doc;
}


int
prov_caps_check(json_t *caps, uint64_t size, char *err, size_t errlen)
{
	static const char zero[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	json_t *test, *doc, *cap, *p;
	char *s;
	size_t i, len;

	if ((test = json_deep_copy(caps)) == NULL ||
	    (doc = prov_doc_new("kept", zero, size)) == NULL) {
		json_decref(test);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Payloads as the item's completion will write them. */
	json_array_foreach(test, i, cap)
		if ((p = json_object_get(cap, "payload")) != NULL) {
			json_object_set_new(p, "sha256", json_string(zero));
			json_object_set_new(p, "size", json_integer((json_int_t)size));
		}
	json_array_extend(json_object_get(doc, "captures"), test);
	json_decref(test);
	s = prov_doc_dump(doc, &len);
	json_decref(doc);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	doc = prov_doc_read(s, len, err, errlen);
	free(s);
	json_decref(doc);
	return doc != NULL ? 0 : -1;
}
