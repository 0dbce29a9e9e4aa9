//  audit_workload - writes a realistic journal, for the replay benchmark and
//  the audit tools' tests: envelopes signed by real keys, the events and
//  results a balance actor decides (rejections included: each message is
//  decided by the actor's own ledger, tly_ledger, in a scratch directory),
//  partition sequences and epochs, and checkpoints signed by a worker where
//  the writer signs them (tly_journal_append_batch).
//
//      audit_workload_t *workload = audit_workload_new (&config);
//      audit_workload_write (workload, dir, &worker);
//      audit_workload_user (workload, 0)->balance;     //  what replay must find
#ifndef AUDIT_WORKLOAD_H_INCLUDED
#define AUDIT_WORKLOAD_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_account.h"
#include "tly_limits.h"

#define AUDIT_WORKLOAD_COMMIT 256  //  records appended per transaction

typedef struct {
    uint32_t users;       //  distinct accounts, >= 1
    uint64_t records;     //  envelopes, one record each
    uint32_t per_record;  //  messages per envelope, 1..TLY_BATCH_MAX
    uint32_t partitions;  //  the cluster's partition count
    //  false: each user's first record opens the account and every buy
    //  succeeds (the benchmark); true: a random mix of users and messages with
    //  rejections, repeated createAccounts, resends of a message in the same
    //  envelope, the worker's refunds of recent purchases (some refunded
    //  before: ALREADY_REFUNDED; some of no purchase: NOT_FOUND), a
    //  catalog of one item whose price the worker changes in the middle,
    //  orders (created, edited, submitted, then completed or failed by the
    //  worker, and refused: every refusal an order message may get with
    //  open prices, which leave no item unknown), buys refused because
    //  orders hold the funds, and epoch changes (the tests).
    bool mixed;
    uint64_t seed;              //  the same seed writes the same journal
    uint64_t checkpoint_every;  //  records between checkpoints, 0 for none
} audit_workload_config_t;

//  A user as the journal leaves them.
typedef struct {
    uint8_t pk [TLY_KEY_BYTES];
    uint8_t sk [TLY_SECRET_KEY_BYTES];
    char id [TLY_ID_MAX];
    uint32_t partition;
    bool exists;
    int64_t balance;
    int64_t held;  //  held for their orders processing
} audit_workload_user_t;

typedef struct _audit_workload_t audit_workload_t;

//  Returns NULL when the config is out of range.
audit_workload_t *audit_workload_new (const audit_workload_config_t *config);
void audit_workload_destroy (audit_workload_t **self_p);
//  Writes the journal into dir (a new directory), once per workload; a
//  ledger in a scratch directory under $TMPDIR decides the messages while
//  it does. worker is the inbox and signs the checkpoints. Returns 0, or -1
//  (logged).
int audit_workload_write (audit_workload_t *self, const char *dir, const tly_account_t *worker);
const audit_workload_user_t *audit_workload_user (audit_workload_t *self, uint32_t index);
//  Events and messages written so far.
uint64_t audit_workload_events (audit_workload_t *self);
uint64_t audit_workload_messages (audit_workload_t *self);
//  Of a mixed workload: order messages the ledger accepted (each one
//  OrderChanged), of them completions, and those it refused with code;
//  buys refused INSUFFICIENT_BALANCE that the balance would have paid for
//  but for what orders held.
uint64_t audit_workload_order_changes (audit_workload_t *self);
uint64_t audit_workload_orders_completed (audit_workload_t *self);
uint64_t audit_workload_order_refusals (audit_workload_t *self, Tally__ErrorCode code);
uint64_t audit_workload_held_refusals (audit_workload_t *self);

#endif
