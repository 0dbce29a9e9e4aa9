//  tly_ledger_order - orders (docs/protocol.md "Orders"): a user creates an
//  order in draft, edits and submits it (its total held on the balance),
//  the worker completes it (the hold captured, a purchase per line) or
//  fails it (the hold released).
//
//  Execute decides a message and builds the order as it is after it; one
//  effect, s_effect, then writes that order and everything that follows
//  from it (the account's held amount, versions and counts, the OrderList,
//  the partition's OrderQueue, a completion's purchases). Apply replays an
//  OrderChanged through the same effect, so a state rebuilt from the
//  journal is exactly the live one.
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tly_account.h"
#include "tly_log.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_validate.h"

#define S_NO_SUCH_ORDER    "No such order"
#define S_WORKER_ONLY      "Only the worker may complete or fail an order"
#define S_TOO_MANY_OPEN    "Too many open orders"
#define S_TOO_MANY_QUEUED  "Too many orders processing; retry later"
#define S_TRANSITION_BYTES 96

static const char *
s_status_name (Tally__OrderStatus status)
{
    switch (status) {
        case TALLY__ORDER_STATUS__ORDER_DRAFT: return "draft";
        case TALLY__ORDER_STATUS__ORDER_PROCESSING: return "processing";
        case TALLY__ORDER_STATUS__ORDER_COMPLETED: return "completed";
        case TALLY__ORDER_STATUS__ORDER_FAILED: return "failed";
        default: return "unknown";
    }
}

static Tally__OrderSummary *
s_summary (tly_arena_t *arena, const Tally__Order *order)
{
    Tally__OrderSummary *summary = tly_arena_alloc (arena, sizeof *summary);
    tally__order_summary__init (summary);
    summary->id = order->id;
    summary->user_id = order->user_id;
    summary->status = order->status;
    summary->total = order->total;
    summary->version = order->version;
    summary->updated_at = order->updated_at;
    summary->submitted_at = order->submitted_at;
    return summary;
}

//  A copy of order whose scalars and arrays may be changed (the strings
//  and items are shared).
static Tally__Order *
s_copy (tly_arena_t *arena, const Tally__Order *order)
{
    Tally__Order *copy = tly_arena_alloc (arena, sizeof *copy);
    *copy = *order;
    return copy;
}

//  ---------------------------------------------------------------- the lists

//  The user's OrderList after order changed (created: appended, the oldest
//  beyond TLY_ORDER_LIST_MAX let go; else its summary replaced if shown),
//  into *list_p (in arena).
static int
s_list_update (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
               const tly_account_state_t *state, const Tally__Order *order, bool created,
               tly_arena_t *arena, Tally__OrderList **list_p)
{
    Tally__OrderList *list = NULL;
    if (tly_ledger_order_list (self, user, partition, arena, &list) == -1)
        return -1;
    Tally__OrderSummary **summaries = tly_arena_alloc (arena, (TLY_ORDER_LIST_MAX + 1)
                                                                  * sizeof (Tally__OrderSummary *));
    size_t count = 0;
    for (size_t i = 0; i < list->n_orders && i < TLY_ORDER_LIST_MAX; i++)
        summaries [count++] = list->orders [i];
    if (created)
        summaries [count++] = s_summary (arena, order);
    else
        for (size_t i = 0; i < count; i++)
            if (strcmp (summaries [i]->id, order->id) == 0)
                summaries [i] = s_summary (arena, order);
    size_t skip = count > TLY_ORDER_LIST_MAX ? count - TLY_ORDER_LIST_MAX : 0;
    list->count = state->orders_created;
    list->orders = summaries + skip;
    list->n_orders = count - skip;
    *list_p = list;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_user_object_key (TLY_OBJ_ORDER_LIST, user, partition, key);
    return tly_store_put_order_list (self->store, key, list);
}

//  Queue order: oldest submitted first, ties by ID.
static int
s_queue_before (const Tally__OrderSummary *a, const Tally__OrderSummary *b)
{
    if (a->submitted_at != b->submitted_at)
        return a->submitted_at < b->submitted_at;
    return strcmp (a->id, b->id) < 0;
}

//  The partition's OrderQueue after order entered (submitted) or left
//  (completed, failed) processing, into *queue_p (in arena), with its new
//  version.
static int
s_queue_update (tly_ledger_t *self, uint32_t partition, const Tally__Order *order, bool enter,
                uint64_t *version, tly_arena_t *arena, Tally__OrderQueue **queue_p)
{
    Tally__OrderQueue *queue = NULL;
    uint64_t before = 1;
    if (tly_ledger_order_queue (self, partition, arena, &queue, &before) == -1)
        return -1;
    size_t n = queue->n_orders;
    Tally__OrderSummary **summaries = tly_arena_alloc (arena,
                                                       (n + 1) * sizeof (Tally__OrderSummary *));
    size_t count = 0;
    Tally__OrderSummary *entering = enter ? s_summary (arena, order) : NULL;
    bool present = false;
    for (size_t i = 0; i < n; i++) {
        Tally__OrderSummary *summary = queue->orders [i];
        if (strcmp (summary->id, order->id) == 0) {
            present = true;
            continue;
        }
        if (entering && s_queue_before (entering, summary)) {
            summaries [count++] = entering;
            entering = NULL;
        }
        summaries [count++] = summary;
    }
    if (entering)
        summaries [count++] = entering;
    if (enter == present) {
        tly_log (TLY_ERROR, "ledger.bad_queue", "partition=%" PRIu32 " order=%s enter=%d",
                 partition, order->id, enter);
        return -1;
    }
    queue->orders = summaries;
    queue->n_orders = count;
    *version = before + 1;
    *queue_p = queue;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_order_queue_key (self->limits.worker, partition, key);
    return tly_store_put_order_queue (self->store, key, queue, *version);
}

//  Orders processing in the partition (for the queue's limit).
static int
s_queue_size (tly_ledger_t *self, uint32_t partition, tly_arena_t *arena, size_t *size)
{
    Tally__OrderQueue *queue = NULL;
    uint64_t version = 0;
    if (tly_ledger_order_queue (self, partition, arena, &queue, &version) == -1)
        return -1;
    *size = queue->n_orders;
    return 0;
}

//  ---------------------------------------------------------------- the effect

//  Writes after, the order as it is after the change from before (NULL: it
//  was created), of user in partition, and what follows from it; a
//  completion's purchases are recorded with their PurchaseRecorded (one
//  per line, partition_seq theirs). state is the user's account, updated.
//  Returns 0, or -1 with why in *reason when the change is not one a
//  message makes (replay of a bad record), or storage failed (*reason NULL).
static int
s_effect (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
          tly_account_state_t *state, const Tally__Order *before, const Tally__Order *after,
          Tally__PurchaseRecorded *const *purchases, size_t n_purchases, uint64_t partition_seq,
          tly_arena_t *arena, const char **reason)
{
    *reason = NULL;
    Tally__OrderStatus from = before ? before->status : TALLY__ORDER_STATUS__ORDER_STATUS_NONE;
    Tally__OrderStatus to = after->status;
    bool processing = to == TALLY__ORDER_STATUS__ORDER_PROCESSING;
    bool final = to == TALLY__ORDER_STATUS__ORDER_COMPLETED
                 || to == TALLY__ORDER_STATUS__ORDER_FAILED;
    if (after->version != (before ? before->version + 1 : 1) || after->total <= 0
        || (before && before->total != after->total && to != TALLY__ORDER_STATUS__ORDER_DRAFT)) {
        *reason = "an order's version or total does not follow";
        return -1;
    }
    //  Lines that sum to the total, each charged something: so the hold
    //  and the purchases below stay within the balance.
    int64_t sum = 0;
    bool lines = after->n_items > 0 && after->n_items <= TLY_ORDER_ITEMS_MAX;
    for (size_t i = 0; lines && i < after->n_items; i++)
        lines = after->items [i]->item_id && after->items [i]->amount > 0
                && !__builtin_add_overflow (sum, after->items [i]->amount, &sum);
    if (!lines || sum != after->total) {
        *reason = "an order's lines do not sum to its total";
        return -1;
    }
    uint64_t queue_version = 0;
    if (!before) {
        if (to != TALLY__ORDER_STATUS__ORDER_DRAFT) {
            *reason = "an order created other than a draft";
            return -1;
        }
        state->orders_created++;
        state->orders_open++;
    } else if (from == TALLY__ORDER_STATUS__ORDER_DRAFT && to == TALLY__ORDER_STATUS__ORDER_DRAFT)
        ;  //  edited
    else if (from == TALLY__ORDER_STATUS__ORDER_DRAFT && processing) {
        if (state->balance - state->held < after->total) {
            *reason = "a hold past the available balance";
            return -1;
        }
        state->held += after->total;
        state->balance_version++;
        state->last_updated = after->updated_at;
    } else if (from == TALLY__ORDER_STATUS__ORDER_PROCESSING && final) {
        if (state->held < after->total || state->orders_open == 0) {
            *reason = "a hold released that was not held";
            return -1;
        }
        state->held -= after->total;
        state->orders_open--;
        state->balance_version++;
        state->last_updated = after->updated_at;
    } else {
        *reason = "an order transition no message makes";
        return -1;
    }
    bool completed = to == TALLY__ORDER_STATUS__ORDER_COMPLETED;
    if (n_purchases != (completed ? after->n_items : 0)
        || after->n_purchase_ids != (completed ? after->n_items : 0)) {
        *reason = "a completed order's purchases are not one per line";
        return -1;
    }
    if (completed) {
        //  The hold is gone first, so held <= balance holds after every line.
        char user_id [TLY_ID_MAX];
        tly_account_id (user, user_id);
        int64_t balance = state->balance;
        for (size_t i = 0; i < n_purchases; i++) {
            const Tally__PurchaseRecorded *recorded = purchases [i];
            balance -= after->items [i]->amount;
            if (recorded->amount != after->items [i]->amount || recorded->balance_after != balance
                || balance < state->held || !recorded->purchase_id
                || strcmp (recorded->purchase_id, after->purchase_ids [i]) != 0
                || strcmp (recorded->item_id, after->items [i]->item_id) != 0) {
                *reason = "a completed order's purchases do not follow its lines";
                return -1;
            }
            Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
            record.id = recorded->purchase_id;
            record.user_id = user_id;
            record.item_id = recorded->item_id;
            record.amount = recorded->amount;
            record.timestamp = recorded->timestamp;
            record.balance_after = recorded->balance_after;
            record.partition_seq = partition_seq;
            if (tly_ledger_record_line (self, user, partition, state, &record) == -1)
                return -1;
        }
        state->log_version++;
    }
    state->order_list_version++;
    Tally__OrderList *list = NULL;
    Tally__OrderQueue *queue = NULL;
    if (tly_store_put_account (self->store, user, state) == -1
        || tly_store_put_order (self->store, after) == -1
        || s_list_update (self, user, partition, state, after, !before, arena, &list) == -1)
        return -1;
    if ((processing && from == TALLY__ORDER_STATUS__ORDER_DRAFT) || final)
        if (s_queue_update (self, partition, after, processing, &queue_version, arena, &queue)
            == -1)
            return -1;
    tly_ledger_set_versions (self, state, queue_version);
    self->versions.list = list;
    self->versions.queue_state = queue;
    return 0;
}

//  ---------------------------------------------------------------- execute

//  Prices lines as buys are (tly_config_price) into items, in arena, with
//  their sum in *total. Returns OK, or the refusal with *text.
static Tally__ErrorCode
s_price (tly_ledger_t *self, Tally__OrderItem *const *lines, size_t n_lines, tly_arena_t *arena,
         Tally__OrderItem ***items_p, int64_t *total, const char **text)
{
    Tally__OrderItem **items = tly_arena_alloc (arena, n_lines * sizeof (Tally__OrderItem *));
    *total = 0;
    for (size_t i = 0; i < n_lines; i++) {
        Tally__Buy buy = TALLY__BUY__INIT;
        buy.item_id = lines [i]->item_id;
        buy.amount = lines [i]->amount;
        int64_t charge = 0;
        Tally__ErrorCode code = tly_config_price (self->config, self->limits.open_prices,
                                                  self->limits.amount_max, &buy, &charge, text);
        if (code != TALLY__ERROR_CODE__OK)
            return code;
        if (__builtin_add_overflow (*total, charge, total) || *total > TLY_BALANCE_MAX) {
            *text = "Order total too large: at most 9007199254740991";
            return TALLY__ERROR_CODE__INVALID_AMOUNT;
        }
        items [i] = tly_arena_alloc (arena, sizeof (Tally__OrderItem));
        tally__order_item__init (items [i]);
        items [i]->item_id = tly_arena_strdup (arena, lines [i]->item_id);
        items [i]->amount = charge;
    }
    *items_p = items;
    return TALLY__ERROR_CODE__OK;
}

//  The order message_id names, its user and the user's account. Returns 0
//  with *order_p NULL when refused (result set), or -1.
static int
s_find (tly_ledger_t *self, const char *order_id, tly_arena_t *arena, Tally__MessageResult *result,
        Tally__Order **order_p, tly_ledger_user_t *owner, tly_account_state_t *state)
{
    *order_p = NULL;
    Tally__Order *order = NULL;
    tly_store_lookup_t found = tly_ledger_order (self, order_id, arena, &order);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NOT_FOUND, S_NO_SUCH_ORDER);
        return 0;
    }
    uint8_t pk [TLY_KEY_BYTES];
    if (!order->user_id || tly_account_id_parse (order->user_id, pk) == -1) {
        tly_log (TLY_ERROR, "ledger.bad_order", "id=%s reason=\"no user\"", order_id);
        return -1;
    }
    tly_ledger_user_init (owner, pk, self->limits.partition_count);
    found = tly_store_account (self->store, pk, state);
    if (found != TLY_STORE_FOUND) {
        tly_log (TLY_ERROR, "ledger.bad_order", "id=%s reason=\"no account\"", order_id);
        return -1;
    }
    *order_p = order;
    return 0;
}

static void
s_transition (tly_arena_t *arena, Tally__MessageResult *result, const Tally__Order *order,
              const char *allowed)
{
    char *text = tly_arena_alloc (arena, S_TRANSITION_BYTES);
    snprintf (text, S_TRANSITION_BYTES, "Order is %s: only %s", s_status_name (order->status),
              allowed);
    tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__INVALID_TRANSITION, text);
}

//  The OrderChanged of after, in arena.
static Tally__Event *
s_changed (tly_arena_t *arena, const tly_ledger_user_t *owner, Tally__Order *after,
           const tly_account_state_t *state, Tally__PurchaseRecorded **purchases,
           size_t n_purchases)
{
    Tally__OrderChanged *changed = tly_arena_alloc (arena, sizeof *changed);
    tally__order_changed__init (changed);
    changed->user = tly_arena_bytes (arena, owner->pk, TLY_KEY_BYTES);
    changed->order = after;
    changed->balance_after = state->balance;
    changed->held_after = state->held;
    changed->purchases = purchases;
    changed->n_purchases = n_purchases;
    Tally__Event *event = tly_arena_alloc (arena, sizeof *event);
    tally__event__init (event);
    event->kind_case = TALLY__EVENT__KIND_ORDER_CHANGED;
    event->order_changed = changed;
    return event;
}

//  A completion's purchases: one per line, with its ID and running balance.
static Tally__PurchaseRecorded **
s_purchases (tly_arena_t *arena, const tly_ledger_user_t *owner, Tally__Order *after,
             const uint8_t message_id [TLY_MESSAGE_ID_BYTES], int64_t balance, int64_t now_ms)
{
    uint8_t order_key [TLY_OBJECT_KEY_BYTES];
    int parsed = tly_object_key_parse (after->id, order_key);
    assert (parsed == 0);
    Tally__PurchaseRecorded **purchases = tly_arena_alloc (
        arena, after->n_items * sizeof (Tally__PurchaseRecorded *));
    after->purchase_ids = tly_arena_alloc (arena, after->n_items * sizeof (char *));
    after->n_purchase_ids = after->n_items;
    for (size_t i = 0; i < after->n_items; i++) {
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        char id [TLY_ID_MAX];
        tly_order_purchase_key (owner->partition, owner->pk, order_key, (uint32_t) i, message_id,
                                key);
        tly_object_id_of_key (key, id);
        balance -= after->items [i]->amount;
        Tally__PurchaseRecorded *recorded = tly_arena_alloc (arena, sizeof *recorded);
        tally__purchase_recorded__init (recorded);
        recorded->user = tly_arena_bytes (arena, owner->pk, TLY_KEY_BYTES);
        recorded->purchase_id = tly_arena_strdup (arena, id);
        recorded->item_id = after->items [i]->item_id;
        recorded->amount = after->items [i]->amount;
        recorded->timestamp = now_ms;
        recorded->balance_after = balance;
        purchases [i] = recorded;
        after->purchase_ids [i] = recorded->purchase_id;
    }
    return purchases;
}

int
tly_ledger_execute_order (tly_ledger_t *self, const tly_ledger_user_t *sender,
                          const Tally__InboxMessage *message, int64_t now_ms, tly_arena_t *arena,
                          Tally__MessageResult *result, Tally__Event **event_p, uint64_t *version_p)
{
    const char *text = NULL;
    Tally__ErrorCode code = tly_validate_order_message (message, &text);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, text);
        return 0;
    }
    tly_ledger_user_t owner;
    tly_account_state_t state;
    Tally__Order *before = NULL, *after = NULL;
    Tally__PurchaseRecorded **purchases = NULL;
    size_t n_purchases = 0;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        owner = *sender;
        tly_store_lookup_t found = tly_store_account (self->store, sender->pk, &state);
        if (found == TLY_STORE_ERROR)
            return -1;
        if (found == TLY_STORE_ABSENT) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NO_ACCOUNT,
                                  tly_error_default_message (TALLY__ERROR_CODE__NO_ACCOUNT));
            return 0;
        }
        if (sender->partition != sender->route) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                                  "an order is created in its user's partition");
            return 0;
        }
        const Tally__CreateOrder *create = message->create_order;
        Tally__OrderItem **items = NULL;
        int64_t total = 0;
        code = s_price (self, create->items, create->n_items, arena, &items, &total, &text);
        if (code != TALLY__ERROR_CODE__OK) {
            tly_ledger_set_error (arena, result, code, text);
            return 0;
        }
        if (state.orders_open >= TLY_ORDER_OPEN_MAX) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__ORDER_LIMIT, S_TOO_MANY_OPEN);
            return 0;
        }
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        char id [TLY_ID_MAX];
        tly_order_key (sender->partition, sender->pk, message->message_id.data, key);
        tly_object_id_of_key (key, id);
        after = tly_arena_alloc (arena, sizeof *after);
        tally__order__init (after);
        after->id = tly_arena_strdup (arena, id);
        after->user_id = tly_arena_strdup (arena, sender->id);
        after->status = TALLY__ORDER_STATUS__ORDER_DRAFT;
        after->items = items;
        after->n_items = create->n_items;
        after->total = total;
        after->error = "";
        after->version = 1;
        after->created_at = after->updated_at = now_ms;
    } else {
        const char *order_id = tly_order_message_id (message);
        assert (order_id);
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        if (tly_object_key_parse (order_id, key) == -1
            || tly_object_key_partition (key) != sender->route) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                                  "an order message goes to its order's partition");
            return 0;
        }
        bool worker_message = message->body_case == TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER
                              || message->body_case == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER;
        //  Permission first: a refusal of a non-worker says nothing of the
        //  order, not even whether it exists.
        if (worker_message && !sender->worker
            && !tly_config_is_admin (self->config, self->limits.worker, sender->pk)) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__PERMISSION_DENIED,
                                  S_WORKER_ONLY);
            return 0;
        }
        if (s_find (self, order_id, arena, result, &before, &owner, &state) == -1)
            return -1;
        if (!before)
            return 0;
        if (!worker_message && memcmp (owner.pk, sender->pk, TLY_KEY_BYTES) != 0) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NOT_FOUND, S_NO_SUCH_ORDER);
            return 0;
        }
        after = s_copy (arena, before);
        after->version = before->version + 1;
        after->updated_at = now_ms;
        switch (message->body_case) {
            case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER: {
                if (before->status != TALLY__ORDER_STATUS__ORDER_DRAFT) {
                    s_transition (arena, result, before, "a draft can be edited");
                    return 0;
                }
                const Tally__EditOrder *edit = message->edit_order;
                code = s_price (self, edit->items, edit->n_items, arena, &after->items,
                                &after->total, &text);
                if (code != TALLY__ERROR_CODE__OK) {
                    tly_ledger_set_error (arena, result, code, text);
                    return 0;
                }
                after->n_items = edit->n_items;
                break;
            }
            case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER: {
                if (before->status != TALLY__ORDER_STATUS__ORDER_DRAFT) {
                    s_transition (arena, result, before, "a draft can be submitted");
                    return 0;
                }
                //  The stored lines priced again: a catalog change since
                //  the last edit refuses, the order stays a draft.
                Tally__OrderItem **items = NULL;
                int64_t total = 0;
                code = s_price (self, before->items, before->n_items, arena, &items, &total, &text);
                if (code == TALLY__ERROR_CODE__OK && total != before->total) {
                    code = TALLY__ERROR_CODE__PRICE_MISMATCH;
                    text = "Price mismatch: the amount is not the catalog price";
                }
                if (code != TALLY__ERROR_CODE__OK) {
                    tly_ledger_set_error (arena, result, code, text);
                    return 0;
                }
                if (state.balance - state.held < before->total) {
                    tly_ledger_set_error (
                        arena, result, TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
                        tly_error_default_message (TALLY__ERROR_CODE__INSUFFICIENT_BALANCE));
                    return 0;
                }
                size_t queued = 0;
                if (s_queue_size (self, owner.partition, arena, &queued) == -1)
                    return -1;
                if (queued >= TLY_ORDER_QUEUE_MAX) {
                    tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__ORDER_LIMIT,
                                          S_TOO_MANY_QUEUED);
                    return 0;
                }
                after->status = TALLY__ORDER_STATUS__ORDER_PROCESSING;
                after->submitted_at = now_ms;
                break;
            }
            case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
                if (before->status != TALLY__ORDER_STATUS__ORDER_PROCESSING) {
                    s_transition (arena, result, before, "a processing order can be completed");
                    return 0;
                }
                after->status = TALLY__ORDER_STATUS__ORDER_COMPLETED;
                after->finished_at = now_ms;
                purchases = s_purchases (arena, &owner, after, message->message_id.data,
                                         state.balance, now_ms);
                n_purchases = after->n_items;
                break;
            default:
                assert (message->body_case == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER);
                if (before->status != TALLY__ORDER_STATUS__ORDER_PROCESSING) {
                    s_transition (arena, result, before, "a processing order can be failed");
                    return 0;
                }
                after->status = TALLY__ORDER_STATUS__ORDER_FAILED;
                after->finished_at = now_ms;
                after->error = tly_arena_strdup (
                    arena, message->fail_order->error ? message->fail_order->error : "");
                break;
        }
    }
    const char *reason = NULL;
    if (s_effect (self, owner.pk, owner.partition, &state, before, after, purchases, n_purchases,
                  self->envelope_seq, arena, &reason)
        == -1) {
        if (reason)
            tly_log (TLY_ERROR, "ledger.bad_order", "id=%s reason=\"%s\"", after->id, reason);
        return -1;
    }
    *event_p = s_changed (arena, &owner, after, &state, purchases, n_purchases);
    *version_p = state.balance_version;
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ORDER;
    result->order = after;
    return 0;
}

//  ---------------------------------------------------------------- apply

int
tly_ledger_apply_order (tly_ledger_t *self, const Tally__RecordDraft *draft,
                        const Tally__OrderChanged *changed, tly_arena_t *arena)
{
    const Tally__Order *after = changed->order;
    uint8_t key [TLY_OBJECT_KEY_BYTES], pk [TLY_KEY_BYTES];
    if (changed->user.len != TLY_KEY_BYTES || !after || !after->id || !after->user_id
        || tly_object_key_parse (after->id, key) == -1 || key [0] != TLY_OBJ_ORDER
        || tly_object_key_partition (key) != draft->partition
        || tly_account_id_parse (after->user_id, pk) == -1
        || memcmp (pk, changed->user.data, TLY_KEY_BYTES) != 0
        || after->n_items > TLY_ORDER_ITEMS_MAX)
        return tly_ledger_bad_record (draft, "malformed OrderChanged");
    for (size_t i = 0; i < after->n_items; i++)
        if (!after->items [i]->item_id || after->items [i]->amount <= 0)
            return tly_ledger_bad_record (draft, "malformed OrderChanged");
    for (size_t i = 0; i < changed->n_purchases; i++)
        if (!changed->purchases [i]->item_id || !changed->purchases [i]->purchase_id)
            return tly_ledger_bad_record (draft, "malformed OrderChanged");
    tly_ledger_user_t owner;
    tly_ledger_user_init (&owner, pk, self->limits.partition_count);
    if (owner.partition != draft->partition)
        return tly_ledger_bad_record (draft, "OrderChanged of another partition's user");
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT)
        return tly_ledger_bad_record (draft, "OrderChanged of a user without an account");
    Tally__Order *before = NULL;
    found = tly_store_order (self->store, key, arena, &before);
    if (found == TLY_STORE_ERROR)
        return -1;
    const char *reason = NULL;
    if (s_effect (self, pk, draft->partition, &state, before, after, changed->purchases,
                  changed->n_purchases, draft->partition_seq, arena, &reason)
        == -1)
        return reason ? tly_ledger_bad_record (draft, reason) : -1;
    if (state.balance != changed->balance_after || state.held != changed->held_after)
        return tly_ledger_bad_record (draft, "OrderChanged does not follow the balance");
    return 0;
}

//  ---------------------------------------------------------------- owners

#define S_OWNERS_FLAG "order-owners"

int
tly_ledger_order_owner (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition)
{
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_user_object_key (TLY_OBJ_ORDER_LIST, user, partition, key);
    return tly_store_put_owner (self->store, key, user);
}

static tly_store_walk_t
s_owner_of (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    (void) state;
    tly_ledger_t *self = arg;
    return tly_ledger_order_owner (self, user,
                                   tly_partition_of (user, self->limits.partition_count))
                   == -1
               ? TLY_STORE_WALK_ERROR
               : TLY_STORE_WALK_NEXT;
}

int
tly_ledger_order_owners (tly_ledger_t *self)
{
    bool done = false;
    if (tly_store_flag (self->store, S_OWNERS_FLAG, &done) == -1)
        return -1;
    if (done)
        return 0;
    if (tly_store_begin (self->store) == -1)
        return -1;
    if (tly_store_each_account (self->store, s_owner_of, self) == -1
        || tly_store_put_flag (self->store, S_OWNERS_FLAG) == -1) {
        tly_store_abort (self->store);
        return -1;
    }
    return tly_store_commit (self->store);
}

//  ---------------------------------------------------------------- reads

tly_store_lookup_t
tly_ledger_order (tly_ledger_t *self, const char *id, tly_arena_t *arena, Tally__Order **order_p)
{
    assert (self && arena && order_p);
    *order_p = NULL;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (!id || tly_object_key_parse (id, key) == -1 || key [0] != TLY_OBJ_ORDER)
        return TLY_STORE_ABSENT;
    return tly_store_order (self->store, key, arena, order_p);
}

int
tly_ledger_each_order (tly_ledger_t *self, int (*fn) (const Tally__Order *order, void *arg),
                       void *arg)
{
    assert (self && fn);
    return tly_store_each_order (self->store, UINT32_MAX, fn, arg);
}

int
tly_ledger_order_list (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                       tly_arena_t *arena, Tally__OrderList **list_p)
{
    assert (self && user && arena && list_p);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_user_object_key (TLY_OBJ_ORDER_LIST, user, partition, key);
    tly_store_lookup_t found = tly_store_order_list (self->store, key, arena, list_p);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        Tally__OrderList *list = tly_arena_alloc (arena, sizeof *list);
        tally__order_list__init (list);
        char *id = tly_arena_alloc (arena, TLY_ID_MAX);
        char *user_id = tly_arena_alloc (arena, TLY_ID_MAX);
        tly_object_id_of_key (key, id);
        tly_account_id (user, user_id);
        list->id = id;
        list->user_id = user_id;
        *list_p = list;
    }
    return 0;
}

int
tly_ledger_order_queue (tly_ledger_t *self, uint32_t partition, tly_arena_t *arena,
                        Tally__OrderQueue **queue_p, uint64_t *version)
{
    assert (self && arena && queue_p && version);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_order_queue_key (self->limits.worker, partition, key);
    //  A reader does not know the worker: the partition's one queue row.
    if (self->read_only
        && tly_store_order_queue_key (self->store, partition, key) == TLY_STORE_ERROR)
        return -1;
    tly_store_lookup_t found = tly_store_order_queue (self->store, key, arena, queue_p, version);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        Tally__OrderQueue *queue = tly_arena_alloc (arena, sizeof *queue);
        tally__order_queue__init (queue);
        char *id = tly_arena_alloc (arena, TLY_ID_MAX);
        tly_object_id_of_key (key, id);
        queue->id = id;
        queue->partition = partition;
        *queue_p = queue;
        *version = 1;
    }
    return 0;
}
