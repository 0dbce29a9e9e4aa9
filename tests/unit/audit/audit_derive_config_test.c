//  audit_derive_config_test - verify's derivation of the admin group and the
//  price catalog, on records drafted by hand as the rules give them (the
//  configuration messages decided with tly_config_decide, as an actor
//  decides them): a price set then a buy at it, a buy at the old price after
//  a change (PRICE_MISMATCH), a buy of an item not in the catalog with open
//  prices off (UNKNOWN_ITEM) and on (charged what it names), a non-admin's
//  setPrice refused, an admin added and then their credit taken, a resent
//  setPrice answered as first decided; and each way a record can depart
//  from them is named: a wrong config_version, a configuration that is not
//  the one the messages give (or none, or one where nothing changed, or one
//  out of partition 0), a price or a permission the rules do not give. A
//  walk that starts after the journal's first record checks prices once a
//  record carries the configuration, and counts the records before.
#include "audit_derive.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "derive_fixture.h"
#include "harness.h"
#include "tly_account.h"
#include "tly_arena.h"
#include "tly_config.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_validate.h"

#define S_NOW        1767225600000LL
#define S_PARTITIONS DERIVE_FIXTURE_PARTITIONS
#define S_WINDOW_MS  60000
#define S_RECORDS    DERIVE_FIXTURE_RECORDS

//  The records of a journal drafted by hand, in global order, and the
//  configuration they leave, as an actor decides it.
typedef struct {
    derive_fixture_t fx;
    uint8_t worker [TLY_KEY_BYTES];
    uint8_t admin [TLY_KEY_BYTES];
    uint8_t user [TLY_KEY_BYTES];  //  the buyer, of partition
    uint32_t partition;
    tly_config_t *config;
} s_journal_t;

static void
s_journal_new (s_journal_t *journal)
{
    memset (journal, 0, sizeof *journal);
    derive_fixture_new (&journal->fx, NULL, NULL);
    journal->config = tly_config_new ();
    CHECK (journal->fx.arena && journal->config);
    memset (journal->worker, 0x77, TLY_KEY_BYTES);
    memset (journal->admin, 0x79, TLY_KEY_BYTES);
    //  A buyer of a partition other than 0, where configuration is decided.
    for (uint8_t seed = 0x61; journal->partition == 0; seed++) {
        memset (journal->user, seed, TLY_KEY_BYTES);
        journal->partition = tly_partition_of (journal->user, S_PARTITIONS);
    }
}

static void
s_journal_destroy (s_journal_t *journal)
{
    tly_config_destroy (&journal->config);
    derive_fixture_destroy (&journal->fx);
}

static char *
s_id_of_key (s_journal_t *journal, const uint8_t key [TLY_KEY_BYTES])
{
    char *id = tly_arena_alloc (journal->fx.arena, TLY_ID_MAX);
    tly_account_id (key, id);
    return id;
}

//  ---------------------------------------------------------------- messages

static Tally__InboxMessage *
s_credit (s_journal_t *journal, int64_t made_ms, int64_t amount, const char *reference)
{
    Tally__InboxMessage *message = derive_fixture_message (&journal->fx, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
    message->credit = tly_arena_alloc (journal->fx.arena, sizeof *message->credit);
    tally__adjustment__init (message->credit);
    message->credit->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, journal->user };
    message->credit->amount = amount;
    message->credit->reference = (char *) reference;
    message->credit->note = (char *) "top-up";
    return message;
}

//  ---------------------------------------------------------------- records

//  The next record: sender's envelope of message to the worker, in
//  partition (its next partition seq), at now_ms under the journal's
//  configuration, answered result, with event when there is one.
static Tally__RecordDraft *
s_record (s_journal_t *journal, uint32_t partition, const uint8_t *sender, int64_t now_ms,
          Tally__InboxMessage *message, Tally__MessageResult *result, Tally__Event *event)
{
    CHECK (journal->fx.count < S_RECORDS);
    Tally__Envelope *envelope = tly_arena_alloc (journal->fx.arena, sizeof *envelope);
    tally__envelope__init (envelope);
    envelope->sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) sender };
    envelope->inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, journal->worker };
    envelope->n_messages = 1;
    envelope->messages = tly_arena_alloc (journal->fx.arena, sizeof *envelope->messages);
    envelope->messages [0] = message;
    Tally__RecordDraft *draft = tly_arena_alloc (journal->fx.arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = partition;
    draft->partition_seq = ++journal->fx.partition_seqs [partition];
    draft->epoch = 1;
    draft->timestamp_ms = now_ms;
    draft->config_version = tly_config_version (journal->config);
    draft->n_results = 1;
    draft->results = tly_arena_alloc (journal->fx.arena, sizeof *draft->results);
    draft->results [0] = result;
    result->message_id = message->message_id;
    draft->events = tly_arena_alloc (journal->fx.arena, sizeof *draft->events);
    if (event)
        draft->events [draft->n_events++] = event;
    journal->fx.envelopes [journal->fx.count] = envelope;
    journal->fx.drafts [journal->fx.count++] = draft;
    return draft;
}

static Tally__MessageResult *
s_result (s_journal_t *journal)
{
    Tally__MessageResult *result = tly_arena_alloc (journal->fx.arena, sizeof *result);
    tally__message_result__init (result);
    return result;
}

static Tally__MessageResult *
s_refused (s_journal_t *journal, Tally__ErrorCode code)
{
    Tally__MessageResult *result = s_result (journal);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    result->error = tly_arena_alloc (journal->fx.arena, sizeof *result->error);
    tally__error__init (result->error);
    result->error->code = code;
    result->error->message = (char *) tly_error_default_message (code);
    return result;
}

static Tally__Event *
s_event (s_journal_t *journal, Tally__Event__KindCase kind)
{
    Tally__Event *event = tly_arena_alloc (journal->fx.arena, sizeof *event);
    tally__event__init (event);
    event->kind_case = kind;
    return event;
}

//  The buyer's createAccount, as the rules give it.
static Tally__RecordDraft *
s_created (s_journal_t *journal, int64_t now_ms, int64_t initial)
{
    Tally__InboxMessage *message = derive_fixture_create (&journal->fx, now_ms - 3, initial);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_user_object_key (TLY_OBJ_BALANCE, journal->user, journal->partition, key);
    char *id = tly_arena_alloc (journal->fx.arena, TLY_ID_MAX);
    tly_object_id_of_key (key, id);
    Tally__MessageResult *result = s_result (journal);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    result->balance = tly_arena_alloc (journal->fx.arena, sizeof *result->balance);
    tally__user_balance__init (result->balance);
    result->balance->id = id;
    result->balance->user_id = s_id_of_key (journal, journal->user);
    result->balance->balance = initial;
    result->balance->last_updated = now_ms;
    Tally__Event *event = s_event (journal, TALLY__EVENT__KIND_ACCOUNT_CREATED);
    event->account_created = tly_arena_alloc (journal->fx.arena, sizeof *event->account_created);
    tally__account_created__init (event->account_created);
    event->account_created->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, journal->user };
    event->account_created->balance_id = id;
    event->account_created->initial_balance = initial;
    event->account_created->timestamp = now_ms;
    return s_record (journal, journal->partition, journal->user, now_ms, message, result, event);
}

//  The buyer's buy, charged charge and leaving balance_after.
static Tally__RecordDraft *
s_bought (s_journal_t *journal, int64_t now_ms, Tally__InboxMessage *message, int64_t charge,
          int64_t balance_after)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_purchase_key (journal->partition, journal->user, message->message_id.data, key);
    char *id = tly_arena_alloc (journal->fx.arena, TLY_ID_MAX);
    tly_object_id_of_key (key, id);
    Tally__MessageResult *result = s_result (journal);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    Tally__PurchaseRecord *purchase = tly_arena_alloc (journal->fx.arena, sizeof *purchase);
    tally__purchase_record__init (purchase);
    purchase->id = id;
    purchase->user_id = s_id_of_key (journal, journal->user);
    purchase->item_id = message->buy->item_id;
    purchase->amount = charge;
    purchase->timestamp = now_ms;
    purchase->balance_after = balance_after;
    result->purchase = purchase;
    Tally__Event *event = s_event (journal, TALLY__EVENT__KIND_PURCHASE_RECORDED);
    Tally__PurchaseRecorded *recorded = tly_arena_alloc (journal->fx.arena, sizeof *recorded);
    tally__purchase_recorded__init (recorded);
    recorded->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, journal->user };
    recorded->purchase_id = id;
    recorded->item_id = purchase->item_id;
    recorded->amount = charge;
    recorded->timestamp = now_ms;
    recorded->balance_after = balance_after;
    event->purchase_recorded = recorded;
    Tally__RecordDraft *draft = s_record (journal, journal->partition, journal->user, now_ms,
                                          message, result, event);
    purchase->partition_seq = draft->partition_seq;  //  the record that made it
    return draft;
}

//  A credit of the buyer by sender, taken, leaving balance_after.
static Tally__RecordDraft *
s_credited (s_journal_t *journal, const uint8_t *sender, int64_t now_ms,
            Tally__InboxMessage *message, int64_t balance_after)
{
    const Tally__Adjustment *credit = message->credit;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (journal->partition, journal->user, credit->reference, key);
    char *id = tly_arena_alloc (journal->fx.arena, TLY_ID_MAX);
    tly_object_id_of_key (key, id);
    Tally__MessageResult *result = s_result (journal);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    Tally__AdjustmentRecord *record = tly_arena_alloc (journal->fx.arena, sizeof *record);
    tally__adjustment_record__init (record);
    record->id = id;
    record->user_id = s_id_of_key (journal, journal->user);
    record->amount = credit->amount;
    record->reference = credit->reference;
    record->note = credit->note;
    record->timestamp = now_ms;
    record->balance_after = balance_after;
    record->by = s_id_of_key (journal, sender);
    result->adjustment = record;
    Tally__Event *event = s_event (journal, TALLY__EVENT__KIND_BALANCE_ADJUSTED);
    Tally__BalanceAdjusted *adjusted = tly_arena_alloc (journal->fx.arena, sizeof *adjusted);
    tally__balance_adjusted__init (adjusted);
    adjusted->user = credit->user;
    adjusted->adjustment_id = id;
    adjusted->amount = credit->amount;
    adjusted->reference = credit->reference;
    adjusted->note = credit->note;
    adjusted->timestamp = now_ms;
    adjusted->balance_after = balance_after;
    adjusted->by = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) sender };
    event->balance_adjusted = adjusted;
    return s_record (journal, journal->partition, sender, now_ms, message, result, event);
}

//  A configuration message of sender in partition 0, decided on the
//  journal's configuration as an actor decides it: its ConfigChange or its
//  refusal, and the new configuration when it changed something.
static Tally__RecordDraft *
s_configured (s_journal_t *journal, const uint8_t *sender, int64_t now_ms,
              Tally__InboxMessage *message)
{
    uint64_t version = tly_config_version (journal->config);
    bool changed;
    const char *text;
    Tally__ErrorCode code = tly_config_decide (journal->config, journal->worker, sender, message,
                                               &changed, &text);
    if (changed)
        tly_config_set_version (journal->config, version + 1);
    Tally__MessageResult *result;
    if (code != TALLY__ERROR_CODE__OK)
        result = s_refused (journal, code);
    else {
        result = s_result (journal);
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
        Tally__ConfigChange *change = tly_arena_alloc (journal->fx.arena, sizeof *change);
        tally__config_change__init (change);
        change->version = tly_config_version (journal->config);
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
            const tly_config_item_t *item = tly_config_item (journal->config,
                                                             message->set_price->item_id);
            change->item = tly_arena_alloc (journal->fx.arena, sizeof *change->item);
            tally__catalog_item__init (change->item);
            change->item->item_id = tly_arena_strdup (journal->fx.arena, item->item_id);
            change->item->price = item->price;
            change->item->active = item->active;
        } else
            change->admin_id = s_id_of_key (journal, message->add_admin->account.data);
        result->config = change;
    }
    Tally__RecordDraft *draft = s_record (journal, 0, sender, now_ms, message, result, NULL);
    draft->config_version = version;
    if (changed)
        draft->config = tly_config_to_proto (journal->config, journal->fx.arena);
    return draft;
}

//  ---------------------------------------------------------------- checks

static audit_derive_t *
s_derive_new (const s_journal_t *journal)
{
    audit_derive_t *derive = audit_derive_new (S_WINDOW_MS);
    CHECK (derive);
    audit_derive_set_worker (derive, journal->worker);
    return derive;
}

//  A new derivation of records 0 .. last, which must fail naming text.
static void
s_fails (const s_journal_t *journal, size_t last, const char *text)
{
    char reason [AUDIT_DERIVE_REASON_MAX];
    reason [0] = 0;
    audit_derive_t *derive = s_derive_new (journal);
    int rc = derive_fixture_derive (&journal->fx, derive, 0, last, reason);
    if (rc != -1 || !strstr (reason, text)) {
        fprintf (stderr, "record %zu: expected a failure with '%s', got %d '%s'\n", last, text, rc,
                 reason);
        CHECK (false);
    }
    audit_derive_destroy (&derive);
}

//  The draft's only result made to say what result says (its message ID
//  kept), and back: kept holds what it said.
static void
s_swap_outcome (Tally__RecordDraft *draft, const Tally__MessageResult *result,
                Tally__MessageResult *kept)
{
    *kept = *draft->results [0];
    *draft->results [0] = *result;
    draft->results [0]->message_id = kept->message_id;
}

void
audit_derive_config_test (bool verbose)
{
    if (verbose)
        printf (" * audit_derive_config: ");
    s_journal_t journal;
    s_journal_new (&journal);
    const uint8_t *worker = journal.worker, *admin = journal.admin, *user = journal.user;
    int64_t t = S_NOW;
    char reason [AUDIT_DERIVE_REASON_MAX];
    reason [0] = 0;

    //  0: the worker sets "sword" at 25 (version 1). 1: the buyer's
    //  createAccount(100). 2: a buy of "sword" naming no amount: charged
    //  25. 3: "sword" at 30 (version 2). 4: a buy of "sword" at 25, the old
    //  price: PRICE_MISMATCH. 5: a buy of "gem" (not in the catalog) at 10,
    //  prices closed: UNKNOWN_ITEM. 6: the same, prices open: charged 10.
    //  7: the future admin sets a price: PERMISSION_DENIED. 8: the worker
    //  adds the admin (version 3). 9: the admin credits the buyer 50. 10:
    //  the buyer credits itself: PERMISSION_DENIED. 11: the setPrice of 3
    //  sent again: its first result, nothing decided.
    Tally__InboxMessage *sword_25 = derive_fixture_set_price (&journal.fx, t - 3, "sword", 25,
                                                              true);
    Tally__RecordDraft *priced = s_configured (&journal, worker, t, sword_25);
    CHECK (priced->config && priced->config->version == 1 && priced->config_version == 0);
    s_created (&journal, t + 100, 100);
    Tally__RecordDraft *at_price = s_bought (
        &journal, t + 200, derive_fixture_buy (&journal.fx, t + 197, "sword", 0), 25, 75);
    Tally__InboxMessage *sword_30 = derive_fixture_set_price (&journal.fx, t + 297, "sword", 30,
                                                              true);
    Tally__RecordDraft *repriced = s_configured (&journal, worker, t + 300, sword_30);
    Tally__RecordDraft *old_price = s_record (
        &journal, journal.partition, user, t + 400,
        derive_fixture_buy (&journal.fx, t + 397, "sword", 25),
        s_refused (&journal, TALLY__ERROR_CODE__PRICE_MISMATCH), NULL);
    Tally__RecordDraft *closed = s_record (&journal, journal.partition, user, t + 500,
                                           derive_fixture_buy (&journal.fx, t + 497, "gem", 10),
                                           s_refused (&journal, TALLY__ERROR_CODE__UNKNOWN_ITEM),
                                           NULL);
    Tally__RecordDraft *open = s_bought (
        &journal, t + 600, derive_fixture_buy (&journal.fx, t + 597, "gem", 10), 10, 65);
    open->open_prices = true;
    Tally__RecordDraft *denied_price = s_configured (
        &journal, admin, t + 700, derive_fixture_set_price (&journal.fx, t + 697, "gem", 5, true));
    CHECK (denied_price->results [0]->error->code == TALLY__ERROR_CODE__PERMISSION_DENIED
           && !denied_price->config);
    Tally__RecordDraft *added = s_configured (
        &journal, worker, t + 800, derive_fixture_add_admin (&journal.fx, t + 797, admin));
    CHECK (added->config && added->config->version == 3 && added->config->n_admins == 1);
    Tally__RecordDraft *credited = s_credited (&journal, admin, t + 900,
                                               s_credit (&journal, t + 897, 50, "pay-1"), 115);
    Tally__RecordDraft *denied_credit = s_record (
        &journal, journal.partition, user, t + 1000, s_credit (&journal, t + 997, 5, "pay-2"),
        s_refused (&journal, TALLY__ERROR_CODE__PERMISSION_DENIED), NULL);
    Tally__RecordDraft *resent = s_record (&journal, 0, worker, t + 1100, sword_30,
                                           repriced->results [0], NULL);
    CHECK (journal.fx.count == 12);

    //  What the rules give follows.
    audit_derive_t *derive = s_derive_new (&journal);
    CHECK (derive_fixture_derive (&journal.fx, derive, 0, journal.fx.count - 1, reason) == 0);
    audit_derive_stats_t stats;
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 12 && stats.not_derived == 0 && stats.resends == 1);
    CHECK (stats.config_version == 3 && stats.config_changes == 3 && stats.config_messages == 4
           && stats.config_unknown == 0);
    const tly_config_t *config = audit_derive_config (derive);
    CHECK (config && tly_config_equal (config, journal.config));
    int64_t balance;
    CHECK (audit_derive_balance (derive, journal.partition, user, &balance) == 0 && balance == 115);
    audit_derive_destroy (&derive);

    //  The buy at the price charged another amount.
    at_price->events [0]->purchase_recorded->amount = 30;
    s_fails (&journal, 2, "PurchaseRecorded says amount 30; the envelope and the state give 25");
    at_price->events [0]->purchase_recorded->amount = 25;
    //  The old price taken, or refused otherwise.
    Tally__MessageResult kept;
    s_swap_outcome (old_price, closed->results [0], &kept);
    s_fails (&journal, 4,
             "message 1 of 1 (buy \"sword\" amount 25): the result is UNKNOWN_ITEM; the envelope"
             " and the state give PRICE_MISMATCH");
    *old_price->results [0] = kept;
    //  Prices open, the item not in the catalog is charged what the buy names.
    closed->open_prices = true;
    s_fails (&journal, 5, "the result is UNKNOWN_ITEM; the envelope and the state give an event");
    closed->open_prices = false;
    //  ... and prices closed, it is not.
    open->open_prices = false;
    s_fails (&journal, 6, "the result is a purchase; the envelope and the state give UNKNOWN_ITEM");
    open->open_prices = true;
    //  A non-admin's price taken.
    s_swap_outcome (denied_price, repriced->results [0], &kept);
    s_fails (&journal, 7,
             "(setPrice \"gem\" price 5 on sale): the result is a configuration change; the"
             " envelope and the state give PERMISSION_DENIED");
    *denied_price->results [0] = kept;
    //  A non-admin's credit taken; the admin's refused.
    s_swap_outcome (denied_credit, credited->results [0], &kept);
    s_fails (&journal, 10,
             "the result is an adjustment; the envelope and the state give PERMISSION_DENIED");
    *denied_credit->results [0] = kept;
    s_swap_outcome (credited, denied_credit->results [0], &kept);
    credited->n_events = 0;
    s_fails (&journal, 9,
             "the result is PERMISSION_DENIED; the envelope and the state give an event");
    credited->n_events = 1;
    *credited->results [0] = kept;
    //  A ConfigChange that says another version.
    priced->results [0]->config->version = 2;
    s_fails (&journal, 0, "the result says version 2; the envelope and the state give 1");
    priced->results [0]->config->version = 1;
    //  The resend answered anew.
    Tally__MessageResult answered = *priced->results [0];
    answered.message_id = sword_30->message_id;
    resent->results [0] = &answered;
    s_fails (&journal, 11, "a resend is answered with its first result");
    resent->results [0] = repriced->results [0];

    //  A record that names a version not in force.
    old_price->config_version = 1;
    s_fails (&journal, 4, "the record was decided under config version 1, current 2");
    old_price->config_version = 2;
    //  A configuration not the one the messages give; none where they
    //  changed it; one where they changed nothing; one out of partition 0.
    repriced->config->items [0]->price = 31;
    s_fails (&journal, 3,
             "the record's configuration is not the one its messages give: its item 1 is"
             " \"sword\" price 31 on sale; its messages give \"sword\" price 30 on sale");
    repriced->config->items [0]->price = 30;
    uint8_t other [TLY_KEY_BYTES];
    memset (other, 0x7a, sizeof other);
    added->config->admins [0].data = other;
    s_fails (&journal, 8,
             "the record's configuration is not the one its messages give: its admin 1");
    added->config->admins [0].data = (uint8_t *) admin;
    Tally__Config *carried = repriced->config;
    repriced->config = NULL;
    s_fails (&journal, 3,
             "its configuration messages make config version 2; the record carries no"
             " configuration");
    repriced->config = carried;
    denied_price->config = carried;
    s_fails (&journal, 7,
             "the record carries a configuration (version 2), but its messages change"
             " nothing");
    denied_price->config = NULL;
    old_price->config = added->config;
    s_fails (&journal, 4,
             "the record carries a configuration (version 3): only partition 0's"
             " records change it");
    old_price->config = NULL;
    //  A configuration message out of partition 0 is refused.
    Tally__Config *first = priced->config;
    priced->partition = journal.partition;
    priced->config = NULL;
    s_fails (&journal, 0,
             "the result is a configuration change; the envelope and the state give BAD_REQUEST");
    priced->partition = 0;
    priced->config = first;

    //  A walk from record 4 (the records before not kept), each partition
    //  started from a snapshot: the configuration is not known until
    //  record 8 carries it, so the prices of 4 .. 7 and the setPrice of 7
    //  are taken as said (a refusal another price would give, too), and
    //  counted; from 8 on they are checked.
    for (int other_refusal = 0; other_refusal < 2; other_refusal++) {
        derive = s_derive_new (&journal);
        audit_derive_start_within (derive);
        CHECK (!audit_derive_config (derive));
        CHECK (audit_derive_load_begin (derive, journal.partition, 2, t + 200) == 0);
        CHECK (audit_derive_load_account (derive, journal.partition, user, 75, t + 200, 0, 0) == 0);
        CHECK (audit_derive_load_begin (derive, 0, 2, t + 300) == 0);
        audit_derive_load_result (derive, 0, worker, sword_30->message_id.data,
                                  repriced->results [0]);
        if (other_refusal)
            s_swap_outcome (old_price, closed->results [0], &kept);
        CHECK (derive_fixture_derive (&journal.fx, derive, 4, journal.fx.count - 1, reason) == 0);
        if (other_refusal)
            *old_price->results [0] = kept;
        audit_derive_stats (derive, &stats);
        CHECK (stats.derived == 8 && stats.config_unknown == 5 && stats.config_first_version == 2
               && stats.config_version == 3 && stats.resends == 1);
        config = audit_derive_config (derive);
        CHECK (config && tly_config_equal (config, journal.config));
        audit_derive_destroy (&derive);
    }
    int rc;
    //  The same walk, partition 0's snapshot holding the configuration
    //  (version 2): prices are checked from record 4 on. One of another
    //  version than the first record names is not taken.
    for (int version = 2; version >= 1; version--) {
        derive = s_derive_new (&journal);
        audit_derive_start_within (derive);
        CHECK (audit_derive_load_begin (derive, journal.partition, 2, t + 200) == 0);
        CHECK (audit_derive_load_account (derive, journal.partition, user, 75, t + 200, 0, 0) == 0);
        CHECK (audit_derive_load_begin (derive, 0, 2, t + 300) == 0);
        audit_derive_load_result (derive, 0, worker, sword_30->message_id.data,
                                  repriced->results [0]);
        Tally__Config *held = version == 2 ? repriced->config : priced->config;
        CHECK (audit_derive_load_config (derive, held, reason, sizeof reason) == 0);
        CHECK (derive_fixture_derive (&journal.fx, derive, 4, journal.fx.count - 1, reason) == 0);
        audit_derive_stats (derive, &stats);
        CHECK (stats.config_from_snapshot == (version == 2));
        CHECK (stats.config_unknown == (version == 2 ? 0 : 5));
        audit_derive_destroy (&derive);
    }
    derive = s_derive_new (&journal);
    audit_derive_start_within (derive);
    CHECK (audit_derive_load_begin (derive, journal.partition, 2, t + 200) == 0);
    CHECK (audit_derive_load_account (derive, journal.partition, user, 75, t + 200, 0, 0) == 0);
    CHECK (audit_derive_load_config (derive, repriced->config, reason, sizeof reason) == 0);
    s_swap_outcome (old_price, closed->results [0], &kept);
    rc = derive_fixture_derive (&journal.fx, derive, 4, 4, reason);
    *old_price->results [0] = kept;
    CHECK (rc == -1
           && strstr (reason, "the result is UNKNOWN_ITEM; the envelope and the state give"
                              " PRICE_MISMATCH"));
    audit_derive_destroy (&derive);
    //  Where the records give the configuration, a snapshot's must be it.
    derive = s_derive_new (&journal);
    CHECK (derive_fixture_derive (&journal.fx, derive, 0, 3, reason) == 0);
    CHECK (audit_derive_load_config (derive, repriced->config, reason, sizeof reason) == 0);
    CHECK (audit_derive_load_config (derive, priced->config, reason, sizeof reason) == -1);
    CHECK (strstr (reason, "the state snapshot of partition 0 holds another configuration than the"
                           " records give: it says version 1; the records give 2"));
    CHECK (audit_derive_load_config (derive, NULL, reason, sizeof reason) == -1);
    audit_derive_destroy (&derive);

    //  A walk from record 1: the buy naming no amount is charged as the
    //  record says, the configuration is taken from record 3 (partition
    //  0's records are not derived: their state is not known), and checked
    //  from there on.
    derive = s_derive_new (&journal);
    audit_derive_start_within (derive);
    CHECK (derive_fixture_derive (&journal.fx, derive, 1, journal.fx.count - 1, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 7 && stats.not_derived == 4 && stats.config_unknown == 2
           && stats.config_first_version == 1 && stats.config_version == 3);
    CHECK (audit_derive_balance (derive, journal.partition, user, &balance) == 0 && balance == 115);
    audit_derive_destroy (&derive);
    derive = s_derive_new (&journal);
    audit_derive_start_within (derive);
    s_swap_outcome (old_price, closed->results [0], &kept);
    rc = derive_fixture_derive (&journal.fx, derive, 1, 4, reason);
    CHECK (rc == -1
           && strstr (reason, "the result is UNKNOWN_ITEM; the envelope and the state give"
                              " PRICE_MISMATCH"));
    *old_price->results [0] = kept;
    audit_derive_destroy (&derive);
    //  A not derived record's configuration must still be the next version.
    for (uint64_t version = 1; version <= 3; version += 2) {
        derive = s_derive_new (&journal);
        audit_derive_start_within (derive);
        repriced->config->version = version;
        rc = derive_fixture_derive (&journal.fx, derive, 1, 3, reason);
        char expected [128];
        snprintf (expected, sizeof expected,
                  "the record carries config version %" PRIu64
                  ", not the one after the one in force (1)",
                  version);
        CHECK (rc == -1 && strstr (reason, expected));
        repriced->config->version = 2;
        audit_derive_destroy (&derive);
    }
    //  A walk from a record of version 0 knows the configuration: the empty one.
    derive = s_derive_new (&journal);
    audit_derive_start_within (derive);
    CHECK (derive_fixture_derive (&journal.fx, derive, 0, journal.fx.count - 1, reason) == 0);
    audit_derive_stats (derive, &stats);
    CHECK (stats.derived == 12 && stats.config_unknown == 0 && stats.config_changes == 3);
    audit_derive_destroy (&derive);

    s_journal_destroy (&journal);
    if (verbose)
        printf ("OK\n");
}
