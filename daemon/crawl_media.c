/*
 * What a source turns out to hold besides one file (crawl_job.h): the
 * decision between file, page, feed and playlist; pages and feeds read
 * from the store off the loop, the media they link to joining the pass
 * as jobs of their own, a page rewritten to play its media from the
 * mirror (page_rewrite.c); yt-dlp asked for the media of a page that
 * hides them. The remuxes are crawl_derive.c's.
 */
#include "crawl_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <openssl/evp.h>

#include "catalog.h"
#include "feed_parse.h"
#include "fsutil.h"
#include "hexutil.h"
#include "hls_playlist.h"
#include "log.h"
#include "names.h"
#include "page_parse.h"
#include "page_rewrite.h"
#include "remux_run.h"
#include "resolver.h"
#include "urls.h"
#include "workq.h"

/*
 * Limits, and why:
 * - PAGE_PARSE_MAX: a page or feed larger than this is kept as a file and
 *   not read for links: no real page is that large, and a hostile one
 *   would hold a worker for long.
 * - FEEDS_PER_PAGE: feeds a page links to that are followed (one level).
 * - RESOLVER_TIMEOUT_MAX: yt-dlp gets [crawl] timeout, at most this.
 */
#define PAGE_PARSE_MAX		(64u << 20)
#define FEEDS_PER_PAGE		4
#define RESOLVER_TIMEOUT_MAX	300

/* libxml2 sets itself up on first use, which two workers parsing at
 * once must not both do: done here, on the loop, before any parse. */
void
crawl_media_init(void)
{
	xmlInitParser();
}

/* ---- what the response is ---- */

/* The media type without parameters, lowercase, into OUT. */
static void
media_type_base(const char *ct, char *out, size_t len)
{
	size_t i = 0;

	while (*ct == ' ')
		ct++;
	for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' && i + 1 < len; i++)
		out[i] = (char)((ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] + 32 : ct[i]);
	out[i] = '\0';
}

enum source_kind
crawl_media_kind(const struct crawl_job *j)
{
	char t[128];
	const char *h = j->head != NULL ? (const char *)j->head : "";

	if (j->src.follow)
		return SOURCE_FILE;
	if (j->src.kind != SOURCE_AUTO)
		return j->src.kind;
	media_type_base(j->h.content_type, t, sizeof(t));
	if (strcmp(t, "application/vnd.apple.mpegurl") == 0 ||
	    strcmp(t, "application/x-mpegurl") == 0 || strcmp(t, "audio/mpegurl") == 0 ||
	    strcmp(t, "audio/x-mpegurl") == 0 || hls_sniff(h, j->head_len))
		return SOURCE_HLS;
	/* A medium found on a page may be a playlist, never another page. */
	if (j->src.depth > 0)
		return SOURCE_FILE;
	if (strcmp(t, "application/rss+xml") == 0 || strcmp(t, "application/atom+xml") == 0 ||
	    feed_sniff(h, j->head_len))
		return SOURCE_FEED;
	if (strcmp(t, "text/html") == 0 || strcmp(t, "application/xhtml+xml") == 0 ||
	    page_sniff(h, j->head_len))
		return SOURCE_PAGE;
	return SOURCE_FILE;
}

int
crawl_media_doc_write(struct crawl_job *j, const char *buf, size_t len)
{
	struct crawl_doc_buf *d = j->docbuf;

	if (d == NULL) {
		/* What job_body_start prepared for a file is not needed. */
		free(j->mem);
		j->mem = NULL;
		j->mem_len = j->mem_cap = 0;
		ingest_free(j->in);
		j->in = NULL;
		if (j->part_fd != -1 || j->state.part_url != NULL)
			job_drop_part(j);
		if ((d = j->docbuf = calloc(1, sizeof(*d))) == NULL) {
			snprintf(j->reason, sizeof(j->reason), "out of memory");
			j->fatal = 1;
			return -1;
		}
		d->max = HLS_PLAYLIST_MAX;
	}
	if (d->len + len > d->max) {
		snprintf(j->reason, sizeof(j->reason), "playlist larger than %zu bytes", d->max);
		j->fatal = 1;
		return -1;
	}
	if (d->len + len + 1 > d->cap) {
		size_t cap = (d->len + len + 1) * 2;
		char *p;
		if (cap > d->max + 1)
			cap = d->max + 1;
		if ((p = realloc(d->p, cap)) == NULL) {
			snprintf(j->reason, sizeof(j->reason), "out of memory");
			j->fatal = 1;
			return -1;
		}
		d->p = p;
		d->cap = cap;
	}
	memcpy(d->p + d->len, buf, len);
	d->len += len;
	d->p[d->len] = '\0';
	return 0;
}

/* An HLS playlist by its type or its URL's extension. */
static int
media_is_playlist(const char *url, const char *type)
{
	size_t n = strcspn(url, "?#");

	if (type != NULL && (strcasecmp(type, "application/vnd.apple.mpegurl") == 0 ||
	    strcasecmp(type, "application/x-mpegurl") == 0 ||
	    strcasecmp(type, "audio/mpegurl") == 0 || strcasecmp(type, "audio/x-mpegurl") == 0))
		return 1;
	return n >= 5 && strncasecmp(url + n - 5, ".m3u8", 5) == 0;
}

/* ---- names for what a page or feed links to ---- */

/* The decoded last segment of URL's path, if it makes a valid item
 * name; else NULL. */
static char *
media_url_name(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *name = NULL, *seg;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK) {
		seg = strrchr(path, '/');
		seg = seg != NULL ? seg + 1 : path;
		if (*seg != '\0' && name_check(seg, strlen(seg)) == NULL)
			name = strdup(seg);
	}
	curl_free(path);
	curl_url_cleanup(u);
	return name;
}

/* NAME, or NAME-2.EXT, NAME-3.EXT...: the first not in TAKEN. */
static char *
media_unique(const char *name, char **taken, size_t n)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
	char *cand = strdup(name);
	unsigned k;
	size_t i;

	for (k = 2; cand != NULL; k++) {
		for (i = 0; i < n; i++)
			if (taken[i] != NULL && strcmp(taken[i], cand) == 0)
				break;
		if (i == n)
			return cand;
		free(cand);
		if (asprintf(&cand, "%.*s-%u%s", (int)stem, name, k,
		    stem < strlen(name) ? name + stem : "") == -1)
			cand = NULL;
	}
	return NULL;
}

/* An item name for the medium at URL (TYPE as the markup said), found
 * by source ID as its Nth: the URL's file name, else ID-N.EXT. */
static char *
media_name(const char *id, size_t n, const char *url, const char *type)
{
	char *name = media_url_name(url), *alt = NULL;
	const char *ext = "bin";

	if (name != NULL)
		return name;
	if (type != NULL && strncasecmp(type, "video/mp4", 9) == 0)
		ext = "mp4";
	else if (type != NULL && strncasecmp(type, "video/webm", 10) == 0)
		ext = "webm";
	else if (type != NULL && strncasecmp(type, "audio/mpeg", 10) == 0)
		ext = "mp3";
	if (asprintf(&alt, "%s-%zu.%s", id, n + 1, ext) == -1)
		return NULL;
	if (name_check(alt, strlen(alt)) != NULL) {
		free(alt);
		return NULL;
	}
	return alt;
}

/* STEM.mirror.html for the page NAME. */
static char *
media_mirror_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
	char *s;

	if (asprintf(&s, "%.*s.mirror.html", (int)stem, name) == -1)
		return NULL;
	return s;
}

/* ---- reading a page or feed off the loop ---- */

struct crawl_parse {
	struct crawler *cr;
	struct crawl_job *job;
	char sha256[65];
	uint64_t size;
	char *name, *url;
	enum source_kind kind;
	unsigned max_items;
	int depth;
	/* results */
	char err[ERRLEN];
	int parsed;
	struct page_info page;
	struct feed_info feed;
	char **names;		/* per media link or feed entry; NULL: not taken */
	size_t n_names;
	struct ingest *rewritten;
	char *rewritten_name;
	struct page_parser *pp;
	struct feed_parser *fp;
};

static int
parse_page_sink(void *arg, const unsigned char *p, size_t n)
{
	return page_parser_feed(arg, (const char *)p, n);
}

static int
parse_feed_sink(void *arg, const unsigned char *p, size_t n)
{
	return feed_parser_feed(arg, (const char *)p, n);
}

/* Names for the media of a page or the entries of a feed: one each. */
static int
parse_names(struct crawl_parse *ps, const char *id)
{
	size_t n = ps->kind == SOURCE_PAGE ? ps->page.n_links : ps->feed.n_entries, i;

	if (n == 0)
		return 0;
	if ((ps->names = calloc(n + 1, sizeof(char *))) == NULL)
		return -1;
	ps->n_names = n;
	/* The page's own name is taken. */
	ps->names[n] = strdup(ps->name);
	for (i = 0; i < n; i++) {
		const char *url, *type;
		char *base;
		if (ps->kind == SOURCE_PAGE) {
			if (ps->page.links[i].kind != PAGE_MEDIA)
				continue;
			url = ps->page.links[i].url;
			type = ps->page.links[i].type;
		} else {
			url = ps->feed.entries[i].url;
			type = ps->feed.entries[i].type;
		}
		if ((base = media_name(id, i, url, type)) == NULL)
			continue;
		if (media_is_playlist(url, type)) {
			/* Readers get the capture: MP4 with the remux feature
			 * (a TS remuxed, or fMP4 as it is), else TS. */
			const char *dot = strrchr(base, '.');
			char *cap = NULL;
			if (asprintf(&cap, "%.*s.%s", dot != NULL && dot != base ?
			    (int)(dot - base) : (int)strlen(base), base,
			    remux_run_available() ? "mp4" : "ts") == -1)
				cap = NULL;
			free(base);
			if ((base = cap) == NULL)
				continue;
		}
		ps->names[i] = media_unique(base, ps->names, n + 1);
		free(base);
	}
	return 0;
}

static int
parse_rewrite_out(void *arg, const void *p, size_t n)
{
	return ingest_write(arg, p, n);
}

/* The rewritten copy of a page: its media from the mirror. */
static void
parse_rewrite(struct crawl_parse *ps)
{
	struct page_rewrite *rw = NULL;
	struct ingest *out = NULL;
	char err[ERRLEN];
	size_t i;
	int any = 0;

	if ((out = ingest_new(ps->cr->st, ps->size, err, sizeof(err))) == NULL ||
	    (rw = page_rewrite_new(parse_rewrite_out, out)) == NULL)
		goto out;
	for (i = 0; i < ps->page.n_links; i++) {
		char *esc;
		if (ps->page.links[i].kind != PAGE_MEDIA || ps->names[i] == NULL ||
		    ps->page.links[i].raw == NULL)
			continue;
		if ((esc = curl_easy_escape(NULL, ps->names[i], 0)) == NULL)
			goto out;
		if (page_rewrite_add(rw, ps->page.links[i].raw, esc) == -1) {
			curl_free(esc);
			goto out;
		}
		curl_free(esc);
		any = 1;
	}
	if (!any)
		goto out;
	if (ps->page.base_raw != NULL && page_rewrite_add(rw, ps->page.base_raw, "./") == -1)
		goto out;
	if (store_read_object(ps->cr->st, ps->sha256, page_rewrite_feed, rw, err,
	    sizeof(err)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "cannot rewrite the page: %.400s", err);
		goto out;
	}
	if (page_rewrite_finish(rw) == -1 || ingest_finish(out) == -1) {
		snprintf(ps->err, sizeof(ps->err), "cannot rewrite the page: %.400s",
		    ingest_error(out));
		goto out;
	}
	ps->rewritten = out;
	ps->rewritten_name = media_mirror_name(ps->name);
	out = NULL;
out:
	ingest_free(out);
	page_rewrite_free(rw);
}

/* On a worker: the object read through the parser, names, the rewrite. */
static void
parse_work(void *arg)
{
	struct crawl_parse *ps = arg;
	struct object_meta m;
	char err[ERRLEN];
	int rc;

	memset(&m, 0, sizeof(m));
	if (store_meta_read(ps->cr->st, ps->sha256, &m, err, sizeof(err)) == -1) {
		snprintf(ps->err, sizeof(ps->err), "%s", err);
		return;
	}
	ps->size = m.size;
	store_meta_free(&m);
	if (ps->size > PAGE_PARSE_MAX) {
		snprintf(ps->err, sizeof(ps->err), "%s is larger than %u MiB: kept as a file, "
		    "not read for media", ps->name, PAGE_PARSE_MAX >> 20);
		return;
	}
	if (ps->kind == SOURCE_PAGE) {
		if ((ps->pp = page_parser_new(ps->url, ps->max_items,
		    ps->depth == 0 ? FEEDS_PER_PAGE : 0)) == NULL)
			return;
		rc = store_read_object(ps->cr->st, ps->sha256, parse_page_sink, ps->pp, err,
		    sizeof(err));
		if (rc != 0 || page_parser_finish(ps->pp, &ps->page, err, sizeof(err)) == -1) {
			snprintf(ps->err, sizeof(ps->err), "cannot read the page: %.400s", err);
			return;
		}
	} else {
		if ((ps->fp = feed_parser_new(ps->url, ps->max_items)) == NULL)
			return;
		rc = store_read_object(ps->cr->st, ps->sha256, parse_feed_sink, ps->fp, err,
		    sizeof(err));
		if (rc != 0 || feed_parser_finish(ps->fp, &ps->feed, err, sizeof(err)) == -1) {
			snprintf(ps->err, sizeof(ps->err), "cannot read the feed: %.400s", err);
			return;
		}
	}
	ps->parsed = 1;
	if (parse_names(ps, ps->job->src.source != NULL ? ps->job->src.source : "media") == -1)
		return;
	if (ps->kind == SOURCE_PAGE)
		parse_rewrite(ps);
}

static void
parse_free(struct crawl_parse *ps)
{
	size_t i;

	if (ps->pp != NULL)
		page_parser_free(ps->pp);
	if (ps->fp != NULL)
		feed_parser_free(ps->fp);
	page_info_free(&ps->page);
	feed_info_free(&ps->feed);
	for (i = 0; ps->names != NULL && i <= ps->n_names; i++)
		free(ps->names[i]);
	free(ps->names);
	ingest_free(ps->rewritten);
	free(ps->rewritten_name);
	free(ps->name);
	free(ps->url);
	free(ps);
}

/* A fields-only commit for the page or feed item: what it said of itself. */
static void
parse_meta_commit(struct crawl_parse *ps, const char *title, const char *description)
{
	struct crawl_job *j = ps->job;
	struct crawl_commit c = {
		.job = j, .name = strdup(ps->name),
		.title = xstrdup(j->src.title != NULL ? j->src.title : title),
		.description = xstrdup(j->src.description != NULL ? j->src.description :
		    description),
		.lang = xstrdup(j->src.lang), .page = xstrdup(j->src.page),
	};

	snprintf(c.sha256, sizeof(c.sha256), "%s", ps->sha256);
	if (c.name == NULL || (c.title == NULL && c.description == NULL && c.lang == NULL &&
	    c.page == NULL)) {
		free(c.name);
		free(c.title);
		free(c.description);
		free(c.lang);
		free(c.page);
		return;
	}
	if (crawler_commit_add(ps->cr, &c) == -1)
		log_warn("%s %s: out of memory", ps->cr->tag, j->src.id);
}

static void
parse_done(void *arg)
{
	struct crawl_parse *ps = arg;
	struct crawler *cr = ps->cr;
	struct crawl_job *j = ps->job, *f;
	size_t i, taken = 0;

	cr->parsing--;
	if (cr->draining || !cr->running) {
		parse_free(ps);
		return;
	}
	if (ps->err[0] != '\0')
		log_warn("%s %s: %s", cr->tag, j->src.id, ps->err);
	if (!ps->parsed) {
		parse_free(ps);
		crawler_check_end(cr);
		return;
	}
	if (ps->kind == SOURCE_PAGE) {
		parse_meta_commit(ps, ps->page.title, ps->page.description);
		if (ps->page.skipped > 0)
			log_warn("%s %s: page links to %zu media, took the first %u (max_items)",
			    cr->tag, j->src.id, ps->page.n_media + ps->page.skipped,
			    ps->max_items);
		for (i = 0; i < ps->page.n_links; i++) {
			const struct page_link *l = &ps->page.links[i];
			if (l->kind == PAGE_MEDIA && ps->names[i] != NULL) {
				if ((f = crawler_add_found(cr, j, l->url, ps->names[i])) != NULL) {
					taken++;
					/* A playlist is captured, not kept as a file. */
					if (media_is_playlist(l->url, l->type)) {
						const char *dot = strrchr(ps->names[i], '.');
						f->src.kind = SOURCE_AUTO;
						f->src.stem = strndup(ps->names[i], dot != NULL ?
						    (size_t)(dot - ps->names[i]) :
						    strlen(ps->names[i]));
						free(f->src.name);
						f->src.name = NULL;
					}
				}
			} else if (l->kind == PAGE_FEED && ps->depth == 0) {
				if ((f = crawler_add_found(cr, j, l->url, NULL)) != NULL) {
					/* Asked for again each pass (conditionally). */
					f->src.kind = SOURCE_FEED;
					f->src.child = 0;
				}
			}
		}
		if (ps->rewritten != NULL && ps->rewritten_name != NULL) {
			struct crawl_commit c = {
				.in = ps->rewritten, .job = j, .name = ps->rewritten_name,
				.type = strdup("text/html"),
				.source = xstrdup(j->src.urls[j->url_i]),
				.title = xstrdup(j->src.title != NULL ? j->src.title :
				    ps->page.title),
				.lang = xstrdup(j->src.lang), .derived_from = strdup(ps->sha256),
				.was_missing = !store_has_object(cr->st,
				    ingest_meta(ps->rewritten)->sha256),
			};
			ps->rewritten = NULL;
			ps->rewritten_name = NULL;
			if (crawler_commit_add(cr, &c) == -1)
				log_warn("%s %s: out of memory", cr->tag, j->src.id);
		}
	} else {
		parse_meta_commit(ps, ps->feed.title, ps->feed.description);
		if (ps->feed.skipped > 0)
			log_warn("%s %s: feed has %zu entries with media, took the newest %u "
			    "(max_items)", cr->tag, j->src.id,
			    ps->feed.n_entries + ps->feed.skipped, ps->max_items);
		for (i = 0; i < ps->feed.n_entries; i++) {
			const struct feed_entry *e = &ps->feed.entries[i];
			if (ps->names[i] == NULL ||
			    (f = crawler_add_found(cr, j, e->url, ps->names[i])) == NULL)
				continue;
			taken++;
			if (f->src.title == NULL)
				f->src.title = xstrdup(e->title);
			if (f->src.description == NULL)
				f->src.description = xstrdup(e->description);
			f->src.published = xstrdup(e->published);
		}
	}
	if (taken > 0)
		log_info("%s %s: %zu media found on %s", cr->tag, j->src.id, taken, ps->name);
	parse_free(ps);
	crawler_check_end(cr);
}

void
crawl_media_parse(struct crawler *cr, struct crawl_job *j, const char *sha256,
    uint64_t size, const char *name, enum source_kind kind)
{
	struct crawl_parse *ps = calloc(1, sizeof(*ps));
	const char *base = j->eff_url != NULL ? j->eff_url :
	    j->state.url != NULL ? j->state.url : j->src.urls[j->url_i];

	if (ps == NULL || (ps->name = strdup(name)) == NULL || (ps->url = strdup(base)) == NULL) {
		if (ps != NULL) {
			free(ps->name);
			free(ps);
		}
		log_warn("%s %s: out of memory", cr->tag, j->src.id);
		return;
	}
	ps->cr = cr;
	ps->job = j;
	snprintf(ps->sha256, sizeof(ps->sha256), "%s", sha256);
	ps->size = size;
	ps->kind = kind;
	ps->max_items = j->src.max_items > 0 ? j->src.max_items : CONFIG_MAX_ITEMS_DEFAULT;
	ps->depth = (int)j->src.depth;
	cr->parsing++;
	if (workq_submit(WORKQ_INGEST, parse_work, parse_done, ps) == -1) {
		parse_work(ps);
		parse_done(ps);
	}
}

int
crawler_media_busy(const struct crawler *cr)
{
	return cr->parsing > 0 || cr->deriving > 0;
}

/* ---- what was found joins the pass ---- */

/* ID~ and 16 hex digits of the SHA-256 of WHAT: a state file's name. */
static char *
found_key(const char *source, const char *what)
{
	unsigned char md[32];
	char hex[65], *k;

	EVP_Digest(what, strlen(what), md, NULL, EVP_sha256(), NULL);
	hex_encode(md, 8, hex);
	if (asprintf(&k, "%s~%s", source, hex) == -1)
		return NULL;
	return k;
}

struct crawl_job *
crawler_add_found(struct crawler *cr, const struct crawl_job *parent, const char *url,
    const char *name)
{
	struct crawl_job *j;
	const char *source = parent->src.source != NULL ? parent->src.source : parent->src.id;
	char *key = found_key(source, url);

	if (key == NULL)
		return NULL;
	/* Found twice in one pass (two pages, a page and its feed): once.
	 * A set of the keys found, O(1) a look-up. */
	if (cr->found == NULL && (cr->found = json_object()) == NULL) {
		free(key);
		return NULL;
	}
	if (json_object_get(cr->found, key) != NULL) {
		free(key);
		return NULL;
	}
	json_object_set_new(cr->found, key, json_true());
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		free(key);
		return NULL;
	}
	j->cr = cr;
	j->part_fd = -1;
	j->src.key = key;
	j->src.source = strdup(source);
	{
		char show[URL_SHOW_MAX];
		if (asprintf(&j->src.id, "%s: %s", source, name != NULL ? name :
		    url_show(url, show, sizeof(show))) == -1)
			j->src.id = NULL;
	}
	j->src.urls = calloc(1, sizeof(char *));
	if (j->src.urls != NULL && (j->src.urls[0] = strdup(url)) != NULL)
		j->src.n_urls = 1;
	j->src.name = xstrdup(name);
	j->src.proxy = xstrdup(parent->src.proxy);
	j->src.insecure = parent->src.insecure;
	j->src.kind = SOURCE_FILE;
	j->src.depth = parent->src.depth + 1;
	j->src.child = 1;
	j->src.remux = 1;	/* a playlist found on a page: its MP4 too */
	j->src.max_items = parent->src.max_items;
	j->src.lang = xstrdup(parent->src.lang);
	j->src.variant = parent->src.variant;
	j->src.bandwidth = parent->src.bandwidth;
	/* The page or feed it was found on, by its item name. */
	j->src.page = parent->state.name != NULL ? strdup(parent->state.name) : NULL;
	if (j->src.id == NULL || j->src.source == NULL || j->src.n_urls == 0) {
		src_free(&j->src);
		free(j);
		return NULL;
	}
	if (cr->tail != NULL)
		cr->tail->next = j;
	else
		cr->jobs = j;
	cr->tail = j;
	if (cr->queue == NULL)
		cr->queue = j;
	return j;
}

void
crawl_media_free(struct crawl_job *j)
{
	if (j->resolving != NULL) {
		resolver_cancel(j->resolving);
		j->resolving = NULL;
	}
	if (j->docbuf != NULL) {
		free(j->docbuf->p);
		free(j->docbuf);
		j->docbuf = NULL;
	}
	free(j->eff_url);
	j->eff_url = NULL;
}

/* ---- yt-dlp ---- */

static int
resolve_is_hls(const struct resolver_media *m)
{
	return (m->protocol != NULL && strncmp(m->protocol, "m3u8", 4) == 0) ||
	    (m->ext != NULL && strcmp(m->ext, "m3u8") == 0);
}

static void
resolve_done(void *arg, struct resolver_result *res, const char *err)
{
	struct crawl_job *j = arg;
	struct crawler *cr = j->cr;
	char why[ERRLEN];
	size_t i, k;

	j->resolving = NULL;
	if (res == NULL) {
		snprintf(why, sizeof(why), "%s", err != NULL ? err : "yt-dlp failed");
		job_failed(j, why, 0);
		return;
	}
	for (i = 0; i < res->n_media; i++) {
		const struct resolver_media *m = &res->media[i];
		const char *role = res->n_media == 1 ? NULL :
		    m->vcodec != NULL && strcmp(m->vcodec, "none") != 0 ? "video" : "audio";
		char *name = NULL, *what = NULL;
		struct crawl_job *f;
		int hls = resolve_is_hls(m);
		const char *ext = hls ? "ts" : m->ext != NULL ? m->ext : "bin";

		if (asprintf(&name, "%s%s%s.%s", j->src.key, role != NULL ? "-" : "",
		    role != NULL ? role : "", ext) == -1)
			name = NULL;
		if (j->src.name != NULL && res->n_media == 1 && !hls) {
			free(name);
			name = strdup(j->src.name);
		}
		/* A resolver's URLs expire and change: the medium is known by
		 * its role, not its URL. */
		if (asprintf(&what, "resolver %s", role != NULL ? role : "media") == -1)
			what = NULL;
		if (name == NULL || what == NULL ||
		    (f = crawler_add_found(cr, j, m->url, name)) == NULL) {
			free(name);
			free(what);
			continue;
		}
		free(f->src.key);
		f->src.key = found_key(j->src.key, what);
		f->src.child = 2;
		f->src.page = NULL;
		f->src.title = xstrdup(j->src.title != NULL ? j->src.title : res->title);
		f->src.description = xstrdup(j->src.description != NULL ? j->src.description :
		    res->description);
		if (hls) {
			f->src.kind = SOURCE_HLS;
			f->src.child = 0;
			f->src.remux = 1;
			free(f->src.name);
			f->src.name = NULL;
			if (asprintf(&f->src.stem, "%s%s%s", j->src.key, role != NULL ? "-" : "",
			    role != NULL ? role : "") == -1)
				f->src.stem = NULL;
		}
		if (m->n_headers > 0 && (f->src.headers = calloc(m->n_headers,
		    sizeof(char *))) != NULL) {
			for (k = 0; k < m->n_headers; k++)
				if ((f->src.headers[f->src.n_headers] = strdup(m->headers[k])) != NULL)
					f->src.n_headers++;
		}
		free(name);
		free(what);
	}
	log_info("%s %s: yt-dlp found %zu medi%s%s%s", cr->tag, j->src.id, res->n_media,
	    res->n_media == 1 ? "um" : "a", res->title != NULL ? ": " : "",
	    res->title != NULL ? res->title : "");
	resolver_result_free(res);
	j->phase = J_DONE;
	crawler_source_ok(cr, j->src.source);
	cr->active--;
	crawler_check_end(cr);
}

void
crawl_media_resolve(struct crawl_job *j)
{
	struct crawler *cr = j->cr;
	struct resolver_opts o = {
		.proxy = j->src.proxy != NULL ? j->src.proxy : cr->proxy,
		.user_agent = cr->user_agent,
		.timeout_s = cr->timeout < RESOLVER_TIMEOUT_MAX ? cr->timeout : RESOLVER_TIMEOUT_MAX,
	};
	char err[ERRLEN];

	j->phase = J_ACTIVE;
	if ((j->resolving = resolver_start(cr->base, &o, j->src.urls[0], resolve_done, j,
	    err, sizeof(err))) == NULL)
		job_failed(j, err, 0);
}

