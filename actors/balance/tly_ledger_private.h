//  tly_ledger_private - what the ledger's source files share: tly_ledger.c
//  (deciding, and the effects), tly_ledger_apply.c (replaying),
//  tly_ledger_config.c (the configuration), tly_ledger_refund.c (refunds)
//  and tly_ledger_state.c (reads of the state, and a partition's rows for
//  state snapshots). Include tly_ledger.h instead.
#ifndef TLY_LEDGER_PRIVATE_H_INCLUDED
#define TLY_LEDGER_PRIVATE_H_INCLUDED

#include "tly_ledger.h"

struct _tly_ledger_t {
    tly_store_t *store;
    tly_ledger_limits_t limits;
    bool read_only;
    uint64_t snapshot_every;         //  applied records between flushes to disk
    uint64_t pending;                //  records in the open transaction
    uint64_t unflushed;              //  records committed since the last flush
    int64_t clock;                   //  the dedupe clock: latest decision or record time
    int64_t stored_clock;            //  the clock as the committed state has it
    uint64_t results;                //  results stored in the open transaction
    tly_config_t *config;            //  as decided so far, the open transaction included
    tly_config_t *config_committed;  //  as of the last commit
    bool config_dirty;               //  config changed in the open transaction
    uint64_t envelope_version;       //  the version the envelope being decided began at
    uint64_t envelope_seq;           //  the partition sequence its record will have
    uint32_t envelope_partition;     //  the partition it was routed to
    bool envelope_open;              //  begun, its record's sequence not taken yet
    tly_ledger_versions_t versions;  //  what the last executed event brought its objects to
};

//  Notes the versions of state's objects (and the OrderQueue's, 0 when the
//  event left it) as the last executed event's.
void tly_ledger_set_versions (tly_ledger_t *self, const tly_account_state_t *state, uint64_t queue);
//  One line of a completed order: a purchase recorded as a history entry
//  without a version of its own (the order's completion is one).
int tly_ledger_record_line (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                            uint32_t partition, tly_account_state_t *state,
                            const Tally__PurchaseRecord *record);

//  tly_ledger_order.c: orders (docs/protocol.md "Orders").
int tly_ledger_execute_order (tly_ledger_t *self, const tly_ledger_user_t *sender,
                              const Tally__InboxMessage *message, int64_t now_ms,
                              tly_arena_t *arena, Tally__MessageResult *result,
                              Tally__Event **event_p, uint64_t *version_p);
//  A state made before orders: gives every account its OrderList's owner
//  row, once (in a transaction of its own). Returns 0 or -1.
int tly_ledger_order_owners (tly_ledger_t *self);
//  The owner row of user's OrderList, in the open transaction.
int tly_ledger_order_owner (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                            uint32_t partition);
//  Replays an OrderChanged event of a record. Returns 0, or -1 (a bad
//  record is logged).
int tly_ledger_apply_order (tly_ledger_t *self, const Tally__RecordDraft *draft,
                            const Tally__OrderChanged *changed, tly_arena_t *arena);

//  Moves the dedupe clock forward (never back) to time_ms.
void tly_ledger_clock_see (tly_ledger_t *self, int64_t time_ms);
//  Whether a message ID made at its time is inside the dedupe window.
bool tly_ledger_in_window (const tly_ledger_t *self,
                           const uint8_t message_id [TLY_MESSAGE_ID_BYTES]);
//  What dedupe keeps of result (tly_ledger.c), in arena.
Tally__MessageResult *tly_ledger_compact (tly_arena_t *arena, const uint8_t user [TLY_KEY_BYTES],
                                          uint32_t partition, const Tally__MessageResult *result);
//  Whether result is a RATE_LIMITED refusal (journaled, never remembered).
bool tly_ledger_rate_limited (const Tally__MessageResult *result);
//  Logs a record that apply cannot take; returns -1.
int tly_ledger_bad_record (const Tally__RecordDraft *draft, const char *reason);

//  The state changes shared by execute (live) and apply (replay), so a
//  replayed record leaves exactly the state its live execution left
//  (tly_ledger.c). Each returns 0 or -1.
int tly_ledger_create_account (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                               uint32_t partition, const char *balance_id, int64_t initial,
                               int64_t timestamp);
int tly_ledger_record_purchase (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                                uint32_t partition, tly_account_state_t *state,
                                const Tally__PurchaseRecord *record);
//  Sets result to the error code with text.
void tly_ledger_set_error (tly_arena_t *arena, Tally__MessageResult *result, Tally__ErrorCode code,
                           const char *text);

//  One credit, debit or refund of user (tly_ledger.c): its record, kept for
//  good, and the history entry.
int tly_ledger_record_adjustment (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                                  uint32_t partition, tly_account_state_t *state,
                                  const Tally__AdjustmentRecord *record);

//  The BalanceAdjusted event of record, a credit, debit or refund of user
//  by by, in arena.
Tally__Event *tly_ledger_adjusted (tly_arena_t *arena, const uint8_t user [TLY_KEY_BYTES],
                                   const uint8_t by [TLY_KEY_BYTES],
                                   const Tally__AdjustmentRecord *record);

//  tly_ledger_refund.c: refunds (docs/protocol.md "Refunds").
int tly_ledger_execute_refund (tly_ledger_t *self, const tly_ledger_user_t *sender,
                               const Tally__Refund *refund, int64_t now_ms, tly_arena_t *arena,
                               Tally__MessageResult *result, Tally__Event **event_p,
                               uint64_t *version_p);
//  A replayed refund's purchase marked refunded, before its entry is
//  recorded (as execute does). Returns 0, or -1 (a bad record is logged).
int tly_ledger_apply_refund (tly_ledger_t *self, const Tally__RecordDraft *draft,
                             const Tally__BalanceAdjusted *adjusted, tly_arena_t *arena);

//  tly_ledger_config.c: the configuration's part of a transaction.
//  Creates the configuration as the state has it. Returns 0 or -1.
int tly_ledger_config_open (tly_ledger_t *self);
void tly_ledger_config_close (tly_ledger_t *self);
//  Ends the transaction's part: keeps the changes (commit) or drops them.
void tly_ledger_config_settle (tly_ledger_t *self, bool keep);
//  Decides a configuration message (partition 0 only) into result.
//  Returns 0, or -1 when storage failed.
int tly_ledger_execute_config (tly_ledger_t *self, const tly_ledger_user_t *user,
                               const Tally__InboxMessage *message, tly_arena_t *arena,
                               Tally__MessageResult *result);
//  Replays a record's new configuration (draft->config), if any. Returns
//  0, or -1 (a malformed one is logged as a bad record).
int tly_ledger_apply_config (tly_ledger_t *self, const Tally__RecordDraft *draft);
//  Takes config, from partition 0's records or state snapshot, in the open
//  transaction when it is newer than the ledger's. Returns 0, or -1 with
//  why in reason when it is malformed.
int tly_ledger_config_seen (tly_ledger_t *self, const Tally__Config *config, char *reason,
                            size_t reason_size);

#endif
