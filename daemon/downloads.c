/*
 * The Metalink 4 and BitTorrent v1 writers of downloads.h.
 *
 * Both documents are small (a torrent of a 4 GiB item at 1 MiB pieces
 * is about 80 KiB) and built once per request or per catalog change, so
 * plain appends into one growing buffer are enough. The buffer keeps a
 * sticky error so the writers below read as the document they produce
 * rather than as a ladder of checks; dl_buf_finish reports it once.
 */

#include "downloads.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hexutil.h"
#include "names.h"
#include "pieces.h"

#define DL_BUF_MIN	1024
#define DL_SHA1_LEN	20

struct dl_buf {
	char *data;
	size_t len, cap;
	int failed;
};

/* Room for N more bytes plus a NUL. Doubling keeps the cost linear. */
static int
dl_buf_reserve(struct dl_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (b->failed)
		return -1;
	if (n > SIZE_MAX - 1 - b->len)
		goto fail;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < DL_BUF_MIN ? DL_BUF_MIN : b->cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = ncap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

static void
dl_buf_add(struct dl_buf *b, const void *p, size_t n)
{
	if (dl_buf_reserve(b, n) == -1)
		return;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
dl_buf_str(struct dl_buf *b, const char *s)
{
	dl_buf_add(b, s, strlen(s));
}

static void
dl_buf_u64(struct dl_buf *b, uint64_t v)
{
	char tmp[24];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	dl_buf_add(b, tmp, (size_t)n);
}

/* Hand the bytes to the caller, or free them after an error. */
static char *
dl_buf_finish(struct dl_buf *b, size_t *len)
{
	/* An empty document never happens, but keep the NUL promise. */
	dl_buf_add(b, "", 0);
	if (b->failed) {
		free(b->data);
		return NULL;
	}
	if (len != NULL)
		*len = b->len;
	return b->data;
}

/*
 * XML 1.0 (section 2.2) has no way to carry NUL or C0 controls other
 * than tab, LF and CR, nor U+FFFE and U+FFFF, not even as character
 * references; and a document in broken UTF-8 is not well-formed. 1 when
 * S can be written, 0 when the document must be refused.
 */
static int
dl_xml_ok(const char *s)
{
	const unsigned char *p;
	size_t n = strlen(s);

	if (!name_utf8_valid(s, n))
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return 0;
		if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			return 0;
	}
	return 1;
}

/*
 * Append S escaped for element text and attribute values alike. Tab, LF
 * and CR become character references: a parser normalises them to
 * spaces in attributes (and CR LF to LF in text), and the value must
 * read back exactly as written. S has passed dl_xml_ok.
 */
static void
dl_buf_xml(struct dl_buf *b, const char *s)
{
	const char *ent;
	size_t run;

	for (;;) {
		/* Copy harmless runs in one go: most names have no entity. */
		run = strcspn(s, "&<>\"'\t\n\r");
		dl_buf_add(b, s, run);
		s += run;
		if (*s == '\0')
			return;
		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&apos;";
			break;
		case '\t':
			ent = "&#9;";
			break;
		case '\n':
			ent = "&#10;";
			break;
		default:
			ent = "&#13;";
			break;
		}
		dl_buf_str(b, ent);
		s++;
	}
}

/* Bencode: a byte string is "LEN:BYTES", an integer "iNe". */
static void
dl_buf_bstr(struct dl_buf *b, const void *p, size_t n)
{
	dl_buf_u64(b, n);
	dl_buf_add(b, ":", 1);
	dl_buf_add(b, p, n);
}

static void
dl_buf_bint(struct dl_buf *b, uint64_t v)
{
	dl_buf_add(b, "i", 1);
	dl_buf_u64(b, v);
	dl_buf_add(b, "e", 1);
}

/* The full file URL on one mirror: BASE + "sha256/" + HEX. */
static void
dl_buf_url(struct dl_buf *b, const char *base, const char *hex, int xml)
{
	if (xml) {
		dl_buf_xml(b, base);
		dl_buf_str(b, "sha256/");
		dl_buf_str(b, hex);
	} else {
		size_t n = strlen(base);

		if (n > SIZE_MAX - 7 - 64) {
			b->failed = 1;
			return;
		}
		dl_buf_u64(b, n + 7 + 64);
		dl_buf_add(b, ":", 1);
		dl_buf_add(b, base, n);
		dl_buf_str(b, "sha256/");
		dl_buf_str(b, hex);
	}
}

/* What both formats need: a name, an object id and bases that are
 * directories, so that appending "sha256/HEX" makes a file URL. */
static int
dl_check_common(const struct dl_item *it, const char *const *bases,
    size_t n_bases)
{
	size_t i, n;

	if (it == NULL || it->name == NULL || it->name[0] == '\0' ||
	    it->sha256 == NULL ||
	    !name_is_sha256_hex(it->sha256, strlen(it->sha256)))
		return -1;
	if (n_bases > 0 && bases == NULL)
		return -1;
	for (i = 0; i < n_bases; i++) {
		if (bases[i] == NULL || (n = strlen(bases[i])) == 0 ||
		    bases[i][n - 1] != '/')
			return -1;
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac]Z": the UTC subset of RFC 3339 that the
 * catalog uses. Metalink clients parse it, so refuse anything else. */
static int
dl_rfc3339_ok(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	int mon, day, hour, min, sec;
	size_t i;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	mon = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	hour = (s[11] - '0') * 10 + (s[12] - '0');
	min = (s[14] - '0') * 10 + (s[15] - '0');
	sec = (s[17] - '0') * 10 + (s[18] - '0');
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 60)
		return 0;
	s += i;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return 0;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	return s[0] == 'Z' && s[1] == '\0';
}

/* Pieces that agree with the size and piece length (clients recompute
 * the count and drop a document that disagrees). */
static int
dl_pieces_ok(const struct dl_item *it)
{
	uint32_t pl = it->piece_length;
	uint64_t want;

	if (pl < DL_PIECE_MIN || (pl & (pl - 1)) != 0 || it->size > INT64_MAX)
		return 0;
	want = pieces_count(it->size, pl);
	return it->n_pieces == want && it->n_pieces <= SIZE_MAX / DL_SHA1_LEN &&
	    (it->n_pieces == 0 || it->pieces != NULL);
}

char *
dl_metalink(const struct dl_item *it, const char *const *bases,
    size_t n_bases, const char *published, size_t *len)
{
	struct dl_buf b = { NULL, 0, 0, 0 };
	size_t i;

	if (dl_check_common(it, bases, n_bases) == -1 ||
	    n_bases == 0 || n_bases > DL_METALINK_MAX_URLS ||
	    !dl_xml_ok(it->name) ||
	    (published != NULL && !dl_rfc3339_ok(published)))
		return NULL;
	for (i = 0; i < n_bases; i++)
		if (!dl_xml_ok(bases[i]))
			return NULL;

	dl_buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n");
	if (published != NULL) {
		dl_buf_str(&b, "  <published>");
		dl_buf_str(&b, published);
		dl_buf_str(&b, "</published>\n");
	}
	dl_buf_str(&b, "  <file name=\"");
	dl_buf_xml(&b, it->name);
	dl_buf_str(&b, "\">\n    <size>");
	dl_buf_u64(&b, it->size);
	dl_buf_str(&b, "</size>\n    <hash type=\"sha-256\">");
	dl_buf_str(&b, it->sha256);
	dl_buf_str(&b, "</hash>\n");
	if (it->n_pieces > 0 && dl_pieces_ok(it)) {
		/* The torrent's SHA-1 pieces: a client that takes parts from
		 * several mirrors can then tell which part was altered and fetch
		 * just that again, instead of failing the whole file. */
		static const char hx[] = "0123456789abcdef";
		char h[2 * DL_SHA1_LEN];
		size_t p, k;
		dl_buf_str(&b, "    <pieces length=\"");
		dl_buf_u64(&b, it->piece_length);
		dl_buf_str(&b, "\" type=\"sha-1\">\n");
		for (p = 0; p < it->n_pieces; p++) {
			const uint8_t *d = it->pieces + p * DL_SHA1_LEN;
			for (k = 0; k < DL_SHA1_LEN; k++) {
				h[2 * k] = hx[d[k] >> 4];
				h[2 * k + 1] = hx[d[k] & 15];
			}
			dl_buf_str(&b, "      <hash>");
			dl_buf_add(&b, h, sizeof(h));
			dl_buf_str(&b, "</hash>\n");
		}
		dl_buf_str(&b, "    </pieces>\n");
	}
	for (i = 0; i < n_bases; i++) {
		dl_buf_str(&b, "    <url priority=\"");
		dl_buf_u64(&b, i + 1);
		dl_buf_str(&b, "\">");
		dl_buf_url(&b, bases[i], it->sha256, 1);
		dl_buf_str(&b, "</url>\n");
	}
	dl_buf_str(&b, "  </file>\n</metalink>\n");
	return dl_buf_finish(&b, len);
}

/*
 * The bencoded info dict, appended to B. Clients recompute the piece
 * count from length and piece length and drop a torrent that disagrees,
 * so an inconsistent item is refused here rather than served.
 */
static int
dl_info(struct dl_buf *b, const struct dl_item *it)
{
	uint32_t pl = it->piece_length;

	if (!dl_pieces_ok(it) || !name_utf8_valid(it->name, strlen(it->name)))
		return -1;

	dl_buf_str(b, "d6:length");
	dl_buf_bint(b, it->size);
	dl_buf_str(b, "4:name");
	dl_buf_bstr(b, it->name, strlen(it->name));
	dl_buf_str(b, "12:piece length");
	dl_buf_bint(b, pl);
	dl_buf_str(b, "6:pieces");
	dl_buf_bstr(b, it->pieces, it->n_pieces * DL_SHA1_LEN);
	dl_buf_str(b, "e");
	return 0;
}

char *
dl_torrent(const struct dl_item *it, const char *const *bases,
    size_t n_bases, size_t *len)
{
	struct dl_buf b = { NULL, 0, 0, 0 };
	static const char created[] = "emberd " EMBERD_VERSION;
	size_t i;

	if (dl_check_common(it, bases, n_bases) == -1)
		return NULL;
	dl_buf_str(&b, "d10:created by");
	dl_buf_bstr(&b, created, sizeof(created) - 1);
	dl_buf_str(&b, "4:info");
	if (dl_info(&b, it) == -1) {
		free(b.data);
		return NULL;
	}
	if (n_bases > 0) {
		dl_buf_str(&b, "8:url-listl");
		for (i = 0; i < n_bases; i++)
			dl_buf_url(&b, bases[i], it->sha256, 0);
		dl_buf_str(&b, "e");
	}
	dl_buf_str(&b, "e");
	return dl_buf_finish(&b, len);
}

int
dl_infohash(const struct dl_item *it, char out[41])
{
	struct dl_buf b = { NULL, 0, 0, 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len;
	char *info;
	int rc = -1;

	if (dl_check_common(it, NULL, 0) == -1 || dl_info(&b, it) == -1) {
		free(b.data);
		return -1;
	}
	if ((info = dl_buf_finish(&b, &len)) == NULL)
		return -1;
	if (EVP_Digest(info, len, md, &mdlen, EVP_sha1(), NULL) == 1 &&
	    mdlen == DL_SHA1_LEN) {
		hex_encode(md, DL_SHA1_LEN, out);
		rc = 0;
	}
	free(info);
	return rc;
}

size_t
dl_bases_add(const char **bases, size_t n, size_t max, const char *url)
{
	size_t k;

	if (url == NULL || n >= max)
		return n;
	for (k = 0; k < n; k++)
		if (strcmp(bases[k], url) == 0)
			return n;
	bases[n] = url;
	return n + 1;
}
