/*
 * The index page's grouping of index_layout.h: which item is listed under
 * which, and in what order.
 *
 * "page" and "derived_from" come from catalogs whose fields were filled
 * from hostile pages and feeds, so each item gets at most one parent (its
 * original if it is derived, else the item it was found on), links that
 * name nothing or the item itself are dropped, and cycles are cut. With
 * one parent each and no cycle the items form a forest, and a walk of it
 * lists each exactly once. Look-ups go through sorted arrays rather than
 * a hash table so that no choice of names can make them quadratic.
 */

#include "index_layout.h"

#include <stdlib.h>
#include <string.h>

struct index_key {
	const char *key;	/* borrowed from the catalog */
	size_t idx;
};

/* By key, then by index: the first of equal keys is the catalog's first. */
static int
index_layout_cmp(const void *a, const void *b)
{
	const struct index_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Newest "published" first (RFC 3339 UTC times sort as strings), those
 * without one after them; equal ones in catalog order. */
static int
index_layout_cmp_published(const void *a, const void *b)
{
	const struct index_key *x = a, *y = b;
	int c;

	if (x->key != NULL && y->key != NULL) {
		if ((c = strcmp(y->key, x->key)) != 0)
			return c;
	} else if (x->key != NULL)
		return -1;
	else if (y->key != NULL)
		return 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The index of the first item whose key is S, or INDEX_NONE. O(log n). */
static size_t
index_layout_find(const struct index_key *keys, size_t n, const char *s)
{
	size_t lo = 0, hi = n, mid;

	if (s == NULL)
		return INDEX_NONE;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(keys[mid].key, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && strcmp(keys[lo].key, s) == 0)
		return keys[lo].idx;
	return INDEX_NONE;
}

static const char *
index_layout_str(json_t *item, const char *key)
{
	return json_string_value(json_object_get(item, key));
}

/*
 * Make the parent links a forest: follow each chain once, marking the
 * items on it; a chain that comes back to an item it marked is a cycle,
 * cut where it closed. Each item is walked over at most twice: O(n).
 */
static void
index_layout_uncycle(struct index_node *node, unsigned char *state, size_t n)
{
	size_t i, j;

	memset(state, 0, n);
	for (i = 0; i < n; i++) {
		for (j = i; j != INDEX_NONE && state[j] == 0;
		    j = node[j].parent)
			state[j] = 1;
		if (j != INDEX_NONE && state[j] == 1) {
			node[j].parent = INDEX_NONE;
			node[j].role = INDEX_TOP;
		}
		for (j = i; j != INDEX_NONE && state[j] == 1;
		    j = node[j].parent)
			state[j] = 2;
	}
}

int
index_layout_build(struct index_layout *l, json_t *items)
{
	struct index_key *names = NULL, *hashes = NULL, *ord = NULL;
	size_t *dlast = NULL, *mfirst = NULL, *mlast = NULL;
	unsigned char *state = NULL;
	size_t i, k, n, nn = 0, nh = 0, p;
	struct index_node *node = NULL;
	const char *s, *own;
	json_t *item;
	int rc = -1;

	l->node = NULL;
	l->n = 0;
	n = json_array_size(items);
	if (n == 0)
		return 0;
	if ((node = calloc(n, sizeof(*node))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL ||
	    (hashes = calloc(n, sizeof(*hashes))) == NULL ||
	    (ord = calloc(n, sizeof(*ord))) == NULL ||
	    (dlast = calloc(n, sizeof(*dlast))) == NULL ||
	    (mfirst = calloc(n, sizeof(*mfirst))) == NULL ||
	    (mlast = calloc(n, sizeof(*mlast))) == NULL ||
	    (state = calloc(n, 1)) == NULL)
		goto fail;

	for (i = 0; i < n; i++) {
		item = json_array_get(items, i);
		node[i].parent = node[i].first = node[i].next = INDEX_NONE;
		node[i].role = INDEX_TOP;
		node[i].listed = json_is_object(item);
		dlast[i] = mfirst[i] = mlast[i] = INDEX_NONE;
		ord[i].idx = i;
		if (!node[i].listed)
			continue;
		ord[i].key = index_layout_str(item, "published");
		if ((s = index_layout_str(item, "name")) != NULL) {
			names[nn].key = s;
			names[nn++].idx = i;
		}
		if ((s = index_layout_str(item, "sha256")) != NULL) {
			hashes[nh].key = s;
			hashes[nh++].idx = i;
		}
	}
	qsort(names, nn, sizeof(*names), index_layout_cmp);
	qsort(hashes, nh, sizeof(*hashes), index_layout_cmp);

	/* Derived beats found-on: a rewritten page belongs beside the page
	 * it was made from, which is where that page's media are anyway. */
	for (i = 0; i < n; i++) {
		if (!node[i].listed)
			continue;
		item = json_array_get(items, i);
		s = index_layout_str(item, "derived_from");
		own = index_layout_str(item, "sha256");
		if (s != NULL && (own == NULL || strcmp(s, own) != 0) &&
		    (k = index_layout_find(hashes, nh, s)) != INDEX_NONE &&
		    k != i) {
			node[i].parent = k;
			node[i].role = INDEX_DERIVED;
			continue;
		}
		s = index_layout_str(item, "page");
		if ((k = index_layout_find(names, nn, s)) != INDEX_NONE &&
		    k != i) {
			node[i].parent = k;
			node[i].role = INDEX_MEDIA;
		}
	}
	index_layout_uncycle(node, state, n);

	/* Children lists, appended in sibling order: derived items first
	 * (they stand beside their original), then the media. */
	qsort(ord, n, sizeof(*ord), index_layout_cmp_published);
	for (k = 0; k < n; k++) {
		i = ord[k].idx;
		if ((p = node[i].parent) == INDEX_NONE)
			continue;
		if (node[i].role == INDEX_DERIVED) {
			if (dlast[p] == INDEX_NONE)
				node[p].first = i;
			else
				node[dlast[p]].next = i;
			dlast[p] = i;
		} else {
			if (mlast[p] == INDEX_NONE)
				mfirst[p] = i;
			else
				node[mlast[p]].next = i;
			mlast[p] = i;
			node[p].media++;
		}
	}
	for (i = 0; i < n; i++) {
		if (dlast[i] == INDEX_NONE)
			node[i].first = mfirst[i];
		else
			node[dlast[i]].next = mfirst[i];
	}

	l->node = node;
	l->n = n;
	node = NULL;
	rc = 0;
fail:
	free(node);
	free(names);
	free(hashes);
	free(ord);
	free(dlast);
	free(mfirst);
	free(mlast);
	free(state);
	return rc;
}

void
index_layout_free(struct index_layout *l)
{
	free(l->node);
	l->node = NULL;
	l->n = 0;
}
