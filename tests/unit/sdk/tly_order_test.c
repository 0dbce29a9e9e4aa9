//  tly_order_test - the order messages (built, refused, sealed and read back
//  as the server reads them), an Order in a message's result, and the
//  Order, OrderList, OrderQueue objects and a UserBalance's held amount.
#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "order_fixture.h"
#include "tally.h"
#include "tly_codec.h"
#include "tly_object.h"
#include "tly_sign.h"

static tly_order_item_t
s_item (const char *item_id, int64_t amount)
{
    tly_order_item_t item = { .amount = amount };
    assert (strlen (item_id) < sizeof item.item_id);
    strcpy (item.item_id, item_id);
    return item;
}

static void
s_test_messages (void)
{
    char order_id [TLY_ID_MAX];
    order_fixture_id (1, order_id);
    tly_order_item_t items [2] = { s_item ("item-1", 0), s_item ("caf\xc3\xa9", 25) };
    tly_msg_t create, edit, submit, complete, fail;
    tly_error_t error;
    assert (tly_msg_create_order (&create, items, 2, &error) == 0);
    assert (create.kind == TLY_MSG_CREATE_ORDER && *create.order_id == 0);
    assert (create.item_count == 2 && streq (create.items [0].item_id, "item-1"));
    assert (create.items [0].amount == 0 && create.items [1].amount == 25);
    assert (streq (create.items [1].item_id, "caf\xc3\xa9"));
    assert (tly_msg_edit_order (&edit, order_id, items + 1, 1, NULL) == 0);
    assert (edit.kind == TLY_MSG_EDIT_ORDER && streq (edit.order_id, order_id));
    assert (edit.item_count == 1 && edit.items [0].amount == 25);
    assert (tly_msg_submit_order (&submit, order_id, &error) == 0);
    assert (submit.kind == TLY_MSG_SUBMIT_ORDER && streq (submit.order_id, order_id));
    assert (submit.item_count == 0);
    assert (tly_msg_complete_order (&complete, order_id, &error) == 0);
    assert (complete.kind == TLY_MSG_COMPLETE_ORDER && streq (complete.order_id, order_id));
    assert (tly_msg_fail_order (&fail, order_id, "card declined", &error) == 0);
    assert (fail.kind == TLY_MSG_FAIL_ORDER && streq (fail.note, "card declined"));
    assert (memcmp (create.id, edit.id, TLY_MESSAGE_ID_BYTES) != 0);
    assert (memcmp (complete.id, fail.id, TLY_MESSAGE_ID_BYTES) != 0);
    assert (tly_msg_fail_order (&fail, order_id, NULL, NULL) == 0 && streq (fail.note, ""));

    //  The most lines, the largest amount, the longest item ID, the longest error.
    tly_order_item_t most [TLY_ORDER_ITEMS_MAX];
    for (size_t i = 0; i < TLY_ORDER_ITEMS_MAX; i++)
        most [i] = s_item ("item-x", TLY_BALANCE_MAX);
    memset (most [3].item_id, 'i', TLY_ITEM_ID_MAX);
    most [3].item_id [TLY_ITEM_ID_MAX] = 0;
    assert (tly_msg_create_order (&create, most, TLY_ORDER_ITEMS_MAX, &error) == 0);
    assert (create.item_count == TLY_ORDER_ITEMS_MAX
            && strlen (create.items [3].item_id) == TLY_ITEM_ID_MAX);
    char text [TLY_ORDER_ERROR_MAX + 2];
    memset (text, 'e', TLY_ORDER_ERROR_MAX);
    text [TLY_ORDER_ERROR_MAX] = 0;
    assert (tly_msg_fail_order (&fail, order_id, text, &error) == 0);
    assert (strlen (fail.note) == TLY_ORDER_ERROR_MAX);
}

//  Each refusal: -1, the code and text, msg untouched.
static void
s_expect (int rc, const tly_msg_t *msg, const tly_msg_t *before, const tly_error_t *error,
          Tally__ErrorCode code, const char *text)
{
    assert (rc == -1);
    assert (error->code == code && !error->remote);
    if (!strstr (error->message, text))
        fprintf (stderr, "unexpected message: %s\n", error->message);
    assert (strstr (error->message, text));
    assert (memcmp (msg, before, sizeof *msg) == 0);
}

static void
s_test_refused (void)
{
    char order_id [TLY_ID_MAX], list_id [TLY_ID_MAX], user_id [TLY_ID_MAX];
    order_fixture_id (1, order_id);
    order_fixture_list_id (list_id);
    tly_account_id (watch_keys.user.sign_pk, user_id);
    static tly_msg_t msg, before;
    memset (&msg, 0x5A, sizeof msg);
    before = msg;
    tly_error_t error;
    tly_order_item_t items [TLY_ORDER_ITEMS_MAX + 1];
    for (size_t i = 0; i <= TLY_ORDER_ITEMS_MAX; i++)
        items [i] = s_item ("item-1", 10);

    //  The number of lines.
    s_expect (tly_msg_create_order (&msg, items, 0, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__BAD_REQUEST, "an order holds 1 to 16 items (0 given)");
    s_expect (tly_msg_create_order (&msg, NULL, 0, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__BAD_REQUEST, "1 to 16 items");
    s_expect (tly_msg_edit_order (&msg, order_id, items, TLY_ORDER_ITEMS_MAX + 1, &error), &msg,
              &before, &error, TALLY__ERROR_CODE__BAD_REQUEST, "(17 given)");
    //  A line's item ID: empty, not UTF-8, not terminated.
    items [2] = s_item ("", 10);
    s_expect (tly_msg_create_order (&msg, items, 3, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_ITEM, "item 3: ");
    items [2] = s_item ("bad\xff", 10);
    s_expect (tly_msg_edit_order (&msg, order_id, items, 3, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_ITEM, "item 3: ");
    memset (items [2].item_id, 'i', sizeof items [2].item_id);
    s_expect (tly_msg_create_order (&msg, items, 3, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_ITEM, "item 3: item ID is not terminated");
    //  A line's amount: below 0, past 2^53 - 1.
    items [2] = s_item ("item-3", -1);
    s_expect (tly_msg_create_order (&msg, items, 3, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_AMOUNT, "item 3: amount must be 0");
    items [2].amount = TLY_BALANCE_MAX + 1;
    s_expect (tly_msg_edit_order (&msg, order_id, items, 3, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_AMOUNT, "item 3: amount exceeds");
    items [2].amount = 10;
    //  The order ID: none of an order, another kind's, an account's.
    const char *bad [] = { "", "nope", "co_z", list_id, user_id, watch_keys.balance_id };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_expect (tly_msg_edit_order (&msg, bad [i], items, 1, &error), &msg, &before, &error,
                  TALLY__ERROR_CODE__BAD_REQUEST, "is not an order's ID (co_z...)");
        s_expect (tly_msg_submit_order (&msg, bad [i], &error), &msg, &before, &error,
                  TALLY__ERROR_CODE__BAD_REQUEST, "is not an order's ID");
        s_expect (tly_msg_complete_order (&msg, bad [i], &error), &msg, &before, &error,
                  TALLY__ERROR_CODE__BAD_REQUEST, "is not an order's ID");
        s_expect (tly_msg_fail_order (&msg, bad [i], "x", &error), &msg, &before, &error,
                  TALLY__ERROR_CODE__BAD_REQUEST, "is not an order's ID");
    }
    //  The ID is checked before the lines, as the cluster does.
    s_expect (tly_msg_edit_order (&msg, "nope", items, 0, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__BAD_REQUEST, "order 'nope' is not an order's ID (co_z...)");
    //  A failure's error: one byte past the limit, not UTF-8.
    char text [TLY_ORDER_ERROR_MAX + 2];
    memset (text, 'e', TLY_ORDER_ERROR_MAX + 1);
    text [TLY_ORDER_ERROR_MAX + 1] = 0;
    s_expect (tly_msg_fail_order (&msg, order_id, text, &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_NOTE, "error of 257 bytes exceeds 256 bytes");
    s_expect (tly_msg_fail_order (&msg, order_id, "caf\xc3", &error), &msg, &before, &error,
              TALLY__ERROR_CODE__INVALID_NOTE, "error is not valid UTF-8");
    //  Without an error to fill.
    assert (tly_msg_submit_order (&msg, "nope", NULL) == -1);
    assert (memcmp (&msg, &before, sizeof msg) == 0);
}

//  Sealed by the worker: each body as the server reads it, accepted by its
//  own check, routed where the protocol says.
static void
s_test_seal (void)
{
    char order_id [TLY_ID_MAX];
    order_fixture_id (1, order_id);
    tly_order_item_t items [2] = { s_item ("item-1", 0), s_item ("item-2", 25) };
    tly_msg_t msgs [5];
    assert (tly_msg_create_order (&msgs [0], items, 2, NULL) == 0);
    assert (tly_msg_edit_order (&msgs [1], order_id, items + 1, 1, NULL) == 0);
    assert (tly_msg_submit_order (&msgs [2], order_id, NULL) == 0);
    assert (tly_msg_complete_order (&msgs [3], order_id, NULL) == 0);
    assert (tly_msg_fail_order (&msgs [4], order_id, "caf\xc3\xa9 froid", NULL) == 0);
    uint8_t *bytes;
    size_t size;
    const tly_account_t *user = &watch_keys.user;
    assert (tly_codec_seal (user, watch_keys.worker.sign_pk, msgs, 5, 11, &bytes, &size) == 0);
    Tally__SignedEnvelope *sealed = tally__signed_envelope__unpack (NULL, size, bytes);
    assert (sealed);
    assert (tly_verify_envelope (user->sign_pk, sealed->envelope.data, sealed->envelope.len,
                                 sealed->signature.data, sealed->signature.len));
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, sealed->envelope.len,
                                                         sealed->envelope.data);
    assert (envelope && envelope->n_messages == 5);
    Tally__InboxMessage **m = envelope->messages;
    for (size_t i = 0; i < 5; i++) {
        assert (memcmp (m [i]->message_id.data, msgs [i].id, TLY_MESSAGE_ID_BYTES) == 0);
        const char *why = NULL;
        assert (tly_validate_order_message (m [i], &why) == TALLY__ERROR_CODE__OK);
        uint32_t partition;
        assert (tly_message_partition (m [i], user->sign_pk, TLY_PARTITIONS_DEFAULT, &partition)
                == 0);
        assert (partition == tly_partition_of (user->sign_pk, TLY_PARTITIONS_DEFAULT));
    }
    assert (m [0]->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER);
    assert (m [0]->create_order->n_items == 2);
    assert (streq (m [0]->create_order->items [0]->item_id, "item-1"));
    assert (m [0]->create_order->items [0]->amount == 0);
    assert (streq (m [0]->create_order->items [1]->item_id, "item-2"));
    assert (m [0]->create_order->items [1]->amount == 25);
    assert (m [1]->body_case == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER);
    assert (streq (m [1]->edit_order->order_id, order_id) && m [1]->edit_order->n_items == 1);
    assert (m [1]->edit_order->items [0]->amount == 25);
    assert (m [2]->body_case == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER);
    assert (streq (m [2]->submit_order->order_id, order_id));
    assert (m [3]->body_case == TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER);
    assert (streq (m [3]->complete_order->order_id, order_id));
    assert (m [4]->body_case == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER);
    assert (streq (m [4]->fail_order->order_id, order_id));
    assert (streq (m [4]->fail_order->error, "caf\xc3\xa9 froid"));
    tally__envelope__free_unpacked (envelope, NULL);
    tally__signed_envelope__free_unpacked (sealed, NULL);
    free (bytes);

    //  A message filled by hand with more lines than an order holds: not sealed.
    msgs [1].item_count = TLY_ORDER_ITEMS_MAX + 1;
    assert (tly_codec_seal (user, watch_keys.worker.sign_pk, msgs, 2, 11, &bytes, &size) == -1);
}

static void
s_check_order (const tly_order_t *order, uint64_t version, Tally__OrderStatus status, size_t n)
{
    order_fixture_t expected;
    order_fixture_order (&expected, version, status, n);
    assert (streq (order->id, expected.id) && streq (order->user_id, watch_keys.user_id));
    assert (order->status == status && order->version == version);
    assert (order->item_count == n);
    for (size_t i = 0; i < n; i++)
        assert (streq (order->items [i].item_id, expected.item_ids [i])
                && order->items [i].amount == 10 * (int64_t) (i + 1));
    assert (order->total == expected.order.total);
    assert (streq (order->error, expected.order.error));
    assert (order->created_at == expected.order.created_at
            && order->updated_at == expected.order.updated_at
            && order->submitted_at == expected.order.submitted_at
            && order->finished_at == expected.order.finished_at);
    assert (order->purchase_count == expected.order.n_purchase_ids);
    for (size_t i = 0; i < order->purchase_count; i++)
        assert (streq (order->purchase_ids [i], expected.purchase_ids [i]));
}

//  A reply of one result, the order.
static int
s_result (Tally__Order *order, tly_result_t *result, tly_error_t *error)
{
    uint8_t id [TLY_MESSAGE_ID_BYTES];
    randombytes_buf (id, sizeof id);
    Tally__MessageResult wire = TALLY__MESSAGE_RESULT__INIT;
    wire.message_id.data = id;
    wire.message_id.len = sizeof id;
    wire.outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ORDER;
    wire.order = order;
    Tally__MessageResult *list [1] = { &wire };
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.n_results = 1;
    reply.results = list;
    size_t count = 0;
    int rc = tly_codec_results (&reply, result, 1, &count, error);
    assert (rc == -1 || (count == 1 && memcmp (result->message_id, id, sizeof id) == 0));
    return rc;
}

static void
s_test_results (void)
{
    static order_fixture_t fixture;
    static tly_result_t result;
    tly_error_t error;
    const Tally__OrderStatus statuses [] = { TALLY__ORDER_STATUS__ORDER_DRAFT,
                                             TALLY__ORDER_STATUS__ORDER_PROCESSING,
                                             TALLY__ORDER_STATUS__ORDER_COMPLETED,
                                             TALLY__ORDER_STATUS__ORDER_FAILED };
    for (size_t i = 0; i < 4; i++) {
        order_fixture_order (&fixture, i + 1, statuses [i], 2 + i);
        assert (s_result (&fixture.order, &result, &error) == 0);
        assert (result.ok && result.kind == TLY_RESULT_ORDER);
        assert (result.code == TALLY__ERROR_CODE__OK);
        assert (streq (result.id, fixture.id) && streq (result.user_id, watch_keys.user_id));
        s_check_order (&result.order, i + 1, statuses [i], 2 + i);
    }
    //  At the limits, and past them: malformed.
    order_fixture_order (&fixture, 3, TALLY__ORDER_STATUS__ORDER_COMPLETED, TLY_ORDER_ITEMS_MAX);
    assert (s_result (&fixture.order, &result, &error) == 0);
    assert (result.order.item_count == TLY_ORDER_ITEMS_MAX);
    assert (result.order.purchase_count == TLY_ORDER_ITEMS_MAX);
    order_fixture_order (&fixture, 3, TALLY__ORDER_STATUS__ORDER_DRAFT, TLY_ORDER_ITEMS_MAX + 1);
    assert (s_result (&fixture.order, &result, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INTERNAL && !error.remote);
    assert (strstr (error.message, "malformed reply: order of more than 16 items"));
    order_fixture_order (&fixture, 3, TALLY__ORDER_STATUS__ORDER_COMPLETED, 2);
    fixture.order.n_purchase_ids = TLY_ORDER_ITEMS_MAX + 1;
    fixture.order.purchase_ids = fixture.purchase_list;
    for (size_t i = 0; i <= TLY_ORDER_ITEMS_MAX; i++)
        fixture.purchase_list [i] = fixture.purchase_ids [0];
    assert (s_result (&fixture.order, &result, &error) == -1);
    assert (strstr (error.message, "more than 16 purchases"));
    char item [TLY_ITEM_ID_MAX + 2], text [TLY_ORDER_ERROR_MAX + 2], id [TLY_ID_MAX + 1];
    memset (item, 'i', sizeof item - 1);
    item [sizeof item - 1] = 0;
    memset (text, 'e', sizeof text - 1);
    text [sizeof text - 1] = 0;
    memset (id, 'o', sizeof id - 1);
    id [sizeof id - 1] = 0;
    order_fixture_order (&fixture, 3, TALLY__ORDER_STATUS__ORDER_FAILED, 2);
    fixture.items [1].item_id = item;
    assert (s_result (&fixture.order, &result, &error) == -1);
    assert (strstr (error.message, "order item ID too long"));
    item [TLY_ITEM_ID_MAX] = 0;
    assert (s_result (&fixture.order, &result, &error) == 0);
    fixture.order.error = text;
    assert (s_result (&fixture.order, &result, &error) == -1);
    assert (strstr (error.message, "order field too long"));
    text [TLY_ORDER_ERROR_MAX] = 0;
    assert (s_result (&fixture.order, &result, &error) == 0);
    assert (strlen (result.order.error) == TLY_ORDER_ERROR_MAX);
    fixture.order.id = id;
    assert (s_result (&fixture.order, &result, &error) == -1);
    order_fixture_order (&fixture, 3, TALLY__ORDER_STATUS__ORDER_COMPLETED, 2);
    fixture.purchase_list [1] = id;
    assert (s_result (&fixture.order, &result, &error) == -1);
    assert (strstr (error.message, "order purchase ID too long"));
}

//  Signs state as the worker and decodes it: 0, or -1 malformed.
static int
s_object (const Tally__ObjectState *state, tly_object_t *object, tly_error_t *error)
{
    size_t size;
    uint8_t *bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, state, &size);
    Tally__SignedObject *sealed = tally__signed_object__unpack (NULL, size, bytes);
    assert (sealed);
    int rc = tly_object_decode (sealed, watch_keys.worker.sign_pk, state->object_id, object, error);
    tally__signed_object__free_unpacked (sealed, NULL);
    free (bytes);
    assert (rc == 0 || (error->code == TALLY__ERROR_CODE__INTERNAL && !error->remote));
    assert (rc == 0 || (object->orders.orders == NULL && object->order_queue.orders == NULL));
    return rc;
}

static void
s_check_summary (const tly_order_summary_t *summary, uint64_t p, bool queue)
{
    char id [TLY_ID_MAX];
    order_fixture_id (p, id);
    assert (streq (summary->id, id) && streq (summary->user_id, watch_keys.user_id));
    assert (summary->total == 10 * (int64_t) p && summary->version == p);
    assert (summary->updated_at == WATCH_UPDATED_MS + (int64_t) p);
    Tally__OrderStatus status = queue        ? TALLY__ORDER_STATUS__ORDER_PROCESSING
                                : p % 4 == 1 ? TALLY__ORDER_STATUS__ORDER_DRAFT
                                : p % 4 == 2 ? TALLY__ORDER_STATUS__ORDER_PROCESSING
                                : p % 4 == 3 ? TALLY__ORDER_STATUS__ORDER_COMPLETED
                                             : TALLY__ORDER_STATUS__ORDER_FAILED;
    assert (summary->status == status);
    assert (summary->submitted_at
            == (status == TALLY__ORDER_STATUS__ORDER_DRAFT ? 0 : summary->updated_at));
}

static void
s_test_objects (void)
{
    static order_fixture_t order;
    static order_fixture_list_t list;
    static tly_object_t object;
    tly_error_t error;
    //  An Order: its kind, its fields.
    order_fixture_order (&order, 4, TALLY__ORDER_STATUS__ORDER_COMPLETED, 3);
    assert (s_object (&order.state, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_ORDER && object.version == 4);
    s_check_order (&object.order, 4, TALLY__ORDER_STATUS__ORDER_COMPLETED, 3);
    tly_object_clear (&object);
    order_fixture_order (&order, 1, TALLY__ORDER_STATUS__ORDER_DRAFT, TLY_ORDER_ITEMS_MAX + 1);
    assert (s_object (&order.state, &object, &error) == -1);
    assert (streq (error.message, "malformed object: order of more than 16 items"));
    //  An Order's value under another kind's ID, another kind's value under an Order's.
    order_fixture_order (&order, 1, TALLY__ORDER_STATUS__ORDER_DRAFT, 1);
    order_fixture_list (&list, 1, 1, 1);
    order.state.value = &list.value;
    assert (s_object (&order.state, &object, &error) == -1);
    list.state.value = &order.value;
    assert (s_object (&list.state, &object, &error) == -1);

    //  The user's OrderList: the latest of all, each summary.
    order_fixture_list (&list, 9, 40, TLY_ORDER_LIST_MAX);
    assert (s_object (&list.state, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_ORDER_LIST && object.version == 9);
    char list_id [TLY_ID_MAX];
    order_fixture_list_id (list_id);
    assert (streq (object.id, list_id) && streq (object.orders.id, list_id));
    assert (streq (object.orders.user_id, watch_keys.user_id) && object.orders.count == 40);
    assert (object.orders.order_count == TLY_ORDER_LIST_MAX);
    for (size_t i = 0; i < TLY_ORDER_LIST_MAX; i++)
        s_check_summary (&object.orders.orders [i], 40 - TLY_ORDER_LIST_MAX + 1 + i, false);
    tly_object_clear (&object);
    order_fixture_list (&list, 1, 0, 0);
    assert (s_object (&list.state, &object, &error) == 0);
    assert (object.orders.order_count == 0 && object.orders.orders == NULL);
    tly_object_clear (&object);
    //  More than it may show, more than were created, a summary's field too long.
    order_fixture_list (&list, 9, 40, TLY_ORDER_LIST_MAX + 1);
    assert (s_object (&list.state, &object, &error) == -1);
    assert (streq (error.message, "malformed object: 33 orders in a list (limit 32)"));
    order_fixture_list (&list, 9, 3, 3);
    list.list.count = 2;
    assert (s_object (&list.state, &object, &error) == -1);
    assert (streq (error.message, "malformed object: 3 orders listed of 2 in all"));
    char long_id [TLY_ID_MAX + 1];
    memset (long_id, 'o', sizeof long_id - 1);
    long_id [sizeof long_id - 1] = 0;
    order_fixture_list (&list, 9, 3, 3);
    list.summaries [2].user_id = long_id;
    assert (s_object (&list.state, &object, &error) == -1);
    assert (streq (error.message, "malformed object: order summary ID too long"));

    //  A partition's OrderQueue: at its limit, past it.
    order_fixture_queue (&list, 7, TLY_ORDER_QUEUE_MAX);
    assert (s_object (&list.state, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_ORDER_QUEUE && object.version == 7);
    assert (streq (object.order_queue.id, list.id));
    assert (object.order_queue.partition
            == tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT));
    assert (object.order_queue.order_count == TLY_ORDER_QUEUE_MAX);
    for (size_t i = 0; i < TLY_ORDER_QUEUE_MAX; i++)
        s_check_summary (&object.order_queue.orders [i], i + 1, true);
    tly_object_clear (&object);
    order_fixture_queue (&list, 7, TLY_ORDER_QUEUE_MAX + 1);
    assert (s_object (&list.state, &object, &error) == -1);
    assert (streq (error.message, "malformed object: 257 orders in a queue (limit 256)"));
    order_fixture_queue (&list, 7, 2);
    list.summaries [1].id = long_id;
    assert (s_object (&list.state, &object, &error) == -1);

    //  A UserBalance's held amount.
    watch_balance_t balance;
    watch_balance_state (&balance, 5, 100);
    balance.balance.held = 60;
    assert (s_object (&balance.state, &object, &error) == 0);
    assert (object.balance.balance == 100 && object.balance.held == 60);
    tly_object_clear (&object);
}

static void
s_test_ids (void)
{
    char id [TLY_ID_MAX], expected [TLY_ID_MAX];
    tly_orders_id (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT, id);
    tly_user_object_id (TLY_OBJ_ORDER_LIST, watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT,
                        expected);
    assert (streq (id, expected));
    tly_object_kind_t kind;
    uint32_t partition;
    assert (tly_object_id_parse (id, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_ORDER_LIST
            && partition == tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT));
    tly_orders_id (watch_keys.user.sign_pk, 1, id);
    assert (tly_object_id_parse (id, &kind, &partition, NULL) == 0 && partition == 0);
    assert (streq (tly_order_status_name (TALLY__ORDER_STATUS__ORDER_DRAFT), "draft"));
    assert (streq (tly_order_status_name (TALLY__ORDER_STATUS__ORDER_PROCESSING), "processing"));
    assert (streq (tly_order_status_name (TALLY__ORDER_STATUS__ORDER_COMPLETED), "completed"));
    assert (streq (tly_order_status_name (TALLY__ORDER_STATUS__ORDER_FAILED), "failed"));
    assert (streq (tly_order_status_name (TALLY__ORDER_STATUS__ORDER_STATUS_NONE), "none"));
    assert (streq (tly_order_status_name ((Tally__OrderStatus) 99), "none"));
}

void
tly_order_test (bool verbose)
{
    if (verbose)
        printf (" * tly_order: ");
    assert (sodium_init () >= 0);
    watch_fixture_init ();
    s_test_messages ();
    s_test_refused ();
    s_test_seal ();
    s_test_results ();
    s_test_objects ();
    s_test_ids ();
    if (verbose)
        printf ("OK\n");
}
