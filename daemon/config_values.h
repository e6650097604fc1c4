/*
 * The syntax of single config values, apart from the parse around them:
 * config.c picks the rule for each key and words the error with the
 * file and line. Each returns 0 when S is good, -1 when not (but
 * config_check_source_id, which says why).
 * config_values.c also defines the parsers config.h exports for the tests
 * and the fuzzer (size, duration, bool, listen); these are for config.c
 * alone.
 */
#ifndef EMBERD_CONFIG_VALUES_H
#define EMBERD_CONFIG_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* The most crawl transfers at once, in all or per host. */
#define CONFIG_COUNT_MAX	1024

/* Decimal digits only, MIN..MAX, into *OUT. */
int config_parse_range(const char *s, unsigned *out, uint64_t min,
    uint64_t max);
/* 1..CONFIG_COUNT_MAX. */
int config_parse_count(const char *s, unsigned *out);

int config_check_url(const char *s);	  /* http:// or https://, a host */
int config_check_proxy(const char *s);	  /* also socks4(a)://, socks5(h):// */
int config_check_user(const char *s);	  /* a user name, at most 64 */
int config_check_filename(const char *s); /* one path component */
int config_check_domain(const char *s);	  /* a DNS name with a dot, no wildcard */
int config_check_email(const char *s);	  /* local@domain, nothing an URI would quote */
/*
 * A [source ID]: letters and digits of any script (a UTF-8 locale's
 * classes) with their combining marks, '.', '_' and '-', not '.' first:
 * ID names the files STORE/crawl/ID.json and ID.part, and names starting
 * with a dot there are the crawler's temp files and leftovers. NULL when
 * good, else why not (a phrase for a message).
 */
const char *config_check_source_id(const char *s, size_t len);
int config_check_mime(const char *s);	  /* type/subtype[;params] */
int config_check_sha256(const char *s);	  /* 64 hex digits, any case */
int config_check_pubkey(const char *s);	  /* minisign's base64 key line */

#endif
