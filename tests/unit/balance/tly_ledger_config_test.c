//  tly_ledger's configuration self-test: the admin group and the price
//  catalog as execute decides them in partition 0, every buy priced by the
//  catalog (prices closed, then open), admins' credits, a transaction's
//  changes dropped by an abort, and the same configuration rebuilt by apply,
//  by a reopened state and by the writer's answer (docs/protocol.md,
//  "Admins and the catalog").
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "test_client.h"
#include "harness.h"

#define S_DRAFTS_MAX 2048

typedef struct {
    tly_ledger_t *ledger;
    tly_arena_t *arena;
    Tally__RecordDraft **drafts;
    size_t n;
    int64_t now;
} s_run_t;

//  Runs messages of sender as one envelope in its own transaction.
static Tally__RecordDraft *
s_envelope (s_run_t *run, test_client_t *sender, Tally__InboxMessage **messages, size_t count)
{
    assert (tly_ledger_begin (run->ledger) == 0);
    Tally__RecordDraft *draft = test_draft (run->ledger, sender, messages, count, 1, run->now++,
                                            run->arena, NULL);
    assert (tly_ledger_commit (run->ledger) == 0);
    assert (run->n < S_DRAFTS_MAX);
    run->drafts [run->n++] = draft;
    return draft;
}

static Tally__RecordDraft *
s_run (s_run_t *run, test_client_t *sender, Tally__InboxMessage *message)
{
    return s_envelope (run, sender, &message, 1);
}

static Tally__InboxMessage *
s_set_price (tly_arena_t *arena, test_client_t *sender, const char *item, int64_t price,
             bool active)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__CatalogItem *set = tly_arena_alloc (arena, sizeof *set);
    tally__catalog_item__init (set);
    set->item_id = (char *) item;
    set->price = price;
    set->active = active;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
    message->set_price = set;
    return message;
}

static Tally__InboxMessage *
s_admin (tly_arena_t *arena, test_client_t *sender, const uint8_t *account, size_t size, bool add)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__AdminChange *change = tly_arena_alloc (arena, sizeof *change);
    tally__admin_change__init (change);
    change->account = (ProtobufCBinaryData) { size, (uint8_t *) account };
    message->body_case = add ? TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
                             : TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN;
    if (add)
        message->add_admin = change;
    else
        message->remove_admin = change;
    return message;
}

static Tally__InboxMessage *
s_credit (tly_arena_t *arena, test_client_t *sender, const test_client_t *user, int64_t amount,
          const char *reference)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__Adjustment *adjustment = tly_arena_alloc (arena, sizeof *adjustment);
    tally__adjustment__init (adjustment);
    adjustment->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) user->user.pk };
    adjustment->amount = amount;
    adjustment->reference = (char *) reference;
    adjustment->note = "";
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
    message->credit = adjustment;
    return message;
}

static Tally__ErrorCode
s_code (const Tally__RecordDraft *draft, size_t index)
{
    return test_error_code (draft->results [index]);
}

static uint64_t
s_version (tly_ledger_t *ledger)
{
    return tly_config_version (tly_ledger_config (ledger));
}

//  The charge of a buy that went through, or -1.
static int64_t
s_charged (const Tally__RecordDraft *draft)
{
    const Tally__MessageResult *result = draft->results [0];
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE
               ? result->purchase->amount
               : -1;
}

//  Partition 0's rows, as a state snapshot carries them.
typedef struct {
    tly_arena_t *arena;
    Tally__SnapshotRows rows;
    Tally__SnapshotRow *pointers [4096];
    size_t configs;
} s_rows_t;

static int
s_take_row (tly_store_row_t table, const uint8_t *key, size_t key_size, const uint8_t *value,
            size_t value_size, void *arg)
{
    s_rows_t *rows = arg;
    assert (rows->rows.n_rows < sizeof rows->pointers / sizeof rows->pointers [0]);
    Tally__SnapshotRow *row = tly_arena_alloc (rows->arena, sizeof *row);
    tally__snapshot_row__init (row);
    row->table = table;
    uint8_t *copy = tly_arena_alloc (rows->arena, key_size + value_size + 1);
    memcpy (copy, key, key_size);
    memcpy (copy + key_size, value, value_size);
    row->key = (ProtobufCBinaryData) { key_size, copy };
    row->value = (ProtobufCBinaryData) { value_size, copy + key_size };
    rows->configs += table == TLY_STORE_ROW_CONFIG;
    rows->pointers [rows->rows.n_rows++] = row;
    return 0;
}

//  A new owner loading partition 0's snapshot decides under its configuration.
static void
s_test_snapshot (tly_ledger_t *live, const tly_ledger_limits_t *limits, const char *path,
                 tly_arena_t *arena)
{
    s_rows_t rows = { .arena = arena };
    tally__snapshot_rows__init (&rows.rows);
    rows.rows.rows = rows.pointers;
    uint64_t applied, epoch;
    int64_t clock_ms;
    assert (tly_ledger_each_row (live, 0, s_take_row, &rows, &applied, &epoch, &clock_ms) == 0);
    assert (rows.configs == 1);
    tly_ledger_t *owner = tly_ledger_new (path, 1 << 24, limits);
    assert (owner && s_version (owner) == 0);
    assert (tly_ledger_begin (owner) == 0);
    assert (tly_ledger_load_rows (owner, 0, &rows.rows) == 0);
    assert (tly_ledger_load_done (owner, 0, applied, epoch, clock_ms) == 0);
    assert (tly_ledger_commit (owner) == 0);
    assert (tly_config_equal (tly_ledger_config (owner), tly_ledger_config (live)));
    assert (tly_config_equal (tly_ledger_config_committed (owner), tly_ledger_config (live)));
    tly_ledger_destroy (&owner);
}

static void
s_test_config (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    test_client_t worker, alice, bob, mallory;
    test_client_init (&worker, 4, UINT32_MAX);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 50,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live && s_version (live) == 0);
    test_client_init (&alice, 4, 1);
    test_client_init (&bob, 4, 2);
    test_client_init (&mallory, 4, 3);
    worker.user.worker = true;
    s_run_t run = { live, arena, tly_arena_alloc (arena, S_DRAFTS_MAX * sizeof (void *)), 0, 1000 };
    s_run (&run, &alice, test_create (arena, &alice, 100));
    s_run (&run, &mallory, test_create (arena, &mallory, 100));

    //  Prices closed, nothing in the catalog: every buy is of an unknown item.
    Tally__RecordDraft *draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 5));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__UNKNOWN_ITEM && draft->n_events == 0);
    assert (draft->config_version == 0 && !draft->config && !draft->open_prices);

    //  Configuration messages go to partition 0; only admins set prices.
    worker.user.route = mallory.user.route = bob.user.route = 0;
    draft = s_run (&run, &mallory, s_set_price (arena, &mallory, "sword", 1, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED && !draft->config);
    assert (s_version (live) == 0);
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "sword", 10, true));
    assert (draft->partition == 0 && draft->config_version == 0);
    assert (draft->config && draft->config->version == 1 && draft->config->n_items == 1);
    const Tally__ConfigChange *change = draft->results [0]->config;
    assert (change && change->version == 1 && change->item && change->item->price == 10
            && change->item->active && strcmp (change->item->item_id, "sword") == 0);
    assert (s_version (live) == 1);
    //  The same price again changes nothing: the version stays.
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "sword", 10, true));
    assert (draft->results [0]->config->version == 1 && !draft->config);

    //  Buys at the catalog price: named or not; another amount is refused.
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 0));
    assert (s_charged (draft) == 10 && draft->config_version == 1);
    assert (draft->events [0]->purchase_recorded->amount == 10);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 10));
    assert (s_charged (draft) == 10 && test_balance (live, &alice) == 80);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 9));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PRICE_MISMATCH && draft->n_events == 0);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", -10));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PRICE_MISMATCH);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "shield", 0));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__UNKNOWN_ITEM);
    assert (test_balance (live, &alice) == 80);

    //  Admins: the worker's to add; an admin sets prices and credits.
    alice.user.route = 0;
    draft = s_run (&run, &alice, s_admin (arena, &alice, alice.user.pk, TLY_KEY_BYTES, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    alice.user.route = 1;
    draft = s_run (&run, &worker, s_admin (arena, &worker, bob.user.pk, TLY_KEY_BYTES, true));
    assert (draft->results [0]->config->version == 2
            && strcmp (draft->results [0]->config->admin_id, bob.user.id) == 0);
    assert (draft->config && draft->config->n_admins == 1);
    draft = s_run (&run, &worker, s_admin (arena, &worker, bob.user.pk, TLY_KEY_BYTES, true));
    assert (draft->results [0]->config->version == 2 && !draft->config);  //  already one
    draft = s_run (&run, &bob, s_set_price (arena, &bob, "sword", 12, true));
    assert (draft->results [0]->config->version == 3);
    draft = s_run (&run, &bob, s_admin (arena, &bob, mallory.user.pk, TLY_KEY_BYTES, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    //  The old price is refused, the new one charged.
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 10));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PRICE_MISMATCH && draft->config_version == 3);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 12));
    assert (s_charged (draft) == 12 && test_balance (live, &alice) == 68);
    //  An admin's credit goes through; anyone else's is refused.
    bob.user.route = mallory.user.route = 1;
    draft = s_run (&run, &bob, s_credit (arena, &bob, &alice, 32, "ch_1"));
    assert (draft->results [0]->adjustment && draft->results [0]->adjustment->balance_after == 100
            && strcmp (draft->results [0]->adjustment->by, bob.user.id) == 0);
    draft = s_run (&run, &mallory, s_credit (arena, &mallory, &alice, 32, "ch_2"));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (
        strcmp (draft->results [0]->error->message, "Only an admin may credit or debit a balance")
        == 0);
    bob.user.route = mallory.user.route = 0;

    //  Bad configuration messages, each changing nothing.
    uint8_t short_key [TLY_KEY_BYTES - 1] = { 0 };
    char long_item [TLY_ITEM_ID_MAX + 2];
    memset (long_item, 'i', sizeof long_item - 1);
    long_item [sizeof long_item - 1] = 0;
    const struct {
        Tally__InboxMessage *message;
        Tally__ErrorCode code;
    } bad [] = {
        { s_admin (arena, &worker, worker.user.pk, TLY_KEY_BYTES, true),
          TALLY__ERROR_CODE__INVALID_ADMIN },
        { s_admin (arena, &worker, worker.user.pk, TLY_KEY_BYTES, false),
          TALLY__ERROR_CODE__INVALID_ADMIN },
        { s_admin (arena, &worker, short_key, sizeof short_key, true),
          TALLY__ERROR_CODE__INVALID_ADMIN },
        { s_set_price (arena, &worker, "sword", 0, true), TALLY__ERROR_CODE__INVALID_PRICE },
        { s_set_price (arena, &worker, "sword", -1, true), TALLY__ERROR_CODE__INVALID_PRICE },
        { s_set_price (arena, &worker, "sword", TLY_BALANCE_MAX + 1, true),
          TALLY__ERROR_CODE__INVALID_PRICE },
        { s_set_price (arena, &worker, "", 5, true), TALLY__ERROR_CODE__INVALID_ITEM },
        { s_set_price (arena, &worker, long_item, 5, true), TALLY__ERROR_CODE__INVALID_ITEM },
        { s_set_price (arena, &worker, "\xff", 5, true), TALLY__ERROR_CODE__INVALID_ITEM },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        draft = s_run (&run, &worker, bad [i].message);
        assert (s_code (draft, 0) == bad [i].code && !draft->config);
    }
    assert (s_version (live) == 3);
    //  Routed to another partition, a configuration message is refused.
    worker.user.route = 2;
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "axe", 5, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__BAD_REQUEST);
    worker.user.route = 0;

    //  One envelope, several changes: one record, the version past each.
    Tally__InboxMessage *several [] = { s_set_price (arena, &bob, "axe", 7, true),
                                        s_set_price (arena, &bob, "bow", 8, true),
                                        s_set_price (arena, &bob, "sword", 12, false) };
    draft = s_envelope (&run, &bob, several, 3);
    assert (draft->config_version == 3 && draft->config && draft->config->version == 4);
    assert (draft->results [0]->config->version == 4 && draft->results [2]->config->version == 4
            && !draft->results [2]->config->item->active);
    assert (draft->config->n_items == 3 && strcmp (draft->config->items [0]->item_id, "axe") == 0);
    //  An inactive item is not for sale.
    draft = s_run (&run, &alice, test_buy (arena, &alice, "sword", 12));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__UNKNOWN_ITEM);
    //  The admin removed sets nothing more.
    draft = s_run (&run, &worker, s_admin (arena, &worker, bob.user.pk, TLY_KEY_BYTES, false));
    assert (draft->results [0]->config->version == 5 && draft->config->n_admins == 0);
    draft = s_run (&run, &bob, s_set_price (arena, &bob, "axe", 1, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);

    //  The limits: 64 admins, 1024 items.
    for (int i = 0; i < TLY_ADMINS_MAX; i++) {
        uint8_t *key = tly_arena_alloc (arena, TLY_KEY_BYTES);
        randombytes_buf (key, TLY_KEY_BYTES);
        draft = s_run (&run, &worker, s_admin (arena, &worker, key, TLY_KEY_BYTES, true));
        assert (s_code (draft, 0) == TALLY__ERROR_CODE__OK);
    }
    draft = s_run (&run, &worker, s_admin (arena, &worker, bob.user.pk, TLY_KEY_BYTES, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__CONFIG_LIMIT);
    for (int i = 3; i < TLY_CATALOG_MAX; i++) {
        char item [32];
        snprintf (item, sizeof item, "item-%04d", i);
        draft = s_run (&run, &worker,
                       s_set_price (arena, &worker, tly_arena_strdup (arena, item), 1 + i, true));
        assert (s_code (draft, 0) == TALLY__ERROR_CODE__OK);
    }
    assert (tly_config_item_count (tly_ledger_config (live)) == TLY_CATALOG_MAX);
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "one-more", 1, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__CONFIG_LIMIT);
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "item-0500", 3, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__OK);  //  a change of a price in a full one
    uint64_t version = s_version (live);

    //  An aborted transaction's changes are dropped.
    assert (tly_ledger_begin (live) == 0);
    test_draft (live, &worker,
                (Tally__InboxMessage *[]) { s_set_price (arena, &worker, "axe", 99, true) }, 1, 1,
                run.now++, arena, NULL);
    assert (s_version (live) == version + 1);
    tly_ledger_abort (live);
    assert (s_version (live) == version);
    assert (tly_config_item (tly_ledger_config (live), "axe")->price == 7);

    //  A state snapshot of partition 0 carries it.
    char snapshot_path [512];
    snprintf (snapshot_path, sizeof snapshot_path, "%s-snapshot", replay_path);
    s_test_snapshot (live, &limits, snapshot_path, arena);

    //  Apply rebuilds the same configuration, record by record.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    assert (tly_ledger_begin (replay) == 0);
    for (size_t i = 0; i < run.n; i++)
        assert (tly_ledger_apply (replay, test_round_trip (run.drafts [i], arena), arena)
                == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    assert (tly_config_equal (tly_ledger_config (replay), tly_ledger_config (live)));
    assert (test_balance (replay, &alice) == test_balance (live, &alice));
    //  A record of another partition carrying a configuration is refused.
    Tally__RecordDraft *forged = test_round_trip (run.drafts [run.n - 1], arena);
    forged->partition = 1;
    forged->partition_seq = 1000;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) != TLY_LEDGER_APPLIED);
    tly_ledger_abort (replay);
    tly_ledger_destroy (&replay);

    //  A reopened state starts from partition 0's configuration.
    tly_ledger_destroy (&live);
    live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live && s_version (live) == version);
    assert (tly_config_item (tly_ledger_config (live), "item-0500")->price == 3);
    //  The writer's answer is taken as it is, newer or not.
    tly_config_t *writer = tly_config_new ();
    bool changed;
    const char *text;
    Tally__InboxMessage *message = s_set_price (arena, &worker, "gem", 4, true);
    assert (tly_config_decide (writer, worker.user.pk, worker.user.pk, message, &changed, &text)
                == TALLY__ERROR_CODE__OK
            && changed);
    tly_config_set_version (writer, 1);
    assert (tly_ledger_adopt_config (live, tly_config_to_proto (writer, arena)) == 0);
    assert (s_version (live) == 1 && tly_config_item (tly_ledger_config (live), "gem"));
    Tally__Config *bad_config = tly_config_to_proto (writer, arena);
    bad_config->admins = tly_arena_alloc (arena, sizeof *bad_config->admins);
    bad_config->admins [0] = (ProtobufCBinaryData) { TLY_KEY_BYTES, worker.user.pk };
    bad_config->n_admins = 1;  //  the worker is never an admin of the list
    assert (tly_ledger_adopt_config (live, bad_config) == -1 && s_version (live) == 1);
    tly_config_destroy (&writer);
    tly_ledger_destroy (&live);
}

//  Prices open: an item not in the catalog is bought at the amount named
//  (up to --max-amount), one in it at its price whatever --max-amount says.
static void
s_test_open (const char *path, tly_arena_t *arena)
{
    test_client_t worker, alice;
    test_client_init (&worker, 4, UINT32_MAX);
    test_client_init (&alice, 4, 1);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 50,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .open_prices = true };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger);
    s_run_t run = { ledger, arena, tly_arena_alloc (arena, 64 * sizeof (void *)), 0, 1000 };
    s_run (&run, &alice, test_create (arena, &alice, 100));
    Tally__RecordDraft *draft = s_run (&run, &alice, test_buy (arena, &alice, "anything", 7));
    assert (s_charged (draft) == 7 && draft->open_prices);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "anything", 0));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "anything", 51));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    worker.user.route = 0;
    worker.user.worker = true;
    s_run (&run, &worker, s_set_price (arena, &worker, "big", 60, true));
    s_run (&run, &worker, s_set_price (arena, &worker, "off", 1, false));
    draft = s_run (&run, &alice, test_buy (arena, &alice, "big", 0));
    assert (s_charged (draft) == 60 && test_balance (ledger, &alice) == 33);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "off", 1));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__UNKNOWN_ITEM);
    //  The largest price is a price (2^53 - 1; one more is INVALID_PRICE
    //  above): more than the balance, so refused as that.
    draft = s_run (&run, &worker, s_set_price (arena, &worker, "dear", TLY_BALANCE_MAX, true));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__OK
            && draft->results [0]->config->item->price == TLY_BALANCE_MAX);
    draft = s_run (&run, &alice, test_buy (arena, &alice, "dear", 0));
    assert (s_code (draft, 0) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    tly_ledger_destroy (&ledger);
}

void
tly_ledger_config_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger_config: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_config_test");
    char live [sizeof root + 16], replay [sizeof root + 16], open [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    snprintf (open, sizeof open, "%s/open", root);
    tly_arena_t *arena = tly_arena_new (1 << 20);
    s_test_config (live, replay, arena);
    s_test_open (open, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
