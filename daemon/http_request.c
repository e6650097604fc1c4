/*
 * The parsers of untrusted request bytes (see http_request.h): path,
 * Range, conditionals, Accept-Encoding, and errno to status.
 */
#include "http_request.h"

#include "hexutil.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "names.h"

/*
 * Everything here reads bytes a stranger chose. Each parser is strict
 * where leniency could change what is served (the path) and falls back
 * to the harmless answer (the whole object, no 304, no gzip) where the
 * RFC allows a server to ignore a header it does not understand.
 */

#define HTTP_FILES_PREFIX	"/files/"
#define HTTP_SHA256_PREFIX	"/sha256/"
#define HTTP_META4_SUFFIX	".meta4"
#define HTTP_TORRENT_SUFFIX	".torrent"

static const struct {
	const char		*path;
	enum http_route		 route;
} http_fixed_routes[] = {
	{ "/",				ROUTE_INDEX },
	{ "/catalog.json",		ROUTE_CATALOG },
	{ "/catalog.json.minisig",	ROUTE_CATALOG_SIG },
	{ "/pubkey",			ROUTE_PUBKEY },
	{ "/healthz",			ROUTE_HEALTHZ },
	{ "/metrics",			ROUTE_METRICS },
	{ "/feed.xml",			ROUTE_FEED },
};

static int
http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 5.6.2 tchar. */
static int
http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 8.8.3 etagc: anything visible but '"', plus obs-text. */
static int
http_is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

/*
 * Field values are defined without leading or trailing whitespace
 * (RFC 9110 5.5); trimming here keeps the parsers correct whatever the
 * header reader already did.
 */
static void
http_ows_trim(const char **s, size_t *len)
{
	while (*len > 0 && http_is_ows((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && http_is_ows((*s)[*len - 1]))
		(*len)--;
}

/*
 * Every '%' in the path must start a complete escape, checked before any
 * routing so that a broken escape is a 400 wherever it appears, not a
 * 404 on some routes and a 400 on others.
 */
static int
http_escapes_valid(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (path[i] != '%')
			continue;
		if (len - i < 3 ||
		    hex_value(path[i + 1]) == -1 ||
		    hex_value(path[i + 2]) == -1)
			return 0;
		i += 2;
	}
	return 1;
}

/*
 * Percent-decode SRC (escapes already validated) into DST, exactly once:
 * "%252e" becomes the literal "%2e", never ".". The decoded length goes
 * to *OUTLEN; -1 when it would not fit in DSTLEN bytes.
 */
static int
http_decode(const char *src, size_t len, char *dst, size_t dstlen,
    size_t *outlen)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (n == dstlen)
			return -1;
		if (src[i] == '%') {
			dst[n++] = (char)((hex_value(src[i + 1])
			    << 4) | hex_value(src[i + 2]));
			i += 2;
		} else
			dst[n++] = src[i];
	}
	*outlen = n;
	return 0;
}

static int
http_has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t slen = strlen(suffix);

	return len >= slen && memcmp(s + len - slen, suffix, slen) == 0;
}

/* Copy a routed argument out, or refuse the route if it does not fit. */
static enum http_route
http_route_arg(enum http_route route, const char *s, size_t len, char *arg,
    size_t arglen)
{
	if (arg == NULL || len >= arglen)
		return ROUTE_NOT_FOUND;
	memcpy(arg, s, len);
	arg[len] = '\0';
	return route;
}

/*
 * "/files/" followed by one encoded segment. The name is decoded into a
 * buffer long enough for the longest valid name plus ".torrent", so a
 * 255-byte name still has its .meta4 and .torrent, whatever ARGLEN is.
 * A suffix is stripped only when what remains is a valid name: that is
 * the only reading under which the request could name a catalog item's
 * metadata.
 */
static enum http_route
http_route_name(const char *enc, size_t enclen, char *arg, size_t arglen)
{
	char name[NAME_MAX_BYTES + sizeof(HTTP_TORRENT_SUFFIX)];
	size_t n, stem;

	if (http_decode(enc, enclen, name, sizeof(name), &n) == -1)
		return ROUTE_NOT_FOUND;
	if (http_has_suffix(name, n, HTTP_META4_SUFFIX)) {
		stem = n - strlen(HTTP_META4_SUFFIX);
		if (name_check(name, stem) == NULL)
			return http_route_arg(ROUTE_META4, name, stem, arg,
			    arglen);
	}
	if (http_has_suffix(name, n, HTTP_TORRENT_SUFFIX)) {
		stem = n - strlen(HTTP_TORRENT_SUFFIX);
		if (name_check(name, stem) == NULL)
			return http_route_arg(ROUTE_TORRENT, name, stem, arg,
			    arglen);
	}
	/* Rejects "/", NUL, "..", backslashes and bad UTF-8 once decoded. */
	if (name_check(name, n) != NULL)
		return ROUTE_NOT_FOUND;
	return http_route_arg(ROUTE_FILE, name, n, arg, arglen);
}

/*
 * Route a request target. Only /files/ names are percent-decoded: fixed
 * routes and hashes compare the raw bytes, so "/%63atalog.json" and
 * uppercase hex are 404s. One spelling per object keeps caches (which key
 * on the raw URL) from holding the same immutable bytes twice.
 */
enum http_route
http_route(const char *target, char *arg, size_t arglen)
{
	const size_t fplen = strlen(HTTP_FILES_PREFIX);
	const size_t hplen = strlen(HTTP_SHA256_PREFIX);
	size_t len, i;

	if (arg != NULL && arglen > 0)
		arg[0] = '\0';
	/* Absolute-form and "*" are for proxies and OPTIONS: not ours. */
	if (target == NULL || target[0] != '/')
		return ROUTE_BAD;
	len = strcspn(target, "?");
	if (!http_escapes_valid(target, len))
		return ROUTE_BAD;

	for (i = 0; i < sizeof(http_fixed_routes) /
	    sizeof(http_fixed_routes[0]); i++) {
		if (strlen(http_fixed_routes[i].path) == len &&
		    memcmp(http_fixed_routes[i].path, target, len) == 0)
			return http_fixed_routes[i].route;
	}
	if (len > fplen && memcmp(target, HTTP_FILES_PREFIX, fplen) == 0)
		return http_route_name(target + fplen, len - fplen, arg,
		    arglen);
	if (len > hplen && memcmp(target, HTTP_SHA256_PREFIX, hplen) == 0) {
		if (!name_is_sha256_hex(target + hplen, len - hplen))
			return ROUTE_NOT_FOUND;
		return http_route_arg(ROUTE_SHA256, target + hplen,
		    len - hplen, arg, arglen);
	}
	return ROUTE_NOT_FOUND;
}

/*
 * 1*DIGIT at *P, advancing past it. Values past UINT64_MAX saturate
 * instead of wrapping: a position that large lies beyond any object, so
 * the answer (unsatisfiable, or the whole object for a suffix) is the
 * same as for the exact number. -1 when there is no digit.
 */
static int
http_range_number(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	unsigned int d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned int)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			n = UINT64_MAX;
		else
			n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

/*
 * Strict syntax, no whitespace anywhere: a value we do not fully
 * understand is ignored (200 with the whole object), which RFC 9110
 * 14.2 allows and which can never serve the wrong bytes. Several ranges
 * are ignored too: multipart/byteranges is not worth its cost here.
 * Two saturated positions compare equal, so "bytes=<huge>-<huger>" is
 * unsatisfiable rather than malformed; either answer is allowed.
 */
enum http_range_result
http_range_parse(const char *value, uint64_t size, struct http_range *out)
{
	const char *p;
	uint64_t first, last, n;

	if (value == NULL || strncasecmp(value, "bytes=", 6) != 0)
		return RANGE_NONE;
	p = value + 6;
	if (*p == '-') {
		p++;
		if (http_range_number(&p, &n) == -1 || *p != '\0')
			return RANGE_NONE;
		/* "-0" asks for nothing; an empty object has no suffix. */
		if (n == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		if (n > size)
			n = size;
		first = size - n;
		last = size - 1;
	} else {
		if (http_range_number(&p, &first) == -1 || *p != '-')
			return RANGE_NONE;
		p++;
		if (*p == '\0')
			last = UINT64_MAX;
		else if (http_range_number(&p, &last) == -1 || *p != '\0' ||
		    last < first)
			return RANGE_NONE;
		if (first >= size)
			return RANGE_UNSATISFIABLE;
		if (last >= size)
			last = size - 1;
	}
	if (out != NULL) {
		out->first = first;
		out->last = last;
	}
	return RANGE_SINGLE;
}

/*
 * One entity-tag at S[*I] (RFC 9110 8.8.3): [W/] DQUOTE *etagc DQUOTE.
 * TAG and TAGLEN get the opaque-tag with its quotes. -1 when malformed.
 */
static int
http_etag_parse(const char *s, size_t len, size_t *i, const char **tag,
    size_t *taglen, int *weak)
{
	size_t j = *i, start;

	*weak = 0;
	if (len - j >= 2 && s[j] == 'W' && s[j + 1] == '/') {
		*weak = 1;
		j += 2;
	}
	if (j >= len || s[j] != '"')
		return -1;
	start = j++;
	while (j < len && http_is_etagc((unsigned char)s[j]))
		j++;
	if (j >= len || s[j] != '"')
		return -1;
	j++;
	*tag = s + start;
	*taglen = j - start;
	*i = j;
	return 0;
}

/*
 * The whole header must parse: a malformed list is ignored as a whole
 * (no 304), since a full 200 is always a correct answer.
 */
int
http_if_none_match(const char *value, const char *etag)
{
	const char *tag;
	size_t len, elen, taglen, i = 0;
	int weak, match = 0;

	if (value == NULL || etag == NULL)
		return 0;
	len = strlen(value);
	http_ows_trim(&value, &len);
	if (len == 1 && value[0] == '*')
		return 1;
	/* Weak comparison: only the opaque-tags must be equal. */
	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	elen = strlen(etag);
	for (;;) {
		/* The list rule allows empty elements: ", ,\"a\"". */
		while (i < len && (value[i] == ',' || http_is_ows(value[i])))
			i++;
		if (i == len)
			break;
		if (http_etag_parse(value, len, &i, &tag, &taglen, &weak) == -1)
			return 0;
		if (taglen == elen && memcmp(tag, etag, elen) == 0)
			match = 1;
		while (i < len && http_is_ows(value[i]))
			i++;
		if (i < len && value[i] != ',')
			return 0;
	}
	return match;
}

/*
 * A range must only be stitched onto bytes the client already has, so
 * If-Range needs a strong match (RFC 9110 13.1.5). Our validators are
 * content hashes and dates are never compared: a date gets the whole
 * object, which is always safe.
 */
int
http_if_range(const char *value, const char *etag)
{
	const char *tag;
	size_t len, taglen, i = 0;
	int weak;

	if (value == NULL)
		return 1;
	if (etag == NULL || strncmp(etag, "W/", 2) == 0)
		return 0;
	len = strlen(value);
	http_ows_trim(&value, &len);
	if (http_etag_parse(value, len, &i, &tag, &taglen, &weak) == -1 ||
	    weak || i != len)
		return 0;
	return taglen == strlen(etag) && memcmp(tag, etag, taglen) == 0;
}

/*
 * qvalue (RFC 9110 12.4.2): "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"], in
 * thousandths. -1 when malformed.
 */
static int
http_qvalue(const char *s, size_t len, size_t *i)
{
	size_t j = *i, k;
	int v, place = 100;

	if (j >= len || (s[j] != '0' && s[j] != '1'))
		return -1;
	v = (s[j++] - '0') * 1000;
	if (j < len && s[j] == '.') {
		j++;
		for (k = 0; k < 3 && j < len && s[j] >= '0' && s[j] <= '9';
		    k++, j++) {
			if (v == 1000 && s[j] != '0')
				return -1;
			v += (s[j] - '0') * place;
			place /= 10;
		}
	}
	if (j < len && s[j] >= '0' && s[j] <= '9')
		return -1;
	*i = j;
	return v;
}

/*
 * One list element: token [OWS ";" OWS "q=" qvalue]. Returns the weight
 * in thousandths and sets TOK/TOKLEN, or -1 for an element to ignore.
 */
static int
http_coding_parse(const char *s, size_t len, const char **tok, size_t *toklen)
{
	size_t i = 0;
	int q = 1000;

	http_ows_trim(&s, &len);
	while (i < len && http_is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0)
		return -1;
	*tok = s;
	*toklen = i;
	while (i < len && http_is_ows(s[i]))
		i++;
	if (i == len)
		return q;
	if (s[i++] != ';')
		return -1;
	while (i < len && http_is_ows(s[i]))
		i++;
	if (len - i < 2 || (s[i] != 'q' && s[i] != 'Q') || s[i + 1] != '=')
		return -1;
	i += 2;
	if ((q = http_qvalue(s, len, &i)) == -1 || i != len)
		return -1;
	return q;
}

static int
http_token_is(const char *tok, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(tok, name, len) == 0;
}

/*
 * Any explicit refusal (q=0) of gzip wins over a mention with q>0: when
 * a client contradicts itself, identity is the answer it surely takes.
 * The same holds for "*", which only speaks when gzip is not named.
 */
int
http_accepts_gzip(const char *value)
{
	const char *s, *comma, *tok;
	size_t len, toklen;
	int q, gzip_seen = 0, gzip_refused = 0, star_seen = 0;
	int star_refused = 0;

	if (value == NULL)
		return 0;
	for (s = value; ; s = comma + 1) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if ((q = http_coding_parse(s, len, &tok, &toklen)) != -1) {
			if (http_token_is(tok, toklen, "gzip") ||
			    http_token_is(tok, toklen, "x-gzip")) {
				gzip_seen = 1;
				if (q == 0)
					gzip_refused = 1;
			} else if (http_token_is(tok, toklen, "*")) {
				star_seen = 1;
				if (q == 0)
					star_refused = 1;
			}
		}
		if (comma == NULL)
			break;
	}
	if (gzip_seen)
		return !gzip_refused;
	return star_seen && !star_refused;
}

/* ---- the request head ---- */

/* Empty lines before the request line are skipped (RFC 9112 2.2):
 * CRLF or LF, not a lone CR. */
static size_t
http_skip_empty_lines(const char *buf, size_t len)
{
	size_t i = 0;

	for (;;) {
		if (i < len && buf[i] == '\n')
			i++;
		else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			i += 2;
		else
			return i;
	}
}

size_t
http_head_end(const char *buf, size_t len)
{
	size_t i = 0;
	const char *p;

	i = http_skip_empty_lines(buf, len);
	while (i < len && (p = memchr(buf + i, '\n', len - i)) != NULL) {
		size_t nl = (size_t)(p - buf);
		/* The line after this one is empty: "\n\n" or "\n\r\n". */
		if (nl + 1 < len && buf[nl + 1] == '\n')
			return nl + 2;
		if (nl + 2 < len && buf[nl + 1] == '\r' && buf[nl + 2] == '\n')
			return nl + 3;
		if (nl + 1 >= len || (nl + 2 >= len && buf[nl + 1] == '\r'))
			return 0;
		i = nl + 1;
	}
	return 0;
}

/* Cut the line starting at *POS (ending in LF, with an optional CR
 * before it) out of BUF[0..LEN): NUL-terminated in place. NULL at the
 * end of the buffer or on a bare CR inside the line. */
static char *
http_next_line(char *buf, size_t len, size_t *pos, size_t *linelen)
{
	char *start = buf + *pos, *nl;
	size_t n;

	if (*pos >= len || (nl = memchr(start, '\n', len - *pos)) == NULL)
		return NULL;
	n = (size_t)(nl - start);
	*pos += n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	start[n] = '\0';
	*linelen = n;
	return start;
}

static int
http_token_list_has(const char *v, const char *name)
{
	size_t nlen = strlen(name);

	while (*v != '\0') {
		size_t n;
		while (*v == ',' || http_is_ows(*v))
			v++;
		n = strcspn(v, ", \t");
		if (n == nlen && strncasecmp(v, name, n) == 0)
			return 1;
		v += n;
	}
	return 0;
}

/* Content-Length: 1*DIGIT; a list of equal values is also allowed by
 * RFC 9112 6.3, but nothing sends one: refused. -1 malformed. */
static int
http_content_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*out = n;
	return 0;
}

static int
http_request_line(char *line, size_t len, struct http_head *h)
{
	char *sp1, *sp2, *ver;
	size_t i;

	if ((sp1 = memchr(line, ' ', len)) == NULL || sp1 == line)
		return -1;
	*sp1 = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return -1;
	h->method_text = line;
	h->target = sp1 + 1;
	/* One space each side of the target, which holds no whitespace or
	 * control characters (RFC 9112 3). */
	if ((sp2 = strchr(sp1 + 1, ' ')) == NULL || sp2 == sp1 + 1)
		return -1;
	*sp2 = '\0';
	for (const char *t = h->target; *t != '\0'; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t == 0x7f)
			return -1;
	if ((size_t)(sp2 + 1 - line) > len)
		return -1;
	ver = sp2 + 1;
	if (strncmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9' ||
	    ver[8] != '\0')
		return -1;
	h->minor = ver[7] == '0' ? 0 : 1;
	if (strcmp(line, "GET") == 0)
		h->method = HTTP_GET;
	else if (strcmp(line, "HEAD") == 0)
		h->method = HTTP_HEAD;
	else
		h->method = HTTP_OTHER;
	return 0;
}

int
http_head_parse(char *buf, size_t len, struct http_head *h)
{
	size_t pos = 0, linelen;
	char *line;
	int conn_close = 0, conn_keep = 0, n_cl = 0;
	uint64_t cl = 0;

	memset(h, 0, sizeof(*h));
	/* NUL anywhere is malformed; checked once so that the line
	 * functions below can use string functions safely. */
	if (memchr(buf, '\0', len) != NULL)
		return -1;
	pos = http_skip_empty_lines(buf, len);
	if ((line = http_next_line(buf, len, &pos, &linelen)) == NULL ||
	    memchr(line, '\r', linelen) != NULL ||
	    http_request_line(line, linelen, h) == -1)
		return -1;
	while ((line = http_next_line(buf, len, &pos, &linelen)) != NULL) {
		char *colon, *v;
		size_t vlen, i;

		if (linelen == 0)
			break;		/* the end of the head */
		/* Folded lines are obsolete and a smuggling vector: 400
		 * (RFC 9112 5.2). */
		if (http_is_ows(line[0]))
			return -1;
		if ((colon = memchr(line, ':', linelen)) == NULL || colon == line)
			return -1;
		for (i = 0; line + i < colon; i++)
			if (!http_is_tchar((unsigned char)line[i]))
				return -1;	/* incl. whitespace before ':' */
		*colon = '\0';
		v = colon + 1;
		vlen = linelen - (size_t)(v - line);
		for (i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)v[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -1;
		}
		while (vlen > 0 && http_is_ows(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && http_is_ows(v[vlen - 1]))
			vlen--;
		v[vlen] = '\0';

		if (strcasecmp(line, "Content-Length") == 0) {
			if (++n_cl > 1 || http_content_length(v, &cl) == -1)
				return -1;
			if (cl > 0)
				h->has_body = 1;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			h->has_body = 1;
		} else if (strcasecmp(line, "Connection") == 0) {
			conn_close |= http_token_list_has(v, "close");
			conn_keep |= http_token_list_has(v, "keep-alive");
		} else if (strcasecmp(line, "Range") == 0) {
			/* Two Range fields: which one was meant is unknown; the
			 * whole object is the safe answer. */
			h->range = h->range == NULL ? v : "";
		} else if (strcasecmp(line, "If-None-Match") == 0) {
			/* Repeated fields of a list could be joined (RFC 9110
			 * 5.3); "" is the harmless answer: no 304, no gzip. */
			h->if_none_match = h->if_none_match == NULL ? v : "";
		} else if (strcasecmp(line, "If-Range") == 0) {
			/* Repeated: match nothing, so no range is honoured. */
			h->if_range = h->if_range == NULL ? v : "";
		} else if (strcasecmp(line, "Accept-Encoding") == 0) {
			h->accept_encoding = h->accept_encoding == NULL ? v : "";
		} else if (strcasecmp(line, "Accept-Language") == 0) {
			/* Repeated: the mirror's first language. */
			h->accept_language = h->accept_language == NULL ? v : "";
		} else if (strcasecmp(line, "Host") == 0) {
			h->host = h->host == NULL ? v : "";
		}
	}
	if (line == NULL)
		return -1;	/* no empty line: not a whole head */
	h->keep_alive = h->minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	return 0;
}

int
http_errno_status(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case EMFILE:
	case ENFILE:
		return 503;
	default:
		return 500;
	}
}
