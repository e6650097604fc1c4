/*
 * What readers may see and type as names: item names, UTF-8, SHA-256
 * hex ids, and MIME types derived from a name. Pure functions, no I/O.
 */

#ifndef EMBERD_NAMES_H
#define EMBERD_NAMES_H

#include <stddef.h>

#define NAME_MAX_BYTES 255

/*
 * Item names are what readers type after /files/: they must be safe as a
 * single URL path segment and as a file name anywhere a reader saves them.
 * Returns NULL when NAME is valid, else a short reason.
 */
const char *name_check(const char *name, size_t len);

/*
 * An item name from an untrusted suggestion (an origin's
 * Content-Disposition file name): its last path segment, after any '/'
 * or '\\' (RFC 6266 section 4.3: never a path), when name_check accepts
 * that; so "../../etc/passwd" gives "passwd", and "..", ".hidden", "",
 * a control character or invalid UTF-8 give none. A heap copy, or NULL.
 */
char *name_from_suggested(const char *s);

/*
 * The columns S takes on a terminal: wcwidth() of each character under
 * a UTF-8 locale (a CJK character is two, a combining mark none);
 * without that locale, one a character. Never negative.
 */
size_t name_display_width(const char *s);

/* Well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). 1 yes, 0 no. */
int name_utf8_valid(const char *s, size_t len);

/* 1 when S is exactly 64 lowercase hex digits. */
int name_is_sha256_hex(const char *s, size_t len);

/* A MIME type from the name's extension; "application/octet-stream" when
 * unknown. Never NULL. */
const char *mime_from_name(const char *name);

#endif
