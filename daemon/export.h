/*
 * The static export (docs/protocol.md, "Static export"): the current
 * catalog and everything the HTTP contract serves from it, as files in a
 * folder that any static host can serve.
 */
#ifndef EMBERD_EXPORT_H
#define EMBERD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/*
 * Write or refresh the export of ST's current catalog in DIR (made when
 * missing; else empty or an earlier export of the same publisher). URL:
 * where DIR will be served (ends in '/'), or NULL. 0, or -1 with ERR;
 * on failure what DIR served before is still whole.
 */
int export_run(const struct config *cfg, struct store *st, const char *dir,
    const char *url, char *err, size_t errlen);

/*
 * Write ST's current catalog as WARC 1.1 to OUT (a .warc.gz file, or a
 * folder of them: warc.h), under OUT.partial until whole. URL as above,
 * for the target URIs of items added from files. 0, or -1 with ERR.
 */
int export_warc(struct store *st, const char *out, const char *url, char *err,
    size_t errlen);

/*
 * The head a response record carries for RESP, every head one request
 * received (an origin's bytes): the last (after an interim 1xx), as is
 * (*HEAD, *HLEN point into RESP), or rewritten into *OUT (heap, *NOTE
 * says why) when curl changed what follows it (decoded content, no
 * chunks: HAVE_PAYLOAD, PLEN bytes) or it was cut. 0, or -1 (memory).
 */
int export_warc_head(const unsigned char *resp, size_t len, int have_payload, uint64_t plen,
    unsigned char **out, size_t *outlen, const unsigned char **head, size_t *hlen,
    const char **note);

#endif
