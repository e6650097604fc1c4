/*
 * The signed catalog (docs/protocol.md, "Catalog"), held as a jansson object.
 * It is O(items) in memory: it is the one thing emberd keeps whole, and
 * it is small next to the objects it names (~200 bytes an item).
 *
 * Each published catalog lives in STORE/catalogs/SEQ/ beside its
 * signature; STORE/current is a symlink swapped atomically to the newest,
 * so a reader opening current/ always gets a catalog and the signature
 * made for it.
 */

#ifndef EMBERD_CATALOG_H
#define EMBERD_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "minisign.h"
#include "store.h"
#include "urls.h"

#define CATALOG_MAX_BYTES (64u << 20)

/* A new empty catalog. */
json_t *catalog_new(const char *name, const char *publisher);

/* Strictly parse and validate catalog bytes (untrusted: peers send them).
 * The optional "expires" must be a time as catalog_time writes it and
 * "previous" 64 lowercase hex digits. NULL with err set when malformed. */
json_t *catalog_parse(const char *buf, size_t len, char *err, size_t errlen);

/* The current catalog of the store: 0 and *out NULL when none yet. */
int catalog_load_current(const struct store *st, json_t **out, char *err, size_t errlen);

/* Path of FILE ("catalog.json" or "catalog.json.minisig") under current/. */
char *catalog_current_path(const struct store *st, const char *file);

/* Set the catalog's "mirrors": SELF ([mirror] url, may be NULL) first,
 * then OTHERS ([mirror] mirror), without repeats. 1 changed, 0 same, -1
 * out of memory. */
int catalog_set_mirrors(json_t *cat, const char *self, char *const *others, size_t n);

/* Items by name; catalog_put_item replaces an item of the same name and
 * returns 1 if anything changed, 0 if the same item was already there. */
json_t *catalog_find_item(json_t *cat, const char *name);
int catalog_put_item(json_t *cat, const char *name, const char *sha256,
    uint64_t size, const char *type, const char *source, const char *fetched);

/*
 * An item with the optional fields of the catalog format: what a page,
 * a feed or a resolver said of it, the page it was found on, the object
 * it was derived from. A NULL optional field keeps the value the item
 * of the same name and content has (a page's title comes after the page
 * itself is stored); "" removes it. So do a NULL type and source, and a
 * size of 0 (then "fetched" stays too): a change of fields only.
 */
struct catalog_item {
	const char *name, *sha256, *type, *source, *fetched;
	uint64_t size;
	const char *title, *description, *lang, *page, *derived_from, *published;
	json_t *provenance;	/* {"sha256","size",summary...} (provenance.h); NULL
				 * keeps what the same content had */
};

#define CATALOG_TITLE_MAX	512
#define CATALOG_TEXT_MAX	4096

/*
 * Every object CAT names, as keys of SET (values true): each item's
 * content and its provenance document. What a follower fetches and
 * keeps, what gc keeps and verify and scrub expect. -1 out of memory.
 */
int catalog_objects(json_t *cat, json_t *set);

/* The provenance object of ITEM: its id and size, or -1 when it has none. */
int catalog_item_provenance(json_t *item, const char **sha256, uint64_t *size);

/* catalog_put_item with the optional fields. 1 changed, 0 same, -1. */
int catalog_put(json_t *cat, const struct catalog_item *it);

/*
 * Make every item's "source" what MODE publishes (urls.h): userinfo,
 * fragment and (but with SOURCE_URLS_FULL) the query removed, or with
 * SOURCE_URLS_NONE the key itself; an item's "provenance" goes when it
 * was made under a mode that publishes more. Every item, not only those a publish
 * touches, so that a catalog made under another mode is cleaned by the
 * next one. 1 changed, 0 same, -1 out of memory. O(items) URL parses.
 */
int catalog_redact_sources(json_t *cat, enum source_urls mode);

/*
 * Publish CAT: sequence + 1, generated = now, expires = now + VALIDITY
 * seconds, previous = the SHA-256 of the catalog.json current/ holds (no
 * "previous" when there is none), publisher = KEY's id; write
 * catalog.json and its signature to catalogs/SEQ/, fsync, swap current.
 * Costs one more read of the current catalog's bytes for the digest.
 * The caller holds store_lock().
 */
int catalog_publish(struct store *st, json_t *cat, const struct minisign_key *key,
    uint64_t validity, char *err, size_t errlen);

/*
 * Make JSON and SIG (a catalog and its signature, exactly these bytes) the
 * catalog of sequence SEQ: written to catalogs/SEQ/, fsynced, then
 * current swapped to it. A follower installs the publisher's files this
 * way, byte for byte. The caller holds store_lock().
 */
int catalog_install(struct store *st, uint64_t seq, const char *json, size_t jlen,
    const char *sig, size_t siglen, char *err, size_t errlen);

/* Days from 1970-01-01 to Y-M-D, proleptic Gregorian (no time zone). */
int64_t catalog_days(int64_t y, unsigned m, unsigned d);

/* "2026-11-28T12:00:00Z" for T. */
void catalog_time(int64_t t, char out[32]);

/* The inverse of catalog_time, strictly: exactly YYYY-MM-DDTHH:MM:SSZ,
 * UTC, year 1970 to 9999, a real date, seconds 00 to 59. 0 with *T, or
 * -1. No I/O, no locale, no time zone. */
int catalog_time_parse(const char *s, int64_t *t);

/* CAT's "expires" in Unix seconds in *T: 1, or 0 when it has none
 * (catalogs of earlier versions; a parsed catalog's value was checked). */
int catalog_expires(const json_t *cat, int64_t *t);

/* Lowercase hex SHA-256 of LEN bytes at BUF: what "previous" holds. */
void catalog_digest(const char *buf, size_t len, char out[65]);

/* Remove published catalogs older than the current one, keeping KEEP. */
void catalog_prune(struct store *st, unsigned keep);

#endif
