/*
 * A provenance document comes from a peer (its hash is the signed
 * catalog's, but a publisher's key can be stolen) and its heads from
 * origins: the reader must hold, what it accepts must write back as
 * itself and be summed up; the head redaction and the recorder take any
 * bytes an origin sends.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provenance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc = prov_doc_read((const char *)data, size, err, sizeof(err)), *back, *sum;
	unsigned char *out = NULL;
	size_t outlen = 0, len;
	struct prov_capture *c;
	char *s;

	if (doc != NULL) {
		/* What is accepted writes back as a document that reads the same. */
		if ((s = prov_doc_dump(doc, &len)) == NULL)
			__builtin_trap();
		if ((back = prov_doc_read(s, len, err, sizeof(err))) == NULL ||
		    !json_equal(back, doc))
			__builtin_trap();
		sum = prov_summary(doc);
		if (sum == NULL)
			__builtin_trap();
		json_decref(sum);
		json_decref(back);
		free(s);
		json_decref(doc);
	}
	/* The same bytes as an origin's heads. */
	for (int req = 0; req < 2; req++) {
		if (prov_redact_head(data, size, req, SOURCE_URLS_ORIGIN, &out, &outlen) == -1)
			continue;
		if (outlen > 0 && out == NULL)
			__builtin_trap();
		/* No credential survives: a redacted head redacts to itself. */
		{
			unsigned char *again = NULL;
			size_t alen = 0;
			if (prov_redact_head(out, outlen, req, SOURCE_URLS_ORIGIN, &again,
			    &alen) == 0 && (alen != outlen || (alen > 0 &&
			    memcmp(again, out, alen) != 0)))
				__builtin_trap();
			free(again);
		}
		free(out);
		out = NULL;
	}
	if ((c = prov_new(PROV_SEGMENT)) != NULL) {
		size_t half = size / 2;
		prov_debug_cb(NULL, CURLINFO_HEADER_OUT, (char *)data, half, c);
		prov_debug_cb(NULL, CURLINFO_HEADER_IN, (char *)data + half, size - half, c);
		prov_debug_cb(NULL, CURLINFO_HEADER_OUT, (char *)data, size, c);
		if ((doc = prov_capture_json(c, SOURCE_URLS_FULL)) != NULL)
			json_decref(doc);
		prov_free(c);
	}
	return 0;
}
