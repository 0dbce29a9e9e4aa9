//  tly_store_private - what the store's source files share. Not for users:
//  include tly_store.h instead.
#ifndef TLY_STORE_PRIVATE_H_INCLUDED
#define TLY_STORE_PRIVATE_H_INCLUDED

#include <lmdb.h>
#include "tly_store.h"
#include "tly_bytes.h"

#define TLY_STORE_PATH_MAX 4096

struct _tly_store_t {
    char path [TLY_STORE_PATH_MAX];
    bool read_only;  //  a reader beside the live actor
    bool corrupt;    //  LMDB reported corruption
    bool ready;      //  the environment and its tables are open
    int lock_fd;     //  the writer's lock, -1 for a reader
    MDB_env *env;
    MDB_dbi accounts;
    MDB_dbi purchases;
    MDB_dbi log;
    MDB_dbi owners;
    MDB_dbi dedupe;
    MDB_dbi partitions;
    MDB_dbi meta;
    size_t map_size;            //  the map as LMDB has it now
    size_t map_max;             //  how far the writer may grow it
    tly_store_space_t space;    //  room to write, as the last write found it
    MDB_txn *txn;               //  the open write transaction, or NULL
    MDB_cursor *appending [2];  //  put_row's cursors on purchases and dedupe, in txn
    bool append_off [2];        //  ... whose appends failed: ordinary puts until rows_end
    MDB_txn *read;              //  the committed-state read transaction
    bool reading;               //  between read_begin and read_end
};

//  The meta key of a partition's newest dropped purchase time: "dropped"
//  then the partition (u32 BE).
#define TLY_STORE_DROPPED_KEY       "dropped"
#define TLY_STORE_DROPPED_KEY_BYTES (sizeof TLY_STORE_DROPPED_KEY - 1 + 4)
void tly_store_dropped_key (uint32_t partition, uint8_t key [TLY_STORE_DROPPED_KEY_BYTES]);

//  Logs an LMDB failure naming the store and the operation; notes
//  corruption, and a full map or disk (the space the caller then reads).
//  Returns -1.
int tly_store_lmdb_error (tly_store_t *self, const char *operation, int rc);
//  Logs an entry that does not decode. Returns -1.
int tly_store_bad_entry (tly_store_t *self, const char *table);
//  What a read looks at: the committed-state transaction while reading, the
//  write transaction when one is open, else a fresh read transaction. Hand
//  it back to tly_store_txn_end. Returns NULL on failure (logged).
MDB_txn *tly_store_txn_begin (tly_store_t *self);
void tly_store_txn_end (tly_store_t *self, MDB_txn *txn);
//  Looks key up in dbi and hands the value to decode while the transaction
//  lives (decode returns 0 or -1).
typedef int (tly_store_decode_fn) (tly_store_t *self, const MDB_val *value, void *out,
                                   tly_arena_t *arena);
tly_store_lookup_t tly_store_get (tly_store_t *self, MDB_dbi dbi, const void *key_data,
                                  size_t key_size, tly_store_decode_fn *decode, void *out,
                                  tly_arena_t *arena);
//  Packs msg straight into the map: 0, or -1. With keep_existing a stored
//  value wins: 1 when there was one (nothing written).
int tly_store_put_message (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
                           const ProtobufCMessage *msg, bool keep_existing);

#endif
