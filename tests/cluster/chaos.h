//  chaos - a seeded chaos run of a whole tally cluster: client threads
//  under load keep a history of every message they send, a scheduler
//  injects faults at seeded times, and a checker proves the guarantees from
//  the histories and the journal (chaos_check.c).
#ifndef CHAOS_H_INCLUDED
#define CHAOS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "it_cluster.h"
#include "tly_limits.h"

//  What a client knows of one message it sent.
typedef enum {
    CHAOS_UNANSWERED = 0,  //  no definitive answer (yet): it may or may not have applied
    CHAOS_OK = 1,          //  answered with a purchase or a balance
    CHAOS_REFUSED = 2      //  answered with a per-message error, which is journaled too
} chaos_state_t;

//  One message of a history, or of the journal: the same shape, so that
//  the checker joins the two by key.
typedef struct {
    uint64_t sender;                    //  FNV-1a of the sender's account ID
    uint8_t id [TLY_MESSAGE_ID_BYTES];  //  the message ID
    uint8_t state;                      //  chaos_state_t
    uint8_t stale;                      //  a resend was answered STALE_MESSAGE_ID
    uint8_t purchase;                   //  CHAOS_OK: a purchase (else a balance or adjustment)
    int32_t code;                       //  CHAOS_REFUSED: the error code
    int64_t value;                      //  CHAOS_OK: balance_after, or the balance
    uint64_t result_id;                 //  CHAOS_OK: FNV-1a of the purchase, balance or
                                        //  adjustment ID
    uint64_t seq;                       //  journal: the record's seq
} chaos_msg_t;

//  A growing array of messages.
typedef struct {
    chaos_msg_t *items;
    size_t count;
    size_t size;
} chaos_msgs_t;

//  The figures a run prints, and the first property a run violated.
typedef struct {
    uint64_t seed;
    uint64_t faults [16];  //  per fault type (chaos_fault_t, chaos_private.h)
    uint64_t slow_fired;   //  slow disks whose fsync delay fired (the audit writer's log)
    uint64_t envelopes;
    uint64_t resent_bytes;   //  the same signed bytes again
    uint64_t resent_sealed;  //  the same message IDs in a newly signed envelope
    uint64_t send_failures;  //  sends that got no answer (timeout, unavailable, ...)
    uint64_t sent;           //  messages
    uint64_t acknowledged;   //  answered definitively
    uint64_t unanswered;
    uint64_t unanswered_applied;  //  unanswered, and in the journal once
    uint64_t lost;                //  acknowledged, not in the journal
    uint64_t different;           //  in the journal with another result
    uint64_t twice;               //  in the journal more than once
    uint64_t watch_updates;       //  watchers' updates, each one version after the last
    uint64_t watch_snapshots;
    uint64_t watch_gaps;  //  versions missing, repaired by the SDK (a resubscribe)
    uint64_t watch_resubscribes;
    uint64_t records;
    uint64_t journaled;  //  message results in the journal
    uint64_t purchases;
    uint64_t accounts;
    uint64_t credits;           //  the worker's credits and debits in the journal (not refunds)
    uint64_t credits_sent;      //  credit messages the clients sent
    uint64_t credits_repeated;  //  of those, a reference sent before (a repeated webhook)
    uint64_t prices_sent;       //  the worker's setPrice messages the clients sent
    uint64_t refunds_sent;      //  the worker's refunds of the clients' purchases
    uint64_t config_results;    //  configuration results in the journal
    uint64_t priced_buys;       //  buys of the catalog's item in the journal
    uint64_t refunds;           //  refunds in the journal (a BalanceAdjusted with refundOf)
    uint64_t violations;
    char first_violation [512];
} chaos_report_t;

//  The catalog's one item, priced by the worker now and then, and what a
//  configuration result is known by in a client's history.
#define CHAOS_PRICED_ITEM   "chaos-priced"
#define CHAOS_CONFIG_RESULT "config"

uint64_t chaos_hash (const char *text);
chaos_msg_t *chaos_msgs_add (chaos_msgs_t *self);

//  Records a violated property: counts it, keeps the first one's text.
void chaos_violation (chaos_report_t *report, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  The checker: `tally audit verify`, `tally audit replay --compare`, then
//  `tally audit export` joined with every history (sorted in place). Fills
//  the report's journal figures and violations.
void chaos_check (it_cluster_t *cluster, chaos_msgs_t *history, chaos_report_t *report);

#endif
