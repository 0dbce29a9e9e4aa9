//  tly_journal_read - the journal's read side: partition reads (claiming or
//  not), iteration in global order, the head and partition queries, and a
//  reader's snapshot.
#include "tly_journal_private.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "tly_log.h"

MDB_txn *
tly_journal_read_begin (tly_journal_t *self)
{
    if (self->read_only)
        return self->snapshot;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        tly_journal_lmdb_error (self, "txn_begin", rc);
        return NULL;
    }
    return txn;
}

void
tly_journal_read_end (tly_journal_t *self, MDB_txn *txn)
{
    if (txn && txn != self->snapshot)
        mdb_txn_abort (txn);
}

static int
s_load_partition (tly_journal_t *self, MDB_txn *txn, uint32_t partition, tly_journal_state_t *state)
{
    uint8_t key_bytes [4];
    tly_put_be32 (key_bytes, partition);
    MDB_val key = { sizeof key_bytes, key_bytes };
    MDB_val value;
    memset (state, 0, sizeof *state);
    int rc = mdb_get (txn, self->partitions, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || value.mv_size != TLY_JOURNAL_PARTITION_VALUE)
        return -1;
    state->fence = tly_get_be64 (value.mv_data);
    state->last_pseq = tly_get_be64 ((uint8_t *) value.mv_data + 8);
    return 0;
}

static bool
s_in_partition (const MDB_val *pindex_key, uint32_t partition)
{
    return pindex_key->mv_size == TLY_JOURNAL_PINDEX_KEY
           && tly_get_be32 (pindex_key->mv_data) == partition;
}

//  Delivers a partition's records from the pindex cursor; sets *end when the
//  partition has nothing after the last record delivered.
static int
s_read_records (tly_journal_t *self, MDB_txn *txn, const tly_journal_query_t *query,
                tly_journal_record_fn *fn, void *arg, bool *end)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->pindex, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        return -1;
    }
    uint64_t first;
    if (__builtin_add_overflow (query->after_partition_seq, 1, &first)) {
        mdb_cursor_close (cursor);
        *end = true;
        return 0;
    }
    uint8_t start [TLY_JOURNAL_PINDEX_KEY];
    s_pindex_key (start, query->partition, first);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    uint32_t delivered = 0;
    size_t bytes = 0;
    int result = 0;
    while (rc == 0 && s_in_partition (&key, query->partition) && delivered < query->max_records) {
        if (value.mv_size != 8) {
            tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad pindex entry\"",
                     self->path);
            result = -1;
            break;
        }
        uint64_t seq = tly_get_be64 (value.mv_data);
        MDB_val record_key = { 8, value.mv_data };
        MDB_val record;
        rc = mdb_get (txn, self->records, &record_key, &record);
        if (rc) {
            tly_journal_lmdb_error (self, "get_record", rc);
            result = -1;
            break;
        }
        if (delivered > 0 && bytes + record.mv_size > query->max_bytes)
            break;
        tly_journal_step_t step = fn (seq, record.mv_data, record.mv_size, arg);
        if (step == TLY_JOURNAL_FAIL) {
            result = -1;
            break;
        }
        delivered++;
        bytes += record.mv_size;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        if (step == TLY_JOURNAL_STOP)
            break;
    }
    if (result == 0 && rc != 0 && rc != MDB_NOTFOUND) {
        tly_journal_lmdb_error (self, "cursor_get", rc);
        result = -1;
    }
    *end = result == 0 && (rc == MDB_NOTFOUND || !s_in_partition (&key, query->partition));
    mdb_cursor_close (cursor);
    return result;
}

Tally__ErrorCode
tly_journal_read (tly_journal_t *self, const tly_journal_query_t *query, tly_journal_record_fn *fn,
                  void *arg, bool *end)
{
    assert (self);
    assert (query);
    assert (fn);
    assert (end);
    assert (self->txn == NULL);
    assert (!self->read_only || query->claim_epoch == 0);
    *end = false;
    if (query->partition >= TLY_PARTITIONS_MAX || query->max_records == 0
        || query->max_records > TLY_READ_RECORDS_MAX)
        return TALLY__ERROR_CODE__BAD_REQUEST;

    bool claims = false;
    if (query->claim_epoch > 0) {
        uint64_t fence = self->committed [query->partition].fence;
        if (query->claim_epoch < fence)
            return TALLY__ERROR_CODE__STALE_EPOCH;
        claims = query->claim_epoch > fence;
    }
    //  A claim that raises the fence writes it in the transaction it reads in.
    if (claims) {
        if (tly_journal_begin (self) == -1)
            return TALLY__ERROR_CODE__INTERNAL;
        tly_journal_claim (self, query->partition, query->claim_epoch);
        if (s_read_records (self, self->txn, query, fn, arg, end) == -1) {
            tly_journal_abort (self);
            return TALLY__ERROR_CODE__INTERNAL;
        }
        return tly_journal_commit (self) == 0 ? TALLY__ERROR_CODE__OK : TALLY__ERROR_CODE__INTERNAL;
    }
    MDB_txn *txn = tly_journal_read_begin (self);
    if (!txn)
        return TALLY__ERROR_CODE__INTERNAL;
    int rc = s_read_records (self, txn, query, fn, arg, end);
    tly_journal_read_end (self, txn);
    return rc == 0 ? TALLY__ERROR_CODE__OK : TALLY__ERROR_CODE__INTERNAL;
}

int
tly_journal_walk (tly_journal_t *self, MDB_dbi dbi, uint64_t from_key, const char *what,
                  tly_journal_record_fn *fn, void *arg)
{
    assert (self && what && fn);
    assert (self->txn == NULL);
    MDB_txn *txn = tly_journal_read_begin (self);
    if (!txn)
        return -1;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        tly_journal_read_end (self, txn);
        return -1;
    }
    uint8_t start [8];
    tly_put_be64 (start, from_key);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    int result = 0;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0) {
        //  Readers read files anyone may have touched: report, never assert.
        if (key.mv_size != 8) {
            tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad %s key\"", self->path,
                     what);
            result = -1;
            break;
        }
        tly_journal_step_t step = fn (tly_get_be64 (key.mv_data), value.mv_data, value.mv_size,
                                      arg);
        if (step != TLY_JOURNAL_NEXT) {
            result = step == TLY_JOURNAL_FAIL ? -1 : 0;
            break;
        }
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        tly_journal_lmdb_error (self, "cursor_get", rc);
        result = -1;
    }
    mdb_cursor_close (cursor);
    tly_journal_read_end (self, txn);
    return result;
}

int
tly_journal_iterate (tly_journal_t *self, uint64_t from_seq, tly_journal_record_fn *fn, void *arg)
{
    assert (self);
    return tly_journal_walk (self, self->records, from_seq, "record", fn, arg);
}

void
tly_journal_head (tly_journal_t *self, tly_journal_head_t *head)
{
    assert (self);
    assert (head);
    if (!self->read_only) {
        *head = self->head;
        return;
    }
    if (!self->snapshot || tly_journal_load_head (self, self->snapshot, head) == -1)
        memset (head, 0, sizeof *head);
}

void
tly_journal_partition (tly_journal_t *self, uint32_t partition, uint64_t *fence,
                       uint64_t *last_partition_seq)
{
    assert (self);
    assert (partition < TLY_PARTITIONS_MAX);
    tly_journal_state_t state = { 0, 0 };
    if (!self->read_only)
        state = self->committed [partition];
    else if (!self->snapshot || s_load_partition (self, self->snapshot, partition, &state) == -1)
        memset (&state, 0, sizeof state);
    if (fence)
        *fence = state.fence;
    if (last_partition_seq)
        *last_partition_seq = state.last_pseq;
}

int
tly_journal_refresh (tly_journal_t *self)
{
    assert (self);
    assert (self->read_only);
    int rc = EINVAL;
    if (self->snapshot) {
        mdb_txn_reset (self->snapshot);
        rc = mdb_txn_renew (self->snapshot);
        if (rc == MDB_MAP_RESIZED) {
            mdb_txn_abort (self->snapshot);
            self->snapshot = NULL;
            rc = tly_journal_snapshot_begin (self);
        }
    }
    if (rc) {
        //  Every read fails from now on, rather than read a reset transaction.
        if (self->snapshot)
            mdb_txn_abort (self->snapshot);
        self->snapshot = NULL;
        tly_journal_lmdb_error (self, "txn_renew", rc);
        return -1;
    }
    return 0;
}
