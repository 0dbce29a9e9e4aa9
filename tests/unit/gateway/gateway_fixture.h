//  gateway_fixture - builds frames for the gateway's tests: valid signed
//  envelopes and subscribes and every way of getting one wrong, the other
//  client requests, and the worker's signed objects.
#ifndef GATEWAY_FIXTURE_H_INCLUDED
#define GATEWAY_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_account.h"

//  What goes into one ClientRequest{send}. gateway_fixture_valid gives a
//  request the gateway accepts; tests then spoil one field.
typedef struct {
    const tly_account_t *sender;    //  signs the envelope
    uint8_t inbox [TLY_KEY_BYTES];  //  worker the envelope is addressed to
    int64_t timestamp_ms;
    size_t messages;         //  createAccount messages in the envelope
    size_t id_bytes;         //  bytes of each message id (at most 16)
    size_t signature_bytes;  //  bytes of signature sent (at most 64)
    bool duplicate_id;       //  the last message repeats the first id
    bool no_body;            //  the last message has no body
    bool nul_item;           //  the last message is a buy of item "ab\0cd" (a NUL inside)
    bool forge;              //  flip one bit of the signature
    //  When set, the last message is a credit of this account's key (its
    //  first credit_bytes bytes).
    const uint8_t *credit;
    size_t credit_bytes;
} gateway_fixture_t;

gateway_fixture_t gateway_fixture_valid (const tly_account_t *sender,
                                         const uint8_t inbox [TLY_KEY_BYTES], int64_t timestamp_ms);
//  Packs ClientRequest{request_id, send}. Message ids are random. The caller
//  frees the returned buffer; *size receives its length.
uint8_t *gateway_fixture_send (const gateway_fixture_t *spec, uint64_t request_id, size_t *size);
//  Packs ClientRequest{request_id, status}.
uint8_t *gateway_fixture_status (uint64_t request_id, size_t *size);

//  What goes into one ClientRequest{subscribe}, as for a send.
typedef struct {
    const tly_account_t *reader;  //  signs the Subscribe
    const char *object_id;
    int64_t timestamp_ms;
    size_t reader_bytes;     //  bytes of reader key sent (at most 32)
    size_t signature_bytes;  //  bytes of signature sent (at most 64)
    bool forge;              //  flip one bit of the signature
    bool garbage;            //  subscribe bytes that do not decode
} gateway_fixture_subscribe_t;

gateway_fixture_subscribe_t gateway_fixture_subscribe_valid (const tly_account_t *reader,
                                                             const char *object_id,
                                                             int64_t timestamp_ms);
//  Packs ClientRequest{request_id, subscribe}.
uint8_t *gateway_fixture_subscribe (const gateway_fixture_subscribe_t *spec, uint64_t request_id,
                                    size_t *size);
//  Packs ClientRequest{request_id, unsubscribe{object_id}}.
uint8_t *gateway_fixture_unsubscribe (const char *object_id, uint64_t request_id, size_t *size);
//  Packs ClientRequest{request_id, ping}.
uint8_t *gateway_fixture_ping (uint64_t request_id, size_t *size);
//  Packs a SignedObject: version `version` of a UserBalance object_id of
//  user, with balance = version, signed by worker.
uint8_t *gateway_fixture_object (const tly_account_t *worker, const tly_account_t *user,
                                 const char *object_id, uint64_t version, size_t *size);

#endif
