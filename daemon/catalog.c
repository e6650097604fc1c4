/*
 * The catalog's life: build and edit it (items, mirrors), parse and
 * validate untrusted catalog bytes (its times and digests included),
 * load the one STORE/current names, publish a signed new one, chained to
 * the one it replaces and valid until its expiry, with an atomic swap of
 * `current`, and prune old ones. The format and the on-disk layout are
 * described in catalog.h.
 */

#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "hexutil.h"
#include "names.h"
#include "provenance.h"

void
catalog_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 to Y-M-D of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): no timegm, so no time zone matters. */
int64_t
catalog_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* N digits at S as a number, or -1 when one is not a digit. */
static int
catalog_digits(const char *s, unsigned n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

int
catalog_time_parse(const char *s, int64_t *t)
{
	static const unsigned char mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, mo, d, h, mi, se;

	/* The one form catalog_time writes: anything else (offsets,
	 * fractions, lowercase, a missing Z) is not ours. */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	y = catalog_digits(s, 4);
	mo = catalog_digits(s + 5, 2);
	d = catalog_digits(s + 8, 2);
	h = catalog_digits(s + 11, 2);
	mi = catalog_digits(s + 14, 2);
	se = catalog_digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*t = catalog_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

int
catalog_expires(const json_t *cat, int64_t *t)
{
	const char *s = json_string_value(json_object_get(cat, "expires"));

	return s != NULL && catalog_time_parse(s, t) == 0;
}

void
catalog_digest(const char *buf, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* SHA-256 over a buffer fails only without memory; an empty digest
	 * then matches nothing. */
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

json_t *
catalog_new(const char *name, const char *publisher)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:[], s:[]}",
	    "version", 1,
	    "publisher", publisher,
	    "name", name,
	    "generated", "1970-01-01T00:00:00Z",
	    "sequence", (json_int_t)0,
	    "mirrors",
	    "items");
}

int
catalog_set_mirrors(json_t *cat, const char *self, char *const *others, size_t n)
{
	json_t *want = json_array(), *have = json_object_get(cat, "mirrors");
	size_t i, k;

	if (want == NULL)
		return -1;
	for (i = 0; i <= n; i++) {
		const char *u = i == 0 ? self : others[i - 1];
		int dup = 0;
		if (u == NULL)
			continue;
		for (k = 0; k < json_array_size(want); k++)
			dup |= strcmp(json_string_value(json_array_get(want, k)), u) == 0;
		if (!dup && json_array_append_new(want, json_string(u)) == -1) {
			json_decref(want);
			return -1;
		}
	}
	if (json_equal(want, have)) {
		json_decref(want);
		return 0;
	}
	json_object_set_new(cat, "mirrors", want);
	return 1;
}

static int
catalog_is_keyid(const char *s)
{
	size_t i;

	if (strlen(s) != 16)
		return 0;
	for (i = 0; i < 16; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
		    (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static int
catalog_is_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* The optional "expires" and "previous": absent, or well-formed. A
 * reader decides freshness on the first, so it must mean one instant. */
static int
catalog_check_chain(json_t *cat, char *err, size_t errlen)
{
	json_t *v;
	const char *s;
	int64_t t;

	if ((v = json_object_get(cat, "expires")) != NULL &&
	    ((s = json_string_value(v)) == NULL || catalog_time_parse(s, &t) == -1)) {
		snprintf(err, errlen, "catalog: expires is not a time like "
		    "2026-11-28T12:00:00Z");
		return -1;
	}
	if ((v = json_object_get(cat, "previous")) != NULL &&
	    ((s = json_string_value(v)) == NULL || !name_is_sha256_hex(s, strlen(s)))) {
		snprintf(err, errlen, "catalog: previous is not 64 lowercase hex digits");
		return -1;
	}
	return 0;
}

/*
 * An item's "provenance": the document's object (sha256, size within the
 * reader's cap) and the summary the index shows, short UTF-8 strings
 * and a hex digest. Unknown keys are left to newer readers.
 */
static const char *
catalog_check_provenance(json_t *p)
{
	static const char *const text[] = { "host", "date", "ip", "tls", "source_urls" };
	const char *s;
	json_t *v;
	size_t k;

	if (!json_is_object(p))
		return "provenance is not an object";
	s = json_string_value(json_object_get(p, "sha256"));
	v = json_object_get(p, "size");
	if (s == NULL || !name_is_sha256_hex(s, strlen(s)) || !json_is_integer(v) ||
	    json_integer_value(v) <= 0 || json_integer_value(v) > PROV_DOC_MAX)
		return "bad provenance sha256 or size";
	if ((v = json_object_get(p, "cert_sha256")) != NULL && ((s = json_string_value(v)) ==
	    NULL || !name_is_sha256_hex(s, strlen(s))))
		return "bad provenance cert_sha256";
	for (k = 0; k < sizeof(text) / sizeof(text[0]); k++) {
		if ((v = json_object_get(p, text[k])) == NULL)
			continue;
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 255 ||
		    memchr(json_string_value(v), '\0', json_string_length(v)) != NULL ||
		    !name_utf8_valid(json_string_value(v), json_string_length(v)))
			return "a provenance field is empty, too long or not UTF-8";
	}
	return NULL;
}

int
catalog_item_provenance(json_t *item, const char **sha256, uint64_t *size)
{
	json_t *p = json_object_get(item, "provenance");
	const char *s = json_string_value(json_object_get(p, "sha256"));

	if (s == NULL)
		return -1;
	*sha256 = s;
	*size = (uint64_t)json_integer_value(json_object_get(p, "size"));
	return 0;
}

int
catalog_objects(json_t *cat, json_t *set)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(cat, "items"), i, v) {
		const char *h = json_string_value(json_object_get(v, "sha256")), *p;
		uint64_t psize;
		if (h != NULL && json_object_set_new(set, h, json_true()) == -1)
			return -1;
		if (catalog_item_provenance(v, &p, &psize) == 0 &&
		    json_object_set_new(set, p, json_true()) == -1)
			return -1;
	}
	return 0;
}

/*
 * The optional item fields, when present: strings of bounded length and
 * valid UTF-8 (the index page shows them), "page" an item name,
 * "derived_from" a SHA-256, "published" a time. NULL when good.
 */
static const char *
catalog_check_optional(json_t *item)
{
	static const struct { const char *key; size_t max; } text[] = {
		{ "title", CATALOG_TITLE_MAX }, { "description", CATALOG_TEXT_MAX },
		{ "lang", 35 }, { "page", 255 }, { "derived_from", 64 }, { "published", 20 },
	};
	const char *s;
	json_t *v;
	int64_t t;
	size_t k, len;

	for (k = 0; k < sizeof(text) / sizeof(text[0]); k++) {
		if ((v = json_object_get(item, text[k].key)) == NULL)
			continue;
		if (!json_is_string(v))
			return "an optional field is not a string";
		s = json_string_value(v);
		len = json_string_length(v);
		if (len == 0 || len > text[k].max || memchr(s, '\0', len) != NULL ||
		    !name_utf8_valid(s, len))
			return "an optional field is empty, too long or not UTF-8";
	}
	if ((s = json_string_value(json_object_get(item, "page"))) != NULL &&
	    name_check(s, strlen(s)) != NULL)
		return "bad page name";
	if ((s = json_string_value(json_object_get(item, "derived_from"))) != NULL &&
	    !name_is_sha256_hex(s, strlen(s)))
		return "bad derived_from";
	if ((s = json_string_value(json_object_get(item, "published"))) != NULL &&
	    catalog_time_parse(s, &t) == -1)
		return "bad published time";
	if ((v = json_object_get(item, "provenance")) != NULL)
		return catalog_check_provenance(v);
	return NULL;
}

json_t *
catalog_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_t *cat, *mirrors, *items, *seen = NULL, *v;
	json_error_t je;
	const char *publisher, *name, *generated;
	json_int_t version, sequence;
	size_t i;

	if (len > CATALOG_MAX_BYTES) {
		snprintf(err, errlen, "catalog larger than %u bytes", CATALOG_MAX_BYTES);
		return NULL;
	}
	if ((cat = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "catalog is not JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	if (json_unpack_ex(cat, &je, 0, "{s:I, s:s, s:s, s:s, s:I, s:o, s:o}",
	    "version", &version, "publisher", &publisher, "name", &name,
	    "generated", &generated, "sequence", &sequence,
	    "mirrors", &mirrors, "items", &items) == -1) {
		snprintf(err, errlen, "catalog: %s", je.text);
		goto fail;
	}
	if (version != 1) {
		snprintf(err, errlen, "catalog version %lld is not supported", (long long)version);
		goto fail;
	}
	if (!catalog_is_keyid(publisher) || sequence < 0 ||
	    !json_is_array(mirrors) || !json_is_array(items)) {
		snprintf(err, errlen, "catalog: bad publisher, sequence, mirrors or items");
		goto fail;
	}
	if (catalog_check_chain(cat, err, errlen) == -1)
		goto fail;
	json_array_foreach(mirrors, i, v) {
		if (!json_is_string(v) || !catalog_is_url(json_string_value(v))) {
			snprintf(err, errlen, "catalog: mirror %zu is not an http(s) URL", i);
			goto fail;
		}
	}
	if ((seen = json_object()) == NULL)
		goto fail;
	json_array_foreach(items, i, v) {
		const char *iname, *sha, *type, *source, *fetched, *why;
		json_int_t size;

		/* "source" is left out by [mirror] source_urls = none. */
		if (json_unpack_ex(v, &je, 0, "{s:s, s:s, s:I, s:s, s?s, s:s}",
		    "name", &iname, "sha256", &sha, "size", &size, "type", &type,
		    "source", &source, "fetched", &fetched) == -1) {
			snprintf(err, errlen, "catalog item %zu: %s", i, je.text);
			goto fail;
		}
		if ((why = name_check(iname, strlen(iname))) != NULL) {
			snprintf(err, errlen, "catalog item %zu: name %s", i, why);
			goto fail;
		}
		if (!name_is_sha256_hex(sha, strlen(sha)) || size < 0) {
			snprintf(err, errlen, "catalog item %zu: bad sha256 or size", i);
			goto fail;
		}
		if (strlen(type) > 255 || strpbrk(type, "\r\n") != NULL) {
			snprintf(err, errlen, "catalog item %zu: bad type", i);
			goto fail;
		}
		if ((why = catalog_check_optional(v)) != NULL) {
			snprintf(err, errlen, "catalog item %zu: %s", i, why);
			goto fail;
		}
		if (json_object_get(seen, iname) != NULL) {
			snprintf(err, errlen, "catalog: name '%s' appears twice", iname);
			goto fail;
		}
		json_object_set_new(seen, iname, json_true());
	}
	json_decref(seen);
	return cat;
fail:
	json_decref(seen);
	json_decref(cat);
	return NULL;
}

char *
catalog_current_path(const struct store *st, const char *file)
{
	char *s;

	if (asprintf(&s, "%s/current/%s", st->root, file) == -1)
		return NULL;
	return s;
}

int
catalog_load_current(const struct store *st, json_t **out, char *err, size_t errlen)
{
	char *path, *buf;
	size_t len;

	*out = NULL;
	if ((path = catalog_current_path(st, "catalog.json")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fsutil_read_file(path, CATALOG_MAX_BYTES, &buf, &len) == -1) {
		if (errno == ENOENT) {
			free(path);
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if ((*out = catalog_parse(buf, len, err, errlen)) == NULL) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (%s)", path);
	}
	free(buf);
	free(path);
	return *out == NULL ? -1 : 0;
}

/* Items are kept sorted by name (bytewise), so lookups are a binary
 * search: O(log n), and an add of many files stays O(n log n). Returns
 * the index of NAME, or -(insertion point) - 1. */
static long
catalog_search(json_t *items, const char *name)
{
	size_t lo = 0, hi = json_array_size(items);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(json_string_value(json_object_get(
		    json_array_get(items, mid), "name")), name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

json_t *
catalog_find_item(json_t *cat, const char *name)
{
	json_t *items = json_object_get(cat, "items");
	long i = catalog_search(items, name);

	return i >= 0 ? json_array_get(items, (size_t)i) : NULL;
}

int
catalog_put_item(json_t *cat, const char *name, const char *sha256,
    uint64_t size, const char *type, const char *source, const char *fetched)
{
	struct catalog_item it = { .name = name, .sha256 = sha256, .size = size,
	    .type = type, .source = source, .fetched = fetched };

	return catalog_put(cat, &it);
}

static const char *const catalog_optional[] = {
	"title", "description", "lang", "page", "derived_from", "published",
};

static const char *
catalog_item_field(const struct catalog_item *it, size_t k)
{
	const char *v[] = { it->title, it->description, it->lang, it->page,
	    it->derived_from, it->published };

	return v[k];
}

int
catalog_put(json_t *cat, const struct catalog_item *it)
{
	json_t *items = json_object_get(cat, "items"), *old = NULL, *item;
	long i = catalog_search(items, it->name);
	const char *want[sizeof(catalog_optional) / sizeof(catalog_optional[0])];
	size_t k, nk = sizeof(catalog_optional) / sizeof(catalog_optional[0]);
	const char *type, *source, *fetched;
	json_int_t size;
	json_t *prov;
	int same = 0;

	if (i >= 0) {
		old = json_array_get(items, (size_t)i);
		same = strcmp(json_string_value(json_object_get(old, "sha256")), it->sha256) == 0;
	}
	for (k = 0; k < nk; k++) {
		want[k] = catalog_item_field(it, k);
		if (want[k] == NULL && same)
			want[k] = json_string_value(json_object_get(old, catalog_optional[k]));
		if (want[k] != NULL && want[k][0] == '\0')
			want[k] = NULL;
	}
	prov = it->provenance;
	if (prov == NULL && same)
		prov = json_object_get(old, "provenance");
	/* Fields only, for content the item no longer has: nothing to do. */
	if (!same && it->type == NULL && it->size == 0)
		return 0;
	/* A NULL type or source keeps the item's (a page's title arriving
	 * after the page), or is the least that can be said. */
	type = it->type;
	source = it->source;
	if (type == NULL)
		type = same ? json_string_value(json_object_get(old, "type")) :
		    "application/octet-stream";
	if (source == NULL)
		source = same && json_string_value(json_object_get(old, "source")) != NULL ?
		    json_string_value(json_object_get(old, "source")) : "";
	if (same && strcmp(json_string_value(json_object_get(old, "type")), type) == 0) {
		for (k = 0; k < nk; k++) {
			const char *have = json_string_value(json_object_get(old,
			    catalog_optional[k]));
			if ((have == NULL) != (want[k] == NULL) ||
			    (have != NULL && strcmp(have, want[k]) != 0))
				break;
		}
		if (k == nk && json_equal(prov, json_object_get(old, "provenance")) ==
		    (prov != NULL))
			return 0;
	}
	if (same && it->size == 0)
		size = json_integer_value(json_object_get(old, "size"));
	else
		size = (json_int_t)it->size;
	if (same && it->source == NULL && json_object_get(old, "fetched") != NULL)
		fetched = json_string_value(json_object_get(old, "fetched"));
	else
		fetched = it->fetched;
	item = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}",
	    "name", it->name, "sha256", it->sha256, "size", size,
	    "type", type, "source", source, "fetched", fetched);
	if (item == NULL)
		return -1;
	for (k = 0; k < nk; k++)
		if (want[k] != NULL &&
		    json_object_set_new(item, catalog_optional[k], json_string(want[k])) == -1) {
			json_decref(item);
			return -1;
		}
	if (prov != NULL && json_object_set(item, "provenance", prov) == -1) {
		json_decref(item);
		return -1;
	}
	if (i >= 0)
		return json_array_set_new(items, (size_t)i, item) == 0 ? 1 : -1;
	return json_array_insert_new(items, (size_t)(-i - 1), item) == 0 ? 1 : -1;
}

int
catalog_redact_sources(json_t *cat, enum source_urls mode)
{
	json_t *item;
	const char *have;
	char *want;
	size_t i;
	int changed = 0;

	json_array_foreach(json_object_get(cat, "items"), i, item) {
		/* A provenance document cannot be rewritten: one made under a
		 * mode that published more than MODE does goes (its object
		 * with the next gc). */
		const char *made = json_string_value(json_object_get(json_object_get(item,
		    "provenance"), "source_urls"));
		if (json_object_get(item, "provenance") != NULL && (mode == SOURCE_URLS_NONE ||
		    (mode == SOURCE_URLS_ORIGIN && (made == NULL || strcmp(made, "origin") != 0)))) {
			json_object_del(item, "provenance");
			changed = 1;
		}
		have = json_string_value(json_object_get(item, "source"));
		if (mode == SOURCE_URLS_NONE) {
			if (json_object_get(item, "source") != NULL) {
				json_object_del(item, "source");
				changed = 1;
			}
			continue;
		}
		/* A catalog made with "none" gets its sources back only as
		 * the crawler fetches the items again. */
		if (have == NULL)
			continue;
		if ((want = url_redact(have, mode)) == NULL)
			return -1;
		if (strcmp(want, have) != 0) {
			/* Replaced in place: the key keeps its position. */
			if (json_object_set_new(item, "source", json_string(want)) == -1) {
				free(want);
				return -1;
			}
			changed = 1;
		}
		free(want);
	}
	return changed;
}

int
catalog_install(struct store *st, uint64_t seq, const char *json, size_t jlen,
    const char *sig, size_t siglen, char *err, size_t errlen)
{
	char seqname[32], target[64], *dir = NULL, *tmplink = NULL, *cur = NULL;
	int rc = -1;

	snprintf(seqname, sizeof(seqname), "%llu", (unsigned long long)seq);
	if ((dir = fsutil_join(st->catalogs, seqname)) == NULL)
		goto oom;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (fsutil_write_atomic(dir, "catalog.json", json, jlen, 0644) == -1 ||
	    fsutil_write_atomic(dir, "catalog.json.minisig", sig, siglen, 0644) == -1) {
		snprintf(err, errlen, "%s: write catalog: %s", dir, strerror(errno));
		goto out;
	}
	fsutil_fsync_dir(st->catalogs);

	snprintf(target, sizeof(target), "catalogs/%s", seqname);
	if (asprintf(&tmplink, "%s/.tmp-current-%ld", st->root, (long)getpid()) == -1) {
		tmplink = NULL;
		goto oom;
	}
	if ((cur = fsutil_join(st->root, "current")) == NULL)
		goto oom;
	unlink(tmplink);
	if (symlink(target, tmplink) == -1 || rename(tmplink, cur) == -1) {
		snprintf(err, errlen, "%s: %s", cur, strerror(errno));
		unlink(tmplink);
		goto out;
	}
	if (fsutil_fsync_dir(st->root) == -1) {
		snprintf(err, errlen, "%s: fsync: %s", st->root, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(dir);
	free(tmplink);
	free(cur);
	return rc;
}

/*
 * CAT's keys in the order docs/protocol.md gives (the fields a reader
 * looks at first come first, the items last), then any others as they
 * were: a new object sharing CAT's values, or NULL.
 */
static json_t *
catalog_ordered(json_t *cat)
{
	static const char *const order[] = {
		"version", "publisher", "name", "description", "generated", "expires",
		"sequence", "previous", "mirrors", "items"
	};
	json_t *out = json_object(), *v;
	const char *k;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((v = json_object_get(cat, order[i])) != NULL &&
		    json_object_set(out, order[i], v) == -1)
			goto fail;
	json_object_foreach(cat, k, v) {
		if (json_object_get(out, k) == NULL && json_object_set(out, k, v) == -1)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* Set CAT's "previous" to the digest of the catalog.json current/ holds,
 * or remove it when there is none: the chain a follower checks. */
static int
catalog_chain(const struct store *st, json_t *cat, char *err, size_t errlen)
{
	char *path, *buf, hex[65];
	size_t len;

	if ((path = catalog_current_path(st, "catalog.json")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fsutil_read_file(path, CATALOG_MAX_BYTES, &buf, &len) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		json_object_del(cat, "previous");
		return 0;
	}
	free(path);
	catalog_digest(buf, len, hex);
	free(buf);
	if (json_object_set_new(cat, "previous", json_string(hex)) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
catalog_publish(struct store *st, json_t *cat, const struct minisign_key *key,
    uint64_t validity, char *err, size_t errlen)
{
	char keyid[17], when[32], until[32], trusted[256];
	char *json = NULL, *sig = NULL;
	json_t *out = NULL;
	json_int_t seq;
	int64_t now = (int64_t)time(NULL);
	int rc = -1;

	seq = json_integer_value(json_object_get(cat, "sequence")) + 1;
	/* Never reuse a number another catalog in the store already had. */
	if ((uint64_t)seq <= store_current_seq(st))
		seq = (json_int_t)store_current_seq(st) + 1;
	if (catalog_chain(st, cat, err, errlen) == -1)
		goto out;
	minisign_keyid_hex(key->id, keyid);
	catalog_time(now, when);
	catalog_time(now + (int64_t)validity, until);
	json_object_set_new(cat, "sequence", json_integer(seq));
	json_object_set_new(cat, "generated", json_string(when));
	json_object_set_new(cat, "expires", json_string(until));
	json_object_set_new(cat, "publisher", json_string(keyid));
	if ((out = catalog_ordered(cat)) == NULL ||
	    (json = json_dumps(out, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	{
		/* A trailing newline keeps the file friendly to cat and diff. */
		size_t n = strlen(json);
		char *j2 = realloc(json, n + 2);
		if (j2 == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		json = j2;
		json[n] = '\n';
		json[n + 1] = '\0';
	}
	snprintf(trusted, sizeof(trusted),
	    "timestamp:%lld\tsequence:%lld\tfile:catalog.json\tprehashed",
	    (long long)now, (long long)seq);
	if ((sig = minisign_sign(key, json, strlen(json), trusted, err, errlen)) == NULL)
		goto out;

	if (catalog_install(st, (uint64_t)seq, json, strlen(json), sig, strlen(sig),
	    err, errlen) == -1)
		goto out;
	catalog_prune(st, 2);
	rc = 0;
out:
	json_decref(out);
	free(json);
	free(sig);
	return rc;
}

/* Keep the current catalog and the KEEP - 1 before it: a reader that
 * fetched catalog.json just before a swap can still get its signature. */
static int
catalog_too_old(uint64_t seq, uint64_t current, unsigned keep)
{
	return current > 0 && seq + keep <= current;
}

void
catalog_prune(struct store *st, unsigned keep)
{
	store_remove_catalogs(st, catalog_too_old, keep);
}
