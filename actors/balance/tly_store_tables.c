//  tly_store_tables - the balance actor's LMDB tables, typed.
#include "tly_store_private.h"

#include <assert.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_object_id.h"

#define S_ACCOUNT_FIXED  33  //  balance, last_updated, created, purchases (8 each), id length
#define S_ACCOUNT_BUCKET 16  //  after the id, once the rate limit took a token: tokens, time
#define S_ACCOUNT_ORDERS 44  //  after the bucket, once the user has an order (tly_store.h)
#define S_PROGRESS_BYTES 16  //  applied partition_seq, epoch (u64 BE)
#define S_LOG_KEY_BYTES  (TLY_KEY_BYTES + 8)
#define S_CLOCK_KEY      "clock"

static void
s_partition_key (uint32_t partition, uint8_t key [4])
{
    key [0] = (uint8_t) (partition >> 24);
    key [1] = (uint8_t) (partition >> 16);
    key [2] = (uint8_t) (partition >> 8);
    key [3] = (uint8_t) partition;
}

tly_store_lookup_t
tly_store_get (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
               tly_store_decode_fn *decode, void *out, tly_arena_t *arena)
{
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return TLY_STORE_ERROR;
    MDB_val key = { key_size, (void *) key_data };
    MDB_val value;
    tly_store_lookup_t found = TLY_STORE_ERROR;
    int rc = mdb_get (txn, dbi, &key, &value);
    if (rc == 0)
        found = decode (self, &value, out, arena) == 0 ? TLY_STORE_FOUND : TLY_STORE_ERROR;
    else if (rc == MDB_NOTFOUND)
        found = TLY_STORE_ABSENT;
    else
        tly_store_lmdb_error (self, "get", rc);
    tly_store_txn_end (self, txn);
    return found;
}

static int
s_put (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size, const void *data,
       size_t size)
{
    assert (self->txn);
    MDB_val key = { key_size, (void *) key_data };
    MDB_val value = { size, (void *) data };
    int rc = mdb_put (self->txn, dbi, &key, &value, 0);
    return rc ? tly_store_lmdb_error (self, "put", rc) : 0;
}

int
tly_store_put_message (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
                       const ProtobufCMessage *msg, bool keep_existing)
{
    assert (self->txn);
    MDB_val key = { key_size, (void *) key_data };
    size_t size = protobuf_c_message_get_packed_size (msg);
    MDB_val value = { size, NULL };
    unsigned flags = MDB_RESERVE | (keep_existing ? MDB_NOOVERWRITE : 0);
    int rc = mdb_put (self->txn, dbi, &key, &value, flags);
    if (rc == MDB_KEYEXIST && keep_existing)
        return 1;
    if (rc)
        return tly_store_lmdb_error (self, "put", rc);
    size_t packed = protobuf_c_message_pack (msg, value.mv_data);
    assert (packed == size);
    return 0;
}

//  ---------------------------------------------------------------- accounts

static int
s_decode_account (tly_store_t *self, const uint8_t *data, size_t size, tly_account_state_t *state)
{
    uint8_t id_size = size >= S_ACCOUNT_FIXED ? data [S_ACCOUNT_FIXED - 1] : 0;
    size_t plain = (size_t) S_ACCOUNT_FIXED + id_size;
    if (id_size == 0 || id_size >= TLY_ID_MAX
        || (size != plain && size != plain + S_ACCOUNT_BUCKET
            && size != plain + S_ACCOUNT_BUCKET + S_ACCOUNT_ORDERS))
        return tly_store_bad_entry (self, "account");
    state->balance = (int64_t) tly_get_be64 (data);
    state->last_updated = (int64_t) tly_get_be64 (data + 8);
    state->created = (int64_t) tly_get_be64 (data + 16);
    state->purchases = tly_get_be64 (data + 24);
    memcpy (state->balance_id, data + S_ACCOUNT_FIXED, id_size);
    state->balance_id [id_size] = 0;
    bool bucket = size >= plain + S_ACCOUNT_BUCKET;
    state->bucket_tokens = bucket ? (int64_t) tly_get_be64 (data + plain) : 0;
    state->bucket_ms = bucket ? (int64_t) tly_get_be64 (data + plain + 8) : 0;
    //  A row written before orders (or of a user who never had one): the
    //  values it stands for.
    state->held = 0;
    state->balance_version = state->log_version = tly_store_derived_version (state->purchases);
    state->orders_created = 0;
    state->orders_open = 0;
    state->order_list_version = 1;
    if (size == plain + S_ACCOUNT_BUCKET + S_ACCOUNT_ORDERS) {
        const uint8_t *orders = data + plain + S_ACCOUNT_BUCKET;
        state->held = (int64_t) tly_get_be64 (orders);
        state->balance_version = tly_get_be64 (orders + 8);
        state->log_version = tly_get_be64 (orders + 16);
        state->orders_created = tly_get_be64 (orders + 24);
        state->orders_open = tly_get_be32 (orders + 32);
        state->order_list_version = tly_get_be64 (orders + 36);
    }
    if (state->balance < 0 || state->held < 0 || state->held > state->balance)
        return tly_store_bad_entry (self, "account");
    return 0;
}

//  Whether the row needs its order fields: they differ from what a row
//  without them reads as.
static bool
s_account_orders (const tly_account_state_t *state)
{
    uint64_t derived = tly_store_derived_version (state->purchases);
    return state->held != 0 || state->balance_version != derived || state->log_version != derived
           || state->orders_created != 0 || state->orders_open != 0
           || state->order_list_version != 1;
}

static int
s_get_account (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    return s_decode_account (self, value->mv_data, value->mv_size, out);
}

tly_store_lookup_t
tly_store_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                   tly_account_state_t *state)
{
    assert (self && user && state);
    return tly_store_get (self, self->accounts, user, TLY_KEY_BYTES, s_get_account, state, NULL);
}

int
tly_store_put_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                       const tly_account_state_t *state)
{
    assert (self && user && state);
    assert (state->balance >= 0);
    size_t id_size = strlen (state->balance_id);
    assert (id_size > 0 && id_size < TLY_ID_MAX);
    assert (state->held >= 0 && state->held <= state->balance);
    uint8_t data [S_ACCOUNT_FIXED + TLY_ID_MAX + S_ACCOUNT_BUCKET + S_ACCOUNT_ORDERS];
    tly_put_be64 (data, (uint64_t) state->balance);
    tly_put_be64 (data + 8, (uint64_t) state->last_updated);
    tly_put_be64 (data + 16, (uint64_t) state->created);
    tly_put_be64 (data + 24, state->purchases);
    data [S_ACCOUNT_FIXED - 1] = (uint8_t) id_size;
    memcpy (data + S_ACCOUNT_FIXED, state->balance_id, id_size);
    size_t size = S_ACCOUNT_FIXED + id_size;
    //  An account whose bucket was never used has none: the row is as it
    //  was before rate limits (and a full bucket reads back from zeros).
    //  So is one of a user who never had an order.
    bool orders = s_account_orders (state);
    if (state->bucket_tokens != 0 || state->bucket_ms != 0 || orders) {
        tly_put_be64 (data + size, (uint64_t) state->bucket_tokens);
        tly_put_be64 (data + size + 8, (uint64_t) state->bucket_ms);
        size += S_ACCOUNT_BUCKET;
    }
    if (orders) {
        tly_put_be64 (data + size, (uint64_t) state->held);
        tly_put_be64 (data + size + 8, state->balance_version);
        tly_put_be64 (data + size + 16, state->log_version);
        tly_put_be64 (data + size + 24, state->orders_created);
        tly_put_be32 (data + size + 32, state->orders_open);
        tly_put_be64 (data + size + 36, state->order_list_version);
        size += S_ACCOUNT_ORDERS;
    }
    return s_put (self, self->accounts, user, TLY_KEY_BYTES, data, size);
}

int
tly_store_each_account (tly_store_t *self, tly_store_account_fn *fn, void *arg)
{
    assert (self && fn);
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return -1;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, self->accounts, &cursor);
    if (rc) {
        tly_store_txn_end (self, txn);
        return tly_store_lmdb_error (self, "cursor", rc);
    }
    MDB_val key, value;
    tly_store_walk_t walk = TLY_STORE_WALK_NEXT;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
         rc == 0 && walk == TLY_STORE_WALK_NEXT;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        tly_account_state_t state;
        if (key.mv_size != TLY_KEY_BYTES
            || s_decode_account (self, value.mv_data, value.mv_size, &state) == -1) {
            if (key.mv_size != TLY_KEY_BYTES)
                tly_store_bad_entry (self, "account");
            walk = TLY_STORE_WALK_ERROR;
            break;
        }
        walk = fn (key.mv_data, &state, arg);
        assert (walk >= TLY_STORE_WALK_ERROR && walk <= TLY_STORE_WALK_STOP);
    }
    if (walk == TLY_STORE_WALK_NEXT && rc != MDB_NOTFOUND) {
        tly_store_lmdb_error (self, "cursor get", rc);
        walk = TLY_STORE_WALK_ERROR;
    }
    mdb_cursor_close (cursor);
    tly_store_txn_end (self, txn);
    return walk == TLY_STORE_WALK_ERROR ? -1 : 0;
}

//  ---------------------------------------------------------------- progress

static int
s_get_progress (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    uint64_t *progress = out;
    if (value->mv_size != S_PROGRESS_BYTES)
        return tly_store_bad_entry (self, "partition");
    progress [0] = tly_get_be64 (value->mv_data);
    progress [1] = tly_get_be64 ((const uint8_t *) value->mv_data + 8);
    return 0;
}

int
tly_store_progress (tly_store_t *self, uint32_t partition, uint64_t *applied_seq, uint64_t *epoch)
{
    assert (self && applied_seq && epoch);
    uint8_t key [4];
    s_partition_key (partition, key);
    uint64_t progress [2] = { 0, 0 };
    tly_store_lookup_t found = tly_store_get (self, self->partitions, key, sizeof key,
                                              s_get_progress, progress, NULL);
    *applied_seq = progress [0];
    *epoch = progress [1];
    return found == TLY_STORE_ERROR ? -1 : 0;
}

int
tly_store_put_progress (tly_store_t *self, uint32_t partition, uint64_t applied_seq, uint64_t epoch)
{
    assert (self);
    uint8_t key [4];
    uint8_t data [S_PROGRESS_BYTES];
    s_partition_key (partition, key);
    tly_put_be64 (data, applied_seq);
    tly_put_be64 (data + 8, epoch);
    return s_put (self, self->partitions, key, sizeof key, data, sizeof data);
}

//  ---------------------------------------------------------------- dedupe

static int
s_get_result (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__MessageResult **result_p = out;
    *result_p = tally__message_result__unpack (tly_arena_allocator (arena), value->mv_size,
                                               value->mv_data);
    return *result_p ? 0 : tly_store_bad_entry (self, "dedupe");
}

void
tly_store_dedupe_key (uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                      const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                      uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES])
{
    assert (user && message_id && key);
    assert (partition < TLY_PARTITIONS_MAX);
    key [0] = (uint8_t) (partition >> 8);
    key [1] = (uint8_t) partition;
    memcpy (key + 2, message_id, TLY_MESSAGE_ID_BYTES);
    memcpy (key + 2 + TLY_MESSAGE_ID_BYTES, user, TLY_KEY_BYTES);
}

tly_store_lookup_t
tly_store_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                  tly_arena_t *arena, Tally__MessageResult **result_p)
{
    assert (self && key && arena && result_p);
    return tly_store_get (self, self->dedupe, key, TLY_STORE_DEDUPE_KEY_BYTES, s_get_result,
                          result_p, arena);
}

int
tly_store_put_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                      const Tally__MessageResult *result, bool keep_existing)
{
    assert (self && key && result);
    return tly_store_put_message (self, self->dedupe, key, TLY_STORE_DEDUPE_KEY_BYTES,
                                  &result->base, keep_existing);
}

int
tly_store_expire_results (tly_store_t *self, int64_t before_ms, size_t max, size_t *expired)
{
    assert (self && expired);
    assert (self->txn);
    *expired = 0;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (self->txn, self->dedupe, &cursor);
    if (rc)
        return tly_store_lmdb_error (self, "cursor", rc);
    MDB_val key, value;
    //  Each partition's range is in time order: take its front, then jump
    //  to the next partition's. A delete leaves the cursor on the next entry.
    rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0 && *expired < max) {
        if (key.mv_size != TLY_STORE_DEDUPE_KEY_BYTES) {
            mdb_cursor_close (cursor);
            return tly_store_bad_entry (self, "dedupe");
        }
        const uint8_t *data = key.mv_data;
        if (tly_message_id_time (data + 2) < before_ms) {
            uint8_t gone [TLY_STORE_DEDUPE_KEY_BYTES];
            memcpy (gone, data, sizeof gone);
            if ((rc = mdb_cursor_del (cursor, 0)) != 0)
                break;
            (*expired)++;
            key = (MDB_val) { sizeof gone, gone };
            rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
            continue;
        }
        uint32_t partition = (uint32_t) data [0] << 8 | data [1];
        if (partition + 1 >= TLY_PARTITIONS_MAX)
            break;
        uint8_t next [2] = { (uint8_t) ((partition + 1) >> 8), (uint8_t) (partition + 1) };
        key = (MDB_val) { sizeof next, next };
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close (cursor);
    if (rc && rc != MDB_NOTFOUND)
        return tly_store_lmdb_error (self, "expire", rc);
    return 0;
}

int
tly_store_results_count (tly_store_t *self, size_t *count)
{
    assert (self && count);
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return -1;
    MDB_stat stat;
    int rc = mdb_stat (txn, self->dedupe, &stat);
    tly_store_txn_end (self, txn);
    if (rc)
        return tly_store_lmdb_error (self, "stat", rc);
    *count = stat.ms_entries;
    return 0;
}

//  ---------------------------------------------------------------- the dedupe clock

static int
s_get_clock (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    if (value->mv_size != 8)
        return tly_store_bad_entry (self, "clock");
    *(int64_t *) out = (int64_t) tly_get_be64 (value->mv_data);
    return 0;
}

int
tly_store_clock (tly_store_t *self, int64_t *clock_ms)
{
    assert (self && clock_ms);
    *clock_ms = 0;
    return tly_store_get (self, self->meta, S_CLOCK_KEY, sizeof S_CLOCK_KEY - 1, s_get_clock,
                          clock_ms, NULL)
                   == TLY_STORE_ERROR
               ? -1
               : 0;
}

int
tly_store_put_clock (tly_store_t *self, int64_t clock_ms)
{
    assert (self);
    uint8_t data [8];
    tly_put_be64 (data, (uint64_t) clock_ms);
    return s_put (self, self->meta, S_CLOCK_KEY, sizeof S_CLOCK_KEY - 1, data, sizeof data);
}

static int
s_get_flag (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) self;
    (void) value;
    (void) arena;
    *(bool *) out = true;
    return 0;
}

int
tly_store_flag (tly_store_t *self, const char *name, bool *set)
{
    assert (self && name && set);
    *set = false;
    return tly_store_get (self, self->meta, name, strlen (name), s_get_flag, set, NULL)
                   == TLY_STORE_ERROR
               ? -1
               : 0;
}

int
tly_store_put_flag (tly_store_t *self, const char *name)
{
    assert (self && name);
    return s_put (self, self->meta, name, strlen (name), "", 0);
}

//  ---------------------------------------------------------------- purchases and the log

//  A purchase's key is its object ID in bytes. Returns 0 or -1.
static int
s_purchase_key (const char *id, uint8_t key [TLY_STORE_OBJECT_BYTES])
{
    return tly_object_key_parse (id, key) == 0 && key [0] == TLY_OBJ_PURCHASE ? 0 : -1;
}

static int
s_get_purchase (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__PurchaseRecord **record_p = out;
    *record_p = tally__purchase_record__unpack (tly_arena_allocator (arena), value->mv_size,
                                                value->mv_data);
    return *record_p ? 0 : tly_store_bad_entry (self, "purchase");
}

tly_store_lookup_t
tly_store_purchase (tly_store_t *self, const char *id, tly_arena_t *arena,
                    Tally__PurchaseRecord **record_p)
{
    assert (self && arena && record_p);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (s_purchase_key (id, key) == -1)
        return TLY_STORE_ABSENT;
    return tly_store_get (self, self->purchases, key, sizeof key, s_get_purchase, record_p, arena);
}

int
tly_store_put_purchase (tly_store_t *self, const Tally__PurchaseRecord *record)
{
    assert (self && record);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (s_purchase_key (record->id, key) == -1)
        return -1;
    return tly_store_put_message (self, self->purchases, key, sizeof key, &record->base, false);
}

static int
s_get_adjustment (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__AdjustmentRecord **record_p = out;
    *record_p = tally__adjustment_record__unpack (tly_arena_allocator (arena), value->mv_size,
                                                  value->mv_data);
    return *record_p ? 0 : tly_store_bad_entry (self, "adjustment");
}

tly_store_lookup_t
tly_store_adjustment (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                      tly_arena_t *arena, Tally__AdjustmentRecord **record_p)
{
    assert (self && key && arena && record_p);
    if (key [0] != TLY_OBJ_ADJUSTMENT)
        return TLY_STORE_ABSENT;
    return tly_store_get (self, self->purchases, key, TLY_STORE_OBJECT_BYTES, s_get_adjustment,
                          record_p, arena);
}

int
tly_store_put_adjustment (tly_store_t *self, const Tally__AdjustmentRecord *record)
{
    assert (self && record);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (tly_object_key_parse (record->id, key) == -1 || key [0] != TLY_OBJ_ADJUSTMENT)
        return -1;
    return tly_store_put_message (self, self->purchases, key, sizeof key, &record->base, false);
}

void
tly_store_config_key (uint8_t key [TLY_STORE_OBJECT_BYTES])
{
    memset (key, 0, TLY_STORE_OBJECT_BYTES);
    key [0] = TLY_OBJ_CATALOG;
}

static int
s_get_config (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__Config **config_p = out;
    *config_p = tally__config__unpack (tly_arena_allocator (arena), value->mv_size, value->mv_data);
    return *config_p ? 0 : tly_store_bad_entry (self, "config");
}

tly_store_lookup_t
tly_store_config (tly_store_t *self, tly_arena_t *arena, Tally__Config **config_p)
{
    assert (self && arena && config_p);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_store_config_key (key);
    return tly_store_get (self, self->purchases, key, sizeof key, s_get_config, config_p, arena);
}

int
tly_store_put_config (tly_store_t *self, const Tally__Config *config)
{
    assert (self && config);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    tly_store_config_key (key);
    return tly_store_put_message (self, self->purchases, key, sizeof key, &config->base, false);
}

static void
s_log_key (const uint8_t user [TLY_KEY_BYTES], uint64_t number, uint8_t key [S_LOG_KEY_BYTES])
{
    memcpy (key, user, TLY_KEY_BYTES);
    tly_put_be64 (key + TLY_KEY_BYTES, number);
}

int
tly_store_put_log (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t number,
                   const char *id)
{
    assert (self && user && id);
    assert (number > 0);
    uint8_t key [S_LOG_KEY_BYTES];
    uint8_t entry [TLY_STORE_OBJECT_BYTES];
    if (tly_object_key_parse (id, entry) == -1
        || (entry [0] != TLY_OBJ_PURCHASE && entry [0] != TLY_OBJ_ADJUSTMENT))
        return -1;
    s_log_key (user, number, key);
    return s_put (self, self->log, key, sizeof key, entry, sizeof entry);
}

int
tly_store_drop_purchases (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t last,
                          size_t *dropped, int64_t *newest_ms)
{
    assert (self && user && dropped && newest_ms);
    assert (self->txn);
    *dropped = 0;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (self->txn, self->log, &cursor);
    if (rc)
        return tly_store_lmdb_error (self, "cursor", rc);
    //  Always the user's oldest kept record: each delete makes the next one
    //  oldest. In a steady state it is the only one to drop (more after
    //  --keep-purchases was lowered).
    uint8_t start [S_LOG_KEY_BYTES];
    s_log_key (user, 0, start);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); rc == 0;
         key = (MDB_val) { sizeof start, start },
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE)) {
        if (key.mv_size != S_LOG_KEY_BYTES || memcmp (key.mv_data, user, TLY_KEY_BYTES) != 0
            || tly_get_be64 ((const uint8_t *) key.mv_data + TLY_KEY_BYTES) > last)
            break;  //  the next user's log, or a record to keep
        if (value.mv_size != TLY_STORE_OBJECT_BYTES) {
            mdb_cursor_close (cursor);
            return tly_store_bad_entry (self, "log");
        }
        uint8_t purchase [TLY_STORE_OBJECT_BYTES];
        memcpy (purchase, value.mv_data, sizeof purchase);
        if (purchase [0] == TLY_OBJ_ADJUSTMENT) {
            //  An adjustment's record stays: only its log entry goes.
            rc = mdb_cursor_del (cursor, 0);
            if (rc)
                break;
            continue;
        }
        MDB_val purchase_key = { sizeof purchase, purchase };
        rc = mdb_del (self->txn, self->purchases, &purchase_key, NULL);
        if (rc == MDB_NOTFOUND) {
            mdb_cursor_close (cursor);
            return tly_store_bad_entry (self, "log");  //  a log entry without its record
        }
        if (rc == 0)
            rc = mdb_cursor_del (cursor, 0);
        if (rc)
            break;
        int64_t made = tly_message_id_time (purchase + 3);
        if (made > *newest_ms)
            *newest_ms = made;
        (*dropped)++;
    }
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? tly_store_lmdb_error (self, "drop purchase", rc) : 0;
}

static int
s_get_dropped (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    int64_t time_ms = value->mv_size == 8 ? (int64_t) tly_get_be64 (value->mv_data) : -1;
    if (time_ms < 0)
        return tly_store_bad_entry (self, "dropped");
    *(int64_t *) out = time_ms;
    return 0;
}

void
tly_store_dropped_key (uint32_t partition, uint8_t key [TLY_STORE_DROPPED_KEY_BYTES])
{
    memcpy (key, TLY_STORE_DROPPED_KEY, sizeof TLY_STORE_DROPPED_KEY - 1);
    s_partition_key (partition, key + sizeof TLY_STORE_DROPPED_KEY - 1);
}

int
tly_store_dropped (tly_store_t *self, uint32_t partition, int64_t *time_ms)
{
    assert (self && time_ms);
    uint8_t key [TLY_STORE_DROPPED_KEY_BYTES];
    tly_store_dropped_key (partition, key);
    *time_ms = -1;
    return tly_store_get (self, self->meta, key, sizeof key, s_get_dropped, time_ms, NULL)
                   == TLY_STORE_ERROR
               ? -1
               : 0;
}

int
tly_store_put_dropped (tly_store_t *self, uint32_t partition, int64_t time_ms)
{
    assert (self);
    assert (time_ms >= 0);
    uint8_t key [TLY_STORE_DROPPED_KEY_BYTES];
    uint8_t data [8];
    tly_store_dropped_key (partition, key);
    tly_put_be64 (data, (uint64_t) time_ms);
    return s_put (self, self->meta, key, sizeof key, data, sizeof data);
}

//  Walks the log from first with cursor, looking each entry's record up in txn.
static int
s_read_log (tly_store_t *self, MDB_txn *txn, MDB_cursor *cursor, const uint8_t *user,
            uint64_t first, size_t max, tly_arena_t *arena, tly_store_entries_t *entries)
{
    size_t *count = &entries->count;
    uint8_t start [S_LOG_KEY_BYTES];
    s_log_key (user, first, start);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    int rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    for (; rc == 0 && *count < max; rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size != S_LOG_KEY_BYTES || memcmp (key.mv_data, user, TLY_KEY_BYTES) != 0)
            return 0;  //  the next user's log
        uint64_t number = tly_get_be64 ((const uint8_t *) key.mv_data + TLY_KEY_BYTES);
        if (*count == 0 && number > first)
            return 0;  //  first was dropped: the log starts later
        if (number != first + *count || value.mv_size != TLY_STORE_OBJECT_BYTES)
            return tly_store_bad_entry (self, "log");
        MDB_val record;
        rc = mdb_get (txn, self->purchases, &value, &record);
        if (rc)
            return rc == MDB_NOTFOUND ? tly_store_bad_entry (self, "log")
                                      : tly_store_lmdb_error (self, "get", rc);
        if (((const uint8_t *) value.mv_data) [0] == TLY_OBJ_ADJUSTMENT) {
            if (s_get_adjustment (self, &record, &entries->adjustments [entries->n_adjustments],
                                  arena)
                == -1)
                return -1;
            entries->n_adjustments++;
        } else {
            if (s_get_purchase (self, &record, &entries->purchases [entries->n_purchases], arena)
                == -1)
                return -1;
            entries->n_purchases++;
        }
        (*count)++;
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : tly_store_lmdb_error (self, "cursor get", rc);
}

int
tly_store_log (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first, size_t max,
               tly_arena_t *arena, Tally__PurchaseRecord **records, size_t *count)
{
    assert (records && count);
    tly_store_entries_t entries = {
        .purchases = records,
        .adjustments = tly_arena_alloc (arena, (max ? max : 1) * sizeof (Tally__AdjustmentRecord *))
    };
    int rc = tly_store_log_entries (self, user, first, max, arena, &entries);
    *count = entries.n_purchases;
    return rc;
}

int
tly_store_log_entries (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                       size_t max, tly_arena_t *arena, tly_store_entries_t *entries)
{
    assert (self && user && arena && entries && entries->purchases && entries->adjustments);
    assert (first > 0);
    entries->count = entries->n_purchases = entries->n_adjustments = 0;
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return -1;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, self->log, &cursor);
    if (rc == 0) {
        rc = s_read_log (self, txn, cursor, user, first, max, arena, entries);
        mdb_cursor_close (cursor);
    } else
        rc = tly_store_lmdb_error (self, "cursor", rc);
    tly_store_txn_end (self, txn);
    return rc;
}

//  ---------------------------------------------------------------- owners

static int
s_get_owner (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    if (value->mv_size != TLY_KEY_BYTES)
        return tly_store_bad_entry (self, "owner");
    memcpy (out, value->mv_data, TLY_KEY_BYTES);
    return 0;
}

tly_store_lookup_t
tly_store_owner (tly_store_t *self, const uint8_t id [TLY_STORE_OBJECT_BYTES],
                 uint8_t user [TLY_KEY_BYTES])
{
    assert (self && id && user);
    return tly_store_get (self, self->owners, id, TLY_STORE_OBJECT_BYTES, s_get_owner, user, NULL);
}

int
tly_store_put_owner (tly_store_t *self, const uint8_t id [TLY_STORE_OBJECT_BYTES],
                     const uint8_t user [TLY_KEY_BYTES])
{
    assert (self && id && user);
    return s_put (self, self->owners, id, TLY_STORE_OBJECT_BYTES, user, TLY_KEY_BYTES);
}
