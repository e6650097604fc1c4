/*
 * The headers of an object response (GET/HEAD /files/NAME and
 * /sha256/HEX): validators and caching, the representation's type and
 * digest, and the name a download is saved under. Set here, in one
 * place, so that every route answering with an object says the same;
 * the policy every answer carries (nosniff, CSP) is http_conn.c's.
 */
#ifndef EMBERD_SERVER_HEADERS_H
#define EMBERD_SERVER_HEADERS_H

#include <stddef.h>

#include "http_conn.h"

/*
 * What every answer about an object carries, 304 and 416 included:
 * ETag (ETAG, quoted), Accept-Ranges, Cache-Control (IMMUTABLE: the
 * /sha256/ form, which never changes; else no-cache, since a name can be
 * re-published) and, for objects stored deflated, Vary: Accept-Encoding.
 */
void server_headers_object(struct http_conn *c, const char *etag, int immutable,
    int vary);

/*
 * What a 200 or 206 with the object's bytes adds: Content-Type TYPE,
 * Repr-Digest of the bytes sent (DIGEST_HEX: their SHA-256, 64 hex) and
 * Content-Disposition naming NAME (see server_headers_disposition).
 */
void server_headers_content(struct http_conn *c, const char *type, const char *name,
    const char *digest_hex);

/*
 * The Content-Disposition value for a download named NAME (UTF-8, an
 * item name: no control characters) into OUT: `inline; filename="F";
 * filename*=UTF-8''E` (RFC 6266 4.1, RFC 8187 3.2). E is NAME with every
 * byte but RFC 8187's attr-chars percent-encoded: browsers and wget save
 * the real name from it. F is for clients that read only filename=
 * (curl -OJ saves it as it is): printable ASCII, with every other byte
 * (each byte of a UTF-8 character) and `"`, `\` and `%` percent-encoded
 * the same way. So the fallback is safe in a quoted string, keeps the
 * extension and the ASCII parts, stays distinct for distinct names (a
 * `_` for each character would save every three-character Chinese name
 * as `___.mp3`), decodes back to the exact name, and a client that
 * percent-decodes filename= gets the real name. Inline: a browser plays
 * media in place and offers the name when saving. 0, or -1 when OUTLEN
 * is too small (a 255-byte name needs at most 1,569 bytes).
 */
int server_headers_disposition(char *out, size_t outlen, const char *name);

#endif
