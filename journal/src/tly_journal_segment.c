//  tly_journal_segment - the journal's segments: finding them on disk (the
//  segments/ folder, a format-1 environment, archive folders), opening them
//  for reading a few at a time (an LRU of environments), reading their meta,
//  and retiring sealed ones (tly_journal_retire).
#include "tly_journal_private.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tly_log.h"
#include "tly_mapping.h"

#define S_DBI_COUNT   7
#define S_NAME_DIGITS 20
#define S_NAME_SUFFIX ".mdb"

static const char s_format_key [] = "format";
static const char s_first_key [] = "first";
static const char s_base_checkpoint_key [] = "base_checkpoint";
static const char s_sealed_key [] = "sealed";

void
tly_journal_segment_path (char *out, size_t size, const char *dir, uint64_t first)
{
    snprintf (out, size, "%s/%0*" PRIu64 S_NAME_SUFFIX, dir, S_NAME_DIGITS, first);
}

//  A segment's file name: 20 decimal digits (its first seq, >= 1) and ".mdb".
static bool
s_parse_name (const char *name, uint64_t *first)
{
    if (strlen (name) != S_NAME_DIGITS + sizeof S_NAME_SUFFIX - 1
        || strcmp (name + S_NAME_DIGITS, S_NAME_SUFFIX) != 0)
        return false;
    uint64_t value = 0;
    for (int i = 0; i < S_NAME_DIGITS; i++) {
        if (name [i] < '0' || name [i] > '9' || __builtin_mul_overflow (value, 10, &value)
            || __builtin_add_overflow (value, (uint64_t) (name [i] - '0'), &value))
            return false;
    }
    *first = value;
    return value >= 1;
}

static size_t
s_index_of_first (tly_journal_t *self, uint64_t first)
{
    for (size_t i = 0; i < self->segment_count; i++)
        if (self->segments [i]->first == first)
            return i;
    return self->segment_count;
}

static int
s_compare (const void *a, const void *b)
{
    const tly_journal_segment_t *left = *(tly_journal_segment_t *const *) a;
    const tly_journal_segment_t *right = *(tly_journal_segment_t *const *) b;
    return left->first < right->first ? -1 : left->first > right->first;
}

//  Lists path as a segment unless one with the same first seq is listed
//  (the live folder is scanned before the archives: it wins).
static void
s_add (tly_journal_t *self, const char *path, uint64_t first, bool archived, bool legacy)
{
    if (s_index_of_first (self, first) < self->segment_count)
        return;
    if (self->segment_count == self->segment_capacity) {
        self->segment_capacity = self->segment_capacity ? 2 * self->segment_capacity : 16;
        self->segments = realloc (self->segments,
                                  self->segment_capacity * sizeof (tly_journal_segment_t *));
        assert (self->segments);
    }
    tly_journal_segment_t *segment = calloc (1, sizeof *segment);
    assert (segment);
    snprintf (segment->path, sizeof segment->path, "%s", path);
    segment->first = first;
    segment->last = first - 1;
    segment->archived = archived;
    segment->legacy = legacy;
    struct stat info;
    char data_path [PATH_MAX + 16];
    snprintf (data_path, sizeof data_path, legacy ? "%s/data.mdb" : "%s", path);
    if (stat (data_path, &info) == 0)
        segment->bytes = (uint64_t) info.st_size;
    self->segments [self->segment_count++] = segment;
}

//  Adds every segment file in dir. A missing folder has none.
static int
s_scan_dir (tly_journal_t *self, const char *dir, bool archived)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        if (errno == ENOENT)
            return 0;
        tly_log (TLY_ERROR, "journal.open", "path=%s error=\"%s\"", dir, strerror (errno));
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        uint64_t first;
        if (!s_parse_name (entry->d_name, &first))
            continue;
        char path [PATH_MAX];
        if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, entry->d_name) >= sizeof path)
            continue;
        s_add (self, path, first, archived, false);
    }
    closedir (handle);
    return 0;
}

int
tly_journal_segments_scan (tly_journal_t *self)
{
    assert (self->path [0]);
    char dir [PATH_MAX + 32];
    snprintf (dir, sizeof dir, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, self->path);
    if (s_scan_dir (self, dir, false) == -1)
        return -1;
    //  A format-1 journal not yet adopted by a writer reads as one segment.
    char legacy [PATH_MAX + 32];
    snprintf (legacy, sizeof legacy, "%s/data.mdb", self->path);
    if (access (legacy, F_OK) == 0)
        s_add (self, self->path, 1, false, true);
    for (size_t i = 0; i < self->archive_count; i++)
        if (s_scan_dir (self, self->archives [i], true) == -1)
            return -1;
    if (self->segment_count > 1)
        qsort (self->segments, self->segment_count, sizeof (tly_journal_segment_t *), s_compare);
    return 0;
}

int
tly_journal_segments_add_file (tly_journal_t *self, const char *file)
{
    const char *slash = strrchr (file, '/');
    const char *name = slash ? slash + 1 : file;
    uint64_t first;
    if (!s_parse_name (name, &first)) {
        tly_log (TLY_ERROR, "journal.open",
                 "path=%s reason=\"not a segment file name (20 digits, the first seq, then"
                 " .mdb)\"",
                 file);
        return -1;
    }
    if (access (file, R_OK) == -1) {
        tly_log (TLY_ERROR, "journal.open", "path=%s error=\"%s\"", file, strerror (errno));
        return -1;
    }
    s_add (self, file, first, true, false);
    return 0;
}

void
tly_journal_segments_free (tly_journal_t *self)
{
    for (size_t i = 0; i < self->segment_count; i++) {
        tly_journal_segment_close (self->segments [i]);
        free (self->segments [i]);
    }
    free (self->segments);
    self->segments = NULL;
    self->segment_count = self->segment_capacity = 0;
}

size_t
tly_journal_segment_find (tly_journal_t *self, uint64_t seq)
{
    //  The last segment whose first seq is at or before seq.
    size_t low = 0, high = self->segment_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->segments [middle]->first <= seq)
            low = middle + 1;
        else
            high = middle;
    }
    return low == 0 ? (self->segment_count ? 0 : self->segment_count) : low - 1;
}

//  ---------------------------------------------------------------- meta

static int
s_get (MDB_txn *txn, MDB_dbi dbi, const char *name, MDB_val *value)
{
    MDB_val key = { strlen (name), (void *) name };
    return mdb_get (txn, dbi, &key, value);
}

int
tly_journal_segment_dbis (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                          bool create)
{
    unsigned int flags = create ? MDB_CREATE : 0;
    int rc;
    if ((rc = mdb_dbi_open (txn, "records", flags, &segment->records))
        || (rc = mdb_dbi_open (txn, "pindex", flags, &segment->pindex))
        || (rc = mdb_dbi_open (txn, "partitions", flags, &segment->partitions))
        || (rc = mdb_dbi_open (txn, "meta", flags, &segment->meta))) {
        tly_journal_lmdb_error (self, "dbi_open", rc);
        return -1;
    }
    //  A format-1 journal may predate checkpoints, and has no bases.
    rc = mdb_dbi_open (txn, "checkpoints", flags, &segment->checkpoints);
    segment->has_checkpoints = rc == 0;
    if (rc && (rc != MDB_NOTFOUND || create)) {
        tly_journal_lmdb_error (self, "dbi_open", rc);
        return -1;
    }
    rc = mdb_dbi_open (txn, "bases", flags, &segment->bases);
    segment->has_bases = rc == 0;
    if (rc && (rc != MDB_NOTFOUND || create)) {
        tly_journal_lmdb_error (self, "dbi_open", rc);
        return -1;
    }
    return 0;
}

static int
s_corrupt (tly_journal_segment_t *segment, const char *reason)
{
    tly_log (TLY_ERROR, "journal.corrupt", "path=%s reason=\"%s\"", segment->path, reason);
    return -1;
}

int
tly_journal_segment_meta (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn)
{
    MDB_val value;
    int rc = s_get (txn, segment->meta, s_format_key, &value);
    uint32_t format = rc == 0 && value.mv_size == 4 ? tly_get_be32 (value.mv_data) : 0;
    if (rc == MDB_NOTFOUND && segment->legacy)
        format = TLY_JOURNAL_FORMAT_LEGACY;  //  a format-1 journal never written to
    if (format != TLY_JOURNAL_FORMAT && format != TLY_JOURNAL_FORMAT_LEGACY) {
        tly_log (TLY_ERROR, "journal.format", "path=%s reason=\"unknown journal format\"",
                 segment->path);
        return -1;
    }
    memset (&segment->base, 0, sizeof segment->base);
    segment->base_checkpoint_size = 0;
    segment->sealed = false;
    if (format == TLY_JOURNAL_FORMAT) {
        rc = s_get (txn, segment->meta, s_first_key, &value);
        if (rc || value.mv_size != 8 || tly_get_be64 (value.mv_data) != segment->first)
            return s_corrupt (segment, "meta first does not match the file name");
        if (tly_journal_load_head (self, segment, txn, "base", &segment->base) == -1)
            return -1;
        if (segment->base.seq != segment->first - 1)
            return s_corrupt (segment, "meta base is not the seq before first");
        rc = s_get (txn, segment->meta, s_base_checkpoint_key, &value);
        if (rc == 0 && value.mv_size <= sizeof segment->base_checkpoint) {
            memcpy (segment->base_checkpoint, value.mv_data, value.mv_size);
            segment->base_checkpoint_size = value.mv_size;
        } else if (rc != MDB_NOTFOUND)
            return s_corrupt (segment, "bad meta base_checkpoint");
        rc = s_get (txn, segment->meta, s_sealed_key, &value);
        if (rc == 0 && value.mv_size == 8)
            segment->sealed = true;
        else if (rc != MDB_NOTFOUND)
            return s_corrupt (segment, "bad meta sealed");
    } else if (segment->first != 1)
        return s_corrupt (segment, "a format-1 segment must start at seq 1");
    tly_journal_head_t head;
    if (tly_journal_load_head (self, segment, txn, "head", &head) == -1)
        return -1;
    segment->last = head.seq ? head.seq : segment->first - 1;
    if (segment->last < segment->first - 1)
        return s_corrupt (segment, "meta head is before the segment");
    segment->known = true;
    return 0;
}

//  ---------------------------------------------------------------- the LRU

//  A reader's newest segment holds its view of the head and the partitions:
//  it stays open, its snapshot moved only by tly_journal_refresh.
static bool
s_pinned (tly_journal_t *self, tly_journal_segment_t *segment)
{
    if (!self->read_only)
        return segment == self->active && segment->env != NULL && !segment->snapshot;
    return self->segment_count > 0 && segment == self->segments [self->segment_count - 1];
}

void
tly_journal_segment_close (tly_journal_segment_t *segment)
{
    if (segment->snapshot)
        mdb_txn_abort (segment->snapshot);
    segment->snapshot = NULL;
    if (segment->env)
        mdb_env_close (segment->env);
    segment->env = NULL;
}

static void
s_make_room (tly_journal_t *self)
{
    for (;;) {
        size_t open = 0;
        tly_journal_segment_t *oldest = NULL;
        for (size_t i = 0; i < self->segment_count; i++) {
            tly_journal_segment_t *segment = self->segments [i];
            if (!segment->env || s_pinned (self, segment) || segment == self->active
                || segment->walking)
                continue;
            open++;
            if (!oldest || segment->used < oldest->used)
                oldest = segment;
        }
        if (open < TLY_JOURNAL_OPEN_MAX || !oldest)
            return;
        tly_journal_segment_close (oldest);
    }
}

static int
s_open_snapshot (tly_journal_segment_t *segment)
{
    int rc = mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &segment->snapshot);
    if (rc == MDB_MAP_RESIZED) {
        //  The writer grew the map since this environment opened: adopt it.
        rc = mdb_env_set_mapsize (segment->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &segment->snapshot);
    }
    if (rc)
        segment->snapshot = NULL;
    return rc;
}

//  A reader's segment in segments/ that is no longer there: moved to an
//  archive folder this reader looks in, it is read from there; deleted (or
//  archived elsewhere), the reader notes it (tly_journal_retired) and the
//  read fails. Returns what tly_journal_segment_use returns.
static int
s_retired (tly_journal_t *self, tly_journal_segment_t *segment)
{
    const char *name = strrchr (segment->path, '/');
    name = name ? name + 1 : segment->path;
    for (size_t i = 0; i < self->archive_count; i++) {
        char path [PATH_MAX];
        if ((size_t) snprintf (path, sizeof path, "%s/%s", self->archives [i], name) >= sizeof path
            || access (path, F_OK) == -1)
            continue;
        tly_log (TLY_INFO, "journal.segment_moved", "from=%s to=%s reason=\"archived while read\"",
                 segment->path, path);
        snprintf (segment->path, sizeof segment->path, "%s", path);
        segment->archived = true;
        return tly_journal_segment_use (self, segment);
    }
    self->retired = true;
    tly_log (TLY_WARN, "journal.segment_gone",
             "path=%s first=%" PRIu64
             " reason=\"retired by the writer while read: a new reader sees what is kept now\"",
             segment->path, segment->first);
    return -1;
}

int
tly_journal_segment_use (tly_journal_t *self, tly_journal_segment_t *segment)
{
    assert (!(segment == self->active && segment->env && !segment->snapshot));
    segment->used = ++self->clock;
    if (segment->env)
        return 0;
    s_make_room (self);
    //  Sealed segments never change: no lock file, so an archive may be
    //  read-only. The newest one a writer may still write: LMDB's locks.
    bool live = !segment->archived && (!segment->known || !segment->sealed)
                && s_pinned (self, segment);
    unsigned int flags = MDB_RDONLY | (segment->legacy ? 0 : MDB_NOSUBDIR)
                         | (live ? 0 : MDB_NOLOCK);
    int rc = mdb_env_create (&segment->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (segment->env, S_DBI_COUNT);
    if (rc == 0)
        rc = mdb_env_open (segment->env, segment->path, flags, 0600);
    if (rc == ENOENT && self->read_only && !segment->archived && !segment->legacy) {
        //  Gone since it was listed: the writer's retention retired it.
        tly_journal_segment_close (segment);
        return s_retired (self, segment);
    }
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        tly_log (TLY_ERROR, "journal.lmdb", "path=%s op=env_open error=\"%s\"", segment->path,
                 mdb_strerror (rc));
        if (txn)
            mdb_txn_abort (txn);
        tly_journal_segment_close (segment);
        return -1;
    }
    //  DBI handles opened in a committed transaction outlive it.
    if (tly_journal_segment_dbis (self, segment, txn, false) == -1) {
        mdb_txn_abort (txn);
        tly_journal_segment_close (segment);
        return -1;
    }
    rc = mdb_txn_commit (txn);
    if (rc == 0)
        rc = s_open_snapshot (segment);
    if (rc) {
        tly_log (TLY_ERROR, "journal.lmdb", "path=%s op=txn_begin error=\"%s\"", segment->path,
                 mdb_strerror (rc));
        tly_journal_segment_close (segment);
        return -1;
    }
    if (tly_journal_segment_meta (self, segment, segment->snapshot) == -1) {
        tly_journal_segment_close (segment);
        return -1;
    }
    return 0;
}

int
tly_journal_segment_renew (tly_journal_t *self, tly_journal_segment_t *segment)
{
    assert (segment->env && segment->snapshot);
    mdb_txn_reset (segment->snapshot);
    int rc = mdb_txn_renew (segment->snapshot);
    if (rc == MDB_MAP_RESIZED) {
        mdb_txn_abort (segment->snapshot);
        segment->snapshot = NULL;
        rc = s_open_snapshot (segment);
    }
    if (rc) {
        tly_log (TLY_ERROR, "journal.lmdb", "path=%s op=txn_renew error=\"%s\"", segment->path,
                 mdb_strerror (rc));
        tly_journal_segment_close (segment);
        return -1;
    }
    return tly_journal_segment_meta (self, segment, segment->snapshot);
}

MDB_txn *
tly_journal_segment_txn (tly_journal_t *self, tly_journal_segment_t *segment)
{
    if (!self->read_only && segment == self->active && segment->env && !segment->snapshot) {
        MDB_txn *txn;
        int rc = mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &txn);
        if (rc) {
            tly_journal_lmdb_error (self, "txn_begin", rc);
            return NULL;
        }
        return txn;
    }
    if (tly_journal_segment_use (self, segment) == -1)
        return NULL;
    return segment->snapshot;
}

void
tly_journal_segment_done (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn)
{
    (void) self;
    if (txn && txn != segment->snapshot)
        mdb_txn_abort (txn);
}

//  Every open environment's map is read-only and shared (no MDB_WRITEMAP:
//  the writer's pages go out through pwrite), so MADV_DONTNEED only drops
//  this process's page-table entries (tly_mapping.h): the page cache keeps
//  the bytes and the next read faults them in again, unchanged. The
//  address inside each map is the key of its first meta entry.
int
tly_journal_release (tly_journal_t *self)
{
    assert (self);
    assert (!self->txn);
    int released = 0;
    for (size_t i = 0; i < self->segment_count; i++) {
        tly_journal_segment_t *segment = self->segments [i];
        if (!segment->env)
            continue;
        MDB_txn *txn = segment->snapshot;
        if (!txn && mdb_txn_begin (segment->env, NULL, MDB_RDONLY, &txn) != 0)
            continue;
        MDB_cursor *cursor;
        MDB_val key, value;
        int rc = mdb_cursor_open (txn, segment->meta, &cursor);
        if (rc == 0) {
            rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
            mdb_cursor_close (cursor);
        }
        if (rc == 0 && tly_mapping_release (key.mv_data) == 0)
            released++;
        else if (rc == 0)
            tly_log (TLY_WARN, "journal.release_failed", "path=%s error=\"%s\"", segment->path,
                     strerror (errno));
        if (txn != segment->snapshot)
            mdb_txn_abort (txn);
    }
    return released;
}

void
tly_journal_usage (tly_journal_t *self, tly_journal_usage_t *usage)
{
    assert (self && usage);
    assert (!self->read_only && self->active);
    memset (usage, 0, sizeof *usage);
    for (size_t i = 0; i < self->segment_count; i++) {
        tly_journal_segment_t *segment = self->segments [i];
        //  Every segment before the active one was sealed by the roll that
        //  made its successor; the active one only grows, so it is stat'd.
        struct stat info;
        if (segment == self->active && stat (segment->path, &info) == 0)
            segment->bytes = (uint64_t) info.st_size;
        usage->segments++;
        usage->sealed += segment != self->active || segment->sealed;
        usage->bytes += segment->bytes;
    }
    usage->active_first = self->active->first;
}

int
tly_journal_archive_usage (const char *dir, uint32_t *segments, uint64_t *bytes)
{
    assert (dir && segments && bytes);
    *segments = 0;
    *bytes = 0;
    DIR *handle = opendir (dir);
    if (!handle)
        return errno == ENOENT ? 0 : -1;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        uint64_t first;
        char path [PATH_MAX];
        struct stat info;
        if (!s_parse_name (entry->d_name, &first)
            || (size_t) snprintf (path, sizeof path, "%s/%s", dir, entry->d_name) >= sizeof path
            || stat (path, &info) == -1)
            continue;
        (*segments)++;
        *bytes += (uint64_t) info.st_size;
    }
    closedir (handle);
    return 0;
}

//  ---------------------------------------------------------------- retiring

//  Makes a directory entry change durable.
static int
s_sync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

int
tly_journal_sync_dir (const char *dir)
{
    return s_sync_dir (dir);
}

//  Copies from to to and syncs it (a move across file systems).
static int
s_copy (const char *from, const char *to)
{
    int in = open (from, O_RDONLY | O_CLOEXEC);
    int out = in == -1 ? -1 : open (to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = out == -1 ? -1 : 0;
    char buffer [1 << 16];
    while (rc == 0) {
        ssize_t got = read (in, buffer, sizeof buffer);
        if (got <= 0) {
            rc = got == 0 ? 0 : -1;
            break;
        }
        for (ssize_t done = 0; rc == 0 && done < got;) {
            ssize_t put = write (out, buffer + done, (size_t) (got - done));
            rc = put < 0 ? -1 : 0;
            done += put > 0 ? put : 0;
        }
    }
    if (rc == 0)
        rc = fsync (out);
    int saved = errno;
    if (in != -1)
        close (in);
    if (out != -1 && close (out) == -1 && rc == 0)
        rc = -1;
    if (rc == -1 && out != -1)
        unlink (to);
    errno = saved;
    return rc;
}

static int
s_retire_one (tly_journal_t *self, tly_journal_segment_t *segment, const char *archive_dir)
{
    tly_journal_segment_close (segment);
    const char *name = strrchr (segment->path, '/') + 1;
    char lock [PATH_MAX + 8];
    snprintf (lock, sizeof lock, "%s-lock", segment->path);
    char dir [PATH_MAX + 32];
    snprintf (dir, sizeof dir, "%s/" TLY_JOURNAL_SEGMENTS_SUBDIR, self->path);
    if (archive_dir) {
        char target [PATH_MAX * 2];
        snprintf (target, sizeof target, "%s/%s", archive_dir, name);
        if (access (target, F_OK) == 0) {
            tly_log (TLY_ERROR, "journal.retire", "path=%s reason=\"already in the archive\"",
                     target);
            return -1;
        }
        int rc = rename (segment->path, target);
        if (rc == -1 && errno == EXDEV) {
            rc = s_copy (segment->path, target);
            if (rc == 0)
                rc = s_sync_dir (archive_dir);
            if (rc == 0)
                rc = unlink (segment->path);
        }
        if (rc == -1 || s_sync_dir (archive_dir) == -1) {
            tly_log (TLY_ERROR, "journal.retire", "path=%s to=%s error=\"%s\"", segment->path,
                     target, strerror (errno));
            return -1;
        }
        tly_log (TLY_INFO, "journal.segment_archived",
                 "path=%s to=%s first=%" PRIu64 " last=%" PRIu64 " bytes=%" PRIu64, segment->path,
                 target, segment->first, segment->last, segment->bytes);
    } else {
        if (unlink (segment->path) == -1) {
            tly_log (TLY_ERROR, "journal.retire", "path=%s error=\"%s\"", segment->path,
                     strerror (errno));
            return -1;
        }
        tly_log (TLY_INFO, "journal.segment_deleted",
                 "path=%s first=%" PRIu64 " last=%" PRIu64 " bytes=%" PRIu64, segment->path,
                 segment->first, segment->last, segment->bytes);
    }
    unlink (lock);
    if (s_sync_dir (dir) == -1) {
        tly_log (TLY_ERROR, "journal.retire", "path=%s error=\"%s\"", dir, strerror (errno));
        return -1;
    }
    return 0;
}

int
tly_journal_retire (tly_journal_t *self, uint64_t before_seq, const char *archive_dir)
{
    assert (self);
    assert (!self->read_only && self->path [0]);
    if (archive_dir && mkdir (archive_dir, 0700) == -1 && errno != EEXIST) {
        tly_log (TLY_ERROR, "journal.retire", "path=%s error=\"%s\"", archive_dir,
                 strerror (errno));
        return -1;
    }
    int retired = 0;
    //  Oldest first, so what is left is always a contiguous tail.
    while (self->segment_count > 1 && self->segments [0] != self->active) {
        tly_journal_segment_t *segment = self->segments [0];
        if (!segment->known && tly_journal_segment_use (self, segment) == -1)
            return -1;
        if (!segment->sealed || segment->last >= before_seq)
            break;
        if (s_retire_one (self, segment, archive_dir) == -1)
            return -1;
        free (segment);
        memmove (self->segments, self->segments + 1,
                 --self->segment_count * sizeof (tly_journal_segment_t *));
        retired++;
    }
    return retired;
}
