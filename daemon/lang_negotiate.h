/*
 * Which language the index page is shown in, and the query string of
 * "/": parsers of untrusted bytes, without I/O or allocation, so that
 * they can be unit-tested and fuzzed. Languages are indices into
 * index_langs[] (index_strings.h).
 */
#ifndef EMBERD_LANG_NEGOTIATE_H
#define EMBERD_LANG_NEGOTIATE_H

#include <stddef.h>

/*
 * The language a tag (LEN bytes, not NUL-terminated) asks for, or -1.
 * Case-insensitive; "en-GB" is en; zh with a script (zh-Hans, zh-Hant-HK)
 * goes by the script, else by the region: CN, SG, MY and bare "zh" are
 * zh-Hans, TW, HK and MO zh-Hant.
 */
int lang_lookup(const char *tag, size_t len);

/*
 * Parse "en, zh-Hans, fa" ([mirror] languages) into OUT (at most MAX
 * languages, each once). The number of languages, or -1 with *BAD
 * pointing at the tag that is not one (or repeated, or empty).
 */
int lang_list_parse(const char *s, int *out, size_t max, const char **bad,
    size_t *badlen);

/*
 * The language of ALLOWED (N > 0, in the mirror's order) that an
 * Accept-Language value (RFC 9110 12.5.4; NULL when absent) prefers:
 * the highest q, then the earliest in the header, "*" standing for
 * those not named; q=0 excludes. When nothing matches, ALLOWED[0].
 */
int lang_negotiate(const char *accept, const int *allowed, size_t n);

/*
 * The value of KEY in QUERY (the part of a target after '?', NULL or ""
 * when none), percent-decoded with '+' as space, into OUT (OUTLEN bytes,
 * NUL-terminated). The first occurrence counts.
 * 1: found. 0: absent. -1: malformed (a broken %-escape or %00 in the
 * value) or longer than OUTLEN - 1: the caller answers 400.
 */
int lang_query_get(const char *query, const char *key, char *out,
    size_t outlen);

#endif
