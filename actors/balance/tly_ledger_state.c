//  tly_ledger_state - a balance actor's state as the ledger reads it, and a
//  partition's rows for state snapshots (see tly_ledger.h).
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_log.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_partition.h"

//  ---------------------------------------------------------------- settings and space

void
tly_ledger_set_snapshot_every (tly_ledger_t *self, uint64_t records)
{
    assert (self);
    assert (records > 0);
    self->snapshot_every = records;
}

const tly_ledger_limits_t *
tly_ledger_limits (tly_ledger_t *self)
{
    assert (self);
    return &self->limits;
}

bool
tly_ledger_corrupt (tly_ledger_t *self)
{
    assert (self);
    return tly_store_corrupt (self->store);
}

void
tly_ledger_set_map_max (tly_ledger_t *self, size_t map_max)
{
    assert (self);
    tly_store_set_map_max (self->store, map_max);
}

tly_store_space_t
tly_ledger_space (tly_ledger_t *self)
{
    assert (self);
    return tly_store_space (self->store);
}

int
tly_ledger_grow (tly_ledger_t *self)
{
    assert (self);
    return tly_store_grow (self->store);
}

//  ---------------------------------------------------------------- versions

void
tly_ledger_set_versions (tly_ledger_t *self, const tly_account_state_t *state, uint64_t queue)
{
    self->versions = (tly_ledger_versions_t) { .balance = state->balance_version,
                                               .log = state->log_version,
                                               .entries = state->purchases,
                                               .held = state->held,
                                               .order_list = state->order_list_version,
                                               .queue = queue };
}

void
tly_ledger_versions (tly_ledger_t *self, tly_ledger_versions_t *versions)
{
    assert (self && versions);
    *versions = self->versions;
}

//  ---------------------------------------------------------------- reads

int64_t
tly_ledger_clock (tly_ledger_t *self)
{
    assert (self);
    return self->clock;
}

int
tly_ledger_progress (tly_ledger_t *self, uint32_t partition, uint64_t *applied_seq, uint64_t *epoch)
{
    assert (self);
    assert (partition < self->limits.partition_count);
    return tly_store_progress (self->store, partition, applied_seq, epoch);
}

tly_store_lookup_t
tly_ledger_account (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES],
                    tly_account_state_t *state)
{
    assert (self);
    return tly_store_account (self->store, user, state);
}

int
tly_ledger_each_account (tly_ledger_t *self, tly_store_account_fn *fn, void *arg)
{
    assert (self && fn);
    return tly_store_each_account (self->store, fn, arg);
}

tly_ledger_kept_t
tly_ledger_purchase (tly_ledger_t *self, const char *id, tly_arena_t *arena,
                     Tally__PurchaseRecord **record_p)
{
    assert (self && arena && record_p);
    *record_p = NULL;
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (tly_object_key_parse (id, key) == -1 || key [0] != TLY_OBJ_PURCHASE)
        return TLY_LEDGER_UNKNOWN;
    tly_store_lookup_t found = tly_store_purchase (self->store, id, arena, record_p);
    if (found != TLY_STORE_ABSENT)
        return found == TLY_STORE_FOUND ? TLY_LEDGER_KEPT : TLY_LEDGER_LOOKUP_ERROR;
    //  Not here: dropped, if its time is one its partition has dropped up to.
    int64_t watermark = -1;
    if (tly_store_dropped (self->store, tly_object_key_partition (key), &watermark) == -1)
        return TLY_LEDGER_LOOKUP_ERROR;
    return tly_message_id_time (key + 3) <= watermark ? TLY_LEDGER_DROPPED : TLY_LEDGER_UNKNOWN;
}

tly_store_lookup_t
tly_ledger_owner (tly_ledger_t *self, const char *id, uint8_t user [TLY_KEY_BYTES])
{
    assert (self && user);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (tly_object_key_parse (id, key) == -1)
        return TLY_STORE_ABSENT;
    return tly_store_owner (self->store, key, user);
}

int
tly_ledger_purchases (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                      size_t max, tly_arena_t *arena, Tally__PurchaseRecord **records,
                      size_t *count)
{
    assert (self);
    return tly_store_log (self->store, user, first, max, arena, records, count);
}

int
tly_ledger_entries (tly_ledger_t *self, const uint8_t user [TLY_KEY_BYTES], uint64_t first,
                    size_t max, tly_arena_t *arena, tly_store_entries_t *entries)
{
    assert (self);
    return tly_store_log_entries (self->store, user, first, max, arena, entries);
}

tly_store_lookup_t
tly_ledger_adjustment (tly_ledger_t *self, const char *id, tly_arena_t *arena,
                       Tally__AdjustmentRecord **record_p)
{
    assert (self && arena && record_p);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (!id || tly_object_key_parse (id, key) == -1)
        return TLY_STORE_ABSENT;
    return tly_store_adjustment (self->store, key, arena, record_p);
}

int
tly_ledger_read_begin (tly_ledger_t *self)
{
    assert (self);
    return tly_store_read_begin (self->store);
}

void
tly_ledger_read_end (tly_ledger_t *self)
{
    assert (self);
    tly_store_read_end (self->store);
}

//  ---------------------------------------------------------------- state snapshots

int
tly_ledger_each_row (tly_ledger_t *self, uint32_t partition, tly_store_row_fn *fn, void *arg,
                     uint64_t *applied_seq, uint64_t *epoch, int64_t *clock_ms)
{
    assert (self && fn);
    assert (partition < self->limits.partition_count);
    return tly_store_each_row (self->store, partition, fn, arg, applied_seq, epoch, clock_ms);
}

int
tly_ledger_clear_partition (tly_ledger_t *self, uint32_t partition)
{
    assert (self && !self->read_only);
    assert (partition < self->limits.partition_count);
    return tly_store_clear_partition (self->store, partition);
}

//  Partition 0's configuration in a state snapshot: the ledger's when newer.
static int
s_load_config (tly_ledger_t *self, const Tally__SnapshotRow *row)
{
    Tally__Config *config = tally__config__unpack (NULL, row->value.len, row->value.data);
    char reason [160] = "does not decode";
    int rc = config ? tly_ledger_config_seen (self, config, reason, sizeof reason) : -1;
    if (rc == -1)
        tly_log (TLY_ERROR, "ledger.bad_row", "partition=0 table=%" PRIu32 " reason=\"%s\"",
                 row->table, reason);
    if (config)
        tally__config__free_unpacked (config, NULL);
    return rc;
}

//  Stores rows through tly_store_put_row's cursors, closed when done.
static int
s_load_rows (tly_ledger_t *self, uint32_t partition, const Tally__SnapshotRows *rows)
{
    uint8_t checked [TLY_KEY_BYTES];  //  the last user found to be partition's
    bool have_checked = false;
    for (size_t i = 0; i < rows->n_rows; i++) {
        const Tally__SnapshotRow *row = rows->rows [i];
        //  A user's account and log sit under the user's key: its partition
        //  is the user's. (A log's rows follow its account's: one check.)
        bool user_keyed = row->table == TLY_STORE_ROW_ACCOUNT || row->table == TLY_STORE_ROW_LOG;
        bool known = user_keyed && have_checked && row->key.len >= TLY_KEY_BYTES
                     && memcmp (row->key.data, checked, TLY_KEY_BYTES) == 0;
        if (user_keyed && !known
            && (row->key.len < TLY_KEY_BYTES
                || tly_partition_of (row->key.data, self->limits.partition_count) != partition)) {
            tly_log (TLY_ERROR, "ledger.bad_row",
                     "partition=%" PRIu32 " table=%" PRIu32 " reason=\"user of another partition\"",
                     partition, row->table);
            return -1;
        }
        //  ... whose balance's owner row came first: clearing the partition
        //  finds its users through those, so none is ever left behind.
        if (user_keyed && !known) {
            uint8_t owner_key [TLY_STORE_OBJECT_BYTES], owner [TLY_KEY_BYTES];
            tly_user_object_key (TLY_OBJ_BALANCE, row->key.data, partition, owner_key);
            tly_store_lookup_t found = tly_store_owner (self->store, owner_key, owner);
            if (found == TLY_STORE_ERROR)
                return -1;
            if (found == TLY_STORE_ABSENT || memcmp (owner, row->key.data, TLY_KEY_BYTES) != 0) {
                tly_log (TLY_ERROR, "ledger.bad_row",
                         "partition=%" PRIu32 " table=%" PRIu32
                         " reason=\"user row before its balance's owner row\"",
                         partition, row->table);
                return -1;
            }
        }
        if (user_keyed && !known) {
            memcpy (checked, row->key.data, TLY_KEY_BYTES);
            have_checked = true;
        }
        if (row->table == TLY_STORE_ROW_CONFIG && s_load_config (self, row) == -1)
            return -1;
        //  A snapshot made before orders has no OrderList owner rows.
        if (row->table == TLY_STORE_ROW_ACCOUNT
            && tly_ledger_order_owner (self, row->key.data, partition) == -1)
            return -1;
        if (tly_store_put_row (self->store, partition, (tly_store_row_t) row->table, row->key.data,
                               row->key.len, row->value.data, row->value.len)
            == -1) {
            if (tly_store_space (self->store) == TLY_STORE_ROOM)
                tly_log (TLY_ERROR, "ledger.bad_row",
                         "partition=%" PRIu32 " table=%" PRIu32 " key_bytes=%zu"
                         " reason=\"not a row of this partition\"",
                         partition, row->table, row->key.len);
            return -1;
        }
    }
    return 0;
}

int
tly_ledger_load_rows (tly_ledger_t *self, uint32_t partition, const Tally__SnapshotRows *rows)
{
    assert (self && rows && !self->read_only);
    assert (partition < self->limits.partition_count);
    int rc = s_load_rows (self, partition, rows);
    tly_store_rows_end (self->store);
    return rc;
}

int
tly_ledger_load_done (tly_ledger_t *self, uint32_t partition, uint64_t applied_seq, uint64_t epoch,
                      int64_t clock_ms)
{
    assert (self && !self->read_only);
    assert (partition < self->limits.partition_count);
    tly_ledger_clock_see (self, clock_ms);
    //  A whole snapshot counts as one record towards the next flush: its
    //  rows were not decided here and are in the writer's store, so a
    //  machine crash costs at most loading it again. Forcing the map to
    //  disk every 10,000 rows made a takeover wait for a hundred fsyncs.
    self->pending++;
    return tly_store_put_progress (self->store, partition, applied_seq, epoch);
}
