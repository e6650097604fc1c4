/* Accept-Language and the query string of "/" are a stranger's bytes:
 * the first five bytes pick a languages list, the rest is a header
 * value and a query. Whatever they hold, the language chosen is one of
 * the list, a query value is NUL-free and fits, and nothing reads past
 * the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_strings.h"
#include "lang_negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *keys[] = { "q", "lang", "page" };
	int allowed[5], l;
	char *s, out[64];
	const char *bad;
	size_t i, n = 0, badlen;
	int r;

	if (size < 5 || size > 16384)
		return 0;
	for (i = 0; i < 5; i++)
		if (data[i] < index_n_langs) {
			allowed[n] = data[i];
			n++;
		}
	if (n == 0)
		allowed[n++] = 0;
	if ((s = malloc(size - 5 + 1)) == NULL)
		return 0;
	memcpy(s, data + 5, size - 5);
	s[size - 5] = '\0';

	l = lang_negotiate(s, allowed, n);
	for (i = 0; i < n && allowed[i] != l; i++)
		;
	if (i == n)
		__builtin_trap();
	if ((l = lang_lookup(s, size - 5)) < -1 || l >= (int)index_n_langs)
		__builtin_trap();
	for (i = 0; i < 3; i++) {
		r = lang_query_get(s, keys[i], out, sizeof(out));
		if (r < -1 || r > 1 ||
		    (r == 1 && strlen(out) >= sizeof(out)))
			__builtin_trap();
		if (r == 0 && out[0] != '\0')
			__builtin_trap();
	}
	if ((r = lang_list_parse(s, allowed, 5, &bad, &badlen)) > 5 ||
	    (r == -1 && (bad < s || bad + badlen > s + (size - 5))))
		__builtin_trap();
	free(s);
	return 0;
}
