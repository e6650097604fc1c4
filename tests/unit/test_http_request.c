#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"
#include "names.h"
#include "check.h"

#define HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEXU "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

static char arg[256];
static struct http_range rg;

static enum http_route
route(const char *target)
{
	memset(arg, 'X', sizeof(arg));
	return http_route(target, arg, sizeof(arg));
}

/* ROUTE with ARG equal to WANT. */
static int
routes_to(const char *target, enum http_route want, const char *want_arg)
{
	return route(target) == want && strcmp(arg, want_arg) == 0;
}

/* Not found, and nothing left in arg for a careless caller to use. */
static int
not_found(const char *target)
{
	return route(target) == ROUTE_NOT_FOUND && arg[0] == '\0';
}

static int
bad(const char *target)
{
	return route(target) == ROUTE_BAD && arg[0] == '\0';
}

static int
range_single(const char *v, uint64_t size, uint64_t first, uint64_t last)
{
	memset(&rg, 0xa5, sizeof(rg));
	return http_range_parse(v, size, &rg) == RANGE_SINGLE &&
	    rg.first == first && rg.last == last;
}

static enum http_range_result
range(const char *v, uint64_t size)
{
	return http_range_parse(v, size, &rg);
}

static char hbuf[4096];
static size_t hlen;
static struct http_head hh;

/* Parse the LEN bytes at S as a head, from a copy: the parser writes
 * into its buffer. */
static int
head_n(const char *s, size_t len)
{
	if (len > sizeof(hbuf))
		return -2;
	memset(hbuf, 'Z', sizeof(hbuf));
	memcpy(hbuf, s, len);
	hlen = len;
	memset(&hh, 0xa5, sizeof(hh));
	return http_head_parse(hbuf, len, &hh);
}

static int
head(const char *s)
{
	return head_n(s, strlen(s));
}

/* A string the parser left in the buffer, NUL-terminated there. */
static int
in_head(const char *p)
{
	return p != NULL && p >= hbuf && p < hbuf + hlen &&
	    memchr(p, '\0', (size_t)(hbuf + hlen - p)) != NULL;
}

/* A captured header value equal to WANT, lying in the buffer. */
static int
captured(const char *p, const char *want)
{
	return in_head(p) && strcmp(p, want) == 0;
}

/* A well-formed head: METHOD, TARGET, MINOR and keep-alive as given. */
static int
head_ok(const char *s, enum http_method method, const char *method_text,
    const char *target, int minor, int keep_alive)
{
	return head(s) == 0 && hh.method == method &&
	    captured(hh.method_text, method_text) &&
	    captured(hh.target, target) && hh.minor == minor &&
	    hh.keep_alive == keep_alive;
}

static int
keep_alive(const char *s)
{
	return head(s) == 0 ? hh.keep_alive : -1;
}

static int
has_body(const char *s)
{
	return head(s) == 0 ? hh.has_body : -1;
}

/* http_head_end() on an exact-size heap copy, so that ASan builds catch
 * a read past LEN. */
static size_t
head_end_n(const char *s, size_t len)
{
	char *p;
	size_t n;

	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return (size_t)-1;
	memcpy(p, s, len);
	n = http_head_end(p, len);
	free(p);
	return n;
}

static size_t
head_end(const char *s)
{
	return head_end_n(s, strlen(s));
}

/* The head S is complete only with its last byte: every shorter prefix
 * is "not all there yet", and TRAILER after it (a pipelined request)
 * does not move the end. */
static int
head_end_splits(const char *s, const char *trailer)
{
	char both[512];
	size_t len = strlen(s), tlen = strlen(trailer), k;
	int ok = 1;

	for (k = 0; k < len; k++) {
		if (head_end_n(s, k) != 0) {
			fprintf(stderr, "head_end: %zu-byte prefix of %zu "
			    "taken as complete\n", k, len);
			ok = 0;
		}
	}
	if (head_end_n(s, len) != len)
		ok = 0;
	if (len + tlen > sizeof(both))
		return 0;
	memcpy(both, s, len);
	memcpy(both + len, trailer, tlen);
	for (k = len; k <= len + tlen; k++)
		if (head_end_n(both, k) != len)
			ok = 0;
	return ok;
}

static void
test_route_fixed(void)
{
	CHECK(routes_to("/", ROUTE_INDEX, ""));
	CHECK(routes_to("/catalog.json", ROUTE_CATALOG, ""));
	CHECK(routes_to("/catalog.json.minisig", ROUTE_CATALOG_SIG, ""));
	CHECK(routes_to("/pubkey", ROUTE_PUBKEY, ""));
	CHECK(routes_to("/healthz", ROUTE_HEALTHZ, ""));
	CHECK(routes_to("/metrics", ROUTE_METRICS, ""));

	/* The query is ignored, whatever it holds (even a broken escape). */
	CHECK(routes_to("/?x=1", ROUTE_INDEX, ""));
	CHECK(routes_to("/catalog.json?v=42", ROUTE_CATALOG, ""));
	CHECK(routes_to("/healthz?", ROUTE_HEALTHZ, ""));
	CHECK(routes_to("/metrics?%zz", ROUTE_METRICS, ""));
	CHECK(routes_to("/files/a?b/../../etc", ROUTE_FILE, "a"));

	/* Exact matches only. */
	CHECK(not_found("//catalog.json"));
	CHECK(not_found("/catalog.json/"));
	CHECK(not_found("/catalog.jso"));
	CHECK(not_found("/catalog.json.minisig.x"));
	CHECK(not_found("/Catalog.json"));
	CHECK(not_found("/healthz/"));
	CHECK(not_found("//"));
	CHECK(not_found("/index.html"));
	CHECK(not_found("/files"));
	CHECK(not_found("/sha256"));
	CHECK(not_found("/sha256/"));
	CHECK(not_found("/./catalog.json"));
	CHECK(not_found("/files/../catalog.json"));
	/* Fixed routes are not percent-decoded. */
	CHECK(not_found("/%63atalog.json"));
	CHECK(not_found("/catalog%2ejson"));
	CHECK(not_found("/%2f"));

	/* Not origin-form. */
	CHECK(bad("http://x/"));
	CHECK(bad("https://mirror.example/files/a"));
	CHECK(bad("*"));
	CHECK(bad(""));
	CHECK(bad("files/a"));
	CHECK(bad(" /"));
	CHECK(http_route(NULL, arg, sizeof(arg)) == ROUTE_BAD);
}

static void
test_route_files(void)
{
	char target[1024], want[300];

	CHECK(routes_to("/files/voice-of-april.mp4", ROUTE_FILE,
	    "voice-of-april.mp4"));
	CHECK(routes_to("/files/%D0%93%D0%BE%D0%BB%D0%BE%D1%81.mp4", ROUTE_FILE,
	    "Голос.mp4"));
	CHECK(routes_to("/files/%d0%93%d0%be%d0%bb%d0%be%d1%81.mp4", ROUTE_FILE,
	    "Голос.mp4"));
	/* Raw UTF-8 from a lax client is the same name. */
	CHECK(routes_to("/files/Голос.mp4", ROUTE_FILE, "Голос.mp4"));
	CHECK(routes_to("/files/a%20b%20(1).txt", ROUTE_FILE, "a b (1).txt"));
	CHECK(routes_to("/files/say%20%22hi%22.txt", ROUTE_FILE,
	    "say \"hi\".txt"));
	CHECK(routes_to("/files/it's.txt", ROUTE_FILE, "it's.txt"));
	CHECK(routes_to("/files/%3Cscript%3E.html", ROUTE_FILE,
	    "<script>.html"));
	CHECK(routes_to("/files/100%25.txt", ROUTE_FILE, "100%.txt"));
	CHECK(routes_to("/files/a+b.txt", ROUTE_FILE, "a+b.txt"));
	CHECK(routes_to("/files/a.", ROUTE_FILE, "a."));
	CHECK(routes_to("/files/a..b", ROUTE_FILE, "a..b"));
	CHECK(routes_to("/files/%61", ROUTE_FILE, "a"));

	/* Empty or extra segments. */
	CHECK(not_found("/files/"));
	CHECK(not_found("/files/?x"));
	CHECK(not_found("/files//a"));
	CHECK(not_found("/files/a/"));
	CHECK(not_found("/files/a/b"));
	CHECK(not_found("/filesa"));

	/* Traversal, every spelling. */
	CHECK(not_found("/files/.."));
	CHECK(not_found("/files/../etc/passwd"));
	CHECK(not_found("/files/."));
	CHECK(not_found("/files/.hidden"));
	CHECK(not_found("/files/%2e%2e"));
	CHECK(not_found("/files/%2E%2E"));
	CHECK(not_found("/files/.%2e"));
	CHECK(not_found("/files/%2e"));
	CHECK(not_found("/files/%2e%2e%2fetc%2fpasswd"));
	CHECK(not_found("/files/a%2fb"));
	CHECK(not_found("/files/a%2Fb"));
	CHECK(not_found("/files/%2f"));
	CHECK(not_found("/files/a%00"));
	CHECK(not_found("/files/a%00.txt"));
	CHECK(not_found("/files/%00"));
	CHECK(not_found("/files/a\\b"));
	CHECK(not_found("/files/..\\..\\win.ini"));
	CHECK(not_found("/files/a%5cb"));
	CHECK(not_found("/files/a%5Cb"));
	CHECK(not_found("/files/%5c..%5c"));
	CHECK(not_found("/files/a%0ab"));
	CHECK(not_found("/files/a%0d%0aSet-Cookie:%20x"));
	CHECK(not_found("/files/a%09b"));
	CHECK(not_found("/files/a%7f"));
	CHECK(not_found("/files/a%c2%85"));	/* C1 control (NEL) */
	/* Overlong UTF-8 dots and slashes. */
	CHECK(not_found("/files/%c0%ae%c0%ae"));
	CHECK(not_found("/files/%C0%AE%C0%AE"));
	CHECK(not_found("/files/a%c0%ae"));
	CHECK(not_found("/files/a%c0%afb"));
	CHECK(not_found("/files/%e0%80%ae%e0%80%ae"));
	CHECK(not_found("/files/a%e0%80%af"));
	CHECK(not_found("/files/a%f0%80%80%ae"));
	/* Invalid UTF-8. */
	CHECK(not_found("/files/a%ff"));
	CHECK(not_found("/files/a%d0"));
	CHECK(not_found("/files/a%ed%a0%80"));
	CHECK(not_found("/files/a%f4%90%80%80"));
	/* Double encoding decodes once: a harmless literal name. */
	CHECK(routes_to("/files/%252e%252e", ROUTE_FILE, "%2e%2e"));
	CHECK(routes_to("/files/%252e%252e%252fetc", ROUTE_FILE, "%2e%2e%2fetc"));
	CHECK(routes_to("/files/a%255cb", ROUTE_FILE, "a%5cb"));

	/* Malformed escapes: 400 wherever they are in the path. */
	CHECK(bad("/files/%"));
	CHECK(bad("/files/a%"));
	CHECK(bad("/files/%G1"));
	CHECK(bad("/files/%1G"));
	CHECK(bad("/files/%1"));
	CHECK(bad("/files/%1?x"));
	CHECK(bad("/files/%%41"));
	CHECK(bad("/files/a%2"));
	CHECK(bad("/%"));
	CHECK(bad("/catalog.json%"));
	CHECK(bad("/sha256/%zz"));
	CHECK(bad("/nowhere/%g0"));

	/* Length: 255 bytes is the longest name. */
	memset(want, 'a', 255);
	want[255] = '\0';
	snprintf(target, sizeof(target), "/files/%s", want);
	CHECK(routes_to(target, ROUTE_FILE, want));
	snprintf(target, sizeof(target), "/files/%sa", want);
	CHECK(not_found(target));
	/* The decoded length counts, not the encoded one. */
	memset(want, 'b', 255);
	want[255] = '\0';
	strcpy(target, "/files/");
	{
		size_t i;
		for (i = 0; i < 255; i++)
			strcat(target, "%62");
	}
	CHECK(routes_to(target, ROUTE_FILE, want));
	/* A name that fits name_check but not the caller's buffer. */
	{
		char small[4];

		memset(small, 'X', sizeof(small));
		CHECK(http_route("/files/abc", small, sizeof(small)) ==
		    ROUTE_FILE && strcmp(small, "abc") == 0);
		memset(small, 'X', sizeof(small));
		CHECK(http_route("/files/abcd", small, sizeof(small)) ==
		    ROUTE_NOT_FOUND && small[0] == '\0');
		memset(small, 'X', sizeof(small));
		CHECK(http_route("/files/abc.meta4", small, sizeof(small)) ==
		    ROUTE_META4 && strcmp(small, "abc") == 0);
		CHECK(http_route("/files/abcd.meta4", small, sizeof(small)) ==
		    ROUTE_NOT_FOUND);
		CHECK(http_route("/files/a", small, 0) == ROUTE_NOT_FOUND);
		CHECK(http_route("/files/a", NULL, 0) == ROUTE_NOT_FOUND);
		CHECK(http_route("/", NULL, 0) == ROUTE_INDEX);
	}
}

static void
test_route_meta(void)
{
	char target[1024], want[300];

	CHECK(routes_to("/files/a.mp4.meta4", ROUTE_META4, "a.mp4"));
	CHECK(routes_to("/files/a.mp4.torrent", ROUTE_TORRENT, "a.mp4"));
	CHECK(routes_to("/files/%D0%93.mp4.torrent", ROUTE_TORRENT, "Г.mp4"));
	CHECK(routes_to("/files/a%2emeta4", ROUTE_META4, "a"));
	CHECK(routes_to("/files/x.meta4.meta4", ROUTE_META4, "x.meta4"));
	CHECK(routes_to("/files/x.torrent.meta4", ROUTE_META4, "x.torrent"));
	CHECK(routes_to("/files/a.mp4.meta4?dl=1", ROUTE_META4, "a.mp4"));
	/* An invalid stem: the whole is no valid name either. */
	CHECK(not_found("/files/a.%c0.meta4"));
	CHECK(not_found("/files/.x.meta4"));
	CHECK(not_found("/files/.meta4"));
	CHECK(not_found("/files/.torrent"));
	CHECK(not_found("/files/..meta4"));
	CHECK(not_found("/files/%2e%2e.meta4"));
	CHECK(not_found("/files/a%2fb.torrent"));
	CHECK(not_found("/files/a%00.torrent"));
	CHECK(not_found("/files/a/.meta4"));
	/* Case-sensitive suffixes: ".META4" is part of a plain name. */
	CHECK(routes_to("/files/a.META4", ROUTE_FILE, "a.META4"));
	CHECK(routes_to("/files/ameta4", ROUTE_FILE, "ameta4"));
	CHECK(routes_to("/files/atorrent", ROUTE_FILE, "atorrent"));

	/* A 255-byte name still has its metadata. */
	memset(want, 'a', 255);
	want[255] = '\0';
	snprintf(target, sizeof(target), "/files/%s.meta4", want);
	CHECK(routes_to(target, ROUTE_META4, want));
	snprintf(target, sizeof(target), "/files/%s.torrent", want);
	CHECK(routes_to(target, ROUTE_TORRENT, want));
	snprintf(target, sizeof(target), "/files/%sa.torrent", want);
	CHECK(not_found(target));
}

static void
test_route_sha256(void)
{
	CHECK(routes_to("/sha256/" HEX, ROUTE_SHA256, HEX));
	CHECK(routes_to("/sha256/" HEX "?x", ROUTE_SHA256, HEX));
	/* One spelling per object: uppercase hex is not found. */
	CHECK(not_found("/sha256/" HEXU));
	CHECK(not_found("/sha256/" HEX "0"));
	CHECK(not_found("/sha256/" HEX "/"));
	CHECK(not_found("/sha256/e3b0"));
	CHECK(not_found("/sha256/%65" HEX));
	CHECK(not_found("/sha256//" HEX));
	CHECK(not_found("/sha256/../" HEX));
	CHECK(not_found("/sha256/" "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	{
		char small[64];

		CHECK(http_route("/sha256/" HEX, small, sizeof(small)) ==
		    ROUTE_NOT_FOUND);
	}
}

static void
test_range(void)
{
	char huge[64];

	CHECK(range(NULL, 100) == RANGE_NONE);
	CHECK(range_single("bytes=0-0", 100, 0, 0));
	CHECK(range_single("bytes=0-", 100, 0, 99));
	CHECK(range_single("bytes=-1", 100, 99, 99));
	CHECK(range_single("bytes=-100", 100, 0, 99));
	CHECK(range_single("bytes=-101", 100, 0, 99));
	CHECK(range_single("bytes=10-19", 100, 10, 19));
	CHECK(range_single("bytes=99-", 100, 99, 99));
	CHECK(range_single("bytes=99-99", 100, 99, 99));
	CHECK(range_single("bytes=0-99", 100, 0, 99));
	CHECK(range_single("bytes=0-99999", 100, 0, 99));
	CHECK(range_single("bytes=50-100", 100, 50, 99));
	CHECK(range_single("bytes=007-0010", 100, 7, 10));
	CHECK(range_single("BYTES=0-1", 100, 0, 1));
	CHECK(range_single("Bytes=0-1", 100, 0, 1));
	CHECK(range("bytes=100-", 100) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=100-200", 100) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-0", 100) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-000", 100) == RANGE_UNSATISFIABLE);

	/* Malformed or unsupported: the whole object. */
	CHECK(range("bytes=5-2", 100) == RANGE_NONE);
	CHECK(range("bytes=0-1,3-4", 100) == RANGE_NONE);
	CHECK(range("bytes=0-1, 3-4", 100) == RANGE_NONE);
	CHECK(range("bytes=0-1,", 100) == RANGE_NONE);
	CHECK(range("bytes=,0-1", 100) == RANGE_NONE);
	CHECK(range("items=0-1", 100) == RANGE_NONE);
	CHECK(range("bytes= 0-1", 100) == RANGE_NONE);
	CHECK(range("bytes =0-1", 100) == RANGE_NONE);
	CHECK(range("bytes=0 -1", 100) == RANGE_NONE);
	CHECK(range("bytes=0- 1", 100) == RANGE_NONE);
	CHECK(range("bytes=0-1 ", 100) == RANGE_NONE);
	CHECK(range(" bytes=0-1", 100) == RANGE_NONE);
	CHECK(range("bytes=0-1\t", 100) == RANGE_NONE);
	CHECK(range("bytes=", 100) == RANGE_NONE);
	CHECK(range("bytes", 100) == RANGE_NONE);
	CHECK(range("bytes=-", 100) == RANGE_NONE);
	CHECK(range("bytes=--1", 100) == RANGE_NONE);
	CHECK(range("bytes=0", 100) == RANGE_NONE);
	CHECK(range("bytes=0--1", 100) == RANGE_NONE);
	CHECK(range("bytes=+1-2", 100) == RANGE_NONE);
	CHECK(range("bytes=1-+2", 100) == RANGE_NONE);
	CHECK(range("bytes=0x10-", 100) == RANGE_NONE);
	CHECK(range("bytes=1-2x", 100) == RANGE_NONE);
	CHECK(range("bytes=-1x", 100) == RANGE_NONE);
	CHECK(range("bytes=1.5-2", 100) == RANGE_NONE);
	CHECK(range("bytesx=0-1", 100) == RANGE_NONE);
	CHECK(range("bytes:0-1", 100) == RANGE_NONE);
	CHECK(range("", 100) == RANGE_NONE);
	CHECK(range("bytes=٣-4", 100) == RANGE_NONE);

	/* Huge numbers saturate instead of wrapping. */
	CHECK(range("bytes=999999999999999999999999999999-", 100) ==
	    RANGE_UNSATISFIABLE);
	CHECK(range("bytes=18446744073709551616-", 100) ==
	    RANGE_UNSATISFIABLE);
	CHECK(range("bytes=18446744073709551615-", 100) ==
	    RANGE_UNSATISFIABLE);
	CHECK(range("bytes=18446744073709551616-1", 100) == RANGE_NONE);
	CHECK(range_single("bytes=-999999999999999999999", 100, 0, 99));
	CHECK(range_single("bytes=-18446744073709551617", 100, 0, 99));
	CHECK(range_single("bytes=0-999999999999999999999999999999", 100, 0,
	    99));
	CHECK(range_single("bytes=5-18446744073709551616", 100, 5, 99));
	/* 2^64 would wrap to 0 and then look like "0-". */
	CHECK(range_single("bytes=1-18446744073709551616", 100, 1, 99));
	CHECK(range_single("bytes=18446744073709551614-", UINT64_MAX,
	    UINT64_MAX - 1, UINT64_MAX - 1));
	CHECK(range_single("bytes=-1", UINT64_MAX, UINT64_MAX - 1,
	    UINT64_MAX - 1));
	CHECK(range_single("bytes=0-", UINT64_MAX, 0, UINT64_MAX - 1));
	memset(huge, '9', sizeof(huge) - 1);
	huge[0] = '-';
	huge[sizeof(huge) - 1] = '\0';
	{
		char v[80];

		snprintf(v, sizeof(v), "bytes=%s", huge);
		CHECK(range_single(v, 7, 0, 6));
	}

	/* Empty object: nothing is satisfiable, malformed is still ignored. */
	CHECK(range("bytes=0-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=0-", 0) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-1", 0) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(range("bytes=5-2", 0) == RANGE_NONE);
	CHECK(range("bytes=0-1,3-4", 0) == RANGE_NONE);
	CHECK(range("items=0-1", 0) == RANGE_NONE);
	CHECK(range(NULL, 0) == RANGE_NONE);

	/* Size 1. */
	CHECK(range_single("bytes=0-", 1, 0, 0));
	CHECK(range_single("bytes=-5", 1, 0, 0));
	CHECK(range("bytes=1-", 1) == RANGE_UNSATISFIABLE);

	/* OUT may be NULL when only the verdict matters. */
	CHECK(http_range_parse("bytes=0-0", 100, NULL) == RANGE_SINGLE);
}

static void
test_if_none_match(void)
{
	const char *e = "\"" HEX "\"";

	CHECK(http_if_none_match("\"" HEX "\"", e));
	CHECK(http_if_none_match("W/\"" HEX "\"", e));
	CHECK(http_if_none_match("\"a\", \"" HEX "\"", e));
	CHECK(http_if_none_match("\"a\",W/\"" HEX "\"", e));
	CHECK(http_if_none_match("\"a\" ,\t\"" HEX "\" , \"b\"", e));
	CHECK(http_if_none_match("  \"" HEX "\"  ", e));
	CHECK(http_if_none_match(", ,\"" HEX "\",", e));
	CHECK(http_if_none_match("*", e));
	CHECK(http_if_none_match(" * ", e));
	CHECK(http_if_none_match("\"x\"", "\"x\""));
	CHECK(http_if_none_match("\"x\"", "W/\"x\""));
	CHECK(http_if_none_match("\"\"", "\"\""));

	CHECK(!http_if_none_match(NULL, e));
	CHECK(!http_if_none_match("\"x\"", NULL));
	CHECK(!http_if_none_match("", e));
	CHECK(!http_if_none_match(",", e));
	CHECK(!http_if_none_match("\"a\"", e));
	CHECK(!http_if_none_match("\"a\", \"b\"", e));
	CHECK(!http_if_none_match(HEX, e));		/* unquoted */
	CHECK(!http_if_none_match("\"" HEX, e));
	CHECK(!http_if_none_match("\"" HEX "\"x", e));
	CHECK(!http_if_none_match("\"" HEX "\"\"a\"", e));
	CHECK(!http_if_none_match("w/\"" HEX "\"", e));	/* W is uppercase */
	CHECK(!http_if_none_match("W/ \"" HEX "\"", e));
	CHECK(!http_if_none_match("\"" HEXU "\"", e));
	/* A malformed list is ignored as a whole, even with a match in it. */
	CHECK(!http_if_none_match("\"" HEX "\", junk", e));
	CHECK(!http_if_none_match("junk, \"" HEX "\"", e));
	CHECK(!http_if_none_match("\"" HEX "\" \"a\"", e));
	CHECK(!http_if_none_match("*, \"" HEX "\"", e));
	CHECK(!http_if_none_match("**", e));
	CHECK(!http_if_none_match("\"a b\"", "\"a b\""));	/* SP not etagc */
	CHECK(!http_if_none_match("\"a\tb\"", "\"a\tb\""));
}

static void
test_if_range(void)
{
	const char *e = "\"" HEX "\"";

	CHECK(http_if_range(NULL, e));
	CHECK(http_if_range("\"" HEX "\"", e));
	CHECK(http_if_range(" \"" HEX "\" ", e));
	CHECK(!http_if_range("W/\"" HEX "\"", e));
	CHECK(!http_if_range("\"" HEX "\"", "W/\"" HEX "\""));
	CHECK(!http_if_range("\"" HEXU "\"", e));
	CHECK(!http_if_range("\"abc\"", e));
	CHECK(!http_if_range(HEX, e));
	CHECK(!http_if_range("Wed, 21 Oct 2015 07:28:00 GMT", e));
	CHECK(!http_if_range("\"" HEX "\", \"" HEX "\"", e));
	CHECK(!http_if_range("\"" HEX "\"x", e));
	CHECK(!http_if_range("*", e));
	CHECK(!http_if_range("", e));
	CHECK(!http_if_range("\"", "\""));
	CHECK(!http_if_range("\"x\"", NULL));
}

static void
test_accepts_gzip(void)
{
	CHECK(http_accepts_gzip("gzip"));
	CHECK(http_accepts_gzip("GZIP"));
	CHECK(http_accepts_gzip("x-gzip"));
	CHECK(http_accepts_gzip("X-Gzip"));
	CHECK(http_accepts_gzip("gzip, deflate, br"));
	CHECK(http_accepts_gzip("br,gzip"));
	CHECK(http_accepts_gzip("  deflate ,  gzip  "));
	CHECK(http_accepts_gzip("gzip;q=1"));
	CHECK(http_accepts_gzip("gzip;q=1.000"));
	CHECK(http_accepts_gzip("gzip;q=1."));
	CHECK(http_accepts_gzip("gzip;q=0.5"));
	CHECK(http_accepts_gzip("gzip;q=0.001"));
	CHECK(http_accepts_gzip("gzip ; q=0.5"));
	CHECK(http_accepts_gzip("gzip;Q=0.5"));
	CHECK(http_accepts_gzip("identity;q=0, gzip"));
	CHECK(http_accepts_gzip("*"));
	CHECK(http_accepts_gzip("*;q=0.1"));
	CHECK(http_accepts_gzip("identity, *;q=0.5"));
	CHECK(http_accepts_gzip("br;q=0, *"));
	CHECK(http_accepts_gzip("gzip;q=0.5, *;q=0"));	/* named wins */
	CHECK(http_accepts_gzip("gzip, junk;;, *;q=0"));
	CHECK(http_accepts_gzip(",,gzip,,"));

	CHECK(!http_accepts_gzip(NULL));
	CHECK(!http_accepts_gzip(""));
	CHECK(!http_accepts_gzip("identity"));
	CHECK(!http_accepts_gzip("deflate, br"));
	CHECK(!http_accepts_gzip("gzip;q=0"));
	CHECK(!http_accepts_gzip("gzip;q=0.000"));
	CHECK(!http_accepts_gzip("gzip;q=0."));
	CHECK(!http_accepts_gzip("gzip;q=0.0"));
	CHECK(!http_accepts_gzip("x-gzip;q=0"));
	CHECK(!http_accepts_gzip("*;q=0"));
	CHECK(!http_accepts_gzip("gzip;q=0, *"));	/* named refusal wins */
	CHECK(!http_accepts_gzip("*, gzip;q=0"));
	CHECK(!http_accepts_gzip("gzip;q=0.5, x-gzip;q=0"));
	CHECK(!http_accepts_gzip("gzipx"));
	CHECK(!http_accepts_gzip("gzi"));
	CHECK(!http_accepts_gzip("gzip-x"));
	/* Malformed elements are ignored, not read as gzip. */
	CHECK(!http_accepts_gzip("gzip;q=2"));
	CHECK(!http_accepts_gzip("gzip;q=1.5"));
	CHECK(!http_accepts_gzip("gzip;q=1.001"));
	CHECK(!http_accepts_gzip("gzip;q=0.0001"));
	CHECK(!http_accepts_gzip("gzip;q=-1"));
	CHECK(!http_accepts_gzip("gzip;q="));
	CHECK(!http_accepts_gzip("gzip;q=.5"));
	CHECK(!http_accepts_gzip("gzip;q=0.5x"));
	CHECK(!http_accepts_gzip("gzip;q = 0.5"));
	CHECK(!http_accepts_gzip("gzip;level=9"));
	CHECK(!http_accepts_gzip("gzip;"));
	CHECK(!http_accepts_gzip("gzip q=1"));
	CHECK(!http_accepts_gzip("\"gzip\""));
	CHECK(!http_accepts_gzip("g zip"));
	CHECK(!http_accepts_gzip(";q=1"));
	/* A malformed gzip entry is not an explicit one: "*" still speaks. */
	CHECK(http_accepts_gzip("gzip;q=2, *"));
	CHECK(http_accepts_gzip("gzip;q=0.5x, *;q=1"));
}

static void
test_head_end(void)
{
	const char *crlf = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *lf = "GET / HTTP/1.1\nHost: x\n\n";

	CHECK(head_end(crlf) == strlen(crlf));
	CHECK(head_end(lf) == strlen(lf));
	CHECK(head_end("GET / HTTP/1.0\r\n\r\n") == 18);
	CHECK(head_end("GET / HTTP/1.0\n\n") == 16);
	/* Mixed line ends: any LF, then an empty line with or without CR. */
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\n\r\n") == 26);
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\r\n\n") == 26);
	CHECK(head_end("GET / HTTP/1.1\nHost: x\r\n\r\n") == 26);
	/* The first empty line ends it: a pipelined request stays out. */
	CHECK(head_end("GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n") ==
	    18);
	CHECK(head_end("GET / HTTP/1.1\r\n\r\n\r\n") == 18);
	CHECK(head_end("GET / HTTP/1.1\n\nbody") == 16);
	/* A CR after a LF that is no empty line does not end the head. */
	CHECK(head_end("GET / HTTP/1.1\n\rX: y\n\n") == 22);
	CHECK(head_end("GET / HTTP/1.1\r\n\rX\r\n\r\n") == 22);

	/* Not all there yet. */
	CHECK(head_end_n("", 0) == 0);
	CHECK(head_end("G") == 0);
	CHECK(head_end("GET / HTTP/1.1") == 0);
	CHECK(head_end("GET / HTTP/1.1\r") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\n") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\n\r") == 0);
	CHECK(head_end("GET / HTTP/1.1\n") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\r\n\r") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\r\r") == 0);
	CHECK(head_end("GET / HTTP/1.1\r\nHost: x\r\n\rX") == 0);
	/* Empty lines alone are no head. */
	CHECK(head_end("\r\n") == 0);
	CHECK(head_end("\n") == 0);
	CHECK(head_end("\r\n\r\n") == 0);
	CHECK(head_end("\n\n\n\n") == 0);
	CHECK(head_end("\r\n\r\n\r\n\r\n\r") == 0);

	/* Empty lines before the request line belong to the head. */
	CHECK(head_end("\r\nGET / HTTP/1.1\r\n\r\n") == 20);
	CHECK(head_end("\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 24);
	CHECK(head_end("\n\nGET / HTTP/1.1\n\n") == 18);
	CHECK(head_end("\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\nX") == 30);
	CHECK(head_end("\r\n\r\nGET / HTTP/1.1\r\n") == 0);
}

static void
test_head_end_split(void)
{
	/* Every prefix of a head is incomplete, byte by byte. */
	CHECK(head_end_splits("GET / HTTP/1.1\r\nHost: x\r\n\r\n", ""));
	CHECK(head_end_splits("GET / HTTP/1.1\nHost: x\n\n", ""));
	CHECK(head_end_splits("GET / HTTP/1.0\r\n\r\n",
	    "GET /x HTTP/1.1\r\n\r\n"));
	CHECK(head_end_splits("GET /files/a HTTP/1.1\r\nHost: mirror\r\n"
	    "Range: bytes=0-99\r\nIf-Range: \"abc\"\r\n"
	    "Accept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n",
	    "HEAD / HTTP/1.1\r\n\r\n"));
	CHECK(head_end_splits("\r\n\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n",
	    "\r\n"));
	CHECK(head_end_splits("\n\nHEAD / HTTP/1.1\nA: b\r\n\n", "body"));
	CHECK(head_end_splits("GET / HTTP/1.1\r\nA: b\n\r\n", "\n\n"));
	CHECK(head_end_splits("GET / HTTP/1.1\n\rX: y\n\n", "\r\n"));
}

static void
test_head_request_line(void)
{
	char big[2048];

	CHECK(head_ok("GET / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_GET, "GET",
	    "/", 1, 1));
	CHECK(hh.has_body == 0);
	CHECK(hh.range == NULL && hh.if_none_match == NULL &&
	    hh.if_range == NULL && hh.accept_encoding == NULL);
	CHECK(head_ok("HEAD /files/a.mp4?x=1 HTTP/1.1\r\n\r\n", HTTP_HEAD,
	    "HEAD", "/files/a.mp4?x=1", 1, 1));
	CHECK(head_ok("GET /catalog.json HTTP/1.0\n\n", HTTP_GET, "GET",
	    "/catalog.json", 0, 0));

	/* Other well-formed methods: 405, with the method kept. */
	CHECK(head_ok("POST / HTTP/1.1\r\n\r\n", HTTP_OTHER, "POST", "/", 1,
	    1));
	CHECK(head_ok("PUT /files/a HTTP/1.1\r\n\r\n", HTTP_OTHER, "PUT",
	    "/files/a", 1, 1));
	CHECK(head_ok("DELETE / HTTP/1.1\r\n\r\n", HTTP_OTHER, "DELETE", "/",
	    1, 1));
	CHECK(head_ok("OPTIONS * HTTP/1.1\r\n\r\n", HTTP_OTHER, "OPTIONS",
	    "*", 1, 1));
	CHECK(head_ok("CONNECT mirror:443 HTTP/1.1\r\n\r\n", HTTP_OTHER,
	    "CONNECT", "mirror:443", 1, 1));
	CHECK(head_ok("BREW /pot HTTP/1.1\r\n\r\n", HTTP_OTHER, "BREW",
	    "/pot", 1, 1));
	CHECK(head_ok("X-Y~!#$%&'*+.^_`| / HTTP/1.1\r\n\r\n", HTTP_OTHER,
	    "X-Y~!#$%&'*+.^_`|", "/", 1, 1));
	/* Methods are case-sensitive: "get" is not GET. */
	CHECK(head_ok("get / HTTP/1.1\r\n\r\n", HTTP_OTHER, "get", "/", 1, 1));
	CHECK(head_ok("Get / HTTP/1.1\r\n\r\n", HTTP_OTHER, "Get", "/", 1, 1));
	CHECK(head_ok("head / HTTP/1.1\r\n\r\n", HTTP_OTHER, "head", "/", 1,
	    1));
	CHECK(head_ok("GETS / HTTP/1.1\r\n\r\n", HTTP_OTHER, "GETS", "/", 1,
	    1));
	CHECK(head_ok("GE / HTTP/1.1\r\n\r\n", HTTP_OTHER, "GE", "/", 1, 1));
	CHECK(head_ok("HEADX / HTTP/1.1\r\n\r\n", HTTP_OTHER, "HEADX", "/", 1,
	    1));
	/* A method must be a token. */
	CHECK(head("GE(T / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GE\"T / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET/ / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("G\xc3\x89T / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("/ HTTP/1.1\r\n\r\n") == -1);

	/* Versions: HTTP/1.x only; a minor above 1 counts as 1. */
	CHECK(head_ok("GET / HTTP/1.2\r\n\r\n", HTTP_GET, "GET", "/", 1, 1));
	CHECK(head_ok("GET / HTTP/1.9\r\n\r\n", HTTP_GET, "GET", "/", 1, 1));
	CHECK(head("GET / HTTP/2.0\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/2\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/0.9\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/3.0\r\n\r\n") == -1);
	CHECK(head("GET / XTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET / http/1.1\r\n\r\n") == -1);
	CHECK(head("GET / Http/1.1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.10\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.01\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/11\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP /1.1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP\r\n\r\n") == -1);
	CHECK(head("GET / \r\n\r\n") == -1);		/* missing version */
	CHECK(head("GET /\r\n\r\n") == -1);		/* HTTP/0.9 style */
	CHECK(head("GET\r\n\r\n") == -1);
	CHECK(head("GET \r\n\r\n") == -1);

	/* Exactly one space either side of the target. */
	CHECK(head("GET  / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /  HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1 \r\n\r\n") == -1);
	CHECK(head(" GET / HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET / a HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a b HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET\t/ HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /\tHTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /\t HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET \t/ HTTP/1.1\r\n\r\n") == -1);

	/* No control characters in the target: NUL, C0, DEL. */
	CHECK(head_n("GET /a\0b HTTP/1.1\r\n\r\n", 22) == -1);
	CHECK(head_n("GET /\0 HTTP/1.1\r\n\r\n", 20) == -1);
	CHECK(head_n("GET \0 HTTP/1.1\r\n\r\n", 19) == -1);
	CHECK(head("GET /a\x01" "b HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a\x1b HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a\x7f HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a\x1f" "b HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a\x0b" "b HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /a\x0c" "b HTTP/1.1\r\n\r\n") == -1);
	/* A bare CR anywhere in the request line. */
	CHECK(head("GET /a\rb HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET /\r HTTP/1.1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\r\n\r\n") == -1);
	CHECK(head("GET\r/ HTTP/1.1\r\n\r\n") == -1);
	/* NUL anywhere in the head. */
	CHECK(head_n("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26) == -1);
	CHECK(head_n("GET / HTTP/1.1\r\n\0: b\r\n\r\n", 24) == -1);
	CHECK(head_n("\0GET / HTTP/1.1\r\n\r\n", 19) == -1);
	/* Raw UTF-8 (lax clients) passes on to the router. */
	CHECK(head_ok("GET /files/\xd0\x93.mp4 HTTP/1.1\r\n\r\n", HTTP_GET,
	    "GET", "/files/\xd0\x93.mp4", 1, 1));
	/* Anything else visible is the router's business. */
	CHECK(head_ok("GET http://x/%zz\"<> HTTP/1.1\r\n\r\n", HTTP_GET, "GET",
	    "http://x/%zz\"<>", 1, 1));

	/* A long target is fine here (the connection bounds the head). */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 1000);
	memcpy(big + 1005, " HTTP/1.1\r\n\r\n", 14);
	CHECK(head(big) == 0 && in_head(hh.target) &&
	    strlen(hh.target) == 1001);
}

static void
test_head_connection(void)
{
	/* Defaults: 1.1 persistent, 1.0 not. */
	CHECK(keep_alive("GET / HTTP/1.1\r\n\r\n") == 1);
	CHECK(keep_alive("GET / HTTP/1.0\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.2\r\n\r\n") == 1);

	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection:close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nconnection: close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nCONNECTION:\tclose\t\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: close,foo\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: ,, close ,\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: a\tclose\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: keep-alive, close"
	    "\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n") == 1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection:\r\n\r\n") == 1);
	/* Whole tokens only. */
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n") == 1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: xclose\r\n\r\n") == 1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: not-close\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nConnection: clos\r\n\r\n") == 1);
	/* Other fields that merely mention it. */
	CHECK(keep_alive("GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.1\r\nX: Connection: close\r\n\r\n") ==
	    1);

	/* HTTP/1.0 asks for persistence explicitly. */
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") ==
	    1);
	CHECK(keep_alive("GET / HTTP/1.0\r\nconnection: foo, KEEP-ALIVE\r\n"
	    "\r\n") == 1);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: close\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n"
	    "\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: close\r\n"
	    "Connection: keep-alive\r\n\r\n") == 0);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: keepalive\r\n\r\n") ==
	    0);
	CHECK(keep_alive("GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n") ==
	    0);
}

static void
test_head_fields(void)
{
	/* Fields the server does not act on are checked, then dropped. */
	CHECK(head("GET / HTTP/1.1\r\nHost: mirror.example\r\n"
	    "User-Agent: curl/8.0\r\nAccept: */*\r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank:   \r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\nX: a\tb  c\r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\nX: \x80\xff\r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09az: v\r\n\r\n") == 0);
	CHECK(head("GET / HTTP/1.1\r\nX:: v\r\n\r\n") == 0);

	/* A field line without a colon, or with an empty name. */
	CHECK(head("GET / HTTP/1.1\r\nHost x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\njunk\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\n: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\n:\r\n\r\n") == -1);
	/* Whitespace before the colon (RFC 9112 5.1). */
	CHECK(head("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nRange : bytes=0-1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX Y: z\r\n\r\n") == -1);
	/* Names are tokens. */
	CHECK(head("GET / HTTP/1.1\r\nHo(st: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHo/st: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nH\xc3\xb6st: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHo\x7fst: x\r\n\r\n") == -1);
	/* obs-fold: a line starting with whitespace. */
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\n\ty\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nRange: bytes=0-\r\n 1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\n Host: x\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\n\tHost: x\n\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\n \r\n\r\n") == -1);
	/* Control characters in a value; a bare CR is one. */
	CHECK(head("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: a\r\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: \rInjected: 1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nRange: bytes=0-1\r\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: a\x1b[0m\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nX: a\x0b\r\n\r\n") == -1);
	/* A line of a lone CR is not the empty line. */
	CHECK(head("GET / HTTP/1.1\r\n\r\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost\r: x\r\n\r\n") == -1);
}

static void
test_head_body(void)
{
	CHECK(has_body("GET / HTTP/1.1\r\n\r\n") == 0);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n") == 0);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 000\r\n\r\n") == 0);
	CHECK(has_body("GET / HTTP/1.1\r\ncontent-length:0\r\n\r\n") == 0);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length:  5 \t\r\n\r\n") ==
	    1);
	CHECK(has_body("POST / HTTP/1.1\r\nCONTENT-LENGTH: 1\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 007\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 1099511627776\r\n"
	    "\r\n") == 1);

	/* A bad value. */
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: +5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length:   \r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 1.0\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: \xd9\xa3\r\n\r\n") ==
	    -1);
	/* Past 2^64: refused, never wrapped to a small length. */
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 18446744073709551616"
	    "\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: "
	    "99999999999999999999999999999999\r\n\r\n") == -1);
	/* Two of them, even equal, even zero. */
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 0\r\n"
	    "content-length: 0\r\n\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nContent-Length: 0\r\nHost: x\r\n"
	    "Content-Length: 7\r\n\r\n") == -1);

	/* Any Transfer-Encoding means a body. */
	CHECK(has_body("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") ==
	    1);
	CHECK(has_body("GET / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n"
	    "\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nTransfer-Encoding: identity\r\n"
	    "\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nContent-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n") == 1);
	CHECK(has_body("GET / HTTP/1.1\r\nX-Transfer-Encoding: chunked\r\n"
	    "\r\n") == 0);
}

static void
test_head_captured(void)
{
	const char *pipelined = "GET /a HTTP/1.1\r\nRange: bytes=1-2\r\n\r\n"
	    "GET /b HTTP/1.1\r\nRange: bytes=3-4\r\n\r\n";
	size_t end;

	CHECK(head("GET /files/a HTTP/1.1\r\n"
	    "Range: bytes=0-99\r\n"
	    "If-None-Match: \"abc\", W/\"def\"\r\n"
	    "If-Range: \"abc\"\r\n"
	    "Accept-Encoding: gzip, br\r\n\r\n") == 0);
	CHECK(captured(hh.range, "bytes=0-99"));
	CHECK(captured(hh.if_none_match, "\"abc\", W/\"def\""));
	CHECK(captured(hh.if_range, "\"abc\""));
	CHECK(captured(hh.accept_encoding, "gzip, br"));
	CHECK(hh.has_body == 0 && hh.keep_alive == 1);

	/* Whitespace around values is trimmed, inner whitespace kept. */
	CHECK(head("GET / HTTP/1.1\r\n"
	    "Range:   bytes=0-1 \t \r\n"
	    "If-None-Match:\t\"a\" ,  \"b\"\t\r\n"
	    "If-Range:  \"x\"  \r\n"
	    "Accept-Encoding: \t gzip ;q=0.5 , br\t\r\n\r\n") == 0);
	CHECK(captured(hh.range, "bytes=0-1"));
	CHECK(captured(hh.if_none_match, "\"a\" ,  \"b\""));
	CHECK(captured(hh.if_range, "\"x\""));
	CHECK(captured(hh.accept_encoding, "gzip ;q=0.5 , br"));
	/* The same with bare LFs and no space after the colon. */
	CHECK(head("GET / HTTP/1.1\nRange:bytes=5-\nIf-Range:\"y\"\n"
	    "If-None-Match:*\nAccept-Encoding:identity\n\n") == 0);
	CHECK(captured(hh.range, "bytes=5-"));
	CHECK(captured(hh.if_range, "\"y\""));
	CHECK(captured(hh.if_none_match, "*"));
	CHECK(captured(hh.accept_encoding, "identity"));

	/* Empty values are present, not absent. */
	CHECK(head("GET / HTTP/1.1\r\nRange:\r\nIf-Range:   \r\n"
	    "If-None-Match: \r\nAccept-Encoding:\t\r\n\r\n") == 0);
	CHECK(captured(hh.range, ""));
	CHECK(captured(hh.if_range, ""));
	CHECK(captured(hh.if_none_match, ""));
	CHECK(captured(hh.accept_encoding, ""));

	/* Accept-Language, for the index page: trimmed, and "" when sent
	 * twice (the mirror's first language). */
	CHECK(head("GET /?lang=fa&page=2 HTTP/1.1\r\n"
	    "accept-language:  zh-TW,zh;q=0.9 \r\n\r\n") == 0);
	CHECK(captured(hh.accept_language, "zh-TW,zh;q=0.9"));
	CHECK(strcmp(hh.target, "/?lang=fa&page=2") == 0);
	CHECK(http_route(hh.target, NULL, 0) == ROUTE_INDEX);
	CHECK(head("GET / HTTP/1.1\r\nAccept-Language: fa\r\n"
	    "Accept-Language: ru\r\n\r\n") == 0);
	CHECK(hh.accept_language != NULL && hh.accept_language[0] == '\0');
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CHECK(hh.accept_language == NULL);

	/* Absent: NULL. */
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\nX-Range: bytes=0-1\r\n"
	    "Ranges: bytes=0-1\r\nIf-Range-X: \"a\"\r\n\r\n") == 0);
	CHECK(hh.range == NULL && hh.if_range == NULL &&
	    hh.if_none_match == NULL && hh.accept_encoding == NULL);

	/* Names are case-insensitive. */
	CHECK(head("GET / HTTP/1.1\r\nrAnGe: bytes=1-2\r\n"
	    "IF-NONE-MATCH: \"n\"\r\nif-range: \"r\"\r\n"
	    "ACCEPT-ENCODING: gzip\r\n\r\n") == 0);
	CHECK(captured(hh.range, "bytes=1-2"));
	CHECK(captured(hh.if_none_match, "\"n\""));
	CHECK(captured(hh.if_range, "\"r\""));
	CHECK(captured(hh.accept_encoding, "gzip"));

	/* Two Range or two If-Range fields: "", which honours no range. */
	CHECK(head("GET / HTTP/1.1\r\nRange: bytes=0-1\r\n"
	    "Range: bytes=2-3\r\n\r\n") == 0);
	CHECK(hh.range != NULL && hh.range[0] == '\0');
	CHECK(http_range_parse(hh.range, 100, &rg) == RANGE_NONE);
	CHECK(head("GET / HTTP/1.1\r\nRange: bytes=0-1\r\n"
	    "range: bytes=0-1\r\nRANGE: bytes=0-1\r\n\r\n") == 0);
	CHECK(hh.range != NULL && hh.range[0] == '\0');
	CHECK(head("GET / HTTP/1.1\r\nIf-Range: \"a\"\r\nRange: bytes=0-1\r\n"
	    "If-Range: \"a\"\r\n\r\n") == 0);
	CHECK(hh.if_range != NULL && hh.if_range[0] == '\0');
	CHECK(captured(hh.range, "bytes=0-1"));
	CHECK(!http_if_range(hh.if_range, "\"a\""));
	/* The other two, repeated, also give "": no 304 and no gzip (a
	 * second Accept-Encoding may refuse what the first allowed). */
	CHECK(head("GET / HTTP/1.1\r\nIf-None-Match: \"a\"\r\n"
	    "If-None-Match: \"b\"\r\nAccept-Encoding: gzip\r\n"
	    "Accept-Encoding: gzip;q=0\r\n\r\n") == 0);
	CHECK(hh.if_none_match != NULL && hh.if_none_match[0] == '\0');
	CHECK(hh.accept_encoding != NULL && hh.accept_encoding[0] == '\0');
	CHECK(!http_if_none_match(hh.if_none_match, "\"a\""));
	CHECK(!http_accepts_gzip(hh.accept_encoding));

	/* Parsed up to the end http_head_end() found: the next request's
	 * bytes are neither read nor written. */
	end = http_head_end(pipelined, strlen(pipelined));
	CHECK(end == 37);
	memcpy(hbuf, pipelined, strlen(pipelined) + 1);
	hlen = end;
	CHECK(http_head_parse(hbuf, end, &hh) == 0);
	CHECK(captured(hh.target, "/a"));
	CHECK(captured(hh.range, "bytes=1-2"));
	CHECK(strcmp(hbuf + end, pipelined + end) == 0);
}

static void
test_head_framing(void)
{
	/* Empty lines before the request line are skipped. */
	CHECK(head_ok("\r\nGET / HTTP/1.1\r\n\r\n", HTTP_GET, "GET", "/", 1,
	    1));
	CHECK(head_ok("\r\n\r\n\r\nHEAD /x HTTP/1.0\r\n\r\n", HTTP_HEAD, "HEAD",
	    "/x", 0, 0));
	CHECK(head_ok("\n\nGET / HTTP/1.1\nHost: x\n\n", HTTP_GET, "GET", "/",
	    1, 1));

	/* No empty line at the end: not a whole head. */
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost: x") == -1);
	CHECK(head("GET / HTTP/1.1\r\nHost: x\r\n\r") == -1);
	CHECK(head("GET / HTTP/1.1\r\n") == -1);
	CHECK(head("GET / HTTP/1.1\n") == -1);
	CHECK(head("GET / HTTP/1.1") == -1);
	CHECK(head("\r\nGET / HTTP/1.1\r\n") == -1);
	CHECK(head_n("", 0) == -1);
	CHECK(head("\r\n") == -1);
	CHECK(head("\r\n\r\n") == -1);
	CHECK(head("\n\n\n") == -1);

	/* Whatever http_head_end() accepts, http_head_parse() reads the
	 * same lines from it. */
	{
		static const char *const heads[] = {
			"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET / HTTP/1.1\nHost: x\n\n",
			"GET / HTTP/1.1\r\nHost: x\n\r\n",
			"GET / HTTP/1.1\r\nHost: x\r\n\n",
			"\r\n\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		};
		size_t i, n;

		for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
			n = http_head_end(heads[i], strlen(heads[i]));
			CHECK(n == strlen(heads[i]));
			CHECK(head_n(heads[i], n) == 0 &&
			    hh.method == HTTP_GET && hh.keep_alive == 1 &&
			    captured(hh.target, "/"));
		}
	}
}

/* One place decides what a failed open looks like to a reader. */
static void
test_errno_status(void)
{
	CHECK(http_errno_status(ENOENT) == 404);
	CHECK(http_errno_status(ENOTDIR) == 404);
	CHECK(http_errno_status(EACCES) == 403);
	CHECK(http_errno_status(EPERM) == 403);
	CHECK(http_errno_status(EMFILE) == 503);
	CHECK(http_errno_status(ENFILE) == 503);
	CHECK(http_errno_status(EIO) == 500);
	CHECK(http_errno_status(ENOMEM) == 500);
	CHECK(http_errno_status(ELOOP) == 500);
	CHECK(http_errno_status(0) == 500);
}

int
main(void)
{
	test_route_fixed();
	test_route_files();
	test_route_meta();
	test_route_sha256();
	test_range();
	test_if_none_match();
	test_if_range();
	test_accepts_gzip();
	test_head_end();
	test_head_end_split();
	test_head_request_line();
	test_head_connection();
	test_head_fields();
	test_head_body();
	test_head_captured();
	test_head_framing();
	test_errno_status();
	CHECK_DONE();
}
