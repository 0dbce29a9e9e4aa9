//  tly_store self-test: every table, committed-state reads beside a write
//  transaction, dropping old purchases, the reader, and recovery from an
//  unsound state.
#include "tly_store.h"

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tly_bytes.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "harness.h"

static tly_store_walk_t
s_count (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    (void) user;
    size_t *seen = arg;
    (*seen)++;
    //  Stops at the account with 99.
    return state->balance == 99 ? TLY_STORE_WALK_STOP : TLY_STORE_WALK_NEXT;
}

//  Directories beside path whose names start with path's name + ".corrupt-".
static size_t
s_moved_aside (const char *root)
{
    DIR *dir = opendir (root);
    assert (dir);
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        count += strstr (entry->d_name, "state.corrupt-") == entry->d_name;
    closedir (dir);
    return count;
}

static void
s_test_tables (const char *path, tly_arena_t *arena)
{
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_new (path, 1 << 22) == NULL);  //  locked
    uint8_t user [TLY_KEY_BYTES] = { 7 };
    tly_account_state_t state = {
        .balance_id = "co_zBalance", .balance = 42, .last_updated = 2, .created = 1, .purchases = 3
    };
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES] = { 7 };
    Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
    Tally__MessageResult other = TALLY__MESSAGE_RESULT__INIT;
    Tally__MessageResult *found = NULL;
    result.message_id = (ProtobufCBinaryData) { 1, (uint8_t *) "a" };
    other.message_id = (ProtobufCBinaryData) { 1, (uint8_t *) "b" };
    char purchase_ids [3][TLY_ID_MAX];
    Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
    Tally__PurchaseRecord *records [4];
    uint8_t object [TLY_STORE_OBJECT_BYTES], owner [TLY_KEY_BYTES];
    char root_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_ROOT, 3, (uint8_t [16]) { 9 }, root_id);

    assert (tly_store_begin (store) == 0);
    assert (tly_store_put_account (store, user, &state) == 0);
    assert (tly_store_put_progress (store, 3, 9, 2) == 0);
    assert (tly_store_put_result (store, key, &result, false) == 0);
    assert (tly_store_put_result (store, key, &other, true) == 1);  //  the first stays
    for (int i = 0; i < 3; i++) {
        tly_object_id (TLY_OBJ_PURCHASE, 3, (uint8_t [16]) { 1, (uint8_t) i }, purchase_ids [i]);
        record.id = purchase_ids [i];
        record.amount = 5 + i;
        assert (tly_store_put_purchase (store, &record) == 0);
        assert (tly_store_put_log (store, user, (uint64_t) i + 1, purchase_ids [i]) == 0);
    }
    record.id = (char *) "co_zNotAPurchase";
    assert (tly_store_put_purchase (store, &record) == -1);
    assert (tly_object_key_parse (root_id, object) == 0 && object [0] == TLY_OBJ_ROOT);
    assert (object [1] == 0 && object [2] == 3 && object [3] == 9);
    assert (tly_object_key_parse ("co_zNotAnObject", object) == -1);
    assert (tly_object_key_parse (root_id, object) == 0);
    assert (tly_store_put_owner (store, object, user) == 0);
    //  Committed-state reads do not see the open transaction.
    assert (tly_store_read_begin (store) == 0);
    assert (tly_store_account (store, user, &state) == TLY_STORE_ABSENT);
    tly_store_read_end (store);
    assert (tly_store_account (store, user, &state) == TLY_STORE_FOUND);
    assert (tly_store_commit (store) == 0);
    assert (tly_store_read_begin (store) == 0);
    assert (tly_store_account (store, user, &state) == TLY_STORE_FOUND);
    tly_store_read_end (store);
    tly_store_destroy (&store);

    store = tly_store_new (path, 1 << 22);
    assert (store);
    tly_account_state_t loaded;
    assert (tly_store_account (store, user, &loaded) == TLY_STORE_FOUND);
    assert (loaded.balance == 42 && loaded.last_updated == 2 && loaded.created == 1);
    assert (loaded.purchases == 3 && strcmp (loaded.balance_id, "co_zBalance") == 0);
    uint64_t seq, epoch;
    assert (tly_store_progress (store, 3, &seq, &epoch) == 0 && seq == 9 && epoch == 2);
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 0 && epoch == 0);
    assert (tly_store_result (store, key, arena, &found) == TLY_STORE_FOUND);
    assert (found->message_id.len == 1 && found->message_id.data [0] == 'a');
    Tally__PurchaseRecord *one = NULL;
    assert (tly_store_purchase (store, purchase_ids [1], arena, &one) == TLY_STORE_FOUND
            && one->amount == 6);
    assert (tly_store_purchase (store, "co_zNotAPurchase", arena, &one) == TLY_STORE_ABSENT);
    //  The log: a window from any number, oldest first, one user only.
    size_t count = 0;
    assert (tly_store_log (store, user, 2, 4, arena, records, &count) == 0 && count == 2);
    assert (records [0]->amount == 6 && records [1]->amount == 7);
    assert (tly_store_log (store, user, 1, 1, arena, records, &count) == 0 && count == 1);
    assert (records [0]->amount == 5);
    assert (tly_store_log (store, user, 4, 4, arena, records, &count) == 0 && count == 0);
    assert (tly_store_owner (store, object, owner) == TLY_STORE_FOUND
            && memcmp (owner, user, TLY_KEY_BYTES) == 0);
    user [0] = 8;
    assert (tly_store_account (store, user, &loaded) == TLY_STORE_ABSENT);
    assert (tly_store_log (store, user, 1, 4, arena, records, &count) == 0 && count == 0);
    object [5] ^= 1;
    assert (tly_store_owner (store, object, owner) == TLY_STORE_ABSENT);
    //  An aborted transaction leaves nothing.
    assert (tly_store_begin (store) == 0);
    assert (tly_store_in_txn (store));
    assert (tly_store_put_progress (store, 4, 1, 1) == 0);
    assert (tly_store_put_account (store, user, &state) == 0);
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 1);
    tly_store_abort (store);
    assert (!tly_store_in_txn (store));
    assert (tly_store_progress (store, 4, &seq, &epoch) == 0 && seq == 0);
    assert (tly_store_sync (store) == 0);

    //  A reader beside the live writer: no lock, sees what was committed.
    tly_store_t *reader = tly_store_new_reader (path);
    assert (reader);
    assert (tly_store_begin (store) == 0);
    state.balance = 99;
    assert (tly_store_put_account (store, user, &state) == 0);
    assert (tly_store_commit (store) == 0);
    size_t seen = 0;
    assert (tly_store_each_account (reader, s_count, &seen) == 0 && seen == 2);
    seen = 0;
    user [0] = 0;
    state.balance = 1;
    assert (tly_store_begin (store) == 0);
    assert (tly_store_put_account (store, user, &state) == 0);
    assert (tly_store_commit (store) == 0);
    assert (tly_store_each_account (reader, s_count, &seen) == 0 && seen == 3);
    assert (tly_store_progress (reader, 3, &seq, &epoch) == 0 && seq == 9);
    assert (!tly_store_corrupt (reader) && !tly_store_corrupt (store));
    tly_store_destroy (&reader);
    tly_store_destroy (&store);
    assert (store == NULL);
    assert (tly_store_new_reader ("/nonexistent/tly_store_test") == NULL);
}

//  A state that is not an LMDB environment, or of another layout, or marked
//  corrupt, is moved aside and replaced by an empty one.
static void
s_test_recovery (const char *root, const char *path)
{
    uint8_t user [TLY_KEY_BYTES] = { 7 };
    tly_account_state_t state;
    char file [512];
    snprintf (file, sizeof file, "%s/data.mdb", path);
    int fd = open (file, O_WRONLY | O_TRUNC);
    assert (fd != -1);
    char garbage [8192];
    memset (garbage, 0x5a, sizeof garbage);
    assert (write (fd, garbage, sizeof garbage) == (ssize_t) sizeof garbage);
    close (fd);
    assert (tly_store_new_reader (path) == NULL);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (s_moved_aside (root) == 1);
    assert (tly_store_account (store, user, &state) == TLY_STORE_ABSENT);
    tly_store_destroy (&store);

    //  Another layout: the schema says 1.
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    assert (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 7) == 0);
    assert (mdb_env_open (env, path, 0, 0644) == 0);
    assert (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    assert (mdb_dbi_open (txn, "meta", 0, &meta) == 0);
    MDB_val key = { 6, "schema" }, value = { 4, (uint8_t [4]) { 0, 0, 0, 1 } };
    assert (mdb_put (txn, meta, &key, &value, 0) == 0);
    assert (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    assert (tly_store_new_reader (path) == NULL);
    store = tly_store_new (path, 1 << 22);
    assert (store && s_moved_aside (root) == 2);
    tly_store_destroy (&store);

    //  Marked corrupt while running.
    snprintf (file, sizeof file, "%s/corrupt", path);
    fd = open (file, O_WRONLY | O_CREAT, 0644);
    assert (fd != -1);
    close (fd);
    store = tly_store_new (path, 1 << 22);
    assert (store && s_moved_aside (root) == 3);
    assert (access (file, F_OK) == -1);
    tly_store_destroy (&store);
}

//  The dedupe table is in the time order of the message IDs: expiry takes
//  its front, at most as many as asked; the clock survives a reopen.
static void
s_test_expiry (const char *root, tly_arena_t *arena)
{
    char path [256];
    snprintf (path, sizeof path, "%s/expiry", root);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    int64_t clock = -1;
    assert (tly_store_clock (store, &clock) == 0 && clock == 0);
    uint8_t users [2][TLY_KEY_BYTES] = { { 1 }, { 2 } };
    uint8_t ids [5][TLY_MESSAGE_ID_BYTES];
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
    Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
    assert (tly_store_begin (store) == 0);
    //  Stored newest first: the table orders them by time all the same.
    for (int i = 4; i >= 0; i--) {
        tly_message_id_new (ids [i], 100 * (i + 1));
        result.message_id = (ProtobufCBinaryData) { TLY_MESSAGE_ID_BYTES, ids [i] };
        for (int u = 0; u < 2; u++) {
            tly_store_dedupe_key ((uint32_t) u * 3, users [u], ids [i], key);
            assert (key [0] == 0 && key [1] == u * 3);
            assert (memcmp (key + 2, ids [i], TLY_MESSAGE_ID_BYTES) == 0);
            assert (tly_store_put_result (store, key, &result, false) == 0);
        }
    }
    assert (tly_store_put_clock (store, 777) == 0);
    size_t expired = 99, count = 0;
    //  IDs made before 300: two IDs of two users (each in its partition).
    assert (tly_store_expire_results (store, 300, 100, &expired) == 0 && expired == 4);
    assert (tly_store_results_count (store, &count) == 0 && count == 6);
    //  At most max at a time.
    assert (tly_store_expire_results (store, 1000, 1, &expired) == 0 && expired == 1);
    assert (tly_store_commit (store) == 0);
    tly_store_destroy (&store);

    store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_clock (store, &clock) == 0 && clock == 777);
    assert (tly_store_results_count (store, &count) == 0 && count == 5);
    Tally__MessageResult *found = NULL;
    tly_store_dedupe_key (0, users [0], ids [1], key);
    assert (tly_store_result (store, key, arena, &found) == TLY_STORE_ABSENT);
    tly_store_dedupe_key (3, users [1], ids [2], key);
    tly_store_lookup_t first = tly_store_result (store, key, arena, &found);
    tly_store_dedupe_key (0, users [0], ids [2], key);  //  the one max let go: partition 0's
    tly_store_lookup_t second = tly_store_result (store, key, arena, &found);
    assert (first == TLY_STORE_FOUND && second == TLY_STORE_ABSENT);
    tly_store_dedupe_key (3, users [1], ids [4], key);
    assert (tly_store_result (store, key, arena, &found) == TLY_STORE_FOUND);
    assert (memcmp (found->message_id.data, ids [4], TLY_MESSAGE_ID_BYTES) == 0);
    //  Nothing made before 0: nothing goes.
    assert (tly_store_begin (store) == 0);
    assert (tly_store_expire_results (store, 0, 100, &expired) == 0 && expired == 0);
    tly_store_abort (store);
    tly_store_destroy (&store);
}

//  Puts accounts 0..count-1 (their key is the number) in one transaction.
//  Returns 0 or -1 (the transaction then aborted).
static int
s_put_accounts (tly_store_t *store, uint32_t count)
{
    if (tly_store_begin (store) == -1)
        return -1;
    tly_account_state_t state = { .balance = 1, .created = 1, .last_updated = 1 };
    snprintf (state.balance_id, sizeof state.balance_id, "co_zbalance");
    for (uint32_t i = 0; i < count; i++) {
        uint8_t user [TLY_KEY_BYTES] = { 0 };
        tly_put_be32 (user, i);
        if (tly_store_put_account (store, user, &state) == -1) {
            tly_store_abort (store);
            return -1;
        }
    }
    return tly_store_commit (store);
}

//  A full map says so; grown (no transaction open) the same work goes
//  through; at the maximum the store is full until a commit goes through.
//  Dropping a user's oldest purchases: their purchases and log rows go, the
//  next user's log and the kept ones stay; the partition's watermark.
static void
s_test_drop (const char *root, tly_arena_t *arena)
{
    char path [256];
    snprintf (path, sizeof path, "%s/drop", root);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    uint8_t users [3][TLY_KEY_BYTES] = { { 1 }, { 2 }, { 3 } };
    char ids [3][4][TLY_ID_MAX];
    Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
    Tally__PurchaseRecord *records [4];
    assert (tly_store_begin (store) == 0);
    for (int u = 0; u < 3; u++)
        for (int i = 0; i < 4; i++) {
            uint8_t key [TLY_OBJECT_KEY_BYTES];
            uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0, 0, 0, 0, 0, 0, (uint8_t) u };
            tly_message_id_stamp (message_id, 1000 * (u + 1) + i);
            tly_purchase_key (5, users [u], message_id, key);
            tly_object_id_of_key (key, ids [u][i]);
            record.id = ids [u][i];
            record.amount = 10 * u + i;
            assert (tly_store_put_purchase (store, &record) == 0);
            assert (tly_store_put_log (store, users [u], (uint64_t) i + 1, ids [u][i]) == 0);
        }
    int64_t watermark = 0;
    assert (tly_store_dropped (store, 5, &watermark) == 0 && watermark == -1);
    //  The middle user's first two: only theirs, oldest first.
    size_t dropped = 0;
    int64_t newest = -1;
    assert (tly_store_drop_purchases (store, users [1], 2, &dropped, &newest) == 0);
    assert (dropped == 2 && newest == 2001);
    Tally__PurchaseRecord *one = NULL;
    assert (tly_store_purchase (store, ids [1][0], arena, &one) == TLY_STORE_ABSENT);
    assert (tly_store_purchase (store, ids [1][1], arena, &one) == TLY_STORE_ABSENT);
    assert (tly_store_purchase (store, ids [1][2], arena, &one) == TLY_STORE_FOUND);
    size_t count = 0;
    assert (tly_store_log (store, users [1], 3, 4, arena, records, &count) == 0 && count == 2);
    assert (records [0]->amount == 12 && records [1]->amount == 13);
    //  From a number below the oldest kept one: none (not a corrupt log).
    assert (tly_store_log (store, users [1], 1, 4, arena, records, &count) == 0 && count == 0);
    assert (!tly_store_corrupt (store));
    for (int u = 0; u < 3; u += 2) {
        assert (tly_store_log (store, users [u], 1, 4, arena, records, &count) == 0);
        assert (count == 4 && records [0]->amount == 10 * u);
    }
    //  Again up to 2: nothing left to drop; up to 3: one more.
    newest = -1;
    assert (tly_store_drop_purchases (store, users [1], 2, &dropped, &newest) == 0);
    assert (dropped == 0 && newest == -1);
    assert (tly_store_drop_purchases (store, users [1], 3, &dropped, &newest) == 0);
    assert (dropped == 1 && newest == 2002);
    //  The last user's whole log, up to a number beyond it.
    assert (tly_store_drop_purchases (store, users [2], 10, &dropped, &newest) == 0);
    assert (dropped == 4 && newest == 3003);
    assert (tly_store_log (store, users [2], 1, 4, arena, records, &count) == 0 && count == 0);
    assert (tly_store_log (store, users [0], 1, 4, arena, records, &count) == 0 && count == 4);
    assert (tly_store_put_dropped (store, 5, 3003) == 0);
    assert (tly_store_commit (store) == 0);
    assert (tly_store_dropped (store, 5, &watermark) == 0 && watermark == 3003);
    assert (tly_store_dropped (store, 6, &watermark) == 0 && watermark == -1);
    //  A log entry whose record is missing is a corrupt state, not a drop.
    assert (tly_store_begin (store) == 0);
    assert (!tly_store_corrupt (store));
    assert (tly_store_put_log (store, users [2], 5, ids [2][0]) == 0);  //  dropped above
    assert (tly_store_drop_purchases (store, users [2], 5, &dropped, &newest) == -1);
    assert (tly_store_corrupt (store));
    tly_store_abort (store);
    tly_store_destroy (&store);
}

static void
s_test_growth (const char *path)
{
    tly_store_t *store = tly_store_new (path, 1 << 20);
    assert (store);
    assert (tly_store_map_size (store) == 1 << 20);
    //  About 2.5 MB of accounts: more than 1 MiB, less than 4.
    enum {
        S_MANY = 20000
    };
    assert (s_put_accounts (store, S_MANY) == -1);
    assert (tly_store_space (store) == TLY_STORE_FULL);  //  no maximum set: cannot grow
    tly_store_set_map_max (store, 1 << 22);
    assert (s_put_accounts (store, S_MANY) == -1);
    while (tly_store_space (store) == TLY_STORE_MAP_FULL)
        assert (tly_store_grow (store) == 0 || tly_store_space (store) == TLY_STORE_FULL);
    //  The first failure may have come from begin's growth ahead; redo until done.
    int rc;
    while ((rc = s_put_accounts (store, S_MANY)) == -1
           && tly_store_space (store) == TLY_STORE_MAP_FULL)
        assert (tly_store_grow (store) == 0);
    assert (rc == 0);
    assert (tly_store_space (store) == TLY_STORE_ROOM);
    assert (tly_store_map_size (store) > 1 << 20 && tly_store_map_size (store) <= 1 << 22);
    uint8_t user [TLY_KEY_BYTES] = { 0 };
    tly_put_be32 (user, S_MANY - 1);
    tly_account_state_t state;
    assert (tly_store_account (store, user, &state) == TLY_STORE_FOUND && state.balance == 1);

    //  Ten times as many cannot fit 4 MiB: full, then a small commit clears it.
    while (s_put_accounts (store, 10 * S_MANY) == -1
           && tly_store_space (store) == TLY_STORE_MAP_FULL)
        assert (tly_store_grow (store) == 0 || tly_store_space (store) == TLY_STORE_FULL);
    assert (tly_store_space (store) == TLY_STORE_FULL);
    assert (tly_store_grow (store) == -1);
    assert (tly_store_map_size (store) == 1 << 22);
    assert (s_put_accounts (store, 1) == 0);
    assert (tly_store_space (store) == TLY_STORE_ROOM);
    tly_store_destroy (&store);
}

//  ---------------------------------------------------------------- a partition's rows

typedef struct {
    size_t count;
    int tables [64];
    uint8_t keys [64][64];
    size_t key_sizes [64];
    uint8_t values [64][256];
    size_t value_sizes [64];
} s_rows_t;

static int
s_collect (tly_store_row_t table, const uint8_t *key, size_t key_size, const uint8_t *value,
           size_t value_size, void *arg)
{
    s_rows_t *rows = arg;
    assert (rows->count < 64 && key_size <= 64 && value_size <= 256);
    rows->tables [rows->count] = table;
    memcpy (rows->keys [rows->count], key, key_size);
    rows->key_sizes [rows->count] = key_size;
    memcpy (rows->values [rows->count], value, value_size);
    rows->value_sizes [rows->count] = value_size;
    rows->count++;
    return 0;
}

static void
s_rows_of (tly_store_t *store, uint32_t partition, s_rows_t *rows, uint64_t applied)
{
    memset (rows, 0, sizeof *rows);
    uint64_t seq = 99, epoch = 99;
    int64_t clock = -1;
    assert (tly_store_each_row (store, partition, s_collect, rows, &seq, &epoch, &clock) == 0);
    assert (seq == applied && clock == 555);
}

//  A user of partition with one purchase and one dedupe result.
static void
s_put_user (tly_store_t *store, uint32_t partition, uint8_t tag)
{
    uint8_t user [TLY_KEY_BYTES] = { tag };
    tly_account_state_t state = { .balance_id = "co_zB", .balance = 5, .purchases = 1 };
    assert (tly_store_put_account (store, user, &state) == 0);
    uint8_t owner [TLY_STORE_OBJECT_BYTES] = { TLY_OBJ_BALANCE, 0, (uint8_t) partition, tag };
    assert (tly_store_put_owner (store, owner, user) == 0);
    uint8_t tail [TLY_OBJECT_TAIL_BYTES] = { tag };
    char id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_PURCHASE, partition, tail, id);
    Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
    record.id = id;
    record.amount = tag;
    assert (tly_store_put_purchase (store, &record) == 0);
    assert (tly_store_put_log (store, user, 1, id) == 0);
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { tag };
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
    tly_store_dedupe_key (partition, user, message_id, key);
    Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
    assert (tly_store_put_result (store, key, &result, false) == 0);
    assert (tly_store_put_dropped (store, partition, 1000 + tag) == 0);
    assert (tly_store_put_progress (store, partition, tag, 1) == 0);
}

//  A partition's rows: walked (only its own), cleared (only its own), and
//  stored back row by row to the same state; rows of another partition refused.
static void
s_test_rows (const char *root)
{
    char path [256];
    snprintf (path, sizeof path, "%s/rows", root);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_begin (store) == 0);
    s_put_user (store, 5, 1);
    s_put_user (store, 9, 2);
    assert (tly_store_put_clock (store, 555) == 0);
    assert (tly_store_commit (store) == 0);

    s_rows_t five, nine, again;
    s_rows_of (store, 5, &five, 1);
    s_rows_of (store, 9, &nine, 2);
    //  Owner, account, log, purchase, dedupe, meta: in that order.
    assert (five.count == 6 && nine.count == 6);
    const int order [] = { TLY_STORE_ROW_OWNER,    TLY_STORE_ROW_ACCOUNT, TLY_STORE_ROW_LOG,
                           TLY_STORE_ROW_PURCHASE, TLY_STORE_ROW_DEDUPE,  TLY_STORE_ROW_META };
    for (size_t i = 0; i < 6; i++)
        assert (five.tables [i] == order [i] && nine.tables [i] == order [i]);
    assert (five.keys [1][0] == 1 && nine.keys [1][0] == 2);

    //  Walks see committed state only, also beside a write transaction.
    assert (tly_store_begin (store) == 0);
    assert (tly_store_clear_partition (store, 5) == 0);
    s_rows_of (store, 5, &again, 1);
    assert (again.count == 6);
    assert (tly_store_commit (store) == 0);
    s_rows_of (store, 5, &again, 0);
    assert (again.count == 0);
    s_rows_of (store, 9, &again, 2);
    assert (again.count == 6 && memcmp (&again, &nine, sizeof again) == 0);

    //  Stored back row by row: the same rows.
    assert (tly_store_begin (store) == 0);
    for (size_t i = 0; i < five.count; i++)
        assert (tly_store_put_row (store, 5, (tly_store_row_t) five.tables [i], five.keys [i],
                                   five.key_sizes [i], five.values [i], five.value_sizes [i])
                == 0);
    assert (tly_store_put_progress (store, 5, 1, 1) == 0);
    //  Rows that name another partition, or no table, are refused.
    for (size_t i = 0; i < nine.count; i++)
        if (nine.tables [i] != TLY_STORE_ROW_ACCOUNT && nine.tables [i] != TLY_STORE_ROW_LOG)
            assert (tly_store_put_row (store, 5, (tly_store_row_t) nine.tables [i], nine.keys [i],
                                       nine.key_sizes [i], nine.values [i], nine.value_sizes [i])
                    == -1);
    assert (tly_store_put_row (store, 5, (tly_store_row_t) 99, five.keys [0], five.key_sizes [0],
                               five.values [0], five.value_sizes [0])
            == -1);
    assert (tly_store_put_row (store, 5, TLY_STORE_ROW_ACCOUNT, five.keys [1], 3, five.values [1],
                               five.value_sizes [1])
            == -1);
    assert (tly_store_commit (store) == 0);
    s_rows_of (store, 5, &again, 1);
    assert (memcmp (&again, &five, sizeof again) == 0);
    int64_t dropped = 0;
    assert (tly_store_dropped (store, 5, &dropped) == 0 && dropped == 1001);
    tly_store_destroy (&store);
}

//  Dedupe rows of partition, message IDs first .. first + count - 1 (time
//  first, so key order), each result naming its ID's last byte and mark.
static void
s_put_results (tly_store_t *store, uint32_t partition, int first, int count, uint8_t mark)
{
    uint8_t user [TLY_KEY_BYTES] = { 7 };
    for (int i = first; i < first + count; i++) {
        uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0, 0, 0, 0, (uint8_t) (i >> 8), (uint8_t) i };
        uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
        tly_store_dedupe_key (partition, user, message_id, key);
        uint8_t value [2] = { (uint8_t) i, mark };
        Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
        result.message_id = (ProtobufCBinaryData) { sizeof value, value };
        uint8_t packed [16];
        size_t size = tally__message_result__pack (&result, packed);
        assert (tly_store_put_row (store, partition, TLY_STORE_ROW_DEDUPE, key, sizeof key, packed,
                                   size)
                == 0);
    }
}

static void
s_check_result (tly_store_t *store, tly_arena_t *arena, uint32_t partition, int i, uint8_t mark)
{
    uint8_t user [TLY_KEY_BYTES] = { 7 };
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 0, 0, 0, 0, (uint8_t) (i >> 8), (uint8_t) i };
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
    tly_store_dedupe_key (partition, user, message_id, key);
    Tally__MessageResult *found = NULL;
    assert (tly_store_result (store, key, arena, &found) == TLY_STORE_FOUND);
    assert (found->message_id.len == 2 && found->message_id.data [0] == (uint8_t) i
            && found->message_id.data [1] == mark);
}

//  Rows in key order go in at the table's end; rows that do not (a lower
//  partition after a higher one, a key again) go where they belong, and
//  the same transaction writes on through other paths after rows_end.
static void
s_test_rows_order (const char *root, tly_arena_t *arena)
{
    char path [256];
    snprintf (path, sizeof path, "%s/order", root);
    tly_store_t *store = tly_store_new (path, 1 << 22);
    assert (store);
    assert (tly_store_begin (store) == 0);
    s_put_results (store, 9, 0, 300, 1);
    s_put_results (store, 5, 0, 300, 1);
    s_put_results (store, 9, 300, 100, 1);
    s_put_results (store, 9, 150, 1, 2);
    tly_store_rows_end (store);
    s_put_results (store, 200, 0, 10, 1);
    assert (tly_store_commit (store) == 0);
    assert (tly_store_begin (store) == 0);
    s_put_results (store, 5, 300, 10, 1);  //  after a commit: a new cursor
    assert (tly_store_commit (store) == 0);
    size_t count = 0;
    assert (tly_store_results_count (store, &count) == 0 && count == 720);
    s_check_result (store, arena, 9, 0, 1);
    s_check_result (store, arena, 9, 150, 2);
    s_check_result (store, arena, 9, 399, 1);
    s_check_result (store, arena, 5, 0, 1);
    s_check_result (store, arena, 5, 309, 1);
    s_check_result (store, arena, 200, 9, 1);
    //  An aborted transaction's rows are gone, its cursors with it.
    assert (tly_store_begin (store) == 0);
    s_put_results (store, 300, 0, 10, 1);
    tly_store_abort (store);
    assert (tly_store_results_count (store, &count) == 0 && count == 720);
    tly_store_destroy (&store);
}

void
tly_store_test (bool verbose)
{
    if (verbose)
        printf (" * tly_store: ");
    char root [64];
    th_dir_new (root, sizeof root, "tly_store_test");
    char path [sizeof root + 16];
    snprintf (path, sizeof path, "%s/state/", root);
    tly_arena_t *arena = tly_arena_new (1024);
    s_test_tables (path, arena);
    s_test_expiry (root, arena);
    s_test_rows (root);
    s_test_rows_order (root, arena);
    s_test_drop (root, arena);
    path [strlen (path) - 1] = 0;
    s_test_recovery (root, path);
    tly_arena_destroy (&arena);
    char grow_path [sizeof root + 16];
    snprintf (grow_path, sizeof grow_path, "%s/grow", root);
    s_test_growth (grow_path);

    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
