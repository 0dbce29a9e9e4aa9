//  tly_store_partition - one partition's rows of the balance actor's state,
//  walked, cleared and stored one by one: what a state snapshot is made of
//  and loaded from.
#include "tly_store_private.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tly_object_id.h"

#define S_LOG_KEY_BYTES (TLY_KEY_BYTES + 8)

//  The kinds of object whose owners the store keeps.
static const tly_object_kind_t s_owned [] = { TLY_OBJ_BALANCE, TLY_OBJ_ROOT, TLY_OBJ_PURCHASE_LOG,
                                              TLY_OBJ_ORDER_LIST };

static void
s_object_prefix (tly_object_kind_t kind, uint32_t partition, uint8_t prefix [3])
{
    prefix [0] = (uint8_t) kind;
    prefix [1] = (uint8_t) (partition >> 8);
    prefix [2] = (uint8_t) partition;
}

//  What a walk over one key range does with each entry.
typedef int (s_entry_fn) (tly_store_t *self, MDB_cursor *cursor, const MDB_val *key,
                          const MDB_val *value, void *arg);

//  Calls fn for each entry of dbi whose key starts with prefix, in key order.
//  fn may delete the entry under the cursor (then it says so in *deleted).
static int
s_walk (tly_store_t *self, MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t prefix_size,
        s_entry_fn *fn, void *arg)
{
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return tly_store_lmdb_error (self, "cursor", rc);
    MDB_val key = { prefix_size, (void *) prefix };
    MDB_val value;
    int result = 0;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size < prefix_size || memcmp (key.mv_data, prefix, prefix_size) != 0)
            break;
        if (fn (self, cursor, &key, &value, arg) == -1) {
            result = -1;
            break;
        }
    }
    if (result == 0 && rc && rc != MDB_NOTFOUND)
        result = tly_store_lmdb_error (self, "cursor get", rc);
    mdb_cursor_close (cursor);
    return result;
}

//  ---------------------------------------------------------------- walking

typedef struct {
    MDB_txn *txn;
    tly_store_row_t table;
    tly_store_row_fn *fn;
    void *arg;
} s_each_t;

static int
s_each_entry (tly_store_t *self, MDB_cursor *cursor, const MDB_val *key, const MDB_val *value,
              void *arg)
{
    (void) self;
    (void) cursor;
    s_each_t *each = arg;
    return each->fn (each->table, key->mv_data, key->mv_size, value->mv_data, value->mv_size,
                     each->arg);
}

//  A balance's owner row names a user of the partition: its account and log.
static int
s_each_user (tly_store_t *self, MDB_cursor *cursor, const MDB_val *key, const MDB_val *value,
             void *arg)
{
    s_each_t *each = arg;
    if (value->mv_size != TLY_KEY_BYTES)
        return tly_store_bad_entry (self, "owner");
    if (each->fn (TLY_STORE_ROW_OWNER, key->mv_data, key->mv_size, value->mv_data, value->mv_size,
                  each->arg)
        == -1)
        return -1;
    uint8_t user [TLY_KEY_BYTES];
    memcpy (user, value->mv_data, sizeof user);
    MDB_val user_key = { sizeof user, user };
    MDB_val account;
    int rc = mdb_get (each->txn, self->accounts, &user_key, &account);
    if (rc == 0) {
        if (each->fn (TLY_STORE_ROW_ACCOUNT, user, sizeof user, account.mv_data, account.mv_size,
                      each->arg)
            == -1)
            return -1;
    } else if (rc != MDB_NOTFOUND)
        return tly_store_lmdb_error (self, "get", rc);
    (void) cursor;
    s_each_t log = *each;
    log.table = TLY_STORE_ROW_LOG;
    return s_walk (self, each->txn, self->log, user, sizeof user, s_each_entry, &log);
}

int
tly_store_each_row (tly_store_t *self, uint32_t partition, tly_store_row_fn *fn, void *arg,
                    uint64_t *applied_seq, uint64_t *epoch, int64_t *clock_ms)
{
    assert (self && fn && applied_seq && epoch && clock_ms);
    assert (partition < TLY_PARTITIONS_MAX);
    if (tly_store_read_begin (self) == -1)
        return -1;
    s_each_t each = { .txn = self->read, .fn = fn, .arg = arg };
    uint8_t prefix [3];
    int rc = tly_store_progress (self, partition, applied_seq, epoch) == -1
                     || tly_store_clock (self, clock_ms) == -1
                 ? -1
                 : 0;
    for (size_t i = 0; i < sizeof s_owned / sizeof s_owned [0] && rc == 0; i++) {
        s_object_prefix (s_owned [i], partition, prefix);
        each.table = TLY_STORE_ROW_OWNER;
        rc = s_walk (self, each.txn, self->owners, prefix, sizeof prefix,
                     s_owned [i] == TLY_OBJ_BALANCE ? s_each_user : s_each_entry, &each);
    }
    if (rc == 0) {
        s_object_prefix (TLY_OBJ_PURCHASE, partition, prefix);
        each.table = TLY_STORE_ROW_PURCHASE;
        rc = s_walk (self, each.txn, self->purchases, prefix, sizeof prefix, s_each_entry, &each);
    }
    if (rc == 0) {
        s_object_prefix (TLY_OBJ_ADJUSTMENT, partition, prefix);
        each.table = TLY_STORE_ROW_ADJUSTMENT;
        rc = s_walk (self, each.txn, self->purchases, prefix, sizeof prefix, s_each_entry, &each);
    }
    //  Orders, OrderLists and the OrderQueue: kept in purchases by kind.
    static const struct {
        tly_object_kind_t kind;
        tly_store_row_t table;
    } orders [] = { { TLY_OBJ_ORDER, TLY_STORE_ROW_ORDER },
                    { TLY_OBJ_ORDER_LIST, TLY_STORE_ROW_ORDER_LIST },
                    { TLY_OBJ_ORDER_QUEUE, TLY_STORE_ROW_ORDER_QUEUE } };
    for (size_t i = 0; i < sizeof orders / sizeof orders [0] && rc == 0; i++) {
        s_object_prefix (orders [i].kind, partition, prefix);
        each.table = orders [i].table;
        rc = s_walk (self, each.txn, self->purchases, prefix, sizeof prefix, s_each_entry, &each);
    }
    if (rc == 0) {
        s_object_prefix (TLY_OBJ_CATALOG, partition, prefix);
        each.table = TLY_STORE_ROW_CONFIG;
        rc = s_walk (self, each.txn, self->purchases, prefix, sizeof prefix, s_each_entry, &each);
        s_object_prefix (TLY_OBJ_PURCHASE, partition, prefix);  //  the dedupe walk's partition
    }
    if (rc == 0) {
        each.table = TLY_STORE_ROW_DEDUPE;
        rc = s_walk (self, each.txn, self->dedupe, prefix + 1, 2, s_each_entry, &each);
    }
    if (rc == 0) {
        uint8_t dropped [TLY_STORE_DROPPED_KEY_BYTES];
        tly_store_dropped_key (partition, dropped);
        each.table = TLY_STORE_ROW_META;
        rc = s_walk (self, each.txn, self->meta, dropped, sizeof dropped, s_each_entry, &each);
    }
    tly_store_read_end (self);
    return rc;
}

//  ---------------------------------------------------------------- clearing

static int
s_delete_entry (tly_store_t *self, MDB_cursor *cursor, const MDB_val *key, const MDB_val *value,
                void *arg)
{
    (void) key;
    (void) value;
    (void) arg;
    int rc = mdb_cursor_del (cursor, 0);
    return rc ? tly_store_lmdb_error (self, "delete", rc) : 0;
}

//  Deletes every entry of dbi under prefix. Each delete moves the cursor on,
//  so the walk starts over at the prefix until nothing is left under it.
static int
s_delete_range (tly_store_t *self, MDB_dbi dbi, const uint8_t *prefix, size_t prefix_size)
{
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (self->txn, dbi, &cursor);
    if (rc)
        return tly_store_lmdb_error (self, "cursor", rc);
    MDB_val key, value;
    for (;;) {
        key = (MDB_val) { prefix_size, (void *) prefix };
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        if (rc || key.mv_size < prefix_size || memcmp (key.mv_data, prefix, prefix_size) != 0)
            break;
        if ((rc = s_delete_entry (self, cursor, &key, &value, NULL)) != 0)
            break;
    }
    mdb_cursor_close (cursor);
    if (rc == -1)
        return -1;
    return rc && rc != MDB_NOTFOUND ? tly_store_lmdb_error (self, "delete", rc) : 0;
}

int
tly_store_clear_partition (tly_store_t *self, uint32_t partition)
{
    assert (self && self->txn);
    assert (partition < TLY_PARTITIONS_MAX);
    uint8_t prefix [3];
    //  First the users the balance owners name: their accounts and logs.
    s_object_prefix (TLY_OBJ_BALANCE, partition, prefix);
    for (;;) {
        MDB_cursor *cursor = NULL;
        int rc = mdb_cursor_open (self->txn, self->owners, &cursor);
        if (rc)
            return tly_store_lmdb_error (self, "cursor", rc);
        MDB_val key = { sizeof prefix, prefix }, value;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        bool more = rc == 0 && key.mv_size >= sizeof prefix
                    && memcmp (key.mv_data, prefix, sizeof prefix) == 0;
        uint8_t user [TLY_KEY_BYTES];
        if (more && value.mv_size == TLY_KEY_BYTES)
            memcpy (user, value.mv_data, sizeof user);
        if (more)
            rc = mdb_cursor_del (cursor, 0);
        mdb_cursor_close (cursor);
        if (!more)
            break;
        if (rc)
            return tly_store_lmdb_error (self, "delete", rc);
        if (value.mv_size != TLY_KEY_BYTES)
            continue;
        MDB_val user_key = { sizeof user, user };
        rc = mdb_del (self->txn, self->accounts, &user_key, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return tly_store_lmdb_error (self, "delete", rc);
        if (s_delete_range (self, self->log, user, sizeof user) == -1)
            return -1;
    }
    for (size_t i = 0; i < sizeof s_owned / sizeof s_owned [0]; i++) {
        s_object_prefix (s_owned [i], partition, prefix);
        if (s_delete_range (self, self->owners, prefix, sizeof prefix) == -1)
            return -1;
    }
    static const tly_object_kind_t orders [] = { TLY_OBJ_ORDER, TLY_OBJ_ORDER_LIST,
                                                 TLY_OBJ_ORDER_QUEUE };
    for (size_t i = 0; i < sizeof orders / sizeof orders [0]; i++) {
        s_object_prefix (orders [i], partition, prefix);
        if (s_delete_range (self, self->purchases, prefix, sizeof prefix) == -1)
            return -1;
    }
    uint8_t adjustments [3], config [3];
    s_object_prefix (TLY_OBJ_ADJUSTMENT, partition, adjustments);
    s_object_prefix (TLY_OBJ_CATALOG, partition, config);
    s_object_prefix (TLY_OBJ_PURCHASE, partition, prefix);
    if (s_delete_range (self, self->purchases, prefix, sizeof prefix) == -1
        || s_delete_range (self, self->purchases, adjustments, sizeof adjustments) == -1
        || s_delete_range (self, self->purchases, config, sizeof config) == -1
        || s_delete_range (self, self->dedupe, prefix + 1, 2) == -1)
        return -1;
    uint8_t dropped [TLY_STORE_DROPPED_KEY_BYTES];
    tly_store_dropped_key (partition, dropped);
    MDB_val meta = { sizeof dropped, dropped };
    int rc = mdb_del (self->txn, self->meta, &meta, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return tly_store_lmdb_error (self, "delete", rc);
    uint8_t key [4] = { (uint8_t) (partition >> 24), (uint8_t) (partition >> 16),
                        (uint8_t) (partition >> 8), (uint8_t) partition };
    MDB_val progress = { sizeof key, key };
    rc = mdb_del (self->txn, self->partitions, &progress, NULL);
    return rc && rc != MDB_NOTFOUND ? tly_store_lmdb_error (self, "delete", rc) : 0;
}

//  ---------------------------------------------------------------- storing

//  Whether an object key (kind | partition | tail) is of kind in partition.
static bool
s_object_of (const uint8_t *key, size_t size, tly_object_kind_t kind, uint32_t partition)
{
    uint8_t prefix [3];
    s_object_prefix (kind, partition, prefix);
    return size == TLY_STORE_OBJECT_BYTES && memcmp (key, prefix, sizeof prefix) == 0;
}

int
tly_store_put_row (tly_store_t *self, uint32_t partition, tly_store_row_t table, const uint8_t *key,
                   size_t key_size, const uint8_t *value, size_t value_size)
{
    assert (self && self->txn);
    assert (partition < TLY_PARTITIONS_MAX);
    MDB_dbi dbi;
    bool good;
    switch (table) {
        case TLY_STORE_ROW_ACCOUNT:
            dbi = self->accounts;
            good = key_size == TLY_KEY_BYTES && value_size > 0;
            break;
        case TLY_STORE_ROW_LOG:
            dbi = self->log;
            good = key_size == S_LOG_KEY_BYTES
                   && (s_object_of (value, value_size, TLY_OBJ_PURCHASE, partition)
                       || s_object_of (value, value_size, TLY_OBJ_ADJUSTMENT, partition));
            break;
        case TLY_STORE_ROW_OWNER:
            dbi = self->owners;
            good = value_size == TLY_KEY_BYTES
                   && (s_object_of (key, key_size, TLY_OBJ_BALANCE, partition)
                       || s_object_of (key, key_size, TLY_OBJ_ROOT, partition)
                       || s_object_of (key, key_size, TLY_OBJ_PURCHASE_LOG, partition)
                       || s_object_of (key, key_size, TLY_OBJ_ORDER_LIST, partition));
            break;
        case TLY_STORE_ROW_PURCHASE:
            dbi = self->purchases;
            good = s_object_of (key, key_size, TLY_OBJ_PURCHASE, partition) && value_size > 0;
            break;
        case TLY_STORE_ROW_ADJUSTMENT:
            dbi = self->purchases;
            good = s_object_of (key, key_size, TLY_OBJ_ADJUSTMENT, partition) && value_size > 0;
            break;
        case TLY_STORE_ROW_ORDER:
            dbi = self->purchases;
            good = s_object_of (key, key_size, TLY_OBJ_ORDER, partition) && value_size > 0;
            break;
        case TLY_STORE_ROW_ORDER_LIST:
            dbi = self->purchases;
            good = s_object_of (key, key_size, TLY_OBJ_ORDER_LIST, partition);
            break;
        case TLY_STORE_ROW_ORDER_QUEUE:
            dbi = self->purchases;
            good = s_object_of (key, key_size, TLY_OBJ_ORDER_QUEUE, partition) && value_size >= 8;
            break;
        case TLY_STORE_ROW_CONFIG: {
            uint8_t config [TLY_STORE_OBJECT_BYTES];
            tly_store_config_key (config);
            dbi = self->purchases;
            good = partition == 0 && key_size == sizeof config
                   && memcmp (key, config, sizeof config) == 0;
            break;
        }
        case TLY_STORE_ROW_DEDUPE:
            dbi = self->dedupe;
            good = key_size == TLY_STORE_DEDUPE_KEY_BYTES
                   && ((uint32_t) key [0] << 8 | key [1]) == partition;
            break;
        case TLY_STORE_ROW_META: {
            uint8_t dropped [TLY_STORE_DROPPED_KEY_BYTES];
            tly_store_dropped_key (partition, dropped);
            dbi = self->meta;
            good = key_size == sizeof dropped && memcmp (key, dropped, sizeof dropped) == 0
                   && value_size == 8;
            break;
        }
        default: return -1;
    }
    if (!good)
        return -1;
    MDB_val k = { key_size, (void *) key };
    MDB_val v = { value_size, (void *) value };
    int slot = table == TLY_STORE_ROW_PURCHASE ? 0 : table == TLY_STORE_ROW_DEDUPE ? 1 : -1;
    if (slot < 0) {
        int rc = mdb_put (self->txn, dbi, &k, &v, 0);
        return rc ? tly_store_lmdb_error (self, "put", rc) : 0;
    }
    int rc = self->appending [slot] ? 0 : mdb_cursor_open (self->txn, dbi, &self->appending [slot]);
    //  MDB_APPEND refuses (MDB_KEYEXIST, nothing written) a key that does
    //  not sort after the table's last: that one goes where it belongs, and
    //  so do the rest until tly_store_rows_end (rows in key order below a
    //  higher partition's stay below it: no search twice per row).
    if (rc == 0 && !self->append_off [slot]) {
        rc = mdb_cursor_put (self->appending [slot], &k, &v, MDB_APPEND);
        if (rc != MDB_KEYEXIST)
            return rc ? tly_store_lmdb_error (self, "put", rc) : 0;
        self->append_off [slot] = true;
        rc = 0;
    }
    if (rc == 0)
        rc = mdb_cursor_put (self->appending [slot], &k, &v, 0);
    return rc ? tly_store_lmdb_error (self, "put", rc) : 0;
}

void
tly_store_rows_end (tly_store_t *self)
{
    assert (self);
    for (size_t i = 0; i < sizeof self->appending / sizeof self->appending [0]; i++) {
        if (self->appending [i])
            mdb_cursor_close (self->appending [i]);
        self->appending [i] = NULL;
        self->append_off [i] = false;
    }
}
