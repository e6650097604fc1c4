/*
 * Feeds (RSS 2.0, RSS 1.0, Atom, Media RSS, podcasts) read as a stream:
 * the document goes through libxml2's push parser a chunk at a time, as
 * it arrives, and what comes out is the feed's title and description and
 * its entries that carry a medium (an RSS <enclosure>, an Atom link
 * rel="enclosure", a Media RSS <media:content>), newest first. No tree
 * is built and no entity is ever expanded or loaded: memory is bounded
 * by max_items and the limits in feed_parse.c, never by the feed's size.
 */
#ifndef EMBERD_FEED_PARSE_H
#define EMBERD_FEED_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "feed_date.h"

/*
 * One entry's medium and what the feed says about it. Every string is
 * valid UTF-8, heap-allocated, owned by the feed_info it is in.
 */
struct feed_entry {
	char *url;		/* absolute http(s), no fragment */
	char *type;		/* or NULL */
	uint64_t length;	/* the feed's claim, 0 when absent: not trusted */
	char *title, *description;	/* or NULL */
	char *published;	/* "2026-11-28T12:00:00Z" or NULL */
	int64_t time;		/* the same in Unix seconds, or INT64_MIN when undated */
	char *id;		/* guid / atom id, or NULL */
};

/*
 * What feed_parser_finish hands over. Titles are whitespace-collapsed
 * text of at most 512 bytes, descriptions of at most 4096 (markup in a
 * description stays as the text the feed gave); free with
 * feed_info_free.
 */
struct feed_info {
	char *title, *description;	/* of the channel / feed, or NULL */
	struct feed_entry *entries;	/* newest first */
	size_t n_entries, skipped;
};

struct feed_parser;

/*
 * A parser for the feed at FEED_URL (the base relative media URLs are
 * resolved against; NULL: only absolute ones are taken) that keeps the
 * MAX_ITEMS newest entries with a medium (clamped to FEED_ITEMS_MAX,
 * 10000; 0 keeps none and only counts). Costs about 45 KiB before any
 * entry is kept, and libxml2's context. NULL when out of memory. Calls xmlInitParser(): the
 * daemon should have done so once at start-up, before any thread.
 */
struct feed_parser *feed_parser_new(const char *feed_url, size_t max_items);

/*
 * The next LEN bytes of the document, in any split (one byte at a time
 * gives what one chunk does). The bytes are copied into libxml2 in
 * slices of 64 KiB, so a large BUF does not make libxml2 hold a copy of
 * it. Malformed XML is recovered from where libxml2 can, and otherwise
 * ends the parse quietly: what was read until then stands. Returns 0,
 * or -1 when out of memory (the parser is then only good for
 * feed_parser_free).
 */
int feed_parser_feed(struct feed_parser *p, const char *buf, size_t len);	/* -1 out of memory */

/*
 * The end of the document: fills OUT (owned by the caller, freed with
 * feed_info_free) with the channel's title and description and the kept
 * entries, newest first (undated ones last, in document order); SKIPPED
 * counts the entries with a medium beyond max_items. An entry the
 * document cut off before its end tag is not taken. Returns -1 with a
 * line in ERR (OUT zeroed) when the document's first element is not
 * <rss>, Atom's <feed> or <rdf:RDF>, when there is no element at all,
 * or when out of memory. Once only; free P afterwards either way.
 */
int feed_parser_finish(struct feed_parser *p, struct feed_info *out, char *err, size_t errlen);	/* -1 when it is not an RSS or Atom document at all */

/* Frees P and what it still holds; NULL is fine. */
void feed_parser_free(struct feed_parser *p);

/* Frees what F holds and zeroes it; F itself is the caller's. */
void feed_info_free(struct feed_info *f);

/* 1 when these first bytes look like RSS or Atom: after an optional BOM, whitespace, <?xml ...?>, comments and
 * doctype, the first element is <rss or <feed (Atom) or <rdf:RDF. 0 too when the bytes end before that element's
 * name does: give it the first kilobytes. No allocation, O(LEN). */
int feed_sniff(const char *buf, size_t len);

/* feed_parse_date: feed_date.h. */


#endif
