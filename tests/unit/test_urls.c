/*
 * A URL's secrets never leave: the catalog's "source" per
 * [mirror] source_urls, and the form log lines use, never hold a user,
 * a password or (but in "full" mode) a query; catalog_redact_sources
 * cleans every item of an existing catalog.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "urls.h"
#include "check.h"

#define SECRET "http://user:pass@127.0.0.1:8080/f/a%2Db.mp3?token=secret&X-Amz-Signature=abc#frag"

static int
redacts(const char *url, enum source_urls mode, const char *want)
{
	char *got = url_redact(url, mode);
	int ok = got != NULL && strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "url_redact(%s, %d) = %s, want %s\n", url, (int)mode,
		    got != NULL ? got : "(null)", want);
	free(got);
	return ok;
}

static int
shows(const char *url, const char *want)
{
	char buf[URL_SHOW_MAX];

	url_show(url, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "url_show(%s) = %s, want %s\n", url, buf, want);
	return strcmp(buf, want) == 0;
}

static void
test_modes(void)
{
	enum source_urls m;

	CHECK(url_source_urls_parse("origin", &m) == 0 && m == SOURCE_URLS_ORIGIN);
	CHECK(url_source_urls_parse("full", &m) == 0 && m == SOURCE_URLS_FULL);
	CHECK(url_source_urls_parse("none", &m) == 0 && m == SOURCE_URLS_NONE);
	CHECK(url_source_urls_parse("maybe", &m) == -1);
	CHECK(url_source_urls_parse("Origin", &m) == -1);
	CHECK(url_source_urls_parse("", &m) == -1);
}

static void
test_redact(void)
{
	CHECK(redacts(SECRET, SOURCE_URLS_ORIGIN, "http://127.0.0.1:8080/f/a%2Db.mp3"));
	CHECK(redacts(SECRET, SOURCE_URLS_FULL,
	    "http://127.0.0.1:8080/f/a%2Db.mp3?token=secret&X-Amz-Signature=abc"));
	CHECK(redacts("https://u@origin.example/x;y?q=1", SOURCE_URLS_ORIGIN,
	    "https://origin.example/x;y"));
	CHECK(redacts("https://origin.example", SOURCE_URLS_ORIGIN,
	    "https://origin.example/"));
	CHECK(redacts("https://:pw@origin.example/a", SOURCE_URLS_FULL,
	    "https://origin.example/a"));
	CHECK(redacts("", SOURCE_URLS_ORIGIN, ""));
	/* What libcurl cannot parse is not published at all. */
	CHECK(redacts("not a url with user:pass@", SOURCE_URLS_ORIGIN, ""));
	CHECK(redacts("http://[::1/x?token=secret", SOURCE_URLS_FULL, ""));
}

static void
test_show(void)
{
	char small[24], big[URL_SHOW_MAX * 2];

	CHECK(shows(SECRET, "http://127.0.0.1:8080/f/a%2Db.mp3?\xe2\x80\xa6"));
	CHECK(shows("https://mirror.example/", "https://mirror.example/"));
	CHECK(shows("https://a:b@mirror.example/sha256/ab", "https://mirror.example/sha256/ab"));
	CHECK(shows("user:pass@nothing", "(unparsable URL)"));
	CHECK(shows(NULL, "(unparsable URL)"));
	/* Cut to the buffer, marked, never past it. */
	url_show("https://origin.example/a/long/path/name.mp4?token=secret", small,
	    sizeof(small));
	CHECK(strlen(small) < sizeof(small));
	CHECK(strstr(small, "\xe2\x80\xa6") != NULL);
	CHECK(strncmp(small, "https://origin.ex", 17) == 0);
	memset(big, 'a', sizeof(big));
	memcpy(big, "http://h/", 9);
	big[sizeof(big) - 1] = '\0';
	{
		char out[URL_SHOW_MAX];
		url_show(big, out, sizeof(out));
		CHECK(strlen(out) == sizeof(out) - 1);
	}
}

static void
test_catalog(void)
{
	static const char *const keys[] = { "name", "sha256", "size", "type", "source",
	    "fetched" };
	json_t *cat = catalog_new("n", "0123456789ABCDEF"), *item;
	const char *k;
	json_t *v;
	size_t i;

	CHECK(cat != NULL);
	CHECK(catalog_put_item(cat, "a.mp3", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    1, "audio/mpeg", SECRET, "2026-11-28T11:59:00Z") == 1);
	CHECK(catalog_put_item(cat, "b.txt", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    1, "text/plain", "", "2026-11-28T11:59:00Z") == 1);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_FULL) == 1);
	CHECK(strcmp(json_string_value(json_object_get(catalog_find_item(cat, "a.mp3"),
	    "source")), "http://127.0.0.1:8080/f/a%2Db.mp3?token=secret&X-Amz-Signature=abc") == 0);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_FULL) == 0);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_ORIGIN) == 1);
	item = catalog_find_item(cat, "a.mp3");
	CHECK(strcmp(json_string_value(json_object_get(item, "source")),
	    "http://127.0.0.1:8080/f/a%2Db.mp3") == 0);
	/* Replaced in place: the item's keys keep their order. */
	i = 0;
	json_object_foreach(item, k, v) {
		CHECK(i < 6 && strcmp(k, keys[i]) == 0);
		i++;
	}
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_ORIGIN) == 0);
	CHECK(strcmp(json_string_value(json_object_get(catalog_find_item(cat, "b.txt"),
	    "source")), "") == 0);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_NONE) == 1);
	CHECK(json_object_get(catalog_find_item(cat, "a.mp3"), "source") == NULL);
	CHECK(json_object_get(catalog_find_item(cat, "b.txt"), "source") == NULL);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_NONE) == 0);
	/* A catalog without sources still parses (followers, fetch). */
	{
		char err[256], *text = json_dumps(cat, JSON_COMPACT);
		json_t *back = text != NULL ? catalog_parse(text, strlen(text), err,
		    sizeof(err)) : NULL;
		CHECK(back != NULL);
		json_decref(back);
		free(text);
	}
	json_decref(cat);
}

/* A provenance document cannot be redacted after the fact: the item
 * loses it when the mode publishes less than the one it was made under. */
static void
test_provenance(void)
{
	static const char *const made[] = { "full", "origin", NULL };
	json_t *cat = catalog_new("n", "0123456789ABCDEF");
	struct catalog_item it = { .sha256 =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    .size = 1, .type = "text/plain", .source = "http://h/x",
	    .fetched = "2026-11-28T11:59:00Z" };
	char name[8];

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%d", i);
		it.name = name;
		it.provenance = json_pack("{s:s, s:i}", "sha256", it.sha256, "size", 10);
		if (made[i] != NULL)
			json_object_set_new(it.provenance, "source_urls", json_string(made[i]));
		CHECK(catalog_put(cat, &it) == 1);
		json_decref(it.provenance);
	}
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_FULL) == 0);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_ORIGIN) == 1);
	CHECK(json_object_get(catalog_find_item(cat, "0"), "provenance") == NULL);
	CHECK(json_object_get(catalog_find_item(cat, "1"), "provenance") != NULL);
	CHECK(json_object_get(catalog_find_item(cat, "2"), "provenance") == NULL);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_ORIGIN) == 0);
	CHECK(catalog_redact_sources(cat, SOURCE_URLS_NONE) == 1);
	CHECK(json_object_get(catalog_find_item(cat, "1"), "provenance") == NULL);
	json_decref(cat);
}

int
main(void)
{
	test_provenance();
	test_modes();
	test_redact();
	test_show();
	test_catalog();
	CHECK_DONE();
}
