//  tly_account - an account's key pairs and their text forms.
//
//  Account ID:  "co_z" + base58(Ed25519 public key)
//  Secret:      "sealerSecret_z" + base58(X25519 secret) + "/signerSecret_z" + base58(Ed25519 seed)
#ifndef TLY_ACCOUNT_H_INCLUDED
#define TLY_ACCOUNT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_base58.h"
#include "tly_limits.h"

#define TLY_SEALER_PREFIX "sealerSecret_z"
#define TLY_SIGNER_PREFIX "signerSecret_z"
#define TLY_SEED_BYTES    32  //  Ed25519 seed, the signer part of a secret

_Static_assert(TLY_KEY_BYTES <= TLY_BASE58_INPUT_MAX && TLY_SEED_BYTES <= TLY_BASE58_INPUT_MAX,
               "keys are within what base58 encodes");
_Static_assert(sizeof TLY_ID_PREFIX - 1 + TLY_BASE58_CHARS (TLY_KEY_BYTES) + 1 <= TLY_ID_MAX,
               "an account ID and its NUL fit TLY_ID_MAX");
_Static_assert(sizeof TLY_SEALER_PREFIX - 1 + TLY_BASE58_CHARS (TLY_KEY_BYTES) + 1
                       + sizeof TLY_SIGNER_PREFIX - 1 + TLY_BASE58_CHARS (TLY_SEED_BYTES) + 1
                   <= TLY_SECRET_MAX,
               "a secret and its NUL fit TLY_SECRET_MAX");

typedef struct {
    uint8_t sign_pk [TLY_KEY_BYTES];
    uint8_t sign_sk [TLY_SECRET_KEY_BYTES];  //  libsodium form: seed | public key
    uint8_t box_pk [TLY_KEY_BYTES];
    uint8_t box_sk [TLY_KEY_BYTES];
} tly_account_t;

//  Fresh random key pairs. Returns 0 or -1 (libsodium failure).
int tly_account_generate (tly_account_t *account);
//  Formats the account ID into out (TLY_ID_MAX bytes).
void tly_account_id (const uint8_t sign_pk [TLY_KEY_BYTES], char *out);
//  Formats the secret into out (TLY_SECRET_MAX bytes).
void tly_account_secret (const tly_account_t *account, char *out);
//  Parses "co_z..." into a public key. Returns 0 or -1.
int tly_account_id_parse (const char *text, uint8_t sign_pk [TLY_KEY_BYTES]);
//  Parses a secret and rebuilds every key. When account_id is not NULL the
//  secret must belong to it. Returns 0, or -1 with a reason in error (size 128).
int tly_account_parse (const char *account_id, const char *secret, tly_account_t *account,
                       char *error, size_t error_size);

#endif
