//  tly_sign - envelope signatures (Ed25519) and record hashes (BLAKE2b-256).
#include "tly_sign.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

_Static_assert(TLY_SECRET_KEY_BYTES == crypto_sign_SECRETKEYBYTES, "libsodium's secret key");
_Static_assert(TLY_SIGNATURE_BYTES == crypto_sign_BYTES, "libsodium's signature");
_Static_assert(TLY_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "libsodium's public key");

//  Domain tags, signed with their NUL: a signature for one purpose is never
//  valid for another.
static const char *s_domain_tags [] = { "tally/envelope/v1", "tally/object/v1",
                                        "tally/subscribe/v1", "tally/checkpoint/v1",
                                        "tally/snapshot/v1" };
static const char s_record_key [] = "tally/record/v1";  //  15 bytes, no NUL

//  Ed25519 proper (not Ed25519ph) over tag || bytes: the message is
//  assembled in one buffer so any Ed25519 implementation can verify it.
static uint8_t *
s_tagged (tly_domain_t domain, const uint8_t *bytes, size_t size, size_t *tagged_size)
{
    assert (domain >= TLY_DOMAIN_ENVELOPE && domain <= TLY_DOMAIN_SNAPSHOT);
    const char *tag = s_domain_tags [domain];
    size_t tag_size = strlen (tag) + 1;
    *tagged_size = tag_size + size;
    uint8_t *tagged = malloc (*tagged_size);
    assert (tagged);
    memcpy (tagged, tag, tag_size);
    if (size)
        memcpy (tagged + tag_size, bytes, size);
    return tagged;
}

void
tly_sign_domain (tly_domain_t domain, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
                 const uint8_t *bytes, size_t size, uint8_t signature [TLY_SIGNATURE_BYTES])
{
    size_t tagged_size;
    uint8_t *tagged = s_tagged (domain, bytes, size, &tagged_size);
    int rc = crypto_sign_detached (signature, NULL, tagged, tagged_size, sign_sk);
    assert (rc == 0);
    free (tagged);
}

bool
tly_verify_domain (tly_domain_t domain, const uint8_t sign_pk [TLY_KEY_BYTES], const uint8_t *bytes,
                   size_t size, const uint8_t *signature, size_t signature_size)
{
    if (signature_size != TLY_SIGNATURE_BYTES)
        return false;
    size_t tagged_size;
    uint8_t *tagged = s_tagged (domain, bytes, size, &tagged_size);
    bool valid = crypto_sign_verify_detached (signature, tagged, tagged_size, sign_pk) == 0;
    free (tagged);
    return valid;
}

void
tly_sign_envelope (const uint8_t sign_sk [TLY_SECRET_KEY_BYTES], const uint8_t *envelope,
                   size_t size, uint8_t signature [TLY_SIGNATURE_BYTES])
{
    tly_sign_domain (TLY_DOMAIN_ENVELOPE, sign_sk, envelope, size, signature);
}

bool
tly_verify_envelope (const uint8_t sign_pk [TLY_KEY_BYTES], const uint8_t *envelope, size_t size,
                     const uint8_t *signature, size_t signature_size)
{
    return tly_verify_domain (TLY_DOMAIN_ENVELOPE, sign_pk, envelope, size, signature,
                              signature_size);
}

void
tly_record_hash (const uint8_t *body, size_t size, uint8_t hash [TLY_HASH_BYTES])
{
    int rc = crypto_generichash (hash, TLY_HASH_BYTES, body, size,
                                 (const unsigned char *) s_record_key, sizeof s_record_key - 1);
    assert (rc == 0);
}
