//  fuzz_sdk_reply - libFuzzer target: any bytes as a gateway's ClientReply
//  through the SDK's own decoding: the results of a send
//  (tly_codec_results), a refusal (tly_codec_remote_error) and a pushed or
//  answered object (tly_object_decode: the worker's signature, then the
//  ObjectState).
//
//  The object is decoded as it came, and once more signed again by the test
//  worker (fuzz_support.h), so that the fuzzer reaches the ObjectState
//  checks behind the signature. What must hold:
//  - results are accepted exactly when there are at most results_max and
//    each has a 16-byte message ID, an outcome and fields that fit; then
//    each says what its wire result says;
//  - an object decodes only when its signature is the worker's over its
//    state; once past the signature, it is refused only as malformed
//    (INTERNAL, object zeroed) and accepted only with a canonical ID of its
//    value's kind, a version of at least 1 and lists within their limits
//    (a PurchaseLog's entries, a Catalog's items, an Order's lines and
//    purchases, an OrderList's and an OrderQueue's summaries);
//    it decodes again with its own ID expected, and not with another's, and
//    is refused BAD_SIGNATURE when signed by another key or with one bit
//    of the signature changed.
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "tly_codec.h"
#include "tly_object.h"

static tly_result_t s_results [TLY_BATCH_MAX];

static bool
s_fits (const char *text, size_t size)
{
    return !text || strlen (text) < size;
}

//  An Order fits a tly_order_t.
static bool
s_order_ok (const Tally__Order *order)
{
    if (order->n_items > TLY_ORDER_ITEMS_MAX || order->n_purchase_ids > TLY_ORDER_ITEMS_MAX
        || !s_fits (order->id, TLY_ID_MAX) || !s_fits (order->user_id, TLY_ID_MAX)
        || !s_fits (order->error, TLY_ORDER_ERROR_MAX + 1))
        return false;
    for (size_t i = 0; i < order->n_items; i++)
        if (!s_fits (order->items [i]->item_id, TLY_ITEM_ID_MAX + 1))
            return false;
    for (size_t i = 0; i < order->n_purchase_ids; i++)
        if (!s_fits (order->purchase_ids [i], TLY_ID_MAX))
            return false;
    return true;
}

//  A decoded order says what its wire order says.
static void
s_check_order (const Tally__Order *wire, const tly_order_t *order)
{
    assert (strcmp (order->id, wire->id) == 0 && strcmp (order->user_id, wire->user_id) == 0);
    assert (strcmp (order->error, wire->error) == 0);
    assert (order->status == wire->status && order->total == wire->total);
    assert (order->version == wire->version && order->created_at == wire->created_at
            && order->updated_at == wire->updated_at && order->submitted_at == wire->submitted_at
            && order->finished_at == wire->finished_at);
    assert (order->item_count == wire->n_items && order->purchase_count == wire->n_purchase_ids);
    for (size_t i = 0; i < order->item_count; i++)
        assert (strcmp (order->items [i].item_id, wire->items [i]->item_id) == 0
                && order->items [i].amount == wire->items [i]->amount);
    for (size_t i = 0; i < order->purchase_count; i++)
        assert (strcmp (order->purchase_ids [i], wire->purchase_ids [i]) == 0);
}

//  What tly_codec_results must accept, said again from the wire.
static bool
s_result_ok (const Tally__MessageResult *wire)
{
    if (wire->message_id.len != TLY_MESSAGE_ID_BYTES)
        return false;
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE)
        return s_fits (wire->balance->id, TLY_ID_MAX)
               && s_fits (wire->balance->user_id, TLY_ID_MAX);
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE)
        return s_fits (wire->purchase->id, TLY_ID_MAX)
               && s_fits (wire->purchase->user_id, TLY_ID_MAX)
               && s_fits (wire->purchase->item_id, TLY_MSG_ITEM_CAP + 1)
               && s_fits (wire->purchase->refund_id, TLY_ID_MAX);
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT)
        return s_fits (wire->adjustment->id, TLY_ID_MAX)
               && s_fits (wire->adjustment->user_id, TLY_ID_MAX)
               && s_fits (wire->adjustment->reference, TLY_MSG_REFERENCE_CAP + 1)
               && s_fits (wire->adjustment->note, TLY_MSG_NOTE_CAP + 1)
               && s_fits (wire->adjustment->by, TLY_ID_MAX);
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_CONFIG)
        return s_fits (wire->config->admin_id, TLY_ID_MAX)
               && (!wire->config->item
                   || s_fits (wire->config->item->item_id, TLY_MSG_ITEM_CAP + 1));
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER)
        return s_order_ok (wire->order);
    return wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
}

static void
s_check_result (const Tally__MessageResult *wire, const tly_result_t *result)
{
    assert (memcmp (result->message_id, wire->message_id.data, TLY_MESSAGE_ID_BYTES) == 0);
    assert (fuzz_terminated (result->message, sizeof result->message));
    assert (fuzz_terminated (result->id, sizeof result->id));
    assert (fuzz_terminated (result->user_id, sizeof result->user_id));
    assert (fuzz_terminated (result->item_id, sizeof result->item_id));
    assert (fuzz_terminated (result->reference, sizeof result->reference));
    assert (fuzz_terminated (result->note, sizeof result->note));
    assert (fuzz_terminated (result->by, sizeof result->by));
    assert (fuzz_terminated (result->admin_id, sizeof result->admin_id));
    assert (fuzz_terminated (result->refund_id, sizeof result->refund_id));
    if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE) {
        assert (result->ok && result->kind == TLY_RESULT_BALANCE);
        assert (result->balance == wire->balance->balance);
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE) {
        assert (result->ok && result->kind == TLY_RESULT_PURCHASE);
        assert (result->amount == wire->purchase->amount);
        assert (result->balance_after == wire->purchase->balance_after);
        assert (strcmp (result->item_id, wire->purchase->item_id) == 0);
        assert (result->partition_seq == wire->purchase->partition_seq);
        assert (result->refunded_at == wire->purchase->refunded_at);
        assert (strcmp (result->refund_id, wire->purchase->refund_id) == 0);
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT) {
        assert (result->ok && result->kind == TLY_RESULT_ADJUSTMENT);
        assert (result->amount == wire->adjustment->amount);
        assert (result->balance_after == wire->adjustment->balance_after);
        assert (strcmp (result->reference, wire->adjustment->reference) == 0);
        assert (strcmp (result->note, wire->adjustment->note) == 0);
        assert (strcmp (result->by, wire->adjustment->by) == 0);
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_CONFIG) {
        const Tally__ConfigChange *change = wire->config;
        assert (result->ok && result->kind == TLY_RESULT_CONFIG);
        assert (result->config_version == change->version);
        assert (strcmp (result->admin_id, change->admin_id ? change->admin_id : "") == 0);
        assert (result->has_item == (change->item != NULL));
        if (change->item)
            assert (result->price == change->item->price && result->active == change->item->active
                    && strcmp (result->item_id, change->item->item_id) == 0);
    } else if (wire->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER) {
        assert (result->ok && result->kind == TLY_RESULT_ORDER);
        s_check_order (wire->order, &result->order);
        assert (strcmp (result->id, wire->order->id) == 0);
    } else {
        assert (!result->ok && result->kind == TLY_RESULT_ERROR);
        assert (result->code == wire->error->code && result->message [0]);
    }
}

static void
s_check_results (const Tally__ClientReply *reply)
{
    bool ok = reply->n_results <= TLY_BATCH_MAX;
    for (size_t i = 0; ok && i < reply->n_results; i++)
        ok = s_result_ok (reply->results [i]);
    size_t count = SIZE_MAX;
    tly_error_t error = { .code = TALLY__ERROR_CODE__OK };
    int rc = tly_codec_results (reply, s_results, TLY_BATCH_MAX, &count, &error);
    assert ((rc == 0) == ok);
    if (rc == -1) {
        assert (error.code == TALLY__ERROR_CODE__INTERNAL && !error.remote);
        assert (strstr (error.message, "malformed reply"));
        return;
    }
    assert (count == reply->n_results);
    for (size_t i = 0; i < count; i++)
        s_check_result (reply->results [i], &s_results [i]);
    //  One result more than the caller has room for is refused.
    if (count > 0)
        assert (tly_codec_results (reply, s_results, count - 1, &count, &error) == -1);
}

static void
s_check_error (const Tally__Error *wire)
{
    tly_error_t error;
    tly_codec_remote_error (wire, &error);
    assert (error.remote && error.code == wire->code);
    assert (error.message [0] && fuzz_terminated (error.message, sizeof error.message));
}

static bool
s_zeroed (const tly_object_t *object)
{
    static const tly_object_t zero;
    return memcmp (object, &zero, sizeof zero) == 0;
}

//  An object the decoder accepted.
static void
s_check_accepted (const tly_object_t *object)
{
    assert (fuzz_terminated (object->id, sizeof object->id));
    char canonical [TLY_ID_MAX];
    tly_object_kind_t kind;
    assert (tly_object_canonical_id (object->id, canonical, &kind) == 0);
    assert (strcmp (canonical, object->id) == 0 && kind == object->kind);
    assert (object->version >= 1 && !object->ended && !object->snapshot);
    assert (object->kind != TLY_OBJ_GROUP);
    if (object->kind == TLY_OBJ_PURCHASE_LOG) {
        const tly_purchase_log_t *log = &object->purchases;
        size_t entries = log->record_count + log->adjustment_count;
        assert (entries <= TLY_OBJECT_RECORDS_MAX && entries <= log->count);
        assert ((log->records != NULL) == (log->record_count > 0));
        assert ((log->adjustments != NULL) == (log->adjustment_count > 0));
        for (size_t i = 0; i < log->record_count; i++) {
            assert (fuzz_terminated (log->records [i].item_id, sizeof log->records [i].item_id));
            assert (
                fuzz_terminated (log->records [i].refund_id, sizeof log->records [i].refund_id));
        }
        for (size_t i = 0; i < log->adjustment_count; i++)
            assert (fuzz_terminated (log->adjustments [i].note, sizeof log->adjustments [i].note));
    }
    if (object->kind == TLY_OBJ_PURCHASE)
        assert (fuzz_terminated (object->purchase.refund_id, sizeof object->purchase.refund_id));
    if (object->kind == TLY_OBJ_CATALOG) {
        const tly_catalog_t *catalog = &object->catalog;
        assert (catalog->item_count <= TLY_CATALOG_MAX);
        assert ((catalog->items != NULL) == (catalog->item_count > 0));
        for (size_t i = 0; i < catalog->item_count; i++)
            assert (
                fuzz_terminated (catalog->items [i].item_id, sizeof catalog->items [i].item_id));
    }
    if (object->kind == TLY_OBJ_ORDER) {
        const tly_order_t *order = &object->order;
        assert (order->item_count <= TLY_ORDER_ITEMS_MAX);
        assert (order->purchase_count <= TLY_ORDER_ITEMS_MAX);
        assert (fuzz_terminated (order->error, sizeof order->error));
        for (size_t i = 0; i < order->item_count; i++)
            assert (fuzz_terminated (order->items [i].item_id, sizeof order->items [i].item_id));
        for (size_t i = 0; i < order->purchase_count; i++)
            assert (fuzz_terminated (order->purchase_ids [i], sizeof order->purchase_ids [i]));
    }
    if (object->kind == TLY_OBJ_ORDER_LIST) {
        const tly_order_list_t *list = &object->orders;
        assert (list->order_count <= TLY_ORDER_LIST_MAX && list->order_count <= list->count);
        assert ((list->orders != NULL) == (list->order_count > 0));
        for (size_t i = 0; i < list->order_count; i++)
            assert (fuzz_terminated (list->orders [i].id, sizeof list->orders [i].id));
    }
    if (object->kind == TLY_OBJ_ORDER_QUEUE) {
        const tly_order_queue_t *queue = &object->order_queue;
        assert (queue->order_count <= TLY_ORDER_QUEUE_MAX);
        assert ((queue->orders != NULL) == (queue->order_count > 0));
        for (size_t i = 0; i < queue->order_count; i++)
            assert (fuzz_terminated (queue->orders [i].user_id, sizeof queue->orders [i].user_id));
    }
    if (object->kind != TLY_OBJ_ORDER_LIST)
        assert (object->orders.orders == NULL);
    if (object->kind != TLY_OBJ_ORDER_QUEUE)
        assert (object->order_queue.orders == NULL);
    const tly_group_t *group = &object->group;
    assert (group->member_count <= TLY_GROUP_MEMBERS_MAX);
    assert ((group->members != NULL) == (group->member_count > 0));
    assert (group->present || (group->member_count == 0 && !group->has_owner));
}

//  Decodes signed_object, which carries the worker's signature over its
//  state: the ObjectState checks alone decide.
static void
s_check_signed (Tally__SignedObject *signed_object)
{
    const uint8_t *worker = fuzz_account (FUZZ_WORKER)->sign_pk;
    tly_object_t object;
    tly_error_t error;
    int rc = tly_object_decode (signed_object, worker, NULL, &object, &error);
    if (rc == -1) {
        assert (error.code == TALLY__ERROR_CODE__INTERNAL && !error.remote);
        assert (strncmp (error.message, "malformed object: ", 18) == 0);
        assert (s_zeroed (&object));
        return;
    }
    s_check_accepted (&object);
    //  The state must be one ObjectState (the decoder unpacked it).
    Tally__ObjectState *state = tally__object_state__unpack (NULL, signed_object->state.len,
                                                             signed_object->state.data);
    assert (state && state->version == object.version);
    tally__object_state__free_unpacked (state, NULL);

    tly_object_t again;
    assert (tly_object_decode (signed_object, worker, object.id, &again, &error) == 0);
    assert (again.version == object.version && again.kind == object.kind);
    tly_object_clear (&again);
    char other [TLY_ID_MAX];
    tly_service_id (worker, other);
    if (strcmp (other, object.id) == 0)
        tly_balance_id (worker, 1, other);
    assert (tly_object_decode (signed_object, worker, other, &again, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INTERNAL && s_zeroed (&again));

    //  Signed by another key, or one bit of the signature off: refused.
    signed_object->signature.data [object.version % TLY_SIGNATURE_BYTES] ^= 0x10;
    assert (tly_object_decode (signed_object, worker, NULL, &again, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE && s_zeroed (&again));
    fuzz_sign_into (&signed_object->signature, TLY_DOMAIN_OBJECT, fuzz_account (FUZZ_CLIENT_A),
                    signed_object->state.data, signed_object->state.len);
    assert (tly_object_decode (signed_object, worker, NULL, &again, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    tly_object_clear (&object);
}

static void
s_check_object (Tally__SignedObject *signed_object)
{
    const uint8_t *worker = fuzz_account (FUZZ_WORKER)->sign_pk;
    //  As it came: the signature decides first.
    tly_object_t object;
    tly_error_t error;
    bool signature = tly_verify_domain (TLY_DOMAIN_OBJECT, worker, signed_object->state.data,
                                        signed_object->state.len, signed_object->signature.data,
                                        signed_object->signature.len);
    int rc = tly_object_decode (signed_object, worker, NULL, &object, &error);
    if (!signature)
        assert (rc == -1 && error.code == TALLY__ERROR_CODE__BAD_SIGNATURE && s_zeroed (&object));
    else if (rc == 0)
        s_check_accepted (&object);
    else
        assert (error.code == TALLY__ERROR_CODE__INTERNAL && s_zeroed (&object));
    tly_object_clear (&object);
    //  Signed by the worker.
    fuzz_sign_into (&signed_object->signature, TLY_DOMAIN_OBJECT, fuzz_account (FUZZ_WORKER),
                    signed_object->state.data, signed_object->state.len);
    s_check_signed (signed_object);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, size, data);
    if (!reply)
        return 0;
    s_check_results (reply);
    if (reply->error)
        s_check_error (reply->error);
    if (reply->object)
        s_check_object (reply->object);
    tally__client_reply__free_unpacked (reply, NULL);
    return 0;
}
