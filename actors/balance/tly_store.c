//  tly_store - the balance actor's LMDB tables: opening, recovery, transactions.
#include "tly_store_private.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tly_log.h"
#include "tly_wire.h"

#define S_LOCK_FILE    "actor.lock"
#define S_CORRUPT_FILE "corrupt"  //  LMDB reported corruption: rebuild at next start
#define S_TABLES       7
#define S_SCHEMA_KEY   "schema"
//  The layout of the tables. 1 was the write path alone (no meta table), 2
//  keyed dedupe by user first (no expiry); a state of another layout is
//  moved aside and rebuilt from the journal.
#define S_SCHEMA       TLY_STORE_SCHEMA

//  LMDB errors that mean the files are not a sound environment.
static bool
s_corruption (int rc)
{
    return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND
           || rc == MDB_VERSION_MISMATCH || rc == MDB_INCOMPATIBLE;
}

static void
s_mark_corrupt (tly_store_t *self)
{
    self->corrupt = true;
    if (self->read_only)
        return;
    char marker [TLY_STORE_PATH_MAX + sizeof S_CORRUPT_FILE + 1];
    snprintf (marker, sizeof marker, "%s/%s", self->path, S_CORRUPT_FILE);
    int fd = open (marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd != -1)
        close (fd);
}

//  Failures that mean no room to write: the map full, the disk full, or
//  (a short write on a full disk, as LMDB reports it) EIO.
static bool
s_no_space (int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EFBIG || rc == EIO;
}

static void
s_space (tly_store_t *self, tly_store_space_t space, int rc)
{
    if (space == TLY_STORE_FULL && self->space != TLY_STORE_FULL)
        tly_log (TLY_ERROR, "store.storage_full",
                 "path=%s error=\"%s\" map_size=%zu map_max=%zu"
                 " hint=\"writes are refused until there is room: free disk space, or"
                 " restart with a larger --map-max\"",
                 self->path, mdb_strerror (rc), self->map_size, self->map_max);
    else if (space == TLY_STORE_ROOM && self->space == TLY_STORE_FULL)
        tly_log (TLY_INFO, "store.storage_recovered", "path=%s map_size=%zu", self->path,
                 self->map_size);
    self->space = space;
}

int
tly_store_lmdb_error (tly_store_t *self, const char *operation, int rc)
{
    if (s_no_space (rc) && self->ready && !self->read_only) {
        //  A map that may still grow is not a failure yet: the caller grows
        //  it and redoes the transaction (tly_store_grow logs that).
        bool grows = rc == MDB_MAP_FULL && self->map_size < self->map_max;
        s_space (self, grows ? TLY_STORE_MAP_FULL : TLY_STORE_FULL, rc);
        return -1;
    }
    tly_log (TLY_ERROR, "store.lmdb", "path=%s op=\"%s\" error=\"%s\"", self->path, operation,
             mdb_strerror (rc));
    //  While opening, the caller decides what an unsound state means.
    if (s_corruption (rc) && self->ready) {
        tly_log (TLY_ERROR, "store.corrupt",
                 "path=%s hint=\"the state is rebuilt from the "
                 "journal at the next start\"",
                 self->path);
        s_mark_corrupt (self);
    }
    return -1;
}

int
tly_store_bad_entry (tly_store_t *self, const char *table)
{
    tly_log (TLY_ERROR, "store.corrupt", "path=%s reason=\"bad %s entry\"", self->path, table);
    s_mark_corrupt (self);
    return -1;
}

//  A read transaction. A reader beside a live actor that grew its map since
//  the reader opened adopts the new size (none of the reader's transactions
//  is open then) and begins again.
static int
s_begin_read (tly_store_t *self, MDB_txn **txn)
{
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED && self->read_only && !self->reading) {
        rc = mdb_env_set_mapsize (self->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, txn);
    }
    if (rc)
        *txn = NULL;
    return rc;
}

MDB_txn *
tly_store_txn_begin (tly_store_t *self)
{
    if (self->reading)
        return self->read;
    if (self->txn)
        return self->txn;
    MDB_txn *txn = NULL;
    int rc = s_begin_read (self, &txn);
    if (rc) {
        tly_store_lmdb_error (self, "begin read", rc);
        return NULL;
    }
    return txn;
}

void
tly_store_txn_end (tly_store_t *self, MDB_txn *txn)
{
    if (txn != self->txn && txn != self->read)
        mdb_txn_abort (txn);
}

//  ---------------------------------------------------------------- opening

//  mkdir -p. Returns 0 or -1 with errno set.
static int
s_make_path (const char *path)
{
    char partial [TLY_STORE_PATH_MAX];
    size_t size = strlen (path);
    if (size == 0 || size >= sizeof partial) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy (partial, path, size + 1);
    for (char *at = partial + 1; *at; at++) {
        if (*at != '/')
            continue;
        *at = 0;
        if (mkdir (partial, 0755) == -1 && errno != EEXIST)
            return -1;
        *at = '/';
    }
    return mkdir (partial, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

static int
s_open_tables (tly_store_t *self, MDB_txn *txn, unsigned flags)
{
    struct {
        const char *name;
        MDB_dbi *dbi;
    } tables [S_TABLES] = { { "accounts", &self->accounts }, { "purchases", &self->purchases },
                            { "log", &self->log },           { "owners", &self->owners },
                            { "dedupe", &self->dedupe },     { "partitions", &self->partitions },
                            { "meta", &self->meta } };
    for (size_t i = 0; i < S_TABLES; i++) {
        int rc = mdb_dbi_open (txn, tables [i].name, flags, tables [i].dbi);
        if (rc)
            return rc;
    }
    return 0;
}

//  Checks (or, for a new state, writes) the layout version in txn. Returns
//  0, or -1 when the state is of another layout (*stale set) or LMDB failed.
static int
s_check_schema (tly_store_t *self, MDB_txn *txn, bool *stale)
{
    MDB_val key = { sizeof S_SCHEMA_KEY - 1, S_SCHEMA_KEY };
    MDB_val value;
    int rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == 0) {
        const uint8_t *data = value.mv_data;
        uint32_t schema = value.mv_size == 4 ? (uint32_t) data [0] << 24 | (uint32_t) data [1] << 16
                                                   | (uint32_t) data [2] << 8 | data [3]
                                             : 0;
        if (schema == S_SCHEMA)
            return 0;
        tly_log (TLY_WARN, "store.schema", "path=%s schema=%" PRIu32 " expected=%d", self->path,
                 schema, S_SCHEMA);
        *stale = true;
        return -1;
    }
    if (rc != MDB_NOTFOUND)
        return tly_store_lmdb_error (self, "get schema", rc);
    MDB_stat stat;
    size_t entries = 0;
    MDB_dbi tables [] = { self->accounts, self->dedupe, self->partitions };
    for (size_t i = 0; i < sizeof tables / sizeof tables [0]; i++) {
        rc = mdb_stat (txn, tables [i], &stat);
        if (rc)
            return tly_store_lmdb_error (self, "stat", rc);
        entries += stat.ms_entries;
    }
    if (entries > 0 || self->read_only) {
        tly_log (TLY_WARN, "store.schema", "path=%s schema=none expected=%d", self->path, S_SCHEMA);
        *stale = true;
        return -1;
    }
    uint8_t schema [4] = { 0, 0, 0, S_SCHEMA };
    value = (MDB_val) { sizeof schema, schema };
    rc = mdb_put (txn, self->meta, &key, &value, 0);
    return rc ? tly_store_lmdb_error (self, "put schema", rc) : 0;
}

//  Opens the environment and its tables. Returns 0, or -1 with *unsound set
//  when the files are not a sound state of this layout (as opposed to a
//  failure of the system: permissions, space, another process).
static int
s_open_env (tly_store_t *self, size_t map_size, bool *unsound)
{
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, S_TABLES);
    if (rc == 0 && !self->read_only)
        rc = mdb_env_set_mapsize (self->env, map_size);
    //  No fsync: the state is a cache of the journal, rebuilt by catch-up.
    //  NOTLS: committed-state reads beside the open write transaction.
    //  No WRITEMAP: see tly_store.h.
    unsigned flags = self->read_only ? MDB_RDONLY | MDB_NOTLS : MDB_NOSYNC | MDB_NOTLS;
    if (rc == 0)
        rc = mdb_env_open (self->env, self->path, flags, 0644);
    if (rc) {
        *unsound = s_corruption (rc);
        return tly_store_lmdb_error (self, "open", rc);
    }
    MDB_envinfo info;
    rc = mdb_env_info (self->env, &info);
    assert (rc == 0);
    self->map_size = info.me_mapsize;
    if (self->map_max < self->map_size)
        self->map_max = self->map_size;
    MDB_txn *txn = NULL;
    rc = mdb_txn_begin (self->env, NULL, self->read_only ? MDB_RDONLY : 0, &txn);
    if (rc)
        return tly_store_lmdb_error (self, "begin", rc);
    rc = s_open_tables (self, txn, self->read_only ? 0 : MDB_CREATE);
    if (rc) {
        mdb_txn_abort (txn);
        *unsound = s_corruption (rc) || (self->read_only && rc == MDB_NOTFOUND);
        return tly_store_lmdb_error (self, "open tables", rc);
    }
    if (s_check_schema (self, txn, unsound) == -1) {
        mdb_txn_abort (txn);
        return -1;
    }
    rc = mdb_txn_commit (txn);
    if (rc)
        return tly_store_lmdb_error (self, "commit", rc);
    self->ready = true;
    return 0;
}

static int
s_open (tly_store_t *self, size_t map_size, bool *unsound)
{
    if (s_make_path (self->path) == -1) {
        tly_log (TLY_ERROR, "store.open", "path=%s error=\"%s\"", self->path, strerror (errno));
        return -1;
    }
    //  Two actors on one state would both write it: refuse the second.
    char lock_path [TLY_STORE_PATH_MAX + sizeof S_LOCK_FILE + 1];
    snprintf (lock_path, sizeof lock_path, "%s/%s", self->path, S_LOCK_FILE);
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->lock_fd == -1 || flock (self->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        tly_log (TLY_ERROR, "store.open", "path=%s error=\"%s\"", self->path,
                 errno == EWOULDBLOCK ? "in use by another process" : strerror (errno));
        return -1;
    }
    char marker [TLY_STORE_PATH_MAX + sizeof S_CORRUPT_FILE + 1];
    snprintf (marker, sizeof marker, "%s/%s", self->path, S_CORRUPT_FILE);
    if (access (marker, F_OK) == 0) {
        tly_log (TLY_WARN, "store.corrupt", "path=%s reason=\"marked corrupt while running\"",
                 self->path);
        *unsound = true;
        return -1;
    }
    return s_open_env (self, map_size, unsound);
}

static void
s_close (tly_store_t *self)
{
    tly_store_rows_end (self);
    if (self->txn)
        mdb_txn_abort (self->txn);
    if (self->read)
        mdb_txn_abort (self->read);
    self->txn = NULL;
    self->read = NULL;
    self->reading = false;
    if (self->env && self->ready && !self->read_only && !self->corrupt)
        mdb_env_sync (self->env, 1);
    if (self->env)
        mdb_env_close (self->env);
    self->env = NULL;
    self->ready = false;
    if (self->lock_fd != -1)
        close (self->lock_fd);
    self->lock_fd = -1;
}

//  Renames the state directory to PATH.corrupt-<unix ms>. Returns 0 or -1.
static int
s_move_aside (tly_store_t *self)
{
    char aside [TLY_STORE_PATH_MAX + 48];
    int64_t now_ms = tly_now_ms ();
    snprintf (aside, sizeof aside, "%s.corrupt-%" PRId64, self->path, now_ms);
    //  Two in one millisecond (a fast disk) must not meet: number the later.
    int rc = rename (self->path, aside);
    for (int again = 1; rc == -1 && (errno == ENOTEMPTY || errno == EEXIST) && again <= 9;
         again++) {
        snprintf (aside, sizeof aside, "%s.corrupt-%" PRId64 "-%d", self->path, now_ms, again);
        rc = rename (self->path, aside);
    }
    if (rc == -1) {
        tly_log (TLY_ERROR, "store.move_aside", "path=%s to=%s error=\"%s\"", self->path, aside,
                 strerror (errno));
        return -1;
    }
    tly_log (TLY_WARN, "store.moved_aside",
             "path=%s to=%s hint=\"starting empty; catch-up "
             "rebuilds the state from the journal\"",
             self->path, aside);
    return 0;
}

static tly_store_t *
s_new (const char *path, bool read_only)
{
    assert (path);
    size_t size = strlen (path);
    while (size > 1 && path [size - 1] == '/')
        size--;
    if (size == 0 || size >= TLY_STORE_PATH_MAX) {
        tly_log (TLY_ERROR, "store.open", "reason=\"path empty or too long\"");
        return NULL;
    }
    tly_store_t *self = calloc (1, sizeof (tly_store_t));
    if (!self)
        return NULL;
    memcpy (self->path, path, size);
    self->path [size] = 0;
    self->read_only = read_only;
    self->lock_fd = -1;
    return self;
}

tly_store_t *
tly_store_new (const char *path, size_t map_size)
{
    tly_store_t *self = s_new (path, false);
    if (!self)
        return NULL;
    bool unsound = false;
    if (s_open (self, map_size, &unsound) == 0)
        return self;
    //  The lock is held until the directory has moved, so no other actor
    //  can open it in between.
    if (unsound) {
        self->corrupt = true;
        int lock_fd = self->lock_fd;
        self->lock_fd = -1;
        s_close (self);
        int moved = s_move_aside (self);
        close (lock_fd);
        self->corrupt = false;
        unsound = false;
        if (moved == 0 && s_open (self, map_size, &unsound) == 0)
            return self;
    }
    tly_store_destroy (&self);
    return NULL;
}

tly_store_t *
tly_store_new_reader (const char *path)
{
    tly_store_t *self = s_new (path, true);
    if (!self)
        return NULL;
    bool unsound = false;
    if (s_open_env (self, 0, &unsound) == -1)
        tly_store_destroy (&self);
    return self;
}

void
tly_store_destroy (tly_store_t **self_p)
{
    assert (self_p);
    tly_store_t *self = *self_p;
    if (!self)
        return;
    s_close (self);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- transactions

void
tly_store_set_map_max (tly_store_t *self, size_t map_max)
{
    assert (self);
    assert (!self->read_only);
    long page = sysconf (_SC_PAGESIZE);
    assert (page > 0);
    map_max -= map_max % (size_t) page;
    self->map_max = map_max > self->map_size ? map_max : self->map_size;
}

tly_store_space_t
tly_store_space (tly_store_t *self)
{
    assert (self);
    return self->space;
}

size_t
tly_store_map_size (tly_store_t *self)
{
    assert (self);
    return self->map_size;
}

int
tly_store_grow (tly_store_t *self)
{
    assert (self);
    assert (!self->read_only && !self->txn && !self->reading);
    if (self->map_size >= self->map_max) {
        s_space (self, TLY_STORE_FULL, MDB_MAP_FULL);
        return -1;
    }
    size_t next = self->map_size > self->map_max / 2 ? self->map_max : self->map_size * 2;
    int rc = mdb_env_set_mapsize (self->env, next);
    if (rc)
        return tly_store_lmdb_error (self, "set mapsize", rc);
    tly_log (TLY_INFO, "store.map_grown", "path=%s from=%zu to=%zu max=%zu", self->path,
             self->map_size, next, self->map_max);
    self->map_size = next;
    if (self->space == TLY_STORE_MAP_FULL)
        self->space = TLY_STORE_ROOM;
    return 0;
}

int
tly_store_begin (tly_store_t *self)
{
    assert (self);
    assert (!self->read_only && !self->txn && !self->reading);
    //  Grow before the map is full rather than redo a batch.
    MDB_envinfo info;
    MDB_stat stat;
    if (self->map_size < self->map_max && mdb_env_info (self->env, &info) == 0
        && mdb_env_stat (self->env, &stat) == 0
        && (info.me_last_pgno + 1) * stat.ms_psize > self->map_size / 4 * 3)
        tly_store_grow (self);
    int rc = mdb_txn_begin (self->env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        return tly_store_lmdb_error (self, "begin", rc);
    }
    return 0;
}

int
tly_store_commit (tly_store_t *self)
{
    assert (self);
    assert (self->txn && !self->reading);
    tly_store_rows_end (self);
    int rc = mdb_txn_commit (self->txn);
    self->txn = NULL;
    if (rc)
        return tly_store_lmdb_error (self, "commit", rc);
    if (self->space != TLY_STORE_ROOM)
        s_space (self, TLY_STORE_ROOM, 0);
    return 0;
}

void
tly_store_abort (tly_store_t *self)
{
    assert (self);
    assert (!self->reading);
    tly_store_rows_end (self);
    if (self->txn)
        mdb_txn_abort (self->txn);
    self->txn = NULL;
}

bool
tly_store_in_txn (tly_store_t *self)
{
    assert (self);
    return self->txn != NULL;
}

int
tly_store_read_begin (tly_store_t *self)
{
    assert (self);
    assert (!self->reading);
    //  One read transaction, reset between uses: renewing keeps its slot.
    int rc = self->read ? mdb_txn_renew (self->read) : s_begin_read (self, &self->read);
    if (rc == MDB_MAP_RESIZED && self->read_only) {
        mdb_txn_abort (self->read);
        rc = s_begin_read (self, &self->read);
    }
    if (rc) {
        if (self->read)
            mdb_txn_abort (self->read);
        self->read = NULL;
        return tly_store_lmdb_error (self, "begin read", rc);
    }
    self->reading = true;
    return 0;
}

void
tly_store_read_end (tly_store_t *self)
{
    assert (self);
    assert (self->reading && self->read);
    mdb_txn_reset (self->read);
    self->reading = false;
}

int
tly_store_sync (tly_store_t *self)
{
    assert (self);
    assert (!self->read_only);
    int rc = mdb_env_sync (self->env, 1);
    return rc ? tly_store_lmdb_error (self, "sync", rc) : 0;
}

bool
tly_store_corrupt (tly_store_t *self)
{
    assert (self);
    return self->corrupt;
}
