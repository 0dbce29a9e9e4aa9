//  audit_derive_order_test - verify's derivation of orders against the
//  balance actor's own ledger (tly_ledger_execute, in a scratch directory),
//  which decides every draft here: orders priced from the catalog (a price
//  changed since: PRICE_MISMATCH; an item not on sale: UNKNOWN_ITEM),
//  created, edited, submitted (the hold), completed (a purchase per line)
//  and failed; refused INVALID_TRANSITION, NOT_FOUND (another user's
//  order, no order), PERMISSION_DENIED (completed by one not the worker),
//  INSUFFICIENT_BALANCE (a submit past the available balance), and a buy
//  and a debit refused for what an order holds, all follow. Each forgery is
//  named: a completion's balance_after, a purchase's amount or ID, a submit
//  that overdraws, a result that is not the event's order, a resend applied
//  again. A derivation started from a state snapshot (accounts with their
//  held amounts, the orders) follows too, and one whose snapshot lost the
//  hold is named, and one whose partition has as many orders processing
//  as it may hold names the submit past them. A walk that starts after the catalog's record (prices
//  not known) follows, its lines charged as the records say. The snapshot
//  reader takes an account row in each of the store's three lengths (the
//  ID alone, then the rate limit's bucket, then the orders: held and open
//  orders read from it) and names one of any other length.
#include "audit_derive.h"
#include "audit_snapshots.h"

#include <assert.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "derive_fixture.h"
#include "harness.h"
#include "tly_account.h"
#include "tly_bytes.h"
#include "tly_ledger.h"
#include "tly_object_id.h"
#include "tly_sign.h"
#include "tly_store.h"
#include "tly_validate.h"

#define S_NOW        1767225600000LL
#define S_PARTITIONS DERIVE_FIXTURE_PARTITIONS
#define S_WINDOW_MS  60000
#define S_WORKER     0x77  //  every byte of the worker's key's seed
#define S_STRANGER   0x78
#define S_BUYER      0x41

static void
s_key (uint8_t seed_byte, uint8_t pk [TLY_KEY_BYTES])
{
    uint8_t seed [crypto_sign_SEEDBYTES], sk [crypto_sign_SECRETKEYBYTES];
    memset (seed, seed_byte, sizeof seed);
    CHECK (crypto_sign_seed_keypair (pk, sk, seed) == 0);
}

static void
s_sender (tly_ledger_user_t *user, uint8_t seed, uint32_t route)
{
    uint8_t pk [TLY_KEY_BYTES];
    s_key (seed, pk);
    tly_ledger_user_init (user, pk, S_PARTITIONS);
    user->route = route == UINT32_MAX ? user->partition : route;
    user->worker = seed == S_WORKER;
}

//  ---------------------------------------------------------------- messages

static Tally__OrderItem **
s_items (derive_fixture_t *fx, const char *first, int64_t first_amount, const char *second,
         int64_t second_amount, size_t *n_items)
{
    Tally__OrderItem **items = tly_arena_alloc (fx->arena, 2 * sizeof (Tally__OrderItem *));
    const char *ids [2] = { first, second };
    int64_t amounts [2] = { first_amount, second_amount };
    *n_items = second ? 2 : 1;
    for (size_t i = 0; i < *n_items; i++) {
        items [i] = tly_arena_alloc (fx->arena, sizeof (Tally__OrderItem));
        tally__order_item__init (items [i]);
        items [i]->item_id = (char *) ids [i];
        items [i]->amount = amounts [i];
    }
    return items;
}

static Tally__InboxMessage *
s_create_order (derive_fixture_t *fx, int64_t made_ms, const char *first, int64_t first_amount,
                const char *second, int64_t second_amount)
{
    Tally__InboxMessage *message = derive_fixture_message (fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
    message->create_order = tly_arena_alloc (fx->arena, sizeof *message->create_order);
    tally__create_order__init (message->create_order);
    message->create_order->items = s_items (fx, first, first_amount, second, second_amount,
                                            &message->create_order->n_items);
    return message;
}

static Tally__InboxMessage *
s_edit_order (derive_fixture_t *fx, int64_t made_ms, const char *order_id, const char *item)
{
    Tally__InboxMessage *message = derive_fixture_message (fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
    message->edit_order = tly_arena_alloc (fx->arena, sizeof *message->edit_order);
    tally__edit_order__init (message->edit_order);
    message->edit_order->order_id = (char *) order_id;
    message->edit_order->items = s_items (fx, item, 0, NULL, 0, &message->edit_order->n_items);
    return message;
}

static Tally__InboxMessage *
s_order_ref (derive_fixture_t *fx, int64_t made_ms, Tally__InboxMessage__BodyCase body,
             const char *order_id)
{
    Tally__InboxMessage *message = derive_fixture_message (fx, made_ms);
    message->body_case = body;
    if (body == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER) {
        message->fail_order = tly_arena_alloc (fx->arena, sizeof *message->fail_order);
        tally__fail_order__init (message->fail_order);
        message->fail_order->order_id = (char *) order_id;
        message->fail_order->error = (char *) "card declined";
        return message;
    }
    Tally__OrderRef *ref = tly_arena_alloc (fx->arena, sizeof *ref);
    tally__order_ref__init (ref);
    ref->order_id = (char *) order_id;
    if (body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER)
        message->submit_order = ref;
    else
        message->complete_order = ref;
    return message;
}

static Tally__InboxMessage *
s_debit (derive_fixture_t *fx, int64_t made_ms, const uint8_t *user, int64_t amount)
{
    Tally__InboxMessage *message = derive_fixture_message (fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_DEBIT;
    message->debit = tly_arena_alloc (fx->arena, sizeof *message->debit);
    tally__adjustment__init (message->debit);
    message->debit->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) user };
    message->debit->amount = amount;
    message->debit->reference = (char *) "fee-1";
    message->debit->note = (char *) "";
    return message;
}

//  The ID of the order message made.
static char *
s_order_id (derive_fixture_t *fx, const tly_ledger_user_t *user, const Tally__InboxMessage *create)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_order_key (user->partition, user->pk, create->message_id.data, key);
    char *id = tly_arena_alloc (fx->arena, TLY_ID_MAX);
    tly_object_id_of_key (key, id);
    return id;
}

static Tally__ErrorCode
s_code (const Tally__RecordDraft *draft, size_t index)
{
    const Tally__MessageResult *result = draft->results [index];
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR ? result->error->code
                                                                        : TALLY__ERROR_CODE__OK;
}

static audit_derive_t *
s_derive_new (void)
{
    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive);
    uint8_t worker [TLY_KEY_BYTES];
    s_key (S_WORKER, worker);
    audit_derive_set_worker (derive, worker);
    return derive;
}

//  Drafts 0 .. last in a new derivation, which must name text at the last.
static void
s_forged (derive_fixture_t *fx, size_t last, const char *text)
{
    char reason [AUDIT_DERIVE_REASON_MAX];
    audit_derive_t *derive = s_derive_new ();
    derive_fixture_named (derive_fixture_derive (fx, derive, 0, last, reason), reason, text);
    audit_derive_destroy (&derive);
}

//  The draft's first OrderChanged.
static Tally__OrderChanged *
s_changed (Tally__RecordDraft *draft)
{
    for (size_t i = 0; i < draft->n_events; i++)
        if (draft->events [i]->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
            return draft->events [i]->order_changed;
    CHECK (false);
    return NULL;
}

//  ---------------------------------------------------------------- snapshots

typedef struct {
    audit_derive_t *derive;
    uint32_t partition;
    int rc;
} s_load_t;

static tly_store_walk_t
s_load_account (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    s_load_t *load = arg;
    tly_object_kind_t kind;
    uint32_t partition;
    CHECK (tly_object_id_parse (state->balance_id, &kind, &partition, NULL) == 0);
    if (partition != load->partition)
        return TLY_STORE_WALK_NEXT;
    if (audit_derive_load_account (load->derive, partition, user, state->balance,
                                   state->last_updated, state->bucket_tokens, state->bucket_ms)
            == -1
        || audit_derive_load_holds (load->derive, partition, user, state->held, state->orders_open)
               == -1)
        load->rc = -1;
    return TLY_STORE_WALK_NEXT;
}

//  An account of the partition whose derived held amount or open orders
//  are not the ledger's sets rc -1.
static tly_store_walk_t
s_same_holds (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    s_load_t *load = arg;
    int64_t held;
    uint32_t orders_open;
    if (audit_derive_held (load->derive, load->partition, user, &held, &orders_open) == 0
        && (held != state->held || orders_open != state->orders_open))
        load->rc = -1;
    return TLY_STORE_WALK_NEXT;
}

static int
s_load_order (const Tally__Order *order, void *arg)
{
    s_load_t *load = arg;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    CHECK (tly_object_key_parse (order->id, key) == 0);
    if (tly_object_key_partition (key) == load->partition
        && audit_derive_load_order (load->derive, load->partition, order) == -1)
        load->rc = -1;
    return 0;
}

//  ---------------------------------------------------------------- the test

//  ---------------------------------------------------------------- snapshot account rows

#define S_ROW_PLAIN  (33 + 3)  //  balance, last update, created, purchases, ID length, "bal"
#define S_ROW_BUCKET 16        //  tokens, time
#define S_ROW_ORDERS 44        //  held, 3 x u64, open (u32), the OrderList's version

//  Stores partition's latest snapshot in the writer's layout (tly_audit_
//  snapshots.h), one account row of user of value_size bytes, signed by sk.
static void
s_put_snapshot (MDB_txn *txn, MDB_dbi latest, MDB_dbi parts, const uint8_t *sk, const uint8_t *pk,
                uint32_t partition, const uint8_t *value, size_t value_size)
{
    uint8_t user [TLY_KEY_BYTES];
    memset (user, (int) partition, sizeof user);
    Tally__SnapshotRow row = TALLY__SNAPSHOT_ROW__INIT;
    row.table = TLY_STORE_ROW_ACCOUNT;
    row.key = (ProtobufCBinaryData) { TLY_KEY_BYTES, user };
    row.value = (ProtobufCBinaryData) { value_size, (uint8_t *) value };
    Tally__SnapshotRow *row_list [1] = { &row };
    Tally__SnapshotRows rows = TALLY__SNAPSHOT_ROWS__INIT;
    rows.n_rows = 1;
    rows.rows = row_list;
    uint8_t rows_bytes [512];
    size_t rows_size = tally__snapshot_rows__get_packed_size (&rows);
    CHECK (rows_size <= sizeof rows_bytes);
    tally__snapshot_rows__pack (&rows, rows_bytes);
    uint8_t part_key [16];
    tly_put_be32 (part_key, partition);
    tly_put_be64 (part_key + 4, 5);
    tly_put_be32 (part_key + 12, 0);
    MDB_val key = { sizeof part_key, part_key }, data = { rows_size, rows_bytes };
    CHECK (mdb_put (txn, parts, &key, &data, 0) == 0);

    uint8_t digest [TLY_HASH_BYTES], record_hash [TLY_HASH_BYTES];
    crypto_generichash (digest, sizeof digest, rows_bytes, rows_size,
                        (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                        strlen (TLY_SNAPSHOT_DIGEST_KEY));
    memset (record_hash, 0x5a, sizeof record_hash);
    Tally__SnapshotHeader header = TALLY__SNAPSHOT_HEADER__INIT;
    header.partition = partition;
    header.partition_seq = 5;
    header.seq = 10 + partition;
    header.record_hash = (ProtobufCBinaryData) { sizeof record_hash, record_hash };
    header.schema = TLY_STORE_SCHEMA;
    header.parts = 1;
    header.rows = 1;
    header.bytes = rows_size;
    header.digest = (ProtobufCBinaryData) { sizeof digest, digest };
    header.worker = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) pk };
    uint8_t header_bytes [256], signature [TLY_SIGNATURE_BYTES];
    size_t header_size = tally__snapshot_header__get_packed_size (&header);
    CHECK (header_size <= sizeof header_bytes);
    tally__snapshot_header__pack (&header, header_bytes);
    tly_sign_domain (TLY_DOMAIN_SNAPSHOT, sk, header_bytes, header_size, signature);
    Tally__SignedSnapshotHeader signed_header = TALLY__SIGNED_SNAPSHOT_HEADER__INIT;
    signed_header.header = (ProtobufCBinaryData) { header_size, header_bytes };
    signed_header.signature = (ProtobufCBinaryData) { sizeof signature, signature };
    uint8_t signed_bytes [512];
    size_t signed_size = tally__signed_snapshot_header__get_packed_size (&signed_header);
    CHECK (signed_size <= sizeof signed_bytes);
    tally__signed_snapshot_header__pack (&signed_header, signed_bytes);
    uint8_t partition_key [4];
    tly_put_be32 (partition_key, partition);
    key = (MDB_val) { sizeof partition_key, partition_key };
    data = (MDB_val) { signed_size, signed_bytes };
    CHECK (mdb_put (txn, latest, &key, &data, 0) == 0);
}

//  An account row as the balance actor's store writes it (tly_store.h):
//  balance 90, its ID "bal", then the bucket (tokens 7, at 1234), then the
//  orders (held 40, versions 3 and 4, 6 orders created, 2 open, list
//  version 9), cut to size.
static void
s_account_row (uint8_t *row, size_t size)
{
    uint8_t full [S_ROW_PLAIN + S_ROW_BUCKET + S_ROW_ORDERS + 1] = { 0 };
    tly_put_be64 (full, 90);
    tly_put_be64 (full + 8, (uint64_t) S_NOW);
    tly_put_be64 (full + 16, (uint64_t) S_NOW - 1000);
    tly_put_be64 (full + 24, 2);
    full [32] = 3;
    memcpy (full + 33, "bal", 3);
    tly_put_be64 (full + S_ROW_PLAIN, 7);
    tly_put_be64 (full + S_ROW_PLAIN + 8, 1234);
    uint8_t *orders = full + S_ROW_PLAIN + S_ROW_BUCKET;
    tly_put_be64 (orders, 40);
    tly_put_be64 (orders + 8, 3);
    tly_put_be64 (orders + 16, 4);
    tly_put_be64 (orders + 24, 6);
    tly_put_be32 (orders + 32, 2);
    tly_put_be64 (orders + 36, 9);
    CHECK (size <= sizeof full);
    memcpy (row, full, size);
}

static void
s_test_snapshot_rows (void)
{
    char dir [256];
    th_dir_new (dir, sizeof dir, "audit_snapshots_test");
    uint8_t pk [TLY_KEY_BYTES], sk [TLY_SECRET_KEY_BYTES], seed [crypto_sign_SEEDBYTES];
    memset (seed, S_WORKER, sizeof seed);
    crypto_sign_seed_keypair (pk, sk, seed);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi latest, parts;
    CHECK (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 4) == 0);
    CHECK (mdb_env_open (env, dir, 0, 0600) == 0);
    CHECK (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (mdb_dbi_open (txn, "latest", MDB_CREATE, &latest) == 0);
    CHECK (mdb_dbi_open (txn, "parts", MDB_CREATE, &parts) == 0);
    //  Partitions 1 to 4: the orders, the bucket alone, the ID alone, and
    //  one byte short of the orders.
    const size_t sizes [4] = { S_ROW_PLAIN + S_ROW_BUCKET + S_ROW_ORDERS,
                               S_ROW_PLAIN + S_ROW_BUCKET, S_ROW_PLAIN,
                               S_ROW_PLAIN + S_ROW_BUCKET + S_ROW_ORDERS - 1 };
    for (uint32_t i = 0; i < 4; i++) {
        uint8_t row [S_ROW_PLAIN + S_ROW_BUCKET + S_ROW_ORDERS];
        s_account_row (row, sizes [i]);
        s_put_snapshot (txn, latest, parts, sk, pk, i + 1, row, sizes [i]);
    }
    CHECK (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);

    audit_snapshot_t *snapshots;
    size_t count;
    CHECK (audit_snapshots_read ("test", dir, pk, &snapshots, &count) == 0);
    CHECK (count == 4);
    for (size_t i = 0; i < 3; i++) {
        audit_snapshot_t *snapshot = &snapshots [i];
        CHECK (snapshot->partition == i + 1 && snapshot->problem [0] == 0);
        CHECK (snapshot->account_count == 1);
        audit_snapshot_account_t *account = &snapshot->accounts [0];
        CHECK (account->user [0] == i + 1 && account->balance == 90);
        CHECK (account->last_updated == S_NOW);
        CHECK (account->bucket_tokens == (i < 2 ? 7 : 0));
        CHECK (account->bucket_ms == (i < 2 ? 1234 : 0));
        CHECK (account->held == (i == 0 ? 40 : 0));
        CHECK (account->orders_open == (i == 0 ? 2u : 0u));
    }
    CHECK (snapshots [3].partition == 4 && snapshots [3].account_count == 0);
    CHECK (strcmp (snapshots [3].problem, "an account row is malformed") == 0);
    audit_snapshots_free (&snapshots, count);
    th_dir_remove (dir);
}

void
audit_derive_order_test (bool verbose)
{
    if (verbose)
        printf (" * audit_derive_order: ");
    CHECK (sodium_init () >= 0);
    s_test_snapshot_rows ();
    tly_ledger_limits_t limits = { .open_prices = false,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 100,
                                   .dedupe_window_ms = S_WINDOW_MS };
    s_key (S_WORKER, limits.worker);
    derive_fixture_t fx;
    derive_fixture_new (&fx, "audit_derive_order_test", &limits);
    tly_ledger_user_t buyer, stranger, worker, configurer;
    s_sender (&buyer, S_BUYER, UINT32_MAX);
    s_sender (&stranger, S_STRANGER, UINT32_MAX);
    uint32_t p = buyer.partition;
    s_sender (&worker, S_WORKER, p);
    s_sender (&configurer, S_WORKER, 0);
    int64_t t = S_NOW;

    //  0: the catalog: a sword at 30, a shield at 20.
    Tally__InboxMessage *catalog [2] = {
        derive_fixture_set_price (&fx, t, "sword", 30, true),
        derive_fixture_set_price (&fx, t, "shield", 20, true),
    };
    derive_fixture_decide (&fx, &configurer, t, catalog, 2);
    //  1: the buyer's account and orders: X (sword and shield, 50), one of
    //  an item not on sale, one naming another price.
    Tally__InboxMessage *create_x = s_create_order (&fx, t + 10, "sword", 0, "shield", 0);
    char *x = s_order_id (&fx, &buyer, create_x);
    Tally__InboxMessage *first [4] = {
        derive_fixture_create (&fx, t + 10, 100),
        create_x,
        s_create_order (&fx, t + 10, "axe", 5, NULL, 0),
        s_create_order (&fx, t + 10, "sword", 31, NULL, 0),
    };
    Tally__RecordDraft *created = derive_fixture_decide (&fx, &buyer, t + 10, first, 4);
    CHECK (s_code (created, 1) == TALLY__ERROR_CODE__OK);
    CHECK (s_code (created, 2) == TALLY__ERROR_CODE__UNKNOWN_ITEM);
    CHECK (s_code (created, 3) == TALLY__ERROR_CODE__PRICE_MISMATCH);
    //  2: X edited to a sword (30) and submitted (held 30), submitted again
    //  (INVALID_TRANSITION); a shield bought (balance 80); Y created (two
    //  swords, 60) and submitted past what is available (INSUFFICIENT_BALANCE).
    Tally__InboxMessage *create_y = s_create_order (&fx, t + 20, "sword", 0, "sword", 0);
    char *y = s_order_id (&fx, &buyer, create_y);
    Tally__InboxMessage *second [6] = {
        s_edit_order (&fx, t + 20, x, "sword"),
        s_order_ref (&fx, t + 20, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, x),
        s_order_ref (&fx, t + 20, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, x),
        derive_fixture_buy (&fx, t + 20, "shield", 0),
        create_y,
        s_order_ref (&fx, t + 20, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, y),
    };
    Tally__RecordDraft *submitted = derive_fixture_decide (&fx, &buyer, t + 20, second, 6);
    CHECK (s_code (submitted, 1) == TALLY__ERROR_CODE__OK);
    CHECK (s_code (submitted, 2) == TALLY__ERROR_CODE__INVALID_TRANSITION);
    CHECK (s_code (submitted, 3) == TALLY__ERROR_CODE__OK);
    CHECK (s_code (submitted, 5) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  3: another user completes X (PERMISSION_DENIED), 4: submits it
    //  (NOT_FOUND: not theirs).
    tly_ledger_user_t stranger_in_p = stranger;
    stranger_in_p.route = p;
    Tally__InboxMessage *account = derive_fixture_create (&fx, t + 30, 10);
    derive_fixture_decide (&fx, &stranger, t + 30, &account, 1);
    Tally__InboxMessage *complete_by_stranger = s_order_ref (
        &fx, t + 40, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, x);
    Tally__RecordDraft *denied = derive_fixture_decide (&fx, &stranger_in_p, t + 40,
                                                        &complete_by_stranger, 1);
    CHECK (s_code (denied, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    Tally__InboxMessage *submit_by_stranger = s_order_ref (
        &fx, t + 40, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, x);
    Tally__RecordDraft *not_found = derive_fixture_decide (&fx, &stranger_in_p, t + 40,
                                                           &submit_by_stranger, 1);
    CHECK (s_code (not_found, 0) == TALLY__ERROR_CODE__NOT_FOUND);
    size_t before_completion = fx.count;
    //  6: the worker completes X (balance 50, held 0), fails it
    //  (INVALID_TRANSITION), completes an order there is none of (NOT_FOUND).
    Tally__InboxMessage *third [3] = {
        s_order_ref (&fx, t + 50, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, x),
        s_order_ref (&fx, t + 50, TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER, x),
        s_order_ref (&fx, t + 50, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, y + 0),
    };
    //  An order ID of the partition that no message made.
    char *none = tly_arena_alloc (fx.arena, TLY_ID_MAX);
    uint8_t none_id [TLY_MESSAGE_ID_BYTES] = { 9 };
    uint8_t none_key [TLY_OBJECT_KEY_BYTES];
    tly_order_key (p, buyer.pk, none_id, none_key);
    tly_object_id_of_key (none_key, none);
    third [2]->complete_order->order_id = none;
    Tally__RecordDraft *completed = derive_fixture_decide (&fx, &worker, t + 50, third, 3);
    CHECK (s_code (completed, 0) == TALLY__ERROR_CODE__OK);
    CHECK (s_code (completed, 1) == TALLY__ERROR_CODE__INVALID_TRANSITION);
    CHECK (s_code (completed, 2) == TALLY__ERROR_CODE__NOT_FOUND);
    CHECK (s_changed (completed)->n_purchases == 1 && s_changed (completed)->balance_after == 50);
    //  7: Y edited to a shield (20) and submitted (held 20); a sword bought
    //  (balance 20), a shield refused for what Y holds.
    Tally__InboxMessage *fourth [4] = {
        s_edit_order (&fx, t + 60, y, "shield"),
        s_order_ref (&fx, t + 60, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, y),
        derive_fixture_buy (&fx, t + 60, "sword", 0),
        derive_fixture_buy (&fx, t + 60, "shield", 0),
    };
    Tally__RecordDraft *held = derive_fixture_decide (&fx, &buyer, t + 60, fourth, 4);
    CHECK (s_code (held, 1) == TALLY__ERROR_CODE__OK && s_code (held, 2) == TALLY__ERROR_CODE__OK);
    CHECK (s_code (held, 3) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  8: the worker debits more than is available (INSUFFICIENT_BALANCE),
    //  fails Y (held 0), then debits it.
    Tally__InboxMessage *fifth [3] = {
        s_debit (&fx, t + 70, buyer.pk, 15),
        s_order_ref (&fx, t + 70, TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER, y),
        s_debit (&fx, t + 70, buyer.pk, 15),
    };
    Tally__RecordDraft *failed = derive_fixture_decide (&fx, &worker, t + 70, fifth, 3);
    CHECK (s_code (failed, 0) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    CHECK (s_code (failed, 1) == TALLY__ERROR_CODE__OK
           && s_code (failed, 2) == TALLY__ERROR_CODE__OK);
    //  9: a resend of the completion (its first result, no event).
    Tally__RecordDraft *resent = derive_fixture_decide (&fx, &worker, t + 80, third, 1);
    CHECK (resent->n_events == 0);
    size_t last = fx.count - 1;

    //  Every draft the ledger made follows.
    char reason [AUDIT_DERIVE_REASON_MAX];
    audit_derive_t *derive = s_derive_new ();
    if (derive_fixture_derive (&fx, derive, 0, last, reason) == -1) {
        fprintf (stderr, "%s\n", reason);
        CHECK (false);
    }
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.orders_changed == 8 && stats.resends == 1);
    int64_t held_now = -1, balance = -1;
    uint32_t open_now = UINT32_MAX;
    CHECK (audit_derive_held (derive, p, buyer.pk, &held_now, &open_now) == 0 && held_now == 0);
    //  Held amounts and open orders are the ledger's, account for account.
    s_load_t compare = { derive, p, 0 };
    CHECK (tly_ledger_each_account (fx.ledger, s_same_holds, &compare) == 0 && compare.rc == 0);
    CHECK (audit_derive_balance (derive, p, buyer.pk, &balance) == 0 && balance == 5);
    audit_derive_destroy (&derive);

    //  A walk that starts after the catalog's record: the configuration is
    //  not known, so the lines named at amount 0 are charged what the
    //  records say (prices not checked, counted), and the rest follows.
    derive = s_derive_new ();
    audit_derive_start_within (derive);
    for (size_t i = 1; i <= last; i++)
        if (audit_derive_record (derive, fx.drafts [i], fx.envelopes [i], reason, sizeof reason)
            == -1) {
            fprintf (stderr, "%s\n", reason);
            CHECK (false);
        }
    audit_derive_stats (derive, &stats);
    CHECK (stats.orders_changed == 8 && stats.config_unknown == last);
    audit_derive_destroy (&derive);

    //  Forgeries, each named.
    Tally__OrderChanged *completion = s_changed (completed);
    completion->balance_after += 7;
    s_forged (&fx, before_completion, "OrderChanged says balance_after 57;");
    completion->balance_after -= 7;
    completion->purchases [0]->amount++;
    s_forged (&fx, before_completion, "OrderChanged's purchase 1 says amount 31;");
    completion->purchases [0]->amount--;
    char *purchase_id = completion->purchases [0]->purchase_id;
    completion->purchases [0]->purchase_id = x;
    s_forged (&fx, before_completion, "OrderChanged's purchase 1 is not co_z");
    completion->purchases [0]->purchase_id = purchase_id;
    //  The result another order than its event's (the ledger's share one).
    Tally__Order *order = completed->results [0]->order, copy = *order;
    copy.version++;
    completed->results [0]->order = &copy;
    s_forged (&fx, before_completion, "the result's order says version 5;");
    completed->results [0]->order = order;
    //  A submit that overdraws: Y's refused submit made the accepted one of
    //  record 7 (its event and its result).
    Tally__MessageResult kept = *submitted->results [5];
    *submitted->results [5] = *held->results [1];
    submitted->results [5]->message_id = kept.message_id;
    submitted->events [submitted->n_events++] = held->events [1];
    s_forged (&fx, 2,
              "the result is an order; the envelope and the state give"
              " INSUFFICIENT_BALANCE");
    submitted->n_events--;
    *submitted->results [5] = kept;
    //  The resend applied again.
    resent->events [resent->n_events++] = completed->events [0];
    s_forged (&fx, last, "applies it again (OrderChanged for it)");
    resent->n_events--;

    //  From a state snapshot of the buyer's partition before the completion
    //  (the ledger's state then: rebuilt by a second ledger from the drafts).
    derive_fixture_t replica;
    derive_fixture_new (&replica, "audit_derive_order_test_replica", &limits);
    tly_arena_t *arena = tly_arena_new (1 << 16);
    CHECK (tly_ledger_begin (replica.ledger) == 0);
    for (size_t i = 0; i < before_completion; i++) {
        //  A journal record carries its envelope (the sender is in it).
        Tally__SignedEnvelope *request = tly_arena_alloc (arena, sizeof *request);
        tally__signed_envelope__init (request);
        request->envelope.len = tally__envelope__get_packed_size (fx.envelopes [i]);
        request->envelope.data = tly_arena_alloc (arena, request->envelope.len);
        tally__envelope__pack (fx.envelopes [i], request->envelope.data);
        fx.drafts [i]->request = request;
        CHECK (tly_ledger_apply (replica.ledger, fx.drafts [i], arena) == TLY_LEDGER_APPLIED);
        fx.drafts [i]->request = NULL;
    }
    CHECK (tly_ledger_commit (replica.ledger) == 0);
    uint64_t at = fx.drafts [before_completion - 1]->partition_seq;
    //  The records before the completion give the replica's held amounts
    //  and open orders (X processing, the buyer's others in draft).
    derive = s_derive_new ();
    for (size_t i = 0; i < before_completion; i++)
        CHECK (audit_derive_record (derive, fx.drafts [i], fx.envelopes [i], reason, sizeof reason)
               == 0);
    int64_t held_before = 0;
    uint32_t open_before = 0;
    CHECK (audit_derive_held (derive, p, buyer.pk, &held_before, &open_before) == 0);
    CHECK (held_before > 0 && open_before > 0);
    s_load_t same = { derive, p, 0 };
    CHECK (tly_ledger_each_account (replica.ledger, s_same_holds, &same) == 0 && same.rc == 0);
    audit_derive_destroy (&derive);
    derive = s_derive_new ();
    CHECK (audit_derive_record (derive, fx.drafts [0], fx.envelopes [0], reason, sizeof reason)
           == 0);
    CHECK (audit_derive_load_begin (derive, p, at, t + 40) == 0);
    s_load_t load = { derive, p, 0 };
    CHECK (tly_ledger_each_account (replica.ledger, s_load_account, &load) == 0);
    CHECK (tly_ledger_each_order (replica.ledger, s_load_order, &load) == 0);
    CHECK (load.rc == 0 && audit_derive_orders (derive, p) == 2);
    for (size_t i = before_completion; i <= last; i++)
        if (audit_derive_record (derive, fx.drafts [i], fx.envelopes [i], reason, sizeof reason)
            == -1) {
            fprintf (stderr, "%s\n", reason);
            CHECK (false);
        }
    audit_derive_destroy (&derive);
    //  A snapshot that lost the hold: the completion would take more than held.
    derive = s_derive_new ();
    CHECK (audit_derive_record (derive, fx.drafts [0], fx.envelopes [0], reason, sizeof reason)
           == 0);
    CHECK (audit_derive_load_begin (derive, p, at, t + 40) == 0);
    load.derive = derive;
    CHECK (tly_ledger_each_account (replica.ledger, s_load_account, &load) == 0);
    CHECK (tly_ledger_each_order (replica.ledger, s_load_order, &load) == 0);
    CHECK (audit_derive_load_holds (derive, p, buyer.pk, 0, 2) == 0);
    derive_fixture_named (audit_derive_record (derive, completed, fx.envelopes [before_completion],
                                               reason, sizeof reason),
                          reason, "the user's held amount would be -30");
    audit_derive_destroy (&derive);
    //  A snapshot whose partition has TLY_ORDER_QUEUE_MAX orders processing
    //  besides X: submitting Y is ORDER_LIMIT (the ledger, which holds none
    //  of them, took it).
    derive = s_derive_new ();
    CHECK (audit_derive_record (derive, fx.drafts [0], fx.envelopes [0], reason, sizeof reason)
           == 0);
    CHECK (audit_derive_load_begin (derive, p, at, t + 40) == 0);
    load.derive = derive;
    CHECK (tly_ledger_each_account (replica.ledger, s_load_account, &load) == 0);
    CHECK (tly_ledger_each_order (replica.ledger, s_load_order, &load) == 0);
    Tally__OrderItem line = TALLY__ORDER_ITEM__INIT;
    line.item_id = (char *) "sword";
    line.amount = 30;
    Tally__OrderItem *lines [1] = { &line };
    char queued_id [TLY_ID_MAX];
    for (uint32_t i = 0; i < TLY_ORDER_QUEUE_MAX; i++) {
        uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0 }, key [TLY_OBJECT_KEY_BYTES];
        memcpy (message_id + 8, &i, sizeof i);
        tly_order_key (p, stranger.pk, message_id, key);
        tly_object_id_of_key (key, queued_id);
        Tally__Order queued = TALLY__ORDER__INIT;
        queued.id = queued_id;
        queued.user_id = stranger.id;
        queued.status = TALLY__ORDER_STATUS__ORDER_PROCESSING;
        queued.n_items = 1;
        queued.items = lines;
        queued.total = 30;
        queued.version = 2;
        CHECK (audit_derive_load_order (derive, p, &queued) == 0);
    }
    CHECK (load.rc == 0 && audit_derive_orders (derive, p) == 2 + TLY_ORDER_QUEUE_MAX);
    for (size_t i = before_completion; fx.drafts [i] != held; i++)
        CHECK (audit_derive_record (derive, fx.drafts [i], fx.envelopes [i], reason, sizeof reason)
               == 0);
    size_t held_index = 0;
    while (fx.drafts [held_index] != held)
        held_index++;
    derive_fixture_named (
        audit_derive_record (derive, held, fx.envelopes [held_index], reason, sizeof reason),
        reason, "the envelope and the state give ORDER_LIMIT");
    audit_derive_destroy (&derive);
    tly_arena_destroy (&arena);
    derive_fixture_destroy (&replica);
    derive_fixture_destroy (&fx);
    if (verbose)
        printf ("OK\n");
}
