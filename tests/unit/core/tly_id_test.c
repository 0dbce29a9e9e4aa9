//  tly_id_test - base58, accounts (IDs, secrets, environment, files), partitions
//  and object IDs.
#include "tly_id.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
tly_id_test (bool verbose)
{
    if (verbose)
        printf (" * tly_id: ");
    assert (sodium_init () >= 0);

    //  Base58 known vectors (Bitcoin alphabet), leading zeros and round trips.
    char text [128];
    uint8_t bytes [64];
    assert (tly_base58_encode ((const uint8_t *) "hello world", 11, text, sizeof text) == 15);
    assert (strcmp (text, "StV1DL6CwTryKyV") == 0);
    assert (tly_base58_decode ("StV1DL6CwTryKyV", bytes, sizeof bytes) == 11);
    assert (memcmp (bytes, "hello world", 11) == 0);
    assert (tly_base58_decode ("7YXq9G", bytes, sizeof bytes) == 4);
    assert (bytes [0] == 0xff && bytes [3] == 0xff);
    const uint8_t zeros [] = { 0, 0, 1 };
    tly_base58_encode (zeros, 3, text, sizeof text);
    assert (strcmp (text, "112") == 0);
    assert (tly_base58_decode ("112", bytes, sizeof bytes) == 3);
    assert (memcmp (bytes, zeros, 3) == 0);
    assert (tly_base58_decode ("0OIl", bytes, sizeof bytes) == -1);
    assert (tly_base58_decode ("", bytes, sizeof bytes) == -1);
    assert (tly_base58_encode ((const uint8_t *) "hello world", 11, text, 10) == -1);
    //  Every length with leading and inner zeros round-trips.
    for (size_t length = 1; length <= 64; length++) {
        uint8_t data [64];
        randombytes_buf (data, length);
        data [0] = length % 4 == 0 ? 0 : data [0];
        data [length / 2] = 0;
        assert (tly_base58_encode (data, length, text, sizeof text) > 0);
        assert (tly_base58_decode (text, bytes, sizeof bytes) == (int) length);
        assert (memcmp (bytes, data, length) == 0);
    }
    const uint8_t all_zero [4] = { 0 };
    assert (tly_base58_encode (all_zero, 4, text, sizeof text) == 4 && strcmp (text, "1111") == 0);
    const uint8_t big [4] = { 0xff, 0xff, 0xff, 0xff };
    tly_base58_encode (big, 4, text, sizeof text);
    assert (strcmp (text, "7YXq9G") == 0);
    for (int round = 0; round < 200; round++) {
        uint8_t data [32];
        randombytes_buf (data, sizeof data);
        data [0] = round % 3 == 0 ? 0 : data [0];
        tly_base58_encode (data, sizeof data, text, sizeof text);
        assert (tly_base58_decode (text, bytes, sizeof bytes) == 32);
        assert (memcmp (bytes, data, 32) == 0);
    }

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

    //  Environment: missing and malformed values name the variable.
    unsetenv ("TLY_TEST_ID");
    unsetenv ("TLY_TEST_SECRET");
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL,
                                  &parsed, error, sizeof error) == -1);
    assert (strstr (error, "TLY_TEST_ID is not set"));
    setenv ("TLY_TEST_ID", id, 1);
    setenv ("TLY_TEST_SECRET", "sealerSecret_zabc", 1);
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL,
                                  &parsed, error, sizeof error) == -1);
    assert (strstr (error, "TLY_TEST_SECRET is malformed"));
    setenv ("TLY_TEST_SECRET", secret, 1);
    assert (tly_account_from_env ("TLY_TEST_ID", "TLY_TEST_SECRET", NULL, NULL,
                                  &parsed, error, sizeof error) == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    unsetenv ("TLY_TEST_ID");
    unsetenv ("TLY_TEST_SECRET");

    //  Account file.
    char path [] = "/tmp/tly-id-test-XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    FILE *file = fdopen (fd, "w");
    fprintf (file, "{\"account\": \"%s\",\n \"secret\":\"%s\",\"name\":\"t\"}\n", id, secret);
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == 0);
    assert (memcmp (&parsed, &account, sizeof account) == 0);
    file = fopen (path, "w");
    fprintf (file, "{\"account\": \"%s\"}", id);
    fclose (file);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == -1);
    unlink (path);
    assert (tly_account_from_file (path, &parsed, error, sizeof error) == -1);
    assert (strstr (error, "cannot read"));

    //  Partitions are stable, in range and spread.
    unsigned counts [16] = { 0 };
    for (int round = 0; round < 1600; round++) {
        tly_account_t user;
        tly_account_generate (&user);
        uint32_t partition = tly_partition_of (user.sign_pk, 16);
        assert (partition < 16);
        assert (partition == tly_partition_of (user.sign_pk, 16));
        char user_id [TLY_ID_MAX];
        tly_account_id (user.sign_pk, user_id);
        assert (partition == tly_partition_of_id (user_id, 16));
        counts [partition]++;
    }
    for (int i = 0; i < 16; i++)
        assert (counts [i] > 50);

    //  Object IDs carry kind and partition.
    uint8_t tail [16], tail_back [16];
    randombytes_buf (tail, sizeof tail);
    char object [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_PURCHASE, 65535, tail, object);
    tly_object_kind_t kind;
    uint32_t partition;
    assert (tly_object_id_parse (object, &kind, &partition, tail_back) == 0);
    assert (kind == TLY_OBJ_PURCHASE && partition == 65535);
    assert (memcmp (tail, tail_back, 16) == 0);
    assert (tly_object_id_parse (id, &kind, &partition, tail_back) == -1);

    //  Derived IDs: stable, of the right kind, in the user's partition.
    char balance [TLY_ID_MAX], root [TLY_ID_MAX], again [TLY_ID_MAX], service [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, account.sign_pk, 256, balance);
    tly_user_object_id (TLY_OBJ_BALANCE, account.sign_pk, 256, again);
    tly_user_object_id (TLY_OBJ_ROOT, account.sign_pk, 256, root);
    assert (strcmp (balance, again) == 0 && strcmp (balance, root) != 0);
    assert (tly_object_id_parse (root, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_ROOT && partition == tly_partition_of (account.sign_pk, 256));
    tly_service_object_id (account.sign_pk, service);
    uint8_t raw [TLY_OBJECT_KEY_BYTES], with_extra [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_BALANCE, tly_partition_of (account.sign_pk, 256), TLY_LABEL_BALANCE,
                     account.sign_pk, NULL, raw);
    tly_object_id_of_key (raw, again);
    assert (strcmp (again, balance) == 0);
    const uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 1 };
    tly_derived_key (TLY_OBJ_PURCHASE, 7, TLY_LABEL_PURCHASE, account.sign_pk, message_id, with_extra);
    tly_derived_key (TLY_OBJ_PURCHASE, 7, TLY_LABEL_PURCHASE, account.sign_pk, NULL, raw);
    assert (with_extra [0] == TLY_OBJ_PURCHASE && with_extra [2] == 7);
    assert (memcmp (raw + 3, with_extra + 3, 16) != 0);
    assert (tly_object_id_parse (service, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_SERVICE && partition == 0);
    if (verbose)
        printf ("OK\n");
}
