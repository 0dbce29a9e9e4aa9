//  tly_journal_open - opening and closing a journal: the writer's (its
//  lock, a format-1 journal adopted, what an interrupted roll left
//  removed, the active segment opened with its tables and the caches
//  loaded from them), a reader's across segments and archive folders, one
//  segment file's, and the destructor. Apart from the writer core
//  (tly_journal.c): none of it runs while a journal is in use, but the
//  roll's opening of the next segment (tly_journal_open_active).
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
#include "tly_log.h"

#define S_DBI_COUNT 7
#define S_LOCK_FILE "writer.lock"

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
        && s_load_partitions (self, txn) == 0
        && tly_journal_load_config (self, segment, txn) == 0) {
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
    free (self->config);
    free (self->pending_config);
    free (self);
    *self_p = NULL;
}
