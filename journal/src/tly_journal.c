//  tly_journal - the audit journal: a durable, hash-chained record log in LMDB.
//
//  The writer core: group commits (begin, append, commit or abort), the
//  partitions' fences and sequences they keep, the meta and partition
//  entries they write, and the map that grows when it fills. Opening and
//  closing a journal is tly_journal_open.c; the roll, the reads, the
//  segments and the checkpoints are their own files beside it.
#include "tly_journal_private.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_sign.h"
#include "tly_wire.h"

//  Failures that mean no room to write: the map at its maximum, the disk
//  full, or (a short write on a full disk, as LMDB reports it) EIO.
static bool
s_no_space (int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EFBIG || rc == EIO;
}

void
tly_journal_lmdb_error (tly_journal_t *self, const char *operation, int rc)
{
    self->failure = rc;
    //  A full map may still grow; a journal already known to be full has
    //  said so once (journal.storage_full).
    bool said = rc == MDB_MAP_FULL || (self->full && s_no_space (rc));
    tly_log (said ? TLY_DEBUG : TLY_ERROR, "journal.lmdb", "path=%s op=%s error=\"%s\"",
             self->active ? self->active->path : self->path, operation, mdb_strerror (rc));
}

int
tly_journal_load_head (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                       const char *name, tly_journal_head_t *head)
{
    (void) self;
    memset (head, 0, sizeof *head);
    MDB_val key = { strlen (name), (void *) name };
    MDB_val value;
    int rc = mdb_get (txn, segment->meta, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && value.mv_size == TLY_JOURNAL_HEAD_VALUE) {
        head->seq = tly_get_be64 (value.mv_data);
        memcpy (head->hash, (uint8_t *) value.mv_data + 8, TLY_HASH_BYTES);
        return 0;
    }
    tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad %s entry\"", segment->path, name);
    return -1;
}

int
tly_journal_put_meta (MDB_txn *txn, MDB_dbi meta, const char *name, const void *bytes, size_t size)
{
    MDB_val key = { strlen (name), (void *) name };
    MDB_val value = { size, (void *) bytes };
    return mdb_put (txn, meta, &key, &value, 0);
}

int
tly_journal_put_head (MDB_txn *txn, MDB_dbi meta, const char *name, const tly_journal_head_t *head)
{
    uint8_t bytes [TLY_JOURNAL_HEAD_VALUE];
    tly_put_be64 (bytes, head->seq);
    memcpy (bytes + 8, head->hash, TLY_HASH_BYTES);
    return tly_journal_put_meta (txn, meta, name, bytes, sizeof bytes);
}

//  Stores partition's entry (fence, last partition seq) in dbi.
int
tly_journal_put_partition (MDB_txn *txn, MDB_dbi dbi, uint32_t partition,
                           const tly_journal_state_t *state, unsigned flags)
{
    uint8_t key_bytes [4], value_bytes [TLY_JOURNAL_PARTITION_VALUE];
    tly_put_be32 (key_bytes, partition);
    tly_put_be64 (value_bytes, state->fence);
    tly_put_be64 (value_bytes + 8, state->last_pseq);
    MDB_val key = { sizeof key_bytes, key_bytes };
    MDB_val value = { sizeof value_bytes, value_bytes };
    return mdb_put (txn, dbi, &key, &value, flags);
}

//  Doubles the active map, up to map_max. LMDB allows it only with no
//  transaction open in this process: the writer's reads end before it
//  returns, and its one write transaction is closed here. Returns 0, or -1
//  at the maximum.
static int
s_grow (tly_journal_t *self)
{
    assert (!self->read_only);
    assert (!self->txn);
    if (self->map_size >= self->map_max || !self->active->env)
        return -1;
    size_t next = self->map_size > self->map_max / 2 ? self->map_max : self->map_size * 2;
    int rc = mdb_env_set_mapsize (self->active->env, next);
    if (rc) {
        tly_journal_lmdb_error (self, "set_mapsize", rc);
        return -1;
    }
    tly_log (TLY_INFO, "journal.map_grown", "path=%s from=%zu to=%zu max=%zu", self->active->path,
             self->map_size, next, self->map_max);
    self->map_size = next;
    return 0;
}

//  After a write: logs once when storage runs out and once when it is back,
//  not on every refused commit in between.
void
tly_journal_note_space (tly_journal_t *self, bool ok)
{
    bool full = !ok && s_no_space (self->failure);
    if (full && !self->full)
        tly_log (TLY_ERROR, "journal.storage_full",
                 "path=%s error=\"%s\" map_size=%zu map_max=%zu"
                 " hint=\"appends are refused until there is room: free disk space, or"
                 " restart with a larger --map-max\"",
                 self->path, mdb_strerror (self->failure), self->map_size, self->map_max);
    else if (ok && self->full)
        tly_log (TLY_INFO, "journal.storage_recovered", "path=%s map_size=%zu", self->path,
                 self->map_size);
    if (ok || full)
        self->full = full;
}

void
tly_journal_set_map_max (tly_journal_t *self, size_t map_max)
{
    assert (self);
    assert (!self->read_only);
    long page = sysconf (_SC_PAGESIZE);
    assert (page > 0);
    map_max -= map_max % (size_t) page;
    self->map_max = map_max > self->map_size ? map_max : self->map_size;
}

bool
tly_journal_full (tly_journal_t *self)
{
    assert (self);
    return self->full;
}

size_t
tly_journal_map_size (tly_journal_t *self)
{
    assert (self);
    return self->map_size;
}


//  The pending state of a partition, recorded as touched by this transaction.
static tly_journal_state_t *
s_touch (tly_journal_t *self, uint32_t partition)
{
    assert (partition < TLY_PARTITIONS_MAX);
    if (!self->is_dirty [partition]) {
        self->is_dirty [partition] = true;
        self->dirty [self->dirty_count++] = partition;
    }
    return &self->pending [partition];
}

void
tly_journal_claim (tly_journal_t *self, uint32_t partition, uint64_t epoch)
{
    assert (self->txn);
    tly_journal_state_t *state = s_touch (self, partition);
    assert (epoch > state->fence);
    state->fence = epoch;
}

//  Replaces *bytes with a copy of from (NULL when from_size is 0).
static void
s_set_bytes (uint8_t **bytes, size_t *size, const uint8_t *from, size_t from_size)
{
    free (*bytes);
    *bytes = NULL;
    *size = 0;
    if (from_size > 0) {
        *bytes = malloc (from_size);
        assert (*bytes);
        memcpy (*bytes, from, from_size);
        *size = from_size;
    }
}

//  Ends a transaction: keeps the pending state (commit) or drops it.
static void
s_settle (tly_journal_t *self, bool keep)
{
    for (size_t i = 0; i < self->dirty_count; i++) {
        uint32_t partition = self->dirty [i];
        if (keep) {
            assert (self->pending [partition].fence >= self->committed [partition].fence);
            assert (self->pending [partition].last_pseq >= self->committed [partition].last_pseq);
            self->committed [partition] = self->pending [partition];
        } else
            self->pending [partition] = self->committed [partition];
        self->is_dirty [partition] = false;
    }
    self->dirty_count = 0;
    if (self->pending_config_version != self->config_version) {
        if (keep) {
            self->config_version = self->pending_config_version;
            s_set_bytes (&self->config, &self->config_size, self->pending_config,
                         self->pending_config_size);
        } else {
            self->pending_config_version = self->config_version;
            s_set_bytes (&self->pending_config, &self->pending_config_size, self->config,
                         self->config_size);
        }
    }
    if (keep) {
        assert (self->pending_head.seq >= self->head.seq);
        assert (self->pending_checkpoint_seq >= self->checkpoint_seq);
        self->head = self->pending_head;
        self->checkpoint_seq = self->pending_checkpoint_seq;
        self->active->last = self->head.seq;
    } else {
        self->pending_head = self->head;
        self->pending_checkpoint_seq = self->checkpoint_seq;
    }
    self->txn = NULL;
}

int
tly_journal_begin (tly_journal_t *self)
{
    assert (self);
    assert (!self->read_only);
    assert (self->txn == NULL);
    assert (self->dirty_count == 0);
    self->failure = 0;
    //  Roll here, before any record of this commit: one commit's records are
    //  always in one segment.
    if (tly_journal_roll_due (self) && tly_journal_roll (self) == -1)
        return -1;
    //  Grow before the map is full rather than redo a whole group commit.
    MDB_env *env = self->active->env;
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_info (env, &info) == 0 && mdb_env_stat (env, &stat) == 0
        && (info.me_last_pgno + 1) * stat.ms_psize > self->map_size / 4 * 3)
        s_grow (self);
    int rc = mdb_txn_begin (env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        tly_journal_lmdb_error (self, "txn_begin", rc);
        return -1;
    }
    return 0;
}

int
tly_journal_load_config (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn)
{
    MDB_val key = { sizeof TLY_JOURNAL_CONFIG_KEY - 1, (void *) TLY_JOURNAL_CONFIG_KEY };
    MDB_val value;
    uint64_t version = 0;
    int rc = mdb_get (txn, segment->meta, &key, &value);
    if (rc == 0) {
        Tally__Config *config = tally__config__unpack (NULL, value.mv_size, value.mv_data);
        if (!config) {
            tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad config entry\"",
                     segment->path);
            return -1;
        }
        version = config->version;
        tally__config__free_unpacked (config, NULL);
        s_set_bytes (&self->config, &self->config_size, value.mv_data, value.mv_size);
    } else if (rc != MDB_NOTFOUND) {
        tly_journal_lmdb_error (self, "get_config", rc);
        return -1;
    } else
        s_set_bytes (&self->config, &self->config_size, NULL, 0);
    self->config_version = version;
    self->pending_config_version = version;
    s_set_bytes (&self->pending_config, &self->pending_config_size, self->config,
                 self->config_size);
    return 0;
}

uint64_t
tly_journal_config (tly_journal_t *self, const uint8_t **bytes, size_t *size)
{
    assert (self);
    if (bytes)
        *bytes = self->config;
    if (size)
        *size = self->config_size;
    return self->config_version;
}

//  The configuration rule: a draft names the current version; one that
//  changes it carries the new Config, of a higher version. OK, or why not.
static Tally__ErrorCode
s_check_config (tly_journal_t *self, const Tally__RecordDraft *draft)
{
    if (draft->config_version != self->pending_config_version)
        return TALLY__ERROR_CODE__STALE_CONFIG;
    if (draft->config && draft->config->version <= draft->config_version)
        return TALLY__ERROR_CODE__BAD_REQUEST;
    return TALLY__ERROR_CODE__OK;
}

//  Structural checks: anything else is decided by the fence and the sequence.
static bool
s_draft_valid (const Tally__RecordDraft *draft)
{
    return draft->partition < TLY_PARTITIONS_MAX && draft->epoch > 0 && draft->request != NULL
           && draft->request->envelope.len > 0
           && draft->request->signature.len == TLY_SIGNATURE_BYTES;
}

static int
s_store (tly_journal_t *self, uint64_t seq, const uint8_t hash [TLY_HASH_BYTES], size_t body_size,
         const Tally__RecordDraft *draft)
{
    Tally__StoredRecord stored = TALLY__STORED_RECORD__INIT;
    stored.body = (ProtobufCBinaryData) { body_size, self->body };
    stored.hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, (uint8_t *) hash };
    uint8_t seq_bytes [8];
    tly_put_be64 (seq_bytes, seq);
    MDB_val key = { sizeof seq_bytes, seq_bytes };
    MDB_val value = { tally__stored_record__get_packed_size (&stored), NULL };
    //  Keys only grow, so the record goes at the end of the tree, packed in place.
    int rc = mdb_put (self->txn, self->active->records, &key, &value, MDB_APPEND | MDB_RESERVE);
    if (rc) {
        tly_journal_lmdb_error (self, "put_record", rc);
        return -1;
    }
    size_t packed = tally__stored_record__pack (&stored, value.mv_data);
    assert (packed == value.mv_size);

    uint8_t index_key [TLY_JOURNAL_PINDEX_KEY];
    s_pindex_key (index_key, draft->partition, draft->partition_seq);
    key = (MDB_val) { sizeof index_key, index_key };
    value = (MDB_val) { sizeof seq_bytes, seq_bytes };
    rc = mdb_put (self->txn, self->active->pindex, &key, &value, MDB_NOOVERWRITE);
    if (rc) {
        tly_journal_lmdb_error (self, "put_pindex", rc);
        return -1;
    }
    return 0;
}

int
tly_journal_append (tly_journal_t *self, const Tally__RecordDraft *draft,
                    Tally__AppendStatus *status)
{
    assert (self);
    assert (self->txn);
    assert (draft);
    assert (status);
    tally__append_status__init (status);
    if (!s_draft_valid (draft)) {
        status->code = TALLY__ERROR_CODE__BAD_REQUEST;
        return 0;
    }
    uint64_t seq;
    bool overflow = __builtin_add_overflow (self->pending_head.seq, 1, &seq);
    assert (!overflow);
    Tally__RecordBody body = TALLY__RECORD_BODY__INIT;
    body.seq = seq;
    body.prev_hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, self->pending_head.hash };
    body.draft = (Tally__RecordDraft *) draft;
    size_t body_size = tally__record_body__get_packed_size (&body);
    //  StoredRecord adds two tags, two lengths and the hash to the body.
    if (body_size > TLY_JOURNAL_RECORD_MAX - TLY_HASH_BYTES - 16) {
        status->code = TALLY__ERROR_CODE__BAD_REQUEST;
        return 0;
    }
    tly_journal_state_t *partition = s_touch (self, draft->partition);
    if (draft->epoch < partition->fence) {
        status->code = TALLY__ERROR_CODE__STALE_EPOCH;
        return 0;
    }
    Tally__ErrorCode config_code = s_check_config (self, draft);
    if (config_code != TALLY__ERROR_CODE__OK) {
        status->code = config_code;
        return 0;
    }
    uint64_t expected;
    overflow = __builtin_add_overflow (partition->last_pseq, 1, &expected);
    assert (!overflow);
    if (draft->partition_seq != expected) {
        status->code = TALLY__ERROR_CODE__SEQUENCE_GAP;
        status->expected_partition_seq = expected;
        return 0;
    }
    if (body_size > self->body_capacity) {
        size_t capacity = self->body_capacity ? self->body_capacity : 4096;
        while (capacity < body_size)
            capacity *= 2;
        self->body = realloc (self->body, capacity);
        assert (self->body);
        self->body_capacity = capacity;
    }
    size_t packed = tally__record_body__pack (&body, self->body);
    assert (packed == body_size);
    uint8_t hash [TLY_HASH_BYTES];
    tly_record_hash (self->body, body_size, hash);
    if (s_store (self, seq, hash, body_size, draft) == -1)
        return -1;

    if (draft->epoch > partition->fence)
        partition->fence = draft->epoch;
    partition->last_pseq = expected;
    if (draft->config) {
        size_t size = tally__config__get_packed_size (draft->config);
        uint8_t *bytes = malloc (size ? size : 1);
        assert (bytes);
        tally__config__pack (draft->config, bytes);
        free (self->pending_config);
        self->pending_config = bytes;
        self->pending_config_size = size;
        self->pending_config_version = draft->config->version;
    }
    self->pending_head.seq = seq;
    memcpy (self->pending_head.hash, hash, TLY_HASH_BYTES);
    status->code = TALLY__ERROR_CODE__OK;
    status->seq = seq;
    return 0;
}

//  Writes the touched partitions and the head, then commits (fsync).
static int
s_commit (tly_journal_t *self)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->dirty_count; i++) {
        uint32_t partition = self->dirty [i];
        const tly_journal_state_t *state = &self->pending [partition];
        const tly_journal_state_t *before = &self->committed [partition];
        if (state->fence == before->fence && state->last_pseq == before->last_pseq)
            continue;
        rc = tly_journal_put_partition (self->txn, self->active->partitions, partition, state, 0);
    }
    if (rc == 0 && self->pending_config_version != self->config_version)
        rc = tly_journal_put_meta (self->txn, self->active->meta, TLY_JOURNAL_CONFIG_KEY,
                                   self->pending_config, self->pending_config_size);
    if (rc == 0 && self->pending_head.seq != self->head.seq) {
        uint8_t head_bytes [TLY_JOURNAL_HEAD_VALUE];
        tly_put_be64 (head_bytes, self->pending_head.seq);
        memcpy (head_bytes + 8, self->pending_head.hash, TLY_HASH_BYTES);
        MDB_val key = { sizeof TLY_JOURNAL_HEAD_KEY - 1, (void *) TLY_JOURNAL_HEAD_KEY };
        MDB_val value = { sizeof head_bytes, head_bytes };
        rc = mdb_put (self->txn, self->active->meta, &key, &value, 0);
    }
    if (rc) {
        tly_journal_lmdb_error (self, "put_state", rc);
        mdb_txn_abort (self->txn);
    } else if ((rc = TLY_FAULT ("journal.commit")) || (rc = TLY_FAULT ("journal.sync"))) {
        //  Injected (tly_fault.h): LMDB fsyncs inside the commit, and a
        //  failed write or fsync aborts it, nothing of it committed.
        mdb_txn_abort (self->txn);
        tly_journal_lmdb_error (self, "commit", rc);
    } else {
        rc = mdb_txn_commit (self->txn);
        if (rc)
            tly_journal_lmdb_error (self, "commit", rc);
    }
    s_settle (self, rc == 0);
    return rc ? -1 : 0;
}

int
tly_journal_commit (tly_journal_t *self)
{
    assert (self);
    assert (self->txn);
    return s_commit (self);
}

void
tly_journal_abort (tly_journal_t *self)
{
    assert (self);
    if (self->txn) {
        mdb_txn_abort (self->txn);
        s_settle (self, false);
    }
}

int
tly_journal_append_batch (tly_journal_t *self, Tally__RecordDraft *const *drafts, size_t count,
                          Tally__AppendStatus *statuses, const tly_journal_signer_t *signer)
{
    assert (self);
    assert (drafts || count == 0);
    assert (statuses || count == 0);
    assert (!signer || signer->every >= 1);
    for (;;) {
        int rc = tly_journal_begin (self);
        for (size_t i = 0; rc == 0 && i < count; i++) {
            rc = tly_journal_append (self, drafts [i], &statuses [i]);
            if (rc == 0 && signer && tly_journal_unsigned (self) >= signer->every)
                rc = tly_journal_checkpoint (self, signer->sign_sk, signer->sign_pk,
                                             signer->record_time ? drafts [i]->timestamp_ms
                                                                 : tly_now_ms ());
        }
        if (rc == 0)
            rc = tly_journal_commit (self);
        else
            tly_journal_abort (self);
        //  A full map: nothing of this commit was written (LMDB's rule:
        //  abort, grow with no transaction open, redo), so the whole group
        //  is decided again in a larger map and still answered only once
        //  it is durable.
        if (rc == -1 && self->failure == MDB_MAP_FULL && s_grow (self) == 0)
            continue;
        tly_journal_note_space (self, rc == 0);
        return rc;
    }
}
