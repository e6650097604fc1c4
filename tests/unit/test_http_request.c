#include <stdint.h>
#include <stdio.h>
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
	CHECK_DONE();
}
