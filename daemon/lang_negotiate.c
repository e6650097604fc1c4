/*
 * Accept-Language, [mirror] languages and the query string of "/" (see
 * lang_negotiate.h). A header we cannot read never fails a request: it
 * only leaves the mirror's first language.
 */
#include "lang_negotiate.h"

#include <string.h>
#include <strings.h>

#include "hexutil.h"
#include "index_strings.h"

/* A subtag of TAG (LEN bytes) equal to WANT, case-insensitively,
 * anywhere after the first. */
static int
lang_has_subtag(const char *tag, size_t len, const char *want)
{
	size_t i = 0, j, wl = strlen(want);

	while (i < len && tag[i] != '-')
		i++;
	while (i < len) {
		i++;
		for (j = i; j < len && tag[j] != '-'; j++)
			;
		if (j - i == wl && strncasecmp(tag + i, want, wl) == 0)
			return 1;
		i = j;
	}
	return 0;
}

static int
lang_index(const char *tag)
{
	size_t i;

	for (i = 0; i < index_n_langs; i++)
		if (strcasecmp(index_langs[i]->tag, tag) == 0)
			return (int)i;
	return -1;
}

int
lang_lookup(const char *tag, size_t len)
{
	char primary[9];
	size_t i, n;

	for (i = 0; i < len; i++)
		if (!((tag[i] >= 'a' && tag[i] <= 'z') ||
		    (tag[i] >= 'A' && tag[i] <= 'Z') ||
		    (tag[i] >= '0' && tag[i] <= '9') || tag[i] == '-'))
			return -1;
	for (n = 0; n < len && tag[n] != '-'; n++)
		;
	if (n == 0 || n >= sizeof(primary))
		return -1;
	memcpy(primary, tag, n);
	primary[n] = '\0';
	if (strcasecmp(primary, "zh") == 0) {
		/* The script decides; without one, the region; mainland
		 * usage when neither says (RFC 4647 lookup on "zh"). */
		if (lang_has_subtag(tag, len, "hant"))
			return lang_index("zh-Hant");
		if (lang_has_subtag(tag, len, "hans"))
			return lang_index("zh-Hans");
		if (lang_has_subtag(tag, len, "tw") ||
		    lang_has_subtag(tag, len, "hk") ||
		    lang_has_subtag(tag, len, "mo"))
			return lang_index("zh-Hant");
		return lang_index("zh-Hans");
	}
	/* Any other language: by its primary subtag alone, which is all
	 * that the tables differ by. */
	for (i = 0; i < index_n_langs; i++)
		if (strcasecmp(index_langs[i]->tag, primary) == 0)
			return (int)i;
	return -1;
}

int
lang_list_parse(const char *s, int *out, size_t max, const char **bad,
    size_t *badlen)
{
	size_t n = 0, len, i;
	const char *t;
	int l;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		t = s;
		len = strcspn(s, ",");
		s += len;
		while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
			len--;
		/* Only exact tags here: a config says what it means. */
		l = -1;
		for (i = 0; i < index_n_langs; i++)
			if (strlen(index_langs[i]->tag) == len &&
			    strncasecmp(index_langs[i]->tag, t, len) == 0)
				l = (int)i;
		for (i = 0; l != -1 && i < n; i++)
			if (out[i] == l)
				l = -1;
		if (l == -1 || n == max) {
			*bad = t;
			*badlen = len;
			return -1;
		}
		out[n++] = l;
		if (*s == '\0')
			return (int)n;
		s++;
	}
}

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1 when malformed. */
static int
lang_qvalue(const char *s, size_t len)
{
	int v = 0, scale = 100;
	size_t i;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	v = (s[0] - '0') * 1000;
	if (len == 1)
		return v;
	if (s[1] != '.' || len > 5)
		return -1;
	for (i = 2; i < len; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v += (s[i] - '0') * scale;
	}
	return v > 1000 ? -1 : v;
}

int
lang_negotiate(const char *accept, const int *allowed, size_t n)
{
	int q[INDEX_LANGS_MAX], pos[INDEX_LANGS_MAX];
	int star_q = -1, star_pos = 0, best = -1, bq = 0, bpos = 0, l, v, k;
	const char *p = accept, *t, *par;
	size_t tlen, len, i, plen;

	if (n == 0)
		return 0;
	for (i = 0; i < INDEX_LANGS_MAX; i++)
		q[i] = -1;
	for (k = 0; p != NULL && *p != '\0'; k++) {
		len = strcspn(p, ",");
		t = p;
		p = t[len] == ',' ? t + len + 1 : t + len;
		while (len > 0 && (*t == ' ' || *t == '\t')) {
			t++;
			len--;
		}
		tlen = strcspn(t, ";, \t");
		if (tlen > len)
			tlen = len;
		if (tlen == 0)
			continue;
		/* Parameters: only q counts; a malformed one drops the
		 * range, as if it had not been sent. */
		v = 1000;
		par = t + tlen;
		while ((size_t)(par - t) < len) {
			plen = len - (size_t)(par - t);
			while (plen > 0 && (*par == ' ' || *par == '\t' ||
			    *par == ';')) {
				par++;
				plen--;
			}
			if (plen == 0)
				break;
			i = 0;
			while (i < plen && par[i] != ';' && par[i] != ' ' &&
			    par[i] != '\t')
				i++;
			if (i >= 2 && (par[0] == 'q' || par[0] == 'Q') &&
			    par[1] == '=')
				v = lang_qvalue(par + 2, i - 2);
			if (v == -1)
				break;
			par += i;
		}
		if (v == -1)
			continue;
		if (tlen == 1 && t[0] == '*') {
			if (star_q == -1) {
				star_q = v;
				star_pos = k;
			}
			continue;
		}
		if ((l = lang_lookup(t, tlen)) == -1 || l >= INDEX_LANGS_MAX)
			continue;
		/* The first range naming a language is its preference:
		 * "zh-TW, zh;q=0.5" prefers zh-Hant at 1. */
		if (q[l] == -1) {
			q[l] = v;
			pos[l] = k;
		}
	}
	for (i = 0; i < n; i++) {
		int lq, lp;

		l = allowed[i];
		if (l < 0 || l >= INDEX_LANGS_MAX)
			continue;
		lq = q[l] != -1 ? q[l] : star_q;
		lp = q[l] != -1 ? pos[l] : star_pos;
		if (lq <= 0)
			continue;
		if (best == -1 || lq > bq || (lq == bq && lp < bpos)) {
			best = l;
			bq = lq;
			bpos = lp;
		}
	}
	return best != -1 ? best : allowed[0];
}

int
lang_query_get(const char *query, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), len, i, o;
	const char *p = query;
	int hi, lo;

	if (outlen > 0)
		out[0] = '\0';
	while (p != NULL && *p != '\0') {
		len = strcspn(p, "&;");
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			for (i = klen + 1, o = 0; i < len; i++) {
				char c = p[i];

				if (c == '+')
					c = ' ';
				else if (c == '%') {
					if (len - i < 3 ||
					    (hi = hex_value(p[i + 1])) == -1 ||
					    (lo = hex_value(p[i + 2])) == -1)
						return -1;
					c = (char)(hi << 4 | lo);
					i += 2;
					if (c == '\0')
						return -1;
				}
				if (o + 1 >= outlen)
					return -1;
				out[o++] = c;
			}
			if (outlen == 0)
				return -1;
			out[o] = '\0';
			return 1;
		}
		if (len == klen && strncmp(p, key, klen) == 0)
			return 1;	/* "?q": present and empty */
		p += len;
		if (*p != '\0')
			p++;
	}
	return 0;
}
