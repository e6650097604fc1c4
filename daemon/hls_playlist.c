/*
 * The HLS playlist parser (hls_playlist.h, RFC 8216): lines, tags and
 * attribute lists into struct hls_playlist, every URI resolved against
 * the playlist's URL with libcurl's URL API; and the choices made from a
 * parsed playlist (variant, audio rendition, IV).
 */
#include "hls_playlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "hexutil.h"

/*
 * Everything here reads bytes an origin chose. The parser is strict
 * where a lenient reading would fetch the wrong bytes or decrypt them
 * with the wrong IV (URIs, byte ranges, keys, sequence numbers, a URI
 * after each EXTINF) and lenient where RFC 8216 lets a client ignore
 * what it does not understand (unknown tags and attributes, comments,
 * whitespace, CRLF, a BOM).
 */

#define HLS_SEQ_DIGITS_MAX	20	/* 2^64 - 1, RFC 8216 4.2 decimal-integer */
#define HLS_FLOAT_INT_MAX	15	/* integer digits of a duration: < 1e15 s */

/* One AttributeName=AttributeValue of an attribute list (RFC 8216 4.2);
 * the value without its quotes. NAME NULL: absent. */
struct hls_attr {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

struct hls_parser {
	struct hls_playlist	*p;
	CURLU			*base;
	size_t			 line;
	char			*err;
	size_t			 errlen;

	/* What the next URI line completes. */
	int			 have_inf;
	size_t			 inf_line;
	double			 inf_duration;
	int			 have_range, range_has_off;
	size_t			 range_line;
	uint64_t		 range_len, range_off;
	int			 discontinuity;
	int			 have_stream_inf;
	size_t			 stream_inf_line;
	struct hls_variant	 variant;

	/*
	 * The EXT-X-KEY and EXT-X-MAP in force. Each is copied into the
	 * playlist's array only when a segment uses it (KEY_INDEX, MAP_INDEX
	 * >= 0: the current one is stored there), so that a playlist of tags
	 * without segments cannot grow the arrays. KEY_GROUP: a key tag came
	 * since the last segment, so the next one describes the same
	 * segments in another KEYFORMAT (RFC 8216 4.3.2.4).
	 */
	struct hls_key		 key;
	int			 key_set, key_index, key_group;
	struct hls_map		 map;
	int			 map_set, map_index;

	/* The playlist URL's directory ("https://host/dir/"), for the
	 * common relative URI that needs no parsing; NULL until needed. */
	char			*prefix;
	size_t			 prefix_len;

	/* Where the previous segment's range ended, for a range without
	 * offset. */
	uint64_t		 prev_end;

	int			 seen_target;
};

static const unsigned char hls_bom[3] = { 0xef, 0xbb, 0xbf };

static int
hls_fail(struct hls_parser *ps, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "line N: ..." into the caller's buffer; always -1. */
static int
hls_fail(struct hls_parser *ps, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->errlen == 0)
		return -1;
	n = snprintf(ps->err, ps->errlen, "line %zu: ", line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
hls_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The length of "#EXTM3U" at S when it stands alone on its line (IPTV
 * lists add attributes after a space), else 0.
 */
static size_t
hls_is_header(const char *s, size_t len)
{
	if (len < 7 || memcmp(s, "#EXTM3U", 7) != 0)
		return 0;
	if (len > 7 && !hls_is_space(s[7]))
		return 0;
	return 7;
}

int
hls_sniff(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(buf, hls_bom, 3) == 0)
		i = 3;
	while (i < len && hls_is_space(buf[i]))
		i++;
	return hls_is_header(buf + i, len - i) != 0;
}

/* RFC 8216 4.2 decimal-integer: 1 to 20 digits, 0 to 2^64 - 1. */
static int
hls_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > HLS_SEQ_DIGITS_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * RFC 8216 4.2 decimal-floating-point: digits, optionally '.' and more
 * digits; no sign, exponent, "inf" or "nan" (strtod would take them, and
 * read ',' as the point in some locales). At most HLS_FLOAT_INT_MAX
 * integer digits, so the value is finite and durations add up safely.
 */
static int
hls_float(const char *s, size_t len, double *out)
{
	double v = 0, scale = 1;
	size_t i = 0, digits = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (++digits > HLS_FLOAT_INT_MAX)
			return -1;
		v = v * 10 + (s[i++] - '0');
	}
	if (digits == 0)
		return -1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			scale /= 10;
			v += (s[i] - '0') * scale;
		}
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

/* "LENGTH[@OFFSET]" of EXT-X-BYTERANGE and EXT-X-MAP's BYTERANGE. A zero
 * length, or a range ending past 2^64, is refused. */
static int
hls_range(const char *s, size_t len, uint64_t *length, uint64_t *offset,
    int *has_off)
{
	const char *at = memchr(s, '@', len);

	*has_off = at != NULL;
	*offset = 0;
	if (hls_uint(s, at != NULL ? (size_t)(at - s) : len, length) == -1 ||
	    *length == 0)
		return -1;
	if (at != NULL && hls_uint(at + 1, len - (size_t)(at + 1 - s),
	    offset) == -1)
		return -1;
	if (*offset > UINT64_MAX - *length)
		return -1;
	return 0;
}

static char *
hls_strndup(const char *s, size_t len)
{
	char *r = malloc(len + 1);

	if (r != NULL) {
		memcpy(r, s, len);
		r[len] = '\0';
	}
	return r;
}

/*
 * The next attribute of the list at *S (up to END) into A, advancing *S
 * past it and its comma. 1: one read, 0: the list is done, -1: malformed.
 * Whitespace around names, values and commas is tolerated; a quoted
 * value runs to the next '"' whatever it holds (commas included).
 */
static int
hls_attr_next(const char **s, const char *end, struct hls_attr *a)
{
	const char *q = *s;

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == end)
		return 0;
	a->name = q;
	while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' &&
	    *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-'))
		q++;
	a->nlen = (size_t)(q - a->name);
	if (a->nlen == 0 || q == end || *q != '=')
		return -1;
	q++;
	if (q < end && *q == '"') {
		const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));

		if (close == NULL)
			return -1;
		a->val = q + 1;
		a->vlen = (size_t)(close - a->val);
		q = close + 1;
	} else {
		a->val = q;
		while (q < end && *q != ',' && *q != '"')
			q++;
		if (q < end && *q == '"')
			return -1;
		a->vlen = (size_t)(q - a->val);
		while (a->vlen > 0 && (a->val[a->vlen - 1] == ' ' ||
		    a->val[a->vlen - 1] == '\t'))
			a->vlen--;
		if (a->vlen == 0)
			return -1;
	}
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < end) {
		if (*q != ',')
			return -1;
		q++;
	}
	*s = q;
	return 1;
}

/*
 * Read TAG's attribute list (VAL, LEN) into SLOTS, one per name of NAMES
 * (N of them): a name absent from the list leaves its slot's name NULL,
 * unknown names are skipped (RFC 8216 4.2: ignore), a known name twice
 * is an error, as is a list over HLS_ATTRS_MAX or one that does not
 * parse.
 */
static int
hls_attrs(struct hls_parser *ps, const char *tag, const char *val, size_t len,
    const char *const *names, struct hls_attr *slots, size_t n)
{
	const char *s = val, *end = val + len;
	struct hls_attr a;
	size_t i;
	int r;

	memset(slots, 0, n * sizeof(*slots));
	if (len > HLS_ATTRS_MAX)
		return hls_fail(ps, ps->line, "%s attribute list longer than %u "
		    "bytes", tag, HLS_ATTRS_MAX);
	while ((r = hls_attr_next(&s, end, &a)) == 1) {
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == a.nlen &&
			    memcmp(names[i], a.name, a.nlen) == 0)
				break;
		if (i == n)
			continue;
		if (slots[i].name != NULL)
			return hls_fail(ps, ps->line, "%s has %s twice", tag,
			    names[i]);
		slots[i] = a;
	}
	if (r == -1)
		return hls_fail(ps, ps->line, "malformed %s attribute list", tag);
	return 0;
}

static int
hls_attr_is(const struct hls_attr *a, const char *s)
{
	return a->name != NULL && strlen(s) == a->vlen &&
	    memcmp(a->val, s, a->vlen) == 0;
}

/* A copy of an attribute's value, NULL for an absent one; -1 out of memory. */
static int
hls_attr_dup(struct hls_parser *ps, const struct hls_attr *a, char **out)
{
	*out = NULL;
	if (a->name == NULL)
		return 0;
	if ((*out = hls_strndup(a->val, a->vlen)) == NULL)
		return hls_fail(ps, ps->line, "out of memory");
	return 0;
}

/* The length of REF's RFC 3986 scheme (before ':'), 0 when it has none. */
static size_t
hls_scheme_len(const char *ref, size_t len)
{
	size_t i;

	if (len == 0 || !((ref[0] >= 'a' && ref[0] <= 'z') ||
	    (ref[0] >= 'A' && ref[0] <= 'Z')))
		return 0;
	for (i = 1; i < len; i++) {
		char c = ref[i];

		if (c == ':')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return 0;
	}
	return 0;
}

static int
hls_scheme_ok(const char *s, size_t len)
{
	return (len == 4 && strncasecmp(s, "http", 4) == 0) ||
	    (len == 5 && strncasecmp(s, "https", 5) == 0);
}

/*
 * 1 when REF is a relative path of unreserved characters and '/' (RFC
 * 3986 2.3) without a leading '/' or a "." or ".." segment, such as
 * "seg-00042.ts" or "720p/seg1.ts": resolved, it is the playlist URL's
 * directory followed by REF exactly (5.2.2 merge; no dot segments to
 * remove, nothing to encode), so it needs no URL parse of its own.
 */
static int
hls_is_plain(const char *ref, size_t len)
{
	size_t i, seg = 0;

	if (len == 0 || ref[0] == '/')
		return 0;
	for (i = 0; i <= len; i++) {
		char c = i < len ? ref[i] : '/';

		if (c == '/') {
			if ((i - seg == 1 && ref[seg] == '.') ||
			    (i - seg == 2 && ref[seg] == '.' && ref[seg + 1] == '.'))
				return 0;
			seg = i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~'))
			return 0;
	}
	return 1;
}

/*
 * REF (LEN bytes) resolved against the playlist's URL (RFC 3986 5.2, by
 * libcurl), without its fragment, into *OUT (malloc'd). Only http and
 * https: any other scheme is an error naming the line, unless LENIENT
 * (a key emberd will refuse anyway, e.g. FairPlay's skd://), when the
 * URI is kept as written. Costs one URL parse (a few microseconds),
 * or a copy for a plain name (hls_is_plain), by far the most common.
 */
static int
hls_resolve(struct hls_parser *ps, const char *ref, size_t len, int lenient,
    char **out)
{
	CURLU *h = NULL;
	CURLUcode rc;
	char *tmp = NULL, *s = NULL;
	size_t slen;

	*out = NULL;
	if (len == 0)
		return hls_fail(ps, ps->line, "empty URI");
	if (len > HLS_URI_MAX)
		return hls_fail(ps, ps->line, "URI longer than %u bytes",
		    HLS_URI_MAX);
	if (ps->prefix != NULL && hls_is_plain(ref, len)) {
		if (ps->prefix_len + len > HLS_URI_MAX)
			return hls_fail(ps, ps->line, "URI longer than %u bytes "
			    "once resolved", HLS_URI_MAX);
		if ((*out = malloc(ps->prefix_len + len + 1)) == NULL)
			goto nomem;
		memcpy(*out, ps->prefix, ps->prefix_len);
		memcpy(*out + ps->prefix_len, ref, len);
		(*out)[ps->prefix_len + len] = '\0';
		return 0;
	}
	if ((tmp = hls_strndup(ref, len)) == NULL)
		goto nomem;
	slen = hls_scheme_len(ref, len);
	if (slen > 0 && !hls_scheme_ok(ref, slen)) {
		if (lenient) {
			*out = tmp;
			return 0;
		}
		free(tmp);
		return hls_fail(ps, ps->line, "URI scheme %.*s: is not http or "
		    "https", (int)(slen > 32 ? 32 : slen), ref);
	}
	if ((h = curl_url_dup(ps->base)) == NULL)
		goto nomem;
	if ((rc = curl_url_set(h, CURLUPART_URL, tmp, 0)) != CURLUE_OK) {
		hls_fail(ps, ps->line, "bad URI (%s)", curl_url_strerror(rc));
		goto fail;
	}
	free(tmp);
	tmp = NULL;
	if (curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &s, 0) != CURLUE_OK)
		goto nomem;
	if (!hls_scheme_ok(s, strlen(s))) {
		hls_fail(ps, ps->line, "URI is not http or https");
		goto fail;
	}
	curl_free(s);
	s = NULL;
	if (curl_url_get(h, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto nomem;
	if (strlen(s) > HLS_URI_MAX) {
		hls_fail(ps, ps->line, "URI longer than %u bytes once resolved",
		    HLS_URI_MAX);
		goto fail;
	}
	if ((*out = strdup(s)) == NULL)
		goto nomem;
	curl_free(s);
	curl_url_cleanup(h);
	return 0;
nomem:
	hls_fail(ps, ps->line, "out of memory");
fail:
	free(tmp);
	curl_free(s);
	curl_url_cleanup(h);
	return -1;
}

/* Make room for one more element in *ARR (N used, *CAP allocated). */
static int
hls_grow(struct hls_parser *ps, void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *r;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((r = reallocarray(*arr, ncap, size)) == NULL)
		return hls_fail(ps, ps->line, "out of memory");
	*arr = r;
	*cap = ncap;
	return 0;
}

static void
hls_key_free(struct hls_key *k)
{
	free(k->method_name);
	free(k->uri);
	free(k->keyformat);
	memset(k, 0, sizeof(*k));
}

static void
hls_map_free(struct hls_map *m)
{
	free(m->uri);
	memset(m, 0, sizeof(*m));
}

static void
hls_variant_free(struct hls_variant *v)
{
	free(v->uri);
	free(v->resolution);
	free(v->codecs);
	free(v->audio);
	memset(v, 0, sizeof(*v));
}

static void
hls_rendition_free(struct hls_rendition *r)
{
	free(r->type);
	free(r->group_id);
	free(r->name);
	free(r->language);
	free(r->uri);
	memset(r, 0, sizeof(*r));
}

void
hls_playlist_free(struct hls_playlist *p)
{
	size_t i;

	for (i = 0; i < p->n_variants; i++)
		hls_variant_free(&p->variants[i]);
	for (i = 0; i < p->n_renditions; i++)
		hls_rendition_free(&p->renditions[i]);
	for (i = 0; i < p->n_segments; i++)
		free(p->segments[i].uri);
	for (i = 0; i < p->n_keys; i++)
		hls_key_free(&p->keys[i]);
	for (i = 0; i < p->n_maps; i++)
		hls_map_free(&p->maps[i]);
	free(p->variants);
	free(p->renditions);
	free(p->segments);
	free(p->keys);
	free(p->maps);
	memset(p, 0, sizeof(*p));
}

/*
 * EXT-X-KEY (RFC 8216 4.3.2.4): in force until the next one. Several in
 * a row give the same segments in several KEYFORMATs: the identity one,
 * which emberd can use, wins over the others; among others the first
 * stays, so the error names a format the origin meant.
 */
static int
hls_tag_key(struct hls_parser *ps, const char *val, size_t len)
{
	static const char *const names[] = { "METHOD", "URI", "IV",
	    "KEYFORMAT" };
	struct hls_attr a[4];
	struct hls_key k;
	int identity, lenient;
	size_t i, n;

	memset(&k, 0, sizeof(k));
	if (hls_attrs(ps, "EXT-X-KEY", val, len, names, a, 4) == -1)
		return -1;
	if (a[0].name == NULL)
		return hls_fail(ps, ps->line, "EXT-X-KEY without METHOD");
	if (hls_attr_is(&a[0], "NONE"))
		k.method = HLS_KEY_NONE;
	else if (hls_attr_is(&a[0], "AES-128"))
		k.method = HLS_KEY_AES128;
	else
		k.method = HLS_KEY_UNSUPPORTED;
	identity = a[3].name == NULL || hls_attr_is(&a[3], "identity");
	if (ps->key_group && !identity)
		return 0;
	if (k.method != HLS_KEY_NONE) {
		if (a[1].name == NULL)
			return hls_fail(ps, ps->line, "EXT-X-KEY without URI");
		if (hls_attr_dup(ps, &a[0], &k.method_name) == -1 ||
		    hls_attr_dup(ps, &a[3], &k.keyformat) == -1)
			goto fail;
		lenient = k.method != HLS_KEY_AES128 || !identity;
		if (hls_resolve(ps, a[1].val, a[1].vlen, lenient, &k.uri) == -1)
			goto fail;
		if (a[2].name != NULL) {
			/* A 128-bit integer: up to 32 hex digits, short
			 * ones zero-padded on the left. */
			const char *h = a[2].val;

			n = a[2].vlen;
			if (n < 3 || n > 34 || h[0] != '0' ||
			    (h[1] != 'x' && h[1] != 'X'))
				goto bad_iv;
			for (i = 2; i < n; i++) {
				size_t bit = (n - 1 - i) * 4;
				int d = hex_value(h[i]);

				if (d == -1)
					goto bad_iv;
				k.iv[15 - bit / 8] |= (unsigned char)(d <<
				    (bit % 8));
			}
			k.has_iv = 1;
		}
	}
	if (ps->key_index < 0)
		hls_key_free(&ps->key);
	ps->key = k;
	ps->key_set = k.method != HLS_KEY_NONE;
	ps->key_index = -1;
	ps->key_group = 1;
	return 0;
bad_iv:
	hls_fail(ps, ps->line, "bad IV in EXT-X-KEY (0x and up to 32 hex "
	    "digits)");
fail:
	hls_key_free(&k);
	return -1;
}

/* EXT-X-MAP (RFC 8216 4.3.2.5): the initialization section in force. */
static int
hls_tag_map(struct hls_parser *ps, const char *val, size_t len)
{
	static const char *const names[] = { "URI", "BYTERANGE" };
	struct hls_attr a[2];
	struct hls_map m;
	int has_off;

	memset(&m, 0, sizeof(m));
	if (hls_attrs(ps, "EXT-X-MAP", val, len, names, a, 2) == -1)
		return -1;
	if (a[0].name == NULL)
		return hls_fail(ps, ps->line, "EXT-X-MAP without URI");
	if (a[1].name != NULL) {
		if (hls_range(a[1].val, a[1].vlen, &m.length, &m.offset,
		    &has_off) == -1)
			return hls_fail(ps, ps->line, "bad BYTERANGE in "
			    "EXT-X-MAP");
		m.has_range = 1;
	}
	if (hls_resolve(ps, a[0].val, a[0].vlen, 0, &m.uri) == -1)
		return -1;
	if (ps->map_index < 0)
		hls_map_free(&ps->map);
	ps->map = m;
	ps->map_set = 1;
	ps->map_index = -1;
	ps->p->fmp4 = 1;
	return 0;
}

/* EXT-X-STREAM-INF (RFC 8216 4.3.4.2): a variant, whose URI comes next. */
static int
hls_tag_stream_inf(struct hls_parser *ps, const char *val, size_t len)
{
	static const char *const names[] = { "BANDWIDTH", "RESOLUTION",
	    "CODECS", "AUDIO", "AVERAGE-BANDWIDTH" };
	struct hls_attr a[5];
	struct hls_variant *v = &ps->variant;
	uint64_t avg;

	if (ps->have_stream_inf)
		return hls_fail(ps, ps->stream_inf_line, "EXT-X-STREAM-INF "
		    "without a URI");
	if (ps->p->n_segments > 0 || ps->have_inf)
		return hls_fail(ps, ps->line, "EXT-X-STREAM-INF in a playlist "
		    "that has segments");
	if (ps->p->n_variants == HLS_VARIANTS_MAX)
		return hls_fail(ps, ps->line, "more than %d variants",
		    HLS_VARIANTS_MAX);
	if (hls_attrs(ps, "EXT-X-STREAM-INF", val, len, names, a, 5) == -1)
		return -1;
	if (a[0].name == NULL)
		return hls_fail(ps, ps->line, "EXT-X-STREAM-INF without "
		    "BANDWIDTH");
	if (hls_uint(a[0].val, a[0].vlen, &v->bandwidth) == -1)
		return hls_fail(ps, ps->line, "bad BANDWIDTH");
	if (a[4].name != NULL && hls_uint(a[4].val, a[4].vlen, &avg) == -1)
		return hls_fail(ps, ps->line, "bad AVERAGE-BANDWIDTH");
	if (hls_attr_dup(ps, &a[1], &v->resolution) == -1 ||
	    hls_attr_dup(ps, &a[2], &v->codecs) == -1 ||
	    hls_attr_dup(ps, &a[3], &v->audio) == -1) {
		hls_variant_free(v);
		return -1;
	}
	ps->have_stream_inf = 1;
	ps->stream_inf_line = ps->line;
	ps->p->master = 1;
	return 0;
}

/* EXT-X-MEDIA (RFC 8216 4.3.4.1): a rendition, e.g. a separate audio. */
static int
hls_tag_media(struct hls_parser *ps, const char *val, size_t len)
{
	static const char *const names[] = { "TYPE", "GROUP-ID", "NAME",
	    "LANGUAGE", "DEFAULT", "URI" };
	struct hls_attr a[6];
	struct hls_playlist *p = ps->p;
	struct hls_rendition r, *nr;

	memset(&r, 0, sizeof(r));
	if (p->n_renditions == HLS_RENDITIONS_MAX)
		return hls_fail(ps, ps->line, "more than %d renditions",
		    HLS_RENDITIONS_MAX);
	if (hls_attrs(ps, "EXT-X-MEDIA", val, len, names, a, 6) == -1)
		return -1;
	if (a[0].name == NULL || a[1].name == NULL)
		return hls_fail(ps, ps->line, "EXT-X-MEDIA without %s",
		    a[0].name == NULL ? "TYPE" : "GROUP-ID");
	if (hls_attr_dup(ps, &a[0], &r.type) == -1 ||
	    hls_attr_dup(ps, &a[1], &r.group_id) == -1 ||
	    hls_attr_dup(ps, &a[2], &r.name) == -1 ||
	    hls_attr_dup(ps, &a[3], &r.language) == -1)
		goto fail;
	r.is_default = hls_attr_is(&a[4], "YES");
	/* Closed captions live in the video and have no URI (4.3.4.1). */
	if (a[5].name != NULL && !hls_attr_is(&a[0], "CLOSED-CAPTIONS") &&
	    hls_resolve(ps, a[5].val, a[5].vlen, 0, &r.uri) == -1)
		goto fail;
	/* The array grows by one: at most 64, never worth doubling. */
	if ((nr = reallocarray(p->renditions, p->n_renditions + 1,
	    sizeof(*nr))) == NULL) {
		hls_fail(ps, ps->line, "out of memory");
		goto fail;
	}
	p->renditions = nr;
	p->renditions[p->n_renditions++] = r;
	return 0;
fail:
	hls_rendition_free(&r);
	return -1;
}

/* EXTINF (RFC 8216 4.3.2.1): "DURATION,[TITLE]"; the title is not kept. */
static int
hls_tag_inf(struct hls_parser *ps, const char *val, size_t len)
{
	const char *comma = memchr(val, ',', len);
	size_t n = comma != NULL ? (size_t)(comma - val) : len;

	if (ps->have_inf)
		return hls_fail(ps, ps->inf_line, "EXTINF without a URI");
	if (ps->p->master)
		return hls_fail(ps, ps->line, "segment in a master playlist");
	while (n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t'))
		n--;
	while (n > 0 && (val[0] == ' ' || val[0] == '\t')) {
		val++;
		n--;
	}
	if (hls_float(val, n, &ps->inf_duration) == -1)
		return hls_fail(ps, ps->line, "bad EXTINF duration");
	ps->have_inf = 1;
	ps->inf_line = ps->line;
	return 0;
}

/* The URI line after EXT-X-STREAM-INF. */
static int
hls_uri_variant(struct hls_parser *ps, const char *s, size_t len)
{
	struct hls_playlist *p = ps->p;
	struct hls_variant *nv;

	if (hls_resolve(ps, s, len, 0, &ps->variant.uri) == -1)
		return -1;
	/* At most 64: grown by one each time. */
	if ((nv = reallocarray(p->variants, p->n_variants + 1,
	    sizeof(*nv))) == NULL)
		return hls_fail(ps, ps->line, "out of memory");
	p->variants = nv;
	p->variants[p->n_variants++] = ps->variant;
	memset(&ps->variant, 0, sizeof(ps->variant));
	ps->have_stream_inf = 0;
	return 0;
}

/* The key or map in force, moved into its array on first use. */
static int
hls_use_key(struct hls_parser *ps, size_t *cap, int *index)
{
	struct hls_playlist *p = ps->p;

	if (ps->key_index < 0 && ps->key_set) {
		if (hls_grow(ps, (void **)&p->keys, cap, p->n_keys,
		    sizeof(*p->keys)) == -1)
			return -1;
		p->keys[p->n_keys] = ps->key;
		memset(&ps->key, 0, sizeof(ps->key));
		ps->key_index = (int)p->n_keys++;
	}
	*index = ps->key_index;
	return 0;
}

static int
hls_use_map(struct hls_parser *ps, size_t *cap, int *index)
{
	struct hls_playlist *p = ps->p;

	if (ps->map_index < 0 && ps->map_set) {
		if (hls_grow(ps, (void **)&p->maps, cap, p->n_maps,
		    sizeof(*p->maps)) == -1)
			return -1;
		p->maps[p->n_maps] = ps->map;
		memset(&ps->map, 0, sizeof(ps->map));
		ps->map_index = (int)p->n_maps++;
	}
	*index = ps->map_index;
	return 0;
}

/*
 * The URI line after EXTINF: one segment. CAPS are the allocated sizes
 * of the segments, keys and maps arrays.
 */
static int
hls_uri_segment(struct hls_parser *ps, const char *s, size_t len, size_t *caps)
{
	struct hls_playlist *p = ps->p;
	struct hls_segment seg;
	const struct hls_segment *prev;

	memset(&seg, 0, sizeof(seg));
	if (p->n_segments == HLS_SEGMENTS_MAX)
		return hls_fail(ps, ps->line, "more than %d segments",
		    HLS_SEGMENTS_MAX);
	if (p->media_sequence > UINT64_MAX - p->n_segments)
		return hls_fail(ps, ps->line, "media sequence number overflows");
	if (hls_resolve(ps, s, len, 0, &seg.uri) == -1)
		return -1;
	seg.duration = ps->inf_duration;
	seg.seq = p->media_sequence + p->n_segments;
	seg.discontinuity = ps->discontinuity;
	seg.key = seg.map = -1;
	if (ps->have_range) {
		/* RFC 8216 4.3.2.2: without an offset, the range follows
		 * the previous segment's, which must be a range of the same
		 * resource. */
		seg.has_range = 1;
		seg.length = ps->range_len;
		seg.offset = ps->range_off;
		if (!ps->range_has_off) {
			prev = p->n_segments > 0 ?
			    &p->segments[p->n_segments - 1] : NULL;
			if (prev == NULL || !prev->has_range ||
			    strcmp(prev->uri, seg.uri) != 0) {
				hls_fail(ps, ps->range_line, "EXT-X-BYTERANGE "
				    "without offset, and the previous segment "
				    "is no range of the same URI");
				goto fail;
			}
			seg.offset = ps->prev_end;
			if (seg.offset > UINT64_MAX - seg.length) {
				hls_fail(ps, ps->range_line, "bad "
				    "EXT-X-BYTERANGE (past 2^64)");
				goto fail;
			}
		}
	}
	if (hls_use_key(ps, &caps[1], &seg.key) == -1 ||
	    hls_use_map(ps, &caps[2], &seg.map) == -1)
		goto fail;
	if (hls_grow(ps, (void **)&p->segments, &caps[0], p->n_segments,
	    sizeof(*p->segments)) == -1)
		goto fail;
	p->segments[p->n_segments++] = seg;
	p->total_duration += seg.duration;
	ps->prev_end = seg.offset + seg.length;
	ps->have_inf = ps->have_range = ps->discontinuity = 0;
	ps->key_group = 0;
	return 0;
fail:
	free(seg.uri);
	return -1;
}

/* Is the tag in LINE (after '#') NAME, followed by ':' or the line end?
 * *VAL, *VLEN: what follows the ':'. */
static int
hls_tag_is(const char *line, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len < n + 1 || memcmp(line + 1, name, n) != 0)
		return 0;
	if (len == n + 1) {
		*val = line + len;
		*vlen = 0;
		return 1;
	}
	if (line[n + 1] != ':')
		return 0;
	*val = line + n + 2;
	*vlen = len - n - 2;
	return 1;
}

static int
hls_tag(struct hls_parser *ps, const char *line, size_t len)
{
	struct hls_playlist *p = ps->p;
	const char *v;
	size_t vl;
	uint64_t n;

	if (hls_tag_is(line, len, "EXTINF", &v, &vl))
		return hls_tag_inf(ps, v, vl);
	if (hls_tag_is(line, len, "EXT-X-BYTERANGE", &v, &vl)) {
		if (hls_range(v, vl, &ps->range_len, &ps->range_off,
		    &ps->range_has_off) == -1)
			return hls_fail(ps, ps->line, "bad EXT-X-BYTERANGE");
		ps->have_range = 1;
		ps->range_line = ps->line;
		return 0;
	}
	if (hls_tag_is(line, len, "EXT-X-KEY", &v, &vl))
		return hls_tag_key(ps, v, vl);
	if (hls_tag_is(line, len, "EXT-X-MAP", &v, &vl))
		return hls_tag_map(ps, v, vl);
	if (hls_tag_is(line, len, "EXT-X-DISCONTINUITY", &v, &vl)) {
		ps->discontinuity = 1;
		return 0;
	}
	if (hls_tag_is(line, len, "EXT-X-STREAM-INF", &v, &vl))
		return hls_tag_stream_inf(ps, v, vl);
	if (hls_tag_is(line, len, "EXT-X-MEDIA", &v, &vl))
		return hls_tag_media(ps, v, vl);
	if (hls_tag_is(line, len, "EXT-X-TARGETDURATION", &v, &vl)) {
		/* A decimal-integer; a decimal point is read too, harmless. */
		if (hls_float(v, vl, &p->target_duration) == -1 ||
		    p->target_duration <= 0)
			return hls_fail(ps, ps->line, "bad "
			    "EXT-X-TARGETDURATION");
		ps->seen_target = 1;
		return 0;
	}
	if (hls_tag_is(line, len, "EXT-X-MEDIA-SEQUENCE", &v, &vl)) {
		/* Every segment's number (and so its IV) follows from it. */
		if (p->n_segments > 0)
			return hls_fail(ps, ps->line, "EXT-X-MEDIA-SEQUENCE "
			    "after the first segment");
		if (hls_uint(v, vl, &n) == -1)
			return hls_fail(ps, ps->line, "bad "
			    "EXT-X-MEDIA-SEQUENCE");
		p->media_sequence = n;
		return 0;
	}
	if (hls_tag_is(line, len, "EXT-X-ENDLIST", &v, &vl)) {
		p->endlist = 1;
		return 0;
	}
	if (hls_tag_is(line, len, "EXT-X-PLAYLIST-TYPE", &v, &vl)) {
		/* VOD cannot change (4.3.3.5); EVENT only grows, like a
		 * playlist without the tag; other values are ignored. */
		if (vl == 3 && memcmp(v, "VOD", 3) == 0)
			p->endlist = 1;
		return 0;
	}
	/*
	 * Ignored: EXTM3U (again), EXT-X-VERSION (what matters is read
	 * whatever the version), EXT-X-DISCONTINUITY-SEQUENCE,
	 * EXT-X-PROGRAM-DATE-TIME, EXT-X-I-FRAME-STREAM-INF (trick play),
	 * EXT-X-INDEPENDENT-SEGMENTS, EXT-X-START, and any unknown tag
	 * (RFC 8216 6.3.1: clients ignore them).
	 */
	return 0;
}

/* One line without its end; blank lines are never passed. */
static int
hls_line(struct hls_parser *ps, const char *line, size_t len, size_t *caps)
{
	if (line[0] == '#') {
		if (len >= 4 && memcmp(line, "#EXT", 4) == 0)
			return hls_tag(ps, line, len);
		return 0;	/* a comment */
	}
	if (ps->have_stream_inf)
		return hls_uri_variant(ps, line, len);
	if (ps->have_inf)
		return hls_uri_segment(ps, line, len, caps);
	return hls_fail(ps, ps->line, "URI without EXTINF or "
	    "EXT-X-STREAM-INF before it");
}

/*
 * The playlist URL's directory, as libcurl resolves a plain name against
 * it ("x" gives DIR + "x"), so that hls_resolve's shortcut agrees with
 * libcurl by construction. Left NULL (no shortcut) for a base with a
 * fragment or anything else that would not end in "/x".
 */
static int
hls_prefix(struct hls_parser *ps)
{
	CURLU *h;
	char *s = NULL;
	size_t n;

	if ((h = curl_url_dup(ps->base)) == NULL)
		return hls_fail(ps, 1, "out of memory");
	if (curl_url_set(h, CURLUPART_URL, "x", 0) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK &&
	    (n = strlen(s)) >= 2 && strcmp(s + n - 2, "/x") == 0) {
		ps->prefix_len = n - 1;
		ps->prefix = hls_strndup(s, ps->prefix_len);
	}
	curl_free(s);
	curl_url_cleanup(h);
	return 0;
}

int
hls_parse(const char *buf, size_t len, const char *url, struct hls_playlist *out,
    char *err, size_t errlen)
{
	struct hls_parser ps;
	char *scheme = NULL;
	size_t pos = 0, caps[3] = { 0, 0, 0 };
	int header = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.p = out;
	ps.err = err;
	ps.errlen = errlen;
	ps.key_index = ps.map_index = -1;
	if (errlen > 0)
		err[0] = '\0';
	if (len > HLS_PLAYLIST_MAX) {
		snprintf(err, errlen, "playlist larger than %u bytes",
		    HLS_PLAYLIST_MAX);
		return -1;
	}
	if ((ps.base = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (url == NULL || curl_url_set(ps.base, CURLUPART_URL, url, 0) !=
	    CURLUE_OK || curl_url_get(ps.base, CURLUPART_SCHEME, &scheme, 0) !=
	    CURLUE_OK || !hls_scheme_ok(scheme, strlen(scheme))) {
		snprintf(err, errlen, "the playlist's URL is no http(s) URL");
		goto done;
	}
	if (hls_prefix(&ps) == -1)
		goto done;
	if (len >= 3 && memcmp(buf, hls_bom, 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *line = buf + pos, *nl;
		size_t n;

		nl = memchr(line, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		ps.line++;
		while (n > 0 && hls_is_space(line[n - 1]))
			n--;
		while (n > 0 && hls_is_space(line[0])) {
			line++;
			n--;
		}
		if (n == 0)
			continue;
		if (memchr(line, '\0', n) != NULL) {
			hls_fail(&ps, ps.line, "NUL byte");
			goto done;
		}
		if (!header) {
			if (!hls_is_header(line, n)) {
				hls_fail(&ps, ps.line, "no #EXTM3U at the start: "
				    "not an HLS playlist");
				goto done;
			}
			header = 1;
			continue;
		}
		if (hls_line(&ps, line, n, caps) == -1)
			goto done;
	}
	if (!header) {
		hls_fail(&ps, ps.line > 0 ? ps.line : 1, "no #EXTM3U at the start: not an HLS "
		    "playlist");
		goto done;
	}
	if (ps.have_inf) {
		hls_fail(&ps, ps.inf_line, "EXTINF without a URI");
		goto done;
	}
	if (ps.have_stream_inf) {
		hls_fail(&ps, ps.stream_inf_line, "EXT-X-STREAM-INF without a "
		    "URI");
		goto done;
	}
	/* The interval at which a live playlist is read again (6.3.4). */
	if (!out->master && !ps.seen_target) {
		hls_fail(&ps, ps.line, "media playlist without "
		    "EXT-X-TARGETDURATION");
		goto done;
	}
	rc = 0;
done:
	if (ps.key_index < 0)
		hls_key_free(&ps.key);
	if (ps.map_index < 0)
		hls_map_free(&ps.map);
	hls_variant_free(&ps.variant);
	curl_free(scheme);
	curl_url_cleanup(ps.base);
	free(ps.prefix);
	if (rc == -1)
		hls_playlist_free(out);
	return rc;
}
