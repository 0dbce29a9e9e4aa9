//  audit_derive - each record's events and results derived from its signed
//  envelope and its partition's state (see audit_derive.h).
//
//  The accounts are an audit_state table (user -> balance, last update,
//  rate limit bucket, partition); the message IDs decided so far and the
//  references of credits and debits taken are the tables of
//  audit_derive_seen.c; credits and debits are derived in
//  audit_derive_adjust.c, refunds in audit_derive_refund.c.
#include "audit_derive_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit_state.h"
#include "tly_account.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_rate.h"
#include "tly_store.h"
#include "tly_validate.h"

#define S_DESCRIBED_MAX 192  //  a message as a reason names it

audit_derive_t *
audit_derive_new (int64_t window_ms)
{
    assert (window_ms > 0);
    if (sodium_init () < 0)
        return NULL;
    audit_derive_t *self = calloc (1, sizeof *self);
    assert (self);
    self->window_ms = window_ms;
    self->accounts = audit_state_new ();
    self->orders = audit_orders_new ();
    self->partitions = calloc (TLY_PARTITIONS_MAX, sizeof (audit_derive_partition_t));
    self->seen_capacity = AUDIT_DERIVE_SEEN_FIRST;
    self->seen = audit_derive_seen_new (self->seen_capacity);
    assert (self->accounts && self->partitions);
    crypto_shorthash_keygen (self->fingerprint_key);
    crypto_shorthash_keygen (self->digest_key);
    //  From the journal's first record: version 0, the empty one.
    self->version_known = true;
    self->config_known = true;
    self->config = tly_config_new ();
    self->working = tly_config_new ();
    self->said = tly_config_new ();
    self->snapshot_config = tly_config_new ();
    return self;
}

void
audit_derive_destroy (audit_derive_t **self_p)
{
    assert (self_p);
    audit_derive_t *self = *self_p;
    if (!self)
        return;
    audit_state_destroy (&self->accounts);
    audit_orders_destroy (&self->orders);
    free (self->partitions);
    free (self->seen);
    free (self->live);
    free (self->references);
    tly_config_destroy (&self->config);
    tly_config_destroy (&self->working);
    tly_config_destroy (&self->said);
    tly_config_destroy (&self->snapshot_config);
    free (self);
    *self_p = NULL;
}

void
audit_derive_set_worker (audit_derive_t *self, const uint8_t worker [TLY_KEY_BYTES])
{
    assert (self && worker);
    memcpy (self->worker, worker, TLY_KEY_BYTES);
    self->has_worker = true;
}

//  ---------------------------------------------------------------- reasons

//  An item ID or a reference as a reason shows it: its first bytes, those
//  that would not read on one line as '?'.
void
audit_derive_shown (const char *text, char shown_text [AUDIT_DERIVE_SHOWN + 4])
{
    text = text ? text : "";
    size_t shown = strnlen (text, AUDIT_DERIVE_SHOWN);
    for (size_t i = 0; i < shown; i++)
        shown_text [i] = text [i] >= 0x20 && text [i] < 0x7f && text [i] != '"' ? text [i] : '?';
    strcpy (shown_text + shown, text [shown] ? "..." : "");
}

//  The message as a reason names it.
static void
s_describe (const Tally__InboxMessage *message, char *described, size_t size)
{
    char text [AUDIT_DERIVE_SHOWN + 4];
    bool credit;
    const Tally__Adjustment *adjustment = audit_derive_adjustment (message, &credit);
    if (adjustment) {
        char user [TLY_ID_MAX] = "a malformed key";
        if (adjustment->user.len == TLY_KEY_BYTES)
            tly_account_id (adjustment->user.data, user);
        audit_derive_shown (adjustment->reference, text);
        snprintf (described, size, "%s of %s amount %" PRId64 " reference \"%s\"",
                  credit ? "credit" : "debit", user, adjustment->amount, text);
        return;
    }
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT:
            snprintf (described, size, "createAccount initialBalance %" PRId64,
                      message->create_account->initial_balance);
            break;
        case TALLY__INBOX_MESSAGE__BODY_BUY:
            audit_derive_shown (message->buy->item_id, text);
            snprintf (described, size, "buy \"%s\" amount %" PRId64, text, message->buy->amount);
            break;
        case TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN:
        case TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN:
        case TALLY__INBOX_MESSAGE__BODY_SET_PRICE:
            audit_derive_describe_config (message, described, size);
            break;
        case TALLY__INBOX_MESSAGE__BODY_REFUND:
            audit_derive_describe_refund (message, described, size);
            break;
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
            audit_derive_describe_order (message, described, size);
            break;
        default: snprintf (described, size, "no body"); break;
    }
}

//  One line: the record's partition and user, the message, then what differs.
int
audit_derive_fail (audit_derive_record_t *record, const char *format, ...)
{
    int prefix = snprintf (record->reason, record->reason_size, "partition %" PRIu32 ", user %s",
                           record->partition, record->user_id);
    if (record->message && prefix >= 0 && (size_t) prefix < record->reason_size) {
        char described [S_DESCRIBED_MAX];
        s_describe (record->message, described, sizeof described);
        prefix += snprintf (record->reason + prefix, record->reason_size - (size_t) prefix,
                            ", message %zu of %zu (%s)", record->index + 1,
                            record->envelope->n_messages, described);
    }
    if (prefix >= 0 && (size_t) prefix + 2 < record->reason_size) {
        strcpy (record->reason + prefix, ": ");
        prefix += 2;
        va_list args;
        va_start (args, format);
        vsnprintf (record->reason + prefix, record->reason_size - (size_t) prefix, format, args);
        va_end (args);
    }
    return -1;
}

const char *
audit_derive_outcome (const Tally__MessageResult *result)
{
    switch (result->outcome_case) {
        case TALLY__MESSAGE_RESULT__OUTCOME_ERROR:
            return result->error ? tly_error_name (result->error->code) : "an empty error";
        case TALLY__MESSAGE_RESULT__OUTCOME_BALANCE: return "a balance";
        case TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE: return "a purchase";
        case TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT: return "an adjustment";
        case TALLY__MESSAGE_RESULT__OUTCOME_CONFIG: return "a configuration change";
        case TALLY__MESSAGE_RESULT__OUTCOME_ORDER: return "an order";
        default: return "no outcome";
    }
}

//  ---------------------------------------------------------------- the rules

//  The charge of a buy (expected->charge, or a refusal), as
//  tly_config_price gives it under the record's configuration and
//  open_prices. Where the configuration is not known, a price's refusals
//  are taken as the record says, and the charge is the amount the buy
//  names, or for one that names none, what the record says it was charged
//  (result): prices are not checked then.
static void
s_price (const audit_derive_record_t *record, const Tally__Buy *buy, const audit_account_t *account,
         const Tally__MessageResult *result, audit_derive_expected_t *expected)
{
    const char *text = NULL;
    if (record->config) {
        expected->error = tly_config_price (record->config, record->draft->open_prices, INT64_MAX,
                                            buy, &expected->charge, &text);
        //  --max-amount (at least 1) is for the amounts clients name: those
        //  of items not in the catalog.
        if (expected->error == TALLY__ERROR_CODE__OK && buy->amount > 1
            && !tly_config_item (record->config, buy->item_id))
            expected->instead |= audit_derive_code (TALLY__ERROR_CODE__INVALID_AMOUNT);
        return;
    }
    expected->error = tly_validate_item_id (buy->item_id, &text);
    if (expected->error != TALLY__ERROR_CODE__OK)
        return;
    expected->instead |= audit_derive_code (TALLY__ERROR_CODE__UNKNOWN_ITEM)
                         | audit_derive_code (TALLY__ERROR_CODE__PRICE_MISMATCH)
                         | audit_derive_code (TALLY__ERROR_CODE__INVALID_AMOUNT);
    if (buy->amount < 0)
        expected->error = TALLY__ERROR_CODE__INVALID_AMOUNT;
    else if (buy->amount > 0)
        expected->charge = buy->amount;  //  the catalog's price or an open one: the same
    else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE && result->purchase
             && result->purchase->amount > 0 && result->purchase->amount <= TLY_BALANCE_MAX)
        expected->charge = result->purchase->amount;
    else  //  a price past the balance, as INSUFFICIENT_BALANCE would say
        expected->charge = account && account->balance < TLY_BALANCE_MAX ? account->balance + 1
                                                                         : TLY_BALANCE_MAX;
}

//  What the rules give for a new message of the user, whose account is
//  account (NULL: none), as tly_ledger_execute decides it; result is the
//  record's, for what verify cannot know (s_price).
static void
s_expect (audit_derive_record_t *record, const Tally__InboxMessage *message,
          const audit_account_t *account, const Tally__MessageResult *result,
          audit_derive_expected_t *expected)
{
    const char *text = NULL;
    *expected = (audit_derive_expected_t) { .error = TALLY__ERROR_CODE__OK };
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT) {
        int64_t initial = message->create_account->initial_balance;
        expected->error = tly_validate_initial_balance (initial, INT64_MAX, &text);
        if (expected->error != TALLY__ERROR_CODE__OK)
            return;
        //  --max-initial is at least 0: only a positive balance may be over it.
        if (initial > 0)
            expected->instead = audit_derive_code (TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE);
        expected->event = !account;
        expected->balance = account ? account->balance : initial;
        expected->last_updated = account ? account->last_updated : record->now_ms;
        expected->held = account ? account->held : 0;
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY) {
        //  The price, then the account, then the rate limit, then the balance.
        s_price (record, message->buy, account, result, expected);
        if (expected->error != TALLY__ERROR_CODE__OK)
            return;
        if (!account) {
            expected->error = TALLY__ERROR_CODE__NO_ACCOUNT;
            return;
        }
        //  The rate limit takes its token before the balance is looked at.
        const Tally__RateLimit *rate = record->draft->rate_limit;
        if (rate && rate->per_minute > 0) {
            expected->bucket = (tly_rate_bucket_t) { account->bucket_tokens, account->bucket_ms };
            if (!tly_rate_take (&expected->bucket, record->now_ms, rate->per_minute, rate->burst,
                                &expected->retry_ms)) {
                expected->error = TALLY__ERROR_CODE__RATE_LIMITED;
                return;
            }
            expected->takes = true;
        }
        //  What orders hold is not the buy's to spend.
        if (account->balance - account->held < expected->charge)
            expected->error = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
        else {
            expected->event = true;
            expected->balance = account->balance - expected->charge;
        }
    } else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT
               || message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT)
        audit_derive_expect_adjustment (record, message, expected);
    else if (tly_config_message (message))
        audit_derive_expect_config (record, message, expected);
    else
        expected->error = TALLY__ERROR_CODE__BAD_REQUEST;
}

//  The IDs that follow from the user and the message.
static void
s_balance_id (const audit_derive_record_t *record, char id [TLY_ID_MAX])
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_user_object_key (TLY_OBJ_BALANCE, record->user, record->partition, key);
    tly_object_id_of_key (key, id);
}

static void
s_purchase_id (const audit_derive_record_t *record, const uint8_t *message_id, char id [TLY_ID_MAX])
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_purchase_key (record->partition, record->user, message_id, key);
    tly_object_id_of_key (key, id);
}

bool
audit_derive_same_text (const char *text, const char *expected)
{
    return strcmp (text ? text : "", expected) == 0;
}

bool
audit_derive_same_key (const ProtobufCBinaryData *key, const uint8_t expected [TLY_KEY_BYTES])
{
    return key->len == TLY_KEY_BYTES && memcmp (key->data, expected, TLY_KEY_BYTES) == 0;
}

//  The record's next event not matched to a message yet, if it is of kind.
const Tally__Event *
audit_derive_next_event (const audit_derive_record_t *record, Tally__Event__KindCase kind)
{
    const Tally__RecordDraft *draft = record->draft;
    if (record->next_event >= draft->n_events
        || draft->events [record->next_event]->kind_case != kind)
        return NULL;
    return draft->events [record->next_event];
}

//  createAccount, new: the account with the signed balance, and that balance answered.
static int
s_check_created (audit_derive_record_t *record, const Tally__InboxMessage *message,
                 const Tally__MessageResult *result, const audit_derive_expected_t *expected)
{
    char id [TLY_ID_MAX];
    s_balance_id (record, id);
    if (expected->event) {
        const Tally__Event *event = audit_derive_next_event (record,
                                                             TALLY__EVENT__KIND_ACCOUNT_CREATED);
        if (!event)
            return audit_derive_fail (
                record,
                "the record has no AccountCreated for it; the envelope and the"
                " state give one with initial_balance %" PRId64,
                message->create_account->initial_balance);
        record->next_event++;
        const Tally__AccountCreated *created = event->account_created;
        AUDIT_DERIVE_SAME (record, "AccountCreated says initial_balance", created->initial_balance,
                           message->create_account->initial_balance);
        AUDIT_DERIVE_SAME (record, "AccountCreated says timestamp", created->timestamp,
                           record->now_ms);
        AUDIT_DERIVE_SAME_TEXT (record, "AccountCreated's balance_id", created->balance_id, id);
    }
    const Tally__UserBalance *balance = result->balance;
    AUDIT_DERIVE_SAME (record, "the result says balance", balance->balance, expected->balance);
    AUDIT_DERIVE_SAME (record, "the result says lastUpdated", balance->last_updated,
                       expected->last_updated);
    AUDIT_DERIVE_SAME (record, "the result says held", balance->held, expected->held);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's balance ID", balance->id, id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's user ID", balance->user_id, record->user_id);
    return 0;
}

//  buy, new and affordable: the signed item and its charge, the balance less it.
static int
s_check_purchase (audit_derive_record_t *record, const Tally__InboxMessage *message,
                  const Tally__MessageResult *result, const audit_derive_expected_t *expected)
{
    const Tally__Buy *buy = message->buy;
    char id [TLY_ID_MAX];
    s_purchase_id (record, message->message_id.data, id);
    //  Its purchase ID names the message a PurchaseRecorded is for.
    const Tally__Event *event = audit_derive_next_event (record,
                                                         TALLY__EVENT__KIND_PURCHASE_RECORDED);
    if (!event || !audit_derive_same_text (event->purchase_recorded->purchase_id, id))
        return audit_derive_fail (
            record,
            "the record has no PurchaseRecorded for it; the envelope and the state"
            " give one with balance_after %" PRId64 " (purchase %s)",
            expected->balance, id);
    record->next_event++;
    const Tally__PurchaseRecorded *recorded = event->purchase_recorded;
    AUDIT_DERIVE_SAME (record, "PurchaseRecorded says amount", recorded->amount, expected->charge);
    AUDIT_DERIVE_SAME (record, "PurchaseRecorded says balance_after", recorded->balance_after,
                       expected->balance);
    AUDIT_DERIVE_SAME (record, "PurchaseRecorded says timestamp", recorded->timestamp,
                       record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "PurchaseRecorded's item_id", recorded->item_id, buy->item_id);
    const Tally__PurchaseRecord *purchase = result->purchase;
    AUDIT_DERIVE_SAME (record, "the result says amount", purchase->amount, expected->charge);
    AUDIT_DERIVE_SAME (record, "the result says balanceAfter", purchase->balance_after,
                       expected->balance);
    AUDIT_DERIVE_SAME (record, "the result says timestamp", purchase->timestamp, record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's itemId", purchase->item_id, buy->item_id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's purchase ID", purchase->id, id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's user ID", purchase->user_id, record->user_id);
    //  The record that made it, which a refund's event names (0 in a journal
    //  written before purchases named it: no refund reads a purchase by it).
    if (purchase->partition_seq != 0)
        AUDIT_DERIVE_SAME (record, "the result says partitionSeq", purchase->partition_seq,
                           record->draft->partition_seq);
    if ((purchase->refund_id && *purchase->refund_id) || purchase->refunded_at)
        return audit_derive_fail (record, "the result names a refund of a purchase just made");
    return 0;
}

//  The state after the message's event.
static void
s_apply (audit_derive_record_t *record, const Tally__InboxMessage *message,
         audit_account_t **account_p, const audit_derive_expected_t *expected)
{
    audit_derive_t *self = record->self;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT) {
        assert (!*account_p);
        *account_p = audit_state_add (self->accounts, record->user, record->partition);
        self->partitions [record->partition].accounts++;
    }
    (*account_p)->balance = expected->balance;
    (*account_p)->last_updated = record->now_ms;
}

static void
s_take_token (audit_account_t *account, const audit_derive_expected_t *expected)
{
    account->bucket_tokens = expected->bucket.tokens;
    account->bucket_ms = expected->bucket.at_ms;
}

//  A message never decided before: its result and event must be what the
//  rules give.
static int
s_check_new (audit_derive_record_t *record, const Tally__InboxMessage *message,
             const Tally__MessageResult *result, audit_account_t **account_p)
{
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND)
        return audit_derive_check_refund (record, message, result);
    if (tly_order_message (message))
        return audit_derive_check_order (record, message, result);
    audit_derive_expected_t expected;
    s_expect (record, message, *account_p, result, &expected);
    if (expected.unknown_config) {
        //  Decided under a configuration verify does not know: as said.
        if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ERROR
            && (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_CONFIG || !result->config))
            return audit_derive_fail (record,
                                      "the result is %s; a configuration message gives a"
                                      " configuration change or a refusal",
                                      audit_derive_outcome (result));
        return 0;
    }
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR) {
        //  The actor checks its limits before the state: a configured
        //  refusal stands whatever the state would have said.
        Tally__ErrorCode code = result->error ? result->error->code : TALLY__ERROR_CODE__OK;
        if (code == expected.error) {
            if (code == TALLY__ERROR_CODE__RATE_LIMITED)
                AUDIT_DERIVE_SAME (record, "RATE_LIMITED says retry_after_ms",
                                   result->error->retry_after_ms, expected.retry_ms);
            if (expected.takes)
                s_take_token (*account_p, &expected);
            return 0;
        }
        if (code != TALLY__ERROR_CODE__OK && (expected.instead & audit_derive_code (code)))
            return 0;
        if (expected.error == TALLY__ERROR_CODE__OK)
            return audit_derive_fail (record,
                                      "the result is %s; the envelope and the state give %s",
                                      audit_derive_outcome (result),
                                      expected.event   ? "an event"
                                      : expected.taken ? "the first adjustment of its reference"
                                      : tly_config_message (message) ? "a configuration change"
                                                                     : "a balance");
        return audit_derive_fail (record, "the result is %s; the envelope and the state give %s",
                                  audit_derive_outcome (result), tly_error_name (expected.error));
    }
    if (expected.error != TALLY__ERROR_CODE__OK)
        return audit_derive_fail (record, "the result is %s; the envelope and the state give %s",
                                  audit_derive_outcome (result), tly_error_name (expected.error));
    if (expected.target) {
        if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT
            || !result->adjustment)
            return audit_derive_fail (
                record, "the result is %s; the envelope and the state give %s",
                audit_derive_outcome (result),
                expected.taken ? "the first adjustment of its reference" : "an adjustment");
        return audit_derive_check_adjusted (record, message, result, &expected);
    }
    if (tly_config_message (message)) {
        if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_CONFIG || !result->config)
            return audit_derive_fail (record,
                                      "the result is %s; the envelope and the configuration give"
                                      " a configuration change",
                                      audit_derive_outcome (result));
        return audit_derive_check_configured (record, message, result);
    }
    bool create = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    Tally__MessageResult__OutcomeCase outcome = create ? TALLY__MESSAGE_RESULT__OUTCOME_BALANCE
                                                       : TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    if (result->outcome_case != outcome || (create ? !result->balance : !result->purchase))
        return audit_derive_fail (record, "the result is %s; the envelope and the state give %s",
                                  audit_derive_outcome (result),
                                  create ? "a balance" : "a purchase");
    int rc = create ? s_check_created (record, message, result, &expected)
                    : s_check_purchase (record, message, result, &expected);
    if (rc == 0 && expected.event)
        s_apply (record, message, account_p, &expected);
    if (rc == 0 && expected.takes)
        s_take_token (*account_p, &expected);
    return rc;
}

//  A resend: the first result again, and nothing changed. An event for it
//  would apply it twice.
static int
s_check_resend (audit_derive_record_t *record, const Tally__InboxMessage *message,
                const Tally__MessageResult *result, const audit_derive_seen_t *seen)
{
    record->self->stats.resends++;
    const Tally__RecordDraft *draft = record->draft;
    if (record->next_event < draft->n_events
        && message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY) {
        const Tally__Event *event = draft->events [record->next_event];
        char id [TLY_ID_MAX];
        s_purchase_id (record, message->message_id.data, id);
        if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
            && audit_derive_same_text (event->purchase_recorded->purchase_id, id))
            return audit_derive_fail (record,
                                      "its message ID was decided before: the record applies it"
                                      " again (PurchaseRecorded for it)");
    }
    if (audit_derive_adjusts_again (record, message)
        || audit_derive_refunds_again (record, message))
        return audit_derive_fail (record, "its message ID was decided before: the record applies it"
                                          " again (BalanceAdjusted for it)");
    if (audit_derive_orders_again (record, message))
        return audit_derive_fail (record, "its message ID was decided before: the record applies it"
                                          " again (OrderChanged for it)");
    if (audit_derive_digest (record->self, result) != seen->digest)
        return audit_derive_fail (record,
                                  "its message ID was decided before: a resend is answered with"
                                  " its first result, and the record answers %s, not that",
                                  audit_derive_outcome (result));
    return 0;
}

static int
s_check_message (audit_derive_record_t *record, audit_account_t **account_p)
{
    audit_derive_t *self = record->self;
    const Tally__InboxMessage *message = record->envelope->messages [record->index];
    const Tally__MessageResult *result = record->draft->results [record->index];
    record->message = message;
    if (result->message_id.len != message->message_id.len
        || (message->message_id.len
            && memcmp (result->message_id.data, message->message_id.data, message->message_id.len)))
        return audit_derive_fail (record, "its result answers another message ID");
    bool refused = result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    Tally__ErrorCode code = refused && result->error ? result->error->code : TALLY__ERROR_CODE__OK;
    if (message->message_id.len != TLY_MESSAGE_ID_BYTES) {
        //  Nothing to remember it by: refused, never stored.
        if (code != TALLY__ERROR_CODE__BAD_REQUEST)
            return audit_derive_fail (
                record, "the result is %s; a message ID of %zu bytes gives BAD_REQUEST",
                audit_derive_outcome (result), message->message_id.len);
        return 0;
    }
    //  Refused on the actor's dedupe clock: nothing changed, nothing stored.
    if (code == TALLY__ERROR_CODE__STALE_MESSAGE_ID)
        return 0;
    const uint8_t *message_id = message->message_id.data;
    uint64_t fingerprint = audit_derive_fingerprint (self, record->partition, record->user,
                                                     message_id);
    const audit_derive_seen_t *seen = audit_derive_seen_find (self, fingerprint);
    if (seen)
        return s_check_resend (record, message, result, seen);
    int64_t made_ms = tly_message_id_time (message_id);
    if (made_ms < record->clock_ms - self->window_ms)
        return audit_derive_fail (
            record,
            "its message ID was made at %" PRId64 ", more than the dedupe window"
            " (%" PRId64 " ms) before the actor's clock (%" PRId64
            "): an actor refuses it STALE_MESSAGE_ID, as it can no longer tell a resend"
            " (if the actors run with a longer --dedupe-window-ms, give verify the same)",
            made_ms, self->window_ms, record->clock_ms);
    if (s_check_new (record, message, result, account_p) == -1)
        return -1;
    //  Refused on the rate limit: not remembered, the same message may come again.
    if (code != TALLY__ERROR_CODE__RATE_LIMITED)
        audit_derive_seen_add (self, fingerprint, record->partition, made_ms,
                               audit_derive_digest (self, result));
    return 0;
}

//  Whether the record's partition's state before it is known; counts it if not.
static bool
s_known (audit_derive_t *self, const Tally__RecordDraft *draft)
{
    audit_derive_partition_t *partition = &self->partitions [draft->partition];
    if (partition->known && draft->partition_seq == partition->partition_seq + 1)
        return true;
    if (draft->partition_seq == 1 && partition->accounts == 0) {
        //  The partition's first record: it starts from nothing.
        partition->known = true;
        partition->partition_seq = 0;
        return true;
    }
    partition->known = false;
    if (self->stats.not_derived++ == 0) {
        self->stats.first_not_derived = draft->partition_seq;
        self->stats.first_not_derived_partition = draft->partition;
    }
    if (!partition->not_derived) {
        partition->not_derived = true;
        self->stats.partitions_not_derived++;
    }
    return false;
}

int
audit_derive_record (audit_derive_t *self, const Tally__RecordDraft *draft,
                     const Tally__Envelope *envelope, char *reason, size_t reason_size)
{
    assert (self && draft && envelope && reason && reason_size > 0);
    assert (draft->partition < TLY_PARTITIONS_MAX);
    assert (envelope->sender.len == TLY_KEY_BYTES);
    audit_derive_partition_t *partition = &self->partitions [draft->partition];
    audit_derive_record_t record = { .self = self,
                                     .draft = draft,
                                     .envelope = envelope,
                                     .user = envelope->sender.data,
                                     .partition = draft->partition,
                                     .now_ms = draft->timestamp_ms,
                                     .reason = reason,
                                     .reason_size = reason_size };
    tly_account_id (record.user, record.user_id);
    if (self->has_worker)
        record.worker = self->worker;
    else if (envelope->inbox.len == TLY_KEY_BYTES)
        record.worker = envelope->inbox.data;
    //  Every record names the configuration in force, derived or not.
    if (audit_derive_config_begin (&record) == -1)
        return -1;
    if (!s_known (self, draft))
        return audit_derive_config_take (&record);
    if (draft->timestamp_ms > partition->clock_ms)
        partition->clock_ms = draft->timestamp_ms;
    record.clock_ms = partition->clock_ms;
    const Tally__RateLimit *rate = draft->rate_limit;
    if (rate && rate->per_minute > 0 && !tly_rate_limit_valid (rate->per_minute, rate->burst))
        return audit_derive_fail (&record,
                                  "the record's rate limit (%" PRIu32 " a minute, burst %" PRIu32
                                  ") is out of range",
                                  rate->per_minute, rate->burst);
    if (draft->n_results != envelope->n_messages)
        return audit_derive_fail (&record,
                                  "the record has %zu results for the envelope's %zu messages",
                                  draft->n_results, envelope->n_messages);
    //  A credit or debit goes to its user's partition, a refund to its
    //  purchase's, an order message naming an order to the order's, a
    //  configuration message to partition 0, any other message (a
    //  createOrder too) to the sender's: then the sender's account must be
    //  in the record's.
    bool senders = false;
    bool credit;
    for (size_t i = 0; i < envelope->n_messages; i++)
        senders |= !audit_derive_adjustment (envelope->messages [i], &credit)
                   && !tly_config_message (envelope->messages [i])
                   && envelope->messages [i]->body_case != TALLY__INBOX_MESSAGE__BODY_REFUND
                   && !tly_order_message_id (envelope->messages [i]);
    audit_account_t *account = audit_state_find (self->accounts, record.user);
    if (senders && account && account->partition != draft->partition)
        return audit_derive_fail (&record, "the user's account is in partition %" PRIu32,
                                  account->partition);
    for (record.index = 0; record.index < envelope->n_messages; record.index++)
        if (s_check_message (&record, &account) == -1)
            return -1;
    record.message = NULL;
    if (record.next_event < draft->n_events)
        return audit_derive_fail (&record,
                                  "event %zu of %zu follows from no message of the envelope",
                                  record.next_event + 1, draft->n_events);
    if (audit_derive_config_end (&record) == -1)
        return -1;
    partition->partition_seq = draft->partition_seq;
    self->stats.derived++;
    return 0;
}

bool
audit_derive_at (audit_derive_t *self, uint32_t partition, uint64_t partition_seq)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    const audit_derive_partition_t *state = &self->partitions [partition];
    return state->known && state->partition_seq == partition_seq;
}

//  ---------------------------------------------------------------- snapshots

int
audit_derive_load_begin (audit_derive_t *self, uint32_t partition, uint64_t partition_seq,
                         int64_t clock_ms)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    audit_derive_partition_t *state = &self->partitions [partition];
    if (state->accounts > 0)
        return -1;
    state->known = true;
    state->partition_seq = partition_seq;
    if (clock_ms > state->clock_ms)
        state->clock_ms = clock_ms;
    self->stats.snapshots++;
    return 0;
}

int
audit_derive_load_account (audit_derive_t *self, uint32_t partition,
                           const uint8_t user [TLY_KEY_BYTES], int64_t balance,
                           int64_t last_updated, int64_t bucket_tokens, int64_t bucket_ms)
{
    assert (self && partition < TLY_PARTITIONS_MAX && user);
    if (audit_state_find (self->accounts, user) || balance < 0)
        return -1;
    audit_account_t *account = audit_state_add (self->accounts, user, partition);
    account->balance = balance;
    account->last_updated = last_updated;
    account->bucket_tokens = bucket_tokens;
    account->bucket_ms = bucket_ms;
    self->partitions [partition].accounts++;
    return 0;
}

int
audit_derive_load_holds (audit_derive_t *self, uint32_t partition,
                         const uint8_t user [TLY_KEY_BYTES], int64_t held, uint32_t orders_open)
{
    assert (self && partition < TLY_PARTITIONS_MAX && user);
    audit_account_t *account = audit_state_find (self->accounts, user);
    if (!account || account->partition != partition || held < 0 || held > account->balance
        || orders_open > TLY_ORDER_OPEN_MAX)
        return -1;
    account->held = held;
    account->orders_open = orders_open;
    return 0;
}

void
audit_derive_load_result (audit_derive_t *self, uint32_t partition,
                          const uint8_t user [TLY_KEY_BYTES],
                          const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                          const Tally__MessageResult *result)
{
    assert (self && partition < TLY_PARTITIONS_MAX && user && message_id && result);
    audit_derive_seen_add (self, audit_derive_fingerprint (self, partition, user, message_id),
                           partition, tly_message_id_time (message_id),
                           audit_derive_digest (self, result));
}


int
audit_derive_balance (audit_derive_t *self, uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                      int64_t *balance)
{
    assert (self && user && balance);
    const audit_account_t *account = audit_state_find (self->accounts, user);
    if (!account || account->partition != partition)
        return -1;
    *balance = account->balance;
    return 0;
}

int
audit_derive_held (audit_derive_t *self, uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                   int64_t *held, uint32_t *orders_open)
{
    assert (self && user && held && orders_open);
    const audit_account_t *account = audit_state_find (self->accounts, user);
    if (!account || account->partition != partition)
        return -1;
    *held = account->held;
    *orders_open = account->orders_open;
    return 0;
}

uint64_t
audit_derive_accounts (audit_derive_t *self, uint32_t partition)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    return self->partitions [partition].accounts;
}

void
audit_derive_stats (audit_derive_t *self, audit_derive_stats_t *stats)
{
    assert (self && stats);
    *stats = self->stats;
    stats->config_version = self->version;
}
