//  tly_account_test - IDs and secrets round-trip; malformed ones are refused with a reason.
#include "tly_account.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void
tly_account_test (bool verbose)
{
    if (verbose)
        printf (" * tly_account: ");
    assert (sodium_init () >= 0);

    //  Accounts: ID and secret round trip, and the secret rebuilds every key.
    tly_account_t account, parsed;
    assert (tly_account_generate (&account) == 0);
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX], error [128];
    tly_account_id (account.sign_pk, id);
    tly_account_secret (&account, secret);
    assert (strncmp (id, "co_z", 4) == 0);
    assert (strncmp (secret, "sealerSecret_z", 14) == 0 && strstr (secret, "/signerSecret_z"));
    uint8_t key [TLY_KEY_BYTES];
    assert (tly_account_id_parse (id, key) == 0 && memcmp (key, account.sign_pk, 32) == 0);
    assert (tly_account_parse (id, secret, &parsed, error, sizeof error) == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    assert (tly_account_parse (NULL, secret, &parsed, error, sizeof error) == 0);

    //  Malformed IDs and secrets are refused with a reason.
    assert (tly_account_id_parse ("co_x123", key) == -1);
    assert (tly_account_id_parse ("co_z", key) == -1);
    assert (tly_account_id_parse ("co_z111", key) == -1);
    assert (tly_account_id_parse (NULL, key) == -1);
    assert (tly_account_parse (id, "nonsense", &parsed, error, sizeof error) == -1);
    assert (strstr (error, "sealerSecret"));
    tly_account_t other;
    tly_account_generate (&other);
    char other_id [TLY_ID_MAX];
    tly_account_id (other.sign_pk, other_id);
    assert (tly_account_parse (other_id, secret, &parsed, error, sizeof error) == -1);
    assert (strstr (error, "does not belong"));
    if (verbose)
        printf ("OK\n");
}
