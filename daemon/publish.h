/*
 * The catalog transaction: every path that changes what a publisher
 * signs (add, a crawl pass, the renewal before expiry, and later rm and
 * publish) goes through publish_apply, so a changed [mirror] name or
 * mirror list is published the same way whichever path comes next, and
 * any of them renews a catalog whose expiry is near.
 */
#ifndef EMBERD_PUBLISH_H
#define EMBERD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "ingest.h"
#include "store.h"

/*
 * What the catalog says of this mirror, copied from the config (a crawl
 * keeps its copy while `run` reloads the config).
 */
struct publish_settings {
	char *key_path;		/* [mirror] key: the secret key that signs */
	char *name;		/* [mirror] name */
	char *description;	/* [mirror] description, or NULL */
	char *self_url;		/* [mirror] url, or NULL */
	char **mirrors;		/* [mirror] mirror */
	size_t n_mirrors;
	uint64_t expires;	/* [mirror] expires: seconds a catalog is valid */
	enum source_urls source_urls;	/* [mirror] source_urls: applied to every item */
};

/*
 * Whether a catalog that expires at EXPIRES (0: it has no expiry) is due
 * to be re-signed at NOW with VALIDITY the setting: when less than a
 * third of the validity is left (or none, or it has no expiry). A third
 * leaves followers that sync daily time to take the renewal before the
 * old one expires even with the default of 30 days, and re-signs at most
 * every two thirds of the validity. A changed setting alone is no
 * reason: the next renewal happens by the new one.
 */
int publish_due(int64_t expires, uint64_t validity, int64_t now);

/* When a catalog that expires at EXPIRES becomes due (publish_due). */
int64_t publish_due_at(int64_t expires, uint64_t validity);

int publish_settings_init(struct publish_settings *s, const struct config *cfg);
void publish_settings_free(struct publish_settings *s);

/* An item to put in the catalog (replacing one of the same name). */
struct publish_item {
	const char *name, *type, *source;
	const char *sha256;
	uint64_t size;
	/* Optional (catalog_put): NULL keeps what the same content had. */
	const char *title, *description, *lang, *page, *derived_from, *published;
	json_t *provenance;	/* catalog_item's */
	int changed;		/* out: the catalog item is new or different */
};

struct publish_result {
	int changed;		/* a new catalog was signed */
	int renewed;		/* ... only because its expiry came near */
	long long sequence;	/* of the current catalog */
	long long replaced;	/* the sequence signed over (0: none) */
	int64_t expires;	/* of the current catalog, 0 when none (an
				 * expiry at 0 is due at once all the same) */
	int64_t was_expires;	/* of the catalog signed over, 0 when none */
	size_t items;		/* in the current catalog */
	int refused;		/* -1 because the request was wrong (exit 2), not the store */
	json_t *purged;		/* publish_edit with purge: the object ids deleted */
	uint64_t purged_bytes;
};

/* What `rm` and `publish` ask of the catalog besides new items. */
struct publish_edit {
	char *const *remove;	/* item names to take out; each must be there */
	size_t n_remove;
	int purge;		/* and delete their objects, unless another item
				 * still names the same content, and every older
				 * catalog that lists them */
	int force;		/* sign even when nothing differs (`publish`) */
};

/*
 * One transaction: load the key, take the store lock, commit the objects
 * INS (n_ins may be 0; they become durable and visible before the catalog
 * names them), load the current catalog (or start one), apply the
 * settings and the N items, and when anything differs or its expiry is
 * near (publish_due) sign it, swap
 * current and prune all but the last two catalogs. Nothing is signed when
 * nothing changed. Costs a key load, a catalog parse and, on a change, a
 * signature and two fsyncs: run it off the event loop.
 * 0 with RES filled, or -1 with ERR.
 */
int publish_apply(struct store *st, const struct publish_settings *s,
    struct ingest **ins, size_t n_ins, struct publish_item *items, size_t n,
    struct publish_result *res, char *err, size_t errlen);

/*
 * The same transaction for E: removals are checked against the catalog
 * under the lock, and a name it lacks, or taking out its last item,
 * refuses the whole edit (res->refused, nothing changed). 0 or -1.
 */
int publish_edit_apply(struct store *st, const struct publish_settings *s,
    const struct publish_edit *e, struct publish_result *res, char *err, size_t errlen);

void publish_result_free(struct publish_result *res);

#endif
