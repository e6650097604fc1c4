/*
 * .meta4 documents are read by download managers (aria2, wget2, ...)
 * that trust the hash and URLs in them: what dl_metalink writes must be
 * well-formed XML that reads back, through libxml2, exactly as given,
 * whatever bytes a hostile catalog put into the name.
 *
 * Input: 10 header bytes, then NUL-separated fields NAME, PUBLISHED,
 * SHA256 (used only when header byte 1 says so) and up to 4 BASEs.
 *   [0] number of bases (mod 5)
 *   [1] bit 0: take SHA256 from the input; bits 1-2: PUBLISHED is
 *       NULL (0), a fixed valid time (1) or the input's field (2, 3)
 *   [2..9] size, little-endian
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "downloads.h"
#include "names.h"

#define MAX_BASES	4
#define NS		"urn:ietf:params:xml:ns:metalink"
#define SHA_OK		"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct expect {
	const char *name, *sha, *published;
	uint64_t size;
	const char *const *bases;
	size_t n_bases;
	const uint8_t *pieces;	/* 16 KiB SHA-1 pieces, or NULL: none expected */
	size_t n_pieces;
};

#define PIECES_MAX	64
static uint8_t piece_buf[PIECES_MAX * 20];

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* Well-formedness errors abort below; keep libxml2 from printing too. */
static void
quiet(void *ctx, const char *fmt, ...)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

/* Whether XML 1.0 can carry S (the writer's rule, restated). */
static int
xml_ok(const char *s)
{
	const unsigned char *p;

	if (!name_utf8_valid(s, strlen(s)))
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ||
		    (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)))
			return 0;
	return 1;
}

static int
is_element(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, NS) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The element's text (references resolved) equals WANT. */
static void
check_text(xmlNode *n, const char *want)
{
	xmlChar *s = xmlNodeGetContent(n);

	check(s != NULL && strcmp((const char *)s, want) == 0);
	xmlFree(s);
}

static void
check_prop(xmlNode *n, const char *attr, const char *want)
{
	xmlChar *s = xmlGetProp(n, (const xmlChar *)attr);

	check(s != NULL && strcmp((const char *)s, want) == 0);
	xmlFree(s);
}

static void
check_file(xmlNode *file, const struct expect *e)
{
	char num[32];
	size_t urls = 0;
	int seen = 0;
	xmlNode *n;

	check_prop(file, "name", e->name);
	for (n = file->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(n, "size")) {
			check(!(seen & 1));
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)e->size);
			check_text(n, num);
			seen |= 1;
		} else if (is_element(n, "hash")) {
			check(!(seen & 2));
			check_prop(n, "type", "sha-256");
			check_text(n, e->sha);
			seen |= 2;
		} else if (is_element(n, "pieces")) {
			xmlNode *h;
			size_t k = 0;
			char hex[41];
			check(!(seen & 4) && e->pieces != NULL);
			check_prop(n, "length", "16384");
			check_prop(n, "type", "sha-1");
			for (h = n->children; h != NULL; h = h->next) {
				if (h->type != XML_ELEMENT_NODE)
					continue;
				check(is_element(h, "hash") && k < e->n_pieces);
				for (size_t b = 0; b < 20; b++)
					snprintf(hex + 2 * b, 3, "%02x", e->pieces[k * 20 + b]);
				check_text(h, hex);
				k++;
			}
			check(k == e->n_pieces);
			seen |= 4;
		} else if (is_element(n, "url")) {
			check(urls < e->n_bases);
			snprintf(num, sizeof(num), "%zu", urls + 1);
			check_prop(n, "priority", num);
			/* Bases may be long: the URL is built to its size. */
			char *u;
			check(asprintf(&u, "%ssha256/%s", e->bases[urls], e->sha) != -1);
			check_text(n, u);
			free(u);
			urls++;
		} else
			abort();
	}
	check(seen == (e->pieces != NULL ? 7 : 3) && urls == e->n_bases);
}

static void
check_doc(const char *doc, size_t len, const struct expect *e)
{
	xmlDoc *x;
	xmlNode *root, *n;
	int files = 0, published = 0;

	check(len <= INT32_MAX);
	x = xmlReadMemory(doc, (int)len, "fuzz.meta4", NULL, XML_PARSE_NONET);
	check(x != NULL);
	root = xmlDocGetRootElement(x);
	check(root != NULL && is_element(root, "metalink"));
	for (n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(n, "published")) {
			check(e->published != NULL && !published);
			check_text(n, e->published);
			published = 1;
		} else if (is_element(n, "file")) {
			check(!files);
			check_file(n, e);
			files = 1;
		} else
			abort();
	}
	check(files && published == (e->published != NULL));
	xmlFreeDoc(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fields[3 + MAX_BASES];
	struct expect e;
	struct dl_item it;
	char *copy, *p, *end, *out;
	size_t n_fields = 0, i, len = 0;
	uint64_t raw = 0;
	int valid, from_input = 0;

	if (size < 10)
		return 0;
	for (i = 0; i < 8; i++)
		raw |= (uint64_t)data[2 + i] << (8 * i);

	/* The rest: NUL-separated fields, the copy keeps them terminated. */
	if ((copy = malloc(size - 10 + 1)) == NULL)
		return 0;
	memcpy(copy, data + 10, size - 10);
	copy[size - 10] = '\0';
	for (p = copy, end = copy + (size - 10); n_fields < 3 + MAX_BASES; ) {
		fields[n_fields++] = p;
		p += strlen(p);
		if (p == end)
			break;
		p++;
	}
	for (i = n_fields; i < 3 + MAX_BASES; i++)
		fields[i] = "";

	e.name = fields[0];
	switch ((data[1] >> 1) & 3) {
	case 0:
		e.published = NULL;
		break;
	case 1:
		e.published = "2026-11-28T12:00:00Z";
		break;
	default:
		e.published = fields[1];
		from_input = 1;
		break;
	}
	e.sha = (data[1] & 1) ? fields[2] : SHA_OK;
	e.size = raw;
	e.bases = fields + 3;
	e.n_bases = data[0] % (MAX_BASES + 1);

	valid = e.name[0] != '\0' && xml_ok(e.name) &&
	    name_is_sha256_hex(e.sha, strlen(e.sha)) && e.n_bases > 0;
	for (i = 0; i < e.n_bases; i++)
		valid = valid && e.bases[i][0] != '\0' &&
		    e.bases[i][strlen(e.bases[i]) - 1] == '/' &&
		    xml_ok(e.bases[i]);

	/* Small sizes may come with pieces (derived from the input). */
	e.pieces = NULL;
	e.n_pieces = 0;
	if ((data[1] & 8) && raw > 0 && raw <= (uint64_t)PIECES_MAX * 16384) {
		e.n_pieces = (size_t)((raw + 16383) / 16384);
		for (i = 0; i < e.n_pieces * 20; i++)
			piece_buf[i] = (uint8_t)(data[i % size] + i);
		e.pieces = piece_buf;
	}
	it = (struct dl_item){ e.name, NULL, e.sha, e.size, 16384, e.pieces, e.n_pieces };
	out = dl_metalink(&it, e.bases, e.n_bases, e.published, &len);
	/* A time from the input may be refused; nothing else valid may. */
	check(out == NULL || valid);
	check(out != NULL || !valid || from_input);
	if (out != NULL) {
		check(strlen(out) == len);
		check_doc(out, len, &e);
	}
	free(out);
	free(copy);
	return 0;
}
