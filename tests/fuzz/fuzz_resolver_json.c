/*
 * yt-dlp's answer is what a site made yt-dlp print: untrusted JSON
 * through resolver_parse. On success there are 1 to RESOLVER_MEDIA_MAX
 * media, each URL http(s) without control characters and within
 * RESOLVER_URL_MAX, each header a "Name: value" line within its limits
 * with no CR or LF, ext only letters, digits and '_', the texts valid
 * UTF-8 within their caps; on failure an error line and a zeroed
 * result. Either way resolver_result_free leaves nothing behind
 * (ASan's leak check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	if (s != NULL && (strlen(s) > max || !name_utf8_valid(s, strlen(s))))
		__builtin_trap();
}

static void
check_word(const char *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (strlen(s) > RESOLVER_WORD_MAX)
		__builtin_trap();
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			__builtin_trap();
}

static void
check_media(const struct resolver_media *m)
{
	size_t i;

	if (m->url == NULL || strlen(m->url) > RESOLVER_URL_MAX ||
	    (strncasecmp(m->url, "http://", 7) != 0 && strncasecmp(m->url, "https://", 8) != 0))
		__builtin_trap();
	for (i = 0; m->url[i] != '\0'; i++)
		if ((unsigned char)m->url[i] < 0x20 || m->url[i] == 0x7f)
			__builtin_trap();
	check_word(m->ext);
	check_word(m->protocol);
	check_word(m->format_id);
	check_word(m->vcodec);
	check_word(m->acodec);
	if (m->ext != NULL && strspn(m->ext, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(m->ext))
		__builtin_trap();
	if (m->n_headers > RESOLVER_HEADERS_MAX || (m->n_headers > 0) != (m->headers != NULL))
		__builtin_trap();
	for (i = 0; i < m->n_headers; i++) {
		const char *h = m->headers[i], *colon = strstr(h, ": ");

		if (strlen(h) > RESOLVER_HEADER_MAX || colon == NULL || colon == h ||
		    strpbrk(h, "\r\n") != NULL || memchr(h, ':', (size_t)(colon - h)) != NULL)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resolver_result r;
	char err[512];
	size_t i;

	memset(&r, 0xa5, sizeof(r));
	err[0] = '\0';
	if (resolver_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		if (r.n_media < 1 || r.n_media > RESOLVER_MEDIA_MAX || r.media == NULL)
			__builtin_trap();
		check_text(r.title, RESOLVER_TITLE_MAX);
		check_text(r.description, RESOLVER_DESCRIPTION_MAX);
		check_text(r.id, RESOLVER_TITLE_MAX);
		check_text(r.webpage_url, RESOLVER_URL_MAX);
		for (i = 0; i < r.n_media; i++)
			check_media(&r.media[i]);
	} else {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL ||
		    r.media != NULL || r.n_media != 0 || r.title != NULL ||
		    r.description != NULL || r.id != NULL || r.webpage_url != NULL)
			__builtin_trap();
	}
	resolver_result_free(&r);
	return 0;
}
