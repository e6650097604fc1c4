/* catalog.json comes from untrusted peers (after its signature checks,
 * but a publisher's key can be stolen): the parser must hold. */
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
	size_t i;

	if (cat == NULL)
		return 0;
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
