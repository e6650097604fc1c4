/*
 * A feed from an origin goes through the feed parser in two chunks (the
 * first input byte says where the split falls, the second how many
 * entries are kept). Whatever the bytes, the result must keep its
 * promises: at most max_items entries, newest first with the undated
 * last, absolute http(s) URLs without a fragment, titles and
 * descriptions within their caps as valid UTF-8 without control
 * characters, and a published time that reads back as the entry's time.
 * The whole input also goes to feed_sniff and, as a string, to
 * feed_parse_date, whose times must lie within four-digit years.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_parse.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
check_text(const char *s, size_t cap)
{
	size_t i, len;

	if (s == NULL)
		return;
	len = strlen(s);
	check(len > 0 && len <= cap && name_utf8_valid(s, len));
	check(s[0] != ' ' && s[len - 1] != ' ');
	for (i = 0; i < len; i++)
		check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f &&
		    !(s[i] == ' ' && s[i + 1] == ' '));
}

static void
check_info(const struct feed_info *f, size_t max)
{
	size_t i;

	check(f->n_entries <= max);
	check_text(f->title, 512);
	check_text(f->description, 4096);
	for (i = 0; i < f->n_entries; i++) {
		const struct feed_entry *e = &f->entries[i];
		int64_t t;

		check(e->url != NULL && strchr(e->url, '#') == NULL &&
		    (strncmp(e->url, "http://", 7) == 0 ||
		    strncmp(e->url, "https://", 8) == 0));
		check_text(e->title, 512);
		check_text(e->description, 4096);
		check_text(e->id, 1024);
		if (e->type != NULL)
			check(strchr(e->type, '/') != NULL);
		if (e->published == NULL)
			check(e->time == INT64_MIN);
		else
			check(strlen(e->published) == 20 && e->published[19] == 'Z' &&
			    feed_parse_date(e->published, &t) == 0 && t == e->time);
		if (i > 0)
			check(e->time <= f->entries[i - 1].time);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_parser *p;
	struct feed_info f;
	char err[256], *s;
	size_t split, max;
	int64_t t;

	if (size < 2)
		return 0;
	split = (size - 2) * data[0] / 255;
	max = data[1] % 8;
	data += 2;
	size -= 2;

	feed_sniff((const char *)data, size);
	if ((s = malloc(size + 1)) != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
		if (feed_parse_date(s, &t) == 0)
			check(t >= -30610224000LL && t <= 253402300799LL);
		free(s);
	}

	if ((p = feed_parser_new("https://origin.example/a/feed.xml", max)) == NULL)
		return 0;
	/* Heap copies of exactly each chunk: reads past them are caught. */
	if ((s = malloc(split + 1)) != NULL) {
		memcpy(s, data, split);
		feed_parser_feed(p, s, split);
		free(s);
	}
	if ((s = malloc(size - split + 1)) != NULL) {
		memcpy(s, data + split, size - split);
		feed_parser_feed(p, s, size - split);
		free(s);
	}
	if (feed_parser_finish(p, &f, err, sizeof(err)) == 0) {
		check_info(&f, max);
		feed_info_free(&f);
	} else
		check(f.n_entries == 0 && f.entries == NULL && err[0] != '\0');
	feed_parser_free(p);
	return 0;
}
