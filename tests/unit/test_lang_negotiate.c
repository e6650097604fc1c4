#include <string.h>

#include "index_strings.h"
#include "lang_negotiate.h"
#include "check.h"

/* The index of TAG in index_langs[]. */
static int
L(const char *tag)
{
	size_t i;

	for (i = 0; i < index_n_langs; i++)
		if (strcmp(index_langs[i]->tag, tag) == 0)
			return (int)i;
	fprintf(stderr, "no language %s\n", tag);
	return -100;
}

static int
lookup(const char *tag)
{
	return lang_lookup(tag, strlen(tag));
}

static void
test_lookup(void)
{
	CHECK(lookup("en") == L("en"));
	CHECK(lookup("EN-gb") == L("en"));
	CHECK(lookup("ru-RU") == L("ru"));
	CHECK(lookup("fa-IR") == L("fa"));
	CHECK(lookup("zh") == L("zh-Hans"));
	CHECK(lookup("zh-CN") == L("zh-Hans"));
	CHECK(lookup("zh-sg") == L("zh-Hans"));
	CHECK(lookup("zh-TW") == L("zh-Hant"));
	CHECK(lookup("zh-HK") == L("zh-Hant"));
	CHECK(lookup("zh-mo") == L("zh-Hant"));
	CHECK(lookup("zh-Hans-CN") == L("zh-Hans"));
	CHECK(lookup("zh-hant-tw") == L("zh-Hant"));
	CHECK(lookup("ZH-HANT") == L("zh-Hant"));
	/* The script wins over the region. */
	CHECK(lookup("zh-Hans-HK") == L("zh-Hans"));
	CHECK(lookup("de") == -1);
	CHECK(lookup("") == -1);
	CHECK(lookup("e") == -1);
	CHECK(lookup("english") == -1);
	CHECK(lookup("en<script>") == -1);
	CHECK(lookup("*") == -1);
	/* Only LEN bytes count. */
	CHECK(lang_lookup("ruxyz", 2) == L("ru"));
	CHECK(lang_lookup("zh-TWxx", 5) == L("zh-Hant"));
}

static void
test_negotiate(void)
{
	int all[5], some[3];
	size_t i;

	for (i = 0; i < 5; i++)
		all[i] = (int)i;
	some[0] = L("ru");
	some[1] = L("en");
	some[2] = L("fa");
	CHECK(lang_negotiate(NULL, all, 5) == all[0]);
	CHECK(lang_negotiate("", all, 5) == all[0]);
	CHECK(lang_negotiate("fa", all, 5) == L("fa"));
	CHECK(lang_negotiate("zh-TW,zh;q=0.9,en;q=0.8", all, 5) == L("zh-Hant"));
	CHECK(lang_negotiate("zh-CN,zh;q=0.9", all, 5) == L("zh-Hans"));
	CHECK(lang_negotiate("de-DE, de;q=0.9, ru;q=0.5, en;q=0.4", all, 5) ==
	    L("ru"));
	/* q-values, not the order, decide. */
	CHECK(lang_negotiate("en;q=0.3, fa;q=0.7", all, 5) == L("fa"));
	CHECK(lang_negotiate("en;q=0.300, fa;q=0.301", all, 5) == L("fa"));
	CHECK(lang_negotiate("en; q=1.0, fa", all, 5) == L("en"));
	/* q=0 excludes, also from "*". */
	CHECK(lang_negotiate("en;q=0, *;q=0.5", all, 5) == L("zh-Hans"));
	CHECK(lang_negotiate("*", some, 3) == L("ru"));
	CHECK(lang_negotiate("de, *;q=0.1", some, 3) == L("ru"));
	CHECK(lang_negotiate("*;q=0.1, en;q=0.2", some, 3) == L("en"));
	/* Nothing acceptable: the mirror's first. */
	CHECK(lang_negotiate("de, ja", some, 3) == L("ru"));
	CHECK(lang_negotiate("zh-TW", some, 3) == L("ru"));
	CHECK(lang_negotiate("ru;q=0", some, 3) == L("ru"));
	/* Limited by the mirror's list. */
	CHECK(lang_negotiate("zh, fa;q=0.5", some, 3) == L("fa"));
	/* Malformed ranges are skipped, not fatal. */
	CHECK(lang_negotiate("fa;q=2, en;q=abc, ru;q=0.5", all, 5) == L("ru"));
	CHECK(lang_negotiate(",,, ;q=1, fa;;q=0.5", all, 5) == L("fa"));
	CHECK(lang_negotiate("FA", all, 5) == L("fa"));
	CHECK(lang_negotiate("fa;q=0.5;level=1", all, 5) == L("fa"));
}

static void
test_list(void)
{
	int out[INDEX_LANGS_MAX];
	const char *bad;
	size_t badlen;

	CHECK(lang_list_parse("zh-Hans, zh-Hant, en", out, INDEX_LANGS_MAX,
	    &bad, &badlen) == 3);
	CHECK(out[0] == L("zh-Hans") && out[1] == L("zh-Hant") &&
	    out[2] == L("en"));
	CHECK(lang_list_parse("fa", out, INDEX_LANGS_MAX, &bad, &badlen) == 1);
	CHECK(lang_list_parse("en,ru,en", out, INDEX_LANGS_MAX, &bad,
	    &badlen) == -1 && badlen == 2 && strncmp(bad, "en", 2) == 0);
	CHECK(lang_list_parse("en, de, fa", out, INDEX_LANGS_MAX, &bad,
	    &badlen) == -1 && badlen == 2 && strncmp(bad, "de", 2) == 0);
	CHECK(lang_list_parse("en,,fa", out, INDEX_LANGS_MAX, &bad,
	    &badlen) == -1 && badlen == 0);
	CHECK(lang_list_parse("", out, INDEX_LANGS_MAX, &bad, &badlen) == -1);
	/* Only exact tags in a config. */
	CHECK(lang_list_parse("zh-CN", out, INDEX_LANGS_MAX, &bad,
	    &badlen) == -1);
	CHECK(lang_list_parse("en, ru", out, 1, &bad, &badlen) == -1);
}

static void
test_query(void)
{
	char out[16];

	CHECK(lang_query_get(NULL, "q", out, sizeof(out)) == 0);
	CHECK(lang_query_get("", "q", out, sizeof(out)) == 0);
	CHECK(lang_query_get("lang=fa&q=a+b%20c", "q", out, sizeof(out)) == 1 &&
	    strcmp(out, "a b c") == 0);
	CHECK(lang_query_get("lang=fa&q=x", "lang", out, sizeof(out)) == 1 &&
	    strcmp(out, "fa") == 0);
	CHECK(lang_query_get("qq=1&aq=2", "q", out, sizeof(out)) == 0);
	CHECK(lang_query_get("q=1&q=2", "q", out, sizeof(out)) == 1 &&
	    strcmp(out, "1") == 0);
	CHECK(lang_query_get("q=", "q", out, sizeof(out)) == 1 &&
	    out[0] == '\0');
	CHECK(lang_query_get("q", "q", out, sizeof(out)) == 1 &&
	    out[0] == '\0');
	CHECK(lang_query_get("q=%e4%b8%ad", "q", out, sizeof(out)) == 1 &&
	    strcmp(out, "\xe4\xb8\xad") == 0);
	CHECK(lang_query_get("q=%zz", "q", out, sizeof(out)) == -1);
	CHECK(lang_query_get("q=%4", "q", out, sizeof(out)) == -1);
	CHECK(lang_query_get("q=a%00b", "q", out, sizeof(out)) == -1);
	CHECK(lang_query_get("q=0123456789abcdef", "q", out, sizeof(out)) == -1);
	CHECK(lang_query_get("q=0123456789abcde", "q", out, sizeof(out)) == 1);
	/* A bad escape elsewhere is not this key's business. */
	CHECK(lang_query_get("x=%zz&page=2", "page", out, sizeof(out)) == 1 &&
	    strcmp(out, "2") == 0);
	CHECK(lang_query_get("q=%3Cscript%3E", "q", out, sizeof(out)) == 1 &&
	    strcmp(out, "<script>") == 0);
}

int
main(void)
{
	CHECK(index_n_langs == 5 && index_n_langs <= INDEX_LANGS_MAX);
	test_lookup();
	test_negotiate();
	test_list();
	test_query();
	CHECK_DONE();
}
