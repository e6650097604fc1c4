/*
 * URLs as others see them (urls.h): the catalog's "source" per
 * [mirror] source_urls, and the form every log line uses.
 */
#include "urls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

int
url_source_urls_parse(const char *s, enum source_urls *out)
{
	if (strcmp(s, "origin") == 0)
		*out = SOURCE_URLS_ORIGIN;
	else if (strcmp(s, "full") == 0)
		*out = SOURCE_URLS_FULL;
	else if (strcmp(s, "none") == 0)
		*out = SOURCE_URLS_NONE;
	else
		return -1;
	return 0;
}

/*
 * URL parsed into a handle with userinfo and fragment gone, and the
 * query too unless KEEP_QUERY; *HAD_QUERY says whether there was one.
 * NULL when libcurl cannot parse it (or is out of memory).
 */
static CURLU *
url_strip(const char *url, int keep_query, int *had_query)
{
	CURLU *u;
	char *q = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto fail;
	*had_query = curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK &&
	    q != NULL && q[0] != '\0';
	curl_free(q);
	/* Setting a part to NULL removes it. */
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    (!keep_query && curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK))
		goto fail;
	return u;
fail:
	curl_url_cleanup(u);
	return NULL;
}

char *
url_redact(const char *url, enum source_urls mode)
{
	CURLU *u;
	char *s = NULL, *r;
	int had_query;

	if (url == NULL || url[0] == '\0')
		return strdup("");
	/* Unparsable: nothing of it is published (an old catalog's value,
	 * or a URL from a newer libcurl's grammar). */
	if ((u = url_strip(url, mode == SOURCE_URLS_FULL, &had_query)) == NULL)
		return strdup("");
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		s = NULL;
	curl_url_cleanup(u);
	r = strdup(s != NULL ? s : "");
	curl_free(s);
	return r;
}

const char *
url_show(const char *url, char *buf, size_t len)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* "…" */
	CURLU *u;
	char *s = NULL;
	int had_query = 0, n;

	if (len == 0)
		return buf;
	if (url == NULL || (u = url_strip(url, 0, &had_query)) == NULL) {
		snprintf(buf, len, "(unparsable URL)");
		return buf;
	}
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		s = NULL;
	curl_url_cleanup(u);
	n = snprintf(buf, len, "%s%s%s", s != NULL ? s : "(unparsable URL)",
	    had_query ? "?" : "", had_query ? ellipsis : "");
	curl_free(s);
	if (n >= 0 && (size_t)n >= len && len > sizeof(ellipsis)) {
		/* Cut: the marker says so, and starts on a character, not
		 * inside a UTF-8 sequence of the path. */
		size_t at = len - sizeof(ellipsis);
		while (at > 0 && ((unsigned char)buf[at] & 0xc0) == 0x80)
			at--;
		memcpy(buf + at, ellipsis, sizeof(ellipsis));
	}
	return buf;
}

int
url_is_onion(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *x = NULL;
	size_t n = 0;
	int ok = 0;

	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	/* Anything that would put a secret or a second meaning in a header
	 * sent to every reader. */
	if (curl_url_get(u, CURLUPART_USER, &x, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &x, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &x, 0) == CURLUE_OK)
		goto out;
	n = strlen(host);
	ok = n == 56 + 6 && strcmp(host + 56, ".onion") == 0 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz234567") == 56;
out:
	curl_free(x);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}
