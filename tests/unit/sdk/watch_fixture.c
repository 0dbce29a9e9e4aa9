//  watch_fixture - see watch_fixture.h.
#include "watch_fixture.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

watch_keys_t watch_keys;

void
watch_fixture_init (void)
{
    assert (tly_account_generate (&watch_keys.worker) == 0);
    assert (tly_account_generate (&watch_keys.user) == 0);
    assert (tly_account_generate (&watch_keys.forger) == 0);
    tly_account_id (watch_keys.worker.sign_pk, watch_keys.worker_id);
    tly_account_id (watch_keys.user.sign_pk, watch_keys.user_id);
    tly_balance_id (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT, watch_keys.balance_id);
    tly_root_id (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT, watch_keys.root_id);
    tly_purchases_id (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT, watch_keys.purchases_id);
}

uint8_t *
watch_sign (const tly_account_t *signer, tly_domain_t domain, const Tally__ObjectState *state,
            size_t *size)
{
    size_t state_size = tally__object_state__get_packed_size (state);
    uint8_t *state_bytes = malloc (state_size);
    assert (state_bytes);
    tally__object_state__pack (state, state_bytes);
    uint8_t signature [TLY_SIGNATURE_BYTES];
    tly_sign_domain (domain, signer->sign_sk, state_bytes, state_size, signature);
    Tally__SignedObject sealed = TALLY__SIGNED_OBJECT__INIT;
    sealed.state.data = state_bytes;
    sealed.state.len = state_size;
    sealed.signature.data = signature;
    sealed.signature.len = sizeof signature;
    *size = tally__signed_object__get_packed_size (&sealed);
    uint8_t *bytes = malloc (*size);
    assert (bytes);
    tally__signed_object__pack (&sealed, bytes);
    free (state_bytes);
    return bytes;
}

void
watch_balance_state (watch_balance_t *b, uint64_t version, int64_t balance)
{
    tally__object_state__init (&b->state);
    tally__object_value__init (&b->value);
    tally__user_balance__init (&b->balance);
    tally__group__init (&b->group);
    tally__group_member__init (&b->member);
    b->balance.id = watch_keys.balance_id;
    b->balance.user_id = watch_keys.user_id;
    b->balance.balance = balance;
    b->balance.last_updated = WATCH_UPDATED_MS + (int64_t) version;
    b->value.kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    b->value.balance = &b->balance;
    b->member.account.data = watch_keys.user.sign_pk;
    b->member.account.len = TLY_KEY_BYTES;
    b->member.role = TALLY__ROLE__READER;
    b->members [0] = &b->member;
    b->group.id = "co_zGroup";
    b->group.owner.data = watch_keys.worker.sign_pk;
    b->group.owner.len = TLY_KEY_BYTES;
    b->group.n_members = 1;
    b->group.members = b->members;
    b->state.object_id = watch_keys.balance_id;
    b->state.version = version;
    b->state.updated_ms = WATCH_UPDATED_MS + (int64_t) version;
    b->state.value = &b->value;
    b->state.group = &b->group;
}

uint8_t *
watch_balance (const tly_account_t *signer, uint64_t version, int64_t balance, size_t *size)
{
    watch_balance_t b;
    watch_balance_state (&b, version, balance);
    return watch_sign (signer, TLY_DOMAIN_OBJECT, &b.state, size);
}

uint8_t *
watch_root (size_t *size)
{
    Tally__UserPrivateRoot root = TALLY__USER_PRIVATE_ROOT__INIT;
    root.id = watch_keys.root_id;
    root.user_id = watch_keys.user_id;
    root.balance_id = watch_keys.balance_id;
    root.purchases_id = watch_keys.purchases_id;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_ROOT;
    value.root = &root;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = watch_keys.root_id;
    state.version = 1;
    state.value = &value;
    return watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &state, size);
}

//  Adjustment p of watch_history into record, its strings in l's buffers i.
static void
s_adjustment (watch_log_t *l, size_t i, uint64_t p, Tally__AdjustmentRecord *record)
{
    tally__adjustment_record__init (record);
    snprintf (l->adjustment_ids [i], sizeof l->adjustment_ids [i], "co_zAdjustment%" PRIu64, p);
    snprintf (l->references [i], sizeof l->references [i], "ref-%" PRIu64, p);
    snprintf (l->notes [i], sizeof l->notes [i], "note %" PRIu64, p);
    record->id = l->adjustment_ids [i];
    record->user_id = watch_keys.user_id;
    record->amount = p % 2 ? (int64_t) p : -(int64_t) p;
    record->reference = l->references [i];
    record->note = l->notes [i];
    record->timestamp = WATCH_UPDATED_MS + (int64_t) p;
    record->balance_after = 100 + record->amount;
    record->by = watch_keys.worker_id;
}

void
watch_log_state (watch_log_t *l, uint64_t version, uint64_t count, size_t n)
{
    watch_history_state (l, version, count, n, 0);
}

void
watch_history_state (watch_log_t *l, uint64_t version, uint64_t count, size_t n, uint64_t every)
{
    assert (n <= WATCH_LOG_MAX && n <= count);
    tally__object_state__init (&l->state);
    tally__object_value__init (&l->value);
    tally__purchase_log__init (&l->log);
    size_t purchases = 0, adjustments = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t position = count - n + 1 + i;
        if (every && position % every == 0) {
            Tally__AdjustmentRecord *record = &l->adjustments [adjustments];
            s_adjustment (l, adjustments, position, record);
            l->adjustment_list [adjustments++] = record;
            continue;
        }
        size_t at = purchases++;
        Tally__PurchaseRecord *record = &l->records [at];
        tally__purchase_record__init (record);
        snprintf (l->ids [at], sizeof l->ids [at], "co_zPurchase%" PRIu64, position);
        snprintf (l->items [at], sizeof l->items [at], "item-%" PRIu64, position);
        record->id = l->ids [at];
        record->user_id = watch_keys.user_id;
        record->item_id = l->items [at];
        record->amount = (int64_t) position;
        record->timestamp = WATCH_UPDATED_MS + (every ? (int64_t) position : 0);
        record->balance_after = 100 - (int64_t) position;
        l->list [at] = record;
    }
    l->log.id = watch_keys.purchases_id;
    l->log.user_id = watch_keys.user_id;
    l->log.count = count;
    l->log.n_records = purchases;
    l->log.records = l->list;
    l->log.n_adjustments = adjustments;
    l->log.adjustments = l->adjustment_list;
    l->value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASES;
    l->value.purchases = &l->log;
    l->state.object_id = watch_keys.purchases_id;
    l->state.version = version;
    l->state.value = &l->value;
}

uint8_t *
watch_log (uint64_t version, uint64_t count, size_t n, size_t *size)
{
    watch_log_t l;
    watch_log_state (&l, version, count, n);
    return watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, size);
}

uint8_t *
watch_history (uint64_t version, uint64_t count, size_t n, uint64_t every, size_t *size)
{
    watch_log_t l;
    watch_history_state (&l, version, count, n, every);
    return watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, size);
}

void
watch_adjustment_state (Tally__ObjectState *state, Tally__ObjectValue *value,
                        Tally__AdjustmentRecord *record, uint64_t p, char *id)
{
    //  The record's strings must outlive this call: one static set.
    static watch_log_t strings;
    uint32_t partition = tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char reference [32];
    snprintf (reference, sizeof reference, "ref-%" PRIu64, p);
    tly_adjustment_key (partition, watch_keys.user.sign_pk, reference, key);
    tly_object_id_of_key (key, id);
    s_adjustment (&strings, 0, p, record);
    record->id = id;
    tally__object_value__init (value);
    value->kind_case = TALLY__OBJECT_VALUE__KIND_ADJUSTMENT;
    value->adjustment = record;
    tally__object_state__init (state);
    state->object_id = id;
    state->version = 1;
    state->updated_ms = record->timestamp;
    state->value = value;
}

void
watch_purchase_state (watch_purchase_t *p, bool refunded)
{
    tally__object_state__init (&p->state);
    tally__object_value__init (&p->value);
    tally__purchase_record__init (&p->record);
    uint32_t partition = tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT);
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0 }, key [TLY_OBJECT_KEY_BYTES];
    tly_purchase_key (partition, watch_keys.user.sign_pk, message_id, key);
    tly_object_id_of_key (key, p->id);
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (p->id, reference);
    tly_adjustment_key (partition, watch_keys.user.sign_pk, reference, key);
    tly_object_id_of_key (key, p->refund_id);
    p->record.id = p->id;
    p->record.user_id = watch_keys.user_id;
    p->record.item_id = "item-1";
    p->record.amount = 25;
    p->record.timestamp = WATCH_UPDATED_MS + 1;
    p->record.balance_after = 75;
    p->record.partition_seq = 9;
    if (refunded) {
        p->record.refund_id = p->refund_id;
        p->record.refunded_at = WATCH_UPDATED_MS + 2;
    }
    p->value.kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASE;
    p->value.purchase = &p->record;
    p->state.object_id = p->id;
    p->state.version = refunded ? 2 : 1;
    p->state.updated_ms = WATCH_UPDATED_MS + (refunded ? 2 : 1);
    p->state.value = &p->value;
}

void
watch_catalog_state (watch_catalog_t *c, uint64_t version, size_t n)
{
    assert (n <= WATCH_CATALOG_MAX && version >= 1);
    tally__object_state__init (&c->state);
    tally__object_value__init (&c->value);
    tally__catalog__init (&c->catalog);
    tly_catalog_id (watch_keys.worker.sign_pk, c->id);
    for (size_t i = 0; i < n; i++) {
        tally__catalog_item__init (&c->items [i]);
        snprintf (c->item_ids [i], sizeof c->item_ids [i], "item-%zu", i + 1);
        c->items [i].item_id = c->item_ids [i];
        c->items [i].price = 10 * (int64_t) (i + 1);
        c->items [i].active = (i + 1) % 3 != 0;
        c->list [i] = &c->items [i];
    }
    c->catalog.id = c->id;
    c->catalog.config_version = version - 1;
    c->catalog.n_items = n;
    c->catalog.items = c->list;
    c->value.kind_case = TALLY__OBJECT_VALUE__KIND_CATALOG;
    c->value.catalog = &c->catalog;
    c->state.object_id = c->id;
    c->state.version = version;
    c->state.updated_ms = WATCH_UPDATED_MS + (int64_t) version;
    c->state.value = &c->value;
}

uint8_t *
watch_catalog (uint64_t version, size_t n, size_t *size)
{
    watch_catalog_t catalog;
    watch_catalog_state (&catalog, version, n);
    return watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &catalog.state, size);
}

void
watch_serve_balance (zactor_t *fake, uint64_t version, int64_t balance)
{
    size_t size;
    uint8_t *bytes = watch_balance (&watch_keys.worker, version, balance, &size);
    fake_gateway_serve (fake, watch_keys.balance_id, bytes, size);
    free (bytes);
}
