/*
 * The served catalog (see server_catalog.h): loading it when `current`
 * moves, and what is made from it once per catalog.
 */
#include "server_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "catalog.h"
#include "feed_xml.h"
#include "fsutil.h"
#include "index_page.h"
#include "log.h"

void
server_page_free(struct server_page *p)
{
	free(p->html);
	free(p->gz);
	memset(p, 0, sizeof(*p));
}

void
server_catalog_free(struct server_catalog *c)
{
	size_t i;

	json_decref(c->cat);
	json_decref(c->by_hash);
	free(c->json);
	free(c->sig);
	for (i = 0; c->pages != NULL && i < c->n_pages * index_n_langs; i++)
		server_page_free(&c->pages[i]);
	free(c->pages);
	free(c->self_url);
	free(c->feed);
	free(c->feed_gz);
	memset(c, 0, sizeof(*c));
}

/* DATA gzipped at LEVEL: 9 for what is made once per catalog and sent
 * many times (the index's pages, the feed), less for a page made for
 * one request. */
static char *
server_catalog_gzip_level(const char *data, size_t len, size_t *outlen,
    int level)
{
	z_stream zs;
	char *out;
	size_t cap;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&zs, len) + 32;
	if ((out = malloc(cap)) == NULL) {
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		deflateEnd(&zs);
		return NULL;
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static char *
server_catalog_gzip(const char *data, size_t len, size_t *outlen)
{
	return server_catalog_gzip_level(data, len, outlen, 9);
}

static int
server_page_make(struct server_catalog *c, int lang, size_t page,
    const char *query, struct server_page *p, size_t *pages)
{
	struct index_page_info info = c->page_info;

	info.catalog = c->cat;
	info.langs = c->langs;	/* C may have been copied since load */
	info.pin = c->pin[0] != '\0' ? c->pin : NULL;
	info.lang = lang;
	info.page = page;
	info.query = query;
	if ((p->html = index_page_render(&info, &p->len, pages)) == NULL ||
	    (p->gz = server_catalog_gzip_level(p->html, p->len, &p->gz_len,
	    query != NULL ? 6 : 9)) == NULL) {
		server_page_free(p);
		return -1;
	}
	return 0;
}

const struct server_page *
server_catalog_index(struct server_catalog *c, int lang, size_t page,
    const char *query, struct server_page *tmp, pthread_mutex_t *mu)
{
	int rc = 0;

	struct server_page *p;

	memset(tmp, 0, sizeof(*tmp));
	if (lang < 0 || (size_t)lang >= index_n_langs || c->cat == NULL)
		return NULL;
	if (query != NULL && query[0] != '\0')
		return server_page_make(c, lang, page, query, tmp, NULL) == 0 ?
		    tmp : NULL;
	if (page < 1)
		page = 1;
	if (page > c->n_pages)
		page = c->n_pages;
	p = &c->pages[(page - 1) * index_n_langs + (size_t)lang];
	/* Made once, by whichever loop asks first; the others wait for it
	 * rather than make it too. Once made a page does not change. */
	pthread_mutex_lock(mu);
	if (p->html == NULL)
		rc = server_page_make(c, lang, page, NULL, p, NULL);
	pthread_mutex_unlock(mu);
	return rc == 0 ? p : NULL;
}

int
server_catalog_load(const char *cur_target, const char *root,
    const struct index_page_info *pinfo, struct server_catalog *out)
{
	struct server_page first;
	struct server_catalog c;
	char *lp, link[64], *jp = NULL, *sp = NULL, err[512];
	ssize_t n;
	json_t *v;
	size_t i;
	int l0;

	if ((lp = fsutil_join(root, "current")) == NULL)
		return 0;
	n = readlink(lp, link, sizeof(link) - 1);
	free(lp);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (strcmp(link, cur_target) == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	snprintf(c.target, sizeof(c.target), "%s", link);
	if (asprintf(&jp, "%s/%s/catalog.json", root, link) == -1)
		jp = NULL;
	if (asprintf(&sp, "%s/%s/catalog.json.minisig", root, link) == -1)
		sp = NULL;
	if (jp == NULL || sp == NULL ||
	    fsutil_read_file(jp, CATALOG_MAX_BYTES, &c.json, &c.json_len) == -1 ||
	    fsutil_read_file(sp, 65536, &c.sig, &c.sig_len) == -1) {
		log_error("cannot load catalog %s: %s", link, strerror(errno));
		goto fail;
	}
	if ((c.cat = catalog_parse(c.json, c.json_len, err, sizeof(err))) == NULL) {
		log_error("cannot load catalog %s: %s", link, err);
		goto fail;
	}
	if ((c.by_hash = json_object()) == NULL)
		goto fail;
	json_array_foreach(json_object_get(c.cat, "items"), i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		if (json_object_get(c.by_hash, hex) == NULL)
			json_object_set(c.by_hash, hex, v);
	}
	/* Provenance documents are served by hash only, as JSON, named by
	 * their id (an item of the same content wins). */
	json_array_foreach(json_object_get(c.cat, "items"), i, v) {
		const char *hex;
		uint64_t psize;
		if (catalog_item_provenance(v, &hex, &psize) == 0 &&
		    json_object_get(c.by_hash, hex) == NULL &&
		    json_object_set_new(c.by_hash, hex, json_pack("{s:s, s:s}", "sha256", hex,
		    "type", "application/json")) == -1)
			goto fail;
	}
	/* The first page in the first language now: it gives the number of
	 * pages, and most readers ask for it. */
	c.page_info = *pinfo;
	if (pinfo->self_url != NULL &&
	    (c.page_info.self_url = c.self_url = strdup(pinfo->self_url)) == NULL)
		goto fail;
	if (c.page_info.n_langs > INDEX_LANGS_MAX)
		c.page_info.n_langs = INDEX_LANGS_MAX;
	memcpy(c.langs, pinfo->langs, c.page_info.n_langs * sizeof(c.langs[0]));
	snprintf(c.pin, sizeof(c.pin), "%s", pinfo->pin != NULL ? pinfo->pin : "");
	c.page_info.pin = NULL;		/* c.pin, where C is when a page is made */
	l0 = c.page_info.n_langs > 0 ? c.langs[0] : 0;
	if (server_page_make(&c, l0, 1, NULL, &first, &c.n_pages) == -1)
		goto fail;
	if ((c.pages = calloc(c.n_pages * index_n_langs,
	    sizeof(*c.pages))) == NULL) {
		server_page_free(&first);
		goto fail;
	}
	c.pages[l0] = first;
	if ((c.feed = feed_xml_render(c.cat, c.self_url, &c.feed_len)) == NULL ||
	    (c.feed_gz = server_catalog_gzip(c.feed, c.feed_len, &c.feed_gz_len)) == NULL)
		goto fail;
	*out = c;
	log_info("serving catalog sequence %lld (%zu items)",
	    (long long)json_integer_value(json_object_get(c.cat, "sequence")),
	    json_array_size(json_object_get(c.cat, "items")));
	free(jp);
	free(sp);
	return 1;
fail:
	server_catalog_free(&c);
	free(jp);
	free(sp);
	return 0;
}
