/* The languages of the index page (index_strings.h). The order is the
 * default of [mirror] languages: the first is the fallback. */
#include "index_strings.h"

extern const struct index_strings lang_en, lang_zh_hans, lang_zh_hant,
    lang_ru, lang_fa;

const struct index_strings *const index_langs[] = {
	&lang_en,
	&lang_zh_hans,
	&lang_zh_hant,
	&lang_ru,
	&lang_fa,
};

const size_t index_n_langs = sizeof(index_langs) / sizeof(index_langs[0]);
