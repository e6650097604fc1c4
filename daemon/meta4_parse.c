/*
 * The Metalink piece reader of meta4_parse.h: libxml2's tree parser on a
 * bounded document, never the network, never an entity.
 */
#include "meta4_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pieces.h"

#define META4_NS	"urn:ietf:params:xml:ns:metalink"

/* An element of the Metalink namespace named NAME. */
static int
meta4_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, META4_NS) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The text of N, surrounding blanks dropped, into BUF; -1 when it does
 * not fit (no value of ours is long). */
static int
meta4_text(const xmlNode *n, char *buf, size_t len)
{
	xmlChar *s = xmlNodeGetContent(n);
	const char *p;
	size_t k;

	if (s == NULL)
		return -1;
	p = (const char *)s;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	k = strlen(p);
	while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\n' ||
	    p[k - 1] == '\r'))
		k--;
	if (k >= len) {
		xmlFree(s);
		return -1;
	}
	memcpy(buf, p, k);
	buf[k] = '\0';
	xmlFree(s);
	return 0;
}

static int
meta4_attr_is(const xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	int r = v != NULL && strcasecmp((const char *)v, want) == 0;

	xmlFree(v);
	return r;
}

static int
meta4_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The <file> whose sha-256 is HEX, or NULL. */
static const xmlNode *
meta4_file(const xmlNode *root, const char *hex)
{
	const xmlNode *f, *c;
	char got[80];

	for (f = root->children; f != NULL; f = f->next) {
		if (!meta4_is(f, "file"))
			continue;
		for (c = f->children; c != NULL; c = c->next)
			if (meta4_is(c, "hash") && meta4_attr_is(c, "type", "sha-256") &&
			    meta4_text(c, got, sizeof(got)) == 0 && strcasecmp(got, hex) == 0)
				return f;
	}
	return NULL;
}

/* The piece length attribute: a power of two in range, else 0. */
static uint32_t
meta4_length(const xmlNode *pcs)
{
	xmlChar *v = xmlGetProp(pcs, (const xmlChar *)"length");
	unsigned long long l = 0;
	char *end = NULL;

	if (v != NULL && v[0] >= '0' && v[0] <= '9')
		l = strtoull((const char *)v, &end, 10);
	if (v == NULL || end == NULL || *end != '\0' || l < META4_PIECE_MIN ||
	    l > META4_PIECE_MAX || (l & (l - 1)) != 0)
		l = 0;
	xmlFree(v);
	return (uint32_t)l;
}

static int
meta4_read_pieces(const xmlNode *pcs, uint64_t size, size_t doclen,
    struct meta4_pieces *out, char *err, size_t errlen)
{
	const xmlNode *h;
	char text[64];
	uint64_t want;
	size_t i = 0, k;

	if ((out->length = meta4_length(pcs)) == 0) {
		snprintf(err, errlen, "a piece length that is not a power of two from %u to %u",
		    META4_PIECE_MIN, META4_PIECE_MAX);
		return -1;
	}
	want = pieces_count(size, out->length);
	/* Each piece takes 40 hex digits of the document: no allocation for
	 * pieces a document this short cannot hold. */
	if (want > doclen / 40) {
		snprintf(err, errlen, "too short for the %llu pieces its size makes",
		    (unsigned long long)want);
		return -1;
	}
	if ((out->sha1 = malloc((size_t)want * PIECES_SHA1_LEN)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (h = pcs->children; h != NULL; h = h->next) {
		if (!meta4_is(h, "hash"))
			continue;
		if (i == want) {
			snprintf(err, errlen, "more pieces than its size makes (%llu)",
			    (unsigned long long)want);
			return -1;
		}
		if (meta4_text(h, text, sizeof(text)) == -1 || strlen(text) != 40) {
			snprintf(err, errlen, "piece %zu is not 40 hex digits", i);
			return -1;
		}
		for (k = 0; k < 20; k++) {
			int hi = meta4_hexval(text[2 * k]), lo = meta4_hexval(text[2 * k + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "piece %zu is not 40 hex digits", i);
				return -1;
			}
			out->sha1[i * 20 + k] = (uint8_t)(hi << 4 | lo);
		}
		i++;
	}
	if (i != want) {
		snprintf(err, errlen, "%zu pieces where its size makes %llu", i,
		    (unsigned long long)want);
		return -1;
	}
	out->n = i;
	return 0;
}

int
meta4_parse_pieces(const char *doc, size_t len, const char *hex, uint64_t size,
    struct meta4_pieces *out, char *err, size_t errlen)
{
	const xmlNode *root, *file, *c, *pcs = NULL;
	xmlDocPtr d;
	char text[32];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > META4_MAX_BYTES || len > INT32_MAX || size == 0) {
		snprintf(err, errlen, size == 0 ? "an empty object has no pieces" :
		    "larger than %u bytes", META4_MAX_BYTES);
		return -1;
	}
	/* No DTD loading, no entity substitution, no network. */
	d = xmlReadMemory(doc, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	if (d == NULL) {
		snprintf(err, errlen, "not well-formed XML");
		return -1;
	}
	if (d->intSubset != NULL || d->extSubset != NULL) {
		snprintf(err, errlen, "has a DTD");
		goto out;
	}
	if ((root = xmlDocGetRootElement(d)) == NULL || !meta4_is(root, "metalink")) {
		snprintf(err, errlen, "not a Metalink 4 document");
		goto out;
	}
	if ((file = meta4_file(root, hex)) == NULL) {
		snprintf(err, errlen, "no file with sha-256 %.64s", hex);
		goto out;
	}
	for (c = file->children; c != NULL; c = c->next) {
		if (meta4_is(c, "size")) {
			if (meta4_text(c, text, sizeof(text)) == -1 ||
			    strspn(text, "0123456789") != strlen(text) || text[0] == '\0' ||
			    strtoull(text, NULL, 10) != size) {
				snprintf(err, errlen, "its size is not the catalog's (%llu)",
				    (unsigned long long)size);
				goto out;
			}
		} else if (meta4_is(c, "pieces") && pcs == NULL &&
		    meta4_attr_is(c, "type", "sha-1"))
			pcs = c;
	}
	if (pcs == NULL) {
		snprintf(err, errlen, "no sha-1 pieces");
		goto out;
	}
	rc = meta4_read_pieces(pcs, size, len, out, err, errlen);
out:
	if (rc == -1)
		meta4_pieces_free(out);
	xmlFreeDoc(d);
	return rc;
}

void
meta4_pieces_free(struct meta4_pieces *p)
{
	free(p->sha1);
	memset(p, 0, sizeof(*p));
}
