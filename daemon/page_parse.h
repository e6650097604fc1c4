/*
 * What the crawler takes from an HTML page: its title and description,
 * the media it plays or links to, and the feeds it announces. The page
 * is read as it arrives (libxml2's HTML push parser with SAX callbacks,
 * no tree), so memory does not grow with the page: a 50 MB page costs
 * what a 50 kB one does. Every URL found is resolved against <base
 * href> and the page URL with libcurl's URL API; only http and https
 * results are kept, without fragment, each once.
 *
 * Thread safety: a parser is used by one thread at a time; parsers on
 * different threads are independent. libxml2's one-time initialisation
 * happens under pthread_once in page_parser_new.
 */
#ifndef EMBERD_PAGE_PARSE_H
#define EMBERD_PAGE_PARSE_H

#include <stddef.h>

enum page_link_kind { PAGE_MEDIA, PAGE_FEED };

struct page_link {
	enum page_link_kind kind;
	char *url;	/* absolute http(s) URL, no fragment */
	char *raw;	/* the attribute value as the parser gave it (entities decoded), for rewriting */
	char *type;	/* MIME type the markup gives (type=, og:video:type...), or NULL */
};

struct page_info {
	char *title;		/* og:title, else <title>: whitespace collapsed, trimmed, valid UTF-8, <= 512 bytes; or NULL */
	char *description;	/* og:description, else <meta name=description>; same rules, <= 4096 bytes; or NULL */
	char *base_raw;		/* the <base href> value as given, or NULL */
	struct page_link *links;	/* media first-seen order (PAGE_MEDIA), then feeds (PAGE_FEED) */
	size_t n_links;
	size_t n_media, n_feeds;
	size_t skipped;		/* media found beyond max_media, not taken */
};

/*
 * Limits, and why:
 * - PAGE_URL_MAX: a URL (the attribute value, and the resolved URL) is
 *   at most 8 KiB, like the request lines servers accept; a longer one
 *   is dropped with its link, never cut.
 * - PAGE_TITLE_MAX, PAGE_DESCRIPTION_MAX: what a catalog entry and the
 *   index page show; longer text is cut at a character boundary.
 * - PAGE_TYPE_MAX: a MIME type longer than this is no type (NULL).
 * - PAGE_FEED_STEP: the input goes to libxml2 in pieces of exactly
 *   this much (the last one less), whatever the caller's chunks: the
 *   push parser rescans an unfinished token with every piece, so small
 *   pieces would cost quadratic time; equal pieces make the result
 *   independent of how the network cut the page; and the guards below
 *   are checked after each one.
 * - PAGE_PENDING_MAX: libxml2 holds an unfinished token (a tag, a
 *   comment, a text run up to the next '<') whole in memory until its
 *   end arrives; more than this pending is a hostile page.
 * - PAGE_DEPTH_MAX: libxml2 keeps a stack of open elements (8 bytes
 *   each) and searches it for every end tag; browsers stop nesting at
 *   512, so deeper is not a page anybody reads.
 * - PAGE_NAMES_MAX: every distinct tag and attribute name is kept in
 *   the parser's dictionary for the life of the parse; real pages use
 *   hundreds.
 * - PAGE_WORK_MAX: libxml2 searches its element stack for every end
 *   tag and for some start tags (<body>): a page can keep the stack
 *   thousands deep and send millions of end tags that match nothing,
 *   minutes of CPU for 50 MB. The parser counts tags times the deepest
 *   stack of each piece; an ordinary 50 MB page scores under 10^8.
 * A page that trips one of the last four is read no further: what was
 * found before stays, the rest of the page is ignored (not an error).
 * Memory of a parser: libxml2's buffers (a few pieces) plus the kept
 * links, at most (max_media + max_feeds) x 3 x PAGE_URL_MAX.
 */
#define PAGE_URL_MAX		8192
#define PAGE_TITLE_MAX		512
#define PAGE_DESCRIPTION_MAX	4096
#define PAGE_TYPE_MAX		255
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Pieces a fuzzer's small inputs cross, so that it explores them too. */
#define PAGE_FEED_STEP		64u
#else
#define PAGE_FEED_STEP		(64u * 1024)
#endif
#define PAGE_PENDING_MAX	(4u << 20)
#define PAGE_DEPTH_MAX		4096
#define PAGE_NAMES_MAX		20000
#define PAGE_WORK_MAX		500000000ULL

struct page_parser;

/*
 * A parser for the page at PAGE_URL (relative links resolve against it;
 * NULL or unparsable: only absolute links are kept), which takes at most
 * MAX_MEDIA media (the rest only count in skipped) and MAX_FEEDS feeds.
 * Costs a libxml2 parser context and about 80 kB. NULL when out of
 * memory. Free with page_parser_free.
 */
struct page_parser *page_parser_new(const char *page_url, size_t max_media, size_t max_feeds);

/*
 * The next LEN bytes of the page, in any split: the result does not
 * depend on how the page is cut into chunks. Bytes after a limit was
 * tripped (see above) are ignored. -1 with error only for out of memory
 * (then only page_parser_free is left to call).
 */
int page_parser_feed(struct page_parser *p, const char *buf, size_t len);	/* -1 with error only for out of memory */

/*
 * The end of the page: parses what is left and fills OUT with what was
 * found; OUT's strings and links are the caller's (page_info_free).
 * Called once per parser. -1 with a line in ERR (and OUT emptied) only
 * when out of memory.
 */
int page_parser_finish(struct page_parser *p, struct page_info *out, char *err, size_t errlen);

/* Frees P, finished or not; NULL is fine. */
void page_parser_free(struct page_parser *p);

/* Frees what INFO holds and empties it; it may be reused. NULL is fine. */
void page_info_free(struct page_info *info);

/* 1 when a body starting with these bytes (after a BOM and whitespace) looks like HTML:
 * <!doctype html, <html, <head, <body, or an HTML comment followed by one of those; case-insensitive. */
int page_sniff(const char *buf, size_t len);

/* 1 when a URL's path (not query) ends in a media extension: .mp4 .m4v .mov .webm .mkv .ogv .mp3 .m4a .aac
 * .ogg .oga .opus .flac .wav .m3u8 (case-insensitive), or TYPE (NULL: none) is any video/ or audio/ type,
 * application/vnd.apple.mpegurl or application/x-mpegurl (parameters and case ignored). Costs no allocation. */
int page_is_media(const char *url, const char *type);

#endif
