/* The index page renders catalogs whose titles, descriptions, languages,
 * dates and links between items were taken from hostile pages and feeds.
 * Whatever the catalog says, every item must be listed exactly once, the
 * markup must stay balanced and inert (no script, links only to the
 * mirror or to web URLs), and the headings must not nest without end.
 * Every page is rendered, in a language chosen by the input's size, and
 * each item must be on exactly one of them; a search too must stay
 * inert. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "index_page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
fuzz_count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += l;
	}
	return n;
}

static int
fuzz_has_ci(const char *hay, const char *needle)
{
	size_t l = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, l) == 0)
			return 1;
	return 0;
}

/* Every href and src points into the mirror or at a web URL (a static
 * export links its other pages as index.*.html files). */
static int
fuzz_links_ok(const char *s)
{
	static const char *attrs[] = { " href=\"", " src=\"" };
	static const char *ok[] = { "files/", "sha256/", "#", "catalog.json",
	    "pubkey", "http://", "https://", "?lang=", "index." };
	const char *p;
	size_t a, i;
	int good;

	for (a = 0; a < 2; a++)
		for (p = s; (p = strstr(p, attrs[a])) != NULL; p++) {
			p += strlen(attrs[a]);
			good = 0;
			for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
				if (strncasecmp(p, ok[i], strlen(ok[i])) == 0)
					good = 1;
			if (!good)
				return 0;
		}
	return 1;
}

/* Page PAGE's items checked: balanced, inert, ids distinct over all
 * pages (SEEN). The number of item blocks, or traps. */
static size_t
fuzz_page(struct index_page_info *info, json_t *items, unsigned char *seen,
    size_t *pages)
{
	size_t i, len, blocks;
	const char *p;
	char *s, *end;

	if ((s = index_page_render(info, &len, pages)) == NULL)
		__builtin_trap();	/* only when out of memory */
	if (strlen(s) != len)
		__builtin_trap();
	blocks = fuzz_count(s, "<section class=\"item");
	if (fuzz_count(s, "<section") != fuzz_count(s, "</section>") ||
	    fuzz_has_ci(s, "<script") || strstr(s, "<h7") != NULL ||
	    !fuzz_links_ok(s) || *pages < 1)
		__builtin_trap();
	/* Each block's id names a distinct item. */
	for (p = s; seen != NULL && (p = strstr(p, " id=\"item-")) != NULL;
	    p++) {
		i = strtoul(p + 10, &end, 10);
		if (i < 1 || i > json_array_size(items) || seen[i - 1] ||
		    !json_is_object(json_array_get(items, i - 1)))
			__builtin_trap();
		seen[i - 1] = 1;
	}
	free(s);
	return blocks;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int langs[] = { 4, 0, 1, 2, 3 };
	struct index_page_info info = { NULL, "RWQkey", NULL, NULL, 0, langs,
	    5, 1, NULL, 0 };
	json_t *cat, *items, *v;
	size_t i, n = 0, blocks = 0, pages = 1;
	unsigned char *seen;

	if (size > 65536)
		return 0;
	if ((cat = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	info.catalog = cat;
	info.lang = (int)(size % index_n_langs);
	if (size % 2)
		info.pin = "AAAA+/==";
	info.self_url = size % 3 ? NULL : "https://m.example:8443/";
	info.static_pages = size % 5 == 0;
	items = json_object_get(cat, "items");
	if (json_is_array(items))
		json_array_foreach(items, i, v)
			if (json_is_object(v))
				n++;
	if ((seen = calloc(json_array_size(items) + 1, 1)) == NULL)
		__builtin_trap();
	for (info.page = 1; info.page <= pages; info.page++)
		blocks += fuzz_page(&info, items, seen, &pages);
	if (blocks != n)
		__builtin_trap();
	/* A search whose text is hostile too: every match at most once. */
	info.page = 1;
	info.query = "<script>\"'&a";
	if (fuzz_page(&info, items, NULL, &pages) > n)
		__builtin_trap();
	info.query = "e";
	if (fuzz_page(&info, items, NULL, &pages) > n)
		__builtin_trap();
	free(seen);
	json_decref(cat);
	return 0;
}
