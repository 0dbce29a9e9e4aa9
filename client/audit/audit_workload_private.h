//  audit_workload_private - what the parts of the workload share:
//  audit_workload.c (users, buys, refunds, the journal) and
//  audit_workload_orders.c (the catalog and orders). Not for users:
//  include audit_workload.h instead.
#ifndef AUDIT_WORKLOAD_PRIVATE_H_INCLUDED
#define AUDIT_WORKLOAD_PRIVATE_H_INCLUDED

#include "audit_workload.h"
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_ledger.h"

#define AUDIT_WORKLOAD_ORDER_ODDS     4    //  1 in this many records (mixed) is of orders
#define AUDIT_WORKLOAD_ORDERS_KEPT    256  //  orders the workload follows, which messages pick from
#define AUDIT_WORKLOAD_HOARDER        0    //  the user who keeps creating drafts, past the limit
#define AUDIT_WORKLOAD_LONG_ERROR     300  //  bytes: past TLY_ORDER_ERROR_MAX
#define AUDIT_WORKLOAD_PRICE          30  //  the catalog's price of its first item (mixed), then ...
#define AUDIT_WORKLOAD_PRICE_LATER    35  //  ... from the middle record on
#define AUDIT_WORKLOAD_PURCHASES_KEPT 64  //  the latest purchases, which refunds pick from
#define AUDIT_WORKLOAD_ITEM_KINDS     16

//  An order the workload follows.
typedef struct {
    char id [TLY_ID_MAX];  //  "": an empty slot
    uint32_t user;         //  its user's index
    uint32_t partition;
    Tally__OrderStatus status;
} audit_workload_order_t;

struct _audit_workload_t {
    audit_workload_config_t config;
    audit_workload_user_t *users;
    uint64_t *partition_seqs;  //  [partitions]
    uint64_t *epochs;          //  [partitions]
    uint64_t random;           //  splitmix64 state
    uint64_t events;
    uint64_t messages;
    tly_arena_t *arena;  //  one commit's drafts
    //  While the journal is written: the balance actor's own ledger, in a
    //  scratch directory, decides each message.
    tly_ledger_t *ledger;
    bool written;
    //  A mixed workload's latest purchases (a ring), which the worker
    //  refunds, some of them twice.
    char purchases [AUDIT_WORKLOAD_PURCHASES_KEPT][TLY_ID_MAX];
    uint64_t purchase_count;
    //  A mixed workload's orders it follows (the latest, final ones let go
    //  first), which its order messages pick from; what became of them.
    audit_workload_order_t orders [AUDIT_WORKLOAD_ORDERS_KEPT];
    uint64_t order_changes;
    uint64_t orders_completed;
    uint64_t order_refusals [64];  //  by error code
    uint64_t held_refusals;
};

//  Item names, with one that needs escaping in JSON; the first is the
//  mixed workload's catalog item.
extern const char *audit_workload_items [AUDIT_WORKLOAD_ITEM_KINDS];

//  Uniform enough in [0, bound) for a workload.
uint64_t audit_workload_below (audit_workload_t *self, uint64_t bound);
void audit_workload_random_bytes (audit_workload_t *self, uint8_t *out, size_t size);
//  A message with a fresh random ID made at now_ms.
Tally__InboxMessage *audit_workload_new_message (audit_workload_t *self, int64_t now_ms);
//  A createAccount or buy of user (first: the envelope's first message).
Tally__InboxMessage *audit_workload_message (audit_workload_t *self,
                                             const audit_workload_user_t *user, bool first,
                                             int64_t now_ms);
//  The draft an actor makes of sender's envelope (signed with sign_sk),
//  decided by the ledger in its open transaction; user (NULL: none) is the
//  sender's, whose state its events follow. NULL when the ledger failed.
Tally__RecordDraft *audit_workload_decided (audit_workload_t *self, Tally__Envelope *envelope,
                                            const uint8_t *sign_sk, const tly_ledger_user_t *sender,
                                            audit_workload_user_t *user, int64_t now_ms);

//  An order changed (audit_workload_orders.c): followed, its user's
//  balance and held amount too.
void audit_workload_follow_order (audit_workload_t *self, const Tally__OrderChanged *changed);
//  The worker's setPrice of the catalog item at price.
Tally__RecordDraft *audit_workload_price_draft (audit_workload_t *self, int64_t now_ms,
                                                const tly_account_t *worker, int64_t price);
//  An envelope of order messages (record index).
Tally__RecordDraft *audit_workload_order_draft (audit_workload_t *self, uint64_t index,
                                                int64_t now_ms, const tly_account_t *worker);

#endif
