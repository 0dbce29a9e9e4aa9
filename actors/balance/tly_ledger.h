//  tly_ledger - a balance actor's state: accounts, purchases, dedupe, progress.
//
//  The ledger decides inbox messages against the state (execute) and replays
//  journal records into it (apply). Both write through the one open write
//  transaction, so a batch's later messages see its earlier effects, and an
//  abort forgets the whole batch. The tables live in a tly_store: a cache of
//  the journal, which may be deleted at any time and is rebuilt by catch-up.
//
//  Where: tally-balance keeps its state in DIR/balance/NAME, for --data-dir
//  DIR and --name NAME (tally up: DATA/balance-N/balance/balance-N).
//
//  Retention: each user keeps their latest keep_purchases purchase records
//  (and log entries) in the state. Recording purchase number k drops number
//  k - keep_purchases in the same transaction, live and in replay alike, so
//  a state rebuilt from the journal keeps the same records; the account
//  keeps the all-time count. A dropped record is still in the journal; a
//  read of it is told so (tly_ledger_purchase). A dedupe result needs
//  no record: it holds its purchase whole.
//
//  Objects: a user's UserBalance and PurchaseLog are at version 1 at
//  createAccount, one more per purchase, credit, debit or refund; the
//  UserBalance one more per submit, completion or failure of one of the
//  user's orders, the PurchaseLog one more per completion (account state
//  balance_version, log_version); the UserPrivateRoot and each
//  PurchaseRecord stay at version 1. Orders: tly_ledger_order.c. Everything,
//  versions included, follows from the journal's events alone, so a rebuilt
//  state serves exactly the objects the live one did.
//
//  Durability: the state is written without fsync (MDB_NOSYNC; see
//  tly_store.h for why not MDB_WRITEMAP). A crash of the process loses
//  nothing (the page cache survives it); a crash of the machine may leave
//  the copy on disk behind, or unsound. Every snapshot_every applied records
//  (executed drafts and replayed records alike; a loaded state snapshot
//  counts as one) the ledger flushes the map to disk, which bounds how far
//  behind it can be; an unsound state is moved aside at the next start (see
//  tly_store.h), and an empty or deleted one is rebuilt by catch-up,
//  dedupe results included.
//
//      tly_ledger_t *ledger = tly_ledger_new (path, TLY_LMDB_MAP_DEFAULT, &limits);
//      tly_ledger_begin (ledger);
//      tly_ledger_execute (ledger, &user, message, now, arena, &result, &event, &version);
//      tly_ledger_advance (ledger, partition, epoch, &partition_seq);
//      tly_ledger_commit (ledger);     //  or tly_ledger_abort
#ifndef TLY_LEDGER_H_INCLUDED
#define TLY_LEDGER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_config.h"
#include "tly_limits.h"
#include "tly_store.h"

typedef struct _tly_ledger_t tly_ledger_t;

typedef struct {
    uint32_t partition_count;
    int64_t initial_max;             //  createAccount initialBalance limit
    int64_t amount_max;              //  buy amount limit
    int64_t dedupe_window_ms;        //  message IDs taken and remembered (TLY_DEDUPE_WINDOW_MS_*)
    uint64_t keep_purchases;         //  purchase records kept per user (TLY_KEEP_PURCHASES_*;
                                     //  0: TLY_KEEP_PURCHASES_DEFAULT)
    uint32_t rate_per_minute;        //  the per-user rate limit on buys (0: off; tly_rate.h)
    uint32_t rate_burst;             //  its bucket's size (1..TLY_RATE_BURST_MAX when on)
    bool open_prices;                //  buys of items not in the catalog name their price
    uint8_t worker [TLY_KEY_BYTES];  //  the worker's key: always an admin
} tly_ledger_limits_t;

//  What execute and apply did with a message or a record.
typedef enum {
    TLY_LEDGER_APPLIED = 0,    //  new: its effects are written
    TLY_LEDGER_DUPLICATE = 1,  //  seen before: nothing changed
    TLY_LEDGER_STALE = 2,      //  ID outside the dedupe window: refused, nothing stored
    TLY_LEDGER_ERROR = -1      //  logged; abort the transaction
} tly_ledger_result_t;

//  An envelope's sender, resolved once per envelope.
typedef struct {
    uint8_t pk [TLY_KEY_BYTES];
    char id [TLY_ID_MAX];  //  co_z...
    uint32_t partition;
    //  The partition the envelope was routed to: the sender's, or for
    //  credits and debits their user's (tly_ledger_user_init: the sender's).
    uint32_t route;
    bool worker;  //  the sender is the worker, who may credit and debit
} tly_ledger_user_t;

//  The configuration (docs/protocol.md "Admins and the catalog"): the one
//  the ledger decides under, its open transaction's changes included. It
//  starts as partition 0's state has it (version 0 when it has none).
const tly_config_t *tly_ledger_config (tly_ledger_t *self);
//  The one as of the last commit: what readers are shown.
const tly_config_t *tly_ledger_config_committed (tly_ledger_t *self);
//  Takes config, the audit writer's (a STALE_CONFIG answer), as the one to
//  decide under; no transaction may be open. Returns 0, or -1 when it is
//  malformed (logged; the ledger keeps its own).
int tly_ledger_adopt_config (tly_ledger_t *self, const Tally__Config *config);
//  Starts an envelope routed to partition, in the open transaction: its
//  configuration messages that change something make one new version
//  together (the one its record carries), and its purchases name the
//  partition sequence its record will have. Returns 0 or -1.
int tly_ledger_envelope (tly_ledger_t *self, uint32_t partition);
//  The Config a draft carries when the configuration changed after version
//  before, in arena; NULL when it did not.
Tally__Config *tly_ledger_config_draft (tly_ledger_t *self, uint64_t before, tly_arena_t *arena);


//  Fills the ID and partition of the user with public key pk.
void tly_ledger_user_init (tly_ledger_user_t *user, const uint8_t pk [TLY_KEY_BYTES],
                           uint32_t partition_count);

#define TLY_LEDGER_SNAPSHOT_EVERY 10000  //  applied records between flushes to disk

//  Opens (creating the directory and the environment if needed) the state in
//  path and takes an exclusive lock on it. Returns NULL on failure (logged).
tly_ledger_t *tly_ledger_new (const char *path, size_t map_size, const tly_ledger_limits_t *limits);
//  Opens the state in path (DIR/balance/NAME, as tly_ledger_new takes it)
//  read-only and without the lock: usable beside a live actor. Only reads
//  are allowed; every partition below TLY_PARTITIONS_MAX may be asked.
tly_ledger_t *tly_ledger_new_reader (const char *path);
void tly_ledger_destroy (tly_ledger_t **self_p);
//  Applied records between flushes of the map to disk (default
//  TLY_LEDGER_SNAPSHOT_EVERY).
void tly_ledger_set_snapshot_every (tly_ledger_t *self, uint64_t records);
const tly_ledger_limits_t *tly_ledger_limits (tly_ledger_t *self);
//  LMDB reported corruption: stop, and the next start rebuilds the state.
bool tly_ledger_corrupt (tly_ledger_t *self);
//  The state's map: how far it may grow, room to write, growing it (see
//  tly_store.h: after TLY_STORE_MAP_FULL, abort, grow, redo the work).
void tly_ledger_set_map_max (tly_ledger_t *self, size_t map_max);
tly_store_space_t tly_ledger_space (tly_ledger_t *self);
int tly_ledger_grow (tly_ledger_t *self);

//  One write transaction at a time. Return 0 or -1 (logged); a failed commit
//  discards the transaction.
int tly_ledger_begin (tly_ledger_t *self);
int tly_ledger_commit (tly_ledger_t *self);
void tly_ledger_abort (tly_ledger_t *self);
bool tly_ledger_in_txn (tly_ledger_t *self);

//  Credits and debits (docs/protocol.md, "Credits and debits"): only from
//  the worker; to an existing account of the route's partition; one per
//  (user, reference), the same reference again answering the first
//  adjustment; a credit never takes a balance past TLY_BALANCE_MAX
//  (BALANCE_LIMIT), a debit never below 0 (INSUFFICIENT_BALANCE). Each is
//  an entry of the user's history, as a purchase is, and its record is
//  kept for good. No rate limit token is taken.
//
//  Orders (docs/protocol.md "Orders", tly_ledger_order.c): createOrder,
//  editOrder and submitOrder of the order's user, completeOrder and
//  failOrder of the worker or an admin; a user's held amount is the sum
//  of their orders in processing, and a buy, a debit or a submit needs its
//  amount available (balance - held). Each accepted one is one
//  OrderChanged event; the OrderList, the partition's OrderQueue and the
//  order are kept in the state (tly_store.h), final orders for good.
//
//  Rate limit: with limits.rate_per_minute set, each buy of a user with an
//  account that passes the message checks takes a token from the user's
//  bucket (tly_rate.h, kept in the account) at now_ms before its balance is
//  looked at; with none left it is refused RATE_LIMITED with the wait in
//  retry_after_ms, and that result is not remembered: the same message sent
//  again is decided anew. The draft names the limit (RecordDraft.rate_limit),
//  and replay takes the same tokens at the record's time.
//
//  The versions an executed message's event brought its user's objects to
//  (docs/protocol.md "Orders": the UserBalance's and the PurchaseLog's are
//  no longer equal once the user submitted an order).
typedef struct {
    uint64_t balance;     //  the UserBalance's
    uint64_t log;         //  the PurchaseLog's
    uint64_t entries;     //  the user's history entries in all (PurchaseLog.count)
    int64_t held;         //  the user's held amount after (UserBalance.held)
    uint64_t order_list;  //  the OrderList's (1 at createAccount)
    uint64_t queue;       //  the partition's OrderQueue's, when the event changed it (else 0)
    //  An order event's: the OrderList and the OrderQueue (when it changed)
    //  as the event left them, whole (in the execute's arena), else NULL.
    Tally__OrderList *list;
    Tally__OrderQueue *queue_state;
} tly_ledger_versions_t;

//  Decides one message of user in the open transaction, as of now_ms. A
//  message ID outside the dedupe window (made before the dedupe clock minus
//  the window, or after it plus the window) is refused STALE_MESSAGE_ID and
//  nothing is stored. A message ID seen before returns the stored first
//  result and changes nothing; otherwise the effects are written, the
//  result is stored for dedupe, and *event_p is set when the state changed
//  (else NULL), with *version_p the version the user's balance and purchase
//  log reached by it. Results and events live in arena. Returns APPLIED
//  (decided now), DUPLICATE (the first result), STALE (refused), or ERROR
//  when storage failed.
//
//  The dedupe clock is the latest of every now_ms and every replayed
//  record's time this state has seen, kept in the state: it never goes back,
//  so a result is forgotten (each commit expires those older than the
//  clock minus the window) only once its ID can no longer be taken. A
//  message therefore takes effect at most once however late it is resent.
tly_ledger_result_t tly_ledger_execute (tly_ledger_t *self, const tly_ledger_user_t *user,
                                        const Tally__InboxMessage *message, int64_t now_ms,
                                        tly_arena_t *arena, Tally__MessageResult **result_p,
                                        Tally__Event **event_p, uint64_t *version_p);
//  After an execute that set *event_p: the versions its event brought the
//  objects it changed to (*version_p is versions.balance).
void tly_ledger_versions (tly_ledger_t *self, tly_ledger_versions_t *versions);
//  Takes the next partition_seq of partition for a new draft and records
//  epoch, in the open transaction (the one tly_ledger_envelope read, for
//  its envelope's partition: no second read). Returns 0 or -1.
int tly_ledger_advance (tly_ledger_t *self, uint32_t partition, uint64_t epoch,
                        uint64_t *partition_seq);
//  Replays one journal record in the open transaction: its events, its
//  results (for dedupe, those whose IDs are still inside the window) and
//  the partition's progress; the dedupe clock moves to the record's time. Returns APPLIED,
//  DUPLICATE for a record at or below the applied partition_seq (nothing
//  changed), or ERROR when the record does not follow the state (gap, bad
//  event) or storage failed.
tly_ledger_result_t tly_ledger_apply (tly_ledger_t *self, const Tally__RecordDraft *draft,
                                      tly_arena_t *arena);

//  Reads see the open transaction, or a fresh read transaction; between
//  read_begin and read_end they see the last committed state, also while a
//  write transaction is open (a batch awaiting its journal ack).
int tly_ledger_read_begin (tly_ledger_t *self);
void tly_ledger_read_end (tly_ledger_t *self);
//  The partition's applied partition_seq and epoch (0, 0 when untouched).
int tly_ledger_progress (tly_ledger_t *self, uint32_t partition, uint64_t *applied_seq,
                         uint64_t *epoch);
//  The dedupe clock (Unix ms; 0 before the first message or record).
int64_t tly_ledger_clock (tly_ledger_t *self);
//  The user's state: FOUND, ABSENT when the user has no account, or ERROR.
tly_store_lookup_t tly_ledger_account (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                                       tly_account_state_t *state);
//  Calls fn for every account, in key order, as long as fn returns
//  TLY_STORE_WALK_NEXT. Returns 0 (all seen, or fn stopped) or -1.
int tly_ledger_each_account (tly_ledger_t *self, tly_store_account_fn *fn, void *arg);
//  What a purchase lookup found.
typedef enum {
    TLY_LEDGER_KEPT = 0,          //  the record is in the state
    TLY_LEDGER_DROPPED = 1,       //  not in the state, and as old as records the partition
                                  //  dropped: older than the state keeps (the journal has it)
    TLY_LEDGER_UNKNOWN = 2,       //  no such purchase (or id is not a purchase ID)
    TLY_LEDGER_LOOKUP_ERROR = -1  //  logged
} tly_ledger_kept_t;

//  The purchase with object ID id: KEPT with *record_p (in arena), DROPPED,
//  UNKNOWN or LOOKUP_ERROR. An ID that was never recorded but is as old as
//  dropped ones reads DROPPED too: IDs do not name their user.
tly_ledger_kept_t tly_ledger_purchase (tly_ledger_t *self, const char *id, tly_arena_t *arena,
                                       Tally__PurchaseRecord **record_p);
//  The user whose balance, root or purchase log has object ID id: FOUND,
//  ABSENT (also when id is not an object ID), or ERROR.
tly_store_lookup_t tly_ledger_owner (tly_ledger_t *self, const char *id,
                                     uint8_t user [TLY_KEY_BYTES]);
//  The user's purchases numbered first, first + 1, ... (1 is the first ever;
//  at most max, oldest first) into records, in arena; *count says how many
//  (none when first is no longer kept). Returns 0 or -1.
int tly_ledger_purchases (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                          size_t max, tly_arena_t *arena, Tally__PurchaseRecord **records,
                          size_t *count);
//  The user's history entries (purchases and adjustments) numbered first,
//  first + 1, ... (at most max, oldest first) into entries (tly_store.h),
//  in arena. Returns 0 or -1.
int tly_ledger_entries (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                        size_t max, tly_arena_t *arena, tly_store_entries_t *entries);
//  The adjustment with object ID id: FOUND with *record_p (in arena),
//  ABSENT (also when id is not an adjustment ID), or ERROR.
tly_store_lookup_t tly_ledger_adjustment (tly_ledger_t *self, const char *id, tly_arena_t *arena,
                                          Tally__AdjustmentRecord **record_p);

//  ---------------------------------------------------------------- orders
//  The order with object ID id: FOUND with *order_p (in arena), ABSENT
//  (also when id is not an order's), or ERROR.
tly_store_lookup_t tly_ledger_order (tly_ledger_t *self, const char *id, tly_arena_t *arena,
                                     Tally__Order **order_p);
//  Calls fn with every order of the state, partition by partition, in key
//  order (the order is valid during the call) as long as fn returns 0.
//  Returns 0 (all seen), or -1 (fn failed, or storage did: logged).
int tly_ledger_each_order (tly_ledger_t *self, int (*fn) (const Tally__Order *order, void *arg),
                           void *arg);
//  The user's OrderList as the state has it: count and the latest
//  TLY_ORDER_LIST_MAX created, oldest first (in arena; none yet: count 0).
//  Returns 0 or -1.
int tly_ledger_order_list (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                           uint32_t partition, tly_arena_t *arena, Tally__OrderList **list_p);
//  The partition's OrderQueue (in arena) and its version (1 and empty
//  until the first submit; a reader, which does not know the worker, then
//  names it with a zero worker key). Returns 0 or -1.
int tly_ledger_order_queue (tly_ledger_t *self, uint32_t partition, tly_arena_t *arena,
                            Tally__OrderQueue **queue_p, uint64_t *version);

//  ---------------------------------------------------------------- state snapshots
//  A partition's state as rows (tly_store.h), to save and to load.

//  Every row of partition's committed state, with the applied
//  partition_seq, epoch and dedupe clock it stands at. Returns 0 or -1.
int tly_ledger_each_row (tly_ledger_t *self, uint32_t partition, tly_store_row_fn *fn, void *arg,
                         uint64_t *applied_seq, uint64_t *epoch, int64_t *clock_ms);
//  In the open transaction: forgets partition's state, rows and progress.
int tly_ledger_clear_partition (tly_ledger_t *self, uint32_t partition);
//  In the open transaction: stores rows, each of which must be partition's
//  (a user's account and log rows belong to the user's partition and come
//  after the owner row of the user's balance, as tly_store_each_row gives
//  them). Returns 0, or -1 (a row not of partition, or storage failed:
//  logged).
int tly_ledger_load_rows (tly_ledger_t *self, uint32_t partition, const Tally__SnapshotRows *rows);
//  In the open transaction: partition now stands at applied_seq and epoch,
//  and the dedupe clock at clock_ms at least. Returns 0 or -1.
int tly_ledger_load_done (tly_ledger_t *self, uint32_t partition, uint64_t applied_seq,
                          uint64_t epoch, int64_t clock_ms);

#endif
