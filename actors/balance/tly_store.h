//  tly_store - the balance actor's LMDB tables, typed.
//
//  One LMDB environment in a directory, opened with MDB_NOSYNC (it is a cache
//  of the journal) and locked against a second process:
//    accounts    user public key (32)                  -> balance, last_updated,
//                                                         created (i64 BE), id
//    purchases   purchase object ID bytes (19)          -> PurchaseRecord bytes
//    dedupe      user public key (32) | message ID (16) -> MessageResult bytes
//    partitions  partition u32 BE                      -> applied partition_seq
//                                                         u64 BE | epoch u64 BE
//  Writes go through the one open write transaction. Reads see that
//  transaction (pending writes included) or use a short read transaction.
#ifndef TLY_STORE_H_INCLUDED
#define TLY_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_limits.h"

#define TLY_STORE_DEDUPE_KEY_BYTES  (TLY_KEY_BYTES + TLY_MESSAGE_ID_BYTES)

typedef struct {
    char balance_id [TLY_ID_MAX];
    int64_t balance;
    int64_t last_updated;               //  Unix ms
    int64_t created;                    //  Unix ms
} tly_account_state_t;

typedef struct _tly_store_t tly_store_t;

//  Opens (creating the directory and the tables if needed) the store in path.
//  Returns NULL on failure (logged), also when another process holds it.
tly_store_t *tly_store_new (const char *path, size_t map_size);
void tly_store_destroy (tly_store_t **self_p);

//  One write transaction at a time. Return 0 or -1 (logged); a failed commit
//  discards the transaction.
int  tly_store_begin (tly_store_t *self);
int  tly_store_commit (tly_store_t *self);
void tly_store_abort (tly_store_t *self);
bool tly_store_in_txn (tly_store_t *self);

//  Getters return 0 (found), 1 (absent) or -1 (failure, logged).
//  Putters need the write transaction and return 0 or -1.
int  tly_store_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                        tly_account_state_t *state);
int  tly_store_put_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                            const tly_account_state_t *state);
//  An untouched partition reads as applied_seq 0, epoch 0 (and returns 0).
int  tly_store_progress (tly_store_t *self, uint32_t partition, uint64_t *applied_seq,
                         uint64_t *epoch);
int  tly_store_put_progress (tly_store_t *self, uint32_t partition, uint64_t applied_seq,
                             uint64_t epoch);
//  The stored result under key, unpacked into arena.
int  tly_store_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                       tly_arena_t *arena, Tally__MessageResult **result_p);
//  With keep_existing a result already stored under key wins.
int  tly_store_put_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                           const Tally__MessageResult *result, bool keep_existing);
//  The purchase with object ID id, unpacked into arena (absent also when id
//  is not a purchase ID).
int  tly_store_purchase (tly_store_t *self, const char *id, tly_arena_t *arena,
                         Tally__PurchaseRecord **record_p);
//  Stores record under its ID; -1 when the ID is not a purchase ID.
int  tly_store_put_purchase (tly_store_t *self, const Tally__PurchaseRecord *record);

void tly_store_test (bool verbose);

#endif
