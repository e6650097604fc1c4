/* The index page renders catalogs whose titles, descriptions, languages,
 * dates and links between items were taken from hostile pages and feeds.
 * Whatever the catalog says, every item must be listed exactly once, the
 * markup must stay balanced and inert (no script, links only to the
 * mirror or to web URLs), and the headings must not nest without end. */
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

/* Every href and src points into the mirror or at a web URL. */
static int
fuzz_links_ok(const char *s)
{
	static const char *attrs[] = { " href=\"", " src=\"" };
	static const char *ok[] = { "files/", "sha256/", "#", "catalog.json",
	    "pubkey", "http://", "https://" };
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index_page_info info = { NULL, "RWQkey", NULL };
	json_t *cat, *items, *v;
	size_t i, len, n = 0;
	unsigned char *seen;
	const char *p;
	char *s, *end;

	if (size > 65536)
		return 0;
	if ((cat = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	info.catalog = cat;
	items = json_object_get(cat, "items");
	if (json_is_array(items))
		json_array_foreach(items, i, v)
			if (json_is_object(v))
				n++;
	if ((s = index_page_render(&info, &len)) == NULL)
		__builtin_trap();	/* only when out of memory */
	if (strlen(s) != len)
		__builtin_trap();
	if (fuzz_count(s, "<section class=\"item") != n ||
	    fuzz_count(s, "<section") != fuzz_count(s, "</section>") ||
	    fuzz_has_ci(s, "<script") || strstr(s, "<h7") != NULL ||
	    !fuzz_links_ok(s))
		__builtin_trap();
	/* Each block's id names a distinct item. */
	if ((seen = calloc(json_array_size(items) + 1, 1)) == NULL)
		__builtin_trap();
	for (p = s; (p = strstr(p, " id=\"item-")) != NULL; p++) {
		i = strtoul(p + 10, &end, 10);
		if (i < 1 || i > json_array_size(items) || seen[i - 1] ||
		    !json_is_object(json_array_get(items, i - 1)))
			__builtin_trap();
		seen[i - 1] = 1;
	}
	free(seen);
	free(s);
	json_decref(cat);
	return 0;
}
