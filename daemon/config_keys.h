/*
 * The table of emberd.conf(5): its sections, the type of each key's
 * value, and where the value goes in struct config (or config_source).
 * Private to the config parser (config.c, config_keys.c).
 */
#ifndef EMBERD_CONFIG_KEYS_H
#define EMBERD_CONFIG_KEYS_H

#include <stddef.h>

#include "config.h"

enum config_section {
	CONFIG_S_NONE,
	CONFIG_S_MIRROR,
	CONFIG_S_HTTPS,
	CONFIG_S_HTTP,
	CONFIG_S_CRAWL,
	CONFIG_S_SOURCE,
	CONFIG_S_FOLLOW,
	CONFIG_S_MAX
};

enum config_type {
	CONFIG_T_TEXT,		/* printable text */
	CONFIG_T_USER,		/* a user name */
	CONFIG_T_PATH,		/* resolved against the config's folder */
	CONFIG_T_FILE,		/* a path naming a readable file */
	CONFIG_T_URL,		/* http(s) */
	CONFIG_T_HTTPS_URL,	/* https only */
	CONFIG_T_DOMAIN,	/* a DNS name */
	CONFIG_T_EMAIL,		/* local@domain */
	CONFIG_T_DIR,		/* a PATH naming an existing folder */
	CONFIG_T_BASEURL,	/* http(s), '/' appended */
	CONFIG_T_ONION,		/* a BASEURL on a v3 onion service */
	CONFIG_T_PROXY,		/* http(s) or socks */
	CONFIG_T_BOOL,
	CONFIG_T_DURATION,
	CONFIG_T_VALIDITY,	/* a duration of CONFIG_VALIDITY_MIN or more */
	CONFIG_T_SIZE,
	CONFIG_T_SIZE0,		/* a size, or 0 for "off" */
	CONFIG_T_COUNT,		/* 1..CONFIG_COUNT_MAX */
	CONFIG_T_CONNS,		/* 2..CONFIG_CONNS_MAX */
	CONFIG_T_WORKERS,	/* auto (0) or 1..CONFIG_WORKERS_MAX */
	CONFIG_T_LISTEN,
	CONFIG_T_SHA256,
	CONFIG_T_PUBKEY,
	CONFIG_T_FILENAME,
	CONFIG_T_MIME,
	CONFIG_T_SOURCE_URLS,	/* origin, full, none */
	CONFIG_T_KIND,		/* auto, file, page, feed, hls */
	CONFIG_T_RESOLVER,	/* yt-dlp */
	CONFIG_T_VARIANT,	/* best, smallest, all, a BANDWIDTH */
	CONFIG_T_ITEMS,		/* 1..CONFIG_MAX_ITEMS_MAX */
	CONFIG_T_LANG,		/* a language tag */
	CONFIG_T_LANGS		/* the index page's languages */
};

struct config_keydef {
	enum config_section section;
	const char *name;
	enum config_type type;
	int repeat;
	size_t off;		/* in struct config, or config_source */
	size_t noff;		/* the element count of a repeatable key */
};

#define CONFIG_NKEYS_MAX	96	/* bounds a parse's table of lines seen */

extern const char *const config_section_names[CONFIG_S_MAX];
extern const struct config_keydef config_keys[];
extern const size_t config_nkeys;

#endif
