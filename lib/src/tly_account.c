//  tly_account - key pairs, account IDs and secrets.
#include "tly_account.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int
tly_account_generate (tly_account_t *account)
{
    if (sodium_init () < 0)
        return -1;
    crypto_sign_keypair (account->sign_pk, account->sign_sk);
    crypto_box_keypair (account->box_pk, account->box_sk);
    return 0;
}

void
tly_account_id (const uint8_t sign_pk [TLY_KEY_BYTES], char *out)
{
    memcpy (out, TLY_ID_PREFIX, sizeof TLY_ID_PREFIX);
    int rc = tly_base58_encode (sign_pk, TLY_KEY_BYTES, out + strlen (TLY_ID_PREFIX),
                                TLY_ID_MAX - strlen (TLY_ID_PREFIX));
    assert (rc > 0);
}

void
tly_account_secret (const tly_account_t *account, char *out)
{
    char sealer [TLY_ID_MAX], signer [TLY_ID_MAX];
    int rc = tly_base58_encode (account->box_sk, TLY_KEY_BYTES, sealer, sizeof sealer);
    assert (rc > 0);
    rc = tly_base58_encode (account->sign_sk, TLY_SEED_BYTES, signer, sizeof signer);
    assert (rc > 0);
    snprintf (out, TLY_SECRET_MAX, "%s%s/%s%s", TLY_SEALER_PREFIX, sealer, TLY_SIGNER_PREFIX,
              signer);
}

int
tly_account_id_parse (const char *text, uint8_t sign_pk [TLY_KEY_BYTES])
{
    if (!text)
        return -1;
    uint8_t key [TLY_KEY_BYTES];
    if (tly_base58_decode_prefixed (text, strlen (text), TLY_ID_PREFIX, key, sizeof key) == -1)
        return -1;
    //  A point that is not on the curve can never verify a signature.
    if (crypto_core_ed25519_is_valid_point (key) != 1)
        return -1;
    memcpy (sign_pk, key, sizeof key);
    return 0;
}

int
tly_account_parse (const char *account_id, const char *secret, tly_account_t *account, char *error,
                   size_t error_size)
{
    if (sodium_init () < 0) {
        snprintf (error, error_size, "libsodium failed to initialise");
        return -1;
    }
    const char *slash = secret ? strchr (secret, '/') : NULL;
    if (!slash) {
        snprintf (error, error_size, "expected sealerSecret_z.../signerSecret_z...");
        return -1;
    }
    uint8_t seed [TLY_SEED_BYTES];
    tly_account_t parsed;
    if (tly_base58_decode_prefixed (secret, (size_t) (slash - secret), TLY_SEALER_PREFIX,
                                    parsed.box_sk, sizeof parsed.box_sk)
        == -1) {
        snprintf (error, error_size, "sealer part is not sealerSecret_z + base58 of 32 bytes");
        return -1;
    }
    if (tly_base58_decode_prefixed (slash + 1, strlen (slash + 1), TLY_SIGNER_PREFIX, seed,
                                    sizeof seed)
        == -1) {
        snprintf (error, error_size, "signer part is not signerSecret_z + base58 of 32 bytes");
        return -1;
    }
    crypto_sign_seed_keypair (parsed.sign_pk, parsed.sign_sk, seed);
    crypto_scalarmult_base (parsed.box_pk, parsed.box_sk);
    sodium_memzero (seed, sizeof seed);
    if (account_id) {
        uint8_t expected [TLY_KEY_BYTES];
        if (tly_account_id_parse (account_id, expected) == -1) {
            snprintf (error, error_size, "account ID is not co_z + base58 of an Ed25519 key");
            return -1;
        }
        if (memcmp (expected, parsed.sign_pk, TLY_KEY_BYTES) != 0) {
            snprintf (error, error_size, "secret does not belong to account %s", account_id);
            return -1;
        }
    }
    *account = parsed;
    return 0;
}
