/*
 * Follower mode (follow.h): one sync pass at a time, from asking the
 * peers for the catalog to installing the publisher's files once every
 * object is in the store, with what the "previous" chain and the held
 * catalog's expiry tell on the way (forks, gaps, a stale mirror). Which
 * catalog and which peers first is peers.c's; the transfers are the
 * crawler's.
 */
#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "catalog.h"
#include "fsutil.h"
#include "log.h"
#include "minisign.h"
#include "names.h"
#include "peers.h"
#include "urls.h"

#define ERRLEN		512

struct follow_get {
	struct follower *f;
	size_t i;			/* the peer */
	enum peers_doc doc;
};

struct follower {
	struct event_base *base;
	struct store *st;
	struct crawler *cr;
	int running;
	crawl_done_fn done;
	void *done_arg;
	struct crawl_totals totals;
	struct crawl_options opt;	/* of this pass: the strings below */
	char *proxy, *user_agent, *ca_file;
	struct minisign_pubkey pk;
	struct peers ps;
	struct follow_get *gets;
	unsigned pending;		/* gets out */
	uint64_t held;			/* the sequence this mirror serves */
	int purge;			/* [follow] purge of this pass */
	char held_sha256[65];		/* of its catalog.json, "" when unread */
	int64_t held_expires;		/* INT64_MAX when it has none */
};

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
follower_pass_free(struct follower *f)
{
	peers_free(&f->ps);
	free(f->gets);
	f->gets = NULL;
	free(f->proxy);
	free(f->user_agent);
	free(f->ca_file);
	f->proxy = f->user_agent = f->ca_file = NULL;
	memset(&f->opt, 0, sizeof(f->opt));
	f->running = 0;
}

static void
follower_end(struct follower *f)
{
	struct crawl_totals t = f->totals;
	crawl_done_fn done = f->done;
	void *arg = f->done_arg;

	follower_pass_free(f);
	if (done != NULL)
		done(arg, &t);
}

/* ---- the objects, then the catalog ---- */

/* Mark objects the new catalog does not list (false in the set). */
static int
follow_mark_unlisted(const char *hex, void *arg)
{
	json_t *keep = arg;

	if (json_object_get(keep, hex) == NULL)
		json_object_set_new(keep, hex, json_false());
	return 0;
}

/* Every object of the best catalog present? Counts the missing. */
static size_t
follower_missing(struct follower *f)
{
	size_t missing = 0;
	json_t *set = json_object(), *v;
	const char *h;

	if (set == NULL || catalog_objects(f->ps.best->json, set) == -1) {
		json_decref(set);
		return 1;
	}
	json_object_foreach(set, h, v)
		if (!store_has_object(f->st, h))
			missing++;
	json_decref(set);
	return missing;
}

/* Add the objects CAT names (contents, provenance) to SET. */
static void
follower_keep(json_t *set, json_t *cat)
{
	(void)catalog_objects(cat, set);
}

/*
 * Install the publisher's files as they are, then collect: objects that
 * neither the new catalog nor (without [follow] purge) the one it
 * replaces lists. So an item the publisher took out is never served
 * again from the moment the new catalog is in, and its bytes go now with
 * purge, else at the next sync (a publisher's mistaken `rm` undone by
 * then costs no download).
 */
int
follow_install(struct store *st, const struct peer *b, int purge)
{
	char err[ERRLEN], show[URL_SHOW_MAX];
	json_t *set, *v, *held = NULL;
	size_t removed = 0;
	const char *hex;
	void *tmp;

	if (store_lock(st, err, sizeof(err)) == -1) {
		log_error("sync: %s", err);
		return -1;
	}
	if (!purge && catalog_load_current(st, &held, err, sizeof(err)) == -1)
		held = NULL;
	if (b->seq > store_current_seq(st)) {
		if (catalog_install(st, b->seq, b->cat, b->cat_len, b->sig, b->sig_len,
		    err, sizeof(err)) == -1) {
			store_unlock(st);
			log_error("sync: cannot install catalog sequence %llu: %s",
			    (unsigned long long)b->seq, err);
			json_decref(held);
			return -1;
		}
		log_info("sync: installed catalog sequence %llu from %s (%zu items)",
		    (unsigned long long)b->seq, url_show(b->base, show, sizeof(show)),
		    json_array_size(json_object_get(b->json, "items")));
	} else
		log_info("sync: up to date at catalog sequence %llu",
		    (unsigned long long)b->seq);
	if ((set = json_object()) != NULL) {
		follower_keep(set, b->json);
		if (held != NULL)
			follower_keep(set, held);
		if (store_foreach_object(st, follow_mark_unlisted, set, err,
		    sizeof(err)) == 0) {
			json_object_foreach_safe(set, tmp, hex, v) {
				if (json_is_false(v) && store_remove_object(st, hex) == 0)
					removed++;
			}
		}
		json_decref(set);
	}
	store_unlock(st);
	json_decref(held);
	if (removed > 0)
		log_info("sync: removed %zu objects that left the catalog", removed);
	catalog_prune(st, purge ? 1 : 2);
	return 0;
}

static void
follower_install(struct follower *f)
{
	if (follow_install(f->st, f->ps.best, f->purge) == -1)
		f->totals.failed++;
}

static void
follower_synced(void *arg, const struct crawl_totals *t)
{
	struct follower *f = arg;
	size_t missing = follower_missing(f);

	f->totals.fetched += t->fetched;
	f->totals.failed += t->failed;
	if (missing > 0) {
		log_error("sync: catalog sequence %llu not installed: %zu objects missing; "
		    "still serving sequence %llu", (unsigned long long)f->ps.best->seq, missing,
		    (unsigned long long)store_current_seq(f->st));
		if (f->totals.failed == 0)
			f->totals.failed++;
	} else
		follower_install(f);
	follower_end(f);
}

/* The best catalog's objects the store lacks, from the peers in order. */
static void
follower_objects(struct follower *f)
{
	const struct peer *b = f->ps.best;
	json_t *items = json_object_get(b->json, "items"), *seen, *v;
	struct crawl_object *objs = NULL;
	char err[ERRLEN];
	size_t i, n = 0;

	if ((seen = json_object()) == NULL ||
	    (objs = calloc(2 * json_array_size(items) + 1, sizeof(*objs))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	json_array_foreach(items, i, v) {
		const char *h = json_string_value(json_object_get(v, "sha256"));
		/* The same content under two names is fetched once. */
		if (store_has_object(f->st, h) || json_object_get(seen, h) != NULL)
			continue;
		json_object_set_new(seen, h, json_true());
		objs[n].sha256 = h;
		objs[n].name = json_string_value(json_object_get(v, "name"));
		objs[n].type = json_string_value(json_object_get(v, "type"));
		objs[n].size = (uint64_t)json_integer_value(json_object_get(v, "size"));
		n++;
	}
	/* Provenance documents: objects like any other, named by the signed
	 * catalog, so a peer can neither make one up nor alter it. */
	json_array_foreach(items, i, v) {
		const char *h;
		uint64_t size;
		if (catalog_item_provenance(v, &h, &size) == -1 ||
		    store_has_object(f->st, h) || json_object_get(seen, h) != NULL)
			continue;
		json_object_set_new(seen, h, json_true());
		objs[n].sha256 = h;
		objs[n].name = json_string_value(json_object_get(v, "name"));
		objs[n].type = "application/json";
		objs[n].size = size;
		n++;
	}
	if (n == 0) {
		json_decref(seen);
		free(objs);
		follower_install(f);
		follower_end(f);
		return;
	}
	log_info("sync: catalog sequence %llu (this mirror: %llu): %zu objects to fetch",
	    (unsigned long long)b->seq, (unsigned long long)f->held, n);
	crawler_sync_peers(f->cr, &f->ps);
	if (crawler_sync(f->cr, &f->opt, f->ps.order, f->ps.n, objs, n, follower_synced, f,
	    err, sizeof(err)) == -1)
		goto fail;
	json_decref(seen);
	free(objs);
	return;
fail:
	json_decref(seen);
	free(objs);
	log_error("sync: %s", err);
	f->totals.failed++;
	follower_end(f);
}

/*
 * The digest and expiry of the catalog this mirror holds: the chain the
 * peers' catalogs are checked against. Read whole, once a pass (the
 * signature check reads the peers' whole catalogs too).
 */
static void
follower_held(struct follower *f)
{
	char *path, *buf, err[ERRLEN];
	size_t len;
	json_t *cat;

	f->held_sha256[0] = '\0';
	f->held_expires = INT64_MAX;
	if (f->held == 0 || (path = catalog_current_path(f->st, "catalog.json")) == NULL)
		return;
	if (fsutil_read_file(path, CATALOG_MAX_BYTES, &buf, &len) == -1) {
		free(path);
		return;
	}
	free(path);
	catalog_digest(buf, len, f->held_sha256);
	if ((cat = catalog_parse(buf, len, err, sizeof(err))) != NULL &&
	    !catalog_expires(cat, &f->held_expires))
		f->held_expires = INT64_MAX;
	json_decref(cat);
	free(buf);
}

/*
 * What the "previous" chain says of the peers' catalogs against the one
 * held. Every catalog here is validly signed by the publisher's key, so
 * a fork means the key signed two histories (a stolen key, or a store
 * restored from a backup and published from again): worth a warning
 * with the evidence, though the newer one is still installed, as the
 * key's word. One step is checked; past a gap the chain cannot be.
 */
static void
follower_chain(struct follower *f)
{
	const struct peer *b = f->ps.best;
	const char *prev;
	char show[URL_SHOW_MAX], best[URL_SHOW_MAX];
	size_t i;

	url_show(b->base, best, sizeof(best));

	for (i = 0; i < f->ps.n; i++) {
		const struct peer *p = &f->ps.p[i];
		if (p->json == NULL)
			continue;
		url_show(p->base, show, sizeof(show));
		prev = json_string_value(json_object_get(p->json, "previous"));
		if (f->held_sha256[0] != '\0' && p->seq == f->held &&
		    strcmp(p->sha256, f->held_sha256) != 0)
			log_warn("sync: fork: peer %s serves catalog sequence %llu with sha256 "
			    "%s; this mirror holds sequence %llu with sha256 %s",
			    show, (unsigned long long)p->seq, p->sha256,
			    (unsigned long long)f->held, f->held_sha256);
		else if (f->held_sha256[0] != '\0' && p->seq == f->held + 1 &&
		    prev != NULL && strcmp(prev, f->held_sha256) != 0)
			log_warn("sync: fork: peer %s serves catalog sequence %llu (sha256 %s) "
			    "that follows sha256 %s, not this mirror's sequence %llu with "
			    "sha256 %s", show, (unsigned long long)p->seq, p->sha256, prev,
			    (unsigned long long)f->held, f->held_sha256);
		else if (p != b && p->seq == b->seq && strcmp(p->sha256, b->sha256) != 0)
			log_warn("sync: fork: peer %s serves catalog sequence %llu with sha256 "
			    "%s; peer %s serves sequence %llu with sha256 %s", show,
			    (unsigned long long)p->seq, p->sha256, best,
			    (unsigned long long)b->seq, b->sha256);
	}
	if (f->held == 0 || f->held_sha256[0] == '\0' || b->seq <= f->held)
		return;
	if (b->seq > f->held + 1)
		log_info("sync: gap: catalog sequence %llu from %s follows this mirror's "
		    "sequence %llu; the chain between them cannot be checked",
		    (unsigned long long)b->seq, best, (unsigned long long)f->held);
	else if (json_object_get(b->json, "previous") == NULL)
		log_info("sync: catalog sequence %llu from %s has no previous: the chain "
		    "is not checked", (unsigned long long)b->seq, best);
}

/* All catalogs are in: take the newest valid one, then its objects. */
static void
follower_choose(struct follower *f)
{
	char keyid[17], when[32], show[URL_SHOW_MAX];
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc;

	f->held = store_current_seq(f->st);
	follower_held(f);
	minisign_keyid_hex(f->pk.id, keyid);
	rc = peers_choose(&f->ps, &f->pk, f->held, now);
	for (i = 0; i < f->ps.n; i++) {
		const struct peer *p = &f->ps.p[i];
		if (p->json == NULL)
			log_warn("sync: peer %s: %s", url_show(p->base, show, sizeof(show)),
			    p->why);
		else
			log_info("sync: peer %s: catalog sequence %llu, signature verified "
			    "(key %s)", url_show(p->base, show, sizeof(show)),
			    (unsigned long long)p->seq, keyid);
	}
	if (rc == 0)
		follower_chain(f);
	/* Served on, as the last good state, but readers and followers
	 * downstream refuse it: said every pass until a fresh one comes. */
	if (f->held_expires <= now && (rc == -1 || f->ps.best->seq <= f->held)) {
		catalog_time(f->held_expires, when);
		log_warn("sync: this mirror's catalog sequence %llu expired at %s and no peer "
		    "has a newer one: readers and other mirrors refuse it",
		    (unsigned long long)f->held, when);
	}
	if (rc == -1) {
		if (f->ps.stale != NULL) {
			catalog_time(f->ps.stale->expires, when);
			log_error("sync: no peer gave a current catalog: the newest, sequence "
			    "%llu from %s, expired at %s; refusing stale data; still serving "
			    "sequence %llu", (unsigned long long)f->ps.stale->seq,
			    url_show(f->ps.stale->base, show, sizeof(show)), when,
			    (unsigned long long)f->held);
		} else
			log_error("sync: no peer gave a valid catalog; still serving sequence "
			    "%llu", (unsigned long long)f->held);
		f->totals.failed++;
		follower_end(f);
		return;
	}
	follower_objects(f);
}

static void
follower_got(void *arg, const char *body, size_t len, const char *err)
{
	struct follow_get *g = arg;
	struct follower *f = g->f;

	peers_got(&f->ps, g->i, g->doc, body, len, err);
	if (--f->pending == 0)
		follower_choose(f);
}

int
follower_pass(struct follower *f, const struct config *cfg, crawl_done_fn done,
    void *arg, char *err, size_t errlen)
{
	size_t i, n = cfg->n_follow_peers;

	if (f->running || crawler_busy(f->cr)) {
		snprintf(err, errlen, "a sync pass is already running");
		return -1;
	}
	if (cfg->follow_pubkey == NULL || minisign_pubkey_parse(cfg->follow_pubkey,
	    strlen(cfg->follow_pubkey), &f->pk) == -1) {
		snprintf(err, errlen, "%s: [follow] pubkey is malformed", cfg->path);
		return -1;
	}
	memset(&f->totals, 0, sizeof(f->totals));
	f->running = 1;
	f->done = done;
	f->done_arg = arg;
	/* The config may be reloaded while the pass runs. */
	crawl_options_init(&f->opt, cfg);
	f->purge = cfg->follow_purge;
	f->opt.proxy = f->proxy = xstrdup(cfg->crawl_proxy);
	f->opt.user_agent = f->user_agent = xstrdup(cfg->crawl_user_agent);
	f->opt.ca_file = f->ca_file = xstrdup(cfg->crawl_ca_file);
	f->gets = calloc(2 * n + 1, sizeof(*f->gets));
	if (f->gets == NULL || peers_init(&f->ps, cfg->follow_peers, n) == -1 ||
	    (cfg->crawl_user_agent != NULL && f->user_agent == NULL) ||
	    (cfg->crawl_proxy != NULL && f->proxy == NULL) ||
	    (cfg->crawl_ca_file != NULL && f->ca_file == NULL))
		goto oom;
	log_info("sync: asking %zu peer%s for the catalog", n, n == 1 ? "" : "s");
	for (i = 0; i < 2 * n; i++) {
		struct follow_get *g = &f->gets[i];
		char *url;
		g->f = f;
		g->i = i / 2;
		g->doc = i % 2 ? PEERS_SIGNATURE : PEERS_CATALOG;
		if (asprintf(&url, "%s%s", f->ps.p[g->i].base, peers_doc_name(g->doc)) == -1)
			goto oom_sent;
		if (crawler_get(f->cr, &f->opt, url, peers_doc_max(g->doc), follower_got,
		    &f->gets[i]) == -1) {
			free(url);
			goto oom_sent;
		}
		free(url);
		f->pending++;
	}
	return 0;
oom_sent:
	/* Some gets are out: they end the pass when they come back. */
	for (; i < 2 * n; i++)
		snprintf(f->ps.p[i / 2].why, sizeof(f->ps.p[i / 2].why), "out of memory");
	if (f->pending == 0)
		follower_choose(f);
	return 0;
oom:
	follower_pass_free(f);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
follower_busy(const struct follower *f)
{
	return f->running;
}

struct follower *
follower_new(struct event_base *base, struct store *st, struct crawler *cr)
{
	struct follower *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base = base;
	f->st = st;
	f->cr = cr;
	return f;
}

void
follower_free(struct follower *f)
{
	if (f == NULL)
		return;
	f->done = NULL;
	if (f->running)
		follower_pass_free(f);
	free(f);
}
