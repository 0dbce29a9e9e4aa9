//  watch_fixture - keys and signed objects for the read-path tests: a
//  worker, a user, a forger, and the user's balance, root and purchase log
//  as the worker would sign them.
#ifndef WATCH_FIXTURE_H_INCLUDED
#define WATCH_FIXTURE_H_INCLUDED

#include <czmq.h>

#include "fake_gateway.h"
#include "tally.h"
#include "tly_sign.h"

#define WATCH_LOG_MAX    8
#define WATCH_UPDATED_MS 1764226800000LL  //  updated_ms of version v is this + v

typedef struct {
    tly_account_t worker, user, forger;
    char worker_id [TLY_ID_MAX], user_id [TLY_ID_MAX];
    char balance_id [TLY_ID_MAX], root_id [TLY_ID_MAX], purchases_id [TLY_ID_MAX];
} watch_keys_t;

extern watch_keys_t watch_keys;

//  Fresh keys and the user's derived object IDs (256 partitions).
void watch_fixture_init (void);

//  Packs SignedObject {state, signature by signer in domain}; caller frees.
uint8_t *watch_sign (const tly_account_t *signer, tly_domain_t domain,
                     const Tally__ObjectState *state, size_t *size);

//  The user's balance, owned by the worker with the user as reader.
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__UserBalance balance;
    Tally__Group group;
    Tally__GroupMember member;
    Tally__GroupMember *members [1];
} watch_balance_t;

void watch_balance_state (watch_balance_t *b, uint64_t version, int64_t balance);
uint8_t *watch_balance (const tly_account_t *signer, uint64_t version, int64_t balance,
                        size_t *size);
//  The user's root, version 1, naming the balance and purchase log.
uint8_t *watch_root (size_t *size);

//  The user's purchase log at version, count purchases in all, carrying the
//  last n records; record p (1 = first) buys item-p for p, leaving 100 - p.
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__PurchaseLog log;
    Tally__PurchaseRecord records [WATCH_LOG_MAX];
    Tally__PurchaseRecord *list [WATCH_LOG_MAX];
    char ids [WATCH_LOG_MAX][TLY_ID_MAX];
    char items [WATCH_LOG_MAX][32];
    Tally__AdjustmentRecord adjustments [WATCH_LOG_MAX];
    Tally__AdjustmentRecord *adjustment_list [WATCH_LOG_MAX];
    char adjustment_ids [WATCH_LOG_MAX][TLY_ID_MAX];
    char references [WATCH_LOG_MAX][32];
    char notes [WATCH_LOG_MAX][32];
} watch_log_t;

void watch_log_state (watch_log_t *l, uint64_t version, uint64_t count, size_t n);
uint8_t *watch_log (uint64_t version, uint64_t count, size_t n, size_t *size);

//  The same log as a history of purchases and adjustments: entry p is an
//  adjustment when p is a multiple of every, else purchase p. Adjustment p
//  (co_zAdjustmentP, reference ref-P, note "note P", by the worker) credits
//  p when p is odd and debits p when even, leaving 100 + its amount. Every
//  entry's timestamp is WATCH_UPDATED_MS + p.
void watch_history_state (watch_log_t *l, uint64_t version, uint64_t count, size_t n,
                          uint64_t every);
uint8_t *watch_history (uint64_t version, uint64_t count, size_t n, uint64_t every, size_t *size);

//  One adjustment as an object of its own (kind 7), version 1, the
//  adjustment p of watch_history; its ID into id (TLY_ID_MAX bytes).
void watch_adjustment_state (Tally__ObjectState *state, Tally__ObjectValue *value,
                             Tally__AdjustmentRecord *record, uint64_t p, char *id);

//  A purchase of the user as an object of its own (kind 2, the user's
//  partition): item-1 for 25, leaving 75, at WATCH_UPDATED_MS + 1, made by
//  partition record 9; version 1, or refunded: version 2 naming the refund
//  (its AdjustmentRecord ID, reference "refund:" + the purchase's ID) at
//  WATCH_UPDATED_MS + 2.
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__PurchaseRecord record;
    char id [TLY_ID_MAX];
    char refund_id [TLY_ID_MAX];
} watch_purchase_t;

void watch_purchase_state (watch_purchase_t *p, bool refunded);

//  The worker's Catalog at version (of configuration version - 1, as the
//  actor publishes it: docs/protocol.md) with items
//  1..n: item-i at price 10 * i, for sale unless i is a multiple of 3;
//  no group; updated_ms WATCH_UPDATED_MS + version.
#define WATCH_CATALOG_MAX 8
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__Catalog catalog;
    Tally__CatalogItem items [WATCH_CATALOG_MAX];
    Tally__CatalogItem *list [WATCH_CATALOG_MAX];
    char item_ids [WATCH_CATALOG_MAX][32];
    char id [TLY_ID_MAX];
} watch_catalog_t;

void watch_catalog_state (watch_catalog_t *c, uint64_t version, size_t n);
uint8_t *watch_catalog (uint64_t version, size_t n, size_t *size);

//  The fake serves the balance at version, signed by the worker.
void watch_serve_balance (zactor_t *fake, uint64_t version, int64_t balance);

#endif
