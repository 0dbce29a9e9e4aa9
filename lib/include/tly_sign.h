//  tly_sign - the envelope signature and the journal record hash.
//  Signature: Ed25519 over "tally/envelope/v1" 0x00 || envelope bytes.
//  Record hash: BLAKE2b-256 keyed with "tally/record/v1" over the record body.
#ifndef TLY_SIGN_H_INCLUDED
#define TLY_SIGN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_limits.h"

void tly_sign_envelope (const uint8_t sign_sk [64], const uint8_t *envelope, size_t size,
                        uint8_t signature [TLY_SIGNATURE_BYTES]);
//  Returns true only for a valid signature by sign_pk.
bool tly_verify_envelope (const uint8_t sign_pk [TLY_KEY_BYTES], const uint8_t *envelope,
                          size_t size, const uint8_t *signature, size_t signature_size);
void tly_record_hash (const uint8_t *body, size_t size, uint8_t hash [TLY_HASH_BYTES]);

void tly_sign_test (bool verbose);

#endif
