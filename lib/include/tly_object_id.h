//  tly_object_id - object IDs, which carry their kind and partition so that
//  any process can route them, and the derived IDs of a user's objects.
//
//  Object ID:  "co_z" + base58(kind(1) | partition(2, big endian) | 16 bytes)
#ifndef TLY_OBJECT_ID_H_INCLUDED
#define TLY_OBJECT_ID_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tly_base58.h"
#include "tly_limits.h"

typedef enum {
    TLY_OBJ_BALANCE = 1,
    TLY_OBJ_PURCHASE = 2,
    TLY_OBJ_ROOT = 3,
    TLY_OBJ_GROUP = 4,
    TLY_OBJ_PURCHASE_LOG = 5,
    TLY_OBJ_SERVICE = 6,
    TLY_OBJ_ADJUSTMENT = 7,
    TLY_OBJ_CATALOG = 8,
    TLY_OBJ_ORDER = 9,
    TLY_OBJ_ORDER_LIST = 10,
    TLY_OBJ_ORDER_QUEUE = 11
} tly_object_kind_t;

#define TLY_OBJECT_TAIL_BYTES 16
#define TLY_OBJECT_KEY_BYTES  (3 + TLY_OBJECT_TAIL_BYTES)  //  kind | partition | tail

_Static_assert(TLY_PARTITIONS_MAX <= 1 << 16, "a partition fits the two bytes of an object ID");
_Static_assert(TLY_OBJECT_TAIL_BYTES <= TLY_HASH_BYTES, "a derived tail is a prefix of a hash");
_Static_assert(TLY_OBJECT_KEY_BYTES <= TLY_BASE58_INPUT_MAX, "an object key is within base58");
_Static_assert(sizeof TLY_ID_PREFIX - 1 + TLY_BASE58_CHARS (TLY_OBJECT_KEY_BYTES) + 1 <= TLY_ID_MAX,
               "an object ID and its NUL fit TLY_ID_MAX");

//  Formats an object ID into out (TLY_ID_MAX bytes).
void tly_object_id (tly_object_kind_t kind, uint32_t partition,
                    const uint8_t tail [TLY_OBJECT_TAIL_BYTES], char *out);
//  Returns 0 and fills kind/partition/tail (each may be NULL), or -1.
int tly_object_id_parse (const char *text, tly_object_kind_t *kind, uint32_t *partition,
                         uint8_t tail [TLY_OBJECT_TAIL_BYTES]);
//  The raw key of an object ID's text (kind | partition | tail: the store's
//  key and the bus topic of the object), into key. Returns 0, or -1 when
//  text (which may be NULL) is not an object ID.
int tly_object_key_parse (const char *text, uint8_t key [TLY_OBJECT_KEY_BYTES]);
//  The partition an object's raw key names.
uint32_t tly_object_key_partition (const uint8_t key [TLY_OBJECT_KEY_BYTES]);

//  Derived object IDs. The raw key of an ID is kind | partition (2 bytes, big
//  endian) | the first 16 bytes of BLAKE2b-256(label || key_of [|| extra]),
//  where extra is a 16-byte message ID or absent. The labels are part of
//  the protocol (docs/protocol.md): every process derives the same IDs.
#define TLY_LABEL_BALANCE        "balance"
#define TLY_LABEL_ROOT           "root"
#define TLY_LABEL_PURCHASES      "purchases"
#define TLY_LABEL_PURCHASE       "purchase"
#define TLY_LABEL_GROUP          "group"  //  the user's purchases group
#define TLY_LABEL_BALANCE_GROUP  "balance-group"
#define TLY_LABEL_ROOT_GROUP     "root-group"
#define TLY_LABEL_SERVICE        "service"
#define TLY_LABEL_SERVICE_GROUP  "service-group"
#define TLY_LABEL_ADJUSTMENT     "adjustment"
#define TLY_LABEL_CATALOG        "catalog"
#define TLY_LABEL_ORDER          "order"
#define TLY_LABEL_ORDERS         "orders"       //  the user's OrderList
#define TLY_LABEL_ORDER_GROUP    "order-group"  //  the group of the user's orders
#define TLY_LABEL_ORDER_QUEUE    "order-queue"
#define TLY_LABEL_ORDER_PURCHASE "order-purchase"

void tly_derived_key (tly_object_kind_t kind, uint32_t partition, const char *label,
                      const uint8_t key_of [TLY_KEY_BYTES], const uint8_t *extra,
                      uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  A purchase's raw key: PURCHASE | partition | the 6 time bytes of the
//  message ID | the first 10 bytes of BLAKE2b-256("purchase" || user key ||
//  message ID). Purchases sort by the time their messages were made, so a
//  store keyed by them takes new ones at the end of each partition's range.
void tly_purchase_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                       const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                       uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  A credit's or debit's raw key: ADJUSTMENT | partition | the first 16
//  bytes of BLAKE2b-256("adjustment" || user key || reference bytes). One
//  key per (user, reference): the same reference names the same record.
void tly_adjustment_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                         const char *reference, uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  An order's raw key, made by its createOrder message: ORDER | partition |
//  the 6 time bytes of the message ID | the first 10 bytes of
//  BLAKE2b-256("order" || user key || message ID). Orders sort by the time
//  they were created, as purchases do.
void tly_order_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                    const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                    uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  The raw key of the purchase of line index (0..TLY_ORDER_ITEMS_MAX - 1) of
//  the order with raw key order, recorded by the completeOrder message
//  message_id: PURCHASE | partition | the 6 time bytes of that message ID |
//  the first 10 bytes of BLAKE2b-256("order-purchase" || user key || order
//  key (19) || index (1 byte)).
void tly_order_purchase_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                             const uint8_t order [TLY_OBJECT_KEY_BYTES], uint32_t index,
                             const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                             uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  The group of a user's orders and OrderList: GROUP | the user's partition
//  | BLAKE2b-256("order-group" || user key).
void tly_order_group_key (const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                          uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  A partition's OrderQueue: ORDER_QUEUE | partition |
//  BLAKE2b-256("order-queue" || worker key).
void tly_order_queue_key (const uint8_t worker [TLY_KEY_BYTES], uint32_t partition,
                          uint8_t out [TLY_OBJECT_KEY_BYTES]);
void tly_order_queue_id (const uint8_t worker [TLY_KEY_BYTES], uint32_t partition, char *out);
//  The co_z text of a raw object key, into out (TLY_ID_MAX bytes).
void tly_object_id_of_key (const uint8_t key [TLY_OBJECT_KEY_BYTES], char *out);

//  The label of a user's one object of a kind: "balance" (BALANCE), "root"
//  (ROOT), "purchases" (PURCHASE_LOG), "group" (GROUP, the group of their
//  purchase records), "orders" (ORDER_LIST); NULL for any other kind.
const char *tly_user_object_label (tly_object_kind_t kind);
//  The raw key of a user's one object of a kind in partition: tail = first 16
//  bytes of BLAKE2b-256(label || user key), the label tly_user_object_label's.
void tly_user_object_key (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES],
                          uint32_t partition, uint8_t out [TLY_OBJECT_KEY_BYTES]);
//  Its ID, the partition the user's own (tly_partition_of).
void tly_user_object_id (tly_object_kind_t kind, const uint8_t user [TLY_KEY_BYTES],
                         uint32_t partition_count, char *out);
//  The ServiceInfo object: partition 0, tail = BLAKE2b-256("service" || worker key).
void tly_service_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out);
//  The Catalog object: partition 0, tail = BLAKE2b-256("catalog" || worker key).
void tly_catalog_object_id (const uint8_t worker [TLY_KEY_BYTES], char *out);

#endif
