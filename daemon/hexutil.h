/*
 * Hex for digests: the store's object ids and the metadata's pieces are
 * hex on disk and in URLs.
 */

#ifndef EMBERD_HEXUTIL_H
#define EMBERD_HEXUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of LEN bytes into OUT (2*LEN+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int hex_value(char c);
/* Decode LEN hex digits (even) into OUT. -1 on a bad digit. */
int hex_decode(const char *in, size_t len, uint8_t *out);

#endif
