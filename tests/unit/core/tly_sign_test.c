//  tly_sign_test - domain-tagged signatures and keyed record hashes.
#include "tly_sign.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void
tly_sign_test (bool verbose)
{
    if (verbose)
        printf (" * tly_sign: ");
    assert (sodium_init () >= 0);
    unsigned char pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    const uint8_t body [] = "envelope bytes";
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_envelope (sk, body, sizeof body, signature);
    assert (tly_verify_envelope (pk, body, sizeof body, signature, sizeof signature));

    //  Any flipped bit of body or signature, or a short signature, fails.
    uint8_t forged [sizeof body];
    memcpy (forged, body, sizeof body);
    forged [3] ^= 1;
    assert (!tly_verify_envelope (pk, forged, sizeof forged, signature, sizeof signature));
    signature [10] ^= 0x80;
    assert (!tly_verify_envelope (pk, body, sizeof body, signature, sizeof signature));
    signature [10] ^= 0x80;
    assert (!tly_verify_envelope (pk, body, sizeof body, signature, 63));

    //  The tag is part of the signed message: a plain signature of the body fails.
    uint8_t plain [TLY_SIGNATURE_BYTES];
    crypto_sign_detached (plain, NULL, body, sizeof body, sk);
    assert (!tly_verify_envelope (pk, body, sizeof body, plain, sizeof plain));

    //  A signature in one domain is not valid in another.
    assert (
        !tly_verify_domain (TLY_DOMAIN_OBJECT, pk, body, sizeof body, signature, sizeof signature));
    uint8_t object_sig [TLY_SIGNATURE_BYTES];
    tly_sign_domain (TLY_DOMAIN_OBJECT, sk, body, sizeof body, object_sig);
    assert (tly_verify_domain (TLY_DOMAIN_OBJECT, pk, body, sizeof body, object_sig,
                               sizeof object_sig));
    assert (!tly_verify_domain (TLY_DOMAIN_SUBSCRIBE, pk, body, sizeof body, object_sig,
                                sizeof object_sig));
    assert (!tly_verify_envelope (pk, body, sizeof body, object_sig, sizeof object_sig));

    //  Another key fails.
    unsigned char pk2 [crypto_sign_PUBLICKEYBYTES], sk2 [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk2, sk2);
    assert (!tly_verify_envelope (pk2, body, sizeof body, signature, sizeof signature));

    //  Hashes are deterministic and keyed.
    uint8_t h1 [TLY_HASH_BYTES], h2 [TLY_HASH_BYTES], unkeyed [TLY_HASH_BYTES];
    tly_record_hash (body, sizeof body, h1);
    tly_record_hash (body, sizeof body, h2);
    assert (memcmp (h1, h2, sizeof h1) == 0);
    crypto_generichash (unkeyed, sizeof unkeyed, body, sizeof body, NULL, 0);
    assert (memcmp (h1, unkeyed, sizeof h1) != 0);
    tly_record_hash (forged, sizeof forged, h2);
    assert (memcmp (h1, h2, sizeof h1) != 0);
    if (verbose)
        printf ("OK\n");
}
