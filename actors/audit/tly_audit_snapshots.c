//  tly_audit_snapshots - the writer's store of state snapshots (see the header).
#include "tly_audit_snapshots.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tly_bytes.h"
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_mapping.h"
#include "tly_sign.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_FORMAT    1
#define S_PART_KEY  16  //  partition u32 | partition_seq u64 | part u32
#define S_PARTS_MAX 4096
#define S_PATH_MAX  4096

//  A snapshot whose parts are arriving.
typedef struct {
    uint64_t partition_seq;
    uint64_t epoch;
    int64_t clock_ms;
    uint32_t schema;
    uint32_t next_part;
    uint64_t rows;
    uint64_t bytes;
    crypto_generichash_state digest;
} s_pending_t;

struct _tly_audit_snapshots_t {
    char path [S_PATH_MAX];
    MDB_env *env;
    MDB_dbi parts;
    MDB_dbi latest;
    MDB_dbi meta;
    size_t map_size;
    size_t map_max;
    tly_account_t worker;
    s_pending_t **pending;  //  TLY_PARTITIONS_MAX slots, NULL when none
    uint64_t count;         //  latest snapshots stored
    uint64_t bytes;         //  their parts' bytes
    uint64_t *seqs;         //  TLY_PARTITIONS_MAX: each latest's journal seq, 0 when none
    uint64_t last_seq;      //  the snapshot stored last (by its header's timestamp)
    uint32_t last_partition;
    int64_t last_ms;
};

//  Notes a latest snapshot for status (at open, and as each is stored).
static void
s_note_latest (tly_audit_snapshots_t *self, uint32_t partition, const Tally__SnapshotHeader *header)
{
    assert (partition < TLY_PARTITIONS_MAX);
    self->seqs [partition] = header->seq;
    if (header->timestamp_ms >= self->last_ms) {
        self->last_seq = header->seq;
        self->last_partition = partition;
        self->last_ms = header->timestamp_ms;
    }
}

static void
s_part_key (uint32_t partition, uint64_t partition_seq, uint32_t part, uint8_t key [S_PART_KEY])
{
    tly_put_be32 (key, partition);
    tly_put_be64 (key + 4, partition_seq);
    tly_put_be32 (key + 12, part);
}

static int
s_lmdb_error (tly_audit_snapshots_t *self, const char *operation, int rc)
{
    tly_log (TLY_ERROR, "snapshots.lmdb", "path=%s operation=\"%s\" error=\"%s\"", self->path,
             operation, mdb_strerror (rc));
    return -1;
}

static bool
s_no_room (int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EIO || rc == EDQUOT;
}

//  Doubles the map up to its maximum (no transaction open). Returns 0 or -1.
static int
s_grow (tly_audit_snapshots_t *self)
{
    if (self->map_size >= self->map_max)
        return -1;
    size_t size = self->map_size * 2 > self->map_max ? self->map_max : self->map_size * 2;
    int rc = mdb_env_set_mapsize (self->env, size);
    if (rc)
        return s_lmdb_error (self, "grow", rc);
    self->map_size = size;
    tly_log (TLY_INFO, "snapshots.grown", "map_size=%zu map_max=%zu", size, self->map_max);
    return 0;
}

static void
s_set_error (tly_arena_t *arena, Tally__Error **error_p, Tally__ErrorCode code, const char *text)
{
    Tally__Error *error = tly_arena_alloc (arena, sizeof *error);
    tally__error__init (error);
    error->code = code;
    error->message = tly_arena_strdup (arena, text);
    *error_p = error;
}

//  Gives the store's mapped pages back to the kernel after each save, load
//  and retention check. LMDB reads data.mdb through a read-only shared map
//  (no MDB_WRITEMAP: its writes go through pwrite), and what it reads stays
//  mapped in this process: a save frees the parts of the snapshot it
//  replaces, and LMDB reads the first page of each freed overflow run
//  (mdb_cursor_del), which on ext4's large folios maps much of the part
//  around it; a load copies a whole part. Left alone, most of the store
//  ends up in the writer's RSS (427 MiB after 13 minutes at B=256). The
//  release is MADV_DONTNEED (tly_mapping): it drops only page-table
//  entries, the page cache keeps the bytes, and a later read faults them in
//  again unchanged, so it is safe whatever else reads the environment (here
//  only this thread does, between requests). The address inside the map is
//  the key of the first meta entry, read in a read transaction.
static void
s_release (tly_audit_snapshots_t *self)
{
    MDB_txn *txn;
    if (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open (txn, self->meta, &cursor);
    if (rc == 0) {
        rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
        mdb_cursor_close (cursor);
    }
    if (rc == 0 && tly_mapping_release (key.mv_data) == -1)
        tly_log (TLY_WARN, "snapshots.release_failed", "path=%s error=\"%s\"", self->path,
                 strerror (errno));
    mdb_txn_abort (txn);
}

//  ---------------------------------------------------------------- the class

tly_audit_snapshots_t *
tly_audit_snapshots_new (const char *path, size_t map_size, size_t map_max,
                         const tly_account_t *worker)
{
    assert (path && worker);
    assert (map_size > 0 && map_max >= map_size);
    tly_audit_snapshots_t *self = calloc (1, sizeof *self);
    assert (self);
    snprintf (self->path, sizeof self->path, "%s", path);
    self->map_size = map_size;
    self->map_max = map_max;
    self->worker = *worker;
    self->pending = calloc (TLY_PARTITIONS_MAX, sizeof (s_pending_t *));
    self->seqs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t));
    assert (self->pending && self->seqs);
    int rc;
    MDB_txn *txn = NULL;
    if (mkdir (path, 0700) == -1 && errno != EEXIST) {
        tly_log (TLY_ERROR, "snapshots.open", "path=%s error=\"%s\"", path, strerror (errno));
        goto failed;
    }
    if ((rc = mdb_env_create (&self->env)) || (rc = mdb_env_set_maxdbs (self->env, 4))
        || (rc = mdb_env_set_mapsize (self->env, map_size))
        || (rc = mdb_env_open (self->env, path, MDB_NOTLS, 0600))
        || (rc = mdb_txn_begin (self->env, NULL, 0, &txn))
        || (rc = mdb_dbi_open (txn, "parts", MDB_CREATE, &self->parts))
        || (rc = mdb_dbi_open (txn, "latest", MDB_CREATE, &self->latest))
        || (rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta))) {
        s_lmdb_error (self, "open", rc);
        goto failed;
    }
    uint8_t format [4];
    tly_put_be32 (format, S_FORMAT);
    MDB_val key = { 6, "format" }, value = { sizeof format, format }, found;
    rc = mdb_get (txn, self->meta, &key, &found);
    if (rc == MDB_NOTFOUND)
        rc = mdb_put (txn, self->meta, &key, &value, 0);
    else if (rc == 0 && (found.mv_size != 4 || tly_get_be32 (found.mv_data) != S_FORMAT)) {
        tly_log (TLY_ERROR, "snapshots.open", "path=%s reason=\"unknown format\"", path);
        goto failed;
    }
    if (rc) {
        s_lmdb_error (self, "format", rc);
        goto failed;
    }
    //  Count what is stored, for status.
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open (txn, self->latest, &cursor)) == 0) {
        for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            Tally__SignedSnapshotHeader *signed_header = tally__signed_snapshot_header__unpack (
                NULL, value.mv_size, value.mv_data);
            Tally__SnapshotHeader *header = signed_header ? tally__snapshot_header__unpack (
                                                NULL, signed_header->header.len,
                                                signed_header->header.data)
                                                          : NULL;
            self->count++;
            self->bytes += header ? header->bytes : 0;
            if (header && key.mv_size == 4 && tly_get_be32 (key.mv_data) < TLY_PARTITIONS_MAX)
                s_note_latest (self, tly_get_be32 (key.mv_data), header);
            if (header)
                tally__snapshot_header__free_unpacked (header, NULL);
            if (signed_header)
                tally__signed_snapshot_header__free_unpacked (signed_header, NULL);
        }
        mdb_cursor_close (cursor);
    }
    if ((rc = mdb_txn_commit (txn)) != 0) {
        txn = NULL;
        s_lmdb_error (self, "commit", rc);
        goto failed;
    }
    tly_log (TLY_INFO, "snapshots.ready", "path=%s snapshots=%" PRIu64 " bytes=%" PRIu64, path,
             self->count, self->bytes);
    return self;
failed:
    if (txn)
        mdb_txn_abort (txn);
    tly_audit_snapshots_destroy (&self);
    return NULL;
}

void
tly_audit_snapshots_destroy (tly_audit_snapshots_t **self_p)
{
    assert (self_p);
    tly_audit_snapshots_t *self = *self_p;
    if (!self)
        return;
    if (self->pending) {
        for (size_t i = 0; i < TLY_PARTITIONS_MAX; i++)
            free (self->pending [i]);
        free (self->pending);
    }
    free (self->seqs);
    if (self->env)
        mdb_env_close (self->env);
    sodium_memzero (&self->worker, sizeof self->worker);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- saving

//  Deletes partition's parts except those of keep_seq (0: all). Returns 0 or an LMDB code.
static int
s_drop_parts (tly_audit_snapshots_t *self, MDB_txn *txn, uint32_t partition, uint64_t keep_seq)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->parts, &cursor);
    if (rc)
        return rc;
    uint8_t start [4];
    tly_put_be32 (start, partition);
    MDB_val key = { sizeof start, start }, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); rc == 0;) {
        if (key.mv_size != S_PART_KEY || tly_get_be32 (key.mv_data) != partition)
            break;
        if (tly_get_be64 ((const uint8_t *) key.mv_data + 4) == keep_seq) {
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
            continue;
        }
        uint8_t gone [S_PART_KEY];
        memcpy (gone, key.mv_data, sizeof gone);
        if ((rc = mdb_cursor_del (cursor, 0)) != 0)
            break;
        key = (MDB_val) { sizeof gone, gone };
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

//  Finds record partition_seq of partition: its seq and hash. Returns 0, or
//  -1 when the journal has no such record.
typedef struct {
    uint64_t seq;
    uint8_t hash [TLY_HASH_BYTES];
    bool found;
} s_located_t;

static tly_journal_step_t
s_locate_record (uint64_t seq, const uint8_t *stored, size_t size, void *arg)
{
    s_located_t *located = arg;
    Tally__StoredRecord *record = tally__stored_record__unpack (NULL, size, stored);
    if (!record)
        return TLY_JOURNAL_FAIL;
    if (record->hash.len == TLY_HASH_BYTES) {
        located->seq = seq;
        memcpy (located->hash, record->hash.data, TLY_HASH_BYTES);
        located->found = true;
    }
    tally__stored_record__free_unpacked (record, NULL);
    return TLY_JOURNAL_STOP;
}

static int
s_locate (tly_journal_t *journal, uint32_t partition, uint64_t partition_seq, s_located_t *located)
{
    memset (located, 0, sizeof *located);
    tly_journal_query_t query = { .partition = partition,
                                  .after_partition_seq = partition_seq - 1,
                                  .max_records = 1,
                                  .max_bytes = TLY_JOURNAL_READ_BYTES };
    bool end;
    if (tly_journal_read (journal, &query, s_locate_record, located, &end) != TALLY__ERROR_CODE__OK)
        return -1;
    return located->found ? 0 : -1;
}

//  Signs and packs the header of a completed snapshot into arena.
static Tally__SignedSnapshotHeader *
s_sign_header (tly_audit_snapshots_t *self, const Tally__SnapshotHeader *header, tly_arena_t *arena)
{
    size_t size = tally__snapshot_header__get_packed_size (header);
    uint8_t *bytes = tly_arena_alloc (arena, size);
    tally__snapshot_header__pack (header, bytes);
    uint8_t *signature = tly_arena_alloc (arena, TLY_SIGNATURE_BYTES);
    tly_sign_domain (TLY_DOMAIN_SNAPSHOT, self->worker.sign_sk, bytes, size, signature);
    Tally__SignedSnapshotHeader *signed_header = tly_arena_alloc (arena, sizeof *signed_header);
    tally__signed_snapshot_header__init (signed_header);
    signed_header->header = (ProtobufCBinaryData) { size, bytes };
    signed_header->signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, signature };
    return signed_header;
}

//  The one write of a part: the part, and with the last one the header and
//  the parts of the snapshot it replaces. Returns 0 or an LMDB/errno code.
static int
s_write_part (tly_audit_snapshots_t *self, const Tally__SnapshotSave *save,
              const Tally__SignedSnapshotHeader *signed_header)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return rc;
    uint8_t key_bytes [S_PART_KEY];
    s_part_key (save->partition, save->partition_seq, save->part, key_bytes);
    MDB_val key = { sizeof key_bytes, key_bytes };
    MDB_val value = { save->rows.len, save->rows.data };
    if (save->part == 0)
        rc = s_drop_parts (self, txn, save->partition, UINT64_MAX);  //  a half-sent one
    if (rc == 0)
        rc = mdb_put (txn, self->parts, &key, &value, 0);
    if (rc == 0 && signed_header) {
        uint8_t partition [4];
        tly_put_be32 (partition, save->partition);
        size_t size = tally__signed_snapshot_header__get_packed_size (signed_header);
        MDB_val latest_key = { sizeof partition, partition };
        MDB_val latest = { size, NULL };
        rc = mdb_put (txn, self->latest, &latest_key, &latest, MDB_RESERVE);
        if (rc == 0) {
            tally__signed_snapshot_header__pack (signed_header, latest.mv_data);
            rc = s_drop_parts (self, txn, save->partition, save->partition_seq);
        }
    }
    //  An injected failure (tly_fault.h) fails the commit as LMDB does: aborted.
    if (rc || (rc = TLY_FAULT ("snapshot.save"))) {
        mdb_txn_abort (txn);
        return rc;
    }
    return mdb_txn_commit (txn);
}

//  The latest header of partition, unpacked into arena (NULL when none).
static Tally__SnapshotHeader *
s_latest (tly_audit_snapshots_t *self, MDB_txn *txn, uint32_t partition, tly_arena_t *arena,
          Tally__SignedSnapshotHeader **signed_p)
{
    uint8_t key_bytes [4];
    tly_put_be32 (key_bytes, partition);
    MDB_val key = { sizeof key_bytes, key_bytes }, value;
    if (mdb_get (txn, self->latest, &key, &value) != 0)
        return NULL;
    //  Copied: the reply outlives the read transaction.
    uint8_t *copy = tly_arena_alloc (arena, value.mv_size ? value.mv_size : 1);
    memcpy (copy, value.mv_data, value.mv_size);
    Tally__SignedSnapshotHeader *signed_header = tally__signed_snapshot_header__unpack (
        tly_arena_allocator (arena), value.mv_size, copy);
    if (!signed_header)
        return NULL;
    if (signed_p)
        *signed_p = signed_header;
    return tally__snapshot_header__unpack (tly_arena_allocator (arena), signed_header->header.len,
                                           signed_header->header.data);
}

static const char *
s_check_part (tly_audit_snapshots_t *self, const Tally__SnapshotSave *save)
{
    if (save->partition >= TLY_PARTITIONS_MAX)
        return "partition out of range";
    if (save->partition_seq == 0)
        return "partition_seq must be at least 1";
    if (save->part >= S_PARTS_MAX)
        return "too many parts";
    if (save->rows.len > TLY_FRAME_HARD_MAX)
        return "part too large";
    s_pending_t *pending = self->pending [save->partition];
    if (save->part > 0
        && (!pending || pending->partition_seq != save->partition_seq
            || pending->next_part != save->part))
        return "part out of order: send the snapshot again from part 0";
    return NULL;
}

static void
s_save (tly_audit_snapshots_t *self, tly_journal_t *journal, const Tally__SnapshotSave *save,
        tly_arena_t *arena, Tally__SnapshotSaveReply *reply)
{
    reply->request_id = save->request_id;
    const char *bad = s_check_part (self, save);
    if (bad) {
        tly_log (TLY_WARN, "snapshot.refused",
                 "partition=%" PRIu32 " part=%" PRIu32 " reason=\"%s\"", save->partition,
                 save->part, bad);
        if (save->partition < TLY_PARTITIONS_MAX) {
            free (self->pending [save->partition]);
            self->pending [save->partition] = NULL;
        }
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__BAD_REQUEST, bad);
        return;
    }
    //  Never back: a snapshot older than the latest (a fenced actor's, say)
    //  is answered with the latest, and not stored, so what retention may
    //  let go of only ever moves forward.
    MDB_txn *txn;
    if (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn) == 0) {
        Tally__SignedSnapshotHeader *latest_signed = NULL;
        Tally__SnapshotHeader *latest = s_latest (self, txn, save->partition, arena,
                                                  &latest_signed);
        mdb_txn_abort (txn);
        if (latest && latest->partition_seq >= save->partition_seq) {
            free (self->pending [save->partition]);
            self->pending [save->partition] = NULL;
            reply->header = latest_signed;
            tly_log (TLY_DEBUG, "snapshot.not_newer",
                     "partition=%" PRIu32 " partition_seq=%" PRIu64 " latest=%" PRIu64,
                     save->partition, save->partition_seq, latest->partition_seq);
            return;
        }
    }
    s_pending_t *pending = self->pending [save->partition];
    if (save->part == 0) {
        if (!pending)
            pending = self->pending [save->partition] = malloc (sizeof *pending);
        assert (pending);
        *pending = (s_pending_t) { .partition_seq = save->partition_seq,
                                   .epoch = save->epoch,
                                   .clock_ms = save->clock_ms,
                                   .schema = save->schema };
        crypto_generichash_init (&pending->digest, (const uint8_t *) TLY_SNAPSHOT_DIGEST_KEY,
                                 sizeof TLY_SNAPSHOT_DIGEST_KEY - 1, TLY_HASH_BYTES);
    }
    Tally__SnapshotRows *rows = tally__snapshot_rows__unpack (tly_arena_allocator (arena),
                                                              save->rows.len, save->rows.data);
    if (!rows) {
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__BAD_REQUEST,
                     "part rows do not decode as SnapshotRows");
        free (pending);
        self->pending [save->partition] = NULL;
        return;
    }
    //  A snapshot must name a record the journal has: the chain position it
    //  is the state of.
    Tally__SignedSnapshotHeader *signed_header = NULL;
    Tally__SnapshotHeader header = TALLY__SNAPSHOT_HEADER__INIT;
    uint8_t digest [TLY_HASH_BYTES];
    s_located_t located;
    crypto_generichash_state digest_state = pending->digest;
    crypto_generichash_update (&digest_state, save->rows.data, save->rows.len);
    if (save->last) {
        if (s_locate (journal, save->partition, save->partition_seq, &located) == -1) {
            s_set_error (arena, &reply->error, TALLY__ERROR_CODE__BAD_REQUEST,
                         "the journal has no record at that partition_seq");
            free (pending);
            self->pending [save->partition] = NULL;
            return;
        }
        crypto_generichash_state final_state = digest_state;
        crypto_generichash_final (&final_state, digest, sizeof digest);
        header.partition = save->partition;
        header.partition_seq = save->partition_seq;
        header.seq = located.seq;
        header.record_hash = (ProtobufCBinaryData) { TLY_HASH_BYTES, located.hash };
        header.epoch = pending->epoch;
        header.clock_ms = pending->clock_ms;
        header.schema = pending->schema;
        header.parts = save->part + 1;
        header.rows = pending->rows + rows->n_rows;
        header.bytes = pending->bytes + save->rows.len;
        header.digest = (ProtobufCBinaryData) { sizeof digest, digest };
        header.timestamp_ms = tly_now_ms ();
        header.worker = (ProtobufCBinaryData) { TLY_KEY_BYTES, self->worker.sign_pk };
        signed_header = s_sign_header (self, &header, arena);
    }
    //  Replaced parts go in the same commit as the header that replaces them.
    uint64_t replaced = 0;
    if (save->last) {
        MDB_txn *txn;
        if (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn) == 0) {
            Tally__SnapshotHeader *old = s_latest (self, txn, save->partition, arena, NULL);
            replaced = old ? old->bytes : 0;
            self->count -= old ? 1 : 0;
            mdb_txn_abort (txn);
        }
    }
    int rc;
    while ((rc = s_write_part (self, save, signed_header)) == MDB_MAP_FULL && s_grow (self) == 0)
        ;
    if (rc) {
        if (save->last && replaced)
            self->count++;
        s_lmdb_error (self, "save", rc);
        s_set_error (arena, &reply->error,
                     s_no_room (rc) ? TALLY__ERROR_CODE__UNAVAILABLE : TALLY__ERROR_CODE__INTERNAL,
                     s_no_room (rc) ? "snapshot storage full" : "snapshot not stored");
        free (pending);
        self->pending [save->partition] = NULL;
        return;
    }
    pending->digest = digest_state;
    pending->rows += rows->n_rows;
    pending->bytes += save->rows.len;
    pending->next_part++;
    if (!save->last)
        return;
    self->count++;
    self->bytes = self->bytes - replaced + header.bytes;
    s_note_latest (self, save->partition, &header);
    reply->header = signed_header;
    tly_log (TLY_INFO, "snapshot.stored",
             "partition=%" PRIu32 " partition_seq=%" PRIu64 " seq=%" PRIu64 " parts=%" PRIu32
             " rows=%" PRIu64 " bytes=%" PRIu64,
             save->partition, save->partition_seq, located.seq, header.parts, header.rows,
             header.bytes);
    free (pending);
    self->pending [save->partition] = NULL;
}

void
tly_audit_snapshots_save (tly_audit_snapshots_t *self, tly_journal_t *journal,
                          const Tally__SnapshotSave *save, tly_arena_t *arena,
                          Tally__SnapshotSaveReply *reply)
{
    assert (self && journal && save && arena && reply);
    s_save (self, journal, save, arena, reply);
    s_release (self);
}

//  ---------------------------------------------------------------- loading

static void
s_load (tly_audit_snapshots_t *self, const Tally__SnapshotLoad *load, tly_arena_t *arena,
        Tally__SnapshotLoadReply *reply)
{
    reply->request_id = load->request_id;
    reply->part = load->part;
    if (load->partition >= TLY_PARTITIONS_MAX) {
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__BAD_REQUEST,
                     "partition out of range");
        return;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        s_lmdb_error (self, "begin read", rc);
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__INTERNAL, "snapshot not readable");
        return;
    }
    Tally__SignedSnapshotHeader *signed_header = NULL;
    Tally__SnapshotHeader *header = s_latest (self, txn, load->partition, arena, &signed_header);
    reply->latest_partition_seq = header ? header->partition_seq : 0;
    uint64_t partition_seq = load->part == 0 ? reply->latest_partition_seq : load->partition_seq;
    if (!header || (load->part == 0 && header->partition_seq <= load->after_partition_seq)) {
        mdb_txn_abort (txn);
        return;  //  nothing newer than what the actor has
    }
    if (load->part > 0 && header->partition_seq != load->partition_seq) {
        mdb_txn_abort (txn);
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__NOT_FOUND,
                     "snapshot replaced by a newer one: load again from part 0");
        return;
    }
    if (load->part >= header->parts) {
        mdb_txn_abort (txn);
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__BAD_REQUEST, "no such part");
        return;
    }
    uint8_t key_bytes [S_PART_KEY];
    s_part_key (load->partition, partition_seq, load->part, key_bytes);
    MDB_val key = { sizeof key_bytes, key_bytes }, value;
    rc = mdb_get (txn, self->parts, &key, &value);
    if (rc) {
        mdb_txn_abort (txn);
        s_lmdb_error (self, "get part", rc);
        s_set_error (arena, &reply->error, TALLY__ERROR_CODE__INTERNAL, "snapshot part missing");
        return;
    }
    uint8_t *rows = tly_arena_alloc (arena, value.mv_size ? value.mv_size : 1);
    memcpy (rows, value.mv_data, value.mv_size);
    mdb_txn_abort (txn);
    reply->rows = (ProtobufCBinaryData) { value.mv_size, rows };
    if (load->part == 0)
        reply->header = signed_header;
}

void
tly_audit_snapshots_load (tly_audit_snapshots_t *self, const Tally__SnapshotLoad *load,
                          tly_arena_t *arena, Tally__SnapshotLoadReply *reply)
{
    assert (self && load && arena && reply);
    s_load (self, load, arena, reply);
    s_release (self);
}

//  ---------------------------------------------------------------- retention

int
tly_audit_snapshots_needed (tly_audit_snapshots_t *self, tly_journal_t *journal,
                            uint64_t *needed_seq, uint32_t *without)
{
    assert (self && journal && needed_seq && without);
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    *needed_seq = head.seq + 1;
    *without = 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_lmdb_error (self, "begin read", rc);
    tly_arena_t *arena = tly_arena_new (64 * 1024);
    assert (arena);
    int result = 0;
    for (uint32_t partition = 0; partition < TLY_PARTITIONS_MAX; partition++) {
        uint64_t fence, last;
        tly_journal_partition (journal, partition, &fence, &last);
        if (last == 0)
            continue;
        tly_arena_reset (arena);
        Tally__SnapshotHeader *header = s_latest (self, txn, partition, arena, NULL);
        //  A partition needs its records after its latest snapshot (all of
        //  them without one): from the first of those on.
        uint64_t after = header ? header->partition_seq : 0;
        if (!header)
            (*without)++;
        if (after >= last)
            continue;
        s_located_t located;
        if (s_locate (journal, partition, after + 1, &located) == -1) {
            result = -1;  //  a record the journal should have: retire nothing
            break;
        }
        uint64_t needed = located.seq;
        if (needed < *needed_seq)
            *needed_seq = needed;
    }
    tly_arena_destroy (&arena);
    mdb_txn_abort (txn);
    s_release (self);
    return result;
}

void
tly_audit_snapshots_stats (tly_audit_snapshots_t *self, tly_audit_snapshots_stats_t *stats)
{
    assert (self && stats);
    uint64_t oldest = 0;
    for (uint32_t partition = 0; partition < TLY_PARTITIONS_MAX; partition++)
        if (self->seqs [partition] && (!oldest || self->seqs [partition] < oldest))
            oldest = self->seqs [partition];
    *stats = (tly_audit_snapshots_stats_t) { .count = (uint32_t) self->count,
                                             .bytes = self->bytes,
                                             .oldest_seq = oldest,
                                             .last_seq = self->last_seq,
                                             .last_partition = self->last_partition,
                                             .last_ms = self->last_ms };
}
