//  tly_ledger - a balance actor's state: accounts, purchases, dedupe, progress.
//  Here: the effects execute and apply share, the results and the dedupe
//  window, deciding messages (execute), and the state's lifecycle; replaying
//  records is tly_ledger_apply.c.
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_account.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_log.h"
#include "tly_rate.h"
#include "tly_validate.h"
#include "tly_wire.h"


//  A commit expires at least this many dedupe results beyond those it
//  stored, so the table shrinks back after a burst.
#define S_EXPIRE_SLACK 4096

int
tly_ledger_bad_record (const Tally__RecordDraft *draft, const char *reason)
{
    tly_log (TLY_ERROR, "ledger.bad_record",
             "partition=%" PRIu32 " partition_seq=%" PRIu64 " reason=\"%s\"", draft->partition,
             draft->partition_seq, reason);
    return -1;
}

//  ---------------------------------------------------------------- effects
//  The two state changes, shared by execute (live) and apply (replay), so a
//  replayed record leaves exactly the state its live execution left.

int
tly_ledger_create_account (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                           uint32_t partition, const char *balance_id, int64_t initial,
                           int64_t timestamp)
{
    tly_account_state_t state = { .balance = initial,
                                  .last_updated = timestamp,
                                  .created = timestamp,
                                  .purchases = 0,
                                  .balance_version = tly_store_derived_version (0),
                                  .log_version = tly_store_derived_version (0),
                                  .order_list_version = 1 };
    assert (strlen (balance_id) < sizeof state.balance_id);
    strcpy (state.balance_id, balance_id);
    if (tly_store_put_account (self->store, user, &state) == -1)
        return -1;
    //  The user's balance, root, purchase log and OrderList find their user by ID.
    const tly_object_kind_t kinds [] = { TLY_OBJ_BALANCE, TLY_OBJ_ROOT, TLY_OBJ_PURCHASE_LOG,
                                         TLY_OBJ_ORDER_LIST };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds [0]; i++) {
        uint8_t key [TLY_STORE_OBJECT_BYTES];
        tly_user_object_key (kinds [i], user, partition, key);
        if (tly_store_put_owner (self->store, key, user) == -1)
            return -1;
    }
    return 0;
}

//  Drops the user's records older than the latest keep_purchases, and
//  notes in partition's watermark the newest message time it dropped.
static int
s_drop_purchases (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                  uint64_t purchases)
{
    if (purchases <= self->limits.keep_purchases)
        return 0;
    size_t dropped = 0;
    int64_t newest = -1, watermark = -1;
    if (tly_store_drop_purchases (self->store, user, purchases - self->limits.keep_purchases,
                                  &dropped, &newest)
        == -1)
        return -1;
    if (dropped == 0)
        return 0;
    if (tly_store_dropped (self->store, partition, &watermark) == -1)
        return -1;
    return newest > watermark ? tly_store_put_dropped (self->store, partition, newest) : 0;
}

//  One more entry of the user's history (a purchase or an adjustment, its
//  record already stored): the balance it left, the log entry, and the
//  oldest entries dropped. In the same transaction, live and in replay
//  alike: the kept records follow from the journal and keep_purchases alone.
//  A new version of the UserBalance and PurchaseLog with it (a buy, credit,
//  debit, refund) or not (a completed order's line: its order makes one).
static int
s_record_entry (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                tly_account_state_t *state, int64_t balance_after, int64_t timestamp,
                const char *id, bool version)
{
    assert (state->purchases < UINT64_MAX - 1);
    assert (balance_after >= state->held);
    state->balance = balance_after;
    state->last_updated = timestamp;
    state->purchases++;
    if (version) {
        state->balance_version++;
        state->log_version++;
    }
    if (tly_store_put_account (self->store, user, state) == -1
        || tly_store_put_log (self->store, user, state->purchases, id) == -1)
        return -1;
    return s_drop_purchases (self, user, partition, state->purchases);
}

int
tly_ledger_record_purchase (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                            uint32_t partition, tly_account_state_t *state,
                            const Tally__PurchaseRecord *record)
{
    assert (record->balance_after >= 0 && record->balance_after < state->balance);
    if (tly_store_put_purchase (self->store, record) == -1)
        return -1;
    return s_record_entry (self, user, partition, state, record->balance_after, record->timestamp,
                           record->id, true);
}

int
tly_ledger_record_line (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                        tly_account_state_t *state, const Tally__PurchaseRecord *record)
{
    assert (record->balance_after >= 0 && record->balance_after < state->balance);
    if (tly_store_put_purchase (self->store, record) == -1)
        return -1;
    return s_record_entry (self, user, partition, state, record->balance_after, record->timestamp,
                           record->id, false);
}

//  One credit, debit or refund: its record is kept for good (its ID is the
//  reference's, see tly_ledger.h); only its log entry is dropped in time.
int
tly_ledger_record_adjustment (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                              uint32_t partition, tly_account_state_t *state,
                              const Tally__AdjustmentRecord *record)
{
    assert (record->balance_after >= 0 && record->balance_after <= TLY_BALANCE_MAX);
    if (tly_store_put_adjustment (self->store, record) == -1)
        return -1;
    return s_record_entry (self, user, partition, state, record->balance_after, record->timestamp,
                           record->id, true);
}

//  ---------------------------------------------------------------- results

void
tly_ledger_set_error (tly_arena_t *arena, Tally__MessageResult *result, Tally__ErrorCode code,
                      const char *message)
{
    Tally__Error *error = tly_arena_alloc (arena, sizeof *error);
    tally__error__init (error);
    error->code = code;
    error->message = (char *) message;
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    result->error = error;
}

static void
s_set_balance (tly_arena_t *arena, Tally__MessageResult *result, const tly_ledger_user_t *user,
               const tly_account_state_t *state)
{
    Tally__UserBalance *balance = tly_arena_alloc (arena, sizeof *balance);
    tally__user_balance__init (balance);
    balance->id = tly_arena_strdup (arena, state->balance_id);
    balance->user_id = tly_arena_strdup (arena, user->id);
    balance->balance = state->balance;
    balance->last_updated = state->last_updated;
    balance->held = state->held;
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    result->balance = balance;
}

//  ---------------------------------------------------------------- the dedupe window

void
tly_ledger_clock_see (tly_ledger_t *self, int64_t time_ms)
{
    if (time_ms > self->clock)
        self->clock = time_ms;
}

//  Whether message_id may still be taken, and so must be remembered.
bool
tly_ledger_in_window (const tly_ledger_t *self, const uint8_t message_id [TLY_MESSAGE_ID_BYTES])
{
    int64_t made = tly_message_id_time (message_id);
    int64_t window = self->limits.dedupe_window_ms;
    return made >= self->clock - window && made <= self->clock + window;
}

//  What dedupe keeps of a result: everything but what its key gives back
//  (the message ID; the user's ID, and the balance's or purchase's object
//  ID where it is the one derived from the user and the message ID, as a
//  journal written by another version may not have it), about a third of
//  the bytes. The copy lives in arena.
Tally__MessageResult *
tly_ledger_compact (tly_arena_t *arena, const uint8_t user [TLY_KEY_BYTES], uint32_t partition,
                    const Tally__MessageResult *result)
{
    Tally__MessageResult *kept = tly_arena_alloc (arena, sizeof *kept);
    *kept = *result;
    kept->message_id = (ProtobufCBinaryData) { 0, NULL };
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE && result->purchase) {
        kept->purchase = tly_arena_alloc (arena, sizeof *kept->purchase);
        *kept->purchase = *result->purchase;
        tly_purchase_key (partition, user, result->message_id.data, key);
        tly_object_id_of_key (key, id);
        if (kept->purchase->id && strcmp (kept->purchase->id, id) == 0)
            kept->purchase->id = NULL;
        kept->purchase->user_id = NULL;
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE && result->balance) {
        kept->balance = tly_arena_alloc (arena, sizeof *kept->balance);
        *kept->balance = *result->balance;
        tly_user_object_key (TLY_OBJ_BALANCE, user, partition, key);
        tly_object_id_of_key (key, id);
        if (kept->balance->id && strcmp (kept->balance->id, id) == 0)
            kept->balance->id = NULL;
        kept->balance->user_id = NULL;
    }
    return kept;
}

static bool
s_empty (const char *text)
{
    return !text || !*text;
}

//  The first result of user's message_id as dedupe kept it, made whole again.
static void
s_restore (tly_arena_t *arena, const tly_ledger_user_t *user, const ProtobufCBinaryData *message_id,
           Tally__MessageResult *result)
{
    result->message_id = *message_id;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE && result->purchase) {
        if (s_empty (result->purchase->id)) {
            tly_purchase_key (user->partition, user->pk, message_id->data, key);
            tly_object_id_of_key (key, id);
            result->purchase->id = tly_arena_strdup (arena, id);
        }
        result->purchase->user_id = tly_arena_strdup (arena, user->id);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE && result->balance) {
        if (s_empty (result->balance->id)) {
            tly_user_object_key (TLY_OBJ_BALANCE, user->pk, user->partition, key);
            tly_object_id_of_key (key, id);
            result->balance->id = tly_arena_strdup (arena, id);
        }
        result->balance->user_id = tly_arena_strdup (arena, user->id);
    }
}

//  In the transaction about to commit: the clock, and the results it lets
//  go, in one step, so no committed state has forgotten a result its own
//  clock would still take.
static int
s_expire (tly_ledger_t *self)
{
    if (self->clock > self->stored_clock && tly_store_put_clock (self->store, self->clock) == -1)
        return -1;
    size_t expired = 0;
    if (tly_store_expire_results (self->store, self->clock - self->limits.dedupe_window_ms,
                                  self->results + S_EXPIRE_SLACK, &expired)
        == -1)
        return -1;
    if (expired > 0)
        tly_log (TLY_DEBUG, "ledger.expired", "results=%zu clock=%" PRId64, expired, self->clock);
    return 0;
}

//  ---------------------------------------------------------------- execute

bool
tly_ledger_rate_limited (const Tally__MessageResult *result)
{
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR && result->error
           && result->error->code == TALLY__ERROR_CODE__RATE_LIMITED;
}

static int
s_execute_create (tly_ledger_t *self, const tly_ledger_user_t *user,
                  const Tally__CreateAccount *create, int64_t now_ms, tly_arena_t *arena,
                  Tally__MessageResult *result, Tally__Event **event_p, uint64_t *version_p)
{
    const char *reason = NULL;
    Tally__ErrorCode code = tly_validate_initial_balance (create->initial_balance,
                                                          self->limits.initial_max, &reason);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, reason);
        return 0;
    }
    tly_account_state_t state = { .balance = 0 };  //  a new account's fields all start at 0
    tly_store_lookup_t found = tly_store_account (self->store, user->pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        //  A second createAccount returns the account as it is: never a reset.
        uint8_t key [TLY_OBJECT_KEY_BYTES];
        tly_user_object_key (TLY_OBJ_BALANCE, user->pk, user->partition, key);
        tly_object_id_of_key (key, state.balance_id);
        state.balance = create->initial_balance;
        state.last_updated = now_ms;
        state.created = now_ms;
        if (tly_ledger_create_account (self, user->pk, user->partition, state.balance_id,
                                       state.balance, now_ms)
            == -1)
            return -1;
        Tally__AccountCreated *created = tly_arena_alloc (arena, sizeof *created);
        tally__account_created__init (created);
        created->user = tly_arena_bytes (arena, user->pk, TLY_KEY_BYTES);
        created->balance_id = tly_arena_strdup (arena, state.balance_id);
        created->initial_balance = state.balance;
        created->timestamp = now_ms;
        Tally__Event *event = tly_arena_alloc (arena, sizeof *event);
        tally__event__init (event);
        event->kind_case = TALLY__EVENT__KIND_ACCOUNT_CREATED;
        event->account_created = created;
        *event_p = event;
        *version_p = 1;
        state.balance_version = state.log_version = state.order_list_version = 1;
        tly_ledger_set_versions (self, &state, 0);
    }
    s_set_balance (arena, result, user, &state);
    return 0;
}

static int
s_execute_buy (tly_ledger_t *self, const tly_ledger_user_t *user,
               const Tally__InboxMessage *message, int64_t now_ms, tly_arena_t *arena,
               Tally__MessageResult *result, Tally__Event **event_p, uint64_t *version_p)
{
    const Tally__Buy *buy = message->buy;
    const char *reason = NULL;
    int64_t charge = 0;  //  the catalog's price, or the amount named where prices are open
    Tally__ErrorCode code = tly_config_price (self->config, self->limits.open_prices,
                                              self->limits.amount_max, buy, &charge, &reason);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, reason);
        return 0;
    }
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, user->pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NO_ACCOUNT,
                              tly_error_default_message (TALLY__ERROR_CODE__NO_ACCOUNT));
        return 0;
    }
    //  The rate limit: a token for every buy that gets this far, whether
    //  or not the balance then covers it.
    if (self->limits.rate_per_minute > 0) {
        tly_rate_bucket_t bucket = { state.bucket_tokens, state.bucket_ms };
        int64_t wait_ms;
        if (!tly_rate_take (&bucket, now_ms, self->limits.rate_per_minute, self->limits.rate_burst,
                            &wait_ms)) {
            tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__RATE_LIMITED,
                                  tly_error_default_message (TALLY__ERROR_CODE__RATE_LIMITED));
            result->error->retry_after_ms = wait_ms;
            return 0;
        }
        state.bucket_tokens = bucket.tokens;
        state.bucket_ms = bucket.at_ms;
        if (state.balance - state.held < charge
            && tly_store_put_account (self->store, user->pk, &state) == -1)
            return -1;
    }
    //  What an order holds is not for a buy (docs/protocol.md "Orders").
    if (state.balance - state.held < charge) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
                              tly_error_default_message (TALLY__ERROR_CODE__INSUFFICIENT_BALANCE));
        return 0;
    }
    int64_t balance_after;
    bool overflow = __builtin_sub_overflow (state.balance, charge, &balance_after);
    assert (!overflow && balance_after >= 0);

    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    tly_purchase_key (user->partition, user->pk, message->message_id.data, key);
    tly_object_id_of_key (key, id);
    Tally__PurchaseRecord *record = tly_arena_alloc (arena, sizeof *record);
    tally__purchase_record__init (record);
    record->id = tly_arena_strdup (arena, id);
    record->user_id = tly_arena_strdup (arena, user->id);
    record->item_id = tly_arena_strdup (arena, buy->item_id);
    record->amount = charge;
    record->timestamp = now_ms;
    record->balance_after = balance_after;
    record->partition_seq = self->envelope_seq;
    if (tly_ledger_record_purchase (self, user->pk, user->partition, &state, record) == -1)
        return -1;

    Tally__PurchaseRecorded *recorded = tly_arena_alloc (arena, sizeof *recorded);
    tally__purchase_recorded__init (recorded);
    recorded->user = tly_arena_bytes (arena, user->pk, TLY_KEY_BYTES);
    recorded->purchase_id = record->id;
    recorded->item_id = record->item_id;
    recorded->amount = record->amount;
    recorded->timestamp = record->timestamp;
    recorded->balance_after = record->balance_after;
    Tally__Event *event = tly_arena_alloc (arena, sizeof *event);
    tally__event__init (event);
    event->kind_case = TALLY__EVENT__KIND_PURCHASE_RECORDED;
    event->purchase_recorded = recorded;
    *event_p = event;
    *version_p = state.balance_version;
    tly_ledger_set_versions (self, &state, 0);

    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    result->purchase = record;
    return 0;
}

//  A credit (sign 1) or debit (sign -1) of adjustment->user by the worker.
static int
s_execute_adjust (tly_ledger_t *self, const tly_ledger_user_t *sender,
                  const Tally__Adjustment *adjustment, int sign, int64_t now_ms, tly_arena_t *arena,
                  Tally__MessageResult *result, Tally__Event **event_p, uint64_t *version_p)
{
    const char *reason = NULL;
    Tally__ErrorCode code = tly_validate_adjustment (adjustment, &reason);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, reason);
        return 0;
    }
    tly_ledger_user_t target;
    tly_ledger_user_init (&target, adjustment->user.data, self->limits.partition_count);
    if (target.partition != sender->route) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                              "a credit or debit goes to its user's partition");
        return 0;
    }
    if (!sender->worker && !tly_config_is_admin (self->config, self->limits.worker, sender->pk)) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__PERMISSION_DENIED,
                              "Only an admin may credit or debit a balance");
        return 0;
    }
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, target.pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NO_ACCOUNT,
                              tly_error_default_message (TALLY__ERROR_CODE__NO_ACCOUNT));
        return 0;
    }
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (target.partition, target.pk, adjustment->reference, key);
    Tally__AdjustmentRecord *first = NULL;
    found = tly_store_adjustment (self->store, key, arena, &first);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_FOUND) {
        //  The reference was credited or debited before: its first result.
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
        result->adjustment = first;
        return 0;
    }
    int64_t balance_after = 0;
    if (sign > 0
        && (__builtin_add_overflow (state.balance, adjustment->amount, &balance_after)
            || balance_after > TLY_BALANCE_MAX)) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BALANCE_LIMIT,
                              "Balance limit exceeded: a balance is at most 9007199254740991");
        return 0;
    }
    if (sign < 0) {
        if (state.balance - state.held < adjustment->amount) {
            tly_ledger_set_error (
                arena, result, TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
                tly_error_default_message (TALLY__ERROR_CODE__INSUFFICIENT_BALANCE));
            return 0;
        }
        balance_after = state.balance - adjustment->amount;
    }
    char id [TLY_ID_MAX];
    tly_object_id_of_key (key, id);
    Tally__AdjustmentRecord *record = tly_arena_alloc (arena, sizeof *record);
    tally__adjustment_record__init (record);
    record->id = tly_arena_strdup (arena, id);
    record->user_id = tly_arena_strdup (arena, target.id);
    record->amount = sign * adjustment->amount;
    record->reference = tly_arena_strdup (arena, adjustment->reference);
    record->note = tly_arena_strdup (arena, adjustment->note ? adjustment->note : "");
    record->timestamp = now_ms;
    record->balance_after = balance_after;
    record->by = tly_arena_strdup (arena, sender->id);
    if (tly_ledger_record_adjustment (self, target.pk, target.partition, &state, record) == -1)
        return -1;

    *event_p = tly_ledger_adjusted (arena, target.pk, sender->pk, record);
    *version_p = state.balance_version;
    tly_ledger_set_versions (self, &state, 0);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    result->adjustment = record;
    return 0;
}

Tally__Event *
tly_ledger_adjusted (tly_arena_t *arena, const uint8_t user [TLY_KEY_BYTES],
                     const uint8_t by [TLY_KEY_BYTES], const Tally__AdjustmentRecord *record)
{
    Tally__BalanceAdjusted *adjusted = tly_arena_alloc (arena, sizeof *adjusted);
    tally__balance_adjusted__init (adjusted);
    adjusted->user = tly_arena_bytes (arena, user, TLY_KEY_BYTES);
    adjusted->adjustment_id = record->id;
    adjusted->amount = record->amount;
    adjusted->reference = record->reference;
    adjusted->note = record->note;
    adjusted->timestamp = record->timestamp;
    adjusted->balance_after = record->balance_after;
    adjusted->by = tly_arena_bytes (arena, by, TLY_KEY_BYTES);
    Tally__Event *event = tly_arena_alloc (arena, sizeof *event);
    tally__event__init (event);
    event->kind_case = TALLY__EVENT__KIND_BALANCE_ADJUSTED;
    event->balance_adjusted = adjusted;
    return event;
}

tly_ledger_result_t
tly_ledger_execute (tly_ledger_t *self, const tly_ledger_user_t *user,
                    const Tally__InboxMessage *message, int64_t now_ms, tly_arena_t *arena,
                    Tally__MessageResult **result_p, Tally__Event **event_p, uint64_t *version_p)
{
    assert (self);
    assert (tly_store_in_txn (self->store));
    assert (user && message && arena && result_p && event_p && version_p);
    assert (user->partition < self->limits.partition_count);
    *event_p = NULL;
    *version_p = 0;
    Tally__MessageResult *result = tly_arena_alloc (arena, sizeof *result);
    tally__message_result__init (result);
    result->message_id = message->message_id;
    *result_p = result;
    if (message->message_id.len != TLY_MESSAGE_ID_BYTES) {
        //  Without an ID there is nothing to remember the result by.
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                              tly_error_default_message (TALLY__ERROR_CODE__BAD_REQUEST));
        return TLY_LEDGER_APPLIED;
    }
    tly_ledger_clock_see (self, now_ms);
    if (!tly_ledger_in_window (self, message->message_id.data)) {
        //  Too old to be told from a resend, or so far ahead that it would
        //  be remembered too long: never applied, so nothing to remember.
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__STALE_MESSAGE_ID,
                              tly_error_default_message (TALLY__ERROR_CODE__STALE_MESSAGE_ID));
        return TLY_LEDGER_STALE;
    }
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
    tly_store_dedupe_key (user->route, user->pk, message->message_id.data, key);
    tly_store_lookup_t found = tly_store_result (self->store, key, arena, result_p);
    if (found == TLY_STORE_FOUND) {
        s_restore (arena, user, &message->message_id, *result_p);
        return TLY_LEDGER_DUPLICATE;  //  answered with the first result
    }
    if (found == TLY_STORE_ERROR)
        return TLY_LEDGER_ERROR;

    Tally__Event *event = NULL;
    uint64_t version = 0;
    int rc = 0;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT)
        rc = s_execute_create (self, user, message->create_account, now_ms, arena, result, &event,
                               &version);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY)
        rc = s_execute_buy (self, user, message, now_ms, arena, result, &event, &version);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT)
        rc = s_execute_adjust (self, user, message->credit, 1, now_ms, arena, result, &event,
                               &version);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT)
        rc = s_execute_adjust (self, user, message->debit, -1, now_ms, arena, result, &event,
                               &version);
    else if (tly_config_message (message))
        rc = tly_ledger_execute_config (self, user, message, arena, result);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND)
        rc = tly_ledger_execute_refund (self, user, message->refund, now_ms, arena, result, &event,
                                        &version);
    else if (tly_order_message (message))
        rc = tly_ledger_execute_order (self, user, message, now_ms, arena, result, &event,
                                       &version);
    else
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                              tly_error_default_message (TALLY__ERROR_CODE__BAD_REQUEST));
    if (rc == -1)
        return TLY_LEDGER_ERROR;
    if (tly_ledger_rate_limited (result)) {
        //  Journaled (the decision is the record's), never remembered: the
        //  same message sent again once the wait is over is decided anew.
        *event_p = NULL;
        *version_p = 0;
        return TLY_LEDGER_APPLIED;
    }
    if (tly_store_put_result (self->store, key,
                              tly_ledger_compact (arena, user->pk, user->route, result), false)
        == -1)
        return TLY_LEDGER_ERROR;
    self->results++;
    *event_p = event;
    *version_p = version;
    return TLY_LEDGER_APPLIED;
}

int
tly_ledger_advance (tly_ledger_t *self, uint32_t partition, uint64_t epoch, uint64_t *partition_seq)
{
    assert (self);
    assert (tly_store_in_txn (self->store));
    assert (partition < self->limits.partition_count);
    uint64_t applied, stored_epoch;
    if (self->envelope_open && self->envelope_partition == partition)
        applied = self->envelope_seq - 1;  //  read as the envelope began (tly_ledger_envelope)
    else if (tly_store_progress (self->store, partition, &applied, &stored_epoch) == -1)
        return -1;
    self->envelope_open = false;
    assert (applied < UINT64_MAX);
    *partition_seq = applied + 1;
    self->pending++;
    return tly_store_put_progress (self->store, partition, applied + 1, epoch);
}

//  ---------------------------------------------------------------- lifecycle

void
tly_ledger_user_init (tly_ledger_user_t *user, const uint8_t pk [TLY_KEY_BYTES],
                      uint32_t partition_count)
{
    assert (user && pk);
    assert (partition_count > 0 && partition_count <= TLY_PARTITIONS_MAX);
    memcpy (user->pk, pk, TLY_KEY_BYTES);
    tly_account_id (pk, user->id);
    user->partition = tly_partition_of_id (user->id, partition_count);
    user->route = user->partition;
    user->worker = false;
}

tly_ledger_t *
tly_ledger_new (const char *path, size_t map_size, const tly_ledger_limits_t *limits)
{
    assert (path && limits);
    assert (limits->partition_count > 0 && limits->partition_count <= TLY_PARTITIONS_MAX);
    assert (limits->initial_max >= 0 && limits->amount_max > 0);
    assert (limits->dedupe_window_ms >= TLY_DEDUPE_WINDOW_MS_MIN
            && limits->dedupe_window_ms <= TLY_DEDUPE_WINDOW_MS_MAX);
    assert (limits->keep_purchases == 0
            || (limits->keep_purchases >= TLY_KEEP_PURCHASES_MIN
                && limits->keep_purchases <= TLY_KEEP_PURCHASES_MAX));
    assert (limits->rate_per_minute == 0
            || tly_rate_limit_valid (limits->rate_per_minute, limits->rate_burst));
    if (sodium_init () < 0) {
        tly_log (TLY_ERROR, "ledger.open", "reason=\"libsodium failed to initialise\"");
        return NULL;
    }
    tly_ledger_t *self = calloc (1, sizeof (tly_ledger_t));
    if (!self)
        return NULL;
    self->limits = *limits;
    if (self->limits.keep_purchases == 0)
        self->limits.keep_purchases = TLY_KEEP_PURCHASES_DEFAULT;
    self->snapshot_every = TLY_LEDGER_SNAPSHOT_EVERY;
    self->store = tly_store_new (path, map_size);
    if (!self->store || tly_store_clock (self->store, &self->clock) == -1
        || tly_ledger_config_open (self) == -1 || tly_ledger_order_owners (self) == -1)
        tly_ledger_destroy (&self);
    else
        self->stored_clock = self->clock;
    return self;
}

tly_ledger_t *
tly_ledger_new_reader (const char *path)
{
    assert (path);
    tly_ledger_t *self = calloc (1, sizeof (tly_ledger_t));
    if (!self)
        return NULL;
    //  A reader decides nothing: the limits only bound the partitions asked.
    self->limits = (tly_ledger_limits_t) { .partition_count = TLY_PARTITIONS_MAX,
                                           .initial_max = 0,
                                           .amount_max = 1,
                                           .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT,
                                           .keep_purchases = TLY_KEEP_PURCHASES_DEFAULT };
    self->read_only = true;
    self->store = tly_store_new_reader (path);
    if (!self->store || tly_store_clock (self->store, &self->clock) == -1
        || tly_ledger_config_open (self) == -1)
        tly_ledger_destroy (&self);
    return self;
}

void
tly_ledger_destroy (tly_ledger_t **self_p)
{
    assert (self_p);
    tly_ledger_t *self = *self_p;
    if (!self)
        return;
    tly_store_destroy (&self->store);
    tly_ledger_config_close (self);
    free (self);
    *self_p = NULL;
}

int
tly_ledger_begin (tly_ledger_t *self)
{
    assert (self);
    assert (!self->read_only);
    self->pending = 0;
    self->results = 0;
    self->envelope_open = false;
    return tly_store_begin (self->store);
}

//  The map is flushed every snapshot_every committed records, so what is on
//  disk is never far behind the journal whatever the OS writes back.
int
tly_ledger_commit (tly_ledger_t *self)
{
    assert (self);
    uint64_t records = self->pending;
    self->pending = 0;
    if (s_expire (self) == -1) {
        tly_store_abort (self->store);
        tly_ledger_config_settle (self, false);
        return -1;
    }
    self->results = 0;
    if (tly_store_commit (self->store) == -1) {
        tly_ledger_config_settle (self, false);
        return -1;
    }
    tly_ledger_config_settle (self, true);
    self->stored_clock = self->clock;
    self->unflushed += records;
    if (self->unflushed < self->snapshot_every)
        return 0;
    int64_t start = tly_mono_ms ();
    if (tly_store_sync (self->store) == -1)
        return 0;  //  the commit stands; the next flush may work
    tly_log (TLY_DEBUG, "ledger.flushed", "records=%" PRIu64 " ms=%" PRId64, self->unflushed,
             tly_mono_ms () - start);
    self->unflushed = 0;
    return 0;
}

void
tly_ledger_abort (tly_ledger_t *self)
{
    assert (self);
    self->pending = 0;
    self->envelope_open = false;
    tly_store_abort (self->store);
    tly_ledger_config_settle (self, false);
}

bool
tly_ledger_in_txn (tly_ledger_t *self)
{
    assert (self);
    return tly_store_in_txn (self->store);
}
