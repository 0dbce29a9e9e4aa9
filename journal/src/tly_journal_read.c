//  tly_journal_read - the journal's read side, across segments: partition
//  reads (claiming or not), iteration in global order, checkpoints, the head
//  and partition queries, a reader's snapshot, and what the segments are.
#include "tly_journal_private.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "tly_log.h"

//  The transaction to read segment in: the writer's open write transaction
//  when it is the active one (a claim reads where it writes), else a read one.
static MDB_txn *
s_txn (tly_journal_t *self, tly_journal_segment_t *segment)
{
    if (self->broken)
        return NULL;
    if (segment == self->active && self->txn)
        return self->txn;
    return tly_journal_segment_txn (self, segment);
}

static void
s_done (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn)
{
    if (txn != self->txn)
        tly_journal_segment_done (self, segment, txn);
}

//  Logs the seqs no listed segment holds.
static void
s_log_gap (tly_journal_t *self, uint64_t from, uint64_t to)
{
    tly_log (TLY_ERROR, "journal.gap",
             "path=%s reason=\"records %" PRIu64 "..%" PRIu64 " missing (segment not found)\"",
             self->path [0] ? self->path : "?", from, to);
}

//  A partitions-shaped entry (fence | last pseq) of dbi, zeros when absent.
static int
s_load_state (MDB_txn *txn, MDB_dbi dbi, uint32_t partition, tly_journal_state_t *state)
{
    uint8_t key_bytes [4];
    tly_put_be32 (key_bytes, partition);
    MDB_val key = { sizeof key_bytes, key_bytes };
    MDB_val value;
    memset (state, 0, sizeof *state);
    int rc = mdb_get (txn, dbi, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || value.mv_size != TLY_JOURNAL_PARTITION_VALUE)
        return -1;
    state->fence = tly_get_be64 (value.mv_data);
    state->last_pseq = tly_get_be64 ((uint8_t *) value.mv_data + 8);
    return 0;
}

//  The partition's last pseq before segment's first record.
static int
s_base_pseq (tly_journal_t *self, tly_journal_segment_t *segment, uint32_t partition,
             uint64_t *pseq)
{
    MDB_txn *txn = s_txn (self, segment);
    if (!txn)
        return -1;
    tly_journal_state_t state = { 0, 0 };
    int rc = segment->has_bases ? s_load_state (txn, segment->bases, partition, &state) : 0;
    s_done (self, segment, txn);
    if (rc == -1)
        tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad bases entry\"", segment->path);
    *pseq = state.last_pseq;
    return rc;
}

static bool
s_in_partition (const MDB_val *pindex_key, uint32_t partition)
{
    return pindex_key->mv_size == TLY_JOURNAL_PINDEX_KEY
           && tly_get_be32 (pindex_key->mv_data) == partition;
}

//  What a partition read has done so far, across segments.
typedef struct {
    uint64_t next_pseq;  //  the partition seq to read next
    uint32_t delivered;
    size_t bytes;
    bool stopped;  //  the callback said stop, or a limit was reached
} s_reading_t;

//  Delivers a partition's records in one segment from the pindex cursor;
//  sets *end when the segment has nothing after the last record delivered.
static int
s_read_records (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                const tly_journal_query_t *query, tly_journal_record_fn *fn, void *arg,
                s_reading_t *reading, bool *end)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, segment->pindex, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        return -1;
    }
    uint8_t start [TLY_JOURNAL_PINDEX_KEY];
    s_pindex_key (start, query->partition, reading->next_pseq);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    int result = 0;
    while (rc == 0 && s_in_partition (&key, query->partition)) {
        if (reading->delivered >= query->max_records) {
            reading->stopped = true;
            break;
        }
        if (value.mv_size != 8) {
            tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad pindex entry\"",
                     segment->path);
            result = -1;
            break;
        }
        uint64_t seq = tly_get_be64 (value.mv_data);
        uint64_t pseq = tly_get_be64 ((uint8_t *) key.mv_data + 4);
        if (pseq != reading->next_pseq) {
            //  Never deliver past a hole: a retired or missing segment.
            tly_log (TLY_ERROR, "journal.gap",
                     "path=%s partition=%" PRIu32 " reason=\"partition seqs %" PRIu64 "..%" PRIu64
                     " missing (segment not found)\"",
                     segment->path, query->partition, reading->next_pseq, pseq - 1);
            result = -1;
            break;
        }
        MDB_val record_key = { 8, value.mv_data };
        MDB_val record;
        rc = mdb_get (txn, segment->records, &record_key, &record);
        if (rc) {
            tly_journal_lmdb_error (self, "get_record", rc);
            result = -1;
            break;
        }
        if (reading->delivered > 0 && reading->bytes + record.mv_size > query->max_bytes) {
            reading->stopped = true;
            break;
        }
        tly_journal_step_t step = fn (seq, record.mv_data, record.mv_size, arg);
        if (step == TLY_JOURNAL_FAIL) {
            result = -1;
            break;
        }
        reading->delivered++;
        reading->bytes += record.mv_size;
        reading->next_pseq = pseq + 1;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        if (step == TLY_JOURNAL_STOP) {
            reading->stopped = true;
            break;
        }
    }
    if (result == 0 && rc != 0 && rc != MDB_NOTFOUND) {
        tly_journal_lmdb_error (self, "cursor_get", rc);
        result = -1;
    }
    *end = result == 0 && (rc == MDB_NOTFOUND || !s_in_partition (&key, query->partition));
    mdb_cursor_close (cursor);
    return result;
}

//  The segment a partition read after pseq after starts in: the last whose
//  base (the partition's last pseq before it) is at or below after.
static int
s_find_partition_segment (tly_journal_t *self, uint32_t partition, uint64_t after, size_t *index)
{
    //  One segment: no search (a read finds what is missing by its seqs).
    if (self->segment_count == 1) {
        *index = 0;
        return 0;
    }
    size_t low = 0, high = self->segment_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        uint64_t base;
        if (s_base_pseq (self, self->segments [middle], partition, &base) == -1)
            return -1;
        if (base <= after)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0) {
        //  Every segment starts after the records asked for: they were retired.
        uint64_t base = 0;
        s_base_pseq (self, self->segments [0], partition, &base);
        tly_log (TLY_ERROR, "journal.gap",
                 "path=%s partition=%" PRIu32 " reason=\"partition seqs %" PRIu64 "..%" PRIu64
                 " missing (segment not found)\"",
                 self->path, partition, after + 1, base);
        return -1;
    }
    *index = low - 1;
    return 0;
}

static int
s_read_across (tly_journal_t *self, const tly_journal_query_t *query, tly_journal_record_fn *fn,
               void *arg, bool *end)
{
    *end = false;
    s_reading_t reading = { .next_pseq = query->after_partition_seq + 1 };
    if (reading.next_pseq == 0) {
        *end = true;  //  nothing comes after the largest pseq
        return 0;
    }
    size_t index;
    if (self->segment_count == 0
        || s_find_partition_segment (self, query->partition, query->after_partition_seq, &index)
               == -1)
        return -1;
    for (; index < self->segment_count; index++) {
        tly_journal_segment_t *segment = self->segments [index];
        MDB_txn *txn = s_txn (self, segment);
        if (!txn)
            return -1;
        bool segment_end = false;
        segment->walking++;
        int rc = s_read_records (self, segment, txn, query, fn, arg, &reading, &segment_end);
        segment->walking--;
        s_done (self, segment, txn);
        if (rc == -1)
            return -1;
        if (!segment_end || reading.stopped)
            break;
        if (index + 1 == self->segment_count)
            *end = true;
        else if (self->segments [index + 1]->first != segment->last + 1) {
            //  Never read past a hole: the partition's records in it are missing.
            s_log_gap (self, segment->last + 1, self->segments [index + 1]->first - 1);
            return -1;
        }
    }
    return 0;
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
        if (s_read_across (self, query, fn, arg, end) == -1) {
            tly_journal_abort (self);
            return TALLY__ERROR_CODE__INTERNAL;
        }
        return tly_journal_commit (self) == 0 ? TALLY__ERROR_CODE__OK : TALLY__ERROR_CODE__INTERNAL;
    }
    return s_read_across (self, query, fn, arg, end) == 0 ? TALLY__ERROR_CODE__OK
                                                          : TALLY__ERROR_CODE__INTERNAL;
}

int
tly_journal_raise_fences (tly_journal_t *self, const uint32_t *partitions, const uint64_t *epochs,
                          size_t count)
{
    assert (self);
    assert (!self->read_only);
    assert (self->txn == NULL);
    assert ((partitions && epochs) || count == 0);
    size_t raised = 0;
    for (size_t i = 0; i < count; i++) {
        assert (partitions [i] < TLY_PARTITIONS_MAX);
        raised += epochs [i] > self->committed [partitions [i]].fence;
    }
    if (raised == 0)
        return 0;
    if (tly_journal_begin (self) == -1)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (epochs [i] > self->pending [partitions [i]].fence)
            tly_journal_claim (self, partitions [i], epochs [i]);
    return tly_journal_commit (self);
}

//  Calls fn for each entry of one segment's records or checkpoints from
//  from_key on. Sets *stopped when fn stopped (or failed).
static int
s_walk (tly_journal_t *self, tly_journal_segment_t *segment, bool checkpoints, uint64_t from_key,
        tly_journal_record_fn *fn, void *arg, bool *stopped)
{
    MDB_txn *txn = s_txn (self, segment);
    if (!txn)
        return -1;
    if (checkpoints && !segment->has_checkpoints) {
        s_done (self, segment, txn);
        return 0;
    }
    const char *what = checkpoints ? "checkpoint" : "record";
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, checkpoints ? segment->checkpoints : segment->records, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        s_done (self, segment, txn);
        return -1;
    }
    segment->walking++;
    uint8_t start [8];
    tly_put_be64 (start, from_key);
    MDB_val key = { sizeof start, start };
    MDB_val value;
    int result = 0;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0) {
        //  Readers read files anyone may have touched: report, never assert.
        if (key.mv_size != 8) {
            tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad %s key\"", segment->path,
                     what);
            result = -1;
            break;
        }
        tly_journal_step_t step = fn (tly_get_be64 (key.mv_data), value.mv_data, value.mv_size,
                                      arg);
        if (step != TLY_JOURNAL_NEXT) {
            result = step == TLY_JOURNAL_FAIL ? -1 : 0;
            *stopped = true;
            break;
        }
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        tly_journal_lmdb_error (self, "cursor_get", rc);
        result = -1;
    }
    mdb_cursor_close (cursor);
    segment->walking--;
    s_done (self, segment, txn);
    return result;
}

int
tly_journal_iterate (tly_journal_t *self, uint64_t from_seq, tly_journal_record_fn *fn, void *arg)
{
    assert (self);
    assert (self->txn == NULL);
    uint64_t next = from_seq ? from_seq : 1;
    for (size_t index = tly_journal_segment_find (self, next); index < self->segment_count;
         index++) {
        tly_journal_segment_t *segment = self->segments [index];
        if (!segment->known && !s_txn (self, segment))
            return -1;
        if (segment->known && segment->last < next && index + 1 < self->segment_count)
            continue;
        if (segment->first > next) {
            //  Never deliver past a hole: replay and export would be wrong.
            s_log_gap (self, next, segment->first - 1);
            return -1;
        }
        bool stopped = false;
        if (s_walk (self, segment, false, next, fn, arg, &stopped) == -1)
            return -1;
        if (stopped)
            return 0;
        if (segment->last + 1 > next)
            next = segment->last + 1;
    }
    return 0;
}

int
tly_journal_each_checkpoint (tly_journal_t *self, tly_journal_record_fn *fn, void *arg)
{
    assert (self);
    for (size_t index = 0; index < self->segment_count; index++) {
        bool stopped = false;
        if (s_walk (self, self->segments [index], true, 0, fn, arg, &stopped) == -1)
            return -1;
        if (stopped)
            return 0;
    }
    return 0;
}

//  A reader's newest segment, whose snapshot is its view.
static tly_journal_segment_t *
s_view (tly_journal_t *self)
{
    if (self->broken || self->segment_count == 0)
        return NULL;
    tly_journal_segment_t *last = self->segments [self->segment_count - 1];
    return last->snapshot ? last : NULL;
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
    tly_journal_segment_t *view = s_view (self);
    if (!view || tly_journal_load_head (self, view, view->snapshot, "head", head) == -1)
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
    else {
        tly_journal_segment_t *view = s_view (self);
        if (!view || s_load_state (view->snapshot, view->partitions, partition, &state) == -1)
            memset (&state, 0, sizeof state);
    }
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
    tly_journal_segment_t *view = s_view (self);
    int rc = view ? tly_journal_segment_renew (self, view) : -1;
    size_t before = self->segment_count;
    if (rc == 0 && self->path [0])
        rc = tly_journal_segments_scan (self);
    if (rc == 0 && self->segment_count != before) {
        //  The writer rolled: the old view is sealed now, and reopened
        //  without locks when next read; the newest segment is the view.
        tly_journal_segment_close (view);
        rc = tly_journal_segment_use (self, self->segments [self->segment_count - 1]);
    }
    if (rc) {
        //  Every read fails from now on, rather than read a stale view.
        self->broken = true;
        tly_log (TLY_ERROR, "journal.refresh", "path=%s reason=\"cannot refresh\"", self->path);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------- segments

size_t
tly_journal_segment_count (tly_journal_t *self)
{
    assert (self);
    return self->segment_count;
}

int
tly_journal_segment_info (tly_journal_t *self, size_t index, tly_journal_segment_info_t *info)
{
    assert (self);
    assert (info);
    assert (index < self->segment_count);
    tly_journal_segment_t *segment = self->segments [index];
    if (!segment->known) {
        MDB_txn *txn = s_txn (self, segment);
        if (!txn)
            return -1;
        s_done (self, segment, txn);
    }
    struct stat file;
    char data_path [PATH_MAX + 16];
    snprintf (data_path, sizeof data_path, segment->legacy ? "%s/data.mdb" : "%s", segment->path);
    if (stat (data_path, &file) == 0)
        segment->bytes = (uint64_t) file.st_size;
    *info = (tly_journal_segment_info_t) { .path = segment->path,
                                           .first = segment->first,
                                           .last = segment->last,
                                           .sealed = segment->sealed,
                                           .archived = segment->archived,
                                           .bytes = segment->bytes,
                                           .base = segment->base,
                                           .base_checkpoint = segment->base_checkpoint,
                                           .base_checkpoint_size = segment->base_checkpoint_size };
    return 0;
}

size_t
tly_journal_segment_at (tly_journal_t *self, uint64_t seq)
{
    assert (self);
    size_t index = tly_journal_segment_find (self, seq);
    if (index >= self->segment_count)
        return self->segment_count;
    tly_journal_segment_info_t info;
    if (tly_journal_segment_info (self, index, &info) == -1 || seq < info.first)
        return self->segment_count;
    //  Records past the head entry still belong to the segment they are in.
    if (seq > info.last && index + 1 < self->segment_count)
        return self->segment_count;
    return index;
}

bool
tly_journal_retired (tly_journal_t *self)
{
    return self->retired;
}

bool
tly_journal_gap (tly_journal_t *self, uint64_t *from, uint64_t *to)
{
    assert (self);
    assert (from && to);
    uint64_t next = 1;
    for (size_t index = 0; index < self->segment_count; index++) {
        tly_journal_segment_info_t info;
        if (tly_journal_segment_info (self, index, &info) == -1)
            continue;
        if (info.first > next) {
            *from = next;
            *to = info.first - 1;
            return true;
        }
        if (info.last + 1 > next)
            next = info.last + 1;
    }
    return false;
}
