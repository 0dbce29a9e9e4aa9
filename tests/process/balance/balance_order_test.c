//  balance_order_test - the real tally-balance binary between a fake router,
//  a fake audit writer and a fake update bus: an order's life on the read
//  path (docs/protocol.md "Orders").
//
//  Checks: a user creates an order and submits it, the worker completes
//  it; each accepted message publishes, after the journal's ack, the Order,
//  the partition's OrderQueue (when the order entered or left it), the
//  UserBalance (with its hold, when the balance or the hold changed), the
//  PurchaseLog (on completion, with the order's records) and the OrderList,
//  each at its next version; the OrderQueue is the worker's to read, an
//  Order its user's and the worker's.
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_harness.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_EPOCH 3

//  One signed envelope of sender holding message (its ID is set here).
static Tally__SignedEnvelope *
s_envelope (harness_t *test, const tly_account_t *sender, Tally__InboxMessage *message)
{
    uint8_t id [TLY_MESSAGE_ID_BYTES];
    tly_message_id_new (id, tly_now_ms ());
    message->message_id = (ProtobufCBinaryData) { sizeof id, id };
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) sender->sign_pk };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, test->worker.sign_pk };
    envelope.timestamp_ms = tly_now_ms ();
    envelope.n_messages = 1;
    envelope.messages = &message;
    Tally__SignedEnvelope *signed_envelope = malloc (sizeof *signed_envelope);
    tally__signed_envelope__init (signed_envelope);
    signed_envelope->envelope.len = tally__envelope__get_packed_size (&envelope);
    signed_envelope->envelope.data = malloc (signed_envelope->envelope.len);
    tally__envelope__pack (&envelope, signed_envelope->envelope.data);
    signed_envelope->signature.len = TLY_SIGNATURE_BYTES;
    signed_envelope->signature.data = malloc (TLY_SIGNATURE_BYTES);
    tly_sign_envelope (sender->sign_sk, signed_envelope->envelope.data,
                       signed_envelope->envelope.len, signed_envelope->signature.data);
    return signed_envelope;
}

//  Routes message of sender to partition and returns its one reply.
static Tally__RouteReply *
s_send (harness_t *test, const tly_account_t *sender, uint32_t partition, uint64_t route_id,
        Tally__InboxMessage *message)
{
    Tally__SignedEnvelope *envelope = s_envelope (test, sender, message);
    harness_route (test, route_id, partition, envelope);
    Tally__RouteReply *reply = NULL;
    harness_collect_replies (test, &reply, 1);
    assert (reply->route_id == route_id && reply->n_results == 1);
    harness_free_envelope (envelope);
    return reply;
}

static Tally__OrderItem s_item = { PROTOBUF_C_MESSAGE_INIT (&tally__order_item__descriptor), "lamp",
                                   30 };
static Tally__OrderItem *s_items [] = { &s_item };

static Tally__RouteReply *
s_create (harness_t *test, harness_user_t *user, uint64_t route_id)
{
    Tally__CreateOrder create = TALLY__CREATE_ORDER__INIT;
    create.n_items = 1;
    create.items = s_items;
    Tally__InboxMessage message = TALLY__INBOX_MESSAGE__INIT;
    message.body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
    message.create_order = &create;
    return s_send (test, &user->account, user->partition, route_id, &message);
}

static Tally__RouteReply *
s_edit (harness_t *test, harness_user_t *user, const char *order_id, uint64_t route_id)
{
    Tally__EditOrder edit = TALLY__EDIT_ORDER__INIT;
    edit.order_id = (char *) order_id;
    edit.n_items = 1;
    edit.items = s_items;
    Tally__InboxMessage message = TALLY__INBOX_MESSAGE__INIT;
    message.body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
    message.edit_order = &edit;
    return s_send (test, &user->account, user->partition, route_id, &message);
}

//  submit_order of user, or complete_order of the worker.
static Tally__RouteReply *
s_ref (harness_t *test, const tly_account_t *sender, uint32_t partition,
       Tally__InboxMessage__BodyCase body, const char *order_id, uint64_t route_id)
{
    Tally__OrderRef ref = TALLY__ORDER_REF__INIT;
    ref.order_id = (char *) order_id;
    Tally__InboxMessage message = TALLY__INBOX_MESSAGE__INIT;
    message.body_case = body;
    if (body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER)
        message.submit_order = &ref;
    else
        message.complete_order = &ref;
    return s_send (test, sender, partition, route_id, &message);
}

//  The next bus message, which must be the object's; its state (free it).
static Tally__ObjectState *
s_published (harness_t *test, const char *object_id)
{
    uint8_t topic [HARNESS_TOPIC_BYTES];
    Tally__ObjectState *state = NULL;
    Tally__BusObject *bus = harness_next_published (test, topic, &state);
    if (strcmp (state->object_id, object_id) != 0)
        fprintf (stderr, "published %s, expected %s\n", state->object_id, object_id);
    assert (strcmp (state->object_id, object_id) == 0);
    tally__bus_object__free_unpacked (bus, NULL);
    return state;
}

static Tally__ErrorCode
s_ask (harness_t *test, uint64_t id, uint32_t partition, const char *object_id,
       const uint8_t *reader)
{
    harness_snapshot (test, id, partition, object_id, reader, "gw-1");
    Tally__SnapshotReply *reply = harness_next_snapshot (test);
    assert (reply->snapshot_id == id);
    Tally__ErrorCode code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
    tally__snapshot_reply__free_unpacked (reply, NULL);
    if (code == TALLY__ERROR_CODE__OK)
        tally__object_state__free_unpacked (s_published (test, object_id), NULL);
    return code;
}

int
main (void)
{
    printf (" * balance_order: ");
    fflush (stdout);
    harness_t test;
    harness_init (&test);
    harness_user_t alice, bob;
    harness_user_in (&alice, 1);
    harness_user_in (&bob, 1);
    const uint32_t owned [] = { 0, 1, 2, 3 };
    harness_start (&test);
    harness_connect_actor (&test, owned, 4, S_EPOCH);
    uint64_t route_id = 1;

    Tally__SignedEnvelope *opening = harness_envelope (&test, &alice, 100, NULL, 0);
    harness_route (&test, route_id++, alice.partition, opening);
    Tally__RouteReply *reply = NULL;
    harness_collect_replies (&test, &reply, 1);
    assert (harness_code (reply) == TALLY__ERROR_CODE__OK);
    tally__route_reply__free_unpacked (reply, NULL);
    harness_free_envelope (opening);

    //  Alice's order, its objects watched.
    reply = s_create (&test, &alice, route_id++);
    assert (reply->results [0]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER);
    char order_id [TLY_ID_MAX], list_id [TLY_ID_MAX], queue_id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX], log_id [TLY_ID_MAX];
    snprintf (order_id, sizeof order_id, "%s", reply->results [0]->order->id);
    tally__route_reply__free_unpacked (reply, NULL);
    tly_user_object_id (TLY_OBJ_ORDER_LIST, alice.account.sign_pk, HARNESS_PARTITIONS, list_id);
    tly_user_object_id (TLY_OBJ_BALANCE, alice.account.sign_pk, HARNESS_PARTITIONS, balance_id);
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, alice.account.sign_pk, HARNESS_PARTITIONS, log_id);
    tly_order_queue_id (test.worker.sign_pk, alice.partition, queue_id);
    const char *watched [] = { order_id, list_id, queue_id, balance_id, log_id };
    for (size_t i = 0; i < sizeof watched / sizeof watched [0]; i++)
        harness_subscribe (&test, watched [i], true);
    //  Edits until one publishes (the subscriptions took): the Order, then
    //  the OrderList.
    uint64_t order_version = 1, list_version = 2;
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (true) {
        assert (zclock_mono () < deadline);
        reply = s_edit (&test, &alice, order_id, route_id++);
        assert (harness_code (reply) == TALLY__ERROR_CODE__OK);
        tally__route_reply__free_unpacked (reply, NULL);
        order_version++;
        list_version++;
        harness_pump (&test, HARNESS_NOTHING, HARNESS_QUIET_MS);
        if (zlist_size (test.published) < 2) {
            zmsg_t *message;
            while ((message = zlist_pop (test.published)))
                zmsg_destroy (&message);
            continue;
        }
        Tally__ObjectState *state = s_published (&test, order_id);
        assert (state->version == order_version);
        tally__object_state__free_unpacked (state, NULL);
        state = s_published (&test, list_id);
        assert (state->version == list_version && state->value->orders->count == 1);
        tally__object_state__free_unpacked (state, NULL);
        break;
    }

    //  Submit: the Order, the queue entered, the balance's hold, the list.
    reply = s_ref (&test, &alice.account, alice.partition, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER,
                   order_id, route_id++);
    assert (harness_code (reply) == TALLY__ERROR_CODE__OK);
    tally__route_reply__free_unpacked (reply, NULL);
    Tally__ObjectState *state = s_published (&test, order_id);
    assert (state->version == ++order_version
            && state->value->order->status == TALLY__ORDER_STATUS__ORDER_PROCESSING);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, queue_id);
    assert (state->version == 2 && state->value->order_queue->n_orders == 1);
    assert (strcmp (state->value->order_queue->orders [0]->id, order_id) == 0);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, balance_id);
    assert (state->version == 2 && state->value->balance->held == 30
            && state->value->balance->balance == 100);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, list_id);
    assert (state->version == ++list_version);
    tally__object_state__free_unpacked (state, NULL);

    //  Who reads what: the queue is the worker's; the order its user's too.
    assert (s_ask (&test, 10, alice.partition, queue_id, alice.account.sign_pk)
            == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (s_ask (&test, 11, alice.partition, queue_id, test.worker.sign_pk)
            == TALLY__ERROR_CODE__OK);
    assert (s_ask (&test, 12, alice.partition, order_id, alice.account.sign_pk)
            == TALLY__ERROR_CODE__OK);
    assert (s_ask (&test, 13, alice.partition, order_id, bob.account.sign_pk)
            == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (s_ask (&test, 14, alice.partition, list_id, bob.account.sign_pk)
            == TALLY__ERROR_CODE__PERMISSION_DENIED);

    //  Alice may not complete it; the worker does: captured, one purchase.
    reply = s_ref (&test, &alice.account, alice.partition,
                   TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, order_id, route_id++);
    assert (harness_code (reply) == TALLY__ERROR_CODE__OK
            && reply->results [0]->error->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    tally__route_reply__free_unpacked (reply, NULL);
    reply = s_ref (&test, &test.worker, alice.partition, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER,
                   order_id, route_id++);
    assert (harness_code (reply) == TALLY__ERROR_CODE__OK);
    assert (reply->results [0]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER
            && reply->results [0]->order->n_purchase_ids == 1);
    tally__route_reply__free_unpacked (reply, NULL);
    state = s_published (&test, order_id);
    assert (state->version == ++order_version
            && state->value->order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, queue_id);
    assert (state->version == 3 && state->value->order_queue->n_orders == 0);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, balance_id);
    assert (state->version == 3 && state->value->balance->held == 0
            && state->value->balance->balance == 70);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, log_id);
    assert (state->version == 2 && state->value->purchases->n_records == 1
            && state->value->purchases->count == 1
            && state->value->purchases->records [0]->amount == 30);
    tally__object_state__free_unpacked (state, NULL);
    state = s_published (&test, list_id);
    assert (state->version == ++list_version);
    assert (state->value->orders->orders [0]->status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    tally__object_state__free_unpacked (state, NULL);

    assert (harness_stop (&test) == 0);
    harness_fini (&test);
    printf ("OK\n");
    return 0;
}
