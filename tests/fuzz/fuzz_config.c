/*
 * libFuzzer target: the config parser and its value parsers on any bytes.
 * The folder does not exist, so relative cert and key paths fail the
 * readability check without touching the file system's contents.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config		 cfg;
	struct config_listen	 l;
	char			 err[512];
	char			*s;
	uint64_t		 u;
	int			 b;

	/* config_load_string() takes a C string: bytes after a NUL are
	 * simply not seen. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (config_load_string(s, "fuzz.conf", "/nonexistent-fuzz-dir", &cfg,
	    err, sizeof(err)) == -1 && memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	config_free(&cfg);

	(void)config_parse_size(s, &u);
	(void)config_parse_duration(s, &u);
	(void)config_parse_bool(s, &b);
	if (config_parse_listen(s, &l) == 0) {
		if (l.host == NULL || l.text == NULL || l.port < 1 ||
		    l.port > 65535)
			abort();
		free(l.host);
		free(l.text);
	}

	free(s);
	return 0;
}
