/*
 * Every word the index page shows, one table per language (lang_*.c),
 * and the list of those tables (lang_list.c). Adding a language is one
 * file defining a `const struct index_strings` and one line in the list.
 *
 * The strings are ours, not the catalog's: they are written into the
 * page as they are, so they may hold markup (those marked HTML do: links,
 * <code>) and must spell '&' and '<' as entities. Counts are PRE N POST so
 * that a language can pick a form with no plural to agree with ("Files:
 * 3") where its grammar has several.
 */
#ifndef EMBERD_INDEX_STRINGS_H
#define EMBERD_INDEX_STRINGS_H

#include <stddef.h>

struct index_count {
	const char *one_pre, *one_post;		/* N == 1 */
	const char *many_pre, *many_post;	/* any other N */
};

struct index_strings {
	const char *tag;		/* BCP 47, as in [mirror] languages */
	const char *name;		/* the language named in itself */
	int rtl;			/* written right to left */
	const char *archive;		/* the catalog's name when it has none */
	struct index_count items;	/* "N items" under the title */
	const char *catalog_no;		/* " &middot; catalog #" before the sequence */
	const char *catalog_post;	/* after it */
	const char *updated;		/* " · updated " before the date */
	const char *nav_verify, *nav_mirrors, *languages;
	const char *files_h, *no_items;
	const char *search_label, *search_button, *no_match, *show_all;
	const char *prev, *next;
	const char *page_pre, *page_mid, *page_post;	/* "Page N of M" */
	const char *unknown_type, *size_unknown;
	const char *bytes_pre, *bytes_post;	/* " (N bytes)" */
	const char *unit[4];		/* B, KiB, MiB, GiB */
	const char *decimal;		/* "1.5" or "1,5" */
	const char *published;		/* " · published " */
	const char *download, *metalink, *torrent, *by_hash;
	const char *from, *from_saved, *saved;	/* origin and when */
	/* Provenance: "Fetched from HOST (IP) at TIME, TLSv1.3, certificate
	 * SHA-256 0123…" and the link to the record. */
	const char *prov_from, *prov_at, *prov_cert, *prov_via_proxy, *prov_record;
	const char *derived_page, *derived_mp4, *derived_other;
	struct index_count feed_files, page_files;
	const char *mirrors_h, *mirrors_p, *this_mirror;
	const char *verify_h;
	const char *verify_intro;	/* HTML */
	const char *key_intro;		/* HTML */
	const char *key_unknown;
	const char *key_warn;		/* HTML */
	const char *step_catalog;	/* HTML: 1. get the catalog */
	const char *step_catalog_alt;	/* HTML: the same with wget, aria2c */
	const char *pin_note;		/* HTML: why -k and no check are safe */
	const char *step_check;		/* HTML: 2. check the signature */
	const char *step_check_ok;	/* HTML */
	const char *step_file;		/* HTML: 3. get a file */
	const char *step_hash;		/* HTML: 4. its SHA-256 */
	const char *for_example, *must_print;
	const char *hash_after;		/* HTML: mismatch, macOS, Windows */
	const char *minisign_note;	/* HTML */
};

/* The languages the page exists in, in the default order of [mirror]
 * languages; the first is the default fallback. */
extern const struct index_strings *const index_langs[];
extern const size_t index_n_langs;

/* An upper bound on index_n_langs, for fixed arrays. */
#define INDEX_LANGS_MAX	16

#endif
