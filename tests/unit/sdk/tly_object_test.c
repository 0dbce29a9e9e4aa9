//  tly_object_test - signed objects verified, decoded and tampered with,
//  object IDs, signed subscribes and version order.
#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fake_gateway.h"
#include "tally.h"
#include "tly_codec.h"
#include "tly_object.h"
#include "tly_sign.h"
#include "tly_wire.h"
#include "watch_fixture.h"

//  Decodes bytes as a SignedObject and runs tly_object_decode on it.
static int
s_decode (const uint8_t *bytes, size_t size, const char *expected, tly_object_t *object,
          tly_error_t *error)
{
    Tally__SignedObject *sealed = tally__signed_object__unpack (NULL, size, bytes);
    assert (sealed);
    int rc = tly_object_decode (sealed, watch_keys.worker.sign_pk, expected, object, error);
    tally__signed_object__free_unpacked (sealed, NULL);
    return rc;
}

//  Signs state as the worker and expects decoding to fail with code.
static void
s_expect_refused (const Tally__ObjectState *state, Tally__ErrorCode code)
{
    size_t size;
    uint8_t *bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, state, &size);
    tly_object_t object;
    tly_error_t error;
    assert (s_decode (bytes, size, NULL, &object, &error) == -1);
    assert (error.code == code && !error.remote);
    assert (object.kind == 0 && object.purchases.records == NULL && object.group.members == NULL);
    free (bytes);
}

static void
s_test_decode (void)
{
    tly_object_t object;
    tly_error_t error;
    size_t size;
    uint8_t *bytes = watch_balance (&watch_keys.worker, 3, 75, &size);
    assert (s_decode (bytes, size, watch_keys.balance_id, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_BALANCE && streq (object.id, watch_keys.balance_id));
    assert (object.version == 3 && object.updated_ms == WATCH_UPDATED_MS + 3);
    assert (!object.snapshot && !object.ended && object.code == TALLY__ERROR_CODE__OK);
    assert (streq (object.balance.id, watch_keys.balance_id)
            && streq (object.balance.user_id, watch_keys.user_id));
    assert (object.balance.balance == 75 && object.balance.last_updated == WATCH_UPDATED_MS + 3);
    assert (object.group.present && streq (object.group.id, "co_zGroup") && object.group.has_owner);
    assert (memcmp (object.group.owner, watch_keys.worker.sign_pk, TLY_KEY_BYTES) == 0);
    assert (object.group.member_count == 1 && !object.group.members [0].everyone);
    assert (object.group.members [0].role == TALLY__ROLE__READER);
    assert (memcmp (object.group.members [0].account, watch_keys.user.sign_pk, TLY_KEY_BYTES) == 0);
    tly_object_clear (&object);
    tly_object_clear (&object);
    assert (s_decode (bytes, size, NULL, &object, &error) == 0);
    tly_object_clear (&object);

    //  Another object than the one asked for, though well signed.
    assert (s_decode (bytes, size, watch_keys.root_id, &object, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INTERNAL && !error.remote);

    //  The signature covers every byte of the state, and only the worker's counts.
    Tally__SignedObject *sealed = tally__signed_object__unpack (NULL, size, bytes);
    assert (tly_object_decode (sealed, watch_keys.forger.sign_pk, NULL, &object, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE && !error.remote);
    for (size_t at = 0; at < sealed->state.len; at += 7) {
        sealed->state.data [at] ^= 0x20;
        assert (tly_object_decode (sealed, watch_keys.worker.sign_pk, NULL, &object, &error) == -1);
        assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE);
        sealed->state.data [at] ^= 0x20;
    }
    sealed->signature.len = TLY_SIGNATURE_BYTES - 1;
    assert (tly_object_decode (sealed, watch_keys.worker.sign_pk, NULL, &object, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    tally__signed_object__free_unpacked (sealed, NULL);
    assert (tly_object_decode (NULL, watch_keys.worker.sign_pk, NULL, &object, &error) == -1);
    free (bytes);
    bytes = watch_balance (&watch_keys.forger, 3, 75, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    free (bytes);
    //  The worker's signature made for another purpose does not count either.
    watch_balance_t b;
    watch_balance_state (&b, 3, 75);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_ENVELOPE, &b.state, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    free (bytes);

    //  Well signed but malformed.
    watch_balance_state (&b, 0, 75);
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    watch_balance_state (&b, 1, 75);
    b.state.object_id = watch_keys.root_id;  //  a balance under a root's ID
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    watch_balance_state (&b, 1, 75);
    b.state.object_id = "co_zNotAnObject";
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    watch_balance_state (&b, 1, 75);
    b.state.value = NULL;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    watch_balance_state (&b, 1, 75);
    b.member.account.len = 5;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    watch_balance_state (&b, 1, 75);
    b.group.owner.len = 31;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    char long_id [TLY_ID_MAX + 1];
    memset (long_id, 'z', TLY_ID_MAX);
    long_id [TLY_ID_MAX] = 0;
    watch_balance_state (&b, 1, 75);
    b.balance.user_id = long_id;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);

    //  Public read: `everyone` is a member without an account.
    watch_balance_state (&b, 1, 75);
    b.member.account.len = 0;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &b.state, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == 0);
    assert (object.group.member_count == 1 && object.group.members [0].everyone);
    tly_object_clear (&object);
    free (bytes);

    //  A purchase log: records in order, no more than its count, items that fit.
    watch_log_t l;
    watch_log_state (&l, 4, 4, 2);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, &size);
    assert (s_decode (bytes, size, watch_keys.purchases_id, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_PURCHASE_LOG && object.purchases.count == 4);
    assert (object.purchases.record_count == 2 && !object.group.present);
    assert (streq (object.purchases.records [0].item_id, "item-3"));
    assert (object.purchases.records [1].amount == 4
            && object.purchases.records [1].balance_after == 96);
    tly_object_clear (&object);
    free (bytes);
    watch_log_state (&l, 4, 4, 2);
    l.log.count = 1;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);
    char long_item [TLY_MSG_ITEM_CAP + 2];
    memset (long_item, 'x', sizeof long_item - 1);
    long_item [sizeof long_item - 1] = 0;
    watch_log_state (&l, 4, 4, 2);
    l.records [1].item_id = long_item;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);

    //  A history: purchases and adjustments in two lists, both counted.
    watch_history_state (&l, 6, 6, 4, 3);  //  entries 3..6: 3 and 6 adjustments
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, &size);
    assert (s_decode (bytes, size, watch_keys.purchases_id, &object, &error) == 0);
    const tly_purchase_log_t *log = &object.purchases;
    assert (log->count == 6 && log->record_count == 2 && log->adjustment_count == 2);
    assert (streq (log->records [0].item_id, "item-4")
            && streq (log->records [1].item_id, "item-5"));
    const tly_adjustment_t *credit = &log->adjustments [0], *debit = &log->adjustments [1];
    assert (streq (credit->id, "co_zAdjustment3") && streq (credit->user_id, watch_keys.user_id));
    assert (credit->amount == 3 && credit->balance_after == 103);
    assert (streq (credit->reference, "ref-3") && streq (credit->note, "note 3"));
    assert (credit->timestamp == WATCH_UPDATED_MS + 3 && streq (credit->by, watch_keys.worker_id));
    assert (debit->amount == -6 && debit->balance_after == 94 && streq (debit->reference, "ref-6"));
    tly_object_clear (&object);
    assert (object.purchases.adjustments == NULL);
    free (bytes);
    //  Only adjustments; more entries than the count; a field too long.
    watch_history_state (&l, 2, 2, 2, 1);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == 0);
    assert (object.purchases.record_count == 0 && object.purchases.records == NULL);
    assert (object.purchases.adjustment_count == 2);
    tly_object_clear (&object);
    free (bytes);
    watch_history_state (&l, 6, 6, 4, 3);
    l.log.count = 3;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);
    char long_note [TLY_MSG_NOTE_CAP + 2];
    memset (long_note, 'n', sizeof long_note - 1);
    long_note [sizeof long_note - 1] = 0;
    watch_history_state (&l, 6, 6, 4, 3);
    l.adjustments [1].note = long_note;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);
    watch_history_state (&l, 6, 6, 4, 3);
    l.adjustments [0].by = long_id;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);
    //  An adjustment where the ID says a balance.
    watch_balance_state (&b, 1, 75);
    Tally__AdjustmentRecord stray;
    Tally__ObjectValue stray_value;
    Tally__ObjectState stray_state;
    char adjustment_id [TLY_ID_MAX];
    watch_adjustment_state (&stray_state, &stray_value, &stray, 3, adjustment_id);
    b.state.value = &stray_value;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
    //  An AdjustmentRecord, an object of its own (kind 7).
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &stray_state, &size);
    assert (s_decode (bytes, size, adjustment_id, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_ADJUSTMENT && streq (object.id, adjustment_id));
    assert (streq (object.adjustment.id, adjustment_id) && object.adjustment.amount == 3);
    assert (streq (object.adjustment.reference, "ref-3")
            && streq (object.adjustment.note, "note 3"));
    assert (object.adjustment.balance_after == 103
            && streq (object.adjustment.by, watch_keys.worker_id));
    tly_object_clear (&object);
    free (bytes);
    stray.reference = long_note;
    s_expect_refused (&stray_state, TALLY__ERROR_CODE__INTERNAL);

    //  A PurchaseRecord, an object of its own (kind 2): version 1, then
    //  version 2 refunded, naming its refund; a refund ID that does not fit.
    watch_purchase_t p;
    for (int refunded = 0; refunded <= 1; refunded++) {
        watch_purchase_state (&p, refunded);
        bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &p.state, &size);
        assert (s_decode (bytes, size, p.id, &object, &error) == 0);
        assert (object.kind == TLY_OBJ_PURCHASE && object.version == (uint64_t) (1 + refunded));
        const tly_purchase_t *purchase = &object.purchase;
        assert (streq (purchase->id, p.id) && streq (purchase->user_id, watch_keys.user_id));
        assert (streq (purchase->item_id, "item-1") && purchase->amount == 25
                && purchase->balance_after == 75 && purchase->timestamp == WATCH_UPDATED_MS + 1);
        assert (purchase->partition_seq == 9);
        if (refunded)
            assert (streq (purchase->refund_id, p.refund_id)
                    && purchase->refunded_at == WATCH_UPDATED_MS + 2);
        else
            assert (*purchase->refund_id == 0 && purchase->refunded_at == 0);
        tly_object_clear (&object);
        free (bytes);
    }
    watch_purchase_state (&p, true);
    p.record.refund_id = long_id;
    s_expect_refused (&p.state, TALLY__ERROR_CODE__INTERNAL);
    //  A purchase log's records carry them too.
    watch_log_state (&l, 4, 4, 2);
    l.records [0].partition_seq = 3;
    l.records [0].refund_id = p.refund_id;
    l.records [0].refunded_at = 77;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, &size);
    assert (s_decode (bytes, size, watch_keys.purchases_id, &object, &error) == 0);
    assert (object.purchases.records [0].partition_seq == 3
            && streq (object.purchases.records [0].refund_id, p.refund_id)
            && object.purchases.records [0].refunded_at == 77);
    assert (*object.purchases.records [1].refund_id == 0);
    tly_object_clear (&object);
    free (bytes);
    watch_log_state (&l, 4, 4, 2);
    l.records [1].refund_id = long_id;
    s_expect_refused (&l.state, TALLY__ERROR_CODE__INTERNAL);

    //  The public ServiceInfo.
    char service_id [TLY_ID_MAX];
    tly_service_id (watch_keys.worker.sign_pk, service_id);
    Tally__ServiceInfo info = TALLY__SERVICE_INFO__INIT;
    info.id = service_id;
    info.worker_id = watch_keys.worker_id;
    info.max_initial_balance = 100;
    info.max_amount = 1000;
    info.partition_count = 256;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_SERVICE;
    value.service = &info;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = service_id;
    state.version = 1;
    state.value = &value;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &state, &size);
    assert (s_decode (bytes, size, service_id, &object, &error) == 0);
    assert (object.kind == TLY_OBJ_SERVICE
            && streq (object.service.worker_id, watch_keys.worker_id));
    assert (object.service.max_amount == 1000 && object.service.partition_count == 256);
    tly_object_clear (&object);
    free (bytes);

    //  Version order.
    assert (tly_object_sequence (0, 1) == TLY_SEQUENCE_NEXT);
    assert (tly_object_sequence (4, 5) == TLY_SEQUENCE_NEXT);
    assert (tly_object_sequence (5, 5) == TLY_SEQUENCE_OLD);
    assert (tly_object_sequence (5, 2) == TLY_SEQUENCE_OLD);
    assert (tly_object_sequence (5, 7) == TLY_SEQUENCE_GAP);
    assert (tly_object_sequence (0, 2) == TLY_SEQUENCE_GAP);
    assert (tly_object_sequence (UINT64_MAX - 1, UINT64_MAX) == TLY_SEQUENCE_NEXT);
}

//  The Catalog (kind 8): its items in order, none, the limit, an item
//  that does not fit, a value of another kind.
static void
s_test_catalog (void)
{
    char catalog_id [TLY_ID_MAX], again [TLY_ID_MAX];
    tly_catalog_id (watch_keys.worker.sign_pk, catalog_id);
    tly_catalog_object_id (watch_keys.worker.sign_pk, again);
    assert (streq (catalog_id, again));
    tly_object_kind_t kind;
    uint32_t partition;
    assert (tly_object_id_parse (catalog_id, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_CATALOG && partition == 0);
    tly_service_id (watch_keys.worker.sign_pk, again);
    assert (!streq (catalog_id, again));

    tly_object_t object;
    tly_error_t error;
    size_t size;
    uint8_t *bytes = watch_catalog (5, 4, &size);
    assert (s_decode (bytes, size, catalog_id, &object, &error) == 0);
    free (bytes);
    assert (object.kind == TLY_OBJ_CATALOG && streq (object.id, catalog_id));
    assert (object.version == 5 && streq (object.catalog.id, catalog_id));
    assert (object.catalog.config_version == 4 && object.catalog.item_count == 4);
    assert (streq (object.catalog.items [0].item_id, "item-1")
            && object.catalog.items [0].price == 10 && object.catalog.items [0].active);
    assert (streq (object.catalog.items [2].item_id, "item-3")
            && object.catalog.items [2].price == 30 && !object.catalog.items [2].active);
    assert (!object.group.present);
    tly_object_clear (&object);
    assert (object.catalog.items == NULL && object.catalog.item_count == 0);
    bytes = watch_catalog (1, 0, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == 0);
    free (bytes);
    assert (object.catalog.item_count == 0 && object.catalog.items == NULL);
    tly_object_clear (&object);

    watch_catalog_t c;
    watch_catalog_state (&c, 2, 2);
    char long_item [TLY_MSG_ITEM_CAP + 2];
    memset (long_item, 'i', sizeof long_item - 1);
    long_item [sizeof long_item - 1] = 0;
    c.items [1].item_id = long_item;
    s_expect_refused (&c.state, TALLY__ERROR_CODE__INTERNAL);
    //  More items than a catalog holds.
    watch_catalog_state (&c, 2, 1);
    Tally__CatalogItem **many = calloc (TLY_CATALOG_MAX + 1, sizeof *many);
    assert (many);
    for (size_t i = 0; i <= TLY_CATALOG_MAX; i++)
        many [i] = &c.items [0];
    c.catalog.items = many;
    c.catalog.n_items = TLY_CATALOG_MAX + 1;
    s_expect_refused (&c.state, TALLY__ERROR_CODE__INTERNAL);
    c.catalog.n_items = TLY_CATALOG_MAX;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &c.state, &size);
    assert (s_decode (bytes, size, NULL, &object, &error) == 0);
    assert (object.catalog.item_count == TLY_CATALOG_MAX);
    tly_object_clear (&object);
    free (bytes);
    free (many);
    //  A balance under the Catalog's ID, a Catalog under a balance's.
    watch_catalog_state (&c, 2, 1);
    watch_balance_t b;
    watch_balance_state (&b, 1, 75);
    c.state.value = &b.value;
    s_expect_refused (&c.state, TALLY__ERROR_CODE__INTERNAL);
    watch_catalog_state (&c, 2, 1);
    b.state.value = &c.value;
    s_expect_refused (&b.state, TALLY__ERROR_CODE__INTERNAL);
}

static void
s_test_ids_and_subscribe (void)
{
    char id [TLY_ID_MAX], again [TLY_ID_MAX];
    tly_object_kind_t kind;
    uint32_t partition;
    tly_user_object_id (TLY_OBJ_BALANCE, watch_keys.user.sign_pk, 256, again);
    assert (streq (watch_keys.balance_id, again));
    tly_purchases_id (watch_keys.user.sign_pk, 16, id);
    assert (tly_object_id_parse (id, &kind, &partition, NULL) == 0);
    assert (kind == TLY_OBJ_PURCHASE_LOG
            && partition == tly_partition_of (watch_keys.user.sign_pk, 16));
    assert (tly_object_id_parse (watch_keys.root_id, &kind, NULL, NULL) == 0
            && kind == TLY_OBJ_ROOT);
    assert (tly_object_canonical_id (watch_keys.root_id, id, &kind) == 0
            && streq (id, watch_keys.root_id));
    assert (tly_object_canonical_id ("co_zNope", id, &kind) == -1);
    assert (tly_object_canonical_id (watch_keys.user_id, id, &kind) == -1);

    size_t size;
    uint8_t *bytes = tly_codec_subscribe (&watch_keys.user, 77, watch_keys.balance_id, 1234, &size);
    Tally__ClientRequest *request = tally__client_request__unpack (NULL, size, bytes);
    assert (request && request->request_id == 77);
    assert (request->body_case == TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE);
    Tally__SignedSubscribe *sealed = request->subscribe;
    Tally__Subscribe *subscribe = tally__subscribe__unpack (NULL, sealed->subscribe.len,
                                                            sealed->subscribe.data);
    assert (subscribe && streq (subscribe->object_id, watch_keys.balance_id));
    assert (subscribe->timestamp_ms == 1234 && subscribe->reader.len == TLY_KEY_BYTES);
    assert (memcmp (subscribe->reader.data, watch_keys.user.sign_pk, TLY_KEY_BYTES) == 0);
    assert (tly_verify_domain (TLY_DOMAIN_SUBSCRIBE, watch_keys.user.sign_pk,
                               sealed->subscribe.data, sealed->subscribe.len,
                               sealed->signature.data, sealed->signature.len));
    assert (!tly_verify_domain (TLY_DOMAIN_ENVELOPE, watch_keys.user.sign_pk,
                                sealed->subscribe.data, sealed->subscribe.len,
                                sealed->signature.data, sealed->signature.len));
    tally__subscribe__free_unpacked (subscribe, NULL);
    tally__client_request__free_unpacked (request, NULL);
    free (bytes);

    int64_t ms = 0;
    assert (cli_parse_seconds ("2", 10000, &ms) == 0 && ms == 2000);
    assert (cli_parse_seconds ("0.5", 10000, &ms) == 0 && ms == 500);
    assert (cli_parse_seconds (".25", 10000, &ms) == 0 && ms == 250);
    assert (cli_parse_seconds ("1.125", 10000, &ms) == 0 && ms == 1125);
    assert (cli_parse_seconds ("10", 10000, &ms) == 0 && ms == 10000);
    const char *bad [] = { "",       ".",      "5.",     "-1", "+1", "1e3",  "0",
                           "0.0001", "1.2345", "10.001", " 1", "1 ", "0x10", "99999999999999999999",
                           NULL };
    for (size_t i = 0; bad [i]; i++)
        assert (cli_parse_seconds (bad [i], 10000, &ms) == -1);
}

void
tly_object_test (bool verbose)
{
    if (verbose)
        printf (" * tly_object: ");
    watch_fixture_init ();
    s_test_decode ();
    s_test_catalog ();
    s_test_ids_and_subscribe ();
    if (verbose)
        printf ("OK\n");
}
