#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "log.h"
#include "minisign.h"
#include "names.h"

/* A signature file is a few hundred bytes; anything much larger is not
 * one. A catalog is capped as catalog_parse caps it. */
#define SIG_MAX		4096
#define ERRLEN		512

struct follow_peer {
	struct follower *f;
	char *base;			/* ends in '/' */
	char *cat, *sig;
	size_t cat_len, sig_len;
	char why[ERRLEN];		/* why this peer's catalog is no good */
	uint64_t seq;
	json_t *json;			/* verified and parsed */
};

struct follow_get {
	struct follow_peer *p;
	int is_sig;
};

struct follower {
	struct event_base *base;
	struct store *st;
	struct crawler *cr;
	int running;
	crawl_done_fn done;
	void *done_arg;
	struct crawl_totals totals;
	struct config cfg;		/* the parts a pass needs, copied */
	struct minisign_pubkey pk;
	struct follow_peer *peers;
	struct follow_get *gets;
	size_t n_peers;
	unsigned pending;		/* gets out */
	struct follow_peer *best;
	char **order;			/* peer bases for the objects, best first */
	uint64_t held;			/* the sequence this mirror serves */
};

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
follower_pass_free(struct follower *f)
{
	size_t i;

	for (i = 0; i < f->n_peers; i++) {
		free(f->peers[i].base);
		free(f->peers[i].cat);
		free(f->peers[i].sig);
		json_decref(f->peers[i].json);
	}
	free(f->peers);
	free(f->gets);
	free(f->order);
	f->peers = NULL;
	f->gets = NULL;
	f->order = NULL;
	f->n_peers = 0;
	f->best = NULL;
	free(f->cfg.crawl_proxy);
	free(f->cfg.crawl_user_agent);
	memset(&f->cfg, 0, sizeof(f->cfg));
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

json_t *
follow_check_catalog(const struct minisign_pubkey *pk, const char *cat, size_t catlen,
    const char *sig, size_t siglen, uint64_t *seq, char *err, size_t errlen)
{
	char trusted[MINISIGN_TRUSTED_MAX], why[ERRLEN];
	const char *p;
	json_t *j;
	json_int_t jseq;

	/* Nothing of the catalog is parsed before its signature holds. */
	if (minisign_verify(pk, cat, catlen, sig, siglen, trusted, sizeof(trusted),
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "bad signature: %s", why);
		return NULL;
	}
	if ((j = catalog_parse(cat, catlen, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "signed, but not a valid catalog: %s", why);
		return NULL;
	}
	jseq = json_integer_value(json_object_get(j, "sequence"));
	/* The trusted comment is signed too: its sequence must be the
	 * catalog's, so neither can be swapped alone. */
	if ((p = strstr(trusted, "sequence:")) != NULL &&
	    strtoull(p + 9, NULL, 10) != (unsigned long long)jseq) {
		snprintf(err, errlen, "the catalog's sequence %lld is not the signed one (%s)",
		    (long long)jseq, trusted);
		json_decref(j);
		return NULL;
	}
	*seq = (uint64_t)jseq;
	return j;
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
	size_t i, missing = 0;
	json_t *v;

	json_array_foreach(json_object_get(f->best->json, "items"), i, v) {
		const char *h = json_string_value(json_object_get(v, "sha256"));
		if (h == NULL || !store_has_object(f->st, h))
			missing++;
	}
	return missing;
}

/* Install the publisher's files as they are, then drop what left. */
static void
follower_install(struct follower *f)
{
	struct follow_peer *b = f->best;
	char err[ERRLEN];
	json_t *set, *v;
	size_t i, removed = 0;
	const char *hex;
	void *tmp;

	if (store_lock(f->st, err, sizeof(err)) == -1) {
		log_error("sync: %s", err);
		f->totals.failed++;
		return;
	}
	if (b->seq > store_current_seq(f->st)) {
		if (catalog_install(f->st, b->seq, b->cat, b->cat_len, b->sig, b->sig_len,
		    err, sizeof(err)) == -1) {
			store_unlock(f->st);
			log_error("sync: cannot install catalog sequence %llu: %s",
			    (unsigned long long)b->seq, err);
			f->totals.failed++;
			return;
		}
		log_info("sync: installed catalog sequence %llu from %s (%zu items)",
		    (unsigned long long)b->seq, b->base,
		    json_array_size(json_object_get(b->json, "items")));
	} else
		log_info("sync: up to date at catalog sequence %llu",
		    (unsigned long long)b->seq);
	/* Objects no longer listed: what `emberd gc` would remove. */
	if ((set = json_object()) != NULL) {
		json_array_foreach(json_object_get(b->json, "items"), i, v) {
			const char *h = json_string_value(json_object_get(v, "sha256"));
			if (h != NULL)
				json_object_set_new(set, h, json_true());
		}
		if (store_foreach_object(f->st, follow_mark_unlisted, set, err,
		    sizeof(err)) == 0) {
			json_object_foreach_safe(set, tmp, hex, v) {
				if (json_is_false(v) && store_remove_object(f->st, hex) == 0)
					removed++;
			}
		}
		json_decref(set);
	}
	store_unlock(f->st);
	if (removed > 0)
		log_info("sync: removed %zu objects that left the catalog", removed);
	catalog_prune(f->st, 2);
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
		    "still serving sequence %llu", (unsigned long long)f->best->seq, missing,
		    (unsigned long long)store_current_seq(f->st));
		if (f->totals.failed == 0)
			f->totals.failed++;
	} else
		follower_install(f);
	follower_end(f);
}

/* All catalogs are in: take the newest valid one, then its objects. */
static void
follower_choose(struct follower *f)
{
	char err[ERRLEN], keyid[17];
	struct crawl_object *objs = NULL;
	json_t *seen = NULL, *v;
	size_t i, n = 0, k = 0;

	f->held = store_current_seq(f->st);
	minisign_keyid_hex(f->pk.id, keyid);
	for (i = 0; i < f->n_peers; i++) {
		struct follow_peer *p = &f->peers[i];
		if (p->why[0] == '\0') {
			p->json = follow_check_catalog(&f->pk, p->cat, p->cat_len, p->sig,
			    p->sig_len, &p->seq, p->why, sizeof(p->why));
		}
		if (p->json != NULL && p->seq < f->held) {
			snprintf(p->why, sizeof(p->why), "rolled back: catalog sequence %llu is older "
			    "than the one this mirror holds (%llu); refused",
			    (unsigned long long)p->seq, (unsigned long long)f->held);
			json_decref(p->json);
			p->json = NULL;
		}
		if (p->json == NULL) {
			log_warn("sync: peer %s: %s", p->base, p->why);
			continue;
		}
		log_info("sync: peer %s: catalog sequence %llu, signature verified (key %s)",
		    p->base, (unsigned long long)p->seq, keyid);
		if (f->best == NULL || p->seq > f->best->seq)
			f->best = p;
	}
	if (f->best == NULL) {
		log_error("sync: no peer gave a valid catalog; still serving sequence %llu",
		    (unsigned long long)f->held);
		f->totals.failed++;
		follower_end(f);
		return;
	}
	/* Peers with the newest catalog first (they have its objects), the
	 * others after (they may have some). */
	for (i = 0; i < f->n_peers; i++)
		if (f->peers[i].json != NULL && f->peers[i].seq == f->best->seq)
			f->order[k++] = f->peers[i].base;
	for (i = 0; i < f->n_peers; i++)
		if (f->peers[i].json == NULL || f->peers[i].seq != f->best->seq)
			f->order[k++] = f->peers[i].base;

	json_t *items = json_object_get(f->best->json, "items");
	if ((seen = json_object()) == NULL ||
	    (objs = calloc(json_array_size(items) + 1, sizeof(*objs))) == NULL)
		goto oom;
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
	if (n == 0) {
		json_decref(seen);
		free(objs);
		follower_install(f);
		follower_end(f);
		return;
	}
	log_info("sync: catalog sequence %llu (this mirror: %llu): %zu objects to fetch",
	    (unsigned long long)f->best->seq, (unsigned long long)f->held, n);
	if (crawler_sync(f->cr, &f->cfg, f->order, f->n_peers, objs, n, follower_synced, f,
	    err, sizeof(err)) == -1) {
		log_error("sync: %s", err);
		f->totals.failed++;
		json_decref(seen);
		free(objs);
		follower_end(f);
		return;
	}
	json_decref(seen);
	free(objs);
	return;
oom:
	json_decref(seen);
	free(objs);
	log_error("sync: out of memory");
	f->totals.failed++;
	follower_end(f);
}

static void
follower_got(void *arg, const char *body, size_t len, const char *err)
{
	struct follow_get *g = arg;
	struct follow_peer *p = g->p;
	struct follower *f = p->f;

	if (err != NULL) {
		if (p->why[0] == '\0')
			snprintf(p->why, sizeof(p->why), "%s: %s", g->is_sig ?
			    "catalog.json.minisig" : "catalog.json", err);
	} else {
		char **dst = g->is_sig ? &p->sig : &p->cat;
		size_t *dlen = g->is_sig ? &p->sig_len : &p->cat_len;
		if ((*dst = malloc(len + 1)) == NULL) {
			snprintf(p->why, sizeof(p->why), "out of memory");
		} else {
			memcpy(*dst, body, len);
			(*dst)[len] = '\0';
			*dlen = len;
		}
	}
	if (--f->pending == 0)
		follower_choose(f);
}

int
follower_pass(struct follower *f, const struct config *cfg, crawl_done_fn done,
    void *arg, char *err, size_t errlen)
{
	size_t i, n = cfg->n_follow_peers;
	const char *what[2] = { "catalog.json", "catalog.json.minisig" };

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
	f->best = NULL;
	f->cfg.crawl_concurrency = cfg->crawl_concurrency;
	f->cfg.crawl_per_host = cfg->crawl_per_host;
	f->cfg.crawl_max_size = cfg->crawl_max_size;
	f->cfg.crawl_timeout = cfg->crawl_timeout;
	f->cfg.follow_tls_verify = cfg->follow_tls_verify;
	f->cfg.crawl_proxy = xstrdup(cfg->crawl_proxy);
	f->cfg.crawl_user_agent = xstrdup(cfg->crawl_user_agent);
	f->peers = calloc(n, sizeof(*f->peers));
	f->gets = calloc(2 * n, sizeof(*f->gets));
	f->order = calloc(n, sizeof(*f->order));
	if (f->peers == NULL || f->gets == NULL || f->order == NULL ||
	    (cfg->crawl_user_agent != NULL && f->cfg.crawl_user_agent == NULL))
		goto oom;
	f->n_peers = n;
	for (i = 0; i < n; i++) {
		const char *u = cfg->follow_peers[i];
		size_t len = strlen(u);
		f->peers[i].f = f;
		if (asprintf(&f->peers[i].base, "%s%s", u,
		    len > 0 && u[len - 1] == '/' ? "" : "/") == -1) {
			f->peers[i].base = NULL;
			goto oom;
		}
	}
	log_info("sync: asking %zu peer%s for the catalog", n, n == 1 ? "" : "s");
	for (i = 0; i < 2 * n; i++) {
		struct follow_peer *p = &f->peers[i / 2];
		char *url;
		f->gets[i].p = p;
		f->gets[i].is_sig = (int)(i % 2);
		if (asprintf(&url, "%s%s", p->base, what[i % 2]) == -1)
			goto oom_sent;
		if (crawler_get(f->cr, &f->cfg, url, i % 2 ? SIG_MAX : CATALOG_MAX_BYTES,
		    f->cfg.follow_tls_verify, follower_got, &f->gets[i]) == -1) {
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
		snprintf(f->peers[i / 2].why, sizeof(f->peers[i / 2].why), "out of memory");
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
