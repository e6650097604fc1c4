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
server_catalog_free(struct server_catalog *c)
{
	json_decref(c->cat);
	json_decref(c->by_hash);
	free(c->json);
	free(c->sig);
	free(c->index);
	free(c->index_gz);
	free(c->feed);
	free(c->feed_gz);
	memset(c, 0, sizeof(*c));
}

/* DATA gzipped at level 9: the index and the feed are made once per
 * catalog and sent many times. */
static char *
server_catalog_gzip(const char *data, size_t len, size_t *outlen)
{
	z_stream zs;
	char *out;
	size_t cap;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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

void
server_catalog_load(struct server_catalog *cur, const char *root, const char *pubkey,
    const char *self_url)
{
	struct server_catalog c;
	char *lp, link[64], *jp = NULL, *sp = NULL, err[512];
	ssize_t n;
	json_t *v;
	size_t i;

	if ((lp = fsutil_join(root, "current")) == NULL)
		return;
	n = readlink(lp, link, sizeof(link) - 1);
	free(lp);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (strcmp(link, cur->target) == 0)
		return;
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
	{
		struct index_page_info info = {
			.catalog = c.cat,
			.pubkey = pubkey,
			.self_url = self_url,
		};
		if ((c.index = index_page_render(&info, &c.index_len)) == NULL ||
		    (c.index_gz = server_catalog_gzip(c.index, c.index_len,
		    &c.index_gz_len)) == NULL)
			goto fail;
	}
	if ((c.feed = feed_xml_render(c.cat, self_url, &c.feed_len)) == NULL ||
	    (c.feed_gz = server_catalog_gzip(c.feed, c.feed_len, &c.feed_gz_len)) == NULL)
		goto fail;
	server_catalog_free(cur);
	*cur = c;
	log_info("serving catalog sequence %lld (%zu items)",
	    (long long)json_integer_value(json_object_get(c.cat, "sequence")),
	    json_array_size(json_object_get(c.cat, "items")));
	free(jp);
	free(sp);
	return;
fail:
	server_catalog_free(&c);
	free(jp);
	free(sp);
}
