/*
 * The peers of one sync or fetch (peers.h): their catalogs as fetched,
 * which of them verify and are fresh, the newest, and the order and
 * rotation in which the peers are asked for objects.
 */
#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int
peers_init(struct peers *ps, char *const *urls, size_t n)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->p = calloc(n > 0 ? n : 1, sizeof(*ps->p));
	ps->order = calloc(n > 0 ? n : 1, sizeof(*ps->order));
	ps->dead = calloc(n > 0 ? n : 1, 1);
	if (ps->p == NULL || ps->order == NULL || ps->dead == NULL)
		goto oom;
	ps->n = n;
	for (i = 0; i < n; i++) {
		size_t len = strlen(urls[i]);
		if (asprintf(&ps->p[i].base, "%s%s", urls[i],
		    len > 0 && urls[i][len - 1] == '/' ? "" : "/") == -1) {
			ps->p[i].base = NULL;
			goto oom;
		}
	}
	return 0;
oom:
	peers_free(ps);
	return -1;
}

void
peers_free(struct peers *ps)
{
	size_t i;

	for (i = 0; ps->p != NULL && i < ps->n; i++) {
		free(ps->p[i].base);
		free(ps->p[i].cat);
		free(ps->p[i].sig);
		json_decref(ps->p[i].json);
	}
	free(ps->p);
	free(ps->order);
	free(ps->dead);
	memset(ps, 0, sizeof(*ps));
}

const char *
peers_doc_name(enum peers_doc doc)
{
	return doc == PEERS_SIGNATURE ? "catalog.json.minisig" : "catalog.json";
}

size_t
peers_doc_max(enum peers_doc doc)
{
	return doc == PEERS_SIGNATURE ? PEERS_SIG_MAX : CATALOG_MAX_BYTES;
}

int
peers_got(struct peers *ps, size_t i, enum peers_doc doc, const char *body,
    size_t len, const char *err)
{
	struct peer *p = &ps->p[i];
	char **dst = doc == PEERS_SIGNATURE ? &p->sig : &p->cat;
	size_t *dlen = doc == PEERS_SIGNATURE ? &p->sig_len : &p->cat_len;

	if (err != NULL) {
		if (p->why[0] == '\0')
			snprintf(p->why, sizeof(p->why), "%s: %s", peers_doc_name(doc), err);
		return 0;
	}
	if (body == NULL)
		return 0;
	free(*dst);
	if ((*dst = malloc(len + 1)) == NULL) {
		snprintf(p->why, sizeof(p->why), "out of memory");
		return -1;
	}
	memcpy(*dst, body, len);
	(*dst)[len] = '\0';
	*dlen = len;
	return 0;
}

json_t *
peers_check_catalog(const struct minisign_pubkey *pk, const char *cat, size_t catlen,
    const char *sig, size_t siglen, uint64_t *seq, char *err, size_t errlen)
{
	char trusted[MINISIGN_TRUSTED_MAX], why[PEERS_ERRLEN];
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

/* Newest catalog first, failed peers last; ties keep the given order. */
static int
peers_before(const struct peer *a, const struct peer *b)
{
	if (a->json == NULL)
		return 0;
	return b->json == NULL || a->seq > b->seq;
}

static void
peers_order(struct peers *ps)
{
	size_t i, k;

	/* Selection, the first of equals first: stable, and there are a
	 * handful of peers. dead marks the placed ones meanwhile. */
	memset(ps->dead, 0, ps->n);
	for (k = 0; k < ps->n; k++) {
		struct peer *pick = NULL;
		size_t at = 0;
		for (i = 0; i < ps->n; i++) {
			if (!ps->dead[i] && (pick == NULL || peers_before(&ps->p[i], pick))) {
				pick = &ps->p[i];
				at = i;
			}
		}
		ps->dead[at] = 1;
		ps->order[k] = pick->base;
	}
	memset(ps->dead, 0, ps->n);
	ps->turn = 0;
}

/* P's verified catalog refused when it is older than HELD (a rollback)
 * or expired at NOW: a frozen mirror's catalog, validly signed, stale. */
static void
peers_judge(struct peers *ps, struct peer *p, uint64_t held, int64_t now)
{
	char when[32];

	if (p->seq < held) {
		snprintf(p->why, sizeof(p->why), "rolled back: catalog sequence %llu is "
		    "older than the one this mirror holds (%llu); refused",
		    (unsigned long long)p->seq, (unsigned long long)held);
	} else if (p->expires <= now) {
		catalog_time(p->expires, when);
		snprintf(p->why, sizeof(p->why), "expired: catalog sequence %llu expired at "
		    "%s; refused (a frozen mirror's catalog is stale)",
		    (unsigned long long)p->seq, when);
		p->expired = 1;
		if (ps->stale == NULL || p->seq > ps->stale->seq)
			ps->stale = p;
	} else
		return;
	json_decref(p->json);
	p->json = NULL;
}

int
peers_choose(struct peers *ps, const struct minisign_pubkey *pk, uint64_t held,
    int64_t now)
{
	size_t i;

	ps->best = ps->stale = NULL;
	for (i = 0; i < ps->n; i++) {
		struct peer *p = &ps->p[i];
		if (p->json != NULL || p->why[0] != '\0')
			;	/* already judged */
		else if (p->cat == NULL || p->sig == NULL)
			snprintf(p->why, sizeof(p->why), "empty catalog or signature");
		else if ((p->json = peers_check_catalog(pk, p->cat, p->cat_len, p->sig,
		    p->sig_len, &p->seq, p->why, sizeof(p->why))) != NULL) {
			/* Signed: its fields may be looked at now. */
			catalog_digest(p->cat, p->cat_len, p->sha256);
			if (!catalog_expires(p->json, &p->expires))
				p->expires = INT64_MAX;	/* older versions: never */
		}
		if (p->json != NULL)
			peers_judge(ps, p, held, now);
		if (p->json != NULL && (ps->best == NULL || p->seq > ps->best->seq))
			ps->best = p;
	}
	peers_order(ps);
	return ps->best != NULL ? 0 : -1;
}

int
peers_next(struct peers *ps, unsigned rounds, size_t *at)
{
	while (ps->turn < (size_t)rounds * ps->n) {
		size_t k = ps->turn++ % ps->n;
		if (!ps->dead[k]) {
			*at = k;
			return 0;
		}
	}
	return -1;
}

void
peers_dead(struct peers *ps, size_t at)
{
	if (at < ps->n)
		ps->dead[at] = 1;
}

enum peers_step
peers_turn_next(struct peers_turn *t, int retry, unsigned attempts)
{
	size_t k, u = t->at;

	if (!retry && t->at < 64)
		t->dead |= (uint64_t)1 << t->at;
	t->tries++;
	if (t->n == 0 || t->tries >= attempts * t->n)
		return PEERS_NONE;
	for (k = 1; k <= t->n; k++) {
		u = (t->at + k) % t->n;
		if (u >= 64 || !(t->dead & ((uint64_t)1 << u)))
			break;
	}
	if (k > t->n)
		return PEERS_NONE;
	k = t->at;
	t->at = u;
	return u > k ? PEERS_NEXT : PEERS_ROUND;
}
