//  tly_objects - the objects a balance actor serves on the read path.
#include "tly_objects.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tly_account.h"
#include "tly_log.h"

struct _tly_objects_t {
    tly_ledger_t *ledger;  //  not owned
    uint8_t worker [TLY_KEY_BYTES];
    char worker_id [TLY_ID_MAX];
    char service_id [TLY_ID_MAX];
    char service_group_id [TLY_ID_MAX];
    char catalog_id [TLY_ID_MAX];
    uint8_t catalog_key [TLY_OBJECT_KEY_BYTES];
};

tly_objects_t *
tly_objects_new (tly_ledger_t *ledger, const uint8_t worker [TLY_KEY_BYTES])
{
    assert (ledger && worker);
    tly_objects_t *self = calloc (1, sizeof (tly_objects_t));
    if (!self)
        return NULL;
    self->ledger = ledger;
    memcpy (self->worker, worker, TLY_KEY_BYTES);
    tly_account_id (worker, self->worker_id);
    tly_service_object_id (worker, self->service_id);
    tly_catalog_object_id (worker, self->catalog_id);
    int parsed = tly_object_key_parse (self->catalog_id, self->catalog_key);
    assert (parsed == 0);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_derived_key (TLY_OBJ_GROUP, 0, TLY_LABEL_SERVICE_GROUP, worker, NULL, key);
    tly_object_id (TLY_OBJ_GROUP, 0, key + 3, self->service_group_id);
    return self;
}

void
tly_objects_destroy (tly_objects_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- building

static char *
s_id (tly_arena_t *arena, const uint8_t key [TLY_STORE_OBJECT_BYTES])
{
    char *id = tly_arena_alloc (arena, TLY_ID_MAX);
    tly_object_id ((tly_object_kind_t) key [0], (uint32_t) key [1] << 8 | key [2], key + 3, id);
    return id;
}

static char *
s_account_id (tly_arena_t *arena, const uint8_t user [TLY_KEY_BYTES])
{
    char *id = tly_arena_alloc (arena, TLY_ID_MAX);
    tly_account_id (user, id);
    return id;
}

//  A group owned by the worker with one member (user, or everyone when NULL).
static Tally__Group *
s_group (tly_objects_t *self, char *id, const uint8_t *user, Tally__Role role, tly_arena_t *arena)
{
    Tally__GroupMember *member = tly_arena_alloc (arena, sizeof *member);
    tally__group_member__init (member);
    if (user)
        member->account = tly_arena_bytes (arena, user, TLY_KEY_BYTES);
    member->role = role;
    Tally__Group *group = tly_arena_alloc (arena, sizeof *group);
    tally__group__init (group);
    group->id = id;
    group->owner = tly_arena_bytes (arena, self->worker, TLY_KEY_BYTES);
    group->n_members = 1;
    group->members = tly_arena_alloc (arena, sizeof (Tally__GroupMember *));
    group->members [0] = member;
    return group;
}

//  The owner group of the user's object of kind, in partition.
static Tally__Group *
s_user_group (tly_objects_t *self, tly_object_kind_t kind, uint32_t partition,
              const uint8_t user [TLY_KEY_BYTES], tly_arena_t *arena)
{
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (kind == TLY_OBJ_ORDER || kind == TLY_OBJ_ORDER_LIST) {
        //  The seed's shared-write pattern: the user writes to their orders
        //  through the order messages.
        tly_order_group_key (user, partition, key);
        return s_group (self, s_id (arena, key), user, TALLY__ROLE__WRITER, arena);
    }
    const char *label = kind == TLY_OBJ_BALANCE ? TLY_LABEL_BALANCE_GROUP
                        : kind == TLY_OBJ_ROOT  ? TLY_LABEL_ROOT_GROUP
                                                : TLY_LABEL_GROUP;
    assert (kind == TLY_OBJ_BALANCE || kind == TLY_OBJ_ROOT || kind == TLY_OBJ_PURCHASE_LOG
            || kind == TLY_OBJ_PURCHASE || kind == TLY_OBJ_ADJUSTMENT);
    tly_derived_key (TLY_OBJ_GROUP, partition, label, user, NULL, key);
    Tally__Role role = kind == TLY_OBJ_ROOT ? TALLY__ROLE__WRITER : TALLY__ROLE__READER;
    return s_group (self, s_id (arena, key), user, role, arena);
}

static Tally__ObjectState *
s_state (char *id, uint64_t version, int64_t updated_ms, Tally__Group *group, tly_arena_t *arena)
{
    Tally__ObjectValue *value = tly_arena_alloc (arena, sizeof *value);
    tally__object_value__init (value);
    Tally__ObjectState *state = tly_arena_alloc (arena, sizeof *state);
    tally__object_state__init (state);
    state->object_id = id;
    state->version = version;
    state->updated_ms = updated_ms;
    state->value = value;
    state->group = group;
    return state;
}

static void
s_set_balance (Tally__ObjectState *state, char *user_id, int64_t balance, int64_t held,
               int64_t last_updated, tly_arena_t *arena)
{
    Tally__UserBalance *value = tly_arena_alloc (arena, sizeof *value);
    tally__user_balance__init (value);
    value->id = state->object_id;
    value->user_id = user_id;
    value->balance = balance;
    value->held = held;
    value->last_updated = last_updated;
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    state->value->balance = value;
}

static void
s_set_root (Tally__ObjectState *state, char *user_id, char *balance_id, char *purchases_id,
            tly_arena_t *arena)
{
    Tally__UserPrivateRoot *value = tly_arena_alloc (arena, sizeof *value);
    tally__user_private_root__init (value);
    value->id = state->object_id;
    value->user_id = user_id;
    value->balance_id = balance_id;
    value->purchases_id = purchases_id;
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ROOT;
    state->value->root = value;
}

static void
s_set_log (Tally__ObjectState *state, char *user_id, uint64_t count,
           Tally__PurchaseRecord **records, size_t n_records, Tally__AdjustmentRecord **adjustments,
           size_t n_adjustments, tly_arena_t *arena)
{
    Tally__PurchaseLog *value = tly_arena_alloc (arena, sizeof *value);
    tally__purchase_log__init (value);
    value->id = state->object_id;
    value->user_id = user_id;
    value->count = count;
    value->records = records;
    value->n_records = n_records;
    value->adjustments = adjustments;
    value->n_adjustments = n_adjustments;
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASES;
    state->value->purchases = value;
}

//  ---------------------------------------------------------------- permission

bool
tly_objects_may_read (tly_objects_t *self, const Tally__Group *group,
                      const uint8_t reader [TLY_KEY_BYTES])
{
    assert (self && group && reader);
    if (memcmp (reader, self->worker, TLY_KEY_BYTES) == 0)
        return true;
    if (group->owner.len == TLY_KEY_BYTES && memcmp (group->owner.data, reader, TLY_KEY_BYTES) == 0)
        return true;
    for (size_t i = 0; i < group->n_members; i++) {
        const Tally__GroupMember *member = group->members [i];
        if (member->role == TALLY__ROLE__NO_ROLE)
            continue;
        if (member->account.len == 0)
            return true;  //  everyone
        if (member->account.len == TLY_KEY_BYTES
            && memcmp (member->account.data, reader, TLY_KEY_BYTES) == 0)
            return true;
    }
    return false;
}

//  The OrderQueue's group: kind 4 in its partition, BLAKE2b-256
//  ("order-queue" || worker key), the worker owner and no members.
static Tally__Group *
s_queue_group (tly_objects_t *self, uint32_t partition, tly_arena_t *arena)
{
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_derived_key (TLY_OBJ_GROUP, partition, TLY_LABEL_ORDER_QUEUE, self->worker, NULL, key);
    Tally__Group *group = tly_arena_alloc (arena, sizeof *group);
    tally__group__init (group);
    group->id = s_id (arena, key);
    group->owner = tly_arena_bytes (arena, self->worker, TLY_KEY_BYTES);
    return group;
}

//  An OrderList's update time: its latest shown order's, else floor (the
//  account's creation). The queue has none (0), as the catalog: its
//  snapshot and its update of a version are the same bytes.
static int64_t
s_list_updated (const Tally__OrderList *list, int64_t floor)
{
    int64_t updated = floor;
    for (size_t i = 0; i < list->n_orders; i++)
        if (list->orders [i]->updated_at > updated)
            updated = list->orders [i]->updated_at;
    return updated;
}

//  ---------------------------------------------------------------- snapshots

//  A user's balance, root or purchase log, found through the owners index.
static Tally__ErrorCode
s_user_object (tly_objects_t *self, const char *object_id, tly_object_kind_t kind,
               uint32_t partition, const uint8_t reader [TLY_KEY_BYTES], tly_arena_t *arena,
               Tally__ObjectState **state_p)
{
    uint8_t user [TLY_KEY_BYTES];
    tly_account_state_t account;
    tly_store_lookup_t found = tly_ledger_owner (self->ledger, object_id, user);
    if (found == TLY_STORE_FOUND)
        found = tly_ledger_account (self->ledger, user, &account);
    if (found != TLY_STORE_FOUND)
        return found == TLY_STORE_ABSENT ? TALLY__ERROR_CODE__NOT_FOUND
                                         : TALLY__ERROR_CODE__INTERNAL;
    Tally__Group *group = s_user_group (self, kind, partition, user, arena);
    if (!tly_objects_may_read (self, group, reader))
        return TALLY__ERROR_CODE__PERMISSION_DENIED;

    char *id = tly_arena_strdup (arena, object_id);
    char *user_id = s_account_id (arena, user);
    Tally__ObjectState *state;
    if (kind == TLY_OBJ_BALANCE) {
        state = s_state (id, account.balance_version, account.last_updated, group, arena);
        s_set_balance (state, user_id, account.balance, account.held, account.last_updated, arena);
    } else if (kind == TLY_OBJ_ROOT) {
        uint8_t key [TLY_STORE_OBJECT_BYTES];
        tly_user_object_key (TLY_OBJ_PURCHASE_LOG, user, partition, key);
        state = s_state (id, 1, account.created, group, arena);
        s_set_root (state, user_id, tly_arena_strdup (arena, account.balance_id), s_id (arena, key),
                    arena);
    } else if (kind == TLY_OBJ_ORDER_LIST) {
        Tally__OrderList *list = NULL;
        if (tly_ledger_order_list (self->ledger, user, partition, arena, &list) == -1)
            return TALLY__ERROR_CODE__INTERNAL;
        state = s_state (id, account.order_list_version, s_list_updated (list, account.created),
                         group, arena);
        state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDERS;
        state->value->orders = list;
    } else {
        assert (kind == TLY_OBJ_PURCHASE_LOG);
        uint64_t first = account.purchases > TLY_OBJECTS_LOG_WINDOW
                             ? account.purchases - TLY_OBJECTS_LOG_WINDOW + 1
                             : 1;
        tly_store_entries_t entries = {
            .purchases = tly_arena_alloc (arena, TLY_OBJECTS_LOG_WINDOW
                                                     * sizeof (Tally__PurchaseRecord *)),
            .adjustments = tly_arena_alloc (arena, TLY_OBJECTS_LOG_WINDOW
                                                       * sizeof (Tally__AdjustmentRecord *))
        };
        if (account.purchases > 0
            && tly_ledger_entries (self->ledger, user, first, TLY_OBJECTS_LOG_WINDOW, arena,
                                   &entries)
                   == -1)
            return TALLY__ERROR_CODE__INTERNAL;
        if (entries.count != account.purchases - first + 1 && account.purchases > 0) {
            tly_log (TLY_ERROR, "objects.log_short", "object_id=%s entries=%" PRIu64 " found=%zu",
                     object_id, account.purchases, entries.count);
            return TALLY__ERROR_CODE__INTERNAL;
        }
        state = s_state (id, account.log_version, account.last_updated, group, arena);
        s_set_log (state, user_id, account.purchases, entries.purchases, entries.n_purchases,
                   entries.adjustments, entries.n_adjustments, arena);
    }
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

static Tally__ErrorCode
s_purchase (tly_objects_t *self, const char *object_id, uint32_t partition,
            const uint8_t reader [TLY_KEY_BYTES], tly_arena_t *arena, Tally__ObjectState **state_p,
            const char **reason_p)
{
    Tally__PurchaseRecord *record = NULL;
    tly_ledger_kept_t kept = tly_ledger_purchase (self->ledger, object_id, arena, &record);
    if (kept == TLY_LEDGER_DROPPED)
        *reason_p = TLY_OBJECTS_DROPPED_REASON;
    if (kept != TLY_LEDGER_KEPT)
        return kept == TLY_LEDGER_LOOKUP_ERROR ? TALLY__ERROR_CODE__INTERNAL
                                               : TALLY__ERROR_CODE__NOT_FOUND;
    uint8_t user [TLY_KEY_BYTES];
    if (tly_account_id_parse (record->user_id, user) == -1) {
        tly_log (TLY_ERROR, "objects.bad_purchase", "object_id=%s", object_id);
        return TALLY__ERROR_CODE__INTERNAL;
    }
    Tally__Group *group = s_user_group (self, TLY_OBJ_PURCHASE, partition, user, arena);
    if (!tly_objects_may_read (self, group, reader))
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    //  Version 2 once refunded (docs/protocol.md "Refunds").
    bool refunded = record->refund_id && *record->refund_id;
    Tally__ObjectState *state = s_state (record->id, refunded ? 2 : 1,
                                         refunded ? record->refunded_at : record->timestamp, group,
                                         arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_PURCHASE;
    state->value->purchase = record;
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

//  A credit or debit: readable as the user's purchases are, kept for good.
static Tally__ErrorCode
s_adjustment (tly_objects_t *self, const char *object_id, uint32_t partition,
              const uint8_t reader [TLY_KEY_BYTES], tly_arena_t *arena,
              Tally__ObjectState **state_p)
{
    Tally__AdjustmentRecord *record = NULL;
    tly_store_lookup_t found = tly_ledger_adjustment (self->ledger, object_id, arena, &record);
    if (found != TLY_STORE_FOUND)
        return found == TLY_STORE_ABSENT ? TALLY__ERROR_CODE__NOT_FOUND
                                         : TALLY__ERROR_CODE__INTERNAL;
    uint8_t user [TLY_KEY_BYTES];
    if (tly_account_id_parse (record->user_id, user) == -1) {
        tly_log (TLY_ERROR, "objects.bad_adjustment", "object_id=%s", object_id);
        return TALLY__ERROR_CODE__INTERNAL;
    }
    Tally__Group *group = s_user_group (self, TLY_OBJ_ADJUSTMENT, partition, user, arena);
    if (!tly_objects_may_read (self, group, reader))
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    Tally__ObjectState *state = s_state (record->id, 1, record->timestamp, group, arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ADJUSTMENT;
    state->value->adjustment = record;
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

//  An order: readable by its user and the worker.
static Tally__ErrorCode
s_order (tly_objects_t *self, const char *object_id, uint32_t partition,
         const uint8_t reader [TLY_KEY_BYTES], tly_arena_t *arena, Tally__ObjectState **state_p)
{
    Tally__Order *order = NULL;
    tly_store_lookup_t found = tly_ledger_order (self->ledger, object_id, arena, &order);
    if (found != TLY_STORE_FOUND)
        return found == TLY_STORE_ABSENT ? TALLY__ERROR_CODE__NOT_FOUND
                                         : TALLY__ERROR_CODE__INTERNAL;
    uint8_t user [TLY_KEY_BYTES];
    if (!order->user_id || tly_account_id_parse (order->user_id, user) == -1) {
        tly_log (TLY_ERROR, "objects.bad_order", "object_id=%s", object_id);
        return TALLY__ERROR_CODE__INTERNAL;
    }
    Tally__Group *group = s_user_group (self, TLY_OBJ_ORDER, partition, user, arena);
    if (!tly_objects_may_read (self, group, reader))
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    Tally__ObjectState *state = s_state (order->id, order->version, order->updated_at, group,
                                         arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDER;
    state->value->order = order;
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

static Tally__ErrorCode
s_queue_snapshot (tly_objects_t *self, uint32_t partition, const uint8_t reader [TLY_KEY_BYTES],
                  tly_arena_t *arena, Tally__ObjectState **state_p)
{
    Tally__OrderQueue *queue = NULL;
    uint64_t version = 0;
    if (tly_ledger_order_queue (self->ledger, partition, arena, &queue, &version) == -1)
        return TALLY__ERROR_CODE__INTERNAL;
    Tally__Group *group = s_queue_group (self, partition, arena);
    if (!tly_objects_may_read (self, group, reader))
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    Tally__ObjectState *state = s_state (queue->id, version, 0, group, arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDER_QUEUE;
    state->value->order_queue = queue;
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

//  Public facts, readable by everyone. It never changes: version 1, and no
//  update time (0) so that every owner of partition 0 serves the same bytes.
static Tally__ErrorCode
s_service (tly_objects_t *self, tly_arena_t *arena, Tally__ObjectState **state_p)
{
    const tly_ledger_limits_t *limits = tly_ledger_limits (self->ledger);
    Tally__ServiceInfo *value = tly_arena_alloc (arena, sizeof *value);
    tally__service_info__init (value);
    value->id = self->service_id;
    value->worker_id = self->worker_id;
    value->max_initial_balance = limits->initial_max;
    value->max_amount = limits->amount_max;
    value->rate_per_minute = limits->rate_per_minute;
    value->rate_burst = limits->rate_per_minute ? limits->rate_burst : 0;
    value->partition_count = limits->partition_count;
    value->open_prices = limits->open_prices;
    Tally__Group *group = s_group (self, self->service_group_id, NULL, TALLY__ROLE__READER, arena);
    Tally__ObjectState *state = s_state (self->service_id, 1, 0, group, arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_SERVICE;
    state->value->service = value;
    *state_p = state;
    return TALLY__ERROR_CODE__OK;
}

//  The price catalog, readable by everyone: the committed configuration's
//  items, at version 1 + the configuration's (so every change is a newer
//  version), with no update time, so every owner of partition 0 serves the
//  same bytes for the same configuration.
Tally__ObjectState *
tly_objects_catalog (tly_objects_t *self, uint64_t version, Tally__CatalogItem **items,
                     size_t n_items, tly_arena_t *arena)
{
    assert (self && arena);
    Tally__Catalog *value = tly_arena_alloc (arena, sizeof *value);
    tally__catalog__init (value);
    value->id = self->catalog_id;
    value->config_version = version;
    value->n_items = n_items;
    value->items = items;
    Tally__Group *group = s_group (self, self->service_group_id, NULL, TALLY__ROLE__READER, arena);
    Tally__ObjectState *state = s_state (self->catalog_id, version + 1, 0, group, arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_CATALOG;
    state->value->catalog = value;
    return state;
}

static Tally__ErrorCode
s_catalog (tly_objects_t *self, tly_arena_t *arena, Tally__ObjectState **state_p)
{
    const tly_config_t *config = tly_ledger_config_committed (self->ledger);
    *state_p = tly_objects_catalog (self, tly_config_version (config),
                                    tly_config_items_to_proto (config, arena),
                                    tly_config_item_count (config), arena);
    return TALLY__ERROR_CODE__OK;
}

const char *
tly_objects_catalog_id (tly_objects_t *self)
{
    assert (self);
    return self->catalog_id;
}

const uint8_t *
tly_objects_catalog_key (tly_objects_t *self)
{
    assert (self);
    return self->catalog_key;
}

Tally__ErrorCode
tly_objects_snapshot (tly_objects_t *self, const char *object_id, uint32_t partition,
                      const uint8_t reader [TLY_KEY_BYTES], tly_arena_t *arena,
                      Tally__ObjectState **state_p, const char **reason_p)
{
    assert (self && reader && arena && state_p && reason_p);
    *state_p = NULL;
    *reason_p = NULL;
    tly_object_kind_t kind;
    uint32_t id_partition;
    if (!object_id || tly_object_id_parse (object_id, &kind, &id_partition, NULL) == -1
        || id_partition != partition)
        return TALLY__ERROR_CODE__NOT_FOUND;
    if (kind == TLY_OBJ_BALANCE || kind == TLY_OBJ_ROOT || kind == TLY_OBJ_PURCHASE_LOG
        || kind == TLY_OBJ_ORDER_LIST)
        return s_user_object (self, object_id, kind, partition, reader, arena, state_p);
    if (kind == TLY_OBJ_ORDER)
        return s_order (self, object_id, partition, reader, arena, state_p);
    if (kind == TLY_OBJ_ORDER_QUEUE) {
        char queue_id [TLY_ID_MAX];
        tly_order_queue_id (self->worker, partition, queue_id);
        if (strcmp (object_id, queue_id) == 0)
            return s_queue_snapshot (self, partition, reader, arena, state_p);
    }
    if (kind == TLY_OBJ_PURCHASE)
        return s_purchase (self, object_id, partition, reader, arena, state_p, reason_p);
    if (kind == TLY_OBJ_ADJUSTMENT)
        return s_adjustment (self, object_id, partition, reader, arena, state_p);
    if (kind == TLY_OBJ_SERVICE && strcmp (object_id, self->service_id) == 0)
        return s_service (self, arena, state_p);
    if (kind == TLY_OBJ_CATALOG && strcmp (object_id, self->catalog_id) == 0)
        return s_catalog (self, arena, state_p);
    return TALLY__ERROR_CODE__NOT_FOUND;
}

//  ---------------------------------------------------------------- updates

void
tly_objects_refs (const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                  tly_object_ref_t refs [TLY_OBJECTS_REFS])
{
    assert (user && refs);
    static const tly_object_kind_t kinds [TLY_OBJECTS_REFS] = { TLY_OBJ_ROOT, TLY_OBJ_BALANCE,
                                                                TLY_OBJ_PURCHASE_LOG,
                                                                TLY_OBJ_ORDER_LIST };
    for (size_t i = 0; i < TLY_OBJECTS_REFS; i++) {
        refs [i].kind = kinds [i];
        tly_user_object_key (kinds [i], user, partition, refs [i].key);
    }
}

bool
tly_objects_changes (const Tally__Event *event, const tly_object_ref_t *ref)
{
    assert (event && ref);
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED)
        return true;
    if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED) {
        Tally__OrderStatus status = event->order_changed->order->status;
        if (ref->kind == TLY_OBJ_BALANCE)
            return status != TALLY__ORDER_STATUS__ORDER_DRAFT;
        if (ref->kind == TLY_OBJ_PURCHASE_LOG)
            return status == TALLY__ORDER_STATUS__ORDER_COMPLETED;
        return ref->kind == TLY_OBJ_ORDER_LIST;
    }
    assert (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
            || event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED);
    //  The root never changes, nor the OrderList with a purchase.
    return ref->kind == TLY_OBJ_BALANCE || ref->kind == TLY_OBJ_PURCHASE_LOG;
}

static Tally__ObjectState *
s_created (tly_objects_t *self, const tly_object_ref_t *ref, const Tally__AccountCreated *created,
           uint32_t partition, tly_arena_t *arena)
{
    const uint8_t *user = created->user.data;
    char *user_id = s_account_id (arena, user);
    Tally__Group *group = s_user_group (self, ref->kind, partition, user, arena);
    Tally__ObjectState *state = s_state (s_id (arena, ref->key), 1, created->timestamp, group,
                                         arena);
    if (ref->kind == TLY_OBJ_BALANCE)
        s_set_balance (state, user_id, created->initial_balance, 0, created->timestamp, arena);
    else if (ref->kind == TLY_OBJ_ROOT) {
        uint8_t key [TLY_STORE_OBJECT_BYTES];
        tly_user_object_key (TLY_OBJ_PURCHASE_LOG, user, partition, key);
        s_set_root (state, user_id, created->balance_id, s_id (arena, key), arena);
    } else if (ref->kind == TLY_OBJ_ORDER_LIST) {
        Tally__OrderList *list = tly_arena_alloc (arena, sizeof *list);
        tally__order_list__init (list);
        list->id = state->object_id;
        list->user_id = user_id;
        state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDERS;
        state->value->orders = list;
    } else
        s_set_log (state, user_id, 0, NULL, 0, NULL, 0, arena);
    return state;
}

//  The state of ref's object at the version the event brought it to (of
//  the three an event changes: the UserBalance, PurchaseLog, OrderList).
static Tally__ObjectState *
s_event_state (tly_objects_t *self, const tly_object_ref_t *ref, const uint8_t *user,
               const tly_ledger_versions_t *versions, int64_t updated_ms, uint32_t partition,
               tly_arena_t *arena)
{
    Tally__Group *group = s_user_group (self, ref->kind, partition, user, arena);
    uint64_t version = ref->kind == TLY_OBJ_BALANCE        ? versions->balance
                       : ref->kind == TLY_OBJ_PURCHASE_LOG ? versions->log
                                                           : versions->order_list;
    assert (ref->kind == TLY_OBJ_BALANCE || ref->kind == TLY_OBJ_PURCHASE_LOG
            || ref->kind == TLY_OBJ_ORDER_LIST);
    return s_state (s_id (arena, ref->key), version, updated_ms, group, arena);
}

//  A PurchaseLog's record of a recorded purchase (a buy's, or an order line's).
static Tally__PurchaseRecord *
s_purchase_record (const Tally__PurchaseRecorded *recorded, char *user_id, tly_arena_t *arena)
{
    Tally__PurchaseRecord *record = tly_arena_alloc (arena, sizeof *record);
    tally__purchase_record__init (record);
    record->id = recorded->purchase_id;
    record->user_id = user_id;
    record->item_id = recorded->item_id;
    record->amount = recorded->amount;
    record->timestamp = recorded->timestamp;
    record->balance_after = recorded->balance_after;
    return record;
}

static Tally__ObjectState *
s_purchased (tly_objects_t *self, const tly_object_ref_t *ref,
             const Tally__PurchaseRecorded *recorded, const tly_ledger_versions_t *versions,
             uint32_t partition, tly_arena_t *arena)
{
    const uint8_t *user = recorded->user.data;
    char *user_id = s_account_id (arena, user);
    Tally__ObjectState *state = s_event_state (self, ref, user, versions, recorded->timestamp,
                                               partition, arena);
    if (ref->kind == TLY_OBJ_BALANCE) {
        s_set_balance (state, user_id, recorded->balance_after, versions->held, recorded->timestamp,
                       arena);
        return state;
    }
    assert (ref->kind == TLY_OBJ_PURCHASE_LOG);
    Tally__PurchaseRecord **records = tly_arena_alloc (arena, sizeof (Tally__PurchaseRecord *));
    records [0] = s_purchase_record (recorded, user_id, arena);
    s_set_log (state, user_id, versions->entries, records, 1, NULL, 0, arena);
    return state;
}

static Tally__ObjectState *
s_adjusted (tly_objects_t *self, const tly_object_ref_t *ref,
            const Tally__BalanceAdjusted *adjusted, const tly_ledger_versions_t *versions,
            uint32_t partition, tly_arena_t *arena)
{
    const uint8_t *user = adjusted->user.data;
    char *user_id = s_account_id (arena, user);
    Tally__ObjectState *state = s_event_state (self, ref, user, versions, adjusted->timestamp,
                                               partition, arena);
    if (ref->kind == TLY_OBJ_BALANCE) {
        s_set_balance (state, user_id, adjusted->balance_after, versions->held, adjusted->timestamp,
                       arena);
        return state;
    }
    assert (ref->kind == TLY_OBJ_PURCHASE_LOG);
    Tally__AdjustmentRecord *record = tly_arena_alloc (arena, sizeof *record);
    tally__adjustment_record__init (record);
    record->id = adjusted->adjustment_id;
    record->user_id = user_id;
    record->amount = adjusted->amount;
    record->reference = adjusted->reference;
    record->note = adjusted->note;
    record->timestamp = adjusted->timestamp;
    record->balance_after = adjusted->balance_after;
    record->by = s_account_id (arena, adjusted->by.data);
    Tally__AdjustmentRecord **adjustments = tly_arena_alloc (arena,
                                                             sizeof (Tally__AdjustmentRecord *));
    adjustments [0] = record;
    s_set_log (state, user_id, versions->entries, NULL, 0, adjustments, 1, arena);
    return state;
}

//  An order's change: the user's OrderList (whole, as versions has it), the
//  UserBalance (its balance and hold after), the PurchaseLog (the
//  completion's records).
static Tally__ObjectState *
s_order_changed (tly_objects_t *self, const tly_object_ref_t *ref,
                 const Tally__OrderChanged *changed, const tly_ledger_versions_t *versions,
                 uint32_t partition, tly_arena_t *arena)
{
    const uint8_t *user = changed->user.data;
    const Tally__Order *order = changed->order;
    char *user_id = s_account_id (arena, user);
    Tally__ObjectState *state = s_event_state (self, ref, user, versions, order->updated_at,
                                               partition, arena);
    if (ref->kind == TLY_OBJ_BALANCE) {
        s_set_balance (state, user_id, changed->balance_after, changed->held_after,
                       order->updated_at, arena);
        return state;
    }
    if (ref->kind == TLY_OBJ_ORDER_LIST) {
        assert (versions->list);
        state->updated_ms = s_list_updated (versions->list, 0);
        state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDERS;
        state->value->orders = versions->list;
        return state;
    }
    assert (ref->kind == TLY_OBJ_PURCHASE_LOG);
    Tally__PurchaseRecord **records = tly_arena_alloc (
        arena,
        (changed->n_purchases ? changed->n_purchases : 1) * sizeof (Tally__PurchaseRecord *));
    for (size_t i = 0; i < changed->n_purchases; i++)
        records [i] = s_purchase_record (changed->purchases [i], user_id, arena);
    s_set_log (state, user_id, versions->entries, records, changed->n_purchases, NULL, 0, arena);
    return state;
}

Tally__ObjectState *
tly_objects_order (tly_objects_t *self, const Tally__OrderChanged *changed, tly_arena_t *arena)
{
    assert (self && changed && changed->order && arena);
    Tally__Order *order = changed->order;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    int parsed = tly_object_key_parse (order->id, key);
    assert (parsed == 0);
    Tally__Group *group = s_user_group (self, TLY_OBJ_ORDER, tly_object_key_partition (key),
                                        changed->user.data, arena);
    Tally__ObjectState *state = s_state (order->id, order->version, order->updated_at, group,
                                         arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDER;
    state->value->order = order;
    return state;
}

Tally__ObjectState *
tly_objects_queue (tly_objects_t *self, uint32_t partition, const tly_ledger_versions_t *versions,
                   tly_arena_t *arena)
{
    assert (self && versions && arena);
    if (!versions->queue_state || versions->queue == 0)
        return NULL;
    Tally__OrderQueue *queue = versions->queue_state;
    Tally__ObjectState *state = s_state (queue->id, versions->queue, 0,
                                         s_queue_group (self, partition, arena), arena);
    state->value->kind_case = TALLY__OBJECT_VALUE__KIND_ORDER_QUEUE;
    state->value->order_queue = queue;
    return state;
}

Tally__ObjectState *
tly_objects_update (tly_objects_t *self, const tly_object_ref_t *ref, const Tally__Event *event,
                    const tly_ledger_versions_t *versions, tly_arena_t *arena)
{
    assert (self && ref && event && versions && arena);
    assert (versions->balance > 0);
    uint32_t partition = (uint32_t) ref->key [1] << 8 | ref->key [2];
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED) {
        assert (versions->balance == 1);
        return s_created (self, ref, event->account_created, partition, arena);
    }
    if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
        return s_order_changed (self, ref, event->order_changed, versions, partition, arena);
    assert (versions->balance > 1);
    if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED)
        return s_adjusted (self, ref, event->balance_adjusted, versions, partition, arena);
    assert (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED);
    return s_purchased (self, ref, event->purchase_recorded, versions, partition, arena);
}
