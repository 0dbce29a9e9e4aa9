//  tly_object_id - object IDs and the IDs derived from a user's key.
#include "tly_object_id.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_partition.h"

void
tly_object_id (tly_object_kind_t kind, uint32_t partition,
               const uint8_t tail [TLY_OBJECT_TAIL_BYTES], char *out)
{
    assert (kind >= TLY_OBJ_BALANCE && kind <= TLY_OBJ_ORDER_QUEUE);
    assert (partition < TLY_PARTITIONS_MAX);
    uint8_t raw [TLY_OBJECT_KEY_BYTES];
    raw [0] = (uint8_t) kind;
    raw [1] = (uint8_t) (partition >> 8);
    raw [2] = (uint8_t) partition;
    memcpy (raw + 3, tail, TLY_OBJECT_TAIL_BYTES);
    memcpy (out, TLY_ID_PREFIX, sizeof TLY_ID_PREFIX);
    int rc = tly_base58_encode (raw, sizeof raw, out + strlen (TLY_ID_PREFIX),
                                TLY_ID_MAX - strlen (TLY_ID_PREFIX));
    assert (rc > 0);
}

int
tly_object_id_parse (const char *text, tly_object_kind_t *kind, uint32_t *partition,
                     uint8_t tail [TLY_OBJECT_TAIL_BYTES])
{
    uint8_t raw [TLY_OBJECT_KEY_BYTES];
    if (tly_object_key_parse (text, raw) == -1)
        return -1;
    if (kind)
        *kind = (tly_object_kind_t) raw [0];
    if (partition)
        *partition = tly_object_key_partition (raw);
    if (tail)
        memcpy (tail, raw + 3, TLY_OBJECT_TAIL_BYTES);
    return 0;
}

int
tly_object_key_parse (const char *text, uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    assert (key);
    uint8_t raw [TLY_OBJECT_KEY_BYTES];
    if (!text
        || tly_base58_decode_prefixed (text, strlen (text), TLY_ID_PREFIX, raw, sizeof raw) == -1)
        return -1;
    if (raw [0] < TLY_OBJ_BALANCE || raw [0] > TLY_OBJ_ORDER_QUEUE)
        return -1;
    memcpy (key, raw, sizeof raw);
    return 0;
}

uint32_t
tly_object_key_partition (const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    return (uint32_t) key [1] << 8 | key [2];
}

void
tly_derived_key (tly_object_kind_t kind, uint32_t partition, const char *label,
                 const uint8_t key_of [TLY_KEY_BYTES], const uint8_t *extra,
                 uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (kind >= TLY_OBJ_BALANCE && kind <= TLY_OBJ_ORDER_QUEUE);
    assert (partition < TLY_PARTITIONS_MAX && label && key_of && out);
    crypto_generichash_state state;
    uint8_t hash [TLY_HASH_BYTES];
    crypto_generichash_init (&state, NULL, 0, sizeof hash);
    crypto_generichash_update (&state, (const unsigned char *) label, strlen (label));
    crypto_generichash_update (&state, key_of, TLY_KEY_BYTES);
    if (extra)
        crypto_generichash_update (&state, extra, TLY_MESSAGE_ID_BYTES);
    crypto_generichash_final (&state, hash, sizeof hash);
    out [0] = (uint8_t) kind;
    out [1] = (uint8_t) (partition >> 8);
    out [2] = (uint8_t) partition;
    memcpy (out + 3, hash, TLY_OBJECT_KEY_BYTES - 3);
}

void
tly_purchase_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                  const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                  uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (user && message_id && out);
    uint8_t derived [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_PURCHASE, partition, TLY_LABEL_PURCHASE, user, message_id, derived);
    memcpy (out, derived, 3);
    memcpy (out + 3, message_id, TLY_MESSAGE_ID_TIME_BYTES);
    memcpy (out + 3 + TLY_MESSAGE_ID_TIME_BYTES, derived + 3,
            TLY_OBJECT_KEY_BYTES - 3 - TLY_MESSAGE_ID_TIME_BYTES);
}

void
tly_order_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
               const uint8_t message_id [TLY_MESSAGE_ID_BYTES], uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (user && message_id && out);
    uint8_t derived [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_ORDER, partition, TLY_LABEL_ORDER, user, message_id, derived);
    memcpy (out, derived, 3);
    memcpy (out + 3, message_id, TLY_MESSAGE_ID_TIME_BYTES);
    memcpy (out + 3 + TLY_MESSAGE_ID_TIME_BYTES, derived + 3,
            TLY_OBJECT_KEY_BYTES - 3 - TLY_MESSAGE_ID_TIME_BYTES);
}

void
tly_order_purchase_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                        const uint8_t order [TLY_OBJECT_KEY_BYTES], uint32_t index,
                        const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                        uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (partition < TLY_PARTITIONS_MAX && user && order && message_id && out);
    assert (index < TLY_ORDER_ITEMS_MAX);
    crypto_generichash_state state;
    uint8_t hash [TLY_HASH_BYTES];
    uint8_t line = (uint8_t) index;
    crypto_generichash_init (&state, NULL, 0, sizeof hash);
    crypto_generichash_update (&state, (const unsigned char *) TLY_LABEL_ORDER_PURCHASE,
                               strlen (TLY_LABEL_ORDER_PURCHASE));
    crypto_generichash_update (&state, user, TLY_KEY_BYTES);
    crypto_generichash_update (&state, order, TLY_OBJECT_KEY_BYTES);
    crypto_generichash_update (&state, &line, 1);
    crypto_generichash_final (&state, hash, sizeof hash);
    out [0] = (uint8_t) TLY_OBJ_PURCHASE;
    out [1] = (uint8_t) (partition >> 8);
    out [2] = (uint8_t) partition;
    memcpy (out + 3, message_id, TLY_MESSAGE_ID_TIME_BYTES);
    memcpy (out + 3 + TLY_MESSAGE_ID_TIME_BYTES, hash,
            TLY_OBJECT_KEY_BYTES - 3 - TLY_MESSAGE_ID_TIME_BYTES);
}

void
tly_order_group_key (const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                     uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    tly_derived_key (TLY_OBJ_GROUP, partition, TLY_LABEL_ORDER_GROUP, user, NULL, out);
}

void
tly_order_queue_key (const uint8_t worker [TLY_KEY_BYTES], uint32_t partition,
                     uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    tly_derived_key (TLY_OBJ_ORDER_QUEUE, partition, TLY_LABEL_ORDER_QUEUE, worker, NULL, out);
}

void
tly_order_queue_id (const uint8_t worker [TLY_KEY_BYTES], uint32_t partition, char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_order_queue_key (worker, partition, key);
    tly_object_id_of_key (key, out);
}

void
tly_adjustment_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES], const char *reference,
                    uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    assert (partition < TLY_PARTITIONS_MAX && user && reference && out);
    crypto_generichash_state state;
    uint8_t hash [TLY_HASH_BYTES];
    crypto_generichash_init (&state, NULL, 0, sizeof hash);
    crypto_generichash_update (&state, (const unsigned char *) TLY_LABEL_ADJUSTMENT,
                               strlen (TLY_LABEL_ADJUSTMENT));
    crypto_generichash_update (&state, user, TLY_KEY_BYTES);
    crypto_generichash_update (&state, (const unsigned char *) reference, strlen (reference));
    crypto_generichash_final (&state, hash, sizeof hash);
    out [0] = (uint8_t) TLY_OBJ_ADJUSTMENT;
    out [1] = (uint8_t) (partition >> 8);
    out [2] = (uint8_t) partition;
    memcpy (out + 3, hash, TLY_OBJECT_TAIL_BYTES);
}

void
tly_object_id_of_key (const uint8_t key [TLY_OBJECT_KEY_BYTES], char *out)
{
    tly_object_id ((tly_object_kind_t) key [0], tly_object_key_partition (key), key + 3, out);
}

const char *
tly_user_object_label (tly_object_kind_t kind)
{
    return kind == TLY_OBJ_BALANCE        ? TLY_LABEL_BALANCE
           : kind == TLY_OBJ_ROOT         ? TLY_LABEL_ROOT
           : kind == TLY_OBJ_PURCHASE_LOG ? TLY_LABEL_PURCHASES
           : kind == TLY_OBJ_GROUP        ? TLY_LABEL_GROUP
           : kind == TLY_OBJ_ORDER_LIST   ? TLY_LABEL_ORDERS
                                          : NULL;
}

void
tly_user_object_key (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                     uint8_t out [TLY_OBJECT_KEY_BYTES])
{
    const char *label = tly_user_object_label (kind);
    assert (label);
    tly_derived_key (kind, partition, label, user, NULL, out);
}

void
tly_user_object_id (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES],
                    uint32_t partition_count, char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_user_object_key (kind, user, tly_partition_of (user, partition_count), key);
    tly_object_id_of_key (key, out);
}

void
tly_service_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_SERVICE, 0, TLY_LABEL_SERVICE, worker, NULL, key);
    tly_object_id_of_key (key, out);
}

void
tly_catalog_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_derived_key (TLY_OBJ_CATALOG, 0, TLY_LABEL_CATALOG, worker, NULL, key);
    tly_object_id_of_key (key, out);
}
