/*
 * Provenance: the recorder keeps every hop's heads as curl saw them, caps
 * them, leaves a proxy's tunnel out; what is published loses credentials
 * and (but with "full") queries; the reader takes only well-formed
 * version 1 documents.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "provenance.h"
#include "check.h"

static void
feed(struct prov_capture *c, curl_infotype type, const char *s)
{
	prov_debug_cb(NULL, type, (char *)s, strlen(s), c);
}

/* The decoded base64 string V, NUL-terminated (heap). */
static char *
unb64(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? strlen(s) : 0;
	char *out = calloc(1, n + 4);
	int len;

	if (s == NULL || out == NULL)
		return out;
	len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	if (len < 0)
		len = 0;
	if (n >= 1 && s[n - 1] == '=')
		len--;
	if (n >= 2 && s[n - 2] == '=')
		len--;
	out[len] = '\0';
	return out;
}

static struct prov_capture *
two_hops(void)
{
	struct prov_capture *c = prov_new(PROV_MEDIA);

	feed(c, CURLINFO_TEXT, "Connected to origin\n");
	feed(c, CURLINFO_HEADER_OUT, "GET /a.mp3?token=s3cret HTTP/1.1\r\n"
	    "Host: origin.test\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
	    "Cookie: sid=1\r\n  more=2\r\nAccept: */*\r\n\r\n");
	feed(c, CURLINFO_HEADER_IN, "HTTP/1.1 302 Found\r\n");
	feed(c, CURLINFO_HEADER_IN, "Location: /b.mp3?token=s3cret#f\r\n");
	feed(c, CURLINFO_HEADER_IN, "Set-Cookie: sid=2\r\n");
	feed(c, CURLINFO_HEADER_IN, "\r\n");
	feed(c, CURLINFO_DATA_IN, "redirect body");
	feed(c, CURLINFO_HEADER_OUT, "GET /b.mp3?token=s3cret HTTP/1.1\r\n"
	    "Host: origin.test\r\n\r\n");
	feed(c, CURLINFO_HEADER_IN, "HTTP/1.1 200 OK\r\n");
	feed(c, CURLINFO_HEADER_IN, "Content-Location: https://u:p@cdn.test/x?sig=1\r\n");
	feed(c, CURLINFO_HEADER_IN, "Content-Length: 3\r\n\r\n");
	return c;
}

static void
test_record(void)
{
	struct prov_capture *c = two_hops();
	json_t *j, *h0, *h1;
	char *s;

	CHECK(prov_hops(c) == 2);
	prov_payload(c, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    3, 1, 0);
	j = prov_capture_json(c, SOURCE_URLS_ORIGIN);
	CHECK(j != NULL);
	CHECK(strcmp(json_string_value(json_object_get(j, "role")), "media") == 0);
	CHECK(json_object_get(json_object_get(j, "payload"), "range") == NULL);
	h0 = json_array_get(json_object_get(j, "hops"), 0);
	h1 = json_array_get(json_object_get(j, "hops"), 1);
	s = unb64(json_object_get(h0, "request"));
	CHECK(strcmp(s, "GET /a.mp3 HTTP/1.1\r\nHost: origin.test\r\n"
	    "Authorization: [redacted]\r\nCookie: [redacted]\r\nAccept: */*\r\n\r\n") == 0);
	free(s);
	s = unb64(json_object_get(h0, "response"));
	CHECK(strcmp(s, "HTTP/1.1 302 Found\r\nLocation: /b.mp3\r\n"
	    "Set-Cookie: [redacted]\r\n\r\n") == 0);
	free(s);
	s = unb64(json_object_get(h1, "response"));
	CHECK(strcmp(s, "HTTP/1.1 200 OK\r\nContent-Location: https://cdn.test/x\r\n"
	    "Content-Length: 3\r\n\r\n") == 0);
	free(s);
	CHECK(json_object_get(h0, "tls") == NULL);
	CHECK(json_object_get(h0, "cut") == NULL);
	json_decref(j);

	j = prov_capture_json(c, SOURCE_URLS_FULL);
	h0 = json_array_get(json_object_get(j, "hops"), 0);
	s = unb64(json_object_get(h0, "request"));
	CHECK(strncmp(s, "GET /a.mp3?token=s3cret HTTP/1.1\r\n", 34) == 0);
	CHECK(strstr(s, "dXNlcjpwYXNz") == NULL);
	free(s);
	json_decref(j);
	prov_free(c);
}

static void
test_limits(void)
{
	struct prov_capture *c = prov_new(PROV_SEGMENT);
	char *big = malloc(PROV_HEAD_MAX + 100);
	json_t *j;

	/* A proxy's tunnel is not the origin's exchange. */
	feed(c, CURLINFO_HEADER_OUT, "CONNECT origin.test:443 HTTP/1.1\r\n"
	    "Proxy-Authorization: Basic eDp5\r\n\r\n");
	feed(c, CURLINFO_HEADER_IN, "HTTP/1.1 200 Connection established\r\n");
	feed(c, CURLINFO_HEADER_IN, "\r\n");
	CHECK(prov_hops(c) == 0);
	for (int i = 0; i < PROV_HOPS_MAX + 3; i++) {
		feed(c, CURLINFO_HEADER_OUT, "GET / HTTP/1.1\r\n\r\n");
		feed(c, CURLINFO_HEADER_IN, i < PROV_HOPS_MAX ? "HTTP/1.1 301 Moved\r\n" :
		    "HTTP/1.1 200 dropped\r\n");
	}
	CHECK(prov_hops(c) == PROV_HOPS_MAX);
	memset(big, 'x', PROV_HEAD_MAX + 100);
	big[PROV_HEAD_MAX + 99] = '\0';
	prov_free(c);

	c = prov_new(PROV_KEY);
	feed(c, CURLINFO_HEADER_OUT, "GET /k HTTP/1.1\r\n\r\n");
	feed(c, CURLINFO_HEADER_IN, big);
	CHECK(prov_body(c, "0123456789abcdef", 16) == 0);
	prov_offset(c, 7);
	j = prov_capture_json(c, SOURCE_URLS_ORIGIN);
	CHECK(json_is_true(json_object_get(json_array_get(json_object_get(j, "hops"), 0),
	    "cut")));
	CHECK(strlen(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "hops"), 0), "response"))) == 4 * ((PROV_HEAD_MAX + 2) / 3));
	CHECK(json_integer_value(json_object_get(j, "offset")) == 7);
	CHECK(strcmp(json_string_value(json_object_get(j, "body")),
	    "MDEyMzQ1Njc4OWFiY2RlZg==") == 0);
	json_decref(j);
	prov_free(c);
	free(big);
}

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
/* SHA-256 of the chain "AAAA": three zero bytes. */
#define CHAIN "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"

static int
reads(const char *doc)
{
	char err[256];
	json_t *j = prov_doc_read(doc, strlen(doc), err, sizeof(err));

	json_decref(j);
	return j != NULL;
}

static void
test_document(void)
{
	struct prov_capture *c = two_hops();
	json_t *doc = prov_doc_new("a.mp3", HEX, 3), *back, *sum;
	char *s, err[256];
	size_t len;

	prov_payload(c, HEX, 3, 1, 2);
	CHECK(prov_doc_add(doc, prov_capture_json(c, SOURCE_URLS_ORIGIN)) == 0);
	s = prov_doc_dump(doc, &len);
	CHECK(s != NULL && strncmp(s, "{\"version\":1,\"item\":{\"name\":\"a.mp3\",", 36) == 0);
	back = prov_doc_read(s, len, err, sizeof(err));
	if (back == NULL)
		fprintf(stderr, "%s\n%s\n", err, s);
	CHECK(back != NULL);
	CHECK(json_equal(back, doc));
	sum = prov_summary(back);
	CHECK(sum != NULL && json_object_get(sum, "date") != NULL &&
	    json_object_get(sum, "tls") == NULL);
	json_decref(sum);
	json_decref(back);
	free(s);
	json_decref(doc);
	prov_free(c);

#define HOP "{\"uri\":\"https://origin.test/a\",\"date\":\"2026-12-04T15:00:00.000001Z\"," \
	"\"ip\":\"127.0.0.1\",\"port\":443,\"tls\":{\"version\":\"TLSv1.3\",\"cipher\":" \
	"\"TLS_AES_256_GCM_SHA384\",\"chain_sha256\":\"" CHAIN "\",\"chain\":[\"AAAA\"]}," \
	"\"request\":\"R0VU\",\"response\":\"\"}"
#define DOC(item, cap) "{\"version\":1,\"item\":" item ",\"captures\":[" cap "]}"
#define ITEM "{\"name\":\"a\",\"sha256\":\"" HEX "\",\"size\":3}"
#define CAP(x) "{\"role\":\"media\",\"date\":\"2026-12-04T15:00:00Z\",\"hops\":[" HOP "]" x "}"
	CHECK(reads(DOC(ITEM, CAP(""))));
	CHECK(reads(DOC(ITEM, CAP(",\"payload\":{\"sha256\":\"" HEX "\",\"size\":9,"
	    "\"range\":[0,8]}"))));
	{
		json_t *d = prov_doc_read(DOC(ITEM, CAP("")), strlen(DOC(ITEM, CAP(""))), err,
		    sizeof(err));
		sum = prov_summary(d);
		CHECK(sum != NULL);
		CHECK(strcmp(json_string_value(json_object_get(sum, "host")), "origin.test") == 0);
		CHECK(strcmp(json_string_value(json_object_get(sum, "ip")), "127.0.0.1") == 0);
		CHECK(strcmp(json_string_value(json_object_get(sum, "tls")), "TLSv1.3") == 0);
		CHECK(strcmp(json_string_value(json_object_get(sum, "cert_sha256")), CHAIN) == 0);
		json_decref(sum);
		json_decref(d);
	}
	/* A chain given once, then named by its hash only. */
#define HOP_SAME "{\"date\":\"2026-12-04T15:00:00Z\",\"tls\":{\"version\":\"TLSv1.3\"," \
	"\"cipher\":\"x\",\"chain_sha256\":\"" CHAIN "\"},\"request\":\"\",\"response\":\"\"}"
	CHECK(reads(DOC(ITEM, "{\"role\":\"playlist\",\"date\":\"2026-12-04T15:00:00Z\","
	    "\"hops\":[" HOP "," HOP_SAME "]}")));
	CHECK(!reads(DOC(ITEM, "{\"role\":\"playlist\",\"date\":\"2026-12-04T15:00:00Z\","
	    "\"hops\":[" HOP_SAME "," HOP "]}")));
	{
		/* prov_doc_compact leaves the first of each chain. */
		char *d2 = NULL;
		size_t l2;
		json_t *d = prov_doc_read(DOC(ITEM, CAP("") "," CAP("")),
		    strlen(DOC(ITEM, CAP("") "," CAP(""))), err, sizeof(err)), *back2;
		CHECK(d != NULL && prov_doc_compact(d) == 0);
		CHECK(json_object_get(json_object_get(json_array_get(json_object_get(
		    json_array_get(json_object_get(d, "captures"), 1), "hops"), 0), "tls"),
		    "chain") == NULL);
		CHECK(json_object_get(json_object_get(json_array_get(json_object_get(
		    json_array_get(json_object_get(d, "captures"), 0), "hops"), 0), "tls"),
		    "chain") != NULL);
		d2 = prov_doc_dump(d, &l2);
		back2 = prov_doc_read(d2, l2, err, sizeof(err));
		CHECK(back2 != NULL);
		json_decref(back2);
		free(d2);
		json_decref(d);
	}
	/* Refused: */
	CHECK(!reads(DOC(ITEM, "{\"role\":\"media\",\"date\":\"2026-12-04T15:00:00Z\","
	    "\"hops\":[{\"date\":\"2026-12-04T15:00:00Z\",\"tls\":{\"version\":\"v\","
	    "\"cipher\":\"x\",\"chain_sha256\":\"" HEX "\",\"chain\":[\"AAAA\"]},"
	    "\"request\":\"\",\"response\":\"\"}]}")));
	CHECK(!reads("not json"));
	CHECK(!reads("{\"version\":2,\"item\":" ITEM ",\"captures\":[" CAP("") "]}"));
	CHECK(!reads(DOC(ITEM, "")));
	CHECK(!reads(DOC(ITEM, CAP(",\"extra\":1"))));
	CHECK(!reads(DOC("{\"name\":\"a\",\"sha256\":\"" HEX "\",\"size\":-1}", CAP(""))));
	CHECK(!reads(DOC("{\"name\":\"a\",\"sha256\":\"ABC\",\"size\":1}", CAP(""))));
	CHECK(!reads(DOC("{\"name\":\"a\\u0000b\",\"sha256\":\"" HEX "\",\"size\":1}",
	    CAP(""))));
	CHECK(!reads("{\"version\":1,\"version\":1,\"item\":" ITEM ",\"captures\":[" CAP("")
	    "]}"));
	CHECK(!reads(DOC(ITEM, CAP(",\"payload\":{\"sha256\":\"" HEX "\",\"size\":9,"
	    "\"range\":[0,9]}"))));
	CHECK(!reads(DOC(ITEM, CAP(",\"payload\":{\"sha256\":\"" HEX "\",\"size\":9,"
	    "\"range\":[5,4]}"))));
	CHECK(!reads(DOC(ITEM, CAP(",\"body\":\"abc\""))));
	CHECK(!reads(DOC(ITEM, CAP(",\"body\":\"ab=c\""))));
	CHECK(!reads(DOC(ITEM, CAP(",\"body\":\"a===\""))));
	CHECK(reads(DOC(ITEM, CAP(",\"body\":\"ab==\""))));
	CHECK(!reads(DOC(ITEM, CAP(",\"offset\":-1"))));
	CHECK(!reads(DOC(ITEM, "{\"role\":\"video\",\"date\":\"2026-12-04T15:00:00Z\","
	    "\"hops\":[" HOP "]}")));
	CHECK(!reads(DOC(ITEM, "{\"role\":\"media\",\"date\":\"yesterday\","
	    "\"hops\":[" HOP "]}")));
	CHECK(!reads(DOC(ITEM, "{\"role\":\"media\",\"date\":\"2026-12-04T15:00:00Z\","
	    "\"hops\":[]}")));
	{
		char *huge = malloc(PROV_DOC_MAX + 2);
		memset(huge, ' ', PROV_DOC_MAX + 1);
		huge[PROV_DOC_MAX + 1] = '\0';
		memcpy(huge, DOC(ITEM, CAP("")), strlen(DOC(ITEM, CAP(""))));
		CHECK(prov_doc_read(huge, PROV_DOC_MAX + 1, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "16 MiB") != NULL);
		free(huge);
	}
}

int
main(void)
{
	test_record();
	test_limits();
	test_document();
	CHECK_DONE();
}
