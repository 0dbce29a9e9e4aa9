//  tly_object_id_test - object IDs carry kind and partition; derived IDs are stable.
#include "tly_object_id.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "tly_account.h"
#include "tly_base58.h"
#include "tly_message_id.h"
#include "tly_partition.h"

void
tly_object_id_test (bool verbose)
{
    if (verbose)
        printf (" * tly_object_id: ");
    assert (sodium_init () >= 0);

    tly_account_t account;
    assert (tly_account_generate (&account) == 0);
    char id [TLY_ID_MAX];
    tly_account_id (account.sign_pk, id);

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
    tly_derived_key (TLY_OBJ_PURCHASE, 7, TLY_LABEL_PURCHASE, account.sign_pk, message_id,
                     with_extra);
    tly_derived_key (TLY_OBJ_PURCHASE, 7, TLY_LABEL_PURCHASE, account.sign_pk, NULL, raw);
    assert (with_extra [0] == TLY_OBJ_PURCHASE && with_extra [2] == 7);
    assert (memcmp (raw + 3, with_extra + 3, 16) != 0);
    //  A purchase's key: the message ID's time first, then the hash's head.
    uint8_t made [TLY_MESSAGE_ID_BYTES], later [TLY_MESSAGE_ID_BYTES];
    uint8_t purchase [TLY_OBJECT_KEY_BYTES], next [TLY_OBJECT_KEY_BYTES];
    tly_message_id_new (made, 1765000000000);
    tly_message_id_new (later, 1765000000001);
    tly_purchase_key (7, account.sign_pk, made, purchase);
    tly_derived_key (TLY_OBJ_PURCHASE, 7, TLY_LABEL_PURCHASE, account.sign_pk, made, raw);
    assert (memcmp (purchase, raw, 3) == 0);
    assert (memcmp (purchase + 3, made, TLY_MESSAGE_ID_TIME_BYTES) == 0);
    assert (memcmp (purchase + 3 + TLY_MESSAGE_ID_TIME_BYTES, raw + 3,
                    TLY_OBJECT_KEY_BYTES - 3 - TLY_MESSAGE_ID_TIME_BYTES)
            == 0);
    tly_purchase_key (7, account.sign_pk, later, next);
    assert (memcmp (purchase, next, TLY_OBJECT_KEY_BYTES) < 0);
    tly_purchase_key (7, account.sign_pk, made, next);
    assert (memcmp (purchase, next, TLY_OBJECT_KEY_BYTES) == 0);
    assert (tly_object_id_parse (service, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_SERVICE && partition == 0);

    //  An ID's raw key is the bytes it was formatted from.
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    assert (tly_object_key_parse (object, key) == 0);
    assert (key [0] == TLY_OBJ_PURCHASE && tly_object_key_partition (key) == 65535);
    assert (memcmp (key + 3, tail, 16) == 0);
    tly_object_id_of_key (key, again);
    assert (strcmp (again, object) == 0);
    memset (key, 0xAA, sizeof key);
    assert (tly_object_key_parse (id, key) == -1 && key [0] == 0xAA);
    assert (tly_object_key_parse (NULL, key) == -1);
    assert (tly_object_key_parse ("co_z", key) == -1);
    //  Every kind parses, the order kinds (the last ones) included; one past
    //  them does not.
    for (int k = TLY_OBJ_BALANCE; k <= TLY_OBJ_ORDER_QUEUE + 1; k++) {
        char any [TLY_ID_MAX] = TLY_ID_PREFIX;
        uint8_t raw_any [TLY_OBJECT_KEY_BYTES] = { (uint8_t) k, 0, 3 };
        assert (tly_base58_encode (raw_any, sizeof raw_any, any + strlen (TLY_ID_PREFIX),
                                   sizeof any - strlen (TLY_ID_PREFIX))
                > 0);
        bool known = k <= TLY_OBJ_ORDER_QUEUE;
        assert ((tly_object_key_parse (any, key) == 0) == known);
        assert (!known || (key [0] == k && tly_object_key_partition (key) == 3));
    }

    //  A user's objects: one label per kind, the key in the given partition.
    assert (strcmp (tly_user_object_label (TLY_OBJ_BALANCE), TLY_LABEL_BALANCE) == 0);
    assert (strcmp (tly_user_object_label (TLY_OBJ_ROOT), TLY_LABEL_ROOT) == 0);
    assert (strcmp (tly_user_object_label (TLY_OBJ_PURCHASE_LOG), TLY_LABEL_PURCHASES) == 0);
    assert (strcmp (tly_user_object_label (TLY_OBJ_GROUP), TLY_LABEL_GROUP) == 0);
    assert (tly_user_object_label (TLY_OBJ_PURCHASE) == NULL);
    assert (tly_user_object_label (TLY_OBJ_SERVICE) == NULL);
    tly_user_object_key (TLY_OBJ_BALANCE, account.sign_pk, tly_partition_of (account.sign_pk, 256),
                         key);
    tly_object_id_of_key (key, again);
    assert (strcmp (again, balance) == 0);
    tly_user_object_key (TLY_OBJ_PURCHASE_LOG, account.sign_pk, 9, key);
    tly_derived_key (TLY_OBJ_PURCHASE_LOG, 9, TLY_LABEL_PURCHASES, account.sign_pk, NULL, raw);
    assert (memcmp (key, raw, sizeof key) == 0 && tly_object_key_partition (key) == 9);
    if (verbose)
        printf ("OK\n");
}
