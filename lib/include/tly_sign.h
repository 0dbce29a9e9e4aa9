//  tly_sign - the envelope signature and the journal record hash.
//  Signature: Ed25519 over "tally/envelope/v1" 0x00 || envelope bytes.
//  Record hash: BLAKE2b-256 keyed with "tally/record/v1" over the record body.
#ifndef TLY_SIGN_H_INCLUDED
#define TLY_SIGN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_limits.h"

//  Signature domains: each signs "tally/<name>/v1" 0x00 || bytes, so a
//  signature made for one purpose is never valid for another.
typedef enum {
    TLY_DOMAIN_ENVELOPE = 0,    //  "tally/envelope/v1": a sender's inbox envelope
    TLY_DOMAIN_OBJECT = 1,      //  "tally/object/v1": the worker's ObjectState
    TLY_DOMAIN_SUBSCRIBE = 2,   //  "tally/subscribe/v1": a reader's Subscribe
    TLY_DOMAIN_CHECKPOINT = 3,  //  "tally/checkpoint/v1": the writer's Checkpoint
    TLY_DOMAIN_SNAPSHOT = 4     //  "tally/snapshot/v1": the writer's SnapshotHeader
} tly_domain_t;

void tly_sign_domain (tly_domain_t domain, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
                      const uint8_t *bytes, size_t size, uint8_t signature [TLY_SIGNATURE_BYTES]);
bool tly_verify_domain (tly_domain_t domain, const uint8_t sign_pk [TLY_KEY_BYTES],
                        const uint8_t *bytes, size_t size, const uint8_t *signature,
                        size_t signature_size);

//  The envelope domain.
void tly_sign_envelope (const uint8_t sign_sk [TLY_SECRET_KEY_BYTES], const uint8_t *envelope,
                        size_t size, uint8_t signature [TLY_SIGNATURE_BYTES]);
//  Returns true only for a valid signature by sign_pk.
bool tly_verify_envelope (const uint8_t sign_pk [TLY_KEY_BYTES], const uint8_t *envelope,
                          size_t size, const uint8_t *signature, size_t signature_size);
void tly_record_hash (const uint8_t *body, size_t size, uint8_t hash [TLY_HASH_BYTES]);

//  A state snapshot's digest: BLAKE2b-256 keyed with "tally/snapshot/v1"
//  over each part's rows bytes in order (docs/journal.md).
#define TLY_SNAPSHOT_DIGEST_KEY "tally/snapshot/v1"

#endif
