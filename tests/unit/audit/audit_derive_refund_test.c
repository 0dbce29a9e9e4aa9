//  audit_derive_refund_test - verify's derivation of refunds against the
//  balance actor's own ledger (tly_ledger_execute, in a scratch directory),
//  which decides every draft here: a non-admin's refund refused, the
//  worker's refund of a purchase (its amount and user read from the
//  purchase's record through the lookup), the same purchase refunded again
//  (ALREADY_REFUNDED), a purchase the state does not hold (NOT_FOUND, taken
//  as said and counted), an admin's refund, a credit naming a refund's
//  reference (INVALID_REFERENCE), a resent refund, and a purchase bought
//  and refunded in one envelope all follow. Each forgery is named: a
//  refund of another amount, of a purchase refunded before, by a non-admin,
//  to another user, naming another record; ALREADY_REFUNDED of a purchase
//  never refunded; a credit taking a refund's reference; a resend applied
//  again; a purchase's result naming another record. Without the lookup,
//  or from a state snapshot after the purchase's record, the amounts are
//  taken as said and counted; the snapshot's refunds mark their purchases.
#include "audit_derive.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "derive_fixture.h"
#include "harness.h"
#include "tly_account.h"
#include "tly_config.h"
#include "tly_ledger.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_validate.h"

#define S_NOW        1767225600000LL
#define S_PARTITIONS DERIVE_FIXTURE_PARTITIONS
#define S_WINDOW_MS  60000
#define S_RECORDS    DERIVE_FIXTURE_RECORDS
#define S_WORKER     0x77  //  every byte of the worker's key's seed
#define S_ADMIN      0x79
#define S_STRANGER   0x78
#define S_BUYER      0x41

//  An actor's ledger and the envelopes it decided into drafts, and which of
//  them a lookup finds (the user's partition's from first_kept on).
typedef struct {
    derive_fixture_t fx;
    tly_ledger_user_t user;  //  the buyer
    uint64_t first_kept;     //  the user's partition's records before it are not kept
    bool fail;               //  every read fails
    uint64_t reads;
} s_actor_t;

//  The key made from seed's bytes: a point on the curve, as a purchase's
//  user must be (the ledger reads it back from the purchase's user ID).
static void
s_key (uint8_t seed_byte, uint8_t pk [TLY_KEY_BYTES])
{
    uint8_t seed [crypto_sign_SEEDBYTES], sk [crypto_sign_SECRETKEYBYTES];
    memset (seed, seed_byte, sizeof seed);
    CHECK (crypto_sign_seed_keypair (pk, sk, seed) == 0);
}

static void
s_actor_new (s_actor_t *actor)
{
    memset (actor, 0, sizeof *actor);
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 100,
                                   .dedupe_window_ms = S_WINDOW_MS };
    s_key (S_WORKER, limits.worker);
    derive_fixture_new (&actor->fx, "audit_derive_refund_test", &limits);
    uint8_t pk [TLY_KEY_BYTES];
    s_key (S_BUYER, pk);
    tly_ledger_user_init (&actor->user, pk, S_PARTITIONS);
}

static void
s_actor_destroy (s_actor_t *actor)
{
    derive_fixture_destroy (&actor->fx);
}

//  The sender with the key of seed, its envelopes routed to route.
static void
s_sender (tly_ledger_user_t *user, uint8_t seed, uint32_t route)
{
    uint8_t pk [TLY_KEY_BYTES];
    s_key (seed, pk);
    tly_ledger_user_init (user, pk, S_PARTITIONS);
    user->route = route;
    user->worker = seed == S_WORKER;
}

//  ---------------------------------------------------------------- messages

static Tally__InboxMessage *
s_refund (s_actor_t *actor, int64_t made_ms, const char *purchase_id, const char *reason)
{
    Tally__InboxMessage *message = derive_fixture_message (&actor->fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
    message->refund = tly_arena_alloc (actor->fx.arena, sizeof *message->refund);
    tally__refund__init (message->refund);
    message->refund->purchase_id = (char *) purchase_id;
    message->refund->reason = (char *) reason;
    return message;
}

static Tally__InboxMessage *
s_credit (s_actor_t *actor, int64_t made_ms, const uint8_t *user, int64_t amount,
          const char *reference)
{
    Tally__InboxMessage *message = derive_fixture_message (&actor->fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
    message->credit = tly_arena_alloc (actor->fx.arena, sizeof *message->credit);
    tally__adjustment__init (message->credit);
    message->credit->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) user };
    message->credit->amount = amount;
    message->credit->reference = (char *) reference;
    message->credit->note = (char *) "";
    return message;
}

//  ---------------------------------------------------------------- drafts

static Tally__RecordDraft *
s_decide_one (s_actor_t *actor, const tly_ledger_user_t *user, int64_t now_ms,
              Tally__InboxMessage *message)
{
    return derive_fixture_decide (&actor->fx, user, now_ms, &message, 1);
}

//  The lookup verify is given: the actor's drafts, those of the user's
//  partition from first_kept on.
static int
s_lookup (uint32_t partition, uint64_t partition_seq, void *arg, const Tally__RecordDraft **draft)
{
    s_actor_t *actor = arg;
    actor->reads++;
    if (actor->fail)
        return -1;
    if (partition == actor->user.route && partition_seq < actor->first_kept)
        return 0;
    for (size_t i = 0; i < actor->fx.count; i++)
        if (actor->fx.drafts [i]->partition == partition
            && actor->fx.drafts [i]->partition_seq == partition_seq) {
            *draft = actor->fx.drafts [i];
            return 1;
        }
    return 0;
}

//  A derivation told of the worker, reading through the lookup (or not).
static audit_derive_t *
s_derive_new (s_actor_t *actor, bool lookup)
{
    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive);
    uint8_t worker [TLY_KEY_BYTES];
    s_key (S_WORKER, worker);
    audit_derive_set_worker (derive, worker);
    if (lookup)
        audit_derive_set_lookup (derive, s_lookup, actor);
    return derive;
}

//  Derives drafts first .. last in a new derivation (with the lookup), which
//  must name text at the last.
static void
s_forged (s_actor_t *actor, size_t last, const char *text)
{
    char reason [AUDIT_DERIVE_REASON_MAX];
    audit_derive_t *derive = s_derive_new (actor, true);
    derive_fixture_named (derive_fixture_derive (&actor->fx, derive, 0, last, reason), reason,
                          text);
    audit_derive_destroy (&derive);
}

//  The draft's only result made to say what result says (its message ID
//  kept); kept holds what it said.
static void
s_swap_outcome (Tally__RecordDraft *draft, const Tally__MessageResult *result,
                Tally__MessageResult *kept)
{
    *kept = *draft->results [0];
    *draft->results [0] = *result;
    draft->results [0]->message_id = kept->message_id;
}

static Tally__ErrorCode
s_code (const Tally__RecordDraft *draft, size_t index)
{
    const Tally__MessageResult *result = draft->results [index];
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR ? result->error->code
                                                                        : TALLY__ERROR_CODE__OK;
}

//  ---------------------------------------------------------------- the test

void
audit_derive_refund_test (bool verbose)
{
    if (verbose)
        printf (" * audit_derive_refund: ");
    s_actor_t actor;
    s_actor_new (&actor);
    uint32_t partition = actor.user.route;
    tly_ledger_user_t worker, admin, stranger, configurer, own;
    s_sender (&worker, S_WORKER, partition);
    s_sender (&admin, S_ADMIN, partition);
    s_sender (&stranger, S_STRANGER, partition);
    s_sender (&configurer, S_WORKER, 0);
    s_sender (&own, S_WORKER, 0);
    own.route = own.partition;  //  the worker's own account, in its partition
    CHECK (partition != 0 && own.partition != partition);
    char reason [AUDIT_DERIVE_REASON_MAX];
    int64_t t = S_NOW;

    //  0: createAccount(100). 1: buy "sword" 30 (purchase A). 2: buy "gem"
    //  20 (purchase B). 3: a stranger refunds A: PERMISSION_DENIED. 4: the
    //  worker refunds A: +30. 5: A again: ALREADY_REFUNDED. 6: a purchase
    //  the state does not hold: NOT_FOUND. 7: the worker adds the admin
    //  (partition 0). 8: the admin refunds B: +20. 9: a credit whose
    //  reference is B's refund's: INVALID_REFERENCE. 10: 4 resent. 11: the
    //  worker's own account (50), 12: its buy of "ring" 10 and the refund of
    //  it, in one envelope.
    s_decide_one (&actor, &actor.user, t, derive_fixture_create (&actor.fx, t - 3, 100));
    Tally__RecordDraft *sword = s_decide_one (&actor, &actor.user, t + 100,
                                              derive_fixture_buy (&actor.fx, t + 97, "sword", 30));
    Tally__RecordDraft *gem = s_decide_one (&actor, &actor.user, t + 200,
                                            derive_fixture_buy (&actor.fx, t + 197, "gem", 20));
    const char *purchase_a = sword->results [0]->purchase->id;
    const char *purchase_b = gem->results [0]->purchase->id;
    CHECK (sword->results [0]->purchase->partition_seq == 2);
    Tally__RecordDraft *denied = s_decide_one (&actor, &stranger, t + 300,
                                               s_refund (&actor, t + 297, purchase_a, "mine"));
    CHECK (s_code (denied, 0) == TALLY__ERROR_CODE__PERMISSION_DENIED);
    Tally__InboxMessage *refund_a = s_refund (&actor, t + 397, purchase_a, "arrived broken");
    Tally__RecordDraft *refunded = s_decide_one (&actor, &worker, t + 400, refund_a);
    CHECK (refunded->results [0]->adjustment->amount == 30 && refunded->n_events == 1);
    CHECK (refunded->events [0]->balance_adjusted->purchase_partition_seq == 2);
    Tally__RecordDraft *again = s_decide_one (&actor, &worker, t + 500,
                                              s_refund (&actor, t + 497, purchase_a, "again"));
    CHECK (s_code (again, 0) == TALLY__ERROR_CODE__ALREADY_REFUNDED);
    uint8_t unknown_id [TLY_MESSAGE_ID_BYTES] = { 9, 9, 9 };
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char unknown [TLY_ID_MAX];
    tly_purchase_key (partition, actor.user.pk, unknown_id, key);
    tly_object_id_of_key (key, unknown);
    Tally__RecordDraft *missing = s_decide_one (&actor, &worker, t + 600,
                                                s_refund (&actor, t + 597, unknown, ""));
    CHECK (s_code (missing, 0) == TALLY__ERROR_CODE__NOT_FOUND);
    s_decide_one (&actor, &configurer, t + 700,
                  derive_fixture_add_admin (&actor.fx, t + 697, admin.pk));
    Tally__RecordDraft *by_admin = s_decide_one (&actor, &admin, t + 800,
                                                 s_refund (&actor, t + 797, purchase_b, NULL));
    CHECK (by_admin->results [0]->adjustment->amount == 20
           && by_admin->results [0]->adjustment->balance_after == 100);
    char taken [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (purchase_b, taken);
    Tally__RecordDraft *credit = s_decide_one (&actor, &worker, t + 900,
                                               s_credit (&actor, t + 897, actor.user.pk, 5, taken));
    CHECK (s_code (credit, 0) == TALLY__ERROR_CODE__INVALID_REFERENCE);
    Tally__RecordDraft *resend = s_decide_one (&actor, &worker, t + 1000, refund_a);
    CHECK (resend->n_events == 0 && resend->results [0]->adjustment);
    s_decide_one (&actor, &own, t + 1100, derive_fixture_create (&actor.fx, t + 1097, 50));
    Tally__InboxMessage *both [2];
    both [0] = derive_fixture_buy (&actor.fx, t + 1197, "ring", 10);
    tly_purchase_key (own.partition, own.pk, both [0]->message_id.data, key);
    char ring [TLY_ID_MAX];
    tly_object_id_of_key (key, ring);
    both [1] = s_refund (&actor, t + 1197, ring, "changed my mind");
    Tally__RecordDraft *same = derive_fixture_decide (&actor.fx, &own, t + 1200, both, 2);
    CHECK (same->n_events == 2 && same->results [1]->adjustment
           && same->events [1]->balance_adjusted->purchase_partition_seq == same->partition_seq);
    CHECK (actor.fx.count == 13);

    //  What the ledger decided follows, each refund's purchase read.
    audit_derive_t *derive = s_derive_new (&actor, true);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 13 && stats.resends == 1);
    CHECK (stats.refunds == 3 && stats.refunds_taken == 0 && stats.refunds_again == 1
           && stats.refund_lookups_taken == 1);
    CHECK (actor.reads == 2);  //  A's and B's; the ring's is in its own record
    int64_t balance;
    CHECK (audit_derive_balance (derive, partition, actor.user.pk, &balance) == 0
           && balance == 100);
    CHECK (audit_derive_balance (derive, own.partition, own.pk, &balance) == 0 && balance == 50);
    uint8_t refund_key [TLY_OBJECT_KEY_BYTES];
    CHECK (tly_object_key_parse (refunded->results [0]->adjustment->id, refund_key) == 0);
    CHECK (audit_derive_has_adjustment (derive, refund_key, refunded->results [0]->adjustment));
    audit_derive_destroy (&derive);

    //  Without the lookup: the amounts of A's and B's refunds as said.
    derive = s_derive_new (&actor, false);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.refunds == 3 && stats.refunds_taken == 2);
    audit_derive_destroy (&derive);
    //  A read that fails fails the record.
    derive = s_derive_new (&actor, true);
    actor.fail = true;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 4, reason), reason,
                          "the purchase's record (partition seq 2) could not be read");
    actor.fail = false;
    audit_derive_destroy (&derive);

    //  A refund of another amount than the purchase's.
    Tally__BalanceAdjusted *event = refunded->events [0]->balance_adjusted;
    Tally__AdjustmentRecord *record = refunded->results [0]->adjustment;
    event->amount = record->amount = 31;
    event->balance_after = record->balance_after = 81;
    s_forged (&actor, 4, "message 1 of 1 (refund of purchase co_z");
    s_forged (&actor, 4,
              "BalanceAdjusted says amount 31; the purchase's record (partition seq 2) gives 30");
    event->amount = record->amount = 30;
    event->balance_after = record->balance_after = 80;
    //  To another user, naming another record.
    event->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, stranger.pk };
    s_forged (&actor, 4, "BalanceAdjusted is not for the purchase's user co_z");
    event->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, actor.user.pk };
    event->purchase_partition_seq = 3;
    s_forged (&actor, 4,
              "BalanceAdjusted says the purchase was made at partition seq 3, and that record has"
              " no PurchaseRecorded of it");
    event->purchase_partition_seq = 2;

    //  A refund of a purchase refunded before: the second refund of A
    //  answered as the first was, its event and all.
    Tally__MessageResult kept;
    s_swap_outcome (again, refunded->results [0], &kept);
    again->events [0] = refunded->events [0];
    again->n_events = 1;
    s_forged (&actor, 5,
              "the result is an adjustment; the purchase was refunded before: the envelope and"
              " the state give ALREADY_REFUNDED");
    *again->results [0] = kept;
    again->n_events = 0;
    //  ALREADY_REFUNDED of a purchase never refunded.
    missing->results [0]->error->code = TALLY__ERROR_CODE__ALREADY_REFUNDED;
    s_forged (&actor, 6,
              "the result is ALREADY_REFUNDED; the records refund the purchase nowhere"
              " before");
    missing->results [0]->error->code = TALLY__ERROR_CODE__NOT_FOUND;
    //  A stranger's refund taken.
    s_swap_outcome (denied, refunded->results [0], &kept);
    s_forged (&actor, 3,
              "the result is an adjustment; the envelope and the state give PERMISSION_DENIED");
    *denied->results [0] = kept;
    //  A credit that takes a refund's reference.
    s_swap_outcome (credit, by_admin->results [0], &kept);
    s_forged (&actor, 9,
              "the result is an adjustment; the envelope and the state give INVALID_REFERENCE");
    *credit->results [0] = kept;
    //  The resent refund applied again.
    resend->events [0] = refunded->events [0];
    resend->n_events = 1;
    s_forged (&actor, 10, "its message ID was decided before: the record applies it again");
    resend->n_events = 0;
    //  A purchase's result naming another record.
    sword->results [0]->purchase->partition_seq = 7;
    s_forged (&actor, 1, "the result says partitionSeq 7; the envelope and the state give 2");
    sword->results [0]->purchase->partition_seq = 2;

    //  From a state snapshot of the user's partition after the refund of A
    //  (partition seq 5), whose records before it are not kept: its refund
    //  marks A refunded; B's refund is taken as said.
    actor.first_kept = 6;
    derive = s_derive_new (&actor, true);
    CHECK (audit_derive_load_begin (derive, partition, 5, t + 400) == 0);
    CHECK (audit_derive_load_account (derive, partition, actor.user.pk, 80, t + 400, 0, 0) == 0);
    CHECK (audit_derive_load_adjustment (derive, partition, refund_key, record) == 0);
    audit_derive_load_result (derive, partition, worker.pk, refund_a->message_id.data,
                              refunded->results [0]);
    CHECK (derive_fixture_derive (&actor.fx, derive, 5, actor.fx.count - 1, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.refunds == 2 && stats.refunds_taken == 1 && stats.refunds_again == 1
           && stats.resends == 1 && stats.snapshots == 1);
    audit_derive_destroy (&derive);
    //  ... where A's second refund taken is named.
    derive = s_derive_new (&actor, true);
    CHECK (audit_derive_load_begin (derive, partition, 5, t + 400) == 0);
    CHECK (audit_derive_load_account (derive, partition, actor.user.pk, 80, t + 400, 0, 0) == 0);
    CHECK (audit_derive_load_adjustment (derive, partition, refund_key, record) == 0);
    s_swap_outcome (again, refunded->results [0], &kept);
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 5, 5, reason), reason,
        "the purchase was refunded before: the envelope and the state give ALREADY_REFUNDED");
    *again->results [0] = kept;
    audit_derive_destroy (&derive);
    //  A snapshot's refund reference that names no purchase of the
    //  partition cannot be loaded.
    derive = s_derive_new (&actor, true);
    CHECK (audit_derive_load_begin (derive, partition, 5, t + 400) == 0);
    Tally__AdjustmentRecord bent = *record;
    bent.reference = (char *) "refund:co_zgarbage";
    CHECK (audit_derive_load_adjustment (derive, partition, refund_key, &bent) == -1);
    audit_derive_destroy (&derive);
    s_actor_destroy (&actor);
    if (verbose)
        printf ("OK\n");
}
