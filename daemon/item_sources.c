/*
 * Catalog items and the sources that produced them (item_sources.h),
 * matched through the crawler's per-source state files.
 */
#include "item_sources.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawl_state.h"
#include "fsutil.h"
#include "log.h"

#define STATE_DIR "crawl"

/* The SHA-256 of source ID's last good copy, into OUT; 0 when none. */
static int
item_sources_last(const char *dir, const char *id, char out[65])
{
	struct crawl_state s;
	int found = 0;

	memset(&s, 0, sizeof(s));
	crawl_state_load(dir, id, &s);
	if (s.sha256 != NULL) {
		snprintf(out, 65, "%s", s.sha256);
		found = 1;
	}
	crawl_state_free(&s);
	return found;
}

/* The configured [source] a state file's key belongs to: KEY is its id,
 * or "ID~HASH" for what it found (media of a page or feed, a variant). */
static const struct config_source *
item_sources_of_key(const struct config *cfg, const char *key)
{
	size_t i, len = strcspn(key, "~");

	for (i = 0; i < cfg->n_sources; i++)
		if (strlen(cfg->sources[i].id) == len &&
		    strncmp(cfg->sources[i].id, key, len) == 0)
			return &cfg->sources[i];
	return NULL;
}

struct producer {
	const struct config *cfg;
	const char *sha256;
	const struct config_source *src;
};

static void item_sources_each_state(const char *dir, void (*fn)(const char *dir,
    const char *id, void *arg), void *arg);

static void
item_sources_match(const char *dir, const char *id, void *arg)
{
	struct producer *p = arg;
	const struct config_source *c;
	char last[65];

	if (p->src != NULL || (c = item_sources_of_key(p->cfg, id)) == NULL)
		return;
	if (item_sources_last(dir, id, last) && strcmp(last, p->sha256) == 0)
		p->src = c;
}

const struct config_source *
item_sources_producer(const struct config *cfg, const struct store *st, const char *name,
    const char *sha256)
{
	struct producer p = { cfg, sha256, NULL };
	char *dir = fsutil_join(st->root, STATE_DIR);
	size_t i;

	for (i = 0; i < cfg->n_sources && p.src == NULL; i++) {
		const struct config_source *c = &cfg->sources[i];
		if (c->name != NULL && strcmp(c->name, name) == 0)
			p.src = c;
	}
	/* O(state files): read only by `rm`. */
	if (p.src == NULL && dir != NULL)
		item_sources_each_state(dir, item_sources_match, &p);
	free(dir);
	return p.src;
}

/* Calls FN for the id of every STORE/crawl/ID.json. */
static void
item_sources_each_state(const char *dir, void (*fn)(const char *dir, const char *id,
    void *arg), void *arg)
{
	DIR *d;
	struct dirent *de;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *id;
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if ((id = strndup(de->d_name, len - 5)) == NULL)
			continue;
		fn(dir, id, arg);
		free(id);
	}
	closedir(d);
}

struct orphans {
	const struct config *cfg;
	json_t *by_hash;	/* hex -> the id of a source gone from the config */
};

static void
item_sources_gone(const char *dir, const char *id, void *arg)
{
	struct orphans *o = arg;
	char last[65];

	if (item_sources_of_key(o->cfg, id) != NULL)
		return;
	if (item_sources_last(dir, id, last)) {
		/* Named by the [source] it came from, not the state's key. */
		char *src = strndup(id, strcspn(id, "~"));
		if (src != NULL)
			json_object_set_new(o->by_hash, last, json_string(src));
		free(src);
	}
}

size_t
item_sources_warn_orphans(const struct config *cfg, const struct store *st, json_t *cat)
{
	struct orphans o = { cfg, json_object() };
	char *dir = fsutil_join(st->root, STATE_DIR);
	json_t *v, *id;
	size_t i, n = 0;

	if (dir == NULL || o.by_hash == NULL || cat == NULL)
		goto out;
	item_sources_each_state(dir, item_sources_gone, &o);
	json_array_foreach(json_object_get(cat, "items"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		if ((id = json_object_get(o.by_hash, hex)) == NULL ||
		    item_sources_producer(cfg, st, name, hex) != NULL)
			continue;
		/* An origin that vanished is why we mirror: the item stays
		 * until the publisher says otherwise. */
		log_warn("catalog item '%s' came from [source %s], which is no longer in %s; "
		    "it stays published: to take it down, `emberd rm -c %s '%s'`", name,
		    json_string_value(id), cfg->path, cfg->path, name);
		n++;
	}
out:
	json_decref(o.by_hash);
	free(dir);
	return n;
}

struct forget {
	json_t *hexes;
	size_t removed;
};

static void
item_sources_forget_one(const char *dir, const char *id, void *arg)
{
	struct forget *f = arg;
	char last[65], *json, *part;
	json_t *v;
	size_t i;

	if (!item_sources_last(dir, id, last))
		return;
	json_array_foreach(f->hexes, i, v) {
		if (strcmp(json_string_value(v), last) != 0)
			continue;
		json = crawl_state_path(dir, id, ".json");
		part = crawl_state_path(dir, id, ".part");
		if (part != NULL)
			unlink(part);
		free(part);
		part = crawl_state_path(dir, id, ".hls");
		if (part != NULL)
			unlink(part);
		free(part);
		part = crawl_state_path(dir, id, ".prov");
		if (part != NULL)
			unlink(part);
		free(part);
		part = crawl_state_path(dir, id, ".hlsprov");
		if (part != NULL)
			unlink(part);
		if (json != NULL && unlink(json) == 0)
			f->removed++;
		free(json);
		free(part);
		return;
	}
}

size_t
item_sources_forget(const struct store *st, json_t *hexes)
{
	struct forget f = { hexes, 0 };
	char *dir = fsutil_join(st->root, STATE_DIR);

	if (dir != NULL && json_array_size(hexes) > 0)
		item_sources_each_state(dir, item_sources_forget_one, &f);
	free(dir);
	return f.removed;
}
