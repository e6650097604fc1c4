/*
 * The INI config of emberd.conf(5): reading the file (the table of
 * sections and keys is config_keys.c), defaults, the checks that span a section, and errors
 * that name the file and line. Whether a single value is well-formed is
 * config_values.c's question; this file only asks it.
 *
 * inih splits "key = value", but every line reaches it through
 * config_reader(), which does what inih cannot be trusted to do the same
 * way in every build:
 *
 * - It counts lines. inih passes no line number to the handler unless the
 *   library was built with INI_HANDLER_LINENO (Debian's is not), and it
 *   parses one line per reader call, so the reader's count is the line of
 *   the key being handled.
 * - It handles section headers. inih calls the handler for keys only, so
 *   an unknown section without keys, or an empty [follow] or [source x],
 *   would go unseen, and it truncates section names to 50 bytes.
 * - It strips inline " ; comments" whatever INI_ALLOW_INLINE_COMMENTS was,
 *   and leading blanks, so that an indented "key = value" is a key and not
 *   a continuation of the previous value (INI_ALLOW_MULTILINE).
 * - It keeps long lines whole. inih cuts a line at its buffer size (200
 *   bytes) and parses the rest as a line of its own, which could turn the
 *   tail of a long URL into a key. A line too long for that buffer is
 *   passed as "key=x" and the handler takes the value from the reader.
 *
 * Config files are small and read once, so the whole file is read into
 * memory (at most CONFIG_MAX_FILE) and both entry points share one path.
 */

#include "config.h"
#include "config_keys.h"
#include "config_values.h"
#include "urls.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#ifndef EMBERD_VERSION
#define EMBERD_VERSION "dev"
#endif

#define CONFIG_MAX_FILE		(1024 * 1024)
#define CONFIG_CONNS_MAX	1000000
#define CONFIG_SHOW_MAX		64	/* of a quoted value in a message */
/* A catalog valid for less than a minute would expire before followers
 * could fetch it; a minute still lets tests watch a renewal happen. */
#define CONFIG_VALIDITY_MIN	60

/* The state of one parse, shared by the reader and the handler. */
struct config_parse {
	struct config *cfg;
	const char *file;		/* as named in messages */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;			/* of the line last handed to inih */
	int failed;
	int closed;			/* the last section was checked */
	char *longval;			/* the value of a line too long for inih */
	char *err;
	size_t errlen;

	enum config_section section;
	int section_line;
	size_t source;			/* index in cfg->sources */
	int section_seen[CONFIG_S_MAX];	/* line, 0: not yet */
	int key_seen[CONFIG_NKEYS_MAX];	/* line, 0: not yet */
};

static void config_error(struct config_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Record the first error only: it is the one the user fixes first, and
 * later ones may be its consequences.
 */
static void
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = 1;
	if (p->err == NULL || p->errlen == 0)
		return;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->file);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
config_nomem(struct config_parse *p)
{
	config_error(p, p->lineno, "out of memory");
}

/*
 * Copy s for a message: an error line goes to a terminal or a log, so
 * control characters become '?', and long values are cut.
 */
static const char *
config_shown(char *buf, size_t size, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 1 < size; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	buf[i] = '\0';
	if (i < len && size >= 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

static const char *
config_show(char *buf, size_t size, const char *s)
{
	return config_shown(buf, size, s, strlen(s));
}

/* "[mirror]" or "[source NAME]", for messages. */
static const char *
config_section_show(struct config_parse *p, char *buf, size_t size)
{
	if (p->section == CONFIG_S_SOURCE)
		snprintf(buf, size, "[source %s]",
		    p->cfg->sources[p->source].id);
	else
		snprintf(buf, size, "[%s]", config_section_names[p->section]);
	return buf;
}

static int
config_keyfind(enum config_section section, const char *name)
{
	size_t i;

	for (i = 0; i < config_nkeys; i++)
		if (config_keys[i].section == section &&
		    strcmp(config_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static char *
config_path(struct config_parse *p, const char *v)
{
	const char *dir = p->cfg->dir;
	char *r;

	if (v[0] == '/')
		return strdup(v);
	if (asprintf(&r, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/",
	    v) == -1)
		return NULL;
	return r;
}

/*
 * Fail now, naming the line, rather than at start-up after the store is
 * opened. stat() first, so that a FIFO does not block and a device is
 * never opened.
 */
static int
config_check_file(struct config_parse *p, const char *key, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		goto fail;
	close(fd);
	return 0;
 fail:
	/* Values hold no control characters: the path is shown whole. */
	config_error(p, p->lineno, "cannot read %s '%s': %s", key, path,
	    strerror(errno));
	return -1;
}

static int
config_check_dir(struct config_parse *p, const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		config_error(p, p->lineno, "cannot use %s '%s': %s", key, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		config_error(p, p->lineno, "cannot use %s '%s': not a folder",
		    key, path);
		return -1;
	}
	return 0;
}

/* Append s to a string array; takes s, freed on failure. */
static int
config_push(char ***arr, size_t *n, char *s)
{
	char **a;

	if ((a = reallocarray(*arr, *n + 1, sizeof(*a))) == NULL) {
		free(s);
		return -1;
	}
	a[(*n)++] = s;
	*arr = a;
	return 0;
}

static int
config_bad(struct config_parse *p, const struct config_keydef *kd,
    const char *value, const char *what, const char *hint)
{
	char show[CONFIG_SHOW_MAX], sec[128];

	config_error(p, p->lineno, "bad %s '%s' for '%s' in %s%s%s", what,
	    config_show(show, sizeof(show), value), kd->name,
	    config_section_show(p, sec, sizeof(sec)), hint[0] ? ": " : "",
	    hint);
	return -1;
}

/* A checked heap copy of a string value, or NULL with the error set. */
static char *
config_string(struct config_parse *p, const struct config_keydef *kd,
    const char *v)
{
	char *s = NULL;
	size_t i, n;

	switch (kd->type) {
	case CONFIG_T_USER:
		if (config_check_user(v) == -1) {
			config_bad(p, kd, v, "user name", "");
			return NULL;
		}
		break;
	case CONFIG_T_HTTPS_URL:
		/* The account key signs what goes over it. */
		if (strncmp(v, "https://", 8) != 0 || config_check_url(v) == -1) {
			config_bad(p, kd, v, "URL", "use https://HOST/...");
			return NULL;
		}
		break;
	case CONFIG_T_DOMAIN:
		if (config_check_domain(v) == -1) {
			config_bad(p, kd, v, "domain",
			    "use a DNS name such as mirror.example");
			return NULL;
		}
		if ((s = strdup(v)) != NULL)
			for (i = 0; s[i] != '\0'; i++)
				s[i] = (char)tolower((unsigned char)s[i]);
		goto done;
	case CONFIG_T_EMAIL:
		if (config_check_email(v) == -1) {
			config_bad(p, kd, v, "e-mail address",
			    "use e.g. admin@mirror.example");
			return NULL;
		}
		break;
	case CONFIG_T_ONION:
		if (!url_is_onion(v)) {
			config_bad(p, kd, v, "onion URL",
			    "use http://<56 letters and digits>.onion/ as the onion service's hostname file names it");
			return NULL;
		}
		/* FALLTHROUGH */
	case CONFIG_T_URL:
	case CONFIG_T_BASEURL:
		/* A name copied from a file manager: say what to write. */
		if (strchr(v, ' ') != NULL) {
			config_error(p, p->lineno,
			    "%s contains a space; write it as %%20", kd->name);
			return NULL;
		}
		if (config_check_url(v) == -1) {
			config_bad(p, kd, v, "URL",
			    "use http://HOST/... or https://HOST/...");
			return NULL;
		}
		if (kd->type == CONFIG_T_BASEURL || kd->type == CONFIG_T_ONION) {
			n = strlen(v);
			if (asprintf(&s, "%s%s", v,
			    v[n - 1] == '/' ? "" : "/") == -1)
				s = NULL;
			goto done;
		}
		break;
	case CONFIG_T_PROXY:
		if (config_check_proxy(v) == -1) {
			config_bad(p, kd, v, "proxy URL", "use http://, https://,"
			    " socks4://, socks4a://, socks5:// or socks5h://");
			return NULL;
		}
		break;
	case CONFIG_T_SHA256:
		if (config_check_sha256(v) == -1) {
			config_bad(p, kd, v, "sha256",
			    "use 64 hexadecimal digits");
			return NULL;
		}
		if ((s = strdup(v)) != NULL)
			for (i = 0; s[i] != '\0'; i++)
				s[i] = (char)tolower((unsigned char)s[i]);
		goto done;
	case CONFIG_T_PUBKEY:
		if (config_check_pubkey(v) == -1) {
			config_bad(p, kd, v, "public key",
			    "use the second line of minisign's .pub file");
			return NULL;
		}
		break;
	case CONFIG_T_FILENAME:
		if (config_check_filename(v) == -1) {
			config_bad(p, kd, v, "name", "use a file name without '/'");
			return NULL;
		}
		break;
	case CONFIG_T_MIME:
		if (config_check_mime(v) == -1) {
			config_bad(p, kd, v, "type", "use e.g. video/mp4");
			return NULL;
		}
		break;
	case CONFIG_T_LANG:
		if (config_parse_lang(v) == -1) {
			config_bad(p, kd, v, "language tag", "use e.g. zh-Hans, en");
			return NULL;
		}
		break;
	case CONFIG_T_PATH:
	case CONFIG_T_FILE:
	case CONFIG_T_DIR:
		if ((s = config_path(p, v)) == NULL)
			goto done;
		if ((kd->type == CONFIG_T_FILE &&
		    config_check_file(p, kd->name, s) == -1) ||
		    (kd->type == CONFIG_T_DIR &&
		    config_check_dir(p, kd->name, s) == -1)) {
			free(s);
			return NULL;
		}
		goto done;
	default:
		break;
	}
	s = strdup(v);
 done:
	if (s == NULL)
		config_nomem(p);
	return s;
}

static int
config_set(struct config_parse *p, const struct config_keydef *kd,
    const char *v)
{
	struct config_listen l, *la;
	char *base, *s;
	void *field;
	size_t *n;
	uint64_t u;

	if (kd->section == CONFIG_S_SOURCE)
		base = (char *)&p->cfg->sources[p->source];
	else
		base = (char *)p->cfg;
	field = base + kd->off;
	n = (size_t *)(base + kd->noff);

	switch (kd->type) {
	case CONFIG_T_BOOL:
		if (config_parse_bool(v, field) == -1)
			return config_bad(p, kd, v, "value", "use yes or no");
		return 0;
	case CONFIG_T_DURATION:
		if (config_parse_duration(v, field) == -1)
			return config_bad(p, kd, v, "duration",
			    "use seconds or e.g. 30s, 30m, 6h, 2d");
		return 0;
	case CONFIG_T_VALIDITY:
		if (config_parse_duration(v, &u) == -1 || u < CONFIG_VALIDITY_MIN)
			return config_bad(p, kd, v, "validity",
			    "use 1m or more, e.g. 90s, 12h, 30d");
		*(uint64_t *)field = u;
		return 0;
	case CONFIG_T_SIZE:
		/* 0 would refuse every download. */
		if (config_parse_size(v, &u) == -1 || u == 0)
			return config_bad(p, kd, v, "size",
			    "use bytes or e.g. 100k, 512M, 4G");
		*(uint64_t *)field = u;
		return 0;
	case CONFIG_T_SIZE0:
		if (config_parse_size(v, &u) == -1)
			return config_bad(p, kd, v, "size",
			    "use bytes or e.g. 512M, 1G; 0 turns it off");
		*(uint64_t *)field = u;
		return 0;
	case CONFIG_T_COUNT:
		if (config_parse_count(v, field) == -1)
			return config_bad(p, kd, v, "number",
			    "use 1 to 1024");
		return 0;
	case CONFIG_T_CONNS:
		/* Two at least: the cap is split between HTTPS and HTTP. */
		if (config_parse_range(v, field, 2, CONFIG_CONNS_MAX) == -1)
			return config_bad(p, kd, v, "number",
			    "use 2 to 1000000");
		return 0;
	case CONFIG_T_WORKERS:
		/* 0 stands for auto: run counts the CPUs it may use. */
		if (strcmp(v, "auto") == 0)
			*(unsigned *)field = 0;
		else if (config_parse_range(v, field, 1, CONFIG_WORKERS_MAX) == -1)
			return config_bad(p, kd, v, "number of workers",
			    "use auto or 1 to " CONFIG_WORKERS_MAX_TEXT);
		return 0;
	case CONFIG_T_LANGS: {
		const char *bad;
		size_t badlen;
		char tag[64];

		if (config_parse_languages(v, field, n, &bad, &badlen) == 0)
			return 0;
		snprintf(tag, sizeof(tag), "%.*s", (int)badlen, bad);
		return config_bad(p, kd, tag, "language",
		    "use a comma-separated list of en, zh-Hans, zh-Hant, ru, "
		    "fa, each once");
	}
	case CONFIG_T_SOURCE_URLS:
		if (url_source_urls_parse(v, field) == -1)
			return config_bad(p, kd, v, "value",
			    "use origin, full or none");
		return 0;
	case CONFIG_T_KIND:
		if (config_parse_kind(v, field) == -1)
			return config_bad(p, kd, v, "kind",
			    "use auto, file, page, feed or hls");
		return 0;
	case CONFIG_T_RESOLVER:
		/* The only resolver: a key, so that others may come. */
		if (strcmp(v, "yt-dlp") != 0)
			return config_bad(p, kd, v, "resolver", "use yt-dlp");
		*(int *)field = 1;
		return 0;
	case CONFIG_T_VARIANT:
		if (config_parse_variant(v, field,
		    &p->cfg->sources[p->source].bandwidth) == -1)
			return config_bad(p, kd, v, "variant",
			    "use best, smallest, all or a BANDWIDTH in bits/s");
		return 0;
	case CONFIG_T_ITEMS:
		if (config_parse_range(v, field, 1, CONFIG_MAX_ITEMS_MAX) == -1)
			return config_bad(p, kd, v, "number", "use 1 to 10000");
		return 0;
	case CONFIG_T_LISTEN:
		if (config_parse_listen(v, &l) == -1) {
			if (errno == ENOMEM) {
				config_nomem(p);
				return -1;
			}
			return config_bad(p, kd, v, "listen address",
			    "use HOST:PORT or [IPV6]:PORT, port 1 to 65535");
		}
		la = reallocarray(*(struct config_listen **)field, *n + 1,
		    sizeof(*la));
		if (la == NULL) {
			free(l.host);
			free(l.text);
			config_nomem(p);
			return -1;
		}
		la[(*n)++] = l;
		*(struct config_listen **)field = la;
		return 0;
	default:
		break;
	}

	if ((s = config_string(p, kd, v)) == NULL)
		return -1;
	if (kd->repeat) {
		if (config_push(field, n, s) == -1) {
			config_nomem(p);
			return -1;
		}
	} else
		*(char **)field = s;
	return 0;
}

static int
config_key(struct config_parse *p, const char *name, const char *value)
{
	const struct config_keydef *kd;
	char show[CONFIG_SHOW_MAX], sec[128];
	const char *c;
	int i;

	if (p->failed)
		return -1;
	if (p->longval != NULL)
		value = p->longval;
	if (p->section == CONFIG_S_NONE) {
		config_error(p, p->lineno, "key '%s' outside of any section",
		    config_show(show, sizeof(show), name));
		return -1;
	}
	config_section_show(p, sec, sizeof(sec));
	if ((i = config_keyfind(p->section, name)) == -1) {
		config_error(p, p->lineno, "unknown key '%s' in %s",
		    config_show(show, sizeof(show), name), sec);
		return -1;
	}
	kd = &config_keys[i];
	if (!kd->repeat && p->key_seen[i] != 0) {
		config_error(p, p->lineno,
		    "duplicate key '%s' in %s (first at line %d)", kd->name,
		    sec, p->key_seen[i]);
		return -1;
	}
	if (p->key_seen[i] == 0)
		p->key_seen[i] = p->lineno;
	if (value[0] == '\0') {
		config_error(p, p->lineno, "empty value for '%s' in %s",
		    kd->name, sec);
		return -1;
	}
	/* Values end up in HTTP headers, JSON and logs. */
	for (c = value; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			config_error(p, p->lineno,
			    "control character in the value of '%s' in %s",
			    kd->name, sec);
			return -1;
		}
	return config_set(p, kd, value);
}

#if INI_HANDLER_LINENO
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value, int lineno)
{
	(void)section;
	(void)lineno;
	return config_key(arg, name, value) == 0;
}
#else
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	/* section is inih's, truncated and unused: ours is p->section. */
	(void)section;
	return config_key(arg, name, value) == 0;
}
#endif

/* Checks that need the whole section, made when it ends. */
static void
config_section_close(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	char sec[128];
	int cert, key;

	if (p->closed || p->failed)
		return;
	p->closed = 1;
	switch (p->section) {
	case CONFIG_S_HTTPS:
		cert = p->key_seen[config_keyfind(CONFIG_S_HTTPS, "cert")];
		key = p->key_seen[config_keyfind(CONFIG_S_HTTPS, "key")];
		if (cert != 0 && key == 0)
			config_error(p, cert, "cert without key in [https]: "
			    "give both, or neither for a self-signed one");
		else if (key != 0 && cert == 0)
			config_error(p, key, "key without cert in [https]: "
			    "give both, or neither for a self-signed one");
		break;
	case CONFIG_S_SOURCE:
		if (cfg->sources[p->source].n_urls == 0)
			config_error(p, p->section_line, "%s has no url",
			    config_section_show(p, sec, sizeof(sec)));
		/* A pin names one file; an HLS capture or what a resolver
		 * finds is made of many, and differs from run to run. */
		else if (cfg->sources[p->source].sha256 != NULL &&
		    (cfg->sources[p->source].kind == SOURCE_HLS ||
		    cfg->sources[p->source].resolver))
			config_error(p, p->key_seen[config_keyfind(CONFIG_S_SOURCE,
			    "sha256")], "sha256 in %s: a pin names one file, not an HLS "
			    "capture or a resolver's media",
			    config_section_show(p, sec, sizeof(sec)));
		break;
	case CONFIG_S_FOLLOW:
		if (cfg->follow_pubkey == NULL)
			config_error(p, p->section_line,
			    "[follow] needs a pubkey");
		else if (cfg->n_follow_peers == 0)
			config_error(p, p->section_line,
			    "[follow] needs at least one peer");
		break;
	default:
		break;
	}
}

static int
config_source_open(struct config_parse *p, const char *id, size_t len)
{
	struct config *cfg = p->cfg;
	struct config_source *src;
	char show[CONFIG_SHOW_MAX];
	const char *why;
	size_t i;

	if ((why = config_check_source_id(id, len)) == NULL &&
	    len >= CONFIG_SHOW_MAX)
		why = "at most 63 bytes";
	if (why != NULL) {
		config_error(p, p->lineno, "bad source name '%s': %s",
		    config_shown(show, sizeof(show), id, len), why);
		return -1;
	}
	for (i = 0; i < cfg->n_sources; i++)
		if (strlen(cfg->sources[i].id) == len &&
		    memcmp(cfg->sources[i].id, id, len) == 0) {
			config_error(p, p->lineno, "duplicate section "
			    "[source %s] (first at line %d)",
			    cfg->sources[i].id, cfg->sources[i].line);
			return -1;
		}
	src = reallocarray(cfg->sources, cfg->n_sources + 1, sizeof(*src));
	if (src == NULL) {
		config_nomem(p);
		return -1;
	}
	cfg->sources = src;
	src = &cfg->sources[cfg->n_sources];
	memset(src, 0, sizeof(*src));
	if ((src->id = strndup(id, len)) == NULL) {
		config_nomem(p);
		return -1;
	}
	src->line = p->lineno;
	src->max_items = CONFIG_MAX_ITEMS_DEFAULT;
	src->tls_verify = 1;
	p->source = cfg->n_sources++;

	/* Keys may repeat from one source to the next. */
	for (i = 0; i < config_nkeys; i++)
		if (config_keys[i].section == CONFIG_S_SOURCE)
			p->key_seen[i] = 0;
	return 0;
}

/* s is a whole header line, comment and blanks stripped, s[0] == '['. */
static int
config_header(struct config_parse *p, const char *s, size_t len)
{
	char show[CONFIG_SHOW_MAX];
	const char *in, *end;
	int i;

	/* A section that ends is checked before a new one may fail. */
	config_section_close(p);
	if (p->failed)
		return -1;

	if (len < 2 || s[len - 1] != ']') {
		config_error(p, p->lineno, "bad section header: use [NAME]");
		return -1;
	}
	in = s + 1;
	end = s + len - 1;
	while (in < end && isspace((unsigned char)*in))
		in++;
	while (end > in && isspace((unsigned char)end[-1]))
		end--;

	if (end - in >= 6 && memcmp(in, "source", 6) == 0 &&
	    (end - in == 6 || isspace((unsigned char)in[6]))) {
		for (in += 6; in < end && isspace((unsigned char)*in); in++)
			;
		if (in == end) {
			config_error(p, p->lineno,
			    "[source] needs a name: [source NAME]");
			return -1;
		}
		if (config_source_open(p, in, (size_t)(end - in)) == -1)
			return -1;
		p->section = CONFIG_S_SOURCE;
	} else {
		for (i = CONFIG_S_NONE + 1; i < CONFIG_S_MAX; i++)
			if (i != CONFIG_S_SOURCE && (size_t)(end - in) ==
			    strlen(config_section_names[i]) &&
			    memcmp(in, config_section_names[i],
			    (size_t)(end - in)) == 0)
				break;
		if (i == CONFIG_S_MAX) {
			config_error(p, p->lineno, "unknown section [%s]",
			    config_shown(show, sizeof(show), in,
			    (size_t)(end - in)));
			return -1;
		}
		if (p->section_seen[i] != 0) {
			config_error(p, p->lineno, "duplicate section [%s] "
			    "(first at line %d)", config_section_names[i],
			    p->section_seen[i]);
			return -1;
		}
		p->section_seen[i] = p->lineno;
		p->section = (enum config_section)i;
		if (i == CONFIG_S_FOLLOW)
			p->cfg->follow = 1;
	}
	p->section_line = p->lineno;
	p->closed = 0;
	return 0;
}

/*
 * inih's line source: see the comment at the top. Returns the next
 * "key = value" line in buf, or NULL at the end or after an error.
 */
static char *
config_reader(char *buf, int size, void *arg)
{
	struct config_parse *p = arg;
	const char *s, *e, *nl, *sep, *c, *ne;
	size_t n;

	free(p->longval);
	p->longval = NULL;

	while (!p->failed) {
		if (p->pos >= p->len) {
			config_section_close(p);
			return NULL;
		}
		s = p->text + p->pos;
		nl = memchr(s, '\n', p->len - p->pos);
		e = nl != NULL ? nl : p->text + p->len;
		p->pos = (size_t)(e - p->text) + (nl != NULL);
		p->lineno++;

		if (p->lineno == 1 && e - s >= 3 &&
		    memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s == e || *s == ';' || *s == '#')
			continue;
		/* As inih: ';' starts a comment after a blank. */
		for (c = s + 1; c < e; c++)
			if (*c == ';' && isspace((unsigned char)c[-1])) {
				e = c;
				break;
			}
		while (e > s && isspace((unsigned char)e[-1]))
			e--;

		if (*s == '[') {
			if (config_header(p, s, (size_t)(e - s)) == -1)
				return NULL;
			continue;
		}

		for (sep = s; sep < e && *sep != '=' && *sep != ':'; sep++)
			;
		if (sep == e) {
			config_error(p, p->lineno,
			    "expected 'key = value' or '[section]'");
			return NULL;
		}

		n = (size_t)(e - s);
		if (size > 2 && n <= (size_t)size - 2) {
			/* The '\n' tells an inih that grows its buffer that
			 * the line is complete. */
			memcpy(buf, s, n);
			memcpy(buf + n, "\n", 2);
			return buf;
		}

		for (ne = sep; ne > s && isspace((unsigned char)ne[-1]); ne--)
			;
		n = (size_t)(ne - s);
		if (size < 4 || n > (size_t)size - 4) {
			config_error(p, p->lineno, "line too long");
			return NULL;
		}
		for (c = sep + 1; c < e && isspace((unsigned char)*c); c++)
			;
		if ((p->longval = strndup(c, (size_t)(e - c))) == NULL) {
			config_nomem(p);
			return NULL;
		}
		memcpy(buf, s, n);
		memcpy(buf + n, "=x\n", 4);
		return buf;
	}
	return NULL;
}

/*
 * ACME answers http-01 on the plain listener, and its certificate is the
 * one served: a configured pair would make one of them pointless.
 */
static int
config_check_acme(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	int line = p->key_seen[config_keyfind(CONFIG_S_HTTPS, "acme")];

	if (!cfg->acme)
		return 0;
	if (cfg->n_acme_domains == 0)
		config_error(p, line, "acme = yes needs at least one domain in [https]");
	else if (cfg->https_cert != NULL)
		config_error(p, line, "acme = yes and cert/key in [https]: the ACME "
		    "certificate is the one served; remove cert and key, or acme");
	else if (cfg->n_http_listen == 0)
		config_error(p, line, "acme = yes needs a plain [http] listen: the "
		    "CA checks http-01 challenges over port 80 there");
	else if (cfg->n_https_listen == 0)
		config_error(p, line, "acme = yes needs an [https] listen to serve "
		    "the certificate on");
	return p->failed ? -1 : 0;
}

static int
config_parse_text(const char *text, size_t len, const char *file,
    struct config *cfg, char *err, size_t errlen)
{
	struct config_parse p;
	int r;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = file;
	p.text = text;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	p.closed = 1;

	cfg->scrub_interval = 24 * 60 * 60;
	cfg->expires = 30 * 24 * 60 * 60;
	cfg->crawl_interval = 6 * 60 * 60;
	cfg->crawl_concurrency = 8;
	cfg->crawl_per_host = 2;
	cfg->crawl_max_size = (uint64_t)4 << 30;
	cfg->crawl_timeout = 30 * 60;
	cfg->follow_interval = 60 * 60;
	cfg->max_connections = 4096;
	cfg->https_workers = 1;
	cfg->http_workers = 1;
	cfg->min_free = (uint64_t)1 << 30;
	cfg->follow_tls_verify = 1;
	cfg->access_log = 1;

	r = ini_parse_stream(config_reader, &p, config_handler, &p);
	free(p.longval);
	p.longval = NULL;
	if (r == -2)
		config_nomem(&p);
	else if (r != 0)
		/* Not reached: the reader passes inih well-formed lines. */
		config_error(&p, r > 0 ? r : 0, "syntax error");
	config_section_close(&p);
	if (p.failed)
		return -1;
	if (config_check_acme(&p) == -1)
		return -1;

	if (cfg->n_languages == 0) {
		size_t i;

		for (i = 0; i < index_n_langs && i < INDEX_LANGS_MAX; i++)
			cfg->languages[i] = (int)i;
		cfg->n_languages = i;
	}
	if (cfg->name == NULL && (cfg->name = strdup("emberd mirror")) == NULL)
		goto nomem;
	if (cfg->store == NULL && (cfg->store = config_path(&p, "store")) == NULL)
		goto nomem;
	if (cfg->key == NULL &&
	    (cfg->key = config_path(&p, "publisher.key")) == NULL)
		goto nomem;
	if (cfg->acme_directory == NULL && (cfg->acme_directory =
	    strdup("https://acme-v02.api.letsencrypt.org/directory")) == NULL)
		goto nomem;
	if (cfg->crawl_user_agent == NULL &&
	    (cfg->crawl_user_agent = strdup("emberd/" EMBERD_VERSION)) == NULL)
		goto nomem;
	return 0;
 nomem:
	config_error(&p, 0, "out of memory");
	return -1;
}

/* An absolute folder without trailing '/' (but "/"), relative to cwd. */
static char *
config_absdir(const char *dir)
{
	char *cwd = NULL, *r = NULL;
	size_t n;

	if (dir == NULL || dir[0] != '/') {
		if ((cwd = getcwd(NULL, 0)) == NULL)
			return NULL;
		if (dir == NULL || dir[0] == '\0')
			r = cwd;
		else {
			if (asprintf(&r, "%s/%s", cwd, dir) == -1)
				r = NULL;
			free(cwd);
		}
	} else
		r = strdup(dir);
	if (r == NULL)
		return NULL;
	for (n = strlen(r); n > 1 && r[n - 1] == '/'; n--)
		r[n - 1] = '\0';
	return r;
}

int
config_load_string(const char *text, const char *name, const char *dir,
    struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL)
		name = "(config)";

	if ((cfg->dir = config_absdir(dir)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot resolve folder: %s",
			    name, strerror(errno));
		return -1;
	}
	if ((cfg->path = strdup(name)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", name);
		config_free(cfg);
		return -1;
	}
	if (config_parse_text(text, strlen(text), name, cfg, err,
	    errlen) == -1) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct stat st;
	char *abs = NULL, *text = NULL, *slash;
	const char *nul;
	size_t len = 0;
	ssize_t r;
	int fd = -1, line, saved;

	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	if ((abs = realpath(path, NULL)) == NULL)
		goto fail_errno;
	/* O_NONBLOCK: a FIFO must not hang start-up; refused below. */
	fd = open(abs, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail_errno;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail_errno;
	}
	if ((text = malloc(CONFIG_MAX_FILE + 1)) == NULL)
		goto fail_errno;
	/* The file may grow while read: stop one byte past the limit. */
	while (len <= CONFIG_MAX_FILE) {
		r = read(fd, text + len, CONFIG_MAX_FILE + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail_errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	fd = -1;
	if (len > CONFIG_MAX_FILE) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: too large (more than %d "
			    "bytes)", path, CONFIG_MAX_FILE);
		goto fail;
	}
	text[len] = '\0';
	if ((nul = memchr(text, '\0', len)) != NULL) {
		line = 1;
		for (slash = text; slash < nul; slash++)
			line += *slash == '\n';
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:%d: NUL byte in config",
			    path, line);
		goto fail;
	}

	slash = strrchr(abs, '/');
	cfg->dir = strndup(abs, slash == abs ? 1 : (size_t)(slash - abs));
	if (cfg->dir == NULL)
		goto fail_errno;
	cfg->path = abs;
	abs = NULL;
	if (config_parse_text(text, len, path, cfg, err, errlen) == -1)
		goto fail;
	free(text);
	return 0;

 fail_errno:
	saved = errno;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(saved));
 fail:
	if (fd != -1)
		close(fd);
	free(abs);
	free(text);
	config_free(cfg);
	return -1;
}
