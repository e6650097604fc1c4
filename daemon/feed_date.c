/*
 * Feed dates (feed_date.h): RFC 822/1123 as RSS writes them, RFC 3339
 * as Atom does, to Unix seconds in UTC, without timegm, time zone or
 * locale.
 */
#include "feed_date.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"

/* Exactly N digits at *S as a number, advancing *S; -1 when not. */
static int
feed_digits(const char **s, unsigned n)
{
	int v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (*(*s)++ - '0');
	}
	return v;
}

static int
feed_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
feed_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Y-MO-D H:MI:S minus OFFSET seconds, checked, into *T. The years a
 * "YYYY-MM-DDTHH:MM:SSZ" can show are the only ones taken, before and
 * after the offset.
 */
static int
feed_date_make(int y, int mo, int d, int h, int mi, int s, int offset, int64_t *t)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap, dim;
	int64_t v;

	if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	dim = mdays[mo - 1] + (mo == 2 && leap);
	if (d > dim)
		return -1;
	v = catalog_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
	v -= offset;
	/* 1000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
	if (v < -30610224000LL || v > 253402300799LL)
		return -1;
	*t = v;
	return 0;
}

/* "+HH:MM", "+HHMM" or "+HH" at S into seconds east of UTC; returns
 * the rest, NULL when malformed. */
static const char *
feed_date_numeric_zone(const char *s, int *offset)
{
	int sign = *s == '-' ? -1 : 1, oh, om = 0;

	s++;
	if ((oh = feed_digits(&s, 2)) < 0)
		return NULL;
	if (*s == ':')
		s++;
	if (*s >= '0' && *s <= '9' && (om = feed_digits(&s, 2)) < 0)
		return NULL;
	if (oh > 23 || om > 59)
		return NULL;
	*offset = sign * (oh * 3600 + om * 60);
	return s;
}

/*
 * RFC 3339 and the W3C profile of ISO 8601 that dc:date uses:
 * YYYY-MM-DD, optionally followed by T (or t, or a space) and HH:MM,
 * optional :SS and fraction, and a zone (Z, +HH:MM, +HHMM); a missing
 * zone reads as UTC (feeds that leave it out mean no particular one).
 */
static int
feed_date_rfc3339(const char *s, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0;

	if ((y = feed_digits(&s, 4)) < 0 || *s++ != '-' ||
	    (mo = feed_digits(&s, 2)) < 0 || *s++ != '-' ||
	    (d = feed_digits(&s, 2)) < 0)
		return -1;
	if (*s == 'T' || *s == 't' || (*s == ' ' && s[1] >= '0' && s[1] <= '9')) {
		s++;
		if ((h = feed_digits(&s, 2)) < 0 || *s++ != ':' ||
		    (mi = feed_digits(&s, 2)) < 0)
			return -1;
		if (*s == ':') {
			s++;
			if ((sec = feed_digits(&s, 2)) < 0)
				return -1;
			if (*s == '.' || *s == ',') {
				/* whole seconds are what is kept */
				if (*++s < '0' || *s > '9')
					return -1;
				while (*s >= '0' && *s <= '9')
					s++;
			}
		}
		if (*s == 'Z' || *s == 'z')
			s++;
		else if ((*s == '+' || *s == '-') &&
		    (s = feed_date_numeric_zone(s, &offset)) == NULL)
			return -1;
	}
	while (feed_is_space(*s))
		s++;
	if (*s != '\0')
		return -1;
	return feed_date_make(y, mo, d, h, mi, sec, offset, t);
}

/*
 * RFC 822 zone names (section 5.1) and the ones RFC 2822 adds. Any
 * other alphabetic zone reads as UTC: RFC 2822 4.3 says an unknown one
 * "SHOULD be considered equivalent to -0000", which is better ordering
 * than no date at all.
 */
static const struct {
	const char	*name;
	int		 hours;
} feed_zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
	{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
};

static const char feed_months[12][4] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};

/*
 * RFC 822 section 5 as RFC 1123 5.2.14 and RFC 2822 3.3 read it:
 * [Day,] D Mon YY[YY] HH:MM[:SS] [zone], with leniencies feeds need: no
 * comma, full month names, any case, '-' between day, month and year,
 * no zone (UTC), a trailing comment "(PST)".
 */
static int
feed_date_rfc822(const char *s, int64_t *t)
{
	int d, mo, y, h, mi, sec = 0, offset = 0, i, n;
	const char *m;
	size_t zl;

	if (feed_is_alpha(*s)) {	/* the day of the week: not checked */
		while (feed_is_alpha(*s))
			s++;
		if (*s == ',')
			s++;
		while (feed_is_space(*s))
			s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	for (d = 0, n = 0; *s >= '0' && *s <= '9' && n < 2; s++, n++)
		d = d * 10 + (*s - '0');
	if (!feed_is_space(*s) && *s != '-')
		return -1;
	while (feed_is_space(*s) || *s == '-')
		s++;
	for (m = s; feed_is_alpha(*s); s++)
		;
	if (s - m < 3)
		return -1;
	for (mo = 0, i = 0; i < 12; i++)
		if (strncasecmp(m, feed_months[i], 3) == 0)
			mo = i + 1;
	if (mo == 0 || (!feed_is_space(*s) && *s != '-'))
		return -1;
	while (feed_is_space(*s) || *s == '-')
		s++;
	for (y = 0, n = 0; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 4)
			return -1;
		y = y * 10 + (*s - '0');
	}
	/* RFC 2822 4.3: two digits are 1950-2049, three add 1900. */
	if (n == 2)
		y += y < 50 ? 2000 : 1900;
	else if (n == 3)
		y += 1900;
	else if (n != 4)
		return -1;
	if (!feed_is_space(*s))
		return -1;
	while (feed_is_space(*s))
		s++;
	/* The hour in one digit too, as in "9:05". */
	for (h = 0, n = 0; *s >= '0' && *s <= '9' && n < 2; s++, n++)
		h = h * 10 + (*s - '0');
	if (n == 0 || *s++ != ':' || (mi = feed_digits(&s, 2)) < 0)
		return -1;
	if (*s == ':') {
		s++;
		if ((sec = feed_digits(&s, 2)) < 0)
			return -1;
	}
	while (feed_is_space(*s))
		s++;
	if (*s == '+' || *s == '-') {
		if ((s = feed_date_numeric_zone(s, &offset)) == NULL)
			return -1;
	} else if (feed_is_alpha(*s)) {
		for (m = s; feed_is_alpha(*s); s++)
			;
		zl = (size_t)(s - m);
		if (zl > 5)
			return -1;
		for (i = 0; i < (int)(sizeof(feed_zones) / sizeof(feed_zones[0])); i++)
			if (strlen(feed_zones[i].name) == zl &&
			    strncasecmp(m, feed_zones[i].name, zl) == 0)
				offset = feed_zones[i].hours * 3600;
	}
	while (feed_is_space(*s))
		s++;
	if (*s == '(') {
		if ((m = strchr(s, ')')) == NULL)
			return -1;
		for (s = m + 1; feed_is_space(*s); s++)
			;
	}
	if (*s != '\0')
		return -1;
	return feed_date_make(y, mo, d, h, mi, sec, offset, t);
}

int
feed_parse_date(const char *s, int64_t *t)
{
	const char *c;

	if (s == NULL)
		return -1;
	while (feed_is_space(*s))
		s++;
	for (c = s; *c >= '0' && *c <= '9'; c++)
		;
	if (c - s == 4 && *c == '-')
		return feed_date_rfc3339(s, t);
	return feed_date_rfc822(s, t);
}
