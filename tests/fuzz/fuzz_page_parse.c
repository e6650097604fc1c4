/*
 * A page from an origin goes through the HTML page parser in two
 * chunks, split at a position taken from the input's first byte, with
 * small caps. Whatever the bytes: the counts agree with the links,
 * media come before feeds and stay within the caps, every URL is an
 * absolute http(s) URL without fragment of at most PAGE_URL_MAX bytes,
 * each once per kind, types are lowercase, and the title and
 * description are trimmed, collapsed, valid UTF-8 within their caps.
 * page_sniff and page_is_media read the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "page_parse.h"

#define MAX_MEDIA	8
#define MAX_FEEDS	3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, k;

	while (u[i] != '\0') {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
		if (u[i] < 0x80)
			n = 0;
		else if (u[i] >= 0xc2 && u[i] <= 0xdf)
			n = 1;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			n = 2;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			n = 3;
		else
			return 0;
		for (k = 1; k <= n; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

static void
check_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n == 0 || n > max || !utf8_ok(s) || s[0] == ' ' || s[n - 1] == ' ' ||
	    strstr(s, "  ") != NULL)
		__builtin_trap();
}

static void
check(const struct page_info *in)
{
	size_t i, j;
	const char *t;

	if (in->n_links != in->n_media + in->n_feeds || in->n_media > MAX_MEDIA ||
	    in->n_feeds > MAX_FEEDS || (in->n_links > 0) != (in->links != NULL))
		__builtin_trap();
	check_text(in->title, PAGE_TITLE_MAX);
	check_text(in->description, PAGE_DESCRIPTION_MAX);
	for (i = 0; i < in->n_links; i++) {
		const struct page_link *l = &in->links[i];

		if (l->kind != (i < in->n_media ? PAGE_MEDIA : PAGE_FEED) ||
		    l->url == NULL || l->raw == NULL || strlen(l->url) > PAGE_URL_MAX ||
		    strlen(l->raw) > PAGE_URL_MAX || strchr(l->url, '#') != NULL ||
		    (strncmp(l->url, "http://", 7) != 0 && strncmp(l->url, "https://", 8) != 0))
			__builtin_trap();
		for (t = l->type; t != NULL && *t != '\0'; t++)
			if ((*t >= 'A' && *t <= 'Z') || *t == ' ' || *t == ';')
				__builtin_trap();
		for (j = 0; j < i; j++)
			if (in->links[j].kind == l->kind && strcmp(in->links[j].url, l->url) == 0)
				__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct page_parser *p;
	struct page_info info;
	char err[128], *copy;
	size_t cut;

	(void)page_sniff((const char *)data, size);
	/* page_is_media wants a string: the input up to its first NUL. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	(void)page_is_media(copy, copy);
	free(copy);

	cut = size > 0 ? (size_t)data[0] * size / 256 : 0;
	if ((p = page_parser_new("https://origin.example/dir/page.html?q=1",
	    MAX_MEDIA, MAX_FEEDS)) == NULL)
		return 0;
	if (page_parser_feed(p, (const char *)data, cut) == 0 &&
	    page_parser_feed(p, (const char *)data + cut, size - cut) == 0 &&
	    page_parser_finish(p, &info, err, sizeof(err)) == 0) {
		check(&info);
		page_info_free(&info);
	}
	page_parser_free(p);
	return 0;
}
