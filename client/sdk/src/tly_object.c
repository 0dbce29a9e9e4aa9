//  tly_object - the worker's signed objects: verification, decoding, and
//  the IDs of an account's own objects.
#include "tly_object.h"
#include "tly_codec.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_sign.h"

void
tly_balance_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out)
{
    assert (account && out);
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_user_object_id (TLY_OBJ_BALANCE, account, partition_count, out);
}

void
tly_root_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out)
{
    assert (account && out);
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_user_object_id (TLY_OBJ_ROOT, account, partition_count, out);
}

void
tly_purchases_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out)
{
    assert (account && out);
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, account, partition_count, out);
}

void
tly_service_id (const uint8_t worker [TLY_KEY_BYTES], char *out)
{
    assert (worker && out);
    tly_service_object_id (worker, out);
}

void
tly_catalog_id (const uint8_t worker [TLY_KEY_BYTES], char *out)
{
    assert (worker && out);
    tly_catalog_object_id (worker, out);
}

int
tly_object_canonical_id (const char *text, char *out, tly_object_kind_t *kind)
{
    assert (text && out);
    tly_object_kind_t parsed_kind;
    uint32_t partition;
    uint8_t tail [TLY_OBJECT_TAIL_BYTES];
    if (strlen (text) >= TLY_ID_MAX
        || tly_object_id_parse (text, &parsed_kind, &partition, tail) == -1)
        return -1;
    tly_object_id (parsed_kind, partition, tail, out);
    if (kind)
        *kind = parsed_kind;
    return 0;
}

tly_sequence_t
tly_object_sequence (uint64_t last, uint64_t version)
{
    if (version <= last)
        return TLY_SEQUENCE_OLD;
    return version - last == 1 ? TLY_SEQUENCE_NEXT : TLY_SEQUENCE_GAP;
}

void
tly_object_clear (tly_object_t *object)
{
    assert (object);
    free (object->purchases.records);
    free (object->purchases.adjustments);
    free (object->catalog.items);
    free (object->orders.orders);
    free (object->order_queue.orders);
    free (object->group.members);
    memset (object, 0, sizeof *object);
}

static int s_malformed (tly_error_t *error, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_malformed (tly_error_t *error, const char *fmt, ...)
{
    error->code = TALLY__ERROR_CODE__INTERNAL;
    error->remote = false;
    int used = snprintf (error->message, sizeof error->message, "malformed object: ");
    assert (used > 0 && (size_t) used < sizeof error->message);
    va_list args;
    va_start (args, fmt);
    vsnprintf (error->message + used, sizeof error->message - (size_t) used, fmt, args);
    va_end (args);
    return -1;
}

static int
s_purchase (const Tally__PurchaseRecord *wire, tly_purchase_t *purchase, tly_error_t *error)
{
    if (!tly_codec_copy (purchase->id, sizeof purchase->id, wire->id)
        || !tly_codec_copy (purchase->user_id, sizeof purchase->user_id, wire->user_id)
        || !tly_codec_copy (purchase->item_id, sizeof purchase->item_id, wire->item_id)
        || !tly_codec_copy (purchase->refund_id, sizeof purchase->refund_id, wire->refund_id))
        return s_malformed (error, "purchase record field too long");
    purchase->amount = wire->amount;
    purchase->timestamp = wire->timestamp;
    purchase->balance_after = wire->balance_after;
    purchase->partition_seq = wire->partition_seq;
    purchase->refunded_at = wire->refunded_at;
    return 0;
}

static int
s_adjustment (const Tally__AdjustmentRecord *wire, tly_adjustment_t *adjustment, tly_error_t *error)
{
    if (!tly_codec_copy (adjustment->id, sizeof adjustment->id, wire->id)
        || !tly_codec_copy (adjustment->user_id, sizeof adjustment->user_id, wire->user_id)
        || !tly_codec_copy (adjustment->reference, sizeof adjustment->reference, wire->reference)
        || !tly_codec_copy (adjustment->note, sizeof adjustment->note, wire->note)
        || !tly_codec_copy (adjustment->by, sizeof adjustment->by, wire->by))
        return s_malformed (error, "adjustment record field too long");
    adjustment->amount = wire->amount;
    adjustment->timestamp = wire->timestamp;
    adjustment->balance_after = wire->balance_after;
    return 0;
}

static int
s_purchase_log (const Tally__PurchaseLog *wire, tly_purchase_log_t *log, tly_error_t *error)
{
    if (!tly_codec_copy (log->id, sizeof log->id, wire->id)
        || !tly_codec_copy (log->user_id, sizeof log->user_id, wire->user_id))
        return s_malformed (error, "purchase log ID too long");
    //  Each at most the limit first, so that their sum cannot wrap.
    size_t entries = wire->n_records + wire->n_adjustments;
    if (wire->n_records > TLY_OBJECT_RECORDS_MAX || wire->n_adjustments > TLY_OBJECT_RECORDS_MAX
        || entries > TLY_OBJECT_RECORDS_MAX)
        return s_malformed (error, "%zu purchase records and %zu adjustments (limit %d in all)",
                            wire->n_records, wire->n_adjustments, TLY_OBJECT_RECORDS_MAX);
    if (entries > wire->count)
        return s_malformed (error, "%zu entries of %llu in all", entries,
                            (unsigned long long) wire->count);
    log->count = wire->count;
    if (wire->n_records > 0) {
        log->records = calloc (wire->n_records, sizeof *log->records);
        assert (log->records);
    }
    for (size_t i = 0; i < wire->n_records; i++) {
        if (s_purchase (wire->records [i], &log->records [i], error) == -1)
            return -1;
        log->record_count++;
    }
    if (wire->n_adjustments > 0) {
        log->adjustments = calloc (wire->n_adjustments, sizeof *log->adjustments);
        assert (log->adjustments);
    }
    for (size_t i = 0; i < wire->n_adjustments; i++) {
        if (s_adjustment (wire->adjustments [i], &log->adjustments [i], error) == -1)
            return -1;
        log->adjustment_count++;
    }
    return 0;
}

static int
s_catalog (const Tally__Catalog *wire, tly_catalog_t *catalog, tly_error_t *error)
{
    if (!tly_codec_copy (catalog->id, sizeof catalog->id, wire->id))
        return s_malformed (error, "catalog ID too long");
    if (wire->n_items > TLY_CATALOG_MAX)
        return s_malformed (error, "%zu catalog items (limit %d)", wire->n_items, TLY_CATALOG_MAX);
    catalog->config_version = wire->config_version;
    if (wire->n_items > 0) {
        catalog->items = calloc (wire->n_items, sizeof *catalog->items);
        assert (catalog->items);
    }
    for (size_t i = 0; i < wire->n_items; i++) {
        const Tally__CatalogItem *item = wire->items [i];
        tly_catalog_item_t *out = &catalog->items [i];
        if (!tly_codec_copy (out->item_id, sizeof out->item_id, item->item_id))
            return s_malformed (error, "catalog item ID too long");
        out->price = item->price;
        out->active = item->active;
        catalog->item_count++;
    }
    return 0;
}

//  The latest TLY_ORDER_LIST_MAX of count orders created.
static int
s_order_list (const Tally__OrderList *wire, tly_order_list_t *list, tly_error_t *error)
{
    if (!tly_codec_copy (list->id, sizeof list->id, wire->id)
        || !tly_codec_copy (list->user_id, sizeof list->user_id, wire->user_id))
        return s_malformed (error, "order list ID too long");
    if (wire->n_orders > TLY_ORDER_LIST_MAX)
        return s_malformed (error, "%zu orders in a list (limit %d)", wire->n_orders,
                            TLY_ORDER_LIST_MAX);
    if (wire->n_orders > wire->count)
        return s_malformed (error, "%zu orders listed of %llu in all", wire->n_orders,
                            (unsigned long long) wire->count);
    list->count = wire->count;
    const char *what = tly_codec_order_summaries (wire->orders, wire->n_orders, &list->orders,
                                                  &list->order_count);
    return what ? s_malformed (error, "%s", what) : 0;
}

static int
s_order_queue (const Tally__OrderQueue *wire, tly_order_queue_t *queue, tly_error_t *error)
{
    if (!tly_codec_copy (queue->id, sizeof queue->id, wire->id))
        return s_malformed (error, "order queue ID too long");
    if (wire->n_orders > TLY_ORDER_QUEUE_MAX)
        return s_malformed (error, "%zu orders in a queue (limit %d)", wire->n_orders,
                            TLY_ORDER_QUEUE_MAX);
    queue->partition = wire->partition;
    const char *what = tly_codec_order_summaries (wire->orders, wire->n_orders, &queue->orders,
                                                  &queue->order_count);
    return what ? s_malformed (error, "%s", what) : 0;
}

static int
s_value (const Tally__ObjectValue *value, tly_object_t *object, tly_error_t *error)
{
    const struct {
        Tally__ObjectValue__KindCase wire;
        tly_object_kind_t kind;
    } kinds [] = { { TALLY__OBJECT_VALUE__KIND_BALANCE, TLY_OBJ_BALANCE },
                   { TALLY__OBJECT_VALUE__KIND_PURCHASE, TLY_OBJ_PURCHASE },
                   { TALLY__OBJECT_VALUE__KIND_ROOT, TLY_OBJ_ROOT },
                   { TALLY__OBJECT_VALUE__KIND_PURCHASES, TLY_OBJ_PURCHASE_LOG },
                   { TALLY__OBJECT_VALUE__KIND_SERVICE, TLY_OBJ_SERVICE },
                   { TALLY__OBJECT_VALUE__KIND_ADJUSTMENT, TLY_OBJ_ADJUSTMENT },
                   { TALLY__OBJECT_VALUE__KIND_CATALOG, TLY_OBJ_CATALOG },
                   { TALLY__OBJECT_VALUE__KIND_ORDER, TLY_OBJ_ORDER },
                   { TALLY__OBJECT_VALUE__KIND_ORDERS, TLY_OBJ_ORDER_LIST },
                   { TALLY__OBJECT_VALUE__KIND_ORDER_QUEUE, TLY_OBJ_ORDER_QUEUE } };
    bool matches = false;
    for (size_t i = 0; value && i < sizeof kinds / sizeof kinds [0]; i++)
        if (kinds [i].wire == value->kind_case && kinds [i].kind == object->kind)
            matches = true;
    if (!matches)
        return s_malformed (error, "value is not of the kind its ID %s says", object->id);

    if (object->kind == TLY_OBJ_BALANCE) {
        tly_balance_t *balance = &object->balance;
        if (!tly_codec_copy (balance->id, sizeof balance->id, value->balance->id)
            || !tly_codec_copy (balance->user_id, sizeof balance->user_id, value->balance->user_id))
            return s_malformed (error, "balance ID too long");
        balance->balance = value->balance->balance;
        balance->last_updated = value->balance->last_updated;
        balance->held = value->balance->held;
        return 0;
    }
    if (object->kind == TLY_OBJ_PURCHASE)
        return s_purchase (value->purchase, &object->purchase, error);
    if (object->kind == TLY_OBJ_ROOT) {
        tly_root_t *root = &object->root;
        if (!tly_codec_copy (root->id, sizeof root->id, value->root->id)
            || !tly_codec_copy (root->user_id, sizeof root->user_id, value->root->user_id)
            || !tly_codec_copy (root->balance_id, sizeof root->balance_id, value->root->balance_id)
            || !tly_codec_copy (root->purchases_id, sizeof root->purchases_id,
                                value->root->purchases_id))
            return s_malformed (error, "root ID too long");
        return 0;
    }
    if (object->kind == TLY_OBJ_PURCHASE_LOG)
        return s_purchase_log (value->purchases, &object->purchases, error);
    if (object->kind == TLY_OBJ_ADJUSTMENT)
        return s_adjustment (value->adjustment, &object->adjustment, error);
    if (object->kind == TLY_OBJ_CATALOG)
        return s_catalog (value->catalog, &object->catalog, error);
    if (object->kind == TLY_OBJ_ORDER) {
        const char *what = tly_codec_order (value->order, &object->order);
        return what ? s_malformed (error, "%s", what) : 0;
    }
    if (object->kind == TLY_OBJ_ORDER_LIST)
        return s_order_list (value->orders, &object->orders, error);
    if (object->kind == TLY_OBJ_ORDER_QUEUE)
        return s_order_queue (value->order_queue, &object->order_queue, error);
    assert (object->kind == TLY_OBJ_SERVICE);
    tly_service_info_t *service = &object->service;
    if (!tly_codec_copy (service->id, sizeof service->id, value->service->id)
        || !tly_codec_copy (service->worker_id, sizeof service->worker_id,
                            value->service->worker_id))
        return s_malformed (error, "service ID too long");
    service->max_initial_balance = value->service->max_initial_balance;
    service->max_amount = value->service->max_amount;
    service->partition_count = value->service->partition_count;
    service->rate_per_minute = value->service->rate_per_minute;
    service->rate_burst = value->service->rate_burst;
    service->open_prices = value->service->open_prices;
    return 0;
}

static int
s_group (const Tally__Group *wire, tly_group_t *group, tly_error_t *error)
{
    if (!wire)
        return 0;
    group->present = true;
    if (!tly_codec_copy (group->id, sizeof group->id, wire->id))
        return s_malformed (error, "group ID too long");
    if (wire->owner.len != 0 && wire->owner.len != TLY_KEY_BYTES)
        return s_malformed (error, "group owner of %zu bytes", wire->owner.len);
    group->has_owner = wire->owner.len == TLY_KEY_BYTES;
    if (group->has_owner)
        memcpy (group->owner, wire->owner.data, TLY_KEY_BYTES);
    if (wire->n_members > TLY_GROUP_MEMBERS_MAX)
        return s_malformed (error, "%zu group members (limit %d)", wire->n_members,
                            TLY_GROUP_MEMBERS_MAX);
    if (wire->n_members > 0) {
        group->members = calloc (wire->n_members, sizeof *group->members);
        assert (group->members);
    }
    for (size_t i = 0; i < wire->n_members; i++) {
        const Tally__GroupMember *member = wire->members [i];
        tly_member_t *out = &group->members [i];
        if (member->account.len != 0 && member->account.len != TLY_KEY_BYTES)
            return s_malformed (error, "group member of %zu bytes", member->account.len);
        out->everyone = member->account.len == 0;
        if (!out->everyone)
            memcpy (out->account, member->account.data, TLY_KEY_BYTES);
        out->role = member->role;
        group->member_count++;
    }
    return 0;
}

static int
s_state (const Tally__ObjectState *state, const char *expected_id, tly_object_t *object,
         tly_error_t *error)
{
    if (tly_object_canonical_id (state->object_id, object->id, &object->kind) == -1)
        return s_malformed (error, "object ID is not one");
    if (expected_id && strcmp (object->id, expected_id) != 0)
        return s_malformed (error, "object %s where %s was expected", object->id, expected_id);
    if (state->version == 0)
        return s_malformed (error, "version 0 of %s", object->id);
    object->version = state->version;
    object->updated_ms = state->updated_ms;
    if (s_value (state->value, object, error) == -1)
        return -1;
    return s_group (state->group, &object->group, error);
}

int
tly_object_decode (const Tally__SignedObject *signed_object, const uint8_t worker [TLY_KEY_BYTES],
                   const char *expected_id, tly_object_t *object, tly_error_t *error)
{
    assert (worker && object && error);
    memset (object, 0, sizeof *object);
    if (!signed_object)
        return s_malformed (error, "no object");
    if (!tly_verify_domain (TLY_DOMAIN_OBJECT, worker, signed_object->state.data,
                            signed_object->state.len, signed_object->signature.data,
                            signed_object->signature.len)) {
        error->code = TALLY__ERROR_CODE__BAD_SIGNATURE;
        error->remote = false;
        snprintf (error->message, sizeof error->message,
                  "object of %zu bytes is not signed by the worker", signed_object->state.len);
        return -1;
    }
    Tally__ObjectState *state = tally__object_state__unpack (NULL, signed_object->state.len,
                                                             signed_object->state.data);
    int rc = state ? s_state (state, expected_id, object, error)
                   : s_malformed (error, "state does not decode as an ObjectState");
    tally__object_state__free_unpacked (state, NULL);
    if (rc == -1)
        tly_object_clear (object);
    return rc;
}
