//  audit_derive_test - verify's derivation against the balance actor's own
//  ledger (tly_ledger_execute, in a scratch directory), which decides every
//  draft here: creations, purchases, refusals on the state and on the
//  configured limits, resends in a new envelope, stale IDs all follow; an
//  event or a resend's answer changed is named; an ID taken older than the
//  window fails unless verify is given the actors' longer window; a
//  partition whose state is unknown is counted, not checked; one started
//  from a snapshot's accounts and results is checked from there on. The
//  worker's credits and debits (drafted here as the rules give them) follow
//  and each way a record can depart from the rules is named. The catalog
//  and the admin group as the ledger decides them (two changes in one
//  envelope, an admin's price) follow; audit_derive_config_test has the
//  rest of the configuration's rules.
#include "audit_derive.h"

#include <assert.h>
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
#define S_LONG_MS    (7LL * 24 * 3600 * 1000)
#define S_RECORDS    DERIVE_FIXTURE_RECORDS
#define S_WORKER     0x77  //  every byte of the worker's key

//  An actor's ledger and one user's envelopes, decided into drafts.
typedef struct {
    derive_fixture_t fx;
    tly_ledger_user_t user;
} s_actor_t;

//  rate_per_minute 0: no rate limit.
static void
s_actor_new_limited (s_actor_t *actor, int64_t window_ms, uint8_t seed, uint32_t rate_per_minute,
                     uint32_t rate_burst)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 100,
                                   .dedupe_window_ms = window_ms,
                                   .rate_per_minute = rate_per_minute,
                                   .rate_burst = rate_burst };
    memset (limits.worker, S_WORKER, sizeof limits.worker);
    derive_fixture_new (&actor->fx, "audit_derive_test", &limits);
    uint8_t pk [TLY_KEY_BYTES];
    memset (pk, seed, sizeof pk);
    tly_ledger_user_init (&actor->user, pk, S_PARTITIONS);
}

static void
s_actor_new (s_actor_t *actor, int64_t window_ms, uint8_t seed)
{
    s_actor_new_limited (actor, window_ms, seed, 0, 0);
}

static void
s_actor_destroy (s_actor_t *actor)
{
    derive_fixture_destroy (&actor->fx);
}

//  The actor's user's envelope of messages, decided into the next draft.
static Tally__RecordDraft *
s_decide (s_actor_t *actor, int64_t now_ms, Tally__InboxMessage **messages, size_t count)
{
    return derive_fixture_decide (&actor->fx, &actor->user, now_ms, messages, count);
}

//  The rate limit (2 at once, 6 a minute): what the actor decides follows,
//  a refusal's wait included; a buy let through past it, a wait changed, a
//  token not taken (the limit left out of the record) are named.
static void
s_test_rate (void)
{
    s_actor_t actor;
    s_actor_new_limited (&actor, S_WINDOW_MS, 0x47, 6, 2);
    char reason [AUDIT_DERIVE_REASON_MAX];
    Tally__InboxMessage *messages [3];
    messages [0] = derive_fixture_create (&actor.fx, S_NOW - 3, 100);
    s_decide (&actor, S_NOW, messages, 1);
    messages [0] = derive_fixture_buy (&actor.fx, S_NOW + 97, "a", 30);
    messages [1] = derive_fixture_buy (&actor.fx, S_NOW + 97, "b", 80);
    messages [2] = derive_fixture_buy (&actor.fx, S_NOW + 97, "c", 1);
    Tally__RecordDraft *burst = s_decide (&actor, S_NOW + 100, messages, 3);
    CHECK (burst->results [1]->error->code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    CHECK (burst->results [2]->error->code == TALLY__ERROR_CODE__RATE_LIMITED
           && burst->results [2]->error->retry_after_ms == 10000);
    Tally__InboxMessage *limited = messages [2];
    //  The refused one again, 10 s later: decided anew, and it goes through.
    messages [0] = limited;
    Tally__RecordDraft *again = s_decide (&actor, S_NOW + 10100, messages, 1);
    CHECK (again->results [0]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE);

    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 3 && stats.resends == 0);
    audit_derive_destroy (&derive);

    derive = audit_derive_new (S_WINDOW_MS);
    burst->results [2]->error->retry_after_ms = 9000;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
        "RATE_LIMITED says retry_after_ms 9000; the envelope and the state give 10000");
    burst->results [2]->error->retry_after_ms = 10000;
    audit_derive_destroy (&derive);
    //  Without the limit in the record, nothing refuses the third buy.
    derive = audit_derive_new (S_WINDOW_MS);
    Tally__RateLimit *rate = burst->rate_limit;
    burst->rate_limit = NULL;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
                          "the result is RATE_LIMITED; the envelope and the state give an event");
    burst->rate_limit = rate;
    audit_derive_destroy (&derive);
    //  With a smaller bucket, the second buy would have been refused.
    derive = audit_derive_new (S_WINDOW_MS);
    rate->burst = 1;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
        "message 2 of 3 (buy \"b\" amount 80): the result is INSUFFICIENT_BALANCE; the"
        " envelope and the state give RATE_LIMITED");
    rate->burst = 2;
    audit_derive_destroy (&derive);
    //  A limit out of range is named, never used.
    derive = audit_derive_new (S_WINDOW_MS);
    rate->burst = TLY_RATE_BURST_MAX + 1;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
                          "is out of range");
    rate->burst = 2;
    audit_derive_destroy (&derive);
    s_actor_destroy (&actor);
}

//  ---------------------------------------------------------------- credits and debits

//  A credit or debit of the actor's user by sender, addressed to worker.
static Tally__InboxMessage *
s_adjust (s_actor_t *actor, int64_t made_ms, bool credit, const uint8_t *user, int64_t amount,
          const char *reference)
{
    Tally__InboxMessage *message = derive_fixture_message (&actor->fx, made_ms);
    Tally__Adjustment *adjustment = tly_arena_alloc (actor->fx.arena, sizeof *adjustment);
    tally__adjustment__init (adjustment);
    adjustment->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) user };
    adjustment->amount = amount;
    adjustment->reference = (char *) reference;
    adjustment->note = (char *) "top-up";
    message->body_case = credit ? TALLY__INBOX_MESSAGE__BODY_CREDIT
                                : TALLY__INBOX_MESSAGE__BODY_DEBIT;
    if (credit)
        message->credit = adjustment;
    else
        message->debit = adjustment;
    return message;
}

//  The actor's next draft: sender's envelope of one credit or debit of the
//  actor's user, to worker, decided by hand as the rules give (no ledger
//  decides these): refused code, or the first adjustment of its reference
//  again (first), or a new adjustment leaving balance_after with its event.
static Tally__RecordDraft *
s_adjusted (s_actor_t *actor, const uint8_t *sender, const uint8_t *worker, int64_t now_ms,
            Tally__InboxMessage *message, Tally__ErrorCode code,
            const Tally__AdjustmentRecord *first, int64_t balance_after)
{
    CHECK (actor->fx.count < S_RECORDS);
    bool credit = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT;
    const Tally__Adjustment *adjustment = credit ? message->credit : message->debit;
    Tally__Envelope *envelope = tly_arena_alloc (actor->fx.arena, sizeof *envelope);
    tally__envelope__init (envelope);
    envelope->sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) sender };
    envelope->inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker };
    envelope->n_messages = 1;
    envelope->messages = tly_arena_alloc (actor->fx.arena, sizeof *envelope->messages);
    envelope->messages [0] = message;
    Tally__RecordDraft *draft = tly_arena_alloc (actor->fx.arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = actor->user.partition;
    draft->partition_seq = ++actor->fx.partition_seqs [draft->partition];
    draft->epoch = 1;
    draft->timestamp_ms = now_ms;
    draft->n_results = 1;
    draft->results = tly_arena_alloc (actor->fx.arena, sizeof *draft->results);
    draft->events = tly_arena_alloc (actor->fx.arena, sizeof *draft->events);
    Tally__MessageResult *result = tly_arena_alloc (actor->fx.arena, sizeof *result);
    tally__message_result__init (result);
    result->message_id = message->message_id;
    draft->results [0] = result;
    if (code != TALLY__ERROR_CODE__OK) {
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
        result->error = tly_arena_alloc (actor->fx.arena, sizeof *result->error);
        tally__error__init (result->error);
        result->error->code = code;
        result->error->message = (char *) tly_error_default_message (code);
    } else if (first) {
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
        result->adjustment = (Tally__AdjustmentRecord *) first;
    } else {
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        tly_adjustment_key (draft->partition, adjustment->user.data, adjustment->reference, key);
        Tally__AdjustmentRecord *record = tly_arena_alloc (actor->fx.arena, sizeof *record);
        tally__adjustment_record__init (record);
        record->id = tly_arena_alloc (actor->fx.arena, TLY_ID_MAX);
        record->user_id = tly_arena_alloc (actor->fx.arena, TLY_ID_MAX);
        record->by = tly_arena_alloc (actor->fx.arena, TLY_ID_MAX);
        tly_object_id_of_key (key, record->id);
        tly_account_id (adjustment->user.data, record->user_id);
        tly_account_id (sender, record->by);
        record->amount = credit ? adjustment->amount : -adjustment->amount;
        record->reference = adjustment->reference;
        record->note = adjustment->note;
        record->timestamp = now_ms;
        record->balance_after = balance_after;
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
        result->adjustment = record;
        Tally__Event *event = tly_arena_alloc (actor->fx.arena, sizeof *event);
        tally__event__init (event);
        event->kind_case = TALLY__EVENT__KIND_BALANCE_ADJUSTED;
        event->balance_adjusted = tly_arena_alloc (actor->fx.arena,
                                                   sizeof *event->balance_adjusted);
        Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
        tally__balance_adjusted__init (adjusted);
        adjusted->user = adjustment->user;
        adjusted->adjustment_id = record->id;
        adjusted->amount = record->amount;
        adjusted->reference = record->reference;
        adjusted->note = record->note;
        adjusted->timestamp = now_ms;
        adjusted->balance_after = balance_after;
        adjusted->by = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) sender };
        draft->events [draft->n_events++] = event;
    }
    actor->fx.envelopes [actor->fx.count] = envelope;
    actor->fx.drafts [actor->fx.count++] = draft;
    return draft;
}

//  A derivation told of worker (NULL: it takes each envelope's inbox).
static audit_derive_t *
s_derive_new (const uint8_t *worker)
{
    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive);
    if (worker)
        audit_derive_set_worker (derive, worker);
    return derive;
}

//  The draft's result made to say what result says (its message ID kept),
//  and back: kept holds what it said.
static void
s_swap_outcome (Tally__RecordDraft *draft, const Tally__MessageResult *result,
                Tally__MessageResult *kept)
{
    *kept = *draft->results [0];
    *draft->results [0] = *result;
    draft->results [0]->message_id = kept->message_id;
}

//  The worker credits and debits a user: what the rules give follows (with
//  the worker told, or taken from the inboxes); an event or a result that
//  departs from them is named: a non-worker's credit applied, a repeated
//  reference answered anew or applied again, a debit past the balance or a
//  credit past the limit applied, a balance_after changed.
static void
s_test_adjustments (void)
{
    s_actor_t actor;
    s_actor_new (&actor, S_WINDOW_MS, 0x51);
    uint8_t worker [TLY_KEY_BYTES], stranger [TLY_KEY_BYTES];
    memset (worker, 0x77, sizeof worker);
    memset (stranger, 0x78, sizeof stranger);
    const uint8_t *user = actor.user.pk;
    char reason [AUDIT_DERIVE_REASON_MAX];
    reason [0] = 0;
    Tally__InboxMessage *messages [1];
    int64_t t = S_NOW;
    const Tally__ErrorCode ok = TALLY__ERROR_CODE__OK;

    //  0: createAccount(100). 1: credit 50 ("pay-1") leaves 150. 2: debit
    //  30 ("pay-2") leaves 120. 3: "pay-1" again, a credit of 999: the first
    //  adjustment answers. 4: debit 500: INSUFFICIENT_BALANCE. 5: credit to
    //  one past the largest balance: BALANCE_LIMIT. 6: credit up to exactly
    //  the largest balance. 7: the user credits itself: PERMISSION_DENIED.
    messages [0] = derive_fixture_create (&actor.fx, t - 3, 100);
    s_decide (&actor, t, messages, 1);
    Tally__RecordDraft *credit = s_adjusted (&actor, worker, worker, t + 100,
                                             s_adjust (&actor, t + 97, true, user, 50, "pay-1"), ok,
                                             NULL, 150);
    Tally__RecordDraft *debit = s_adjusted (&actor, worker, worker, t + 200,
                                            s_adjust (&actor, t + 197, false, user, 30, "pay-2"),
                                            ok, NULL, 120);
    Tally__RecordDraft *repeat = s_adjusted (&actor, worker, worker, t + 300,
                                             s_adjust (&actor, t + 297, true, user, 999, "pay-1"),
                                             ok, credit->results [0]->adjustment, 0);
    Tally__RecordDraft *overdraw = s_adjusted (
        &actor, worker, worker, t + 400, s_adjust (&actor, t + 397, false, user, 500, "pay-3"),
        TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, NULL, 0);
    Tally__RecordDraft *limit = s_adjusted (
        &actor, worker, worker, t + 500,
        s_adjust (&actor, t + 497, true, user, TLY_BALANCE_MAX - 119, "pay-4"),
        TALLY__ERROR_CODE__BALANCE_LIMIT, NULL, 0);
    Tally__RecordDraft *edge = s_adjusted (
        &actor, worker, worker, t + 600,
        s_adjust (&actor, t + 597, true, user, TLY_BALANCE_MAX - 120, "pay-5"), ok, NULL,
        TLY_BALANCE_MAX);
    Tally__RecordDraft *denied = s_adjusted (&actor, user, worker, t + 700,
                                             s_adjust (&actor, t + 697, true, user, 5, "pay-6"),
                                             TALLY__ERROR_CODE__PERMISSION_DENIED, NULL, 0);
    CHECK (actor.fx.count == 8);

    //  What the rules give follows, the worker told or taken from the inbox.
    for (int told = 0; told < 2; told++) {
        audit_derive_t *derive = s_derive_new (told ? worker : NULL);
        CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
        audit_derive_stats_t stats;
        audit_derive_stats (derive, &stats);
        CHECK (stats.derived == 8 && stats.repeats == 1 && stats.resends == 0);
        int64_t balance;
        CHECK (audit_derive_balance (derive, actor.user.partition, user, &balance) == 0);
        CHECK (balance == TLY_BALANCE_MAX);
        CHECK (audit_derive_adjustments (derive, actor.user.partition) == 3);
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        tly_adjustment_key (actor.user.partition, user, "pay-1", key);
        CHECK (audit_derive_has_adjustment (derive, key, credit->results [0]->adjustment));
        CHECK (!audit_derive_has_adjustment (derive, key, debit->results [0]->adjustment));
        audit_derive_destroy (&derive);
    }

    //  Another worker: the first credit is not the worker's.
    audit_derive_t *derive = s_derive_new (stranger);
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
        "the result is an adjustment; the envelope and the state give PERMISSION_DENIED");
    audit_derive_destroy (&derive);

    //  balance_after changed, in the event and in the result.
    derive = s_derive_new (worker);
    credit->events [0]->balance_adjusted->balance_after = 151;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
                          "(credit of ");
    CHECK (strstr (reason, "amount 50 reference \"pay-1\"): BalanceAdjusted says balance_after"
                           " 151; the envelope and the state give 150"));
    credit->events [0]->balance_adjusted->balance_after = 150;
    audit_derive_destroy (&derive);
    derive = s_derive_new (worker);
    debit->results [0]->adjustment->balance_after = 90;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 2, reason), reason,
                          "the result says balanceAfter 90; the envelope and the state give 120");
    debit->results [0]->adjustment->balance_after = 120;
    audit_derive_destroy (&derive);
    //  A debit's amount is signed; its event is by the sender.
    derive = s_derive_new (worker);
    debit->events [0]->balance_adjusted->amount = 30;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 2, reason), reason,
                          "BalanceAdjusted says amount 30; the envelope and the state give -30");
    debit->events [0]->balance_adjusted->amount = -30;
    audit_derive_destroy (&derive);
    derive = s_derive_new (worker);
    debit->events [0]->balance_adjusted->by = (ProtobufCBinaryData) { TLY_KEY_BYTES, stranger };
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 2, reason), reason,
                          "BalanceAdjusted's by is not the sender");
    debit->events [0]->balance_adjusted->by = (ProtobufCBinaryData) { TLY_KEY_BYTES, worker };
    audit_derive_destroy (&derive);

    //  The repeated reference answered with a new adjustment, or applied again.
    derive = s_derive_new (worker);
    Tally__MessageResult kept;
    s_swap_outcome (repeat, debit->results [0], &kept);
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 3, reason), reason,
        "its reference was taken before: a repeat is answered with the first adjustment");
    *repeat->results [0] = kept;
    audit_derive_destroy (&derive);
    derive = s_derive_new (worker);
    repeat->events [0] = credit->events [0];
    repeat->n_events = 1;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 3, reason), reason,
                          "the record applies it again (BalanceAdjusted for it)");
    repeat->n_events = 0;
    audit_derive_destroy (&derive);

    //  A debit past the balance, a credit past the limit, a non-worker's
    //  credit: each claimed applied is named; and the largest balance
    //  refused when the rules allow it.
    Tally__RecordDraft *refused [3] = { overdraw, limit, denied };
    const char *given [3] = { "INSUFFICIENT_BALANCE", "BALANCE_LIMIT", "PERMISSION_DENIED" };
    size_t at [3] = { 4, 5, 7 };
    for (size_t i = 0; i < 3; i++) {
        char expected [128];
        snprintf (expected, sizeof expected,
                  "the result is an adjustment; the envelope and the state give %s", given [i]);
        derive = s_derive_new (worker);
        s_swap_outcome (refused [i], edge->results [0], &kept);
        derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, at [i], reason), reason,
                              expected);
        *refused [i]->results [0] = kept;
        audit_derive_destroy (&derive);
    }
    derive = s_derive_new (worker);
    s_swap_outcome (edge, limit->results [0], &kept);
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 6, reason), reason,
                          "the result is BALANCE_LIMIT; the envelope and the state give an event");
    *edge->results [0] = kept;
    audit_derive_destroy (&derive);

    //  Started from a snapshot after record 2 (balance 120, "pay-1" and
    //  "pay-2" taken): the rest follows; without "pay-1" the repeat does not.
    for (int with = 1; with >= 0; with--) {
        derive = s_derive_new (worker);
        uint32_t partition = actor.user.partition;
        CHECK (audit_derive_load_begin (derive, partition, 3, t + 200) == 0);
        CHECK (audit_derive_load_account (derive, partition, user, 120, t + 200, 0, 0) == 0);
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        tly_adjustment_key (partition, user, "pay-2", key);
        CHECK (audit_derive_load_adjustment (derive, partition, key, debit->results [0]->adjustment)
               == 0);
        CHECK (audit_derive_load_adjustment (derive, partition, key, debit->results [0]->adjustment)
               == -1);
        CHECK (audit_derive_load_adjustment (derive, (partition + 1) % S_PARTITIONS, key,
                                             debit->results [0]->adjustment)
               == -1);
        tly_adjustment_key (partition, user, "pay-1", key);
        if (with)
            CHECK (audit_derive_load_adjustment (derive, partition, key,
                                                 credit->results [0]->adjustment)
                   == 0);
        int rc = derive_fixture_derive (&actor.fx, derive, 3, with ? actor.fx.count - 1 : 3,
                                        reason);
        if (with)
            CHECK (rc == 0);
        else
            derive_fixture_named (rc, reason, "the record has no BalanceAdjusted for it");
        audit_derive_destroy (&derive);
    }

    //  A user verify knows no account of may be another partition's: its
    //  credit refused BAD_REQUEST or NO_ACCOUNT follows; one whose account is
    //  in another partition is refused BAD_REQUEST, never NO_ACCOUNT.
    s_actor_t other;
    s_actor_new (&other, S_WINDOW_MS, 0x52);
    CHECK (other.user.partition != actor.user.partition);
    messages [0] = derive_fixture_create (&other.fx, t - 3, 100);
    s_decide (&other, t, messages, 1);
    s_adjusted (&actor, worker, worker, t + 800,
                s_adjust (&actor, t + 797, true, other.user.pk, 5, "pay-7"),
                TALLY__ERROR_CODE__BAD_REQUEST, NULL, 0);
    Tally__RecordDraft *unknown = s_adjusted (
        &actor, worker, worker, t + 900,
        s_adjust (&actor, t + 897, true, other.user.pk, 5, "pay-8"), TALLY__ERROR_CODE__NO_ACCOUNT,
        NULL, 0);
    derive = s_derive_new (worker);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_destroy (&derive);
    //  ... but once the other partition's records are known:
    derive = s_derive_new (worker);
    char other_reason [AUDIT_DERIVE_REASON_MAX];
    CHECK (derive_fixture_derive (&other.fx, derive, 0, 0, other_reason) == 0);
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason),
                          reason,
                          "the result is NO_ACCOUNT; the envelope and the state give BAD_REQUEST");
    CHECK (unknown->results [0]->error->code == TALLY__ERROR_CODE__NO_ACCOUNT);
    audit_derive_destroy (&derive);
    s_actor_destroy (&other);
    s_actor_destroy (&actor);
}

//  ---------------------------------------------------------------- the configuration

//  The sender with key seed's bytes, routed to partition 0 as a
//  configuration message is.
static void
s_configurer (tly_ledger_user_t *user, uint8_t seed)
{
    uint8_t pk [TLY_KEY_BYTES];
    memset (pk, seed, sizeof pk);
    tly_ledger_user_init (user, pk, S_PARTITIONS);
    user->route = 0;
    user->worker = seed == S_WORKER;
}

//  The actor's own ledger decides the catalog and the admin group (open
//  prices): what it journals follows, a configuration changed twice in one
//  envelope and an admin's price included; a configuration that is not the
//  one its messages give is named.
static void
s_test_config (void)
{
    s_actor_t actor;
    s_actor_new (&actor, S_WINDOW_MS, 0x33);
    CHECK (actor.user.partition != 0);
    tly_ledger_user_t worker, admin;
    s_configurer (&worker, S_WORKER);
    s_configurer (&admin, 0x79);
    char reason [AUDIT_DERIVE_REASON_MAX];
    Tally__InboxMessage *messages [2];
    int64_t t = S_NOW;

    //  0: createAccount(100). 1: "sword" at 30 (version 1). 2: a buy of
    //  "sword" naming no amount: 30. 3: a buy of "sword" at 25:
    //  PRICE_MISMATCH. 4: a buy of "gem" at 10, not in the catalog: 10. 5:
    //  the admin added and "sword" taken off sale, in one envelope
    //  (one new version for both: 2). 6: a buy of "sword": UNKNOWN_ITEM. 7:
    //  the admin sets "gem" at 5 (version 3). 8: a buy of "gem" naming no
    //  amount: 5.
    messages [0] = derive_fixture_create (&actor.fx, t - 3, 100);
    s_decide (&actor, t, messages, 1);
    messages [0] = derive_fixture_set_price (&actor.fx, t + 97, "sword", 30, true);
    Tally__RecordDraft *priced = derive_fixture_decide (&actor.fx, &worker, t + 100, messages, 1);
    CHECK (priced->partition == 0 && priced->config && priced->config->version == 1);
    messages [0] = derive_fixture_buy (&actor.fx, t + 197, "sword", 0);
    Tally__RecordDraft *bought = s_decide (&actor, t + 200, messages, 1);
    CHECK (bought->config_version == 1 && bought->results [0]->purchase->amount == 30);
    messages [0] = derive_fixture_buy (&actor.fx, t + 297, "sword", 25);
    Tally__RecordDraft *mismatch = s_decide (&actor, t + 300, messages, 1);
    CHECK (mismatch->results [0]->error->code == TALLY__ERROR_CODE__PRICE_MISMATCH);
    messages [0] = derive_fixture_buy (&actor.fx, t + 397, "gem", 10);
    s_decide (&actor, t + 400, messages, 1);
    messages [0] = derive_fixture_add_admin (&actor.fx, t + 497, admin.pk);
    messages [1] = derive_fixture_set_price (&actor.fx, t + 497, "sword", 20, false);
    Tally__RecordDraft *twice = derive_fixture_decide (&actor.fx, &worker, t + 500, messages, 2);
    CHECK (twice->config_version == 1 && twice->config && twice->config->version == 2);
    CHECK (twice->results [0]->config->version == 2 && twice->results [1]->config->version == 2);
    messages [0] = derive_fixture_buy (&actor.fx, t + 597, "sword", 0);
    Tally__RecordDraft *off_sale = s_decide (&actor, t + 600, messages, 1);
    CHECK (off_sale->results [0]->error->code == TALLY__ERROR_CODE__UNKNOWN_ITEM);
    messages [0] = derive_fixture_set_price (&actor.fx, t + 697, "gem", 5, true);
    Tally__RecordDraft *by_admin = derive_fixture_decide (&actor.fx, &admin, t + 700, messages, 1);
    CHECK (by_admin->config && by_admin->config->version == 3);
    messages [0] = derive_fixture_buy (&actor.fx, t + 797, "gem", 0);
    Tally__RecordDraft *gem = s_decide (&actor, t + 800, messages, 1);
    CHECK (gem->config_version == 3 && gem->results [0]->purchase->amount == 5);

    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    uint8_t worker_key [TLY_KEY_BYTES];
    memset (worker_key, S_WORKER, sizeof worker_key);
    audit_derive_set_worker (derive, worker_key);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 9 && stats.config_version == 3 && stats.config_changes == 3
           && stats.config_messages == 4);
    CHECK (tly_config_equal (audit_derive_config (derive), tly_ledger_config (actor.fx.ledger)));
    int64_t balance;
    CHECK (audit_derive_balance (derive, actor.user.partition, actor.user.pk, &balance) == 0);
    CHECK (balance == 55);
    audit_derive_destroy (&derive);

    //  The envelope's configuration without its admin, or at one version
    //  more (a version for each message that changed it).
    derive = audit_derive_new (S_WINDOW_MS);
    audit_derive_set_worker (derive, worker_key);
    twice->config->n_admins = 0;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 5, reason), reason,
        "the record's configuration is not the one its messages give: its admin 1 is none");
    twice->config->n_admins = 1;
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_WINDOW_MS);
    audit_derive_set_worker (derive, worker_key);
    twice->config->version = 3;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 5, reason), reason,
        "the record's configuration is not the one its messages give: it says version 3;"
        " its messages give 2");
    twice->config->version = 2;
    audit_derive_destroy (&derive);
    s_actor_destroy (&actor);
}

void
audit_derive_test (bool verbose)
{
    if (verbose)
        printf (" * audit_derive: ");
    s_actor_t actor;
    s_actor_new (&actor, S_WINDOW_MS, 0x31);
    char reason [AUDIT_DERIVE_REASON_MAX];
    reason [0] = 0;

    //  0: createAccount(100). 1: buy 30, buy 500 (over --max-amount: the
    //  actor's configured refusal), buy 90 (more than the 70 left). 2: the
    //  buy of 30 again (a resend), beside a new buy of 10 and a second
    //  createAccount (the account as it is). 3: a message ID from the
    //  future beyond the window (STALE_MESSAGE_ID) beside a buy of 5.
    Tally__InboxMessage *messages [3];
    messages [0] = derive_fixture_create (&actor.fx, S_NOW - 3, 100);
    s_decide (&actor, S_NOW, messages, 1);
    messages [0] = derive_fixture_buy (&actor.fx, S_NOW + 97, "sword", 30);
    messages [1] = derive_fixture_buy (&actor.fx, S_NOW + 97, "castle", 500);
    messages [2] = derive_fixture_buy (&actor.fx, S_NOW + 97, "shield", 90);
    Tally__RecordDraft *buys = s_decide (&actor, S_NOW + 100, messages, 3);
    CHECK (buys->n_events == 1
           && buys->results [1]->error->code == TALLY__ERROR_CODE__INVALID_AMOUNT
           && buys->results [2]->error->code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    Tally__InboxMessage *sword = messages [0];
    messages [1] = derive_fixture_buy (&actor.fx, S_NOW + 197, "bow", 10);
    messages [2] = derive_fixture_create (&actor.fx, S_NOW + 197, 7);
    messages [0] = sword;
    Tally__RecordDraft *resend = s_decide (&actor, S_NOW + 200, messages, 3);
    CHECK (resend->n_events == 1 && resend->results [0]->purchase->balance_after == 70);
    messages [0] = derive_fixture_buy (&actor.fx, S_NOW + 300 + 2 * S_WINDOW_MS, "gem", 1);
    messages [1] = derive_fixture_buy (&actor.fx, S_NOW + 297, "rope", 5);
    Tally__RecordDraft *stale = s_decide (&actor, S_NOW + 300, messages, 2);
    CHECK (stale->results [0]->error->code == TALLY__ERROR_CODE__STALE_MESSAGE_ID);

    //  What the ledger decided follows.
    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, actor.fx.count - 1, reason) == 0);
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 4 && stats.not_derived == 0 && stats.resends == 1);
    CHECK (audit_derive_at (derive, actor.user.partition, 4));
    int64_t balance;
    CHECK (audit_derive_balance (derive, actor.user.partition, actor.user.pk, &balance) == 0);
    CHECK (balance == 55 && audit_derive_accounts (derive, actor.user.partition) == 1);
    audit_derive_destroy (&derive);

    //  Changed: the purchase leaves more; the resend answers another
    //  balance; the resend applied again; a configured refusal that no
    //  configuration gives (an amount of 1 over the limit).
    derive = audit_derive_new (S_WINDOW_MS);
    buys->events [0]->purchase_recorded->balance_after = 80;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
        "message 1 of 3 (buy \"sword\" amount 30): PurchaseRecorded says balance_after 80;"
        " the envelope and the state give 70");
    buys->events [0]->purchase_recorded->balance_after = 70;
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_WINDOW_MS);
    resend->results [0]->purchase->balance_after = 69;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 2, reason), reason,
        "its message ID was decided before: a resend is answered with its first result");
    resend->results [0]->purchase->balance_after = 70;
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_WINDOW_MS);
    Tally__Event *events [2] = { buys->events [0], resend->events [0] };
    Tally__Event **kept = resend->events;
    resend->events = events;
    resend->n_events = 2;
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 2, reason), reason,
                          "the record applies it again");
    resend->events = kept;
    resend->n_events = 1;
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_WINDOW_MS);
    actor.fx.envelopes [1]->messages [1]->buy->amount = 1;
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
        "message 2 of 3 (buy \"castle\" amount 1): the result is INVALID_AMOUNT; the"
        " envelope and the state give an event");
    actor.fx.envelopes [1]->messages [1]->buy->amount = 500;
    audit_derive_destroy (&derive);

    //  A partition whose first records are not there is not checked; one
    //  started from a snapshot after record 1 is, resends included.
    derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive_fixture_derive (&actor.fx, derive, 2, 3, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 0 && stats.not_derived == 2 && stats.partitions_not_derived == 1);
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_WINDOW_MS);
    CHECK (audit_derive_load_begin (derive, actor.user.partition, 2, S_NOW + 100) == 0);
    CHECK (audit_derive_load_account (derive, actor.user.partition, actor.user.pk, 70, S_NOW + 100,
                                      0, 0)
           == 0);
    CHECK (audit_derive_load_account (derive, actor.user.partition, actor.user.pk, 70, S_NOW + 100,
                                      0, 0)
           == -1);
    audit_derive_load_result (derive, actor.user.partition, actor.user.pk, sword->message_id.data,
                              buys->results [0]);
    CHECK (derive_fixture_derive (&actor.fx, derive, 2, 3, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 2 && stats.resends == 1 && stats.snapshots == 1);
    CHECK (audit_derive_load_begin (derive, actor.user.partition, 4, S_NOW) == -1);
    audit_derive_destroy (&derive);
    //  A snapshot that says another balance: the next purchase does not follow.
    derive = audit_derive_new (S_WINDOW_MS);
    CHECK (audit_derive_load_begin (derive, actor.user.partition, 2, S_NOW + 100) == 0);
    CHECK (audit_derive_load_account (derive, actor.user.partition, actor.user.pk, 1070,
                                      S_NOW + 100, 0, 0)
           == 0);
    audit_derive_load_result (derive, actor.user.partition, actor.user.pk, sword->message_id.data,
                              buys->results [0]);
    derive_fixture_named (
        derive_fixture_derive (&actor.fx, derive, 2, 2, reason), reason,
        "message 2 of 3 (buy \"bow\" amount 10): PurchaseRecorded says balance_after 60;"
        " the envelope and the state give 1060");
    audit_derive_destroy (&derive);
    s_actor_destroy (&actor);

    //  An actor with a week's window takes an ID two minutes old; verify
    //  told of a minute names it, told of the week takes it.
    s_actor_new (&actor, S_LONG_MS, 0x32);
    messages [0] = derive_fixture_create (&actor.fx, S_NOW - 3, 100);
    s_decide (&actor, S_NOW, messages, 1);
    messages [0] = derive_fixture_buy (&actor.fx, S_NOW - 3, "sword", 10);
    s_decide (&actor, S_NOW + 2 * S_WINDOW_MS, messages, 1);
    derive = audit_derive_new (S_WINDOW_MS);
    derive_fixture_named (derive_fixture_derive (&actor.fx, derive, 0, 1, reason), reason,
                          "more than the dedupe window (60000 ms) before the actor's clock");
    audit_derive_destroy (&derive);
    derive = audit_derive_new (S_LONG_MS);
    CHECK (derive_fixture_derive (&actor.fx, derive, 0, 1, reason) == 0);
    audit_derive_destroy (&derive);
    s_actor_destroy (&actor);
    s_test_rate ();
    s_test_adjustments ();
    s_test_config ();
    if (verbose)
        printf ("OK\n");
}
