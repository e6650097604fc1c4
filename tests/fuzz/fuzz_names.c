/* Item names arrive from peers' catalogs and from request paths. */
#include <stddef.h>
#include <stdint.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	if (name_check(s, size) == NULL && !name_utf8_valid(s, size))
		__builtin_trap();	/* a valid name is always valid UTF-8 */
	name_is_sha256_hex(s, size);
	return 0;
}
