/*
 * The catalog transaction (publish.h): key, lock, commit, load, change,
 * sign, swap, prune, in that order and in one place; and the rule of
 * when a catalog is renewed before it expires.
 */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "catalog.h"
#include "minisign.h"

int
publish_settings_init(struct publish_settings *s, const struct config *cfg)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->expires = cfg->expires;
	if ((s->key_path = strdup(cfg->key)) == NULL ||
	    (s->name = strdup(cfg->name)) == NULL ||
	    (cfg->description != NULL && (s->description = strdup(cfg->description)) == NULL) ||
	    (cfg->url != NULL && (s->self_url = strdup(cfg->url)) == NULL))
		goto oom;
	if (cfg->n_mirrors > 0 &&
	    (s->mirrors = calloc(cfg->n_mirrors, sizeof(*s->mirrors))) == NULL)
		goto oom;
	for (i = 0; i < cfg->n_mirrors; i++) {
		if ((s->mirrors[i] = strdup(cfg->mirrors[i])) == NULL)
			goto oom;
		s->n_mirrors++;
	}
	s->source_urls = cfg->source_urls;
	return 0;
oom:
	publish_settings_free(s);
	return -1;
}

void
publish_settings_free(struct publish_settings *s)
{
	size_t i;

	for (i = 0; i < s->n_mirrors; i++)
		free(s->mirrors[i]);
	free(s->mirrors);
	free(s->key_path);
	free(s->name);
	free(s->description);
	free(s->self_url);
	memset(s, 0, sizeof(*s));
}

int64_t
publish_due_at(int64_t expires, uint64_t validity)
{
	return expires - (int64_t)(validity / 3);
}

int
publish_due(int64_t expires, uint64_t validity, int64_t now)
{
	return expires == 0 || now >= publish_due_at(expires, validity);
}

/* Apply S and ITEMS to CAT (a new catalog when NULL): 1 changed, 0 the
 * same, -1 out of memory. */
/* CAT's "description" made DESC (absent when NULL or empty): 1 changed,
 * 0 the same, -1 out of memory. */
static int
publish_description(json_t *cat, const char *desc)
{
	const char *now = json_string_value(json_object_get(cat, "description"));

	if (desc == NULL || *desc == '\0')
		return now != NULL ? (json_object_del(cat, "description"), 1) : 0;
	if (now != NULL && strcmp(now, desc) == 0)
		return 0;
	return json_object_set_new(cat, "description", json_string(desc)) == -1 ? -1 : 1;
}

static int
publish_change(json_t **cat, const struct minisign_key *key,
    const struct publish_settings *s, struct publish_item *items, size_t n)
{
	char when[32];
	int changed = 0;
	size_t i;

	if (*cat == NULL) {
		char keyid[17];
		minisign_keyid_hex(key->id, keyid);
		if ((*cat = catalog_new(s->name, keyid)) == NULL)
			return -1;
		changed = 1;
	}
	if (strcmp(json_string_value(json_object_get(*cat, "name")), s->name) != 0) {
		if (json_object_set_new(*cat, "name", json_string(s->name)) == -1)
			return -1;
		changed = 1;
	}
	switch (publish_description(*cat, s->description)) {
	case -1:
		return -1;
	case 1:
		changed = 1;
		break;
	}
	switch (catalog_set_mirrors(*cat, s->self_url, s->mirrors, s->n_mirrors)) {
	case -1:
		return -1;
	case 1:
		changed = 1;
		break;
	}
	catalog_time((int64_t)time(NULL), when);
	for (i = 0; i < n; i++) {
		struct catalog_item it = { .name = items[i].name, .sha256 = items[i].sha256,
		    .size = items[i].size, .type = items[i].type,
		    .source = items[i].source, .fetched = when,
		    .title = items[i].title, .description = items[i].description,
		    .lang = items[i].lang, .page = items[i].page,
		    .derived_from = items[i].derived_from, .published = items[i].published,
		    .provenance = items[i].provenance };
		int r = catalog_put(*cat, &it);
		if (r == -1)
			return -1;
		items[i].changed = r;
		changed |= r;
	}
	/* Every item, so that a catalog signed under another mode is
	 * cleaned by whichever publish comes next. */
	switch (catalog_redact_sources(*cat, s->source_urls)) {
	case -1:
		return -1;
	case 1:
		changed = 1;
		break;
	}
	return changed;
}

/* Take E's names out of CAT: 1 changed, 0 nothing to take, -2 refused
 * or -1 out of memory (ERR says which). */
static int
publish_remove(json_t *cat, const struct publish_edit *e, json_t **gone, char *err,
    size_t errlen)
{
	json_t *items = json_object_get(cat, "items"), *v;
	size_t i, k;

	for (k = 0; k < e->n_remove; k++) {
		if (catalog_find_item(cat, e->remove[k]) == NULL) {
			snprintf(err, errlen, "no item named '%s' in the catalog (sequence %lld); "
			    "`emberd ls` lists them", e->remove[k],
			    (long long)json_integer_value(json_object_get(cat, "sequence")));
			return -2;
		}
	}
	if (e->n_remove == 0)
		return 0;
	if ((*gone = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = json_array_size(items); i-- > 0; ) {
		v = json_array_get(items, i);
		for (k = 0; k < e->n_remove; k++) {
			if (strcmp(json_string_value(json_object_get(v, "name")), e->remove[k]) == 0)
				break;
		}
		if (k == e->n_remove)
			continue;
		json_array_append(*gone, json_object_get(v, "sha256"));
		if (json_object_get(json_object_get(v, "provenance"), "sha256") != NULL)
			json_array_append(*gone, json_object_get(json_object_get(v,
			    "provenance"), "sha256"));
		json_array_remove(items, i);
	}
	if (json_array_size(items) == 0) {
		snprintf(err, errlen, "that would take out the catalog's last item: a catalog "
		    "with nothing in it is not published; add what replaces it first");
		return -2;
	}
	return 1;
}

/* Delete the objects of GONE that no item of CAT still names; the ids
 * deleted go to RES. The caller holds the store lock. */
static void
publish_purge(struct store *st, json_t *cat, json_t *gone, struct publish_result *res)
{
	json_t *v, *named;
	size_t i;
	char *path;
	struct stat sb;

	if ((named = json_object()) == NULL || catalog_objects(cat, named) == -1 ||
	    (res->purged = json_array()) == NULL) {
		json_decref(named);
		return;
	}
	json_array_foreach(gone, i, v) {
		const char *hex = json_string_value(v);
		if (json_object_get(named, hex) != NULL || !store_has_object(st, hex))
			continue;
		if ((path = store_object_path(st, hex)) != NULL && stat(path, &sb) == 0)
			res->purged_bytes += (uint64_t)sb.st_size;
		free(path);
		if (store_remove_object(st, hex) == 0)
			json_array_append(res->purged, v);
	}
	json_decref(named);
}

void
publish_result_free(struct publish_result *res)
{
	json_decref(res->purged);
	res->purged = NULL;
}

static int
publish_txn(struct store *st, const struct publish_settings *s,
    struct ingest **ins, size_t n_ins, struct publish_item *items, size_t n,
    const struct publish_edit *e, struct publish_result *res, char *err, size_t errlen);

int
publish_apply(struct store *st, const struct publish_settings *s,
    struct ingest **ins, size_t n_ins, struct publish_item *items, size_t n,
    struct publish_result *res, char *err, size_t errlen)
{
	return publish_txn(st, s, ins, n_ins, items, n, NULL, res, err, errlen);
}

int
publish_edit_apply(struct store *st, const struct publish_settings *s,
    const struct publish_edit *e, struct publish_result *res, char *err, size_t errlen)
{
	return publish_txn(st, s, NULL, 0, NULL, 0, e, res, err, errlen);
}

static int
publish_txn(struct store *st, const struct publish_settings *s,
    struct ingest **ins, size_t n_ins, struct publish_item *items, size_t n,
    const struct publish_edit *e, struct publish_result *res, char *err, size_t errlen)
{
	struct minisign_key key;
	json_t *cat = NULL, *gone = NULL;
	int locked = 0, changed, removed = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&key, 0, sizeof(key));
	/* The key first: without it nothing is committed that no catalog
	 * would name. */
	if (minisign_key_load(s->key_path, &key, err, errlen) == -1)
		goto out;
	if (store_lock(st, err, errlen) == -1)
		goto out;
	locked = 1;
	if ((n_ins > 0 && ingest_commit(st, ins, n_ins, err, errlen) == -1) ||
	    catalog_load_current(st, &cat, err, errlen) == -1)
		goto out;
	if (e != NULL && e->n_remove > 0 && cat == NULL) {
		snprintf(err, errlen, "no catalog published yet: nothing to take out");
		res->refused = 1;
		goto out;
	}
	if (e != NULL && cat != NULL &&
	    (removed = publish_remove(cat, e, &gone, err, errlen)) < 0) {
		res->refused = removed == -2;
		goto out;
	}
	if ((changed = publish_change(&cat, &key, s, items, n)) == -1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	changed |= removed || (e != NULL && e->force);
	res->replaced = (long long)json_integer_value(json_object_get(cat, "sequence"));
	if (!catalog_expires(cat, &res->was_expires))
		res->was_expires = 0;
	/* Nothing else changed, but followers would refuse it soon. */
	if (!changed && publish_due(res->was_expires, s->expires, (int64_t)time(NULL)))
		changed = res->renewed = 1;
	if (changed && catalog_publish(st, cat, &key, s->expires, err, errlen) == -1)
		goto out;
	if (e != NULL && e->purge && gone != NULL)
		publish_purge(st, cat, gone, res);
	store_unlock(st);
	locked = 0;
	/* A takedown leaves no older catalog naming what it took down. */
	if (changed)
		catalog_prune(st, e != NULL && e->purge ? 1 : 2);
	res->changed = changed;
	if (!catalog_expires(cat, &res->expires))
		res->expires = 0;
	res->sequence = (long long)json_integer_value(json_object_get(cat, "sequence"));
	res->items = json_array_size(json_object_get(cat, "items"));
	rc = 0;
out:
	if (locked)
		store_unlock(st);
	json_decref(gone);
	json_decref(cat);
	minisign_key_free(&key);
	return rc;
}
