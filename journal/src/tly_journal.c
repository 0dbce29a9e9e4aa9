//  tly_journal - the audit journal: a durable, hash-chained record log in LMDB.
#include "tly_journal_private.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tly_fault.h"
#include "tly_log.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_DBI_COUNT 7
#define S_LOCK_FILE "writer.lock"

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

//  The writer appends after the head, so the head must name the last record
//  (or, in a segment with none yet, its base).
static int
s_check_head (tly_journal_t *self, MDB_txn *txn)
{
    tly_journal_segment_t *segment = self->active;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, segment->records, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        return -1;
    }
    MDB_val last_key, last_value;
    rc = mdb_cursor_get (cursor, &last_key, &last_value, MDB_LAST);
    uint64_t last_seq = rc == 0 && last_key.mv_size == 8 ? tly_get_be64 (last_key.mv_data)
                                                         : segment->first - 1;
    mdb_cursor_close (cursor);
    if ((rc != 0 && rc != MDB_NOTFOUND) || last_seq != self->head.seq) {
        tly_log (TLY_ERROR, "journal.corrupt",
                 "path=%s reason=\"head does not match last record\" head=%" PRIu64
                 " last=%" PRIu64,
                 segment->path, self->head.seq, last_seq);
        return -1;
    }
    return 0;
}

static int
s_load_partitions (tly_journal_t *self, MDB_txn *txn)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->active->partitions, &cursor);
    if (rc) {
        tly_journal_lmdb_error (self, "cursor_open", rc);
        return -1;
    }
    //  No reset first: the table names every partition ever touched (a new
    //  segment gets a copy), and writing all of the cache would make its
    //  untouched pages resident.
    MDB_val key, value;
    while ((rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) == 0) {
        uint32_t partition = key.mv_size == 4 ? tly_get_be32 (key.mv_data) : TLY_PARTITIONS_MAX;
        if (partition >= TLY_PARTITIONS_MAX || value.mv_size != TLY_JOURNAL_PARTITION_VALUE)
            break;
        self->committed [partition].fence = tly_get_be64 (value.mv_data);
        self->committed [partition].last_pseq = tly_get_be64 ((uint8_t *) value.mv_data + 8);
    }
    mdb_cursor_close (cursor);
    if (rc != MDB_NOTFOUND) {
        tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"bad partition entry\"",
                 self->active->path);
        return -1;
    }
    memcpy (self->pending, self->committed, TLY_PARTITIONS_MAX * sizeof (tly_journal_state_t));
    return 0;
}

//  An adopted format-1 environment becomes segment 1 of format 2: first 1,
//  base genesis. Its records, indexes and checkpoints stay as they are.
static int
s_upgrade (tly_journal_t *self, MDB_txn *txn)
{
    tly_journal_segment_t *segment = self->active;
    uint8_t format [4], first [8];
    tly_put_be32 (format, TLY_JOURNAL_FORMAT);
    tly_put_be64 (first, 1);
    tly_journal_head_t genesis;
    memset (&genesis, 0, sizeof genesis);
    int rc = tly_journal_put_meta (txn, segment->meta, "format", format, sizeof format);
    if (rc == 0)
        rc = tly_journal_put_meta (txn, segment->meta, "first", first, sizeof first);
    if (rc == 0)
        rc = tly_journal_put_head (txn, segment->meta, "base", &genesis);
    if (rc) {
        tly_journal_lmdb_error (self, "upgrade", rc);
        return -1;
    }
    tly_log (TLY_INFO, "journal.upgraded", "path=%s from_format=1 to_format=%d", segment->path,
             TLY_JOURNAL_FORMAT);
    return 0;
}

//  Opens the active segment's tables, upgrades a format-1 one, and loads
//  the caches.
static int
s_open_tables (tly_journal_t *self)
{
    tly_journal_segment_t *segment = self->active;
    MDB_txn *txn;
    int rc = mdb_txn_begin (segment->env, NULL, 0, &txn);
    if (rc) {
        tly_journal_lmdb_error (self, "txn_begin", rc);
        return -1;
    }
    MDB_val key = { 6, (void *) "format" };
    MDB_val value;
    int ok = tly_journal_segment_dbis (self, segment, txn, true) == 0 ? 0 : -1;
    if (ok == 0) {
        rc = mdb_get (txn, segment->meta, &key, &value);
        if ((rc == MDB_NOTFOUND && segment->first == 1)
            || (rc == 0 && value.mv_size == 4
                && tly_get_be32 (value.mv_data) == TLY_JOURNAL_FORMAT_LEGACY)) {
            segment->legacy = true;  //  read its meta as format 1, then upgrade
            ok = tly_journal_segment_meta (self, segment, txn);
            segment->legacy = false;
            if (ok == 0)
                ok = s_upgrade (self, txn);
        }
    }
    if (ok == 0)
        ok = tly_journal_segment_meta (self, segment, txn);
    if (ok == 0
        && tly_journal_load_head (self, segment, txn, TLY_JOURNAL_HEAD_KEY, &self->head) == 0
        && s_check_head (self, txn) == 0
        && tly_journal_load_checkpoint_seq (self, segment, txn, &self->checkpoint_seq) == 0
        && s_load_partitions (self, txn) == 0) {
        //  A segment's first checkpoint may be its predecessor's seal.
        if (self->checkpoint_seq == 0 && segment->base_checkpoint_size > 0)
            self->checkpoint_seq = segment->base.seq;
        if (self->head.seq == 0)
            self->head = segment->base;
        self->pending_head = self->head;
        self->pending_checkpoint_seq = self->checkpoint_seq;
        rc = mdb_txn_commit (txn);
        if (rc)
            tly_journal_lmdb_error (self, "open_commit", rc);
        return rc ? -1 : 0;
    }
    mdb_txn_abort (txn);
    return -1;
}

//  The map as LMDB has it (an existing journal keeps the size it grew to).
static size_t
s_map_size (MDB_env *env)
{
    MDB_envinfo info;
    int rc = mdb_env_info (env, &info);
    assert (rc == 0);
    return info.me_mapsize;
}

int
tly_journal_env_open (tly_journal_t *self, MDB_env **env, const char *path, size_t map_size)
{
    int rc = mdb_env_create (env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (*env, S_DBI_COUNT);
    if (rc == 0 && map_size > 0)
        rc = mdb_env_set_mapsize (*env, map_size);
    //  No MDB_NOSYNC/MDB_NOMETASYNC: a commit returns only once it is on disk.
    if (rc == 0)
        rc = mdb_env_open (*env, path, MDB_NOSUBDIR, 0600);
    if (rc) {
        tly_journal_lmdb_error (self, "env_open", rc);
        if (*env)
            mdb_env_close (*env);
        *env = NULL;
        return -1;
    }
    return 0;
}

//  Opens the last segment for writing.
int
tly_journal_open_active (tly_journal_t *self)
{
    assert (self->segment_count > 0);
    tly_journal_segment_t *segment = self->segments [self->segment_count - 1];
    tly_journal_segment_close (segment);
    self->active = segment;
    if (tly_journal_env_open (self, &segment->env, segment->path, self->map_size0) == -1)
        return -1;
    self->map_size = s_map_size (segment->env);
    if (self->map_max < self->map_size)
        self->map_max = self->map_size;
    if (s_open_tables (self) == -1) {
        tly_journal_segment_close (segment);
        return -1;
    }
    return 0;
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

//  A format-1 journal (DATA/journal/data.mdb) becomes the first segment: the
//  file is renamed into segments/ (its lock file is LMDB's to make again)
//  and stamped format 2 when it is opened. One rename: a crash leaves it
//  either where it was or adopted.
static int
s_adopt (tly_journal_t *self, const char *dir)
{
    char legacy [PATH_MAX + 32], legacy_lock [PATH_MAX + 32], target [PATH_MAX + 64];
    snprintf (legacy, sizeof legacy, "%s/data.mdb", self->path);
    snprintf (legacy_lock, sizeof legacy_lock, "%s/lock.mdb", self->path);
    if (access (legacy, F_OK) == -1)
        return 0;
    tly_journal_segment_path (target, sizeof target, dir, 1);
    if (access (target, F_OK) == 0) {
        tly_log (TLY_ERROR, "journal.open",
                 "path=%s reason=\"both a format-1 data.mdb and a first segment exist: move"
                 " one away\"",
                 self->path);
        return -1;
    }
    if (rename (legacy, target) == -1 || tly_journal_sync_dir (dir) == -1
        || tly_journal_sync_dir (self->path) == -1) {
        tly_log (TLY_ERROR, "journal.open", "path=%s error=\"%s\"", legacy, strerror (errno));
        return -1;
    }
    unlink (legacy_lock);
    tly_log (TLY_INFO, "journal.adopted", "from=%s to=%s", legacy, target);
    return 0;
}

//  Removes what a roll interrupted before its rename left: temporary files.
static void
s_remove_unfinished (const char *dir)
{
    DIR *handle = opendir (dir);
    if (!handle)
        return;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        if (!strstr (entry->d_name, TLY_JOURNAL_NEW_SUFFIX))
            continue;
        char path [PATH_MAX + 300];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        tly_log (TLY_WARN, "journal.unfinished_removed", "path=%s", path);
        unlink (path);
    }
    closedir (handle);
}

//  The writer: lock, adopt a format-1 journal, find the segments, and open
//  the last (the first ever when there is none; the next when the last was
//  sealed by a roll a crash interrupted).
static int
s_open_writer (tly_journal_t *self)
{
    if (mkdir (self->path, 0700) == -1 && errno != EEXIST) {
        tly_log (TLY_ERROR, "journal.open", "path=%s error=\"%s\"", self->path, strerror (errno));
        return -1;
    }
    char lock_path [PATH_MAX + sizeof S_LOCK_FILE];
    snprintf (lock_path, sizeof lock_path, "%s/%s", self->path, S_LOCK_FILE);
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd == -1 || flock (self->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        tly_log (TLY_ERROR, "journal.open",
                 "path=%s reason=\"journal is locked by another writer\" error=\"%s\"", self->path,
                 strerror (errno));
        return -1;
    }
    char dir [PATH_MAX + 32];
    snprintf (dir, sizeof dir, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, self->path);
    if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
        tly_log (TLY_ERROR, "journal.open", "path=%s error=\"%s\"", dir, strerror (errno));
        return -1;
    }
    if (s_adopt (self, dir) == -1)
        return -1;
    s_remove_unfinished (dir);
    if (tly_journal_segments_scan (self) == -1)
        return -1;
    if (self->segment_count == 0) {
        memset (&self->head, 0, sizeof self->head);
        return tly_journal_make_next (self, NULL, 0);
    }
    if (tly_journal_open_active (self) == -1)
        return -1;
    if (self->active->sealed) {
        tly_log (TLY_INFO, "journal.roll_resumed", "path=%s last=%" PRIu64, self->active->path,
                 self->head.seq);
        return tly_journal_roll (self);
    }
    return 0;
}

static tly_journal_t *
s_new (const char *path, bool read_only)
{
    if (sodium_init () < 0)
        return NULL;
    tly_journal_t *self = calloc (1, sizeof *self);
    assert (self);
    self->lock_fd = -1;
    self->read_only = read_only;
    if (path && strlen (path) >= sizeof self->path - 64) {
        tly_log (TLY_ERROR, "journal.open", "reason=\"path too long\"");
        free (self);
        return NULL;
    }
    if (path)
        strcpy (self->path, path);
    return self;
}

tly_journal_t *
tly_journal_new (const char *path, size_t map_size)
{
    assert (path);
    tly_journal_t *self = s_new (path, false);
    if (!self)
        return NULL;
    self->committed = calloc (TLY_PARTITIONS_MAX, sizeof (tly_journal_state_t));
    self->pending = calloc (TLY_PARTITIONS_MAX, sizeof (tly_journal_state_t));
    self->is_dirty = calloc (TLY_PARTITIONS_MAX, sizeof (bool));
    self->dirty = calloc (TLY_PARTITIONS_MAX, sizeof (uint32_t));
    assert (self->committed && self->pending && self->is_dirty && self->dirty);
    self->map_size0 = map_size;
    if (s_open_writer (self) == -1)
        tly_journal_destroy (&self);
    return self;
}

//  A reader's view: the newest segment's snapshot (head, partitions), and
//  every sealed one before it.
static int
s_open_view (tly_journal_t *self)
{
    if (self->segment_count == 0) {
        tly_log (TLY_ERROR, "journal.open", "path=%s reason=\"no journal here\"",
                 self->path [0] ? self->path : "?");
        return -1;
    }
    return tly_journal_segment_use (self, self->segments [self->segment_count - 1]);
}

tly_journal_t *
tly_journal_new_reader_in (const char *path, const char *const *archives, size_t archive_count)
{
    assert (path);
    tly_journal_t *self = s_new (path, true);
    if (!self)
        return NULL;
    self->archives = calloc (archive_count + 1, sizeof (char *));
    assert (self->archives);
    for (size_t i = 0; i < archive_count; i++) {
        self->archives [i] = strdup (archives [i]);
        assert (self->archives [i]);
    }
    self->archive_count = archive_count;
    if (tly_journal_segments_scan (self) == -1 || s_open_view (self) == -1)
        tly_journal_destroy (&self);
    return self;
}

tly_journal_t *
tly_journal_new_reader (const char *path)
{
    assert (path);
    //  The default archive folder is read (a missing one holds nothing; the
    //  writer makes it when it first archives, perhaps while this reads).
    char archive [PATH_MAX + 32];
    snprintf (archive, sizeof archive, "%s/" TLY_JOURNAL_ARCHIVE_SUBDIR, path);
    const char *archives [] = { archive };
    return tly_journal_new_reader_in (path, archives, 1);
}

tly_journal_t *
tly_journal_new_segment_reader (const char *file)
{
    assert (file);
    tly_journal_t *self = s_new (NULL, true);
    if (!self)
        return NULL;
    if (tly_journal_segments_add_file (self, file) == -1 || s_open_view (self) == -1)
        tly_journal_destroy (&self);
    return self;
}

void
tly_journal_destroy (tly_journal_t **self_p)
{
    assert (self_p);
    tly_journal_t *self = *self_p;
    if (!self)
        return;
    tly_journal_abort (self);
    tly_journal_segments_free (self);
    for (size_t i = 0; i < self->archive_count; i++)
        free (self->archives [i]);
    free (self->archives);
    if (self->lock_fd != -1)
        close (self->lock_fd);
    free (self->committed);
    free (self->pending);
    free (self->is_dirty);
    free (self->dirty);
    free (self->body);
    free (self);
    *self_p = NULL;
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
