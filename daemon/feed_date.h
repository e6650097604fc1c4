/*
 * Feed dates: RSS's pubDate (RFC 822/1123: 2- or 4-digit years, zone
 * names and numeric offsets), Atom's published/updated and dc:date
 * (RFC 3339, offsets and fractions). Untrusted text from origins.
 */
#ifndef EMBERD_FEED_DATE_H
#define EMBERD_FEED_DATE_H

#include <stdint.h>

/* S to Unix seconds in *T (years 1000 to 9999): 0, or -1 not a date. */
int feed_parse_date(const char *s, int64_t *t);

#endif
