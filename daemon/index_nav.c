/*
 * The index page's ways to other pages (index_out.h): the links to the
 * other languages, the search form, the pager; as query strings on a
 * server, as file names in a static export.
 */
#include "index_out.h"
#include "index_strings.h"

#include <stdio.h>

void
index_static_name(char *buf, size_t len, int first, int lang, size_t page)
{
	const char *tag = lang >= 0 && (size_t)lang < index_n_langs ?
	    index_langs[lang]->tag : "en";

	if (lang == first && page <= 1)
		snprintf(buf, len, "index.html");
	else if (page <= 1)
		snprintf(buf, len, "index.%s.html", tag);
	else
		snprintf(buf, len, "index.%s.%zu.html", tag, page);
}

/* "?lang=TAG&page=N&q=Q" for a link to another page or language (a
 * file name in a static export); the language is always named, so that
 * a link means the same page whatever the reader's Accept-Language. */
static void
index_self_link(struct index_out *o, const struct index_page_info *info,
    int lang, size_t page)
{
	char file[64];

	if (info->static_pages) {
		index_static_name(file, sizeof(file),
		    info->n_langs > 0 ? info->langs[0] : lang, lang, page);
		out_s(o, file);
		return;
	}
	out_s(o, "?lang=");
	out_s(o, index_langs[lang]->tag);
	if (page > 1)
		out_f(o, "&amp;page=%zu", page);
	if (info->query != NULL && info->query[0] != '\0') {
		out_s(o, "&amp;q=");
		if (!o->failed && index_buf_url(&o->b, info->query) == -1)
			o->failed = 1;
	}
}

void
index_languages(struct index_out *o, const struct index_page_info *info,
    size_t page)
{
	const struct index_strings *t = index_langs[info->lang];
	size_t i;
	int l;

	if (info->n_langs < 2)
		return;
	out_s(o, "<nav class=\"langs\" aria-label=\"");
	out_s(o, t->languages);
	out_s(o, "\">");
	for (i = 0; i < info->n_langs; i++) {
		l = info->langs[i];
		if (l < 0 || (size_t)l >= index_n_langs)
			continue;
		if (l == info->lang) {
			out_s(o, "<strong aria-current=\"page\">");
			out_s(o, index_langs[l]->name);
			out_s(o, "</strong>");
			continue;
		}
		out_s(o, "<a href=\"");
		index_self_link(o, info, l, page);
		out_s(o, "\" hreflang=\"");
		out_s(o, index_langs[l]->tag);
		out_s(o, "\" lang=\"");
		out_s(o, index_langs[l]->tag);
		out_s(o, index_langs[l]->rtl ? "\" dir=\"rtl\">" :
		    "\" dir=\"ltr\">");
		out_s(o, index_langs[l]->name);
		out_s(o, "</a>");
	}
	out_s(o, "</nav>\n");
}

void
index_search(struct index_out *o, const struct index_page_info *info)
{
	const struct index_strings *t = index_langs[info->lang];

	if (info->static_pages)
		return;
	out_s(o, "<form method=\"get\" action=\"./\" role=\"search\">"
	    "<input type=\"hidden\" name=\"lang\" value=\"");
	out_s(o, t->tag);
	out_s(o, "\"><input type=\"search\" name=\"q\" dir=\"auto\" "
	    "aria-label=\"");
	out_s(o, t->search_label);
	out_s(o, "\" placeholder=\"");
	out_s(o, t->search_label);
	out_f(o, "\" maxlength=\"%d\" value=\"", INDEX_QUERY_MAX);
	out_h(o, info->query != NULL ? info->query : "");
	out_s(o, "\"><button>");
	out_s(o, t->search_button);
	out_s(o, "</button>");
	if (info->query != NULL && info->query[0] != '\0') {
		out_s(o, "<a href=\"?lang=");
		out_s(o, t->tag);
		out_s(o, "\">");
		out_s(o, t->show_all);
		out_s(o, "</a>");
	}
	out_s(o, "</form>\n");
}

static void
index_pager_link(struct index_out *o, const struct index_page_info *info,
    const char *rel, size_t page, const char *text)
{
	out_s(o, "<a rel=\"");
	out_s(o, rel);
	out_s(o, "\" href=\"");
	index_self_link(o, info, info->lang, page);
	out_s(o, "\">");
	out_s(o, text);
	out_s(o, "</a>");
}

void
index_pager(struct index_out *o, const struct index_page_info *info,
    size_t page, size_t pages)
{
	const struct index_strings *t = index_langs[info->lang];

	if (pages < 2)
		return;
	out_s(o, "<nav class=\"pages\">");
	if (page > 1)
		index_pager_link(o, info, "prev", page - 1, t->prev);
	out_s(o, "<span>");
	out_s(o, t->page_pre);
	out_f(o, "%zu", page);
	out_s(o, t->page_mid);
	out_f(o, "%zu", pages);
	out_s(o, t->page_post);
	out_s(o, "</span>");
	if (page < pages)
		index_pager_link(o, info, "next", page + 1, t->next);
	out_s(o, "</nav>\n");
}

