/*
 * The INI config of emberd.conf(5), parsed with inih. Every path is stored
 * absolute: relative ones resolve against the config file's folder.
 * Durations are seconds, sizes bytes. Strings are heap copies owned by the
 * struct; config_free() releases them all.
 */

#ifndef EMBERD_CONFIG_H
#define EMBERD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "index_strings.h"
#include "urls.h"

/* [source] kind: what the URL is taken for (see emberd.conf(5)). */
enum source_kind { SOURCE_AUTO, SOURCE_FILE, SOURCE_PAGE, SOURCE_FEED, SOURCE_HLS };

/* [source] variant: which variants of an HLS master playlist. */
enum source_variant { VARIANT_BEST, VARIANT_SMALLEST, VARIANT_ALL, VARIANT_BANDWIDTH };

#define CONFIG_MAX_ITEMS_DEFAULT	50
#define CONFIG_MAX_ITEMS_MAX		10000
/* [https]/[http] workers: event loops, each a thread with a descriptor
 * or three; more than this is a typo, not a machine. */
#define CONFIG_WORKERS_MAX		256
#define CONFIG_WORKERS_MAX_TEXT		"256"

struct config_source {
	char *id;		/* the NAME of [source NAME] */
	char **urls;		/* in order: fallbacks */
	size_t n_urls;
	char *sha256;		/* NULL, or 64 lowercase hex */
	char *name;		/* NULL: derived from the URL later */
	char *type;		/* NULL: from Content-Type later */
	char *proxy;		/* NULL: [crawl] proxy */
	enum source_kind kind;	/* default auto: by Content-Type and body */
	int resolver;		/* 1: resolver = yt-dlp */
	enum source_variant variant;	/* default best */
	uint64_t bandwidth;	/* VARIANT_BANDWIDTH's value */
	unsigned max_items;	/* default 50, 1..10000: media per page or feed */
	char *title, *description;	/* NULL: from the page, feed or resolver */
	char *lang;		/* NULL, or a language tag (zh-Hans, en) */
	int tls_verify;		/* default 1; 0: an origin's broken certificate is
				 * accepted (provenance records it) */
	int line;		/* line of the section header, for messages */
};

struct config_listen {
	char *host;		/* "0.0.0.0", "::", "127.0.0.1", "localhost" */
	unsigned port;		/* 1..65535 */
	char *text;		/* as written, e.g. "[::]:8443" */
};

struct config {
	char *path;		/* the config file, absolute */
	char *dir;		/* its folder, absolute */

	/* [mirror] */
	char *name;		/* default "emberd mirror" */
	char *description;	/* NULL: none in the catalog */
	char *store;		/* default DIR/store */
	char *key;		/* default DIR/publisher.key; need not exist */
	char *url;		/* NULL or an http(s) URL ending in '/' (a missing '/' is added) */
	char *onion;		/* NULL or this mirror's onion address, as url; sent as Onion-Location */
	char **mirrors;		/* other mirrors' base URLs, for the catalog (each ends in '/') */
	size_t n_mirrors;
	char *user;		/* NULL */
	int allow_root;		/* default 0 */
	int log_addresses;	/* default 0 */
	int access_log;		/* default 1: a log line per request */
	uint64_t scrub_interval;	/* default 24h */
	uint64_t expires;		/* default 30d, at least 1m: a catalog's validity */
	unsigned max_connections;	/* default 4096, 2..1000000 (less if RLIMIT_NOFILE is lower) */
	uint64_t min_free;	/* default 1G: crawls and syncs pause below this free space; 0 off */
	enum source_urls source_urls;	/* default origin: what the catalog's "source" keeps */
	int languages[INDEX_LANGS_MAX];	/* index page, in index_langs[]; first = fallback */
	size_t n_languages;		/* default: all, in index_langs[] order */

	/* [https] */
	struct config_listen *https_listen;	/* default none */
	size_t n_https_listen;
	char *https_cert;	/* NULL or an existing file; both or neither */
	char *https_key;
	int acme;		/* default 0: yes obtains and renews a certificate */
	char **acme_domains;	/* required with acme: the names asked for */
	size_t n_acme_domains;
	char *acme_directory;	/* default Let's Encrypt's v2; https only */
	char *acme_email;	/* NULL: an account without contact */
	char *acme_webroot;	/* NULL: /.well-known/acme-challenge/ from no folder */
	unsigned https_workers;	/* default 1; 0: auto, one per CPU; at most CONFIG_WORKERS_MAX */

	/* [http] */
	struct config_listen *http_listen;
	size_t n_http_listen;
	unsigned http_workers;	/* as https_workers */

	/* [crawl] */
	uint64_t crawl_interval;	/* default 6h */
	unsigned crawl_concurrency;	/* default 8, 1..1024 */
	unsigned crawl_per_host;	/* default 2, 1..1024 */
	char *crawl_proxy;		/* NULL */
	uint64_t crawl_max_size;	/* default 4G */
	uint64_t crawl_timeout;		/* default 30m */
	char *crawl_user_agent;		/* default "emberd/VERSION" */
	char *crawl_ca_file;		/* NULL; extra CAs for origins, peers, ACME */

	struct config_source *sources;
	size_t n_sources;

	/* [follow] */
	int follow;			/* 1 when a [follow] section is present */
	char *follow_pubkey;		/* required when follow: minisign base64 key */
	char **follow_peers;
	size_t n_follow_peers;
	uint64_t follow_interval;	/* default 1h */
	int follow_tls_verify;		/* default 1 */
	int follow_purge;		/* default 0: objects that left go one sync later */
};

/*
 * Load and validate PATH. On error returns -1 and writes one line to err,
 * of the form "FILE:LINE: what is wrong" (or "FILE: ..." when no line
 * applies, e.g. the file cannot be read). cfg is zeroed first and is
 * safe to config_free() whatever the result.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* The same from a string (fuzzing, tests); DIR resolves relative paths
 * and NAME is used in messages. Checks for required files are done too. */
int config_load_string(const char *text, const char *name, const char *dir,
    struct config *cfg, char *err, size_t errlen);

void config_free(struct config *cfg);

/* Value parsers (config_values.c), exposed for tests and fuzzing. 0 ok,
 * -1 bad value. */
int config_parse_size(const char *s, uint64_t *out);	   /* "4G", "512M", "100k", "123" (1024-based) */
int config_parse_duration(const char *s, uint64_t *out);  /* "30s", "30m", "6h", "2d", "90" (seconds) */
int config_parse_bool(const char *s, int *out);		   /* yes/no, true/false, on/off, 1/0 */
int config_parse_listen(const char *s, struct config_listen *out); /* "host:port", "[v6]:port" */
int config_parse_kind(const char *s, enum source_kind *out);	   /* auto, file, page, feed, hls */
int config_parse_variant(const char *s, enum source_variant *out, uint64_t *bandwidth); /* best, smallest, all, 1280000 */
int config_parse_lang(const char *s);	/* a BCP 47 tag's shape: letters, digits, '-', at most 35 */
/* "en, zh-Hans, fa": the index page's languages into OUT (INDEX_LANGS_MAX)
 * and *N; on -1, *BAD and *BADLEN name the tag that is wrong. */
int config_parse_languages(const char *s, int *out, size_t *n,
    const char **bad, size_t *badlen);
const char *config_kind_name(enum source_kind k);

#endif
