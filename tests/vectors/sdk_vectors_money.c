//  sdk_vectors_money - the vectors of the messages and objects that move
//  money or configure the service: credits and debits (their adjustment
//  IDs, messages and records), admins and prices (the catalog), and
//  refunds (their messages and the refunded purchase), orders (a user's
//  order messages, the worker's completion and failures). sdk_vectors.c
//  prints them in their place in tests/vectors/sdk.json.
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sdk_vectors.h"

//  A reference of the largest size: 128 bytes.
#define S_REFERENCE_128                                                        \
    "ref-128-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef0123456789abcdef01234567"

//  The references the adjustment IDs are given for: ASCII, UTF-8, one byte,
//  the largest.
static const char *s_references [] = { "pay-1",
                                       "r\xc3\xa9"
                                       "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                                       "x", S_REFERENCE_128 };
#define S_REFERENCES (sizeof s_references / sizeof s_references [0])

void
vec_print_adjustment_ids (FILE *out)
{
    assert (strlen (S_REFERENCE_128) == TLY_REFERENCE_MAX);
    fprintf (out, "  \"adjustment_ids\": [\n");
    const vec_account_t *users [] = { VEC_ALICE, VEC_BOB };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < VEC_COUNTS; j++)
            for (size_t k = 0; k < S_REFERENCES; k++) {
                uint8_t key [TLY_OBJECT_KEY_BYTES];
                tly_adjustment_key (tly_partition_of (users [i]->account.sign_pk, vec_counts [j]),
                                    users [i]->account.sign_pk, s_references [k], key);
                char adjustment [TLY_ID_MAX];
                tly_object_id_of_key (key, adjustment);
                fprintf (out,
                         "    {\"account\": \"%s\", \"reference\": \"%s\", \"partition_count\": "
                         "%" PRIu32 ", \"adjustment_id\": \"%s\"}%s\n",
                         users [i]->id, s_references [k], vec_counts [j], adjustment,
                         i == 1 && j + 1 == VEC_COUNTS && k + 1 == S_REFERENCES ? "" : ",");
            }
    fprintf (out, "  ],\n");
}

//  A credit or debit through the SDK's own constructor (which checks it as
//  the TypeScript client must), then given its fixed ID.
static void
s_msg_adjust (tly_msg_t *msg, tly_msg_kind_t kind, const vec_account_t *user, int64_t amount,
              const char *reference, const char *note, int64_t time_ms, uint8_t first)
{
    tly_error_t error;
    int rc = kind == TLY_MSG_CREDIT
                 ? tly_msg_credit (msg, user->id, amount, reference, note, &error)
                 : tly_msg_debit (msg, user->id, amount, reference, note, &error);
    assert (rc == 0);
    vec_message_id (msg->id, time_ms, first);
}

//  A configuration message through the SDK's own constructor, then given
//  its fixed ID.
static void
s_msg_admin (tly_msg_t *msg, tly_msg_kind_t kind, const vec_account_t *account, int64_t time_ms,
             uint8_t first)
{
    int rc = kind == TLY_MSG_ADD_ADMIN ? tly_msg_add_admin (msg, account->id, NULL)
                                       : tly_msg_remove_admin (msg, account->id, NULL);
    assert (rc == 0);
    vec_message_id (msg->id, time_ms, first);
}

static void
s_msg_price (tly_msg_t *msg, const char *item, int64_t price, bool active, int64_t time_ms,
             uint8_t first)
{
    int rc = tly_msg_set_price (msg, item, price, active, NULL);
    assert (rc == 0);
    vec_message_id (msg->id, time_ms, first);
}

//  alice's purchase made by the message of time_ms and random part first,
//  in a cluster of TLY_PARTITIONS_DEFAULT partitions: its ID into id.
static void
s_alice_purchase (int64_t time_ms, uint8_t first, char *id)
{
    uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
    vec_message_id (message_id, time_ms, first);
    tly_purchase_key (tly_partition_of (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                      VEC_ALICE->account.sign_pk, message_id, key);
    tly_object_id_of_key (key, id);
}

//  A refund through the SDK's own constructor, then given its fixed ID.
static void
s_msg_refund (tly_msg_t *msg, const char *purchase_id, const char *reason, int64_t time_ms,
              uint8_t first)
{
    tly_error_t error;
    int rc = tly_msg_refund (msg, purchase_id, reason, &error);
    assert (rc == 0);
    vec_message_id (msg->id, time_ms, first);
}


void
vec_money_messages (vec_envelope_t *envelopes, int64_t now)
{
    //  The worker's credits and debits: ASCII, the largest amount (2^53 - 1)
    //  with a UTF-8 reference and note, no note, and a user of another
    //  partition (the gateway refuses such an envelope: here only its bytes)
    s_msg_adjust (&envelopes [4].msgs [0], TLY_MSG_CREDIT, VEC_ALICE, 500, "pay-1", "Welcome bonus",
                  now + 2990, 0x77);
    s_msg_adjust (&envelopes [4].msgs [1], TLY_MSG_CREDIT, VEC_ALICE, TLY_BALANCE_MAX,
                  "r\xc3\xa9"
                  "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                  "caf\xc3\xa9 \xe2\x98\x95 d\xc3\xa9j\xc3\xa0 vu", now + 2991, 0x88);
    s_msg_adjust (&envelopes [4].msgs [2], TLY_MSG_DEBIT, VEC_ALICE, 30, "refund-7", NULL,
                  now + 2992, 0x99);
    s_msg_adjust (&envelopes [4].msgs [3], TLY_MSG_DEBIT, VEC_BOB, 1, "x", "", now + 2993, 0xaa);
    char note [TLY_NOTE_MAX + 1];
    memset (note, 'n', TLY_NOTE_MAX);
    note [TLY_NOTE_MAX] = 0;
    s_msg_adjust (&envelopes [5].msgs [0], TLY_MSG_CREDIT, VEC_BOB, 1, S_REFERENCE_128, note,
                  now + 3990, 0xbb);
    //  The worker's configuration messages: bob made an admin, a price on
    //  sale, the largest price (2^53 - 1) off sale for a UTF-8 item, bob
    //  removed; and alice's buy without an amount (0: the catalog price).
    s_msg_admin (&envelopes [6].msgs [0], TLY_MSG_ADD_ADMIN, VEC_BOB, now + 4990, 0xc1);
    s_msg_price (&envelopes [6].msgs [1], "item-123", 25, true, now + 4991, 0xc2);
    s_msg_price (&envelopes [6].msgs [2], "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                 TLY_BALANCE_MAX, false, now + 4992, 0xc3);
    s_msg_admin (&envelopes [6].msgs [3], TLY_MSG_REMOVE_ADMIN, VEC_BOB, now + 4993, 0xc4);
    int rc = tly_msg_buy (&envelopes [7].msgs [0], "item-123", 0);
    assert (rc == 0);
    vec_message_id (envelopes [7].msgs [0].id, now + 5990, 0xc5);
    //  The worker's refunds of alice's two buys (one partition): with a
    //  UTF-8 reason, and with none.
    char bought [2][TLY_ID_MAX];
    s_alice_purchase (now + 999, 0x22, bought [0]);
    s_alice_purchase (now + 5990, 0xc5, bought [1]);
    s_msg_refund (&envelopes [8].msgs [0], bought [0],
                  "Not delivered \xe2\x80\x94 caf\xc3\xa9 froid", now + 6990, 0xd1);
    s_msg_refund (&envelopes [8].msgs [1], bought [1], NULL, now + 6991, 0xd2);
}

//  An order message through the SDK's own constructor, then given its fixed ID.
static void
s_msg_order (tly_msg_t *msg, tly_msg_kind_t kind, const char *order_id,
             const tly_order_item_t *items, size_t n, const char *error_text, int64_t time_ms,
             uint8_t first)
{
    tly_error_t error;
    int rc = kind == TLY_MSG_CREATE_ORDER   ? tly_msg_create_order (msg, items, n, &error)
             : kind == TLY_MSG_EDIT_ORDER   ? tly_msg_edit_order (msg, order_id, items, n, &error)
             : kind == TLY_MSG_SUBMIT_ORDER ? tly_msg_submit_order (msg, order_id, &error)
             : kind == TLY_MSG_COMPLETE_ORDER
                 ? tly_msg_complete_order (msg, order_id, &error)
                 : tly_msg_fail_order (msg, order_id, error_text, &error);
    assert (rc == 0);
    vec_message_id (msg->id, time_ms, first);
}

void
vec_order_messages (vec_envelope_t *envelopes, int64_t now)
{
    //  alice's order, made by her first message below: two lines (the
    //  catalog price, a UTF-8 item at the largest amount), edited to one,
    //  submitted; the worker completes it and fails another ID of hers.
    uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
    uint32_t partition = tly_partition_of (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT);
    char order_id [2][TLY_ID_MAX];
    for (uint8_t i = 0; i < 2; i++) {
        vec_message_id (message_id, now + 7990 + i, (uint8_t) (0xe1 + i));
        tly_order_key (partition, VEC_ALICE->account.sign_pk, message_id, key);
        tly_object_id_of_key (key, order_id [i]);
    }
    tly_order_item_t items [2] = {
        { "item-123", 0 }, { "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0", TLY_BALANCE_MAX }
    };
    s_msg_order (&envelopes [9].msgs [0], TLY_MSG_CREATE_ORDER, NULL, items, 2, NULL, now + 7990,
                 0xe1);
    s_msg_order (&envelopes [9].msgs [1], TLY_MSG_EDIT_ORDER, order_id [0], items + 1, 1, NULL,
                 now + 7991, 0xe3);
    s_msg_order (&envelopes [9].msgs [2], TLY_MSG_SUBMIT_ORDER, order_id [0], NULL, 0, NULL,
                 now + 7992, 0xe4);
    s_msg_order (&envelopes [10].msgs [0], TLY_MSG_COMPLETE_ORDER, order_id [0], NULL, 0, NULL,
                 now + 8990, 0xe5);
    s_msg_order (&envelopes [10].msgs [1], TLY_MSG_FAIL_ORDER, order_id [1], NULL, 0,
                 "card declined \xe2\x80\x94 r\xc3\xa9"
                 "essayez",
                 now + 8991, 0xe6);
    s_msg_order (&envelopes [10].msgs [2], TLY_MSG_FAIL_ORDER, order_id [1], NULL, 0, NULL,
                 now + 8992, 0xe7);
}

//  An AdjustmentRecord of alice's, its ID from the user and the reference.
static void
s_adjustment (Tally__AdjustmentRecord *record, char *id, int64_t amount, const char *reference,
              const char *note, int64_t timestamp, int64_t balance_after)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (tly_partition_of (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                        VEC_ALICE->account.sign_pk, reference, key);
    tly_object_id_of_key (key, id);
    record->id = id;
    record->user_id = (char *) VEC_ALICE->id;
    record->amount = amount;
    record->reference = (char *) reference;
    record->note = (char *) note;
    record->timestamp = timestamp;
    record->balance_after = balance_after;
    record->by = (char *) VEC_WORKER->id;
}

static void
s_print_adjustment_json (FILE *out, const Tally__AdjustmentRecord *record)
{
    fprintf (out,
             "{\"id\": \"%s\", \"user_id\": \"%s\", \"amount\": %" PRId64
             ", \"reference\": \"%s\", \"note\": \"%s\", \"timestamp\": %" PRId64
             ", \"balance_after\": %" PRId64 ", \"by\": \"%s\"}",
             record->id, record->user_id, record->amount, record->reference, record->note,
             record->timestamp, record->balance_after, record->by);
}

//  alice's PurchaseLog at version 4: created with 100, a buy of 25, a
//  credit of 500 with a note and a debit of 30 (a UTF-8 reference, no
//  note); and
//  the credit's own AdjustmentRecord (version 1), both in her purchases
//  group.
void
vec_print_history_objects (FILE *out)
{
    char log_id [TLY_ID_MAX], group_id [TLY_ID_MAX], purchase_id [TLY_ID_MAX];
    char credit_id [TLY_ID_MAX], debit_id [TLY_ID_MAX];
    tly_purchases_id (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT, log_id);
    s_alice_purchase (1767225601000, 0x22, purchase_id);

    Tally__PurchaseRecord purchase = TALLY__PURCHASE_RECORD__INIT;
    purchase.id = purchase_id;
    purchase.user_id = (char *) VEC_ALICE->id;
    purchase.item_id = "item-123";
    purchase.amount = 25;
    purchase.timestamp = 1767225601000;
    purchase.balance_after = 75;
    Tally__AdjustmentRecord credit = TALLY__ADJUSTMENT_RECORD__INIT;
    Tally__AdjustmentRecord debit = TALLY__ADJUSTMENT_RECORD__INIT;
    s_adjustment (&credit, credit_id, 500, "pay-1", "Welcome bonus", 1767225603000, 575);
    s_adjustment (&debit, debit_id, -30,
                  "r\xc3\xa9"
                  "f-\xe2\x82\xac-\xf0\x9f\x8d\xb0",
                  "", 1767225604000, 545);
    Tally__PurchaseRecord *records [] = { &purchase };
    Tally__AdjustmentRecord *adjustments [] = { &credit, &debit };
    Tally__PurchaseLog log = TALLY__PURCHASE_LOG__INIT;
    log.id = log_id;
    log.user_id = (char *) VEC_ALICE->id;
    log.count = 3;
    log.n_records = 1;
    log.records = records;
    log.n_adjustments = 2;
    log.adjustments = adjustments;
    vec_object_t object;
    vec_object_init (&object, log_id, 4, 1767225604000);
    object.value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASES;
    object.value.purchases = &log;
    vec_print_object_head (out, "PURCHASE_LOG", &object.state);
    fprintf (
        out,
        "     \"purchases\": {\"id\": \"%s\", \"user_id\": \"%s\", \"count\": 3,\n"
        "       \"records\": [{\"id\": \"%s\", \"user_id\": \"%s\", \"item_id\": \"item-123\", "
        "\"amount\": 25, \"timestamp\": 1767225601000, \"balance_after\": 75}],\n"
        "       \"adjustments\": [",
        log_id, VEC_ALICE->id, purchase_id, VEC_ALICE->id);
    s_print_adjustment_json (out, &credit);
    fprintf (out, ",\n         ");
    s_print_adjustment_json (out, &debit);
    fprintf (out, "]},\n");
    vec_print_group (out, TLY_LABEL_GROUP, VEC_ALICE, &object.group, &object.member, group_id);
    vec_print_signed (out, &object.state, log_id, false);

    //  the credit's own record
    vec_object_t record;
    vec_object_init (&record, credit_id, 1, 1767225603000);
    record.value.kind_case = TALLY__OBJECT_VALUE__KIND_ADJUSTMENT;
    record.value.adjustment = &credit;
    vec_print_object_head (out, "ADJUSTMENT", &record.state);
    fprintf (out, "     \"adjustment\": ");
    s_print_adjustment_json (out, &credit);
    fprintf (out, ",\n");
    vec_print_group (out, TLY_LABEL_GROUP, VEC_ALICE, &record.group, &record.member, group_id);
    vec_print_signed (out, &record.state, credit_id, false);
}

//  The worker's Catalog of configuration version 4 (so its version is 5,
//  docs/protocol.md): a UTF-8 item at the largest price, off sale, and
//  item-123 at 25, ascending by item ID bytes. Readable by everyone: no
//  group.
void
vec_print_catalog_object (FILE *out)
{
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (VEC_WORKER->account.sign_pk, catalog_id);
    Tally__CatalogItem items [2] = { TALLY__CATALOG_ITEM__INIT, TALLY__CATALOG_ITEM__INIT };
    items [0].item_id = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x8d\xb0";
    items [0].price = TLY_BALANCE_MAX;
    items [0].active = false;
    items [1].item_id = "item-123";
    items [1].price = 25;
    items [1].active = true;
    Tally__CatalogItem *list [] = { &items [0], &items [1] };
    Tally__Catalog catalog = TALLY__CATALOG__INIT;
    catalog.id = catalog_id;
    catalog.config_version = 4;
    catalog.n_items = 2;
    catalog.items = list;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_CATALOG;
    value.catalog = &catalog;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = catalog_id;
    state.version = 5;
    state.updated_ms = 1767225605000;
    state.value = &value;
    vec_print_object_head (out, "CATALOG", &state);
    fprintf (out, "     \"catalog\": {\"id\": \"%s\", \"config_version\": 4, \"items\": [",
             catalog_id);
    for (size_t i = 0; i < 2; i++)
        fprintf (out, "%s{\"item_id\": \"%s\", \"price\": %" PRId64 ", \"active\": %s}",
                 i ? ", " : "", items [i].item_id, items [i].price,
                 items [i].active ? "true" : "false");
    fprintf (out, "]},\n");
    vec_print_signed (out, &state, catalog_id, false);
}

//  alice's purchase of the "buy" envelope (item-123 for 25, leaving 75),
//  refunded: its version 2, naming the refund's AdjustmentRecord (its ID
//  from alice and the reference "refund:" + the purchase's ID) and when,
//  and the partition record that made it; in her purchases group.
void
vec_print_purchase_object (FILE *out)
{
    char purchase_id [TLY_ID_MAX], refund_id [TLY_ID_MAX], group_id [TLY_ID_MAX];
    char reference [TLY_REFERENCE_MAX + 1];
    s_alice_purchase (1767225600999, 0x22, purchase_id);
    tly_refund_reference (purchase_id, reference);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (tly_partition_of (VEC_ALICE->account.sign_pk, TLY_PARTITIONS_DEFAULT),
                        VEC_ALICE->account.sign_pk, reference, key);
    tly_object_id_of_key (key, refund_id);
    Tally__PurchaseRecord purchase = TALLY__PURCHASE_RECORD__INIT;
    purchase.id = purchase_id;
    purchase.user_id = (char *) VEC_ALICE->id;
    purchase.item_id = "item-123";
    purchase.amount = 25;
    purchase.timestamp = 1767225601000;
    purchase.balance_after = 75;
    purchase.partition_seq = 2;
    purchase.refund_id = refund_id;
    purchase.refunded_at = 1767225607000;
    vec_object_t object;
    vec_object_init (&object, purchase_id, 2, 1767225607000);
    object.value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASE;
    object.value.purchase = &purchase;
    vec_print_object_head (out, "PURCHASE", &object.state);
    fprintf (out,
             "     \"purchase\": {\"id\": \"%s\", \"user_id\": \"%s\", \"item_id\": \"item-123\", "
             "\"amount\": 25, \"timestamp\": 1767225601000, \"balance_after\": 75, "
             "\"partition_seq\": 2,\n       \"refund_id\": \"%s\", \"refunded_at\": "
             "1767225607000},\n",
             purchase_id, VEC_ALICE->id, refund_id);
    vec_print_group (out, TLY_LABEL_GROUP, VEC_ALICE, &object.group, &object.member, group_id);
    vec_print_signed (out, &object.state, purchase_id, true);
}
