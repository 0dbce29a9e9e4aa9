//  tly_id - accounts, secrets, object IDs and partitions.
//
//  Account ID:  "co_z" + base58(Ed25519 public key)
//  Secret:      "sealerSecret_z" + base58(X25519 secret) + "/signerSecret_z" + base58(Ed25519 seed)
//  Object ID:   "co_z" + base58(kind(1) | partition(2, big endian) | 16 bytes)
//  partition(account) = little-endian u64 of the first 8 bytes of
//                       BLAKE2b-256(account ID text) mod partition_count
#ifndef TLY_ID_H_INCLUDED
#define TLY_ID_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_limits.h"

typedef struct {
    uint8_t sign_pk [TLY_KEY_BYTES];
    uint8_t sign_sk [64];               //  libsodium form: seed | public key
    uint8_t box_pk [TLY_KEY_BYTES];
    uint8_t box_sk [TLY_KEY_BYTES];
} tly_account_t;

typedef enum {
    TLY_OBJ_BALANCE = 1,
    TLY_OBJ_PURCHASE = 2,
    TLY_OBJ_ROOT = 3,
    TLY_OBJ_GROUP = 4,
    TLY_OBJ_PURCHASE_LOG = 5,
    TLY_OBJ_SERVICE = 6
} tly_object_kind_t;

//  Base58 (Bitcoin alphabet). Encode writes a NUL-terminated string; returns its
//  length or -1 if out is too small. Decode returns the byte count or -1.
int  tly_base58_encode (const uint8_t *data, size_t size, char *out, size_t out_size);
int  tly_base58_decode (const char *text, uint8_t *out, size_t out_size);

//  Fresh random key pairs. Returns 0 or -1 (libsodium failure).
int  tly_account_generate (tly_account_t *account);
//  Formats the account ID into out (TLY_ID_MAX bytes).
void tly_account_id (const uint8_t sign_pk [TLY_KEY_BYTES], char *out);
//  Formats the secret into out (TLY_SECRET_MAX bytes).
void tly_account_secret (const tly_account_t *account, char *out);
//  Parses "co_z..." into a public key. Returns 0 or -1.
int  tly_account_id_parse (const char *text, uint8_t sign_pk [TLY_KEY_BYTES]);
//  Parses a secret and rebuilds every key. When account_id is not NULL the
//  secret must belong to it. Returns 0, or -1 with a reason in error (size 128).
int  tly_account_parse (const char *account_id, const char *secret,
                        tly_account_t *account, char *error, size_t error_size);
//  Reads an account from two environment variables (or from explicit values,
//  which win when not NULL). On failure writes one line naming the variable.
int  tly_account_from_env (const char *id_var, const char *secret_var,
                           const char *id_value, const char *secret_value,
                           tly_account_t *account, char *error, size_t error_size);
//  Loads {"account":..,"secret":..,"name":..} from a file.
int  tly_account_from_file (const char *path, tly_account_t *account,
                            char *error, size_t error_size);

uint32_t tly_partition_of (const uint8_t sign_pk [TLY_KEY_BYTES], uint32_t partition_count);
//  The same from the account ID text, for callers that already formatted it.
uint32_t tly_partition_of_id (const char *account_id, uint32_t partition_count);

//  Object IDs carry their partition so any process can route them.
void tly_object_id (tly_object_kind_t kind, uint32_t partition,
                    const uint8_t tail [16], char *out);
//  Returns 0 and fills kind/partition (either may be NULL), or -1.
int  tly_object_id_parse (const char *text, tly_object_kind_t *kind, uint32_t *partition,
                          uint8_t tail [16]);

//  Derived object IDs. The raw key of an ID is kind | partition (2 bytes, big
//  endian) | the first 16 bytes of BLAKE2b-256(label || key_of [|| extra]),
//  where extra is a 16-byte message ID or absent. The labels are part of
//  the protocol (docs/protocol.md): every process derives the same IDs.
#define TLY_OBJECT_KEY_BYTES     19
#define TLY_LABEL_BALANCE        "balance"
#define TLY_LABEL_ROOT           "root"
#define TLY_LABEL_PURCHASES      "purchases"
#define TLY_LABEL_PURCHASE       "purchase"
#define TLY_LABEL_GROUP          "group"            //  the user's purchases group
#define TLY_LABEL_BALANCE_GROUP  "balance-group"
#define TLY_LABEL_ROOT_GROUP     "root-group"
#define TLY_LABEL_SERVICE        "service"
#define TLY_LABEL_SERVICE_GROUP  "service-group"

void tly_derived_key (tly_object_kind_t kind, uint32_t partition, const char *label,
                      const uint8_t key_of [TLY_KEY_BYTES], const uint8_t *extra,
                      uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  The co_z text of a raw object key, into out (TLY_ID_MAX bytes).
void tly_object_id_of_key (const uint8_t key [TLY_OBJECT_KEY_BYTES], char *out);

//  The ID of a user's one object of a kind (BALANCE, ROOT, PURCHASE_LOG, or
//  GROUP for the group of their purchase records): tail = first 16 bytes of
//  BLAKE2b-256(label || user key), label "balance", "root", "purchases", "group".
void tly_user_object_id (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES],
                         uint32_t partition_count, char *out);
//  The ServiceInfo object: partition 0, tail = BLAKE2b-256("service" || worker key).
void tly_service_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out);

void tly_id_test (bool verbose);

#endif
