//  tly_store - the balance actor's LMDB tables, typed.
#include "tly_store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tly_id.h"
#include "tly_log.h"

#define S_LOCK_FILE       "actor.lock"
#define S_OBJECT_BYTES    19      //  kind | partition (2, BE) | 16 bytes
#define S_ACCOUNT_FIXED   25      //  balance, last_updated, created (i64 BE), id length (u8)
#define S_PROGRESS_BYTES  16      //  applied partition_seq, epoch (u64 BE)
#define S_PATH_MAX        4096
#define S_TABLES          4

struct _tly_store_t {
    char path [S_PATH_MAX];
    int lock_fd;
    MDB_env *env;
    MDB_dbi accounts;
    MDB_dbi purchases;
    MDB_dbi dedupe;
    MDB_dbi partitions;
    MDB_txn *txn;                       //  the open write transaction, or NULL
};

static void
s_put_u64 (uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out [i] = (uint8_t) value;
        value >>= 8;
    }
}

static uint64_t
s_get_u64 (const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in [i];
    return value;
}

static void
s_partition_key (uint32_t partition, uint8_t key [4])
{
    key [0] = (uint8_t) (partition >> 24);
    key [1] = (uint8_t) (partition >> 16);
    key [2] = (uint8_t) (partition >> 8);
    key [3] = (uint8_t) partition;
}

static int
s_failed (tly_store_t *self, const char *op, int rc)
{
    tly_log (TLY_ERROR, "store.lmdb", "path=%s op=\"%s\" error=\"%s\"",
             self->path, op, mdb_strerror (rc));
    return -1;
}

static int
s_corrupt (tly_store_t *self, const char *what)
{
    tly_log (TLY_ERROR, "store.corrupt", "path=%s reason=\"bad %s entry\"", self->path, what);
    return -1;
}

static MDB_txn *
s_read_begin (tly_store_t *self)
{
    if (self->txn)
        return self->txn;
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        s_failed (self, "begin read", rc);
        return NULL;
    }
    return txn;
}

static void
s_read_end (tly_store_t *self, MDB_txn *txn)
{
    if (txn != self->txn)
        mdb_txn_abort (txn);
}

//  Looks key up and hands the value to decode while the transaction lives.
//  Returns 0 found, 1 absent, -1 failure (decode returns 0 or -1).
typedef int (s_decode_fn) (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena);

static int
s_get (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
       s_decode_fn *decode, void *out, tly_arena_t *arena)
{
    MDB_txn *txn = s_read_begin (self);
    if (!txn)
        return -1;
    MDB_val key = { key_size, (void *) key_data };
    MDB_val value;
    int rc = mdb_get (txn, dbi, &key, &value);
    if (rc == 0)
        rc = decode (self, &value, out, arena);
    else
    if (rc == MDB_NOTFOUND)
        rc = 1;
    else
        rc = s_failed (self, "get", rc);
    s_read_end (self, txn);
    return rc;
}

static int
s_put (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
       const void *data, size_t size)
{
    assert (self->txn);
    MDB_val key = { key_size, (void *) key_data };
    MDB_val value = { size, (void *) data };
    int rc = mdb_put (self->txn, dbi, &key, &value, 0);
    return rc ? s_failed (self, "put", rc) : 0;
}

//  Packs msg straight into the map. With keep_existing a stored value wins.
static int
s_put_message (tly_store_t *self, MDB_dbi dbi, const void *key_data, size_t key_size,
               const ProtobufCMessage *msg, bool keep_existing)
{
    assert (self->txn);
    MDB_val key = { key_size, (void *) key_data };
    size_t size = protobuf_c_message_get_packed_size (msg);
    MDB_val value = { size, NULL };
    unsigned flags = MDB_RESERVE | (keep_existing ? MDB_NOOVERWRITE : 0);
    int rc = mdb_put (self->txn, dbi, &key, &value, flags);
    if (rc == MDB_KEYEXIST && keep_existing)
        return 0;
    if (rc)
        return s_failed (self, "put", rc);
    size_t packed = protobuf_c_message_pack (msg, value.mv_data);
    assert (packed == size);
    return 0;
}

//  ---------------------------------------------------------------- tables

static int
s_decode_account (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    tly_account_state_t *state = out;
    const uint8_t *data = value->mv_data;
    if (value->mv_size < S_ACCOUNT_FIXED || data [24] == 0 || data [24] >= TLY_ID_MAX
    ||  value->mv_size != (size_t) S_ACCOUNT_FIXED + data [24])
        return s_corrupt (self, "account");
    state->balance = (int64_t) s_get_u64 (data);
    state->last_updated = (int64_t) s_get_u64 (data + 8);
    state->created = (int64_t) s_get_u64 (data + 16);
    memcpy (state->balance_id, data + S_ACCOUNT_FIXED, data [24]);
    state->balance_id [data [24]] = 0;
    return state->balance < 0 ? s_corrupt (self, "account") : 0;
}

int
tly_store_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                   tly_account_state_t *state)
{
    assert (self && user && state);
    return s_get (self, self->accounts, user, TLY_KEY_BYTES, s_decode_account, state, NULL);
}

int
tly_store_put_account (tly_store_t *self, const uint8_t user [TLY_KEY_BYTES],
                       const tly_account_state_t *state)
{
    assert (self && user && state);
    assert (state->balance >= 0);
    size_t id_size = strlen (state->balance_id);
    assert (id_size > 0 && id_size < TLY_ID_MAX);
    uint8_t data [S_ACCOUNT_FIXED + TLY_ID_MAX];
    s_put_u64 (data, (uint64_t) state->balance);
    s_put_u64 (data + 8, (uint64_t) state->last_updated);
    s_put_u64 (data + 16, (uint64_t) state->created);
    data [24] = (uint8_t) id_size;
    memcpy (data + S_ACCOUNT_FIXED, state->balance_id, id_size);
    return s_put (self, self->accounts, user, TLY_KEY_BYTES, data, S_ACCOUNT_FIXED + id_size);
}

static int
s_decode_progress (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    (void) arena;
    uint64_t *progress = out;
    if (value->mv_size != S_PROGRESS_BYTES)
        return s_corrupt (self, "partition");
    progress [0] = s_get_u64 (value->mv_data);
    progress [1] = s_get_u64 ((const uint8_t *) value->mv_data + 8);
    return 0;
}

int
tly_store_progress (tly_store_t *self, uint32_t partition, uint64_t *applied_seq,
                    uint64_t *epoch)
{
    assert (self && applied_seq && epoch);
    uint8_t key [4];
    s_partition_key (partition, key);
    uint64_t progress [2] = { 0, 0 };
    int rc = s_get (self, self->partitions, key, sizeof key, s_decode_progress, progress, NULL);
    *applied_seq = progress [0];
    *epoch = progress [1];
    return rc == -1 ? -1 : 0;
}

int
tly_store_put_progress (tly_store_t *self, uint32_t partition, uint64_t applied_seq,
                        uint64_t epoch)
{
    assert (self);
    uint8_t key [4];
    uint8_t data [S_PROGRESS_BYTES];
    s_partition_key (partition, key);
    s_put_u64 (data, applied_seq);
    s_put_u64 (data + 8, epoch);
    return s_put (self, self->partitions, key, sizeof key, data, sizeof data);
}

static int
s_decode_result (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__MessageResult **result_p = out;
    *result_p = tally__message_result__unpack (tly_arena_allocator (arena),
                                               value->mv_size, value->mv_data);
    return *result_p ? 0 : s_corrupt (self, "dedupe");
}

int
tly_store_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                  tly_arena_t *arena, Tally__MessageResult **result_p)
{
    assert (self && key && arena && result_p);
    return s_get (self, self->dedupe, key, TLY_STORE_DEDUPE_KEY_BYTES, s_decode_result,
                  result_p, arena);
}

int
tly_store_put_result (tly_store_t *self, const uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES],
                      const Tally__MessageResult *result, bool keep_existing)
{
    assert (self && key && result);
    return s_put_message (self, self->dedupe, key, TLY_STORE_DEDUPE_KEY_BYTES, &result->base,
                          keep_existing);
}

//  A purchase's key is its object ID in bytes. Returns 0 or -1.
static int
s_purchase_key (const char *id, uint8_t key [S_OBJECT_BYTES])
{
    tly_object_kind_t kind;
    uint32_t partition;
    if (!id || tly_object_id_parse (id, &kind, &partition, key + 3) == -1
    ||  kind != TLY_OBJ_PURCHASE)
        return -1;
    key [0] = (uint8_t) kind;
    key [1] = (uint8_t) (partition >> 8);
    key [2] = (uint8_t) partition;
    return 0;
}

static int
s_decode_purchase (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__PurchaseRecord **record_p = out;
    *record_p = tally__purchase_record__unpack (tly_arena_allocator (arena),
                                                value->mv_size, value->mv_data);
    return *record_p ? 0 : s_corrupt (self, "purchase");
}

int
tly_store_purchase (tly_store_t *self, const char *id, tly_arena_t *arena,
                    Tally__PurchaseRecord **record_p)
{
    assert (self && arena && record_p);
    uint8_t key [S_OBJECT_BYTES];
    if (s_purchase_key (id, key) == -1)
        return 1;
    return s_get (self, self->purchases, key, sizeof key, s_decode_purchase, record_p, arena);
}

int
tly_store_put_purchase (tly_store_t *self, const Tally__PurchaseRecord *record)
{
    assert (self && record);
    uint8_t key [S_OBJECT_BYTES];
    if (s_purchase_key (record->id, key) == -1)
        return -1;
    return s_put_message (self, self->purchases, key, sizeof key, &record->base, false);
}

//  ---------------------------------------------------------------- lifecycle

//  mkdir -p. Returns 0 or -1 with errno set.
static int
s_make_path (const char *path)
{
    char partial [S_PATH_MAX];
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
s_open (tly_store_t *self, size_t map_size)
{
    if (s_make_path (self->path) == -1) {
        tly_log (TLY_ERROR, "store.open", "path=%s error=\"%s\"", self->path, strerror (errno));
        return -1;
    }
    //  Two actors on one state would both write it: refuse the second.
    char lock_path [S_PATH_MAX + sizeof S_LOCK_FILE + 1];
    snprintf (lock_path, sizeof lock_path, "%s/%s", self->path, S_LOCK_FILE);
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->lock_fd == -1 || flock (self->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        tly_log (TLY_ERROR, "store.open", "path=%s error=\"%s\"", self->path,
                 errno == EWOULDBLOCK ? "in use by another process" : strerror (errno));
        return -1;
    }
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, S_TABLES);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, map_size);
    //  No fsync: the state is a cache of the journal, rebuilt by catch-up.
    if (rc == 0)
        rc = mdb_env_open (self->env, self->path, MDB_NOSYNC | MDB_WRITEMAP, 0644);
    if (rc)
        return s_failed (self, "open", rc);
    MDB_txn *txn = NULL;
    rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return s_failed (self, "begin", rc);
    rc = mdb_dbi_open (txn, "accounts", MDB_CREATE, &self->accounts);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "purchases", MDB_CREATE, &self->purchases);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "dedupe", MDB_CREATE, &self->dedupe);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "partitions", MDB_CREATE, &self->partitions);
    if (rc) {
        mdb_txn_abort (txn);
        return s_failed (self, "open tables", rc);
    }
    rc = mdb_txn_commit (txn);
    return rc ? s_failed (self, "commit", rc) : 0;
}

tly_store_t *
tly_store_new (const char *path, size_t map_size)
{
    assert (path);
    if (strlen (path) >= S_PATH_MAX) {
        tly_log (TLY_ERROR, "store.open", "reason=\"path too long\"");
        return NULL;
    }
    tly_store_t *self = calloc (1, sizeof (tly_store_t));
    if (!self)
        return NULL;
    self->lock_fd = -1;
    strcpy (self->path, path);
    if (s_open (self, map_size) == -1)
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
    if (self->txn)
        mdb_txn_abort (self->txn);
    if (self->env)
        mdb_env_close (self->env);
    if (self->lock_fd != -1)
        close (self->lock_fd);
    free (self);
    *self_p = NULL;
}

int
tly_store_begin (tly_store_t *self)
{
    assert (self);
    assert (!self->txn);
    int rc = mdb_txn_begin (self->env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        return s_failed (self, "begin", rc);
    }
    return 0;
}

int
tly_store_commit (tly_store_t *self)
{
    assert (self);
    assert (self->txn);
    int rc = mdb_txn_commit (self->txn);
    self->txn = NULL;
    return rc ? s_failed (self, "commit", rc) : 0;
}

void
tly_store_abort (tly_store_t *self)
{
    assert (self);
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

void
tly_store_test (bool verbose)
{
    if (verbose)
        printf (" * tly_store: ");
    char path [] = "/tmp/tly_store_test_XXXXXX";
    assert (mkdtemp (path));
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_new (path, 1 << 22) == NULL);     //  locked
    tly_arena_t *arena = tly_arena_new (1024);
    uint8_t user [TLY_KEY_BYTES] = { 7 };
    tly_account_state_t state = { .balance_id = "co_zBalance", .balance = 42,
                                  .last_updated = 2, .created = 1 };
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES] = { 7 };
    Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
    Tally__MessageResult other = TALLY__MESSAGE_RESULT__INIT;
    Tally__MessageResult *found = NULL;
    result.message_id.len = 1;
    result.message_id.data = (uint8_t *) "a";
    other.message_id.len = 1;
    other.message_id.data = (uint8_t *) "b";
    uint8_t tail [16] = { 1 };
    char purchase_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_PURCHASE, 3, tail, purchase_id);
    Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
    record.id = purchase_id;
    record.amount = 5;
    Tally__PurchaseRecord *record_found = NULL;

    assert (tly_store_begin (store) == 0);
    assert (tly_store_put_account (store, user, &state) == 0);
    assert (tly_store_put_progress (store, 3, 9, 2) == 0);
    assert (tly_store_put_result (store, key, &result, false) == 0);
    assert (tly_store_put_result (store, key, &other, true) == 0);   //  the first stays
    assert (tly_store_put_purchase (store, &record) == 0);
    record.id = (char *) "co_zNotAPurchase";
    assert (tly_store_put_purchase (store, &record) == -1);
    assert (tly_store_commit (store) == 0);
    tly_store_destroy (&store);

    store = tly_store_new (path, 1 << 22);
    assert (store);
    tly_account_state_t loaded;
    assert (tly_store_account (store, user, &loaded) == 0);
    assert (loaded.balance == 42 && loaded.last_updated == 2 && loaded.created == 1);
    assert (strcmp (loaded.balance_id, "co_zBalance") == 0);
    user [0] = 8;
    assert (tly_store_account (store, user, &loaded) == 1);
    uint64_t seq, epoch;
    assert (tly_store_progress (store, 3, &seq, &epoch) == 0 && seq == 9 && epoch == 2);
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 0 && epoch == 0);
    assert (tly_store_result (store, key, arena, &found) == 0);
    assert (found->message_id.len == 1 && found->message_id.data [0] == 'a');
    key [0] = 8;
    assert (tly_store_result (store, key, arena, &found) == 1);
    assert (tly_store_purchase (store, purchase_id, arena, &record_found) == 0);
    assert (record_found->amount == 5);
    assert (tly_store_purchase (store, "co_zNotAPurchase", arena, &record_found) == 1);
    //  An aborted transaction leaves nothing.
    assert (tly_store_begin (store) == 0);
    assert (tly_store_in_txn (store));
    assert (tly_store_put_progress (store, 4, 1, 1) == 0);
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 1);
    tly_store_abort (store);
    assert (!tly_store_in_txn (store));
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 0);
    tly_store_destroy (&store);
    assert (store == NULL);
    tly_arena_destroy (&arena);

    char command [sizeof path + 16];
    snprintf (command, sizeof command, "rm -rf %s", path);
    assert (system (command) == 0);
    if (verbose)
        printf ("OK\n");
}
