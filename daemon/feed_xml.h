/*
 * /feed.xml: the catalog as an RSS 2.0 feed with the podcast namespace
 * (https://podcastindex.org/namespace/1.0), so that feed readers and
 * podcast apps follow a mirror: one <item> per catalog item, newest
 * first, its <enclosure> on this mirror, a podcast:alternateEnclosure
 * with a podcast:source on every mirror and the podcast:integrity of the
 * bytes. docs/protocol.md, "Feed", has the fields.
 */

#ifndef EMBERD_FEED_XML_H
#define EMBERD_FEED_XML_H

#include <stddef.h>

#include <jansson.h>

/*
 * The feed of CATALOG (docs/protocol.md, "The feed"): malloc'd,
 * NUL-terminated, *LEN its length; NULL when out of memory.
 * SELF_URL: [mirror] url, or NULL (then enclosure URLs are relative:
 * "files/NAME", for a feed served next to its files, as the server and a
 * static export do). CATALOG is one catalog_parse accepted.
 */
char *feed_xml_render(json_t *catalog, const char *self_url, size_t *len);

#endif
