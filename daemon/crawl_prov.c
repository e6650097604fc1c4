/*
 * What the crawler keeps of its transfers' provenance (provenance.h):
 * the document an item is published with, the re-captures of an
 * unchanged re-crawl, and the captures of a kept prefix that a resume
 * by a later process takes back.
 */
#include "crawl_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crawl_state.h"
#include "fsutil.h"
#include "ingest.h"
#include "log.h"
#include "provenance.h"

/* J's captures completed: each payload with the object (M) it went
 * into, each role with what the source turned out to be. */
static void
job_prov_fix(struct crawl_job *j, const struct object_meta *m)
{
	const char *role = j->doc == SOURCE_PAGE ? "page" : j->doc == SOURCE_FEED ? "feed" :
	    "media";
	json_t *cap;
	size_t i;

	json_array_foreach(j->prov_caps, i, cap) {
		json_t *p = json_object_get(cap, "payload"), *r = json_object_get(p, "range");
		json_int_t a = json_integer_value(json_array_get(r, 0));
		json_int_t b = json_integer_value(json_array_get(r, 1));
		/* A capture of an HLS job knows its role; the others learn
		 * what they were only now. */
		if (strcmp(json_string_value(json_object_get(cap, "role")), "media") == 0)
			json_object_set_new(cap, "role", json_string(role));
		if (p != NULL) {
			json_t *np = NULL;
			if (b < (json_int_t)m->size)
				np = a == 0 && b == (json_int_t)m->size - 1 ?
				    json_pack("{s:s, s:I}", "sha256", m->sha256, "size",
				    (json_int_t)m->size) :
				    json_pack("{s:s, s:I, s:[I, I]}", "sha256", m->sha256,
				    "size", (json_int_t)m->size, "range", a, b);
			if (np != NULL)
				json_object_set_new(cap, "payload", np);
			else
				json_object_del(cap, "payload");
		}
	}
}

/*
 * A re-crawl that fetched the same bytes from the same URL: its captures
 * kept as re-captures (provenance.h), for revisit records; the catalog
 * is left alone, as for any unchanged source.
 */
void
job_recapture(struct crawl_job *j, const char *name, const struct object_meta *m)
{
	char err[ERRLEN];

	if (j->prov_caps == NULL || json_array_size(j->prov_caps) == 0)
		return;
	job_prov_fix(j, m);
	if (prov_recapture_add(j->cr->st->root, name, m->sha256, m->size,
	    j->cr->settings.source_urls == SOURCE_URLS_FULL ? "full" : "origin",
	    j->prov_caps, err, sizeof(err)) == -1)
		log_warn("%s %s: re-capture not kept: %s", j->cr->tag, j->src.id, err);
	json_decref(j->prov_caps);
	j->prov_caps = NULL;
}

/*
 * The item's provenance document from the transfers of J, each payload
 * completed with the object (M) it went into; stored as an object (*IN,
 * finished, committed with the item's) and summed up for the catalog
 * (*SUM). Nothing when nothing was recorded (source_urls = none) or on
 * failure: provenance is a record, never a reason to lose an item.
 */
void
job_provenance(struct crawl_job *j, const char *name, const struct object_meta *m,
    struct ingest **in, json_t **sum)
{
	json_t *doc = NULL, *cap;
	char *s = NULL, err[ERRLEN];
	size_t i, len = 0;

	*in = NULL;
	*sum = NULL;
	if (j->prov_caps == NULL || json_array_size(j->prov_caps) == 0 ||
	    (doc = prov_doc_new(name, m->sha256, m->size)) == NULL)
		goto out;
	job_prov_fix(j, m);
	json_array_foreach(j->prov_caps, i, cap)
		if (prov_doc_add(doc, json_incref(cap)) == -1)
			goto out;
	if (prov_doc_compact(doc) == -1 || (s = prov_doc_dump(doc, &len)) == NULL)
		goto out;
	if (len > PROV_DOC_MAX) {
		/* No reader would take it, and the catalog would be refused. */
		log_warn("%s %s: provenance not kept: %zu bytes, more than %u", j->cr->tag,
		    j->src.id, len, PROV_DOC_MAX);
		goto out;
	}
	if ((*in = ingest_new(j->cr->st, len, err, sizeof(err))) == NULL)
		goto out;
	if (ingest_write(*in, s, len) == -1 || ingest_finish(*in) == -1 ||
	    (*sum = json_pack("{s:s, s:I, s:s}", "sha256", ingest_meta(*in)->sha256, "size",
	    (json_int_t)ingest_meta(*in)->size, "source_urls",
	    j->cr->settings.source_urls == SOURCE_URLS_FULL ? "full" : "origin")) == NULL) {
		log_warn("%s %s: provenance not kept: %s", j->cr->tag, j->src.id,
		    ingest_error(*in));
		ingest_free(*in);
		*in = NULL;
		goto out;
	}
	{
		json_t *summary = prov_summary(doc);
		json_object_update(*sum, summary);
		json_decref(summary);
	}
out:
	free(s);
	json_decref(doc);
	json_decref(j->prov_caps);
	j->prov_caps = NULL;
}

/*
 * ID.prov: the captures of the transfers whose bytes the kept prefix
 * (ID.part) holds, so that a resume after the process ended still
 * records them. Written atomically beside the state when a transfer's
 * body starts (with its own capture, its range left open: its end is
 * where the prefix ends) and when it ends; removed with the prefix.
 */
void
job_prov_save(struct crawl_job *j, int in_flight)
{
	json_t *all = NULL, *cap;
	char *name = NULL, *s = NULL;

	if (j->cr->settings.source_urls == SOURCE_URLS_NONE ||
	    (all = j->prov_caps != NULL ? json_deep_copy(j->prov_caps) : json_array()) == NULL)
		goto out;
	if (in_flight && j->prov != NULL && prov_hops(j->prov) > 0 &&
	    (cap = prov_capture_json(j->prov, j->cr->settings.source_urls)) != NULL) {
		json_object_set_new(cap, "payload", json_pack("{s:[I, I]}", "range",
		    (json_int_t)j->offset, (json_int_t)-1));
		json_array_append_new(all, cap);
	}
	if (asprintf(&name, "%s.prov", j->src.key) == -1) {
		name = NULL;
		goto out;
	}
	/* A full disk is said once, by the transfer that meets it. */
	if (((s = json_dumps(all, JSON_COMPACT)) == NULL ||
	    fsutil_write_atomic(j->cr->dir, name, s, strlen(s), 0600) == -1) &&
	    (s == NULL || (errno != ENOSPC && errno != EDQUOT)))
		log_warn("%s %s: the record of the kept bytes not saved: %s", j->cr->tag,
		    j->src.id, s == NULL ? "out of memory" : strerror(errno));
out:
	free(s);
	free(name);
	json_decref(all);
}

/*
 * Resuming from a prefix of KEPT bytes kept by an earlier process: the
 * captures of ID.prov, if they read back and account for exactly those
 * bytes (the open range of the transfer cut off ends where they end).
 * Anything else is dropped: a record that says less is better than one
 * that says something wrong.
 */
void
job_prov_load(struct crawl_job *j, uint64_t kept)
{
	char *path = crawl_state_path(j->cr->dir, j->src.key, ".prov"), *buf = NULL;
	char why[256];
	json_t *caps = NULL, *cap, *p, *r;
	uint64_t next = 0;
	size_t len, i;

	if (path == NULL || fsutil_read_file(path, PROV_DOC_MAX, &buf, &len) == -1 ||
	    (caps = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_array(caps))
		goto out;
	json_array_foreach(caps, i, cap) {
		if ((p = json_object_get(cap, "payload")) == NULL)
			continue;
		r = json_object_get(p, "range");
		json_int_t a = json_integer_value(json_array_get(r, 0));
		json_int_t b = json_integer_value(json_array_get(r, 1));
		if (b == -1 && i + 1 == json_array_size(caps))
			b = (json_int_t)kept - 1;
		if ((uint64_t)a != next || b < a)
			goto out;	/* not the kept bytes, in order */
		json_array_set_new(r, 1, json_integer(b));
		next = (uint64_t)b + 1;
	}
	if (next != kept)
		goto out;
	if (prov_caps_check(caps, kept, why, sizeof(why)) == -1) {
		log_warn("%s %s: the record of the kept bytes is not kept: %s", j->cr->tag,
		    j->src.id, why);
		goto out;
	}
	json_decref(j->prov_caps);
	j->prov_caps = caps;
	caps = NULL;
out:
	json_decref(caps);
	free(buf);
	free(path);
}

