#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "downloads.h"
#include "hexutil.h"
#include "check.h"

#define SHA_B	"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
#define BASE_A	"https://a.example/"
#define BASE_B	"https://b.example/mirror/"

/* Three pieces of 16 KiB: 2 full ones and 100 bytes. Printable "hashes"
 * keep the expected bencode readable. */
#define PIECES	"AAAAAAAAAAAAAAAAAAAA" "BBBBBBBBBBBBBBBBBBBB" "CCCCCCCCCCCCCCCCCCCC"

/* The info dict as BEP 3 spells it, written out by hand. */
#define INFO	"d6:lengthi32868e4:name8:clip.mp4" \
		"12:piece lengthi16384e6:pieces60:" PIECES "e"

#define METALINK \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n" \
	"  <published>2026-11-28T12:00:00Z</published>\n" \
	"  <file name=\"clip.mp4\">\n" \
	"    <size>32868</size>\n" \
	"    <hash type=\"sha-256\">" SHA_B "</hash>\n" \
	"    <pieces length=\"16384\" type=\"sha-1\">\n" \
	"      <hash>4141414141414141414141414141414141414141</hash>\n" \
	"      <hash>4242424242424242424242424242424242424242</hash>\n" \
	"      <hash>4343434343434343434343434343434343434343</hash>\n" \
	"    </pieces>\n" \
	"    <url priority=\"1\">" BASE_A "sha256/" SHA_B "</url>\n" \
	"    <url priority=\"2\">" BASE_B "sha256/" SHA_B "</url>\n" \
	"  </file>\n" \
	"</metalink>\n"

static const char *const bases[] = { BASE_A, BASE_B };

static struct dl_item
fixed(void)
{
	struct dl_item it = {
		"clip.mp4", "video/mp4", SHA_B, 2 * 16384 + 100, 16384,
		(const uint8_t *)PIECES, 3,
	};

	return it;
}

static int
same(const char *got, size_t len, const char *want, size_t wantlen)
{
	if (got == NULL || len != wantlen || memcmp(got, want, len) != 0) {
		fprintf(stderr, "got %zu bytes:\n%.*s\nwant %zu bytes:\n%s\n",
		    got ? len : 0, got ? (int)len : 0, got ? got : "",
		    wantlen, want);
		return 0;
	}
	return 1;
}

static void
test_metalink(void)
{
	struct dl_item it = fixed();
	size_t len = 0;
	char *s;

	s = dl_metalink(&it, bases, 2, "2026-11-28T12:00:00Z", &len);
	CHECK(same(s, len, METALINK, strlen(METALINK)));
	CHECK(s != NULL && strlen(s) == len);
	free(s);

	/* No time, no <published>; fractions of a second are RFC 3339. */
	s = dl_metalink(&it, bases, 1, NULL, &len);
	CHECK(s != NULL && strstr(s, "<published>") == NULL &&
	    strstr(s, "priority=\"2\"") == NULL);
	free(s);
	s = dl_metalink(&it, bases, 1, "2026-11-28T12:00:00.25Z", &len);
	CHECK(s != NULL);
	free(s);

	/* A <file> without <url> is not Metalink 4; bad times are refused. */
	CHECK(dl_metalink(&it, bases, 0, NULL, &len) == NULL);
	CHECK(dl_metalink(&it, bases, 1, "2026-11-28 12:00:00Z", &len) == NULL);
	CHECK(dl_metalink(&it, bases, 1, "2026-11-28T12:00:00+01:00", &len) == NULL);
	CHECK(dl_metalink(&it, bases, 1, "2026-13-28T12:00:00Z", &len) == NULL);
	CHECK(dl_metalink(&it, bases, 1, "2026-11-28T12:00:00Z<", &len) == NULL);
}

static void
test_metalink_escaping(void)
{
	struct dl_item it = fixed();
	const char *evil_base[] = { "https://x.example/?a=1&b='2'/" };
	const char *ctl_base[] = { "https://x.example/\x1f/" };
	const char *noslash[] = { "https://x.example" };
	size_t len = 0;
	char *s;

	it.name = "a&b<c>d\"e'f g.txt";
	s = dl_metalink(&it, evil_base, 1, NULL, &len);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(strstr(s, "<file name=\"a&amp;b&lt;c&gt;d&quot;e&apos;f g.txt\">") != NULL);
		CHECK(strstr(s, ">https://x.example/?a=1&amp;b=&apos;2&apos;/sha256/" SHA_B "</url>") != NULL);
	}
	free(s);

	/* Tab, LF and CR survive as references, not as bare whitespace an
	 * XML parser would normalise away. */
	it.name = "tab\there\r\n";
	s = dl_metalink(&it, bases, 1, NULL, &len);
	CHECK(s != NULL && strstr(s, "name=\"tab&#9;here&#13;&#10;\"") != NULL);
	free(s);

	/* What XML 1.0 cannot carry at all. */
	it.name = "bad\x01name";
	CHECK(dl_metalink(&it, bases, 1, NULL, &len) == NULL);
	it.name = "esc\x1b";
	CHECK(dl_metalink(&it, bases, 1, NULL, &len) == NULL);
	it.name = "nonchar\xef\xbf\xbf";
	CHECK(dl_metalink(&it, bases, 1, NULL, &len) == NULL);
	it.name = "broken\xc3";
	CHECK(dl_metalink(&it, bases, 1, NULL, &len) == NULL);
	it.name = "clip.mp4";
	CHECK(dl_metalink(&it, ctl_base, 1, NULL, &len) == NULL);
	CHECK(dl_metalink(&it, noslash, 1, NULL, &len) == NULL);
	it.sha256 = "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE";
	CHECK(dl_metalink(&it, bases, 1, NULL, &len) == NULL);
}

static void
test_torrent(void)
{
	static const char created[] = "emberd " EMBERD_VERSION;
	static const char info[] = INFO;
	struct dl_item it = fixed();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char want[1024], hex[41], got_hex[41];
	size_t len = 0;
	char *s;
	int n;

	n = snprintf(want, sizeof(want), "d10:created by%zu:%s4:info%s"
	    "8:url-listl%zu:%ssha256/%s%zu:%ssha256/%see",
	    strlen(created), created, info,
	    strlen(BASE_A) + 7 + 64, BASE_A, SHA_B,
	    strlen(BASE_B) + 7 + 64, BASE_B, SHA_B);
	CHECK(n > 0 && (size_t)n < sizeof(want));
	s = dl_torrent(&it, bases, 2, &len);
	CHECK(same(s, len, want, (size_t)n));
	free(s);

	/* The infohash, computed here over the literal info dict. */
	CHECK(EVP_Digest(info, sizeof(info) - 1, md, &mdlen, EVP_sha1(),
	    NULL) == 1 && mdlen == 20);
	hex_encode(md, 20, hex);
	CHECK(dl_infohash(&it, got_hex) == 0);
	CHECK(strcmp(hex, got_hex) == 0);

	/* One base is still a list; none leaves url-list out. */
	s = dl_torrent(&it, bases, 1, &len);
	CHECK(s != NULL && memmem(s, len, "8:url-listl89:" BASE_A "sha256/"
	    SHA_B "ee", strlen("8:url-listl89:" BASE_A "sha256/" SHA_B "ee")) != NULL);
	free(s);
	s = dl_torrent(&it, bases, 0, &len);
	CHECK(s != NULL && memmem(s, len, "url-list", 8) == NULL &&
	    len > 0 && s[len - 1] == 'e');
	free(s);

	/* Bencode needs no escaping: the name goes in byte for byte. */
	it.name = "a&b<c>d\"e'f g.txt";
	s = dl_torrent(&it, bases, 1, &len);
	CHECK(s != NULL && memmem(s, len, "4:name17:a&b<c>d\"e'f g.txt",
	    strlen("4:name17:a&b<c>d\"e'f g.txt")) != NULL);
	free(s);
}

static void
test_torrent_refusals(void)
{
	struct dl_item it = fixed();
	const char *noslash[] = { "https://x.example" };
	char hex[41];
	size_t len = 0;
	char *s;

	it.n_pieces = 2;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	CHECK(dl_infohash(&it, hex) == -1);
	it.n_pieces = 4;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	it = fixed();
	it.piece_length = 8192;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	it.piece_length = 3 * 16384;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	it = fixed();
	it.size = 3 * 16384;	/* exactly three pieces */
	s = dl_torrent(&it, bases, 1, &len);
	CHECK(s != NULL);
	free(s);
	it.pieces = NULL;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	it = fixed();
	CHECK(dl_torrent(&it, noslash, 1, &len) == NULL);
	it.name = "";
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
	it.name = "broken\xc3";
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);

	/* An empty item has no pieces, and an empty pieces string. */
	it = fixed();
	it.size = 0;
	it.n_pieces = 0;
	it.pieces = NULL;
	s = dl_torrent(&it, bases, 1, &len);
	CHECK(s != NULL && memmem(s, len, "d6:lengthi0e", 12) != NULL &&
	    memmem(s, len, "6:pieces0:e", 11) != NULL);
	free(s);
	it.n_pieces = 1;
	CHECK(dl_torrent(&it, bases, 1, &len) == NULL);
}

int
main(void)
{
	test_metalink();
	test_metalink_escaping();
	test_torrent();
	test_torrent_refusals();
	CHECK_DONE();
}
