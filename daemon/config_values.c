/*
 * The syntax of single config values (config_values.h): numbers with
 * units, booleans, listen addresses, URLs, user and file names, source
 * ids, MIME types, digests and public keys.
 *
 * Each is a function of one string and nothing else, so the rules can be
 * tested and fuzzed without a config file; config.c decides which key
 * takes which rule and words the message with the file and line.
 */

#include "config.h"
#include "config_values.h"
#include "lang_negotiate.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>

#include "names.h"

/* Seconds that fit in an int (and so in time_t, long and curl options). */
#define CONFIG_DURATION_MAX	((uint64_t)INT32_MAX)
/* Sizes are compared with off_t. */
#define CONFIG_SIZE_MAX		((uint64_t)INT64_MAX)

static const char *const config_http_schemes[] = {
	"http://", "https://", NULL
};
static const char *const config_proxy_schemes[] = {
	"http://", "https://", "socks5://", "socks5h://", "socks4://",
	"socks4a://", NULL
};

/* Digits only: strtoull() would take blanks, signs and "0x". */
static int
config_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t n = 0;
	unsigned d;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = s;
	*out = n;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	uint64_t n, mult = 1;

	if (config_digits(&s, &n) == -1)
		return -1;
	switch (*s) {
	case 'k': case 'K':
		mult = (uint64_t)1 << 10;
		break;
	case 'm': case 'M':
		mult = (uint64_t)1 << 20;
		break;
	case 'g': case 'G':
		mult = (uint64_t)1 << 30;
		break;
	case 't': case 'T':
		mult = (uint64_t)1 << 40;
		break;
	}
	if (mult != 1) {
		s++;
		if (*s == 'i' || *s == 'I') {
			s++;
			if (*s != 'B' && *s != 'b')
				return -1;
		}
	}
	if (*s == 'B' || *s == 'b')
		s++;
	if (*s != '\0' || n > CONFIG_SIZE_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* Lowercase units only: "30M" could be read as months. */
int
config_parse_duration(const char *s, uint64_t *out)
{
	uint64_t n, mult = 1;

	if (config_digits(&s, &n) == -1)
		return -1;
	switch (*s) {
	case '\0':
		break;
	case 's':
		s++;
		break;
	case 'm':
		mult = 60;
		s++;
		break;
	case 'h':
		mult = 60 * 60;
		s++;
		break;
	case 'd':
		mult = 24 * 60 * 60;
		s++;
		break;
	default:
		return -1;
	}
	if (*s != '\0' || n == 0 || n > CONFIG_DURATION_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
config_parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

/*
 * "host:port" or "[v6]:port". A bare IPv6 address is refused: in
 * "::1:8080" the port is a guess. On success out->host and out->text are
 * the caller's to free; on failure errno is EINVAL or ENOMEM and out is
 * zeroed.
 */
int
config_parse_listen(const char *s, struct config_listen *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *h, *he, *ps, *c;
	uint64_t port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL || he == h || he[1] != ':')
			goto bad;
		if ((size_t)(he - h) >= sizeof(buf))
			goto bad;
		memcpy(buf, h, (size_t)(he - h));
		buf[he - h] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			goto bad;
		ps = he + 2;
	} else {
		h = s;
		if ((he = strchr(h, ':')) == NULL || he == h || he - h > 253)
			goto bad;
		for (c = h; c < he; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' &&
			    *c != '-' && *c != '_')
				goto bad;
		ps = he + 1;
	}
	if (strlen(ps) > 5 || config_digits(&ps, &port) == -1 ||
	    *ps != '\0' || port < 1 || port > 65535)
		goto bad;

	out->host = strndup(h, (size_t)(he - h));
	out->text = strdup(s);
	if (out->host == NULL || out->text == NULL) {
		free(out->host);
		free(out->text);
		memset(out, 0, sizeof(*out));
		errno = ENOMEM;
		return -1;
	}
	out->port = (unsigned)port;
	return 0;
 bad:
	errno = EINVAL;
	return -1;
}

int
config_parse_range(const char *s, unsigned *out, uint64_t min, uint64_t max)
{
	uint64_t n;

	if (config_digits(&s, &n) == -1 || *s != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static const char *const config_kind_names[] = {
	[SOURCE_AUTO] = "auto", [SOURCE_FILE] = "file", [SOURCE_PAGE] = "page",
	[SOURCE_FEED] = "feed", [SOURCE_HLS] = "hls",
};

int
config_parse_kind(const char *s, enum source_kind *out)
{
	size_t i;

	for (i = 0; i < sizeof(config_kind_names) / sizeof(config_kind_names[0]); i++)
		if (strcmp(s, config_kind_names[i]) == 0) {
			*out = (enum source_kind)i;
			return 0;
		}
	return -1;
}

const char *
config_kind_name(enum source_kind k)
{
	return (unsigned)k < sizeof(config_kind_names) / sizeof(config_kind_names[0]) ?
	    config_kind_names[k] : "auto";
}

int
config_parse_variant(const char *s, enum source_variant *out, uint64_t *bandwidth)
{
	uint64_t n;

	if (strcmp(s, "best") == 0)
		*out = VARIANT_BEST;
	else if (strcmp(s, "smallest") == 0)
		*out = VARIANT_SMALLEST;
	else if (strcmp(s, "all") == 0)
		*out = VARIANT_ALL;
	else if (config_digits(&s, &n) == 0 && *s == '\0' && n > 0) {
		*out = VARIANT_BANDWIDTH;
		*bandwidth = n;
	} else
		return -1;
	return 0;
}

/* The shape of a BCP 47 tag (RFC 5646): subtags of 1 to 8 letters or
 * digits joined by '-', the first letters only. Not a registry check:
 * the tag only labels the item. */
int
config_parse_lang(const char *s)
{
	size_t len = strlen(s), sub = 0, i;

	if (len == 0 || len > 35 || !isalpha((unsigned char)s[0]))
		return -1;
	for (i = 0; i <= len; i++) {
		if (s[i] == '-' || s[i] == '\0') {
			if (sub == 0 || sub > 8)
				return -1;
			sub = 0;
		} else if (isalnum((unsigned char)s[i]))
			sub++;
		else
			return -1;
	}
	return 0;
}

int
config_parse_count(const char *s, unsigned *out)
{
	return config_parse_range(s, out, 1, CONFIG_COUNT_MAX);
}

/* One of SCHEMES, then at least a host: "https://" or "https:///x"
 * would fail only later, when fetched. */
static int
config_check_scheme(const char *s, const char *const *schemes)
{
	const char *rest = NULL;
	size_t i, n;

	for (i = 0; schemes[i] != NULL; i++) {
		n = strlen(schemes[i]);
		if (strncasecmp(s, schemes[i], n) == 0) {
			rest = s + n;
			break;
		}
	}
	if (rest == NULL || *rest == '\0' || *rest == '/' || *rest == '?' ||
	    *rest == '#')
		return -1;
	/* A blank would end the URL in a header or a Metalink file. */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ')
			return -1;
	return 0;
}

int
config_check_url(const char *s)
{
	return config_check_scheme(s, config_http_schemes);
}

int
config_check_proxy(const char *s)
{
	return config_check_scheme(s, config_proxy_schemes);
}

int
config_check_user(const char *s)
{
	size_t n;

	if (s[0] == '-')
		return -1;
	for (n = 0; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '.' &&
		    s[n] != '_' && s[n] != '-')
			return -1;
	return n <= 64 ? 0 : -1;
}

/* The name under /files/: a single path component. */
int
config_check_filename(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strchr(s, '/') != NULL || strlen(s) > 255)
		return -1;
	return 0;
}

static int
config_mime_token(const char **sp)
{
	const char *s = *sp;

	while (isalnum((unsigned char)*s) || (*s != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", *s) != NULL))
		s++;
	if (s == *sp)
		return -1;
	*sp = s;
	return 0;
}

/* type/subtype, then optional parameters after ';'. */
int
config_check_mime(const char *s)
{
	if (config_mime_token(&s) == -1 || *s++ != '/' ||
	    config_mime_token(&s) == -1)
		return -1;
	return (*s == '\0' || *s == ';') ? 0 : -1;
}

int
config_check_sha256(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	return i == 64 ? 0 : -1;
}

/*
 * A minisign public key: base64 of "Ed", an 8-byte key id and 32 bytes
 * of Ed25519 key, 42 bytes or 56 characters without padding. Only the
 * syntax is checked here; minisign.c decodes it.
 */
int
config_check_pubkey(const char *s)
{
	size_t i;

	if (strncmp(s, "RW", 2) != 0)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return -1;
	return i == 56 ? 0 : -1;
}

/*
 * One character of a source id at S (LEN bytes left, at least one):
 * its length, or 0 when it may not be in an id. LOC: a UTF-8 locale, or
 * (locale_t)0 when there is none, and then ASCII alone is allowed.
 * COMBINING: the "combining" class, for marks after a letter (Devanagari
 * and Thai need them to write a word at all).
 */
static size_t
config_id_char(const char *s, size_t len, size_t at, locale_t loc,
    wctype_t combining)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;

	if (isalnum((unsigned char)*s) || *s == '_' || *s == '-' ||
	    (*s == '.' && at > 0))
		return 1;
	if ((unsigned char)*s < 0x80 || loc == (locale_t)0)
		return 0;
	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, s, len, &st);
	if (n == 0 || n > len)
		return 0;
	if (iswalnum(wc) || (at > 0 && combining != 0 &&
	    iswctype((wint_t)wc, combining)))
		return n;
	return 0;
}

const char *
config_check_source_id(const char *s, size_t len)
{
	locale_t loc, old = (locale_t)0;
	wctype_t combining = 0;
	const char *why = NULL;
	size_t i, n;

	if (len == 0)
		return "empty";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "it has a control character";
	if (!name_utf8_valid(s, len))
		return "it is not valid UTF-8";
	/* The classes of a UTF-8 locale, for this thread and this call
	 * only: the process's own locale stays "C". */
	if ((loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) != (locale_t)0) {
		old = uselocale(loc);
		combining = wctype("combining");
	}
	for (i = 0; i < len && why == NULL; i += n)
		if ((n = config_id_char(s + i, len - i, i, loc, combining)) == 0)
			why = "use letters, digits, '.', '_' and '-', not '.' first";
	if (loc != (locale_t)0) {
		uselocale(old);
		freelocale(loc);
	}
	return why;
}

int
config_parse_languages(const char *s, int *out, size_t *n, const char **bad,
    size_t *badlen)
{
	int r = lang_list_parse(s, out, INDEX_LANGS_MAX, bad, badlen);

	if (r <= 0)
		return -1;
	*n = (size_t)r;
	return 0;
}

/*
 * What a CA will issue for: letters, digits and '-' in labels of 1 to 63,
 * at least two labels, no leading or trailing '-', at most 253 bytes.
 * IP addresses and wildcards need other challenges than http-01, and a
 * last label of digits only is an IPv4 address.
 */
int
config_check_domain(const char *s)
{
	size_t i, len = strlen(s), label = 0, dots = 0;

	if (len == 0 || len > 253 || s[len - 1] == '.')
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -1;
			label = 0;
			dots++;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return -1;
		if ((c == '-' && label == 0) || ++label > 63)
			return -1;
	}
	if (s[len - 1] == '-' || dots == 0)
		return -1;
	/* No top-level domain is all digits: that is an IPv4 address. */
	for (i = len; i > 0 && s[i - 1] != '.'; i--)
		if (!isdigit((unsigned char)s[i - 1]))
			return 0;
	return -1;
}

/* It goes into a mailto: URI in JSON: keep to what needs no escaping. */
int
config_check_email(const char *s)
{
	const char *at = strchr(s, '@'), *c;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    config_check_domain(at + 1) == -1)
		return -1;
	for (c = s; c < at; c++)
		if (!isalnum((unsigned char)*c) && strchr(".!#$%&'*+-/=^_`{|}~",
		    *c) == NULL)
			return -1;
	return 0;
}
