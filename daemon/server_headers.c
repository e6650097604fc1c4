/*
 * Object response headers (see server_headers.h): validators, caching,
 * Content-Type, Repr-Digest and Content-Disposition.
 */
#include "server_headers.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "hexutil.h"

/* The longest value server_headers_disposition makes for a 255-byte
 * name: 3 bytes per byte encoded, twice, and the words around them
 * (1,568 bytes). With a 255-byte type the whole response head stays
 * within http_conn.c's HEAD_MAX. */
#define DISPOSITION_MAX	1600

void
server_headers_object(struct http_conn *c, const char *etag, int immutable, int vary)
{
	http_conn_header(c, "ETag", etag);
	http_conn_header(c, "Accept-Ranges", "bytes");
	http_conn_header(c, "Cache-Control", immutable ?
	    "public, max-age=31536000, immutable" : "no-cache");
	if (vary)
		http_conn_header(c, "Vary", "Accept-Encoding");
}

/* RFC 8187 3.2.1 attr-char: sent as is in an ext-value; the rest is
 * percent-encoded. */
static int
server_headers_attr_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("!#$&+-.^_`|~", ch) != NULL;
}

/* In the quoted fallback: printable ASCII but the quote, the backslash
 * (RFC 9110 5.6.4 quoted-string, with no escapes to get wrong) and '%'
 * (so that percent-decoding the fallback gives back the name). */
static int
server_headers_quoted_char(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '%';
}

/* NAME into OUT from *OFF, bytes that KEEP refuses as %XX. -1: no room
 * (for the bytes and a NUL). */
static int
server_headers_encode(char *out, size_t outlen, size_t *off, const char *name,
    int (*keep)(unsigned char))
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		int plain = keep(*p);
		if (*off + (plain ? 1 : 3) + 1 > outlen)
			return -1;
		if (plain) {
			out[(*off)++] = (char)*p;
		} else {
			out[(*off)++] = '%';
			out[(*off)++] = hex[*p >> 4];
			out[(*off)++] = hex[*p & 15];
		}
	}
	out[*off] = '\0';
	return 0;
}

int
server_headers_disposition(char *out, size_t outlen, const char *name)
{
	size_t off = 0;
	int n;

	n = snprintf(out, outlen, "inline; filename=\"");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	off = (size_t)n;
	if (server_headers_encode(out, outlen, &off, name, server_headers_quoted_char) == -1)
		return -1;
	n = snprintf(out + off, outlen - off, "\"; filename*=UTF-8''");
	if (n < 0 || (size_t)n >= outlen - off)
		return -1;
	off += (size_t)n;
	return server_headers_encode(out, outlen, &off, name, server_headers_attr_char);
}

void
server_headers_content(struct http_conn *c, const char *type, const char *name,
    const char *digest_hex)
{
	char value[DISPOSITION_MAX];
	uint8_t raw[32];
	char b64[48];

	http_conn_header(c, "Content-Type", type);
	/* RFC 9530: the digest of the representation sent. */
	hex_decode(digest_hex, 64, raw);
	EVP_EncodeBlock((unsigned char *)b64, raw, 32);
	snprintf(value, sizeof(value), "sha-256=:%s:", b64);
	http_conn_header(c, "Repr-Digest", value);
	/* Cannot fail for an item name (at most 255 bytes); a name that did
	 * not fit would only cost the header, never the download. */
	if (server_headers_disposition(value, sizeof(value), name) == 0)
		http_conn_header(c, "Content-Disposition", value);
}
