//  audit_state - balances rebuilt from nothing by applying every event of
//  the journal in order (`tally audit replay`), in an open-addressing table
//  keyed by user key (no allocation per event).
//
//      audit_state_t *state = audit_state_new ();
//      audit_state_replay (state, journal, &progress);
//      audit_state_stats (state, &stats);
//      audit_state_find (state, user)->balance;
#ifndef AUDIT_STATE_H_INCLUDED
#define AUDIT_STATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "audit_orders.h"
#include "audit_progress.h"
#include "tly_config.h"
#include "tly_journal.h"
#include "tly_limits.h"

#define AUDIT_PROBLEMS_KEPT 100  //  inconsistencies a replay keeps the text of
#define AUDIT_PROBLEM_MAX   256  //  bytes of one inconsistency's text

typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    int64_t balance;
    int64_t last_updated;   //  Unix ms of its last event (verify's derived state)
    int64_t bucket_tokens;  //  its rate limit bucket (verify's derived state; tly_rate.h)
    int64_t bucket_ms;
    int64_t held;          //  held for orders processing: 0 <= held <= balance
    uint32_t orders_open;  //  orders in draft or processing (verify's derived state)
    uint32_t partition;    //  of the record that created it
    bool used;             //  the slot holds an account
    bool matched;          //  compare: an actor's ledger has it
} audit_account_t;

typedef struct {
    uint64_t records;
    uint64_t events;
    uint64_t accounts;
    uint64_t purchases;
    uint64_t adjustments;     //  credits and debits (BalanceAdjusted), refunds included
    uint64_t refunds;         //  of those, refunds (refund_of a purchase)
    uint64_t orders;          //  orders created (OrderChanged), final ones included
    uint64_t orders_open;     //  of those, in draft or processing
    uint64_t order_changes;   //  OrderChanged events applied
    uint64_t last_seq;        //  the last record applied
    uint64_t config_version;  //  the configuration the records leave
    uint64_t config_changes;  //  records that changed it
    int64_t balance_sum;
    int64_t held_sum;    //  held for orders processing, of every account
    bool sum_overflows;  //  balance_sum is meaningless then
    uint64_t problems;   //  inconsistencies found
} audit_stats_t;

typedef struct _audit_state_t audit_state_t;

audit_state_t *audit_state_new (void);
void audit_state_destroy (audit_state_t **self_p);
//  Applies every record of the journal's snapshot after the last one applied
//  (so after a refresh it continues). Inconsistent events (a purchase, a
//  credit or a debit that does not follow the balance, a refund that is not
//  of a purchase of its partition made before it, or of one refunded
//  before, a credit taking a refund's reference, ...) are counted and
//  kept as problems, and so is a record that does not name the
//  configuration in force (config_version), or carries one out of
//  partition 0, not of the version after the one it was decided under, or
//  against the rules of a Config; a record of partition 0 that carries one (config)
//  puts it in force.
//  Returns 0, or -1 when the journal could not be read or a record does not
//  decode (one line on stderr).
int audit_state_replay (audit_state_t *self, tly_journal_t *journal, audit_progress_t *progress);
//  NULL when the user has no account.
audit_account_t *audit_state_find (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES]);
//  Adds user's account, which must not exist yet, in partition (balance 0:
//  the caller sets it). For a state built other than by replay (verify's).
audit_account_t *audit_state_add (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES],
                                  uint32_t partition);
//  Slots 0 .. capacity - 1; a slot holds an account when ->used.
size_t audit_state_capacity (audit_state_t *self);
audit_account_t *audit_state_slot (audit_state_t *self, size_t index);
//  The configuration the records applied leave (version 0, empty, before
//  any record changed it).
const tly_config_t *audit_state_config (audit_state_t *self);
//  The last partition seq applied for partition (0 when none).
uint64_t audit_state_partition_seq (audit_state_t *self, uint32_t partition);
void audit_state_stats (audit_state_t *self, audit_stats_t *stats);
//  The orders the records applied leave (status, total, version, user).
audit_orders_t *audit_state_orders (audit_state_t *self);
//  The text of problem index (< min (stats.problems, AUDIT_PROBLEMS_KEPT)).
const char *audit_state_problem (audit_state_t *self, size_t index);

#endif
