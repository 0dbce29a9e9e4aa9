//  tly_store - the balance actor's LMDB tables, typed.
//
//  One LMDB environment in a directory, opened with MDB_NOSYNC (it is a cache
//  of the journal) and locked against a second writer. Not MDB_WRITEMAP: a
//  write into a mapped page the full disk has no block for kills the
//  process with SIGBUS; written with pwrite at commit, a full disk is an
//  error the actor answers and retries (docs/architecture.md, "Storage").
//    accounts    user public key (32)                  -> balance, last_updated,
//                                                         created (i64 BE),
//                                                         purchases (u64 BE), id
//                                                         [, bucket tokens, bucket
//                                                         time (i64 BE): once the
//                                                         rate limit took a token]
//                                                         [, held (i64 BE),
//                                                         balance_version,
//                                                         log_version,
//                                                         orders_created (u64 BE),
//                                                         orders_open (u32 BE),
//                                                         order_list_version (u64
//                                                         BE): once the user has an
//                                                         order (the bucket then
//                                                         always written, zeros
//                                                         when unused); a row
//                                                         without them reads held
//                                                         0, both versions
//                                                         purchases + 1, no orders,
//                                                         list version 1]
//    purchases   purchase object ID bytes (19)          -> PurchaseRecord bytes
//                (kind, partition, then the message ID's time: new records
//                go to the end of each partition's range)
//                adjustment object ID bytes (19)        -> AdjustmentRecord bytes
//                (kind 7: after every purchase; kept for good, as their IDs
//                are what makes a credit's reference count once)
//                kind 8 | partition 0 | 16 zero bytes      -> Config bytes: the
//                configuration partition 0's records left
//                order object ID bytes (19, kind 9)     -> Order bytes (as it now is,
//                (orders sort by creation time; kept   version included)
//                for good, final ones too)
//                the user's OrderList object ID bytes   -> OrderList bytes: count and
//                (19, kind 10)                            the latest 32 created,
//                                                         whole (the user's index of
//                                                         orders); absent: none yet
//                the partition's OrderQueue object ID   -> version (u64 BE) |
//                bytes (19, kind 11)                       OrderQueue bytes; absent:
//                                                         version 1, empty
//    log         user (32) | entry number (u64 BE)      -> purchase or adjustment
//                                                         object ID bytes (19)
//                (log and purchases keep each user's latest entries only:
//                older ones are dropped from both, see tly_ledger.h; an
//                adjustment's record stays when its log entry is dropped)
//    owners      object ID bytes (19)                   -> user (32), for the
//                                                         user's balance, root, log
//                                                         and OrderList
//    dedupe      partition u16 BE | message ID (16) | user public key (32)
//                                                      -> MessageResult bytes
//                (IDs start with their time: each partition's range is in
//                time order, so new entries go to its end and expiry takes
//                its front; a partition's entries are one range to snapshot)
//    partitions  partition u32 BE                      -> applied partition_seq
//                                                         u64 BE | epoch u64 BE
//    meta        "schema"                              -> layout version (u32 BE)
//                "order-owners"                        -> (empty): every account has
//                                                         its OrderList's owner row
//                "clock"                               -> the dedupe clock (i64 BE, Unix ms)
//                "dropped" | partition u32 BE          -> the latest message time (i64
//                                                         BE, Unix ms) in the ID of a
//                                                         purchase the partition dropped
//  Writes go through the one open write transaction. Reads see that
//  transaction (pending writes included), or, between read_begin and
//  read_end, the last committed state even while a write transaction is open.
//
//  A state that does not open (LMDB says it is not a valid environment, or
//  corrupt), or whose layout is not this one, is moved aside to
//  PATH.corrupt-<unix ms> and replaced by an empty one: catch-up rebuilds it
//  from the journal. So is one in which LMDB reported corruption while
//  running (a marker file tells the next start).
#ifndef TLY_STORE_H_INCLUDED
#define TLY_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_object_id.h"
#include "tly_limits.h"

#define TLY_STORE_DEDUPE_KEY_BYTES (2 + TLY_MESSAGE_ID_BYTES + TLY_KEY_BYTES)
//  The state layout (meta "schema"); a snapshot's rows are in it.
#define TLY_STORE_SCHEMA           4
#define TLY_STORE_OBJECT_BYTES     TLY_OBJECT_KEY_BYTES

typedef struct {
    char balance_id [TLY_ID_MAX];
    int64_t balance;
    int64_t last_updated;  //  Unix ms
    int64_t created;       //  Unix ms
    uint64_t purchases;    //  purchases recorded in all
    //  The rate limit's bucket (tly_ledger.h): tokens (TLY_RATE_TOKEN units
    //  each) after the last one taken, at bucket_ms; both 0 until then, which
    //  reads as a full bucket.
    int64_t bucket_tokens;
    int64_t bucket_ms;
    //  Orders (docs/protocol.md "Orders"): the sum of the totals of the
    //  user's orders in processing (0 <= held <= balance), the versions of
    //  the UserBalance and the PurchaseLog (no longer purchases + 1 once an
    //  order was submitted), the orders created in all, those in draft or
    //  processing, and the OrderList's version (1 at createAccount, +1 per
    //  accepted order message of the user).
    int64_t held;
    uint64_t balance_version;
    uint64_t log_version;
    uint64_t orders_created;
    uint32_t orders_open;
    uint64_t order_list_version;
} tly_account_state_t;

//  The version of a UserBalance and PurchaseLog of an account row written
//  before orders (or of a user who never submitted one): one at
//  createAccount, one more per history entry.
static inline uint64_t
tly_store_derived_version (uint64_t purchases)
{
    return purchases + 1;
}

typedef struct _tly_store_t tly_store_t;

//  Room to write, as the last write transaction found it.
typedef enum {
    TLY_STORE_ROOM = 0,      //  no write has failed for want of space since the last commit
    TLY_STORE_MAP_FULL = 1,  //  the map is full and may grow: abort, tly_store_grow, redo
    TLY_STORE_FULL = 2       //  no room: the map is at its maximum, or the disk is full
} tly_store_space_t;

//  What a getter found.
typedef enum {
    TLY_STORE_FOUND = 0,
    TLY_STORE_ABSENT = 1,
    TLY_STORE_ERROR = -1  //  logged
} tly_store_lookup_t;

//  What an account callback tells the walk over the accounts.
typedef enum {
    TLY_STORE_WALK_NEXT = 0,   //  go on with the next account
    TLY_STORE_WALK_STOP = 1,   //  stop here: the walk succeeds
    TLY_STORE_WALK_ERROR = -1  //  stop here: the walk fails
} tly_store_walk_t;

//  Called for each account.
typedef tly_store_walk_t (tly_store_account_fn) (const uint8_t user [TLY_KEY_BYTES],
                                                 const tly_account_state_t *state, void *arg);

//  Opens (creating the directory and the tables if needed) the store in path.
//  Returns NULL on failure (logged), also when another process holds it.
tly_store_t *tly_store_new (const char *path, size_t map_size);
//  Opens an existing store read-only, without the lock, beside a live writer.
tly_store_t *tly_store_new_reader (const char *path);
void tly_store_destroy (tly_store_t **self_p);

//  Lets the map grow up to map_max bytes (rounded down to whole pages; never
//  below its size now). Until then it never grows.
void tly_store_set_map_max (tly_store_t *self, size_t map_max);
//  Room to write: TLY_STORE_MAP_FULL after a write that filled a map that
//  may still grow, TLY_STORE_FULL after one that found no room at all, back
//  to TLY_STORE_ROOM once a commit goes through (each change logged once).
tly_store_space_t tly_store_space (tly_store_t *self);
//  Doubles the map, up to its maximum. LMDB's rule: no transaction open,
//  write or read, so the caller aborts first and redoes the work after.
//  Returns 0, or -1 when the map is at its maximum (space is then FULL).
int tly_store_grow (tly_store_t *self);
size_t tly_store_map_size (tly_store_t *self);

//  One write transaction at a time. tly_store_begin grows the map ahead
//  when it is three quarters full. Return 0 or -1 (logged); a failed commit
//  discards the transaction.
int tly_store_begin (tly_store_t *self);
int tly_store_commit (tly_store_t *self);
void tly_store_abort (tly_store_t *self);
bool tly_store_in_txn (tly_store_t *self);
//  Reads of the committed state, also while a write transaction is open.
int tly_store_read_begin (tly_store_t *self);
void tly_store_read_end (tly_store_t *self);
//  Flushes the map to disk (data and meta pages). Returns 0 or -1.
int tly_store_sync (tly_store_t *self);
//  LMDB reported corruption: the state should be rebuilt (next start does).
bool tly_store_corrupt (tly_store_t *self);

//  Getters return a tly_store_lookup_t.
//  Putters need the write transaction and return 0 or -1.
tly_store_lookup_t tly_store_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                                      tly_account_state_t *state);
int tly_store_put_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                           const tly_account_state_t *state);
//  Every account in key order. Returns 0 (all seen, or fn stopped) or -1.
int tly_store_each_account (tly_store_t *self, tly_store_account_fn *fn, void *arg);
//  An untouched partition reads as applied_seq 0, epoch 0 (and returns 0).
int tly_store_progress (tly_store_t *self, uint32_t partition, uint64_t *applied_seq,
                        uint64_t *epoch);
int tly_store_put_progress (tly_store_t *self, uint32_t partition, uint64_t applied_seq,
                            uint64_t epoch);
//  The dedupe key of a user's message ID (partition: the user's).
void tly_store_dedupe_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                           const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                           uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES]);
//  The stored result under key, unpacked into arena.
tly_store_lookup_t tly_store_result (tly_store_t *self,
                                     const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                                     tly_arena_t *arena, Tally__MessageResult **result_p);
//  Returns 0, or -1. With keep_existing a result already stored under key
//  wins: 1 when there was one (nothing written).
int tly_store_put_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                          const Tally__MessageResult *result, bool keep_existing);
//  Deletes, oldest first in each partition, the results of message IDs made
//  before before_ms, at most max of them; *expired says how many. Returns 0
//  or -1.
int tly_store_expire_results (tly_store_t *self, int64_t before_ms, size_t max, size_t *expired);
//  How many results the dedupe table holds. Returns 0 or -1.
int tly_store_results_count (tly_store_t *self, size_t *count);
//  The dedupe clock: the latest time the ledger decided or replayed at (0
//  for a new state).
int tly_store_clock (tly_store_t *self, int64_t *clock_ms);
int tly_store_put_clock (tly_store_t *self, int64_t clock_ms);
//  A flag of the state (a meta key, no value): *set tells whether it is.
int tly_store_flag (tly_store_t *self, const char *name, bool *set);
int tly_store_put_flag (tly_store_t *self, const char *name);
//  The purchase with object ID id, unpacked into arena (absent also when id
//  is not a purchase ID).
tly_store_lookup_t tly_store_purchase (tly_store_t *self, const char *id, tly_arena_t *arena,
                                       Tally__PurchaseRecord **record_p);
//  Stores record under its ID; -1 when the ID is not a purchase ID.
int tly_store_put_purchase (tly_store_t *self, const Tally__PurchaseRecord *record);
//  The adjustment with object key key, unpacked into arena.
tly_store_lookup_t tly_store_adjustment (tly_store_t *self,
                                         const uint8_t key [TLY_STORE_OBJECT_BYTES],
                                         tly_arena_t *arena, Tally__AdjustmentRecord **record_p);
//  Stores record under its ID; -1 when the ID is not an adjustment ID.
int tly_store_put_adjustment (tly_store_t *self, const Tally__AdjustmentRecord *record);
//  The configuration partition 0's records left (docs/protocol.md "Admins
//  and the catalog"), unpacked into arena; kept in purchases under the key
//  TLY_STORE_CONFIG_KEY (kind CATALOG, partition 0, tail zeros).
tly_store_lookup_t tly_store_config (tly_store_t *self, tly_arena_t *arena,
                                     Tally__Config **config_p);
int tly_store_put_config (tly_store_t *self, const Tally__Config *config);
void tly_store_config_key (uint8_t key [TLY_STORE_OBJECT_BYTES]);
//  Numbers purchase or adjustment id as user's entry number (1, 2, ...).
int tly_store_put_log (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t number,
                       const char *id);
//  Drops user's entries numbered up to last, oldest first: their log rows,
//  and a purchase's record (an adjustment's stays). *dropped says how many
//  purchases; *newest_ms is the latest message time in their IDs (left as
//  it was when none was there). Returns 0 or -1.
int tly_store_drop_purchases (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t last,
                              size_t *dropped, int64_t *newest_ms);
//  The latest message time in the ID of a purchase partition dropped (-1
//  when none, below every ID's time): a purchase ID of that time or before
//  that is not in the table may have been dropped. Returns 0 or -1.
int tly_store_dropped (tly_store_t *self, uint32_t partition, int64_t *time_ms);
int tly_store_put_dropped (tly_store_t *self, uint32_t partition, int64_t time_ms);
//  What a read of a user's log found.
typedef struct {
    size_t count;                       //  entries read: purchases and adjustments
    Tally__PurchaseRecord **purchases;  //  the purchases among them (max slots), oldest first
    size_t n_purchases;
    Tally__AdjustmentRecord **adjustments;  //  the adjustments (max slots), oldest first
    size_t n_adjustments;
} tly_store_entries_t;

//  user's entries numbered first, first + 1, ... (at most max), oldest
//  first, into entries (records unpacked into arena; its arrays hold max
//  each); none when first is older than the user's oldest kept entry. A gap
//  in the numbering after it is a corrupt state. Returns 0 or -1.
int tly_store_log_entries (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                           size_t max, tly_arena_t *arena, tly_store_entries_t *entries);
//  The same read, keeping only the purchases (into records, *count of
//  them): for a user with no adjustments, entry numbers are purchase numbers.
int tly_store_log (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                   size_t max, tly_arena_t *arena, Tally__PurchaseRecord **records, size_t *count);
//  The user an object (balance, root, log, OrderList) belongs to.
tly_store_lookup_t tly_store_owner (tly_store_t *self, const uint8_t id [TLY_STORE_OBJECT_BYTES],
                                    uint8_t user [TLY_KEY_BYTES]);
int tly_store_put_owner (tly_store_t *self, const uint8_t id [TLY_STORE_OBJECT_BYTES],
                         const uint8_t user [TLY_KEY_BYTES]);

//  ---------------------------------------------------------------- orders
//  The order with raw key key, unpacked into arena (absent also when key is
//  not an order's).
tly_store_lookup_t tly_store_order (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                                    tly_arena_t *arena, Tally__Order **order_p);
//  Stores order under its ID; -1 when the ID is not an order's.
int tly_store_put_order (tly_store_t *self, const Tally__Order *order);
//  Calls fn with every order of partition (UINT32_MAX: of every partition,
//  partition after partition), in key order (creation time);
//  the order is valid during the call. fn returns 0, or -1 to fail the
//  walk. Returns 0 or -1.
int tly_store_each_order (tly_store_t *self, uint32_t partition,
                          int (*fn) (const Tally__Order *order, void *arg), void *arg);
//  The user's OrderList row under its object key (ABSENT: none yet).
tly_store_lookup_t tly_store_order_list (tly_store_t *self,
                                         const uint8_t key [TLY_STORE_OBJECT_BYTES],
                                         tly_arena_t *arena, Tally__OrderList **list_p);
int tly_store_put_order_list (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                              const Tally__OrderList *list);
//  A partition's OrderQueue row under its object key, with its version
//  (ABSENT: none yet, which is version 1 and empty).
tly_store_lookup_t tly_store_order_queue (tly_store_t *self,
                                          const uint8_t key [TLY_STORE_OBJECT_BYTES],
                                          tly_arena_t *arena, Tally__OrderQueue **queue_p,
                                          uint64_t *version);
//  The key of partition's OrderQueue row, whoever the worker is (ABSENT:
//  none yet): for a reader, which does not know the worker.
tly_store_lookup_t tly_store_order_queue_key (tly_store_t *self, uint32_t partition,
                                              uint8_t key [TLY_STORE_OBJECT_BYTES]);
int tly_store_put_order_queue (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                               const Tally__OrderQueue *queue, uint64_t version);

//  ---------------------------------------------------------------- a partition's rows
//  A state snapshot is a partition's rows, table by table, in key order
//  (docs/journal.md, "State snapshots"). The tables, as a snapshot names them:
typedef enum {
    TLY_STORE_ROW_ACCOUNT = 1,      //  accounts: user -> account
    TLY_STORE_ROW_LOG = 2,          //  log: user | number -> purchase object ID
    TLY_STORE_ROW_OWNER = 3,        //  owners: object ID -> user
    TLY_STORE_ROW_PURCHASE = 4,     //  purchases: object ID -> PurchaseRecord
    TLY_STORE_ROW_DEDUPE = 5,       //  dedupe: partition | message ID | user -> MessageResult
    TLY_STORE_ROW_META = 6,         //  meta: "dropped" | partition -> newest dropped purchase time
    TLY_STORE_ROW_ADJUSTMENT = 7,   //  purchases: adjustment object ID -> AdjustmentRecord
    TLY_STORE_ROW_CONFIG = 8,       //  purchases: tly_store_config_key -> Config (partition 0)
    TLY_STORE_ROW_ORDER = 9,        //  purchases: order object ID -> Order
    TLY_STORE_ROW_ORDER_LIST = 10,  //  purchases: OrderList object ID -> OrderList
    TLY_STORE_ROW_ORDER_QUEUE = 11  //  purchases: OrderQueue object ID -> version | OrderQueue
} tly_store_row_t;

//  Called with each row; the bytes are valid during the call. Returns 0, or
//  -1 to stop the walk with a failure.
typedef int (tly_store_row_fn) (tly_store_row_t table, const uint8_t *key, size_t key_size,
                                const uint8_t *value, size_t value_size, void *arg);

//  Every row of partition's state, committed state only (also while a write
//  transaction is open): its owners (whose balance rows name its users),
//  those users' accounts and logs, its purchases, its adjustments, its
//  dedupe results, its meta rows (the newest time of a purchase it dropped); and,
//  as of the same commit, the partition's progress and the dedupe clock.
//  Returns 0, or -1 (logged, or fn failed).
int tly_store_each_row (tly_store_t *self, uint32_t partition, tly_store_row_fn *fn, void *arg,
                        uint64_t *applied_seq, uint64_t *epoch, int64_t *clock_ms);
//  In the write transaction: deletes every row tly_store_each_row would
//  give for partition, and its progress. Returns 0 or -1.
int tly_store_clear_partition (tly_store_t *self, uint32_t partition);
//  In the write transaction: stores one row of partition. A row whose table,
//  sizes or partition (where its key carries one) are wrong is refused:
//  returns -1 without logging (the caller names the snapshot), else 0 or -1.
//  A purchase or dedupe row whose key sorts after every key of its table
//  goes in at the table's end (LMDB's append: no search, and pages filled
//  instead of split in half), through a cursor kept until tly_store_rows_end
//  or the transaction's end; so rows given in key order, partition after
//  partition, load at the cost of a copy. After the first row of a table
//  that does not, its rows are put as usual until tly_store_rows_end.
int tly_store_put_row (tly_store_t *self, uint32_t partition, tly_store_row_t table,
                       const uint8_t *key, size_t key_size, const uint8_t *value,
                       size_t value_size);
//  Closes the cursors tly_store_put_row keeps (call before other writes).
void tly_store_rows_end (tly_store_t *self);

#endif
