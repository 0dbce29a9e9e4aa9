//  fuzz_support - what the fuzz targets and the corpus generator share: the
//  fixed test accounts (a worker and four clients, from fixed seeds) that the
//  seed corpus was made with, so that a target can sign again what the
//  fuzzer changed and reach the checks behind a signature; and inputs made
//  of chunks, for targets that take a sequence of messages.
//
//  A chunk is tag (1 byte) | size (2 bytes, little endian) | size bytes. A
//  last chunk cut short takes what is left, so that every input is one.
//
//      fuzz_input_t input = { data, data + size };
//      fuzz_chunk_t chunk;
//      while (fuzz_chunk_next (&input, &chunk))
//          ... chunk.tag, chunk.data, chunk.size ...
#ifndef FUZZ_SUPPORT_H_INCLUDED
#define FUZZ_SUPPORT_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tly_account.h"
#include "tly_sign.h"

//  The test accounts. Their secrets are in the tree on purpose: they sign
//  nothing but the corpus.
typedef enum {
    FUZZ_WORKER = 0,    //  the `tally up` worker the corpus was captured from
    FUZZ_CLIENT_A = 1,  //  the clients that made the traffic
    FUZZ_CLIENT_B = 2,
    FUZZ_CLIENT_C = 3,  //  the orders' user (partition 2 of 4)
    FUZZ_CLIENT_D = 4,  //  the user at the open orders' limit (partition 3 of 4)
    FUZZ_ACCOUNTS = 5
} fuzz_account_t;

//  The account's key pairs (made once, then the same every call).
const tly_account_t *fuzz_account (fuzz_account_t which);
//  The test account whose public key is sign_pk, or NULL.
const tly_account_t *fuzz_account_of (const uint8_t sign_pk [TLY_KEY_BYTES]);

typedef struct {
    const uint8_t *at;
    const uint8_t *end;
} fuzz_input_t;

typedef struct {
    uint8_t tag;
    const uint8_t *data;
    size_t size;
} fuzz_chunk_t;

#define FUZZ_CHUNK_MAX 0xffff

//  The next chunk of input. Returns false when none is left.
bool fuzz_chunk_next (fuzz_input_t *input, fuzz_chunk_t *chunk);
//  Writes one chunk (size at most FUZZ_CHUNK_MAX). Returns 0 or -1.
int fuzz_chunk_write (FILE *file, uint8_t tag, const uint8_t *data, size_t size);

//  Replaces a bytes field with a fresh malloc'd copy of data (the old bytes
//  freed), so that a message from protobuf-c's unpack stays freeable.
void fuzz_set_bytes (ProtobufCBinaryData *field, const uint8_t *data, size_t size);
//  Signs bytes in domain with account and stores the signature in field
//  (as fuzz_set_bytes does).
void fuzz_sign_into (ProtobufCBinaryData *field, tly_domain_t domain, const tly_account_t *account,
                     const uint8_t *bytes, size_t size);
//  Packs message into a fresh malloc'd buffer; *size_p its size.
uint8_t *fuzz_pack (const ProtobufCMessage *message, size_t *size_p);

//  True when text [0..size) holds a NUL: a C string that fits its buffer.
bool fuzz_terminated (const char *text, size_t size);

#endif
