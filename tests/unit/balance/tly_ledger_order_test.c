//  tly_ledger's orders self-test (docs/protocol.md "Orders"): create, edit,
//  submit (the hold), complete (a purchase per line) and fail (the hold
//  released), with balances, holds and versions; every refusal changing
//  nothing; a resend answering its first result; replay of the drafts and
//  a state snapshot's rows each giving the same state.
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_audit_check.h"
#include "tly_limits.h"
#include "tly_objects.h"
#include "tly_object_id.h"
#include "tly_validate.h"
#include "test_client.h"
#include "harness.h"

static const char *
s_text (const Tally__RecordDraft *draft)
{
    return draft->results [0]->error->message;
}

#define S_SUBMIT   TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER
#define S_COMPLETE TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER
#define S_FAIL     TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER

static tly_account_state_t
s_account (tly_ledger_t *ledger, test_client_t *client)
{
    tly_account_state_t state;
    assert (tly_ledger_account (ledger, client->user.pk, &state) == TLY_STORE_FOUND);
    return state;
}

static const Tally__Order *
s_order (const Tally__RecordDraft *draft)
{
    assert (draft->results [0]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER);
    assert (draft->n_events == 1
            && draft->events [0]->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED);
    return draft->results [0]->order;
}

//  ---------------------------------------------------------------- comparing states

typedef struct {
    uint8_t *bytes;
    size_t size;
    size_t count;
} s_packed_t;

static int
s_pack_order (const Tally__Order *order, void *arg)
{
    s_packed_t *packed = arg;
    size_t size = tally__order__get_packed_size (order);
    assert (packed->size + size <= 1 << 20);
    packed->size += tally__order__pack (order, packed->bytes + packed->size);
    packed->count++;
    return 0;
}

static void
s_same_accounts (const tly_account_state_t *a, const tly_account_state_t *b)
{
    assert (strcmp (a->balance_id, b->balance_id) == 0);
    assert (a->balance == b->balance && a->last_updated == b->last_updated);
    assert (a->created == b->created && a->purchases == b->purchases);
    assert (a->held == b->held && a->balance_version == b->balance_version);
    assert (a->log_version == b->log_version && a->orders_created == b->orders_created);
    assert (a->orders_open == b->orders_open && a->order_list_version == b->order_list_version);
}

static size_t
s_pack (const ProtobufCMessage *message, uint8_t *out)
{
    return protobuf_c_message_pack (message, out);
}

//  The two ledgers hold the same orders, accounts, lists, queue and
//  purchases of user (and of partition).
static void
s_same_state (tly_ledger_t *a, tly_ledger_t *b, test_client_t *user, tly_arena_t *arena)
{
    tly_account_state_t sa = s_account (a, user), sb = s_account (b, user);
    s_same_accounts (&sa, &sb);
    static uint8_t bytes_a [1 << 20], bytes_b [1 << 20];
    s_packed_t pa = { bytes_a, 0, 0 }, pb = { bytes_b, 0, 0 };
    assert (tly_ledger_each_order (a, s_pack_order, &pa) == 0);
    assert (tly_ledger_each_order (b, s_pack_order, &pb) == 0);
    assert (pa.count > 0 && pa.count == pb.count && pa.size == pb.size
            && memcmp (bytes_a, bytes_b, pa.size) == 0);
    Tally__OrderList *la = NULL, *lb = NULL;
    assert (tly_ledger_order_list (a, user->user.pk, user->user.partition, arena, &la) == 0);
    assert (tly_ledger_order_list (b, user->user.pk, user->user.partition, arena, &lb) == 0);
    size_t na = s_pack (&la->base, bytes_a), nb = s_pack (&lb->base, bytes_b);
    assert (na == nb && memcmp (bytes_a, bytes_b, na) == 0);
    Tally__OrderQueue *qa = NULL, *qb = NULL;
    uint64_t va = 0, vb = 0;
    assert (tly_ledger_order_queue (a, user->user.partition, arena, &qa, &va) == 0);
    assert (tly_ledger_order_queue (b, user->user.partition, arena, &qb, &vb) == 0);
    na = s_pack (&qa->base, bytes_a);
    nb = s_pack (&qb->base, bytes_b);
    assert (va == vb && na == nb && memcmp (bytes_a, bytes_b, na) == 0);
    size_t max = sa.purchases + 1;
    tly_store_entries_t ea = { .purchases = tly_arena_alloc (arena, max * sizeof (void *)),
                               .adjustments = tly_arena_alloc (arena, max * sizeof (void *)) };
    tly_store_entries_t eb = { .purchases = tly_arena_alloc (arena, max * sizeof (void *)),
                               .adjustments = tly_arena_alloc (arena, max * sizeof (void *)) };
    uint64_t first = sa.purchases > 100 ? sa.purchases - 99 : 1;
    assert (tly_ledger_entries (a, user->user.pk, first, max, arena, &ea) == 0);
    assert (tly_ledger_entries (b, user->user.pk, first, max, arena, &eb) == 0);
    assert (ea.count == eb.count && ea.n_purchases == eb.n_purchases);
    for (size_t i = 0; i < ea.n_purchases; i++) {
        na = s_pack (&ea.purchases [i]->base, bytes_a);
        nb = s_pack (&eb.purchases [i]->base, bytes_b);
        assert (na == nb && memcmp (bytes_a, bytes_b, na) == 0);
    }
}

//  ---------------------------------------------------------------- snapshot rows

typedef struct {
    Tally__SnapshotRows rows;
    Tally__SnapshotRow *slots [16384];
    tly_arena_t *arena;
} s_rows_t;

static int
s_add_row (tly_store_row_t table, const uint8_t *key, size_t key_size, const uint8_t *value,
           size_t value_size, void *arg)
{
    s_rows_t *rows = arg;
    assert (rows->rows.n_rows < 16384);
    Tally__SnapshotRow *row = tly_arena_alloc (rows->arena, sizeof *row);
    tally__snapshot_row__init (row);
    row->table = (uint32_t) table;
    row->key.len = key_size;
    row->key.data = tly_arena_alloc (rows->arena, key_size ? key_size : 1);
    memcpy (row->key.data, key, key_size);
    row->value.len = value_size;
    row->value.data = tly_arena_alloc (rows->arena, value_size ? value_size : 1);
    memcpy (row->value.data, value, value_size);
    rows->slots [rows->rows.n_rows++] = row;
    return 0;
}

static void
s_load_snapshot (tly_ledger_t *from, tly_ledger_t *to, uint32_t partition, tly_arena_t *arena)
{
    static s_rows_t rows;
    memset (&rows, 0, sizeof rows);
    tally__snapshot_rows__init (&rows.rows);
    rows.rows.rows = rows.slots;
    rows.arena = arena;
    uint64_t applied, epoch;
    int64_t clock;
    assert (tly_ledger_each_row (from, partition, s_add_row, &rows, &applied, &epoch, &clock) == 0);
    bool orders = false, list = false, queue = false;
    for (size_t i = 0; i < rows.rows.n_rows; i++) {
        orders |= rows.slots [i]->table == TLY_STORE_ROW_ORDER;
        list |= rows.slots [i]->table == TLY_STORE_ROW_ORDER_LIST;
        queue |= rows.slots [i]->table == TLY_STORE_ROW_ORDER_QUEUE;
    }
    assert (orders && list && queue);
    assert (tly_ledger_begin (to) == 0);
    assert (tly_ledger_clear_partition (to, partition) == 0);
    assert (tly_ledger_load_rows (to, partition, &rows.rows) == 0);
    assert (tly_ledger_load_done (to, partition, applied, epoch, clock) == 0);
    assert (tly_ledger_commit (to) == 0);
}

//  ---------------------------------------------------------------- the test

static void
s_test_orders (const char *live_path, const char *replay_path, const char *loaded_path,
               tly_arena_t *arena)
{
    test_client_t worker, alice, bob;
    test_client_init (&worker, 4, 0);
    test_client_init (&alice, 4, 1);
    test_client_init (&bob, 4, 1);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 1000,
                                   .amount_max = 100,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .keep_purchases = TLY_KEEP_PURCHASES_MIN,
                                   .open_prices = true };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live);
    worker.user.worker = true;
    test_run_t run = { .ledger = live, .arena = arena, .now = 1000 };
    worker.user.route = 0;
    test_run_message (&run, &worker, test_set_price (arena, &worker, "sword", 30));
    worker.user.route = 1;
    test_run_message (&run, &alice, test_create (arena, &alice, 100));
    test_run_message (&run, &bob, test_create (arena, &bob, 10));
    tly_account_state_t state = s_account (live, &alice);
    assert (state.balance_version == 1 && state.log_version == 1 && state.held == 0);
    assert (state.order_list_version == 1 && state.orders_created == 0);

    //  Create: priced as a buy (the catalog's price for 0, an open price as named).
    const char *ids [] = { "sword", "potion" };
    const int64_t amounts [] = { 0, 15 };
    Tally__RecordDraft *draft = test_run_message (
        &run, &alice, test_create_order (arena, &alice, ids, amounts, 2));
    const Tally__Order *order = s_order (draft);
    assert (order->status == TALLY__ORDER_STATUS__ORDER_DRAFT && order->total == 45);
    assert (order->version == 1 && order->items [0]->amount == 30 && order->created_at > 0);
    assert (strcmp (order->user_id, alice.user.id) == 0);
    const Tally__OrderChanged *changed = draft->events [0]->order_changed;
    assert (changed->balance_after == 100 && changed->held_after == 0 && changed->n_purchases == 0);
    const char *order_id = tly_arena_strdup (arena, order->id);
    uint8_t key [TLY_OBJECT_KEY_BYTES], derived [TLY_OBJECT_KEY_BYTES];
    assert (tly_object_key_parse (order_id, key) == 0);
    tly_order_key (1, alice.user.pk, run.drafts [run.n - 1]->results [0]->message_id.data, derived);
    assert (memcmp (key, derived, sizeof key) == 0);
    state = s_account (live, &alice);
    assert (state.orders_created == 1 && state.orders_open == 1 && state.order_list_version == 2);
    assert (state.balance_version == 1);

    //  Edit: items replaced, version + 1.
    const int64_t edited [] = { 0, 20 };
    draft = test_run_message (&run, &alice,
                              test_edit_order (arena, &alice, order_id, ids, edited, 2));
    order = s_order (draft);
    assert (order->version == 2 && order->total == 50 && order->items [1]->amount == 20);

    //  Refusals before submitting, each changing nothing.
    draft = test_run_message (&run, &bob, test_edit_order (arena, &bob, order_id, ids, edited, 2));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__NOT_FOUND && draft->n_events == 0);
    assert (strcmp (s_text (draft), "No such order") == 0);
    draft = test_run_message (&run, &bob, test_order_ref (arena, &bob, S_SUBMIT, order_id, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__NOT_FOUND);
    uint8_t unknown_id [TLY_MESSAGE_ID_BYTES] = { 9, 9, 9 };
    char unknown [TLY_ID_MAX];
    tly_order_key (1, alice.user.pk, unknown_id, key);
    tly_object_id_of_key (key, unknown);
    draft = test_run_message (&run, &alice,
                              test_order_ref (arena, &alice, S_SUBMIT, unknown, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__NOT_FOUND);
    draft = test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_COMPLETE, unknown, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__NOT_FOUND);
    draft = test_run_message (&run, &alice,
                              test_order_ref (arena, &alice, S_COMPLETE, order_id, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (strcmp (s_text (draft), "Only the worker may complete or fail an order") == 0);
    draft = test_run_message (&run, &alice, test_order_ref (arena, &alice, S_FAIL, order_id, "no"));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    draft = test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_COMPLETE, order_id, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_TRANSITION);
    assert (strcmp (s_text (draft), "Order is draft: only a processing order can be completed")
            == 0);
    draft = test_run_message (&run, &worker, test_order_ref (arena, &worker, S_FAIL, order_id, ""));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_TRANSITION);
    const int64_t too_much [] = { 0, 101 };
    draft = test_run_message (&run, &alice,
                              test_edit_order (arena, &alice, order_id, ids, too_much, 2));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    const int64_t wrong_price [] = { 29, 20 };
    draft = test_run_message (&run, &alice,
                              test_edit_order (arena, &alice, order_id, ids, wrong_price, 2));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__PRICE_MISMATCH);
    state = s_account (live, &alice);
    assert (state.order_list_version == 3 && state.balance == 100 && state.held == 0);

    //  Submit after a price change: PRICE_MISMATCH, still a draft.
    worker.user.route = 0;
    test_run_message (&run, &worker, test_set_price (arena, &worker, "sword", 35));
    draft = test_run_message (&run, &alice,
                              test_order_ref (arena, &alice, S_SUBMIT, order_id, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__PRICE_MISMATCH && draft->n_events == 0);
    test_run_message (&run, &worker, test_set_price (arena, &worker, "sword", 30));
    worker.user.route = 1;

    //  Submit beyond the available balance: INSUFFICIENT_BALANCE.
    const char *big_ids [] = { "sword", "crown" };
    const int64_t big [] = { 0, 80 };
    draft = test_run_message (&run, &alice, test_create_order (arena, &alice, big_ids, big, 2));
    const char *big_id = tly_arena_strdup (arena, s_order (draft)->id);
    draft = test_run_message (&run, &alice, test_order_ref (arena, &alice, S_SUBMIT, big_id, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);

    //  Submit: the hold placed, a new balance version, the queue entered.
    draft = test_run_message (&run, &alice,
                              test_order_ref (arena, &alice, S_SUBMIT, order_id, NULL));
    order = s_order (draft);
    assert (order->status == TALLY__ORDER_STATUS__ORDER_PROCESSING && order->version == 3);
    assert (order->submitted_at == run.now - 1);
    changed = draft->events [0]->order_changed;
    assert (changed->balance_after == 100 && changed->held_after == 50);
    state = s_account (live, &alice);
    assert (state.held == 50 && state.balance_version == 2 && state.log_version == 1);
    Tally__OrderQueue *queue = NULL;
    uint64_t queue_version = 0;
    assert (tly_ledger_order_queue (live, 1, arena, &queue, &queue_version) == 0);
    assert (queue_version == 2 && queue->n_orders == 1
            && strcmp (queue->orders [0]->id, order_id) == 0);
    //  Resend: the first result, nothing new.
    Tally__InboxMessage *submit = test_order_ref (arena, &alice, S_SUBMIT, order_id, NULL);
    draft = test_run_message (&run, &alice, submit);
    assert (draft->n_events == 0);  //  processing now: refused
    assert (tly_ledger_begin (live) == 0);
    Tally__MessageResult *again = NULL;
    Tally__Event *event = NULL;
    uint64_t version = 0;
    assert (tly_ledger_execute (live, &alice.user, submit, run.now, arena, &again, &event, &version)
            == TLY_LEDGER_DUPLICATE);
    tly_ledger_abort (live);
    assert (test_error_code (again) == TALLY__ERROR_CODE__INVALID_TRANSITION);
    assert (strcmp (again->error->message, "Order is processing: only a draft can be submitted")
            == 0);
    draft = test_run_message (&run, &alice,
                              test_edit_order (arena, &alice, order_id, ids, edited, 2));
    assert (strcmp (s_text (draft), "Order is processing: only a draft can be edited") == 0);

    //  What the order holds is not for a buy, a debit or another hold.
    draft = test_run_message (&run, &alice, test_buy (arena, &alice, "potion", 60));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    draft = test_run_message (&run, &worker, test_debit (arena, &worker, &alice, 51, "debit-1"));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    draft = test_run_message (&run, &alice, test_buy (arena, &alice, "potion", 10));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__OK);
    state = s_account (live, &alice);
    assert (state.balance == 90 && state.held == 50 && state.balance_version == 3);
    assert (state.log_version == 2 && state.purchases == 1);

    //  Complete: the hold captured, a purchase per line, one version each.
    Tally__InboxMessage *complete = test_order_ref (arena, &worker, S_COMPLETE, order_id, NULL);
    draft = test_run_message (&run, &worker, complete);
    order = s_order (draft);
    assert (order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED && order->version == 4);
    assert (order->n_purchase_ids == 2 && order->finished_at == run.now - 1);
    changed = draft->events [0]->order_changed;
    assert (changed->balance_after == 40 && changed->held_after == 0 && changed->n_purchases == 2);
    assert (changed->purchases [0]->balance_after == 60
            && changed->purchases [1]->balance_after == 40);
    uint8_t order_key [TLY_OBJECT_KEY_BYTES];
    assert (tly_object_key_parse (order_id, order_key) == 0);
    tly_order_purchase_key (1, alice.user.pk, order_key, 1, complete->message_id.data, derived);
    char purchase_id [TLY_ID_MAX];
    tly_object_id_of_key (derived, purchase_id);
    assert (strcmp (order->purchase_ids [1], purchase_id) == 0);
    Tally__PurchaseRecord *record = NULL;
    assert (tly_ledger_purchase (live, purchase_id, arena, &record) == TLY_LEDGER_KEPT);
    assert (record->amount == 20 && record->balance_after == 40
            && record->partition_seq == draft->partition_seq
            && strcmp (record->item_id, "potion") == 0);
    state = s_account (live, &alice);
    assert (state.balance == 40 && state.held == 0 && state.purchases == 3);
    assert (state.balance_version == 4 && state.log_version == 3 && state.orders_open == 1);
    assert (tly_ledger_order_queue (live, 1, arena, &queue, &queue_version) == 0);
    assert (queue_version == 3 && queue->n_orders == 0);
    assert (tly_ledger_begin (live) == 0);
    assert (
        tly_ledger_execute (live, &worker.user, complete, run.now, arena, &again, &event, &version)
        == TLY_LEDGER_DUPLICATE);
    tly_ledger_abort (live);
    assert (again->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER);
    assert (again->order->version == 4
            && strcmp (again->order->purchase_ids [1], purchase_id) == 0);
    assert (s_account (live, &alice).balance == 40);
    draft = test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_FAIL, order_id, "late"));
    assert (strcmp (s_text (draft), "Order is completed: only a processing order can be failed")
            == 0);

    //  Fail: the hold released, the error kept.
    const int64_t small [] = { 0, 5 };
    draft = test_run_message (&run, &alice, test_edit_order (arena, &alice, big_id, ids, small, 2));
    assert (s_order (draft)->total == 35);
    draft = test_run_message (&run, &alice, test_order_ref (arena, &alice, S_SUBMIT, big_id, NULL));
    assert (s_order (draft)->status == TALLY__ORDER_STATUS__ORDER_PROCESSING);
    assert (s_account (live, &alice).held == 35);
    char long_error [TLY_ORDER_ERROR_MAX + 2];
    memset (long_error, 'e', sizeof long_error - 1);
    long_error [sizeof long_error - 1] = 0;
    draft = test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_FAIL, big_id, long_error));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_NOTE);
    draft = test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_FAIL, big_id, "out of stock"));
    order = s_order (draft);
    assert (order->status == TALLY__ORDER_STATUS__ORDER_FAILED
            && strcmp (order->error, "out of stock") == 0 && order->n_purchase_ids == 0);
    state = s_account (live, &alice);
    assert (state.balance == 40 && state.held == 0 && state.orders_open == 0);
    assert (state.balance_version == 6 && state.log_version == 3);
    draft = test_run_message (&run, &alice, test_order_ref (arena, &alice, S_SUBMIT, big_id, NULL));
    assert (strcmp (s_text (draft), "Order is failed: only a draft can be submitted") == 0);

    //  The open orders' limit.
    const char *one [] = { "potion" };
    const int64_t one_amount [] = { 1 };
    for (size_t i = 0; i < TLY_ORDER_OPEN_MAX; i++)
        assert (test_draft_code (test_run_message (
                    &run, &alice, test_create_order (arena, &alice, one, one_amount, 1)))
                == TALLY__ERROR_CODE__OK);
    draft = test_run_message (&run, &alice, test_create_order (arena, &alice, one, one_amount, 1));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__ORDER_LIMIT);
    assert (strcmp (s_text (draft), "Too many open orders") == 0);
    state = s_account (live, &alice);
    assert (state.orders_open == TLY_ORDER_OPEN_MAX && state.orders_created == 18);
    Tally__OrderList *list = NULL;
    assert (tly_ledger_order_list (live, alice.user.pk, 1, arena, &list) == 0);
    assert (list->count == 18 && list->n_orders == 18
            && strcmp (list->orders [0]->id, order_id) == 0);
    assert (list->orders [0]->status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    test_client_t erin;  //  the OrderList's limit: past it, the latest created shown
    test_client_init (&erin, 4, 1);
    test_run_message (&run, &erin, test_create (arena, &erin, 10));
    const char *list_ids [TLY_ORDER_LIST_MAX + 1];
    for (size_t i = 0; i <= TLY_ORDER_LIST_MAX; i++) {
        draft = test_run_message (&run, &erin,
                                  test_create_order (arena, &erin, one, one_amount, 1));
        list_ids [i] = tly_arena_strdup (arena, s_order (draft)->id);
        test_run_message (&run, &erin, test_order_ref (arena, &erin, S_SUBMIT, list_ids [i], NULL));
        test_run_message (&run, &worker,
                          test_order_ref (arena, &worker, S_FAIL, list_ids [i], NULL));
    }
    assert (tly_ledger_order_list (live, erin.user.pk, 1, arena, &list) == 0);
    assert (list->count == TLY_ORDER_LIST_MAX + 1 && list->n_orders == TLY_ORDER_LIST_MAX);
    assert (strcmp (list->orders [0]->id, list_ids [1]) == 0
            && strcmp (list->orders [TLY_ORDER_LIST_MAX - 1]->id, list_ids [TLY_ORDER_LIST_MAX])
                   == 0);

    //  History entries: completions count as purchases with --keep-purchases.
    const char *lines [TLY_ORDER_ITEMS_MAX];
    int64_t line_amounts [TLY_ORDER_ITEMS_MAX];
    for (size_t i = 0; i < TLY_ORDER_ITEMS_MAX; i++) {
        lines [i] = "bead";
        line_amounts [i] = 1;
    }
    test_client_t carol;
    test_client_init (&carol, 4, 1);
    test_run_message (&run, &carol, test_create (arena, &carol, 1000));
    for (size_t n = 0; n < 7; n++) {
        draft = test_run_message (
            &run, &carol,
            test_create_order (arena, &carol, lines, line_amounts, TLY_ORDER_ITEMS_MAX));
        const char *id = tly_arena_strdup (arena, s_order (draft)->id);
        assert (test_draft_code (test_run_message (
                    &run, &carol, test_order_ref (arena, &carol, S_SUBMIT, id, NULL)))
                == TALLY__ERROR_CODE__OK);
        assert (test_draft_code (test_run_message (
                    &run, &worker, test_order_ref (arena, &worker, S_COMPLETE, id, NULL)))
                == TALLY__ERROR_CODE__OK);
    }
    state = s_account (live, &carol);
    assert (state.purchases == 7 * TLY_ORDER_ITEMS_MAX && state.balance == 1000 - 112);
    assert (state.log_version == 8 && state.balance_version == 15);
    Tally__PurchaseRecord *first = NULL;
    tly_store_entries_t entries = { .purchases = tly_arena_alloc (arena, 8 * sizeof (void *)),
                                    .adjustments = tly_arena_alloc (arena, 8 * sizeof (void *)) };
    assert (tly_ledger_entries (live, carol.user.pk, 1, 8, arena, &entries) == 0);
    assert (entries.count == 0);  //  dropped: 112 entries, 100 kept
    assert (tly_ledger_entries (live, carol.user.pk, 13, 8, arena, &entries) == 0);
    assert (entries.count == 8);
    first = entries.purchases [0];
    assert (first->amount == 1);

    //  The queue's limit (submitting past TLY_ORDER_QUEUE_MAX processing).
    for (size_t i = 0; i < TLY_ORDER_QUEUE_MAX; i++) {
        test_client_t user;
        test_client_init (&user, 4, 1);
        test_run_t *r = &run;
        test_run_message (r, &user, test_create (arena, &user, 10));
        draft = test_run_message (r, &user, test_create_order (arena, &user, one, one_amount, 1));
        const char *id = tly_arena_strdup (arena, s_order (draft)->id);
        assert (test_draft_code (
                    test_run_message (r, &user, test_order_ref (arena, &user, S_SUBMIT, id, NULL)))
                == TALLY__ERROR_CODE__OK);
    }
    test_run_t *r = &run;
    draft = test_run_message (r, &bob, test_create_order (arena, &bob, one, one_amount, 1));
    const char *bob_order = tly_arena_strdup (arena, s_order (draft)->id);
    draft = test_run_message (r, &bob, test_order_ref (arena, &bob, S_SUBMIT, bob_order, NULL));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__ORDER_LIMIT);
    assert (strcmp (s_text (draft), "Too many orders processing; retry later") == 0);

    //  The audit writer takes every draft (its events follow from their messages).
    for (size_t i = 0; i < run.n; i++)
        assert (tly_audit_check_draft (test_round_trip (run.drafts [i], arena), arena) == NULL);
    //  ... and refuses an order's event its envelope's sender could not make.
    Tally__RecordDraft *forged = test_round_trip (run.drafts [run.n - 2], arena);
    assert (forged->n_events == 1);
    forged->events [0]->order_changed->user.data = worker.user.pk;
    assert (tly_audit_check_draft (forged, arena) != NULL);
    forged = test_round_trip (run.drafts [run.n - 2], arena);
    forged->events [0]->order_changed->order->status = TALLY__ORDER_STATUS__ORDER_COMPLETED;
    assert (tly_audit_check_draft (forged, arena) != NULL);

    //  A state snapshot's rows in a fresh ledger: the same state.
    tly_ledger_t *loaded = tly_ledger_new (loaded_path, 1 << 24, &limits);
    assert (loaded);
    s_load_snapshot (live, loaded, 1, arena);
    s_same_state (live, loaded, &alice, arena);
    s_same_state (live, loaded, &carol, arena);
    s_same_state (live, loaded, &bob, arena);
    tly_ledger_destroy (&loaded);
    tly_ledger_destroy (&live);
    (void) replay_path;
}

//  The state's bytes of object id as reader reads it (code OK), or NULL.
static ProtobufCBinaryData
s_snapshot (tly_objects_t *objects, const char *id, uint32_t partition, const uint8_t *reader,
            Tally__ErrorCode expected, tly_arena_t *arena, Tally__ObjectState **state_p)
{
    const char *reason = NULL;
    Tally__ObjectState *state = NULL;
    Tally__ErrorCode code = tly_objects_snapshot (objects, id, partition, reader, arena, &state,
                                                  &reason);
    assert (code == expected);
    ProtobufCBinaryData bytes = { 0, NULL };
    if (code == TALLY__ERROR_CODE__OK) {
        bytes.len = tally__object_state__get_packed_size (state);
        bytes.data = tly_arena_alloc (arena, bytes.len);
        tally__object_state__pack (state, bytes.data);
    }
    if (state_p)
        *state_p = state;
    return bytes;
}

static ProtobufCBinaryData
s_packed_state (const Tally__ObjectState *state, tly_arena_t *arena)
{
    ProtobufCBinaryData bytes = { tally__object_state__get_packed_size (state), NULL };
    bytes.data = tly_arena_alloc (arena, bytes.len);
    tally__object_state__pack (state, bytes.data);
    return bytes;
}

static bool
s_same (ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && memcmp (a.data, b.data, a.len) == 0;
}

//  The read path: who reads an Order, an OrderList and the OrderQueue, at
//  which versions; an update of each, made from the event, is its snapshot.
static void
s_test_objects (tly_ledger_t *live, test_run_t *run, test_client_t *worker, test_client_t *alice,
                tly_arena_t *arena)
{
    tly_objects_t *objects = tly_objects_new (live, worker->user.pk);
    assert (objects);
    test_client_t eve;
    test_client_init (&eve, 4, 2);
    uint32_t partition = alice->user.partition;
    const char *one [] = { "bead" };
    const int64_t amount [] = { 2 };
    Tally__RecordDraft *draft = test_run_message (run, alice,
                                                  test_create_order (arena, alice, one, amount, 1));
    draft = test_run_message (run, alice,
                              test_order_ref (arena, alice, S_SUBMIT, s_order (draft)->id, NULL));
    tly_ledger_versions_t versions;
    tly_ledger_versions (live, &versions);
    const Tally__Event *event = draft->events [0];
    const Tally__Order *order = s_order (draft);
    tly_account_state_t state = s_account (live, alice);
    assert (versions.balance == state.balance_version && versions.log == state.log_version);
    assert (versions.order_list == state.order_list_version && versions.queue > 1);
    assert (versions.held == state.held && versions.list && versions.queue_state);

    //  The Order: its user and the worker read it; anyone else is refused.
    Tally__ObjectState *object = NULL;
    ProtobufCBinaryData snapshot = s_snapshot (objects, order->id, partition, alice->user.pk,
                                               TALLY__ERROR_CODE__OK, arena, &object);
    assert (object->version == order->version && object->value->order->total == 2);
    assert (object->group && object->group->n_members == 1
            && object->group->members [0]->role == TALLY__ROLE__WRITER);
    uint8_t group [TLY_OBJECT_KEY_BYTES];
    char group_id [TLY_ID_MAX];
    tly_order_group_key (alice->user.pk, partition, group);
    tly_object_id_of_key (group, group_id);
    assert (strcmp (object->group->id, group_id) == 0);
    s_snapshot (objects, order->id, partition, worker->user.pk, TALLY__ERROR_CODE__OK, arena, NULL);
    s_snapshot (objects, order->id, partition, eve.user.pk, TALLY__ERROR_CODE__PERMISSION_DENIED,
                arena, NULL);
    assert (
        s_same (snapshot,
                s_packed_state (tly_objects_order (objects, event->order_changed, arena), arena)));
    uint8_t unknown_id [TLY_MESSAGE_ID_BYTES] = { 7 }, key [TLY_OBJECT_KEY_BYTES];
    char unknown [TLY_ID_MAX];
    tly_order_key (partition, alice->user.pk, unknown_id, key);
    tly_object_id_of_key (key, unknown);
    s_snapshot (objects, unknown, partition, alice->user.pk, TALLY__ERROR_CODE__NOT_FOUND, arena,
                NULL);

    //  The user's objects: the update of each is its snapshot, byte for byte.
    tly_object_ref_t refs [TLY_OBJECTS_REFS];
    tly_objects_refs (alice->user.pk, partition, refs);
    assert (refs [3].kind == TLY_OBJ_ORDER_LIST);
    assert (!tly_objects_changes (event, &refs [0]) && tly_objects_changes (event, &refs [1]));
    assert (!tly_objects_changes (event, &refs [2]) && tly_objects_changes (event, &refs [3]));
    for (size_t r = 1; r < TLY_OBJECTS_REFS; r += 2) {
        char id [TLY_ID_MAX];
        tly_object_id_of_key (refs [r].key, id);
        snapshot = s_snapshot (objects, id, partition, alice->user.pk, TALLY__ERROR_CODE__OK, arena,
                               &object);
        Tally__ObjectState *update = tly_objects_update (objects, &refs [r], event, &versions,
                                                         arena);
        assert (s_same (snapshot, s_packed_state (update, arena)));
        s_snapshot (objects, id, partition, eve.user.pk, TALLY__ERROR_CODE__PERMISSION_DENIED,
                    arena, NULL);
    }
    char list_id [TLY_ID_MAX], balance_id [TLY_ID_MAX];
    tly_object_id_of_key (refs [3].key, list_id);
    tly_object_id_of_key (refs [1].key, balance_id);
    s_snapshot (objects, list_id, partition, alice->user.pk, TALLY__ERROR_CODE__OK, arena, &object);
    assert (object->version == state.order_list_version
            && object->value->orders->count == state.orders_created);
    s_snapshot (objects, balance_id, partition, alice->user.pk, TALLY__ERROR_CODE__OK, arena,
                &object);
    assert (object->value->balance->held == state.held && state.held > 0
            && object->version == state.balance_version);

    //  The queue: the worker's alone (its user neither).
    char queue_id [TLY_ID_MAX];
    tly_order_queue_id (worker->user.pk, partition, queue_id);
    snapshot = s_snapshot (objects, queue_id, partition, worker->user.pk, TALLY__ERROR_CODE__OK,
                           arena, &object);
    assert (object->version == versions.queue && object->value->order_queue->n_orders == 2);
    assert (
        s_same (snapshot,
                s_packed_state (tly_objects_queue (objects, partition, &versions, arena), arena)));
    s_snapshot (objects, queue_id, partition, alice->user.pk, TALLY__ERROR_CODE__PERMISSION_DENIED,
                arena, NULL);
    //  Another partition's queue, never submitted to: version 1, empty.
    tly_order_queue_id (worker->user.pk, 3, queue_id);
    s_snapshot (objects, queue_id, 3, worker->user.pk, TALLY__ERROR_CODE__OK, arena, &object);
    assert (object->version == 1 && object->value->order_queue->n_orders == 0);
    //  A user with no order: the OrderList at version 1, empty.
    test_run_message (run, &eve, test_create (arena, &eve, 5));
    tly_object_id_of_key (refs [3].key, list_id);
    tly_user_object_id (TLY_OBJ_ORDER_LIST, eve.user.pk, 4, list_id);
    s_snapshot (objects, list_id, 2, eve.user.pk, TALLY__ERROR_CODE__OK, arena, &object);
    assert (object->version == 1 && object->value->orders->count == 0);
    tly_objects_destroy (&objects);
}

//  Replay: a fresh ledger taking the drafts of a smaller run is the same.
static void
s_test_replay (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    test_client_t worker, alice;
    test_client_init (&worker, 4, 0);
    test_client_init (&alice, 4, 2);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 1000,
                                   .amount_max = 100,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .keep_purchases = TLY_KEEP_PURCHASES_MIN,
                                   .open_prices = true };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live);
    worker.user.worker = true;
    worker.user.route = 2;
    test_run_t run = { .ledger = live, .arena = arena, .now = 5000 };
    test_run_message (&run, &alice, test_create (arena, &alice, 1000));
    const char *lines [TLY_ORDER_ITEMS_MAX];
    int64_t amounts [TLY_ORDER_ITEMS_MAX];
    for (size_t i = 0; i < TLY_ORDER_ITEMS_MAX; i++) {
        lines [i] = i % 2 ? "bead" : "pearl";
        amounts [i] = 1 + (int64_t) i % 3;
    }
    for (size_t n = 0; n < 9; n++) {
        Tally__RecordDraft *draft = test_run_message (
            &run, &alice, test_create_order (arena, &alice, lines, amounts, TLY_ORDER_ITEMS_MAX));
        const char *id = tly_arena_strdup (arena, s_order (draft)->id);
        test_run_message (&run, &alice, test_buy (arena, &alice, "gem", 3));
        test_run_message (&run, &alice, test_order_ref (arena, &alice, S_SUBMIT, id, NULL));
        if (n == 4)
            test_run_message (&run, &worker,
                              test_order_ref (arena, &worker, S_FAIL, id, "declined"));
        else if (n < 8)
            test_run_message (&run, &worker, test_order_ref (arena, &worker, S_COMPLETE, id, NULL));
    }
    test_run_message (&run, &worker, test_debit (arena, &worker, &alice, 5, "fee"));
    tly_account_state_t state = s_account (live, &alice);
    assert (state.held > 0 && state.orders_open == 1);
    assert (state.balance_version != state.log_version);

    s_test_objects (live, &run, &worker, &alice, arena);
    for (size_t i = 0; i < run.n; i++)
        assert (tly_audit_check_draft (test_round_trip (run.drafts [i], arena), arena) == NULL);

    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    assert (tly_ledger_begin (replay) == 0);
    for (size_t i = 0; i < run.n; i++)
        assert (tly_ledger_apply (replay, test_round_trip (run.drafts [i], arena), arena)
                == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    s_same_state (live, replay, &alice, arena);
    tly_ledger_destroy (&replay);
    //  A reader beside the live ledger sees the same orders and queue.
    tly_ledger_t *reader = tly_ledger_new_reader (live_path);
    assert (reader);
    static uint8_t bytes_a [1 << 20], bytes_b [1 << 20];
    s_packed_t pa = { bytes_a, 0, 0 }, pb = { bytes_b, 0, 0 };
    assert (tly_ledger_each_order (live, s_pack_order, &pa) == 0);
    assert (tly_ledger_each_order (reader, s_pack_order, &pb) == 0);
    assert (pa.count == 10 && pa.count == pb.count && pa.size == pb.size
            && memcmp (bytes_a, bytes_b, pa.size) == 0);
    Tally__OrderQueue *qa = NULL, *qb = NULL;
    uint64_t va = 0, vb = 0;
    assert (tly_ledger_order_queue (live, 2, arena, &qa, &va) == 0);
    assert (tly_ledger_order_queue (reader, 2, arena, &qb, &vb) == 0);
    assert (va == vb && va > 1 && qb->n_orders == qa->n_orders && strcmp (qa->id, qb->id) == 0);
    Tally__Order *read = NULL;
    assert (tly_ledger_order (reader, qa->orders [0]->id, arena, &read) == TLY_STORE_FOUND);
    assert (read->status == TALLY__ORDER_STATUS__ORDER_PROCESSING);
    tly_ledger_destroy (&reader);
    tly_ledger_destroy (&live);
}

//  A state made before orders: an account with no OrderList owner row. The
//  ledger gives it one when it opens, so the list reads at version 1.
static void
s_test_old_state (const char *path, tly_arena_t *arena)
{
    test_client_t worker, dave;
    test_client_init (&worker, 4, 0);
    test_client_init (&dave, 4, 3);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_begin (store) == 0);
    //  As a row written before orders reads: no order fields stored.
    tly_account_state_t state = { .balance = 7,
                                  .last_updated = 5,
                                  .created = 5,
                                  .balance_version = 1,
                                  .log_version = 1,
                                  .order_list_version = 1 };
    tly_user_object_id (TLY_OBJ_BALANCE, dave.user.pk, 4, state.balance_id);
    assert (tly_store_put_account (store, dave.user.pk, &state) == 0);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_user_object_key (TLY_OBJ_BALANCE, dave.user.pk, 3, key);
    assert (tly_store_put_owner (store, key, dave.user.pk) == 0);
    assert (tly_store_commit (store) == 0);
    tly_store_destroy (&store);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 10,
                                   .amount_max = 10,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 22, &limits);
    assert (ledger);
    tly_account_state_t read = s_account (ledger, &dave);
    assert (read.balance_version == 1 && read.log_version == 1 && read.held == 0);
    assert (read.order_list_version == 1 && read.orders_created == 0);
    tly_objects_t *objects = tly_objects_new (ledger, worker.user.pk);
    char list_id [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_ORDER_LIST, dave.user.pk, 4, list_id);
    Tally__ObjectState *object = NULL;
    s_snapshot (objects, list_id, 3, dave.user.pk, TALLY__ERROR_CODE__OK, arena, &object);
    assert (object->version == 1 && object->value->orders->count == 0);
    tly_objects_destroy (&objects);
    tly_ledger_destroy (&ledger);
}

//  An order's total at its edge: 2^53 - 1 in one line is taken, one more
//  in a second line is refused, whatever --max-amount allows per line.
static void
s_test_order_total (const char *path, tly_arena_t *arena)
{
    test_client_t worker, alice;
    test_client_init (&worker, 4, 0);
    test_client_init (&alice, 4, 1);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = TLY_BALANCE_MAX,
                                   .amount_max = TLY_BALANCE_MAX,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .keep_purchases = TLY_KEEP_PURCHASES_MIN,
                                   .open_prices = true };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 22, &limits);
    assert (ledger);
    test_run_t run = { .ledger = ledger, .arena = arena, .now = 1000 };
    test_run_message (&run, &alice, test_create (arena, &alice, 10));
    const char *ids [] = { "gold", "tip" };
    const int64_t at_limit [] = { TLY_BALANCE_MAX };
    Tally__RecordDraft *draft = test_run_message (
        &run, &alice, test_create_order (arena, &alice, ids, at_limit, 1));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__OK);
    assert (s_order (draft)->total == TLY_BALANCE_MAX);
    const int64_t over [] = { TLY_BALANCE_MAX, 1 };
    draft = test_run_message (&run, &alice, test_create_order (arena, &alice, ids, over, 2));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (strcmp (s_text (draft), "Order total too large: at most 9007199254740991") == 0);
    tly_ledger_destroy (&ledger);
}

void
tly_ledger_order_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger_order: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_order_test");
    char live [sizeof root + 16], replay [sizeof root + 16], loaded [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    snprintf (loaded, sizeof loaded, "%s/loaded", root);
    tly_arena_t *arena = tly_arena_new (1 << 20);
    s_test_orders (live, replay, loaded, arena);
    snprintf (live, sizeof live, "%s/live2", root);
    snprintf (replay, sizeof replay, "%s/replay2", root);
    s_test_replay (live, replay, arena);
    snprintf (live, sizeof live, "%s/old", root);
    s_test_old_state (live, arena);
    snprintf (live, sizeof live, "%s/total", root);
    s_test_order_total (live, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
