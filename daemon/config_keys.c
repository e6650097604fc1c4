/*
 * The table of emberd.conf(5) (config_keys.h): every section's name and
 * every key, its type, whether it repeats, and its place in struct
 * config or config_source. Adding a key is a line here, its field in
 * config.h, and its default and checks in config.c.
 */
#include "config_keys.h"

const char *const config_section_names[CONFIG_S_MAX] = {
	"", "mirror", "https", "http", "crawl", "source", "follow"
};

#define CF(f)	offsetof(struct config, f)
#define SF(f)	offsetof(struct config_source, f)

const struct config_keydef config_keys[] = {
	{ CONFIG_S_MIRROR, "name", CONFIG_T_TEXT, 0, CF(name), 0 },
	{ CONFIG_S_MIRROR, "description", CONFIG_T_TEXT, 0, CF(description), 0 },
	{ CONFIG_S_MIRROR, "store", CONFIG_T_PATH, 0, CF(store), 0 },
	{ CONFIG_S_MIRROR, "key", CONFIG_T_PATH, 0, CF(key), 0 },
	{ CONFIG_S_MIRROR, "url", CONFIG_T_BASEURL, 0, CF(url), 0 },
	{ CONFIG_S_MIRROR, "mirror", CONFIG_T_BASEURL, 1, CF(mirrors), CF(n_mirrors) },
	{ CONFIG_S_MIRROR, "onion", CONFIG_T_ONION, 0, CF(onion), 0 },
	{ CONFIG_S_MIRROR, "user", CONFIG_T_USER, 0, CF(user), 0 },
	{ CONFIG_S_MIRROR, "allow_root", CONFIG_T_BOOL, 0, CF(allow_root), 0 },
	{ CONFIG_S_MIRROR, "log_addresses", CONFIG_T_BOOL, 0,
	    CF(log_addresses), 0 },
	{ CONFIG_S_MIRROR, "access_log", CONFIG_T_BOOL, 0, CF(access_log), 0 },
	{ CONFIG_S_MIRROR, "scrub_interval", CONFIG_T_DURATION, 0,
	    CF(scrub_interval), 0 },
	{ CONFIG_S_MIRROR, "expires", CONFIG_T_VALIDITY, 0, CF(expires), 0 },
	{ CONFIG_S_MIRROR, "max_connections", CONFIG_T_CONNS, 0,
	    CF(max_connections), 0 },
	{ CONFIG_S_MIRROR, "min_free", CONFIG_T_SIZE0, 0, CF(min_free), 0 },
	{ CONFIG_S_MIRROR, "source_urls", CONFIG_T_SOURCE_URLS, 0,
	    CF(source_urls), 0 },
	{ CONFIG_S_MIRROR, "languages", CONFIG_T_LANGS, 0, CF(languages),
	    CF(n_languages) },
	{ CONFIG_S_HTTPS, "listen", CONFIG_T_LISTEN, 1, CF(https_listen),
	    CF(n_https_listen) },
	{ CONFIG_S_HTTPS, "cert", CONFIG_T_FILE, 0, CF(https_cert), 0 },
	{ CONFIG_S_HTTPS, "key", CONFIG_T_FILE, 0, CF(https_key), 0 },
	{ CONFIG_S_HTTPS, "acme", CONFIG_T_BOOL, 0, CF(acme), 0 },
	{ CONFIG_S_HTTPS, "domain", CONFIG_T_DOMAIN, 1, CF(acme_domains),
	    CF(n_acme_domains) },
	{ CONFIG_S_HTTPS, "acme_directory", CONFIG_T_HTTPS_URL, 0,
	    CF(acme_directory), 0 },
	{ CONFIG_S_HTTPS, "acme_email", CONFIG_T_EMAIL, 0, CF(acme_email), 0 },
	{ CONFIG_S_HTTPS, "acme_webroot", CONFIG_T_DIR, 0, CF(acme_webroot), 0 },
	{ CONFIG_S_HTTPS, "workers", CONFIG_T_WORKERS, 0, CF(https_workers), 0 },
	{ CONFIG_S_HTTP, "listen", CONFIG_T_LISTEN, 1, CF(http_listen),
	    CF(n_http_listen) },
	{ CONFIG_S_HTTP, "workers", CONFIG_T_WORKERS, 0, CF(http_workers), 0 },
	{ CONFIG_S_CRAWL, "interval", CONFIG_T_DURATION, 0,
	    CF(crawl_interval), 0 },
	{ CONFIG_S_CRAWL, "concurrency", CONFIG_T_COUNT, 0,
	    CF(crawl_concurrency), 0 },
	{ CONFIG_S_CRAWL, "per_host", CONFIG_T_COUNT, 0, CF(crawl_per_host), 0 },
	{ CONFIG_S_CRAWL, "proxy", CONFIG_T_PROXY, 0, CF(crawl_proxy), 0 },
	{ CONFIG_S_CRAWL, "max_size", CONFIG_T_SIZE, 0, CF(crawl_max_size), 0 },
	{ CONFIG_S_CRAWL, "timeout", CONFIG_T_DURATION, 0, CF(crawl_timeout), 0 },
	{ CONFIG_S_CRAWL, "user_agent", CONFIG_T_TEXT, 0,
	    CF(crawl_user_agent), 0 },
	{ CONFIG_S_CRAWL, "ca_file", CONFIG_T_FILE, 0, CF(crawl_ca_file), 0 },
	{ CONFIG_S_SOURCE, "url", CONFIG_T_URL, 1, SF(urls), SF(n_urls) },
	{ CONFIG_S_SOURCE, "sha256", CONFIG_T_SHA256, 0, SF(sha256), 0 },
	{ CONFIG_S_SOURCE, "name", CONFIG_T_FILENAME, 0, SF(name), 0 },
	{ CONFIG_S_SOURCE, "type", CONFIG_T_MIME, 0, SF(type), 0 },
	{ CONFIG_S_SOURCE, "proxy", CONFIG_T_PROXY, 0, SF(proxy), 0 },
	{ CONFIG_S_SOURCE, "kind", CONFIG_T_KIND, 0, SF(kind), 0 },
	{ CONFIG_S_SOURCE, "resolver", CONFIG_T_RESOLVER, 0, SF(resolver), 0 },
	{ CONFIG_S_SOURCE, "variant", CONFIG_T_VARIANT, 0, SF(variant), 0 },
	{ CONFIG_S_SOURCE, "max_items", CONFIG_T_ITEMS, 0, SF(max_items), 0 },
	{ CONFIG_S_SOURCE, "title", CONFIG_T_TEXT, 0, SF(title), 0 },
	{ CONFIG_S_SOURCE, "description", CONFIG_T_TEXT, 0, SF(description), 0 },
	{ CONFIG_S_SOURCE, "lang", CONFIG_T_LANG, 0, SF(lang), 0 },
	{ CONFIG_S_SOURCE, "tls_verify", CONFIG_T_BOOL, 0, SF(tls_verify), 0 },
	{ CONFIG_S_FOLLOW, "pubkey", CONFIG_T_PUBKEY, 0, CF(follow_pubkey), 0 },
	{ CONFIG_S_FOLLOW, "peer", CONFIG_T_URL, 1, CF(follow_peers),
	    CF(n_follow_peers) },
	{ CONFIG_S_FOLLOW, "interval", CONFIG_T_DURATION, 0,
	    CF(follow_interval), 0 },
	{ CONFIG_S_FOLLOW, "tls_verify", CONFIG_T_BOOL, 0,
	    CF(follow_tls_verify), 0 },
	{ CONFIG_S_FOLLOW, "purge", CONFIG_T_BOOL, 0, CF(follow_purge), 0 },
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);

_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_NKEYS_MAX,
    "CONFIG_NKEYS_MAX is too small for the key table");
