/*
 * The piece hashes `emberd fetch` reads from a mirror's .meta4: what
 * dl_metalink writes reads back as given; a document for another object
 * (hash or size), with too many or too few pieces, a bad piece length or
 * hash, no pieces, a DTD (entities), or not XML at all is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "downloads.h"
#include "meta4_parse.h"
#include "pieces.h"

#define SHA	"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
#define OTHER	"0c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
#define NS	"<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">"

static int
parse(const char *doc, uint64_t size, struct meta4_pieces *p)
{
	char err[256];
	int r = meta4_parse_pieces(doc, strlen(doc), SHA, size, p, err, sizeof(err));

	if (r == 0)
		CHECK(p->sha1 != NULL);
	else
		CHECK(p->sha1 == NULL && err[0] != '\0');
	return r;
}

/* A document with N hashes of length PLEN for SIZE bytes. */
static char *
doc_of(uint64_t size, unsigned plen, size_t n, const char *hash, const char *extra)
{
	size_t cap = 1024 + n * 64, len;
	char *d = malloc(cap);
	size_t i;

	if (d == NULL)
		abort();
	len = (size_t)snprintf(d, cap, "<?xml version=\"1.0\"?>%s%s<file name=\"x\"><size>%llu"
	    "</size><hash type=\"sha-256\">%s</hash><pieces length=\"%u\" type=\"sha-1\">",
	    extra, NS, (unsigned long long)size, hash, plen);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(d + len, cap - len, "<hash>%040zx</hash>\n", i);
	snprintf(d + len, cap - len, "</pieces></file></metalink>");
	return d;
}

int
main(void)
{
	static uint8_t pieces[5 * PIECES_SHA1_LEN];
	const char *bases[] = { "https://a.example/" };
	struct dl_item it = { .name = "a&b.bin", .sha256 = SHA, .size = 4 * 16384 + 7,
	    .piece_length = 16384, .pieces = pieces, .n_pieces = 5 };
	struct meta4_pieces p;
	size_t len, i;
	char *d;

	for (i = 0; i < sizeof(pieces); i++)
		pieces[i] = (uint8_t)(i * 7);
	/* What the server writes reads back. */
	d = dl_metalink(&it, bases, 1, "2026-11-28T12:00:00Z", &len);
	CHECK(d != NULL);
	CHECK(parse(d, it.size, &p) == 0);
	CHECK(p.length == 16384 && p.n == 5 && memcmp(p.sha1, pieces, sizeof(pieces)) == 0);
	meta4_pieces_free(&p);
	/* Another size: another object. */
	CHECK(parse(d, it.size + 1, &p) == -1);
	free(d);

	/* By hand: right, then each thing wrong in turn. */
	d = doc_of(40000, 16384, 3, SHA, "");
	CHECK(parse(d, 40000, &p) == 0 && p.n == 3 && p.sha1[19] == 0 && p.sha1[39] == 1);
	meta4_pieces_free(&p);
	free(d);
	d = doc_of(40000, 16384, 3, OTHER, "");
	CHECK(parse(d, 40000, &p) == -1);	/* another object's file */
	free(d);
	d = doc_of(40000, 16384, 4, SHA, "");
	CHECK(parse(d, 40000, &p) == -1);	/* one piece too many */
	free(d);
	d = doc_of(40000, 16384, 2, SHA, "");
	CHECK(parse(d, 40000, &p) == -1);	/* one too few */
	free(d);
	d = doc_of(40000, 16000, 3, SHA, "");
	CHECK(parse(d, 40000, &p) == -1);	/* not a power of two */
	free(d);
	d = doc_of(40000, 8192, 5, SHA, "");
	CHECK(parse(d, 40000, &p) == -1);	/* below 16 KiB */
	free(d);
	d = doc_of(40000, 16384, 3, SHA, "<!DOCTYPE metalink [<!ENTITY e \"x\">]>");
	CHECK(parse(d, 40000, &p) == -1);	/* a DTD */
	free(d);
	CHECK(parse("<?xml version=\"1.0\"?>" NS "<file name=\"x\"><hash type=\"sha-256\">" SHA
	    "</hash></file></metalink>", 40000, &p) == -1);	/* no pieces */
	CHECK(parse("<?xml version=\"1.0\"?>" NS "<file name=\"x\"><hash type=\"sha-256\">" SHA
	    "</hash><pieces length=\"16384\" type=\"sha-1\"><hash>zz</hash><hash>00</hash>"
	    "<hash>00</hash></pieces></file></metalink>", 40000, &p) == -1);	/* bad hex */
	CHECK(parse("<metalink><file", 40000, &p) == -1);	/* not XML */
	CHECK(parse("<?xml version=\"1.0\"?><metalink><file name=\"x\"><hash type=\"sha-256\">"
	    SHA "</hash></file></metalink>", 40000, &p) == -1);	/* no namespace */
	/* A terabyte for a document of 3 pieces: refused. */
	d = doc_of(40000, 16384, 3, SHA, "");
	CHECK(parse(d, 1ull << 40, &p) == -1);
	free(d);
	CHECK_DONE();
}
