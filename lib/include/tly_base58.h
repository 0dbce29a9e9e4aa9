//  tly_base58 - base58 text (Bitcoin alphabet), the form of every ID and
//  secret tally prints: account and object IDs are TLY_ID_PREFIX + base58 of
//  their bytes.
#ifndef TLY_BASE58_H_INCLUDED
#define TLY_BASE58_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLY_ID_PREFIX          "co_z"  //  every account and object ID
#define TLY_BASE58_INPUT_MAX   64      //  longest byte string tally encodes
//  Most base58 characters (no NUL) of size bytes: log 256 / log 58 < 1.38.
#define TLY_BASE58_CHARS(size) ((size) *138 / 100 + 1)

//  Encode writes a NUL-terminated string; returns its length or -1 if out
//  is too small. size is at most TLY_BASE58_INPUT_MAX.
int tly_base58_encode (const uint8_t *data, size_t size, char *out, size_t out_size);
//  Returns the byte count or -1.
int tly_base58_decode (const char *text, uint8_t *out, size_t out_size);
//  Decodes text_size characters of text that must be prefix + base58 of
//  exactly size bytes. Returns 0 or -1.
int tly_base58_decode_prefixed (const char *text, size_t text_size, const char *prefix,
                                uint8_t *out, size_t size);

#endif
