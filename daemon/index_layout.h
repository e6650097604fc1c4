/*
 * The order in which the index page lists a catalog's items: media found
 * on a page or in a feed under that page's or feed's item (their "page"),
 * and a derived item (a page rewritten to play from the mirror, an HLS
 * capture remuxed to MP4) right after its original ("derived_from").
 * The result is a forest over the catalog's item indices; every item is
 * in it exactly once, whatever the catalog says (a "page" naming no item,
 * itself, or a cycle of them just leaves an item at the top level).
 */

#ifndef EMBERD_INDEX_LAYOUT_H
#define EMBERD_INDEX_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define INDEX_NONE	SIZE_MAX

enum index_role {
	INDEX_TOP,		/* listed at the top level */
	INDEX_MEDIA,		/* found on its parent (a page or a feed) */
	INDEX_DERIVED		/* made from its parent */
};

struct index_node {
	size_t parent;		/* INDEX_NONE for INDEX_TOP */
	size_t first;		/* first child: derived ones, then media */
	size_t next;		/* next sibling */
	size_t media;		/* how many children are INDEX_MEDIA */
	enum index_role role;
	int listed;		/* 0: not an object, the page skips it */
};

struct index_layout {
	struct index_node *node;	/* one per entry of the items array */
	size_t n;
};

/*
 * Lay out ITEMS (the catalog's "items" array, or NULL). Siblings keep the
 * catalog's order, except that media with a "published" time come newest
 * first (a feed's entries). Costs O(n log n) time (two sorts, for the
 * look-ups by name and by hash; no hash table a hostile catalog could
 * fill with collisions) and O(n) memory, freed by index_layout_free.
 * The layout points into nothing: ITEMS may change afterwards, but the
 * indices then mean nothing. Returns -1 when out of memory.
 */
int index_layout_build(struct index_layout *l, json_t *items);
void index_layout_free(struct index_layout *l);

#endif
