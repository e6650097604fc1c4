/* catalog.json comes from untrusted peers (after its signature checks,
 * but a publisher's key can be stolen): the parser must hold, and what it
 * accepts of "expires" and "previous" must mean what readers take it to. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "catalog.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *cat = catalog_parse((const char *)data, size, err, sizeof(err));
	json_t *v;
	const char *s;
	char back[32];
	int64_t t;
	size_t i;

	if (cat == NULL)
		return 0;
	/* An accepted expiry is one instant written one way: it reads back
	 * as itself, so no two readers can disagree on freshness. */
	if ((v = json_object_get(cat, "expires")) != NULL) {
		if ((s = json_string_value(v)) == NULL || catalog_expires(cat, &t) != 1)
			__builtin_trap();
		catalog_time(t, back);
		if (strcmp(back, s) != 0)
			__builtin_trap();
	}
	if ((v = json_object_get(cat, "previous")) != NULL &&
	    ((s = json_string_value(v)) == NULL || !name_is_sha256_hex(s, strlen(s))))
		__builtin_trap();
	/* Whatever parses must satisfy what the server relies on. */
	json_array_foreach(json_object_get(cat, "items"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *sha = json_string_value(json_object_get(v, "sha256"));
		if (name == NULL || name_check(name, strlen(name)) != NULL ||
		    sha == NULL || !name_is_sha256_hex(sha, strlen(sha)))
			__builtin_trap();
	}
	json_decref(cat);
	return 0;
}
