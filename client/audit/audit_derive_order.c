//  audit_derive_order - orders in verify's derivation (see audit_derive.h;
//  docs/protocol.md "Orders"): what the rules give for each order message,
//  and the OrderChanged event and the result a record must hold for it,
//  whole: the order as it now is (its lines priced as buys are, its total,
//  status, version and times), the user's balance and held amount after,
//  and on completion a purchase per line with its ID and running balance.
//
//  The derived state holds every order (audit_orders: status, total,
//  version, owner; an open one's lines and times too), each user's held
//  amount and open orders (audit_account_t) and each partition's orders
//  processing. The checks, in the order the spec gives them (docs/
//  protocol.md "Orders", the actor's order of checks): the message's fields
//  (tly_validate_order_message), its order's partition (the record's, else
//  BAD_REQUEST), for completeOrder and failOrder the sender (the worker or
//  an admin, else PERMISSION_DENIED, before the order is looked up), the
//  order (NOT_FOUND when there is none, or for editOrder and submitOrder
//  when it is another user's), its status (INVALID_TRANSITION); then
//  createOrder: the account (NO_ACCOUNT), the lines' prices, the open
//  limit (ORDER_LIMIT); editOrder: the prices; submitOrder: the stored
//  lines' prices again, the available balance (INSUFFICIENT_BALANCE), the
//  partition's limit (ORDER_LIMIT). What verify cannot know is taken as
//  the record says where it changes nothing, as for buys: a configured
//  limit's refusal (--max-amount for an item not in the catalog), and,
//  where the configuration is not known, a price's refusals and
//  PERMISSION_DENIED for a sender who may be an admin.
//
//  A state snapshot holds every order of its partition (final ones too:
//  the actors keep them for good), so where verify knows a partition's
//  state it knows all its orders. What it may not see is a completion's
//  record that is not kept: a refund of such a purchase is taken as its
//  record says, and counted, as any refund of a purchase not kept is
//  (audit_derive_refund.c).
#include "audit_derive_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_validate.h"

//  What the rules give for one new order message.
typedef struct {
    Tally__ErrorCode error;
    uint64_t instead;        //  refusals the record may give instead (audit_derive_code)
    audit_order_t *order;    //  the order named (NULL: createOrder, or one not known)
    audit_account_t *owner;  //  the order's user's account
    bool unknown;            //  an order of a partition whose orders are not all known
    //  createOrder, editOrder: the lines as charged and their total; a
    //  line whose price is not known (no configuration known) is as said.
    size_t n_items;
    const char *item_ids [TLY_ORDER_ITEMS_MAX];
    int64_t amounts [TLY_ORDER_ITEMS_MAX];
    bool as_said [TLY_ORDER_ITEMS_MAX];
} s_expected_t;

//  The order after a message, as its result and its event must hold it.
typedef struct {
    Tally__Order order;
    Tally__OrderItem items [TLY_ORDER_ITEMS_MAX];
    Tally__OrderItem *item_p [TLY_ORDER_ITEMS_MAX];
    char purchase_ids [TLY_ORDER_ITEMS_MAX][TLY_ID_MAX];
    char *purchase_p [TLY_ORDER_ITEMS_MAX];
    char id [TLY_ID_MAX];
    char user_id [TLY_ID_MAX];
} s_after_t;

static Tally__ErrorCode
s_code (const Tally__MessageResult *result)
{
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR && result->error
               ? result->error->code
               : TALLY__ERROR_CODE__OK;
}

//  A refusal that applies: the first one in the rules' order is what they give.
static void
s_refuse (s_expected_t *expected, Tally__ErrorCode code)
{
    if (expected->error == TALLY__ERROR_CODE__OK)
        expected->error = code;
}

//  ---------------------------------------------------------------- prices

//  One line's charge, as a buy of item_id naming amount is charged
//  (tly_config_price under the record's configuration and open_prices).
//  Where the configuration is not known, the line is as said (*as_said):
//  its price's refusals may be given.
static Tally__ErrorCode
s_price_line (const audit_derive_record_t *record, const char *item_id, int64_t amount,
              int64_t *charge, bool *as_said, uint64_t *instead)
{
    Tally__Buy buy = TALLY__BUY__INIT;
    buy.item_id = (char *) item_id;
    buy.amount = amount;
    const char *text = NULL;
    *as_said = false;
    if (record->config) {
        Tally__ErrorCode code = tly_config_price (record->config, record->draft->open_prices,
                                                  INT64_MAX, &buy, charge, &text);
        //  --max-amount (at least 1) is for the amounts clients name.
        if (code == TALLY__ERROR_CODE__OK && amount > 1
            && !tly_config_item (record->config, item_id))
            *instead |= audit_derive_code (TALLY__ERROR_CODE__INVALID_AMOUNT);
        return code;
    }
    *instead |= audit_derive_code (TALLY__ERROR_CODE__UNKNOWN_ITEM)
                | audit_derive_code (TALLY__ERROR_CODE__PRICE_MISMATCH)
                | audit_derive_code (TALLY__ERROR_CODE__INVALID_AMOUNT);
    *charge = amount;
    *as_said = amount == 0;
    return TALLY__ERROR_CODE__OK;
}

//  The lines a message names, priced (createOrder, editOrder): the first
//  line's refusal, or the lines and their total (past 2^53 - 1:
//  INVALID_AMOUNT). A line as said takes the record's order's amount.
static Tally__ErrorCode
s_price_lines (const audit_derive_record_t *record, Tally__OrderItem *const *items, size_t n_items,
               const Tally__MessageResult *result, s_expected_t *expected)
{
    const Tally__Order *said = result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER
                                   ? result->order
                                   : NULL;
    int64_t total = 0;
    expected->n_items = n_items;
    for (size_t i = 0; i < n_items; i++) {
        int64_t charge = 0;
        Tally__ErrorCode code = s_price_line (record, items [i]->item_id, items [i]->amount,
                                              &charge, &expected->as_said [i], &expected->instead);
        if (code != TALLY__ERROR_CODE__OK)
            return code;
        if (expected->as_said [i])
            charge = said && i < said->n_items && said->items [i] && said->items [i]->amount > 0
                             && said->items [i]->amount <= TLY_BALANCE_MAX
                         ? said->items [i]->amount
                         : TLY_BALANCE_MAX;
        expected->item_ids [i] = items [i]->item_id;
        expected->amounts [i] = charge;
        if (__builtin_add_overflow (total, charge, &total) || total > TLY_BALANCE_MAX)
            return TALLY__ERROR_CODE__INVALID_AMOUNT;
    }
    return TALLY__ERROR_CODE__OK;
}

//  submitOrder: the stored lines priced again under the configuration in
//  force: a catalog price changed since is PRICE_MISMATCH, an item off
//  sale UNKNOWN_ITEM.
static Tally__ErrorCode
s_price_again (const audit_derive_record_t *record, const audit_order_t *order, uint64_t *instead)
{
    for (size_t i = 0; i < order->lines->n_items; i++) {
        int64_t charge;
        bool as_said;
        Tally__ErrorCode code = s_price_line (record, order->lines->item_ids [i],
                                              order->lines->amounts [i], &charge, &as_said,
                                              instead);
        if (code != TALLY__ERROR_CODE__OK)
            return code;
    }
    return TALLY__ERROR_CODE__OK;
}

//  ---------------------------------------------------------------- the rules

//  The order an order message names, of the record's partition: NULL
//  with *key set when there is none.
static audit_order_t *
s_named (const audit_derive_record_t *record, const Tally__InboxMessage *message,
         uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    int parsed = tly_object_key_parse (tly_order_message_id (message), key);
    assert (parsed == 0);
    return audit_orders_find (record->self->orders, key);
}

static void
s_expect (audit_derive_record_t *record, const Tally__InboxMessage *message,
          const Tally__MessageResult *result, s_expected_t *expected)
{
    audit_derive_t *self = record->self;
    audit_derive_partition_t *partition = &self->partitions [record->partition];
    const char *text = NULL;
    *expected = (s_expected_t) { .error = tly_validate_order_message (message, &text) };
    if (expected->error != TALLY__ERROR_CODE__OK)
        return;
    Tally__InboxMessage__BodyCase body = message->body_case;
    if (body == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        //  The account, the prices, the open limit.
        audit_account_t *account = audit_state_find (self->accounts, record->user);
        expected->owner = account;
        if (!account) {
            expected->error = TALLY__ERROR_CODE__NO_ACCOUNT;
            return;
        }
        expected->error = s_price_lines (record, message->create_order->items,
                                         message->create_order->n_items, result, expected);
        if (expected->error == TALLY__ERROR_CODE__OK && account->orders_open >= TLY_ORDER_OPEN_MAX)
            expected->error = TALLY__ERROR_CODE__ORDER_LIMIT;
        return;
    }
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    audit_order_t *order = s_named (record, message, key);
    if (tly_object_key_partition (key) != record->partition) {
        expected->error = TALLY__ERROR_CODE__BAD_REQUEST;
        return;
    }
    bool by_worker = body == TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER
                     || body == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER;
    //  The sender first: a refusal of one who may not complete or fail an
    //  order says nothing of whether it exists.
    if (by_worker) {
        int admin = audit_derive_admin (record);
        if (admin == 0) {
            expected->error = TALLY__ERROR_CODE__PERMISSION_DENIED;
            return;
        }
        if (admin == -1)
            expected->instead |= audit_derive_code (TALLY__ERROR_CODE__PERMISSION_DENIED);
    }
    if (!order || (!by_worker && memcmp (order->user, record->user, TLY_KEY_BYTES) != 0)) {
        expected->error = TALLY__ERROR_CODE__NOT_FOUND;
        return;
    }
    expected->order = order;
    expected->owner = audit_state_find (self->accounts, order->user);
    Tally__OrderStatus from = body == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER
                                      || body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER
                                  ? TALLY__ORDER_STATUS__ORDER_DRAFT
                                  : TALLY__ORDER_STATUS__ORDER_PROCESSING;
    if (order->status != from) {
        expected->error = TALLY__ERROR_CODE__INVALID_TRANSITION;
        return;
    }
    if (body == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER) {
        expected->error = s_price_lines (record, message->edit_order->items,
                                         message->edit_order->n_items, result, expected);
        return;
    }
    if (body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER) {
        //  The prices, the available balance, the partition's limit.
        s_refuse (expected, s_price_again (record, order, &expected->instead));
        const audit_account_t *owner = expected->owner;
        if (!owner || owner->balance - owner->held < order->total)
            s_refuse (expected, TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
        if (partition->processing >= TLY_ORDER_QUEUE_MAX)
            s_refuse (expected, TALLY__ERROR_CODE__ORDER_LIMIT);
    }
}

//  ---------------------------------------------------------------- the order after

//  The order as it must now be: status, version, times, lines; purchases
//  on completion (the completing message's ID, line by line).
static void
s_after (const audit_derive_record_t *record, const Tally__InboxMessage *message,
         const s_expected_t *expected, const uint8_t key [TLY_OBJECT_KEY_BYTES], s_after_t *after)
{
    const audit_order_t *order = expected->order;
    Tally__Order *out = &after->order;
    tally__order__init (out);
    tly_object_id_of_key (key, after->id);
    out->id = after->id;
    const uint8_t *user = order ? order->user : record->user;
    tly_account_id (user, after->user_id);
    out->user_id = after->user_id;
    out->updated_at = record->now_ms;
    out->error = "";
    Tally__InboxMessage__BodyCase body = message->body_case;
    bool lines_new = body == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER
                     || body == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
    size_t n_items = lines_new ? expected->n_items : order->lines->n_items;
    for (size_t i = 0; i < n_items; i++) {
        tally__order_item__init (&after->items [i]);
        after->items [i].item_id = (char *) (lines_new ? expected->item_ids [i]
                                                       : order->lines->item_ids [i]);
        after->items [i].amount = lines_new ? expected->amounts [i] : order->lines->amounts [i];
        after->item_p [i] = &after->items [i];
        out->total += after->items [i].amount;
    }
    out->n_items = n_items;
    out->items = after->item_p;
    if (body == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        out->status = TALLY__ORDER_STATUS__ORDER_DRAFT;
        out->version = 1;
        out->created_at = record->now_ms;
        return;
    }
    out->version = order->version + 1;
    out->created_at = order->lines->created_at;
    out->submitted_at = order->lines->submitted_at;
    switch (body) {
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
            out->status = TALLY__ORDER_STATUS__ORDER_DRAFT;
            break;
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
            out->status = TALLY__ORDER_STATUS__ORDER_PROCESSING;
            out->submitted_at = record->now_ms;
            break;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            out->status = TALLY__ORDER_STATUS__ORDER_COMPLETED;
            out->finished_at = record->now_ms;
            for (size_t i = 0; i < n_items; i++) {
                uint8_t purchase [TLY_OBJECT_KEY_BYTES];
                tly_order_purchase_key (record->partition, order->user, key, (uint32_t) i,
                                        message->message_id.data, purchase);
                tly_object_id_of_key (purchase, after->purchase_ids [i]);
                after->purchase_p [i] = after->purchase_ids [i];
            }
            out->n_purchase_ids = n_items;
            out->purchase_ids = after->purchase_p;
            break;
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
            out->status = TALLY__ORDER_STATUS__ORDER_FAILED;
            out->finished_at = record->now_ms;
            out->error = message->fail_order->error ? message->fail_order->error : "";
            break;
        default: assert (false);
    }
}

//  The order a record holds (what) against the one that follows, field for field.
static int
s_same_order (audit_derive_record_t *record, const char *what, const Tally__Order *said,
              const Tally__Order *given)
{
    char field [96];
    if (!said)
        return audit_derive_fail (record, "%s is missing", what);
    snprintf (field, sizeof field, "%s's ID", what);
    AUDIT_DERIVE_SAME_TEXT (record, field, said->id, given->id);
    snprintf (field, sizeof field, "%s's userId", what);
    AUDIT_DERIVE_SAME_TEXT (record, field, said->user_id, given->user_id);
    if (said->status != given->status)
        return audit_derive_fail (record, "%s is %s; the envelope and the state give %s", what,
                                  tly_order_status_name (said->status),
                                  tly_order_status_name (given->status));
    snprintf (field, sizeof field, "%s says version", what);
    AUDIT_DERIVE_SAME (record, field, said->version, given->version);
    snprintf (field, sizeof field, "%s has items:", what);
    AUDIT_DERIVE_SAME (record, field, said->n_items, given->n_items);
    for (size_t i = 0; i < given->n_items; i++) {
        if (!said->items [i])
            return audit_derive_fail (record, "%s's item %zu is missing", what, i + 1);
        snprintf (field, sizeof field, "%s's item %zu", what, i + 1);
        AUDIT_DERIVE_SAME_TEXT (record, field, said->items [i]->item_id, given->items [i]->item_id);
        snprintf (field, sizeof field, "%s's item %zu says amount", what, i + 1);
        AUDIT_DERIVE_SAME (record, field, said->items [i]->amount, given->items [i]->amount);
    }
    snprintf (field, sizeof field, "%s says total", what);
    AUDIT_DERIVE_SAME (record, field, said->total, given->total);
    snprintf (field, sizeof field, "%s's error", what);
    AUDIT_DERIVE_SAME_TEXT (record, field, said->error, given->error);
    snprintf (field, sizeof field, "%s says createdAt", what);
    AUDIT_DERIVE_SAME (record, field, said->created_at, given->created_at);
    snprintf (field, sizeof field, "%s says updatedAt", what);
    AUDIT_DERIVE_SAME (record, field, said->updated_at, given->updated_at);
    snprintf (field, sizeof field, "%s says submittedAt", what);
    AUDIT_DERIVE_SAME (record, field, said->submitted_at, given->submitted_at);
    snprintf (field, sizeof field, "%s says finishedAt", what);
    AUDIT_DERIVE_SAME (record, field, said->finished_at, given->finished_at);
    snprintf (field, sizeof field, "%s has purchaseIds:", what);
    AUDIT_DERIVE_SAME (record, field, said->n_purchase_ids, given->n_purchase_ids);
    for (size_t i = 0; i < given->n_purchase_ids; i++) {
        snprintf (field, sizeof field, "%s's purchase ID %zu", what, i + 1);
        AUDIT_DERIVE_SAME_TEXT (record, field, said->purchase_ids [i], given->purchase_ids [i]);
    }
    return 0;
}

//  OrderChanged for the message: the user, the order, the balance and the
//  held amount after, and on completion each line's purchase.
static int
s_check_event (audit_derive_record_t *record, const Tally__Order *order, const uint8_t *user,
               int64_t balance_before, int64_t balance_after, int64_t held_after)
{
    const Tally__Event *event = audit_derive_next_event (record, TALLY__EVENT__KIND_ORDER_CHANGED);
    if (!event || !event->order_changed || !event->order_changed->order
        || !audit_derive_same_text (event->order_changed->order->id, order->id))
        return audit_derive_fail (record,
                                  "the record has no OrderChanged for it; the envelope and the"
                                  " state give one (order %s, %s)",
                                  order->id, tly_order_status_name (order->status));
    record->next_event++;
    const Tally__OrderChanged *changed = event->order_changed;
    if (!audit_derive_same_key (&changed->user, user))
        return audit_derive_fail (record, "OrderChanged is not for the order's user %s",
                                  order->user_id);
    if (s_same_order (record, "OrderChanged's order", changed->order, order) == -1)
        return -1;
    AUDIT_DERIVE_SAME (record, "OrderChanged says balance_after", changed->balance_after,
                       balance_after);
    AUDIT_DERIVE_SAME (record, "OrderChanged says held_after", changed->held_after, held_after);
    AUDIT_DERIVE_SAME (record, "OrderChanged's purchases:", changed->n_purchases,
                       order->n_purchase_ids);
    int64_t running = balance_before;
    for (size_t i = 0; i < order->n_purchase_ids; i++) {
        const Tally__PurchaseRecorded *purchase = changed->purchases [i];
        char what [64];
        running -= order->items [i]->amount;
        if (!purchase || !audit_derive_same_text (purchase->purchase_id, order->purchase_ids [i]))
            return audit_derive_fail (record,
                                      "OrderChanged's purchase %zu is not %s (its line's, by the"
                                      " completing message's ID)",
                                      i + 1, order->purchase_ids [i]);
        if (!audit_derive_same_key (&purchase->user, user))
            return audit_derive_fail (record, "OrderChanged's purchase %zu is not for %s", i + 1,
                                      order->user_id);
        snprintf (what, sizeof what, "OrderChanged's purchase %zu's item_id", i + 1);
        AUDIT_DERIVE_SAME_TEXT (record, what, purchase->item_id, order->items [i]->item_id);
        snprintf (what, sizeof what, "OrderChanged's purchase %zu says amount", i + 1);
        AUDIT_DERIVE_SAME (record, what, purchase->amount, order->items [i]->amount);
        snprintf (what, sizeof what, "OrderChanged's purchase %zu says timestamp", i + 1);
        AUDIT_DERIVE_SAME (record, what, purchase->timestamp, record->now_ms);
        snprintf (what, sizeof what, "OrderChanged's purchase %zu says balance_after", i + 1);
        AUDIT_DERIVE_SAME (record, what, purchase->balance_after, running);
    }
    return 0;
}

//  The state after an order message the rules allow.
static void
s_apply (audit_derive_record_t *record, const Tally__InboxMessage *message,
         const s_expected_t *expected, const uint8_t key [TLY_OBJECT_KEY_BYTES],
         const Tally__Order *after, int64_t balance_after, int64_t held_after)
{
    audit_derive_t *self = record->self;
    audit_derive_partition_t *partition = &self->partitions [record->partition];
    audit_order_t *order = expected->order;
    audit_account_t *owner = expected->owner;
    Tally__InboxMessage__BodyCase body = message->body_case;
    if (body == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        order = audit_orders_add (self->orders, key, record->user);
        partition->orders++;
        owner->orders_open++;
    }
    Tally__OrderStatus was = order->status;
    order->status = after->status;
    order->version = after->version;
    order->total = after->total;
    if (audit_order_open (after->status)) {
        if (body == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER
            || body == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER) {
            audit_order_lines_t *lines = audit_order_lines_new (order);
            for (size_t i = 0; i < after->n_items; i++)
                audit_order_lines_set (lines, i, after->items [i]->item_id,
                                       after->items [i]->amount);
            lines->created_at = after->created_at;
        }
        order->lines->submitted_at = after->submitted_at;
    } else
        audit_order_lines_free (order);
    if (was != TALLY__ORDER_STATUS__ORDER_PROCESSING
        && after->status == TALLY__ORDER_STATUS__ORDER_PROCESSING)
        partition->processing++;
    if (was == TALLY__ORDER_STATUS__ORDER_PROCESSING
        && after->status != TALLY__ORDER_STATUS__ORDER_PROCESSING)
        partition->processing--;
    if (audit_order_open (was) && !audit_order_open (after->status))
        owner->orders_open--;
    if (owner->balance != balance_after || owner->held != held_after)
        owner->last_updated = record->now_ms;
    owner->balance = balance_after;
    owner->held = held_after;
    self->stats.orders_changed++;
}

//  ---------------------------------------------------------------- a message

int
audit_derive_check_order (audit_derive_record_t *record, const Tally__InboxMessage *message,
                          const Tally__MessageResult *result)
{
    s_expected_t expected;
    s_expect (record, message, result, &expected);
    Tally__ErrorCode code = s_code (result);
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR) {
        if (code == expected.error
            || (code != TALLY__ERROR_CODE__OK && (expected.instead & audit_derive_code (code))))
            return 0;
        return audit_derive_fail (
            record, "the result is %s; the envelope and the state give %s",
            audit_derive_outcome (result),
            expected.error == TALLY__ERROR_CODE__OK ? "an order" : tly_error_name (expected.error));
    }
    if (expected.error != TALLY__ERROR_CODE__OK)
        return audit_derive_fail (record, "the result is %s; the envelope and the state give %s",
                                  audit_derive_outcome (result), tly_error_name (expected.error));
    if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ORDER || !result->order)
        return audit_derive_fail (record,
                                  "the result is %s; the envelope and the state give an order",
                                  audit_derive_outcome (result));
    if (!expected.owner || expected.owner->partition != record->partition)
        return audit_derive_fail (record, "the order's user has no account in the partition");
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER)
        tly_order_key (record->partition, record->user, message->message_id.data, key);
    else
        memcpy (key, expected.order->key, sizeof key);
    s_after_t after;
    s_after (record, message, &expected, key, &after);
    const audit_account_t *owner = expected.owner;
    int64_t balance = owner->balance, held = owner->held;
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER: held += after.order.total; break;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            balance -= after.order.total;
            held -= after.order.total;
            break;
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER: held -= after.order.total; break;
        default: break;
    }
    //  The rules keep 0 <= held <= balance: a state that breaks it was
    //  not derived (a snapshot's word).
    if (held < 0 || held > balance)
        return audit_derive_fail (record,
                                  "the user's held amount would be %" PRId64
                                  " with balance %" PRId64 ": 0 <= held <= balance",
                                  held, balance);
    if (s_check_event (record, &after.order, owner->user, owner->balance, balance, held) == -1
        || s_same_order (record, "the result's order", result->order, &after.order) == -1)
        return -1;
    s_apply (record, message, &expected, key, &after.order, balance, held);
    return 0;
}

bool
audit_derive_orders_again (const audit_derive_record_t *record, const Tally__InboxMessage *message)
{
    const Tally__RecordDraft *draft = record->draft;
    if (record->next_event >= draft->n_events || !tly_order_message (message))
        return false;
    const Tally__Event *event = draft->events [record->next_event];
    if (event->kind_case != TALLY__EVENT__KIND_ORDER_CHANGED || !event->order_changed
        || !event->order_changed->order)
        return false;
    char id [TLY_ID_MAX];
    const char *named = tly_order_message_id (message);
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        tly_order_key (record->partition, record->user, message->message_id.data, key);
        tly_object_id_of_key (key, id);
        named = id;
    }
    return named && audit_derive_same_text (event->order_changed->order->id, named);
}

void
audit_derive_describe_order (const Tally__InboxMessage *message, char *described, size_t size)
{
    char order [AUDIT_DERIVE_SHOWN + 4], text [AUDIT_DERIVE_SHOWN + 4];
    const char *named = tly_order_message_id (message);
    audit_derive_shown (named, order);
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
            snprintf (described, size, "createOrder of %zu items",
                      message->create_order ? message->create_order->n_items : 0);
            break;
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
            snprintf (described, size, "editOrder %s to %zu items", order,
                      message->edit_order ? message->edit_order->n_items : 0);
            break;
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
            snprintf (described, size, "submitOrder %s", order);
            break;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            snprintf (described, size, "completeOrder %s", order);
            break;
        default:
            audit_derive_shown (message->fail_order ? message->fail_order->error : "", text);
            snprintf (described, size, "failOrder %s error \"%s\"", order, text);
            break;
    }
}

//  ---------------------------------------------------------------- snapshots

int
audit_derive_load_order (audit_derive_t *self, uint32_t partition, const Tally__Order *record)
{
    assert (self && partition < TLY_PARTITIONS_MAX && record);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_object_kind_t kind;
    uint8_t user [TLY_KEY_BYTES];
    if (!record->id || tly_object_id_parse (record->id, &kind, NULL, NULL) == -1
        || kind != TLY_OBJ_ORDER || tly_object_key_parse (record->id, key) == -1
        || tly_object_key_partition (key) != partition || audit_orders_find (self->orders, key)
        || !record->user_id || tly_account_id_parse (record->user_id, user) == -1
        || record->n_items == 0 || record->n_items > TLY_ORDER_ITEMS_MAX || record->version == 0
        || record->status < TALLY__ORDER_STATUS__ORDER_DRAFT
        || record->status > TALLY__ORDER_STATUS__ORDER_FAILED)
        return -1;
    audit_order_t *order = audit_orders_add (self->orders, key, user);
    order->status = record->status;
    order->version = record->version;
    order->total = record->total;
    if (audit_order_open (order->status)) {
        audit_order_lines_t *lines = audit_order_lines_new (order);
        for (size_t i = 0; i < record->n_items; i++)
            audit_order_lines_set (lines, i, record->items [i] ? record->items [i]->item_id : "",
                                   record->items [i] ? record->items [i]->amount : 0);
        lines->created_at = record->created_at;
        lines->submitted_at = record->submitted_at;
    }
    audit_derive_partition_t *state = &self->partitions [partition];
    state->orders++;
    state->processing += order->status == TALLY__ORDER_STATUS__ORDER_PROCESSING;
    return 0;
}

bool
audit_derive_has_order (audit_derive_t *self, const Tally__Order *record)
{
    assert (self && record);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (!record->id || tly_object_key_parse (record->id, key) == -1)
        return false;
    const audit_order_t *order = audit_orders_find (self->orders, key);
    return order && order->status == record->status && order->version == record->version
           && order->total == record->total;
}

uint64_t
audit_derive_orders (audit_derive_t *self, uint32_t partition)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    return self->partitions [partition].orders;
}
