//  tly_objects self-test: every object kind, its group and who may read it,
//  updates against snapshots, a purchase record the state no longer keeps,
//  and a state rebuilt from the journal serving byte for byte the same
//  objects as the live one (and dropping the same records).
#include "tly_objects.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_message_id.h"
#include "test_client.h"
#include "harness.h"

#define S_PARTITIONS 8
#define S_BUYS       105  //  more than a log snapshot holds, and than the state keeps
#define S_DROPPED    (S_BUYS - TLY_KEEP_PURCHASES_MIN)  //  Alice's first ones, dropped

typedef struct {
    tly_ledger_t *ledger;
    tly_objects_t *objects;
} s_side_t;

static const char *s_reason;  //  the last snapshot's error message, or NULL

static Tally__ErrorCode
s_snapshot (s_side_t *side, const char *id, uint32_t partition, const uint8_t *reader,
            tly_arena_t *arena, Tally__ObjectState **state_p)
{
    assert (tly_ledger_read_begin (side->ledger) == 0);
    Tally__ErrorCode code = tly_objects_snapshot (side->objects, id, partition, reader, arena,
                                                  state_p, &s_reason);
    tly_ledger_read_end (side->ledger);
    assert ((code == TALLY__ERROR_CODE__OK) == (*state_p != NULL));
    assert (!s_reason || code == TALLY__ERROR_CODE__NOT_FOUND);
    return code;
}

//  A purchase record the state no longer keeps: NOT_FOUND, saying so.
static bool
s_dropped (s_side_t *side, const char *id, uint32_t partition, const uint8_t *reader,
           tly_arena_t *arena)
{
    Tally__ObjectState *state = NULL;
    return s_snapshot (side, id, partition, reader, arena, &state) == TALLY__ERROR_CODE__NOT_FOUND
           && s_reason && strcmp (s_reason, TLY_OBJECTS_DROPPED_REASON) == 0;
}

//  The ID of a purchase of user that was never made, by a message made at made_ms.
static void
s_never_bought (const test_client_t *user, int64_t made_ms, char id [TLY_ID_MAX])
{
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    tly_message_id_stamp (message_id, made_ms);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_purchase_key (user->user.partition, user->account.sign_pk, message_id, key);
    tly_object_id_of_key (key, id);
}

//  The packed snapshot of id as the worker reads it.
static ProtobufCBinaryData
s_packed (s_side_t *side, const char *id, uint32_t partition, const uint8_t *worker,
          tly_arena_t *arena)
{
    Tally__ObjectState *state = NULL;
    assert (s_snapshot (side, id, partition, worker, arena, &state) == TALLY__ERROR_CODE__OK);
    ProtobufCBinaryData packed = { tally__object_state__get_packed_size (state), NULL };
    packed.data = tly_arena_alloc (arena, packed.len);
    tally__object_state__pack (state, packed.data);
    return packed;
}

static bool
s_same (ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && memcmp (a.data, b.data, a.len) == 0;
}

static void
s_test_permission (tly_objects_t *objects, const uint8_t *worker)
{
    uint8_t owner [TLY_KEY_BYTES] = { 1 }, writer [TLY_KEY_BYTES] = { 2 };
    uint8_t nobody [TLY_KEY_BYTES] = { 3 }, stranger [TLY_KEY_BYTES] = { 4 };
    Tally__GroupMember member = TALLY__GROUP_MEMBER__INIT, none = TALLY__GROUP_MEMBER__INIT;
    member.account = (ProtobufCBinaryData) { TLY_KEY_BYTES, writer };
    member.role = TALLY__ROLE__WRITER;
    none.account = (ProtobufCBinaryData) { TLY_KEY_BYTES, nobody };
    none.role = TALLY__ROLE__NO_ROLE;
    Tally__GroupMember *members [] = { &member, &none };
    Tally__Group group = TALLY__GROUP__INIT;
    group.owner = (ProtobufCBinaryData) { TLY_KEY_BYTES, owner };
    group.members = members;
    group.n_members = 2;
    assert (tly_objects_may_read (objects, &group, owner));
    assert (tly_objects_may_read (objects, &group, writer));
    assert (tly_objects_may_read (objects, &group, worker));
    assert (!tly_objects_may_read (objects, &group, nobody));  //  a member without a role
    assert (!tly_objects_may_read (objects, &group, stranger));
    //  `everyone` (an empty account) as reader: public read.
    none.account.len = 0;
    none.role = TALLY__ROLE__READER;
    assert (tly_objects_may_read (objects, &group, stranger));
    member.role = TALLY__ROLE__ADMIN;
    none.role = TALLY__ROLE__NO_ROLE;
    assert (tly_objects_may_read (objects, &group, writer));
    assert (!tly_objects_may_read (objects, &group, stranger));
}

//  Alice: an account and S_BUYS purchases; Bob: an account. Returns the
//  journal (round-tripped drafts) and fills the purchase IDs.
static size_t
s_live (s_side_t *live, test_client_t *alice, test_client_t *bob, Tally__RecordDraft **journal,
        char (*purchases) [TLY_ID_MAX], uint64_t *last_version, tly_arena_t *arena)
{
    size_t records = 0;
    assert (tly_ledger_begin (live->ledger) == 0);
    Tally__InboxMessage *opening [] = { test_create (arena, alice, 1000) };
    uint64_t versions [2];
    Tally__RecordDraft *draft = test_draft (live->ledger, alice, opening, 1, 2, 500, arena,
                                            versions);
    assert (versions [0] == 1);
    journal [records++] = test_round_trip (draft, arena);
    for (size_t i = 0; i < S_BUYS; i++) {
        Tally__InboxMessage *buy [] = { test_buy (arena, alice, "gem", 1 + (int64_t) (i % 3)) };
        draft = test_draft (live->ledger, alice, buy, 1, 2, 1000 + (int64_t) i, arena, versions);
        assert (versions [0] == i + 2);
        *last_version = versions [0];
        strcpy (purchases [i], draft->results [0]->purchase->id);
        journal [records++] = test_round_trip (draft, arena);
    }
    Tally__InboxMessage *second [] = { test_create (arena, bob, 10) };
    draft = test_draft (live->ledger, bob, second, 1, 2, 600, arena, versions);
    journal [records++] = test_round_trip (draft, arena);
    assert (tly_ledger_commit (live->ledger) == 0);
    return records;
}

static void
s_test_objects (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 10,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT,
                                   .keep_purchases = TLY_KEEP_PURCHASES_MIN,
                                   .rate_per_minute = TLY_RATE_PER_MINUTE_MAX,
                                   .rate_burst = TLY_RATE_BURST_MAX };
    s_side_t live = { tly_ledger_new (live_path, 1 << 24, &limits), NULL };
    assert (live.ledger);
    live.objects = tly_objects_new (live.ledger, worker.sign_pk);
    assert (live.objects);
    s_test_permission (live.objects, worker.sign_pk);

    test_client_t alice, bob;
    test_client_init (&alice, S_PARTITIONS, UINT32_MAX);
    test_client_init (&bob, S_PARTITIONS, UINT32_MAX);
    uint32_t partition = alice.user.partition;
    static Tally__RecordDraft *journal [S_BUYS + 2];
    static char purchases [S_BUYS][TLY_ID_MAX];
    uint64_t last_version = 0;
    size_t records = s_live (&live, &alice, &bob, journal, purchases, &last_version, arena);

    char balance [TLY_ID_MAX], root [TLY_ID_MAX], log [TLY_ID_MAX], service [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, alice.account.sign_pk, S_PARTITIONS, balance);
    tly_user_object_id (TLY_OBJ_ROOT, alice.account.sign_pk, S_PARTITIONS, root);
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, alice.account.sign_pk, S_PARTITIONS, log);
    tly_service_object_id (worker.sign_pk, service);
    const uint8_t *reader = alice.account.sign_pk;
    Tally__ObjectState *state = NULL;

    //  The balance: version 1 + purchases; the user reads, the worker owns.
    assert (s_snapshot (&live, balance, partition, reader, arena, &state) == TALLY__ERROR_CODE__OK);
    assert (state->version == S_BUYS + 1 && state->version == last_version);
    assert (state->value->kind_case == TALLY__OBJECT_VALUE__KIND_BALANCE);
    assert (strcmp (state->value->balance->user_id, alice.user.id) == 0);
    assert (state->updated_ms == 1000 + S_BUYS - 1);
    assert (state->group->owner.len == TLY_KEY_BYTES);
    assert (memcmp (state->group->owner.data, worker.sign_pk, TLY_KEY_BYTES) == 0);
    assert (state->group->n_members == 1 && state->group->members [0]->role == TALLY__ROLE__READER);
    tly_object_kind_t kind;
    assert (tly_object_id_parse (state->group->id, &kind, NULL, NULL) == 0
            && kind == TLY_OBJ_GROUP);
    //  The root: version 1, shared write.
    assert (s_snapshot (&live, root, partition, reader, arena, &state) == TALLY__ERROR_CODE__OK);
    assert (state->version == 1 && state->updated_ms == 500);
    assert (strcmp (state->value->root->balance_id, balance) == 0);
    assert (strcmp (state->value->root->purchases_id, log) == 0);
    assert (state->group->members [0]->role == TALLY__ROLE__WRITER);
    //  The log: the latest 100 of S_BUYS, oldest first, in the purchases group.
    assert (s_snapshot (&live, log, partition, reader, arena, &state) == TALLY__ERROR_CODE__OK);
    Tally__PurchaseLog *value = state->value->purchases;
    assert (state->version == S_BUYS + 1 && value->count == S_BUYS);
    assert (value->n_records == TLY_OBJECTS_LOG_WINDOW);
    assert (strcmp (value->records [0]->id, purchases [S_BUYS - TLY_OBJECTS_LOG_WINDOW]) == 0);
    assert (strcmp (value->records [TLY_OBJECTS_LOG_WINDOW - 1]->id, purchases [S_BUYS - 1]) == 0);
    char purchases_group [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_GROUP, alice.account.sign_pk, S_PARTITIONS, purchases_group);
    assert (strcmp (state->group->id, purchases_group) == 0);
    //  A record: version 1, the same group.
    assert (s_snapshot (&live, purchases [S_DROPPED + 3], partition, reader, arena, &state)
            == TALLY__ERROR_CODE__OK);
    assert (state->version == 1 && state->value->purchase->amount == 1 + (S_DROPPED + 3) % 3);
    assert (strcmp (state->group->id, purchases_group) == 0);
    //  The first S_DROPPED records are no longer kept: their reads say so,
    //  to anyone (IDs do not name their user: nothing of Alice's leaks), and
    //  so does a made-up purchase ID as old; one newer than any dropped
    //  record is simply not found.
    for (size_t i = 0; i < S_DROPPED; i++) {
        assert (s_dropped (&live, purchases [i], partition, reader, arena));
        assert (s_dropped (&live, purchases [i], partition, bob.account.sign_pk, arena));
    }
    char never [TLY_ID_MAX];
    s_never_bought (&alice, 0, never);
    assert (s_dropped (&live, never, partition, reader, arena));
    s_never_bought (&alice, 1, never);
    assert (s_snapshot (&live, never, partition, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    assert (s_reason == NULL);
    //  ServiceInfo: anyone, on partition 0 only.
    assert (s_snapshot (&live, service, 0, bob.account.sign_pk, arena, &state)
            == TALLY__ERROR_CODE__OK);
    assert (state->version == 1 && state->value->service->max_initial_balance == 1000);
    assert (state->value->service->partition_count == S_PARTITIONS);
    assert (state->value->service->rate_per_minute == TLY_RATE_PER_MINUTE_MAX
            && state->value->service->rate_burst == TLY_RATE_BURST_MAX);
    assert (state->group->n_members == 1 && state->group->members [0]->account.len == 0);

    //  Strangers read nothing of Alice's; the worker reads everything.
    const char *alices [] = { balance, root, log, purchases [S_DROPPED] };
    for (size_t i = 0; i < 4; i++) {
        assert (s_snapshot (&live, alices [i], partition, bob.account.sign_pk, arena, &state)
                == TALLY__ERROR_CODE__PERMISSION_DENIED);
        assert (s_snapshot (&live, alices [i], partition, worker.sign_pk, arena, &state)
                == TALLY__ERROR_CODE__OK);
        //  Routed by another partition: not here.
        assert (
            s_snapshot (&live, alices [i], (partition + 1) % S_PARTITIONS, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    }
    char unknown [TLY_ID_MAX];
    test_client_t nobody;
    test_client_init (&nobody, S_PARTITIONS, partition);
    tly_user_object_id (TLY_OBJ_BALANCE, nobody.account.sign_pk, S_PARTITIONS, unknown);
    assert (s_snapshot (&live, unknown, partition, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    tly_user_object_id (TLY_OBJ_GROUP, alice.account.sign_pk, S_PARTITIONS, unknown);
    assert (s_snapshot (&live, unknown, partition, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    assert (s_snapshot (&live, "co_zNotAnObject", partition, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    assert (s_snapshot (&live, NULL, partition, reader, arena, &state)
            == TALLY__ERROR_CODE__NOT_FOUND);
    tly_service_object_id (alice.account.sign_pk, unknown);  //  another worker's
    assert (s_snapshot (&live, unknown, 0, reader, arena, &state) == TALLY__ERROR_CODE__NOT_FOUND);

    //  Updates: the last purchase's balance is the balance snapshot, byte
    //  for byte; its log update holds the one record; creation makes the root.
    const Tally__RecordDraft *last = journal [records - 2];
    tly_object_ref_t refs [TLY_OBJECTS_REFS];
    tly_objects_refs (alice.account.sign_pk, partition, refs);
    assert (refs [0].kind == TLY_OBJ_ROOT && refs [1].kind == TLY_OBJ_BALANCE);
    assert (refs [2].kind == TLY_OBJ_PURCHASE_LOG);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    assert (tly_object_key_parse (balance, key) == 0
            && memcmp (key, refs [1].key, sizeof key) == 0);
    assert (!tly_objects_changes (last->events [0], &refs [0]));
    assert (tly_objects_changes (last->events [0], &refs [1]));
    assert (tly_objects_changes (last->events [0], &refs [2]));
    assert (tly_objects_changes (journal [0]->events [0], &refs [0]));
    tly_ledger_versions_t last_versions = {
        .balance = last_version, .log = last_version, .entries = S_BUYS, .order_list = 1
    };
    tly_ledger_versions_t created = { .balance = 1, .log = 1, .order_list = 1 };
    state = tly_objects_update (live.objects, &refs [1], last->events [0], &last_versions, arena);
    ProtobufCBinaryData update = { tally__object_state__get_packed_size (state), NULL };
    update.data = tly_arena_alloc (arena, update.len);
    tally__object_state__pack (state, update.data);
    assert (s_same (update, s_packed (&live, balance, partition, reader, arena)));
    state = tly_objects_update (live.objects, &refs [2], last->events [0], &last_versions, arena);
    assert (state->version == last_version && state->value->purchases->count == S_BUYS);
    assert (state->value->purchases->n_records == 1);
    assert (strcmp (state->value->purchases->records [0]->id, purchases [S_BUYS - 1]) == 0);
    state = tly_objects_update (live.objects, &refs [0], journal [0]->events [0], &created, arena);
    update.len = tally__object_state__get_packed_size (state);
    update.data = tly_arena_alloc (arena, update.len);
    tally__object_state__pack (state, update.data);
    assert (s_same (update, s_packed (&live, root, partition, reader, arena)));

    //  Rebuilt from the journal: the same objects, byte for byte.
    s_side_t replay = { tly_ledger_new (replay_path, 1 << 24, &limits), NULL };
    assert (replay.ledger);
    replay.objects = tly_objects_new (replay.ledger, worker.sign_pk);
    assert (tly_ledger_begin (replay.ledger) == 0);
    for (size_t i = 0; i < records; i++)
        assert (tly_ledger_apply (replay.ledger, journal [i], arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay.ledger) == 0);
    const char *everything [] = { balance, root, log };
    for (size_t i = 0; i < 3; i++)
        assert (s_same (s_packed (&live, everything [i], partition, worker.sign_pk, arena),
                        s_packed (&replay, everything [i], partition, worker.sign_pk, arena)));
    for (size_t i = 0; i < S_DROPPED; i++)
        assert (s_dropped (&replay, purchases [i], partition, worker.sign_pk, arena));
    for (size_t i = S_DROPPED; i < S_BUYS; i++)
        assert (s_same (s_packed (&live, purchases [i], partition, worker.sign_pk, arena),
                        s_packed (&replay, purchases [i], partition, worker.sign_pk, arena)));
    assert (s_same (s_packed (&live, service, 0, worker.sign_pk, arena),
                    s_packed (&replay, service, 0, worker.sign_pk, arena)));
    char bobs [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, bob.account.sign_pk, S_PARTITIONS, bobs);
    assert (s_same (s_packed (&live, bobs, bob.user.partition, worker.sign_pk, arena),
                    s_packed (&replay, bobs, bob.user.partition, worker.sign_pk, arena)));

    tly_objects_destroy (&replay.objects);
    tly_objects_destroy (&live.objects);
    assert (live.objects == NULL);
    tly_ledger_destroy (&replay.ledger);
    tly_ledger_destroy (&live.ledger);
}

void
tly_objects_test (bool verbose)
{
    if (verbose)
        printf (" * tly_objects: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_objects_test");
    char live [sizeof root + 16], replay [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    tly_arena_t *arena = tly_arena_new (1 << 16);
    s_test_objects (live, replay, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
