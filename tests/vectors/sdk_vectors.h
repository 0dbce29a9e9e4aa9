//  sdk_vectors - what the parts of the vectors program share: the accounts
//  of fixed keys, an envelope of fixed messages, the hex and message ID
//  helpers, the signed objects' common parts, and the functions each file
//  gives the other. sdk_vectors.c makes the accounts, IDs, envelopes and
//  the balance object and prints the whole; sdk_vectors_money.c makes the
//  credit and debit, configuration, refund and order vectors. Names shared between
//  the files start vec_.
#ifndef SDK_VECTORS_H_INCLUDED
#define SDK_VECTORS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tally.h"
#include "tly_codec.h"
#include "tly_message_id.h"
#include "tly_object.h"

//  The partition counts each account's IDs are given for.
extern const uint32_t vec_counts [];
#define VEC_COUNTS 3

//  One account of the vectors: its keys from fixed bytes (test keys only).
typedef struct {
    const char *name;
    uint8_t seed_first;    //  the Ed25519 seed is first, first + 1, ...
    uint8_t sealer_first;  //  the X25519 secret likewise
    tly_account_t account;
    char id [TLY_ID_MAX];
} vec_account_t;

extern vec_account_t vec_accounts [];
#define VEC_ACCOUNTS 3
#define VEC_ALICE    (&vec_accounts [0])
#define VEC_BOB      (&vec_accounts [1])
#define VEC_WORKER   (&vec_accounts [2])

//  One envelope of the vectors: its messages are made here, with IDs of
//  fixed time and random part.
typedef struct {
    const char *name;
    const vec_account_t *sender;
    int64_t timestamp_ms;
    uint64_t request_id;
    size_t count;
    tly_msg_t msgs [4];
} vec_envelope_t;

//  An object the worker signs for a user's group: its value, its group of
//  one member, and its state naming both. The caller sets the value's kind.
typedef struct {
    Tally__ObjectValue value;
    Tally__GroupMember member;
    Tally__GroupMember *members [1];
    Tally__Group group;
    Tally__ObjectState state;
} vec_object_t;

void vec_hex (FILE *out, const uint8_t *data, size_t size);
//  A message ID of time_ms whose random part is first, first + 1, ...
void vec_message_id (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t time_ms, uint8_t first);
//  The object of object_id at version, updated at updated_ms, in its group.
void vec_object_init (vec_object_t *self, const char *object_id, uint64_t version,
                      int64_t updated_ms);
//  The object's first JSON line: the worker, its ID, kind, version and time.
void vec_print_object_head (FILE *out, const char *kind, const Tally__ObjectState *state);
void vec_print_group (FILE *out, const char *label, const vec_account_t *user, Tally__Group *group,
                      Tally__GroupMember *member, char *group_id);
void vec_print_signed (FILE *out, const Tally__ObjectState *state, const char *expected_id,
                       bool last);

//  sdk_vectors_money.c: the credit and debit, configuration and refund
//  vectors.
void vec_print_adjustment_ids (FILE *out);
//  The messages of envelopes 4 to 8 (credits and debits, the largest
//  reference and note, admins and prices, a buy at the catalog price,
//  refunds).
void vec_money_messages (vec_envelope_t *envelopes, int64_t now);
//  The messages of envelopes 9 and 10: alice's order messages (create,
//  edit, submit) and the worker's (complete, fail).
void vec_order_messages (vec_envelope_t *envelopes, int64_t now);
void vec_print_history_objects (FILE *out);
void vec_print_catalog_object (FILE *out);
void vec_print_purchase_object (FILE *out);

#endif
