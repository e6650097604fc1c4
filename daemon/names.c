/*
 * What a name may be: item names safe as a URL segment and a file name
 * (and made from an origin's suggestion), UTF-8 validity, a name's width
 * on a terminal, SHA-256 hex ids, and the MIME type a name's extension
 * implies.
 */

#include "names.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

int
name_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms are how "%c0%ae%c0%ae" sneaks a dot past a filter. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000))
			return 0;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

const char *
name_check(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty name";
	if (len > NAME_MAX_BYTES)
		return "longer than 255 bytes";
	if (name[0] == '.')
		return "starts with a dot";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/')
			return "contains '/'";
		if (c == '\\')
			return "contains a backslash";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
	}
	if (!name_utf8_valid(name, len))
		return "is not valid UTF-8";
	/* C1 controls (U+0080..U+009F) are as invisible as C0 ones. */
	for (i = 0; i + 1 < len; i++) {
		if ((unsigned char)name[i] == 0xc2 &&
		    (unsigned char)name[i + 1] >= 0x80 &&
		    (unsigned char)name[i + 1] <= 0x9f)
			return "contains a control character";
	}
	return NULL;
}

char *
name_from_suggested(const char *s)
{
	const char *seg = s, *c;

	for (c = s; *c != '\0'; c++)
		if (*c == '/' || *c == '\\')
			seg = c + 1;
	if (name_check(seg, strlen(seg)) != NULL)
		return NULL;
	return strdup(seg);
}

size_t
name_display_width(const char *s)
{
	locale_t loc, old;
	mbstate_t st;
	size_t len = strlen(s), n, w = 0;
	wchar_t wc;
	int cw;

	/* A UTF-8 locale for this thread and this call only: the process's
	 * own stays "C". */
	if ((loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) == (locale_t)0) {
		for (; *s != '\0'; s++)
			w += ((unsigned char)*s & 0xc0) != 0x80;
		return w;
	}
	old = uselocale(loc);
	memset(&st, 0, sizeof(st));
	while (len > 0) {
		n = mbrtowc(&wc, s, len, &st);
		if (n == 0 || n > len) {
			/* Not UTF-8 (names are checked; a catalog may not be):
			 * a column a byte, and start afresh. */
			memset(&st, 0, sizeof(st));
			n = 1;
			cw = 1;
		} else if ((cw = wcwidth(wc)) < 0)
			cw = 0;	/* not printable */
		w += (size_t)cw;
		s += n;
		len -= n;
	}
	uselocale(old);
	freelocale(loc);
	return w;
}

int
name_is_sha256_hex(const char *s, size_t len)
{
	size_t i;

	if (len != 64)
		return 0;
	for (i = 0; i < 64; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
	{ "aac", "audio/aac" },
	{ "avi", "video/x-msvideo" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "epub", "application/epub+zip" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "m4a", "audio/mp4" },
	{ "m4v", "video/mp4" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mkv", "video/x-matroska" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "opus", "audio/ogg" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webp", "image/webp" },
	{ "xml", "application/xml" },
	{ "zip", "application/zip" },
};

const char *
mime_from_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL || dot[1] == '\0')
		return "application/octet-stream";
	for (i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++) {
		if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
			return mime_table[i].type;
	}
	return "application/octet-stream";
}
